/*
 * test_cli_audit.c - `amana audit` on a real registry: the head, proofs a
 * third party checks with the public key alone, `verify` failing (exit 1,
 * file and position named) on every kind of tampering of the log's files,
 * queries by subject, and a witness that refuses a rolled-back or forked
 * log.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/harness.h"

struct fixture {
	struct registry g;
	char audit[4200];
	char reg[16]; /* a registered person */
};

static void run_ok(struct fixture *f, struct run_result *r, const char *what, ...)
{
	va_list ap;
	va_start(ap, what);
	run_on_va(r, &f->g, ap);
	va_end(ap);
	assert_exit(r, 0, what);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	registry_new(&f->g, "audit");
	snprintf(f->audit, sizeof(f->audit), "%s/audit", f->g.home);
	struct run_result r;
	run_ok(f, &r, "person register", "person", "register", "--cin", "JK445566", "--name", "Karim Benali", "--birth",
	       "1979-03-30", "--json", NULL);
	json_str(r.out, "registration", f->reg, sizeof(f->reg));
	run_result_free(&r);
	for (int i = 0; i < 3; i++) {
		char purpose[32];
		snprintf(purpose, sizeof(purpose), "case 2026-%d", 40 + i);
		run_ok(f, &r, "person show", "person", "show", f->reg, "--purpose", purpose, NULL);
		run_result_free(&r);
	}
	run_on(&r, &f->g, "person", "show", f->reg, NULL); /* refused: no purpose */
	assert_exit(&r, 4, "person show without purpose");
	run_result_free(&r);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	registry_free(&f->g);
	free(f);
	return 0;
}

static int64_t tree_size(struct fixture *f)
{
	struct run_result r;
	run_ok(f, &r, "audit sth", "audit", "sth", "--json", NULL);
	int64_t n = json_int(r.out, "tree_size");
	char buf[128];
	assert_true(strlen(json_str(r.out, "root_hash", buf, sizeof(buf))) == 44);
	assert_true(strlen(json_str(r.out, "signature", buf, sizeof(buf))) == 88);
	assert_true(strlen(json_str(r.out, "public_key", buf, sizeof(buf))) == 44);
	assert_true(json_int(r.out, "timestamp") > 1700000000000);
	run_result_free(&r);
	return n;
}

static void test_head_verify_query(void **state)
{
	struct fixture *f = *state;
	/* init? no: registration, 3 reads, 1 refusal */
	assert_int_equal(tree_size(f), 5);
	struct run_result r;
	run_ok(f, &r, "audit verify", "audit", "verify", NULL);
	assert_non_null(strstr(r.out, "verified"));
	run_result_free(&r);
	run_ok(f, &r, "audit query", "audit", "query", "--subject", f->reg, "--json", NULL);
	/* the registration, three reads, the refusal, and this query */
	assert_int_equal(json_int(r.out, "count"), 6);
	assert_non_null(strstr(r.out, "\"purpose\":\"case 2026-41\""));
	assert_non_null(strstr(r.out, "\"outcome\":\"denied\""));
	assert_non_null(strstr(r.out, "no purpose given"));
	assert_null(strstr(r.out, "KARIM")); /* no personal data in entries */
	run_result_free(&r);
	run_ok(f, &r, "audit query by principal", "audit", "query", "--principal", "nobody", "--json", NULL);
	assert_int_equal(json_int(r.out, "count"), 0);
	run_result_free(&r);
	/* nothing in the log's files names the person */
	char **names;
	size_t n = list_dir(f->audit, "", &names);
	for (size_t i = 0; i < n; i++) {
		char p[4400];
		snprintf(p, sizeof(p), "%s/%s", f->audit, names[i]);
		size_t len;
		char *data = read_file(p, &len);
		assert_null(memmem(data, len, "KARIM", 5));
		assert_null(memmem(data, len, "JK445566", 8));
		assert_null(memmem(data, len, "case 2026", 9)); /* purposes are sealed */
		free(data);
	}
	free_list(names, n);
}

static void write_out(const char *path, const char *text)
{
	assert_int_equal(write_file(path, text, strlen(text)), 0);
}

