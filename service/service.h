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
#include "core/rules.h"

struct registry;

enum role {
	ROLE_CITIZEN,
	ROLE_EMPLOYER,
	ROLE_AGENT,
	ROLE_SUPERVISOR,
	ROLE_AUDITOR,
	ROLE_OPERATOR,
};

/* Who is calling. The CLI acts as an agent named "cli:<user>"; every read of
 * a person needs a purpose (a case id or reason). */
struct principal {
	char id[64];
	enum role role;
};

/* ---- the registry ---- */

/* Create a registry in dir (created if missing, refused if it already holds
 * one) and a new KEK file at key_path (refused if it exists, or if it lies
 * inside dir). rules_text is the dated rules to install (NULL: the built-in
 * copy of data/rules.txt). Nothing is left behind on failure. */
enum amana_err registry_init(const char *dir, const char *key_path, const char *rules_text, size_t rules_len, char *why,
			     size_t why_cap) AMANA_MUST_CHECK;

/* Open an existing registry with its KEK. why receives a sentence for the
 * user on failure (never personal data). */
enum amana_err registry_open(const char *dir, const char *key_path, struct registry **out, char *why,
			     size_t why_cap) AMANA_MUST_CHECK;
void registry_close(struct registry *r);
const struct rules *registry_rules(const struct registry *r);

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
};

struct import_summary {
	size_t files_accepted, files_rejected, files_failed;
	int64_t lines, hires, new_persons, leavers;
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

#endif
