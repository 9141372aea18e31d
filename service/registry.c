/*
 * registry.c - creating and opening a registry: its directory, its
 * database, its key-encryption key (KEK) file and its dated rules.
 *
 * Layout of a registry directory DIR:
 *   DIR/registry.db (+ -wal, -shm)   the SQLite store; personal fields sealed
 *   DIR/rules.txt                    the dated rules in force (data, not code)
 *   DIR/audit/                       the tamper-evident audit log (audit/log.h)
 *   DIR/store.conf                   when the store is PostgreSQL: its URI (mode 0600;
 *                                    a password belongs in ~/.pgpass, not here)
 * The KEK lives in a file outside DIR, readable by its owner only:
 *   "AMANA-KEK-1 " 64 hex digits "\n"
 * The audit log's Ed25519 signing key is a random seed sealed under the
 * signing data key, kept in the database's meta table with its public half;
 * the public half is also DIR/audit/public.key, for third parties.
 */
#include <sodium.h>
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEK_MAGIC "AMANA-KEK-1 "
#define KEK_FILE_LEN (sizeof(KEK_MAGIC) - 1 + 2 * CRYPTO_KEY_BYTES + 1)
#define RULES_MAX_BYTES (1u << 20)

static void say(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t cap, const char *fmt, ...)
{
	if (!why || cap == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static enum amana_err kek_write(const char *path, const uint8_t kek[CRYPTO_KEY_BYTES])
{
	static const char hex[] = "0123456789abcdef";
	char text[KEK_FILE_LEN];
	size_t n = sizeof(KEK_MAGIC) - 1;
	memcpy(text, KEK_MAGIC, n);
	for (size_t i = 0; i < CRYPTO_KEY_BYTES; i++) {
		text[n++] = hex[kek[i] >> 4];
		text[n++] = hex[kek[i] & 15];
	}
	text[n++] = '\n';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
	if (fd < 0) {
		crypto_wipe(text, sizeof(text));
		return errno == EEXIST ? AMANA_ERR_EXISTS : AMANA_ERR_IO;
	}
	ssize_t w = write(fd, text, n);
	crypto_wipe(text, sizeof(text));
	if (w != (ssize_t)n || fsync(fd) != 0) {
		close(fd);
		unlink(path);
		return AMANA_ERR_IO;
	}
	close(fd);
	return AMANA_OK;
}

static enum amana_err kek_read(const char *path, uint8_t kek[CRYPTO_KEY_BYTES], char *why, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		say(why, cap, "cannot open the key file %s: %s", path, strerror(errno));
		return AMANA_ERR_IO;
	}
	struct stat stt;
	if (fstat(fd, &stt) != 0 || !S_ISREG(stt.st_mode)) {
		close(fd);
		say(why, cap, "the key file %s is not a regular file", path);
		return AMANA_ERR_IO;
	}
	if (stt.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		say(why, cap, "the key file %s is readable by others (mode %o): chmod 400 it", path,
		    (unsigned)(stt.st_mode & 0777));
		return AMANA_ERR_DENIED;
	}
	char text[KEK_FILE_LEN + 1];
	ssize_t n = read(fd, text, sizeof(text));
	close(fd);
	enum amana_err err = AMANA_OK;
	if (n != (ssize_t)KEK_FILE_LEN || memcmp(text, KEK_MAGIC, sizeof(KEK_MAGIC) - 1) != 0 ||
	    text[KEK_FILE_LEN - 1] != '\n') {
		err = AMANA_ERR_CRYPTO;
	} else {
		const char *h = text + sizeof(KEK_MAGIC) - 1;
		for (size_t i = 0; i < CRYPTO_KEY_BYTES && !err; i++) {
			int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);
			if (hi < 0 || lo < 0)
				err = AMANA_ERR_CRYPTO;
			else
				kek[i] = (uint8_t)(hi << 4 | lo);
		}
	}
	crypto_wipe(text, sizeof(text));
	if (err) {
		crypto_wipe(kek, CRYPTO_KEY_BYTES);
		say(why, cap, "%s is not an Amana key file", path);
	}
	return err;
}

