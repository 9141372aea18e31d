/*
 * career.c - a person's career as the declarations hold it, and the rights
 * it gives (issue 6): svc_career, svc_rights, svc_pension.
 *
 * A career is not stored apart: it is read back from the declarations, the
 * registry's only record of days and salaries. The person's employments
 * name the employers and the periods; each declaration of those employers
 * for those periods has the person's lines in the chunks whose clear list
 * names them, and only those chunks are opened. Every read goes through
 * person_read_guard (scope, purpose, budgets, marks) and is audited with the
 * person as subject before anything is shown; the rules of core/rights.h
 * then turn the lines into rights.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/career.h"
#include "lines.h"

/* A career of 80 years with a handful of employers a month is far below;
 * a corrupt or hostile registry stops here rather than growing without end. */
#define CAREER_ENTRIES_MAX (CAREER_MAX_MONTHS * 8)

struct job {
	int64_t employer_id;
	uint32_t start, end; /* end 0: ongoing */
};

struct jobs {
	struct job *v;
	size_t n, cap;
};

static enum amana_err keep_job(void *vctx, const struct store_employment *e)
{
	struct jobs *j = vctx;
	if (j->n == j->cap) {
		size_t cap = j->cap ? 2 * j->cap : 8;
		if (cap > CAREER_ENTRIES_MAX)
			return AMANA_ERR_LIMIT;
		struct job *n = realloc(j->v, cap * sizeof(*n));
		if (!n)
			return AMANA_ERR_NOMEM;
		j->v = n;
		j->cap = cap;
	}
	j->v[j->n++] = (struct job){ e->employer_id, e->start_period, e->end_period };
	return AMANA_OK;
}

struct collect {
	struct registry *r;
	struct career_view *out;
	size_t cap;
	uint32_t period, affiliation;
	unsigned seq;
};

static enum amana_err keep_line(void *vctx, const struct line_rec *l)
{
	struct collect *c = vctx;
	struct career_view *v = c->out;
	if (v->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		if (cap > CAREER_ENTRIES_MAX)
			return AMANA_ERR_LIMIT;
		struct career_entry_view *n = malloc(cap * sizeof(*n));
		if (!n)
			return AMANA_ERR_NOMEM;
		if (v->n) {
			memcpy(n, v->entries, v->n * sizeof(*n));
			crypto_wipe(v->entries, v->n * sizeof(*n));
		}
		free(v->entries);
		v->entries = n;
		c->cap = cap;
	}
	v->entries[v->n++] = (struct career_entry_view){
		.period = c->period,
		.affiliation = c->affiliation,
		.declaration_seq = c->seq,
		.situation = l->situation,
		.days = l->days,
		.real_salary = l->real_salary,
		.capped_salary = l->capped_salary,
	};
	return AMANA_OK;
}

struct decl_ids {
	int64_t id[16]; /* a main declaration and its complementary ones (at most 9) */
	unsigned seq[16];
	size_t n;
};

static enum amana_err keep_decl(void *vctx, const struct store_declaration *d)
{
	struct decl_ids *k = vctx;
	if (k->n == sizeof(k->id) / sizeof(k->id[0]))
		return AMANA_ERR_CORRUPT;
	k->id[k->n] = d->id;
	k->seq[k->n++] = d->seq;
	return AMANA_OK;
}

static int entry_order(const void *a, const void *b)
{
	const struct career_entry_view *x = a, *y = b;
	if (x->period != y->period)
		return x->period < y->period ? -1 : 1;
	if (x->affiliation != y->affiliation)
		return x->affiliation < y->affiliation ? -1 : 1;
	return (x->declaration_seq > y->declaration_seq) - (x->declaration_seq < y->declaration_seq);
}

/* Every line of person_id in the declarations of their employments, sorted
 * by period, employer, declaration. */
static enum amana_err collect(struct registry *r, int64_t person_id, struct career_view *out)
{
	struct jobs j = { NULL, 0, 0 };
	enum amana_err err = store_employment_of_person(r->store, person_id, keep_job, &j);
	struct collect c = { .r = r, .out = out };
	for (size_t i = 0; i < j.n && !err; i++) {
		uint32_t end = j.v[i].end;
		if (!end) { /* ongoing: up to the employer's last declaration */
			int64_t count;
			if ((err = store_declaration_stats(r->store, j.v[i].employer_id, &count, &end)))
				break;
		}
		if ((err = employer_affiliation(r, j.v[i].employer_id, &c.affiliation)))
			break;
		for (uint32_t p = j.v[i].start; p && p <= end && !err; p = period_add(p, 1)) {
			struct decl_ids k = { .n = 0 };
			if ((err = store_declarations_of(r->store, j.v[i].employer_id, p, keep_decl, &k)))
				break;
			c.period = p;
			for (size_t d = 0; d < k.n && !err; d++) {
				c.seq = k.seq[d];
				err = lines_of_person(r, j.v[i].employer_id, k.id[d], person_id, keep_line, &c);
			}
			if (!career_period_valid(p) || p >= 999912)
				break;
		}
	}
	free(j.v);
	if (!err && out->n > 1)
		qsort(out->entries, out->n, sizeof(*out->entries), entry_order);
	return err;
}

void career_view_clear(struct career_view *v)
{
	if (v->entries) {
		crypto_wipe(v->entries, v->n * sizeof(*v->entries));
		free(v->entries);
	}
	crypto_wipe(v, sizeof(*v));
}

