/* server.c - amanad's routes on libmicrohttpd (see server.h). */
#include "server.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "crypto/crypto.h"
#include "request.h"
#include "service/service.h"

struct http_server {
	struct MHD_Daemon *daemon;
	struct registry *r;
};

/* A request's body, gathered as it arrives. */
struct upload {
	char *data;
	size_t len;
	bool too_large;
};

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

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	struct MHD_Response *resp;
	if (text) {
		size_t n = strlen(text);
		resp = MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_COPY);
		crypto_wipe(text, n); /* a token or a scope may be in it */
		free(text);
	} else {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (!resp)
		return MHD_NO;
	static const char *const headers[][2] = {
		{ "Content-Type", "application/json" },
		{ "Cache-Control", "no-store" },
		{ "X-Content-Type-Options", "nosniff" },
		{ "X-Frame-Options", "DENY" },
		{ "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'" },
		{ "Referrer-Policy", "no-referrer" },
	};
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
		MHD_add_response_header(resp, headers[i][0], headers[i][1]);
	enum MHD_Result rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *error, const char *detail)
{
	return send_json(c, status, json_pack("{s:s, s:s}", "error", error, "detail", detail));
}

static enum MHD_Result send_err(struct MHD_Connection *c, enum amana_err err, const char *detail)
{
	return send_error(c, http_status_for(err), amana_strerror(err), detail);
}

/* The caller, for the audit log: its address, and a fresh request id. */
static void caller(struct MHD_Connection *c, struct principal *who, const char *id, enum role role)
{
	memset(who, 0, sizeof(*who));
	snprintf(who->id, sizeof(who->id), "%s", id);
	who->role = role;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
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

/* The session of the request: AMANA_OK and *sp, or the response sent. */
static bool authenticated(struct http_server *s, struct MHD_Connection *c, struct session_principal *sp,
			  enum MHD_Result *rc)
{
	size_t len = 0;
	const char *token = bearer(c, &len);
	enum amana_err err = token ? svc_session_check(s->r, token, len, (int64_t)time(NULL), sp) : AMANA_ERR_DENIED;
	if (err == AMANA_OK)
		return true;
	if (err == AMANA_ERR_DENIED)
		*rc = send_error(c, MHD_HTTP_UNAUTHORIZED, "unauthorized",
				 "a valid session token is needed (Authorization: Bearer TOKEN; POST /v1/sessions)");
	else
		*rc = send_err(c, err, "the session could not be checked");
	return false;
}

static enum MHD_Result sessions_post(struct http_server *s, struct MHD_Connection *c, const struct upload *up)
{
	struct http_login in;
	if (http_login_parse(up->data, up->len, &in) != AMANA_OK)
		return send_error(c, MHD_HTTP_BAD_REQUEST, "bad request",
				  "the body is a JSON object {\"login\", \"password\", \"totp\"}");
	struct principal who;
	caller(c, &who, "http:anonymous", ROLE_CITIZEN);
	struct session_request req = {
		.login = in.login,
		.password = in.password,
		.password_len = in.password_len,
		.totp = in.has_totp ? in.totp : NULL,
		.totp_len = in.has_totp ? 6 : 0,
		.now = (int64_t)time(NULL),
	};
	struct session_opened out;
	enum amana_err err = svc_session_open(s->r, &who, &req, &out);
	crypto_wipe(&in, sizeof(in));
	if (err == AMANA_ERR_DENIED)
		return send_error(c, MHD_HTTP_UNAUTHORIZED, "unauthorized",
				  "wrong login, password or code, or the account is locked");
	if (err)
		return send_err(c, err, "the session could not be opened");
	enum MHD_Result rc = send_json(c, MHD_HTTP_CREATED,
				       json_pack("{s:s, s:I, s:s}", "token", out.token, "expires_at",
						 (json_int_t)out.expires_at, "role", role_name(out.role)));
	crypto_wipe(&out, sizeof(out));
	return rc;
}

static enum MHD_Result sessions_delete(struct http_server *s, struct MHD_Connection *c, const struct upload *up)
{
	(void)up;
	struct session_principal sp;
	enum MHD_Result rc;
	if (!authenticated(s, c, &sp, &rc))
		return rc;
	size_t len = 0;
	const char *token = bearer(c, &len);
	enum amana_err err = svc_session_close(s->r, token, len);
	crypto_wipe(&sp, sizeof(sp));
	if (err)
		return send_err(c, err, "the session could not be closed");
	return send_json(c, MHD_HTTP_NO_CONTENT, NULL);
}

static enum MHD_Result me_get(struct http_server *s, struct MHD_Connection *c, const struct upload *up)
{
	(void)up;
	struct session_principal sp;
	enum MHD_Result rc;
	if (!authenticated(s, c, &sp, &rc))
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
	return send_json(c, MHD_HTTP_OK, me);
}

static enum MHD_Result healthz_get(struct http_server *s, struct MHD_Connection *c, const struct upload *up)
{
	(void)s;
	(void)up;
	return send_json(c, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
}

const struct http_route http_routes[] = {
	{ "GET", "/healthz" },
	{ "POST", "/v1/sessions" },
	{ "DELETE", "/v1/sessions/current" },
	{ "GET", "/v1/me" },
};

typedef enum MHD_Result (*route_fn)(struct http_server *s, struct MHD_Connection *c, const struct upload *up);
static const route_fn handlers[] = { healthz_get, sessions_post, sessions_delete, me_get };
_Static_assert(sizeof(handlers) / sizeof(handlers[0]) == HTTP_ROUTE_COUNT, "a handler per route");
_Static_assert(sizeof(http_routes) / sizeof(http_routes[0]) == HTTP_ROUTE_COUNT, "HTTP_ROUTE_COUNT routes");

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
		*con_cls = up;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!up->too_large && up->len + *upload_data_size <= HTTP_BODY_MAX) {
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
	if (up->too_large)
		return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "too large", "the request body is over 64 KiB");
	bool known_path = false;
	for (size_t i = 0; i < HTTP_ROUTE_COUNT; i++) {
		if (strcmp(url, http_routes[i].path) != 0)
			continue;
		known_path = true;
		if (!strcmp(method, http_routes[i].method))
			return handlers[i](s, c, up);
	}
	if (known_path)
		return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed",
				  "see docs/openapi.yaml for the methods of each route");
	return send_error(c, MHD_HTTP_NOT_FOUND, "not found", "no such route (docs/openapi.yaml lists them)");
}

static void request_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct upload *up = *con_cls;
	if (up) {
		if (up->data) {
			crypto_wipe(up->data, up->len); /* passwords come in bodies */
			free(up->data);
		}
		free(up);
		*con_cls = NULL;
	}
}

enum amana_err http_server_start(struct registry *r, const char *host, uint16_t port, struct http_server **out,
				 uint16_t *bound)
{
	*out = NULL;
	struct sockaddr_in addr;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
		return AMANA_ERR_USAGE;
	if ((ntohl(addr.sin_addr.s_addr) >> 24) != 127)
		return AMANA_ERR_DENIED; /* plain HTTP on loopback only */
	struct http_server *s = calloc(1, sizeof(*s));
	if (!s)
		return AMANA_ERR_NOMEM;
	s->r = r;
	s->daemon = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY, port, NULL, NULL, route, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_SECONDS, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)(32 * 1024), MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_NOTIFY_COMPLETED,
	    request_done, NULL, MHD_OPTION_END);
	if (!s->daemon) {
		free(s);
		return AMANA_ERR_IO;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	*bound = info ? info->port : port;
	*out = s;
	return AMANA_OK;
}

void http_server_stop(struct http_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->daemon);
	free(s);
}
