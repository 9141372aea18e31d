/*
 * rights.c - the benefit rules of spec/rules.md on a career at a date.
 *
 * Each right reads its figures through param(), which names the parameter
 * in the reason when it is missing or insane, so a hole in data/rules.txt
 * reads as such and never as a refusal. Money is centimes throughout; each
 * named figure (average, daily salary, amount) is rounded half up once, so
 * a person can redo the arithmetic from the reason and the page.
 */
#include "rights.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

#define PPM_ONE 1000000
#define AGE_MAX 150 /* sanity bound on an age parameter, not a rule */
#define DAYS_MAX 100000 /* sanity bound on a day-count parameter */
#define MONEY_MAX 100000000000 /* 1e9 MAD: sanity bound on a money parameter */
#define FLAT_TIERS_MAX 9
#define PARAM_NAME_BUF 32

/* One evaluation: the rules, the period of `at`, the result being filled. */
struct eval {
	const struct rules *r;
	uint32_t at;
	uint32_t period;
	unsigned window; /* months of the last days_condition() */
	struct right_result *out;
};

__attribute__((format(printf, 2, 3))) static void say(struct right_result *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

static enum amana_err fail(struct right_result *out, enum amana_err err)
{
	out->eligible = false;
	out->amount = 0;
	out->total = 0;
	out->periods = 0;
	out->unit = RIGHT_UNIT_NONE;
	out->rule = RIGHT_RULE_ERROR;
	return err;
}

static void refuse(struct right_result *out, const char *rule)
{
	out->eligible = false;
	out->amount = 0;
	out->total = 0;
	out->periods = 0;
	out->unit = RIGHT_UNIT_NONE;
	out->rule = rule;
}

static void result_init(struct right_result *out)
{
	memset(out, 0, sizeof(*out));
	out->rule = RIGHT_RULE_ERROR;
	snprintf(out->reason, sizeof(out->reason), "not evaluated");
}

static const unsigned char days_in_month[13] = { 0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

bool date_valid(uint32_t date)
{
	uint32_t year = date / 10000, month = date / 100 % 100, day = date % 100;
	uint32_t dim;

	if (year < 1900 || year > 9999 || month < 1 || month > 12 || day < 1)
		return false;
	dim = days_in_month[month];
	if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		dim = 29;
	return day <= dim;
}

/* Completed years at date `at` (both valid, birth <= at). Born on 29
 * February: the birthday of a common year is taken on 1 March. */
static unsigned age_at(uint32_t birth, uint32_t at)
{
	unsigned years = at / 10000 - birth / 10000;

	return at % 10000 < birth % 10000 ? years - 1 : years;
}

static enum amana_err eval_start(struct eval *e, const struct rules *r, const struct career *c, uint32_t at,
				 struct right_result *out)
{
	if (!out)
		return AMANA_ERR_USAGE;
	result_init(out);
	e->r = r;
	e->at = at;
	e->period = at / 100;
	e->out = out;
	if (!r || !c) {
		say(out, "no rules or no career given");
		return fail(out, AMANA_ERR_USAGE);
	}
	if (!date_valid(at)) {
		say(out, "bad date %" PRIu32 " (expected YYYYMMDD)", at);
		return fail(out, AMANA_ERR_USAGE);
	}
	return AMANA_OK;
}

/* The parameter name in force at e->period, within [min, max]. */
static enum amana_err param(struct eval *e, const char *name, int64_t min, int64_t max, int64_t *v)
{
	enum amana_err result = rules_param_at(e->r, name, e->period, v);

	if (result == AMANA_ERR_NOTFOUND) {
		say(e->out, "parameter %s not in force at %04" PRIu32 "-%02" PRIu32, name, e->period / 100,
		    e->period % 100);
		return fail(e->out, result);
	}
	if (result)
		return fail(e->out, result);
	if (*v < min || *v > max) {
		say(e->out, "parameter %s = %" PRId64 " out of its range %" PRId64 "..%" PRId64, name, *v, min, max);
		return fail(e->out, AMANA_ERR_INPUT);
	}
	return AMANA_OK;
}

static enum amana_err param_u(struct eval *e, const char *name, int64_t min, int64_t max, unsigned *v)
{
	int64_t value;
	enum amana_err result = param(e, name, min, max, &value);

	if (!result)
		*v = (unsigned)value;
	return result;
}

static enum amana_err param_rate(struct eval *e, const char *name, ppm *v)
{
	int64_t value;
	enum amana_err result = param(e, name, 0, PPM_ONE, &value);

	if (!result)
		*v = (ppm)value;
	return result;
}

/* "12.34" for a rate in ppm, to the hundredth of a percent. */
static const char *rate_text(ppm rate, char buf[16])
{
	snprintf(buf, 16, "%u.%02u%%", rate / 10000, rate % 10000 / 100);
	return buf;
}

static const char *date_text(uint32_t date, char buf[16])
{
	snprintf(buf, 16, "%04" PRIu32 "-%02" PRIu32 "-%02" PRIu32, date / 10000, date / 100 % 100, date % 100);
	return buf;
}

/* round-half-up(v / d), v >= 0, d > 0. */
static centimes div_round(centimes v, int64_t d)
{
	return (centimes)((2 * (u128)v + (u128)d) / (2 * (u128)d));
}

/* round-half-up(v x num / den), v >= 0, den > 0. */
static centimes frac_round(centimes v, int64_t num, int64_t den)
{
	u128 q = (2 * (u128)v * (u128)num + (u128)den) / (2 * (u128)den);

	return q > (u128)INT64_MAX ? INT64_MAX : (centimes)q;
}

/* Days in the `name_months` window against `name_days`: true if enough. */
static enum amana_err days_condition(struct eval *e, const struct career *c, const char *name_days,
				     const char *name_months, const char *refuse_rule, const char *what, bool *ok)
{
	enum amana_err result;
	unsigned needed, months;
	uint64_t found;

	result = param_u(e, name_days, 0, DAYS_MAX, &needed);
	if (!result)
		result = param_u(e, name_months, 1, CAREER_MAX_MONTHS, &months);
	if (result)
		return result;
	found = career_days_before(c, e->period, months);
	e->window = months;
	e->out->days_found = found;
	e->out->days_needed = needed;
	*ok = found >= needed;
	if (!*ok) {
		refuse(e->out, refuse_rule);
		say(e->out, "%s: %u days needed in the last %u months, %" PRIu64 " found", what, needed, months, found);
	}
	return AMANA_OK;
}

/* Average capped daily salary over the `name_months` window: the monthly
 * average (months with a salary) / daily_salary_divisor. */
static enum amana_err daily_salary(struct eval *e, const struct career *c, const char *name_months, centimes *monthly,
				   centimes *daily, unsigned *months, unsigned *divisor)
{
	enum amana_err result;

	result = param_u(e, name_months, 1, CAREER_MAX_MONTHS, months);
	if (!result)
		result = param_u(e, "daily_salary_divisor", 1, 31, divisor);
	if (result)
		return result;
	*monthly = career_average_before(c, e->period, *months, true, NULL);
	*daily = div_round(*monthly, *divisor);
	return AMANA_OK;
}

/* ---- old-age pension ---- */

/* Whether decree 2.25.265 applies: claims from pension_flat_claims_from,
 * retirements from pension_flat_retired_from. Before its parameters exist
 * (they start at 2025-05) it does not. */
static enum amana_err flat_applies(struct eval *e, uint32_t reached, bool *applies)
{
	enum amana_err result;
	int64_t claims_from, retired_from;

	*applies = false;
	result = rules_param_at(e->r, "pension_flat_claims_from", e->period, &claims_from);
	if (result == AMANA_ERR_NOTFOUND)
		return AMANA_OK;
	if (result)
		return fail(e->out, result);
	result = param(e, "pension_flat_retired_from", 19000101, 99991231, &retired_from);
	if (result)
		return result;
	*applies = (int64_t)e->at >= claims_from && (int64_t)reached >= retired_from;
	return AMANA_OK;
}

/* The flat amount for days (< classic_min), 0 below the first tier, and
 * the bounds of the tier found. Tiers must rise strictly below classic_min;
 * a tier ends where the next begins, the last at classic_min - 1. */
static enum amana_err flat_amount(struct eval *e, uint64_t days, unsigned classic_min, centimes *amount,
				  unsigned *tier_min, unsigned *tier_max)
{
	char name[PARAM_NAME_BUF];
	enum amana_err result;
	unsigned tiers, previous = 0;
	bool in_tier = false;

	*amount = 0;
	result = param_u(e, "pension_flat_tiers", 1, FLAT_TIERS_MAX, &tiers);
	if (result)
		return result;
	for (unsigned i = 1; i <= tiers; i++) {
		unsigned min_days;
		int64_t value;

		snprintf(name, sizeof(name), "pension_flat_%u_min_days", i);
		result = param_u(e, name, previous + 1, (int64_t)classic_min - 1, &min_days);
		if (result)
			return result;
		snprintf(name, sizeof(name), "pension_flat_%u_amount", i);
		result = param(e, name, 0, MONEY_MAX, &value);
		if (result)
			return result;
		if (in_tier && days < min_days) {
			*tier_max = min_days - 1;
			in_tier = false;
		}
		if (days >= min_days) {
			*amount = value;
			*tier_min = min_days;
			*tier_max = classic_min - 1;
			in_tier = true;
		}
		previous = min_days;
	}
	return AMANA_OK;
}

/* amount x periods, or AMANA_ERR_LIMIT (only with absurd parameters). */
static enum amana_err set_total(struct eval *e, centimes amount, unsigned periods)
{
	if (__builtin_mul_overflow(amount, (centimes)periods, &e->out->total)) {
		say(e->out, "total overflows");
		return fail(e->out, AMANA_ERR_LIMIT);
	}
	return AMANA_OK;
}

static enum amana_err pension_refund(struct eval *e, const struct career *c, uint64_t days, const char *why)
{
	struct right_result *out = e->out;
	char money[MONEY_TEXT_MAX];
	unsigned months = 0;
	centimes sum = 0;

	for (unsigned i = 0; i < c->month_count && c->months[i].period < e->period; i++) {
		const struct career_month *m = &c->months[i];
		struct branch_rule rule;
		centimes base, both;
		enum amana_err result = rules_branch_at(e->r, BRANCH_LONG_TERM, m->period, &rule);

		if (result) {
			say(out, "branch long_term not in force at %04" PRIu32 "-%02" PRIu32, m->period / 100,
			    m->period % 100);
			return fail(out, result);
		}
		base = rule.base == BASE_CAPPED ? m->capped_salary : m->salary;
		/* each side rounded per month, as the month's declaration was billed */
		if (__builtin_add_overflow(money_apply_rate(base, rule.employer), money_apply_rate(base, rule.employee),
					   &both) ||
		    __builtin_add_overflow(sum, both, &sum)) {
			say(out, "refund overflows");
			return fail(out, AMANA_ERR_LIMIT);
		}
		if (base > 0)
			months++;
	}
	out->rule = RIGHT_PENSION_REFUND;
	out->eligible = sum > 0;
	out->unit = sum > 0 ? RIGHT_UNIT_TOTAL : RIGHT_UNIT_NONE;
	out->amount = sum;
	out->total = sum;
	say(out, "%" PRIu64 " days (%s): refund of the long-term contributions, both sides, of %u months: %s MAD", days,
	    why, months, money_format(sum, money));
	return AMANA_OK;
}

enum amana_err rights_pension(const struct rules *r, const struct career *c, uint32_t birth_date, uint32_t at,
			      struct right_result *out)
{
	char d1[16], d2[16], m1[MONEY_TEXT_MAX], m2[MONEY_TEXT_MAX], m3[MONEY_TEXT_MAX], p1[16];
	struct eval e;
	enum amana_err result = eval_start(&e, r, c, at, out);
	unsigned age, classic_min, step_days, ref_months, count, steps, tier_min = 0, tier_max = 0;
	ppm base_rate, step_rate, max_rate;
	centimes minimum, reference, amount;
	uint64_t days, rate;
	uint32_t reached;
	bool applies;

	if (result)
		return result;
	if (!date_valid(birth_date) || birth_date > at) {
		say(out, "bad birth date %" PRIu32 " (YYYYMMDD, not after the claim date)", birth_date);
		return fail(out, AMANA_ERR_USAGE);
	}
	result = param_u(&e, "pension_age", 1, AGE_MAX, &age);
	if (result)
		return result;
	reached = birth_date + age * 10000;
	if (at < reached) {
		refuse(out, RIGHT_PENSION_AGE);
		say(out, "pension age %u reached on %s, after the claim date %s", age, date_text(reached, d1),
		    date_text(at, d2));
		return AMANA_OK;
	}

	days = career_days_until(c, e.period);
	out->days_found = days;
	result = param_u(&e, "pension_classic_min_days", 1, DAYS_MAX, &classic_min);
	if (result)
		return result;
	out->days_needed = classic_min;
	if (days < classic_min) {
		result = flat_applies(&e, reached, &applies);
		if (result)
			return result;
		if (!applies)
			return pension_refund(&e, c, days, "decree 2.25.265 does not apply");
		result = flat_amount(&e, days, classic_min, &amount, &tier_min, &tier_max);
		if (result)
			return result;
		if (amount == 0)
			return pension_refund(&e, c, days, "below the first flat tier");
		out->eligible = true;
		out->rule = RIGHT_PENSION_FLAT;
		out->unit = RIGHT_UNIT_PER_MONTH;
		out->amount = amount;
		out->days_needed = tier_min;
		say(out, "%" PRIu64 " days, in the tier %u-%u of decree 2.25.265: flat %s MAD a month", days, tier_min,
		    tier_max, money_format(amount, m1));
		return AMANA_OK;
	}

	result = param_rate(&e, "pension_base_rate_ppm", &base_rate);
	if (!result)
		result = param_u(&e, "pension_step_days", 1, DAYS_MAX, &step_days);
	if (!result)
		result = param_rate(&e, "pension_step_rate_ppm", &step_rate);
	if (!result)
		result = param_rate(&e, "pension_max_rate_ppm", &max_rate);
	if (!result)
		result = param(&e, "pension_minimum", 0, MONEY_MAX, &minimum);
	if (!result)
		result = param_u(&e, "pension_reference_months", 1, CAREER_MAX_MONTHS, &ref_months);
	if (result)
		return result;
	steps = (unsigned)((days - classic_min) / step_days);
	rate = base_rate + (uint64_t)steps * step_rate;
	if (rate > max_rate)
		rate = max_rate;
	reference = career_average_last_declared(c, e.period, ref_months, &count);
	amount = money_apply_rate(reference, (ppm)rate);
	out->reference = reference;
	out->rate = (ppm)rate;
	out->eligible = true;
	out->rule = RIGHT_PENSION_CLASSIC;
	out->unit = RIGHT_UNIT_PER_MONTH;
	if (amount < minimum) {
		out->amount = minimum;
		say(out, "%" PRIu64 " days: %s of %s (capped, %u months) = %s, raised to the minimum %s MAD a month",
		    days, rate_text((ppm)rate, p1), money_format(reference, m1), count, money_format(amount, m2),
		    money_format(minimum, m3));
		return AMANA_OK;
	}
	out->amount = amount;
	say(out, "%" PRIu64 " days, %u full steps of %u: %s of %s (capped, %u months) = %s MAD a month", days, steps,
	    step_days, rate_text((ppm)rate, p1), money_format(reference, m1), count, money_format(amount, m2));
	return AMANA_OK;
}

/* ---- family allowance ---- */

struct family_figures {
	unsigned first_tier_max; /* ranks 1..this get amount_first */
	unsigned max_children;
	centimes amount_first;
	centimes amount_next;
};

/* The amounts by rank in force at e->period. */
static enum amana_err family_schedule(struct eval *e, struct family_figures *f)
{
	enum amana_err result =
	    param_u(e, "family_allowance_first_tier_max", 0, RIGHTS_MAX_CHILDREN, &f->first_tier_max);
	if (!result)
		result = param_u(e, "family_allowance_max_children", f->first_tier_max, RIGHTS_MAX_CHILDREN,
				 &f->max_children);
	if (!result)
		result = param(e, "family_allowance_child_1_3", 0, MONEY_MAX, &f->amount_first);
	if (!result)
		result = param(e, "family_allowance_child_4_6", 0, MONEY_MAX, &f->amount_next);
	return result;
}

/* The worker's conditions; *ok false (and out refused) if one fails. */
static enum amana_err family_conditions(struct eval *e, const struct career *c, struct family_figures *f, bool *ok)
{
	char m1[MONEY_TEXT_MAX], m2[MONEY_TEXT_MAX], m3[MONEY_TEXT_MAX], p1[16];
	enum amana_err result;
	unsigned months, count;
	centimes smig, threshold, average;
	ppm smig_share;

	result = days_condition(e, c, "family_allowance_min_days", "family_allowance_window_months", RIGHT_FAMILY_DAYS,
				"family allowance", ok);
	if (result || !*ok)
		return result;
	result = param_u(e, "family_allowance_window_months", 1, CAREER_MAX_MONTHS, &months);
	if (!result)
		result = param_rate(e, "family_allowance_min_smig_ppm", &smig_share);
	if (!result)
		result = param(e, "smig", 0, MONEY_MAX, &smig);
	if (!result)
		result = family_schedule(e, f);
	if (result)
		return result;
	threshold = money_apply_rate(smig, smig_share);
	average = career_average_before(c, e->period, months, false, &count);
	e->out->reference = average;
	e->out->rate = smig_share;
	*ok = average >= threshold;
	if (!*ok) {
		refuse(e->out, RIGHT_FAMILY_SALARY);
		say(e->out,
		    "family allowance: average real salary %s over %u declared months, under %s (%s of SMIG %s)",
		    money_format(average, m1), count, money_format(threshold, m2), rate_text(smig_share, p1),
		    money_format(smig, m3));
	}
	return AMANA_OK;
}

static centimes family_rank_amount(const struct family_figures *f, unsigned rank)
{
	if (rank <= f->first_tier_max)
		return f->amount_first;
	if (rank <= f->max_children)
		return f->amount_next;
	return 0;
}

static void family_grant(struct right_result *out, const struct family_figures *f, unsigned entitled, centimes sum)
{
	char m1[MONEY_TEXT_MAX], m2[MONEY_TEXT_MAX], m3[MONEY_TEXT_MAX];
	unsigned paid = entitled < f->max_children ? entitled : f->max_children;

	out->eligible = true;
	out->rule = RIGHT_FAMILY_ALLOWANCE;
	out->unit = RIGHT_UNIT_PER_MONTH;
	out->amount = sum;
	say(out, "%u children entitled, %u paid (%s each for ranks 1-%u, %s up to %u): %s MAD a month", entitled, paid,
	    money_format(f->amount_first, m1), f->first_tier_max, money_format(f->amount_next, m2), f->max_children,
	    money_format(sum, m3));
}

static enum amana_err child_entitled(struct eval *e, const struct child *ch, bool *entitled)
{
	static const char *const age_params[] = {
		[CHILD_PLAIN] = "family_allowance_age_plain",
		[CHILD_APPRENTICE] = "family_allowance_age_apprentice",
		[CHILD_STUDENT] = "family_allowance_age_student",
	};
	unsigned limit;
	enum amana_err result;

	if (ch->status == CHILD_DISABLED) {
		*entitled = true;
		return AMANA_OK;
	}
	result = param_u(e, age_params[ch->status], 0, AGE_MAX, &limit);
	if (result)
		return result;
	*entitled = age_at(ch->birth_date, e->at) < limit;
	return AMANA_OK;
}

enum amana_err rights_family_allowance(const struct rules *r, const struct career *c, uint32_t at,
				       const struct child *children, size_t n, centimes *per_child,
				       struct right_result *out)
{
	struct family_figures f;
	struct eval e;
	enum amana_err result = eval_start(&e, r, c, at, out);
	size_t order[RIGHTS_MAX_CHILDREN];
	char d1[16];
	unsigned entitled = 0;
	centimes sum = 0;
	bool ok;

	if (result)
		return result;
	if (n > RIGHTS_MAX_CHILDREN) {
		say(out, "%zu children, at most %d", n, RIGHTS_MAX_CHILDREN);
		return fail(out, AMANA_ERR_LIMIT);
	}
	if (!children && n != 0) {
		say(out, "no children given");
		return fail(out, AMANA_ERR_USAGE);
	}
	for (size_t i = 0; i < n; i++) {
		if (per_child)
			per_child[i] = 0;
		if (!date_valid(children[i].birth_date) || children[i].birth_date > at ||
		    (unsigned)children[i].status > CHILD_DISABLED) {
			say(out, "child %zu: bad birth date %" PRIu32 " or status", i + 1, children[i].birth_date);
			return fail(out, AMANA_ERR_USAGE);
		}
	}
	result = family_conditions(&e, c, &f, &ok);
	if (result || !ok)
		return result;
	/* Children still entitled, in birth order (stable: equal dates keep
	 * their input order); the eldest of them is rank 1. */
	for (size_t i = 0; i < n; i++) {
		bool yes;
		size_t j;

		result = child_entitled(&e, &children[i], &yes);
		if (result)
			return result;
		if (!yes)
			continue;
		for (j = entitled; j > 0 && children[order[j - 1]].birth_date > children[i].birth_date; j--)
			order[j] = order[j - 1];
		order[j] = i;
		entitled++;
	}
	if (entitled == 0) {
		refuse(out, RIGHT_FAMILY_NO_CHILD);
		say(out, "family allowance: none of the %zu children is within the age limits at %s", n,
		    date_text(at, d1));
		return AMANA_OK;
	}
	for (unsigned k = 0; k < entitled; k++) {
		centimes amount = family_rank_amount(&f, k + 1);
		if (per_child)
			per_child[order[k]] = amount;
		sum += amount;
	}
	family_grant(out, &f, entitled, sum);
	return AMANA_OK;
}

enum amana_err rights_family_allowance_count(const struct rules *r, const struct career *c, uint32_t at,
					     unsigned n_children, struct right_result *out)
{
	struct family_figures f;
	struct eval e;
	enum amana_err result = eval_start(&e, r, c, at, out);
	centimes sum = 0;
	bool ok;

	if (result)
		return result;
	if (n_children > RIGHTS_MAX_CHILDREN) {
		say(out, "%u children, at most %d", n_children, RIGHTS_MAX_CHILDREN);
		return fail(out, AMANA_ERR_LIMIT);
	}
	result = family_conditions(&e, c, &f, &ok);
	if (result || !ok)
		return result;
	if (n_children == 0) {
		refuse(out, RIGHT_FAMILY_NO_CHILD);
		say(out, "family allowance: no child");
		return AMANA_OK;
	}
	for (unsigned k = 1; k <= n_children; k++)
		sum += family_rank_amount(&f, k);
	family_grant(out, &f, n_children, sum);
	return AMANA_OK;
}

enum amana_err rights_family_allowance_schedule(const struct rules *r, uint32_t period, unsigned n_children,
						centimes *amount)
{
	struct right_result scratch;
	struct family_figures f;
	struct eval e = { .r = r, .at = period * 100 + 1, .period = period, .out = &scratch };
	enum amana_err result;

	*amount = 0;
	result_init(&scratch);
	if (!r || !career_period_valid(period))
		return AMANA_ERR_USAGE;
	if (n_children > RIGHTS_MAX_CHILDREN)
		return AMANA_ERR_LIMIT;
	result = family_schedule(&e, &f);
	if (result)
		return result;
	for (unsigned k = 1; k <= n_children; k++)
		*amount += family_rank_amount(&f, k);
	return AMANA_OK;
}

/* ---- sickness, maternity ---- */

enum amana_err rights_sickness(const struct rules *r, const struct career *c, uint32_t at, unsigned leave_days,
			       unsigned days_paid_before, struct right_result *out)
{
	char m1[MONEY_TEXT_MAX], m2[MONEY_TEXT_MAX], m3[MONEY_TEXT_MAX], m4[MONEY_TEXT_MAX];
	struct eval e;
	enum amana_err result = eval_start(&e, r, c, at, out);
	unsigned waiting, max_paid, max_paid_months, months, num, den, paid, divisor;
	centimes monthly, daily, amount;
	bool ok;

	if (result)
		return result;
	result = days_condition(&e, c, "sickness_min_days", "sickness_window_months", RIGHT_SICKNESS_DAYS,
				"sickness allowance", &ok);
	if (result || !ok)
		return result;
	result = param_u(&e, "sickness_waiting_days", 0, DAYS_MAX, &waiting);
	if (!result)
		result = param_u(&e, "sickness_max_paid_days", 0, DAYS_MAX, &max_paid);
	if (!result)
		result = param_u(&e, "sickness_max_paid_months", 1, CAREER_MAX_MONTHS, &max_paid_months);
	if (!result)
		result = param_u(&e, "sickness_rate_num", 0, PPM_ONE, &num);
	if (!result)
		result = param_u(&e, "sickness_rate_den", 1, PPM_ONE, &den);
	if (!result)
		result = daily_salary(&e, c, "sickness_salary_months", &monthly, &daily, &months, &divisor);
	if (result)
		return result;
	if (leave_days <= waiting) {
		refuse(out, RIGHT_SICKNESS_WAITING);
		say(out, "sickness allowance: paid from day %u of the leave, the leave lasts %u days", waiting + 1,
		    leave_days);
		return AMANA_OK;
	}
	if (days_paid_before >= max_paid) {
		refuse(out, RIGHT_SICKNESS_EXHAUSTED);
		say(out, "sickness allowance: %u days already paid in %u months, at most %u", days_paid_before,
		    max_paid_months, max_paid);
		return AMANA_OK;
	}
	paid = leave_days - waiting;
	if (paid > max_paid - days_paid_before)
		paid = max_paid - days_paid_before;
	amount = frac_round(daily, num, den);
	out->eligible = true;
	out->rule = RIGHT_SICKNESS_DAILY;
	out->unit = RIGHT_UNIT_PER_DAY;
	out->amount = amount;
	out->periods = paid;
	result = set_total(&e, amount, paid);
	if (result)
		return result;
	out->reference = daily;
	out->rate = (ppm)(((uint64_t)num * PPM_ONE + den / 2) / den);
	say(out, "%u/%u of daily %s (monthly %s / %u) = %s MAD a day, %u of %u days paid: %s MAD", num, den,
	    money_format(daily, m1), money_format(monthly, m2), divisor, money_format(amount, m3), paid, leave_days,
	    money_format(out->total, m4));
	return AMANA_OK;
}

enum amana_err rights_maternity(const struct rules *r, const struct career *c, uint32_t at, struct right_result *out)
{
	char m1[MONEY_TEXT_MAX], m2[MONEY_TEXT_MAX], m3[MONEY_TEXT_MAX], m4[MONEY_TEXT_MAX], p1[16];
	struct eval e;
	enum amana_err result = eval_start(&e, r, c, at, out);
	unsigned days, months, divisor;
	centimes monthly, daily, amount;
	ppm rate;
	bool ok;

	if (result)
		return result;
	result = days_condition(&e, c, "maternity_min_days", "maternity_window_months", RIGHT_MATERNITY_DAYS,
				"maternity allowance", &ok);
	if (result || !ok)
		return result;
	result = param_rate(&e, "maternity_rate_ppm", &rate);
	if (!result)
		result = param_u(&e, "maternity_days", 1, DAYS_MAX, &days);
	if (!result)
		result = daily_salary(&e, c, "maternity_salary_months", &monthly, &daily, &months, &divisor);
	if (result)
		return result;
	amount = money_apply_rate(daily, rate);
	out->eligible = true;
	out->rule = RIGHT_MATERNITY_DAILY;
	out->unit = RIGHT_UNIT_PER_DAY;
	out->amount = amount;
	out->periods = days;
	result = set_total(&e, amount, days);
	if (result)
		return result;
	out->reference = daily;
	out->rate = rate;
	say(out, "%s of daily %s (monthly %s / %u) = %s MAD a day for %u days: %s MAD", rate_text(rate, p1),
	    money_format(daily, m1), money_format(monthly, m2), divisor, money_format(amount, m3), days,
	    money_format(out->total, m4));
	return AMANA_OK;
}

/* ---- AMO ---- */

enum amana_err rights_amo(const struct rules *r, const struct career *c, uint32_t at, struct right_result *out)
{
	struct eval e;
	enum amana_err result = eval_start(&e, r, c, at, out);
	bool ok;

	if (result)
		return result;
	result = days_condition(&e, c, "amo_min_days", "amo_window_months", RIGHT_AMO_DAYS, "AMO cover", &ok);
	if (result || !ok)
		return result;
	out->eligible = true;
	out->rule = RIGHT_AMO_COVER;
	out->unit = RIGHT_UNIT_NONE;
	say(out, "AMO cover: %" PRIu64 " days in the last %u months, %" PRIu64 " needed", out->days_found, e.window,
	    out->days_needed);
	return AMANA_OK;
}

/* ---- job loss ---- */

enum amana_err rights_job_loss(const struct rules *r, const struct career *c, uint32_t at, struct right_result *out)
{
	char m1[MONEY_TEXT_MAX], m2[MONEY_TEXT_MAX], m3[MONEY_TEXT_MAX], p1[16];
	struct eval e;
	enum amana_err result = eval_start(&e, r, c, at, out);
	unsigned recent_needed, recent_months, months, max_months, count;
	centimes smig, average, amount;
	uint64_t recent;
	ppm rate;
	bool ok;

	if (result)
		return result;
	result = days_condition(&e, c, "job_loss_min_days", "job_loss_window_months", RIGHT_JOB_LOSS_DAYS,
				"job-loss allowance", &ok);
	if (result || !ok)
		return result;
	result = param_u(&e, "job_loss_recent_days", 0, DAYS_MAX, &recent_needed);
	if (!result)
		result = param_u(&e, "job_loss_recent_months", 1, CAREER_MAX_MONTHS, &recent_months);
	if (!result)
		result = param_u(&e, "job_loss_window_months", 1, CAREER_MAX_MONTHS, &months);
	if (!result)
		result = param_rate(&e, "job_loss_rate_ppm", &rate);
	if (!result)
		result = param_u(&e, "job_loss_max_months", 1, CAREER_MAX_MONTHS, &max_months);
	if (!result)
		result = param(&e, "smig", 0, MONEY_MAX, &smig);
	if (result)
		return result;
	recent = career_days_before(c, e.period, recent_months);
	if (recent < recent_needed) {
		refuse(out, RIGHT_JOB_LOSS_RECENT);
		out->days_found = recent;
		out->days_needed = recent_needed;
		say(out, "job-loss allowance: %u days needed in the last %u months, %" PRIu64 " found", recent_needed,
		    recent_months, recent);
		return AMANA_OK;
	}
	average = career_average_before(c, e.period, months, true, &count);
	amount = money_apply_rate(average, rate);
	if (amount > smig)
		amount = smig;
	out->eligible = true;
	out->rule = RIGHT_JOB_LOSS_MONTHLY;
	out->unit = RIGHT_UNIT_PER_MONTH;
	out->amount = amount;
	out->periods = max_months;
	result = set_total(&e, amount, max_months);
	if (result)
		return result;
	out->reference = average;
	out->rate = rate;
	say(out, "%s of %s (capped, %u months) at most SMIG %s = %s MAD a month for %u months", rate_text(rate, p1),
	    money_format(average, m1), count, money_format(smig, m2), money_format(amount, m3), max_months);
	return AMANA_OK;
}
