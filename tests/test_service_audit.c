/*
 * test_service_audit.c - every service function that touches personal
 * data appends exactly one audit entry, refused calls included; the list of
 * such functions (svc_catalog) is checked against service.h, so a new one
 * cannot be added without its entry; and a log that cannot be written makes
 * reads fail closed, returning nothing.
 *
 * In-process, on a real registry (SQLite file, KEK file, audit files) in a
 * temporary folder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <liboath/oath.h>

#include <dirent.h>
#include <ftw.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "core/ids.h"
#include "service/internal.h"
#include "tests/pgtest.h"

struct fixture {
	char root[256], dir[300], key[300], files[300];
	struct registry *r;
	struct principal agent, auditor, operator_;
	uint32_t aff, reg, period;
	uint32_t worker; /* a person of f->aff's declaration (call_employees) */
	char totp[40]; /* the TOTP secret of the account call_account_add made */
	char **paths;
	size_t npaths;
};

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void principal(struct principal *p, const char *id, enum role role)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->role = role;
	snprintf(p->request_id, sizeof(p->request_id), "test-%s", id);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "/tmp/amana-test-svcaudit-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/reg", f->root);
	snprintf(f->key, sizeof(f->key), "%s/kek", f->root);
	snprintf(f->files, sizeof(f->files), "%s/files", f->root);
	char why[256] = "", uri[512];
	if (pgtest_enabled() && pgtest_new_database("svcaudit", uri, NULL, sizeof(uri)))
		return -1;
	if (registry_init(f->dir, f->key, NULL, 0, pgtest_enabled() ? uri : NULL, NULL, why, sizeof(why)) != AMANA_OK ||
	    registry_open(f->dir, f->key, &f->r, why, sizeof(why)) != AMANA_OK) {
		fprintf(stderr, "setup: %s\n", why);
		return -1;
	}
	principal(&f->agent, "agent:test", ROLE_AGENT);
	principal(&f->auditor, "auditor:test", ROLE_AUDITOR);
	principal(&f->operator_, "operator:test", ROLE_OPERATOR);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	registry_close(f->r);
	for (size_t i = 0; i < f->npaths; i++)
		free(f->paths[i]);
	free(f->paths);
	int rc = nftw(f->root, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return rc;
}

/* The last entry of the log, decoded. */
static void last_entry(struct fixture *f, struct audit_entry *e)
{
	uint64_t n = audit_size(f->r->audit);
	assert_true(n > 0);
	uint8_t buf[AUDIT_ENTRY_MAX];
	size_t len;
	assert_int_equal(audit_read_entry(f->r->audit, n - 1, buf, sizeof(buf), &len), AMANA_OK);
	assert_int_equal(audit_entry_decode(buf, len, e), AMANA_OK);
}

/* ---- one call of each audited function ---- */

static enum amana_err call_employer_register(struct fixture *f)
{
	struct employer_input in = { .affiliation = 0, .name = "ATLAS TEXTILE", .city = "FES" };
	/* a valid affiliation number: 6 digits and their check digit */
	for (uint32_t base = 123456;; base++) {
		for (uint32_t d = 0; d < 10; d++) {
			if (affiliation_number_valid(base * 10 + d)) {
				in.affiliation = base * 10 + d;
				break;
			}
		}
		if (in.affiliation)
			break;
	}
	f->aff = in.affiliation;
	char why[200];
	return svc_employer_register(f->r, &f->agent, &in, why, sizeof(why));
}

static enum amana_err call_employer_show(struct fixture *f)
{
	struct employer_view v;
	enum amana_err err = svc_employer_show(f->r, &f->agent, f->aff, &v);
	employer_view_clear(&v);
	return err;
}

static enum amana_err call_person_register(struct fixture *f)
{
	struct person_input in = { .cin = "BK998877", .name = "Salma Idrissi", .birth_date = 19880412 };
	char why[200];
	return svc_person_register(f->r, &f->agent, &in, &f->reg, why, sizeof(why));
}

static enum amana_err call_person_show(struct fixture *f)
{
	struct person_view v;
	enum amana_err err = svc_person_show(f->r, &f->agent, f->reg, "case 2026-118", &v);
	person_view_clear(&v);
	return err;
}

