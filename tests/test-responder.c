/* test-responder.c: routing, the shared request checks, /api/health, client
 * addresses behind proxies, sessions by cookie and ROUTE_SESSION, and
 * api.c's helpers, all in-process against a real board (SQLite, a private
 * Redis). */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>

#include "api.h"
#include "responder.h"
#include "session-cookie.h"
#include "tap.h"
#include "test-util.h"

static char tmpdir[] = "/tmp/test-responder.XXXXXX";
static char sock[256];
static pid_t redis_pid = -1;

/* What the last handler saw. */
static const char *called;
static char seen_method[16];
static char seen_tail[64];
static size_t seen_body;
static char seen_user[64];

static void
record(const char *name, struct req *rq)
{
	called = name;
	snprintf(seen_method, sizeof(seen_method), "%s", rq->method);
	seen_body = rq->body.len;
}

static void
things_get(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	(void)b; (void)s;
	record("things_get", rq);
	resp_json(rs, 200, "{\"h\":\"get\"}", 11);
}

static void
things_post(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	(void)b; (void)s;
	record("things_post", rq);
	resp_json(rs, 201, "{\"h\":\"post\"}", 12);
}

static void
posts_list(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	(void)b; (void)s;
	record("posts_list", rq);
	resp_json(rs, 200, "[]", 2);
}

static void
post_get(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	(void)b; (void)s;
	record("post_get", rq);
	snprintf(seen_tail, sizeof(seen_tail), "%s", route_tail(rq));
	resp_json(rs, 200, "{}", 2);
}

static void
post_delete(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	(void)b; (void)s;
	record("post_delete", rq);
	snprintf(seen_tail, sizeof(seen_tail), "%s", route_tail(rq));
	resp_empty(rs, 204);
}

static void
silent(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	(void)b; (void)s; (void)rs;
	record("silent", rq);	/* forgets to answer */
}

/* A ROUTE_SESSION route: answers with whose session it was handed. */
static void
mine(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	(void)b;
	record("mine", rq);
	snprintf(seen_user, sizeof(seen_user), "%s",
	    s != NULL && s->username != NULL ? s->username : "(none)");
	resp_json(rs, 200, "{}", 2);
}

static const struct route routes[] = {
	{ "GET", "/api/things", things_get, 0 },
	{ "POST", "/api/things", things_post, 0 },
	{ "GET", "/api/posts", posts_list, 0 },
	{ "GET", "/api/posts/{id}", post_get, 0 },
	{ "DELETE", "/api/posts/{id}", post_delete, 0 },
	{ "POST", "/api/silent", silent, 0 },
	{ "GET", "/api/mine", mine, ROUTE_SESSION },
	{ "POST", "/api/mine", mine, ROUTE_SESSION },
	{ NULL, NULL, NULL, 0 }
};

static void
set(char **field, const char *v)
{
	free(*field);
	*field = v != NULL ? xstrdup(v) : NULL;
}

/* A request as lighttpd on localhost:8080 would describe it. */
static void
mkreq(struct req *rq, const char *method, const char *path)
{
	req_reset(rq);
	set(&rq->method, method);
	set(&rq->path, path);
	set(&rq->host, "localhost:8080");
	set(&rq->server_port, "8080");
	set(&rq->remote_addr, "127.0.0.1");
}

static void
body(struct req *rq, const char *ctype, const char *text)
{
	set(&rq->content_type, ctype);
	buf_puts(&rq->body, text);
	rq->content_length = (long long)strlen(text);
}

/* Runs a request; returns the status. */
static int
run(struct board *b, struct req *rq, struct resp *rs)
{
	called = NULL;
	seen_method[0] = seen_tail[0] = seen_user[0] = '\0';
	responder_handle(b, routes, rq, rs);
	return rs->status;
}

/* The "error" member of rs's JSON body (caller frees), or NULL. */
static char *
error_code(const struct resp *rs)
{
	cJSON *doc = cJSON_ParseWithLength(rs->body.data, rs->body.len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "message");
	char *code = NULL;

	if (cJSON_IsString(e) && cJSON_IsString(m))
		code = xstrdup(e->valuestring);
	cJSON_Delete(doc);
	return code;
}

