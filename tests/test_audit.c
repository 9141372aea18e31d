/*
 * test_audit.c - the audit log on real files: appends and group commit,
 * proofs, recovery after a crash (kill -9 during concurrent appends), fail
 * closed on a write error, and `verify` catching every kind of tampering:
 * a flipped byte in any file, a deleted, swapped or inserted entry, a
 * truncation, a replaced head.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit/log.h"

struct fixture {
	char root[256];
	char dir[300];
	uint8_t pk[AUDIT_PUBLIC_KEY_BYTES];
	uint8_t sk[AUDIT_SECRET_KEY_BYTES];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "/tmp/amana-test-audit-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/audit", f->root);
	crypto_sign_keypair(f->pk, f->sk);
	if (audit_create(f->dir, f->pk) != AMANA_OK)
		return -1;
	*state = f;
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = nftw(f->root, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return rc;
}

static void make_entry(struct audit_entry *e, unsigned writer, unsigned i)
{
	memset(e, 0, sizeof(*e));
	e->time_ms = 1700000000000 + i;
	e->outcome = i % 7 == 0 ? AUDIT_DENIED : AUDIT_ALLOWED;
	snprintf(e->principal, sizeof(e->principal), "agent:w%u", writer);
	snprintf(e->role, sizeof(e->role), "agent");
	snprintf(e->action, sizeof(e->action), "person.show");
	if (e->outcome == AUDIT_DENIED)
		snprintf(e->reason, sizeof(e->reason), "no purpose given");
	snprintf(e->request_id, sizeof(e->request_id), "%u-%u", writer, i);
	snprintf(e->client, sizeof(e->client), "127.0.0.1");
	/* variable length, so a swap of two entries moves bytes around */
	for (unsigned k = 0; k < i % 5; k++)
		audit_entry_subject(e, AUDIT_SUBJECT_PERSON, (int64_t)(writer * 100000 + i * 10 + k));
	e->purpose_len = 16 + i % 9;
	memset(e->purpose_sealed, 0xA5, e->purpose_len);
}

/* Submit make_entry(writer, i) to log (it must take it); its ticket. */
static uint64_t submit_one(struct audit_log *log, unsigned writer, unsigned i)
{
	struct audit_entry e;
	make_entry(&e, writer, i);
	uint64_t ticket = 0;
	assert_int_equal(audit_submit(log, &e, &ticket), AMANA_OK);
	return ticket;
}

static struct audit_log *open_log(struct fixture *f)
{
	struct audit_log *log = NULL;
	char why[200] = "";
	enum amana_err err = audit_open(f->dir, f->sk, &log, why, sizeof(why));
	if (err)
		fail_msg("audit_open: %s (%s)", amana_strerror(err), why);
	return log;
}

static void append_n(struct audit_log *log, unsigned writer, unsigned from, unsigned n)
{
	for (unsigned i = from; i < from + n; i++) {
		struct audit_entry e;
		make_entry(&e, writer, i);
		uint64_t seq;
		assert_int_equal(audit_append(log, &e, &seq), AMANA_OK);
	}
}

static struct audit_verify_report verify(struct fixture *f)
{
	struct audit_verify_report rep;
	assert_int_equal(audit_verify(f->dir, f->pk, &rep), AMANA_OK);
	return rep;
}

static void expect_ok(struct fixture *f, uint64_t entries)
{
	struct audit_verify_report rep = verify(f);
	if (!rep.ok)
		fail_msg("verify: %s %llu @%llu: %s", rep.file, (unsigned long long)rep.position,
			 (unsigned long long)rep.offset, rep.problem);
	assert_int_equal(rep.entries, entries);
}

