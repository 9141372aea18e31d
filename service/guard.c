/*
 * guard.c - the count in "authorize, count, act, audit" (DESIGN.md): the
 * marks on persons and employers, each amanad principal's budgets, alerts
 * and suspensions. policy/ decides; this keeps the state it decides on.
 *
 * Budgets are counted in memory, per account, by one process: the distinct
 * persons it read in the current hour and day (each with the hour it was
 * last read) and its documents today. A suspension is written to the
 * store at once, so every process and every later session sees it; the
 * counts start afresh with a restart, which a thief does not control.
 * docs/internals/policy.md says why and what a cluster of servers needs.
 *
 * Marks are kept under a keyed hash of the subject (its kind and row id,
 * BLAKE2b under a key derived from the blind-index root): the database
 * shows how many marks there are, never which rows bear them.
 */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idmap.h"

struct usage {
	int64_t account_id;
	int64_t day, hour; /* the unix day and hour the counts are of */
	uint32_t persons_hour, persons_day, documents_day;
	bool suspended;
	/* The suspension is in the store (set_suspended returned): the store
	 * saying otherwise then means an unlock by another process (another
	 * server, the CLI), which this one follows (unlocked_elsewhere). */
	bool suspension_stored;
	uint64_t suspensions; /* how many this process decided: tells a new one from an old */
	struct idmap seen; /* person row -> unix hour last read, today */
};

/* Sessions checked in the last second, by token hash: a request then
 * costs no query for its session. A session closed, or an account
 * suspended or unlocked, in this process leaves the cache at once; one
 * closed or suspended by another process is refused by this one within
 * SESSION_CACHE_MS. */
#define SESSION_CACHE_SLOTS 4096
#define SESSION_CACHE_MS 1000
struct session_slot {
	uint8_t hash[STORE_TOKEN_HASH_BYTES];
	int64_t cached_ms; /* monotonic; 0: empty */
	struct session_principal sp;
};

struct guard {
	pthread_mutex_t m;
	struct session_slot *sessions; /* SESSION_CACHE_SLOTS, direct-mapped */
	uint64_t generation; /* advanced by every drop (session_cache_get) */
	struct policy_config config;
	struct usage *u; /* by account, unsorted: a server has hundreds, not millions */
	size_t n, cap;
	alert_sink_fn sink;
	void *sink_ctx;
	/* employer row -> affiliation number, as opened: a company's public
	 * identifier, read for every employment shown */
	struct idmap affiliations;
};

enum amana_err guard_new(struct guard **out)
{
	struct guard *g = calloc(1, sizeof(*g));
	if (!g)
		return AMANA_ERR_NOMEM;
	g->sessions = calloc(SESSION_CACHE_SLOTS, sizeof(*g->sessions));
	if (!g->sessions || pthread_mutex_init(&g->m, NULL) != 0) {
		free(g->sessions);
		free(g);
		return AMANA_ERR_NOMEM;
	}
	policy_defaults(&g->config);
	idmap_init(&g->affiliations);
	*out = g;
	return AMANA_OK;
}

void guard_free(struct guard *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++)
		idmap_free(&g->u[i].seen);
	free(g->u);
	idmap_free(&g->affiliations);
	crypto_wipe(g->sessions, SESSION_CACHE_SLOTS * sizeof(*g->sessions));
	free(g->sessions);
	pthread_mutex_destroy(&g->m);
	free(g);
}

void registry_set_policy(struct registry *r, const struct policy_config *c)
{
	struct guard *g = r->guard;
	pthread_mutex_lock(&g->m);
	g->config = *c;
	pthread_mutex_unlock(&g->m);
}

void registry_set_alert_sink(struct registry *r, alert_sink_fn fn, void *ctx)
{
	struct guard *g = r->guard;
	pthread_mutex_lock(&g->m);
	g->sink = fn;
	g->sink_ctx = ctx;
	pthread_mutex_unlock(&g->m);
}

