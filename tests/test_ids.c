/* test_ids.c - identifiers: check digits worked by hand, format tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/ids.h"

static bool aff_str(const char *s)
{
	return affiliation_valid(s, strlen(s));
}

static void test_affiliation_known(void **state)
{
	(void)state;
	/* s = 2*(7+3+9) + (2+0+8) = 48, d7 = (10 - 8) % 10 = 2 */
	assert_int_equal(affiliation_check_digit(270389), 2);
	assert_true(aff_str("2703892"));
	assert_true(affiliation_number_valid(2703892));
	assert_int_equal(affiliation_make(270389), 2703892);
	/* s = 1, d7 = 9 */
	assert_int_equal(affiliation_make(100000), 1000009);
	/* s = 0: the "(10 - 0) % 10" case gives 0, not 10 */
	assert_int_equal(affiliation_check_digit(0), 0);
	/* s = 2*(9+9+9) + 27 = 81, d7 = 9 */
	assert_int_equal(affiliation_make(999999), 9999999);
	assert_true(affiliation_number_valid(9999999));
}

static void test_affiliation_format(void **state)
{
	(void)state;
	assert_false(aff_str(""));
	assert_false(aff_str("270389"));
	assert_false(aff_str("27038920"));
	assert_false(aff_str("270389a"));
	assert_false(aff_str(" 270389"));
	assert_false(affiliation_number_valid(12703892)); /* 8 digits */
	/* Only len characters are read: the same buffer is valid at len 7. */
	assert_true(affiliation_valid("27038925", 7));
	assert_false(affiliation_valid("2703892", 6));
}

/*
 * Every single-digit change of 2703892. A weight-2 position changes s by
 * 2 * delta, a multiple of 10 when delta = +-5: the scheme (no digit sum of
 * the doubled digit, unlike Luhn) cannot see those, so they stay valid and
 * every other change is caught. The test pins down both halves.
 */
static void test_affiliation_single_digit_changes(void **state)
{
	const char *good = "2703892";
	unsigned caught = 0, missed = 0;

	(void)state;
	for (unsigned pos = 0; pos < 7; pos++) {
		for (char d = '0'; d <= '9'; d++) {
			char s[8];
			int delta = d - good[pos];
			bool blind;

			if (delta == 0)
				continue;
			memcpy(s, good, sizeof(s));
			s[pos] = d;
			/* positions 2, 4, 6 (1-based) weigh 2 */
			blind = (pos == 1 || pos == 3 || pos == 5) && (delta == 5 || delta == -5);
			if (blind) {
				assert_true(affiliation_valid(s, 7));
				missed++;
			} else {
				assert_false(affiliation_valid(s, 7));
				caught++;
			}
		}
	}
	/* 7 positions x 9 changes; d2=7 -> 2, d4=3 -> 8, d6=9 -> 4 are blind */
	assert_int_equal(missed, 3);
	assert_int_equal(caught, 60);
}

static void test_registration_make(void **state)
{
	(void)state;
	/* 1 0000000: s = 0 -> 0 */
	assert_int_equal(registration_make(0), 100000000u);
	/* 1 0000001: s = 2*1 = 2 -> 8 */
	assert_int_equal(registration_make(1), 100000018u);
	/* 1 0000042: s = 4 (d7) + 2*2 (d8) = 8 -> 2 */
	assert_int_equal(registration_make(42), 100000422u);
	/* 1 1234567: s = 2*(1+3+5+7) + (2+4+6) = 44 -> 6 */
	assert_int_equal(registration_make(1234567), 112345676u);
	/* 1 9999999: s = 2*36 + 27 = 99 -> 1 */
	assert_int_equal(registration_make(REGISTRATION_SERIAL_MAX), 199999991u);
	assert_int_equal(registration_make(REGISTRATION_SERIAL_MAX + 1), REGISTRATION_NONE);

	/* d1 does not count: 2 1234567 has the same check digit as 1 1234567 */
	assert_int_equal(registration_check_digit(21234567), 6);
	assert_int_equal(registration_check_digit(11234567), 6);
}

