/*
 * batch.c - the rights due for a month across the whole registry (issue 6):
 * svc_rights_batch, the monthly payment run of family allowances and
 * pensions.
 *
 * The registry is read in three scans, never a query per person:
 *   1. every person: registration, birth date and children, read on this
 *      thread and opened on as many threads as the machine has cores;
 *   2. every declaration's period, by id, from the smallest structure that
 *      holds it (declarations of the month paid and later are left out:
 *      the rights of a month stand on the months before it);
 *   3. every chunk, read on this thread and opened on as many threads as
 *      the machine has cores, each line appended to the bucket of its
 *      person's id range (BUCKETS of them: appends to a few hundred
 *      streams, not a jump across gigabytes per line). Only the lines a
 *      payment of the month stands on are opened and kept: the family
 *      allowance's window for everyone, the whole career for persons of
 *      the pension age (hand_chunk reads each chunk's clear list of
 *      persons to choose; about half the chunks of 8 years of careers are
 *      never opened, and a tenth of their lines kept).
 * Then the buckets are judged, on every core: a bucket's lines are sorted
 * by person (a counting sort in memory the size of the bucket) and each
 * person's career is built and judged by the same functions as one
 * person's (core/rights.h), so the batch and svc_rights agree to the
 * centime (a test checks every person). Rows are written bucket by bucket,
 * in id order. Memory: 16 bytes a line kept, plus a few bytes per person
 * and declaration.
 *
 * The payment file names every person paid: the run is one audited read,
 * listing them all (audit_commit_listing), durable before the call returns;
 * the caller makes the file visible only then.
 */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/career.h"
#include "lines.h"

struct batch_person {
	uint32_t registration, birth_date;
	uint32_t children;
	bool known; /* a row with this id exists */
};

/* A line as a bucket keeps it: 16 bytes. */
struct bucket_line {
	uint32_t person;
	uint32_t period; /* YYYYMM */
	int64_t salary : 56; /* centimes, real: at most 2^55 - 1 (checked) */
	int64_t days : 8;
};

#define BUCKETS 256
#define BUCKET_BLOCK_LINES 4096

struct bucket_block {
	struct bucket_block *next;
	size_t n;
	struct bucket_line v[BUCKET_BLOCK_LINES];
};

/* The lines of the persons with ids [k * width, (k + 1) * width): full
 * blocks pushed by the placing threads (lock-free). */
struct bucket {
	struct bucket_block *blocks;
	uint64_t lines;
};

struct batch {
	struct registry *r;
	uint32_t period; /* the month paid */
	struct batch_person *persons; /* by person id */
	size_t persons_cap; /* ids 0 .. persons_cap - 1 */
	uint64_t persons_count;
	int64_t persons_max_id; /* the largest id the persons scan saw */
	uint32_t *decl_period; /* by declaration id; 0: none, or not before the month */
	size_t decl_cap;
	int64_t decl_max_id; /* the largest declaration id seen */
	struct bucket buckets[BUCKETS];
	size_t width; /* person ids per bucket */
	const struct rights_batch_options *o;
	struct person_bits *bits; /* by id / 64 */
	int64_t age; /* the pension age in force at the month, in years */
	uint32_t
	    from; /* the family allowance's window starts here: before it, chunks are opened only for persons of age */
	uint64_t chunks, chunks_opened, lines,
	    lines_taken; /* chunks before the month, of them opened; their lines, of them taken */
};

/* Bits of the 64 persons with ids 64k .. 64k + 63, side by side: the
 * reading thread tests and sets a chunk's persons' bits in one cache line
 * each. Set once the persons are read: a row (known), of the pension age
 * at the month (of_age), of age or with a child (judged: who can be paid
 * anything); set as the chunks are read: a line before the month
 * (career). */
struct person_bits {
	uint64_t known, of_age, judged, career;
};

static inline uint64_t id_bit(int64_t id)
{
	return (uint64_t)1 << ((uint64_t)id & 63);
}

static inline bool bit(const uint64_t *v, int64_t i)
{
	return v[(uint64_t)i >> 6] >> ((uint64_t)i & 63) & 1;
}

static inline void bit_set(uint64_t *v, int64_t i)
{
	v[(uint64_t)i >> 6] |= (uint64_t)1 << ((uint64_t)i & 63);
}

/* Whether p is of the pension age on at (the 1st of the month paid), and
 * the date they reach it (YYYYMMDD). The judge and the choice of chunks
 * agree through this one test. */
static bool person_of_age(const struct batch *b, const struct batch_person *p, uint32_t at, uint32_t *reached)
{
	*reached = p->birth_date + (uint32_t)b->age * 10000;
	return p->birth_date && p->birth_date <= at && *reached <= at;
}

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