static void join(char *out, size_t cap, const char *dir, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

/* Is path (which may not exist yet) inside dir? Compares resolved parents. */
static bool path_inside(const char *dir, const char *path)
{
	char rdir[PATH_MAX], rparent[PATH_MAX], parent[PATH_MAX];
	if (!realpath(dir, rdir))
		return false;
	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	if (slash == parent)
		parent[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(parent, sizeof(parent), ".");
	if (!realpath(parent, rparent))
		return false;
	size_t n = strlen(rdir);
	return strncmp(rparent, rdir, n) == 0 && (rparent[n] == '\0' || rparent[n] == '/');
}

static enum amana_err write_file_new(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return errno == EEXIST ? AMANA_ERR_EXISTS : AMANA_ERR_IO;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w <= 0) {
			close(fd);
			return AMANA_ERR_IO;
		}
		off += (size_t)w;
	}
	int rc = fsync(fd);
	close(fd);
	return rc == 0 ? AMANA_OK : AMANA_ERR_IO;
}

static enum amana_err read_small_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno == ENOENT ? AMANA_ERR_NOTFOUND : AMANA_ERR_IO;
	char *buf = malloc(RULES_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		return AMANA_ERR_NOMEM;
	}
	size_t n = fread(buf, 1, RULES_MAX_BYTES + 1, f);
	int bad = ferror(f);
	fclose(f);
	if (bad || n > RULES_MAX_BYTES) {
		free(buf);
		return bad ? AMANA_ERR_IO : AMANA_ERR_LIMIT;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return AMANA_OK;
}

static const enum crypto_purpose all_purposes[] = {
	CRYPTO_PURPOSE_IDENTITY, CRYPTO_PURPOSE_MONEY, CRYPTO_PURPOSE_AUDIT,
	CRYPTO_PURPOSE_SIGNING,  CRYPTO_PURPOSE_BLIND,
};

/* Where the registry of dir keeps its store: $AMANA_STORE if set, else
 * the URI in DIR/store.conf, else DIR/registry.db. */
static enum amana_err store_location(const char *dir, char *out, size_t cap)
{
	const char *env = getenv("AMANA_STORE");
	if (env && *env) {
		if ((size_t)snprintf(out, cap, "%s", env) >= cap)
			return AMANA_ERR_USAGE;
		return AMANA_OK;
	}
	char conf[PATH_MAX];
	join(conf, sizeof(conf), dir, "store.conf");
	FILE *f = fopen(conf, "r");
	if (!f) {
		join(out, cap, dir, "registry.db");
		return AMANA_OK;
	}
	size_t n = fread(out, 1, cap - 1, f);
	fclose(f);
	out[n] = 0;
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
		out[--n] = 0;
	return n > 0 && store_is_pg(out) ? AMANA_OK : AMANA_ERR_CORRUPT;
}

/* Another connection to r's store; with server_only, on a database server
 * only (AMANA_ERR_NOTFOUND for SQLite). */
static enum amana_err connect_store(struct registry *r, bool server_only, struct store **out)
{
	char location[PATH_MAX];
	*out = NULL;
	enum amana_err err = store_location(r->dir, location, sizeof(location));
	if (err)
		return err;
	if (server_only && !store_is_pg(location))
		return AMANA_ERR_NOTFOUND;
	return store_open(location, 0, out);
}

enum amana_err registry_store_connection(struct registry *r, struct store **out)
{
	return connect_store(r, true, out);
}

enum amana_err registry_scan_connection(struct registry *r, struct store **out)
{
	return connect_store(r, false, out);
}

