/*
 * store.h - the storage interface. The only place with SQL lives behind it.
 *
 * The store keeps what service/ sealed through crypto/ and finds rows by
 * blind index: it never sees a key or a plaintext personal field. Backends
 * are chosen at run time through struct store_ops (SQLite today; PostgreSQL
 * is the same interface). Every statement is prepared; no SQL is built from
 * strings.
 *
 * Ownership: blobs handed to a callback are valid only during the callback.
 * Rows passed in are copied by the store before the call returns.
 * Iteration callbacks return AMANA_OK to go on; anything else stops the
 * iteration and is returned by the iterating function.
 */
#ifndef AMANA_STORE_H
#define AMANA_STORE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

struct store_blob {
	const uint8_t *data;
	size_t len;
};

struct store_employer {
	int64_t id;
	int64_t aff_bidx; /* blind index of the affiliation number */
	struct store_blob aff_sealed; /* the affiliation number, sealed */
	struct store_blob profile_sealed; /* name, ICE, activity, address, city... sealed */
	int64_t created_at; /* unix seconds */
};

struct store_person {
	int64_t id;
	int64_t reg_bidx;
	struct store_blob reg_sealed;
	int64_t cin_bidx; /* 0 when the CIN is unknown */
	struct store_blob cin_sealed; /* empty when unknown */
	int64_t name_bidx; /* for leak matching */
	struct store_blob identity_sealed; /* name, birth date, children */
	int64_t created_at;
};

struct store_employment {
	int64_t id;
	int64_t person_id;
	int64_t employer_id;
	uint32_t start_period;
	uint32_t end_period; /* 0 while ongoing */
};

struct store_declaration {
	int64_t id;
	int64_t employer_id;
	uint32_t period;
	unsigned seq; /* 0 main declaration, 1..9 complementary */
	int64_t imported_at;
	int64_t line_count;
	uint8_t digest[32]; /* BLAKE2b-256 of the file as received */
	struct store_blob totals_sealed; /* sums of salaries, days, AF */
	/* Who its lines name, in order, and whether they left: the roster the
	 * next period's pre-filled list is made of (service/lines.h), sealed.
	 * Optional ({NULL, 0}: none kept, the lines say); read back by
	 * declarations_recent_many only (the import's read ahead), empty from
	 * every other read: a roster can be tens of kilobytes. */
	struct store_blob roster_sealed;
};

/*
 * A declaration's lines are kept in chunks of up to STORE_CHUNK_LINES
 * consecutive lines, each chunk one sealed value: a declaration is a
 * document received whole, and sealing and writing it by chunk costs one AEAD
 * and one row per 256 lines instead of per line. The chunk lists in clear
 * the surrogate ids of the persons its lines name (0 for occasional labour),
 * as the employment table does, so a person's lines are found without
 * opening other chunks.
 */
#define STORE_CHUNK_LINES 256
/* Chunk numbers run from 0 to STORE_CHUNK_MAX - 1 (16.7 million lines in a
 * declaration), declaration ids from 1 to STORE_DECLARATION_ID_MAX: SQLite
 * keys a chunk by the one integer declaration_id * STORE_CHUNK_MAX + chunk. */
#define STORE_CHUNK_MAX 65536
#define STORE_DECLARATION_ID_MAX (INT64_MAX / STORE_CHUNK_MAX - 1)

struct store_chunk {
	int64_t employer_id; /* the declaration's: a sharded store keeps lines with their employer's declarations */
	int64_t declaration_id;
	int64_t chunk; /* 0, 1, ... in file order */
	int64_t line_count; /* lines in this chunk */
	struct store_blob persons; /* line_count unsigned LEB128 person ids */
	struct store_blob payload_sealed; /* the lines: numbers, days, amounts */
};

/* A declaration named with its employer, the key a sharded store finds it by. */
struct store_decl_key {
	int64_t employer_id;
	int64_t declaration_id;
};

/* A login of amanad (issue 5): a citizen, an employer or its accountant, a
 * member of staff. What the store keeps of it is sealed but the role; what
 * changes at each login attempt is its state. */
struct store_account {
	int64_t id;
	int64_t login_bidx; /* blind index of the login name */
	struct store_blob login_sealed; /* the login name, sealed */
	int64_t role; /* enum role */
	struct store_blob secrets_sealed; /* password hash, TOTP secret and scope, sealed together */
	int64_t created_at;
};