static enum amana_err take_declaration(void *vctx, int64_t id, int64_t employer_id, uint32_t period)
{
	(void)employer_id;
	struct batch *b = vctx;
	enum amana_err err = grow((void **)&b->decl_period, &b->decl_cap, sizeof(*b->decl_period), id);
	if (err)
		return err;
	if (period < b->period)
		b->decl_period[id] = period;
	if (id > b->decl_max_id)
		b->decl_max_id = id;
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

/* ---- placing: lines into buckets ---- */

/* A placing thread's own partly filled block of each bucket. */
struct placer {
	struct batch *b;
	bool persons; /* opening persons, not chunks */
	struct bucket_block *cur[BUCKETS];
	struct line_pay pay[STORE_CHUNK_LINES]; /* the chunk being placed */
};

static void bucket_push(struct bucket *bk, struct bucket_block *blk)
{
	struct bucket_block *head = __atomic_load_n(&bk->blocks, __ATOMIC_RELAXED);
	do
		blk->next = head;
	while (!__atomic_compare_exchange_n(&bk->blocks, &head, blk, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	__atomic_fetch_add(&bk->lines, blk->n, __ATOMIC_RELAXED);
}

/* A line of person id (checked by the reading thread) into its bucket. */
static enum amana_err place_line(struct placer *pl, uint32_t period, const struct line_pay *l)
{
	struct batch *b = pl->b;
	if (l->real_salary < 0 || l->real_salary > ((int64_t)1 << 55) - 1 || l->days > 127)
		return AMANA_ERR_CORRUPT;
	size_t k = (size_t)l->person_id / b->width;
	struct bucket_block *blk = pl->cur[k];
	if (!blk || blk->n == BUCKET_BLOCK_LINES) {
		if (blk)
			bucket_push(&b->buckets[k], blk);
		if (!(blk = pl->cur[k] = malloc(sizeof(*blk))))
			return AMANA_ERR_NOMEM;
		blk->n = 0;
	}
	struct bucket_line *x = &blk->v[blk->n++];
	x->person = (uint32_t)l->person_id;
	x->period = period;
	x->salary = l->real_salary;
	x->days = l->days;
	return AMANA_OK;
}

/* The chunks are opened on threads of their own while this one reads on:
 * the store's reading and the decryption each take cores. Chunks go over
 * in blocks (a record per chunk: its head, clear list and sealed payload,
 * as read), of RIGHTS_BATCH_BLOCK_BYTES, RIGHTS_BATCH_BLOCKS of them going
 * round unless the options say otherwise (service.h). */
#define PLACERS_MAX 8
#define PLACER_NICE 5

struct handoff_block {
	size_t len;
	uint8_t *data; /* cap bytes */
};

struct chunk_head {
	int64_t declaration_id, chunk, line_count;
	uint32_t period, persons_len, payload_len, pad;
	uint64_t take[STORE_CHUNK_LINES / 64]; /* bit i: line i goes into a career (hand_chunk) */
};

struct handoff {
	struct batch *b;
	bool persons; /* the records are persons' (else chunks') */
	pthread_mutex_t m;
	pthread_cond_t cv;
	struct handoff_block *full[RIGHTS_BATCH_BLOCKS_MAX], *spare[RIGHTS_BATCH_BLOCKS_MAX];
	size_t nblocks, cap; /* blocks going round, bytes each */
	size_t head, nfull, nspare;
	struct handoff_block *cur; /* the reading thread's */
	struct placer *self; /* the reading thread's own placing, when every block is out (NULL: it waits) */
	bool closed; /* the reading is over */
	enum amana_err err; /* a placing thread's, which stops the reading */
	/* what the reading thread saw of the chunks (hand_chunk) */
	uint64_t chunks, chunks_opened, lines, lines_taken;
};

static size_t record_size(size_t persons, size_t payload)
{
	return (sizeof(struct chunk_head) + persons + payload + 7) & ~(size_t)7;
}

/* The largest chunk's record (a clear list of 10-byte ids, the largest
 * payload) fits in the smallest block. */
_Static_assert(sizeof(struct chunk_head) + STORE_CHUNK_LINES * 10 + CHUNK_PLAIN_MAX + CRYPTO_SEAL_OVERHEAD + 8 <=
		   RIGHTS_BATCH_BLOCK_BYTES_MIN,
	       "a chunk's record must fit in a block");

/* A block of persons: each opened into its slot of b->persons (which the
 * reading thread does not move while blocks are out: handoff_drain). */
static enum amana_err open_persons(struct batch *b, const struct handoff_block *blk)
{
	enum amana_err err = AMANA_OK;
	for (size_t at = 0; at < blk->len && !err;) {
		struct chunk_head h; /* declaration_id: the person; persons_len, payload_len: the two blobs */
		memcpy(&h, blk->data + at, sizeof(h));
		const uint8_t *reg = blk->data + at + sizeof(h);
		struct store_blob reg_sealed = { reg, h.persons_len },
				  identity_sealed = { reg + h.persons_len, h.payload_len };
		struct batch_person *bp = &b->persons[h.declaration_id];
		struct identity_rec idr;
		if ((err =
			 open_u32(b->r, "persons", "registration", h.declaration_id, &reg_sealed, &bp->registration)) ||
		    (err = open_identity(b->r, h.declaration_id, &identity_sealed, &idr)))
			break;
		bp->birth_date = idr.birth_date;
		bp->children = idr.children;
		bp->known = true;
		crypto_wipe(&idr, sizeof(idr));
		at += record_size(h.persons_len, h.payload_len);
	}
	return err;
}

static enum amana_err place_block(struct placer *pl, const struct handoff_block *blk)
{
	enum amana_err err = AMANA_OK;
	if (pl->persons)
		return open_persons(pl->b, blk);
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
		err = lines_chunk_pay(pl->b->r, &c, h.take, pl->pay);
		for (int64_t i = 0; i < h.line_count && !err; i++)
			if (bit(h.take, i))
				err = place_line(pl, h.period, &pl->pay[i]);
		crypto_wipe(pl->pay, (size_t)h.line_count * sizeof(pl->pay[0]));
		at += record_size(h.persons_len, h.payload_len);
	}
	return err;
}

/* The partly filled blocks join their buckets. */
static void placer_free(struct placer *pl)
{
	if (!pl)
		return;
	for (size_t k = 0; k < BUCKETS; k++)
		if (pl->cur[k])
			bucket_push(&pl->b->buckets[k], pl->cur[k]);
	free(pl);
}

static void *placer_main(void *arg)
{
	struct handoff *q = arg;
	/* Below the reading thread, the one serial part: with as many
	 * threads as cores plus it, it would otherwise get two thirds of a
	 * core and starve them (measured: the run about 15% faster). Relative
	 * to the run's own nice value (a run started under nice stays below
	 * it). Linux sets a thread's own nice value; elsewhere this fails and
	 * changes nothing. */
	errno = 0;
	int nice_now = getpriority(PRIO_PROCESS, (id_t)gettid());
	if (errno == 0)
		(void)setpriority(PRIO_PROCESS, (id_t)gettid(), nice_now + PLACER_NICE);
	struct placer *pl = calloc(1, sizeof(*pl));
	pthread_mutex_lock(&q->m);
	if (!pl && !q->err)
		q->err = AMANA_ERR_NOMEM;
	if (pl) {
		pl->b = q->b;
		pl->persons = q->persons;
	}
	for (;;) {
		while (!q->nfull && !q->closed)
			pthread_cond_wait(&q->cv, &q->m);
		if (!q->nfull)
			break; /* closed, and nothing left */
		struct handoff_block *blk = q->full[q->head];
		q->head = (q->head + 1) % q->nblocks;
		q->nfull--;
		bool stopped = q->err != AMANA_OK;
		pthread_mutex_unlock(&q->m);
		enum amana_err err = stopped || !pl ? AMANA_OK : place_block(pl, blk);
		blk->len = 0;
		pthread_mutex_lock(&q->m);
		if (err && !q->err)
			q->err = err;
		q->spare[q->nspare++] = blk;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->m);
	placer_free(pl);
	return NULL;
}

/* Hand the current block over and take a spare one. When none is spare,
 * every block is out: rather than wait for the placing threads, the
 * reading thread places a full one itself and takes it. */
static enum amana_err handoff_swap(struct handoff *q)
{
	pthread_mutex_lock(&q->m);
	if (q->cur && q->cur->len) {
		q->full[(q->head + q->nfull) % q->nblocks] = q->cur;
		q->nfull++;
		q->cur = NULL;
		pthread_cond_broadcast(&q->cv);
	}
	while (!q->cur && !q->nspare && !q->err) {
		if (!q->nfull || !q->self) {
			pthread_cond_wait(&q->cv, &q->m);
			continue;
		}
		struct handoff_block *blk = q->full[q->head];
		q->head = (q->head + 1) % q->nblocks;
		q->nfull--;
		pthread_mutex_unlock(&q->m);
		enum amana_err err = place_block(q->self, blk);
		blk->len = 0;
		pthread_mutex_lock(&q->m);
		if (err && !q->err)
			q->err = err;
		q->cur = blk;
	}
	if (!q->cur && q->nspare)
		q->cur = q->spare[--q->nspare];
	enum amana_err err = q->err;
	pthread_mutex_unlock(&q->m);
	return err;
}

/* Wait until every block handed over came back (the placing threads are
 * idle): then b->persons may move. */
static enum amana_err handoff_drain(struct handoff *q)
{
	enum amana_err err = handoff_swap(q);
	pthread_mutex_lock(&q->m);
	while (q->nspare + 1 < q->nblocks && !q->err)
		pthread_cond_wait(&q->cv, &q->m);
	if (!err)
		err = q->err;
	pthread_mutex_unlock(&q->m);
	return err;
}

static enum amana_err hand_person(void *vctx, const struct store_person *p)
{
	struct handoff *q = vctx;
	struct batch *b = q->b;
	enum amana_err err;
	if (p->id <= 0 || p->id > BATCH_ID_MAX)
		return p->id <= 0 ? AMANA_ERR_CORRUPT : AMANA_ERR_LIMIT;
	if ((size_t)p->id >= b->persons_cap &&
	    ((err = handoff_drain(q)) ||
	     (err = grow((void **)&b->persons, &b->persons_cap, sizeof(*b->persons), p->id))))
		return err;
	size_t need = record_size(p->reg_sealed.len, p->identity_sealed.len);
	if (need > q->cap || p->reg_sealed.len > UINT32_MAX || p->identity_sealed.len > UINT32_MAX)
		return AMANA_ERR_CORRUPT;
	if (q->cur->len + need > q->cap && (err = handoff_swap(q)))
		return err;
	struct chunk_head h = { .declaration_id = p->id,
				.persons_len = (uint32_t)p->reg_sealed.len,
				.payload_len = (uint32_t)p->identity_sealed.len };
	uint8_t *at = q->cur->data + q->cur->len;
	memcpy(at, &h, sizeof(h));
	if (p->reg_sealed.len)
		memcpy(at + sizeof(h), p->reg_sealed.data, p->reg_sealed.len);
	if (p->identity_sealed.len)
		memcpy(at + sizeof(h) + p->reg_sealed.len, p->identity_sealed.data, p->identity_sealed.len);
	q->cur->len += need;
	b->persons_count++;
	if (p->id > b->persons_max_id)
		b->persons_max_id = p->id;
	if (b->o->progress && b->persons_count % 65536 == 0)
		b->o->progress(b->o->ctx, RIGHTS_BATCH_PERSONS, b->persons_count, 0);
	return AMANA_OK;
}

/* A chunk before the month: its clear list is read here (the career
 * bits, the count of lines), and the lines a payment of the month stands
 * on are marked to be taken: in the family allowance's window, those of
 * persons with a child or of the pension age; before it, those of persons
 * of age. The family allowance looks at the window only (its days and its
 * average salary, core/rights.c), the pension and its refund at the whole
 * career of persons of age, and nothing else is paid. A chunk with no
 * line to take is not opened at all. So for a person below the age, a
 * line before the window is never looked at: a corrupt or out-of-range
 * one there (which would fail their own statement) does not stop the run.
 * With no day in the window, nobody can be paid the allowance (its
 * minimum days are read from the rules; at 0 days, and no salary
 * threshold, a person with only older lines would be owed one the run
 * misses: rules that pay everyone, which no decree has). */
static enum amana_err hand_chunk(void *vctx, const struct store_chunk *c)
{
	struct handoff *q = vctx;
	struct batch *b = q->b;
	uint32_t period;
	int64_t ids[STORE_CHUNK_LINES];
	enum amana_err err = chunk_period(b, c, &period);
	if (err || !period)
		return err;
	if ((err = lines_chunk_persons(c, ids)))
		return err;
	bool old = period < b->from, wanted = false;
	struct chunk_head h = { .declaration_id = c->declaration_id,
				.chunk = c->chunk,
				.line_count = c->line_count,
				.period = period,
				.persons_len = (uint32_t)c->persons.len,
				.payload_len = (uint32_t)c->payload_sealed.len };
	q->chunks++;
	for (int64_t i = 0; i < c->line_count; i++) {
		int64_t id = ids[i];
		if (id == 0 || id > b->persons_max_id)
			continue; /* occasional labour: nobody's career; or registered since the persons were read */
		struct person_bits *pb = &b->bits[(uint64_t)id >> 6];
		uint64_t m = id_bit(id);
		if (id < 0 || !(pb->known & m))
			return AMANA_ERR_CORRUPT; /* a line of a person the scan should have seen */
		/* the chunks may be read on two threads at once: the bit is
		 * set atomically, once (a person's lines come month after month) */
		if (!(__atomic_load_n(&pb->career, __ATOMIC_RELAXED) & m))
			__atomic_fetch_or(&pb->career, m, __ATOMIC_RELAXED);
		q->lines++;
		if ((old ? pb->of_age : pb->judged) & m) {
			bit_set(h.take, i);
			q->lines_taken++;
			wanted = true;
		}
	}
	if (!wanted)
		return AMANA_OK;
	q->chunks_opened++;
	size_t need = record_size(c->persons.len, c->payload_sealed.len);
	if (need > q->cap || c->persons.len > UINT32_MAX || c->payload_sealed.len > UINT32_MAX ||
	    c->payload_sealed.len == 0)
		return AMANA_ERR_CORRUPT; /* a chunk is at most tens of kilobytes, and has lines */
	if (q->cur->len + need > q->cap && (err = handoff_swap(q)))
		return err;
	uint8_t *at = q->cur->data + q->cur->len;
	memcpy(at, &h, sizeof(h));
	if (c->persons.len)
		memcpy(at + sizeof(h), c->persons.data, c->persons.len);
	memcpy(at + sizeof(h) + c->persons.len, c->payload_sealed.data, c->payload_sealed.len);
	q->cur->len += need;
	return AMANA_OK;
}

/* A reading: one thread reading the store (persons, or the chunks of the
 * declarations [from, to)) and handing blocks to its placing threads. */
struct reading {
	struct handoff q;
	struct store *store;
	int64_t from, to;
	struct handoff_block *blocks;
	uint8_t *data;
	pthread_t th[PLACERS_MAX];
	size_t placers;
	bool ready; /* the handoff's lock and condition exist */
	enum amana_err err;
};

static enum amana_err reading_start(struct reading *rd, struct batch *b, bool persons, size_t placers)
{
	const struct rights_batch_options *o = b->o;
	struct handoff *q = &rd->q;
	q->b = b;
	q->persons = persons;
	q->nblocks = o->blocks ? o->blocks : RIGHTS_BATCH_BLOCKS;
	q->cap = o->block_bytes ? o->block_bytes : RIGHTS_BATCH_BLOCK_BYTES;
	rd->blocks = calloc(q->nblocks, sizeof(*rd->blocks));
	rd->data = malloc(q->nblocks * q->cap);
	if (!rd->blocks || !rd->data)
		return AMANA_ERR_NOMEM;
	pthread_mutex_init(&q->m, NULL);
	pthread_cond_init(&q->cv, NULL);
	rd->ready = true;
	for (size_t i = 0; i < q->nblocks; i++) {
		rd->blocks[i].data = rd->data + i * q->cap;
		if (i)
			q->spare[q->nspare++] = &rd->blocks[i];
	}
	q->cur = &rd->blocks[0];
	if ((q->self = calloc(1, sizeof(*q->self)))) { /* else the reading thread waits for blocks */
		q->self->b = b;
		q->self->persons = persons;
	}
	while (rd->placers < placers && pthread_create(&rd->th[rd->placers], NULL, placer_main, q) == 0)
		rd->placers++;
	return rd->placers ? AMANA_OK : AMANA_ERR_NOMEM; /* no thread to be had: the run fails */
}

/* Read, hand the last block over, and wait for the placing threads. */
static void reading_run(struct reading *rd)
{
	struct handoff *q = &rd->q;
	enum amana_err err = q->persons ? store_persons_each(rd->store, hand_person, q)
					: store_chunks_each_between(rd->store, true, rd->from, rd->to, hand_chunk, q);
	if (!err)
		err = handoff_swap(q); /* the last block */
	pthread_mutex_lock(&q->m);
	q->closed = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->m);
	for (size_t i = 0; i < rd->placers; i++)
		pthread_join(rd->th[i], NULL);
	rd->placers = 0;
	rd->err = err ? err : q->err;
}

static void *reading_main(void *arg)
{
	reading_run(arg);
	return NULL;
}

/* After reading_run, or after a reading_start that failed (its placing
 * threads, if any, are told to stop). */
static void reading_free(struct reading *rd)
{
	if (rd->placers) {
		pthread_mutex_lock(&rd->q.m);
		rd->q.closed = true;
		pthread_cond_broadcast(&rd->q.cv);
		pthread_mutex_unlock(&rd->q.m);
		for (size_t i = 0; i < rd->placers; i++)
			pthread_join(rd->th[i], NULL);
	}
	placer_free(rd->q.self);
	if (rd->ready) {
		pthread_cond_destroy(&rd->q.cv);
		pthread_mutex_destroy(&rd->q.m);
	}
	free(rd->blocks);
	free(rd->data);
}

/* The persons (persons true) or the chunks, read and opened (and placed)
 * on the placing threads. The chunks are read in two halves of the
 * declarations' ids at once, on two connections, where there are two
 * cores or more: the store's reading is the one part that is not spread
 * over the cores otherwise, and it bounded the run. */
static enum amana_err open_all(struct batch *b, bool persons)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = cores < 1 ? 1 : cores > PLACERS_MAX ? PLACERS_MAX : (size_t)cores;
	struct reading rd[2] = { { .store = b->r->store, .from = INT64_MIN, .to = INT64_MAX },
				 { .from = INT64_MAX, .to = INT64_MAX } };
	bool halves =
	    !persons && want >= 2 && b->decl_max_id >= 2 && registry_scan_connection(b->r, &rd[1].store) == AMANA_OK;
	if (halves)
		rd[0].to = rd[1].from = b->decl_max_id / 2 + 1;
	size_t per = halves ? want / 2 : want;
	enum amana_err err = reading_start(&rd[0], b, persons, per);
	pthread_t other;
	bool other_started = false; /* joined below only if so (found by review: any failure before it) */
	if (!err && halves && !(err = reading_start(&rd[1], b, persons, per)))
		other_started = pthread_create(&other, NULL, reading_main, &rd[1]) == 0;
	if (!err && halves && !other_started)
		err = AMANA_ERR_NOMEM;
	if (!err)
		reading_run(&rd[0]);
	if (other_started)
		pthread_join(other, NULL);
	for (size_t i = 0; i < 2; i++) {
		if (!err)
			err = rd[i].err;
		b->chunks += rd[i].q.chunks;
		b->chunks_opened += rd[i].q.chunks_opened;
		b->lines += rd[i].q.lines;
		b->lines_taken += rd[i].q.lines_taken;
		reading_free(&rd[i]);
	}
	store_close(rd[1].store);
	return err;
}

