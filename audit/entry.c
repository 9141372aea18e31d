/* entry.c - the canonical byte form of an audit entry (see entry.h). */
#include "entry.h"

#include <stdbool.h>
#include <string.h>

#define ENTRY_VERSION 1

void audit_entry_subject(struct audit_entry *e, char kind, int64_t id)
{
	if (e->subjects_total < UINT32_MAX)
		e->subjects_total++;
	if (e->nsubjects < AUDIT_SUBJECTS_MAX) {
		e->subjects[e->nsubjects].kind = kind;
		e->subjects[e->nsubjects].id = id;
		e->nsubjects++;
	}
}

const char *audit_outcome_name(enum audit_outcome o)
{
	switch (o) {
	case AUDIT_ALLOWED: return "allowed";
	case AUDIT_DENIED: return "denied";
	case AUDIT_FAILED: return "failed";
	}
	return "unknown";
}

struct writer {
	uint8_t *p;
	size_t cap, n;
	bool over;
};

static void put(struct writer *w, const void *src, size_t len)
{
	if (w->over || len > w->cap - w->n) {
		w->over = true;
		return;
	}
	memcpy(w->p + w->n, src, len);
	w->n += len;
}

static void put_u64(struct writer *w, uint64_t v, unsigned bytes)
{
	uint8_t b[8];
	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, bytes);
}

static bool clean_text(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static enum amana_err put_str(struct writer *w, const char *s, size_t field_cap)
{
	size_t len = strnlen(s, field_cap);
	if (len >= field_cap || len > 255 || !clean_text(s, len))
		return AMANA_ERR_USAGE;
	uint8_t l = (uint8_t)len;
	put(w, &l, 1);
	put(w, s, len);
	return AMANA_OK;
}

enum amana_err audit_entry_encode(const struct audit_entry *e, uint8_t *out, size_t cap, size_t *len)
{
	struct writer w = { out, cap, 0, false };
	enum amana_err err;
	if (e->outcome > AUDIT_FAILED || e->purpose_len > AUDIT_PURPOSE_SEALED_MAX ||
	    e->nsubjects > AUDIT_SUBJECTS_MAX || e->subjects_total < e->nsubjects)
		return AMANA_ERR_USAGE;
	uint8_t version = ENTRY_VERSION, outcome = (uint8_t)e->outcome;
	put(&w, &version, 1);
	put_u64(&w, (uint64_t)e->time_ms, 8);
	put(&w, &outcome, 1);
	if ((err = put_str(&w, e->principal, sizeof(e->principal))) || (err = put_str(&w, e->role, sizeof(e->role))) ||
	    (err = put_str(&w, e->action, sizeof(e->action))) || (err = put_str(&w, e->reason, sizeof(e->reason))) ||
	    (err = put_str(&w, e->request_id, sizeof(e->request_id))) ||
	    (err = put_str(&w, e->client, sizeof(e->client))))
		return err;
	put_u64(&w, e->purpose_len, 2);
	put(&w, e->purpose_sealed, e->purpose_len);
	put_u64(&w, e->subjects_total, 4);
	uint8_t n = (uint8_t)e->nsubjects;
	put(&w, &n, 1);
	for (unsigned i = 0; i < e->nsubjects; i++) {
		char k = e->subjects[i].kind;
		if (k != AUDIT_SUBJECT_PERSON && k != AUDIT_SUBJECT_EMPLOYER && k != AUDIT_SUBJECT_DECLARATION)
			return AMANA_ERR_USAGE;
		uint8_t kb = (uint8_t)k;
		put(&w, &kb, 1);
		put_u64(&w, (uint64_t)e->subjects[i].id, 8);
	}
	if (w.over)
		return AMANA_ERR_LIMIT;
	*len = w.n;
	return AMANA_OK;
}

struct reader {
	const uint8_t *p;
	size_t n;
	bool bad;
};

static const uint8_t *take(struct reader *r, size_t len)
{
	if (r->bad || len > r->n) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *p = r->p;
	r->p += len;
	r->n -= len;
	return p;
}

static uint64_t get_u64(struct reader *r, unsigned bytes)
{
	const uint8_t *p = take(r, bytes);
	uint64_t v = 0;
	if (p)
		for (unsigned i = 0; i < bytes; i++)
			v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void get_str(struct reader *r, char *out, size_t cap)
{
	const uint8_t *lp = take(r, 1);
	size_t len = lp ? *lp : 0;
	const uint8_t *p = take(r, len);
	if (!p || len >= cap || !clean_text((const char *)p, len)) {
		r->bad = true;
		out[0] = 0;
		return;
	}
	memcpy(out, p, len);
	out[len] = 0;
}

enum amana_err audit_entry_decode(const uint8_t *in, size_t len, struct audit_entry *e)
{
	struct reader r = { in, len, false };
	memset(e, 0, sizeof(*e));
	const uint8_t *v = take(&r, 1);
	if (!v || *v != ENTRY_VERSION)
		return AMANA_ERR_CORRUPT;
	e->time_ms = (int64_t)get_u64(&r, 8);
	uint64_t outcome = get_u64(&r, 1);
	if (outcome > AUDIT_FAILED)
		r.bad = true;
	e->outcome = (enum audit_outcome)outcome;
	get_str(&r, e->principal, sizeof(e->principal));
	get_str(&r, e->role, sizeof(e->role));
	get_str(&r, e->action, sizeof(e->action));
	get_str(&r, e->reason, sizeof(e->reason));
	get_str(&r, e->request_id, sizeof(e->request_id));
	get_str(&r, e->client, sizeof(e->client));
	size_t plen = (size_t)get_u64(&r, 2);
	if (plen > AUDIT_PURPOSE_SEALED_MAX)
		r.bad = true;
	const uint8_t *pp = take(&r, r.bad ? 0 : plen);
	if (pp && plen) {
		memcpy(e->purpose_sealed, pp, plen);
		e->purpose_len = plen;
	}
	e->subjects_total = (uint32_t)get_u64(&r, 4);
	unsigned n = (unsigned)get_u64(&r, 1);
	if (n > AUDIT_SUBJECTS_MAX || n > e->subjects_total)
		r.bad = true;
	for (unsigned i = 0; i < n && !r.bad; i++) {
		const uint8_t *k = take(&r, 1);
		char kind = k ? (char)*k : 0;
		if (kind != AUDIT_SUBJECT_PERSON && kind != AUDIT_SUBJECT_EMPLOYER && kind != AUDIT_SUBJECT_DECLARATION)
			r.bad = true;
		e->subjects[i].kind = kind;
		e->subjects[i].id = (int64_t)get_u64(&r, 8);
	}
	e->nsubjects = r.bad ? 0 : n;
	if (r.bad || r.n != 0)
		return AMANA_ERR_CORRUPT;
	return AMANA_OK;
}
