/*
 * accounts.c - the logins of amanad: creating an account.
 *
 * An account names its login (sealed, found by blind index), its role in
 * clear (the policy needs it before anything is opened) and, sealed
 * together, its password's Argon2id hash, its TOTP secret (every role but
 * citizen) and its scope: a citizen's registration number, or the
 * affiliations an employer account (an accountant: several) acts for,
 * each checked to be registered. The TOTP secret is handed back once, to
 * be shown once; the registry keeps it sealed.
 */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

_Static_assert(sizeof(((struct account_created *)0)->totp_secret) == CRYPTO_TOTP_BASE32_MAX,
	       "service.h's TOTP secret holds what crypto/auth.h writes");

#define LOGIN_MIN 3
#define LOGIN_MAX 64

static void say(char *why, size_t cap, const char *msg)
{
	if (why && cap)
		snprintf(why, cap, "%s", msg);
}

/* Lower-case letters, digits and . _ @ -: no look-alikes of other logins
 * by case, and nothing a log or a URL must escape. */
static bool login_valid(const char *login)
{
	size_t n = strlen(login);
	if (n < LOGIN_MIN || n > LOGIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = login[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' || c == '-'))
			return false;
	}
	return true;
}

/* An account found by login (login: the one wanted; NULL: whichever row is
 * handed over, found by id), with its secrets opened if want_secrets. */
struct account_lookup {
	struct registry *r;
	const char *login;
	bool want_secrets;
	bool found;
	int64_t id;
	enum role role;
	struct account_rec rec;
	struct store_account_state st;
};

static enum amana_err account_take(void *vctx, const struct store_account *a, const struct store_account_state *st)
{
	struct account_lookup *c = vctx;
	if (c->found)
		return AMANA_OK;
	if (c->login) {
		char login[LOGIN_MAX + 1];
		enum amana_err err =
		    open_text(c->r, "accounts", "login", a->id, &a->login_sealed, login, sizeof(login));
		bool same = !err && strcmp(login, c->login) == 0;
		crypto_wipe(login, sizeof(login));
		if (err || !same)
			return err;
	}
	if ((unsigned)a->role >= ROLE_COUNT)
		return AMANA_ERR_CORRUPT;
	if (c->want_secrets) {
		enum amana_err err = open_account(c->r, a->id, &a->secrets_sealed, &c->rec);
		if (err)
			return err;
	}
	c->found = true;
	c->id = a->id;
	c->role = (enum role)a->role;
	c->st = *st;
	return AMANA_OK;
}

/* The scope a role needs, checked against the registry into rec. */
static enum amana_err account_scope(struct registry *r, const struct account_input *in, struct account_rec *rec,
				    struct audit_entry *note, char *why, size_t why_cap)
{
	bool employer = in->role == ROLE_EMPLOYER, citizen = in->role == ROLE_CITIZEN;
	if (employer != (in->n_employers > 0) || citizen != (in->person != 0)) {
		say(why, why_cap,
		    "an employer account needs --employer (one or more), a citizen account --person, others neither");
		return AMANA_ERR_USAGE;
	}
	if (in->n_employers > ACCOUNT_EMPLOYERS_MAX) {
		say(why, why_cap, "an account acts for 32 employers at most");
		return AMANA_ERR_USAGE;
	}
	for (size_t i = 0; i < in->n_employers; i++) {
		for (size_t j = 0; j < i; j++)
			if (in->employers[j] == in->employers[i]) {
				say(why, why_cap, "an employer is named twice");
				return AMANA_ERR_USAGE;
			}
		int64_t id;
		enum amana_err err = find_employer(r, in->employers[i], &id);
		if (err == AMANA_ERR_NOTFOUND)
			say(why, why_cap, "an employer named is not registered");
		if (err)
			return err;
		audit_entry_subject(note, AUDIT_SUBJECT_EMPLOYER, id);
		rec->employers[rec->n_employers++] = in->employers[i];
	}
	if (citizen) {
		int64_t id;
		enum amana_err err = find_person_by_reg(r, in->person, &id);
		if (err == AMANA_ERR_NOTFOUND)
			say(why, why_cap, "the person named is not registered");
		if (err)
			return err;
		audit_entry_subject(note, AUDIT_SUBJECT_PERSON, id);
		rec->person = in->person;
	}
	return AMANA_OK;
}

static enum amana_err account_add(struct registry *r, const struct principal *who, const struct account_input *in,
				  struct account_created *out, struct audit_entry *note, char *why, size_t why_cap)
{
	/* Accounts are made by the registry's own staff: the local CLI (an
	 * agent) or a supervisor. */
	if (who->role != ROLE_AGENT && who->role != ROLE_SUPERVISOR) {
		say(why, why_cap, "only an agent or a supervisor makes accounts");
		return AMANA_ERR_DENIED;
	}
	if ((unsigned)in->role >= ROLE_COUNT) {
		say(why, why_cap, "an unknown role");
		return AMANA_ERR_USAGE;
	}
	if (!in->login || !login_valid(in->login)) {
		say(why, why_cap, "a login is 3 to 64 characters: a-z, 0-9, '.', '_', '@', '-'");
		return AMANA_ERR_USAGE;
	}
	struct account_rec rec;
	memset(&rec, 0, sizeof(rec));
	enum amana_err err = crypto_password_hash(in->password, in->password_len, rec.password_hash);
	if (err == AMANA_ERR_INPUT)
		say(why, why_cap, "a password is 12 to 1024 bytes, with no NUL");
	if (!err && (err = store_begin(r->store)) == AMANA_OK) {
		struct account_lookup lc = { .r = r, .login = in->login };
		int64_t id = 0;
		uint8_t login_sealed[SEALED_MAX], secrets_sealed[SEALED_MAX];
		size_t login_len = 0, secrets_len = 0;
		err = store_accounts_by_login(r->store, bidx_login(r, in->login), account_take, &lc);
		if (!err && lc.found) {
			say(why, why_cap, "this login is taken");
			err = AMANA_ERR_EXISTS;
		}
		if (!err)
			err = account_scope(r, in, &rec, note, why, why_cap);
		if (!err && in->role != ROLE_CITIZEN) {
			rec.has_totp = true;
			crypto_totp_secret_new(rec.totp);
			err = crypto_totp_base32(rec.totp, out->totp_secret);
		}
		if (!err)
			err = store_next_ids(r->store, "accounts", 1, &id);
		if (!err)
			err = seal_text(r, "accounts", "login", id, in->login, login_sealed, &login_len);
		if (!err)
			err = seal_account(r, id, &rec, secrets_sealed, &secrets_len);
		if (!err) {
			struct store_account a = {
				.id = id,
				.login_bidx = bidx_login(r, in->login),
				.login_sealed = { login_sealed, login_len },
				.role = in->role,
				.secrets_sealed = { secrets_sealed, secrets_len },
				.created_at = (int64_t)time(NULL),
			};
			err = store_account_insert(r->store, &a);
		}
		err = audit_then_commit(r, note, err);
		if (!err)
			out->id = id;
	}
	crypto_wipe(&rec, sizeof(rec));
	if (err)
		crypto_wipe(out->totp_secret, sizeof(out->totp_secret));
	return err;
}

enum amana_err svc_account_add(struct registry *r, const struct principal *who, const struct account_input *in,
			       struct account_created *out, char *why, size_t why_cap)
{
	memset(out, 0, sizeof(*out));
	struct audit_entry note;
	audit_note(&note, who, "account.add");
	enum amana_err err = account_add(r, who, in, out, &note, why, why_cap);
	if (note.action[0])
		err = audit_commit(r, &note, err);
	if (err)
		crypto_wipe(out, sizeof(*out));
	return err;
}

/* ---- sessions ---- */

/* Five wrong tries lock an account for a quarter of an hour; a session
 * lasts half an hour. */
#define LOGIN_FAILURES_MAX 5
#define LOCKOUT_SECONDS 900
#define SESSION_SECONDS 1800

/* n bytes as 2n lower-case hex digits and a NUL. */
static void token_hex_n(const uint8_t *raw, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * n] = '\0';
}

