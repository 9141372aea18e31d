/*
 * rights_registry.c - the registry issue 6's benchmark runs on: years of
 * careers for millions of persons, made in minutes rather than the hours
 * importing 96 monthly files of 4,000,000 lines would take.
 *
 * usage: bench_rights_registry DIR KEYFILE FIRST_PERIOD MONTHS
 *
 * DIR is a registry whose FIRST_PERIOD declarations were imported (amana
 * gen + amana import). For every employer, its main declaration of that
 * period is copied to each of the MONTHS - 1 periods that follow: the same
 * persons, days and amounts, sealed and written by the registry's own
 * chunk writer (service/lines.c) and declaration rows, as the import writes
 * them. What is skipped is only the parsing of the files and the audit
 * entry of each import: this builds a fixture, it is not the import under
 * measure (bench/import.sh measures that).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "service/internal.h"
#include "service/lines.h"

struct ids {
	int64_t *v;
	size_t n, cap;
};

static enum amana_err keep_employer(void *ctx, const struct store_employer *e)
{
	struct ids *x = ctx;
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 1024;
		int64_t *v = realloc(x->v, cap * sizeof(*v));
		if (!v)
			return AMANA_ERR_NOMEM;
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n++] = e->id;
	return AMANA_OK;
}

struct first_decl {
	int64_t id;
};

static enum amana_err keep_main(void *ctx, const struct store_declaration *d)
{
	struct first_decl *f = ctx;
	if (d->seq == 0)
		f->id = d->id;
	return AMANA_OK;
}

struct lines {
	struct line_rec *v;
	size_t n, cap;
	struct totals_rec t;
};

static enum amana_err keep_line(void *ctx, const struct line_rec *l)
{
	struct lines *x = ctx;
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 256;
		struct line_rec *v = realloc(x->v, cap * sizeof(*v));
		if (!v)
			return AMANA_ERR_NOMEM;
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n++] = *l;
	x->t.employees++;
	x->t.children += l->children;
	x->t.days += l->days;
	x->t.real_salaries += l->real_salary;
	x->t.capped_salaries += l->capped_salary;
	x->t.af_to_pay += l->af_to_pay;
	x->t.af_to_deduct += l->af_to_deduct;
	x->t.af_net += l->af_net;
	x->t.af_give_back += l->af_give_back;
	return AMANA_OK;
}

static uint32_t next_period(uint32_t p)
{
	return p % 100 == 12 ? (p / 100 + 1) * 100 + 1 : p + 1;
}

/* The months after the first of one employer: MONTHS - 1 declarations. */
static enum amana_err copy_employer(struct registry *r, struct chunk_writer *w, int64_t employer, uint32_t first,
				    unsigned months, struct lines *l, uint64_t *lines_written)
{
	struct first_decl f = { 0 };
	enum amana_err err = store_declarations_of(r->store, employer, first, keep_main, &f);
	if (err || !f.id)
		return err; /* bait employers declare nothing */
	l->n = 0;
	memset(&l->t, 0, sizeof(l->t));
	if ((err = lines_each(r, employer, f.id, keep_line, l)))
		return err;
	int64_t id;
	if ((err = store_next_ids(r->store, "declarations", (int64_t)months - 1, &id)))
		return err;
	uint32_t period = first;
	for (unsigned m = 1; m < months && !err; m++, id++) {
		period = next_period(period);
		chunk_writer_start(w, r, employer, id);
		for (size_t i = 0; i < l->n && !err; i++)
			err = chunk_writer_add(w, &l->v[i]);
		if (!err)
			err = chunk_writer_finish(w);
		chunk_writer_clear(w);
		struct store_declaration d = {
			.id = id,
			.employer_id = employer,
			.period = period,
			.seq = 0,
			.imported_at = (int64_t)time(NULL),
			.line_count = (int64_t)l->n,
		};
		d.digest[0] = (uint8_t)m; /* not a file's: a fixture */
		uint8_t sealed[SEALED_MAX];
		size_t n;
		if (!err && !(err = seal_totals(r, id, &l->t, sealed, &n))) {
			d.totals_sealed.data = sealed;
			d.totals_sealed.len = n;
			err = store_declaration_insert(r->store, &d);
		}
		*lines_written += l->n;
	}
	return err;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: bench_rights_registry DIR KEYFILE FIRST_PERIOD MONTHS\n");
		return 2;
	}
	uint32_t first = (uint32_t)strtoul(argv[3], NULL, 10);
	unsigned months = (unsigned)strtoul(argv[4], NULL, 10);
	if (first % 100 < 1 || first % 100 > 12 || months < 2 || months > 600) {
		fprintf(stderr, "bench_rights_registry: FIRST_PERIOD is YYYYMM, MONTHS 2 to 600\n");
		return 2;
	}
	if (crypto_init() != AMANA_OK)
		return 1;
	struct registry *r;
	char why[256] = "";
	if (registry_open(argv[1], argv[2], &r, why, sizeof(why)) != AMANA_OK) {
		fprintf(stderr, "bench_rights_registry: %s\n", why);
		return 1;
	}
	struct ids e = { NULL, 0, 0 };
	enum amana_err err = store_employers_each(r->store, keep_employer, &e);
	struct chunk_writer *w = malloc(sizeof(*w));
	struct lines l = { NULL, 0, 0, { 0 } };
	uint64_t written = 0;
	time_t start = time(NULL);
	if (!w)
		err = AMANA_ERR_NOMEM;
	for (size_t i = 0; i < e.n && !err; i += 1000) {
		if ((err = store_begin(r->store)))
			break;
		for (size_t k = i; k < e.n && k < i + 1000 && !err; k++)
			err = copy_employer(r, w, e.v[k], first, months, &l, &written);
		err = err ? (store_rollback(r->store), err) : store_commit(r->store);
		fprintf(stderr, "\r%zu of %zu employers, %llu lines, %llds", i + 1000 < e.n ? i + 1000 : e.n, e.n,
			(unsigned long long)written, (long long)(time(NULL) - start));
	}
	fputc('\n', stderr);
	if (l.v)
		crypto_wipe(l.v, l.cap * sizeof(*l.v));
	free(l.v);
	free(w);
	free(e.v);
	registry_close(r);
	if (err) {
		fprintf(stderr, "bench_rights_registry: %s\n", amana_strerror(err));
		return 1;
	}
	printf("%llu lines written in %lld s\n", (unsigned long long)written, (long long)(time(NULL) - start));
	return 0;
}
