/* test_policy.c - scope, flags, budgets and the config of policy/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const uint32_t OWN[] = { 1000001, 1000002 }; /* an accountant's two employers */
#define OTHER_EMPLOYER 1000009u
#define SELF 123456789u
#define SOMEONE 987654321u

static struct policy_principal principal(enum role role)
{
	struct policy_principal p = { .role = role };
	if (role == ROLE_CITIZEN)
		p.person = SELF;
	if (role == ROLE_EMPLOYER) {
		p.employers = OWN;
		p.n_employers = ARRAY_SIZE(OWN);
	}
	return p;
}

static struct policy_decision decide(const struct policy_principal *p, const struct policy_object *o,
				     const struct policy_usage *u)
{
	struct policy_config c;
	policy_defaults(&c);
	struct policy_usage none = { 0, 0, 0 };
	struct policy_decision d;
	policy_decide(&c, p, o, u ? u : &none, &d);
	assert_non_null(d.reason);
	if (d.allow)
		assert_int_equal(d.err, AMANA_OK);
	else
		assert_true(d.err == AMANA_ERR_DENIED || d.err == AMANA_ERR_LIMIT);
	return d;
}

/* Every role against every act, on an object in the principal's own scope
 * and with a purpose: what each role may do at all. */
static void test_what_each_role_may_do(void **state)
{
	(void)state;
	/* rows: roles in enum order; columns: acts in enum order */
	static const bool may[ROLE_COUNT][ACT_COUNT] = {
		/*                PERSON EMPLOYER EMPLOYEES UPLOAD DECL  CONTRIB PREFILL ALERTS UNLOCK AUDIT */
		[ROLE_CITIZEN] = { true, false, false, false, false, false, false, false, false, false },
		[ROLE_EMPLOYER] = { true, true, true, true, true, true, true, false, false, false },
		[ROLE_AGENT] = { true, true, true, false, true, true, true, false, false, false },
		[ROLE_SUPERVISOR] = { false, false, false, false, false, false, false, true, true, false },
		[ROLE_AUDITOR] = { true, false, false, false, false, false, false, true, false, true },
		[ROLE_OPERATOR] = { false, false, false, false, false, false, false, false, false, true },
	};
	for (int r = 0; r < ROLE_COUNT; r++) {
		struct policy_principal p = principal((enum role)r);
		for (int a = 0; a < ACT_COUNT; a++) {
			struct policy_object o = {
				.act = (enum policy_act)a,
				.employer = OWN[1],
				.person = r == ROLE_CITIZEN ? SELF : SOMEONE,
				.employed = true,
				.purpose = true,
			};
			struct policy_decision d = decide(&p, &o, NULL);
			if (d.allow != may[r][a])
				fail_msg("%s, act %d: expected %s, got %s (%s)", role_name((enum role)r), a,
					 may[r][a] ? "allowed" : "refused", d.allow ? "allowed" : "refused", d.reason);
			if (!d.allow)
				assert_int_equal(d.err, AMANA_ERR_DENIED);
			assert_int_equal(d.alerts, 0);
			assert_false(d.suspend);
		}
	}
}

static void test_citizen_sees_only_self(void **state)
{
	(void)state;
	struct policy_principal p = principal(ROLE_CITIZEN);
	struct policy_object o = { .act = ACT_PERSON_READ, .person = SELF };
	assert_true(decide(&p, &o, NULL).allow);
	o.person = SOMEONE;
	assert_false(decide(&p, &o, NULL).allow);
	o.purpose = true; /* a purpose opens nothing to a citizen */
	assert_false(decide(&p, &o, NULL).allow);
	o.person = 0;
	assert_false(decide(&p, &o, NULL).allow);
}

