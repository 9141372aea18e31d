/*
 * career.h - a person's contribution career, month by month, from the lines
 * of the declarations that name them (spec/rules.md "Benefits").
 *
 * The lines come in any order, several employers may declare the same
 * month. A month keeps the days of all its lines capped at
 * max_days_per_month (26) of that period, the sum of the real salaries, and
 * the capped salary min(real, ceiling of that period). Both figures are
 * dated parameters of data/rules.txt, so building a career needs the rules.
 *
 * Ownership: struct career is a plain fixed-size value (about 32 KB: allocate
 * it on the heap or statically rather than on a small stack) that the caller
 * owns; career_build() sets what is read of it and nothing needs releasing.
 *
 * Windows: "the N months before P" are the N calendar months P-N .. P-1,
 * P itself excluded (a month's declaration arrives during the next month).
 * Months of the window with no line count as zero days and no salary.
 *
 * Bounds: a career spans at most CAREER_MAX_MONTHS calendar months (80
 * years) from its first month to its last; anything wider is
 * AMANA_ERR_LIMIT. Periods are YYYYMM, years 1900-9999.
 */
#ifndef AMANA_CORE_CAREER_H
#define AMANA_CORE_CAREER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "money.h"
#include "rules.h"

#define CAREER_MAX_MONTHS (80 * 12)
/* 960 consecutive months touch at most 81 calendar years. */
#define CAREER_MAX_YEARS 81
/* No declaration line can carry more days than a month has. */
#define CAREER_LINE_MAX_DAYS 31

/* One line of one declaration for this person. */
struct career_line {
	uint32_t period; /* YYYYMM */
	int64_t employer_id;
	unsigned days;
	centimes salary; /* real gross */
};

struct career_month {
	uint32_t period; /* YYYYMM */
	unsigned declared_days; /* sum over the month's lines, before the cap */
	unsigned days; /* min(declared_days, max_days_per_month of the period) */
	unsigned employers; /* lines merged into this month */
	centimes salary; /* real, all employers */
	centimes capped_salary; /* min(salary, ceiling of the period) */
};

struct career_year {
	unsigned year;
	uint64_t days; /* capped days of the year's months */
};

struct career {
	struct career_month months[CAREER_MAX_MONTHS]; /* by period, ascending */
	unsigned month_count;
	struct career_year years[CAREER_MAX_YEARS]; /* by year, ascending */
	unsigned year_count;
	uint64_t total_days; /* capped days of every month */
	unsigned months_with_salary; /* months whose real salary is > 0 */
};

/* Aggregate n lines (any order) into *out: its counts and its first
 * month_count months and year_count years are set, the slots past them are
 * not read and may hold anything (a batch reuses one struct). lines may be NULL
 * when n is 0 (an empty career). AMANA_ERR_INPUT for a line with a bad
 * period, a negative salary or more than CAREER_LINE_MAX_DAYS days;
 * AMANA_ERR_LIMIT for a span over CAREER_MAX_MONTHS or a salary sum that
 * would overflow; AMANA_ERR_NOTFOUND (or _INPUT for a nonsense value) if
 * max_days_per_month or ceiling is not in force for a month. On error *out
 * is zeroed whole. */
enum amana_err career_build(const struct rules *r, const struct career_line *lines, size_t n,
			    struct career *out) AMANA_MUST_CHECK;

/* A YYYYMM period is valid (years 1900-9999, months 01-12). */
bool career_period_valid(uint32_t period);

/* period moved by delta months (negative: back). The caller keeps the
 * result within years 1900-9999. */
uint32_t period_add(uint32_t period, int delta);

/* Capped days of the months months before end (end - months .. end - 1). */
uint64_t career_days_before(const struct career *c, uint32_t end, unsigned months);

/* The average monthly salary (capped or real) over the months before end
 * that have a declared salary (> 0): round-half-up(sum / count). *count
 * (may be NULL) receives that count; the average is 0 when it is 0. */
centimes career_average_before(const struct career *c, uint32_t end, unsigned months, bool capped, unsigned *count);

/* The average capped monthly salary over the last n months before end that
 * have a declared salary, however far back they lie (the pension's reference
 * salary): round-half-up(sum / count), count <= n months (fewer if the
 * career holds fewer). */
centimes career_average_last_declared(const struct career *c, uint32_t end, unsigned n, unsigned *count);

/* Capped days of every month before end (all the career up to end). */
uint64_t career_days_until(const struct career *c, uint32_t end);

#endif
