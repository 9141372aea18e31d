/*
 * records.c - the plaintext layouts of sealed values, and finding rows by
 * blind index.
 *
 * A sealed record's plaintext starts with a layout version byte, then fixed
 * little-endian integers and length-prefixed strings. Plaintext buffers are
 * wiped before they leave scope.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "core/text.h"

#define REC_V1 1
#define PLAIN_MAX (SEALED_MAX - CRYPTO_SEAL_OVERHEAD)

struct packer {
	uint8_t buf[PLAIN_MAX];
	size_t n;
	bool overflow;
};

static void put_bytes(struct packer *p, const void *d, size_t n)
{
	if (p->n + n > sizeof(p->buf)) {
		p->overflow = true;
		return;
	}
	memcpy(p->buf + p->n, d, n);
	p->n += n;
}

static void put_u8(struct packer *p, unsigned v)
{
	uint8_t b = (uint8_t)v;
	put_bytes(p, &b, 1);
}

static void put_u64(struct packer *p, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put_bytes(p, b, 8);
}

static void put_str(struct packer *p, const char *s)
{
	size_t n = strlen(s);
	if (n > 255) {
		p->overflow = true;
		return;
	}
	put_u8(p, (unsigned)n);
	put_bytes(p, s, n);
}

struct reader {
	const uint8_t *p;
	size_t n;
	bool bad;
};

static unsigned get_u8(struct reader *r)
{
	if (r->n < 1) {
		r->bad = true;
		return 0;
	}
	r->n--;
	return *r->p++;
}

static uint64_t get_u64(struct reader *r)
{
	if (r->n < 8) {
		r->bad = true;
		return 0;
	}
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += 8;
	r->n -= 8;
	return v;
}

static void get_str(struct reader *r, char *out, size_t cap)
{
	size_t n = get_u8(r);
	if (r->bad || n > r->n || n >= cap) {
		r->bad = true;
		out[0] = '\0';
		return;
	}
	memcpy(out, r->p, n);
	out[n] = '\0';
	r->p += n;
	r->n -= n;
}

static enum amana_err seal_packed(struct registry *r, enum crypto_purpose purpose, const char *table,
				  const char *column, int64_t row, int64_t sub, struct packer *p,
				  uint8_t out[SEALED_MAX], size_t *len)
{
	enum amana_err err = AMANA_ERR_LIMIT;
	if (!p->overflow) {
		struct crypto_ad ad = { table, column, row, sub };
		err = crypto_seal(r->keys, purpose, &ad, p->buf, p->n, out, SEALED_MAX, len);
	}
	crypto_wipe(p->buf, p->n);
	return err;
}

/* Open into a plaintext buffer the caller wipes. */
static enum amana_err open_raw(struct registry *r, const char *table, const char *column, int64_t row, int64_t sub,
			       const struct store_blob *b, uint8_t plain[PLAIN_MAX], size_t *n)
{
	struct crypto_ad ad = { table, column, row, sub };
	if (b->len < CRYPTO_SEAL_OVERHEAD || b->len > SEALED_MAX)
		return AMANA_ERR_CORRUPT;
	return crypto_open(r->keys, &ad, b->data, b->len, plain, PLAIN_MAX, n);
}

enum amana_err seal_u32(struct registry *r, const char *table, const char *column, int64_t row, uint32_t v,
			uint8_t out[SEALED_MAX], size_t *len)
{
	struct packer p = { .n = 0 };
	put_u8(&p, REC_V1);
	put_u64(&p, v);
	return seal_packed(r, CRYPTO_PURPOSE_IDENTITY, table, column, row, 0, &p, out, len);
}

enum amana_err open_u32(struct registry *r, const char *table, const char *column, int64_t row,
			const struct store_blob *b, uint32_t *v)
{
	uint8_t plain[PLAIN_MAX];
	size_t n = 0; /* set by a successful open only (a failed one wipes plain) */
	enum amana_err err = open_raw(r, table, column, row, 0, b, plain, &n);
	if (!err) {
		struct reader rd = { plain, n, false };
		unsigned ver = get_u8(&rd);
		uint64_t x = get_u64(&rd);
		if (rd.bad || ver != REC_V1 || x > UINT32_MAX)
			err = AMANA_ERR_CORRUPT;
		else
			*v = (uint32_t)x;
	}
	crypto_wipe(plain, n);
	return err;
}