static enum amana_err call_gen(struct fixture *f)
{
	struct gen_options o = {
		.employers = 3, .persons = 12, .months = 2, .seed = 7, .first_period = 202501, .out_dir = f->files
	};
	struct gen_summary s;
	char why[200] = "";
	enum amana_err err = svc_gen(f->r, &f->agent, &o, &s, why, sizeof(why));
	if (err)
		return err;
	/* the files of the first month, for import */
	DIR *d = opendir(f->files);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strstr(de->d_name, "_202501"))
			continue;
		f->paths = realloc(f->paths, (f->npaths + 1) * sizeof(*f->paths));
		f->paths[f->npaths] = malloc(600);
		snprintf(f->paths[f->npaths++], 600, "%s/%s", f->files, de->d_name);
	}
	closedir(d);
	assert_true(f->npaths > 0);
	return AMANA_OK;
}

static enum amana_err call_import(struct fixture *f)
{
	struct import_options o = { 0 };
	struct import_summary s;
	enum amana_err err = svc_import(f->r, &f->agent, (const char *const *)f->paths, f->npaths, &o, &s);
	if (!err) {
		/* an employer that declared: for prefill and contributions */
		char name[256];
		const char *base = strrchr(f->paths[0], '/') + 1;
		snprintf(name, sizeof(name), "%s", base);
		uint32_t aff, period;
		unsigned seq;
		assert_int_equal(ebds_parse_filename(name, &aff, &period, &seq), EBDS_FAMILY_DECLARATION);
		f->aff = aff;
		f->period = period;
	}
	return err;
}

static enum amana_err call_prefill(struct fixture *f)
{
	FILE *out = fopen("/dev/null", "w");
	unsigned n;
	enum amana_err err = svc_prefill(f->r, &f->agent, f->aff, 202502, out, &n);
	fclose(out);
	return err;
}

static enum amana_err call_contributions(struct fixture *f)
{
	struct contributions_view v;
	return svc_contributions(f->r, &f->agent, f->aff, f->period, &v);
}

static enum amana_err count_decl(void *ctx, const struct declaration_view *d)
{
	(void)d;
	(*(unsigned *)ctx)++;
	return AMANA_OK;
}

static enum amana_err call_declarations(struct fixture *f)
{
	unsigned n = 0;
	enum amana_err err = svc_declarations(f->r, &f->agent, f->aff, f->period, count_decl, &n);
	return err ? err : n == 1 ? AMANA_OK : AMANA_ERR_CORRUPT;
}

struct employee_count {
	unsigned n;
	uint32_t first;
};

static enum amana_err count_employee(void *ctx, const struct employee_view *e)
{
	struct employee_count *k = ctx;
	if (k->n++ == 0)
		k->first = e->registration;
	return AMANA_OK;
}

static enum amana_err call_employees(struct fixture *f)
{
	struct employee_count k = { 0, 0 };
	uint32_t from;
	enum amana_err err = svc_employees(f->r, &f->agent, f->aff, count_employee, &k, &from);
	f->worker = k.first;
	return err ? err : k.n > 0 && from == f->period ? AMANA_OK : AMANA_ERR_CORRUPT;
}

/* The worker's career: their month at f->aff, as declared. */
static enum amana_err call_career(struct fixture *f)
{
	struct career_view v;
	enum amana_err err = svc_career(f->r, &f->agent, f->worker, "case 2026-119", &v);
	bool found = false;
	for (size_t i = 0; !err && i < v.n; i++)
		found |= v.entries[i].affiliation == f->aff && v.entries[i].period == f->period;
	career_view_clear(&v);
	return err ? err : found ? AMANA_OK : AMANA_ERR_CORRUPT;
}

static enum amana_err call_rights(struct fixture *f)
{
	struct rights_view v;
	enum amana_err err = svc_rights(f->r, &f->agent, f->worker, 20250315, "case 2026-119", &v);
	bool ok = !err && v.total_days > 0 && v.pension.rule && v.amo.rule;
	crypto_wipe(&v, sizeof(v));
	return err ? err : ok ? AMANA_OK : AMANA_ERR_CORRUPT;
}

/* One month declared: nobody has the 108 days a family allowance needs,
 * so the run pays no one and its entry lists no one. */
static enum amana_err call_rights_batch(struct fixture *f)
{
	FILE *out = fopen("/dev/null", "w");
	struct rights_batch_options o = { .period = 202502, .out = out };
	struct rights_batch_summary s;
	enum amana_err err = svc_rights_batch(f->r, &f->agent, &o, &s);
	fclose(out);
	bool ok = !err && s.persons > 0 && s.persons_with_career > 0 && s.family_allowances == 0;
	return err ? err : ok ? AMANA_OK : AMANA_ERR_CORRUPT;
}

