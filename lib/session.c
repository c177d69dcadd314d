/* session.c: signed cookies and Redis sessions, as express-session does. */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "board.h"
#include "http.h"
#include "log.h"
#include "redis.h"
#include "secret.h"
#include "session.h"

#define SESSION_SID_MAX		128
#define SESSION_COOKIE_TRIES	4	/* cookies of our name looked at */

struct session_store {
	struct redis *redis;
	long ttl;		/* seconds */
	bool secure;		/* Secure cookie; also in the stored JSON */
	char *cookie_name;
};

void
session_init(struct session *s)
{
	memset(s, 0, sizeof(*s));
}

void
session_cleanup(struct session *s)
{
	if (s == NULL)
		return;
	free(s->user_id);
	free(s->username);
	memset(s, 0, sizeof(*s));
}

/* A session id we are willing to look up: 1..128 printable characters. */
static bool
session_sid_is_sane(const char *sid, size_t len)
{
	if (len == 0 || len > SESSION_SID_MAX || len > SECRET_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)sid[i];

		if (c <= 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

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

enum board_err
session_store_new(const struct conf *c, struct session_store **out,
    char **errmsg)
{
	struct session_store *ss = xcalloc(1, sizeof(*ss));
	enum board_err rc;

	*out = NULL;
	rc = redis_new(c->redis_url, &ss->redis, errmsg);
	if (rc != BOARD_OK) {
		session_store_free(ss);
		return rc;
	}
	ss->ttl = c->session_ttl;
	ss->secure = c->cookie_secure;
	if (c->cookie_name != NULL)
		ss->cookie_name = xstrdup(c->cookie_name);
	*out = ss;
	return BOARD_OK;
}

void
session_store_free(struct session_store *ss)
{
	if (ss == NULL)
		return;
	redis_free(ss->redis);
	free(ss->cookie_name);
	free(ss);
}

enum board_err
session_store_ping(struct session_store *ss)
{
	return redis_ping(ss->redis);
}

struct redis *
session_store_redis(struct session_store *ss)
{
	return ss->redis;
}

long
session_store_ttl(const struct session_store *ss)
{
	return ss->ttl;
}

/* "2026-11-25T13:35:28.123Z" to ms since the epoch; false when not one. */
static bool
session_parse_iso(const char *s, int64_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, ms, n = 0;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &y, &mo, &d, &h, &mi,
	    &sec, &ms, &n) != 7 || n != BOARD_ISO_LEN || s[n] != '\0')
		return false;
	tm = (struct tm){ .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
	    .tm_hour = h, .tm_min = mi, .tm_sec = sec };
	t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*out = (int64_t)t * 1000 + ms;
	return true;
}

/* A string member, or an integral number as express may store ids. */
static char *
session_json_id(const cJSON *v)
{
	char num[32];

	if (cJSON_IsString(v) && v->valuestring != NULL)
		return xstrdup(v->valuestring);
	if (cJSON_IsNumber(v) && v->valuedouble >= -9007199254740991.0 &&
	    v->valuedouble <= 9007199254740991.0 &&
	    v->valuedouble == (double)(long long)v->valuedouble) {
		snprintf(num, sizeof(num), "%lld", (long long)v->valuedouble);
		return xstrdup(num);
	}
	return NULL;
}

/* A number of ms that an int64_t holds exactly; false for anything else. */
static bool
session_json_ms(const cJSON *v, int64_t *out)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0.0) ||
	    v->valuedouble > 9007199254740991.0)
		return false;
	*out = (int64_t)v->valuedouble;
	return true;
}

/*
 * When the session was issued. board writes it down (SESSION_ISSUED_KEY);
 * express-session does not, but sets cookie.expires to the issue time plus
 * cookie.originalMaxAge and rewrites expires only when it saves the
 * session again (connect-redis's touch is only an EXPIRE). Unknown is 0,
 * earlier than any valid-from time.
 */
static int64_t
session_issued(const cJSON *doc, const cJSON *cookie, int64_t expires_ms)
{
	int64_t t, max;

	if (session_json_ms(cJSON_GetObjectItemCaseSensitive(doc,
	    SESSION_ISSUED_KEY), &t))
		return t;
	if (expires_ms != 0 && session_json_ms(
	    cJSON_GetObjectItemCaseSensitive(cookie, "originalMaxAge"), &max) &&
	    max <= expires_ms)
		return expires_ms - max;
	return 0;
}

