/* session-cookie.h: the signed session cookie, as express-session makes it. */
#ifndef BOARD_SESSION_COOKIE_H
#define BOARD_SESSION_COOKIE_H

#include "board.h"
#include "http.h"
#include "secret.h"
#include "session.h"

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
 * The session the request's cookie names: each cookie of the name in turn
 * (at most 4; a sibling subdomain may send one first to shadow ours)
 * verified against the secrets, then session_load(); the first that loads
 * wins. A value of the signed shape ("s:<id>.<43-char sig>") that matches
 * no secret asks src to re-read them (the secret may have rotated; src
 * rate-limits that); anything else never does. BOARD_OK and out filled,
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
