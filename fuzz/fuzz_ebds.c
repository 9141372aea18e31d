/*
 * fuzz_ebds.c - libFuzzer target for the e-BDS codec (core/ebds.h) and the
 * text normalizer (core/text.h).
 *
 * The input bytes are, all at once:
 *  - a file: split by ebds_linebuf (fed in pieces whose sizes come from the
 *    first byte, so line ends fall across feeds), every line checked by
 *    ebds_check_line, the end by ebds_check_end;
 *  - for every record that parsed: ebds_format must give AMANA_OK or
 *    AMANA_ERR_LIMIT, and what it writes must read back as the same fields
 *    (unless the line held a NUL byte, see format_back);
 *  - a file name for ebds_parse_filename;
 *  - free text for text_to_ebds.
 * Any violation aborts, so libFuzzer keeps the input.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ebds.h"
#include "core/rules.h"
#include "core/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                       \
			abort();                                                                                       \
		}                                                                                                      \
	} while (0)

/* The salary ceiling line of data/rules.txt, built in. */
static const char ceiling_rules[] = "param ceiling 2002-01 600000\n";
static struct rules rules;
static bool rules_loaded;

struct run {
	struct ebds_check chk;
	struct ebds_errors errs;
	unsigned lines;
};

static bool terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static void errors_sane(const struct ebds_errors *e)
{
	CHECK(e->count <= EBDS_ERRORS_MAX);
	CHECK(e->dropped == 0 || e->count == EBDS_ERRORS_MAX);
	for (unsigned i = 0; i < e->count; i++) {
		CHECK(terminated(e->list[i].field, sizeof(e->list[i].field)));
		CHECK(terminated(e->list[i].expected, sizeof(e->list[i].expected)));
		CHECK(terminated(e->list[i].found, sizeof(e->list[i].found)));
		CHECK(e->list[i].column <= EBDS_RECORD_LEN);
	}
}

/* Field-by-field: a is what the checker read, b what it read back from
 * ebds_format(a). */
static void same_fields(const struct ebds_record *a, const struct ebds_record *b)
{
	CHECK(a->type == b->type && a->family == b->family);
	switch (a->type) {
	case EBDS_HEADER:
		CHECK(a->u.header.transfer_id == b->u.header.transfer_id);
		CHECK(strcmp(a->u.header.category, b->u.header.category) == 0);
		return;
	case EBDS_EMPLOYER: {
		const struct ebds_employer *x = &a->u.employer, *y = &b->u.employer;
		CHECK(x->affiliation == y->affiliation && x->period == y->period);
		CHECK(strcmp(x->name, y->name) == 0 && strcmp(x->activity, y->activity) == 0);
		CHECK(strcmp(x->address, y->address) == 0 && strcmp(x->city, y->city) == 0);
		CHECK(strcmp(x->postcode, y->postcode) == 0 && strcmp(x->agency, y->agency) == 0);
		CHECK(x->issue_date == y->issue_date && x->due_date == y->due_date);
		break;
	}
	case EBDS_PREFILL:
	case EBDS_SALARY: {
		const struct ebds_person_line *x = &a->u.person, *y = &b->u.person;
		CHECK(x->affiliation == y->affiliation && x->period == y->period);
		CHECK(x->registration == y->registration && strcmp(x->name, y->name) == 0);
		CHECK(x->children == y->children && x->af_to_pay == y->af_to_pay);
		CHECK(x->af_to_deduct == y->af_to_deduct && x->af_net == y->af_net);
		if (a->type == EBDS_PREFILL)
			break;
		CHECK(x->af_give_back == y->af_give_back && x->days == y->days);
		CHECK(x->real_salary == y->real_salary && x->capped_salary == y->capped_salary);
		CHECK(x->situation == y->situation);
		/* The writer computes the control sum; the reader reads it. */
		CHECK(y->control == ebds_salary_control(x));
		break;
	}
	case EBDS_HIRE: {
		const struct ebds_hire_line *x = &a->u.hire, *y = &b->u.hire;
		CHECK(x->blank == y->blank);
		if (x->blank)
			return; /* written as the type alone */
		CHECK(x->affiliation == y->affiliation && x->period == y->period);
		CHECK(x->registration == y->registration && strcmp(x->name, y->name) == 0);
		CHECK(strcmp(x->cin, y->cin) == 0 && x->days == y->days);
		CHECK(x->real_salary == y->real_salary && x->capped_salary == y->capped_salary);
		CHECK(y->control == ebds_hire_control(x));
		break;
	}
	case EBDS_PREFILL_SUM:
	case EBDS_SALARY_SUM:
	case EBDS_HIRE_SUM:
	case EBDS_GRAND_SUM: CHECK(memcmp(&a->u.sums, &b->u.sums, sizeof(a->u.sums)) == 0); break;
	}
	CHECK(a->affiliation == b->affiliation && a->period == b->period);
}

