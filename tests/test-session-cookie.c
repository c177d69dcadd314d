/* test-session-cookie.c: the signed cookie against express-session's own
 * vectors, and the session cookie of requests and responses. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "board.h"
#include "conf.h"
#include "http.h"
#include "redis-fixture.h"
#include "secret.h"
#include "session-cookie.h"
#include "session.h"
#include "tap.h"
#include "test-util.h"

static char tmpdir[] = "/tmp/test-session-cookie.XXXXXX";
static char sock[600];
static pid_t redis_pid = -1;
static cJSON *vectors;

static struct secrets
make_secrets(const char *first, const char *second)
{
	struct secrets s;

	secrets_init(&s);
	secrets_add(&s, first, strlen(first));
	if (second != NULL)
		secrets_add(&s, second, strlen(second));
	return s;
}

static void
test_cookie_vectors(void)
{
	cJSON *v;
	size_t n = 0, signed_ok = 0, verified = 0;

	cJSON_ArrayForEach(v, cJSON_GetObjectItem(vectors, "vectors")) {
		const char *hex = cJSON_GetObjectItem(v,
		    "secret_hex")->valuestring;
		const char *sid = cJSON_GetObjectItem(v, "sid")->valuestring;
		const char *want = cJSON_GetObjectItem(v,
		    "cookie")->valuestring;
		const char *raw = cJSON_GetObjectItem(v, "signed")->valuestring;
		unsigned char key[256];
		size_t klen = strlen(hex) / 2;
		struct secrets s;
		char got_sid[SECRET_ID_LEN + 1];
		char *c, *dec;

		for (size_t i = 0; i < klen; i++) {
			unsigned int b;

			sscanf(hex + 2 * i, "%2x", &b);
			key[i] = (unsigned char)b;
		}
		secrets_init(&s);
		secrets_add(&s, "some other secret", 17);
		secrets_add(&s, key, klen);
		n++;
		/* Sign with the vector's secret first. */
		{
			struct secrets one;

			secrets_init(&one);
			secrets_add(&one, key, klen);
			c = session_cookie_sign(sid, &one);
			if (c != NULL && strcmp(c, want) == 0)
				signed_ok++;
			else
				diag("sign %s: got %s want %s", sid, c, want);
			free(c);
			secrets_cleanup(&one);
		}
		dec = test_cookie_decode(want);
		if (strcmp(dec, raw) == 0 &&
		    session_cookie_verify(dec, &s, got_sid) == BOARD_OK &&
		    strcmp(got_sid, sid) == 0)
			verified++;
		else
			diag("verify %s failed", sid);
		free(dec);
		secrets_cleanup(&s);
	}
	ok(n >= 20, "%zu express cookies", n);
	is_int(signed_ok, n, "session_cookie_sign equals express-session's"
	    " cookie byte for byte");
	is_int(verified, n,
	    "express cookies verify (signed with the second secret held)");
}