/* An employer: its own employers only, a person only while employed. */
static void test_employer_scope(void **state)
{
	(void)state;
	struct policy_principal p = principal(ROLE_EMPLOYER);
	struct policy_object o = { .act = ACT_DECLARATION_READ, .employer = OWN[0] };
	assert_true(decide(&p, &o, NULL).allow);
	o.employer = OWN[1]; /* the accountant's other employer */
	assert_true(decide(&p, &o, NULL).allow);
	o.employer = OTHER_EMPLOYER;
	assert_false(decide(&p, &o, NULL).allow);
	o.employer = 0;
	assert_false(decide(&p, &o, NULL).allow);
	/* walking ids: every other employer refused, for every employer act */
	for (int a = ACT_EMPLOYER_READ; a <= ACT_PREFILL_READ; a++)
		for (uint32_t aff = 1000000; aff < 1000100; aff++) {
			struct policy_object w = { .act = (enum policy_act)a, .employer = aff, .purpose = true };
			bool own = aff == OWN[0] || aff == OWN[1];
			assert_int_equal(decide(&p, &w, NULL).allow, own);
		}
	/* a person: only for the periods worked for one of its employers */
	struct policy_object q = { .act = ACT_PERSON_READ, .employer = OWN[0], .person = SOMEONE, .employed = true };
	assert_true(decide(&p, &q, NULL).allow);
	q.employed = false;
	assert_false(decide(&p, &q, NULL).allow);
	q.employed = true;
	q.employer = OTHER_EMPLOYER;
	assert_false(decide(&p, &q, NULL).allow);
	/* no employer at all in scope: nothing */
	struct policy_principal none = { .role = ROLE_EMPLOYER };
	o.employer = OWN[0];
	assert_false(decide(&none, &o, NULL).allow);
}

static void test_agent_needs_a_purpose(void **state)
{
	(void)state;
	struct policy_principal p = principal(ROLE_AGENT);
	struct policy_object o = { .act = ACT_PERSON_READ, .person = SOMEONE };
	struct policy_decision d = decide(&p, &o, NULL);
	assert_false(d.allow);
	assert_non_null(strstr(d.reason, "purpose"));
	o.purpose = true;
	assert_true(decide(&p, &o, NULL).allow);
	o.act = ACT_DECLARATION_UPLOAD; /* an agent reads; it does not declare */
	o.employer = OWN[0];
	assert_false(decide(&p, &o, NULL).allow);
	/* an auditor reads a person only within a case */
	struct policy_principal a = principal(ROLE_AUDITOR);
	struct policy_object q = { .act = ACT_PERSON_READ, .person = SOMEONE };
	assert_false(decide(&a, &q, NULL).allow);
	q.purpose = true;
	assert_true(decide(&a, &q, NULL).allow);
}

/* Past each budget: refused with AMANA_ERR_LIMIT, alerted, suspended;
 * at the budget exactly, allowed. A person already read this hour and day
 * costs nothing. */
static void test_budgets(void **state)
{
	(void)state;
	struct policy_config c;
	policy_defaults(&c);
	const struct policy_limits *l = &c.limits[ROLE_AGENT];
	assert_true(l->persons_per_hour > 0 && l->persons_per_hour < 100); /* tens, not thousands */
	assert_true(l->persons_per_day >= l->persons_per_hour && l->persons_per_day <= 500);
	struct policy_principal p = principal(ROLE_AGENT);
	struct policy_object o = { .act = ACT_PERSON_READ, .person = SOMEONE, .purpose = true, .new_person = true };

	struct policy_usage u = { l->persons_per_hour - 1, l->persons_per_hour - 1, 0 };
	struct policy_decision d = decide(&p, &o, &u);
	assert_true(d.allow); /* the last one of the hour */
	u.persons_hour = l->persons_per_hour;
	u.persons_day = l->persons_per_hour;
	d = decide(&p, &o, &u);
	assert_false(d.allow);
	assert_int_equal(d.err, AMANA_ERR_LIMIT);
	assert_true(d.suspend);
	assert_int_equal(d.alerts, ALERT_BUDGET);
	assert_non_null(strstr(d.reason, "per hour"));
	o.new_person = false; /* read already this hour: costs nothing */
	assert_true(decide(&p, &o, &u).allow);

	o.new_person = true;
	u.persons_hour = 0;
	u.persons_day = l->persons_per_day;
	d = decide(&p, &o, &u);
	assert_false(d.allow);
	assert_non_null(strstr(d.reason, "per day"));
	assert_true(d.suspend);
	o.seen_today = true; /* read earlier today: the day's budget is spent on it already */
	assert_true(decide(&p, &o, &u).allow);
	u.persons_hour = l->persons_per_hour; /* but it is new this hour */
	d = decide(&p, &o, &u);
	assert_false(d.allow);
	assert_non_null(strstr(d.reason, "per hour"));
	o.seen_today = false;

	struct policy_object doc = {
		.act = ACT_DECLARATION_READ, .employer = OWN[0], .purpose = true, .document = true
	};
	u = (struct policy_usage){ 0, 0, l->documents_per_day - 1 };
	assert_true(decide(&p, &doc, &u).allow);
	u.documents_day++;
	d = decide(&p, &doc, &u);
	assert_false(d.allow);
	assert_int_equal(d.err, AMANA_ERR_LIMIT);
	assert_non_null(strstr(d.reason, "documents"));

	/* a refusal of scope spends nothing and suspends nobody */
	struct policy_object out = { .act = ACT_PERSON_READ, .person = SOMEONE, .new_person = true };
	u = (struct policy_usage){ l->persons_per_hour, l->persons_per_day, 0 };
	d = decide(&p, &out, &u);
	assert_false(d.allow);
	assert_int_equal(d.err, AMANA_ERR_DENIED);
	assert_false(d.suspend);
	/* counters near their maximum do not wrap */
	u = (struct policy_usage){ UINT32_MAX, UINT32_MAX, UINT32_MAX };
	assert_false(decide(&p, &o, &u).allow);
}