static enum board_err
session_from_json(const cJSON *doc, struct session *out)
{
	const cJSON *cookie, *exp;

	if (!cJSON_IsObject(doc))
		return BOARD_ENOTFOUND;
	out->user_id = session_json_id(cJSON_GetObjectItemCaseSensitive(doc,
	    "userId"));
	if (out->user_id == NULL || out->user_id[0] == '\0')
		return BOARD_ENOTFOUND;
	out->username = session_json_id(cJSON_GetObjectItemCaseSensitive(doc,
	    "username"));
	if (out->username == NULL)
		out->username = xstrdup("");
	cookie = cJSON_GetObjectItemCaseSensitive(doc, "cookie");
	exp = cJSON_GetObjectItemCaseSensitive(cookie, "expires");
	if (!cJSON_IsString(exp) ||
	    !session_parse_iso(exp->valuestring, &out->expires_ms))
		out->expires_ms = 0;
	out->issued_ms = session_issued(doc, cookie, out->expires_ms);
	return BOARD_OK;
}

/*
 * The valid-from reply: nil (never set, or expired) is 0. Anything but
 * digits is treated as "now", so that a damaged key ends sessions rather
 * than reviving them.
 */
static int64_t
session_validfrom_of(const redisReply *r, const char *user_id)
{
	int64_t v = 0;

	if (r->type == REDIS_REPLY_NIL)
		return 0;
	if (r->type == REDIS_REPLY_STRING && r->len > 0 && r->len <= 18) {
		for (size_t i = 0; i < r->len; i++) {
			if (r->str[i] < '0' || r->str[i] > '9')
				goto bad;
			v = v * 10 + (r->str[i] - '0');
		}
		return v;
	}
bad:
	log_warn("session: unreadable valid-from time of user %s", user_id);
	return board_now_ms();
}

enum board_err
session_load(struct session_store *ss, const char *sid, struct session *out)
{
	struct redis_cmds c;
	redisReply *r[3] = { NULL, NULL, NULL };
	cJSON *doc = NULL;
	enum board_err rc;
	size_t len = strlen(sid);

	session_cleanup(out);
	if (!session_sid_is_sane(sid, len))
		return BOARD_ENOTFOUND;
	redis_cmds_init(&c);
	redis_cmds_add(&c, "GET " SESSION_PREFIX "%s", sid);
	if ((rc = redis_exec(ss->redis, &c, r, "GET",
	    REDIS_EXEC_IDEMPOTENT)) != BOARD_OK)
		return rc;
	rc = BOARD_ENOTFOUND;
	if (r[0]->type != REDIS_REPLY_STRING)
		goto out;
	/* Unreadable JSON counts as no session, not as a server error. */
	doc = cJSON_ParseWithLength(r[0]->str, r[0]->len);
	if (doc == NULL)
		goto out;
	rc = session_from_json(doc, out);
	/*
	 * cookie.expires is the session's absolute end: the touch above
	 * slides the Redis TTL on every request (as connect-redis does), so
	 * without this a stolen cookie, replayed with its expiry ignored,
	 * would work for ever. express-session never checks it, but a
	 * browser stops sending the cookie then, so no honest client sees a
	 * difference. A session stored without expires keeps only the TTL.
	 */
	if (rc == BOARD_OK && out->expires_ms != 0 &&
	    out->expires_ms <= board_now_ms()) {
		rc = BOARD_ENOTFOUND;
		(void)session_destroy(ss, sid);
	}
	if (rc != BOARD_OK)
		goto out;
	/*
	 * The user's valid-from time needs the userId the document holds,
	 * so it takes a second round trip; connect-redis's touch rides
	 * along. A failure here is 503, never the session: it may have
	 * ended (session_end_others, session_end_all).
	 */
	redis_cmds_add(&c, "EXPIRE " SESSION_PREFIX "%s %ld", sid, ss->ttl);
	redis_cmds_add(&c, "GET " SESSION_VALIDFROM_PREFIX "%s", out->user_id);
	if ((rc = redis_exec(ss->redis, &c, r + 1, "GET valid-from",
	    REDIS_EXEC_IDEMPOTENT)) != BOARD_OK)
		goto out;
	if (out->issued_ms < session_validfrom_of(r[2], out->user_id)) {
		rc = BOARD_ENOTFOUND;
		(void)session_destroy(ss, sid);
		goto out;
	}
	memcpy(out->sid, sid, len + 1);
out:
	if (rc != BOARD_OK)
		session_cleanup(out);
	cJSON_Delete(doc);
	for (size_t i = 0; i < 3; i++)
		freeReplyObject(r[i]);
	return rc;
}

