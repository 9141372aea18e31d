/*
 * test_cli_crash.c - an import killed with SIGKILL keeps whole files only.
 *
 * import.c checks and writes each file inside a savepoint and commits
 * accepted files in batches, so after a crash every file must be either
 * completely in the registry or completely absent. The test prepares a
 * country (gen), imports month 1, keeps a pristine copy of the registry,
 * then for several rounds restores the copy, starts `amana import
 * --batch-lines 500` on all of month 2 and kills it with SIGKILL after a
 * delay: very early, once a first batch is known to be committed, at random
 * points, and after it has finished. Each round is judged with the CLI
 * alone: `contributions --json` per file (absent, or equal to the file's own
 * sums), `stats --json` (lines, declarations and persons of the present
 * files exactly, so no half file), then a second import that refuses the
 * present files as duplicate periods and accepts the others.
 *
 * The random delays come from a seed printed in the output; set
 * AMANA_TEST_SEED to replay it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/pgtest.h"

#define MAX_FILES 128
#define PERIOD_2 "202502"
#define RANDOM_ROUNDS 6

/* What one month-2 file declares, computed from its own lines. */
struct decl_file {
	char *path;
	char aff[8];
	int64_t lines; /* B02 and non-blank B04 lines: what stats counts */
	int64_t real; /* sum of real salaries */
	int64_t capped; /* sum of capped salaries */
	int64_t new_by_cin; /* B04 lines with registration 000000000 */
};

struct world {
	struct registry g; /* AMANA_HOME, and gen's output in g.files */
	char pristine[4096];
	struct decl_file f[MAX_FILES];
	size_t n;
	/* the pristine registry: month 1 only */
	int64_t lines1, decls1, persons1;
	int64_t full_us; /* an uninterrupted import of month 2 */
	uint64_t rng;
};

/* ---- helpers ---- */

/* Sum a declaration file's lines (spec/ebds.md layouts) and check the sums
 * against its own B06 grand total, so the parser is known to be right. */
static void parse_declaration(struct decl_file *f)
{
	struct records recs;
	records_load(&recs, f->path);
	bool grand = false;
	for (size_t i = 0; i < recs.n; i++) {
		const char *line = recs.v[i];
		struct person_line p;
		assert_int_equal(strlen(line), REC_LEN);
		if (!memcmp(line, "B01", 3)) {
			memcpy(f->aff, line + 3, 7);
			f->aff[7] = '\0';
		} else if (person_line(line, &p)) {
			f->lines++;
			f->real += p.real;
			f->capped += p.capped;
			if (p.hire && p.registration == 0)
				f->new_by_cin++;
		} else if (!memcmp(line, "B06", 3)) {
			struct totals t;
			totals_read(line, &t);
			grand = true;
			assert_int_equal(t.employees, f->lines);
			assert_int_equal(t.real, f->real);
			assert_int_equal(t.capped, f->capped);
		}
	}
	records_free(&recs);
	assert_true(grand);
	assert_int_equal(strlen(f->aff), 7);
}

/* Copy a registry directory (registry.db, rules.txt, any -wal or -shm, and
 * the audit/ folder) into a fresh dst. */
