/*
 * account_cmd.c - `amana account add` and `amana account unlock`: the
 * logins of amanad.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "crypto/crypto.h"

enum { OPT_KEY = 1000, OPT_JSON, OPT_ROLE, OPT_LOGIN, OPT_EMPLOYER, OPT_PERSON, OPT_PASSWORD_FILE };

static const char account_help[] =
    "usage: amana account add --role ROLE --login LOGIN --password-file FILE\n"
    "                         [--employer AFFILIATION]... [--person REGISTRATION] [--json]\n"
    "\n"
    "Make a login for amanad. ROLE is citizen, employer, agent, supervisor, auditor or\n"
    "operator. A citizen account names its person (--person, a 9-digit registration\n"
    "number); an employer account names the employers it acts for (--employer, once\n"
    "per 7-digit affiliation: an accountant may act for up to 32); other roles name\n"
    "neither. LOGIN is 3 to 64 characters: a-z, 0-9, '.', '_', '@', '-'.\n"
    "\n"
    "The password is read from FILE (its first line; '-' reads standard input), 12 to\n"
    "1024 bytes, and kept only as an Argon2id hash. Every role but citizen gets a TOTP\n"
    "second factor: its secret is printed once, in base32, for an authenticator app\n"
    "(\"totp_secret\" with --json), and kept only sealed in the registry.\n"
    "\n"
    "Made by an agent (this command) and recorded in the audit log as account.add,\n"
    "with the employers or the person it is for.\n"
    "\n"
    "  -d, --dir DIR      registry directory (default $AMANA_HOME)\n"
    "      --key FILE     key-encryption key file (default $AMANA_KEY_FILE)\n"
    "      --json         machine-readable output\n"
    "\n"
    "usage: amana account unlock ID [--json]\n"
    "\n"
    "Lift the suspension (past a budget) and the lockout (password guessing) of\n"
    "account ID (the \"account\" of GET /v1/me, the \"account\" of an alert), and start\n"
    "its budgets afresh: what a supervisor does with POST /v1/principals/ID/unlock,\n"
    "for when none can. A running amanad follows it at the account's next request.\n"
    "Recorded in the audit log as principal.unlock.\n";

#define PASSWORD_READ_MAX 1100

/* The first line of path ("-": standard input), without its line end. */
static int read_password(const char *path, char *out, size_t cap, size_t *len)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(AMANA_ERR_IO, "cannot open the password file %s: %s", path, strerror(errno));
	size_t n = 0;
	while (n < cap) {
		ssize_t k = read(fd, out + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	if (fd != 0)
		close(fd);
	char *nl = memchr(out, '\n', n);
	if (nl)
		n = (size_t)(nl - out);
	if (n > 0 && out[n - 1] == '\r')
		n--;
	*len = n;
	return EXIT_OK;
}

static int account_add(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "login", required_argument, NULL, OPT_LOGIN },
		{ "employer", required_argument, NULL, OPT_EMPLOYER },
		{ "person", required_argument, NULL, OPT_PERSON },
		{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
		{ 0, 0, 0, 0 },
	};
	struct common cm;
	common_defaults(&cm);
	struct account_input in;
	memset(&in, 0, sizeof(in));
	uint32_t employers[33];
	size_t n_employers = 0;
	const char *role = NULL, *password_file = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", longs, NULL)) != -1) {
		switch (c) {
		case 'd': cm.dir = optarg; break;
		case OPT_KEY: cm.key = optarg; break;
		case OPT_JSON: cm.json = true; break;
		case 'h': fputs(account_help, stdout); return EXIT_OK;
		case OPT_ROLE: role = optarg; break;
		case OPT_LOGIN: in.login = optarg; break;
		case OPT_PASSWORD_FILE: password_file = optarg; break;
		case OPT_EMPLOYER:
			if (n_employers == sizeof(employers) / sizeof(employers[0]))
				return usage_error("account", "an account acts for 32 employers at most");
			if (strlen(optarg) != 7 || !parse_u32(optarg, &employers[n_employers]))
				return usage_error("account", "--employer takes a 7-digit affiliation number");
			n_employers++;
			break;
		case OPT_PERSON:
			if (strlen(optarg) != 9 || !parse_u32(optarg, &in.person))
				return usage_error("account", "--person takes a 9-digit registration number");
			break;
		default: return usage_error("account", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error("account", "unexpected argument '%s'", argv[optind]);
	if (!role || !role_parse(role, strlen(role), &in.role))
		return usage_error("account", "--role takes citizen, employer, agent, supervisor, auditor or operator");
	if (!in.login)
		return usage_error("account", "add needs --login");
	if (!password_file)
		return usage_error("account", "add needs --password-file (never a password on the command line)");
	in.employers = employers;
	in.n_employers = n_employers;
	char password[PASSWORD_READ_MAX];
	size_t plen = 0;
	int rc = read_password(password_file, password, sizeof(password), &plen);
	if (rc)
		return rc;
	in.password = password;
	in.password_len = plen;
	struct registry *r;
	if ((rc = open_registry(&cm, &r))) {
		crypto_wipe(password, sizeof(password));
		return rc;
	}
	struct account_created out;
	char why[256] = "";
	enum amana_err err = svc_account_add(r, &cm.who, &in, &out, why, sizeof(why));
	crypto_wipe(password, sizeof(password));
	registry_close(r);
	if (err) {
		crypto_wipe(&out, sizeof(out));
		return fail(err, "%s", why[0] ? why : amana_strerror(err));
	}
	if (cm.json) {
		printf("{");
		json_kv_int(stdout, "id", out.id, true);
		json_kv_str(stdout, "login", in.login, true);
		json_kv_str(stdout, "role", role_name(in.role), out.totp_secret[0] != 0);
		if (out.totp_secret[0])
			json_kv_str(stdout, "totp_secret", out.totp_secret, false);
		printf("}\n");
	} else {
		printf("account %lld: %s, %s\n", (long long)out.id, in.login, role_name(in.role));
		if (out.totp_secret[0])
			printf("TOTP secret (shown once; enter it in an authenticator app): %s\n", out.totp_secret);
	}
	crypto_wipe(&out, sizeof(out));
	return EXIT_OK;
}

static int account_unlock(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct common cm;
	common_defaults(&cm);
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", longs, NULL)) != -1) {
		switch (c) {
		case 'd': cm.dir = optarg; break;
		case OPT_KEY: cm.key = optarg; break;
		case OPT_JSON: cm.json = true; break;
		case 'h': fputs(account_help, stdout); return EXIT_OK;
		default: return usage_error("account", "unknown option");
		}
	}
	uint32_t id;
	if (optind + 1 != argc || strlen(argv[optind]) > 9 || !parse_u32(argv[optind], &id) || id == 0)
		return usage_error("account", "unlock takes one account id (a number)");
	struct registry *r;
	int rc = open_registry(&cm, &r);
	if (rc)
		return rc;
	enum amana_err err = svc_principal_unlock(r, &cm.who, id);
	registry_close(r);
	if (err)
		return fail(err, "account %u: %s", id,
			    err == AMANA_ERR_NOTFOUND ? "no such account" : amana_strerror(err));
	if (cm.json)
		printf("{\"account\":%u,\"unlocked\":true}\n", id);
	else
		printf("account %u: unlocked, budgets afresh\n", id);
	return EXIT_OK;
}

int cmd_account(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(account_help, stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "unlock"))
		return account_unlock(argc - 1, argv + 1);
	if (strcmp(argv[1], "add") != 0)
		return usage_error("account", "unknown subcommand '%s' (add, unlock)", argv[1]);
	return account_add(argc - 1, argv + 1);
}
