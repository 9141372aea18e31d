/*
 * people.c - employers and persons: registering and showing them, and the
 * contributions an employer owes for a period.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/ids.h"
#include "core/text.h"

static void say(char *why, size_t cap, const char *msg)
{
	if (why && cap)
		snprintf(why, cap, "%s", msg);
}

/* Normalize an optional free-text field into the e-BDS character set. */
static void norm(const char *in, char *out, size_t cap)
{
	if (!in) {
		out[0] = '\0';
		return;
	}
	text_to_ebds(in, strlen(in), out, cap);
}

static enum amana_err employer_register(struct registry *r, const struct employer_input *in, struct audit_entry *note,
					char *why, size_t why_cap)
{
	if (!affiliation_number_valid(in->affiliation)) {
		say(why, why_cap, "the affiliation number must be 7 digits whose last is the check digit");
		return AMANA_ERR_INPUT;
	}
	struct profile_rec p;
	memset(&p, 0, sizeof(p));
	norm(in->name, p.name, sizeof(p.name));
	if (!p.name[0]) {
		say(why, why_cap, "the company name is empty once upper-cased and stripped of punctuation");
		return AMANA_ERR_INPUT;
	}
	if (in->ice && in->ice[0]) {
		if (!ice_valid(in->ice, strlen(in->ice))) {
			say(why, why_cap, "the ICE must be exactly 15 digits");
			return AMANA_ERR_INPUT;
		}
		snprintf(p.ice, sizeof(p.ice), "%s", in->ice);
	}
	norm(in->activity, p.activity, sizeof(p.activity));
	norm(in->address, p.address, sizeof(p.address));
	norm(in->city, p.city, sizeof(p.city));
	norm(in->postcode, p.postcode, sizeof(p.postcode));

	int64_t id;
	enum amana_err err = store_begin(r->store);
	if (!err)
		err = employer_create(r, in->affiliation, &p, (int64_t)time(NULL), &id);
	crypto_wipe(&p, sizeof(p));
	if (!err)
		audit_entry_subject(note, AUDIT_SUBJECT_EMPLOYER, id);
	err = audit_then_commit(r, note, err);
	if (err == AMANA_ERR_EXISTS)
		say(why, why_cap, "an employer with this affiliation number is already registered");
	return err;
}

/* The entry of a call that stopped before its write: the outcome. */
static enum amana_err commit_unless_done(struct registry *r, struct audit_entry *note, enum amana_err err)
{
	if (!note->action[0])
		return err; /* appended already, before the write's commit */
	return audit_commit(r, note, err);
}

enum amana_err svc_employer_register(struct registry *r, const struct principal *who, const struct employer_input *in,
				     char *why, size_t why_cap)
{
	struct audit_entry note;
	audit_note(&note, who, "employer.register");
	enum amana_err err = employer_register(r, in, &note, why, why_cap);
	return commit_unless_done(r, &note, err);
}

struct employer_get_ctx {
	struct registry *r;
	struct employer_view *out;
	bool found;
};

static enum amana_err employer_get_cb(void *vctx, const struct store_employer *e)
{
	struct employer_get_ctx *c = vctx;
	struct profile_rec p;
	enum amana_err err = open_profile(c->r, e->id, &e->profile_sealed, &p);
	if (!err) {
		memcpy(c->out->name, p.name, sizeof(p.name));
		memcpy(c->out->ice, p.ice, sizeof(p.ice));
		memcpy(c->out->activity, p.activity, sizeof(p.activity));
		memcpy(c->out->address, p.address, sizeof(p.address));
		memcpy(c->out->city, p.city, sizeof(p.city));
		memcpy(c->out->postcode, p.postcode, sizeof(p.postcode));
		c->out->created_at = e->created_at;
		c->found = true;
	}
	crypto_wipe(&p, sizeof(p));
	return err;
}

enum amana_err employer_load(struct registry *r, int64_t id, struct employer_view *out)
{
	memset(out, 0, sizeof(*out));
	struct employer_get_ctx c = { r, out, false };
	enum amana_err err = store_employer_get(r->store, id, employer_get_cb, &c);
	if (err)
		return err;
	return c.found ? AMANA_OK : AMANA_ERR_NOTFOUND;
}

enum amana_err svc_employer_show(struct registry *r, const struct principal *who, uint32_t affiliation,
				 struct employer_view *out)
{
	struct audit_entry note;
	audit_note(&note, who, "employer.show");
	memset(out, 0, sizeof(*out));
	int64_t id, count;
	enum amana_err err = find_employer(r, affiliation, &id);
	if (!err) {
		audit_entry_subject(&note, AUDIT_SUBJECT_EMPLOYER, id);
		err = employer_load(r, id, out);
	}
	if (!err)
		err = store_declaration_stats(r->store, id, &count, &out->last_period);
	if ((err = audit_commit(r, &note, err))) {
		employer_view_clear(out);
		return err;
	}
	out->affiliation = affiliation;
	out->declarations = (unsigned)count;
	return AMANA_OK;
}

