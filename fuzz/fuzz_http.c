/* fuzz_http.c - libFuzzer target for amanad's request parsing
 * (http/request.c).
 *
 * Input starting with '/': a request path, matched against route templates
 * of every shape amanad serves (http_path_match): a match must give back
 * the path when its segments are put back into the template, each
 * segment non-empty, shorter than HTTP_PARAM_MAX and free of '/'; and
 * each segment read as a number (http_decimal) must print back the same.
 * Any other input: a login body. Whatever the bytes, http_login_parse
 * returns AMANA_OK or AMANA_ERR_USAGE; on AMANA_OK every field holds what
 * the API allows, and on AMANA_ERR_USAGE nothing is left in the output.
 * (A declaration upload's body is read by the e-BDS codec, which
 * fuzz_ebds exercises.) */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_path(const uint8_t *data, size_t size)
{
	static const char *const templates[] = {
		"/healthz",
		"/v1/persons/{reg}",
		"/v1/employers/{aff}/declarations",
		"/v1/employers/{aff}/contributions/{period}",
		"/v1/principals/{id}/unlock",
		"/v1/audit/proof/{seq}",
	};
	char path[512];
	if (size >= sizeof(path) || memchr(data, 0, size))
		return;
	memcpy(path, data, size);
	path[size] = 0;
	for (size_t t = 0; t < sizeof(templates) / sizeof(templates[0]); t++) {
		char params[HTTP_PARAMS_MAX][HTTP_PARAM_MAX];
		size_t n = 0;
		if (!http_path_match(templates[t], path, params, &n))
			continue;
		char back[1024] = "";
		size_t k = 0, at = 0;
		for (const char *p = templates[t]; *p;) {
			if (*p == '{') {
				if (k >= n)
					abort();
				size_t len = strlen(params[k]);
				if (len == 0 || len >= HTTP_PARAM_MAX || strchr(params[k], '/'))
					abort();
				memcpy(back + at, params[k], len);
				at += len;
				uint64_t v;
				if (http_decimal(params[k], 0, &v)) {
					char num[32];
					snprintf(num, sizeof(num), "%0*" PRIu64, (int)len, v);
					if (strcmp(num, params[k]) != 0)
						abort();
				}
				k++;
				p = strchr(p, '}') + 1;
			} else {
				back[at++] = *p++;
			}
		}
		back[at] = 0;
		if (k != n || strcmp(back, path) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == '/') {
		fuzz_path(data, size);
		return 0;
	}
	struct http_login in;
	enum amana_err err = http_login_parse((const char *)data, size, &in);
	if (err == AMANA_OK) {
		size_t n = strlen(in.login);
		if (n > HTTP_LOGIN_MAX || in.password_len > HTTP_PASSWORD_MAX || strlen(in.password) != in.password_len)
			abort();
		if (in.has_totp) {
			if (strlen(in.totp) != 6)
				abort();
			for (size_t i = 0; i < 6; i++)
				if (in.totp[i] < '0' || in.totp[i] > '9')
					abort();
		} else if (in.totp[0]) {
			abort();
		}
	} else {
		static const struct http_login zero;
		if (err != AMANA_ERR_USAGE || memcmp(&in, &zero, sizeof(in)) != 0)
			abort();
	}
	return 0;
}
