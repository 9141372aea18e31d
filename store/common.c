/* common.c - what both store backends check the same way. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int store_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Keys given once, at most STORE_MANY_MAX of them. Sorting a copy costs
 * less than the queries it guards. */
enum amana_err store_many_check(const int64_t *keys, size_t n)
{
	if (n > STORE_MANY_MAX || (n && !keys))
		return AMANA_ERR_USAGE;
	int64_t sorted[STORE_MANY_MAX];
	if (n)
		memcpy(sorted, keys, n * sizeof(*keys));
	qsort(sorted, n, sizeof(*sorted), store_cmp_i64);
	for (size_t i = 1; i < n; i++)
		if (sorted[i] == sorted[i - 1])
			return AMANA_ERR_USAGE;
	return AMANA_OK;
}

enum amana_err store_many_check_decls(const struct store_decl_key *keys, size_t n)
{
	if (n > STORE_MANY_MAX || (n && !keys))
		return AMANA_ERR_USAGE;
	int64_t ids[STORE_MANY_MAX];
	for (size_t i = 0; i < n; i++)
		ids[i] = keys[i].declaration_id;
	return store_many_check(ids, n);
}

bool store_chunk_in_range(const struct store_chunk *c)
{
	return c->chunk >= 0 && c->chunk < STORE_CHUNK_MAX && c->declaration_id >= 1 &&
	       c->declaration_id <= STORE_DECLARATION_ID_MAX;
}
