/*
 * import.c - ingesting declaration files, each all or nothing.
 *
 * One pass per file: the codec checks each line (ebds_check_line), this
 * module checks it against the registry (known employer, period not yet
 * declared, B02 lines answering the pre-filled list in order, B04 persons
 * known or registered from their CIN) and, while no error has been seen,
 * writes it. The first error stops the writing but not the checking, so the
 * employer gets every error at once.
 *
 * Most files write nothing before their end: their lines fit one chunk and
 * their employment changes wait in a short list. Those need no savepoint:
 * once the whole file is checked, its writes cannot be refused any more.
 * A file that must write earlier (a full chunk, a person registered from a
 * CIN, a long list of employment changes) opens a savepoint first, and a
 * rejected file rolls back to it. If the registry itself fails while a file
 * is being written outside a savepoint, the whole batch is rolled back and
 * reported as not imported. Accepted files are committed in batches and
 * reported only once their batch is durable, so after a crash a file is
 * either whole or absent.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/ids.h"
#include "lines.h"
#include "reader.h"
#include "roster.h"

#define DEFAULT_BATCH_LINES 200000

/* An employment opened (a hire) or closed (a leaver) by the current file,
 * written once the file is known to be accepted. */
struct job_op {
	int64_t person_id;
	bool open;
};
#define JOB_OPS_MAX 512

struct window;
struct prefetch;

struct file_state {
	struct registry *r;
	struct window *win; /* the earlier declarations of the next files, read ahead */
	struct prefetch *pf; /* reads the window after it, on a connection of its own */
	uint64_t tx_no; /* the current transaction, counted from 1 */
	uint32_t tx_writes; /* declarations written in it */
	bool tx_untracked; /* one of them could not be noted: read ahead no more in it */
	struct idmap tx_written; /* employer -> its latest one's number in tx_writes */
	struct idmap tx_cins; /* blind indexes of the CINs it registered */
	bool tx_cins_untracked; /* one could not be noted: look every CIN up in it */
	struct import_file_result res;
	struct ebds_errors *errs; /* the registry's errors of the current file */
	struct ebds_errors *merged; /* with the codec's, in line order */
	unsigned codec_errors; /* the codec's errors so far in the current file */
	struct roster ro;
	struct chunk_writer lines;
	struct idmap seen; /* person ids already declared in this file */
	struct idmap employers; /* affiliation -> employer id, once cached */
	atomic_bool employers_cached; /* set once employers is complete: read-only from then on */
	unsigned name_seq;
	int64_t employer_id;
	int64_t declaration_id;
	bool employer_ok;
	enum amana_err fatal; /* a registry failure: stop everything */
	size_t next_expected;
	struct totals_rec totals;
	int64_t now;
	int64_t lines_since_progress;
	/* progress plumbing */
	const struct import_options *opt;
	size_t file_index, file_count;
	int64_t *lines_total;
	uint64_t bytes_before, bytes_total, bytes_done;
	/* Declaration ids reserved in blocks outside any file's savepoint, so a
	 * rejected file cannot roll the reservation back under us. */
	int64_t decl_next, decl_end;
	bool in_savepoint; /* the current file's writes can be rolled back alone */
	bool tx_dirty; /* a failed file wrote outside a savepoint: the batch is lost */
	size_t njobs;
	struct job_op jobs[JOB_OPS_MAX];
	struct audit_entry *note; /* the call's audit entry: what it wrote */
	size_t read_ahead_used;
	size_t rosters_used; /* earlier declarations read from their roster */
	const struct read_item *item; /* the current line, with what was looked up ahead */
	size_t hints_used;
};

#define DECLARATION_ID_BLOCK 1024

static bool writing(const struct file_state *fs)
{
	return fs->employer_ok && ebds_errors_total(fs->errs) == 0 && fs->codec_errors == 0 && !fs->fatal;
}

static void fail(struct file_state *fs, enum amana_err err, const char *what)
{
	if (!fs->fatal) {
		fs->fatal = err;
		snprintf(fs->res.detail, sizeof(fs->res.detail), "%s: %s", what, amana_strerror(err));
	}
}

/* Before the first write a later line could still have to undo. */
static bool protect(struct file_state *fs)
{
	if (fs->in_savepoint)
		return true;
	enum amana_err err = store_savepoint(fs->r->store);
	if (err) {
		fail(fs, err, "starting the file's savepoint");
		return false;
	}
	fs->in_savepoint = true;
	return true;
}

static void write_jobs(struct file_state *fs)
{
	struct store *st = fs->r->store;
	for (size_t i = 0; i < fs->njobs && !fs->fatal; i++) {
		const struct job_op *j = &fs->jobs[i];
		enum amana_err err = j->open
					 ? store_employment_open(st, j->person_id, fs->employer_id, fs->res.period)
					 : store_employment_close(st, j->person_id, fs->employer_id, fs->res.period);
		if (err)
			fail(fs, err, j->open ? "opening an employment" : "closing an employment");
	}
	fs->njobs = 0;
}

static void add_job(struct file_state *fs, int64_t person_id, bool open)
{
	if (fs->njobs == JOB_OPS_MAX) {
		if (!protect(fs))
			return;
		write_jobs(fs);
		if (fs->fatal)
			return;
	}
	fs->jobs[fs->njobs].person_id = person_id;
	fs->jobs[fs->njobs].open = open;
	fs->njobs++;
}

/* What the employer already declared: for this period (main and
 * complementary numbers) and for the latest period before it (the
 * declarations the pre-filled list comes from). */
struct recent {
	uint32_t period;
	bool main;
	unsigned max;
	bool used[10];
	uint32_t prev_period;
	int64_t prev_ids[10];
	unsigned prev_n;
};

static enum amana_err note_recent(void *ctx, const struct store_declaration *d)
{
	struct recent *m = ctx;
	if (d->period == m->period) {
		if (d->seq == 0)
			m->main = true;
		if (d->seq > m->max)
			m->max = d->seq;
		if (d->seq < 10)
			m->used[d->seq] = true;
	} else if (m->prev_n < sizeof(m->prev_ids) / sizeof(m->prev_ids[0])) {
		m->prev_period = d->period;
		m->prev_ids[m->prev_n++] = d->id; /* seq descending: reversed after */
	}
	return AMANA_OK;
}

/* The previous period's declarations as the pre-filled list reads them:
 * the main one first, then the complementary ones by number. */
static void order_previous(struct recent *m)
{
	for (unsigned i = 0, j = m->prev_n; i + 1 < j; i++, j--) {
		int64_t t = m->prev_ids[i];
		m->prev_ids[i] = m->prev_ids[j - 1];
		m->prev_ids[j - 1] = t;
	}
}

/* Employers by affiliation, looked up once for an import of many files.
 * The cache is only read once built (employers_cached, set after it is
 * complete), so the window's thread reads it too; until then, and for what
 * it lacks, each lookup goes through the caller's connection s. */
static enum amana_err lookup_employer_on(const struct file_state *fs, struct store *s, uint32_t aff, int64_t *id)
{
	uint32_t v;
	if (atomic_load_explicit(&fs->employers_cached, memory_order_acquire) && idmap_get(&fs->employers, aff, &v)) {
		*id = v;
		return AMANA_OK;
	}
	return find_employer_on(fs->r, s, aff, id); /* e.g. registered since the cache was built */
}

static enum amana_err lookup_employer(struct file_state *fs, uint32_t aff, int64_t *id)
{
	return lookup_employer_on(fs, fs->r->store, aff, id);
}

