/*
 * audit_cmd.c - `amana audit`: the signed tree head, proofs, full
 * verification, queries, and handing heads to a witness. The CLI acts as
 * an auditor here; every query is itself an audited access.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

enum { OPT_KEY = 1000, OPT_JSON, OPT_SUBJECT, OPT_EMPLOYER, OPT_PRINCIPAL, OPT_SINCE, OPT_UNTIL, OPT_PUBKEY };

static const char audit_help[] = "usage: amana audit sth [--json]\n"
				 "       amana audit verify [--json]\n"
				 "       amana audit prove SEQ [--json]\n"
				 "       amana audit consistency OLD_SIZE [NEW_SIZE] [--json]\n"
				 "       amana audit check-proof [FILE] [--public-key KEY]\n"
				 "       amana audit query (--subject REG | --employer AFF | --principal ID |\n"
				 "                          --since TIME | --until TIME)... [--json]\n"
				 "       amana audit witness WITNESS_DIR [--json]\n"
				 "\n"
				 "Every read or write of personal data, allowed or refused, is an entry of the\n"
				 "audit log (DIR/audit), hashed into an RFC 9162 Merkle tree whose heads are\n"
				 "signed with the registry's Ed25519 key.\n"
				 "\n"
				 "  sth          the latest signed tree head (size, root hash, time, signature)\n"
				 "  verify       recompute everything from the entries; exits 1 naming the first\n"
				 "               bad file and position if anything was changed, removed,\n"
				 "               reordered, inserted, truncated or re-signed\n"
				 "  prove        the inclusion proof of entry SEQ (from 0) in the latest head\n"
				 "  consistency  the proof that the log of OLD_SIZE entries is a prefix of the\n"
				 "               one of NEW_SIZE (default: the latest head)\n"
				 "  check-proof  check JSON from sth, prove or consistency (FILE or stdin) with\n"
				 "               the public key alone: no registry needed. KEY is a file like\n"
				 "               DIR/audit/public.key or the key in base64; without it the key\n"
				 "               inside the JSON is used and the output says it was not pinned.\n"
				 "               Exits 3 if anything does not verify.\n"
				 "  query        entries about a person (registration number), an employer\n"
				 "               (affiliation), by a principal, or in a time window\n"
				 "               (TIME: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC); filters combine\n"
				 "  witness      copy the latest head to WITNESS_DIR (a folder a third party\n"
				 "               keeps); refused, exit 3, unless it is signed by the key the\n"
				 "               witness pinned on first use and consistent with its last head\n"
				 "\n"
				 "JSON fields follow the shared Merkle vectors: tree_size, root_hash, leaf_index,\n"
				 "leaf_hash, inclusion_path, old_size, new_size, old_root, new_root,\n"
				 "consistency_path (hashes in base64), plus timestamp (ms), signature and\n"
				 "public_key.\n"
				 "\n"
				 "  -d, --dir DIR      registry directory (default $AMANA_HOME)\n"
				 "      --key FILE     key-encryption key file (default $AMANA_KEY_FILE)\n"
				 "      --json         machine-readable output\n";

static void b64(const uint8_t *bin, size_t len, char *out, size_t cap)
{
	sodium_bin2base64(out, cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
}

static void json_b64(const char *key, const uint8_t *bin, size_t len, bool comma)
{
	char buf[sodium_base64_ENCODED_LEN(AUDIT_ENTRY_MAX, sodium_base64_VARIANT_ORIGINAL)];
	b64(bin, len, buf, sizeof(buf));
	json_kv_str(stdout, key, buf, comma);
}

static void json_path(const char *key, const merkle_hash *path, size_t n, bool comma)
{
	printf("\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		char buf[64];
		b64(path[i], MERKLE_HASH_BYTES, buf, sizeof(buf));
		printf("%s\"%s\"", i ? "," : "", buf);
	}
	printf("]%s", comma ? "," : "");
}

static void fmt_time(int64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* The head's own fields (no braces). */
static void json_head(const struct audit_head *h, const uint8_t *pk, bool comma)
{
	json_kv_int(stdout, "timestamp", h->time_ms, true);
	json_b64("signature", h->signature, sizeof(h->signature), pk != NULL || comma);
	if (pk)
		json_b64("public_key", pk, AUDIT_PUBLIC_KEY_BYTES, comma);
}

