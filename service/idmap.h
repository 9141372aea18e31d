/*
 * idmap.h - an open-addressing hash map from non-zero int64 keys (row ids,
 * registration numbers) to uint32 values, for the per-file bookkeeping of
 * an import. Grows by doubling; idmap_free wipes it (keys may be
 * registration numbers).
 */
#ifndef AMANA_SERVICE_IDMAP_H
#define AMANA_SERVICE_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct idmap {
	int64_t *keys;
	uint32_t *vals;
	uint32_t *stamp; /* a slot is in use when its stamp is the current one */
	uint32_t current;
	size_t cap; /* power of two */
	size_t count;
};

void idmap_init(struct idmap *m);
void idmap_free(struct idmap *m);
void idmap_reset(struct idmap *m); /* empty it in O(1), keep the memory */
/* Insert or overwrite. key must be non-zero. */
enum amana_err idmap_put(struct idmap *m, int64_t key, uint32_t val) AMANA_MUST_CHECK;
bool idmap_get(const struct idmap *m, int64_t key, uint32_t *val);

#endif
