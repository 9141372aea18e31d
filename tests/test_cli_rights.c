/*
 * test_cli_rights.c - `amana career`, `amana rights`, `amana pension` and
 * `amana rights batch` on a generated country (issue 6).
 *
 * The country: gen --employers 6 --persons 150 --months 8 from 2024-07,
 * every month imported in order. The payment run of 2025-03 must agree with
 * the per-person statements: every row of the file is the amount
 * `amana rights REG --at 2025-03-01` gives, every person the statement says
 * is paid has a row, and the summary's totals are the sums of both.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ids.h"
#include "tests/harness.h"

#define FIRST "202407"
#define MONTHS 8
#define PAID "202503"

struct ctx {
	struct registry g;
	int64_t persons;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	*state = c;
	registry_new(&c->g, "rights");
	struct run_result r;
	run_on(&r, &c->g, "gen", "--employers", "6", "--persons", "150", "--months", "8", "--seed", "11",
	       "--first-period", FIRST, "-o", c->g.files, NULL);
	int st = r.status;
	run_result_free(&r);
	if (st)
		return -1;
	static const char *const months[MONTHS] = { "202407", "202408", "202409", "202410",
						    "202411", "202412", "202501", "202502" };
	for (int m = 0; m < MONTHS; m++) {
		char **paths;
		size_t n = list_period(c->g.files, months[m], &paths);
		run_import(&r, &c->g, NULL, paths, n);
		st = r.status;
		if (st)
			fprintf(stderr, "import %s: %s\n", months[m], r.err);
		run_result_free(&r);
		free_list(paths, n);
		if (st)
			return -1;
	}
	run_on(&r, &c->g, "stats", "--json", NULL);
	c->persons = r.status ? 0 : json_int(json_ws(r.out), "persons");
	run_result_free(&r);
	return c->persons > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	registry_free(&c->g);
	free(c);
	return 0;
}

/* The first registration number with a career (a line in the month before
 * the run), and the career's JSON in r. */
static void some_worker(struct ctx *c, char reg[10], struct run_result *r)
{
	for (int64_t s = 1; s <= c->persons; s++) {
		snprintf(reg, 10, "%09u", registration_make((uint32_t)s));
		run_on(r, &c->g, "career", reg, "--purpose", "test", "--json", NULL);
		if (r->status == 0 && json_int(json_ws(r->out), "total_days") > 100)
			return;
		run_result_free(r);
	}
	fail_msg("no person with a career");
}

static void test_career_statement(void **state)
{
	struct ctx *c = *state;
	char reg[10];
	struct run_result r;
	some_worker(c, reg, &r);
	const char *o = json_ws(r.out);
	const char *lines = json_get(o, "lines");
	assert_non_null(lines);
	/* months in order, each with its employer and days */
	char prev[16] = "", per[16], aff[16];
	int64_t days = 0;
	for (size_t i = 0; json_at(lines, i); i++) {
		const char *l = json_at(lines, i);
		json_str(l, "period", per, sizeof(per));
		json_str(l, "affiliation", aff, sizeof(aff));
		assert_int_equal(strlen(aff), 7);
		assert_true(strcmp(prev, per) <= 0);
		memcpy(prev, per, sizeof(prev));
		int64_t d = json_int(l, "days");
		days += d > 26 ? 26 : d;
		assert_true(json_int(l, "capped_salary") <= 600000);
		assert_true(json_int(l, "capped_salary") <= json_int(l, "real_salary"));
	}
	assert_true(json_int(o, "total_days") <= days);
	assert_true(json_int(o, "total_days") > 0);
	run_result_free(&r);
	/* no purpose: refused (exit 4), and said so */
	run_on(&r, &c->g, "career", reg, NULL);
	assert_int_equal(r.status, 4);
	assert_non_null(strstr(r.err, "--purpose"));
	run_result_free(&r);
	run_on(&r, &c->g, "career", "123", "--purpose", "x", NULL);
	assert_int_equal(r.status, 2);
	run_result_free(&r);
	/* the read is on the audit log, with the person */
	run_on(&r, &c->g, "audit", "query", "--subject", reg, "--json", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "career.read"));
	run_result_free(&r);
}