#define is_error(rs, want, ...) do {				\
	char *c_ = error_code(rs);				\
	is_str(c_, want, __VA_ARGS__);				\
	free(c_);						\
} while (0)

/* A header's value in rs (caller frees), or NULL. */
static char *
header(const struct resp *rs, const char *name)
{
	const char *p = buf_cstr(&rs->headers);
	size_t n = strlen(name);

	while (*p != '\0') {
		const char *eol = strstr(p, "\r\n");

		if (eol == NULL)
			break;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return xstrndup(p + n + 2, (size_t)(eol - p - n - 2));
		p = eol + 2;
	}
	return NULL;
}

static void
test_health(struct board *b, struct board *dead)
{
	struct req rq;
	struct resp rs;
	cJSON *doc;

	req_init(&rq);
	resp_init(&rs);

	mkreq(&rq, "GET", "/api/health");
	is_int(run(b, &rq, &rs), 200, "health: 200 with Redis and SQLite up");
	doc = cJSON_ParseWithLength(rs.body.data, rs.body.len);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "status");
	const cJSON *ch = cJSON_GetObjectItemCaseSensitive(doc, "checks");
	const cJSON *se = cJSON_GetObjectItemCaseSensitive(ch, "sessions");
	const cJSON *so = cJSON_GetObjectItemCaseSensitive(ch, "store");
	is_str(cJSON_GetStringValue(st), "ok", "  status ok");
	is_str(cJSON_GetStringValue(se), "ok", "  sessions ok");
	is_str(cJSON_GetStringValue(so), "ok", "  store ok");
	cJSON_Delete(doc);

	/* Draining (drain.h): health fails, every other request is served. */
	char drain[300];
	FILE *df;

	snprintf(drain, sizeof(drain), "%s/drain", tmpdir);
	df = fopen(drain, "w");
	if (df != NULL)
		fclose(df);
	mkreq(&rq, "GET", "/api/health");
	is_int(run(b, &rq, &rs), 503, "health: 503 while the drain file is");
	doc = cJSON_ParseWithLength(rs.body.data, rs.body.len);
	st = cJSON_GetObjectItemCaseSensitive(doc, "status");
	ch = cJSON_GetObjectItemCaseSensitive(doc, "checks");
	se = cJSON_GetObjectItemCaseSensitive(ch, "sessions");
	is_str(cJSON_GetStringValue(st), "draining", "  status draining");
	is_str(cJSON_GetStringValue(se), "ok", "  the checks still reported");
	cJSON_Delete(doc);
	mkreq(&rq, "GET", "/api/things");
	is_int(run(b, &rq, &rs), 200, "  while other requests are served");
	unlink(drain);
	mkreq(&rq, "GET", "/api/health");
	is_int(run(b, &rq, &rs), 200, "health: 200 once the file is gone");

	mkreq(&rq, "HEAD", "/api/health");
	is_int(run(b, &rq, &rs), 200, "health: HEAD is GET");

	mkreq(&rq, "POST", "/api/health");
	is_int(run(b, &rq, &rs), 405, "health: POST is 405");
	char *allow = header(&rs, "Allow");
	ok(allow != NULL && strstr(allow, "GET") != NULL,
	    "  Allow lists GET: %s", allow ? allow : "(none)");
	free(allow);
	is_error(&rs, "method_not_allowed", "  method_not_allowed");

	mkreq(&rq, "GET", "/api/health");
	is_int(run(dead, &rq, &rs), 503, "health: 503 when Redis is down");
	doc = cJSON_ParseWithLength(rs.body.data, rs.body.len);
	st = cJSON_GetObjectItemCaseSensitive(doc, "status");
	ch = cJSON_GetObjectItemCaseSensitive(doc, "checks");
	se = cJSON_GetObjectItemCaseSensitive(ch, "sessions");
	so = cJSON_GetObjectItemCaseSensitive(ch, "store");
	is_str(cJSON_GetStringValue(st), "down", "  status down");
	is_str(cJSON_GetStringValue(se), "down", "  sessions down");
	is_str(cJSON_GetStringValue(so), "ok", "  store still ok");
	cJSON_Delete(doc);

	/* And again: the dead board keeps answering, it does not exit. */
	is_int(run(dead, &rq, &rs), 503, "  a second check is 503 too");

	req_reset(&rq);
	buf_cleanup(&rq.body);
	resp_cleanup(&rs);
}

