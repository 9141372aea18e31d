/* server.c - amanad's routes on libmicrohttpd (see server.h). */
#include "server.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>

#include "crypto/crypto.h"
#include "request.h"
#include "service/service.h"

/* Every status a response can have, for the metrics. */
static const unsigned statuses[] = { 200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 503 };
#define STATUS_COUNT (sizeof(statuses) / sizeof(statuses[0]))

/* At most one held answer per connection. */
#define RING_CAP (HTTP_CONNECTIONS_MAX + 1)

struct http_server {
	struct MHD_Daemon *daemon;
	struct registry *r;
	/* Each pool thread's own registry (its store connection), made on
	 * its first request; all closed at stop. */
	pthread_key_t worker_key;
	pthread_mutex_t workers_lock;
	struct registry *workers[HTTP_THREADS_MAX];
	unsigned n_workers;
	/* requests answered, by route (the last: no route) and status */
	atomic_uint_fast64_t answered[HTTP_ROUTE_COUNT + 1][STATUS_COUNT];
	atomic_uint_fast64_t worker_failures;
	atomic_size_t upload_bytes; /* declaration bodies held, all requests */
	/* Responses waiting for their audit entry to be durable, about in the
	 * order their entries were queued; on_durable resumes each, from the
	 * thread that wrote the batch. */
	pthread_mutex_t wait_lock;
	struct held_request *ring[RING_CAP];
	size_t ring_head, ring_len;
	bool stopping;
};

/* One request as a handler sees it. */
struct call {
	struct http_server *s;
	struct MHD_Connection *c;
	struct upload *up;
	struct registry *r; /* this thread's */
	size_t route;
	char param[HTTP_PARAMS_MAX][HTTP_PARAM_MAX]; /* the {…} segments of the path, in order */
};

/* A request's body, gathered as it arrives; and its response while the
 * connection is suspended, waiting for the request's audit entry. */
struct held_request {
	struct MHD_Connection *c;
	struct MHD_Response *resp;
	unsigned status;
	size_t route;
	uint64_t ticket;
	bool durable; /* set before the connection is resumed */
};

struct upload {
	char *data; /* a JSON body */
	size_t len, limit; /* limit: HTTP_BODY_MAX, or HTTP_UPLOAD_MAX for a declaration */
	bool too_large;
	/* A declaration's body goes to an anonymous memory file as it comes,
	 * counted against HTTP_UPLOADS_TOTAL_MAX; taken only when the session
	 * was valid at the headers (unauthorized: read and dropped). */
	bool declaration, unauthorized, forbidden, unavailable, server_full;
	size_t dropped; /* bytes of a refused body read and dropped */
	int fd; /* -1: none */
	size_t counted; /* bytes of upload_bytes this request holds */
	uint64_t ticket; /* the last audit entry this request's calls queued (0: none) */
	struct held_request held;
	bool holding;
};

struct http_server;
static void upload_release(struct http_server *s, struct upload *up);

unsigned http_status_for(enum amana_err err)
{
	switch (err) {
	case AMANA_OK: return MHD_HTTP_OK;
	case AMANA_ERR_USAGE: return MHD_HTTP_BAD_REQUEST;
	case AMANA_ERR_INPUT: return MHD_HTTP_UNPROCESSABLE_CONTENT;
	case AMANA_ERR_DENIED: return MHD_HTTP_FORBIDDEN;
	case AMANA_ERR_NOTFOUND: return MHD_HTTP_NOT_FOUND;
	case AMANA_ERR_EXISTS: return MHD_HTTP_CONFLICT;
	case AMANA_ERR_LIMIT: return MHD_HTTP_TOO_MANY_REQUESTS;
	default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

static void count(struct call *k, unsigned status)
{
	for (size_t i = 0; i < STATUS_COUNT; i++)
		if (statuses[i] == status)
			atomic_fetch_add_explicit(&k->s->answered[k->route][i], 1, memory_order_relaxed);
}

static enum MHD_Result audit_failed(struct call *k);

/* Suspend the connection with its response until its audit entry is
 * durable (on_durable resumes it). False when the entry is durable already
 * or the log is broken (the caller's own wait then returns at once), or
 * when the server is stopping (the caller waits for the entry itself). */
static bool hold(struct call *k, struct MHD_Response *resp, unsigned status)
{
	struct http_server *s = k->s;
	struct held_request *h = &k->up->held;
	*h = (struct held_request){
		.c = k->c, .resp = resp, .status = status, .route = k->route, .ticket = k->up->ticket, .durable = false
	};
	/* A batch made durable after the check below reports to on_durable,
	 * which takes wait_lock first: it finds the request in the ring. */
	pthread_mutex_lock(&s->wait_lock);
	uint64_t durable = 0;
	bool ok = !s->stopping && s->ring_len < RING_CAP && svc_audit_durable(s->r, &durable) == AMANA_OK &&
		  durable < h->ticket;
	if (ok) {
		k->up->holding = true;
		MHD_suspend_connection(k->c);
		s->ring[(s->ring_head + s->ring_len++) % RING_CAP] = h;
	}
	pthread_mutex_unlock(&s->wait_lock);
	if (!ok)
		h->resp = NULL;
	return ok;
}

/* After each batch of the audit log (audit_on_durable), on the thread that
 * wrote it: take out of the ring every held request whose entry is now
 * durable (all of them, undurable, if the log broke), the others keeping
 * their order, and resume them once the ring is let go. */
static void on_durable(void *ctx, uint64_t durable, enum amana_err broken)
{
	struct http_server *s = ctx;
	struct held_request *out[RING_CAP];
	size_t n_out = 0, kept = 0;
	pthread_mutex_lock(&s->wait_lock);
	for (size_t i = 0; i < s->ring_len; i++) {
		struct held_request *h = s->ring[(s->ring_head + i) % RING_CAP];
		bool done = h->ticket <= durable;
		if (done || broken) {
			h->durable = done;
			out[n_out++] = h;
		} else {
			s->ring[(s->ring_head + kept++) % RING_CAP] = h;
		}
	}
	s->ring_len = kept;
	pthread_mutex_unlock(&s->wait_lock);
	/* Each is suspended (hold() suspended it before it entered the ring)
	 * and no longer reachable by another resume. */
	for (size_t i = 0; i < n_out; i++)
		MHD_resume_connection(out[i]->c);
}

static const char *const security_headers[][2] = {
	{ "Cache-Control", "no-store" },
	{ "X-Content-Type-Options", "nosniff" },
	{ "X-Frame-Options", "DENY" },
	{ "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'" },
	{ "Referrer-Policy", "no-referrer" },
};

/* Queue a response of text (copied, then wiped: it may hold personal
 * data or a token) with the security headers. */
static enum MHD_Result send_text(struct call *k, unsigned status, const char *type, char *text, size_t n)
{
	struct MHD_Response *resp;
	if (text) {
		resp = MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_COPY);
		crypto_wipe(text, n);
	} else {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type);
	for (size_t i = 0; i < sizeof(security_headers) / sizeof(security_headers[0]); i++)
		MHD_add_response_header(resp, security_headers[i][0], security_headers[i][1]);
	if (k->up && k->up->ticket && hold(k, resp, status))
		return MHD_YES; /* sent once its audit entry is durable */
	if (k->up && k->up->ticket && svc_audit_wait(k->r, k->up->ticket) != AMANA_OK) {
		MHD_destroy_response(resp);
		return audit_failed(k);
	}
	count(k, status);
	enum MHD_Result rc = MHD_queue_response(k->c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result send_json(struct call *k, unsigned status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (body && !text)
		return MHD_NO;
	enum MHD_Result rc = send_text(k, status, "application/json", text, text ? strlen(text) : 0);
	free(text);
	return rc;
}

static enum MHD_Result send_error(struct call *k, unsigned status, const char *error, const char *detail)
{
	return send_json(k, status, json_pack("{s:s, s:s}", "error", error, "detail", detail));
}

/* The audit entry could not be made durable: nothing of the answer
 * leaves (fail closed). */
static enum MHD_Result audit_failed(struct call *k)
{
	k->up->ticket = 0;
	return send_error(k, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error",
			  "the access could not be written to the audit log; nothing was sent");
}

static enum MHD_Result send_err(struct call *k, enum amana_err err, const char *detail)
{
	unsigned status = http_status_for(err);
	const char *kind = status == MHD_HTTP_TOO_MANY_REQUESTS ? "too many requests" : amana_strerror(err);
	return send_error(k, status, kind, detail);
}

/* The caller, for the audit log: its address, and a fresh request id. */
static void caller(struct call *k, struct principal *who, const char *id, enum role role)
{
	memset(who, 0, sizeof(*who));
	snprintf(who->id, sizeof(who->id), "%s", id);
	who->role = role;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(k->c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr, who->client,
			  sizeof(who->client));
	else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr,
			  who->client, sizeof(who->client));
	uint8_t raw[8];
	crypto_random_bytes(raw, sizeof(raw));
	snprintf(who->request_id, sizeof(who->request_id), "http-%02x%02x%02x%02x%02x%02x%02x%02x", raw[0], raw[1],
		 raw[2], raw[3], raw[4], raw[5], raw[6], raw[7]);
}

/* The bearer token of the request, or NULL. */
static const char *bearer(struct MHD_Connection *c, size_t *len)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || strncmp(h, "Bearer ", 7) != 0)
		return NULL;
	*len = strlen(h + 7);
	return h + 7;
}

