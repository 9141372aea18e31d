/*
 * server.h - amanad's HTTP front: parse a request, call one service
 * function, render JSON. No business rule lives here (DESIGN.md, layers).
 *
 * libmicrohttpd does the protocol, on a pool of threads, each with its
 * own store connection (a worker registry sharing the keys, the audit log
 * and the budgets): a request waiting for its audit entry to be durable
 * holds one thread, and the others' entries join its group commit. Every
 * limit is set here: connections, per-connection memory
 * (headers), request bodies, time. Every response is JSON with the same
 * security headers; errors are {"error","detail"} with the status the one
 * mapping in http_status_for gives. Nothing of a request body reaches a
 * log.
 */
#ifndef AMANA_HTTP_SERVER_H
#define AMANA_HTTP_SERVER_H

#include <stdint.h>

#include "core/error.h"

struct registry;
struct http_server;

#define HTTP_BODY_MAX (64 * 1024) /* a JSON request body; larger: 413 */
#define HTTP_UPLOAD_MAX (64 * 1024 * 1024) /* a declaration file (about 200,000 lines) */
/* Declaration bodies being received at once, all connections together:
 * past it, 503 (a client sends again later). Bodies are taken only from a
 * caller whose session checked out when the headers came. */
#define HTTP_UPLOADS_TOTAL_MAX (256 * 1024 * 1024)
#define HTTP_CONNECTIONS_MAX 256
#define HTTP_PER_IP_DEFAULT 64 /* connections from one address (behind a proxy: raise it) */
#define HTTP_TIMEOUT_SECONDS 15
#define HTTP_THREADS_DEFAULT 16
#define HTTP_THREADS_MAX 256

struct http_options {
	const char *host; /* a loopback address */
	uint16_t port; /* 0: any free one */
	unsigned threads; /* 0: HTTP_THREADS_DEFAULT */
	unsigned per_ip; /* connections from one address; 0: HTTP_PER_IP_DEFAULT */
};

/* The routes served (method, path), as docs/openapi.yaml must list them. */
struct http_route {
	const char *method;
	const char *path;
};
#define HTTP_ROUTE_COUNT 21
extern const struct http_route http_routes[HTTP_ROUTE_COUNT];

/* The HTTP status for a service error (one place). */
unsigned http_status_for(enum amana_err err);

/* Serve r on host:port until http_server_stop. host must be a loopback
 * address: plain HTTP goes no further (put TLS in front, DESIGN.md).
 * *bound receives the port. */
enum amana_err http_server_start(struct registry *r, const struct http_options *o, struct http_server **out,
				 uint16_t *bound) AMANA_MUST_CHECK;
void http_server_stop(struct http_server *s);

#endif
