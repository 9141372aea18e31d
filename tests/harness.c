/* harness.c - see harness.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness.h"
#include "pgtest.h"
#include <libpq-fe.h>
#include <sqlite3.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

const char *amana_bin(void)
{
	const char *b = getenv("AMANA_BIN");
	return b ? b : "amana";
}

static char *slurp_fd(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return NULL;
	lseek(fd, 0, SEEK_SET);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int run_argv(struct run_result *r, char *const argv[])
{
	memset(r, 0, sizeof(*r));
	char out_t[] = "/tmp/amana-test-outXXXXXX", err_t[] = "/tmp/amana-test-errXXXXXX";
	int ofd = mkstemp(out_t), efd = mkstemp(err_t);
	if (ofd < 0 || efd < 0)
		return -1;
	unlink(out_t);
	unlink(err_t);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, ofd, 1);
	posix_spawn_file_actions_adddup2(&fa, efd, 2);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		close(ofd);
		close(efd);
		return -1;
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = slurp_fd(ofd, &r->out_len);
	r->err = slurp_fd(efd, &r->err_len);
	close(ofd);
	close(efd);
	return r->out && r->err ? 0 : -1;
}

int run_amana(struct run_result *r, ...)
{
	char *argv[256];
	int n = 0;
	argv[n++] = (char *)amana_bin();
	va_list ap;
	va_start(ap, r);
	const char *a;
	while ((a = va_arg(ap, const char *)) && n < 255)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	return run_argv(r, argv);
}

pid_t spawn_amana(char *const args[])
{
	char *argv[256];
	int n = 0;
	argv[n++] = (char *)amana_bin();
	for (int i = 0; args[i] && n < 255; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return rc == 0 ? pid : -1;
}

void run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

char *temp_dir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *path;
	if (asprintf(&path, "%s/amana-%s-XXXXXX", base && *base ? base : "/tmp", tag) < 0)
		return NULL;
	if (!mkdtemp(path)) {
		free(path);
		return NULL;
	}
	return path;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void remove_tree(const char *path)
{
	if (path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	size_t n = 0;
	char *b = slurp_fd(fd, &n);
	close(fd);
	if (len)
		*len = n;
	return b;
}

int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, data, len);
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

void assert_exit(const struct run_result *r, int want, const char *what)
{
	if (r->status != want)
		fail_msg("%s: exit %d, want %d\nstdout: %.2000s\nstderr: %.2000s", what, r->status, want, r->out,
			 r->err);
}

/* ---- files, directories and time ---- */

off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t list_dir(const char *dir, const char *prefix, char ***names)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t cap = 16, n = 0;
	char **v = malloc(cap * sizeof(*v));
	assert_non_null(v);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		if (n == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof(*v));
			assert_non_null(v);
		}
		v[n] = strdup(e->d_name);
		assert_non_null(v[n]);
		n++;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_str);
	*names = v;
	return n;
}

size_t list_period(const char *dir, const char *period, char ***paths)
{
	char suffix[32];
	snprintf(suffix, sizeof(suffix), "_%s.txt", period);
	size_t s = strlen(suffix);
	char **v;
	size_t n = list_dir(dir, "DS_", &v), k = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]);
		char *name = v[i];
		if (l > s && !strcmp(name + l - s, suffix))
			assert_true(asprintf(&v[k++], "%s/%s", dir, name) > 0);
		free(name);
	}
	*paths = v;
	return k;
}

void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* sqlite.org/fileformat2.html#walformat: the frames whose salts match the
 * header's and whose "database size after commit" is set. A commit is
 * whole once a later one has begun. */
unsigned wal_commits(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	uint8_t hdr[32], fh[24];
	unsigned commits = 0;
	if (pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr)) {
		uint32_t page = be32(hdr + 8);
		for (off_t off = 32; pread(fd, fh, sizeof(fh), off) == (ssize_t)sizeof(fh); off += 24 + page) {
			if (memcmp(fh + 8, hdr + 16, 8) != 0)
				break; /* a frame of an earlier generation */
			if (be32(fh + 4) != 0)
				commits++;
		}
	}
	close(fd);
	return commits;
}

bool wait_wal_commits(const char *path, unsigned n, pid_t pid, int *status)
{
	int64_t t0 = now_us();
	while (wal_commits(path) < n) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return false;
		if (now_us() - t0 > 30 * 1000000LL) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			fail_msg("%s: fewer than %u commits after 30 s", path, n);
		}
		sleep_us(20);
	}
	return true;
}

int64_t now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