/*
 * Reading ahead by file name. A file's name says its employer and period
 * (DS_<affiliation>_<period>.txt), so before the import thread reaches a
 * run of files it reads, for all of them at once, what each file will be
 * checked against: the employer's declarations of that period and of the
 * latest earlier one, with the rosters of the earlier ones (one
 * store_declarations_recent_many per run), from which each pre-filled list
 * is rebuilt; and, for earlier declarations without a roster (imported
 * before rosters were kept, or of more than ROSTER_LINES_MAX lines), their
 * lines (store_chunks_of_many). On a database server that is one round
 * trip for the run instead of two per file (one more when an employer
 * of the run has nothing in the month before, and one more with
 * declarations without rosters); in-process SQLite does the same work
 * either way.
 *
 * On a database server the window is read by a thread of its own, on a
 * connection of its own, while the import thread checks and writes the
 * files of the window before it: the import's session only writes. Such a
 * read sees what was committed when it ran, not what the import wrote in
 * its open transaction. It is asked only once the transaction holds the
 * writer lock, and used only in that same transaction, so no other process
 * can have written in between; and a file whose employer got a declaration
 * in the transaction reads for itself. Without a second connection (SQLite)
 * the import thread reads each window itself, on its own connection.
 *
 * What was read ahead is used for a file only if it still holds: the file's
 * own records name the same employer and period as its name; the current
 * transaction wrote no declaration for that employer; and the window was
 * read in the current transaction (between two transactions another
 * process may write). Otherwise the file is checked as before, by its own
 * queries. A failure of the store while the import thread reads ahead
 * stops the import (on a server it ends the transaction), as the file's own
 * query would have, and so does a roster that does not open as its
 * declaration's (moved or altered: AMANA_ERR_CRYPTO or AMANA_ERR_CORRUPT);
 * anything else only sends the files back to their own queries. A failure
 * on the window's own connection, a roster included, sends every later run
 * to the import thread, which reads it again and stops there if it fails
 * the same way.
 */
#define WINDOW_FILES 256
#define WINDOW_LINES 65536 /* earlier lines held at most */
#define WINDOW_DECLS (WINDOW_FILES * 10)

struct window_file {
	bool ready;
	uint32_t affiliation, period;
	int64_t employer_id;
	struct recent ms;
	int64_t prev_lines;
	int64_t fetch_lines; /* of those, in declarations without a roster read */
};

struct window_line {
	int64_t person_id;
	uint32_t registration;
	bool leaves;
};

struct window_decl {
	size_t first, n; /* its lines in window.lines */
	bool from_roster; /* read from its roster, not its chunks */
};

struct window {
	uint64_t tx; /* the transaction it was read in (0: none yet) */
	uint32_t as_of; /* the read saw that transaction's first as_of declarations */
	uint32_t period; /* of its files */
	size_t start, end; /* files [start, end) of the import */
	struct window_file f[WINDOW_FILES];
	struct idmap by_employer; /* employer id -> index in f */
	struct idmap decl_index; /* declaration id -> index in decls */
	struct window_decl decls[WINDOW_DECLS];
	size_t ndecls;
	int64_t current_decl;
	struct window_line lines[WINDOW_LINES];
	size_t nlines;
	bool overflow;
};

static struct window *window_new(void)
{
	struct window *w = calloc(1, sizeof(*w));
	if (w) {
		idmap_init(&w->by_employer);
		idmap_init(&w->decl_index);
	}
	return w;
}

static void window_free(struct window *w)
{
	if (!w)
		return;
	idmap_free(&w->by_employer);
	idmap_free(&w->decl_index);
	crypto_wipe(w, sizeof(*w));
	free(w);
}

/* A declaration's lines begin in the window. */
static enum amana_err window_decl_begin(struct window *w, int64_t declaration_id, bool from_roster)
{
	if (w->ndecls == WINDOW_DECLS || idmap_get(&w->decl_index, declaration_id, NULL)) {
		w->overflow = true; /* more declarations than asked, or one in two pieces */
		return AMANA_ERR_CORRUPT;
	}
	enum amana_err err = idmap_put(&w->decl_index, declaration_id, (uint32_t)w->ndecls);
	if (err) {
		w->overflow = true;
		return err;
	}
	w->decls[w->ndecls].first = w->nlines;
	w->decls[w->ndecls].n = 0;
	w->decls[w->ndecls].from_roster = from_roster;
	w->ndecls++;
	w->current_decl = declaration_id;
	return AMANA_OK;
}

/* A line of the declaration begun last. */
static enum amana_err window_add(void *ctx, int64_t person_id, uint32_t registration, bool leaves)
{
	struct window *w = ctx;
	if (w->nlines == WINDOW_LINES) {
		w->overflow = true; /* more lines than the declarations said */
		return AMANA_ERR_CORRUPT;
	}
	struct window_line *wl = &w->lines[w->nlines++];
	wl->person_id = person_id;
	wl->registration = registration;
	wl->leaves = leaves;
	w->decls[w->ndecls - 1].n++;
	return AMANA_OK;
}

struct window_read {
	struct window *w;
	struct registry *r; /* its keys open the rosters */
};

/* A recent declaration of a file's employer. An earlier period's, the
 * pre-filled list is made of: its roster, if it has one and it fits, is
 * opened into the window's lines now; else its chunks are read after. */
static enum amana_err window_recent_row(void *ctx, const struct store_declaration *d)
{
	struct window_read *rd = ctx;
	struct window *w = rd->w;
	uint32_t k;
	if (!idmap_get(&w->by_employer, d->employer_id, &k)) {
		w->overflow = true;
		return AMANA_ERR_CORRUPT; /* a row for an employer not asked for */
	}
	struct window_file *wf = &w->f[k];
	unsigned listed = wf->ms.prev_n;
	enum amana_err err = note_recent(&wf->ms, d);
	if (err || d->period == wf->ms.period)
		return err;
	wf->prev_lines += d->line_count;
	if (wf->ms.prev_n == listed) /* past the ten a period may hold: not read */
		return AMANA_OK;
	if (!d->roster_sealed.len || d->line_count > WINDOW_LINES - (int64_t)w->nlines) {
		wf->fetch_lines += d->line_count;
		return AMANA_OK;
	}
	if ((err = window_decl_begin(w, d->id, true)))
		return err;
	return lines_roster_each(rd->r, d, window_add, w);
}

static enum amana_err window_line(void *ctx, int64_t declaration_id, const struct line_rec *l)
{
	struct window *w = ctx;
	enum amana_err err;
	if ((w->ndecls == 0 || declaration_id != w->current_decl) &&
	    (err = window_decl_begin(w, declaration_id, false)))
		return err;
	return window_add(w, l->person_id, l->registration, l->leaves);
}

/* The earlier lines hold person ids and registration numbers. */
static void window_wipe_lines(struct window *w)
{
	if (w->nlines)
		crypto_wipe(w->lines, w->nlines * sizeof(w->lines[0]));
	w->nlines = 0;
}

static void window_unready(struct window *w)
{
	for (size_t j = w->start; j < w->end; j++)
		w->f[j - w->start].ready = false;
	window_wipe_lines(w);
}

/* Read ahead, through s, for the files of paths[from..): those of one
 * period (the next period's files wait for a window read after this one's
 * are written), at most WINDOW_FILES, and as many as fit in WINDOW_LINES
 * earlier lines; the window covers at least paths[from]. Returns an error
 * only for a failure of the store itself or a roster that does not open;
 * anything else leaves the files unready, to their own reads. Touches
 * nothing of fs but what stays unchanged while the files are imported:
 * safe on the window's thread. */
