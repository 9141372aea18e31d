/*
 * service.h - the use cases of Amana, and the only door to personal data.
 *
 * Every function here follows one shape: authorize the principal for the
 * object, act through store/ and crypto/, and return plain values to the
 * caller (cli/ today, http/ later), who only renders them. Plaintext comes
 * out of here only into caller-owned structs; callers wipe them with the
 * matching *_clear function when done.
 */
#ifndef AMANA_SERVICE_H
#define AMANA_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/contrib.h"
#include "core/ebds.h"
#include "core/error.h"
#include "core/rights.h"
#include "core/rules.h"
#include "audit/log.h"
#include "policy/policy.h"

struct registry;

/* Who is calling. The CLI acts as an agent named "cli:<user>"; every read of
 * a person needs a purpose (a case id or reason). */
struct session_principal;
struct principal {
	char id[64];
	enum role role;
	/* The request this call serves, for the audit log. */
	char client[64]; /* the caller's address; "" means local (the CLI) */
	char request_id[64];
	/* An amanad caller: its account and scope, from svc_session_check.
	 * The policy (scope on every object, budgets, suspension) applies to
	 * it; NULL for the CLI, which runs with the operator's own key file. */
	const struct session_principal *session;
	/* What the call is for (a case id), for calls on employers' data by an
	 * agent: checked by the policy, sealed in the audit entry. */
	const char *purpose;
};

/* ---- the registry ---- */

/* Create a registry in dir (created if missing, refused if it already holds
 * one) and a new KEK file at key_path (refused if it exists, or if it lies
 * inside dir). rules_text is the dated rules to install (NULL: the built-in
 * copy of data/rules.txt). store_uri (NULL: a SQLite file in dir) names an
 * existing, empty PostgreSQL database to hold the tables instead, made
 * by the role it logs in as (the owner); app_store_uri (NULL: the same) is
 * how every later command connects, as a role that owns nothing and gets
 * only the rights the registry needs. Nothing is left behind on failure
 * (but tables already made in PostgreSQL). */
enum amana_err registry_init(const char *dir, const char *key_path, const char *rules_text, size_t rules_len,
			     const char *store_uri, const char *app_store_uri, char *why,
			     size_t why_cap) AMANA_MUST_CHECK;

/* Bring the registry's tables up to this build's schema: those of dir
 * (its store.conf, or DIR/registry.db), or of the PostgreSQL database
 * owner_uri names, connecting as the role that owns them (the application
 * role may not change tables). *from and *to are the schema versions
 * before and after. Reads no personal data and needs no key. */
enum amana_err registry_migrate(const char *dir, const char *owner_uri, long long *from, long long *to, char *why,
				size_t why_cap) AMANA_MUST_CHECK;

/* Open an existing registry with its KEK. why receives a sentence for the
 * user on failure (never personal data). */
enum amana_err registry_open(const char *dir, const char *key_path, struct registry **out, char *why,
			     size_t why_cap) AMANA_MUST_CHECK;
void registry_close(struct registry *r);
const struct rules *registry_rules(const struct registry *r);

/* Worker connections, for a server's threads: w shares r's keys, audit
 * log, policy and budgets, and has a store connection of its own. Close
 * every worker before r. */
enum amana_err registry_worker_open(struct registry *r, struct registry **w) AMANA_MUST_CHECK;
void registry_worker_close(struct registry *w);

/* For a server with many requests in flight: while a worker registry
 * defers (ticket non-NULL), its calls queue the audit entries of their
 * reads instead of waiting for each to be durable, and leave the last
 * one's ticket in *ticket (0: none). Whatever such a call returned may
 * leave the process only once svc_audit_wait(w, *ticket) succeeds; if it
 * fails, nothing of it may. Writes still wait for their entry before they
 * commit. NULL stops deferring. */
void registry_defer_audit(struct registry *w, uint64_t *ticket);
enum amana_err svc_audit_wait(struct registry *r, uint64_t ticket) AMANA_MUST_CHECK;
/* Without waiting: every ticket up to *durable is durable; an error says
 * the log broke (later tickets never will be). */
