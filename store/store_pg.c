/*
 * store_pg.c - the PostgreSQL backend of store.h, through libpq.
 *
 * The same tables as the SQLite backend, every integer a bigint, every
 * sealed value a bytea. Every statement is prepared once per connection
 * (PQprepare) and sent with binary parameters and results: no SQL is ever
 * built from a value, and no value is ever printed into text.
 *
 * Semantics kept equal to SQLite's (the conformance suite runs on both):
 * - one writer at a time: begin takes a transaction-level advisory lock, as
 *   SQLite's BEGIN IMMEDIATE takes the write lock;
 * - a failed statement inside a transaction does not doom the transaction:
 *   writes in a transaction run under a statement savepoint, rolled back
 *   alone on failure; except persons, declarations, their lines and
 *   employment changes, which a transaction holds back and sends in bulk
 *   (COPY, one statement per run of changes), as store.h allows;
 * - unique and check violations are AMANA_ERR_EXISTS, a missing parent
 *   (foreign key) AMANA_ERR_CORRUPT, a lost connection AMANA_ERR_IO.
 *
 * Every table carries the key it would be distributed on in a sharded
 * deployment (docs/SCALING.md): declarations and their lines the employer
 * (lines through their declaration), employments the person.
 */
#include "internal.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Schema versions: index i brings the schema from version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE schema_version(version bigint NOT NULL);"
	"INSERT INTO schema_version VALUES (0);"
	"CREATE TABLE meta(key text PRIMARY KEY, value bytea NOT NULL);"
	"CREATE TABLE sequences(name text PRIMARY KEY, next bigint NOT NULL);"
	"CREATE TABLE keyring(purpose bigint NOT NULL, version bigint NOT NULL, wrapped bytea NOT NULL,"
	"  PRIMARY KEY(purpose, version));"
	"CREATE TABLE employers(id bigint PRIMARY KEY, aff_bidx bigint NOT NULL, aff_sealed bytea NOT NULL,"
	"  profile_sealed bytea NOT NULL, created_at bigint NOT NULL);"
	"CREATE INDEX employers_aff ON employers(aff_bidx);"
	"CREATE TABLE persons(id bigint PRIMARY KEY, reg_bidx bigint NOT NULL, reg_sealed bytea NOT NULL,"
	"  cin_bidx bigint, cin_sealed bytea, name_bidx bigint NOT NULL, identity_sealed bytea NOT NULL,"
	"  created_at bigint NOT NULL);"
	"CREATE INDEX persons_reg ON persons(reg_bidx);"
	"CREATE INDEX persons_cin ON persons(cin_bidx) WHERE cin_bidx IS NOT NULL;"
	"CREATE INDEX persons_name ON persons(name_bidx);"
	"CREATE TABLE employments(id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  person_id bigint NOT NULL REFERENCES persons(id),"
	"  employer_id bigint NOT NULL REFERENCES employers(id),"
	"  start_period bigint NOT NULL, end_period bigint);"
	"CREATE INDEX employments_person ON employments(person_id, employer_id);"
	"CREATE TABLE declarations(id bigint PRIMARY KEY,"
	"  employer_id bigint NOT NULL REFERENCES employers(id), period bigint NOT NULL,"
	"  seq bigint NOT NULL, imported_at bigint NOT NULL, line_count bigint NOT NULL,"
	"  digest bytea NOT NULL, totals_sealed bytea NOT NULL, UNIQUE(employer_id, period, seq));"
	"CREATE TABLE declaration_lines(declaration_id bigint NOT NULL"
	"  REFERENCES declarations(id) DEFERRABLE INITIALLY DEFERRED,"
	"  chunk bigint NOT NULL, line_count bigint NOT NULL, persons bytea NOT NULL,"
	"  payload_sealed bytea NOT NULL, PRIMARY KEY(declaration_id, chunk));",
	/* 2: lines carry their declaration's employer, the key they would be
	 * distributed on with it (docs/SCALING.md), held to the declaration's by
	 * the foreign key, and first in their primary key. */
	"ALTER TABLE declarations ADD CONSTRAINT declarations_employer_id UNIQUE (employer_id, id);"
	"ALTER TABLE declaration_lines ADD COLUMN employer_id bigint;"
	"UPDATE declaration_lines l SET employer_id = d.employer_id FROM declarations d"
	"  WHERE d.id = l.declaration_id;"
	"ALTER TABLE declaration_lines ALTER COLUMN employer_id SET NOT NULL;"
	"ALTER TABLE declaration_lines DROP CONSTRAINT declaration_lines_declaration_id_fkey;"
	"ALTER TABLE declaration_lines ADD CONSTRAINT declaration_lines_declaration_fkey"
	"  FOREIGN KEY (employer_id, declaration_id) REFERENCES declarations(employer_id, id)"
	"  DEFERRABLE INITIALLY DEFERRED;"
	"ALTER TABLE declaration_lines DROP CONSTRAINT declaration_lines_pkey;"
	"ALTER TABLE declaration_lines ADD PRIMARY KEY (employer_id, declaration_id, chunk);",
	/* 3: the references to employers and persons are checked once per
	 * statement, over the rows it wrote, instead of by a foreign key per
	 * row. A foreign key locks each referenced row (FOR KEY SHARE), which
	 * writes to the employer's or person's row and to the WAL: a fifth of
	 * a month's import. The lock guards against deleting the referenced
	 * row, and no row of employers or persons is ever deleted: no role is
	 * granted it, and these triggers refuse it to the owner too. On Citus,
	 * a foreign key from a table distributed by the person to one
	 * distributed by the employer could not be declared at all. */
	"ALTER TABLE employments DROP CONSTRAINT employments_person_id_fkey,"
	"  DROP CONSTRAINT employments_employer_id_fkey;"
	"ALTER TABLE declarations DROP CONSTRAINT declarations_employer_id_fkey;"
	"CREATE FUNCTION amana_declarations_refer() RETURNS trigger LANGUAGE plpgsql"
	"  SET search_path = pg_catalog, public AS $$ BEGIN"
	"  IF EXISTS (SELECT 1 FROM written w WHERE NOT EXISTS"
	"      (SELECT 1 FROM public.employers e WHERE e.id = w.employer_id)) THEN"
	"    RAISE EXCEPTION 'a declaration names an employer not in the registry'"
	"      USING ERRCODE = 'foreign_key_violation';"
	"  END IF;"
	"  RETURN NULL; END $$;"
	"CREATE FUNCTION amana_employments_refer() RETURNS trigger LANGUAGE plpgsql"
	"  SET search_path = pg_catalog, public AS $$ BEGIN"
	"  IF EXISTS (SELECT 1 FROM written w WHERE NOT EXISTS"
	"      (SELECT 1 FROM public.employers e WHERE e.id = w.employer_id))"
	"    OR EXISTS (SELECT 1 FROM written w WHERE NOT EXISTS"
	"      (SELECT 1 FROM public.persons p WHERE p.id = w.person_id)) THEN"
	"    RAISE EXCEPTION 'an employment names a person or employer not in the registry'"
	"      USING ERRCODE = 'foreign_key_violation';"
	"  END IF;"
	"  RETURN NULL; END $$;"
	"CREATE FUNCTION amana_never_removed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	"  RAISE EXCEPTION 'rows of % are never removed: declarations and employments refer to them',"
	"    TG_TABLE_NAME USING ERRCODE = 'restrict_violation';"
	"  END $$;"
	"CREATE TRIGGER declarations_refer AFTER INSERT ON declarations REFERENCING NEW TABLE AS written"
	"  FOR EACH STATEMENT EXECUTE FUNCTION amana_declarations_refer();"
	"CREATE TRIGGER employments_refer_insert AFTER INSERT ON employments REFERENCING NEW TABLE AS written"
	"  FOR EACH STATEMENT EXECUTE FUNCTION amana_employments_refer();"
	"CREATE TRIGGER employments_refer_update AFTER UPDATE ON employments REFERENCING NEW TABLE AS written"
	"  FOR EACH STATEMENT EXECUTE FUNCTION amana_employments_refer();"
	"CREATE TRIGGER employers_kept BEFORE DELETE OR TRUNCATE ON employers"
	"  FOR EACH STATEMENT EXECUTE FUNCTION amana_never_removed();"
	"CREATE TRIGGER persons_kept BEFORE DELETE OR TRUNCATE ON persons"
	"  FOR EACH STATEMENT EXECUTE FUNCTION amana_never_removed();",
	/* 4: the accounts and sessions of amanad. The application role may
	 * change only an account's login state and revoke a session: the
	 * roles granted the registry's tables before get the same. */
	"CREATE TABLE accounts(id bigint PRIMARY KEY, login_bidx bigint NOT NULL, login_sealed bytea NOT NULL,"
	"  role bigint NOT NULL, secrets_sealed bytea NOT NULL, created_at bigint NOT NULL,"
	"  failures bigint NOT NULL DEFAULT 0, locked_until bigint NOT NULL DEFAULT 0,"
	"  suspended bigint NOT NULL DEFAULT 0, totp_step bigint NOT NULL DEFAULT 0);"
	"CREATE INDEX accounts_login ON accounts(login_bidx);"
	"CREATE TABLE sessions(token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),"
	"  account_id bigint NOT NULL REFERENCES accounts(id), expires_at bigint NOT NULL,"
	"  revoked bigint NOT NULL DEFAULT 0);"
	"DO $grants$ DECLARE r record; BEGIN"
	"  FOR r IN SELECT DISTINCT grantee FROM information_schema.role_table_grants"
	"      WHERE table_schema = 'public' AND table_name = 'employers' AND privilege_type = 'INSERT'"
	"      AND grantee <> current_user LOOP"
	"    EXECUTE format('GRANT SELECT, INSERT ON accounts, sessions TO %I', r.grantee);"
	"    EXECUTE format('GRANT UPDATE (failures, locked_until, suspended, totp_step) ON accounts TO %I',"
	"      r.grantee);"
	"    EXECUTE format('GRANT UPDATE (revoked) ON sessions TO %I', r.grantee);"
	"  END LOOP; END $grants$;",
	/* 5: marks (sensitive, bait) under keyed subject hashes, and alerts.
	 * Alerts are kept: the application role may add and read them only. */
	"CREATE TABLE marks(mark bytea PRIMARY KEY CHECK (length(mark) = 32), kinds bigint NOT NULL);"
	"CREATE TABLE alerts(id bigint PRIMARY KEY, at_ms bigint NOT NULL, account_id bigint NOT NULL,"
	"  principal text NOT NULL CHECK (length(principal) <= 255), kinds bigint NOT NULL,"
	"  subject_kind bigint NOT NULL, subject_id bigint NOT NULL,"
	"  reason text NOT NULL CHECK (length(reason) <= 255));"
	"DO $grants$ DECLARE r record; BEGIN"
	"  FOR r IN SELECT DISTINCT grantee FROM information_schema.role_table_grants"
	"      WHERE table_schema = 'public' AND table_name = 'employers' AND privilege_type = 'INSERT'"
	"      AND grantee <> current_user LOOP"
	"    EXECUTE format('GRANT SELECT, INSERT ON marks, alerts TO %I', r.grantee);"
	"    EXECUTE format('GRANT UPDATE (kinds) ON marks TO %I', r.grantee);"
	"  END LOOP; END $grants$;",
	/* 6: an employment's person and employer never change (an update sets
	 * its end, nothing else), so the statement check of schema 3 over every
	 * updated row, the only check PostgreSQL allows with the rows written,
	 * becomes a refusal of any change to them, row by row, that runs only
	 * when an UPDATE names those columns. Closing a month's employments no
	 * longer looks up their persons and employers again. */
	"DROP TRIGGER employments_refer_update ON employments;"
	"CREATE FUNCTION amana_references_kept() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	"  RAISE EXCEPTION 'the person and employer of a row of % never change', TG_TABLE_NAME"
	"    USING ERRCODE = 'restrict_violation';"
	"  END $$;"
	"CREATE TRIGGER employments_references_kept BEFORE UPDATE OF person_id, employer_id ON employments"
	"  FOR EACH ROW WHEN (OLD.person_id IS DISTINCT FROM NEW.person_id"
	"    OR OLD.employer_id IS DISTINCT FROM NEW.employer_id)"
	"  EXECUTE FUNCTION amana_references_kept();",
	/* 7: a declaration keeps, sealed, who its lines name and whether they
	 * left (its roster), written at import with it: the next period's
	 * import checks its pre-filled list against that, one value per
	 * declaration, instead of opening every chunk of the earlier lines.
	 * Declarations imported before have none (NULL): their lines say. */
	"ALTER TABLE declarations ADD COLUMN roster_sealed bytea;",
	/* 8: a line's declaration is checked once per transaction, by the store
	 * at commit, over the lines the transaction wrote (lines_refer below),
	 * instead of by a deferred foreign key. The key checked each line at
	 * commit, one by one while the import waited, with a row lock on its
	 * declaration (FOR KEY SHARE) that writes to the declaration's row and
	 * to the WAL, and needed a unique index on (employer_id, id) of its
	 * own: a sixth of a month's import. The statement check of schema 3
	 * cannot do it: lines may be written before their declaration within a
	 * transaction (store.h). A line whose declaration never comes is still
	 * refused at commit, with the transaction. What the key also held, that
	 * a declaration with lines is never removed nor moved, these triggers
	 * hold for every declaration and for the owner too; no role is granted
	 * to delete or update either table. */
	"ALTER TABLE declaration_lines DROP CONSTRAINT declaration_lines_declaration_fkey;"
	"ALTER TABLE declarations DROP CONSTRAINT declarations_employer_id;"
	"CREATE FUNCTION amana_declarations_kept() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	"  RAISE EXCEPTION 'declarations are never removed: their lines and careers refer to them'"
	"    USING ERRCODE = 'restrict_violation';"
	"  END $$;"
	"CREATE FUNCTION amana_keys_kept() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	"  RAISE EXCEPTION 'the keys of a row of % never change', TG_TABLE_NAME"
	"    USING ERRCODE = 'restrict_violation';"
	"  END $$;"
	"CREATE TRIGGER declarations_kept BEFORE DELETE OR TRUNCATE ON declarations"
	"  FOR EACH STATEMENT EXECUTE FUNCTION amana_declarations_kept();"
	"CREATE TRIGGER declarations_keys_kept BEFORE UPDATE OF id, employer_id ON declarations"
	"  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.employer_id IS DISTINCT FROM NEW.employer_id)"
	"  EXECUTE FUNCTION amana_keys_kept();"
	"CREATE TRIGGER declaration_lines_keys_kept BEFORE UPDATE OF employer_id, declaration_id"
	"  ON declaration_lines FOR EACH ROW WHEN (OLD.employer_id IS DISTINCT FROM NEW.employer_id"
	"    OR OLD.declaration_id IS DISTINCT FROM NEW.declaration_id)"
	"  EXECUTE FUNCTION amana_keys_kept();",
	/* 9: an employment's pages keep a tenth free, so that closing it (the
	 * one change it ever gets: its end) writes the new row version on the
	 * same page, a HOT update, with no new entry in either index. Closing a
	 * month's employments wrote half as much WAL that way, and took 974 ms
	 * instead of 1,580 (docs/BENCHMARKS.md). It holds for pages written
	 * from now on; VACUUM FULL employments, as the owner and with the table
	 * locked meanwhile, rewrites those written before. */
	"ALTER TABLE employments SET (fillfactor = 90);",
};
#define MIGRATION_COUNT ((long long)(sizeof(migrations) / sizeof(migrations[0])))