static void
test_routing(struct board *b)
{
	struct req rq;
	struct resp rs;
	char *allow;

	req_init(&rq);
	resp_init(&rs);

	mkreq(&rq, "GET", "/api/things");
	is_int(run(b, &rq, &rs), 200, "GET /api/things: 200");
	is_str(called, "things_get", "  reaches its handler");

	mkreq(&rq, "HEAD", "/api/things");
	is_int(run(b, &rq, &rs), 200, "HEAD /api/things: 200");
	is_str(called, "things_get", "  reaches the GET handler");
	is_str(seen_method, "HEAD", "  which still sees HEAD");

	mkreq(&rq, "GET", "/api/nope");
	is_int(run(b, &rq, &rs), 404, "unknown path: 404");
	is_error(&rs, "not_found", "  not_found JSON");
	ok(called == NULL, "  no handler ran");

	mkreq(&rq, "GET", "/api/things/");
	is_int(run(b, &rq, &rs), 404, "trailing slash is another path: 404");
	mkreq(&rq, "GET", "/api/thing");
	is_int(run(b, &rq, &rs), 404, "a prefix of a path: 404");
	mkreq(&rq, "GET", "/api/thingss");
	is_int(run(b, &rq, &rs), 404, "a path extending a route: 404");
	mkreq(&rq, "GET", "/API/things");
	is_int(run(b, &rq, &rs), 404, "paths are case-sensitive");
	mkreq(&rq, "GET", "");
	is_int(run(b, &rq, &rs), 404, "empty path: 404");

	mkreq(&rq, "PUT", "/api/things");
	is_int(run(b, &rq, &rs), 405, "PUT /api/things: 405");
	is_error(&rs, "method_not_allowed", "  method_not_allowed JSON");
	allow = header(&rs, "Allow");
	is_str(allow, "GET, HEAD, POST", "  Allow lists the path's methods");
	free(allow);
	ok(called == NULL, "  no handler ran");

	mkreq(&rq, "get", "/api/things");
	is_int(run(b, &rq, &rs), 405, "methods are case-sensitive");

	mkreq(&rq, "GET", "/api/posts/abc123");
	is_int(run(b, &rq, &rs), 200, "GET /api/posts/{id}: 200");
	is_str(called, "post_get", "  reaches its handler");
	is_str(seen_tail, "abc123", "  route_tail is the id");
	mkreq(&rq, "DELETE", "/api/posts/x");
	is_int(run(b, &rq, &rs), 204, "DELETE /api/posts/{id}: 204");
	is_str(seen_tail, "x", "  route_tail is the id");
	mkreq(&rq, "GET", "/api/posts");
	is_int(run(b, &rq, &rs), 200, "GET /api/posts is its own route");
	is_str(called, "posts_list", "  the list handler");
	mkreq(&rq, "GET", "/api/posts/");
	is_int(run(b, &rq, &rs), 404, "/api/posts/ (empty id): 404");
	mkreq(&rq, "GET", "/api/posts/a/b");
	is_int(run(b, &rq, &rs), 404, "/api/posts/a/b (two segments): 404");
	mkreq(&rq, "GET", "/api/postsx/a");
	is_int(run(b, &rq, &rs), 404, "/api/postsx/a: 404");
	mkreq(&rq, "PATCH", "/api/posts/abc");
	is_int(run(b, &rq, &rs), 405, "PATCH /api/posts/{id}: 405");
	allow = header(&rs, "Allow");
	is_str(allow, "GET, HEAD, DELETE", "  Allow for the id route");
	free(allow);

	mkreq(&rq, "POST", "/api/silent");
	is_int(run(b, &rq, &rs), 503, "a handler that sets nothing: 503");
	is_error(&rs, "unavailable", "  unavailable JSON");

	req_reset(&rq);
	buf_cleanup(&rq.body);
	resp_cleanup(&rs);
}

