/* test_cli_account.c - `amana account add` against a real registry: each
 * role's scope checked against what the registry holds, the password and
 * second factor kept only hashed and sealed, and every refusal clear. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "pgtest.h"

struct ctx {
	struct registry g;
	char aff[2][8]; /* two registered employers */
	char reg[10]; /* a registered person */
	char pw[4200], short_pw[4200];
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	*state = c;
	registry_new(&c->g, "account");
	run_gen(&c->g, c->g.files, "2", "10", "1", "3");
	char **names;
	size_t n = list_dir(c->g.files, "DS_", &names);
	if (n != 2)
		return -1;
	for (size_t i = 0; i < 2; i++) {
		memcpy(c->aff[i], names[i] + 3, 7);
		c->aff[i][7] = '\0';
	}
	free_list(names, n);
	struct run_result r;
	run_on(&r, &c->g, "person", "register", "--cin", "QA123456", "--name", "Hind Benjelloun", "--birth",
	       "1990-01-02", "--json", NULL);
	assert_exit(&r, 0, "person register");
	if (!json_str(json_ws(r.out), "registration", c->reg, sizeof(c->reg)))
		return -1;
	run_result_free(&r);
	snprintf(c->pw, sizeof(c->pw), "%s/pw", c->g.dir);
	snprintf(c->short_pw, sizeof(c->short_pw), "%s/short", c->g.dir);
	static const char pw[] = "Tizi-n-Test 2026 pass\n", short_pw[] = "tooshort\n";
	if (write_file(c->pw, pw, strlen(pw)) || write_file(c->short_pw, short_pw, strlen(short_pw)))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	registry_free(&c->g);
	free(c);
	return 0;
}

/* Runs `amana account add ARGS... --json` and checks the JSON of success. */
static void add_ok(struct ctx *c, const char *login, const char *role, bool totp, ...)
{
	const char *args[24] = {
		"account", "add", "--role", role, "--login", login, "--password-file", c->pw, "--json"
	};
	size_t n = 9;
	va_list ap;
	va_start(ap, totp);
	for (const char *a; (a = va_arg(ap, const char *)) && n < 23;)
		args[n++] = a;
	va_end(ap);
	struct run_result r;
	run_on_v(&r, &c->g, args, n);
	assert_exit(&r, 0, login);
	const char *o = json_ws(r.out);
	char buf[64];
	assert_non_null(json_str(o, "login", buf, sizeof(buf)));
	assert_string_equal(buf, login);
	assert_non_null(json_str(o, "role", buf, sizeof(buf)));
	assert_string_equal(buf, role);
	assert_true(json_int(o, "id") > 0);
	if (totp) {
		assert_non_null(json_str(o, "totp_secret", buf, sizeof(buf)));
		assert_int_equal(strlen(buf), 32);
		for (size_t i = 0; i < 32; i++)
			assert_true((buf[i] >= 'A' && buf[i] <= 'Z') || (buf[i] >= '2' && buf[i] <= '7'));
		/* the secret, the login and the password are nowhere in the
		 * registry's files (SQLite: the database, its WAL) */
		if (!pgtest_enabled()) {
			char **names;
			size_t nf = list_dir(c->g.home, "", &names);
			for (size_t i = 0; i < nf; i++) {
				char path[8400];
				snprintf(path, sizeof(path), "%s/%s", c->g.home, names[i]);
				size_t len;
				char *data = read_file(path, &len);
				if (!data)
					continue; /* a folder */
				assert_null(memmem(data, len, buf, 32));
				assert_null(memmem(data, len, login, strlen(login)));
				assert_null(memmem(data, len, "Tizi-n-Test", 11));
				free(data);
			}
			free_list(names, nf);
		}
	} else {
		assert_null(json_get(o, "totp_secret"));
	}
	run_result_free(&r);
}

