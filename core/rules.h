/*
 * rules.h - dated rules of spec/rules.md, loaded from data (data/rules.txt).
 *
 * Rates and amounts change by decree, so none is a constant in code: each
 * parameter and each branch carries the period (YYYYMM) from which it
 * applies, and a lookup for period P takes the latest entry with from <= P.
 * core does no I/O: the caller reads the file and hands its text here.
 *
 * Text format, one entry a line, '#' starts a comment, fields split by
 * blanks:
 *   param  NAME   FROM  VALUE          e.g. param ceiling 2002-01 600000
 *   branch NAME   FROM  BASE  EMPLOYER% EMPLOYEE%
 *                                     e.g. branch long_term 2002-01 capped 7.93 3.96
 * FROM is YYYY-MM. BASE is "real" (uncapped) or "capped" (min(real, ceiling)).
 * Money parameters are integer centimes. Known branches: family, short_term,
 * long_term, health, health_solidarity, training.
 */
#ifndef AMANA_CORE_RULES_H
#define AMANA_CORE_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "money.h"

enum branch {
	BRANCH_FAMILY,
	BRANCH_SHORT_TERM,
	BRANCH_LONG_TERM,
	BRANCH_HEALTH,
	BRANCH_HEALTH_SOLIDARITY,
	BRANCH_TRAINING,
};
#define BRANCH_COUNT 6

enum branch_base { BASE_REAL, BASE_CAPPED };

struct branch_rule {
	uint32_t from; /* YYYYMM */
	enum branch_base base;
	ppm employer;
	ppm employee;
};

struct param_rule {
	char name[32];
	uint32_t from;
	int64_t value;
};

#define RULES_MAX_ENTRIES 256

struct rules {
	struct branch_rule branches[BRANCH_COUNT][RULES_MAX_ENTRIES / BRANCH_COUNT];
	unsigned branch_count[BRANCH_COUNT];
	struct param_rule params[RULES_MAX_ENTRIES];
	unsigned param_count;
};

/* Where a rules text failed to parse. */
struct rules_error {
	unsigned line;
	char message[128];
};

/* Parse text into *out (zeroed first). Entries may come in any order; two
 * entries for the same name and FROM are an error. AMANA_ERR_INPUT with *err
 * filled on a bad line, AMANA_ERR_LIMIT (*err filled too) past
 * RULES_MAX_ENTRIES params or RULES_MAX_ENTRIES / BRANCH_COUNT entries for
 * one branch. On any error *out is left zeroed: nothing is half-loaded. */
enum amana_err rules_parse(const char *text, size_t len, struct rules *out, struct rules_error *err) AMANA_MUST_CHECK;

/* The branch rule in force for period; AMANA_ERR_NOTFOUND if none applies yet. */
enum amana_err rules_branch_at(const struct rules *r, enum branch b, uint32_t period,
			       struct branch_rule *out) AMANA_MUST_CHECK;

/* The parameter NAME in force for period; AMANA_ERR_NOTFOUND if none.
 * Entries are kept sorted by name then FROM (rules_parse sorts them): a
 * lookup is a search by halves. */
enum amana_err rules_param_at(const struct rules *r, const char *name, uint32_t period, int64_t *out) AMANA_MUST_CHECK;
/* The same, and the first period from which another value applies
 * (*until, UINT32_MAX if none yet): the value holds for [period, *until),
 * so a walk over consecutive months looks it up again only there. */
enum amana_err rules_param_span(const struct rules *r, const char *name, uint32_t period, int64_t *out,
				uint32_t *until) AMANA_MUST_CHECK;

/* "family", "short_term", ... */
const char *branch_name(enum branch b);

#endif