/* Rows in a page of the full scans (persons_each, declarations_each,
 * chunks_each), which a statement's LIMIT says too; chunks with their
 * payload are up to ~16 KiB each, so fewer of them. */
#define SCAN_PAGE 10000
#define SCAN_PAGE_PAYLOAD 2000
#define STR_(x) #x
#define STR(x) STR_(x)

/* The advisory lock every writing transaction holds (one writer at a time). */
#define WRITER_LOCK "727378"

enum pq_id {
	P_META_GET,
	P_META_PUT,
	P_SEQ_INIT,
	P_SEQ_TAKE,
	P_SEQ_SET,
	P_KEY_PUT,
	P_KEY_EACH,
	P_EMP_INSERT,
	P_EMP_BY_BIDX,
	P_EMP_GET,
	P_EMP_PAGE,
	P_PER_INSERT,
	P_PER_BY_REG,
	P_PER_BY_CIN,
	P_PER_BY_REG_MANY,
	P_PER_GET,
	P_JOB_OPEN,
	P_JOB_CLOSE,
	P_JOB_OF_PERSON,
	P_JOB_OPEN_MANY,
	P_JOB_CLOSE_MANY,
	P_DECL_INSERT,
	P_DECL_OF,
	P_DECL_RECENT,
	P_DECL_RECENT_MANY,
	P_DECL_RECENT_RANGE,
	P_DECL_STATS,
	P_DECL_LAST_BEFORE,
	P_LINE_INSERT,
	P_LINES_OF,
	P_LINES_OF_MANY,
	P_LINES_REFER,
	P_COUNTS,
	P_ACC_INSERT,
	P_ACC_BY_LOGIN,
	P_ACC_GET,
	P_ACC_STATE,
	P_SES_INSERT,
	P_SES_GET,
	P_SES_REVOKE,
	P_MARK_PUT,
	P_MARK_GET,
	P_MARK_GET_MANY,
	P_ALERT_INSERT,
	P_ALERTS_AFTER,
	P_PER_PAGE,
	P_DECL_PAGE,
	P_DECL_PERIODS_PAGE,
	P_LINES_PAGE,
	P_LINES_PERSONS_PAGE,
	P_COUNT
};

static const struct {
	const char *sql;
	int nparams;
	bool writes;
	/* reads employments or everything: held-back writes are sent first (the
	 * reads of declarations and lines send them only when they are of the
	 * employers read: flush_for) */
	bool reads_deferred;
} pq[P_COUNT] = {
	[P_META_GET] = { "SELECT value FROM meta WHERE key = $1", 1, false, false },
	[P_META_PUT] = { "INSERT INTO meta(key, value) VALUES($1, $2)"
			 " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
			 2, true, false },
	[P_SEQ_INIT] = { "INSERT INTO sequences(name, next) VALUES($1, 1) ON CONFLICT DO NOTHING", 1, true, false },
	[P_SEQ_TAKE] = { "UPDATE sequences SET next = next + $2 WHERE name = $1 RETURNING next - $2", 2, true, false },
	[P_SEQ_SET] = { "UPDATE sequences SET next = $2 WHERE name = $1", 2, true, false },
	[P_KEY_PUT] = { "INSERT INTO keyring(purpose, version, wrapped) VALUES($1, $2, $3)", 3, true, false },
	[P_KEY_EACH] = { "SELECT purpose, version, wrapped FROM keyring ORDER BY purpose, version", 0, false, false },
	[P_EMP_INSERT] = { "INSERT INTO employers(id, aff_bidx, aff_sealed, profile_sealed, created_at)"
			   " VALUES($1, $2, $3, $4, $5)",
			   5, true, false },
	[P_EMP_BY_BIDX] = { "SELECT id, aff_bidx, aff_sealed, profile_sealed, created_at FROM employers"
			    " WHERE aff_bidx = $1 ORDER BY id",
			    1, false, false },
	[P_EMP_GET] = { "SELECT id, aff_bidx, aff_sealed, profile_sealed, created_at FROM employers WHERE id = $1", 1,
			false, false },
	/* employers_each reads by pages of ids: bounded memory, and the
	 * callback may query between pages */
	[P_EMP_PAGE] = { "SELECT id, aff_bidx, aff_sealed, profile_sealed, created_at FROM employers"
			 " WHERE id > $1 ORDER BY id LIMIT 10000",
			 1, false, false },
	[P_PER_INSERT] = { "INSERT INTO persons(id, reg_bidx, reg_sealed, cin_bidx, cin_sealed, name_bidx,"
			   " identity_sealed, created_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
			   8, true, false },
	[P_PER_BY_REG] = { "SELECT id, reg_bidx, reg_sealed, coalesce(cin_bidx, 0), coalesce(cin_sealed, ''::bytea),"
			   " name_bidx, identity_sealed, created_at FROM persons WHERE reg_bidx = $1 ORDER BY id",
			   1, false, false },
	[P_PER_BY_REG_MANY] = { "SELECT id, reg_bidx, reg_sealed, coalesce(cin_bidx, 0), coalesce(cin_sealed, "
				"''::bytea),"
				" name_bidx, identity_sealed, created_at FROM persons WHERE reg_bidx = "
				"ANY($1::bigint[])"
				" ORDER BY reg_bidx, id",
				1, false, false },
	[P_PER_BY_CIN] = { "SELECT id, reg_bidx, reg_sealed, coalesce(cin_bidx, 0), coalesce(cin_sealed, ''::bytea),"
			   " name_bidx, identity_sealed, created_at FROM persons WHERE cin_bidx = $1 ORDER BY id",
			   1, false, false },
	[P_PER_GET] = { "SELECT id, reg_bidx, reg_sealed, coalesce(cin_bidx, 0), coalesce(cin_sealed, ''::bytea),"
			" name_bidx, identity_sealed, created_at FROM persons WHERE id = $1",
			1, false, false },
	[P_JOB_OPEN] = { "INSERT INTO employments(person_id, employer_id, start_period) VALUES($1, $2, $3)", 3, true,
			 false },
	[P_JOB_CLOSE] = { "UPDATE employments SET end_period = $3"
			  " WHERE person_id = $1 AND employer_id = $2 AND end_period IS NULL",
			  3, true, false },
	[P_JOB_OF_PERSON] = { "SELECT id, person_id, employer_id, start_period, coalesce(end_period, 0)"
			      " FROM employments WHERE person_id = $1 ORDER BY start_period, id",
			      1, false, true },
	/* a run of deferred changes on distinct (person, employer) pairs: ids in
	 * the order of the calls, as single inserts would have them */
	[P_JOB_OPEN_MANY] = { "INSERT INTO employments(person_id, employer_id, start_period)"
			      " SELECT p, e, s FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])"
			      " WITH ORDINALITY AS u(p, e, s, o) ORDER BY o",
			      3, true, false },
	[P_JOB_CLOSE_MANY] = { "UPDATE employments j SET end_period = u.s"
			       " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(p, e, s)"
			       " WHERE j.person_id = u.p AND j.employer_id = u.e AND j.end_period IS NULL",
			       3, true, false },
	[P_DECL_INSERT] = { "INSERT INTO declarations(id, employer_id, period, seq, imported_at, line_count,"
			    " digest, totals_sealed, roster_sealed) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)",
			    9, true, false },
	[P_DECL_OF] = { "SELECT id, employer_id, period, seq, imported_at, line_count, digest, totals_sealed"
			" FROM declarations WHERE employer_id = $1 AND period = $2 ORDER BY seq",
			2, false, false },
	/* The period's declarations and the latest earlier period's, newest
	 * first: three descents of the (employer_id, period, seq) index, however
	 * many periods the employer declared before. (Asking for the two latest
	 * periods with a subquery read every earlier declaration of the
	 * employer, and ran the subquery again for each.) */
	[P_DECL_RECENT] = { "SELECT id, employer_id, period, seq, imported_at, line_count, digest, totals_sealed"
			    " FROM declarations WHERE employer_id = $1 AND period = $2"
			    " UNION ALL"
			    " SELECT id, employer_id, period, seq, imported_at, line_count, digest, totals_sealed"
			    " FROM declarations WHERE employer_id = $1 AND period = ("
			    "  SELECT max(period) FROM declarations WHERE employer_id = $1 AND period < $2)"
			    " ORDER BY period DESC, seq DESC",
			    2, false, false },
	/* The same for a list of employers, in one round trip, with their
	 * rosters (the import's read ahead, which alone needs them). */
	[P_DECL_RECENT_MANY] = { "SELECT d.id, d.employer_id, d.period, d.seq, d.imported_at, d.line_count, d.digest,"
				 " d.totals_sealed, d.roster_sealed FROM unnest($1::bigint[]) AS e(id) CROSS JOIN "
				 "LATERAL ("
				 "  SELECT * FROM declarations WHERE employer_id = e.id AND period = $2"
				 "  UNION ALL"
				 "  SELECT * FROM declarations WHERE employer_id = e.id AND period = ("
				 "   SELECT max(period) FROM declarations WHERE employer_id = e.id AND period < $2)) d"
				 " ORDER BY d.employer_id, d.period DESC, d.seq DESC",
				 2, false, false },
	/* A list of employers' declarations from period $3 to $2, with their
	 * rosters: one descent of the index per employer (the read ahead's
	 * common case, pg_declarations_recent_many). */
	[P_DECL_RECENT_RANGE] = { "SELECT id, employer_id, period, seq, imported_at, line_count, digest, totals_sealed,"
				  " roster_sealed FROM declarations"
				  " WHERE employer_id = ANY($1::bigint[]) AND period BETWEEN $3 AND $2"
				  " ORDER BY employer_id, period DESC, seq DESC",
				  3, false, false },
	[P_DECL_STATS] = { "SELECT count(*), coalesce(max(period), 0) FROM declarations WHERE employer_id = $1", 1,
			   false, false },
	[P_DECL_LAST_BEFORE] = { "SELECT max(period) FROM declarations WHERE employer_id = $1 AND period < $2", 2,
				 false, false },
	/* outside a transaction: the line's declaration must be there already
	 * (inside one, lines_refer checks at commit) */
	[P_LINE_INSERT] = { "INSERT INTO declaration_lines(employer_id, declaration_id, chunk, line_count, persons,"
			    " payload_sealed) SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS"
			    " (SELECT 1 FROM declarations d WHERE d.id = $2 AND d.employer_id = $1)",
			    6, true, false },
	[P_LINES_OF] = { "SELECT employer_id, declaration_id, chunk, line_count, persons, payload_sealed"
			 " FROM declaration_lines WHERE employer_id = $1 AND declaration_id = $2 ORDER BY chunk",
			 2, false, false },
	/* by (employer, declaration): on a sharded store, one query per shard */
	[P_LINES_OF_MANY] = { "SELECT employer_id, declaration_id, chunk, line_count, persons, payload_sealed"
			      " FROM declaration_lines WHERE (employer_id, declaration_id) IN ("
			      "  SELECT * FROM unnest($1::bigint[], $2::bigint[]))"
			      " ORDER BY declaration_id, chunk",
			      2, false, false },
	/* how many of these (employer, declaration) keys name no declaration */
	[P_LINES_REFER] = { "SELECT count(*) FROM unnest($1::bigint[], $2::bigint[]) AS u(e, d)"
			    " WHERE NOT EXISTS (SELECT 1 FROM declarations x WHERE x.id = u.d AND x.employer_id = u.e)",
			    2, false, false },
	[P_COUNTS] = { "SELECT (SELECT count(*) FROM employers), (SELECT count(*) FROM persons),"
		       " (SELECT count(*) FROM employments), (SELECT count(*) FROM declarations),"
		       " (SELECT coalesce(sum(line_count), 0)::bigint FROM declaration_lines)",
		       0, false, true },
	[P_ACC_INSERT] = { "INSERT INTO accounts(id, login_bidx, login_sealed, role, secrets_sealed, created_at)"
			   " VALUES($1, $2, $3, $4, $5, $6)",
			   6, true, false },
	[P_ACC_BY_LOGIN] = { "SELECT id, login_bidx, login_sealed, role, secrets_sealed, created_at, failures,"
			     " locked_until, suspended, totp_step FROM accounts WHERE login_bidx = $1 ORDER BY id",
			     1, false, false },
	[P_ACC_GET] = { "SELECT id, login_bidx, login_sealed, role, secrets_sealed, created_at, failures,"
			" locked_until, suspended, totp_step FROM accounts WHERE id = $1",
			1, false, false },
	[P_ACC_STATE] = { "UPDATE accounts SET failures = $2, locked_until = $3, suspended = $4, totp_step = $5"
			  " WHERE id = $1 RETURNING id",
			  5, true, false },
	[P_SES_INSERT] = { "INSERT INTO sessions(token_hash, account_id, expires_at) VALUES($1, $2, $3)", 3, true,
			   false },
	[P_SES_GET] = { "SELECT account_id, expires_at, revoked FROM sessions WHERE token_hash = $1", 1, false, false },
	[P_SES_REVOKE] = { "UPDATE sessions SET revoked = 1 WHERE token_hash = $1 RETURNING account_id", 1, true,
			   false },
	[P_MARK_PUT] = { "INSERT INTO marks(mark, kinds) VALUES($1, $2)"
			 " ON CONFLICT(mark) DO UPDATE SET kinds = excluded.kinds",
			 2, true, false },
	[P_MARK_GET] = { "SELECT kinds FROM marks WHERE mark = $1", 1, false, false },
	/* the keys as one bytea, 32 bytes each: the i-th key's row, if any */
	[P_MARK_GET_MANY] = { "SELECT g.i::bigint, m.kinds FROM generate_series(0, length($1::bytea) / 32 - 1) AS g(i)"
			      " JOIN marks m ON m.mark = substring($1::bytea FROM g.i * 32 + 1 FOR 32)",
			      1, false, false },
	[P_ALERT_INSERT] = { "INSERT INTO alerts(id, at_ms, account_id, principal, kinds, subject_kind, subject_id,"
			     " reason) VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
			     8, true, false },
	[P_ALERTS_AFTER] = { "SELECT id, at_ms, account_id, principal, kinds, subject_kind, subject_id, reason"
			     " FROM alerts WHERE id > $1 ORDER BY id LIMIT $2",
			     2, false, false },
	/* The full scans read by pages after the last key seen (keyset
	 * pagination, each page one walk of the primary key from there):
	 * bounded memory, and the callback may query between pages. They read
	 * every employer's rows, so what is held back is sent first. */
	[P_PER_PAGE] = { "SELECT id, reg_bidx, reg_sealed, coalesce(cin_bidx, 0), coalesce(cin_sealed, ''::bytea),"
			 " name_bidx, identity_sealed, created_at FROM persons"
			 " WHERE id > $1 ORDER BY id LIMIT " STR(SCAN_PAGE),
			 1, false, true },
	[P_DECL_PERIODS_PAGE] = { "SELECT id, employer_id, period FROM declarations WHERE id > $1 ORDER BY id"
				  " LIMIT " STR(SCAN_PAGE),
				  1, false, true },
	[P_DECL_PAGE] = { "SELECT id, employer_id, period, seq, imported_at, line_count, digest, totals_sealed"
			  " FROM declarations WHERE id > $1 ORDER BY id LIMIT " STR(SCAN_PAGE),
			  1, false, true },
	/* Lines are keyed (employer_id, declaration_id, chunk) and no index
	 * starts with the declaration: the declarations are walked by id, and
	 * each one's lines found by that key, in chunk order (LATERAL: a nested
	 * loop, whose order by id an incremental sort completes one
	 * declaration at a time, stopped at the limit). A plain join was
	 * planned as a hash join and a sort of every line after the key, at
	 * every page. Pages of 2,000 rows with the payload (up to ~16 KiB
	 * each), 10,000 without; without it, the payload (out of line, in the
	 * TOAST table) is never read. */
	[P_LINES_PAGE] = { "SELECT l.employer_id, l.declaration_id, l.chunk, l.line_count, l.persons,"
			   " l.payload_sealed FROM declarations d CROSS JOIN LATERAL ("
			   "  SELECT x.employer_id, x.declaration_id, x.chunk, x.line_count, x.persons,"
			   "  x.payload_sealed FROM declaration_lines x"
			   "  WHERE x.employer_id = d.employer_id AND x.declaration_id = d.id"
			   "  AND (d.id > $1 OR x.chunk > $2) ORDER BY x.chunk) l"
			   " WHERE d.id >= $1 AND d.id < $3 ORDER BY d.id, l.chunk LIMIT " STR(SCAN_PAGE_PAYLOAD),
			   3, false, true },
	[P_LINES_PERSONS_PAGE] = { "SELECT l.employer_id, l.declaration_id, l.chunk, l.line_count, l.persons"
				   " FROM declarations d CROSS JOIN LATERAL ("
				   "  SELECT x.employer_id, x.declaration_id, x.chunk, x.line_count, x.persons"
				   "  FROM declaration_lines x"
				   "  WHERE x.employer_id = d.employer_id AND x.declaration_id = d.id"
				   "  AND (d.id > $1 OR x.chunk > $2) ORDER BY x.chunk) l"
				   " WHERE d.id >= $1 AND d.id < $3 ORDER BY d.id, l.chunk LIMIT " STR(SCAN_PAGE),
				   3, false, true },
};

