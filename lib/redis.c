/* redis.c: the Redis connection: REDIS_URL, pipelines, reconnecting. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>

#include "board.h"
#include "log.h"
#include "redis.h"

#define REDIS_TIMEOUT_MS	1000	/* connect and command timeout */
#define REDIS_PORT		6379	/* the protocol's registered port */

struct redis {
	char *host;		/* TCP host, or NULL for a unix socket */
	int port;
	char *path;		/* unix socket */
	char *user;		/* AUTH user (Redis 6 ACL), or NULL */
	char *password;		/* AUTH password, or NULL */
	long db;
	redisContext *ctx;	/* NULL until connected, and after errors */
	bool io_error;		/* the last failure was I/O, not a reply */
};

/* A decimal of digits only (no sign, no spaces) in [min, max]. */
static bool
redis_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* "db=N": the only query either form takes. */
static bool
redis_parse_query(const char *q, long *db)
{
	return strncmp(q, "db=", 3) == 0 &&
	    redis_parse_long(q + 3, 0, INT_MAX, db);
}

/* Every '%' starts a %XX escape: curl passes malformed ones on as text. */
static bool
redis_escapes_ok(const char *s)
{
	for (const char *p = strchr(s, '%'); p != NULL; p = strchr(p + 3, '%'))
		if (!isxdigit((unsigned char)p[1]) ||
		    !isxdigit((unsigned char)p[2]))
			return false;
	return true;
}

/*
 * A part of u, percent-decoded into *out (NULL when absent). false when
 * an escape is malformed or decodes to NUL. The copies may hold the
 * password: they are wiped.
 */
static bool
redis_url_part(CURLU *u, CURLUPart part, char **out)
{
	char *raw = NULL, *dec = NULL;
	bool good;

	*out = NULL;
	if (curl_url_get(u, part, &raw, 0) != CURLUE_OK)
		return true;
	good = redis_escapes_ok(raw) &&
	    curl_url_get(u, part, &dec, CURLU_URLDECODE) == CURLUE_OK;
	if (good)
		*out = xstrdup(dec);
	explicit_bzero(raw, strlen(raw));
	curl_free(raw);
	if (dec != NULL)
		explicit_bzero(dec, strlen(dec));
	curl_free(dec);
	return good;
}

/* unix:/path or unix:///path (p is past "unix:"), then ?db=N. */
static bool
redis_url_unix(struct redis *r, CURLU *u, const char *p, const char **why)
{
	struct buf file;
	char *query = NULL;
	bool good = false;

	if (strncmp(p, "//", 2) == 0)
		p += 2;
	if (*p != '/') {
		*why = "the socket path must be absolute";
		return false;
	}
	/*
	 * Read as a file: URL, so curl splits off the query and decodes the
	 * path; a '#' has always been part of the path, never a fragment.
	 */
	buf_init(&file);
	buf_puts(&file, "file://");
	for (; *p != '\0'; p++)
		if (*p == '#')
			buf_puts(&file, "%23");
		else
			buf_putc(&file, *p);
	*why = "bad socket path";
	if (curl_url_set(u, CURLUPART_URL, buf_cstr(&file),
	    CURLU_PATH_AS_IS | CURLU_ALLOW_SPACE) != CURLUE_OK ||
	    !redis_url_part(u, CURLUPART_PATH, &r->path) || r->path == NULL ||
	    r->path[1] == '\0')
		goto out;
	if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK &&
	    !redis_parse_query(query, &r->db)) {
		*why = "the only query allowed is ?db=N";
		goto out;
	}
	good = true;
out:
	curl_free(query);
	buf_cleanup(&file);
	return good;
}

/*
 * curl follows RFC 3986 to the letter; REDIS_URL has always been read as
 * Node's URL class (and so Node's Redis clients) reads it: the userinfo
 * ends at the authority's last '@', so a password may hold a raw '@'.
 * This escapes such '@'s for curl, makes an empty host 127.0.0.1 and
 * refuses an empty port (a trailing ':'), as the old parser did.
 */
