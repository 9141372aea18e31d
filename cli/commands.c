/*
 * commands.c - the subcommands of `amana`. Each parses its options, calls
 * one service function and renders the result as text or --json.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "core/money.h"

enum {
	OPT_KEY = 1000,
	OPT_JSON,
	OPT_RULES,
	OPT_AFF,
	OPT_NAME,
	OPT_ICE,
	OPT_ACTIVITY,
	OPT_ADDRESS,
	OPT_CITY,
	OPT_POSTCODE,
	OPT_CIN,
	OPT_BIRTH,
	OPT_CHILDREN,
	OPT_PURPOSE,
	OPT_EMPLOYERS,
	OPT_PERSONS,
	OPT_MONTHS,
	OPT_SEED,
	OPT_FIRST,
	OPT_BATCH,
	OPT_QUIET,
	OPT_STORE,
	OPT_APP_STORE,
	OPT_SENSITIVE,
	OPT_HONEYTOKEN,
	OPT_CLEAR
};

#define FLAG_LONG                                                                                                      \
	{ "sensitive", no_argument, NULL, OPT_SENSITIVE }, { "honeytoken", no_argument, NULL, OPT_HONEYTOKEN },        \
	{                                                                                                              \
		"clear", no_argument, NULL, OPT_CLEAR                                                                  \
	}

/* The marks of `person flag` / `employer flag`: bits, or -1 for none given. */
static bool flag_opt(int c, int *kinds)
{
	if (c != OPT_SENSITIVE && c != OPT_HONEYTOKEN && c != OPT_CLEAR)
		return false;
	if (*kinds < 0)
		*kinds = 0;
	if (c == OPT_SENSITIVE)
		*kinds |= ALERT_SENSITIVE;
	else if (c == OPT_HONEYTOKEN)
		*kinds |= ALERT_HONEYTOKEN;
	else
		*kinds |= 0x100; /* --clear: alone */
	return true;
}

/* Run `flag` on an open registry and print the outcome. */
static enum amana_err flag_run(struct registry *r, const struct common *cm, enum mark_subject kind, uint32_t number,
			       int kinds, char *why, size_t why_cap)
{
	unsigned k = kinds == 0x100 ? 0 : (unsigned)kinds;
	enum amana_err err = svc_mark(r, &cm->who, kind, number, k, why, why_cap);
	if (err)
		return err;
	const char *what = kind == MARK_PERSON ? "person" : "employer";
	if (cm->json)
		printf(kind == MARK_PERSON ? "{\"registration\":\"%09u\",\"sensitive\":%s,\"honeytoken\":%s}\n"
					   : "{\"affiliation\":\"%07u\",\"sensitive\":%s,\"honeytoken\":%s}\n",
		       number, k & ALERT_SENSITIVE ? "true" : "false", k & ALERT_HONEYTOKEN ? "true" : "false");
	else if (k == 0)
		printf(kind == MARK_PERSON ? "%s %09u: no mark\n" : "%s %07u: no mark\n", what, number);
	else
		printf(kind == MARK_PERSON ? "%s %09u marked%s%s: every access to it now raises an alert\n"
					   : "%s %07u marked%s%s: every access to it now raises an alert\n",
		       what, number, k & ALERT_SENSITIVE ? " sensitive" : "",
		       k & ALERT_HONEYTOKEN ? " honeytoken" : "");
	return AMANA_OK;
}

#define COMMON_LONG                                                                                                    \
	{ "dir", required_argument, NULL, 'd' }, { "key", required_argument, NULL, OPT_KEY },                          \
	    { "json", no_argument, NULL, OPT_JSON },                                                                   \
	{                                                                                                              \
		"help", no_argument, NULL, 'h'                                                                         \
	}

/* Handle an option every command shares; false if c is not one of them. */
static bool common_opt(struct common *cm, int c)
{
	switch (c) {
	case 'd': cm->dir = optarg; return true;
	case OPT_KEY: cm->key = optarg; return true;
	case OPT_JSON: cm->json = true; return true;
	default: return false;
	}
}

static const char common_help[] = "  -d, --dir DIR      registry directory (default $AMANA_HOME)\n"
				  "      --key FILE     key-encryption key file (default $AMANA_KEY_FILE)\n"
				  "      --json         machine-readable output\n";

static void fmt_period(uint32_t p, char out[8])
{
	snprintf(out, 8, "%04u-%02u", p / 100 % 10000, p % 100);
}

static void fmt_date(uint32_t d, char out[11])
{
	if (!d)
		snprintf(out, 11, "unknown");
	else
		snprintf(out, 11, "%04u-%02u-%02u", d / 10000 % 10000, d / 100 % 100, d % 100);
}

/* ---- init ---- */

