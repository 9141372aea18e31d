/*
 * money.c - centimes and rates: rounding, formatting, parsing.
 *
 * Contributions are owed to the centime, so every product goes through one
 * rounding rule (half up) computed exactly in integers; no double anywhere.
 */
#include "money.h"

__extension__ typedef unsigned __int128 u128;

#define PPM_ONE 1000000u /* 100% */
#define PPM_PER_PERCENT 10000u

/* |v| without overflow, INT64_MIN included. */
static uint64_t magnitude(int64_t v)
{
	return v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
}

centimes money_apply_rate(centimes base, ppm rate)
{
	bool negative = base < 0;
	u128 q;

	/* base * rate < 2^63 * 2^32, far inside 128 bits: the rounding is exact.
	 * A negative base is outside the contract; it is rounded half away from
	 * zero so the function stays symmetric rather than surprising. */
	q = ((u128)magnitude(base) * rate + PPM_ONE / 2) / PPM_ONE;
	/* Only a rate above 100% can overflow; saturate rather than wrap. */
	if (q > (u128)INT64_MAX)
		return negative ? INT64_MIN : INT64_MAX;
	return negative ? -(centimes)q : (centimes)q;
}

char *money_format(centimes v, char out[MONEY_TEXT_MAX])
{
	char rev[24];
	uint64_t m = magnitude(v);
	size_t n = 0, o = 0;

	/* At least three digits so that 5 centimes reads "0.05". */
	do {
		rev[n++] = (char)('0' + (int)(m % 10));
		m /= 10;
	} while (m != 0 || n < 3);
	if (v < 0)
		out[o++] = '-';
	while (n > 0) {
		out[o++] = rev[--n];
		if (n == 2)
			out[o++] = '.';
	}
	out[o] = '\0';
	return out;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Split "I" or "I.F" with at least one digit on each side of the point and
 * at most max_frac digits after it. The integer part is accumulated only up
 * to int_limit (anything larger is rejected) so that it cannot overflow.
 */
static bool parse_decimal(const char *s, size_t len, uint64_t int_limit, size_t max_frac, uint64_t *int_part,
			  uint64_t *frac_scaled)
{
	size_t i = 0, nfrac = 0;
	uint64_t ip = 0, fp = 0;

	while (i < len && is_digit(s[i])) {
		ip = ip * 10 + (uint64_t)(s[i] - '0');
		if (ip > int_limit)
			return false;
		i++;
	}
	if (i == 0)
		return false;
	if (i < len) {
		if (s[i] != '.')
			return false;
		i++;
		while (i < len && is_digit(s[i]) && nfrac < max_frac) {
			fp = fp * 10 + (uint64_t)(s[i] - '0');
			nfrac++;
			i++;
		}
		if (nfrac == 0 || i != len)
			return false;
	}
	/* Scale the fraction to max_frac digits: "6.4" is 6.4000. */
	for (; nfrac < max_frac; nfrac++)
		fp *= 10;
	*int_part = ip;
	*frac_scaled = fp;
	return true;
}

bool money_parse(const char *s, size_t len, centimes *out)
{
	uint64_t mad, cts;

	if (!parse_decimal(s, len, (uint64_t)INT64_MAX / 100, 2, &mad, &cts))
		return false;
	if (mad > ((uint64_t)INT64_MAX - cts) / 100)
		return false;
	*out = (centimes)(mad * 100 + cts);
	return true;
}

bool rate_parse_percent(const char *s, size_t len, ppm *out)
{
	uint64_t pct, frac;

	/* A rate above 100% is a typing error, never a decree. */
	if (!parse_decimal(s, len, 100, 4, &pct, &frac))
		return false;
	if (pct * PPM_PER_PERCENT + frac > PPM_ONE)
		return false;
	*out = (ppm)(pct * PPM_PER_PERCENT + frac);
	return true;
}
