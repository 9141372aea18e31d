/*
 * entry.h - one audit entry: who did what to whom, when, why, and whether
 * it was allowed; and its canonical byte form, which the Merkle tree hashes.
 *
 * An entry carries no plaintext personal data: subjects are the registry's
 * internal row ids (a person's registration number is looked up to its id
 * before a query), and the purpose, free text typed by a person that could
 * name someone, arrives already sealed by the service (audit key).
 *
 * Byte form (version 1, integers little-endian):
 *   u8 version=1, i64 time_ms, u8 outcome,
 *   six strings (u8 length, bytes): principal, role, action, reason,
 *   request_id, client,
 *   u16 length + sealed purpose,
 *   u32 subjects_total, u8 n, n x (u8 kind, i64 id).
 * Decoding accepts exactly what encoding produces (no trailing bytes, valid
 * UTF-8 is not required but control characters are refused).
 */
#ifndef AMANA_AUDIT_ENTRY_H
#define AMANA_AUDIT_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

enum audit_outcome {
	AUDIT_ALLOWED = 0,
	AUDIT_DENIED = 1, /* refused by policy: reason says why */
	AUDIT_FAILED = 2, /* allowed, but the call failed (not found, store error) */
};

enum audit_subject_kind {
	AUDIT_SUBJECT_PERSON = 'p',
	AUDIT_SUBJECT_EMPLOYER = 'e',
	AUDIT_SUBJECT_DECLARATION = 'd',
};

struct audit_subject {
	char kind; /* enum audit_subject_kind */
	int64_t id; /* row id in the registry */
};

#define AUDIT_SUBJECTS_MAX 64
#define AUDIT_PURPOSE_SEALED_MAX 512
#define AUDIT_ENTRY_MAX 4096

struct audit_entry {
	int64_t time_ms; /* UTC, milliseconds since the epoch */
	enum audit_outcome outcome;
	char principal[128];
	char role[16];
	char action[48];
	char reason[128];
	char request_id[64];
	char client[64]; /* address of the caller, "local" for the CLI */
	uint8_t purpose_sealed[AUDIT_PURPOSE_SEALED_MAX];
	size_t purpose_len; /* 0: no purpose given */
	uint32_t subjects_total; /* may exceed nsubjects for bulk calls */
	unsigned nsubjects;
	struct audit_subject subjects[AUDIT_SUBJECTS_MAX];
};

/* Add a subject; past AUDIT_SUBJECTS_MAX only subjects_total grows. */
void audit_entry_subject(struct audit_entry *e, char kind, int64_t id);

/* Encode into out (cap >= AUDIT_ENTRY_MAX is always enough).
 * AMANA_ERR_USAGE for a field with a control character. */
enum amana_err audit_entry_encode(const struct audit_entry *e, uint8_t *out, size_t cap, size_t *len) AMANA_MUST_CHECK;
/* Decode; AMANA_ERR_CORRUPT for anything encode would not produce. */
enum amana_err audit_entry_decode(const uint8_t *in, size_t len, struct audit_entry *e) AMANA_MUST_CHECK;

const char *audit_outcome_name(enum audit_outcome o);

#endif
