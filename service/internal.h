/*
 * internal.h - what the service modules share: the open registry, sealed
 * record layouts, and lookups by blind index. Not for cli/ or http/.
 */
#ifndef AMANA_SERVICE_INTERNAL_H
#define AMANA_SERVICE_INTERNAL_H

#include <limits.h>

#include "core/rules.h"
#include "crypto/auth.h"
#include "crypto/crypto.h"
#include "service.h"
#include "store/store.h"

/* Blind-index widths, from the leakage budget (docs/internals/crypto.md):
 * CipherSweet's rule 2 <= rows / 2^bits < sqrt(rows) at the national scale
 * (33 million persons, 1 million employers), so every index value is shared
 * by several rows there and candidates are confirmed by decrypting. */
#define BIDX_BITS_AFFILIATION 16
#define BIDX_BITS_REGISTRATION 22
#define BIDX_BITS_CIN 22
#define BIDX_BITS_NAME 16
#define BIDX_BITS_LOGIN 22

struct guard;

struct registry {
	struct store *store;
	struct audit_log *audit;
	struct crypto_keyring *keys;
	struct rules rules;
	struct crypto_bidx_key bx_aff, bx_reg, bx_cin, bx_name, bx_login, bx_mark;
	struct guard *guard; /* budgets, suspensions, the alert sink */
	struct registry *parent; /* a worker's: it owns all but the store */
	uint64_t *audit_defer; /* registry_defer_audit: where the last queued entry's ticket goes */
	char dir[PATH_MAX];
};

/* ---- guard.c: the count in "authorize, count, act, audit" ---- */

enum amana_err guard_new(struct guard **out) AMANA_MUST_CHECK;
void guard_free(struct guard *g);

/* What an access is to, as service/ found it. */
struct guard_request {
	enum policy_act act;
	char subject_kind; /* AUDIT_SUBJECT_PERSON or _EMPLOYER, 0: none */
	int64_t subject_id; /* its row */
	uint32_t person; /* the person's registration number, 0: none */
	uint32_t employer; /* the employer's affiliation, 0: none */
	bool employed; /* the person worked for that employer in the periods asked */
	bool purpose; /* a purpose was stated */
	bool document; /* a document download */
};

/* Decide who's access: scope, marks, budgets (policy.h). Alerts are
 * stored and handed to the sink whatever the outcome; past a budget the
 * account is suspended. AMANA_OK to go on; otherwise the refusal
 * (AMANA_ERR_DENIED, or AMANA_ERR_LIMIT past a budget), its reason in
 * note->reason. The CLI (no session) is held to its purpose rule only. */
enum amana_err guard_access(struct registry *r, const struct principal *who, const struct guard_request *q,
			    struct audit_entry *note) AMANA_MUST_CHECK;
/* Alert for each marked person among the n a list shows (an access the
 * list's own guard_access allowed). */
enum amana_err guard_listed(struct registry *r, const struct principal *who, enum policy_act act, uint32_t employer,
			    const int64_t *persons, size_t n) AMANA_MUST_CHECK;
/* Set a subject's marks (gen's bait). */
enum amana_err mark_subject(struct registry *r, char subject_kind, int64_t id, int64_t kinds) AMANA_MUST_CHECK;
/* Sessions recently checked (svc_session_check): a hit for a valid,
 * unexpired one; drop one token's, or (hash NULL) an account's.
 * A check that missed reads the store, then puts what it read, which may
 * be stale by then: a logout or a suspension may have come in between.
 * So a miss also hands out the cache's generation (*gen), which every
 * drop advances, and a put with an older generation is not kept. Callers
 * that revoke or suspend write the store first, then drop: a check that
 * read before the write puts before the drop (dropped with it) or after
 * it (refused). */
bool session_cache_get(struct registry *r, const uint8_t hash[STORE_TOKEN_HASH_BYTES], int64_t now,
		       struct session_principal *out, uint64_t *gen);
void session_cache_put(struct registry *r, const uint8_t hash[STORE_TOKEN_HASH_BYTES],
		       const struct session_principal *sp, uint64_t gen);
void session_cache_drop(struct registry *r, const uint8_t *hash, int64_t account);
/* Employer rows' affiliation numbers, kept once opened (not personal
 * data; one query and one decryption fewer per employment shown). */
bool affiliation_cached(struct registry *r, int64_t employer_id, uint32_t *aff);
void affiliation_keep(struct registry *r, int64_t employer_id, uint32_t aff);
/* A subject's marks (enum policy_alert bits). */
enum amana_err marks_of(struct registry *r, char subject_kind, int64_t id, int64_t *kinds) AMANA_MUST_CHECK;

/* Sealed record layouts (plaintext side). */
struct identity_rec {
	char name[61];
	uint32_t birth_date;
	unsigned children;
};

struct profile_rec {
	char name[41];
	char ice[16];
	char activity[41];
	char address[121];
	char city[21];
	char postcode[7];
};