struct store_account_state {
	int64_t failures; /* consecutive failed logins */
	int64_t locked_until; /* unix seconds (0: not locked) */
	int64_t suspended; /* 1: suspended until a supervisor unlocks */
	int64_t totp_step; /* the step of the last second-factor code taken */
};

/* A session: the hash of its token (the token itself is never stored),
 * whose account it is, until when, and whether it was revoked. */
#define STORE_TOKEN_HASH_BYTES 32
struct store_session {
	uint8_t token_hash[STORE_TOKEN_HASH_BYTES];
	int64_t account_id;
	int64_t expires_at; /* unix seconds */
	bool revoked;
};

/* A mark on a person or an employer (sensitive, bait), under a key the
 * service derives from the subject with a secret key: a reader of the
 * database cannot tell which rows are marked. */
#define STORE_MARK_BYTES 32

/* An alert raised by an access (policy.h): who, what, about which row. */
struct store_alert {
	int64_t id;
	int64_t at_ms; /* unix milliseconds */
	int64_t account_id; /* the amanad account (0: another principal, e.g. the CLI) */
	const char *principal; /* as on the audit log */
	int64_t kinds; /* enum policy_alert bits */
	int64_t subject_kind; /* enum audit_subject_kind */
	int64_t subject_id;
	const char *reason; /* the policy's words: no personal data */
};

struct store_counts {
	int64_t employers, persons, employments, declarations, lines; /* lines: sum of chunk line counts */
};

struct store;

typedef enum amana_err (*store_employer_fn)(void *ctx, const struct store_employer *e);
typedef enum amana_err (*store_person_fn)(void *ctx, const struct store_person *p);
typedef enum amana_err (*store_employment_fn)(void *ctx, const struct store_employment *e);
typedef enum amana_err (*store_declaration_fn)(void *ctx, const struct store_declaration *d);
typedef enum amana_err (*store_period_fn)(void *ctx, int64_t declaration_id, int64_t employer_id, uint32_t period);
typedef enum amana_err (*store_chunk_fn)(void *ctx, const struct store_chunk *c);
typedef enum amana_err (*store_keyring_fn)(void *ctx, int purpose, uint32_t version, const struct store_blob *wrapped);
typedef enum amana_err (*store_alert_fn)(void *ctx, const struct store_alert *a);
typedef enum amana_err (*store_account_fn)(void *ctx, const struct store_account *a,
					   const struct store_account_state *st);

struct store_ops {
	void (*close)(struct store *s);
	enum amana_err (*begin)(struct store *s);
	enum amana_err (*commit)(struct store *s);
	enum amana_err (*rollback)(struct store *s);
	enum amana_err (*savepoint)(struct store *s);
	enum amana_err (*release)(struct store *s);
	enum amana_err (*rollback_savepoint)(struct store *s);

	enum amana_err (*meta_get)(struct store *s, const char *key, uint8_t *out, size_t cap, size_t *len);
	enum amana_err (*meta_put)(struct store *s, const char *key, const uint8_t *val, size_t len);
	enum amana_err (*next_ids)(struct store *s, const char *seq, int64_t count, int64_t *first);
	enum amana_err (*keyring_put)(struct store *s, int purpose, uint32_t version, const struct store_blob *w);
	enum amana_err (*keyring_each)(struct store *s, store_keyring_fn fn, void *ctx);

	enum amana_err (*employer_insert)(struct store *s, const struct store_employer *e);
	enum amana_err (*employer_by_bidx)(struct store *s, int64_t bidx, store_employer_fn fn, void *ctx);
	enum amana_err (*employer_get)(struct store *s, int64_t id, store_employer_fn fn, void *ctx);

	enum amana_err (*person_insert)(struct store *s, const struct store_person *p);
	enum amana_err (*person_by_reg)(struct store *s, int64_t bidx, store_person_fn fn, void *ctx);
	enum amana_err (*person_by_cin)(struct store *s, int64_t bidx, store_person_fn fn, void *ctx);
	enum amana_err (*persons_by_reg_many)(struct store *s, const int64_t *bidx, size_t n, store_person_fn fn,
					      void *ctx);
	enum amana_err (*person_get)(struct store *s, int64_t id, store_person_fn fn, void *ctx);