enum amana_err svc_audit_durable(struct registry *r, uint64_t *durable);
/* fn(ctx, durable, broken) after every batch of the log is written or
 * failed, from the thread that wrote it (audit_on_durable in audit/log.h):
 * a server sends its held answers from there. NULL removes it. */
void registry_on_audit_durable(struct registry *r, audit_durable_fn fn, void *ctx);

/* The budgets (policy.h) of amanad's principals: the defaults until set. */
void registry_set_policy(struct registry *r, const struct policy_config *c);

/* Alerts (policy.h) are stored, and each is handed as a JSON line (no
 * personal data: internal row ids and the policy's reason) to the sink, if
 * one is set: amanad writes them to its log. Called from any thread. */
typedef void (*alert_sink_fn)(void *ctx, const char *json_line);
void registry_set_alert_sink(struct registry *r, alert_sink_fn fn, void *ctx);

/* ---- employers ---- */

struct employer_input {
	uint32_t affiliation;
	const char *name;
	const char *ice; /* 15 digits or NULL */
	const char *activity; /* NULL allowed */
	const char *address;
	const char *city;
	const char *postcode;
};

struct employer_view {
	uint32_t affiliation;
	char name[41];
	char ice[16];
	char activity[41];
	char address[121];
	char city[21];
	char postcode[7];
	int64_t created_at;
	unsigned declarations; /* count of accepted declarations */
	uint32_t last_period; /* 0 if none */
};

enum amana_err svc_employer_register(struct registry *r, const struct principal *who, const struct employer_input *in,
				     char *why, size_t why_cap) AMANA_MUST_CHECK;
enum amana_err svc_employer_show(struct registry *r, const struct principal *who, uint32_t affiliation,
				 struct employer_view *out) AMANA_MUST_CHECK;
void employer_view_clear(struct employer_view *v);

/* ---- persons ---- */

struct person_input {
	const char *cin;
	const char *name;
	uint32_t birth_date; /* YYYYMMDD, 0 if unknown */
	unsigned children;
};

struct employment_view {
	uint32_t affiliation;
	uint32_t start_period;
	uint32_t end_period; /* 0 while ongoing */
};

#define PERSON_VIEW_JOBS 32
struct person_view {
	uint32_t registration;
	char cin[9];
	char name[61];
	uint32_t birth_date;
	unsigned children;
	int64_t created_at;
	struct employment_view jobs[PERSON_VIEW_JOBS];
	unsigned job_count; /* kept in jobs */
	unsigned job_total; /* all of them */
};

enum amana_err svc_person_register(struct registry *r, const struct principal *who, const struct person_input *in,
				   uint32_t *registration, char *why, size_t why_cap) AMANA_MUST_CHECK;
enum amana_err svc_person_show(struct registry *r, const struct principal *who, uint32_t registration,
			       const char *purpose, struct person_view *out) AMANA_MUST_CHECK;
void person_view_clear(struct person_view *v);

/* ---- pre-filled lists ---- */

/* Write the pre-filled list (A00-A03, CRLF) for (affiliation, period) to
 * out: the persons of the employer's last accepted declaration before period,
 * minus those who left (SO, DE), with children and family allowance. */
enum amana_err svc_prefill(struct registry *r, const struct principal *who, uint32_t affiliation, uint32_t period,
			   FILE *out, unsigned *persons) AMANA_MUST_CHECK;

/* ---- import ---- */

struct import_file_result {
	const char *path;
	enum amana_err err; /* AMANA_OK accepted; AMANA_ERR_INPUT rejected; other: failure */
	struct ebds_errors *errors; /* owned by the import; valid during the callback */
	uint32_t affiliation;
	uint32_t period;
	unsigned seq; /* 0 main, k complementary */
	int64_t lines; /* B02 + B04 lines written */
	int64_t hires; /* B04 lines */
	int64_t new_persons; /* registered from a CIN (000000000) */
	int64_t leavers; /* SO and DE */
	char detail[160]; /* for failures other than input errors */
};