enum amana_err registry_migrate(const char *dir, const char *owner_uri, long long *from, long long *to, char *why,
				size_t why_cap)
{
	char location[PATH_MAX];
	enum amana_err err = AMANA_OK;
	if (owner_uri && *owner_uri) {
		if (!store_is_pg(owner_uri)) {
			say(why, why_cap, "--store takes a postgresql:// URI (a SQLite registry is given by -d DIR)");
			return AMANA_ERR_USAGE;
		}
		if ((size_t)snprintf(location, sizeof(location), "%s", owner_uri) >= sizeof(location))
			err = AMANA_ERR_USAGE;
	} else if (!dir || !*dir) {
		say(why, why_cap, "which registry? give -d DIR (or set AMANA_HOME), or --store OWNER_URI");
		return AMANA_ERR_USAGE;
	} else if ((err = store_location(dir, location, sizeof(location)))) {
		say(why, why_cap, "%s/store.conf does not name a postgresql:// database", dir);
		return err;
	}
	if (err || (err = store_migrate(location, from, to))) {
		if (err == AMANA_ERR_DENIED)
			say(why, why_cap,
			    "the role this connects as does not own the tables and may not change them: give the "
			    "owner role's URI with --store");
		else if (err == AMANA_ERR_NOTFOUND)
			say(why, why_cap, "no registry there (run amana init first)");
		else if (err == AMANA_ERR_CORRUPT && *from > *to)
			say(why, why_cap, "the tables are of a newer Amana than this one (schema %lld): not touched",
			    *from);
		else if (err == AMANA_ERR_CORRUPT)
			say(why, why_cap, "the registry's database is damaged or not a registry: not touched");
		else
			say(why, why_cap,
			    "the registry's tables could not be brought up to date (nothing was changed "
			    "by the step that failed)");
	}
	return err;
}

