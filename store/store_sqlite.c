/*
 * store_sqlite.c - the embedded SQLite backend of store.h.
 *
 * One database file in the registry directory, in WAL mode with
 * synchronous=FULL (a commit that returned is on disk), secure_delete (freed
 * pages are zeroed, so nothing sealed or not lingers) and foreign keys on.
 * Every statement is prepared once at open and reused.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Migrations: index i brings user_version from i to i + 1. Never edit a
 * released step; append a new one. */
static const char *const migrations[] = {
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE sequences(name TEXT PRIMARY KEY, next INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE keyring(purpose INTEGER NOT NULL, version INTEGER NOT NULL,"
	"  wrapped BLOB NOT NULL, PRIMARY KEY(purpose, version)) WITHOUT ROWID;"
	"CREATE TABLE employers(id INTEGER PRIMARY KEY, aff_bidx INTEGER NOT NULL,"
	"  aff_sealed BLOB NOT NULL, profile_sealed BLOB NOT NULL, created_at INTEGER NOT NULL);"
	"CREATE INDEX employers_aff ON employers(aff_bidx);"
	"CREATE TABLE persons(id INTEGER PRIMARY KEY, reg_bidx INTEGER NOT NULL,"
	"  reg_sealed BLOB NOT NULL, cin_bidx INTEGER, cin_sealed BLOB, name_bidx INTEGER NOT NULL,"
	"  identity_sealed BLOB NOT NULL, created_at INTEGER NOT NULL);"
	"CREATE INDEX persons_reg ON persons(reg_bidx);"
	"CREATE INDEX persons_cin ON persons(cin_bidx) WHERE cin_bidx IS NOT NULL;"
	"CREATE INDEX persons_name ON persons(name_bidx);"
	"CREATE TABLE employments(id INTEGER PRIMARY KEY,"
	"  person_id INTEGER NOT NULL REFERENCES persons(id),"
	"  employer_id INTEGER NOT NULL REFERENCES employers(id),"
	"  start_period INTEGER NOT NULL, end_period INTEGER);"
	"CREATE INDEX employments_person ON employments(person_id, employer_id);"
	"CREATE TABLE declarations(id INTEGER PRIMARY KEY,"
	"  employer_id INTEGER NOT NULL REFERENCES employers(id), period INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL, imported_at INTEGER NOT NULL, line_count INTEGER NOT NULL,"
	"  digest BLOB NOT NULL, totals_sealed BLOB NOT NULL, UNIQUE(employer_id, period, seq));"
	"CREATE TABLE declaration_lines(declaration_id INTEGER NOT NULL"
	"  REFERENCES declarations(id) DEFERRABLE INITIALLY DEFERRED,"
	"  chunk INTEGER NOT NULL, line_count INTEGER NOT NULL, persons BLOB NOT NULL,"
	"  payload_sealed BLOB NOT NULL, PRIMARY KEY(declaration_id, chunk)) WITHOUT ROWID;",
	/* 2: lines in a rowid table keyed by declaration_id * 65536 + chunk.
	 * A WITHOUT ROWID table keeps whole rows in its interior pages too: with
	 * chunks of a kilobyte and more that made a tree four entries wide and
	 * ten deep, walked by every insert and read of a declaration's lines. */
	"CREATE TABLE declaration_lines_v2(id INTEGER PRIMARY KEY,"
	"  declaration_id INTEGER NOT NULL REFERENCES declarations(id) DEFERRABLE INITIALLY DEFERRED,"
	"  chunk INTEGER NOT NULL, line_count INTEGER NOT NULL, persons BLOB NOT NULL,"
	"  payload_sealed BLOB NOT NULL,"
	"  CHECK(chunk >= 0 AND chunk < 65536 AND id = declaration_id * 65536 + chunk));"
	"INSERT INTO declaration_lines_v2(id, declaration_id, chunk, line_count, persons, payload_sealed)"
	"  SELECT declaration_id * 65536 + chunk, declaration_id, chunk, line_count, persons, payload_sealed"
	"  FROM declaration_lines ORDER BY declaration_id, chunk;"
	"DROP TABLE declaration_lines;"
	"ALTER TABLE declaration_lines_v2 RENAME TO declaration_lines;"
	/* For the foreign key: a declaration inserted after its lines (as the
	 * import does) looks its lines up by declaration_id. */
	"CREATE INDEX declaration_lines_declaration ON declaration_lines(declaration_id);",
	/* 3: lines carry their declaration's employer, the key a sharded store
	 * keeps them by (the PostgreSQL schema has it too), held to the
	 * declaration's by the foreign key. */
	"CREATE UNIQUE INDEX declarations_employer_id ON declarations(employer_id, id);"
	"CREATE TABLE declaration_lines_v3(id INTEGER PRIMARY KEY, employer_id INTEGER NOT NULL,"
	"  declaration_id INTEGER NOT NULL,"
	"  chunk INTEGER NOT NULL, line_count INTEGER NOT NULL, persons BLOB NOT NULL,"
	"  payload_sealed BLOB NOT NULL,"
	"  FOREIGN KEY(employer_id, declaration_id) REFERENCES declarations(employer_id, id)"
	"  DEFERRABLE INITIALLY DEFERRED,"
	"  CHECK(chunk >= 0 AND chunk < 65536 AND id = declaration_id * 65536 + chunk));"
	"INSERT INTO declaration_lines_v3(id, employer_id, declaration_id, chunk, line_count, persons,"
	"  payload_sealed) SELECT l.id, d.employer_id, l.declaration_id, l.chunk, l.line_count, l.persons,"
	"  l.payload_sealed FROM declaration_lines l JOIN declarations d ON d.id = l.declaration_id ORDER BY l.id;"
	"DROP TABLE declaration_lines;"
	"ALTER TABLE declaration_lines_v3 RENAME TO declaration_lines;"
	"CREATE INDEX declaration_lines_declaration ON declaration_lines(employer_id, declaration_id);",
	/* 4: the accounts and sessions of amanad. */
	"CREATE TABLE accounts(id INTEGER PRIMARY KEY, login_bidx INTEGER NOT NULL,"
	"  login_sealed BLOB NOT NULL, role INTEGER NOT NULL, secrets_sealed BLOB NOT NULL,"
	"  created_at INTEGER NOT NULL, failures INTEGER NOT NULL DEFAULT 0,"
	"  locked_until INTEGER NOT NULL DEFAULT 0, suspended INTEGER NOT NULL DEFAULT 0,"
	"  totp_step INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX accounts_login ON accounts(login_bidx);"
	"CREATE TABLE sessions(token_hash BLOB PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,"
	"  CHECK(length(token_hash) = 32)) WITHOUT ROWID;",
	/* 5: marks (sensitive, bait) under keyed subject hashes, and alerts. */
	"CREATE TABLE marks(mark BLOB PRIMARY KEY, kinds INTEGER NOT NULL,"
	"  CHECK(length(mark) = 32)) WITHOUT ROWID;"
	"CREATE TABLE alerts(id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, account_id INTEGER NOT NULL,"
	"  principal TEXT NOT NULL CHECK(length(principal) <= 255), kinds INTEGER NOT NULL,"
	"  subject_kind INTEGER NOT NULL, subject_id INTEGER NOT NULL,"
	"  reason TEXT NOT NULL CHECK(length(reason) <= 255));",
	/* 6: a declaration's roster (the PostgreSQL schema's 7): NULL for those
	 * imported before. */
	"ALTER TABLE declarations ADD COLUMN roster_sealed BLOB;",
};
#define MIGRATION_COUNT ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum stmt_id {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_SAVEPOINT,
	Q_RELEASE,
	Q_ROLLBACK_TO,
	Q_META_GET,
	Q_META_PUT,
	Q_SEQ_INIT,
	Q_SEQ_TAKE,
	Q_KEY_PUT,
	Q_KEY_EACH,
	Q_EMP_INSERT,
	Q_EMP_BY_BIDX,
	Q_EMP_GET,
	Q_PER_INSERT,
	Q_PER_BY_REG,
	Q_PER_BY_CIN,
	Q_PER_GET,
	Q_JOB_OPEN,
	Q_JOB_CLOSE,
	Q_JOB_OF_PERSON,
	Q_DECL_INSERT,
	Q_DECL_OF,
	Q_DECL_RECENT,
	Q_DECL_RECENT_ROSTER,
	Q_DECL_STATS,
	Q_EMP_EACH,
	Q_DECL_LAST_BEFORE,
	Q_LINE_INSERT,
	Q_LINES_OF,
	Q_COUNT_EMP,
	Q_COUNT_PER,
	Q_COUNT_JOB,
	Q_COUNT_DECL,
	Q_COUNT_LINE,
	Q_ACC_INSERT,
	Q_ACC_BY_LOGIN,
	Q_ACC_GET,
	Q_ACC_STATE,
	Q_SES_INSERT,
	Q_SES_GET,
	Q_SES_REVOKE,
	Q_MARK_PUT,
	Q_MARK_GET,
	Q_ALERT_INSERT,
	Q_ALERTS_AFTER,
	Q_PER_EACH,
	Q_DECL_EACH,
	Q_DECL_PERIODS,
	Q_LINES_EACH,
	Q_LINES_EACH_PERSONS,
	Q_COUNT
};

static const char *const sql[Q_COUNT] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SAVEPOINT] = "SAVEPOINT unit",
	[Q_RELEASE] = "RELEASE unit",
	[Q_ROLLBACK_TO] = "ROLLBACK TO unit",
	[Q_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[Q_META_PUT] = "INSERT INTO meta(key, value) VALUES(?1, ?2)"
		       " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[Q_SEQ_INIT] = "INSERT OR IGNORE INTO sequences(name, next) VALUES(?1, 1)",
	[Q_SEQ_TAKE] = "UPDATE sequences SET next = next + ?2 WHERE name = ?1 RETURNING next - ?2",
	[Q_KEY_PUT] = "INSERT INTO keyring(purpose, version, wrapped) VALUES(?1, ?2, ?3)",
	[Q_KEY_EACH] = "SELECT purpose, version, wrapped FROM keyring ORDER BY purpose, version",
	[Q_EMP_INSERT] = "INSERT INTO employers(id, aff_bidx, aff_sealed, profile_sealed, created_at)"
			 " VALUES(?1, ?2, ?3, ?4, ?5)",
	[Q_EMP_BY_BIDX] = "SELECT id, aff_bidx, aff_sealed, profile_sealed, created_at FROM employers"
			  " WHERE aff_bidx = ?1 ORDER BY id",
	[Q_EMP_GET] = "SELECT id, aff_bidx, aff_sealed, profile_sealed, created_at FROM employers WHERE id = ?1",
	[Q_PER_INSERT] = "INSERT INTO persons(id, reg_bidx, reg_sealed, cin_bidx, cin_sealed, name_bidx,"
			 " identity_sealed, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[Q_PER_BY_REG] = "SELECT id, reg_bidx, reg_sealed, cin_bidx, cin_sealed, name_bidx, identity_sealed,"
			 " created_at FROM persons WHERE reg_bidx = ?1 ORDER BY id",
	[Q_PER_BY_CIN] = "SELECT id, reg_bidx, reg_sealed, cin_bidx, cin_sealed, name_bidx, identity_sealed,"
			 " created_at FROM persons WHERE cin_bidx = ?1 ORDER BY id",
	[Q_PER_GET] = "SELECT id, reg_bidx, reg_sealed, cin_bidx, cin_sealed, name_bidx, identity_sealed,"
		      " created_at FROM persons WHERE id = ?1",
	[Q_JOB_OPEN] = "INSERT INTO employments(person_id, employer_id, start_period) VALUES(?1, ?2, ?3)",
	[Q_JOB_CLOSE] = "UPDATE employments SET end_period = ?3"
			" WHERE person_id = ?1 AND employer_id = ?2 AND end_period IS NULL",
	[Q_JOB_OF_PERSON] = "SELECT id, person_id, employer_id, start_period, coalesce(end_period, 0)"
			    " FROM employments WHERE person_id = ?1 ORDER BY start_period, id",
	[Q_DECL_INSERT] = "INSERT INTO declarations(id, employer_id, period, seq, imported_at, line_count,"
			  " digest, totals_sealed, roster_sealed) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[Q_DECL_OF] = "SELECT id, employer_id, period, seq, imported_at, line_count, digest, totals_sealed"
		      " FROM declarations WHERE employer_id = ?1 AND period = ?2 ORDER BY seq",
	/* A backward walk of the (employer, period, seq) index, no sort: the
	 * caller stops it after the periods it needs. */
	[Q_DECL_RECENT] = "SELECT id, employer_id, period, seq, imported_at, line_count, digest, totals_sealed"
			  " FROM declarations WHERE employer_id = ?1 AND period <= ?2"
			  " ORDER BY period DESC, seq DESC",
	/* The same with the rosters, which only the import's read ahead needs
	 * (declarations_recent_many). */
	[Q_DECL_RECENT_ROSTER] = "SELECT id, employer_id, period, seq, imported_at, line_count, digest, totals_sealed,"
				 " roster_sealed FROM declarations WHERE employer_id = ?1 AND period <= ?2"
				 " ORDER BY period DESC, seq DESC",
	[Q_DECL_STATS] = "SELECT count(*), coalesce(max(period), 0) FROM declarations WHERE employer_id = ?1",
	[Q_EMP_EACH] = "SELECT id, aff_bidx, aff_sealed, profile_sealed, created_at FROM employers ORDER BY id",
	[Q_DECL_LAST_BEFORE] = "SELECT max(period) FROM declarations WHERE employer_id = ?1 AND period < ?2",
	[Q_LINE_INSERT] = "INSERT INTO declaration_lines(id, employer_id, declaration_id, chunk, line_count, persons,"
			  " payload_sealed) VALUES(?1 * 65536 + ?2, ?6, ?1, ?2, ?3, ?4, ?5)",
	/* A range of the rowid, in chunk order: one walk down a shallow tree. */
	[Q_LINES_OF] = "SELECT employer_id, declaration_id, chunk, line_count, persons, payload_sealed"
		       " FROM declaration_lines WHERE id BETWEEN ?1 * 65536 AND ?1 * 65536 + 65535"
		       " AND employer_id = ?2 ORDER BY id",
	[Q_COUNT_EMP] = "SELECT count(*) FROM employers",
	[Q_COUNT_PER] = "SELECT count(*) FROM persons",
	[Q_COUNT_JOB] = "SELECT count(*) FROM employments",
	[Q_COUNT_DECL] = "SELECT count(*) FROM declarations",
	[Q_COUNT_LINE] = "SELECT coalesce(sum(line_count), 0) FROM declaration_lines",
	[Q_ACC_INSERT] = "INSERT INTO accounts(id, login_bidx, login_sealed, role, secrets_sealed, created_at)"
			 " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_ACC_BY_LOGIN] = "SELECT id, login_bidx, login_sealed, role, secrets_sealed, created_at, failures,"
			   " locked_until, suspended, totp_step FROM accounts WHERE login_bidx = ?1 ORDER BY id",
	[Q_ACC_GET] = "SELECT id, login_bidx, login_sealed, role, secrets_sealed, created_at, failures,"
		      " locked_until, suspended, totp_step FROM accounts WHERE id = ?1",
	[Q_ACC_STATE] = "UPDATE accounts SET failures = ?2, locked_until = ?3, suspended = ?4, totp_step = ?5"
			" WHERE id = ?1",
	[Q_SES_INSERT] = "INSERT INTO sessions(token_hash, account_id, expires_at) VALUES(?1, ?2, ?3)",
	[Q_SES_GET] = "SELECT account_id, expires_at, revoked FROM sessions WHERE token_hash = ?1",
	[Q_SES_REVOKE] = "UPDATE sessions SET revoked = 1 WHERE token_hash = ?1",
	[Q_MARK_PUT] = "INSERT INTO marks(mark, kinds) VALUES(?1, ?2)"
		       " ON CONFLICT(mark) DO UPDATE SET kinds = excluded.kinds",
	[Q_MARK_GET] = "SELECT kinds FROM marks WHERE mark = ?1",
	[Q_ALERT_INSERT] = "INSERT INTO alerts(id, at_ms, account_id, principal, kinds, subject_kind, subject_id,"
			   " reason) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[Q_ALERTS_AFTER] = "SELECT id, at_ms, account_id, principal, kinds, subject_kind, subject_id, reason"
			   " FROM alerts WHERE id > ?1 ORDER BY id LIMIT ?2",
	/* The full scans walk each table's rowid B-tree in order: no sort, no
	 * temporary table, whatever their size. */
	[Q_PER_EACH] = "SELECT id, reg_bidx, reg_sealed, cin_bidx, cin_sealed, name_bidx, identity_sealed,"
		       " created_at FROM persons ORDER BY id",
	/* No ORDER BY: SQLite scans the covering (employer_id, period, seq)
	 * index, which also holds the rowid, instead of the whole table. */
	[Q_DECL_PERIODS] = "SELECT id, employer_id, period FROM declarations",
	[Q_DECL_EACH] = "SELECT id, employer_id, period, seq, imported_at, line_count, digest, totals_sealed"
			" FROM declarations ORDER BY id",
	/* The rowid is declaration_id * 65536 + chunk: its order is
	 * (declaration, chunk). */
	[Q_LINES_EACH] = "SELECT employer_id, declaration_id, chunk, line_count, persons, payload_sealed"
			 " FROM declaration_lines WHERE id >= ?1 AND id < ?2 ORDER BY id",
	/* Without the payload, the last column: SQLite reads a row's record
	 * only up to the last column asked for, so the payload's overflow
	 * pages are not read. */
	[Q_LINES_EACH_PERSONS] = "SELECT employer_id, declaration_id, chunk, line_count, persons"
				 " FROM declaration_lines WHERE id >= ?1 AND id < ?2 ORDER BY id",
};

