/* test_contrib.c - contributions of a declaration, worked by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/contrib.h"

/* The spec/rules.md table, so the arithmetic below does not move when
 * data/rules.txt gains entries; test_real_figures checks the real file. */
static const char spec_rules[] = "param ceiling 2002-01 600000\n"
				 "branch family            2002-01 real   6.40 0\n"
				 "branch short_term        2002-01 capped 1.05 0.52\n"
				 "branch long_term         2002-01 capped 7.93 3.96\n"
				 "branch health            2002-01 real   2.26 2.26\n"
				 "branch health_solidarity 2002-01 real   1.85 0\n"
				 "branch training          2002-01 real   1.60 0\n";

static int setup_rules(void **state)
{
	struct rules *r = malloc(sizeof(*r));
	struct rules_error err;

	if (!r || rules_parse(spec_rules, strlen(spec_rules), r, &err) != AMANA_OK) {
		free(r);
		return -1;
	}
	*state = r;
	return 0;
}

static int teardown_rules(void **state)
{
	free(*state);
	return 0;
}

struct expect {
	centimes employer, employee;
};

static void check(const struct contributions *c, const struct expect want[BRANCH_COUNT], centimes total_employer,
		  centimes total_employee)
{
	for (unsigned b = 0; b < BRANCH_COUNT; b++) {
		const struct contribution_line *l = &c->branches[b];
		assert_int_equal(l->branch, b);
		if (l->employer != want[b].employer || l->employee != want[b].employee)
			fail_msg("%s: got %lld/%lld, want %lld/%lld", branch_name((enum branch)b),
				 (long long)l->employer, (long long)l->employee, (long long)want[b].employer,
				 (long long)want[b].employee);
	}
	assert_int_equal(c->total_employer, total_employer);
	assert_int_equal(c->total_employee, total_employee);
}

/* 4,000 MAD, under the ceiling: capped = real, every branch on 4,000. */
static void test_one_employee_4000(void **state)
{
	static const struct expect want[BRANCH_COUNT] = {
		[BRANCH_FAMILY] = { 25600, 0 }, /* 6.40% = 256.00 */
		[BRANCH_SHORT_TERM] = { 4200, 2080 }, /* 1.05% = 42.00, 0.52% = 20.80 */
		[BRANCH_LONG_TERM] = { 31720, 15840 }, /* 7.93% = 317.20, 3.96% = 158.40 */
		[BRANCH_HEALTH] = { 9040, 9040 }, /* 2.26% = 90.40 */
		[BRANCH_HEALTH_SOLIDARITY] = { 7400, 0 }, /* 1.85% = 74.00 */
		[BRANCH_TRAINING] = { 6400, 0 }, /* 1.60% = 64.00 */
	};
	const struct rules *r = *state;
	struct contributions c;
	centimes capped;

	assert_int_equal(capped_salary(r, 202501, 400000, &capped), AMANA_OK);
	assert_int_equal(capped, 400000);
	assert_int_equal(contributions_compute(r, 202501, 400000, capped, &c), AMANA_OK);
	assert_int_equal(c.period, 202501);
	assert_int_equal(c.real_salaries, 400000);
	assert_int_equal(c.capped_salaries, 400000);
	for (unsigned b = 0; b < BRANCH_COUNT; b++)
		assert_int_equal(c.branches[b].base, 400000);
	/* 843.60 = 21.09% of 4,000; 269.60 = 6.74% of 4,000 */
	check(&c, want, 84360, 26960);
}

