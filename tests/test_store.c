/*
 * test_store.c - the store conformance suite: every op of struct store_ops,
 * driven through the store.h wrappers only, each test on a fresh store in
 * its own temporary directory.
 *
 * The backend comes from AMANA_TEST_STORE (default "sqlite"): one row of the
 * backends table below gives the function that opens a fresh store in a
 * directory and the one that opens it again. A PostgreSQL backend adds its
 * row and must pass the same tests. Only the few tests that look at the
 * database file itself (WAL mode, file mode, residue of overwritten values,
 * schema version) go past the interface; they skip on a backend that keeps
 * no file.
 */
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "store/store.h"
#include "tests/pgtest.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- backends ---- */

struct backend {
	const char *name;
	/* Open a fresh, empty store that lives in tmpdir. */
	enum amana_err (*open_store)(const char *tmpdir, struct store **out);
	/* Open the store of tmpdir again; create = 1 must refuse, it exists. */
	enum amana_err (*reopen_store)(const char *tmpdir, int create, struct store **out);
	/* Path of the one file holding the data, for file-level checks; NULL
	 * for a backend that keeps none. Returns 0 on success. */
	int (*data_file)(const char *tmpdir, char *buf, size_t cap);
};

static int join(char *buf, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(buf, cap, "%s/%s", dir, name);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int sqlite_data_file(const char *tmpdir, char *buf, size_t cap)
{
	return join(buf, cap, tmpdir, "registry.db");
}

static enum amana_err sqlite_reopen(const char *tmpdir, int create, struct store **out)
{
	char path[PATH_MAX];

	if (sqlite_data_file(tmpdir, path, sizeof(path)))
		return AMANA_ERR_LIMIT;
	return store_sqlite_open(path, create, out);
}

static enum amana_err sqlite_open_fresh(const char *tmpdir, struct store **out)
{
	return sqlite_reopen(tmpdir, 1, out);
}

/* PostgreSQL: the server of AMANA_TEST_PG (an admin connection string; the
 * test command starts a throwaway one), one database per directory, named
 * after the directory's path. */
static int pg_dbname(const char *tmpdir, char *buf, size_t cap)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	const char *p = tmpdir;
	if (!strncmp(p, base, strlen(base)))
		p += strlen(base);
	size_t n = 0;
	if (cap < 8)
		return -1;
	memcpy(buf, "t_", 2);
	n = 2;
	for (; *p && n + 1 < cap && n < 60; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '_';
		buf[n++] = c;
	}
	buf[n] = 0;
	return *p ? -1 : 0;
}

static enum amana_err pg_reopen(const char *tmpdir, int create, struct store **out)
{
	const char *admin = getenv("AMANA_TEST_PG");
	char db[64], conninfo[1024];
	if (!admin || pg_dbname(tmpdir, db, sizeof(db)))
		return AMANA_ERR_USAGE;
	if (create) {
		PGconn *c = PQconnectdb(admin);
		if (PQstatus(c) != CONNECTION_OK) {
			PQfinish(c);
			return AMANA_ERR_IO;
		}
		char sql[128];
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db); /* [a-z0-9_] only */
		PQclear(PQexec(c, sql)); /* an existing one is for the store to refuse */
		PQfinish(c);
	}
	snprintf(conninfo, sizeof(conninfo), "%s dbname=%s", admin, db);
	return store_pg_open(conninfo, create, out);
}

static enum amana_err pg_open_fresh(const char *tmpdir, struct store **out)
{
	return pg_reopen(tmpdir, 1, out);
}

static const struct backend backends[] = {
	{ "sqlite", sqlite_open_fresh, sqlite_reopen, sqlite_data_file },
	{ "postgresql", pg_open_fresh, pg_reopen, NULL },
};

static const struct backend *backend;
static enum amana_err (*open_store)(const char *tmpdir, struct store **out);

static int is_sqlite(void)
{
	return strcmp(backend->name, "sqlite") == 0;
}

/* ---- assertions ---- */

static void assert_err_at(enum amana_err got, enum amana_err want, const char *what, const char *file, int line)
{
	if (got != want)
		fail_msg("%s:%d: %s returned %d (%s), expected %d (%s)", file, line, what, (int)got,
			 amana_strerror(got), (int)want, amana_strerror(want));
}

static void assert_fails_at(enum amana_err got, const char *what, const char *file, int line)
{
	if (got == AMANA_OK)
		fail_msg("%s:%d: %s succeeded, expected an error", file, line, what);
}

#define ASSERT_ERR(expr, want) assert_err_at((expr), (want), #expr, __FILE__, __LINE__)
#define ASSERT_OK(expr) ASSERT_ERR(expr, AMANA_OK)
#define ASSERT_FAILS(expr) assert_fails_at((expr), #expr, __FILE__, __LINE__)

static void assert_blob(struct store_blob got, const uint8_t *want, size_t len)
{
	assert_int_equal(got.len, len);
	if (len) {
		assert_non_null(got.data);
		assert_memory_equal(got.data, want, len);
	}
}

/* ---- fixture: a fresh directory and a fresh store in it ---- */

struct fixture {
	char dir[PATH_MAX];
	struct store *s;
};

static int make_tmpdir(char *buf, size_t cap)
{
	const char *base = getenv("TMPDIR");

	if (!base || !*base)
		base = "/tmp";
	if (join(buf, cap, base, "amana-store-XXXXXX"))
		return -1;
	return mkdtemp(buf) ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void remove_tree(const char *dir)
{
	if (nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		print_error("could not remove %s\n", dir);
}

/* The employer each declaration of the current test was written for (lines
 * are written and read with it); employer 1 for one not written yet. */
#define DECL_MAP 4096
static int64_t decl_employer[DECL_MAP];

static int64_t employer_of(int64_t declaration)
{
	if (declaration < 0 || declaration >= DECL_MAP || decl_employer[declaration] == 0)
		return 1;
	return decl_employer[declaration];
}

/* store_chunks_of with the declaration's employer. */
static enum amana_err chunks_of(struct store *s, int64_t declaration, store_chunk_fn fn, void *ctx)
{
	return store_chunks_of(s, employer_of(declaration), declaration, fn, ctx);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	memset(decl_employer, 0, sizeof(decl_employer));

	if (!f)
		return -1;
	if (make_tmpdir(f->dir, sizeof(f->dir))) {
		print_error("mkdtemp failed\n");
		free(f);
		return -1;
	}
	enum amana_err err = open_store(f->dir, &f->s);
	if (err) {
		print_error("open_store(%s): %s\n", f->dir, amana_strerror(err));
		remove_tree(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->s);
	remove_tree(f->dir);
	free(f);
	return 0;
}

/* Close the fixture's store and open it again, as a new process would. */
static void reopen(struct fixture *f)
{
	store_close(f->s);
	f->s = NULL;
	ASSERT_OK(backend->reopen_store(f->dir, 0, &f->s));
	assert_non_null(f->s);
}

/* A subdirectory of the fixture's directory, created. */
static void subdir(const struct fixture *f, const char *name, char *buf, size_t cap)
{
	assert_int_equal(join(buf, cap, f->dir, name), 0);
	assert_int_equal(mkdir(buf, 0700), 0);
}

/* ---- rows with known contents ---- */

/* Every sealed value is derived from (tag, id): rows differ in length and
 * bytes, and every value has zero bytes inside. */
enum tag { T_AFF = 1, T_PROFILE, T_REG, T_CIN, T_IDENTITY, T_TOTALS, T_PAYLOAD, T_WRAPPED, T_DIGEST, T_ROSTER };
#define SEALED_CAP 64

static size_t sealed_for(uint8_t *buf, size_t cap, enum tag tag, int64_t id)
{
	size_t len = 8 + (size_t)(((uint64_t)id * 7 + (uint64_t)tag) % 40);

	if (len > cap)
		len = cap;
	for (size_t i = 0; i < len; i++)
		buf[i] = i % 5 == 1 ? 0 : (uint8_t)((uint64_t)tag * 37 + (uint64_t)id * 13 + i * 101);
	return len;
}

/* Times past 2038: no 32-bit time anywhere on the way. */
static int64_t created_at_of(int64_t id)
{
	return INT64_C(4102444800) + id * 86400;
}

static int64_t name_bidx_of(int64_t id)
{
	return -(id * 7919) - 1; /* blind indexes are any 64-bit value */
}

static enum amana_err add_employer(struct store *s, int64_t id, int64_t bidx)
{
	uint8_t aff[SEALED_CAP], profile[SEALED_CAP];
	struct store_employer e = { .id = id, .aff_bidx = bidx, .created_at = created_at_of(id) };

	e.aff_sealed = (struct store_blob){ aff, sealed_for(aff, sizeof(aff), T_AFF, id) };
	e.profile_sealed = (struct store_blob){ profile, sealed_for(profile, sizeof(profile), T_PROFILE, id) };
	return store_employer_insert(s, &e);
}

static void expect_employer(const struct store_employer *got, int64_t id, int64_t bidx)
{
	uint8_t want[SEALED_CAP];
	size_t n;

	assert_int_equal(got->id, id);
	assert_int_equal(got->aff_bidx, bidx);
	n = sealed_for(want, sizeof(want), T_AFF, id);
	assert_blob(got->aff_sealed, want, n);
	n = sealed_for(want, sizeof(want), T_PROFILE, id);
	assert_blob(got->profile_sealed, want, n);
	assert_int_equal(got->created_at, created_at_of(id));
}

/* cin_bidx 0: the CIN is unknown, so there is no sealed CIN either. */
static enum amana_err add_person(struct store *s, int64_t id, int64_t reg_bidx, int64_t cin_bidx)
{
	uint8_t reg[SEALED_CAP], cin[SEALED_CAP], identity[SEALED_CAP];
	struct store_person p = {
		.id = id,
		.reg_bidx = reg_bidx,
		.cin_bidx = cin_bidx,
		.name_bidx = name_bidx_of(id),
		.created_at = created_at_of(id),
	};

	p.reg_sealed = (struct store_blob){ reg, sealed_for(reg, sizeof(reg), T_REG, id) };
	if (cin_bidx)
		p.cin_sealed = (struct store_blob){ cin, sealed_for(cin, sizeof(cin), T_CIN, id) };
	p.identity_sealed = (struct store_blob){ identity, sealed_for(identity, sizeof(identity), T_IDENTITY, id) };
	return store_person_insert(s, &p);
}

static void expect_person(const struct store_person *got, int64_t id, int64_t reg_bidx, int64_t cin_bidx)
{
	uint8_t want[SEALED_CAP];
	size_t n;

	assert_int_equal(got->id, id);
	assert_int_equal(got->reg_bidx, reg_bidx);
	n = sealed_for(want, sizeof(want), T_REG, id);
	assert_blob(got->reg_sealed, want, n);
	assert_int_equal(got->cin_bidx, cin_bidx);
	if (cin_bidx) {
		n = sealed_for(want, sizeof(want), T_CIN, id);
		assert_blob(got->cin_sealed, want, n);
	} else {
		assert_int_equal(got->cin_sealed.len, 0);
	}
	assert_int_equal(got->name_bidx, name_bidx_of(id));
	n = sealed_for(want, sizeof(want), T_IDENTITY, id);
	assert_blob(got->identity_sealed, want, n);
	assert_int_equal(got->created_at, created_at_of(id));
}

static void digest_for(uint8_t d[32], int64_t id)
{
	uint8_t tmp[SEALED_CAP];

	memset(d, 0, 32);
	size_t n = sealed_for(tmp, sizeof(tmp), T_DIGEST, id);
	memcpy(d, tmp, n < 32 ? n : 32);
	d[0] = 0; /* a leading zero and a last byte must survive too */
	d[31] = 0xa5;
}

static enum amana_err add_declaration(struct store *s, int64_t id, int64_t employer, uint32_t period, unsigned seq)
{
	if (id >= 0 && id < DECL_MAP && decl_employer[id] == 0)
		decl_employer[id] = employer;
	uint8_t totals[SEALED_CAP];
	struct store_declaration d = {
		.id = id,
		.employer_id = employer,
		.period = period,
		.seq = seq,
		.imported_at = created_at_of(id) + 17,
		.line_count = id * 3 + seq,
	};

	digest_for(d.digest, id);
	d.totals_sealed = (struct store_blob){ totals, sealed_for(totals, sizeof(totals), T_TOTALS, id) };
	/* a roster for odd ids only: it is optional */
	uint8_t roster[SEALED_CAP];
	if (id % 2)
		d.roster_sealed = (struct store_blob){ roster, sealed_for(roster, sizeof(roster), T_ROSTER, id) };
	return store_declaration_insert(s, &d);
}

static void expect_declaration(const struct store_declaration *got, int64_t id, int64_t employer, uint32_t period,
			       unsigned seq)
{
	uint8_t want[SEALED_CAP];
	uint8_t digest[32];
	size_t n;

	assert_int_equal(got->id, id);
	assert_int_equal(got->employer_id, employer);
	assert_int_equal(got->period, period);
	assert_int_equal(got->seq, seq);
	assert_int_equal(got->imported_at, created_at_of(id) + 17);
	assert_int_equal(got->line_count, id * 3 + seq);
	digest_for(digest, id);
	assert_memory_equal(got->digest, digest, sizeof(digest));
	n = sealed_for(want, sizeof(want), T_TOTALS, id);
	assert_blob(got->totals_sealed, want, n);
	if (got->roster_sealed.len) { /* expect_rosters says when there must be one */
		assert_true(id % 2);
		n = sealed_for(want, sizeof(want), T_ROSTER, id);
		assert_blob(got->roster_sealed, want, n);
	}
}

/* The persons of a chunk's lines as the service writes them: unsigned
 * LEB128 ids, 0 for occasional labour. Opaque to the store, kept exactly. */
static size_t persons_for(uint8_t *buf, size_t cap, int64_t declaration, int64_t chunk, int64_t line_count)
{
	size_t n = 0;

	for (int64_t i = 0; i < line_count; i++) {
		/* unsigned: the range tests pass ids near INT64_MAX / 65536 */
		uint64_t id = i % 4 == 3 ? 0 : (uint64_t)declaration * 100003u + (uint64_t)chunk * 1009u + (uint64_t)i;
		do {
			assert_true(n < cap);
			buf[n++] = (uint8_t)((id & 0x7f) | (id > 0x7f ? 0x80 : 0));
			id >>= 7;
		} while (id);
	}
	return n;
}

#define PERSONS_CAP (STORE_CHUNK_LINES * 10)

/* The payload's seed: wraps instead of overflowing for ids out of range. */
static int64_t chunk_seed(int64_t declaration, int64_t chunk)
{
	return (int64_t)((uint64_t)declaration * 1000u + (uint64_t)chunk);
}

static enum amana_err add_chunk(struct store *s, int64_t declaration, int64_t chunk, int64_t line_count)
{
	uint8_t persons[PERSONS_CAP], payload[SEALED_CAP];
	struct store_chunk c = { .employer_id = employer_of(declaration),
				 .declaration_id = declaration,
				 .chunk = chunk,
				 .line_count = line_count };

	c.persons =
	    (struct store_blob){ persons, persons_for(persons, sizeof(persons), declaration, chunk, line_count) };
	c.payload_sealed = (struct store_blob){ payload, sealed_for(payload, sizeof(payload), T_PAYLOAD,
								    chunk_seed(declaration, chunk)) };
	return store_chunk_insert(s, &c);
}

static void expect_chunk(const struct store_chunk *got, int64_t declaration, int64_t chunk, int64_t line_count)
{
	uint8_t want[PERSONS_CAP];
	size_t n;

	assert_int_equal(got->employer_id, employer_of(declaration));
	assert_int_equal(got->declaration_id, declaration);
	assert_int_equal(got->chunk, chunk);
	assert_int_equal(got->line_count, line_count);
	n = persons_for(want, sizeof(want), declaration, chunk, line_count);
	assert_blob(got->persons, want, n);
	n = sealed_for(want, sizeof(want), T_PAYLOAD, chunk_seed(declaration, chunk));
	assert_blob(got->payload_sealed, want, n);
}

static enum amana_err add_key(struct store *s, int purpose, uint32_t version)
{
	uint8_t w[SEALED_CAP];
	struct store_blob b = { w, sealed_for(w, sizeof(w), T_WRAPPED, purpose * 100000 + (int64_t)version) };

	return store_keyring_put(s, purpose, version, &b);
}

/* ---- collecting what the iterators hand out ---- */

#define MAX_ROWS 16

struct key_row {
	int purpose;
	uint32_t version;
	struct store_blob wrapped;
};

struct seen {
	size_t calls;
	size_t stop_at; /* 1-based call that returns stop_code; 0: never stop */
	enum amana_err stop_code;
	int broken; /* more rows than MAX_ROWS, or a non-empty blob without data */
	void *owned[MAX_ROWS * 4];
	size_t nowned;
	struct store_employer emp[MAX_ROWS];
	struct store_person per[MAX_ROWS];
	struct store_employment job[MAX_ROWS];
	struct store_declaration decl[MAX_ROWS];
	struct store_chunk chunk[MAX_ROWS];
	struct key_row key[MAX_ROWS];
};

static void seen_init(struct seen *sn)
{
	memset(sn, 0, sizeof(*sn));
}

/* Free the copies, then check nothing went wrong while collecting. */
static void seen_free(struct seen *sn)
{
	int broken = sn->broken;

	for (size_t i = 0; i < sn->nowned; i++)
		free(sn->owned[i]);
	seen_init(sn);
	assert_false(broken);
}

/* A blob handed to a callback is valid only during it: keep a copy. */
static struct store_blob keep(struct seen *sn, const struct store_blob *b)
{
	struct store_blob c = { NULL, b->len };

	if (!b->len)
		return c;
	uint8_t *p = b->data && sn->nowned < ARRAY_SIZE(sn->owned) ? malloc(b->len) : NULL;
	if (!p) {
		sn->broken = 1;
		c.len = 0;
		return c;
	}
	memcpy(p, b->data, b->len);
	sn->owned[sn->nowned++] = p;
	c.data = p;
	return c;
}

static int seen_full(struct seen *sn)
{
	if (sn->calls < MAX_ROWS)
		return 0;
	sn->broken = 1;
	return 1;
}

static enum amana_err seen_row(struct seen *sn)
{
	sn->calls++;
	if (sn->broken)
		return AMANA_ERR_LIMIT;
	return sn->stop_at && sn->calls == sn->stop_at ? sn->stop_code : AMANA_OK;
}

static enum amana_err on_key(void *ctx, int purpose, uint32_t version, const struct store_blob *wrapped)
{
	struct seen *sn = ctx;

	if (seen_full(sn))
		return AMANA_ERR_LIMIT;
	sn->key[sn->calls] = (struct key_row){ purpose, version, keep(sn, wrapped) };
	return seen_row(sn);
}

static enum amana_err on_employer(void *ctx, const struct store_employer *e)
{
	struct seen *sn = ctx;

	if (seen_full(sn))
		return AMANA_ERR_LIMIT;
	struct store_employer *r = &sn->emp[sn->calls];
	*r = *e;
	r->aff_sealed = keep(sn, &e->aff_sealed);
	r->profile_sealed = keep(sn, &e->profile_sealed);
	return seen_row(sn);
}

static enum amana_err on_person(void *ctx, const struct store_person *p)
{
	struct seen *sn = ctx;

	if (seen_full(sn))
		return AMANA_ERR_LIMIT;
	struct store_person *r = &sn->per[sn->calls];
	*r = *p;
	r->reg_sealed = keep(sn, &p->reg_sealed);
	r->cin_sealed = keep(sn, &p->cin_sealed);
	r->identity_sealed = keep(sn, &p->identity_sealed);
	return seen_row(sn);
}

static enum amana_err on_employment(void *ctx, const struct store_employment *e)
{
	struct seen *sn = ctx;

	if (seen_full(sn))
		return AMANA_ERR_LIMIT;
	sn->job[sn->calls] = *e;
	return seen_row(sn);
}

static enum amana_err on_declaration(void *ctx, const struct store_declaration *d)
{
	struct seen *sn = ctx;

	if (seen_full(sn))
		return AMANA_ERR_LIMIT;
	struct store_declaration *r = &sn->decl[sn->calls];
	*r = *d;
	r->totals_sealed = keep(sn, &d->totals_sealed);
	r->roster_sealed = keep(sn, &d->roster_sealed);
	return seen_row(sn);
}

/* The rosters of declarations read (as add_declaration writes them): on
 * the reads that return them (read), each odd id's, kept exactly (see
 * expect_declaration), and none for an even id; on the others, none. */
static void expect_rosters(const struct seen *sn, bool read)
{
	for (size_t i = 0; i < sn->calls; i++)
		if ((sn->decl[i].roster_sealed.len > 0) != (read && sn->decl[i].id % 2))
			fail_msg("declaration %lld: %s roster", (long long)sn->decl[i].id,
				 sn->decl[i].roster_sealed.len ? "a" : "no");
}

static enum amana_err on_period(void *ctx, int64_t id, int64_t employer, uint32_t period)
{
	struct seen *sn = ctx;

	if (seen_full(sn))
		return AMANA_ERR_LIMIT;
	struct store_declaration *r = &sn->decl[sn->calls];
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->employer_id = employer;
	r->period = period;
	return seen_row(sn);
}

static enum amana_err on_chunk(void *ctx, const struct store_chunk *c)
{
	struct seen *sn = ctx;

	if (seen_full(sn))
		return AMANA_ERR_LIMIT;
	struct store_chunk *r = &sn->chunk[sn->calls];
	*r = *c;
	r->persons = keep(sn, &c->persons);
	r->payload_sealed = keep(sn, &c->payload_sealed);
	return seen_row(sn);
}

static struct store_counts counts_of(struct store *s)
{
	struct store_counts c;

	memset(&c, 0xa5, sizeof(c));
	ASSERT_OK(store_counts(s, &c));
	return c;
}

static void expect_counts(struct store *s, int64_t employers, int64_t persons, int64_t employments,
			  int64_t declarations, int64_t lines)
{
	struct store_counts c = counts_of(s);

	assert_int_equal(c.employers, employers);
	assert_int_equal(c.persons, persons);
	assert_int_equal(c.employments, employments);
	assert_int_equal(c.declarations, declarations);
	assert_int_equal(c.lines, lines);
}

static int employer_exists(struct store *s, int64_t id)
{
	struct seen sn;

	seen_init(&sn);
	ASSERT_OK(store_employer_get(s, id, on_employer, &sn));
	size_t n = sn.calls;
	seen_free(&sn);
	assert_true(n <= 1);
	return n == 1;
}

/* ---- open, reopen, files ---- */

static void test_open_create_refuses_existing(void **state)
{
	struct fixture *f = *state;
	struct store sentinel = { NULL };
	struct store *other = &sentinel;

	ASSERT_OK(add_employer(f->s, 1, 11));
	ASSERT_ERR(backend->reopen_store(f->dir, 1, &other), AMANA_ERR_EXISTS);
	assert_null(other);
	/* The refused create left the registry alone, open or reopened. */
	assert_true(employer_exists(f->s, 1));
	reopen(f);
	assert_true(employer_exists(f->s, 1));
	expect_counts(f->s, 1, 0, 0, 0, 0);
}

static void test_open_missing_notfound(void **state)
{
	struct fixture *f = *state;
	struct store sentinel = { NULL };
	struct store *other = &sentinel;
	char empty[PATH_MAX];

	subdir(f, "empty", empty, sizeof(empty));
	ASSERT_ERR(backend->reopen_store(empty, 0, &other), AMANA_ERR_NOTFOUND);
	assert_null(other);
	/* The failed open created nothing: a create there still succeeds, and
	 * gives an empty store. */
	ASSERT_OK(backend->reopen_store(empty, 1, &other));
	assert_non_null(other);
	expect_counts(other, 0, 0, 0, 0, 0);
	store_close(other);
}

static void test_reopen_keeps_data(void **state)
{
	struct fixture *f = *state;
	struct seen sn;
	uint8_t val[16];
	size_t len = 0;
	int64_t first, next, end;

	ASSERT_OK(store_meta_put(f->s, "format", (const uint8_t *)"v1\0x", 4));
	ASSERT_OK(add_key(f->s, 1, 1));
	ASSERT_OK(add_employer(f->s, 10, 1010));
	ASSERT_OK(add_person(f->s, 20, 2020, 3030));
	ASSERT_OK(store_employment_open(f->s, 20, 10, 202401));
	ASSERT_OK(store_begin(f->s));
	decl_employer[30] = 10; /* the chunk comes before its declaration */
	ASSERT_OK(add_chunk(f->s, 30, 0, 3));
	ASSERT_OK(add_declaration(f->s, 30, 10, 202401, 0));
	ASSERT_OK(store_commit(f->s));
	ASSERT_OK(store_next_ids(f->s, "persons", 5, &first));
	end = first + 5;

	/* Twice: opening an up-to-date store again must change nothing. */
	for (int round = 0; round < 2; round++) {
		reopen(f);
		expect_counts(f->s, 1, 1, 1, 1, 3);
		ASSERT_OK(store_meta_get(f->s, "format", val, sizeof(val), &len));
		assert_int_equal(len, 4);
		assert_memory_equal(val, "v1\0x", 4);

		seen_init(&sn);
		ASSERT_OK(store_keyring_each(f->s, on_key, &sn));
		assert_int_equal(sn.calls, 1);
		assert_int_equal(sn.key[0].purpose, 1);
		assert_int_equal(sn.key[0].version, 1);
		seen_free(&sn);

		ASSERT_OK(store_employer_get(f->s, 10, on_employer, &sn));
		assert_int_equal(sn.calls, 1);
		expect_employer(&sn.emp[0], 10, 1010);
		seen_free(&sn);

		ASSERT_OK(store_person_by_cin(f->s, 3030, on_person, &sn));
		assert_int_equal(sn.calls, 1);
		expect_person(&sn.per[0], 20, 2020, 3030);
		seen_free(&sn);

		ASSERT_OK(store_employment_of_person(f->s, 20, on_employment, &sn));
		assert_int_equal(sn.calls, 1);
		assert_int_equal(sn.job[0].start_period, 202401);
		assert_int_equal(sn.job[0].end_period, 0);
		seen_free(&sn);

		ASSERT_OK(store_declarations_of(f->s, 10, 202401, on_declaration, &sn));
		assert_int_equal(sn.calls, 1);
		expect_declaration(&sn.decl[0], 30, 10, 202401, 0);
		seen_free(&sn);

		ASSERT_OK(chunks_of(f->s, 30, on_chunk, &sn));
		assert_int_equal(sn.calls, 1);
		expect_chunk(&sn.chunk[0], 30, 0, 3);
		seen_free(&sn);

		/* The sequence goes on from where it was, never back. */
		ASSERT_OK(store_next_ids(f->s, "persons", 1, &next));
		assert_true(next >= end);
		end = next + 1;
	}
}

static void test_open_not_a_database(void **state)
{
	struct fixture *f = *state;
	struct store sentinel = { NULL };
	struct store *other = &sentinel;
	char dir[PATH_MAX], path[PATH_MAX];
	char junk[4096], back[sizeof(junk) + 1];

	if (!backend->data_file)
		skip();
	subdir(f, "junk", dir, sizeof(dir));
	assert_int_equal(backend->data_file(dir, path, sizeof(path)), 0);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = "not a database, just text\n"[i % 26];
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
	assert_int_equal(fclose(fp), 0);

	ASSERT_ERR(backend->reopen_store(dir, 0, &other), AMANA_ERR_CORRUPT);
	assert_null(other);
	/* and the file was not "repaired" into something else */
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(back, 1, sizeof(back), fp), sizeof(junk));
	fclose(fp);
	assert_memory_equal(back, junk, sizeof(junk));
}

/* A file written by a newer Amana (a schema version this one does not know)
 * is refused rather than guessed at. */
static void test_open_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	struct store sentinel = { NULL };
	struct store *other = &sentinel;
	char path[PATH_MAX];
	sqlite3 *db;

	if (!is_sqlite())
		skip();
	ASSERT_OK(add_employer(f->s, 1, 1));
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(backend->data_file(f->dir, path, sizeof(path)), 0);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 1000", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	ASSERT_ERR(backend->reopen_store(f->dir, 0, &other), AMANA_ERR_CORRUPT);
	assert_null(other);
}

/* create = 1 where the store cannot be created must fail, and not with
 * AMANA_ERR_EXISTS: nothing exists there, and a caller told "exists" would
 * look for a registry that is not there. */
static void test_open_create_impossible_is_not_exists(void **state)
{
	struct fixture *f = *state;
	struct store sentinel = { NULL };
	struct store *other = &sentinel;
	char dir[PATH_MAX];
	enum amana_err err;

	if (!backend->data_file)
		skip();
	assert_int_equal(join(dir, sizeof(dir), f->dir, "no/such/directory"), 0);
	err = backend->reopen_store(dir, 1, &other);
	ASSERT_FAILS(err);
	assert_null(other);
	if (err == AMANA_ERR_EXISTS)
		fail_msg("create in a missing directory reported AMANA_ERR_EXISTS; nothing exists there");
}

static int file_mode(const char *path, mode_t *mode)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	*mode = st.st_mode & 07777;
	return 0;
}

