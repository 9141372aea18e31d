/*
 * batch.c - the rights due for a month across the whole registry (issue 6):
 * svc_rights_batch, the monthly payment run of family allowances and
 * pensions.
 *
 * The registry is read in four scans, never a query per person:
 *   1. every person: registration, birth date and children, opened;
 *   2. every declaration's period, by id, from the smallest structure that
 *      holds it (declarations of the month paid and later are left out:
 *      the rights of a month stand on the months before it);
 *   3. every chunk's clear list of persons, without its payload: how many
 *      lines each person has, hence where each person's lines go in one
 *      array (a counting sort: no sort, no allocation per person);
 *   4. every chunk again, opened: each line put in its person's place.
 * Then each person's career is built and judged by the same functions as
 * one person's (core/rights.h), so the batch and svc_rights agree to the
 * centime (a test checks the totals). Memory is the lines of the months
 * before (16 bytes each) plus a few bytes per person and declaration.
 *
 * The payment file names every person paid: the run is one audited read,
 * listing them all (audit_commit_listing), durable before the call returns;
 * the caller makes the file visible only then.
 */
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/career.h"
#include "lines.h"

struct batch_person {
	uint32_t registration, birth_date;
	uint32_t children;
	bool known; /* a row with this id exists */
};

/* One line of a person's career, as the batch keeps it. */
struct batch_line {
	uint32_t period;
	uint32_t days;
	int64_t salary;
};

struct batch {
	struct registry *r;
	uint32_t period; /* the month paid */
	struct batch_person *persons; /* by person id */
	size_t persons_cap; /* ids 0 .. persons_cap - 1 */
	uint64_t persons_count;
	uint32_t *decl_period; /* by declaration id; 0: none, or not before the month */
	size_t decl_cap;
	uint64_t *first; /* by person id: where their lines start (persons_cap + 1 entries) */
	uint64_t *fill; /* by person id: lines placed so far */
	struct batch_line *lines;
	uint64_t line_count;
	const struct rights_batch_options *o;
};

#define BATCH_ID_MAX ((int64_t)UINT32_MAX) /* ids beyond: AMANA_ERR_LIMIT (arrays by id) */

static enum amana_err grow(void **v, size_t *cap, size_t elem, int64_t id)
{
	if (id <= 0 || id > BATCH_ID_MAX)
		return id <= 0 ? AMANA_ERR_CORRUPT : AMANA_ERR_LIMIT;
	if ((size_t)id < *cap)
		return AMANA_OK;
	size_t n = *cap ? *cap : 1024;
	while (n <= (size_t)id)
		n *= 2;
	void *p = realloc(*v, n * elem);
	if (!p)
		return AMANA_ERR_NOMEM;
	memset((char *)p + *cap * elem, 0, (n - *cap) * elem);
	*v = p;
	*cap = n;
	return AMANA_OK;
}

static enum amana_err take_person(void *vctx, const struct store_person *p)
{
	struct batch *b = vctx;
	enum amana_err err = grow((void **)&b->persons, &b->persons_cap, sizeof(*b->persons), p->id);
	if (err)
		return err;
	struct batch_person *bp = &b->persons[p->id];
	struct identity_rec idr;
	if ((err = open_u32(b->r, "persons", "registration", p->id, &p->reg_sealed, &bp->registration)) ||
	    (err = open_identity(b->r, p->id, &p->identity_sealed, &idr)))
		return err;
	bp->birth_date = idr.birth_date;
	bp->children = idr.children;
	bp->known = true;
	crypto_wipe(&idr, sizeof(idr));
	b->persons_count++;
	if (b->o->progress && b->persons_count % 65536 == 0)
		b->o->progress(b->o->ctx, RIGHTS_BATCH_PERSONS, b->persons_count, 0);
	return AMANA_OK;
}

static enum amana_err take_declaration(void *vctx, int64_t id, int64_t employer_id, uint32_t period)
{
	(void)employer_id;
	struct batch *b = vctx;
	enum amana_err err = grow((void **)&b->decl_period, &b->decl_cap, sizeof(*b->decl_period), id);
	if (err)
		return err;
	if (period < b->period)
		b->decl_period[id] = period;
	return AMANA_OK;
}

