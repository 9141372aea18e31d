/*
 * test_cli_plaintext.c - no plaintext at rest (DESIGN.md, "Data protection
 * at rest"), checked from the outside: a registry is filled through the
 * real `amana` binary (gen, import of two months, employer and person
 * registration, a hand-written declaration with distinctive names and
 * salaries), then every file under the registry directory (registry.db,
 * its -wal and -shm, rules.txt, whatever else is there) is searched for
 * the personal data and the money that went in: names, CINs, company
 * names and profile, ICE, registration and affiliation numbers, and the
 * real salaries both as the file's zero-padded text and as 8-byte
 * little-endian integers.
 *
 * The registry is searched after ordinary runs (WAL checkpointed on close)
 * and also while an import killed with SIGKILL has left committed frames in
 * the WAL, then again once another command has checkpointed them.
 * The same searcher must find everything in the declaration files
 * themselves, so a silent searcher cannot pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tests/harness.h"
#include "tests/pgtest.h"

#define MAX_FILES 64

/* What a needle is: the kinds asserted absent from the registry, and one
 * (small salaries as binary integers) only counted, see below. */
enum kind {
	K_NAME, /* person names of B02/B04 lines */
	K_CIN, /* CINs of B04 lines */
	K_COMPANY, /* company names of B01 lines */
	K_REGISTERED, /* what the test registered itself: names, CINs, ICE, profile */
	K_ID, /* registration and affiliation numbers, as text */
	K_SALARY_TEXT, /* real salaries and their totals as written in the files */
	K_VARIANT, /* names and company names lower-cased, or without spaces */
	K_SALARY_BIN, /* real salaries >= 2^40 centimes, 8 bytes little-endian */
	/* Real salaries of the generated country (100,000 < s < 2^40 centimes)
	 * as 8 bytes little-endian: three to five significant bytes followed
	 * by zeros, which ciphertext and SQLite pages can hold by chance, so
	 * their matches are reported, not failed on. */
	K_SALARY_BIN_SMALL,
	K_KINDS
};

static const char *const kind_name[K_KINDS] = {
	"name", "cin", "company", "registered", "id", "salary-text", "variant", "salary-le64", "salary-le64-small",
};

struct needle {
	char *bytes;
	size_t len;
	enum kind kind;
};

struct needles {
	struct needle *v;
	size_t n, cap;
};

struct hits {
	size_t printed_small;
	size_t n[K_KINDS];
	size_t files;
	size_t bytes;
	size_t *per_needle; /* optional: hits of each needle */
	unsigned printed;
};

/* The distinctive things the test registers itself. */
#define EMP_AFF "9876543"
#define EMP_NAME "ZZQX SOCIETE TESTNOM"
#define EMP_ICE "998877665544332"
#define EMP_ACTIVITY "ZZQX ACTIVITE TESTACT"
#define EMP_ADDRESS "12 RUE ZZQX TESTADRESSE"
#define EMP_CITY "ZZQXVILLE"
#define PERIOD_1 "202501"
#define PERIOD_2 "202502"

static const struct {
	const char *name, *cin, *birth;
	int64_t real; /* centimes, declared in the hand-written file */
} persons[] = {
	{ "ZZQX WAFAE TESTNAME", "ZX998877", "1990-03-04", 9876543210987LL },
	{ "ZZQX YOUNES QWERTYNOM", "ZX998866", "1985-11-30", 8765432109871LL },
	{ "ZZQX SALMA AZERTYNOM", "ZY112233", "2001-07-15", 7654321098761LL },
};
#define NPERSONS (sizeof(persons) / sizeof(persons[0]))
/* A new hire declared by CIN only (registration 000000000). */
#define HIRE_NAME "ZZQX NEWHIRE BYCINNOM"
#define HIRE_CIN "ZQ554433"
#define HIRE_REAL 6543210987651LL