int cmd_init(int argc, char **argv)
{
	static const struct option longs[] = { COMMON_LONG,
					       { "rules", required_argument, NULL, OPT_RULES },
					       { "store", required_argument, NULL, OPT_STORE },
					       { "app-store", required_argument, NULL, OPT_APP_STORE },
					       { 0, 0, 0, 0 } };
	struct common cm;
	common_defaults(&cm);
	const char *rules_path = NULL;
	const char *store = getenv("AMANA_STORE");
	const char *app_store = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", longs, NULL)) != -1) {
		if (common_opt(&cm, c))
			continue;
		if (c == OPT_RULES) {
			rules_path = optarg;
		} else if (c == OPT_STORE) {
			store = optarg;
		} else if (c == OPT_APP_STORE) {
			app_store = optarg;
		} else if (c == 'h') {
			printf(
			    "usage: amana init -d DIR --key KEYFILE [--rules FILE] [--store URI [--app-store URI]]\n\n"
			    "Create a registry in DIR and a new key-encryption key in KEYFILE.\n"
			    "Refuses to overwrite either. KEYFILE must lie outside DIR (keep it on\n"
			    "another disk or a token: whoever holds DIR without it reads only ciphertext).\n"
			    "The dated rules (rates, ceiling, SMIG, allowances) are copied to DIR/rules.txt\n"
			    "from FILE, or from the built-in copy of data/rules.txt.\n"
			    "The tables live in DIR/registry.db (SQLite), or with --store (or $AMANA_STORE)\n"
			    "in an existing, empty PostgreSQL database, e.g.\n"
			    "  --store postgresql://amana@db.example/registry\n"
			    "whose URI is kept in DIR/store.conf (put a password in ~/.pgpass, not in it).\n"
			    "--store connects as the role that owns the tables (it makes them); with\n"
			    "--app-store, every later command connects as that other role instead, which\n"
			    "owns nothing and may only read, insert, and update what changes by design\n"
			    "(no delete, no rewrite of declarations or persons, no DDL).\n"
			    "DIR keeps the rules and the audit log either way.\n\n%s",
			    common_help);
			return EXIT_OK;
		} else {
			return usage_error("init", "unknown option");
		}
	}
	if (optind != argc)
		return usage_error("init", "unexpected argument '%s'", argv[optind]);
	if (!cm.dir || !cm.key)
		return usage_error("init", "give -d DIR and --key KEYFILE");
	char *rules = NULL;
	size_t rules_len = 0;
	if (rules_path) {
		FILE *f = fopen(rules_path, "rb");
		if (!f)
			return fail(AMANA_ERR_IO, "cannot read %s: %s", rules_path, strerror(errno));
		rules = malloc(1 << 20);
		rules_len = rules ? fread(rules, 1, 1 << 20, f) : 0;
		fclose(f);
		if (!rules)
			return fail(AMANA_ERR_NOMEM, "out of memory");
	}
	char why[256] = "";
	enum amana_err err = registry_init(cm.dir, cm.key, rules, rules_len, store && *store ? store : NULL, app_store,
					   why, sizeof(why));
	free(rules);
	if (err)
		return fail(err, "%s", why[0] ? why : amana_strerror(err));
	if (cm.json) {
		printf("{");
		json_kv_str(stdout, "registry", cm.dir, true);
		json_kv_str(stdout, "key_file", cm.key, false);
		printf("}\n");
	} else {
		printf("created registry %s\ncreated key file %s (mode 0400; keep it off the registry's disk)\n",
		       cm.dir, cm.key);
	}
	return EXIT_OK;
}

int cmd_migrate(int argc, char **argv)
{
	static const struct option longs[] = { COMMON_LONG,
					       { "store", required_argument, NULL, OPT_STORE },
					       { 0, 0, 0, 0 } };
	struct common cm;
	common_defaults(&cm);
	const char *owner = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", longs, NULL)) != -1) {
		if (common_opt(&cm, c))
			continue;
		if (c == OPT_STORE) {
			owner = optarg;
		} else if (c == 'h') {
			printf("usage: amana migrate [-d DIR] [--store OWNER_URI] [--json]\n\n"
			       "Bring the registry's tables up to this version of Amana, then say from which\n"
			       "schema version to which. Run it once after installing a new version, before\n"
			       "the others: it reads no personal data and needs no key (--key is not used).\n"
			       "A SQLite registry (DIR/registry.db) is brought up to date by any command that\n"
			       "opens it; this one does it on its own. On PostgreSQL, when init was given\n"
			       "--app-store, the role in DIR/store.conf owns nothing and may not change tables:\n"
			       "give the URI of the role that owns them, the one init was given with --store,\n"
			       "  amana migrate --store postgresql://amana_owner@db.example/registry\n"
			       "Until then every command on that registry stops and says so.\n"
			       "It takes the writer lock: an import running meanwhile holds it, and this waits\n"
			       "for it at most 10 s, then fails, changing nothing. On PostgreSQL every step runs\n"
			       "in one transaction, all or nothing; on SQLite each step is its own, so a failure\n"
			       "leaves the steps before it done and is taken up again by the next open.\n\n%s",
			       common_help);
			return EXIT_OK;
		} else {
			return usage_error("migrate", "unknown option");
		}
	}
	if (optind != argc)
		return usage_error("migrate", "unexpected argument '%s'", argv[optind]);
	char why[256] = "";
	long long from = -1, to = -1;
	enum amana_err err = registry_migrate(cm.dir, owner, &from, &to, why, sizeof(why));
	if (err)
		return fail(err, "%s", why[0] ? why : amana_strerror(err));
	if (cm.json) {
		printf("{");
		json_kv_int(stdout, "schema_before", from, true);
		json_kv_int(stdout, "schema", to, false);
		printf("}\n");
	} else if (from == to) {
		printf("the registry's tables are up to date (schema %lld)\n", to);
	} else {
		printf("the registry's tables went from schema %lld to %lld\n", from, to);
	}
	return EXIT_OK;
}

/* ---- employer ---- */

static void print_employer(const struct common *cm, const struct employer_view *v)
{
	char last[8] = "none";
	if (v->last_period)
		fmt_period(v->last_period, last);
	if (cm->json) {
		printf("{");
		char affs[8];
		snprintf(affs, sizeof(affs), "%07u", v->affiliation);
		json_kv_str(stdout, "affiliation", affs, true);
		json_kv_str(stdout, "name", v->name, true);
		json_kv_str(stdout, "ice", v->ice, true);
		json_kv_str(stdout, "activity", v->activity, true);
		json_kv_str(stdout, "address", v->address, true);
		json_kv_str(stdout, "city", v->city, true);
		json_kv_str(stdout, "postcode", v->postcode, true);
		json_kv_int(stdout, "declarations", v->declarations, true);
		if (v->last_period)
			json_kv_int(stdout, "last_period", v->last_period, false);
		else
			printf("\"last_period\":null");
		printf("}\n");
		return;
	}
	printf("affiliation   %07u\nname          %s\nICE           %s\nactivity      %s\naddress       %s\n"
	       "city          %s%s%s\ndeclarations  %u (last period %s)\n",
	       v->affiliation, v->name, v->ice[0] ? v->ice : "-", v->activity[0] ? v->activity : "-",
	       v->address[0] ? v->address : "-", v->postcode, v->postcode[0] ? " " : "", v->city[0] ? v->city : "-",
	       v->declarations, last);
}

