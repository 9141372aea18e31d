/* idmap.c - see idmap.h. Linear probing over a multiplicative hash. */
#include "idmap.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

void idmap_init(struct idmap *m)
{
	memset(m, 0, sizeof(*m));
}

void idmap_free(struct idmap *m)
{
	if (m->keys) {
		crypto_wipe(m->keys, m->cap * sizeof(*m->keys));
		crypto_wipe(m->vals, m->cap * sizeof(*m->vals));
	}
	free(m->keys);
	free(m->vals);
	idmap_init(m);
}

void idmap_reset(struct idmap *m)
{
	if (m->keys)
		memset(m->keys, 0, m->cap * sizeof(*m->keys));
	m->count = 0;
}

static size_t slot(int64_t key, size_t cap)
{
	uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 32) & (cap - 1);
}

static enum amana_err grow(struct idmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	int64_t *nk = calloc(ncap, sizeof(*nk));
	uint32_t *nv = calloc(ncap, sizeof(*nv));
	if (!nk || !nv) {
		free(nk);
		free(nv);
		return AMANA_ERR_NOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t s = slot(m->keys[i], ncap);
		while (nk[s])
			s = (s + 1) & (ncap - 1);
		nk[s] = m->keys[i];
		nv[s] = m->vals[i];
	}
	if (m->keys) {
		crypto_wipe(m->keys, m->cap * sizeof(*m->keys));
		crypto_wipe(m->vals, m->cap * sizeof(*m->vals));
	}
	free(m->keys);
	free(m->vals);
	m->keys = nk;
	m->vals = nv;
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
	while (m->keys[s] && m->keys[s] != key)
		s = (s + 1) & (m->cap - 1);
	if (!m->keys[s]) {
		m->keys[s] = key;
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
	while (m->keys[s]) {
		if (m->keys[s] == key) {
			if (val)
				*val = m->vals[s];
			return true;
		}
		s = (s + 1) & (m->cap - 1);
	}
	return false;
}
