/*
 * internal.h - what the audit modules share and nobody else uses: the
 * record framing of the entries file, little-endian fields, and file
 * helpers that retry on EINTR and name short files as corrupt.
 */
#ifndef AMANA_AUDIT_INTERNAL_H
#define AMANA_AUDIT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "log.h"

/* A record of the entries file: u32 length, the entry, 4 bytes of its leaf hash. */
#define AUDIT_REC_HEAD 4
#define AUDIT_REC_TAIL 4
#define AUDIT_REC_OVERHEAD (AUDIT_REC_HEAD + AUDIT_REC_TAIL)

static inline void audit_put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t audit_get_le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* open(dir/name), never following a symlink; -1 with errno. */
int audit_open_in(const char *dir, const char *name, int flags, mode_t mode);
enum amana_err audit_pwrite_all(int fd, const void *buf, size_t len, uint64_t off) AMANA_MUST_CHECK;
/* AMANA_ERR_CORRUPT when the file ends first. */
enum amana_err audit_pread_all(int fd, void *buf, size_t len, uint64_t off) AMANA_MUST_CHECK;
enum amana_err audit_sync_fd(int fd) AMANA_MUST_CHECK;
/* Write dir/public.key ("AMANA-AUDIT-ED25519 <base64>"), refusing an
 * existing one, synced. */
enum amana_err audit_write_public_key(const char *dir, const uint8_t pk[AUDIT_PUBLIC_KEY_BYTES]) AMANA_MUST_CHECK;

#endif
