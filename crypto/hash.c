/* hash.c - streaming SHA-256 over libsodium (see crypto.h). */
#include "crypto.h"

#include <sodium.h>

_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(struct crypto_sha256),
	       "struct crypto_sha256 must hold libsodium's state");

void crypto_sha256_init(struct crypto_sha256 *h)
{
	crypto_hash_sha256_init((crypto_hash_sha256_state *)(void *)h->opaque);
}

void crypto_sha256_update(struct crypto_sha256 *h, const void *data, size_t len)
{
	crypto_hash_sha256_update((crypto_hash_sha256_state *)(void *)h->opaque, data, len);
}

void crypto_sha256_final(struct crypto_sha256 *h, uint8_t out[32])
{
	crypto_hash_sha256_final((crypto_hash_sha256_state *)(void *)h->opaque, out);
}