enum amana_err seal_text(struct registry *r, const char *table, const char *column, int64_t row, const char *s,
			 uint8_t out[SEALED_MAX], size_t *len)
{
	struct packer p = { .n = 0 };
	put_u8(&p, REC_V1);
	put_str(&p, s);
	return seal_packed(r, CRYPTO_PURPOSE_IDENTITY, table, column, row, 0, &p, out, len);
}

enum amana_err open_text(struct registry *r, const char *table, const char *column, int64_t row,
			 const struct store_blob *b, char *out, size_t cap)
{
	uint8_t plain[PLAIN_MAX];
	size_t n = 0; /* set by a successful open only (a failed one wipes plain) */
	enum amana_err err = open_raw(r, table, column, row, 0, b, plain, &n);
	if (!err) {
		struct reader rd = { plain, n, false };
		if (get_u8(&rd) != REC_V1)
			rd.bad = true;
		get_str(&rd, out, cap);
		if (rd.bad)
			err = AMANA_ERR_CORRUPT;
	}
	crypto_wipe(plain, n);
	return err;
}

enum amana_err seal_identity(struct registry *r, int64_t person_id, const struct identity_rec *in,
			     uint8_t out[SEALED_MAX], size_t *len)
{
	struct packer p = { .n = 0 };
	put_u8(&p, REC_V1);
	put_str(&p, in->name);
	put_u64(&p, in->birth_date);
	put_u8(&p, in->children);
	return seal_packed(r, CRYPTO_PURPOSE_IDENTITY, "persons", "identity", person_id, 0, &p, out, len);
}

enum amana_err open_identity(struct registry *r, int64_t person_id, const struct store_blob *b,
			     struct identity_rec *out)
{
	uint8_t plain[PLAIN_MAX];
	size_t n = 0; /* set by a successful open only (a failed one wipes plain) */
	enum amana_err err = open_raw(r, "persons", "identity", person_id, 0, b, plain, &n);
	if (!err) {
		struct reader rd = { plain, n, false };
		if (get_u8(&rd) != REC_V1)
			rd.bad = true;
		get_str(&rd, out->name, sizeof(out->name));
		out->birth_date = (uint32_t)get_u64(&rd);
		out->children = get_u8(&rd);
		if (rd.bad)
			err = AMANA_ERR_CORRUPT;
	}
	crypto_wipe(plain, n);
	return err;
}

enum amana_err seal_profile(struct registry *r, int64_t employer_id, const struct profile_rec *in,
			    uint8_t out[SEALED_MAX], size_t *len)
{
	struct packer p = { .n = 0 };
	put_u8(&p, REC_V1);
	put_str(&p, in->name);
	put_str(&p, in->ice);
	put_str(&p, in->activity);
	put_str(&p, in->address);
	put_str(&p, in->city);
	put_str(&p, in->postcode);
	return seal_packed(r, CRYPTO_PURPOSE_IDENTITY, "employers", "profile", employer_id, 0, &p, out, len);
}

enum amana_err open_profile(struct registry *r, int64_t employer_id, const struct store_blob *b,
			    struct profile_rec *out)
{
	uint8_t plain[PLAIN_MAX];
	size_t n = 0; /* set by a successful open only (a failed one wipes plain) */
	enum amana_err err = open_raw(r, "employers", "profile", employer_id, 0, b, plain, &n);
	if (!err) {
		struct reader rd = { plain, n, false };
		if (get_u8(&rd) != REC_V1)
			rd.bad = true;
		get_str(&rd, out->name, sizeof(out->name));
		get_str(&rd, out->ice, sizeof(out->ice));
		get_str(&rd, out->activity, sizeof(out->activity));
		get_str(&rd, out->address, sizeof(out->address));
		get_str(&rd, out->city, sizeof(out->city));
		get_str(&rd, out->postcode, sizeof(out->postcode));
		if (rd.bad)
			err = AMANA_ERR_CORRUPT;
	}
	crypto_wipe(plain, n);
	return err;
}

