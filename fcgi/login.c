/* login.c: board-login, sign in, sign out, and who am I. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "log.h"
#include "responder.h"
#include "throttle.h"

/*
 * A hash to verify against when the username is unknown, so that an
 * unknown user takes as long as a wrong password (no user enumeration by
 * timing). Made once per process with the configured cost.
 */
static char dummy_hash[PASSWORD_HASH_MAX];

static void
too_many(struct resp *rs, long retry_after)
{
	char s[32];

	snprintf(s, sizeof(s), "%ld", retry_after > 0 ? retry_after : 1);
	resp_header(rs, "Retry-After", s);
	resp_error_code(rs, HTTP_ERR_TOO_MANY_ATTEMPTS, NULL, NULL);
}

static void
login_post(struct board *b, struct req *rq, const struct session *sess,
    struct resp *rs)
{
	struct json_obj o;
	struct user u;
	struct session s, old;
	const char *name, *pw, *addr = http_client_addr(rq, &b->trusted);
	size_t pwlen;
	long retry = 0;
	enum board_err rc;

	(void)sess;	/* a session is optional here: see the fixation check */
	json_obj_init(&o);
	user_init(&u);
	session_init(&s);
	session_init(&old);
	if (!api_parse_body(rq, rs, &o))
		goto out;
	if (!api_credentials(&o, rs, &name, &pw, &pwlen))
		goto out;
	rc = throttle_check(session_store_redis(b->sessions), &b->conf, name,
	    addr, &retry);
	if (rc == BOARD_EDENIED) {
		log_info("login: refused, too many failed logins (from %s)",
		    addr);
		too_many(rs, retry);
		goto out;
	}
	if (rc != BOARD_OK) {
		resp_error_from(rs, rc, NULL, NULL);
		goto out;
	}
	/*
	 * Made before the lookup, whoever logs in first: made only for an
	 * unknown name, it would make that process's first unknown-name
	 * login twice as slow as a wrong password, and so recognisable.
	 */
	if (dummy_hash[0] == '\0')
		password_hash(&b->cost, "not a password", 14, dummy_hash);
	rc = store_user_find_by_name(b->store, name, &u);
	if (rc != BOARD_OK && rc != BOARD_ENOTFOUND) {
		resp_error_from(rs, rc, NULL, NULL);
		goto out;
	}
	if (rc == BOARD_ENOTFOUND)
		(void)password_verify(dummy_hash, pw, pwlen);
	if (rc == BOARD_ENOTFOUND ||
	    password_verify(u.pwhash, pw, pwlen) != BOARD_OK) {
		rc = throttle_failed(session_store_redis(b->sessions), &b->conf,
		    name, addr);
		if (rc != BOARD_OK) {
			resp_error_from(rs, rc, NULL, NULL);
			goto out;
		}
		/* Not the name: it is often a password typed in the wrong box. */
		log_info("login: failed login from %s", addr);
		resp_error_code(rs, HTTP_ERR_INVALID_CREDENTIALS, NULL, NULL);
		goto out;
	}
	if (password_needs_rehash(&b->cost, u.pwhash)) {
		char hash[PASSWORD_HASH_MAX];

		if (password_hash(&b->cost, pw, pwlen, hash) == BOARD_OK &&
		    store_user_set_hash(b->store, u.id, hash) == BOARD_OK)
			log_info("login: rehashed password of user %s", u.id);
		explicit_bzero(hash, sizeof(hash));
	}
	/* No session fixation: whatever session the client had is gone. */
	rc = session_cookie_find(b->sessions, b->secrets, rq, &old);
	if (rc == BOARD_OK)
		rc = session_destroy(b->sessions, old.sid);
	if (rc == BOARD_EUNAVAIL) {
		resp_error_from(rs, rc, NULL, NULL);
		goto out;
	}
	rc = session_create(b->sessions, u.id, u.username, &s);
	if (rc != BOARD_OK) {
		resp_error_from(rs, rc, NULL, NULL);
		goto out;
	}
	(void)throttle_succeeded(session_store_redis(b->sessions), name);
	session_cookie_set(b->sessions, b->secrets, rs, &s);
	log_info("login: user %s signed in", u.id);
	api_user_resp(rs, 200, u.id, u.username);
out:
	session_cleanup(&old);
	session_cleanup(&s);
	user_cleanup(&u);
	json_obj_cleanup(&o);
}

static void
logout_post(struct board *b, struct req *rq, const struct session *sess,
    struct resp *rs)
{
	struct session s;
	enum board_err rc;

	(void)sess;	/* optional: signing out without one is fine */
	session_init(&s);
	rc = session_cookie_find(b->sessions, b->secrets, rq, &s);
	if (rc == BOARD_OK) {
		rc = session_destroy(b->sessions, s.sid);
		if (rc == BOARD_OK)
			log_info("login: user %s signed out", s.user_id);
	}
	if (rc == BOARD_EUNAVAIL) {
		/* Do not claim the session is gone while it still works. */
		resp_error_from(rs, rc, NULL, NULL);
	} else {
		session_cookie_clear(b->sessions, rs);
		resp_empty(rs, 204);
	}
	session_cleanup(&s);
}

static void
me_get(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	(void)b;
	(void)rq;
	api_user_resp(rs, 200, s->user_id, s->username);
}

static const struct route routes[] = {
	{ "POST", "/api/auth/login", login_post, 0 },
	{ "POST", "/api/auth/logout", logout_post, 0 },
	{ "GET", "/api/auth/me", me_get, ROUTE_SESSION },
	{ NULL, NULL, NULL, 0 }
};

int
main(int argc, char **argv)
{
	return responder_run("login", routes, argc, argv);
}