static bool
redis_url_for_curl(const char *url, struct buf *out, const char **why)
{
	const char *auth = url + 8, *end = auth + strcspn(auth, "/?#");
	const char *host = auth, *at = NULL;

	for (const char *s = auth; s < end; s++)
		if (*s == '@')
			at = s;
	buf_append(out, url, 8);
	if (at != NULL) {
		for (const char *s = auth; s < at; s++)
			if (*s == '@')
				buf_puts(out, "%40");
			else
				buf_putc(out, *s);
		buf_putc(out, '@');
		host = at + 1;
	}
	if (end > host && end[-1] == ':') {
		*why = "bad port";
		return false;
	}
	if (host == end || *host == ':')
		buf_puts(out, "127.0.0.1");
	buf_puts(out, host);
	return true;
}

/* redis://[[user]:password@]host[:port][/db][?db=N] */
static bool
redis_url_tcp(struct redis *r, CURLU *u, const char *url, const char **why)
{
	struct buf fixed;
	char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
	bool good = false;
	long v;

	buf_init(&fixed);
	if (!redis_url_for_curl(url, &fixed, why))
		goto out;
	switch (curl_url_set(u, CURLUPART_URL, buf_cstr(&fixed),
	    CURLU_NON_SUPPORT_SCHEME | CURLU_PATH_AS_IS | CURLU_ALLOW_SPACE)) {
	case CURLUE_OK:
		break;
	case CURLUE_BAD_PORT_NUMBER:
		*why = "bad port";
		goto out;
	case CURLUE_BAD_IPV6:
		*why = strchr(url, ']') == NULL ? "unclosed [ in the host" :
		    "bad IPv6 address";
		goto out;
	default:
		*why = "bad host";
		goto out;
	}
	*why = "bad user or password encoding";
	if (!redis_url_part(u, CURLUPART_PASSWORD, &r->password))
		goto out;
	/* A user without a password is not an AUTH: it is not read. */
	if (r->password != NULL) {
		if (!redis_url_part(u, CURLUPART_USER, &r->user))
			goto out;
		if (r->user != NULL && r->user[0] == '\0') {
			free(r->user);
			r->user = NULL;
		}
		if (r->password[0] == '\0') {
			free(r->password);
			r->password = NULL;
		}
	}
	*why = "bad host";
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	/* curl keeps an IPv6 address in its brackets; hiredis wants it bare. */
	if (host[0] == '[')
		r->host = xstrndup(host + 1, strlen(host) - 2);
	else
		r->host = xstrdup(host);
	r->port = REDIS_PORT;
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
		if (!redis_parse_long(port, 1, 65535, &v)) {
			*why = "bad port";
			goto out;
		}
		r->port = (int)v;
	}
	*why = "bad database number";
	if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK ||
	    (path[1] != '\0' &&
	    !redis_parse_long(path + 1, 0, INT_MAX, &r->db)))
		goto out;
	/* Any '#' starts a fragment, even an empty one curl drops. */
	*why = "the only query allowed is ?db=N";
	if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK) {
		if (strchr(url, '#') != NULL ||
		    !redis_parse_query(query, &r->db))
			goto out;
	} else if (strchr(url, '#') != NULL) {
		*why = "unexpected text after the host";
		goto out;
	}
	good = true;
out:
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	buf_cleanup_secret(&fixed);
	return good;
}

/* Fills r from url; *why is a static description of what is wrong. */
static bool
redis_parse_url(struct redis *r, const char *url, const char **why)
{
	CURLU *u;
	bool good;

	if (strncmp(url, "rediss://", 9) == 0) {
		*why = "TLS (rediss://) is not supported; use stunnel";
		return false;
	}
	if (strncmp(url, "unix:", 5) != 0 && strncmp(url, "redis://", 8) != 0) {
		*why = "must start redis:// or unix:";
		return false;
	}
	if ((u = curl_url()) == NULL) {
		log_err("redis: out of memory parsing REDIS_URL");
		abort();
	}
	if (strncmp(url, "unix:", 5) == 0)
		good = redis_url_unix(r, u, url + 5, why);
	else
		good = redis_url_tcp(r, u, url, why);
	curl_url_cleanup(u);
	return good;
}