static void test_proofs_checked_by_third_party(void **state)
{
	struct fixture *f = *state;
	struct run_result r, c;
	char proof[4300], pub[4300];
	snprintf(proof, sizeof(proof), "%s/proof.json", f->g.dir);
	snprintf(pub, sizeof(pub), "%s/public.key", f->audit);
	int64_t size = tree_size(f);
	for (int64_t seq = 0; seq < size; seq++) {
		char s[24];
		snprintf(s, sizeof(s), "%lld", (long long)seq);
		run_ok(f, &r, "audit prove", "audit", "prove", s, "--json", NULL);
		assert_int_equal(json_int(r.out, "leaf_index"), seq);
		assert_int_equal(json_int(r.out, "tree_size"), size);
		write_out(proof, r.out);
		/* a third party: no registry, the public key alone */
		run_on(&c, NULL, "audit", "check-proof", proof, "--public-key", pub, NULL);
		assert_exit(&c, 0, "check-proof");
		assert_non_null(strstr(c.out, "valid"));
		assert_null(strstr(c.out, "INVALID"));
		run_result_free(&c);
		/* the same proof for another entry does not verify */
		char *bad = strdup(r.out);
		char *at = strstr(bad, "\"leaf_index\":");
		at += strlen("\"leaf_index\":");
		*at = *at == '0' ? '1' : '0';
		write_out(proof, bad);
		run_on(&c, NULL, "audit", "check-proof", proof, "--public-key", pub, NULL);
		assert_exit(&c, 3, "check-proof of a moved proof");
		run_result_free(&c);
		free(bad);
		run_result_free(&r);
	}
	/* consistency from every older size to the latest */
	for (int64_t old = 0; old <= size; old++) {
		char s[24];
		snprintf(s, sizeof(s), "%lld", (long long)old);
		run_ok(f, &r, "audit consistency", "audit", "consistency", s, "--json", NULL);
		assert_int_equal(json_int(r.out, "old_size"), old);
		assert_int_equal(json_int(r.out, "new_size"), size);
		write_out(proof, r.out);
		run_on(&c, NULL, "audit", "check-proof", proof, "--public-key", pub, "--json", NULL);
		assert_exit(&c, 0, "check-proof consistency");
		assert_non_null(strstr(c.out, "\"valid\":true"));
		run_result_free(&c);
		run_result_free(&r);
	}
	/* a head signed by another registry's key does not verify with ours */
	struct registry other;
	registry_new(&other, "audit-other");
	run_on(&r, &other, "audit", "sth", "--json", NULL);
	assert_exit(&r, 0, "other sth");
	run_result_free(&r);
	run_on(&r, &other, "person", "register", "--cin", "AB111111", "--name", "X", "--birth", "1990-01-01", NULL);
	run_result_free(&r);
	run_on(&r, &other, "audit", "sth", "--json", NULL);
	write_out(proof, r.out);
	run_result_free(&r);
	run_on(&c, NULL, "audit", "check-proof", proof, "--public-key", pub, NULL);
	assert_exit(&c, 3, "check-proof of a foreign head");
	assert_non_null(strstr(c.out, "INVALID"));
	run_result_free(&c);
	registry_free(&other);
	/* garbage in: a clear error */
	write_out(proof, "{\"tree_size\": 3}");
	run_on(&c, NULL, "audit", "check-proof", proof, NULL);
	assert_exit(&c, 3, "check-proof of half a head");
	run_result_free(&c);
	write_out(proof, "not json");
	run_on(&c, NULL, "audit", "check-proof", proof, NULL);
	assert_exit(&c, 3, "check-proof of garbage");
	run_result_free(&c);
}

/* ---- tampering, seen by `amana audit verify` ---- */

static void expect_verify_fails(struct fixture *f, const char *what, const char *file)
{
	struct run_result r;
	run_on(&r, &f->g, "audit", "verify", NULL);
	if (r.status != 1)
		fail_msg("%s: audit verify exited %d, want 1\nstdout: %s\nstderr: %s", what, r.status, r.out, r.err);
	if (!strstr(r.err, "FAILED at") || !strstr(r.err, "position"))
		fail_msg("%s: no position named: %s", what, r.err);
	if (file && !strstr(r.err, file))
		fail_msg("%s: expected the problem in %s: %s", what, file, r.err);
	run_result_free(&r);
}

static char *slurp(struct fixture *f, const char *name, size_t *len)
{
	char p[4400];
	snprintf(p, sizeof(p), "%s/%s", f->audit, name);
	char *d = read_file(p, len);
	assert_non_null(d);
	return d;
}