static void print_head_text(const char *label, const struct audit_head *h)
{
	char root[64], sig[128], when[64];
	b64(h->root, MERKLE_HASH_BYTES, root, sizeof(root));
	b64(h->signature, sizeof(h->signature), sig, sizeof(sig));
	fmt_time(h->time_ms, when, sizeof(when));
	printf("%stree size   %llu\nroot hash   %s\nsigned at   %s\nsignature   %s\n", label,
	       (unsigned long long)h->size, root, when, sig);
}

static int do_sth(struct registry *r, const struct common *cm)
{
	struct audit_head_view v;
	enum amana_err err = svc_audit_head(r, &cm->who, &v);
	if (err)
		return fail(err, "no signed tree head: %s", amana_strerror(err));
	if (cm->json) {
		printf("{");
		json_kv_int(stdout, "tree_size", (long long)v.head.size, true);
		json_b64("root_hash", v.head.root, MERKLE_HASH_BYTES, true);
		json_head(&v.head, v.public_key, false);
		printf("}\n");
	} else {
		char pk[64];
		print_head_text("", &v.head);
		b64(v.public_key, sizeof(v.public_key), pk, sizeof(pk));
		printf("public key  %s (Ed25519)\n", pk);
	}
	return EXIT_OK;
}

static int do_prove(struct registry *r, const struct common *cm, const char *arg)
{
	uint64_t seq;
	if (!parse_u64(arg, &seq))
		return usage_error("audit prove", "SEQ must be a number, not '%s'", arg);
	struct audit_proof_view *v = malloc(sizeof(*v));
	if (!v)
		return fail(AMANA_ERR_NOMEM, "out of memory");
	enum amana_err err = svc_audit_prove(r, &cm->who, seq, v);
	if (err) {
		free(v);
		return fail(err,
			    err == AMANA_ERR_NOTFOUND ? "no entry %llu under the latest signed head"
						      : "cannot prove entry %llu",
			    (unsigned long long)seq);
	}
	if (cm->json) {
		printf("{");
		json_kv_int(stdout, "leaf_index", (long long)v->leaf_index, true);
		json_kv_int(stdout, "tree_size", (long long)v->head.head.size, true);
		json_b64("leaf_hash", v->leaf_hash, MERKLE_HASH_BYTES, true);
		json_path("inclusion_path", v->path, v->path_len, true);
		json_b64("root_hash", v->head.head.root, MERKLE_HASH_BYTES, true);
		json_head(&v->head.head, v->head.public_key, true);
		json_b64("entry", v->entry, v->entry_len, false);
		printf("}\n");
	} else {
		char leaf[64];
		b64(v->leaf_hash, MERKLE_HASH_BYTES, leaf, sizeof(leaf));
		printf("entry       %llu\nleaf hash   %s\nproof       %zu hashes\n", (unsigned long long)v->leaf_index,
		       leaf, v->path_len);
		for (size_t i = 0; i < v->path_len; i++) {
			char h[64];
			b64(v->path[i], MERKLE_HASH_BYTES, h, sizeof(h));
			printf("  %s\n", h);
		}
		print_head_text("against the head:\n", &v->head.head);
	}
	free(v);
	return EXIT_OK;
}

static int do_consistency(struct registry *r, const struct common *cm, int argc, char **argv)
{
	uint64_t old_size, new_size = 0;
	if (argc < 1 || argc > 2)
		return usage_error("audit consistency", "give OLD_SIZE [NEW_SIZE]");
	if (!parse_u64(argv[0], &old_size) || (argc == 2 && (!parse_u64(argv[1], &new_size) || new_size == 0)))
		return usage_error("audit consistency", "sizes are numbers of entries");
	struct audit_consistency_view *v = malloc(sizeof(*v));
	if (!v)
		return fail(AMANA_ERR_NOMEM, "out of memory");
	enum amana_err err = svc_audit_consistency(r, &cm->who, old_size, new_size, v);
	if (err) {
		free(v);
		return fail(err, "no consistency proof from %llu to %s: %s", (unsigned long long)old_size,
			    argc == 2 ? argv[1] : "the latest head",
			    err == AMANA_ERR_USAGE ? "sizes out of order or past the latest head"
						   : amana_strerror(err));
	}
	if (cm->json) {
		printf("{");
		json_kv_int(stdout, "old_size", (long long)v->old_size, true);
		json_kv_int(stdout, "new_size", (long long)v->new_size, true);
		json_b64("old_root", v->old_root, MERKLE_HASH_BYTES, true);
		json_b64("new_root", v->new_root, MERKLE_HASH_BYTES, true);
		json_path("consistency_path", v->path, v->path_len, true);
		if (v->have_new_head) {
			/* the head of new_size, so the new root can be checked too */
			json_head(&v->new_head, v->head.public_key, v->have_old_head);
		} else {
			json_b64("public_key", v->head.public_key, AUDIT_PUBLIC_KEY_BYTES, v->have_old_head);
		}
		if (v->have_old_head) {
			printf("\"old_head\":{");
			json_head(&v->old_head, NULL, false);
			printf("}");
		}
		printf("}\n");
	} else {
		char a[64], b[64];
		b64(v->old_root, MERKLE_HASH_BYTES, a, sizeof(a));
		b64(v->new_root, MERKLE_HASH_BYTES, b, sizeof(b));
		printf("old size    %llu\nold root    %s\nnew size    %llu\nnew root    %s\nproof       %zu hashes\n",
		       (unsigned long long)v->old_size, a, (unsigned long long)v->new_size, b, v->path_len);
		for (size_t i = 0; i < v->path_len; i++) {
			char h[64];
			b64(v->path[i], MERKLE_HASH_BYTES, h, sizeof(h));
			printf("  %s\n", h);
		}
	}
	free(v);
	return EXIT_OK;
}