typedef void (*import_report_fn)(void *ctx, const struct import_file_result *res);
typedef void (*import_progress_fn)(void *ctx, size_t files_done, size_t files_total, int64_t lines, uint64_t bytes_done,
				   uint64_t bytes_total);

struct import_options {
	import_report_fn report; /* called for each file once its fate is durable */
	import_progress_fn progress; /* called now and then; may be NULL */
	void *ctx;
	int64_t batch_lines; /* commit after about this many lines (0: default) */
	/* Non-zero: every file must declare this employer (others are
	 * rejected). An amanad caller must set it: its scope is checked
	 * against it before anything is read. */
	uint32_t only_affiliation;
};

struct import_summary {
	size_t files_accepted, files_rejected, files_failed;
	int64_t lines, hires, new_persons, leavers;
	size_t files_read_ahead; /* files checked against what was read ahead for them */
	size_t rosters_read; /* earlier declarations read ahead from their roster, not their lines */
	size_t hires_found_ahead; /* hires whose person the reading thread found (database servers) */
};

/* Ingest declaration files, each all or nothing. Files are checked and
 * written in one pass inside a savepoint; a rejected file rolls back to it.
 * Accepted files are committed in batches; a batch is reported only once it
 * is durable. Returns AMANA_OK if every file was accepted, AMANA_ERR_INPUT if
 * some were rejected, another error if the registry failed (what was
 * committed stays, nothing half-written). */
enum amana_err svc_import(struct registry *r, const struct principal *who, const char *const *paths, size_t count,
			  const struct import_options *opt, struct import_summary *summary) AMANA_MUST_CHECK;

/* ---- contributions ---- */

struct contributions_view {
	uint32_t affiliation;
	uint32_t period;
	int64_t employees; /* B02 + B04 lines with a person or occasional */
	unsigned declarations; /* main + complementary */
	struct contributions c;
};

/* Contributions owed for (affiliation, period), over every accepted
 * declaration of that period (main and complementary), rounded once. */
enum amana_err svc_contributions(struct registry *r, const struct principal *who, uint32_t affiliation, uint32_t period,
				 struct contributions_view *out) AMANA_MUST_CHECK;

/* ---- an employer's own data ---- */

struct declaration_view {
	unsigned seq; /* 0 the main declaration, k the k-th complementary */
	int64_t imported_at; /* unix seconds */
	int64_t lines;
	uint8_t digest[32]; /* SHA-256 of the file as received */
	int64_t employees, days;
	int64_t real_salaries, capped_salaries, family_allowances; /* centimes */
};
typedef enum amana_err (*declaration_fn)(void *ctx, const struct declaration_view *d);
/* An employer's accepted declarations of a period, main first
 * (ACT_DECLARATION_READ). AMANA_ERR_NOTFOUND if there is none. Audited as
 * declarations.read with each declaration. */
enum amana_err svc_declarations(struct registry *r, const struct principal *who, uint32_t affiliation, uint32_t period,
				declaration_fn fn, void *ctx) AMANA_MUST_CHECK;

struct employee_view {
	uint32_t registration;
	char name[61];
	unsigned children;
};
typedef enum amana_err (*employee_fn)(void *ctx, const struct employee_view *e);
/* The employer's employees: the persons of its latest accepted declaration,
 * without those who left (*from_period: that declaration's period, 0 if
 * none). A document (ACT_EMPLOYEES_LIST). Audited as employees.read with
 * every person listed. */
enum amana_err svc_employees(struct registry *r, const struct principal *who, uint32_t affiliation, employee_fn fn,
			     void *ctx, uint32_t *from_period) AMANA_MUST_CHECK;

/* ---- synthetic country ---- */

