/*
 * money.h - money as integer centimes (MAD x 100), never floating point.
 *
 * Rates are integers in parts per million (6.40% = 64000 ppm), so a decree
 * with finer rates needs no code change.
 */
#ifndef AMANA_CORE_MONEY_H
#define AMANA_CORE_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int64_t centimes;
typedef uint32_t ppm; /* parts per million */

#define MONEY_TEXT_MAX 32

/* round-half-up(base * rate / 1e6) for base >= 0, exact in 128 bits. */
centimes money_apply_rate(centimes base, ppm rate);

/* "1234.56" (no thousands separator; "-" for negatives). Returns out. */
char *money_format(centimes v, char out[MONEY_TEXT_MAX]);

/* Parse "1234", "1234.5", "1234.56" (MAD) into centimes; false on anything
 * else, negatives or overflow. */
bool money_parse(const char *s, size_t len, centimes *out);

/* Parse a percentage with up to 4 decimals ("6.40", "0.375") into ppm. */
bool rate_parse_percent(const char *s, size_t len, ppm *out);

#endif
