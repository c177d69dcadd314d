/* login.c: board-login, sign in, sign out, who am I, change password, and
 * sign out everywhere. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "log.h"
#include "responder.h"
#include "session-cookie.h"
#include "throttle.h"

/*
 * Counts an attempt at name's password from addr before it is checked,
 * to be taken back when it is right (throttle.h): when counting fails
 * (EVAL refused, Redis down) no password is checked at all, so a guess
 * never gets an answer. false with rs set when no password may be
 * checked: 429 with Retry-After at the limit, else 503. user_id names
 * the signed-in user in the log line, or is NULL.
 */
static bool
attempt_counted(struct board *b, struct resp *rs, const char *name,
    const char *addr, const char *user_id)
{
	long retry = 0;
	enum board_err rc;
	char s[32];

	rc = throttle_attempt(session_store_redis(b->sessions), &b->conf, name,
	    addr, &retry);
	if (rc == BOARD_OK)
		return true;
	if (rc != BOARD_EDENIED) {
		resp_error_from(rs, rc, NULL, NULL);
		return false;
	}
	if (user_id != NULL)
		log_info("login: password change refused, too many failed "
		    "logins (user %s, from %s)", user_id, addr);
	else
		log_info("login: refused, too many failed logins (from %s)",
		    addr);
	snprintf(s, sizeof(s), "%ld", retry > 0 ? retry : 1);
	resp_header(rs, "Retry-After", s);
	resp_error_code(rs, HTTP_ERR_TOO_MANY_ATTEMPTS, NULL, NULL);
	return false;
}

static void
login_post(struct board *b, struct req *rq, const struct session *sess,
    struct resp *rs)
{
	struct json_obj o;
	struct user u;
	struct session s, old;
	const char *name, *pw, *addr = http_client_addr(rq, b->trusted);
	size_t pwlen;
	enum board_err rc;

	(void)sess;	/* a session is optional here: see the fixation check */
	json_obj_init(&o);
	user_init(&u);
	session_init(&s);
	session_init(&old);
	if (!api_parse_body(rq, rs, &o))
		goto out;
	if (!api_credentials(&o, rs, &name, &pw, &pwlen) ||
	    !attempt_counted(b, rs, name, addr, NULL))
		goto out;
	rc = store_user_find_by_name(b->store, name, &u);
	if (rc != BOARD_OK && rc != BOARD_ENOTFOUND) {
		resp_error_from(rs, rc, NULL, NULL);
		goto out;
	}
	/* An unknown name and a wrong password take the same time, whatever
	 * the scheme of the user's hash (password.h). */
	if (password_login_verify(&b->cost, rc == BOARD_OK ? u.pwhash : NULL,
	    u.id, pw, pwlen) != BOARD_OK) {
		/*
		 * Counted already, by throttle_attempt. Not the name in the
		 * log: it is often a password typed in the wrong box.
		 */
		log_info("login: failed login from %s", addr);
		resp_error_code(rs, HTTP_ERR_INVALID_CREDENTIALS, NULL, NULL);
		goto out;
	}
	(void)throttle_succeeded(session_store_redis(b->sessions), name, addr);
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

/*
 * The current password is checked as login checks one: the attempt counted
 * by name and address before the check (throttle_attempt), taken back when
 * it was right. Then the other sessions end before the new hash is stored:
 * should the store fail after that, the old password still works and a
 * retry succeeds; the other order could leave a new password beside an
 * attacker's live sessions, behind a 503 that says nothing changed.
 */
static void
password_post(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	struct json_obj o;
	struct user u;
	const char *cur, *next, *addr = http_client_addr(rq, b->trusted);
	size_t curlen, nextlen;
	char hash[PASSWORD_HASH_MAX];
	enum board_err rc;

	json_obj_init(&o);
	user_init(&u);
	hash[0] = '\0';
	if (!api_parse_body(rq, rs, &o))
		goto out;
	if (!api_password(&o, rs, "currentPassword", &cur, &curlen) ||
	    !api_password(&o, rs, "newPassword", &next, &nextlen) ||
	    !attempt_counted(b, rs, s->username, addr, s->user_id))
		goto out;
	/* The session names the user; the store holds the hash. */
	rc = store_user_find_by_name(b->store, s->username, &u);
	if (rc == BOARD_OK && strcmp(u.id, s->user_id) != 0)
		rc = BOARD_ENOTFOUND;
	if (rc == BOARD_ENOTFOUND) {
		resp_error_code(rs, HTTP_ERR_UNAUTHORIZED,
		    "Your account no longer exists.", NULL);
		goto out;
	}
	if (rc != BOARD_OK) {
		resp_error_from(rs, rc, NULL, NULL);
		goto out;
	}
	if (password_verify(u.pwhash, cur, curlen) != BOARD_OK) {
		/* Counted already, by throttle_attempt. */
		log_info("login: wrong current password for user %s from %s",
		    u.id, addr);
		resp_error_code(rs, HTTP_ERR_INVALID_CREDENTIALS,
		    "The current password is wrong.", NULL);
		goto out;
	}
	(void)throttle_succeeded(session_store_redis(b->sessions), s->username,
	    addr);
	if ((rc = password_hash(&b->cost, next, nextlen, hash)) != BOARD_OK ||
	    (rc = session_end_others(b->sessions, s)) != BOARD_OK) {
		resp_error_from(rs, rc, NULL, NULL);
		goto out;
	}
	rc = store_user_set_hash(b->store, u.id, hash);
	if (rc != BOARD_OK) {
		resp_error_from(rs, rc == BOARD_ENOTFOUND ? BOARD_EUNAVAIL : rc,
		    NULL, NULL);
		goto out;
	}
	log_info("login: user %s changed the password, other sessions ended",
	    u.id);
	resp_empty(rs, 204);
out:
	explicit_bzero(hash, sizeof(hash));
	user_cleanup(&u);
	json_obj_cleanup(&o);
}

/* Every session of the user ends, this one included. */
static void
logout_all_post(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	enum board_err rc;

	(void)rq;
	rc = session_end_all(b->sessions, s);
	if (rc != BOARD_OK) {
		/* Do not claim the sessions are gone while they still work. */
		resp_error_from(rs, rc, NULL, NULL);
		return;
	}
	log_info("login: user %s signed out everywhere", s->user_id);
	session_cookie_clear(b->sessions, rs);
	resp_empty(rs, 204);
}

static const struct route routes[] = {
	{ "POST", "/api/auth/login", login_post, 0 },
	{ "POST", "/api/auth/logout", logout_post, 0 },
	{ "GET", "/api/auth/me", me_get, ROUTE_SESSION },
	{ "POST", "/api/auth/password", password_post, ROUTE_SESSION },
	{ "POST", "/api/auth/logout-all", logout_all_post, ROUTE_SESSION },
	{ NULL, NULL, NULL, 0 },
};

int
main(int argc, char **argv)
{
	return responder_run("login", routes, argc, argv);
}
