/* session.h: signed cookies and Redis sessions, as express-session does. */
#ifndef BOARD_SESSION_H
#define BOARD_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "board.h"
#include "conf.h"
#include "http.h"
#include "secret.h"

/* connect-redis's default key prefix. */
#define SESSION_PREFIX "sess:"

struct redis;

/* A loaded session; strings owned, freed by session_cleanup(). */
struct session {
	char sid[SECRET_ID_LEN + 1];
	char *user_id;
	char *username;
	int64_t expires_ms;	/* cookie.expires */
};

void session_init(struct session *s);
void session_cleanup(struct session *s);

/*
 * The cookie value for sid, signed with the first secret and URL-encoded:
 * "s%3A<sid>.<sig>" (caller frees); NULL when there is no secret.
 */
char *session_cookie_sign(const char *sid, const struct secrets *secrets);

/*
 * Checks a cookie value that http_cookie_get() already URL-decoded
 * ("s:<sid>.<sig>"): the signature must match one of the secrets (any
 * order; constant-time). BOARD_OK and sid copied out, BOARD_ENOTFOUND
 * for anything else (unsigned, tampered, foreign secret, malformed).
 */
enum board_err session_cookie_verify(const char *value,
    const struct secrets *secrets, char sid[SECRET_ID_LEN + 1]);

/*
 * The sessions: their Redis connection (one per process) and the cookie
 * settings.
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
 * GET sess:<sid> and read userId/username; touches the TTL as
 * connect-redis's touch does (EXPIRE with the full lifetime).
 * BOARD_ENOTFOUND for no (or unreadable) session, and for one past its
 * cookie.expires (then deleted), BOARD_EUNAVAIL.
 */
enum board_err session_load(struct session_store *ss, const char *sid,
    struct session *out);

/*
 * Makes a new session for the user with a fresh id and stores it with
 * SET ... EX ttl in connect-redis's JSON shape. Fills out.
 */
enum board_err session_create(struct session_store *ss, const char *user_id,
    const char *username, struct session *out);

/* DEL sess:<sid>. A missing key is BOARD_OK. */
enum board_err session_destroy(struct session_store *ss, const char *sid);

/*
 * The session the request's cookie names: the cookie verified against the
 * secrets (read again from src once when none matches, as the secret may
 * have rotated), then session_load(). BOARD_OK and out filled,
 * BOARD_ENOTFOUND (no or bad cookie, unknown session), BOARD_EUNAVAIL.
 */
enum board_err session_cookie_find(struct session_store *ss,
    struct secret_source *src, const struct req *rq, struct session *out);

/* Adds the Set-Cookie header that hands s to the browser. */
void session_cookie_set(const struct session_store *ss,
    struct secret_source *src, struct resp *rs, const struct session *s);

/* Adds the Set-Cookie header that makes the browser drop the cookie. */
void session_cookie_clear(const struct session_store *ss, struct resp *rs);

#endif