struct totals_rec {
	int64_t employees, children, days;
	int64_t real_salaries, capped_salaries;
	int64_t af_to_pay, af_to_deduct, af_net, af_give_back;
};

/* What an account keeps sealed beside its login: the password's hash,
 * the TOTP secret (not for a citizen) and its scope. */
#define ACCOUNT_EMPLOYERS_MAX 32
struct account_rec {
	char password_hash[CRYPTO_PASSWORD_HASH_MAX];
	bool has_totp;
	uint8_t totp[CRYPTO_TOTP_SECRET_BYTES];
	uint32_t person; /* a citizen's registration number */
	unsigned n_employers;
	uint32_t employers[ACCOUNT_EMPLOYERS_MAX]; /* an employer account's affiliations */
};

/* Largest sealed record: a profile plus overhead. */
#define SEALED_MAX 512

/* Seal/open helpers: each binds the value to (table, column, row, sub). */
enum amana_err seal_u32(struct registry *r, const char *table, const char *column, int64_t row, uint32_t v,
			uint8_t out[SEALED_MAX], size_t *len) AMANA_MUST_CHECK;
enum amana_err open_u32(struct registry *r, const char *table, const char *column, int64_t row,
			const struct store_blob *b, uint32_t *v) AMANA_MUST_CHECK;
enum amana_err seal_text(struct registry *r, const char *table, const char *column, int64_t row, const char *s,
			 uint8_t out[SEALED_MAX], size_t *len) AMANA_MUST_CHECK;
enum amana_err open_text(struct registry *r, const char *table, const char *column, int64_t row,
			 const struct store_blob *b, char *out, size_t cap) AMANA_MUST_CHECK;
enum amana_err seal_identity(struct registry *r, int64_t person_id, const struct identity_rec *in,
			     uint8_t out[SEALED_MAX], size_t *len) AMANA_MUST_CHECK;
enum amana_err open_identity(struct registry *r, int64_t person_id, const struct store_blob *b,
			     struct identity_rec *out) AMANA_MUST_CHECK;
enum amana_err seal_profile(struct registry *r, int64_t employer_id, const struct profile_rec *in,
			    uint8_t out[SEALED_MAX], size_t *len) AMANA_MUST_CHECK;
enum amana_err open_profile(struct registry *r, int64_t employer_id, const struct store_blob *b,
			    struct profile_rec *out) AMANA_MUST_CHECK;
enum amana_err seal_account(struct registry *r, int64_t account_id, const struct account_rec *in,
			    uint8_t out[SEALED_MAX], size_t *len) AMANA_MUST_CHECK;
enum amana_err open_account(struct registry *r, int64_t account_id, const struct store_blob *b,
			    struct account_rec *out) AMANA_MUST_CHECK;
enum amana_err seal_totals(struct registry *r, int64_t declaration_id, const struct totals_rec *in,
			   uint8_t out[SEALED_MAX], size_t *len) AMANA_MUST_CHECK;
enum amana_err open_totals(struct registry *r, int64_t declaration_id, const struct store_blob *b,
			   struct totals_rec *out) AMANA_MUST_CHECK;

/* Blind indexes of normalized identifiers. */
int64_t bidx_affiliation(struct registry *r, uint32_t aff);
int64_t bidx_registration(struct registry *r, uint32_t reg);
int64_t bidx_cin(struct registry *r, const char *cin);
int64_t bidx_name(struct registry *r, const char *normalized_name);
int64_t bidx_login(struct registry *r, const char *login);

/* Find by identifier: candidates by blind index, confirmed by decrypting.
 * AMANA_ERR_NOTFOUND if none matches. */
enum amana_err find_employer(struct registry *r, uint32_t aff, int64_t *id) AMANA_MUST_CHECK;
/* The same through another connection to the registry's store. */
enum amana_err find_employer_on(struct registry *r, struct store *s, uint32_t aff, int64_t *id) AMANA_MUST_CHECK;
enum amana_err find_person_by_reg(struct registry *r, uint32_t reg, int64_t *id) AMANA_MUST_CHECK;
/* A person's blind indexes of name and CIN (cin_bidx 0: CIN unknown), kept
 * in clear by the store: a hire's declared identity is checked against
 * them without opening anything. */
struct person_keys {
	int64_t name_bidx, cin_bidx;
};
enum amana_err find_person_by_reg_keys(struct registry *r, uint32_t reg, int64_t *id,
				       struct person_keys *keys) AMANA_MUST_CHECK;
/* The same, keeping the row's sealed identity and CIN (opened only once
 * the read is authorized): one query for a read of a person. */
struct person_sealed {
	uint8_t identity[SEALED_MAX], cin[SEALED_MAX];
	size_t identity_len, cin_len;
	int64_t created_at;
};
enum amana_err find_person_sealed(struct registry *r, uint32_t reg, int64_t *id,
				  struct person_sealed *out) AMANA_MUST_CHECK;