/* 10,000 MAD: the capped branches stop at 6,000, the others take 10,000. */
static void test_one_employee_10000(void **state)
{
	static const struct expect want[BRANCH_COUNT] = {
		[BRANCH_FAMILY] = { 64000, 0 }, /* 10,000 x 6.40% = 640.00 */
		[BRANCH_SHORT_TERM] = { 6300, 3120 }, /* 6,000 x 1.05% = 63.00, x 0.52% = 31.20 */
		[BRANCH_LONG_TERM] = { 47580, 23760 }, /* 6,000 x 7.93% = 475.80, x 3.96% = 237.60 */
		[BRANCH_HEALTH] = { 22600, 22600 }, /* 10,000 x 2.26% = 226.00 */
		[BRANCH_HEALTH_SOLIDARITY] = { 18500, 0 }, /* 10,000 x 1.85% = 185.00 */
		[BRANCH_TRAINING] = { 16000, 0 }, /* 10,000 x 1.60% = 160.00 */
	};
	const struct rules *r = *state;
	struct contributions c;
	centimes capped;

	assert_int_equal(capped_salary(r, 202501, 1000000, &capped), AMANA_OK);
	assert_int_equal(capped, 600000);
	assert_int_equal(contributions_compute(r, 202501, 1000000, capped, &c), AMANA_OK);
	assert_int_equal(c.branches[BRANCH_LONG_TERM].base, 600000);
	assert_int_equal(c.branches[BRANCH_SHORT_TERM].base, 600000);
	assert_int_equal(c.branches[BRANCH_FAMILY].base, 1000000);
	assert_int_equal(c.branches[BRANCH_LONG_TERM].employer_rate, 79300);
	/* employer 12.11% x 10,000 + 8.98% x 6,000 = 1,211.00 + 538.80;
	 * employee 2.26% x 10,000 + 4.48% x 6,000 = 226.00 + 268.80 */
	check(&c, want, 174980, 49480);
}

/*
 * Three employees whose salaries are each 100 mod 125 centimes, so each one's
 * family share ends in .4 centime: rounded line by line they lose 1.2
 * centimes, rounded once on the sum only 0.2. Other branches drift too,
 * some up, some down. The declaration owes the sum rounded once.
 */
static void test_three_employees_round_once(void **state)
{
	static const centimes salaries[3] = { 300100, 350100, 400100 };
	static const struct expect want[BRANCH_COUNT] = {
		[BRANCH_FAMILY] = { 67219, 0 }, /* 1,050,300 x 6.40% = 67,219.2 */
		[BRANCH_SHORT_TERM] = { 11028, 5462 }, /* 11,028.15 and 5,461.56 */
		[BRANCH_LONG_TERM] = { 83289, 41592 }, /* 83,288.79 and 41,591.88 */
		[BRANCH_HEALTH] = { 23737, 23737 }, /* 23,736.78 */
		[BRANCH_HEALTH_SOLIDARITY] = { 19431, 0 }, /* 19,430.55 */
		[BRANCH_TRAINING] = { 16805, 0 }, /* 16,804.8 */
	};
	/* what rounding each line first would give (each line's base) */
	static const struct expect per_line[BRANCH_COUNT] = {
		[BRANCH_FAMILY] = { 67218, 0 }, /* 19,206 + 22,406 + 25,606 */
		[BRANCH_SHORT_TERM] = { 11028, 5463 }, [BRANCH_LONG_TERM] = { 83289, 41592 },
		[BRANCH_HEALTH] = { 23736, 23736 },    [BRANCH_HEALTH_SOLIDARITY] = { 19431, 0 },
		[BRANCH_TRAINING] = { 16806, 0 },
	};
	const struct rules *r = *state;
	struct contributions c;
	centimes real = 0, capped_sum = 0;
	unsigned differing = 0;

	for (int i = 0; i < 3; i++) {
		centimes capped;
		assert_int_equal(capped_salary(r, 202501, salaries[i], &capped), AMANA_OK);
		real += salaries[i];
		capped_sum += capped;
	}
	assert_int_equal(real, 1050300);
	assert_int_equal(capped_sum, 1050300);
	assert_int_equal(contributions_compute(r, 202501, real, capped_sum, &c), AMANA_OK);
	check(&c, want, 221509, 70791);

	/* Show that per-line rounding really would differ, with the same rates. */
	for (unsigned b = 0; b < BRANCH_COUNT; b++) {
		centimes er = 0, ee = 0;
		for (int i = 0; i < 3; i++) {
			er += money_apply_rate(salaries[i], c.branches[b].employer_rate);
			ee += money_apply_rate(salaries[i], c.branches[b].employee_rate);
		}
		assert_int_equal(er, per_line[b].employer);
		assert_int_equal(ee, per_line[b].employee);
		differing += (unsigned)(er != c.branches[b].employer) + (unsigned)(ee != c.branches[b].employee);
	}
	assert_int_equal(differing, 5); /* family, short_term ee, health x2, training */
}