/* The period of a chunk's declaration if it is before the month paid (0:
 * skip the chunk). A chunk of an unknown declaration is corrupt. */
static enum amana_err chunk_period(struct batch *b, const struct store_chunk *c, uint32_t *period)
{
	*period = 0;
	if (c->declaration_id <= 0 || (size_t)c->declaration_id >= b->decl_cap)
		return c->declaration_id > 0 ? AMANA_OK : AMANA_ERR_CORRUPT; /* a later one: made during the run */
	*period = b->decl_period[c->declaration_id];
	return AMANA_OK;
}

static enum amana_err count_person(void *vctx, int64_t person_id)
{
	struct batch *b = vctx;
	if (person_id == 0)
		return AMANA_OK; /* occasional labour: nobody's career */
	if (person_id < 0 || (size_t)person_id >= b->persons_cap || !b->persons[person_id].known)
		return AMANA_ERR_CORRUPT; /* a line of a person the scan did not see */
	__atomic_fetch_add(&b->first[person_id], 1, __ATOMIC_RELAXED); /* counting threads */
	return AMANA_OK;
}

/* A chunk being opened by a placing thread. */
struct placing {
	struct batch *b;
	uint32_t period;
};

/* Several threads place lines: each line takes its slot with an atomic
 * add on its person's count, so two chunks of one person never collide
 * (the order of a person's lines does not matter to career_build). */
static enum amana_err place_line(void *vctx, const struct line_rec *l)
{
	const struct placing *pl = vctx;
	struct batch *b = pl->b;
	if (l->person_id == 0)
		return AMANA_OK;
	int64_t id = l->person_id;
	uint64_t k = __atomic_fetch_add(&b->fill[id], 1, __ATOMIC_RELAXED);
	if (k >= b->first[id + 1] - b->first[id])
		return AMANA_ERR_CORRUPT; /* more lines than the clear lists said */
	struct batch_line *x = &b->lines[b->first[id] + k];
	x->period = pl->period;
	x->days = l->days;
	x->salary = l->real_salary;
	return AMANA_OK;
}

/* The second scan's chunks are opened and placed on a thread of their own
 * while this one reads on: the store's reading and the decryption each
 * take cores: as many placing threads as the machine has cores, the
 * reading thread mostly waiting on the store. Chunks go over in blocks of a
 * megabyte (a record per chunk: its head, clear list and sealed payload, as
 * read), HANDOFF_BLOCKS of them going round between the threads. */
#define HANDOFF_BYTES (1u << 20)
#define HANDOFF_BLOCKS 8
#define PLACERS_MAX 8

struct handoff_block {
	size_t len;
	uint8_t data[HANDOFF_BYTES];
};

struct chunk_head {
	int64_t declaration_id, chunk, line_count;
	uint32_t period, persons_len, payload_len, pad;
};

struct handoff {
	struct batch *b;
	bool placing; /* the second scan (payloads: place); else the first (clear lists: count) */
	pthread_mutex_t m;
	pthread_cond_t cv;
	struct handoff_block *full[HANDOFF_BLOCKS], *spare[HANDOFF_BLOCKS];
	size_t head, nfull, nspare;
	struct handoff_block *cur; /* the reading thread's */
	bool closed; /* the reading is over */
	enum amana_err err; /* the placing thread's, which stops the reading */
};

static size_t record_size(size_t persons, size_t payload)
{
	return (sizeof(struct chunk_head) + persons + payload + 7) & ~(size_t)7;
}

static enum amana_err place_block(struct batch *b, const struct handoff_block *blk)
{
	enum amana_err err = AMANA_OK;
	for (size_t at = 0; at < blk->len && !err;) {
		struct chunk_head h;
		memcpy(&h, blk->data + at, sizeof(h));
		const uint8_t *persons = blk->data + at + sizeof(h);
		struct store_chunk c = {
			.declaration_id = h.declaration_id,
			.chunk = h.chunk,
			.line_count = h.line_count,
			.persons = { persons, h.persons_len },
			.payload_sealed = { persons + h.persons_len, h.payload_len },
		};
		struct placing pl = { b, h.period };
		err =
		    h.payload_len ? lines_of_chunk(b->r, &c, place_line, &pl) : chunk_persons_each(&c, count_person, b);
		at += record_size(h.persons_len, h.payload_len);
	}
	return err;
}

