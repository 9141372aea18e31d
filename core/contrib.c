/*
 * contrib.c - contributions owed for a declaration (spec/rules.md).
 *
 * The amount per branch and side is rounded once, on the sum of the
 * declaration's bases, never per employee: that is how the fund bills, and
 * per-line rounding would drift by up to half a centime per employee.
 */
#include "contrib.h"

#include <string.h>

/* The name of the salary ceiling in data/rules.txt. */
#define PARAM_CEILING "ceiling"

enum amana_err capped_salary(const struct rules *r, uint32_t period, centimes real, centimes *out)
{
	enum amana_err result;
	int64_t ceiling;

	if (real < 0)
		return AMANA_ERR_USAGE;
	result = rules_param_at(r, PARAM_CEILING, period, &ceiling);
	if (result)
		return result;
	*out = real < ceiling ? real : ceiling;
	return AMANA_OK;
}

enum amana_err contributions_compute(const struct rules *r, uint32_t period, centimes real_salaries,
				     centimes capped_salaries, struct contributions *out)
{
	enum amana_err result = AMANA_OK;

	memset(out, 0, sizeof(*out));
	if (real_salaries < 0 || capped_salaries < 0)
		return AMANA_ERR_USAGE;
	out->period = period;
	out->real_salaries = real_salaries;
	out->capped_salaries = capped_salaries;
	for (unsigned b = 0; b < BRANCH_COUNT; b++) {
		struct contribution_line *line = &out->branches[b];
		struct branch_rule rule;

		result = rules_branch_at(r, (enum branch)b, period, &rule);
		if (result)
			goto out;
		line->branch = (enum branch)b;
		line->base = rule.base == BASE_CAPPED ? capped_salaries : real_salaries;
		line->employer_rate = rule.employer;
		line->employee_rate = rule.employee;
		line->employer = money_apply_rate(line->base, rule.employer);
		line->employee = money_apply_rate(line->base, rule.employee);
		/* Unreachable with real salaries, but a sum must never wrap. */
		if (__builtin_add_overflow(out->total_employer, line->employer, &out->total_employer) ||
		    __builtin_add_overflow(out->total_employee, line->employee, &out->total_employee)) {
			result = AMANA_ERR_LIMIT;
			goto out;
		}
	}
out:
	if (result)
		memset(out, 0, sizeof(*out));
	return result;
}
