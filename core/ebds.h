/*
 * ebds.h - the e-BDS salary declaration codec (spec/ebds.md).
 *
 * Reading is streaming and I/O-free: the caller splits the input into lines
 * (ebds_linebuf below does it over any bytes it is handed) and passes each
 * line to ebds_check_line(), which parses the record, checks it against
 * every rule of the spec and against what came before in the file (record
 * order, same employer and period, running totals), and returns the record.
 * ebds_check_end() checks what only the end can tell (missing records).
 * Memory is constant: a file of any size is checked in O(1) space.
 *
 * Errors name line, column (1-based), field, what was expected and what was
 * found. Text fields that carry personal data (names, CIN) are never echoed:
 * the error shows only the offending character.
 *
 * Writing: ebds_format() renders a record into exactly 260 characters plus
 * CRLF; struct ebds_sums accumulates the totals records a writer must emit.
 */
#ifndef AMANA_CORE_EBDS_H
#define AMANA_CORE_EBDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rules.h"

#define EBDS_RECORD_LEN 260
#define EBDS_LINE_MAX (EBDS_RECORD_LEN + 2) /* record + CRLF */
#define EBDS_NAME_MAX 60

enum ebds_type {
	EBDS_HEADER, /* A00 B00 E00 */
	EBDS_EMPLOYER, /* A01 B01 E01 */
	EBDS_PREFILL, /* A02 */
	EBDS_PREFILL_SUM, /* A03 */
	EBDS_SALARY, /* B02 E02 */
	EBDS_SALARY_SUM, /* B03 E03 */
	EBDS_HIRE, /* B04 E04 */
	EBDS_HIRE_SUM, /* B05 E05 */
	EBDS_GRAND_SUM, /* B06 E06 */
};

/* Which file a record belongs to, from its first letter. */
enum ebds_family {
	EBDS_FAMILY_NONE = 0,
	EBDS_FAMILY_PREFILL = 'A', /* pre-filled list, registry -> employer */
	EBDS_FAMILY_DECLARATION = 'B', /* declaration */
	EBDS_FAMILY_COMPLEMENTARY = 'E', /* complementary declaration */
};

/* Situation codes with their rank in the row control sum. */
enum situation {
	SITUATION_NORMAL = 0, /* blank */
	SITUATION_SO = 1, /* left */
	SITUATION_DE = 2, /* deceased */
	SITUATION_IT = 3, /* maternity leave */
	SITUATION_IL = 4, /* sick leave */
	SITUATION_AT = 5, /* work accident */
	SITUATION_CS = 6, /* unpaid leave */
	SITUATION_MS = 7, /* kept without salary */
	SITUATION_MP = 8, /* occupational disease */
};
const char *situation_code(enum situation s); /* "", "SO", ... */
bool situation_leaves(enum situation s); /* SO and DE end the employment */

struct ebds_header {
	uint64_t transfer_id;
	char category[3];
};

struct ebds_employer {
	uint32_t affiliation;
	uint32_t period; /* YYYYMM */
	char name[41];
	char activity[41];
	char address[121];
	char city[21];
	char postcode[7];
	char agency[3];
	uint32_t issue_date; /* YYYYMMDD or 0 */
	uint32_t due_date;
};

/* A02 and B02/E02 share the first fields. */
struct ebds_person_line {
	uint32_t affiliation;
	uint32_t period;
	uint32_t registration;
	char name[EBDS_NAME_MAX + 1];
	unsigned children;
	int64_t af_to_pay; /* centimes */
	int64_t af_to_deduct;
	int64_t af_net;
	/* B02/E02 only: */
	int64_t af_give_back;
	unsigned days;
	int64_t real_salary;
	int64_t capped_salary;
	enum situation situation;
	uint64_t control; /* row control sum */
};

struct ebds_hire_line {
	uint32_t affiliation;
	uint32_t period;
	uint32_t registration; /* 0 = declared by CIN */
	char name[EBDS_NAME_MAX + 1];
	char cin[9];
	unsigned days;
	int64_t real_salary;
	int64_t capped_salary;
	uint64_t control;
	bool blank; /* the single all-blank B04 some writers emit */
};

/* Totals, as carried by A03, B03, B05, B06 (unused fields 0). */
struct ebds_sums {
	uint64_t employees;
	uint64_t children;
	uint64_t af_to_pay;
	uint64_t af_to_deduct;
	uint64_t af_net;
	uint64_t registrations; /* arithmetic sum of registration numbers */
	uint64_t af_give_back;
	uint64_t days;
	uint64_t real_salaries;
	uint64_t capped_salaries;
	uint64_t controls; /* sum of row control sums */
};

struct ebds_record {
	enum ebds_type type;
	enum ebds_family family;
	unsigned line; /* 1-based line number in the file */
	union {
		struct ebds_header header;
		struct ebds_employer employer;
		struct ebds_person_line person; /* EBDS_PREFILL, EBDS_SALARY */
		struct ebds_hire_line hire;
		struct ebds_sums sums; /* the *_SUM types */
	} u;
	uint32_t affiliation; /* every record but the header */
	uint32_t period;
};

