/* test-session.c: the Redis sessions and their documents, against
 * express-session's vectors (the cookie: test-session-cookie.c). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>

#include "board.h"
#include "conf.h"
#include "http.h"
#include "redis-fixture.h"
#include "secret.h"
#include "session.h"
#include "tap.h"
#include "test-util.h"

static char tmpdir[] = "/tmp/test-session.XXXXXX";
static char sock[600];
static pid_t redis_pid = -1;
static cJSON *vectors;

static void
test_defaults(void)
{
	struct conf c;
	struct session_store *ss = NULL;
	char *errmsg = NULL;

	/* The settings' defaults, as conf.c's table has them. */
	conf_init(&c);
	is_int(session_store_new(&c, &ss, &errmsg), BOARD_OK,
	    "no REDIS_URL: the default");
	is_int(session_store_ttl(ss), 86400, "default TTL one day");
	session_store_free(ss);
	free(c.redis_url);
	c.redis_url = xstrdup("redis://:topsecretpw@host:bad");
	is_int(session_store_new(&c, &ss, &errmsg), BOARD_EINVAL,
	    "a bad REDIS_URL stops the store");
	ok(ss == NULL && errmsg != NULL && strstr(errmsg, "REDIS_URL") !=
	    NULL && strstr(errmsg, "topsecretpw") == NULL,
	    "  naming REDIS_URL, not the password: %s", errmsg);
	free(errmsg);
	conf_cleanup(&c);
}

/* A command to the test Redis on its own connection (caller frees). */
static redisReply *
raw(const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = fixture_redis_vcmd(sock, fmt, ap);
	va_end(ap);
	return r;
}

static long long
raw_int(const char *fmt, const char *arg)
{
	return fixture_redis_int(sock, fmt, arg);
}

static bool
redis_start(void)
{
	return fixture_redis_start(sock, NULL, &redis_pid);
}

static void
redis_stop(void)
{
	fixture_redis_stop(&redis_pid);
}

/* Replaces the "expires" value of want by got's, for comparing bytes. */
static char *
with_expires_of(const char *want, const char *got)
{
	const char *w = strstr(want, "\"expires\":\""), *g;
	struct buf b;

	g = got != NULL ? strstr(got, "\"expires\":\"") : NULL;
	if (w == NULL || g == NULL)
		return xstrdup("(no expires)");
	buf_init(&b);
	buf_append(&b, want, (size_t)(w - want) + 11);
	buf_append(&b, g + 11, BOARD_ISO_LEN);
	buf_puts(&b, w + 11 + BOARD_ISO_LEN);
	return buf_steal(&b);
}

/* want with its "expires" set to ms (caller frees). */
static char *
with_expires_at(const char *want, int64_t ms)
{
	char got[BOARD_ISO_LEN + 16];

	memcpy(got, "\"expires\":\"", 11);
	board_iso_time(ms, got + 11);
	return with_expires_of(want, got);
}