void employer_view_clear(struct employer_view *v)
{
	crypto_wipe(v, sizeof(*v));
}

static enum amana_err person_register(struct registry *r, const struct person_input *in, uint32_t *registration,
				      struct audit_entry *note, char *why, size_t why_cap)
{
	char cin[16], name[61];
	norm(in->cin, cin, sizeof(cin));
	if (!cin_valid(cin, strlen(cin))) {
		say(why, why_cap, "the CIN must be 1-2 letters then digits, 8 characters at most (e.g. BE123456)");
		return AMANA_ERR_INPUT;
	}
	norm(in->name, name, sizeof(name));
	if (!name[0]) {
		say(why, why_cap, "the name is empty once upper-cased and stripped of punctuation");
		return AMANA_ERR_INPUT;
	}
	if (in->children > 99) {
		say(why, why_cap, "children must be 0 to 99");
		return AMANA_ERR_INPUT;
	}
	int64_t id;
	enum amana_err err = store_begin(r->store);
	if (!err)
		err = person_create(r, cin, name, in->birth_date, in->children, (int64_t)time(NULL), &id, registration);
	crypto_wipe(cin, sizeof(cin));
	crypto_wipe(name, sizeof(name));
	if (!err)
		audit_entry_subject(note, AUDIT_SUBJECT_PERSON, id);
	err = audit_then_commit(r, note, err);
	if (err == AMANA_ERR_EXISTS)
		say(why, why_cap, "a person with this CIN is already registered");
	else if (err == AMANA_ERR_LIMIT)
		say(why, why_cap, "the registry has assigned every registration number it can");
	return err;
}

enum amana_err svc_person_register(struct registry *r, const struct principal *who, const struct person_input *in,
				   uint32_t *registration, char *why, size_t why_cap)
{
	struct audit_entry note;
	audit_note(&note, who, "person.register");
	enum amana_err err = person_register(r, in, registration, &note, why, why_cap);
	if ((err = commit_unless_done(r, &note, err)))
		*registration = 0;
	return err;
}

struct person_get_ctx {
	struct registry *r;
	struct person_view *out;
	bool found;
};

static enum amana_err person_get_cb(void *vctx, const struct store_person *p)
{
	struct person_get_ctx *c = vctx;
	struct identity_rec idr;
	enum amana_err err = open_identity(c->r, p->id, &p->identity_sealed, &idr);
	if (!err && p->cin_sealed.len)
		err = open_text(c->r, "persons", "cin", p->id, &p->cin_sealed, c->out->cin, sizeof(c->out->cin));
	if (!err) {
		memcpy(c->out->name, idr.name, sizeof(idr.name));
		c->out->birth_date = idr.birth_date;
		c->out->children = idr.children;
		c->out->created_at = p->created_at;
		c->found = true;
	}
	crypto_wipe(&idr, sizeof(idr));
	return err;
}

struct jobs_ctx {
	struct registry *r;
	struct person_view *out;
};

static enum amana_err job_cb(void *vctx, const struct store_employment *e)
{
	struct jobs_ctx *c = vctx;
	c->out->job_total++;
	if (c->out->job_count >= PERSON_VIEW_JOBS)
		return AMANA_OK;
	struct employment_view *j = &c->out->jobs[c->out->job_count];
	j->start_period = e->start_period;
	j->end_period = e->end_period;
	enum amana_err err = employer_affiliation(c->r, e->employer_id, &j->affiliation);
	if (err)
		return err;
	c->out->job_count++;
	return AMANA_OK;
}

enum amana_err person_read_guard(struct registry *r, const struct principal *who, uint32_t registration,
				 const char *purpose, struct audit_entry *note, int64_t *id, struct person_sealed *ps)
{
	*id = 0;
	enum amana_err err = audit_note_purpose(r, note, purpose);
	if (err)
		return err;
	/* Whom the call was about is logged even when it is refused: a
	 * person's access history shows the attempts too. */
	enum amana_err ferr = find_person_sealed(r, registration, id, ps);
	if (ferr == AMANA_OK)
		audit_entry_subject(note, AUDIT_SUBJECT_PERSON, *id);
	else if (ferr != AMANA_ERR_NOTFOUND)
		return ferr;
	/* Scope first, found or not: who may not read this number learns
	 * nothing of whether it exists. */
	struct guard_request q = {
		.act = ACT_PERSON_READ,
		.subject_kind = ferr ? 0 : AUDIT_SUBJECT_PERSON,
		.subject_id = *id,
		.person = registration,
		.purpose = purpose && purpose[0],
	};
	if ((err = guard_access(r, who, &q, note)))
		return err;
	return ferr;
}

