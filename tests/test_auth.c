/* test_auth.c - passwords (Argon2id) and TOTP codes (RFC 6238) of crypto/auth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <sodium.h>

#include "crypto/auth.h"
#include "crypto/crypto.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* RFC 6238, appendix B: the SHA-1 secret, and the last six digits of its
 * eight-digit codes. */
static const uint8_t RFC_SECRET[CRYPTO_TOTP_SECRET_BYTES] = "12345678901234567890";

static void test_totp_rfc6238_vectors(void **state)
{
	(void)state;
	static const struct {
		int64_t t;
		const char *code;
	} v[] = {
		{ 59, "287082" },         { 1111111109, "081804" }, { 1111111111, "050471" },
		{ 1234567890, "005924" }, { 2000000000, "279037" }, { 20000000000, "353130" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		char code[CRYPTO_TOTP_DIGITS + 1];
		assert_int_equal(crypto_totp_code(RFC_SECRET, v[i].t, code), AMANA_OK);
		assert_string_equal(code, v[i].code);
		uint64_t step;
		assert_int_equal(crypto_totp_check(RFC_SECRET, v[i].t, v[i].code, 6, 0, &step), AMANA_OK);
		assert_int_equal(step, (uint64_t)v[i].t / 30);
	}
	char b32[CRYPTO_TOTP_BASE32_MAX];
	assert_int_equal(crypto_totp_base32(RFC_SECRET, b32), AMANA_OK);
	assert_string_equal(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

/* One step early or late passes, two do not; a code is never taken twice,
 * nor one older than the last taken; anything but six digits fails. */
static void test_totp_window_and_replay(void **state)
{
	(void)state;
	uint8_t secret[CRYPTO_TOTP_SECRET_BYTES];
	crypto_totp_secret_new(secret);
	const int64_t now = 1790000000; /* a step boundary plus some */
	char code[CRYPTO_TOTP_DIGITS + 1];
	uint64_t step, used;
	assert_int_equal(crypto_totp_code(secret, now, code), AMANA_OK);
	assert_int_equal(crypto_totp_check(secret, now, code, 6, 0, &used), AMANA_OK);
	assert_int_equal(used, (uint64_t)now / 30);
	/* the same code again: a replay */
	assert_int_equal(crypto_totp_check(secret, now, code, 6, used, &step), AMANA_ERR_DENIED);
	assert_int_equal(step, 0);
	/* the next step's code, seen 30 s early, and the previous one, 30 s late */
	assert_int_equal(crypto_totp_code(secret, now + 30, code), AMANA_OK);
	assert_int_equal(crypto_totp_check(secret, now, code, 6, used, &step), AMANA_OK);
	assert_int_equal(step, used + 1);
	assert_int_equal(crypto_totp_code(secret, now - 30, code), AMANA_OK);
	assert_int_equal(crypto_totp_check(secret, now, code, 6, 0, &step), AMANA_OK);
	assert_int_equal(step, used - 1);
	assert_int_equal(crypto_totp_check(secret, now, code, 6, used, &step), AMANA_ERR_DENIED); /* older */
	/* two steps away: refused */
	assert_int_equal(crypto_totp_code(secret, now + 60, code), AMANA_OK);
	assert_int_equal(crypto_totp_check(secret, now, code, 6, 0, &step), AMANA_ERR_DENIED);
	assert_int_equal(crypto_totp_code(secret, now - 60, code), AMANA_OK);
	assert_int_equal(crypto_totp_check(secret, now, code, 6, 0, &step), AMANA_ERR_DENIED);
	/* malformed codes */
	assert_int_equal(crypto_totp_code(secret, now, code), AMANA_OK);
	assert_int_equal(crypto_totp_check(secret, now, code, 5, 0, &step), AMANA_ERR_DENIED);
	char longer[8];
	memcpy(longer, code, 6);
	memcpy(longer + 6, "0", 2);
	assert_int_equal(crypto_totp_check(secret, now, longer, 7, 0, &step), AMANA_ERR_DENIED);
	char bad[7];
	memcpy(bad, code, 7);
	bad[2] = 'a';
	assert_int_equal(crypto_totp_check(secret, now, bad, 6, 0, &step), AMANA_ERR_DENIED);
	bad[2] = '\0';
	assert_int_equal(crypto_totp_check(secret, now, bad, 6, 0, &step), AMANA_ERR_DENIED);
	/* another secret's code */
	uint8_t other[CRYPTO_TOTP_SECRET_BYTES];
	crypto_totp_secret_new(other);
	assert_memory_not_equal(secret, other, sizeof(secret));
	assert_int_equal(crypto_totp_code(other, now, code), AMANA_OK);
	char mine[CRYPTO_TOTP_DIGITS + 1];
	assert_int_equal(crypto_totp_code(secret, now, mine), AMANA_OK);
	if (strcmp(code, mine) != 0) /* one chance in a million they agree */
		assert_int_equal(crypto_totp_check(secret, now, code, 6, 0, &step), AMANA_ERR_DENIED);
}

static void test_password_hash_and_verify(void **state)
{
	(void)state;
	static const char pw[] = "correct horse battery staple";
	char h1[CRYPTO_PASSWORD_HASH_MAX], h2[CRYPTO_PASSWORD_HASH_MAX];
	assert_int_equal(crypto_password_hash(pw, strlen(pw), h1), AMANA_OK);
	assert_int_equal(crypto_password_hash(pw, strlen(pw), h2), AMANA_OK);
	assert_non_null(strstr(h1, "$argon2id$"));
	assert_string_not_equal(h1, h2); /* salted */
	assert_null(strstr(h1, "horse"));
	assert_int_equal(crypto_password_verify(h1, pw, strlen(pw)), AMANA_OK);
	assert_int_equal(crypto_password_verify(h2, pw, strlen(pw)), AMANA_OK);
	assert_false(crypto_password_needs_rehash(h1));
	/* one character off, shorter, longer */
	static const char *const wrong[] = { "correct horse battery stapla", "correct horse battery stapl",
					     "correct horse battery staples", "Correct horse battery staple" };
	for (size_t i = 0; i < ARRAY_SIZE(wrong); i++)
		assert_int_equal(crypto_password_verify(h1, wrong[i], strlen(wrong[i])), AMANA_ERR_DENIED);
	/* too short to be hashed, and refused against any hash */
	assert_int_equal(crypto_password_hash("short", 5, h2), AMANA_ERR_INPUT);
	assert_int_equal(crypto_password_verify(h1, "short", 5), AMANA_ERR_DENIED);
	static const char with_nul[] = "twelve chars\0and more";
	assert_int_equal(crypto_password_hash(with_nul, sizeof(with_nul) - 1, h2), AMANA_ERR_INPUT);
	/* not a hash */
	char junk[CRYPTO_PASSWORD_HASH_MAX];
	memset(junk, 'x', sizeof(junk));
	assert_int_equal(crypto_password_verify(junk, pw, strlen(pw)), AMANA_ERR_DENIED);
	memcpy(junk, "$argon2id$v=19$m=1,t=1,p=1$", 28);
	assert_int_equal(crypto_password_verify(junk, pw, strlen(pw)), AMANA_ERR_DENIED);
	/* a weaker hash than this build makes asks for a rehash */
	char weak[CRYPTO_PASSWORD_HASH_MAX];
	assert_int_equal(
	    crypto_pwhash_str(weak, pw, strlen(pw), crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN), 0);
	assert_true(crypto_password_needs_rehash(weak));
	assert_int_equal(crypto_password_verify(weak, pw, strlen(pw)), AMANA_OK);
}

static int setup(void **state)
{
	(void)state;
	return crypto_init() == AMANA_OK ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_totp_rfc6238_vectors),
		cmocka_unit_test(test_totp_window_and_replay),
		cmocka_unit_test(test_password_hash_and_verify),
	};
	return cmocka_run_group_tests_name("auth", tests, setup, NULL);
}