static void test_file_wal_and_owner_only(void **state)
{
	struct fixture *f = *state;
	struct store *other = NULL;
	char dir[PATH_MAX], path[PATH_MAX], side[PATH_MAX + 8];
	mode_t mode;
	sqlite3 *db;
	sqlite3_stmt *q;

	if (!is_sqlite())
		skip();
	/* The fixture's store, under the test run's umask. */
	assert_int_equal(backend->data_file(f->dir, path, sizeof(path)), 0);
	assert_int_equal(file_mode(path, &mode), 0);
	assert_int_equal(mode, 0600);

	/* A store created under umask 0: owner-only must not rest on the umask. */
	subdir(f, "umask0", dir, sizeof(dir));
	mode_t old = umask(0);
	enum amana_err err = backend->reopen_store(dir, 1, &other);
	umask(old);
	ASSERT_OK(err);
	umask(0);
	err = add_employer(other, 1, 1);
	umask(old);
	ASSERT_OK(err);

	assert_int_equal(backend->data_file(dir, path, sizeof(path)), 0);
	assert_int_equal(file_mode(path, &mode), 0);
	assert_int_equal(mode, 0600);
	/* In WAL mode, with the store open after a write, the log and the
	 * shared-memory index are there, owner-only like the database. */
	snprintf(side, sizeof(side), "%s-wal", path);
	assert_int_equal(file_mode(side, &mode), 0);
	assert_int_equal(mode, 0600);
	snprintf(side, sizeof(side), "%s-shm", path);
	assert_int_equal(file_mode(side, &mode), 0);
	assert_int_equal(mode, 0600);

	/* journal_mode is kept in the file: a separate connection sees it. */
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	sqlite3_close(db);
	store_close(other);
}

static int file_contains(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "rb");
	size_t nlen = strlen(needle), cap = 1 << 20, n;
	char *buf = malloc(cap);
	int found;

	assert_non_null(fp);
	assert_non_null(buf);
	n = fread(buf, 1, cap, fp);
	fclose(fp);
	assert_true(n < cap); /* the whole file was read */
	found = memmem(buf, n, needle, nlen) != NULL;
	free(buf);
	return found;
}

/* Overwritten values leave no residue in the file (secure_delete): checked
 * after close, once the log is folded into the database file. */
static void test_file_overwritten_values_leave_no_residue(void **state)
{
	struct fixture *f = *state;
	static const char canary[] = "AMANA-RESIDUE-CANARY";
	uint8_t small[200], big[3000];
	char path[PATH_MAX];

	if (!backend->data_file)
		skip();
	for (size_t i = 0; i < sizeof(small); i++)
		small[i] = (uint8_t)canary[i % (sizeof(canary) - 1)];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)canary[i % (sizeof(canary) - 1)];
	/* one value stored in its page, one that spills to overflow pages */
	ASSERT_OK(store_meta_put(f->s, "small", small, sizeof(small)));
	ASSERT_OK(store_meta_put(f->s, "big", big, sizeof(big)));
	ASSERT_OK(store_meta_put(f->s, "small", (const uint8_t *)"x", 1));
	ASSERT_OK(store_meta_put(f->s, "big", (const uint8_t *)"y", 1));
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(backend->data_file(f->dir, path, sizeof(path)), 0);
	assert_false(file_contains(path, canary));
}

/* ---- meta ---- */

static void test_meta(void **state)
{
	struct fixture *f = *state;
	static const uint8_t v1[] = { 0, 1, 2, 0, 'a', 0 };
	static const uint8_t v2[] = { 9, 0, 9 };
	uint8_t out[16];
	size_t len;

	len = 1234;
	ASSERT_ERR(store_meta_get(f->s, "k", out, sizeof(out), &len), AMANA_ERR_NOTFOUND);

	ASSERT_OK(store_meta_put(f->s, "k", v1, sizeof(v1)));
	memset(out, 0xee, sizeof(out));
	ASSERT_OK(store_meta_get(f->s, "k", out, sizeof(out), &len));
	assert_int_equal(len, sizeof(v1));
	assert_memory_equal(out, v1, sizeof(v1));

	/* a buffer of exactly the value's size is enough; one byte less is not */
	ASSERT_OK(store_meta_get(f->s, "k", out, sizeof(v1), &len));
	assert_int_equal(len, sizeof(v1));
	ASSERT_ERR(store_meta_get(f->s, "k", out, sizeof(v1) - 1, &len), AMANA_ERR_LIMIT);
	ASSERT_ERR(store_meta_get(f->s, "k", out, 0, &len), AMANA_ERR_LIMIT);

	/* overwrite with a shorter value: the new length, not the old one */
	ASSERT_OK(store_meta_put(f->s, "k", v2, sizeof(v2)));
	memset(out, 0xee, sizeof(out));
	ASSERT_OK(store_meta_get(f->s, "k", out, sizeof(out), &len));
	assert_int_equal(len, sizeof(v2));
	assert_memory_equal(out, v2, sizeof(v2));

	/* keys are distinct; an empty value is a value, not a missing one */
	ASSERT_ERR(store_meta_get(f->s, "K", out, sizeof(out), &len), AMANA_ERR_NOTFOUND);
	ASSERT_ERR(store_meta_get(f->s, "k ", out, sizeof(out), &len), AMANA_ERR_NOTFOUND);
	ASSERT_OK(store_meta_put(f->s, "empty", NULL, 0));
	len = 1234;
	ASSERT_OK(store_meta_get(f->s, "empty", out, sizeof(out), &len));
	assert_int_equal(len, 0);
	ASSERT_OK(store_meta_get(f->s, "k", out, sizeof(out), &len));
	assert_int_equal(len, sizeof(v2));

	/* transactional like everything else */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(store_meta_put(f->s, "k", v1, sizeof(v1)));
	ASSERT_OK(store_meta_put(f->s, "new", v1, sizeof(v1)));
	ASSERT_OK(store_rollback(f->s));
	ASSERT_OK(store_meta_get(f->s, "k", out, sizeof(out), &len));
	assert_int_equal(len, sizeof(v2));
	assert_memory_equal(out, v2, sizeof(v2));
	ASSERT_ERR(store_meta_get(f->s, "new", out, sizeof(out), &len), AMANA_ERR_NOTFOUND);
}

/* ---- sequences ---- */

static void test_next_ids_monotonic_disjoint(void **state)
{
	struct fixture *f = *state;
	static const int64_t counts[] = { 1, 5, 1, 1000, 2, 1 };
	int64_t a_first, b_first, a_end = 0, b_end = 0, got;

	/* Each sequence hands out ids >= 1 (0 means "none" in the rows),
	 * ranges that never overlap and only go up, whatever the other
	 * sequences do in between. */
	for (size_t i = 0; i < ARRAY_SIZE(counts); i++) {
		ASSERT_OK(store_next_ids(f->s, "a", counts[i], &got));
		assert_true(got >= 1);
		assert_true(got >= a_end);
		a_end = got + counts[i];
		if (i == 0)
			a_first = got;

		ASSERT_OK(store_next_ids(f->s, "b", counts[ARRAY_SIZE(counts) - 1 - i], &got));
		assert_true(got >= 1);
		assert_true(got >= b_end);
		b_end = got + counts[ARRAY_SIZE(counts) - 1 - i];
		if (i == 0)
			b_first = got;
	}
	/* Sequences are independent: a fresh one starts where a fresh one
	 * starts, however many ids the others gave out. */
	assert_int_equal(a_first, b_first);
	ASSERT_OK(store_next_ids(f->s, "c", 1, &got));
	assert_int_equal(got, a_first);

	/* A count that asks for nothing is malformed, and takes nothing. */
	ASSERT_ERR(store_next_ids(f->s, "a", 0, &got), AMANA_ERR_USAGE);
	ASSERT_ERR(store_next_ids(f->s, "a", -3, &got), AMANA_ERR_USAGE);
	ASSERT_OK(store_next_ids(f->s, "a", 1, &got));
	assert_true(got >= a_end);
}

static void test_next_ids_rolled_back(void **state)
{
	struct fixture *f = *state;
	int64_t before, inside, after;

	ASSERT_OK(store_next_ids(f->s, "persons", 3, &before));
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(store_next_ids(f->s, "persons", 10, &inside));
	assert_true(inside >= before + 3);
	ASSERT_OK(store_next_ids(f->s, "fresh", 10, &after));
	ASSERT_OK(store_rollback(f->s));

	/* the ids taken in the rolled-back transaction are given again */
	ASSERT_OK(store_next_ids(f->s, "persons", 10, &after));
	assert_int_equal(after, inside);
	ASSERT_OK(store_next_ids(f->s, "fresh", 1, &after));
	assert_int_equal(after, before); /* "fresh" never existed */

	/* and a committed take stays taken */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(store_next_ids(f->s, "persons", 2, &inside));
	ASSERT_OK(store_commit(f->s));
	ASSERT_OK(store_next_ids(f->s, "persons", 1, &after));
	assert_true(after >= inside + 2);
}

/* ---- keyring ---- */

static void test_keyring(void **state)
{
	struct fixture *f = *state;
	static const struct {
		int purpose;
		uint32_t version;
	} put[] = { { 2, 1 }, { 1, 2 }, { 3, UINT32_MAX }, { 1, 10 }, { 1, 1 }, { 3, 7 } },
	  want[] = { { 1, 1 }, { 1, 2 }, { 1, 10 }, { 2, 1 }, { 3, 7 }, { 3, UINT32_MAX } };
	uint8_t w[SEALED_CAP];
	struct seen sn;

	seen_init(&sn);
	ASSERT_OK(store_keyring_each(f->s, on_key, &sn));
	assert_int_equal(sn.calls, 0);

	for (size_t i = 0; i < ARRAY_SIZE(put); i++)
		ASSERT_OK(add_key(f->s, put[i].purpose, put[i].version));
	/* (purpose, version) is unique: a second wrap of it is refused */
	uint8_t other[] = { 0xde, 0xad };
	struct store_blob ob = { other, sizeof(other) };
	ASSERT_ERR(store_keyring_put(f->s, 1, 2, &ob), AMANA_ERR_EXISTS);

	ASSERT_OK(store_keyring_each(f->s, on_key, &sn));
	assert_int_equal(sn.calls, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(sn.key[i].purpose, want[i].purpose);
		assert_int_equal(sn.key[i].version, want[i].version);
		size_t n = sealed_for(w, sizeof(w), T_WRAPPED, want[i].purpose * 100000 + (int64_t)want[i].version);
		assert_blob(sn.key[i].wrapped, w, n); /* (1, 2) kept its first wrap */
	}
	seen_free(&sn);
}

/* ---- employers ---- */

static void test_employer_insert_get(void **state)
{
	struct fixture *f = *state;
	struct seen sn;

	ASSERT_OK(add_employer(f->s, 7, INT64_MIN + 1));
	ASSERT_OK(add_employer(f->s, 8, INT64_MAX));
	ASSERT_OK(add_employer(f->s, 9, 0));

	seen_init(&sn);
	ASSERT_OK(store_employer_get(f->s, 7, on_employer, &sn));
	assert_int_equal(sn.calls, 1);
	expect_employer(&sn.emp[0], 7, INT64_MIN + 1);
	seen_free(&sn);
	ASSERT_OK(store_employer_get(f->s, 8, on_employer, &sn));
	assert_int_equal(sn.calls, 1);
	expect_employer(&sn.emp[0], 8, INT64_MAX);
	seen_free(&sn);

	/* missing: no row, no error */
	ASSERT_OK(store_employer_get(f->s, 10, on_employer, &sn));
	assert_int_equal(sn.calls, 0);
	ASSERT_OK(store_employer_by_bidx(f->s, 12345, on_employer, &sn));
	assert_int_equal(sn.calls, 0);
	seen_free(&sn);

	/* an id is given once */
	ASSERT_ERR(add_employer(f->s, 7, 99), AMANA_ERR_EXISTS);
	ASSERT_OK(store_employer_get(f->s, 7, on_employer, &sn));
	assert_int_equal(sn.calls, 1);
	expect_employer(&sn.emp[0], 7, INT64_MIN + 1);
	seen_free(&sn);
	expect_counts(f->s, 3, 0, 0, 0, 0);
}

