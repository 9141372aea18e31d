/* test_money.c - rounding, formatting and parsing of centimes and rates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/money.h"

#define PCT(x) ((ppm)((x)*10000)) /* whole percents only */

static void test_apply_rate_examples(void **state)
{
	(void)state;
	/* 123.45 MAD x 6.40% = 790.08 centimes -> 790 */
	assert_int_equal(money_apply_rate(12345, 64000), 790);
	/* 6,000 MAD x 7.93% = 475.80 MAD exactly */
	assert_int_equal(money_apply_rate(600000, 79300), 47580);
	assert_int_equal(money_apply_rate(0, 64000), 0);
	assert_int_equal(money_apply_rate(12345, 0), 0);
	assert_int_equal(money_apply_rate(12345, PCT(100)), 12345);
}

static void test_apply_rate_exact_halves(void **state)
{
	(void)state;
	/* 50 x 1% = 0.5 exactly -> 1 (half up) */
	assert_int_equal(money_apply_rate(50, PCT(1)), 1);
	assert_int_equal(money_apply_rate(49, PCT(1)), 0);
	assert_int_equal(money_apply_rate(51, PCT(1)), 1);
	/* 250 x 1% = 2.5 -> 3: half up, not half to even (which gives 2) */
	assert_int_equal(money_apply_rate(250, PCT(1)), 3);
	/* 350 x 1% = 3.5 -> 4 */
	assert_int_equal(money_apply_rate(350, PCT(1)), 4);
	/* 1 x 50% = 0.5 -> 1 */
	assert_int_equal(money_apply_rate(1, 500000), 1);
	/* 1 x 49.9999% = 0.499999 -> 0: no early rounding of the rate */
	assert_int_equal(money_apply_rate(1, 499999), 0);
	/* 125 x 0.4% = 0.5 -> 1 */
	assert_int_equal(money_apply_rate(125, 4000), 1);
}

static void test_apply_rate_large(void **state)
{
	(void)state;
	/* 1e15 x 64000 = 6.4e19 overflows 64 bits; the answer must not */
	assert_int_equal(money_apply_rate(1000000000000000LL, 64000), 64000000000000LL);
	assert_int_equal(money_apply_rate(1000000000000000LL, 79300), 79300000000000LL);
	/* (3e15 + 50) x 1% = 3e13 + 0.5 -> rounds up, past 2^64 in between */
	assert_int_equal(money_apply_rate(3000000000000050LL, PCT(1)), 30000000000001LL);
	assert_int_equal(money_apply_rate(3000000000000049LL, PCT(1)), 30000000000000LL);
	/* the whole int64 range at 100% and just under it */
	assert_int_equal(money_apply_rate(INT64_MAX, 1000000), INT64_MAX);
	assert_int_equal(money_apply_rate(INT64_MAX, 999999), 9223362813482738952LL);
	/* only a rate above 100% can overflow: saturates */
	assert_int_equal(money_apply_rate(INT64_MAX, 2000000), INT64_MAX);
}

static void test_apply_rate_negative_is_symmetric(void **state)
{
	(void)state;
	/* outside the contract, but defined: half away from zero */
	assert_int_equal(money_apply_rate(-250, PCT(1)), -3);
	assert_int_equal(money_apply_rate(-49, PCT(1)), 0);
	assert_int_equal(money_apply_rate(INT64_MIN, 1000000), INT64_MIN);
	assert_int_equal(money_apply_rate(INT64_MIN, 2000000), INT64_MIN);
}

static void test_format(void **state)
{
	char buf[MONEY_TEXT_MAX];

	(void)state;
	assert_string_equal(money_format(0, buf), "0.00");
	assert_string_equal(money_format(5, buf), "0.05");
	assert_string_equal(money_format(50, buf), "0.50");
	assert_string_equal(money_format(100, buf), "1.00");
	assert_string_equal(money_format(123456, buf), "1234.56");
	assert_string_equal(money_format(600000, buf), "6000.00");
	assert_string_equal(money_format(-1234, buf), "-12.34");
	assert_string_equal(money_format(-5, buf), "-0.05");
	assert_string_equal(money_format(INT64_MAX, buf), "92233720368547758.07");
	assert_string_equal(money_format(INT64_MIN, buf), "-92233720368547758.08");
	assert_ptr_equal(money_format(1, buf), buf);
}

static bool parse(const char *s, centimes *out)
{
	return money_parse(s, strlen(s), out);
}

static void test_parse_ok(void **state)
{
	static const struct {
		const char *s;
		centimes v;
	} cases[] = {
		{ "1234", 123400 }, { "1234.5", 123450 },  { "1234.56", 123456 },
		{ "0", 0 },         { "0.05", 5 },         { "0.5", 50 },
		{ "007", 700 },     { "6000.00", 600000 }, { "92233720368547758.07", INT64_MAX },
	};
	centimes v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = -1;
		if (!parse(cases[i].s, &v) || v != cases[i].v)
			fail_msg("money_parse(\"%s\") -> %lld", cases[i].s, (long long)v);
	}
	/* a view: "12.3" of "12.345" */
	assert_true(money_parse("12.345", 4, &v));
	assert_int_equal(v, 1230);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		".5",
		"5.",
		"1.234",
		"-1",
		"+1",
		"1,5",
		" 1",
		"1 ",
		"1.5a",
		"a",
		"1..5",
		"1.-5",
		"0x10",
		"92233720368547758.08", /* INT64_MAX + 1 */
		"92233720368547759", /* integer part too large */
		"99999999999999999999999",
	};
	centimes v = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &v))
			fail_msg("money_parse accepted \"%s\"", bad[i]);
	}
	assert_int_equal(v, 42);
	assert_false(money_parse("12", 0, &v));
}

static bool rate(const char *s, ppm *out)
{
	return rate_parse_percent(s, strlen(s), out);
}

static void test_rate_parse(void **state)
{
	static const struct {
		const char *s;
		ppm v;
	} cases[] = {
		{ "6.40", 64000 }, { "6.4", 64000 }, { "0.375", 3750 },  { "7.93", 79300 },       { "3.96", 39600 },
		{ "0", 0 },        { "0.0001", 1 },  { "100", 1000000 }, { "100.0000", 1000000 }, { "021.09", 210900 },
	};
	static const char *const bad[] = {
		"",
		".5",
		"5.",
		"-1",
		"+1",
		"6,40",
		"6.40%",
		"0.00001",
		"100.0001",
		"101",
		"1000000000000000000000",
		"6.4.0",
		" 6",
		"abc",
	};
	ppm v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 7;
		if (!rate(cases[i].s, &v) || v != cases[i].v)
			fail_msg("rate_parse_percent(\"%s\") -> %u", cases[i].s, v);
	}
	v = 7;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rate(bad[i], &v))
			fail_msg("rate_parse_percent accepted \"%s\"", bad[i]);
	}
	assert_int_equal(v, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_rate_examples),
		cmocka_unit_test(test_apply_rate_exact_halves),
		cmocka_unit_test(test_apply_rate_large),
		cmocka_unit_test(test_apply_rate_negative_is_symmetric),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_rate_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