static int do_verify(const struct common *cm)
{
	struct audit_verify_report rep;
	char why[256] = "";
	enum amana_err err = svc_audit_verify(cm->dir, cm->key, &rep, why, sizeof(why));
	if (err)
		return fail(err, "%s", why[0] ? why : amana_strerror(err));
	if (cm->json) {
		printf("{");
		printf("\"ok\":%s,", rep.ok ? "true" : "false");
		json_kv_int(stdout, "entries", (long long)rep.entries, true);
		json_kv_int(stdout, "heads", (long long)rep.heads, !rep.ok);
		if (!rep.ok) {
			json_kv_str(stdout, "file", rep.file, true);
			json_kv_int(stdout, "position", (long long)rep.position, true);
			json_kv_int(stdout, "offset", (long long)rep.offset, true);
			json_kv_str(stdout, "problem", rep.problem, false);
		}
		printf("}\n");
	} else if (rep.ok) {
		printf("audit log verified: %llu entries, %llu signed heads, every byte recomputed\n",
		       (unsigned long long)rep.entries, (unsigned long long)rep.heads);
	}
	if (!rep.ok) {
		fprintf(stderr, "amana: audit log verification FAILED at %s, position %llu (byte %llu): %s\n", rep.file,
			(unsigned long long)rep.position, (unsigned long long)rep.offset, rep.problem);
		return EXIT_FAILURE_;
	}
	return EXIT_OK;
}

/* ---- check-proof ---- */

static bool get_hash(json_t *o, const char *key, merkle_hash out)
{
	const char *s = json_string_value(json_object_get(o, key));
	size_t len;
	return s &&
	       sodium_base642bin(out, MERKLE_HASH_BYTES, s, strlen(s), NULL, &len, NULL,
				 sodium_base64_VARIANT_ORIGINAL) == 0 &&
	       len == MERKLE_HASH_BYTES;
}

