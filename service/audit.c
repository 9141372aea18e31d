/*
 * audit.c - the service's side of the audit log: the entry every call that
 * touches personal data appends (audit_note / audit_commit), the catalog of
 * those calls, and the audit use cases (heads, proofs, verify, query).
 *
 * The rule, for every function of service.h that reads or writes personal
 * data: build the note first, act, then audit_commit with the outcome
 * before anything is returned. audit_commit returns once the entry is
 * durable; if it cannot be written the call fails and its output is wiped
 * (fail closed). svc_catalog lists every function of service.h, so a test
 * can check that a new one is either audited or declared free of personal
 * data.
 */
#include "internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum amana_err audit_then_commit(struct registry *r, struct audit_entry *e, enum amana_err err)
{
	if (!err) {
		/* A write is committed only once its entry is durable: it
		 * waits, deferral or not. */
		uint64_t *defer = r->audit_defer;
		r->audit_defer = NULL;
		err = audit_commit(r, e, AMANA_OK);
		r->audit_defer = defer;
		e->action[0] = 0;
	}
	if (!err)
		err = store_commit(r->store);
	else
		(void)store_rollback(r->store);
	return err;
}

const struct svc_catalog_entry svc_catalog[] = {
	{ "svc_employer_register", "employer.register", true },
	{ "svc_employer_show", "employer.show", true },
	{ "svc_person_register", "person.register", true },
	{ "svc_person_show", "person.show", true },
	{ "svc_prefill", "prefill", true },
	{ "svc_import", "import", true },
	{ "svc_contributions", "contributions", true },
	{ "svc_gen", "gen", true },
	{ "svc_audit_query", "audit.query", true },
	{ "svc_account_add", "account.add", true },
	{ "svc_session_open", "session.open", true },
	{ "svc_mark", "mark", true },
	{ "svc_alerts", "alerts.read", true },
	/* A staff account's state: audited as the supervisor's act. */
	{ "svc_principal_unlock", "principal.unlock", true },
	{ "svc_access_log", "access_log.read", true },
	{ "svc_declarations", "declarations.read", true },
	{ "svc_employees", "employees.read", true },
	{ "svc_career", "career.read", true },
	{ "svc_rights", "rights.read", true },
	{ "svc_pension", "pension.read", true },
	{ "svc_rights_batch", "rights.batch", true },
	/* The caller's own session: no one else's data. The calls made with
	 * it are audited, each. */
	{ "svc_session_check", NULL, false },
	{ "svc_session_close", NULL, false },
	/* No personal data: counts, and the log's own structure. */
	{ "svc_audit_wait", NULL, false },
	{ "svc_audit_durable", NULL, false },
	{ "svc_stats", NULL, false },
	{ "svc_audit_head", NULL, false },
	{ "svc_audit_prove", NULL, false },
	{ "svc_audit_consistency", NULL, false },
	{ "svc_audit_verify", NULL, false },
	{ "svc_audit_check", NULL, false },
	/* Heads only; the witness's own files hold no personal data. */
	{ "svc_audit_witness", NULL, false },
	{ NULL, NULL, false },
};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copy a caller-supplied text into an entry field, replacing what the
 * entry format refuses (control characters) and cutting what is too long. */
