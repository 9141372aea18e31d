/*
 * ebds.c - e-BDS codec: one table of field layouts drives both the checker
 * and the writer, so the two cannot disagree about a column.
 */
#include "ebds.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ids.h"

enum field_kind { F_N, F_AN, F_TYPE, F_FILLER };

struct field {
	const char *name;
	unsigned col; /* 1-based */
	unsigned width;
	enum field_kind kind;
};

/* Field indexes, per layout, in the order of the tables below. */
/* clang-format off */
enum { H_TYPE, H_TRANSFER, H_CATEGORY, H_FILLER };
enum {
	E_TYPE, E_AFF, E_PERIOD, E_NAME, E_ACTIVITY, E_ADDRESS, E_CITY, E_POSTCODE, E_AGENCY,
	E_ISSUE, E_DUE
};
enum { P_TYPE, P_AFF, P_PERIOD, P_REG, P_NAME, P_CHILDREN, P_AF_PAY, P_AF_DEDUCT, P_AF_NET, P_FILLER };
enum {
	PS_TYPE, PS_AFF, PS_PERIOD, PS_EMPLOYEES, PS_CHILDREN, PS_AF_PAY, PS_AF_DEDUCT, PS_AF_NET,
	PS_REGS, PS_FILLER
};
enum {
	S_TYPE, S_AFF, S_PERIOD, S_REG, S_NAME, S_CHILDREN, S_AF_PAY, S_AF_DEDUCT, S_AF_NET,
	S_AF_BACK, S_DAYS, S_REAL, S_CAPPED, S_SITUATION, S_CONTROL, S_FILLER
};
enum {
	SS_TYPE, SS_AFF, SS_PERIOD, SS_EMPLOYEES, SS_CHILDREN, SS_AF_PAY, SS_AF_DEDUCT, SS_AF_NET,
	SS_REGS, SS_AF_BACK, SS_DAYS, SS_REAL, SS_CAPPED, SS_CONTROLS, SS_FILLER
};
enum {
	W_TYPE, W_AFF, W_PERIOD, W_REG, W_NAME, W_CIN, W_DAYS, W_REAL, W_CAPPED, W_CONTROL, W_FILLER
};
enum { T_TYPE, T_AFF, T_PERIOD, T_EMPLOYEES, T_REGS, T_DAYS, T_REAL, T_CAPPED, T_CONTROLS, T_FILLER };

#define END { NULL, 0, 0, F_FILLER }

static const struct field layout_header[] = {
	{ "type", 1, 3, F_TYPE }, { "transfer_id", 4, 14, F_N }, { "category", 18, 2, F_AN },
	{ "filler", 20, 241, F_FILLER }, END,
};
static const struct field layout_employer[] = {
	{ "type", 1, 3, F_TYPE },	  { "affiliation", 4, 7, F_N },	 { "period", 11, 6, F_N },
	{ "company_name", 17, 40, F_AN }, { "activity", 57, 40, F_AN },	 { "address", 97, 120, F_AN },
	{ "city", 217, 20, F_AN },	  { "postcode", 237, 6, F_AN },	 { "agency", 243, 2, F_AN },
	{ "issue_date", 245, 8, F_N },	  { "due_date", 253, 8, F_N },	 END,
};
static const struct field layout_prefill[] = {
	{ "type", 1, 3, F_TYPE },	    { "affiliation", 4, 7, F_N },     { "period", 11, 6, F_N },
	{ "registration", 17, 9, F_N },	    { "name", 26, 60, F_AN },	      { "children", 86, 2, F_N },
	{ "af_to_pay", 88, 6, F_N },	    { "af_to_deduct", 94, 6, F_N },   { "af_net", 100, 6, F_N },
	{ "filler", 106, 155, F_FILLER },   END,
};
static const struct field layout_prefill_sum[] = {
	{ "type", 1, 3, F_TYPE },	    { "affiliation", 4, 7, F_N },     { "period", 11, 6, F_N },
	{ "employees", 17, 6, F_N },	    { "children", 23, 6, F_N },	      { "af_to_pay", 29, 12, F_N },
	{ "af_to_deduct", 41, 12, F_N },    { "af_net", 53, 12, F_N },	      { "registrations_sum", 65, 15, F_N },
	{ "filler", 80, 181, F_FILLER },    END,
};
static const struct field layout_salary[] = {
	{ "type", 1, 3, F_TYPE },	  { "affiliation", 4, 7, F_N },	  { "period", 11, 6, F_N },
	{ "registration", 17, 9, F_N },	  { "name", 26, 60, F_AN },	  { "children", 86, 2, F_N },
	{ "af_to_pay", 88, 6, F_N },	  { "af_to_deduct", 94, 6, F_N }, { "af_net", 100, 6, F_N },
	{ "af_give_back", 106, 6, F_N },  { "days", 112, 2, F_N },	  { "real_salary", 114, 13, F_N },
	{ "capped_salary", 127, 9, F_N }, { "situation", 136, 2, F_AN },  { "control_sum", 138, 19, F_N },
	{ "filler", 157, 104, F_FILLER }, END,
};
static const struct field layout_salary_sum[] = {
	{ "type", 1, 3, F_TYPE },	       { "affiliation", 4, 7, F_N },	  { "period", 11, 6, F_N },
	{ "employees", 17, 6, F_N },	       { "children", 23, 6, F_N },	  { "af_to_pay", 29, 12, F_N },
	{ "af_to_deduct", 41, 12, F_N },       { "af_net", 53, 12, F_N },	  { "registrations_sum", 65, 15, F_N },
	{ "af_give_back", 80, 12, F_N },       { "days", 92, 6, F_N },		  { "real_salaries", 98, 15, F_N },
	{ "capped_salaries", 113, 13, F_N },   { "control_sums", 126, 19, F_N }, { "filler", 145, 116, F_FILLER },
	END,
};
static const struct field layout_hire[] = {
	{ "type", 1, 3, F_TYPE },	   { "affiliation", 4, 7, F_N },    { "period", 11, 6, F_N },
	{ "registration", 17, 9, F_N },	   { "name", 26, 60, F_AN },	    { "cin", 86, 8, F_AN },
	{ "days", 94, 2, F_N },		   { "real_salary", 96, 13, F_N },  { "capped_salary", 109, 9, F_N },
	{ "control_sum", 118, 19, F_N },   { "filler", 137, 124, F_FILLER }, END,
};
static const struct field layout_hire_sum[] = {
	{ "type", 1, 3, F_TYPE },	       { "affiliation", 4, 7, F_N },	{ "period", 11, 6, F_N },
	{ "employees", 17, 6, F_N },	       { "registrations_sum", 23, 15, F_N }, { "days", 38, 6, F_N },
	{ "real_salaries", 44, 15, F_N },      { "capped_salaries", 59, 13, F_N },  { "control_sums", 72, 19, F_N },
	{ "filler", 91, 170, F_FILLER },       END,
};