/* Writes inside a transaction that nothing reads back at once wait here
 * and go to the server together (flush_pending): declarations and their
 * lines in COPY's binary format, employment changes as one statement per
 * run of changes on distinct (person, employer) pairs. A month of files is
 * then a few round trips per batch of files instead of one per write. They
 * are sent before a read that could see them, when a buffer is full, at the
 * end of a file once enough lines wait, and at commit; a write refused then
 * fails that call or the next, and the transaction (or the savepoint taken
 * before it) can only be rolled back (store.h). */
#define COPY_FLUSH_BYTES (8u << 20)
/* Past this many bytes of lines, a declaration outside a savepoint (a file
 * done) hands what waits to the sender thread: the server inserts it while
 * the next files are read, instead of while the import waits at the next
 * read or at commit. */
#define COPY_EARLY_BYTES (128u << 10)
#define JOBS_FLUSH 65536

struct copy_buf {
	uint8_t *data;
	size_t len, cap;
	size_t rows;
};

/* A set of int64 keys (the employers whose declarations or lines are held
 * back; the pairs of a run of employment changes). */
struct key_set {
	int64_t *key;
	uint8_t *used;
	size_t cap, n;
	bool all; /* not known (out of memory, or held-back writes back from a savepoint): any key */
};

struct job_queue {
	int64_t *person, *employer, *period;
	uint8_t *open;
	size_t n, cap;
};

/* Ids a transaction reserved: taken from memory, and the row written back
 * once, at commit. Updating the same sequences row once per id would make
 * PostgreSQL walk an ever longer chain of row versions within the
 * transaction (quadratic: registering 400,000 persons in one transaction
 * crawled). Rolled-back ids are given again, as the contract wants. */
#define ID_BLOCK 4096
#define ID_CACHE 8

struct id_cache {
	char name[32];
	int64_t next, end; /* free ids [next, end) of the reserved block */
};

/* (employer, declaration) pairs, in the order written. */
struct key_pairs {
	int64_t (*v)[2];
	size_t n, cap;
};

struct pg_store {
	struct store base;
	PGconn *conn;
	char names[P_COUNT][8]; /* of the prepared statements, made once at open */
	bool in_tx;
	struct id_cache ids[ID_CACHE];
	unsigned nids;
	struct id_cache saved_ids[ID_CACHE]; /* at the savepoint */
	unsigned saved_nids;
	struct copy_buf persons, decls, lines;
	struct job_queue jobs;
	struct key_set pending_employers;
	/* The savepoint is taken on the server only when something must go
	 * there while it holds (SP_LAZY until then): a file that only adds
	 * held-back writes costs no round trip for its savepoint. */
	enum { SP_NONE, SP_LAZY, SP_SENT } sp;
	struct {
		size_t persons_len, persons_rows, decls_len, decls_rows, lines_len, lines_rows, jobs;
	} mark; /* held-back writes made before the savepoint, not yet sent */
	/* Those writes, kept when they were sent after the savepoint: a rollback
	 * to it undoes them on the server, and they wait again. */
	struct copy_buf replay_persons, replay_decls, replay_lines;
	struct job_queue replay_jobs;
	bool replay_held;
	/* The (employer, declaration) keys of the lines written in the
	 * transaction, and of its declarations: at commit every line's
	 * declaration is among these or already stored (lines_refer). The
	 * marks are their counts at the savepoint. */
	struct key_pairs line_keys, decl_keys;
	size_t line_keys_mark, decl_keys_mark;
	/* Held-back writes are sent by a thread of the connection's own, while
	 * the caller goes on; the connection is the caller's again, with the
	 * result, once the thread is done (drain, before the next command). */
	struct sender {
		bool started, busy, stop;
		enum amana_err err; /* of the writes sent, not yet reported */
		pthread_t thread;
		pthread_mutex_t lock;
		pthread_cond_t cond;
		struct copy_buf persons, decls, lines;
		struct job_queue jobs;
	} snd;
};

static struct pg_store *P(struct store *s)
{
	return (struct pg_store *)s;
}

/* ---- errors ---- */

static enum amana_err map_state(const char *state)
{
	if (!state)
		return AMANA_ERR_STORE;
	if (!strcmp(state, "23503"))
		return AMANA_ERR_CORRUPT; /* a missing parent is a broken invariant */
	if (!strncmp(state, "23", 2))
		return AMANA_ERR_EXISTS;
	if (!strncmp(state, "08", 2) || !strncmp(state, "53", 2) || !strncmp(state, "58", 2))
		return AMANA_ERR_IO;
	if (!strcmp(state, "3D000"))
		return AMANA_ERR_NOTFOUND; /* no such database */
	return AMANA_ERR_STORE;
}

static enum amana_err result_err(PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return AMANA_OK;
	if (!r)
		return AMANA_ERR_IO;
	return map_state(PQresultErrorField(r, PG_DIAG_SQLSTATE));
}

static enum amana_err exec_sql(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	enum amana_err err = result_err(r);
	PQclear(r);
	if (err && PQstatus(c) != CONNECTION_OK)
		err = AMANA_ERR_IO;
	return err;
}

/* ---- deferred writes: COPY buffers and the employment queue ---- */

static const uint8_t copy_header[19] = {
	'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0
};

static enum amana_err copy_reserve(struct copy_buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return AMANA_OK;
	size_t ncap = b->cap ? b->cap : 1u << 16;
	while (ncap < b->len + more)
		ncap *= 2;
	uint8_t *n = realloc(b->data, ncap);
	if (!n)
		return AMANA_ERR_NOMEM;
	b->data = n;
	b->cap = ncap;
	return AMANA_OK;
}

static void copy_put(struct copy_buf *b, const void *p, size_t n)
{
	if (n) /* an empty blob may come as NULL: memcpy's arguments must not be */
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void copy_be(struct copy_buf *b, uint64_t v, unsigned bytes)
{
	uint8_t t[8];
	for (unsigned i = 0; i < bytes; i++)
		t[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	copy_put(b, t, bytes);
}

static void copy_i64(struct copy_buf *b, int64_t v)
{
	copy_be(b, 8, 4);
	copy_be(b, (uint64_t)v, 8);
}

static void copy_null(struct copy_buf *b)
{
	copy_be(b, 0xffffffffu, 4); /* a field of length -1 */
}

static void copy_blob(struct copy_buf *b, const struct store_blob *v)
{
	copy_be(b, v->len, 4);
	if (v->len)
		copy_put(b, v->data, v->len);
}

/* Start a row of fields fields whose values take body bytes: the header
 * first if it is the buffer's first row; room for the row, its fields'
 * length words and the trailer is reserved. */
static enum amana_err copy_row(struct copy_buf *b, unsigned fields, size_t body)
{
	enum amana_err err = copy_reserve(b, sizeof(copy_header) + 2 + 4 * (size_t)fields + body + 2);
	if (err)
		return err;
	if (b->len == 0)
		copy_put(b, copy_header, sizeof(copy_header));
	copy_be(b, fields, 2);
	b->rows++;
	return AMANA_OK;
}

static void copy_clear(struct copy_buf *b)
{
	b->len = 0;
	b->rows = 0;
}

/* The connection back from the sender thread, once it sent what it was
 * given: the error of those writes, if any (reported once). */
static enum amana_err drain(struct pg_store *ps)
{
	struct sender *t = &ps->snd;
	if (!t->started)
		return AMANA_OK;
	pthread_mutex_lock(&t->lock);
	while (t->busy)
		pthread_cond_wait(&t->cond, &t->lock);
	enum amana_err err = t->err;
	t->err = AMANA_OK;
	pthread_mutex_unlock(&t->lock);
	return err;
}

/* A command, once the sender thread is done. */
static enum amana_err command(struct pg_store *ps, const char *sql)
{
	enum amana_err err = drain(ps);
	return err ? err : exec_sql(ps->conn, sql);
}

/* One COPY of buffer b into the table and columns of copy_sql, waiting for
 * the server's answer (on the sender thread). */
static enum amana_err copy_send(PGconn *c, struct copy_buf *b, const char *copy_sql)
{
	if (b->rows == 0)
		return AMANA_OK;
	copy_be(b, 0xffff, 2); /* the trailer: room was reserved with each row */
	PGresult *r = PQexec(c, copy_sql);
	bool in_copy = PQresultStatus(r) == PGRES_COPY_IN;
	enum amana_err err = in_copy ? AMANA_OK : result_err(r);
	PQclear(r);
	if (in_copy) {
		if (PQputCopyData(c, (const char *)b->data, (int)b->len) != 1)
			err = AMANA_ERR_IO;
		if (PQputCopyEnd(c, err ? "amana: not sent" : NULL) != 1 && !err)
			err = AMANA_ERR_IO;
		while ((r = PQgetResult(c))) {
			enum amana_err e2 = result_err(r);
			if (!err)
				err = e2;
			PQclear(r);
		}
	}
	copy_clear(b);
	return err;
}

static void jobs_clear(struct job_queue *q)
{
	q->n = 0;
}

static void jobs_free(struct job_queue *q)
{
	free(q->person);
	free(q->employer);
	free(q->period);
	free(q->open);
	memset(q, 0, sizeof(*q));
}

static enum amana_err jobs_push(struct job_queue *q, int64_t person, int64_t employer, uint32_t period, bool open)
{
	if (q->n == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 1024;
		int64_t *a = realloc(q->person, ncap * sizeof(*a));
		if (a)
			q->person = a;
		int64_t *b = a ? realloc(q->employer, ncap * sizeof(*b)) : NULL;
		if (b)
			q->employer = b;
		int64_t *c = b ? realloc(q->period, ncap * sizeof(*c)) : NULL;
		if (c)
			q->period = c;
		uint8_t *d = c ? realloc(q->open, ncap) : NULL;
		if (!d)
			return AMANA_ERR_NOMEM;
		q->open = d;
		q->cap = ncap;
	}
	q->person[q->n] = person;
	q->employer[q->n] = employer;
	q->period[q->n] = period;
	q->open[q->n] = open;
	q->n++;
	return AMANA_OK;
}

static bool pending(const struct pg_store *ps)
{
	return ps->persons.rows || ps->decls.rows || ps->lines.rows || ps->jobs.n;
}

static size_t set_slot(const struct key_set *e, int64_t k)
{
	size_t i = (size_t)(((uint64_t)k * 0x9e3779b97f4a7c15u) >> 20) & (e->cap - 1);
	while (e->used[i] && e->key[i] != k)
		i = (i + 1) & (e->cap - 1);
	return i;
}

static bool set_has(const struct key_set *e, int64_t k)
{
	return e->all || (e->cap && e->used[set_slot(e, k)]);
}

static void set_clear(struct key_set *e)
{
	if (e->cap)
		memset(e->used, 0, e->cap);
	e->n = 0;
	e->all = false;
}

static void set_free(struct key_set *e)
{
	free(e->key);
	free(e->used);
	memset(e, 0, sizeof(*e));
}

/* Without room to note k, the set stands for every key. */
static void set_add(struct key_set *e, int64_t k)
{
	if (e->all)
		return;
	if (2 * (e->n + 1) > e->cap) {
		struct key_set g = { .cap = e->cap ? 2 * e->cap : 256 };
		g.key = malloc(g.cap * sizeof(*g.key));
		g.used = calloc(g.cap, 1);
		if (!g.key || !g.used) {
			free(g.key);
			free(g.used);
			e->all = true;
			return;
		}
		for (size_t i = 0; i < e->cap; i++) {
			if (e->used[i]) {
				size_t j = set_slot(&g, e->key[i]);
				g.used[j] = 1;
				g.key[j] = e->key[i];
				g.n++;
			}
		}
		set_free(e);
		*e = g;
	}
	size_t i = set_slot(e, k);
	if (!e->used[i]) {
		e->used[i] = 1;
		e->key[i] = k;
		e->n++;
	}
}

static void pending_clear(struct pg_store *ps)
{
	copy_clear(&ps->persons);
	copy_clear(&ps->decls);
	copy_clear(&ps->lines);
	jobs_clear(&ps->jobs);
	set_clear(&ps->pending_employers);
}

/* A pair, unless it is the last one already (a declaration's chunks come
 * one after another). */
static enum amana_err pairs_add(struct key_pairs *k, int64_t employer, int64_t declaration)
{
	if (k->n && k->v[k->n - 1][0] == employer && k->v[k->n - 1][1] == declaration)
		return AMANA_OK;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 1024;
		void *v = realloc(k->v, cap * sizeof(*k->v));
		if (!v)
			return AMANA_ERR_NOMEM;
		k->v = v;
		k->cap = cap;
	}
	k->v[k->n][0] = employer;
	k->v[k->n][1] = declaration;
	k->n++;
	return AMANA_OK;
}

static void keys_clear(struct pg_store *ps)
{
	ps->line_keys.n = ps->decl_keys.n = 0;
	ps->line_keys_mark = ps->decl_keys_mark = 0;
}

/* ---- parameters: binary, except the bigint[] lists (text "{1,2,3}",
 * digits and commas only, made here from integers) ---- */

#define MAX_PARAMS 9

struct params {
	const char *v[MAX_PARAMS];
	int len[MAX_PARAMS];
	int fmt[MAX_PARAMS];
	uint8_t num[MAX_PARAMS][8];
	int n;
};

static void p_i64(struct params *p, int64_t x)
{
	uint64_t u = (uint64_t)x;
	for (int i = 0; i < 8; i++)
		p->num[p->n][i] = (uint8_t)(u >> (56 - 8 * i));
	p->v[p->n] = (const char *)p->num[p->n];
	p->len[p->n] = 8;
	p->fmt[p->n] = 1;
	p->n++;
}

static void p_blob(struct params *p, const struct store_blob *b)
{
	p->v[p->n] = b->data ? (const char *)b->data : "";
	p->len[p->n] = (int)b->len;
	p->fmt[p->n] = 1;
	p->n++;
}

/* A bigint[] in the text format ("{1,2,3}"): the statement casts it. */
static enum amana_err p_array(struct params *p, const int64_t *v, size_t n, char **buf)
{
	size_t cap = 3 + n * 21;
	char *b = malloc(cap), *w = b;
	if (!b)
		return AMANA_ERR_NOMEM;
	*w++ = '{';
	for (size_t i = 0; i < n; i++)
		w += snprintf(w, cap - (size_t)(w - b), i ? ",%lld" : "%lld", (long long)v[i]);
	*w++ = '}';
	*w = 0;
	p->v[p->n] = b;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
	*buf = b;
	return AMANA_OK;
}

static void p_text(struct params *p, const char *s)
{
	p->v[p->n] = s;
	p->len[p->n] = (int)strlen(s);
	p->fmt[p->n] = 1;
	p->n++;
}

static void p_null(struct params *p)
{
	p->v[p->n] = NULL;
	p->len[p->n] = 0;
	p->fmt[p->n] = 1;
	p->n++;
}

static int64_t g_i64(const PGresult *r, int row, int col)
{
	const uint8_t *v = (const uint8_t *)PQgetvalue(r, row, col);
	if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8)
		return 0;
	uint64_t u = 0;
	for (int i = 0; i < 8; i++)
		u = u << 8 | v[i];
	return (int64_t)u;
}