struct world {
	struct registry g; /* AMANA_HOME, and gen's output in g.files */
	char custom[4096]; /* the hand-written declaration */
	char out[4096]; /* outside the registry: prefill output */
	char **m1, **m2; /* the generated declarations of each month */
	size_t n1, n2;
	uint32_t regs[NPERSONS];
	struct needles nd; /* from the generated files and the registrations */
};

/* ---- small helpers ---- */

static void needles_add(struct needles *nd, const void *bytes, size_t len, enum kind kind)
{
	if (len == 0)
		return;
	if (nd->n == nd->cap) {
		nd->cap = nd->cap ? nd->cap * 2 : 256;
		nd->v = realloc(nd->v, nd->cap * sizeof(*nd->v));
		assert_non_null(nd->v);
	}
	struct needle *x = &nd->v[nd->n++];
	x->bytes = malloc(len);
	assert_non_null(x->bytes);
	memcpy(x->bytes, bytes, len);
	x->len = len;
	x->kind = kind;
}

static void needles_add_str(struct needles *nd, const char *s, enum kind kind)
{
	needles_add(nd, s, strlen(s), kind);
}

/* A name as a normalizing index might hold it: lower case, and upper case
 * without its spaces (only when that leaves something distinctive). */
static void needles_add_name(struct needles *nd, const char *s, enum kind kind)
{
	char low[128], packed[128];
	size_t n = 0, k = 0;
	needles_add_str(nd, s, kind);
	for (; s[n] && n < sizeof(low) - 1; n++) {
		char c = s[n];
		low[n] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		if (c != ' ')
			packed[k++] = c;
	}
	low[n] = packed[k] = '\0';
	needles_add_str(nd, low, K_VARIANT);
	if (k != n && k >= 8)
		needles_add_str(nd, packed, K_VARIANT);
}

static void needles_add_le64(struct needles *nd, int64_t v)
{
	uint8_t b[8];
	uint64_t u = (uint64_t)v;
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(u >> (8 * i));
	needles_add(nd, b, sizeof(b), v >= (1LL << 40) ? K_SALARY_BIN : K_SALARY_BIN_SMALL);
}

static int needle_cmp(const void *a, const void *b)
{
	const struct needle *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->bytes, y->bytes, x->len);
}

static void needles_unique(struct needles *nd)
{
	if (nd->n == 0)
		return;
	qsort(nd->v, nd->n, sizeof(*nd->v), needle_cmp);
	size_t k = 0;
	for (size_t i = 1; i < nd->n; i++) {
		if (needle_cmp(&nd->v[k], &nd->v[i]) == 0) {
			free(nd->v[i].bytes);
			continue;
		}
		nd->v[++k] = nd->v[i];
	}
	nd->n = k + 1;
}

static void needles_free(struct needles *nd)
{
	for (size_t i = 0; i < nd->n; i++)
		free(nd->v[i].bytes);
	free(nd->v);
	memset(nd, 0, sizeof(*nd));
}

