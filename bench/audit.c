/*
 * audit.c - the audit log benchmark (issue 3), through the real audit/
 * code on real files:
 *   1. durable appends per second with 1, 8 and 64 writer threads, each
 *      append returning only once its entry is fsynced (group commit);
 *   2. this machine's SHA-256 rate (libsodium), the limit for hashing;
 *   3. a log of BIG entries built in large durable batches, then the time
 *      of inclusion and consistency proofs against its head (random
 *      positions, the node file in the page cache as a busy server has it);
 *   4. the full verify rate over that log, against the SHA-256 rate.
 *
 * usage: bench_audit WORKDIR [BIG_ENTRIES [SECONDS]]
 *        defaults 100000000 entries, 3 s per concurrency level
 * prints Markdown for docs/BENCHMARKS.md
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/log.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, enum amana_err err)
{
	fprintf(stderr, "bench_audit: %s: %s\n", what, amana_strerror(err));
	exit(1);
}

/* An entry like the service writes for an agent reading one person. */
static void typical_entry(struct audit_entry *e, unsigned writer, uint64_t i)
{
	memset(e, 0, sizeof(*e));
	e->time_ms = 1795000000000 + (int64_t)i;
	e->outcome = AUDIT_ALLOWED;
	snprintf(e->principal, sizeof(e->principal), "agent:casablanca-%03u", writer);
	snprintf(e->role, sizeof(e->role), "agent");
	snprintf(e->action, sizeof(e->action), "person.show");
	snprintf(e->request_id, sizeof(e->request_id), "%016llx", (unsigned long long)(i * 2654435761u + writer));
	snprintf(e->client, sizeof(e->client), "10.20.%u.%u", writer % 250, (unsigned)(i % 250));
	e->purpose_len = 60; /* a sealed case reference */
	memset(e->purpose_sealed, 0x5a, e->purpose_len);
	audit_entry_subject(e, AUDIT_SUBJECT_PERSON, (int64_t)(i % 33000000));
}

struct writer {
	struct audit_log *log;
	unsigned id;
	unsigned window; /* 0: each append waits for its fsync */
	volatile const int *stop;
	uint64_t done;
};

/* A writer with `window` entries in flight: it queues, and waits for an
 * entry only when it has that many unacknowledged (a server thread serving
 * many connections, each response waiting for its own entry). */
static void *writer_main(void *p)
{
	struct writer *w = p;
	struct audit_entry e;
	uint64_t tickets[4096];
	uint64_t head = 0, tail = 0;
	while (!*w->stop) {
		typical_entry(&e, w->id, w->done);
		enum amana_err err;
		if (w->window == 0) {
			if ((err = audit_append(w->log, &e, NULL)))
				die("append", err);
			w->done++;
			continue;
		}
		if ((err = audit_submit(w->log, &e, &tickets[head++ % 4096])))
			die("submit", err);
		if (head - tail >= w->window) {
			if ((err = audit_wait(w->log, tickets[tail++ % 4096])))
				die("wait", err);
			w->done++;
		}
	}
	while (tail < head) {
		enum amana_err err = audit_wait(w->log, tickets[tail++ % 4096]);
		if (err)
			die("wait", err);
		w->done++;
	}
	return NULL;
}

static void fresh_log(const char *dir, const uint8_t pk[32])
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "%s/entries", dir);
	if (access(cmd, F_OK) == 0) {
		static const char *const files[] = { "entries", "index", "tree", "heads", "lock", "public.key" };
		for (size_t i = 0; i < 6; i++) {
			snprintf(cmd, sizeof(cmd), "%s/%s", dir, files[i]);
			unlink(cmd);
		}
		rmdir(dir);
	}
	enum amana_err err = audit_create(dir, pk);
	if (err)
		die("create", err);
}

static double appends(const char *dir, const uint8_t pk[32], const uint8_t sk[64], unsigned writers, unsigned window,
		      double seconds, uint64_t *count)
{
	fresh_log(dir, pk);
	struct audit_log *log;
	char why[200];
	enum amana_err err = audit_open(dir, sk, &log, why, sizeof(why));
	if (err)
		die(why, err);
	static volatile int stop;
	stop = 0;
	struct writer *w = calloc(writers, sizeof(*w));
	pthread_t *t = calloc(writers, sizeof(*t));
	double t0 = now_s();
	for (unsigned i = 0; i < writers; i++) {
		w[i] = (struct writer){ log, i, window, (volatile const int *)&stop, 0 };
		pthread_create(&t[i], NULL, writer_main, &w[i]);
	}
	while (now_s() - t0 < seconds)
		usleep(10000);
	stop = 1;
	uint64_t total = 0;
	for (unsigned i = 0; i < writers; i++) {
		pthread_join(t[i], NULL);
		total += w[i].done;
	}
	double dt = now_s() - t0;
	if ((err = audit_close(log)))
		die("close", err);
	struct audit_verify_report rep;
	if ((err = audit_verify(dir, pk, &rep)) || !rep.ok || rep.entries != total)
		die("verify after appends", err ? err : AMANA_ERR_CORRUPT);
	free(w);
	free(t);
	*count = total;
	return (double)total / dt;
}

