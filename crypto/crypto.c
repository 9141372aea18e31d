/*
 * crypto.c - keys, sealing and blind indexes on top of libsodium.
 *
 * The keyring is one sodium_malloc'd block (guard pages, mlock'd where the
 * system allows, wiped by sodium_free). It is made read-only between adds so
 * a stray write cannot corrupt a key; its protection is never touched on the
 * seal/open path, which runs millions of times per batch.
 *
 * Every stack copy of a key or plaintext is wiped before return; additional
 * data, headers and ciphertext are not secret and are left alone.
 */
#include "crypto.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <sodium.h>

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KEYRING_VERSIONS 16
/* Longest table or column name bound into additional data. */
#define NAME_MAX_BYTES 64

#define SEAL_AD_LABEL "amana.seal.v1"
#define WRAP_AD_LABEL "amana.kek.v1"
#define BIDX_LABEL "amana.bidx.v1"

/* label 0 table 0 column 0 row sub header */
#define SEAL_AD_MAX (sizeof(SEAL_AD_LABEL) + NAME_MAX_BYTES + 1 + NAME_MAX_BYTES + 1 + 8 + 8 + 6)
/* label purpose version: no NUL, the label has a fixed length. */
#define WRAP_AD_BYTES (sizeof(WRAP_AD_LABEL) - 1 + 1 + 4)
/* label 0 table 0 column, plus the column's NUL that put_name writes and
 * derive then leaves out of the hash. */
#define BIDX_INPUT_MAX (sizeof(BIDX_LABEL) + NAME_MAX_BYTES + 1 + NAME_MAX_BYTES + 1)

_Static_assert(CRYPTO_SEAL_HEADER_BYTES == 6 + NONCE_BYTES, "sealed header layout");
_Static_assert(CRYPTO_SEAL_OVERHEAD == CRYPTO_SEAL_HEADER_BYTES + TAG_BYTES, "sealed overhead");
_Static_assert(CRYPTO_WRAPPED_KEY_BYTES == NONCE_BYTES + CRYPTO_KEY_BYTES + TAG_BYTES, "wrapped key layout");
_Static_assert(CRYPTO_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "AEAD key size");
_Static_assert(CRYPTO_KEY_BYTES >= crypto_generichash_KEYBYTES_MIN &&
		   CRYPTO_KEY_BYTES <= crypto_generichash_KEYBYTES_MAX,
	       "BLAKE2b key size");

struct purpose_keys {
	unsigned count;
	unsigned current; /* index of the highest version: the one seal uses */
	uint32_t versions[KEYRING_VERSIONS];
	uint8_t keys[KEYRING_VERSIONS][CRYPTO_KEY_BYTES];
};

struct crypto_keyring {
	/* Indexed by purpose; slot 0 is unused so the purpose is the index. */
	struct purpose_keys purposes[CRYPTO_PURPOSE_MAX + 1];
};

/* Keys must never enter a process that could dump core, so the keyring
 * refuses to exist before crypto_init has run. */
static atomic_bool crypto_ready;

static bool purpose_valid(unsigned purpose)
{
	return purpose >= CRYPTO_PURPOSE_MIN && purpose <= CRYPTO_PURPOSE_MAX;
}