int cmd_employer(int argc, char **argv)
{
	static const struct option longs[] = {
		COMMON_LONG,
		{ "affiliation", required_argument, NULL, OPT_AFF },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "ice", required_argument, NULL, OPT_ICE },
		{ "activity", required_argument, NULL, OPT_ACTIVITY },
		{ "address", required_argument, NULL, OPT_ADDRESS },
		{ "city", required_argument, NULL, OPT_CITY },
		{ "postcode", required_argument, NULL, OPT_POSTCODE },
		FLAG_LONG,
		{ 0, 0, 0, 0 },
	};
	static const char help[] =
	    "usage: amana employer register --affiliation N --name NAME [--ice ICE] [--activity A]\n"
	    "                               [--address A] [--city C] [--postcode P]\n"
	    "       amana employer show AFFILIATION\n"
	    "       amana employer flag AFFILIATION --sensitive|--honeytoken|--clear\n\n"
	    "register: add an employer. N is its 7-digit affiliation number (the last digit is a\n"
	    "check digit). Text is upper-cased and stripped of accents and punctuation, as the\n"
	    "e-BDS files need. Everything is sealed in the database.\n"
	    "show: the employer's details and how many declarations it has filed.\n"
	    "flag: mark the employer sensitive (reads need a case) or as bait (a honeytoken\n"
	    "no legitimate work touches); every access to a marked record raises an alert.\n"
	    "--clear removes the marks. Marks are kept under a keyed hash: the database does\n"
	    "not show which records bear them.\n\n";
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("%s%s", help, common_help);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *sub = argv[1];
	bool reg = !strcmp(sub, "register"), show = !strcmp(sub, "show"), flag = !strcmp(sub, "flag");
	int kinds = -1;
	if (!reg && !show && !flag)
		return usage_error("employer", "unknown subcommand '%s' (register, show or flag)", sub);
	struct common cm;
	common_defaults(&cm);
	struct employer_input in;
	memset(&in, 0, sizeof(in));
	const char *aff_text = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "d:h", longs, NULL)) != -1) {
		if (common_opt(&cm, c) || (flag && flag_opt(c, &kinds)))
			continue;
		switch (c) {
		case OPT_AFF: aff_text = optarg; break;
		case OPT_NAME: in.name = optarg; break;
		case OPT_ICE: in.ice = optarg; break;
		case OPT_ACTIVITY: in.activity = optarg; break;
		case OPT_ADDRESS: in.address = optarg; break;
		case OPT_CITY: in.city = optarg; break;
		case OPT_POSTCODE: in.postcode = optarg; break;
		case 'h': printf("%s%s", help, common_help); return EXIT_OK;
		default: return usage_error("employer", "unknown option");
		}
	}
	char **rest = argv + 1 + optind;
	int nrest = argc - 1 - optind;
	if (show || flag) {
		if (nrest != 1)
			return usage_error("employer", "%s takes one affiliation number", sub);
		aff_text = rest[0];
		if (flag && (kinds < 0 || (kinds & 0x100 && kinds != 0x100)))
			return usage_error("employer", "flag takes --sensitive and/or --honeytoken, or --clear alone");
	} else if (nrest != 0) {
		return usage_error("employer", "unexpected argument '%s'", rest[0]);
	}
	if (!aff_text || !parse_u32(aff_text, &in.affiliation) || strlen(aff_text) != 7)
		return usage_error("employer", "the affiliation number is 7 digits (e.g. 2703892)");
	if (reg && !in.name)
		return usage_error("employer", "register needs --name");
	struct registry *r;
	int rc = open_registry(&cm, &r);
	if (rc)
		return rc;
	char why[256] = "";
	enum amana_err err;
	if (flag) {
		err = flag_run(r, &cm, MARK_EMPLOYER, in.affiliation, kinds, why, sizeof(why));
	} else if (reg) {
		err = svc_employer_register(r, &cm.who, &in, why, sizeof(why));
		if (!err) {
			if (cm.json)
				printf("{\"affiliation\":%u,\"registered\":true}\n", in.affiliation);
			else
				printf("registered employer %07u\n", in.affiliation);
		}
	} else {
		struct employer_view v;
		err = svc_employer_show(r, &cm.who, in.affiliation, &v);
		if (!err)
			print_employer(&cm, &v);
		employer_view_clear(&v);
		if (err == AMANA_ERR_NOTFOUND)
			snprintf(why, sizeof(why), "no employer %07u in the registry", in.affiliation);
	}
	registry_close(r);
	if (err)
		return fail(err, "%s", why[0] ? why : amana_strerror(err));
	return EXIT_OK;
}

/* ---- person ---- */

static void print_person(const struct common *cm, const struct person_view *v)
{
	char birth[11];
	fmt_date(v->birth_date, birth);
	if (cm->json) {
		printf("{");
		char regs[10];
		snprintf(regs, sizeof(regs), "%09u", v->registration);
		json_kv_str(stdout, "registration", regs, true);
		json_kv_str(stdout, "cin", v->cin, true);
		json_kv_str(stdout, "name", v->name, true);
		if (v->birth_date)
			json_kv_str(stdout, "birth_date", birth, true);
		else
			printf("\"birth_date\":null,");
		json_kv_int(stdout, "children", v->children, true);
		printf("\"employments\":[");
		for (unsigned i = 0; i < v->job_count; i++) {
			char s[8], e[8];
			fmt_period(v->jobs[i].start_period, s);
			printf("%s{\"affiliation\":\"%07u\",\"from\":\"%s\",", i ? "," : "", v->jobs[i].affiliation, s);
			if (v->jobs[i].end_period) {
				fmt_period(v->jobs[i].end_period, e);
				printf("\"until\":\"%s\"}", e);
			} else {
				printf("\"until\":null}");
			}
		}
		printf("],\"employments_total\":%u}\n", v->job_total);
		return;
	}
	printf("registration  %09u\nname          %s\nCIN           %s\nbirth date    %s\nchildren      %u\n",
	       v->registration, v->name, v->cin[0] ? v->cin : "-", birth, v->children);
	printf("employments   %u\n", v->job_total);
	for (unsigned i = 0; i < v->job_count; i++) {
		char s[8], e[8] = "ongoing";
		fmt_period(v->jobs[i].start_period, s);
		if (v->jobs[i].end_period)
			fmt_period(v->jobs[i].end_period, e);
		printf("  employer %07u  from %s  until %s\n", v->jobs[i].affiliation, s, e);
	}
}