	enum amana_err (*employment_open)(struct store *s, int64_t person, int64_t employer, uint32_t start);
	enum amana_err (*employment_close)(struct store *s, int64_t person, int64_t employer, uint32_t end);
	enum amana_err (*employment_of_person)(struct store *s, int64_t person, store_employment_fn fn, void *ctx);

	enum amana_err (*declaration_insert)(struct store *s, const struct store_declaration *d);
	enum amana_err (*declarations_of)(struct store *s, int64_t employer, uint32_t period, store_declaration_fn fn,
					  void *ctx);
	enum amana_err (*declarations_recent)(struct store *s, int64_t employer, uint32_t period,
					      store_declaration_fn fn, void *ctx);
	enum amana_err (*declarations_recent_many)(struct store *s, const int64_t *employers, size_t n, uint32_t period,
						   store_declaration_fn fn, void *ctx);
	enum amana_err (*employers_each)(struct store *s, store_employer_fn fn, void *ctx);
	enum amana_err (*declaration_stats)(struct store *s, int64_t employer, int64_t *count, uint32_t *last_period);
	enum amana_err (*last_period_before)(struct store *s, int64_t employer, uint32_t period, uint32_t *out);
	enum amana_err (*chunk_insert)(struct store *s, const struct store_chunk *c);
	enum amana_err (*chunks_of)(struct store *s, int64_t employer, int64_t declaration, store_chunk_fn fn,
				    void *ctx);
	enum amana_err (*chunks_of_many)(struct store *s, const struct store_decl_key *keys, size_t n,
					 store_chunk_fn fn, void *ctx);
	enum amana_err (*counts)(struct store *s, struct store_counts *out);
	enum amana_err (*persons_each)(struct store *s, store_person_fn fn, void *ctx);
	enum amana_err (*declarations_each)(struct store *s, store_declaration_fn fn, void *ctx);
	enum amana_err (*declaration_periods_each)(struct store *s, store_period_fn fn, void *ctx);
	enum amana_err (*chunks_each)(struct store *s, bool with_payload, int64_t from, int64_t to, store_chunk_fn fn,
				      void *ctx);

	enum amana_err (*account_insert)(struct store *s, const struct store_account *a);
	enum amana_err (*accounts_by_login)(struct store *s, int64_t bidx, store_account_fn fn, void *ctx);
	enum amana_err (*account_get)(struct store *s, int64_t id, store_account_fn fn, void *ctx);
	enum amana_err (*account_set_state)(struct store *s, int64_t id, const struct store_account_state *st);
	enum amana_err (*session_insert)(struct store *s, const struct store_session *se);
	enum amana_err (*session_get)(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_BYTES],
				      struct store_session *out);
	enum amana_err (*session_revoke)(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_BYTES]);

	enum amana_err (*serve_reads)(struct store *s);

	enum amana_err (*mark_put)(struct store *s, const uint8_t key[STORE_MARK_BYTES], int64_t kinds);
	enum amana_err (*mark_get)(struct store *s, const uint8_t key[STORE_MARK_BYTES], int64_t *kinds);
	enum amana_err (*marks_get_many)(struct store *s, const uint8_t *keys, size_t n, int64_t *kinds);
	enum amana_err (*alert_insert)(struct store *s, const struct store_alert *a);
	enum amana_err (*alerts_after)(struct store *s, int64_t after_id, int64_t limit, store_alert_fn fn, void *ctx);
};

/* Every backend's handle starts with this. */
struct store {
	const struct store_ops *ops;
};

/* Open (create = 1: create, refuse if it exists) the SQLite registry
 * database at path and run migrations. */
enum amana_err store_sqlite_open(const char *path, int create, struct store **out) AMANA_MUST_CHECK;
/* Open the PostgreSQL registry database named by a libpq connection string
 * or URI. create = 1 makes the schema in an existing, empty database
 * (AMANA_ERR_EXISTS if it has one); create = 0 needs the schema
 * (AMANA_ERR_NOTFOUND without it, or without the database). */
enum amana_err store_pg_open(const char *conninfo, int create, struct store **out) AMANA_MUST_CHECK;
/* Least privilege on PostgreSQL: s is the owner's connection (the schema
 * was made with it); the role app_conninfo logs in as gets SELECT and
 * INSERT, UPDATE only where rows change by design, nothing else. Its name
 * goes to role. AMANA_ERR_USAGE if that role is the owner. */
