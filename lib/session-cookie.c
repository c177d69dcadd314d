/* session-cookie.c: the signed session cookie, as express-session makes it. */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "http.h"
#include "secret.h"
#include "session-cookie.h"
#include "session.h"

#define SESSION_COOKIE_TRIES	4	/* cookies of our name looked at */

char *
session_cookie_sign(const char *sid, const struct secrets *secrets)
{
	char sig[SECRET_SIG_LEN + 1];
	char *raw, *enc;

	if (secrets == NULL || secrets->n == 0)
		return NULL;
	secret_sign(&secrets->v[0], sid, strlen(sid), sig);
	raw = xasprintf("s:%s.%s", sid, sig);
	enc = http_uri_encode(raw);
	free(raw);
	return enc;
}

enum board_err
session_cookie_verify(const char *value, const struct secrets *secrets,
    char sid[SECRET_ID_LEN + 1])
{
	char sig[SECRET_SIG_LEN + 1];
	const char *body, *dot;
	size_t idlen, siglen;
	bool match = false;

	sid[0] = '\0';
	if (value == NULL || secrets == NULL || strncmp(value, "s:", 2) != 0)
		return BOARD_ENOTFOUND;
	body = value + 2;
	/* cookie-signature splits at the last '.'. */
	dot = strrchr(body, '.');
	if (dot == NULL)
		return BOARD_ENOTFOUND;
	idlen = (size_t)(dot - body);
	siglen = strlen(dot + 1);
	if (!session_sid_is_sane(body, idlen) || siglen != SECRET_SIG_LEN)
		return BOARD_ENOTFOUND;
	/* Every secret is tried so the time taken does not say which. */
	for (size_t i = 0; i < secrets->n; i++) {
		secret_sign(&secrets->v[i], body, idlen, sig);
		if (secret_equal(sig, dot + 1, SECRET_SIG_LEN))
			match = true;
	}
	if (!match)
		return BOARD_ENOTFOUND;
	memcpy(sid, body, idlen);
	sid[idlen] = '\0';
	return BOARD_OK;
}

/* The base64url alphabet of ids (uid-safe) or standard base64 (HMACs). */
static bool
session_is_b64(const char *s, size_t n, bool url)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c != (url ? '-' : '+') &&
		    c != (url ? '_' : '/'))
			return false;
	}
	return true;
}

/*
 * "s:<id>.<sig>" as express-session and board make it: an id of 24 to 32
 * base64url characters (uid-safe's 24 bytes are 32) and cookie-signature's
 * 43 characters of unpadded base64.
 */
static bool
session_cookie_is_signed_shape(const char *value)
{
	const char *body, *dot;
	size_t idlen;

	if (strncmp(value, "s:", 2) != 0)
		return false;
	body = value + 2;
	dot = strchr(body, '.');
	if (dot == NULL)
		return false;
	idlen = (size_t)(dot - body);
	return idlen >= 24 && idlen <= SECRET_ID_LEN &&
	    session_is_b64(body, idlen, true) &&
	    strlen(dot + 1) == SECRET_SIG_LEN &&
	    session_is_b64(dot + 1, SECRET_SIG_LEN, false);
}

enum board_err
session_cookie_find(struct session_store *ss, struct secret_source *src,
    const struct req *rq, struct session *out)
{
	const char *name = session_store_cookie_name(ss);
	char sid[SECRET_ID_LEN + 1];
	char *raw[SESSION_COOKIE_TRIES];
	size_t n;
	enum board_err rc = BOARD_ENOTFOUND;

	assert(name != NULL);
	/*
	 * Every cookie of our name, not the first: a sibling subdomain can
	 * set one with Domain= and a longer Path, which the browser sends
	 * first, to hide ours (cookie shadowing). Bounded, as each costs an
	 * HMAC per secret and maybe a Redis round trip.
	 */
	n = http_cookie_get_all(rq->cookie, name, raw, SESSION_COOKIE_TRIES);
	for (size_t i = 0; i < n && rc == BOARD_ENOTFOUND; i++) {
		rc = session_cookie_verify(raw[i], secret_source_get(src), sid);
		/*
		 * A miss may mean the secret rotated since we last read it.
		 * Only a value of the shape we sign asks for a re-read (which
		 * secret_source_miss rate-limits): junk must not make the
		 * worker call AWS.
		 */
		if (rc != BOARD_OK && session_cookie_is_signed_shape(raw[i]) &&
		    secret_source_miss(src))
			rc = session_cookie_verify(raw[i],
			    secret_source_get(src), sid);
		if (rc == BOARD_OK)
			rc = session_load(ss, sid, out);
	}
	for (size_t i = 0; i < n; i++)
		free(raw[i]);
	return rc;
}

/* Set-Cookie with the attributes express-session gives the cookie. */
static void
session_cookie_header(const struct session_store *ss, struct resp *rs,
    const char *value, int64_t expires_ms)
{
	const char *name = session_store_cookie_name(ss);
	char date[BOARD_HTTPDATE_LEN + 1];
	char *h;

	assert(name != NULL);
	board_http_date(expires_ms, date);
	h = xasprintf("%s=%s; Path=/; Expires=%s; HttpOnly; SameSite=Lax%s",
	    name, value, date, session_store_is_secure(ss) ? "; Secure" : "");
	resp_header(rs, "Set-Cookie", h);
	free(h);
}

void
session_cookie_set(const struct session_store *ss, struct secret_source *src,
    struct resp *rs, const struct session *s)
{
	char *val = session_cookie_sign(s->sid, secret_source_get(src));

	session_cookie_header(ss, rs, val, s->expires_ms);
	free(val);
}

void
session_cookie_clear(const struct session_store *ss, struct resp *rs)
{
	/* An empty value that expired at the epoch. */
	session_cookie_header(ss, rs, "", 0);
}