/* The needles of one declaration file (e-BDS B records, spec/ebds.md). */
static void needles_from_declaration(struct needles *nd, const char *path)
{
	struct records recs;
	records_load(&recs, path);
	char buf[128];
	for (size_t i = 0; i < recs.n; i++) {
		const char *line = recs.v[i];
		if (strlen(line) != REC_LEN || line[0] != 'B')
			continue;
		int64_t real = -1;
		if (!memcmp(line, "B01", 3)) {
			field_text(line, 17, 40, buf, sizeof(buf));
			needles_add_name(nd, buf, K_COMPANY);
			field_text(line, 4, 7, buf, sizeof(buf));
			needles_add_str(nd, buf, K_ID);
		} else if (!memcmp(line, "B02", 3)) {
			field_text(line, 26, 60, buf, sizeof(buf));
			needles_add_name(nd, buf, K_NAME);
			field_text(line, 17, 9, buf, sizeof(buf));
			needles_add_str(nd, buf, K_ID);
			field_text(line, 114, 13, buf, sizeof(buf));
			real = field_num(line, 114, 13);
		} else if (!memcmp(line, "B04", 3) && !is_blank_b04(line)) {
			field_text(line, 26, 60, buf, sizeof(buf));
			needles_add_name(nd, buf, K_NAME);
			field_text(line, 86, 8, buf, sizeof(buf));
			needles_add_str(nd, buf, K_CIN);
			field_text(line, 17, 9, buf, sizeof(buf));
			if (strcmp(buf, "000000000") != 0 && strcmp(buf, "999999999") != 0)
				needles_add_str(nd, buf, K_ID);
			field_text(line, 96, 13, buf, sizeof(buf));
			real = field_num(line, 96, 13);
		} else if (!memcmp(line, "B03", 3)) {
			if (field_num(line, 98, 15) > 0) {
				field_text(line, 98, 15, buf, sizeof(buf));
				needles_add_str(nd, buf, K_SALARY_TEXT);
			}
		} else if (!memcmp(line, "B05", 3) || !memcmp(line, "B06", 3)) {
			if (field_num(line, 44, 15) > 0) {
				field_text(line, 44, 15, buf, sizeof(buf));
				needles_add_str(nd, buf, K_SALARY_TEXT);
			}
		}
		if (real > 0)
			needles_add_str(nd, buf, K_SALARY_TEXT); /* the 13 digits */
		if (real > 100000)
			needles_add_le64(nd, real);
	}
	records_free(&recs);
}

/* ---- the searcher ---- */

static void report_hit(const char *path, const char *data, const char *m, size_t i, const struct needles *nd,
		       struct hits *h)
{
	const struct needle *x = &nd->v[i];
	h->n[x->kind]++;
	if (h->per_needle)
		h->per_needle[i]++;
	/* the small le64 matches are judged apart: they must not hide others */
	if (x->kind == K_SALARY_BIN_SMALL ? h->printed_small++ < 4 : h->printed++ < 12) {
		if (x->kind == K_SALARY_BIN || x->kind == K_SALARY_BIN_SMALL) {
			uint64_t v = 0;
			for (int b = 7; b >= 0; b--)
				v = v << 8 | (uint8_t)x->bytes[b];
			printf("  %s: %s at offset %zu: %llu centimes as le64\n", path, kind_name[x->kind],
			       (size_t)(m - data), (unsigned long long)v);
		} else {
			printf("  %s: %s at offset %zu: \"%.*s\"\n", path, kind_name[x->kind], (size_t)(m - data),
			       (int)x->len, x->bytes);
		}
	}
}

/* Every occurrence of every needle, in one pass over the data: needles of
 * 4 bytes or more are found through a hash of their first 4 bytes (a
 * server's data directory is hundreds of megabytes, the needles thousands);
 * shorter ones, if any, with memmem. */
#define PREFIX_BUCKETS 65536

static uint32_t prefix_hash(const char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return (v * 2654435761u) >> 16;
}

static void search_buffer(const char *path, const char *data, size_t len, const struct needles *nd, struct hits *h)
{
	static int32_t head[PREFIX_BUCKETS];
	int32_t *next = malloc((nd->n + 1) * sizeof(*next));
	assert_non_null(next);
	for (size_t b = 0; b < PREFIX_BUCKETS; b++)
		head[b] = -1;
	for (size_t i = 0; i < nd->n; i++) {
		const struct needle *x = &nd->v[i];
		if (x->len < 4) {
			const char *p = data, *m;
			size_t left = len;
			while (left >= x->len && (m = memmem(p, left, x->bytes, x->len))) {
				report_hit(path, data, m, i, nd, h);
				left -= (size_t)(m - p) + 1;
				p = m + 1;
			}
			continue;
		}
		uint32_t b = prefix_hash(x->bytes);
		next[i] = head[b];
		head[b] = (int32_t)i;
	}
	for (size_t at = 0; at + 4 <= len; at++) {
		for (int32_t i = head[prefix_hash(data + at)]; i >= 0; i = next[i]) {
			const struct needle *x = &nd->v[i];
			if (x->len <= len - at && !memcmp(data + at, x->bytes, x->len))
				report_hit(path, data, data + at, (size_t)i, nd, h);
		}
	}
	free(next);
}