/* Checkpoints (copying the WAL back into the database file, and its fsync)
 * run on a thread of their own with their own connection, so a commit only
 * appends to the WAL and the writer goes on while the last batches are
 * copied. SQLite lets a passive checkpoint run beside a writer. */
struct checkpointer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	sqlite3 *db;
	bool wanted, stop;
};

/* WAL pages after a commit from which a checkpoint is started (SQLite's
 * own automatic threshold). */
#define CHECKPOINT_PAGES 1000

struct sqlite_store {
	struct store base;
	sqlite3 *db;
	sqlite3_stmt *stmt[Q_COUNT];
	struct checkpointer *ckpt; /* NULL: SQLite checkpoints in the commit */
};

static struct sqlite_store *S(struct store *s)
{
	return (struct sqlite_store *)s;
}

static enum amana_err map_rc(int rc)
{
	/* A missing parent is a broken invariant, not a duplicate. */
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return AMANA_ERR_CORRUPT;
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW: return AMANA_OK;
	case SQLITE_CONSTRAINT: return AMANA_ERR_EXISTS;
	case SQLITE_NOMEM: return AMANA_ERR_NOMEM;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY: return AMANA_ERR_IO;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB: return AMANA_ERR_CORRUPT;
	default: return AMANA_ERR_STORE;
	}
}