static enum amana_err window_fill(const struct file_state *fs, struct window *w, struct store *s,
				  const char *const *paths, size_t count, size_t from, uint64_t tx, uint32_t as_of)
{
	window_wipe_lines(w);
	w->tx = tx;
	w->as_of = as_of;
	w->start = from;
	w->end = from + WINDOW_FILES < count ? from + WINDOW_FILES : count;
	w->ndecls = 0;
	w->current_decl = 0;
	w->overflow = false;
	w->period = 0;
	idmap_reset(&w->decl_index);
	idmap_reset(&w->by_employer);
	int64_t employers[WINDOW_FILES];
	size_t n = 0;
	uint32_t period = 0;
	for (size_t j = w->start; j < w->end; j++) {
		struct window_file *wf = &w->f[j - w->start];
		unsigned seq;
		memset(wf, 0, sizeof(*wf));
		enum ebds_family fam = ebds_parse_filename(paths[j], &wf->affiliation, &wf->period, &seq);
		wf->ms.period = wf->period;
		if ((fam != EBDS_FAMILY_DECLARATION && fam != EBDS_FAMILY_COMPLEMENTARY) || !wf->period)
			continue;
		if (period && wf->period != period) {
			w->end = j;
			break;
		}
		period = wf->period;
		w->period = period;
		if (lookup_employer_on(fs, s, wf->affiliation, &wf->employer_id) != AMANA_OK)
			continue; /* unknown (or unreadable): the file's own checks say */
		if (idmap_get(&w->by_employer, wf->employer_id, NULL))
			continue; /* the employer again (a complementary file): its own reads */
		enum amana_err err = idmap_put(&w->by_employer, wf->employer_id, (uint32_t)(j - w->start));
		if (err)
			return err;
		wf->ready = true;
		employers[n++] = wf->employer_id;
	}
	/* From here on the window covers [start, end) for this transaction,
	 * whatever is ready in it: files not ready read for themselves, and the
	 * window is read again only past its end. */
	if (n == 0)
		return AMANA_OK;
	struct window_read rd = { w, fs->r };
	enum amana_err err = store_declarations_recent_many(s, employers, n, period, window_recent_row, &rd);
	if (err) {
		window_unready(w);
		return w->overflow ? AMANA_OK : err;
	}
	/* The earlier lines not read from rosters, of as many files as fit,
	 * in one read. */
	struct store_decl_key ids[STORE_MANY_MAX];
	size_t nids = 0;
	int64_t lines = (int64_t)w->nlines;
	for (size_t j = w->start; j < w->end; j++) {
		struct window_file *wf = &w->f[j - w->start];
		if (!wf->ready)
			continue;
		order_previous(&wf->ms);
		if (wf->prev_lines > WINDOW_LINES) {
			wf->ready = false; /* a very large employer: its own reads */
			continue;
		}
		unsigned fetch = 0;
		for (unsigned k = 0; k < wf->ms.prev_n; k++)
			fetch += !idmap_get(&w->decl_index, wf->ms.prev_ids[k], NULL);
		if (lines + wf->fetch_lines > WINDOW_LINES || nids + fetch > STORE_MANY_MAX) {
			w->end = j > w->start ? j : w->start + 1;
			if (j == w->start)
				wf->ready = false;
			break;
		}
		lines += wf->fetch_lines;
		for (unsigned k = 0; k < wf->ms.prev_n; k++)
			if (!idmap_get(&w->decl_index, wf->ms.prev_ids[k], NULL))
				ids[nids++] = (struct store_decl_key){ wf->employer_id, wf->ms.prev_ids[k] };
	}
	if (nids && (err = lines_each_many_on(fs->r, s, ids, nids, window_line, w))) {
		window_unready(w);
		return w->overflow ? AMANA_OK : err;
	}
	return AMANA_OK;
}

/*
 * The window's thread: reads the window starting at a file the import
 * thread names, for the transaction it names, while the import goes on.
 * One request at a time; the import thread takes the window read and hands
 * back the one it is done with.
 */
enum prefetch_state { PF_IDLE, PF_ASKED, PF_DONE };

struct prefetch {
	const struct file_state *fs; /* only what stays unchanged during the import */
	struct store *store; /* the thread's own connection */
	const char *const *paths;
	size_t count;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum prefetch_state state;
	size_t from;
	uint64_t tx;
	struct window *w; /* the thread's while asked, else the import thread's */
	bool failed; /* the connection failed: the import thread reads for itself */
	bool stop;
};

static void *prefetch_main(void *arg)
{
	struct prefetch *pf = arg;
	pthread_setname_np(pthread_self(), "amana-ahead");
	pthread_mutex_lock(&pf->lock);
	for (;;) {
		while (!pf->stop && pf->state != PF_ASKED)
			pthread_cond_wait(&pf->cond, &pf->lock);
		if (pf->stop)
			break;
		size_t from = pf->from;
		uint64_t tx = pf->tx;
		pthread_mutex_unlock(&pf->lock);
		/* another connection sees none of the transaction's writes */
		enum amana_err err = window_fill(pf->fs, pf->w, pf->store, pf->paths, pf->count, from, tx, 0);
		if (err)
			window_unready(pf->w);
		pthread_mutex_lock(&pf->lock);
		if (err)
			pf->failed = true;
		pf->state = PF_DONE;
		pthread_cond_broadcast(&pf->cond);
	}
	pthread_mutex_unlock(&pf->lock);
	return NULL;
}

static void prefetch_stop(struct prefetch *pf)
{
	if (!pf)
		return;
	pthread_mutex_lock(&pf->lock);
	pf->stop = true;
	pthread_cond_broadcast(&pf->cond);
	pthread_mutex_unlock(&pf->lock);
	pthread_join(pf->thread, NULL);
	pthread_cond_destroy(&pf->cond);
	pthread_mutex_destroy(&pf->lock);
	store_close(pf->store);
	window_free(pf->w);
	free(pf);
}

/* A window thread with its own connection, or NULL without one (SQLite, a
 * server that refuses another connection, no memory): the import thread
 * then reads every window itself. */
static struct prefetch *prefetch_start(const struct file_state *fs, const char *const *paths, size_t count)
{
	struct prefetch *pf = calloc(1, sizeof(*pf));
	if (!pf)
		return NULL;
	pf->fs = fs;
	pf->paths = paths;
	pf->count = count;
	pf->w = window_new();
	pthread_mutex_init(&pf->lock, NULL);
	pthread_cond_init(&pf->cond, NULL);
	if (pf->w && registry_store_connection(fs->r, &pf->store) == AMANA_OK &&
	    pthread_create(&pf->thread, NULL, prefetch_main, pf) == 0)
		return pf;
	pthread_cond_destroy(&pf->cond);
	pthread_mutex_destroy(&pf->lock);
	store_close(pf->store);
	window_free(pf->w);
	free(pf);
	return NULL;
}

/* Called with pf->lock held: wait for the request in flight, if any. */
static void prefetch_settle(struct prefetch *pf)
{
	while (pf->state == PF_ASKED)
		pthread_cond_wait(&pf->cond, &pf->lock);
}

static void prefetch_ask(struct prefetch *pf, size_t from, uint64_t tx)
{
	pf->from = from;
	pf->tx = tx;
	pf->state = PF_ASKED;
	pthread_cond_broadcast(&pf->cond);
}

/* The period a file's name says (0: none). */
static uint32_t period_named(const char *path)
{
	uint32_t aff, period;
	unsigned seq;
	enum ebds_family fam = ebds_parse_filename(path, &aff, &period, &seq);
	return fam == EBDS_FAMILY_DECLARATION || fam == EBDS_FAMILY_COMPLEMENTARY ? period : 0;
}

/* The window for files from paths[from] in the current transaction: the
 * one read ahead if it is that one, else read now; then the next one is
 * asked, if it is of the same period (the next period's files are checked
 * against this one's declarations, written in this transaction, which the
 * thread's connection does not see: the import thread reads that window
 * itself). Returns false if the thread's connection failed (the caller
 * reads). */
