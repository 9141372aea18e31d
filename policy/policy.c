/* policy.c - scope, flags and budgets as pure decisions (see policy.h). */
#include "policy.h"

#include <stdio.h>
#include <string.h>

const char *role_name(enum role role)
{
	switch (role) {
	case ROLE_CITIZEN: return "citizen";
	case ROLE_EMPLOYER: return "employer";
	case ROLE_AGENT: return "agent";
	case ROLE_SUPERVISOR: return "supervisor";
	case ROLE_AUDITOR: return "auditor";
	case ROLE_OPERATOR: return "operator";
	}
	return "unknown";
}

bool role_parse(const char *s, size_t len, enum role *out)
{
	for (int r = 0; r < ROLE_COUNT; r++) {
		const char *name = role_name((enum role)r);
		if (strlen(name) == len && memcmp(name, s, len) == 0) {
			*out = (enum role)r;
			return true;
		}
	}
	return false;
}

const char *policy_alert_name(enum policy_alert a)
{
	switch (a) {
	case ALERT_HONEYTOKEN: return "honeytoken";
	case ALERT_SENSITIVE: return "sensitive";
	case ALERT_BUDGET: return "budget";
	}
	return "?";
}

/*
 * The defaults, per role: distinct persons per hour, per day, documents
 * per day. An agent works cases: tens a day, each one person or employer
 * read a few times. An employer reads its own employees (a large one
 * checks many) and downloads its list and notices. A citizen reads only
 * itself. An auditor reads persons only inside an investigation. A
 * supervisor and an operator read no person at all.
 */
static const struct policy_limits default_limits[ROLE_COUNT] = {
	[ROLE_CITIZEN] = { 5, 10, 50 },   [ROLE_EMPLOYER] = { 300, 2000, 200 }, [ROLE_AGENT] = { 30, 120, 60 },
	[ROLE_SUPERVISOR] = { 0, 0, 50 }, [ROLE_AUDITOR] = { 30, 200, 100 },    [ROLE_OPERATOR] = { 0, 0, 20 },
};

void policy_defaults(struct policy_config *c)
{
	memcpy(c->limits, default_limits, sizeof(c->limits));
}

#define LIMIT_MAX 1000000u

/* One line "ROLE.LIMIT = N", trimmed, into c. */
static bool parse_line(struct policy_config *c, const char *s, size_t n, const char **what)
{
	static const struct {
		const char *name;
		size_t offset;
	} keys[] = {
		{ "persons_per_hour", offsetof(struct policy_limits, persons_per_hour) },
		{ "persons_per_day", offsetof(struct policy_limits, persons_per_day) },
		{ "documents_per_day", offsetof(struct policy_limits, documents_per_day) },
	};
	const char *dot = memchr(s, '.', n);
	const char *eq = memchr(s, '=', n);
	if (!dot || !eq || dot > eq) {
		*what = "ROLE.LIMIT = N";
		return false;
	}
	enum role role;
	if (!role_parse(s, (size_t)(dot - s), &role)) {
		*what = "a role: citizen, employer, agent, supervisor, auditor or operator";
		return false;
	}
	const char *k = dot + 1, *kend = eq;
	while (kend > k && (kend[-1] == ' ' || kend[-1] == '\t'))
		kend--;
	size_t key = sizeof(keys) / sizeof(keys[0]);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].name) == (size_t)(kend - k) && memcmp(keys[i].name, k, (size_t)(kend - k)) == 0)
			key = i;
	if (key == sizeof(keys) / sizeof(keys[0])) {
		*what = "a limit: persons_per_hour, persons_per_day or documents_per_day";
		return false;
	}
	const char *v = eq + 1, *end = s + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	uint32_t value = 0;
	if (v == end) {
		*what = "a number from 0 to 1000000";
		return false;
	}
	for (; v < end; v++) {
		if (*v < '0' || *v > '9' || value > LIMIT_MAX) {
			*what = "a number from 0 to 1000000";
			return false;
		}
		value = value * 10 + (uint32_t)(*v - '0');
	}
	if (value > LIMIT_MAX) {
		*what = "a number from 0 to 1000000";
		return false;
	}
	memcpy((char *)&c->limits[role] + keys[key].offset, &value, sizeof(value));
	return true;
}

enum amana_err policy_config_parse(struct policy_config *c, const char *text, size_t len, char *why, size_t why_cap)
{
	struct policy_config next = *c;
	unsigned lineno = 0;
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len;
		const char *s = text + at;
		size_t n = end - at;
		at = nl ? end + 1 : len;
		lineno++;
		if (memchr(s, '\0', n)) {
			snprintf(why, why_cap, "line %u: a NUL byte", lineno);
			return AMANA_ERR_INPUT;
		}
		const char *hash = memchr(s, '#', n);
		if (hash)
			n = (size_t)(hash - s);
		while (n && (*s == ' ' || *s == '\t')) {
			s++;
			n--;
		}
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue;
		const char *what = NULL;
		if (!parse_line(&next, s, n, &what)) {
			snprintf(why, why_cap, "line %u: expected %s", lineno, what);
			return AMANA_ERR_INPUT;
		}
	}
	*c = next;
	return AMANA_OK;
}