static void
test_cookie(void)
{
	struct secrets s = make_secrets("new secret", "old secret");
	struct secrets old = make_secrets("old secret", NULL);
	struct secrets foreign = make_secrets("foreign", NULL);
	char sid[SECRET_ID_LEN + 1], out[SECRET_ID_LEN + 1];
	char *c, *dec, *bad;
	size_t len, flipped_ok = 0;
	struct buf b;

	secret_random_id(sid);
	c = session_cookie_sign(sid, &s);
	ok(c != NULL && strncmp(c, "s%3A", 4) == 0, "cookie starts s%%3A");
	ok(c != NULL && strchr(c, '/') == NULL && strchr(c, '+') == NULL &&
	    strchr(c, '=') == NULL && strchr(c, ':') == NULL,
	    "no raw / + = : in the cookie");
	dec = test_cookie_decode(c);
	is_int(session_cookie_verify(dec, &s, out), BOARD_OK,
	    "round trip verifies");
	is_str(out, sid, "and gives the sid back");
	is_int(session_cookie_verify(dec, &old, out), BOARD_ENOTFOUND,
	    "signed with the first secret, not the second");
	is_int(session_cookie_verify(dec, &foreign, out), BOARD_ENOTFOUND,
	    "a foreign secret is rejected");
	is_str(out, "", "sid emptied on failure");

	/* Every single-bit flip anywhere in the value is rejected. */
	len = strlen(dec);
	bad = xstrdup(dec);
	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 7; bit++) {
			bad[i] ^= (char)(1 << bit);
			if (session_cookie_verify(bad, &s, out) != BOARD_OK)
				flipped_ok++;
			else
				diag("flip %zu/%d accepted: %s", i, bit, bad);
			bad[i] ^= (char)(1 << bit);
		}
	is_int(flipped_ok, len * 7, "all %zu one-bit flips rejected", len * 7);
	free(bad);
	free(c);
	free(dec);

	c = session_cookie_sign(sid, &old);
	dec = test_cookie_decode(c);
	is_int(session_cookie_verify(dec, &s, out), BOARD_OK,
	    "a cookie signed with the old (second) secret is accepted");
	free(c);
	free(dec);

	/* Malformed values. */
	buf_init(&b);
	is_int(session_cookie_verify(sid, &s, out), BOARD_ENOTFOUND,
	    "an unsigned id is rejected");
	is_int(session_cookie_verify("", &s, out), BOARD_ENOTFOUND, "empty");
	is_int(session_cookie_verify(NULL, &s, out), BOARD_ENOTFOUND, "NULL");
	is_int(session_cookie_verify("s:", &s, out), BOARD_ENOTFOUND, "s:");
	is_int(session_cookie_verify("s:abc", &s, out), BOARD_ENOTFOUND,
	    "no signature");
	c = session_cookie_sign("", &s);
	dec = test_cookie_decode(c);
	is_int(session_cookie_verify(dec, &s, out), BOARD_ENOTFOUND,
	    "an empty sid is rejected even when signed");
	free(c);
	free(dec);
	for (int i = 0; i < 200; i++)
		buf_putc(&b, 'A');
	c = session_cookie_sign(buf_cstr(&b), &s);
	dec = test_cookie_decode(c);
	is_int(session_cookie_verify(dec, &s, out), BOARD_ENOTFOUND,
	    "a 200-character sid is rejected even when signed");
	free(c);
	free(dec);
	c = session_cookie_sign("ab\x01" "cd", &s);
	dec = test_cookie_decode(c);
	is_int(session_cookie_verify(dec, &s, out), BOARD_ENOTFOUND,
	    "a sid with a control character is rejected");
	free(c);
	free(dec);
	c = session_cookie_sign("a.b", &s);
	dec = test_cookie_decode(c);
	is_int(session_cookie_verify(dec, &s, out), BOARD_OK,
	    "split at the last '.' as cookie-signature does");
	is_str(out, "a.b", "sid with a dot");
	free(c);
	free(dec);
	buf_reset(&b);
	c = session_cookie_sign(sid, &s);
	dec = test_cookie_decode(c);
	buf_printf(&b, "%sx", dec);
	is_int(session_cookie_verify(buf_cstr(&b), &s, out), BOARD_ENOTFOUND,
	    "a longer signature is rejected");
	dec[strlen(dec) - 1] = '\0';
	is_int(session_cookie_verify(dec, &s, out), BOARD_ENOTFOUND,
	    "a truncated signature is rejected");
	free(c);
	free(dec);
	buf_cleanup(&b);
	{
		struct secrets none;

		secrets_init(&none);
		ok(session_cookie_sign(sid, &none) == NULL,
		    "no secret, no cookie");
	}
	secrets_cleanup(&s);
	secrets_cleanup(&old);
	secrets_cleanup(&foreign);
}

/* Writes the secret file: one secret a line, mode 0600. */
static void
write_secrets(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		diag("cannot write %s", path);
	if (fd >= 0)
		close(fd);
}

/* The value of the response's first Set-Cookie header (caller frees). */
static char *
set_cookie_of(const struct resp *rs)
{
	const char *p = strstr(buf_cstr(&rs->headers), "Set-Cookie: ");
	const char *eol = p != NULL ? strstr(p, "\r\n") : NULL;

	if (eol == NULL)
		return NULL;
	return xstrndup(p + 12, (size_t)(eol - p - 12));
}

/* A Cookie header holding sc's name=value among others, as browsers send. */
static char *
cookie_header(const char *sc)
{
	const char *semi = sc != NULL ? strchr(sc, ';') : NULL;
	size_t n = semi != NULL ? (size_t)(semi - sc) : 0;

	return xasprintf("other=1; %.*s; x=2", (int)n, sc != NULL ? sc : "");
}

/*
 * The cookie of requests and responses: Set-Cookie for a new session, the
 * session found again from the Cookie header, and the cookie cleared.
 */
