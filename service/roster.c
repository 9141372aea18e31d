/* roster.c - see roster.h. */
#include "roster.h"

#include "lines.h"

#include <stdlib.h>
#include <string.h>

void roster_init(struct roster *ro)
{
	memset(ro, 0, sizeof(*ro));
	idmap_init(&ro->by_person);
	idmap_init(&ro->by_reg);
}

void roster_free(struct roster *ro)
{
	if (ro->v)
		crypto_wipe(ro->v, ro->cap * sizeof(*ro->v));
	free(ro->v);
	idmap_free(&ro->by_person);
	idmap_free(&ro->by_reg);
	roster_init(ro);
}

struct load_ctx {
	struct registry *r;
	struct roster *ro;
};

static enum amana_err grow(struct roster *ro)
{
	size_t ncap = ro->cap ? ro->cap * 2 : 256;
	struct roster_person *nv = calloc(ncap, sizeof(*nv));
	if (!nv)
		return AMANA_ERR_NOMEM;
	if (ro->v) {
		memcpy(nv, ro->v, ro->n * sizeof(*nv));
		crypto_wipe(ro->v, ro->cap * sizeof(*ro->v));
		free(ro->v);
	}
	ro->v = nv;
	ro->cap = ncap;
	return AMANA_OK;
}

void roster_begin(struct roster *ro, uint32_t from_period)
{
	if (ro->n)
		crypto_wipe(ro->v, ro->n * sizeof(*ro->v));
	ro->n = 0;
	ro->from_period = from_period;
	idmap_reset(&ro->by_person);
	idmap_reset(&ro->by_reg);
}

/* One line of an earlier declaration: it carries the registration number
 * as declared, so the list is read from the lines alone, in order, with no
 * lookup of the person. */
enum amana_err roster_add(struct roster *ro, int64_t person_id, uint32_t registration, bool leaves)
{
	uint32_t idx;
	if (!person_id)
		return AMANA_OK; /* occasional labour: nobody to expect */
	if (idmap_get(&ro->by_person, person_id, &idx)) {
		/* A person named twice (main and complementary): once on the list,
		 * and gone if any of the lines says so. */
		if (leaves)
			ro->v[idx].leaves = true;
		return AMANA_OK;
	}
	enum amana_err err;
	if (ro->n == ro->cap && (err = grow(ro)))
		return err;
	struct roster_person *p = &ro->v[ro->n];
	memset(p, 0, sizeof(*p));
	p->person_id = person_id;
	p->leaves = leaves;
	p->registration = registration;
	if ((err = idmap_put(&ro->by_person, person_id, (uint32_t)ro->n)))
		return err;
	ro->n++;
	return AMANA_OK;
}

static enum amana_err add_line(void *vctx, const struct line_rec *l)
{
	struct load_ctx *c = vctx;
	return roster_add(c->ro, l->person_id, l->registration, l->leaves);
}

struct decl_list {
	int64_t ids[10];
	unsigned n;
};

static enum amana_err note_declaration(void *ctx, const struct store_declaration *d)
{
	struct decl_list *dl = ctx;
	if (dl->n < sizeof(dl->ids) / sizeof(dl->ids[0]))
		dl->ids[dl->n++] = d->id;
	return AMANA_OK;
}

struct identity_ctx {
	struct registry *r;
	struct roster_person *p;
};

static enum amana_err take_identity(void *vctx, const struct store_person *sp)
{
	struct identity_ctx *c = vctx;
	struct identity_rec idr;
	enum amana_err err = open_identity(c->r, sp->id, &sp->identity_sealed, &idr);
	if (!err) {
		memcpy(c->p->name, idr.name, sizeof(c->p->name));
		c->p->children = idr.children;
	}
	crypto_wipe(&idr, sizeof(idr));
	return err;
}

enum amana_err roster_load_from(struct registry *r, int64_t employer_id, const int64_t *declaration_ids, unsigned count,
				uint32_t from_period, bool with_identity, struct roster *ro)
{
	roster_begin(ro, from_period);
	struct load_ctx c = { r, ro };
	enum amana_err err;
	for (unsigned i = 0; i < count; i++)
		if ((err = lines_each(r, employer_id, declaration_ids[i], add_line, &c)))
			return err;
	return roster_finish(r, ro, with_identity);
}

enum amana_err roster_finish(struct registry *r, struct roster *ro, bool with_identity)
{
	enum amana_err err;
	/* Drop leavers, keep order, index what is left. */
	size_t w = 0;
	idmap_reset(&ro->by_person);
	for (size_t i = 0; i < ro->n; i++) {
		if (ro->v[i].leaves)
			continue;
		if (w != i)
			ro->v[w] = ro->v[i];
		if ((err = idmap_put(&ro->by_person, ro->v[w].person_id, (uint32_t)w)) ||
		    (err = idmap_put(&ro->by_reg, ro->v[w].registration, (uint32_t)w)))
			return err;
		if (with_identity) {
			struct identity_ctx ic = { r, &ro->v[w] };
			if ((err = store_person_get(r->store, ro->v[w].person_id, take_identity, &ic)))
				return err;
		}
		w++;
	}
	if (w < ro->n)
		crypto_wipe(ro->v + w, (ro->n - w) * sizeof(*ro->v));
	ro->n = w;
	return AMANA_OK;
}

enum amana_err roster_load(struct registry *r, int64_t employer_id, uint32_t period, bool with_identity,
			   struct roster *ro)
{
	uint32_t q;
	enum amana_err err = store_last_period_before(r->store, employer_id, period, &q);
	if (err == AMANA_ERR_NOTFOUND) {
		ro->n = 0;
		ro->from_period = 0;
		return AMANA_OK; /* a first declaration: nobody is expected */
	}
	if (err)
		return err;
	/* The main declaration first, then the complementary ones (by seq). */
	struct decl_list dl = { .n = 0 };
	if ((err = store_declarations_of(r->store, employer_id, q, note_declaration, &dl)))
		return err;
	return roster_load_from(r, employer_id, dl.ids, dl.n, q, with_identity, ro);
}
