/*
 * test_rights.c - careers and rights (core/career.c, core/rights.c) on
 * worked examples computed by hand from spec/rules.md, with the real
 * data/rules.txt; small synthetic rules texts for dated changes.
 *
 * Unless a test says otherwise, a right is claimed at 2025-06-15: its
 * period is 2025-06, "the last 6 months" are 2024-12 .. 2025-05, SMIG is
 * 3,266.10 MAD (326610) and the ceiling 6,000 MAD (600000).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/career.h"
#include "core/rights.h"

#ifndef SOURCE_ROOT
#error "SOURCE_ROOT must name the source tree"
#endif

#define AT 20250615u
#define AT_PERIOD 202506u
#define MAD(x) ((centimes)(x)*100)
#define LINES_MAX 2048

/* ---- fixtures ---- */

static char *rules_text; /* data/rules.txt */
static size_t rules_len;
static struct rules *real; /* parsed from it */

/* core does no I/O, so the test reads the file itself (as test_rules.c). */
static char *read_rules_file(size_t *len)
{
	const char *path = SOURCE_ROOT "/data/rules.txt";
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n;
	char *buf;

	if (!f)
		fail_msg("cannot open %s", path);
	buf = malloc(cap);
	assert_non_null(buf);
	n = fread(buf, 1, cap, f);
	assert_false(ferror(f));
	assert_true(n < cap); /* the whole file fits */
	fclose(f);
	*len = n;
	return buf;
}

/* The real text with extra lines appended: a decree arriving later. */
static struct rules *rules_with(const char *extra)
{
	struct rules *r = malloc(sizeof(*r));
	size_t extra_len = strlen(extra);
	char *text = malloc(rules_len + 1 + extra_len);
	struct rules_error err;

	assert_non_null(r);
	assert_non_null(text);
	memcpy(text, rules_text, rules_len);
	text[rules_len] = '\n';
	memcpy(text + rules_len + 1, extra, extra_len);
	if (rules_parse(text, rules_len + 1 + extra_len, r, &err))
		fail_msg("rules line %u: %s", err.line, err.message);
	free(text);
	return r;
}

static struct rules *rules_from(const char *text)
{
	struct rules *r = malloc(sizeof(*r));
	struct rules_error err;

	assert_non_null(r);
	if (rules_parse(text, strlen(text), r, &err))
		fail_msg("rules line %u: %s", err.line, err.message);
	return r;
}

static int setup(void **state)
{
	struct rules_error err;

	(void)state;
	rules_text = read_rules_file(&rules_len);
	real = malloc(sizeof(*real));
	assert_non_null(real);
	if (rules_parse(rules_text, rules_len, real, &err))
		fail_msg("data/rules.txt line %u: %s", err.line, err.message);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(real);
	free(rules_text);
	return 0;
}

/* Declaration lines of one person, built up by a test. */
struct lines {
	struct career_line line[LINES_MAX];
	size_t n;
};

static struct lines *lines_new(void)
{
	struct lines *l = calloc(1, sizeof(*l));

	assert_non_null(l);
	return l;
}

static void add(struct lines *l, uint32_t period, int64_t employer, unsigned days, centimes salary)
{
	assert_true(l->n < LINES_MAX);
	l->line[l->n++] =
	    (struct career_line){ .period = period, .employer_id = employer, .days = days, .salary = salary };
}

/* `days` days going back from the month before `end`: full months of 26,
 * then the remainder in the month before them; `salary` every month. */
static void add_days(struct lines *l, uint32_t end, unsigned days, centimes salary)
{
	uint32_t p = end;

	while (days > 0) {
		unsigned d = days >= 26 ? 26 : days;
		p = period_add(p, -1);
		add(l, p, 1, d, salary);
		days -= d;
	}
}

static struct career *build(const struct rules *r, const struct lines *l)
{
	struct career *c = malloc(sizeof(*c));

	assert_non_null(c);
	assert_int_equal(career_build(r, l->line, l->n, c), AMANA_OK);
	return c;
}

/* A career of `days` days ending the month before `end`, `salary` a month. */
static struct career *career_of(uint32_t end, unsigned days, centimes salary)
{
	struct lines *l = lines_new();
	struct career *c;

	add_days(l, end, days, salary);
	c = build(real, l);
	free(l);
	return c;
}

static void expect(const struct right_result *res, bool eligible, const char *rule, centimes amount)
{
	if (res->eligible != eligible || strcmp(res->rule, rule) != 0 || res->amount != amount)
		fail_msg("got eligible %d rule %s amount %lld (%s), want %d %s %lld", res->eligible, res->rule,
			 (long long)res->amount, res->reason, eligible, rule, (long long)amount);
	assert_true(res->reason[0] != '\0');
}

/* ---- career ---- */

static void test_career_two_employers(void **state)
{
	struct lines *l = lines_new();
	struct career *c;

	(void)state;
	/* Given out of order; 2025-03 has two employers: 20 + 15 = 35 days
	 * declared, capped at 26; salary 4,000 + 3,000 = 7,000 MAD real,
	 * min(7,000, 6,000) = 6,000 MAD capped. */
	add(l, 202503, 11, 20, MAD(4000));
	add(l, 202401, 11, 26, MAD(2500));
	add(l, 202503, 22, 15, MAD(3000));
	add(l, 202412, 11, 10, 0); /* days without salary */
	add(l, 202502, 22, 26, MAD(6000));
	c = build(real, l);

	assert_int_equal(c->month_count, 4);
	assert_int_equal(c->months[0].period, 202401);
	assert_int_equal(c->months[1].period, 202412);
	assert_int_equal(c->months[2].period, 202502);
	assert_int_equal(c->months[3].period, 202503);
	assert_int_equal(c->months[3].declared_days, 35);
	assert_int_equal(c->months[3].days, 26);
	assert_int_equal(c->months[3].employers, 2);
	assert_int_equal(c->months[3].salary, 700000);
	assert_int_equal(c->months[3].capped_salary, 600000);
	/* exactly at the ceiling: unchanged */
	assert_int_equal(c->months[2].capped_salary, 600000);
	assert_int_equal(c->months[0].capped_salary, 250000);
	/* 26 + 10 + 26 + 26 = 88 days; 3 months with a salary */
	assert_int_equal(c->total_days, 88);
	assert_int_equal(c->months_with_salary, 3);
	/* per year: 2024 = 26 + 10 = 36, 2025 = 52 */
	assert_int_equal(c->year_count, 2);
	assert_int_equal(c->years[0].year, 2024);
	assert_int_equal(c->years[0].days, 36);
	assert_int_equal(c->years[1].year, 2025);
	assert_int_equal(c->years[1].days, 52);
	free(c);
	free(l);
}

