/*
 * gen.c - a synthetic country: registers employers and persons in the
 * registry and writes their monthly declaration files, without importing
 * them, so that importing is a separate, timed step.
 *
 * The generator simulates what the registry will see: month one declares
 * every employee as a new hire (B04: no earlier declaration, so an empty
 * pre-filled list); each later month declares, in B02 and in the order of
 * the pre-filled list the registry will issue once the earlier months are
 * imported, everyone of the previous month who did not leave, then new hires
 * from the pool of people between jobs. Leavers (SO) return to the pool a
 * month later; the deceased (DE) never do. People with no registration yet
 * are hired by CIN (000000000) in the last month only, since the number the
 * registry gives them cannot be known before the import.
 *
 * Everything follows from the seed: the same seed on a fresh registry gives
 * byte-identical files.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/ids.h"
#include "core/synth.h"
#include "internal.h"

#define REGISTER_BATCH 20000

enum pstate { P_POOL, P_EMPLOYED, P_COOLING, P_DEAD };

struct vec {
	uint32_t *v;
	uint32_t n, cap;
};

static enum amana_err vec_push(struct vec *x, uint32_t val)
{
	if (x->n == x->cap) {
		uint32_t ncap = x->cap ? x->cap * 2 : 4;
		uint32_t *nv = realloc(x->v, ncap * sizeof(*nv));
		if (!nv)
			return AMANA_ERR_NOMEM;
		x->v = nv;
		x->cap = ncap;
	}
	x->v[x->n++] = val;
	return AMANA_OK;
}

struct gen {
	struct registry *r;
	const struct gen_options *opt;
	uint32_t E, P, U; /* employers, registered persons, unregistered persons */
	uint32_t *aff; /* per employer */
	uint32_t *reg; /* per person; 0 until registered */
	uint8_t *state; /* enum pstate per person */
	struct vec *roster; /* per employer: whom the next pre-filled list will expect */
	struct vec pool;
	uint32_t next_unregistered; /* index into [P, P+U) */
	uint32_t next_occasional;
	struct synth_rng g;
	struct gen_summary *sum;
	char *why;
	size_t why_cap;
};

static void progress(struct gen *G, const char *stage, uint64_t done, uint64_t total)
{
	if (G->opt->progress)
		G->opt->progress(G->opt->ctx, stage, done, total);
}

static enum amana_err register_employers(struct gen *G)
{
	struct registry *r = G->r;
	enum amana_err err = AMANA_OK;
	int64_t now = (int64_t)time(NULL);
	for (uint32_t i = 0; i < G->E && !err; i += REGISTER_BATCH) {
		uint32_t end = i + REGISTER_BATCH < G->E ? i + REGISTER_BATCH : G->E;
		if ((err = store_begin(r->store)))
			break;
		for (uint32_t e = i; e < end && !err; e++) {
			struct synth_employer se;
			synth_employer(G->opt->seed, e, &se);
			struct profile_rec p;
			memset(&p, 0, sizeof(p));
			memcpy(p.name, se.name, sizeof(p.name));
			memcpy(p.activity, se.activity, sizeof(p.activity));
			memcpy(p.address, se.address, sizeof(p.address));
			memcpy(p.city, se.city, sizeof(p.city));
			memcpy(p.postcode, se.postcode, sizeof(p.postcode));
			memcpy(p.ice, se.ice, sizeof(p.ice));
			G->aff[e] = affiliation_make(synth_affiliation_prefix(G->opt->seed, e));
			int64_t id;
			err = employer_create(r, G->aff[e], &p, now, &id);
			if (err == AMANA_ERR_EXISTS)
				snprintf(
				    G->why, G->why_cap,
				    "the registry already holds employer %07u: use a fresh registry or another --seed",
				    G->aff[e]);
		}
		if (!err)
			err = store_commit(r->store);
		else
			(void)store_rollback(r->store);
		progress(G, "employers", end, G->E);
	}
	return err;
}