int cmd_person(int argc, char **argv)
{
	static const struct option longs[] = {
		COMMON_LONG,
		{ "cin", required_argument, NULL, OPT_CIN },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "birth", required_argument, NULL, OPT_BIRTH },
		{ "children", required_argument, NULL, OPT_CHILDREN },
		{ "purpose", required_argument, NULL, OPT_PURPOSE },
		FLAG_LONG,
		{ 0, 0, 0, 0 },
	};
	static const char help[] =
	    "usage: amana person register --cin CIN --name NAME --birth YYYY-MM-DD [--children N]\n"
	    "       amana person show REGISTRATION --purpose TEXT\n"
	    "       amana person flag REGISTRATION --sensitive|--honeytoken|--clear\n\n"
	    "register: add an insured person; the registry assigns and prints a 9-digit\n"
	    "registration number with a valid check digit. The CIN must not be registered yet.\n"
	    "show: the person's identity and employments. Reading a person needs a purpose\n"
	    "(a case id or reason), which is recorded with the access.\n"
	    "flag: mark the person sensitive (a public figure: reads need a case) or as bait\n"
	    "(a honeytoken no legitimate work touches); every access to a marked record raises\n"
	    "an alert (amanad's GET /v1/alerts, and its log). --clear removes the marks.\n\n";
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("%s%s", help, common_help);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *sub = argv[1];
	bool reg = !strcmp(sub, "register"), show = !strcmp(sub, "show"), flag = !strcmp(sub, "flag");
	int kinds = -1;
	if (!reg && !show && !flag)
		return usage_error("person", "unknown subcommand '%s' (register, show or flag)", sub);
	struct common cm;
	common_defaults(&cm);
	struct person_input in;
	memset(&in, 0, sizeof(in));
	const char *birth = NULL, *children = NULL, *purpose = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "d:h", longs, NULL)) != -1) {
		if (common_opt(&cm, c) || (flag && flag_opt(c, &kinds)))
			continue;
		switch (c) {
		case OPT_CIN: in.cin = optarg; break;
		case OPT_NAME: in.name = optarg; break;
		case OPT_BIRTH: birth = optarg; break;
		case OPT_CHILDREN: children = optarg; break;
		case OPT_PURPOSE: purpose = optarg; break;
		case 'h': printf("%s%s", help, common_help); return EXIT_OK;
		default: return usage_error("person", "unknown option");
		}
	}
	char **rest = argv + 1 + optind;
	int nrest = argc - 1 - optind;
	uint32_t regno = 0;
	if (reg) {
		if (nrest)
			return usage_error("person", "unexpected argument '%s'", rest[0]);
		if (!in.cin || !in.name || !birth)
			return usage_error("person", "register needs --cin, --name and --birth");
		if (!parse_date(birth, &in.birth_date))
			return usage_error("person", "--birth takes a date YYYY-MM-DD");
		uint32_t n = 0;
		if (children && (!parse_u32(children, &n) || n > 99))
			return usage_error("person", "--children takes a number from 0 to 99");
		in.children = n;
	} else {
		if (nrest != 1 || strlen(rest[0]) != 9 || !parse_u32(rest[0], &regno))
			return usage_error("person", "%s takes one 9-digit registration number", sub);
		if (flag && (kinds < 0 || (kinds & 0x100 && kinds != 0x100)))
			return usage_error("person", "flag takes --sensitive and/or --honeytoken, or --clear alone");
		/* Without --purpose the service refuses, and logs the attempt. */
	}
	struct registry *r;
	int rc = open_registry(&cm, &r);
	if (rc)
		return rc;
	char why[256] = "";
	enum amana_err err;
	if (flag) {
		err = flag_run(r, &cm, MARK_PERSON, regno, kinds, why, sizeof(why));
	} else if (reg) {
		err = svc_person_register(r, &cm.who, &in, &regno, why, sizeof(why));
		if (!err) {
			if (cm.json)
				printf("{\"registration\":\"%09u\"}\n", regno);
			else
				printf("registered person %09u\n", regno);
		}
	} else {
		struct person_view v;
		err = svc_person_show(r, &cm.who, regno, purpose, &v);
		if (!err)
			print_person(&cm, &v);
		person_view_clear(&v);
		if (err == AMANA_ERR_NOTFOUND)
			snprintf(why, sizeof(why), "no person %09u in the registry", regno);
		else if (err == AMANA_ERR_DENIED && (!purpose || !purpose[0]))
			snprintf(
			    why, sizeof(why),
			    "reading a person needs --purpose (a case id or reason); the refused attempt is logged");
	}
	registry_close(r);
	if (err)
		return fail(err, "%s", why[0] ? why : amana_strerror(err));
	return EXIT_OK;
}

/* ---- prefill ---- */

int cmd_prefill(int argc, char **argv)
{
	static const struct option longs[] = { COMMON_LONG,
					       { "output", required_argument, NULL, 'o' },
					       { 0, 0, 0, 0 } };
	struct common cm;
	common_defaults(&cm);
	const char *out_path = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:ho:", longs, NULL)) != -1) {
		if (common_opt(&cm, c))
			continue;
		if (c == 'o') {
			out_path = optarg;
		} else if (c == 'h') {
			printf("usage: amana prefill AFFILIATION PERIOD [-o FILE]\n\n"
			       "Write the pre-filled list (e-BDS A00-A03, CRLF) the registry expects from the\n"
			       "employer for PERIOD (YYYYMM or YYYY-MM): the persons of its last accepted\n"
			       "declaration before PERIOD, minus those who left (SO, DE), with children and\n"
			       "family allowance. The employer answers with one B02 line per A02 line, in order.\n"
			       "Without -o the list goes to standard output. The file holds names: it is\n"
			       "created owner-only and never overwritten.\n\n%s",
			       common_help);
			return EXIT_OK;
		} else {
			return usage_error("prefill", "unknown option");
		}
	}
	uint32_t aff, period;
	if (argc - optind != 2)
		return usage_error("prefill", "give AFFILIATION and PERIOD");
	if (!parse_u32(argv[optind], &aff) || strlen(argv[optind]) != 7)
		return usage_error("prefill", "the affiliation number is 7 digits");
	if (!parse_period(argv[optind + 1], &period))
		return usage_error("prefill", "the period is YYYYMM or YYYY-MM");
	struct registry *r;
	int rc = open_registry(&cm, &r);
	if (rc)
		return rc;
	FILE *out = stdout;
	char tmp[4096] = "";
	if (out_path) {
		/* Write beside the target, then link it in: never a half-written list. */
		snprintf(tmp, sizeof(tmp), "%s.partial", out_path);
		if (access(out_path, F_OK) == 0) {
			registry_close(r);
			return fail(AMANA_ERR_EXISTS, "%s exists; refusing to overwrite it", out_path);
		}
		umask(077);
		out = fopen(tmp, "wbx");
		if (!out) {
			registry_close(r);
			return fail(AMANA_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
		}
	}
	unsigned persons = 0;
	enum amana_err err = svc_prefill(r, &cm.who, aff, period, out, &persons);
	registry_close(r);
	if (out_path) {
		if (fclose(out) != 0 && !err)
			err = AMANA_ERR_IO;
		if (!err && link(tmp, out_path) != 0)
			err = AMANA_ERR_IO;
		unlink(tmp);
	}
	if (err == AMANA_ERR_NOTFOUND)
		return fail(err, "no employer %07u in the registry", aff);
	if (err)
		return fail(err, "cannot write the pre-filled list: %s", amana_strerror(err));
	if (out_path) {
		if (cm.json)
			printf("{\"file\":\"%s\",\"affiliation\":%u,\"period\":%u,\"persons\":%u}\n", out_path, aff,
			       period, persons);
		else
			printf("wrote %s: %u persons expected\n", out_path, persons);
	}
	return EXIT_OK;
}