static void test_each_role(void **state)
{
	struct ctx *c = *state;
	add_ok(c, "citizen.hind", "citizen", false, "--person", c->reg, NULL);
	add_ok(c, "atlas.hr", "employer", true, "--employer", c->aff[0], NULL);
	/* an accountant acting for both */
	add_ok(c, "fiduciaire@fes", "employer", true, "--employer", c->aff[0], "--employer", c->aff[1], NULL);
	add_ok(c, "agent-017", "agent", true, NULL);
	add_ok(c, "sup_01", "supervisor", true, NULL);
	add_ok(c, "auditor.cndp", "auditor", true, NULL);
	add_ok(c, "ops", "operator", true, NULL);
	/* without --json: said in words, the secret once */
	struct run_result r;
	run_on(&r, &c->g, "account", "add", "--role", "agent", "--login", "agent-018", "--password-file", c->pw, NULL);
	assert_exit(&r, 0, "account add");
	assert_non_null(strstr(r.out, "agent-018"));
	assert_non_null(strstr(r.out, "TOTP secret"));
	run_result_free(&r);
}

/* Each refusal: its exit code, a message that says what is wrong, and no
 * account made (the login stays free). */
static void test_refusals(void **state)
{
	struct ctx *c = *state;
	add_ok(c, "taken", "agent", true, NULL);
	static const char unknown_aff[] = "1000008", unknown_reg[] = "987654321";
	const struct {
		const char *args[12];
		int status;
		const char *says;
	} cases[] = {
		{ { "--role", "agent", "--login", "taken", "--password-file", c->pw }, 1, "taken" },
		{ { "--role", "employer", "--login", "emp1", "--password-file", c->pw }, 2, "--employer" },
		{ { "--role", "employer", "--login", "emp2", "--password-file", c->pw, "--employer", unknown_aff },
		  1,
		  "not registered" },
		{ { "--role", "citizen", "--login", "cit1", "--password-file", c->pw, "--person", unknown_reg },
		  1,
		  "not registered" },
		{ { "--role", "agent", "--login", "agt1", "--password-file", c->pw, "--person", c->reg },
		  2,
		  "neither" },
		{ { "--role", "citizen", "--login", "cit2", "--password-file", c->pw }, 2, "--person" },
		{ { "--role", "agent", "--login", "agt2", "--password-file", c->short_pw }, 3, "12 to 1024" },
		{ { "--role", "agent", "--login", "Agent.Upper", "--password-file", c->pw }, 2, "a-z" },
		{ { "--role", "agent", "--login", "a'; DROP TABLE accounts;--", "--password-file", c->pw }, 2, "a-z" },
		{ { "--role", "agent", "--login", "ab", "--password-file", c->pw }, 2, "3 to 64" },
		{ { "--role", "root", "--login", "agt3", "--password-file", c->pw }, 2, "--role" },
		{ { "--role", "agent", "--login", "agt4" }, 2, "--password-file" },
		{ { "--role", "agent", "--login", "agt5", "--password-file", "/nonexistent/pw" }, 1, "password file" },
		{ { "--role", "employer", "--login", "emp3", "--password-file", c->pw, "--employer", "12345" },
		  2,
		  "7-digit" },
		{ { "--role", "employer", "--login", "emp4", "--password-file", c->pw, "--employer", c->aff[0],
		    "--employer", c->aff[0] },
		  2,
		  "twice" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[16] = { "account", "add" };
		size_t n = 2;
		for (size_t k = 0; k < 12 && cases[i].args[k]; k++)
			args[n++] = cases[i].args[k];
		struct run_result r;
		run_on_v(&r, &c->g, args, n);
		if (r.status != cases[i].status || !strstr(r.err, cases[i].says))
			fail_msg("case %zu: exit %d (expected %d), stderr: %s (expected to say \"%s\")", i, r.status,
				 cases[i].status, r.err, cases[i].says);
		run_result_free(&r);
	}
	/* the refused logins stayed free */
	add_ok(c, "emp2", "agent", true, NULL);
	add_ok(c, "agt2", "agent", true, NULL);
	struct run_result r;
	run_on(&r, &c->g, "account", "--help", NULL);
	assert_exit(&r, 0, "account --help");
	assert_non_null(strstr(r.out, "usage: amana account add"));
	run_result_free(&r);
	run_on(&r, &c->g, "account", "remove", NULL);
	assert_exit(&r, 2, "account remove");
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_each_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};
	return cmocka_run_group_tests_name("cli account", tests, NULL, NULL);
}