static void *placer_main(void *arg)
{
	struct handoff *q = arg;
	pthread_mutex_lock(&q->m);
	for (;;) {
		while (!q->nfull && !q->closed)
			pthread_cond_wait(&q->cv, &q->m);
		if (!q->nfull)
			break; /* closed, and nothing left */
		struct handoff_block *blk = q->full[q->head];
		q->head = (q->head + 1) % HANDOFF_BLOCKS;
		q->nfull--;
		pthread_mutex_unlock(&q->m);
		enum amana_err err = q->err ? AMANA_OK : place_block(q->b, blk);
		blk->len = 0;
		pthread_mutex_lock(&q->m);
		if (err && !q->err)
			q->err = err;
		q->spare[q->nspare++] = blk;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->m);
	return NULL;
}

/* Hand the current block over and take a spare one (waiting for it). */
static enum amana_err handoff_swap(struct handoff *q)
{
	pthread_mutex_lock(&q->m);
	if (q->cur && q->cur->len) {
		q->full[(q->head + q->nfull) % HANDOFF_BLOCKS] = q->cur;
		q->nfull++;
		q->cur = NULL;
		pthread_cond_broadcast(&q->cv);
	}
	while (!q->cur && !q->nspare && !q->err)
		pthread_cond_wait(&q->cv, &q->m);
	if (!q->cur && q->nspare)
		q->cur = q->spare[--q->nspare];
	enum amana_err err = q->err;
	pthread_mutex_unlock(&q->m);
	return err;
}

static enum amana_err place_chunk(void *vctx, const struct store_chunk *c)
{
	struct handoff *q = vctx;
	uint32_t period;
	enum amana_err err = chunk_period(q->b, c, &period);
	if (err || !period)
		return err;
	size_t payload = q->placing ? c->payload_sealed.len : 0;
	size_t need = record_size(c->persons.len, payload);
	if (need > HANDOFF_BYTES || c->persons.len > UINT32_MAX || payload > UINT32_MAX || (q->placing && payload == 0))
		return AMANA_ERR_CORRUPT; /* a chunk is at most tens of kilobytes, and has lines */
	if (q->cur->len + need > HANDOFF_BYTES && (err = handoff_swap(q)))
		return err;
	struct chunk_head h = { c->declaration_id, c->chunk, c->line_count, period, (uint32_t)c->persons.len,
				(uint32_t)payload, 0 };
	uint8_t *at = q->cur->data + q->cur->len;
	memcpy(at, &h, sizeof(h));
	if (c->persons.len)
		memcpy(at + sizeof(h), c->persons.data, c->persons.len);
	if (payload)
		memcpy(at + sizeof(h) + c->persons.len, c->payload_sealed.data, payload);
	q->cur->len += need;
	return AMANA_OK;
}

/* A scan of the chunks read here, each chunk counted (placing false: its
 * clear list only) or opened and placed on the placing threads. */
static enum amana_err scan_chunks(struct batch *b, bool placing)
{
	struct handoff q = { .b = b, .placing = placing };
	struct handoff_block *blocks = calloc(HANDOFF_BLOCKS, sizeof(*blocks));
	if (!blocks)
		return AMANA_ERR_NOMEM;
	pthread_mutex_init(&q.m, NULL);
	pthread_cond_init(&q.cv, NULL);
	for (size_t i = 1; i < HANDOFF_BLOCKS; i++)
		q.spare[q.nspare++] = &blocks[i];
	q.cur = &blocks[0];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = cores < 1 ? 1 : cores > PLACERS_MAX ? PLACERS_MAX : (size_t)cores, n = 0;
	pthread_t th[PLACERS_MAX];
	while (n < want && pthread_create(&th[n], NULL, placer_main, &q) == 0)
		n++;
	enum amana_err err;
	if (n) {
		err = store_chunks_each(b->r->store, placing, place_chunk, &q);
		if (!err)
			err = handoff_swap(&q); /* the last block */
		pthread_mutex_lock(&q.m);
		q.closed = true;
		pthread_cond_broadcast(&q.cv);
		pthread_mutex_unlock(&q.m);
		for (size_t i = 0; i < n; i++)
			pthread_join(th[i], NULL);
		if (!err)
			err = q.err;
	} else {
		err = AMANA_ERR_NOMEM; /* no thread to be had: the run fails, nothing is written */
	}
	pthread_cond_destroy(&q.cv);
	pthread_mutex_destroy(&q.m);
	free(blocks);
	return err;
}

