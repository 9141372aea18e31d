/*
 * floor.c - the floor of the import benchmark: the rate at which this
 * machine's SQLite inserts one row per declaration line with no parsing and
 * no cryptography. Same pragmas as the registry (WAL, synchronous=FULL,
 * secure_delete, foreign keys), rows of the size a sealed line would have
 * (46 bytes of AEAD framing + 26 bytes of packed fields), keyed by
 * (declaration, line) like a per-line table, committed in the same batches
 * as the import. The import stores lines by sealed chunks instead, so it can
 * beat this floor; the floor says what naive per-line storage would cost.
 *
 * usage: bench_floor DB ROWS BATCH_LINES
 * prints one line: rows seconds rows_per_second
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROW_PAYLOAD 72
#define LINES_PER_DECLARATION 13 /* 4,000,000 lines / 300,000 employers */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(int rc, sqlite3 *db, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "bench_floor: %s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: bench_floor DB ROWS BATCH_LINES\n");
		return 2;
	}
	char *end1, *end2;
	long rows = strtol(argv[2], &end1, 10), batch = strtol(argv[3], &end2, 10);
	if (*end1 || *end2 || rows <= 0 || batch <= 0) {
		fprintf(stderr, "bench_floor: ROWS and BATCH_LINES are positive numbers\n");
		return 2;
	}
	sqlite3 *db;
	must(sqlite3_open(argv[1], &db), db, "open");
	must(sqlite3_exec(db,
			  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
			  "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-131072;"
			  "CREATE TABLE floor_lines(declaration_id INTEGER NOT NULL, line_no INTEGER NOT NULL,"
			  " person_id INTEGER, payload BLOB NOT NULL, PRIMARY KEY(declaration_id, line_no))"
			  " WITHOUT ROWID;",
			  NULL, NULL, NULL),
	     db, "setup");
	sqlite3_stmt *ins;
	must(sqlite3_prepare_v2(db, "INSERT INTO floor_lines VALUES(?1, ?2, ?3, ?4)", -1, &ins, NULL), db, "prepare");
	unsigned char payload[ROW_PAYLOAD];
	srand(1);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (unsigned char)rand();
	double t0 = now_s();
	long in_batch = 0;
	must(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), db, "begin");
	for (long i = 0; i < rows; i++) {
		payload[i % ROW_PAYLOAD] ^= (unsigned char)i; /* rows not all alike */
		sqlite3_bind_int64(ins, 1, i / LINES_PER_DECLARATION + 1);
		sqlite3_bind_int64(ins, 2, i % LINES_PER_DECLARATION + 3);
		sqlite3_bind_int64(ins, 3, (i * 7919) % 4000000 + 1);
		sqlite3_bind_blob(ins, 4, payload, sizeof(payload), SQLITE_STATIC);
		must(sqlite3_step(ins), db, "insert");
		sqlite3_reset(ins);
		if (++in_batch >= batch) {
			must(sqlite3_exec(db, "COMMIT; BEGIN IMMEDIATE", NULL, NULL, NULL), db, "commit");
			in_batch = 0;
		}
	}
	must(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");
	double el = now_s() - t0;
	sqlite3_finalize(ins);
	sqlite3_close(db);
	printf("%ld %.3f %.0f\n", rows, el, (double)rows / el);
	return 0;
}