/* A hash of nothing anyone knows, made once, checked against when a login
 * does not exist. */
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[CRYPTO_PASSWORD_HASH_MAX];

static void dummy_make(void)
{
	uint8_t raw[24];
	char filler[49];
	crypto_random_bytes(raw, sizeof(raw));
	token_hex_n(raw, sizeof(raw), filler);
	if (crypto_password_hash(filler, sizeof(filler) - 1, dummy_hash) != AMANA_OK)
		dummy_hash[0] = '\0'; /* verify then refuses at once: still refused */
	crypto_wipe(filler, sizeof(filler));
	crypto_wipe(raw, sizeof(raw));
}

/* The stored hash of a token given as text; false if it is not one. */
static bool token_hash(const char *token, size_t len, uint8_t hash[STORE_TOKEN_HASH_BYTES])
{
	if (len != SESSION_TOKEN_CHARS)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((token[i] >= '0' && token[i] <= '9') || (token[i] >= 'a' && token[i] <= 'f')))
			return false;
	crypto_sha256(token, len, hash);
	return true;
}

static enum amana_err session_open(struct registry *r, const struct session_request *req, struct session_opened *out,
				   struct audit_entry *note, struct account_lookup *fa)
{
	if (!req->login || !login_valid(req->login))
		return AMANA_ERR_DENIED;
	enum amana_err err = store_accounts_by_login(r->store, bidx_login(r, req->login), account_take, fa);
	if (err)
		return err;
	if (!fa->found) {
		/* as long as a wrong password, so that timing does not say
		 * which logins exist */
		pthread_once(&dummy_once, dummy_make);
		if (crypto_password_verify(dummy_hash, req->password, req->password_len) == AMANA_OK)
			return AMANA_ERR_DENIED; /* the filler itself: still no account */
		snprintf(note->reason, sizeof(note->reason), "no such login, or a wrong password or code");
		return AMANA_ERR_DENIED;
	}
	if (fa->st.suspended) {
		snprintf(note->reason, sizeof(note->reason), "suspended until a supervisor unlocks the account");
		return AMANA_ERR_DENIED;
	}
	if (fa->st.locked_until > req->now) {
		snprintf(note->reason, sizeof(note->reason), "locked after repeated failures");
		return AMANA_ERR_DENIED;
	}
	bool ok = crypto_password_verify(fa->rec.password_hash, req->password, req->password_len) == AMANA_OK;
	uint64_t step = 0;
	if (ok && fa->rec.has_totp)
		ok = req->totp && crypto_totp_check(fa->rec.totp, req->now, req->totp, req->totp_len,
						    (uint64_t)fa->st.totp_step, &step) == AMANA_OK;
	struct store_account_state st = fa->st;
	if (!ok) {
		st.failures++;
		if (st.failures >= LOGIN_FAILURES_MAX) {
			st.locked_until = req->now + LOCKOUT_SECONDS;
			st.failures = 0;
		}
		snprintf(note->reason, sizeof(note->reason), "no such login, or a wrong password or code");
		err = store_account_set_state(r->store, fa->id, &st);
		return err ? err : AMANA_ERR_DENIED;
	}
	st.failures = 0;
	st.locked_until = 0;
	if (step)
		st.totp_step = (int64_t)step;
	uint8_t raw[SESSION_TOKEN_BYTES];
	crypto_random_bytes(raw, sizeof(raw));
	token_hex_n(raw, sizeof(raw), out->token);
	crypto_wipe(raw, sizeof(raw));
	struct store_session se = { .account_id = fa->id, .expires_at = req->now + SESSION_SECONDS, .revoked = false };
	crypto_sha256(out->token, SESSION_TOKEN_CHARS, se.token_hash);
	if ((err = store_begin(r->store)))
		return err;
	err = store_account_set_state(r->store, fa->id, &st);
	if (!err)
		err = store_session_insert(r->store, &se);
	err = audit_then_commit(r, note, err);
	if (!err) {
		out->account_id = fa->id;
		out->role = fa->role;
		out->expires_at = se.expires_at;
	}
	return err;
}