enum amana_err seal_totals(struct registry *r, int64_t declaration_id, const struct totals_rec *in,
			   uint8_t out[SEALED_MAX], size_t *len)
{
	struct packer p = { .n = 0 };
	put_u8(&p, REC_V1);
	const int64_t *f[] = { &in->employees, &in->children,     &in->days,   &in->real_salaries, &in->capped_salaries,
			       &in->af_to_pay, &in->af_to_deduct, &in->af_net, &in->af_give_back };
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		put_u64(&p, (uint64_t)*f[i]);
	return seal_packed(r, CRYPTO_PURPOSE_MONEY, "declarations", "totals", declaration_id, 0, &p, out, len);
}

enum amana_err open_totals(struct registry *r, int64_t declaration_id, const struct store_blob *b,
			   struct totals_rec *out)
{
	uint8_t plain[PLAIN_MAX];
	size_t n = 0; /* set by a successful open only (a failed one wipes plain) */
	enum amana_err err = open_raw(r, "declarations", "totals", declaration_id, 0, b, plain, &n);
	if (!err) {
		struct reader rd = { plain, n, false };
		if (get_u8(&rd) != REC_V1)
			rd.bad = true;
		int64_t *f[] = { &out->employees,     &out->children,        &out->days,
				 &out->real_salaries, &out->capped_salaries, &out->af_to_pay,
				 &out->af_to_deduct,  &out->af_net,          &out->af_give_back };
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
			*f[i] = (int64_t)get_u64(&rd);
		if (rd.bad)
			err = AMANA_ERR_CORRUPT;
	}
	crypto_wipe(plain, n);
	return err;
}

enum amana_err seal_account(struct registry *r, int64_t account_id, const struct account_rec *in,
			    uint8_t out[SEALED_MAX], size_t *len)
{
	struct packer p = { .n = 0 };
	put_u8(&p, REC_V1);
	put_str(&p, in->password_hash);
	put_u8(&p, in->has_totp);
	if (in->has_totp)
		put_bytes(&p, in->totp, sizeof(in->totp));
	put_u64(&p, in->person);
	if (in->n_employers > ACCOUNT_EMPLOYERS_MAX)
		p.overflow = true;
	put_u8(&p, in->n_employers);
	for (unsigned i = 0; i < in->n_employers && i < ACCOUNT_EMPLOYERS_MAX; i++)
		put_u64(&p, in->employers[i]);
	return seal_packed(r, CRYPTO_PURPOSE_IDENTITY, "accounts", "secrets", account_id, 0, &p, out, len);
}

enum amana_err open_account(struct registry *r, int64_t account_id, const struct store_blob *b, struct account_rec *out)
{
	uint8_t plain[PLAIN_MAX];
	size_t n = 0; /* set by a successful open only (a failed one wipes plain) */
	memset(out, 0, sizeof(*out));
	enum amana_err err = open_raw(r, "accounts", "secrets", account_id, 0, b, plain, &n);
	if (!err) {
		struct reader rd = { plain, n, false };
		if (get_u8(&rd) != REC_V1)
			rd.bad = true;
		get_str(&rd, out->password_hash, sizeof(out->password_hash));
		out->has_totp = get_u8(&rd) != 0;
		for (size_t i = 0; out->has_totp && i < sizeof(out->totp); i++)
			out->totp[i] = (uint8_t)get_u8(&rd);
		uint64_t person = get_u64(&rd);
		out->n_employers = get_u8(&rd);
		if (person > UINT32_MAX || out->n_employers > ACCOUNT_EMPLOYERS_MAX)
			rd.bad = true;
		out->person = (uint32_t)person;
		for (unsigned i = 0; !rd.bad && i < out->n_employers; i++) {
			uint64_t aff = get_u64(&rd);
			if (aff > UINT32_MAX)
				rd.bad = true;
			out->employers[i] = (uint32_t)aff;
		}
		if (rd.bad || rd.n != 0)
			err = AMANA_ERR_CORRUPT;
	}
	crypto_wipe(plain, n);
	if (err)
		crypto_wipe(out, sizeof(*out));
	return err;
}