struct gen_options {
	uint32_t employers;
	uint32_t persons;
	uint32_t months;
	uint64_t seed;
	uint32_t first_period; /* YYYYMM */
	const char *out_dir;
	void (*progress)(void *ctx, const char *stage, uint64_t done, uint64_t total);
	void *ctx;
};

struct gen_summary {
	uint32_t employers, persons, unregistered, files;
	uint32_t honeytoken_employers, honeytoken_persons; /* bait planted besides */
	uint64_t lines;
	uint32_t first_period, last_period;
};

enum amana_err svc_gen(struct registry *r, const struct principal *who, const struct gen_options *opt,
		       struct gen_summary *out, char *why, size_t why_cap) AMANA_MUST_CHECK;

/* ---- registry statistics (no personal data) ---- */

struct registry_stats {
	int64_t employers, persons, employments, declarations, lines;
};
enum amana_err svc_stats(struct registry *r, const struct principal *who, struct registry_stats *out) AMANA_MUST_CHECK;

/* ---- accounts (the logins of amanad) ---- */

struct account_input {
	enum role role;
	const char *login; /* 3-64 characters: a-z 0-9 . _ @ - */
	const char *password; /* 12-1024 bytes */
	size_t password_len;
	const uint32_t *employers; /* an employer account: the affiliations it acts for (1-32) */
	size_t n_employers;
	uint32_t person; /* a citizen account: its registration number */
};

struct account_created {
	int64_t id;
	char totp_secret[40]; /* base32, for an authenticator app; empty for a citizen. Shown once. */
};

/* Make an account (an agent or a supervisor may). The login must be free;
 * an employer account names registered employers, a citizen account a
 * registered person, others no scope. Every role but citizen gets a TOTP
 * secret, returned once in out; the caller wipes out. */
enum amana_err svc_account_add(struct registry *r, const struct principal *who, const struct account_input *in,
			       struct account_created *out, char *why, size_t why_cap) AMANA_MUST_CHECK;

/* Sessions. A login takes the password and, for every role but citizen, a
 * TOTP code of the account's secret (each code once); five failures in a
 * row lock the account for 15 minutes, and a suspended account cannot log
 * in. A session is a random token (64 hex characters) the registry keeps
 * only hashed, good for 30 minutes or until closed. now: unix seconds. */
#define SESSION_TOKEN_BYTES 32
#define SESSION_TOKEN_CHARS (2 * SESSION_TOKEN_BYTES)

struct session_request {
	const char *login;
	const char *password;
	size_t password_len;
	const char *totp; /* six digits (NULL for a citizen) */
	size_t totp_len;
	int64_t now;
};

struct session_opened {
	char token[SESSION_TOKEN_CHARS + 1]; /* handed to the caller once */
	int64_t account_id;
	enum role role;
	int64_t expires_at;
};

/* Whom a valid token stands for: role and scope, for policy/. */
struct session_principal {
	int64_t account_id;
	enum role role;
	int64_t expires_at;
	uint32_t person; /* a citizen's registration number */
	unsigned n_employers;
	uint32_t employers[32]; /* an employer account's affiliations */
};

/* AMANA_ERR_DENIED for a wrong login, password or code, a locked or
 * suspended account, alike (the entry's reason tells the auditor which). */
enum amana_err svc_session_open(struct registry *r, const struct principal *who, const struct session_request *req,
				struct session_opened *out) AMANA_MUST_CHECK;
/* AMANA_ERR_DENIED for a token unknown, expired, closed, or of a suspended
 * account. */
enum amana_err svc_session_check(struct registry *r, const char *token, size_t len, int64_t now,
				 struct session_principal *out) AMANA_MUST_CHECK;
/* Close (revoke) a session; AMANA_ERR_DENIED for an unknown token. */
enum amana_err svc_session_close(struct registry *r, const char *token, size_t len) AMANA_MUST_CHECK;

/* ---- marks, alerts and suspensions ---- */

/* Mark a person (registration) or an employer (affiliation): kinds are
 * enum policy_alert bits, ALERT_SENSITIVE and ALERT_HONEYTOKEN (0 clears
 * them). Every later access to it alerts. An agent or supervisor may. */