/* The account's counts, rolled to now (under g->m). NULL: out of memory. */
static struct usage *usage_of(struct guard *g, int64_t account, int64_t now)
{
	struct usage *u = NULL;
	for (size_t i = 0; i < g->n && !u; i++)
		if (g->u[i].account_id == account)
			u = &g->u[i];
	if (!u) {
		if (g->n == g->cap) {
			size_t cap = g->cap ? 2 * g->cap : 16;
			struct usage *n = realloc(g->u, cap * sizeof(*n));
			if (!n)
				return NULL;
			g->u = n;
			g->cap = cap;
		}
		u = &g->u[g->n++];
		memset(u, 0, sizeof(*u));
		u->account_id = account;
		idmap_init(&u->seen);
	}
	int64_t day = now / 86400, hour = now / 3600;
	if (u->day != day) {
		u->day = day;
		u->persons_day = 0;
		u->documents_day = 0;
		idmap_free(&u->seen);
		idmap_init(&u->seen);
	}
	if (u->hour != hour) {
		u->hour = hour;
		u->persons_hour = 0;
	}
	return u;
}

/* ---- the session cache ---- */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1; /* never 0 */
}

static struct session_slot *slot_of(struct guard *g, const uint8_t hash[STORE_TOKEN_HASH_BYTES])
{
	uint32_t h;
	memcpy(&h, hash, sizeof(h)); /* a SHA-256: uniform */
	return &g->sessions[h % SESSION_CACHE_SLOTS];
}

bool session_cache_get(struct registry *r, const uint8_t hash[STORE_TOKEN_HASH_BYTES], int64_t now,
		       struct session_principal *out, uint64_t *gen)
{
	struct guard *g = r->guard;
	pthread_mutex_lock(&g->m);
	*gen = g->generation;
	struct session_slot *sl = slot_of(g, hash);
	bool hit = sl->cached_ms && mono_ms() - sl->cached_ms < SESSION_CACHE_MS &&
		   memcmp(sl->hash, hash, STORE_TOKEN_HASH_BYTES) == 0 && sl->sp.expires_at > now;
	if (hit)
		*out = sl->sp;
	pthread_mutex_unlock(&g->m);
	return hit;
}

void session_cache_put(struct registry *r, const uint8_t hash[STORE_TOKEN_HASH_BYTES],
		       const struct session_principal *sp, uint64_t gen)
{
	struct guard *g = r->guard;
	pthread_mutex_lock(&g->m);
	if (gen != g->generation) { /* a drop came since the store was read */
		pthread_mutex_unlock(&g->m);
		return;
	}
	struct session_slot *sl = slot_of(g, hash);
	memcpy(sl->hash, hash, STORE_TOKEN_HASH_BYTES);
	sl->sp = *sp;
	sl->cached_ms = mono_ms();
	pthread_mutex_unlock(&g->m);
}

void session_cache_drop(struct registry *r, const uint8_t *hash, int64_t account)
{
	struct guard *g = r->guard;
	pthread_mutex_lock(&g->m);
	g->generation++;
	if (hash) {
		struct session_slot *sl = slot_of(g, hash);
		if (memcmp(sl->hash, hash, STORE_TOKEN_HASH_BYTES) == 0)
			sl->cached_ms = 0;
	} else {
		for (size_t i = 0; i < SESSION_CACHE_SLOTS; i++)
			if (g->sessions[i].sp.account_id == account)
				g->sessions[i].cached_ms = 0;
	}
	pthread_mutex_unlock(&g->m);
}

/* ---- affiliations ---- */

#define AFFILIATIONS_KEPT (1u << 20) /* every employer of a large country; then no more */

bool affiliation_cached(struct registry *r, int64_t employer_id, uint32_t *aff)
{
	struct guard *g = r->guard;
	pthread_mutex_lock(&g->m);
	bool hit = idmap_get(&g->affiliations, employer_id, aff);
	pthread_mutex_unlock(&g->m);
	return hit;
}

void affiliation_keep(struct registry *r, int64_t employer_id, uint32_t aff)
{
	struct guard *g = r->guard;
	pthread_mutex_lock(&g->m);
	if (g->affiliations.count < AFFILIATIONS_KEPT && idmap_put(&g->affiliations, employer_id, aff) != AMANA_OK) {
		/* out of memory: the next read opens it again */
	}
	pthread_mutex_unlock(&g->m);
}

/* ---- marks ---- */

