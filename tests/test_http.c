/* test_http.c - amanad on a free loopback port, driven over real HTTP:
 * health, logins with password and TOTP, the session's account, logout,
 * password guessing locked out, malformed and oversized input refused,
 * every login attempt on the audit log; each role's reads of persons
 * allowed and refused, an agent stopped at its budget, suspended, alerted
 * and unlocked by a supervisor, a bait record's read alerting. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <liboath/oath.h>

#include "core/ebds.h"
#include "core/ids.h"
#include "crypto/auth.h"
#include "crypto/crypto.h"
#include "harness.h"

struct ctx {
	struct registry g;
	pid_t pid;
	uint16_t port;
	char pw[4200];
	char totp[64]; /* the agent account's secret, base32 */
	char sup_totp[64]; /* the supervisor's */
	char reg[16]; /* the citizen's own registration */
	char aff[2][16]; /* two employers; the employer account acts for the first */
	char emp_totp[64]; /* the employer account's secret */
	char aud_totp[64]; /* the auditor's */
	char regs[4][16]; /* other persons; the last one bait */
	char log[4200]; /* amanad's standard error */
};

struct response {
	int status;
	char head[8192];
	char body[80000];
};

/* A request sent on a new connection (Connection: close), its answer not
 * read yet: the socket. body may be NULL; extra is more header lines ("" if
 * none). */
static int request_send(const struct ctx *c, const char *method, const char *path, const char *extra, const char *body,
			size_t body_len)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(c->port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	/* an answer that never comes fails the test instead of hanging it */
	struct timeval limit = { .tv_sec = 60 };
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)), 0);
	static char head[65536];
	int n = snprintf(head, sizeof(head),
			 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n",
			 method, path, extra, body ? body_len : 0);
	assert_true(n > 0 && (size_t)n < sizeof(head));
	assert_int_equal(write(fd, head, (size_t)n), n);
	for (size_t off = 0; body && off < body_len;) {
		ssize_t k = write(fd, body + off, body_len - off);
		if (k <= 0)
			break; /* the server may answer and close before the end */
		off += (size_t)k;
	}
	return fd;
}