static void test_entry_round_trip(void **state)
{
	(void)state;
	struct audit_entry e, d;
	make_entry(&e, 3, 12);
	uint8_t buf[AUDIT_ENTRY_MAX];
	size_t len;
	assert_int_equal(audit_entry_encode(&e, buf, sizeof(buf), &len), AMANA_OK);
	assert_int_equal(audit_entry_decode(buf, len, &d), AMANA_OK);
	assert_string_equal(d.principal, "agent:w3");
	assert_string_equal(d.request_id, "3-12");
	assert_int_equal(d.nsubjects, 2);
	assert_int_equal(d.subjects[1].id, 300121);
	assert_int_equal(d.purpose_len, e.purpose_len);
	/* every truncation and a trailing byte are refused */
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(audit_entry_decode(buf, cut, &d), AMANA_ERR_CORRUPT);
	buf[len] = 0;
	assert_int_equal(audit_entry_decode(buf, len + 1, &d), AMANA_ERR_CORRUPT);
	/* control characters cannot be smuggled into a field */
	snprintf(e.reason, sizeof(e.reason), "line\nbreak");
	assert_int_equal(audit_entry_encode(&e, buf, sizeof(buf), &len), AMANA_ERR_USAGE);
	/* past the cap, subjects are counted, not kept */
	make_entry(&e, 1, 0);
	for (int i = 0; i < AUDIT_SUBJECTS_MAX + 10; i++)
		audit_entry_subject(&e, AUDIT_SUBJECT_EMPLOYER, i);
	assert_int_equal(e.nsubjects, AUDIT_SUBJECTS_MAX);
	assert_int_equal(e.subjects_total, AUDIT_SUBJECTS_MAX + 10);
	assert_int_equal(audit_entry_encode(&e, buf, sizeof(buf), &len), AMANA_OK);
	assert_int_equal(audit_entry_decode(buf, len, &d), AMANA_OK);
	assert_int_equal(d.subjects_total, AUDIT_SUBJECTS_MAX + 10);
}

static void test_append_reopen_prove(void **state)
{
	struct fixture *f = *state;
	expect_ok(f, 0); /* a new log verifies */
	struct audit_log *log = open_log(f);
	append_n(log, 0, 0, 37);
	assert_int_equal(audit_size(log), 37);
	assert_int_equal(audit_close(log), AMANA_OK);
	expect_ok(f, 37);

	log = open_log(f);
	append_n(log, 1, 0, 100);
	assert_int_equal(audit_sign_head(log), AMANA_OK);
	struct audit_head h;
	assert_int_equal(audit_latest_head(log, &h), AMANA_OK);
	assert_int_equal(h.size, 137);
	assert_true(audit_head_verify(&h, f->pk));
	for (uint64_t seq = 0; seq < h.size; seq++) {
		merkle_hash leaf, path[MERKLE_PROOF_MAX];
		size_t n;
		assert_int_equal(audit_inclusion(log, seq, h.size, leaf, path, &n), AMANA_OK);
		assert_true(merkle_verify_inclusion(seq, h.size, leaf, path, n, h.root));
		uint8_t buf[AUDIT_ENTRY_MAX];
		size_t len;
		merkle_hash again;
		assert_int_equal(audit_read_entry(log, seq, buf, sizeof(buf), &len), AMANA_OK);
		merkle_leaf_hash(buf, len, again);
		assert_memory_equal(again, leaf, MERKLE_HASH_BYTES);
	}
	/* the head of 37 is consistent with the head of 137 */
	struct audit_head old;
	assert_int_equal(audit_head_of_size(log, 37, &old), AMANA_OK);
	merkle_hash path[MERKLE_PROOF_MAX];
	size_t n;
	assert_int_equal(audit_consistency(log, 37, 137, path, &n), AMANA_OK);
	assert_true(merkle_verify_consistency(37, 137, old.root, h.root, path, n));
	/* nothing is proved beyond the signed head */
	merkle_hash leaf;
	assert_int_equal(audit_inclusion(log, 5, 138, leaf, path, &n), AMANA_ERR_NOTFOUND);
	assert_int_equal(audit_consistency(log, 37, 200, path, &n), AMANA_ERR_NOTFOUND);
	assert_int_equal(audit_close(log), AMANA_OK);
	expect_ok(f, 137);

	/* a reader sees the same */
	struct audit_log *ro;
	assert_int_equal(audit_open_readonly(f->dir, &ro, NULL, 0), AMANA_OK);
	merkle_hash root;
	assert_int_equal(audit_root(ro, 137, root), AMANA_OK);
	assert_memory_equal(root, h.root, MERKLE_HASH_BYTES);
	struct audit_entry e;
	assert_int_equal(audit_append(ro, (make_entry(&e, 0, 0), &e), NULL), AMANA_ERR_USAGE);
	assert_int_equal(audit_close(ro), AMANA_OK);
}

static void test_wrong_key_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t pk[32], sk[64];
	crypto_sign_keypair(pk, sk);
	struct audit_log *log = NULL;
	char why[200];
	assert_int_equal(audit_open(f->dir, sk, &log, why, sizeof(why)), AMANA_ERR_CRYPTO);
	assert_null(log);
}

struct writer_arg {
	struct audit_log *log;
	unsigned writer, count;
	uint64_t *seqs;
};

