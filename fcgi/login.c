/* login.c: board-login, sign in, sign out, and who am I. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "log.h"
#include "responder.h"

static void
too_many(struct resp *rs, long retry_after)
{
	char s[32];

	snprintf(s, sizeof(s), "%ld", retry_after > 0 ? retry_after : 1);
	resp_header(rs, "Retry-After", s);
	resp_error(rs, 429, "too_many_attempts",
	    "Too many failed logins; wait before trying again.", NULL);
}

static void
login_post(struct board *b, struct req *rq, struct resp *rs)
{
	struct json_obj o;
	struct user u;
	struct session s, old;
	const char *name, *pw, *addr = board_client_addr(b, rq);
	size_t pwlen;
	long retry = 0;
	enum board_err rc;

	user_init(&u);
	session_init(&s);
	session_init(&old);
	if (!api_parse_body(rq, rs, &o))
		goto out;
	if (!api_credentials(&o, rs, &name, &pw, &pwlen))
		goto out;
	rc = session_login_check(b->sessions, name, addr, &retry);
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
	rc = store_user_find_by_name(b->store, name, &u);
	if (rc != BOARD_OK && rc != BOARD_ENOTFOUND) {
		resp_error_from(rs, rc, NULL, NULL);
		goto out;
	}
	/* An unknown name and a wrong password take the same time, whatever
	 * the scheme of the user's hash (password.h). */
	if (password_login_verify(&b->cost, rc == BOARD_OK ? u.pwhash : NULL,
	    u.id, pw, pwlen) != BOARD_OK) {
		rc = session_login_failed(b->sessions, name, addr);
		if (rc != BOARD_OK) {
			resp_error_from(rs, rc, NULL, NULL);
			goto out;
		}
		/* Not the name: it is often a password typed in the wrong box. */
		log_info("login: failed login from %s", addr);
		resp_error(rs, 401, "invalid_credentials",
		    "Unknown username or wrong password.", NULL);
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
	rc = board_session(b, rq, &old);
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
	(void)session_login_succeeded(b->sessions, name);
	board_set_cookie(b, rs, &s);
	log_info("login: user %s signed in", u.id);
	api_user_resp(rs, 200, u.id, u.username);
out:
	session_cleanup(&old);
	session_cleanup(&s);
	user_cleanup(&u);
	json_obj_cleanup(&o);
}

static void
logout_post(struct board *b, struct req *rq, struct resp *rs)
{
	struct session s;
	enum board_err rc;

	session_init(&s);
	rc = board_session(b, rq, &s);
	if (rc == BOARD_OK) {
		rc = session_destroy(b->sessions, s.sid);
		if (rc == BOARD_OK)
			log_info("login: user %s signed out", s.user_id);
	}
	if (rc == BOARD_EUNAVAIL) {
		/* Do not claim the session is gone while it still works. */
		resp_error_from(rs, rc, NULL, NULL);
	} else {
		board_clear_cookie(b, rs);
		resp_empty(rs, 204);
	}
	session_cleanup(&s);
}

static void
me_get(struct board *b, struct req *rq, struct resp *rs)
{
	struct session s;

	session_init(&s);
	if (board_require_session(b, rq, rs, &s))
		api_user_resp(rs, 200, s.user_id, s.username);
	session_cleanup(&s);
}

static const struct route routes[] = {
	{ "POST", "/api/auth/login", login_post },
	{ "POST", "/api/auth/logout", logout_post },
	{ "GET", "/api/auth/me", me_get },
	{ NULL, NULL, NULL }
};

int
main(int argc, char **argv)
{
	return responder_run("login", routes, argc, argv);
}