static void test_capped_salary(void **state)
{
	const struct rules *r = *state;
	centimes v = 1;

	assert_int_equal(capped_salary(r, 202501, 600000, &v), AMANA_OK);
	assert_int_equal(v, 600000); /* at */
	assert_int_equal(capped_salary(r, 202501, 599999, &v), AMANA_OK);
	assert_int_equal(v, 599999); /* below */
	assert_int_equal(capped_salary(r, 202501, 600001, &v), AMANA_OK);
	assert_int_equal(v, 600000); /* above */
	assert_int_equal(capped_salary(r, 202501, 0, &v), AMANA_OK);
	assert_int_equal(v, 0);
	assert_int_equal(capped_salary(r, 202501, INT64_MAX, &v), AMANA_OK);
	assert_int_equal(v, 600000);
	v = 7;
	assert_int_equal(capped_salary(r, 202501, -1, &v), AMANA_ERR_USAGE);
	assert_int_equal(capped_salary(r, 200112, 400000, &v), AMANA_ERR_NOTFOUND);
	assert_int_equal(v, 7);
}

/* Amounts follow the rule in force for the period: a change at 2026-01. */
static void test_rate_change_applies_by_period(void **state)
{
	static const char text[] = "param ceiling 2002-01 600000\n"
				   "param ceiling 2026-01 700000\n"
				   "branch family            2002-01 real   6.40 0\n"
				   "branch short_term        2002-01 capped 1.05 0.52\n"
				   "branch long_term         2002-01 capped 7.93 3.96\n"
				   "branch long_term         2026-01 capped 8.50 4.25\n"
				   "branch health            2002-01 real   2.26 2.26\n"
				   "branch health_solidarity 2002-01 real   1.85 0\n"
				   "branch training          2002-01 real   1.60 0\n";
	struct rules *r = malloc(sizeof(*r));
	struct rules_error err;
	struct contributions c;
	centimes capped;

	(void)state;
	assert_non_null(r);
	assert_int_equal(rules_parse(text, strlen(text), r, &err), AMANA_OK);

	assert_int_equal(capped_salary(r, 202512, 1000000, &capped), AMANA_OK);
	assert_int_equal(capped, 600000);
	assert_int_equal(contributions_compute(r, 202512, 1000000, capped, &c), AMANA_OK);
	assert_int_equal(c.branches[BRANCH_LONG_TERM].employer, 47580); /* 6,000 x 7.93% */

	assert_int_equal(capped_salary(r, 202601, 1000000, &capped), AMANA_OK);
	assert_int_equal(capped, 700000);
	assert_int_equal(contributions_compute(r, 202601, 1000000, capped, &c), AMANA_OK);
	assert_int_equal(c.branches[BRANCH_LONG_TERM].employer, 59500); /* 7,000 x 8.50% */
	assert_int_equal(c.branches[BRANCH_LONG_TERM].employee, 29750); /* 7,000 x 4.25% */
	assert_int_equal(c.branches[BRANCH_SHORT_TERM].employer, 7350); /* 7,000 x 1.05% */
	free(r);
}