/* line: the bytes rec was read from. A NUL byte inside a text field ends
 * the C string the reader makes of it (the line is an error anyway), so
 * such a field cannot read back the same: only the format is checked then. */
static void format_back(const struct ebds_record *rec, const char *line)
{
	char out[EBDS_LINE_MAX];
	enum amana_err err = ebds_format(rec, out);

	CHECK(err == AMANA_OK || err == AMANA_ERR_LIMIT);
	if (err != AMANA_OK)
		return;
	CHECK(out[EBDS_RECORD_LEN] == '\r' && out[EBDS_RECORD_LEN + 1] == '\n');

	if (memchr(line, '\0', EBDS_RECORD_LEN))
		return;
	/* Read it back on its own: order errors are expected, the fields must
	 * be the same. */
	static struct ebds_check chk;
	static struct ebds_errors errs;
	struct ebds_record back;
	ebds_check_init(&chk, NULL);
	ebds_errors_clear(&errs);
	CHECK(ebds_check_line(&chk, out, EBDS_RECORD_LEN, 1, &back, &errs));
	same_fields(rec, &back);
}

static int on_line(void *ctx, const char *line, size_t len, unsigned lineno, bool too_long)
{
	struct run *r = ctx;
	struct ebds_record rec;

	CHECK(len <= EBDS_LINE_MAX + 2);
	CHECK(too_long || memchr(line, '\n', len) == NULL);
	r->lines++;
	CHECK(lineno == r->lines);
	if (ebds_check_line(&r->chk, line, len, lineno, &rec, &r->errs)) {
		CHECK(len == EBDS_RECORD_LEN);
		CHECK(rec.line == lineno);
		format_back(&rec, line);
	}
	return 0;
}

static void fuzz_file(const uint8_t *data, size_t size)
{
	static struct run r;
	struct ebds_linebuf lb;
	size_t step = size ? 1 + data[0] % 97 : 1;

	memset(&r, 0, sizeof(r));
	ebds_check_init(&r.chk, (size && (data[0] & 0x80)) ? NULL : &rules);
	ebds_errors_clear(&r.errs);
	ebds_linebuf_init(&lb);
	for (size_t off = 0; off < size; off += step) {
		size_t n = size - off < step ? size - off : step;
		CHECK(ebds_linebuf_feed(&lb, (const char *)data + off, n, on_line, &r) == 0);
	}
	CHECK(ebds_linebuf_finish(&lb, on_line, &r) == 0);
	ebds_check_end(&r.chk, &r.errs);
	errors_sane(&r.errs);
	if (r.lines == 0)
		CHECK(ebds_errors_total(&r.errs) >= 1);
}

static void fuzz_filename(const uint8_t *data, size_t size)
{
	char name[256];
	size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
	uint32_t aff = 0, period = 0;
	unsigned k = 0;

	memcpy(name, data, n);
	name[n] = '\0';
	enum ebds_family fam = ebds_parse_filename(name, &aff, &period, &k);
	if (fam == EBDS_FAMILY_NONE)
		return;
	CHECK(fam == EBDS_FAMILY_DECLARATION || fam == EBDS_FAMILY_COMPLEMENTARY || fam == EBDS_FAMILY_PREFILL);
	CHECK(aff <= 9999999u && period_valid(period));
	CHECK(fam == EBDS_FAMILY_COMPLEMENTARY ? (k >= 1 && k <= 9) : k == 0);
}

static void fuzz_text(const uint8_t *data, size_t size)
{
	char out[128], again[128];
	size_t cap = size ? 1 + data[size - 1] % sizeof(out) : sizeof(out);

	memset(out, 0x5A, sizeof(out));
	size_t n = text_to_ebds((const char *)data, size, out, cap);
	CHECK(n < cap && out[n] == '\0' && strlen(out) == n);
	CHECK(text_is_ebds(out, n));
	CHECK(n == 0 || (out[0] != ' ' && out[n - 1] != ' '));
	CHECK(strstr(out, "  ") == NULL);
	/* The normal form is a fixed point. */
	size_t m = text_to_ebds(out, n, again, sizeof(again));
	CHECK(m == n && memcmp(again, out, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!rules_loaded) {
		struct rules_error err;
		if (rules_parse(ceiling_rules, sizeof(ceiling_rules) - 1, &rules, &err) != AMANA_OK)
			abort();
		rules_loaded = true;
	}
	fuzz_file(data, size);
	fuzz_filename(data, size);
	fuzz_text(data, size);
	return 0;
}