static int64_t minimum_wage(struct gen *G, uint32_t period)
{
	int64_t smig;
	if (rules_param_at(&G->r->rules, "smig", period, &smig) != AMANA_OK)
		smig = 300000;
	return smig;
}

static enum amana_err register_persons(struct gen *G)
{
	struct registry *r = G->r;
	enum amana_err err = AMANA_OK;
	int64_t now = (int64_t)time(NULL);
	int64_t minimum = minimum_wage(G, G->opt->first_period);
	for (uint32_t i = 0; i < G->P && !err; i += REGISTER_BATCH) {
		uint32_t end = i + REGISTER_BATCH < G->P ? i + REGISTER_BATCH : G->P;
		if ((err = store_begin(r->store)))
			break;
		for (uint32_t k = i; k < end && !err; k++) {
			struct synth_person sp;
			synth_person(G->opt->seed, k, minimum, &sp);
			int64_t id;
			err = person_create(r, sp.cin, sp.name, sp.birth_date, sp.children, now, &id, &G->reg[k]);
			if (err == AMANA_ERR_EXISTS)
				snprintf(G->why, G->why_cap,
					 "the registry already holds a person of this synthetic country: use a fresh "
					 "registry or another --seed");
			crypto_wipe(&sp, sizeof(sp));
		}
		if (!err)
			err = store_commit(r->store);
		else
			(void)store_rollback(r->store);
		progress(G, "persons", end, G->P);
	}
	return err;
}

/* Bait: persons and employers no declaration names and no legitimate
 * work touches, registered like the others after them and marked
 * honeytoken. Any read of one raises an alert with its reader. */
static enum amana_err plant_honeytokens(struct gen *G)
{
	struct registry *r = G->r;
	int64_t now = (int64_t)time(NULL);
	int64_t minimum = minimum_wage(G, G->opt->first_period);
	uint32_t np = 1 + G->P / 20000, ne = 1 + G->E / 20000;
	enum amana_err err = store_begin(r->store);
	for (uint32_t i = 0; i < np && !err; i++) {
		struct synth_person sp;
		synth_person(G->opt->seed, G->P + G->U + i, minimum, &sp);
		int64_t id;
		uint32_t reg;
		err = person_create(r, sp.cin, sp.name, sp.birth_date, sp.children, now, &id, &reg);
		crypto_wipe(&sp, sizeof(sp));
		if (!err)
			err = mark_subject(r, AUDIT_SUBJECT_PERSON, id, ALERT_HONEYTOKEN);
		if (!err)
			G->sum->honeytoken_persons++;
	}
	for (uint32_t i = 0; i < ne && !err; i++) {
		struct synth_employer se;
		synth_employer(G->opt->seed, G->E + i, &se);
		struct profile_rec p;
		memset(&p, 0, sizeof(p));
		memcpy(p.name, se.name, sizeof(p.name));
		memcpy(p.activity, se.activity, sizeof(p.activity));
		memcpy(p.address, se.address, sizeof(p.address));
		memcpy(p.city, se.city, sizeof(p.city));
		memcpy(p.postcode, se.postcode, sizeof(p.postcode));
		memcpy(p.ice, se.ice, sizeof(p.ice));
		int64_t id;
		err = employer_create(r, affiliation_make(synth_affiliation_prefix(G->opt->seed, G->E + i)), &p, now,
				      &id);
		if (err == AMANA_ERR_EXISTS) { /* a prefix taken: one bait fewer */
			err = AMANA_OK;
			continue;
		}
		if (!err)
			err = mark_subject(r, AUDIT_SUBJECT_EMPLOYER, id, ALERT_HONEYTOKEN);
		if (!err)
			G->sum->honeytoken_employers++;
	}
	if (!err)
		err = store_commit(r->store);
	else
		(void)store_rollback(r->store);
	return err;
}