static void test_rights_statement(void **state)
{
	struct ctx *c = *state;
	char reg[10];
	struct run_result r;
	some_worker(c, reg, &r);
	run_result_free(&r);
	run_on(&r, &c->g, "rights", reg, "--at", "2025-03-15", "--purpose", "case 9", "--json", NULL);
	assert_exit(&r, 0, "rights");
	const char *rights = json_get(json_ws(r.out), "rights");
	assert_non_null(rights);
	static const char *const names[] = {
		"pension", "family_allowance", "sickness", "maternity", "amo", "job_loss"
	};
	char rule[64], reason[200];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *x = json_get(rights, names[i]);
		assert_non_null(x);
		json_str(x, "rule", rule, sizeof(rule));
		json_str(x, "reason", reason, sizeof(reason));
		assert_true(rule[0] && reason[0]);
	}
	/* 8 months of at most 26 days: never 780 in 36 months */
	json_str(json_get(rights, "job_loss"), "rule", rule, sizeof(rule));
	assert_string_equal(rule, "job_loss.days");
	run_result_free(&r);
	run_on(&r, &c->g, "rights", reg, "--at", "2025-02-30", "--purpose", "x", NULL);
	assert_int_equal(r.status, 2);
	run_result_free(&r);
	run_on(&r, &c->g, "pension", reg, "--at", "2025-03-15", "--purpose", "case 9", "--json", NULL);
	assert_exit(&r, 0, "pension");
	assert_non_null(json_get(json_ws(r.out), "pension"));
	run_result_free(&r);
	run_on(&r, &c->g, "rights", "100000000", "--at", "2025-03-15", "--purpose", "x", NULL);
	assert_int_not_equal(r.status, 0);
	run_result_free(&r);
}

/* The amount of a payment row for reg and benefit in the CSV, -1 if none. */
static int64_t row_amount(const char *csv, const char *reg, const char *benefit)
{
	char want[64];
	snprintf(want, sizeof(want), "\n%s,%s,", reg, benefit);
	const char *p = strstr(csv, want);
	if (!p)
		return -1;
	p = strchr(p + strlen(want), ','); /* past the rule */
	assert_non_null(p);
	return strtoll(p + 1, NULL, 10);
}