/* ---- import ---- */

struct import_ui {
	const struct common *cm;
	bool tty;
	bool verbose;
	bool first_json;
	struct timespec t0;
	double last_draw;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void import_report(void *ctx, const struct import_file_result *res)
{
	struct import_ui *ui = ctx;
	if (ui->tty)
		fputs("\r\033[K", stderr);
	if (ui->cm->json) {
		printf("%s{", ui->first_json ? "" : ",");
		ui->first_json = false;
		json_kv_str(stdout, "file", res->path, true);
		const char *status = res->err == AMANA_OK          ? "accepted"
				     : res->err == AMANA_ERR_INPUT ? "rejected"
								   : "failed";
		json_kv_str(stdout, "status", status, true);
		json_kv_int(stdout, "affiliation", res->affiliation, true);
		json_kv_int(stdout, "period", res->period, true);
		if (res->err == AMANA_OK) {
			json_kv_int(stdout, "complementary", res->seq, true);
			json_kv_int(stdout, "lines", res->lines, true);
			json_kv_int(stdout, "hires", res->hires, true);
			json_kv_int(stdout, "new_persons", res->new_persons, true);
			json_kv_int(stdout, "leavers", res->leavers, false);
		} else if (res->err == AMANA_ERR_INPUT && res->errors) {
			printf("\"errors\":[");
			for (unsigned i = 0; i < res->errors->count; i++) {
				const struct ebds_error *e = &res->errors->list[i];
				printf("%s{", i ? "," : "");
				json_kv_int(stdout, "line", e->line, true);
				json_kv_int(stdout, "column", e->column, true);
				json_kv_str(stdout, "field", e->field, true);
				json_kv_str(stdout, "expected", e->expected, true);
				json_kv_str(stdout, "found", e->found, false);
				printf("}");
			}
			printf("],\"more_errors\":%u", res->errors->dropped);
		} else {
			json_kv_str(stdout, "detail", res->detail, false);
		}
		printf("}");
		return;
	}
	if (res->err == AMANA_OK) {
		if (ui->verbose)
			printf("accepted %s: %lld lines, %lld new hires (%lld newly registered), %lld left\n",
			       res->path, (long long)res->lines, (long long)res->hires, (long long)res->new_persons,
			       (long long)res->leavers);
	} else if (res->err == AMANA_ERR_INPUT && res->errors) {
		fprintf(stderr, "rejected %s: %u error%s, nothing written\n", res->path, ebds_errors_total(res->errors),
			ebds_errors_total(res->errors) == 1 ? "" : "s");
		/* A person reads the first ones; --json carries them all. */
		unsigned shown = res->errors->count < 20 ? res->errors->count : 20;
		for (unsigned i = 0; i < shown; i++) {
			const struct ebds_error *e = &res->errors->list[i];
			fprintf(stderr, "  %s:%u:%u: %s: expected %s; found %s\n", res->path, e->line, e->column,
				e->field, e->expected, e->found);
		}
		if (ebds_errors_total(res->errors) > shown)
			fprintf(stderr, "  ... and %u more errors (--json lists up to %d)\n",
				ebds_errors_total(res->errors) - shown, EBDS_ERRORS_MAX);
	} else {
		fprintf(stderr, "failed %s: %s\n", res->path, res->detail);
	}
}

static void import_progress(void *ctx, size_t done, size_t total, int64_t lines, uint64_t bytes, uint64_t bytes_total)
{
	struct import_ui *ui = ctx;
	if (!ui->tty)
		return;
	double t = now_s();
	if (t - ui->last_draw < 0.2 && done < total)
		return;
	ui->last_draw = t;
	double el = t - ((double)ui->t0.tv_sec + (double)ui->t0.tv_nsec / 1e9);
	double frac = bytes_total ? (double)bytes / (double)bytes_total : 1.0;
	int width = 30, fill = (int)(frac * width);
	char bar[32];
	for (int i = 0; i < width; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[width] = '\0';
	fprintf(stderr, "\r\033[Kimporting [%s] %3.0f%%  %zu/%zu files  %lld lines  %.0f lines/s", bar, frac * 100,
		done, total, (long long)lines, el > 0 ? (double)lines / el : 0.0);
	fflush(stderr);
}

/* A file to import with what its name says, for ordering a directory. */
struct named_file {
	char *path;
	uint32_t period;
	unsigned seq;
	uint32_t affiliation;
};

static int by_period(const void *a, const void *b)
{
	const struct named_file *x = a, *y = b;
	if (x->period != y->period)
		return x->period < y->period ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->affiliation != y->affiliation)
		return x->affiliation < y->affiliation ? -1 : 1;
	return strcmp(x->path, y->path);
}

struct file_list {
	struct named_file *v;
	size_t n, cap;
};

static bool list_add(struct file_list *l, char *path, uint32_t period, unsigned seq, uint32_t aff)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct named_file *nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			return false;
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = (struct named_file){ path, period, seq, aff };
	return true;
}