static struct store_blob g_blob(const PGresult *r, int row, int col)
{
	struct store_blob b;
	b.data = (const uint8_t *)PQgetvalue(r, row, col);
	b.len = (size_t)PQgetlength(r, row, col);
	return b;
}

/* The name a statement is prepared under on each connection. */
static void stmt_name(enum pq_id id, char buf[8])
{
	snprintf(buf, 8, "a%d", (int)id);
}

/* A write inside a transaction, under a statement savepoint: SAVEPOINT,
 * the statement and RELEASE go in one libpq pipeline, one round trip. If
 * the statement fails, the server skips the RELEASE, and the savepoint is
 * rolled back (a second round trip, on errors only). */
static enum amana_err run_guarded(struct pg_store *ps, enum pq_id id, const struct params *p, PGresult **out)
{
	PGconn *c = ps->conn;
	enum amana_err derr = drain(ps);
	if (derr)
		return derr;
	if (PQenterPipelineMode(c) != 1)
		return AMANA_ERR_IO;
	/* a lazy savepoint goes first, in the same round trip */
	unsigned pre = ps->sp == SP_LAZY;
	bool sent = (!pre || PQsendQueryParams(c, "SAVEPOINT amana_unit", 0, NULL, NULL, NULL, NULL, 0) == 1) &&
		    PQsendQueryParams(c, "SAVEPOINT amana_stmt", 0, NULL, NULL, NULL, NULL, 0) == 1 &&
		    PQsendQueryPrepared(c, ps->names[id], p ? p->n : 0, p ? p->v : NULL, p ? p->len : NULL,
					p ? p->fmt : NULL, 1) == 1 &&
		    PQsendQueryParams(c, "RELEASE SAVEPOINT amana_stmt", 0, NULL, NULL, NULL, NULL, 0) == 1 &&
		    PQpipelineSync(c) == 1;
	enum amana_err err = sent ? AMANA_OK : AMANA_ERR_IO;
	PGresult *stmt = NULL;
	unsigned command = 0; /* [SAVEPOINT amana_unit], SAVEPOINT, the statement, RELEASE */
	while (sent) {
		PGresult *r = PQgetResult(c);
		if (!r) {
			if (++command > 3 + pre)
				break; /* not expected: the sync never came */
			continue;
		}
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (st == PGRES_FATAL_ERROR && !err)
			err = result_err(r);
		if (pre && command == 0 && st == PGRES_COMMAND_OK)
			ps->sp = SP_SENT;
		if (command == 1 + pre && !stmt && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK))
			stmt = r;
		else
			PQclear(r);
	}
	if (PQexitPipelineMode(c) != 1 && !err)
		err = AMANA_ERR_IO;
	if (err && PQstatus(c) != CONNECTION_OK)
		err = AMANA_ERR_IO;
	if (err) {
		PQclear(stmt);
		(void)exec_sql(c, "ROLLBACK TO SAVEPOINT amana_stmt; RELEASE SAVEPOINT amana_stmt");
		return err;
	}
	if (out)
		*out = stmt;
	else
		PQclear(stmt);
	return AMANA_OK;
}

/* Run prepared statement id as it is: one round trip, on a connection
 * that is free (the sender thread's own use). */
static enum amana_err exec_prepared(struct pg_store *ps, enum pq_id id, const struct params *p, PGresult **out)
{
	PGresult *r = PQexecPrepared(ps->conn, ps->names[id], p ? p->n : 0, p ? p->v : NULL, p ? p->len : NULL,
				     p ? p->fmt : NULL, 1);
	enum amana_err err = result_err(r);
	if (err && PQstatus(ps->conn) != CONNECTION_OK)
		err = AMANA_ERR_IO;
	if (!err && out)
		*out = r;
	else
		PQclear(r);
	return err;
}

/* Run prepared statement id as it is, once the sender thread is done. */
static enum amana_err run_plain(struct pg_store *ps, enum pq_id id, const struct params *p, PGresult **out)
{
	enum amana_err derr = drain(ps);
	return derr ? derr : exec_prepared(ps, id, p, out);
}

static enum amana_err flush_pending(struct pg_store *ps);

/* Run prepared statement id. A write inside a transaction runs under a
 * statement savepoint, so its failure leaves the transaction usable, as
 * in SQLite; a read of a table with deferred writes sends them first.
 * *out (may be NULL) receives the result on success. */
static enum amana_err run(struct store *s, enum pq_id id, const struct params *p, PGresult **out)
{
	struct pg_store *ps = P(s);
	if (out)
		*out = NULL;
	if (ps->in_tx && pq[id].writes)
		return run_guarded(ps, id, p, out);
	if (pq[id].reads_deferred && pending(ps)) {
		enum amana_err err = flush_pending(ps);
		if (err)
			return err;
	}
	return run_plain(ps, id, p, out);
}

/* ---- deferred writes, sent ---- */

/* Opens (open = 1) or closes of queue entries [from, to) as one statement. */
static enum amana_err jobs_send_kind(struct pg_store *ps, const struct job_queue *q, size_t from, size_t to,
				     uint8_t open, int64_t *tmp)
{
	size_t n = 0;
	for (size_t i = from; i < to; i++) {
		if (q->open[i] != open)
			continue;
		tmp[n] = q->person[i];
		tmp[(to - from) + n] = q->employer[i];
		tmp[2 * (to - from) + n] = q->period[i];
		n++;
	}
	if (n == 0)
		return AMANA_OK;
	struct params p = { .n = 0 };
	char *arr[3] = { NULL, NULL, NULL };
	enum amana_err err = AMANA_OK;
	for (int k = 0; k < 3 && !err; k++)
		err = p_array(&p, tmp + (size_t)k * (to - from), n, &arr[k]);
	if (!err)
		err = exec_prepared(ps, open ? P_JOB_OPEN_MANY : P_JOB_CLOSE_MANY, &p, NULL);
	for (int k = 0; k < 3; k++)
		free(arr[k]);
	return err;
}

/* The queued employment changes, in order: cut into runs in which no pair
 * (person, employer) comes twice, where opens and closes commute; each run
 * is then one insert and one update. A pair is noted by a 64-bit mix of its
 * ids: two pairs that mix alike only end a run early. */
static enum amana_err jobs_send(struct pg_store *ps, const struct job_queue *q)
{
	if (q->n == 0)
		return AMANA_OK;
	int64_t *tmp = malloc(3 * q->n * sizeof(*tmp));
	if (!tmp)
		return AMANA_ERR_NOMEM;
	struct key_set seen = { .n = 0 };
	enum amana_err err = AMANA_OK;
	size_t from = 0;
	for (size_t i = 0; i <= q->n && !err; i++) {
		int64_t pair = 0;
		if (i < q->n) {
			pair = (int64_t)(((uint64_t)q->person[i] * 0x9e3779b97f4a7c15u) ^ (uint64_t)q->employer[i]);
			if (!set_has(&seen, pair)) {
				set_add(&seen, pair);
				continue;
			}
		}
		if (!(err = jobs_send_kind(ps, q, from, i, 1, tmp)))
			err = jobs_send_kind(ps, q, from, i, 0, tmp);
		from = i; /* i starts the next run */
		set_clear(&seen);
		set_add(&seen, pair);
	}
	free(tmp);
	set_free(&seen);
	return err;
}

/* The held-back writes made before the savepoint, about to be sent after
 * it: kept, to wait again if the savepoint is rolled back. */
static enum amana_err keep_prefix(struct pg_store *ps)
{
	if (ps->replay_held ||
	    (ps->mark.persons_rows == 0 && ps->mark.decls_rows == 0 && ps->mark.lines_rows == 0 && ps->mark.jobs == 0))
		return AMANA_OK;
	struct copy_buf *src[3] = { &ps->persons, &ps->decls, &ps->lines },
			*dst[3] = { &ps->replay_persons, &ps->replay_decls, &ps->replay_lines };
	size_t len[3] = { ps->mark.persons_len, ps->mark.decls_len, ps->mark.lines_len },
	       rows[3] = { ps->mark.persons_rows, ps->mark.decls_rows, ps->mark.lines_rows };
	enum amana_err err = AMANA_OK;
	for (int i = 0; i < 3 && !err; i++) {
		copy_clear(dst[i]);
		if ((err = copy_reserve(dst[i], len[i] + 2)))
			break;
		copy_put(dst[i], src[i]->data, len[i]);
		dst[i]->rows = rows[i];
	}
	jobs_clear(&ps->replay_jobs);
	for (size_t i = 0; i < ps->mark.jobs && !err; i++)
		err = jobs_push(&ps->replay_jobs, ps->jobs.person[i], ps->jobs.employer[i],
				(uint32_t)ps->jobs.period[i], ps->jobs.open[i]);
	if (err)
		return err;
	ps->replay_held = true;
	memset(&ps->mark, 0, sizeof(ps->mark));
	return AMANA_OK;
}

/* Send the writes handed to the sender, in order: the persons, the
 * employment changes (which refer to them), the declarations, then their
 * lines. A failure aborts the transaction on
 * the server: only a rollback (to the savepoint before those writes) goes
 * on from there. */
static enum amana_err send_writes(struct pg_store *ps, struct sender *t)
{
	enum amana_err err = copy_send(ps->conn, &t->persons,
				       "COPY persons(id, reg_bidx, reg_sealed, cin_bidx, cin_sealed, name_bidx,"
				       " identity_sealed, created_at) FROM STDIN (FORMAT binary)");
	if (!err)
		err = jobs_send(ps, &t->jobs);
	if (!err)
		err = copy_send(ps->conn, &t->decls,
				"COPY declarations(id, employer_id, period, seq, imported_at, line_count, digest,"
				" totals_sealed, roster_sealed) FROM STDIN (FORMAT binary)");
	if (!err)
		err = copy_send(ps->conn, &t->lines,
				"COPY declaration_lines(employer_id, declaration_id, chunk, line_count, persons,"
				" payload_sealed) FROM STDIN (FORMAT binary)");
	if (err && PQstatus(ps->conn) != CONNECTION_OK)
		err = AMANA_ERR_IO;
	copy_clear(&t->persons);
	copy_clear(&t->decls);
	copy_clear(&t->lines);
	jobs_clear(&t->jobs);
	return err;
}

/* The sender thread: sends what it is given and keeps the first error for
 * drain. */
