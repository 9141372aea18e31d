/*
 * rules.c - parser of the dated rules text (format in rules.h) and the
 * lookups "what was in force for period P".
 *
 * The text is trusted more than an upload but is still edited by hand, so
 * every line is checked and the first bad one is reported with its number;
 * nothing is half-loaded: on error *out is left zeroed.
 */
#include "rules.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"

#define BRANCH_SLOTS (RULES_MAX_ENTRIES / BRANCH_COUNT)
#define PARAM_NAME_MAX (sizeof(((struct param_rule *)0)->name) - 1)
#define TOKEN_SHOW_MAX 24 /* characters of a bad token quoted in a message */
#define FIELDS_MAX 6 /* a branch line, the longest */

static const char *const branch_names[BRANCH_COUNT] = {
	[BRANCH_FAMILY] = "family",
	[BRANCH_SHORT_TERM] = "short_term",
	[BRANCH_LONG_TERM] = "long_term",
	[BRANCH_HEALTH] = "health",
	[BRANCH_HEALTH_SOLIDARITY] = "health_solidarity",
	[BRANCH_TRAINING] = "training",
};

const char *branch_name(enum branch b)
{
	if ((unsigned)b >= BRANCH_COUNT)
		return "unknown";
	return branch_names[b];
}

struct field {
	const char *p;
	size_t len;
};

static bool field_is(struct field f, const char *word)
{
	size_t n = strlen(word);

	return f.len == n && memcmp(f.p, word, n) == 0;
}

/* A token made safe to quote: truncated, control bytes replaced. */
static void token_show(struct field f, char out[TOKEN_SHOW_MAX + 4])
{
	size_t n = f.len < TOKEN_SHOW_MAX ? f.len : TOKEN_SHOW_MAX;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)f.p[i];
		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (f.len > n) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

