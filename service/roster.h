/*
 * roster.h - the persons an employer is expected to declare for a period:
 * those of its last accepted declaration before that period (main, then
 * complementary ones, in file order), each once, minus those who left (SO or
 * DE). The pre-filled list writes it; the import checks B02 lines against it.
 */
#ifndef AMANA_SERVICE_ROSTER_H
#define AMANA_SERVICE_ROSTER_H

#include "idmap.h"
#include "internal.h"

struct roster_person {
	int64_t person_id;
	uint32_t registration;
	unsigned children;
	char name[61]; /* only with identities */
	bool leaves;
};

struct roster {
	struct roster_person *v;
	size_t n, cap;
	uint32_t from_period; /* the period it was taken from; 0 if none */
	struct idmap by_person; /* person id -> index */
	struct idmap by_reg; /* registration -> index */
};

void roster_init(struct roster *ro);
/* Load the roster for (employer, period). with_identity also opens names and
 * children (for the pre-filled list). Replaces what ro held. */
enum amana_err roster_load(struct registry *r, int64_t employer_id, uint32_t period, bool with_identity,
			   struct roster *ro) AMANA_MUST_CHECK;
/* Load the roster from the declarations of one earlier period (main first,
 * then complementary), as the import finds them itself. */
enum amana_err roster_load_from(struct registry *r, int64_t employer_id, const int64_t *declaration_ids, unsigned count,
				uint32_t from_period, bool with_identity, struct roster *ro) AMANA_MUST_CHECK;
/* Building a list from lines read elsewhere (the import reads the lines
 * of many declarations at once): begin, add every line of the earlier
 * declarations in order (main first, then complementary), finish. */
void roster_begin(struct roster *ro, uint32_t from_period);
enum amana_err roster_add(struct roster *ro, int64_t person_id, uint32_t registration, bool leaves) AMANA_MUST_CHECK;
/* Drops those who left, indexes the rest; with_identity opens names. */
enum amana_err roster_finish(struct registry *r, struct roster *ro, bool with_identity) AMANA_MUST_CHECK;
/* Wipe and free. */
void roster_free(struct roster *ro);

#endif