/* libsodium SHA-256 over messages of len bytes: hashes per second. */
static double sha_rate(size_t len, double seconds)
{
	uint8_t msg[256], out[32];
	memset(msg, 7, sizeof(msg));
	uint64_t n = 0;
	double t0 = now_s(), dt;
	do {
		for (int i = 0; i < 10000; i++) {
			msg[0] = (uint8_t)n;
			crypto_hash_sha256(out, msg, len);
			n++;
		}
		dt = now_s() - t0;
	} while (dt < seconds);
	return (double)n / dt;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_audit WORKDIR [BIG_ENTRIES [SECONDS]]\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	const char *work = argv[1];
	uint64_t big = argc > 2 ? strtoull(argv[2], NULL, 10) : 100000000ull;
	double seconds = argc > 3 ? atof(argv[3]) : 3.0;
	mkdir(work, 0700);
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/audit", work);
	uint8_t pk[32], sk[64];
	crypto_sign_keypair(pk, sk);

	/* 1. durable appends: each waiting for its own fsync, then with a
	 * window of WINDOW entries in flight per writer */
	enum { WINDOW = 256 };
	static const unsigned levels[] = { 1, 8, 64 };
	double rate[3], prate[3];
	uint64_t counts[3], pcounts[3];
	for (int i = 0; i < 3; i++) {
		rate[i] = appends(dir, pk, sk, levels[i], 0, seconds, &counts[i]);
		fprintf(stderr, "appends, %u writers: %.0f/s\n", levels[i], rate[i]);
	}
	for (int i = 0; i < 3; i++) {
		prate[i] = appends(dir, pk, sk, levels[i], WINDOW, seconds, &pcounts[i]);
		fprintf(stderr, "pipelined appends, %u writers: %.0f/s\n", levels[i], prate[i]);
	}
	struct audit_entry e;
	uint8_t enc[AUDIT_ENTRY_MAX];
	size_t elen;
	typical_entry(&e, 1, 1);
	if (audit_entry_encode(&e, enc, sizeof(enc), &elen))
		return 1;

	/* 2. SHA-256 */
	double sha_leaf = sha_rate(elen + 1, 1.0), sha_node = sha_rate(65, 1.0);

	/* 3. a big log, built in durable batches of 1M, of small valid
	 * entries (the proofs' cost does not depend on entry size, the build
	 * and verify times do: verify is also reported per byte) */
	struct audit_entry small;
	memset(&small, 0, sizeof(small));
	snprintf(small.principal, sizeof(small.principal), "bench");
	snprintf(small.action, sizeof(small.action), "bulk");
	uint8_t senc[AUDIT_ENTRY_MAX];
	size_t slen;
	if (audit_entry_encode(&small, senc, sizeof(senc), &slen) || slen > 64)
		return 1;
	fresh_log(dir, pk);
	struct audit_log *log;
	char why[200];
	enum amana_err err = audit_open(dir, sk, &log, why, sizeof(why));
	if (err)
		die(why, err);
	enum { BATCH = 1 << 20 };
	const uint8_t **ptrs = malloc(BATCH * sizeof(*ptrs));
	size_t *lens = malloc(BATCH * sizeof(*lens));
	uint8_t *bytes = malloc((size_t)BATCH * 64);
	double t0 = now_s();
	for (uint64_t done = 0; done < big;) {
		size_t n = big - done < BATCH ? (size_t)(big - done) : BATCH;
		for (size_t i = 0; i < n; i++) {
			uint8_t *p = bytes + i * 64;
			memcpy(p, senc, slen);
			uint64_t v = done + i; /* the time field: distinct entries */
			memcpy(p + 1, &v, 8);
			ptrs[i] = p;
			lens[i] = slen;
		}
		if ((err = audit_append_encoded(log, ptrs, lens, n, NULL)))
			die("bulk append", err);
		done += n;
		if (done % (16 * BATCH) == 0)
			fprintf(stderr, "built %llu entries\n", (unsigned long long)done);
	}
	if ((err = audit_sign_head(log)))
		die("sign", err);
	double build_s = now_s() - t0;
	struct audit_head head;
	if ((err = audit_latest_head(log, &head)))
		die("head", err);

	enum { PROOFS = 20000 };
	double *ti = malloc(PROOFS * sizeof(double)), *tc = malloc(PROOFS * sizeof(double));
	merkle_hash path[MERKLE_PROOF_MAX], leaf;
	size_t n;
	/* warm-up: a server's node file lives in the page cache */
	for (int i = 0; i < 1000; i++)
		if (audit_inclusion(log, rnd() % head.size, head.size, leaf, path, &n))
			die("inclusion", AMANA_ERR_IO);
	for (int i = 0; i < PROOFS; i++) {
		uint64_t seq = rnd() % head.size;
		double a = now_s();
		err = audit_inclusion(log, seq, head.size, leaf, path, &n);
		ti[i] = now_s() - a;
		if (err || !merkle_verify_inclusion(seq, head.size, leaf, path, n, head.root))
			die("inclusion proof", err ? err : AMANA_ERR_CORRUPT);
	}
	for (int i = 0; i < PROOFS; i++) {
		uint64_t old = 1 + rnd() % (head.size - 1);
		merkle_hash old_root;
		if ((err = audit_root(log, old, old_root)))
			die("root", err);
		double a = now_s();
		err = audit_consistency(log, old, head.size, path, &n);
		tc[i] = now_s() - a;
		if (err || !merkle_verify_consistency(old, head.size, old_root, head.root, path, n))
			die("consistency proof", err ? err : AMANA_ERR_CORRUPT);
	}
	qsort(ti, PROOFS, sizeof(double), cmp_double);
	qsort(tc, PROOFS, sizeof(double), cmp_double);
	double ti_mean = 0, tc_mean = 0;
	for (int i = 0; i < PROOFS; i++) {
		ti_mean += ti[i];
		tc_mean += tc[i];
	}
	ti_mean /= PROOFS;
	tc_mean /= PROOFS;
	if ((err = audit_close(log)))
		die("close", err);

	/* 4. full verify */
	struct audit_verify_report rep;
	t0 = now_s();
	if ((err = audit_verify(dir, pk, &rep)) || !rep.ok)
		die(rep.problem[0] ? rep.problem : "verify", err ? err : AMANA_ERR_CORRUPT);
	double verify_s = now_s() - t0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	/* The hashing verify must do: one leaf hash per entry and one node
	 * hash per completed subtree (n - 1 in all). */
	double sha_small = sha_rate(slen + 1, 1.0); /* the big log's leaves */
	double hash_limit_s = (double)rep.entries / sha_small + (double)(rep.entries - 1) / sha_node;

	printf("| measure | result | limit or goal |\n|---|---|---|\n");
	for (int i = 0; i < 3; i++)
		printf(
		    "| durable appends/s, %u writer%s, each append waiting for its fsync (%.0f s, %llu entries of %zu "
		    "bytes) | **%.0f** | goal >= 200,000 |\n",
		    levels[i], levels[i] > 1 ? "s" : "", seconds, (unsigned long long)counts[i], elen, rate[i]);
	for (int i = 0; i < 3; i++)
		printf(
		    "| durable appends/s, %u writer%s, %d entries in flight each (%.0f s, %llu entries) | **%.0f** | "
		    "goal >= 200,000 |\n",
		    levels[i], levels[i] > 1 ? "s" : "", WINDOW, seconds, (unsigned long long)pcounts[i], prate[i]);
	printf("| SHA-256 of a %zu-byte leaf (libsodium, this machine) | %.0f hashes/s | - |\n", elen + 1, sha_leaf);
	printf("| SHA-256 of a 65-byte node | %.0f hashes/s | - |\n", sha_node);
	printf("| SHA-256 of a %zu-byte leaf of the big log | %.0f hashes/s | - |\n", slen + 1, sha_small);
	printf("| build of the big log: %llu entries in durable batches of %d | %.1f s (%.0f entries/s) | - |\n",
	       (unsigned long long)big, BATCH, build_s, (double)big / build_s);
	printf("| inclusion proof at %llu entries: mean / p50 / p99 | **%.1f** / %.1f / %.1f us | goal < 100 us |\n",
	       (unsigned long long)head.size, ti_mean * 1e6, ti[PROOFS / 2] * 1e6, ti[PROOFS * 99 / 100] * 1e6);
	printf("| consistency proof at %llu entries: mean / p50 / p99 | **%.1f** / %.1f / %.1f us | goal < 100 us |\n",
	       (unsigned long long)head.size, tc_mean * 1e6, tc[PROOFS / 2] * 1e6, tc[PROOFS * 99 / 100] * 1e6);
	printf("| full verify: %llu entries, %.2f GB of entries, every node and head | **%.1f s** (%.0f entries/s) | "
	       "hashing alone: %.1f s at this machine's SHA-256 rate |\n",
	       (unsigned long long)rep.entries, (double)rep.bytes / 1e9, verify_s, (double)rep.entries / verify_s,
	       hash_limit_s);
	printf("\npeak RSS %ld MiB\n", ru.ru_maxrss / 1024);
	return 0;
}
