/* session.h: signed cookies and Redis sessions, as express-session does. */
#ifndef BOARD_SESSION_H
#define BOARD_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "board.h"
#include "conf.h"
#include "secret.h"

/* connect-redis's default key prefix. */
#define SESSION_PREFIX "sess:"

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
 * "s%3A<sid>.<sig>" (caller frees).
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

/* The connection to Redis: one per process, reconnects after errors. */
struct session_store;

/*
 * Parses the URL (REDIS_URL: redis://[:password@]host[:port][/db] or
 * unix:/path[?db=N]) and sets the session lifetime. Does not connect yet.
 * BOARD_EINVAL with *errmsg (naming REDIS_URL, never the password).
 */
enum board_err session_store_new(const struct conf *c,
    struct session_store **out, char **errmsg);
void session_store_free(struct session_store *ss);

/* PING. BOARD_OK or BOARD_EUNAVAIL. */
enum board_err session_store_ping(struct session_store *ss);

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

/* Session lifetime in seconds (BOARD_SESSION_TTL). */
long session_store_ttl(const struct session_store *ss);

/*
 * Login throttling (API.md 429). Failed logins are counted per username
 * and per client address (an IPv6 address by its /64: cidr_client_key())
 * in a window; past the limit *retry_after is set to the seconds left and
 * BOARD_EDENIED returned.
 */
enum board_err session_login_check(struct session_store *ss,
    const char *username, const char *addr, long *retry_after);
/* Counts one failure for both keys. */
enum board_err session_login_failed(struct session_store *ss,
    const char *username, const char *addr);
/* Clears the username's count after a successful login. */
enum board_err session_login_succeeded(struct session_store *ss,
    const char *username);

#endif