static void csv_row(FILE *out, uint32_t registration, const char *benefit, const struct right_result *x)
{
	fprintf(out, "%09u,%s,%s,%lld\n", registration, benefit, x->rule, (long long)x->amount);
}

/* One share of the persons to judge: ids [from, to), its own career, rows
 * (in memory, in id order) and counts. The shares are written out in order
 * once all are judged. */
struct share {
	const struct batch *b;
	size_t from, to;
	int64_t age;
	char *rows;
	size_t rows_len;
	struct rights_batch_summary sum;
	int64_t *paid;
	size_t npaid, paid_cap;
	enum amana_err err;
};

static enum amana_err paid_add(struct share *sh, int64_t id)
{
	if (sh->npaid == sh->paid_cap) {
		size_t cap = sh->paid_cap ? 2 * sh->paid_cap : 4096;
		int64_t *m = realloc(sh->paid, cap * sizeof(*m));
		if (!m)
			return AMANA_ERR_NOMEM;
		sh->paid = m;
		sh->paid_cap = cap;
	}
	sh->paid[sh->npaid++] = id;
	return AMANA_OK;
}

static enum amana_err judge_share(struct share *sh, FILE *out, struct career *c, struct career_line **cl,
				  size_t *lines_cap)
{
	const struct batch *b = sh->b;
	const struct rules *rules = &b->r->rules;
	uint32_t at = b->period * 100 + 1;
	struct rights_batch_summary *sum = &sh->sum;
	enum amana_err err = AMANA_OK;
	for (size_t id = sh->from; id < sh->to && !err; id++) {
		const struct batch_person *p = &b->persons[id];
		if (!p->known)
			continue;
		uint64_t n = b->first[id + 1] - b->first[id];
		if (n == 0)
			continue; /* no day declared before the month: no right to pay */
		if (n > *lines_cap) {
			size_t cap = *lines_cap;
			while (cap < n)
				cap *= 2;
			struct career_line *m = realloc(*cl, cap * sizeof(**cl));
			if (!m)
				return AMANA_ERR_NOMEM;
			*cl = m;
			*lines_cap = cap;
		}
		const struct batch_line *src = &b->lines[b->first[id]];
		for (uint64_t i = 0; i < n; i++)
			(*cl)[i] = (struct career_line){ src[i].period, 0, src[i].days, src[i].salary };
		if ((err = career_build(rules, *cl, (size_t)n, c)))
			break;
		sum->persons_with_career++;
		struct right_result fa, pe;
		bool pay_pe = false;
		if ((err = rights_family_allowance_count(rules, c, at, p->children, &fa)))
			break;
		bool pay_fa = fa.eligible && fa.amount > 0;
		if (p->birth_date && p->birth_date <= at) {
			if ((err = rights_pension(rules, c, p->birth_date, at, &pe)))
				break;
			/* a pension every month from the age; a refund once,
			 * in the month the age is reached */
			uint32_t reached = p->birth_date + (uint32_t)sh->age * 10000;
			pay_pe = pe.eligible && pe.amount > 0 &&
				 (pe.unit == RIGHT_UNIT_PER_MONTH || reached / 100 == b->period);
		} else if (!p->birth_date) {
			sum->without_birth_date++;
		}
		if (pay_fa) {
			csv_row(out, p->registration, "family_allowance", &fa);
			sum->family_allowances++;
			sum->family_allowance_total += fa.amount;
		}
		if (pay_pe) {
			bool refund = pe.unit == RIGHT_UNIT_TOTAL;
			csv_row(out, p->registration, refund ? "pension_refund" : "pension", &pe);
			if (refund) {
				sum->pension_refunds++;
				sum->pension_refund_total += pe.amount;
			} else {
				sum->pensions++;
				sum->pension_total += pe.amount;
			}
		}
		if ((pay_fa || pay_pe) && (err = paid_add(sh, (int64_t)id)))
			break;
		if (b->o->progress && sh->from == 1 && id % 65536 == 0) /* the first share speaks for all */
			b->o->progress(b->o->ctx, RIGHTS_BATCH_RIGHTS, id - sh->from, sh->to - sh->from);
	}
	return err;
}