static bool in_scope(const struct policy_principal *p, uint32_t employer)
{
	for (size_t i = 0; employer && i < p->n_employers; i++)
		if (p->employers[i] == employer)
			return true;
	return false;
}

static void refuse(struct policy_decision *d, enum amana_err err, const char *reason)
{
	d->allow = false;
	d->err = err;
	d->reason = reason;
}

/* Rule 2: may this role do this act on this object at all? */
static void scope(const struct policy_principal *p, const struct policy_object *o, struct policy_decision *d)
{
	bool person = o->act == ACT_PERSON_READ;
	bool employer_data = o->act == ACT_EMPLOYER_READ || o->act == ACT_EMPLOYEES_LIST ||
			     o->act == ACT_DECLARATION_UPLOAD || o->act == ACT_DECLARATION_READ ||
			     o->act == ACT_CONTRIBUTIONS_READ || o->act == ACT_PREFILL_READ;
	switch (p->role) {
	case ROLE_CITIZEN:
		if (!person || !o->person || o->person != p->person)
			refuse(d, AMANA_ERR_DENIED, "a citizen sees only their own record");
		return;
	case ROLE_EMPLOYER:
		if (person) {
			if (!in_scope(p, o->employer) || !o->employed)
				refuse(d, AMANA_ERR_DENIED,
				       "an employer sees a person only for the periods they worked for it");
		} else if (!employer_data || !in_scope(p, o->employer)) {
			refuse(d, AMANA_ERR_DENIED, "an employer sees only its own employers' data");
		}
		return;
	case ROLE_AGENT:
		if (!(person || (employer_data && o->act != ACT_DECLARATION_UPLOAD)))
			refuse(d, AMANA_ERR_DENIED, "an agent reads one person or employer at a time");
		else if (!o->purpose)
			refuse(d, AMANA_ERR_DENIED, "an agent reads only with a purpose (a case id)");
		return;
	case ROLE_SUPERVISOR:
		if (o->act != ACT_ALERTS_READ && o->act != ACT_PRINCIPAL_UNLOCK)
			refuse(d, AMANA_ERR_DENIED, "a supervisor handles alerts and unlocks, and reads no record");
		return;
	case ROLE_AUDITOR:
		if (o->act == ACT_AUDIT_READ || o->act == ACT_ALERTS_READ)
			return;
		if (!person)
			refuse(d, AMANA_ERR_DENIED, "an auditor reads the audit log, and persons within a case");
		else if (!o->purpose)
			refuse(d, AMANA_ERR_DENIED, "an auditor reads a person only within a case");
		return;
	case ROLE_OPERATOR:
		if (o->act != ACT_AUDIT_READ)
			refuse(d, AMANA_ERR_DENIED, "an operator reads no personal data");
		return;
	}
	refuse(d, AMANA_ERR_DENIED, "an unknown role");
}

/* Rule 5: one more person or document within the budget? */
static void budget(const struct policy_limits *l, const struct policy_object *o, const struct policy_usage *u,
		   struct policy_decision *d)
{
	const char *over = NULL;
	if (o->new_person && (uint64_t)u->persons_hour + 1 > l->persons_per_hour)
		over = "past the budget of distinct persons per hour: suspended until a supervisor unlocks";
	else if (o->new_person && !o->seen_today && (uint64_t)u->persons_day + 1 > l->persons_per_day)
		over = "past the budget of distinct persons per day: suspended until a supervisor unlocks";
	else if (o->document && (uint64_t)u->documents_day + 1 > l->documents_per_day)
		over = "past the budget of documents per day: suspended until a supervisor unlocks";
	if (!over)
		return;
	refuse(d, AMANA_ERR_LIMIT, over);
	d->suspend = true;
	d->alerts |= ALERT_BUDGET;
}

void policy_decide(const struct policy_config *c, const struct policy_principal *p, const struct policy_object *o,
		   const struct policy_usage *u, struct policy_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->allow = true;
	d->reason = "allowed";
	if ((unsigned)p->role >= ROLE_COUNT || (unsigned)o->act >= ACT_COUNT) {
		refuse(d, AMANA_ERR_DENIED, "an unknown role or act");
		return;
	}
	/* Rules 3 and 4 alert whatever the outcome. */
	if (o->honeytoken)
		d->alerts |= ALERT_HONEYTOKEN;
	if (o->sensitive)
		d->alerts |= ALERT_SENSITIVE;
	if (p->suspended) {
		refuse(d, AMANA_ERR_DENIED, "suspended until a supervisor unlocks the account");
		return;
	}
	scope(p, o, d);
	if (!d->allow)
		return;
	bool self = p->role == ROLE_CITIZEN && o->person && o->person == p->person;
	if (o->sensitive && !self && !o->purpose) {
		refuse(d, AMANA_ERR_DENIED, "a sensitive record is read only within a case");
		return;
	}
	budget(&c->limits[p->role], o, u, d);
}