/* ---- blind indexes ---- */

int64_t bidx_affiliation(struct registry *r, uint32_t aff)
{
	char s[16];
	int n = snprintf(s, sizeof(s), "%07u", aff);
	return (int64_t)crypto_bidx(&r->bx_aff, s, (size_t)n);
}

int64_t bidx_login(struct registry *r, const char *login)
{
	return (int64_t)crypto_bidx(&r->bx_login, login, strlen(login));
}

int64_t bidx_registration(struct registry *r, uint32_t reg)
{
	char s[16];
	int n = snprintf(s, sizeof(s), "%09u", reg);
	return (int64_t)crypto_bidx(&r->bx_reg, s, (size_t)n);
}

int64_t bidx_cin(struct registry *r, const char *cin)
{
	return (int64_t)crypto_bidx(&r->bx_cin, cin, strlen(cin));
}

int64_t bidx_name(struct registry *r, const char *normalized_name)
{
	return (int64_t)crypto_bidx(&r->bx_name, normalized_name, strlen(normalized_name));
}

/* ---- finding rows ---- */

struct find_ctx {
	struct registry *r;
	uint32_t want_u32;
	const char *want_text;
	int64_t id;
	uint32_t reg;
	struct person_keys keys; /* of the person found */
	bool found;
};

static enum amana_err match_employer(void *vctx, const struct store_employer *e)
{
	struct find_ctx *c = vctx;
	uint32_t aff;
	enum amana_err err = open_u32(c->r, "employers", "affiliation", e->id, &e->aff_sealed, &aff);
	if (err)
		return err;
	if (aff == c->want_u32) {
		c->id = e->id;
		c->found = true;
		return AMANA_ERR_EXISTS; /* stop: found */
	}
	return AMANA_OK;
}

enum amana_err find_employer(struct registry *r, uint32_t aff, int64_t *id)
{
	return find_employer_on(r, r->store, aff, id);
}

enum amana_err find_employer_on(struct registry *r, struct store *s, uint32_t aff, int64_t *id)
{
	struct find_ctx c = { .r = r, .want_u32 = aff };
	enum amana_err err = store_employer_by_bidx(s, bidx_affiliation(r, aff), match_employer, &c);
	if (c.found) {
		*id = c.id;
		return AMANA_OK;
	}
	return err ? err : AMANA_ERR_NOTFOUND;
}

static enum amana_err match_reg(void *vctx, const struct store_person *p)
{
	struct find_ctx *c = vctx;
	uint32_t reg;
	enum amana_err err = open_u32(c->r, "persons", "registration", p->id, &p->reg_sealed, &reg);
	if (err)
		return err;
	if (reg == c->want_u32) {
		c->id = p->id;
		c->keys.name_bidx = p->name_bidx;
		c->keys.cin_bidx = p->cin_bidx;
		c->found = true;
		return AMANA_ERR_EXISTS;
	}
	return AMANA_OK;
}

struct keep_ctx {
	struct find_ctx f;
	struct person_sealed *out;
};

static enum amana_err match_reg_keep(void *vctx, const struct store_person *p)
{
	struct keep_ctx *c = vctx;
	enum amana_err err = match_reg(&c->f, p);
	if (err != AMANA_ERR_EXISTS)
		return err;
	struct person_sealed *o = c->out;
	if (p->identity_sealed.len > sizeof(o->identity) || p->cin_sealed.len > sizeof(o->cin))
		return AMANA_ERR_CORRUPT;
	memcpy(o->identity, p->identity_sealed.data, p->identity_sealed.len);
	o->identity_len = p->identity_sealed.len;
	memcpy(o->cin, p->cin_sealed.data, p->cin_sealed.len);
	o->cin_len = p->cin_sealed.len;
	o->created_at = p->created_at;
	return AMANA_ERR_EXISTS;
}