static enum amana_err call_pension(struct fixture *f)
{
	struct pension_view v;
	enum amana_err err = svc_pension(f->r, &f->agent, f->reg, 20250315, "case 2026-120", &v);
	bool ok = !err && !v.pension.eligible && !strcmp(v.pension.rule, RIGHT_PENSION_AGE);
	return err ? err : ok ? AMANA_OK : AMANA_ERR_CORRUPT;
}

static enum amana_err call_audit_query(struct fixture *f)
{
	struct audit_query q = { .registration = f->reg };
	return svc_audit_query(f->r, &f->auditor, &q, NULL, NULL);
}

static enum amana_err call_account_add(struct fixture *f)
{
	const uint32_t employers[] = { f->aff };
	struct account_input in = {
		.role = ROLE_EMPLOYER,
		.login = "accountant.fes",
		.password = "a long enough password",
		.password_len = 22,
		.employers = employers,
		.n_employers = 1,
	};
	struct account_created out;
	char why[200] = "";
	enum amana_err err = svc_account_add(f->r, &f->agent, &in, &out, why, sizeof(why));
	if (!err && strlen(out.totp_secret) != 32)
		return AMANA_ERR_CORRUPT;
	memcpy(f->totp, out.totp_secret, sizeof(f->totp));
	return err;
}

/* The six-digit code of a base32 TOTP secret at time now. */
static void totp_now(const char *b32, int64_t now, char code[7])
{
	char *secret = NULL;
	size_t n = 0;
	assert_int_equal(oath_base32_decode(b32, strlen(b32), &secret, &n), OATH_OK);
	assert_int_equal(n, CRYPTO_TOTP_SECRET_BYTES);
	assert_int_equal(crypto_totp_code((const uint8_t *)secret, now, code), AMANA_OK);
	free(secret);
}

static const char ACCOUNT_PW[] = "a long enough password";

static enum amana_err call_session_open(struct fixture *f)
{
	const int64_t now = 1790000000;
	char code[7];
	totp_now(f->totp, now, code);
	struct session_request req = { .login = "accountant.fes",
				       .password = ACCOUNT_PW,
				       .password_len = sizeof(ACCOUNT_PW) - 1,
				       .totp = code,
				       .totp_len = 6,
				       .now = now };
	struct session_opened out;
	enum amana_err err = svc_session_open(f->r, &f->agent, &req, &out);
	if (!err && strlen(out.token) != SESSION_TOKEN_CHARS)
		return AMANA_ERR_CORRUPT;
	return err;
}

static enum amana_err call_mark(struct fixture *f)
{
	char why[160];
	return svc_mark(f->r, &f->agent, MARK_PERSON, f->reg, ALERT_SENSITIVE, why, sizeof(why));
}

static enum amana_err count_alert(void *ctx, const struct alert_view *a)
{
	(void)a;
	(*(unsigned *)ctx)++;
	return AMANA_OK;
}

static enum amana_err call_alerts(struct fixture *f)
{
	unsigned n = 0;
	return svc_alerts(f->r, &f->auditor, 0, 100, count_alert, &n);
}

static enum amana_err call_access_log(struct fixture *f)
{
	struct session_principal sp = { .account_id = 1, .role = ROLE_CITIZEN, .person = f->reg };
	struct principal who;
	principal(&who, "citizen:test", ROLE_CITIZEN);
	who.session = &sp;
	return svc_access_log(f->r, &who, NULL, NULL);
}

static enum amana_err call_unlock(struct fixture *f)
{
	return svc_principal_unlock(f->r, &f->agent, 1);
}

static const struct {
	const char *function;
	enum amana_err (*call)(struct fixture *f);
} audited_calls[] = {
	/* in an order where each finds what it needs */
	{ "svc_employer_register", call_employer_register },
	{ "svc_employer_show", call_employer_show },
	{ "svc_person_register", call_person_register },
	{ "svc_person_show", call_person_show },
	{ "svc_gen", call_gen },
	{ "svc_import", call_import },
	{ "svc_prefill", call_prefill },
	{ "svc_contributions", call_contributions },
	{ "svc_declarations", call_declarations },
	{ "svc_employees", call_employees },
	{ "svc_career", call_career },
	{ "svc_rights", call_rights },
	{ "svc_pension", call_pension },
	{ "svc_rights_batch", call_rights_batch },
	{ "svc_audit_query", call_audit_query },
	{ "svc_account_add", call_account_add },
	{ "svc_session_open", call_session_open },
	{ "svc_mark", call_mark },
	{ "svc_alerts", call_alerts },
	{ "svc_principal_unlock", call_unlock },
	{ "svc_access_log", call_access_log },
};

