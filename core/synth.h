/*
 * synth.h - a deterministic synthetic country: Moroccan names, CINs,
 * cities, companies, salaries and family sizes, as pure functions of a seed
 * and an index, so a generator can rebuild any person's details instead of
 * keeping them in memory, and the same seed always gives the same country.
 */
#ifndef AMANA_CORE_SYNTH_H
#define AMANA_CORE_SYNTH_H

#include <stdint.h>

/* splitmix64: small, fast, good enough for synthetic data (not for keys). */
struct synth_rng {
	uint64_t state;
};
void synth_rng_seed(struct synth_rng *g, uint64_t seed);
uint64_t synth_next(struct synth_rng *g);
/* Uniform in [0, n), n > 0. */
uint32_t synth_below(struct synth_rng *g, uint32_t n);
/* Uniform in [0, 1). */
double synth_unit(struct synth_rng *g);

struct synth_person {
	char name[61]; /* "FAMILY FIRST", e-BDS character set */
	char cin[9]; /* unique per index below SYNTH_CIN_CAPACITY */
	uint32_t birth_date; /* YYYYMMDD */
	unsigned children;
	int64_t base_salary; /* monthly, centimes, >= minimum */
};
#define SYNTH_CIN_CAPACITY 40000000u

/* The index-th person of the country of seed. minimum is the monthly
 * minimum wage in centimes (salaries start there). */
void synth_person(uint64_t seed, uint32_t index, int64_t minimum, struct synth_person *out);

struct synth_employer {
	char name[41];
	char activity[41];
	char address[121];
	char city[21];
	char postcode[7];
	char ice[16];
};
void synth_employer(uint64_t seed, uint32_t index, struct synth_employer *out);

/* The first six digits of the index-th employer's affiliation number
 * (distinct for index < 900000 under one seed). */
uint32_t synth_affiliation_prefix(uint64_t seed, uint32_t index);

#endif
