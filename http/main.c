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

static const char usage[] = "usage: amanad -d DIR --key KEYFILE [--listen HOST:PORT]\n"
			    "\n"
			    "Serve the registry in DIR (default $AMANA_HOME; its key-encryption key from\n"
			    "KEYFILE, default $AMANA_KEY_FILE) as a JSON API: POST /v1/sessions, DELETE\n"
			    "/v1/sessions/current, GET /v1/me, GET /healthz (docs/openapi.yaml). HOST:PORT\n"
			    "defaults to 127.0.0.1:8470; port 0 takes a free one. Plain HTTP is served on\n"
			    "loopback only: put a TLS proxy in front for anything else. The bound address is\n"
			    "printed on the first line of standard output. SIGINT or SIGTERM stop it.\n";

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "key", required_argument, NULL, 'k' },
		{ "listen", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *dir = getenv("AMANA_HOME"), *key = getenv("AMANA_KEY_FILE"), *listen = "127.0.0.1:8470";
	int c;
	while ((c = getopt_long(argc, argv, "d:h", longs, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'k': key = optarg; break;
		case 'l': listen = optarg; break;
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
	struct registry *r;
	char why[256] = "";
	enum amana_err err = registry_open(dir, key, &r, why, sizeof(why));
	if (err) {
		fprintf(stderr, "amanad: %s\n", why[0] ? why : amana_strerror(err));
		return 1;
	}
	struct http_server *s;
	uint16_t bound = 0;
	err = http_server_start(r, host, (uint16_t)port, &s, &bound);
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