static void test_employers_each_in_id_order(void **state)
{
	struct fixture *f = *state;
	static const int64_t ids[] = { 30, 10, 20 };
	struct seen sn;

	seen_init(&sn);
	ASSERT_OK(store_employers_each(f->s, on_employer, &sn));
	assert_int_equal(sn.calls, 0);

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		ASSERT_OK(add_employer(f->s, ids[i], 1000 - ids[i]));
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_employer(f->s, 5, 5));
	ASSERT_OK(store_rollback(f->s));

	ASSERT_OK(store_employers_each(f->s, on_employer, &sn));
	assert_int_equal(sn.calls, 3);
	expect_employer(&sn.emp[0], 10, 990);
	expect_employer(&sn.emp[1], 20, 980);
	expect_employer(&sn.emp[2], 30, 970);
	seen_free(&sn);
}

static void test_employer_by_bidx_all_in_id_order(void **state)
{
	struct fixture *f = *state;
	static const int64_t ids[] = { 30, 10, 20 };
	struct seen sn;

	/* blind indexes collide by design: several employers share one */
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		ASSERT_OK(add_employer(f->s, ids[i], -42));
	ASSERT_OK(add_employer(f->s, 15, 42));

	seen_init(&sn);
	ASSERT_OK(store_employer_by_bidx(f->s, -42, on_employer, &sn));
	assert_int_equal(sn.calls, 3);
	expect_employer(&sn.emp[0], 10, -42);
	expect_employer(&sn.emp[1], 20, -42);
	expect_employer(&sn.emp[2], 30, -42);
	seen_free(&sn);

	ASSERT_OK(store_employer_by_bidx(f->s, 42, on_employer, &sn));
	assert_int_equal(sn.calls, 1);
	expect_employer(&sn.emp[0], 15, 42);
	seen_free(&sn);
}

/* ---- persons ---- */

static void test_person_with_and_without_cin(void **state)
{
	struct fixture *f = *state;
	struct seen sn;
	uint8_t reg[SEALED_CAP], identity[SEALED_CAP];

	ASSERT_OK(add_person(f->s, 1, 100, 500));
	ASSERT_OK(add_person(f->s, 2, 200, 0));
	/* a CIN index without a sealed CIN is no CIN at all */
	struct store_person p = {
		.id = 3, .reg_bidx = 300, .cin_bidx = 77, .name_bidx = name_bidx_of(3), .created_at = created_at_of(3)
	};
	p.reg_sealed = (struct store_blob){ reg, sealed_for(reg, sizeof(reg), T_REG, 3) };
	p.identity_sealed = (struct store_blob){ identity, sealed_for(identity, sizeof(identity), T_IDENTITY, 3) };
	ASSERT_OK(store_person_insert(f->s, &p));

	seen_init(&sn);
	ASSERT_OK(store_person_get(f->s, 1, on_person, &sn));
	assert_int_equal(sn.calls, 1);
	expect_person(&sn.per[0], 1, 100, 500);
	seen_free(&sn);
	ASSERT_OK(store_person_get(f->s, 2, on_person, &sn));
	assert_int_equal(sn.calls, 1);
	expect_person(&sn.per[0], 2, 200, 0);
	seen_free(&sn);
	ASSERT_OK(store_person_get(f->s, 3, on_person, &sn));
	assert_int_equal(sn.calls, 1);
	expect_person(&sn.per[0], 3, 300, 0);
	seen_free(&sn);

	ASSERT_OK(store_person_by_reg(f->s, 200, on_person, &sn));
	assert_int_equal(sn.calls, 1);
	expect_person(&sn.per[0], 2, 200, 0);
	seen_free(&sn);
	ASSERT_OK(store_person_by_cin(f->s, 500, on_person, &sn));
	assert_int_equal(sn.calls, 1);
	expect_person(&sn.per[0], 1, 100, 500);
	seen_free(&sn);

	/* persons without a CIN are not found by "CIN index 0", nor by the
	 * index that came without a sealed CIN */
	ASSERT_OK(store_person_by_cin(f->s, 0, on_person, &sn));
	assert_int_equal(sn.calls, 0);
	ASSERT_OK(store_person_by_cin(f->s, 77, on_person, &sn));
	assert_int_equal(sn.calls, 0);
	/* missing */
	ASSERT_OK(store_person_get(f->s, 4, on_person, &sn));
	assert_int_equal(sn.calls, 0);
	ASSERT_OK(store_person_by_reg(f->s, 400, on_person, &sn));
	assert_int_equal(sn.calls, 0);
	ASSERT_OK(store_person_by_cin(f->s, 100, on_person, &sn)); /* a reg index is not a CIN index */
	assert_int_equal(sn.calls, 0);
	seen_free(&sn);

	ASSERT_ERR(add_person(f->s, 1, 101, 0), AMANA_ERR_EXISTS);
	expect_counts(f->s, 0, 3, 0, 0, 0);
}

static void test_person_lookups_return_all_in_id_order(void **state)
{
	struct fixture *f = *state;
	static const int64_t ids[] = { 9, 3, 6 };
	struct seen sn;

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		ASSERT_OK(add_person(f->s, ids[i], 1000, -2000));
	ASSERT_OK(add_person(f->s, 4, 1000, 2000));
	ASSERT_OK(add_person(f->s, 5, 1001, -2000));

	seen_init(&sn);
	ASSERT_OK(store_person_by_reg(f->s, 1000, on_person, &sn));
	assert_int_equal(sn.calls, 4);
	expect_person(&sn.per[0], 3, 1000, -2000);
	expect_person(&sn.per[1], 4, 1000, 2000);
	expect_person(&sn.per[2], 6, 1000, -2000);
	expect_person(&sn.per[3], 9, 1000, -2000);
	seen_free(&sn);

	ASSERT_OK(store_person_by_cin(f->s, -2000, on_person, &sn));
	assert_int_equal(sn.calls, 4);
	expect_person(&sn.per[0], 3, 1000, -2000);
	expect_person(&sn.per[1], 5, 1001, -2000);
	expect_person(&sn.per[2], 6, 1000, -2000);
	expect_person(&sn.per[3], 9, 1000, -2000);
	seen_free(&sn);
}

/* Sealed values come back byte for byte: zero bytes anywhere, high bytes,
 * a large value, empty values given as (NULL, 0) or (ptr, 0); and the store
 * keeps its own copy of what it was handed. */
static void test_blobs_byte_exact(void **state)
{
	struct fixture *f = *state;
	const size_t big_len = 1 << 17;
	uint8_t *big = malloc(big_len), *want_big = malloc(big_len);
	uint8_t zeros[33], high[256], aff[1];
	struct seen sn;

	assert_non_null(big);
	assert_non_null(want_big);
	for (size_t i = 0; i < big_len; i++)
		want_big[i] = i % 3 == 0 ? 0 : (uint8_t)(i * 2654435761u >> 13);
	memcpy(big, want_big, big_len);
	memset(zeros, 0, sizeof(zeros));
	/* every byte from 255 down to 128, twice: no run of ASCII digits, which
	 * the plaintext test (sharing the test server's WAL) would take for a
	 * registration or affiliation number */
	for (size_t i = 0; i < sizeof(high); i++)
		high[i] = (uint8_t)(255 - i % 128);

	struct store_person p = {
		.id = 1,
		.reg_bidx = 1,
		.reg_sealed = { zeros, sizeof(zeros) },
		.cin_bidx = 2,
		.cin_sealed = { high, sizeof(high) },
		.name_bidx = 3,
		.identity_sealed = { big, big_len },
		.created_at = 4,
	};
	ASSERT_OK(store_person_insert(f->s, &p));
	struct store_employer e = { .id = 1, .aff_bidx = 5, .aff_sealed = { aff, 0 }, .profile_sealed = { NULL, 0 } };
	ASSERT_OK(store_employer_insert(f->s, &e));
	struct store_person q = { .id = 2, .reg_bidx = 6, .reg_sealed = { NULL, 0 }, .identity_sealed = { zeros, 1 } };
	ASSERT_OK(store_person_insert(f->s, &q));

	/* scribble over what was handed in */
	memset(big, 0x5a, big_len);
	memset(zeros, 0x5a, sizeof(zeros));
	memset(high, 0x5a, sizeof(high));

	uint8_t zero_want[sizeof(zeros)] = { 0 }, high_want[sizeof(high)];
	for (size_t i = 0; i < sizeof(high_want); i++)
		high_want[i] = (uint8_t)(255 - i % 128);

	seen_init(&sn);
	ASSERT_OK(store_person_get(f->s, 1, on_person, &sn));
	assert_int_equal(sn.calls, 1);
	assert_blob(sn.per[0].reg_sealed, zero_want, sizeof(zero_want));
	assert_blob(sn.per[0].cin_sealed, high_want, sizeof(high_want));
	assert_blob(sn.per[0].identity_sealed, want_big, big_len);
	seen_free(&sn);

	ASSERT_OK(store_person_get(f->s, 2, on_person, &sn));
	assert_int_equal(sn.calls, 1);
	assert_int_equal(sn.per[0].reg_sealed.len, 0);
	assert_int_equal(sn.per[0].cin_sealed.len, 0);
	assert_blob(sn.per[0].identity_sealed, zero_want, 1);
	seen_free(&sn);

	ASSERT_OK(store_employer_by_bidx(f->s, 5, on_employer, &sn));
	assert_int_equal(sn.calls, 1);
	assert_int_equal(sn.emp[0].aff_sealed.len, 0);
	assert_int_equal(sn.emp[0].profile_sealed.len, 0);
	seen_free(&sn);

	/* key wraps and declaration totals too */
	struct store_blob w = { high_want, sizeof(high_want) };
	ASSERT_OK(store_keyring_put(f->s, 1, 1, &w));
	struct store_blob empty = { NULL, 0 };
	ASSERT_OK(store_keyring_put(f->s, 1, 2, &empty));
	ASSERT_OK(store_keyring_each(f->s, on_key, &sn));
	assert_int_equal(sn.calls, 2);
	assert_blob(sn.key[0].wrapped, high_want, sizeof(high_want));
	assert_int_equal(sn.key[1].wrapped.len, 0);
	seen_free(&sn);

	struct store_declaration d = { .id = 1,
				       .employer_id = 1,
				       .period = 202401,
				       .totals_sealed = { want_big, 1000 },
				       .roster_sealed = { want_big + 1, 999 } };
	ASSERT_OK(store_declaration_insert(f->s, &d));
	ASSERT_OK(store_declarations_of(f->s, 1, 202401, on_declaration, &sn));
	assert_int_equal(sn.calls, 1);
	assert_blob(sn.decl[0].totals_sealed, want_big, 1000);
	seen_free(&sn);
	const int64_t one = 1;
	ASSERT_OK(store_declarations_recent_many(f->s, &one, 1, 202401, on_declaration, &sn));
	assert_int_equal(sn.calls, 1);
	assert_blob(sn.decl[0].roster_sealed, want_big + 1, 999);
	uint8_t zero_digest[32] = { 0 };
	assert_memory_equal(sn.decl[0].digest, zero_digest, sizeof(zero_digest));
	seen_free(&sn);

	free(big);
	free(want_big);
}

/* ---- iteration stops on the callback's word ---- */

enum iter {
	IT_KEYRING,
	IT_EMP_BIDX,
	IT_EMP_GET,
	IT_PER_REG,
	IT_PER_CIN,
	IT_PER_GET,
	IT_JOBS,
	IT_DECLS,
	IT_CHUNKS,
	IT_EMP_EACH,
	IT_DECLS_RECENT,
	IT_PER_EACH,
	IT_DECLS_EACH,
	IT_DECL_PERIODS,
	IT_CHUNKS_EACH,
	IT_CHUNKS_EACH_BARE
};

static enum amana_err iterate(struct store *s, enum iter which, struct seen *sn)
{
	switch (which) {
	case IT_KEYRING: return store_keyring_each(s, on_key, sn);
	case IT_EMP_BIDX: return store_employer_by_bidx(s, 77, on_employer, sn);
	case IT_EMP_GET: return store_employer_get(s, 1, on_employer, sn);
	case IT_PER_REG: return store_person_by_reg(s, 88, on_person, sn);
	case IT_PER_CIN: return store_person_by_cin(s, 99, on_person, sn);
	case IT_PER_GET: return store_person_get(s, 1, on_person, sn);
	case IT_JOBS: return store_employment_of_person(s, 1, on_employment, sn);
	case IT_DECLS: return store_declarations_of(s, 1, 202401, on_declaration, sn);
	case IT_CHUNKS: return chunks_of(s, 1, on_chunk, sn);
	case IT_EMP_EACH: return store_employers_each(s, on_employer, sn);
	case IT_DECLS_RECENT: return store_declarations_recent(s, 1, 202402, on_declaration, sn);
	case IT_PER_EACH: return store_persons_each(s, on_person, sn);
	case IT_DECLS_EACH: return store_declarations_each(s, on_declaration, sn);
	case IT_DECL_PERIODS: return store_declaration_periods_each(s, on_period, sn);
	case IT_CHUNKS_EACH: return store_chunks_each(s, true, on_chunk, sn);
	case IT_CHUNKS_EACH_BARE: return store_chunks_each(s, false, on_chunk, sn);
	}
	return AMANA_ERR_USAGE;
}

static void test_callbacks_stop_iteration(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *name;
		enum iter which;
		size_t rows;
		size_t stop_at;
		enum amana_err code;
	} cases[] = {
		{ "keyring_each", IT_KEYRING, 3, 2, AMANA_ERR_CRYPTO },
		{ "employer_by_bidx", IT_EMP_BIDX, 3, 2, AMANA_ERR_EXISTS },
		{ "employer_get", IT_EMP_GET, 1, 1, AMANA_ERR_DENIED },
		{ "person_by_reg", IT_PER_REG, 3, 2, AMANA_ERR_EXISTS },
		{ "person_by_cin", IT_PER_CIN, 3, 1, AMANA_ERR_INPUT },
		{ "person_get", IT_PER_GET, 1, 1, AMANA_ERR_NOTFOUND },
		{ "employment_of_person", IT_JOBS, 3, 2, AMANA_ERR_IO },
		{ "declarations_of", IT_DECLS, 3, 2, AMANA_ERR_CORRUPT },
		{ "chunks_of", IT_CHUNKS, 3, 2, AMANA_ERR_USAGE },
		{ "employers_each", IT_EMP_EACH, 3, 2, AMANA_ERR_EXISTS },
		{ "declarations_recent", IT_DECLS_RECENT, 3, 1, AMANA_ERR_DENIED },
		{ "persons_each", IT_PER_EACH, 3, 2, AMANA_ERR_CRYPTO },
		{ "declarations_each", IT_DECLS_EACH, 3, 3, AMANA_ERR_INPUT },
		{ "declaration_periods_each", IT_DECL_PERIODS, 3, 2, AMANA_ERR_IO },
		{ "chunks_each with payload", IT_CHUNKS_EACH, 3, 1, AMANA_ERR_NOMEM },
		{ "chunks_each without payload", IT_CHUNKS_EACH_BARE, 3, 2, AMANA_ERR_LIMIT },
	};
	struct seen sn;

	ASSERT_OK(store_begin(f->s));
	for (int i = 1; i <= 3; i++) {
		ASSERT_OK(add_key(f->s, 1, (uint32_t)i));
		ASSERT_OK(add_employer(f->s, i, 77));
		ASSERT_OK(add_person(f->s, i, 88, 99));
		ASSERT_OK(store_employment_open(f->s, 1, i, 202400 + (uint32_t)i));
		ASSERT_OK(add_declaration(f->s, i, 1, 202401, (unsigned)i - 1));
		ASSERT_OK(add_chunk(f->s, 1, i - 1, 2));
	}
	ASSERT_OK(store_commit(f->s));

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		seen_init(&sn);
		sn.stop_at = cases[i].stop_at;
		sn.stop_code = cases[i].code;
		assert_err_at(iterate(f->s, cases[i].which, &sn), cases[i].code, cases[i].name, __FILE__, __LINE__);
		if (sn.calls != cases[i].stop_at)
			fail_msg("%s: %zu calls after the callback said stop at call %zu", cases[i].name, sn.calls,
				 cases[i].stop_at);
		seen_free(&sn);

		/* the next iteration starts afresh and sees every row */
		assert_err_at(iterate(f->s, cases[i].which, &sn), AMANA_OK, cases[i].name, __FILE__, __LINE__);
		if (sn.calls != cases[i].rows)
			fail_msg("%s: %zu rows, expected %zu", cases[i].name, sn.calls, cases[i].rows);
		seen_free(&sn);
	}

	/* nothing is left holding the store after stopped iterations */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_employer(f->s, 4, 77));
	ASSERT_OK(store_commit(f->s));
	expect_counts(f->s, 4, 3, 3, 3, 6);
}

/* ---- employment periods ---- */

static void test_employment_open_close(void **state)
{
	struct fixture *f = *state;
	const int64_t p = 1, q = 2, a = 10, b = 20, c = 30;
	struct seen sn;

	ASSERT_OK(add_person(f->s, p, 1, 0));
	ASSERT_OK(add_person(f->s, q, 2, 0));
	ASSERT_OK(add_employer(f->s, a, 1));
	ASSERT_OK(add_employer(f->s, b, 2));
	ASSERT_OK(add_employer(f->s, c, 3));

	ASSERT_OK(store_employment_open(f->s, p, b, 202403));
	ASSERT_OK(store_employment_open(f->s, p, a, 202401));
	ASSERT_OK(store_employment_open(f->s, p, c, 202401));
	ASSERT_OK(store_employment_open(f->s, q, a, 202402));

	/* by start period; on the same start, in the order they were opened */
	seen_init(&sn);
	ASSERT_OK(store_employment_of_person(f->s, p, on_employment, &sn));
	assert_int_equal(sn.calls, 3);
	static const struct {
		int64_t employer;
		uint32_t start, end;
	} want1[] = { { 10, 202401, 0 }, { 30, 202401, 0 }, { 20, 202403, 0 } };
	for (size_t i = 0; i < ARRAY_SIZE(want1); i++) {
		assert_int_equal(sn.job[i].person_id, p);
		assert_int_equal(sn.job[i].employer_id, want1[i].employer);
		assert_int_equal(sn.job[i].start_period, want1[i].start);
		assert_int_equal(sn.job[i].end_period, want1[i].end);
	}
	assert_true(sn.job[0].id != sn.job[1].id && sn.job[1].id != sn.job[2].id && sn.job[0].id != sn.job[2].id);
	seen_free(&sn);

	/* closing ends P's period with A, not P's others nor Q's with A */
	ASSERT_OK(store_employment_close(f->s, p, a, 202402));
	/* rehired by A, then gone again: only the open period is closed */
	ASSERT_OK(store_employment_open(f->s, p, a, 202405));
	ASSERT_OK(store_employment_close(f->s, p, a, 202407));

	ASSERT_OK(store_employment_of_person(f->s, p, on_employment, &sn));
	assert_int_equal(sn.calls, 4);
	static const struct {
		int64_t employer;
		uint32_t start, end;
	} want2[] = { { 10, 202401, 202402 }, { 30, 202401, 0 }, { 20, 202403, 0 }, { 10, 202405, 202407 } };
	for (size_t i = 0; i < ARRAY_SIZE(want2); i++) {
		assert_int_equal(sn.job[i].person_id, p);
		assert_int_equal(sn.job[i].employer_id, want2[i].employer);
		assert_int_equal(sn.job[i].start_period, want2[i].start);
		assert_int_equal(sn.job[i].end_period, want2[i].end);
	}
	seen_free(&sn);

	ASSERT_OK(store_employment_of_person(f->s, q, on_employment, &sn));
	assert_int_equal(sn.calls, 1);
	assert_int_equal(sn.job[0].person_id, q);
	assert_int_equal(sn.job[0].employer_id, a);
	assert_int_equal(sn.job[0].start_period, 202402);
	assert_int_equal(sn.job[0].end_period, 0);
	seen_free(&sn);

	ASSERT_OK(store_employment_of_person(f->s, 99, on_employment, &sn));
	assert_int_equal(sn.calls, 0);
	seen_free(&sn);

	/* a period needs a real person and a real employer */
	ASSERT_FAILS(store_employment_open(f->s, 99, a, 202401));
	ASSERT_FAILS(store_employment_open(f->s, p, 99, 202401));
	expect_counts(f->s, 3, 2, 5, 0, 0);
}