enum amana_err registry_init(const char *dir, const char *key_path, const char *rules_text, size_t rules_len,
			     const char *store_uri, const char *app_store_uri, char *why, size_t why_cap)
{
	char db_path[PATH_MAX], rules_path[PATH_MAX], conf_path[PATH_MAX];
	bool pg = store_uri && *store_uri;
	bool made_conf = false;
	enum amana_err err;
	bool made_dir = false, made_key = false, made_db = false, made_rules = false;
	struct store *st = NULL;
	uint8_t kek[CRYPTO_KEY_BYTES], key[CRYPTO_KEY_BYTES];
	char audit_dir[PATH_MAX];
	bool made_audit = false;
	struct crypto_keyring *kr = NULL;

	if (!rules_text) {
		rules_text = amana_default_rules;
		rules_len = amana_default_rules_len;
	}
	/* Check the rules before touching the disk: nothing half-written. */
	struct rules *rules = malloc(sizeof(*rules));
	if (!rules)
		return AMANA_ERR_NOMEM;
	struct rules_error rerr;
	err = rules_parse(rules_text, rules_len, rules, &rerr);
	free(rules);
	if (err) {
		say(why, why_cap, "rules, line %u: %s", rerr.line, rerr.message);
		return AMANA_ERR_INPUT;
	}

	if (mkdir(dir, 0700) == 0) {
		made_dir = true;
	} else if (errno != EEXIST) {
		say(why, why_cap, "cannot create %s: %s", dir, strerror(errno));
		return AMANA_ERR_IO;
	}
	join(db_path, sizeof(db_path), dir, "registry.db");
	join(rules_path, sizeof(rules_path), dir, "rules.txt");
	join(audit_dir, sizeof(audit_dir), dir, "audit");
	join(conf_path, sizeof(conf_path), dir, "store.conf");
	if (pg && !store_is_pg(store_uri)) {
		say(why, why_cap, "--store takes a postgresql:// URI");
		return AMANA_ERR_USAGE;
	}
	bool app = app_store_uri && *app_store_uri;
	if (app && (!pg || !store_is_pg(app_store_uri))) {
		say(why, why_cap, "--app-store takes a postgresql:// URI, with --store");
		return AMANA_ERR_USAGE;
	}
	if (access(db_path, F_OK) == 0 || access(audit_dir, F_OK) == 0 || access(conf_path, F_OK) == 0) {
		say(why, why_cap, "%s already holds a registry; refusing to overwrite it", dir);
		return AMANA_ERR_EXISTS;
	}
	if (access(key_path, F_OK) == 0) {
		say(why, why_cap, "the key file %s already exists; refusing to overwrite it", key_path);
		err = AMANA_ERR_EXISTS;
		goto fail;
	}
	if (path_inside(dir, key_path)) {
		say(why, why_cap, "the key file must live outside the registry directory %s", dir);
		err = AMANA_ERR_USAGE;
		goto fail;
	}

	crypto_kek_generate(kek);
	if ((err = kek_write(key_path, kek))) {
		say(why, why_cap, "cannot write the key file %s", key_path);
		goto fail;
	}
	made_key = true;
	if (pg) {
		/* Later commands connect as the application role when one is given. */
		const char *used = app ? app_store_uri : store_uri;
		if ((err = write_file_new(conf_path, used, strlen(used), 0600))) {
			say(why, why_cap, "cannot write %s", conf_path);
			goto fail;
		}
		made_conf = true;
	}
	if ((err = pg ? store_pg_open(store_uri, 1, &st) : store_sqlite_open(db_path, 1, &st))) {
		if (pg)
			say(why, why_cap, "cannot create the registry's tables in the PostgreSQL database: %s%s",
			    amana_strerror(err),
			    err == AMANA_ERR_EXISTS     ? " (it already holds a registry)"
			    : err == AMANA_ERR_NOTFOUND ? " (no such database: create it first)"
							: "");
		else
			say(why, why_cap, "cannot create the database in %s: %s", dir, amana_strerror(err));
		goto fail;
	}
	made_db = !pg; /* a PostgreSQL schema is not removed on failure: init refuses it again */
	if ((err = store_begin(st)) || (err = crypto_keyring_new(&kr)))
		goto fail_store;
	for (size_t i = 0; i < sizeof(all_purposes) / sizeof(all_purposes[0]); i++) {
		uint8_t wrapped[CRYPTO_WRAPPED_KEY_BYTES];
		crypto_key_generate(key);
		crypto_key_wrap(kek, all_purposes[i], 1, key, wrapped);
		err = crypto_keyring_add(kr, all_purposes[i], 1, key);
		crypto_wipe(key, sizeof(key));
		struct store_blob w = { wrapped, sizeof(wrapped) };
		if (err || (err = store_keyring_put(st, (int)all_purposes[i], 1, &w)))
			goto fail_store;
	}
	/* The audit log's signing key: a seed sealed under the signing key. */
	uint8_t seed[crypto_sign_SEEDBYTES], pk[AUDIT_PUBLIC_KEY_BYTES], sk[AUDIT_SECRET_KEY_BYTES];
	uint8_t sealed_seed[crypto_sign_SEEDBYTES + CRYPTO_SEAL_OVERHEAD];
	size_t sealed_len;
	crypto_random_bytes(seed, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	crypto_wipe(sk, sizeof(sk));
	struct crypto_ad ad = { "meta", "audit_signing_seed", 0, 0 };
	err = crypto_seal(kr, CRYPTO_PURPOSE_SIGNING, &ad, seed, sizeof(seed), sealed_seed, sizeof(sealed_seed),
			  &sealed_len);
	crypto_wipe(seed, sizeof(seed));
	crypto_keyring_free(kr);
	kr = NULL;
	if (err || (err = store_meta_put(st, "audit_signing_seed", sealed_seed, sealed_len)) ||
	    (err = store_meta_put(st, "audit_public_key", pk, sizeof(pk))))
		goto fail_store;
	if ((err = audit_create(audit_dir, pk))) {
		say(why, why_cap, "cannot create the audit log in %s: %s", audit_dir, amana_strerror(err));
		made_audit = true;
		goto fail;
	}
	made_audit = true;
	static const char format[] = "amana-registry-1";
	if ((err = store_meta_put(st, "format", (const uint8_t *)format, sizeof(format) - 1)))
		goto fail_store;
	if ((err = store_commit(st)))
		goto fail_store;
	if (app) {
		char role[64];
		if ((err = store_pg_grant_app(st, app_store_uri, role, sizeof(role)))) {
			say(why, why_cap,
			    err == AMANA_ERR_USAGE ? "--app-store must log in as a role other than the tables' owner"
						   : "cannot grant the application role its rights: %s",
			    amana_strerror(err));
			goto fail;
		}
	}
	store_close(st);
	st = NULL;
	if ((err = write_file_new(rules_path, rules_text, rules_len, 0600))) {
		say(why, why_cap, "cannot write %s", rules_path);
		goto fail;
	}
	made_rules = true;
	crypto_wipe(kek, sizeof(kek));
	return AMANA_OK;

fail_store:
	say(why, why_cap, "cannot set up the database: %s", amana_strerror(err));
fail:
	crypto_wipe(kek, sizeof(kek));
	crypto_keyring_free(kr);
	if (made_audit) {
		static const char *const files[] = { "entries", "index", "tree", "heads", "lock", "public.key" };
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			char p[PATH_MAX + 16];
			snprintf(p, sizeof(p), "%s/%s", audit_dir, files[i]);
			unlink(p);
		}
		rmdir(audit_dir);
	}
	if (st) {
		(void)store_rollback(st);
		store_close(st);
	}
	if (made_rules)
		unlink(rules_path);
	if (made_db) {
		char p[PATH_MAX + 8];
		unlink(db_path);
		snprintf(p, sizeof(p), "%s-wal", db_path);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", db_path);
		unlink(p);
	}
	if (made_key)
		unlink(key_path);
	if (made_conf)
		unlink(conf_path);
	if (made_dir)
		rmdir(dir);
	return err;
}