void sleep_us(int64_t us)
{
	struct timespec t = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

/* ---- registries ---- */

int init_registry(const char *dir)
{
	char home[4096], key[4096], uri[512];
	snprintf(home, sizeof(home), "%s/reg", dir);
	snprintf(key, sizeof(key), "%s/key", dir);
	setenv("AMANA_HOME", home, 1);
	setenv("AMANA_KEY_FILE", key, 1);
	struct run_result r;
	int rc;
	if (pgtest_enabled()) {
		char app[512];
		if (pgtest_new_database("env", uri, app, sizeof(uri)))
			return -1;
		rc = run_amana(&r, "init", "--store", uri, "--app-store", app, NULL);
	} else {
		rc = run_amana(&r, "init", NULL);
	}
	if (rc != 0)
		return -1;
	int st = r.status;
	run_result_free(&r);
	return st;
}

/* A temp dir for g and the paths in it; nothing else is created. */
static void registry_paths(struct registry *g, const char *tag)
{
	g->dir = temp_dir(tag);
	assert_non_null(g->dir);
	snprintf(g->home, sizeof(g->home), "%s/reg", g->dir);
	snprintf(g->key, sizeof(g->key), "%s/key", g->dir);
	snprintf(g->files, sizeof(g->files), "%s/files", g->dir);
}

void registry_new(struct registry *g, const char *tag)
{
	registry_paths(g, tag);
	struct run_result r;
	if (pgtest_enabled()) {
		char uri[512], app[512];
		assert_int_equal(pgtest_new_database(tag, uri, app, sizeof(uri)), 0);
		run_on(&r, NULL, "init", "-d", g->home, "--key", g->key, "--store", uri, "--app-store", app, NULL);
	} else {
		run_on(&r, NULL, "init", "-d", g->home, "--key", g->key, NULL);
	}
	assert_exit(&r, 0, "init");
	run_result_free(&r);
}

static long long sqlite_sql(const char *home, const char *sql)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/registry.db", home);
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, 10000) != SQLITE_OK || sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		fail_msg("%s: %s: %s", path, sql, db ? sqlite3_errmsg(db) : "no memory");
	long long v = -1;
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_count(q) == 1) {
		v = sqlite3_column_int64(q, 0);
		rc = sqlite3_step(q);
	} else if (rc == SQLITE_DONE) {
		v = sqlite3_changes(db);
	}
	if (rc != SQLITE_DONE)
		fail_msg("%s: %s: %s", path, sql, sqlite3_errmsg(db));
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

void registry_owner_uri(const struct registry *g, char *out, size_t cap)
{
	/* store.conf names the database (as the application role) */
	char conf[4200];
	snprintf(conf, sizeof(conf), "%s/store.conf", g->home);
	size_t len;
	char *text = read_file(conf, &len);
	if (!text)
		fail_msg("%s: cannot be read", conf);
	text[strcspn(text, "\n")] = '\0';
	const char *db = strrchr(text, '/'), *port = getenv("AMANA_TEST_PG_PORT");
	if (!db || !port)
		fail_msg("%s: no database named", conf);
	if ((size_t)snprintf(out, cap, "postgresql://amana_owner@127.0.0.1:%s%s", port, db) >= cap)
		fail_msg("%s: too long a URI", conf);
	free(text);
}

long long registry_sql(const struct registry *g, const char *sql)
{
	if (!pgtest_enabled())
		return sqlite_sql(g->home, sql);
	char owner[600];
	registry_owner_uri(g, owner, sizeof(owner));
	PGconn *c = PQconnectdb(owner);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("%s: %s", owner, PQerrorMessage(c));
	PGresult *r = PQexec(c, sql);
	long long v = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQnfields(r) == 1)
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else if (PQresultStatus(r) == PGRES_COMMAND_OK)
		v = strtoll(PQcmdTuples(r), NULL, 10);
	else
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return v;
}

void registry_new_env(struct registry *g, const char *tag)
{
	registry_paths(g, tag);
	assert_int_equal(init_registry(g->dir), 0);
}

void registry_free(struct registry *g)
{
	if (!g->dir)
		return;
	if (!getenv("AMANA_TEST_KEEP"))
		remove_tree(g->dir);
	else
		printf("kept %s\n", g->dir);
	free(g->dir);
	g->dir = NULL;
}

