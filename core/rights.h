/*
 * rights.h - the benefits of spec/rules.md evaluated on a career at a date:
 * old-age pension, family allowance, daily sickness allowance, maternity
 * allowance, AMO health cover, job-loss allowance.
 *
 * Pure: no I/O, no keys, no store. Every figure (26 days, 3,240 days, 50%,
 * 1,000 MAD, ages, windows, decree dates...) is a dated parameter of
 * data/rules.txt looked up for the period of the date `at` (its YYYYMM); the
 * career's own months keep the ceiling and day cap of their period, and the
 * pension refund the long-term rates of each month. The page
 * docs/internals/rights.md lists every rule, parameter and rounding.
 *
 * Dates: `at` and birth dates are YYYYMMDD (years 1900-9999, real calendar
 * days); anything else is AMANA_ERR_USAGE.
 *
 * Windows: "the last N months at `at`" are the N calendar months before the
 * month of `at` (P-N .. P-1 with P = at's YYYYMM): the month of `at` itself
 * is never counted, since its declaration arrives during the next month.
 * The pension counts every month before P.
 *
 * Averages: a salary average over a window is taken over the months of the
 * window that carry a declared salary (> 0), rounded half up to the centime;
 * a month without a declaration neither lowers nor raises it. Daily salary =
 * that monthly average / daily_salary_divisor (26), rounded half up.
 *
 * Results: every function fills *out completely. A refusal is not an error:
 * it returns AMANA_OK with eligible false, amount 0 and the reason. Errors
 * are bad arguments (AMANA_ERR_USAGE), a parameter not in force at the date
 * (AMANA_ERR_NOTFOUND) or out of its sane range (AMANA_ERR_INPUT), a child
 * list over RIGHTS_MAX_CHILDREN (AMANA_ERR_LIMIT); then eligible is false,
 * rule is RIGHT_RULE_ERROR and reason names the parameter or argument.
 */
#ifndef AMANA_CORE_RIGHTS_H
#define AMANA_CORE_RIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "career.h"
#include "error.h"
#include "money.h"
#include "rules.h"

#define RIGHT_REASON_MAX 160
#define RIGHTS_MAX_CHILDREN 32

/* Stable rule ids (the strings are part of the interface). */
#define RIGHT_RULE_ERROR "error"
#define RIGHT_PENSION_AGE "pension.age" /* refused: before the pension age */
#define RIGHT_PENSION_CLASSIC "pension.classic"
#define RIGHT_PENSION_FLAT "pension.flat_2_25_265"
#define RIGHT_PENSION_REFUND "pension.refund"
#define RIGHT_FAMILY_DAYS "family.days" /* refused: too few days */
#define RIGHT_FAMILY_SALARY "family.salary" /* refused: salary under 60% SMIG */
#define RIGHT_FAMILY_NO_CHILD "family.no_child" /* refused: no child entitled */
#define RIGHT_FAMILY_ALLOWANCE "family.allowance"
#define RIGHT_SICKNESS_DAYS "sickness.days" /* refused: too few days */
#define RIGHT_SICKNESS_WAITING "sickness.waiting" /* refused: leave within the waiting days */
#define RIGHT_SICKNESS_EXHAUSTED "sickness.exhausted" /* refused: 52 weeks already paid */
#define RIGHT_SICKNESS_DAILY "sickness.daily"
#define RIGHT_MATERNITY_DAYS "maternity.days"
#define RIGHT_MATERNITY_DAILY "maternity.daily"
#define RIGHT_AMO_DAYS "amo.days"
#define RIGHT_AMO_COVER "amo.cover"
#define RIGHT_JOB_LOSS_DAYS "job_loss.days" /* refused: too few days in 36 months */
#define RIGHT_JOB_LOSS_RECENT "job_loss.recent_days" /* refused: too few in the last 12 */
#define RIGHT_JOB_LOSS_MONTHLY "job_loss.monthly"

enum right_unit {
	RIGHT_UNIT_NONE, /* no money: a refusal or a cover (AMO) */
	RIGHT_UNIT_PER_MONTH, /* pension, family allowance, job loss */
	RIGHT_UNIT_PER_DAY, /* sickness, maternity */
	RIGHT_UNIT_TOTAL, /* paid once: the pension refund */
};

