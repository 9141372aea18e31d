/* idmap.c - see idmap.h. Linear probing over a multiplicative hash; a reset
 * bumps the current stamp instead of clearing the table, so emptying the map
 * for the next file costs nothing. A table left much larger than its last
 * use (after the largest employer's file) is freed at reset: the hash spreads
 * a dozen keys over the whole table, and probing a few megabytes for a small
 * file cost a cache miss per lookup. */
#include "idmap.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

#define IDMAP_MIN_CAP 64
/* Tables up to this many slots (64 KiB) are always kept. */
#define IDMAP_KEEP_CAP 4096

void idmap_init(struct idmap *m)
{
	memset(m, 0, sizeof(*m));
	m->current = 1;
}

void idmap_free(struct idmap *m)
{
	if (m->slots)
		crypto_wipe(m->slots, m->cap * sizeof(*m->slots));
	free(m->slots);
	idmap_init(m);
}

void idmap_reset(struct idmap *m)
{
	if (m->cap > IDMAP_KEEP_CAP && m->count * 16 < m->cap) {
		idmap_free(m);
		return;
	}
	m->count = 0;
	if (++m->current == 0) {
		/* The stamp wrapped after 4 billion resets: clear for real. */
		if (m->slots)
			crypto_wipe(m->slots, m->cap * sizeof(*m->slots));
		m->current = 1;
	}
}

static size_t slot(int64_t key, size_t cap)
{
	uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 32) & (cap - 1);
}

static enum amana_err grow(struct idmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : IDMAP_MIN_CAP;
	struct idmap_slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return AMANA_ERR_NOMEM;
	/* Stamps of a fresh table are 0, never current (current >= 1). */
	for (size_t i = 0; i < m->cap; i++) {
		const struct idmap_slot *o = &m->slots[i];
		if (o->stamp != m->current)
			continue;
		size_t s = slot(o->key, ncap);
		while (ns[s].stamp == m->current)
			s = (s + 1) & (ncap - 1);
		ns[s] = *o;
	}
	if (m->slots)
		crypto_wipe(m->slots, m->cap * sizeof(*m->slots));
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	return AMANA_OK;
}

enum amana_err idmap_put(struct idmap *m, int64_t key, uint32_t val)
{
	if (key == 0)
		return AMANA_ERR_USAGE;
	if ((m->count + 1) * 2 > m->cap) {
		enum amana_err err = grow(m);
		if (err)
			return err;
	}
	size_t s = slot(key, m->cap);
	while (m->slots[s].stamp == m->current && m->slots[s].key != key)
		s = (s + 1) & (m->cap - 1);
	struct idmap_slot *e = &m->slots[s];
	if (e->stamp != m->current) {
		e->key = key;
		e->stamp = m->current;
		m->count++;
	}
	e->val = val;
	return AMANA_OK;
}

bool idmap_get(const struct idmap *m, int64_t key, uint32_t *val)
{
	if (!m->cap || key == 0)
		return false;
	size_t s = slot(key, m->cap);
	for (;;) {
		const struct idmap_slot *e = &m->slots[s];
		if (e->stamp != m->current)
			return false;
		if (e->key == key) {
			if (val)
				*val = e->val;
			return true;
		}
		s = (s + 1) & (m->cap - 1);
	}
}