struct ebds_error {
	unsigned line;
	unsigned column; /* 1-based; 0 when the whole line or file is meant */
	char field[32];
	char expected[160];
	char found[96];
};

/* A bounded list of errors: the first EBDS_ERRORS_MAX are kept, the rest
 * only counted, so hostile input cannot grow it. */
#define EBDS_ERRORS_MAX 200
struct ebds_errors {
	struct ebds_error list[EBDS_ERRORS_MAX];
	unsigned count; /* kept */
	unsigned dropped; /* seen beyond the list */
};
void ebds_errors_clear(struct ebds_errors *e);
unsigned ebds_errors_total(const struct ebds_errors *e);
/* Record an error (printf-style found). */
void ebds_errors_add(struct ebds_errors *e, unsigned line, unsigned column, const char *field, const char *expected,
		     const char *found_fmt, ...) __attribute__((format(printf, 6, 7)));

/* Per-file check state. Set it up with ebds_check_init(); rules gives the
 * ceiling in force for the file's period (capped salary = min(real,
 * ceiling)); without rules (NULL) the capped salaries are not checked. */
struct ebds_check {
	enum ebds_family family; /* from the first record */
	int stage; /* position in the record sequence */
	uint32_t affiliation;
	uint32_t period;
	unsigned lines;
	bool ended; /* the last record (A03 or B06) was seen */
	const struct rules *rules; /* for the salary ceiling of the period */
	int64_t ceiling;
	bool ceiling_known;
	struct ebds_sums salary; /* running B02 or A02 sums */
	struct ebds_sums hires; /* running B04 sums */
	unsigned blank_hires;
	unsigned unparsed; /* lines that could not be parsed: totals are not compared */
};
void ebds_check_init(struct ebds_check *c, const struct rules *rules);

/* Parse and check one line (without its line end) into *rec. Returns true
 * if the record is usable (its fields parsed); errors, including
 * sequence or total mismatches, are added to *errs either way. A line that
 * cannot be parsed returns false, with rec->type and rec->family still set
 * when its first three characters name a record type. */
bool ebds_check_line(struct ebds_check *c, const char *line, size_t len, unsigned lineno, struct ebds_record *rec,
		     struct ebds_errors *errs);

/* After the last line: report a missing trailer or an empty file. */
void ebds_check_end(struct ebds_check *c, struct ebds_errors *errs);

/* Row control sums per spec. */
uint64_t ebds_salary_control(const struct ebds_person_line *p);
uint64_t ebds_hire_control(const struct ebds_hire_line *h);

/* Accumulate a row into sums (writers and the checker share this). */
void ebds_sums_add_prefill(struct ebds_sums *s, const struct ebds_person_line *p);
void ebds_sums_add_salary(struct ebds_sums *s, const struct ebds_person_line *p);
void ebds_sums_add_hire(struct ebds_sums *s, const struct ebds_hire_line *h);

/* Render rec (type, family and the union) as 260 characters + CRLF into out
 * (EBDS_LINE_MAX bytes, not NUL-terminated). Text fields are written as
 * given: the caller normalizes them first (text_to_ebds). Numbers wider than
 * their field are AMANA_ERR_LIMIT. */
enum amana_err ebds_format(const struct ebds_record *rec, char out[EBDS_LINE_MAX]) AMANA_MUST_CHECK;

/*
 * Line splitting over a byte stream, bounded: a line longer than
 * EBDS_LINE_MAX is reported (not grown). Accepts LF and CRLF.
 */
struct ebds_linebuf {
	char buf[EBDS_LINE_MAX + 2];
	size_t len;
	bool overflow; /* the current line is longer than allowed */
	unsigned lineno;
};
void ebds_linebuf_init(struct ebds_linebuf *lb);
/* Feed bytes; for each complete line call on_line(ctx, line, len, lineno,
 * too_long). A final line without a line end is delivered by
 * ebds_linebuf_finish. Returns the first non-zero value on_line returned. */
typedef int (*ebds_line_fn)(void *ctx, const char *line, size_t len, unsigned lineno, bool too_long);
int ebds_linebuf_feed(struct ebds_linebuf *lb, const char *data, size_t len, ebds_line_fn fn, void *ctx);
int ebds_linebuf_finish(struct ebds_linebuf *lb, ebds_line_fn fn, void *ctx);

/* Parse an e-BDS file name: DS_<aff>_<period>.txt, DSC<k>_..., AFFEBDS_...;
 * the period may be AAAAMM or MMAAAA. Returns the family ('B', 'E', 'A') or
 * EBDS_FAMILY_NONE if the name does not follow the convention. */
enum ebds_family ebds_parse_filename(const char *name, uint32_t *affiliation, uint32_t *period,
				     unsigned *complementary);

/* A period YYYYMM with a month 1..12 and a year 1950..2200. */
bool period_valid(uint32_t period);
/* Previous/next month of a period. */
uint32_t period_prev(uint32_t period);
uint32_t period_next(uint32_t period);

#endif