/* Search every regular file under root, recursively. */
static void search_tree(const char *root, const struct needles *nd, struct hits *h)
{
	char **names;
	size_t n = list_dir(root, "", &names);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", root, names[i]);
		struct stat st;
		assert_int_equal(lstat(path, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			search_tree(path, nd, h);
		} else if (S_ISREG(st.st_mode)) {
			size_t len;
			char *data = read_file(path, &len);
			assert_non_null(data);
			h->files++;
			h->bytes += len;
			search_buffer(path, data, len, nd, h);
			free(data);
		} else {
			/* a symlink, socket or fifo in a registry is itself suspect */
			fail_msg("unexpected non-regular file %s", path);
		}
	}
	free_list(names, n);
}

static void print_hits(const char *what, const struct hits *h)
{
	printf("%s: %zu files, %zu bytes:", what, h->files, h->bytes);
	for (int k = 0; k < K_KINDS; k++)
		printf(" %s=%zu", kind_name[k], h->n[k]);
	printf("\n");
}

/* Search the registry directory: nothing but the small-integer kind may
 * match, and those matches are printed so they can be judged. */
static void assert_registry_clean(struct world *w, const char *when)
{
	struct hits h;
	memset(&h, 0, sizeof(h));
	search_tree(w->g.home, &w->nd, &h);
	char what[256];
	snprintf(what, sizeof(what), "registry %s", when);
	print_hits(what, &h);
	assert_true(h.files >= 2); /* registry.db and rules.txt at least */
	if (pgtest_enabled()) {
		/* The tables are on the PostgreSQL server: its whole data
		 * directory (tables, indexes, WAL, logs) once a checkpoint has
		 * written every page out. */
		char dir[4200];
		assert_int_equal(pgtest_checkpoint(), 0);
		size_t before = h.files;
		assert_int_equal(pgtest_database_dir(w->g.home, dir, sizeof(dir)), 0);
		search_tree(dir, &w->nd, &h); /* the registry's tables and indexes */
		snprintf(dir, sizeof(dir), "%s/data/pg_wal", getenv("AMANA_PG_DIR"));
		search_tree(dir, &w->nd, &h); /* the server's write-ahead log */
		snprintf(dir, sizeof(dir), "%s/server.log", getenv("AMANA_PG_DIR"));
		size_t len;
		char *log = read_file(dir, &len); /* its log */
		assert_non_null(log);
		h.files++;
		search_buffer(dir, log, len, &w->nd, &h);
		free(log);
		printf("searched %zu files of the PostgreSQL server too\n", h.files - before);
		assert_true(h.files > before + 10);
		print_hits(what, &h);
	}
	for (int k = 0; k < K_KINDS; k++) {
		if (k == K_SALARY_BIN_SMALL)
			continue;
		if (h.n[k])
			fail_msg("%s: %zu plaintext %s matches in %s", when, h.n[k], kind_name[k], w->g.home);
	}
	if (h.n[K_SALARY_BIN_SMALL])
		printf("note: %zu le64 matches of generated salaries (3-5 significant bytes): "
		       "judge them above, not counted as a leak\n",
		       h.n[K_SALARY_BIN_SMALL]);
}

/* ---- the hand-written declaration ---- */

static void put(char *line, unsigned col, unsigned w, const char *s)
{
	size_t n = strlen(s);
	memcpy(line + col - 1, s, n < w ? n : w);
}

static void new_record(char *line, const char *type)
{
	memset(line, ' ', REC_LEN);
	memcpy(line + REC_LEN, "\r\n", 3);
	put(line, 1, 3, type);
	if (strcmp(type, "B00") != 0) {
		put(line, 4, 7, EMP_AFF);
		put(line, 11, 6, PERIOD_1);
	}
}

static void append(char *text, size_t *len, const char *line)
{
	memcpy(text + *len, line, REC_LEN + 2);
	*len += REC_LEN + 2;
}

/* DS_<aff>_202501.txt: the registered persons and a new hire by CIN, all
 * as B04 lines (the employer has no pre-filled list yet). */