static bool get_u64(json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

static bool get_bin(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	return s && sodium_base642bin(out, cap, s, strlen(s), "\n ", len, NULL, sodium_base64_VARIANT_ORIGINAL) == 0;
}

static bool get_path(json_t *o, const char *key, struct audit_check *c)
{
	json_t *arr = json_object_get(o, key);
	if (!json_is_array(arr) || json_array_size(arr) > MERKLE_PROOF_MAX)
		return false;
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		size_t len;
		if (!s ||
		    sodium_base642bin(c->path[i], MERKLE_HASH_BYTES, s, strlen(s), NULL, &len, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    len != MERKLE_HASH_BYTES)
			return false;
	}
	c->path_len = json_array_size(arr);
	return true;
}

/* A key: a public.key file, or the key itself in base64. */
static bool load_key(const char *arg, uint8_t pk[AUDIT_PUBLIC_KEY_BYTES])
{
	char text[256];
	const char *s = arg;
	FILE *f = fopen(arg, "r");
	if (f) {
		size_t n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = 0;
		s = text;
		if (!strncmp(s, "AMANA-AUDIT-ED25519 ", 20))
			s += 20;
	}
	size_t len;
	return sodium_base642bin(pk, AUDIT_PUBLIC_KEY_BYTES, s, strlen(s), "\n ", &len, NULL,
				 sodium_base64_VARIANT_ORIGINAL) == 0 &&
	       len == AUDIT_PUBLIC_KEY_BYTES;
}

static int do_check_proof(int argc, char **argv, const char *key_arg, bool json_out)
{
	if (argc > 1)
		return usage_error("audit check-proof", "give one FILE (or none for stdin)");
	json_error_t je;
	json_t *o = argc == 1 && strcmp(argv[0], "-") ? json_load_file(argv[0], JSON_REJECT_DUPLICATES, &je)
						      : json_loadf(stdin, JSON_REJECT_DUPLICATES, &je);
	if (!o)
		return fail(AMANA_ERR_INPUT, "not JSON: line %d: %s", je.line, je.text);
	if (!json_is_object(o)) {
		json_decref(o);
		return fail(AMANA_ERR_INPUT, "expected a JSON object from amana audit sth, prove or consistency");
	}
	struct audit_check *c = calloc(1, sizeof(*c));
	if (!c) {
		json_decref(o);
		return fail(AMANA_ERR_NOMEM, "out of memory");
	}
	const char *bad = NULL;
	if (json_object_get(o, "inclusion_path")) {
		c->has_inclusion = true;
		if (!get_u64(o, "leaf_index", &c->leaf_index) || !get_u64(o, "tree_size", &c->tree_size) ||
		    !get_hash(o, "leaf_hash", c->leaf_hash) || !get_hash(o, "root_hash", c->root) ||
		    !get_path(o, "inclusion_path", c))
			bad = "an inclusion proof needs leaf_index, tree_size, leaf_hash, root_hash, inclusion_path";
		const char *entry = json_string_value(json_object_get(o, "entry"));
		if (!bad && entry && !get_bin(entry, c->entry, sizeof(c->entry), &c->entry_len))
			bad = "entry is not base64";
	} else if (json_object_get(o, "consistency_path")) {
		c->has_consistency = true;
		if (!get_u64(o, "old_size", &c->old_size) || !get_u64(o, "new_size", &c->tree_size) ||
		    !get_hash(o, "old_root", c->old_root) || !get_hash(o, "new_root", c->root) ||
		    !get_path(o, "consistency_path", c))
			bad = "a consistency proof needs old_size, new_size, old_root, new_root, consistency_path";
	} else if (!get_u64(o, "tree_size", &c->tree_size) || !get_hash(o, "root_hash", c->root)) {
		bad = "expected a proof (inclusion_path or consistency_path) or a head (tree_size, root_hash)";
	}
	bool key_pinned = false;
	const char *sig = json_string_value(json_object_get(o, "signature"));
	if (!bad && sig) {
		size_t len;
		json_t *ts = json_object_get(o, "timestamp");
		c->has_head = true;
		if (!get_bin(sig, c->signature, sizeof(c->signature), &len) || len != sizeof(c->signature) ||
		    !json_is_integer(ts))
			bad = "a head needs timestamp and a 64-byte signature in base64";
		else
			c->timestamp = json_integer_value(ts);
		if (!bad && key_arg) {
			if (!load_key(key_arg, c->public_key))
				bad = "--public-key is neither a public.key file nor a base64 Ed25519 key";
			key_pinned = true;
		} else if (!bad) {
			const char *pk = json_string_value(json_object_get(o, "public_key"));
			if (!get_bin(pk, c->public_key, sizeof(c->public_key), &len) || len != sizeof(c->public_key))
				bad = "no public key: give --public-key or a public_key field";
		}
	} else if (!bad && !c->has_inclusion && !c->has_consistency) {
		bad = "a head without a signature proves nothing";
	}
	json_decref(o);
	if (bad) {
		free(c);
		return fail(AMANA_ERR_INPUT, "%s", bad);
	}
	struct audit_check_result res;
	enum amana_err err = svc_audit_check(c, &res);
	if (json_out) {
		printf("{\"valid\":%s", err ? "false" : "true");
		if (res.inclusion_checked)
			printf(",\"inclusion\":%s", res.inclusion_ok ? "true" : "false");
		if (res.entry_checked)
			printf(",\"entry\":%s", res.entry_ok ? "true" : "false");
		if (res.consistency_checked)
			printf(",\"consistency\":%s", res.consistency_ok ? "true" : "false");
		if (res.head_checked)
			printf(",\"signature\":%s,\"key_pinned\":%s", res.head_ok ? "true" : "false",
			       key_pinned ? "true" : "false");
		printf("}\n");
	} else {
		if (res.inclusion_checked)
			printf("inclusion proof of entry %llu in %llu entries: %s\n", (unsigned long long)c->leaf_index,
			       (unsigned long long)c->tree_size, res.inclusion_ok ? "valid" : "INVALID");
		if (res.entry_checked)
			printf("entry bytes hash to the leaf: %s\n", res.entry_ok ? "yes" : "NO");
		if (res.consistency_checked)
			printf("consistency proof from %llu to %llu entries: %s\n", (unsigned long long)c->old_size,
			       (unsigned long long)c->tree_size, res.consistency_ok ? "valid" : "INVALID");
		if (res.head_checked)
			printf("signature of the head of %llu entries: %s (%s)\n", (unsigned long long)c->tree_size,
			       res.head_ok ? "valid" : "INVALID",
			       key_pinned ? "key given with --public-key"
					  : "key taken from the JSON itself, not pinned");
	}
	free(c);
	if (err == AMANA_ERR_INPUT)
		fprintf(stderr, "amana: the proof does not verify\n");
	return exit_code_for(err);
}

/* ---- query ---- */

static bool parse_time(const char *s, int64_t *ms)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
		if (!end || *end)
			return false;
	}
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*ms = (int64_t)t * 1000;
	return true;
}

