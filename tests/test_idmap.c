/*
 * test_idmap.c - the import's hash map: lookups, overwrites, growth, O(1)
 * resets, and the shrink of a large table after a small use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "service/idmap.h"

static void test_put_get_overwrite(void **state)
{
	(void)state;
	struct idmap m;
	uint32_t v = 0;
	idmap_init(&m);
	assert_false(idmap_get(&m, 5, &v)); /* empty, no table yet */
	assert_int_equal(idmap_put(&m, 5, 50), AMANA_OK);
	assert_int_equal(idmap_put(&m, -7, 70), AMANA_OK);
	assert_int_equal(idmap_put(&m, INT64_MAX, 1), AMANA_OK);
	assert_int_equal(idmap_put(&m, INT64_MIN, 2), AMANA_OK);
	assert_true(idmap_get(&m, 5, &v));
	assert_int_equal(v, 50);
	assert_true(idmap_get(&m, -7, &v));
	assert_int_equal(v, 70);
	assert_true(idmap_get(&m, INT64_MAX, &v));
	assert_int_equal(v, 1);
	assert_true(idmap_get(&m, INT64_MIN, NULL));
	assert_false(idmap_get(&m, 6, &v));
	assert_int_equal(idmap_put(&m, 5, 51), AMANA_OK);
	assert_true(idmap_get(&m, 5, &v));
	assert_int_equal(v, 51);
	assert_int_equal(m.count, 4);
	/* 0 is not a key */
	assert_int_equal(idmap_put(&m, 0, 1), AMANA_ERR_USAGE);
	assert_false(idmap_get(&m, 0, &v));
	idmap_free(&m);
	assert_false(idmap_get(&m, 5, &v));
}

/* Keys that collide in the table (same slot, then neighbours) and growth
 * through many doublings keep every value. */
static void test_growth_keeps_everything(void **state)
{
	(void)state;
	struct idmap m;
	idmap_init(&m);
	for (int64_t k = 1; k <= 100000; k++)
		assert_int_equal(idmap_put(&m, k * 4096, (uint32_t)k), AMANA_OK);
	assert_int_equal(m.count, 100000);
	for (int64_t k = 1; k <= 100000; k++) {
		uint32_t v;
		assert_true(idmap_get(&m, k * 4096, &v));
		assert_int_equal(v, (uint32_t)k);
		assert_false(idmap_get(&m, k * 4096 + 1, NULL));
	}
	idmap_free(&m);
}

/* A reset forgets every key; the next use sees only its own, whether the
 * table was kept or freed (a big use followed by small ones). */
static void test_reset_big_then_small(void **state)
{
	(void)state;
	struct idmap m;
	idmap_init(&m);
	for (int64_t k = 1; k <= 50000; k++)
		assert_int_equal(idmap_put(&m, k, (uint32_t)k), AMANA_OK);
	size_t big = m.cap;
	assert_true(big >= 100000);
	idmap_reset(&m); /* a full use: the table stays */
	assert_int_equal(m.cap, big);
	assert_int_equal(m.count, 0);
	for (int64_t k = 1; k <= 50000; k++)
		assert_false(idmap_get(&m, k, NULL));
	for (int round = 0; round < 3; round++) {
		for (int64_t k = 1; k <= 12; k++)
			assert_int_equal(idmap_put(&m, k + round * 100, (uint32_t)(k + round)), AMANA_OK);
		for (int64_t k = 1; k <= 12; k++) {
			uint32_t v;
			assert_true(idmap_get(&m, k + round * 100, &v));
			assert_int_equal(v, (uint32_t)(k + round));
		}
		if (round > 0)
			assert_false(idmap_get(&m, 1 + (round - 1) * 100, NULL));
		idmap_reset(&m);
		/* after a small use of the big table it is given back */
		assert_true(m.cap < big);
	}
	idmap_free(&m);
}

/* Many resets of a kept table: stale slots of earlier uses never answer. */
static void test_many_resets(void **state)
{
	(void)state;
	struct idmap m;
	idmap_init(&m);
	for (uint32_t round = 1; round <= 5000; round++) {
		for (int64_t k = 1; k <= 20; k++)
			assert_int_equal(idmap_put(&m, k * 7 + round, round), AMANA_OK);
		uint32_t v;
		assert_true(idmap_get(&m, 7 + round, &v));
		assert_int_equal(v, round);
		/* the previous use's first key (round - 1 + 7) is not one of this use's */
		if (round > 1)
			assert_false(idmap_get(&m, 7 + round - 1, NULL));
		idmap_reset(&m);
		assert_false(idmap_get(&m, 7 + round, NULL));
	}
	idmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_overwrite),
		cmocka_unit_test(test_growth_keeps_everything),
		cmocka_unit_test(test_reset_big_then_small),
		cmocka_unit_test(test_many_resets),
	};
	return cmocka_run_group_tests_name("idmap", tests, NULL, NULL);
}