static bool prefetch_take(struct file_state *fs, size_t from)
{
	struct prefetch *pf = fs->pf;
	pthread_mutex_lock(&pf->lock);
	prefetch_settle(pf);
	if (!pf->failed && !(pf->state == PF_DONE && pf->from == from && pf->tx == fs->tx_no)) {
		prefetch_ask(pf, from, fs->tx_no); /* none, or for another file or transaction */
		prefetch_settle(pf);
	}
	if (pf->failed) {
		pf->state = PF_IDLE;
		pthread_mutex_unlock(&pf->lock);
		return false;
	}
	struct window *got = pf->w;
	pf->w = fs->win;
	fs->win = got;
	pf->state = PF_IDLE;
	if (got->end < pf->count && got->period && period_named(pf->paths[got->end]) == got->period)
		prefetch_ask(pf, got->end, fs->tx_no);
	pthread_mutex_unlock(&pf->lock);
	return true;
}

/* The window covering file i in the current transaction: read on the
 * thread's connection, unless this transaction wrote declarations of
 * another period, which the next period's files may be checked against. */
static enum amana_err window_at(struct file_state *fs, const char *const *paths, size_t count, size_t i)
{
	bool other_period = fs->win->tx == fs->tx_no && fs->win->period != period_named(paths[i]);
	if (fs->pf && !(fs->tx_writes > 0 && other_period) && prefetch_take(fs, i))
		return AMANA_OK;
	return window_fill(fs, fs->win, fs->r->store, paths, count, i, fs->tx_no, fs->tx_writes);
}

/* The current file's entry of a window read in this transaction, if it
 * was ready (its name gave an employer and period, looked up). */
static const struct window_file *window_entry(const struct file_state *fs)
{
	const struct window *w = fs->win;
	size_t i = fs->file_index;
	if (!w || w->tx != fs->tx_no || i < w->start || i >= w->end || !w->f[i - w->start].ready)
		return NULL;
	return &w->f[i - w->start];
}

/* What was read ahead for the current file, if it still holds. */
static const struct window_file *window_take(struct file_state *fs, const struct ebds_record *rec)
{
	const struct window_file *wf = window_entry(fs);
	uint32_t written;
	if (!wf || fs->tx_untracked || wf->affiliation != rec->affiliation || wf->period != rec->period ||
	    wf->employer_id != fs->employer_id ||
	    (idmap_get(&fs->tx_written, fs->employer_id, &written) && written > fs->win->as_of))
		return NULL;
	return wf;
}

static enum amana_err window_roster(struct file_state *fs, const struct window_file *wf)
{
	struct window *w = fs->win;
	enum amana_err err = AMANA_OK;
	roster_begin(&fs->ro, wf->ms.prev_period);
	for (unsigned k = 0; k < wf->ms.prev_n && !err; k++) {
		uint32_t d;
		if (!idmap_get(&w->decl_index, wf->ms.prev_ids[k], &d))
			continue; /* a declaration with no lines */
		const struct window_decl *wd = &w->decls[d];
		fs->rosters_used += wd->from_roster;
		for (size_t x = wd->first; x < wd->first + wd->n && !err; x++)
			err = roster_add(&fs->ro, w->lines[x].person_id, w->lines[x].registration, w->lines[x].leaves);
	}
	return err ? err : roster_finish(fs->r, &fs->ro, false);
}

static void on_employer(struct file_state *fs, const struct ebds_record *rec)
{
	struct registry *r = fs->r;
	unsigned lineno = rec->line;
	fs->res.affiliation = rec->affiliation;
	fs->res.period = rec->period;
	if (rec->family == EBDS_FAMILY_PREFILL) {
		ebds_errors_add(fs->errs, lineno, 1, "type", "a declaration (B or E records)",
				"a pre-filled list (A records)");
		return;
	}
	if (fs->opt->only_affiliation && rec->affiliation != fs->opt->only_affiliation) {
		ebds_errors_add(fs->errs, lineno, 4, "affiliation", "the employer the file was sent for",
				"%07u (another employer)", rec->affiliation);
		return;
	}
	/* The window looked the employer up by the file's name already. */
	const struct window_file *named = window_entry(fs);
	enum amana_err err = AMANA_OK;
	if (named && named->affiliation == rec->affiliation)
		fs->employer_id = named->employer_id;
	else
		err = lookup_employer(fs, rec->affiliation, &fs->employer_id);
	if (err == AMANA_ERR_NOTFOUND) {
		ebds_errors_add(fs->errs, lineno, 4, "affiliation", "an employer registered with the registry",
				"%07u (unknown)", rec->affiliation);
		return;
	}
	if (err) {
		fail(fs, err, "looking up the employer");
		return;
	}
	struct recent ms;
	const struct window_file *ahead = window_take(fs, rec);
	if (ahead) {
		ms = ahead->ms;
		fs->read_ahead_used++;
	} else {
		memset(&ms, 0, sizeof(ms));
		ms.period = rec->period;
		if ((err = store_declarations_recent(r->store, fs->employer_id, rec->period, note_recent, &ms))) {
			fail(fs, err, "reading the employer's declarations");
			return;
		}
		order_previous(&ms);
	}
	if (rec->family == EBDS_FAMILY_DECLARATION) {
		if (ms.main) {
			ebds_errors_add(fs->errs, lineno, 11, "period",
					"a period not yet declared by this employer (send a complementary "
					"declaration DSC<k> to add to it)",
					"%06u (already declared)", rec->period);
			return;
		}
		fs->res.seq = 0;
	} else {
		if (!ms.main) {
			ebds_errors_add(fs->errs, lineno, 11, "period",
					"a period whose main declaration was imported first",
					"%06u (no main declaration)", rec->period);
			return;
		}
		unsigned seq = fs->name_seq ? fs->name_seq : ms.max + 1;
		if (seq > 9 || ms.used[seq]) {
			ebds_errors_add(fs->errs, lineno, 11, "period",
					"a complementary declaration number (1-9) not yet used for this period",
					"number %u", seq);
			return;
		}
		fs->res.seq = seq;
	}
	err = ahead ? window_roster(fs, ahead)
		    : roster_load_from(r, fs->employer_id, ms.prev_ids, ms.prev_n, ms.prev_period, false, &fs->ro);
	if (err) {
		fail(fs, err, "loading the pre-filled list");
		return;
	}
	if (fs->decl_next >= fs->decl_end) {
		fail(fs, AMANA_ERR_LIMIT, "numbering the declaration");
		return;
	}
	fs->declaration_id = fs->decl_next++;
	chunk_writer_start(&fs->lines, r, fs->employer_id, fs->declaration_id);
	fs->employer_ok = true;
}

static void add_totals(struct totals_rec *t, const struct line_rec *l)
{
	t->employees++;
	t->children += l->children;
	t->days += l->days;
	t->real_salaries += l->real_salary;
	t->capped_salaries += l->capped_salary;
	t->af_to_pay += l->af_to_pay;
	t->af_to_deduct += l->af_to_deduct;
	t->af_net += l->af_net;
	t->af_give_back += l->af_give_back;
}

static void write_line(struct file_state *fs, const struct line_rec *lr)
{
	if (chunk_writer_will_flush(&fs->lines) && !protect(fs))
		return;
	enum amana_err err = chunk_writer_add(&fs->lines, lr);
	if (err) {
		fail(fs, err, "writing a line");
		return;
	}
	add_totals(&fs->totals, lr);
	fs->res.lines++;
}

/* A person may be declared once per file. */
static bool first_time(struct file_state *fs, unsigned lineno, int64_t person_id)
{
	if (idmap_get(&fs->seen, person_id, NULL)) {
		ebds_errors_add(fs->errs, lineno, 17, "registration", "each person declared once in a file",
				"a second line for the same person");
		return false;
	}
	enum amana_err err = idmap_put(&fs->seen, person_id, lineno);
	if (err)
		fail(fs, err, "tracking persons");
	return !err;
}