enum amana_err person_identity_open(struct registry *r, int64_t id, const struct person_sealed *ps,
				    struct identity_rec *out)
{
	return open_identity(r, id, &(struct store_blob){ ps->identity, ps->identity_len }, out);
}

enum amana_err svc_person_show(struct registry *r, const struct principal *who, uint32_t registration,
			       const char *purpose, struct person_view *out)
{
	memset(out, 0, sizeof(*out));
	struct audit_entry note;
	audit_note(&note, who, "person.show");
	int64_t id = 0;
	struct person_sealed ps;
	enum amana_err err = person_read_guard(r, who, registration, purpose, &note, &id, &ps);
	if (err)
		return audit_commit(r, &note, err);
	/* the row found above, opened now that the read is allowed */
	struct person_get_ctx c = { r, out, false };
	struct store_person row = {
		.id = id,
		.cin_sealed = { ps.cin, ps.cin_len },
		.identity_sealed = { ps.identity, ps.identity_len },
		.created_at = ps.created_at,
	};
	if ((err = person_get_cb(&c, &row)))
		goto fail;
	out->registration = registration;
	struct jobs_ctx jc = { r, out };
	if ((err = store_employment_of_person(r->store, id, job_cb, &jc)))
		goto fail;
	if ((err = audit_commit(r, &note, AMANA_OK)))
		person_view_clear(out); /* not logged: not shown */
	return err;
fail:
	person_view_clear(out);
	return audit_commit(r, &note, err);
}

void person_view_clear(struct person_view *v)
{
	crypto_wipe(v, sizeof(*v));
}

/* ---- contributions ---- */

struct contrib_ctx {
	struct registry *r;
	struct audit_entry *note;
	struct totals_rec sum;
	unsigned declarations;
};

static enum amana_err add_totals(void *vctx, const struct store_declaration *d)
{
	struct contrib_ctx *c = vctx;
	audit_entry_subject(c->note, AUDIT_SUBJECT_DECLARATION, d->id);
	struct totals_rec t;
	enum amana_err err = open_totals(c->r, d->id, &d->totals_sealed, &t);
	if (err)
		return err;
	c->sum.employees += t.employees;
	c->sum.real_salaries += t.real_salaries;
	c->sum.capped_salaries += t.capped_salaries;
	c->declarations++;
	crypto_wipe(&t, sizeof(t));
	return AMANA_OK;
}

static enum amana_err contributions(struct registry *r, const struct principal *who, const char *purpose,
				    uint32_t affiliation, uint32_t period, struct contributions_view *out,
				    struct audit_entry *note)
{
	memset(out, 0, sizeof(*out));
	int64_t id = 0;
	enum amana_err ferr = audit_note_purpose(r, note, purpose);
	if (ferr)
		return ferr;
	ferr = find_employer(r, affiliation, &id);
	if (ferr && ferr != AMANA_ERR_NOTFOUND)
		return ferr;
	if (!ferr)
		audit_entry_subject(note, AUDIT_SUBJECT_EMPLOYER, id);
	/* scope first: who may not see this employer learns nothing of it */
	struct guard_request q = {
		.act = ACT_CONTRIBUTIONS_READ,
		.subject_kind = ferr ? 0 : AUDIT_SUBJECT_EMPLOYER,
		.subject_id = id,
		.employer = affiliation,
		.purpose = purpose && purpose[0],
	};
	enum amana_err err = guard_access(r, who, &q, note);
	if (err || (err = ferr))
		return err;
	struct contrib_ctx c = { .r = r, .note = note };
	if ((err = store_declarations_of(r->store, id, period, add_totals, &c)))
		return err;
	if (c.declarations == 0)
		return AMANA_ERR_NOTFOUND;
	out->affiliation = affiliation;
	out->period = period;
	out->employees = c.sum.employees;
	out->declarations = c.declarations;
	err = contributions_compute(&r->rules, period, c.sum.real_salaries, c.sum.capped_salaries, &out->c);
	crypto_wipe(&c.sum, sizeof(c.sum));
	return err;
}

enum amana_err svc_contributions(struct registry *r, const struct principal *who, uint32_t affiliation, uint32_t period,
				 struct contributions_view *out)
{
	struct audit_entry note;
	audit_note(&note, who, "contributions");
	enum amana_err err = contributions(r, who, who->purpose, affiliation, period, out, &note);
	if ((err = audit_commit(r, &note, err)))
		crypto_wipe(out, sizeof(*out));
	return err;
}
