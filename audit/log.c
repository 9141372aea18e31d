/* log.c - the append-only audit log with group commit (see log.h). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SCAN_BUF (1u << 20)
static const uint8_t head_magic[4] = { 'S', 'T', 'H', '1' };
static const char head_domain[11] = { 'A', 'M', 'A', 'N', 'A', '-', 'S', 'T', 'H', '-', '1' };

struct waiter {
	size_t count;
	size_t index; /* of its first entry in its batch */
	uint64_t first_seq;
	enum amana_err err;
	bool done;
};

/* Records queued by appenders while the previous batch is written. */
struct batch {
	uint8_t *buf;
	size_t len, cap;
	merkle_hash *leaves;
	size_t n, ncap;
	struct waiter **w;
	size_t nw, wcap;
};

struct audit_log {
	char dir[PATH_MAX];
	int fd_entries, fd_index, fd_tree, fd_heads, fd_lock;
	bool readonly;
	uint8_t *sk; /* sodium_malloc'd; NULL when read-only */
	uint8_t pk[AUDIT_PUBLIC_KEY_BYTES];

	pthread_mutex_t m;
	pthread_cond_t cv;
	struct batch fill, flush;
	bool flushing; /* a leader is writing `flush` */
	enum amana_err broken;
	/* Entries queued and entries durable, in queueing order (batches are
	 * written in that order): a ticket t is durable once durable >= t. */
	uint64_t submitted, durable;
	/* Writes what audit_submit queued while its callers go on: a caller
	 * with entries in flight overlaps its work with the sync. */
	pthread_t flusher;
	pthread_cond_t flusher_wake;
	bool flusher_running, flusher_stop, flusher_idle, flusher_gathering;
	/* Told after every batch, by whichever thread led it, without m held;
	 * hook_m keeps a hook from being changed while it runs. */
	pthread_mutex_t hook_m;
	audit_durable_fn hook;
	void *hook_ctx;

	/* Owned by the leader (or by open and close, alone). */
	uint64_t size, entries_end, covered;
	int64_t last_head_ms;
	struct merkle_frontier fr;
	uint8_t *nodes, *offs;
	size_t nodes_len, nodes_cap, offs_len, offs_cap;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum amana_err audit_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return AMANA_ERR_IO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return AMANA_OK;
}

enum amana_err audit_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return AMANA_ERR_IO;
		if (n == 0)
			return AMANA_ERR_CORRUPT;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return AMANA_OK;
}

enum amana_err audit_sync_fd(int fd)
{
	while (fdatasync(fd) != 0)
		if (errno != EINTR)
			return AMANA_ERR_IO;
	return AMANA_OK;
}

static enum amana_err file_size(int fd, uint64_t *size)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return AMANA_ERR_IO;
	*size = (uint64_t)st.st_size;
	return AMANA_OK;
}

static void set_why(char *why, size_t cap, const char *msg)
{
	if (why && cap)
		snprintf(why, cap, "%s", msg);
}

static enum amana_err grow(uint8_t **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return AMANA_OK;
	size_t ncap = *cap ? *cap : 4096;
	while (ncap < need)
		ncap *= 2;
	uint8_t *np = realloc(*p, ncap);
	if (!np)
		return AMANA_ERR_NOMEM;
	*p = np;
	*cap = ncap;
	return AMANA_OK;
}

/* ---- heads ---- */

void audit_head_message(const struct audit_head *h, uint8_t msg[AUDIT_HEAD_MESSAGE_BYTES])
{
	memcpy(msg, head_domain, sizeof(head_domain));
	for (unsigned i = 0; i < 8; i++) {
		msg[11 + i] = (uint8_t)(h->size >> (56 - 8 * i));
		msg[19 + i] = (uint8_t)((uint64_t)h->time_ms >> (56 - 8 * i));
	}
	memcpy(msg + 27, h->root, MERKLE_HASH_BYTES);
}

bool audit_head_verify(const struct audit_head *h, const uint8_t pk[AUDIT_PUBLIC_KEY_BYTES])
{
	uint8_t msg[AUDIT_HEAD_MESSAGE_BYTES];
	audit_head_message(h, msg);
	return crypto_sign_verify_detached(h->signature, msg, sizeof(msg), pk) == 0;
}

void audit_head_encode(const struct audit_head *h, uint8_t rec[AUDIT_HEAD_RECORD])
{
	memcpy(rec, head_magic, 4);
	audit_put_le(rec + 4, 0, 4);
	audit_put_le(rec + 8, h->size, 8);
	audit_put_le(rec + 16, (uint64_t)h->time_ms, 8);
	memcpy(rec + 24, h->root, MERKLE_HASH_BYTES);
	memcpy(rec + 56, h->signature, AUDIT_SIGNATURE_BYTES);
}

bool audit_head_decode(const uint8_t rec[AUDIT_HEAD_RECORD], struct audit_head *h)
{
	if (memcmp(rec, head_magic, 4) != 0 || audit_get_le(rec + 4, 4) != 0)
		return false;
	h->size = audit_get_le(rec + 8, 8);
	h->time_ms = (int64_t)audit_get_le(rec + 16, 8);
	memcpy(h->root, rec + 24, MERKLE_HASH_BYTES);
	memcpy(h->signature, rec + 56, AUDIT_SIGNATURE_BYTES);
	return true;
}