static void on_salary(struct file_state *fs, const struct ebds_record *rec)
{
	const struct ebds_person_line *p = &rec->u.person;
	unsigned lineno = rec->line;
	size_t idx;
	if (rec->family == EBDS_FAMILY_DECLARATION) {
		idx = fs->next_expected;
		if (idx >= fs->ro.n) {
			ebds_errors_add(fs->errs, lineno, 17, "registration",
					"no further B02 line: the pre-filled list ends here (declare new hires in B04)",
					"an extra B02 line");
			return;
		}
		if (fs->ro.v[idx].registration != p->registration) {
			uint32_t other;
			if (!idmap_get(&fs->ro.by_reg, p->registration, &other)) {
				/* Someone else in this person's place: a wrong number
				 * for the listed person, most likely. */
				fs->next_expected++;
				ebds_errors_add(fs->errs, lineno, 17, "registration",
						"the person at this position of the pre-filled list",
						"a person not on the list (declare new hires in B04)");
				return;
			}
			if (other < idx) {
				ebds_errors_add(fs->errs, lineno, 17, "registration",
						"the person at this position of the pre-filled list",
						"the person listed at position %u, declared above already", other + 1);
				return;
			}
			/* A person further down the list: those in between are missing. */
			for (size_t k = idx; k < other; k++)
				ebds_errors_add(fs->errs, lineno, 17, "registration",
						"a B02 line for every person of the pre-filled list, in its order",
						"none for the person at position %zu (line %zu of the pre-filled list)",
						k + 1, k + 3);
			idx = other;
		}
		fs->next_expected = idx + 1;
	} else {
		uint32_t found;
		if (!idmap_get(&fs->ro.by_reg, p->registration, &found)) {
			ebds_errors_add(fs->errs, lineno, 17, "registration",
					"a person on the pre-filled list (declare others in E04)",
					"a person not on the list");
			return;
		}
		idx = found;
	}
	int64_t person_id = fs->ro.v[idx].person_id;
	if (!first_time(fs, lineno, person_id) || !writing(fs))
		return;
	bool leaves = situation_leaves(p->situation);
	struct line_rec lr = {
		.line_no = lineno,
		.kind = LINE_SALARY,
		.leaves = leaves,
		.person_id = person_id,
		.registration = p->registration,
		.situation = p->situation,
		.days = p->days,
		.children = p->children,
		.real_salary = p->real_salary,
		.capped_salary = p->capped_salary,
		.af_to_pay = p->af_to_pay,
		.af_to_deduct = p->af_to_deduct,
		.af_net = p->af_net,
		.af_give_back = p->af_give_back,
	};
	write_line(fs, &lr);
	crypto_wipe(&lr, sizeof(lr));
	if (leaves && writing(fs)) {
		add_job(fs, person_id, false);
		fs->res.leavers++;
	}
}

static void on_salary_sum(struct file_state *fs, const struct ebds_record *rec)
{
	if (rec->family != EBDS_FAMILY_DECLARATION)
		return;
	for (size_t i = fs->next_expected; i < fs->ro.n; i++)
		ebds_errors_add(fs->errs, rec->line, 0, "registration",
				"a B02 line for every person of the pre-filled list",
				"none for the person at position %zu (line %zu of the pre-filled list)", i + 1, i + 3);
	fs->next_expected = fs->ro.n;
}

/* A hire of someone the registry knows must name them as registered: the
 * name, and the CIN where the registry has one. Otherwise any employer
 * could put a guessed registration number or CIN on a B04 line and read the
 * person back from its list of employees. What is registered is not said:
 * the error names the field, not its value. */
static bool hire_is_them(struct file_state *fs, const struct ebds_hire_line *h, const struct person_keys *keys)
{
	if (bidx_name(fs->r, h->name) != keys->name_bidx) {
		ebds_errors_add(fs->errs, fs->item->rec.line, 26, "name",
				"the name registered for this person (registration number or CIN)", "another name");
		return false;
	}
	if (keys->cin_bidx && bidx_cin(fs->r, h->cin) != keys->cin_bidx) {
		ebds_errors_add(fs->errs, fs->item->rec.line, 86, "cin", "the CIN registered for this person",
				"another CIN");
		return false;
	}
	return true;
}

static void on_hire(struct file_state *fs, const struct ebds_record *rec)
{
	const struct ebds_hire_line *h = &rec->u.hire;
	unsigned lineno = rec->line;
	struct registry *r = fs->r;
	int64_t person_id = 0;
	uint32_t reg = h->registration;
	struct person_keys keys = { 0, 0 };
	bool known = false; /* a person the registry had: the declared identity must be theirs */
	enum amana_err err;
	if (h->blank)
		return;
	if (h->registration == REGISTRATION_OCCASIONAL) {
		person_id = 0;
	} else if (h->registration == REGISTRATION_NONE) {
		int64_t key = bidx_cin(r, h->cin);
		key = key ? key : 1;
		if (fs->item->person_hint) { /* found ahead by the reading thread */
			person_id = fs->item->person_hint;
			reg = fs->item->hint_registration;
			keys.name_bidx = fs->item->hint_name_bidx;
			keys.cin_bidx = fs->item->hint_cin_bidx;
			fs->hints_used++;
			err = AMANA_OK;
		} else if (fs->item->cin_absent_in_tx == fs->tx_no && !fs->tx_cins_untracked &&
			   !idmap_get(&fs->tx_cins, key, NULL)) {
			err = AMANA_ERR_NOTFOUND; /* not committed, and not registered since */
		} else {
			err = find_person_by_cin_on(r, r->store, h->cin, &person_id, &reg, &keys);
		}
		known = err == AMANA_OK;
		if (err == AMANA_ERR_NOTFOUND) {
			if (!writing(fs) || !protect(fs))
				return; /* would register: only when the file is clean so far */
			err = person_create_looked_up(r, h->cin, h->name, 0, 0, fs->now, &person_id, &reg);
			if (err == AMANA_ERR_LIMIT) {
				ebds_errors_add(fs->errs, lineno, 17, "registration",
						"a registration number the registry can assign", "none left");
				return;
			}
			if (!err) {
				fs->res.new_persons++;
				if (idmap_put(&fs->tx_cins, key, 1) != AMANA_OK)
					fs->tx_cins_untracked = true;
			}
		}
		if (err) {
			fail(fs, err, "registering a new hire");
			return;
		}
	} else {
		if (fs->item->person_hint) { /* found ahead by the reading thread */
			person_id = fs->item->person_hint;
			keys.name_bidx = fs->item->hint_name_bidx;
			keys.cin_bidx = fs->item->hint_cin_bidx;
			fs->hints_used++;
			err = AMANA_OK;
		} else {
			err = find_person_by_reg_keys(r, h->registration, &person_id, &keys);
		}
		known = err == AMANA_OK;
		if (err == AMANA_ERR_NOTFOUND) {
			ebds_errors_add(fs->errs, lineno, 17, "registration",
					"a registration number known to the registry (or 000000000 and a CIN "
					"for a first registration)",
					"an unknown number");
			return;
		}
		if (err) {
			fail(fs, err, "looking up a new hire");
			return;
		}
	}
	if (known && !hire_is_them(fs, h, &keys))
		return;
	if (person_id) {
		if (idmap_get(&fs->ro.by_person, person_id, NULL)) {
			ebds_errors_add(fs->errs, lineno, 17, "registration",
					"a person not on the pre-filled list (listed persons go in B02)",
					"a person on the list");
			return;
		}
		if (!first_time(fs, lineno, person_id))
			return;
	}
	if (!writing(fs))
		return;
	struct line_rec lr = {
		.line_no = lineno,
		.kind = LINE_HIRE,
		.person_id = person_id,
		.registration = reg,
		.days = h->days,
		.real_salary = h->real_salary,
		.capped_salary = h->capped_salary,
	};
	write_line(fs, &lr);
	crypto_wipe(&lr, sizeof(lr));
	fs->res.hires++;
	if (person_id && writing(fs))
		add_job(fs, person_id, true);
}