static void *writer_main(void *p)
{
	struct writer_arg *a = p;
	for (unsigned i = 0; i < a->count; i++) {
		struct audit_entry e;
		make_entry(&e, a->writer, i);
		if (audit_append(a->log, &e, &a->seqs[i]) != AMANA_OK)
			a->seqs[i] = UINT64_MAX;
	}
	return NULL;
}

static void test_concurrent_appends(void **state)
{
	struct fixture *f = *state;
	enum { WRITERS = 8, EACH = 300 };
	struct audit_log *log = open_log(f);
	pthread_t t[WRITERS];
	struct writer_arg args[WRITERS];
	static uint64_t seqs[WRITERS][EACH];
	for (unsigned w = 0; w < WRITERS; w++) {
		args[w] = (struct writer_arg){ log, w, EACH, seqs[w] };
		assert_int_equal(pthread_create(&t[w], NULL, writer_main, &args[w]), 0);
	}
	for (unsigned w = 0; w < WRITERS; w++)
		pthread_join(t[w], NULL);
	/* every seq once, each entry where its seq says */
	static uint8_t seen[WRITERS * EACH];
	memset(seen, 0, sizeof(seen));
	for (unsigned w = 0; w < WRITERS; w++) {
		for (unsigned i = 0; i < EACH; i++) {
			uint64_t s = seqs[w][i];
			assert_true(s < WRITERS * EACH);
			assert_int_equal(seen[s], 0);
			seen[s] = 1;
			uint8_t buf[AUDIT_ENTRY_MAX], want[AUDIT_ENTRY_MAX];
			size_t len, wlen;
			struct audit_entry e;
			make_entry(&e, w, i);
			assert_int_equal(audit_entry_encode(&e, want, sizeof(want), &wlen), AMANA_OK);
			assert_int_equal(audit_read_entry(log, s, buf, sizeof(buf), &len), AMANA_OK);
			assert_int_equal(len, wlen);
			assert_memory_equal(buf, want, len);
		}
	}
	assert_int_equal(audit_close(log), AMANA_OK);
	expect_ok(f, WRITERS * EACH);
}

struct pipe_arg {
	struct audit_log *log;
	unsigned writer;
};

static void *pipelined_writer(void *p)
{
	struct pipe_arg *a = p;
	uint64_t tickets[100];
	for (unsigned i = 0; i < 100; i++) {
		struct audit_entry e;
		make_entry(&e, a->writer, i);
		if (audit_submit(a->log, &e, &tickets[i]) != AMANA_OK)
			return (void *)1;
		if (i >= 10 && audit_wait(a->log, tickets[i - 10]) != AMANA_OK)
			return (void *)2;
	}
	return audit_wait(a->log, tickets[99]) == AMANA_OK ? NULL : (void *)3;
}

/* Four threads of pipelined_writer, writers first..first+3; all done. */
static void pipelined_writers(struct audit_log *log, unsigned first)
{
	pthread_t t[4];
	struct pipe_arg a[4];
	for (unsigned w = 0; w < 4; w++) {
		a[w] = (struct pipe_arg){ log, first + w };
		assert_int_equal(pthread_create(&t[w], NULL, pipelined_writer, &a[w]), 0);
	}
	for (unsigned w = 0; w < 4; w++) {
		void *rc;
		pthread_join(t[w], &rc);
		assert_null(rc);
	}
}

/* Queued entries with tickets: all durable, in order, once waited for. */
static void test_pipelined_appends(void **state)
{
	struct fixture *f = *state;
	struct audit_log *log = open_log(f);
	pipelined_writers(log, 20);
	assert_int_equal(audit_size(log), 400);
	/* a ticket is durable once waited for: a new one right after */
	uint64_t ticket = submit_one(log, 30, 0);
	assert_int_equal(ticket, 401);
	assert_int_equal(audit_wait(log, ticket), AMANA_OK);
	assert_int_equal(audit_size(log), 401);
	assert_int_equal(audit_close(log), AMANA_OK);
	expect_ok(f, 401);
}

/* Two processes appending to one log at the same time. */
static void test_two_processes(void **state)
{
	struct fixture *f = *state;
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		assert_true(kids[k] >= 0);
		if (kids[k] == 0) {
			struct audit_log *log = NULL;
			if (audit_open(f->dir, f->sk, &log, NULL, 0) != AMANA_OK)
				_exit(2);
			for (unsigned i = 0; i < 200; i++) {
				struct audit_entry e;
				make_entry(&e, 10 + (unsigned)k, i);
				if (audit_append(log, &e, NULL) != AMANA_OK)
					_exit(3);
			}
			_exit(audit_close(log) == AMANA_OK ? 0 : 4);
		}
	}
	for (int k = 0; k < 2; k++) {
		int st;
		assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	expect_ok(f, 400);
}

