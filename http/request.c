/* request.c - request bodies read with jansson (see request.h). */
#include "request.h"

#include <jansson.h>
#include <string.h>

/* How deep the brackets of a JSON text go, strings skipped; jansson has
 * its own limit, but ours is the one the API documents. */
static size_t json_depth(const char *s, size_t len)
{
	size_t depth = 0, max = 0;
	bool in_string = false, escaped = false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"')
			in_string = true;
		else if (c == '{' || c == '[')
			max = ++depth > max ? depth : max;
		else if ((c == '}' || c == ']') && depth)
			depth--;
	}
	return max;
}

static bool take_string(json_t *o, const char *key, char *out, size_t cap, size_t *len)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		return false;
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (n >= cap || memchr(s, '\0', n))
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	if (len)
		*len = n;
	return true;
}

enum amana_err http_login_parse(const char *body, size_t len, struct http_login *out)
{
	memset(out, 0, sizeof(*out));
	if (!body || json_depth(body, len) > HTTP_JSON_DEPTH_MAX)
		return AMANA_ERR_USAGE;
	json_error_t jerr;
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	bool ok = json_is_object(o);
	size_t keys = 2;
	ok = ok && take_string(o, "login", out->login, sizeof(out->login), NULL) &&
	     take_string(o, "password", out->password, sizeof(out->password), &out->password_len);
	if (ok && json_object_get(o, "totp")) {
		size_t n = 0;
		keys++;
		ok = take_string(o, "totp", out->totp, sizeof(out->totp), &n) && n == 6;
		for (size_t i = 0; ok && i < n; i++)
			ok = out->totp[i] >= '0' && out->totp[i] <= '9';
		out->has_totp = ok;
	}
	ok = ok && json_object_size(o) == keys;
	if (o) {
		/* the password was in jansson's copy too */
		json_t *pw = json_object_get(o, "password");
		if (json_is_string(pw))
			memset((char *)json_string_value(pw), 0, json_string_length(pw));
		json_decref(o);
	}
	if (!ok) {
		memset(out, 0, sizeof(*out));
		return AMANA_ERR_USAGE;
	}
	return AMANA_OK;
}

bool http_path_match(const char *tmpl, const char *path, char params[HTTP_PARAMS_MAX][HTTP_PARAM_MAX], size_t *n)
{
	*n = 0;
	while (*tmpl && *path) {
		if (*tmpl == '{') {
			const char *close = strchr(tmpl, '}');
			const char *end = strchr(path, '/');
			size_t len = end ? (size_t)(end - path) : strlen(path);
			if (!close || len == 0 || len >= HTTP_PARAM_MAX || *n == HTTP_PARAMS_MAX)
				return false;
			memcpy(params[*n], path, len);
			params[(*n)++][len] = '\0';
			path += len;
			tmpl = close + 1;
			continue;
		}
		if (*tmpl++ != *path++)
			return false;
	}
	return *tmpl == '\0' && *path == '\0';
}

bool http_decimal(const char *s, size_t digits, uint64_t *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 18 || (digits && n != digits))
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}
