/* merkle.c - RFC 9162 Merkle tree hashing, proofs and verification (see merkle.h). */
#include "merkle.h"

#include <sodium.h>
#include <string.h>

void merkle_leaf_hash(const void *entry, size_t len, merkle_hash out)
{
	crypto_hash_sha256_state st;
	static const uint8_t prefix = 0x00;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, entry, len);
	crypto_hash_sha256_final(&st, out);
}

void merkle_node_hash(const merkle_hash left, const merkle_hash right, merkle_hash out)
{
	uint8_t buf[1 + 2 * MERKLE_HASH_BYTES];
	buf[0] = 0x01;
	memcpy(buf + 1, left, MERKLE_HASH_BYTES);
	memcpy(buf + 1 + MERKLE_HASH_BYTES, right, MERKLE_HASH_BYTES);
	crypto_hash_sha256(out, buf, sizeof(buf));
}

void merkle_empty_root(merkle_hash out)
{
	crypto_hash_sha256(out, (const unsigned char *)"", 0);
}

static unsigned popcount64(uint64_t v)
{
	return (unsigned)__builtin_popcountll(v);
}

static unsigned ctz64(uint64_t v)
{
	return (unsigned)__builtin_ctzll(v);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* The largest power of two smaller than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	return k;
}

/* ---- appending ---- */

void merkle_frontier_init(struct merkle_frontier *f)
{
	memset(f, 0, sizeof(*f));
}

enum amana_err merkle_frontier_append(struct merkle_frontier *f, const merkle_hash leaf, merkle_done_fn done, void *ctx)
{
	if (f->size == UINT64_MAX)
		return AMANA_ERR_LIMIT;
	merkle_hash cur;
	memcpy(cur, leaf, MERKLE_HASH_BYTES);
	uint64_t index = f->size;
	enum amana_err err;
	if (done && (err = done(ctx, 0, index, cur)))
		return err;
	/* Each set low bit of size is a complete subtree the new leaf closes. */
	unsigned level = 0;
	while (f->size & ((uint64_t)1 << level)) {
		merkle_node_hash(f->h[level], cur, cur);
		level++;
		index >>= 1;
		if (done && (err = done(ctx, level, index, cur)))
			return err;
	}
	memcpy(f->h[level], cur, MERKLE_HASH_BYTES);
	f->size++;
	return AMANA_OK;
}

void merkle_frontier_root(const struct merkle_frontier *f, merkle_hash out)
{
	if (f->size == 0) {
		merkle_empty_root(out);
		return;
	}
	/* Fold from the smallest subtree (rightmost) to the largest. */
	unsigned level = ctz64(f->size);
	merkle_hash acc;
	memcpy(acc, f->h[level], MERKLE_HASH_BYTES);
	for (level++; level < 64; level++)
		if (f->size & ((uint64_t)1 << level))
			merkle_node_hash(f->h[level], acc, acc);
	memcpy(out, acc, MERKLE_HASH_BYTES);
}

enum amana_err merkle_frontier_load(struct merkle_frontier *f, uint64_t size, merkle_node_fn node, void *ctx)
{
	merkle_frontier_init(f);
	uint64_t start = 0;
	for (int level = 63; level >= 0; level--) {
		uint64_t width = (uint64_t)1 << level;
		if (!(size & width))
			continue;
		enum amana_err err = node(ctx, (unsigned)level, start >> level, f->h[level]);
		if (err)
			return err;
		start += width;
	}
	f->size = size;
	return AMANA_OK;
}

uint64_t merkle_node_position(unsigned level, uint64_t index)
{
	/* Node (level, index) is written right after the leaf that closes it,
	 * j = (index + 1) * 2^level - 1, which itself follows the
	 * 2j - popcount(j) nodes of the first j leaves, then one node per
	 * level below it. */
	uint64_t j = ((index + 1) << level) - 1;
	return 2 * j - popcount64(j) + level;
}

uint64_t merkle_node_count(uint64_t leaves)
{
	return 2 * leaves - popcount64(leaves);
}

/* ---- proofs ---- */

/* The hashes a proof of a tree of `size` leaves needs: complete subtrees
 * are read; a range that is not one always ends at size and starts at a
 * piece of size's binary decomposition, so those are folded once. */
struct prover {
	merkle_node_fn node;
	void *ctx;
	uint64_t size;
	unsigned pieces;
	uint64_t start[64];
	merkle_hash fold[64]; /* fold[j]: hash of leaves [start[j], size) */
};

static enum amana_err prover_init(struct prover *p, uint64_t size, merkle_node_fn node, void *ctx)
{
	p->node = node;
	p->ctx = ctx;
	p->size = size;
	p->pieces = 0;
	uint64_t start = 0;
	for (int level = 63; level >= 0; level--) {
		uint64_t width = (uint64_t)1 << level;
		if (!(size & width))
			continue;
		enum amana_err err = node(ctx, (unsigned)level, start >> level, p->fold[p->pieces]);
		if (err)
			return err;
		p->start[p->pieces++] = start;
		start += width;
	}
	for (int j = (int)p->pieces - 2; j >= 0; j--)
		merkle_node_hash(p->fold[j], p->fold[j + 1], p->fold[j]);
	return AMANA_OK;
}

/* MTH(D[a : a + n]). */
static enum amana_err mth(const struct prover *p, uint64_t a, uint64_t n, merkle_hash out)
{
	if (is_pow2(n) && a % n == 0)
		return p->node(p->ctx, ctz64(n), a / n, out);
	if (a + n == p->size) {
		for (unsigned j = 0; j < p->pieces; j++) {
			if (p->start[j] == a) {
				memcpy(out, p->fold[j], MERKLE_HASH_BYTES);
				return AMANA_OK;
			}
		}
	}
	/* Not reached by the RFC's recursions; kept correct for any range. */
	uint64_t k = split_point(n);
	merkle_hash l, r;
	enum amana_err err = mth(p, a, k, l);
	if (!err)
		err = mth(p, a + k, n - k, r);
	if (!err)
		merkle_node_hash(l, r, out);
	return err;
}