struct query_out {
	bool json;
	uint64_t n;
};

static enum amana_err print_entry(void *ctx, uint64_t seq, const struct audit_entry *e, const char *purpose)
{
	struct query_out *q = ctx;
	char when[64];
	fmt_time(e->time_ms, when, sizeof(when));
	if (q->json) {
		printf("%s{", q->n ? ",\n" : "");
		json_kv_int(stdout, "seq", (long long)seq, true);
		json_kv_str(stdout, "time", when, true);
		json_kv_str(stdout, "principal", e->principal, true);
		json_kv_str(stdout, "role", e->role, true);
		json_kv_str(stdout, "action", e->action, true);
		json_kv_str(stdout, "outcome", audit_outcome_name(e->outcome), true);
		json_kv_str(stdout, "reason", e->reason, true);
		json_kv_str(stdout, "purpose", purpose, true);
		json_kv_str(stdout, "request_id", e->request_id, true);
		json_kv_str(stdout, "client", e->client, true);
		printf("\"subjects\":[");
		for (unsigned i = 0; i < e->nsubjects; i++)
			printf("%s\"%c:%lld\"", i ? "," : "", e->subjects[i].kind, (long long)e->subjects[i].id);
		printf("],");
		json_kv_int(stdout, "subjects_total", e->subjects_total, false);
		printf("}");
	} else {
		printf("%-8llu %s  %-20s %-10s %-18s %-7s", (unsigned long long)seq, when, e->principal, e->role,
		       e->action, audit_outcome_name(e->outcome));
		if (e->reason[0])
			printf(" (%s)", e->reason);
		if (purpose[0])
			printf(" purpose \"%s\"", purpose);
		printf(" subjects %u", e->subjects_total);
		printf(" request %s from %s\n", e->request_id, e->client);
	}
	q->n++;
	return AMANA_OK;
}

static int do_query(struct registry *r, const struct common *cm, struct audit_query *q)
{
	struct query_out out = { cm->json, 0 };
	if (cm->json)
		printf("{\"entries\":[");
	enum amana_err err = svc_audit_query(r, &cm->who, q, print_entry, &out);
	if (cm->json)
		printf("],\"count\":%llu}\n", (unsigned long long)out.n);
	else if (!err)
		printf("%llu entries\n", (unsigned long long)out.n);
	if (err)
		return fail(err, "%s", err == AMANA_ERR_NOTFOUND ? "no such person or employer" : amana_strerror(err));
	return EXIT_OK;
}

static int do_witness(struct registry *r, const struct common *cm, const char *dir)
{
	struct audit_witness_result w;
	enum amana_err err = svc_audit_witness(r, &cm->who, dir, &w);
	if (cm->json) {
		printf("{");
		printf("\"accepted\":%s,", err ? "false" : "true");
		printf("\"appended\":%s,", w.appended ? "true" : "false");
		json_kv_int(stdout, "tree_size", (long long)w.head.size, true);
		if (w.had_previous)
			json_kv_int(stdout, "previous_size", (long long)w.previous.size, true);
		json_kv_str(stdout, "refusal", w.refusal, false);
		printf("}\n");
	} else if (!err) {
		if (w.pinned_now)
			printf("witness %s: pinned the registry's public key\n", dir);
		if (w.appended)
			printf("witness %s: accepted the head of %llu entries%s\n", dir,
			       (unsigned long long)w.head.size,
			       w.had_previous ? " (consistent with its last head)" : "");
		else
			printf("witness %s: already holds the head of %llu entries\n", dir,
			       (unsigned long long)w.head.size);
	}
	if (err == AMANA_ERR_INPUT)
		return fail(err, "witness %s refused the head: %s", dir, w.refusal);
	if (err)
		return fail(err, "witness %s: %s", dir, amana_strerror(err));
	return EXIT_OK;
}

