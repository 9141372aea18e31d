/*
 * fuzz_audit.c - libFuzzer target for what the audit log reads back from
 * its files: an entry's byte form (audit_entry_decode), and the signed head
 * record (audit_head_decode). Whatever decodes must encode to the very same
 * bytes: the Merkle tree hashes the bytes, so two byte forms of one entry
 * would be two different leaves for the same facts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_entry e;
	if (audit_entry_decode(data, size, &e) == AMANA_OK) {
		uint8_t out[AUDIT_ENTRY_MAX];
		size_t len;
		if (audit_entry_encode(&e, out, sizeof(out), &len) != AMANA_OK || len != size ||
		    memcmp(out, data, size) != 0)
			abort();
	}
	if (size >= AUDIT_HEAD_RECORD) {
		struct audit_head h;
		if (audit_head_decode(data, &h)) {
			uint8_t rec[AUDIT_HEAD_RECORD];
			audit_head_encode(&h, rec);
			if (memcmp(rec, data, AUDIT_HEAD_RECORD) != 0)
				abort();
		}
	}
	return 0;
}
