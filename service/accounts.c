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

struct login_ctx {
	struct registry *r;
	const char *login;
	bool taken;
};

static enum amana_err login_match(void *vctx, const struct store_account *a, const struct store_account_state *st)
{
	(void)st;
	struct login_ctx *c = vctx;
	char login[LOGIN_MAX + 1];
	enum amana_err err = open_text(c->r, "accounts", "login", a->id, &a->login_sealed, login, sizeof(login));
	if (!err && strcmp(login, c->login) == 0)
		c->taken = true;
	crypto_wipe(login, sizeof(login));
	return err;
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
		struct login_ctx lc = { r, in->login, false };
		int64_t id = 0;
		uint8_t login_sealed[SEALED_MAX], secrets_sealed[SEALED_MAX];
		size_t login_len = 0, secrets_len = 0;
		err = store_accounts_by_login(r->store, bidx_login(r, in->login), login_match, &lc);
		if (!err && lc.taken) {
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