/* Expand directories into their declaration files (DS_ and DSC<k>_), in the
 * order they must be imported: by period, main before complementary. Plain
 * files are kept as given, in their order, before any directory's files
 * when no directory is named. --period keeps one period of the directories. */
static int expand_args(char **args, int n, uint32_t only_period, struct file_list *out)
{
	for (int i = 0; i < n; i++) {
		struct stat st;
		if (stat(args[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
			char *p = strdup(args[i]);
			if (!p || !list_add(out, p, 0, 0, 0))
				return fail(AMANA_ERR_NOMEM, "out of memory");
			continue;
		}
		DIR *d = opendir(args[i]);
		if (!d)
			return fail(AMANA_ERR_IO, "cannot read the directory %s: %s", args[i], strerror(errno));
		size_t first = out->n;
		struct dirent *e;
		while ((e = readdir(d))) {
			uint32_t aff, period;
			unsigned seq;
			enum ebds_family fam = ebds_parse_filename(e->d_name, &aff, &period, &seq);
			if (fam != EBDS_FAMILY_DECLARATION && fam != EBDS_FAMILY_COMPLEMENTARY)
				continue;
			if (only_period && period != only_period)
				continue;
			char *p;
			if (asprintf(&p, "%s/%s", args[i], e->d_name) < 0 || !list_add(out, p, period, seq, aff)) {
				closedir(d);
				return fail(AMANA_ERR_NOMEM, "out of memory");
			}
		}
		closedir(d);
		qsort(out->v + first, out->n - first, sizeof(*out->v), by_period);
	}
	return EXIT_OK;
}

int cmd_import(int argc, char **argv)
{
	static const struct option longs[] = { COMMON_LONG,
					       { "batch-lines", required_argument, NULL, OPT_BATCH },
					       { "period", required_argument, NULL, OPT_FIRST },
					       { "verbose", no_argument, NULL, 'v' },
					       { "quiet", no_argument, NULL, OPT_QUIET },
					       { 0, 0, 0, 0 } };
	struct common cm;
	common_defaults(&cm);
	struct import_options opt;
	memset(&opt, 0, sizeof(opt));
	bool verbose = false, quiet = false;
	uint32_t only_period = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:hv", longs, NULL)) != -1) {
		if (common_opt(&cm, c))
			continue;
		uint64_t n;
		switch (c) {
		case OPT_BATCH:
			if (!parse_u64(optarg, &n) || n == 0)
				return usage_error("import", "--batch-lines takes a positive number");
			opt.batch_lines = (int64_t)n;
			break;
		case 'v': verbose = true; break;
		case OPT_QUIET: quiet = true; break;
		case OPT_FIRST:
			if (!parse_period(optarg, &only_period))
				return usage_error("import", "--period is YYYYMM or YYYY-MM");
			break;
		case 'h':
			printf("usage: amana import FILE|DIR... [--period YYYYMM] [--verbose] [--batch-lines N]\n\n"
			       "Ingest salary declarations (e-BDS DS_<aff>_<period>.txt, complementary\n"
			       "DSC<k>_<aff>_<period>.txt). Each file is all or nothing: every rule of the\n"
			       "format is checked, B02 lines must answer the pre-filled list in order, B04\n"
			       "lines name persons the registry knows or register them from their CIN\n"
			       "(registration 000000000), and a period already declared is refused unless the\n"
			       "file is a complementary declaration. A rejected file writes nothing and its\n"
			       "errors are listed as FILE:LINE:COLUMN: FIELD: expected ...; found ...\n"
			       "Accepted files are committed in batches of about N lines (default 200000):\n"
			       "an interrupted import keeps whole files only.\n"
			       "A directory stands for its DS_/DSC<k>_ files, imported by period (main\n"
			       "declarations before complementary ones); --period keeps one period of them.\n\n"
			       "  -v, --verbose      one line per accepted file\n"
			       "      --quiet        no summary (errors are still printed)\n"
			       "exit: 0 all accepted, 3 some rejected, 1 the registry failed\n\n%s",
			       common_help);
			return EXIT_OK;
		default: return usage_error("import", "unknown option");
		}
	}
	if (optind >= argc)
		return usage_error("import", "give at least one declaration file or directory");
	struct file_list files = { 0 };
	int rc = expand_args(argv + optind, argc - optind, only_period, &files);
	if (!rc && files.n == 0)
		rc = fail(AMANA_ERR_USAGE, "no declaration file (DS_<affiliation>_<period>.txt) to import");
	struct registry *r = NULL;
	if (!rc)
		rc = open_registry(&cm, &r);
	const char **paths = rc ? NULL : calloc(files.n, sizeof(*paths));
	if (!rc && !paths)
		rc = fail(AMANA_ERR_NOMEM, "out of memory");
	if (rc) {
		for (size_t i = 0; i < files.n; i++)
			free(files.v[i].path);
		free(files.v);
		registry_close(r);
		return rc;
	}
	for (size_t i = 0; i < files.n; i++)
		paths[i] = files.v[i].path;
	struct import_ui ui = { .cm = &cm, .tty = isatty(2) && !cm.json, .verbose = verbose, .first_json = true };
	clock_gettime(CLOCK_MONOTONIC, &ui.t0);
	opt.report = import_report;
	/* Only a terminal shows the bar: without one, the service need not
	 * measure the files first. */
	opt.progress = ui.tty ? import_progress : NULL;
	opt.ctx = &ui;
	if (cm.json)
		printf("{\"files\":[");
	struct import_summary sum;
	double t0 = now_s();
	enum amana_err err = svc_import(r, &cm.who, paths, files.n, &opt, &sum);
	double el = now_s() - t0;
	registry_close(r);
	for (size_t i = 0; i < files.n; i++)
		free(files.v[i].path);
	free(files.v);
	free(paths);
	if (ui.tty)
		fputs("\r\033[K", stderr);
	if (cm.json) {
		printf("],\"accepted\":%zu,\"rejected\":%zu,\"failed\":%zu,\"lines\":%lld,\"hires\":%lld,"
		       "\"new_persons\":%lld,\"leavers\":%lld,\"read_ahead\":%zu,\"rosters_read\":%zu,"
		       "\"hires_found_ahead\":%zu,\"seconds\":%.3f}\n",
		       sum.files_accepted, sum.files_rejected, sum.files_failed, (long long)sum.lines,
		       (long long)sum.hires, (long long)sum.new_persons, (long long)sum.leavers, sum.files_read_ahead,
		       sum.rosters_read, sum.hires_found_ahead, el);
	} else if (!quiet) {
		printf("imported %zu file%s (%lld lines, %lld new hires, %lld newly registered, %lld left) "
		       "in %.1f s (%.0f lines/s); %zu rejected, %zu failed\n",
		       sum.files_accepted, sum.files_accepted == 1 ? "" : "s", (long long)sum.lines,
		       (long long)sum.hires, (long long)sum.new_persons, (long long)sum.leavers, el,
		       el > 0 ? (double)sum.lines / el : 0.0, sum.files_rejected, sum.files_failed);
		if (sum.files_accepted && !sum.files_rejected && !err)
			printf(
			    "next: amana contributions AFFILIATION PERIOD, or amana prefill AFFILIATION NEXT_PERIOD\n");
	}
	if (err && err != AMANA_ERR_INPUT)
		fail(err, "the import stopped: %s (files committed before it are kept)", amana_strerror(err));
	return exit_code_for(err);
}

/* ---- contributions ---- */

int cmd_contributions(int argc, char **argv)
{
	static const struct option longs[] = { COMMON_LONG, { 0, 0, 0, 0 } };
	struct common cm;
	common_defaults(&cm);
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", longs, NULL)) != -1) {
		if (common_opt(&cm, c))
			continue;
		if (c == 'h') {
			printf("usage: amana contributions AFFILIATION PERIOD [--json]\n\n"
			       "Contributions the employer owes for PERIOD (YYYYMM or YYYY-MM), over every\n"
			       "accepted declaration of that period (main and complementary): per branch and\n"
			       "side, round-half-up(sum of the branch's base x rate), with the rates in force\n"
			       "for the period (DIR/rules.txt). Amounts in MAD; in --json, integer centimes.\n\n%s",
			       common_help);
			return EXIT_OK;
		}
		return usage_error("contributions", "unknown option");
	}
	uint32_t aff, period;
	if (argc - optind != 2)
		return usage_error("contributions", "give AFFILIATION and PERIOD");
	if (!parse_u32(argv[optind], &aff) || strlen(argv[optind]) != 7)
		return usage_error("contributions", "the affiliation number is 7 digits");
	if (!parse_period(argv[optind + 1], &period))
		return usage_error("contributions", "the period is YYYYMM or YYYY-MM");
	struct registry *r;
	int rc = open_registry(&cm, &r);
	if (rc)
		return rc;
	struct contributions_view v;
	enum amana_err err = svc_contributions(r, &cm.who, aff, period, &v);
	registry_close(r);
	if (err == AMANA_ERR_NOTFOUND)
		return fail(err, "no accepted declaration of employer %07u for %06u", aff, period);
	if (err)
		return fail(err, "%s", amana_strerror(err));
	char per[8];
	snprintf(per, sizeof(per), "%06u", period);
	if (cm.json) {
		printf("{");
		char affs[8];
		snprintf(affs, sizeof(affs), "%07u", aff);
		json_kv_str(stdout, "affiliation", affs, true);
		json_kv_str(stdout, "period", per, true);
		json_kv_int(stdout, "employees", v.employees, true);
		json_kv_int(stdout, "declarations", v.declarations, true);
		json_kv_int(stdout, "real_salaries", v.c.real_salaries, true);
		json_kv_int(stdout, "capped_salaries", v.c.capped_salaries, true);
		printf("\"branches\":[");
		for (int i = 0; i < BRANCH_COUNT; i++) {
			const struct contribution_line *b = &v.c.branches[i];
			printf("%s{", i ? "," : "");
			json_kv_str(stdout, "branch", branch_name(b->branch), true);
			json_kv_int(stdout, "base", b->base, true);
			json_kv_int(stdout, "employer", b->employer, true);
			json_kv_int(stdout, "employee", b->employee, false);
			printf("}");
		}
		printf("],");
		json_kv_int(stdout, "total_employer", v.c.total_employer, true);
		json_kv_int(stdout, "total_employee", v.c.total_employee, false);
		printf("}\n");
		return EXIT_OK;
	}
	char a[MONEY_TEXT_MAX], b[MONEY_TEXT_MAX], d[MONEY_TEXT_MAX];
	printf("employer %07u, period %04u-%02u: %lld employees, %u declaration%s\n", aff, period / 100, period % 100,
	       (long long)v.employees, v.declarations, v.declarations == 1 ? "" : "s");
	printf("real salaries %s MAD, capped salaries %s MAD\n\n", money_format(v.c.real_salaries, a),
	       money_format(v.c.capped_salaries, b));
	printf("%-18s %16s %8s %8s %14s %14s\n", "branch", "base (MAD)", "empl. %", "empee %", "employer", "employee");
	for (int i = 0; i < BRANCH_COUNT; i++) {
		const struct contribution_line *x = &v.c.branches[i];
		printf("%-18s %16s %8.4g %8.4g %14s %14s\n", branch_name(x->branch), money_format(x->base, a),
		       (double)x->employer_rate / 10000.0, (double)x->employee_rate / 10000.0,
		       money_format(x->employer, b), money_format(x->employee, d));
	}
	printf("%-18s %16s %8s %8s %14s %14s\n", "total", "", "", "", money_format(v.c.total_employer, a),
	       money_format(v.c.total_employee, b));
	return EXIT_OK;
}

