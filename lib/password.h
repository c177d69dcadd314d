/* password.h: password hashes: Argon2id (libsodium) and bcrypt (libxcrypt). */
#ifndef BOARD_PASSWORD_H
#define BOARD_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "conf.h"

/* Room for a hash string, NUL included (crypto_pwhash_STRBYTES; a bcrypt
 * hash is 60 characters). */
#define PASSWORD_HASH_MAX 128

/* bcrypt's cost when none is set: what bcrypt and bcryptjs use. */
#define PASSWORD_BCRYPT_COST 10

/* The scheme of new hashes (BOARD_PASSWORD_HASH). */
enum password_scheme {
	PASSWORD_ARGON2ID = 0,
	PASSWORD_BCRYPT,
};

struct password_cost {
	unsigned long long ops;	/* Argon2 t */
	size_t mem;		/* bytes */
	enum password_scheme scheme; /* of new hashes */
	int bcrypt_cost;	/* log2 rounds 4..31; 0: PASSWORD_BCRYPT_COST */
};

/* Fills cost from the settings (pwhash_*, password_hash, bcrypt_cost). */
void password_cost_from_conf(const struct conf *c, struct password_cost *out);

/*
 * Hashes pw into out in cost->scheme: an Argon2id PHC string, or a "$2b$"
 * bcrypt string. bcrypt reads at most 72 bytes, as every bcrypt does, and
 * no NUL: a password holding one is BOARD_EINVAL for bcrypt.
 * BOARD_EINTERNAL when it cannot hash.
 */
enum board_err password_hash(const struct password_cost *cost,
    const char *pw, size_t len, char out[PASSWORD_HASH_MAX]);

/*
 * Checks pw against hash: BOARD_OK on a match, BOARD_EDENIED otherwise
 * (also for a hash we cannot read). Reads bcrypt "$2a$", "$2b$", "$2y$"
 * at any cost and Argon2 "$argon2id$"/"$argon2i$" at any setting, in
 * libsodium's "m=,t=,p=" or node-argon2's "m=,p=,t=" order. Argon2d
 * cannot be verified: libsodium has no Argon2d.
 */
enum board_err password_verify(const char *hash, const char *pw, size_t len);

/*
 * true when a successful login should store a fresh hash (DATA.md): hash
 * is not of cost->scheme, or weaker than the configured cost (Argon2: less
 * memory or fewer passes; bcrypt: a lower cost), or not in libsodium's
 * parameter order. A stronger hash of the same scheme is kept.
 */
bool password_needs_rehash(const struct password_cost *cost,
    const char *hash);

/* What one reading of a hash tells an operator (board-admin). */
struct password_info {
	/* Never its salt or digest: "bcrypt $2b$ cost 10", "argon2id
	 * m=19456 t=2 p=1", "argon2d (cannot be verified ...)", "unknown
	 * hash scheme". */
	char what[96];
	bool known;		/* password_verify() can read its scheme */
	/* Verifying it costs more than the configured cost of its scheme
	 * (bcrypt: a higher cost; Argon2: more memory times passes): such a
	 * user's failed logins take longer than the floor below, and so
	 * tell that the user exists. */
	bool costlier;
	bool rehash;		/* password_needs_rehash() */
};

/* Fills out from one parse of hash, for cost. */
void password_inspect(const struct password_cost *cost, const char *hash,
    struct password_info *out);

/*
 * The password check of a login, timed so that it does not tell which
 * users exist. hash NULL: the username is unknown, and a dummy hash of the
 * configured scheme is verified instead. A failed check (unknown user,
 * wrong password, unreadable hash) then waits until it has taken
 * password_login_floor_ns(): the time of verifying a hash at the
 * configured cost of the slower scheme, measured once per process. So an
 * unknown user, a known one with a hash of either scheme at the
 * configured costs, or with a cheaper hash, all take that long; only a
 * hash stronger than the configured costs takes longer (board-admin check
 * counts them). A hash of a scheme we cannot verify logs one line naming
 * user_id and "unknown hash scheme". BOARD_OK or BOARD_EDENIED.
 */
enum board_err password_login_verify(const struct password_cost *cost,
    const char *hash, const char *user_id, const char *pw, size_t len);

/* The floor of a failed login's check for cost, in nanoseconds (measured
 * on first use, as password_login_verify() does). */
int64_t password_login_floor_ns(const struct password_cost *cost);

/*
 * true when cost meets OWASP's minimum for Argon2id; otherwise logs a
 * warning (such a cost suits tests only) and returns false. Call once at
 * start-up.
 */
bool password_cost_check(const struct password_cost *cost);

/*
 * Initializes libsodium for every module that uses it (passwords, secret
 * HMACs and random ids, store ids); false when it cannot. Call once at
 * start, before any of them: board_open does, and so must a test.
 */
bool password_init(void);

#endif
