/* password.h: Argon2id password hashes (libsodium crypto_pwhash_str). */
#ifndef BOARD_PASSWORD_H
#define BOARD_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "board.h"

/* Room for a hash string, NUL included (crypto_pwhash_STRBYTES). */
#define PASSWORD_HASH_MAX 128

struct password_cost {
	unsigned long long ops;	/* Argon2 t */
	size_t mem;		/* bytes */
};

/* Hashes pw into out (a PHC string). BOARD_EINTERNAL when it cannot. */
enum board_err password_hash(const struct password_cost *cost,
    const char *pw, size_t len, char out[PASSWORD_HASH_MAX]);

/*
 * Checks pw against hash: BOARD_OK on a match, BOARD_EDENIED otherwise
 * (also for a hash we cannot read). Accepts node-argon2's "m=,p=,t="
 * parameter order as well as libsodium's "m=,t=,p=".
 */
enum board_err password_verify(const char *hash, const char *pw, size_t len);

/* true when hash was made with other parameters than cost (or another
 * algorithm), so login should store a fresh one. */
bool password_needs_rehash(const struct password_cost *cost,
    const char *hash);

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
