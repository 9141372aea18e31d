/*
 * verify.c - recompute an audit log from its entries and compare every
 * byte of the derived files and every signed head with the result.
 *
 * Read-only and streaming: the four files are read front to back once,
 * through big buffers, so the cost is the hashing (one leaf hash per entry
 * and one node hash per completed subtree, about two SHA-256 per entry).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RD_BUF (4u << 20)

struct rd {
	int fd;
	uint8_t *buf;
	size_t cap, have, pos;
	uint64_t base; /* file offset of buf[0] */
	uint64_t size;
};

static enum amana_err rd_open(struct rd *r, const char *dir, const char *name)
{
	char path[PATH_MAX];
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return AMANA_ERR_USAGE;
	r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (r->fd < 0)
		return errno == ENOENT ? AMANA_ERR_NOTFOUND : AMANA_ERR_IO;
	struct stat st;
	if (fstat(r->fd, &st) != 0)
		return AMANA_ERR_IO;
	r->size = (uint64_t)st.st_size;
	/* Big enough for the largest record, no bigger than the file needs. */
	r->cap = r->size + 1 < RD_BUF ? (size_t)r->size + 1 : RD_BUF;
	if (r->cap < 2 * (AUDIT_ENTRY_MAX + AUDIT_REC_HEAD + AUDIT_REC_TAIL))
		r->cap = 2 * (AUDIT_ENTRY_MAX + AUDIT_REC_HEAD + AUDIT_REC_TAIL);
	r->buf = malloc(r->cap);
	return r->buf ? AMANA_OK : AMANA_ERR_NOMEM;
}

static void rd_close(struct rd *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
}

static uint64_t rd_offset(const struct rd *r)
{
	return r->base + r->pos;
}

/* Point at the next len bytes (len <= cap / 2); NULL at the end of file. */
static const uint8_t *rd_take(struct rd *r, size_t len, enum amana_err *err)
{
	if (r->have - r->pos < len) {
		memmove(r->buf, r->buf + r->pos, r->have - r->pos);
		r->base += r->pos;
		r->have -= r->pos;
		r->pos = 0;
		while (r->have < len) {
			ssize_t n = pread(r->fd, r->buf + r->have, r->cap - r->have, (off_t)(r->base + r->have));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				*err = AMANA_ERR_IO;
				return NULL;
			}
			if (n == 0)
				return NULL;
			r->have += (size_t)n;
		}
	}
	const uint8_t *p = r->buf + r->pos;
	r->pos += len;
	return p;
}

struct verifier {
	struct audit_verify_report *rep;
	struct rd tree;
	enum amana_err io;
};

static void problem(struct audit_verify_report *rep, const char *file, uint64_t position, uint64_t offset,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void problem(struct audit_verify_report *rep, const char *file, uint64_t position, uint64_t offset,
		    const char *fmt, ...)
{
	if (!rep->ok)
		return; /* the first problem is the one reported */
	rep->ok = false;
	snprintf(rep->file, sizeof(rep->file), "%s", file);
	rep->position = position;
	rep->offset = offset;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rep->problem, sizeof(rep->problem), fmt, ap);
	va_end(ap);
}

static enum amana_err check_node(void *ctx, unsigned level, uint64_t index, const merkle_hash h)
{
	struct verifier *v = ctx;
	uint64_t off = rd_offset(&v->tree);
	const uint8_t *stored = rd_take(&v->tree, MERKLE_HASH_BYTES, &v->io);
	if (!stored) {
		problem(v->rep, "tree", off / MERKLE_HASH_BYTES, off,
			"the tree ends before node (level %u, index %llu)", level, (unsigned long long)index);
		return AMANA_ERR_CORRUPT;
	}
	if (sodium_memcmp(stored, h, MERKLE_HASH_BYTES) != 0) {
		problem(v->rep, "tree", off / MERKLE_HASH_BYTES, off,
			"node (level %u, index %llu) does not match the entries", level, (unsigned long long)index);
		return AMANA_ERR_CORRUPT;
	}
	return AMANA_OK;
}

/* The next head, checked on its own and against the previous one. */
static bool next_head(struct rd *heads, uint64_t *k, struct audit_head *h, struct audit_head *prev, bool *have_prev,
		      const uint8_t *pk, struct audit_verify_report *rep, enum amana_err *io)
{
	uint64_t off = rd_offset(heads);
	if (off >= heads->size)
		return false;
	const uint8_t *rec = rd_take(heads, AUDIT_HEAD_RECORD, io);
	if (!rec) {
		problem(rep, "heads", *k, off, "a head record cut short (%llu bytes)",
			(unsigned long long)(heads->size - off));
		return false;
	}
	if (!audit_head_decode(rec, h)) {
		problem(rep, "heads", *k, off, "not a head record");
		return false;
	}
	if (!audit_head_verify(h, pk)) {
		problem(rep, "heads", *k, off, "the signature of the head of size %llu does not verify",
			(unsigned long long)h->size);
		return false;
	}
	if (*have_prev && (h->size < prev->size || h->time_ms < prev->time_ms)) {
		problem(rep, "heads", *k, off, "the head of size %llu goes back from the one before it (size %llu)",
			(unsigned long long)h->size, (unsigned long long)prev->size);
		return false;
	}
	*prev = *h;
	*have_prev = true;
	(*k)++;
	rep->heads = *k;
	return true;
}