/* ---- tampering ---- */

static char *path_in(struct fixture *f, const char *name)
{
	static char p[400];
	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	return p;
}

static size_t read_file(const char *path, uint8_t **out)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	*out = malloc((size_t)n + 1);
	assert_int_equal(fread(*out, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return (size_t)n;
}

static void write_file(const char *path, const uint8_t *data, size_t n)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, n, fp), n);
	fclose(fp);
}

/* Apply fn to a copy of the file, expect verify to fail at file/position,
 * restore. */
static void expect_caught(struct fixture *f, const char *name, const uint8_t *data, size_t n, const char *want_file)
{
	write_file(path_in(f, name), data, n);
	struct audit_verify_report rep = verify(f);
	if (rep.ok)
		fail_msg("tampering with %s was not caught", name);
	if (want_file && strcmp(rep.file, want_file) != 0)
		fail_msg("tampering with %s reported in %s: %s", name, rep.file, rep.problem);
	assert_true(rep.problem[0] != 0);
}

static void fill_log(struct fixture *f, unsigned n)
{
	struct audit_log *log = open_log(f);
	append_n(log, 0, 0, n / 2);
	assert_int_equal(audit_sign_head(log), AMANA_OK);
	append_n(log, 0, n / 2, n - n / 2);
	assert_int_equal(audit_close(log), AMANA_OK);
	expect_ok(f, n);
}

static void test_flip_any_byte(void **state)
{
	struct fixture *f = *state;
	fill_log(f, 40);
	static const char *const files[] = { "entries", "index", "tree", "heads" };
	for (size_t i = 0; i < 4; i++) {
		uint8_t *orig;
		size_t n = read_file(path_in(f, files[i]), &orig);
		assert_true(n > 0);
		uint8_t *copy = malloc(n);
		/* every byte of the small files, a spread of the others */
		size_t step = n < 4096 ? 1 : 7;
		for (size_t at = 0; at < n; at += step) {
			memcpy(copy, orig, n);
			copy[at] ^= (uint8_t)(1u << (at % 8));
			expect_caught(f, files[i], copy, n, NULL);
		}
		write_file(path_in(f, files[i]), orig, n);
		free(copy);
		free(orig);
	}
	expect_ok(f, 40);
}

/* Offsets of the records in entries, from the index. */
static size_t record_bounds(struct fixture *f, uint64_t **offs)
{
	uint8_t *idx;
	size_t n = read_file(path_in(f, "index"), &idx) / 8;
	*offs = calloc(n + 1, sizeof(**offs));
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;
		for (int b = 0; b < 8; b++)
			v |= (uint64_t)idx[i * 8 + (size_t)b] << (8 * b);
		(*offs)[i] = v;
	}
	struct stat st;
	assert_int_equal(stat(path_in(f, "entries"), &st), 0);
	(*offs)[n] = (uint64_t)st.st_size;
	free(idx);
	return n;
}

static void test_delete_swap_insert_truncate(void **state)
{
	struct fixture *f = *state;
	fill_log(f, 30);
	uint8_t *orig;
	size_t size = read_file(path_in(f, "entries"), &orig);
	uint64_t *off;
	size_t n = record_bounds(f, &off);
	assert_int_equal(n, 30);
	uint8_t *copy = malloc(size * 2);

	/* delete entry 12 */
	size_t len12 = (size_t)(off[13] - off[12]);
	memcpy(copy, orig, off[12]);
	memcpy(copy + off[12], orig + off[13], size - off[13]);
	expect_caught(f, "entries", copy, size - len12, NULL);
	struct audit_verify_report rep = verify(f);
	assert_true(rep.position <= 12 || strcmp(rep.file, "entries") != 0);

	/* swap entries 4 and 5 */
	size_t l4 = (size_t)(off[5] - off[4]), l5 = (size_t)(off[6] - off[5]);
	memcpy(copy, orig, size);
	memcpy(copy + off[4], orig + off[5], l5);
	memcpy(copy + off[4] + l5, orig + off[4], l4);
	expect_caught(f, "entries", copy, size, NULL);

	/* insert a copy of entry 7 after entry 20 */
	size_t l7 = (size_t)(off[8] - off[7]);
	memcpy(copy, orig, off[21]);
	memcpy(copy + off[21], orig + off[7], l7);
	memcpy(copy + off[21] + l7, orig + off[21], size - off[21]);
	expect_caught(f, "entries", copy, size + l7, NULL);

	/* truncate: the last entry, half of one, everything */
	expect_caught(f, "entries", orig, off[29], "heads");
	expect_caught(f, "entries", orig, off[29] + 3, NULL);
	expect_caught(f, "entries", orig, 0, "heads");
	write_file(path_in(f, "entries"), orig, size);
	expect_ok(f, 30);

	/* truncated index and tree */
	uint8_t *t;
	size_t tn = read_file(path_in(f, "tree"), &t);
	expect_caught(f, "tree", t, tn - 32, "tree");
	write_file(path_in(f, "tree"), t, tn);
	uint8_t *ix;
	size_t ixn = read_file(path_in(f, "index"), &ix);
	expect_caught(f, "index", ix, ixn - 8, "index");
	write_file(path_in(f, "index"), ix, ixn);
	expect_ok(f, 30);
	free(t);
	free(ix);
	free(copy);
	free(off);
	free(orig);
}