/* The session of the request: true with *sp, and who set for the audit log
 * ("account:N", its role and scope); or false, the response sent. */
static bool authenticated(struct call *k, struct session_principal *sp, struct principal *who, enum MHD_Result *rc)
{
	size_t len = 0;
	const char *token = bearer(k->c, &len);
	enum amana_err err = token ? svc_session_check(k->r, token, len, (int64_t)time(NULL), sp) : AMANA_ERR_DENIED;
	if (err == AMANA_OK) {
		if (who) {
			char id[32];
			snprintf(id, sizeof(id), "account:%lld", (long long)sp->account_id);
			caller(k, who, id, sp->role);
			who->session = sp;
		}
		return true;
	}
	if (err == AMANA_ERR_DENIED)
		*rc = send_error(k, MHD_HTTP_UNAUTHORIZED, "unauthorized",
				 "a valid session token is needed (Authorization: Bearer TOKEN; POST /v1/sessions)");
	else
		*rc = send_err(k, err, "the session could not be checked");
	return false;
}

/* A query argument as a number (absent: dflt). */
static bool query_number(struct call *k, const char *name, uint64_t dflt, uint64_t *out)
{
	const char *v = MHD_lookup_connection_value(k->c, MHD_GET_ARGUMENT_KIND, name);
	if (!v) {
		*out = dflt;
		return true;
	}
	return http_decimal(v, 0, out);
}

static enum MHD_Result sessions_post(struct call *k)
{
	struct http_login in;
	if (http_login_parse(k->up->data, k->up->len, &in) != AMANA_OK)
		return send_error(k, MHD_HTTP_BAD_REQUEST, "bad request",
				  "the body is a JSON object {\"login\", \"password\", \"totp\"}");
	struct principal who;
	caller(k, &who, "http:anonymous", ROLE_CITIZEN);
	struct session_request req = {
		.login = in.login,
		.password = in.password,
		.password_len = in.password_len,
		.totp = in.has_totp ? in.totp : NULL,
		.totp_len = in.has_totp ? 6 : 0,
		.now = (int64_t)time(NULL),
	};
	struct session_opened out;
	enum amana_err err = svc_session_open(k->r, &who, &req, &out);
	crypto_wipe(&in, sizeof(in));
	if (err == AMANA_ERR_DENIED)
		return send_error(k, MHD_HTTP_UNAUTHORIZED, "unauthorized",
				  "wrong login, password or code, or the account is locked");
	if (err)
		return send_err(k, err, "the session could not be opened");
	enum MHD_Result rc = send_json(k, MHD_HTTP_CREATED,
				       json_pack("{s:s, s:I, s:s}", "token", out.token, "expires_at",
						 (json_int_t)out.expires_at, "role", role_name(out.role)));
	crypto_wipe(&out, sizeof(out));
	return rc;
}

static enum MHD_Result sessions_delete(struct call *k)
{
	struct session_principal sp;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, NULL, &rc))
		return rc;
	size_t len = 0;
	const char *token = bearer(k->c, &len);
	enum amana_err err = svc_session_close(k->r, token, len);
	crypto_wipe(&sp, sizeof(sp));
	if (err)
		return send_err(k, err, "the session could not be closed");
	return send_json(k, MHD_HTTP_NO_CONTENT, NULL);
}

static enum MHD_Result me_get(struct call *k)
{
	struct session_principal sp;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, NULL, &rc))
		return rc;
	json_t *employers = json_array();
	for (unsigned i = 0; i < sp.n_employers; i++) {
		char aff[16];
		snprintf(aff, sizeof(aff), "%07u", sp.employers[i]);
		json_array_append_new(employers, json_string(aff));
	}
	char reg[16] = "";
	if (sp.person)
		snprintf(reg, sizeof(reg), "%09u", sp.person);
	json_t *me = json_pack("{s:I, s:s, s:I, s:o}", "account", (json_int_t)sp.account_id, "role", role_name(sp.role),
			       "expires_at", (json_int_t)sp.expires_at, "employers", employers);
	if (me && sp.person)
		json_object_set_new(me, "person", json_string(reg));
	crypto_wipe(&sp, sizeof(sp));
	return send_json(k, MHD_HTTP_OK, me);
}

/* YYYYMMDD as "YYYY-MM-DD", or JSON null for 0. */
static json_t *json_date(uint32_t d)
{
	if (!d)
		return json_null();
	char s[16];
	snprintf(s, sizeof(s), "%04u-%02u-%02u", d / 10000, d / 100 % 100, d % 100);
	return json_string(s);
}

static json_t *json_period(uint32_t p)
{
	if (!p)
		return json_null();
	char s[16];
	snprintf(s, sizeof(s), "%06u", p);
	return json_string(s);
}

/* An X-Purpose header: printable ASCII (it is sealed into the audit
 * entry and shown back to the person read). NULL or valid: true. */