static void mark_key(struct registry *r, char subject_kind, int64_t id, uint8_t out[STORE_MARK_BYTES])
{
	uint8_t in[9];
	in[0] = (uint8_t)subject_kind;
	for (int i = 0; i < 8; i++)
		in[1 + i] = (uint8_t)((uint64_t)id >> (8 * i));
	crypto_keyed_hash(&r->bx_mark, in, sizeof(in), out);
}

enum amana_err mark_subject(struct registry *r, char subject_kind, int64_t id, int64_t kinds)
{
	uint8_t key[STORE_MARK_BYTES];
	mark_key(r, subject_kind, id, key);
	return store_mark_put(r->store, key, kinds);
}

enum amana_err marks_of(struct registry *r, char subject_kind, int64_t id, int64_t *kinds)
{
	uint8_t key[STORE_MARK_BYTES];
	mark_key(r, subject_kind, id, key);
	return store_mark_get(r->store, key, kinds);
}

/* ---- alerts ---- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Store an alert and hand it to the sink. */
static enum amana_err raise_alert(struct registry *r, const struct principal *who, unsigned kinds,
				  const struct guard_request *q, const char *reason)
{
	int64_t id;
	enum amana_err err = store_next_ids(r->store, "alerts", 1, &id);
	if (err)
		return err;
	struct store_alert a = {
		.id = id,
		.at_ms = now_ms(),
		.account_id = who->session ? who->session->account_id : 0,
		.principal = who->id,
		.kinds = kinds,
		.subject_kind = q->subject_kind,
		.subject_id = q->subject_id,
		.reason = reason,
	};
	if ((err = store_alert_insert(r->store, &a)))
		return err;
	struct guard *g = r->guard;
	pthread_mutex_lock(&g->m);
	alert_sink_fn sink = g->sink;
	void *ctx = g->sink_ctx;
	pthread_mutex_unlock(&g->m);
	if (!sink)
		return AMANA_OK;
	char names[64] = "";
	for (unsigned bit = 1; bit <= ALERT_BUDGET; bit <<= 1)
		if (kinds & bit)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s\"%s\"", names[0] ? "," : "",
				 policy_alert_name((enum policy_alert)bit));
	/* The principal is a name the server made ("account:N", "cli:user"),
	 * the reason the policy's static words: neither needs escaping but
	 * the quote and the backslash, which neither contains. */
	char line[512];
	snprintf(line, sizeof(line),
		 "{\"alert\":%lld,\"at_ms\":%lld,\"account\":%lld,\"principal\":\"%s\",\"kinds\":[%s],"
		 "\"subject\":\"%c:%lld\",\"reason\":\"%s\"}",
		 (long long)a.id, (long long)a.at_ms, (long long)a.account_id, strpbrk(who->id, "\"\\") ? "?" : who->id,
		 names, q->subject_kind ? q->subject_kind : '-', (long long)q->subject_id, reason);
	sink(ctx, line);
	return AMANA_OK;
}

/* Suspend the account in the store: every process and session sees it. */
struct state_ctx {
	struct store_account_state st;
	bool found;
};

static enum amana_err take_state(void *vctx, const struct store_account *a, const struct store_account_state *st)
{
	(void)a;
	struct state_ctx *c = vctx;
	c->st = *st;
	c->found = true;
	return AMANA_OK;
}

static enum amana_err set_suspended(struct registry *r, int64_t account, bool suspended)
{
	struct state_ctx c = { .found = false };
	enum amana_err err = store_account_get(r->store, account, take_state, &c);
	if (err)
		return err;
	if (!c.found)
		return AMANA_ERR_NOTFOUND;
	c.st.suspended = suspended ? 1 : 0;
	if (!suspended) {
		c.st.failures = 0;
		c.st.locked_until = 0;
	}
	/* the store first: see session_cache_get */
	if ((err = store_account_set_state(r->store, account, &c.st)))
		return err;
	session_cache_drop(r, NULL, account);
	return AMANA_OK;
}

static struct usage *usage_find(struct guard *g, int64_t account)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->u[i].account_id == account)
			return &g->u[i];
	return NULL;
}