static void field(char *dst, size_t cap, const char *src)
{
	size_t n = 0;
	for (; src && src[n] && n + 1 < cap && n < 255; n++) {
		unsigned char c = (unsigned char)src[n];
		dst[n] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[n] = 0;
}

void audit_note(struct audit_entry *e, const struct principal *who, const char *action)
{
	memset(e, 0, sizeof(*e));
	e->time_ms = wall_ms();
	field(e->principal, sizeof(e->principal), who->id);
	field(e->role, sizeof(e->role), role_name(who->role));
	field(e->action, sizeof(e->action), action);
	field(e->request_id, sizeof(e->request_id), who->request_id);
	field(e->client, sizeof(e->client), who->client[0] ? who->client : "local");
}

enum amana_err audit_note_purpose(struct registry *r, struct audit_entry *e, const char *purpose)
{
	if (!purpose || !purpose[0])
		return AMANA_OK;
	size_t len = strnlen(purpose, PURPOSE_MAX + 1);
	if (len > PURPOSE_MAX)
		return AMANA_ERR_USAGE;
	/* Free text could name a person: sealed under the audit key, bound
	 * to the entry's time. */
	struct crypto_ad ad = { "audit", "purpose", e->time_ms, 0 };
	size_t n;
	enum amana_err err = crypto_seal(r->keys, CRYPTO_PURPOSE_AUDIT, &ad, (const uint8_t *)purpose, len,
					 e->purpose_sealed, sizeof(e->purpose_sealed), &n);
	if (!err)
		e->purpose_len = n;
	return err;
}

enum amana_err audit_open_purpose(struct registry *r, const struct audit_entry *e, char *out, size_t cap)
{
	out[0] = 0;
	if (e->purpose_len == 0)
		return AMANA_OK;
	struct crypto_ad ad = { "audit", "purpose", e->time_ms, 0 };
	size_t n;
	enum amana_err err = crypto_open(r->keys, &ad, e->purpose_sealed, e->purpose_len, (uint8_t *)out, cap - 1, &n);
	if (err) {
		out[0] = 0;
		return err;
	}
	out[n] = 0;
	return AMANA_OK;
}

enum amana_err audit_commit(struct registry *r, struct audit_entry *e, enum amana_err result)
{
	if (result == AMANA_OK) {
		e->outcome = AUDIT_ALLOWED;
	} else {
		e->outcome = result == AMANA_ERR_DENIED ? AUDIT_DENIED : AUDIT_FAILED;
		if (!e->reason[0])
			field(e->reason, sizeof(e->reason), amana_strerror(result));
	}
	enum amana_err err;
	if (r->audit_defer) {
		uint64_t ticket = 0;
		if (!(err = audit_submit(r->audit, e, &ticket)))
			*r->audit_defer = ticket; /* entries are durable in order: the last covers all */
	} else {
		err = audit_append(r->audit, e, NULL);
	}
	crypto_wipe(e->purpose_sealed, sizeof(e->purpose_sealed));
	/* The call's own failure comes first; then a log that cannot be
	 * written fails the call (fail closed). */
	return result ? result : err;
}

enum amana_err audit_commit_listing(struct registry *r, struct audit_entry *e, enum amana_err result, char kind,
				    const int64_t *ids, size_t n)
{
	size_t i = 0;
	for (; i < n && e->nsubjects < AUDIT_SUBJECTS_MAX; i++)
		audit_entry_subject(e, kind, ids[i]);
	for (size_t k = i; k < n; k++) /* counted in the head entry, listed after it */
		if (e->subjects_total < UINT32_MAX)
			e->subjects_total++;
	struct audit_entry more;
	if (i < n) { /* the head's fields, before audit_commit wipes its purpose */
		memset(&more, 0, sizeof(more));
		more.time_ms = e->time_ms;
		memcpy(more.principal, e->principal, sizeof(more.principal));
		memcpy(more.role, e->role, sizeof(more.role));
		memcpy(more.request_id, e->request_id, sizeof(more.request_id));
		memcpy(more.client, e->client, sizeof(more.client));
		snprintf(more.action, sizeof(more.action), "%.*s+", (int)sizeof(more.action) - 2, e->action);
	}
	enum amana_err err = audit_commit(r, e, result);
	if (err)
		return err;
	while (i < n) {
		more.nsubjects = 0;
		more.subjects_total = 0;
		memset(more.reason, 0, sizeof(more.reason));
		for (; i < n && more.nsubjects < AUDIT_SUBJECTS_MAX; i++)
			audit_entry_subject(&more, kind, ids[i]);
		if ((err = audit_commit(r, &more, AMANA_OK)))
			return err;
	}
	return AMANA_OK;
}

/* ---- use cases ---- */

/* Tree heads and proofs say nothing of anyone: an operator checks them
 * too. The entries name who read whom and why: an auditor's alone. */
static enum amana_err auditor_only(const struct principal *who)
{
	return who->role == ROLE_AUDITOR || who->role == ROLE_OPERATOR ? AMANA_OK : AMANA_ERR_DENIED;
}

static enum amana_err auditor_strict(const struct principal *who)
{
	return who->role == ROLE_AUDITOR ? AMANA_OK : AMANA_ERR_DENIED;
}

enum amana_err svc_audit_head(struct registry *r, const struct principal *who, struct audit_head_view *out)
{
	memset(out, 0, sizeof(*out));
	enum amana_err err = auditor_only(who);
	if (err)
		return err;
	/* Cover what this process wrote so far, then report the latest. */
	if ((err = audit_sign_head(r->audit)) || (err = audit_latest_head(r->audit, &out->head)))
		return err;
	audit_public_key(r->audit, out->public_key);
	return AMANA_OK;
}

enum amana_err svc_audit_prove(struct registry *r, const struct principal *who, uint64_t seq,
			       struct audit_proof_view *out)
{
	memset(out, 0, sizeof(*out));
	enum amana_err err = svc_audit_head(r, who, &out->head);
	if (err)
		return err;
	if (seq >= out->head.head.size)
		return AMANA_ERR_NOTFOUND;
	out->leaf_index = seq;
	if ((err = audit_inclusion(r->audit, seq, out->head.head.size, out->leaf_hash, out->path, &out->path_len)))
		return err;
	return audit_read_entry(r->audit, seq, out->entry, sizeof(out->entry), &out->entry_len);
}

enum amana_err svc_audit_consistency(struct registry *r, const struct principal *who, uint64_t old_size,
				     uint64_t new_size, struct audit_consistency_view *out)
{
	memset(out, 0, sizeof(*out));
	enum amana_err err = svc_audit_head(r, who, &out->head);
	if (err)
		return err;
	if (new_size == 0)
		new_size = out->head.head.size;
	if (old_size > new_size || new_size > out->head.head.size)
		return AMANA_ERR_USAGE;
	out->old_size = old_size;
	out->new_size = new_size;
	if ((err = audit_root(r->audit, old_size, out->old_root)) ||
	    (err = audit_root(r->audit, new_size, out->new_root)))
		return err;
	/* The heads of exactly these sizes, when they were signed. */
	out->have_old_head = audit_head_of_size(r->audit, old_size, &out->old_head) == AMANA_OK;
	out->have_new_head = audit_head_of_size(r->audit, new_size, &out->new_head) == AMANA_OK;
	return audit_consistency(r->audit, old_size, new_size, out->path, &out->path_len);
}

struct query_ctx {
	struct registry *r;
	const struct audit_query *q;
	audit_query_fn fn;
	void *ctx;
	struct audit_entry e;
	uint64_t matched;
};

static bool has_subject(const struct audit_entry *e, char kind, int64_t id)
{
	for (unsigned i = 0; i < e->nsubjects; i++)
		if (e->subjects[i].kind == kind && e->subjects[i].id == id)
			return true;
	return false;
}

static enum amana_err query_one(void *vctx, uint64_t seq, const uint8_t *bytes, size_t len)
{
	struct query_ctx *c = vctx;
	const struct audit_query *q = c->q;
	enum amana_err err = audit_entry_decode(bytes, len, &c->e);
	if (err)
		return err;
	if (q->person_id && !has_subject(&c->e, AUDIT_SUBJECT_PERSON, q->person_id))
		return AMANA_OK;
	if (q->employer_id && !has_subject(&c->e, AUDIT_SUBJECT_EMPLOYER, q->employer_id))
		return AMANA_OK;
	if (q->principal && strcmp(q->principal, c->e.principal) != 0)
		return AMANA_OK;
	if ((q->since_ms && c->e.time_ms < q->since_ms) || (q->until_ms && c->e.time_ms >= q->until_ms))
		return AMANA_OK;
	char purpose[PURPOSE_MAX + 1];
	if ((err = audit_open_purpose(c->r, &c->e, purpose, sizeof(purpose))))
		return err;
	c->matched++;
	if (c->fn)
		err = c->fn(c->ctx, seq, &c->e, purpose);
	crypto_wipe(purpose, sizeof(purpose));
	return err;
}

enum amana_err svc_audit_query(struct registry *r, const struct principal *who, struct audit_query *q,
			       audit_query_fn fn, void *ctx)
{
	struct audit_entry note;
	audit_note(&note, who, "audit.query");
	enum amana_err err = auditor_strict(who);
	if (!err && q->registration) {
		if ((err = find_person_by_reg(r, q->registration, &q->person_id)) == AMANA_OK)
			audit_entry_subject(&note, AUDIT_SUBJECT_PERSON, q->person_id);
	}
	if (!err && q->affiliation) {
		if ((err = find_employer(r, q->affiliation, &q->employer_id)) == AMANA_OK)
			audit_entry_subject(&note, AUDIT_SUBJECT_EMPLOYER, q->employer_id);
	}
	/* The query is itself an access: logged before any result is shown. */
	if ((err = audit_commit(r, &note, err)))
		return err;
	struct query_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return AMANA_ERR_NOMEM;
	c->r = r;
	c->q = q;
	c->fn = fn;
	c->ctx = ctx;
	err = audit_each(r->audit, 0, query_one, c);
	q->matched = c->matched;
	crypto_wipe(c, sizeof(*c));
	free(c);
	return err;
}

enum amana_err svc_access_log(struct registry *r, const struct principal *who, audit_query_fn fn, void *ctx)
{
	struct audit_entry note;
	audit_note(&note, who, "access_log.read");
	struct audit_query q = { .registration = 0 };
	enum amana_err err = AMANA_OK;
	if (!who->session || who->session->role != ROLE_CITIZEN || !who->session->person) {
		snprintf(note.reason, sizeof(note.reason), "only a citizen reads their own access history");
		err = AMANA_ERR_DENIED;
	}
	if (!err && (err = find_person_by_reg(r, who->session->person, &q.person_id)) == AMANA_OK)
		audit_entry_subject(&note, AUDIT_SUBJECT_PERSON, q.person_id);
	if ((err = audit_commit(r, &note, err)))
		return err;
	struct query_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return AMANA_ERR_NOMEM;
	*c = (struct query_ctx){ .r = r, .q = &q, .fn = fn, .ctx = ctx };
	err = audit_each(r->audit, 0, query_one, c);
	crypto_wipe(c, sizeof(*c));
	free(c);
	return err;
}

/* ---- checking a proof, for a third party ---- */

enum amana_err svc_audit_check(const struct audit_check *in, struct audit_check_result *out)
{
	memset(out, 0, sizeof(*out));
	if (in->has_inclusion) {
		out->inclusion_checked = true;
		out->inclusion_ok = merkle_verify_inclusion(in->leaf_index, in->tree_size, in->leaf_hash, in->path,
							    in->path_len, in->root);
		if (in->entry_len) {
			merkle_hash leaf;
			merkle_leaf_hash(in->entry, in->entry_len, leaf);
			out->entry_checked = true;
			out->entry_ok = crypto_equal(leaf, in->leaf_hash, MERKLE_HASH_BYTES) == 1;
		}
	}
	if (in->has_consistency) {
		out->consistency_checked = true;
		out->consistency_ok = merkle_verify_consistency(in->old_size, in->tree_size, in->old_root, in->root,
								in->path, in->path_len);
	}
	if (in->has_head) {
		struct audit_head h;
		h.size = in->tree_size;
		h.time_ms = in->timestamp;
		memcpy(h.root, in->root, MERKLE_HASH_BYTES);
		memcpy(h.signature, in->signature, sizeof(h.signature));
		out->head_checked = true;
		out->head_ok = audit_head_verify(&h, in->public_key);
	}
	bool any = out->inclusion_checked || out->consistency_checked || out->head_checked;
	bool ok = (!out->inclusion_checked || out->inclusion_ok) && (!out->entry_checked || out->entry_ok) &&
		  (!out->consistency_checked || out->consistency_ok) && (!out->head_checked || out->head_ok);
	if (!any)
		return AMANA_ERR_USAGE;
	return ok ? AMANA_OK : AMANA_ERR_INPUT;
}

/* ---- witnessing ---- */

enum amana_err svc_audit_witness(struct registry *r, const struct principal *who, const char *dir,
				 struct audit_witness_result *out)
{
	memset(out, 0, sizeof(*out));
	struct audit_head_view latest;
	enum amana_err err = svc_audit_head(r, who, &latest);
	if (err)
		return err;
	out->head = latest.head;
	/* The key: pinned the first time, then every head must verify with it. */
	uint8_t pinned[AUDIT_PUBLIC_KEY_BYTES];
	if ((err = audit_witness_pin(dir, latest.public_key, pinned, &out->pinned_now)))
		return err;
	if (!audit_head_verify(&latest.head, pinned)) {
		snprintf(out->refusal, sizeof(out->refusal),
			 "the log's head is not signed by the key this witness pinned");
		return AMANA_ERR_INPUT;
	}
	struct audit_head last;
	bool have;
	if ((err = audit_witness_last(dir, &last, &have)))
		return err;
	if (have) {
		out->previous = last;
		out->had_previous = true;
		if (latest.head.size < last.size) {
			snprintf(out->refusal, sizeof(out->refusal),
				 "the log shrank: %llu entries, the witness holds a head of %llu",
				 (unsigned long long)latest.head.size, (unsigned long long)last.size);
			return AMANA_ERR_INPUT;
		}
		if (latest.head.size == last.size) {
			if (sodium_memcmp(latest.head.root, last.root, MERKLE_HASH_BYTES) != 0) {
				snprintf(out->refusal, sizeof(out->refusal),
					 "the log was rewritten: same size %llu, another root",
					 (unsigned long long)last.size);
				return AMANA_ERR_INPUT;
			}
			return AMANA_OK; /* nothing new */
		}
		merkle_hash path[MERKLE_PROOF_MAX];
		size_t n;
		if (last.size > 0) {
			if ((err = audit_consistency(r->audit, last.size, latest.head.size, path, &n)))
				return err;
		} else {
			n = 0;
		}
		if (!merkle_verify_consistency(last.size, latest.head.size, last.root, latest.head.root, path, n)) {
			snprintf(out->refusal, sizeof(out->refusal),
				 "the head of size %llu is not consistent with the witnessed head of size %llu",
				 (unsigned long long)latest.head.size, (unsigned long long)last.size);
			return AMANA_ERR_INPUT;
		}
	}
	if ((err = audit_witness_append(dir, &latest.head)))
		return err;
	out->appended = true;
	return AMANA_OK;
}

void registry_defer_audit(struct registry *w, uint64_t *ticket)
{
	if (ticket)
		*ticket = 0;
	w->audit_defer = ticket;
}

enum amana_err svc_audit_wait(struct registry *r, uint64_t ticket)
{
	return ticket ? audit_wait(r->audit, ticket) : AMANA_OK;
}

enum amana_err svc_audit_durable(struct registry *r, uint64_t *durable)
{
	return audit_durable(r->audit, durable);
}

void registry_on_audit_durable(struct registry *r, audit_durable_fn fn, void *ctx)
{
	audit_on_durable(r->audit, fn, ctx);
}