struct unwrap_ctx {
	struct registry *r;
	const uint8_t *kek;
	unsigned loaded;
};

static enum amana_err unwrap_one(void *vctx, int purpose, uint32_t version, const struct store_blob *w)
{
	struct unwrap_ctx *c = vctx;
	uint8_t key[CRYPTO_KEY_BYTES];
	if (purpose < CRYPTO_PURPOSE_MIN || purpose > CRYPTO_PURPOSE_MAX || w->len != CRYPTO_WRAPPED_KEY_BYTES)
		return AMANA_ERR_CORRUPT;
	enum amana_err err = crypto_key_unwrap(c->kek, (enum crypto_purpose)purpose, version, w->data, key);
	if (err)
		return err;
	err = crypto_keyring_add(c->r->keys, (enum crypto_purpose)purpose, version, key);
	crypto_wipe(key, sizeof(key));
	if (!err)
		c->loaded++;
	return err;
}

/* The audit log's key pair, unsealed with the registry's keys. */
static enum amana_err signing_key(struct registry *r, uint8_t pk[AUDIT_PUBLIC_KEY_BYTES],
				  uint8_t sk[AUDIT_SECRET_KEY_BYTES])
{
	uint8_t sealed[128], seed[crypto_sign_SEEDBYTES], stored_pk[AUDIT_PUBLIC_KEY_BYTES];
	size_t len, plen, pklen;
	enum amana_err err = store_meta_get(r->store, "audit_signing_seed", sealed, sizeof(sealed), &len);
	if (!err)
		err = store_meta_get(r->store, "audit_public_key", stored_pk, sizeof(stored_pk), &pklen);
	if (err)
		return err;
	struct crypto_ad ad = { "meta", "audit_signing_seed", 0, 0 };
	if ((err = crypto_open(r->keys, &ad, sealed, len, seed, sizeof(seed), &plen)))
		return err;
	if (plen != sizeof(seed) || pklen != sizeof(stored_pk)) {
		crypto_wipe(seed, sizeof(seed));
		return AMANA_ERR_CORRUPT;
	}
	crypto_sign_seed_keypair(pk, sk, seed);
	crypto_wipe(seed, sizeof(seed));
	if (sodium_memcmp(pk, stored_pk, sizeof(stored_pk)) != 0) {
		crypto_wipe(sk, AUDIT_SECRET_KEY_BYTES);
		return AMANA_ERR_CORRUPT;
	}
	return AMANA_OK;
}

static enum amana_err open_registry(const char *dir, const char *key_path, bool with_audit, struct registry **out,
				    char *why, size_t why_cap);