static bool purpose_ok(const char *p)
{
	for (; p && *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return false;
	return true;
}

static enum MHD_Result bad_purpose(struct call *k)
{
	return send_error(k, MHD_HTTP_BAD_REQUEST, "bad request",
			  "X-Purpose is printable ASCII, at most 200 bytes (a case id)");
}

static enum MHD_Result person_get(struct call *k)
{
	struct session_principal sp;
	struct principal who;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, &who, &rc))
		return rc;
	uint64_t reg;
	if (!http_decimal(k->param[0], 9, &reg))
		return send_error(k, MHD_HTTP_BAD_REQUEST, "bad request", "a registration number is 9 digits");
	const char *purpose = MHD_lookup_connection_value(k->c, MHD_HEADER_KIND, "X-Purpose");
	if (!purpose_ok(purpose))
		return bad_purpose(k);
	struct person_view v;
	enum amana_err err = svc_person_show(k->r, &who, (uint32_t)reg, purpose, &v);
	if (err == AMANA_ERR_DENIED)
		return send_error(k, MHD_HTTP_FORBIDDEN, "forbidden",
				  "outside this account's scope, without a purpose (X-Purpose: a case id), or the "
				  "account is suspended");
	if (err == AMANA_ERR_LIMIT)
		return send_error(k, MHD_HTTP_TOO_MANY_REQUESTS, "too many requests",
				  "past this account's budget of persons read: it is suspended until a supervisor "
				  "unlocks it");
	if (err == AMANA_ERR_USAGE)
		return send_error(k, MHD_HTTP_BAD_REQUEST, "bad request", "the purpose is at most 200 bytes");
	if (err)
		return send_err(k, err,
				err == AMANA_ERR_NOTFOUND ? "no person with this registration number"
							  : "the person could not be read");
	json_t *jobs = json_array();
	for (unsigned i = 0; i < v.job_count; i++) {
		char aff[16];
		snprintf(aff, sizeof(aff), "%07u", v.jobs[i].affiliation);
		json_array_append_new(jobs, json_pack("{s:s, s:o, s:o}", "affiliation", aff, "start",
						      json_period(v.jobs[i].start_period), "end",
						      json_period(v.jobs[i].end_period)));
	}
	char regs[16];
	snprintf(regs, sizeof(regs), "%09u", v.registration);
	json_t *out =
	    json_pack("{s:s, s:s, s:s, s:o, s:i, s:I, s:o, s:i}", "registration", regs, "cin", v.cin, "name", v.name,
		      "birth_date", json_date(v.birth_date), "children", (int)v.children, "created_at",
		      (json_int_t)v.created_at, "employments", jobs, "employments_total", (int)v.job_total);
	person_view_clear(&v);
	return send_json(k, MHD_HTTP_OK, out);
}

static enum amana_err alert_to_json(void *ctx, const struct alert_view *a)
{
	json_t *list = ctx, *kinds = json_array();
	for (unsigned bit = ALERT_HONEYTOKEN; bit <= ALERT_BUDGET; bit <<= 1)
		if (a->kinds & bit)
			json_array_append_new(kinds, json_string(policy_alert_name((enum policy_alert)bit)));
	char subject[24] = "";
	if (a->subject_kind == 'p')
		snprintf(subject, sizeof(subject), "%09u", a->subject);
	else if (a->subject_kind == 'e')
		snprintf(subject, sizeof(subject), "%07u", a->subject);
	const char *kind = a->subject_kind == 'p' ? "person" : a->subject_kind == 'e' ? "employer" : "none";
	json_t *o = json_pack("{s:I, s:I, s:I, s:s, s:o, s:s, s:s}", "id", (json_int_t)a->id, "at_ms",
			      (json_int_t)a->at_ms, "account", (json_int_t)a->account_id, "principal", a->principal,
			      "kinds", kinds, "reason", a->reason, "subject_kind", kind);
	if (!o)
		return AMANA_ERR_NOMEM;
	if (subject[0])
		json_object_set_new(o, "subject", json_string(subject));
	json_array_append_new(list, o);
	return AMANA_OK;
}

static enum MHD_Result alerts_get(struct call *k)
{
	struct session_principal sp;
	struct principal who;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, &who, &rc))
		return rc;
	uint64_t after, limit;
	if (!query_number(k, "after", 0, &after) || !query_number(k, "limit", 100, &limit) || limit < 1 || limit > 1000)
		return send_error(k, MHD_HTTP_BAD_REQUEST, "bad request",
				  "after is an alert id (default 0), limit 1 to 1000 (default 100)");
	json_t *list = json_array();
	enum amana_err err = svc_alerts(k->r, &who, (int64_t)after, (unsigned)limit, alert_to_json, list);
	if (err) {
		json_decref(list);
		return send_err(k, err,
				err == AMANA_ERR_DENIED ? "alerts are for supervisors and auditors"
							: "the alerts could not be read");
	}
	return send_json(k, MHD_HTTP_OK, json_pack("{s:o}", "alerts", list));
}

static enum MHD_Result unlock_post(struct call *k)
{
	struct session_principal sp;
	struct principal who;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, &who, &rc))
		return rc;
	uint64_t id;
	if (!http_decimal(k->param[0], 0, &id))
		return send_error(k, MHD_HTTP_BAD_REQUEST, "bad request", "a principal is its account number");
	enum amana_err err = svc_principal_unlock(k->r, &who, (int64_t)id);
	if (err)
		return send_err(k, err,
				err == AMANA_ERR_DENIED     ? "a supervisor unlocks another account"
				: err == AMANA_ERR_NOTFOUND ? "no such account"
							    : "the account could not be unlocked");
	return send_json(k, MHD_HTTP_OK, json_pack("{s:I, s:b}", "account", (json_int_t)id, "suspended", 0));
}

/* A period path segment: YYYYMM. */
static bool param_period(const char *p, uint32_t *out)
{
	uint64_t v;
	if (!http_decimal(p, 6, &v) || v % 100 < 1 || v % 100 > 12 || v / 100 < 1900)
		return false;
	*out = (uint32_t)v;
	return true;
}

static enum MHD_Result me_career_get(struct call *k)
{
	struct session_principal sp;
	struct principal who;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, &who, &rc))
		return rc;
	if (!sp.person)
		return send_error(k, MHD_HTTP_FORBIDDEN, "forbidden", "a career is a citizen account's own");
	struct person_view v;
	enum amana_err err = svc_person_show(k->r, &who, sp.person, NULL, &v);
	if (err)
		return send_err(k, err, "the career could not be read");
	json_t *jobs = json_array();
	for (unsigned i = 0; i < v.job_count; i++) {
		char aff[16];
		snprintf(aff, sizeof(aff), "%07u", v.jobs[i].affiliation);
		json_array_append_new(jobs, json_pack("{s:s, s:o, s:o}", "affiliation", aff, "start",
						      json_period(v.jobs[i].start_period), "end",
						      json_period(v.jobs[i].end_period)));
	}
	char regs[16];
	snprintf(regs, sizeof(regs), "%09u", v.registration);
	json_t *out = json_pack("{s:s, s:o, s:i}", "registration", regs, "employments", jobs, "employments_total",
				(int)v.job_total);
	person_view_clear(&v);
	return send_json(k, MHD_HTTP_OK, out);
}

#define ACCESS_LOG_MAX 1000
struct access_list {
	json_t *list;
	size_t n;
	bool truncated;
};

static enum amana_err access_entry(void *ctx, uint64_t seq, const struct audit_entry *e, const char *purpose)
{
	struct access_list *a = ctx;
	if (a->n == ACCESS_LOG_MAX) { /* the most recent ones: drop the oldest */
		json_array_remove(a->list, 0);
		a->n--;
		a->truncated = true;
	}
	static const char *const outcomes[] = { "allowed", "denied", "failed" };
	const char *outcome = (unsigned)e->outcome < 3 ? outcomes[e->outcome] : "?";
	/* Text of older entries that is not UTF-8 (the CLI took any purpose)
	 * shows as "?" rather than failing the whole history. */
	json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)seq, "time_ms",
			      (json_int_t)e->time_ms, "principal", e->principal, "role", e->role, "action", e->action,
			      "outcome", outcome, "reason", e->reason, "purpose", purpose ? purpose : "");
	if (!o)
		o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)seq, "time_ms",
			      (json_int_t)e->time_ms, "principal", "?", "role", e->role, "action", e->action, "outcome",
			      outcome, "reason", "?", "purpose", "?");
	if (!o)
		return AMANA_ERR_NOMEM;
	json_array_append_new(a->list, o);
	a->n++;
	return AMANA_OK;
}

/* ---- rights (issue 6) ---- */