static void test_replaced_head(void **state)
{
	struct fixture *f = *state;
	fill_log(f, 20);
	uint8_t *heads;
	size_t n = read_file(path_in(f, "heads"), &heads);
	size_t k = n / AUDIT_HEAD_RECORD, last = (k - 1) * AUDIT_HEAD_RECORD;
	assert_true(k >= 2); /* one at 10, one at 20 (and maybe one after the first append) */
	assert_int_equal(n % AUDIT_HEAD_RECORD, 0);
	uint8_t *copy = malloc(n);

	/* the last head re-signed with another key, over the right root */
	uint8_t pk2[32], sk2[64];
	crypto_sign_keypair(pk2, sk2);
	memcpy(copy, heads, n);
	uint8_t msg[AUDIT_HEAD_MESSAGE_BYTES];
	struct audit_head h;
	h.size = 20;
	memcpy(&h.time_ms, copy + last + 16, 8);
	memcpy(h.root, copy + last + 24, 32);
	audit_head_message(&h, msg);
	crypto_sign_detached(copy + last + 56, NULL, msg, sizeof(msg), sk2);
	expect_caught(f, "heads", copy, n, "heads");

	/* the last head replaced by the first (the log rolled back) */
	memcpy(copy, heads, n);
	memcpy(copy + last, heads, AUDIT_HEAD_RECORD);
	expect_caught(f, "heads", copy, n, NULL);

	/* heads removed: entries are left uncovered */
	expect_caught(f, "heads", heads, last, "entries");
	expect_caught(f, "heads", heads, 0, "entries");
	/* a torn head */
	expect_caught(f, "heads", heads, n - 1, "heads");
	write_file(path_in(f, "heads"), heads, n);
	expect_ok(f, 20);
	free(copy);
	free(heads);
}

/* ---- recovery ---- */

static void test_recovery_cuts_torn_tail(void **state)
{
	struct fixture *f = *state;
	fill_log(f, 10);
	/* A crash left half a record after the last entry. */
	int fd = open(path_in(f, "entries"), O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	uint8_t junk[] = { 40, 0, 0, 0, 1, 2, 3 };
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	struct audit_verify_report rep = verify(f);
	assert_false(rep.ok);
	struct audit_log *log = open_log(f);
	assert_int_equal(audit_size(log), 10);
	append_n(log, 2, 0, 5);
	assert_int_equal(audit_close(log), AMANA_OK);
	expect_ok(f, 15);
}

static void test_recovery_covers_unsigned_entries(void **state)
{
	struct fixture *f = *state;
	fill_log(f, 10);
	/* A process appends and dies before signing a head. */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct audit_log *log = NULL;
		if (audit_open(f->dir, f->sk, &log, NULL, 0) != AMANA_OK)
			_exit(2);
		for (unsigned i = 0; i < 25; i++) {
			struct audit_entry e;
			make_entry(&e, 5, i);
			if (audit_append(log, &e, NULL) != AMANA_OK)
				_exit(3);
		}
		_exit(0); /* no close: no head for these */
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 0);
	struct audit_verify_report rep = verify(f);
	assert_false(rep.ok); /* not covered yet */
	struct audit_log *log = open_log(f); /* recovery signs for them */
	assert_int_equal(audit_size(log), 35);
	assert_int_equal(audit_close(log), AMANA_OK);
	expect_ok(f, 35);
}