static void
test_checks(struct board *b)
{
	struct req rq;
	struct resp rs;

	req_init(&rq);
	resp_init(&rs);

	mkreq(&rq, "POST", "/api/things");
	set(&rq.origin, "http://evil.example:8080");
	body(&rq, "application/json", "{}");
	is_int(run(b, &rq, &rs), 403, "POST with a foreign Origin: 403");
	is_error(&rs, "bad_origin", "  bad_origin");
	ok(called == NULL, "  no handler ran");

	mkreq(&rq, "DELETE", "/api/posts/x");
	set(&rq.origin, "http://localhost:9999");
	is_int(run(b, &rq, &rs), 403, "DELETE with another port: 403");

	mkreq(&rq, "POST", "/api/things");
	set(&rq.origin, "null");
	is_int(run(b, &rq, &rs), 403, "POST with Origin null: 403");

	mkreq(&rq, "POST", "/api/things");
	set(&rq.origin, "http://localhost:8080");
	body(&rq, "application/json", "{}");
	is_int(run(b, &rq, &rs), 201, "POST with the same Origin: 201");
	is_str(called, "things_post", "  reaches its handler");

	mkreq(&rq, "POST", "/api/things");
	set(&rq.host, "localhost");
	set(&rq.origin, "http://localhost:8080");
	body(&rq, "application/json", "{}");
	is_int(run(b, &rq, &rs), 201,
	    "same Origin, Host without port (nginx): 201");

	mkreq(&rq, "POST", "/api/things");
	body(&rq, "application/json", "{}");
	is_int(run(b, &rq, &rs), 201, "POST without Origin: 201");

	mkreq(&rq, "GET", "/api/things");
	set(&rq.origin, "http://evil.example");
	is_int(run(b, &rq, &rs), 200, "GET with a foreign Origin: 200");

	mkreq(&rq, "POST", "/api/things");
	set(&rq.content_type, "application/json");
	rq.content_length = HTTP_BODY_MAX + 1;
	rq.body_too_large = true;
	is_int(run(b, &rq, &rs), 413, "body_too_large: 413");
	is_error(&rs, "payload_too_large", "  payload_too_large");
	ok(called == NULL, "  no handler ran");

	mkreq(&rq, "POST", "/api/things");
	body(&rq, "text/plain", "{}");
	is_int(run(b, &rq, &rs), 415, "text/plain body: 415");
	is_error(&rs, "unsupported_media_type", "  unsupported_media_type");
	ok(called == NULL, "  no handler ran");

	mkreq(&rq, "POST", "/api/things");
	body(&rq, NULL, "{}");
	is_int(run(b, &rq, &rs), 415, "body without a content type: 415");

	mkreq(&rq, "POST", "/api/things");
	rq.content_length = 10;	/* announced, not (yet) read */
	is_int(run(b, &rq, &rs), 415,
	    "announced body without a content type: 415");

	mkreq(&rq, "POST", "/api/things");
	body(&rq, "Application/JSON; charset=UTF-8", "{\"a\":1}");
	is_int(run(b, &rq, &rs), 201, "Application/JSON; charset: 201");
	is_int(seen_body, 7, "  the handler sees the body");

	mkreq(&rq, "POST", "/api/things");
	is_int(run(b, &rq, &rs), 201,
	    "empty POST without a content type reaches the handler");
	is_str(called, "things_post", "  things_post");

	mkreq(&rq, "POST", "/api/things");
	rq.content_length = 0;
	is_int(run(b, &rq, &rs), 201, "Content-Length: 0 and no type: 201");

	/* The shared checks come before a route's need of a session. */
	mkreq(&rq, "GET", "/api/mine");
	is_int(run(b, &rq, &rs), 401, "ROUTE_SESSION without a cookie: 401");
	is_error(&rs, "unauthorized", "  unauthorized");
	ok(called == NULL, "  no handler ran");
	mkreq(&rq, "PUT", "/api/mine");
	is_int(run(b, &rq, &rs), 405, "  but a wrong method is 405 first");
	mkreq(&rq, "POST", "/api/mine");
	set(&rq.origin, "http://evil.example");
	is_int(run(b, &rq, &rs), 403, "  a foreign Origin is 403 first");
	mkreq(&rq, "POST", "/api/mine");
	set(&rq.content_type, "application/json");
	rq.content_length = HTTP_BODY_MAX + 1;
	rq.body_too_large = true;
	is_int(run(b, &rq, &rs), 413, "  a body too large is 413 first");
	mkreq(&rq, "POST", "/api/mine");
	body(&rq, "text/plain", "{}");
	is_int(run(b, &rq, &rs), 415, "  a text/plain body is 415 first");

	req_reset(&rq);
	buf_cleanup(&rq.body);
	resp_cleanup(&rs);
}