/* Take a prepared statement, reset and cleared for binding. */
static sqlite3_stmt *st(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *q = S(s)->stmt[id];
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return q;
}

/* Run a statement that returns no row. */
static enum amana_err run(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);
	enum amana_err err = rc == SQLITE_DONE || rc == SQLITE_ROW ? AMANA_OK : map_rc(rc);
	sqlite3_reset(q);
	return err;
}

static void bind_blob(sqlite3_stmt *q, int i, const struct store_blob *b)
{
	/* A zero-length blob must still be a blob, not NULL. */
	sqlite3_bind_blob(q, i, b->data ? (const void *)b->data : (const void *)"", (int)b->len, SQLITE_STATIC);
}

static struct store_blob col_blob(sqlite3_stmt *q, int i)
{
	struct store_blob b;
	b.data = sqlite3_column_blob(q, i);
	b.len = (size_t)sqlite3_column_bytes(q, i);
	return b;
}

/* ---- transactions ---- */

static enum amana_err sq_begin(struct store *s)
{
	return run(st(s, Q_BEGIN));
}
static enum amana_err sq_commit(struct store *s)
{
	return run(st(s, Q_COMMIT));
}
static enum amana_err sq_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(S(s)->db))
		return AMANA_OK; /* nothing open: SQLite already rolled back */
	return run(st(s, Q_ROLLBACK));
}
static enum amana_err sq_savepoint(struct store *s)
{
	return run(st(s, Q_SAVEPOINT));
}
static enum amana_err sq_release(struct store *s)
{
	return run(st(s, Q_RELEASE));
}
static enum amana_err sq_rollback_savepoint(struct store *s)
{
	enum amana_err err = run(st(s, Q_ROLLBACK_TO));
	if (err)
		return err;
	return run(st(s, Q_RELEASE));
}

/* ---- meta, sequences, keyring ---- */

static enum amana_err sq_meta_get(struct store *s, const char *key, uint8_t *out, size_t cap, size_t *len)
{
	sqlite3_stmt *q = st(s, Q_META_GET);
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	enum amana_err err;
	if (rc == SQLITE_ROW) {
		struct store_blob b = col_blob(q, 0);
		if (b.len > cap) {
			err = AMANA_ERR_LIMIT;
		} else {
			if (b.len)
				memcpy(out, b.data, b.len);
			*len = b.len;
			err = AMANA_OK;
		}
	} else {
		err = rc == SQLITE_DONE ? AMANA_ERR_NOTFOUND : map_rc(rc);
	}
	sqlite3_reset(q);
	return err;
}