enum amana_err audit_verify(const char *dir, const uint8_t pk[AUDIT_PUBLIC_KEY_BYTES], struct audit_verify_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->ok = true;
	struct rd entries, index, heads;
	struct verifier v = { rep, { .fd = -1 }, AMANA_OK };
	entries.fd = index.fd = heads.fd = -1;
	entries.buf = index.buf = heads.buf = NULL;
	enum amana_err err;
	if ((err = rd_open(&entries, dir, "entries")) || (err = rd_open(&index, dir, "index")) ||
	    (err = rd_open(&v.tree, dir, "tree")) || (err = rd_open(&heads, dir, "heads")))
		goto out;
	uint8_t *entry = malloc(AUDIT_ENTRY_MAX);
	if (!entry) {
		err = AMANA_ERR_NOMEM;
		goto out;
	}
	struct merkle_frontier fr;
	merkle_frontier_init(&fr);
	struct audit_head h, prev;
	bool have_prev = false, have_head;
	uint64_t k = 0, n = 0;
	merkle_hash root;

	have_head = next_head(&heads, &k, &h, &prev, &have_prev, pk, rep, &v.io);
	/* Heads of the empty tree. */
	while (rep->ok && have_head && h.size == 0) {
		merkle_empty_root(root);
		if (sodium_memcmp(root, h.root, MERKLE_HASH_BYTES) != 0)
			problem(rep, "heads", k - 1, (k - 1) * AUDIT_HEAD_RECORD,
				"the head of size 0 does not carry the empty tree's root");
		have_head = next_head(&heads, &k, &h, &prev, &have_prev, pk, rep, &v.io);
	}
	while (rep->ok && rd_offset(&entries) < entries.size) {
		uint64_t off = rd_offset(&entries);
		const uint8_t *hdr = rd_take(&entries, AUDIT_REC_HEAD, &v.io);
		uint64_t len = hdr ? audit_get_le(hdr, 4) : 0;
		if (!hdr || len == 0 || len > AUDIT_ENTRY_MAX) {
			problem(rep, "entries", n, off, "entry %llu: not a record (length %llu)", (unsigned long long)n,
				(unsigned long long)len);
			break;
		}
		const uint8_t *body = rd_take(&entries, (size_t)len + AUDIT_REC_TAIL, &v.io);
		if (!body) {
			problem(rep, "entries", n, off, "entry %llu is cut short", (unsigned long long)n);
			break;
		}
		memcpy(entry, body, (size_t)len);
		merkle_hash leaf;
		merkle_leaf_hash(entry, (size_t)len, leaf);
		if (sodium_memcmp(leaf, body + len, AUDIT_REC_TAIL) != 0) {
			problem(rep, "entries", n, off, "entry %llu: its bytes do not match its check",
				(unsigned long long)n);
			break;
		}
		struct audit_entry e;
		if (audit_entry_decode(entry, (size_t)len, &e) != AMANA_OK) {
			problem(rep, "entries", n, off, "entry %llu is not a valid audit entry", (unsigned long long)n);
			break;
		}
		uint64_t ioff = rd_offset(&index);
		const uint8_t *ib = rd_take(&index, 8, &v.io);
		if (!ib) {
			problem(rep, "index", n, ioff, "the index ends before entry %llu", (unsigned long long)n);
			break;
		}
		if (audit_get_le(ib, 8) != off) {
			problem(rep, "index", n, ioff, "entry %llu is at byte %llu, the index says %llu",
				(unsigned long long)n, (unsigned long long)off,
				(unsigned long long)audit_get_le(ib, 8));
			break;
		}
		if (merkle_frontier_append(&fr, leaf, check_node, &v) != AMANA_OK)
			break;
		n++;
		rep->entries = n;
		rep->bytes = rd_offset(&entries);
		while (rep->ok && have_head && h.size == n) {
			merkle_frontier_root(&fr, root);
			if (sodium_memcmp(root, h.root, MERKLE_HASH_BYTES) != 0)
				problem(rep, "heads", k - 1, (k - 1) * AUDIT_HEAD_RECORD,
					"the root of the head of size %llu does not match entries 0 to %llu",
					(unsigned long long)h.size, (unsigned long long)(n - 1));
			else
				have_head = next_head(&heads, &k, &h, &prev, &have_prev, pk, rep, &v.io);
		}
	}
	free(entry);
	if (v.io) {
		err = v.io;
		goto out;
	}
	if (rep->ok && have_head)
		problem(rep, "heads", k - 1, (k - 1) * AUDIT_HEAD_RECORD,
			"the head of size %llu covers more entries than the log holds (%llu): entries are missing",
			(unsigned long long)h.size, (unsigned long long)n);
	if (rep->ok && (!have_prev ? n > 0 : prev.size < n)) {
		uint64_t first = have_prev ? prev.size : 0;
		problem(rep, "entries", first, 0, "entries %llu to %llu are not covered by a signed head",
			(unsigned long long)first, (unsigned long long)(n - 1));
	}
	if (rep->ok && index.size != n * 8)
		problem(rep, "index", index.size / 8, n * 8, "the index holds %llu offsets for %llu entries",
			(unsigned long long)(index.size / 8), (unsigned long long)n);
	if (rep->ok && v.tree.size != merkle_node_count(n) * MERKLE_HASH_BYTES)
		problem(rep, "tree", merkle_node_count(n), merkle_node_count(n) * MERKLE_HASH_BYTES,
			"the tree holds %llu bytes, %llu entries need %llu", (unsigned long long)v.tree.size,
			(unsigned long long)n, (unsigned long long)(merkle_node_count(n) * MERKLE_HASH_BYTES));
	err = AMANA_OK;
out:
	rd_close(&entries);
	rd_close(&index);
	rd_close(&v.tree);
	rd_close(&heads);
	return err;
}