struct job_want {
	int64_t employer;
	uint32_t start, end;
};

static void expect_jobs(struct store *s, int64_t person, const struct job_want *want, size_t n)
{
	struct seen sn;
	seen_init(&sn);
	ASSERT_OK(store_employment_of_person(s, person, on_employment, &sn));
	assert_int_equal(sn.calls, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(sn.job[i].person_id, person);
		assert_int_equal(sn.job[i].employer_id, want[i].employer);
		assert_int_equal(sn.job[i].start_period, want[i].start);
		assert_int_equal(sn.job[i].end_period, want[i].end);
	}
	seen_free(&sn);
}

/* Inside a transaction a backend may hold writes back and send them
 * together (store.h): the employment changes of a transaction, read inside
 * it and after, are those of the calls one by one, whatever runs of them
 * went to the server together. */
static void test_employment_changes_in_a_transaction(void **state)
{
	struct fixture *f = *state;
	const int64_t p = 1, q = 2, a = 10, b = 20, c = 30;

	ASSERT_OK(add_person(f->s, p, 1, 0));
	ASSERT_OK(add_person(f->s, q, 2, 0));
	ASSERT_OK(add_employer(f->s, a, 1));
	ASSERT_OK(add_employer(f->s, b, 2));
	ASSERT_OK(add_employer(f->s, c, 3));
	ASSERT_OK(store_employment_open(f->s, q, b, 202312)); /* from before: closed inside */

	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(store_employment_open(f->s, p, b, 202403));
	ASSERT_OK(store_employment_open(f->s, p, a, 202401));
	ASSERT_OK(store_employment_open(f->s, p, c, 202401));
	ASSERT_OK(store_employment_open(f->s, q, a, 202402));
	ASSERT_OK(store_employment_close(f->s, q, b, 202401));
	ASSERT_OK(store_employment_close(f->s, p, a, 202402)); /* closes the open just before */
	ASSERT_OK(store_employment_open(f->s, p, a, 202405)); /* rehired: a new period */
	ASSERT_OK(store_employment_close(f->s, q, a, 202403)); /* another pair, same run */
	ASSERT_OK(store_employment_close(f->s, p, a, 202407));
	ASSERT_OK(store_employment_close(f->s, p, a, 202408)); /* nothing open: changes nothing */
	ASSERT_OK(store_employment_open(f->s, p, a, 202409)); /* stays open */

	struct job_want want_p[] = { { 10, 202401, 202402 }, { 30, 202401, 0 }, { 20, 202403, 0 },
				     { 10, 202405, 202407 }, { 10, 202409, 0 }, { 0, 0, 0 } };
	const struct job_want want_q[] = { { 20, 202312, 202401 }, { 10, 202402, 202403 } };
	expect_jobs(f->s, p, want_p, 5); /* read inside the transaction */
	expect_jobs(f->s, q, want_q, 2);
	ASSERT_OK(store_employment_close(f->s, p, c, 202410)); /* written after a read */
	ASSERT_OK(store_employment_open(f->s, p, c, 202411));
	ASSERT_OK(store_commit(f->s));

	reopen(f);
	want_p[1].end = 202410;
	want_p[5] = (struct job_want){ 30, 202411, 0 };
	expect_jobs(f->s, p, want_p, 6);
	expect_jobs(f->s, q, want_q, 2);
}

/* A write refused inside a transaction is refused when it is made or, held
 * back, at the latest by the next read of its table, savepoint or commit:
 * never kept, and never taking the transaction's other work with it unless
 * the transaction fails as a whole. */
static void test_refused_writes_in_a_transaction(void **state)
{
	struct fixture *f = *state;
	struct seen sn;
	const int64_t e = 1, p = 1;

	ASSERT_OK(add_employer(f->s, e, 1));
	ASSERT_OK(add_person(f->s, p, 1, 0));
	ASSERT_OK(add_declaration(f->s, 1, e, 202401, 0));

	/* a duplicate declaration, then commit: the transaction keeps nothing,
	 * or (refused at once) everything but the duplicate */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_declaration(f->s, 2, e, 202402, 0));
	enum amana_err err = add_declaration(f->s, 3, e, 202401, 0);
	if (err) {
		ASSERT_ERR(err, AMANA_ERR_EXISTS);
		ASSERT_OK(store_commit(f->s));
		expect_counts(f->s, 1, 1, 0, 2, 0);
	} else {
		ASSERT_FAILS(store_commit(f->s));
		expect_counts(f->s, 1, 1, 0, 1, 0);
	}
	seen_init(&sn);
	ASSERT_OK(store_declarations_of(f->s, e, 202401, on_declaration, &sn));
	assert_int_equal(sn.calls, 1);
	assert_int_equal(sn.decl[0].id, 1);
	seen_free(&sn);

	/* an employment of a missing person, an employment of a missing
	 * employer: the same */
	for (int k = 0; k < 2; k++) {
		struct store_counts before, after;
		ASSERT_OK(store_counts(f->s, &before));
		ASSERT_OK(store_begin(f->s));
		ASSERT_OK(store_employment_open(f->s, p, e, 202403));
		err = k ? store_employment_open(f->s, p, 99, 202403) : store_employment_open(f->s, 99, e, 202403);
		if (err) {
			ASSERT_OK(store_commit(f->s));
			ASSERT_OK(store_counts(f->s, &after));
			assert_int_equal(after.employments, before.employments + 1);
		} else {
			ASSERT_FAILS(store_commit(f->s));
			ASSERT_OK(store_counts(f->s, &after));
			assert_int_equal(after.employments, before.employments);
		}
	}

	/* a declaration of a missing employer: the same */
	{
		struct store_counts before, after;
		ASSERT_OK(store_counts(f->s, &before));
		ASSERT_OK(store_begin(f->s));
		ASSERT_OK(add_declaration(f->s, 20, e, 202420, 0));
		err = add_declaration(f->s, 21, 99, 202420, 0);
		if (err) {
			ASSERT_OK(store_commit(f->s));
			ASSERT_OK(store_counts(f->s, &after));
			assert_int_equal(after.declarations, before.declarations + 1);
		} else {
			ASSERT_FAILS(store_commit(f->s));
			ASSERT_OK(store_counts(f->s, &after));
			assert_int_equal(after.declarations, before.declarations);
		}
	}

	/* a duplicate chunk: the same, whether the lines go to the server at
	 * once, at commit, or before the transaction's next command */
	struct store_counts before, after;
	ASSERT_OK(store_counts(f->s, &before));
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_declaration(f->s, 6, e, 202406, 0));
	ASSERT_OK(add_chunk(f->s, 6, 0, 4));
	err = add_chunk(f->s, 6, 0, 5);
	if (err) {
		ASSERT_ERR(err, AMANA_ERR_EXISTS);
		ASSERT_OK(store_commit(f->s));
		ASSERT_OK(store_counts(f->s, &after));
		assert_int_equal(after.declarations, before.declarations + 1);
		assert_int_equal(after.lines, before.lines + 4);
	} else {
		ASSERT_FAILS(store_commit(f->s));
		ASSERT_OK(store_counts(f->s, &after));
		assert_int_equal(after.declarations, before.declarations);
		assert_int_equal(after.lines, before.lines);
	}

	/* refused after a savepoint: rolling back to it saves the rest */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_declaration(f->s, 4, e, 202404, 0));
	ASSERT_OK(add_chunk(f->s, 4, 0, 3));
	ASSERT_OK(store_savepoint(f->s));
	ASSERT_OK(add_chunk(f->s, 4, 1, 2));
	err = add_declaration(f->s, 5, e, 202401, 0);
	if (!err) { /* held back: the read sends it, and is refused */
		seen_init(&sn);
		ASSERT_FAILS(store_declarations_of(f->s, e, 202404, on_declaration, &sn));
		seen_free(&sn);
	}
	ASSERT_OK(store_rollback_savepoint(f->s));
	ASSERT_OK(add_chunk(f->s, 4, 2, 1));
	ASSERT_OK(store_commit(f->s));
	seen_init(&sn);
	ASSERT_OK(store_declarations_of(f->s, e, 202404, on_declaration, &sn));
	assert_int_equal(sn.calls, 1);
	assert_int_equal(sn.decl[0].id, 4);
	seen_free(&sn);
	ASSERT_OK(chunks_of(f->s, 4, on_chunk, &sn));
	assert_int_equal(sn.calls, 2);
	expect_chunk(&sn.chunk[0], 4, 0, 3);
	expect_chunk(&sn.chunk[1], 4, 2, 1);
	seen_free(&sn);
}

/* ---- declarations ---- */

static void test_declarations(void **state)
{
	struct fixture *f = *state;
	const int64_t e = 1, g = 2;
	struct seen sn;

	ASSERT_OK(add_employer(f->s, e, 1));
	ASSERT_OK(add_employer(f->s, g, 2));
	/* ids in another order than seq: the order is by seq */
	ASSERT_OK(add_declaration(f->s, 5, e, 202401, 2));
	ASSERT_OK(add_declaration(f->s, 30, e, 202401, 0));
	ASSERT_OK(add_declaration(f->s, 12, e, 202401, 1));
	ASSERT_OK(add_declaration(f->s, 40, e, 202402, 0));
	ASSERT_OK(add_declaration(f->s, 50, g, 202401, 0));

	seen_init(&sn);
	ASSERT_OK(store_declarations_of(f->s, e, 202401, on_declaration, &sn));
	assert_int_equal(sn.calls, 3);
	expect_declaration(&sn.decl[0], 30, e, 202401, 0);
	expect_declaration(&sn.decl[1], 12, e, 202401, 1);
	expect_declaration(&sn.decl[2], 5, e, 202401, 2);
	expect_rosters(&sn, false); /* declarations_recent_many alone reads them */
	seen_free(&sn);

	/* written in a transaction (a backend may hold them back), with and
	 * without a roster: read back the same inside it */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_declaration(f->s, 81, g, 202403, 0));
	ASSERT_OK(add_declaration(f->s, 82, g, 202403, 1));
	ASSERT_OK(store_declarations_recent_many(f->s, &g, 1, 202403, on_declaration, &sn));
	assert_int_equal(sn.calls, 3); /* 202403's, newest first, and 202401's */
	expect_declaration(&sn.decl[0], 82, g, 202403, 1);
	expect_declaration(&sn.decl[1], 81, g, 202403, 0);
	expect_declaration(&sn.decl[2], 50, g, 202401, 0);
	expect_rosters(&sn, true);
	seen_free(&sn);
	ASSERT_OK(store_rollback(f->s));

	/* (employer, period, seq) is unique, and so is the id */
	ASSERT_ERR(add_declaration(f->s, 60, e, 202401, 1), AMANA_ERR_EXISTS);
	ASSERT_ERR(add_declaration(f->s, 30, g, 202405, 0), AMANA_ERR_EXISTS);
	/* a declaration needs a real employer */
	ASSERT_FAILS(add_declaration(f->s, 70, 99, 202401, 0));
	expect_counts(f->s, 2, 0, 0, 5, 0);

	ASSERT_OK(store_declarations_of(f->s, e, 202401, on_declaration, &sn));
	assert_int_equal(sn.calls, 3);
	expect_declaration(&sn.decl[1], 12, e, 202401, 1);
	seen_free(&sn);

	ASSERT_OK(store_declarations_of(f->s, e, 202402, on_declaration, &sn));
	assert_int_equal(sn.calls, 1);
	expect_declaration(&sn.decl[0], 40, e, 202402, 0);
	seen_free(&sn);
	ASSERT_OK(store_declarations_of(f->s, g, 202401, on_declaration, &sn));
	assert_int_equal(sn.calls, 1);
	expect_declaration(&sn.decl[0], 50, g, 202401, 0);
	seen_free(&sn);
	ASSERT_OK(store_declarations_of(f->s, e, 202403, on_declaration, &sn));
	assert_int_equal(sn.calls, 0);
	ASSERT_OK(store_declarations_of(f->s, 99, 202401, on_declaration, &sn));
	assert_int_equal(sn.calls, 0);
	seen_free(&sn);
}

static void test_last_period_before(void **state)
{
	struct fixture *f = *state;
	const int64_t e = 1, g = 2, h = 3;
	uint32_t got;

	ASSERT_OK(add_employer(f->s, e, 1));
	ASSERT_OK(add_employer(f->s, g, 2));
	ASSERT_OK(add_employer(f->s, h, 3));

	got = 4242;
	ASSERT_ERR(store_last_period_before(f->s, e, 202401, &got), AMANA_ERR_NOTFOUND);

	ASSERT_OK(add_declaration(f->s, 1, e, 202311, 0));
	ASSERT_OK(add_declaration(f->s, 2, e, 202403, 0));
	ASSERT_OK(add_declaration(f->s, 3, e, 202401, 0));
	ASSERT_OK(add_declaration(f->s, 4, e, 202401, 1));
	ASSERT_OK(add_declaration(f->s, 5, g, 202402, 0));

	ASSERT_OK(store_last_period_before(f->s, e, 202404, &got));
	assert_int_equal(got, 202403);
	/* strictly before */
	ASSERT_OK(store_last_period_before(f->s, e, 202403, &got));
	assert_int_equal(got, 202401);
	ASSERT_OK(store_last_period_before(f->s, e, 202402, &got));
	assert_int_equal(got, 202401);
	ASSERT_OK(store_last_period_before(f->s, e, 202401, &got));
	assert_int_equal(got, 202311);
	ASSERT_ERR(store_last_period_before(f->s, e, 202311, &got), AMANA_ERR_NOTFOUND);
	/* only that employer's declarations count */
	ASSERT_OK(store_last_period_before(f->s, g, 202501, &got));
	assert_int_equal(got, 202402);
	ASSERT_ERR(store_last_period_before(f->s, h, 202501, &got), AMANA_ERR_NOTFOUND);
	ASSERT_ERR(store_last_period_before(f->s, 99, 202501, &got), AMANA_ERR_NOTFOUND);
}

/* How many declarations an employer filed and its latest period, main and
 * complementary alike, that employer's only. */
static void test_declaration_stats(void **state)
{
	struct fixture *f = *state;
	const int64_t e = 1, g = 2, h = 3;
	int64_t count = 77;
	uint32_t last = 4242;

	ASSERT_OK(add_employer(f->s, e, 1));
	ASSERT_OK(add_employer(f->s, g, 2));
	ASSERT_OK(add_employer(f->s, h, 3));
	ASSERT_OK(add_declaration(f->s, 1, e, 202311, 0));
	ASSERT_OK(add_declaration(f->s, 2, e, 202403, 0));
	ASSERT_OK(add_declaration(f->s, 3, e, 202401, 0));
	ASSERT_OK(add_declaration(f->s, 4, e, 202401, 1));
	ASSERT_OK(add_declaration(f->s, 5, g, 202402, 0));

	ASSERT_OK(store_declaration_stats(f->s, e, &count, &last));
	assert_int_equal(count, 4);
	assert_int_equal(last, 202403);
	ASSERT_OK(store_declaration_stats(f->s, g, &count, &last));
	assert_int_equal(count, 1);
	assert_int_equal(last, 202402);
	ASSERT_OK(store_declaration_stats(f->s, h, &count, &last));
	assert_int_equal(count, 0);
	assert_int_equal(last, 0);
}

/* Employers 1, 2 and 3; employer 1 declares in 202311, 202401 (twice)
 * and 202403 (three times, added out of order), employer 2 in 202402 and
 * 202404, employer 3 nothing. */
static void add_recent_history(struct store *s)
{
	ASSERT_OK(add_employer(s, 1, 1));
	ASSERT_OK(add_employer(s, 2, 2));
	ASSERT_OK(add_employer(s, 3, 3));
	ASSERT_OK(add_declaration(s, 1, 1, 202311, 0));
	ASSERT_OK(add_declaration(s, 2, 1, 202401, 1));
	ASSERT_OK(add_declaration(s, 3, 1, 202401, 0));
	ASSERT_OK(add_declaration(s, 7, 1, 202403, 2));
	ASSERT_OK(add_declaration(s, 8, 1, 202403, 0));
	ASSERT_OK(add_declaration(s, 6, 1, 202403, 1));
	ASSERT_OK(add_declaration(s, 9, 2, 202402, 0));
	ASSERT_OK(add_declaration(s, 10, 2, 202404, 0));
}

/* What an import needs of an employer's history in one call: the
 * declarations of the period and of the latest period before it, newest
 * first (period descending, then seq descending). */
static void test_declarations_recent(void **state)
{
	struct fixture *f = *state;
	const int64_t e = 1, g = 2, h = 3;
	static const struct {
		uint32_t period;
		int64_t n;
		struct {
			int64_t id;
			unsigned seq;
		} d[5];
	} cases[] = {
		{ 202403, 5, { { 7, 2 }, { 6, 1 }, { 8, 0 }, { 2, 1 }, { 3, 0 } } },
		{ 202402, 2, { { 2, 1 }, { 3, 0 } } }, /* none that period: only the one before */
		{ 202401, 3, { { 2, 1 }, { 3, 0 }, { 1, 0 } } },
		{ 202311, 1, { { 1, 0 } } }, /* nothing before */
		{ 202310, 0, { { 0, 0 } } },
		{ 202501, 3, { { 7, 2 }, { 6, 1 }, { 8, 0 } } },
	};
	struct seen sn;

	add_recent_history(f->s);

	seen_init(&sn);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_err_at(store_declarations_recent(f->s, e, cases[i].period, on_declaration, &sn), AMANA_OK,
			      "declarations_recent", __FILE__, __LINE__);
		if (sn.calls != (size_t)cases[i].n)
			fail_msg("declarations_recent(%u): %zu rows, expected %lld", cases[i].period, sn.calls,
				 (long long)cases[i].n);
		for (int64_t k = 0; k < cases[i].n; k++) {
			const struct store_declaration *d = &sn.decl[k];
			int64_t id = cases[i].d[k].id;
			uint32_t period = id == 1 ? 202311 : id <= 3 ? 202401 : 202403;
			expect_declaration(d, id, e, period, cases[i].d[k].seq);
		}
		expect_rosters(&sn, false); /* declarations_recent_many alone reads them */
		seen_free(&sn);
	}

	/* only that employer's */
	ASSERT_OK(store_declarations_recent(f->s, g, 202403, on_declaration, &sn));
	assert_int_equal(sn.calls, 1);
	expect_declaration(&sn.decl[0], 9, g, 202402, 0);
	seen_free(&sn);
	ASSERT_OK(store_declarations_recent(f->s, h, 202403, on_declaration, &sn));
	assert_int_equal(sn.calls, 0);
	ASSERT_OK(store_declarations_recent(f->s, 99, 202403, on_declaration, &sn));
	assert_int_equal(sn.calls, 0);
	ASSERT_ERR(store_declarations_recent(f->s, e, 0, on_declaration, &sn), AMANA_ERR_USAGE);
	assert_int_equal(sn.calls, 0);
	seen_free(&sn);
}

/* Rows of one key in a many-key answer: together, and equal in order to
 * what the one-key call gives. */
static void expect_group_decls(const struct seen *many, const struct seen *one, int64_t employer)
{
	size_t first = many->calls, n = 0;
	for (size_t i = 0; i < many->calls; i++) {
		if (many->decl[i].employer_id != employer)
			continue;
		if (n == 0)
			first = i;
		else if (i != first + n)
			fail_msg("employer %lld: its rows are not together", (long long)employer);
		n++;
	}
	if (n != one->calls)
		fail_msg("employer %lld: %zu rows, the one-employer call gives %zu", (long long)employer, n,
			 one->calls);
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(many->decl[first + k].id, one->decl[k].id);
		expect_declaration(&many->decl[first + k], one->decl[k].id, employer, one->decl[k].period,
				   one->decl[k].seq);
	}
	expect_rosters(many, true);
}

/* Persons by many registration blind indexes: each key's rows together and
 * as store_person_by_reg gives them, shared keys included; unknown keys
 * answer nothing. */
/* Persons written inside a transaction (a backend may hold them back) are
 * found by every lookup in it, go with a rollback to a savepoint taken
 * before them, and a duplicate is refused, at the latest by commit, which
 * then keeps nothing. */
