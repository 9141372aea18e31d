/*
 * test_merkle.c - RFC 9162 hashing, proofs and verification: the public
 * vectors (tests/data/merkle, from the CCTV collection), and every proof of
 * every tree up to 64 leaves against a naive recursive reference built
 * straight from the RFC's definitions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "audit/merkle.h"

#define VECTORS SOURCE_ROOT "/tests/data/merkle/"

static void b64(const char *s, merkle_hash out)
{
	size_t len;
	if (sodium_base642bin(out, MERKLE_HASH_BYTES, s, strlen(s), NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) !=
		0 ||
	    len != MERKLE_HASH_BYTES)
		fail_msg("bad base64 hash in a vector: %s", s);
}

static json_t *load(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), VECTORS "%s", name);
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);
	if (!j || !json_is_array(j))
		fail_msg("%s: %s", path, e.text);
	return j;
}

static size_t path_of(json_t *arr, merkle_hash *out)
{
	size_t i;
	json_t *v;
	assert_true(json_array_size(arr) <= MERKLE_PROOF_MAX);
	json_array_foreach(arr, i, v) b64(json_string_value(v), out[i]);
	return json_array_size(arr);
}

/* merkle_tree.json: leaf hashes of the given data, and the root of the
 * first n leaves for every n, by appending to a frontier. */
static void test_tree_vectors(void **state)
{
	(void)state;
	json_t *j = load("merkle_tree.json");
	struct merkle_frontier f;
	merkle_frontier_init(&f);
	size_t i;
	json_t *v;
	assert_true(json_array_size(j) >= 8);
	json_array_foreach(j, i, v)
	{
		const char *data = json_string_value(json_object_get(v, "leaf_data"));
		merkle_hash want_leaf, want_root, leaf, root;
		b64(json_string_value(json_object_get(v, "leaf_hash")), want_leaf);
		b64(json_string_value(json_object_get(v, "root_hash")), want_root);
		merkle_leaf_hash(data, strlen(data), leaf);
		assert_memory_equal(leaf, want_leaf, MERKLE_HASH_BYTES);
		assert_int_equal(merkle_frontier_append(&f, leaf, NULL, NULL), AMANA_OK);
		merkle_frontier_root(&f, root);
		assert_memory_equal(root, want_root, MERKLE_HASH_BYTES);
	}
	json_decref(j);
}

static void test_empty_root(void **state)
{
	(void)state;
	merkle_hash r, want;
	merkle_empty_root(r);
	b64("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", want);
	assert_memory_equal(r, want, MERKLE_HASH_BYTES);
	struct merkle_frontier f;
	merkle_frontier_init(&f);
	merkle_frontier_root(&f, r);
	assert_memory_equal(r, want, MERKLE_HASH_BYTES);
}

static void run_inclusion(const char *file, bool valid)
{
	json_t *j = load(file);
	size_t i;
	json_t *v;
	assert_true(json_array_size(j) > 0);
	json_array_foreach(j, i, v)
	{
		merkle_hash leaf, root, path[MERKLE_PROOF_MAX];
		b64(json_string_value(json_object_get(v, "leaf_hash")), leaf);
		b64(json_string_value(json_object_get(v, "root_hash")), root);
		size_t n = path_of(json_object_get(v, "inclusion_path"), path);
		uint64_t index = (uint64_t)json_integer_value(json_object_get(v, "leaf_index"));
		uint64_t size = (uint64_t)json_integer_value(json_object_get(v, "tree_size"));
		bool ok = merkle_verify_inclusion(index, size, leaf, path, n, root);
		if (ok != valid)
			fail_msg("%s[%zu] (%s): verified %d, expected %d", file, i,
				 json_string_value(json_object_get(v, "comment")) ?: "valid", ok, valid);
	}
	json_decref(j);
}