static void
test_store(void)
{
	struct conf c;
	struct buf url;
	struct session_store *ss = NULL;
	struct session s, t;
	char *errmsg = NULL, *want;
	const char *vuser, *vname;
	redisReply *r;
	long long ttl;
	int64_t before;

	memset(&c, 0, sizeof(c));
	buf_init(&url);
	buf_printf(&url, "unix://%s", sock);
	c.redis_url = url.data;
	c.session_ttl = 3600;
	is_int(session_store_new(&c, &ss, &errmsg), BOARD_OK, "store made");
	is_int(session_store_ping(ss), BOARD_OK, "PING");
	is_int(session_store_ttl(ss), 3600, "TTL from conf");

	session_init(&s);
	session_init(&t);
	vuser = cJSON_GetObjectItem(vectors, "session_user_id")->valuestring;
	vname = cJSON_GetObjectItem(vectors, "session_username")->valuestring;
	before = board_now_ms();
	is_int(session_create(ss, vuser, vname, &s), BOARD_OK, "create");
	is_int(strlen(s.sid), SECRET_ID_LEN, "sid of 32 characters");
	ok(s.expires_ms >= before + 3600 * 1000 &&
	    s.expires_ms <= board_now_ms() + 3600 * 1000, "expires in 1 h");
	ttl = raw_int("TTL sess:%s", s.sid);
	ok(ttl >= 3599 && ttl <= 3600, "Redis TTL %lld = session_ttl", ttl);

	r = raw("GET sess:%s", s.sid);
	ok(r != NULL && r->type == REDIS_REPLY_STRING, "stored as a string");
	/* Same bytes as express-session + connect-redis, bar the time. */
	want = with_expires_of(cJSON_GetObjectItem(vectors,
	    "session_json")->valuestring, r != NULL ? r->str : NULL);
	{
		/* express wrote originalMaxAge 86400000; ours is 3600000. */
		char *p = strstr(want, "86400000");

		if (p != NULL) {
			memcpy(p, "3600000", 7);
			memmove(p + 7, p + 8, strlen(p + 8) + 1);
		}
	}
	/*
	 * board's one addition comes last: the issue time, a member that
	 * express-session keeps when it saves the session and otherwise
	 * ignores.
	 */
	{
		char *got = xstrdup(r != NULL ? r->str : "");
		char *add = strstr(got, ",\"" SESSION_ISSUED_KEY "\":");
		char num[32];

		snprintf(num, sizeof(num), "%lld}", (long long)s.issued_ms);
		ok(add != NULL && strcmp(add + strlen(SESSION_ISSUED_KEY) + 4,
		    num) == 0, "then \"%s\": the issue time, %s",
		    SESSION_ISSUED_KEY, num);
		if (add != NULL)
			strcpy(add, "}");
		is_str(got, want, "the rest exactly as connect-redis stores "
		    "it");
		free(got);
	}
	ok(s.issued_ms >= before && s.issued_ms <= board_now_ms() &&
	    s.expires_ms - s.issued_ms == 3600 * 1000,
	    "issued now, expires a lifetime later");
	free(want);
	freeReplyObject(r);

	freeReplyObject(raw("EXPIRE sess:%s 100", s.sid));
	is_int(session_load(ss, s.sid, &t), BOARD_OK, "load");
	is_str(t.user_id, vuser, "userId");
	is_str(t.username, vname, "username (escapes round trip)");
	is_str(t.sid, s.sid, "sid");
	ok(t.expires_ms / 1000 == s.expires_ms / 1000, "cookie.expires read");
	ttl = raw_int("TTL sess:%s", s.sid);
	ok(ttl >= 3599, "load touches: TTL back to the full %lld", ttl);

	is_int(session_destroy(ss, s.sid), BOARD_OK, "destroy");
	is_int(raw_int("EXISTS sess:%s", s.sid), 0, "key gone");
	is_int(session_load(ss, s.sid, &t), BOARD_ENOTFOUND,
	    "destroyed session is not found");
	ok(t.user_id == NULL, "out cleared on not found");
	is_int(session_destroy(ss, s.sid), BOARD_OK, "destroy twice is fine");

	/*
	 * A session written by express + connect-redis, its expires moved
	 * into the future (the vector's own date passes a day after it was
	 * made, and a past one is refused below).
	 */
	want = with_expires_at(cJSON_GetObjectItem(vectors,
	    "session_json")->valuestring, board_now_ms() + 3600 * 1000);
	freeReplyObject(raw("SET sess:%s %s EX 60",
	    "expressWrittenSid0123456789abcde", want));
	is_int(session_load(ss, "expressWrittenSid0123456789abcde", &t),
	    BOARD_OK, "express's session loads");
	is_str(t.user_id, vuser, "its userId");
	ok(t.expires_ms > 0, "its expires");
	ok(t.issued_ms == t.expires_ms - 86400000,
	    "its issue time: cookie.expires - cookie.originalMaxAge");
	free(want);

	/*
	 * Absolute timeout: the TTL slides on each load, cookie.expires does
	 * not; a session past it is refused (and deleted) even though Redis
	 * still holds it.
	 */
	want = with_expires_at(cJSON_GetObjectItem(vectors,
	    "session_json")->valuestring, board_now_ms() - 1000);
	freeReplyObject(raw("SET sess:%s %s EX 3600",
	    "expiredSid0123456789abcdefghijkl", want));
	is_int(session_load(ss, "expiredSid0123456789abcdefghijkl", &t),
	    BOARD_ENOTFOUND, "a session past its cookie.expires is refused");
	ok(t.user_id == NULL, "and nothing of it handed out");
	is_int(raw_int("EXISTS sess:%s", "expiredSid0123456789abcdefghijkl"),
	    0, "and it is deleted from Redis");
	free(want);
	freeReplyObject(raw("SET sess:noexp {\"userId\":\"u9\"}"));
	is_int(session_load(ss, "noexp", &t), BOARD_OK,
	    "a session stored without expires lives by its TTL alone");

	freeReplyObject(raw("SET sess:bad {not json"));
	is_int(session_load(ss, "bad", &t), BOARD_ENOTFOUND,
	    "unreadable JSON is not found");
	freeReplyObject(raw("SET sess:nouser {\"cookie\":{}}"));
	is_int(session_load(ss, "nouser", &t), BOARD_ENOTFOUND,
	    "missing userId is not found");
	freeReplyObject(raw("SET sess:arr [1,2]"));
	is_int(session_load(ss, "arr", &t), BOARD_ENOTFOUND,
	    "an array is not found");
	freeReplyObject(raw("SET sess:num {\"userId\":42}"));
	is_int(session_load(ss, "num", &t), BOARD_OK, "numeric userId");
	is_str(t.user_id, "42", "as a string");
	is_str(t.username, "", "missing username is empty");
	freeReplyObject(raw("LPUSH sess:list x"));
	ok(session_load(ss, "list", &t) != BOARD_OK,
	    "a key of the wrong type is not a session");
	is_int(session_store_ping(ss), BOARD_OK, "and the store recovers");
	is_int(session_load(ss, "a b", &t), BOARD_ENOTFOUND, "insane sid");

	/* Redis restarts: EUNAVAIL while down, then reconnects by itself. */
	redis_stop();
	is_int(session_load(ss, "x", &t), BOARD_EUNAVAIL,
	    "Redis down: unavailable");
	is_int(session_store_ping(ss), BOARD_EUNAVAIL, "PING unavailable");
	is_int(session_create(ss, "u", "n", &t), BOARD_EUNAVAIL,
	    "create unavailable");
	ok(redis_start(), "Redis restarted");
	is_int(session_store_ping(ss), BOARD_OK, "reconnected");
	is_int(session_create(ss, "u", "n", &s), BOARD_OK,
	    "create after restart");
	is_int(session_load(ss, s.sid, &t), BOARD_OK, "load after restart");

	/* The same Redis restarted underneath an open connection. */
	redis_stop();
	ok(redis_start(), "Redis restarted again");
	is_int(session_load(ss, s.sid, &t), BOARD_ENOTFOUND,
	    "a stale connection is replaced at once (data gone: not found)");
	redis_stop();
	ok(redis_start(), "and again");
	is_int(session_create(ss, "u", "n", &s), BOARD_OK,
	    "create on a stale connection succeeds on a new one");

	session_cleanup(&s);
	session_cleanup(&t);
	session_store_free(ss);
	buf_cleanup(&url);
}

