/* test_rules.c - the rules text: the real data file, dated lookups, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/rules.h"

#ifndef SOURCE_ROOT
#error "SOURCE_ROOT must name the source tree"
#endif

/* core does no I/O, so the test reads the file itself. */
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

static enum amana_err parse_str(const char *text, struct rules *r, struct rules_error *err)
{
	return rules_parse(text, strlen(text), r, err);
}

static void test_real_file(void **state)
{
	static const struct {
		enum branch b;
		enum branch_base base;
		ppm employer, employee;
	} want[] = {
		{ BRANCH_FAMILY, BASE_REAL, 64000, 0 },
		{ BRANCH_SHORT_TERM, BASE_CAPPED, 10500, 5200 },
		{ BRANCH_LONG_TERM, BASE_CAPPED, 79300, 39600 },
		{ BRANCH_HEALTH, BASE_REAL, 22600, 22600 },
		{ BRANCH_HEALTH_SOLIDARITY, BASE_REAL, 18500, 0 },
		{ BRANCH_TRAINING, BASE_REAL, 16000, 0 },
	};
	struct rules r;
	struct rules_error err;
	struct branch_rule br;
	size_t len;
	char *text = read_rules_file(&len);
	enum amana_err result = rules_parse(text, len, &r, &err);
	ppm employer = 0, employee = 0;
	int64_t v;

	(void)state;
	if (result)
		fail_msg("data/rules.txt line %u: %s", err.line, err.message);
	assert_int_equal(BRANCH_COUNT, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < BRANCH_COUNT; i++) {
		assert_int_equal(rules_branch_at(&r, want[i].b, 202501, &br), AMANA_OK);
		assert_int_equal(br.base, want[i].base);
		assert_int_equal(br.employer, want[i].employer);
		assert_int_equal(br.employee, want[i].employee);
		employer += br.employer;
		employee += br.employee;
		/* the registry needs every period from 2002-01 */
		assert_int_equal(rules_branch_at(&r, want[i].b, 200201, &br), AMANA_OK);
		assert_int_equal(rules_branch_at(&r, want[i].b, 200112, &br), AMANA_ERR_NOTFOUND);
	}
	/* spec/rules.md totals: 21.09% and 6.74% */
	assert_int_equal(employer, 210900);
	assert_int_equal(employee, 67400);

	assert_int_equal(rules_param_at(&r, "ceiling", 202501, &v), AMANA_OK);
	assert_int_equal(v, 600000);
	assert_int_equal(rules_param_at(&r, "ceiling", 200201, &v), AMANA_OK);
	assert_int_equal(v, 600000);
	assert_int_equal(rules_param_at(&r, "smig", 202501, &v), AMANA_OK);
	assert_int_equal(v, 326610); /* 17.10 MAD/h x 191 h */
	assert_int_equal(rules_param_at(&r, "smig", 202412, &v), AMANA_OK);
	assert_int_equal(v, 311139); /* 16.29 MAD/h x 191 h */
	assert_int_equal(rules_param_at(&r, "smig", 201507, &v), AMANA_OK);
	assert_int_equal(v, 257086); /* the spec's figure, 13.46 x 191 */
	assert_int_equal(rules_param_at(&r, "smig", 201506, &v), AMANA_ERR_NOTFOUND);
	assert_int_equal(rules_param_at(&r, "family_allowance_child_1_3", 202501, &v), AMANA_OK);
	assert_int_equal(v, 30000);
	assert_int_equal(rules_param_at(&r, "family_allowance_child_4_6", 202501, &v), AMANA_OK);
	assert_int_equal(v, 3600);
	assert_int_equal(rules_param_at(&r, "family_allowance_max_children", 202501, &v), AMANA_OK);
	assert_int_equal(v, 6);
	assert_int_equal(rules_param_at(&r, "late_penalty_per_employee", 202501, &v), AMANA_OK);
	assert_int_equal(v, 5000);
	assert_int_equal(rules_param_at(&r, "late_penalty_max", 202501, &v), AMANA_OK);
	assert_int_equal(v, 500000);
	assert_int_equal(rules_param_at(&r, "no_such_param", 202501, &v), AMANA_ERR_NOTFOUND);
	free(text);
}

