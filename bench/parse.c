/*
 * parse.c - the e-BDS checker alone: how long ebds_check_line takes per
 * line, with the files already in memory (no disk, no store, no crypto).
 * The import's file-reading thread runs this checker over every line; this
 * bench isolates it so a change to the checker is measured on its own.
 *
 * usage: bench_parse RULES_FILE FILE... [--repeat N]
 * prints one line: lines seconds ns_per_line usable_lines
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ebds.h"
#include "core/rules.h"

struct blob {
	char *data;
	size_t len;
};

struct run {
	struct ebds_check check;
	struct ebds_record rec;
	struct ebds_errors errs;
	unsigned long long lines, usable;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool slurp(const char *path, size_t max, struct blob *out)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	out->data = malloc(max + 1);
	out->len = out->data ? fread(out->data, 1, max + 1, f) : 0;
	bool ok = out->data && !ferror(f) && out->len <= max;
	fclose(f);
	return ok;
}

static int on_line(void *ctx, const char *line, size_t len, unsigned lineno, bool too_long)
{
	struct run *r = ctx;
	r->lines++;
	if (!too_long && ebds_check_line(&r->check, line, len, lineno, &r->rec, &r->errs))
		r->usable++;
	ebds_errors_clear(&r->errs);
	return 0;
}

int main(int argc, char **argv)
{
	int repeat = 1, nfiles = 0;
	if (argc >= 3 && strcmp(argv[argc - 2], "--repeat") == 0) {
		char *end;
		long v = strtol(argv[argc - 1], &end, 10);
		repeat = *end == '\0' && v > 0 && v <= 1000 ? (int)v : 0;
		argc -= 2;
	}
	if (argc < 3 || repeat < 1) {
		fprintf(stderr, "usage: bench_parse RULES_FILE FILE... [--repeat N]\n");
		return 2;
	}
	struct blob rules_text;
	struct rules *rules = calloc(1, sizeof(*rules));
	struct rules_error rerr;
	if (!rules || !slurp(argv[1], 1 << 20, &rules_text) ||
	    rules_parse(rules_text.data, rules_text.len, rules, &rerr) != AMANA_OK) {
		fprintf(stderr, "bench_parse: cannot read the rules in %s\n", argv[1]);
		return 1;
	}
	nfiles = argc - 2;
	struct blob *files = calloc((size_t)nfiles, sizeof(*files));
	if (!files)
		return 1;
	for (int i = 0; i < nfiles; i++)
		if (!slurp(argv[i + 2], 64u << 20, &files[i])) {
			fprintf(stderr, "bench_parse: cannot read %s\n", argv[i + 2]);
			return 1;
		}
	struct run *r = calloc(1, sizeof(*r));
	struct ebds_linebuf *lb = malloc(sizeof(*lb));
	if (!r || !lb)
		return 1;
	double t0 = now_s();
	for (int k = 0; k < repeat; k++)
		for (int i = 0; i < nfiles; i++) {
			ebds_check_init(&r->check, rules);
			ebds_linebuf_init(lb);
			ebds_linebuf_feed(lb, files[i].data, files[i].len, on_line, r);
			ebds_linebuf_finish(lb, on_line, r);
			ebds_check_end(&r->check, &r->errs);
			ebds_errors_clear(&r->errs);
		}
	double s = now_s() - t0;
	printf("%llu %.3f %.1f %llu\n", r->lines, s, s * 1e9 / (double)r->lines, r->usable);
	return 0;
}
