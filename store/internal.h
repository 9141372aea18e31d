/* internal.h - shared by the store backends, not for the layers above. */
#ifndef AMANA_STORE_INTERNAL_H
#define AMANA_STORE_INTERNAL_H

#include <stdbool.h>

#include "store.h"

/* AMANA_ERR_USAGE unless keys[0..n) are at most STORE_MANY_MAX distinct keys. */
enum amana_err store_many_check(const int64_t *keys, size_t n) AMANA_MUST_CHECK;
/* qsort's order of int64_t keys, ascending. */
int store_cmp_i64(const void *a, const void *b);
/* The same for declaration keys: each declaration at most once. */
enum amana_err store_many_check_decls(const struct store_decl_key *keys, size_t n) AMANA_MUST_CHECK;
/* A chunk number and declaration id within the store's ranges (store.h). */
bool store_chunk_in_range(const struct store_chunk *c);
/* store_migrate for a SQLite file. */
enum amana_err store_sqlite_migrate(const char *path, long long *from, long long *to) AMANA_MUST_CHECK;

#endif
