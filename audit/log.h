/*
 * log.h - the tamper-evident audit log: an append-only file of entries, an
 * RFC 9162 Merkle tree over them, and signed tree heads.
 *
 * Files, in the log's own directory (not the database):
 *   entries     the records: u32 length, the entry's bytes (entry.h), the
 *               first 4 bytes of its leaf hash (a torn record fails it)
 *   index       u64 offset of each record in entries
 *   tree        every complete subtree's hash, 32 bytes each, in the order
 *               they complete (merkle_node_position)
 *   heads       signed tree heads, AUDIT_HEAD_RECORD bytes each
 *   public.key  the Ed25519 key that verifies the heads, in base64
 *
 * Durability: audit_append returns once its entry is in entries and that
 * file is fsynced. Concurrent appends are grouped: one thread writes and
 * syncs everything queued while the previous write was in flight (group
 * commit). index and tree are derived from entries; they are synced before
 * each head is signed, so after a crash they are trusted up to the last
 * head and rebuilt from entries past it, where a torn last record is cut.
 * Several processes may append to one log: each batch is written under an
 * exclusive flock, and a process first catches up with what others wrote.
 * Under load (the last batch held more than one entry), the flusher thread
 * waits up to AUDIT_GATHER_US, or until AUDIT_GATHER_ENOUGH entries are
 * queued, before it writes what submitters queued: one sync then covers
 * more entries (docs/BENCHMARKS.md measures it). A caller waiting on its
 * own entry writes at once.
 *
 * A head (size, root, time) is signed when at least AUDIT_HEAD_INTERVAL_MS
 * passed since the last one and entries arrived, and when the log is
 * closed; recovery signs one for entries it found past the last head.
 *
 * Fail closed: once a write or sync fails, every later append of this
 * handle fails; the log refuses to open if it is shorter than its last
 * head, or if the tree disagrees with the head's root.
 */
#ifndef AMANA_AUDIT_LOG_H
#define AMANA_AUDIT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "merkle.h"

#define AUDIT_HEAD_INTERVAL_MS 1000
#define AUDIT_GATHER_US 200
#define AUDIT_GATHER_ENOUGH 64
#define AUDIT_PUBLIC_KEY_BYTES 32
#define AUDIT_SECRET_KEY_BYTES 64
#define AUDIT_SIGNATURE_BYTES 64
#define AUDIT_HEAD_RECORD 120

struct audit_head {
	uint64_t size;
	int64_t time_ms;
	merkle_hash root;
	uint8_t signature[AUDIT_SIGNATURE_BYTES];
};

struct audit_log;

/* Create the log's directory and files for the key pair's public half.
 * Refuses an existing directory. */
enum amana_err audit_create(const char *dir, const uint8_t pk[AUDIT_PUBLIC_KEY_BYTES]) AMANA_MUST_CHECK;

/* Open for appending, with the signing key (kept in locked memory); runs
 * recovery. why gets a sentence for the operator on failure. */
enum amana_err audit_open(const char *dir, const uint8_t sk[AUDIT_SECRET_KEY_BYTES], struct audit_log **out, char *why,
			  size_t why_cap) AMANA_MUST_CHECK;
/* Open to read only (proofs, queries): no recovery, no key, no lock. */
enum amana_err audit_open_readonly(const char *dir, struct audit_log **out, char *why, size_t why_cap) AMANA_MUST_CHECK;
/* Sign a head for what is not covered yet, then close. */
enum amana_err audit_close(struct audit_log *log);

/* Append one entry; durable on return, *seq (may be NULL) its position. */
enum amana_err audit_append(struct audit_log *log, const struct audit_entry *e, uint64_t *seq) AMANA_MUST_CHECK;
/* Append n encoded entries at once, durable on return (for bulk loads and
 * benchmarks). */
enum amana_err audit_append_encoded(struct audit_log *log, const uint8_t *const *entries, const size_t *lens, size_t n,
				    uint64_t *first_seq) AMANA_MUST_CHECK;

/* Pipelined appends, for a caller with many requests in flight: queue an
 * entry and get a ticket at once, then wait for the ticket before the data
 * the entry covers leaves. Entries are durable in the order queued. */
enum amana_err audit_submit(struct audit_log *log, const struct audit_entry *e, uint64_t *ticket) AMANA_MUST_CHECK;
enum amana_err audit_wait(struct audit_log *log, uint64_t ticket) AMANA_MUST_CHECK;
/* Without waiting: how many entries are durable (every ticket up to it),
 * and the error that broke the log (AMANA_OK while it works). */
enum amana_err audit_durable(struct audit_log *log, uint64_t *durable);
/* fn is called after every batch written or failed (and every head signed),
 * with the same two, from whichever thread wrote it and with no lock of the
 * log held: a server holding answers for their tickets sends them from
 * there, with no thread of its own waiting. It must not append, and should
 * be short: a writer inside a store transaction may be the thread. One fn
 * per log; NULL removes it; once this returns, the old fn runs nowhere. */
