/*
 * crypto.h - keys, sealing, blind indexes. The only module that calls libsodium.
 *
 * Like libsodium it reads no files it was not handed and logs nothing: it
 * returns codes. Callers allocate fixed-size arrays; long-lived keys live in
 * sodium_malloc'd memory inside struct crypto_keyring and are wiped on free.
 *
 * Key hierarchy (DESIGN.md "Data protection at rest"):
 *   KEK (32 bytes, a file outside the registry, handed in by the caller)
 *     wraps data keys, one per (purpose, version): identity, money, audit,
 *     signing, blind. The wrapped form is what the store keeps.
 *   The blind root (purpose BLIND) derives one BLAKE2b key per (table, column).
 *
 * Sealed value format (version 1), all integers little-endian:
 *   byte 0      format version (CRYPTO_SEAL_V1)
 *   byte 1      key purpose
 *   bytes 2-5   key version (u32)
 *   bytes 6-29  XChaCha20-Poly1305 nonce (fresh random per seal)
 *   bytes 30-   ciphertext, then the 16-byte tag
 * Additional data = "amana.seal.v1" 0 table 0 column 0 row(i64) sub(i64) and
 * the 6 header bytes, so a ciphertext moved to another row, column or table,
 * or relabelled with another key, fails to open.
 */
#ifndef AMANA_CRYPTO_H
#define AMANA_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define CRYPTO_KEY_BYTES 32
#define CRYPTO_SEAL_V1 1
#define CRYPTO_SEAL_HEADER_BYTES 30
#define CRYPTO_SEAL_OVERHEAD (CRYPTO_SEAL_HEADER_BYTES + 16)
/* A wrapped data key: nonce(24) + key(32) + tag(16). */
#define CRYPTO_WRAPPED_KEY_BYTES (24 + CRYPTO_KEY_BYTES + 16)
/* Largest plaintext seal/open accept: sealed fields are small records. */
#define CRYPTO_SEAL_MAX_PLAINTEXT 65536

enum crypto_purpose {
	CRYPTO_PURPOSE_IDENTITY = 1, /* names, CIN, birth dates, addresses */
	CRYPTO_PURPOSE_MONEY = 2, /* salaries, amounts, bank details */
	CRYPTO_PURPOSE_AUDIT = 3, /* audit entry fields (issue 3) */
	CRYPTO_PURPOSE_SIGNING = 4, /* seed of the Ed25519 tree-head key */
	CRYPTO_PURPOSE_BLIND = 5, /* root of the blind-index keys */
};
#define CRYPTO_PURPOSE_MIN 1
#define CRYPTO_PURPOSE_MAX 5

/* What a sealed value is bound to. table and column are NUL-terminated
 * names; row is the row's stable id; sub distinguishes several values in one
 * row and column (e.g. line number), 0 if unused. */
struct crypto_ad {
	const char *table;
	const char *column;
	int64_t row;
	int64_t sub;
};

struct crypto_keyring;

/* Call once at start-up before anything else: initializes libsodium and
 * disables core dumps for the process (RLIMIT_CORE 0, not dumpable). */
enum amana_err crypto_init(void) AMANA_MUST_CHECK;

/* Fill kek with a fresh random key-encryption key. */
void crypto_kek_generate(uint8_t kek[CRYPTO_KEY_BYTES]);

/* Fill key with a fresh random data key. */
void crypto_key_generate(uint8_t key[CRYPTO_KEY_BYTES]);

/* Wrap a data key under the KEK, bound to (purpose, version). */
void crypto_key_wrap(const uint8_t kek[CRYPTO_KEY_BYTES], enum crypto_purpose purpose, uint32_t version,
		     const uint8_t key[CRYPTO_KEY_BYTES], uint8_t out[CRYPTO_WRAPPED_KEY_BYTES]);

/* Unwrap; fails with AMANA_ERR_CRYPTO for a wrong KEK, purpose or version
 * or any altered byte. key is wiped on failure. */
enum amana_err crypto_key_unwrap(const uint8_t kek[CRYPTO_KEY_BYTES], enum crypto_purpose purpose, uint32_t version,
				 const uint8_t wrapped[CRYPTO_WRAPPED_KEY_BYTES],
				 uint8_t key[CRYPTO_KEY_BYTES]) AMANA_MUST_CHECK;