enum board_err
redis_new(const char *url, struct redis **out, char **errmsg)
{
	struct redis *r = xcalloc(1, sizeof(*r));
	const char *why = NULL;
	struct sigaction sa;

	*out = NULL;
	*errmsg = NULL;
	if (url == NULL || url[0] == '\0')
		url = "redis://127.0.0.1:6379";
	if (!redis_parse_url(r, url, &why)) {
		/* Never echo the URL: it may hold the password. */
		*errmsg = xasprintf("REDIS_URL: %s", why);
		redis_free(r);
		return BOARD_EINVAL;
	}
	/*
	 * hiredis writes without MSG_NOSIGNAL: a Redis that went away must
	 * give EPIPE, not kill the process.
	 */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	*out = r;
	return BOARD_OK;
}

/* Closes the connection; the next use reconnects. */
static void
redis_drop(struct redis *r)
{
	if (r->ctx != NULL) {
		redisFree(r->ctx);
		r->ctx = NULL;
	}
}

void
redis_free(struct redis *r)
{
	if (r == NULL)
		return;
	redis_drop(r);
	free(r->host);
	free(r->path);
	free(r->user);
	xfree_secret(r->password);
	free(r);
}

/*
 * How much of an error reply is safe to log. Redis quotes the arguments of
 * a command it does not know ("ERR unknown command 'AUTH', with args
 * beginning with: '<password>'"), as when an operator renamed or disabled
 * it: those are session ids and the Redis password, never to be logged.
 */
static size_t
redis_error_len(const char *s, size_t len)
{
	static const char cut[] = ", with args";

	for (size_t i = 0; i + sizeof(cut) - 1 <= len; i++)
		if (memcmp(s + i, cut, sizeof(cut) - 1) == 0)
			return i;
	return len;
}

/* The reply to a command whose only error is an I/O or error reply. */
static redisReply *
redis_reply_check(struct redis *r, redisReply *reply, const char *what,
    bool will_retry)
{
	if (reply == NULL) {
		const char *err = r->ctx->errstr[0] != '\0' ? r->ctx->errstr :
		    "connection lost";

		r->io_error = true;
		if (will_retry)
			log_info("redis: %s failed on an open connection (%s);"
			    " reconnecting", what, err);
		else
			log_warn("redis: %s failed: %s", what, err);
		redis_drop(r);
		return NULL;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		/*
		 * NOAUTH, LOADING, READONLY after a failover: a new
		 * connection is the best chance of reaching a primary.
		 */
		log_warn("redis: %s: %.*s", what,
		    (int)redis_error_len(reply->str, reply->len), reply->str);
		freeReplyObject(reply);
		redis_drop(r);
		return NULL;
	}
	return reply;
}

static enum board_err
redis_connect(struct redis *r)
{
	struct timeval tv = { REDIS_TIMEOUT_MS / 1000,
	    (REDIS_TIMEOUT_MS % 1000) * 1000 };
	redisReply *reply;

	if (r->ctx != NULL)
		return BOARD_OK;
	if (r->path != NULL)
		r->ctx = redisConnectUnixWithTimeout(r->path, tv);
	else
		r->ctx = redisConnectWithTimeout(r->host, r->port, tv);
	if (r->ctx == NULL) {
		log_err("redis: cannot allocate a connection");
		return BOARD_EUNAVAIL;
	}
	if (r->ctx->err) {
		if (r->path != NULL)
			log_warn("redis: cannot connect to %s: %s", r->path,
			    r->ctx->errstr);
		else
			log_warn("redis: cannot connect to %s:%d: %s", r->host,
			    r->port, r->ctx->errstr);
		redis_drop(r);
		return BOARD_EUNAVAIL;
	}
	if (redisSetTimeout(r->ctx, tv) != REDIS_OK)
		log_warn("redis: cannot set the timeout");
	if (r->host != NULL)
		redisEnableKeepAlive(r->ctx);
	if (r->password != NULL) {
		if (r->user != NULL)
			reply = redisCommand(r->ctx, "AUTH %s %s", r->user,
			    r->password);
		else
			reply = redisCommand(r->ctx, "AUTH %s", r->password);
		if ((reply = redis_reply_check(r, reply, "AUTH", false)) ==
		    NULL)
			return BOARD_EUNAVAIL;
		freeReplyObject(reply);
	}
	if (r->db != 0) {
		reply = redisCommand(r->ctx, "SELECT %ld", r->db);
		if ((reply = redis_reply_check(r, reply, "SELECT", false)) ==
		    NULL)
			return BOARD_EUNAVAIL;
		freeReplyObject(reply);
	}
	return BOARD_OK;
}

