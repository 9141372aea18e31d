/*
 * rights_cmd.c - `amana career`, `amana rights`, `amana pension`: a
 * person's career statement and the rights it gives (issue 6). Each is one
 * service call, read like any record of the person: with a purpose, and
 * logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"
#include "core/money.h"
#include "crypto/crypto.h"

enum { OPT_KEY = 1000, OPT_JSON, OPT_PURPOSE, OPT_AT, OPT_BLOCKS, OPT_BLOCK_KIB };

static const char common_help[] = "  -d, --dir DIR      registry directory (default $AMANA_HOME)\n"
				  "      --key FILE     key-encryption key file (default $AMANA_KEY_FILE)\n"
				  "      --json         machine-readable output\n";

static const char career_help[] = "usage: amana career REGISTRATION --purpose TEXT [--json]\n"
				  "\n"
				  "The career statement of a person: month by month, each employer's declared days\n"
				  "and salary (real and capped at the ceiling of that month), as the declarations\n"
				  "hold them, with the totals the rights are computed from (days capped at 26 a\n"
				  "month). Reading a person needs a purpose (a case id or reason), recorded with the\n"
				  "access in the audit log (career.read).\n\n";

static const char rights_help[] = "usage: amana rights REGISTRATION --at YYYY-MM-DD --purpose TEXT [--json]\n"
				  "       amana rights batch PERIOD -o FILE [--purpose TEXT] [--json]\n"
				  "                          [--blocks N] [--block-kib K]\n"
				  "\n"
				  "Every right of a person at a date, from their career and the parameters in\n"
				  "force at that date (data/rules.txt): old-age pension, family allowance, daily\n"
				  "sickness allowance (for a leave starting that day), maternity allowance, health\n"
				  "cover (AMO) and job-loss allowance, each with its eligibility, amount, the rule\n"
				  "that applied and why (\"54 days needed in the last 6 months, 38 found\"). The\n"
				  "last N months at a date are the N calendar months before its month.\n"
				  "Logged as rights.read (docs/internals/rights.md has every rule).\n"
				  "\n"
				  "batch: the payment run of a month. The family allowances and pensions due for\n"
				  "PERIOD (YYYYMM or YYYY-MM) across the whole registry, each person judged at the\n"
				  "first day of the month as above, written to FILE as CSV with a header\n"
				  "(registration,benefit,rule,amount_centimes; benefit is family_allowance,\n"
				  "pension, or pension_refund once, in the first run whose date finds the pension\n"
				  "age reached). FILE must not exist; it is written aside (FILE.partial, removed\n"
				  "on failure; one a crashed run left is replaced) and appears, owner-only,\n"
				  "only once the run is\n"
				  "complete and on the audit log (rights.batch, naming every person paid). A\n"
				  "progress bar goes to standard error when it is a terminal; a summary (counts\n"
				  "and totals, no personal data) to standard output.\n"
				  "--blocks N and --block-kib K size the read-ahead between the thread reading\n"
				  "the store and the threads opening what it read: N blocks of K KiB (default 8\n"
				  "of 1024; N from 2 to 64, K from 32 to 65536) for each reading thread, of\n"
				  "which the chunks have two. The defaults suit a registry on local disk; more\n"
				  "can smooth a slow one.\n\n";

static const char pension_help[] = "usage: amana pension REGISTRATION --at YYYY-MM-DD --purpose TEXT [--json]\n"
				   "\n"
				   "The old-age pension of a person claimed at a date: the classic pension from 3,240\n"
				   "days, the flat amounts of decree 2.25.265 from 1,320 days, or the refund of the\n"
				   "long-term contributions below; with the days, the reference salary and the rate\n"
				   "it used. Logged as pension.read.\n\n";

/* Options of the three commands: REGISTRATION, --purpose, --at. */
struct person_args {
	struct common cm;
	uint32_t registration;
	uint32_t at; /* 0 if not given */
	const char *purpose;
};

