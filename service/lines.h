/*
 * lines.h - a declaration's lines, sealed by chunks of STORE_CHUNK_LINES.
 *
 * The import appends lines to a chunk_writer, which seals and stores a chunk
 * each time it fills and at the end; lines_each opens the chunks of a
 * declaration and hands back its lines in file order. Plaintext buffers are
 * wiped as soon as a chunk is sealed or read.
 */
#ifndef AMANA_SERVICE_LINES_H
#define AMANA_SERVICE_LINES_H

#include "internal.h"

enum line_kind { LINE_SALARY = 2, LINE_HIRE = 4 }; /* B02/E02, B04/E04 */

struct line_rec {
	uint32_t line_no; /* 1-based line in the file */
	enum line_kind kind;
	bool leaves; /* SO or DE: off the next pre-filled list */
	int64_t person_id; /* 0 for occasional labour */
	uint32_t registration; /* as declared: 999999999 for occasional labour */
	unsigned situation;
	unsigned days;
	unsigned children;
	int64_t real_salary, capped_salary;
	int64_t af_to_pay, af_to_deduct, af_net, af_give_back;
};

/* Largest packed line: varints and bytes, see lines.c. */
#define LINE_PACKED_MAX 96
#define CHUNK_PLAIN_MAX (STORE_CHUNK_LINES * LINE_PACKED_MAX)

/*
 * A declaration's roster: each of its lines, in file order, as the next
 * period's pre-filled list takes it (the person, 0 for occasional labour;
 * the registration number as declared; whether they left), sealed as one
 * value kept with the declaration (store_declaration.roster_sealed). The
 * import checks a period's files against the rosters of the period before,
 * one value per declaration, instead of opening all its chunks. Kept for
 * declarations of at most ROSTER_LINES_MAX lines; a larger one, and one
 * imported before rosters were kept, is read from its lines.
 *
 * Plaintext: a layout version byte, then per line a varint person id and a
 * varint registration * 2 + leaves.
 */
#define ROSTER_LINES_MAX 4096
#define ROSTER_PLAIN_MAX (1 + ROSTER_LINES_MAX * (10 + 5))
_Static_assert(ROSTER_PLAIN_MAX <= CRYPTO_SEAL_MAX_PLAINTEXT, "a roster is sealed as one value");

struct chunk_writer {
	struct registry *r;
	int64_t employer_id, declaration_id;
	int64_t chunk;
	unsigned count;
	size_t plen, perslen;
	uint8_t plain[CHUNK_PLAIN_MAX];
	uint8_t persons[STORE_CHUNK_LINES * 10];
	uint8_t sealed[CHUNK_PLAIN_MAX + CRYPTO_SEAL_OVERHEAD];
	size_t rlen; /* the roster's plaintext so far; 0: none (too many lines) */
	uint8_t roster[ROSTER_PLAIN_MAX];
	uint8_t roster_sealed[ROSTER_PLAIN_MAX + CRYPTO_SEAL_OVERHEAD];
};

void chunk_writer_start(struct chunk_writer *w, struct registry *r, int64_t employer_id, int64_t declaration_id);
/* Add a line; the chunk is sealed and stored when it fills. */
enum amana_err chunk_writer_add(struct chunk_writer *w, const struct line_rec *l) AMANA_MUST_CHECK;
/* Whether the next chunk_writer_add writes to the store. */
static inline bool chunk_writer_will_flush(const struct chunk_writer *w)
{
	return w->count + 1 >= STORE_CHUNK_LINES;
}
/* Store what is left; call once after the last line. */
enum amana_err chunk_writer_finish(struct chunk_writer *w) AMANA_MUST_CHECK;
/* The roster of the lines added, sealed for the declaration, into *out
 * (pointing into w, valid until the writer starts another declaration):
 * {NULL, 0} if it has more than ROSTER_LINES_MAX lines. Call after
 * chunk_writer_finish; its plaintext is wiped. */
enum amana_err chunk_writer_roster(struct chunk_writer *w, struct store_blob *out) AMANA_MUST_CHECK;
/* Wipe the plaintext (also after a failure). */
void chunk_writer_clear(struct chunk_writer *w);

/* The lines of a declaration's roster in order, to fn. d->roster_sealed
 * must be set. AMANA_ERR_CORRUPT unless it opens as d's own and holds
 * exactly d->line_count lines. */
typedef enum amana_err (*roster_line_fn)(void *ctx, int64_t person_id, uint32_t registration, bool leaves);
enum amana_err lines_roster_each(struct registry *r, const struct store_declaration *d, roster_line_fn fn,
				 void *ctx) AMANA_MUST_CHECK;

typedef enum amana_err (*line_fn)(void *ctx, const struct line_rec *l);
/* Every line of a declaration of employer_id in file order. */
enum amana_err lines_each(struct registry *r, int64_t employer_id, int64_t declaration_id, line_fn fn,
			  void *ctx) AMANA_MUST_CHECK;
/* The lines of several declarations (at most STORE_MANY_MAX, each once) in
 * one store read: each declaration's lines together and in file order. */
typedef enum amana_err (*decl_line_fn)(void *ctx, int64_t declaration_id, const struct line_rec *l);
enum amana_err lines_each_many(struct registry *r, const struct store_decl_key *declarations, size_t n, decl_line_fn fn,
			       void *ctx) AMANA_MUST_CHECK;
/* A line as the payment run takes it. */
struct line_pay {
	int64_t person_id; /* 0 for occasional labour */
	int64_t real_salary;
	unsigned days;
};
/* The lines of one chunk a caller read itself (a scan of the whole store),
 * into out[0 .. line_count) (STORE_CHUNK_LINES of room): salaries in clear,
 * which the caller wipes. With take (a bit per line, STORE_CHUNK_LINES of
 * them), the lines whose bit is clear are stepped over, not decoded: all
 * zero in out. */
enum amana_err lines_chunk_pay(struct registry *r, const struct store_chunk *c, const uint64_t *take,
			       struct line_pay *out) AMANA_MUST_CHECK;
/* The person ids of a chunk's clear list, in line order (0: occasional
 * labour), without opening it: ids[] must hold STORE_CHUNK_LINES. Fails
 * AMANA_ERR_CORRUPT unless the list holds exactly line_count ids. */
enum amana_err lines_chunk_persons(const struct store_chunk *c, int64_t *ids) AMANA_MUST_CHECK;
/* The lines of one person in a declaration: only the chunks whose clear
 * list names them are opened. */
enum amana_err lines_of_person(struct registry *r, int64_t employer_id, int64_t declaration_id, int64_t person_id,
			       line_fn fn, void *ctx) AMANA_MUST_CHECK;
/* The same, read through another connection to the registry's store (the
 * registry's keys are only read: safe on another thread). */
enum amana_err lines_each_many_on(struct registry *r, struct store *s, const struct store_decl_key *declarations,
				  size_t n, decl_line_fn fn, void *ctx) AMANA_MUST_CHECK;

#endif
