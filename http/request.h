/*
 * request.h - reading requests (bodies, paths, numbers), apart from the
 * server so that they can be fuzzed alone (fuzz/fuzz_http.c). Pure: no
 * registry, no I/O.
 */
#ifndef AMANA_HTTP_REQUEST_H
#define AMANA_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define HTTP_LOGIN_MAX 64
#define HTTP_PASSWORD_MAX 1024
#define HTTP_JSON_DEPTH_MAX 8 /* objects and arrays nested deeper are refused */

struct http_login {
	char login[HTTP_LOGIN_MAX + 1];
	char password[HTTP_PASSWORD_MAX + 1];
	size_t password_len;
	bool has_totp;
	char totp[7];
};

/* The body of POST /v1/sessions: one JSON object with the strings "login"
 * and "password" and, optionally, "totp", and nothing else; no key twice,
 * no NUL in a string, nothing nested deeper than HTTP_JSON_DEPTH_MAX;
 * login at most 64 bytes, password at most 1024, totp six digits.
 * AMANA_ERR_USAGE otherwise, and out is wiped. The caller wipes out. */
enum amana_err http_login_parse(const char *body, size_t len, struct http_login *out) AMANA_MUST_CHECK;

/* Paths. A route's template is a path whose segments may be {name}: each
 * takes one whole non-empty segment of at most HTTP_PARAM_MAX - 1 bytes.
 * True if path fits the template, the segments taken in params[0..*n). */
#define HTTP_PARAM_MAX 40
#define HTTP_PARAMS_MAX 3
bool http_path_match(const char *tmpl, const char *path, char params[HTTP_PARAMS_MAX][HTTP_PARAM_MAX],
		     size_t *n) AMANA_MUST_CHECK;

/* A decimal number of exactly digits digits (0: 1 to 18), nothing else. */
bool http_decimal(const char *s, size_t digits, uint64_t *out) AMANA_MUST_CHECK;

#endif