static void test_career_windows(void **state)
{
	struct lines *l = lines_new();
	struct career *c;
	unsigned n;

	(void)state;
	/* 2024-11: 5 days 1,000 MAD; 2024-12: 7 days 2,000; 2025-05: 11 days
	 * 3,001 MAD; 2025-06: 13 days (the month of the date: never counted). */
	add(l, 202411, 1, 5, MAD(1000));
	add(l, 202412, 1, 7, MAD(2000));
	add(l, 202505, 1, 11, 300100);
	add(l, 202506, 1, 13, MAD(9000));
	c = build(real, l);

	/* the 6 months before 2025-06: 2024-12 .. 2025-05 = 7 + 11 */
	assert_int_equal(career_days_before(c, AT_PERIOD, 6), 18);
	/* 7 months reach 2024-11: + 5 */
	assert_int_equal(career_days_before(c, AT_PERIOD, 7), 23);
	assert_int_equal(career_days_before(c, AT_PERIOD, 1), 11);
	assert_int_equal(career_days_before(c, AT_PERIOD, 0), 0);
	assert_int_equal(career_days_until(c, AT_PERIOD), 23);
	assert_int_equal(career_days_until(c, 202507), 36);
	/* average over the months with a salary: (200000 + 300100) / 2 = 250050 */
	assert_int_equal(career_average_before(c, AT_PERIOD, 6, false, &n), 250050);
	assert_int_equal(n, 2);
	/* (100000 + 200000 + 300100) / 3 = 200033.33 -> 200033 */
	assert_int_equal(career_average_before(c, AT_PERIOD, 7, true, &n), 200033);
	assert_int_equal(n, 3);
	/* 2025-06 with 9,000 MAD capped at 6,000: (300100 + 600000) / 2 =
	 * 450050 (last 2 declared months before 2025-07) */
	assert_int_equal(career_average_last_declared(c, 202507, 2, &n), 450050);
	assert_int_equal(n, 2);
	/* asking for 96 with only 3 before 2025-06: their average */
	assert_int_equal(career_average_last_declared(c, AT_PERIOD, 96, &n), 200033);
	assert_int_equal(n, 3);
	/* nothing in the window */
	assert_int_equal(career_average_before(c, 202411, 6, true, &n), 0);
	assert_int_equal(n, 0);
	/* half a centime rounds up: (1 + 2) / 2 = 1.5 -> 2 */
	free(c);
	l->n = 0;
	add(l, 202401, 1, 1, 1);
	add(l, 202402, 1, 1, 2);
	c = build(real, l);
	assert_int_equal(career_average_before(c, 202403, 2, false, NULL), 2);

	assert_int_equal(period_add(202501, -1), 202412);
	assert_int_equal(period_add(202412, 1), 202501);
	assert_int_equal(period_add(202506, -36), 202206);
	assert_int_equal(period_add(190001, -5), 190001); /* clamped */
	free(c);
	free(l);
}

static void test_career_errors(void **state)
{
	struct lines *l = lines_new();
	struct career *c = malloc(sizeof(*c));

	(void)state;
	assert_non_null(c);
	/* empty career */
	assert_int_equal(career_build(real, NULL, 0, c), AMANA_OK);
	assert_int_equal(c->month_count, 0);
	assert_int_equal(career_build(real, NULL, 1, c), AMANA_ERR_USAGE);

	add(l, 202513, 1, 1, 1);
	assert_int_equal(career_build(real, l->line, l->n, c), AMANA_ERR_INPUT);
	l->n = 0;
	add(l, 202501, 1, 1, -1);
	assert_int_equal(career_build(real, l->line, l->n, c), AMANA_ERR_INPUT);
	l->n = 0;
	add(l, 202501, 1, 32, 1);
	assert_int_equal(career_build(real, l->line, l->n, c), AMANA_ERR_INPUT);
	assert_int_equal(c->month_count, 0); /* left zeroed */

	/* 80 years: 2002-01 .. 2081-12 is 960 months, fine; one more is not */
	l->n = 0;
	add(l, 208112, 1, 1, 1);
	add(l, 200201, 1, 1, 1);
	assert_int_equal(career_build(real, l->line, l->n, c), AMANA_OK);
	assert_int_equal(c->month_count, 2);
	assert_int_equal(c->year_count, 2);
	add(l, 208201, 1, 1, 1);
	assert_int_equal(career_build(real, l->line, l->n, c), AMANA_ERR_LIMIT);
	assert_int_equal(c->month_count, 0);

	/* a month before the first ceiling of data/rules.txt (2002-01) */
	l->n = 0;
	add(l, 200112, 1, 1, 1);
	assert_int_equal(career_build(real, l->line, l->n, c), AMANA_ERR_NOTFOUND);

	/* salaries that would overflow a month's sum */
	l->n = 0;
	add(l, 202501, 1, 1, INT64_MAX);
	add(l, 202501, 2, 1, 1);
	assert_int_equal(career_build(real, l->line, l->n, c), AMANA_ERR_LIMIT);
	free(c);
	free(l);
}

/* The day cap is the one of each month's own period. */
static void test_career_dated_day_cap(void **state)
{
	struct rules *r = rules_with("param max_days_per_month 2030-01 30\n");
	struct lines *l = lines_new();
	struct career *c;

	(void)state;
	/* 20 + 10 = 30 days in each month: capped at 26 in 2029-12, at 30 from 2030-01 */
	add(l, 202912, 1, 20, MAD(1000));
	add(l, 202912, 2, 10, MAD(1000));
	add(l, 203001, 1, 20, MAD(1000));
	add(l, 203001, 2, 10, MAD(1000));
	c = build(r, l);
	assert_int_equal(c->months[0].days, 26);
	assert_int_equal(c->months[1].days, 30);
	assert_int_equal(c->total_days, 56);
	free(c);
	free(l);
	free(r);
}

/* ---- old-age pension ---- */

/* Born 1970-01-01, 60 on 2030-01-01, claiming on 2030-06-15 (period
 * 2030-06; the decree 2.25.265 applies: claim after 2025-05-01, retired
 * after 2023-01-01). */
#define PENSION_BIRTH 19700101u
#define PENSION_AT 20300615u
#define PENSION_END 203006u