static void write_custom(struct world *w)
{
	char *text = malloc(16 * (REC_LEN + 2) + 1);
	assert_non_null(text);
	size_t len = 0;
	char line[REC_LEN + 3];

	new_record(line, "B00");
	put(line, 4, 14, "02025011987654");
	put(line, 18, 2, "B0");
	append(text, &len, line);
	new_record(line, "B01");
	put(line, 17, 40, EMP_NAME);
	put(line, 57, 40, EMP_ACTIVITY);
	put(line, 97, 120, EMP_ADDRESS);
	put(line, 217, 20, EMP_CITY);
	put(line, 237, 6, "20000");
	field_put_num(line, 245, 16, 0);
	append(text, &len, line);
	new_record(line, "B03");
	field_put_num(line, 17, 144 - 16, 0);
	append(text, &len, line);

	struct totals t = { 0 };
	for (size_t i = 0; i <= NPERSONS; i++) {
		int64_t reg = i < NPERSONS ? w->regs[i] : 0;
		const char *name = i < NPERSONS ? persons[i].name : HIRE_NAME;
		const char *cin = i < NPERSONS ? persons[i].cin : HIRE_CIN;
		int64_t r = i < NPERSONS ? persons[i].real : HIRE_REAL;
		int64_t c = r < 600000 ? r : 600000, d = 26;
		new_record(line, "B04");
		field_put_num(line, 17, 9, reg);
		put(line, 26, 60, name);
		put(line, 86, 8, cin);
		field_put_num(line, 94, 2, d);
		field_put_num(line, 96, 13, r);
		field_put_num(line, 109, 9, c);
		field_put_num(line, 118, 19, reg + d + r + c);
		append(text, &len, line);
		t.employees++;
		t.registrations += reg;
		t.days += d;
		t.real += r;
		t.capped += c;
		t.controls += reg + d + r + c;
	}
	for (int k = 0; k < 2; k++) { /* B05 (the hires) and B06 (all): the same */
		new_record(line, k ? "B06" : "B05");
		totals_write(line, &t);
		append(text, &len, line);
	}
	assert_int_equal(write_file(w->custom, text, len), 0);
	free(text);
}