enum amana_err registry_open(const char *dir, const char *key_path, struct registry **out, char *why, size_t why_cap)
{
	return open_registry(dir, key_path, true, out, why, why_cap);
}

static enum amana_err open_registry(const char *dir, const char *key_path, bool with_audit, struct registry **out,
				    char *why, size_t why_cap)
{
	char location[1024];
	*out = NULL;
	char db_path[PATH_MAX], rules_path[PATH_MAX];
	uint8_t kek[CRYPTO_KEY_BYTES];
	char *rules_text = NULL;
	size_t rules_len = 0;
	enum amana_err err;
	struct registry *r = calloc(1, sizeof(*r));
	if (!r)
		return AMANA_ERR_NOMEM;
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	join(db_path, sizeof(db_path), dir, "registry.db");
	join(rules_path, sizeof(rules_path), dir, "rules.txt");

	if ((err = store_location(dir, location, sizeof(location)))) {
		say(why, why_cap, "%s/store.conf does not name a postgresql:// database", dir);
		goto fail;
	}
	(void)db_path;
	if ((err = store_open(location, 0, &r->store))) {
		if (err == AMANA_ERR_DENIED)
			say(why, why_cap,
			    "the tables of the registry in %s are of an older Amana, and the role it connects as may "
			    "not change them: the owner role runs amana migrate -d %s --store OWNER_URI first",
			    dir, dir);
		else
			say(why, why_cap,
			    err == AMANA_ERR_NOTFOUND ? "no registry in %s (run amana init first)"
						      : "cannot open the registry in %s",
			    dir);
		goto fail;
	}
	if ((err = kek_read(key_path, kek, why, why_cap)))
		goto fail;
	if ((err = crypto_keyring_new(&r->keys)))
		goto fail;
	struct unwrap_ctx uc = { r, kek, 0 };
	err = store_keyring_each(r->store, unwrap_one, &uc);
	crypto_wipe(kek, sizeof(kek));
	if (err || uc.loaded == 0) {
		say(why, why_cap, "the key file %s does not open the registry in %s", key_path, dir);
		err = AMANA_ERR_CRYPTO;
		goto fail;
	}
	if ((err = crypto_bidx_key_derive(r->keys, "employers", "affiliation", BIDX_BITS_AFFILIATION, &r->bx_aff)) ||
	    (err = crypto_bidx_key_derive(r->keys, "persons", "registration", BIDX_BITS_REGISTRATION, &r->bx_reg)) ||
	    (err = crypto_bidx_key_derive(r->keys, "persons", "cin", BIDX_BITS_CIN, &r->bx_cin)) ||
	    (err = crypto_bidx_key_derive(r->keys, "persons", "name", BIDX_BITS_NAME, &r->bx_name)) ||
	    (err = crypto_bidx_key_derive(r->keys, "accounts", "login", BIDX_BITS_LOGIN, &r->bx_login)) ||
	    (err = crypto_bidx_key_derive(r->keys, "marks", "subject", 63, &r->bx_mark))) {
		say(why, why_cap, "the registry has no blind-index key");
		goto fail;
	}
	if ((err = guard_new(&r->guard)))
		goto fail;
	if ((err = read_small_file(rules_path, &rules_text, &rules_len))) {
		say(why, why_cap, "cannot read the rules %s", rules_path);
		goto fail;
	}
	struct rules_error rerr;
	err = rules_parse(rules_text, rules_len, &r->rules, &rerr);
	free(rules_text);
	if (err) {
		say(why, why_cap, "%s, line %u: %s", rules_path, rerr.line, rerr.message);
		goto fail;
	}
	if (with_audit) {
		/* No audit log, no registry: every read must be logged. */
		uint8_t pk[AUDIT_PUBLIC_KEY_BYTES], sk[AUDIT_SECRET_KEY_BYTES];
		char audit_dir[PATH_MAX];
		join(audit_dir, sizeof(audit_dir), dir, "audit");
		if ((err = signing_key(r, pk, sk))) {
			say(why, why_cap, "the registry's audit signing key cannot be opened: %s", amana_strerror(err));
			goto fail;
		}
		err = audit_open(audit_dir, sk, &r->audit, why, why_cap);
		crypto_wipe(sk, sizeof(sk));
		if (err)
			goto fail;
	}
	*out = r;
	return AMANA_OK;
fail:
	crypto_wipe(kek, sizeof(kek));
	registry_close(r);
	return err;
}