static void test_suspended_refused_everything(void **state)
{
	(void)state;
	for (int r = 0; r < ROLE_COUNT; r++) {
		struct policy_principal p = principal((enum role)r);
		p.suspended = true;
		for (int a = 0; a < ACT_COUNT; a++) {
			struct policy_object o = { .act = (enum policy_act)a,
						   .employer = OWN[0],
						   .person = SELF,
						   .employed = true,
						   .purpose = true };
			struct policy_decision d = decide(&p, &o, NULL);
			assert_false(d.allow);
			assert_non_null(strstr(d.reason, "suspended"));
		}
	}
}

/* Bait alerts on every access, allowed or refused; a sensitive record
 * alerts too and needs a case, except for the person themself. */
static void test_honeytokens_and_sensitive(void **state)
{
	(void)state;
	struct policy_principal agent = principal(ROLE_AGENT);
	struct policy_object o = { .act = ACT_PERSON_READ, .person = SOMEONE, .purpose = true, .honeytoken = true };
	struct policy_decision d = decide(&agent, &o, NULL);
	assert_true(d.allow); /* served like any other: the thief cannot tell */
	assert_int_equal(d.alerts, ALERT_HONEYTOKEN);
	o.purpose = false;
	d = decide(&agent, &o, NULL);
	assert_false(d.allow);
	assert_int_equal(d.alerts, ALERT_HONEYTOKEN);
	struct policy_principal emp = principal(ROLE_EMPLOYER);
	struct policy_object e = { .act = ACT_EMPLOYER_READ, .employer = OTHER_EMPLOYER, .honeytoken = true };
	d = decide(&emp, &e, NULL);
	assert_false(d.allow);
	assert_int_equal(d.alerts, ALERT_HONEYTOKEN);

	struct policy_object s = {
		.act = ACT_PERSON_READ, .person = SOMEONE, .sensitive = true, .employer = OWN[0], .employed = true
	};
	d = decide(&emp, &s, NULL);
	assert_false(d.allow); /* an employer needs a case for a sensitive employee */
	assert_int_equal(d.alerts, ALERT_SENSITIVE);
	s.purpose = true;
	d = decide(&emp, &s, NULL);
	assert_true(d.allow);
	assert_int_equal(d.alerts, ALERT_SENSITIVE);
	struct policy_principal citizen = principal(ROLE_CITIZEN);
	struct policy_object self = { .act = ACT_PERSON_READ, .person = SELF, .sensitive = true };
	d = decide(&citizen, &self, NULL);
	assert_true(d.allow); /* one's own record needs no case */
	assert_int_equal(d.alerts, ALERT_SENSITIVE);

	/* bait past a budget: both alerts */
	struct policy_config c;
	policy_defaults(&c);
	struct policy_usage u = { c.limits[ROLE_AGENT].persons_per_hour, 0, 0 };
	struct policy_object b = {
		.act = ACT_PERSON_READ, .person = SOMEONE, .purpose = true, .honeytoken = true, .new_person = true
	};
	d = decide(&agent, &b, &u);
	assert_false(d.allow);
	assert_int_equal(d.alerts, ALERT_HONEYTOKEN | ALERT_BUDGET);
	assert_string_equal(policy_alert_name(ALERT_HONEYTOKEN), "honeytoken");
	assert_string_equal(policy_alert_name(ALERT_BUDGET), "budget");
}

