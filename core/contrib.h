/*
 * contrib.h - contributions owed for a declaration (spec/rules.md).
 *
 * For each branch and side: round-half-up(sum over the lines of the branch's
 * base x rate). The bases are the declaration's sum of real salaries and sum
 * of capped salaries, in centimes; the rates those in force for the period.
 */
#ifndef AMANA_CORE_CONTRIB_H
#define AMANA_CORE_CONTRIB_H

#include <stdint.h>

#include "error.h"
#include "money.h"
#include "rules.h"

struct contribution_line {
	enum branch branch;
	centimes base;
	ppm employer_rate;
	ppm employee_rate;
	centimes employer;
	centimes employee;
};

struct contributions {
	uint32_t period;
	centimes real_salaries;
	centimes capped_salaries;
	struct contribution_line branches[BRANCH_COUNT];
	centimes total_employer;
	centimes total_employee;
};

/* Fill *out for period from the sums. AMANA_ERR_NOTFOUND if a branch has no
 * rule in force for the period; AMANA_ERR_USAGE for negative sums;
 * AMANA_ERR_LIMIT if a total would overflow. *out is zeroed on error. */
enum amana_err contributions_compute(const struct rules *r, uint32_t period, centimes real_salaries,
				     centimes capped_salaries, struct contributions *out) AMANA_MUST_CHECK;

/* min(real, ceiling in force for the period): the capped salary a line
 * must declare. AMANA_ERR_NOTFOUND if no ceiling applies; AMANA_ERR_USAGE
 * for a negative salary. */
enum amana_err capped_salary(const struct rules *r, uint32_t period, centimes real, centimes *out) AMANA_MUST_CHECK;

#endif
