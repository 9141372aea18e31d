/*
 * lines.c - packing declaration lines into sealed chunks (see lines.h).
 *
 * A packed line: varint line_no, byte kind, byte flags (bit 0: leaves),
 * varint registration, bytes situation, days, children, then six varints:
 * real and capped salary, AF to pay, to deduct, net, to give back. The
 * person id goes to the chunk's clear list, in the same order.
 */
#include "lines.h"

#include <stdlib.h>
#include <string.h>

static size_t put_var(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	do {
		p[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			p[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

#define ROSTER_V1 1

struct cursor {
	const uint8_t *p;
	size_t n;
	bool bad;
};

static uint64_t get_var(struct cursor *c)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (c->n == 0)
			break;
		uint8_t b = *c->p++;
		c->n--;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	c->bad = true;
	return 0;
}

void chunk_writer_start(struct chunk_writer *w, struct registry *r, int64_t employer_id, int64_t declaration_id)
{
	w->r = r;
	w->employer_id = employer_id;
	w->declaration_id = declaration_id;
	w->chunk = 0;
	w->count = 0;
	w->plen = 0;
	w->perslen = 0;
	w->roster[0] = ROSTER_V1; /* chunk_writer_clear wiped any before */
	w->rlen = 1;
}

static enum amana_err flush(struct chunk_writer *w)
{
	if (w->count == 0)
		return AMANA_OK;
	struct crypto_ad ad = { "declaration_lines", "payload", w->declaration_id, w->chunk };
	size_t slen;
	enum amana_err err =
	    crypto_seal(w->r->keys, CRYPTO_PURPOSE_MONEY, &ad, w->plain, w->plen, w->sealed, sizeof(w->sealed), &slen);
	crypto_wipe(w->plain, w->plen);
	if (err)
		return err;
	struct store_chunk c = {
		.employer_id = w->employer_id,
		.declaration_id = w->declaration_id,
		.chunk = w->chunk,
		.line_count = w->count,
		.persons = { w->persons, w->perslen },
		.payload_sealed = { w->sealed, slen },
	};
	err = store_chunk_insert(w->r->store, &c);
	w->chunk++;
	w->count = 0;
	w->plen = 0;
	w->perslen = 0;
	return err;
}

enum amana_err chunk_writer_add(struct chunk_writer *w, const struct line_rec *l)
{
	if (l->person_id < 0 || l->real_salary < 0 || l->capped_salary < 0 || l->af_to_pay < 0 || l->af_to_deduct < 0 ||
	    l->af_net < 0 || l->af_give_back < 0)
		return AMANA_ERR_USAGE;
	uint8_t *p = w->plain + w->plen;
	size_t n = 0;
	n += put_var(p + n, l->line_no);
	p[n++] = (uint8_t)l->kind;
	p[n++] = l->leaves ? 1 : 0;
	n += put_var(p + n, l->registration);
	p[n++] = (uint8_t)l->situation;
	p[n++] = (uint8_t)l->days;
	p[n++] = (uint8_t)l->children;
	n += put_var(p + n, (uint64_t)l->real_salary);
	n += put_var(p + n, (uint64_t)l->capped_salary);
	n += put_var(p + n, (uint64_t)l->af_to_pay);
	n += put_var(p + n, (uint64_t)l->af_to_deduct);
	n += put_var(p + n, (uint64_t)l->af_net);
	n += put_var(p + n, (uint64_t)l->af_give_back);
	w->plen += n;
	w->perslen += put_var(w->persons + w->perslen, (uint64_t)l->person_id);
	if (w->rlen && w->chunk * STORE_CHUNK_LINES + w->count < ROSTER_LINES_MAX) {
		w->rlen += put_var(w->roster + w->rlen, (uint64_t)l->person_id);
		w->rlen += put_var(w->roster + w->rlen, (uint64_t)l->registration << 1 | (l->leaves ? 1 : 0));
	} else if (w->rlen) {
		crypto_wipe(w->roster, w->rlen); /* too many lines: none kept */
		w->rlen = 0;
	}
	w->count++;
	return w->count == STORE_CHUNK_LINES ? flush(w) : AMANA_OK;
}

enum amana_err chunk_writer_finish(struct chunk_writer *w)
{
	return flush(w);
}

enum amana_err chunk_writer_roster(struct chunk_writer *w, struct store_blob *out)
{
	*out = (struct store_blob){ NULL, 0 };
	if (!w->rlen)
		return AMANA_OK;
	struct crypto_ad ad = { "declarations", "roster", w->declaration_id, 0 };
	size_t slen;
	enum amana_err err = crypto_seal(w->r->keys, CRYPTO_PURPOSE_IDENTITY, &ad, w->roster, w->rlen, w->roster_sealed,
					 sizeof(w->roster_sealed), &slen);
	crypto_wipe(w->roster, w->rlen);
	w->rlen = 0;
	if (!err)
		*out = (struct store_blob){ w->roster_sealed, slen };
	return err;
}

void chunk_writer_clear(struct chunk_writer *w)
{
	crypto_wipe(w->plain, w->plen); /* what was not sealed yet; flush wipes the rest */
	w->plen = 0;
	w->count = 0;
	if (w->rlen)
		crypto_wipe(w->roster, w->rlen);
	w->rlen = 0;
}

enum amana_err lines_roster_each(struct registry *r, const struct store_declaration *d, roster_line_fn fn, void *ctx)
{
	uint8_t plain[ROSTER_PLAIN_MAX];
	struct crypto_ad ad = { "declarations", "roster", d->id, 0 };
	size_t plen = 0; /* set by a successful open only (a failed one wipes plain) */
	if (d->line_count < 0 || d->line_count > ROSTER_LINES_MAX || d->roster_sealed.len < CRYPTO_SEAL_OVERHEAD)
		return AMANA_ERR_CORRUPT;
	enum amana_err err =
	    crypto_open(r->keys, &ad, d->roster_sealed.data, d->roster_sealed.len, plain, sizeof(plain), &plen);
	if (err)
		return err == AMANA_ERR_LIMIT ? AMANA_ERR_CORRUPT : err;
	struct cursor c = { plain + 1, plen ? plen - 1 : 0, plen == 0 || plain[0] != ROSTER_V1 };
	for (int64_t i = 0; i < d->line_count && !err && !c.bad; i++) {
		uint64_t person = get_var(&c), reg = get_var(&c);
		if (c.bad || person > INT64_MAX || reg >> 1 > UINT32_MAX)
			c.bad = true;
		else
			err = fn(ctx, (int64_t)person, (uint32_t)(reg >> 1), reg & 1);
	}
	if (!err && (c.bad || c.n != 0))
		err = AMANA_ERR_CORRUPT;
	crypto_wipe(plain, plen);
	return err;
}

struct each_ctx {
	struct registry *r;
	line_fn fn;
	decl_line_fn decl_fn; /* instead of fn, when set */
	void *ctx;
	uint8_t *plain;
	int64_t only_person; /* lines_of_person: others are skipped (0: every line) */
};

/* Open a chunk's payload into plain (CHUNK_PLAIN_MAX bytes). */
static enum amana_err open_payload(struct registry *r, const struct store_chunk *c, uint8_t *plain, size_t *plen)
{
	struct crypto_ad ad = { "declaration_lines", "payload", c->declaration_id, c->chunk };
	if (c->line_count <= 0 || c->line_count > STORE_CHUNK_LINES)
		return AMANA_ERR_CORRUPT;
	enum amana_err err =
	    crypto_open(r->keys, &ad, c->payload_sealed.data, c->payload_sealed.len, plain, CHUNK_PLAIN_MAX, plen);
	return err == AMANA_ERR_LIMIT ? AMANA_ERR_CORRUPT : err;
}

/* A varint at p, with at least 10 bytes readable there: no bound checks.
 * Decodes as get_var does. */
static inline uint64_t var_at(const uint8_t **p, bool *bad)
{
	const uint8_t *q = *p;
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b = *q++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*p = q;
			return v;
		}
	}
	*bad = true;
	*p = q;
	return 0;
}

static inline int64_t var_i64(const uint8_t **p, bool *bad)
{
	uint64_t v = var_at(p, bad);
	if (v > INT64_MAX)
		*bad = true;
	return (int64_t)v;
}

#define VAR_MAX 10

/* The next line of an opened chunk: its packed fields from pc, its person
 * from the clear list. False if either is corrupt. A line is decoded
 * without a bound check per byte (it is at most LINE_PACKED_MAX bytes,
 * the varints it may read at most 85): near the end of a buffer, from a
 * zero-padded copy, where reading past the end shows as more used than
 * there was. */
static bool next_line(struct cursor *pc, struct cursor *ids, struct line_rec *l)
{
	uint8_t tail[LINE_PACKED_MAX], id_tail[VAR_MAX];
	const uint8_t *p = pc->p, *q = ids->p;
	if (pc->n < LINE_PACKED_MAX) {
		memset(tail, 0, sizeof(tail));
		memcpy(tail, pc->p, pc->n);
		p = tail;
	}
	if (ids->n < VAR_MAX) {
		memset(id_tail, 0, sizeof(id_tail));
		memcpy(id_tail, ids->p, ids->n);
		q = id_tail;
	}
	const uint8_t *p0 = p, *q0 = q;
	bool bad = pc->bad || ids->bad;
	l->line_no = (uint32_t)var_at(&p, &bad);
	l->kind = (enum line_kind) * p++;
	l->leaves = *p++ & 1;
	uint64_t reg = var_at(&p, &bad);
	l->registration = (uint32_t)reg;
	l->situation = *p++;
	l->days = *p++;
	l->children = *p++;
	l->real_salary = var_i64(&p, &bad);
	l->capped_salary = var_i64(&p, &bad);
	l->af_to_pay = var_i64(&p, &bad);
	l->af_to_deduct = var_i64(&p, &bad);
	l->af_net = var_i64(&p, &bad);
	l->af_give_back = var_i64(&p, &bad);
	uint64_t pid = var_at(&q, &bad);
	l->person_id = (int64_t)pid;
	size_t used = (size_t)(p - p0), id_used = (size_t)(q - q0);
	if (p0 == tail)
		crypto_wipe(tail, sizeof(tail));
	if (bad || used > pc->n || id_used > ids->n) {
		pc->bad = true;
		return false;
	}
	pc->p += used;
	pc->n -= used;
	ids->p += id_used;
	ids->n -= id_used;
	return reg <= UINT32_MAX && pid <= INT64_MAX;
}

/* Past a varint at p, before end; NULL if it does not end there. */
static inline const uint8_t *var_skip(const uint8_t *p, const uint8_t *end)
{
	for (unsigned k = 0; k < VAR_MAX && p < end; k++)
		if (!(*p++ & 0x80))
			return p;
	return NULL;
}

/* Past the next line without decoding it (its fields as next_line reads
 * them). False if it is cut short. */
static bool skip_line(struct cursor *pc, struct cursor *ids)
{
	const uint8_t *end = pc->p + pc->n, *p = var_skip(pc->p, end); /* line_no */
	if (!p || end - p < 2)
		return false;
	p = var_skip(p + 2, end); /* kind, flags; registration */
	if (!p || end - p < 3)
		return false;
	p += 3; /* situation, days, children */
	for (int k = 0; k < 6 && p; k++)
		p = var_skip(p, end); /* the six amounts */
	const uint8_t *q = var_skip(ids->p, ids->p + ids->n);
	if (!p || !q)
		return false;
	pc->n -= (size_t)(p - pc->p);
	pc->p = p;
	ids->n -= (size_t)(q - ids->p);
	ids->p = q;
	return true;
}

static enum amana_err open_chunk(void *vctx, const struct store_chunk *c)
{
	struct each_ctx *e = vctx;
	size_t plen;
	enum amana_err err = open_payload(e->r, c, e->plain, &plen);
	if (err)
		return err;
	struct cursor pc = { e->plain, plen, false };
	struct cursor ids = { c->persons.data, c->persons.len, false };
	for (int64_t i = 0; i < c->line_count && !err; i++) {
		struct line_rec l;
		if (!next_line(&pc, &ids, &l))
			err = AMANA_ERR_CORRUPT;
		else if (e->only_person && l.person_id != e->only_person)
			err = AMANA_OK;
		else
			err = e->decl_fn ? e->decl_fn(e->ctx, c->declaration_id, &l) : e->fn(e->ctx, &l);
		crypto_wipe(&l, sizeof(l));
	}
	if (!err && (pc.n != 0 || ids.n != 0))
		err = AMANA_ERR_CORRUPT;
	crypto_wipe(e->plain, plen);
	return err;
}

enum amana_err lines_each(struct registry *r, int64_t employer_id, int64_t declaration_id, line_fn fn, void *ctx)
{
	/* On the stack: one buffer per call, each chunk wiped as soon as read. */
	uint8_t plain[CHUNK_PLAIN_MAX];
	struct each_ctx e = { r, fn, NULL, ctx, plain, 0 };
	return store_chunks_of(r->store, employer_id, declaration_id, open_chunk, &e);
}

enum amana_err lines_chunk_persons(const struct store_chunk *c, int64_t *ids)
{
	struct cursor pc = { c->persons.data, c->persons.len, false };
	if (c->line_count <= 0 || c->line_count > STORE_CHUNK_LINES)
		return AMANA_ERR_CORRUPT;
	for (int64_t i = 0; i < c->line_count; i++) {
		uint64_t v = get_var(&pc);
		if (v > INT64_MAX)
			pc.bad = true;
		ids[i] = (int64_t)v;
	}
	return pc.bad || pc.n != 0 ? AMANA_ERR_CORRUPT : AMANA_OK;
}

/* Whether a chunk's clear list of persons names person_id. */
static bool chunk_names(const struct store_chunk *c, int64_t person_id)
{
	struct cursor ids = { c->persons.data, c->persons.len, false };
	while (ids.n && !ids.bad)
		if ((int64_t)get_var(&ids) == person_id)
			return true;
	return false;
}

enum amana_err lines_chunk_pay(struct registry *r, const struct store_chunk *c, const uint64_t *take,
			       struct line_pay *out)
{
	uint8_t plain[CHUNK_PLAIN_MAX];
	size_t plen;
	enum amana_err err = open_payload(r, c, plain, &plen);
	if (err)
		return err;
	struct cursor pc = { plain, plen, false };
	struct cursor ids = { c->persons.data, c->persons.len, false };
	struct line_rec l; /* one for the chunk, wiped once */
	for (int64_t i = 0; i < c->line_count && !err; i++) {
		if (take && !(take[i >> 6] >> (i & 63) & 1)) {
			out[i] = (struct line_pay){ 0, 0, 0 };
			if (!skip_line(&pc, &ids))
				err = AMANA_ERR_CORRUPT;
			continue;
		}
		if (!next_line(&pc, &ids, &l))
			err = AMANA_ERR_CORRUPT;
		out[i] = (struct line_pay){ l.person_id, l.real_salary, l.days };
	}
	if (!err && (pc.n != 0 || ids.n != 0))
		err = AMANA_ERR_CORRUPT;
	crypto_wipe(&l, sizeof(l));
	crypto_wipe(plain, plen);
	return err;
}

static enum amana_err open_chunk_of_person(void *vctx, const struct store_chunk *c)
{
	struct each_ctx *e = vctx;
	return chunk_names(c, e->only_person) ? open_chunk(vctx, c) : AMANA_OK;
}

enum amana_err lines_of_person(struct registry *r, int64_t employer_id, int64_t declaration_id, int64_t person_id,
			       line_fn fn, void *ctx)
{
	uint8_t plain[CHUNK_PLAIN_MAX];
	struct each_ctx e = { r, fn, NULL, ctx, plain, person_id };
	return store_chunks_of(r->store, employer_id, declaration_id, open_chunk_of_person, &e);
}

enum amana_err lines_each_many(struct registry *r, const struct store_decl_key *declarations, size_t n, decl_line_fn fn,
			       void *ctx)
{
	return lines_each_many_on(r, r->store, declarations, n, fn, ctx);
}

enum amana_err lines_each_many_on(struct registry *r, struct store *s, const struct store_decl_key *declarations,
				  size_t n, decl_line_fn fn, void *ctx)
{
	uint8_t plain[CHUNK_PLAIN_MAX];
	struct each_ctx e = { r, NULL, fn, ctx, plain, 0 };
	return store_chunks_of_many(s, declarations, n, open_chunk, &e);
}