static void
test_request(void)
{
	struct conf c;
	struct session_store *ss = NULL;
	struct secret_source *src = NULL;
	struct session s, got;
	struct req rq;
	struct resp rs;
	char path[700], *errmsg = NULL, *sc;

	conf_init(&c);
	snprintf(path, sizeof(path), "%s/secret", tmpdir);
	write_secrets(path, "first secret\n");
	free(c.secret_file);
	c.secret_file = xstrdup(path);
	free(c.redis_url);
	c.redis_url = xasprintf("unix:%s", sock);
	session_init(&s);
	session_init(&got);
	req_init(&rq);
	resp_init(&rs);
	if (secret_source_new(&c, &src, &errmsg) != BOARD_OK ||
	    session_store_new(&c, &ss, &errmsg) != BOARD_OK ||
	    session_create(ss, "user-1", "alice", &s) != BOARD_OK) {
		ok(0, "a store and a session: %s", errmsg);
		goto out;
	}

	session_cookie_set(ss, src, &rs, &s);
	sc = set_cookie_of(&rs);
	ok(sc != NULL && strncmp(sc, "board.sid=s%3A", 14) == 0 &&
	    strstr(sc, "; Path=/") != NULL &&
	    strstr(sc, "; HttpOnly") != NULL &&
	    strstr(sc, "; SameSite=Lax") != NULL &&
	    strstr(sc, "; Expires=") != NULL && strstr(sc, "Secure") == NULL,
	    "Set-Cookie: signed, Path, HttpOnly, SameSite, Expires, no Secure");

	/* Send the cookie back as a browser would. */
	rq.cookie = cookie_header(sc);
	free(sc);
	is_int(session_cookie_find(ss, src, &rq, &got), BOARD_OK,
	    "session_cookie_find finds the session by cookie");
	is_str(got.username, "alice", "  username");
	is_str(got.user_id, "user-1", "  user id");

	/* A tampered cookie is no session. */
	{
		char *v = strstr(rq.cookie, "board.sid=");
		char *dot = v != NULL ? strchr(v, '.') : NULL;

		if (dot != NULL && dot[1] != '\0')
			dot[1] = dot[1] == 'A' ? 'B' : 'A';
	}
	is_int(session_cookie_find(ss, src, &rq, &got), BOARD_ENOTFOUND,
	    "a tampered signature is no session");
	free(rq.cookie);
	rq.cookie = NULL;
	is_int(session_cookie_find(ss, src, &rq, &got), BOARD_ENOTFOUND,
	    "no Cookie header: no session");

	/* Signed with a secret added to the file since it was read. */
	write_secrets(path, "second secret\nfirst secret\n");
	{
		struct secrets next = make_secrets("second secret", NULL);
		char *v = session_cookie_sign(s.sid, &next);

		rq.cookie = xasprintf("board.sid=%s", v);
		free(v);
		secrets_cleanup(&next);
	}
	is_int(session_cookie_find(ss, src, &rq, &got), BOARD_OK,
	    "a cookie of a rotated secret: the file is read again");
	is_str(got.user_id, "user-1", "  and the session found");

	/* A sibling subdomain's cookie of our name, sent first. */
	{
		char *ours = rq.cookie;

		rq.cookie = xasprintf("board.sid=s%%3Ashadow.x; %s", ours);
		is_int(session_cookie_find(ss, src, &rq, &got), BOARD_OK,
		    "a shadowing cookie sent first does not hide ours");
		free(rq.cookie);
		rq.cookie = xasprintf("board.sid=a; board.sid=b; board.sid=c;"
		    " board.sid=d; %s", ours);
		is_int(session_cookie_find(ss, src, &rq, &got),
		    BOARD_ENOTFOUND, "  but only 4 cookies of the name count");
		free(rq.cookie);
		rq.cookie = ours;
	}

	resp_reset(&rs);
	session_cookie_clear(ss, &rs);
	sc = set_cookie_of(&rs);
	ok(sc != NULL && strncmp(sc, "board.sid=;", 11) == 0 &&
	    strstr(sc, "Expires=Thu, 01 Jan 1970 00:00:00 GMT") != NULL,
	    "clear cookie: empty value, expired");
	free(sc);
	session_destroy(ss, s.sid);
out:
	free(errmsg);
	session_cleanup(&s);
	session_cleanup(&got);
	req_reset(&rq);
	buf_cleanup(&rq.body);
	resp_cleanup(&rs);
	session_store_free(ss);
	secret_source_free(src);
	conf_cleanup(&c);
}

int
main(void)
{
	char path[1024];

	if ((vectors = test_express_vectors(path, sizeof(path))) == NULL) {
		printf("not ok 1 - read %s\n1..1\n", path);
		return 1;
	}
	if (!test_tmpdir_new(tmpdir))
		return 2;
	snprintf(sock, sizeof(sock), "%s/redis.sock", tmpdir);

	test_cookie_vectors();
	test_cookie();
	if (fixture_redis_start(sock, NULL, &redis_pid)) {
		test_request();
	} else {
		ok(0, "redis-server starts (is it installed?)");
	}
	fixture_redis_stop(&redis_pid);
	cJSON_Delete(vectors);
	test_tmpdir_remove(tmpdir);
	return tap_done();
}
