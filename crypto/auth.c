/* auth.c - Argon2id passwords and TOTP codes (see auth.h). */
#include "auth.h"

#include <liboath/oath.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

/* Interactive cost: about 64 MiB and a few tenths of a second on a server
 * core, so that guessing offline costs as much per try, and a login burst
 * stays bearable. */
#define PW_OPS crypto_pwhash_OPSLIMIT_INTERACTIVE
#define PW_MEM crypto_pwhash_MEMLIMIT_INTERACTIVE

static int password_ok(const char *password, size_t len)
{
	return len >= CRYPTO_PASSWORD_MIN && len <= CRYPTO_PASSWORD_MAX && !memchr(password, '\0', len);
}

enum amana_err crypto_password_hash(const char *password, size_t len, char out[CRYPTO_PASSWORD_HASH_MAX])
{
	_Static_assert(CRYPTO_PASSWORD_HASH_MAX == crypto_pwhash_STRBYTES, "the hash string's size");
	memset(out, 0, CRYPTO_PASSWORD_HASH_MAX);
	if (!password_ok(password, len))
		return AMANA_ERR_INPUT;
	if (crypto_pwhash_str(out, password, len, PW_OPS, PW_MEM) != 0)
		return AMANA_ERR_NOMEM;
	return AMANA_OK;
}

enum amana_err crypto_password_verify(const char *hash, const char *password, size_t len)
{
	if (!memchr(hash, '\0', CRYPTO_PASSWORD_HASH_MAX) ||
	    strncmp(hash, crypto_pwhash_STRPREFIX, strlen(crypto_pwhash_STRPREFIX)) != 0)
		return AMANA_ERR_DENIED;
	/* a refused length still costs a hash, so that timing says nothing */
	if (!password_ok(password, len)) {
		static const char filler[] = "not the password, only the time";
		if (crypto_pwhash_str_verify(hash, filler, sizeof(filler) - 1) == 0)
			return AMANA_ERR_DENIED; /* a hash of the filler: still no */
		return AMANA_ERR_DENIED;
	}
	return crypto_pwhash_str_verify(hash, password, len) == 0 ? AMANA_OK : AMANA_ERR_DENIED;
}

int crypto_password_needs_rehash(const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, PW_OPS, PW_MEM) != 0;
}

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_status = OATH_OK;

static void oath_start(void)
{
	oath_status = oath_init();
}

static int oath_ready(void)
{
	pthread_once(&oath_once, oath_start);
	return oath_status == OATH_OK;
}

void crypto_totp_secret_new(uint8_t secret[CRYPTO_TOTP_SECRET_BYTES])
{
	crypto_random_bytes(secret, CRYPTO_TOTP_SECRET_BYTES);
}

enum amana_err crypto_totp_base32(const uint8_t secret[CRYPTO_TOTP_SECRET_BYTES], char out[CRYPTO_TOTP_BASE32_MAX])
{
	memset(out, 0, CRYPTO_TOTP_BASE32_MAX);
	if (!oath_ready())
		return AMANA_ERR_CRYPTO;
	char *b32 = NULL;
	size_t n = 0;
	if (oath_base32_encode((const char *)secret, CRYPTO_TOTP_SECRET_BYTES, &b32, &n) != OATH_OK)
		return AMANA_ERR_NOMEM;
	while (n > 0 && b32[n - 1] == '=')
		n--; /* 20 bytes are 32 characters: no padding, but keep the rule */
	enum amana_err err = n < CRYPTO_TOTP_BASE32_MAX ? AMANA_OK : AMANA_ERR_LIMIT;
	if (!err)
		memcpy(out, b32, n);
	crypto_wipe(b32, strlen(b32));
	free(b32);
	return err;
}

enum amana_err crypto_totp_code(const uint8_t secret[CRYPTO_TOTP_SECRET_BYTES], int64_t now,
				char out[CRYPTO_TOTP_DIGITS + 1])
{
	memset(out, 0, CRYPTO_TOTP_DIGITS + 1);
	if (!oath_ready() || now < 0)
		return AMANA_ERR_CRYPTO;
	return oath_totp_generate((const char *)secret, CRYPTO_TOTP_SECRET_BYTES, (time_t)now, CRYPTO_TOTP_STEP, 0,
				  CRYPTO_TOTP_DIGITS, out) == OATH_OK
		   ? AMANA_OK
		   : AMANA_ERR_CRYPTO;
}

enum amana_err crypto_totp_check(const uint8_t secret[CRYPTO_TOTP_SECRET_BYTES], int64_t now, const char *code,
				 size_t len, uint64_t last_step, uint64_t *step)
{
	*step = 0;
	if (len != CRYPTO_TOTP_DIGITS || now < CRYPTO_TOTP_STEP || !oath_ready())
		return AMANA_ERR_DENIED;
	char otp[CRYPTO_TOTP_DIGITS + 1];
	for (size_t i = 0; i < len; i++)
		if (code[i] < '0' || code[i] > '9')
			return AMANA_ERR_DENIED;
	memcpy(otp, code, len);
	otp[len] = '\0';
	uint64_t counter = 0;
	int pos = 0;
	int rc = oath_totp_validate3((const char *)secret, CRYPTO_TOTP_SECRET_BYTES, (time_t)now, CRYPTO_TOTP_STEP, 0,
				     1, &pos, &counter, otp);
	crypto_wipe(otp, sizeof(otp));
	if (rc < 0 || counter <= last_step)
		return AMANA_ERR_DENIED;
	*step = counter;
	return AMANA_OK;
}