static int parse_args(const char *cmd, const char *help, bool needs_at, int argc, char **argv, struct person_args *a)
{
	static const struct option longs[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "purpose", required_argument, NULL, OPT_PURPOSE },
		{ "at", required_argument, NULL, OPT_AT },
		{ 0, 0, 0, 0 },
	};
	memset(a, 0, sizeof(*a));
	common_defaults(&a->cm);
	const char *at = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", longs, NULL)) != -1) {
		switch (c) {
		case 'd': a->cm.dir = optarg; break;
		case OPT_KEY: a->cm.key = optarg; break;
		case OPT_JSON: a->cm.json = true; break;
		case OPT_PURPOSE: a->purpose = optarg; break;
		case OPT_AT:
			if (!needs_at)
				return usage_error(cmd, "unknown option --at");
			at = optarg;
			break;
		case 'h': printf("%s%s", help, common_help); return -1;
		default: return usage_error(cmd, "unknown option");
		}
	}
	if (argc - optind != 1 || strlen(argv[optind]) != 9 || !parse_u32(argv[optind], &a->registration))
		return usage_error(cmd, "give one 9-digit registration number");
	if (needs_at && (!at || !parse_date(at, &a->at)))
		return usage_error(cmd, "--at takes the date of the claim, YYYY-MM-DD");
	/* Without --purpose the service refuses, and logs the attempt. */
	return EXIT_OK;
}

static int read_failed(enum amana_err err, const struct person_args *a)
{
	if (err == AMANA_ERR_NOTFOUND)
		return fail(err, "no person %09u in the registry (or no birth date for a pension)", a->registration);
	if (err == AMANA_ERR_DENIED && (!a->purpose || !a->purpose[0]))
		return fail(err,
			    "reading a person needs --purpose (a case id or reason); the refused attempt is logged");
	return fail(err, "%s", amana_strerror(err));
}

static void print_period(FILE *f, uint32_t p)
{
	fprintf(f, "%04u-%02u", p / 100, p % 100);
}

static void print_date(FILE *f, uint32_t d)
{
	if (d)
		fprintf(f, "%04u-%02u-%02u", d / 10000, d / 100 % 100, d % 100);
	else
		fputs("unknown", f);
}

/* ---- career ---- */

int cmd_career(int argc, char **argv)
{
	struct person_args a;
	int rc = parse_args("career", career_help, false, argc, argv, &a);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	struct registry *r;
	if ((rc = open_registry(&a.cm, &r)))
		return rc;
	struct career_view v;
	enum amana_err err = svc_career(r, &a.cm.who, a.registration, a.purpose, &v);
	registry_close(r);
	if (err)
		return read_failed(err, &a);
	char m1[MONEY_TEXT_MAX], m2[MONEY_TEXT_MAX];
	if (a.cm.json) {
		printf("{\"registration\":\"%09u\",\"total_days\":%llu,\"months\":%u,\"months_with_salary\":%u,"
		       "\"lines\":[",
		       v.registration, (unsigned long long)v.total_days, v.months, v.months_with_salary);
		for (size_t i = 0; i < v.n; i++) {
			const struct career_entry_view *e = &v.entries[i];
			printf("%s{\"period\":\"", i ? "," : "");
			print_period(stdout, e->period);
			printf("\",\"affiliation\":\"%07u\",\"declaration\":%u,\"situation\":%u,\"days\":%u,"
			       "\"real_salary\":%lld,\"capped_salary\":%lld}",
			       e->affiliation, e->declaration_seq, e->situation, e->days, (long long)e->real_salary,
			       (long long)e->capped_salary);
		}
		printf("]}\n");
	} else {
		printf("career of %09u: %llu days (at most 26 a month), %u months with a salary\n", v.registration,
		       (unsigned long long)v.total_days, v.months_with_salary);
		if (v.n)
			printf("  %-8s  %-8s  %4s  %16s  %16s\n", "period", "employer", "days", "salary (MAD)",
			       "capped (MAD)");
		for (size_t i = 0; i < v.n; i++) {
			const struct career_entry_view *e = &v.entries[i];
			printf("  ");
			print_period(stdout, e->period);
			printf("   %07u   %4u  %16s  %16s%s\n", e->affiliation, e->days,
			       money_format(e->real_salary, m1), money_format(e->capped_salary, m2),
			       e->declaration_seq ? "  (complementary)" : "");
		}
	}
	career_view_clear(&v);
	return EXIT_OK;
}