/* The date of a claim: ?at=YYYY-MM-DD, or today (UTC) without it. */
static bool query_date(struct call *k, uint32_t *out)
{
	const char *v = MHD_lookup_connection_value(k->c, MHD_GET_ARGUMENT_KIND, "at");
	if (!v) {
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		*out = (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
		return true;
	}
	if (strlen(v) != 10 || v[4] != '-' || v[7] != '-')
		return false;
	char digits[9] = { v[0], v[1], v[2], v[3], v[5], v[6], v[8], v[9], 0 };
	uint64_t d;
	if (!http_decimal(digits, 8, &d) || !date_valid((uint32_t)d))
		return false;
	*out = (uint32_t)d;
	return true;
}

static json_t *json_right(const struct right_result *x)
{
	static const char *const units[] = { "none", "month", "day", "once" };
	return json_pack("{s:b, s:I, s:s, s:i, s:I, s:s, s:s, s:I, s:I, s:I, s:I}", "eligible", x->eligible, "amount",
			 (json_int_t)x->amount, "unit", (unsigned)x->unit < 4 ? units[x->unit] : "none", "periods",
			 (int)x->periods, "total", (json_int_t)x->total, "rule", x->rule ? x->rule : "", "reason",
			 x->reason, "days_found", (json_int_t)x->days_found, "days_needed", (json_int_t)x->days_needed,
			 "reference", (json_int_t)x->reference, "rate_ppm", (json_int_t)x->rate);
}

/* A read of one person's rights refused or failed: the answer. */
static enum MHD_Result person_read_failed(struct call *k, enum amana_err err)
{
	if (err == AMANA_ERR_DENIED)
		return send_error(k, MHD_HTTP_FORBIDDEN, "forbidden",
				  "outside this account's scope, without a purpose (X-Purpose: a case id), or the "
				  "account is suspended");
	if (err == AMANA_ERR_LIMIT)
		return send_error(k, MHD_HTTP_TOO_MANY_REQUESTS, "too many requests",
				  "past this account's budget of persons read: it is suspended until a supervisor "
				  "unlocks it");
	return send_err(k, err,
			err == AMANA_ERR_NOTFOUND ? "no such person, or no birth date known for a pension"
			: err == AMANA_ERR_USAGE  ? "the purpose is at most 200 bytes, the date a real day"
						  : "the rights could not be computed");
}

static enum MHD_Result send_rights(struct call *k, struct rights_view *v)
{
	char regs[16];
	snprintf(regs, sizeof(regs), "%09u", v->registration);
	json_t *rights =
	    json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "pension", json_right(&v->pension), "family_allowance",
		      json_right(&v->family_allowance), "sickness", json_right(&v->sickness), "maternity",
		      json_right(&v->maternity), "amo", json_right(&v->amo), "job_loss", json_right(&v->job_loss));
	json_t *out =
	    json_pack("{s:s, s:o, s:o, s:i, s:I, s:i, s:o}", "registration", regs, "at", json_date(v->at), "birth_date",
		      json_date(v->birth_date), "children", (int)v->children, "total_days", (json_int_t)v->total_days,
		      "months_with_salary", (int)v->months_with_salary, "rights", rights);
	crypto_wipe(v, sizeof(*v));
	return send_json(k, MHD_HTTP_OK, out);
}

/* GET /v1/me/rights[?at=YYYY-MM-DD]: a citizen's own rights. */
static enum MHD_Result me_rights_get(struct call *k)
{
	struct session_principal sp;
	struct principal who;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, &who, &rc))
		return rc;
	if (!sp.person)
		return send_error(k, MHD_HTTP_FORBIDDEN, "forbidden", "rights are a citizen account's own");
	uint32_t at;
	if (!query_date(k, &at))
		return send_error(k, MHD_HTTP_BAD_REQUEST, "bad request", "at is a date YYYY-MM-DD");
	struct rights_view v;
	enum amana_err err = svc_rights(k->r, &who, sp.person, at, NULL, &v);
	return err ? person_read_failed(k, err) : send_rights(k, &v);
}

/* GET /v1/me/pension[?at=YYYY-MM-DD]: a citizen's own pension claimed at a date. */
static enum MHD_Result me_pension_get(struct call *k)
{
	struct session_principal sp;
	struct principal who;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, &who, &rc))
		return rc;
	if (!sp.person)
		return send_error(k, MHD_HTTP_FORBIDDEN, "forbidden", "a pension is a citizen account's own");
	uint32_t at;
	if (!query_date(k, &at))
		return send_error(k, MHD_HTTP_BAD_REQUEST, "bad request", "at is a date YYYY-MM-DD");
	struct pension_view v;
	enum amana_err err = svc_pension(k->r, &who, sp.person, at, NULL, &v);
	if (err)
		return person_read_failed(k, err);
	char regs[16];
	snprintf(regs, sizeof(regs), "%09u", v.registration);
	json_t *out = json_pack("{s:s, s:o, s:o, s:I, s:o}", "registration", regs, "at", json_date(v.at), "birth_date",
				json_date(v.birth_date), "total_days", (json_int_t)v.total_days, "pension",
				json_right(&v.pension));
	crypto_wipe(&v, sizeof(v));
	return send_json(k, MHD_HTTP_OK, out);
}

/* GET /v1/persons/{reg}/rights[?at=]: staff, with X-Purpose. */
static enum MHD_Result person_rights_get(struct call *k)
{
	struct session_principal sp;
	struct principal who;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, &who, &rc))
		return rc;
	uint64_t reg;
	if (!http_decimal(k->param[0], 9, &reg))
		return send_error(k, MHD_HTTP_BAD_REQUEST, "bad request", "a registration number is 9 digits");
	const char *purpose = MHD_lookup_connection_value(k->c, MHD_HEADER_KIND, "X-Purpose");
	if (!purpose_ok(purpose))
		return bad_purpose(k);
	uint32_t at;
	if (!query_date(k, &at))
		return send_error(k, MHD_HTTP_BAD_REQUEST, "bad request", "at is a date YYYY-MM-DD");
	struct rights_view v;
	enum amana_err err = svc_rights(k->r, &who, (uint32_t)reg, at, purpose, &v);
	return err ? person_read_failed(k, err) : send_rights(k, &v);
}

static enum MHD_Result me_access_log_get(struct call *k)
{
	struct session_principal sp;
	struct principal who;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, &who, &rc))
		return rc;
	struct access_list a = { json_array(), 0, false };
	enum amana_err err = svc_access_log(k->r, &who, access_entry, &a);
	if (err) {
		json_decref(a.list);
		return send_err(k, err,
				err == AMANA_ERR_DENIED ? "the access history is a citizen account's own"
							: "the access history could not be read");
	}
	return send_json(k, MHD_HTTP_OK, json_pack("{s:o, s:b}", "entries", a.list, "truncated", a.truncated));
}

/* The employer and period of /v1/employers/{aff}/.../{period}, and the
 * caller's purpose (X-Purpose, for an agent). */
static bool employer_period(struct call *k, uint32_t *aff, uint32_t *period, enum MHD_Result *rc)
{
	uint64_t a;
	if (!http_decimal(k->param[0], 7, &a) || !param_period(k->param[1], period)) {
		*rc = send_error(k, MHD_HTTP_BAD_REQUEST, "bad request",
				 "an affiliation number is 7 digits, a period YYYYMM");
		return false;
	}
	*aff = (uint32_t)a;
	return true;
}