static const struct svc_catalog_entry *catalog_find(const char *name)
{
	for (const struct svc_catalog_entry *c = svc_catalog; c->function; c++)
		if (!strcmp(c->function, name))
			return c;
	return NULL;
}

/* Every svc_ function declared in service.h is in the catalog, and every
 * catalog entry is declared there. */
static void test_catalog_matches_header(void **state)
{
	(void)state;
	FILE *h = fopen(SOURCE_ROOT "/service/service.h", "r");
	assert_non_null(h);
	regex_t re;
	assert_int_equal(regcomp(&re, "[^a-z_](svc_[a-z_]+)\\(", REG_EXTENDED), 0);
	char line[512];
	unsigned declared = 0;
	char names[64][64];
	while (fgets(line, sizeof(line), h)) {
		regmatch_t m[2];
		if (regexec(&re, line, 2, m, 0) != 0)
			continue;
		char name[64];
		int len = (int)(m[1].rm_eo - m[1].rm_so);
		snprintf(name, sizeof(name), "%.*s", len, line + m[1].rm_so);
		if (!catalog_find(name))
			fail_msg("%s is declared in service.h but not in svc_catalog (service/audit.c): say whether "
				 "it touches personal data, and if so append its audit entry",
				 name);
		assert_true(declared < 64);
		snprintf(names[declared++], sizeof(names[0]), "%s", name);
	}
	regfree(&re);
	fclose(h);
	assert_true(declared >= 10);
	for (const struct svc_catalog_entry *c = svc_catalog; c->function; c++) {
		bool found = false;
		for (unsigned i = 0; i < declared && !found; i++)
			found = !strcmp(names[i], c->function);
		if (!found)
			fail_msg("svc_catalog lists %s, which service.h does not declare", c->function);
		assert_true(!c->personal || (c->action && c->action[0]));
	}
}

/* Each audited function appends exactly one entry, with its action. */
static void test_each_call_one_entry(void **state)
{
	struct fixture *f = *state;
	/* every personal function has a call here */
	for (const struct svc_catalog_entry *c = svc_catalog; c->function; c++) {
		if (!c->personal)
			continue;
		bool found = false;
		for (size_t i = 0; i < sizeof(audited_calls) / sizeof(audited_calls[0]) && !found; i++)
			found = !strcmp(audited_calls[i].function, c->function);
		if (!found)
			fail_msg("%s touches personal data but this test does not call it", c->function);
	}
	for (size_t i = 0; i < sizeof(audited_calls) / sizeof(audited_calls[0]); i++) {
		const struct svc_catalog_entry *c = catalog_find(audited_calls[i].function);
		assert_non_null(c);
		uint64_t before = audit_size(f->r->audit);
		enum amana_err err = audited_calls[i].call(f);
		if (err)
			fail_msg("%s failed: %s", c->function, amana_strerror(err));
		uint64_t after = audit_size(f->r->audit);
		if (after != before + 1)
			fail_msg("%s appended %llu entries, not 1", c->function, (unsigned long long)(after - before));
		struct audit_entry e;
		last_entry(f, &e);
		assert_string_equal(e.action, c->action);
		assert_int_equal(e.outcome, AUDIT_ALLOWED);
		assert_string_equal(e.principal,
				    !strcmp(c->function, "svc_audit_query") || !strcmp(c->function, "svc_alerts")
					? "auditor:test"
				    : !strcmp(c->function, "svc_access_log") ? "citizen:test"
									     : "agent:test");
		assert_true(e.request_id[0] != 0);
	}
	/* functions without personal data append nothing */
	uint64_t before = audit_size(f->r->audit);
	struct registry_stats st;
	assert_int_equal(svc_stats(f->r, &f->agent, &st), AMANA_OK);
	struct audit_head_view hv;
	assert_int_equal(svc_audit_head(f->r, &f->auditor, &hv), AMANA_OK);
	assert_int_equal(audit_size(f->r->audit), before);
}