/* The last complete head in the file; *count heads in all. A torn last
 * record (a crash while a head was written) is reported by *torn. */
static enum amana_err read_last_head(int fd, struct audit_head *h, uint64_t *count, bool *torn)
{
	uint64_t size;
	enum amana_err err = file_size(fd, &size);
	if (err)
		return err;
	*count = size / AUDIT_HEAD_RECORD;
	if (torn)
		*torn = size % AUDIT_HEAD_RECORD != 0;
	if (*count == 0)
		return AMANA_ERR_NOTFOUND;
	uint8_t rec[AUDIT_HEAD_RECORD];
	if ((err = audit_pread_all(fd, rec, sizeof(rec), (*count - 1) * AUDIT_HEAD_RECORD)))
		return err;
	return audit_head_decode(rec, h) ? AMANA_OK : AMANA_ERR_CORRUPT;
}

/* ---- nodes ---- */

static enum amana_err tree_node(void *ctx, unsigned level, uint64_t index, merkle_hash out)
{
	struct audit_log *log = ctx;
	uint64_t pos = merkle_node_position(level, index);
	return audit_pread_all(log->fd_tree, out, MERKLE_HASH_BYTES, pos * MERKLE_HASH_BYTES);
}

static enum amana_err collect_node(void *ctx, unsigned level, uint64_t index, const merkle_hash h)
{
	(void)level;
	(void)index;
	struct audit_log *log = ctx;
	enum amana_err err = grow(&log->nodes, &log->nodes_cap, log->nodes_len + MERKLE_HASH_BYTES);
	if (err)
		return err;
	memcpy(log->nodes + log->nodes_len, h, MERKLE_HASH_BYTES);
	log->nodes_len += MERKLE_HASH_BYTES;
	return AMANA_OK;
}

/* Account for one record at offset off with leaf hash leaf: its index
 * entry and the tree nodes it completes go to the pending buffers. */
static enum amana_err add_leaf(struct audit_log *log, uint64_t off, const merkle_hash leaf)
{
	enum amana_err err = grow(&log->offs, &log->offs_cap, log->offs_len + 8);
	if (err)
		return err;
	audit_put_le(log->offs + log->offs_len, off, 8);
	log->offs_len += 8;
	return merkle_frontier_append(&log->fr, leaf, collect_node, log);
}

/* Write the pending index entries and nodes of the leaves added since the
 * tree had `from` leaves. */
static enum amana_err write_derived(struct audit_log *log, uint64_t from)
{
	enum amana_err err = AMANA_OK;
	if (log->offs_len)
		err = audit_pwrite_all(log->fd_index, log->offs, log->offs_len, from * 8);
	if (!err && log->nodes_len)
		err = audit_pwrite_all(log->fd_tree, log->nodes, log->nodes_len,
				       merkle_node_count(from) * MERKLE_HASH_BYTES);
	log->offs_len = 0;
	log->nodes_len = 0;
	return err;
}

/* ---- recovery and catching up ---- */

/* Read the records of entries from log->entries_end to the end of the
 * file, adding each valid one to the tree. The first record that is cut
 * short or fails its check ends the log: the file is truncated there (a
 * write that a crash interrupted; nothing past it was acknowledged, since
 * every batch is synced before the next is written). */
static enum amana_err scan_tail(struct audit_log *log, uint64_t *cut_bytes)
{
	uint64_t end;
	enum amana_err err = file_size(log->fd_entries, &end);
	if (err)
		return err;
	*cut_bytes = 0;
	if (end == log->entries_end)
		return AMANA_OK;
	if (end < log->entries_end)
		return AMANA_ERR_CORRUPT; /* shorter than what was written */
	uint8_t *buf = malloc(AUDIT_ENTRY_MAX + AUDIT_REC_OVERHEAD);
	if (!buf)
		return AMANA_ERR_NOMEM;
	uint64_t from = log->size, off = log->entries_end;
	while (off < end) {
		uint8_t hdr[AUDIT_REC_HEAD];
		if (end - off < AUDIT_REC_OVERHEAD ||
		    (err = audit_pread_all(log->fd_entries, hdr, AUDIT_REC_HEAD, off)))
			break;
		uint64_t len = audit_get_le(hdr, 4);
		if (len == 0 || len > AUDIT_ENTRY_MAX || end - off < AUDIT_REC_OVERHEAD + len)
			break;
		if ((err = audit_pread_all(log->fd_entries, buf, (size_t)len + AUDIT_REC_TAIL, off + AUDIT_REC_HEAD)))
			break;
		merkle_hash leaf;
		merkle_leaf_hash(buf, (size_t)len, leaf);
		if (memcmp(leaf, buf + len, AUDIT_REC_TAIL) != 0)
			break;
		if ((err = add_leaf(log, off, leaf)))
			break;
		log->size++;
		off += AUDIT_REC_OVERHEAD + len;
	}
	free(buf);
	if (err == AMANA_ERR_CORRUPT)
		err = AMANA_OK; /* a record cut short: the tail to drop */
	if (err)
		return err;
	if ((err = write_derived(log, from)))
		return err;
	if (off < end) {
		*cut_bytes = end - off;
		if (ftruncate(log->fd_entries, (off_t)off) != 0 || audit_sync_fd(log->fd_entries))
			return AMANA_ERR_IO;
	}
	log->entries_end = off;
	return AMANA_OK;
}

