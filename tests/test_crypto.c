/*
 * test_crypto.c - unit tests of crypto/: sealing, key wrapping, the keyring,
 * blind indexes and the small helpers.
 *
 * Besides roundtrips, the tests pin the on-disk formats by recomputing them
 * with libsodium directly (additional data, wrap binding, blind-index key),
 * so a silent change of format fails here before it strands stored data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/crypto.h"

#define SEALED_MAX (1000 + CRYPTO_SEAL_OVERHEAD)

static const struct crypto_ad ad_person = { "person", "name", 42, 0 };

struct fixture {
	struct crypto_keyring *kr;
	uint8_t identity_v1[CRYPTO_KEY_BYTES];
};

static int group_setup(void **state)
{
	(void)state;
	return crypto_init() == AMANA_OK ? 0 : -1;
}

static int setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	if (!f)
		return -1;
	crypto_key_generate(f->identity_v1);
	if (crypto_keyring_new(&f->kr) != AMANA_OK)
		return -1;
	if (crypto_keyring_add(f->kr, CRYPTO_PURPOSE_IDENTITY, 1, f->identity_v1) != AMANA_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	crypto_keyring_free(f->kr);
	test_free(f);
	return 0;
}

static void fill_pattern(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + 3);
}

static void put_u32le(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64le(uint8_t *p, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Seal pattern bytes of length len under purpose with ad_person. */
static size_t seal_pattern(const struct crypto_keyring *kr, enum crypto_purpose purpose, size_t len,
			   uint8_t sealed[SEALED_MAX])
{
	uint8_t pt[1000];
	size_t n = 0;

	assert_true(len <= sizeof(pt));
	fill_pattern(pt, len);
	assert_int_equal(crypto_seal(kr, purpose, &ad_person, pt, len, sealed, SEALED_MAX, &n), AMANA_OK);
	assert_int_equal(n, len + CRYPTO_SEAL_OVERHEAD);
	return n;
}

/* Open must fail with err, and must leave the output buffer wiped. */
static void expect_open_fails(const struct crypto_keyring *kr, const struct crypto_ad *ad, const uint8_t *sealed,
			      size_t len, enum amana_err err)
{
	uint8_t pt[1000];
	size_t ptlen = 12345;

	memset(pt, 0xAA, sizeof(pt));
	assert_int_equal(crypto_open(kr, ad, sealed, len, pt, sizeof(pt), &ptlen), err);
	assert_true(all_zero(pt, sizeof(pt)));
	assert_int_equal(ptlen, 12345);
}

static void test_seal_open_roundtrip(void **state)
{
	struct fixture *f = *state;
	static const size_t sizes[] = { 0, 1, 9, 1000 };

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint8_t sealed[SEALED_MAX], expect[1000], pt[1000];
		size_t n = seal_pattern(f->kr, CRYPTO_PURPOSE_IDENTITY, sizes[k], sealed);
		size_t ptlen = 12345;

		memset(pt, 0xAA, sizeof(pt));
		fill_pattern(expect, sizes[k]);
		assert_int_equal(crypto_open(f->kr, &ad_person, sealed, n, pt, sizeof(pt), &ptlen), AMANA_OK);
		assert_int_equal(ptlen, sizes[k]);
		assert_memory_equal(pt, expect, sizes[k]);
		/* The plaintext is not in the sealed value. */
		if (sizes[k] >= 9)
			assert_null(memmem(sealed, n, expect, sizes[k]));
	}
}

/* An empty plaintext with no buffer at all is legal both ways. */
static void test_seal_open_empty_null_buffers(void **state)
{
	struct fixture *f = *state;
	uint8_t sealed[CRYPTO_SEAL_OVERHEAD];
	size_t n = 0, ptlen = 99;

	assert_int_equal(crypto_seal(f->kr, CRYPTO_PURPOSE_IDENTITY, &ad_person, NULL, 0, sealed, sizeof(sealed), &n),
			 AMANA_OK);
	assert_int_equal(n, CRYPTO_SEAL_OVERHEAD);
	assert_int_equal(crypto_open(f->kr, &ad_person, sealed, n, NULL, 0, &ptlen), AMANA_OK);
	assert_int_equal(ptlen, 0);
	sealed[n - 1] ^= 1;
	assert_int_equal(crypto_open(f->kr, &ad_person, sealed, n, NULL, 0, &ptlen), AMANA_ERR_CRYPTO);
}

/* The format of the header comment, recomputed by hand with libsodium. */
static void test_sealed_format_known(void **state)
{
	struct fixture *f = *state;
	const struct crypto_ad ad = { "employer", "bank_account", -7, 3 };
	uint8_t sealed[SEALED_MAX], adbuf[128], pt[9], expect[9];
	unsigned long long mlen = 0;
	size_t n = 0, pos = 0;

	fill_pattern(expect, sizeof(expect));
	assert_int_equal(
	    crypto_seal(f->kr, CRYPTO_PURPOSE_IDENTITY, &ad, expect, sizeof(expect), sealed, sizeof(sealed), &n),
	    AMANA_OK);
	assert_int_equal(sealed[0], CRYPTO_SEAL_V1);
	assert_int_equal(sealed[1], CRYPTO_PURPOSE_IDENTITY);
	assert_int_equal(sealed[2], 1);
	assert_int_equal(sealed[3] | sealed[4] | sealed[5], 0);

	memcpy(adbuf + pos, "amana.seal.v1", 14);
	pos += 14;
	memcpy(adbuf + pos, "employer", 9);
	pos += 9;
	memcpy(adbuf + pos, "bank_account", 13);
	pos += 13;
	put_u64le(adbuf + pos, (uint64_t)(int64_t)-7);
	pos += 8;
	put_u64le(adbuf + pos, 3);
	pos += 8;
	memcpy(adbuf + pos, sealed, 6);
	pos += 6;
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &mlen, NULL, sealed + 30, n - 30, adbuf, pos,
								    sealed + 6, f->identity_v1),
			 0);
	assert_int_equal(mlen, sizeof(expect));
	assert_memory_equal(pt, expect, sizeof(expect));
}

