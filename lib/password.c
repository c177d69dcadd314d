/* password.c: Argon2 hashes through libsodium, bcrypt through libxcrypt. */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "log.h"
#include "password.h"

/* "$2b$10$" + 22 characters of salt + 31 of digest. */
#define BCRYPT_LEN 60
#define BCRYPT_COST_MIN 4
#define BCRYPT_COST_MAX 31

/* What a hash string says about itself. */
struct hash_info {
	enum { HASH_UNKNOWN, HASH_BCRYPT, HASH_ARGON2ID, HASH_ARGON2I,
	    HASH_ARGON2D } kind;
	char variant;		/* bcrypt: 'a', 'b' or 'y' */
	int cost;		/* bcrypt */
	unsigned long v, m, t, p;	/* Argon2; v = 0 when absent */
	bool node_order;	/* Argon2 "m=,p=,t=" */
	size_t params_at, params_len;	/* Argon2: where "m=..." is */
};

bool
password_init(void)
{
	return sodium_init() >= 0;
}

void
password_cost_from_conf(const struct conf *c, struct password_cost *out)
{
	memset(out, 0, sizeof(*out));
	out->ops = (unsigned long long)c->pwhash_ops;
	out->mem = (size_t)c->pwhash_mem_kib * 1024;
	out->scheme = c->password_hash != NULL &&
	    strcmp(c->password_hash, "bcrypt") == 0 ? PASSWORD_BCRYPT :
	    PASSWORD_ARGON2ID;
	out->bcrypt_cost = (int)c->bcrypt_cost;
}

static int
bcrypt_cost_of(const struct password_cost *cost)
{
	return cost->bcrypt_cost == 0 ? PASSWORD_BCRYPT_COST :
	    cost->bcrypt_cost;
}

/* bcrypt's alphabet (its own base64). */
static bool
bcrypt_chars(const char *s, size_t n)
{
	static const char abc[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";

	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(abc, s[i]) == NULL)
			return false;
	return true;
}

/* Reads the Argon2 parameter segment "m=M,t=T,p=P" or "m=M,p=P,t=T",
 * ending at a '$'; false for anything else. */
static bool
argon2_params(const char *s, struct hash_info *h)
{
	unsigned long a, b, c;
	char na, nb;
	int used = 0;

	if (sscanf(s, "m=%lu,%c=%lu,%c=%lu%n", &a, &na, &b, &nb, &c,
	    &used) != 5 || used == 0 || s[used] != '$')
		return false;
	/* sscanf's %lu takes a sign and spaces: only digits are ours. */
	for (int i = 0; i < used; i++)
		if (strchr("0123456789mtp=,", s[i]) == NULL)
			return false;
	h->m = a;
	h->params_len = (size_t)used;
	if (na == 't' && nb == 'p') {
		h->t = b;
		h->p = c;
	} else if (na == 'p' && nb == 't') {
		h->p = b;
		h->t = c;
		h->node_order = true;
	} else {
		return false;
	}
	return true;
}

static void
hash_parse(const char *hash, struct hash_info *h)
{
	const char *s;

	memset(h, 0, sizeof(*h));
	h->kind = HASH_UNKNOWN;
	if (hash == NULL)
		return;
	if (strncmp(hash, "$2", 2) == 0 && strlen(hash) == BCRYPT_LEN &&
	    (hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y') &&
	    hash[3] == '$' && hash[4] >= '0' && hash[4] <= '3' &&
	    hash[5] >= '0' && hash[5] <= '9' && hash[6] == '$' &&
	    bcrypt_chars(hash + 7, BCRYPT_LEN - 7)) {
		h->cost = (hash[4] - '0') * 10 + (hash[5] - '0');
		if (h->cost < BCRYPT_COST_MIN || h->cost > BCRYPT_COST_MAX)
			return;
		h->variant = hash[2];
		h->kind = HASH_BCRYPT;
		return;
	}
	if (strncmp(hash, "$argon2id$", 10) == 0) {
		h->kind = HASH_ARGON2ID;
		s = hash + 10;
	} else if (strncmp(hash, "$argon2i$", 9) == 0) {
		h->kind = HASH_ARGON2I;
		s = hash + 9;
	} else if (strncmp(hash, "$argon2d$", 9) == 0) {
		h->kind = HASH_ARGON2D;
		s = hash + 9;
	} else {
		return;
	}
	if (strncmp(s, "v=", 2) == 0) {
		char *end;

		errno = 0;
		h->v = strtoul(s + 2, &end, 10);
		if (errno != 0 || end == s + 2 || *end != '$')
			goto bad;
		s = end + 1;
	}
	h->params_at = (size_t)(s - hash);
	if (!argon2_params(s, h))
		goto bad;
	return;
bad:
	/* argon2d stays argon2d (to say why it fails); others unknown. */
	if (h->kind != HASH_ARGON2D)
		h->kind = HASH_UNKNOWN;
}

/* The hash_* functions below work on one hash_parse() of a hash; the
 * public functions parse and call them. */
static bool
hash_is_known(const struct hash_info *h)
{
	return h->kind == HASH_BCRYPT || h->kind == HASH_ARGON2ID ||
	    h->kind == HASH_ARGON2I;
}

static const char *
hash_describe(const struct hash_info *h, char *out, size_t outsz)
{
	const char *name = "argon2id";

	switch (h->kind) {
	case HASH_BCRYPT:
		snprintf(out, outsz, "bcrypt $2%c$ cost %d", h->variant,
		    h->cost);
		break;
	case HASH_ARGON2D:
		snprintf(out, outsz, "argon2d (cannot be verified: libsodium "
		    "has no Argon2d)");
		break;
	case HASH_ARGON2I:
		name = "argon2i";
		/* FALLTHROUGH */
	case HASH_ARGON2ID:
		snprintf(out, outsz, "%s m=%lu t=%lu p=%lu%s", name, h->m,
		    h->t, h->p, h->node_order ? " (node-argon2 order)" : "");
		break;
	default:
		snprintf(out, outsz, "unknown hash scheme");
		break;
	}
	return out;
}

static enum board_err
bcrypt_hash(int cost, const char *pw, size_t len, char out[PASSWORD_HASH_MAX])
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	char *phrase, *r;
	enum board_err rc = BOARD_EINTERNAL;

	if (memchr(pw, '\0', len) != NULL)
		return BOARD_EINVAL;
	/* NULL random bytes: libxcrypt draws the salt from getrandom(). */
	if (crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, salt,
	    sizeof(salt)) == NULL) {
		log_err("password: cannot make a bcrypt salt (cost %d): %s",
		    cost, strerror(errno));
		return BOARD_EINTERNAL;
	}
	phrase = xstrndup(pw, len);
	cd = xcalloc(1, sizeof(*cd));
	r = crypt_rn(phrase, salt, cd, (int)sizeof(*cd));
	if (r != NULL && r[0] != '*' && strlen(r) == BCRYPT_LEN) {
		memcpy(out, r, BCRYPT_LEN + 1);
		rc = BOARD_OK;
	} else {
		log_err("password: bcrypt failed");
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	xfree_secret(phrase);
	return rc;
}