/* Another process may have appended since this one last wrote. */
static enum amana_err catch_up(struct audit_log *log)
{
	uint64_t end, cut;
	enum amana_err err = file_size(log->fd_entries, &end);
	if (err || end == log->entries_end)
		return err;
	struct audit_head h;
	uint64_t count;
	if ((err = scan_tail(log, &cut)))
		return err;
	err = read_last_head(log->fd_heads, &h, &count, NULL);
	if (err == AMANA_OK) {
		log->covered = h.size;
		log->last_head_ms = h.time_ms;
	} else if (err != AMANA_ERR_NOTFOUND) {
		return err;
	}
	return AMANA_OK;
}

static enum amana_err lock_files(struct audit_log *log)
{
	while (flock(log->fd_lock, LOCK_EX) != 0)
		if (errno != EINTR)
			return AMANA_ERR_IO;
	return AMANA_OK;
}

static void unlock_files(struct audit_log *log)
{
	(void)flock(log->fd_lock, LOCK_UN);
}

/* Sign a head for everything written, under the file lock. index and tree
 * are synced first: recovery trusts them up to the last head. */
static enum amana_err sign_head_locked(struct audit_log *log)
{
	struct audit_head last;
	uint64_t count;
	bool torn;
	enum amana_err err = read_last_head(log->fd_heads, &last, &count, &torn);
	if (err == AMANA_ERR_NOTFOUND) {
		memset(&last, 0, sizeof(last));
		err = AMANA_OK;
	}
	if (err)
		return err;
	if (torn && ftruncate(log->fd_heads, (off_t)(count * AUDIT_HEAD_RECORD)) != 0)
		return AMANA_ERR_IO;
	if (count > 0 && last.size == log->size) {
		log->covered = last.size;
		return AMANA_OK;
	}
	if (count > 0 && last.size > log->size)
		return AMANA_ERR_CORRUPT;
	if ((err = audit_sync_fd(log->fd_index)) || (err = audit_sync_fd(log->fd_tree)))
		return err;
	struct audit_head h;
	h.size = log->size;
	h.time_ms = now_ms();
	if (count > 0 && h.time_ms < last.time_ms)
		h.time_ms = last.time_ms; /* the clock stepped back: heads keep their order */
	merkle_frontier_root(&log->fr, h.root);
	uint8_t msg[AUDIT_HEAD_MESSAGE_BYTES];
	audit_head_message(&h, msg);
	crypto_sign_detached(h.signature, NULL, msg, sizeof(msg), log->sk);
	uint8_t rec[AUDIT_HEAD_RECORD];
	audit_head_encode(&h, rec);
	if ((err = audit_pwrite_all(log->fd_heads, rec, sizeof(rec), count * AUDIT_HEAD_RECORD)) ||
	    (err = audit_sync_fd(log->fd_heads)))
		return err;
	log->covered = h.size;
	log->last_head_ms = h.time_ms;
	return AMANA_OK;
}

/* Bring the files to a consistent state after a crash: trust index and
 * tree up to the last head, check the head against them, rebuild past it
 * from entries, cut a torn tail, and cover what was found with a head. */
static enum amana_err recover(struct audit_log *log, char *why, size_t why_cap)
{
	struct audit_head h;
	uint64_t count;
	bool torn;
	enum amana_err err = read_last_head(log->fd_heads, &h, &count, &torn);
	if (err == AMANA_ERR_NOTFOUND) {
		memset(&h, 0, sizeof(h));
		merkle_empty_root(h.root);
		err = AMANA_OK;
	} else if (err == AMANA_OK && !audit_head_verify(&h, log->pk)) {
		set_why(why, why_cap, "the audit log's last signed head does not verify: run amana audit verify");
		return AMANA_ERR_CORRUPT;
	}
	if (err) {
		set_why(why, why_cap, "the audit log's heads cannot be read: run amana audit verify");
		return err;
	}
	uint64_t n_index, n_tree, n_entries;
	if ((err = file_size(log->fd_index, &n_index)) || (err = file_size(log->fd_tree, &n_tree)) ||
	    (err = file_size(log->fd_entries, &n_entries)))
		return err;
	if (n_index / 8 < h.size || n_tree / MERKLE_HASH_BYTES < merkle_node_count(h.size)) {
		set_why(
		    why, why_cap,
		    "the audit log is shorter than its last signed head (entries removed?): run amana audit verify");
		return AMANA_ERR_CORRUPT;
	}
	log->entries_end = 0;
	if (h.size > 0) {
		uint8_t b[8], hdr[AUDIT_REC_HEAD];
		if ((err = audit_pread_all(log->fd_index, b, 8, (h.size - 1) * 8)))
			return err;
		uint64_t off = audit_get_le(b, 8);
		if ((err = audit_pread_all(log->fd_entries, hdr, AUDIT_REC_HEAD, off))) {
			set_why(
			    why, why_cap,
			    "the audit log's entries are shorter than its last signed head: run amana audit verify");
			return AMANA_ERR_CORRUPT;
		}
		log->entries_end = off + AUDIT_REC_OVERHEAD + audit_get_le(hdr, 4);
		if (log->entries_end > n_entries) {
			set_why(
			    why, why_cap,
			    "the audit log's entries are shorter than its last signed head: run amana audit verify");
			return AMANA_ERR_CORRUPT;
		}
	}
	/* Derived data past the head may be stale: drop it, rebuild below. */
	if (ftruncate(log->fd_index, (off_t)(h.size * 8)) != 0 ||
	    ftruncate(log->fd_tree, (off_t)(merkle_node_count(h.size) * MERKLE_HASH_BYTES)) != 0)
		return AMANA_ERR_IO;
	if ((err = merkle_frontier_load(&log->fr, h.size, tree_node, log)))
		return err;
	merkle_hash root;
	merkle_frontier_root(&log->fr, root);
	if (sodium_memcmp(root, h.root, MERKLE_HASH_BYTES) != 0) {
		set_why(why, why_cap,
			"the audit log's tree does not match its last signed head: run amana audit verify");
		return AMANA_ERR_CORRUPT;
	}
	log->size = h.size;
	log->covered = h.size;
	log->last_head_ms = h.time_ms;
	uint64_t cut;
	if ((err = scan_tail(log, &cut)))
		return err;
	if (torn || log->size > log->covered)
		err = sign_head_locked(log);
	return err;
}