/* ---- judging: bucket by bucket ---- */

/* digits of v, most significant first, at least width of them (zero
 * padded); returns the end */
static char *put_digits(char *p, uint64_t v, int width)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || n < width);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* A bucket's rows as they are formatted. They name persons and amounts, so
 * every buffer they leave behind is wiped before it is freed (an
 * open_memstream's would not be, as it grows). */
struct rows_buf {
	char *p;
	size_t len, cap;
	enum amana_err err; /* the first failure; later rows are dropped */
};

static void rows_put(struct rows_buf *o, const char *s, size_t n)
{
	if (o->err)
		return;
	if (n > o->cap - o->len) {
		size_t cap = o->cap ? o->cap : 1 << 14;
		while (cap - o->len < n)
			cap *= 2;
		char *np = malloc(cap);
		if (!np) {
			o->err = AMANA_ERR_NOMEM;
			return;
		}
		if (o->len)
			memcpy(np, o->p, o->len);
		if (o->p) {
			crypto_wipe(o->p, o->len);
			free(o->p);
		}
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/* A row "%09u,%s,%s,%lld\n", formatted here: millions of rows, and
 * fprintf's parsing of the format showed in the run's profile. The
 * benefit and the rule are the code's own short names. */
static void csv_row(struct rows_buf *out, uint32_t registration, const char *benefit, const struct right_result *x)
{
	char row[160];
	size_t lb = strlen(benefit), lr = strlen(x->rule);
	if (lb + lr + 48 > sizeof(row)) {
		if (!out->err)
			out->err = AMANA_ERR_USAGE; /* a name this code does not have */
		return;
	}
	char *p = put_digits(row, registration, 9);
	*p++ = ',';
	memcpy(p, benefit, lb);
	p += lb;
	*p++ = ',';
	memcpy(p, x->rule, lr);
	p += lr;
	*p++ = ',';
	if (x->amount < 0)
		*p++ = '-';
	p = put_digits(p, x->amount < 0 ? 0 - (uint64_t)x->amount : (uint64_t)x->amount, 1);
	*p++ = '\n';
	rows_put(out, row, (size_t)(p - row));
	crypto_wipe(row, sizeof(row));
}

/* What a bucket gave: its rows (in id order) and the persons paid. */
struct bucket_out {
	char *rows;
	size_t rows_len;
	int64_t *paid;
	size_t npaid, paid_cap;
};

/* A judging thread: the next bucket to take is shared, the rest its own. */
struct judge_ctx {
	struct batch *b;
	struct bucket_out *outs;
	size_t *next; /* shared, atomic */
	bool speaks; /* reports progress (one thread does) */
	struct rights_batch_summary sum;
	enum amana_err err;
};

static enum amana_err paid_add(struct bucket_out *bo, int64_t id)
{
	if (bo->npaid == bo->paid_cap) {
		size_t cap = bo->paid_cap ? 2 * bo->paid_cap : 256;
		int64_t *m = realloc(bo->paid, cap * sizeof(*m));
		if (!m)
			return AMANA_ERR_NOMEM;
		bo->paid = m;
		bo->paid_cap = cap;
	}
	bo->paid[bo->npaid++] = id;
	return AMANA_OK;
}

/* One person with n career lines: their rows and counts. */
static enum amana_err judge_person(struct judge_ctx *j, struct bucket_out *bo, struct rows_buf *out, size_t id,
				   const struct career_line *lines, size_t n, struct career *c)
{
	const struct batch *b = j->b;
	const struct rules *rules = &b->r->rules;
	const struct batch_person *p = &b->persons[id];
	uint32_t at = b->period * 100 + 1;
	struct rights_batch_summary *sum = &j->sum;
	/* Who can be paid neither (no child, and short of the pension age)
	 * is not judged: the rules would refuse both, and the run pays only. */
	uint32_t reached;
	bool of_age = person_of_age(b, p, at, &reached);
	if (p->children == 0 && !of_age)
		return AMANA_OK;
	enum amana_err err = career_build(rules, lines, n, c);
	if (err)
		return err;
	struct right_result fa, pe;
	bool pay_fa = false, pay_pe = false;
	if (p->children) {
		if ((err = rights_family_allowance_count(rules, c, at, p->children, &fa)))
			return err;
		pay_fa = fa.eligible && fa.amount > 0;
	}
	if (of_age) {
		if ((err = rights_pension(rules, c, p->birth_date, at, &pe)))
			return err;
		/* A pension every month from the age. A refund once: in the
		 * first run whose date (the 1st) finds the age reached, that is
		 * the one whose previous run's date did not. */
		uint32_t prev_at = period_prev(b->period) * 100 + 1;
		pay_pe = pe.eligible && pe.amount > 0 && (pe.unit == RIGHT_UNIT_PER_MONTH || reached > prev_at);
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
	return pay_fa || pay_pe ? paid_add(bo, (int64_t)id) : AMANA_OK;
}

/* Bucket k: its lines sorted by person (counting sort), then each person. */
static enum amana_err judge_bucket(struct judge_ctx *j, size_t k, struct career *c, struct career_line **sorted,
				   size_t *sorted_cap, uint64_t **first, size_t *first_cap)
{
	struct batch *b = j->b;
	struct bucket *bk = &b->buckets[k];
	struct bucket_out *bo = &j->outs[k];
	size_t lo = k * b->width, hi = lo + b->width < b->persons_cap ? lo + b->width : b->persons_cap;
	if (lo >= hi || bk->lines == 0)
		return AMANA_OK; /* nobody there declared before the month */
	size_t w = hi - lo;
	if (w + 1 > *first_cap) {
		uint64_t *m = realloc(*first, (w + 1) * sizeof(*m));
		if (!m)
			return AMANA_ERR_NOMEM;
		*first = m;
		*first_cap = w + 1;
	}
	if (bk->lines > *sorted_cap) {
		struct career_line *m = realloc(*sorted, bk->lines * sizeof(*m));
		if (!m)
			return AMANA_ERR_NOMEM;
		*sorted = m;
		*sorted_cap = bk->lines;
	}
	uint64_t *f = *first;
	memset(f, 0, (w + 1) * sizeof(*f));
	for (const struct bucket_block *blk = bk->blocks; blk; blk = blk->next)
		for (size_t i = 0; i < blk->n; i++)
			f[blk->v[i].person - lo + 1]++;
	for (size_t i = 1; i <= w; i++)
		f[i] += f[i - 1]; /* f[p - lo]: where person p's lines start */
	for (const struct bucket_block *blk = bk->blocks; blk; blk = blk->next)
		for (size_t i = 0; i < blk->n; i++) {
			const struct bucket_line *x = &blk->v[i];
			(*sorted)[f[x->person - lo]++] =
			    (struct career_line){ x->period, 0, (unsigned)x->days, (centimes)x->salary };
		}
	/* f[p - lo] is now where person p's lines end */
	struct rows_buf out = { .p = NULL, .len = 0, .cap = 0, .err = AMANA_OK };
	enum amana_err err = AMANA_OK;
	for (size_t p = lo, start = 0; p < hi && !err && !out.err; p++) {
		size_t end = (size_t)f[p - lo];
		if (end > start && b->persons[p].known)
			err = judge_person(j, bo, &out, p, *sorted + start, end - start, c);
		start = end;
	}
	if (!err)
		err = out.err;
	bo->rows = out.p; /* wiped and freed with the bucket's other results */
	bo->rows_len = out.len;
	crypto_wipe(*sorted, bk->lines * sizeof(**sorted));
	return err;
}

static void *judge_main(void *arg)
{
	struct judge_ctx *j = arg;
	struct career *c = malloc(sizeof(*c));
	struct career_line *sorted = NULL;
	uint64_t *first = NULL;
	size_t sorted_cap = 0, first_cap = 0;
	if (!c)
		j->err = AMANA_ERR_NOMEM;
	while (!j->err) {
		size_t k = __atomic_fetch_add(j->next, 1, __ATOMIC_RELAXED);
		if (k >= BUCKETS)
			break;
		j->err = judge_bucket(j, k, c, &sorted, &sorted_cap, &first, &first_cap);
		if (j->b->o->progress && j->speaks)
			j->b->o->progress(j->b->o->ctx, RIGHTS_BATCH_RIGHTS, k, BUCKETS);
	}
	free(sorted);
	free(first);
	if (c) {
		crypto_wipe(c, sizeof(*c));
		free(c);
	}
	return NULL;
}

#define JUDGE_THREADS_MAX 8

/* Judge every bucket, on as many threads as the machine has cores, and
 * write the rows bucket by bucket: in id order. */
static enum amana_err judge(struct batch *b, struct rights_batch_summary *sum, int64_t **paid, size_t *npaid)
{
	enum amana_err err = AMANA_OK;
	struct bucket_out *outs = calloc(BUCKETS, sizeof(*outs));
	if (!outs)
		return AMANA_ERR_NOMEM;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t t = cores < 1 ? 1 : cores > JUDGE_THREADS_MAX ? JUDGE_THREADS_MAX : (size_t)cores, next = 0;
	struct judge_ctx js[JUDGE_THREADS_MAX];
	pthread_t th[JUDGE_THREADS_MAX];
	bool started[JUDGE_THREADS_MAX] = { false };
	for (size_t i = 0; i < t; i++)
		js[i] = (struct judge_ctx){ .b = b, .outs = outs, .next = &next, .speaks = i == 0 };
	for (size_t i = 1; i < t; i++)
		started[i] = pthread_create(&th[i], NULL, judge_main, &js[i]) == 0;
	judge_main(&js[0]); /* takes what the others leave */
	for (size_t i = 1; i < t; i++)
		if (started[i])
			pthread_join(th[i], NULL);
	size_t total = 0;
	for (size_t i = 0; i < t; i++) {
		if (!err)
			err = js[i].err;
		sum->family_allowances += js[i].sum.family_allowances;
		sum->family_allowance_total += js[i].sum.family_allowance_total;
		sum->pensions += js[i].sum.pensions;
		sum->pension_total += js[i].sum.pension_total;
		sum->pension_refunds += js[i].sum.pension_refunds;
		sum->pension_refund_total += js[i].sum.pension_refund_total;
	}
	for (size_t k = 0; k < BUCKETS; k++)
		total += outs[k].npaid;
	if (!err && total && !(*paid = malloc(total * sizeof(**paid))))
		err = AMANA_ERR_NOMEM;
	for (size_t k = 0; k < BUCKETS; k++) {
		struct bucket_out *bo = &outs[k];
		if (!err) {
			if (bo->rows_len && fwrite(bo->rows, 1, bo->rows_len, b->o->out) != bo->rows_len)
				err = AMANA_ERR_IO;
			if (bo->npaid)
				memcpy(*paid + *npaid, bo->paid, bo->npaid * sizeof(**paid));
			*npaid += bo->npaid;
		}
		if (bo->rows) {
			crypto_wipe(bo->rows, bo->rows_len);
			free(bo->rows);
		}
		if (bo->paid) {
			crypto_wipe(bo->paid, bo->npaid * sizeof(*bo->paid));
			free(bo->paid);
		}
	}
	free(outs);
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
	free(b->bits);
	for (size_t k = 0; k < BUCKETS; k++) {
		struct bucket_block *blk = b->buckets[k].blocks;
		while (blk) {
			struct bucket_block *next = blk->next;
			crypto_wipe(blk->v, blk->n * sizeof(blk->v[0]));
			free(blk);
			blk = next;
		}
	}
}

/* The bits by person, and the months opened for everyone, once the
 * persons are read. */
static enum amana_err mark_persons(struct batch *b)
{
	int64_t months;
	enum amana_err err = rules_param_at(&b->r->rules, "pension_age", b->period, &b->age);
	if (err || (err = rules_param_at(&b->r->rules, "family_allowance_window_months", b->period, &months)))
		return err;
	/* out of the range the rules take (they then refuse): every chunk is opened */
	b->from = months >= 1 && months <= CAREER_MAX_MONTHS ? period_add(b->period, -(int)months) : 0;
	size_t words = (b->persons_cap + 63) / 64;
	if (!(b->bits = calloc(words, sizeof(*b->bits))))
		return AMANA_ERR_NOMEM;
	uint32_t at = b->period * 100 + 1, reached;
	for (size_t id = 1; id < b->persons_cap; id++) {
		const struct batch_person *p = &b->persons[id];
		struct person_bits *pb = &b->bits[id >> 6];
		uint64_t m = id_bit((int64_t)id);
		bool of_age = p->known && person_of_age(b, p, at, &reached);
		pb->known |= p->known ? m : 0;
		pb->of_age |= of_age ? m : 0;
		pb->judged |= of_age || (p->known && p->children) ? m : 0; /* as judge_person chooses */
	}
	return AMANA_OK;
}

/* The declarations' periods, read on a connection and thread of their own
 * while the persons are read (that scan leaves a core to spare). */
struct decl_scan {
	struct batch *b;
	struct store *store;
	enum amana_err err;
};

static void *decl_main(void *arg)
{
	struct decl_scan *d = arg;
	d->err = store_declaration_periods_each(d->store, take_declaration, d->b);
	return NULL;
}

static enum amana_err run(struct batch *b, struct rights_batch_summary *sum, int64_t **paid, size_t *npaid)
{
	struct registry *r = b->r;
	const struct rights_batch_options *o = b->o;
	struct decl_scan ds = { b, NULL, AMANA_OK };
	pthread_t th;
	bool apart =
	    registry_scan_connection(r, &ds.store) == AMANA_OK && pthread_create(&th, NULL, decl_main, &ds) == 0;
	enum amana_err err = open_all(b, true);
	if (apart) {
		pthread_join(th, NULL);
		if (!err)
			err = ds.err;
	} else if (!err) { /* no second connection or thread: one after the other */
		err = store_declaration_periods_each(r->store, take_declaration, b);
	}
	store_close(ds.store);
	if (!err)
		err = mark_persons(b);
	if (err)
		return err;
	sum->persons = b->persons_count;
	b->width = b->persons_cap / BUCKETS + 1;
	if (o->progress)
		o->progress(o->ctx, RIGHTS_BATCH_LINES, 0, 0);
	if ((err = open_all(b, false)))
		return err;
	sum->lines = b->lines;
	sum->chunks = b->chunks;
	sum->chunks_opened = b->chunks_opened;
	sum->lines_taken = b->lines_taken;
	for (size_t id = 1; id < b->persons_cap; id++)
		if (b->bits[id >> 6].career & id_bit((int64_t)id)) {
			sum->persons_with_career++;
			sum->without_birth_date += b->persons[id].birth_date == 0;
		}
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
	if (!err && (o->period % 100 < 1 || o->period % 100 > 12 || o->period / 100 < 1900 || !o->out ||
		     o->blocks == 1 || o->blocks > RIGHTS_BATCH_BLOCKS_MAX ||
		     (o->block_bytes && (o->block_bytes < RIGHTS_BATCH_BLOCK_BYTES_MIN ||
					 o->block_bytes > RIGHTS_BATCH_BLOCK_BYTES_MAX))))
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