static void run_consistency(const char *file, bool valid)
{
	json_t *j = load(file);
	size_t i;
	json_t *v;
	assert_true(json_array_size(j) > 0);
	json_array_foreach(j, i, v)
	{
		merkle_hash a, b, path[MERKLE_PROOF_MAX];
		b64(json_string_value(json_object_get(v, "old_root")), a);
		b64(json_string_value(json_object_get(v, "new_root")), b);
		size_t n = path_of(json_object_get(v, "consistency_path"), path);
		uint64_t m = (uint64_t)json_integer_value(json_object_get(v, "old_size"));
		uint64_t s = (uint64_t)json_integer_value(json_object_get(v, "new_size"));
		bool ok = merkle_verify_consistency(m, s, a, b, path, n);
		if (ok != valid)
			fail_msg("%s[%zu] (%s): verified %d, expected %d", file, i,
				 json_string_value(json_object_get(v, "comment")) ?: "valid", ok, valid);
	}
	json_decref(j);
}

static void test_inclusion_vectors(void **state)
{
	(void)state;
	run_inclusion("inclusion-valid.json", true);
	run_inclusion("inclusion-invalid.json", false);
}

static void test_consistency_vectors(void **state)
{
	(void)state;
	run_consistency("consistency-valid.json", true);
	run_consistency("consistency-invalid.json", false);
}

/* ---- a naive reference from the RFC's definitions ---- */

#define REF_MAX 64
static merkle_hash ref_leaves[REF_MAX];

static uint64_t ref_k(uint64_t n)
{
	uint64_t k = 1;
	while (k * 2 < n)
		k *= 2;
	return k;
}

static void ref_mth(uint64_t a, uint64_t n, merkle_hash out)
{
	if (n == 1) {
		memcpy(out, ref_leaves[a], MERKLE_HASH_BYTES);
		return;
	}
	uint64_t k = ref_k(n);
	merkle_hash l, r;
	ref_mth(a, k, l);
	ref_mth(a + k, n - k, r);
	merkle_node_hash(l, r, out);
}

static void ref_path(uint64_t m, uint64_t a, uint64_t n, merkle_hash *out, size_t *len)
{
	if (n == 1)
		return;
	uint64_t k = ref_k(n);
	if (m < k) {
		ref_path(m, a, k, out, len);
		ref_mth(a + k, n - k, out[(*len)++]);
	} else {
		ref_path(m - k, a + k, n - k, out, len);
		ref_mth(a, k, out[(*len)++]);
	}
}

static void ref_subproof(uint64_t m, uint64_t a, uint64_t n, bool b, merkle_hash *out, size_t *len)
{
	if (m == n) {
		if (!b)
			ref_mth(a, n, out[(*len)++]);
		return;
	}
	uint64_t k = ref_k(n);
	if (m <= k) {
		ref_subproof(m, a, k, b, out, len);
		ref_mth(a + k, n - k, out[(*len)++]);
	} else {
		ref_subproof(m - k, a + k, n - k, false, out, len);
		ref_mth(a, k, out[(*len)++]);
	}
}

/* Node storage as the log keeps it: post-order, by merkle_node_position. */
static merkle_hash stored[2 * REF_MAX];
static uint64_t stored_n;
static unsigned node_reads;

static enum amana_err store_node(void *ctx, unsigned level, uint64_t index, const merkle_hash h)
{
	(void)ctx;
	assert_int_equal(merkle_node_position(level, index), stored_n);
	memcpy(stored[stored_n++], h, MERKLE_HASH_BYTES);
	return AMANA_OK;
}

static enum amana_err read_node(void *ctx, unsigned level, uint64_t index, merkle_hash out)
{
	uint64_t size = *(const uint64_t *)ctx;
	/* Only complete subtrees inside the tree asked about may be read. */
	assert_true(((index + 1) << level) <= size);
	uint64_t pos = merkle_node_position(level, index);
	assert_true(pos < stored_n);
	memcpy(out, stored[pos], MERKLE_HASH_BYTES);
	node_reads++;
	return AMANA_OK;
}

static void build(uint64_t n)
{
	struct merkle_frontier f;
	merkle_frontier_init(&f);
	stored_n = 0;
	for (uint64_t i = 0; i < n; i++) {
		char data[16];
		int len = snprintf(data, sizeof(data), "%llu", (unsigned long long)i);
		merkle_leaf_hash(data, (size_t)len, ref_leaves[i]);
		assert_int_equal(merkle_frontier_append(&f, ref_leaves[i], store_node, NULL), AMANA_OK);
	}
	assert_int_equal(stored_n, merkle_node_count(n));
}

