/*
 * career.c - declaration lines into months, and the windows the rights
 * count days and average salaries over.
 *
 * No allocation: the lines are summed straight into out->months indexed by
 * their distance from the first period (the span is bounded), then the
 * months that received a line are packed down in order.
 */
#include "career.h"

#include <string.h>

__extension__ typedef unsigned __int128 u128;

#define PARAM_MAX_DAYS "max_days_per_month"
#define PARAM_CEILING "ceiling"

bool career_period_valid(uint32_t period)
{
	uint32_t year = period / 100, month = period % 100;

	return year >= 1900 && year <= 9999 && month >= 1 && month <= 12;
}

/* Months since January 1900: a linear index of periods. */
static int64_t period_index(uint32_t period)
{
	return (int64_t)(period / 100 - 1900) * 12 + (int64_t)(period % 100) - 1;
}

static uint32_t period_from_index(int64_t index)
{
	return (uint32_t)((index / 12 + 1900) * 100 + index % 12 + 1);
}

uint32_t period_add(uint32_t period, int delta)
{
	int64_t index = period_index(period) + delta;

	if (index < 0)
		index = 0; /* clamp to 1900-01 rather than wrap */
	return period_from_index(index);
}

/* round-half-up(sum / count) for sum >= 0, count > 0. */
static centimes average(u128 sum, unsigned count)
{
	return (centimes)((2 * sum + count) / (2 * (u128)count));
}

/* The day cap and the ceiling of a month, looked up again only when the
 * month reaches the first period either changes at (*until; 0 at first). */
static enum amana_err month_params(const struct rules *r, uint32_t period, unsigned *max_days, centimes *ceiling,
				   uint32_t *until)
{
	enum amana_err result;
	int64_t v;
	uint32_t until_days, until_ceiling;

	if (*until && period < *until)
		return AMANA_OK;
	result = rules_param_span(r, PARAM_MAX_DAYS, period, &v, &until_days);
	if (result)
		return result;
	if (v < 1 || v > CAREER_LINE_MAX_DAYS)
		return AMANA_ERR_INPUT;
	*max_days = (unsigned)v;
	result = rules_param_span(r, PARAM_CEILING, period, ceiling, &until_ceiling);
	if (result)
		return result;
	*until = until_days < until_ceiling ? until_days : until_ceiling;
	return AMANA_OK;
}

static enum amana_err year_add(struct career *c, unsigned year, unsigned days)
{
	if (c->year_count == 0 || c->years[c->year_count - 1].year != year) {
		/* unreachable within the span bound, checked all the same */
		if (c->year_count == CAREER_MAX_YEARS)
			return AMANA_ERR_LIMIT;
		c->years[c->year_count].year = year;
		c->years[c->year_count].days = 0;
		c->year_count++;
	}
	c->years[c->year_count - 1].days += days;
	return AMANA_OK;
}

enum amana_err career_build(const struct rules *r, const struct career_line *lines, size_t n, struct career *out)
{
	enum amana_err result = AMANA_OK;
	int64_t first = 0, last = 0;
	unsigned span, k = 0;

	/* The counts, and below only the months the span uses: a batch
	 * builds millions of careers, each a small part of the struct. */
	out->month_count = 0;
	out->year_count = 0;
	out->total_days = 0;
	out->months_with_salary = 0;
	if (!r || (!lines && n != 0))
		return AMANA_ERR_USAGE;
	if (n == 0)
		return AMANA_OK;
	for (size_t i = 0; i < n; i++) {
		const struct career_line *l = &lines[i];
		int64_t index;

		if (!career_period_valid(l->period) || l->salary < 0 || l->days > CAREER_LINE_MAX_DAYS)
			return AMANA_ERR_INPUT;
		index = period_index(l->period);
		if (i == 0 || index < first)
			first = index;
		if (i == 0 || index > last)
			last = index;
	}
	if (last - first >= CAREER_MAX_MONTHS)
		return AMANA_ERR_LIMIT;
	span = (unsigned)(last - first + 1);
	memset(out->months, 0, span * sizeof(out->months[0]));

	/* Sum into the slot of each month, by distance from the first. */
	for (size_t i = 0; i < n; i++) {
		const struct career_line *l = &lines[i];
		struct career_month *m = &out->months[period_index(l->period) - first];

		m->period = l->period;
		m->employers++;
		if (__builtin_add_overflow(m->declared_days, l->days, &m->declared_days) ||
		    __builtin_add_overflow(m->salary, l->salary, &m->salary)) {
			result = AMANA_ERR_LIMIT;
			goto out;
		}
	}
	/* Pack the months with a line, in order, and apply that month's rules. */
	unsigned max_days = 0;
	centimes ceiling = 0;
	uint32_t until = 0;
	for (unsigned s = 0; s < span; s++) {
		struct career_month m = out->months[s];

		if (m.employers == 0)
			continue;
		result = month_params(r, m.period, &max_days, &ceiling, &until);
		if (result)
			goto out;
		m.days = m.declared_days < max_days ? m.declared_days : max_days;
		m.capped_salary = m.salary < ceiling ? m.salary : ceiling;
		if (k != s)
			memset(&out->months[s], 0, sizeof(out->months[s]));
		out->months[k++] = m;
		out->total_days += m.days;
		if (m.salary > 0)
			out->months_with_salary++;
		result = year_add(out, m.period / 100, m.days);
		if (result)
			goto out;
	}
	out->month_count = k;
out:
	if (result)
		memset(out, 0, sizeof(*out));
	return result;
}

/* Index of the first month with period >= p (month_count if none). */
static unsigned lower_bound(const struct career *c, uint32_t p)
{
	unsigned lo = 0, hi = c->month_count;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (c->months[mid].period < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint64_t career_days_before(const struct career *c, uint32_t end, unsigned months)
{
	uint32_t start = period_add(end, -(int)(months > CAREER_MAX_MONTHS ? CAREER_MAX_MONTHS : months));
	uint64_t days = 0;

	for (unsigned i = lower_bound(c, start); i < c->month_count && c->months[i].period < end; i++)
		days += c->months[i].days;
	return days;
}

uint64_t career_days_until(const struct career *c, uint32_t end)
{
	uint64_t days = 0;

	for (unsigned i = 0; i < c->month_count && c->months[i].period < end; i++)
		days += c->months[i].days;
	return days;
}

centimes career_average_before(const struct career *c, uint32_t end, unsigned months, bool capped, unsigned *count)
{
	uint32_t start = period_add(end, -(int)(months > CAREER_MAX_MONTHS ? CAREER_MAX_MONTHS : months));
	unsigned n = 0;
	u128 sum = 0;

	for (unsigned i = lower_bound(c, start); i < c->month_count && c->months[i].period < end; i++) {
		const struct career_month *m = &c->months[i];
		if (m->salary <= 0)
			continue;
		sum += (uint64_t)(capped ? m->capped_salary : m->salary);
		n++;
	}
	if (count)
		*count = n;
	return n ? average(sum, n) : 0;
}

centimes career_average_last_declared(const struct career *c, uint32_t end, unsigned n, unsigned *count)
{
	unsigned i = lower_bound(c, end), taken = 0;
	u128 sum = 0;

	/* Walk back from the month before end, skipping months with no salary. */
	while (i > 0 && taken < n) {
		const struct career_month *m = &c->months[--i];
		if (m->salary <= 0)
			continue;
		sum += (uint64_t)m->capped_salary;
		taken++;
	}
	if (count)
		*count = taken;
	return taken ? average(sum, taken) : 0;
}
