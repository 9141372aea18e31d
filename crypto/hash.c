/* hash.c - streaming BLAKE2b-256 over libsodium (see crypto.h). */
#include "crypto.h"

#include <sodium.h>

_Static_assert(sizeof(crypto_generichash_state) <= sizeof(struct crypto_digest),
	       "struct crypto_digest must hold libsodium's state");

static crypto_generichash_state *state(struct crypto_digest *h)
{
	return (crypto_generichash_state *)(void *)h->opaque;
}

void crypto_digest_init(struct crypto_digest *h)
{
	(void)crypto_generichash_init(state(h), NULL, 0, CRYPTO_DIGEST_BYTES);
}

void crypto_digest_update(struct crypto_digest *h, const void *data, size_t len)
{
	(void)crypto_generichash_update(state(h), data, len);
}

void crypto_digest_final(struct crypto_digest *h, uint8_t out[CRYPTO_DIGEST_BYTES])
{
	(void)crypto_generichash_final(state(h), out, CRYPTO_DIGEST_BYTES);
}
