/*
 * harness.h - what the integration tests share: running the real `amana`
 * binary (path in $AMANA_BIN, set by meson) with captured output, throwaway
 * directories and registries, a small JSON reader for `--json` output, and
 * e-BDS record fields read and written the way spec/ebds.md lays them out.
 *
 * Helpers below marked "fails the test" use cmocka assertions, so they may
 * be called from tests and from cmocka set-up and teardown functions only.
 */
#ifndef AMANA_TESTS_HARNESS_H
#define AMANA_TESTS_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- running amana ---- */

struct run_result {
	int status; /* exit code, or 128 + signal */
	char *out; /* NUL-terminated stdout */
	size_t out_len;
	char *err; /* NUL-terminated stderr */
	size_t err_len;
};

/* Path of the amana binary under test. */
const char *amana_bin(void);

/* Run argv (argv[0] is a program path; NULL-terminated) with the current
 * environment, stdin from /dev/null, and capture stdout/stderr. Returns 0,
 * or -1 if the program could not be started. */
int run_argv(struct run_result *r, char *const argv[]);

/* Run `amana ARGS...` (NULL-terminated list of arguments after the binary). */
int run_amana(struct run_result *r, ...);

/* Start `amana ARGS...` in the background with output to /dev/null;
 * returns its pid. */
pid_t spawn_amana(char *const args[]);

void run_result_free(struct run_result *r);

/* Fails the test, showing (the start of) stdout and stderr, unless r
 * exited with status want; what names the command in the message. */
void assert_exit(const struct run_result *r, int want, const char *what);

/* ---- files and directories ---- */

/* A fresh directory under $TMPDIR (or /tmp); caller frees the string. */
char *temp_dir(const char *tag);
/* Remove a tree (files and folders). */
void remove_tree(const char *path);

/* Read a whole file; NULL if it cannot be read. Caller frees. */
char *read_file(const char *path, size_t *len);
/* Write a whole file (created or truncated). 0 on success. */
int write_file(const char *path, const void *data, size_t len);

/* The size of the file at path, or -1 if there is none. */
off_t file_size(const char *path);

/* The names of DIR's entries (but . and ..) that start with PREFIX ("" for
 * all), sorted by strcmp, in a new array; returns their number. Fails the
 * test if DIR cannot be read. Free with free_list(). */
size_t list_dir(const char *dir, const char *prefix, char ***names);
/* The paths "DIR/NAME" of the declaration files DS_*_PERIOD.txt in DIR
 * (PERIOD as YYYYMM), sorted, in a new array; returns their number. Fails
 * the test if DIR cannot be read. Free with free_list(). */
size_t list_period(const char *dir, const char *period, char ***paths);
/* Free the n strings of v and v itself. */
void free_list(char **v, size_t n);

/* Commit frames in the SQLite WAL file at path (0 if there is none). */
unsigned wal_commits(const char *path);
/* Wait until the WAL at path holds n commit frames or more (a commit is
 * whole once a later one has begun) and return true; or return false if the
 * process pid (a child) exits first: it is reaped, its status in *status.
 * Fails the test, killing pid, if neither happens within 30 s. */
bool wait_wal_commits(const char *path, unsigned n, pid_t pid, int *status);

/* ---- time ---- */

/* Microseconds of CLOCK_MONOTONIC. */
int64_t now_us(void);
/* Sleep us microseconds (resumed when interrupted by a signal). */
void sleep_us(int64_t us);

/* ---- registries ---- */

/* A registry in its own temp dir. */
struct registry {
	char *dir; /* the temp dir (owned), holding: */
	char home[4096]; /* dir/reg: the registry directory (-d, AMANA_HOME) */
	char key[4096]; /* dir/key: its key file (--key, AMANA_KEY_FILE) */
	char files[4096]; /* dir/files: where the tests have gen write */
};

/* Set AMANA_HOME and AMANA_KEY_FILE to dir/reg and dir/key, and run
 * `amana init`; returns its exit status. */
int init_registry(const char *dir);

/* A new temp dir (amana-TAG-XXXXXX) and `amana init -d HOME --key KEY`
 * run in it. Fails the test if either fails. */
void registry_new(struct registry *g, const char *tag);
/* The same, initialised by init_registry(): AMANA_HOME and AMANA_KEY_FILE
 * now name this registry, so commands run without -d/--key use it. */
void registry_new_env(struct registry *g, const char *tag);
/* Remove g's temp dir, or keep it (and say where) if $AMANA_TEST_KEEP is
 * set; g->dir is freed and set to NULL. */
void registry_free(struct registry *g);

/* Run one SQL statement on g's store as the owner of its tables (on
 * PostgreSQL the role amana_owner, on SQLite the file itself): the tests'
 * way to put a registry in a state no command makes, an older one or a
 * damaged one. Returns the one integer a one-row query answers, or how
 * many rows a write changed. Fails the test on any error. */