static enum amana_err sq_meta_put(struct store *s, const char *key, const uint8_t *val, size_t len)
{
	sqlite3_stmt *q = st(s, Q_META_PUT);
	struct store_blob b = { val, len };
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	bind_blob(q, 2, &b);
	return run(q);
}

static enum amana_err sq_next_ids(struct store *s, const char *seq, int64_t count, int64_t *first)
{
	if (count <= 0)
		return AMANA_ERR_USAGE;
	sqlite3_stmt *q = st(s, Q_SEQ_INIT);
	sqlite3_bind_text(q, 1, seq, -1, SQLITE_STATIC);
	enum amana_err err = run(q);
	if (err)
		return err;
	q = st(s, Q_SEQ_TAKE);
	sqlite3_bind_text(q, 1, seq, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, count);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*first = sqlite3_column_int64(q, 0);
		err = AMANA_OK;
	} else {
		err = map_rc(rc);
		if (!err)
			err = AMANA_ERR_STORE;
	}
	sqlite3_reset(q);
	return err;
}

static enum amana_err sq_keyring_put(struct store *s, int purpose, uint32_t version, const struct store_blob *w)
{
	sqlite3_stmt *q = st(s, Q_KEY_PUT);
	sqlite3_bind_int(q, 1, purpose);
	sqlite3_bind_int64(q, 2, version);
	bind_blob(q, 3, w);
	return run(q);
}

static enum amana_err sq_keyring_each(struct store *s, store_keyring_fn fn, void *ctx)
{
	sqlite3_stmt *q = st(s, Q_KEY_EACH);
	enum amana_err err = AMANA_OK;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_blob w = col_blob(q, 2);
		err = fn(ctx, sqlite3_column_int(q, 0), (uint32_t)sqlite3_column_int64(q, 1), &w);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = map_rc(rc);
	sqlite3_reset(q);
	return err;
}

/* ---- employers ---- */

static enum amana_err sq_employer_insert(struct store *s, const struct store_employer *e)
{
	sqlite3_stmt *q = st(s, Q_EMP_INSERT);
	sqlite3_bind_int64(q, 1, e->id);
	sqlite3_bind_int64(q, 2, e->aff_bidx);
	bind_blob(q, 3, &e->aff_sealed);
	bind_blob(q, 4, &e->profile_sealed);
	sqlite3_bind_int64(q, 5, e->created_at);
	return run(q);
}

static enum amana_err each_employer(sqlite3_stmt *q, store_employer_fn fn, void *ctx)
{
	enum amana_err err = AMANA_OK;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_employer e;
		e.id = sqlite3_column_int64(q, 0);
		e.aff_bidx = sqlite3_column_int64(q, 1);
		e.aff_sealed = col_blob(q, 2);
		e.profile_sealed = col_blob(q, 3);
		e.created_at = sqlite3_column_int64(q, 4);
		err = fn(ctx, &e);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = map_rc(rc);
	sqlite3_reset(q);
	return err;
}

static enum amana_err sq_employer_by_bidx(struct store *s, int64_t bidx, store_employer_fn fn, void *ctx)
{
	sqlite3_stmt *q = st(s, Q_EMP_BY_BIDX);
	sqlite3_bind_int64(q, 1, bidx);
	return each_employer(q, fn, ctx);
}

static enum amana_err sq_employer_get(struct store *s, int64_t id, store_employer_fn fn, void *ctx)
{
	sqlite3_stmt *q = st(s, Q_EMP_GET);
	sqlite3_bind_int64(q, 1, id);
	return each_employer(q, fn, ctx);
}

/* ---- persons ---- */

static enum amana_err sq_person_insert(struct store *s, const struct store_person *p)
{
	sqlite3_stmt *q = st(s, Q_PER_INSERT);
	sqlite3_bind_int64(q, 1, p->id);
	sqlite3_bind_int64(q, 2, p->reg_bidx);
	bind_blob(q, 3, &p->reg_sealed);
	if (p->cin_sealed.len) {
		sqlite3_bind_int64(q, 4, p->cin_bidx);
		bind_blob(q, 5, &p->cin_sealed);
	}
	sqlite3_bind_int64(q, 6, p->name_bidx);
	bind_blob(q, 7, &p->identity_sealed);
	sqlite3_bind_int64(q, 8, p->created_at);
	return run(q);
}

static enum amana_err each_person(sqlite3_stmt *q, store_person_fn fn, void *ctx)
{
	enum amana_err err = AMANA_OK;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_person p;
		p.id = sqlite3_column_int64(q, 0);
		p.reg_bidx = sqlite3_column_int64(q, 1);
		p.reg_sealed = col_blob(q, 2);
		p.cin_bidx = sqlite3_column_int64(q, 3);
		p.cin_sealed = col_blob(q, 4);
		p.name_bidx = sqlite3_column_int64(q, 5);
		p.identity_sealed = col_blob(q, 6);
		p.created_at = sqlite3_column_int64(q, 7);
		err = fn(ctx, &p);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = map_rc(rc);
	sqlite3_reset(q);
	return err;
}

static enum amana_err sq_person_by_reg(struct store *s, int64_t bidx, store_person_fn fn, void *ctx)
{
	sqlite3_stmt *q = st(s, Q_PER_BY_REG);
	sqlite3_bind_int64(q, 1, bidx);
	return each_person(q, fn, ctx);
}

static enum amana_err sq_persons_by_reg_many(struct store *s, const int64_t *bidx, size_t n, store_person_fn fn,
					     void *ctx)
{
	enum amana_err err = store_many_check(bidx, n);
	for (size_t i = 0; i < n && !err; i++)
		err = sq_person_by_reg(s, bidx[i], fn, ctx);
	return err;
}

static enum amana_err sq_person_by_cin(struct store *s, int64_t bidx, store_person_fn fn, void *ctx)
{
	sqlite3_stmt *q = st(s, Q_PER_BY_CIN);
	sqlite3_bind_int64(q, 1, bidx);
	return each_person(q, fn, ctx);
}

static enum amana_err sq_person_get(struct store *s, int64_t id, store_person_fn fn, void *ctx)
{
	sqlite3_stmt *q = st(s, Q_PER_GET);
	sqlite3_bind_int64(q, 1, id);
	return each_person(q, fn, ctx);
}

/* ---- employment periods ---- */

static enum amana_err sq_employment_open(struct store *s, int64_t person, int64_t employer, uint32_t start)
{
	sqlite3_stmt *q = st(s, Q_JOB_OPEN);
	sqlite3_bind_int64(q, 1, person);
	sqlite3_bind_int64(q, 2, employer);
	sqlite3_bind_int64(q, 3, start);
	return run(q);
}

static enum amana_err sq_employment_close(struct store *s, int64_t person, int64_t employer, uint32_t end)
{
	sqlite3_stmt *q = st(s, Q_JOB_CLOSE);
	sqlite3_bind_int64(q, 1, person);
	sqlite3_bind_int64(q, 2, employer);
	sqlite3_bind_int64(q, 3, end);
	return run(q);
}

