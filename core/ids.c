/*
 * ids.c - check digits and formats of the identifiers in spec/ebds.md.
 *
 * Everything works on (ptr, len) views or plain integers: these functions
 * see text straight from uploaded files and must never read past len.
 */
#include "ids.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

bool parse_digits(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	/* 18 digits always fit in 63 bits, so no overflow check is needed. */
	if (len == 0 || len > 18)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* Digit k (1 = most significant) of the n-digit number v. */
static unsigned digit_at(uint32_t v, unsigned n, unsigned k)
{
	for (unsigned i = k; i < n; i++)
		v /= 10;
	return (unsigned)(v % 10);
}

unsigned affiliation_check_digit(uint32_t first_six)
{
	unsigned s = 0;

	/* Odd positions weigh 1, even positions 2 (spec/ebds.md). */
	for (unsigned k = 1; k <= 6; k++)
		s += (k % 2 == 0 ? 2u : 1u) * digit_at(first_six % 1000000u, 6, k);
	return (10 - s % 10) % 10;
}

bool affiliation_number_valid(uint32_t aff)
{
	if (aff >= 10000000u)
		return false;
	return affiliation_check_digit(aff / 10) == aff % 10;
}

bool affiliation_valid(const char *s, size_t len)
{
	uint64_t v;

	if (len != AFFILIATION_DIGITS || !parse_digits(s, len, &v))
		return false;
	return affiliation_number_valid((uint32_t)v);
}

uint32_t affiliation_make(uint32_t first_six)
{
	/* Out of contract; keep at least the result a 7-digit number. */
	first_six %= 1000000u;
	return first_six * 10 + affiliation_check_digit(first_six);
}

bool registration_format_ok(uint32_t reg)
{
	if (reg == REGISTRATION_OCCASIONAL)
		return true;
	return reg >= 100000000u && reg <= 199999999u;
}

unsigned registration_check_digit(uint32_t first_eight)
{
	unsigned s = 0;

	/* d1 is left out: it only says what kind of number this is. */
	for (unsigned k = 2; k <= 8; k++)
		s += (k % 2 == 0 ? 2u : 1u) * digit_at(first_eight % 100000000u, 8, k);
	return (10 - s % 10) % 10;
}

bool registration_check_ok(uint32_t reg)
{
	if (reg > 999999999u)
		return false;
	return registration_check_digit(reg / 10) == reg % 10;
}

uint32_t registration_make(uint32_t serial)
{
	uint32_t first_eight;

	/* REGISTRATION_NONE is never a valid assigned number, so it is a safe
	 * answer to a serial the registry has run out of room for. */
	if (serial > REGISTRATION_SERIAL_MAX)
		return REGISTRATION_NONE;
	first_eight = 10000000u + serial;
	return first_eight * 10 + registration_check_digit(first_eight);
}

bool cin_valid(const char *s, size_t len)
{
	size_t letters = 0;

	if (len == 0 || len > CIN_MAX)
		return false;
	while (letters < len && letters < 2 && is_upper(s[letters]))
		letters++;
	/* At least one letter and at least one digit after them. */
	if (letters == 0 || letters == len)
		return false;
	for (size_t i = letters; i < len; i++) {
		if (!is_digit(s[i]))
			return false;
	}
	return true;
}

bool ice_valid(const char *s, size_t len)
{
	if (len != ICE_DIGITS)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return false;
	}
	return true;
}