static void *sender_main(void *arg)
{
	struct pg_store *ps = arg;
	struct sender *t = &ps->snd;
	pthread_setname_np(pthread_self(), "amana-send");
	pthread_mutex_lock(&t->lock);
	for (;;) {
		while (!t->busy && !t->stop)
			pthread_cond_wait(&t->cond, &t->lock);
		if (!t->busy)
			break;
		pthread_mutex_unlock(&t->lock);
		enum amana_err err = send_writes(ps, t);
		pthread_mutex_lock(&t->lock);
		if (!t->err)
			t->err = err;
		t->busy = false;
		pthread_cond_broadcast(&t->cond);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void swap_bufs(struct copy_buf *a, struct copy_buf *b)
{
	struct copy_buf t = *a;
	*a = *b;
	*b = t;
}

static void swap_jobs(struct job_queue *a, struct job_queue *b)
{
	struct job_queue t = *a;
	*a = *b;
	*b = t;
}

/* Hand every held-back write to the sender thread (started on first use),
 * once it is done with the previous ones; the caller goes on while they
 * are sent. Their error, if any, is reported by the next call that goes to
 * the server (drain). Without a thread (none could be started) they are
 * sent here. */
static enum amana_err flush_pending(struct pg_store *ps)
{
	if (!pending(ps))
		return AMANA_OK;
	enum amana_err err = AMANA_OK;
	if (ps->sp == SP_LAZY) { /* what follows is inside the savepoint */
		if ((err = command(ps, "SAVEPOINT amana_unit")))
			return err;
		ps->sp = SP_SENT;
	}
	if (ps->sp == SP_SENT && (err = keep_prefix(ps)))
		return err;
	struct sender *t = &ps->snd;
	if ((err = drain(ps)))
		return err;
	if (!t->started) {
		pthread_mutex_init(&t->lock, NULL);
		pthread_cond_init(&t->cond, NULL);
		t->started = pthread_create(&t->thread, NULL, sender_main, ps) == 0;
		if (!t->started) {
			pthread_cond_destroy(&t->cond);
			pthread_mutex_destroy(&t->lock);
		}
	}
	swap_bufs(&t->persons, &ps->persons);
	swap_bufs(&t->decls, &ps->decls);
	swap_bufs(&t->lines, &ps->lines);
	swap_jobs(&t->jobs, &ps->jobs);
	pending_clear(ps);
	if (t->started) {
		pthread_mutex_lock(&t->lock);
		t->busy = true;
		pthread_cond_broadcast(&t->cond);
		pthread_mutex_unlock(&t->lock);
		return AMANA_OK;
	}
	return send_writes(ps, t);
}

/* Before a read of employer's declarations or lines: its held-back ones are
 * sent (another employer's cannot change what the read finds). */
static enum amana_err flush_for(struct pg_store *ps, int64_t employer)
{
	if ((ps->decls.rows || ps->lines.rows) && set_has(&ps->pending_employers, employer))
		return flush_pending(ps);
	return AMANA_OK;
}

/* A statement with one bigint parameter, its rows in *r. */
static enum amana_err select_by(struct store *s, enum pq_id id, int64_t key, PGresult **r)
{
	struct params p = { .n = 0 };
	p_i64(&p, key);
	return run(s, id, &p, r);
}

/* ---- transactions ---- */

static enum amana_err write_back_ids(struct store *s);

/* The savepoint is gone: released, rolled back, or with its transaction. */
static void savepoint_forget(struct pg_store *ps)
{
	ps->sp = SP_NONE;
	ps->replay_held = false;
	copy_clear(&ps->replay_persons);
	copy_clear(&ps->replay_decls);
	copy_clear(&ps->replay_lines);
	jobs_clear(&ps->replay_jobs);
}

static enum amana_err pg_begin(struct store *s)
{
	struct pg_store *ps = P(s);
	enum amana_err err = command(ps, "BEGIN; SELECT pg_advisory_xact_lock(" WRITER_LOCK ")");
	if (!err)
		ps->in_tx = true;
	return err;
}

static int cmp_pair(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;
	return x[1] != y[1] ? (x[1] < y[1] ? -1 : 1) : x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : 0;
}

/* Every line the transaction wrote names a declaration of its employer:
 * one the transaction wrote (declarations are never removed nor moved,
 * schema 8), or else one the store holds, asked for in one query per
 * LINES_REFER_MAX keys. AMANA_ERR_CORRUPT otherwise, as the foreign key
 * said. Called at commit, once every held-back write is on the server. */
#define LINES_REFER_MAX 65536
static enum amana_err lines_refer(struct pg_store *ps)
{
	struct key_pairs *lines = &ps->line_keys, *decls = &ps->decl_keys;
	if (lines->n == 0)
		return AMANA_OK;
	qsort(decls->v, decls->n, sizeof(*decls->v), cmp_pair);
	int64_t *ask = NULL; /* made when a line's declaration is not the transaction's */
	enum amana_err err = AMANA_OK;
	size_t n = 0;
	for (size_t i = 0; i <= lines->n && !err; i++) {
		if (i < lines->n && bsearch(lines->v[i], decls->v, decls->n, sizeof(*decls->v), cmp_pair))
			continue;
		if (i < lines->n && !ask && !(ask = malloc(2 * LINES_REFER_MAX * sizeof(*ask)))) {
			err = AMANA_ERR_NOMEM;
			break;
		}
		if (i < lines->n) {
			ask[n] = lines->v[i][0];
			ask[LINES_REFER_MAX + n] = lines->v[i][1];
			n++;
		}
		if (n == 0 || (n < LINES_REFER_MAX && i < lines->n))
			continue;
		struct params p = { .n = 0 };
		char *arr[2] = { NULL, NULL };
		PGresult *r = NULL;
		if (!(err = p_array(&p, ask, n, &arr[0])) && !(err = p_array(&p, ask + LINES_REFER_MAX, n, &arr[1])) &&
		    !(err = run_plain(ps, P_LINES_REFER, &p, &r)))
			err = PQntuples(r) == 1 && g_i64(r, 0, 0) == 0 ? AMANA_OK : AMANA_ERR_CORRUPT;
		PQclear(r);
		free(arr[0]);
		free(arr[1]);
		n = 0;
	}
	free(ask);
	return err;
}

static enum amana_err pg_commit(struct store *s)
{
	struct pg_store *ps = P(s);
	enum amana_err err = write_back_ids(s);
	if (!err)
		err = flush_pending(ps);
	if (!err)
		err = drain(ps);
	if (!err)
		err = lines_refer(ps);
	keys_clear(ps);
	if (err) {
		(void)drain(ps);
		(void)exec_sql(ps->conn, "ROLLBACK");
		ps->in_tx = false;
		pending_clear(ps);
		savepoint_forget(ps);
		return err;
	}
	/* A statement that failed in the transaction (a read has no statement
	 * savepoint) aborted it on the server, which then answers COMMIT with a
	 * rollback and no error: the caller must hear that nothing was kept. */
	if (PQtransactionStatus(ps->conn) == PQTRANS_INERROR) {
		(void)exec_sql(ps->conn, "ROLLBACK");
		ps->in_tx = false;
		savepoint_forget(ps);
		return AMANA_ERR_STORE;
	}
	err = exec_sql(ps->conn, "COMMIT");
	ps->in_tx = false;
	savepoint_forget(ps);
	if (err)
		(void)exec_sql(ps->conn, "ROLLBACK"); /* after a failed COMMIT the transaction is gone anyway */
	return err;
}

static enum amana_err pg_rollback(struct store *s)
{
	struct pg_store *ps = P(s);
	ps->in_tx = false;
	ps->nids = 0;
	pending_clear(ps);
	keys_clear(ps);
	savepoint_forget(ps);
	(void)drain(ps); /* whatever it says, it is rolled back */
	return exec_sql(ps->conn, "ROLLBACK");
}

static enum amana_err pg_savepoint(struct store *s)
{
	struct pg_store *ps = P(s);
	if (ps->sp != SP_NONE || !ps->in_tx)
		return AMANA_ERR_USAGE; /* savepoints do not nest (store.h) */
	/* Nothing goes to the server yet: held-back writes made before the
	 * savepoint are marked, to stay if it is rolled back. */
	memcpy(ps->saved_ids, ps->ids, sizeof(ps->ids));
	ps->saved_nids = ps->nids;
	ps->mark.persons_len = ps->persons.len;
	ps->mark.persons_rows = ps->persons.rows;
	ps->mark.decls_len = ps->decls.len;
	ps->mark.decls_rows = ps->decls.rows;
	ps->mark.lines_len = ps->lines.len;
	ps->mark.lines_rows = ps->lines.rows;
	ps->mark.jobs = ps->jobs.n;
	ps->line_keys_mark = ps->line_keys.n;
	ps->decl_keys_mark = ps->decl_keys.n;
	ps->replay_held = false;
	ps->sp = SP_LAZY;
	return AMANA_OK;
}

static enum amana_err pg_release(struct store *s)
{
	struct pg_store *ps = P(s);
	bool sent = ps->sp != SP_LAZY;
	savepoint_forget(ps);
	return sent ? command(ps, "RELEASE SAVEPOINT amana_unit") : AMANA_OK;
}

static enum amana_err pg_rollback_savepoint(struct store *s)
{
	struct pg_store *ps = P(s);
	/* the ids taken since are given again */
	memcpy(ps->ids, ps->saved_ids, sizeof(ps->ids));
	ps->nids = ps->saved_nids;
	ps->line_keys.n = ps->line_keys_mark;
	ps->decl_keys.n = ps->decl_keys_mark;
	bool sent = ps->sp != SP_LAZY;
	if (ps->replay_held) {
		/* sent after the savepoint, undone with it: they wait again */
		pending_clear(ps);
		swap_bufs(&ps->persons, &ps->replay_persons);
		swap_bufs(&ps->decls, &ps->replay_decls);
		swap_bufs(&ps->lines, &ps->replay_lines);
		swap_jobs(&ps->jobs, &ps->replay_jobs);
		ps->pending_employers.all = true; /* whose they are was not kept */
	} else {
		/* what waits past the marks was written after the savepoint */
		ps->persons.len = ps->mark.persons_len;
		ps->persons.rows = ps->mark.persons_rows;
		ps->decls.len = ps->mark.decls_len;
		ps->decls.rows = ps->mark.decls_rows;
		ps->lines.len = ps->mark.lines_len;
		ps->lines.rows = ps->mark.lines_rows;
		ps->jobs.n = ps->mark.jobs;
	}
	savepoint_forget(ps);
	if (!sent)
		return AMANA_OK;
	(void)drain(ps); /* sent after the savepoint: undone with it, whatever it says */
	return exec_sql(ps->conn, "ROLLBACK TO SAVEPOINT amana_unit; RELEASE SAVEPOINT amana_unit");
}

/* ---- meta, sequences, keyring ---- */

static enum amana_err pg_meta_get(struct store *s, const char *key, uint8_t *out, size_t cap, size_t *len)
{
	struct params p = { .n = 0 };
	p_text(&p, key);
	PGresult *r;
	enum amana_err err = run(s, P_META_GET, &p, &r);
	if (err)
		return err;
	if (PQntuples(r) == 0) {
		err = AMANA_ERR_NOTFOUND;
	} else {
		struct store_blob b = g_blob(r, 0, 0);
		if (b.len > cap) {
			err = AMANA_ERR_LIMIT;
		} else {
			if (b.len)
				memcpy(out, b.data, b.len);
			*len = b.len;
		}
	}
	PQclear(r);
	return err;
}

static enum amana_err pg_meta_put(struct store *s, const char *key, const uint8_t *val, size_t len)
{
	struct params p = { .n = 0 };
	struct store_blob b = { val, len };
	p_text(&p, key);
	p_blob(&p, &b);
	return run(s, P_META_PUT, &p, NULL);
}

static enum amana_err take_ids(struct store *s, const char *seq, int64_t count, int64_t *first);

static enum amana_err pg_next_ids(struct store *s, const char *seq, int64_t count, int64_t *first)
{
	struct pg_store *ps = P(s);
	if (count <= 0)
		return AMANA_ERR_USAGE;
	if (!ps->in_tx || strlen(seq) >= sizeof(ps->ids[0].name))
		return take_ids(s, seq, count, first);
	struct id_cache *c = NULL;
	for (unsigned i = 0; i < ps->nids && !c; i++)
		if (!strcmp(ps->ids[i].name, seq))
			c = &ps->ids[i];
	if (c && c->end - c->next >= count) {
		*first = c->next;
		c->next += count;
		return AMANA_OK;
	}
	if (!c && ps->nids == ID_CACHE)
		return take_ids(s, seq, count, first);
	/* A new block, from where this transaction's ids end (the row says the
	 * same until the write-back at commit). */
	if (c) {
		struct params p = { .n = 0 };
		p_text(&p, c->name);
		p_i64(&p, c->next);
		enum amana_err err = run(s, P_SEQ_SET, &p, NULL);
		if (err)
			return err;
	}
	int64_t start;
	enum amana_err err = take_ids(s, seq, count + ID_BLOCK, &start);
	if (err)
		return err;
	if (!c) {
		c = &ps->ids[ps->nids++];
		snprintf(c->name, sizeof(c->name), "%s", seq);
	}
	*first = start;
	c->next = start + count;
	c->end = start + count + ID_BLOCK;
	return AMANA_OK;
}

/* Give back what the transaction's blocks did not use: the row ends where
 * the ids taken end. */
static enum amana_err write_back_ids(struct store *s)
{
	struct pg_store *ps = P(s);
	enum amana_err err = AMANA_OK;
	for (unsigned i = 0; i < ps->nids && !err; i++) {
		struct params p = { .n = 0 };
		p_text(&p, ps->ids[i].name);
		p_i64(&p, ps->ids[i].next);
		err = run(s, P_SEQ_SET, &p, NULL);
	}
	ps->nids = 0;
	return err;
}

static enum amana_err take_ids(struct store *s, const char *seq, int64_t count, int64_t *first)
{
	struct params p = { .n = 0 };
	p_text(&p, seq);
	enum amana_err err = run(s, P_SEQ_INIT, &p, NULL);
	if (err)
		return err;
	p_i64(&p, count);
	PGresult *r;
	if ((err = run(s, P_SEQ_TAKE, &p, &r)))
		return err;
	if (PQntuples(r) == 1)
		*first = g_i64(r, 0, 0);
	else
		err = AMANA_ERR_STORE;
	PQclear(r);
	return err;
}

static enum amana_err pg_keyring_put(struct store *s, int purpose, uint32_t version, const struct store_blob *w)
{
	struct params p = { .n = 0 };
	p_i64(&p, purpose);
	p_i64(&p, version);
	p_blob(&p, w);
	return run(s, P_KEY_PUT, &p, NULL);
}

static enum amana_err pg_keyring_each(struct store *s, store_keyring_fn fn, void *ctx)
{
	PGresult *r;
	enum amana_err err = run(s, P_KEY_EACH, NULL, &r);
	if (err)
		return err;
	for (int i = 0; i < PQntuples(r) && !err; i++) {
		struct store_blob w = g_blob(r, i, 2);
		err = fn(ctx, (int)g_i64(r, i, 0), (uint32_t)g_i64(r, i, 1), &w);
	}
	PQclear(r);
	return err;
}

/* ---- employers ---- */

static enum amana_err pg_employer_insert(struct store *s, const struct store_employer *e)
{
	struct params p = { .n = 0 };
	p_i64(&p, e->id);
	p_i64(&p, e->aff_bidx);
	p_blob(&p, &e->aff_sealed);
	p_blob(&p, &e->profile_sealed);
	p_i64(&p, e->created_at);
	return run(s, P_EMP_INSERT, &p, NULL);
}

/* Rows of r as employers, from row `from`; *last the last id seen. */
static enum amana_err each_employer_row(PGresult *r, store_employer_fn fn, void *ctx, int64_t *last)
{
	enum amana_err err = AMANA_OK;
	for (int i = 0; i < PQntuples(r) && !err; i++) {
		struct store_employer e = {
			.id = g_i64(r, i, 0),
			.aff_bidx = g_i64(r, i, 1),
			.aff_sealed = g_blob(r, i, 2),
			.profile_sealed = g_blob(r, i, 3),
			.created_at = g_i64(r, i, 4),
		};
		if (last)
			*last = e.id;
		err = fn(ctx, &e);
	}
	return err;
}

static enum amana_err employers_by(struct store *s, enum pq_id id, int64_t key, store_employer_fn fn, void *ctx)
{
	PGresult *r;
	enum amana_err err = select_by(s, id, key, &r);
	if (err)
		return err;
	err = each_employer_row(r, fn, ctx, NULL);
	PQclear(r);
	return err;
}

static enum amana_err pg_employer_by_bidx(struct store *s, int64_t bidx, store_employer_fn fn, void *ctx)
{
	return employers_by(s, P_EMP_BY_BIDX, bidx, fn, ctx);
}

static enum amana_err pg_employer_get(struct store *s, int64_t id, store_employer_fn fn, void *ctx)
{
	return employers_by(s, P_EMP_GET, id, fn, ctx);
}

static enum amana_err pg_employers_each(struct store *s, store_employer_fn fn, void *ctx)
{
	int64_t last = INT64_MIN;
	for (;;) {
		struct params p = { .n = 0 };
		p_i64(&p, last);
		PGresult *r;
		enum amana_err err = run(s, P_EMP_PAGE, &p, &r);
		if (err)
			return err;
		int n = PQntuples(r);
		err = each_employer_row(r, fn, ctx, &last);
		PQclear(r);
		if (err || n < 10000)
			return err;
	}
}

/* ---- persons ---- */

static enum amana_err pg_person_insert(struct store *s, const struct store_person *pe)
{
	struct pg_store *ps = P(s);
	if (ps->in_tx) { /* held back: a duplicate is refused when it is sent */
		struct copy_buf *b = &ps->persons;
		size_t body = 5 * 8 + pe->reg_sealed.len + pe->cin_sealed.len + pe->identity_sealed.len;
		enum amana_err err = copy_row(b, 8, body);
		if (err)
			return err;
		copy_i64(b, pe->id);
		copy_i64(b, pe->reg_bidx);
		copy_blob(b, &pe->reg_sealed);
		if (pe->cin_sealed.len) {
			copy_i64(b, pe->cin_bidx);
			copy_blob(b, &pe->cin_sealed);
		} else {
			copy_null(b);
			copy_null(b);
		}
		copy_i64(b, pe->name_bidx);
		copy_blob(b, &pe->identity_sealed);
		copy_i64(b, pe->created_at);
		return b->len >= COPY_FLUSH_BYTES ? flush_pending(ps) : AMANA_OK;
	}
	struct params p = { .n = 0 };
	p_i64(&p, pe->id);
	p_i64(&p, pe->reg_bidx);
	p_blob(&p, &pe->reg_sealed);
	if (pe->cin_sealed.len) {
		p_i64(&p, pe->cin_bidx);
		p_blob(&p, &pe->cin_sealed);
	} else {
		p_null(&p);
		p_null(&p);
	}
	p_i64(&p, pe->name_bidx);
	p_blob(&p, &pe->identity_sealed);
	p_i64(&p, pe->created_at);
	return run(s, P_PER_INSERT, &p, NULL);
}

/* The rows of a persons query, to fn; clears r. */
static enum amana_err each_person_row(PGresult *r, store_person_fn fn, void *ctx)
{
	enum amana_err err = AMANA_OK;
	for (int i = 0; i < PQntuples(r) && !err; i++) {
		struct store_person pe = {
			.id = g_i64(r, i, 0),
			.reg_bidx = g_i64(r, i, 1),
			.reg_sealed = g_blob(r, i, 2),
			.cin_bidx = g_i64(r, i, 3),
			.cin_sealed = g_blob(r, i, 4),
			.name_bidx = g_i64(r, i, 5),
			.identity_sealed = g_blob(r, i, 6),
			.created_at = g_i64(r, i, 7),
		};
		err = fn(ctx, &pe);
	}
	PQclear(r);
	return err;
}

/* Before a read of persons: the held-back ones are sent. */
static enum amana_err flush_persons(struct pg_store *ps)
{
	return ps->persons.rows ? flush_pending(ps) : AMANA_OK;
}

static enum amana_err persons_by(struct store *s, enum pq_id id, int64_t key, store_person_fn fn, void *ctx)
{
	PGresult *r;
	enum amana_err err = flush_persons(P(s));
	if (!err)
		err = select_by(s, id, key, &r);
	return err ? err : each_person_row(r, fn, ctx);
}

static enum amana_err pg_persons_by_reg_many(struct store *s, const int64_t *bidx, size_t n, store_person_fn fn,
					     void *ctx)
{
	enum amana_err err = store_many_check(bidx, n);
	if (err || n == 0)
		return err;
	if ((err = flush_persons(P(s))))
		return err;
	struct params p = { .n = 0 };
	char *arr;
	if ((err = p_array(&p, bidx, n, &arr)))
		return err;
	PGresult *r;
	err = run(s, P_PER_BY_REG_MANY, &p, &r);
	free(arr);
	return err ? err : each_person_row(r, fn, ctx);
}

static enum amana_err pg_person_by_reg(struct store *s, int64_t bidx, store_person_fn fn, void *ctx)
{
	return persons_by(s, P_PER_BY_REG, bidx, fn, ctx);
}

static enum amana_err pg_person_by_cin(struct store *s, int64_t bidx, store_person_fn fn, void *ctx)
{
	return persons_by(s, P_PER_BY_CIN, bidx, fn, ctx);
}

static enum amana_err pg_person_get(struct store *s, int64_t id, store_person_fn fn, void *ctx)
{
	return persons_by(s, P_PER_GET, id, fn, ctx);
}

/* ---- employment periods ---- */

/* Inside a transaction, an employment change waits with the other deferred
 * writes (flush_pending). */
static enum amana_err job_defer(struct pg_store *ps, int64_t person, int64_t employer, uint32_t period, bool open)
{
	enum amana_err err = jobs_push(&ps->jobs, person, employer, period, open);
	if (!err && ps->jobs.n >= JOBS_FLUSH)
		err = flush_pending(ps);
	return err;
}

static enum amana_err pg_employment_open(struct store *s, int64_t person, int64_t employer, uint32_t start)
{
	if (P(s)->in_tx)
		return job_defer(P(s), person, employer, start, true);
	struct params p = { .n = 0 };
	p_i64(&p, person);
	p_i64(&p, employer);
	p_i64(&p, start);
	return run(s, P_JOB_OPEN, &p, NULL);
}

static enum amana_err pg_employment_close(struct store *s, int64_t person, int64_t employer, uint32_t end)
{
	if (P(s)->in_tx)
		return job_defer(P(s), person, employer, end, false);
	struct params p = { .n = 0 };
	p_i64(&p, person);
	p_i64(&p, employer);
	p_i64(&p, end);
	return run(s, P_JOB_CLOSE, &p, NULL);
}

static enum amana_err pg_employment_of_person(struct store *s, int64_t person, store_employment_fn fn, void *ctx)
{
	PGresult *r;
	enum amana_err err = select_by(s, P_JOB_OF_PERSON, person, &r);
	if (err)
		return err;
	for (int i = 0; i < PQntuples(r) && !err; i++) {
		struct store_employment e = {
			.id = g_i64(r, i, 0),
			.person_id = g_i64(r, i, 1),
			.employer_id = g_i64(r, i, 2),
			.start_period = (uint32_t)g_i64(r, i, 3),
			.end_period = (uint32_t)g_i64(r, i, 4),
		};
		err = fn(ctx, &e);
	}
	PQclear(r);
	return err;
}

/* ---- declarations and lines ---- */

static enum amana_err pg_declaration_insert(struct store *s, const struct store_declaration *d)
{
	struct store_blob digest = { d->digest, sizeof(d->digest) };
	struct pg_store *ps = P(s);
	if (ps->in_tx) { /* deferred: a duplicate is refused when it is sent */
		struct copy_buf *b = &ps->decls;
		enum amana_err err = copy_row(b, 9, 6 * 8 + digest.len + d->totals_sealed.len + d->roster_sealed.len);
		if (err)
			return err;
		copy_i64(b, d->id);
		copy_i64(b, d->employer_id);
		copy_i64(b, d->period);
		copy_i64(b, d->seq);
		copy_i64(b, d->imported_at);
		copy_i64(b, d->line_count);
		copy_blob(b, &digest);
		copy_blob(b, &d->totals_sealed);
		if (d->roster_sealed.len)
			copy_blob(b, &d->roster_sealed);
		else
			copy_null(b);
		set_add(&ps->pending_employers, d->employer_id);
		if ((err = pairs_add(&ps->decl_keys, d->employer_id, d->id)))
			return err;
		bool early = ps->sp == SP_NONE && ps->lines.len >= COPY_EARLY_BYTES;
		return early || b->len >= COPY_FLUSH_BYTES ? flush_pending(ps) : AMANA_OK;
	}
	struct params p = { .n = 0 };
	p_i64(&p, d->id);
	p_i64(&p, d->employer_id);
	p_i64(&p, d->period);
	p_i64(&p, d->seq);
	p_i64(&p, d->imported_at);
	p_i64(&p, d->line_count);
	p_blob(&p, &digest);
	p_blob(&p, &d->totals_sealed);
	if (d->roster_sealed.len)
		p_blob(&p, &d->roster_sealed);
	else
		p_null(&p);
	return run(s, P_DECL_INSERT, &p, NULL);
}

static void declaration_row(const PGresult *r, int i, struct store_declaration *d)
{
	d->id = g_i64(r, i, 0);
	d->employer_id = g_i64(r, i, 1);
	d->period = (uint32_t)g_i64(r, i, 2);
	d->seq = (unsigned)g_i64(r, i, 3);
	d->imported_at = g_i64(r, i, 4);
	d->line_count = g_i64(r, i, 5);
	struct store_blob dg = g_blob(r, i, 6);
	memset(d->digest, 0, sizeof(d->digest));
	if (dg.len == sizeof(d->digest))
		memcpy(d->digest, dg.data, dg.len);
	d->totals_sealed = g_blob(r, i, 7);
	/* only the queries the rosters are read by select them */
	d->roster_sealed = PQnfields(r) > 8 ? g_blob(r, i, 8) : (struct store_blob){ NULL, 0 };
}

static enum amana_err each_declaration(PGresult *r, store_declaration_fn fn, void *ctx)
{
	enum amana_err err = AMANA_OK;
	for (int i = 0; i < PQntuples(r) && !err; i++) {
		struct store_declaration d;
		declaration_row(r, i, &d);
		err = fn(ctx, &d);
	}
	return err;
}

static enum amana_err declarations_q(struct store *s, enum pq_id id, int64_t employer, uint32_t period,
				     store_declaration_fn fn, void *ctx)
{
	enum amana_err err = flush_for(P(s), employer);
	if (err)
		return err;
	struct params p = { .n = 0 };
	p_i64(&p, employer);
	p_i64(&p, period);
	PGresult *r;
	if ((err = run(s, id, &p, &r)))
		return err;
	err = each_declaration(r, fn, ctx);
	PQclear(r);
	return err;
}

static enum amana_err pg_declarations_of(struct store *s, int64_t employer, uint32_t period, store_declaration_fn fn,
					 void *ctx)
{
	return declarations_q(s, P_DECL_OF, employer, period, fn, ctx);
}

/* The rows of a recent-declarations query (grouped by employer, newest
 * first within one: the period's, then the latest earlier period's), to fn;
 * clears r. */
static enum amana_err each_recent_row(PGresult *r, store_declaration_fn fn, void *ctx)
{
	enum amana_err err = AMANA_OK;
	for (int i = 0; i < PQntuples(r) && !err; i++) {
		struct store_declaration d;
		declaration_row(r, i, &d);
		err = fn(ctx, &d);
	}
	PQclear(r);
	return err;
}

static enum amana_err pg_declarations_recent(struct store *s, int64_t employer, uint32_t period,
					     store_declaration_fn fn, void *ctx)
{
	if (period == 0)
		return AMANA_ERR_USAGE;
	enum amana_err err = flush_for(P(s), employer);
	if (err)
		return err;
	struct params p = { .n = 0 };
	p_i64(&p, employer);
	p_i64(&p, period);
	PGresult *r;
	if ((err = run(s, P_DECL_RECENT, &p, &r)))
		return err;
	return each_recent_row(r, fn, ctx);
}

/* One query for the employers of list, over periods [from, period] or,
 * with from 0, by P_DECL_RECENT_MANY; its rows in *r. */
static enum amana_err recent_query(struct store *s, const int64_t *list, size_t n, uint32_t period, int64_t from,
				   PGresult **r)
{
	struct params p = { .n = 0 };
	char *arr;
	enum amana_err err = p_array(&p, list, n, &arr);
	if (err)
		return err;
	p_i64(&p, period);
	if (from)
		p_i64(&p, from);
	err = run(s, from ? P_DECL_RECENT_RANGE : P_DECL_RECENT_MANY, &p, r);
	free(arr);
	return err;
}

/* Most employers declare every month, so their latest earlier period is
 * the month before: one scan of the period and the month before, one index
 * descent per employer, answers for them (less than half the work of the
 * general query, which looks the latest earlier period up first). Those
 * with nothing in the month before (a gap, or a first declaration) are
 * then asked by the general query, their rows together as before. */
static enum amana_err pg_declarations_recent_many(struct store *s, const int64_t *employers, size_t n, uint32_t period,
						  store_declaration_fn fn, void *ctx)
{
	enum amana_err err = period ? store_many_check(employers, n) : AMANA_ERR_USAGE;
	if (err || n == 0)
		return err;
	for (size_t i = 0; i < n && !err; i++)
		err = flush_for(P(s), employers[i]);
	if (err)
		return err;
	int64_t before = period % 100 == 1 ? ((int64_t)period / 100 - 1) * 100 + 12 : (int64_t)period - 1;
	PGresult *r;
	if ((err = recent_query(s, employers, n, period, before, &r)))
		return err;
	/* The rows come by employer, ascending, newest first within one; the
	 * employers are walked in the same order beside them. An employer with
	 * a row before period gets its rows of period and of the first earlier
	 * period met (the latest); one without waits for the general query. */
	int64_t sorted[STORE_MANY_MAX], rest[STORE_MANY_MAX];
	size_t nrest = 0;
	memcpy(sorted, employers, n * sizeof(*employers));
	qsort(sorted, n, sizeof(*sorted), store_cmp_i64);
	int i = 0, rows = PQntuples(r);
	for (size_t k = 0; k < n && !err; k++) {
		while (i < rows && g_i64(r, i, 1) < sorted[k])
			i++; /* not asked for: cannot happen */
		int end = i;
		uint32_t latest = 0;
		for (; end < rows && g_i64(r, end, 1) == sorted[k]; end++) {
			uint32_t pr = (uint32_t)g_i64(r, end, 2);
			if (pr != period && !latest)
				latest = pr;
		}
		if (!latest)
			rest[nrest++] = sorted[k];
		for (int j = i; j < end && latest && !err; j++) {
			uint32_t pr = (uint32_t)g_i64(r, j, 2);
			if (pr != period && pr != latest)
				break;
			struct store_declaration d;
			declaration_row(r, j, &d);
			err = fn(ctx, &d);
		}
		i = end;
	}
	PQclear(r);
	if (!err && nrest && !(err = recent_query(s, rest, nrest, period, 0, &r)))
		err = each_recent_row(r, fn, ctx);
	return err;
}

static enum amana_err pg_declaration_stats(struct store *s, int64_t employer, int64_t *count, uint32_t *last_period)
{
	PGresult *r;
	enum amana_err err = flush_for(P(s), employer);
	if (err || (err = select_by(s, P_DECL_STATS, employer, &r)))
		return err;
	if (PQntuples(r) == 1) {
		*count = g_i64(r, 0, 0);
		*last_period = (uint32_t)g_i64(r, 0, 1);
	} else {
		err = AMANA_ERR_STORE;
	}
	PQclear(r);
	return err;
}

static enum amana_err pg_last_period_before(struct store *s, int64_t employer, uint32_t period, uint32_t *out)
{
	enum amana_err err = flush_for(P(s), employer);
	if (err)
		return err;
	struct params p = { .n = 0 };
	p_i64(&p, employer);
	p_i64(&p, period);
	PGresult *r;
	if ((err = run(s, P_DECL_LAST_BEFORE, &p, &r)))
		return err;
	if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		*out = (uint32_t)g_i64(r, 0, 0);
	else
		err = AMANA_ERR_NOTFOUND;
	PQclear(r);
	return err;
}

static enum amana_err pg_chunk_insert(struct store *s, const struct store_chunk *c)
{
	if (!store_chunk_in_range(c))
		return AMANA_ERR_USAGE;
	struct pg_store *ps = P(s);
	if (ps->in_tx) { /* deferred: a duplicate is refused when it is sent */
		struct copy_buf *b = &ps->lines;
		/* noted first: a line is never held back unchecked */
		enum amana_err err = pairs_add(&ps->line_keys, c->employer_id, c->declaration_id);
		if (!err)
			err = copy_row(b, 6, 4 * 8 + c->persons.len + c->payload_sealed.len);
		if (err)
			return err;
		copy_i64(b, c->employer_id);
		copy_i64(b, c->declaration_id);
		copy_i64(b, c->chunk);
		copy_i64(b, c->line_count);
		copy_blob(b, &c->persons);
		copy_blob(b, &c->payload_sealed);
		set_add(&ps->pending_employers, c->employer_id);
		return b->len >= COPY_FLUSH_BYTES ? flush_pending(ps) : AMANA_OK;
	}
	struct params p = { .n = 0 };
	p_i64(&p, c->employer_id);
	p_i64(&p, c->declaration_id);
	p_i64(&p, c->chunk);
	p_i64(&p, c->line_count);
	p_blob(&p, &c->persons);
	p_blob(&p, &c->payload_sealed);
	PGresult *r;
	enum amana_err err = run(s, P_LINE_INSERT, &p, &r);
	if (err)
		return err;
	if (strcmp(PQcmdTuples(r), "1") != 0)
		err = AMANA_ERR_CORRUPT; /* no such declaration (of that employer) */
	PQclear(r);
	return err;
}

/* The rows of a lines query, to fn; clears r. A query of five columns has
 * no payload ({NULL, 0}). */
static enum amana_err each_chunk_row(PGresult *r, store_chunk_fn fn, void *ctx)
{
	bool with_payload = PQnfields(r) > 5;
	enum amana_err err = AMANA_OK;
	for (int i = 0; i < PQntuples(r) && !err; i++) {
		struct store_chunk c = {
			.employer_id = g_i64(r, i, 0),
			.declaration_id = g_i64(r, i, 1),
			.chunk = g_i64(r, i, 2),
			.line_count = g_i64(r, i, 3),
			.persons = g_blob(r, i, 4),
			.payload_sealed = with_payload ? g_blob(r, i, 5) : (struct store_blob){ NULL, 0 },
		};
		err = fn(ctx, &c);
	}
	PQclear(r);
	return err;
}

static enum amana_err pg_chunks_of(struct store *s, int64_t employer, int64_t declaration, store_chunk_fn fn, void *ctx)
{
	enum amana_err err = flush_for(P(s), employer);
	if (err)
		return err;
	struct params p = { .n = 0 };
	p_i64(&p, employer);
	p_i64(&p, declaration);
	PGresult *r;
	err = run(s, P_LINES_OF, &p, &r);
	return err ? err : each_chunk_row(r, fn, ctx);
}

static enum amana_err pg_chunks_of_many(struct store *s, const struct store_decl_key *keys, size_t n, store_chunk_fn fn,
					void *ctx)
{
	enum amana_err err = store_many_check_decls(keys, n);
	if (err || n == 0)
		return err;
	for (size_t i = 0; i < n && !err; i++)
		err = flush_for(P(s), keys[i].employer_id);
	if (err)
		return err;
	int64_t *ids = malloc(2 * n * sizeof(*ids));
	if (!ids)
		return AMANA_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		ids[i] = keys[i].employer_id;
		ids[n + i] = keys[i].declaration_id;
	}
	struct params p = { .n = 0 };
	char *arr[2] = { NULL, NULL };
	err = p_array(&p, ids, n, &arr[0]);
	if (!err)
		err = p_array(&p, ids + n, n, &arr[1]);
	free(ids);
	PGresult *r = NULL;
	if (!err)
		err = run(s, P_LINES_OF_MANY, &p, &r);
	free(arr[0]);
	free(arr[1]);
	return err ? err : each_chunk_row(r, fn, ctx);
}

/* ---- full scans, by pages ---- */

static enum amana_err pg_persons_each(struct store *s, store_person_fn fn, void *ctx)
{
	int64_t last = INT64_MIN;
	for (;;) {
		struct params p = { .n = 0 };
		p_i64(&p, last);
		PGresult *r;
		enum amana_err err = run(s, P_PER_PAGE, &p, &r);
		if (err)
			return err;
		int n = PQntuples(r);
		if (n)
			last = g_i64(r, n - 1, 0);
		if ((err = each_person_row(r, fn, ctx)) || n < SCAN_PAGE)
			return err;
	}
}

static enum amana_err pg_declarations_each(struct store *s, store_declaration_fn fn, void *ctx)
{
	int64_t last = INT64_MIN;
	for (;;) {
		struct params p = { .n = 0 };
		p_i64(&p, last);
		PGresult *r;
		enum amana_err err = run(s, P_DECL_PAGE, &p, &r);
		if (err)
			return err;
		int n = PQntuples(r);
		if (n)
			last = g_i64(r, n - 1, 0);
		err = each_declaration(r, fn, ctx);
		PQclear(r);
		if (err || n < SCAN_PAGE)
			return err;
	}
}

static enum amana_err pg_declaration_periods_each(struct store *s, store_period_fn fn, void *ctx)
{
	int64_t last = INT64_MIN;
	for (;;) {
		struct params p = { .n = 0 };
		p_i64(&p, last);
		PGresult *r;
		enum amana_err err = run(s, P_DECL_PERIODS_PAGE, &p, &r);
		if (err)
			return err;
		int n = PQntuples(r);
		for (int i = 0; i < n && !err; i++)
			err = fn(ctx, g_i64(r, i, 0), g_i64(r, i, 1), (uint32_t)g_i64(r, i, 2));
		if (n)
			last = g_i64(r, n - 1, 0);
		PQclear(r);
		if (err || n < SCAN_PAGE)
			return err;
	}
}

static enum amana_err pg_chunks_each(struct store *s, bool with_payload, int64_t from, int64_t to, store_chunk_fn fn,
				     void *ctx)
{
	enum pq_id id = with_payload ? P_LINES_PAGE : P_LINES_PERSONS_PAGE;
	int page = with_payload ? SCAN_PAGE_PAYLOAD : SCAN_PAGE;
	int64_t last_decl = from, last_chunk = INT64_MIN; /* every chunk of declaration from, then after */
	if (from >= to)
		return AMANA_OK;
	for (;;) {
		struct params p = { .n = 0 };
		p_i64(&p, last_decl);
		p_i64(&p, last_chunk);
		p_i64(&p, to);
		PGresult *r;
		enum amana_err err = run(s, id, &p, &r);
		if (err)
			return err;
		int n = PQntuples(r);
		if (n) {
			last_decl = g_i64(r, n - 1, 1);
			last_chunk = g_i64(r, n - 1, 2);
		}
		if ((err = each_chunk_row(r, fn, ctx)) || n < page)
			return err;
	}
}

static enum amana_err pg_counts(struct store *s, struct store_counts *out)
{
	PGresult *r;
	enum amana_err err = run(s, P_COUNTS, NULL, &r);
	if (err)
		return err;
	out->employers = g_i64(r, 0, 0);
	out->persons = g_i64(r, 0, 1);
	out->employments = g_i64(r, 0, 2);
	out->declarations = g_i64(r, 0, 3);
	out->lines = g_i64(r, 0, 4);
	PQclear(r);
	return AMANA_OK;
}

/* ---- open and close ---- */

/* ---- accounts and sessions ---- */

static enum amana_err pg_account_insert(struct store *s, const struct store_account *a)
{
	struct params p = { .n = 0 };
	p_i64(&p, a->id);
	p_i64(&p, a->login_bidx);
	p_blob(&p, &a->login_sealed);
	p_i64(&p, a->role);
	p_blob(&p, &a->secrets_sealed);
	p_i64(&p, a->created_at);
	return run(s, P_ACC_INSERT, &p, NULL);
}

static enum amana_err accounts_by(struct store *s, enum pq_id id, int64_t key, store_account_fn fn, void *ctx)
{
	PGresult *r;
	enum amana_err err = select_by(s, id, key, &r);
	for (int i = 0; !err && i < PQntuples(r); i++) {
		struct store_account a = {
			.id = g_i64(r, i, 0),
			.login_bidx = g_i64(r, i, 1),
			.login_sealed = g_blob(r, i, 2),
			.role = g_i64(r, i, 3),
			.secrets_sealed = g_blob(r, i, 4),
			.created_at = g_i64(r, i, 5),
		};
		struct store_account_state st = {
			.failures = g_i64(r, i, 6),
			.locked_until = g_i64(r, i, 7),
			.suspended = g_i64(r, i, 8),
			.totp_step = g_i64(r, i, 9),
		};
		err = fn(ctx, &a, &st);
	}
	if (r)
		PQclear(r);
	return err;
}

static enum amana_err pg_accounts_by_login(struct store *s, int64_t bidx, store_account_fn fn, void *ctx)
{
	return accounts_by(s, P_ACC_BY_LOGIN, bidx, fn, ctx);
}

static enum amana_err pg_account_get(struct store *s, int64_t id, store_account_fn fn, void *ctx)
{
	return accounts_by(s, P_ACC_GET, id, fn, ctx);
}

/* A statement that returns the row it changed: AMANA_ERR_NOTFOUND for none. */
static enum amana_err run_one(struct store *s, enum pq_id id, const struct params *p)
{
	PGresult *r;
	enum amana_err err = run(s, id, p, &r);
	if (err)
		return err;
	err = PQntuples(r) == 1 ? AMANA_OK : AMANA_ERR_NOTFOUND;
	PQclear(r);
	return err;
}

static enum amana_err pg_account_set_state(struct store *s, int64_t id, const struct store_account_state *st)
{
	struct params p = { .n = 0 };
	p_i64(&p, id);
	p_i64(&p, st->failures);
	p_i64(&p, st->locked_until);
	p_i64(&p, st->suspended);
	p_i64(&p, st->totp_step);
	return run_one(s, P_ACC_STATE, &p);
}

static enum amana_err pg_session_insert(struct store *s, const struct store_session *se)
{
	struct params p = { .n = 0 };
	struct store_blob h = { se->token_hash, STORE_TOKEN_HASH_BYTES };
	p_blob(&p, &h);
	p_i64(&p, se->account_id);
	p_i64(&p, se->expires_at);
	return run(s, P_SES_INSERT, &p, NULL);
}

static enum amana_err pg_session_get(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_BYTES],
				     struct store_session *out)
{
	memset(out, 0, sizeof(*out));
	struct params p = { .n = 0 };
	struct store_blob h = { hash, STORE_TOKEN_HASH_BYTES };
	p_blob(&p, &h);
	PGresult *r;
	enum amana_err err = run(s, P_SES_GET, &p, &r);
	if (err)
		return err;
	if (PQntuples(r) == 1) {
		memcpy(out->token_hash, hash, STORE_TOKEN_HASH_BYTES);
		out->account_id = g_i64(r, 0, 0);
		out->expires_at = g_i64(r, 0, 1);
		out->revoked = g_i64(r, 0, 2) != 0;
	} else {
		err = AMANA_ERR_NOTFOUND;
	}
	PQclear(r);
	return err;
}