static void test_open_flipped_byte_every_position(void **state)
{
	struct fixture *f = *state;
	uint8_t sealed[SEALED_MAX];
	size_t n = seal_pattern(f->kr, CRYPTO_PURPOSE_IDENTITY, 9, sealed);

	for (size_t i = 0; i < n; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			sealed[i] ^= (uint8_t)(1u << bit);
			expect_open_fails(f->kr, &ad_person, sealed, n, AMANA_ERR_CRYPTO);
			sealed[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* Restored, it opens again: the failures were the flips. */
	{
		uint8_t pt[9];
		size_t ptlen;

		assert_int_equal(crypto_open(f->kr, &ad_person, sealed, n, pt, sizeof(pt), &ptlen), AMANA_OK);
	}
}

static void test_open_other_binding(void **state)
{
	struct fixture *f = *state;
	uint8_t sealed[SEALED_MAX];
	size_t n = seal_pattern(f->kr, CRYPTO_PURPOSE_IDENTITY, 9, sealed);
	const struct crypto_ad other_table = { "employer", "name", 42, 0 };
	const struct crypto_ad other_column = { "person", "address", 42, 0 };
	const struct crypto_ad other_row = { "person", "name", 43, 0 };
	const struct crypto_ad other_sub = { "person", "name", 42, 1 };
	/* Names must not run together: "person"+"name" vs "personn"+"ame". */
	const struct crypto_ad shifted = { "personn", "ame", 42, 0 };
	const struct crypto_ad swapped = { "name", "person", 42, 0 };

	expect_open_fails(f->kr, &other_table, sealed, n, AMANA_ERR_CRYPTO);
	expect_open_fails(f->kr, &other_column, sealed, n, AMANA_ERR_CRYPTO);
	expect_open_fails(f->kr, &other_row, sealed, n, AMANA_ERR_CRYPTO);
	expect_open_fails(f->kr, &other_sub, sealed, n, AMANA_ERR_CRYPTO);
	expect_open_fails(f->kr, &shifted, sealed, n, AMANA_ERR_CRYPTO);
	expect_open_fails(f->kr, &swapped, sealed, n, AMANA_ERR_CRYPTO);
}

static void test_open_truncated(void **state)
{
	struct fixture *f = *state;
	uint8_t sealed[SEALED_MAX];
	size_t n = seal_pattern(f->kr, CRYPTO_PURPOSE_IDENTITY, 9, sealed);

	for (size_t len = 0; len < n; len++)
		expect_open_fails(f->kr, &ad_person, sealed, len, AMANA_ERR_CRYPTO);
	/* Trailing garbage is an altered value too. */
	sealed[n] = 0;
	expect_open_fails(f->kr, &ad_person, sealed, n + 1, AMANA_ERR_CRYPTO);
}

static void test_open_wrong_key_version(void **state)
{
	struct fixture *f = *state;
	uint8_t key2[CRYPTO_KEY_BYTES], sealed[SEALED_MAX];
	size_t n;

	crypto_key_generate(key2);
	assert_int_equal(crypto_keyring_add(f->kr, CRYPTO_PURPOSE_IDENTITY, 2, key2), AMANA_OK);
	n = seal_pattern(f->kr, CRYPTO_PURPOSE_IDENTITY, 9, sealed);
	assert_int_equal(sealed[2], 2);
	/* Relabelled to a version the keyring holds: the key differs. */
	put_u32le(sealed + 2, 1);
	expect_open_fails(f->kr, &ad_person, sealed, n, AMANA_ERR_CRYPTO);
	/* Relabelled to a version nobody has. */
	put_u32le(sealed + 2, 7);
	expect_open_fails(f->kr, &ad_person, sealed, n, AMANA_ERR_CRYPTO);
	put_u32le(sealed + 2, 0x01000002u);
	expect_open_fails(f->kr, &ad_person, sealed, n, AMANA_ERR_CRYPTO);
	crypto_wipe(key2, sizeof(key2));
}

static void test_open_unknown_purpose(void **state)
{
	struct fixture *f = *state;
	uint8_t money[CRYPTO_KEY_BYTES], sealed[SEALED_MAX];
	size_t n = seal_pattern(f->kr, CRYPTO_PURPOSE_IDENTITY, 9, sealed);
	static const uint8_t bad[] = { 0, CRYPTO_PURPOSE_MAX + 1, 0x80, 0xFF };

	for (size_t i = 0; i < sizeof(bad); i++) {
		sealed[1] = bad[i];
		expect_open_fails(f->kr, &ad_person, sealed, n, AMANA_ERR_CRYPTO);
	}
	/* Relabelled to another purpose with a key of the same version. */
	crypto_key_generate(money);
	assert_int_equal(crypto_keyring_add(f->kr, CRYPTO_PURPOSE_MONEY, 1, money), AMANA_OK);
	sealed[1] = CRYPTO_PURPOSE_MONEY;
	expect_open_fails(f->kr, &ad_person, sealed, n, AMANA_ERR_CRYPTO);
	crypto_wipe(money, sizeof(money));
}

static void test_open_unknown_format(void **state)
{
	struct fixture *f = *state;
	uint8_t sealed[SEALED_MAX];
	size_t n = seal_pattern(f->kr, CRYPTO_PURPOSE_IDENTITY, 9, sealed);
	static const uint8_t bad[] = { 0, CRYPTO_SEAL_V1 + 1, 0xFF };
	enum crypto_purpose p;
	uint32_t v;

	for (size_t i = 0; i < sizeof(bad); i++) {
		sealed[0] = bad[i];
		expect_open_fails(f->kr, &ad_person, sealed, n, AMANA_ERR_CRYPTO);
		assert_int_equal(crypto_sealed_key(sealed, n, &p, &v), AMANA_ERR_CRYPTO);
	}
}

static void test_open_keyring_missing_key(void **state)
{
	struct fixture *f = *state;
	struct crypto_keyring *empty, *other, *impostor;
	uint8_t key[CRYPTO_KEY_BYTES], sealed[SEALED_MAX];
	size_t n = seal_pattern(f->kr, CRYPTO_PURPOSE_IDENTITY, 9, sealed);

	assert_int_equal(crypto_keyring_new(&empty), AMANA_OK);
	expect_open_fails(empty, &ad_person, sealed, n, AMANA_ERR_CRYPTO);

	/* Keys of other purposes, and another identity version, only. */
	assert_int_equal(crypto_keyring_new(&other), AMANA_OK);
	assert_int_equal(crypto_keyring_add(other, CRYPTO_PURPOSE_MONEY, 1, f->identity_v1), AMANA_OK);
	assert_int_equal(crypto_keyring_add(other, CRYPTO_PURPOSE_IDENTITY, 2, f->identity_v1), AMANA_OK);
	expect_open_fails(other, &ad_person, sealed, n, AMANA_ERR_CRYPTO);

	/* Same purpose and version, a different key. */
	crypto_key_generate(key);
	assert_int_equal(crypto_keyring_new(&impostor), AMANA_OK);
	assert_int_equal(crypto_keyring_add(impostor, CRYPTO_PURPOSE_IDENTITY, 1, key), AMANA_OK);
	expect_open_fails(impostor, &ad_person, sealed, n, AMANA_ERR_CRYPTO);

	crypto_wipe(key, sizeof(key));
	crypto_keyring_free(empty);
	crypto_keyring_free(other);
	crypto_keyring_free(impostor);
}

static void test_seal_fails_closed_without_key(void **state)
{
	struct fixture *f = *state;
	struct crypto_keyring *empty;
	uint8_t sealed[SEALED_MAX], pt[9];
	size_t n = 777;

	fill_pattern(pt, sizeof(pt));
	memset(sealed, 0, sizeof(sealed));
	assert_int_equal(crypto_keyring_new(&empty), AMANA_OK);
	assert_int_equal(
	    crypto_seal(empty, CRYPTO_PURPOSE_IDENTITY, &ad_person, pt, sizeof(pt), sealed, sizeof(sealed), &n),
	    AMANA_ERR_CRYPTO);
	/* The fixture has identity only: money has no key. */
	assert_int_equal(
	    crypto_seal(f->kr, CRYPTO_PURPOSE_MONEY, &ad_person, pt, sizeof(pt), sealed, sizeof(sealed), &n),
	    AMANA_ERR_CRYPTO);
	assert_int_equal(n, 777);
	assert_null(memmem(sealed, sizeof(sealed), pt, sizeof(pt)));
	crypto_keyring_free(empty);
}

static void test_seal_bad_arguments(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[CRYPTO_SEAL_MAX_PLAINTEXT + 1];
	static uint8_t out[CRYPTO_SEAL_MAX_PLAINTEXT + 1 + CRYPTO_SEAL_OVERHEAD];
	char name64[65], name65[66];
	struct crypto_ad ad = ad_person;
	uint8_t pt[9], sealed[SEALED_MAX];
	size_t n = 0, ptlen = 0;

	fill_pattern(pt, sizeof(pt));
	/* Output one byte short. */
	assert_int_equal(crypto_seal(f->kr, CRYPTO_PURPOSE_IDENTITY, &ad, pt, sizeof(pt), sealed,
				     sizeof(pt) + CRYPTO_SEAL_OVERHEAD - 1, &n),
			 AMANA_ERR_LIMIT);
	/* Larger than any sealed field may be. */
	assert_int_equal(crypto_seal(f->kr, CRYPTO_PURPOSE_IDENTITY, &ad, big, sizeof(big), out, sizeof(out), &n),
			 AMANA_ERR_LIMIT);
	assert_int_equal(crypto_seal(f->kr, CRYPTO_PURPOSE_IDENTITY, &ad, big, sizeof(big) - 1, out, sizeof(out), &n),
			 AMANA_OK);
	assert_int_equal(crypto_seal(f->kr, (enum crypto_purpose)0, &ad, pt, sizeof(pt), sealed, sizeof(sealed), &n),
			 AMANA_ERR_USAGE);
	assert_int_equal(crypto_seal(f->kr, (enum crypto_purpose)(CRYPTO_PURPOSE_MAX + 1), &ad, pt, sizeof(pt), sealed,
				     sizeof(sealed), &n),
			 AMANA_ERR_USAGE);
	assert_int_equal(crypto_seal(f->kr, CRYPTO_PURPOSE_IDENTITY, NULL, pt, sizeof(pt), sealed, sizeof(sealed), &n),
			 AMANA_ERR_USAGE);

	/* Names: 64 bytes is the limit, 65 is refused, NULL is refused. */
	memset(name64, 'a', 64);
	name64[64] = 0;
	memset(name65, 'a', 65);
	name65[65] = 0;
	ad.table = name64;
	ad.column = name64;
	assert_int_equal(crypto_seal(f->kr, CRYPTO_PURPOSE_IDENTITY, &ad, pt, sizeof(pt), sealed, sizeof(sealed), &n),
			 AMANA_OK);
	assert_int_equal(crypto_open(f->kr, &ad, sealed, n, pt, sizeof(pt), &ptlen), AMANA_OK);
	ad.table = name65;
	assert_int_equal(crypto_seal(f->kr, CRYPTO_PURPOSE_IDENTITY, &ad, pt, sizeof(pt), sealed, sizeof(sealed), &n),
			 AMANA_ERR_USAGE);
	expect_open_fails(f->kr, &ad, sealed, n, AMANA_ERR_USAGE);
	ad.table = name64;
	ad.column = name65;
	assert_int_equal(crypto_seal(f->kr, CRYPTO_PURPOSE_IDENTITY, &ad, pt, sizeof(pt), sealed, sizeof(sealed), &n),
			 AMANA_ERR_USAGE);
	ad.column = NULL;
	assert_int_equal(crypto_seal(f->kr, CRYPTO_PURPOSE_IDENTITY, &ad, pt, sizeof(pt), sealed, sizeof(sealed), &n),
			 AMANA_ERR_USAGE);
}

static void test_open_small_buffer(void **state)
{
	struct fixture *f = *state;
	uint8_t sealed[SEALED_MAX], pt[9];
	size_t n = seal_pattern(f->kr, CRYPTO_PURPOSE_IDENTITY, 9, sealed);
	size_t ptlen = 5;

	memset(pt, 0xAA, sizeof(pt));
	assert_int_equal(crypto_open(f->kr, &ad_person, sealed, n, pt, 8, &ptlen), AMANA_ERR_LIMIT);
	assert_true(all_zero(pt, 8));
	assert_int_equal(ptlen, 5);
	assert_int_equal(crypto_open(f->kr, &ad_person, sealed, n, pt, 9, &ptlen), AMANA_OK);
	assert_int_equal(ptlen, 9);
}

/* Longer than seal could ever have made: refused as not ours, however big
 * the caller's buffer. */
static void test_open_oversized(void **state)
{
	struct fixture *f = *state;
	static uint8_t sealed[CRYPTO_SEAL_MAX_PLAINTEXT + 1 + CRYPTO_SEAL_OVERHEAD];
	static uint8_t pt[CRYPTO_SEAL_MAX_PLAINTEXT + 1];
	size_t n = 0, ptlen = 5;

	assert_int_equal(
	    crypto_seal(f->kr, CRYPTO_PURPOSE_IDENTITY, &ad_person, pt, sizeof(pt) - 1, sealed, sizeof(sealed), &n),
	    AMANA_OK);
	assert_int_equal(crypto_open(f->kr, &ad_person, sealed, n, pt, sizeof(pt), &ptlen), AMANA_OK);
	assert_int_equal(ptlen, sizeof(pt) - 1);
	memset(pt, 0xAA, sizeof(pt));
	assert_int_equal(crypto_open(f->kr, &ad_person, sealed, sizeof(sealed), pt, sizeof(pt), &ptlen),
			 AMANA_ERR_CRYPTO);
	assert_true(all_zero(pt, sizeof(pt)));
}

static void test_seal_fresh_nonce(void **state)
{
	struct fixture *f = *state;
	uint8_t a[SEALED_MAX], b[SEALED_MAX];
	size_t na = seal_pattern(f->kr, CRYPTO_PURPOSE_IDENTITY, 9, a);
	size_t nb = seal_pattern(f->kr, CRYPTO_PURPOSE_IDENTITY, 9, b);

	assert_int_equal(na, nb);
	assert_memory_equal(a, b, 6);
	assert_memory_not_equal(a + 6, b + 6, 24);
	assert_memory_not_equal(a + 30, b + 30, na - 30);
}

static void test_key_wrap_roundtrip(void **state)
{
	uint8_t kek[CRYPTO_KEY_BYTES], key[CRYPTO_KEY_BYTES], got[CRYPTO_KEY_BYTES];
	uint8_t w1[CRYPTO_WRAPPED_KEY_BYTES], w2[CRYPTO_WRAPPED_KEY_BYTES];

	(void)state;
	crypto_kek_generate(kek);
	crypto_key_generate(key);
	crypto_key_wrap(kek, CRYPTO_PURPOSE_MONEY, 3, key, w1);
	crypto_key_wrap(kek, CRYPTO_PURPOSE_MONEY, 3, key, w2);
	assert_memory_not_equal(w1, w2, sizeof(w1));
	assert_null(memmem(w1, sizeof(w1), key, sizeof(key)));
	assert_int_equal(crypto_key_unwrap(kek, CRYPTO_PURPOSE_MONEY, 3, w1, got), AMANA_OK);
	assert_memory_equal(got, key, sizeof(key));
	memset(got, 0, sizeof(got));
	assert_int_equal(crypto_key_unwrap(kek, CRYPTO_PURPOSE_MONEY, 3, w2, got), AMANA_OK);
	assert_memory_equal(got, key, sizeof(key));
}

/* The wrap's binding, recomputed by hand: "amana.kek.v1" purpose u32le. */
static void test_key_wrap_format_known(void **state)
{
	uint8_t kek[CRYPTO_KEY_BYTES], key[CRYPTO_KEY_BYTES], got[CRYPTO_KEY_BYTES];
	uint8_t w[CRYPTO_WRAPPED_KEY_BYTES], ad[17];

	(void)state;
	crypto_kek_generate(kek);
	crypto_key_generate(key);
	crypto_key_wrap(kek, CRYPTO_PURPOSE_AUDIT, 0x01020304u, key, w);
	memcpy(ad, "amana.kek.v1", 12);
	ad[12] = CRYPTO_PURPOSE_AUDIT;
	put_u32le(ad + 13, 0x01020304u);
	assert_int_equal(
	    crypto_aead_xchacha20poly1305_ietf_decrypt(got, NULL, NULL, w + 24, sizeof(w) - 24, ad, sizeof(ad), w, kek),
	    0);
	assert_memory_equal(got, key, sizeof(key));
}

static void expect_unwrap_fails(const uint8_t *kek, enum crypto_purpose purpose, uint32_t version, const uint8_t *w)
{
	uint8_t got[CRYPTO_KEY_BYTES];

	memset(got, 0xAA, sizeof(got));
	assert_int_equal(crypto_key_unwrap(kek, purpose, version, w, got), AMANA_ERR_CRYPTO);
	assert_true(all_zero(got, sizeof(got)));
}

static void test_key_unwrap_failures(void **state)
{
	uint8_t kek[CRYPTO_KEY_BYTES], kek2[CRYPTO_KEY_BYTES], key[CRYPTO_KEY_BYTES];
	uint8_t w[CRYPTO_WRAPPED_KEY_BYTES];

	(void)state;
	crypto_kek_generate(kek);
	crypto_kek_generate(kek2);
	crypto_key_generate(key);
	crypto_key_wrap(kek, CRYPTO_PURPOSE_IDENTITY, 1, key, w);

	expect_unwrap_fails(kek2, CRYPTO_PURPOSE_IDENTITY, 1, w);
	expect_unwrap_fails(kek, CRYPTO_PURPOSE_MONEY, 1, w);
	expect_unwrap_fails(kek, CRYPTO_PURPOSE_BLIND, 1, w);
	expect_unwrap_fails(kek, CRYPTO_PURPOSE_IDENTITY, 2, w);
	expect_unwrap_fails(kek, CRYPTO_PURPOSE_IDENTITY, 0, w);
	expect_unwrap_fails(kek, CRYPTO_PURPOSE_IDENTITY, 0x80000001u, w);
	for (size_t i = 0; i < sizeof(w); i++) {
		w[i] ^= 0x01;
		expect_unwrap_fails(kek, CRYPTO_PURPOSE_IDENTITY, 1, w);
		w[i] ^= 0x01;
	}
	/* A flipped KEK bit is a wrong KEK too. */
	kek[31] ^= 0x80;
	expect_unwrap_fails(kek, CRYPTO_PURPOSE_IDENTITY, 1, w);
	kek[31] ^= 0x80;
	{
		uint8_t got[CRYPTO_KEY_BYTES];

		assert_int_equal(crypto_key_unwrap(kek, CRYPTO_PURPOSE_IDENTITY, 1, w, got), AMANA_OK);
		assert_memory_equal(got, key, sizeof(key));
	}
}

static void test_keyring_rotation(void **state)
{
	struct fixture *f = *state;
	uint8_t key2[CRYPTO_KEY_BYTES], old[SEALED_MAX], fresh[SEALED_MAX], pt[9], expect[9];
	size_t nold, nfresh, ptlen;
	enum crypto_purpose p;
	uint32_t v;

	fill_pattern(expect, sizeof(expect));
	nold = seal_pattern(f->kr, CRYPTO_PURPOSE_IDENTITY, 9, old);
	assert_int_equal(crypto_sealed_key(old, nold, &p, &v), AMANA_OK);
	assert_int_equal(p, CRYPTO_PURPOSE_IDENTITY);
	assert_int_equal(v, 1);

	crypto_key_generate(key2);
	assert_int_equal(crypto_keyring_add(f->kr, CRYPTO_PURPOSE_IDENTITY, 2, key2), AMANA_OK);
	nfresh = seal_pattern(f->kr, CRYPTO_PURPOSE_IDENTITY, 9, fresh);
	assert_int_equal(crypto_sealed_key(fresh, nfresh, &p, &v), AMANA_OK);
	assert_int_equal(p, CRYPTO_PURPOSE_IDENTITY);
	assert_int_equal(v, 2);

	/* Old values still open, under v1; new ones under v2. */
	assert_int_equal(crypto_open(f->kr, &ad_person, old, nold, pt, sizeof(pt), &ptlen), AMANA_OK);
	assert_memory_equal(pt, expect, sizeof(pt));
	assert_int_equal(crypto_open(f->kr, &ad_person, fresh, nfresh, pt, sizeof(pt), &ptlen), AMANA_OK);
	assert_memory_equal(pt, expect, sizeof(pt));

	/* A keyring with v1 only cannot open what v2 sealed. */
	{
		struct crypto_keyring *v1only;

		assert_int_equal(crypto_keyring_new(&v1only), AMANA_OK);
		assert_int_equal(crypto_keyring_add(v1only, CRYPTO_PURPOSE_IDENTITY, 1, f->identity_v1), AMANA_OK);
		expect_open_fails(v1only, &ad_person, fresh, nfresh, AMANA_ERR_CRYPTO);
		crypto_keyring_free(v1only);
	}
	crypto_wipe(key2, sizeof(key2));
}

/* Seal follows the highest version, whatever the order keys were loaded. */
static void test_keyring_highest_version_wins(void **state)
{
	uint8_t key[CRYPTO_KEY_BYTES], sealed[SEALED_MAX];
	struct crypto_keyring *kr;
	enum crypto_purpose p;
	uint32_t v;
	size_t n;

	(void)state;
	crypto_key_generate(key);
	assert_int_equal(crypto_keyring_new(&kr), AMANA_OK);
	assert_int_equal(crypto_keyring_add(kr, CRYPTO_PURPOSE_MONEY, 5, key), AMANA_OK);
	assert_int_equal(crypto_keyring_add(kr, CRYPTO_PURPOSE_MONEY, 9, key), AMANA_OK);
	assert_int_equal(crypto_keyring_add(kr, CRYPTO_PURPOSE_MONEY, 7, key), AMANA_OK);
	n = seal_pattern(kr, CRYPTO_PURPOSE_MONEY, 1, sealed);
	assert_int_equal(crypto_sealed_key(sealed, n, &p, &v), AMANA_OK);
	assert_int_equal(p, CRYPTO_PURPOSE_MONEY);
	assert_int_equal(v, 9);
	crypto_keyring_free(kr);
	crypto_wipe(key, sizeof(key));
}

static void test_keyring_add_errors(void **state)
{
	struct fixture *f = *state;
	uint8_t key[CRYPTO_KEY_BYTES];

	crypto_key_generate(key);
	assert_int_equal(crypto_keyring_add(f->kr, CRYPTO_PURPOSE_IDENTITY, 1, key), AMANA_ERR_EXISTS);
	/* The duplicate did not replace the key: what v1 seals now still opens
	 * under the original v1 key alone. */
	{
		uint8_t sealed[SEALED_MAX], pt[9];
		size_t n = seal_pattern(f->kr, CRYPTO_PURPOSE_IDENTITY, 9, sealed), ptlen;
		struct crypto_keyring *orig;

		assert_int_equal(crypto_keyring_new(&orig), AMANA_OK);
		assert_int_equal(crypto_keyring_add(orig, CRYPTO_PURPOSE_IDENTITY, 1, f->identity_v1), AMANA_OK);
		assert_int_equal(crypto_open(orig, &ad_person, sealed, n, pt, sizeof(pt), &ptlen), AMANA_OK);
		crypto_keyring_free(orig);
	}
	assert_int_equal(crypto_keyring_add(f->kr, (enum crypto_purpose)0, 1, key), AMANA_ERR_USAGE);
	assert_int_equal(crypto_keyring_add(f->kr, (enum crypto_purpose)(CRYPTO_PURPOSE_MAX + 1), 1, key),
			 AMANA_ERR_USAGE);
	/* 16 versions per purpose, then a limit. */
	for (uint32_t v = 2; v <= 16; v++)
		assert_int_equal(crypto_keyring_add(f->kr, CRYPTO_PURPOSE_IDENTITY, v, key), AMANA_OK);
	assert_int_equal(crypto_keyring_add(f->kr, CRYPTO_PURPOSE_IDENTITY, 17, key), AMANA_ERR_LIMIT);
	/* Other purposes have their own 16. */
	assert_int_equal(crypto_keyring_add(f->kr, CRYPTO_PURPOSE_AUDIT, 17, key), AMANA_OK);
	crypto_keyring_free(NULL);
	crypto_wipe(key, sizeof(key));
}

static void test_sealed_key_errors(void **state)
{
	struct fixture *f = *state;
	uint8_t sealed[SEALED_MAX];
	size_t n = seal_pattern(f->kr, CRYPTO_PURPOSE_IDENTITY, 0, sealed);
	enum crypto_purpose p = CRYPTO_PURPOSE_MONEY;
	uint32_t v = 99;

	assert_int_equal(crypto_sealed_key(sealed, n, &p, &v), AMANA_OK);
	assert_int_equal(p, CRYPTO_PURPOSE_IDENTITY);
	assert_int_equal(v, 1);
	assert_int_equal(crypto_sealed_key(sealed, n - 1, &p, &v), AMANA_ERR_CRYPTO);
	assert_int_equal(crypto_sealed_key(sealed, 6, &p, &v), AMANA_ERR_CRYPTO);
	sealed[1] = 0;
	assert_int_equal(crypto_sealed_key(sealed, n, &p, &v), AMANA_ERR_CRYPTO);
	sealed[1] = CRYPTO_PURPOSE_MAX + 1;
	assert_int_equal(crypto_sealed_key(sealed, n, &p, &v), AMANA_ERR_CRYPTO);
	sealed[1] = CRYPTO_PURPOSE_AUDIT;
	put_u32le(sealed + 2, 0xDEADBEEFu);
	assert_int_equal(crypto_sealed_key(sealed, n, &p, &v), AMANA_OK);
	assert_int_equal(p, CRYPTO_PURPOSE_AUDIT);
	assert_int_equal(v, 0xDEADBEEFu);
}

/* A fixture keyring with a blind root, version 1. */
static struct crypto_keyring *blind_keyring(uint8_t root[CRYPTO_KEY_BYTES])
{
	struct crypto_keyring *kr;

	crypto_key_generate(root);
	assert_int_equal(crypto_keyring_new(&kr), AMANA_OK);
	assert_int_equal(crypto_keyring_add(kr, CRYPTO_PURPOSE_BLIND, 1, root), AMANA_OK);
	return kr;
}

static void test_bidx_known(void **state)
{
	uint8_t root[CRYPTO_KEY_BYTES], expect_key[CRYPTO_KEY_BYTES], h[8];
	struct crypto_keyring *kr = blind_keyring(root);
	static const char input[] = "amana.bidx.v1\0person\0cin";
	struct crypto_bidx_key k;
	uint64_t expect = 0;

	(void)state;
	assert_int_equal(crypto_bidx_key_derive(kr, "person", "cin", 20, &k), AMANA_OK);
	assert_int_equal(k.bits, 20);
	assert_int_equal(crypto_generichash(expect_key, sizeof(expect_key), (const uint8_t *)input, sizeof(input) - 1,
					    root, sizeof(root)),
			 0);
	assert_memory_equal(k.key, expect_key, sizeof(expect_key));
	assert_int_equal(
	    crypto_generichash(h, sizeof(h), (const uint8_t *)"AB123456", 8, expect_key, sizeof(expect_key)), 0);
	for (unsigned i = 0; i < 8; i++)
		expect |= (uint64_t)h[i] << (8 * i);
	assert_int_equal(crypto_bidx(&k, "AB123456", 8), expect & ((UINT64_C(1) << 20) - 1));
	crypto_bidx_key_clear(&k);
	assert_true(all_zero(k.key, sizeof(k.key)));
	assert_int_equal(k.bits, 0);
	crypto_keyring_free(kr);
}

static void test_bidx_deterministic_and_separated(void **state)
{
	uint8_t root[CRYPTO_KEY_BYTES];
	struct crypto_keyring *kr = blind_keyring(root);
	struct crypto_bidx_key a, a2, col, tab;

	(void)state;
	assert_int_equal(crypto_bidx_key_derive(kr, "person", "cin", 63, &a), AMANA_OK);
	assert_int_equal(crypto_bidx_key_derive(kr, "person", "cin", 63, &a2), AMANA_OK);
	assert_int_equal(crypto_bidx_key_derive(kr, "person", "cnss", 63, &col), AMANA_OK);
	assert_int_equal(crypto_bidx_key_derive(kr, "employer", "cin", 63, &tab), AMANA_OK);
	assert_memory_equal(a.key, a2.key, sizeof(a.key));
	assert_int_equal(crypto_bidx(&a, "AB123456", 8), crypto_bidx(&a2, "AB123456", 8));
	assert_int_equal(crypto_bidx(&a, "AB123456", 8), crypto_bidx(&a, "AB123456", 8));
	assert_int_not_equal(crypto_bidx(&a, "AB123456", 8), crypto_bidx(&a, "AB123457", 8));
	assert_int_not_equal(crypto_bidx(&a, "AB123456", 8), crypto_bidx(&col, "AB123456", 8));
	assert_int_not_equal(crypto_bidx(&a, "AB123456", 8), crypto_bidx(&tab, "AB123456", 8));
	/* The length is part of the value. */
	assert_int_not_equal(crypto_bidx(&a, "AB123456", 8), crypto_bidx(&a, "AB123456", 7));
	crypto_keyring_free(kr);
}

static void test_bidx_different_key(void **state)
{
	uint8_t root1[CRYPTO_KEY_BYTES], root2[CRYPTO_KEY_BYTES];
	struct crypto_keyring *kr1 = blind_keyring(root1);
	struct crypto_keyring *kr2 = blind_keyring(root2);
	struct crypto_bidx_key k1, k2, k3;

	(void)state;
	assert_int_equal(crypto_bidx_key_derive(kr1, "person", "cin", 63, &k1), AMANA_OK);
	assert_int_equal(crypto_bidx_key_derive(kr2, "person", "cin", 63, &k2), AMANA_OK);
	assert_int_not_equal(crypto_bidx(&k1, "AB123456", 8), crypto_bidx(&k2, "AB123456", 8));
	/* A newer blind root is the one derive uses. */
	assert_int_equal(crypto_keyring_add(kr1, CRYPTO_PURPOSE_BLIND, 2, root2), AMANA_OK);
	assert_int_equal(crypto_bidx_key_derive(kr1, "person", "cin", 63, &k3), AMANA_OK);
	assert_memory_equal(k3.key, k2.key, sizeof(k3.key));
	assert_int_not_equal(crypto_bidx(&k1, "AB123456", 8), crypto_bidx(&k3, "AB123456", 8));
	crypto_keyring_free(kr1);
	crypto_keyring_free(kr2);
}

static void test_bidx_respects_bits(void **state)
{
	uint8_t root[CRYPTO_KEY_BYTES];
	struct crypto_keyring *kr = blind_keyring(root);
	static const unsigned widths[] = { 1, 2, 8, 13, 20, 32, 33, 62, 63 };

	(void)state;
	for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
		unsigned bits = widths[w];
		uint64_t limit = UINT64_C(1) << bits, seen_or = 0;
		struct crypto_bidx_key k;

		assert_int_equal(crypto_bidx_key_derive(kr, "person", "cin", bits, &k), AMANA_OK);
		for (unsigned i = 0; i < 4000; i++) {
			uint8_t value[16];
			uint64_t x;

			crypto_random_bytes(value, sizeof(value));
			x = crypto_bidx(&k, value, sizeof(value));
			assert_true(x < limit);
			seen_or |= x;
		}
		/* Truncation keeps bits rather than dropping to fewer: over 4000
		 * inputs every kept bit is set at least once. */
		assert_int_equal(seen_or, limit - 1);
		crypto_bidx_key_clear(&k);
	}
	crypto_keyring_free(kr);
}

static void test_bidx_derive_errors(void **state)
{
	uint8_t root[CRYPTO_KEY_BYTES];
	struct crypto_keyring *kr = blind_keyring(root), *empty;
	struct crypto_bidx_key k;
	char name65[66];

	(void)state;
	memset(name65, 'c', 65);
	name65[65] = 0;
	memset(&k, 0xAA, sizeof(k));
	assert_int_equal(crypto_bidx_key_derive(kr, "person", "cin", 0, &k), AMANA_ERR_USAGE);
	assert_true(all_zero(k.key, sizeof(k.key)));
	assert_int_equal(crypto_bidx_key_derive(kr, "person", "cin", 64, &k), AMANA_ERR_USAGE);
	assert_int_equal(crypto_bidx_key_derive(kr, name65, "cin", 20, &k), AMANA_ERR_USAGE);
	assert_int_equal(crypto_bidx_key_derive(kr, "person", name65, 20, &k), AMANA_ERR_USAGE);
	assert_int_equal(crypto_bidx_key_derive(kr, "person", NULL, 20, &k), AMANA_ERR_USAGE);
	name65[64] = 0;
	assert_int_equal(crypto_bidx_key_derive(kr, name65, name65, 20, &k), AMANA_OK);
	/* No blind root: fail closed, do not index under some other key. */
	assert_int_equal(crypto_keyring_new(&empty), AMANA_OK);
	assert_int_equal(crypto_keyring_add(empty, CRYPTO_PURPOSE_IDENTITY, 1, root), AMANA_OK);
	memset(&k, 0xAA, sizeof(k));
	assert_int_equal(crypto_bidx_key_derive(empty, "person", "cin", 20, &k), AMANA_ERR_CRYPTO);
	assert_true(all_zero(k.key, sizeof(k.key)));
	crypto_keyring_free(empty);
	crypto_keyring_free(kr);
}

static void test_sha256_known(void **state)
{
	static const uint8_t abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	static const uint8_t empty[32] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
		0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
	};
	uint8_t out[32];

	(void)state;
	crypto_sha256("abc", 3, out);
	assert_memory_equal(out, abc, 32);
	crypto_sha256("", 0, out);
	assert_memory_equal(out, empty, 32);
}