enum amana_err store_pg_grant_app(struct store *s, const char *app_conninfo, char *role,
				  size_t role_cap) AMANA_MUST_CHECK;
/* A location: a postgresql:// or postgres:// URI, or a SQLite file path. */
enum amana_err store_open(const char *location, int create, struct store **out) AMANA_MUST_CHECK;
/* Whether a location names a PostgreSQL database. */
int store_is_pg(const char *location);
/* Bring the schema of the existing store at location up to this build's
 * (every open does so too, if it may): *from is the version found, *to the
 * version now. On PostgreSQL only a role that owns the tables may change
 * them; the application role opening an older schema gets AMANA_ERR_DENIED,
 * from store_open as from here, with nothing changed. */
enum amana_err store_migrate(const char *location, long long *from, long long *to) AMANA_MUST_CHECK;

/*
 * Transactions. Outside one, every write is its own transaction. Inside one
 * (store_begin .. store_commit), a write that fails leaves the transaction
 * usable, as in SQLite, with one exception: a backend may hold back
 * person_insert, declaration_insert, chunk_insert, employment_open and
 * employment_close and send them together (PostgreSQL does: a month of
 * files is then a few round trips per batch). A held-back write that is
 * refused is reported by a later call that goes to the server (a read of
 * its table sends it first), at the latest by store_commit, which then
 * keeps nothing. After
 * that, only store_rollback_savepoint (to a savepoint taken before the
 * write) or store_rollback go on. Savepoints do not nest: one at a time, released or
 * rolled back before the next.
 */

/* Thin wrappers over the ops, so callers never see the backend. */
static inline void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}
#define STORE_CALL(name, ...) ((s)->ops->name(s, ##__VA_ARGS__))
AMANA_MUST_CHECK static inline enum amana_err store_begin(struct store *s)
{
	return STORE_CALL(begin);
}
AMANA_MUST_CHECK static inline enum amana_err store_commit(struct store *s)
{
	return STORE_CALL(commit);
}
/* Rollbacks run on error paths, where their own failure changes nothing the
 * caller can do (SQLite rolls back on close anyway): not must-check. */
static inline enum amana_err store_rollback(struct store *s)
{
	return STORE_CALL(rollback);
}
AMANA_MUST_CHECK static inline enum amana_err store_savepoint(struct store *s)
{
	return STORE_CALL(savepoint);
}
AMANA_MUST_CHECK static inline enum amana_err store_release(struct store *s)
{
	return STORE_CALL(release);
}
static inline enum amana_err store_rollback_savepoint(struct store *s)
{
	return STORE_CALL(rollback_savepoint);
}
AMANA_MUST_CHECK static inline enum amana_err store_meta_get(struct store *s, const char *key, uint8_t *out, size_t cap,
							     size_t *len)
{
	return STORE_CALL(meta_get, key, out, cap, len);
}
AMANA_MUST_CHECK static inline enum amana_err store_meta_put(struct store *s, const char *key, const uint8_t *val,
							     size_t len)
{
	return STORE_CALL(meta_put, key, val, len);
}
AMANA_MUST_CHECK static inline enum amana_err store_next_ids(struct store *s, const char *seq, int64_t count,
							     int64_t *first)
{
	return STORE_CALL(next_ids, seq, count, first);
}
AMANA_MUST_CHECK static inline enum amana_err store_keyring_put(struct store *s, int purpose, uint32_t version,
								const struct store_blob *w)
{
	return STORE_CALL(keyring_put, purpose, version, w);
}
AMANA_MUST_CHECK static inline enum amana_err store_keyring_each(struct store *s, store_keyring_fn fn, void *ctx)
{
	return STORE_CALL(keyring_each, fn, ctx);
}
AMANA_MUST_CHECK static inline enum amana_err store_employer_insert(struct store *s, const struct store_employer *e)
{
	return STORE_CALL(employer_insert, e);
}
AMANA_MUST_CHECK static inline enum amana_err store_employer_by_bidx(struct store *s, int64_t bidx,
								     store_employer_fn fn, void *ctx)
{
	return STORE_CALL(employer_by_bidx, bidx, fn, ctx);
}
AMANA_MUST_CHECK static inline enum amana_err store_employer_get(struct store *s, int64_t id, store_employer_fn fn,
								 void *ctx)
{
	return STORE_CALL(employer_get, id, fn, ctx);
}
AMANA_MUST_CHECK static inline enum amana_err store_person_insert(struct store *s, const struct store_person *p)
{
	return STORE_CALL(person_insert, p);
}
AMANA_MUST_CHECK static inline enum amana_err store_person_by_reg(struct store *s, int64_t bidx, store_person_fn fn,
								  void *ctx)
{
	return STORE_CALL(person_by_reg, bidx, fn, ctx);
}
/* store_person_by_reg for up to STORE_MANY_MAX distinct blind indexes at
 * once (one round trip on PostgreSQL): each key's rows together, by id, as
 * store_person_by_reg gives them; the keys in any order. AMANA_ERR_USAGE
 * for a key given twice or too many keys. */