static void copy_dir(const char *src, const char *dst)
{
	remove_tree(dst);
	assert_int_equal(mkdir(dst, 0700), 0);
	char **names;
	size_t n = list_dir(src, "", &names);
	for (size_t i = 0; i < n; i++) {
		char from[4400], to[4400];
		snprintf(from, sizeof(from), "%s/%s", src, names[i]);
		snprintf(to, sizeof(to), "%s/%s", dst, names[i]);
		struct stat st;
		assert_int_equal(lstat(from, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			copy_dir(from, to);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			fail_msg("unexpected entry %s in a registry", from);
		size_t len;
		char *data = read_file(from, &len);
		assert_non_null(data);
		assert_int_equal(write_file(to, data, len), 0);
		free(data);
	}
	free_list(names, n);
}

/* xorshift64*: reproducible from the printed seed. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* ---- the CLI's view of the registry ---- */

/* `import --batch-lines 500 [--json] FILE...` of month 2 into args. */
static void import_args(const struct world *w, bool json, char **args)
{
	size_t k = 0;
	args[k++] = "import";
	args[k++] = "--batch-lines";
	args[k++] = "500";
	if (json)
		args[k++] = "--json";
	for (size_t i = 0; i < w->n; i++)
		args[k++] = w->f[i].path;
	args[k] = NULL;
}

/* Is each month-2 file wholly present or wholly absent? Fills present[]
 * and returns how many are present. */
static size_t judge(const struct world *w, bool *present, const char *when)
{
	size_t count = 0;
	int64_t lines = 0, persons = 0;
	for (size_t i = 0; i < w->n; i++) {
		const struct decl_file *f = &w->f[i];
		struct run_result r;
		run_on(&r, NULL, "contributions", f->aff, PERIOD_2, "--json", NULL);
		if (r.status == 0) {
			present[i] = true;
			count++;
			lines += f->lines;
			persons += f->new_by_cin;
			int64_t employees = json_int(r.out, "employees");
			int64_t real = json_int(r.out, "real_salaries");
			int64_t capped = json_int(r.out, "capped_salaries");
			if (employees != f->lines || real != f->real || capped != f->capped)
				fail_msg("%s: %s is only partly there: employees %lld of %lld, real %lld of %lld, "
					 "capped %lld of %lld",
					 when, f->path, (long long)employees, (long long)f->lines, (long long)real,
					 (long long)f->real, (long long)capped, (long long)f->capped);
			assert_int_equal(json_int(r.out, "declarations"), 1);
		} else {
			present[i] = false;
			if (!strstr(r.err, "no accepted declaration"))
				fail_msg("%s: contributions %s: exit %d, stderr %s", when, f->aff, r.status, r.err);
		}
		run_result_free(&r);
	}
	struct run_result r;
	run_expect(&r, 0, "stats", "stats", "--json", NULL);
	int64_t got_lines = json_int(r.out, "lines"), got_decls = json_int(r.out, "declarations");
	int64_t got_persons = json_int(r.out, "persons");
	run_result_free(&r);
	if (got_lines != w->lines1 + lines)
		fail_msg("%s: stats says %lld lines, the %zu present files and month 1 make %lld (a half file?)", when,
			 (long long)got_lines, count, (long long)(w->lines1 + lines));
	assert_int_equal(got_decls, w->decls1 + (int64_t)count);
	assert_int_equal(got_persons, w->persons1 + persons);
	return count;
}

/* Import all of month 2 again: the present files are refused as duplicate
 * periods, the absent ones accepted; then everything is there. */
static void reimport(const struct world *w, const bool *present, size_t npresent, const char *when)
{
	char *argv[MAX_FILES + 8];
	argv[0] = (char *)amana_bin();
	import_args(w, true, argv + 1);
	struct run_result r;
	assert_int_equal(run_argv(&r, argv), 0);
	assert_exit(&r, npresent ? 3 : 0, "re-import");
	for (size_t i = 0; i < w->n; i++) {
		char pat[4400];
		snprintf(pat, sizeof(pat), "{\"file\":\"%s\"", w->f[i].path);
		char *start = strstr(r.out, pat);
		if (!start)
			fail_msg("%s: no result for %s in %.2000s", when, w->f[i].path, r.out);
		/* up to the next file's object (errors nest objects too) */
		size_t at = (size_t)(start - r.out), span = 1;
		while (at + span < r.out_len && strncmp(r.out + at + span, "{\"file\":\"", 9) != 0)
			span++;
		char *obj = strndup(start, span);
		assert_non_null(obj);
		if (present[i]) {
			if (!strstr(obj, "\"status\":\"rejected\"") || !strstr(obj, "\"field\":\"period\"") ||
			    !strstr(obj, "already declared"))
				fail_msg("%s: %s was present, want a duplicate-period rejection: %s", when,
					 w->f[i].path, obj);
		} else {
			if (!strstr(obj, "\"status\":\"accepted\""))
				fail_msg("%s: %s was absent, want it accepted: %s", when, w->f[i].path, obj);
			assert_int_equal(json_int(obj, "lines"), w->f[i].lines);
		}
		free(obj);
	}
	assert_int_equal(json_int(r.out, "accepted"), (int64_t)(w->n - npresent));
	assert_int_equal(json_int(r.out, "rejected"), (int64_t)npresent);
	assert_int_equal(json_int(r.out, "failed"), 0);
	run_result_free(&r);

	bool after[MAX_FILES];
	char what[128];
	snprintf(what, sizeof(what), "%s, after the re-import", when);
	assert_int_equal(judge(w, after, what), w->n);
}

/* ---- set-up ---- */

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	*state = w; /* the group teardown runs even when this fails */
	const char *seed_env = getenv("AMANA_TEST_SEED");
	uint64_t seed = seed_env && *seed_env ? strtoull(seed_env, NULL, 10)
					      : ((uint64_t)time(NULL) << 20 ^ (uint64_t)getpid() ^ (uint64_t)now_us());
	if (seed == 0)
		seed = 1;
	printf("cli_crash: seed %llu (AMANA_TEST_SEED=%llu replays the delays)\n", (unsigned long long)seed,
	       (unsigned long long)seed);
	w->rng = seed;

	registry_new_env(&w->g, "crash");
	snprintf(w->pristine, sizeof(w->pristine), "%s/pristine", w->g.dir);
	assert_int_equal(mkdir(w->g.files, 0700), 0);

	struct run_result r;
	run_gen(NULL, w->g.files, "60", "6000", "2", "5");

	char **m1, **m2;
	size_t n1 = list_period(w->g.files, "202501", &m1), n2 = list_period(w->g.files, "202502", &m2);
	assert_true(n2 <= MAX_FILES);
	for (size_t i = 0; i < n2; i++)
		w->f[i].path = m2[i];
	w->n = n2;
	free(m2); /* the paths are w->f's now */
	assert_int_equal(n1, 60);
	assert_int_equal(n2, 60);

	run_import(&r, NULL, NULL, m1, n1);
	assert_exit(&r, 0, "import of month 1");
	run_result_free(&r);
	free_list(m1, n1);

	run_expect(&r, 0, "stats", "stats", "--json", NULL);
	w->lines1 = json_int(r.out, "lines");
	w->decls1 = json_int(r.out, "declarations");
	w->persons1 = json_int(r.out, "persons");
	run_result_free(&r);
	assert_int_equal(w->decls1, 60);

	int64_t total = 0;
	for (size_t i = 0; i < n2; i++) {
		parse_declaration(&w->f[i]);
		total += w->f[i].lines;
	}
	printf("month 1: %lld lines; month 2: %zu files, %lld lines\n", (long long)w->lines1, w->n, (long long)total);
	/* enough batches of 500 lines to be killed between */
	assert_true(total > 8 * 500);
	copy_dir(w->g.home, w->pristine);
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	if (!w)
		return 0;
	for (size_t i = 0; i < w->n; i++)
		free(w->f[i].path);
	registry_free(&w->g);
	free(w);
	return 0;
}

/* ---- the tests ---- */

/* The PostgreSQL URI a registry folder's store.conf names. */
static void store_uri(const char *dir, char *uri, size_t cap)
{
	char conf[4200];
	snprintf(conf, sizeof(conf), "%s/store.conf", dir);
	size_t len;
	char *text = read_file(conf, &len);
	assert_non_null(text);
	snprintf(uri, cap, "%.*s", (int)strcspn(text, "\n"), text);
	free(text);
}

/* The registry as it was after month 1. On PostgreSQL the tables are not in
 * the folder: the pristine database is copied into a new one (CREATE
 * DATABASE ... TEMPLATE), which the restored folder's store.conf names. */
static void restore(struct world *w)
{
	copy_dir(w->pristine, w->g.home);
	if (!pgtest_enabled())
		return;
	char conf[4200], uri[512], fresh[512];
	store_uri(w->pristine, uri, sizeof(uri));
	assert_int_equal(pgtest_clone_database(uri, fresh, sizeof(fresh)), 0);
	snprintf(conf, sizeof(conf), "%s/store.conf", w->g.home);
	assert_int_equal(write_file(conf, fresh, strlen(fresh)), 0);
}

/* Wait until the import pid has committed its first batch: on SQLite two
 * commit frames in the WAL, on PostgreSQL a declaration more than month 1
 * left. false if pid exited first (reaped, status in *st). */
static bool wait_first_commit(struct world *w, pid_t pid, int *st)
{
	if (!pgtest_enabled()) {
		char wal[4200];
		snprintf(wal, sizeof(wal), "%s/registry.db-wal", w->g.home);
		return wait_wal_commits(wal, 2, pid, st);
	}
	char uri[512];
	store_uri(w->g.home, uri, sizeof(uri));
	int64_t t0 = now_us();
	while (pgtest_count(uri, "SELECT count(*) FROM declarations") <= w->decls1) {
		if (waitpid(pid, st, WNOHANG) == pid)
			return false;
		if (now_us() - t0 > 30 * 1000000LL) {
			kill(pid, SIGKILL);
			waitpid(pid, st, 0);
			fail_msg("no commit after 30 s");
		}
		sleep_us(200);
	}
	return true;
}

/* On PostgreSQL, a killed client's server session may still be finishing a
 * COMMIT it had sent: wait until no other session uses the round's
 * database, so that the judge reads one state, not one before and one after
 * that commit. */
static void wait_sessions_gone(struct world *w)
{
	if (!pgtest_enabled())
		return;
	char uri[512];
	store_uri(w->g.home, uri, sizeof(uri));
	int64_t t0 = now_us();
	while (pgtest_count(uri, "SELECT count(*) FROM pg_stat_activity"
				 " WHERE datname = current_database() AND pid <> pg_backend_pid()") != 0) {
		if (now_us() - t0 > 30 * 1000000LL)
			fail_msg("a killed import's server session still runs after 30 s");
		sleep_us(1000);
	}
}

/* An uninterrupted import on a fresh copy: every file whole, and its
 * duration, which bounds the random delays below. */
static void test_uninterrupted_import(void **state)
{
	struct world *w = *state;
	restore(w);
	bool present[MAX_FILES];
	assert_int_equal(judge(w, present, "before any import"), 0);
	char *args[MAX_FILES + 8];
	import_args(w, false, args);
	int64_t t0 = now_us();
	pid_t pid = spawn_amana(args);
	assert_true(pid > 0);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	w->full_us = now_us() - t0;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	printf("an uninterrupted import of month 2 takes %lld us\n", (long long)w->full_us);
	assert_int_equal(judge(w, present, "after an uninterrupted import"), w->n);
}

enum when { KILL_EARLY, KILL_AFTER_FIRST_COMMIT, KILL_RANDOM, KILL_AFTER_END };

/* One round: restore, import, SIGKILL, judge, re-import, judge. */
static size_t round_once(struct world *w, unsigned no, enum when how, int64_t delay_us)
{
	restore(w);
	char *args[MAX_FILES + 8];
	import_args(w, false, args);
	pid_t pid = spawn_amana(args);
	assert_true(pid > 0);
	int64_t t0 = now_us();
	int st = 0;
	bool reaped = false;
	if (how == KILL_AFTER_FIRST_COMMIT) {
		/* two commit frames: the first batch is durable, and at 500 lines
		 * a batch the import is far from done */
		reaped = !wait_first_commit(w, pid, &st);
		delay_us = now_us() - t0;
	} else if (how == KILL_AFTER_END) {
		/* wait for the exit without reaping it, so the kill below
		 * still hits our (now finished) process */
		siginfo_t info;
		memset(&info, 0, sizeof(info));
		while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) != 0)
			assert_int_equal(errno, EINTR);
		delay_us = now_us() - t0 + 1000;
		sleep_us(1000);
	} else {
		sleep_us(delay_us);
	}
	/* not yet reaped: a finished import is a zombie, its pid still ours */
	if (!reaped) {
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &st, 0), pid);
	}
	bool killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
	if (!killed && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		fail_msg("round %u: the import failed by itself (status 0x%x)", no, st);
	wait_sessions_gone(w);

	bool present[MAX_FILES];
	char when[96];
	snprintf(when, sizeof(when), "round %u (killed after %lld us)", no, (long long)delay_us);
	size_t n = judge(w, present, when);
	static const char *const how_name[] = { "very early", "after the first commit", "at random", "after the end" };
	printf("round %u: %s, %lld us: %s; %zu of %zu files present\n", no, how_name[how], (long long)delay_us,
	       killed ? "killed" : "had finished", n, w->n);
	switch (how) {
	case KILL_AFTER_FIRST_COMMIT:
		assert_true(killed);
		assert_in_range(n, 1, w->n - 1);
		break;
	case KILL_AFTER_END:
		assert_false(killed);
		assert_int_equal(n, w->n);
		break;
	default: break;
	}
	if (killed && n == w->n)
		printf("  (killed after its last commit)\n");
	reimport(w, present, n, when);
	return n;
}