static void test_proofs_against_reference(void **state)
{
	(void)state;
	build(REF_MAX);
	for (uint64_t size = 1; size <= REF_MAX; size++) {
		merkle_hash root, want;
		ref_mth(0, size, want);
		assert_int_equal(merkle_root(size, read_node, &size, root), AMANA_OK);
		assert_memory_equal(root, want, MERKLE_HASH_BYTES);
		struct merkle_frontier f;
		assert_int_equal(merkle_frontier_load(&f, size, read_node, &size), AMANA_OK);
		merkle_frontier_root(&f, root);
		assert_memory_equal(root, want, MERKLE_HASH_BYTES);

		for (uint64_t m = 0; m < size; m++) {
			merkle_hash got[MERKLE_PROOF_MAX], exp[MERKLE_PROOF_MAX];
			size_t n, en = 0;
			assert_int_equal(merkle_inclusion_proof(m, size, read_node, &size, got, &n), AMANA_OK);
			ref_path(m, 0, size, exp, &en);
			assert_int_equal(n, en);
			assert_memory_equal(got, exp, n * MERKLE_HASH_BYTES);
			assert_true(merkle_verify_inclusion(m, size, ref_leaves[m], got, n, want));
			/* any wrong index, size or leaf fails */
			assert_false(merkle_verify_inclusion(m, size, ref_leaves[(m + 1) % size], got, n, want) &&
				     size > 1);
			assert_false(merkle_verify_inclusion(m + 1, size, ref_leaves[m], got, n, want));
			if (n > 0) {
				got[n - 1][0] ^= 1;
				assert_false(merkle_verify_inclusion(m, size, ref_leaves[m], got, n, want));
			}
		}
		for (uint64_t old = 1; old <= size; old++) {
			merkle_hash got[MERKLE_PROOF_MAX], exp[MERKLE_PROOF_MAX], old_root;
			size_t n, en = 0;
			node_reads = 0;
			assert_int_equal(merkle_consistency_proof(old, size, read_node, &size, got, &n), AMANA_OK);
			assert_true(node_reads <= 2 * 7 + 7);
			if (old < size)
				ref_subproof(old, 0, size, true, exp, &en);
			assert_int_equal(n, en);
			assert_memory_equal(got, exp, n * MERKLE_HASH_BYTES);
			ref_mth(0, old, old_root);
			assert_true(merkle_verify_consistency(old, size, old_root, want, got, n));
			assert_false(merkle_verify_consistency(old, size, want, old_root, got, n) && old != size);
			if (n > 0) {
				got[0][5] ^= 0x40;
				assert_false(merkle_verify_consistency(old, size, old_root, want, got, n));
			}
		}
	}
}

static void test_bad_arguments(void **state)
{
	(void)state;
	build(8);
	uint64_t size = 8;
	merkle_hash path[MERKLE_PROOF_MAX];
	size_t n;
	assert_int_equal(merkle_inclusion_proof(8, 8, read_node, &size, path, &n), AMANA_ERR_USAGE);
	assert_int_equal(merkle_consistency_proof(0, 8, read_node, &size, path, &n), AMANA_ERR_USAGE);
	assert_int_equal(merkle_consistency_proof(9, 8, read_node, &size, path, &n), AMANA_ERR_USAGE);
	merkle_hash root;
	assert_int_equal(merkle_root(8, read_node, &size, root), AMANA_OK);
	assert_false(merkle_verify_inclusion(0, 0, ref_leaves[0], path, 0, root));
	assert_false(merkle_verify_consistency(3, 2, root, root, path, 0));
	/* positions: post-order, leaf then the subtrees it closes */
	assert_int_equal(merkle_node_position(0, 0), 0);
	assert_int_equal(merkle_node_position(0, 1), 1);
	assert_int_equal(merkle_node_position(1, 0), 2);
	assert_int_equal(merkle_node_position(0, 3), 4);
	assert_int_equal(merkle_node_position(2, 0), 6);
	assert_int_equal(merkle_node_count(4), 7);
	assert_int_equal(merkle_node_count(5), 8);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_vectors),
		cmocka_unit_test(test_empty_root),
		cmocka_unit_test(test_inclusion_vectors),
		cmocka_unit_test(test_consistency_vectors),
		cmocka_unit_test(test_proofs_against_reference),
		cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
