/*
 * auth.h - the secrets of a login: passwords and one-time codes.
 *
 * Passwords are hashed with Argon2id (libsodium's crypto_pwhash_str): the
 * stored string carries its salt and cost, so a registry can raise the
 * cost later and rehash at the next login. Second factors are TOTP codes
 * (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits, what authenticator
 * apps expect) over a 20-byte random secret, computed by liboath. A code
 * is accepted one step early or late (clock drift), and never twice: the
 * caller keeps the step of the last code accepted and hands it back.
 * Like the rest of crypto/, nothing here reads a file or logs; every
 * buffer that held a password or secret is wiped by the caller.
 */
#ifndef AMANA_CRYPTO_AUTH_H
#define AMANA_CRYPTO_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define CRYPTO_PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES, with its NUL */
#define CRYPTO_PASSWORD_MIN 12 /* characters (bytes) a password must have */
#define CRYPTO_PASSWORD_MAX 1024
#define CRYPTO_TOTP_SECRET_BYTES 20
#define CRYPTO_TOTP_BASE32_MAX 40 /* 32 characters and a NUL */
#define CRYPTO_TOTP_STEP 30 /* seconds */
#define CRYPTO_TOTP_DIGITS 6

/* Hash a password into out (a NUL-terminated string). AMANA_ERR_INPUT for
 * a password shorter than CRYPTO_PASSWORD_MIN or longer than
 * CRYPTO_PASSWORD_MAX bytes, or holding a NUL; AMANA_ERR_NOMEM if the
 * hash's memory could not be had. */
enum amana_err crypto_password_hash(const char *password, size_t len,
				    char out[CRYPTO_PASSWORD_HASH_MAX]) AMANA_MUST_CHECK;
/* AMANA_OK if password matches hash, AMANA_ERR_DENIED if not (or if hash
 * is not a hash this build can check). Takes the same time whatever part
 * of the password is wrong. */
enum amana_err crypto_password_verify(const char *hash, const char *password, size_t len) AMANA_MUST_CHECK;
/* Whether hash was made with a lower cost than this build uses. */
int crypto_password_needs_rehash(const char *hash);

/* A new random TOTP secret. */
void crypto_totp_secret_new(uint8_t secret[CRYPTO_TOTP_SECRET_BYTES]);
/* The secret in base32 (RFC 4648, no padding), as authenticator apps take
 * it, into out. */
enum amana_err crypto_totp_base32(const uint8_t secret[CRYPTO_TOTP_SECRET_BYTES],
				  char out[CRYPTO_TOTP_BASE32_MAX]) AMANA_MUST_CHECK;
/* The code for time now (seconds since the epoch), into out (7 bytes). */
enum amana_err crypto_totp_code(const uint8_t secret[CRYPTO_TOTP_SECRET_BYTES], int64_t now,
				char out[CRYPTO_TOTP_DIGITS + 1]) AMANA_MUST_CHECK;
/* Check code[0..len) at time now, one step early or late allowed. AMANA_OK
 * and *step (the step it belongs to) if it is right and of a step after
 * last_step (0: none used yet); AMANA_ERR_DENIED otherwise (wrong, stale,
 * or replayed). */
enum amana_err crypto_totp_check(const uint8_t secret[CRYPTO_TOTP_SECRET_BYTES], int64_t now, const char *code,
				 size_t len, uint64_t last_step, uint64_t *step) AMANA_MUST_CHECK;

#endif