/* A rate change at 2026-01, written before the older entry on purpose. */
static const char dated_text[] = "branch long_term 2026-01 capped 8.50 4.25\n"
				 "branch long_term 2002-01 capped 7.93 3.96\n"
				 "param ceiling 2026-01 700000\n"
				 "param ceiling 2002-01 600000\n"
				 "param ceiling 2015-07 650000\n";

static void test_dated_lookup(void **state)
{
	struct rules r;
	struct rules_error err;
	struct branch_rule br;
	int64_t v;

	(void)state;
	assert_int_equal(parse_str(dated_text, &r, &err), AMANA_OK);
	assert_int_equal(r.branch_count[BRANCH_LONG_TERM], 2);

	assert_int_equal(rules_branch_at(&r, BRANCH_LONG_TERM, 202512, &br), AMANA_OK);
	assert_int_equal(br.employer, 79300);
	assert_int_equal(br.from, 200201);
	assert_int_equal(rules_branch_at(&r, BRANCH_LONG_TERM, 202601, &br), AMANA_OK);
	assert_int_equal(br.employer, 85000);
	assert_int_equal(br.employee, 42500);
	assert_int_equal(br.from, 202601);
	assert_int_equal(rules_branch_at(&r, BRANCH_LONG_TERM, 203012, &br), AMANA_OK);
	assert_int_equal(br.employer, 85000);
	assert_int_equal(rules_branch_at(&r, BRANCH_LONG_TERM, 200112, &br), AMANA_ERR_NOTFOUND);
	/* a branch with no entry at all */
	assert_int_equal(rules_branch_at(&r, BRANCH_FAMILY, 202601, &br), AMANA_ERR_NOTFOUND);
	assert_int_equal(rules_branch_at(&r, (enum branch)BRANCH_COUNT, 202601, &br), AMANA_ERR_USAGE);

	/* three entries out of order: the greatest from <= period wins */
	assert_int_equal(rules_param_at(&r, "ceiling", 201506, &v), AMANA_OK);
	assert_int_equal(v, 600000);
	assert_int_equal(rules_param_at(&r, "ceiling", 201507, &v), AMANA_OK);
	assert_int_equal(v, 650000);
	assert_int_equal(rules_param_at(&r, "ceiling", 202512, &v), AMANA_OK);
	assert_int_equal(v, 650000);
	assert_int_equal(rules_param_at(&r, "ceiling", 202601, &v), AMANA_OK);
	assert_int_equal(v, 700000);
	assert_int_equal(rules_param_at(&r, "ceiling", 200112, &v), AMANA_ERR_NOTFOUND);
	/* names match whole: a prefix is another parameter */
	assert_int_equal(rules_param_at(&r, "ceil", 202601, &v), AMANA_ERR_NOTFOUND);
	assert_int_equal(rules_param_at(&r, NULL, 202601, &v), AMANA_ERR_USAGE);
}

static void test_layout_tolerated(void **state)
{
	/* comments, blank lines, tabs, CRLF, no final newline */
	static const char text[] = "# a comment\r\n"
				   "\r\n"
				   "   \t  \n"
				   "param\tsmig 2025-01\t326610   # trailing comment\r\n"
				   "branch family 2002-01 real 6.40 0#glued comment\n"
				   "param smig 2023-09 311139";
	struct rules r;
	struct rules_error err;
	int64_t v;

	(void)state;
	assert_int_equal(parse_str(text, &r, &err), AMANA_OK);
	assert_int_equal(r.param_count, 2);
	assert_int_equal(r.branch_count[BRANCH_FAMILY], 1);
	assert_int_equal(rules_param_at(&r, "smig", 202412, &v), AMANA_OK);
	assert_int_equal(v, 311139);
	assert_int_equal(err.line, 0);

	/* only len bytes are read: the bad line past len is never seen */
	static const char view[] = "param a 2002-01 1\nbogus";
	assert_int_equal(rules_parse(view, strlen("param a 2002-01 1\n"), &r, &err), AMANA_OK);
	assert_int_equal(r.param_count, 1);

	/* empty text: valid, nothing in force */
	assert_int_equal(rules_parse("", 0, &r, &err), AMANA_OK);
	assert_int_equal(rules_param_at(&r, "smig", 202501, &v), AMANA_ERR_NOTFOUND);
	assert_int_equal(rules_parse(NULL, 0, &r, NULL), AMANA_OK);

	/* the same FROM under two names, two FROMs under one name: not duplicates */
	assert_int_equal(parse_str("param a 2002-01 1\nparam b 2002-01 2\n"
				   "param a 2003-01 3\n"
				   "branch family 2002-01 real 1 0\n"
				   "branch health 2002-01 real 1 1\n",
				   &r, &err),
			 AMANA_OK);
}

