/*
 * test_cli_reject.c - `amana import` refuses defective declarations whole.
 * Every test starts from a fresh registry where
 *   gen --employers 5 --persons 60 --months 2 --seed 3
 * ran and month 1 was imported, takes one employer's valid month-2 file and
 * breaks it in exactly one way. The import must exit 3, name the file, the
 * line, the column and the field (on stderr and in --json), and leave the
 * registry reporting exactly what it reported before (stats, contributions,
 * employer show: compared byte for byte).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/harness.h"

#define N_EMPLOYERS 5
#define MONTH1 "202501"
#define MONTH2 "202502"

/* ------------------------------------------------------------------ */
/* The test's registry                                                 */

struct ctx {
	struct registry g;
	char bad[4096]; /* where corrupted copies go */
	char affs[N_EMPLOYERS][8];
	char target[4200]; /* the month-2 file the test corrupts */
	char target_aff[8];
	/* what a test allocated, freed by teardown even when an assertion fails */
	void *owned[32];
	size_t nowned;
};

static void *own(struct ctx *c, void *p)
{
	assert_true(c->nowned < sizeof(c->owned) / sizeof(c->owned[0]));
	c->owned[c->nowned++] = p;
	return p;
}

/* ------------------------------------------------------------------ */
/* e-BDS records                                                       */

/* Index of the first record of TYPE (e.g. "B03"), or fail. */
static size_t records_find(const struct records *r, const char *type)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strncmp(r->v[i], type, 3))
			return i;
	fail_msg("no %s record", type);
	return 0;
}

/* Write records [0, n) joined by CRLF (each followed by one) to path. */
static void records_write(const struct records *r, size_t n, const char *path)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += strlen(r->v[i]) + 2;
	char *out = malloc(len + 1);
	assert_non_null(out);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(r->v[i]);
		memcpy(out + k, r->v[i], l);
		k += l;
		out[k++] = '\r';
		out[k++] = '\n';
	}
	assert_int_equal(write_file(path, out, len), 0);
	free(out);
}

/* ------------------------------------------------------------------ */
/* Fixture                                                             */

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	*state = c;
	registry_new(&c->g, "reject");
	snprintf(c->bad, sizeof(c->bad), "%s/bad", c->g.dir);
	if (mkdir(c->bad, 0700))
		return -1;
	run_gen(&c->g, c->g.files, "5", "60", "2", "3");

	/* the files, sorted; month 1 is imported */
	char **names;
	size_t n = list_dir(c->g.files, "DS_", &names), na = 0;
	char paths[N_EMPLOYERS][4200], *month1[N_EMPLOYERS];
	size_t best_lines = 0;
	for (size_t i = 0; i < n; i++) {
		/* DS_AAAAAAA_PPPPPP.txt */
		if (strlen(names[i]) != 21)
			return -1;
		if (!strncmp(names[i] + 11, MONTH1, 6) && na < N_EMPLOYERS) {
			memcpy(c->affs[na], names[i] + 3, 7);
			c->affs[na][7] = '\0';
			snprintf(paths[na], sizeof(paths[na]), "%s/%s", c->g.files, names[i]);
			month1[na] = paths[na];
			na++;
		} else if (!strncmp(names[i] + 11, MONTH2, 6)) {
			/* target: the month-2 file with the most lines */
			char p[4200];
			snprintf(p, sizeof(p), "%s/%s", c->g.files, names[i]);
			size_t len;
			char *b = read_file(p, &len);
			if (!b)
				return -1;
			size_t lines = len / (REC_LEN + 2);
			free(b);
			if (lines > best_lines) {
				best_lines = lines;
				memcpy(c->target, p, sizeof(p));
				memcpy(c->target_aff, names[i] + 3, 7);
				c->target_aff[7] = '\0';
			}
		}
	}
	free_list(names, n);
	if (na != N_EMPLOYERS || n != 2 * N_EMPLOYERS || best_lines < 10)
		return -1;
	struct run_result r;
	run_import(&r, &c->g, NULL, month1, na);
	int st = r.status;
	run_result_free(&r);
	return st ? -1 : 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	if (c) {
		for (size_t i = 0; i < c->nowned; i++)
			free(c->owned[i]);
		registry_free(&c->g);
		free(c);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* What the registry reports                                           */

struct sbuf {
	char *s;
	size_t n, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void sb_run(struct sbuf *b, const struct ctx *c, const char *const *args, size_t n)
{
	struct run_result r;
	run_on_v(&r, &c->g, args, n);
	char head[512];
	int hl = snprintf(head, sizeof(head), "$ %s %s %s -> %d\n", args[0], n > 1 ? args[1] : "", n > 2 ? args[2] : "",
			  r.status);
	sb_add(b, head, (size_t)hl);
	sb_add(b, r.out, r.out_len);
	sb_add(b, "\n--stderr--\n", 12);
	sb_add(b, r.err, r.err_len);
	run_result_free(&r);
}

/* stats, and for every employer: employer show, contributions of months 1 and 2. */
static char *snapshot(const struct ctx *c)
{
	struct sbuf b = { 0 };
	const char *st[] = { "stats", "--json" };
	sb_run(&b, c, st, 2);
	for (size_t i = 0; i < N_EMPLOYERS; i++) {
		const char *show[] = { "employer", "show", c->affs[i], "--json" };
		const char *c1[] = { "contributions", c->affs[i], MONTH1, "--json" };
		const char *c2[] = { "contributions", c->affs[i], MONTH2, "--json" };
		sb_run(&b, c, show, 4);
		sb_run(&b, c, c1, 4);
		sb_run(&b, c, c2, 4);
	}
	return b.s;
}

/* ------------------------------------------------------------------ */
/* Importing a defective file                                          */

struct err {
	long line, column;
	char field[48];
	char expected[256];
	char found[256];
};

struct rejection {
	size_t n;
	struct err v[256];
	int64_t more;
	char *err; /* stderr of the plain run */
	char *json;
};

/* The file object of PATH in an import --json report. */
static const char *json_file(const char *json, const char *path)
{
	const char *files = json_get(json_ws(json), "files");
	if (!files)
		fail_msg("no \"files\" in import --json output: %.300s", json);
	const char *f;
	char name[4300];
	for (size_t i = 0; (f = json_at(files, i)); i++)
		if (!strcmp(json_str(f, "file", name, sizeof(name)), path))
			return f;
	fail_msg("import --json does not name %s: %.300s", path, json);
	return NULL;
}

/* Import PATH (rejected) twice, plain then --json: both exit 3, both name the
 * file, and the registry reports the same before and after. */
static void import_rejected(struct ctx *c, const char *path, struct rejection *x)
{
	memset(x, 0, sizeof(*x));
	char *before = own(c, snapshot(c));
	struct run_result r;

	run_on(&r, &c->g, "import", path, NULL);
	own(c, r.out);
	own(c, r.err);
	if (r.status != 3)
		fail_msg("import %s exited %d, expected 3; stderr: %s", path, r.status, r.err);
	char want[4400];
	snprintf(want, sizeof(want), "%s:", path);
	assert_non_null(strstr(r.err, want));
	x->err = r.err;

	run_on(&r, &c->g, "import", "--json", path, NULL);
	own(c, r.out);
	own(c, r.err);
	assert_int_equal(r.status, 3);
	const char *o = json_ws(r.out);
	if (!json_skip(o))
		fail_msg("import --json output is not one JSON value: %.300s", r.out);
	assert_int_equal(json_int(o, "accepted"), 0);
	assert_int_equal(json_int(o, "rejected"), 1);
	const char *f = json_file(o, path);
	char st[32];
	assert_string_equal(json_str(f, "status", st, sizeof(st)), "rejected");
	const char *errs = json_get(f, "errors");
	assert_non_null(errs);
	const char *e;
	for (size_t i = 0; (e = json_at(errs, i)) && x->n < 256; i++) {
		struct err *d = &x->v[x->n++];
		d->line = (long)json_int(e, "line");
		d->column = (long)json_int(e, "column");
		json_str(e, "field", d->field, sizeof(d->field));
		json_str(e, "expected", d->expected, sizeof(d->expected));
		json_str(e, "found", d->found, sizeof(d->found));
	}
	assert_true(x->n > 0);
	x->more = json_get(f, "more_errors") ? json_int(f, "more_errors") : 0;
	x->json = r.out;

	char *after = own(c, snapshot(c));
	assert_string_equal(before, after);
}

static const struct err *find_err(const struct rejection *x, long line, long column, const char *field)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->v[i].line == line && (column < 0 || x->v[i].column == column) && !strcmp(x->v[i].field, field))
			return &x->v[i];
	return NULL;
}

