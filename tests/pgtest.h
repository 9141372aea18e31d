/*
 * pgtest.h - the tests' side of the PostgreSQL backend: when the test
 * command runs a suite against PostgreSQL (AMANA_TEST_STORE=postgresql), it
 * starts a throwaway server (scripts/pg.sh) and exports AMANA_TEST_PG (an
 * admin connection string) and AMANA_TEST_PG_PORT; each test registry gets
 * a fresh database of its own.
 */
#ifndef AMANA_TESTS_PGTEST_H
#define AMANA_TESTS_PGTEST_H

#include <stdbool.h>
#include <stddef.h>

/* Whether this run targets PostgreSQL. */
bool pgtest_enabled(void);
/* Create a fresh, empty database (name from tag and a counter), owned by
 * the role amana_owner, and write its postgresql:// URI as that role into
 * uri, and (app may be NULL) as the role amana_app into app. 0 on success. */
int pgtest_new_database(const char *tag, char *uri, char *app, size_t cap);

/* Write every dirty page of the server to its files (CHECKPOINT). */
int pgtest_checkpoint(void);
/* Copy the database of src_uri into a new one (CREATE DATABASE ...
 * TEMPLATE) and write its URI into uri. 0 on success. */
int pgtest_clone_database(const char *src_uri, char *uri, size_t cap);
/* The number a one-column, one-row query returns on the database of uri,
 * or -1. */
long long pgtest_count(const char *uri, const char *sql);

/* The folder of the server's data directory holding the database of the
 * registry in home (named by home/store.conf). 0 on success. */
int pgtest_database_dir(const char *home, char *out, size_t cap);

#endif