struct pension_case {
	unsigned days;
	centimes salary;
	const char *rule;
	centimes amount;
	ppm rate;
};

static void test_pension_thresholds(void **state)
{
	/* Salary 5,000 MAD every month (under the ceiling), so the reference
	 * salary (average of the last 96 declared months) is 500000 whenever
	 * the career has at least one month. */
	static const struct pension_case cases[] = {
		/* classic: 3,240 days = 50%; x 500000 = 250000 */
		{ 3240, MAD(5000), RIGHT_PENSION_CLASSIC, 250000, 500000 },
		/* 3,455 - 3,240 = 215 < 216: no full step, still 50% */
		{ 3455, MAD(5000), RIGHT_PENSION_CLASSIC, 250000, 500000 },
		/* 3,456 - 3,240 = 216: one step, 51% x 500000 = 255000 */
		{ 3456, MAD(5000), RIGHT_PENSION_CLASSIC, 255000, 510000 },
		/* 7,559 - 3,240 = 4,319 = 19 x 216 + 215: 69% = 345000 */
		{ 7559, MAD(5000), RIGHT_PENSION_CLASSIC, 345000, 690000 },
		/* 7,560 - 3,240 = 4,320 = 20 x 216: 70% = 350000 */
		{ 7560, MAD(5000), RIGHT_PENSION_CLASSIC, 350000, 700000 },
		/* 8,000 - 3,240 = 4,760 = 22 x 216 + 8: 72%, capped at 70% */
		{ 8000, MAD(5000), RIGHT_PENSION_CLASSIC, 350000, 700000 },
		/* ceiling: 8,000 MAD a month is capped at 6,000; 50% = 300000 */
		{ 3240, MAD(8000), RIGHT_PENSION_CLASSIC, 300000, 500000 },
		/* minimum: 50% of 1,500 MAD = 750 MAD, raised to 1,000 MAD */
		{ 3240, MAD(1500), RIGHT_PENSION_CLASSIC, 100000, 500000 },
		/* 50% of 1,999.99 = 999.995 -> 1,000.00 (half up): the minimum
		 * exactly, not raised */
		{ 3240, 199999, RIGHT_PENSION_CLASSIC, 100000, 500000 },
		/* 50% of 2,100 MAD = 1,050 MAD, above the minimum */
		{ 3240, MAD(2100), RIGHT_PENSION_CLASSIC, 105000, 500000 },
		/* under 3,240: the flat tiers of decree 2.25.265 */
		{ 3239, MAD(5000), RIGHT_PENSION_FLAT, 100000, 0 },
		{ 2857, MAD(5000), RIGHT_PENSION_FLAT, 100000, 0 },
		{ 2856, MAD(5000), RIGHT_PENSION_FLAT, 90000, 0 },
		{ 2473, MAD(5000), RIGHT_PENSION_FLAT, 90000, 0 },
		{ 2472, MAD(5000), RIGHT_PENSION_FLAT, 80000, 0 },
		{ 2089, MAD(5000), RIGHT_PENSION_FLAT, 80000, 0 },
		{ 2088, MAD(5000), RIGHT_PENSION_FLAT, 70000, 0 },
		{ 1705, MAD(5000), RIGHT_PENSION_FLAT, 70000, 0 },
		{ 1704, MAD(5000), RIGHT_PENSION_FLAT, 60000, 0 },
		{ 1320, MAD(5000), RIGHT_PENSION_FLAT, 60000, 0 },
		/* 1,319 days = 50 x 26 + 19: 51 months of 5,000 MAD; a month
		 * refunds 500000 x 7.93% = 39650 + 500000 x 3.96% = 19800 =
		 * 59450; x 51 = 3031950 */
		{ 1319, MAD(5000), RIGHT_PENSION_REFUND, 3031950, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pension_case *k = &cases[i];
		struct career *c = career_of(PENSION_END, k->days, k->salary);
		struct right_result res;

		assert_int_equal(c->total_days, k->days);
		assert_int_equal(rights_pension(real, c, PENSION_BIRTH, PENSION_AT, &res), AMANA_OK);
		if (res.amount != k->amount || strcmp(res.rule, k->rule) != 0 || !res.eligible || res.rate != k->rate)
			fail_msg("case %zu (%u days): got %s %lld rate %u (%s), want %s %lld rate %u", i, k->days,
				 res.rule, (long long)res.amount, res.rate, res.reason, k->rule, (long long)k->amount,
				 k->rate);
		assert_int_equal(res.days_found, k->days);
		assert_int_equal(res.unit,
				 strcmp(k->rule, RIGHT_PENSION_REFUND) == 0 ? RIGHT_UNIT_TOTAL : RIGHT_UNIT_PER_MONTH);
		free(c);
	}
}

static void test_pension_reference_salary(void **state)
{
	struct lines *l = lines_new();
	struct right_result res;
	struct career *c;
	uint32_t p = 202001;

	(void)state;
	/* 40 months of 10,000 MAD (capped: 6,000), 12 months with no
	 * declaration, then 90 months of 3,000 MAD; 130 x 26 = 3,380 days:
	 * 50%. The last 96 declared months are the 90 of 3,000 and 6 of the
	 * capped 6,000, the 12 empty months skipped:
	 * (90 x 300000 + 6 x 600000) / 96 = 30600000 / 96 = 318750;
	 * 50% = 159375. */
	for (unsigned i = 0; i < 40; i++, p = period_add(p, 1))
		add(l, p, 1, 26, MAD(10000));
	p = period_add(p, 12);
	for (unsigned i = 0; i < 90; i++, p = period_add(p, 1))
		add(l, p, 1, 26, MAD(3000));
	c = build(real, l);
	assert_int_equal(c->total_days, 3380);
	/* last month 2020-01 + 40 + 12 + 90 - 1 = 2031-10 */
	assert_int_equal(c->months[c->month_count - 1].period, 203110);
	assert_int_equal(rights_pension(real, c, 19700101, 20311115, &res), AMANA_OK);
	expect(&res, true, RIGHT_PENSION_CLASSIC, 159375);
	assert_int_equal(res.reference, 318750);
	free(c);
	free(l);
}

static void test_pension_age(void **state)
{
	struct career *c = career_of(202501, 3240, MAD(5000));
	struct right_result res;

	(void)state;
	/* born 1965-06-01: 60 on 2025-06-01 */
	assert_int_equal(rights_pension(real, c, 19650601, 20250531, &res), AMANA_OK);
	expect(&res, false, RIGHT_PENSION_AGE, 0);
	assert_non_null(strstr(res.reason, "2025-06-01"));
	assert_int_equal(rights_pension(real, c, 19650601, 20250601, &res), AMANA_OK);
	expect(&res, true, RIGHT_PENSION_CLASSIC, 250000);
	/* bad dates */
	assert_int_equal(rights_pension(real, c, 19650631, 20250601, &res), AMANA_ERR_USAGE);
	assert_string_equal(res.rule, RIGHT_RULE_ERROR);
	assert_false(res.eligible);
	assert_int_equal(rights_pension(real, c, 19650601, 20250229, &res), AMANA_ERR_USAGE);
	assert_int_equal(rights_pension(real, c, 20250602, 20250601, &res), AMANA_ERR_USAGE);
	assert_true(date_valid(20240229));
	assert_false(date_valid(21000229));
	assert_true(date_valid(20000229));
	free(c);
}

static void test_pension_decree_dates(void **state)
{
	/* 2,000 days = 76 x 26 + 24: 77 months of 3,000 MAD ending 2023-05.
	 * Flat: 1,705-2,088 days -> 700 MAD. Refund: a month is
	 * 300000 x 7.93% = 23790 + 300000 x 3.96% = 11880 = 35670; x 77 =
	 * 2746590. */
	struct career *c = career_of(202306, 2000, MAD(3000));
	struct right_result res;

	(void)state;
	/* born 1963-06-15, 60 on 2023-06-15 (after 2023-01-01) */
	assert_int_equal(rights_pension(real, c, 19630615, 20250430, &res), AMANA_OK);
	expect(&res, true, RIGHT_PENSION_REFUND, 2746590);
	assert_int_equal(res.total, 2746590);
	assert_int_equal(rights_pension(real, c, 19630615, 20250501, &res), AMANA_OK);
	expect(&res, true, RIGHT_PENSION_FLAT, 70000);
	/* retired on 2022-12-31 (born 1962-12-31): the decree does not apply */
	assert_int_equal(rights_pension(real, c, 19621231, 20250601, &res), AMANA_OK);
	expect(&res, true, RIGHT_PENSION_REFUND, 2746590);
	/* retired on 2023-01-01: it does */
	assert_int_equal(rights_pension(real, c, 19630101, 20250601, &res), AMANA_OK);
	expect(&res, true, RIGHT_PENSION_FLAT, 70000);
	/* 3,240 days: classic before and after the decree alike (50% of 3,000
	 * = 1,500 MAD) */
	free(c);
	c = career_of(202306, 3240, MAD(3000));
	assert_int_equal(rights_pension(real, c, 19630615, 20250430, &res), AMANA_OK);
	expect(&res, true, RIGHT_PENSION_CLASSIC, 150000);
	free(c);
}

static void test_pension_refund_rounding(void **state)
{
	struct lines *l = lines_new();
	struct right_result res;
	struct career *c;

	(void)state;
	/* Each side of each month rounded half up:
	 * 2024-01 50.00 MAD:   5000 x 7.93% = 396.5 -> 397; x 3.96% = 198
	 * 2024-02 50.00 MAD:   the same, 397 + 198
	 * 2024-03 12.50 MAD:   1250 x 7.93% = 99.125 -> 99; x 3.96% = 49.5 -> 50
	 * 2024-04 8,000 MAD capped 600000: 47580 + 23760
	 * 2024-05 no salary: 0
	 * total 595 + 595 + 149 + 71340 = 72679. Rounding the career's sum
	 * once instead: 611250 x 7.93% = 48472.125 -> 48472, x 3.96% =
	 * 24205.5 -> 24206, 72678: a centime apart. */
	add(l, 202401, 1, 1, 5000);
	add(l, 202402, 1, 1, 5000);
	add(l, 202403, 1, 1, 1250);
	add(l, 202404, 1, 26, MAD(8000));
	add(l, 202405, 1, 26, 0);
	c = build(real, l);
	assert_int_equal(rights_pension(real, c, 19640101, 20250101, &res), AMANA_OK);
	expect(&res, true, RIGHT_PENSION_REFUND, 72679);
	assert_int_equal(res.unit, RIGHT_UNIT_TOTAL);
	free(c);
	/* The two sides rounded apart: 1.06 MAD is 106 x 7.93% = 8.4058 -> 8
	 * plus 106 x 3.96% = 4.1976 -> 4 = 12 (both rates at once, 11.89%,
	 * would give 12.6034 -> 13). */
	l->n = 0;
	add(l, 202401, 1, 1, 106);
	c = build(real, l);
	assert_int_equal(rights_pension(real, c, 19640101, 20250101, &res), AMANA_OK);
	expect(&res, true, RIGHT_PENSION_REFUND, 12);
	free(c);
	/* nothing declared: nothing to refund */
	l->n = 0;
	c = build(real, l);
	assert_int_equal(rights_pension(real, c, 19640101, 20250101, &res), AMANA_OK);
	expect(&res, false, RIGHT_PENSION_REFUND, 0);
	free(c);
	free(l);
}

/* ---- family allowance ---- */

/* `days` days in the 6 months before 2025-06, `salary` a month. */
static struct career *family_career(unsigned days, centimes salary)
{
	return career_of(AT_PERIOD, days, salary);
}

static void test_family_count(void **state)
{
	static const struct {
		unsigned children;
		centimes amount;
	} cases[] = {
		{ 1, 30000 }, /* 300 */
		{ 3, 90000 }, /* 3 x 300 */
		{ 4, 93600 }, /* 3 x 300 + 36 */
		{ 6, 100800 }, /* 3 x 300 + 3 x 36 */
		{ 7, 100800 }, /* the 7th is not paid */
	};
	struct career *c = family_career(156, MAD(3000));
	struct right_result res;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(rights_family_allowance_count(real, c, AT, cases[i].children, &res), AMANA_OK);
		expect(&res, true, RIGHT_FAMILY_ALLOWANCE, cases[i].amount);
		assert_int_equal(res.unit, RIGHT_UNIT_PER_MONTH);
		/* the pre-filled list's schedule: the same amounts */
		centimes scheduled;
		assert_int_equal(rights_family_allowance_schedule(real, AT / 100, cases[i].children, &scheduled),
				 AMANA_OK);
		assert_int_equal(scheduled, cases[i].amount);
	}
	centimes none;
	assert_int_equal(rights_family_allowance_schedule(real, AT / 100, 0, &none), AMANA_OK);
	assert_int_equal(none, 0);
	/* 300 MAD for children 1-3 is dated 2019-07: no figure before it */
	assert_int_equal(rights_family_allowance_schedule(real, 201906, 2, &none), AMANA_ERR_NOTFOUND);
	assert_int_equal(rights_family_allowance_schedule(real, 201907, 2, &none), AMANA_OK);
	assert_int_equal(none, 60000);
	assert_int_equal(rights_family_allowance_schedule(real, 202513, 2, &none), AMANA_ERR_USAGE);
	assert_int_equal(rights_family_allowance_count(real, c, AT, 0, &res), AMANA_OK);
	expect(&res, false, RIGHT_FAMILY_NO_CHILD, 0);
	assert_int_equal(rights_family_allowance_count(real, c, AT, RIGHTS_MAX_CHILDREN + 1, &res), AMANA_ERR_LIMIT);
	free(c);
}