/* The error is in --json and on stderr as PATH:LINE:COLUMN: FIELD: */
static void expect_error(const struct rejection *x, const char *path, long line, long column, const char *field)
{
	if (!find_err(x, line, column, field)) {
		char list[2048] = "";
		for (size_t i = 0; i < x->n && i < 12; i++) {
			size_t l = strlen(list);
			snprintf(list + l, sizeof(list) - l, "  %ld:%ld %s\n", x->v[i].line, x->v[i].column,
				 x->v[i].field);
		}
		fail_msg("no error at line %ld column %ld field %s; got:\n%s", line, column, field, list);
	}
	char want[4500];
	snprintf(want, sizeof(want), "%s:%ld:%ld: %s:", path, line, column, field);
	if (!strstr(x->err, want))
		fail_msg("stderr lacks \"%s\":\n%s", want, x->err);
}

/* A single defect is reported where it is, not as a cascade of false errors
 * at later lines. */
static void expect_only_line(const struct rejection *x, long line)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->v[i].line != line)
			fail_msg("one defect at line %ld, but also reported: line %ld column %ld %s: expected %s; "
				 "found %s (%zu errors in all)",
				 line, x->v[i].line, x->v[i].column, x->v[i].field, x->v[i].expected, x->v[i].found,
				 x->n);
}

/* Where the defective copy of AFF's month-2 file goes: out, of cap bytes. */
static void bad_path(const struct ctx *c, const char *aff, char *out, size_t cap)
{
	snprintf(out, cap, "%s/DS_%s_%s.txt", c->bad, aff, MONTH2);
}

/* Write records [0, n) of f, corrupted, as AFF's defective copy (its path
 * into path, of cap bytes), and free f. */
static void write_bad(const struct ctx *c, const char *aff, struct records *f, size_t n, char *path, size_t cap)
{
	bad_path(c, aff, path, cap);
	records_write(f, n, path);
	records_free(f);
}