static enum amana_err path(const struct prover *p, uint64_t m, uint64_t a, uint64_t n, merkle_hash *out, size_t *len)
{
	if (n <= 1)
		return AMANA_OK;
	uint64_t k = split_point(n);
	enum amana_err err;
	merkle_hash sib;
	if (m < k) {
		if ((err = path(p, m, a, k, out, len)) || (err = mth(p, a + k, n - k, sib)))
			return err;
	} else {
		if ((err = path(p, m - k, a + k, n - k, out, len)) || (err = mth(p, a, k, sib)))
			return err;
	}
	if (*len >= MERKLE_PROOF_MAX)
		return AMANA_ERR_LIMIT;
	memcpy(out[(*len)++], sib, MERKLE_HASH_BYTES);
	return AMANA_OK;
}

enum amana_err merkle_root(uint64_t size, merkle_node_fn node, void *ctx, merkle_hash out)
{
	if (size == 0) {
		merkle_empty_root(out);
		return AMANA_OK;
	}
	struct prover p;
	enum amana_err err = prover_init(&p, size, node, ctx);
	if (!err)
		memcpy(out, p.fold[0], MERKLE_HASH_BYTES);
	return err;
}

enum amana_err merkle_inclusion_proof(uint64_t index, uint64_t size, merkle_node_fn node, void *ctx,
				      merkle_hash out[MERKLE_PROOF_MAX], size_t *n)
{
	*n = 0;
	if (index >= size)
		return AMANA_ERR_USAGE;
	struct prover p;
	enum amana_err err = prover_init(&p, size, node, ctx);
	if (!err)
		err = path(&p, index, 0, size, out, n);
	return err;
}

static enum amana_err subproof(const struct prover *p, uint64_t m, uint64_t a, uint64_t n, bool b, merkle_hash *out,
			       size_t *len)
{
	merkle_hash h;
	enum amana_err err;
	if (m == n) {
		if (b)
			return AMANA_OK;
		if ((err = mth(p, a, n, h)))
			return err;
	} else {
		uint64_t k = split_point(n);
		if (m <= k) {
			if ((err = subproof(p, m, a, k, b, out, len)) || (err = mth(p, a + k, n - k, h)))
				return err;
		} else {
			if ((err = subproof(p, m - k, a + k, n - k, false, out, len)) || (err = mth(p, a, k, h)))
				return err;
		}
	}
	if (*len >= MERKLE_PROOF_MAX)
		return AMANA_ERR_LIMIT;
	memcpy(out[(*len)++], h, MERKLE_HASH_BYTES);
	return AMANA_OK;
}

enum amana_err merkle_consistency_proof(uint64_t old_size, uint64_t new_size, merkle_node_fn node, void *ctx,
					merkle_hash out[MERKLE_PROOF_MAX], size_t *n)
{
	*n = 0;
	if (old_size == 0 || old_size > new_size)
		return AMANA_ERR_USAGE;
	if (old_size == new_size)
		return AMANA_OK;
	struct prover p;
	enum amana_err err = prover_init(&p, new_size, node, ctx);
	if (!err)
		err = subproof(&p, old_size, 0, new_size, true, out, n);
	return err;
}

/* ---- verification ---- */

bool merkle_verify_inclusion(uint64_t index, uint64_t size, const merkle_hash leaf, const merkle_hash *proof, size_t n,
			     const merkle_hash root)
{
	if (index >= size)
		return false;
	uint64_t fn = index, sn = size - 1;
	merkle_hash r;
	memcpy(r, leaf, MERKLE_HASH_BYTES);
	for (size_t i = 0; i < n; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof[i], r, r);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			merkle_node_hash(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && sodium_memcmp(r, root, MERKLE_HASH_BYTES) == 0;
}

bool merkle_verify_consistency(uint64_t old_size, uint64_t new_size, const merkle_hash old_root,
			       const merkle_hash new_root, const merkle_hash *proof, size_t n)
{
	if (old_size > new_size)
		return false;
	if (old_size == new_size)
		return n == 0 && sodium_memcmp(old_root, new_root, MERKLE_HASH_BYTES) == 0;
	if (old_size == 0) {
		/* Every tree extends the empty one, whose root is fixed. */
		merkle_hash empty;
		merkle_empty_root(empty);
		return n == 0 && sodium_memcmp(old_root, empty, MERKLE_HASH_BYTES) == 0;
	}
	if (n == 0)
		return false;
	/* RFC 9162 2.1.4.2: when old_size is a power of two, its root is the
	 * first hash of the path, which the proof leaves out. */
	const merkle_hash *first = &proof[0];
	size_t i = 1;
	if (is_pow2(old_size)) {
		first = (const merkle_hash *)old_root;
		i = 0;
	}
	uint64_t fn = old_size - 1, sn = new_size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	merkle_hash fr, sr;
	memcpy(fr, *first, MERKLE_HASH_BYTES);
	memcpy(sr, *first, MERKLE_HASH_BYTES);
	for (; i < n; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof[i], fr, fr);
			merkle_node_hash(proof[i], sr, sr);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			merkle_node_hash(sr, proof[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sodium_memcmp(fr, old_root, MERKLE_HASH_BYTES) == 0 &&
	       sodium_memcmp(sr, new_root, MERKLE_HASH_BYTES) == 0 && sn == 0;
}