/* ---- gen ---- */

static void gen_progress(void *ctx, const char *stage, uint64_t done, uint64_t total)
{
	bool tty = *(bool *)ctx;
	if (!tty)
		return;
	fprintf(stderr, "\r\033[Kgenerating %s: %llu/%llu", stage, (unsigned long long)done, (unsigned long long)total);
	fflush(stderr);
}

int cmd_gen(int argc, char **argv)
{
	static const struct option longs[] = {
		COMMON_LONG,
		{ "employers", required_argument, NULL, OPT_EMPLOYERS },
		{ "persons", required_argument, NULL, OPT_PERSONS },
		{ "months", required_argument, NULL, OPT_MONTHS },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "first-period", required_argument, NULL, OPT_FIRST },
		{ "output", required_argument, NULL, 'o' },
		{ 0, 0, 0, 0 },
	};
	struct common cm;
	common_defaults(&cm);
	struct gen_options opt = { .employers = 0, .months = 0, .first_period = 202501 };
	bool have_seed = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:ho:", longs, NULL)) != -1) {
		if (common_opt(&cm, c))
			continue;
		uint64_t n;
		switch (c) {
		case OPT_EMPLOYERS:
			if (!parse_u32(optarg, &opt.employers))
				return usage_error("gen", "--employers takes a number");
			break;
		case OPT_PERSONS:
			if (!parse_u32(optarg, &opt.persons))
				return usage_error("gen", "--persons takes a number");
			break;
		case OPT_MONTHS:
			if (!parse_u32(optarg, &opt.months))
				return usage_error("gen", "--months takes a number");
			break;
		case OPT_SEED:
			if (!parse_u64(optarg, &n))
				return usage_error("gen", "--seed takes a number");
			opt.seed = n;
			have_seed = true;
			break;
		case OPT_FIRST:
			if (!parse_period(optarg, &opt.first_period))
				return usage_error("gen", "--first-period is YYYYMM or YYYY-MM");
			break;
		case 'o': opt.out_dir = optarg; break;
		case 'h':
			printf("usage: amana gen --employers N --persons N --months N --seed S -o DIR\n"
			       "                [--first-period YYYYMM]\n\n"
			       "Build a synthetic country: register N employers (power-law sizes, Moroccan\n"
			       "names and cities) and N persons (names, CINs, birth dates, children, salaries\n"
			       "from the minimum wage to executives) in the registry, then write one\n"
			       "declaration file per employer and month, DS_<affiliation>_<period>.txt, into DIR\n"
			       "(outside the registry) without importing them. Months follow each other from\n"
			       "--first-period (default 202501) with hires, leavers, deaths, sick and maternity\n"
			       "leave; each month's files answer the pre-filled lists the registry will issue\n"
			       "once the earlier months are imported, so import them month by month.\n"
			       "The same seed on a fresh registry gives the same files.\n\n%s",
			       common_help);
			return EXIT_OK;
		default: return usage_error("gen", "unknown option");
		}
	}
	if (optind != argc)
		return usage_error("gen", "unexpected argument '%s'", argv[optind]);
	if (!opt.employers || !opt.persons || !opt.months || !have_seed || !opt.out_dir)
		return usage_error("gen", "give --employers, --persons, --months, --seed and -o DIR");
	struct registry *r;
	int rc = open_registry(&cm, &r);
	if (rc)
		return rc;
	bool tty = isatty(2) && !cm.json;
	opt.progress = gen_progress;
	opt.ctx = &tty;
	struct gen_summary s;
	char why[512] = "";
	double t0 = now_s();
	enum amana_err err = svc_gen(r, &cm.who, &opt, &s, why, sizeof(why));
	double el = now_s() - t0;
	registry_close(r);
	if (tty)
		fputs("\r\033[K", stderr);
	if (err)
		return fail(err, "gen: %s", why[0] ? why : amana_strerror(err));
	if (cm.json) {
		printf("{\"employers\":%u,\"persons\":%u,\"unregistered_hires\":%u,\"honeytoken_employers\":%u,"
		       "\"honeytoken_persons\":%u,\"files\":%u,\"lines\":%llu,\"first_period\":%u,\"last_period\":%u,"
		       "\"output\":",
		       s.employers, s.persons, s.unregistered, s.honeytoken_employers, s.honeytoken_persons, s.files,
		       (unsigned long long)s.lines, s.first_period, s.last_period);
		json_str(stdout, opt.out_dir);
		printf(",\"seconds\":%.3f}\n", el);
	} else {
		printf("registered %u employers and %u persons; wrote %u declaration files (%llu lines) for "
		       "%04u-%02u to %04u-%02u into %s in %.1f s\n",
		       s.employers, s.persons, s.files, (unsigned long long)s.lines, s.first_period / 100,
		       s.first_period % 100, s.last_period / 100, s.last_period % 100, opt.out_dir, el);
		printf("planted %u bait employers and %u bait persons (honeytokens: any access to one raises "
		       "an alert)\n",
		       s.honeytoken_employers, s.honeytoken_persons);
		printf("next: import the months in order, e.g. amana import %s/DS_*_%06u.txt\n", opt.out_dir,
		       s.first_period);
	}
	return EXIT_OK;
}

