/* synth.c - see synth.h. Lists are short samples of common Moroccan names,
 * cities and trades, in the e-BDS character set. */
#include "synth.h"

#include <stdio.h>
#include <string.h>

/* clang-format off */
static const char *const first_names[] = {
	"MOHAMED", "FATIMA", "AHMED", "KHADIJA", "YOUSSEF", "AICHA", "OMAR", "MERYEM", "HASSAN", "ZINEB",
	"RACHID", "NAIMA", "ABDELLAH", "SAIDA", "KARIM", "HOUDA", "MUSTAPHA", "LATIFA", "ABDELKADER", "NADIA",
	"HAMZA", "SALMA", "ISMAIL", "IMANE", "MEHDI", "SANAA", "NOUREDDINE", "HAJAR", "ADIL", "GHIZLANE",
	"SAID", "MALIKA", "AYOUB", "ASMAE", "ABDERRAHIM", "RAJAE", "TARIK", "WAFAA", "BRAHIM", "HANANE",
	"ANAS", "FATIMA ZAHRA", "ILYAS", "OUMAIMA", "DRISS", "KENZA", "JAMAL", "BOUCHRA", "SOUFIANE", "LAILA",
};
static const char *const family_names[] = {
	"ALAOUI", "BENANI", "EL IDRISSI", "BENJELLOUN", "TAZI", "FASSI FIHRI", "BERRADA", "CHRAIBI",
	"EL AMRANI", "OUAZZANI", "BENNANI", "SEBTI", "LAHLOU", "KETTANI", "EL MANSOURI", "ZIANI", "BOUZIDI",
	"EL HASSANI", "AMRANI", "BENKIRANE", "SQALLI", "TOUNSI", "EL KHATTABI", "OUALI", "AIT BENHADDOU",
	"AIT OUFKIR", "ID BELLA", "EL FILALI", "MOUSSAOUI", "HAMDAOUI", "RAHMOUNI", "ZEROUALI", "CHERKAOUI",
	"EL BAKKALI", "BOUAZZAOUI", "NACIRI", "SAADI", "JABRI", "LAMRANI", "BELHAJ", "ESSAADI", "HAJJI",
	"OUBAHA", "AZOUZI", "EL GHAZI", "BELKADI", "KABBAJ", "MERNISSI", "SLAOUI", "GUESSOUS",
};
static const struct {
	const char *city;
	const char *postcode;
	const char *cin_prefixes[3];
} cities[] = {
	{ "CASABLANCA", "20000", { "BE", "BH", "BK" } }, { "RABAT", "10000", { "A", "AB", "AE" } },
	{ "FES", "30000", { "C", "CD", "CB" } },	 { "MARRAKECH", "40000", { "E", "EE", "EA" } },
	{ "TANGER", "90000", { "K", "KB", "L" } },	 { "AGADIR", "80000", { "J", "JA", "JE" } },
	{ "MEKNES", "50000", { "D", "DA", "DN" } },	 { "OUJDA", "60000", { "F", "FA", "FB" } },
	{ "KENITRA", "14000", { "G", "GA", "GK" } },	 { "TETOUAN", "93000", { "L", "LA", "LB" } },
	{ "SAFI", "46000", { "H", "HA", "HH" } },	 { "EL JADIDA", "24000", { "M", "MA", "MC" } },
	{ "BENI MELLAL", "23000", { "I", "IA", "IB" } }, { "NADOR", "62000", { "S", "SA", "SB" } },
	{ "LAAYOUNE", "70000", { "SH", "SJ", "SL" } },	 { "KHOURIBGA", "25000", { "Q", "QA", "QB" } },
};
#define NCITIES (sizeof(cities) / sizeof(cities[0]))

static const char *const trades[] = {
	"TEXTILE", "BTP", "TRANSPORT", "COMMERCE", "AGROALIMENTAIRE", "CENTRE APPELS", "HOTELLERIE",
	"IMMOBILIER", "INFORMATIQUE", "AUTOMOBILE", "PECHE", "AGRICULTURE", "SERVICES", "DISTRIBUTION",
	"NEGOCE", "IMPRIMERIE", "PHARMACIE", "NETTOYAGE", "SECURITE", "LOGISTIQUE",
};
static const char *const streets[] = {
	"BD MOHAMMED V", "AV HASSAN II", "RUE IBN BATOUTA", "BD ZERKTOUNI", "AV DES FAR", "RUE ALLAL BEN ABDELLAH",
	"BD ANFA", "QUARTIER INDUSTRIEL", "ZONE FRANCHE", "RUE DE FES", "AV MOHAMMED VI", "BD ABDELMOUMEN",
};
static const char *const legal[] = { "SARL", "SA", "SARL AU", "SNC" };