static void usage_restart(struct usage *u)
{
	u->suspended = false;
	u->suspension_stored = false;
	u->persons_hour = 0;
	u->persons_day = 0;
	u->documents_day = 0;
	idmap_free(&u->seen);
	idmap_init(&u->seen);
}

/* An account this process suspended, since unlocked in the store by
 * another: its budgets start afresh here too, as the unlock says. Costs a
 * query only while this process holds the account suspended. */
static enum amana_err unlocked_elsewhere(struct registry *r, int64_t account)
{
	struct guard *g = r->guard;
	pthread_mutex_lock(&g->m);
	struct usage *u = usage_find(g, account);
	bool ask = u && u->suspended && u->suspension_stored;
	uint64_t which = u ? u->suspensions : 0;
	pthread_mutex_unlock(&g->m);
	if (!ask)
		return AMANA_OK;
	struct state_ctx c = { .found = false };
	enum amana_err err = store_account_get(r->store, account, take_state, &c);
	if (err || !c.found || c.st.suspended)
		return err;
	pthread_mutex_lock(&g->m);
	u = usage_find(g, account);
	if (u && u->suspended && u->suspensions == which) /* not suspended again meanwhile */
		usage_restart(u);
	pthread_mutex_unlock(&g->m);
	return AMANA_OK;
}

/* ---- the decision ---- */

static void say_reason(struct audit_entry *note, const char *reason)
{
	snprintf(note->reason, sizeof(note->reason), "%s", reason);
}

enum amana_err guard_access(struct registry *r, const struct principal *who, const struct guard_request *q,
			    struct audit_entry *note)
{
	int64_t marks = 0;
	enum amana_err err = q->subject_kind ? marks_of(r, q->subject_kind, q->subject_id, &marks) : AMANA_OK;
	if (err)
		return err;
	struct policy_decision d;
	if (!who->session) {
		/* The CLI: the operator's own key file opens everything anyway;
		 * it is held to a purpose for persons, and its reads of marked
		 * records alert like anyone's. */
		memset(&d, 0, sizeof(d));
		d.allow = true;
		d.reason = "allowed";
		d.alerts = (unsigned)marks & (ALERT_SENSITIVE | ALERT_HONEYTOKEN);
		if (q->act == ACT_PERSON_READ && who->role == ROLE_OPERATOR) {
			d.allow = false;
			d.reason = "an operator reads no personal data";
		} else if (q->act == ACT_PERSON_READ && !q->purpose) {
			d.allow = false;
			d.reason = "no purpose given";
		}
		d.err = d.allow ? AMANA_OK : AMANA_ERR_DENIED;
	} else {
		const struct session_principal *sp = who->session;
		struct policy_principal p = {
			.role = sp->role,
			.person = sp->person,
			.employers = sp->employers,
			.n_employers = sp->n_employers,
		};
		struct policy_object o = {
			.act = q->act,
			.employer = q->employer,
			.person = q->person,
			.employed = q->employed,
			.purpose = q->purpose,
			.sensitive = (marks & ALERT_SENSITIVE) != 0,
			.honeytoken = (marks & ALERT_HONEYTOKEN) != 0,
			.document = q->document,
		};
		if ((err = unlocked_elsewhere(r, sp->account_id)))
			return err;
		struct guard *g = r->guard;
		pthread_mutex_lock(&g->m);
		struct usage *u = usage_of(g, sp->account_id, (int64_t)time(NULL));
		if (!u) {
			pthread_mutex_unlock(&g->m);
			return AMANA_ERR_NOMEM;
		}
		uint32_t last_hour = 0;
		bool person = q->subject_kind == AUDIT_SUBJECT_PERSON && q->subject_id > 0;
		bool seen = person && idmap_get(&u->seen, q->subject_id, &last_hour);
		o.new_person = person && (!seen || (int64_t)last_hour != u->hour);
		o.seen_today = seen;
		p.suspended = u->suspended;
		struct policy_usage use = { u->persons_hour, u->persons_day, u->documents_day };
		policy_decide(&g->config, &p, &o, &use, &d);
		if (d.allow) {
			if (o.new_person && (err = idmap_put(&u->seen, q->subject_id, (uint32_t)u->hour)) == AMANA_OK) {
				u->persons_hour++;
				if (!seen)
					u->persons_day++;
			}
			if (q->document)
				u->documents_day++;
		}
		uint64_t which = 0;
		if (d.suspend) {
			u->suspended = true;
			u->suspension_stored = false;
			which = ++u->suspensions;
		}
		pthread_mutex_unlock(&g->m);
		if (err)
			return err;
		if (d.suspend) {
			if ((err = set_suspended(r, sp->account_id, true)))
				return err;
			pthread_mutex_lock(&g->m);
			if ((u = usage_find(g, sp->account_id)) && u->suspensions == which)
				u->suspension_stored = true;
			pthread_mutex_unlock(&g->m);
		}
	}
	if (d.alerts && (err = raise_alert(r, who, d.alerts, q, d.reason)))
		return err; /* an alert that cannot be kept refuses the access */
	if (!d.allow) {
		say_reason(note, d.reason);
		return d.err ? d.err : AMANA_ERR_DENIED;
	}
	return AMANA_OK;
}