enum amana_err svc_session_open(struct registry *r, const struct principal *who, const struct session_request *req,
				struct session_opened *out)
{
	memset(out, 0, sizeof(*out));
	struct audit_entry note;
	audit_note(&note, who, "session.open");
	struct account_lookup fa = { .r = r, .login = req->login, .want_secrets = true };
	enum amana_err err = session_open(r, req, out, &note, &fa);
	crypto_wipe(&fa.rec, sizeof(fa.rec));
	if (note.action[0])
		err = audit_commit(r, &note, err);
	if (err)
		crypto_wipe(out, sizeof(*out));
	return err;
}

enum amana_err svc_session_check(struct registry *r, const char *token, size_t len, int64_t now,
				 struct session_principal *out)
{
	memset(out, 0, sizeof(*out));
	uint8_t hash[STORE_TOKEN_HASH_BYTES];
	if (!token || !token_hash(token, len, hash))
		return AMANA_ERR_DENIED;
	uint64_t gen;
	if (session_cache_get(r, hash, now, out, &gen))
		return AMANA_OK;
	struct store_session se;
	enum amana_err err = store_session_get(r->store, hash, &se);
	if (err == AMANA_ERR_NOTFOUND)
		return AMANA_ERR_DENIED;
	if (err)
		return err;
	if (se.revoked || se.expires_at <= now)
		return AMANA_ERR_DENIED;
	struct account_lookup c = { .r = r, .want_secrets = true };
	if ((err = store_account_get(r->store, se.account_id, account_take, &c)))
		return err;
	if (!c.found)
		return AMANA_ERR_CORRUPT; /* a session outlived its account */
	if (c.st.suspended) {
		crypto_wipe(&c.rec, sizeof(c.rec));
		return AMANA_ERR_DENIED;
	}
	out->account_id = se.account_id;
	out->role = c.role;
	out->expires_at = se.expires_at;
	out->person = c.rec.person;
	out->n_employers = c.rec.n_employers;
	memcpy(out->employers, c.rec.employers, sizeof(out->employers));
	crypto_wipe(&c.rec, sizeof(c.rec));
	session_cache_put(r, hash, out, gen);
	return AMANA_OK;
}

enum amana_err svc_session_close(struct registry *r, const char *token, size_t len)
{
	uint8_t hash[STORE_TOKEN_HASH_BYTES];
	if (!token || !token_hash(token, len, hash))
		return AMANA_ERR_DENIED;
	/* the store first: see session_cache_get */
	enum amana_err err = store_session_revoke(r->store, hash);
	session_cache_drop(r, hash, 0);
	return err == AMANA_ERR_NOTFOUND ? AMANA_ERR_DENIED : err;
}