/* clang-format on */

static const struct field *layout_of(enum ebds_type t)
{
	switch (t) {
	case EBDS_HEADER: return layout_header;
	case EBDS_EMPLOYER: return layout_employer;
	case EBDS_PREFILL: return layout_prefill;
	case EBDS_PREFILL_SUM: return layout_prefill_sum;
	case EBDS_SALARY: return layout_salary;
	case EBDS_SALARY_SUM: return layout_salary_sum;
	case EBDS_HIRE: return layout_hire;
	case EBDS_HIRE_SUM:
	case EBDS_GRAND_SUM: return layout_hire_sum;
	}
	return NULL;
}

/* ---- situations ---- */

static const char *const situation_codes[] = { "", "SO", "DE", "IT", "IL", "AT", "CS", "MS", "MP" };

const char *situation_code(enum situation s)
{
	if ((unsigned)s < sizeof(situation_codes) / sizeof(situation_codes[0]))
		return situation_codes[s];
	return "?";
}

bool situation_leaves(enum situation s)
{
	return s == SITUATION_SO || s == SITUATION_DE;
}

static bool situation_parse(const char *f, enum situation *out)
{
	if (f[0] == ' ' && f[1] == ' ') {
		*out = SITUATION_NORMAL;
		return true;
	}
	for (unsigned i = 1; i < sizeof(situation_codes) / sizeof(situation_codes[0]); i++) {
		if (f[0] == situation_codes[i][0] && f[1] == situation_codes[i][1]) {
			*out = (enum situation)i;
			return true;
		}
	}
	return false;
}

/* Situations that carry no days and no salary. */
static bool situation_without_pay(enum situation s)
{
	return s == SITUATION_SO || s == SITUATION_CS || s == SITUATION_MS || s == SITUATION_MP;
}

/* ---- errors ---- */

void ebds_errors_clear(struct ebds_errors *e)
{
	e->count = 0;
	e->dropped = 0;
}