/* The answer on a socket of request_send, read to its end; then closed. */
static void request_read(int fd, struct response *out)
{
	static char buf[200000];
	size_t len = 0;
	for (;;) {
		ssize_t k = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	buf[len] = '\0';
	memset(out, 0, sizeof(*out));
	assert_true(sscanf(buf, "HTTP/1.1 %d", &out->status) == 1);
	char *sep = strstr(buf, "\r\n\r\n");
	assert_non_null(sep);
	size_t hl = (size_t)(sep - buf);
	assert_true(hl < sizeof(out->head));
	memcpy(out->head, buf, hl);
	snprintf(out->body, sizeof(out->body), "%s", sep + 4);
}

/* One request on a new connection, its answer read to its end. */
static void request(const struct ctx *c, const char *method, const char *path, const char *extra, const char *body,
		    size_t body_len, struct response *out)
{
	request_read(request_send(c, method, path, extra, body, body_len), out);
}

static void login(const struct ctx *c, const char *login_name, const char *password, const char *totp,
		  struct response *out)
{
	char body[512];
	int n = totp ? snprintf(body, sizeof(body), "{\"login\":\"%s\",\"password\":\"%s\",\"totp\":\"%s\"}",
				login_name, password, totp)
		     : snprintf(body, sizeof(body), "{\"login\":\"%s\",\"password\":\"%s\"}", login_name, password);
	request(c, "POST", "/v1/sessions", "Content-Type: application/json\r\n", body, (size_t)n, out);
}

static void totp_code(const char *b32, int64_t now, char code[7])
{
	char *secret = NULL;
	size_t n = 0;
	assert_int_equal(oath_base32_decode(b32, strlen(b32), &secret, &n), OATH_OK);
	assert_int_equal(n, CRYPTO_TOTP_SECRET_BYTES);
	assert_int_equal(crypto_totp_code((const uint8_t *)secret, now, code), AMANA_OK);
	free(secret);
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	if (!c || crypto_init() != AMANA_OK)
		return -1;
	*state = c;
	registry_new(&c->g, "http");
	struct run_result r;
	run_on(&r, &c->g, "person", "register", "--cin", "QB654321", "--name", "Said Alaoui", "--birth", "1985-05-06",
	       "--json", NULL);
	assert_exit(&r, 0, "person register");
	assert_non_null(json_str(json_ws(r.out), "registration", c->reg, sizeof(c->reg)));
	run_result_free(&r);
	for (int i = 0; i < 4; i++) {
		char cin[16];
		snprintf(cin, sizeof(cin), "QB65433%d", i);
		run_on(&r, &c->g, "person", "register", "--cin", cin, "--name", "Nadia Tazi", "--birth", "1990-01-02",
		       "--json", NULL);
		assert_exit(&r, 0, "person register");
		assert_non_null(json_str(json_ws(r.out), "registration", c->regs[i], sizeof(c->regs[i])));
		run_result_free(&r);
	}
	run_on(&r, &c->g, "person", "flag", c->regs[3], "--honeytoken", NULL);
	assert_exit(&r, 0, "person flag");
	run_result_free(&r);
	char policy[4200];
	snprintf(policy, sizeof(policy), "%s/policy", c->g.dir);
	static const char budgets[] = "# the tests' budgets\nagent.persons_per_hour = 3\n";
	assert_int_equal(write_file(policy, budgets, strlen(budgets)), 0);
	snprintf(c->log, sizeof(c->log), "%s/amanad.log", c->g.dir);
	snprintf(c->pw, sizeof(c->pw), "%s/pw", c->g.dir);
	static const char pw[] = "correct horse battery\n";
	assert_int_equal(write_file(c->pw, pw, strlen(pw)), 0);
	run_on(&r, &c->g, "account", "add", "--role", "citizen", "--login", "said", "--person", c->reg,
	       "--password-file", c->pw, NULL);
	assert_exit(&r, 0, "account add citizen");
	run_result_free(&r);
	run_on(&r, &c->g, "account", "add", "--role", "agent", "--login", "agent.7", "--password-file", c->pw, "--json",
	       NULL);
	assert_exit(&r, 0, "account add agent");
	assert_non_null(json_str(json_ws(r.out), "totp_secret", c->totp, sizeof(c->totp)));
	run_result_free(&r);
	for (int i = 0; i < 2; i++) {
		snprintf(c->aff[i], sizeof(c->aff[i]), "%07u", affiliation_make(270389 + (uint32_t)i));
		run_on(&r, &c->g, "employer", "register", "--affiliation", c->aff[i], "--name", "Atlas Textile", NULL);
		assert_exit(&r, 0, "employer register");
		run_result_free(&r);
	}
	run_on(&r, &c->g, "account", "add", "--role", "employer", "--login", "acct.fes", "--employer", c->aff[0],
	       "--password-file", c->pw, "--json", NULL);
	assert_exit(&r, 0, "account add employer");
	assert_non_null(json_str(json_ws(r.out), "totp_secret", c->emp_totp, sizeof(c->emp_totp)));
	run_result_free(&r);
	run_on(&r, &c->g, "account", "add", "--role", "auditor", "--login", "aud.1", "--password-file", c->pw, "--json",
	       NULL);
	assert_exit(&r, 0, "account add auditor");
	assert_non_null(json_str(json_ws(r.out), "totp_secret", c->aud_totp, sizeof(c->aud_totp)));
	run_result_free(&r);
	run_on(&r, &c->g, "account", "add", "--role", "supervisor", "--login", "sup.1", "--password-file", c->pw,
	       "--json", NULL);
	assert_exit(&r, 0, "account add supervisor");
	assert_non_null(json_str(json_ws(r.out), "totp_secret", c->sup_totp, sizeof(c->sup_totp)));
	run_result_free(&r);

	/* amanad on a free port: it prints the port on its first line */
	int p[2];
	assert_int_equal(pipe(p), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		int log = open(c->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (log >= 0)
			dup2(log, 2);
		const char *bin = getenv("AMANAD_BIN");
		execl(bin, bin, "-d", c->g.home, "--key", c->g.key, "--listen", "127.0.0.1:0", "--threads", "4",
		      "--policy", policy, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char line[256];
	size_t len = 0;
	while (len < sizeof(line) - 1) {
		ssize_t k = read(p[0], line + len, 1);
		if (k <= 0 || line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	close(p[0]);
	unsigned port = 0;
	const char *colon = strrchr(line, ':');
	if (!colon || sscanf(colon + 1, "%u", &port) != 1 || port == 0 || port > 65535) {
		fprintf(stderr, "amanad said: %s\n", line);
		return -1;
	}
	c->port = (uint16_t)port;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	if (c->pid > 0) {
		kill(c->pid, SIGTERM);
		int st;
		waitpid(c->pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "amanad did not stop cleanly\n");
			return -1;
		}
	}
	registry_free(&c->g);
	free(c);
	return 0;
}

static void test_health_and_headers(void **state)
{
	struct ctx *c = *state;
	struct response r;
	request(c, "GET", "/healthz", "", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"status\":\"ok\"}");
	static const char *const headers[] = { "Content-Type: application/json", "Cache-Control: no-store",
					       "X-Content-Type-Options: nosniff", "X-Frame-Options: DENY",
					       "Content-Security-Policy: default-src 'none'" };
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
		if (!strstr(r.head, headers[i]))
			fail_msg("missing header %s in:\n%s", headers[i], r.head);
	request(c, "GET", "/v1/nothing", "", NULL, 0, &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body, "\"error\":\"not found\""));
	request(c, "PUT", "/healthz", "", NULL, 0, &r);
	assert_int_equal(r.status, 405);
}

/* A citizen (no second factor) and an agent (TOTP): the token opens
 * /v1/me with the account's scope; logout closes it. */
static void test_login_me_logout(void **state)
{
	struct ctx *c = *state;
	struct response r;
	login(c, "said", "correct horse battery", NULL, &r);
	assert_int_equal(r.status, 201);
	char token[80];
	assert_non_null(json_str(r.body, "token", token, sizeof(token)));
	assert_int_equal(strlen(token), 64);
	char auth[200];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", token);
	request(c, "GET", "/v1/me", auth, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	char buf[32];
	assert_string_equal(json_str(r.body, "role", buf, sizeof(buf)), "citizen");
	assert_string_equal(json_str(r.body, "person", buf, sizeof(buf)), c->reg);
	request(c, "DELETE", "/v1/sessions/current", auth, NULL, 0, &r);
	assert_int_equal(r.status, 204);
	request(c, "GET", "/v1/me", auth, NULL, 0, &r);
	assert_int_equal(r.status, 401);
	request(c, "GET", "/v1/me", "", NULL, 0, &r);
	assert_int_equal(r.status, 401);
	request(c, "GET", "/v1/me", "Authorization: Bearer 1234\r\n", NULL, 0, &r);
	assert_int_equal(r.status, 401);

	/* the agent: without its code refused, with it let in */
	login(c, "agent.7", "correct horse battery", NULL, &r);
	assert_int_equal(r.status, 401);
	char code[7];
	totp_code(c->totp, (int64_t)time(NULL), code);
	login(c, "agent.7", "correct horse battery", code, &r);
	assert_int_equal(r.status, 201);
	assert_non_null(json_str(r.body, "token", token, sizeof(token)));
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", token);
	request(c, "GET", "/v1/me", auth, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_str(r.body, "role", buf, sizeof(buf)), "agent");
}

/* Guessing the password locks the account: five wrong tries, then the
 * right password is refused too. Every attempt is on the audit log. */
static void test_guessing_locks(void **state)
{
	struct ctx *c = *state;
	struct response r;
	for (int i = 0; i < 5; i++) {
		login(c, "said", "wrong password number", NULL, &r);
		assert_int_equal(r.status, 401);
		assert_null(strstr(r.body, "said")); /* nothing echoed */
	}
	login(c, "said", "correct horse battery", NULL, &r);
	assert_int_equal(r.status, 401);
	/* what the log says: the refusals, with why */
	struct run_result q;
	run_on(&q, &c->g, "audit", "query", "--principal", "http:anonymous", "--json", NULL);
	assert_exit(&q, 0, "audit query");
	size_t opened = 0, locked = 0;
	for (const char *p = q.out; (p = strstr(p, "\"action\":\"session.open\"")); p++)
		opened++;
	for (const char *p = q.out; (p = strstr(p, "locked after repeated failures")); p++)
		locked++;
	assert_int_equal(opened, 6);
	assert_int_equal(locked, 1);
	assert_non_null(strstr(q.out, "\"client\":\"127.0.0.1\""));
	run_result_free(&q);
}

/* Malformed, injection-shaped and oversized input: 4xx, nothing changed,
 * the server still up. */
static void test_bad_input(void **state)
{
	struct ctx *c = *state;
	struct response r;
	static const char *const bodies[] = {
		"",
		"not json",
		"[1,2,3]",
		"{\"login\":1,\"password\":2}",
		"{\"login\":\"said\"}",
		"{\"login\":\"said\",\"password\":\"correct horse battery\",\"extra\":1,\"more\":2}",
		"{\"login\":\"said\",\"login\":\"x\",\"password\":\"correct horse battery\"}",
		"{\"login\":\"sa\\u0000id\",\"password\":\"correct horse battery\"}",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
		"]]"
		"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		request(c, "POST", "/v1/sessions", "", bodies[i], strlen(bodies[i]), &r);
		if (r.status != 400)
			fail_msg("body %zu: status %d, %s", i, r.status, r.body);
		assert_non_null(strstr(r.body, "\"error\":\"bad request\""));
	}
	login(c, "said' OR '1'='1", "x' OR '1'='1' --", NULL, &r);
	assert_int_equal(r.status, 401);
	static char big[70000];
	memset(big, 'a', sizeof(big));
	request(c, "POST", "/v1/sessions", "", big, sizeof(big), &r);
	assert_int_equal(r.status, 413);
	/* a header block larger than the server keeps per connection */
	static char huge[40000];
	memset(huge, 'x', sizeof(huge) - 4);
	memcpy(huge, "X-A: ", 5);
	memcpy(huge + sizeof(huge) - 4, "\r\n", 3);
	request(c, "GET", "/healthz", huge, NULL, 0, &r);
	assert_true(r.status == 413 || r.status == 431 || r.status == 400);
	request(c, "GET", "/healthz", "", NULL, 0, &r);
	assert_int_equal(r.status, 200);
}

/* Log in (with the account's code when totp is set) and make the
 * Authorization header line of the session into auth. */
static void session(struct ctx *c, const char *login_name, const char *totp, char auth[200])
{
	struct response r;
	char code[7];
	if (totp)
		totp_code(totp, (int64_t)time(NULL), code);
	login(c, login_name, "correct horse battery", totp ? code : NULL, &r);
	if (r.status != 201)
		fail_msg("login %s: %d %s", login_name, r.status, r.body);
	char token[80];
	assert_non_null(json_str(r.body, "token", token, sizeof(token)));
	snprintf(auth, 200, "Authorization: Bearer %s\r\n", token);
}

/* GET /v1/persons/REG with auth and, if purpose, X-Purpose. */
static int read_person(struct ctx *c, const char *auth, const char *reg, const char *purpose, struct response *r)
{
	char path[64], head[400];
	snprintf(path, sizeof(path), "/v1/persons/%s", reg);
	snprintf(head, sizeof(head), "%s%s%s%s", auth, purpose ? "X-Purpose: " : "", purpose ? purpose : "",
		 purpose ? "\r\n" : "");
	request(c, "GET", path, head, NULL, 0, r);
	return r->status;
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Each role on GET /v1/persons/{reg}: the citizen itself only, the agent
 * with a purpose, the supervisor never; who may not read a number learns
 * nothing of whether it exists; every read, refused or not, logged. */
static void test_person_reads_by_role(void **state)
{
	struct ctx *c = *state;
	struct response r;
	char citizen[200], agent[200], sup[200];
	session(c, "said", NULL, citizen);
	session(c, "agent.7", c->totp, agent);
	session(c, "sup.1", c->sup_totp, sup);

	assert_int_equal(read_person(c, citizen, c->reg, NULL, &r), 200);
	char buf[64];
	assert_string_equal(json_str(r.body, "registration", buf, sizeof(buf)), c->reg);
	assert_string_equal(json_str(r.body, "name", buf, sizeof(buf)), "SAID ALAOUI");
	assert_string_equal(json_str(r.body, "birth_date", buf, sizeof(buf)), "1985-05-06");
	assert_int_equal(read_person(c, citizen, c->regs[0], NULL, &r), 403);
	assert_null(strstr(r.body, "NADIA"));
	assert_int_equal(read_person(c, citizen, "199999990", NULL, &r), 403); /* no such person: the same */

	assert_int_equal(read_person(c, agent, c->regs[0], NULL, &r), 403); /* no purpose */
	assert_int_equal(read_person(c, agent, c->regs[0], "case 2026-114", &r), 200);
	assert_string_equal(json_str(r.body, "name", buf, sizeof(buf)), "NADIA TAZI");
	assert_int_equal(read_person(c, agent, "199999990", "case 2026-114", &r), 404);
	assert_int_equal(read_person(c, agent, "12345", "case 2026-114", &r), 400);
	assert_int_equal(read_person(c, agent, "1000000x8", "case 2026-114", &r), 400);
	assert_int_equal(read_person(c, agent, "199999990' OR '1'='1", "case", &r), 400);
	assert_int_equal(read_person(c, "", c->regs[0], "case 2026-114", &r), 401);

	assert_int_equal(read_person(c, sup, c->regs[0], "case 2026-114", &r), 403);
	request(c, "GET", "/v1/alerts", agent, NULL, 0, &r);
	assert_int_equal(r.status, 403);
	request(c, "GET", "/v1/alerts", citizen, NULL, 0, &r);
	assert_int_equal(r.status, 403);
	request(c, "GET", "/v1/alerts?limit=0", sup, NULL, 0, &r);
	assert_int_equal(r.status, 400);
	request(c, "POST", "/v1/principals/1/unlock", agent, NULL, 0, &r);
	assert_int_equal(r.status, 403);
	request(c, "GET", "/v1/persons/", agent, NULL, 0, &r);
	assert_int_equal(r.status, 404);

	/* on the audit log, each of those reads of the person: allowed or not */
	struct run_result q;
	run_on(&q, &c->g, "audit", "query", "--subject", c->regs[0], "--json", NULL);
	assert_exit(&q, 0, "audit query");
	assert_int_equal(count_of(q.out, "\"action\":\"person.show\""), 4);
	assert_int_equal(count_of(q.out, "\"action\":\"person.show\",\"outcome\":\"allowed\""), 1);
	assert_int_equal(count_of(q.out, "\"action\":\"person.show\",\"outcome\":\"denied\""), 3);
	run_result_free(&q);
}

/* A process holding the audit log's file lock, as another writer would,
 * until done[1] is closed, or 10 s at most (a failed test does not leave
 * amanad waiting on it forever). Returns once the lock is held. */
static pid_t hold_audit_lock(const struct ctx *c, int done[2], int locked[2])
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/audit/lock", c->g.home);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(done[1]);
		close(locked[0]);
		int fd = open(path, O_RDWR);
		if (fd < 0 || flock(fd, LOCK_EX) != 0)
			_exit(1);
		if (write(locked[1], "L", 1) != 1)
			_exit(1);
		struct pollfd pf = { .fd = done[0], .events = POLLIN };
		(void)poll(&pf, 1, 10000);
		_exit(0);
	}
	close(done[0]);
	close(locked[1]);
	char b = 0;
	assert_int_equal(read(locked[0], &b, 1), 1);
	close(locked[0]);
	return pid;
}

/* The audit log stops taking entries while reads are answered (any write
 * past its present end fails, as on a full disk): each read's answer,
 * held for its entry, becomes a 500 and nothing of the person leaves; the
 * server keeps running and stops cleanly. */
static void test_audit_failure_fails_closed(void **state)
{
	struct ctx *c = *state;
	struct response r;
	char agent[200];
	session(c, "agent.7", c->totp, agent);
	assert_int_equal(read_person(c, agent, c->regs[0], "case 2026-114", &r), 200);
	assert_non_null(strstr(r.body, "NADIA"));

	char path[4200];
	snprintf(path, sizeof(path), "%s/audit/entries", c->g.home);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	struct rlimit lim;
	assert_int_equal(prlimit(c->pid, RLIMIT_FSIZE, NULL, &lim), 0);
	lim.rlim_cur = (rlim_t)st.st_size;
	assert_int_equal(prlimit(c->pid, RLIMIT_FSIZE, &lim, NULL), 0);
	/* Eight reads while the log's file lock is held here (as by another
	 * process writing): their entries are queued and their answers held,
	 * nothing sent. Once the lock is let go the write fails, and each held
	 * answer is replaced by the error. A read after that finds the log
	 * broken before it queues. */
	int done[2], locked[2];
	assert_int_equal(pipe(done), 0);
	assert_int_equal(pipe(locked), 0);
	pid_t locker = hold_audit_lock(c, done, locked);
	char head[400], where[64];
	snprintf(head, sizeof(head), "%sX-Purpose: case 2026-114\r\n", agent);
	int fds[8];
	for (int i = 0; i < 8; i++) {
		snprintf(where, sizeof(where), "/v1/persons/%s", c->regs[i % 2]);
		fds[i] = request_send(c, "GET", where, head, NULL, 0);
	}
	struct pollfd pf = { .fd = fds[7], .events = POLLIN };
	assert_int_equal(poll(&pf, 1, 500), 0); /* held: no answer before its entry is written */
	/* held by the server, not waited for on its four threads (which would
	 * leave no thread to answer /metrics, and none counted as held) */
	request(c, "GET", "/metrics", "", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\namanad_held_answers 8\n"));
	close(done[1]); /* the locker lets go */
	int lst;
	assert_int_equal(waitpid(locker, &lst, 0), locker);
	assert_true(WIFEXITED(lst) && WEXITSTATUS(lst) == 0);
	for (int i = 0; i < 8; i++) {
		request_read(fds[i], &r);
		assert_int_equal(r.status, 500);
		assert_null(strstr(r.body, "NADIA"));
		assert_null(strstr(r.body, "TAZI"));
		assert_non_null(strstr(r.body, "could not be written to the audit log"));
	}
	assert_int_equal(read_person(c, agent, c->regs[0], "case 2026-114", &r), 500);
	assert_null(strstr(r.body, "NADIA"));
	request(c, "GET", "/healthz", "", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((rlim_t)st.st_size, lim.rlim_cur); /* nothing more was written */
	kill(c->pid, SIGTERM);
	int status;
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	assert_true(WIFEXITED(status)); /* not killed by SIGXFSZ */
	c->pid = 0;
}

/* An agent reading past its budget (3 persons an hour here): refused with
 * 429, alerted, suspended (its token stops working) until a supervisor
 * unlocks it, then it reads again. */
static void test_budget_suspends_until_unlocked(void **state)
{
	struct ctx *c = *state;
	struct response r;
	char agent[200], sup[200];
	session(c, "agent.7", c->totp, agent);
	session(c, "sup.1", c->sup_totp, sup);
	request(c, "GET", "/v1/me", agent, NULL, 0, &r);
	long long agent_id = json_int(r.body, "account");
	request(c, "GET", "/v1/me", sup, NULL, 0, &r);
	long long sup_id = json_int(r.body, "account");
	assert_true(agent_id > 0 && sup_id > 0);

	assert_int_equal(read_person(c, agent, c->reg, "case 1", &r), 200);
	assert_int_equal(read_person(c, agent, c->regs[0], "case 1", &r), 200);
	assert_int_equal(read_person(c, agent, c->regs[1], "case 1", &r), 200);
	assert_int_equal(read_person(c, agent, c->reg, "case 1", &r), 200); /* a reread costs nothing */
	assert_int_equal(read_person(c, agent, c->regs[2], "case 1", &r), 429);
	assert_non_null(strstr(r.body, "suspended"));
	assert_int_equal(read_person(c, agent, c->reg, "case 1", &r), 401);

	request(c, "GET", "/v1/alerts", sup, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	char want[64];
	snprintf(want, sizeof(want), "\"account\":%lld", agent_id);
	assert_non_null(strstr(r.body, want));
	assert_non_null(strstr(r.body, "\"kinds\":[\"budget\"]"));
	snprintf(want, sizeof(want), "\"subject\":\"%s\"", c->regs[2]);
	assert_non_null(strstr(r.body, want));

	char path[64];
	snprintf(path, sizeof(path), "/v1/principals/%lld/unlock", sup_id);
	request(c, "POST", path, sup, NULL, 0, &r);
	assert_int_equal(r.status, 403); /* not one's own */
	request(c, "POST", "/v1/principals/99999/unlock", sup, NULL, 0, &r);
	assert_int_equal(r.status, 404);
	snprintf(path, sizeof(path), "/v1/principals/%lld/unlock", agent_id);
	request(c, "POST", path, sup, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(read_person(c, agent, c->regs[2], "case 1", &r), 200);

	/* suspended again, then unlocked by another process (the CLI): the
	 * server follows the store at the account's next request */
	assert_int_equal(read_person(c, agent, c->regs[0], "case 1", &r), 200);
	assert_int_equal(read_person(c, agent, c->regs[1], "case 1", &r), 200);
	assert_int_equal(read_person(c, agent, c->regs[3], "case 1", &r), 429);
	assert_int_equal(read_person(c, agent, c->reg, "case 1", &r), 401);
	char id[24];
	snprintf(id, sizeof(id), "%lld", agent_id);
	struct run_result q;
	run_on(&q, &c->g, "account", "unlock", id, "--json", NULL);
	assert_exit(&q, 0, "account unlock");
	assert_non_null(strstr(q.out, "\"unlocked\":true"));
	run_result_free(&q);
	assert_int_equal(read_person(c, agent, c->reg, "case 1", &r), 200);
	run_on(&q, &c->g, "account", "unlock", "99999", NULL);
	assert_int_not_equal(q.status, 0);
	run_result_free(&q);

	/* the alert went to the server's log as a JSON line, naming no one */
	size_t len = 0;
	char *log = read_file(c->log, &len);
	assert_non_null(log);
	assert_non_null(strstr(log, "{\"alert\":"));
	assert_non_null(strstr(log, "\"budget\""));
	assert_null(strstr(log, c->regs[2]));
	assert_null(strstr(log, "NADIA"));
	free(log);
}

/* A bait record read: served as any other, alerted with the reader. */
static void test_honeytoken_read_alerts(void **state)
{
	struct ctx *c = *state;
	struct response r;
	char agent[200], sup[200];
	session(c, "agent.7", c->totp, agent);
	session(c, "sup.1", c->sup_totp, sup);
	request(c, "GET", "/v1/alerts", sup, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"alerts\":[]}");
	assert_int_equal(read_person(c, agent, c->regs[3], "case 9", &r), 200);
	assert_non_null(strstr(r.body, "NADIA TAZI"));
	request(c, "GET", "/v1/alerts", sup, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"kinds\":[\"honeytoken\"]"));
	char want[64];
	snprintf(want, sizeof(want), "\"subject\":\"%s\"", c->regs[3]);
	assert_non_null(strstr(r.body, want));
	request(c, "GET", "/v1/alerts?after=1", sup, NULL, 0, &r);
	assert_string_equal(r.body, "{\"alerts\":[]}");
	/* the metrics count the calls, and say nothing of whom */
	request(c, "GET", "/metrics", "", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.head, "text/plain"));
	assert_non_null(strstr(r.body, "amanad_requests_total{route=\"GET /v1/persons/{reg}\",code=\"200\"} 1"));
	assert_null(strstr(r.body, c->regs[3]));
}

/* A citizen sees who read their record and why, and their career;
 * nobody else's, and no one else sees theirs. */
static void test_citizen_access_log_and_career(void **state)
{
	struct ctx *c = *state;
	struct response r;
	char citizen[200], agent[200];
	session(c, "said", NULL, citizen);
	session(c, "agent.7", c->totp, agent);
	assert_int_equal(read_person(c, agent, c->reg, "case 2026-77 benefit claim", &r), 200);
	assert_int_equal(read_person(c, agent, c->regs[0], "case 2026-78", &r), 200);
	request(c, "GET", "/v1/me/access-log", citizen, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"purpose\":\"case 2026-77 benefit claim\""));
	assert_non_null(strstr(r.body, "\"role\":\"agent\""));
	assert_null(strstr(r.body, "case 2026-78")); /* another person's read */
	assert_non_null(strstr(r.body, "\"truncated\":false"));
	request(c, "GET", "/v1/me/access-log", agent, NULL, 0, &r);
	assert_int_equal(r.status, 403);
	request(c, "GET", "/v1/me/career", citizen, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	char buf[32];
	assert_string_equal(json_str(r.body, "registration", buf, sizeof(buf)), c->reg);
	request(c, "GET", "/v1/me/career", agent, NULL, 0, &r);
	assert_int_equal(r.status, 403);
	/* a purpose that is not printable ASCII */
	assert_int_equal(read_person(c, agent, c->regs[0], "case \x01", &r), 400);

	/* rights: the citizen's own, at a date; no career declared yet */
	request(c, "GET", "/v1/me/rights?at=2025-03-15", citizen, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_str(r.body, "at", buf, sizeof(buf)), "2025-03-15");
	assert_non_null(strstr(r.body, "\"rule\":\"family.days\""));
	assert_non_null(strstr(r.body, "\"rule\":\"pension.age\""));
	assert_non_null(strstr(r.body, "\"rule\":\"amo.days\""));
	request(c, "GET", "/v1/me/rights", citizen, NULL, 0, &r); /* today */
	assert_int_equal(r.status, 200);
	request(c, "GET", "/v1/me/rights?at=2025-02-30", citizen, NULL, 0, &r);
	assert_int_equal(r.status, 400);
	request(c, "GET", "/v1/me/rights?at=20250315", citizen, NULL, 0, &r);
	assert_int_equal(r.status, 400);
	request(c, "GET", "/v1/me/pension?at=2045-05-06", citizen, NULL, 0, &r); /* aged 60 that day */
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"rule\":\"pension.refund\""));
	request(c, "GET", "/v1/me/rights", agent, NULL, 0, &r);
	assert_int_equal(r.status, 403);
	/* an agent: with a purpose only; the read is in the citizen's history */
	char path[64], head[400];
	snprintf(path, sizeof(path), "/v1/persons/%s/rights?at=2025-03-15", c->reg);
	request(c, "GET", path, agent, NULL, 0, &r);
	assert_int_equal(r.status, 403);
	snprintf(head, sizeof(head), "%sX-Purpose: case 2026-79 allowance\r\n", agent);
	request(c, "GET", path, head, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_str(r.body, "registration", buf, sizeof(buf)), c->reg);
	request(c, "GET", "/v1/persons/100000000/rights", head, NULL, 0, &r);
	assert_int_equal(r.status, 404);
	request(c, "GET", "/v1/me/access-log", citizen, NULL, 0, &r);
	assert_non_null(strstr(r.body, "\"purpose\":\"case 2026-79 allowance\""));
	assert_non_null(strstr(r.body, "\"action\":\"rights.read\""));
	assert_non_null(strstr(r.body, "\"action\":\"pension.read\""));
}

/* An employer account walking other employers' numbers gets nothing but
 * 403, exists or not; its own gets its data. */
static void test_employer_scope(void **state)
{
	struct ctx *c = *state;
	struct response r;
	char emp[200], agent[200];
	session(c, "acct.fes", c->emp_totp, emp);
	session(c, "agent.7", c->totp, agent);
	char path[128];
	for (uint32_t p = 270380; p < 270400; p++) {
		char aff[16];
		snprintf(aff, sizeof(aff), "%07u", affiliation_make(p));
		if (!strcmp(aff, c->aff[0]))
			continue;
		snprintf(path, sizeof(path), "/v1/employers/%s/contributions/202501", aff);
		request(c, "GET", path, emp, NULL, 0, &r);
		if (r.status != 403)
			fail_msg("%s: %d %s", path, r.status, r.body);
		snprintf(path, sizeof(path), "/v1/employers/%s/prefilled/202502", aff);
		request(c, "GET", path, emp, NULL, 0, &r);
		if (r.status != 403)
			fail_msg("%s: %d %s", path, r.status, r.body);
		assert_null(strstr(r.body, "A00"));
	}
	snprintf(path, sizeof(path), "/v1/employers/%s/contributions/202501", c->aff[0]);
	request(c, "GET", path, emp, NULL, 0, &r);
	assert_int_equal(r.status, 404); /* its own: nothing declared yet */
	snprintf(path, sizeof(path), "/v1/employers/%s/prefilled/202502", c->aff[0]);
	request(c, "GET", path, emp, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.head, "text/plain"));
	assert_true(strncmp(r.body, "A00", 3) == 0);
	snprintf(path, sizeof(path), "/v1/employers/%s/prefilled/202513", c->aff[0]);
	request(c, "GET", path, emp, NULL, 0, &r);
	assert_int_equal(r.status, 400);
	/* an agent reads an employer's only with a purpose */
	snprintf(path, sizeof(path), "/v1/employers/%s/contributions/202501", c->aff[1]);
	request(c, "GET", path, agent, NULL, 0, &r);
	assert_int_equal(r.status, 403);
	char head[400];
	snprintf(head, sizeof(head), "%sX-Purpose: case 5\r\n", agent);
	request(c, "GET", path, head, NULL, 0, &r);
	assert_int_equal(r.status, 404);
}

/* The audit routes: an auditor's; an operator checks the tree (heads and
 * proofs say nothing of anyone) but does not read the entries (who read
 * whom, and why); nobody else gets any. */
static void test_audit_routes(void **state)
{
	struct ctx *c = *state;
	struct response r;
	char aud[200], agent[200], op[200];
	session(c, "aud.1", c->aud_totp, aud);
	session(c, "agent.7", c->totp, agent);
	struct run_result q;
	run_on(&q, &c->g, "account", "add", "--role", "operator", "--login", "op.1", "--password-file", c->pw, "--json",
	       NULL);
	assert_exit(&q, 0, "account add operator");
	char op_totp[64];
	assert_non_null(json_str(json_ws(q.out), "totp_secret", op_totp, sizeof(op_totp)));
	run_result_free(&q);
	session(c, "op.1", op_totp, op);
	assert_int_equal(read_person(c, agent, c->regs[1], "case 3", &r), 200);
	/* an employer's figures read for a case: the case is in the entry */
	char path[128], head[400];
	snprintf(path, sizeof(path), "/v1/employers/%s/contributions/202501", c->aff[1]);
	snprintf(head, sizeof(head), "%sX-Purpose: case 11\r\n", agent);
	request(c, "GET", path, head, NULL, 0, &r);
	assert_int_equal(r.status, 404);
	request(c, "GET", "/v1/audit/sth", agent, NULL, 0, &r);
	assert_int_equal(r.status, 403);
	request(c, "GET", "/v1/audit/entries", agent, NULL, 0, &r);
	assert_int_equal(r.status, 403);
	request(c, "GET", "/v1/audit/sth", op, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	request(c, "GET", "/v1/audit/proof/0", op, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	request(c, "GET", "/v1/audit/entries", op, NULL, 0, &r);
	assert_int_equal(r.status, 403);
	snprintf(path, sizeof(path), "/v1/audit/entries?employer=%s", c->aff[1]);
	request(c, "GET", path, aud, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"purpose\":\"case 11\""));
	request(c, "GET", "/v1/audit/sth", aud, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	long long size = json_int(r.body, "tree_size");
	assert_true(size > 5);
	request(c, "GET", "/v1/audit/proof/0", aud, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"leaf_index\":0"));
	request(c, "GET", "/v1/audit/proof/99999999", aud, NULL, 0, &r);
	assert_int_equal(r.status, 404);
	snprintf(path, sizeof(path), "/v1/audit/entries?person=%s", c->regs[1]);
	request(c, "GET", path, aud, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"purpose\":\"case 3\""));
	request(c, "GET", "/v1/audit/entries?person=abc", aud, NULL, 0, &r);
	assert_int_equal(r.status, 400);
}

/* A declaration sent over HTTP by its employer's account: accepted once
 * (201), refused the second time with the errors (422, nothing written),
 * refused for another employer's number (403), refused when the file
 * declares another employer than the one it was sent for (422). */
static void test_declaration_upload(void **state)
{
	struct ctx *c = *state;
	struct response r;
	run_gen(&c->g, c->g.files, "2", "12", "1", "11");
	char **names;
	size_t n = list_dir(c->g.files, "DS_", &names);
	assert_int_equal(n, 2);
	char aff[2][8];
	for (int i = 0; i < 2; i++)
		snprintf(aff[i], sizeof(aff[i]), "%.7s", names[i] + 3);
	struct run_result q;
	run_on(&q, &c->g, "account", "add", "--role", "employer", "--login", "hr.upload", "--employer", aff[0],
	       "--password-file", c->pw, "--json", NULL);
	assert_exit(&q, 0, "account add employer");
	char totp[64];
	assert_non_null(json_str(json_ws(q.out), "totp_secret", totp, sizeof(totp)));
	run_result_free(&q);
	char emp[200];
	session(c, "hr.upload", totp, emp);

	char path[4200];
	size_t len[2];
	char *body[2];
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", c->g.files, names[i]);
		body[i] = read_file(path, &len[i]);
		assert_non_null(body[i]);
	}
	char url[128];
	snprintf(url, sizeof(url), "/v1/employers/%s/declarations", aff[1]);
	request(c, "POST", url, emp, body[1], len[1], &r); /* another employer's */
	assert_int_equal(r.status, 403);
	char citizen[200];
	session(c, "said", NULL, citizen);
	request(c, "POST", url, citizen, body[1], len[1], &r); /* not an employer account */
	assert_int_equal(r.status, 403);
	/* refused at the headers, the bodies dropped; both refusals logged */
	char aud[200], apath[64];
	session(c, "aud.1", c->aud_totp, aud);
	snprintf(apath, sizeof(apath), "/v1/audit/entries?employer=%s", aff[1]);
	request(c, "GET", apath, aud, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_true(count_of(r.body, "\"action\":\"import\"") >= 2);
	assert_non_null(strstr(r.body, "\"outcome\":\"denied\""));
	snprintf(url, sizeof(url), "/v1/employers/%s/declarations", aff[0]);
	request(c, "POST", url, emp, body[1], len[1], &r); /* its own number, another's file */
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "another employer"));
	/* a body is taken only from a valid session, and only up to 64 MiB */
	size_t big_len = 64u * 1024 * 1024 + 1;
	char *big = malloc(big_len);
	assert_non_null(big);
	memset(big, 'B', big_len);
	request(c, "POST", url, "", big, 4u * 1024 * 1024, &r);
	assert_int_equal(r.status, 401);
	request(c, "POST", url, "Authorization: Bearer 0123456789abcdef\r\n", big, 4u * 1024 * 1024, &r);
	assert_int_equal(r.status, 401);
	request(c, "POST", url, emp, big, big_len, &r);
	assert_int_equal(r.status, 413);
	free(big);
	request(c, "POST", url, emp, "B00 not a declaration\r\n", 23, &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "\"errors\":["));
	request(c, "POST", url, emp, body[0], len[0], &r);
	if (r.status != 201)
		fail_msg("upload: %d %s", r.status, r.body);
	char buf[32];
	assert_string_equal(json_str(r.body, "affiliation", buf, sizeof(buf)), aff[0]);
	assert_true(json_int(r.body, "lines") > 0);
	request(c, "POST", url, emp, body[0], len[0], &r); /* the same period again */
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "already declared"));
	/* what was accepted is the registry's now: its contributions */
	char per[8];
	snprintf(per, sizeof(per), "%.6s", names[0] + 11);
	snprintf(url, sizeof(url), "/v1/employers/%s/contributions/%s", aff[0], per);
	request(c, "GET", url, emp, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_true(json_int(r.body, "total_employer") > 0);
	snprintf(url, sizeof(url), "/v1/employers/%s/declarations/%s", aff[0], per);
	request(c, "GET", url, emp, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"seq\":0"));
	assert_non_null(strstr(r.body, "\"sha256\":\""));
	snprintf(url, sizeof(url), "/v1/employers/%s/employees", aff[0]);
	request(c, "GET", url, emp, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"registration\":\"1"));
	assert_string_equal(json_str(r.body, "as_of_period", buf, sizeof(buf)), per);
	/* a bait person among the employees: the list is still the employer's
	 * own and is served, and that person's appearing in it alerts */
	char bait[16], sup[200], want[64];
	const char *first = strstr(r.body, "\"registration\":\"");
	assert_non_null(first);
	snprintf(bait, sizeof(bait), "%.9s", first + 16);
	snprintf(want, sizeof(want), "\"subject\":\"%s\"", bait);
	session(c, "sup.1", c->sup_totp, sup);
	request(c, "GET", "/v1/alerts", sup, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, want));
	run_on(&q, &c->g, "person", "flag", bait, "--honeytoken", NULL);
	assert_exit(&q, 0, "person flag");
	run_result_free(&q);
	snprintf(url, sizeof(url), "/v1/employers/%s/employees", aff[0]);
	request(c, "GET", url, emp, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	request(c, "GET", "/v1/alerts", sup, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(count_of(r.body, want), 1); /* that person, and no one else on the list */
	assert_int_equal(count_of(r.body, "a marked person is in a list"), 1);
	/* the next period's pre-filled list names them too */
	char *end;
	unsigned long yyyymm = strtoul(per, &end, 10);
	assert_true(*end == 0 && yyyymm > 190001);
	snprintf(url, sizeof(url), "/v1/employers/%s/prefilled/%u", aff[0], period_next((uint32_t)yyyymm));
	request(c, "GET", url, emp, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	request(c, "GET", "/v1/alerts", sup, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(count_of(r.body, want), 2);
	assert_int_equal(count_of(r.body, "a marked person is in a list"), 2);
	snprintf(url, sizeof(url), "/v1/employers/%s/employees", aff[1]);
	request(c, "GET", url, emp, NULL, 0, &r);
	assert_int_equal(r.status, 403);
	snprintf(url, sizeof(url), "/v1/employers/%s/declarations/%s", aff[1], per);
	request(c, "GET", url, emp, NULL, 0, &r);
	assert_int_equal(r.status, 403);
	for (int i = 0; i < 2; i++) {
		free(body[i]);
		free(names[i]);
	}
	free(names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_health_and_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_me_logout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guessing_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_person_reads_by_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_failure_fails_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_suspends_until_unlocked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_honeytoken_read_alerts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_citizen_access_log_and_career, setup, teardown),
		cmocka_unit_test_setup_teardown(test_employer_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_declaration_upload, setup, teardown),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("amanad over HTTP", tests, NULL, NULL);
}