static void
addr_is(struct board *b, const char *remote, const char *xff,
    const char *want, const char *what)
{
	struct req rq;

	req_init(&rq);
	set(&rq.remote_addr, remote);
	set(&rq.forwarded_for, xff);
	is_str(http_client_addr(&rq, b->trusted), want, "client addr: %s",
	    what);
	req_reset(&rq);
	buf_cleanup(&rq.body);
}

/* board_open's list is BOARD_TRUSTED_PROXIES (test-http walks XFF). */
static void
test_client_addr(struct board *b)
{
	/* BOARD_TRUSTED_PROXIES="10.0.0.1 10.0.0.2,::1 192.0.2.0/28" */
	addr_is(b, "203.0.113.5", "1.2.3.4", "203.0.113.5",
	    "untrusted REMOTE_ADDR ignores XFF");
	addr_is(b, "10.0.0.1", "1.2.3.4", "1.2.3.4", "a listed address");
	addr_is(b, "10.0.0.2", "1.2.3.4", "1.2.3.4", "  and the next one");
	addr_is(b, "::1", "1.2.3.4", "1.2.3.4", "  and ::1");
	addr_is(b, "10.0.0.10", "1.2.3.4", "10.0.0.10",
	    "a listed address's prefix is not trusted");
	addr_is(b, "192.0.2.14", "1.2.3.4", "1.2.3.4",
	    "inside a trusted range");
	addr_is(b, "192.0.2.16", "1.2.3.4", "192.0.2.16",
	    "just outside a trusted range");
	addr_is(b, "192.0.2.3", "1.2.3.4, 192.0.2.9", "1.2.3.4",
	    "trusted range hops skipped");
}

static void
test_session(struct board *b)
{
	struct session s;
	struct req rq;
	struct resp rs;

	session_init(&s);
	req_init(&rq);
	resp_init(&rs);
	if (session_create(b->sessions, "user-1", "alice", &s) != BOARD_OK) {
		ok(0, "session_create on the test Redis");
		goto out;
	}
	/* The cookie's own tests are in test-session-cookie.c. */
	session_cookie_set(b->sessions, b->secrets, &rs, &s);
	char *sc = header(&rs, "Set-Cookie");

	/* Send the cookie back as a browser would. */
	char *semi = sc != NULL ? strchr(sc, ';') : NULL;
	if (semi != NULL)
		*semi = '\0';
	struct buf ck;
	buf_init(&ck);
	buf_printf(&ck, "other=1; %s; x=2", sc != NULL ? sc : "");
	free(sc);
	rq.cookie = buf_steal(&ck);

	set(&rq.method, "GET");
	set(&rq.path, "/api/mine");
	set(&rq.host, "localhost:8080");
	is_int(run(b, &rq, &rs), 200, "a ROUTE_SESSION route accepts it");
	is_str(seen_user, "alice", "  and hands the handler the session");

	/* A tampered cookie is no session. */
	char *c = rq.cookie;
	char *v = strstr(c, "board.sid=");
	if (v != NULL) {
		char *dot = strchr(v, '.');
		if (dot != NULL && dot[1] != '\0')
			dot[1] = dot[1] == 'A' ? 'B' : 'A';
	}
	is_int(run(b, &rq, &rs), 401, "a ROUTE_SESSION route: 401 for it");
	is_error(&rs, "unauthorized", "  unauthorized");
	ok(called == NULL, "  no handler ran");
	session_destroy(b->sessions, s.sid);
out:
	session_cleanup(&s);
	req_reset(&rq);
	buf_cleanup(&rq.body);
	resp_cleanup(&rs);
}