static void put_u32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u64le(uint8_t *p, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64le(const uint8_t *p)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Append a NUL-terminated name; names are bounded so additional data fits a
 * stack buffer and cannot be made ambiguous by a giant name. */
static enum amana_err put_name(uint8_t *buf, size_t *pos, const char *name)
{
	size_t n;

	if (!name)
		return AMANA_ERR_USAGE;
	n = strnlen(name, NAME_MAX_BYTES + 1);
	if (n > NAME_MAX_BYTES)
		return AMANA_ERR_USAGE;
	memcpy(buf + *pos, name, n + 1);
	*pos += n + 1;
	return AMANA_OK;
}

/* "amana.seal.v1" 0 table 0 column 0 row(i64) sub(i64) header(6). The NUL
 * separators are unambiguous because names cannot contain NUL. */
static enum amana_err seal_ad_build(const struct crypto_ad *ad, const uint8_t header[6], uint8_t buf[SEAL_AD_MAX],
				    size_t *len)
{
	size_t pos = sizeof(SEAL_AD_LABEL);
	enum amana_err err;

	if (!ad)
		return AMANA_ERR_USAGE;
	memcpy(buf, SEAL_AD_LABEL, sizeof(SEAL_AD_LABEL));
	err = put_name(buf, &pos, ad->table);
	if (err)
		return err;
	err = put_name(buf, &pos, ad->column);
	if (err)
		return err;
	put_u64le(buf + pos, (uint64_t)ad->row);
	pos += 8;
	put_u64le(buf + pos, (uint64_t)ad->sub);
	pos += 8;
	memcpy(buf + pos, header, 6);
	pos += 6;
	*len = pos;
	return AMANA_OK;
}

/* The wrap is bound to what the key is for, so a money key cannot be
 * swapped in as the identity key, nor an old version passed off as new. */
static void wrap_ad_build(enum crypto_purpose purpose, uint32_t version, uint8_t buf[WRAP_AD_BYTES])
{
	memcpy(buf, WRAP_AD_LABEL, sizeof(WRAP_AD_LABEL) - 1);
	buf[sizeof(WRAP_AD_LABEL) - 1] = (uint8_t)purpose;
	put_u32le(buf + sizeof(WRAP_AD_LABEL), version);
}

/*
 * Nonces: one getrandom() system call per seal costs as much as the seal
 * itself, so each thread draws 4 KiB of OS randomness at a time and hands
 * it out 24 bytes at a time, never twice. A forked child must never reuse
 * its parent's pool (same nonce, same key): fork bumps a generation number
 * and a pool from an older generation is thrown away.
 */
#define NONCE_POOL_BYTES 4096
static atomic_uint fork_generation;
static _Thread_local struct {
	uint8_t bytes[NONCE_POOL_BYTES];
	size_t used;
	unsigned generation;
	bool filled;
} nonce_pool;

static void after_fork_in_child(void)
{
	atomic_fetch_add(&fork_generation, 1);
}

static void register_fork_handler(void)
{
	(void)pthread_atfork(NULL, NULL, after_fork_in_child);
}

static void nonce_take(uint8_t out[NONCE_BYTES])
{
	unsigned gen = atomic_load(&fork_generation);
	if (!nonce_pool.filled || nonce_pool.generation != gen ||
	    nonce_pool.used + NONCE_BYTES > sizeof(nonce_pool.bytes)) {
		randombytes_buf(nonce_pool.bytes, sizeof(nonce_pool.bytes));
		nonce_pool.used = 0;
		nonce_pool.generation = gen;
		nonce_pool.filled = true;
	}
	memcpy(out, nonce_pool.bytes + nonce_pool.used, NONCE_BYTES);
	sodium_memzero(nonce_pool.bytes + nonce_pool.used, NONCE_BYTES);
	nonce_pool.used += NONCE_BYTES;
}

enum amana_err crypto_init(void)
{
	struct rlimit nocore = { 0, 0 };

	if (sodium_init() < 0)
		return AMANA_ERR_CRYPTO;
	/* A core file or ptrace attach would expose every unwrapped key and
	 * plaintext in memory; refuse to run with keys if either stays open. */
	if (setrlimit(RLIMIT_CORE, &nocore) != 0)
		return AMANA_ERR_CRYPTO;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return AMANA_ERR_CRYPTO;
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	(void)pthread_once(&once, register_fork_handler);
	atomic_store(&crypto_ready, true);
	return AMANA_OK;
}

void crypto_kek_generate(uint8_t kek[CRYPTO_KEY_BYTES])
{
	randombytes_buf(kek, CRYPTO_KEY_BYTES);
}

void crypto_key_generate(uint8_t key[CRYPTO_KEY_BYTES])
{
	randombytes_buf(key, CRYPTO_KEY_BYTES);
}

void crypto_key_wrap(const uint8_t kek[CRYPTO_KEY_BYTES], enum crypto_purpose purpose, uint32_t version,
		     const uint8_t key[CRYPTO_KEY_BYTES], uint8_t out[CRYPTO_WRAPPED_KEY_BYTES])
{
	uint8_t ad[WRAP_AD_BYTES];

	wrap_ad_build(purpose, version, ad);
	randombytes_buf(out, NONCE_BYTES);
	/* Cannot fail for a 32-byte message. */
	(void)crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE_BYTES, NULL, key, CRYPTO_KEY_BYTES, ad, sizeof(ad),
							 NULL, out, kek);
}

enum amana_err crypto_key_unwrap(const uint8_t kek[CRYPTO_KEY_BYTES], enum crypto_purpose purpose, uint32_t version,
				 const uint8_t wrapped[CRYPTO_WRAPPED_KEY_BYTES], uint8_t key[CRYPTO_KEY_BYTES])
{
	uint8_t ad[WRAP_AD_BYTES];

	wrap_ad_build(purpose, version, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(key, NULL, NULL, wrapped + NONCE_BYTES,
						       CRYPTO_KEY_BYTES + TAG_BYTES, ad, sizeof(ad), wrapped,
						       kek) != 0) {
		sodium_memzero(key, CRYPTO_KEY_BYTES);
		return AMANA_ERR_CRYPTO;
	}
	return AMANA_OK;
}

enum amana_err crypto_keyring_new(struct crypto_keyring **out)
{
	struct crypto_keyring *kr;