/* Employer sizes: a Zipf-Mandelbrot law, so a few employers are large and
 * most are small, as in the real registry. */
static enum amana_err assign_initial(struct gen *G)
{
	double *cdf = malloc(G->E * sizeof(*cdf));
	if (!cdf)
		return AMANA_ERR_NOMEM;
	double acc = 0;
	for (uint32_t e = 0; e < G->E; e++) {
		acc += 1.0 / pow((double)e + 20.0, 1.05);
		cdf[e] = acc;
	}
	enum amana_err err = AMANA_OK;
	for (uint32_t k = 0; k < G->P && !err; k++) {
		uint32_t e;
		if (k < G->E) {
			e = k; /* everyone has at least one employee */
		} else if (synth_below(&G->g, 100) < 8) {
			G->state[k] = P_POOL;
			err = vec_push(&G->pool, k);
			continue;
		} else {
			double u = synth_unit(&G->g) * acc;
			uint32_t lo = 0, hi = G->E - 1;
			while (lo < hi) {
				uint32_t mid = lo + (hi - lo) / 2;
				if (cdf[mid] < u)
					lo = mid + 1;
				else
					hi = mid;
			}
			e = lo;
		}
		G->state[k] = P_EMPLOYED;
		err = vec_push(&G->roster[e], k);
	}
	free(cdf);
	return err;
}

struct file_out {
	FILE *f;
	char path[PATH_MAX];
	bool bad;
};

static void put(struct file_out *fo, const struct ebds_record *rec)
{
	char line[EBDS_LINE_MAX];
	if (ebds_format(rec, line) != AMANA_OK)
		fo->bad = true;
	if (fwrite(line, 1, sizeof(line), fo->f) != sizeof(line))
		fo->bad = true;
}

static void salary_for(int64_t base, unsigned days, int64_t ceiling, int64_t *real, int64_t *capped)
{
	*real = days >= 26 ? base : base * days / 26;
	*capped = *real < ceiling ? *real : ceiling;
}