enum mark_subject { MARK_PERSON, MARK_EMPLOYER };
enum amana_err svc_mark(struct registry *r, const struct principal *who, enum mark_subject kind, uint32_t number,
			unsigned kinds, char *why, size_t why_cap) AMANA_MUST_CHECK;

struct alert_view {
	int64_t id;
	int64_t at_ms;
	int64_t account_id; /* 0: not an amanad account */
	char principal[64];
	unsigned kinds; /* enum policy_alert bits */
	char subject_kind; /* 'p' person, 'e' employer, 0 none */
	uint32_t subject; /* its registration or affiliation number */
	char reason[128];
};
typedef enum amana_err (*alert_fn)(void *ctx, const struct alert_view *a);
/* Alerts with id > after, oldest first, at most limit (1-1000): for a
 * supervisor or an auditor. */
enum amana_err svc_alerts(struct registry *r, const struct principal *who, int64_t after, unsigned limit, alert_fn fn,
			  void *ctx) AMANA_MUST_CHECK;

/* Lift an account's suspension and lockout, and start its budgets afresh:
 * a supervisor may, for another account. AMANA_ERR_NOTFOUND if none. */
enum amana_err svc_principal_unlock(struct registry *r, const struct principal *who,
				    int64_t account_id) AMANA_MUST_CHECK;

/* ---- careers and rights (issue 6) ---- */

/* One line of one declaration for the person: a month at an employer. */
struct career_entry_view {
	uint32_t period; /* YYYYMM */
	uint32_t affiliation;
	unsigned declaration_seq; /* 0 main, 1..9 complementary */
	unsigned situation; /* rank of the e-BDS situation code (0 normal) */
	unsigned days; /* as declared */
	int64_t real_salary, capped_salary; /* centimes */
};

/* A person's career: every line, by period then employer (owned: free with
 * career_view_clear), and the totals of core/career.h (days capped at 26 a
 * month). */
struct career_view {
	uint32_t registration;
	struct career_entry_view *entries;
	size_t n;
	uint64_t total_days;
	unsigned months_with_salary, months;
};

/* The career statement of a person: read like any record of theirs (a
 * citizen its own; staff with a purpose), audited as career.read with the
 * person. */
enum amana_err svc_career(struct registry *r, const struct principal *who, uint32_t registration, const char *purpose,
			  struct career_view *out) AMANA_MUST_CHECK;
void career_view_clear(struct career_view *v);

/* Sickness in a statement of rights: a leave starting at the date of the
 * waiting days and one more (the registry keeps no sick pay), which says
 * whether the right is open and its daily amount. */
#define RIGHTS_SICKNESS_PROBE_DAYS 4

/* Every right of a person at a date (YYYYMMDD), each with eligibility,
 * amount and reason (core/rights.h), from the career and the parameters in
 * force at that date; family allowance from the number of children the
 * registry holds. Audited as rights.read. AMANA_ERR_USAGE for a bad date. */
struct rights_view {
	uint32_t registration, at, birth_date;
	unsigned children, months_with_salary;
	uint64_t total_days;
	struct right_result pension, family_allowance, sickness, maternity, amo, job_loss;
};
enum amana_err svc_rights(struct registry *r, const struct principal *who, uint32_t registration, uint32_t at,
			  const char *purpose, struct rights_view *out) AMANA_MUST_CHECK;

/* The old-age pension alone, audited as pension.read. AMANA_ERR_NOTFOUND
 * also when the registry has no birth date for the person. */
struct pension_view {
	uint32_t registration, at, birth_date;
	uint64_t total_days;
	struct right_result pension;
};
enum amana_err svc_pension(struct registry *r, const struct principal *who, uint32_t registration, uint32_t at,
			   const char *purpose, struct pension_view *out) AMANA_MUST_CHECK;