/* ---- rights and pension ---- */

static const char *unit_name(enum right_unit u)
{
	switch (u) {
	case RIGHT_UNIT_PER_MONTH: return "month";
	case RIGHT_UNIT_PER_DAY: return "day";
	case RIGHT_UNIT_TOTAL: return "once";
	case RIGHT_UNIT_NONE: break;
	}
	return "none";
}

static void right_json(const char *name, const struct right_result *x, bool comma)
{
	printf("\"%s\":{\"eligible\":%s,\"amount\":%lld,\"unit\":\"%s\",\"periods\":%u,\"total\":%lld,\"rule\":", name,
	       x->eligible ? "true" : "false", (long long)x->amount, unit_name(x->unit), x->periods,
	       (long long)x->total);
	json_str(stdout, x->rule ? x->rule : "");
	printf(",\"reason\":");
	json_str(stdout, x->reason);
	printf(",\"days_found\":%llu,\"days_needed\":%llu,\"reference\":%lld,\"rate_ppm\":%lld}%s",
	       (unsigned long long)x->days_found, (unsigned long long)x->days_needed, (long long)x->reference,
	       (long long)x->rate, comma ? "," : "");
}

static void right_text(const char *name, const struct right_result *x)
{
	char m[MONEY_TEXT_MAX], amount[64] = "";
	if (x->eligible && x->unit != RIGHT_UNIT_NONE)
		snprintf(amount, sizeof(amount), "%s MAD%s%s", money_format(x->amount, m),
			 x->unit == RIGHT_UNIT_TOTAL ? "" : " a ",
			 x->unit == RIGHT_UNIT_TOTAL ? "" : unit_name(x->unit));
	printf("  %-17s %-8s %-22s %s\n    %s\n", name, x->eligible ? "yes" : "no", amount, x->rule ? x->rule : "",
	       x->reason);
}

/* ---- rights batch ---- */

struct progress {
	bool tty;
	int last; /* per mille shown, -1 none */
	enum rights_batch_phase phase;
	time_t start;
};

static void on_progress(void *ctx, enum rights_batch_phase phase, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;
	if (!p->tty)
		return;
	static const char *const names[] = { "reading persons", "reading lines", "judging rights" };
	if (phase != p->phase) {
		p->phase = phase;
		p->last = -1;
		fputc('\n', stderr);
	}
	unsigned long long secs = (unsigned long long)(time(NULL) - p->start);
	if (phase == RIGHTS_BATCH_RIGHTS && total) {
		int pm = (int)(done * 1000 / total);
		if (pm == p->last)
			return;
		p->last = pm;
		int bar = pm * 30 / 1000;
		fprintf(stderr, "\r%-16s [%.*s%*s] %3d.%d%%  %llus", names[phase], bar,
			"##############################", 30 - bar, "", pm / 10, pm % 10, secs);
	} else if (phase == RIGHTS_BATCH_PERSONS) {
		fprintf(stderr, "\r%-16s %llu  %llus", names[phase], (unsigned long long)done, secs);
	} else {
		fprintf(stderr, "\r%-16s %llu  %llus", names[phase], (unsigned long long)total, secs);
	}
	fflush(stderr);
}