static enum amana_err write_month(struct gen *G, uint32_t m, uint32_t period)
{
	struct registry *r = G->r;
	bool first = m == 0, last = m + 1 == G->opt->months;
	int64_t ceiling, minimum = minimum_wage(G, G->opt->first_period);
	enum amana_err err = rules_param_at(&r->rules, "ceiling", period, &ceiling);
	if (err) {
		snprintf(G->why, G->why_cap, "no salary ceiling in the rules for %06u", period);
		return err;
	}
	struct vec leavers = { 0 };
	for (uint32_t e = 0; e < G->E && !err; e++) {
		struct file_out fo = { .bad = false };
		snprintf(fo.path, sizeof(fo.path), "%s/DS_%07u_%06u.txt", G->opt->out_dir, G->aff[e], period);
		fo.f = fopen(fo.path, "wbx");
		if (!fo.f) {
			snprintf(G->why, G->why_cap, "cannot create %s: %s", fo.path, strerror(errno));
			err = errno == EEXIST ? AMANA_ERR_EXISTS : AMANA_ERR_IO;
			break;
		}
		static char fbuf[1 << 16];
		setvbuf(fo.f, fbuf, _IOFBF, sizeof(fbuf));
		struct ebds_record rec;
		memset(&rec, 0, sizeof(rec));
		rec.family = EBDS_FAMILY_DECLARATION;
		rec.type = EBDS_HEADER;
		rec.u.header.transfer_id = (uint64_t)period * 10000000ull + G->aff[e];
		memcpy(rec.u.header.category, "B0", 3);
		put(&fo, &rec);

		struct synth_employer se;
		synth_employer(G->opt->seed, e, &se);
		memset(&rec.u, 0, sizeof(rec.u));
		rec.type = EBDS_EMPLOYER;
		struct ebds_employer *emp = &rec.u.employer;
		emp->affiliation = G->aff[e];
		emp->period = period;
		memcpy(emp->name, se.name, sizeof(emp->name));
		memcpy(emp->activity, se.activity, sizeof(emp->activity));
		memcpy(emp->address, se.address, sizeof(emp->address));
		memcpy(emp->city, se.city, sizeof(emp->city));
		memcpy(emp->postcode, se.postcode, sizeof(emp->postcode));
		put(&fo, &rec);

		struct vec *ro = &G->roster[e];
		struct vec next = { 0 };
		struct ebds_sums s2, s4;
		memset(&s2, 0, sizeof(s2));
		memset(&s4, 0, sizeof(s4));
		struct vec hires = { 0 };
		if (first) {
			/* No earlier declaration: everyone is a new hire. */
			for (uint32_t i = 0; i < ro->n && !err; i++)
				err = vec_push(&hires, ro->v[i]);
		} else {
			for (uint32_t i = 0; i < ro->n && !err; i++) {
				uint32_t k = ro->v[i];
				struct synth_person sp;
				synth_person(G->opt->seed, k, minimum, &sp);
				memset(&rec.u, 0, sizeof(rec.u));
				rec.type = EBDS_SALARY;
				struct ebds_person_line *p = &rec.u.person;
				p->affiliation = G->aff[e];
				p->period = period;
				p->registration = G->reg[k];
				memcpy(p->name, sp.name, sizeof(p->name));
				p->children = sp.children;
				if ((err = family_allowance(&r->rules, period, sp.children, &p->af_to_pay)))
					break;
				p->af_net = p->af_to_pay;
				double u = synth_unit(&G->g);
				unsigned days = 26;
				if (u < 0.010)
					p->situation = SITUATION_SO, days = 0;
				else if (u < 0.0103)
					p->situation = SITUATION_DE, days = 1 + synth_below(&G->g, 25);
				else if (u < 0.0153)
					p->situation = SITUATION_IL, days = 5 + synth_below(&G->g, 20);
				else if (u < 0.0173)
					p->situation = SITUATION_IT, days = synth_below(&G->g, 10);
				else if (u < 0.0183)
					p->situation = SITUATION_AT, days = 5 + synth_below(&G->g, 20);
				else if (u < 0.0203)
					p->situation = SITUATION_CS, days = 0;
				else if (u < 0.0213)
					p->situation = SITUATION_MS, days = 0;
				else if (u < 0.0215)
					p->situation = SITUATION_MP, days = 0;
				p->days = days;
				int64_t base = sp.base_salary + sp.base_salary * synth_below(&G->g, 6) / 100;
				salary_for(base, days, ceiling, &p->real_salary, &p->capped_salary);
				if (situation_leaves(p->situation))
					p->af_give_back = p->af_net;
				ebds_sums_add_salary(&s2, p);
				put(&fo, &rec);
				crypto_wipe(&sp, sizeof(sp));
				if (p->situation == SITUATION_SO) {
					G->state[k] = P_COOLING;
					err = vec_push(&leavers, k);
				} else if (p->situation == SITUATION_DE) {
					G->state[k] = P_DEAD;
				} else {
					err = vec_push(&next, k);
				}
			}
			/* New hires from the pool: about 1.2% of the payroll a month. */
			double want = (double)ro->n * 0.012;
			uint32_t n = (uint32_t)want + (synth_unit(&G->g) < want - floor(want) ? 1 : 0);
			for (uint32_t i = 0; i < n && G->pool.n > 0 && !err; i++) {
				uint32_t pick = synth_below(&G->g, G->pool.n);
				uint32_t k = G->pool.v[pick];
				G->pool.v[pick] = G->pool.v[--G->pool.n];
				G->state[k] = P_EMPLOYED;
				err = vec_push(&hires, k);
			}
		}
		if (last && G->next_unregistered < G->P + G->U && synth_below(&G->g, 100) < 2)
			err = vec_push(&hires, G->next_unregistered++);
		memset(&rec.u, 0, sizeof(rec.u));
		rec.type = EBDS_SALARY_SUM;
		rec.affiliation = G->aff[e];
		rec.period = period;
		rec.u.sums = s2;
		put(&fo, &rec);

		for (uint32_t i = 0; i < hires.n && !err; i++) {
			uint32_t k = hires.v[i];
			struct synth_person sp;
			synth_person(G->opt->seed, k, minimum, &sp);
			memset(&rec.u, 0, sizeof(rec.u));
			rec.type = EBDS_HIRE;
			struct ebds_hire_line *h = &rec.u.hire;
			h->affiliation = G->aff[e];
			h->period = period;
			h->registration = k < G->P ? G->reg[k] : REGISTRATION_NONE;
			memcpy(h->name, sp.name, sizeof(h->name));
			memcpy(h->cin, sp.cin, sizeof(h->cin));
			h->days = first ? 26 : 1 + synth_below(&G->g, 26);
			salary_for(sp.base_salary, h->days, ceiling, &h->real_salary, &h->capped_salary);
			ebds_sums_add_hire(&s4, h);
			put(&fo, &rec);
			crypto_wipe(&sp, sizeof(sp));
			if (k < G->P)
				err = vec_push(&next, k);
		}
		/* Now and then a day labourer: occasional labour, no person. */
		if (!err && synth_below(&G->g, 100) < 2) {
			struct synth_person sp;
			synth_person(G->opt->seed, G->P + G->U + G->next_occasional++, minimum, &sp);
			memset(&rec.u, 0, sizeof(rec.u));
			rec.type = EBDS_HIRE;
			struct ebds_hire_line *h = &rec.u.hire;
			h->affiliation = G->aff[e];
			h->period = period;
			h->registration = REGISTRATION_OCCASIONAL;
			memcpy(h->name, sp.name, sizeof(h->name));
			memcpy(h->cin, sp.cin, sizeof(h->cin));
			h->days = 0;
			h->real_salary = 20000 + (int64_t)synth_below(&G->g, 180000);
			h->capped_salary = h->real_salary < ceiling ? h->real_salary : ceiling;
			ebds_sums_add_hire(&s4, h);
			put(&fo, &rec);
			crypto_wipe(&sp, sizeof(sp));
		}
		memset(&rec.u, 0, sizeof(rec.u));
		rec.type = EBDS_HIRE_SUM;
		rec.u.sums = s4;
		put(&fo, &rec);
		rec.type = EBDS_GRAND_SUM;
		struct ebds_sums s6 = s4;
		s6.employees += s2.employees;
		s6.registrations += s2.registrations;
		s6.days += s2.days;
		s6.real_salaries += s2.real_salaries;
		s6.capped_salaries += s2.capped_salaries;
		s6.controls += s2.controls;
		rec.u.sums = s6;
		put(&fo, &rec);
		crypto_wipe(&rec, sizeof(rec));

		G->sum->lines += s2.employees + s4.employees;
		free(hires.v);
		free(ro->v);
		*ro = next;
		if (fclose(fo.f) != 0 || fo.bad) {
			snprintf(G->why, G->why_cap, "cannot write %s", fo.path);
			err = AMANA_ERR_IO;
		}
		G->sum->files++;
		if ((e & 1023) == 0 || e + 1 == G->E)
			progress(G, "files", (uint64_t)m * G->E + e + 1, (uint64_t)G->opt->months * G->E);
	}
	/* Leavers look for work again from next month. */
	for (uint32_t i = 0; i < leavers.n && !err; i++) {
		G->state[leavers.v[i]] = P_POOL;
		err = vec_push(&G->pool, leavers.v[i]);
	}
	free(leavers.v);
	return err;
}

