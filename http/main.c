/*
 * main.c - `amanad`: the registry's JSON API over HTTP.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "server.h"
#include "service/service.h"

static const char usage[] = "usage: amanad -d DIR --key KEYFILE [--listen HOST:PORT] [--threads N] [--per-ip N]\n"
			    "              [--policy FILE]\n"
			    "\n"
			    "Serve the registry in DIR (default $AMANA_HOME; its key-encryption key from\n"
			    "KEYFILE, default $AMANA_KEY_FILE) as a JSON API (docs/openapi.yaml lists the\n"
			    "routes). Every principal logs in (POST /v1/sessions) and sees only its scope;\n"
			    "every read of personal data is on the audit log; reading past a budget\n"
			    "suspends the account until a supervisor unlocks it.\n"
			    "\n"
			    "  --listen HOST:PORT  default 127.0.0.1:8470; port 0 takes a free one. Plain\n"
			    "                      HTTP is served on loopback only: put a TLS proxy in front.\n"
			    "  --threads N         server threads, each with its own store connection\n"
			    "                      (default 16, at most 256). On SQLite, reads of\n"
			    "                      unmarked records do not wait in their thread: one per\n"
			    "                      core served them fastest (measured). More threads keep\n"
			    "                      uploads and PostgreSQL's round trips from holding up\n"
			    "                      other requests\n"
			    "  --per-ip N          connections from one address, 1 to 256 (default 64).\n"
			    "                      Behind a proxy every connection comes from the proxy:\n"
			    "                      raise it to 256 there and limit per client in the proxy\n"
			    "  --policy FILE       budgets, lines \"ROLE.LIMIT = N\" (LIMIT: persons_per_hour,\n"
			    "                      persons_per_day, documents_per_day); the rest keep their\n"
			    "                      defaults (docs/internals/policy.md)\n"
			    "\n"
			    "The bound address is printed on the first line of standard output. Alerts\n"
			    "(bait or sensitive records read, budgets exceeded) go to standard error as\n"
			    "JSON lines, with no personal data. SIGINT or SIGTERM stop the server.\n"
			    "\n"
			    "example:\n"
			    "  amanad -d reg --key reg.key --listen 127.0.0.1:8470 &\n"
			    "  curl -s -X POST localhost:8470/v1/sessions \\\n"
			    "       -d '{\"login\":\"agent.1\",\"password\":\"...\",\"totp\":\"123456\"}'\n"
			    "  curl -s -H 'Authorization: Bearer TOKEN' -H 'X-Purpose: case 42' \\\n"
			    "       localhost:8470/v1/persons/100000034\n";

/* Alerts, one JSON line each, as they are raised (any thread). */
static void alert_line(void *ctx, const char *line)
{
	(void)ctx;
	flockfile(stderr);
	fputs(line, stderr);
	fputc('\n', stderr);
	funlockfile(stderr);
	fflush(stderr);
}

/* The budgets of --policy FILE over the defaults. */
static int read_policy(const char *path, struct policy_config *pc)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "amanad: cannot read the policy %s\n", path);
		return 2;
	}
	char text[16384];
	size_t n = fread(text, 1, sizeof(text), f);
	bool whole = feof(f) && !ferror(f);
	fclose(f);
	if (!whole) {
		fprintf(stderr, "amanad: the policy %s is over 16 KiB or unreadable\n", path);
		return 2;
	}
	char why[160];
	if (policy_config_parse(pc, text, n, why, sizeof(why)) != AMANA_OK) {
		fprintf(stderr, "amanad: %s: %s\n", path, why);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "dir", required_argument, NULL, 'd' },    { "key", required_argument, NULL, 'k' },
		{ "listen", required_argument, NULL, 'l' }, { "threads", required_argument, NULL, 't' },
		{ "policy", required_argument, NULL, 'p' }, { "per-ip", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },         { 0, 0, 0, 0 },
	};
	const char *dir = getenv("AMANA_HOME"), *key = getenv("AMANA_KEY_FILE"), *listen = "127.0.0.1:8470";
	const char *threads_arg = NULL, *policy = NULL, *per_ip_arg = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "d:h", longs, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'k': key = optarg; break;
		case 'l': listen = optarg; break;
		case 't': threads_arg = optarg; break;
		case 'p': policy = optarg; break;
		case 'i': per_ip_arg = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind < argc || !dir || !*dir || !key || !*key) {
		fputs(usage, stderr);
		return 2;
	}
	char host[64];
	const char *colon = strrchr(listen, ':');
	char *end = NULL;
	unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
	if (!colon || (size_t)(colon - listen) >= sizeof(host) || colon == listen || !end || *end || port > 65535 ||
	    colon[1] == '\0') {
		fprintf(stderr, "amanad: --listen takes HOST:PORT, e.g. 127.0.0.1:8470\n");
		return 2;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	unsigned long threads = 0;
	if (threads_arg) {
		threads = strtoul(threads_arg, &end, 10);
		if (!*threads_arg || *end || threads < 1 || threads > HTTP_THREADS_MAX) {
			fprintf(stderr, "amanad: --threads takes 1 to %d\n", HTTP_THREADS_MAX);
			return 2;
		}
	}
	unsigned long per_ip = 0;
	if (per_ip_arg) {
		per_ip = strtoul(per_ip_arg, &end, 10);
		if (!*per_ip_arg || *end || per_ip < 1 || per_ip > HTTP_CONNECTIONS_MAX) {
			fprintf(stderr, "amanad: --per-ip takes 1 to %d\n", HTTP_CONNECTIONS_MAX);
			return 2;
		}
	}
	struct policy_config pc;
	policy_defaults(&pc);
	int prc = policy ? read_policy(policy, &pc) : 0;
	if (prc)
		return prc;
	if (crypto_init() != AMANA_OK) {
		fprintf(stderr, "amanad: cannot initialize the cryptography\n");
		return 1;
	}
	/* The signals that stop the server wait for sigwait, on this thread. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A file grown past its size limit fails its write (EFBIG) and the
	 * audit log stops serving (fail closed), instead of the signal
	 * killing the server mid-answer. */
	signal(SIGXFSZ, SIG_IGN);
	struct registry *r;
	char why[256] = "";
	enum amana_err err = registry_open(dir, key, &r, why, sizeof(why));
	if (err) {
		fprintf(stderr, "amanad: %s\n", why[0] ? why : amana_strerror(err));
		return 1;
	}
	registry_set_policy(r, &pc);
	registry_set_alert_sink(r, alert_line, NULL);
	struct http_server *s;
	uint16_t bound = 0;
	struct http_options o = {
		.host = host, .port = (uint16_t)port, .threads = (unsigned)threads, .per_ip = (unsigned)per_ip
	};
	err = http_server_start(r, &o, &s, &bound);
	if (err) {
		fprintf(stderr, "amanad: cannot listen on %s: %s\n", listen,
			err == AMANA_ERR_DENIED ? "plain HTTP is served on loopback (127.x.x.x) only"
						: amana_strerror(err));
		registry_close(r);
		return err == AMANA_ERR_USAGE || err == AMANA_ERR_DENIED ? 2 : 1;
	}
	printf("amanad: listening on http://%s:%u\n", host, (unsigned)bound);
	fflush(stdout);
	int sig = 0;
	sigwait(&stop, &sig);
	http_server_stop(s);
	registry_close(r);
	return 0;
}