static void test_family_days_and_salary(void **state)
{
	struct right_result res;
	struct career *c;

	(void)state;
	/* 107 = 4 x 26 + 3 days in 2024-12 .. 2025-05: refused */
	c = family_career(107, MAD(3000));
	assert_int_equal(rights_family_allowance_count(real, c, AT, 2, &res), AMANA_OK);
	expect(&res, false, RIGHT_FAMILY_DAYS, 0);
	assert_int_equal(res.days_found, 107);
	assert_int_equal(res.days_needed, 108);
	assert_non_null(strstr(res.reason, "108 days needed in the last 6 months, 107 found"));
	free(c);
	/* 108 = 4 x 26 + 4: 2 x 300 MAD */
	c = family_career(108, MAD(3000));
	assert_int_equal(rights_family_allowance_count(real, c, AT, 2, &res), AMANA_OK);
	expect(&res, true, RIGHT_FAMILY_ALLOWANCE, 60000);
	free(c);
	/* 60% of SMIG 3,266.10 = 1,959.66 MAD: exactly that passes ... */
	c = family_career(156, 195966);
	assert_int_equal(rights_family_allowance_count(real, c, AT, 1, &res), AMANA_OK);
	expect(&res, true, RIGHT_FAMILY_ALLOWANCE, 30000);
	assert_int_equal(res.reference, 195966);
	free(c);
	/* ... a centime less does not */
	c = family_career(156, 195965);
	assert_int_equal(rights_family_allowance_count(real, c, AT, 1, &res), AMANA_OK);
	expect(&res, false, RIGHT_FAMILY_SALARY, 0);
	free(c);
	/* The 108 days as 26, 26, 26, 26, 4 days: 5 declared months of
	 * 2,000, 2,000, 2,000, 2,000 and 200 MAD: average 8200 / 5 = 1,640
	 * MAD < 1,959.66: refused (the average is over declared months). */
	{
		struct lines *l = lines_new();
		add(l, 202501, 1, 26, MAD(2000));
		add(l, 202502, 1, 26, MAD(2000));
		add(l, 202503, 1, 26, MAD(2000));
		add(l, 202504, 1, 26, MAD(2000));
		add(l, 202505, 1, 4, MAD(200));
		c = build(real, l);
		assert_int_equal(rights_family_allowance_count(real, c, AT, 1, &res), AMANA_OK);
		expect(&res, false, RIGHT_FAMILY_SALARY, 0);
		assert_int_equal(res.reference, 164000);
		free(c);
		free(l);
	}
}

