/*
 * policy.h - who may do what to which object, and when a principal has
 * read enough.
 *
 * Pure decisions, like core/: service/ hands in the principal (its role
 * and scope), the object asked for and the counters it keeps for that
 * principal; the policy answers allow or deny, whether to alert, whether
 * to suspend, and why, in a short English phrase that names no person.
 * No I/O, no clock, no keys. Budgets and suspensions are state that
 * service/ keeps (DESIGN.md, "Against bulk theft").
 *
 * The rules, in the order they are applied:
 * 1. A suspended principal is refused everything until a supervisor
 *    unlocks it.
 * 2. Scope, checked on every object: a citizen sees only itself; an
 *    employer (or an accountant acting for several) only its own
 *    employers' data, and a person only for the periods they worked for
 *    one of them; an agent reads one person or employer at a time and
 *    only with a stated purpose (a case); an auditor reads persons only
 *    with a purpose, and the audit log; a supervisor handles alerts and
 *    unlocks, and reads no person; an operator reads no personal data.
 * 3. A sensitive person or employer: every access alerts, and anyone but
 *    the person themself needs a purpose.
 * 4. A honeytoken person or employer: every access alerts, allowed or not
 *    (the access is served as any other, so a thief cannot tell).
 * 5. Budgets, for what scope allowed: distinct persons read per hour and
 *    per day, documents per day. Past one: refused, alerted, and the
 *    principal suspended.
 */
#ifndef AMANA_POLICY_H
#define AMANA_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

enum role {
	ROLE_CITIZEN,
	ROLE_EMPLOYER,
	ROLE_AGENT,
	ROLE_SUPERVISOR,
	ROLE_AUDITOR,
	ROLE_OPERATOR,
};
#define ROLE_COUNT 6

/* "citizen", "employer", ... ("?" for a value out of range). */
const char *role_name(enum role role);
/* The role named by s[0..len) (exact, lower case). */
bool role_parse(const char *s, size_t len, enum role *out) AMANA_MUST_CHECK;

/* What is asked. */
enum policy_act {
	ACT_PERSON_READ, /* a person's identity, career or rights */
	ACT_EMPLOYER_READ, /* an employer's profile */
	ACT_EMPLOYEES_LIST, /* an employer's employees */
	ACT_DECLARATION_UPLOAD,
	ACT_DECLARATION_READ,
	ACT_CONTRIBUTIONS_READ,
	ACT_PREFILL_READ, /* the pre-filled list (A-file) */
	ACT_ALERTS_READ,
	ACT_PRINCIPAL_UNLOCK,
	ACT_AUDIT_READ, /* tree heads, proofs, entries */
};
#define ACT_COUNT 10

/* The caller. employers (an employer account, or an accountant's several)
 * stays the caller's; the policy only reads it. */
struct policy_principal {
	enum role role;
	bool suspended;
	uint32_t person; /* a citizen's own registration number */
	const uint32_t *employers; /* the affiliations an employer account acts for */
	size_t n_employers;
};

/* The object, as service/ found it. */
struct policy_object {
	enum policy_act act;
	uint32_t employer; /* its employer's affiliation (0: none) */
	uint32_t person; /* the person's registration number (0: none) */
	bool employed; /* the person worked for that employer in the period asked */
	bool purpose; /* a purpose (case id) was stated */
	bool sensitive; /* the person or employer is flagged sensitive */
	bool honeytoken; /* the person or employer is bait */
	bool new_person; /* a person this principal has not read in the current hour */
	bool seen_today; /* ... but has read earlier today: it counts against the hour only */
	bool document; /* a document download: counts against documents per day */
};

/* What the principal used before this request. */
struct policy_usage {
	uint32_t persons_hour, persons_day, documents_day;
};

struct policy_limits {
	uint32_t persons_per_hour, persons_per_day, documents_per_day;
};

struct policy_config {
	struct policy_limits limits[ROLE_COUNT];
};

/* Defaults a fund could run with: an agent handles tens of cases a day,
 * not thousands (docs/internals/policy.md gives the reasons). */
void policy_defaults(struct policy_config *c);

/* Change c from a config text: lines "ROLE.LIMIT = N" (LIMIT one of
 * persons_per_hour, persons_per_day, documents_per_day; N from 0 to
 * 1,000,000), blank lines and "#" comments. On error c is unchanged and
 * why names the line and what was expected. */
enum amana_err policy_config_parse(struct policy_config *c, const char *text, size_t len, char *why,
				   size_t why_cap) AMANA_MUST_CHECK;

/* What an access raises, as bits: one access may raise several. */
enum policy_alert {
	ALERT_HONEYTOKEN = 1, /* bait touched */
	ALERT_SENSITIVE = 2, /* a flagged record touched */
	ALERT_BUDGET = 4, /* a budget exceeded: the principal is suspended */
};

/* "honeytoken", "sensitive", "budget" for one bit ("?" otherwise). */
const char *policy_alert_name(enum policy_alert a);

struct policy_decision {
	bool allow;
	enum amana_err err; /* when refused: AMANA_ERR_DENIED, or AMANA_ERR_LIMIT past a budget */
	bool suspend; /* suspend the principal until a supervisor unlocks it */
	unsigned alerts; /* enum policy_alert bits, whatever the outcome */
	const char *reason; /* static text, no personal data */
};

void policy_decide(const struct policy_config *c, const struct policy_principal *p, const struct policy_object *o,
		   const struct policy_usage *u, struct policy_decision *d);

#endif
