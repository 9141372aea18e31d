/* util.c - exit codes, messages, option defaults and parsing for the CLI. */
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "crypto/crypto.h"
#include "core/ebds.h"

int exit_code_for(enum amana_err err)
{
	switch (err) {
	case AMANA_OK: return EXIT_OK;
	case AMANA_ERR_USAGE: return EXIT_USAGE;
	case AMANA_ERR_INPUT: return EXIT_REJECTED;
	case AMANA_ERR_DENIED: return EXIT_DENIED;
	default: return EXIT_FAILURE_;
	}
}

void common_defaults(struct common *c)
{
	memset(c, 0, sizeof(*c));
	c->dir = getenv("AMANA_HOME");
	c->key = getenv("AMANA_KEY_FILE");
	/* The CLI acts as a back-office agent named after the Unix user. */
	const char *user = getenv("USER");
	struct passwd *pw = getpwuid(getuid());
	if (pw && pw->pw_name)
		user = pw->pw_name;
	snprintf(c->who.id, sizeof(c->who.id), "cli:%s", user ? user : "unknown");
	c->who.role = ROLE_AGENT;
	/* Each invocation is one request in the audit log: local, with a
	 * random id the operator can quote. */
	snprintf(c->who.client, sizeof(c->who.client), "local:pid%ld", (long)getpid());
	uint8_t rid[8];
	crypto_random_bytes(rid, sizeof(rid));
	static const char hex[] = "0123456789abcdef";
	char *p = c->who.request_id;
	memcpy(p, "cli-", 4);
	p += 4;
	for (size_t i = 0; i < sizeof(rid); i++) {
		*p++ = hex[rid[i] >> 4];
		*p++ = hex[rid[i] & 15];
	}
	*p = 0;
}

int fail(enum amana_err err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("amana: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return exit_code_for(err);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "amana %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(see 'amana %s --help')\n", cmd);
	va_end(ap);
	return EXIT_USAGE;
}

int open_registry(const struct common *c, struct registry **out)
{
	if (!c->dir || !c->dir[0])
		return fail(AMANA_ERR_USAGE, "which registry? give -d DIR or set AMANA_HOME");
	if (!c->key || !c->key[0])
		return fail(AMANA_ERR_USAGE, "which key? give --key FILE or set AMANA_KEY_FILE");
	char why[256] = "";
	enum amana_err err = registry_open(c->dir, c->key, out, why, sizeof(why));
	if (err)
		return fail(err, "%s", why[0] ? why : amana_strerror(err));
	return EXIT_OK;
}

void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void json_kv_str(FILE *f, const char *k, const char *v, bool comma)
{
	json_str(f, k);
	fputc(':', f);
	json_str(f, v);
	if (comma)
		fputc(',', f);
}

void json_kv_int(FILE *f, const char *k, long long v, bool comma)
{
	json_str(f, k);
	fprintf(f, ":%lld", v);
	if (comma)
		fputc(',', f);
}

bool parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s || strlen(s) > 19)
		return false;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return true;
}

bool parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;
	if (!parse_u64(s, &v) || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool parse_period(const char *s, uint32_t *out)
{
	char buf[8];
	size_t n = strlen(s);
	if (n == 7 && s[4] == '-') {
		memcpy(buf, s, 4);
		memcpy(buf + 4, s + 5, 2);
		buf[6] = '\0';
		s = buf;
	} else if (n != 6) {
		return false;
	}
	uint32_t v;
	if (!parse_u32(s, &v) || !period_valid(v))
		return false;
	*out = v;
	return true;
}

bool parse_date(const char *s, uint32_t *out)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	char buf[9];
	memcpy(buf, s, 4);
	memcpy(buf + 4, s + 5, 2);
	memcpy(buf + 6, s + 8, 2);
	buf[8] = '\0';
	uint32_t v;
	if (!parse_u32(buf, &v))
		return false;
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	uint32_t y = v / 10000, m = v / 100 % 100, d = v % 100;
	if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	*out = v;
	return true;
}