static void
test_dead_session(struct board *dead)
{
	struct req rq;
	struct resp rs;

	req_init(&rq);
	resp_init(&rs);
	/* Any well-signed cookie: the secret file is shared. */
	char *v = session_cookie_sign("abcdefghijklmnopqrstuvwxyz012345",
	    secret_source_get(dead->secrets));
	struct buf ck;
	buf_init(&ck);
	buf_printf(&ck, "board.sid=%s", v);
	free(v);
	rq.cookie = buf_steal(&ck);
	set(&rq.method, "GET");
	set(&rq.path, "/api/mine");
	is_int(run(dead, &rq, &rs), 503,
	    "Redis down: a ROUTE_SESSION route is 503, not 401");
	is_error(&rs, "unavailable", "  unavailable");
	ok(called == NULL, "  no handler ran");
	req_reset(&rq);
	buf_cleanup(&rq.body);
	resp_cleanup(&rs);
}

static void
test_api(void)
{
	struct req rq;
	struct resp rs;
	struct json_obj o;
	const char *u, *p;
	size_t plen;

	req_init(&rq);
	resp_init(&rs);

	buf_puts(&rq.body, "[1]");
	ok(!api_parse_body(&rq, &rs, &o), "api_parse_body refuses an array");
	is_int(rs.status, 400, "  400");
	is_error(&rs, "invalid_json", "  invalid_json");
	buf_reset(&rq.body);
	buf_puts(&rq.body, "{\"a\":1,\"a\":2}");
	ok(!api_parse_body(&rq, &rs, &o), "  and duplicate keys");
	buf_reset(&rq.body);
	ok(!api_parse_body(&rq, &rs, &o), "  and an empty body");

	static const struct {
		const char *json;
		bool good;
		const char *field;
		const char *what;
	} cred[] = {
		{ "{\"username\":\"alice\",\"password\":\"12345678\"}", true,
		    NULL, "good credentials" },
		{ "{\"username\":\"a_b.c-D9\",\"password\":\"12345678\"}",
		    true, NULL, "every allowed username character" },
		{ "{\"username\":\"abc\",\"password\":\"12345678\"}", true,
		    NULL, "3-character username" },
		{ "{\"username\":\"ab\",\"password\":\"12345678\"}", false,
		    "username", "2-character username" },
		{ "{\"username\":\"abcdefghijabcdefghijabcdefghijab\","
		    "\"password\":\"12345678\"}", true, NULL,
		    "32-character username" },
		{ "{\"username\":\"abcdefghijabcdefghijabcdefghijabc\","
		    "\"password\":\"12345678\"}", false, "username",
		    "33-character username" },
		{ "{\"username\":\"al ice\",\"password\":\"12345678\"}", false,
		    "username", "space in username" },
		{ "{\"username\":\"al\\u00e9ce\",\"password\":\"12345678\"}",
		    false, "username", "non-ASCII username" },
		{ "{\"username\":\"ali\\u0000ce\",\"password\":\"12345678\"}",
		    false, "username", "NUL in username" },
		{ "{\"username\":5,\"password\":\"12345678\"}", false,
		    "username", "number username" },
		{ "{\"password\":\"12345678\"}", false, "username",
		    "missing username" },
		{ "{\"username\":\"alice\",\"password\":\"1234567\"}", false,
		    "password", "7-byte password" },
		{ "{\"username\":\"alice\",\"password\":\"\\u00e9\\u00e9"
		    "\\u00e9\\u00e9\"}", true, NULL,
		    "4 characters but 8 bytes of password" },
		{ "{\"username\":\"alice\",\"password\":null}", false,
		    "password", "null password" },
		{ "{\"username\":\"alice\",\"password\":\"1234\\ud80078\"}",
		    false, "password", "lone surrogate in password" },
		{ "{\"username\":\"alice\"}", false, "password",
		    "missing password" },
	};
	for (size_t i = 0; i < sizeof(cred) / sizeof(cred[0]); i++) {
		const char *why;
		bool got;

		resp_reset(&rs);
		if (json_obj_parse(cred[i].json, strlen(cred[i].json), &o,
		    &why) != BOARD_OK) {
			ok(0, "credentials: %s parses (%s)", cred[i].what, why);
			continue;
		}
		got = api_credentials(&o, &rs, &u, &p, &plen);
		ok(got == cred[i].good, "credentials: %s %s", cred[i].what,
		    cred[i].good ? "accepted" : "refused");
		if (!cred[i].good) {
			cJSON *doc = cJSON_ParseWithLength(rs.body.data,
			    rs.body.len);
			const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc,
			    "field");
			ok(rs.status == 400 && cJSON_IsString(f) &&
			    strcmp(f->valuestring, cred[i].field) == 0,
			    "  400 naming %s", cred[i].field);
			cJSON_Delete(doc);
		}
		json_obj_cleanup(&o);
	}

	/* 256 bytes of password fine, 257 not. */
	for (int n = 256; n <= 257; n++) {
		struct buf j;
		const char *why;

		buf_init(&j);
		buf_puts(&j, "{\"username\":\"alice\",\"password\":\"");
		for (int i = 0; i < n; i++)
			buf_putc(&j, 'p');
		buf_puts(&j, "\"}");
		json_obj_parse(j.data, j.len, &o, &why);
		ok(api_credentials(&o, &rs, &u, &p, &plen) == (n == 256),
		    "credentials: %d-byte password %s", n,
		    n == 256 ? "accepted" : "refused");
		json_obj_cleanup(&o);
		buf_cleanup(&j);
	}

	struct buf b;
	buf_init(&b);
	api_user_json(&b, "id\"1", "alice");
	is_str(buf_cstr(&b), "{\"id\":\"id\\\"1\",\"username\":\"alice\"}",
	    "api_user_json escapes");
	buf_reset(&b);
	struct post post;
	memset(&post, 0, sizeof(post));
	snprintf(post.id, sizeof(post.id), "p1");
	snprintf(post.author_id, sizeof(post.author_id), "u1");
	post.title = "T \xe2\x80\xa8";
	post.content = "line1\nline2 \"q\"";
	post.author_name = "alice";
	post.created_ms = 1795613728123LL;
	post.updated_ms = 0;
	api_post_json(&b, &post);
	cJSON *doc = cJSON_Parse(buf_cstr(&b));
	ok(doc != NULL, "api_post_json is JSON");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc,
	    "content")), "line1\nline2 \"q\"", "  content round trips");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc,
	    "createdAt")), "2026-11-25T13:35:28.123Z", "  createdAt");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc,
	    "updatedAt")), "1970-01-01T00:00:00.000Z", "  updatedAt");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, "author");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a,
	    "username")), "alice", "  author.username");
	cJSON_Delete(doc);
	buf_cleanup(&b);

	api_user_resp(&rs, 201, "u1", "alice");
	ok(rs.status == 201 && strcmp(buf_cstr(&rs.body),
	    "{\"id\":\"u1\",\"username\":\"alice\"}") == 0,
	    "api_user_resp: 201 and the user object");

	buf_cleanup(&rq.body);
	resp_cleanup(&rs);
}

