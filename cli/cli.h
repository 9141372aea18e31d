/*
 * cli.h - the `amana` command line: parse, call one service function,
 * render. No business rule lives here.
 */
#ifndef AMANA_CLI_H
#define AMANA_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "core/error.h"
#include "service/service.h"

/* Exit codes of DESIGN.md, from the error enum, in exactly one place. */
enum exit_code { EXIT_OK = 0, EXIT_FAILURE_ = 1, EXIT_USAGE = 2, EXIT_REJECTED = 3, EXIT_DENIED = 4 };
int exit_code_for(enum amana_err err);

/* Options every command that opens a registry takes. */
struct common {
	const char *dir;
	const char *key;
	bool json;
	struct principal who;
};
void common_defaults(struct common *c);

/* Print "amana: <msg>" to stderr and return the exit code for err. */
int fail(enum amana_err err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Open the registry named by c (or explain why not). */
int open_registry(const struct common *c, struct registry **out);

/* JSON output helpers (RFC 8259 string escaping). */
void json_str(FILE *f, const char *s);
void json_kv_str(FILE *f, const char *k, const char *v, bool comma);
void json_kv_int(FILE *f, const char *k, long long v, bool comma);

/* Parsing helpers: false on anything else than the whole string. */
bool parse_u32(const char *s, uint32_t *out);
bool parse_u64(const char *s, uint64_t *out);
bool parse_period(const char *s, uint32_t *out); /* YYYYMM or YYYY-MM */
bool parse_date(const char *s, uint32_t *out); /* YYYY-MM-DD -> YYYYMMDD */

int cmd_init(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_employer(int argc, char **argv);
int cmd_person(int argc, char **argv);
int cmd_prefill(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_contributions(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_account(int argc, char **argv);
int cmd_career(int argc, char **argv);
int cmd_rights(int argc, char **argv);
int cmd_pension(int argc, char **argv);

#endif