static enum MHD_Result contributions_get(struct call *k)
{
	struct session_principal sp;
	struct principal who;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, &who, &rc))
		return rc;
	uint32_t aff, period;
	if (!employer_period(k, &aff, &period, &rc))
		return rc;
	who.purpose = MHD_lookup_connection_value(k->c, MHD_HEADER_KIND, "X-Purpose");
	if (!purpose_ok(who.purpose))
		return bad_purpose(k);
	struct contributions_view v;
	enum amana_err err = svc_contributions(k->r, &who, aff, period, &v);
	if (err)
		return send_err(k, err,
				err == AMANA_ERR_DENIED     ? "outside this account's employers, or without a purpose"
				: err == AMANA_ERR_NOTFOUND ? "no declaration of this employer for this period"
							    : "the contributions could not be computed");
	json_t *branches = json_array();
	for (int i = 0; i < BRANCH_COUNT; i++) {
		const struct contribution_line *b = &v.c.branches[i];
		json_array_append_new(branches,
				      json_pack("{s:s, s:I, s:I, s:I}", "branch", branch_name(b->branch), "base",
						(json_int_t)b->base, "employer", (json_int_t)b->employer, "employee",
						(json_int_t)b->employee));
	}
	char affs[16], per[16];
	snprintf(affs, sizeof(affs), "%07u", aff);
	snprintf(per, sizeof(per), "%06u", period);
	json_t *out =
	    json_pack("{s:s, s:s, s:I, s:i, s:I, s:I, s:o, s:I, s:I, s:s}", "affiliation", affs, "period", per,
		      "employees", (json_int_t)v.employees, "declarations", (int)v.declarations, "real_salaries",
		      (json_int_t)v.c.real_salaries, "capped_salaries", (json_int_t)v.c.capped_salaries, "branches",
		      branches, "total_employer", (json_int_t)v.c.total_employer, "total_employee",
		      (json_int_t)v.c.total_employee, "unit", "centimes");
	crypto_wipe(&v, sizeof(v));
	return send_json(k, MHD_HTTP_OK, out);
}

static enum MHD_Result prefilled_get(struct call *k)
{
	struct session_principal sp;
	struct principal who;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, &who, &rc))
		return rc;
	uint32_t aff, period;
	if (!employer_period(k, &aff, &period, &rc))
		return rc;
	who.purpose = MHD_lookup_connection_value(k->c, MHD_HEADER_KIND, "X-Purpose");
	if (!purpose_ok(who.purpose))
		return bad_purpose(k);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return send_err(k, AMANA_ERR_NOMEM, "out of memory");
	unsigned persons = 0;
	enum amana_err err = svc_prefill(k->r, &who, aff, period, f, &persons);
	if (fclose(f) != 0 && !err)
		err = AMANA_ERR_NOMEM;
	if (err) {
		if (text)
			crypto_wipe(text, len);
		free(text);
		return send_err(k, err,
				err == AMANA_ERR_DENIED  ? "outside this account's employers, or without a purpose"
				: err == AMANA_ERR_LIMIT ? "past this account's budget of documents: suspended until "
							   "a supervisor unlocks it"
				: err == AMANA_ERR_NOTFOUND ? "no such employer"
							    : "the pre-filled list could not be written");
	}
	enum MHD_Result r = send_text(k, MHD_HTTP_OK, "text/plain; charset=us-ascii", text, len);
	free(text);
	return r;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static json_t *head_json(const struct audit_head_view *h)
{
	char root[2 * MERKLE_HASH_BYTES + 1], sig[2 * AUDIT_SIGNATURE_BYTES + 1], pk[2 * AUDIT_PUBLIC_KEY_BYTES + 1];
	hex(h->head.root, MERKLE_HASH_BYTES, root);
	hex(h->head.signature, AUDIT_SIGNATURE_BYTES, sig);
	hex(h->public_key, AUDIT_PUBLIC_KEY_BYTES, pk);
	return json_pack("{s:I, s:I, s:s, s:s, s:s}", "tree_size", (json_int_t)h->head.size, "timestamp_ms",
			 (json_int_t)h->head.time_ms, "root_hash", root, "signature", sig, "public_key", pk);
}

static enum amana_err declaration_to_json(void *ctx, const struct declaration_view *d)
{
	char digest[65];
	hex(d->digest, sizeof(d->digest), digest);
	json_t *o = json_pack("{s:i, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I}", "seq", (int)d->seq, "imported_at",
			      (json_int_t)d->imported_at, "lines", (json_int_t)d->lines, "sha256", digest, "employees",
			      (json_int_t)d->employees, "days", (json_int_t)d->days, "real_salaries",
			      (json_int_t)d->real_salaries, "capped_salaries", (json_int_t)d->capped_salaries,
			      "family_allowances", (json_int_t)d->family_allowances);
	if (!o)
		return AMANA_ERR_NOMEM;
	json_array_append_new(ctx, o);
	return AMANA_OK;
}

static enum MHD_Result declarations_get(struct call *k)
{
	struct session_principal sp;
	struct principal who;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, &who, &rc))
		return rc;
	uint32_t aff, period;
	if (!employer_period(k, &aff, &period, &rc))
		return rc;
	who.purpose = MHD_lookup_connection_value(k->c, MHD_HEADER_KIND, "X-Purpose");
	if (!purpose_ok(who.purpose))
		return bad_purpose(k);
	json_t *list = json_array();
	enum amana_err err = svc_declarations(k->r, &who, aff, period, declaration_to_json, list);
	if (err) {
		json_decref(list);
		return send_err(k, err,
				err == AMANA_ERR_DENIED     ? "outside this account's employers, or without a purpose"
				: err == AMANA_ERR_NOTFOUND ? "no declaration of this employer for this period"
							    : "the declarations could not be read");
	}
	char affs[16], per[16];
	snprintf(affs, sizeof(affs), "%07u", aff);
	snprintf(per, sizeof(per), "%06u", period);
	return send_json(k, MHD_HTTP_OK,
			 json_pack("{s:s, s:s, s:o, s:s}", "affiliation", affs, "period", per, "declarations", list,
				   "unit", "centimes"));
}

static enum amana_err employee_to_json(void *ctx, const struct employee_view *e)
{
	char reg[16];
	snprintf(reg, sizeof(reg), "%09u", e->registration);
	json_t *o = json_pack("{s:s, s:s, s:i}", "registration", reg, "name", e->name, "children", (int)e->children);
	if (!o)
		return AMANA_ERR_NOMEM;
	json_array_append_new(ctx, o);
	return AMANA_OK;
}

static enum MHD_Result employees_get(struct call *k)
{
	struct session_principal sp;
	struct principal who;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, &who, &rc))
		return rc;
	uint64_t aff;
	if (!http_decimal(k->param[0], 7, &aff))
		return send_error(k, MHD_HTTP_BAD_REQUEST, "bad request", "an affiliation number is 7 digits");
	who.purpose = MHD_lookup_connection_value(k->c, MHD_HEADER_KIND, "X-Purpose");
	if (!purpose_ok(who.purpose))
		return bad_purpose(k);
	json_t *list = json_array();
	uint32_t from = 0;
	enum amana_err err = svc_employees(k->r, &who, (uint32_t)aff, employee_to_json, list, &from);
	if (err) {
		json_decref(list);
		return send_err(k, err,
				err == AMANA_ERR_DENIED  ? "outside this account's employers, or without a purpose"
				: err == AMANA_ERR_LIMIT ? "past this account's budget of documents: suspended until "
							   "a supervisor unlocks it"
				: err == AMANA_ERR_NOTFOUND ? "no such employer"
							    : "the employees could not be read");
	}
	char affs[16];
	snprintf(affs, sizeof(affs), "%07u", (unsigned)aff);
	json_t *out =
	    json_pack("{s:s, s:o, s:o}", "affiliation", affs, "as_of_period", json_period(from), "employees", list);
	return send_json(k, MHD_HTTP_OK, out);
}

