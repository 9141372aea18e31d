/* pgtest.c - see pgtest.h. */
#include "pgtest.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A database name from the process and a counter, in letters only: the
 * plaintext test searches the server's files for the registry's numbers,
 * and a pid spelt in digits there could be one of them. */
static void letters(char *out, size_t cap, const char *prefix, unsigned long a, unsigned b)
{
	size_t n = (size_t)snprintf(out, cap, "%s", prefix);
	for (int part = 0; part < 2; part++) {
		unsigned long v = part ? b : a;
		do {
			if (n + 2 < cap)
				out[n++] = (char)('a' + v % 26);
			v /= 26;
		} while (v);
		if (n + 2 < cap)
			out[n++] = '_';
	}
	out[n] = 0;
}

bool pgtest_enabled(void)
{
	const char *s = getenv("AMANA_TEST_STORE");
	return s && !strcmp(s, "postgresql");
}

int pgtest_new_database(const char *tag, char *uri, char *app, size_t cap)
{
	static unsigned counter;
	const char *admin = getenv("AMANA_TEST_PG"), *port = getenv("AMANA_TEST_PG_PORT");
	if (!admin || !port)
		return -1;
	char name[64];
	letters(name, sizeof(name), "r_", (unsigned long)getpid(), counter++);
	size_t n = strlen(name);
	for (const char *p = tag; *p && n + 1 < sizeof(name); p++)
		name[n++] = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ? *p : '_';
	name[n] = 0;
	PGconn *c = PQconnectdb(admin);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "pgtest: %s", PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	char sql[128];
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s OWNER amana_owner", name); /* [a-z0-9_] only */
	PGresult *r = PQexec(c, sql);
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
	if (rc)
		fprintf(stderr, "pgtest: %s", PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	if (!rc && (size_t)snprintf(uri, cap, "postgresql://amana_owner@127.0.0.1:%s/%s", port, name) >= cap)
		rc = -1;
	if (!rc && app && (size_t)snprintf(app, cap, "postgresql://amana_app@127.0.0.1:%s/%s", port, name) >= cap)
		rc = -1;
	return rc;
}

static int admin_exec(const char *sql)
{
	const char *admin = getenv("AMANA_TEST_PG");
	if (!admin)
		return -1;
	PGconn *c = PQconnectdb(admin);
	int rc = -1;
	if (PQstatus(c) == CONNECTION_OK) {
		PGresult *r = PQexec(c, sql);
		rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
		if (rc)
			fprintf(stderr, "pgtest: %s: %s", sql, PQerrorMessage(c));
		PQclear(r);
	}
	PQfinish(c);
	return rc;
}

int pgtest_checkpoint(void)
{
	return admin_exec("CHECKPOINT");
}

int pgtest_clone_database(const char *src_uri, char *uri, size_t cap)
{
	static unsigned counter;
	const char *port = getenv("AMANA_TEST_PG_PORT");
	const char *src = strrchr(src_uri, '/');
	if (!port || !src)
		return -1;
	src++;
	for (const char *p = src; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return -1;
	char name[64], sql[200];
	letters(name, sizeof(name), "c_", (unsigned long)getpid(), counter++);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE %s", name, src);
	if (admin_exec(sql))
		return -1;
	/* the same role, the new database */
	return (size_t)snprintf(uri, cap, "%.*s%s", (int)(src - src_uri), src_uri, name) < cap ? 0 : -1;
}

long long pgtest_count(const char *uri, const char *sql)
{
	PGconn *c = PQconnectdb(uri);
	long long v = -1;
	if (PQstatus(c) == CONNECTION_OK) {
		PGresult *r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
	}
	PQfinish(c);
	return v;
}

int pgtest_database_dir(const char *home, char *out, size_t cap)
{
	char conf[4200], uri[512];
	snprintf(conf, sizeof(conf), "%s/store.conf", home);
	FILE *f = fopen(conf, "r");
	if (!f)
		return -1;
	size_t n = fread(uri, 1, sizeof(uri) - 1, f);
	fclose(f);
	uri[n] = 0;
	uri[strcspn(uri, "\n")] = 0;
	long long oid = pgtest_count(uri, "SELECT oid::bigint FROM pg_database WHERE datname = current_database()");
	const char *dir = getenv("AMANA_PG_DIR");
	if (oid <= 0 || !dir)
		return -1;
	return (size_t)snprintf(out, cap, "%s/data/base/%lld", dir, oid) < cap ? 0 : -1;
}