/* ---- stats ---- */

int cmd_stats(int argc, char **argv)
{
	static const struct option longs[] = { COMMON_LONG, { 0, 0, 0, 0 } };
	struct common cm;
	common_defaults(&cm);
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", longs, NULL)) != -1) {
		if (common_opt(&cm, c))
			continue;
		if (c == 'h') {
			printf("usage: amana stats [--json]\n\nCounts of employers, persons, employments,\n"
			       "declarations and declaration lines. No personal data.\n\n%s",
			       common_help);
			return EXIT_OK;
		}
		return usage_error("stats", "unknown option");
	}
	struct registry *r;
	int rc = open_registry(&cm, &r);
	if (rc)
		return rc;
	struct registry_stats s;
	enum amana_err err = svc_stats(r, &cm.who, &s);
	registry_close(r);
	if (err)
		return fail(err, "%s", amana_strerror(err));
	if (cm.json)
		printf("{\"employers\":%lld,\"persons\":%lld,\"employments\":%lld,\"declarations\":%lld,"
		       "\"lines\":%lld}\n",
		       (long long)s.employers, (long long)s.persons, (long long)s.employments,
		       (long long)s.declarations, (long long)s.lines);
	else
		printf("employers     %lld\npersons       %lld\nemployments   %lld\ndeclarations  %lld\n"
		       "lines         %lld\n",
		       (long long)s.employers, (long long)s.persons, (long long)s.employments,
		       (long long)s.declarations, (long long)s.lines);
	return EXIT_OK;
}