/* clang-format on */

void synth_rng_seed(struct synth_rng *g, uint64_t seed)
{
	g->state = seed ^ 0x5A17A3A3C0FFEEull;
}

uint64_t synth_next(struct synth_rng *g)
{
	uint64_t z = (g->state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

uint32_t synth_below(struct synth_rng *g, uint32_t n)
{
	return (uint32_t)(((synth_next(g) >> 32) * (uint64_t)n) >> 32);
}

double synth_unit(struct synth_rng *g)
{
	return (double)(synth_next(g) >> 11) * (1.0 / 9007199254740992.0);
}

/* A generator for one (seed, kind, index): independent streams. */
static void stream(struct synth_rng *g, uint64_t seed, uint64_t kind, uint32_t index)
{
	synth_rng_seed(g, seed * 0x100000001B3ull ^ (kind << 56) ^ index);
	(void)synth_next(g);
}

#define PICK(g, arr) (arr[synth_below(g, (uint32_t)(sizeof(arr) / sizeof(arr[0])))])

void synth_person(uint64_t seed, uint32_t index, int64_t minimum, struct synth_person *out)
{
	struct synth_rng g;
	stream(&g, seed, 1, index);
	snprintf(out->name, sizeof(out->name), "%s %s", PICK(&g, family_names), PICK(&g, first_names));
	/* CIN: a bijection of the index over 40 prefixes x 1,000,000 numbers,
	 * so CINs are unique and look scattered. 7777777 is coprime to 4e7. */
	uint64_t code = ((uint64_t)index * 7777777u + (seed % SYNTH_CIN_CAPACITY)) % SYNTH_CIN_CAPACITY;
	unsigned city = (unsigned)(code / 1000000u) % NCITIES;
	unsigned which = (unsigned)(code / 1000000u) / NCITIES; /* 0..2 */
	snprintf(out->cin, sizeof(out->cin), "%s%06u", cities[city].cin_prefixes[which % 3],
		 (unsigned)(code % 1000000u));
	unsigned year = 1960 + synth_below(&g, 46); /* 18 to 65 in 2025 */
	unsigned month = 1 + synth_below(&g, 12);
	unsigned day = 1 + synth_below(&g, 28);
	out->birth_date = year * 10000 + month * 100 + day;
	uint32_t k = synth_below(&g, 100);
	out->children = k < 40 ? 0 : k < 60 ? 1 : k < 80 ? 2 : k < 92 ? 3 : k < 97 ? 4 : 4 + synth_below(&g, 4);
	/* Salaries: most near the minimum, a long tail of executives. */
	double u = synth_unit(&g);
	double mad;
	if (u < 0.30)
		mad = 1.00 + 0.08 * synth_unit(&g);
	else if (u < 0.70)
		mad = 1.08 + 0.75 * synth_unit(&g);
	else if (u < 0.90)
		mad = 1.83 + 2.8 * synth_unit(&g);
	else if (u < 0.98)
		mad = 4.6 + 7.7 * synth_unit(&g);
	else
		mad = 12.3 + 33.0 * synth_unit(&g);
	out->base_salary = (int64_t)((double)minimum * mad);
}

void synth_employer(uint64_t seed, uint32_t index, struct synth_employer *out)
{
	struct synth_rng g;
	stream(&g, seed, 2, index);
	memset(out, 0, sizeof(*out));
	const char *trade = PICK(&g, trades);
	const char *fam = PICK(&g, family_names);
	snprintf(out->name, sizeof(out->name), "%s %s %s", trade, fam, PICK(&g, legal));
	snprintf(out->activity, sizeof(out->activity), "%s", trade);
	unsigned c = synth_below(&g, NCITIES);
	snprintf(out->address, sizeof(out->address), "%u %s", 1 + synth_below(&g, 400), PICK(&g, streets));
	snprintf(out->city, sizeof(out->city), "%s", cities[c].city);
	snprintf(out->postcode, sizeof(out->postcode), "%s", cities[c].postcode);
	snprintf(out->ice, sizeof(out->ice), "%09u%06u", 1000000u + index, synth_below(&g, 1000000));
}

uint32_t synth_affiliation_prefix(uint64_t seed, uint32_t index)
{
	/* 7 is coprime to 900000: a bijection of [0, 900000). */
	return 100000u + (uint32_t)(((uint64_t)index * 7u + seed % 900000u) % 900000u);
}