long long registry_sql(const struct registry *g, const char *sql);
/* On PostgreSQL, the URI of g's database as the role that owns its tables
 * (what amana init was given with --store). Fails the test otherwise. */
void registry_owner_uri(const struct registry *g, char *out, size_t cap);

/* Run `amana ARGS[0..n)`, followed by `-d HOME --key KEY` of g unless g is
 * NULL. Fails the test if amana cannot be started. */
void run_on_v(struct run_result *r, const struct registry *g, const char *const *args, size_t n);
/* run_on_v() with the arguments as a NULL-terminated list. */
void run_on(struct run_result *r, const struct registry *g, ...);
/* run_on() with the list as a va_list (for wrappers of their own). */
void run_on_va(struct run_result *r, const struct registry *g, va_list ap);
/* Run `amana ARGS...` (a NULL-terminated list; no -d/--key, so the
 * registry of AMANA_HOME) and fail the test unless it exits with want;
 * what names the command in the message. */
void run_expect(struct run_result *r, int want, const char *what, ...);
/* Run `amana gen --employers E --persons P --months M --seed S -o OUT`,
 * followed by `-d HOME --key KEY` of g unless g is NULL. Fails the test
 * unless it exits 0. */
void run_gen(const struct registry *g, const char *out, const char *employers, const char *persons, const char *months,
	     const char *seed);
/* Run `amana import OPTS... FILES[0..n)` (OPTS: a NULL-terminated list, or
 * NULL), followed by `-d HOME --key KEY` of g unless g is NULL. Fails the
 * test if amana cannot be started. */
void run_import(struct run_result *r, const struct registry *g, const char *const *opts, char *const *files, size_t n);

/* ---- reading --json output ---- */

/* The JSON text at p after any white space (NULL stays NULL). */
const char *json_ws(const char *p);
/* The end of the JSON value starting at p (after white space), or NULL if
 * no whole value starts there. */
const char *json_skip(const char *p);
/* The value of member KEY of the object at OBJ, or NULL. */
const char *json_get(const char *obj, const char *key);
/* Element I of the array at ARR, or NULL. */
const char *json_at(const char *arr, size_t i);
/* Member KEY of the object at OBJ as an integer (a number, or digits in
 * quotes). Fails the test if it is absent or not an integer. */
int64_t json_int(const char *obj, const char *key);
/* String member KEY of the object at OBJ, copied into buf (escapes kept as
 * they are, cut to cap - 1 bytes); returns buf. Fails the test if absent. */
const char *json_str(const char *obj, const char *key, char *buf, size_t cap);

/* ---- e-BDS records (spec/ebds.md) ---- */

/* Every record is this long, line end not counted. */
#define REC_LEN 260

/* An e-BDS file split into records. */
struct records {
	char *buf; /* the file's text, line ends overwritten by NULs */
	size_t n;
	char **v; /* v[i]: record i (line i + 1), line end (CRLF or LF) stripped */
};
/* Read and split the file at path. Fails the test if it cannot be read. */
void records_load(struct records *r, const char *path);
void records_free(struct records *r);

/* The digits of columns [col, col + width) (1-based) of rec as a number.
 * Fails the test on anything but a digit. */
int64_t field_num(const char *rec, int col, int width);
/* Columns [col, col + width) of rec as text into out (cut to cap - 1
 * bytes), trailing blanks and tabs trimmed. */
void field_text(const char *rec, int col, int width, char *out, size_t cap);
/* Write v into columns [col, col + width) of rec, zero-padded. Fails the
 * test if v is negative or has more than width digits. */
void field_put_num(char *rec, int col, int width, int64_t v);

/* Is rec the tolerated blank B04 (as core/ebds.c: blanks or tabs from
 * column 4, or from column 17, to the end of the record)? */
bool is_blank_b04(const char *rec);

/* A person's line of a declaration: a B02, or a B04 other than the blank one.
 * What `amana stats` counts as lines. */
struct person_line {
	bool hire; /* B04: a new hire */
	int64_t registration; /* 000000000 for a hire declared by CIN only */
	int64_t real; /* real salary, centimes */
	int64_t capped; /* capped salary, centimes */
};
/* Fill p and return true if rec is a person's line; false for any other
 * record. Fails the test on a non-digit in the fields read. */
bool person_line(const char *rec, struct person_line *p);

/* The six totals of a B05 (the new hires) or B06 (the whole declaration)
 * record. */
struct totals {
	int64_t employees, registrations, days, real, capped, controls;
};
/* Read or write the totals of a B05 or B06 record. */
void totals_read(const char *rec, struct totals *t);
void totals_write(char *rec, const struct totals *t);

/* The check digit of a 6-digit affiliation number (spec/ebds.md). */
char aff_check_digit(const char *six);

#endif
