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

struct idmap_slot {
	int64_t key;
	uint32_t val;
	uint32_t stamp; /* the slot is in use when its stamp is the map's current one */
};

struct idmap {
	struct idmap_slot *slots; /* key, value and stamp together: one cache line per probe */
	uint32_t current;
	size_t cap; /* power of two */
	size_t count;
};

void idmap_init(struct idmap *m);
void idmap_free(struct idmap *m);
/* Empty it in O(1), keeping the memory, unless the use that ends filled
 * little of a large table (one big employer among small ones): then the
 * memory goes, so that small uses probe a small, cache-resident table. */
void idmap_reset(struct idmap *m);
/* Insert or overwrite. key must be non-zero. */
enum amana_err idmap_put(struct idmap *m, int64_t key, uint32_t val) AMANA_MUST_CHECK;
bool idmap_get(const struct idmap *m, int64_t key, uint32_t *val);

#endif