	*out = NULL;
	if (!atomic_load(&crypto_ready))
		return AMANA_ERR_USAGE;
	kr = sodium_malloc(sizeof(*kr));
	if (!kr)
		return AMANA_ERR_NOMEM;
	memset(kr, 0, sizeof(*kr));
	/* Hardening only: a failure leaves the block writable, still usable. */
	(void)sodium_mprotect_readonly(kr);
	*out = kr;
	return AMANA_OK;
}

void crypto_keyring_free(struct crypto_keyring *kr)
{
	/* sodium_free makes the block writable, wipes it and unmaps it. */
	if (kr)
		sodium_free(kr);
}

enum amana_err crypto_keyring_add(struct crypto_keyring *kr, enum crypto_purpose purpose, uint32_t version,
				  const uint8_t key[CRYPTO_KEY_BYTES])
{
	struct purpose_keys *pk;
	unsigned i;

	if (!kr || !key || !purpose_valid((unsigned)purpose))
		return AMANA_ERR_USAGE;
	pk = &kr->purposes[purpose];
	for (i = 0; i < pk->count; i++)
		if (pk->versions[i] == version)
			return AMANA_ERR_EXISTS;
	if (pk->count == KEYRING_VERSIONS)
		return AMANA_ERR_LIMIT;
	if (sodium_mprotect_readwrite(kr) != 0)
		return AMANA_ERR_NOMEM;
	i = pk->count;
	memcpy(pk->keys[i], key, CRYPTO_KEY_BYTES);
	pk->versions[i] = version;
	/* Seal follows the highest version, not the last added, so reloading
	 * keys in any order gives the same current key. */
	if (i == 0 || version > pk->versions[pk->current])
		pk->current = i;
	pk->count = i + 1;
	(void)sodium_mprotect_readonly(kr);
	return AMANA_OK;
}

static const uint8_t *keyring_find(const struct crypto_keyring *kr, unsigned purpose, uint32_t version)
{
	const struct purpose_keys *pk = &kr->purposes[purpose];

	for (unsigned i = 0; i < pk->count; i++)
		if (pk->versions[i] == version)
			return pk->keys[i];
	return NULL;
}

enum amana_err crypto_seal(const struct crypto_keyring *kr, enum crypto_purpose purpose, const struct crypto_ad *ad,
			   const void *pt, size_t len, uint8_t *out, size_t outcap, size_t *outlen)
{
	uint8_t adbuf[SEAL_AD_MAX];
	uint8_t header[6];
	const struct purpose_keys *pk;
	size_t adlen;
	enum amana_err err;

	if (!kr || !out || !outlen || (!pt && len) || !purpose_valid((unsigned)purpose))
		return AMANA_ERR_USAGE;
	if (len > CRYPTO_SEAL_MAX_PLAINTEXT || outcap < len + CRYPTO_SEAL_OVERHEAD)
		return AMANA_ERR_LIMIT;
	pk = &kr->purposes[purpose];
	if (pk->count == 0)
		return AMANA_ERR_CRYPTO;
	header[0] = CRYPTO_SEAL_V1;
	header[1] = (uint8_t)purpose;
	put_u32le(header + 2, pk->versions[pk->current]);
	err = seal_ad_build(ad, header, adbuf, &adlen);
	if (err)
		return err;
	memcpy(out, header, sizeof(header));
	/* 192-bit random nonces: collisions are negligible however many values
	 * one key seals, so no counter state is needed. */
	nonce_take(out + 6);
	(void)crypto_aead_xchacha20poly1305_ietf_encrypt(out + CRYPTO_SEAL_HEADER_BYTES, NULL, pt, len, adbuf, adlen,
							 NULL, out + 6, pk->keys[pk->current]);
	*outlen = len + CRYPTO_SEAL_OVERHEAD;
	return AMANA_OK;
}