enum amana_err find_person_by_cin(struct registry *r, const char *cin, int64_t *id, uint32_t *reg) AMANA_MUST_CHECK;
/* The start of every read of one person's data: the purpose sealed into
 * note, the person found (their row id into note's subjects, even when
 * the read is refused), then the guard (scope, purpose, budgets, marks),
 * which is asked found or not so that who may not read a number learns
 * nothing of whether it exists. AMANA_OK: allowed, *id and *ps set;
 * otherwise the caller commits note with the error. */
enum amana_err person_read_guard(struct registry *r, const struct principal *who, uint32_t registration,
				 const char *purpose, struct audit_entry *note, int64_t *id,
				 struct person_sealed *ps) AMANA_MUST_CHECK;
/* The identity (name, birth date, children) of a row found so. */
enum amana_err person_identity_open(struct registry *r, int64_t id, const struct person_sealed *ps,
				    struct identity_rec *out) AMANA_MUST_CHECK;
enum amana_err find_person_by_cin_on(struct registry *r, struct store *s, const char *cin, int64_t *id, uint32_t *reg,
				     struct person_keys *keys) AMANA_MUST_CHECK;

/* An employer's profile (no counts), by row id. */
enum amana_err employer_load(struct registry *r, int64_t id, struct employer_view *out) AMANA_MUST_CHECK;

/* Another connection to r's store, for another thread: on a database server
 * only (AMANA_ERR_NOTFOUND for SQLite, where a lookup costs no round trip). */
enum amana_err registry_store_connection(struct registry *r, struct store **out) AMANA_MUST_CHECK;
/* Another connection to r's store on either backend, for a long scan on
 * another thread (the payment run's). */
enum amana_err registry_scan_connection(struct registry *r, struct store **out) AMANA_MUST_CHECK;

/* The affiliation number of an employer row. */
enum amana_err employer_affiliation(struct registry *r, int64_t employer_id, uint32_t *aff) AMANA_MUST_CHECK;

/* Register a person inside the caller's transaction: checks the CIN is new,
 * assigns the next registration number. */
enum amana_err person_create(struct registry *r, const char *cin, const char *name, uint32_t birth_date,
			     unsigned children, int64_t now, int64_t *id, uint32_t *reg) AMANA_MUST_CHECK;
/* The same for a CIN the caller has just looked up in this transaction
 * (find_person_by_cin gave AMANA_ERR_NOTFOUND): no second lookup. */
enum amana_err person_create_looked_up(struct registry *r, const char *cin, const char *name, uint32_t birth_date,
				       unsigned children, int64_t now, int64_t *id, uint32_t *reg) AMANA_MUST_CHECK;
/* Register an employer inside the caller's transaction. */
enum amana_err employer_create(struct registry *r, uint32_t aff, const struct profile_rec *p, int64_t now,
			       int64_t *id) AMANA_MUST_CHECK;

/* Family allowance owed for a number of children in a period (A02 fields). */
enum amana_err family_allowance(const struct rules *rules, uint32_t period, unsigned children,
				int64_t *amount) AMANA_MUST_CHECK;

/* ---- the audit entry of a call (audit.c) ---- */

/* Longest purpose a caller may give (a case reference or a reason). */
#define PURPOSE_MAX 200

/* Start the entry of a call: time, principal, role, action, request. */
void audit_note(struct audit_entry *e, const struct principal *who, const char *action);
/* Seal the purpose into the entry (AMANA_ERR_USAGE if too long). */
enum amana_err audit_note_purpose(struct registry *r, struct audit_entry *e, const char *purpose) AMANA_MUST_CHECK;
enum amana_err audit_open_purpose(struct registry *r, const struct audit_entry *e, char *out,
				  size_t cap) AMANA_MUST_CHECK;
/* Append the entry with the call's result as outcome; durable on return.
 * Returns result, or the log's error if the entry could not be written:
 * the caller then returns no data (fail closed). */
enum amana_err audit_commit(struct registry *r, struct audit_entry *e, enum amana_err result) AMANA_MUST_CHECK;
/* The same for a call that shows a list (an employer's employees, a
 * pre-filled list): e gets the n subjects of kind ids; those past what one
 * entry holds (AUDIT_SUBJECTS_MAX) go into continuation entries written
 * right after it (action "<action>+", same principal, time and request),
 * so that every person shown finds the read in their access history. All
 * are durable, or the call fails, before anything is shown. */
enum amana_err audit_commit_listing(struct registry *r, struct audit_entry *e, enum amana_err result, char kind,
				    const int64_t *ids, size_t n) AMANA_MUST_CHECK;
/* End a write's transaction: if err is AMANA_OK, append e (marked appended:
 * its action emptied) and then commit, so nothing lands that the log does
 * not show; otherwise, or if either fails, roll back. Returns the first
 * error. */
enum amana_err audit_then_commit(struct registry *r, struct audit_entry *e, enum amana_err err) AMANA_MUST_CHECK;

/* The built-in copy of data/rules.txt (generated at build time). */
extern const char amana_default_rules[];
extern const size_t amana_default_rules_len;

#endif