/*
 * An express-session document for user_id, issued at issued_ms with a
 * lifetime of a day, as the Node services store one (caller frees).
 */
static char *
express_doc(const char *user_id, int64_t issued_ms)
{
	char *json, *want = with_expires_at(cJSON_GetObjectItem(vectors,
	    "session_json")->valuestring, issued_ms + 86400000);
	cJSON *doc = cJSON_Parse(want);

	cJSON_ReplaceItemInObjectCaseSensitive(doc, "userId",
	    cJSON_CreateString(user_id));
	json = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	free(want);
	return json;
}

/* Sleeps ms milliseconds, so that the clock moves on. */
static void
wait_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* SET sess:<sid> doc EX 3600. */
static void
put_doc(const char *sid, const char *doc)
{
	freeReplyObject(raw("SET sess:%s %s EX 3600", sid, doc));
}

static enum board_err
load(struct session_store *ss, const char *sid)
{
	struct session t;
	enum board_err rc;

	session_init(&t);
	rc = session_load(ss, sid, &t);
	session_cleanup(&t);
	return rc;
}

/*
 * A user's "sessions valid from" time: a password change ends the user's
 * other sessions (board's and those express-session wrote) and keeps the
 * one that asked; sign out everywhere ends them all; a Redis error is
 * never a session.
 */
