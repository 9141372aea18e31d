/*
 * floor_pg.c - the floor of the PostgreSQL import benchmark (issue 4): the
 * rate at which this machine's PostgreSQL takes one row per declaration line
 * through a plain COPY, with no parsing and no cryptography. Rows as the
 * SQLite floor makes them (bench/floor.c): (declaration, line) primary key,
 * a person id, a 72-byte payload; one COPY and one commit per BATCH_LINES
 * rows, like the import's batches.
 *
 * usage: bench_floor_pg CONNINFO ROWS BATCH_LINES
 * prints one line: rows seconds rows_per_second
 */
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROW_PAYLOAD 72
#define LINES_PER_DECLARATION 13

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(PGconn *c, PGresult *r, const char *what)
{
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_COPY_IN) {
		fprintf(stderr, "bench_floor_pg: %s: %s", what, PQerrorMessage(c));
		exit(1);
	}
	PQclear(r);
}

static size_t put_be(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	return bytes;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: bench_floor_pg CONNINFO ROWS BATCH_LINES\n");
		return 2;
	}
	char *end1, *end2;
	long rows = strtol(argv[2], &end1, 10), batch = strtol(argv[3], &end2, 10);
	if (*end1 || *end2 || rows <= 0 || batch <= 0) {
		fprintf(stderr, "bench_floor_pg: ROWS and BATCH_LINES are positive numbers\n");
		return 2;
	}
	PGconn *c = PQconnectdb(argv[1]);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "bench_floor_pg: %s", PQerrorMessage(c));
		return 1;
	}
	must(c, PQexec(c, "SET synchronous_commit = on"), "set");
	must(c,
	     PQexec(c, "CREATE TABLE floor_lines(declaration_id bigint NOT NULL, line_no bigint NOT NULL,"
		       " person_id bigint, payload bytea NOT NULL, PRIMARY KEY(declaration_id, line_no))"),
	     "create");
	uint8_t payload[ROW_PAYLOAD];
	srand(1);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)rand();
	size_t cap = (size_t)batch * (2 + 3 * 12 + 4 + ROW_PAYLOAD) + 64;
	uint8_t *buf = malloc(cap);
	static const uint8_t header[19] = { 'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0 };
	double t0 = now_s();
	for (long i = 0; i < rows;) {
		long n = rows - i < batch ? rows - i : batch;
		size_t len = 0;
		memcpy(buf, header, sizeof(header));
		len = sizeof(header);
		for (long k = 0; k < n; k++, i++) {
			payload[i % ROW_PAYLOAD] ^= (uint8_t)i; /* rows not all alike */
			len += put_be(buf + len, 4, 2);
			len += put_be(buf + len, 8, 4);
			len += put_be(buf + len, (uint64_t)(i / LINES_PER_DECLARATION + 1), 8);
			len += put_be(buf + len, 8, 4);
			len += put_be(buf + len, (uint64_t)(i % LINES_PER_DECLARATION + 3), 8);
			len += put_be(buf + len, 8, 4);
			len += put_be(buf + len, (uint64_t)((i * 7919) % 4000000 + 1), 8);
			len += put_be(buf + len, ROW_PAYLOAD, 4);
			memcpy(buf + len, payload, ROW_PAYLOAD);
			len += ROW_PAYLOAD;
		}
		len += put_be(buf + len, 0xffff, 2);
		must(c, PQexec(c, "BEGIN"), "begin");
		must(c, PQexec(c, "COPY floor_lines FROM STDIN (FORMAT binary)"), "copy");
		if (PQputCopyData(c, (const char *)buf, (int)len) != 1 || PQputCopyEnd(c, NULL) != 1) {
			fprintf(stderr, "bench_floor_pg: copy: %s", PQerrorMessage(c));
			return 1;
		}
		PGresult *r;
		while ((r = PQgetResult(c)))
			must(c, r, "copy end");
		must(c, PQexec(c, "COMMIT"), "commit");
	}
	double dt = now_s() - t0;
	printf("%ld %.3f %.0f\n", rows, dt, (double)rows / dt);
	free(buf);
	PQfinish(c);
	return 0;
}