static void test_unknown_role_or_act_refused(void **state)
{
	(void)state;
	struct policy_principal p = { .role = (enum role)ROLE_COUNT };
	struct policy_object o = { .act = ACT_AUDIT_READ };
	assert_false(decide(&p, &o, NULL).allow);
	struct policy_principal a = principal(ROLE_AUDITOR);
	struct policy_object bad = { .act = (enum policy_act)ACT_COUNT, .purpose = true };
	assert_false(decide(&a, &bad, NULL).allow);
}

static void test_roles_by_name(void **state)
{
	(void)state;
	for (int r = 0; r < ROLE_COUNT; r++) {
		enum role got;
		const char *name = role_name((enum role)r);
		assert_true(role_parse(name, strlen(name), &got));
		assert_int_equal(got, r);
	}
	enum role got;
	assert_false(role_parse("Agent", 5, &got));
	assert_false(role_parse("agen", 4, &got));
	assert_false(role_parse("agents", 6, &got));
	assert_false(role_parse("", 0, &got));
	assert_string_equal(role_name((enum role)99), "unknown");
}

static void test_config(void **state)
{
	(void)state;
	struct policy_config c, d;
	policy_defaults(&c);
	policy_defaults(&d);
	char why[160];
	static const char good[] = "# budgets of our fund\n"
				   "agent.persons_per_hour = 12\n"
				   "\n"
				   "  agent.persons_per_day=40   # a quieter office\r\n"
				   "employer.documents_per_day = 1000000\n"
				   "operator.persons_per_day = 0";
	assert_int_equal(policy_config_parse(&c, good, strlen(good), why, sizeof(why)), AMANA_OK);
	assert_int_equal(c.limits[ROLE_AGENT].persons_per_hour, 12);
	assert_int_equal(c.limits[ROLE_AGENT].persons_per_day, 40);
	assert_int_equal(c.limits[ROLE_AGENT].documents_per_day, d.limits[ROLE_AGENT].documents_per_day);
	assert_int_equal(c.limits[ROLE_EMPLOYER].documents_per_day, 1000000);
	assert_int_equal(c.limits[ROLE_CITIZEN].persons_per_hour, d.limits[ROLE_CITIZEN].persons_per_hour);

	/* each bad line refused, naming it; the config left as it was */
	static const struct {
		const char *text;
		const char *says;
	} bad[] = {
		{ "agent.persons_per_hour = 1000001", "line 1: expected a number" },
		{ "agent.persons_per_hour = 99999999999999999999", "line 1: expected a number" },
		{ "agent.persons_per_hour = -1", "line 1: expected a number" },
		{ "agent.persons_per_hour = 1x", "line 1: expected a number" },
		{ "agent.persons_per_hour =", "line 1: expected a number" },
		{ "\nagent.persons_per_week = 3", "line 2: expected a limit" },
		{ "agnet.persons_per_hour = 3", "line 1: expected a role" },
		{ "agent persons_per_hour = 3", "line 1: expected ROLE.LIMIT = N" },
		{ "agent.persons_per_hour 3", "line 1: expected ROLE.LIMIT = N" },
		{ "x=1.5", "line 1: expected ROLE.LIMIT = N" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct policy_config e = c;
		char msg[160];
		assert_int_equal(policy_config_parse(&e, bad[i].text, strlen(bad[i].text), msg, sizeof(msg)),
				 AMANA_ERR_INPUT);
		if (strncmp(msg, bad[i].says, strlen(bad[i].says)) != 0)
			fail_msg("%s: said \"%s\", expected \"%s...\"", bad[i].text, msg, bad[i].says);
		assert_memory_equal(&e, &c, sizeof(c));
	}
	static const char nul[] = "agent.persons_per_hour = 3\0";
	assert_int_equal(policy_config_parse(&c, nul, sizeof(nul) - 1, why, sizeof(why)), AMANA_ERR_INPUT);
	assert_int_equal(policy_config_parse(&c, "", 0, why, sizeof(why)), AMANA_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_what_each_role_may_do),
		cmocka_unit_test(test_citizen_sees_only_self),
		cmocka_unit_test(test_employer_scope),
		cmocka_unit_test(test_agent_needs_a_purpose),
		cmocka_unit_test(test_budgets),
		cmocka_unit_test(test_suspended_refused_everything),
		cmocka_unit_test(test_honeytokens_and_sensitive),
		cmocka_unit_test(test_unknown_role_or_act_refused),
		cmocka_unit_test(test_roles_by_name),
		cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