static void put(struct fixture *f, const char *name, const char *data, size_t len)
{
	char p[4400];
	snprintf(p, sizeof(p), "%s/%s", f->audit, name);
	assert_int_equal(write_file(p, data, len), 0);
}

static uint64_t le64(const char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)(unsigned char)p[i] << (8 * i);
	return v;
}

static void test_verify_catches_tampering(void **state)
{
	struct fixture *f = *state;
	static const char *const files[] = { "entries", "index", "tree", "heads" };
	for (size_t i = 0; i < 4; i++) {
		size_t len;
		char *orig = slurp(f, files[i], &len);
		assert_true(len > 0);
		/* one flipped byte at the start, the middle and the end */
		size_t at[] = { 0, len / 2, len - 1 };
		for (size_t k = 0; k < 3; k++) {
			char *copy = malloc(len);
			memcpy(copy, orig, len);
			copy[at[k]] ^= 0x20;
			put(f, files[i], copy, len);
			char what[64];
			snprintf(what, sizeof(what), "a byte of %s at %zu", files[i], at[k]);
			expect_verify_fails(f, what, NULL);
			free(copy);
		}
		put(f, files[i], orig, len);
		free(orig);
	}
	struct run_result r;
	run_ok(f, &r, "verify restored", "audit", "verify", NULL);
	run_result_free(&r);

	size_t elen, ilen, hlen;
	char *entries = slurp(f, "entries", &elen);
	char *index = slurp(f, "index", &ilen);
	char *heads = slurp(f, "heads", &hlen);
	size_t n = ilen / 8;
	assert_true(n >= 4);
	uint64_t off1 = le64(index + 8), off2 = le64(index + 16), off3 = le64(index + 24);
	char *copy = malloc(elen * 2);

	/* delete entry 1 */
	memcpy(copy, entries, off1);
	memcpy(copy + off1, entries + off2, elen - off2);
	put(f, "entries", copy, elen - (off2 - off1));
	expect_verify_fails(f, "a deleted entry", NULL);
	/* swap entries 1 and 2 */
	memcpy(copy, entries, elen);
	memcpy(copy + off1, entries + off2, off3 - off2);
	memcpy(copy + off1 + (off3 - off2), entries + off1, off2 - off1);
	put(f, "entries", copy, elen);
	expect_verify_fails(f, "two swapped entries", NULL);
	/* insert a copy of entry 1 before entry 2 */
	memcpy(copy, entries, off2);
	memcpy(copy + off2, entries + off1, off2 - off1);
	memcpy(copy + off2 + (off2 - off1), entries + off2, elen - off2);
	put(f, "entries", copy, elen + (off2 - off1));
	expect_verify_fails(f, "an inserted entry", NULL);
	/* truncate */
	put(f, "entries", entries, off3);
	expect_verify_fails(f, "a truncated log", "heads");
	put(f, "entries", entries, elen);
	/* replace the last head by the first */
	memcpy(copy, heads, hlen);
	memcpy(copy + hlen - 120, heads, 120);
	put(f, "heads", copy, hlen);
	expect_verify_fails(f, "a replaced head", "heads");
	/* remove the last head: the last entries are no longer covered */
	put(f, "heads", heads, hlen - 120);
	expect_verify_fails(f, "a removed head", "entries");
	put(f, "heads", heads, hlen);
	/* a fresh public.key does not help: the registry's own key is used */
	size_t plen;
	char *pub = slurp(f, "public.key", &plen);
	put(f, "public.key", "AMANA-AUDIT-ED25519 ahhtrnLd2C0k+VOssqsto9nhHJqYgcsud9rNu0nA9Bc=\n", 65);
	expect_verify_fails(f, "a replaced public key", "public.key");
	put(f, "public.key", pub, plen);
	free(pub);

	/* the registry refuses to open on a log shorter than its head */
	put(f, "entries", entries, off3);
	run_on(&r, &f->g, "person", "show", f->reg, "--purpose", "case 1", NULL);
	assert_exit(&r, 1, "person show on a truncated log");
	assert_non_null(strstr(r.err, "audit"));
	assert_null(strstr(r.out, "KARIM"));
	run_result_free(&r);
	put(f, "entries", entries, elen);
	run_ok(f, &r, "verify restored", "audit", "verify", NULL);
	run_result_free(&r);
	free(copy);
	free(entries);
	free(index);
	free(heads);
}