static enum amana_err sq_employment_of_person(struct store *s, int64_t person, store_employment_fn fn, void *ctx)
{
	sqlite3_stmt *q = st(s, Q_JOB_OF_PERSON);
	sqlite3_bind_int64(q, 1, person);
	enum amana_err err = AMANA_OK;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_employment e = {
			.id = sqlite3_column_int64(q, 0),
			.person_id = sqlite3_column_int64(q, 1),
			.employer_id = sqlite3_column_int64(q, 2),
			.start_period = (uint32_t)sqlite3_column_int64(q, 3),
			.end_period = (uint32_t)sqlite3_column_int64(q, 4),
		};
		err = fn(ctx, &e);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = map_rc(rc);
	sqlite3_reset(q);
	return err;
}

/* ---- declarations and lines ---- */

static enum amana_err sq_declaration_insert(struct store *s, const struct store_declaration *d)
{
	sqlite3_stmt *q = st(s, Q_DECL_INSERT);
	struct store_blob digest = { d->digest, sizeof(d->digest) };
	sqlite3_bind_int64(q, 1, d->id);
	sqlite3_bind_int64(q, 2, d->employer_id);
	sqlite3_bind_int64(q, 3, d->period);
	sqlite3_bind_int(q, 4, (int)d->seq);
	sqlite3_bind_int64(q, 5, d->imported_at);
	sqlite3_bind_int64(q, 6, d->line_count);
	bind_blob(q, 7, &digest);
	bind_blob(q, 8, &d->totals_sealed);
	if (d->roster_sealed.len)
		bind_blob(q, 9, &d->roster_sealed);
	else
		sqlite3_bind_null(q, 9);
	return run(q);
}

/* Every row of q, or (recent_of != 0) those of period recent_of and of the
 * latest period before it, q walking periods downwards. */
static enum amana_err each_declaration_upto(sqlite3_stmt *q, uint32_t recent_of, store_declaration_fn fn, void *ctx)
{
	enum amana_err err = AMANA_OK;
	int rc;
	uint32_t last = 0;
	unsigned periods = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_declaration d;
		if (recent_of) {
			uint32_t p = (uint32_t)sqlite3_column_int64(q, 2);
			if (periods == 0 || p != last) {
				if (periods == 2 || (periods == 1 && last != recent_of)) {
					rc = SQLITE_DONE;
					break;
				}
				periods++;
				last = p;
			}
		}
		d.id = sqlite3_column_int64(q, 0);
		d.employer_id = sqlite3_column_int64(q, 1);
		d.period = (uint32_t)sqlite3_column_int64(q, 2);
		d.seq = (unsigned)sqlite3_column_int(q, 3);
		d.imported_at = sqlite3_column_int64(q, 4);
		d.line_count = sqlite3_column_int64(q, 5);
		struct store_blob dg = col_blob(q, 6);
		memset(d.digest, 0, sizeof(d.digest));
		if (dg.len == sizeof(d.digest))
			memcpy(d.digest, dg.data, dg.len);
		d.totals_sealed = col_blob(q, 7);
		/* only the queries the rosters are read by select them */
		d.roster_sealed = sqlite3_column_count(q) > 8 ? col_blob(q, 8) : (struct store_blob){ NULL, 0 };
		err = fn(ctx, &d);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = map_rc(rc);
	sqlite3_reset(q);
	return err;
}

static enum amana_err each_declaration(sqlite3_stmt *q, store_declaration_fn fn, void *ctx)
{
	return each_declaration_upto(q, 0, fn, ctx);
}

static enum amana_err sq_declarations_of(struct store *s, int64_t employer, uint32_t period, store_declaration_fn fn,
					 void *ctx)
{
	sqlite3_stmt *q = st(s, Q_DECL_OF);
	sqlite3_bind_int64(q, 1, employer);
	sqlite3_bind_int64(q, 2, period);
	return each_declaration(q, fn, ctx);
}

static enum amana_err recent_of(struct store *s, enum stmt_id id, int64_t employer, uint32_t period,
				store_declaration_fn fn, void *ctx)
{
	if (period == 0)
		return AMANA_ERR_USAGE;
	sqlite3_stmt *q = st(s, id);
	sqlite3_bind_int64(q, 1, employer);
	sqlite3_bind_int64(q, 2, period);
	return each_declaration_upto(q, period, fn, ctx);
}

static enum amana_err sq_declarations_recent(struct store *s, int64_t employer, uint32_t period,
					     store_declaration_fn fn, void *ctx)
{
	return recent_of(s, Q_DECL_RECENT, employer, period, fn, ctx);
}

/* SQLite answers in-process: one statement per key costs what a join
 * would, so the many-key reads loop over the one-key ones. */
static enum amana_err sq_declarations_recent_many(struct store *s, const int64_t *employers, size_t n, uint32_t period,
						  store_declaration_fn fn, void *ctx)
{
	enum amana_err err = period ? store_many_check(employers, n) : AMANA_ERR_USAGE;
	for (size_t i = 0; i < n && !err; i++)
		err = recent_of(s, Q_DECL_RECENT_ROSTER, employers[i], period, fn, ctx);
	return err;
}

static enum amana_err sq_employers_each(struct store *s, store_employer_fn fn, void *ctx)
{
	return each_employer(st(s, Q_EMP_EACH), fn, ctx);
}

static enum amana_err sq_declaration_stats(struct store *s, int64_t employer, int64_t *count, uint32_t *last_period)
{
	sqlite3_stmt *q = st(s, Q_DECL_STATS);
	sqlite3_bind_int64(q, 1, employer);
	int rc = sqlite3_step(q);
	enum amana_err err = rc == SQLITE_ROW ? AMANA_OK : map_rc(rc);
	if (rc == SQLITE_ROW) {
		*count = sqlite3_column_int64(q, 0);
		*last_period = (uint32_t)sqlite3_column_int64(q, 1);
	} else if (!err) {
		err = AMANA_ERR_STORE;
	}
	sqlite3_reset(q);
	return err;
}

static enum amana_err sq_last_period_before(struct store *s, int64_t employer, uint32_t period, uint32_t *out)
{
	sqlite3_stmt *q = st(s, Q_DECL_LAST_BEFORE);
	sqlite3_bind_int64(q, 1, employer);
	sqlite3_bind_int64(q, 2, period);
	int rc = sqlite3_step(q);
	enum amana_err err;
	if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
		*out = (uint32_t)sqlite3_column_int64(q, 0);
		err = AMANA_OK;
	} else {
		err = rc == SQLITE_ROW ? AMANA_ERR_NOTFOUND : map_rc(rc);
	}
	sqlite3_reset(q);
	return err;
}

static enum amana_err sq_chunk_insert(struct store *s, const struct store_chunk *c)
{
	if (!store_chunk_in_range(c))
		return AMANA_ERR_USAGE;
	sqlite3_stmt *q = st(s, Q_LINE_INSERT);
	sqlite3_bind_int64(q, 1, c->declaration_id);
	sqlite3_bind_int64(q, 2, c->chunk);
	sqlite3_bind_int64(q, 3, c->line_count);
	bind_blob(q, 4, &c->persons);
	bind_blob(q, 5, &c->payload_sealed);
	sqlite3_bind_int64(q, 6, c->employer_id);
	return run(q);
}