static void test_persons_in_a_transaction(void **state)
{
	struct fixture *f = *state;
	struct seen sn;
	seen_init(&sn);

	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_person(f->s, 1, 100, 500));
	ASSERT_OK(add_person(f->s, 2, 200, 0));
	ASSERT_OK(store_person_by_cin(f->s, 500, on_person, &sn));
	assert_int_equal(sn.calls, 1);
	expect_person(&sn.per[0], 1, 100, 500);
	seen_free(&sn);
	ASSERT_OK(store_person_by_reg(f->s, 200, on_person, &sn));
	assert_int_equal(sn.calls, 1);
	expect_person(&sn.per[0], 2, 200, 0);
	seen_free(&sn);

	/* rolled back before anything went to the server */
	ASSERT_OK(store_savepoint(f->s));
	ASSERT_OK(add_person(f->s, 3, 300, 600));
	ASSERT_OK(store_rollback_savepoint(f->s));
	/* rolled back after a read sent it */
	ASSERT_OK(add_person(f->s, 4, 400, 0));
	ASSERT_OK(store_savepoint(f->s));
	ASSERT_OK(add_person(f->s, 5, 500 + 1, 700));
	ASSERT_OK(store_person_get(f->s, 5, on_person, &sn));
	assert_int_equal(sn.calls, 1);
	seen_free(&sn);
	ASSERT_OK(store_rollback_savepoint(f->s));
	const int64_t regs[] = { 100, 200, 300, 400, 501 };
	ASSERT_OK(store_persons_by_reg_many(f->s, regs, ARRAY_SIZE(regs), on_person, &sn));
	assert_int_equal(sn.calls, 3); /* 1, 2 and 4 */
	seen_free(&sn);
	ASSERT_OK(store_commit(f->s));
	expect_counts(f->s, 0, 3, 0, 0, 0);
	for (int64_t id = 1; id <= 5; id++) {
		ASSERT_OK(store_person_get(f->s, id, on_person, &sn));
		assert_int_equal(sn.calls, id == 3 || id == 5 ? 0 : 1);
		seen_free(&sn);
	}

	/* a duplicate id */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_person(f->s, 6, 600, 0));
	enum amana_err err = add_person(f->s, 1, 101, 0);
	if (err) {
		ASSERT_ERR(err, AMANA_ERR_EXISTS);
		ASSERT_OK(store_commit(f->s));
		expect_counts(f->s, 0, 4, 0, 0, 0);
	} else {
		ASSERT_FAILS(store_commit(f->s));
		expect_counts(f->s, 0, 3, 0, 0, 0);
	}
}

/* ---- full scans ---- */

static void test_persons_each_in_id_order(void **state)
{
	struct fixture *f = *state;
	static const struct {
		int64_t id, reg, cin;
	} rows[] = { { 9, 90, 0 }, { 3, 30, 33 }, { 6, 90, -66 }, { 4, 95, 0 } }; /* not in reg order */
	struct seen sn;

	seen_init(&sn);
	ASSERT_OK(store_persons_each(f->s, on_person, &sn));
	assert_int_equal(sn.calls, 0);

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		ASSERT_OK(add_person(f->s, rows[i].id, rows[i].reg, rows[i].cin));
	/* a person written in the transaction is seen by it (on PostgreSQL it
	 * waits in the COPY buffer until the scan), and gone after rollback */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_person(f->s, 5, 50, 55));
	ASSERT_OK(store_persons_each(f->s, on_person, &sn));
	assert_int_equal(sn.calls, 5);
	expect_person(&sn.per[2], 5, 50, 55);
	seen_free(&sn);
	ASSERT_OK(store_rollback(f->s));

	ASSERT_OK(store_persons_each(f->s, on_person, &sn));
	assert_int_equal(sn.calls, 4);
	expect_person(&sn.per[0], 3, 30, 33);
	expect_person(&sn.per[1], 4, 95, 0);
	expect_person(&sn.per[2], 6, 90, -66);
	expect_person(&sn.per[3], 9, 90, 0);
	seen_free(&sn);
}

static void test_declarations_each_in_id_order(void **state)
{
	struct fixture *f = *state;
	static const struct {
		int64_t id, employer;
		uint32_t period;
		unsigned seq;
	} rows[] = { { 30, 1, 202401, 0 },
		     { 10, 2, 202402, 1 },
		     { 20, 1, 202401, 1 },
		     { 5, 2, 202312, 0 },
		     { 7, 1, 202402, 0 } };
	static const size_t order[] = { 3, 4, 1, 2, 0 }; /* ids 5, 7, 10, 20, 30 */
	struct seen sn;

	seen_init(&sn);
	ASSERT_OK(store_declarations_each(f->s, on_declaration, &sn));
	assert_int_equal(sn.calls, 0);

	ASSERT_OK(add_employer(f->s, 1, 1));
	ASSERT_OK(add_employer(f->s, 2, 2));
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		ASSERT_OK(add_declaration(f->s, rows[i].id, rows[i].employer, rows[i].period, rows[i].seq));
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_declaration(f->s, 8, 2, 202401, 0));
	ASSERT_OK(store_declarations_each(f->s, on_declaration, &sn));
	assert_int_equal(sn.calls, ARRAY_SIZE(rows) + 1);
	expect_declaration(&sn.decl[2], 8, 2, 202401, 0);
	seen_free(&sn);
	ASSERT_OK(store_rollback(f->s));

	ASSERT_OK(store_declarations_each(f->s, on_declaration, &sn));
	assert_int_equal(sn.calls, ARRAY_SIZE(rows));
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		size_t k = order[i];
		expect_declaration(&sn.decl[i], rows[k].id, rows[k].employer, rows[k].period, rows[k].seq);
	}
	expect_rosters(&sn, false); /* a scan does not read them */
	seen_free(&sn);

	/* the periods alone, in no given order: each declaration once */
	ASSERT_OK(store_declaration_periods_each(f->s, on_period, &sn));
	assert_int_equal(sn.calls, ARRAY_SIZE(rows));
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
		size_t hits = 0;
		for (size_t i = 0; i < sn.calls; i++)
			hits += sn.decl[i].id == rows[k].id && sn.decl[i].employer_id == rows[k].employer &&
				sn.decl[i].period == rows[k].period;
		if (hits != 1)
			fail_msg("declaration %lld seen %zu times with its employer and period", (long long)rows[k].id,
				 hits);
	}
	seen_free(&sn);
}

/* A chunk as expect_chunk wants it, but with no payload at all. */
static void expect_chunk_bare(const struct store_chunk *got, int64_t declaration, int64_t chunk, int64_t line_count)
{
	uint8_t want[PERSONS_CAP];

	assert_int_equal(got->employer_id, employer_of(declaration));
	assert_int_equal(got->declaration_id, declaration);
	assert_int_equal(got->chunk, chunk);
	assert_int_equal(got->line_count, line_count);
	size_t n = persons_for(want, sizeof(want), declaration, chunk, line_count);
	assert_blob(got->persons, want, n);
	assert_null(got->payload_sealed.data);
	assert_int_equal(got->payload_sealed.len, 0);
}

static void test_chunks_each_in_order(void **state)
{
	struct fixture *f = *state;
	const int64_t d1 = 100, d2 = 50, none = 70, in_tx = 60;
	static const struct {
		int64_t declaration, chunk, lines;
	} want[] = {
		{ 50, 0, 7 },
		{ 50, 1, STORE_CHUNK_LINES },
		{ 50, STORE_CHUNK_MAX - 1, 1 },
		{ 100, 0, STORE_CHUNK_LINES },
		{ 100, 1, STORE_CHUNK_LINES },
		{ 100, 2, 3 },
		{ 100, 10, 1 },
	};
	static const size_t written[] = { 5, 0, 3, 2, 6, 1, 4 }; /* rows of want, in the order written */
	struct seen sn;

	seen_init(&sn);
	for (int payload = 0; payload < 2; payload++) {
		ASSERT_OK(store_chunks_each(f->s, payload, on_chunk, &sn));
		assert_int_equal(sn.calls, 0);
	}

	ASSERT_OK(add_employer(f->s, 1, 1));
	ASSERT_OK(add_employer(f->s, 2, 2));
	ASSERT_OK(add_declaration(f->s, d1, 1, 202401, 0));
	ASSERT_OK(add_declaration(f->s, d2, 2, 202401, 0));
	ASSERT_OK(add_declaration(f->s, none, 1, 202402, 0));
	for (size_t i = 0; i < ARRAY_SIZE(written); i++) {
		size_t k = written[i];
		ASSERT_OK(add_chunk(f->s, want[k].declaration, want[k].chunk, want[k].lines));
	}

	for (int payload = 0; payload < 2; payload++) {
		ASSERT_OK(store_chunks_each(f->s, payload, on_chunk, &sn));
		assert_int_equal(sn.calls, ARRAY_SIZE(want));
		for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
			if (payload)
				expect_chunk(&sn.chunk[i], want[i].declaration, want[i].chunk, want[i].lines);
			else
				expect_chunk_bare(&sn.chunk[i], want[i].declaration, want[i].chunk, want[i].lines);
		}
		seen_free(&sn);
	}

	/* a part of the declarations' ids: [from, to) */
	static const struct {
		int64_t from, to;
		size_t first, n; /* rows of want */
	} parts[] = {
		{ 50, 100, 0, 3 },       { 51, 101, 3, 4 },        { 100, INT64_MAX, 3, 4 },
		{ INT64_MIN, 51, 0, 3 }, { 101, INT64_MAX, 0, 0 }, { 100, 100, 0, 0 },
		{ 100, 50, 0, 0 },       { 1, 50, 0, 0 },          { INT64_MIN, INT64_MAX, 0, ARRAY_SIZE(want) },
	};
	for (size_t k = 0; k < ARRAY_SIZE(parts); k++)
		for (int payload = 0; payload < 2; payload++) {
			ASSERT_OK(store_chunks_each_between(f->s, payload, parts[k].from, parts[k].to, on_chunk, &sn));
			assert_int_equal(sn.calls, parts[k].n);
			for (size_t i = 0; i < parts[k].n; i++) {
				size_t w = parts[k].first + i;
				if (payload)
					expect_chunk(&sn.chunk[i], want[w].declaration, want[w].chunk, want[w].lines);
				else
					expect_chunk_bare(&sn.chunk[i], want[w].declaration, want[w].chunk,
							  want[w].lines);
			}
			seen_free(&sn);
		}

	/* lines written in the transaction are seen by it, in their place */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_declaration(f->s, in_tx, 2, 202402, 0));
	ASSERT_OK(add_chunk(f->s, in_tx, 1, 2));
	ASSERT_OK(add_chunk(f->s, in_tx, 0, STORE_CHUNK_LINES));
	ASSERT_OK(store_chunks_each(f->s, false, on_chunk, &sn));
	assert_int_equal(sn.calls, ARRAY_SIZE(want) + 2);
	expect_chunk_bare(&sn.chunk[2], d2, STORE_CHUNK_MAX - 1, 1);
	expect_chunk_bare(&sn.chunk[3], in_tx, 0, STORE_CHUNK_LINES);
	expect_chunk_bare(&sn.chunk[4], in_tx, 1, 2);
	expect_chunk_bare(&sn.chunk[5], d1, 0, STORE_CHUNK_LINES);
	seen_free(&sn);
	ASSERT_OK(store_rollback(f->s));
	ASSERT_OK(store_chunks_each(f->s, true, on_chunk, &sn));
	assert_int_equal(sn.calls, ARRAY_SIZE(want));
	seen_free(&sn);
}

/* Scans longer than a page of a server backend (10,000 rows; 2,000 chunks
 * with payloads), whose ends fall inside a declaration's chunks: every row
 * once, in order, with its fields. The callbacks check each row as it comes
 * and stop at the first wrong one. */
#define SCAN_PERSONS 10050
#define SCAN_DECLS 3
#define SCAN_CHUNKS 3401 /* per declaration: 10,203 in all */

struct scan {
	int64_t rows;
	int64_t wrong_at; /* 1-based row found wrong, 0: none */
	bool payload;
};

static bool blob_is(struct store_blob b, const uint8_t *want, size_t len)
{
	return b.len == len && (len == 0 || (b.data && !memcmp(b.data, want, len)));
}

static bool blob_sealed_is(struct store_blob b, enum tag tag, int64_t id)
{
	uint8_t want[SEALED_CAP];
	return blob_is(b, want, sealed_for(want, sizeof(want), tag, id));
}

static enum amana_err scan_row(struct scan *sc, bool right)
{
	sc->rows++;
	if (right)
		return AMANA_OK;
	sc->wrong_at = sc->rows;
	return AMANA_ERR_CORRUPT;
}

static int64_t scan_cin(int64_t id)
{
	return id % 3 ? id * 5 : 0;
}

static enum amana_err on_scan_person(void *ctx, const struct store_person *p)
{
	struct scan *sc = ctx;
	int64_t id = sc->rows + 1, cin = scan_cin(id);
	bool right = p->id == id && p->reg_bidx == id * 3 && blob_sealed_is(p->reg_sealed, T_REG, id) &&
		     p->cin_bidx == cin && (cin ? blob_sealed_is(p->cin_sealed, T_CIN, id) : p->cin_sealed.len == 0) &&
		     p->name_bidx == name_bidx_of(id) && blob_sealed_is(p->identity_sealed, T_IDENTITY, id) &&
		     p->created_at == created_at_of(id);
	return scan_row(sc, right);
}

static uint32_t scan_period(int64_t id)
{
	return 200001 + (uint32_t)(id / 10);
}

static enum amana_err on_scan_declaration(void *ctx, const struct store_declaration *d)
{
	struct scan *sc = ctx;
	int64_t id = sc->rows + 1;
	uint8_t digest[32];
	digest_for(digest, id);
	bool right = d->id == id && d->employer_id == 1 + id % 2 && d->period == scan_period(id) &&
		     d->seq == (unsigned)(id % 10) && d->imported_at == created_at_of(id) + 17 &&
		     d->line_count == id * 3 + id % 10 && !memcmp(d->digest, digest, sizeof(digest)) &&
		     blob_sealed_is(d->totals_sealed, T_TOTALS, id);
	return scan_row(sc, right);
}

static enum amana_err on_scan_chunk(void *ctx, const struct store_chunk *c)
{
	struct scan *sc = ctx;
	int64_t declaration = 1 + sc->rows / SCAN_CHUNKS, chunk = sc->rows % SCAN_CHUNKS, lines = 1 + chunk % 3;
	uint8_t persons[PERSONS_CAP];
	size_t n = persons_for(persons, sizeof(persons), declaration, chunk, lines);
	bool right = c->employer_id == employer_of(declaration) && c->declaration_id == declaration &&
		     c->chunk == chunk && c->line_count == lines && blob_is(c->persons, persons, n) &&
		     (sc->payload ? blob_sealed_is(c->payload_sealed, T_PAYLOAD, chunk_seed(declaration, chunk))
				  : !c->payload_sealed.data && c->payload_sealed.len == 0);
	return scan_row(sc, right);
}

static void test_scans_across_pages(void **state)
{
	struct fixture *f = *state;

	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_employer(f->s, 1, 1));
	ASSERT_OK(add_employer(f->s, 2, 2));
	/* written backwards: the order read is the keys', not the writes' */
	for (int64_t id = SCAN_PERSONS; id >= 1; id--) {
		ASSERT_OK(add_person(f->s, id, id * 3, scan_cin(id)));
		ASSERT_OK(add_declaration(f->s, id, 1 + id % 2, scan_period(id), (unsigned)(id % 10)));
	}
	for (int64_t chunk = SCAN_CHUNKS - 1; chunk >= 0; chunk--)
		for (int64_t d = SCAN_DECLS; d >= 1; d--)
			ASSERT_OK(add_chunk(f->s, d, chunk, 1 + chunk % 3));
	ASSERT_OK(store_commit(f->s));

	struct scan sc = { 0 };
	ASSERT_OK(store_persons_each(f->s, on_scan_person, &sc));
	assert_int_equal(sc.wrong_at, 0);
	assert_int_equal(sc.rows, SCAN_PERSONS);

	sc = (struct scan){ 0 };
	ASSERT_OK(store_declarations_each(f->s, on_scan_declaration, &sc));
	assert_int_equal(sc.wrong_at, 0);
	assert_int_equal(sc.rows, SCAN_PERSONS);

	for (int payload = 0; payload < 2; payload++) {
		sc = (struct scan){ .payload = payload };
		ASSERT_OK(store_chunks_each(f->s, payload, on_scan_chunk, &sc));
		assert_int_equal(sc.wrong_at, 0);
		assert_int_equal(sc.rows, SCAN_DECLS * SCAN_CHUNKS);
	}
}

/* ---- accounts and sessions ---- */

static enum amana_err add_account(struct store *s, int64_t id, int64_t login_bidx, int64_t role)
{
	uint8_t login[SEALED_CAP], secrets[SEALED_CAP];
	struct store_account a = { .id = id, .login_bidx = login_bidx, .role = role, .created_at = created_at_of(id) };
	a.login_sealed = (struct store_blob){ login, sealed_for(login, sizeof(login), T_REG, id) };
	a.secrets_sealed = (struct store_blob){ secrets, sealed_for(secrets, sizeof(secrets), T_IDENTITY, id) };
	return store_account_insert(s, &a);
}

struct seen_accounts {
	size_t calls;
	int64_t id[8], bidx[8], role[8], created[8];
	struct store_account_state st[8];
	bool sealed_ok[8];
};

static enum amana_err on_account(void *ctx, const struct store_account *a, const struct store_account_state *st)
{
	struct seen_accounts *sa = ctx;
	if (sa->calls == 8)
		return AMANA_ERR_LIMIT;
	uint8_t login[SEALED_CAP], secrets[SEALED_CAP];
	size_t nl = sealed_for(login, sizeof(login), T_REG, a->id);
	size_t ns = sealed_for(secrets, sizeof(secrets), T_IDENTITY, a->id);
	sa->id[sa->calls] = a->id;
	sa->bidx[sa->calls] = a->login_bidx;
	sa->role[sa->calls] = a->role;
	sa->created[sa->calls] = a->created_at;
	sa->st[sa->calls] = *st;
	sa->sealed_ok[sa->calls] = a->login_sealed.len == nl && !memcmp(a->login_sealed.data, login, nl) &&
				   a->secrets_sealed.len == ns && !memcmp(a->secrets_sealed.data, secrets, ns);
	sa->calls++;
	return AMANA_OK;
}

/* Accounts: found by login index (every candidate) and by id, with their
 * sealed values byte for byte and a zero state; the state replaced whole;
 * ids unique. */
static void test_accounts(void **state)
{
	struct fixture *f = *state;
	ASSERT_OK(add_account(f->s, 1, 700, 2));
	ASSERT_OK(add_account(f->s, 2, 800, 1));
	ASSERT_OK(add_account(f->s, 3, 700, 5)); /* the same index: a collision the caller resolves */
	ASSERT_ERR(add_account(f->s, 1, 900, 2), AMANA_ERR_EXISTS);

	struct seen_accounts sa = { 0 };
	ASSERT_OK(store_accounts_by_login(f->s, 700, on_account, &sa));
	assert_int_equal(sa.calls, 2);
	assert_int_equal(sa.id[0], 1);
	assert_int_equal(sa.id[1], 3);
	assert_int_equal(sa.role[1], 5);
	assert_true(sa.sealed_ok[0] && sa.sealed_ok[1]);
	assert_int_equal(sa.created[0], created_at_of(1));
	assert_int_equal(sa.st[0].failures + sa.st[0].locked_until + sa.st[0].suspended + sa.st[0].totp_step, 0);
	memset(&sa, 0, sizeof(sa));
	ASSERT_OK(store_accounts_by_login(f->s, 701, on_account, &sa));
	assert_int_equal(sa.calls, 0);

	const struct store_account_state st = {
		.failures = 4, .locked_until = 1790000900, .suspended = 1, .totp_step = 59666667
	};
	ASSERT_OK(store_account_set_state(f->s, 2, &st));
	ASSERT_ERR(store_account_set_state(f->s, 9, &st), AMANA_ERR_NOTFOUND);
	ASSERT_OK(store_account_get(f->s, 2, on_account, &sa));
	assert_int_equal(sa.calls, 1);
	assert_int_equal(sa.bidx[0], 800);
	assert_int_equal(sa.role[0], 1);
	assert_true(sa.sealed_ok[0]);
	assert_memory_equal(&sa.st[0], &st, sizeof(st));
	memset(&sa, 0, sizeof(sa));
	ASSERT_OK(store_account_get(f->s, 1, on_account, &sa)); /* the others untouched */
	assert_int_equal(sa.st[0].failures, 0);
	memset(&sa, 0, sizeof(sa));
	ASSERT_OK(store_account_get(f->s, 9, on_account, &sa));
	assert_int_equal(sa.calls, 0);

	/* in a transaction rolled back: nothing stays */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_account(f->s, 4, 1000, 0));
	const struct store_account_state zero = { 0, 0, 0, 0 };
	ASSERT_OK(store_account_set_state(f->s, 2, &zero));
	ASSERT_OK(store_rollback(f->s));
	ASSERT_OK(store_account_get(f->s, 4, on_account, &sa));
	assert_int_equal(sa.calls, 0);
	ASSERT_OK(store_account_get(f->s, 2, on_account, &sa));
	assert_memory_equal(&sa.st[0], &st, sizeof(st));
}