struct bad_case {
	const char *text;
	enum amana_err code;
	unsigned line;
	const char *says; /* a phrase the message must contain */
};

static const struct bad_case bad_cases[] = {
	{ "param a 2002-01 1\n\nfrobnicate x\n", AMANA_ERR_INPUT, 3, "unknown keyword \"frobnicate\"" },
	{ "Param a 2002-01 1\n", AMANA_ERR_INPUT, 1, "unknown keyword" },
	{ "# c\nbranch pensions 2002-01 capped 7.93 3.96\n", AMANA_ERR_INPUT, 2, "unknown branch \"pensions\"" },
	{ "branch Family 2002-01 real 6.40 0\n", AMANA_ERR_INPUT, 1, "unknown branch" },
	{ "\n\n\nbranch family 2025-13 real 6.40 0\n", AMANA_ERR_INPUT, 4, "bad FROM date \"2025-13\"" },
	{ "branch family 2025-00 real 6.40 0\n", AMANA_ERR_INPUT, 1, "bad FROM date" },
	{ "param a 2025-1 5\n", AMANA_ERR_INPUT, 1, "bad FROM date" },
	{ "param a 202501 5\n", AMANA_ERR_INPUT, 1, "bad FROM date" },
	{ "param a 2025/01 5\n", AMANA_ERR_INPUT, 1, "bad FROM date" },
	{ "param a 25-01 5\n", AMANA_ERR_INPUT, 1, "bad FROM date" },
	{ "param a 2025-0a 5\n", AMANA_ERR_INPUT, 1, "bad FROM date" },
	{ "param a 1899-12 5\n", AMANA_ERR_INPUT, 1, "bad FROM date" },
	{ "param a 2025-01-01 5\n", AMANA_ERR_INPUT, 1, "bad FROM date" },
	{ "branch family 2002-01 Real 6.40 0\n", AMANA_ERR_INPUT, 1, "bad base \"Real\"" },
	{ "branch family 2002-01 uncapped 6.40 0\n", AMANA_ERR_INPUT, 1, "bad base" },
	{ "branch family 2002-01 real 6,40 0\n", AMANA_ERR_INPUT, 1, "bad employer rate \"6,40\"" },
	{ "branch family 2002-01 real 6.40 -1\n", AMANA_ERR_INPUT, 1, "bad employee rate" },
	{ "branch family 2002-01 real 100.01 0\n", AMANA_ERR_INPUT, 1, "bad employer rate" },
	{ "branch family 2002-01 real 6.40\n", AMANA_ERR_INPUT, 1, "branch needs 5 fields" },
	{ "branch family 2002-01 real 6.40 0 0\n", AMANA_ERR_INPUT, 1, "too many fields" },
	{ "param a 2002-01\n", AMANA_ERR_INPUT, 1, "param needs 3 fields" },
	{ "param a 2002-01 1 2\n", AMANA_ERR_INPUT, 1, "param needs 3 fields" },
	{ "param\n", AMANA_ERR_INPUT, 1, "param needs 3 fields" },
	{ "param a 2002-01 -5\n", AMANA_ERR_INPUT, 1, "bad value \"-5\"" },
	{ "param a 2002-01 12a\n", AMANA_ERR_INPUT, 1, "bad value" },
	{ "param a 2002-01 1234567890123456789\n", AMANA_ERR_INPUT, 1, "bad value" },
	{ "param Smig 2002-01 1\n", AMANA_ERR_INPUT, 1, "bad parameter name \"Smig\"" },
	{ "param abcdefghijklmnopqrstuvwxyz012345 2002-01 1\n", AMANA_ERR_INPUT, 1,
	  "bad parameter name \"abcdefghijklmnopqrstuvwx...\"" },
	{ "param smig 2025-01 1\nparam ceiling 2025-01 1\nparam smig 2025-01 2\n", AMANA_ERR_INPUT, 3,
	  "duplicate entry for param smig from 2025-01" },
	{ "branch family 2002-01 real 6.40 0\nbranch family 2002-01 capped 1 0\n", AMANA_ERR_INPUT, 2,
	  "duplicate entry for branch family from 2002-01" },
	{ "param a 2002-01 1\r\nbranch x\x01y 2002-01 real 1 0\r\n", AMANA_ERR_INPUT, 2, "unknown branch \"x?y\"" },
};