static void
test_validfrom(void)
{
	struct conf c;
	struct buf url;
	struct session_store *ss = NULL;
	struct session a, b, other, t;
	char *errmsg = NULL, *doc, *json;
	const char *uid = "user-vf-1";
	int64_t t0, vf;
	long long ttl;
	redisReply *r;
	cJSON *parsed;

	memset(&c, 0, sizeof(c));
	buf_init(&url);
	buf_printf(&url, "unix://%s", sock);
	c.redis_url = url.data;
	c.session_ttl = 3600;
	session_init(&a);
	session_init(&b);
	session_init(&other);
	session_init(&t);
	if (session_store_new(&c, &ss, &errmsg) != BOARD_OK ||
	    session_create(ss, uid, "vf", &a) != BOARD_OK ||
	    session_create(ss, uid, "vf", &b) != BOARD_OK ||
	    session_create(ss, "user-vf-2", "other", &other) != BOARD_OK) {
		ok(0, "a store and sessions: %s", errmsg);
		goto out;
	}
	/* One the Node services minted an hour ago, one a minute ago. */
	t0 = board_now_ms();
	doc = express_doc(uid, t0 - 3600 * 1000);
	put_doc("expressOld0123456789abcdefghijkl", doc);
	free(doc);
	doc = express_doc(uid, t0 - 60 * 1000);
	put_doc("expressNew0123456789abcdefghijkl", doc);
	free(doc);
	/* A session stored without expires: its issue time is unknown. */
	freeReplyObject(raw("SET sess:noexpVF {\"userId\":\"%s\"}", uid));
	/* What a Node service keeps in A besides ours must survive. */
	r = raw("GET sess:%s", a.sid);
	parsed = r != NULL && r->type == REDIS_REPLY_STRING ?
	    cJSON_Parse(r->str) : NULL;
	freeReplyObject(r);
	cJSON_AddItemToObject(parsed, "cart", cJSON_CreateIntArray(
	    (const int[]){ 1, 2 }, 2));
	json = cJSON_PrintUnformatted(parsed);
	put_doc(a.sid, json);
	cJSON_free(json);
	cJSON_Delete(parsed);

	is_int(load(ss, a.sid), BOARD_OK, "before: A loads");
	is_int(load(ss, b.sid), BOARD_OK, "before: B loads");
	is_int(load(ss, "expressOld0123456789abcdefghijkl"), BOARD_OK,
	    "before: an Express session loads");
	is_int(load(ss, "noexpVF"), BOARD_OK,
	    "before: a session without expires loads");
	is_int(raw_int("EXISTS board:validfrom:%s", uid), 0,
	    "no valid-from time until one is needed");

	/* Password change from A. */
	is_int(session_end_others(ss, &a), BOARD_OK, "end the others, keep A");
	vf = 0;
	r = raw("GET board:validfrom:%s", uid);
	if (r != NULL && r->type == REDIS_REPLY_STRING)
		vf = strtoll(r->str, NULL, 10);
	freeReplyObject(r);
	ok(vf > t0 && vf <= board_now_ms() + 1, "valid-from is now (%lld)",
	    (long long)vf);
	ttl = raw_int("TTL board:validfrom:%s", uid);
	ok(ttl >= 3599 && ttl <= 3600,
	    "valid-from lives for the session lifetime (TTL %lld)", ttl);
	is_int(session_load(ss, a.sid, &t), BOARD_OK, "A goes on");
	ok(t.issued_ms == vf, "A's issue time is now valid-from");
	is_str(t.sid, a.sid, "with the same id (its cookie keeps working)");
	r = raw("GET sess:%s", a.sid);
	ok(r != NULL && r->type == REDIS_REPLY_STRING &&
	    strstr(r->str, "\"cart\":[1,2]") != NULL &&
	    strstr(r->str, "\"userId\":\"user-vf-1\"") != NULL,
	    "A's document keeps everything else: %s", r != NULL &&
	    r->type == REDIS_REPLY_STRING ? r->str : "(none)");
	freeReplyObject(r);
	ttl = raw_int("TTL sess:%s", a.sid);
	ok(ttl >= 3599, "A keeps its TTL (%lld)", ttl);
	is_int(load(ss, b.sid), BOARD_ENOTFOUND, "B has ended");
	is_int(raw_int("EXISTS sess:%s", b.sid), 0, "and is deleted");
	is_int(load(ss, "expressOld0123456789abcdefghijkl"), BOARD_ENOTFOUND,
	    "an Express session from an hour ago has ended");
	is_int(load(ss, "expressNew0123456789abcdefghijkl"), BOARD_ENOTFOUND,
	    "so has one from a minute ago");
	is_int(raw_int("EXISTS sess:%s", "expressNew0123456789abcdefghijkl"),
	    0, "and is deleted");
	is_int(load(ss, "noexpVF"), BOARD_ENOTFOUND,
	    "a session of unknown issue time has ended");
	is_int(load(ss, other.sid), BOARD_OK, "another user's session goes on");
	wait_ms(3);
	doc = express_doc(uid, board_now_ms());
	put_doc("expressLater0123456789abcdefghi", doc);
	free(doc);
	is_int(load(ss, "expressLater0123456789abcdefghi"), BOARD_OK,
	    "an Express session issued afterwards works");
	/*
	 * A board session that a Node service saved again: express-session
	 * moved cookie.expires, but kept board's issue time, which counts.
	 */
	doc = express_doc(uid, board_now_ms());
	parsed = cJSON_Parse(doc);
	cJSON_AddItemToObject(parsed, SESSION_ISSUED_KEY,
	    cJSON_CreateNumber((double)(vf - 1)));
	json = cJSON_PrintUnformatted(parsed);
	put_doc("resaved0123456789abcdefghijklmn", json);
	cJSON_free(json);
	cJSON_Delete(parsed);
	free(doc);
	is_int(load(ss, "resaved0123456789abcdefghijklmn"), BOARD_ENOTFOUND,
	    "board's issue time wins over cookie.expires");
	session_cleanup(&b);
	is_int(session_create(ss, uid, "vf", &b), BOARD_OK, "a new login");
	is_int(load(ss, b.sid), BOARD_OK, "works");

	/* Sign out everywhere from A: also what was issued this very ms. */
	is_int(session_end_all(ss, &a), BOARD_OK, "end them all");
	is_int(load(ss, a.sid), BOARD_ENOTFOUND, "A has ended");
	is_int(raw_int("EXISTS sess:%s", a.sid), 0, "and is deleted");
	is_int(load(ss, b.sid), BOARD_ENOTFOUND, "B has ended");
	is_int(load(ss, "expressLater0123456789abcdefghi"), BOARD_ENOTFOUND,
	    "the Express session has ended");
	is_int(load(ss, other.sid), BOARD_OK, "another user's session goes on");
	session_cleanup(&b);
	wait_ms(3);
	is_int(session_create(ss, uid, "vf", &b), BOARD_OK, "a login after");
	is_int(load(ss, b.sid), BOARD_OK, "works");

	/* A session deleted meanwhile: the others still end. */
	session_cleanup(&t);
	is_int(session_create(ss, uid, "vf", &t), BOARD_OK, "one more");
	session_destroy(ss, a.sid);
	is_int(session_end_others(ss, &a), BOARD_OK,
	    "ending the others from a deleted session");
	is_int(raw_int("EXISTS sess:%s", a.sid), 0, "does not bring it back");
	is_int(load(ss, t.sid), BOARD_ENOTFOUND, "and still ends the rest");

	/* A damaged valid-from ends sessions rather than reviving them. */
	freeReplyObject(raw("SET board:validfrom:%s 12x", "user-vf-2"));
	is_int(load(ss, other.sid), BOARD_ENOTFOUND,
	    "an unreadable valid-from time ends the user's sessions");
	/* A Redis error in the second round trip is 503, not a session. */
	session_cleanup(&other);
	if (session_create(ss, "user-vf-3", "three", &other) != BOARD_OK)
		ok(0, "a session for user-vf-3");
	freeReplyObject(raw("LPUSH board:validfrom:%s x", "user-vf-3"));
	is_int(session_load(ss, other.sid, &t), BOARD_EUNAVAIL,
	    "an error reading valid-from: unavailable");
	ok(t.user_id == NULL, "and nothing of the session handed out");
	is_int(session_end_others(ss, &other), BOARD_OK,
	    "a password change overwrites the broken key");
	is_int(load(ss, other.sid), BOARD_OK, "and the session goes on");

	/* A user deleted by board-admin: no session in hand, all end. */
	session_cleanup(&a);
	session_cleanup(&b);
	if (session_create(ss, "user-vf-4", "four", &a) != BOARD_OK ||
	    session_create(ss, "user-vf-4", "four", &b) != BOARD_OK)
		ok(0, "two sessions for user-vf-4");
	doc = express_doc("user-vf-4", board_now_ms());
	put_doc("expressUser40123456789abcdefghi", doc);
	free(doc);
	t0 = board_now_ms();
	is_int(session_end_user(ss, "user-vf-4"), BOARD_OK, "end a user's");
	vf = 0;
	r = raw("GET board:validfrom:%s", "user-vf-4");
	if (r != NULL && r->type == REDIS_REPLY_STRING)
		vf = strtoll(r->str, NULL, 10);
	freeReplyObject(r);
	ok(vf > t0 && vf <= board_now_ms() + 1,
	    "  valid-from is now, past this very ms (%lld)", (long long)vf);
	ttl = raw_int("TTL board:validfrom:%s", "user-vf-4");
	ok(ttl >= 3599 && ttl <= 3600,
	    "  valid-from lives for the session lifetime (TTL %lld)", ttl);
	is_int(load(ss, a.sid), BOARD_ENOTFOUND, "  one session has ended");
	is_int(load(ss, b.sid), BOARD_ENOTFOUND, "  so has the other");
	is_int(load(ss, "expressUser40123456789abcdefghi"), BOARD_ENOTFOUND,
	    "  so has an Express session issued this very ms");
	is_int(load(ss, other.sid), BOARD_OK, "  another user's goes on");

	/* Redis down: all fail, nothing is claimed. */
	redis_stop();
	is_int(session_end_others(ss, &a), BOARD_EUNAVAIL,
	    "Redis down: end the others unavailable");
	is_int(session_end_all(ss, &a), BOARD_EUNAVAIL,
	    "Redis down: end all unavailable");
	is_int(session_end_user(ss, "user-vf-4"), BOARD_EUNAVAIL,
	    "Redis down: end a user's unavailable");
	ok(redis_start(), "Redis restarted");
out:
	free(errmsg);
	session_cleanup(&a);
	session_cleanup(&b);
	session_cleanup(&other);
	session_cleanup(&t);
	session_store_free(ss);
	buf_cleanup(&url);
}

