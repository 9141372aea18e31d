/* idmap.c - see idmap.h. Linear probing over a multiplicative hash; a reset
 * bumps the current stamp instead of clearing the table, so a map sized for
 * the largest employer costs nothing to empty for the next small one. */
#include "idmap.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

void idmap_init(struct idmap *m)
{
	memset(m, 0, sizeof(*m));
	m->current = 1;
}

static void wipe_arrays(struct idmap *m)
{
	if (!m->keys)
		return;
	crypto_wipe(m->keys, m->cap * sizeof(*m->keys));
	crypto_wipe(m->vals, m->cap * sizeof(*m->vals));
}

void idmap_free(struct idmap *m)
{
	wipe_arrays(m);
	free(m->keys);
	free(m->vals);
	free(m->stamp);
	idmap_init(m);
}

void idmap_reset(struct idmap *m)
{
	m->count = 0;
	if (++m->current == 0) {
		/* The stamp wrapped after 4 billion resets: clear for real. */
		if (m->stamp)
			memset(m->stamp, 0, m->cap * sizeof(*m->stamp));
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
	size_t ncap = m->cap ? m->cap * 2 : 64;
	int64_t *nk = malloc(ncap * sizeof(*nk));
	uint32_t *nv = malloc(ncap * sizeof(*nv));
	uint32_t *ns = calloc(ncap, sizeof(*ns));
	if (!nk || !nv || !ns) {
		free(nk);
		free(nv);
		free(ns);
		return AMANA_ERR_NOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->stamp[i] != m->current)
			continue;
		size_t s = slot(m->keys[i], ncap);
		while (ns[s] == m->current)
			s = (s + 1) & (ncap - 1);
		nk[s] = m->keys[i];
		nv[s] = m->vals[i];
		ns[s] = m->current;
	}
	wipe_arrays(m);
	free(m->keys);
	free(m->vals);
	free(m->stamp);
	m->keys = nk;
	m->vals = nv;
	m->stamp = ns;
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
	while (m->stamp[s] == m->current && m->keys[s] != key)
		s = (s + 1) & (m->cap - 1);
	if (m->stamp[s] != m->current) {
		m->keys[s] = key;
		m->stamp[s] = m->current;
		m->count++;
	}
	m->vals[s] = val;
	return AMANA_OK;
}

bool idmap_get(const struct idmap *m, int64_t key, uint32_t *val)
{
	if (!m->cap || key == 0)
		return false;
	size_t s = slot(key, m->cap);
	while (m->stamp[s] == m->current) {
		if (m->keys[s] == key) {
			if (val)
				*val = m->vals[s];
			return true;
		}
		s = (s + 1) & (m->cap - 1);
	}
	return false;
}