static enum MHD_Result audit_sth_get(struct call *k)
{
	struct session_principal sp;
	struct principal who;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, &who, &rc))
		return rc;
	struct audit_head_view h;
	enum amana_err err = svc_audit_head(k->r, &who, &h);
	if (err)
		return send_err(k, err, err == AMANA_ERR_DENIED ? "the audit log is for auditors" : "no signed head");
	return send_json(k, MHD_HTTP_OK, head_json(&h));
}

static enum MHD_Result audit_proof_get(struct call *k)
{
	struct session_principal sp;
	struct principal who;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, &who, &rc))
		return rc;
	uint64_t seq;
	if (!http_decimal(k->param[0], 0, &seq))
		return send_error(k, MHD_HTTP_BAD_REQUEST, "bad request", "an entry's sequence number, from 0");
	struct audit_proof_view *p = malloc(sizeof(*p));
	if (!p)
		return send_err(k, AMANA_ERR_NOMEM, "out of memory");
	enum amana_err err = svc_audit_prove(k->r, &who, seq, p);
	if (err) {
		free(p);
		return send_err(k, err,
				err == AMANA_ERR_DENIED ? "the audit log is for auditors"
							: "no such entry under the latest signed head");
	}
	json_t *path = json_array();
	for (size_t i = 0; i < p->path_len; i++) {
		char h[2 * MERKLE_HASH_BYTES + 1];
		hex(p->path[i], MERKLE_HASH_BYTES, h);
		json_array_append_new(path, json_string(h));
	}
	char leaf[2 * MERKLE_HASH_BYTES + 1];
	hex(p->leaf_hash, MERKLE_HASH_BYTES, leaf);
	json_t *out = json_pack("{s:I, s:s, s:o, s:o}", "leaf_index", (json_int_t)p->leaf_index, "leaf_hash", leaf,
				"path", path, "head", head_json(&p->head));
	crypto_wipe(p, sizeof(*p));
	free(p);
	return send_json(k, MHD_HTTP_OK, out);
}

static enum MHD_Result audit_entries_get(struct call *k)
{
	struct session_principal sp;
	struct principal who;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, &who, &rc))
		return rc;
	struct audit_query q = { .registration = 0 };
	uint64_t person = 0, employer = 0, since = 0, until = 0;
	if (!query_number(k, "person", 0, &person) || !query_number(k, "employer", 0, &employer) ||
	    !query_number(k, "since_ms", 0, &since) || !query_number(k, "until_ms", 0, &until) || person > 999999999 ||
	    employer > 9999999)
		return send_error(k, MHD_HTTP_BAD_REQUEST, "bad request",
				  "filters: person (9 digits), employer (7 digits), principal, since_ms, until_ms");
	q.registration = (uint32_t)person;
	q.affiliation = (uint32_t)employer;
	q.principal = MHD_lookup_connection_value(k->c, MHD_GET_ARGUMENT_KIND, "principal");
	q.since_ms = (int64_t)since;
	q.until_ms = (int64_t)until;
	struct access_list a = { json_array(), 0, false };
	enum amana_err err = svc_audit_query(k->r, &who, &q, access_entry, &a);
	if (err) {
		json_decref(a.list);
		return send_err(k, err,
				err == AMANA_ERR_DENIED     ? "the audit log is for auditors"
				: err == AMANA_ERR_NOTFOUND ? "no such person or employer"
							    : "the audit log could not be read");
	}
	return send_json(k, MHD_HTTP_OK,
			 json_pack("{s:o, s:I, s:b}", "entries", a.list, "matched", (json_int_t)q.matched, "truncated",
				   a.truncated));
}

/* What the import said of the one file uploaded. */
struct upload_result {
	bool reported;
	enum amana_err err;
	uint32_t period;
	unsigned seq;
	int64_t lines, hires, new_persons, leavers;
	json_t *errors;
	unsigned errors_total;
};

static void upload_report(void *ctx, const struct import_file_result *res)
{
	struct upload_result *u = ctx;
	u->reported = true;
	u->err = res->err;
	u->period = res->period;
	u->seq = res->seq;
	u->lines = res->lines;
	u->hires = res->hires;
	u->new_persons = res->new_persons;
	u->leavers = res->leavers;
	if (res->err != AMANA_ERR_INPUT || !res->errors)
		return;
	u->errors_total = ebds_errors_total(res->errors);
	for (unsigned i = 0; i < res->errors->count; i++) {
		const struct ebds_error *e = &res->errors->list[i];
		json_t *o = json_pack("{s:i, s:i, s:s, s:s, s:s}", "line", (int)e->line, "column", (int)e->column,
				      "field", e->field, "expected", e->expected, "found", e->found);
		if (o)
			json_array_append_new(u->errors, o);
	}
}

/* POST /v1/employers/{aff}/declarations: the body is one e-BDS file
 * (B or E records), checked and written all or nothing by the import
 * (every rule of amana import), for the employer of the path only. The
 * body reaches the import through an anonymous memory file: it never
 * touches a disk. */
static enum MHD_Result declarations_post(struct call *k)
{
	struct session_principal sp;
	struct principal who;
	enum MHD_Result rc;
	if (!authenticated(k, &sp, &who, &rc))
		return rc;
	uint64_t aff;
	if (!http_decimal(k->param[0], 7, &aff))
		return send_error(k, MHD_HTTP_BAD_REQUEST, "bad request", "an affiliation number is 7 digits");
	if (k->up->forbidden) {
		/* Refused at the headers, its body dropped: the refusal is
		 * still the service's to decide and to log. */
		struct import_options none = { .only_affiliation = (uint32_t)aff };
		struct import_summary sum;
		enum amana_err err = svc_import(k->r, &who, NULL, 0, &none, &sum);
		(void)err; /* refused whatever it says: the headers already did */
		return send_error(k, MHD_HTTP_FORBIDDEN, "forbidden",
				  "an employer account sends its own employers' declarations");
	}
	int fd = k->up->fd;
	if (k->up->len == 0 || fd < 0)
		return send_error(k, MHD_HTTP_BAD_REQUEST, "bad request", "the body is an e-BDS declaration file");
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	const char *paths[1] = { path };
	struct upload_result u = { .errors = json_array() };
	struct import_options opt = { .report = upload_report, .ctx = &u, .only_affiliation = (uint32_t)aff };
	struct import_summary sum;
	enum amana_err err = svc_import(k->r, &who, paths, 1, &opt, &sum);
	upload_release(k->s, k->up); /* the pages go back now */
	char affs[16], per[16];
	snprintf(affs, sizeof(affs), "%07u", (unsigned)aff);
	snprintf(per, sizeof(per), "%06u", u.period);
	if (err == AMANA_ERR_INPUT && u.reported)
		return send_json(k, MHD_HTTP_UNPROCESSABLE_CONTENT,
				 json_pack("{s:s, s:s, s:o, s:i}", "error", "input rejected", "detail",
					   "the declaration was rejected; nothing of it was written", "errors",
					   u.errors, "errors_total", (int)u.errors_total));
	json_decref(u.errors);
	if (err)
		return send_err(k, err,
				err == AMANA_ERR_DENIED ? "an employer account sends its own employers' declarations"
				: err == AMANA_ERR_NOTFOUND ? "no such employer"
							    : "the declaration could not be imported");
	return send_json(k, MHD_HTTP_CREATED,
			 json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I}", "affiliation", affs, "period", per, "seq",
				   (int)u.seq, "lines", (json_int_t)u.lines, "hires", (json_int_t)u.hires,
				   "new_persons", (json_int_t)u.new_persons, "leavers", (json_int_t)u.leavers));
}