enum amana_err find_person_sealed(struct registry *r, uint32_t reg, int64_t *id, struct person_sealed *out)
{
	struct keep_ctx c = { .f = { .r = r, .want_u32 = reg }, .out = out };
	enum amana_err err = store_person_by_reg(r->store, bidx_registration(r, reg), match_reg_keep, &c);
	/* match_reg marks the row found before the sealed fields are checked
	 * for size: only EXISTS says they were copied. */
	if (c.f.found && err == AMANA_ERR_EXISTS) {
		*id = c.f.id;
		return AMANA_OK;
	}
	if (c.f.found && !err)
		return AMANA_ERR_CORRUPT; /* a backend that swallowed the stop */
	return err && err != AMANA_ERR_EXISTS ? err : AMANA_ERR_NOTFOUND;
}

enum amana_err find_person_by_reg(struct registry *r, uint32_t reg, int64_t *id)
{
	return find_person_by_reg_keys(r, reg, id, NULL);
}

enum amana_err find_person_by_reg_keys(struct registry *r, uint32_t reg, int64_t *id, struct person_keys *keys)
{
	struct find_ctx c = { .r = r, .want_u32 = reg };
	enum amana_err err = store_person_by_reg(r->store, bidx_registration(r, reg), match_reg, &c);
	if (c.found) {
		*id = c.id;
		if (keys)
			*keys = c.keys;
		return AMANA_OK;
	}
	return err ? err : AMANA_ERR_NOTFOUND;
}

static enum amana_err match_cin(void *vctx, const struct store_person *p)
{
	struct find_ctx *c = vctx;
	char cin[16];
	enum amana_err err = open_text(c->r, "persons", "cin", p->id, &p->cin_sealed, cin, sizeof(cin));
	if (err)
		return err;
	bool same = strcmp(cin, c->want_text) == 0;
	crypto_wipe(cin, sizeof(cin));
	if (same) {
		err = open_u32(c->r, "persons", "registration", p->id, &p->reg_sealed, &c->reg);
		if (err)
			return err;
		c->id = p->id;
		c->keys.name_bidx = p->name_bidx;
		c->keys.cin_bidx = p->cin_bidx;
		c->found = true;
		return AMANA_ERR_EXISTS;
	}
	return AMANA_OK;
}

enum amana_err find_person_by_cin(struct registry *r, const char *cin, int64_t *id, uint32_t *reg)
{
	return find_person_by_cin_on(r, r->store, cin, id, reg, NULL);
}

enum amana_err find_person_by_cin_on(struct registry *r, struct store *s, const char *cin, int64_t *id, uint32_t *reg,
				     struct person_keys *keys)
{
	struct find_ctx c = { .r = r, .want_text = cin };
	enum amana_err err = store_person_by_cin(s, bidx_cin(r, cin), match_cin, &c);
	if (c.found) {
		*id = c.id;
		if (reg)
			*reg = c.reg;
		if (keys)
			*keys = c.keys;
		return AMANA_OK;
	}
	return err ? err : AMANA_ERR_NOTFOUND;
}

struct aff_ctx {
	struct registry *r;
	uint32_t aff;
	bool found;
};

static enum amana_err aff_cb(void *vctx, const struct store_employer *e)
{
	struct aff_ctx *c = vctx;
	c->found = true;
	return open_u32(c->r, "employers", "affiliation", e->id, &e->aff_sealed, &c->aff);
}

enum amana_err employer_affiliation(struct registry *r, int64_t employer_id, uint32_t *aff)
{
	if (r->guard && affiliation_cached(r, employer_id, aff))
		return AMANA_OK;
	struct aff_ctx c = { r, 0, false };
	enum amana_err err = store_employer_get(r->store, employer_id, aff_cb, &c);
	if (err)
		return err;
	if (!c.found)
		return AMANA_ERR_CORRUPT; /* an employment names a missing employer */
	*aff = c.aff;
	if (r->guard)
		affiliation_keep(r, employer_id, c.aff);
	return AMANA_OK;
}