AMANA_MUST_CHECK static inline enum amana_err store_persons_by_reg_many(struct store *s, const int64_t *bidx, size_t n,
									store_person_fn fn, void *ctx)
{
	return STORE_CALL(persons_by_reg_many, bidx, n, fn, ctx);
}
AMANA_MUST_CHECK static inline enum amana_err store_person_by_cin(struct store *s, int64_t bidx, store_person_fn fn,
								  void *ctx)
{
	return STORE_CALL(person_by_cin, bidx, fn, ctx);
}
AMANA_MUST_CHECK static inline enum amana_err store_person_get(struct store *s, int64_t id, store_person_fn fn,
							       void *ctx)
{
	return STORE_CALL(person_get, id, fn, ctx);
}
AMANA_MUST_CHECK static inline enum amana_err store_employment_open(struct store *s, int64_t person, int64_t employer,
								    uint32_t start)
{
	return STORE_CALL(employment_open, person, employer, start);
}
AMANA_MUST_CHECK static inline enum amana_err store_employment_close(struct store *s, int64_t person, int64_t employer,
								     uint32_t end)
{
	return STORE_CALL(employment_close, person, employer, end);
}
AMANA_MUST_CHECK static inline enum amana_err store_employment_of_person(struct store *s, int64_t person,
									 store_employment_fn fn, void *ctx)
{
	return STORE_CALL(employment_of_person, person, fn, ctx);
}
AMANA_MUST_CHECK static inline enum amana_err store_declaration_insert(struct store *s,
								       const struct store_declaration *d)
{
	return STORE_CALL(declaration_insert, d);
}
AMANA_MUST_CHECK static inline enum amana_err store_declarations_of(struct store *s, int64_t employer, uint32_t period,
								    store_declaration_fn fn, void *ctx)
{
	return STORE_CALL(declarations_of, employer, period, fn, ctx);
}
/* The employer's declarations for period and for the latest period before
 * it, in one call, newest first: period descending, then seq descending.
 * period 0 is a usage error. */
AMANA_MUST_CHECK static inline enum amana_err
store_declarations_recent(struct store *s, int64_t employer, uint32_t period, store_declaration_fn fn, void *ctx)
{
	return STORE_CALL(declarations_recent, employer, period, fn, ctx);
}
/* Reads for many at once, so that a server backend answers a batch of
 * files in one round trip: at most STORE_MANY_MAX keys, each given once
 * (AMANA_ERR_USAGE otherwise; n = 0 calls nothing). */
#define STORE_MANY_MAX 1024
/* store_declarations_recent for each of employers[0..n): each employer's
 * rows together and in the same order as store_declarations_recent gives
 * them; the employers in any order. */