static void test_family_children(void **state)
{
	struct career *c = family_career(156, MAD(3000));
	struct right_result res;
	centimes per[8];

	(void)state;
	/* At 2025-06-15. Plain children: 12 on 2025-06-15 if born 2013-06-15. */
	{
		const struct child k[] = { { 20130615, CHILD_PLAIN } }; /* 12 today: out */
		assert_int_equal(rights_family_allowance(real, c, AT, k, 1, per, &res), AMANA_OK);
		expect(&res, false, RIGHT_FAMILY_NO_CHILD, 0);
		assert_int_equal(per[0], 0);
	}
	{
		const struct child k[] = { { 20130616, CHILD_PLAIN } }; /* 11 until tomorrow */
		assert_int_equal(rights_family_allowance(real, c, AT, k, 1, per, &res), AMANA_OK);
		expect(&res, true, RIGHT_FAMILY_ALLOWANCE, 30000);
	}
	{
		/* student 21 today: out; student 20: in; apprentice 18: out;
		 * apprentice 17: in; disabled 35: in. Three in: 3 x 300 */
		const struct child k[] = {
			{ 20040615, CHILD_STUDENT },    { 20040616, CHILD_STUDENT },  { 20070615, CHILD_APPRENTICE },
			{ 20070616, CHILD_APPRENTICE }, { 19900101, CHILD_DISABLED },
		};
		assert_int_equal(rights_family_allowance(real, c, AT, k, 5, per, &res), AMANA_OK);
		expect(&res, true, RIGHT_FAMILY_ALLOWANCE, 90000);
		assert_int_equal(per[0], 0);
		assert_int_equal(per[1], 30000);
		assert_int_equal(per[2], 0);
		assert_int_equal(per[3], 30000);
		assert_int_equal(per[4], 30000);
	}
	{
		/* Ranked among the entitled, in birth order whatever the input
		 * order: A (born 2012, 13: out), then B 2014, C 2016, D 2018,
		 * E 2020 are ranks 1-4: B, C, D 300 MAD, E 36 MAD = 93600.
		 * (Ranking A too would make D and E 4th and 5th: 67200.) */
		const struct child k[] = {
			{ 20200101, CHILD_PLAIN }, /* E */
			{ 20120101, CHILD_PLAIN }, /* A */
			{ 20160501, CHILD_PLAIN }, /* C */
			{ 20140301, CHILD_PLAIN }, /* B */
			{ 20180101, CHILD_PLAIN }, /* D */
		};
		assert_int_equal(rights_family_allowance(real, c, AT, k, 5, per, &res), AMANA_OK);
		expect(&res, true, RIGHT_FAMILY_ALLOWANCE, 93600);
		assert_int_equal(per[0], 3600);
		assert_int_equal(per[1], 0);
		assert_int_equal(per[2], 30000);
		assert_int_equal(per[3], 30000);
		assert_int_equal(per[4], 30000);
	}
	{
		/* 7 entitled: ranks 1-3 300, 4-6 36, 7th nothing; a disabled
		 * adult is the eldest, rank 1. Twins keep the input order. */
		const struct child k[] = {
			{ 20240101, CHILD_PLAIN },    { 20230101, CHILD_PLAIN }, { 20220101, CHILD_PLAIN },
			{ 20220101, CHILD_PLAIN },    { 20200101, CHILD_PLAIN }, { 20180101, CHILD_PLAIN },
			{ 19950101, CHILD_DISABLED },
		};
		assert_int_equal(rights_family_allowance(real, c, AT, k, 7, per, &res), AMANA_OK);
		expect(&res, true, RIGHT_FAMILY_ALLOWANCE, 100800);
		assert_int_equal(per[6], 30000); /* rank 1 */
		assert_int_equal(per[5], 30000); /* 2 */
		assert_int_equal(per[4], 30000); /* 3 */
		assert_int_equal(per[2], 3600); /* 4, first twin */
		assert_int_equal(per[3], 3600); /* 5 */
		assert_int_equal(per[1], 3600); /* 6 */
		assert_int_equal(per[0], 0); /* 7 */
		/* per_child may be NULL */
		assert_int_equal(rights_family_allowance(real, c, AT, k, 7, NULL, &res), AMANA_OK);
		assert_int_equal(res.amount, 100800);
	}
	{
		const struct child k[] = { { 20250616, CHILD_PLAIN } }; /* not born yet */
		assert_int_equal(rights_family_allowance(real, c, AT, k, 1, per, &res), AMANA_ERR_USAGE);
		assert_int_equal(rights_family_allowance(real, c, AT, NULL, 1, per, &res), AMANA_ERR_USAGE);
		assert_int_equal(rights_family_allowance(real, c, AT, k, RIGHTS_MAX_CHILDREN + 1, NULL, &res),
				 AMANA_ERR_LIMIT);
	}
	free(c);
}