enum amana_err crypto_open(const struct crypto_keyring *kr, const struct crypto_ad *ad, const uint8_t *sealed,
			   size_t len, void *pt, size_t ptcap, size_t *ptlen)
{
	uint8_t adbuf[SEAL_AD_MAX];
	/* libsodium wants a non-NULL output even for an empty plaintext. */
	uint8_t empty;
	uint8_t *m = pt ? pt : &empty;
	const uint8_t *key;
	size_t adlen;
	size_t mlen;
	enum amana_err err;

	if (!kr || !ptlen || (!sealed && len) || (!pt && ptcap)) {
		err = AMANA_ERR_USAGE;
		goto out;
	}
	err = AMANA_ERR_CRYPTO;
	if (len < CRYPTO_SEAL_OVERHEAD || sealed[0] != CRYPTO_SEAL_V1 || !purpose_valid(sealed[1]))
		goto out;
	mlen = len - CRYPTO_SEAL_OVERHEAD;
	/* seal never makes a value this long: not ours, so fail closed. */
	if (mlen > CRYPTO_SEAL_MAX_PLAINTEXT)
		goto out;
	if (mlen > ptcap) {
		err = AMANA_ERR_LIMIT;
		goto out;
	}
	err = seal_ad_build(ad, sealed, adbuf, &adlen);
	if (err)
		goto out;
	key = keyring_find(kr, sealed[1], get_u32le(sealed + 2));
	if (!key) {
		err = AMANA_ERR_CRYPTO;
		goto out;
	}
	/* libsodium checks the tag before it decrypts, so m holds nothing on
	 * failure; the wipe below is for the caller's earlier contents. */
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(m, NULL, NULL, sealed + CRYPTO_SEAL_HEADER_BYTES,
						       len - CRYPTO_SEAL_HEADER_BYTES, adbuf, adlen, sealed + 6,
						       key) != 0) {
		err = AMANA_ERR_CRYPTO;
		goto out;
	}
	*ptlen = mlen;
	return AMANA_OK;
out:
	/* A caller that ignores the code must not find a previous plaintext. */
	if (pt && ptcap)
		sodium_memzero(pt, ptcap);
	return err;
}

enum amana_err crypto_sealed_key(const uint8_t *sealed, size_t len, enum crypto_purpose *purpose, uint32_t *version)
{
	if (!sealed || !purpose || !version)
		return AMANA_ERR_USAGE;
	if (len < CRYPTO_SEAL_OVERHEAD || sealed[0] != CRYPTO_SEAL_V1 || !purpose_valid(sealed[1]))
		return AMANA_ERR_CRYPTO;
	*purpose = (enum crypto_purpose)sealed[1];
	*version = get_u32le(sealed + 2);
	return AMANA_OK;
}

enum amana_err crypto_bidx_key_derive(const struct crypto_keyring *kr, const char *table, const char *column,
				      unsigned bits, struct crypto_bidx_key *out)
{
	uint8_t input[BIDX_INPUT_MAX];
	const struct purpose_keys *pk;
	size_t pos = sizeof(BIDX_LABEL);
	enum amana_err err;

	if (!out)
		return AMANA_ERR_USAGE;
	sodium_memzero(out, sizeof(*out));
	if (!kr || bits < 1 || bits > 63)
		return AMANA_ERR_USAGE;
	memcpy(input, BIDX_LABEL, sizeof(BIDX_LABEL));
	err = put_name(input, &pos, table);
	if (err)
		return err;
	err = put_name(input, &pos, column);
	if (err)
		return err;
	/* "label 0 table 0 column": the column needs no trailing NUL. */
	pos--;
	pk = &kr->purposes[CRYPTO_PURPOSE_BLIND];
	if (pk->count == 0)
		return AMANA_ERR_CRYPTO;
	(void)crypto_generichash(out->key, CRYPTO_KEY_BYTES, input, pos, pk->keys[pk->current], CRYPTO_KEY_BYTES);
	out->bits = bits;
	return AMANA_OK;
}

uint64_t crypto_bidx(const struct crypto_bidx_key *key, const void *value, size_t len)
{
	uint8_t h[8];
	unsigned bits = key->bits;
	uint64_t v;

	/* derive guarantees 1..63; a zeroed or corrupted key still yields a
	 * value that fits int64 rather than a shift by 64. */
	if (bits < 1 || bits > 63)
		bits = 63;
	(void)crypto_generichash(h, sizeof(h), value, len, key->key, CRYPTO_KEY_BYTES);
	v = get_u64le(h);
	return v & ((UINT64_C(1) << bits) - 1);
}

void crypto_keyed_hash(const struct crypto_bidx_key *key, const void *value, size_t len,
		       uint8_t out[CRYPTO_KEYED_HASH_BYTES])
{
	(void)crypto_generichash(out, CRYPTO_KEYED_HASH_BYTES, value, len, key->key, CRYPTO_KEY_BYTES);
}

void crypto_bidx_key_clear(struct crypto_bidx_key *key)
{
	if (key)
		sodium_memzero(key, sizeof(*key));
}

void crypto_sha256(const void *data, size_t len, uint8_t out[32])
{
	(void)crypto_hash_sha256(out, data, len);
}

void crypto_wipe(void *p, size_t len)
{
	if (p && len)
		sodium_memzero(p, len);
}

int crypto_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

uint32_t crypto_random_below(uint32_t upper)
{
	/* randombytes_uniform rejects the biased tail, unlike random() % upper. */
	return upper ? randombytes_uniform(upper) : 0;
}

void crypto_random_bytes(void *buf, size_t len)
{
	if (len)
		randombytes_buf(buf, len);
}
