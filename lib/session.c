/* session.c: signed cookies and Redis sessions, as express-session does. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>

#include "board.h"
#include "cidr.h"
#include "log.h"
#include "secret.h"
#include "session.h"

#define SESSION_TTL_DEFAULT	86400	/* seconds: express's one day */
#define SESSION_TIMEOUT_MS	1000	/* connect and command timeout */
#define SESSION_SID_MAX		128
#define LOGIN_WINDOW_DEFAULT	900
#define LOGIN_MAX_DEFAULT	10
#define LOGIN_KEY_USER		"board:fail:user:"
#define LOGIN_KEY_ADDR		"board:fail:addr:"

struct session_store {
	char *host;		/* TCP host, or NULL for a unix socket */
	int port;
	char *path;		/* unix socket */
	char *user;		/* AUTH user (Redis 6 ACL), or NULL */
	char *password;		/* AUTH password, or NULL */
	long db;
	long ttl;		/* seconds */
	bool secure;		/* cookie.secure in the stored JSON */
	long login_max;
	long login_window;
	redisContext *redis;	/* NULL until connected, and after errors */
	bool io_error;		/* the last failure was I/O, not a reply */
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
	memset(s->sid, 0, sizeof(s->sid));
	s->user_id = NULL;
	s->username = NULL;
	s->expires_ms = 0;
}

/* encodeURIComponent: everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ). */
static void
session_uri_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-_.!~*'()", c) != NULL) {
			buf_putc(b, (char)c);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[c >> 4]);
			buf_putc(b, hex[c & 15]);
		}
	}
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
	struct buf raw, enc;

	if (secrets == NULL || secrets->n == 0)
		return NULL;
	secret_sign(&secrets->v[0], sid, strlen(sid), sig);
	buf_init(&raw);
	buf_init(&enc);
	buf_printf(&raw, "s:%s.%s", sid, sig);
	session_uri_encode(&enc, buf_cstr(&raw));
	buf_cleanup(&raw);
	return buf_steal(&enc);
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

/* Decodes %XX in s[0..len) into a new string; NULL when malformed. */
static char *
session_pct_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) ||
		    !isxdigit((unsigned char)s[i + 2])) {
			free(out);
			return NULL;
		}
		char h[3] = { s[i + 1], s[i + 2], '\0' };
		*o++ = (char)strtol(h, NULL, 16);
		i += 2;
	}
	*o = '\0';
	if (strlen(out) != (size_t)(o - out)) {	/* %00 */
		free(out);
		return NULL;
	}
	return out;
}