/* Refused and failed calls are logged too, with whom they were about. */
static void test_refusals_logged(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(call_person_register(f), AMANA_OK);
	struct person_view v;
	uint64_t before = audit_size(f->r->audit);
	assert_int_equal(svc_person_show(f->r, &f->agent, f->reg, NULL, &v), AMANA_ERR_DENIED);
	assert_int_equal(audit_size(f->r->audit), before + 1);
	struct audit_entry e;
	last_entry(f, &e);
	assert_string_equal(e.action, "person.show");
	assert_int_equal(e.outcome, AUDIT_DENIED);
	assert_string_equal(e.reason, "no purpose given");
	assert_int_equal(e.nsubjects, 1);
	assert_int_equal(e.subjects[0].kind, AUDIT_SUBJECT_PERSON);
	/* nothing was returned */
	static const struct person_view zero;
	assert_memory_equal(&v, &zero, sizeof(v));

	/* an operator never reads persons, purpose or not */
	assert_int_equal(svc_person_show(f->r, &f->operator_, f->reg, "maintenance", &v), AMANA_ERR_DENIED);
	last_entry(f, &e);
	assert_int_equal(e.outcome, AUDIT_DENIED);
	assert_string_equal(e.principal, "operator:test");
	/* the purpose is in the entry, sealed: readable with the key only */
	assert_true(e.purpose_len > 0);
	assert_null(memmem(e.purpose_sealed, e.purpose_len, "maintenance", 11));
	char purpose[PURPOSE_MAX + 1];
	assert_int_equal(audit_open_purpose(f->r, &e, purpose, sizeof(purpose)), AMANA_OK);
	assert_string_equal(purpose, "maintenance");

	/* an unknown person: a failed read, logged */
	assert_int_equal(svc_person_show(f->r, &f->agent, 100000034, "case 9", &v), AMANA_ERR_NOTFOUND);
	last_entry(f, &e);
	assert_int_equal(e.outcome, AUDIT_FAILED);
	assert_int_equal(e.nsubjects, 0);
	/* a non-auditor cannot query the log; the attempt is logged */
	struct audit_query q = { .registration = f->reg };
	assert_int_equal(svc_audit_query(f->r, &f->agent, &q, NULL, NULL), AMANA_ERR_DENIED);
	last_entry(f, &e);
	assert_string_equal(e.action, "audit.query");
	assert_int_equal(e.outcome, AUDIT_DENIED);
}

/* Logins: the password and the code of the step, each code once; five
 * failures lock for 15 minutes; tokens good until they expire or are
 * closed; every attempt logged, refusals with their reason. */
static void test_sessions(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(call_employer_register(f), AMANA_OK);
	assert_int_equal(call_account_add(f), AMANA_OK);
	int64_t now = 1790000000;
	char code[7];
	totp_now(f->totp, now, code);
	struct session_request req = { .login = "accountant.fes",
				       .password = ACCOUNT_PW,
				       .password_len = sizeof(ACCOUNT_PW) - 1,
				       .totp = code,
				       .totp_len = 6,
				       .now = now };
	struct session_opened s1, s2;
	assert_int_equal(svc_session_open(f->r, &f->agent, &req, &s1), AMANA_OK);
	assert_int_equal(s1.role, ROLE_EMPLOYER);
	assert_int_equal(s1.expires_at, now + 1800);
	/* the same code again: a replay */
	assert_int_equal(svc_session_open(f->r, &f->agent, &req, &s2), AMANA_ERR_DENIED);
	struct audit_entry e;
	last_entry(f, &e);
	assert_string_equal(e.action, "session.open");
	assert_int_equal(e.outcome, AUDIT_DENIED);
	assert_int_equal(s2.token[0], 0);

	/* the token stands for the account and its scope */
	struct session_principal sp;
	assert_int_equal(svc_session_check(f->r, s1.token, strlen(s1.token), now + 60, &sp), AMANA_OK);
	assert_int_equal(sp.role, ROLE_EMPLOYER);
	assert_int_equal(sp.n_employers, 1);
	assert_int_equal(sp.employers[0], f->aff);
	assert_int_equal(svc_session_check(f->r, s1.token, strlen(s1.token), now + 1800, &sp), AMANA_ERR_DENIED);
	char forged[SESSION_TOKEN_CHARS + 1];
	memcpy(forged, s1.token, sizeof(forged));
	forged[0] = forged[0] == 'a' ? 'b' : 'a';
	assert_int_equal(svc_session_check(f->r, forged, strlen(forged), now, &sp), AMANA_ERR_DENIED);
	assert_int_equal(svc_session_check(f->r, "' OR 1=1 --", 11, now, &sp), AMANA_ERR_DENIED);
	assert_int_equal(svc_session_check(f->r, s1.token, 10, now, &sp), AMANA_ERR_DENIED);

	/* the next step's code logs in again; closing ends that session only */
	now += 30;
	totp_now(f->totp, now, code);
	req.now = now;
	assert_int_equal(svc_session_open(f->r, &f->agent, &req, &s2), AMANA_OK);
	assert_string_not_equal(s1.token, s2.token);
	assert_int_equal(svc_session_close(f->r, s2.token, strlen(s2.token)), AMANA_OK);
	assert_int_equal(svc_session_check(f->r, s2.token, strlen(s2.token), now, &sp), AMANA_ERR_DENIED);
	assert_int_equal(svc_session_check(f->r, s1.token, strlen(s1.token), now, &sp), AMANA_OK);
	assert_int_equal(svc_session_close(f->r, forged, strlen(forged)), AMANA_ERR_DENIED);

	/* a wrong code, then wrong passwords: locked at the fifth failure,
	 * even for the right password and code, until 15 minutes pass */
	now += 30;
	req.now = now;
	char wrong[7];
	totp_now(f->totp, now + 3600, wrong);
	req.totp = wrong;
	assert_int_equal(svc_session_open(f->r, &f->agent, &req, &s2), AMANA_ERR_DENIED);
	req.totp = code;
	req.password = "not the password at all";
	req.password_len = strlen(req.password);
	for (int i = 0; i < 4; i++)
		assert_int_equal(svc_session_open(f->r, &f->agent, &req, &s2), AMANA_ERR_DENIED);
	totp_now(f->totp, now, code);
	req.password = ACCOUNT_PW;
	req.password_len = sizeof(ACCOUNT_PW) - 1;
	assert_int_equal(svc_session_open(f->r, &f->agent, &req, &s2), AMANA_ERR_DENIED);
	last_entry(f, &e);
	assert_string_equal(e.reason, "locked after repeated failures");
	now += 901;
	totp_now(f->totp, now, code);
	req.now = now;
	assert_int_equal(svc_session_open(f->r, &f->agent, &req, &s2), AMANA_OK);

	/* an unknown login: refused like a wrong password */
	req.login = "nobody.here";
	assert_int_equal(svc_session_open(f->r, &f->agent, &req, &s2), AMANA_ERR_DENIED);
	req.login = "NOT A LOGIN";
	assert_int_equal(svc_session_open(f->r, &f->agent, &req, &s2), AMANA_ERR_DENIED);
}

