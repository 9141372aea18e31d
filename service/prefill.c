/*
 * prefill.c - the pre-filled list (A00-A03) the registry issues to an
 * employer for a period: who it expects on the payroll, with children and
 * family allowance amounts from the dated rules.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ebds.h"
#include "roster.h"

static enum amana_err emit(FILE *out, const struct ebds_record *rec)
{
	char line[EBDS_LINE_MAX];
	enum amana_err err = ebds_format(rec, line);
	if (err)
		return err;
	if (fwrite(line, 1, sizeof(line), out) != sizeof(line))
		err = AMANA_ERR_IO;
	crypto_wipe(line, sizeof(line));
	return err;
}

enum amana_err svc_prefill(struct registry *r, const struct principal *who, uint32_t affiliation, uint32_t period,
			   FILE *out, unsigned *persons)
{
	struct audit_entry note;
	audit_note(&note, who, "prefill");
	int64_t employer_id = 0;
	enum amana_err ferr = audit_note_purpose(r, &note, who->purpose);
	if (ferr)
		return audit_commit(r, &note, ferr);
	ferr = find_employer(r, affiliation, &employer_id);
	if (ferr && ferr != AMANA_ERR_NOTFOUND)
		return audit_commit(r, &note, ferr);
	if (!ferr)
		audit_entry_subject(&note, AUDIT_SUBJECT_EMPLOYER, employer_id);
	/* scope first: who may not see this employer learns nothing of it */
	struct guard_request q = {
		.act = ACT_PREFILL_READ,
		.subject_kind = ferr ? 0 : AUDIT_SUBJECT_EMPLOYER,
		.subject_id = employer_id,
		.employer = affiliation,
		.purpose = who->purpose && who->purpose[0],
		.document = true,
	};
	enum amana_err err = guard_access(r, who, &q, &note);
	if (err || (err = ferr))
		return audit_commit(r, &note, err);
	struct roster ro;
	roster_init(&ro);
	err = roster_load(r, employer_id, period, true, &ro);
	/* The list names every person on it: logged, durably, before the
	 * first byte of it is written. */
	int64_t *ids = NULL;
	if (!err && ro.n && !(ids = malloc(ro.n * sizeof(*ids))))
		err = AMANA_ERR_NOMEM;
	for (size_t i = 0; !err && i < ro.n; i++)
		ids[i] = ro.v[i].person_id;
	if (!err)
		err = guard_listed(r, who, ACT_PREFILL_READ, affiliation, ids, ro.n);
	err = audit_commit_listing(r, &note, err, AUDIT_SUBJECT_PERSON, ids, err ? 0 : ro.n);
	free(ids);
	if (err)
		goto out;

	struct ebds_record rec;
	memset(&rec, 0, sizeof(rec));
	rec.family = EBDS_FAMILY_PREFILL;
	rec.type = EBDS_HEADER;
	/* Transfer id: the period and the affiliation, unique per list. */
	rec.u.header.transfer_id = (uint64_t)period * 10000000ull + affiliation;
	memcpy(rec.u.header.category, "A0", 3);
	if ((err = emit(out, &rec)))
		goto out;

	memset(&rec.u, 0, sizeof(rec.u));
	rec.type = EBDS_EMPLOYER;
	struct employer_view ev;
	if ((err = employer_load(r, employer_id, &ev)))
		goto out;
	struct ebds_employer *e = &rec.u.employer;
	e->affiliation = affiliation;
	e->period = period;
	memcpy(e->name, ev.name, sizeof(e->name));
	memcpy(e->activity, ev.activity, sizeof(e->activity));
	memcpy(e->address, ev.address, sizeof(e->address));
	memcpy(e->city, ev.city, sizeof(e->city));
	memcpy(e->postcode, ev.postcode, sizeof(e->postcode));
	employer_view_clear(&ev);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	e->issue_date = (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
	/* Declarations are due by the 10th of the following month. */
	uint32_t next = period_next(period);
	e->due_date = next * 100 + 10;
	err = emit(out, &rec);
	crypto_wipe(&rec, sizeof(rec));
	if (err)
		goto out;

	struct ebds_sums sums;
	memset(&sums, 0, sizeof(sums));
	for (size_t i = 0; i < ro.n; i++) {
		memset(&rec, 0, sizeof(rec));
		rec.family = EBDS_FAMILY_PREFILL;
		rec.type = EBDS_PREFILL;
		struct ebds_person_line *p = &rec.u.person;
		p->affiliation = affiliation;
		p->period = period;
		p->registration = ro.v[i].registration;
		memcpy(p->name, ro.v[i].name, sizeof(p->name));
		p->children = ro.v[i].children;
		if ((err = family_allowance(&r->rules, period, p->children, &p->af_to_pay)))
			goto out;
		p->af_to_deduct = 0;
		p->af_net = p->af_to_pay;
		ebds_sums_add_prefill(&sums, p);
		err = emit(out, &rec);
		crypto_wipe(&rec, sizeof(rec));
		if (err)
			goto out;
	}
	memset(&rec, 0, sizeof(rec));
	rec.family = EBDS_FAMILY_PREFILL;
	rec.type = EBDS_PREFILL_SUM;
	rec.affiliation = affiliation;
	rec.period = period;
	rec.u.sums = sums;
	if ((err = emit(out, &rec)))
		goto out;
	if (fflush(out) != 0)
		err = AMANA_ERR_IO;
	if (persons)
		*persons = (unsigned)ro.n;
out:
	roster_free(&ro);
	return err;
}