/* The persons a list shows (employees, a pre-filled list): their marks,
 * looked up many per statement, and an alert for every marked one, as for
 * a read of that person. The list itself was decided by guard_access: an
 * employer's own employees are in its scope (a sensitive one too, without
 * a purpose: the employer declares them), and the list counts as one
 * document. */
enum amana_err guard_listed(struct registry *r, const struct principal *who, enum policy_act act, uint32_t employer,
			    const int64_t *persons, size_t n)
{
	if (n == 0)
		return AMANA_OK;
	/* the marks of up to STORE_MANY_MAX persons per statement */
	size_t most = n < STORE_MANY_MAX ? n : STORE_MANY_MAX;
	uint8_t *keys = malloc(most * STORE_MARK_BYTES);
	int64_t *marks = malloc(most * sizeof(*marks));
	enum amana_err err = keys && marks ? AMANA_OK : AMANA_ERR_NOMEM;
	for (size_t from = 0; from < n && !err; from += STORE_MANY_MAX) {
		size_t k = n - from < most ? n - from : most;
		for (size_t i = 0; i < k; i++)
			mark_key(r, AUDIT_SUBJECT_PERSON, persons[from + i], keys + i * STORE_MARK_BYTES);
		err = store_marks_get_many(r->store, keys, k, marks);
		for (size_t i = 0; i < k && !err; i++) {
			unsigned kinds = (unsigned)marks[i] & (ALERT_SENSITIVE | ALERT_HONEYTOKEN);
			if (!kinds)
				continue;
			struct guard_request q = { .act = act,
						   .subject_kind = AUDIT_SUBJECT_PERSON,
						   .subject_id = persons[from + i],
						   .employer = employer };
			/* an alert that cannot be kept refuses the list */
			err = raise_alert(r, who, kinds, &q, "a marked person is in a list");
		}
	}
	free(keys);
	free(marks);
	return err;
}

/* ---- the use cases ---- */

enum amana_err svc_mark(struct registry *r, const struct principal *who, enum mark_subject kind, uint32_t number,
			unsigned kinds, char *why, size_t why_cap)
{
	struct audit_entry note;
	audit_note(&note, who, "mark");
	enum amana_err err = AMANA_OK;
	if (kinds & ~(unsigned)(ALERT_SENSITIVE | ALERT_HONEYTOKEN)) {
		snprintf(why, why_cap, "a mark is sensitive, honeytoken, or none");
		err = AMANA_ERR_USAGE;
	} else if (who->role != ROLE_AGENT && who->role != ROLE_SUPERVISOR) {
		snprintf(why, why_cap, "only an agent or a supervisor marks records");
		say_reason(&note, "role may not mark records");
		err = AMANA_ERR_DENIED;
	}
	int64_t id = 0;
	char subject = kind == MARK_PERSON ? AUDIT_SUBJECT_PERSON : AUDIT_SUBJECT_EMPLOYER;
	if (!err) {
		err = kind == MARK_PERSON ? find_person_by_reg(r, number, &id) : find_employer(r, number, &id);
		if (err == AMANA_ERR_NOTFOUND)
			snprintf(why, why_cap, "no %s with this number", kind == MARK_PERSON ? "person" : "employer");
	}
	if (!err) {
		audit_entry_subject(&note, subject, id);
		err = mark_subject(r, subject, id, (int64_t)kinds);
	}
	return audit_commit(r, &note, err);
}