/* The rows of a lines query, to fn; a query of five columns has no
 * payload ({NULL, 0}). */
static enum amana_err each_chunk(sqlite3_stmt *q, store_chunk_fn fn, void *ctx)
{
	bool with_payload = sqlite3_column_count(q) > 5;
	enum amana_err err = AMANA_OK;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_chunk c;
		c.employer_id = sqlite3_column_int64(q, 0);
		c.declaration_id = sqlite3_column_int64(q, 1);
		c.chunk = sqlite3_column_int64(q, 2);
		c.line_count = sqlite3_column_int64(q, 3);
		c.persons = col_blob(q, 4);
		c.payload_sealed = with_payload ? col_blob(q, 5) : (struct store_blob){ NULL, 0 };
		err = fn(ctx, &c);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = map_rc(rc);
	sqlite3_reset(q);
	return err;
}

static enum amana_err sq_chunks_of(struct store *s, int64_t employer, int64_t declaration, store_chunk_fn fn, void *ctx)
{
	if (declaration < 1 || declaration > STORE_DECLARATION_ID_MAX)
		return AMANA_OK; /* no such declaration can have lines */
	sqlite3_stmt *q = st(s, Q_LINES_OF);
	sqlite3_bind_int64(q, 1, declaration);
	sqlite3_bind_int64(q, 2, employer);
	return each_chunk(q, fn, ctx);
}

static enum amana_err sq_chunks_of_many(struct store *s, const struct store_decl_key *keys, size_t n, store_chunk_fn fn,
					void *ctx)
{
	enum amana_err err = store_many_check_decls(keys, n);
	for (size_t i = 0; i < n && !err; i++)
		err = sq_chunks_of(s, keys[i].employer_id, keys[i].declaration_id, fn, ctx);
	return err;
}

/* ---- full scans: one statement stepped through the table ---- */

static enum amana_err sq_persons_each(struct store *s, store_person_fn fn, void *ctx)
{
	return each_person(st(s, Q_PER_EACH), fn, ctx);
}

static enum amana_err sq_declarations_each(struct store *s, store_declaration_fn fn, void *ctx)
{
	return each_declaration(st(s, Q_DECL_EACH), fn, ctx);
}

static enum amana_err sq_declaration_periods_each(struct store *s, store_period_fn fn, void *ctx)
{
	sqlite3_stmt *q = st(s, Q_DECL_PERIODS);
	enum amana_err err = AMANA_OK;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		err = fn(ctx, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
			 (uint32_t)sqlite3_column_int64(q, 2));
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = map_rc(rc);
	sqlite3_reset(q);
	return err;
}

static enum amana_err sq_chunks_each(struct store *s, bool with_payload, int64_t from, int64_t to, store_chunk_fn fn,
				     void *ctx)
{
	/* the rowid range of declarations [from, to): ids run from 1 to
	 * STORE_DECLARATION_ID_MAX, so the products do not overflow */
	from = from < 1 ? 1 : from;
	to = to > STORE_DECLARATION_ID_MAX ? STORE_DECLARATION_ID_MAX + 1 : to;
	if (from >= to)
		return AMANA_OK;
	sqlite3_stmt *q = st(s, with_payload ? Q_LINES_EACH : Q_LINES_EACH_PERSONS);
	sqlite3_bind_int64(q, 1, from * STORE_CHUNK_MAX);
	sqlite3_bind_int64(q, 2, to * STORE_CHUNK_MAX);
	return each_chunk(q, fn, ctx);
}

static enum amana_err count_one(struct store *s, enum stmt_id id, int64_t *out)
{
	sqlite3_stmt *q = st(s, id);
	int rc = sqlite3_step(q);
	enum amana_err err = rc == SQLITE_ROW ? AMANA_OK : map_rc(rc);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return err;
}

static enum amana_err sq_counts(struct store *s, struct store_counts *out)
{
	enum amana_err err;
	if ((err = count_one(s, Q_COUNT_EMP, &out->employers)) || (err = count_one(s, Q_COUNT_PER, &out->persons)) ||
	    (err = count_one(s, Q_COUNT_JOB, &out->employments)) ||
	    (err = count_one(s, Q_COUNT_DECL, &out->declarations)) || (err = count_one(s, Q_COUNT_LINE, &out->lines)))
		return err;
	return AMANA_OK;
}

/* ---- accounts and sessions ---- */

static enum amana_err sq_account_insert(struct store *s, const struct store_account *a)
{
	sqlite3_stmt *q = st(s, Q_ACC_INSERT);
	sqlite3_bind_int64(q, 1, a->id);
	sqlite3_bind_int64(q, 2, a->login_bidx);
	bind_blob(q, 3, &a->login_sealed);
	sqlite3_bind_int64(q, 4, a->role);
	bind_blob(q, 5, &a->secrets_sealed);
	sqlite3_bind_int64(q, 6, a->created_at);
	return run(q);
}

static enum amana_err each_account(sqlite3_stmt *q, store_account_fn fn, void *ctx)
{
	enum amana_err err = AMANA_OK;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_account a = {
			.id = sqlite3_column_int64(q, 0),
			.login_bidx = sqlite3_column_int64(q, 1),
			.login_sealed = col_blob(q, 2),
			.role = sqlite3_column_int64(q, 3),
			.secrets_sealed = col_blob(q, 4),
			.created_at = sqlite3_column_int64(q, 5),
		};
		struct store_account_state stt = {
			.failures = sqlite3_column_int64(q, 6),
			.locked_until = sqlite3_column_int64(q, 7),
			.suspended = sqlite3_column_int64(q, 8),
			.totp_step = sqlite3_column_int64(q, 9),
		};
		if ((err = fn(ctx, &a, &stt)))
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = map_rc(rc);
	sqlite3_reset(q);
	return err;
}

static enum amana_err sq_accounts_by_login(struct store *s, int64_t bidx, store_account_fn fn, void *ctx)
{
	sqlite3_stmt *q = st(s, Q_ACC_BY_LOGIN);
	sqlite3_bind_int64(q, 1, bidx);
	return each_account(q, fn, ctx);
}

static enum amana_err sq_account_get(struct store *s, int64_t id, store_account_fn fn, void *ctx)
{
	sqlite3_stmt *q = st(s, Q_ACC_GET);
	sqlite3_bind_int64(q, 1, id);
	return each_account(q, fn, ctx);
}

/* Run an UPDATE of one row: AMANA_ERR_NOTFOUND if it changed none. */
static enum amana_err run_one(struct store *s, sqlite3_stmt *q)
{
	enum amana_err err = run(q);
	return err ? err : sqlite3_changes(S(s)->db) == 1 ? AMANA_OK : AMANA_ERR_NOTFOUND;
}

static enum amana_err sq_account_set_state(struct store *s, int64_t id, const struct store_account_state *stt)
{
	sqlite3_stmt *q = st(s, Q_ACC_STATE);
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, stt->failures);
	sqlite3_bind_int64(q, 3, stt->locked_until);
	sqlite3_bind_int64(q, 4, stt->suspended);
	sqlite3_bind_int64(q, 5, stt->totp_step);
	return run_one(s, q);
}