/* A keyring holds unwrapped data keys in guarded memory. */
enum amana_err crypto_keyring_new(struct crypto_keyring **out) AMANA_MUST_CHECK;
/* Wipes every key and frees. NULL is allowed. */
void crypto_keyring_free(struct crypto_keyring *kr);
/* Add a key; the highest version of a purpose is the one seal uses. The
 * caller should wipe its copy of key afterwards. At most 16 versions per
 * purpose (AMANA_ERR_LIMIT past that); a duplicate version is AMANA_ERR_EXISTS. */
enum amana_err crypto_keyring_add(struct crypto_keyring *kr, enum crypto_purpose purpose, uint32_t version,
				  const uint8_t key[CRYPTO_KEY_BYTES]) AMANA_MUST_CHECK;

/* Seal pt under the current key of purpose. out must hold
 * len + CRYPTO_SEAL_OVERHEAD bytes; *outlen receives that size.
 * AMANA_ERR_CRYPTO if the keyring has no key for purpose (fail closed). */
enum amana_err crypto_seal(const struct crypto_keyring *kr, enum crypto_purpose purpose, const struct crypto_ad *ad,
			   const void *pt, size_t len, uint8_t *out, size_t outcap, size_t *outlen) AMANA_MUST_CHECK;

/* Open a sealed value. The key is the one named in its header; an unknown
 * format version, purpose or key version fails closed (AMANA_ERR_CRYPTO), as
 * does any altered byte or a different ad. pt must hold len -
 * CRYPTO_SEAL_OVERHEAD bytes (AMANA_ERR_LIMIT otherwise). On failure pt is
 * wiped. */
enum amana_err crypto_open(const struct crypto_keyring *kr, const struct crypto_ad *ad, const uint8_t *sealed,
			   size_t len, void *pt, size_t ptcap, size_t *ptlen) AMANA_MUST_CHECK;

/* The purpose and key version a sealed value names (for rotation). */
enum amana_err crypto_sealed_key(const uint8_t *sealed, size_t len, enum crypto_purpose *purpose,
				 uint32_t *version) AMANA_MUST_CHECK;

/* A blind-index key for one (table, column), derived from the newest blind
 * root: BLAKE2b keyed by the root over "amana.bidx.v1" 0 table 0 column. */
struct crypto_bidx_key {
	uint8_t key[CRYPTO_KEY_BYTES];
	unsigned bits; /* 1..63: how many bits of the hash are kept */
};
enum amana_err crypto_bidx_key_derive(const struct crypto_keyring *kr, const char *table, const char *column,
				      unsigned bits, struct crypto_bidx_key *out) AMANA_MUST_CHECK;
/* Keyed BLAKE2b of value (already normalized by the caller), truncated to
 * key->bits bits, returned as a non-negative integer (fits in int64). */
uint64_t crypto_bidx(const struct crypto_bidx_key *key, const void *value, size_t len);
/* The whole 32-byte keyed BLAKE2b of value under a derived key: a name
 * for a row that only the key's holder can link to it (marks). */
#define CRYPTO_KEYED_HASH_BYTES 32
void crypto_keyed_hash(const struct crypto_bidx_key *key, const void *value, size_t len,
		       uint8_t out[CRYPTO_KEYED_HASH_BYTES]);
/* Wipe a derived key. */
void crypto_bidx_key_clear(struct crypto_bidx_key *key);

/* SHA-256 of data (file digests, audit). */
void crypto_sha256(const void *data, size_t len, uint8_t out[32]);

/* Streaming BLAKE2b-256 (crypto/hash.c): the digest of a file as received,
 * computed while it is read (several times faster than SHA-256 in
 * libsodium's portable code). The state is opaque storage sized for
 * libsodium's crypto_generichash_state. */
struct crypto_digest {
	_Alignas(64) unsigned char opaque[512];
};
#define CRYPTO_DIGEST_BYTES 32
void crypto_digest_init(struct crypto_digest *h);
void crypto_digest_update(struct crypto_digest *h, const void *data, size_t len);
void crypto_digest_final(struct crypto_digest *h, uint8_t out[CRYPTO_DIGEST_BYTES]);

/* Wipe a buffer that held plaintext or a key; never optimized away. */
void crypto_wipe(void *p, size_t len);

/* Constant-time equality of two secrets of the same length: 1 if equal,
 * 0 if not (unlike sodium_memcmp, which returns 0 for equal). */
int crypto_equal(const void *a, const void *b, size_t len) AMANA_MUST_CHECK;

/* Uniform random integer in [0, upper) (upper > 0). */
uint32_t crypto_random_below(uint32_t upper);
void crypto_random_bytes(void *buf, size_t len);

#endif