/* Sessions: by the token's hash only; revoked for good; a hash used once;
 * an account that does not exist refused. */
static void test_sessions(void **state)
{
	struct fixture *f = *state;
	ASSERT_OK(add_account(f->s, 1, 700, 2));
	struct store_session a = { .account_id = 1, .expires_at = 1790001800 }, b = a, got;
	memset(a.token_hash, 0xa5, sizeof(a.token_hash));
	memset(b.token_hash, 0xa5, sizeof(b.token_hash));
	b.token_hash[31] = 0x5a; /* differs in the last byte only */
	ASSERT_OK(store_session_insert(f->s, &a));
	ASSERT_OK(store_session_insert(f->s, &b));
	ASSERT_ERR(store_session_insert(f->s, &a), AMANA_ERR_EXISTS);
	struct store_session orphan = a;
	orphan.token_hash[0] = 1;
	orphan.account_id = 99;
	ASSERT_FAILS(store_session_insert(f->s, &orphan));

	ASSERT_OK(store_session_get(f->s, a.token_hash, &got));
	assert_memory_equal(got.token_hash, a.token_hash, sizeof(a.token_hash));
	assert_int_equal(got.account_id, 1);
	assert_int_equal(got.expires_at, 1790001800);
	assert_false(got.revoked);
	ASSERT_OK(store_session_revoke(f->s, a.token_hash));
	ASSERT_OK(store_session_get(f->s, a.token_hash, &got));
	assert_true(got.revoked);
	ASSERT_OK(store_session_get(f->s, b.token_hash, &got)); /* its neighbour stands */
	assert_false(got.revoked);
	uint8_t unknown[STORE_TOKEN_HASH_BYTES];
	memset(unknown, 0x11, sizeof(unknown));
	ASSERT_ERR(store_session_get(f->s, unknown, &got), AMANA_ERR_NOTFOUND);
	assert_int_equal(got.account_id, 0);
	ASSERT_ERR(store_session_revoke(f->s, unknown), AMANA_ERR_NOTFOUND);
}

static void test_persons_by_reg_many(void **state)
{
	struct fixture *f = *state;
	struct seen many, one;
	/* ids 1..6; 2, 4 and 5 share the blind index 200 (a collision) */
	const int64_t bidx_of[] = { 0, 100, 200, 300, 200, 200, 600 };
	for (int64_t id = 1; id <= 6; id++)
		ASSERT_OK(add_person(f->s, id, bidx_of[id], 0));
	const int64_t keys[] = { 600, 999, 200, 100 };
	seen_init(&many);
	ASSERT_OK(store_persons_by_reg_many(f->s, keys, ARRAY_SIZE(keys), on_person, &many));
	assert_int_equal(many.calls, 5);
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
		seen_init(&one);
		ASSERT_OK(store_person_by_reg(f->s, keys[k], on_person, &one));
		size_t first = many.calls;
		for (size_t i = 0; i < many.calls; i++)
			if (many.per[i].reg_bidx == keys[k]) {
				first = i;
				break;
			}
		for (size_t j = 0; j < one.calls; j++) {
			assert_true(first + j < many.calls);
			expect_person(&many.per[first + j], one.per[j].id, keys[k], 0);
		}
		seen_free(&one);
	}
	seen_free(&many);

	ASSERT_OK(store_persons_by_reg_many(f->s, keys, 0, on_person, &many));
	assert_int_equal(many.calls, 0);
	const int64_t twice[] = { 100, 200, 100 };
	ASSERT_ERR(store_persons_by_reg_many(f->s, twice, 3, on_person, &many), AMANA_ERR_USAGE);
	int64_t *lots = calloc(STORE_MANY_MAX + 1, sizeof(*lots));
	assert_non_null(lots);
	for (size_t k = 0; k <= STORE_MANY_MAX; k++)
		lots[k] = (int64_t)k * 100;
	ASSERT_ERR(store_persons_by_reg_many(f->s, lots, STORE_MANY_MAX + 1, on_person, &many), AMANA_ERR_USAGE);
	ASSERT_OK(store_persons_by_reg_many(f->s, lots, STORE_MANY_MAX, on_person, &many));
	assert_int_equal(many.calls, 6);
	seen_free(&many);
	free(lots);
}

static void test_declarations_recent_many(void **state)
{
	struct fixture *f = *state;
	const int64_t e = 1, g = 2, h = 3, k4 = 4;
	const int64_t keys[] = { h, 99, k4, e, 5, g };
	const uint32_t periods[] = { 202403, 202402, 202401, 202311, 202310, 202501, 202404, 202312 };
	struct seen many, one;

	add_recent_history(f->s);
	ASSERT_OK(add_employer(f->s, k4, 4));
	/* k4 declares every month (from December to March, two a month
	 * some months): its month before always answers */
	ASSERT_OK(add_declaration(f->s, 20, k4, 202312, 0));
	ASSERT_OK(add_declaration(f->s, 21, k4, 202401, 0));
	ASSERT_OK(add_declaration(f->s, 22, k4, 202401, 1));
	ASSERT_OK(add_declaration(f->s, 23, k4, 202402, 0));
	ASSERT_OK(add_declaration(f->s, 25, k4, 202403, 1));
	ASSERT_OK(add_declaration(f->s, 24, k4, 202403, 0));
	/* The store does not read periods as months: between December and
	 * January lie 88 integers, and a row at one of them (202399) is the
	 * latest before 202401, the one at 202312 not. */
	ASSERT_OK(add_employer(f->s, 5, 5));
	ASSERT_OK(add_declaration(f->s, 30, 5, 202312, 0));
	ASSERT_OK(add_declaration(f->s, 31, 5, 202399, 0));
	ASSERT_OK(add_declaration(f->s, 11, h, 202311, 0));

	seen_init(&many);
	seen_init(&one);
	for (size_t i = 0; i < ARRAY_SIZE(periods); i++) {
		ASSERT_OK(
		    store_declarations_recent_many(f->s, keys, ARRAY_SIZE(keys), periods[i], on_declaration, &many));
		size_t total = 0;
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			ASSERT_OK(store_declarations_recent(f->s, keys[k], periods[i], on_declaration, &one));
			expect_group_decls(&many, &one, keys[k]);
			total += one.calls;
			seen_free(&one);
		}
		assert_int_equal(many.calls, total);
		seen_free(&many);
	}
	/* nothing asked, nothing answered; bad lists are refused */
	ASSERT_OK(store_declarations_recent_many(f->s, keys, 0, 202403, on_declaration, &many));
	assert_int_equal(many.calls, 0);
	const int64_t twice[] = { e, g, e };
	ASSERT_ERR(store_declarations_recent_many(f->s, twice, 3, 202403, on_declaration, &many), AMANA_ERR_USAGE);
	ASSERT_ERR(store_declarations_recent_many(f->s, keys, 2, 0, on_declaration, &many), AMANA_ERR_USAGE);
	int64_t *lots = calloc(STORE_MANY_MAX + 1, sizeof(*lots));
	assert_non_null(lots);
	for (size_t k = 0; k <= STORE_MANY_MAX; k++)
		lots[k] = (int64_t)k + 1;
	ASSERT_OK(store_declarations_recent_many(f->s, lots, STORE_MANY_MAX, 202403, on_declaration, &many));
	assert_int_equal(many.calls, 5 + 1 + 1 + 3 + 1); /* e: 7, 6, 8, 2, 3; g: 9; h: 11; k4: 25, 24, 23; 5: 31 */
	seen_free(&many);
	ASSERT_ERR(store_declarations_recent_many(f->s, lots, STORE_MANY_MAX + 1, 202403, on_declaration, &many),
		   AMANA_ERR_USAGE);
	assert_int_equal(many.calls, 0);
	free(lots);
}

/* ---- chunks of lines ---- */

static void test_chunks(void **state)
{
	struct fixture *f = *state;
	const int64_t e = 1, g = 2;
	const int64_t d1 = 100, d2 = 50, none = 70;
	struct seen sn;

	ASSERT_OK(add_employer(f->s, e, 1));
	ASSERT_OK(add_employer(f->s, g, 2));
	ASSERT_OK(add_declaration(f->s, d1, e, 202401, 0));
	ASSERT_OK(add_declaration(f->s, d2, g, 202401, 0));
	ASSERT_OK(add_declaration(f->s, none, e, 202402, 0));

	/* chunks in another order than their numbers; full ones, a short last
	 * one, and the chunks of another declaration in between */
	ASSERT_OK(add_chunk(f->s, d1, 2, 3));
	ASSERT_OK(add_chunk(f->s, d2, 0, 7));
	ASSERT_OK(add_chunk(f->s, d1, 0, STORE_CHUNK_LINES));
	ASSERT_OK(add_chunk(f->s, d1, 10, 1));
	ASSERT_OK(add_chunk(f->s, d1, 1, STORE_CHUNK_LINES));
	expect_counts(f->s, 2, 0, 0, 3, 2 * STORE_CHUNK_LINES + 3 + 1 + 7);

	seen_init(&sn);
	ASSERT_OK(chunks_of(f->s, d1, on_chunk, &sn));
	assert_int_equal(sn.calls, 4);
	expect_chunk(&sn.chunk[0], d1, 0, STORE_CHUNK_LINES);
	expect_chunk(&sn.chunk[1], d1, 1, STORE_CHUNK_LINES);
	expect_chunk(&sn.chunk[2], d1, 2, 3);
	expect_chunk(&sn.chunk[3], d1, 10, 1);
	seen_free(&sn);

	ASSERT_OK(chunks_of(f->s, d2, on_chunk, &sn));
	assert_int_equal(sn.calls, 1);
	expect_chunk(&sn.chunk[0], d2, 0, 7);
	seen_free(&sn);
	ASSERT_OK(chunks_of(f->s, none, on_chunk, &sn));
	assert_int_equal(sn.calls, 0);
	ASSERT_OK(chunks_of(f->s, 999, on_chunk, &sn));
	assert_int_equal(sn.calls, 0);
	seen_free(&sn);

	/* chunk numbers and declaration ids have a range */
	ASSERT_ERR(add_chunk(f->s, d2, -1, 1), AMANA_ERR_USAGE);
	ASSERT_ERR(add_chunk(f->s, d2, STORE_CHUNK_MAX, 1), AMANA_ERR_USAGE);
	ASSERT_ERR(add_chunk(f->s, 0, 0, 1), AMANA_ERR_USAGE);
	ASSERT_ERR(add_chunk(f->s, STORE_DECLARATION_ID_MAX + 1, 0, 1), AMANA_ERR_USAGE);
	ASSERT_OK(add_chunk(f->s, d2, STORE_CHUNK_MAX - 1, 1));
	ASSERT_OK(chunks_of(f->s, d2, on_chunk, &sn));
	assert_int_equal(sn.calls, 2);
	expect_chunk(&sn.chunk[0], d2, 0, 7);
	expect_chunk(&sn.chunk[1], d2, STORE_CHUNK_MAX - 1, 1);
	seen_free(&sn);
	ASSERT_OK(chunks_of(f->s, d2 + 1, on_chunk, &sn)); /* the next id's range is its own */
	assert_int_equal(sn.calls, 0);
	ASSERT_OK(chunks_of(f->s, -5, on_chunk, &sn));
	assert_int_equal(sn.calls, 0);

	/* (declaration, chunk) is unique: the first one is kept */
	ASSERT_ERR(add_chunk(f->s, d1, 1, 5), AMANA_ERR_EXISTS);
	expect_counts(f->s, 2, 0, 0, 3, 2 * STORE_CHUNK_LINES + 3 + 1 + 7 + 1); /* + chunk 65535 of d2 */
	ASSERT_OK(chunks_of(f->s, d1, on_chunk, &sn));
	assert_int_equal(sn.calls, 4);
	expect_chunk(&sn.chunk[1], d1, 1, STORE_CHUNK_LINES);
	seen_free(&sn);

	/* empty blobs stay empty blobs */
	struct store_chunk c = {
		.employer_id = employer_of(none), .declaration_id = none, .chunk = 0, .line_count = 0
	};
	ASSERT_OK(store_chunk_insert(f->s, &c));
	ASSERT_OK(chunks_of(f->s, none, on_chunk, &sn));
	assert_int_equal(sn.calls, 1);
	assert_int_equal(sn.chunk[0].line_count, 0);
	assert_int_equal(sn.chunk[0].persons.len, 0);
	assert_int_equal(sn.chunk[0].payload_sealed.len, 0);
	seen_free(&sn);
}

static void test_chunks_of_many(void **state)
{
	struct fixture *f = *state;
	const int64_t keys[] = { 9, 1000, 3, 8 };
	const struct store_decl_key dkeys[] = { { 1, 9 }, { 1, 1000 }, { 1, 3 }, { 1, 8 } };
	struct seen many, one;

	ASSERT_OK(add_employer(f->s, 1, 1));
	ASSERT_OK(add_declaration(f->s, 3, 1, 202401, 0));
	ASSERT_OK(add_declaration(f->s, 8, 1, 202402, 0));
	ASSERT_OK(add_declaration(f->s, 9, 1, 202403, 0));
	ASSERT_OK(add_chunk(f->s, 9, 2, 4));
	ASSERT_OK(add_chunk(f->s, 3, 0, STORE_CHUNK_LINES));
	ASSERT_OK(add_chunk(f->s, 9, 0, STORE_CHUNK_LINES));
	ASSERT_OK(add_chunk(f->s, 3, 1, 6));
	ASSERT_OK(add_chunk(f->s, 8, 0, 5));
	ASSERT_OK(add_chunk(f->s, 9, 1, STORE_CHUNK_LINES));

	seen_init(&many);
	seen_init(&one);
	/* inside a transaction too: lines written in it are read back (on
	 * PostgreSQL they wait in the COPY buffer until then) */
	for (int in_tx = 0; in_tx < 2; in_tx++) {
		if (in_tx) {
			ASSERT_OK(store_begin(f->s));
			ASSERT_OK(add_chunk(f->s, 8, 1, 2));
		}
		ASSERT_OK(store_chunks_of_many(f->s, dkeys, ARRAY_SIZE(dkeys), on_chunk, &many));
		size_t total = 0;
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			ASSERT_OK(chunks_of(f->s, keys[k], on_chunk, &one));
			size_t first = many.calls, n = 0;
			for (size_t i = 0; i < many.calls; i++) {
				if (many.chunk[i].declaration_id != keys[k])
					continue;
				if (n == 0)
					first = i;
				else
					assert_int_equal(i, first + n); /* together */
				n++;
			}
			assert_int_equal(n, one.calls);
			for (size_t j = 0; j < n; j++)
				expect_chunk(&many.chunk[first + j], keys[k], one.chunk[j].chunk,
					     one.chunk[j].line_count);
			total += one.calls;
			seen_free(&one);
		}
		assert_int_equal(many.calls, total);
		assert_int_equal(total, in_tx ? 7 : 6);
		seen_free(&many);
	}
	ASSERT_OK(store_rollback(f->s));
	const struct store_decl_key twice[] = { { 1, 3 }, { 2, 3 } };
	ASSERT_ERR(store_chunks_of_many(f->s, twice, 2, on_chunk, &many), AMANA_ERR_USAGE);
	ASSERT_OK(store_chunks_of_many(f->s, dkeys, 0, on_chunk, &many));
	assert_int_equal(many.calls, 0);
	/* asked with another employer, a declaration has no lines */
	ASSERT_OK(add_employer(f->s, 2, 2));
	const struct store_decl_key wrong[] = { { 2, 3 }, { 2, 9 } };
	ASSERT_OK(store_chunks_of_many(f->s, wrong, 2, on_chunk, &many));
	assert_int_equal(many.calls, 0);
	ASSERT_OK(store_chunks_of(f->s, 2, 3, on_chunk, &many));
	assert_int_equal(many.calls, 0);
	/* nor can it be given lines under another employer */
	struct store_chunk c = { .employer_id = 2, .declaration_id = 3, .chunk = 7, .line_count = 0 };
	ASSERT_FAILS(store_chunk_insert(f->s, &c));
	ASSERT_OK(store_begin(f->s));
	c.chunk = 8;
	enum amana_err err = store_chunk_insert(f->s, &c);
	if (!err)
		err = store_commit(f->s);
	else
		(void)store_rollback(f->s);
	ASSERT_FAILS(err);
	ASSERT_OK(chunks_of(f->s, 3, on_chunk, &many));
	assert_int_equal(many.calls, 2);
	seen_free(&many);
}

/* Chunks are written before their declaration (its totals are known only
 * at the end of the file): the reference is checked at commit. */
static void test_chunks_before_their_declaration(void **state)
{
	struct fixture *f = *state;
	struct seen sn;

	ASSERT_OK(add_employer(f->s, 1, 1));
	ASSERT_OK(add_person(f->s, 1, 1, 0));
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_chunk(f->s, 7, 0, STORE_CHUNK_LINES));
	ASSERT_OK(add_chunk(f->s, 7, 1, 2));
	ASSERT_OK(add_declaration(f->s, 7, 1, 202401, 0));
	ASSERT_OK(store_commit(f->s));
	expect_counts(f->s, 1, 1, 0, 1, STORE_CHUNK_LINES + 2);
	seen_init(&sn);
	ASSERT_OK(chunks_of(f->s, 7, on_chunk, &sn));
	assert_int_equal(sn.calls, 2);
	expect_chunk(&sn.chunk[0], 7, 0, STORE_CHUNK_LINES);
	expect_chunk(&sn.chunk[1], 7, 1, 2);
	seen_free(&sn);
}

/* A registry written before lines were keyed by one integer (schema 1, a
 * WITHOUT ROWID table) is migrated when opened: every chunk is kept, in
 * order, and the new table keeps the same rules. */
static void test_sqlite_lines_migrated_from_schema_1(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	sqlite3 *db;
	struct seen sn;

	if (!is_sqlite())
		skip();
	ASSERT_OK(add_employer(f->s, 1, 1));
	ASSERT_OK(add_declaration(f->s, 7, 1, 202401, 0));
	ASSERT_OK(add_declaration(f->s, 8, 1, 202402, 0));
	ASSERT_OK(add_chunk(f->s, 7, 1, 2));
	ASSERT_OK(add_chunk(f->s, 8, 0, 5));
	ASSERT_OK(add_chunk(f->s, 7, 0, STORE_CHUNK_LINES));
	store_close(f->s);
	f->s = NULL;
	/* back to schema 1, with the same rows */
	assert_int_equal(backend->data_file(f->dir, path, sizeof(path)), 0);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db,
			 "BEGIN;"
			 "CREATE TABLE v1(declaration_id INTEGER NOT NULL"
			 "  REFERENCES declarations(id) DEFERRABLE INITIALLY DEFERRED,"
			 "  chunk INTEGER NOT NULL, line_count INTEGER NOT NULL, persons BLOB NOT NULL,"
			 "  payload_sealed BLOB NOT NULL, PRIMARY KEY(declaration_id, chunk)) WITHOUT ROWID;"
			 "INSERT INTO v1 SELECT declaration_id, chunk, line_count, persons, payload_sealed"
			 "  FROM declaration_lines;"
			 "DROP TABLE declaration_lines;"
			 "ALTER TABLE v1 RENAME TO declaration_lines;"
			 "DROP INDEX declarations_employer_id;"
			 "DROP TABLE marks; DROP TABLE alerts; DROP TABLE sessions; DROP TABLE accounts;"
			 "ALTER TABLE declarations DROP COLUMN roster_sealed;"
			 "PRAGMA user_version = 1;"
			 "COMMIT;",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);

	reopen(f);
	expect_counts(f->s, 1, 0, 0, 2, STORE_CHUNK_LINES + 2 + 5);
	seen_init(&sn);
	ASSERT_OK(chunks_of(f->s, 7, on_chunk, &sn));
	assert_int_equal(sn.calls, 2);
	expect_chunk(&sn.chunk[0], 7, 0, STORE_CHUNK_LINES);
	expect_chunk(&sn.chunk[1], 7, 1, 2);
	seen_free(&sn);
	ASSERT_OK(chunks_of(f->s, 8, on_chunk, &sn));
	assert_int_equal(sn.calls, 1);
	expect_chunk(&sn.chunk[0], 8, 0, 5);
	seen_free(&sn);
	ASSERT_ERR(add_chunk(f->s, 7, 1, 3), AMANA_ERR_EXISTS);
	ASSERT_OK(add_chunk(f->s, 7, 2, 3));
	/* declarations from before rosters have none; a new one keeps its own */
	ASSERT_OK(add_declaration(f->s, 9, 1, 202403, 0));
	const int64_t one = 1;
	for (uint32_t period = 202401; period <= 202403; period++) {
		ASSERT_OK(store_declarations_recent_many(f->s, &one, 1, period, on_declaration, &sn));
		assert_int_equal(sn.calls, period == 202401 ? 1 : 2);
		assert_int_equal(sn.decl[0].period, period);
		assert_int_equal(sn.decl[0].roster_sealed.len > 0, period == 202403);
		seen_free(&sn);
	}
	store_close(f->s);
	f->s = NULL;

	/* schema 6 on disk (3 gave the index the foreign key needs, and each
	 * line's employer that of its declaration; 4 the accounts; 5 marks
	 * and alerts; 6 the rosters) */
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT (SELECT user_version FROM pragma_user_version),"
					    " (SELECT count(*) FROM sqlite_schema WHERE type = 'index'"
					    "  AND tbl_name = 'declaration_lines'),"
					    " (SELECT count(*) FROM declaration_lines l JOIN declarations d"
					    "  ON d.id = l.declaration_id AND d.employer_id = l.employer_id),"
					    " (SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
					    "  AND name IN ('accounts', 'sessions'))",
					    -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 6);
	assert_int_equal(sqlite3_column_int(q, 1), 1);
	assert_int_equal(sqlite3_column_int(q, 2), 4);
	assert_int_equal(sqlite3_column_int(q, 3), 2);
	sqlite3_finalize(q);
	sqlite3_close(db);
	reopen(f);
}

