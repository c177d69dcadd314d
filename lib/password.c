/* password.c: Argon2id hashes through libsodium; node-argon2 hashes read. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "password.h"

bool
password_init(void)
{
	return sodium_init() >= 0;
}

enum board_err
password_hash(const struct password_cost *cost, const char *pw, size_t len,
    char out[PASSWORD_HASH_MAX])
{
	if (crypto_pwhash_str_alg(out, pw, len, cost->ops, cost->mem,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		log_err("password: cannot hash (out of memory for %zu bytes?)",
		    cost->mem);
		return BOARD_EINTERNAL;
	}
	return BOARD_OK;
}

/*
 * node-argon2 (0.45) writes "$argon2id$v=19$m=65536,p=4,t=3$salt$hash",
 * which libsodium 1.0.18's crypto_pwhash_str_verify refuses; reordered to
 * "m=...,t=...,p=..." the same hashes verify, p=4 included (test_node_argon2
 * in tests/test-password.c checks the rewrite). Rewrites the first order
 * into the second in out; false when hash is not of that shape.
 */
static bool
reorder_params(const char *hash, char *out, size_t outsz)
{
	unsigned long m, p, t;
	int pre = 0, used = 0;
	const char *rest;

	if (strncmp(hash, "$argon2", 7) != 0)
		return false;
	/* Find the parameter segment: the third '$'-separated field. */
	const char *s = strchr(hash + 1, '$');
	if (s == NULL || (s = strchr(s + 1, '$')) == NULL)
		return false;
	pre = (int)(s - hash) + 1;
	if (sscanf(s + 1, "m=%lu,p=%lu,t=%lu%n", &m, &p, &t, &used) != 3 ||
	    s[1 + used] != '$')
		return false;
	rest = s + 1 + used;
	return snprintf(out, outsz, "%.*sm=%lu,t=%lu,p=%lu%s", pre, hash, m,
	    t, p, rest) < (int)outsz;
}

enum board_err
password_verify(const char *hash, const char *pw, size_t len)
{
	char fixed[PASSWORD_HASH_MAX + 32];

	if (strlen(hash) >= PASSWORD_HASH_MAX + 16)
		return BOARD_EDENIED;
	if (reorder_params(hash, fixed, sizeof(fixed)))
		hash = fixed;
	if (crypto_pwhash_str_verify(hash, pw, len) != 0)
		return BOARD_EDENIED;
	return BOARD_OK;
}

bool
password_cost_check(const struct password_cost *cost)
{
	/*
	 * OWASP's Password Storage Cheat Sheet: Argon2id with
	 * m=46 MiB t=1, 19 MiB t=2, 12 MiB t=3, 9 MiB t=4, 7 MiB t=5
	 * (p=1) at the least. Cheaper settings suit tests only.
	 */
	static const long min_kib[] = { 47104, 19456, 12288, 9216, 7168 };
	long kib = (long)(cost->mem / 1024);
	long t = cost->ops < 5 ? (long)cost->ops : 5;

	if (t >= 1 && kib < min_kib[t - 1]) {
		log_warn("password: Argon2id m=%ld KiB, t=%ld is below"
		    " OWASP's minimum (m=19456 KiB, t=2): fine for"
		    " tests, too weak for real passwords", kib,
		    (long)cost->ops);
		return false;
	}
	return true;
}

bool
password_needs_rehash(const struct password_cost *cost, const char *hash)
{
	/* Only our own algorithm and order count as current. */
	if (strncmp(hash, crypto_pwhash_argon2id_STRPREFIX,
	    strlen(crypto_pwhash_argon2id_STRPREFIX)) != 0)
		return true;
	return crypto_pwhash_str_needs_rehash(hash, cost->ops, cost->mem) != 0;
}