static void *judge_main(void *arg)
{
	struct share *sh = arg;
	FILE *out = open_memstream(&sh->rows, &sh->rows_len);
	struct career *c = malloc(sizeof(*c));
	size_t lines_cap = 1024;
	struct career_line *cl = malloc(lines_cap * sizeof(*cl));
	if (!out || !c || !cl)
		sh->err = AMANA_ERR_NOMEM;
	else
		sh->err = judge_share(sh, out, c, &cl, &lines_cap);
	if (out && fclose(out) != 0 && !sh->err)
		sh->err = AMANA_ERR_NOMEM;
	if (cl) {
		crypto_wipe(cl, lines_cap * sizeof(*cl));
		free(cl);
	}
	if (c) {
		crypto_wipe(c, sizeof(*c));
		free(c);
	}
	return NULL;
}

#define JUDGE_THREADS_MAX 8

/* Judge every person with lines before the month, on as many threads as
 * the machine has cores (each a share of the ids), the rows written in id
 * order. */
static enum amana_err judge(struct batch *b, struct rights_batch_summary *sum, int64_t **paid, size_t *npaid)
{
	int64_t age;
	enum amana_err err = rules_param_at(&b->r->rules, "pension_age", b->period, &age);
	if (err)
		return err;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t t = cores < 1 ? 1 : cores > JUDGE_THREADS_MAX ? JUDGE_THREADS_MAX : (size_t)cores;
	size_t ids = b->persons_cap > 1 ? b->persons_cap - 1 : 0;
	if (ids < t) /* a share per thread, however small: the tests' countries use the threads too */
		t = 1;
	struct share sh[JUDGE_THREADS_MAX];
	pthread_t th[JUDGE_THREADS_MAX];
	bool started[JUDGE_THREADS_MAX] = { false };
	memset(sh, 0, sizeof(sh));
	for (size_t i = 0; i < t; i++) {
		sh[i].b = b;
		sh[i].age = age;
		sh[i].from = 1 + ids * i / t;
		sh[i].to = 1 + ids * (i + 1) / t;
	}
	for (size_t i = 1; i < t; i++)
		started[i] = pthread_create(&th[i], NULL, judge_main, &sh[i]) == 0;
	judge_main(&sh[0]);
	for (size_t i = 1; i < t; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			judge_main(&sh[i]); /* no thread: judged here */
	}
	size_t total = 0;
	for (size_t i = 0; i < t; i++) {
		if (!err)
			err = sh[i].err;
		total += sh[i].npaid;
	}
	if (!err && total && !(*paid = malloc(total * sizeof(**paid))))
		err = AMANA_ERR_NOMEM;
	for (size_t i = 0; i < t; i++) {
		if (!err) {
			if (sh[i].rows_len && fwrite(sh[i].rows, 1, sh[i].rows_len, b->o->out) != sh[i].rows_len)
				err = AMANA_ERR_IO;
			memcpy(*paid + *npaid, sh[i].paid, sh[i].npaid * sizeof(**paid));
			*npaid += sh[i].npaid;
			sum->persons_with_career += sh[i].sum.persons_with_career;
			sum->without_birth_date += sh[i].sum.without_birth_date;
			sum->family_allowances += sh[i].sum.family_allowances;
			sum->family_allowance_total += sh[i].sum.family_allowance_total;
			sum->pensions += sh[i].sum.pensions;
			sum->pension_total += sh[i].sum.pension_total;
			sum->pension_refunds += sh[i].sum.pension_refunds;
			sum->pension_refund_total += sh[i].sum.pension_refund_total;
		}
		if (sh[i].rows) {
			crypto_wipe(sh[i].rows, sh[i].rows_len);
			free(sh[i].rows);
		}
		if (sh[i].paid) {
			crypto_wipe(sh[i].paid, sh[i].npaid * sizeof(*sh[i].paid));
			free(sh[i].paid);
		}
	}
	if (!err && ferror(b->o->out))
		err = AMANA_ERR_IO;
	return err;
}

