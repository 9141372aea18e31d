/*
 * harness.h - what the integration tests share: running the real `amana`
 * binary (path in $AMANA_BIN, set by meson) with captured output, and
 * throwaway directories.
 */
#ifndef AMANA_TESTS_HARNESS_H
#define AMANA_TESTS_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

struct run_result {
	int status;   /* exit code, or 128 + signal */
	char *out;    /* NUL-terminated stdout */
	size_t out_len;
	char *err;    /* NUL-terminated stderr */
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

/* A fresh directory under $TMPDIR (or /tmp); caller frees the string. */
char *temp_dir(const char *tag);
/* Remove a tree (files and folders). */
void remove_tree(const char *path);

/* Read a whole file; NULL if it cannot be read. Caller frees. */
char *read_file(const char *path, size_t *len);
/* Write a whole file (created or truncated). 0 on success. */
int write_file(const char *path, const void *data, size_t len);

/* Set AMANA_HOME and AMANA_KEY_FILE to dir/reg and dir/key, and run
 * `amana init`; returns its exit status. */
int init_registry(const char *dir);

#endif