unsigned ebds_errors_total(const struct ebds_errors *e)
{
	return e->count + e->dropped;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void ebds_errors_add(struct ebds_errors *e, unsigned line, unsigned column, const char *field, const char *expected,
		     const char *found_fmt, ...)
{
	if (e->count >= EBDS_ERRORS_MAX) {
		e->dropped++;
		return;
	}
	struct ebds_error *x = &e->list[e->count++];
	x->line = line;
	x->column = column;
	copy_str(x->field, sizeof(x->field), field);
	copy_str(x->expected, sizeof(x->expected), expected);
	va_list ap;
	va_start(ap, found_fmt);
	vsnprintf(x->found, sizeof(x->found), found_fmt, ap);
	va_end(ap);
}

/* ---- field access ---- */

/* The e-BDS character set as a table: the checker looks at every byte of
 * millions of lines. */
static const bool charset[256] = {
	['\t'] = true, [' '] = true, ['0'] = true, ['1'] = true, ['2'] = true, ['3'] = true, ['4'] = true, ['5'] = true,
	['6'] = true,  ['7'] = true, ['8'] = true, ['9'] = true, ['A'] = true, ['B'] = true, ['C'] = true, ['D'] = true,
	['E'] = true,  ['F'] = true, ['G'] = true, ['H'] = true, ['I'] = true, ['J'] = true, ['K'] = true, ['L'] = true,
	['M'] = true,  ['N'] = true, ['O'] = true, ['P'] = true, ['Q'] = true, ['R'] = true, ['S'] = true, ['T'] = true,
	['U'] = true,  ['V'] = true, ['W'] = true, ['X'] = true, ['Y'] = true, ['Z'] = true,
};

static bool allowed_char(char ch)
{
	return charset[(unsigned char)ch];
}

/* Describe an offending character without echoing any field content. */
static void describe_char(char ch, char out[24])
{
	unsigned char u = (unsigned char)ch;
	if (u >= 0x21 && u < 0x7f)
		snprintf(out, 24, "character '%c'", ch);
	else
		snprintf(out, 24, "byte 0x%02X", u);
}

/*
 * Eight bytes at a time. The checker reads every byte of millions of lines;
 * a byte at a time, it took two fifths of the import's file-reading thread
 * (bench/parse.c measures it alone). These
 * work on a word of eight ASCII bytes (high bits cleared: the callers reject
 * bytes with the high bit set), the first byte in the low one whatever the
 * machine's byte order, each answer in the high bit of its byte. No sum
 * carries from one byte into the next: every byte stays below 0x100.
 */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static uint64_t load8(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (uint64_t)u[0] | (uint64_t)u[1] << 8 | (uint64_t)u[2] << 16 | (uint64_t)u[3] << 24 |
	       (uint64_t)u[4] << 32 | (uint64_t)u[5] << 40 | (uint64_t)u[6] << 48 | (uint64_t)u[7] << 56;
}

/* Bytes of x in [lo, hi] (1 <= lo <= hi < 0x80). */
static uint64_t in_range8(uint64_t x, unsigned lo, unsigned hi)
{
	uint64_t at_least_lo = x + (0x80 - lo) * ONES;
	uint64_t above_hi = x + (0x7f - hi) * ONES;
	return at_least_lo & ~above_hi & HIGHS;
}

/* Bytes of x equal to c (c < 0x80). */
static uint64_t equal8(uint64_t x, unsigned c)
{
	return ~((x ^ c * ONES) + 0x7f * ONES) & HIGHS;
}

/* Whether all eight bytes of w are digits. */
static bool digits8_ok(uint64_t w)
{
	return ((in_range8(w & ~HIGHS, '0', '9') ^ HIGHS) | (w & HIGHS)) == 0;
}

/* The value of eight digits, the first the most significant: pairs, then
 * fours, then the eight, each step a multiply (after D. Lemire). */
static uint64_t digits8(uint64_t w)
{
	w -= '0' * ONES;
	w = w * 10 + (w >> 8);
	return ((w & 0x000000ff000000ffull) * (100 + (1000000ull << 32)) +
		((w >> 16) & 0x000000ff000000ffull) * (1 + (10000ull << 32))) >>
	       32;
}

/* Whether every byte of the line is in the e-BDS character set. */
static bool line_in_charset(const char *line)
{
	uint64_t bad = 0;
	size_t i = 0;
	for (; i + 8 <= EBDS_RECORD_LEN; i += 8) {
		uint64_t w = load8(line + i), x = w & ~HIGHS;
		uint64_t ok = in_range8(x, '0', '9') | in_range8(x, 'A', 'Z') | equal8(x, ' ') | equal8(x, '\t');
		bad |= (ok ^ HIGHS) | (w & HIGHS);
	}
	for (; i < EBDS_RECORD_LEN; i++)
		bad |= !allowed_char(line[i]);
	return bad == 0;
}

struct line_ctx {
	const char *line;
	unsigned lineno;
	struct ebds_errors *errs;
	const struct field *layout;
	bool ok; /* every field parsed */
};

static const char *fptr(const struct line_ctx *l, unsigned idx)
{
	return l->line + l->layout[idx].col - 1;
}

/* An N field: digits only, right-aligned, zero-padded. */
static uint64_t get_n(struct line_ctx *l, unsigned idx)
{
	const struct field *f = &l->layout[idx];
	const char *p = fptr(l, idx);
	uint64_t v = 0;
	bool bad = false;
	/* The first width % 8 digits, then eight at a time. The first ones are
	 * read as the last bytes of a word that ends with them, the bytes
	 * before them (of the line) taken as zeros, when the line holds them:
	 * every N field of the layouts starts far enough in; a byte at a time
	 * keeps a field that would not from reading before the line. */
	unsigned head = f->width % 8;
	if (head && f->col - 1 + head >= 8) {
		uint64_t before = ~0ull >> (8 * head);
		uint64_t w = (load8(p + head - 8) & ~before) | ('0' * ONES & before);
		bad = !digits8_ok(w);
		v = digits8(w);
	} else {
		for (unsigned k = 0; k < head; k++) {
			unsigned d = (unsigned)(unsigned char)p[k] - '0';
			bad |= d > 9;
			v = v * 10 + d;
		}
	}
	for (unsigned k = head; k < f->width; k += 8) {
		uint64_t w = load8(p + k);
		bad |= !digits8_ok(w);
		v = v * 100000000u + digits8(w);
	}
	if (!bad)
		return v;
	for (unsigned i = 0; i < f->width; i++) /* say which column */
		if (p[i] < '0' || p[i] > '9') {
			char what[24];
			describe_char(p[i], what);
			ebds_errors_add(l->errs, l->lineno, f->col + i, f->name, "a digit (N field, zero-padded)", "%s",
					what);
			break;
		}
	l->ok = false;
	return 0;
}

/* An AN field, trailing blanks and tabs trimmed, copied into out. */
static void get_an(struct line_ctx *l, unsigned idx, char *out, size_t cap)
{
	const struct field *f = &l->layout[idx];
	const char *p = fptr(l, idx);
	size_t n = f->width;
	while (n >= 8) { /* eight blanks at a time: names are mostly padding */
		uint64_t w = load8(p + n - 8), x = w & ~HIGHS;
		if (((equal8(x, ' ') | equal8(x, '\t')) & ~w) != HIGHS) /* 0xA0 is no blank */
			break;
		n -= 8;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = p[i] == '\t' ? ' ' : p[i];
	out[n] = '\0';
}

/* ---- dates and periods ---- */

bool period_valid(uint32_t period)
{
	uint32_t y = period / 100, m = period % 100;
	return y >= 1950 && y <= 2200 && m >= 1 && m <= 12;
}

uint32_t period_prev(uint32_t period)
{
	return period % 100 == 1 ? (period / 100 - 1) * 100 + 12 : period - 1;
}

uint32_t period_next(uint32_t period)
{
	return period % 100 == 12 ? (period / 100 + 1) * 100 + 1 : period + 1;
}

static bool date_valid(uint32_t d)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	uint32_t y = d / 10000, m = d / 100 % 100, day = d % 100;
	if (y < 1900 || y > 2200 || m < 1 || m > 12 || day < 1 || day > mdays[m - 1])
		return false;
	if (m == 2 && day == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	return true;
}

/* ---- sums ---- */

static void sadd(uint64_t *a, uint64_t b)
{
	if (__builtin_add_overflow(*a, b, a))
		*a = UINT64_MAX; /* saturate: no field can hold it, so totals will not match */
}

uint64_t ebds_salary_control(const struct ebds_person_line *p)
{
	return (uint64_t)p->registration + (uint64_t)p->af_give_back + p->days + (uint64_t)p->real_salary +
	       (uint64_t)p->capped_salary + (uint64_t)p->situation;
}

uint64_t ebds_hire_control(const struct ebds_hire_line *h)
{
	return (uint64_t)h->registration + h->days + (uint64_t)h->real_salary + (uint64_t)h->capped_salary;
}

void ebds_sums_add_prefill(struct ebds_sums *s, const struct ebds_person_line *p)
{
	sadd(&s->employees, 1);
	sadd(&s->children, p->children);
	sadd(&s->af_to_pay, (uint64_t)p->af_to_pay);
	sadd(&s->af_to_deduct, (uint64_t)p->af_to_deduct);
	sadd(&s->af_net, (uint64_t)p->af_net);
	sadd(&s->registrations, p->registration);
}

void ebds_sums_add_salary(struct ebds_sums *s, const struct ebds_person_line *p)
{
	ebds_sums_add_prefill(s, p);
	sadd(&s->af_give_back, (uint64_t)p->af_give_back);
	sadd(&s->days, p->days);
	sadd(&s->real_salaries, (uint64_t)p->real_salary);
	sadd(&s->capped_salaries, (uint64_t)p->capped_salary);
	sadd(&s->controls, ebds_salary_control(p));
}

void ebds_sums_add_hire(struct ebds_sums *s, const struct ebds_hire_line *h)
{
	sadd(&s->employees, 1);
	sadd(&s->registrations, h->registration);
	sadd(&s->days, h->days);
	sadd(&s->real_salaries, (uint64_t)h->real_salary);
	sadd(&s->capped_salaries, (uint64_t)h->capped_salary);
	sadd(&s->controls, ebds_hire_control(h));
}

/* ---- the checker ---- */

void ebds_check_init(struct ebds_check *c, const struct rules *rules)
{
	memset(c, 0, sizeof(*c));
	c->rules = rules;
}

/* Record order: stage is the index of the last record kind seen. */
enum {
	ST_START, /* expect 00 */
	ST_HEADER, /* expect 01 */
	ST_LINES, /* 02 seen or allowed; expect 02 or 03 */
	ST_SUM, /* 03 seen; expect 04 or 05 (B/E) */
	ST_HIRES, /* in 04s; expect 04 or 05 */
	ST_HIRESUM, /* 05 seen; expect 06 */
	ST_END, /* nothing more */
};

static bool type_parse(const char *p, enum ebds_family *fam, enum ebds_type *type)
{
	if (p[1] != '0' || p[2] < '0' || p[2] > '6')
		return false;
	unsigned n = (unsigned)(p[2] - '0');
	switch (p[0]) {
	case 'A':
		*fam = EBDS_FAMILY_PREFILL;
		if (n > 3)
			return false;
		break;
	case 'B': *fam = EBDS_FAMILY_DECLARATION; break;
	case 'E': *fam = EBDS_FAMILY_COMPLEMENTARY; break;
	default: return false;
	}
	static const enum ebds_type decl_types[] = { EBDS_HEADER, EBDS_EMPLOYER, EBDS_SALARY,   EBDS_SALARY_SUM,
						     EBDS_HIRE,   EBDS_HIRE_SUM, EBDS_GRAND_SUM };
	static const enum ebds_type prefill_types[] = { EBDS_HEADER, EBDS_EMPLOYER, EBDS_PREFILL, EBDS_PREFILL_SUM };
	*type = *fam == EBDS_FAMILY_PREFILL ? prefill_types[n] : decl_types[n];
	return true;
}

static unsigned stage_of(enum ebds_type t)
{
	switch (t) {
	case EBDS_HEADER: return ST_HEADER;
	case EBDS_EMPLOYER: return ST_LINES;
	case EBDS_PREFILL:
	case EBDS_SALARY: return ST_LINES;
	case EBDS_PREFILL_SUM: return ST_END;
	case EBDS_SALARY_SUM: return ST_SUM;
	case EBDS_HIRE: return ST_HIRES;
	case EBDS_HIRE_SUM: return ST_HIRESUM;
	case EBDS_GRAND_SUM: return ST_END;
	}
	return ST_END;
}

/* Is record type t allowed after stage s? */
static bool order_ok(unsigned s, enum ebds_type t)
{
	switch (s) {
	case ST_START: return t == EBDS_HEADER;
	case ST_HEADER: return t == EBDS_EMPLOYER;
	case ST_LINES: return t == EBDS_PREFILL || t == EBDS_SALARY || t == EBDS_PREFILL_SUM || t == EBDS_SALARY_SUM;
	case ST_SUM:
	case ST_HIRES: return t == EBDS_HIRE || t == EBDS_HIRE_SUM;
	case ST_HIRESUM: return t == EBDS_GRAND_SUM;
	default: return false;
	}
}

static const char *expected_after(enum ebds_family fam, unsigned s)
{
	bool a = fam == EBDS_FAMILY_PREFILL;
	switch (s) {
	case ST_START: return "a file header record (A00, B00 or E00)";
	case ST_HEADER: return a ? "A01 employer header" : "an employer header record (B01/E01)";
	case ST_LINES: return a ? "A02 or A03" : "a salary line (B02/E02) or its totals (B03/E03)";
	case ST_SUM:
	case ST_HIRES: return "a new-hire line (B04/E04) or its totals (B05/E05)";
	case ST_HIRESUM: return "the grand total record (B06/E06)";
	default: return "end of file";
	}
}

static void type_name(enum ebds_family fam, enum ebds_type t, char out[4])
{
	static const char digit[] = { '0', '1', '2', '3', '2', '3', '4', '5', '6' };
	/* EBDS_PREFILL and EBDS_PREFILL_SUM are A02 and A03. */
	out[0] = (char)fam;
	out[1] = '0';
	out[2] = digit[t];
	out[3] = '\0';
}

/* Compare a declared total with the running sum. */
static void check_total(struct line_ctx *l, unsigned idx, uint64_t declared, uint64_t computed)
{
	if (declared != computed) {
		char exp[96];
		snprintf(exp, sizeof(exp), "%llu (the sum of the lines above)", (unsigned long long)computed);
		ebds_errors_add(l->errs, l->lineno, l->layout[idx].col, l->layout[idx].name, exp, "%llu",
				(unsigned long long)declared);
	}
}

static bool field_blank(const struct line_ctx *l, unsigned idx)
{
	const struct field *f = &l->layout[idx];
	const char *p = fptr(l, idx);
	for (unsigned i = 0; i < f->width; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return false;
	return true;
}

/* Every field but the N ones (and the type, parsed before) holds only the
 * character set; AN fields start in their first column. A line wholly in
 * the character set, as nearly every line is, needs only the second check;
 * any other goes field by field, to say which field is wrong and where. */
static void check_charset(struct line_ctx *l)
{
	if (line_in_charset(l->line)) {
		for (unsigned i = 0; l->layout[i].name; i++) {
			const struct field *f = &l->layout[i];
			const char *p = fptr(l, i);
			if (f->kind == F_AN && (p[0] == ' ' || p[0] == '\t') && !field_blank(l, i))
				ebds_errors_add(l->errs, l->lineno, f->col, f->name,
						"left-aligned text (AN fields start in their first column)",
						"a leading blank");
		}
		return;
	}
	for (unsigned i = 0; l->layout[i].name; i++) {
		const struct field *f = &l->layout[i];
		if (f->kind == F_N || f->kind == F_TYPE)
			continue; /* checked when parsed */
		const char *p = fptr(l, i);
		if (f->kind == F_AN && (p[0] == ' ' || p[0] == '\t') && !field_blank(l, i)) {
			ebds_errors_add(l->errs, l->lineno, f->col, f->name,
					"left-aligned text (AN fields start in their first column)", "a leading blank");
			continue;
		}
		for (unsigned k = 0; k < f->width; k++) {
			if (!allowed_char(p[k])) {
				char what[24];
				describe_char(p[k], what);
				ebds_errors_add(l->errs, l->lineno, f->col + k, f->name,
						"A-Z, 0-9 or space (upper case, no accents or punctuation)", "%s",
						what);
				break; /* one error a field is enough to fix it */
			}
		}
	}
}

static void check_aff_period(struct ebds_check *c, struct line_ctx *l, struct ebds_record *rec, unsigned aff_idx,
			     unsigned period_idx)
{
	rec->affiliation = (uint32_t)get_n(l, aff_idx);
	rec->period = (uint32_t)get_n(l, period_idx);
	if (!l->ok)
		return;
	if (rec->type == EBDS_EMPLOYER) {
		if (!affiliation_number_valid(rec->affiliation))
			ebds_errors_add(l->errs, l->lineno, l->layout[aff_idx].col, "affiliation",
					"7 digits whose last is the check digit", "%07u", rec->affiliation);
		if (!period_valid(rec->period))
			ebds_errors_add(l->errs, l->lineno, l->layout[period_idx].col, "period",
					"a period AAAAMM (month 01-12)", "%06u", rec->period);
		c->affiliation = rec->affiliation;
		c->period = rec->period;
		return;
	}
	if (rec->affiliation != c->affiliation)
		ebds_errors_add(l->errs, l->lineno, l->layout[aff_idx].col, "affiliation",
				"the affiliation of the employer header", "%07u", rec->affiliation);
	if (rec->period != c->period)
		ebds_errors_add(l->errs, l->lineno, l->layout[period_idx].col, "period",
				"the period of the employer header", "%06u", rec->period);
}

static void parse_header(struct line_ctx *l, struct ebds_record *rec)
{
	rec->u.header.transfer_id = get_n(l, H_TRANSFER);
	get_an(l, H_CATEGORY, rec->u.header.category, sizeof(rec->u.header.category));
	if (rec->family == EBDS_FAMILY_DECLARATION && strcmp(rec->u.header.category, "B0") != 0)
		ebds_errors_add(l->errs, l->lineno, 18, "category", "\"B0\" in a B00 record", "\"%.2s\"",
				fptr(l, H_CATEGORY));
}

static void parse_employer(struct ebds_check *c, struct line_ctx *l, struct ebds_record *rec)
{
	struct ebds_employer *e = &rec->u.employer;
	check_aff_period(c, l, rec, E_AFF, E_PERIOD);
	e->affiliation = rec->affiliation;
	e->period = rec->period;
	get_an(l, E_NAME, e->name, sizeof(e->name));
	get_an(l, E_ACTIVITY, e->activity, sizeof(e->activity));
	get_an(l, E_ADDRESS, e->address, sizeof(e->address));
	get_an(l, E_CITY, e->city, sizeof(e->city));
	get_an(l, E_POSTCODE, e->postcode, sizeof(e->postcode));
	get_an(l, E_AGENCY, e->agency, sizeof(e->agency));
	e->issue_date = (uint32_t)get_n(l, E_ISSUE);
	e->due_date = (uint32_t)get_n(l, E_DUE);
	if (e->issue_date != 0 && !date_valid(e->issue_date))
		ebds_errors_add(l->errs, l->lineno, 245, "issue_date", "a date AAAAMMJJ or zeros", "%08u",
				e->issue_date);
	if (e->due_date != 0 && !date_valid(e->due_date))
		ebds_errors_add(l->errs, l->lineno, 253, "due_date", "a date AAAAMMJJ or zeros", "%08u", e->due_date);
}

static void check_registration(struct line_ctx *l, unsigned idx, uint32_t reg, bool allow_none)
{
	if (reg == REGISTRATION_NONE && allow_none)
		return;
	if (!registration_format_ok(reg))
		ebds_errors_add(l->errs, l->lineno, l->layout[idx].col, "registration",
				allow_none ? "9 digits starting with 1, or 999999999, or 000000000"
					   : "9 digits starting with 1, or 999999999",
				"%09u", reg);
}

static void parse_person(struct ebds_check *c, struct line_ctx *l, struct ebds_record *rec)
{
	struct ebds_person_line *p = &rec->u.person;
	bool salary = rec->type == EBDS_SALARY;
	/* The A02 and B02 layouts share their first nine fields. */
	check_aff_period(c, l, rec, S_AFF, S_PERIOD);
	p->affiliation = rec->affiliation;
	p->period = rec->period;
	p->registration = (uint32_t)get_n(l, S_REG);
	get_an(l, S_NAME, p->name, sizeof(p->name));
	p->children = (unsigned)get_n(l, S_CHILDREN);
	p->af_to_pay = (int64_t)get_n(l, S_AF_PAY);
	p->af_to_deduct = (int64_t)get_n(l, S_AF_DEDUCT);
	p->af_net = (int64_t)get_n(l, S_AF_NET);
	if (l->ok)
		check_registration(l, S_REG, p->registration, false);
	if (field_blank(l, S_NAME))
		ebds_errors_add(l->errs, l->lineno, 26, "name", "the insured person's name", "blanks");
	if (!salary)
		return;

	p->af_give_back = (int64_t)get_n(l, S_AF_BACK);
	p->days = (unsigned)get_n(l, S_DAYS);
	p->real_salary = (int64_t)get_n(l, S_REAL);
	p->capped_salary = (int64_t)get_n(l, S_CAPPED);
	const char *sit = fptr(l, S_SITUATION);
	if (!situation_parse(sit, &p->situation)) {
		ebds_errors_add(l->errs, l->lineno, 136, "situation", "blank or one of SO DE IT IL AT CS MS MP",
				"\"%.2s\"", sit);
		l->ok = false;
	}
	p->control = get_n(l, S_CONTROL);
	if (!l->ok)
		return;

	if (p->days > 26)
		ebds_errors_add(l->errs, l->lineno, 112, "days", "0 to 26 days", "%u", p->days);
	if (p->registration == REGISTRATION_OCCASIONAL) {
		if (p->days != 0)
			ebds_errors_add(l->errs, l->lineno, 112, "days",
					"0 days for occasional labour (registration 999999999)", "%u", p->days);
		if (p->capped_salary > p->real_salary)
			ebds_errors_add(l->errs, l->lineno, 127, "capped_salary",
					"at most the real salary for occasional labour", "more than the real salary");
	} else if (c->ceiling_known) {
		int64_t want = p->real_salary < c->ceiling ? p->real_salary : c->ceiling;
		if (p->capped_salary != want)
			ebds_errors_add(l->errs, l->lineno, 127, "capped_salary",
					"min(real salary, ceiling in force for the period)", "%lld centimes",
					(long long)p->capped_salary);
	}
	if (situation_without_pay(p->situation) && (p->days || p->real_salary || p->capped_salary))
		ebds_errors_add(l->errs, l->lineno, 112, "days", "0 days and 0 salary for situation SO, CS, MS or MP",
				"days or salary declared");
	if (situation_leaves(p->situation) && p->af_give_back != p->af_net)
		ebds_errors_add(l->errs, l->lineno, 106, "af_give_back", "the AF net to pay, for situation SO or DE",
				"%lld", (long long)p->af_give_back);
	uint64_t want = ebds_salary_control(p);
	if (p->control != want) {
		char exp[96];
		snprintf(exp, sizeof(exp), "%llu (registration + AF back + days + salaries + situation rank)",
			 (unsigned long long)want);
		ebds_errors_add(l->errs, l->lineno, 138, "control_sum", exp, "%llu", (unsigned long long)p->control);
	}
}

static bool all_blank_from(const char *line, unsigned col)
{
	for (unsigned i = col - 1; i < EBDS_RECORD_LEN; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return false;
	return true;
}

static void parse_hire(struct ebds_check *c, struct line_ctx *l, struct ebds_record *rec)
{
	struct ebds_hire_line *h = &rec->u.hire;
	memset(h, 0, sizeof(*h));
	/* One writer emits a single B04 blank after its type (or after the
	 * affiliation and period) when there are no new hires. */
	if (all_blank_from(l->line, 4) || all_blank_from(l->line, 17)) {
		h->blank = true;
		rec->affiliation = c->affiliation;
		rec->period = c->period;
		if (!all_blank_from(l->line, 4))
			check_aff_period(c, l, rec, W_AFF, W_PERIOD);
		if (c->blank_hires++ > 0 || c->hires.employees > 0)
			ebds_errors_add(l->errs, l->lineno, 0, "type",
					"at most one blank B04, and only when there are no new hires",
					"another B04 line");
		return;
	}
	if (c->blank_hires > 0)
		ebds_errors_add(l->errs, l->lineno, 0, "type", "no new-hire line after a blank B04", "a new-hire line");
	check_aff_period(c, l, rec, W_AFF, W_PERIOD);
	h->affiliation = rec->affiliation;
	h->period = rec->period;
	h->registration = (uint32_t)get_n(l, W_REG);
	get_an(l, W_NAME, h->name, sizeof(h->name));
	get_an(l, W_CIN, h->cin, sizeof(h->cin));
	h->days = (unsigned)get_n(l, W_DAYS);
	h->real_salary = (int64_t)get_n(l, W_REAL);
	h->capped_salary = (int64_t)get_n(l, W_CAPPED);
	h->control = get_n(l, W_CONTROL);
	if (field_blank(l, W_NAME))
		ebds_errors_add(l->errs, l->lineno, 26, "name", "the new hire's name", "blanks");
	const char *cinf = fptr(l, W_CIN);
	bool cin_shifted = (cinf[0] == ' ' || cinf[0] == '\t') && !field_blank(l, W_CIN);
	if (!cin_shifted && !cin_valid(h->cin, strlen(h->cin))) { /* a shifted CIN is reported once */
		/* Say where it goes wrong without echoing the CIN itself. */
		ebds_errors_add(l->errs, l->lineno, 86, "cin",
				"1-2 letters then digits, 8 characters at most, left-aligned",
				field_blank(l, W_CIN) ? "blanks" : "another shape");
	}
	if (!l->ok)
		return;
	check_registration(l, W_REG, h->registration, true);
	if (h->days > 26)
		ebds_errors_add(l->errs, l->lineno, 94, "days", "0 to 26 days", "%u", h->days);
	if (h->registration == REGISTRATION_OCCASIONAL) {
		if (h->days != 0)
			ebds_errors_add(l->errs, l->lineno, 94, "days",
					"0 days for occasional labour (registration 999999999)", "%u", h->days);
		if (h->capped_salary > h->real_salary)
			ebds_errors_add(l->errs, l->lineno, 109, "capped_salary",
					"at most the real salary for occasional labour", "more than the real salary");
	} else if (c->ceiling_known) {
		int64_t want = h->real_salary < c->ceiling ? h->real_salary : c->ceiling;
		if (h->capped_salary != want)
			ebds_errors_add(l->errs, l->lineno, 109, "capped_salary",
					"min(real salary, ceiling in force for the period)", "%lld centimes",
					(long long)h->capped_salary);
	}
	uint64_t want = ebds_hire_control(h);
	if (h->control != want) {
		char exp[96];
		snprintf(exp, sizeof(exp), "%llu (registration + days + real + capped salary)",
			 (unsigned long long)want);
		ebds_errors_add(l->errs, l->lineno, 118, "control_sum", exp, "%llu", (unsigned long long)h->control);
	}
}

/* Totals are compared with the running sums only when every line above
 * parsed: a line that did not is already an error, and comparing totals
 * that leave it out would add false ones. */
static void parse_sums(struct ebds_check *c, struct line_ctx *l, struct ebds_record *rec)
{
	struct ebds_sums *s = &rec->u.sums;
	memset(s, 0, sizeof(*s));
	check_aff_period(c, l, rec, 1, 2);
	switch (rec->type) {
	case EBDS_PREFILL_SUM:
		s->employees = get_n(l, PS_EMPLOYEES);
		s->children = get_n(l, PS_CHILDREN);
		s->af_to_pay = get_n(l, PS_AF_PAY);
		s->af_to_deduct = get_n(l, PS_AF_DEDUCT);
		s->af_net = get_n(l, PS_AF_NET);
		s->registrations = get_n(l, PS_REGS);
		if (!l->ok || c->unparsed)
			return;
		check_total(l, PS_EMPLOYEES, s->employees, c->salary.employees);
		check_total(l, PS_CHILDREN, s->children, c->salary.children);
		check_total(l, PS_AF_PAY, s->af_to_pay, c->salary.af_to_pay);
		check_total(l, PS_AF_DEDUCT, s->af_to_deduct, c->salary.af_to_deduct);
		check_total(l, PS_AF_NET, s->af_net, c->salary.af_net);
		check_total(l, PS_REGS, s->registrations, c->salary.registrations);
		break;
	case EBDS_SALARY_SUM:
		s->employees = get_n(l, SS_EMPLOYEES);
		s->children = get_n(l, SS_CHILDREN);
		s->af_to_pay = get_n(l, SS_AF_PAY);
		s->af_to_deduct = get_n(l, SS_AF_DEDUCT);
		s->af_net = get_n(l, SS_AF_NET);
		s->registrations = get_n(l, SS_REGS);
		s->af_give_back = get_n(l, SS_AF_BACK);
		s->days = get_n(l, SS_DAYS);
		s->real_salaries = get_n(l, SS_REAL);
		s->capped_salaries = get_n(l, SS_CAPPED);
		s->controls = get_n(l, SS_CONTROLS);
		if (!l->ok || c->unparsed)
			return;
		check_total(l, SS_EMPLOYEES, s->employees, c->salary.employees);
		check_total(l, SS_CHILDREN, s->children, c->salary.children);
		check_total(l, SS_AF_PAY, s->af_to_pay, c->salary.af_to_pay);
		check_total(l, SS_AF_DEDUCT, s->af_to_deduct, c->salary.af_to_deduct);
		check_total(l, SS_AF_NET, s->af_net, c->salary.af_net);
		check_total(l, SS_REGS, s->registrations, c->salary.registrations);
		check_total(l, SS_AF_BACK, s->af_give_back, c->salary.af_give_back);
		check_total(l, SS_DAYS, s->days, c->salary.days);
		check_total(l, SS_REAL, s->real_salaries, c->salary.real_salaries);
		check_total(l, SS_CAPPED, s->capped_salaries, c->salary.capped_salaries);
		check_total(l, SS_CONTROLS, s->controls, c->salary.controls);
		break;
	case EBDS_HIRE_SUM:
	case EBDS_GRAND_SUM: {
		s->employees = get_n(l, T_EMPLOYEES);
		s->registrations = get_n(l, T_REGS);
		s->days = get_n(l, T_DAYS);
		s->real_salaries = get_n(l, T_REAL);
		s->capped_salaries = get_n(l, T_CAPPED);
		s->controls = get_n(l, T_CONTROLS);
		if (!l->ok || c->unparsed)
			return;
		struct ebds_sums want = c->hires;
		if (rec->type == EBDS_GRAND_SUM) {
			sadd(&want.employees, c->salary.employees);
			sadd(&want.registrations, c->salary.registrations);
			sadd(&want.days, c->salary.days);
			sadd(&want.real_salaries, c->salary.real_salaries);
			sadd(&want.capped_salaries, c->salary.capped_salaries);
			sadd(&want.controls, c->salary.controls);
		}
		check_total(l, T_EMPLOYEES, s->employees, want.employees);
		check_total(l, T_REGS, s->registrations, want.registrations);
		check_total(l, T_DAYS, s->days, want.days);
		check_total(l, T_REAL, s->real_salaries, want.real_salaries);
		check_total(l, T_CAPPED, s->capped_salaries, want.capped_salaries);
		check_total(l, T_CONTROLS, s->controls, want.controls);
		break;
	}
	default: break;
	}
}

bool ebds_check_line(struct ebds_check *c, const char *line, size_t len, unsigned lineno, struct ebds_record *rec,
		     struct ebds_errors *errs)
{
	memset(rec, 0, sizeof(*rec));
	rec->line = lineno;
	c->lines++;
	enum ebds_family fam;
	enum ebds_type type;
	if (len != EBDS_RECORD_LEN) {
		ebds_errors_add(errs, lineno, 0, "record", "exactly 260 characters", "%zu characters", len);
		/* Say what the line meant to be, so a caller can keep its place. */
		if (len >= 3 && type_parse(line, &fam, &type)) {
			rec->family = fam;
			rec->type = type;
		}
		c->unparsed++;
		return false;
	}
	if (!type_parse(line, &fam, &type)) {
		c->unparsed++;
		char what[24];
		describe_char(line[0], what);
		ebds_errors_add(errs, lineno, 1, "type", "a record type A00-A03, B00-B06 or E00-E06", "\"%.3s\"",
				allowed_char(line[0]) && allowed_char(line[1]) && allowed_char(line[2]) ? line : "???");
		return false;
	}
	rec->family = fam;
	rec->type = type;
	char tname[4];
	type_name(fam, type, tname);

	if (c->family == EBDS_FAMILY_NONE)
		c->family = fam;
	else if (fam != c->family) {
		ebds_errors_add(errs, lineno, 1, "type", "records of one file family (A, B or E) only", "%s", tname);
		c->unparsed++;
		return false;
	}
	if (!order_ok((unsigned)c->stage, type)) {
		ebds_errors_add(errs, lineno, 1, "type", expected_after(c->family, (unsigned)c->stage), "%s", tname);
		if (c->stage == ST_END)
			return false;
		/* Resynchronize on what we saw so one missing record is one error. */
	}
	if (type != EBDS_HIRE || (unsigned)c->stage != ST_HIRES)
		c->stage = (int)stage_of(type);

	struct line_ctx l = { line, lineno, errs, layout_of(type), true };
	check_charset(&l);
	switch (type) {
	case EBDS_HEADER: parse_header(&l, rec); break;
	case EBDS_EMPLOYER:
		parse_employer(c, &l, rec);
		if (l.ok && c->rules) {
			int64_t ceiling;
			if (rules_param_at(c->rules, "ceiling", rec->period, &ceiling) == AMANA_OK) {
				c->ceiling = ceiling;
				c->ceiling_known = true;
			} else {
				ebds_errors_add(errs, lineno, 11, "period",
						"a period for which the salary ceiling is known", "%06u", rec->period);
			}
		}
		break;
	case EBDS_PREFILL:
	case EBDS_SALARY:
		parse_person(c, &l, rec);
		if (l.ok) {
			if (type == EBDS_SALARY)
				ebds_sums_add_salary(&c->salary, &rec->u.person);
			else
				ebds_sums_add_prefill(&c->salary, &rec->u.person);
		}
		break;
	case EBDS_HIRE:
		parse_hire(c, &l, rec);
		if (l.ok && !rec->u.hire.blank)
			ebds_sums_add_hire(&c->hires, &rec->u.hire);
		break;
	case EBDS_PREFILL_SUM:
	case EBDS_SALARY_SUM:
	case EBDS_HIRE_SUM:
	case EBDS_GRAND_SUM: parse_sums(c, &l, rec); break;
	}
	if (c->stage == ST_END)
		c->ended = true;
	if (!l.ok)
		c->unparsed++;
	return l.ok;
}

void ebds_check_end(struct ebds_check *c, struct ebds_errors *errs)
{
	if (c->lines == 0) {
		ebds_errors_add(errs, 0, 0, "file", "at least a header, an employer header and totals",
				"an empty file");
		return;
	}
	if (!c->ended)
		ebds_errors_add(errs, c->lines + 1, 0, "file", expected_after(c->family, (unsigned)c->stage),
				"end of file (truncated?)");
}

/* ---- the writer ---- */

static enum amana_err put_n(char *out, const struct field *f, uint64_t v)
{
	for (unsigned i = f->width; i > 0; i--) {
		out[f->col - 1 + i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
	return v == 0 ? AMANA_OK : AMANA_ERR_LIMIT;
}

static void put_an(char *out, const struct field *f, const char *s)
{
	size_t n = strlen(s);
	if (n > f->width)
		n = f->width;
	memcpy(out + f->col - 1, s, n);
}

enum amana_err ebds_format(const struct ebds_record *rec, char out[EBDS_LINE_MAX])
{
	const struct field *L = layout_of(rec->type);
	if (!L)
		return AMANA_ERR_USAGE;
	memset(out, ' ', EBDS_RECORD_LEN);
	out[EBDS_RECORD_LEN] = '\r';
	out[EBDS_RECORD_LEN + 1] = '\n';
	char tname[4];
	type_name(rec->family, rec->type, tname);
	memcpy(out, tname, 3);
	enum amana_err err = AMANA_OK;
#define N(idx, v)                                                                                                      \
	do {                                                                                                           \
		if (put_n(out, &L[idx], (uint64_t)(v)))                                                                \
			err = AMANA_ERR_LIMIT;                                                                         \
	} while (0)
	switch (rec->type) {
	case EBDS_HEADER:
		N(H_TRANSFER, rec->u.header.transfer_id);
		put_an(out, &L[H_CATEGORY], rec->u.header.category);
		break;
	case EBDS_EMPLOYER: {
		const struct ebds_employer *e = &rec->u.employer;
		N(E_AFF, e->affiliation);
		N(E_PERIOD, e->period);
		put_an(out, &L[E_NAME], e->name);
		put_an(out, &L[E_ACTIVITY], e->activity);
		put_an(out, &L[E_ADDRESS], e->address);
		put_an(out, &L[E_CITY], e->city);
		put_an(out, &L[E_POSTCODE], e->postcode);
		put_an(out, &L[E_AGENCY], e->agency);
		N(E_ISSUE, e->issue_date);
		N(E_DUE, e->due_date);
		break;
	}
	case EBDS_PREFILL:
	case EBDS_SALARY: {
		const struct ebds_person_line *p = &rec->u.person;
		N(S_AFF, p->affiliation);
		N(S_PERIOD, p->period);
		N(S_REG, p->registration);
		put_an(out, &L[S_NAME], p->name);
		N(S_CHILDREN, p->children);
		N(S_AF_PAY, p->af_to_pay);
		N(S_AF_DEDUCT, p->af_to_deduct);
		N(S_AF_NET, p->af_net);
		if (rec->type == EBDS_PREFILL)
			break;
		N(S_AF_BACK, p->af_give_back);
		N(S_DAYS, p->days);
		N(S_REAL, p->real_salary);
		N(S_CAPPED, p->capped_salary);
		put_an(out, &L[S_SITUATION], situation_code(p->situation));
		N(S_CONTROL, ebds_salary_control(p));
		break;
	}
	case EBDS_HIRE: {
		const struct ebds_hire_line *h = &rec->u.hire;
		if (h->blank)
			break;
		N(W_AFF, h->affiliation);
		N(W_PERIOD, h->period);
		N(W_REG, h->registration);
		put_an(out, &L[W_NAME], h->name);
		put_an(out, &L[W_CIN], h->cin);
		N(W_DAYS, h->days);
		N(W_REAL, h->real_salary);
		N(W_CAPPED, h->capped_salary);
		N(W_CONTROL, ebds_hire_control(h));
		break;
	}
	case EBDS_PREFILL_SUM: {
		const struct ebds_sums *s = &rec->u.sums;
		N(PS_AFF, rec->affiliation);
		N(PS_PERIOD, rec->period);
		N(PS_EMPLOYEES, s->employees);
		N(PS_CHILDREN, s->children);
		N(PS_AF_PAY, s->af_to_pay);
		N(PS_AF_DEDUCT, s->af_to_deduct);
		N(PS_AF_NET, s->af_net);
		N(PS_REGS, s->registrations);
		break;
	}
	case EBDS_SALARY_SUM: {
		const struct ebds_sums *s = &rec->u.sums;
		N(SS_AFF, rec->affiliation);
		N(SS_PERIOD, rec->period);
		N(SS_EMPLOYEES, s->employees);
		N(SS_CHILDREN, s->children);
		N(SS_AF_PAY, s->af_to_pay);
		N(SS_AF_DEDUCT, s->af_to_deduct);
		N(SS_AF_NET, s->af_net);
		N(SS_REGS, s->registrations);
		N(SS_AF_BACK, s->af_give_back);
		N(SS_DAYS, s->days);
		N(SS_REAL, s->real_salaries);
		N(SS_CAPPED, s->capped_salaries);
		N(SS_CONTROLS, s->controls);
		break;
	}
	case EBDS_HIRE_SUM:
	case EBDS_GRAND_SUM: {
		const struct ebds_sums *s = &rec->u.sums;
		N(T_AFF, rec->affiliation);
		N(T_PERIOD, rec->period);
		N(T_EMPLOYEES, s->employees);
		N(T_REGS, s->registrations);
		N(T_DAYS, s->days);
		N(T_REAL, s->real_salaries);
		N(T_CAPPED, s->capped_salaries);
		N(T_CONTROLS, s->controls);
		break;
	}
	}
#undef N
	return err;
}

/* ---- line splitting ---- */

void ebds_linebuf_init(struct ebds_linebuf *lb)
{
	memset(lb, 0, sizeof(*lb));
}

static int deliver(struct ebds_linebuf *lb, ebds_line_fn fn, void *ctx)
{
	size_t n = lb->len;
	if (n > 0 && lb->buf[n - 1] == '\r')
		n--;
	lb->lineno++;
	int rc = fn(ctx, lb->buf, n, lb->lineno, lb->overflow);
	lb->len = 0;
	lb->overflow = false;
	return rc;
}

int ebds_linebuf_feed(struct ebds_linebuf *lb, const char *data, size_t len, ebds_line_fn fn, void *ctx)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;
		size_t room = sizeof(lb->buf) - lb->len;
		if (take > room) {
			lb->overflow = true;
			memcpy(lb->buf + lb->len, data, room);
			lb->len += room;
		} else {
			memcpy(lb->buf + lb->len, data, take);
			lb->len += take;
		}
		if (!nl)
			return 0;
		int rc = deliver(lb, fn, ctx);
		if (rc)
			return rc;
		data = nl + 1;
		len -= take + 1;
	}
	return 0;
}

int ebds_linebuf_finish(struct ebds_linebuf *lb, ebds_line_fn fn, void *ctx)
{
	if (lb->len == 0 && !lb->overflow)
		return 0;
	return deliver(lb, fn, ctx);
}

/* ---- file names ---- */

static bool digits_at(const char *s, size_t n, uint32_t *out)
{
	uint64_t v;
	if (!parse_digits(s, n, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

enum ebds_family ebds_parse_filename(const char *name, uint32_t *affiliation, uint32_t *period, unsigned *complementary)
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	enum ebds_family fam;
	const char *p;
	*complementary = 0;
	if (strncmp(base, "AFFEBDS_", 8) == 0) {
		fam = EBDS_FAMILY_PREFILL;
		p = base + 8;
	} else if (strncmp(base, "DSC", 3) == 0 && base[3] >= '1' && base[3] <= '9' && base[4] == '_') {
		fam = EBDS_FAMILY_COMPLEMENTARY;
		*complementary = (unsigned)(base[3] - '0');
		p = base + 5;
	} else if (strncmp(base, "DS_", 3) == 0) {
		fam = EBDS_FAMILY_DECLARATION;
		p = base + 3;
	} else {
		return EBDS_FAMILY_NONE;
	}
	uint32_t a, x;
	if (!digits_at(p, 7, &a) || p[7] != '_' || !digits_at(p + 8, 6, &x))
		return EBDS_FAMILY_NONE;
	const char *rest = p + 14;
	if (strcmp(rest, ".txt") != 0 && strcmp(rest, ".TXT") != 0 && rest[0] != '\0')
		return EBDS_FAMILY_NONE;
	/* AAAAMM or MMAAAA: try the first, then the second. */
	if (!period_valid(x)) {
		uint32_t swapped = (x % 10000) * 100 + x / 10000;
		if (!period_valid(swapped))
			return EBDS_FAMILY_NONE;
		x = swapped;
	}
	*affiliation = a;
	*period = x;
	return fam;
}