/*
 * session_load's hint of a session's user, which lets it ask for the
 * session and the user's valid-from time in one round trip: it is only a
 * hint, and the document decides.
 */
static void
test_hint(void)
{
	struct conf c;
	struct buf url;
	struct session_store *ss = NULL;
	struct session s, t;
	char *errmsg = NULL, *doc;
	long long ttl;

	memset(&c, 0, sizeof(c));
	buf_init(&url);
	buf_printf(&url, "unix://%s", sock);
	c.redis_url = url.data;
	c.session_ttl = 3600;
	session_init(&s);
	session_init(&t);
	if (session_store_new(&c, &ss, &errmsg) != BOARD_OK ||
	    session_create(ss, "user-h-1", "hint", &s) != BOARD_OK) {
		ok(0, "hint: a store and a session: %s", errmsg);
		goto out;
	}
	is_int(load(ss, s.sid), BOARD_OK, "hint: a first load");
	freeReplyObject(raw("EXPIRE sess:%s 100", s.sid));
	is_int(session_load(ss, s.sid, &t), BOARD_OK,
	    "hint: a second load (the user known)");
	is_str(t.user_id, "user-h-1", "  the session's user");
	ttl = raw_int("TTL sess:%s", s.sid);
	ok(ttl >= 3599, "  touched as connect-redis does (TTL %lld)", ttl);
	freeReplyObject(raw("SET board:validfrom:%s %lld", "user-h-1",
	    (long long)board_now_ms() + 1000));
	is_int(load(ss, s.sid), BOARD_ENOTFOUND,
	    "  the known user's valid-from time ends it");
	/* The same id, now another user's document, issued before that
	 * user's valid-from time: the hint's user must not be asked. */
	doc = express_doc("user-h-2", board_now_ms() - 60000);
	put_doc(s.sid, doc);
	free(doc);
	freeReplyObject(raw("DEL board:validfrom:%s", "user-h-1"));
	freeReplyObject(raw("SET board:validfrom:%s %lld", "user-h-2",
	    (long long)board_now_ms()));
	is_int(load(ss, s.sid), BOARD_ENOTFOUND,
	    "hint: a document of another user is checked against that "
	    "user's valid-from time");
	is_int(raw_int("EXISTS sess:%s", s.sid), 0, "  and deleted");
	is_int(load(ss, s.sid), BOARD_ENOTFOUND,
	    "hint: a session that is gone is not found");
	is_int(raw_int("EXISTS sess:%s", s.sid), 0,
	    "  and the touch does not bring it back");
	/* A known session while Redis is down: 503, never "signed out". */
	if (session_create(ss, "user-h-3", "hint", &s) != BOARD_OK ||
	    load(ss, s.sid) != BOARD_OK) {
		ok(0, "hint: a session to know");
		goto out;
	}
	redis_stop();
	is_int(session_load(ss, s.sid, &t), BOARD_EUNAVAIL,
	    "hint: a known session with Redis down is unavailable");
	ok(t.user_id == NULL, "  and nothing of it handed out");
	ok(redis_start(), "Redis restarted");
	is_int(load(ss, s.sid), BOARD_ENOTFOUND,
	    "hint: after the restart (nothing kept) it is not found");
out:
	free(errmsg);
	session_cleanup(&s);
	session_cleanup(&t);
	session_store_free(ss);
	buf_cleanup(&url);
}