static bool
redis_ping(const char *path)
{
	redisContext *rc = redisConnectUnix(path);
	redisReply *r = NULL;
	bool up = false;

	if (rc != NULL && !rc->err) {
		r = redisCommand(rc, "PING");
		up = r != NULL && r->type == REDIS_REPLY_STATUS;
	}
	freeReplyObject(r);
	redisFree(rc);
	return up;
}

static bool
redis_start(void)
{
	redis_pid = fork();
	if (redis_pid < 0)
		return false;
	if (redis_pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		if (devnull >= 0) {
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		execlp("redis-server", "redis-server", "--port", "0",
		    "--unixsocket", sock, "--unixsocketperm", "700",
		    "--save", "", "--appendonly", "no", "--dir", tmpdir,
		    (char *)NULL);
		_exit(127);
	}
	/* Bounded: at most 100 tries over about 5 s. */
	for (int i = 0; i < 100; i++) {
		if (waitpid(redis_pid, NULL, WNOHANG) == redis_pid) {
			redis_pid = -1;
			return false;
		}
		if (redis_ping(sock))
			return true;
		usleep(50 * 1000);
	}
	return false;
}

static void
redis_stop(void)
{
	if (redis_pid > 0) {
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, NULL, 0);
		redis_pid = -1;
	}
}