static void test_refuses_log_shorter_than_head(void **state)
{
	struct fixture *f = *state;
	fill_log(f, 10);
	uint8_t *orig;
	size_t n = read_file(path_in(f, "entries"), &orig);
	uint64_t *off;
	record_bounds(f, &off);
	write_file(path_in(f, "entries"), orig, off[9]);
	struct audit_log *log = NULL;
	char why[200] = "";
	assert_int_equal(audit_open(f->dir, f->sk, &log, why, sizeof(why)), AMANA_ERR_CORRUPT);
	assert_null(log);
	assert_non_null(strstr(why, "verify"));
	write_file(path_in(f, "entries"), orig, n);
	free(off);
	free(orig);
	expect_ok(f, 10);
}

/* From here, any write past the present end of the log's file `name`
 * fails (EFBIG, as on a full disk), until unlimit(old). */
static void limit_to(struct fixture *f, const char *name, struct rlimit *old)
{
	struct stat st;
	assert_int_equal(stat(path_in(f, name), &st), 0);
	struct rlimit lim = { (rlim_t)st.st_size, (rlim_t)st.st_size };
	assert_int_equal(getrlimit(RLIMIT_FSIZE, old), 0);
	lim.rlim_max = old->rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
}

static void unlimit(const struct rlimit *old)
{
	assert_int_equal(setrlimit(RLIMIT_FSIZE, old), 0);
	signal(SIGXFSZ, SIG_DFL);
}

/* The durable hook: told after every batch, with no lock of the log held
 * (it reads the log's state itself, which would deadlock otherwise), never
 * with less than was durable when the writer's wait returned, never again
 * once removed; and told when the log breaks. */
struct hook_seen {
	pthread_mutex_t m;
	pthread_cond_t cv;
	struct audit_log *log;
	uint64_t max_durable, calls;
	enum amana_err broken;
	bool mismatch;
};

static void hook(void *ctx, uint64_t durable, enum amana_err broken)
{
	struct hook_seen *h = ctx;
	uint64_t now = 0;
	enum amana_err err = audit_durable(h->log, &now); /* takes the log's mutex */
	pthread_mutex_lock(&h->m);
	if (now < durable || err != broken)
		h->mismatch = true;
	if (durable > h->max_durable)
		h->max_durable = durable;
	if (broken)
		h->broken = broken;
	h->calls++;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->m);
}

/* Wait (at most 10 s) until the hook has seen `durable` or a break. */
static void hook_wait(struct hook_seen *h, uint64_t durable, bool broken)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&h->m);
	while ((broken ? h->broken == AMANA_OK : h->max_durable < durable) &&
	       pthread_cond_timedwait(&h->cv, &h->m, &until) == 0)
		;
	pthread_mutex_unlock(&h->m);
}

static void test_durable_hook(void **state)
{
	struct fixture *f = *state;
	fill_log(f, 3);
	struct audit_log *log = open_log(f);
	struct hook_seen h = { .log = log };
	pthread_mutex_init(&h.m, NULL);
	pthread_cond_init(&h.cv, NULL);
	uint64_t durable = 99;
	assert_int_equal(audit_durable(log, &durable), AMANA_OK);
	assert_int_equal(durable, 0); /* counted from this opening */
	audit_on_durable(log, hook, &h);
	pipelined_writers(log, 40);
	hook_wait(&h, 400, false);
	pthread_mutex_lock(&h.m);
	assert_int_equal(h.max_durable, 400);
	assert_true(h.calls >= 1 && h.calls <= 400);
	assert_false(h.mismatch);
	assert_int_equal(h.broken, AMANA_OK);
	pthread_mutex_unlock(&h.m);
	assert_int_equal(audit_durable(log, &durable), AMANA_OK);
	assert_int_equal(durable, 400);

	/* removed: a later batch is not told (counted once removal returned:
	 * a call already under way finishes before it does) */
	audit_on_durable(log, NULL, NULL);
	pthread_mutex_lock(&h.m);
	uint64_t calls = h.calls;
	pthread_mutex_unlock(&h.m);
	append_n(log, 9, 0, 5);
	pthread_mutex_lock(&h.m);
	assert_int_equal(h.calls, calls);
	pthread_mutex_unlock(&h.m);

	/* a broken log is told, and says so without waiting */
	assert_int_equal(audit_sign_head(log), AMANA_OK);
	audit_on_durable(log, hook, &h);
	struct rlimit old;
	limit_to(f, "entries", &old);
	uint64_t ticket = submit_one(log, 9, 5);
	assert_int_equal(ticket, 406);
	assert_int_equal(audit_wait(log, ticket), AMANA_ERR_IO);
	unlimit(&old);
	hook_wait(&h, 0, true);
	pthread_mutex_lock(&h.m);
	assert_int_equal(h.broken, AMANA_ERR_IO);
	assert_int_equal(h.max_durable, 405);
	assert_false(h.mismatch);
	pthread_mutex_unlock(&h.m);
	assert_int_equal(audit_durable(log, &durable), AMANA_ERR_IO);
	assert_int_equal(durable, 405);
	audit_on_durable(log, NULL, NULL);
	(void)audit_close(log);
	pthread_cond_destroy(&h.cv);
	pthread_mutex_destroy(&h.m);
	expect_ok(f, 408);
}