static void
test_dead(void)
{
	struct conf c;
	struct session_store *ss = NULL;
	struct session s;
	char *errmsg = NULL, url[64];
	double t0;

	/* A port that was free a moment ago: nothing listens on it. */
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d",
	    fixture_free_port());

	memset(&c, 0, sizeof(c));
	c.redis_url = url;
	c.session_ttl = 3600;
	session_init(&s);
	is_int(session_store_new(&c, &ss, &errmsg), BOARD_OK, "dead store");
	t0 = fixture_now_s();
	is_int(session_load(ss, "abc", &s), BOARD_EUNAVAIL,
	    "load: unavailable");
	is_int(session_create(ss, "u", "n", &s), BOARD_EUNAVAIL, "create");
	is_int(session_destroy(ss, "abc"), BOARD_EUNAVAIL, "destroy");
	is_int(session_store_ping(ss), BOARD_EUNAVAIL, "ping");
	ok(fixture_now_s() - t0 < 2.0, "all within 2 s (%.3f s)",
	    fixture_now_s() - t0);
	session_store_free(ss);
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

	test_defaults();
	test_dead();
	if (redis_start()) {
		test_store();
		test_validfrom();
		test_hint();
	} else {
		ok(0, "redis-server starts (is it installed?)");
	}
	redis_stop();
	cJSON_Delete(vectors);
	test_tmpdir_remove(tmpdir);
	return tap_done();
}