/* ---- witnesses ---- */

static void copy_audit(struct fixture *f, const char *to)
{
	static const char *const files[] = { "entries", "index", "tree", "heads", "lock", "public.key" };
	mkdir(to, 0700);
	for (size_t i = 0; i < 6; i++) {
		size_t len;
		char *d = slurp(f, files[i], &len);
		char p[4400];
		snprintf(p, sizeof(p), "%s/%s", to, files[i]);
		assert_int_equal(write_file(p, d, len), 0);
		free(d);
	}
}

static void restore_audit(struct fixture *f, const char *from)
{
	static const char *const files[] = { "entries", "index", "tree", "heads", "lock", "public.key" };
	for (size_t i = 0; i < 6; i++) {
		char p[4400];
		snprintf(p, sizeof(p), "%s/%s", from, files[i]);
		size_t len;
		char *d = read_file(p, &len);
		assert_non_null(d);
		put(f, files[i], d, len);
		free(d);
	}
}

static void test_witness(void **state)
{
	struct fixture *f = *state;
	char wdir[4300], saved[4300];
	snprintf(wdir, sizeof(wdir), "%s/witness", f->g.dir);
	snprintf(saved, sizeof(saved), "%s/saved", f->g.dir);
	struct run_result r;
	run_ok(f, &r, "witness first", "audit", "witness", wdir, NULL);
	assert_non_null(strstr(r.out, "pinned"));
	run_result_free(&r);
	copy_audit(f, saved); /* the log as the witness saw it */
	run_ok(f, &r, "more", "person", "show", f->reg, "--purpose", "case 77", NULL);
	run_result_free(&r);
	run_ok(f, &r, "witness again", "audit", "witness", wdir, "--json", NULL);
	assert_non_null(strstr(r.out, "\"accepted\":true"));
	assert_non_null(strstr(r.out, "\"appended\":true"));
	run_result_free(&r);

	/* rolled back to what it was before: refused */
	char later[4300];
	snprintf(later, sizeof(later), "%s/later", f->g.dir);
	copy_audit(f, later);
	restore_audit(f, saved);
	run_on(&r, &f->g, "audit", "witness", wdir, NULL);
	assert_exit(&r, 3, "witness of a rolled-back log");
	assert_non_null(strstr(r.err, "shrank"));
	run_result_free(&r);

	/* forked: the old log grown with other entries, past the witness */
	for (int i = 0; i < 3; i++) {
		run_ok(f, &r, "fork", "person", "show", f->reg, "--purpose", "rewritten history", NULL);
		run_result_free(&r);
	}
	run_on(&r, &f->g, "audit", "witness", wdir, NULL);
	assert_exit(&r, 3, "witness of a forked log");
	assert_non_null(strstr(r.err, "not consistent"));
	run_result_free(&r);

	/* the true log, grown further, is accepted again */
	restore_audit(f, later);
	run_ok(f, &r, "more", "person", "show", f->reg, "--purpose", "case 78", NULL);
	run_result_free(&r);
	run_ok(f, &r, "witness after", "audit", "witness", wdir, NULL);
	assert_non_null(strstr(r.out, "consistent"));
	run_result_free(&r);
}

static void test_usage(void **state)
{
	struct fixture *f = *state;
	struct run_result r;
	run_on(&r, &f->g, "audit", NULL);
	assert_exit(&r, 2, "audit without subcommand");
	run_result_free(&r);
	run_on(&r, &f->g, "audit", "prove", "x", NULL);
	assert_exit(&r, 2, "audit prove x");
	run_result_free(&r);
	run_on(&r, &f->g, "audit", "prove", "999", NULL);
	assert_exit(&r, 1, "audit prove past the head");
	run_result_free(&r);
	run_on(&r, &f->g, "audit", "query", NULL);
	assert_exit(&r, 2, "audit query without filter");
	run_result_free(&r);
	run_on(&r, &f->g, "audit", "consistency", "9", "3", NULL);
	assert_exit(&r, 2, "consistency backwards");
	run_result_free(&r);
	run_on(&r, NULL, "audit", "--help", NULL);
	assert_exit(&r, 0, "audit --help");
	assert_non_null(strstr(r.out, "check-proof"));
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_head_verify_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proofs_checked_by_third_party, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_catches_tampering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_witness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