typedef void (*audit_durable_fn)(void *ctx, uint64_t durable, enum amana_err broken);
void audit_on_durable(struct audit_log *log, audit_durable_fn fn, void *ctx);

/* Sign a head now if entries are not covered by the last one. */
enum amana_err audit_sign_head(struct audit_log *log) AMANA_MUST_CHECK;
/* The latest signed head (AMANA_ERR_NOTFOUND before the first). */
enum amana_err audit_latest_head(struct audit_log *log, struct audit_head *out) AMANA_MUST_CHECK;
/* The head whose size is exactly size, if one was signed. */
enum amana_err audit_head_of_size(struct audit_log *log, uint64_t size, struct audit_head *out) AMANA_MUST_CHECK;
void audit_public_key(const struct audit_log *log, uint8_t pk[AUDIT_PUBLIC_KEY_BYTES]);
/* Entries written so far (covered by a head or not). */
uint64_t audit_size(const struct audit_log *log);

/* The bytes a head's signature covers, and checking one. */
#define AUDIT_HEAD_MESSAGE_BYTES (11 + 8 + 8 + MERKLE_HASH_BYTES)
void audit_head_message(const struct audit_head *h, uint8_t msg[AUDIT_HEAD_MESSAGE_BYTES]);
bool audit_head_verify(const struct audit_head *h, const uint8_t pk[AUDIT_PUBLIC_KEY_BYTES]) AMANA_MUST_CHECK;
/* A head as stored: "STH1", u32 0, u64 size, i64 time_ms (little-endian),
 * root, signature. */
void audit_head_encode(const struct audit_head *h, uint8_t rec[AUDIT_HEAD_RECORD]);
bool audit_head_decode(const uint8_t rec[AUDIT_HEAD_RECORD], struct audit_head *h) AMANA_MUST_CHECK;

/* Proofs against the tree of size leaves (size <= the latest head's). */
enum amana_err audit_root(struct audit_log *log, uint64_t size, merkle_hash out) AMANA_MUST_CHECK;
enum amana_err audit_inclusion(struct audit_log *log, uint64_t seq, uint64_t size, merkle_hash leaf,
			       merkle_hash path[MERKLE_PROOF_MAX], size_t *n) AMANA_MUST_CHECK;
enum amana_err audit_consistency(struct audit_log *log, uint64_t old_size, uint64_t new_size,
				 merkle_hash path[MERKLE_PROOF_MAX], size_t *n) AMANA_MUST_CHECK;

/* The raw bytes of entry seq. */
enum amana_err audit_read_entry(struct audit_log *log, uint64_t seq, uint8_t *buf, size_t cap,
				size_t *len) AMANA_MUST_CHECK;
/* Every entry from seq `from` to the end, in order; fn's error stops it. */
typedef enum amana_err (*audit_entry_fn)(void *ctx, uint64_t seq, const uint8_t *entry, size_t len);
enum amana_err audit_each(struct audit_log *log, uint64_t from, audit_entry_fn fn, void *ctx) AMANA_MUST_CHECK;

/* Recompute everything from the entries: framing, leaf hashes, index,
 * every tree node, every head's root and signature, sizes. The first
 * problem is described in report, with its position. */
struct audit_verify_report {
	uint64_t entries, heads;
	uint64_t bytes; /* of entries read */
	bool ok;
	char file[16]; /* where the first problem is */
	uint64_t position; /* entry seq or head number, per file */
	uint64_t offset; /* byte offset in that file */
	char problem[200];
};
enum amana_err audit_verify(const char *dir, const uint8_t pk[AUDIT_PUBLIC_KEY_BYTES],
			    struct audit_verify_report *rep) AMANA_MUST_CHECK;

/* A witness folder (audit/witness.c): the log's key pinned on first use
 * (pinned_now says it was this call), the last head it accepted (have:
 * whether there is one), and appending an accepted head, synced. */
enum amana_err audit_witness_pin(const char *dir, const uint8_t pk[AUDIT_PUBLIC_KEY_BYTES],
				 uint8_t pinned[AUDIT_PUBLIC_KEY_BYTES], bool *pinned_now) AMANA_MUST_CHECK;
enum amana_err audit_witness_last(const char *dir, struct audit_head *last, bool *have) AMANA_MUST_CHECK;
enum amana_err audit_witness_append(const char *dir, const struct audit_head *h) AMANA_MUST_CHECK;

/* Read the public key file of a log directory. */
enum amana_err audit_read_public_key(const char *dir, uint8_t pk[AUDIT_PUBLIC_KEY_BYTES]) AMANA_MUST_CHECK;

#endif