/* If the log cannot be written, reads fail and return nothing. */
static void test_unwritable_log_fails_closed(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(call_person_register(f), AMANA_OK);
	struct person_view v;
	assert_int_equal(call_person_show(f), AMANA_OK);
	char path[400];
	snprintf(path, sizeof(path), "%s/audit/entries", f->dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	/* Any write past the log's current end now fails (EFBIG). */
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_cur = (rlim_t)st.st_size;
	lim.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	enum amana_err err = svc_person_show(f->r, &f->agent, f->reg, "case 12", &v);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(err, AMANA_ERR_IO);
	static const struct person_view zero;
	assert_memory_equal(&v, &zero, sizeof(v));
	/* and it stays closed */
	assert_int_equal(svc_person_show(f->r, &f->agent, f->reg, "case 12", &v), AMANA_ERR_IO);
	assert_memory_equal(&v, &zero, sizeof(v));
}

/* An agent's session, opened now: its principal in who (id "account:N"). */
static void agent_session(struct fixture *f, const char *login, char totp[40], struct session_principal *sp,
			  struct principal *who, char token[SESSION_TOKEN_CHARS + 1])
{
	struct account_input in = {
		.role = ROLE_AGENT, .login = login, .password = ACCOUNT_PW, .password_len = sizeof(ACCOUNT_PW) - 1
	};
	struct account_created out;
	char why[200] = "";
	if (totp[0] == 0) {
		assert_int_equal(svc_account_add(f->r, &f->agent, &in, &out, why, sizeof(why)), AMANA_OK);
		memcpy(totp, out.totp_secret, 40);
	}
	int64_t now = (int64_t)time(NULL);
	char code[7];
	totp_now(totp, now, code);
	struct session_request req = { .login = login,
				       .password = ACCOUNT_PW,
				       .password_len = sizeof(ACCOUNT_PW) - 1,
				       .totp = code,
				       .totp_len = 6,
				       .now = now };
	struct session_opened so;
	assert_int_equal(svc_session_open(f->r, &f->agent, &req, &so), AMANA_OK);
	assert_int_equal(svc_session_check(f->r, so.token, strlen(so.token), now, sp), AMANA_OK);
	memcpy(token, so.token, SESSION_TOKEN_CHARS + 1);
	principal(who, "", ROLE_AGENT);
	snprintf(who->id, sizeof(who->id), "account:%lld", (long long)sp->account_id);
	who->session = sp;
}

struct sink {
	unsigned n;
	char last[512];
};

static void on_alert_line(void *ctx, const char *line)
{
	struct sink *k = ctx;
	k->n++;
	snprintf(k->last, sizeof(k->last), "%s", line);
}

struct alert_log {
	unsigned n;
	struct alert_view last;
};

static enum amana_err keep_alert(void *ctx, const struct alert_view *a)
{
	struct alert_log *l = ctx;
	l->n++;
	l->last = *a;
	return AMANA_OK;
}

/* An agent's session under budgets: distinct persons per hour counted,
 * rereads free; past the budget refused (429's error), alerted, the
 * account suspended for every session until unlocked; a bait record's
 * read alerts with whom it was; the log line names no person. */
static void test_budgets_alerts_suspension(void **state)
{
	struct fixture *f = *state;
	uint32_t regs[5];
	for (int i = 0; i < 5; i++) {
		char cin[16], why[160];
		snprintf(cin, sizeof(cin), "BK%06d", 100 + i);
		struct person_input in = { .cin = cin, .name = "SAMIRA BENNANI", .birth_date = 19800101 };
		assert_int_equal(svc_person_register(f->r, &f->agent, &in, &regs[i], why, sizeof(why)), AMANA_OK);
	}
	struct policy_config pc;
	policy_defaults(&pc);
	pc.limits[ROLE_AGENT].persons_per_hour = 3;
	registry_set_policy(f->r, &pc);
	struct sink sink = { 0, "" };
	registry_set_alert_sink(f->r, on_alert_line, &sink);

	char totp[40] = "";
	struct session_principal sp;
	struct principal who;
	char token[SESSION_TOKEN_CHARS + 1];
	agent_session(f, "agent.one", totp, &sp, &who, token);
	struct person_view v;
	for (int i = 0; i < 3; i++)
		assert_int_equal(svc_person_show(f->r, &who, regs[i], "case 7", &v), AMANA_OK);
	assert_int_equal(svc_person_show(f->r, &who, regs[0], "case 7", &v), AMANA_OK); /* a reread is free */
	assert_int_equal(svc_person_show(f->r, &who, regs[3], NULL, &v), AMANA_ERR_DENIED); /* no purpose */
	assert_int_equal(sink.n, 0);
	assert_int_equal(svc_person_show(f->r, &who, regs[3], "case 7", &v), AMANA_ERR_LIMIT);
	struct audit_entry e;
	last_entry(f, &e);
	assert_int_equal(e.outcome, AUDIT_FAILED);
	assert_non_null(strstr(e.reason, "per hour"));
	assert_int_equal(sink.n, 1);
	assert_non_null(strstr(sink.last, "\"budget\""));
	/* suspended: every session of the account, and a new login */
	assert_int_equal(svc_person_show(f->r, &who, regs[0], "case 7", &v), AMANA_ERR_DENIED);
	struct session_principal again;
	assert_int_equal(svc_session_check(f->r, token, strlen(token), (int64_t)time(NULL), &again), AMANA_ERR_DENIED);
	struct alert_log al = { 0 };
	assert_int_equal(svc_alerts(f->r, &f->auditor, 0, 10, keep_alert, &al), AMANA_OK);
	assert_int_equal(al.n, 1);
	assert_int_equal(al.last.kinds, ALERT_BUDGET);
	assert_int_equal(al.last.account_id, sp.account_id);
	assert_int_equal(al.last.subject_kind, 'p');
	assert_int_equal(al.last.subject, regs[3]);

	/* a supervisor's unlock: budgets afresh */
	assert_int_equal(svc_principal_unlock(f->r, &f->agent, sp.account_id), AMANA_OK);
	assert_int_equal(svc_principal_unlock(f->r, &f->agent, 999), AMANA_ERR_NOTFOUND);
	assert_int_equal(svc_session_check(f->r, token, strlen(token), (int64_t)time(NULL), &again), AMANA_OK);
	assert_int_equal(svc_person_show(f->r, &who, regs[3], "case 7", &v), AMANA_OK);

	/* bait: every read alerts, with the principal and the record */
	assert_int_equal(svc_mark(f->r, &f->agent, MARK_PERSON, regs[4], ALERT_HONEYTOKEN, NULL, 0), AMANA_OK);
	assert_int_equal(svc_person_show(f->r, &who, regs[4], "case 7", &v), AMANA_OK);
	assert_int_equal(sink.n, 2);
	assert_non_null(strstr(sink.last, "\"honeytoken\""));
	char reg_text[16];
	snprintf(reg_text, sizeof(reg_text), "%09u", regs[4]);
	assert_null(strstr(sink.last, reg_text));
	memset(&al, 0, sizeof(al));
	assert_int_equal(svc_alerts(f->r, &f->auditor, 1, 10, keep_alert, &al), AMANA_OK);
	assert_int_equal(al.n, 1);
	assert_int_equal(al.last.kinds, ALERT_HONEYTOKEN);
	assert_int_equal(al.last.subject, regs[4]);
	assert_string_equal(al.last.principal, who.id);
	/* the CLI's reads of it alert too */
	assert_int_equal(svc_person_show(f->r, &f->agent, regs[4], "case 8", &v), AMANA_OK);
	assert_int_equal(sink.n, 3);
	/* only those who may read alerts do */
	assert_int_equal(svc_alerts(f->r, &who, 0, 10, keep_alert, &al), AMANA_ERR_DENIED);
	person_view_clear(&v);
}

struct listed {
	uint32_t regs[400];
	size_t n;
};

static enum amana_err keep_listed(void *ctx, const struct employee_view *e)
{
	struct listed *l = ctx;
	assert_true(l->n < 400);
	l->regs[l->n++] = e->registration;
	return AMANA_OK;
}

static enum amana_err count_listing_reads(void *ctx, uint64_t seq, const struct audit_entry *e, const char *purpose)
{
	(void)seq;
	(void)purpose;
	if (!strcmp(e->action, "employees.read") || !strcmp(e->action, "employees.read+"))
		(*(unsigned *)ctx)++;
	return AMANA_OK;
}

/* A list longer than one entry holds (AUDIT_SUBJECTS_MAX subjects): every
 * person on it finds the read in the log, through continuation entries
 * written with it. */
static void test_long_list_logs_every_person(void **state)
{
	struct fixture *f = *state;
	struct gen_options o = {
		.employers = 1, .persons = 150, .months = 1, .seed = 5, .first_period = 202501, .out_dir = f->files
	};
	struct gen_summary s;
	char why[200] = "";
	assert_int_equal(svc_gen(f->r, &f->agent, &o, &s, why, sizeof(why)), AMANA_OK);
	/* the largest file: the one employer (bait ones are small) */
	DIR *d = opendir(f->files);
	assert_non_null(d);
	struct dirent *de;
	char best[600] = "";
	off_t best_size = 0;
	while ((de = readdir(d))) {
		char p[600];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", f->files, de->d_name);
		if (de->d_name[0] == '.' || stat(p, &st) || st.st_size <= best_size)
			continue;
		best_size = st.st_size;
		memcpy(best, p, sizeof(best));
	}
	closedir(d);
	const char *paths[1] = { best };
	struct import_options io = { 0 };
	struct import_summary is;
	assert_int_equal(svc_import(f->r, &f->agent, paths, 1, &io, &is), AMANA_OK);
	uint32_t aff, period;
	unsigned seq;
	assert_int_equal(ebds_parse_filename(strrchr(best, '/') + 1, &aff, &period, &seq), EBDS_FAMILY_DECLARATION);

	struct listed l = { .n = 0 };
	uint32_t from;
	uint64_t before = audit_size(f->r->audit);
	assert_int_equal(svc_employees(f->r, &f->agent, aff, keep_listed, &l, &from), AMANA_OK);
	assert_true(l.n > 2 * AUDIT_SUBJECTS_MAX);
	/* the employer and l.n persons, AUDIT_SUBJECTS_MAX an entry */
	uint64_t want = (l.n + 1 + AUDIT_SUBJECTS_MAX - 1) / AUDIT_SUBJECTS_MAX;
	assert_int_equal(audit_size(f->r->audit) - before, want);
	struct audit_entry head;
	uint8_t buf[AUDIT_ENTRY_MAX];
	size_t len;
	assert_int_equal(audit_read_entry(f->r->audit, before, buf, sizeof(buf), &len), AMANA_OK);
	assert_int_equal(audit_entry_decode(buf, len, &head), AMANA_OK);
	assert_string_equal(head.action, "employees.read");
	assert_int_equal(head.subjects_total, l.n + 1);
	for (size_t i = 0; i < l.n; i++) {
		unsigned reads = 0;
		struct audit_query q = { .registration = l.regs[i] };
		assert_int_equal(svc_audit_query(f->r, &f->auditor, &q, count_listing_reads, &reads), AMANA_OK);
		if (reads != 1)
			fail_msg("person %zu of %zu on the list: %u entries of the read", i + 1, l.n, reads);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalog_matches_header),
		cmocka_unit_test_setup_teardown(test_each_call_one_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_logged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_log_fails_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budgets_alerts_suspension, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_list_logs_every_person, setup, teardown),
	};
	if (crypto_init() != AMANA_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