/* Is path inside dir (both existing)? */
static bool inside(const char *dir, const char *path)
{
	char a[PATH_MAX], b[PATH_MAX];
	if (!realpath(dir, a) || !realpath(path, b))
		return false;
	size_t n = strlen(a);
	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

static enum amana_err gen_run(struct registry *r, const struct gen_options *opt, struct gen_summary *out, char *why,
			      size_t why_cap)
{
	memset(out, 0, sizeof(*out));
	if (opt->employers == 0 || opt->employers > 900000 || opt->persons < opt->employers || opt->months == 0 ||
	    opt->months > 120 || !period_valid(opt->first_period)) {
		snprintf(why, why_cap,
			 "need 1 <= employers <= 900000, persons >= employers, 1 <= months <= 120, a valid period");
		return AMANA_ERR_USAGE;
	}
	uint32_t unregistered = opt->persons / 200 + 1;
	if ((uint64_t)opt->persons + unregistered + 1000000u > SYNTH_CIN_CAPACITY ||
	    opt->persons > REGISTRATION_SERIAL_MAX) {
		snprintf(why, why_cap, "at most %u persons", REGISTRATION_SERIAL_MAX);
		return AMANA_ERR_USAGE;
	}
	if (mkdir(opt->out_dir, 0700) != 0 && errno != EEXIST) {
		snprintf(why, why_cap, "cannot create %s: %s", opt->out_dir, strerror(errno));
		return AMANA_ERR_IO;
	}
	if (inside(r->dir, opt->out_dir)) {
		/* The files hold plaintext names and salaries: never in the registry. */
		snprintf(why, why_cap, "the output folder must be outside the registry directory");
		return AMANA_ERR_USAGE;
	}
	struct gen G = {
		.r = r,
		.opt = opt,
		.E = opt->employers,
		.P = opt->persons,
		.U = unregistered,
		.sum = out,
		.why = why,
		.why_cap = why_cap,
	};
	G.next_unregistered = G.P;
	synth_rng_seed(&G.g, opt->seed);
	enum amana_err err = AMANA_ERR_NOMEM;
	G.aff = calloc(G.E, sizeof(*G.aff));
	G.reg = calloc((size_t)G.P + G.U, sizeof(*G.reg));
	G.state = calloc((size_t)G.P + G.U, sizeof(*G.state));
	G.roster = calloc(G.E, sizeof(*G.roster));
	if (!G.aff || !G.reg || !G.state || !G.roster)
		goto out;
	if ((err = register_employers(&G)) || (err = register_persons(&G)) || (err = assign_initial(&G)))
		goto out;
	uint32_t period = opt->first_period;
	out->first_period = period;
	for (uint32_t m = 0; m < opt->months && !err; m++) {
		err = write_month(&G, m, period);
		out->last_period = period;
		period = period_next(period);
	}
	if (!err)
		err = plant_honeytokens(&G);
	out->employers = G.E;
	out->persons = G.P;
	out->unregistered = G.next_unregistered - G.P;
out:
	if (G.roster)
		for (uint32_t e = 0; e < G.E; e++)
			free(G.roster[e].v);
	free(G.roster);
	free(G.pool.v);
	free(G.aff);
	if (G.reg)
		crypto_wipe(G.reg, ((size_t)G.P + G.U) * sizeof(*G.reg));
	free(G.reg);
	free(G.state);
	if (err && !why[0])
		snprintf(why, why_cap, "%s", amana_strerror(err));
	return err;
}

enum amana_err svc_gen(struct registry *r, const struct principal *who, const struct gen_options *opt,
		       struct gen_summary *out, char *why, size_t why_cap)
{
	struct audit_entry note;
	audit_note(&note, who, "gen");
	enum amana_err err = gen_run(r, opt, out, why, why_cap);
	/* Bulk registration: counted, not listed. */
	note.subjects_total = out->employers + out->persons + out->honeytoken_employers + out->honeytoken_persons;
	return audit_commit(r, &note, err);
}