/* An entry submitted while another thread's own append is being written
 * (it finds a flush in flight and wakes no one) is still written once that
 * append is done, with nobody waiting on it: a server's held answer does
 * not hang until the next request. */
struct sync_arg {
	struct audit_log *log;
	enum amana_err err;
};

static void *sync_appender(void *p)
{
	struct sync_arg *a = p;
	struct audit_entry e;
	make_entry(&e, 60, 0);
	a->err = audit_append(a->log, &e, NULL);
	return NULL;
}

static void *signer(void *p)
{
	struct sync_arg *a = p;
	a->err = audit_sign_head(a->log);
	return NULL;
}

/* With the log's file lock held here, `leader` (sync_appender, signer)
 * runs in a thread and takes the leader's turn, waiting on the lock; an
 * entry of `writer` is submitted meanwhile; the lock is let go and the
 * leader's turn ends well. The entry's ticket, 2 (one entry before). */
static uint64_t submit_during(struct fixture *f, struct audit_log *log, void *(*leader)(void *), unsigned writer)
{
	int lock = open(path_in(f, "lock"), O_RDWR);
	assert_true(lock >= 0);
	assert_int_equal(flock(lock, LOCK_EX), 0);
	struct sync_arg a = { log, AMANA_ERR_IO };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, leader, &a), 0);
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	nanosleep(&pause, NULL); /* the leader is waiting on the lock */
	uint64_t ticket = submit_one(log, writer, 1);
	assert_int_equal(ticket, 2);
	assert_int_equal(flock(lock, LOCK_UN), 0);
	close(lock);
	pthread_join(t, NULL);
	assert_int_equal(a.err, AMANA_OK);
	return ticket;
}

static void test_submit_during_sync_append(void **state)
{
	struct fixture *f = *state;
	struct audit_log *log = open_log(f);
	uint64_t ticket = submit_during(f, log, sync_appender, 61);
	/* nobody waits on the ticket: it becomes durable on its own */
	uint64_t durable = 0;
	for (int i = 0; i < 500 && durable < ticket; i++) {
		assert_int_equal(audit_durable(log, &durable), AMANA_OK);
		if (durable < ticket) {
			struct timespec tick = { 0, 10 * 1000 * 1000 };
			nanosleep(&tick, NULL);
		}
	}
	assert_int_equal(durable, 2);
	assert_int_equal(audit_close(log), AMANA_OK);
	expect_ok(f, 2);
}

/* The same while a head is being signed (a leader's turn too): the entry
 * submitted meanwhile is written with nobody waiting on it, and the hook
 * hears of it. A head that cannot be signed breaks the log, and the hook
 * is told that too (a server's held answers would otherwise hang). */
static void test_submit_during_sign_head(void **state)
{
	struct fixture *f = *state;
	struct audit_log *log = open_log(f);
	struct hook_seen h = { .log = log };
	pthread_mutex_init(&h.m, NULL);
	pthread_cond_init(&h.cv, NULL);
	audit_on_durable(log, hook, &h);
	append_n(log, 62, 0, 1);
	uint64_t ticket = submit_during(f, log, signer, 62);
	hook_wait(&h, ticket, false);
	pthread_mutex_lock(&h.m);
	assert_int_equal(h.max_durable, 2);
	assert_false(h.mismatch);
	pthread_mutex_unlock(&h.m);

	/* a head that cannot be written: the log breaks, the hook is told */
	append_n(log, 62, 2, 1);
	struct rlimit old;
	limit_to(f, "heads", &old);
	enum amana_err err = audit_sign_head(log);
	unlimit(&old);
	assert_int_equal(err, AMANA_ERR_IO);
	hook_wait(&h, 0, true);
	pthread_mutex_lock(&h.m);
	assert_int_equal(h.broken, AMANA_ERR_IO);
	assert_int_equal(h.max_durable, 3);
	pthread_mutex_unlock(&h.m);
	audit_on_durable(log, NULL, NULL);
	(void)audit_close(log);
	pthread_cond_destroy(&h.cv);
	pthread_mutex_destroy(&h.m);
}