int cmd_audit(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "subject", required_argument, NULL, OPT_SUBJECT },
		{ "employer", required_argument, NULL, OPT_EMPLOYER },
		{ "principal", required_argument, NULL, OPT_PRINCIPAL },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "public-key", required_argument, NULL, OPT_PUBKEY },
		{ 0, 0, 0, 0 },
	};
	struct common cm;
	common_defaults(&cm);
	cm.who.role = ROLE_AUDITOR;
	struct audit_query q;
	memset(&q, 0, sizeof(q));
	bool filtered = false;
	const char *pubkey = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", longs, NULL)) != -1) {
		switch (c) {
		case 'd': cm.dir = optarg; break;
		case OPT_KEY: cm.key = optarg; break;
		case OPT_JSON: cm.json = true; break;
		case 'h': fputs(audit_help, stdout); return EXIT_OK;
		case OPT_SUBJECT:
			if (!parse_u32(optarg, &q.registration) || q.registration == 0)
				return usage_error("audit query", "--subject takes a registration number");
			filtered = true;
			break;
		case OPT_EMPLOYER:
			if (!parse_u32(optarg, &q.affiliation) || q.affiliation == 0)
				return usage_error("audit query", "--employer takes an affiliation number");
			filtered = true;
			break;
		case OPT_PRINCIPAL:
			q.principal = optarg;
			filtered = true;
			break;
		case OPT_SINCE:
			if (!parse_time(optarg, &q.since_ms))
				return usage_error("audit query", "--since takes YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
			filtered = true;
			break;
		case OPT_UNTIL:
			if (!parse_time(optarg, &q.until_ms))
				return usage_error("audit query", "--until takes YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
			filtered = true;
			break;
		case OPT_PUBKEY: pubkey = optarg; break;
		default: return usage_error("audit", "unknown option (see amana audit --help)");
		}
	}
	if (optind >= argc)
		return usage_error("audit", "give a subcommand: sth, verify, prove, consistency, check-proof, query, "
					    "witness");
	const char *sub = argv[optind++];
	int rest = argc - optind;
	char **args = argv + optind;
	if (!strcmp(sub, "check-proof"))
		return do_check_proof(rest, args, pubkey, cm.json);
	if (!strcmp(sub, "verify")) {
		if (rest)
			return usage_error("audit verify", "no arguments");
		if (!cm.dir || !cm.key)
			return usage_error("audit verify",
					   "give -d DIR and --key FILE (or AMANA_HOME, AMANA_KEY_FILE)");
		return do_verify(&cm);
	}
	if (strcmp(sub, "sth") && strcmp(sub, "prove") && strcmp(sub, "consistency") && strcmp(sub, "query") &&
	    strcmp(sub, "witness"))
		return usage_error("audit", "unknown subcommand '%s'", sub);
	if (!strcmp(sub, "query") && !filtered)
		return usage_error("audit query", "give --subject, --employer, --principal, --since or --until");
	if ((!strcmp(sub, "sth") || !strcmp(sub, "query")) && rest)
		return usage_error(sub, "unexpected argument '%s'", args[0]);
	if ((!strcmp(sub, "prove") || !strcmp(sub, "witness")) && rest != 1)
		return usage_error(sub, "give exactly one argument");
	struct registry *r;
	int rc = open_registry(&cm, &r);
	if (rc)
		return rc;
	if (!strcmp(sub, "sth"))
		rc = do_sth(r, &cm);
	else if (!strcmp(sub, "prove"))
		rc = do_prove(r, &cm, args[0]);
	else if (!strcmp(sub, "consistency"))
		rc = do_consistency(r, &cm, rest, args);
	else if (!strcmp(sub, "query"))
		rc = do_query(r, &cm, &q);
	else
		rc = do_witness(r, &cm, args[0]);
	registry_close(r);
	return rc;
}