/* ---- set-up: a small country and our own registrations ---- */

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	*state = w; /* the group teardown runs even when this fails */
	registry_new_env(&w->g, "plaintext");
	snprintf(w->out, sizeof(w->out), "%s/out", w->g.dir);
	assert_int_equal(mkdir(w->out, 0700), 0);
	assert_int_equal(mkdir(w->g.files, 0700), 0);
	snprintf(w->custom, sizeof(w->custom), "%s/out/DS_%s_%s.txt", w->g.dir, EMP_AFF, PERIOD_1);

	struct run_result r;
	run_gen(NULL, w->g.files, "20", "300", "2", "11");
	w->n1 = list_period(w->g.files, PERIOD_1, &w->m1);
	w->n2 = list_period(w->g.files, PERIOD_2, &w->m2);
	assert_int_equal(w->n1, 20);
	assert_int_equal(w->n2, 20);

	run_import(&r, NULL, NULL, w->m1, w->n1);
	assert_exit(&r, 0, "import month 1");
	run_result_free(&r);

	run_expect(&r, 0, "employer register", "employer", "register", "--affiliation", EMP_AFF, "--name", EMP_NAME,
		   "--ice", EMP_ICE, "--activity", EMP_ACTIVITY, "--address", EMP_ADDRESS, "--city", EMP_CITY,
		   "--postcode", "20000", NULL);
	run_result_free(&r);
	for (size_t i = 0; i < NPERSONS; i++) {
		run_expect(&r, 0, "person register", "person", "register", "--cin", persons[i].cin, "--name",
			   persons[i].name, "--birth", persons[i].birth, "--children", "2", "--json", NULL);
		int64_t reg = json_int(r.out, "registration");
		assert_in_range(reg, 100000000, 199999999);
		w->regs[i] = (uint32_t)reg;
		run_result_free(&r);
	}
	write_custom(w);

	/* The needles: what the generated files and our own file carry, and
	 * what we registered. */
	for (size_t i = 0; i < w->n1; i++)
		needles_from_declaration(&w->nd, w->m1[i]);
	for (size_t i = 0; i < w->n2; i++)
		needles_from_declaration(&w->nd, w->m2[i]);
	needles_from_declaration(&w->nd, w->custom);
	needles_add_name(&w->nd, EMP_NAME, K_REGISTERED);
	needles_add_str(&w->nd, EMP_ICE, K_REGISTERED);
	needles_add_str(&w->nd, EMP_ACTIVITY, K_REGISTERED);
	needles_add_str(&w->nd, EMP_ADDRESS, K_REGISTERED);
	needles_add_str(&w->nd, EMP_CITY, K_REGISTERED);
	needles_add_name(&w->nd, HIRE_NAME, K_REGISTERED);
	needles_add_str(&w->nd, HIRE_CIN, K_REGISTERED);
	for (size_t i = 0; i < NPERSONS; i++) {
		char buf[16];
		needles_add_name(&w->nd, persons[i].name, K_REGISTERED);
		needles_add_str(&w->nd, persons[i].cin, K_REGISTERED);
		snprintf(buf, sizeof(buf), "%09u", w->regs[i]);
		needles_add_str(&w->nd, buf, K_ID);
	}
	needles_unique(&w->nd);
	size_t per_kind[K_KINDS] = { 0 };
	for (size_t i = 0; i < w->nd.n; i++) {
		per_kind[w->nd.v[i].kind]++;
		/* short needles could match by chance and prove nothing */
		if (w->nd.v[i].kind != K_SALARY_BIN_SMALL && w->nd.v[i].len < 6)
			fail_msg("needle too short: \"%.*s\"", (int)w->nd.v[i].len, w->nd.v[i].bytes);
	}
	printf("needles:");
	for (int k = 0; k < K_KINDS; k++)
		printf(" %s=%zu", kind_name[k], per_kind[k]);
	printf("\n");
	assert_true(per_kind[K_NAME] >= 250);
	assert_true(per_kind[K_CIN] >= 250);
	assert_true(per_kind[K_COMPANY] >= 20);
	assert_true(per_kind[K_SALARY_TEXT] >= 500);
	assert_int_equal(per_kind[K_SALARY_BIN], NPERSONS + 1);
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	if (!w)
		return 0;
	needles_free(&w->nd);
	free_list(w->m1, w->n1);
	free_list(w->m2, w->n2);
	registry_free(&w->g);
	free(w);
	return 0;
}

/* ---- the tests ---- */

/* The searcher finds every needle in the files they came from (and a
 * planted 64-bit integer in a binary file): zero hits in the registry
 * then mean something. */
static void test_searcher_finds_plaintext_in_inputs(void **state)
{
	struct world *w = *state;
	struct hits h;
	memset(&h, 0, sizeof(h));
	h.per_needle = calloc(w->nd.n, sizeof(size_t));
	assert_non_null(h.per_needle);
	h.printed = 12; /* plenty of hits expected: do not print them */
	search_tree(w->g.files, &w->nd, &h);
	search_tree(w->out, &w->nd, &h); /* the hand-written file */
	print_hits("declaration files", &h);
	size_t missing = 0;
	for (size_t i = 0; i < w->nd.n; i++) {
		const struct needle *x = &w->nd.v[i];
		bool in_files = x->kind != K_SALARY_BIN && x->kind != K_SALARY_BIN_SMALL && x->kind != K_VARIANT;
		/* what we registered without declaring it: the ICE, the profile, the persons' CINs
		 * are in our file; the ICE is in no file */
		if (x->kind == K_REGISTERED && x->len == strlen(EMP_ICE) && !memcmp(x->bytes, EMP_ICE, x->len))
			in_files = false;
		if (in_files && h.per_needle[i] == 0) {
			if (missing++ < 10)
				printf("  not found in the files: %s \"%.*s\"\n", kind_name[x->kind], (int)x->len,
				       x->bytes);
		}
	}
	free(h.per_needle);
	assert_int_equal(missing, 0);
	assert_true(h.n[K_NAME] >= 500);

	/* binary needles: plant every one of them in a scratch buffer */
	memset(&h, 0, sizeof(h));
	h.printed = 12;
	size_t cap = 0;
	for (size_t i = 0; i < w->nd.n; i++)
		cap += w->nd.v[i].len + 3;
	char *buf = calloc(1, cap);
	assert_non_null(buf);
	size_t off = 0, planted = 0;
	for (size_t i = 0; i < w->nd.n; i++) {
		if (w->nd.v[i].kind != K_SALARY_BIN)
			continue;
		off += 3; /* unaligned on purpose */
		memcpy(buf + off, w->nd.v[i].bytes, w->nd.v[i].len);
		off += w->nd.v[i].len;
		planted++;
	}
	search_buffer("scratch", buf, off, &w->nd, &h);
	free(buf);
	assert_int_equal(h.n[K_SALARY_BIN], planted);
	assert_int_equal(planted, NPERSONS + 1);
}