/* The payment run of a month (amana rights batch): the family allowances
 * and pensions due for PERIOD across the registry, judged at its first day
 * on the months before it, as svc_rights judges one person. One CSV row a
 * payment to out (header registration,benefit,rule,amount_centimes;
 * benefit family_allowance, pension, or pension_refund once, in the first
 * run whose date finds the pension age reached); persons in id order. One audited read
 * (rights.batch) listing every person paid, durable before it returns: the
 * caller makes the file visible only after AMANA_OK. From the command line
 * only (a session: AMANA_ERR_DENIED). */
enum rights_batch_phase {
	RIGHTS_BATCH_PERSONS, /* done: persons read */
	RIGHTS_BATCH_LINES, /* reading and opening the declarations' lines */
	RIGHTS_BATCH_RIGHTS, /* done of total buckets of persons judged */
};
/* The read-ahead between the thread reading the store and the threads
 * opening what it read: blocks going round, bytes each. */
#define RIGHTS_BATCH_BLOCKS 8
#define RIGHTS_BATCH_BLOCKS_MAX 64
#define RIGHTS_BATCH_BLOCK_BYTES (1u << 20)
#define RIGHTS_BATCH_BLOCK_BYTES_MIN (32u << 10) /* the largest chunk of lines fits */
#define RIGHTS_BATCH_BLOCK_BYTES_MAX (64u << 20)
struct rights_batch_options {
	uint32_t period; /* YYYYMM */
	FILE *out;
	const char *purpose; /* NULL: "payment run YYYY-MM" */
	void (*progress)(void *ctx, enum rights_batch_phase phase, uint64_t done, uint64_t total);
	void *ctx;
	unsigned blocks; /* 0: RIGHTS_BATCH_BLOCKS, else 2 .. RIGHTS_BATCH_BLOCKS_MAX */
	size_t block_bytes; /* 0: RIGHTS_BATCH_BLOCK_BYTES, else within the MIN and MAX above */
};
struct rights_batch_summary {
	uint64_t persons, persons_with_career, lines, without_birth_date;
	/* Chunks of lines before the month, and how many of them were opened:
	 * one before the family allowance's window is opened only if it
	 * names a person of the pension age (no other payment looks there). */
	uint64_t chunks, chunks_opened;
	uint64_t lines_taken; /* of lines, those judged: the window's, and older ones of persons of age */
	uint64_t family_allowances, pensions, pension_refunds;
	int64_t family_allowance_total, pension_total, pension_refund_total; /* centimes */
};
enum amana_err svc_rights_batch(struct registry *r, const struct principal *who, const struct rights_batch_options *o,
				struct rights_batch_summary *sum) AMANA_MUST_CHECK;

/* ---- the audit log (auditor and operator roles) ---- */

/* Every function of this header, and whether it touches personal data (then
 * it appends exactly one audit entry, whose action is given). Ends with a
 * NULL function. A test checks the list against this header. */
struct svc_catalog_entry {
	const char *function;
	const char *action;
	bool personal;
};
extern const struct svc_catalog_entry svc_catalog[];

struct audit_head_view {
	struct audit_head head;
	uint8_t public_key[AUDIT_PUBLIC_KEY_BYTES];
};
/* The latest signed tree head (one is signed first for what this process
 * appended). */
enum amana_err svc_audit_head(struct registry *r, const struct principal *who,
			      struct audit_head_view *out) AMANA_MUST_CHECK;

struct audit_proof_view {
	struct audit_head_view head;
	uint64_t leaf_index;
	merkle_hash leaf_hash;
	merkle_hash path[MERKLE_PROOF_MAX];
	size_t path_len;
	uint8_t entry[AUDIT_ENTRY_MAX]; /* the entry itself: its leaf hash can be recomputed */
	size_t entry_len;
};
/* Inclusion proof of entry seq against the latest head. */
enum amana_err svc_audit_prove(struct registry *r, const struct principal *who, uint64_t seq,
			       struct audit_proof_view *out) AMANA_MUST_CHECK;

