/* fuzz_http.c - libFuzzer target for amanad's request bodies
 * (http/request.c): whatever the bytes, http_login_parse returns AMANA_OK
 * or AMANA_ERR_USAGE; on AMANA_OK every field holds what the API allows,
 * and on AMANA_ERR_USAGE nothing is left in the output. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