struct alerts_ctx {
	struct registry *r;
	struct audit_entry *note;
	alert_fn fn;
	void *ctx;
};

struct reg_ctx {
	struct registry *r;
	uint32_t reg;
	bool found;
};

static enum amana_err take_reg(void *vctx, const struct store_person *p)
{
	struct reg_ctx *c = vctx;
	enum amana_err err = open_u32(c->r, "persons", "registration", p->id, &p->reg_sealed, &c->reg);
	c->found = err == AMANA_OK;
	return err;
}

static enum amana_err each_alert(void *vctx, const struct store_alert *a)
{
	struct alerts_ctx *c = vctx;
	struct alert_view v;
	memset(&v, 0, sizeof(v));
	v.id = a->id;
	v.at_ms = a->at_ms;
	v.account_id = a->account_id;
	snprintf(v.principal, sizeof(v.principal), "%s", a->principal);
	v.kinds = (unsigned)a->kinds;
	snprintf(v.reason, sizeof(v.reason), "%s", a->reason);
	enum amana_err err = AMANA_OK;
	if (a->subject_kind == AUDIT_SUBJECT_PERSON) {
		struct reg_ctx rc = { c->r, 0, false };
		if (!(err = store_person_get(c->r->store, a->subject_id, take_reg, &rc)) && rc.found) {
			v.subject_kind = 'p';
			v.subject = rc.reg;
			audit_entry_subject(c->note, AUDIT_SUBJECT_PERSON, a->subject_id);
		}
	} else if (a->subject_kind == AUDIT_SUBJECT_EMPLOYER) {
		if (!(err = employer_affiliation(c->r, a->subject_id, &v.subject))) {
			v.subject_kind = 'e';
			audit_entry_subject(c->note, AUDIT_SUBJECT_EMPLOYER, a->subject_id);
		}
	}
	if (!err)
		err = c->fn(c->ctx, &v);
	crypto_wipe(&v, sizeof(v));
	return err;
}

enum amana_err svc_alerts(struct registry *r, const struct principal *who, int64_t after, unsigned limit, alert_fn fn,
			  void *ctx)
{
	struct audit_entry note;
	audit_note(&note, who, "alerts.read");
	enum amana_err err = AMANA_OK;
	if (limit < 1 || limit > 1000 || after < 0)
		err = AMANA_ERR_USAGE;
	struct guard_request q = { .act = ACT_ALERTS_READ };
	if (!err && who->session)
		err = guard_access(r, who, &q, &note);
	else if (!err && who->role != ROLE_SUPERVISOR && who->role != ROLE_AUDITOR)
		err = AMANA_ERR_DENIED;
	struct alerts_ctx c = { r, &note, fn, ctx };
	if (!err)
		err = store_alerts_after(r->store, after, limit, each_alert, &c);
	return audit_commit(r, &note, err);
}

enum amana_err svc_principal_unlock(struct registry *r, const struct principal *who, int64_t account_id)
{
	struct audit_entry note;
	audit_note(&note, who, "principal.unlock");
	struct guard_request q = { .act = ACT_PRINCIPAL_UNLOCK };
	enum amana_err err = AMANA_OK;
	if (who->session)
		err = guard_access(r, who, &q, &note);
	else if (who->role != ROLE_SUPERVISOR && who->role != ROLE_AGENT)
		err = AMANA_ERR_DENIED; /* the CLI: those who may add accounts */
	if (!err && who->session && who->session->account_id == account_id) {
		say_reason(&note, "a supervisor does not unlock their own account");
		err = AMANA_ERR_DENIED;
	}
	if (!err)
		err = set_suspended(r, account_id, false);
	if (!err) {
		struct guard *g = r->guard;
		pthread_mutex_lock(&g->m);
		struct usage *u = usage_find(g, account_id);
		if (u)
			usage_restart(u);
		pthread_mutex_unlock(&g->m);
	}
	return audit_commit(r, &note, err);
}