__attribute__((format(printf, 4, 5))) static enum amana_err fail(struct rules_error *err, unsigned line,
								 enum amana_err code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->line = line;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

/* YYYY-MM into YYYYMM; years before 1900 are taken for typing errors. */
static bool parse_from(struct field f, uint32_t *out)
{
	uint64_t year, month;

	if (f.len != 7 || f.p[4] != '-')
		return false;
	if (!parse_digits(f.p, 4, &year) || !parse_digits(f.p + 5, 2, &month))
		return false;
	if (year < 1900 || month < 1 || month > 12)
		return false;
	*out = (uint32_t)(year * 100 + month);
	return true;
}

static bool param_name_ok(struct field f)
{
	if (f.len == 0 || f.len > PARAM_NAME_MAX)
		return false;
	for (size_t i = 0; i < f.len; i++) {
		char c = f.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static enum amana_err parse_param(struct rules *r, const struct field *fl, size_t n, unsigned line,
				  struct rules_error *err)
{
	char shown[TOKEN_SHOW_MAX + 4];
	struct param_rule *p;
	uint32_t from;
	uint64_t value;

	if (n != 4)
		return fail(err, line, AMANA_ERR_INPUT, "param needs 3 fields (NAME FROM VALUE), found %zu", n - 1);
	if (!param_name_ok(fl[1])) {
		token_show(fl[1], shown);
		return fail(err, line, AMANA_ERR_INPUT,
			    "bad parameter name \"%s\" (a-z, 0-9, _; at most %zu characters)", shown, PARAM_NAME_MAX);
	}
	if (!parse_from(fl[2], &from)) {
		token_show(fl[2], shown);
		return fail(err, line, AMANA_ERR_INPUT, "bad FROM date \"%s\" (expected YYYY-MM, month 01-12)", shown);
	}
	if (!parse_digits(fl[3].p, fl[3].len, &value)) {
		token_show(fl[3], shown);
		return fail(err, line, AMANA_ERR_INPUT,
			    "bad value \"%s\" (expected a non-negative integer of at most 18 digits)", shown);
	}
	for (unsigned i = 0; i < r->param_count; i++) {
		p = &r->params[i];
		if (p->from == from && strlen(p->name) == fl[1].len && memcmp(p->name, fl[1].p, fl[1].len) == 0) {
			token_show(fl[1], shown);
			return fail(err, line, AMANA_ERR_INPUT, "duplicate entry for param %s from %.7s", shown,
				    fl[2].p);
		}
	}
	if (r->param_count >= RULES_MAX_ENTRIES)
		return fail(err, line, AMANA_ERR_LIMIT, "more than %u params", (unsigned)RULES_MAX_ENTRIES);
	p = &r->params[r->param_count++];
	memcpy(p->name, fl[1].p, fl[1].len);
	p->name[fl[1].len] = '\0';
	p->from = from;
	p->value = (int64_t)value;
	return AMANA_OK;
}

static enum amana_err parse_branch(struct rules *r, const struct field *fl, size_t n, unsigned line,
				   struct rules_error *err)
{
	char shown[TOKEN_SHOW_MAX + 4];
	struct branch_rule rule;
	unsigned b;

	if (n != 6)
		return fail(err, line, AMANA_ERR_INPUT,
			    "branch needs 5 fields (NAME FROM BASE EMPLOYER%% EMPLOYEE%%), found %zu", n - 1);
	for (b = 0; b < BRANCH_COUNT; b++) {
		if (field_is(fl[1], branch_names[b]))
			break;
	}
	if (b == BRANCH_COUNT) {
		token_show(fl[1], shown);
		return fail(err, line, AMANA_ERR_INPUT, "unknown branch \"%s\"", shown);
	}
	if (!parse_from(fl[2], &rule.from)) {
		token_show(fl[2], shown);
		return fail(err, line, AMANA_ERR_INPUT, "bad FROM date \"%s\" (expected YYYY-MM, month 01-12)", shown);
	}
	if (field_is(fl[3], "real")) {
		rule.base = BASE_REAL;
	} else if (field_is(fl[3], "capped")) {
		rule.base = BASE_CAPPED;
	} else {
		token_show(fl[3], shown);
		return fail(err, line, AMANA_ERR_INPUT, "bad base \"%s\" (expected real or capped)", shown);
	}
	for (unsigned k = 4; k <= 5; k++) {
		ppm *rate = k == 4 ? &rule.employer : &rule.employee;
		if (!rate_parse_percent(fl[k].p, fl[k].len, rate)) {
			token_show(fl[k], shown);
			return fail(err, line, AMANA_ERR_INPUT,
				    "bad %s rate \"%s\" (expected a percentage 0-100, at most 4 decimals)",
				    k == 4 ? "employer" : "employee", shown);
		}
	}
	for (unsigned i = 0; i < r->branch_count[b]; i++) {
		if (r->branches[b][i].from == rule.from)
			return fail(err, line, AMANA_ERR_INPUT, "duplicate entry for branch %s from %.7s",
				    branch_names[b], fl[2].p);
	}
	if (r->branch_count[b] >= BRANCH_SLOTS)
		return fail(err, line, AMANA_ERR_LIMIT, "more than %u entries for branch %s", (unsigned)BRANCH_SLOTS,
			    branch_names[b]);
	r->branches[b][r->branch_count[b]++] = rule;
	return AMANA_OK;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static enum amana_err parse_line(struct rules *r, const char *p, size_t len, unsigned line, struct rules_error *err)
{
	struct field fl[FIELDS_MAX];
	char shown[TOKEN_SHOW_MAX + 4];
	const char *hash = memchr(p, '#', len);
	size_t n = 0, i = 0;

	if (hash)
		len = (size_t)(hash - p);
	while (i < len) {
		size_t start;

		while (i < len && is_blank(p[i]))
			i++;
		if (i == len)
			break;
		if (n == FIELDS_MAX)
			return fail(err, line, AMANA_ERR_INPUT, "too many fields (at most %d)", FIELDS_MAX);
		start = i;
		while (i < len && !is_blank(p[i]))
			i++;
		fl[n].p = p + start;
		fl[n].len = i - start;
		n++;
	}
	if (n == 0)
		return AMANA_OK;
	if (field_is(fl[0], "param"))
		return parse_param(r, fl, n, line, err);
	if (field_is(fl[0], "branch"))
		return parse_branch(r, fl, n, line, err);
	token_show(fl[0], shown);
	return fail(err, line, AMANA_ERR_INPUT, "unknown keyword \"%s\" (expected param or branch)", shown);
}

static int param_order(const void *a, const void *b)
{
	const struct param_rule *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return (x->from > y->from) - (x->from < y->from);
}

enum amana_err rules_parse(const char *text, size_t len, struct rules *out, struct rules_error *err)
{
	enum amana_err result = AMANA_OK;
	unsigned line = 1;
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	if (err) {
		err->line = 0;
		err->message[0] = '\0';
	}
	if (!text && len != 0)
		return fail(err, 0, AMANA_ERR_USAGE, "no text");
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		result = parse_line(out, text + pos, end - pos, line, err);
		if (result)
			goto out;
		pos = end + 1;
		if (line < UINT_MAX)
			line++;
	}
out:
	if (result)
		memset(out, 0, sizeof(*out));
	else /* by name, then FROM: rules_param_at searches by halves */
		qsort(out->params, out->param_count, sizeof(out->params[0]), param_order);
	return result;
}

enum amana_err rules_branch_at(const struct rules *r, enum branch b, uint32_t period, struct branch_rule *out)
{
	const struct branch_rule *best = NULL;

	if ((unsigned)b >= BRANCH_COUNT)
		return AMANA_ERR_USAGE;
	/* Entries come in file order, so scan them all: at most 42. */
	for (unsigned i = 0; i < r->branch_count[b]; i++) {
		const struct branch_rule *e = &r->branches[b][i];
		if (e->from <= period && (!best || e->from > best->from))
			best = e;
	}
	if (!best)
		return AMANA_ERR_NOTFOUND;
	*out = *best;
	return AMANA_OK;
}

enum amana_err rules_param_at(const struct rules *r, const char *name, uint32_t period, int64_t *out)
{
	uint32_t until;
	return rules_param_span(r, name, period, out, &until);
}

enum amana_err rules_param_span(const struct rules *r, const char *name, uint32_t period, int64_t *out, uint32_t *until)
{
	const struct param_rule *best = NULL;
	unsigned lo = 0, hi;

	if (!name)
		return AMANA_ERR_USAGE;
	/* Sorted by name then FROM (rules_parse): the first entry of the
	 * name by halves, then the last of its entries in force. A batch over
	 * millions of persons looks parameters up tens of times each. */
	hi = r->param_count;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (strcmp(r->params[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*until = UINT32_MAX;
	for (unsigned i = lo; i < r->param_count && strcmp(r->params[i].name, name) == 0; i++) {
		if (r->params[i].from <= period) {
			best = &r->params[i];
		} else {
			*until = r->params[i].from;
			break;
		}
	}
	if (!best)
		return AMANA_ERR_NOTFOUND;
	*out = best->value;
	return AMANA_OK;
}