/* ---- hires looked up ahead ----
 *
 * On a database server, looking up a new hire by registration number is a
 * round trip the import thread would wait for, once per hire. Instead the
 * reading thread looks up the hires of each block it hands over, in one
 * query on a connection of its own, and marks each line whose person it
 * found. A person found there is the one the import thread would find:
 * it was committed, and persons are never removed nor renumbered. One not
 * found (registered by this very import, or unknown) is looked up by the
 * import thread inside its transaction, as before.
 *
 * A hire by CIN only (registration 000000000) is looked up the same way,
 * one line at a time (they are few). Found, the line is marked with the
 * person. Not found, the line is marked with the import's transaction if
 * that transaction held the writer lock from before the lookup to after it
 * (locked_tx, set by the import thread once begin returned and cleared
 * before it commits or rolls back): no other process can have registered
 * the CIN in between, so only this transaction can have, and the import
 * thread notes the CINs it registers. A new person is then registered
 * without a lookup of the import thread's own. */
struct hire_ahead {
	struct registry *r; /* only its keys, read-only */
	struct store *store; /* the reading thread's own connection */
	_Atomic uint64_t locked_tx; /* the import's transaction holding the writer lock (0: none) */
};

struct hint_ctx {
	struct registry *r;
	struct read_block *b;
	const uint32_t *regs;
	const unsigned *item;
	size_t n;
};

static enum amana_err hint_person(void *vctx, const struct store_person *p)
{
	struct hint_ctx *c = vctx;
	uint32_t reg;
	if (open_u32(c->r, "persons", "registration", p->id, &p->reg_sealed, &reg) != AMANA_OK)
		return AMANA_OK; /* left to the import thread, which will say what is wrong */
	for (size_t k = 0; k < c->n; k++)
		if (c->regs[k] == reg) {
			struct read_item *it = &c->b->items[c->item[k]];
			it->person_hint = p->id;
			it->hint_name_bidx = p->name_bidx;
			it->hint_cin_bidx = p->cin_bidx;
		}
	crypto_wipe(&reg, sizeof(reg));
	return AMANA_OK;
}

static void hire_ahead_block(void *vctx, struct read_block *b)
{
	struct hire_ahead *ha = vctx;
	int64_t bidx[READ_BLOCK_ITEMS];
	uint32_t regs[READ_BLOCK_ITEMS];
	unsigned item[READ_BLOCK_ITEMS];
	size_t n = 0, nk = 0;
	for (unsigned i = 0; i < b->n; i++) {
		const struct read_item *it = &b->items[i];
		if (it->too_long || !it->usable || it->rec.type != EBDS_HIRE)
			continue;
		const struct ebds_hire_line *h = &it->rec.u.hire;
		if (h->blank || h->registration == REGISTRATION_OCCASIONAL || h->registration == REGISTRATION_NONE)
			continue;
		int64_t k = bidx_registration(ha->r, h->registration);
		bool again = false;
		for (size_t j = 0; j < nk && !again; j++)
			again = bidx[j] == k;
		if (!again)
			bidx[nk++] = k;
		regs[n] = h->registration;
		item[n++] = i;
	}
	for (unsigned i = 0; i < b->n; i++) {
		struct read_item *it = &b->items[i];
		if (it->too_long || !it->usable || it->rec.type != EBDS_HIRE)
			continue;
		const struct ebds_hire_line *h = &it->rec.u.hire;
		if (h->blank || h->registration != REGISTRATION_NONE)
			continue;
		uint64_t before = atomic_load(&ha->locked_tx);
		int64_t id;
		uint32_t reg;
		struct person_keys keys;
		enum amana_err err = find_person_by_cin_on(ha->r, ha->store, h->cin, &id, &reg, &keys);
		if (err == AMANA_OK) {
			it->person_hint = id;
			it->hint_registration = reg;
			it->hint_name_bidx = keys.name_bidx;
			it->hint_cin_bidx = keys.cin_bidx;
		} else if (err == AMANA_ERR_NOTFOUND && before && atomic_load(&ha->locked_tx) == before) {
			it->cin_absent_in_tx = before;
		}
		crypto_wipe(&reg, sizeof(reg));
	}
	if (nk == 0)
		return;
	struct hint_ctx c = { ha->r, b, regs, item, n };
	if (store_persons_by_reg_many(ha->store, bidx, nk, hint_person, &c) != AMANA_OK) {
		/* some lines or none are marked: the rest is looked up by the
		 * import thread, which reports what fails there */
	}
	crypto_wipe(regs, n * sizeof(regs[0]));
}

/* One line, already checked by the codec in the reading thread: the
 * registry's part of the checks, and the writing. */
static void on_item(struct file_state *fs, const struct read_item *it)
{
	const struct ebds_record *rec = &it->rec;
	fs->codec_errors = it->codec_errors;
	fs->item = it;
	if (it->too_long)
		return;
	if (!it->usable && rec->type == EBDS_SALARY && rec->family == EBDS_FAMILY_DECLARATION && fs->employer_ok &&
	    fs->next_expected < fs->ro.n)
		fs->next_expected++; /* a broken B02 still stands for its listed person */
	if (it->usable) {
		switch (rec->type) {
		case EBDS_EMPLOYER: on_employer(fs, rec); break;
		case EBDS_SALARY:
			if (fs->employer_ok)
				on_salary(fs, rec);
			break;
		case EBDS_SALARY_SUM:
			if (fs->employer_ok)
				on_salary_sum(fs, rec);
			break;
		case EBDS_HIRE:
			if (fs->employer_ok)
				on_hire(fs, rec);
			break;
		default: break;
		}
	}
	if (fs->opt->progress && ++fs->lines_since_progress >= 8192) {
		fs->lines_since_progress = 0;
		fs->opt->progress(fs->opt->ctx, fs->file_index, fs->file_count, *fs->lines_total + fs->res.lines,
				  fs->bytes_before, fs->bytes_total);
	}
}

/* The file's errors in line order: the codec's first on a tie, as they
 * were found. Both lists are in line order and keep their first entries. */
static void merge_errors(struct file_state *fs, const struct ebds_errors *codec)
{
	struct ebds_errors *m = fs->merged, *reg = fs->errs;
	unsigned i = 0, j = 0;
	m->count = 0;
	m->dropped = codec->dropped + reg->dropped;
	while (i < codec->count || j < reg->count) {
		const struct ebds_error *e;
		if (j >= reg->count || (i < codec->count && codec->list[i].line <= reg->list[j].line))
			e = &codec->list[i++];
		else
			e = &reg->list[j++];
		if (m->count < EBDS_ERRORS_MAX)
			m->list[m->count++] = *e;
		else
			m->dropped++;
	}
	crypto_wipe(reg->list, reg->count * sizeof(reg->list[0]));
	memcpy(reg->list, m->list, m->count * sizeof(m->list[0]));
	reg->count = m->count;
	reg->dropped = m->dropped;
	crypto_wipe(m->list, m->count * sizeof(m->list[0]));
}

/* Check and write one file inside the open transaction; its lines come
 * from the reading thread. */