/* connect-redis's value: key order as express-session's Cookie.data. */
static char *
session_to_json(const struct session_store *ss, const char *user_id,
    const char *username, int64_t issued_ms, int64_t expires_ms)
{
	char iso[BOARD_ISO_LEN + 1];
	cJSON *doc = cJSON_CreateObject(), *cookie = cJSON_CreateObject();
	char *json;

	board_iso_time(expires_ms, iso);
	cJSON_AddItemToObject(cookie, "originalMaxAge",
	    cJSON_CreateNumber((double)ss->ttl * 1000.0));
	cJSON_AddItemToObject(cookie, "expires", cJSON_CreateString(iso));
	cJSON_AddItemToObject(cookie, "secure", cJSON_CreateBool(ss->secure));
	cJSON_AddItemToObject(cookie, "httpOnly", cJSON_CreateTrue());
	cJSON_AddItemToObject(cookie, "path", cJSON_CreateString("/"));
	cJSON_AddItemToObject(cookie, "sameSite", cJSON_CreateString("lax"));
	cJSON_AddItemToObject(doc, "cookie", cookie);
	cJSON_AddItemToObject(doc, "userId", cJSON_CreateString(user_id));
	cJSON_AddItemToObject(doc, "username", cJSON_CreateString(username));
	cJSON_AddItemToObject(doc, SESSION_ISSUED_KEY,
	    cJSON_CreateNumber((double)issued_ms));
	json = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (json == NULL) {
		log_err("session: out of memory writing JSON");
		abort();
	}
	return json;
}

enum board_err
session_create(struct session_store *ss, const char *user_id,
    const char *username, struct session *out)
{
	struct redis_cmds c;
	redisReply *r[1];
	char *json = NULL;
	char sid[SECRET_ID_LEN + 1];
	int64_t now = board_now_ms();
	int64_t expires_ms = now + (int64_t)ss->ttl * 1000;
	enum board_err rc;

	session_cleanup(out);
	secret_random_id(sid);
	json = session_to_json(ss, user_id, username, now, expires_ms);
	redis_cmds_init(&c);
	redis_cmds_add(&c, "SET " SESSION_PREFIX "%s %s EX %ld", sid, json,
	    ss->ttl);
	if ((rc = redis_exec(ss->redis, &c, r, "SET",
	    REDIS_EXEC_IDEMPOTENT)) != BOARD_OK)
		goto out;
	freeReplyObject(r[0]);
	memcpy(out->sid, sid, sizeof(sid));
	out->user_id = xstrdup(user_id);
	out->username = xstrdup(username);
	out->expires_ms = expires_ms;
	out->issued_ms = now;
	rc = BOARD_OK;
out:
	cJSON_free(json);
	return rc;
}

enum board_err
session_destroy(struct session_store *ss, const char *sid)
{
	return redis_command(ss->redis, "DEL", REDIS_EXEC_IDEMPOTENT,
	    "DEL " SESSION_PREFIX "%s", sid);
}

/*
 * A valid-from time that ends every session issued up to now, also one
 * issued in this very millisecond (which may have come just before).
 */
static int64_t
session_validfrom_now(void)
{
	return board_now_ms() + 1;
}

/*
 * Reads sid's stored document and sets *out to it with SESSION_ISSUED_KEY
 * set to issued_ms (caller frees with cJSON_free), or to NULL when it is
 * gone or unreadable. The document is rewritten rather than made anew so
 * that whatever else a Node service keeps in it stays. BOARD_OK or
 * BOARD_EUNAVAIL.
 */