static enum amana_err sq_session_insert(struct store *s, const struct store_session *se)
{
	sqlite3_stmt *q = st(s, Q_SES_INSERT);
	sqlite3_bind_blob(q, 1, se->token_hash, STORE_TOKEN_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, se->account_id);
	sqlite3_bind_int64(q, 3, se->expires_at);
	return run(q);
}

static enum amana_err sq_session_get(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_BYTES],
				     struct store_session *out)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *q = st(s, Q_SES_GET);
	sqlite3_bind_blob(q, 1, hash, STORE_TOKEN_HASH_BYTES, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	enum amana_err err = AMANA_ERR_NOTFOUND;
	if (rc == SQLITE_ROW) {
		memcpy(out->token_hash, hash, STORE_TOKEN_HASH_BYTES);
		out->account_id = sqlite3_column_int64(q, 0);
		out->expires_at = sqlite3_column_int64(q, 1);
		out->revoked = sqlite3_column_int64(q, 2) != 0;
		err = AMANA_OK;
	} else if (rc != SQLITE_DONE) {
		err = map_rc(rc);
	}
	sqlite3_reset(q);
	return err;
}

static enum amana_err sq_session_revoke(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_BYTES])
{
	sqlite3_stmt *q = st(s, Q_SES_REVOKE);
	sqlite3_bind_blob(q, 1, hash, STORE_TOKEN_HASH_BYTES, SQLITE_STATIC);
	return run_one(s, q);
}

static enum amana_err sq_serve_reads(struct store *s)
{
	/* Up to 2 GiB mapped (SQLite's default cap): at 4,000,000 persons,
	 * audited reads of random persons ran about a fifth faster than
	 * through pread (docs/BENCHMARKS.md). */
	return map_rc(sqlite3_exec(S(s)->db, "PRAGMA mmap_size=2147418112", NULL, NULL, NULL));
}

/* ---- marks and alerts ---- */

static enum amana_err sq_mark_put(struct store *s, const uint8_t key[STORE_MARK_BYTES], int64_t kinds)
{
	sqlite3_stmt *q = st(s, Q_MARK_PUT);
	sqlite3_bind_blob(q, 1, key, STORE_MARK_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, kinds);
	return run(q);
}

static enum amana_err sq_mark_get(struct store *s, const uint8_t key[STORE_MARK_BYTES], int64_t *kinds)
{
	*kinds = 0;
	sqlite3_stmt *q = st(s, Q_MARK_GET);
	sqlite3_bind_blob(q, 1, key, STORE_MARK_BYTES, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	enum amana_err err = AMANA_OK;
	if (rc == SQLITE_ROW)
		*kinds = sqlite3_column_int64(q, 0);
	else if (rc != SQLITE_DONE)
		err = map_rc(rc);
	sqlite3_reset(q);
	return err;
}

/* In process, a lookup costs no round trip: one by one. */
static enum amana_err sq_marks_get_many(struct store *s, const uint8_t *keys, size_t n, int64_t *kinds)
{
	enum amana_err err = AMANA_OK;
	for (size_t i = 0; i < n && !err; i++)
		err = sq_mark_get(s, keys + i * STORE_MARK_BYTES, &kinds[i]);
	return err;
}

static enum amana_err sq_alert_insert(struct store *s, const struct store_alert *a)
{
	if (!a->principal || !a->reason || strlen(a->principal) > 255 || strlen(a->reason) > 255)
		return AMANA_ERR_USAGE;
	sqlite3_stmt *q = st(s, Q_ALERT_INSERT);
	sqlite3_bind_int64(q, 1, a->id);
	sqlite3_bind_int64(q, 2, a->at_ms);
	sqlite3_bind_int64(q, 3, a->account_id);
	sqlite3_bind_text(q, 4, a->principal, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, a->kinds);
	sqlite3_bind_int64(q, 6, a->subject_kind);
	sqlite3_bind_int64(q, 7, a->subject_id);
	sqlite3_bind_text(q, 8, a->reason, -1, SQLITE_STATIC);
	return run(q);
}

static enum amana_err sq_alerts_after(struct store *s, int64_t after_id, int64_t limit, store_alert_fn fn, void *ctx)
{
	if (limit < 1 || limit > 10000)
		return AMANA_ERR_USAGE;
	sqlite3_stmt *q = st(s, Q_ALERTS_AFTER);
	sqlite3_bind_int64(q, 1, after_id);
	sqlite3_bind_int64(q, 2, limit);
	enum amana_err err = AMANA_OK;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_alert a = {
			.id = sqlite3_column_int64(q, 0),
			.at_ms = sqlite3_column_int64(q, 1),
			.account_id = sqlite3_column_int64(q, 2),
			.principal = (const char *)sqlite3_column_text(q, 3),
			.kinds = sqlite3_column_int64(q, 4),
			.subject_kind = sqlite3_column_int64(q, 5),
			.subject_id = sqlite3_column_int64(q, 6),
			.reason = (const char *)sqlite3_column_text(q, 7),
		};
		if (!a.principal || !a.reason) {
			err = AMANA_ERR_NOMEM;
			break;
		}
		if ((err = fn(ctx, &a)))
			break;
	}
	if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = map_rc(rc);
	sqlite3_reset(q);
	return err;
}

/* ---- open and close ---- */

static void *checkpoint_main(void *arg)
{
	struct checkpointer *c = arg;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->wanted && !c->stop)
			pthread_cond_wait(&c->wake, &c->lock);
		if (c->stop)
			break;
		c->wanted = false;
		pthread_mutex_unlock(&c->lock);
		/* Passive: copies what no reader still needs, never waits for
		 * the writer. What it cannot copy now (or a failed copy: the
		 * frames stay in the WAL, which is durable) waits for the next
		 * one, or for the last connection's close. */
		(void)sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Called by SQLite in the writer's thread after each commit. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
	(void)db;
	(void)name;
	struct checkpointer *c = arg;
	if (pages >= CHECKPOINT_PAGES) {
		pthread_mutex_lock(&c->lock);
		if (!c->wanted) {
			c->wanted = true;
			pthread_cond_signal(&c->wake);
		}
		pthread_mutex_unlock(&c->lock);
	}
	return SQLITE_OK;
}