/* ---- creating rows ---- */

enum amana_err person_create(struct registry *r, const char *cin, const char *name, uint32_t birth_date,
			     unsigned children, int64_t now, int64_t *id, uint32_t *reg)
{
	int64_t existing;
	enum amana_err err = find_person_by_cin(r, cin, &existing, NULL);
	if (err == AMANA_OK)
		return AMANA_ERR_EXISTS;
	if (err != AMANA_ERR_NOTFOUND)
		return err;
	return person_create_looked_up(r, cin, name, birth_date, children, now, id, reg);
}

enum amana_err person_create_looked_up(struct registry *r, const char *cin, const char *name, uint32_t birth_date,
				       unsigned children, int64_t now, int64_t *id, uint32_t *reg)
{
	enum amana_err err;
	int64_t serial, pid;
	if ((err = store_next_ids(r->store, "registration", 1, &serial)) ||
	    (err = store_next_ids(r->store, "persons", 1, &pid)))
		return err;
	if (serial > (int64_t)REGISTRATION_SERIAL_MAX)
		return AMANA_ERR_LIMIT;
	uint32_t number = registration_make((uint32_t)serial);

	struct identity_rec idr = { .birth_date = birth_date, .children = children };
	snprintf(idr.name, sizeof(idr.name), "%s", name);
	uint8_t reg_s[SEALED_MAX], cin_s[SEALED_MAX], id_s[SEALED_MAX];
	size_t reg_n, cin_n, id_n;
	if ((err = seal_u32(r, "persons", "registration", pid, number, reg_s, &reg_n)) ||
	    (err = seal_text(r, "persons", "cin", pid, cin, cin_s, &cin_n)) ||
	    (err = seal_identity(r, pid, &idr, id_s, &id_n))) {
		crypto_wipe(&idr, sizeof(idr));
		return err;
	}
	struct store_person p = {
		.id = pid,
		.reg_bidx = bidx_registration(r, number),
		.reg_sealed = { reg_s, reg_n },
		.cin_bidx = bidx_cin(r, cin),
		.cin_sealed = { cin_s, cin_n },
		.name_bidx = bidx_name(r, idr.name),
		.identity_sealed = { id_s, id_n },
		.created_at = now,
	};
	crypto_wipe(&idr, sizeof(idr));
	if ((err = store_person_insert(r->store, &p)))
		return err;
	*id = pid;
	*reg = number;
	return AMANA_OK;
}

enum amana_err employer_create(struct registry *r, uint32_t aff, const struct profile_rec *prof, int64_t now,
			       int64_t *id)
{
	int64_t existing, eid;
	enum amana_err err = find_employer(r, aff, &existing);
	if (err == AMANA_OK)
		return AMANA_ERR_EXISTS;
	if (err != AMANA_ERR_NOTFOUND)
		return err;
	if ((err = store_next_ids(r->store, "employers", 1, &eid)))
		return err;
	uint8_t aff_s[SEALED_MAX], prof_s[SEALED_MAX];
	size_t aff_n, prof_n;
	if ((err = seal_u32(r, "employers", "affiliation", eid, aff, aff_s, &aff_n)) ||
	    (err = seal_profile(r, eid, prof, prof_s, &prof_n)))
		return err;
	struct store_employer e = {
		.id = eid,
		.aff_bidx = bidx_affiliation(r, aff),
		.aff_sealed = { aff_s, aff_n },
		.profile_sealed = { prof_s, prof_n },
		.created_at = now,
	};
	if ((err = store_employer_insert(r->store, &e)))
		return err;
	*id = eid;
	return AMANA_OK;
}

enum amana_err family_allowance(const struct rules *rules, uint32_t period, unsigned children, int64_t *amount)
{
	/* the rights engine's schedule: the same figures as the payment run */
	return rights_family_allowance_schedule(
	    rules, period, children > RIGHTS_MAX_CHILDREN ? RIGHTS_MAX_CHILDREN : children, amount);
}
