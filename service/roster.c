/* roster.c - see roster.h. */
#include "roster.h"

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
	bool with_identity;
};

static enum amana_err add_line(void *vctx, const struct store_roster_entry *e)
{
	struct load_ctx *c = vctx;
	struct roster *ro = c->ro;
	uint32_t idx;
	if (idmap_get(&ro->by_person, e->person_id, &idx)) {
		/* A person named twice (main and complementary): once on the list,
		 * and gone if any of the lines says so. */
		if (e->leaves)
			ro->v[idx].leaves = true;
		return AMANA_OK;
	}
	if (ro->n == ro->cap) {
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
	}
	struct roster_person *p = &ro->v[ro->n];
	memset(p, 0, sizeof(*p));
	p->person_id = e->person_id;
	p->leaves = e->leaves != 0;
	enum amana_err err = open_u32(c->r, "persons", "registration", e->person_id, &e->reg_sealed,
				      &p->registration);
	if (!err && c->with_identity) {
		struct identity_rec idr;
		err = open_identity(c->r, e->person_id, &e->identity_sealed, &idr);
		if (!err) {
			memcpy(p->name, idr.name, sizeof(p->name));
			p->children = idr.children;
		}
		crypto_wipe(&idr, sizeof(idr));
	}
	if (err)
		return err;
	if ((err = idmap_put(&ro->by_person, e->person_id, (uint32_t)ro->n)))
		return err;
	ro->n++;
	return AMANA_OK;
}

enum amana_err roster_load(struct registry *r, int64_t employer_id, uint32_t period, bool with_identity,
			   struct roster *ro)
{
	ro->n = 0;
	ro->from_period = 0;
	idmap_reset(&ro->by_person);
	idmap_reset(&ro->by_reg);
	uint32_t q;
	enum amana_err err = store_last_period_before(r->store, employer_id, period, &q);
	if (err == AMANA_ERR_NOTFOUND)
		return AMANA_OK; /* a first declaration: nobody is expected */
	if (err)
		return err;
	ro->from_period = q;
	struct load_ctx c = { r, ro, with_identity };
	if ((err = store_roster(r->store, employer_id, q, add_line, &c)))
		return err;
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
		w++;
	}
	if (w < ro->n)
		crypto_wipe(ro->v + w, (ro->n - w) * sizeof(*ro->v));
	ro->n = w;
	return AMANA_OK;
}