static void test_batch_equals_sum_of_persons(void **state)
{
	struct ctx *c = *state;
	char out[4300];
	snprintf(out, sizeof(out), "%s/pay-%s.csv", c->g.dir, PAID);
	struct run_result r;
	run_on(&r, &c->g, "rights", "batch", PAID, "-o", out, "--json", NULL);
	assert_exit(&r, 0, "rights batch");
	const char *s = json_ws(r.out);
	int64_t fa_n = json_int(s, "family_allowances"), fa_total = json_int(s, "family_allowance_total");
	int64_t pe_n = json_int(s, "pensions") + json_int(s, "pension_refunds");
	int64_t pe_total = json_int(s, "pension_total") + json_int(s, "pension_refund_total");
	assert_int_equal(json_int(s, "persons"), c->persons);
	assert_true(fa_n > 0);
	/* the lines judged are some of the lines, from some of the chunks */
	assert_true(json_int(s, "lines_taken") > 0 && json_int(s, "lines_taken") <= json_int(s, "lines"));
	assert_true(json_int(s, "chunks_opened") > 0 && json_int(s, "chunks_opened") <= json_int(s, "chunks"));
	assert_true(json_int(s, "persons_with_career") > 0 && json_int(s, "persons_with_career") <= c->persons);
	run_result_free(&r);
	size_t len;
	char *csv = read_file(out, &len);
	assert_non_null(csv);
	assert_int_equal(strncmp(csv, "registration,benefit,rule,amount_centimes\n", 42), 0);
	struct stat st;
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* every person, one by one, as an agent would read them */
	int64_t sum_fa = 0, sum_pe = 0, n_fa = 0, n_pe = 0, refunds_due = 0;
	for (int64_t k = 1; k <= c->persons; k++) {
		char reg[10];
		snprintf(reg, sizeof(reg), "%09u", registration_make((uint32_t)k));
		run_on(&r, &c->g, "rights", reg, "--at", "2025-03-01", "--purpose", "check", "--json", NULL);
		assert_exit(&r, 0, "rights");
		const char *o = json_ws(r.out);
		const char *rights = json_get(o, "rights");
		const char *fa = json_get(rights, "family_allowance");
		const char *pe = json_get(rights, "pension");
		bool fa_paid = !strncmp(json_get(fa, "eligible"), "true", 4) && json_int(fa, "amount") > 0;
		int64_t fa_row = row_amount(csv, reg, "family_allowance");
		if (fa_paid) {
			n_fa++;
			sum_fa += json_int(fa, "amount");
			if (fa_row != json_int(fa, "amount"))
				fail_msg("%s: family allowance %lld in the file, %lld alone", reg, (long long)fa_row,
					 (long long)json_int(fa, "amount"));
		} else if (fa_row != -1) {
			fail_msg("%s: a family allowance in the file, none alone", reg);
		}
		char unit[16];
		json_str(pe, "unit", unit, sizeof(unit));
		bool pe_monthly = !strncmp(json_get(pe, "eligible"), "true", 4) && json_int(pe, "amount") > 0 &&
				  !strcmp(unit, "month");
		if (pe_monthly) {
			n_pe++;
			sum_pe += json_int(pe, "amount");
			assert_int_equal(row_amount(csv, reg, "pension"), json_int(pe, "amount"));
		} else {
			assert_int_equal(row_amount(csv, reg, "pension"), -1);
		}
		/* A refund once, in the first run whose date finds the age
		 * reached: this one (2025-03-01) for an age reached after
		 * 2025-02-01, the previous run's date. */
		int64_t refund = row_amount(csv, reg, "pension_refund");
		char birth[16] = "";
		if (strncmp(json_get(o, "birth_date"), "null", 4) != 0)
			json_str(o, "birth_date", birth, sizeof(birth));
		long reached = birth[0] ? (strtol(birth, NULL, 10) + 60) * 10000 + strtol(birth + 5, NULL, 10) * 100 +
					      strtol(birth + 8, NULL, 10)
					: 0;
		bool refund_due = !strncmp(json_get(pe, "eligible"), "true", 4) && json_int(pe, "amount") > 0 &&
				  !strcmp(unit, "once") && reached > 20250201 && reached <= 20250301;
		refunds_due += refund_due;
		if (refund_due != (refund != -1))
			fail_msg("%s: reaches the pension age on %ld, refund %s alone, %s in the file", reg, reached,
				 refund_due ? "due" : "not due", refund != -1 ? "paid" : "not paid");
		if (refund != -1) {
			assert_int_equal(refund, json_int(pe, "amount"));
			n_pe++;
			sum_pe += refund;
		}
		run_result_free(&r);
	}
	/* the country (seed 11) has persons turning 60 in February 2025 */
	assert_true(refunds_due > 0);
	assert_int_equal(n_fa, fa_n);
	assert_int_equal(sum_fa, fa_total);
	assert_int_equal(n_pe, pe_n);
	assert_int_equal(sum_pe, pe_total);

	/* the smallest read-ahead (2 blocks of 32 KiB: every block handed over
	 * while the other is out, the reading thread placing some itself) gives
	 * the same file */
	char small[4300];
	snprintf(small, sizeof(small), "%s/pay-small-%s.csv", c->g.dir, PAID);
	run_on(&r, &c->g, "rights", "batch", PAID, "-o", small, "--blocks", "2", "--block-kib", "32", NULL);
	assert_exit(&r, 0, "rights batch --blocks 2");
	run_result_free(&r);
	size_t small_len;
	char *small_csv = read_file(small, &small_len);
	assert_non_null(small_csv);
	assert_int_equal(small_len, len);
	assert_memory_equal(small_csv, csv, len);
	free(small_csv);
	run_on(&r, &c->g, "rights", "batch", PAID, "-o", small, "--blocks", "1", NULL);
	assert_int_equal(r.status, 2);
	run_result_free(&r);
	free(csv);

	/* never overwritten; a bad period is a usage error */
	run_on(&r, &c->g, "rights", "batch", PAID, "-o", out, NULL);
	assert_int_not_equal(r.status, 0);
	assert_non_null(strstr(r.err, "never overwritten"));
	run_result_free(&r);
	char other[4300];
	snprintf(other, sizeof(other), "%s/pay-bad.csv", c->g.dir);
	run_on(&r, &c->g, "rights", "batch", "202513", "-o", other, NULL);
	assert_int_equal(r.status, 2);
	run_result_free(&r);
	assert_int_equal(file_size(other), -1);
	/* a FILE.partial that a run being written holds (locked) is left to it;
	 * one that a crashed run left (unlocked) is replaced */
	char again_path[4300], partial[4320];
	snprintf(again_path, sizeof(again_path), "%s/pay-again.csv", c->g.dir);
	snprintf(partial, sizeof(partial), "%s.partial", again_path);
	assert_int_equal(write_file(partial, "registration,half a row", 23), 0);
	int held = open(partial, O_RDONLY | O_CLOEXEC);
	assert_true(held >= 0);
	assert_int_equal(flock(held, LOCK_EX), 0);
	run_on(&r, &c->g, "rights", "batch", PAID, "-o", again_path, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "being written by another run"));
	run_result_free(&r);
	assert_int_equal(file_size(partial), 23);
	assert_int_equal(file_size(again_path), -1);
	close(held); /* as if that run died */
	run_on(&r, &c->g, "rights", "batch", PAID, "-o", again_path, NULL);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	assert_int_equal(file_size(partial), -1);
	char *twice = read_file(again_path, &len);
	assert_non_null(twice);
	char *first = read_file(out, &len);
	assert_non_null(first);
	assert_string_equal(twice, first); /* the same run, written whole */
	free(twice);
	free(first);
	/* the run is on the log, naming the persons paid */
	char reg[10];
	char *again = read_file(out, &len);
	assert_non_null(again);
	const char *first_row = strchr(again, '\n');
	assert_non_null(first_row);
	memcpy(reg, first_row + 1, 9);
	reg[9] = 0;
	free(again);
	run_on(&r, &c->g, "audit", "query", "--subject", reg, "--json", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "rights.batch"));
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_career_statement),
		cmocka_unit_test(test_rights_statement),
		cmocka_unit_test(test_batch_equals_sum_of_persons),
	};
	return cmocka_run_group_tests_name("careers and rights", tests, setup, teardown);
}