enum board_err
password_hash(const struct password_cost *cost, const char *pw, size_t len,
    char out[PASSWORD_HASH_MAX])
{
	if (cost->scheme == PASSWORD_BCRYPT)
		return bcrypt_hash(bcrypt_cost_of(cost), pw, len, out);
	if (crypto_pwhash_str_alg(out, pw, len, cost->ops, cost->mem,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		log_err("password: cannot hash (out of memory for %zu bytes?)",
		    cost->mem);
		return BOARD_EINTERNAL;
	}
	return BOARD_OK;
}

static enum board_err
bcrypt_verify(const char *hash, const char *pw, size_t len)
{
	struct crypt_data *cd;
	char *phrase, *r;
	enum board_err rc = BOARD_EDENIED;

	/* bcrypt stops at a NUL: "ab\0cd" would pass as "ab". */
	if (memchr(pw, '\0', len) != NULL)
		return BOARD_EDENIED;
	phrase = xstrndup(pw, len);
	cd = xcalloc(1, sizeof(*cd));
	/* The whole hash is the setting: crypt reads its salt and cost and
	 * hashes again; equal output is a match. */
	r = crypt_rn(phrase, hash, cd, (int)sizeof(*cd));
	if (r != NULL && r[0] != '*' && strlen(r) == BCRYPT_LEN &&
	    sodium_memcmp(r, hash, BCRYPT_LEN) == 0)
		rc = BOARD_OK;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	xfree_secret(phrase);
	return rc;
}

/*
 * node-argon2 (0.45) writes "$argon2id$v=19$m=65536,p=4,t=3$salt$hash",
 * which libsodium 1.0.18's crypto_pwhash_str_verify refuses; reordered to
 * "m=...,t=...,p=..." the same hashes verify, p=4 included (test_node_argon2
 * in tests/test-password.c checks the rewrite).
 */
static enum board_err
hash_verify(const struct hash_info *h, const char *hash, const char *pw,
    size_t len)
{
	char fixed[PASSWORD_HASH_MAX + 32];

	if (hash == NULL || strlen(hash) >= PASSWORD_HASH_MAX + 16)
		return BOARD_EDENIED;
	if (h->kind == HASH_BCRYPT)
		return bcrypt_verify(hash, pw, len);
	if (h->kind != HASH_ARGON2ID && h->kind != HASH_ARGON2I)
		return BOARD_EDENIED;
	if (h->node_order) {
		if (snprintf(fixed, sizeof(fixed), "%.*sm=%lu,t=%lu,p=%lu%s",
		    (int)h->params_at, hash, h->m, h->t, h->p,
		    hash + h->params_at + h->params_len) >= (int)sizeof(fixed))
			return BOARD_EDENIED;
		hash = fixed;
	}
	/* libsodium picks Argon2id or Argon2i by the prefix. */
	if (crypto_pwhash_str_verify(hash, pw, len) != 0)
		return BOARD_EDENIED;
	return BOARD_OK;
}

enum board_err
password_verify(const char *hash, const char *pw, size_t len)
{
	struct hash_info h;

	hash_parse(hash, &h);
	return hash_verify(&h, hash, pw, len);
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

static bool
hash_needs_rehash(const struct password_cost *cost, const struct hash_info *h)
{
	if (cost->scheme == PASSWORD_BCRYPT)
		return h->kind != HASH_BCRYPT || h->cost < bcrypt_cost_of(cost);
	if (h->kind != HASH_ARGON2ID || h->v != 0x13)
		return true;
	/* Weaker only: a stronger hash (node-argon2's default m=64 MiB, t=3,
	 * p=4) is kept rather than made cheaper. The parameter order is
	 * mended at every verification, so it is no reason either. */
	return h->m < cost->mem / 1024 || h->t < cost->ops;
}

bool
password_needs_rehash(const struct password_cost *cost, const char *hash)
{
	struct hash_info h;

	hash_parse(hash, &h);
	return hash_needs_rehash(cost, &h);
}

static bool
hash_is_costlier(const struct password_cost *cost, const struct hash_info *h)
{
	if (h->kind == HASH_BCRYPT)
		return h->cost > bcrypt_cost_of(cost);
	if (h->kind != HASH_ARGON2ID && h->kind != HASH_ARGON2I)
		return false;
	/* libsodium computes the lanes one after another: time goes with
	 * memory times passes, whatever p says. */
	return (double)h->m * (double)h->t >
	    (double)(cost->mem / 1024) * (double)cost->ops;
}

void
password_inspect(const struct password_cost *cost, const char *hash,
    struct password_info *out)
{
	struct hash_info h;

	hash_parse(hash, &h);
	hash_describe(&h, out->what, sizeof(out->what));
	out->known = hash_is_known(&h);
	out->costlier = hash_is_costlier(cost, &h);
	out->rehash = hash_needs_rehash(cost, &h);
}

/*
 * The per-process state of password_login_verify(): a dummy hash of each
 * scheme at the configured cost, and the floor. Made on the first login
 * whatever its username, so that first login's extra time says nothing.
 */
static struct {
	bool ready;
	struct password_cost cost;
	char dummy[2][PASSWORD_HASH_MAX];
	int64_t floor_ns;
} guard;

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
sleep_until_ns(int64_t deadline)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(deadline / 1000000000);
	ts.tv_nsec = (long)(deadline % 1000000000);
	/* Absolute, so a signal's EINTR just resumes the same wait. */
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

static bool
cost_equal(const struct password_cost *a, const struct password_cost *b)
{
	return a->ops == b->ops && a->mem == b->mem &&
	    a->scheme == b->scheme && bcrypt_cost_of(a) == bcrypt_cost_of(b);
}

static void
guard_prepare(const struct password_cost *cost)
{
	unsigned char r[16];
	char pw[33], wrong[33];
	int64_t t0, t;

	if (guard.ready && cost_equal(&guard.cost, cost))
		return;
	memset(&guard, 0, sizeof(guard));
	guard.cost = *cost;
	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(pw, sizeof(pw), r, sizeof(r));
	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(wrong, sizeof(wrong), r, sizeof(r));
	for (int s = PASSWORD_ARGON2ID; s <= PASSWORD_BCRYPT; s++) {
		struct password_cost c = *cost;

		c.scheme = (enum password_scheme)s;
		if (password_hash(&c, pw, strlen(pw), guard.dummy[s]) !=
		    BOARD_OK)
			continue;
		/* Twice, keeping the slower: a floor a little high costs
		 * time; one too low would let a slow hash stand out. */
		for (int i = 0; i < 2; i++) {
			t0 = mono_ns();
			(void)password_verify(guard.dummy[s], wrong,
			    strlen(wrong));
			t = mono_ns() - t0;
			if (t > guard.floor_ns)
				guard.floor_ns = t;
		}
	}
	explicit_bzero(pw, sizeof(pw));
	guard.ready = true;
	log_debug("password: failed logins take at least %lld ms",
	    (long long)(guard.floor_ns / 1000000));
}

int64_t
password_login_floor_ns(const struct password_cost *cost)
{
	guard_prepare(cost);
	return guard.floor_ns;
}

enum board_err
password_login_verify(const struct password_cost *cost, const char *hash,
    const char *user_id, const char *pw, size_t len)
{
	int64_t start = mono_ns();
	struct hash_info h;
	enum board_err rc;
	char what[96];

	guard_prepare(cost);
	hash_parse(hash, &h);
	if (hash == NULL) {
		/* Real work of the configured scheme, as most known users'
		 * hashes are once they have logged in (upgrade on login). */
		(void)password_verify(guard.dummy[cost->scheme], pw, len);
		rc = BOARD_EDENIED;
	} else if (!hash_is_known(&h)) {
		log_warn("password: user %s: unknown hash scheme (%s): login "
		    "refused", user_id != NULL ? user_id : "?",
		    hash_describe(&h, what, sizeof(what)));
		rc = BOARD_EDENIED;
	} else {
		rc = hash_verify(&h, hash, pw, len);
	}
	if (rc != BOARD_OK)
		sleep_until_ns(start + guard.floor_ns);
	return rc;
}
