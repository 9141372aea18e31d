/*
 * employer_data.c - what an employer's account reads of its own: its
 * declarations of a period, and its employees (the persons of its latest
 * accepted declaration, without those who left). Each call asks the guard
 * first (scope, purpose, budgets), then reads, then is audited with every
 * record it shows.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "roster.h"

/* The employer of an employer-data call: its row (0 if none), scope first
 * so that who may not see it learns nothing of whether it exists. */
static enum amana_err employer_guard(struct registry *r, const struct principal *who, enum policy_act act,
				     uint32_t affiliation, bool document, struct audit_entry *note, int64_t *id)
{
	*id = 0;
	/* the case the caller named is sealed into the entry, as for a person */
	enum amana_err ferr = audit_note_purpose(r, note, who->purpose);
	if (ferr)
		return ferr;
	ferr = find_employer(r, affiliation, id);
	if (ferr && ferr != AMANA_ERR_NOTFOUND)
		return ferr;
	if (!ferr)
		audit_entry_subject(note, AUDIT_SUBJECT_EMPLOYER, *id);
	struct guard_request q = {
		.act = act,
		.subject_kind = ferr ? 0 : AUDIT_SUBJECT_EMPLOYER,
		.subject_id = *id,
		.employer = affiliation,
		.purpose = who->purpose && who->purpose[0],
		.document = document,
	};
	enum amana_err err = guard_access(r, who, &q, note);
	return err ? err : ferr;
}

struct decl_list {
	struct registry *r;
	struct audit_entry *note;
	struct declaration_view *v;
	size_t n, cap;
};

static enum amana_err keep_declaration(void *vctx, const struct store_declaration *d)
{
	struct decl_list *c = vctx;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 4;
		struct declaration_view *n = realloc(c->v, cap * sizeof(*n));
		if (!n)
			return AMANA_ERR_NOMEM;
		c->v = n;
		c->cap = cap;
	}
	struct totals_rec t;
	enum amana_err err = open_totals(c->r, d->id, &d->totals_sealed, &t);
	if (err)
		return err;
	struct declaration_view *v = &c->v[c->n++];
	memset(v, 0, sizeof(*v));
	v->seq = (unsigned)d->seq;
	v->imported_at = d->imported_at;
	v->lines = d->line_count;
	memcpy(v->digest, d->digest, sizeof(v->digest));
	v->employees = t.employees;
	v->days = t.days;
	v->real_salaries = t.real_salaries;
	v->capped_salaries = t.capped_salaries;
	v->family_allowances = t.af_net;
	crypto_wipe(&t, sizeof(t));
	audit_entry_subject(c->note, AUDIT_SUBJECT_DECLARATION, d->id);
	return AMANA_OK;
}

enum amana_err svc_declarations(struct registry *r, const struct principal *who, uint32_t affiliation, uint32_t period,
				declaration_fn fn, void *ctx)
{
	struct audit_entry note;
	audit_note(&note, who, "declarations.read");
	int64_t id;
	struct decl_list c = { .r = r, .note = &note };
	enum amana_err err = employer_guard(r, who, ACT_DECLARATION_READ, affiliation, false, &note, &id);
	if (!err)
		err = store_declarations_of(r->store, id, period, keep_declaration, &c);
	if (!err && c.n == 0)
		err = AMANA_ERR_NOTFOUND;
	/* logged, with every declaration shown, before any is handed out */
	if (!(err = audit_commit(r, &note, err)))
		for (size_t i = 0; i < c.n && !err; i++)
			err = fn(ctx, &c.v[i]);
	if (c.v)
		crypto_wipe(c.v, c.cap * sizeof(*c.v));
	free(c.v);
	return err;
}

enum amana_err svc_employees(struct registry *r, const struct principal *who, uint32_t affiliation, employee_fn fn,
			     void *ctx, uint32_t *from_period)
{
	struct audit_entry note;
	audit_note(&note, who, "employees.read");
	*from_period = 0;
	int64_t id;
	struct roster ro;
	roster_init(&ro);
	enum amana_err err = employer_guard(r, who, ACT_EMPLOYEES_LIST, affiliation, true, &note, &id);
	/* the latest accepted declaration's persons, without those who left */
	if (!err)
		err = roster_load(r, id, 999912, true, &ro);
	int64_t *ids = NULL;
	if (!err && ro.n && !(ids = malloc(ro.n * sizeof(*ids))))
		err = AMANA_ERR_NOMEM;
	for (size_t i = 0; !err && i < ro.n; i++)
		ids[i] = ro.v[i].person_id;
	if (!err)
		err = guard_listed(r, who, ACT_EMPLOYEES_LIST, affiliation, ids, ro.n);
	err = audit_commit_listing(r, &note, err, AUDIT_SUBJECT_PERSON, ids, err ? 0 : ro.n);
	free(ids);
	if (!err) {
		*from_period = ro.from_period;
		for (size_t i = 0; i < ro.n && !err; i++) {
			struct employee_view v = { .registration = ro.v[i].registration, .children = ro.v[i].children };
			memcpy(v.name, ro.v[i].name, sizeof(v.name));
			err = fn(ctx, &v);
			crypto_wipe(&v, sizeof(v));
		}
	}
	roster_free(&ro);
	return err;
}