static const char *conf_envs[] = {
	"REDIS_URL", "MONGODB_URI", "BOARD_DB", "SESSION_SECRET_NAME",
	"SESSION_SECRET_FILE", "AWS_REGION", "BOARD_SECRETS_ENDPOINT",
	"BOARD_SECRET_REFRESH", "BOARD_COOKIE_NAME", "BOARD_COOKIE_SECURE",
	"BOARD_SESSION_TTL", "BOARD_LOGIN_MAX_FAILURES", "BOARD_LOGIN_WINDOW",
	"BOARD_TRUSTED_PROXIES", "BOARD_PWHASH_OPSLIMIT",
	"BOARD_PWHASH_MEMLIMIT_KIB", "BOARD_STORE_TIMEOUT_MS",
	"BOARD_LOG_LEVEL",
};

int
main(void)
{
	struct board b, dead;
	char path[300], url[300];
	char *errmsg = NULL;
	const char *ext = getenv("BOARD_TEST_REDIS_URL");
	bool b_open = false, dead_open = false;
	FILE *f;

	if (!test_tmpdir_new(tmpdir))
		return 1;
	snprintf(sock, sizeof(sock), "%s/redis.sock", tmpdir);
	for (size_t i = 0; i < sizeof(conf_envs) / sizeof(conf_envs[0]); i++)
		unsetenv(conf_envs[i]);
	/* An empty board.conf, so no installed one is read. */
	snprintf(path, sizeof(path), "%s/board.conf", tmpdir);
	f = fopen(path, "w");
	if (f != NULL)
		fclose(f);
	setenv("BOARD_CONFIG", path, 1);
	snprintf(path, sizeof(path), "%s/board.db", tmpdir);
	setenv("BOARD_DB", path, 1);
	snprintf(path, sizeof(path), "%s/session-secret", tmpdir);
	setenv("SESSION_SECRET_FILE", path, 1);
	setenv("BOARD_TRUSTED_PROXIES", "10.0.0.1 10.0.0.2,::1 192.0.2.0/28",
	    1);
	snprintf(path, sizeof(path), "%s/drain", tmpdir);
	setenv("BOARD_DRAIN_FILE", path, 1);
	setenv("BOARD_LOG_LEVEL", "err", 1);

	if (ext != NULL && ext[0] != '\0') {
		snprintf(url, sizeof(url), "%s", ext);
	} else if (redis_start()) {
		snprintf(url, sizeof(url), "unix:%s", sock);
	} else {
		ok(0, "redis-server starts (is it installed?)");
		goto out;
	}
	setenv("REDIS_URL", url, 1);
	b_open = true;	/* board_close undoes a partial open too */
	is_int(board_open(&b, "test", &errmsg), BOARD_OK,
	    "board_open with SQLite, a secret file and Redis");
	if (errmsg != NULL)
		diag("  %s", errmsg);
	free(errmsg);
	errmsg = NULL;

	/* The same, with Redis at a socket nobody listens on. */
	snprintf(url, sizeof(url), "unix:%s/dead.sock", tmpdir);
	setenv("REDIS_URL", url, 1);
	dead_open = true;
	is_int(board_open(&dead, "test", &errmsg), BOARD_OK,
	    "board_open with Redis down still starts");
	if (errmsg != NULL)
		diag("  %s", errmsg);
	free(errmsg);
	if (b.store == NULL || dead.store == NULL)
		goto out;	/* already reported */

	test_health(&b, &dead);
	test_routing(&b);
	test_checks(&b);
	test_client_addr(&b);
	test_session(&b);
	test_dead_session(&dead);
	test_api();
out:
	if (b_open)
		board_close(&b);
	if (dead_open)
		board_close(&dead);
	redis_stop();
	test_tmpdir_remove(tmpdir);
	return tap_done();
}