enum amana_err registry_worker_open(struct registry *r, struct registry **w)
{
	*w = NULL;
	char location[1024];
	enum amana_err err = store_location(r->dir, location, sizeof(location));
	if (err)
		return err;
	struct registry *n = malloc(sizeof(*n));
	if (!n)
		return AMANA_ERR_NOMEM;
	*n = *r;
	n->parent = r;
	n->store = NULL;
	if ((err = store_open(location, 0, &n->store)) || (err = store_serve_reads(n->store))) {
		store_close(n->store);
		crypto_wipe(n, sizeof(*n));
		free(n);
		return err;
	}
	*w = n;
	return AMANA_OK;
}

void registry_worker_close(struct registry *w)
{
	if (!w)
		return;
	store_close(w->store);
	crypto_wipe(w, sizeof(*w)); /* copies of the parent's derived keys */
	free(w);
}

void registry_close(struct registry *r)
{
	if (!r)
		return;
	if (r->parent) {
		registry_worker_close(r);
		return;
	}
	guard_free(r->guard);
	/* A head for this process's entries; if it cannot be signed now,
	 * the next open signs it (the entries themselves are durable). */
	(void)audit_close(r->audit);
	store_close(r->store);
	crypto_keyring_free(r->keys);
	crypto_bidx_key_clear(&r->bx_aff);
	crypto_bidx_key_clear(&r->bx_reg);
	crypto_bidx_key_clear(&r->bx_cin);
	crypto_bidx_key_clear(&r->bx_name);
	crypto_bidx_key_clear(&r->bx_login);
	crypto_bidx_key_clear(&r->bx_mark);
	free(r);
}

const struct rules *registry_rules(const struct registry *r)
{
	return &r->rules;
}

enum amana_err svc_stats(struct registry *r, const struct principal *who, struct registry_stats *out)
{
	(void)who; /* counts carry no personal data */
	struct store_counts c;
	enum amana_err err = store_counts(r->store, &c);
	if (err)
		return err;
	out->employers = c.employers;
	out->persons = c.persons;
	out->employments = c.employments;
	out->declarations = c.declarations;
	out->lines = c.lines;
	return AMANA_OK;
}

enum amana_err svc_audit_verify(const char *dir, const char *key_path, struct audit_verify_report *rep, char *why,
				size_t why_cap)
{
	memset(rep, 0, sizeof(*rep));
	struct registry *r;
	enum amana_err err = open_registry(dir, key_path, false, &r, why, why_cap);
	if (err)
		return err;
	uint8_t pk[AUDIT_PUBLIC_KEY_BYTES], sk[AUDIT_SECRET_KEY_BYTES], published[AUDIT_PUBLIC_KEY_BYTES];
	char audit_dir[PATH_MAX];
	join(audit_dir, sizeof(audit_dir), dir, "audit");
	err = signing_key(r, pk, sk);
	crypto_wipe(sk, sizeof(sk));
	registry_close(r);
	if (err) {
		say(why, why_cap, "the registry's audit signing key cannot be opened: %s", amana_strerror(err));
		return err;
	}
	/* The key third parties are given must be the registry's own. */
	if ((err = audit_read_public_key(audit_dir, published)) || sodium_memcmp(published, pk, sizeof(pk)) != 0) {
		rep->ok = false;
		snprintf(rep->file, sizeof(rep->file), "public.key");
		snprintf(rep->problem, sizeof(rep->problem), "%s",
			 err ? "the published public key cannot be read"
			     : "the published public key is not the registry's signing key");
		return AMANA_OK;
	}
	return audit_verify(audit_dir, pk, rep);
}