void run_on_v(struct run_result *r, const struct registry *g, const char *const *args, size_t n)
{
	char **argv = calloc(n + 6, sizeof(*argv));
	assert_non_null(argv);
	size_t k = 0;
	argv[k++] = (char *)amana_bin();
	for (size_t i = 0; i < n; i++)
		argv[k++] = (char *)args[i];
	if (g) {
		argv[k++] = "-d";
		argv[k++] = (char *)g->home;
		argv[k++] = "--key";
		argv[k++] = (char *)g->key;
	}
	argv[k] = NULL;
	int rc = run_argv(r, argv);
	free(argv);
	assert_int_equal(rc, 0);
}

void run_on_va(struct run_result *r, const struct registry *g, va_list ap)
{
	const char *args[64];
	size_t n = 0;
	const char *a;
	while ((a = va_arg(ap, const char *)) && n < 64)
		args[n++] = a;
	run_on_v(r, g, args, n);
}

void run_on(struct run_result *r, const struct registry *g, ...)
{
	va_list ap;
	va_start(ap, g);
	run_on_va(r, g, ap);
	va_end(ap);
}

void run_expect(struct run_result *r, int want, const char *what, ...)
{
	va_list ap;
	va_start(ap, what);
	run_on_va(r, NULL, ap);
	va_end(ap);
	assert_exit(r, want, what);
}

void run_gen(const struct registry *g, const char *out, const char *employers, const char *persons, const char *months,
	     const char *seed)
{
	struct run_result r;
	run_on(&r, g, "gen", "--employers", employers, "--persons", persons, "--months", months, "--seed", seed, "-o",
	       out, NULL);
	assert_exit(&r, 0, "gen");
	run_result_free(&r);
}

void run_import(struct run_result *r, const struct registry *g, const char *const *opts, char *const *files, size_t n)
{
	size_t nopts = 0;
	while (opts && opts[nopts])
		nopts++;
	const char **args = calloc(1 + nopts + n, sizeof(*args));
	assert_non_null(args);
	size_t k = 0;
	args[k++] = "import";
	for (size_t i = 0; i < nopts; i++)
		args[k++] = opts[i];
	for (size_t i = 0; i < n; i++)
		args[k++] = files[i];
	run_on_v(r, g, args, k);
	free(args);
}

/* ---- JSON ---- */

const char *json_ws(const char *p)
{
	while (p && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* The end of the string starting at p, or NULL. */
static const char *json_skip_str(const char *p)
{
	if (!p || *p != '"')
		return NULL;
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && p[1])
			p++;
	return *p ? p + 1 : NULL;
}

const char *json_skip(const char *p)
{
	p = json_ws(p);
	if (!p || !*p)
		return NULL;
	if (*p == '"')
		return json_skip_str(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				p = json_ws(json_skip_str(json_ws(p)));
				if (!p || *p != ':')
					return NULL;
				p++;
			}
			p = json_ws(json_skip(p));
			if (!p)
				return NULL;
			if (*p == ',') {
				p++;
				continue;
			}
			return *p == close ? p + 1 : NULL;
		}
	}
	const char *s = p;
	while (*p && !strchr(",}] \t\r\n", *p))
		p++;
	return p > s ? p : NULL;
}

const char *json_get(const char *obj, const char *key)
{
	const char *p = json_ws(obj);
	if (!p || *p != '{')
		return NULL;
	p = json_ws(p + 1);
	size_t kl = strlen(key);
	while (p && *p == '"') {
		const char *k = p + 1;
		const char *e = json_skip_str(p);
		if (!e)
			return NULL;
		const char *v = json_ws(e);
		if (*v != ':')
			return NULL;
		v = json_ws(v + 1);
		if ((size_t)(e - 1 - k) == kl && memcmp(k, key, kl) == 0)
			return v;
		p = json_ws(json_skip(v));
		if (!p || *p != ',')
			return NULL;
		p = json_ws(p + 1);
	}
	return NULL;
}

const char *json_at(const char *arr, size_t i)
{
	const char *p = json_ws(arr);
	if (!p || *p != '[')
		return NULL;
	p = json_ws(p + 1);
	if (*p == ']')
		return NULL;
	for (size_t k = 0;; k++) {
		if (k == i)
			return p;
		p = json_ws(json_skip(p));
		if (!p || *p != ',')
			return NULL;
		p = json_ws(p + 1);
	}
}

int64_t json_int(const char *obj, const char *key)
{
	const char *v = json_get(obj, key);
	if (!v)
		fail_msg("JSON member \"%s\" missing in %.200s", key, obj);
	if (*v == '"')
		v++;
	char *end;
	long long x = strtoll(v, &end, 10);
	if (end == v)
		fail_msg("JSON member \"%s\" is not an integer: %.40s", key, v);
	return x;
}