static enum amana_err pg_session_revoke(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_BYTES])
{
	struct params p = { .n = 0 };
	struct store_blob h = { hash, STORE_TOKEN_HASH_BYTES };
	p_blob(&p, &h);
	return run_one(s, P_SES_REVOKE, &p);
}

static enum amana_err pg_serve_reads(struct store *s)
{
	(void)s; /* the server keeps its own cache */
	return AMANA_OK;
}

/* ---- marks and alerts ---- */

static enum amana_err pg_mark_put(struct store *s, const uint8_t key[STORE_MARK_BYTES], int64_t kinds)
{
	struct params p = { .n = 0 };
	struct store_blob k = { key, STORE_MARK_BYTES };
	p_blob(&p, &k);
	p_i64(&p, kinds);
	return run(s, P_MARK_PUT, &p, NULL);
}

static enum amana_err pg_mark_get(struct store *s, const uint8_t key[STORE_MARK_BYTES], int64_t *kinds)
{
	*kinds = 0;
	struct params p = { .n = 0 };
	struct store_blob k = { key, STORE_MARK_BYTES };
	p_blob(&p, &k);
	PGresult *r;
	enum amana_err err = run(s, P_MARK_GET, &p, &r);
	if (err)
		return err;
	if (PQntuples(r) == 1)
		*kinds = g_i64(r, 0, 0);
	PQclear(r);
	return AMANA_OK;
}

