/* session.h: the Redis sessions, as connect-redis stores them. */
#ifndef BOARD_SESSION_H
#define BOARD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "conf.h"
#include "secret.h"

/* connect-redis's default key prefix. */
#define SESSION_PREFIX "sess:"

/*
 * A user's "sessions valid from" time: board:validfrom:<user id> holds ms
 * since the epoch; a session issued before it has ended (see
 * session_load). It lives for the session lifetime after it is set, by
 * then every session issued before it has passed its cookie.expires.
 */
#define SESSION_VALIDFROM_PREFIX "board:validfrom:"

/*
 * The extra member of the session document where board keeps a session's
 * issue time (ms since the epoch). express-session keeps members it does
 * not know when it saves a session again, and ignores them otherwise.
 */
#define SESSION_ISSUED_KEY "boardIssuedAt"

struct redis;

/* A loaded session; strings owned, freed by session_cleanup(). */
struct session {
	char sid[SECRET_ID_LEN + 1];
	char *user_id;
	char *username;
	int64_t expires_ms;	/* cookie.expires */
	/*
	 * When it was issued: SESSION_ISSUED_KEY, or, in a session only
	 * express-session wrote, cookie.expires - cookie.originalMaxAge; 0
	 * when the document says neither.
	 */
	int64_t issued_ms;
};

void session_init(struct session *s);
void session_cleanup(struct session *s);

/*
 * Whether the len bytes at sid are a session id worth looking up: 1 to
 * SECRET_ID_LEN printable ASCII characters, no space.
 */
bool session_sid_is_sane(const char *sid, size_t len);

/*
 * The sessions: their Redis connection (one per process) and the cookie
 * settings (session-cookie.h uses them).
 */
struct session_store;

/*
 * Reads the Redis URL (REDIS_URL, see redis_new()), the session lifetime
 * and the cookie settings from c. Does not connect yet. BOARD_EINVAL with
 * *errmsg (caller frees; names REDIS_URL, never shows the password).
 */
enum board_err session_store_new(const struct conf *c,
    struct session_store **out, char **errmsg);
void session_store_free(struct session_store *ss);

/* PING. BOARD_OK or BOARD_EUNAVAIL. */
enum board_err session_store_ping(struct session_store *ss);

/*
 * The store's Redis connection, for the other users of that Redis (login
 * throttling); borrowed until session_store_free().
 */
struct redis *session_store_redis(struct session_store *ss);

/* Session lifetime in seconds (BOARD_SESSION_TTL). */
long session_store_ttl(const struct session_store *ss);

/*
 * The cookie's name (BOARD_COOKIE_NAME), NULL when the configuration had
 * none; borrowed until session_store_free().
 */
const char *session_store_cookie_name(const struct session_store *ss);

/* Whether the cookie is Secure (BOARD_COOKIE_SECURE). */
bool session_store_is_secure(const struct session_store *ss);

/*
 * GET sess:<sid> and read userId/username, touch the TTL as
 * connect-redis's touch does (EXPIRE with the full lifetime) and read the
 * user's "sessions valid from" time: one round trip for a session this
 * store has loaded before (it remembers the user), else two.
 * BOARD_ENOTFOUND for no (or unreadable) session, and for one past its
 * cookie.expires or issued before the user's valid-from time (then
 * deleted); BOARD_EUNAVAIL when either round trip fails, so that a Redis
 * outage never hands out a session that may have ended.
 */
enum board_err session_load(struct session_store *ss, const char *sid,
    struct session *out);

/*
 * Makes a new session for the user with a fresh id and stores it with
 * SET ... EX ttl in connect-redis's JSON shape, plus its issue time
 * (SESSION_ISSUED_KEY). Fills out.
 */
enum board_err session_create(struct session_store *ss, const char *user_id,
    const char *username, struct session *out);

/* DEL sess:<sid>. A missing key is BOARD_OK. */
enum board_err session_destroy(struct session_store *ss, const char *sid);

/*
 * Ends every other session of s's user and keeps s (a password change):
 * sets the user's valid-from time to now and, in the same round trip,
 * rewrites s's stored document with that issue time, so s's cookie goes
 * on working. Sessions issued before, board's and those the Node services
 * minted alike, are refused by session_load from then on. BOARD_OK (also
 * when s was deleted meanwhile: the others end all the same),
 * BOARD_EUNAVAIL.
 */
enum board_err session_end_others(struct session_store *ss,
    const struct session *s);

/*
 * Ends every session of s's user, s included (sign out everywhere): sets
 * the user's valid-from time to now and deletes s. BOARD_OK or
 * BOARD_EUNAVAIL.
 */
enum board_err session_end_all(struct session_store *ss,
    const struct session *s);

/*
 * Ends every session of user_id (a user deleted by board-admin): sets the
 * user's valid-from time to now, as session_end_all does, without a
 * session in hand. BOARD_OK or BOARD_EUNAVAIL.
 */
enum board_err session_end_user(struct session_store *ss,
    const char *user_id);

#endif