static void import_one(struct file_state *fs, const char *path, struct file_reader *fr)
{
	struct registry *r = fs->r;
	ebds_errors_clear(fs->errs);
	idmap_reset(&fs->seen);
	memset(&fs->res, 0, sizeof(fs->res));
	memset(&fs->totals, 0, sizeof(fs->totals));
	fs->res.path = path;
	fs->employer_ok = false;
	fs->codec_errors = 0;
	fs->next_expected = 0;
	fs->bytes_done = 0;
	fs->declaration_id = 0;
	fs->in_savepoint = false;
	fs->njobs = 0;
	uint32_t name_aff, name_period;
	/* DSC<k>_ names the complementary number; the records say the rest. */
	(void)ebds_parse_filename(path, &name_aff, &name_period, &fs->name_seq);

	enum amana_err err;
	uint8_t digest[CRYPTO_DIGEST_BYTES] = { 0 };
	bool ended = false;
	struct read_block *b;
	while (!ended && (b = file_reader_next(fr))) {
		if (b->file_index != fs->file_index) {
			file_reader_release(fr, b);
			fail(fs, AMANA_ERR_CORRUPT, "reading the files out of order");
			break;
		}
		for (unsigned k = 0; k < b->n && !fs->fatal; k++)
			on_item(fs, &b->items[k]);
		if (b->ends_file) {
			ended = true;
			fs->bytes_done = b->end.bytes;
			memcpy(digest, b->end.digest, sizeof(digest));
			if (b->end.open_errno)
				ebds_errors_add(fs->errs, 0, 0, "file", "a readable file", "%s",
						strerror(b->end.open_errno));
			merge_errors(fs, &b->end.errors);
			fs->codec_errors = 0; /* merged into fs->errs */
		}
		file_reader_release(fr, b);
	}
	if (!ended)
		fail(fs, AMANA_ERR_IO, "reading the files");

	/* From here on nothing can reject the file: what is written now is
	 * undone only with the batch, if the registry fails. */
	bool final_writes = writing(fs);
	if (writing(fs))
		write_jobs(fs);
	struct store_blob roster = { NULL, 0 };
	if (writing(fs) && (err = chunk_writer_finish(&fs->lines)))
		fail(fs, err, "writing the last lines");
	if (writing(fs) && (err = chunk_writer_roster(&fs->lines, &roster)))
		fail(fs, err, "sealing the roster");
	chunk_writer_clear(&fs->lines);
	if (writing(fs)) {
		struct store_declaration d = {
			.id = fs->declaration_id,
			.employer_id = fs->employer_id,
			.period = fs->res.period,
			.seq = fs->res.seq,
			.imported_at = fs->now,
			.line_count = fs->res.lines,
			.roster_sealed = roster,
		};
		memcpy(d.digest, digest, sizeof(d.digest));
		uint8_t sealed[SEALED_MAX];
		size_t n;
		if ((err = seal_totals(r, fs->declaration_id, &fs->totals, sealed, &n)))
			fail(fs, err, "sealing the totals");
		d.totals_sealed.data = sealed;
		d.totals_sealed.len = n;
		if (!fs->fatal && (err = store_declaration_insert(r->store, &d)))
			fail(fs, err, "writing the declaration");
		/* What was read ahead for this employer is stale from now on. */
		if (fs->win && (fs->tx_writes == UINT32_MAX ||
				idmap_put(&fs->tx_written, fs->employer_id, ++fs->tx_writes) != AMANA_OK))
			fs->tx_untracked = true;
	}
	crypto_wipe(&fs->totals, sizeof(fs->totals));

	if (fs->fatal) {
		if (fs->in_savepoint && store_rollback_savepoint(r->store) != AMANA_OK)
			fs->tx_dirty = true;
		else if (!fs->in_savepoint && final_writes)
			fs->tx_dirty = true;
		fs->res.err = fs->fatal;
	} else if (ebds_errors_total(fs->errs) > 0) {
		if (fs->in_savepoint && (err = store_rollback_savepoint(r->store))) {
			fail(fs, err, "rolling back the file");
			fs->tx_dirty = true;
		}
		fs->res.err = fs->fatal ? fs->fatal : AMANA_ERR_INPUT;
		fs->res.lines = fs->res.hires = fs->res.new_persons = fs->res.leavers = 0;
	} else {
		if (fs->in_savepoint && (err = store_release(r->store))) {
			fail(fs, err, "keeping the file");
			fs->tx_dirty = true;
		}
		fs->res.err = fs->fatal;
		if (!fs->fatal) {
			audit_entry_subject(fs->note, AUDIT_SUBJECT_DECLARATION, fs->declaration_id);
			audit_entry_subject(fs->note, AUDIT_SUBJECT_EMPLOYER, fs->employer_id);
		}
	}
	fs->in_savepoint = false;
	fs->njobs = 0;
}

static void report_pending(const struct import_options *opt, struct import_file_result *pending, size_t *np,
			   struct import_summary *sum, enum amana_err commit_err, const char *why)
{
	for (size_t i = 0; i < *np; i++) {
		if (commit_err) {
			pending[i].err = commit_err;
			snprintf(pending[i].detail, sizeof(pending[i].detail), "%s: %s", why,
				 amana_strerror(commit_err));
			sum->files_failed++;
		} else {
			sum->files_accepted++;
			sum->lines += pending[i].lines;
			sum->hires += pending[i].hires;
			sum->new_persons += pending[i].new_persons;
			sum->leavers += pending[i].leavers;
		}
		if (opt->report)
			opt->report(opt->ctx, &pending[i]);
	}
	*np = 0;
}

/* Opening each employer's sealed affiliation once costs less than one
 * blind-index query per file when many files come in. */
#define EMPLOYER_CACHE_MIN_FILES 1000

static enum amana_err cache_one(void *ctx, const struct store_employer *e)
{
	struct file_state *fs = ctx;
	uint32_t aff;
	if (e->id <= 0 || e->id > (int64_t)UINT32_MAX)
		return AMANA_OK; /* not representable: looked up the slow way */
	enum amana_err err = open_u32(fs->r, "employers", "affiliation", e->id, &e->aff_sealed, &aff);
	if (!err && aff)
		err = idmap_put(&fs->employers, aff, (uint32_t)e->id);
	return err;
}

static enum amana_err cache_employers(struct file_state *fs, struct store *s)
{
	enum amana_err err = store_employers_each(s, cache_one, fs);
	if (!err)
		atomic_store_explicit(&fs->employers_cached, true, memory_order_release);
	return err;
}

/*
 * On a database server the cache is read on a thread and a connection of
 * its own while the import starts: reading and opening every employer took
 * three quarters of a second for 300,000, during which nothing else ran.
 * Until it is complete, files look their employer up one by one. Its
 * outcome is awaited before the first commit: a failure (an employer that
 * does not open, the connection lost) rolls the first batch back and stops
 * the import, so nothing is kept, as when it was read before anything else.
 */
struct employer_loader {
	struct file_state *fs;
	struct store *store;
	pthread_t thread;
	bool running; /* started and not joined */
	enum amana_err err;
};

static void *employer_loader_main(void *arg)
{
	struct employer_loader *el = arg;
	pthread_setname_np(pthread_self(), "amana-employer");
	el->err = cache_employers(el->fs, el->store);
	return NULL;
}

/* Start reading the cache in the background, or read it now without a
 * second connection (SQLite, where it costs no round trips). */
static enum amana_err employer_loader_start(struct employer_loader *el, struct file_state *fs)
{
	el->fs = fs;
	el->err = AMANA_OK;
	if (registry_store_connection(fs->r, &el->store) == AMANA_OK) {
		if (pthread_create(&el->thread, NULL, employer_loader_main, el) == 0) {
			el->running = true;
			return AMANA_OK;
		}
		store_close(el->store);
		el->store = NULL;
	}
	return cache_employers(fs, fs->r->store);
}

/* The cache's outcome, once it is read. */
static enum amana_err employer_loader_wait(struct employer_loader *el)
{
	if (el->running) {
		pthread_join(el->thread, NULL);
		el->running = false;
		store_close(el->store);
		el->store = NULL;
	}
	return el->err;
}

/* Commit the open transaction, once the employers' cache is known good,
 * and report its files: kept, or not and why (the transaction rolled
 * back). */
static enum amana_err commit_batch(struct registry *r, struct employer_loader *loader, const struct import_options *opt,
				   struct import_file_result *pending, size_t *npending, struct import_summary *sum)
{
	enum amana_err lerr = employer_loader_wait(loader);
	enum amana_err cerr = lerr ? lerr : store_commit(r->store);
	if (cerr)
		(void)store_rollback(r->store);
	report_pending(opt, pending, npending, sum, cerr,
		       lerr ? "not kept: the registry's employers could not all be read" : "committing");
	return cerr;
}