AMANA_MUST_CHECK static inline enum amana_err store_declarations_recent_many(struct store *s, const int64_t *employers,
									     size_t n, uint32_t period,
									     store_declaration_fn fn, void *ctx)
{
	return STORE_CALL(declarations_recent_many, employers, n, period, fn, ctx);
}
/* Every employer, by id (for an import of many files to look them up once). */
AMANA_MUST_CHECK static inline enum amana_err store_employers_each(struct store *s, store_employer_fn fn, void *ctx)
{
	return STORE_CALL(employers_each, fn, ctx);
}
/* How many declarations the employer filed, and its latest period (0 if none). */
AMANA_MUST_CHECK static inline enum amana_err store_declaration_stats(struct store *s, int64_t employer, int64_t *count,
								      uint32_t *last_period)
{
	return STORE_CALL(declaration_stats, employer, count, last_period);
}
AMANA_MUST_CHECK static inline enum amana_err store_last_period_before(struct store *s, int64_t employer,
								       uint32_t period, uint32_t *out)
{
	return STORE_CALL(last_period_before, employer, period, out);
}
/* AMANA_ERR_USAGE for a chunk number or declaration id out of range,
 * AMANA_ERR_EXISTS for a (declaration, chunk) already written. The
 * declaration, of c->employer_id, may come later in the same transaction;
 * without it at commit, the transaction fails (AMANA_ERR_CORRUPT). */
AMANA_MUST_CHECK static inline enum amana_err store_chunk_insert(struct store *s, const struct store_chunk *c)
{
	return STORE_CALL(chunk_insert, c);
}
/* The chunks of one declaration of employer, in order (none if the
 * declaration is another employer's). */
AMANA_MUST_CHECK static inline enum amana_err store_chunks_of(struct store *s, int64_t employer, int64_t declaration,
							      store_chunk_fn fn, void *ctx)
{
	return STORE_CALL(chunks_of, employer, declaration, fn, ctx);
}
/* store_chunks_of for each of keys[0..n) (see STORE_MANY_MAX; a declaration
 * given twice is AMANA_ERR_USAGE): each declaration's chunks together and in
 * order; the declarations in any order. */
AMANA_MUST_CHECK static inline enum amana_err store_chunks_of_many(struct store *s, const struct store_decl_key *keys,
								   size_t n, store_chunk_fn fn, void *ctx)
{
	return STORE_CALL(chunks_of_many, keys, n, fn, ctx);
}
AMANA_MUST_CHECK static inline enum amana_err store_counts(struct store *s, struct store_counts *out)
{
	return STORE_CALL(counts, out);
}

/*
 * Full scans, for a batch over the whole registry (the monthly rights run):
 * tens of millions of rows, read in key order with bounded memory (a
 * server backend reads them by pages of keys). A callback may use the
 * store, but not start the same scan again; rows written during a scan may
 * or may not be seen.
 */
/* Every person, by id, each as store_person_get gives it. */
AMANA_MUST_CHECK static inline enum amana_err store_persons_each(struct store *s, store_person_fn fn, void *ctx)
{
	return STORE_CALL(persons_each, fn, ctx);
}
/* Every declaration of every employer, by id, each as
 * store_declarations_of gives it. */
AMANA_MUST_CHECK static inline enum amana_err store_declarations_each(struct store *s, store_declaration_fn fn,
								      void *ctx)
{
	return STORE_CALL(declarations_each, fn, ctx);
}
/* Every declaration's id, employer and period, in no given order: what a
 * scan needs to date lines, read from the smallest structure that holds it
 * (SQLite: the (employer, period, seq) index, a tenth of the table). */
AMANA_MUST_CHECK static inline enum amana_err store_declaration_periods_each(struct store *s, store_period_fn fn,
									     void *ctx)
{
	return STORE_CALL(declaration_periods_each, fn, ctx);
}
/* Every chunk of every declaration, by (declaration_id, chunk). Without
 * with_payload, payload_sealed is {NULL, 0} and the sealed payloads are not
 * read at all: a scan of who is named where reads the persons lists only.
 * Inside a transaction, chunks written ahead of their declaration may be
 * missed until it is written (PostgreSQL finds lines through it). */
AMANA_MUST_CHECK static inline enum amana_err store_chunks_each(struct store *s, bool with_payload, store_chunk_fn fn,
								void *ctx)
{
	return STORE_CALL(chunks_each, with_payload, INT64_MIN, INT64_MAX, fn, ctx);
}
/* The same, for the declarations with from <= id < to only: a scan split
 * between connections, each reading its part. */
AMANA_MUST_CHECK static inline enum amana_err
store_chunks_each_between(struct store *s, bool with_payload, int64_t from, int64_t to, store_chunk_fn fn, void *ctx)
{
	return STORE_CALL(chunks_each, with_payload, from, to, fn, ctx);
}