struct audit_consistency_view {
	struct audit_head_view head; /* the latest */
	uint64_t old_size, new_size;
	merkle_hash old_root, new_root;
	bool have_old_head, have_new_head; /* signed heads of exactly those sizes */
	struct audit_head old_head, new_head;
	merkle_hash path[MERKLE_PROOF_MAX];
	size_t path_len;
};
/* Consistency proof between the trees of old_size and new_size entries
 * (new_size 0: the latest head's). */
enum amana_err svc_audit_consistency(struct registry *r, const struct principal *who, uint64_t old_size,
				     uint64_t new_size, struct audit_consistency_view *out) AMANA_MUST_CHECK;

/* Entries about a person (registration), an employer (affiliation), by a
 * principal, in a time window [since, until); 0/NULL: no filter. */
struct audit_query {
	uint32_t registration;
	uint32_t affiliation;
	const char *principal;
	int64_t since_ms, until_ms;
	int64_t person_id, employer_id; /* filled from the numbers above */
	uint64_t matched;
};
/* fn (may be NULL: only count) gets each matching entry and its purpose,
 * unsealed. */
typedef enum amana_err (*audit_query_fn)(void *ctx, uint64_t seq, const struct audit_entry *e, const char *purpose);
enum amana_err svc_audit_query(struct registry *r, const struct principal *who, struct audit_query *q,
			       audit_query_fn fn, void *ctx) AMANA_MUST_CHECK;

/* A citizen's own access history: every entry of the log about the
 * caller's record (who read it, when, why, allowed or not), through fn.
 * For a citizen's session only; audited as access_log.read. */
enum amana_err svc_access_log(struct registry *r, const struct principal *who, audit_query_fn fn,
			      void *ctx) AMANA_MUST_CHECK;

/* Recompute the whole log from its entries (see audit_verify), with the
 * registry's own signing key, unsealed with the KEK, as the trusted key:
 * a log re-signed with another key fails. Opens nothing for writing. */
enum amana_err svc_audit_verify(const char *dir, const char *key_path, struct audit_verify_report *rep, char *why,
				size_t why_cap) AMANA_MUST_CHECK;

/* A proof and/or a signed head, as a third party received them (from
 * `amana audit prove|consistency|sth --json`); checked with the public key
 * alone, no registry needed. */
struct audit_check {
	bool has_inclusion, has_consistency, has_head;
	uint64_t leaf_index, old_size, tree_size; /* tree_size: the (new) tree's */
	merkle_hash leaf_hash, old_root, root;
	merkle_hash path[MERKLE_PROOF_MAX];
	size_t path_len;
	uint8_t entry[AUDIT_ENTRY_MAX]; /* optional: must hash to leaf_hash */
	size_t entry_len;
	int64_t timestamp;
	uint8_t signature[AUDIT_SIGNATURE_BYTES];
	uint8_t public_key[AUDIT_PUBLIC_KEY_BYTES];
};
struct audit_check_result {
	bool inclusion_checked, inclusion_ok;
	bool entry_checked, entry_ok;
	bool consistency_checked, consistency_ok;
	bool head_checked, head_ok;
};
/* AMANA_OK if everything given verifies, AMANA_ERR_INPUT if something does
 * not, AMANA_ERR_USAGE if nothing was given. */
enum amana_err svc_audit_check(const struct audit_check *in, struct audit_check_result *out) AMANA_MUST_CHECK;

struct audit_witness_result {
	struct audit_head head; /* the log's latest */
	struct audit_head previous; /* the witness's last, if had_previous */
	bool had_previous, pinned_now, appended;
	char refusal[200]; /* why a head was refused */
};
/* Hand the latest head to a witness folder: accepted only if signed by the
 * key the witness pinned (on its first use) and consistent with the last
 * head it holds; AMANA_ERR_INPUT with refusal set otherwise. */
enum amana_err svc_audit_witness(struct registry *r, const struct principal *who, const char *dir,
				 struct audit_witness_result *out) AMANA_MUST_CHECK;

#endif
