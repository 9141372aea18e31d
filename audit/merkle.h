/*
 * merkle.h - the Merkle tree of RFC 9162 (Certificate Transparency 2.0),
 * section 2.1: leaf hash SHA-256(0x00 || entry), node hash
 * SHA-256(0x01 || left || right), inclusion and consistency proofs, and
 * their verification.
 *
 * The tree is append-only. Its storage is the caller's: proofs and roots
 * are computed from complete subtrees read through a merkle_node_fn, where
 * node (level, index) is the hash of leaves [index * 2^level,
 * (index + 1) * 2^level). A merkle_frontier keeps the right edge of a tree
 * in memory (at most 64 hashes), so appending a leaf costs one hash per
 * completed subtree and the root is a fold of the frontier.
 *
 * Verification follows the algorithms of RFC 9162 sections 2.1.3.2 and
 * 2.1.4.2 word for word; it needs nothing but the proof, so a third party
 * can run it.
 */
#ifndef AMANA_AUDIT_MERKLE_H
#define AMANA_AUDIT_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define MERKLE_HASH_BYTES 32
/* A proof of a tree of up to 2^64 leaves has at most 64 hashes
 * (consistency: 64 + 1 for the old root's own subtree). */
#define MERKLE_PROOF_MAX 65

typedef uint8_t merkle_hash[MERKLE_HASH_BYTES];

void merkle_leaf_hash(const void *entry, size_t len, merkle_hash out);
void merkle_node_hash(const merkle_hash left, const merkle_hash right, merkle_hash out);
/* The root of the empty tree: SHA-256 of the empty string. */
void merkle_empty_root(merkle_hash out);

/* Hash of the complete subtree (level, index); returns AMANA_OK or the
 * storage's error. */
typedef enum amana_err (*merkle_node_fn)(void *ctx, unsigned level, uint64_t index, merkle_hash out);

/* ---- appending ---- */

struct merkle_frontier {
	uint64_t size; /* leaves so far */
	merkle_hash h[64]; /* h[k]: the complete subtree of 2^k leaves on the right edge, if bit k of size is set */
};

void merkle_frontier_init(struct merkle_frontier *f);
/* Append a leaf hash. done (may be NULL) is told every node this completes,
 * the leaf first, then upwards: the order in which the nodes of an
 * append-only tree are stored in post-order (see merkle_node_position). */
typedef enum amana_err (*merkle_done_fn)(void *ctx, unsigned level, uint64_t index, const merkle_hash h);
enum amana_err merkle_frontier_append(struct merkle_frontier *f, const merkle_hash leaf, merkle_done_fn done,
				      void *ctx) AMANA_MUST_CHECK;
void merkle_frontier_root(const struct merkle_frontier *f, merkle_hash out);
/* Rebuild the frontier of a stored tree of size leaves. */
enum amana_err merkle_frontier_load(struct merkle_frontier *f, uint64_t size, merkle_node_fn node,
				    void *ctx) AMANA_MUST_CHECK;

/* Where node (level, index) sits when the nodes of an append-only tree are
 * written as they complete (leaf, then the subtrees it closes): a tree of n
 * leaves holds merkle_node_count(n) nodes. */
uint64_t merkle_node_position(unsigned level, uint64_t index);
uint64_t merkle_node_count(uint64_t leaves);

/* ---- proofs (RFC 9162 2.1.3.1 and 2.1.4.1) ---- */

/* The root of the first size leaves. */
enum amana_err merkle_root(uint64_t size, merkle_node_fn node, void *ctx, merkle_hash out) AMANA_MUST_CHECK;
/* Inclusion proof of leaf index in the tree of size leaves: *n hashes in
 * path, bottom up. AMANA_ERR_USAGE if index >= size. */
enum amana_err merkle_inclusion_proof(uint64_t index, uint64_t size, merkle_node_fn node, void *ctx,
				      merkle_hash path[MERKLE_PROOF_MAX], size_t *n) AMANA_MUST_CHECK;
/* Consistency proof between the trees of old_size and new_size leaves.
 * AMANA_ERR_USAGE unless 0 < old_size <= new_size. */
enum amana_err merkle_consistency_proof(uint64_t old_size, uint64_t new_size, merkle_node_fn node, void *ctx,
					merkle_hash path[MERKLE_PROOF_MAX], size_t *n) AMANA_MUST_CHECK;

/* ---- verification (RFC 9162 2.1.3.2 and 2.1.4.2) ---- */

bool merkle_verify_inclusion(uint64_t index, uint64_t size, const merkle_hash leaf, const merkle_hash *path, size_t n,
			     const merkle_hash root) AMANA_MUST_CHECK;
bool merkle_verify_consistency(uint64_t old_size, uint64_t new_size, const merkle_hash old_root,
			       const merkle_hash new_root, const merkle_hash *path, size_t n) AMANA_MUST_CHECK;

#endif