/* The payment file's FILE.partial, created owner-only and locked (flock)
 * for as long as the run writes it. One found unlocked was left by a run
 * that died (a crash, a kill): nothing else writes there, so it is removed
 * and created afresh. One found locked belongs to a running run: -2. */
static int open_partial(const char *tmp)
{
	for (int tries = 0; tries < 2; tries++) {
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			if (flock(fd, LOCK_EX | LOCK_NB) == 0)
				return fd;
			close(fd); /* taken by a run that found it first */
			return -2;
		}
		if (errno != EEXIST)
			return -1;
		int old = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (old < 0) {
			if (errno == ENOENT)
				continue; /* removed meanwhile: create it again */
			return -1;
		}
		bool stale = flock(old, LOCK_EX | LOCK_NB) == 0;
		/* removed under the lock, so that no run that locks it later
		 * finds it stale again */
		int gone = stale ? unlink(tmp) : 0;
		close(old);
		if (!stale)
			return -2;
		if (gone != 0)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

static int rights_batch(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "purpose", required_argument, NULL, OPT_PURPOSE },
		{ "output", required_argument, NULL, 'o' },
		{ "blocks", required_argument, NULL, OPT_BLOCKS },
		{ "block-kib", required_argument, NULL, OPT_BLOCK_KIB },
		{ 0, 0, 0, 0 },
	};
	struct common cm;
	common_defaults(&cm);
	const char *out_path = NULL, *purpose = NULL;
	uint32_t blocks = 0, block_kib = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:ho:", longs, NULL)) != -1) {
		switch (c) {
		case 'd': cm.dir = optarg; break;
		case OPT_KEY: cm.key = optarg; break;
		case OPT_JSON: cm.json = true; break;
		case OPT_PURPOSE: purpose = optarg; break;
		case 'o': out_path = optarg; break;
		case OPT_BLOCKS:
			if (!parse_u32(optarg, &blocks) || blocks < 2 || blocks > RIGHTS_BATCH_BLOCKS_MAX)
				return usage_error("rights", "--blocks takes a number from 2 to 64");
			break;
		case OPT_BLOCK_KIB:
			if (!parse_u32(optarg, &block_kib) || block_kib < RIGHTS_BATCH_BLOCK_BYTES_MIN / 1024 ||
			    block_kib > RIGHTS_BATCH_BLOCK_BYTES_MAX / 1024)
				return usage_error("rights", "--block-kib takes a number from 32 to 65536");
			break;
		case 'h': printf("%s%s", rights_help, common_help); return EXIT_OK;
		default: return usage_error("rights", "unknown option");
		}
	}
	uint32_t period;
	if (argc - optind != 1 || !parse_period(argv[optind], &period))
		return usage_error("rights", "batch takes one PERIOD, YYYYMM or YYYY-MM");
	if (!out_path)
		return usage_error("rights", "batch needs -o FILE (the payment file)");
	if (access(out_path, F_OK) == 0)
		return fail(AMANA_ERR_EXISTS, "%s exists: a payment file is never overwritten", out_path);
	/* written aside, linked into place once complete and logged */
	char tmp[4200];
	if (snprintf(tmp, sizeof(tmp), "%s.partial", out_path) >= (int)sizeof(tmp))
		return usage_error("rights", "the output path is too long");
	int fd = open_partial(tmp);
	if (fd == -2)
		return fail(AMANA_ERR_EXISTS, "%s is being written by another run", tmp);
	if (fd < 0)
		return fail(AMANA_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
	FILE *out = fdopen(fd, "w");
	if (!out) {
		unlink(tmp); /* before the lock goes with the descriptor */
		close(fd);
		return fail(AMANA_ERR_NOMEM, "cannot write %s", tmp);
	}
	static char buf[1 << 16];
	setvbuf(out, buf, _IOFBF, sizeof(buf));
	struct registry *r;
	int rc = open_registry(&cm, &r);
	if (rc) {
		unlink(tmp);
		fclose(out);
		return rc;
	}
	struct progress pg = {
		.tty = isatty(STDERR_FILENO), .last = -1, .phase = RIGHTS_BATCH_PERSONS, .start = time(NULL)
	};
	struct rights_batch_options o = { .period = period,
					  .out = out,
					  .purpose = purpose,
					  .progress = on_progress,
					  .ctx = &pg,
					  .blocks = blocks,
					  .block_bytes = (size_t)block_kib * 1024 };
	struct rights_batch_summary s;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	enum amana_err err = svc_rights_batch(r, &cm.who, &o, &s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	registry_close(r);
	if (pg.tty)
		fputc('\n', stderr);
	bool written = fflush(out) == 0 && fsync(fileno(out)) == 0;
	if (!err && !written)
		err = AMANA_ERR_IO;
	if (!err && link(tmp, out_path) != 0)
		err = errno == EEXIST ? AMANA_ERR_EXISTS : AMANA_ERR_IO;
	unlink(tmp); /* still locked: no other run takes this one for a crashed run's */
	if (fclose(out) != 0 && !err)
		err = AMANA_ERR_IO; /* nothing buffered is left to write: not expected */
	crypto_wipe(buf, sizeof(buf)); /* the file's last rows, once written */
	if (!err) { /* the new name durable too: the run is logged as done */
		char dir[4200];
		snprintf(dir, sizeof(dir), "%s", out_path);
		char *slash = strrchr(dir, '/');
		if (slash)
			*(slash == dir ? slash + 1 : slash) = '\0';
		int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		bool synced = dfd >= 0 && fsync(dfd) == 0;
		if (dfd >= 0)
			close(dfd);
		if (!synced)
			return fail(AMANA_ERR_IO,
				    "%s is written and the run logged, but its folder could not be synced: "
				    "check the disk before relying on it",
				    out_path);
	}
	if (err)
		return fail(err, "the payment run for %04u-%02u failed, no file written: %s", period / 100,
			    period % 100,
			    err == AMANA_ERR_EXISTS ? "the output file appeared meanwhile" : amana_strerror(err));
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	char m1[MONEY_TEXT_MAX], m2[MONEY_TEXT_MAX], m3[MONEY_TEXT_MAX];
	if (cm.json) {
		printf("{\"period\":\"%04u-%02u\",\"persons\":%llu,\"persons_with_career\":%llu,\"lines\":%llu,"
		       "\"lines_taken\":%llu,\"chunks\":%llu,\"chunks_opened\":%llu,\"without_birth_date\":%llu,"
		       "\"family_allowances\":%llu,"
		       "\"family_allowance_total\":%lld,"
		       "\"pensions\":%llu,\"pension_total\":%lld,\"pension_refunds\":%llu,"
		       "\"pension_refund_total\":%lld,\"seconds\":%.3f}\n",
		       period / 100, period % 100, (unsigned long long)s.persons,
		       (unsigned long long)s.persons_with_career, (unsigned long long)s.lines,
		       (unsigned long long)s.lines_taken, (unsigned long long)s.chunks,
		       (unsigned long long)s.chunks_opened, (unsigned long long)s.without_birth_date,
		       (unsigned long long)s.family_allowances, (long long)s.family_allowance_total,
		       (unsigned long long)s.pensions, (long long)s.pension_total,
		       (unsigned long long)s.pension_refunds, (long long)s.pension_refund_total, secs);
	} else {
		printf(
		    "payment run %04u-%02u: %llu persons (%llu with a career, %llu lines) in %.1f s, %.0f persons/s\n"
		    "  %llu lines judged, from %llu of %llu chunks opened (the rest: before the family\n"
		    "  allowance's window, or of persons with no child and short of the pension age)\n"
		    "  family allowances  %10llu  %16s MAD\n"
		    "  pensions           %10llu  %16s MAD\n"
		    "  pension refunds    %10llu  %16s MAD\n"
		    "written to %s\n",
		    period / 100, period % 100, (unsigned long long)s.persons,
		    (unsigned long long)s.persons_with_career, (unsigned long long)s.lines, secs,
		    secs > 0 ? (double)s.persons / secs : 0.0, (unsigned long long)s.lines_taken,
		    (unsigned long long)s.chunks_opened, (unsigned long long)s.chunks,
		    (unsigned long long)s.family_allowances, money_format(s.family_allowance_total, m1),
		    (unsigned long long)s.pensions, money_format(s.pension_total, m2),
		    (unsigned long long)s.pension_refunds, money_format(s.pension_refund_total, m3), out_path);
		if (s.without_birth_date)
			printf("  %llu persons with a career but no birth date: no pension judged\n",
			       (unsigned long long)s.without_birth_date);
	}
	return EXIT_OK;
}

int cmd_rights(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "batch"))
		return rights_batch(argc - 1, argv + 1);
	struct person_args a;
	int rc = parse_args("rights", rights_help, true, argc, argv, &a);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	struct registry *r;
	if ((rc = open_registry(&a.cm, &r)))
		return rc;
	struct rights_view v;
	enum amana_err err = svc_rights(r, &a.cm.who, a.registration, a.at, a.purpose, &v);
	registry_close(r);
	if (err)
		return read_failed(err, &a);
	const struct {
		const char *name;
		const struct right_result *x;
	} rows[] = {
		{ "pension", &v.pension },   { "family_allowance", &v.family_allowance },
		{ "sickness", &v.sickness }, { "maternity", &v.maternity },
		{ "amo", &v.amo },           { "job_loss", &v.job_loss },
	};
	size_t n = sizeof(rows) / sizeof(rows[0]);
	if (a.cm.json) {
		printf("{\"registration\":\"%09u\",\"at\":\"", v.registration);
		print_date(stdout, v.at);
		printf("\",\"birth_date\":\"");
		print_date(stdout, v.birth_date);
		printf("\",\"children\":%u,\"total_days\":%llu,\"months_with_salary\":%u,\"rights\":{", v.children,
		       (unsigned long long)v.total_days, v.months_with_salary);
		for (size_t i = 0; i < n; i++)
			right_json(rows[i].name, rows[i].x, i + 1 < n);
		printf("}}\n");
	} else {
		printf("rights of %09u at ", v.registration);
		print_date(stdout, v.at);
		printf(" (born ");
		print_date(stdout, v.birth_date);
		printf(", %u children, %llu days declared)\n", v.children, (unsigned long long)v.total_days);
		for (size_t i = 0; i < n; i++)
			right_text(rows[i].name, rows[i].x);
	}
	crypto_wipe(&v, sizeof(v));
	return EXIT_OK;
}

int cmd_pension(int argc, char **argv)
{
	struct person_args a;
	int rc = parse_args("pension", pension_help, true, argc, argv, &a);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	struct registry *r;
	if ((rc = open_registry(&a.cm, &r)))
		return rc;
	struct pension_view v;
	enum amana_err err = svc_pension(r, &a.cm.who, a.registration, a.at, a.purpose, &v);
	registry_close(r);
	if (err)
		return read_failed(err, &a);
	if (a.cm.json) {
		printf("{\"registration\":\"%09u\",\"at\":\"", v.registration);
		print_date(stdout, v.at);
		printf("\",\"birth_date\":\"");
		print_date(stdout, v.birth_date);
		printf("\",\"total_days\":%llu,", (unsigned long long)v.total_days);
		right_json("pension", &v.pension, false);
		printf("}\n");
	} else {
		printf("pension of %09u claimed on ", v.registration);
		print_date(stdout, v.at);
		printf(" (born ");
		print_date(stdout, v.birth_date);
		printf(", %llu days declared)\n", (unsigned long long)v.total_days);
		right_text("pension", &v.pension);
	}
	crypto_wipe(&v, sizeof(v));
	return EXIT_OK;
}