static void test_fail_closed_on_write_error(void **state)
{
	struct fixture *f = *state;
	fill_log(f, 4);
	struct audit_log *log = open_log(f);
	/* Any write past the current end of a file now fails (EFBIG). */
	struct rlimit old;
	limit_to(f, "entries", &old);
	struct audit_entry e;
	make_entry(&e, 0, 1);
	assert_int_equal(audit_append(log, &e, NULL), AMANA_ERR_IO);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	/* and it stays failed: nothing is served after a lost entry */
	assert_int_equal(audit_append(log, &e, NULL), AMANA_ERR_IO);
	(void)audit_close(log);
	unlimit(&old);
	expect_ok(f, 4);
}

/* ---- kill -9 during concurrent appends ---- */

struct ack_arg {
	struct audit_log *log;
	unsigned writer;
	int fd;
};

static void *acking_writer(void *p)
{
	struct ack_arg *a = p;
	for (unsigned i = 0;; i++) {
		struct audit_entry e;
		make_entry(&e, a->writer, i);
		uint64_t seq;
		if (audit_append(a->log, &e, &seq) != AMANA_OK)
			_exit(5);
		/* acknowledged: the caller now knows (writer, i) is at seq */
		uint64_t rec[3] = { a->writer, i, seq };
		if (write(a->fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec))
			_exit(6);
	}
	return NULL;
}

static void test_kill9_during_appends(void **state)
{
	struct fixture *f = *state;
	enum { WRITERS = 6, ROUNDS = 6 };
	size_t acked_total = 0;
	unsigned seed = (unsigned)time(NULL);
	for (int round = 0; round < ROUNDS; round++) {
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			struct audit_log *log = NULL;
			if (audit_open(f->dir, f->sk, &log, NULL, 0) != AMANA_OK)
				_exit(2);
			pthread_t t[WRITERS];
			static struct ack_arg args[WRITERS];
			for (unsigned w = 0; w < WRITERS; w++) {
				args[w] = (struct ack_arg){ log, (unsigned)round * 100 + w, fds[1] };
				pthread_create(&t[w], NULL, acking_writer, &args[w]);
			}
			for (;;)
				pause();
		}
		close(fds[1]);
		/* Let it run 20 to 200 ms, then kill it mid-write. */
		struct timespec ts = { 0, (long)(20 + rand_r(&seed) % 180) * 1000000L };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int st;
		waitpid(pid, &st, 0);
		assert_true(WIFSIGNALED(st));
		/* Everything acknowledged before the kill. */
		uint64_t rec[3];
		size_t got = 0;
		uint64_t(*acks)[3] = NULL;
		size_t cap = 0;
		ssize_t r;
		while ((r = read(fds[0], rec, sizeof(rec))) == (ssize_t)sizeof(rec)) {
			if (got == cap) {
				cap = cap ? cap * 2 : 1024;
				acks = realloc(acks, cap * sizeof(*acks));
			}
			memcpy(acks[got++], rec, sizeof(rec));
		}
		close(fds[0]);
		assert_true(got > 0);
		acked_total += got;

		struct audit_log *log = open_log(f); /* recovery */
		for (size_t k = 0; k < got; k++) {
			uint8_t buf[AUDIT_ENTRY_MAX], want[AUDIT_ENTRY_MAX];
			size_t len, wlen;
			struct audit_entry e;
			make_entry(&e, (unsigned)acks[k][0], (unsigned)acks[k][1]);
			assert_int_equal(audit_entry_encode(&e, want, sizeof(want), &wlen), AMANA_OK);
			if (audit_read_entry(log, acks[k][2], buf, sizeof(buf), &len) != AMANA_OK || len != wlen ||
			    memcmp(buf, want, len) != 0)
				fail_msg("round %d: acknowledged entry %llu (writer %llu, #%llu) is missing", round,
					 (unsigned long long)acks[k][2], (unsigned long long)acks[k][0],
					 (unsigned long long)acks[k][1]);
		}
		assert_true(audit_size(log) >= got);
		assert_int_equal(audit_close(log), AMANA_OK);
		struct audit_verify_report rep = verify(f);
		if (!rep.ok)
			fail_msg("round %d: verify after recovery: %s %llu: %s", round, rep.file,
				 (unsigned long long)rep.position, rep.problem);
		free(acks);
	}
	assert_true(acked_total > 0);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_round_trip),
		cmocka_unit_test_setup_teardown(test_append_reopen_prove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_appends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_appends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durable_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_submit_during_sync_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_submit_during_sign_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flip_any_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_swap_insert_truncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaced_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_cuts_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_covers_unsigned_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_log_shorter_than_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_closed_on_write_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill9_during_appends, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