/* Line number (1-based) of the k-th B02 (k from 1) of the target file. */
static size_t b02_index(const struct records *r, size_t k)
{
	size_t seen = 0;
	for (size_t i = 0; i < r->n; i++)
		if (!strncmp(r->v[i], "B02", 3) && ++seen == k)
			return i;
	fail_msg("fewer than %zu B02 lines", k);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */

static void test_valid_file_is_accepted(void **state)
{
	/* the baseline the corruptions start from */
	struct ctx *c = *state;
	struct run_result r;
	run_on(&r, &c->g, "import", c->target, NULL);
	if (r.status != 0)
		fail_msg("the untouched month-2 file is rejected: %s", r.err);
	run_result_free(&r);
	run_on(&r, &c->g, "contributions", c->target_aff, MONTH2, "--json", NULL);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
}

static void test_wrong_record_length(void **state)
{
	struct ctx *c = *state;
	struct records f;
	records_load(&f, c->target);
	size_t i = b02_index(&f, 2);
	assert_int_equal(i, 3);
	assert_int_equal(strlen(f.v[i]), REC_LEN);
	f.v[i][REC_LEN - 1] = '\0'; /* 259 characters: one filler space less */
	char path[4300];
	write_bad(c, c->target_aff, &f, f.n, path, sizeof(path));

	struct rejection x;
	import_rejected(c, path, &x);
	expect_error(&x, path, 4, 0, "record"); /* column 0: the whole record */
	expect_only_line(&x, 4);
}

static void test_lowercase_in_name(void **state)
{
	struct ctx *c = *state;
	struct records f;
	records_load(&f, c->target);
	size_t i = b02_index(&f, 2);
	char name[61];
	field_text(f.v[i], 26, 60, name, sizeof(name));
	assert_true(strlen(name) > 3);
	/* lower-case the last letter of the name (column of it) */
	long col = 0;
	for (int k = 59; k >= 0; k--)
		if (isupper((unsigned char)f.v[i][25 + k])) {
			f.v[i][25 + k] = (char)tolower((unsigned char)f.v[i][25 + k]);
			col = 26 + k;
			break;
		}
	assert_true(col > 0);
	char path[4300];
	write_bad(c, c->target_aff, &f, f.n, path, sizeof(path));

	struct rejection x;
	import_rejected(c, path, &x);
	expect_error(&x, path, (long)i + 1, col, "name");
	/* personal data is not echoed */
	assert_null(strstr(x.err, name));
	assert_null(strstr(x.json, name));
	expect_only_line(&x, (long)i + 1);
}

static void test_non_digit_in_n_field(void **state)
{
	struct ctx *c = *state;
	struct records f;
	records_load(&f, c->target);
	size_t i = b02_index(&f, 2);
	f.v[i][120] = 'X'; /* column 121: inside the real salary, 114-126 */
	char path[4300];
	write_bad(c, c->target_aff, &f, f.n, path, sizeof(path));

	struct rejection x;
	import_rejected(c, path, &x);
	expect_error(&x, path, 4, 121, "real_salary");
	expect_only_line(&x, 4);
}

static void test_wrong_row_control_sum(void **state)
{
	struct ctx *c = *state;
	struct records f;
	records_load(&f, c->target);
	size_t i = b02_index(&f, 2);
	field_put_num(f.v[i], 138, 19, field_num(f.v[i], 138, 19) + 1);
	char path[4300];
	write_bad(c, c->target_aff, &f, f.n, path, sizeof(path));

	struct rejection x;
	import_rejected(c, path, &x);
	expect_error(&x, path, 4, 138, "control_sum");
}

static void test_wrong_totals(void **state)
{
	struct ctx *c = *state;
	struct records f;
	records_load(&f, c->target);
	size_t i = records_find(&f, "B03");
	field_put_num(f.v[i], 98, 15, field_num(f.v[i], 98, 15) + 100); /* real salaries + 1 MAD */
	char path[4300];
	write_bad(c, c->target_aff, &f, f.n, path, sizeof(path));

	struct rejection x;
	import_rejected(c, path, &x);
	expect_error(&x, path, (long)i + 1, 98, "real_salaries");
}

/* The sums B03 holds besides the number of employees (spec/ebds.md): the
 * B02 columns summed and the B03 columns of the sum. */
enum {
	S_CHILDREN,
	S_AF_TO_PAY,
	S_AF_TO_DEDUCT,
	S_AF_NET,
	S_REGISTRATIONS,
	S_AF_GIVE_BACK,
	S_DAYS,
	S_REAL,
	S_CAPPED,
	S_CONTROLS,
	N_SUMS
};
static const struct {
	int b02_col, b02_width, b03_col, b03_width;
} B03_SUMS[N_SUMS] = {
	[S_CHILDREN] = { 86, 2, 23, 6 },       [S_AF_TO_PAY] = { 88, 6, 29, 12 },
	[S_AF_TO_DEDUCT] = { 94, 6, 41, 12 },  [S_AF_NET] = { 100, 6, 53, 12 },
	[S_REGISTRATIONS] = { 17, 9, 65, 15 }, [S_AF_GIVE_BACK] = { 106, 6, 80, 12 },
	[S_DAYS] = { 112, 2, 92, 6 },          [S_REAL] = { 114, 13, 98, 15 },
	[S_CAPPED] = { 127, 9, 113, 13 },      [S_CONTROLS] = { 138, 19, 126, 19 },
};

/* Recompute B03 from the B02 lines and B06 = B03 + B05 (spec/ebds.md). */
static void fix_totals(struct records *f)
{
	size_t i3 = records_find(f, "B03"), i5 = records_find(f, "B05"), i6 = records_find(f, "B06");
	int64_t emp = 0, sum[N_SUMS] = { 0 };
	for (size_t i = 0; i < f->n; i++) {
		const char *r = f->v[i];
		if (strncmp(r, "B02", 3))
			continue;
		emp++;
		for (int k = 0; k < N_SUMS; k++)
			sum[k] += field_num(r, B03_SUMS[k].b02_col, B03_SUMS[k].b02_width);
	}
	field_put_num(f->v[i3], 17, 6, emp);
	for (int k = 0; k < N_SUMS; k++)
		field_put_num(f->v[i3], B03_SUMS[k].b03_col, B03_SUMS[k].b03_width, sum[k]);
	struct totals t;
	totals_read(f->v[i5], &t);
	t.employees += emp;
	t.registrations += sum[S_REGISTRATIONS];
	t.days += sum[S_DAYS];
	t.real += sum[S_REAL];
	t.capped += sum[S_CAPPED];
	t.controls += sum[S_CONTROLS];
	totals_write(f->v[i6], &t);
}

static void test_fix_totals_reference(void **state)
{
	/* recomputing the totals of the untouched file changes nothing */
	struct ctx *c = *state;
	struct records f;
	records_load(&f, c->target);
	size_t len;
	char *orig = read_file(c->target, &len);
	assert_non_null(orig);
	fix_totals(&f);
	char path[4300];
	bad_path(c, c->target_aff, path, sizeof(path));
	records_write(&f, f.n, path);
	size_t len2;
	char *again = read_file(path, &len2);
	assert_non_null(again);
	assert_int_equal(len, len2);
	assert_memory_equal(orig, again, len);
	free(orig);
	free(again);
	records_free(&f);
}

static void test_missing_b02_line(void **state)
{
	struct ctx *c = *state;
	struct records f;
	records_load(&f, c->target);
	/* the first B02 from the 4th on with a normal situation, not the last */
	size_t k, i = 0;
	for (k = 4;; k++) {
		i = b02_index(&f, k);
		if (!strncmp(f.v[i + 1], "B02", 3) && !strncmp(f.v[i] + 135, "  ", 2))
			break;
	}
	char reg[10];
	memcpy(reg, f.v[i] + 16, 9);
	reg[9] = '\0';
	memmove(&f.v[i], &f.v[i + 1], (f.n - i - 1) * sizeof(f.v[0]));
	f.n--;
	fix_totals(&f);
	size_t b03_line = records_find(&f, "B03") + 1;
	char path[4300];
	write_bad(c, c->target_aff, &f, f.n, path, sizeof(path));

	struct rejection x;
	import_rejected(c, path, &x);
	/* the missing person is named (by list position or number), at the line
	 * where it was expected or at the totals; and nothing else is reported */
	char pos_end[32];
	snprintf(pos_end, sizeof(pos_end), "position %zu", k);
	bool named = false;
	for (size_t e = 0; e < x.n; e++) {
		const struct err *d = &x.v[e];
		if (strcmp(d->field, "registration") || (d->line != (long)i + 1 && d->line != (long)b03_line))
			continue;
		const char *at = strstr(d->found, pos_end);
		bool pos_ok = at && !isdigit((unsigned char)at[strlen(pos_end)]);
		named |= pos_ok || strstr(d->found, reg) || strstr(d->expected, reg);
	}
	if (!named || x.n != 1 || x.more) {
		for (size_t e = 0; e < x.n; e++)
			print_message("  reported %ld:%ld %s: expected %s; found %s\n", x.v[e].line, x.v[e].column,
				      x.v[e].field, x.v[e].expected, x.v[e].found);
		fail_msg("B02 of list position %zu (registration %s, line %zu) removed, totals fixed: expected "
			 "one error naming it at line %zu or %zu; got %zu (above)",
			 k, reg, i + 1, i + 1, b03_line, x.n);
	}
}

static void test_unknown_employer(void **state)
{
	struct ctx *c = *state;
	/* an affiliation with a valid check digit that is not registered */
	char aff[8] = "270389";
	aff[6] = aff_check_digit(aff);
	aff[7] = '\0';
	assert_string_equal(aff, "2703892");
	for (size_t k = 0; k < N_EMPLOYERS; k++)
		assert_string_not_equal(aff, c->affs[k]);
	struct run_result r;
	run_on(&r, &c->g, "employer", "show", aff, NULL);
	assert_int_not_equal(r.status, 0);
	run_result_free(&r);

	struct records f;
	records_load(&f, c->target);
	for (size_t i = 1; i < f.n; i++) /* every record but B00 */
		memcpy(f.v[i] + 3, aff, 7);
	char path[4300];
	write_bad(c, aff, &f, f.n, path, sizeof(path));

	struct rejection x;
	import_rejected(c, path, &x);
	expect_error(&x, path, 2, 4, "affiliation");
	/* and it was not registered on the way */
	run_on(&r, &c->g, "employer", "show", aff, NULL);
	assert_int_not_equal(r.status, 0);
	run_result_free(&r);
}

/* A B04 hire of a person the registry knows must name them as registered.
 * Otherwise an employer could hire a guessed registration number and read
 * the person back from its list of employees (GET .../employees). The
 * target's month-2 file gets one more hire: a person registered in month 1
 * by another employer. Declared with another name, or with another CIN, it
 * is refused at that line and field, without the registered value; with
 * the identity as registered, it is accepted (the check is not a refusal
 * of every hire of a known person). */
enum hire_change { HIRE_AS_REGISTERED, HIRE_OTHER_NAME, HIRE_OTHER_CIN };

static void write_with_hire(struct ctx *c, enum hire_change change, char *path, size_t cap, char *name, size_t name_cap,
			    long *line)
{
	/* a hire with a registration number in another employer's month 1 */
	static char hire[REC_LEN + 1];
	bool found = false;
	for (size_t k = 0; k < N_EMPLOYERS && !found; k++) {
		if (!strcmp(c->affs[k], c->target_aff))
			continue;
		char p[4300];
		snprintf(p, sizeof(p), "%s/DS_%s_%s.txt", c->g.files, c->affs[k], MONTH1);
		struct records o;
		records_load(&o, p);
		for (size_t i = 0; i < o.n && !found; i++) {
			struct person_line pl;
			if (!strncmp(o.v[i], "B04", 3) && person_line(o.v[i], &pl) && pl.registration != 0 &&
			    pl.registration != 999999999) {
				memcpy(hire, o.v[i], REC_LEN + 1);
				found = true;
			}
		}
		records_free(&o);
	}
	assert_true(found);
	memcpy(hire + 3, c->target_aff, 7);
	memcpy(hire + 10, MONTH2, 6);
	field_text(hire, 26, 60, name, name_cap);
	if (change == HIRE_OTHER_NAME) /* one letter of the name changed */
		hire[25] = hire[25] == 'Z' ? 'Y' : 'Z';
	if (change == HIRE_OTHER_CIN) /* one digit of the CIN changed */
		hire[92] = hire[92] == '9' ? '8' : '9';

	struct records f;
	records_load(&f, c->target);
	size_t i5 = records_find(&f, "B05");
	char **v = own(c, calloc(f.n + 1, sizeof(*v)));
	assert_non_null(v);
	for (size_t i = 0, k = 0; i < f.n; i++) {
		if (i == i5)
			v[k++] = hire;
		v[k++] = f.v[i];
	}
	*line = (long)i5 + 1;
	struct totals t;
	totals_read(f.v[i5], &t);
	t.employees++;
	t.registrations += field_num(hire, 17, 9);
	t.days += field_num(hire, 94, 2);
	t.real += field_num(hire, 96, 13);
	t.capped += field_num(hire, 109, 9);
	t.controls += field_num(hire, 118, 19);
	totals_write(f.v[i5], &t);
	struct records g = { .buf = NULL, .n = f.n + 1, .v = v };
	fix_totals(&g);
	bad_path(c, c->target_aff, path, cap);
	records_write(&g, g.n, path);
	records_free(&f);
}

static void test_hire_must_name_the_person(void **state)
{
	struct ctx *c = *state;
	char path[4300], name[64];
	long line;
	struct rejection x;
	write_with_hire(c, HIRE_OTHER_NAME, path, sizeof(path), name, sizeof(name), &line);
	import_rejected(c, path, &x);
	expect_error(&x, path, line, 26, "name");
	expect_only_line(&x, line);
	assert_null(strstr(x.err, name)); /* the registered name is not told */
	assert_null(strstr(x.json, name));

	write_with_hire(c, HIRE_OTHER_CIN, path, sizeof(path), name, sizeof(name), &line);
	import_rejected(c, path, &x);
	expect_error(&x, path, line, 86, "cin");
	expect_only_line(&x, line);

	write_with_hire(c, HIRE_AS_REGISTERED, path, sizeof(path), name, sizeof(name), &line);
	struct run_result r;
	run_on(&r, &c->g, "import", path, NULL);
	if (r.status != 0)
		fail_msg("a hire naming the person as registered is refused: %s", r.err);
	run_result_free(&r);
}

static int count_char(const char *s, char ch)
{
	int n = 0;
	for (; *s; s++)
		n += *s == ch;
	return n;
}

static void test_duplicate_period(void **state)
{
	struct ctx *c = *state;
	struct run_result r;
	run_on(&r, &c->g, "import", c->target, NULL);
	if (r.status != 0)
		fail_msg("first import of %s: %d %s", c->target, r.status, r.err);
	run_result_free(&r);

	struct rejection x;
	import_rejected(c, c->target, &x);
	expect_error(&x, c->target, 2, 11, "period");
	expect_only_line(&x, 2);
	/* the message is whole (not cut in the middle of its parenthesis) */
	const struct err *e = find_err(&x, 2, 11, "period");
	if (count_char(e->expected, '(') != count_char(e->expected, ')'))
		fail_msg("truncated message: expected \"%s\"", e->expected);
}

static void test_truncated_mid_record(void **state)
{
	struct ctx *c = *state;
	size_t len;
	char *b = read_file(c->target, &len);
	assert_non_null(b);
	size_t cut = 3 * (REC_LEN + 2) + 100; /* 100 characters into line 4 */
	assert_true(cut < len);
	char path[4300];
	bad_path(c, c->target_aff, path, sizeof(path));
	assert_int_equal(write_file(path, b, cut), 0);
	free(b);

	struct rejection x;
	import_rejected(c, path, &x);
	expect_error(&x, path, 4, 0, "record");
	/* and the end of the file is reported as premature */
	bool eof = false;
	for (size_t i = 0; i < x.n; i++)
		eof |= !strcmp(x.v[i].field, "file");
	assert_true(eof);
}

static void test_truncated_after_b03(void **state)
{
	struct ctx *c = *state;
	struct records f;
	records_load(&f, c->target);
	size_t i3 = records_find(&f, "B03");
	char path[4300];
	write_bad(c, c->target_aff, &f, i3 + 1, path, sizeof(path));

	struct rejection x;
	import_rejected(c, path, &x);
	/* the end comes where B04/B05 was due: after line i3 + 1 */
	long l = (long)i3 + 2;
	if (!find_err(&x, l, 0, "file"))
		l = (long)i3 + 1;
	expect_error(&x, path, l, 0, "file");
	assert_int_equal(x.n, 1);
}

static void test_binary_garbage(void **state)
{
	struct ctx *c = *state;
	unsigned char g[4096];
	uint32_t s = 12345;
	for (size_t i = 0; i < sizeof(g); i++) {
		s = s * 1103515245u + 12345u;
		g[i] = (unsigned char)(s >> 16);
		if (i < 400 && g[i] == '\n') /* first line longer than a record */
			g[i] = 0;
		if (i % 97 == 0)
			g[i] = 0;
	}
	char path[4300];
	bad_path(c, c->target_aff, path, sizeof(path));
	assert_int_equal(write_file(path, g, sizeof(g)), 0);

	struct rejection x;
	import_rejected(c, path, &x);
	expect_error(&x, path, 1, 0, "record");
	/* the garbage is not echoed: output is printable text */
	for (const char *p = x.err; *p; p++)
		if (!isprint((unsigned char)*p) && *p != '\n' && *p != '\t')
			fail_msg("stderr holds byte 0x%02x", (unsigned char)*p);
	for (const char *p = x.json; *p; p++)
		if (!isprint((unsigned char)*p) && *p != '\n')
			fail_msg("--json output holds byte 0x%02x", (unsigned char)*p);
}

static void test_empty_file(void **state)
{
	struct ctx *c = *state;
	char path[4300];
	bad_path(c, c->target_aff, path, sizeof(path));
	assert_int_equal(write_file(path, "", 0), 0);

	struct rejection x;
	import_rejected(c, path, &x);
	/* line 0 or 1, column 0: the whole (empty) file */
	long l = find_err(&x, 0, 0, "file") ? 0 : 1;
	expect_error(&x, path, l, 0, "file");
	assert_int_equal(x.n, 1);
}

static int64_t file_real_salaries(const char *path, int64_t *lines)
{
	struct records f;
	records_load(&f, path);
	int64_t real = 0;
	*lines = 0;
	for (size_t i = 0; i < f.n; i++) {
		struct person_line p;
		if (person_line(f.v[i], &p)) {
			real += p.real;
			++*lines;
		}
	}
	records_free(&f);
	return real;
}

/* stdout of `amana ARGS...` (owned by the test), and its status. */
static char *run_out(struct ctx *c, int *status, ...)
{
	struct run_result r;
	va_list ap;
	va_start(ap, status);
	run_on_va(&r, &c->g, ap);
	va_end(ap);
	*status = r.status;
	char *o = own(c, r.out);
	r.out = NULL;
	run_result_free(&r);
	return o;
}

/* A complementary declaration (DSC1, E records) for month 1 adds a person
 * to the employer's month-1 declaration: the month-2 pre-filled list has
 * that person last, after the main declaration's, and a month-2 file
 * written before it lacks them. The import says so at the same position
 * whether the file reads its list itself (imported alone) or takes it from
 * what was read ahead for a run of files. */
/* Write DSC1_<a>_<month>.txt into outdir: employer a's complementary
 * declaration for month (the headers of its main one, no E02) adding one
 * person, hired by employer b that month and registered. Returns that
 * person's registration number. */
static int64_t write_dsc1(const char *files, const char *outdir, const char *a, const char *b, const char *month,
			  char *dsc_path, size_t cap)
{
	char path[4300];
	struct records fb;
	snprintf(path, sizeof(path), "%s/DS_%s_%s.txt", files, b, month);
	records_load(&fb, path);
	const char *hire = NULL;
	for (size_t i = 0; i < fb.n && !hire; i++) {
		struct person_line pl;
		if (!strncmp(fb.v[i], "B04", 3) && person_line(fb.v[i], &pl) && pl.registration != 0 &&
		    pl.registration != 999999999)
			hire = fb.v[i];
	}
	assert_non_null(hire);
	int64_t reg = field_num(hire, 17, 9);

	struct records fa;
	snprintf(path, sizeof(path), "%s/DS_%s_%s.txt", files, a, month);
	records_load(&fa, path);
	static char rec[6][REC_LEN + 1];
	const char *from[6] = { fa.v[records_find(&fa, "B00")], fa.v[records_find(&fa, "B01")],
				fa.v[records_find(&fa, "B03")], hire,
				fa.v[records_find(&fa, "B05")], fa.v[records_find(&fa, "B06")] };
	for (int k = 0; k < 6; k++) {
		memcpy(rec[k], from[k], REC_LEN);
		rec[k][REC_LEN] = '\0';
		rec[k][0] = 'E';
	}
	memcpy(rec[3] + 3, a, 7); /* the hire line, now employer a's */
	for (int col = 17; col <= 144; col++) /* E03: no E02 lines, every total 0 */
		rec[2][col - 1] = '0';
	struct totals t = { .employees = 1,
			    .registrations = reg,
			    .days = field_num(hire, 94, 2),
			    .real = field_num(hire, 96, 13),
			    .capped = field_num(hire, 109, 9),
			    .controls = field_num(hire, 118, 19) };
	totals_write(rec[4], &t);
	totals_write(rec[5], &t);
	char *v[6] = { rec[0], rec[1], rec[2], rec[3], rec[4], rec[5] };
	struct records dsc = { .buf = NULL, .n = 6, .v = v };
	snprintf(dsc_path, cap, "%s/DSC1_%s_%s.txt", outdir, a, month);
	records_write(&dsc, 6, dsc_path);
	records_free(&fb);
	records_free(&fa);
	return reg;
}

/* A complementary declaration (DSC1, E records) for month 1 adds a person
 * to the employer's month-1 declaration: the month-2 pre-filled list has
 * that person last, after the main declaration's, and a month-2 file
 * written before it lacks them. The import says so at the same position
 * whether the file reads its list itself (imported alone) or takes it from
 * what was read ahead for a run of files. */
static void test_complementary_declaration_joins_the_list(void **state)
{
	struct ctx *c = *state;
	const char *a = c->affs[0];
	char dsc_path[4300];
	int64_t reg = write_dsc1(c->g.files, c->bad, a, c->affs[1], MONTH1, dsc_path, sizeof(dsc_path));
	struct run_result r;
	run_on(&r, &c->g, "import", dsc_path, NULL);
	if (r.status != 0)
		fail_msg("complementary declaration refused (%d): %s", r.status, r.err);
	run_result_free(&r);

	/* the list for month 2 ends with that person */
	int st;
	char *list = run_out(c, &st, "prefill", a, MONTH2, NULL);
	assert_int_equal(st, 0);
	const char *last = NULL;
	for (const char *q = list; (q = strstr(q, "A02")); q += 3)
		if (q == list || q[-1] == '\n')
			last = q;
	assert_non_null(last);
	assert_int_equal(field_num(last, 17, 9), reg);
	size_t listed = 0;
	for (const char *q = list; (q = strstr(q, "A02")); q += 3)
		listed += q == list || q[-1] == '\n';

	/* a's month-2 file answers the list without that last person */
	char a2[4300], other2[4300];
	snprintf(a2, sizeof(a2), "%s/DS_%s_%s.txt", c->g.files, a, MONTH2);
	snprintf(other2, sizeof(other2), "%s/DS_%s_%s.txt", c->g.files, c->affs[2], MONTH2);
	char want[64];
	snprintf(want, sizeof(want), "position %zu ", listed);
	for (int alone = 0; alone < 2; alone++) {
		if (alone)
			run_on(&r, &c->g, "import", "--json", a2, NULL);
		else
			run_on(&r, &c->g, "import", "--json", a2, other2, NULL);
		assert_int_equal(r.status, 3);
		const char *o = json_ws(r.out);
		assert_non_null(json_skip(o));
		if (!alone) /* both files checked against what was read ahead */
			assert_int_equal(json_int(o, "read_ahead"), 2);
		const char *errs = json_get(json_file(o, a2), "errors");
		assert_non_null(errs);
		bool named = false;
		char found[256];
		for (size_t e = 0; json_at(errs, e); e++)
			named |=
			    json_str(json_at(errs, e), "found", found, sizeof(found)) && strstr(found, want) != NULL;
		if (!named || json_at(errs, 1))
			fail_msg("%s: expected one error naming list %s; got %s", alone ? "alone" : "in a run", want,
				 r.out);
		run_result_free(&r);
	}
}

/* A complementary declaration imported in the same run as its main one,
 * in a later window of files read ahead: that window was read before the
 * main declaration was written (on PostgreSQL by another connection, which
 * cannot see the import's open transaction), so the file must read for
 * itself, and is accepted. */
static void test_complementary_after_its_main_in_one_run(void **state)
{
	(void)state;
	struct registry g;
	registry_new(&g, "reject-window");
	run_gen(&g, g.files, "300", "900", "1", "5");
	char **names;
	size_t n = list_dir(g.files, "DS_", &names);
	assert_int_equal(n, 300);
	char a[8], b[8], dsc[4300];
	memcpy(a, names[0] + 3, 7);
	memcpy(b, names[1] + 3, 7);
	a[7] = b[7] = '\0';
	free_list(names, n);
	(void)write_dsc1(g.files, g.files, a, b, MONTH1, dsc, sizeof(dsc));

	struct run_result r;
	char *dir[] = { g.files };
	const char *opts[] = { "--json", NULL };
	run_import(&r, &g, opts, dir, 1);
	if (r.status != 0)
		fail_msg("import of 300 files and a complementary one exited %d: %s %.600s", r.status, r.err, r.out);
	/* the main declaration in the first window (256 files), the
	 * complementary one past it */
	const char *files = json_get(json_ws(r.out), "files");
	assert_non_null(files);
	char name[4300], main_path[4300];
	snprintf(main_path, sizeof(main_path), "%s/DS_%s_%s.txt", g.files, a, MONTH1);
	size_t at_main = SIZE_MAX, at_dsc = SIZE_MAX, count = 0;
	for (const char *f; (f = json_at(files, count)); count++) {
		json_str(f, "file", name, sizeof(name));
		if (!strcmp(name, main_path))
			at_main = count;
		if (!strcmp(name, dsc))
			at_dsc = count;
	}
	assert_int_equal(count, 301);
	assert_true(at_main < 256);
	assert_int_equal(at_dsc, 300);
	char status[32];
	assert_string_equal(json_str(json_at(files, at_dsc), "status", status, sizeof(status)), "accepted");
	run_result_free(&r);
	registry_free(&g);
}

/* Rewrite the declaration at path with one more B04 line, before B05: a
 * new hire by CIN only (registration 000000000), counted in B05 and B06. */
static void add_cin_hire(const char *path, const char *cin, const char *name)
{
	struct records f;
	records_load(&f, path);
	size_t i3 = records_find(&f, "B03"), i5 = records_find(&f, "B05"), i6 = records_find(&f, "B06");
	char line[REC_LEN + 1];
	memset(line, ' ', REC_LEN);
	line[REC_LEN] = '\0';
	memcpy(line, "B04", 3);
	memcpy(line + 3, f.v[i3] + 3, 13); /* the affiliation and period */
	const int64_t days = 26, real = 412300, capped = 412300;
	field_put_num(line, 17, 9, 0);
	memcpy(line + 25, name, strlen(name));
	memcpy(line + 85, cin, strlen(cin));
	field_put_num(line, 94, 2, days);
	field_put_num(line, 96, 13, real);
	field_put_num(line, 109, 9, capped);
	field_put_num(line, 118, 19, days + real + capped);
	for (size_t k = 0; k < 2; k++) {
		struct totals t;
		char *rec = f.v[k ? i6 : i5];
		totals_read(rec, &t);
		t.employees++;
		t.days += days;
		t.real += real;
		t.capped += capped;
		t.controls += days + real + capped;
		totals_write(rec, &t);
	}
	char **v = calloc(f.n + 1, sizeof(*v));
	assert_non_null(v);
	for (size_t i = 0, j = 0; i < f.n; i++) {
		if (i == i5)
			v[j++] = line;
		v[j++] = f.v[i];
	}
	struct records out = { .buf = NULL, .n = f.n + 1, .v = v };
	records_write(&out, out.n, path);
	free(v);
	records_free(&f);
}

/* A new person hired by CIN only by two employers in one run is registered
 * once. On a database server the reading thread looks each CIN up ahead,
 * on its own connection: for the second file it finds nobody, under the
 * very transaction that registered the person for the first file (the
 * files are 39 apart, farther than the reading thread runs ahead), and the
 * import thread must still find that person. */
static void test_new_cin_hired_twice_in_one_run(void **state)
{
	(void)state;
	struct registry g;
	registry_new(&g, "reject-cin-twice");
	run_gen(&g, g.files, "40", "200", "1", "11");
	char **names;
	size_t n = list_dir(g.files, "DS_", &names);
	assert_int_equal(n, 40);
	/* gen's own hires by CIN: each a person of their own */
	int64_t by_cin = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4300];
		snprintf(path, sizeof(path), "%s/%s", g.files, names[i]);
		struct records f;
		records_load(&f, path);
		for (size_t k = 0; k < f.n; k++) {
			struct person_line pl;
			by_cin += person_line(f.v[k], &pl) && pl.hire && pl.registration == 0;
		}
		records_free(&f);
	}
	char first[4300], last[4300];
	snprintf(first, sizeof(first), "%s/%s", g.files, names[0]);
	snprintf(last, sizeof(last), "%s/%s", g.files, names[n - 1]);
	free_list(names, n);
	add_cin_hire(first, "QQ771199", "TWICEHIRED NOUHAILA");
	add_cin_hire(last, "QQ771199", "TWICEHIRED NOUHAILA");

	struct run_result r;
	run_on(&r, &g, "stats", "--json", NULL);
	assert_int_equal(r.status, 0);
	int64_t before = json_int(json_ws(r.out), "persons");
	run_result_free(&r);
	char *dir[] = { g.files };
	const char *opts[] = { "--json", NULL };
	run_import(&r, &g, opts, dir, 1);
	if (r.status != 0)
		fail_msg("import exited %d: %s %.600s", r.status, r.err, r.out);
	const char *o = json_ws(r.out);
	assert_non_null(json_skip(o));
	assert_int_equal(json_int(o, "accepted"), 40);
	assert_int_equal(json_int(o, "new_persons"), by_cin + 1);
	run_result_free(&r);
	run_on(&r, &g, "stats", "--json", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(json_int(json_ws(r.out), "persons"), before + by_cin + 1);
	run_result_free(&r);
	registry_free(&g);
}