static void batch_free(struct batch *b)
{
	if (b->persons) {
		crypto_wipe(b->persons, b->persons_cap * sizeof(*b->persons));
		free(b->persons);
	}
	free(b->decl_period);
	free(b->first);
	free(b->fill);
	if (b->lines) {
		crypto_wipe(b->lines, b->line_count * sizeof(*b->lines));
		free(b->lines);
	}
}

static enum amana_err run(struct batch *b, struct rights_batch_summary *sum, int64_t **paid, size_t *npaid)
{
	struct registry *r = b->r;
	const struct rights_batch_options *o = b->o;
	enum amana_err err = store_persons_each(r->store, take_person, b);
	if (!err)
		err = store_declaration_periods_each(r->store, take_declaration, b);
	if (err)
		return err;
	sum->persons = b->persons_count;
	/* counts per person, then each person's start: first[id] .. first[id + 1] */
	if (!(b->first = calloc(b->persons_cap + 1, sizeof(*b->first))) ||
	    !(b->fill = calloc(b->persons_cap, sizeof(*b->fill))))
		return AMANA_ERR_NOMEM;
	if (o->progress)
		o->progress(o->ctx, RIGHTS_BATCH_COUNT, 0, 0);
	if ((err = scan_chunks(b, false)))
		return err;
	uint64_t at = 0;
	for (size_t id = 0; id <= b->persons_cap; id++) {
		uint64_t n = id < b->persons_cap ? b->first[id] : 0;
		b->first[id] = at;
		at += n;
	}
	b->line_count = at;
	sum->lines = b->line_count;
	if (b->line_count && !(b->lines = malloc(b->line_count * sizeof(*b->lines))))
		return AMANA_ERR_NOMEM;
	if (o->progress)
		o->progress(o->ctx, RIGHTS_BATCH_LINES, 0, b->line_count);
	if (b->line_count && (err = scan_chunks(b, true)))
		return err;
	for (size_t id = 0; id < b->persons_cap; id++)
		if (b->fill[id] != b->first[id + 1] - b->first[id])
			return AMANA_ERR_CORRUPT; /* a clear list and its chunk disagree */
	fprintf(o->out, "registration,benefit,rule,amount_centimes\n");
	return judge(b, sum, paid, npaid);
}

enum amana_err svc_rights_batch(struct registry *r, const struct principal *who, const struct rights_batch_options *o,
				struct rights_batch_summary *sum)
{
	memset(sum, 0, sizeof(*sum));
	struct audit_entry note;
	audit_note(&note, who, "rights.batch");
	char purpose[64];
	snprintf(purpose, sizeof(purpose), "payment run %04u-%02u", o->period / 100, o->period % 100);
	enum amana_err err = audit_note_purpose(r, &note, o->purpose && o->purpose[0] ? o->purpose : purpose);
	/* A payment run is the fund's own job, on the machine that holds the
	 * key file: amanad's accounts do not start one. */
	if (!err && who->session) {
		snprintf(note.reason, sizeof(note.reason), "a payment run is started from the command line");
		err = AMANA_ERR_DENIED;
	}
	if (!err && (o->period % 100 < 1 || o->period % 100 > 12 || o->period / 100 < 1900 || !o->out))
		err = AMANA_ERR_USAGE;
	struct batch b = { .r = r, .period = o->period, .o = o };
	int64_t *paid = NULL;
	size_t npaid = 0;
	if (!err)
		err = run(&b, sum, &paid, &npaid);
	batch_free(&b);
	/* every person in the file on the log, durable, before it is used */
	uint64_t ticket = 0;
	uint64_t *defer = r->audit_defer;
	r->audit_defer = &ticket; /* queued, then waited for once: not an fsync per entry */
	enum amana_err aerr = audit_commit_listing(r, &note, err, AUDIT_SUBJECT_PERSON, paid, err ? 0 : npaid);
	r->audit_defer = defer;
	enum amana_err werr = svc_audit_wait(r, ticket);
	if (paid) {
		crypto_wipe(paid, npaid * sizeof(*paid));
		free(paid);
	}
	return err ? err : aerr ? aerr : werr;
}