static bool
session_parse_long(const char *s, size_t len, long min, long max, long *out)
{
	char tmp[24], *end;
	long v;

	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (!isdigit((unsigned char)tmp[0]))
		return false;
	errno = 0;
	v = strtol(tmp, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/*
 * redis://[[user]:password@]host[:port][/db]; unix:/path, unix:///path,
 * each with an optional ?db=N. Fills ss; *why is a static description.
 */
static bool
session_parse_url(struct session_store *ss, const char *url, const char **why)
{
	const char *p, *end, *at, *hostend, *slash, *q;
	long v;

	if (strncmp(url, "unix:", 5) == 0) {
		p = url + 5;
		if (strncmp(p, "//", 2) == 0)
			p += 2;
		if (*p != '/') {
			*why = "the socket path must be absolute";
			return false;
		}
		q = strchr(p, '?');
		end = q != NULL ? q : p + strlen(p);
		ss->path = session_pct_decode(p, (size_t)(end - p));
		if (ss->path == NULL || ss->path[1] == '\0') {
			*why = "bad socket path";
			return false;
		}
		if (q != NULL) {
			q++;
			if (strncmp(q, "db=", 3) != 0 ||
			    !session_parse_long(q + 3, strlen(q + 3), 0,
			    INT_MAX, &ss->db)) {
				*why = "the only query allowed is ?db=N";
				return false;
			}
		}
		return true;
	}
	if (strncmp(url, "rediss://", 9) == 0) {
		*why = "TLS (rediss://) is not supported; use stunnel";
		return false;
	}
	if (strncmp(url, "redis://", 8) != 0) {
		*why = "must start redis:// or unix:";
		return false;
	}
	p = url + 8;
	end = p + strcspn(p, "/?#");
	at = NULL;
	for (const char *s = p; s < end; s++)
		if (*s == '@')
			at = s;
	if (at != NULL) {
		const char *colon = memchr(p, ':', (size_t)(at - p));

		if (colon != NULL) {
			if (colon > p)
				ss->user = session_pct_decode(p,
				    (size_t)(colon - p));
			ss->password = session_pct_decode(colon + 1,
			    (size_t)(at - colon - 1));
			if ((colon > p && ss->user == NULL) ||
			    ss->password == NULL) {
				*why = "bad user or password encoding";
				return false;
			}
			if (ss->password[0] == '\0') {
				free(ss->password);
				ss->password = NULL;
			}
		}
		/* A user without a password is not an AUTH. */
		p = at + 1;
	}
	ss->port = 6379;
	if (*p == '[') {
		hostend = memchr(p, ']', (size_t)(end - p));
		if (hostend == NULL) {
			*why = "unclosed [ in the host";
			return false;
		}
		ss->host = xstrndup(p + 1, (size_t)(hostend - p - 1));
		hostend++;
	} else {
		hostend = memchr(p, ':', (size_t)(end - p));
		if (hostend == NULL)
			hostend = end;
		ss->host = xstrndup(p, (size_t)(hostend - p));
	}
	if (ss->host[0] == '\0') {
		free(ss->host);
		ss->host = xstrdup("127.0.0.1");
	}
	if (hostend < end) {
		if (*hostend != ':' || !session_parse_long(hostend + 1,
		    (size_t)(end - hostend - 1), 1, 65535, &v)) {
			*why = "bad port";
			return false;
		}
		ss->port = (int)v;
	}
	if (*end == '/') {
		slash = end + 1;
		q = slash + strcspn(slash, "?#");
		if (q > slash && !session_parse_long(slash,
		    (size_t)(q - slash), 0, INT_MAX, &ss->db)) {
			*why = "bad database number";
			return false;
		}
		end = q;
	}
	if (*end == '?') {
		q = end + 1;
		if (strncmp(q, "db=", 3) != 0 || !session_parse_long(q + 3,
		    strlen(q + 3), 0, INT_MAX, &ss->db)) {
			*why = "the only query allowed is ?db=N";
			return false;
		}
	} else if (*end != '\0') {
		*why = "unexpected text after the host";
		return false;
	}
	return true;
}

enum board_err
session_store_new(const struct conf *c, struct session_store **out,
    char **errmsg)
{
	struct session_store *ss = xcalloc(1, sizeof(*ss));
	const char *url = c->redis_url != NULL && c->redis_url[0] != '\0' ?
	    c->redis_url : "redis://127.0.0.1:6379";
	const char *why = NULL;

	*out = NULL;
	*errmsg = NULL;
	ss->ttl = c->session_ttl > 0 ? c->session_ttl : SESSION_TTL_DEFAULT;
	ss->secure = c->cookie_secure;
	ss->login_max = c->login_max_failures > 0 ? c->login_max_failures :
	    LOGIN_MAX_DEFAULT;
	ss->login_window = c->login_window > 0 ? c->login_window :
	    LOGIN_WINDOW_DEFAULT;
	if (!session_parse_url(ss, url, &why)) {
		/* Never echo the URL: it may hold the password. */
		*errmsg = xasprintf("REDIS_URL: %s", why);
		session_store_free(ss);
		return BOARD_EINVAL;
	}
	/*
	 * hiredis writes without MSG_NOSIGNAL: a Redis that went away must
	 * give EPIPE, not kill the process.
	 */
	{
		struct sigaction sa;

		if (sigaction(SIGPIPE, NULL, &sa) == 0 &&
		    sa.sa_handler == SIG_DFL)
			signal(SIGPIPE, SIG_IGN);
	}
	*out = ss;
	return BOARD_OK;
}

/* Closes the connection; the next use reconnects. */
static void
session_store_drop(struct session_store *ss)
{
	if (ss->redis != NULL) {
		redisFree(ss->redis);
		ss->redis = NULL;
	}
}

void
session_store_free(struct session_store *ss)
{
	if (ss == NULL)
		return;
	session_store_drop(ss);
	free(ss->host);
	free(ss->path);
	free(ss->user);
	xfree_secret(ss->password);
	free(ss);
}

long
session_store_ttl(const struct session_store *ss)
{
	return ss->ttl;
}

/*
 * How much of an error reply is safe to log. Redis quotes the arguments of
 * a command it does not know ("ERR unknown command 'AUTH', with args
 * beginning with: '<password>'"), as when an operator renamed or disabled
 * it: those are session ids and the Redis password, never to be logged.
 */
static size_t
session_error_len(const char *s, size_t len)
{
	static const char cut[] = ", with args";

	for (size_t i = 0; i + sizeof(cut) - 1 <= len; i++)
		if (memcmp(s + i, cut, sizeof(cut) - 1) == 0)
			return i;
	return len;
}

/* The reply to a command whose only error is an I/O or error reply. */
static redisReply *
session_reply_check(struct session_store *ss, redisReply *r, const char *what,
    bool will_retry)
{
	if (r == NULL) {
		ss->io_error = true;
		if (will_retry)
			log_info("session: redis %s failed on an open"
			    " connection (%s); reconnecting", what,
			    ss->redis->errstr[0] != '\0' ? ss->redis->errstr :
			    "connection lost");
		else
			log_warn("session: redis %s failed: %s", what,
			    ss->redis->errstr[0] != '\0' ? ss->redis->errstr :
			    "connection lost");
		session_store_drop(ss);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		/*
		 * NOAUTH, LOADING, READONLY after a failover: a new
		 * connection is the best chance of reaching a primary.
		 */
		log_warn("session: redis %s: %.*s", what,
		    (int)session_error_len(r->str, r->len), r->str);
		freeReplyObject(r);
		session_store_drop(ss);
		return NULL;
	}
	return r;
}

static enum board_err
session_store_connect(struct session_store *ss)
{
	struct timeval tv = { SESSION_TIMEOUT_MS / 1000,
	    (SESSION_TIMEOUT_MS % 1000) * 1000 };
	redisReply *r;

	if (ss->redis != NULL)
		return BOARD_OK;
	if (ss->path != NULL)
		ss->redis = redisConnectUnixWithTimeout(ss->path, tv);
	else
		ss->redis = redisConnectWithTimeout(ss->host, ss->port, tv);
	if (ss->redis == NULL) {
		log_err("session: cannot allocate a redis context");
		return BOARD_EUNAVAIL;
	}
	if (ss->redis->err) {
		if (ss->path != NULL)
			log_warn("session: cannot connect to redis at %s: %s",
			    ss->path, ss->redis->errstr);
		else
			log_warn("session: cannot connect to redis at %s:%d:"
			    " %s", ss->host, ss->port, ss->redis->errstr);
		session_store_drop(ss);
		return BOARD_EUNAVAIL;
	}
	if (redisSetTimeout(ss->redis, tv) != REDIS_OK)
		log_warn("session: cannot set the redis timeout");
	if (ss->host != NULL)
		redisEnableKeepAlive(ss->redis);
	if (ss->password != NULL) {
		if (ss->user != NULL)
			r = redisCommand(ss->redis, "AUTH %s %s", ss->user,
			    ss->password);
		else
			r = redisCommand(ss->redis, "AUTH %s", ss->password);
		if ((r = session_reply_check(ss, r, "AUTH", false)) == NULL)
			return BOARD_EUNAVAIL;
		freeReplyObject(r);
	}
	if (ss->db != 0) {
		r = redisCommand(ss->redis, "SELECT %ld", ss->db);
		if ((r = session_reply_check(ss, r, "SELECT", false)) == NULL)
			return BOARD_EUNAVAIL;
		freeReplyObject(r);
	}
	return BOARD_OK;
}

/* A pipeline of commands in the wire format, built before connecting. */
struct session_cmds {
	struct buf wire;
	size_t n;
};

/* hiredis's format: %s is one argument, as printf's would be. */
static void session_cmd(struct session_cmds *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
session_cmd(struct session_cmds *c, const char *fmt, ...)
{
	char *cmd = NULL;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = redisvFormatCommand(&cmd, fmt, ap);
	va_end(ap);
	if (len < 0) {
		log_err("session: out of memory formatting a command");
		abort();
	}
	buf_append(&c->wire, cmd, (size_t)len);
	redisFreeCommand(cmd);
	c->n++;
}

/*
 * Sends the commands and reads one reply each into r[]. A connection that
 * was already open may have gone stale (Redis restarted, a failover, an
 * idle timeout): after an I/O error on one, an idempotent pipeline is sent
 * once more on a new connection, so such events cost clients nothing.
 * On failure every r[i] is NULL and the connection dropped.
 */
static enum board_err
session_exec(struct session_store *ss, struct session_cmds *c, redisReply **r,
    const char *what, bool idempotent)
{
	enum board_err rc = BOARD_EUNAVAIL;
	size_t i;
	void *reply;

	for (i = 0; i < c->n; i++)
		r[i] = NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused = ss->redis != NULL;

		ss->io_error = false;
		if (session_store_connect(ss) != BOARD_OK)
			break;
		if (redisAppendFormattedCommand(ss->redis, c->wire.data,
		    c->wire.len) != REDIS_OK) {
			log_err("session: cannot queue a redis command");
			session_store_drop(ss);
			break;
		}
		for (i = 0; i < c->n; i++) {
			if (redisGetReply(ss->redis, &reply) != REDIS_OK)
				reply = NULL;
			r[i] = session_reply_check(ss, reply, what,
			    reused && idempotent && attempt == 0);
			if (r[i] == NULL)
				break;
		}
		if (i == c->n) {
			rc = BOARD_OK;
			break;
		}
		for (i = 0; i < c->n; i++) {
			freeReplyObject(r[i]);
			r[i] = NULL;
		}
		if (!reused || !idempotent || !ss->io_error)
			break;
	}
	buf_cleanup(&c->wire);
	c->n = 0;
	return rc;
}

enum board_err
session_store_ping(struct session_store *ss)
{
	struct session_cmds c = { { NULL, 0, 0 }, 0 };
	redisReply *r[1];

	session_cmd(&c, "PING");
	if (session_exec(ss, &c, r, "PING", true) != BOARD_OK)
		return BOARD_EUNAVAIL;
	freeReplyObject(r[0]);
	return BOARD_OK;
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
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
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
	return BOARD_OK;
}

enum board_err
session_load(struct session_store *ss, const char *sid, struct session *out)
{
	struct session_cmds c = { { NULL, 0, 0 }, 0 };
	redisReply *r[2] = { NULL, NULL };
	cJSON *doc = NULL;
	enum board_err rc;
	size_t len = strlen(sid);

	session_cleanup(out);
	if (!session_sid_is_sane(sid, len))
		return BOARD_ENOTFOUND;
	/* GET and connect-redis's touch in one round trip. */
	session_cmd(&c, "GET " SESSION_PREFIX "%s", sid);
	session_cmd(&c, "EXPIRE " SESSION_PREFIX "%s %ld", sid, ss->ttl);
	if ((rc = session_exec(ss, &c, r, "GET", true)) != BOARD_OK)
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
	if (rc == BOARD_OK)
		memcpy(out->sid, sid, len + 1);
out:
	if (rc != BOARD_OK)
		session_cleanup(out);
	cJSON_Delete(doc);
	freeReplyObject(r[0]);
	freeReplyObject(r[1]);
	return rc;
}

/* connect-redis's value: key order as express-session's Cookie.data. */
static char *
session_to_json(const struct session_store *ss, const char *user_id,
    const char *username, int64_t expires_ms)
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
	struct session_cmds c = { { NULL, 0, 0 }, 0 };
	redisReply *r[1];
	char *json = NULL;
	char sid[SECRET_ID_LEN + 1];
	int64_t expires_ms = board_now_ms() + (int64_t)ss->ttl * 1000;
	enum board_err rc;

	session_cleanup(out);
	secret_random_id(sid);
	json = session_to_json(ss, user_id, username, expires_ms);
	session_cmd(&c, "SET " SESSION_PREFIX "%s %s EX %ld", sid, json,
	    ss->ttl);
	if ((rc = session_exec(ss, &c, r, "SET", true)) != BOARD_OK)
		goto out;
	freeReplyObject(r[0]);
	memcpy(out->sid, sid, sizeof(sid));
	out->user_id = xstrdup(user_id);
	out->username = xstrdup(username);
	out->expires_ms = expires_ms;
	rc = BOARD_OK;
out:
	cJSON_free(json);
	return rc;
}

enum board_err
session_destroy(struct session_store *ss, const char *sid)
{
	struct session_cmds c = { { NULL, 0, 0 }, 0 };
	redisReply *r[1];

	session_cmd(&c, "DEL " SESSION_PREFIX "%s", sid);
	if (session_exec(ss, &c, r, "DEL", true) != BOARD_OK)
		return BOARD_EUNAVAIL;
	freeReplyObject(r[0]);
	return BOARD_OK;
}

static long
session_reply_long(const redisReply *r)
{
	if (r->type == REDIS_REPLY_INTEGER)
		return (long)r->integer;
	if (r->type == REDIS_REPLY_STRING)
		return strtol(r->str, NULL, 10);
	return 0;
}

enum board_err
session_login_check(struct session_store *ss, const char *username,
    const char *addr, long *retry_after)
{
	struct session_cmds c = { { NULL, 0, 0 }, 0 };
	redisReply *r[4] = { NULL, NULL, NULL, NULL };
	char key[CIDR_KEY_MAX];
	size_t n;
	enum board_err rc;

	*retry_after = 0;
	cidr_client_key(addr, key);	/* IPv6 clients count by /64 */
	session_cmd(&c, "GET " LOGIN_KEY_USER "%s", username);
	session_cmd(&c, "TTL " LOGIN_KEY_USER "%s", username);
	if (key[0] != '\0') {
		session_cmd(&c, "GET " LOGIN_KEY_ADDR "%s", key);
		session_cmd(&c, "TTL " LOGIN_KEY_ADDR "%s", key);
	}
	n = c.n;
	if ((rc = session_exec(ss, &c, r, "login check", true)) != BOARD_OK)
		return rc;
	for (size_t i = 0; i < n; i += 2) {
		long ttl;

		if (session_reply_long(r[i]) < ss->login_max)
			continue;
		ttl = session_reply_long(r[i + 1]);
		if (ttl <= 0)	/* no expiry (-1) should not happen */
			ttl = ttl == -1 ? ss->login_window : 1;
		if (ttl > *retry_after)
			*retry_after = ttl;
		rc = BOARD_EDENIED;
	}
	for (size_t i = 0; i < n; i++)
		freeReplyObject(r[i]);
	return rc;
}

/*
 * Counts a failure on each key, atomically giving a key its window when
 * it has none: a counter can never be left without an expiry.
 */
static const char session_fail_lua[] =
    "for i, k in ipairs(KEYS) do "
    "redis.call('INCR', k) "
    "if redis.call('TTL', k) < 0 then redis.call('EXPIRE', k, ARGV[1]) end "
    "end return 0";

enum board_err
session_login_failed(struct session_store *ss, const char *username,
    const char *addr)
{
	struct session_cmds c = { { NULL, 0, 0 }, 0 };
	redisReply *r[1];
	char key[CIDR_KEY_MAX];

	cidr_client_key(addr, key);
	if (key[0] != '\0')
		session_cmd(&c, "EVAL %s 2 " LOGIN_KEY_USER "%s "
		    LOGIN_KEY_ADDR "%s %ld", session_fail_lua, username, key,
		    ss->login_window);
	else
		session_cmd(&c, "EVAL %s 1 " LOGIN_KEY_USER "%s %ld",
		    session_fail_lua, username, ss->login_window);
	/* Not idempotent: a lost reply must not count a failure twice. */
	if (session_exec(ss, &c, r, "login count", false) != BOARD_OK)
		return BOARD_EUNAVAIL;
	freeReplyObject(r[0]);
	return BOARD_OK;
}

enum board_err
session_login_succeeded(struct session_store *ss, const char *username)
{
	struct session_cmds c = { { NULL, 0, 0 }, 0 };
	redisReply *r[1];

	session_cmd(&c, "DEL " LOGIN_KEY_USER "%s", username);
	if (session_exec(ss, &c, r, "login clear", true) != BOARD_OK)
		return BOARD_EUNAVAIL;
	freeReplyObject(r[0]);
	return BOARD_OK;
}