static void checkpointer_stop(struct checkpointer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	sqlite3_close(c->db);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Start the checkpointing thread for the database at path; the writer's
 * connection then no longer checkpoints by itself. */
static enum amana_err checkpointer_start(struct sqlite_store *ss, const char *path)
{
	struct checkpointer *c = calloc(1, sizeof(*c));
	if (!c)
		return AMANA_ERR_NOMEM;
	int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(c->db, 10000);
		rc = sqlite3_exec(c->db, "PRAGMA synchronous=FULL; PRAGMA cache_size=-2048;", NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		sqlite3_close(c->db);
		free(c);
		return map_rc(rc);
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	if (pthread_create(&c->thread, NULL, checkpoint_main, c) != 0) {
		sqlite3_close(c->db);
		pthread_cond_destroy(&c->wake);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return AMANA_ERR_NOMEM;
	}
	ss->ckpt = c;
	sqlite3_wal_hook(ss->db, on_wal_commit, c); /* replaces the automatic checkpoint */
	return AMANA_OK;
}

static void sq_close(struct store *s)
{
	struct sqlite_store *ss = S(s);
	if (ss->ckpt) {
		sqlite3_wal_hook(ss->db, NULL, NULL);
		checkpointer_stop(ss->ckpt);
	}
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(ss->stmt[i]);
	/* The last connection to close checkpoints what is left and removes
	 * the WAL. */
	sqlite3_close(ss->db);
	free(ss);
}

static const struct store_ops sqlite_ops = {
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.savepoint = sq_savepoint,
	.release = sq_release,
	.rollback_savepoint = sq_rollback_savepoint,
	.meta_get = sq_meta_get,
	.meta_put = sq_meta_put,
	.next_ids = sq_next_ids,
	.keyring_put = sq_keyring_put,
	.keyring_each = sq_keyring_each,
	.employer_insert = sq_employer_insert,
	.employer_by_bidx = sq_employer_by_bidx,
	.employer_get = sq_employer_get,
	.person_insert = sq_person_insert,
	.person_by_reg = sq_person_by_reg,
	.person_by_cin = sq_person_by_cin,
	.persons_by_reg_many = sq_persons_by_reg_many,
	.person_get = sq_person_get,
	.employment_open = sq_employment_open,
	.employment_close = sq_employment_close,
	.employment_of_person = sq_employment_of_person,
	.declaration_insert = sq_declaration_insert,
	.declarations_of = sq_declarations_of,
	.declarations_recent = sq_declarations_recent,
	.declarations_recent_many = sq_declarations_recent_many,
	.employers_each = sq_employers_each,
	.declaration_stats = sq_declaration_stats,
	.last_period_before = sq_last_period_before,
	.chunk_insert = sq_chunk_insert,
	.chunks_of = sq_chunks_of,
	.chunks_of_many = sq_chunks_of_many,
	.counts = sq_counts,
	.persons_each = sq_persons_each,
	.declarations_each = sq_declarations_each,
	.declaration_periods_each = sq_declaration_periods_each,
	.chunks_each = sq_chunks_each,
	.account_insert = sq_account_insert,
	.accounts_by_login = sq_accounts_by_login,
	.account_get = sq_account_get,
	.account_set_state = sq_account_set_state,
	.session_insert = sq_session_insert,
	.session_get = sq_session_get,
	.session_revoke = sq_session_revoke,
	.serve_reads = sq_serve_reads,
	.mark_put = sq_mark_put,
	.mark_get = sq_mark_get,
	.marks_get_many = sq_marks_get_many,
	.alert_insert = sq_alert_insert,
	.alerts_after = sq_alerts_after,
};

static enum amana_err exec(sqlite3 *db, const char *text)
{
	return map_rc(sqlite3_exec(db, text, NULL, NULL, NULL));
}

static enum amana_err migrate(sqlite3 *db)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
		return AMANA_ERR_STORE;
	int version = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
	sqlite3_finalize(q);
	if (version < 0)
		return AMANA_ERR_STORE;
	if (version > MIGRATION_COUNT)
		return AMANA_ERR_CORRUPT; /* a newer Amana wrote this: do not guess */
	enum amana_err err = AMANA_OK;
	for (int v = version; v < MIGRATION_COUNT && !err; v++) {
		/* PRAGMA takes no parameters; the version is an integer we own. */
		static const char *const set_version[] = { "PRAGMA user_version = 1", "PRAGMA user_version = 2",
							   "PRAGMA user_version = 3", "PRAGMA user_version = 4",
							   "PRAGMA user_version = 5", "PRAGMA user_version = 6" };
		_Static_assert(sizeof(set_version) / sizeof(set_version[0]) == MIGRATION_COUNT,
			       "one user_version statement per migration");
		if ((err = exec(db, "BEGIN IMMEDIATE")))
			break;
		err = exec(db, migrations[v]);
		if (!err)
			err = exec(db, set_version[v]);
		if (!err)
			err = exec(db, "COMMIT");
		else
			(void)exec(db, "ROLLBACK");
	}
	return err;
}

/* SQLite counts every allocation under one process-wide mutex unless told
 * not to; with the checkpointer's connection in a second thread that mutex
 * is taken by both threads at every step. We never read those statistics. Must come
 * before SQLite initializes (the first open); later, it is refused and
 * changes nothing. */
static pthread_once_t sqlite_configured = PTHREAD_ONCE_INIT;

static void configure_sqlite(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static enum amana_err prepare_all(struct sqlite_store *ss)
{
	for (int i = 0; i < Q_COUNT; i++)
		if (sqlite3_prepare_v3(ss->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &ss->stmt[i], NULL) != SQLITE_OK)
			return AMANA_ERR_STORE;
	return AMANA_OK;
}

enum amana_err store_sqlite_migrate(const char *path, long long *from, long long *to)
{
	if (access(path, R_OK | W_OK) != 0)
		return AMANA_ERR_NOTFOUND;
	(void)pthread_once(&sqlite_configured, configure_sqlite);
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	enum amana_err err = map_rc(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL));
	if (!err)
		err = map_rc(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL));
	if (!err && sqlite3_step(q) == SQLITE_ROW)
		*from = sqlite3_column_int(q, 0);
	else if (!err)
		err = AMANA_ERR_STORE;
	sqlite3_finalize(q);
	sqlite3_close(db);
	struct store *s;
	*to = MIGRATION_COUNT;
	if (!err && !(err = store_sqlite_open(path, 0, &s))) /* opening migrates */
		store_close(s);
	return err;
}

enum amana_err store_sqlite_open(const char *path, int create, struct store **out)
{
	*out = NULL;
	if (create) {
		/* Refuse to overwrite; create the file owner-only before SQLite does. */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return errno == EEXIST ? AMANA_ERR_EXISTS : errno == ENOENT ? AMANA_ERR_NOTFOUND : AMANA_ERR_IO;
		close(fd);
	} else if (access(path, R_OK | W_OK) != 0) {
		return AMANA_ERR_NOTFOUND;
	}
	(void)pthread_once(&sqlite_configured, configure_sqlite);
	struct sqlite_store *ss = calloc(1, sizeof(*ss));
	if (!ss)
		return AMANA_ERR_NOMEM;
	ss->base.ops = &sqlite_ops;
	enum amana_err err;
	int rc = sqlite3_open_v2(path, &ss->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err = map_rc(rc);
		goto fail;
	}
	sqlite3_extended_result_codes(ss->db, 1);
	sqlite3_busy_timeout(ss->db, 10000);
	/* Room for the small allocations of every statement step (cursors,
	 * records): the import runs a few statements per file, and malloc
	 * showed in its profile. */
	(void)sqlite3_db_config(ss->db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 1024, 2048);
	/* A 128 MiB page cache. The registry's pages stay in the kernel's page
	 * cache anyway; a larger SQLite cache only adds fresh memory to fault in
	 * and zero: at 300,000 employers the month-2 import ran 15-25% slower
	 * with 1 GiB than with 32-256 MiB (docs/BENCHMARKS.md). mmap was no
	 * better, and turns an I/O error into SIGBUS. */
	if ((err = exec(ss->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
				"PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-131072;")))
		goto fail;
	if ((err = migrate(ss->db)))
		goto fail;
	if ((err = prepare_all(ss)))
		goto fail;
	if ((err = checkpointer_start(ss, path)))
		goto fail;
	*out = &ss->base;
	return AMANA_OK;
fail:
	sq_close(&ss->base);
	return err;
}