static void test_equal_and_wipe(void **state)
{
	uint8_t a[32], b[32];

	(void)state;
	fill_pattern(a, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_int_equal(crypto_equal(a, b, sizeof(a)), 1);
	b[0] ^= 1;
	assert_int_equal(crypto_equal(a, b, sizeof(a)), 0);
	b[0] ^= 1;
	b[31] ^= 0x80;
	assert_int_equal(crypto_equal(a, b, sizeof(a)), 0);
	/* Only len bytes are compared. */
	assert_int_equal(crypto_equal(a, b, 31), 1);

	crypto_wipe(a, 16);
	assert_true(all_zero(a, 16));
	assert_int_equal(a[16], (uint8_t)(16 * 7 + 3));
	crypto_wipe(NULL, 0);
}

static void test_random_below(void **state)
{
	unsigned seen[10] = { 0 };
	uint32_t big_max = 0;

	(void)state;
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(crypto_random_below(1), 0);
	for (unsigned i = 0; i < 10000; i++) {
		uint32_t x = crypto_random_below(10);

		assert_true(x < 10);
		seen[x]++;
	}
	/* Each of 10 values ~1000 times; 700 is far below chance. */
	for (unsigned i = 0; i < 10; i++)
		assert_true(seen[i] > 700);
	for (unsigned i = 0; i < 1000; i++) {
		uint32_t x = crypto_random_below(UINT32_MAX);

		assert_true(x < UINT32_MAX);
		if (x > big_max)
			big_max = x;
	}
	/* The top half is reached, so the range is not silently narrowed. */
	assert_true(big_max > UINT32_MAX / 2);
}

static void test_random_bytes(void **state)
{
	uint8_t a[64] = { 0 }, b[64] = { 0 };

	(void)state;
	crypto_random_bytes(a, sizeof(a));
	crypto_random_bytes(b, sizeof(b));
	assert_false(all_zero(a, sizeof(a)));
	assert_memory_not_equal(a, b, sizeof(a));
	crypto_random_bytes(NULL, 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_seal_open_roundtrip),
		T(test_seal_open_empty_null_buffers),
		T(test_sealed_format_known),
		T(test_open_flipped_byte_every_position),
		T(test_open_other_binding),
		T(test_open_truncated),
		T(test_open_wrong_key_version),
		T(test_open_unknown_purpose),
		T(test_open_unknown_format),
		T(test_open_keyring_missing_key),
		T(test_seal_fails_closed_without_key),
		T(test_seal_bad_arguments),
		T(test_open_small_buffer),
		T(test_open_oversized),
		T(test_seal_fresh_nonce),
		cmocka_unit_test(test_key_wrap_roundtrip),
		cmocka_unit_test(test_key_wrap_format_known),
		cmocka_unit_test(test_key_unwrap_failures),
		T(test_keyring_rotation),
		cmocka_unit_test(test_keyring_highest_version_wins),
		T(test_keyring_add_errors),
		T(test_sealed_key_errors),
		cmocka_unit_test(test_bidx_known),
		cmocka_unit_test(test_bidx_deterministic_and_separated),
		cmocka_unit_test(test_bidx_different_key),
		cmocka_unit_test(test_bidx_respects_bits),
		cmocka_unit_test(test_bidx_derive_errors),
		cmocka_unit_test(test_sha256_known),
		cmocka_unit_test(test_equal_and_wipe),
		cmocka_unit_test(test_random_below),
		cmocka_unit_test(test_random_bytes),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