_Static_assert(STORE_MARK_BYTES == 32, "P_MARK_GET_MANY cuts its keys 32 bytes apart");

static enum amana_err pg_marks_get_many(struct store *s, const uint8_t *keys, size_t n, int64_t *kinds)
{
	memset(kinds, 0, n * sizeof(*kinds));
	struct params p = { .n = 0 };
	struct store_blob k = { keys, n * STORE_MARK_BYTES };
	p_blob(&p, &k);
	PGresult *r;
	enum amana_err err = run(s, P_MARK_GET_MANY, &p, &r);
	if (err)
		return err;
	for (int row = 0; row < PQntuples(r) && !err; row++) {
		int64_t i = g_i64(r, row, 0);
		if (i < 0 || (uint64_t)i >= n)
			err = AMANA_ERR_CORRUPT;
		else
			kinds[i] = g_i64(r, row, 1);
	}
	PQclear(r);
	return err;
}

static enum amana_err pg_alert_insert(struct store *s, const struct store_alert *a)
{
	if (!a->principal || !a->reason || strlen(a->principal) > 255 || strlen(a->reason) > 255)
		return AMANA_ERR_USAGE;
	struct params p = { .n = 0 };
	p_i64(&p, a->id);
	p_i64(&p, a->at_ms);
	p_i64(&p, a->account_id);
	p_text(&p, a->principal);
	p_i64(&p, a->kinds);
	p_i64(&p, a->subject_kind);
	p_i64(&p, a->subject_id);
	p_text(&p, a->reason);
	return run(s, P_ALERT_INSERT, &p, NULL);
}