static void test_kill_during_import(void **state)
{
	struct world *w = *state;
	assert_true(w->full_us > 0);
	unsigned no = 0;
	size_t partial = 0;
	/* 1 ms: the process has barely started */
	round_once(w, no++, KILL_EARLY, 1000);
	size_t n = round_once(w, no++, KILL_AFTER_FIRST_COMMIT, 0);
	partial += n > 0 && n < w->n;
	int64_t lo = 5000, hi = w->full_us > lo ? w->full_us : lo + 1;
	for (int i = 0; i < RANDOM_ROUNDS; i++) {
		int64_t delay = lo + (int64_t)(rng_next(&w->rng) % (uint64_t)(hi - lo));
		n = round_once(w, no++, KILL_RANDOM, delay);
		partial += n > 0 && n < w->n;
	}
	/* after the end: a kill that hits a finished process */
	round_once(w, no++, KILL_AFTER_END, 0);
	printf("%zu of %u rounds killed an import halfway\n", partial, no);
	assert_true(partial >= 1);
}

/* The duplicate-period error names what is expected in full. The text is
 * 97 characters and struct ebds_error.expected holds 95, so it is cut to
 * "... DSC<k> to add to i" (core/ebds.h). */
static void test_duplicate_period_error_is_whole(void **state)
{
	struct world *w = *state;
	struct run_result r;
	/* after the rounds the registry holds all of month 2 */
	run_expect(&r, 3, "import of a declared period", "import", "--json", w->f[0].path, NULL);
	bool period = strstr(r.out, "\"field\":\"period\"") != NULL;
	bool whole = strstr(r.out, "to add to it)\"") != NULL;
	if (!whole)
		printf("the expected text is cut: %s\n", r.out);
	run_result_free(&r);
	assert_true(period);
	assert_true(whole);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uninterrupted_import),
		cmocka_unit_test(test_kill_during_import),
		cmocka_unit_test(test_duplicate_period_error_is_whole),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