static void test_parse_errors(void **state)
{
	struct rules r;
	struct rules_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		enum amana_err got;

		memset(&r, 0xa5, sizeof(r));
		memset(&err, 0, sizeof(err));
		got = parse_str(c->text, &r, &err);
		if (got != c->code || err.line != c->line || !strstr(err.message, c->says))
			fail_msg("case %zu: got %d line %u \"%s\", want %d line %u \"%s\"", i, got, err.line,
				 err.message, c->code, c->line, c->says);
		/* nothing half-loaded */
		assert_int_equal(r.param_count, 0);
		for (unsigned b = 0; b < BRANCH_COUNT; b++)
			assert_int_equal(r.branch_count[b], 0);
	}
	/* err may be NULL */
	assert_int_equal(parse_str("bogus\n", &r, NULL), AMANA_ERR_INPUT);
}

/* Build a text of n lines from a line template with one %d / %02d slot. */
static char *make_lines(unsigned n, const char *(*line)(unsigned i, char *buf))
{
	char *text = malloc((size_t)n * 64 + 1), *p = text;
	char buf[64];

	assert_non_null(text);
	for (unsigned i = 0; i < n; i++) {
		size_t l = strlen(line(i, buf));
		memcpy(p, buf, l);
		p += l;
	}
	*p = '\0';
	return text;
}

static const char *branch_line(unsigned i, char *buf)
{
	snprintf(buf, 64, "branch training %u-%02u real 1.60 0\n", 2002 + i / 12, i % 12 + 1);
	return buf;
}

static const char *param_line(unsigned i, char *buf)
{
	snprintf(buf, 64, "param p%u 2002-01 %u\n", i, i);
	return buf;
}

static void test_limits(void **state)
{
	const unsigned slots = RULES_MAX_ENTRIES / BRANCH_COUNT;
	struct rules r;
	struct rules_error err;
	char *text;
	int64_t v;

	(void)state;
	/* exactly as many as fit: fine */
	text = make_lines(slots, branch_line);
	assert_int_equal(parse_str(text, &r, &err), AMANA_OK);
	assert_int_equal(r.branch_count[BRANCH_TRAINING], slots);
	free(text);
	/* one more: AMANA_ERR_LIMIT on that line */
	text = make_lines(slots + 1, branch_line);
	assert_int_equal(parse_str(text, &r, &err), AMANA_ERR_LIMIT);
	assert_int_equal(err.line, slots + 1);
	assert_non_null(strstr(err.message, "entries for branch training"));
	assert_int_equal(r.branch_count[BRANCH_TRAINING], 0);
	free(text);

	text = make_lines(RULES_MAX_ENTRIES, param_line);
	assert_int_equal(parse_str(text, &r, &err), AMANA_OK);
	assert_int_equal(rules_param_at(&r, "p255", 202501, &v), AMANA_OK);
	assert_int_equal(v, 255);
	free(text);
	text = make_lines(RULES_MAX_ENTRIES + 1, param_line);
	assert_int_equal(parse_str(text, &r, &err), AMANA_ERR_LIMIT);
	assert_int_equal(err.line, RULES_MAX_ENTRIES + 1);
	assert_non_null(strstr(err.message, "more than 256 params"));
	free(text);
}

static void test_branch_names(void **state)
{
	(void)state;
	assert_string_equal(branch_name(BRANCH_FAMILY), "family");
	assert_string_equal(branch_name(BRANCH_SHORT_TERM), "short_term");
	assert_string_equal(branch_name(BRANCH_LONG_TERM), "long_term");
	assert_string_equal(branch_name(BRANCH_HEALTH), "health");
	assert_string_equal(branch_name(BRANCH_HEALTH_SOLIDARITY), "health_solidarity");
	assert_string_equal(branch_name(BRANCH_TRAINING), "training");
	assert_string_equal(branch_name((enum branch)BRANCH_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_file),        cmocka_unit_test(test_dated_lookup),
		cmocka_unit_test(test_layout_tolerated), cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_limits),           cmocka_unit_test(test_branch_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