static enum amana_err pg_alerts_after(struct store *s, int64_t after_id, int64_t limit, store_alert_fn fn, void *ctx)
{
	if (limit < 1 || limit > 10000)
		return AMANA_ERR_USAGE;
	struct params p = { .n = 0 };
	p_i64(&p, after_id);
	p_i64(&p, limit);
	PGresult *r;
	enum amana_err err = run(s, P_ALERTS_AFTER, &p, &r);
	if (err)
		return err;
	char principal[256], reason[256];
	for (int i = 0; i < PQntuples(r) && !err; i++) {
		snprintf(principal, sizeof(principal), "%.*s", PQgetlength(r, i, 3), PQgetvalue(r, i, 3));
		snprintf(reason, sizeof(reason), "%.*s", PQgetlength(r, i, 7), PQgetvalue(r, i, 7));
		struct store_alert a = {
			.id = g_i64(r, i, 0),
			.at_ms = g_i64(r, i, 1),
			.account_id = g_i64(r, i, 2),
			.principal = principal,
			.kinds = g_i64(r, i, 4),
			.subject_kind = g_i64(r, i, 5),
			.subject_id = g_i64(r, i, 6),
			.reason = reason,
		};
		err = fn(ctx, &a);
	}
	PQclear(r);
	return err;
}

static void pg_close(struct store *s)
{
	struct pg_store *ps = P(s);
	struct sender *t = &ps->snd;
	if (t->started) {
		(void)drain(ps);
		pthread_mutex_lock(&t->lock);
		t->stop = true;
		pthread_cond_broadcast(&t->cond);
		pthread_mutex_unlock(&t->lock);
		pthread_join(t->thread, NULL);
		pthread_cond_destroy(&t->cond);
		pthread_mutex_destroy(&t->lock);
	}
	free(t->persons.data);
	free(t->decls.data);
	free(t->lines.data);
	jobs_free(&t->jobs);
	PQfinish(ps->conn);
	free(ps->persons.data);
	free(ps->decls.data);
	free(ps->lines.data);
	free(ps->replay_persons.data);
	free(ps->replay_decls.data);
	free(ps->replay_lines.data);
	jobs_free(&ps->jobs);
	jobs_free(&ps->replay_jobs);
	set_free(&ps->pending_employers);
	free(ps->line_keys.v);
	free(ps->decl_keys.v);
	free(ps);
}

static const struct store_ops pg_ops = {
	.account_insert = pg_account_insert,
	.accounts_by_login = pg_accounts_by_login,
	.account_get = pg_account_get,
	.account_set_state = pg_account_set_state,
	.session_insert = pg_session_insert,
	.session_get = pg_session_get,
	.session_revoke = pg_session_revoke,
	.serve_reads = pg_serve_reads,
	.mark_put = pg_mark_put,
	.mark_get = pg_mark_get,
	.marks_get_many = pg_marks_get_many,
	.alert_insert = pg_alert_insert,
	.alerts_after = pg_alerts_after,
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.savepoint = pg_savepoint,
	.release = pg_release,
	.rollback_savepoint = pg_rollback_savepoint,
	.meta_get = pg_meta_get,
	.meta_put = pg_meta_put,
	.next_ids = pg_next_ids,
	.keyring_put = pg_keyring_put,
	.keyring_each = pg_keyring_each,
	.employer_insert = pg_employer_insert,
	.employer_by_bidx = pg_employer_by_bidx,
	.employer_get = pg_employer_get,
	.person_insert = pg_person_insert,
	.person_by_reg = pg_person_by_reg,
	.person_by_cin = pg_person_by_cin,
	.persons_by_reg_many = pg_persons_by_reg_many,
	.person_get = pg_person_get,
	.employment_open = pg_employment_open,
	.employment_close = pg_employment_close,
	.employment_of_person = pg_employment_of_person,
	.declaration_insert = pg_declaration_insert,
	.declarations_of = pg_declarations_of,
	.declarations_recent = pg_declarations_recent,
	.declarations_recent_many = pg_declarations_recent_many,
	.employers_each = pg_employers_each,
	.declaration_stats = pg_declaration_stats,
	.last_period_before = pg_last_period_before,
	.chunk_insert = pg_chunk_insert,
	.chunks_of = pg_chunks_of,
	.chunks_of_many = pg_chunks_of_many,
	.counts = pg_counts,
	.persons_each = pg_persons_each,
	.declarations_each = pg_declarations_each,
	.declaration_periods_each = pg_declaration_periods_each,
	.chunks_each = pg_chunks_each,
};

/* The schema's version: -1 if the database has no Amana schema. */
static enum amana_err schema_version(PGconn *c, long long *v)
{
	PGresult *r = PQexec(c, "SELECT to_regclass('schema_version') IS NOT NULL");
	enum amana_err err = result_err(r);
	bool exists = !err && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (err)
		return err;
	if (!exists) {
		*v = -1;
		return AMANA_OK;
	}
	r = PQexec(c, "SELECT version FROM schema_version");
	err = result_err(r);
	if (!err && PQntuples(r) == 1)
		*v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else if (!err)
		err = AMANA_ERR_CORRUPT;
	PQclear(r);
	return err;
}

/* Whether the role c logs in as may change the tables (it owns them, or
 * is a member of their owner): AMANA_ERR_DENIED if not. The application
 * role may not; it stops before any change rather than halfway. */
static enum amana_err may_migrate(PGconn *c)
{
	PGresult *r = PQexec(c, "SELECT pg_catalog.pg_has_role(current_user, t.relowner, 'USAGE')"
				" FROM pg_catalog.pg_class t WHERE t.oid = 'public.schema_version'::regclass");
	enum amana_err err = result_err(r);
	if (!err)
		err = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't' ? AMANA_OK : AMANA_ERR_DENIED;
	PQclear(r);
	return err;
}

/* Create (create = 1) or check the schema; changes run in one transaction
 * under the writer lock. Opening an up-to-date schema takes no lock, so a
 * reader opens beside a running writer. */
static enum amana_err migrate(PGconn *c, int create)
{
	long long v;
	enum amana_err err;
	if (!create) {
		if ((err = schema_version(c, &v)))
			return err;
		if (v < 0)
			return AMANA_ERR_NOTFOUND;
		if (v > MIGRATION_COUNT)
			return AMANA_ERR_CORRUPT; /* written by a newer Amana */
		if (v == MIGRATION_COUNT)
			return AMANA_OK;
	}
	if (!create && (err = may_migrate(c)))
		return err;
	if ((err = exec_sql(c, "BEGIN; SELECT pg_advisory_xact_lock(" WRITER_LOCK ")")))
		return err;
	if ((err = schema_version(c, &v)))
		goto out;
	if (create && v >= 0) {
		err = AMANA_ERR_EXISTS;
		goto out;
	}
	if (!create && v < 0) {
		err = AMANA_ERR_NOTFOUND;
		goto out;
	}
	if (v > MIGRATION_COUNT) {
		err = AMANA_ERR_CORRUPT; /* written by a newer Amana */
		goto out;
	}
	for (long long i = v < 0 ? 0 : v; i < MIGRATION_COUNT && !err; i++) {
		if ((err = exec_sql(c, migrations[i])))
			break;
		struct params p = { .n = 0 };
		p_i64(&p, i + 1);
		PGresult *r = PQexecParams(c, "UPDATE schema_version SET version = $1", 1, NULL, p.v, p.len, p.fmt, 0);
		err = result_err(r);
		PQclear(r);
	}
out:
	if (!err)
		return exec_sql(c, "COMMIT");
	(void)exec_sql(c, "ROLLBACK");
	return err;
}

/* A connection to conninfo in *out (the caller finishes it, also on
 * failure), with our own settings, whatever the server's defaults: a
 * commit that returned is on disk, and statements never wait forever. */
static enum amana_err pg_connect(const char *conninfo, PGconn **out)
{
	PGconn *c = *out = PQconnectdb(conninfo);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		const char *msg = c ? PQerrorMessage(c) : "";
		return strstr(msg, "does not exist") ? AMANA_ERR_NOTFOUND : AMANA_ERR_IO;
	}
	return exec_sql(c, "SET synchronous_commit = on; SET lock_timeout = '10s'; SET client_min_messages = warning");
}

enum amana_err store_pg_open(const char *conninfo, int create, struct store **out)
{
	*out = NULL;
	struct pg_store *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return AMANA_ERR_NOMEM;
	ps->base.ops = &pg_ops;
	enum amana_err err;
	if ((err = pg_connect(conninfo, &ps->conn)))
		goto fail;
	if ((err = migrate(ps->conn, create)))
		goto fail;
	for (int i = 0; i < P_COUNT; i++) {
		stmt_name((enum pq_id)i, ps->names[i]);
		PGresult *r = PQprepare(ps->conn, ps->names[i], pq[i].sql, pq[i].nparams, NULL);
		err = result_err(r);
		PQclear(r);
		if (err)
			goto fail;
	}
	*out = &ps->base;
	return AMANA_OK;
fail:
	pg_close(&ps->base);
	return err;
}

static enum amana_err store_pg_migrate(const char *conninfo, long long *from, long long *to)
{
	PGconn *c;
	enum amana_err err = pg_connect(conninfo, &c);
	if (!err && !(err = schema_version(c, from))) {
		err = *from < 0 ? AMANA_ERR_NOTFOUND : migrate(c, 0);
		*to = MIGRATION_COUNT;
	}
	PQfinish(c);
	return err;
}

int store_is_pg(const char *location)
{
	return !strncmp(location, "postgresql://", 13) || !strncmp(location, "postgres://", 11);
}

enum amana_err store_open(const char *location, int create, struct store **out)
{
	return store_is_pg(location) ? store_pg_open(location, create, out) : store_sqlite_open(location, create, out);
}

enum amana_err store_migrate(const char *location, long long *from, long long *to)
{
	*from = *to = -1;
	return store_is_pg(location) ? store_pg_migrate(location, from, to) : store_sqlite_migrate(location, from, to);
}

/* What the application role may do: read everything, insert records, and
 * update only the three tables whose rows change by design (meta values,
 * sequence counters, employment end dates). No DELETE, TRUNCATE, UPDATE of
 * persons, employers, declarations or their lines, no DDL: it owns nothing. */
/* GRANT takes no parameters: the role comes in bound, as a setting of the
 * transaction, and the server quotes it (%I). */
static const char app_grants[] =
    "DO $grants$ DECLARE app text := current_setting('amana.app_role'); BEGIN"
    " EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app);"
    " EXECUTE format('GRANT SELECT ON schema_version TO %I', app);"
    " EXECUTE format('GRANT SELECT, INSERT, UPDATE ON meta, sequences, employments TO %I', app);"
    " EXECUTE format('GRANT SELECT, INSERT ON keyring, employers, persons, declarations,"
    " declaration_lines TO %I', app);"
    " EXECUTE format('GRANT USAGE ON SEQUENCE employments_id_seq TO %I', app);"
    " EXECUTE format('GRANT SELECT, INSERT ON accounts, sessions TO %I', app);"
    " EXECUTE format('GRANT UPDATE (failures, locked_until, suspended, totp_step) ON accounts TO %I', app);"
    " EXECUTE format('GRANT UPDATE (revoked) ON sessions TO %I', app);"
    " EXECUTE format('GRANT SELECT, INSERT ON marks, alerts TO %I', app);"
    " EXECUTE format('GRANT UPDATE (kinds) ON marks TO %I', app);"
    " END $grants$";

enum amana_err store_pg_grant_app(struct store *s, const char *app_conninfo, char *role, size_t role_cap)
{
	struct pg_store *ps = P(s);
	/* The role's name, from the role itself: it can log in, and it is not
	 * the owner. */
	PGconn *app = PQconnectdb(app_conninfo);
	if (!app || PQstatus(app) != CONNECTION_OK) {
		PQfinish(app);
		return AMANA_ERR_IO;
	}
	PGresult *r = PQexec(app, "SELECT current_user, (SELECT tableowner FROM pg_tables WHERE tablename = 'meta'"
				  " AND schemaname = 'public')");
	enum amana_err err = result_err(r);
	if (!err && (PQntuples(r) != 1 || !strcmp(PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1))))
		err = AMANA_ERR_USAGE; /* the application would run as the owner */
	if (!err && (size_t)snprintf(role, role_cap, "%s", PQgetvalue(r, 0, 0)) >= role_cap)
		err = AMANA_ERR_LIMIT;
	PQclear(r);
	PQfinish(app);
	if (err)
		return err;
	if ((err = exec_sql(ps->conn, "BEGIN")))
		return err;
	const char *values[1] = { role };
	r = PQexecParams(ps->conn, "SELECT set_config('amana.app_role', $1, true)", 1, NULL, values, NULL, NULL, 0);
	err = result_err(r);
	PQclear(r);
	if (!err)
		err = exec_sql(ps->conn, app_grants);
	return err ? (exec_sql(ps->conn, "ROLLBACK"), err) : exec_sql(ps->conn, "COMMIT");
}
