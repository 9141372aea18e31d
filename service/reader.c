/* reader.c - the import's reading thread (see reader.h). */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RING 16
/* The reading thread, once it waited for a free block, is woken only when
 * this many are free: one wake-up per several files, not one per file. */
#define RING_WAKE (RING / 2)
#define READ_CHUNK (1u << 20)

struct file_reader {
	const char *const *paths;
	size_t count;
	const struct rules *rules;
	read_block_hook hook;
	void *hook_ctx;

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t has_free; /* the reading thread waits on it */
	pthread_cond_t has_data; /* the import thread waits on it */
	struct read_block *slots[RING]; /* the blocks, allocated once */
	bool free_slot[RING];
	size_t nfree;
	struct read_block *ring[RING]; /* published blocks, oldest at tail */
	size_t head, tail, used;
	bool stop, done;
	bool reader_waits, importer_waits;

	/* The reading thread's own state. */
	struct read_block *cur;
	struct ebds_check chk;
	struct ebds_errors errs;
	char *buf;
	size_t max_read;
};

static struct read_block *take_free(struct file_reader *fr)
{
	pthread_mutex_lock(&fr->lock);
	for (;;) {
		if (fr->stop) {
			pthread_mutex_unlock(&fr->lock);
			return NULL;
		}
		for (size_t i = 0; i < RING && fr->nfree > 0; i++) {
			if (fr->free_slot[i]) {
				fr->free_slot[i] = false;
				fr->nfree--;
				pthread_mutex_unlock(&fr->lock);
				return fr->slots[i];
			}
		}
		fr->reader_waits = true;
		pthread_cond_wait(&fr->has_free, &fr->lock);
	}
}

static void publish(struct file_reader *fr, struct read_block *b)
{
	if (fr->hook)
		fr->hook(fr->hook_ctx, b);
	pthread_mutex_lock(&fr->lock);
	fr->ring[fr->head] = b;
	fr->head = (fr->head + 1) % RING;
	fr->used++;
	if (fr->importer_waits) {
		fr->importer_waits = false;
		pthread_cond_signal(&fr->has_data);
	}
	pthread_mutex_unlock(&fr->lock);
}

static int on_line(void *ctx, const char *line, size_t len, unsigned lineno, bool too_long)
{
	struct file_reader *fr = ctx;
	if (fr->cur->n == READ_BLOCK_ITEMS) {
		size_t index = fr->cur->file_index;
		publish(fr, fr->cur);
		fr->cur = take_free(fr);
		if (!fr->cur)
			return -1;
		fr->cur->file_index = index;
		fr->cur->n = 0;
		fr->cur->ends_file = false;
	}
	struct read_item *it = &fr->cur->items[fr->cur->n++];
	it->too_long = too_long;
	it->person_hint = 0;
	it->hint_registration = 0;
	it->cin_absent_in_tx = 0;
	if (too_long) {
		memset(&it->rec, 0, sizeof(it->rec));
		it->usable = false;
		fr->chk.lines++;
		ebds_errors_add(&fr->errs, lineno, 0, "record", "exactly 260 characters", "more than %d characters",
				EBDS_LINE_MAX);
	} else {
		it->usable = ebds_check_line(&fr->chk, line, len, lineno, &it->rec, &fr->errs);
	}
	it->codec_errors = ebds_errors_total(&fr->errs);
	return 0;
}

static void read_file(struct file_reader *fr, size_t index)
{
	struct read_block *b = fr->cur;
	ebds_check_init(&fr->chk, fr->rules);
	ebds_errors_clear(&fr->errs);
	struct crypto_digest h;
	crypto_digest_init(&h);
	struct ebds_linebuf lb;
	ebds_linebuf_init(&lb);
	uint64_t bytes = 0;
	int error = 0;
	int fd = open(fr->paths[index], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error = errno;
	} else {
		for (;;) {
			ssize_t n = read(fd, fr->buf, READ_CHUNK);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				error = errno;
				break;
			}
			if (n == 0) {
				(void)ebds_linebuf_finish(&lb, on_line, fr);
				break;
			}
			bytes += (uint64_t)n;
			if ((size_t)n > fr->max_read)
				fr->max_read = (size_t)n;
			crypto_digest_update(&h, fr->buf, (size_t)n);
			if (ebds_linebuf_feed(&lb, fr->buf, (size_t)n, on_line, fr))
				break; /* stopped */
		}
		close(fd);
		crypto_wipe(fr->buf, fr->max_read);
		fr->max_read = 0;
	}
	crypto_wipe(&lb, sizeof(lb));
	if (!fr->cur)
		return; /* stopped while waiting for a block */
	b = fr->cur;
	if (!error)
		ebds_check_end(&fr->chk, &fr->errs);
	b->ends_file = true;
	b->end.open_errno = error;
	b->end.bytes = bytes;
	crypto_digest_final(&h, b->end.digest);
	b->end.errors.count = fr->errs.count;
	b->end.errors.dropped = fr->errs.dropped;
	memcpy(b->end.errors.list, fr->errs.list, fr->errs.count * sizeof(fr->errs.list[0]));
	crypto_wipe(fr->errs.list, fr->errs.count * sizeof(fr->errs.list[0]));
	publish(fr, b);
}