/* ---- sickness, maternity, AMO ---- */

static void test_days_54(void **state)
{
	struct right_result res;
	struct career *c;

	(void)state;
	/* 53 = 2 x 26 + 1 days in the last 6 months: AMO, sickness refused */
	c = family_career(53, MAD(6000));
	assert_int_equal(rights_amo(real, c, AT, &res), AMANA_OK);
	expect(&res, false, RIGHT_AMO_DAYS, 0);
	assert_non_null(strstr(res.reason, "54 days needed in the last 6 months, 53 found"));
	assert_int_equal(rights_sickness(real, c, AT, 10, 0, &res), AMANA_OK);
	expect(&res, false, RIGHT_SICKNESS_DAYS, 0);
	assert_int_equal(rights_maternity(real, c, AT, &res), AMANA_OK);
	expect(&res, false, RIGHT_MATERNITY_DAYS, 0);
	free(c);
	/* 54: all three granted */
	c = family_career(54, MAD(6000));
	assert_int_equal(rights_amo(real, c, AT, &res), AMANA_OK);
	expect(&res, true, RIGHT_AMO_COVER, 0);
	assert_int_equal(res.unit, RIGHT_UNIT_NONE);
	assert_int_equal(rights_sickness(real, c, AT, 10, 0, &res), AMANA_OK);
	assert_true(res.eligible);
	assert_int_equal(rights_maternity(real, c, AT, &res), AMANA_OK);
	assert_true(res.eligible);
	free(c);
	/* The days of the month of the date do not count: 26 + 26 days in
	 * 2025-04 and 2025-05 plus 26 in 2025-06 is 52. */
	{
		struct lines *l = lines_new();
		add(l, 202504, 1, 26, MAD(3000));
		add(l, 202505, 1, 26, MAD(3000));
		add(l, 202506, 1, 26, MAD(3000));
		c = build(real, l);
		assert_int_equal(rights_amo(real, c, AT, &res), AMANA_OK);
		expect(&res, false, RIGHT_AMO_DAYS, 0);
		assert_int_equal(res.days_found, 52);
		/* a month later they do */
		assert_int_equal(rights_amo(real, c, 20250701, &res), AMANA_OK);
		expect(&res, true, RIGHT_AMO_COVER, 0);
		free(c);
		free(l);
	}
}

static void test_sickness_amounts(void **state)
{
	struct right_result res;
	struct career *c;

	(void)state;
	/* 6 months of 6,000 MAD: monthly 600000, daily 600000 / 26 =
	 * 23076.92 -> 23077; 2/3 x 23077 = 15384.67 -> 15385 a day. */
	c = family_career(156, MAD(6000));
	/* 3 days: the waiting days, nothing paid */
	assert_int_equal(rights_sickness(real, c, AT, 3, 0, &res), AMANA_OK);
	expect(&res, false, RIGHT_SICKNESS_WAITING, 0);
	assert_int_equal(res.periods, 0);
	/* 4 days: the 4th is paid */
	assert_int_equal(rights_sickness(real, c, AT, 4, 0, &res), AMANA_OK);
	expect(&res, true, RIGHT_SICKNESS_DAILY, 15385);
	assert_int_equal(res.unit, RIGHT_UNIT_PER_DAY);
	assert_int_equal(res.reference, 23077);
	assert_int_equal(res.periods, 1);
	assert_int_equal(res.total, 15385);
	/* 10 days: 7 paid, 107695 */
	assert_int_equal(rights_sickness(real, c, AT, 10, 0, &res), AMANA_OK);
	assert_int_equal(res.periods, 7);
	assert_int_equal(res.total, 107695);
	/* 52 weeks: 360 already paid, 10 days asked: 7 payable, 4 left */
	assert_int_equal(rights_sickness(real, c, AT, 10, 360, &res), AMANA_OK);
	assert_int_equal(res.periods, 4);
	assert_int_equal(res.total, 61540);
	/* 363 paid, 4 days: the last one */
	assert_int_equal(rights_sickness(real, c, AT, 4, 363, &res), AMANA_OK);
	assert_int_equal(res.periods, 1);
	/* 364 paid: exhausted */
	assert_int_equal(rights_sickness(real, c, AT, 10, 364, &res), AMANA_OK);
	expect(&res, false, RIGHT_SICKNESS_EXHAUSTED, 0);
	/* 400 days, none paid before: 397 payable, 364 paid = 5600140 */
	assert_int_equal(rights_sickness(real, c, AT, 400, 0, &res), AMANA_OK);
	assert_int_equal(res.periods, 364);
	assert_int_equal(res.total, 5600140);
	free(c);

	/* salary above the ceiling: 8,000 MAD is 6,000 capped, same 15385 */
	c = family_career(156, MAD(8000));
	assert_int_equal(rights_sickness(real, c, AT, 4, 0, &res), AMANA_OK);
	expect(&res, true, RIGHT_SICKNESS_DAILY, 15385);
	free(c);

	/* 54 days = 26 + 26 + 2 in 2025-03 .. 2025-05 (the 2-day month first),
	 * 461.54, 6,000, 6,000 MAD: monthly (46154 + 600000 + 600000) / 3 =
	 * 415384.67 -> 415385; daily / 26 = 15976.35 -> 15976; 2/3 =
	 * 10650.67 -> 10651. */
	{
		struct lines *l = lines_new();
		add(l, 202503, 1, 2, 46154);
		add(l, 202504, 1, 26, MAD(6000));
		add(l, 202505, 1, 26, MAD(6000));
		c = build(real, l);
		assert_int_equal(rights_sickness(real, c, AT, 4, 0, &res), AMANA_OK);
		expect(&res, true, RIGHT_SICKNESS_DAILY, 10651);
		assert_int_equal(res.reference, 15976);
		free(c);
		free(l);
	}
}