/* Sum of the real salaries of the hand-written declaration. */
static int64_t custom_real(void)
{
	int64_t want = HIRE_REAL;
	for (size_t i = 0; i < NPERSONS; i++)
		want += persons[i].real;
	return want;
}

/* After month 1 and the registrations: every command closed the database
 * (checkpointing its WAL), so this is registry.db itself. */
static void test_no_plaintext_after_month_1_and_registration(void **state)
{
	struct world *w = *state;
	struct run_result r;
	/* the registrations are there to be found */
	char reg[16];
	snprintf(reg, sizeof(reg), "%09u", w->regs[0]);
	run_expect(&r, 0, "person show", "person", "show", reg, "--purpose", "test", "--json", NULL);
	assert_non_null(strstr(r.out, persons[0].name));
	run_result_free(&r);
	run_expect(&r, 0, "employer show", "employer", "show", EMP_AFF, "--json", NULL);
	assert_non_null(strstr(r.out, EMP_ICE));
	run_result_free(&r);
	assert_registry_clean(w, "after month 1 and registrations");
}

/* An import killed by SIGKILL after its first commits leaves them in the
 * WAL, not yet in registry.db: search it as it lies, then again once the
 * next command has checkpointed it. The first file is the hand-written
 * declaration: it registers a new hire from its CIN and carries the
 * salaries of 13 digits. */
static void test_no_plaintext_in_wal_before_and_after_checkpoint(void **state)
{
	if (pgtest_enabled())
		skip(); /* SQLite's WAL; PostgreSQL's pg_wal is searched with its data directory */
	struct world *w = *state;
	char wal[4200];
	snprintf(wal, sizeof(wal), "%s/registry.db-wal", w->g.home);

	struct run_result r;
	run_expect(&r, 0, "stats", "stats", "--json", NULL);
	int64_t decl_before = json_int(r.out, "declarations");
	run_result_free(&r);
	assert_true(file_size(wal) <= 0);

	/* One commit per file (--batch-lines 1). Wait until the WAL holds two
	 * commit frames, so the first commit is whole, then kill. */
	char *args[MAX_FILES + 5];
	size_t n = 0;
	args[n++] = "import";
	args[n++] = "--batch-lines";
	args[n++] = "1";
	args[n++] = w->custom;
	for (size_t i = 0; i < w->n2; i++)
		args[n++] = w->m2[i];
	args[n] = NULL;
	pid_t pid = spawn_amana(args);
	assert_true(pid > 0);
	int st = 0;
	bool exited = !wait_wal_commits(wal, 2, pid, &st);
	if (!exited) {
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &st, 0), pid);
	}
	if (exited || !WIFSIGNALED(st))
		fail_msg("the import ended (status %d) before a live WAL could be caught", st);
	off_t wal_size = file_size(wal);
	printf("killed the import with a %lld-byte WAL (%u commits)\n", (long long)wal_size, wal_commits(wal));
	assert_true(wal_size > 0);
	assert_registry_clean(w, "with the killed import's WAL");

	/* stats opens the database, recovers the WAL, checkpoints it on close */
	run_expect(&r, 0, "stats after the kill", "stats", "--json", NULL);
	int64_t decl_after = json_int(r.out, "declarations");
	run_result_free(&r);
	printf("declarations: %lld before, %lld after the killed import\n", (long long)decl_before,
	       (long long)decl_after);
	off_t left = file_size(wal);
	printf("WAL after stats: %lld bytes\n", (long long)left);
	assert_true(left <= 0);
	/* the WAL we searched held the hand-written declaration, committed */
	assert_true(decl_after > decl_before);
	assert_true(decl_after < decl_before + 1 + (int64_t)w->n2);
	run_expect(&r, 0, "contributions of the hand-written declaration", "contributions", EMP_AFF, PERIOD_1, "--json",
		   NULL);
	assert_int_equal(json_int(r.out, "real_salaries"), custom_real());
	assert_int_equal(json_int(r.out, "employees"), NPERSONS + 1);
	run_result_free(&r);
	assert_registry_clean(w, "after the checkpoint");
}