static void test_dangling_line_fails_commit(void **state)
{
	struct fixture *f = *state;
	struct store *other = NULL;

	ASSERT_OK(add_employer(f->s, 1, 1));
	ASSERT_OK(add_person(f->s, 1, 1, 0));

	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_employer(f->s, 2, 2));
	ASSERT_OK(add_person(f->s, 2, 2, 0));
	ASSERT_OK(add_declaration(f->s, 5, 1, 202401, 0));
	ASSERT_OK(add_chunk(f->s, 5, 0, 4));
	ASSERT_OK(add_chunk(f->s, 999, 0, 2)); /* declaration 999 never comes */
	ASSERT_FAILS(store_commit(f->s));

	/* nothing of the transaction reached the database */
	ASSERT_OK(backend->reopen_store(f->dir, 0, &other));
	expect_counts(other, 1, 1, 0, 0, 0);
	store_close(other);

	/* the caller rolls back, as on every error path; then the store is as
	 * before the transaction, and usable */
	ASSERT_OK(store_rollback(f->s));
	expect_counts(f->s, 1, 1, 0, 0, 0);
	assert_false(employer_exists(f->s, 2));
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_declaration(f->s, 5, 1, 202401, 0));
	ASSERT_OK(add_chunk(f->s, 5, 0, 4));
	ASSERT_OK(store_commit(f->s));
	reopen(f);
	expect_counts(f->s, 1, 1, 0, 1, 4);

	/* outside a transaction, the statement is the transaction */
	ASSERT_FAILS(add_chunk(f->s, 998, 0, 1));
	expect_counts(f->s, 1, 1, 0, 1, 4);
	/* a declaration of another employer is not the line's */
	ASSERT_OK(add_employer(f->s, 2, 2));
	struct store_chunk other_employer = { .employer_id = 2, .declaration_id = 5, .chunk = 1, .line_count = 1 };
	ASSERT_FAILS(store_chunk_insert(f->s, &other_employer));
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(store_chunk_insert(f->s, &other_employer));
	ASSERT_FAILS(store_commit(f->s));
	ASSERT_OK(store_rollback(f->s));
	expect_counts(f->s, 2, 1, 0, 1, 4);
	/* the same with the declaration written in the transaction */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_declaration(f->s, 7, 1, 202403, 0));
	other_employer.declaration_id = 7;
	ASSERT_OK(store_chunk_insert(f->s, &other_employer));
	ASSERT_FAILS(store_commit(f->s));
	ASSERT_OK(store_rollback(f->s));
	expect_counts(f->s, 2, 1, 0, 1, 4);

	/* a line for a declaration written in the transaction, then undone
	 * with the savepoint it was written in */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_chunk(f->s, 6, 0, 2));
	ASSERT_OK(store_savepoint(f->s));
	ASSERT_OK(add_declaration(f->s, 6, 1, 202402, 0));
	ASSERT_OK(store_rollback_savepoint(f->s));
	ASSERT_FAILS(store_commit(f->s));
	ASSERT_OK(store_rollback(f->s));
	expect_counts(f->s, 2, 1, 0, 1, 4);

	/* a line without its declaration, undone with its savepoint: nothing
	 * of it is left to refuse */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(store_savepoint(f->s));
	ASSERT_OK(add_chunk(f->s, 997, 0, 1));
	ASSERT_OK(store_rollback_savepoint(f->s));
	ASSERT_OK(store_commit(f->s));
	expect_counts(f->s, 2, 1, 0, 1, 4);

	/* lines added later to a declaration stored before, and the lines and
	 * declaration of a transaction that keeps both */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_chunk(f->s, 5, 1, 3));
	ASSERT_OK(add_chunk(f->s, 6, 0, 2));
	ASSERT_OK(store_savepoint(f->s));
	ASSERT_OK(add_declaration(f->s, 6, 1, 202402, 0));
	ASSERT_OK(store_release(f->s));
	ASSERT_OK(store_commit(f->s));
	expect_counts(f->s, 2, 1, 0, 2, 4 + 3 + 2);
}

/* ---- transactions and savepoints ---- */

static void test_commit_and_rollback(void **state)
{
	struct fixture *f = *state;
	struct store *other = NULL;

	/* rollback with nothing open is harmless (error paths call it) */
	ASSERT_OK(store_rollback(f->s));

	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_employer(f->s, 1, 1));
	ASSERT_OK(add_person(f->s, 1, 1, 1));
	ASSERT_OK(store_employment_open(f->s, 1, 1, 202401));
	expect_counts(f->s, 1, 1, 1, 0, 0); /* a transaction sees its own work */
	ASSERT_OK(store_rollback(f->s));
	expect_counts(f->s, 0, 0, 0, 0, 0);
	assert_false(employer_exists(f->s, 1));

	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_employer(f->s, 1, 1));
	ASSERT_OK(add_person(f->s, 1, 1, 1));
	/* not visible to another handle before commit */
	ASSERT_OK(backend->reopen_store(f->dir, 0, &other));
	expect_counts(other, 0, 0, 0, 0, 0);
	ASSERT_OK(store_commit(f->s));
	expect_counts(other, 1, 1, 0, 0, 0);
	store_close(other);
	reopen(f);
	expect_counts(f->s, 1, 1, 0, 0, 0);
}

/* A read that fails inside a transaction (on PostgreSQL it aborts the
 * transaction on the server): the commit then either fails and keeps
 * nothing, or succeeds and keeps everything, never succeeds having kept
 * nothing. */
static void test_commit_after_failed_read(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[16];
	size_t len;

	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_employer(f->s, 1, 1));
	/* not UTF-8: PostgreSQL refuses the text parameter; SQLite finds nothing */
	enum amana_err rerr = store_meta_get(f->s, "bad\xff\xfekey", buf, sizeof(buf), &len);
	assert_int_not_equal(rerr, AMANA_OK);
	enum amana_err cerr = store_commit(f->s);
	if (cerr)
		(void)store_rollback(f->s);
	if (cerr == AMANA_OK)
		assert_true(employer_exists(f->s, 1));
	else
		assert_false(employer_exists(f->s, 1));
	if (!is_sqlite())
		assert_int_not_equal(cerr, AMANA_OK); /* the server did abort it */
	/* the store is usable afterwards */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_employer(f->s, 2, 2));
	ASSERT_OK(store_commit(f->s));
	assert_true(employer_exists(f->s, 2));
}

static void test_savepoint_rollback_keeps_earlier_work(void **state)
{
	struct fixture *f = *state;
	int64_t before, inside, after;
	uint8_t out[8];
	size_t len;

	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_employer(f->s, 1, 1));
	ASSERT_OK(store_meta_put(f->s, "kept", (const uint8_t *)"k", 1));
	ASSERT_OK(store_next_ids(f->s, "ids", 1, &before));

	ASSERT_OK(store_savepoint(f->s));
	ASSERT_OK(add_employer(f->s, 2, 2));
	ASSERT_OK(store_meta_put(f->s, "kept", (const uint8_t *)"changed", 7));
	ASSERT_OK(store_meta_put(f->s, "gone", (const uint8_t *)"g", 1));
	ASSERT_OK(store_next_ids(f->s, "ids", 5, &inside));
	ASSERT_OK(add_chunk(f->s, 999, 0, 1)); /* dangling, but rolled back below */
	ASSERT_OK(store_rollback_savepoint(f->s));

	/* still inside the transaction, which goes on */
	expect_counts(f->s, 1, 0, 0, 0, 0);
	ASSERT_OK(store_next_ids(f->s, "ids", 5, &after));
	assert_int_equal(after, inside);
	ASSERT_OK(add_employer(f->s, 3, 3));
	ASSERT_OK(store_commit(f->s));

	reopen(f);
	expect_counts(f->s, 2, 0, 0, 0, 0);
	assert_true(employer_exists(f->s, 1));
	assert_false(employer_exists(f->s, 2));
	assert_true(employer_exists(f->s, 3));
	ASSERT_OK(store_meta_get(f->s, "kept", out, sizeof(out), &len));
	assert_int_equal(len, 1);
	assert_memory_equal(out, "k", 1);
	ASSERT_ERR(store_meta_get(f->s, "gone", out, sizeof(out), &len), AMANA_ERR_NOTFOUND);
	ASSERT_OK(store_next_ids(f->s, "ids", 1, &after));
	assert_true(after >= inside + 5);
	assert_true(inside > before);
}

static void test_savepoint_release_keeps_work(void **state)
{
	struct fixture *f = *state;

	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_employer(f->s, 1, 1));
	ASSERT_OK(store_savepoint(f->s));
	ASSERT_OK(add_employer(f->s, 2, 2));
	ASSERT_OK(store_release(f->s));
	expect_counts(f->s, 2, 0, 0, 0, 0);
	ASSERT_OK(store_commit(f->s));
	reopen(f);
	assert_true(employer_exists(f->s, 1));
	assert_true(employer_exists(f->s, 2));

	/* released work is still the transaction's: a rollback takes it too */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_employer(f->s, 3, 3));
	ASSERT_OK(store_savepoint(f->s));
	ASSERT_OK(add_employer(f->s, 4, 4));
	ASSERT_OK(store_release(f->s));
	ASSERT_OK(store_rollback(f->s));
	expect_counts(f->s, 2, 0, 0, 0, 0);
	assert_false(employer_exists(f->s, 3));
	assert_false(employer_exists(f->s, 4));
}

/* One savepoint a file, many files a transaction: each file kept or
 * dropped on its own. */
static void test_savepoints_one_after_another(void **state)
{
	struct fixture *f = *state;

	ASSERT_OK(add_employer(f->s, 1, 1));
	ASSERT_OK(add_person(f->s, 1, 1, 0));
	ASSERT_OK(store_begin(f->s));
	for (int64_t i = 1; i <= 6; i++) {
		ASSERT_OK(store_savepoint(f->s));
		ASSERT_OK(add_chunk(f->s, i, 0, STORE_CHUNK_LINES));
		ASSERT_OK(add_chunk(f->s, i, 1, i));
		ASSERT_OK(add_declaration(f->s, i, 1, 202400 + (uint32_t)i, 0));
		if (i % 2)
			ASSERT_OK(store_rollback_savepoint(f->s));
		else
			ASSERT_OK(store_release(f->s));
	}
	ASSERT_OK(store_commit(f->s));
	reopen(f);
	expect_counts(f->s, 1, 1, 0, 3, 3 * STORE_CHUNK_LINES + 2 + 4 + 6);
	for (int64_t i = 1; i <= 6; i++) {
		uint32_t got;
		enum amana_err err = store_last_period_before(f->s, 1, 202400 + (uint32_t)i + 1, &got);
		if (i % 2 == 0) {
			ASSERT_OK(err);
			assert_int_equal(got, 202400 + (uint32_t)i);
		} else if (i == 1) {
			ASSERT_ERR(err, AMANA_ERR_NOTFOUND);
		} else {
			ASSERT_OK(err);
			assert_int_equal(got, 202400 + (uint32_t)i - 1);
		}
	}
}

/* ---- counts ---- */

static void test_counts(void **state)
{
	struct fixture *f = *state;

	expect_counts(f->s, 0, 0, 0, 0, 0);
	/* 1, 2, 3, 4, 5 of each: a swapped field shows */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_employer(f->s, 1, 1));
	ASSERT_OK(add_person(f->s, 1, 1, 0));
	ASSERT_OK(add_person(f->s, 2, 2, 2));
	for (uint32_t i = 0; i < 3; i++)
		ASSERT_OK(store_employment_open(f->s, 1, 1, 202401 + i));
	for (unsigned i = 0; i < 4; i++)
		ASSERT_OK(add_declaration(f->s, 10 + i, 1, 202401, i));
	/* lines count the lines in the chunks, not the chunks */
	ASSERT_OK(add_chunk(f->s, 10, 0, 2));
	ASSERT_OK(add_chunk(f->s, 11, 0, 3));
	ASSERT_OK(store_commit(f->s));
	expect_counts(f->s, 1, 2, 3, 4, 5);
}

/* Lines written before a savepoint stay when the savepoint is rolled back;
 * lines written after it go, whether the backend sent them already or not
 * (PostgreSQL queues them for COPY). Then many lines in one transaction. */
static void test_lines_around_savepoints(void **state)
{
	struct fixture *f = *state;
	struct seen sn;
	ASSERT_OK(add_employer(f->s, 1, 1));
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(add_declaration(f->s, 1, 1, 202401, 0));
	ASSERT_OK(add_chunk(f->s, 1, 0, 3));
	ASSERT_OK(store_savepoint(f->s));
	ASSERT_OK(add_declaration(f->s, 2, 1, 202402, 0));
	ASSERT_OK(add_chunk(f->s, 2, 0, 4));
	seen_init(&sn);
	ASSERT_OK(chunks_of(f->s, 2, on_chunk, &sn)); /* visible inside */
	assert_int_equal(sn.calls, 1);
	seen_free(&sn);
	ASSERT_OK(add_chunk(f->s, 2, 1, 5));
	ASSERT_OK(store_rollback_savepoint(f->s));
	ASSERT_OK(chunks_of(f->s, 1, on_chunk, &sn)); /* what came before the savepoint is still there */
	assert_int_equal(sn.calls, 1);
	expect_chunk(&sn.chunk[0], 1, 0, 3);
	seen_free(&sn);
	ASSERT_OK(add_chunk(f->s, 1, 1, 6));
	ASSERT_OK(store_savepoint(f->s));
	ASSERT_OK(add_declaration(f->s, 3, 1, 202403, 0));
	ASSERT_OK(add_chunk(f->s, 3, 0, 7));
	ASSERT_OK(store_release(f->s));
	ASSERT_OK(store_commit(f->s));
	expect_counts(f->s, 1, 0, 0, 2, 3 + 6 + 7);
	ASSERT_OK(chunks_of(f->s, 1, on_chunk, &sn));
	assert_int_equal(sn.calls, 2);
	expect_chunk(&sn.chunk[1], 1, 1, 6);
	seen_free(&sn);
	ASSERT_OK(chunks_of(f->s, 2, on_chunk, &sn));
	assert_int_equal(sn.calls, 0);
	seen_free(&sn);

	/* 20,000 chunks in one transaction, sent at commit */
	ASSERT_OK(store_begin(f->s));
	for (int64_t d = 10; d < 10 + 100; d++) {
		ASSERT_OK(add_declaration(f->s, d, 1, (uint32_t)(202501 + d), 0));
		for (int64_t c = 0; c < 200; c++)
			ASSERT_OK(add_chunk(f->s, d, c, 1 + c % STORE_CHUNK_LINES));
	}
	ASSERT_OK(store_commit(f->s));
	int64_t lines = 0;
	for (int64_t c = 0; c < 200; c++)
		lines += 1 + c % STORE_CHUNK_LINES;
	expect_counts(f->s, 1, 0, 0, 102, 3 + 6 + 7 + 100 * lines);
}

/* PostgreSQL only: the application role owns nothing and may not delete,
 * rewrite declarations or persons, or change the schema. */
static bool app_may(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	PQclear(r);
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* Schemas 8 to 3 undone: no accounts, no rosters, the references held by
 * foreign keys again. */
#define PG_UNDO_3                                                                                                      \
	"DROP TRIGGER declaration_lines_keys_kept ON declaration_lines;"                                               \
	"DROP TRIGGER declarations_keys_kept ON declarations; DROP TRIGGER declarations_kept ON declarations;"         \
	"DROP FUNCTION amana_keys_kept(); DROP FUNCTION amana_declarations_kept();"                                    \
	"ALTER TABLE declarations ADD CONSTRAINT declarations_employer_id UNIQUE (employer_id, id);"                   \
	"ALTER TABLE declaration_lines ADD CONSTRAINT declaration_lines_declaration_fkey"                              \
	"  FOREIGN KEY (employer_id, declaration_id) REFERENCES declarations(employer_id, id)"                         \
	"  DEFERRABLE INITIALLY DEFERRED;"                                                                             \
	"ALTER TABLE declarations DROP COLUMN roster_sealed;"                                                          \
	"DROP TRIGGER employments_references_kept ON employments; DROP FUNCTION amana_references_kept();"              \
	"DROP TABLE marks; DROP TABLE alerts; DROP TABLE sessions; DROP TABLE accounts;"                               \
	"DROP TRIGGER declarations_refer ON declarations;"                                                             \
	"DROP TRIGGER employments_refer_insert ON employments;"                                                        \
	"DROP TRIGGER employers_kept ON employers;"                                                                    \
	"DROP TRIGGER persons_kept ON persons;"                                                                        \
	"DROP FUNCTION amana_declarations_refer(); DROP FUNCTION amana_employments_refer();"                           \
	"DROP FUNCTION amana_never_removed();"                                                                         \
	"ALTER TABLE employments ADD CONSTRAINT employments_person_id_fkey"                                            \
	"  FOREIGN KEY (person_id) REFERENCES persons(id);"                                                            \
	"ALTER TABLE employments ADD CONSTRAINT employments_employer_id_fkey"                                          \
	"  FOREIGN KEY (employer_id) REFERENCES employers(id);"                                                        \
	"ALTER TABLE declarations ADD CONSTRAINT declarations_employer_id_fkey"                                        \
	"  FOREIGN KEY (employer_id) REFERENCES employers(id);"

/* A PostgreSQL registry of schema 1 (lines without their employer) gets the
 * column, filled from the declarations, and the foreign key that holds it. */
static void test_pg_lines_migrated_from_schema_1(void **state)
{
	(void)state;
	if (is_sqlite())
		skip();
	char owner[512], app[512];
	assert_int_equal(pgtest_new_database("migrate1", owner, app, sizeof(owner)), 0);
	struct store *s;
	ASSERT_OK(store_pg_open(owner, 1, &s));
	ASSERT_OK(add_employer(s, 1, 1));
	ASSERT_OK(add_employer(s, 2, 2));
	ASSERT_OK(add_declaration(s, 7, 1, 202401, 0));
	ASSERT_OK(add_declaration(s, 8, 2, 202401, 0));
	ASSERT_OK(add_chunk(s, 7, 0, STORE_CHUNK_LINES));
	ASSERT_OK(add_chunk(s, 7, 1, 2));
	ASSERT_OK(add_chunk(s, 8, 0, 5));
	store_close(s);

	PGconn *c = PQconnectdb(owner);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(
	    c, "BEGIN;" PG_UNDO_3 "ALTER TABLE declaration_lines DROP CONSTRAINT declaration_lines_declaration_fkey;"
	       "ALTER TABLE declaration_lines DROP CONSTRAINT declaration_lines_pkey;"
	       "ALTER TABLE declaration_lines DROP COLUMN employer_id;"
	       "ALTER TABLE declaration_lines ADD PRIMARY KEY (declaration_id, chunk);"
	       "ALTER TABLE declaration_lines ADD CONSTRAINT declaration_lines_declaration_id_fkey"
	       "  FOREIGN KEY (declaration_id) REFERENCES declarations(id) DEFERRABLE INITIALLY DEFERRED;"
	       "ALTER TABLE declarations DROP CONSTRAINT declarations_employer_id;"
	       "UPDATE schema_version SET version = 1;"
	       "COMMIT");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);

	ASSERT_OK(store_pg_open(owner, 0, &s));
	struct seen sn;
	seen_init(&sn);
	ASSERT_OK(chunks_of(s, 7, on_chunk, &sn));
	assert_int_equal(sn.calls, 2);
	expect_chunk(&sn.chunk[0], 7, 0, STORE_CHUNK_LINES);
	expect_chunk(&sn.chunk[1], 7, 1, 2);
	seen_free(&sn);
	ASSERT_OK(chunks_of(s, 8, on_chunk, &sn));
	assert_int_equal(sn.calls, 1);
	expect_chunk(&sn.chunk[0], 8, 0, 5);
	seen_free(&sn);
	ASSERT_OK(store_chunks_of(s, 1, 8, on_chunk, &sn)); /* 8 is employer 2's */
	assert_int_equal(sn.calls, 0);
	seen_free(&sn);
	store_close(s);

	r = PQexec(c, "SELECT (SELECT version FROM schema_version),"
		      " (SELECT count(*) FROM pg_constraint WHERE conname = 'declaration_lines_declaration_fkey'),"
		      " (SELECT count(*) FROM declaration_lines l JOIN declarations d"
		      "  ON d.id = l.declaration_id AND d.employer_id = l.employer_id)");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(r, 0, 0), "9");
	assert_string_equal(PQgetvalue(r, 0, 1), "0"); /* the store checks at commit (schema 8) */
	assert_string_equal(PQgetvalue(r, 0, 2), "3");
	PQclear(r);
	PQfinish(c);
}

