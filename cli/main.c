/*
 * main.c - `amana`: one binary, one subcommand per use case.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "crypto/crypto.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "init", cmd_init, "create a registry and its key file" },
	{ "migrate", cmd_migrate, "bring a registry's tables up to this version (as their owner)" },
	{ "employer", cmd_employer, "register, show or flag an employer (employer register|show|flag)" },
	{ "person", cmd_person, "register, show or flag an insured person (person register|show|flag)" },
	{ "prefill", cmd_prefill, "write an employer's pre-filled list (e-BDS A file) for a period" },
	{ "import", cmd_import, "ingest declaration files (e-BDS B/E), each all or nothing" },
	{ "contributions", cmd_contributions, "contributions an employer owes for a period" },
	{ "career", cmd_career, "a person's career statement: month by month employer, days, salary" },
	{ "rights", cmd_rights, "a person's rights at a date, each with its amount and reason" },
	{ "pension", cmd_pension, "a person's old-age pension at a date, and the rule that gave it" },
	{ "gen", cmd_gen, "generate a synthetic country: register it, write its declaration files" },
	{ "stats", cmd_stats, "counts of what the registry holds (no personal data)" },
	{ "audit", cmd_audit, "the signed audit log: head, verify, proofs, queries, witnesses" },
	{ "account", cmd_account, "make a login for amanad (account add): password, TOTP, scope" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void help(FILE *f)
{
	fputs("amana - the Amana social security registry\n\n"
	      "usage: amana COMMAND [OPTIONS] [ARGS]\n"
	      "       amana COMMAND --help\n\ncommands:\n",
	      f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fputs("\nevery command that opens a registry takes:\n"
	      "  -d, --dir DIR    the registry directory (default: $AMANA_HOME)\n"
	      "  --key FILE       the key-encryption key file, kept outside DIR (default: $AMANA_KEY_FILE)\n"
	      "  --json           machine-readable output\n\n"
	      "exit codes: 0 ok, 1 failure, 2 usage, 3 input rejected (errors listed), 4 access denied\n\n"
	      "a first session:\n"
	      "  amana init -d reg --key reg.key\n"
	      "  export AMANA_HOME=reg AMANA_KEY_FILE=reg.key\n"
	      "  amana gen --employers 50 --persons 1000 --months 3 --seed 1 -o files\n"
	      "  amana import files/DS_*_202501.txt\n"
	      "  amana contributions AFFILIATION 202501\n",
	      f);
}

int main(int argc, char **argv)
{
	if (crypto_init() != AMANA_OK) {
		fputs("amana: cannot initialize cryptography (libsodium) or disable core dumps\n", stderr);
		return EXIT_FAILURE_;
	}
	if (argc < 2) {
		help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		help(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		puts("amana 0.1.0");
		return EXIT_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "amana: unknown command '%s'\n\n", argv[1]);
	help(stderr);
	return EXIT_USAGE;
}