static enum board_err
session_doc_reissue(struct session_store *ss, const char *sid,
    int64_t issued_ms, char **out)
{
	struct redis_cmds c;
	redisReply *r[1] = { NULL };
	cJSON *doc = NULL;
	enum board_err rc;

	*out = NULL;
	redis_cmds_init(&c);
	redis_cmds_add(&c, "GET " SESSION_PREFIX "%s", sid);
	if ((rc = redis_exec(ss->redis, &c, r, "GET",
	    REDIS_EXEC_IDEMPOTENT)) != BOARD_OK)
		return rc;
	if (r[0]->type == REDIS_REPLY_STRING)
		doc = cJSON_ParseWithLength(r[0]->str, r[0]->len);
	if (cJSON_IsObject(doc)) {
		cJSON_DeleteItemFromObjectCaseSensitive(doc,
		    SESSION_ISSUED_KEY);
		cJSON_AddItemToObject(doc, SESSION_ISSUED_KEY,
		    cJSON_CreateNumber((double)issued_ms));
		if ((*out = cJSON_PrintUnformatted(doc)) == NULL) {
			log_err("session: out of memory writing JSON");
			abort();
		}
	}
	cJSON_Delete(doc);
	freeReplyObject(r[0]);
	return BOARD_OK;
}

enum board_err
session_end_others(struct session_store *ss, const struct session *s)
{
	struct redis_cmds c;
	redisReply *r[2] = { NULL, NULL };
	int64_t vf = session_validfrom_now();
	char *json = NULL;
	enum board_err rc;

	if ((rc = session_doc_reissue(ss, s->sid, vf, &json)) != BOARD_OK)
		return rc;
	/*
	 * One round trip, so that s is never left behind its own
	 * valid-from time while the connection holds. Its issue time equals
	 * valid-from: only sessions issued before it end.
	 */
	redis_cmds_init(&c);
	redis_cmds_add(&c, "SET " SESSION_VALIDFROM_PREFIX "%s %lld EX %ld",
	    s->user_id, (long long)vf, ss->ttl);
	if (json != NULL)
		redis_cmds_add(&c, "SET " SESSION_PREFIX "%s %s EX %ld",
		    s->sid, json, ss->ttl);
	rc = redis_exec(ss->redis, &c, r, "SET valid-from",
	    REDIS_EXEC_IDEMPOTENT);
	freeReplyObject(r[0]);
	freeReplyObject(r[1]);
	cJSON_free(json);
	return rc;
}

enum board_err
session_end_all(struct session_store *ss, const struct session *s)
{
	struct redis_cmds c;
	redisReply *r[2] = { NULL, NULL };
	enum board_err rc;

	redis_cmds_init(&c);
	redis_cmds_add(&c, "SET " SESSION_VALIDFROM_PREFIX "%s %lld EX %ld",
	    s->user_id, (long long)session_validfrom_now(), ss->ttl);
	redis_cmds_add(&c, "DEL " SESSION_PREFIX "%s", s->sid);
	rc = redis_exec(ss->redis, &c, r, "SET valid-from",
	    REDIS_EXEC_IDEMPOTENT);
	freeReplyObject(r[0]);
	freeReplyObject(r[1]);
	return rc;
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
	char sid[SECRET_ID_LEN + 1];
	char *raw[SESSION_COOKIE_TRIES];
	size_t n;
	enum board_err rc = BOARD_ENOTFOUND;

	assert(ss->cookie_name != NULL);
	/*
	 * Every cookie of our name, not the first: a sibling subdomain can
	 * set one with Domain= and a longer Path, which the browser sends
	 * first, to hide ours (cookie shadowing). Bounded, as each costs an
	 * HMAC per secret and maybe a Redis round trip.
	 */
	n = http_cookie_get_all(rq->cookie, ss->cookie_name, raw,
	    SESSION_COOKIE_TRIES);
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
	char date[BOARD_HTTPDATE_LEN + 1];
	char *h;

	assert(ss->cookie_name != NULL);
	board_http_date(expires_ms, date);
	h = xasprintf("%s=%s; Path=/; Expires=%s; HttpOnly; SameSite=Lax%s",
	    ss->cookie_name, value, date, ss->secure ? "; Secure" : "");
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
