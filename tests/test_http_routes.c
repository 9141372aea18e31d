/* test_http_routes.c - every route amanad serves is in docs/openapi.yaml,
 * and every operation there is served. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "http/request.h"
#include "http/server.h"

#define OPS_MAX 64

/* The (method, path) pairs under "paths:" of the OpenAPI document: a path
 * at two spaces of indent, its operations at four. */
static size_t read_operations(char methods[OPS_MAX][8], char paths[OPS_MAX][128])
{
	char file[4096];
	snprintf(file, sizeof(file), "%s/docs/openapi.yaml", SOURCE_ROOT);
	FILE *f = fopen(file, "r");
	assert_non_null(f);
	char line[512], path[128] = "";
	bool in_paths = false;
	size_t n = 0;
	static const char *const verbs[] = { "get", "put", "post", "delete", "patch", "head", "options" };
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "paths:", 6)) {
			in_paths = true;
			continue;
		}
		if (!in_paths)
			continue;
		if (line[0] != ' ' && line[0] != '\n')
			break; /* the next top-level key */
		if (line[0] == ' ' && line[1] == ' ' && line[2] == '/') {
			char *colon = strchr(line + 2, ':');
			assert_non_null(colon);
			*colon = '\0';
			assert_true(strlen(line + 2) < sizeof(path));
			memcpy(path, line + 2, strlen(line + 2) + 1);
			continue;
		}
		for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
			size_t k = strlen(verbs[v]);
			if (!strncmp(line, "    ", 4) && line[4] != ' ' && !strncmp(line + 4, verbs[v], k) &&
			    line[4 + k] == ':') {
				assert_true(path[0] == '/');
				assert_true(n < OPS_MAX);
				for (size_t i = 0; i <= k; i++)
					methods[n][i] = (char)(verbs[v][i] >= 'a' ? verbs[v][i] - 32 : verbs[v][i]);
				memcpy(paths[n], path, sizeof(path));
				n++;
			}
		}
	}
	fclose(f);
	return n;
}

static void test_routes_match_openapi(void **state)
{
	(void)state;
	char methods[OPS_MAX][8], paths[OPS_MAX][128];
	size_t n = read_operations(methods, paths);
	assert_true(n >= 4);
	for (size_t i = 0; i < HTTP_ROUTE_COUNT; i++) {
		bool found = false;
		for (size_t k = 0; k < n && !found; k++)
			found = !strcmp(methods[k], http_routes[i].method) && !strcmp(paths[k], http_routes[i].path);
		if (!found)
			fail_msg("amanad serves %s %s, which docs/openapi.yaml does not document",
				 http_routes[i].method, http_routes[i].path);
	}
	for (size_t k = 0; k < n; k++) {
		bool found = false;
		for (size_t i = 0; i < HTTP_ROUTE_COUNT && !found; i++)
			found = !strcmp(methods[k], http_routes[i].method) && !strcmp(paths[k], http_routes[i].path);
		if (!found)
			fail_msg("docs/openapi.yaml documents %s %s, which amanad does not serve", methods[k],
				 paths[k]);
	}
}

/* The body of POST /v1/sessions: exactly what the API documents. */
static void test_login_body(void **state)
{
	(void)state;
	struct http_login in;
	static const char good[] = "{\"login\":\"agent.7\",\"password\":\"correct horse\",\"totp\":\"012345\"}";
	assert_int_equal(http_login_parse(good, strlen(good), &in), AMANA_OK);
	assert_string_equal(in.login, "agent.7");
	assert_string_equal(in.password, "correct horse");
	assert_int_equal(in.password_len, 13);
	assert_true(in.has_totp);
	assert_string_equal(in.totp, "012345");
	static const char no_code[] = "  {\"password\":\"p\\u00e9\",\"login\":\"said\"}  ";
	assert_int_equal(http_login_parse(no_code, strlen(no_code), &in), AMANA_OK);
	assert_false(in.has_totp);
	assert_string_equal(in.password, "p\xc3\xa9");
	static const char *const bad[] = {
		"",
		"null",
		"{}",
		"{\"login\":\"a\"}",
		"{\"login\":\"a\",\"password\":\"b\",\"x\":1}",
		"{\"login\":\"a\",\"login\":\"c\",\"password\":\"b\"}",
		"{\"login\":\"a\\u0000b\",\"password\":\"b\"}",
		"{\"login\":1,\"password\":\"b\"}",
		"{\"login\":\"a\",\"password\":\"b\",\"totp\":\"12345\"}",
		"{\"login\":\"a\",\"password\":\"b\",\"totp\":\"1234567\"}",
		"{\"login\":\"a\",\"password\":\"b\",\"totp\":\"12a456\"}",
		"{\"login\":\"a\",\"password\":\"b\",\"totp\":123456}",
		"{\"login\":\"a\",\"password\":\"b\",\"n\":[[[[[[[[[1]]]]]]]]]}",
		"{\"login\":\"a\",\"password\":\"b\"} trailing",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (http_login_parse(bad[i], strlen(bad[i]), &in) != AMANA_ERR_USAGE)
			fail_msg("accepted: %s", bad[i]);
		static const struct http_login zero;
		assert_memory_equal(&in, &zero, sizeof(in));
	}
	/* a login of 65 bytes, a password of 1025 */
	char big[1200];
	int n = snprintf(big, sizeof(big), "{\"login\":\"%065d\",\"password\":\"p\"}", 0);
	assert_int_equal(http_login_parse(big, (size_t)n, &in), AMANA_ERR_USAGE);
	n = snprintf(big, sizeof(big), "{\"login\":\"a\",\"password\":\"%01025d\"}", 0);
	assert_int_equal(http_login_parse(big, (size_t)n, &in), AMANA_ERR_USAGE);
	n = snprintf(big, sizeof(big), "{\"login\":\"a\",\"password\":\"%01024d\"}", 0);
	assert_int_equal(http_login_parse(big, (size_t)n, &in), AMANA_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_match_openapi),
		cmocka_unit_test(test_login_body),
	};
	return cmocka_run_group_tests_name("http routes", tests, NULL, NULL);
}