struct right_result {
	bool eligible;
	centimes amount; /* in unit; 0 when not eligible */
	enum right_unit unit;
	/* Days (PER_DAY) or months (PER_MONTH) the amount is paid for, 0 when
	 * open-ended (pension, family allowance) or for TOTAL / NONE. */
	unsigned periods;
	/* amount x periods when periods > 0; amount for TOTAL; else 0. */
	centimes total;
	const char *rule; /* one of the RIGHT_* ids above, never NULL */
	char reason[RIGHT_REASON_MAX]; /* for a person to read, never empty */
	/* The figures the decision used, shown in reason too. */
	uint64_t days_found; /* days in the deciding window (career for the pension) */
	uint64_t days_needed; /* the threshold they were compared with */
	centimes reference; /* the salary the amount comes from: monthly (pension, job
			       loss), daily (sickness, maternity), average real (family) */
	ppm rate; /* the rate applied to reference, 0 if none */
};

enum child_status {
	CHILD_PLAIN, /* entitled up to family_allowance_age_plain (12) */
	CHILD_APPRENTICE, /* up to family_allowance_age_apprentice (18) */
	CHILD_STUDENT, /* up to family_allowance_age_student (21) */
	CHILD_DISABLED, /* no age limit */
};

struct child {
	uint32_t birth_date; /* YYYYMMDD, not after at */
	enum child_status status;
};

/* Old-age pension at `at` for a person born on birth_date (<= at). Before
 * the pension age: refused (RIGHT_PENSION_AGE). From it, by the career's days
 * before the month of at: classic (per month), flat under decree 2.25.265
 * (per month), or the refund of the long-term contributions (TOTAL). */
enum amana_err rights_pension(const struct rules *r, const struct career *c, uint32_t birth_date, uint32_t at,
			      struct right_result *out) AMANA_MUST_CHECK;

/* Family allowance per month at `at` for n children (n <= RIGHTS_MAX_CHILDREN,
 * children may be NULL when n is 0). Children past their age limit are left
 * out; those still entitled are ranked by birth date (equal dates: input
 * order), the eldest entitled child being rank 1. per_child (may be NULL)
 * receives n amounts, parallel to children, 0 for a child not paid. */
enum amana_err rights_family_allowance(const struct rules *r, const struct career *c, uint32_t at,
				       const struct child *children, size_t n, centimes *per_child,
				       struct right_result *out) AMANA_MUST_CHECK;

/* The same when only the number of children is known: all are counted as
 * entitled, ranks 1..n_children. */
enum amana_err rights_family_allowance_count(const struct rules *r, const struct career *c, uint32_t at,
					     unsigned n_children, struct right_result *out) AMANA_MUST_CHECK;

/* The family allowance a month for n_children all counted as entitled, by
 * the schedule in force for period (YYYYMM): what the pre-filled list's
 * A02 lines carry, with the same figures and ranking as the functions
 * above; the conditions of days and salary are judged when the allowance
 * is paid (rights_family_allowance_count). AMANA_ERR_LIMIT past
 * RIGHTS_MAX_CHILDREN, AMANA_ERR_NOTFOUND without the figures. */
enum amana_err rights_family_allowance_schedule(const struct rules *r, uint32_t period, unsigned n_children,
						centimes *amount) AMANA_MUST_CHECK;

/* Daily sickness allowance for a sick leave of leave_days days starting at
 * `at`, when days_paid_before days were already paid in the last
 * sickness_max_paid_months (24) months: amount per day, periods = days
 * paid (from the day after the waiting days, within the 52-week cap),
 * total = amount x periods. */
enum amana_err rights_sickness(const struct rules *r, const struct career *c, uint32_t at, unsigned leave_days,
			       unsigned days_paid_before, struct right_result *out) AMANA_MUST_CHECK;

/* Maternity allowance for a leave starting at `at`: amount per day, periods
 * = maternity_days (98), total. */
enum amana_err rights_maternity(const struct rules *r, const struct career *c, uint32_t at,
				struct right_result *out) AMANA_MUST_CHECK;

/* AMO health cover at `at` (unit NONE: a cover, no amount). */
enum amana_err rights_amo(const struct rules *r, const struct career *c, uint32_t at,
			  struct right_result *out) AMANA_MUST_CHECK;

/* Job-loss allowance for a loss of job at `at`: amount per month, periods =
 * job_loss_max_months (6), total. */
enum amana_err rights_job_loss(const struct rules *r, const struct career *c, uint32_t at,
			       struct right_result *out) AMANA_MUST_CHECK;

/* A YYYYMMDD date is a real calendar day of years 1900-9999. */
bool date_valid(uint32_t date);

#endif
