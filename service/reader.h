/*
 * reader.h - the import's reading thread.
 *
 * Opening, reading, hashing and checking a declaration file need nothing of
 * the registry (the codec is pure), so a second thread does them for the
 * next files while the import thread does the registry's part of the
 * current one. It hands over checked records in blocks through a small
 * bounded ring: memory stays constant whatever the files' sizes.
 *
 * Ownership: a block returned by file_reader_next belongs to the caller until
 * it gives it back with file_reader_release; the reader wipes every block it
 * reuses and every buffer that held file bytes.
 */
#ifndef AMANA_SERVICE_READER_H
#define AMANA_SERVICE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ebds.h"
#include "crypto/crypto.h"

#define READ_BLOCK_ITEMS 512

/* One line as the codec saw it. */
struct read_item {
	struct ebds_record rec; /* rec.type/family set even when not usable, if known */
	bool usable; /* ebds_check_line accepted its fields */
	bool too_long; /* longer than a record can be: rec is empty */
	unsigned codec_errors; /* errors the codec found in this file up to this line */
	/* Set by a block hook, for a B04 line: the person it names (0: not
	 * known) and their registration number; or, for a hire by CIN found
	 * nowhere, the transaction (the import's count) whose writer lock was
	 * held all through that lookup (0: none). */
	int64_t person_hint;
	int64_t hint_name_bidx, hint_cin_bidx; /* the hinted person's (struct person_keys) */
	uint32_t hint_registration;
	uint64_t cin_absent_in_tx;
};

/* What only the end of a file can tell. */
struct read_file_end {
	int open_errno; /* the file could not be opened or read (0: fine) */
	uint64_t bytes;
	uint8_t digest[CRYPTO_DIGEST_BYTES];
	struct ebds_errors errors; /* the codec's errors of the whole file */
};

struct read_block {
	size_t file_index;
	unsigned n;
	bool ends_file;
	struct read_file_end end; /* valid when ends_file */
	struct read_item items[READ_BLOCK_ITEMS];
};

struct file_reader;

/* Called on the reading thread with each block before the import thread
 * gets it; may fill the items' person_hint. */
typedef void (*read_block_hook)(void *ctx, struct read_block *b);

/* Start reading paths[0..count) in order, checking them against rules;
 * hook (may be NULL) sees each block first. */
enum amana_err file_reader_start(struct file_reader **out, const char *const *paths, size_t count,
				 const struct rules *rules, read_block_hook hook, void *hook_ctx) AMANA_MUST_CHECK;
/* The next block, in file order; NULL once every file was handed over. */
struct read_block *file_reader_next(struct file_reader *fr);
void file_reader_release(struct file_reader *fr, struct read_block *b);
/* Stop (at any point), wait for the thread, wipe and free. */
void file_reader_stop(struct file_reader *fr);

#endif