/* The rest of month 2, pre-filled lists written outside the registry, and
 * the same searches. */
static void test_no_plaintext_after_month_2_and_prefill(void **state)
{
	struct world *w = *state;
	struct run_result r;
	char *files[MAX_FILES + 1];
	files[0] = w->custom;
	memcpy(files + 1, w->m2, w->n2 * sizeof(*files));
	static const char *const json[] = { "--json", NULL };
	run_import(&r, NULL, json, files, w->n2 + 1);
	/* 3: the files the killed import kept are refused as duplicates (on
	 * PostgreSQL that test is skipped: nothing was imported before) */
	assert_exit(&r, pgtest_enabled() ? 0 : 3, "import of month 2 after the kill");
	run_result_free(&r);
	run_expect(&r, 0, "stats", "stats", "--json", NULL);
	assert_int_equal(json_int(r.out, "declarations"), (int64_t)(w->n1 + w->n2 + 1));
	assert_true(json_int(r.out, "persons") >= 300 + (int64_t)NPERSONS + 1);
	run_result_free(&r);

	/* Our employer's pre-filled list for month 2 names our persons: the
	 * registry does hold them, sealed. */
	char pf[4200];
	snprintf(pf, sizeof(pf), "%s/AFFEBDS_%s_%s.txt", w->out, EMP_AFF, PERIOD_2);
	run_expect(&r, 0, "prefill", "prefill", EMP_AFF, PERIOD_2, "-o", pf, NULL);
	run_result_free(&r);
	size_t len;
	char *text = read_file(pf, &len);
	assert_non_null(text);
	for (size_t i = 0; i < NPERSONS; i++)
		assert_non_null(strstr(text, persons[i].name));
	assert_non_null(strstr(text, HIRE_NAME));
	free(text);
	/* and one of the generated employers' lists for month 3 */
	char aff[8];
	const char *base = strrchr(w->m2[0], '/') + 1;
	memcpy(aff, base + 3, 7);
	aff[7] = '\0';
	snprintf(pf, sizeof(pf), "%s/AFFEBDS_%s_202503.txt", w->out, aff);
	run_expect(&r, 0, "prefill of a generated employer", "prefill", aff, "202503", "-o", pf, NULL);
	run_result_free(&r);
	assert_true(file_size(pf) > 4 * REC_LEN);

	assert_registry_clean(w, "after month 2 and prefill");
	run_expect(&r, 0, "stats", "stats", NULL);
	run_result_free(&r);
	assert_registry_clean(w, "after a further checkpoint");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_searcher_finds_plaintext_in_inputs),
		cmocka_unit_test(test_no_plaintext_after_month_1_and_registration),
		cmocka_unit_test(test_no_plaintext_in_wal_before_and_after_checkpoint),
		cmocka_unit_test(test_no_plaintext_after_month_2_and_prefill),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