void
redis_cmds_init(struct redis_cmds *c)
{
	buf_init(&c->wire);
	c->n = 0;
}

void
redis_cmds_cleanup(struct redis_cmds *c)
{
	buf_cleanup(&c->wire);
	c->n = 0;
}

static void redis_cmds_vadd(struct redis_cmds *c, const char *fmt,
    va_list ap) __attribute__((format(printf, 2, 0)));

static void
redis_cmds_vadd(struct redis_cmds *c, const char *fmt, va_list ap)
{
	char *cmd = NULL;
	int len = redisvFormatCommand(&cmd, fmt, ap);

	if (len < 0) {
		log_err("redis: out of memory formatting a command");
		abort();
	}
	buf_append(&c->wire, cmd, (size_t)len);
	redisFreeCommand(cmd);
	c->n++;
}

void
redis_cmds_add(struct redis_cmds *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	redis_cmds_vadd(c, fmt, ap);
	va_end(ap);
}

enum board_err
redis_exec(struct redis *r, struct redis_cmds *c, redisReply **replies,
    const char *what, unsigned flags)
{
	bool idempotent = (flags & REDIS_EXEC_IDEMPOTENT) != 0;
	enum board_err rc = BOARD_EUNAVAIL;
	size_t i;
	void *reply;

	for (i = 0; replies != NULL && i < c->n; i++)
		replies[i] = NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused = r->ctx != NULL;

		r->io_error = false;
		if (redis_connect(r) != BOARD_OK)
			break;
		if (redisAppendFormattedCommand(r->ctx, c->wire.data,
		    c->wire.len) != REDIS_OK) {
			log_err("redis: cannot queue a command");
			redis_drop(r);
			break;
		}
		for (i = 0; i < c->n; i++) {
			if (redisGetReply(r->ctx, &reply) != REDIS_OK)
				reply = NULL;
			reply = redis_reply_check(r, reply, what,
			    reused && idempotent && attempt == 0);
			if (reply == NULL)
				break;
			if (replies != NULL)
				replies[i] = reply;
			else
				freeReplyObject(reply);
		}
		if (i == c->n) {
			rc = BOARD_OK;
			break;
		}
		for (i = 0; replies != NULL && i < c->n; i++) {
			freeReplyObject(replies[i]);
			replies[i] = NULL;
		}
		if (!reused || !idempotent || !r->io_error)
			break;
	}
	redis_cmds_cleanup(c);
	return rc;
}

enum board_err
redis_command(struct redis *r, redisReply **reply, const char *what,
    unsigned flags, const char *fmt, ...)
{
	struct redis_cmds c;
	va_list ap;

	redis_cmds_init(&c);
	va_start(ap, fmt);
	redis_cmds_vadd(&c, fmt, ap);
	va_end(ap);
	return redis_exec(r, &c, reply, what, flags);
}

enum board_err
redis_ping(struct redis *r)
{
	return redis_command(r, NULL, "PING", REDIS_EXEC_IDEMPOTENT, "PING");
}