static enum amana_err import_run(struct registry *r, const char *const *paths, size_t count,
				 const struct import_options *opt, struct import_summary *sum, struct audit_entry *note)
{
	memset(sum, 0, sizeof(*sum));
	struct file_state *fs = calloc(1, sizeof(*fs));
	struct ebds_errors *errs = malloc(sizeof(*errs));
	struct ebds_errors *merged = malloc(sizeof(*merged));
	struct file_reader *reader = NULL;
	struct hire_ahead ahead = { .r = r, .store = NULL };
	struct employer_loader loader = { .running = false };
	/* Results waiting for their batch to commit: at most one per file. */
	struct import_file_result *pending = calloc(count ? count : 1, sizeof(*pending));
	enum amana_err err = AMANA_OK;
	if (!fs || !errs || !merged || !pending) {
		err = AMANA_ERR_NOMEM;
		goto out;
	}
	fs->r = r;
	fs->note = note;
	fs->errs = errs;
	fs->merged = merged;
	fs->opt = opt;
	fs->file_count = count;
	fs->now = (int64_t)time(NULL);
	roster_init(&fs->ro);
	idmap_init(&fs->seen);
	int64_t lines_total = 0;
	fs->lines_total = &lines_total;
	/* The bar shows bytes: the total is measured only for a bar. */
	for (size_t i = 0; opt->progress && i < count; i++) {
		struct stat st;
		if (stat(paths[i], &st) == 0)
			fs->bytes_total += (uint64_t)st.st_size;
	}
	idmap_init(&fs->employers);
	idmap_init(&fs->tx_written);
	idmap_init(&fs->tx_cins);
	fs->win = count >= 2 ? window_new() : NULL; /* without it, each file reads alone */
	if (count >= EMPLOYER_CACHE_MIN_FILES && (err = employer_loader_start(&loader, fs)))
		goto done;
	/* Without a second connection (SQLite, where a lookup costs no round
	 * trip, or a server that refuses one), the import thread looks up
	 * every hire itself. */
	if (registry_store_connection(r, &ahead.store) != AMANA_OK)
		ahead.store = NULL;
	if ((err = file_reader_start(&reader, paths, count, &r->rules, ahead.store ? hire_ahead_block : NULL, &ahead)))
		goto done;
	if (fs->win)
		fs->pf = prefetch_start(fs, paths, count);
	int64_t batch = opt->batch_lines > 0 ? opt->batch_lines : DEFAULT_BATCH_LINES;
	int64_t in_batch = 0;
	size_t npending = 0;
	bool open_tx = false;

	for (size_t i = 0; i < count; i++) {
		if (!open_tx) {
			if ((err = store_begin(r->store)))
				break;
			open_tx = true;
			fs->tx_no++; /* others may have written since the last one */
			fs->tx_writes = 0;
			fs->tx_untracked = false;
			idmap_reset(&fs->tx_written);
			fs->tx_cins_untracked = false;
			idmap_reset(&fs->tx_cins);
			atomic_store(&ahead.locked_tx, fs->tx_no);
		}
		if (fs->win && (fs->win->tx != fs->tx_no || i >= fs->win->end) &&
		    (err = window_at(fs, paths, count, i))) {
			fs->file_index = i;
			break;
		}
		if (fs->decl_next >= fs->decl_end) {
			if ((err = store_next_ids(r->store, "declarations", DECLARATION_ID_BLOCK, &fs->decl_next)))
				break;
			fs->decl_end = fs->decl_next + DECLARATION_ID_BLOCK;
		}
		fs->file_index = i;
		import_one(fs, paths[i], reader);
		fs->bytes_before += fs->bytes_done;
		if (fs->fatal) {
			err = fs->fatal;
			sum->files_failed++;
			if (opt->report)
				opt->report(opt->ctx, &fs->res);
			if (fs->tx_dirty) {
				/* Part of the failed file may be in the transaction: none of
				 * the batch is kept, and every file of it is reported. */
				atomic_store(&ahead.locked_tx, 0);
				(void)store_rollback(r->store);
				open_tx = false;
				report_pending(opt, pending, &npending, sum, err,
					       "not kept: a later file of its batch failed");
			}
			break;
		}
		if (fs->res.err == AMANA_ERR_INPUT) {
			sum->files_rejected++;
			fs->res.errors = errs;
			if (opt->report)
				opt->report(opt->ctx, &fs->res);
			continue;
		}
		pending[npending++] = fs->res;
		in_batch += fs->res.lines + 1;
		lines_total += fs->res.lines;
		if (in_batch >= batch) {
			atomic_store(&ahead.locked_tx, 0);
			enum amana_err cerr = commit_batch(r, &loader, opt, pending, &npending, sum);
			open_tx = false;
			in_batch = 0;
			if (cerr) {
				err = cerr;
				break;
			}
		}
	}
	if (open_tx) {
		/* Keep what was accepted, even after a failure in a later file. */
		atomic_store(&ahead.locked_tx, 0);
		enum amana_err cerr = commit_batch(r, &loader, opt, pending, &npending, sum);
		if (cerr && !err)
			err = cerr;
	}
	sum->files_read_ahead = fs->read_ahead_used;
	sum->rosters_read = fs->rosters_used;
	sum->hires_found_ahead = fs->hints_used;
	if (opt->progress)
		opt->progress(opt->ctx, count, count, lines_total, fs->bytes_before, fs->bytes_total);
	if (!err && sum->files_rejected)
		err = AMANA_ERR_INPUT;
done:
	(void)employer_loader_wait(&loader); /* its failure, if it came to count, was awaited */
	prefetch_stop(fs->pf);
	file_reader_stop(reader);
	store_close(ahead.store);
	roster_free(&fs->ro);
	idmap_free(&fs->seen);
	idmap_free(&fs->employers);
	idmap_free(&fs->tx_written);
	idmap_free(&fs->tx_cins);
	window_free(fs->win);
out:
	free(fs);
	if (errs)
		crypto_wipe(errs, sizeof(*errs));
	free(errs);
	free(merged);
	free(pending);
	return err;
}

/* One entry for the call, appended once its batches are committed: the
 * declarations it wrote and their employers (the first ones listed, all
 * counted in subjects_total: two per accepted file). */
enum amana_err svc_import(struct registry *r, const struct principal *who, const char *const *paths, size_t count,
			  const struct import_options *opt, struct import_summary *sum)
{
	struct audit_entry note;
	audit_note(&note, who, "import");
	enum amana_err err = AMANA_OK;
	if (who->session) { /* an amanad caller: its own employer's files only */
		int64_t id = 0;
		enum amana_err ferr = opt->only_affiliation ? find_employer(r, opt->only_affiliation, &id) : AMANA_OK;
		if (ferr && ferr != AMANA_ERR_NOTFOUND)
			err = ferr;
		if (!ferr && id)
			audit_entry_subject(&note, AUDIT_SUBJECT_EMPLOYER, id);
		struct guard_request q = {
			.act = ACT_DECLARATION_UPLOAD,
			.subject_kind = id ? AUDIT_SUBJECT_EMPLOYER : 0,
			.subject_id = id,
			.employer = opt->only_affiliation,
		};
		if (!err && !opt->only_affiliation)
			err = AMANA_ERR_USAGE;
		if (!err && (err = guard_access(r, who, &q, &note)) == AMANA_OK)
			err = ferr;
		if (err) {
			memset(sum, 0, sizeof(*sum));
			return audit_commit(r, &note, err);
		}
	}
	err = import_run(r, paths, count, opt, sum, &note);
	enum amana_err aerr = audit_commit(r, &note, err == AMANA_ERR_INPUT ? AMANA_OK : err);
	return err ? err : aerr;
}