static enum MHD_Result healthz_get(struct call *k)
{
	return send_json(k, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
}

static enum MHD_Result metrics_get(struct call *k);

const struct http_route http_routes[] = {
	{ "GET", "/healthz" },
	{ "GET", "/metrics" },
	{ "POST", "/v1/sessions" },
	{ "DELETE", "/v1/sessions/current" },
	{ "GET", "/v1/me" },
	{ "GET", "/v1/me/career" },
	{ "GET", "/v1/me/access-log" },
	{ "GET", "/v1/persons/{reg}" },
	{ "POST", "/v1/employers/{aff}/declarations" },
	{ "GET", "/v1/employers/{aff}/declarations/{period}" },
	{ "GET", "/v1/employers/{aff}/employees" },
	{ "GET", "/v1/employers/{aff}/contributions/{period}" },
	{ "GET", "/v1/employers/{aff}/prefilled/{period}" },
	{ "GET", "/v1/alerts" },
	{ "POST", "/v1/principals/{id}/unlock" },
	{ "GET", "/v1/audit/sth" },
	{ "GET", "/v1/audit/proof/{seq}" },
	{ "GET", "/v1/audit/entries" },
	{ "GET", "/v1/me/rights" },
	{ "GET", "/v1/me/pension" },
	{ "GET", "/v1/persons/{reg}/rights" },
};

typedef enum MHD_Result (*route_fn)(struct call *k);
static const route_fn handlers[] = {
	healthz_get,       metrics_get,    sessions_post,     sessions_delete,  me_get,          me_career_get,
	me_access_log_get, person_get,     declarations_post, declarations_get, employees_get,   contributions_get,
	prefilled_get,     alerts_get,     unlock_post,       audit_sth_get,    audit_proof_get, audit_entries_get,
	me_rights_get,     me_pension_get, person_rights_get,
};
_Static_assert(sizeof(handlers) / sizeof(handlers[0]) == HTTP_ROUTE_COUNT, "a handler per route");
_Static_assert(sizeof(http_routes) / sizeof(http_routes[0]) == HTTP_ROUTE_COUNT, "HTTP_ROUTE_COUNT routes");

/* Prometheus text format: requests by route and status, and the
 * server's workers. Counts only: no personal data. */
static enum MHD_Result metrics_get(struct call *k)
{
	size_t cap = 256 + (HTTP_ROUTE_COUNT + 1) * STATUS_COUNT * 128, n = 0;
	char *text = malloc(cap);
	if (!text)
		return MHD_NO;
	n += (size_t)snprintf(text + n, cap - n,
			      "# HELP amanad_requests_total Requests answered, by route and status.\n"
			      "# TYPE amanad_requests_total counter\n");
	for (size_t r = 0; r <= HTTP_ROUTE_COUNT; r++)
		for (size_t i = 0; i < STATUS_COUNT; i++) {
			uint64_t v = atomic_load_explicit(&k->s->answered[r][i], memory_order_relaxed);
			if (!v)
				continue;
			n += (size_t)snprintf(text + n, cap - n,
					      "amanad_requests_total{route=\"%s %s\",code=\"%u\"} %llu\n",
					      r < HTTP_ROUTE_COUNT ? http_routes[r].method : "",
					      r < HTTP_ROUTE_COUNT ? http_routes[r].path : "unrouted", statuses[i],
					      (unsigned long long)v);
		}
	pthread_mutex_lock(&k->s->workers_lock);
	unsigned workers = k->s->n_workers;
	pthread_mutex_unlock(&k->s->workers_lock);
	pthread_mutex_lock(&k->s->wait_lock);
	size_t held = k->s->ring_len;
	pthread_mutex_unlock(&k->s->wait_lock);
	n += (size_t)snprintf(
	    text + n, cap - n,
	    "# HELP amanad_workers Server threads with their own store connection.\n"
	    "# TYPE amanad_workers gauge\namanad_workers %u\n"
	    "# HELP amanad_worker_failures_total Store connections a worker could not open.\n"
	    "# TYPE amanad_worker_failures_total counter\namanad_worker_failures_total %llu\n"
	    "# HELP amanad_held_answers Answers written, waiting for their audit entry to be durable.\n"
	    "# TYPE amanad_held_answers gauge\namanad_held_answers %zu\n",
	    workers, (unsigned long long)atomic_load_explicit(&k->s->worker_failures, memory_order_relaxed), held);
	if (n >= cap)
		n = cap - 1;
	enum MHD_Result rc = send_text(k, MHD_HTTP_OK, "text/plain; version=0.0.4", text, n);
	free(text);
	return rc;
}

/* This thread's registry: made on its first request. */
static struct registry *worker(struct http_server *s)
{
	struct registry *w = pthread_getspecific(s->worker_key);
	if (w)
		return w;
	pthread_mutex_lock(&s->workers_lock);
	if (s->n_workers < HTTP_THREADS_MAX && registry_worker_open(s->r, &w) == AMANA_OK) {
		s->workers[s->n_workers++] = w;
		pthread_setspecific(s->worker_key, w);
	} else {
		w = NULL;
		atomic_fetch_add_explicit(&s->worker_failures, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&s->workers_lock);
	return w;
}

/* Give back a declaration body: its memory file and its share of
 * HTTP_UPLOADS_TOTAL_MAX. */
static void upload_release(struct http_server *s, struct upload *up)
{
	if (up->fd >= 0) {
		if (ftruncate(up->fd, 0) != 0) { /* the pages go back now; close does it otherwise */
		}
		close(up->fd);
		up->fd = -1;
	}
	atomic_fetch_sub(&s->upload_bytes, up->counted);
	up->counted = 0;
}

/* A chunk of a declaration's body: to its memory file, within the limits. */
static bool upload_take(struct http_server *s, struct upload *up, const char *data, size_t n)
{
	if (up->unauthorized || up->forbidden || up->unavailable) {
		/* read and dropped, the answer known; past the limit the
		 * connection is closed rather than read on */
		up->dropped += n;
		return up->dropped <= up->limit;
	}
	if (up->too_large || up->server_full)
		return true; /* read and dropped: the answer is already known */
	if (up->len + n > up->limit) {
		up->too_large = true;
		upload_release(s, up);
		return true;
	}
	if (atomic_fetch_add(&s->upload_bytes, n) + n > HTTP_UPLOADS_TOTAL_MAX) {
		atomic_fetch_sub(&s->upload_bytes, n);
		up->server_full = true;
		upload_release(s, up);
		return true;
	}
	up->counted += n;
	if (up->fd < 0 && (up->fd = memfd_create("amana-declaration", MFD_CLOEXEC)) < 0)
		return false;
	for (size_t off = 0; off < n;) {
		ssize_t w = write(up->fd, data + off, n - off);
		if (w <= 0)
			return false;
		off += (size_t)w;
	}
	up->len += n;
	return true;
}

/* Does path match the route's template? Its {…} segments into k->param. */
static bool match(const char *tmpl, const char *path, struct call *k)
{
	size_t n;
	return http_path_match(tmpl, path, k->param, &n);
}

static enum MHD_Result route(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			     const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	(void)version;
	struct http_server *s = cls;
	struct upload *up = *con_cls;
	if (!up) {
		up = calloc(1, sizeof(*up));
		if (!up)
			return MHD_NO;
		up->fd = -1;
		*con_cls = up;
		/* a declaration file may be large; every other body is small */
		struct call probe = { .s = s, .c = c };
		up->declaration = !strcmp(method, "POST") && match("/v1/employers/{aff}/declarations", url, &probe);
		up->limit = up->declaration ? HTTP_UPLOAD_MAX : HTTP_BODY_MAX;
		if (up->declaration) {
			/* Megabytes are taken only from a valid session of an
			 * employer account for the employer of the path: the
			 * handler checks it again, with the policy. */
			size_t len = 0;
			const char *token = bearer(c, &len);
			struct session_principal sp;
			memset(&sp, 0, sizeof(sp));
			struct registry *w = worker(s);
			enum amana_err e = !w       ? AMANA_ERR_STORE
					   : !token ? AMANA_ERR_DENIED
						    : svc_session_check(w, token, len, (int64_t)time(NULL), &sp);
			uint64_t aff = 0;
			bool own = false;
			if (!e && sp.role == ROLE_EMPLOYER && http_decimal(probe.param[0], 7, &aff))
				for (unsigned i = 0; i < sp.n_employers && i < 32; i++)
					own |= sp.employers[i] == aff;
			up->unauthorized = e == AMANA_ERR_DENIED;
			up->unavailable = e && e != AMANA_ERR_DENIED;
			up->forbidden = !e && !own;
			crypto_wipe(&sp, sizeof(sp));
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (up->declaration) {
			if (!upload_take(s, up, upload_data, *upload_data_size))
				return MHD_NO;
		} else if (!up->too_large && up->len + *upload_data_size <= up->limit) {
			char *n = realloc(up->data, up->len + *upload_data_size);
			if (!n)
				return MHD_NO;
			up->data = n;
			memcpy(up->data + up->len, upload_data, *upload_data_size);
			up->len += *upload_data_size;
		} else {
			up->too_large = true;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	struct call k = { .s = s, .c = c, .up = up, .route = HTTP_ROUTE_COUNT };
	if (up->holding) { /* resumed: the entry is durable, or could not be made so */
		struct held_request *h = &up->held;
		up->holding = false;
		up->ticket = 0;
		k.route = h->route;
		if (!h->durable) {
			MHD_destroy_response(h->resp);
			h->resp = NULL;
			return audit_failed(&k);
		}
		count(&k, h->status);
		enum MHD_Result rc = MHD_queue_response(c, h->status, h->resp);
		MHD_destroy_response(h->resp);
		h->resp = NULL;
		return rc;
	}
	if (up->unavailable)
		return send_error(&k, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
				  "the session could not be checked; try again");
	if (up->unauthorized)
		return send_error(&k, MHD_HTTP_UNAUTHORIZED, "unauthorized",
				  "a valid session token is needed (Authorization: Bearer TOKEN; POST /v1/sessions)");
	if (up->server_full)
		return send_error(&k, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
				  "the server is receiving as many declarations as it can hold; send again shortly");
	if (up->too_large)
		return send_error(&k, MHD_HTTP_CONTENT_TOO_LARGE, "too large",
				  up->limit == HTTP_UPLOAD_MAX ? "a declaration file is at most 64 MiB"
							       : "the request body is over 64 KiB");
	bool known_path = false;
	for (size_t i = 0; i < HTTP_ROUTE_COUNT; i++) {
		if (!match(http_routes[i].path, url, &k))
			continue;
		known_path = true;
		if (strcmp(method, http_routes[i].method) != 0)
			continue;
		k.route = i;
		if (!(k.r = worker(s)))
			return send_error(&k, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
					  "the registry cannot be reached; try again");
		/* The calls queue their audit entries; the response waits
		 * for them (send_text), not the thread. */
		registry_defer_audit(k.r, &up->ticket);
		enum MHD_Result rc = handlers[i](&k);
		registry_defer_audit(k.r, NULL);
		return rc;
	}
	if (known_path)
		return send_error(&k, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed",
				  "see docs/openapi.yaml for the methods of each route");
	return send_error(&k, MHD_HTTP_NOT_FOUND, "not found", "no such route (docs/openapi.yaml lists them)");
}

static void request_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct upload *up = *con_cls;
	if (up) {
		if (up->held.resp)
			MHD_destroy_response(up->held.resp);
		if (up->data) {
			crypto_wipe(up->data, up->len); /* passwords come in bodies */
			free(up->data);
		}
		upload_release(cls, up);
		free(up);
		*con_cls = NULL;
	}
}

/* Stop holding: on_durable is called no more, later responses wait for
 * their entries on their own threads, and every held connection is
 * resumed once its entry is durable (or the log broke). */
static void stop_holding(struct http_server *s)
{
	registry_on_audit_durable(s->r, NULL, NULL);
	pthread_mutex_lock(&s->wait_lock);
	s->stopping = true;
	pthread_mutex_unlock(&s->wait_lock);
	for (;;) {
		pthread_mutex_lock(&s->wait_lock);
		struct held_request *h = NULL;
		if (s->ring_len > 0) {
			h = s->ring[s->ring_head];
			s->ring_head = (s->ring_head + 1) % RING_CAP;
			s->ring_len--;
		}
		pthread_mutex_unlock(&s->wait_lock);
		if (!h)
			break;
		h->durable = svc_audit_wait(s->r, h->ticket) == AMANA_OK;
		MHD_resume_connection(h->c);
	}
}

enum amana_err http_server_start(struct registry *r, const struct http_options *o, struct http_server **out,
				 uint16_t *bound)
{
	*out = NULL;
	struct sockaddr_in addr;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(o->port);
	if (inet_pton(AF_INET, o->host, &addr.sin_addr) != 1)
		return AMANA_ERR_USAGE;
	if ((ntohl(addr.sin_addr.s_addr) >> 24) != 127)
		return AMANA_ERR_DENIED; /* plain HTTP on loopback only */
	unsigned threads = o->threads ? o->threads : HTTP_THREADS_DEFAULT;
	unsigned per_ip = o->per_ip ? o->per_ip : HTTP_PER_IP_DEFAULT;
	if (threads > HTTP_THREADS_MAX)
		return AMANA_ERR_USAGE;
	struct http_server *s = calloc(1, sizeof(*s));
	if (!s)
		return AMANA_ERR_NOMEM;
	s->r = r;
	if (pthread_key_create(&s->worker_key, NULL) != 0) {
		free(s);
		return AMANA_ERR_NOMEM;
	}
	pthread_mutex_init(&s->workers_lock, NULL);
	pthread_mutex_init(&s->wait_lock, NULL);
	registry_on_audit_durable(r, on_durable, s);
	/* Not MHD_USE_TURBO: it closes a connection without shutdown(SHUT_WR)
	 * first, and a client whose request body was refused unread (401, 413)
	 * may then get a reset instead of its answer. Measured faster (lower
	 * p50 and p99, BENCHMARKS.md), but an error a caller never receives
	 * costs more. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | MHD_ALLOW_SUSPEND_RESUME;
	s->daemon = MHD_start_daemon(
	    flags, o->port, NULL, NULL, route, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
	    MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_SECONDS, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)(32 * 1024), MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, MHD_OPTION_NOTIFY_COMPLETED, request_done,
	    s, MHD_OPTION_END);
	if (!s->daemon) {
		stop_holding(s);
		pthread_mutex_destroy(&s->wait_lock);
		pthread_key_delete(s->worker_key);
		pthread_mutex_destroy(&s->workers_lock);
		free(s);
		return AMANA_ERR_IO;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	*bound = info ? info->port : o->port;
	*out = s;
	return AMANA_OK;
}

void http_server_stop(struct http_server *s)
{
	if (!s)
		return;
	stop_holding(s);
	MHD_stop_daemon(s->daemon);
	pthread_mutex_destroy(&s->wait_lock);
	for (unsigned i = 0; i < s->n_workers; i++)
		registry_worker_close(s->workers[i]);
	pthread_key_delete(s->worker_key);
	pthread_mutex_destroy(&s->workers_lock);
	free(s);
}