static void test_registration_made_numbers_pass(void **state)
{
	static const uint32_t serials[] = { 0, 1, 9, 10, 42, 99999, 1234567, 5000000, REGISTRATION_SERIAL_MAX };

	(void)state;
	for (size_t i = 0; i < sizeof(serials) / sizeof(serials[0]); i++) {
		uint32_t reg = registration_make(serials[i]);
		assert_true(registration_check_ok(reg));
		assert_true(registration_format_ok(reg));
		/* the serial sits in d2..d8 */
		assert_int_equal((reg / 10) % 10000000u, serials[i]);
		/* any other last digit fails */
		assert_false(registration_check_ok(reg - reg % 10 + (reg % 10 + 1) % 10));
	}
}

static void test_registration_format(void **state)
{
	(void)state;
	assert_true(registration_format_ok(100000000u));
	assert_true(registration_format_ok(199999999u));
	assert_true(registration_format_ok(REGISTRATION_OCCASIONAL));
	assert_false(registration_format_ok(REGISTRATION_NONE)); /* callers decide */
	assert_false(registration_format_ok(99999999u)); /* 8 digits */
	assert_false(registration_format_ok(200000000u)); /* starts with 2 */
	assert_false(registration_format_ok(999999998u));
	assert_false(registration_format_ok(1000000000u));
	/* the occasional number does not satisfy the check digit (s = 99 -> 1) */
	assert_false(registration_check_ok(REGISTRATION_OCCASIONAL));
	assert_false(registration_check_ok(1000000000u));
	assert_false(registration_check_ok(112345675u));
}

static void test_cin(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{ "A123456", true },   { "BE123456", true },   { "A1", true },         { "Z9", true },
		{ "AB1", true },       { "AB1234567", false }, { "A12345678", false }, { "1A23", false },
		{ "A", false },        { "AB", false },        { "ABC123", false },    { "a123456", false },
		{ "Ab123456", false }, { "A12B34", false },    { "A 12345", false },   { "", false },
		{ "A-12345", false },  { "@123", false },      { "1234567", false },   { "12", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = cin_valid(cases[i].s, strlen(cases[i].s));
		if (got != cases[i].ok)
			fail_msg("cin_valid(\"%s\") = %d", cases[i].s, got);
	}
	/* a view: only the first 7 bytes count */
	assert_true(cin_valid("A123456XYZ", 7));
	assert_false(cin_valid("A123456XYZ", 8));
}

static void test_ice(void **state)
{
	(void)state;
	assert_true(ice_valid("001525478000088", 15));
	assert_true(ice_valid("000000000000000", 15));
	assert_false(ice_valid("00152547800008", 14));
	assert_false(ice_valid("0015254780000881", 16));
	assert_false(ice_valid("00152547800008A", 15));
	assert_false(ice_valid("0015254 8000088", 15));
	assert_false(ice_valid("", 0));
	assert_true(ice_valid("0015254780000889999", 15)); /* a view */
}

static void test_parse_digits(void **state)
{
	uint64_t v = 77;

	(void)state;
	assert_true(parse_digits("0", 1, &v));
	assert_int_equal(v, 0);
	assert_true(parse_digits("00123", 5, &v));
	assert_int_equal(v, 123);
	assert_true(parse_digits("999999999999999999", 18, &v));
	assert_int_equal(v, 999999999999999999ull);
	assert_true(parse_digits("12345", 3, &v));
	assert_int_equal(v, 123);

	v = 77;
	assert_false(parse_digits("9999999999999999999", 19, &v));
	assert_false(parse_digits("", 0, &v));
	assert_false(parse_digits("12a", 3, &v));
	assert_false(parse_digits("-1", 2, &v));
	assert_false(parse_digits(" 1", 2, &v));
	assert_false(parse_digits("1.0", 3, &v));
	assert_int_equal(v, 77); /* untouched on failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_affiliation_known),
		cmocka_unit_test(test_affiliation_format),
		cmocka_unit_test(test_affiliation_single_digit_changes),
		cmocka_unit_test(test_registration_make),
		cmocka_unit_test(test_registration_made_numbers_pass),
		cmocka_unit_test(test_registration_format),
		cmocka_unit_test(test_cin),
		cmocka_unit_test(test_ice),
		cmocka_unit_test(test_parse_digits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