const char *json_str(const char *obj, const char *key, char *buf, size_t cap)
{
	const char *v = json_get(obj, key);
	if (!v || *v != '"')
		fail_msg("JSON string \"%s\" missing in %.200s", key, obj);
	const char *e = json_skip_str(v);
	assert_non_null(e);
	size_t n = (size_t)(e - v - 2);
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, v + 1, n);
	buf[n] = '\0';
	return buf;
}

/* ---- e-BDS records ---- */

void records_load(struct records *r, const char *path)
{
	size_t len;
	r->buf = read_file(path, &len);
	assert_non_null(r->buf);
	size_t cap = 64;
	r->n = 0;
	r->v = malloc(cap * sizeof(*r->v));
	assert_non_null(r->v);
	char *p = r->buf, *end = r->buf + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *e = nl ? nl : end;
		if (e > p && e[-1] == '\r')
			e[-1] = '\0';
		*e = '\0';
		if (r->n == cap) {
			cap *= 2;
			r->v = realloc(r->v, cap * sizeof(*r->v));
			assert_non_null(r->v);
		}
		r->v[r->n++] = p;
		p = nl ? nl + 1 : end;
	}
}

void records_free(struct records *r)
{
	free(r->buf);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

int64_t field_num(const char *rec, int col, int width)
{
	int64_t x = 0;
	for (int i = 0; i < width; i++) {
		char c = rec[col - 1 + i];
		if (c < '0' || c > '9')
			fail_msg("non-digit '%c' at column %d of %.25s", c, col + i, rec);
		x = x * 10 + (c - '0');
	}
	return x;
}

void field_text(const char *rec, int col, int width, char *out, size_t cap)
{
	size_t n = (size_t)width < cap - 1 ? (size_t)width : cap - 1;
	memcpy(out, rec + col - 1, n);
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	out[n] = '\0';
}

void field_put_num(char *rec, int col, int width, int64_t v)
{
	if (v < 0)
		fail_msg("negative %" PRId64 " for columns %d-%d", v, col, col + width - 1);
	int64_t x = v;
	for (int i = width - 1; i >= 0; i--) {
		rec[col - 1 + i] = (char)('0' + x % 10);
		x /= 10;
	}
	if (x != 0)
		fail_msg("%" PRId64 " does not fit in the %d columns from %d", v, width, col);
}

static bool blank_from(const char *rec, int col)
{
	for (int i = col - 1; i < REC_LEN; i++)
		if (rec[i] != ' ' && rec[i] != '\t')
			return false;
	return true;
}

bool is_blank_b04(const char *rec)
{
	return !strncmp(rec, "B04", 3) && (blank_from(rec, 4) || blank_from(rec, 17));
}

bool person_line(const char *rec, struct person_line *p)
{
	if (!strncmp(rec, "B02", 3)) {
		p->hire = false;
		p->registration = field_num(rec, 17, 9);
		p->real = field_num(rec, 114, 13);
		p->capped = field_num(rec, 127, 9);
		return true;
	}
	if (!strncmp(rec, "B04", 3) && !is_blank_b04(rec)) {
		p->hire = true;
		p->registration = field_num(rec, 17, 9);
		p->real = field_num(rec, 96, 13);
		p->capped = field_num(rec, 109, 9);
		return true;
	}
	return false;
}

/* Columns and widths of the B05/B06 totals, in the order of struct totals. */
static const int totals_cols[6][2] = { { 17, 6 }, { 23, 15 }, { 38, 6 }, { 44, 15 }, { 59, 13 }, { 72, 19 } };

void totals_read(const char *rec, struct totals *t)
{
	int64_t *v[6] = { &t->employees, &t->registrations, &t->days, &t->real, &t->capped, &t->controls };
	for (int i = 0; i < 6; i++)
		*v[i] = field_num(rec, totals_cols[i][0], totals_cols[i][1]);
}

void totals_write(char *rec, const struct totals *t)
{
	const int64_t v[6] = { t->employees, t->registrations, t->days, t->real, t->capped, t->controls };
	for (int i = 0; i < 6; i++)
		field_put_num(rec, totals_cols[i][0], totals_cols[i][1], v[i]);
}

char aff_check_digit(const char *six)
{
	int d[7];
	for (int i = 1; i <= 6; i++)
		d[i] = six[i - 1] - '0';
	int s = 2 * (d[2] + d[4] + d[6]) + d[1] + d[3] + d[5];
	return (char)('0' + (10 - s % 10) % 10);
}