static void test_errors(void **state)
{
	const struct rules *r = *state;
	struct rules *partial = malloc(sizeof(*partial));
	struct rules *huge = malloc(sizeof(*huge));
	struct rules_error err;
	struct contributions c;
	static const char no_training[] = "branch family            2002-01 real   6.40 0\n"
					  "branch short_term        2002-01 capped 1.05 0.52\n"
					  "branch long_term         2002-01 capped 7.93 3.96\n"
					  "branch health            2002-01 real   2.26 2.26\n"
					  "branch health_solidarity 2002-01 real   1.85 0\n";
	static const char all_100[] = "branch family            2002-01 real   100 100\n"
				      "branch short_term        2002-01 real   100 100\n"
				      "branch long_term         2002-01 real   100 100\n"
				      "branch health            2002-01 real   100 100\n"
				      "branch health_solidarity 2002-01 real   100 100\n"
				      "branch training          2002-01 real   100 100\n";

	assert_non_null(partial);
	assert_non_null(huge);
	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(contributions_compute(r, 202501, -1, 0, &c), AMANA_ERR_USAGE);
	assert_int_equal(c.total_employer, 0); /* zeroed, not garbage */
	assert_int_equal(contributions_compute(r, 202501, 0, -1, &c), AMANA_ERR_USAGE);
	/* before any rule */
	assert_int_equal(contributions_compute(r, 200112, 100, 100, &c), AMANA_ERR_NOTFOUND);
	/* a branch missing */
	assert_int_equal(rules_parse(no_training, strlen(no_training), partial, &err), AMANA_OK);
	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(contributions_compute(partial, 202501, 100, 100, &c), AMANA_ERR_NOTFOUND);
	assert_int_equal(c.branches[BRANCH_FAMILY].employer, 0);
	/* totals that would wrap */
	assert_int_equal(rules_parse(all_100, strlen(all_100), huge, &err), AMANA_OK);
	assert_int_equal(contributions_compute(huge, 202501, INT64_MAX / 2, 0, &c), AMANA_ERR_LIMIT);
	assert_int_equal(contributions_compute(huge, 202501, INT64_MAX / 6, 0, &c), AMANA_OK);
	/* zero salaries owe nothing */
	assert_int_equal(contributions_compute(r, 202501, 0, 0, &c), AMANA_OK);
	assert_int_equal(c.total_employer, 0);
	assert_int_equal(c.total_employee, 0);
	free(partial);
	free(huge);
}

/* The real data file: the totals come out as the spec's 21.09% and 6.74%. */
static void test_real_figures(void **state)
{
	const char *path = SOURCE_ROOT "/data/rules.txt";
	struct rules *r = malloc(sizeof(*r));
	struct rules_error err;
	struct contributions c;
	char buf[1 << 16];
	size_t n;
	FILE *f = fopen(path, "rb");
	enum amana_err result;

	(void)state;
	assert_non_null(r);
	if (!f)
		fail_msg("cannot open %s", path);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_true(n > 0 && n < sizeof(buf));
	result = rules_parse(buf, n, r, &err);
	if (result)
		fail_msg("data/rules.txt line %u: %s", err.line, err.message);

	/* under the ceiling every branch sees the same base */
	assert_int_equal(contributions_compute(r, 202501, 100000000, 100000000, &c), AMANA_OK);
	assert_int_equal(c.total_employer, 21090000); /* 21.09% of 1,000,000 MAD */
	assert_int_equal(c.total_employee, 6740000); /* 6.74% */
	/* 10,000 MAD as in the hand-worked case */
	assert_int_equal(contributions_compute(r, 202501, 1000000, 600000, &c), AMANA_OK);
	assert_int_equal(c.total_employer, 174980);
	assert_int_equal(c.total_employee, 49480);
	assert_int_equal(c.branches[BRANCH_LONG_TERM].employer, 47580);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_employee_4000, setup_rules, teardown_rules),
		cmocka_unit_test_setup_teardown(test_one_employee_10000, setup_rules, teardown_rules),
		cmocka_unit_test_setup_teardown(test_three_employees_round_once, setup_rules, teardown_rules),
		cmocka_unit_test_setup_teardown(test_capped_salary, setup_rules, teardown_rules),
		cmocka_unit_test(test_rate_change_applies_by_period),
		cmocka_unit_test_setup_teardown(test_errors, setup_rules, teardown_rules),
		cmocka_unit_test(test_real_figures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