static void test_batch_with_bad_middle_file(void **state)
{
	struct ctx *c = *state;
	/* three employers' month-2 files; the middle one has wrong totals */
	char good1[4200], good2[4200], bad[4300];
	const char *a1 = c->affs[0], *ab = c->affs[1], *a2 = c->affs[2];
	snprintf(good1, sizeof(good1), "%s/DS_%s_%s.txt", c->g.files, a1, MONTH2);
	snprintf(good2, sizeof(good2), "%s/DS_%s_%s.txt", c->g.files, a2, MONTH2);
	char src[4200];
	snprintf(src, sizeof(src), "%s/DS_%s_%s.txt", c->g.files, ab, MONTH2);
	struct records f;
	records_load(&f, src);
	size_t i3 = records_find(&f, "B03");
	field_put_num(f.v[i3], 17, 6, field_num(f.v[i3], 17, 6) + 1); /* employees */
	write_bad(c, ab, &f, f.n, bad, sizeof(bad));

	int st;
	char *stats0 = run_out(c, &st, "stats", "--json", NULL);
	assert_int_equal(st, 0);
	char *show0 = run_out(c, &st, "employer", "show", ab, "--json", NULL);
	assert_int_equal(st, 0);
	char *contrib0 = run_out(c, &st, "contributions", ab, MONTH2, "--json", NULL);
	assert_int_not_equal(st, 0);

	struct run_result r;
	run_on(&r, &c->g, "import", "--json", good1, bad, good2, NULL);
	assert_int_equal(r.status, 3);
	const char *o = json_ws(r.out);
	assert_non_null(json_skip(o));
	assert_int_equal(json_int(o, "accepted"), 2);
	assert_int_equal(json_int(o, "rejected"), 1);
	char s[32];
	assert_string_equal(json_str(json_file(o, good1), "status", s, sizeof(s)), "accepted");
	assert_string_equal(json_str(json_file(o, good2), "status", s, sizeof(s)), "accepted");
	const char *fb = json_file(o, bad);
	assert_string_equal(json_str(fb, "status", s, sizeof(s)), "rejected");
	const char *e0 = json_at(json_get(fb, "errors"), 0);
	assert_non_null(e0);
	assert_int_equal(json_int(e0, "line"), i3 + 1);
	assert_int_equal(json_int(e0, "column"), 17);
	assert_string_equal(json_str(e0, "field", s, sizeof(s)), "employees");
	run_result_free(&r);

	/* the two good files are in */
	int64_t l1, l2;
	int64_t r1 = file_real_salaries(good1, &l1), r2 = file_real_salaries(good2, &l2);
	char *stats1 = run_out(c, &st, "stats", "--json", NULL);
	assert_int_equal(json_int(json_ws(stats1), "declarations"), json_int(json_ws(stats0), "declarations") + 2);
	assert_int_equal(json_int(json_ws(stats1), "lines"), json_int(json_ws(stats0), "lines") + l1 + l2);
	assert_int_equal(json_int(json_ws(stats1), "employers"), json_int(json_ws(stats0), "employers"));
	char *ca = run_out(c, &st, "contributions", a1, MONTH2, "--json", NULL);
	assert_int_equal(st, 0);
	assert_int_equal(json_int(json_ws(ca), "real_salaries"), r1);
	ca = run_out(c, &st, "contributions", a2, MONTH2, "--json", NULL);
	assert_int_equal(st, 0);
	assert_int_equal(json_int(json_ws(ca), "real_salaries"), r2);

	/* the bad one wrote nothing */
	char *show1 = run_out(c, &st, "employer", "show", ab, "--json", NULL);
	assert_string_equal(show0, show1);
	char *contrib1 = run_out(c, &st, "contributions", ab, MONTH2, "--json", NULL);
	assert_int_not_equal(st, 0);
	assert_string_equal(contrib0, contrib1);

	/* and once corrected, it is accepted: the period was not taken */
	run_on(&r, &c->g, "import", src, NULL);
	if (r.status != 0)
		fail_msg("the corrected file is refused: %s", r.err);
	run_result_free(&r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_valid_file_is_accepted),
		T(test_fix_totals_reference),
		T(test_wrong_record_length),
		T(test_lowercase_in_name),
		T(test_non_digit_in_n_field),
		T(test_wrong_row_control_sum),
		T(test_wrong_totals),
		T(test_missing_b02_line),
		T(test_unknown_employer),
		T(test_duplicate_period),
		T(test_truncated_mid_record),
		T(test_truncated_after_b03),
		T(test_binary_garbage),
		T(test_empty_file),
		T(test_batch_with_bad_middle_file),
		T(test_complementary_declaration_joins_the_list),
		T(test_hire_must_name_the_person),
		cmocka_unit_test(test_complementary_after_its_main_in_one_run),
		cmocka_unit_test(test_new_cin_hired_twice_in_one_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