/* Accounts and sessions (amanad). A new account's state is all zero; an id
 * taken is AMANA_ERR_EXISTS. Logins are found by blind index: the caller
 * confirms candidates by opening login_sealed. */
AMANA_MUST_CHECK static inline enum amana_err store_account_insert(struct store *s, const struct store_account *a)
{
	return STORE_CALL(account_insert, a);
}
AMANA_MUST_CHECK static inline enum amana_err store_accounts_by_login(struct store *s, int64_t bidx,
								      store_account_fn fn, void *ctx)
{
	return STORE_CALL(accounts_by_login, bidx, fn, ctx);
}
AMANA_MUST_CHECK static inline enum amana_err store_account_get(struct store *s, int64_t id, store_account_fn fn,
								void *ctx)
{
	return STORE_CALL(account_get, id, fn, ctx);
}
/* Replace an account's state; AMANA_ERR_NOTFOUND without that account. */
AMANA_MUST_CHECK static inline enum amana_err store_account_set_state(struct store *s, int64_t id,
								      const struct store_account_state *st)
{
	return STORE_CALL(account_set_state, id, st);
}
/* A token hash taken is AMANA_ERR_EXISTS; an unknown account
 * AMANA_ERR_CORRUPT (a missing parent). */
AMANA_MUST_CHECK static inline enum amana_err store_session_insert(struct store *s, const struct store_session *se)
{
	return STORE_CALL(session_insert, se);
}
/* AMANA_ERR_NOTFOUND for an unknown hash. Expiry is the caller's to judge. */
AMANA_MUST_CHECK static inline enum amana_err
store_session_get(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_BYTES], struct store_session *out)
{
	return STORE_CALL(session_get, hash, out);
}
/* Revoked for good; AMANA_ERR_NOTFOUND for an unknown hash. */
AMANA_MUST_CHECK static inline enum amana_err store_session_revoke(struct store *s,
								   const uint8_t hash[STORE_TOKEN_HASH_BYTES])
{
	return STORE_CALL(session_revoke, hash);
}
/* Tune a connection that will serve mostly random reads (a server
 * worker's). SQLite maps the database file (reads without a system call
 * each; an I/O error on it then stops the process, which fails closed);
 * PostgreSQL needs nothing. */
AMANA_MUST_CHECK static inline enum amana_err store_serve_reads(struct store *s)
{
	return STORE_CALL(serve_reads);
}
/* Set a subject's marks (kinds: bits; 0 clears them). */
AMANA_MUST_CHECK static inline enum amana_err store_mark_put(struct store *s, const uint8_t key[STORE_MARK_BYTES],
							     int64_t kinds)
{
	return STORE_CALL(mark_put, key, kinds);
}
/* A subject's marks: *kinds = 0 when it has none. */
AMANA_MUST_CHECK static inline enum amana_err store_mark_get(struct store *s, const uint8_t key[STORE_MARK_BYTES],
							     int64_t *kinds)
{
	return STORE_CALL(mark_get, key, kinds);
}
/* The marks of n subjects at once (a list's persons), one statement on a
 * server: keys holds n keys of STORE_MARK_BYTES each, one after another
 * (repeats allowed), kinds[i] gets the i-th key's marks (0: none). At most
 * STORE_MANY_MAX keys. */
AMANA_MUST_CHECK static inline enum amana_err store_marks_get_many(struct store *s, const uint8_t *keys, size_t n,
								   int64_t *kinds)
{
	if (n > STORE_MANY_MAX || (n && (!keys || !kinds)))
		return AMANA_ERR_USAGE;
	return n ? STORE_CALL(marks_get_many, keys, n, kinds) : AMANA_OK;
}
/* AMANA_ERR_EXISTS if the id is taken; principal and reason at most 255
 * bytes. */
AMANA_MUST_CHECK static inline enum amana_err store_alert_insert(struct store *s, const struct store_alert *a)
{
	return STORE_CALL(alert_insert, a);
}
/* Alerts with id > after_id, in id order, at most limit (1-10,000). */
AMANA_MUST_CHECK static inline enum amana_err store_alerts_after(struct store *s, int64_t after_id, int64_t limit,
								 store_alert_fn fn, void *ctx)
{
	return STORE_CALL(alerts_after, after_id, limit, fn, ctx);
}
#undef STORE_CALL

#endif