/* A PostgreSQL registry of schema 2 (foreign keys to employers and persons)
 * gets statement checks instead: the same rows refused, nothing lost, and
 * employers and persons never removed, not even by the owner. */
static void test_pg_references_migrated_from_schema_2(void **state)
{
	(void)state;
	if (is_sqlite())
		skip();
	char owner[512], app[512];
	assert_int_equal(pgtest_new_database("migrate2", owner, app, sizeof(owner)), 0);
	struct store *s;
	char role[64];
	ASSERT_OK(store_pg_open(owner, 1, &s));
	ASSERT_OK(store_pg_grant_app(s, app, role, sizeof(role)));
	ASSERT_OK(add_employer(s, 1, 1));
	ASSERT_OK(add_person(s, 1, 1, 0));
	ASSERT_OK(add_declaration(s, 7, 1, 202401, 0));
	ASSERT_OK(store_employment_open(s, 1, 1, 202401));
	store_close(s);

	PGconn *c = PQconnectdb(owner);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(c, "BEGIN;" PG_UNDO_3 "UPDATE schema_version SET version = 2; COMMIT");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);

	ASSERT_OK(store_pg_open(owner, 0, &s));
	expect_counts(s, 1, 1, 1, 1, 0);
	/* a declaration from before rosters has none (schema 7) */
	struct seen sn;
	seen_init(&sn);
	const int64_t one = 1;
	ASSERT_OK(store_declarations_recent_many(s, &one, 1, 202401, on_declaration, &sn));
	assert_int_equal(sn.calls, 1);
	expect_declaration(&sn.decl[0], 7, 1, 202401, 0);
	assert_int_equal(sn.decl[0].roster_sealed.len, 0);
	seen_free(&sn);
	/* a missing employer or person: refused at once outside a transaction,
	 * and inside one at the latest by its commit, which keeps nothing */
	ASSERT_FAILS(add_declaration(s, 8, 2, 202401, 0));
	ASSERT_FAILS(store_employment_open(s, 2, 1, 202402));
	ASSERT_FAILS(store_employment_open(s, 1, 2, 202402));
	ASSERT_OK(store_begin(s));
	ASSERT_OK(add_declaration(s, 9, 1, 202402, 0));
	if (add_declaration(s, 10, 3, 202402, 0) == AMANA_OK)
		ASSERT_FAILS(store_commit(s));
	else
		(void)store_rollback(s);
	expect_counts(s, 1, 1, 1, 1, 0);
	ASSERT_OK(add_declaration(s, 9, 1, 202402, 0));
	ASSERT_OK(store_declarations_recent_many(s, &one, 1, 202403, on_declaration, &sn));
	assert_int_equal(sn.calls, 1);
	expect_declaration(&sn.decl[0], 9, 1, 202402, 0);
	expect_rosters(&sn, true); /* a new one keeps its roster */
	seen_free(&sn);
	/* a person and an employer an employment could be moved to */
	ASSERT_OK(add_person(s, 2, 2, 0));
	ASSERT_OK(add_employer(s, 2, 2));
	/* lines a declaration has, that could be moved */
	ASSERT_OK(add_chunk(s, 9, 0, 3));
	store_close(s);

	r = PQexec(c, "SELECT (SELECT version FROM schema_version),"
		      " (SELECT count(*) FROM pg_constraint WHERE contype = 'f'),"
		      " (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal),"
		      " (SELECT reloptions::text FROM pg_class WHERE oid = 'employments'::regclass)");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(r, 0, 0), "9");
	assert_string_equal(PQgetvalue(r, 0, 1), "1"); /* the sessions' (the lines': schema 8) */
	assert_string_equal(PQgetvalue(r, 0, 2), "8");
	assert_string_equal(PQgetvalue(r, 0, 3), "{fillfactor=90}"); /* room for HOT closes (schema 9) */
	PQclear(r);
	static const char *const removals[] = {
		"DELETE FROM employers WHERE id = 1",
		"DELETE FROM persons",
		"TRUNCATE employers CASCADE",
		"TRUNCATE persons CASCADE",
		/* an employment's person and employer never change (schema 6) */
		"UPDATE employments SET person_id = 2",
		"UPDATE employments SET employer_id = 1, person_id = 1 + person_id",
		"UPDATE employments SET employer_id = 2",
		/* a declaration is never removed nor moved, nor are its lines
		 * (schema 8; the foreign key did before) */
		"DELETE FROM declarations WHERE id = 7",
		"TRUNCATE declarations CASCADE",
		"UPDATE declarations SET employer_id = 2",
		"UPDATE declarations SET id = id + 100",
		"UPDATE declaration_lines SET declaration_id = 7",
		"UPDATE declaration_lines SET employer_id = 2",
	};
	for (size_t i = 0; i < ARRAY_SIZE(removals); i++)
		if (app_may(c, removals[i]))
			fail_msg("the owner may: %s", removals[i]);
	/* its end is what changes; naming the columns unchanged is no change */
	assert_true(app_may(c, "UPDATE employments SET end_period = 202403"));
	assert_true(app_may(c, "UPDATE employments SET person_id = person_id, employer_id = employer_id"));
	assert_true(app_may(c, "UPDATE declarations SET id = id, employer_id = employer_id"));
	PQfinish(c);

	/* the application role granted before schema 4 uses its tables as a
	 * new one would, and no more */
	c = PQconnectdb(app);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	assert_true(app_may(c, "SELECT count(*) FROM accounts, sessions"));
	assert_true(app_may(c, "UPDATE accounts SET failures = 1, locked_until = 2, suspended = 0, totp_step = 3"));
	assert_true(app_may(c, "UPDATE sessions SET revoked = 1"));
	assert_false(app_may(c, "UPDATE accounts SET role = 4"));
	assert_false(app_may(c, "DELETE FROM sessions"));
	assert_true(app_may(c, "SELECT count(*) FROM alerts, marks"));
	assert_true(app_may(c, "UPDATE marks SET kinds = 0"));
	assert_false(app_may(c, "DELETE FROM alerts"));
	PQfinish(c);
}

static void test_pg_application_role_least_privilege(void **state)
{
	(void)state;
	if (is_sqlite())
		skip();
	char owner[512], app[512], role[64];
	assert_int_equal(pgtest_new_database("leastpriv", owner, app, sizeof(owner)), 0);
	struct store *s;
	ASSERT_OK(store_pg_open(owner, 1, &s));
	/* the owner itself is refused as the application role */
	ASSERT_ERR(store_pg_grant_app(s, owner, role, sizeof(role)), AMANA_ERR_USAGE);
	ASSERT_OK(store_pg_grant_app(s, app, role, sizeof(role)));
	assert_string_equal(role, "amana_app");
	ASSERT_OK(add_employer(s, 1, 1));
	ASSERT_OK(add_person(s, 1, 1, 1));
	ASSERT_OK(add_declaration(s, 1, 1, 202401, 0));
	store_close(s);

	/* the registry works as the application role */
	ASSERT_OK(store_pg_open(app, 0, &s));
	ASSERT_OK(store_begin(s));
	ASSERT_OK(add_employer(s, 2, 2));
	ASSERT_OK(add_declaration(s, 2, 2, 202401, 0));
	ASSERT_OK(add_chunk(s, 2, 0, 3));
	ASSERT_OK(store_employment_open(s, 1, 1, 202401));
	ASSERT_OK(store_employment_close(s, 1, 1, 202402));
	ASSERT_OK(store_meta_put(s, "k", (const uint8_t *)"v", 1));
	int64_t first;
	ASSERT_OK(store_next_ids(s, "declarations", 5, &first));
	ASSERT_OK(store_commit(s));
	expect_counts(s, 2, 1, 1, 2, 3);
	store_close(s);

	/* and cannot do anything else */
	PGconn *c = PQconnectdb(app);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	assert_true(app_may(c, "SELECT count(*) FROM declarations"));
	assert_true(app_may(c, "UPDATE accounts SET failures = 0, locked_until = 0, suspended = 0, totp_step = 0"));
	assert_true(app_may(c, "UPDATE sessions SET revoked = 1 WHERE false"));
	assert_true(app_may(c, "UPDATE marks SET kinds = 0 WHERE false"));
	assert_true(app_may(c, "SELECT count(*) FROM alerts, marks"));
	static const char *const refused[] = {
		"DELETE FROM declarations",
		"DELETE FROM declaration_lines",
		"DELETE FROM persons",
		"DELETE FROM employments",
		"UPDATE declarations SET line_count = 0",
		"UPDATE declaration_lines SET line_count = 0",
		"UPDATE persons SET identity_sealed = ''::bytea",
		"UPDATE employers SET aff_bidx = 0",
		"UPDATE keyring SET wrapped = ''::bytea",
		"UPDATE schema_version SET version = 0",
		"TRUNCATE declarations",
		"DELETE FROM employers",
		"DELETE FROM accounts",
		"DELETE FROM sessions",
		"UPDATE accounts SET role = 4",
		"UPDATE accounts SET secrets_sealed = ''::bytea",
		"UPDATE accounts SET login_bidx = 0",
		"UPDATE sessions SET account_id = 0",
		"UPDATE sessions SET expires_at = 0",
		"DELETE FROM alerts",
		"UPDATE alerts SET kinds = 0",
		"DELETE FROM marks",
		"UPDATE marks SET mark = ''::bytea",
		"ALTER TABLE declarations DISABLE TRIGGER declarations_refer",
		"DROP TRIGGER employments_refer_insert ON employments",
		"DROP FUNCTION amana_employments_refer()",
		"DROP TABLE declarations",
		"ALTER TABLE persons ADD COLUMN x int",
		"CREATE TABLE side(a int)",
	};
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
		if (app_may(c, refused[i]))
			fail_msg("the application role may: %s", refused[i]);
	PQfinish(c);
}

/* Marks: set, changed, cleared; a key differing in one byte is another
 * subject's. */
static void test_marks(void **state)
{
	struct fixture *f = *state;
	uint8_t a[STORE_MARK_BYTES], b[STORE_MARK_BYTES];
	memset(a, 0x3c, sizeof(a));
	memcpy(b, a, sizeof(b));
	b[STORE_MARK_BYTES - 1] ^= 1;
	int64_t kinds = 99;
	ASSERT_OK(store_mark_get(f->s, a, &kinds));
	assert_int_equal(kinds, 0);
	ASSERT_OK(store_mark_put(f->s, a, 2));
	ASSERT_OK(store_mark_get(f->s, a, &kinds));
	assert_int_equal(kinds, 2);
	ASSERT_OK(store_mark_get(f->s, b, &kinds));
	assert_int_equal(kinds, 0);
	ASSERT_OK(store_mark_put(f->s, a, 3));
	ASSERT_OK(store_mark_get(f->s, a, &kinds));
	assert_int_equal(kinds, 3);
	/* in a transaction, and rolled back with it */
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(store_mark_put(f->s, b, 1));
	ASSERT_OK(store_mark_get(f->s, b, &kinds));
	assert_int_equal(kinds, 1);
	(void)store_rollback(f->s);
	ASSERT_OK(store_mark_get(f->s, b, &kinds));
	assert_int_equal(kinds, 0);
	ASSERT_OK(store_mark_put(f->s, a, 0));
	ASSERT_OK(store_mark_get(f->s, a, &kinds));
	assert_int_equal(kinds, 0);
}

/* Many keys at once: each one's marks in its place, repeats and unmarked
 * keys included, in and out of a transaction. */
static void test_marks_many(void **state)
{
	struct fixture *f = *state;
	enum { N = 300 };
	uint8_t *keys = malloc((size_t)N * STORE_MARK_BYTES);
	int64_t kinds[N];
	assert_non_null(keys);
	for (int i = 0; i < N; i++) {
		memset(keys + i * STORE_MARK_BYTES, 0x51, STORE_MARK_BYTES);
		keys[i * STORE_MARK_BYTES] = (uint8_t)(i % 100); /* keys 100 apart are the same */
		keys[i * STORE_MARK_BYTES + 31] = (uint8_t)(i % 100 / 7);
	}
	ASSERT_OK(store_marks_get_many(f->s, keys, N, kinds));
	for (int i = 0; i < N; i++)
		assert_int_equal(kinds[i], 0);
	ASSERT_OK(store_mark_put(f->s, keys + 3 * STORE_MARK_BYTES, 2));
	ASSERT_OK(store_mark_put(f->s, keys + 99 * STORE_MARK_BYTES, 1));
	ASSERT_OK(store_begin(f->s));
	ASSERT_OK(store_mark_put(f->s, keys + 50 * STORE_MARK_BYTES, 3));
	ASSERT_OK(store_marks_get_many(f->s, keys, N, kinds));
	for (int i = 0; i < N; i++)
		assert_int_equal(kinds[i], i % 100 == 3 ? 2 : i % 100 == 99 ? 1 : i % 100 == 50 ? 3 : 0);
	(void)store_rollback(f->s);
	ASSERT_OK(store_marks_get_many(f->s, keys + 50 * STORE_MARK_BYTES, 50, kinds));
	for (int i = 0; i < 50; i++)
		assert_int_equal(kinds[i], i == 49 ? 1 : 0);
	ASSERT_OK(store_marks_get_many(f->s, keys, 0, kinds));
	assert_int_equal(store_marks_get_many(f->s, keys, STORE_MANY_MAX + 1, kinds), AMANA_ERR_USAGE);
	free(keys);
}

struct alerts_seen {
	int n;
	int64_t id[8], kinds[8], subject[8];
	char principal[8][256], reason[8][256];
};

static enum amana_err on_alert(void *ctx, const struct store_alert *a)
{
	struct alerts_seen *as = ctx;
	if (as->n >= 8)
		return AMANA_ERR_LIMIT;
	as->id[as->n] = a->id;
	as->kinds[as->n] = a->kinds;
	as->subject[as->n] = a->subject_id;
	snprintf(as->principal[as->n], sizeof(as->principal[0]), "%s", a->principal);
	snprintf(as->reason[as->n], sizeof(as->reason[0]), "%s", a->reason);
	as->n++;
	return AMANA_OK;
}

/* Alerts come back in id order, after the id asked, at most the limit,
 * with every field as written; an id is used once. */
static void test_alerts(void **state)
{
	struct fixture *f = *state;
	for (int64_t i = 1; i <= 5; i++) {
		char who[32];
		snprintf(who, sizeof(who), "account:%lld", (long long)i);
		struct store_alert a = { .id = 10 * i,
					 .at_ms = 1790000000000 + i,
					 .account_id = i,
					 .principal = who,
					 .kinds = i,
					 .subject_kind = 1,
					 .subject_id = 100 + i,
					 .reason = "a bait record was read" };
		ASSERT_OK(store_alert_insert(f->s, &a));
	}
	struct store_alert dup = { .id = 10, .principal = "x", .reason = "y" };
	ASSERT_ERR(store_alert_insert(f->s, &dup), AMANA_ERR_EXISTS);
	char long_text[300];
	memset(long_text, 'a', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = 0;
	struct store_alert too_long = { .id = 99, .principal = long_text, .reason = "y" };
	ASSERT_ERR(store_alert_insert(f->s, &too_long), AMANA_ERR_USAGE);

	struct alerts_seen as = { .n = 0 };
	ASSERT_OK(store_alerts_after(f->s, 10, 3, on_alert, &as));
	assert_int_equal(as.n, 3);
	assert_int_equal(as.id[0], 20);
	assert_int_equal(as.id[2], 40);
	assert_int_equal(as.kinds[1], 3);
	assert_int_equal(as.subject[2], 104);
	assert_string_equal(as.principal[0], "account:2");
	assert_string_equal(as.reason[2], "a bait record was read");
	memset(&as, 0, sizeof(as));
	ASSERT_OK(store_alerts_after(f->s, 50, 10, on_alert, &as));
	assert_int_equal(as.n, 0);
	ASSERT_ERR(store_alerts_after(f->s, 0, 0, on_alert, &as), AMANA_ERR_USAGE);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const char *want = getenv("AMANA_TEST_STORE");
	char group[64];

	if (!want || !*want)
		want = "sqlite";
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		if (strcmp(backends[i].name, want) == 0)
			backend = &backends[i];
	if (!backend) {
		fprintf(stderr, "test_store: AMANA_TEST_STORE=%s: no such store backend (known:", want);
		for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
			fprintf(stderr, " %s", backends[i].name);
		fprintf(stderr, ")\n");
		return 1;
	}
	open_store = backend->open_store;
	snprintf(group, sizeof(group), "store conformance (%s)", backend->name);

	const struct CMUnitTest tests[] = {
		T(test_open_create_refuses_existing),
		T(test_open_missing_notfound),
		T(test_reopen_keeps_data),
		T(test_open_not_a_database),
		T(test_open_newer_schema_refused),
		T(test_open_create_impossible_is_not_exists),
		T(test_file_wal_and_owner_only),
		T(test_file_overwritten_values_leave_no_residue),
		T(test_meta),
		T(test_next_ids_monotonic_disjoint),
		T(test_next_ids_rolled_back),
		T(test_keyring),
		T(test_employer_insert_get),
		T(test_employer_by_bidx_all_in_id_order),
		T(test_employers_each_in_id_order),
		T(test_person_with_and_without_cin),
		T(test_person_lookups_return_all_in_id_order),
		T(test_blobs_byte_exact),
		T(test_callbacks_stop_iteration),
		T(test_employment_open_close),
		T(test_employment_changes_in_a_transaction),
		T(test_refused_writes_in_a_transaction),
		T(test_declarations),
		T(test_last_period_before),
		T(test_declaration_stats),
		T(test_declarations_recent),
		T(test_persons_in_a_transaction),
		T(test_persons_each_in_id_order),
		T(test_declarations_each_in_id_order),
		T(test_chunks_each_in_order),
		T(test_scans_across_pages),
		T(test_accounts),
		T(test_sessions),
		T(test_marks),
		T(test_marks_many),
		T(test_alerts),
		T(test_persons_by_reg_many),
		T(test_declarations_recent_many),
		T(test_chunks),
		T(test_chunks_of_many),
		T(test_chunks_before_their_declaration),
		T(test_sqlite_lines_migrated_from_schema_1),
		T(test_dangling_line_fails_commit),
		T(test_commit_and_rollback),
		T(test_commit_after_failed_read),
		T(test_savepoint_rollback_keeps_earlier_work),
		T(test_savepoint_release_keeps_work),
		T(test_savepoints_one_after_another),
		T(test_counts),
		T(test_lines_around_savepoints),
		T(test_pg_lines_migrated_from_schema_1),
		T(test_pg_references_migrated_from_schema_2),
		T(test_pg_application_role_least_privilege),
	};
	return _cmocka_run_group_tests(group, tests, ARRAY_SIZE(tests), NULL, NULL);
}