static void *reader_main(void *arg)
{
	struct file_reader *fr = arg;
	pthread_setname_np(pthread_self(), "amana-read"); /* for top -H and perf */
	for (size_t i = 0; i < fr->count; i++) {
		fr->cur = take_free(fr);
		if (!fr->cur)
			break;
		fr->cur->file_index = i;
		fr->cur->n = 0;
		fr->cur->ends_file = false;
		read_file(fr, i);
		if (!fr->cur)
			break;
	}
	pthread_mutex_lock(&fr->lock);
	fr->done = true;
	pthread_cond_signal(&fr->has_data);
	pthread_mutex_unlock(&fr->lock);
	return NULL;
}

enum amana_err file_reader_start(struct file_reader **out, const char *const *paths, size_t count,
				 const struct rules *rules, read_block_hook hook, void *hook_ctx)
{
	*out = NULL;
	struct file_reader *fr = calloc(1, sizeof(*fr));
	if (!fr)
		return AMANA_ERR_NOMEM;
	fr->paths = paths;
	fr->count = count;
	fr->rules = rules;
	fr->hook = hook;
	fr->hook_ctx = hook_ctx;
	fr->buf = malloc(READ_CHUNK);
	bool ok = fr->buf != NULL;
	for (size_t i = 0; i < RING && ok; i++) {
		fr->slots[i] = malloc(sizeof(struct read_block));
		ok = fr->slots[i] != NULL;
		fr->free_slot[i] = true;
	}
	fr->nfree = RING;
	if (!ok || pthread_mutex_init(&fr->lock, NULL) != 0) {
		for (size_t i = 0; i < RING; i++)
			free(fr->slots[i]);
		free(fr->buf);
		free(fr);
		return AMANA_ERR_NOMEM;
	}
	pthread_cond_init(&fr->has_free, NULL);
	pthread_cond_init(&fr->has_data, NULL);
	if (pthread_create(&fr->thread, NULL, reader_main, fr) != 0) {
		pthread_cond_destroy(&fr->has_free);
		pthread_cond_destroy(&fr->has_data);
		pthread_mutex_destroy(&fr->lock);
		for (size_t i = 0; i < RING; i++)
			free(fr->slots[i]);
		free(fr->buf);
		free(fr);
		return AMANA_ERR_NOMEM;
	}
	*out = fr;
	return AMANA_OK;
}

struct read_block *file_reader_next(struct file_reader *fr)
{
	pthread_mutex_lock(&fr->lock);
	while (fr->used == 0 && !fr->done) {
		fr->importer_waits = true;
		pthread_cond_wait(&fr->has_data, &fr->lock);
	}
	struct read_block *b = NULL;
	if (fr->used > 0) {
		b = fr->ring[fr->tail];
		fr->tail = (fr->tail + 1) % RING;
		fr->used--;
	}
	pthread_mutex_unlock(&fr->lock);
	return b;
}

void file_reader_release(struct file_reader *fr, struct read_block *b)
{
	/* Records hold names and amounts: wiped before the block is reused. */
	crypto_wipe(b->items, b->n * sizeof(b->items[0]));
	if (b->ends_file)
		crypto_wipe(b->end.errors.list, b->end.errors.count * sizeof(b->end.errors.list[0]));
	pthread_mutex_lock(&fr->lock);
	for (size_t i = 0; i < RING; i++) {
		if (fr->slots[i] == b && !fr->free_slot[i]) {
			fr->free_slot[i] = true;
			fr->nfree++;
		}
	}
	if (fr->reader_waits && fr->nfree >= RING_WAKE) {
		fr->reader_waits = false;
		pthread_cond_signal(&fr->has_free);
	}
	pthread_mutex_unlock(&fr->lock);
}

void file_reader_stop(struct file_reader *fr)
{
	if (!fr)
		return;
	pthread_mutex_lock(&fr->lock);
	fr->stop = true;
	pthread_cond_broadcast(&fr->has_free);
	pthread_mutex_unlock(&fr->lock);
	pthread_join(fr->thread, NULL);
	for (size_t i = 0; i < RING; i++) {
		crypto_wipe(fr->slots[i], sizeof(*fr->slots[i]));
		free(fr->slots[i]);
	}
	crypto_wipe(&fr->errs, sizeof(fr->errs));
	crypto_wipe(&fr->chk, sizeof(fr->chk));
	free(fr->buf);
	pthread_cond_destroy(&fr->has_free);
	pthread_cond_destroy(&fr->has_data);
	pthread_mutex_destroy(&fr->lock);
	free(fr);
}