static void test_maternity(void **state)
{
	struct right_result res;
	struct career *c;

	(void)state;
	/* 10 months of 6,000 MAD: daily 23077 (as sickness), 100%, x 98 =
	 * 2261546 */
	c = family_career(260, MAD(6000));
	assert_int_equal(rights_maternity(real, c, AT, &res), AMANA_OK);
	expect(&res, true, RIGHT_MATERNITY_DAILY, 23077);
	assert_int_equal(res.periods, 98);
	assert_int_equal(res.total, 2261546);
	free(c);
	/* 54 days in 2024-08 .. 2024-10: inside the 10 months (2024-08 ..
	 * 2025-05) but not the 6: maternity granted, on a salary of none in
	 * the last 6 months (amount 0); AMO refused. */
	{
		struct lines *l = lines_new();
		add(l, 202408, 1, 26, MAD(6000));
		add(l, 202409, 1, 26, MAD(6000));
		add(l, 202410, 1, 2, MAD(500));
		c = build(real, l);
		assert_int_equal(rights_maternity(real, c, AT, &res), AMANA_OK);
		expect(&res, true, RIGHT_MATERNITY_DAILY, 0);
		assert_int_equal(res.days_found, 54);
		assert_int_equal(rights_amo(real, c, AT, &res), AMANA_OK);
		expect(&res, false, RIGHT_AMO_DAYS, 0);
		/* one day less (the 2-day month a day shorter): refused */
		free(c);
		l->line[2].days = 1;
		c = build(real, l);
		assert_int_equal(rights_maternity(real, c, AT, &res), AMANA_OK);
		expect(&res, false, RIGHT_MATERNITY_DAYS, 0);
		/* 2024-07 is outside the 10 months */
		free(c);
		l->line[2].days = 2;
		l->line[0].period = 202407;
		c = build(real, l);
		assert_int_equal(rights_maternity(real, c, AT, &res), AMANA_OK);
		expect(&res, false, RIGHT_MATERNITY_DAYS, 0);
		assert_int_equal(res.days_found, 28);
		free(c);
		free(l);
	}
}

/* ---- job loss ---- */

static void test_job_loss(void **state)
{
	struct right_result res;
	struct career *c;
	struct lines *l = lines_new();

	(void)state;
	/* 780 = 30 x 26 days in 2022-12 .. 2025-05 (the 36 months are 2022-06
	 * .. 2025-05, the last 12 2024-06 .. 2025-05 hold 312). 70% of 3,000
	 * MAD = 2,100 MAD a month (under SMIG), for 6 months: 1260000. */
	c = career_of(AT_PERIOD, 780, MAD(3000));
	assert_int_equal(rights_job_loss(real, c, AT, &res), AMANA_OK);
	expect(&res, true, RIGHT_JOB_LOSS_MONTHLY, 210000);
	assert_int_equal(res.unit, RIGHT_UNIT_PER_MONTH);
	assert_int_equal(res.periods, 6);
	assert_int_equal(res.total, 1260000);
	free(c);
	/* 779 = 29 x 26 + 25 */
	c = career_of(AT_PERIOD, 779, MAD(3000));
	assert_int_equal(rights_job_loss(real, c, AT, &res), AMANA_OK);
	expect(&res, false, RIGHT_JOB_LOSS_DAYS, 0);
	assert_non_null(strstr(res.reason, "780 days needed in the last 36 months, 779 found"));
	free(c);
	/* 8,000 MAD a month: capped 6,000, 70% = 4,200 MAD > SMIG 3,266.10:
	 * 326610 a month, 1959660 for 6 */
	c = career_of(AT_PERIOD, 780, MAD(8000));
	assert_int_equal(rights_job_loss(real, c, AT, &res), AMANA_OK);
	expect(&res, true, RIGHT_JOB_LOSS_MONTHLY, 326610);
	assert_int_equal(res.total, 1959660);
	free(c);

	/* 24 months of 26 in 2022-06 .. 2024-05 (624), then 10 x 26 = 260 in
	 * 2024-08 .. 2025-05: 884 in 36 months, 260 in the last 12: granted */
	for (uint32_t p = 202206; p <= 202405; p = period_add(p, 1))
		add(l, p, 1, 26, MAD(3000));
	for (uint32_t p = 202408; p <= 202505; p = period_add(p, 1))
		add(l, p, 1, 26, MAD(3000));
	c = build(real, l);
	assert_int_equal(rights_job_loss(real, c, AT, &res), AMANA_OK);
	expect(&res, true, RIGHT_JOB_LOSS_MONTHLY, 210000);
	free(c);
	/* 259 in the last 12 (the last month 25 days), 883 in 36: refused */
	l->line[l->n - 1].days = 25;
	c = build(real, l);
	assert_int_equal(rights_job_loss(real, c, AT, &res), AMANA_OK);
	expect(&res, false, RIGHT_JOB_LOSS_RECENT, 0);
	assert_int_equal(res.days_found, 259);
	assert_int_equal(res.days_needed, 260);
	free(c);
	free(l);
}

/* ---- dated parameter changes ---- */