/* ---- open and close ---- */

int audit_open_in(const char *dir, const char *name, int flags, mode_t mode)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, flags | O_CLOEXEC | O_NOFOLLOW, mode);
}

enum amana_err audit_read_public_key(const char *dir, uint8_t pk[AUDIT_PUBLIC_KEY_BYTES])
{
	int fd = audit_open_in(dir, "public.key", O_RDONLY, 0);
	if (fd < 0)
		return errno == ENOENT ? AMANA_ERR_NOTFOUND : AMANA_ERR_IO;
	char text[128];
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return AMANA_ERR_CORRUPT;
	text[n] = 0;
	const char *prefix = "AMANA-AUDIT-ED25519 ";
	size_t plen = strlen(prefix), got;
	if (strncmp(text, prefix, plen) != 0)
		return AMANA_ERR_CORRUPT;
	const char *end;
	if (sodium_base642bin(pk, AUDIT_PUBLIC_KEY_BYTES, text + plen, (size_t)n - plen, "\n", &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != AUDIT_PUBLIC_KEY_BYTES)
		return AMANA_ERR_CORRUPT;
	return AMANA_OK;
}

enum amana_err audit_write_public_key(const char *dir, const uint8_t pk[AUDIT_PUBLIC_KEY_BYTES])
{
	char b64[sodium_base64_ENCODED_LEN(AUDIT_PUBLIC_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(b64, sizeof(b64), pk, AUDIT_PUBLIC_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
	char text[160];
	int len = snprintf(text, sizeof(text), "AMANA-AUDIT-ED25519 %s\n", b64);
	int fd = audit_open_in(dir, "public.key", O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return errno == EEXIST ? AMANA_ERR_EXISTS : AMANA_ERR_IO;
	enum amana_err err = audit_pwrite_all(fd, text, (size_t)len, 0);
	if (!err)
		err = audit_sync_fd(fd);
	close(fd);
	return err;
}

enum amana_err audit_create(const char *dir, const uint8_t pk[AUDIT_PUBLIC_KEY_BYTES])
{
	if (mkdir(dir, 0700) != 0)
		return errno == EEXIST ? AMANA_ERR_EXISTS : AMANA_ERR_IO;
	static const char *const files[] = { "entries", "index", "tree", "heads", "lock" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd = audit_open_in(dir, files[i], O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			return AMANA_ERR_IO;
		close(fd);
	}
	enum amana_err err = audit_write_public_key(dir, pk);
	if (!err) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			if (fsync(dfd) != 0)
				err = AMANA_ERR_IO;
			close(dfd);
		}
	}
	return err;
}

static void batch_free(struct batch *b)
{
	free(b->buf);
	free(b->leaves);
	free(b->w);
	memset(b, 0, sizeof(*b));
}

static void log_free(struct audit_log *log)
{
	int fds[] = { log->fd_entries, log->fd_index, log->fd_tree, log->fd_heads, log->fd_lock };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (log->sk)
		sodium_free(log->sk);
	batch_free(&log->fill);
	batch_free(&log->flush);
	free(log->nodes);
	free(log->offs);
	pthread_cond_destroy(&log->flusher_wake);
	pthread_cond_destroy(&log->cv);
	pthread_mutex_destroy(&log->m);
	pthread_mutex_destroy(&log->hook_m);
	free(log);
}

static enum amana_err log_alloc(const char *dir, bool readonly, struct audit_log **out, char *why, size_t why_cap)
{
	struct audit_log *log = calloc(1, sizeof(*log));
	if (!log)
		return AMANA_ERR_NOMEM;
	log->fd_entries = log->fd_index = log->fd_tree = log->fd_heads = log->fd_lock = -1;
	pthread_mutex_init(&log->m, NULL);
	pthread_mutex_init(&log->hook_m, NULL);
	pthread_cond_init(&log->cv, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&log->flusher_wake, &ca);
	pthread_condattr_destroy(&ca);
	log->readonly = readonly;
	if ((size_t)snprintf(log->dir, sizeof(log->dir), "%s", dir) >= sizeof(log->dir)) {
		log_free(log);
		return AMANA_ERR_USAGE;
	}
	int flags = readonly ? O_RDONLY : O_RDWR;
	log->fd_entries = audit_open_in(dir, "entries", flags, 0);
	log->fd_index = audit_open_in(dir, "index", flags, 0);
	log->fd_tree = audit_open_in(dir, "tree", flags, 0);
	log->fd_heads = audit_open_in(dir, "heads", flags, 0);
	if (!readonly)
		log->fd_lock = audit_open_in(dir, "lock", O_RDWR, 0);
	enum amana_err err = AMANA_OK;
	if (log->fd_entries < 0 || log->fd_index < 0 || log->fd_tree < 0 || log->fd_heads < 0 ||
	    (!readonly && log->fd_lock < 0)) {
		err = errno == ENOENT ? AMANA_ERR_NOTFOUND : AMANA_ERR_IO;
		if (why && why_cap)
			snprintf(why, why_cap, "the audit log in %s is missing or cannot be opened", dir);
	} else if ((err = audit_read_public_key(dir, log->pk))) {
		if (why && why_cap)
			snprintf(why, why_cap, "the audit log's public key in %s cannot be read", dir);
	}
	if (err) {
		log_free(log);
		return err;
	}
	*out = log;
	return AMANA_OK;
}

static void *flusher_main(void *arg);

enum amana_err audit_open(const char *dir, const uint8_t sk[AUDIT_SECRET_KEY_BYTES], struct audit_log **out, char *why,
			  size_t why_cap)
{
	*out = NULL;
	struct audit_log *log;
	enum amana_err err = log_alloc(dir, false, &log, why, why_cap);
	if (err)
		return err;
	uint8_t pk[AUDIT_PUBLIC_KEY_BYTES];
	log->sk = sodium_malloc(AUDIT_SECRET_KEY_BYTES);
	if (!log->sk) {
		log_free(log);
		return AMANA_ERR_NOMEM;
	}
	memcpy(log->sk, sk, AUDIT_SECRET_KEY_BYTES);
	crypto_sign_ed25519_sk_to_pk(pk, log->sk);
	if (sodium_memcmp(pk, log->pk, sizeof(pk)) != 0) {
		set_why(why, why_cap, "the audit log's public key is not the registry's signing key");
		log_free(log);
		return AMANA_ERR_CRYPTO;
	}
	if ((err = lock_files(log))) {
		log_free(log);
		return err;
	}
	err = recover(log, why, why_cap);
	unlock_files(log);
	if (err) {
		if (why && why_cap && !why[0])
			snprintf(why, why_cap, "recovering the audit log: %s", amana_strerror(err));
		log_free(log);
		return err;
	}
	/* Set before the thread starts, cleared only by audit_close after it
	 * ended: read under the mutex by leaders, never written concurrently. */
	log->flusher_running = true;
	if (pthread_create(&log->flusher, NULL, flusher_main, log) != 0) {
		log->flusher_running = false;
		log_free(log);
		return AMANA_ERR_NOMEM;
	}
	*out = log;
	return AMANA_OK;
}

enum amana_err audit_open_readonly(const char *dir, struct audit_log **out, char *why, size_t why_cap)
{
	*out = NULL;
	struct audit_log *log;
	enum amana_err err = log_alloc(dir, true, &log, why, why_cap);
	if (err)
		return err;
	uint64_t n;
	if ((err = file_size(log->fd_index, &n))) {
		log_free(log);
		return err;
	}
	log->size = n / 8;
	*out = log;
	return AMANA_OK;
}

enum amana_err audit_close(struct audit_log *log)
{
	if (!log)
		return AMANA_OK;
	enum amana_err err = AMANA_OK;
	if (log->flusher_running) {
		pthread_mutex_lock(&log->m);
		log->flusher_stop = true;
		pthread_cond_signal(&log->flusher_wake);
		pthread_mutex_unlock(&log->m);
		pthread_join(log->flusher, NULL);
		log->flusher_running = false;
	}
	if (!log->readonly && !log->broken) {
		/* what was submitted and never waited for is written too */
		err = audit_wait(log, log->submitted);
		if (!err)
			err = audit_sign_head(log);
	}
	log_free(log);
	return err;
}

/* ---- appending ---- */

/* Write a batch: under the file lock, catch up with other processes,
 * append the records, sync, then the derived files, and a head if one is
 * due. Only the leader runs this, without the mutex. */
static enum amana_err flush_batch(struct audit_log *log, struct batch *b, uint64_t *first_seq)
{
	enum amana_err err = lock_files(log);
	if (err)
		return err;
	if ((err = catch_up(log)))
		goto out;
	if ((err = audit_pwrite_all(log->fd_entries, b->buf, b->len, log->entries_end)) ||
	    (err = audit_sync_fd(log->fd_entries)))
		goto out;
	uint64_t from = log->size, off = log->entries_end;
	for (size_t i = 0; i < b->n && !err; i++) {
		err = add_leaf(log, off, b->leaves[i]);
		off += AUDIT_REC_OVERHEAD + audit_get_le(b->buf + (off - log->entries_end), 4);
	}
	if (err)
		goto out;
	*first_seq = from;
	log->size += b->n;
	log->entries_end = off;
	if ((err = write_derived(log, from)))
		goto out;
	if (now_ms() - log->last_head_ms >= AUDIT_HEAD_INTERVAL_MS)
		err = sign_head_locked(log);
out:
	unlock_files(log);
	return err;
}

static enum amana_err enqueue(struct batch *b, const uint8_t *entry, size_t len, struct waiter *w, bool first)
{
	if (b->len + len + AUDIT_REC_OVERHEAD > b->cap) {
		size_t ncap = b->cap ? b->cap : 65536;
		while (ncap < b->len + len + AUDIT_REC_OVERHEAD)
			ncap *= 2;
		uint8_t *nb = realloc(b->buf, ncap);
		if (!nb)
			return AMANA_ERR_NOMEM;
		b->buf = nb;
		b->cap = ncap;
	}
	if (b->n == b->ncap) {
		size_t ncap = b->ncap ? b->ncap * 2 : 256;
		merkle_hash *nl = realloc(b->leaves, ncap * sizeof(*nl));
		if (!nl)
			return AMANA_ERR_NOMEM;
		b->leaves = nl;
		b->ncap = ncap;
	}
	if (first && b->nw == b->wcap) {
		size_t ncap = b->wcap ? b->wcap * 2 : 64;
		struct waiter **nw = realloc(b->w, ncap * sizeof(*nw));
		if (!nw)
			return AMANA_ERR_NOMEM;
		b->w = nw;
		b->wcap = ncap;
	}
	merkle_hash leaf;
	merkle_leaf_hash(entry, len, leaf);
	uint8_t *p = b->buf + b->len;
	audit_put_le(p, len, 4);
	memcpy(p + AUDIT_REC_HEAD, entry, len);
	memcpy(p + AUDIT_REC_HEAD + len, leaf, AUDIT_REC_TAIL);
	b->len += len + AUDIT_REC_OVERHEAD;
	memcpy(b->leaves[b->n++], leaf, MERKLE_HASH_BYTES);
	if (first && w)
		b->w[b->nw++] = w;
	return AMANA_OK;
}

static void lead(struct audit_log *log);

/* The end of a turn as the leader (a batch, or a head signed), mutex held:
 * the waiters are woken; the flusher too if entries were submitted
 * meanwhile (they found a flush in flight and woke no one, and their
 * submitters may not wait on the log at all); then the hook is told, with
 * the mutex released, whether the log moved or broke. */
static void flush_done(struct audit_log *log)
{
	log->flushing = false;
	pthread_cond_broadcast(&log->cv);
	if (log->fill.n > 0 && log->flusher_running)
		pthread_cond_signal(&log->flusher_wake);
	uint64_t durable = log->durable;
	enum amana_err broken = log->broken;
	pthread_mutex_unlock(&log->m);
	pthread_mutex_lock(&log->hook_m);
	if (log->hook)
		log->hook(log->hook_ctx, durable, broken);
	pthread_mutex_unlock(&log->hook_m);
	pthread_mutex_lock(&log->m);
}

/* Group commit under load: wait (mutex held, released while waiting) up
 * to AUDIT_GATHER_US for more entries; audit_submit ends the wait early
 * once AUDIT_GATHER_ENOUGH are queued, audit_close at once. */
static void gather(struct audit_log *log)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += AUDIT_GATHER_US * 1000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	log->flusher_gathering = true;
	while (!log->flusher_stop && log->fill.n < AUDIT_GATHER_ENOUGH && !log->flushing &&
	       pthread_cond_timedwait(&log->flusher_wake, &log->m, &until) == 0)
		;
	log->flusher_gathering = false;
}

/* The flusher: leads a batch whenever entries wait and no one else writes. */
static void *flusher_main(void *arg)
{
	struct audit_log *log = arg;
	size_t last = 0; /* entries in the batch this thread wrote last */
	pthread_mutex_lock(&log->m);
	while (!log->flusher_stop && !log->broken) {
		if (log->fill.n > 0 && !log->flushing) {
			if (last > 1 && log->fill.n < AUDIT_GATHER_ENOUGH) {
				gather(log);
				if (log->flushing || log->fill.n == 0) {
					last = 0; /* another thread led meanwhile */
					continue;
				}
			}
			last = log->fill.n;
			lead(log);
			continue;
		}
		log->flusher_idle = true;
		pthread_cond_wait(&log->flusher_wake, &log->m);
		log->flusher_idle = false;
	}
	pthread_mutex_unlock(&log->m);
	return NULL;
}

/* Lead one batch: take what is queued and write it, with the mutex
 * released meanwhile. Called with the mutex held and no flush in flight. */
static void lead(struct audit_log *log)
{
	struct batch tmp = log->flush;
	log->flush = log->fill;
	log->fill = tmp;
	log->fill.len = log->fill.n = log->fill.nw = 0;
	log->flushing = true;
	pthread_mutex_unlock(&log->m);

	uint64_t seq = 0;
	struct batch *b = &log->flush;
	enum amana_err ferr = log->broken ? log->broken : flush_batch(log, b, &seq);
	pthread_mutex_lock(&log->m);
	if (ferr && !log->broken)
		log->broken = ferr;
	if (!ferr)
		log->durable += b->n;
	for (size_t i = 0; i < b->nw; i++) {
		b->w[i]->err = ferr;
		b->w[i]->first_seq = seq + b->w[i]->index;
		b->w[i]->done = true;
	}
	b->len = b->n = b->nw = 0;
	flush_done(log);
}

static enum amana_err check_entries(const struct audit_log *log, const size_t *lens, size_t n)
{
	if (log->readonly || n == 0)
		return AMANA_ERR_USAGE;
	for (size_t i = 0; i < n; i++)
		if (lens[i] == 0 || lens[i] > AUDIT_ENTRY_MAX)
			return AMANA_ERR_USAGE;
	return AMANA_OK;
}

/* Queue n entries (mutex held); on failure none of them stays queued. */
static enum amana_err queue(struct audit_log *log, const uint8_t *const *entries, const size_t *lens, size_t n,
			    struct waiter *w)
{
	size_t len0 = log->fill.len, n0 = log->fill.n, nw0 = log->fill.nw;
	enum amana_err err = log->broken;
	if (w)
		w->index = log->fill.n;
	for (size_t i = 0; i < n && !err; i++)
		err = enqueue(&log->fill, entries[i], lens[i], w, i == 0);
	if (err) {
		log->fill.len = len0;
		log->fill.n = n0;
		log->fill.nw = nw0;
		return err;
	}
	log->submitted += n;
	return AMANA_OK;
}

enum amana_err audit_append_encoded(struct audit_log *log, const uint8_t *const *entries, const size_t *lens, size_t n,
				    uint64_t *first_seq)
{
	enum amana_err err = check_entries(log, lens, n);
	if (err)
		return err;
	struct waiter w = { n, 0, 0, AMANA_OK, false };
	pthread_mutex_lock(&log->m);
	if ((err = queue(log, entries, lens, n, &w))) {
		pthread_mutex_unlock(&log->m);
		return err;
	}
	while (!w.done) {
		if (log->flushing)
			pthread_cond_wait(&log->cv, &log->m);
		else
			lead(log);
	}
	pthread_mutex_unlock(&log->m);
	if (!w.err && first_seq)
		*first_seq = w.first_seq;
	return w.err;
}

enum amana_err audit_submit(struct audit_log *log, const struct audit_entry *e, uint64_t *ticket)
{
	uint8_t buf[AUDIT_ENTRY_MAX];
	size_t len;
	enum amana_err err = audit_entry_encode(e, buf, sizeof(buf), &len);
	if (err || (err = check_entries(log, &len, 1)))
		return err;
	const uint8_t *p = buf;
	pthread_mutex_lock(&log->m);
	err = queue(log, &p, &len, 1, NULL);
	*ticket = log->submitted;
	if (!err && !log->flushing &&
	    (log->flusher_idle || (log->flusher_gathering && log->fill.n >= AUDIT_GATHER_ENOUGH)))
		pthread_cond_signal(&log->flusher_wake);
	pthread_mutex_unlock(&log->m);
	return err;
}

enum amana_err audit_wait(struct audit_log *log, uint64_t ticket)
{
	pthread_mutex_lock(&log->m);
	while (log->durable < ticket && !log->broken) {
		if (log->flushing)
			pthread_cond_wait(&log->cv, &log->m);
		else
			lead(log);
	}
	enum amana_err err = log->durable >= ticket ? AMANA_OK : log->broken;
	pthread_mutex_unlock(&log->m);
	return err;
}

enum amana_err audit_durable(struct audit_log *log, uint64_t *durable)
{
	pthread_mutex_lock(&log->m);
	*durable = log->durable;
	enum amana_err err = log->broken;
	pthread_mutex_unlock(&log->m);
	return err;
}

void audit_on_durable(struct audit_log *log, audit_durable_fn fn, void *ctx)
{
	pthread_mutex_lock(&log->hook_m);
	log->hook = fn;
	log->hook_ctx = ctx;
	pthread_mutex_unlock(&log->hook_m);
}

enum amana_err audit_append(struct audit_log *log, const struct audit_entry *e, uint64_t *seq)
{
	uint8_t buf[AUDIT_ENTRY_MAX];
	size_t len;
	enum amana_err err = audit_entry_encode(e, buf, sizeof(buf), &len);
	if (err)
		return err;
	const uint8_t *p = buf;
	return audit_append_encoded(log, &p, &len, 1, seq);
}

enum amana_err audit_sign_head(struct audit_log *log)
{
	if (log->readonly)
		return AMANA_ERR_USAGE;
	pthread_mutex_lock(&log->m);
	while (log->flushing)
		pthread_cond_wait(&log->cv, &log->m);
	enum amana_err err = log->broken;
	if (!err) {
		log->flushing = true; /* the leader's state is ours meanwhile */
		pthread_mutex_unlock(&log->m);
		err = lock_files(log);
		if (!err) {
			err = catch_up(log);
			if (!err)
				err = sign_head_locked(log);
			unlock_files(log);
		}
		pthread_mutex_lock(&log->m);
		if (err)
			log->broken = err;
		flush_done(log);
	}
	pthread_mutex_unlock(&log->m);
	return err;
}

/* ---- reading ---- */

enum amana_err audit_latest_head(struct audit_log *log, struct audit_head *out)
{
	uint64_t count;
	return read_last_head(log->fd_heads, out, &count, NULL);
}

enum amana_err audit_head_of_size(struct audit_log *log, uint64_t size, struct audit_head *out)
{
	uint64_t fsize;
	enum amana_err err = file_size(log->fd_heads, &fsize);
	if (err)
		return err;
	/* Heads grow with the log: binary search by size. */
	uint64_t lo = 0, hi = fsize / AUDIT_HEAD_RECORD;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		uint8_t rec[AUDIT_HEAD_RECORD];
		struct audit_head h;
		if ((err = audit_pread_all(log->fd_heads, rec, sizeof(rec), mid * AUDIT_HEAD_RECORD)))
			return err;
		if (!audit_head_decode(rec, &h))
			return AMANA_ERR_CORRUPT;
		if (h.size == size) {
			*out = h;
			return AMANA_OK;
		}
		if (h.size < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	return AMANA_ERR_NOTFOUND;
}

void audit_public_key(const struct audit_log *log, uint8_t pk[AUDIT_PUBLIC_KEY_BYTES])
{
	memcpy(pk, log->pk, AUDIT_PUBLIC_KEY_BYTES);
}

uint64_t audit_size(const struct audit_log *log)
{
	return log->size;
}

/* Proofs read only nodes the last head covers, which are synced and never
 * rewritten: they need no lock. */
static enum amana_err check_size(struct audit_log *log, uint64_t size)
{
	struct audit_head h;
	enum amana_err err = audit_latest_head(log, &h);
	if (err == AMANA_ERR_NOTFOUND)
		return size == 0 ? AMANA_OK : AMANA_ERR_NOTFOUND;
	if (err)
		return err;
	return size <= h.size ? AMANA_OK : AMANA_ERR_NOTFOUND;
}

enum amana_err audit_root(struct audit_log *log, uint64_t size, merkle_hash out)
{
	enum amana_err err = check_size(log, size);
	return err ? err : merkle_root(size, tree_node, log, out);
}

enum amana_err audit_inclusion(struct audit_log *log, uint64_t seq, uint64_t size, merkle_hash leaf,
			       merkle_hash path[MERKLE_PROOF_MAX], size_t *n)
{
	*n = 0;
	enum amana_err err = check_size(log, size);
	if (err)
		return err;
	if (seq >= size)
		return AMANA_ERR_NOTFOUND;
	if ((err = tree_node(log, 0, seq, leaf)))
		return err;
	return merkle_inclusion_proof(seq, size, tree_node, log, path, n);
}

enum amana_err audit_consistency(struct audit_log *log, uint64_t old_size, uint64_t new_size,
				 merkle_hash path[MERKLE_PROOF_MAX], size_t *n)
{
	*n = 0;
	enum amana_err err = check_size(log, new_size);
	if (err)
		return err;
	if (old_size > new_size)
		return AMANA_ERR_USAGE;
	if (old_size == 0)
		return AMANA_OK; /* every tree extends the empty one */
	return merkle_consistency_proof(old_size, new_size, tree_node, log, path, n);
}

enum amana_err audit_read_entry(struct audit_log *log, uint64_t seq, uint8_t *buf, size_t cap, size_t *len)
{
	uint8_t b[8], hdr[AUDIT_REC_HEAD];
	enum amana_err err = audit_pread_all(log->fd_index, b, 8, seq * 8);
	if (err)
		return err == AMANA_ERR_CORRUPT ? AMANA_ERR_NOTFOUND : err;
	uint64_t off = audit_get_le(b, 8);
	if ((err = audit_pread_all(log->fd_entries, hdr, AUDIT_REC_HEAD, off)))
		return err;
	uint64_t l = audit_get_le(hdr, 4);
	if (l == 0 || l > AUDIT_ENTRY_MAX)
		return AMANA_ERR_CORRUPT;
	if (l > cap)
		return AMANA_ERR_LIMIT;
	if ((err = audit_pread_all(log->fd_entries, buf, (size_t)l, off + AUDIT_REC_HEAD)))
		return err;
	*len = (size_t)l;
	return AMANA_OK;
}

enum amana_err audit_each(struct audit_log *log, uint64_t from, audit_entry_fn fn, void *ctx)
{
	uint64_t count;
	enum amana_err err = file_size(log->fd_index, &count);
	if (err)
		return err;
	count /= 8;
	if (from >= count)
		return AMANA_OK;
	uint8_t b[8];
	if ((err = audit_pread_all(log->fd_index, b, 8, from * 8)))
		return err;
	uint64_t off = audit_get_le(b, 8);
	uint8_t *buf = malloc(SCAN_BUF);
	if (!buf)
		return AMANA_ERR_NOMEM;
	size_t have = 0, pos = 0;
	uint64_t buf_off = off;
	for (uint64_t seq = from; seq < count && !err; seq++) {
		if (have - pos < AUDIT_REC_HEAD || have - pos < AUDIT_REC_OVERHEAD + audit_get_le(buf + pos, 4)) {
			/* Refill from the current record on. */
			buf_off += pos;
			memmove(buf, buf + pos, have - pos);
			have -= pos;
			pos = 0;
			ssize_t n = pread(log->fd_entries, buf + have, SCAN_BUF - have, (off_t)(buf_off + have));
			if (n < 0) {
				err = AMANA_ERR_IO;
				break;
			}
			have += (size_t)n;
			if (have < AUDIT_REC_OVERHEAD || have < AUDIT_REC_OVERHEAD + audit_get_le(buf, 4)) {
				err = AMANA_ERR_CORRUPT;
				break;
			}
		}
		uint64_t len = audit_get_le(buf + pos, 4);
		if (len == 0 || len > AUDIT_ENTRY_MAX) {
			err = AMANA_ERR_CORRUPT;
			break;
		}
		err = fn(ctx, seq, buf + pos + AUDIT_REC_HEAD, (size_t)len);
		pos += AUDIT_REC_OVERHEAD + (size_t)len;
	}
	free(buf);
	return err;
}
