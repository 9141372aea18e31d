/*
 * ids.h - identifiers of the e-BDS world (spec/ebds.md "Identifiers").
 *
 * All take (ptr, len) views; none reads past len or needs a terminator.
 */
#ifndef AMANA_CORE_IDS_H
#define AMANA_CORE_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AFFILIATION_DIGITS 7
#define REGISTRATION_DIGITS 9
#define CIN_MAX 8
#define ICE_DIGITS 15

/* Registration numbers with a meaning of their own. */
#define REGISTRATION_OCCASIONAL 999999999u /* occasional labour */
#define REGISTRATION_NONE 0u /* not registered yet: declared by CIN */

/* Largest serial the registry can assign: 1 + 7 serial digits + check. */
#define REGISTRATION_SERIAL_MAX 9999999u

/* Affiliation: 7 digits, the last a check digit. */
unsigned affiliation_check_digit(uint32_t first_six);
bool affiliation_valid(const char *s, size_t len);
bool affiliation_number_valid(uint32_t aff);
/* Build the affiliation whose first six digits are first_six (< 1000000). */
uint32_t affiliation_make(uint32_t first_six);

/* Registration: 9 digits. Format only (what we accept from outside):
 * first digit 1, or exactly 999999999; 000000000 only where allowed. */
bool registration_format_ok(uint32_t reg);
/* Check digit per spec (numbers this registry assigns satisfy it). */
unsigned registration_check_digit(uint32_t first_eight);
bool registration_check_ok(uint32_t reg);
/* The number the registry assigns for serial (0..REGISTRATION_SERIAL_MAX):
 * digit 1, the serial on 7 digits, the check digit. REGISTRATION_NONE for a
 * serial out of range. */
uint32_t registration_make(uint32_t serial);

/* CIN: 1-2 upper-case letters then digits, 8 characters at most. */
bool cin_valid(const char *s, size_t len);

/* ICE: 15 digits (format only: no public check digit we can trust). */
bool ice_valid(const char *s, size_t len);

/* Parse exactly len decimal digits into *out; false on any non-digit or
 * len 0 or len > 18. */
bool parse_digits(const char *s, size_t len, uint64_t *out);

#endif