/* The career of core/career.h from the lines read (c on the heap: 32 KB). */
static enum amana_err build(struct registry *r, const struct career_view *v, struct career **out)
{
	*out = NULL;
	struct career_line *lines = v->n ? calloc(v->n, sizeof(*lines)) : NULL;
	struct career *c = malloc(sizeof(*c));
	if ((v->n && !lines) || !c) {
		free(lines);
		free(c);
		return AMANA_ERR_NOMEM;
	}
	for (size_t i = 0; i < v->n; i++)
		lines[i] = (struct career_line){ v->entries[i].period, v->entries[i].affiliation, v->entries[i].days,
						 v->entries[i].real_salary };
	enum amana_err err = career_build(&r->rules, lines, v->n, c);
	if (lines) {
		crypto_wipe(lines, v->n * sizeof(*lines));
		free(lines);
	}
	if (err) {
		crypto_wipe(c, sizeof(*c));
		free(c);
		return err;
	}
	*out = c;
	return AMANA_OK;
}

static void career_free(struct career *c)
{
	if (c) {
		crypto_wipe(c, sizeof(*c));
		free(c);
	}
}

/* The read shared by the three calls: guard, identity, lines, totals. */
static enum amana_err read_person(struct registry *r, const struct principal *who, uint32_t registration,
				  const char *purpose, struct audit_entry *note, struct identity_rec *idr,
				  struct career_view *v)
{
	int64_t id;
	struct person_sealed ps;
	enum amana_err err = person_read_guard(r, who, registration, purpose, note, &id, &ps);
	if (!err)
		err = person_identity_open(r, id, &ps, idr);
	if (!err)
		err = collect(r, id, v);
	crypto_wipe(&ps, sizeof(ps));
	v->registration = registration;
	return err;
}

enum amana_err svc_career(struct registry *r, const struct principal *who, uint32_t registration, const char *purpose,
			  struct career_view *out)
{
	memset(out, 0, sizeof(*out));
	struct audit_entry note;
	audit_note(&note, who, "career.read");
	struct identity_rec idr;
	struct career *c = NULL;
	enum amana_err err = read_person(r, who, registration, purpose, &note, &idr, out);
	crypto_wipe(&idr, sizeof(idr));
	if (!err)
		err = build(r, out, &c);
	if (!err) {
		out->total_days = c->total_days;
		out->months_with_salary = c->months_with_salary;
		out->months = c->month_count;
	}
	career_free(c);
	/* logged, durably, before any line is handed out */
	if ((err = audit_commit(r, &note, err)))
		career_view_clear(out);
	return err;
}

enum amana_err svc_rights(struct registry *r, const struct principal *who, uint32_t registration, uint32_t at,
			  const char *purpose, struct rights_view *out)
{
	memset(out, 0, sizeof(*out));
	struct audit_entry note;
	audit_note(&note, who, "rights.read");
	struct identity_rec idr;
	struct career_view v;
	memset(&v, 0, sizeof(v));
	struct career *c = NULL;
	enum amana_err err = date_valid(at) ? AMANA_OK : AMANA_ERR_USAGE;
	if (!err)
		err = read_person(r, who, registration, purpose, &note, &idr, &v);
	if (!err)
		err = build(r, &v, &c);
	if (!err) {
		out->registration = registration;
		out->at = at;
		out->birth_date = idr.birth_date;
		out->children = idr.children;
		out->total_days = c->total_days;
		out->months_with_salary = c->months_with_salary;
		/* A pension needs the birth date, which a person first declared
		 * by an employer (B04 by CIN) may not have yet. */
		if (idr.birth_date)
			err = rights_pension(&r->rules, c, idr.birth_date, at, &out->pension);
		else
			out->pension = (struct right_result){ .rule = RIGHT_PENSION_AGE,
							      .reason = "birth date not known to the registry" };
	}
	if (!err)
		err = rights_family_allowance_count(&r->rules, c, at, idr.children, &out->family_allowance);
	/* Sickness: a leave starting at `at` of the waiting days and one more,
	 * nothing paid before (the registry does not keep sick pay): whether
	 * the right is open, and its daily amount. */
	if (!err)
		err = rights_sickness(&r->rules, c, at, RIGHTS_SICKNESS_PROBE_DAYS, 0, &out->sickness);
	if (!err)
		err = rights_maternity(&r->rules, c, at, &out->maternity);
	if (!err)
		err = rights_amo(&r->rules, c, at, &out->amo);
	if (!err)
		err = rights_job_loss(&r->rules, c, at, &out->job_loss);
	crypto_wipe(&idr, sizeof(idr));
	career_view_clear(&v);
	career_free(c);
	if ((err = audit_commit(r, &note, err)))
		crypto_wipe(out, sizeof(*out));
	return err;
}

enum amana_err svc_pension(struct registry *r, const struct principal *who, uint32_t registration, uint32_t at,
			   const char *purpose, struct pension_view *out)
{
	memset(out, 0, sizeof(*out));
	struct audit_entry note;
	audit_note(&note, who, "pension.read");
	struct identity_rec idr;
	struct career_view v;
	memset(&v, 0, sizeof(v));
	struct career *c = NULL;
	enum amana_err err = date_valid(at) ? AMANA_OK : AMANA_ERR_USAGE;
	if (!err)
		err = read_person(r, who, registration, purpose, &note, &idr, &v);
	if (!err && !idr.birth_date) {
		snprintf(note.reason, sizeof(note.reason), "birth date not known to the registry");
		err = AMANA_ERR_NOTFOUND;
	}
	if (!err)
		err = build(r, &v, &c);
	if (!err) {
		out->registration = registration;
		out->at = at;
		out->birth_date = idr.birth_date;
		out->total_days = c->total_days;
		err = rights_pension(&r->rules, c, idr.birth_date, at, &out->pension);
	}
	crypto_wipe(&idr, sizeof(idr));
	career_view_clear(&v);
	career_free(c);
	if ((err = audit_commit(r, &note, err)))
		crypto_wipe(out, sizeof(*out));
	return err;
}