static void test_param_change_family(void **state)
{
	/* 300 MAD for children 1-3 becomes 350 MAD from 2026-01 */
	struct rules *r = rules_with("param family_allowance_child_1_3 2026-01 35000\n");
	struct career *c = career_of(202601, 312, MAD(3000)); /* 2025-01 .. 2025-12 */
	struct right_result res;

	(void)state;
	assert_int_equal(rights_family_allowance_count(r, c, 20251231, 1, &res), AMANA_OK);
	expect(&res, true, RIGHT_FAMILY_ALLOWANCE, 30000);
	assert_int_equal(rights_family_allowance_count(r, c, 20260101, 1, &res), AMANA_OK);
	expect(&res, true, RIGHT_FAMILY_ALLOWANCE, 35000);
	/* 4 children from 2026-01: 3 x 350 + 36 */
	assert_int_equal(rights_family_allowance_count(r, c, 20260101, 4, &res), AMANA_OK);
	expect(&res, true, RIGHT_FAMILY_ALLOWANCE, 108600);
	/* the real rules, unchanged: 300 MAD still */
	assert_int_equal(rights_family_allowance_count(real, c, 20260101, 1, &res), AMANA_OK);
	expect(&res, true, RIGHT_FAMILY_ALLOWANCE, 30000);
	free(c);
	free(r);
}

static void test_param_change_pension(void **state)
{
	/* 50% becomes 55% from 2026-01; long-term rates 10% + 5% from 2020-01 */
	struct rules *r = rules_with("param pension_base_rate_ppm 2026-01 550000\n"
				     "branch long_term 2020-01 capped 10.00 5.00\n");
	struct career *c = career_of(202401, 3240, MAD(5000));
	struct lines *l = lines_new();
	struct right_result res;

	(void)state;
	/* 50% x 500000 = 250000 up to 2025-12; 55% = 275000 from 2026-01 */
	assert_int_equal(rights_pension(r, c, 19650101, 20251231, &res), AMANA_OK);
	expect(&res, true, RIGHT_PENSION_CLASSIC, 250000);
	assert_int_equal(rights_pension(r, c, 19650101, 20260101, &res), AMANA_OK);
	expect(&res, true, RIGHT_PENSION_CLASSIC, 275000);
	free(c);
	/* refund at each month's rates: 2019-12 3,000 MAD = 23790 + 11880 =
	 * 35670; 2020-01 3,000 MAD = 30000 + 15000 = 45000; total 80670 */
	add(l, 201912, 1, 26, MAD(3000));
	add(l, 202001, 1, 26, MAD(3000));
	c = build(r, l);
	assert_int_equal(rights_pension(r, c, 19650101, 20260101, &res), AMANA_OK);
	expect(&res, true, RIGHT_PENSION_REFUND, 80670);
	/* the real rules: 2 x 35670 */
	assert_int_equal(rights_pension(real, c, 19650101, 20260101, &res), AMANA_OK);
	expect(&res, true, RIGHT_PENSION_REFUND, 71340);
	free(c);
	free(l);
	free(r);
}

static void test_param_change_synthetic(void **state)
{
	/* A small text: AMO needs 60 days instead of 54 from 2026-01. */
	struct rules *r = rules_from("param ceiling 2002-01 600000\n"
				     "param max_days_per_month 2002-01 26\n"
				     "param amo_min_days 2002-01 54\n"
				     "param amo_window_months 2002-01 6\n"
				     "param amo_min_days 2026-01 60\n");
	struct rules *missing = rules_from("param ceiling 2002-01 600000\n"
					   "param max_days_per_month 2002-01 26\n"
					   "param amo_min_days 2002-01 54\n");
	struct rules *insane = rules_from("param ceiling 2002-01 600000\n"
					  "param max_days_per_month 2002-01 26\n"
					  "param amo_min_days 2002-01 54\n"
					  "param amo_window_months 2002-01 0\n");
	struct lines *l = lines_new();
	struct right_result res;
	struct career *c;

	(void)state;
	/* 56 days in each window: 2025-07 .. 2025-12 */
	add(l, 202507, 1, 26, MAD(3000));
	add(l, 202508, 1, 26, MAD(3000));
	add(l, 202509, 1, 4, MAD(500));
	c = build(r, l);
	assert_int_equal(rights_amo(r, c, 20251231, &res), AMANA_OK);
	expect(&res, true, RIGHT_AMO_COVER, 0);
	assert_int_equal(res.days_needed, 54);
	assert_int_equal(rights_amo(r, c, 20260101, &res), AMANA_OK);
	expect(&res, false, RIGHT_AMO_DAYS, 0);
	assert_int_equal(res.days_needed, 60);
	assert_int_equal(res.days_found, 56);

	/* a parameter missing is an error naming it, never a refusal */
	assert_int_equal(rights_amo(missing, c, 20251231, &res), AMANA_ERR_NOTFOUND);
	assert_string_equal(res.rule, RIGHT_RULE_ERROR);
	assert_false(res.eligible);
	assert_non_null(strstr(res.reason, "amo_window_months not in force at 2025-12"));
	assert_int_equal(rights_amo(insane, c, 20251231, &res), AMANA_ERR_INPUT);
	assert_non_null(strstr(res.reason, "amo_window_months = 0 out of its range"));
	/* the other rights need what this text lacks */
	assert_int_equal(rights_sickness(r, c, 20251231, 10, 0, &res), AMANA_ERR_NOTFOUND);
	assert_non_null(strstr(res.reason, "sickness_min_days"));
	/* the real rules have no pension age before 2002-01 */
	assert_int_equal(rights_pension(real, c, 19000101, 20011231, &res), AMANA_ERR_NOTFOUND);
	assert_non_null(strstr(res.reason, "pension_age"));
	assert_int_equal(rights_amo(r, c, 20251232, &res), AMANA_ERR_USAGE);
	assert_int_equal(rights_amo(NULL, c, 20251231, &res), AMANA_ERR_USAGE);
	free(c);
	free(l);
	free(r);
	free(missing);
	free(insane);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_career_two_employers),
		cmocka_unit_test(test_career_windows),
		cmocka_unit_test(test_career_errors),
		cmocka_unit_test(test_career_dated_day_cap),
		cmocka_unit_test(test_pension_thresholds),
		cmocka_unit_test(test_pension_reference_salary),
		cmocka_unit_test(test_pension_age),
		cmocka_unit_test(test_pension_decree_dates),
		cmocka_unit_test(test_pension_refund_rounding),
		cmocka_unit_test(test_family_count),
		cmocka_unit_test(test_family_days_and_salary),
		cmocka_unit_test(test_family_children),
		cmocka_unit_test(test_days_54),
		cmocka_unit_test(test_sickness_amounts),
		cmocka_unit_test(test_maternity),
		cmocka_unit_test(test_job_loss),
		cmocka_unit_test(test_param_change_family),
		cmocka_unit_test(test_param_change_pension),
		cmocka_unit_test(test_param_change_synthetic),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
