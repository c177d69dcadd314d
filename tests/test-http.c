/* test-http.c: cookies, query strings, URI encoding, media types, Origin
 * checks, the API.md error bodies and client addresses behind proxies. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "tap.h"

static void
cookie_is(const char *header, const char *name, const char *want,
    const char *what)
{
	char *got = http_cookie_get(header, name);

	is_str(got, want, "cookie: %s", what);
	free(got);
}

static void
test_cookie(void)
{
	/* Expected values are what the cookie package 0.7.1 (the one
	 * express-session uses, tests/node_modules) returns for each. */
	cookie_is("a=1; board.sid=s%3Aabc.def; b=2", "board.sid", "s:abc.def",
	    "among several, percent-decoded");
	cookie_is("a=1; board.sid=s%3Aabc.def; b=2", "a", "1", "first one");
	cookie_is("a=1; board.sid=s%3Aabc.def; b=2", "b", "2", "last one");
	cookie_is("a=1;b=2", "b", "2", "no space after ';'");
	cookie_is("  board.sid =  spaced  ; x=1", "board.sid", "spaced",
	    "spaces around name and value");
	cookie_is("board.sid=first; board.sid=second", "board.sid", "first",
	    "first occurrence wins");
	cookie_is("board.sid=\"quoted\"", "board.sid", "quoted",
	    "quoted value unquoted");
	cookie_is("board.sid=\"\"", "board.sid", "", "empty quoted value");
	cookie_is("board.sid=\"unbalanced", "board.sid", "\"unbalanced",
	    "unbalanced quote kept");
	cookie_is("board.sid=%C3%A9", "board.sid", "\xc3\xa9",
	    "UTF-8 percent-decoded");
	cookie_is("board.sid=a=b", "board.sid", "a=b", "'=' in the value");
	cookie_is("foo; board.sid=v", "board.sid", "v",
	    "a pair without '=' is skipped");
	cookie_is("board.sid=", "board.sid", "", "empty value");
	cookie_is("xboard.sid=bad; board.sid=good", "board.sid", "good",
	    "prefix collision xboard.sid");
	cookie_is("board.sidx=1; board.sid=2", "board.sid", "2",
	    "prefix collision board.sidx");
	cookie_is("xboard.sid=bad", "board.sid", NULL, "only a longer name");
	cookie_is("board.si=bad", "board.sid", NULL, "only a shorter name");
	cookie_is("a=1; b=2", "board.sid", NULL, "missing");
	cookie_is("", "board.sid", NULL, "empty header");
	cookie_is(NULL, "board.sid", NULL, "no header");
	cookie_is("a=1; c=%zz", "c", "%zz", "bad escape kept as is");
	cookie_is("a=x%20y+z", "a", "x y+z", "'+' is not a space in cookies");
	cookie_is(";;; a=1 ;", "a", "1", "stray separators");
	/* Where decodeURIComponent throws (malformed escape, not UTF-8),
	 * the cookie package keeps the raw value. */
	cookie_is("a=%E0%A4%A", "a", "%E0%A4%A", "truncated escape kept raw");
	cookie_is("a=%ff", "a", "%ff", "escape giving non-UTF-8 kept raw");
	cookie_is("a=%C3%A9%", "a", "%C3%A9%", "trailing '%' keeps it all raw");
	cookie_is("a=%ED%A0%80", "a", "%ED%A0%80", "encoded surrogate raw");
	/* A decoded NUL cannot live in a C string: keep the value raw, so a
	 * signed cookie with "%00junk" appended no longer verifies (the
	 * cookie package keeps the NUL and cookie-signature refuses it). */
	cookie_is("board.sid=s%3Aid.sig%00junk", "board.sid",
	    "s%3Aid.sig%00junk", "%00 keeps the value raw");
}

/* http_cookie_get_all: want is the values joined by '|', "" for none. */
static void
cookies_are(const char *header, size_t max, const char *want,
    const char *what)
{
	char *v[8];
	size_t n = http_cookie_get_all(header, "board.sid", v, max);
	struct buf got;

	buf_init(&got);
	for (size_t i = 0; i < n; i++) {
		buf_printf(&got, "%s%s", i ? "|" : "", v[i]);
		free(v[i]);
	}
	is_str(buf_cstr(&got), want, "cookies: %s", what);
	buf_cleanup(&got);
}

static void
test_cookie_all(void)
{
	cookies_are("board.sid=a; x=1; board.sid=s%3Ab; board.sid=\"c\"", 8,
	    "a|s:b|c", "every one, in header order, decoded");
	cookies_are("board.sid=a; board.sid=b; board.sid=c", 2, "a|b",
	    "at most max");
	cookies_are("xboard.sid=a; board.sidx=b; board.sid=c", 8, "c",
	    "only the exact name");
	cookies_are("a=1; b=2", 8, "", "none");
	cookies_are("", 8, "", "empty header");
	cookies_are(NULL, 8, "", "no header");
	cookies_are(";;board.sid;board.sid= d ;", 8, "d",
	    "stray separators, a name without '='");
	cookies_are("board.sid=a", 0, "", "max 0");
}

static void
query_is(const char *q, const char *name, const char *want, bool want_dup,
    const char *what)
{
	bool dup = !want_dup;
	char *got = http_query_get(q, name, &dup);

	is_str(got, want, "query: %s", what);
	ok(dup == want_dup, "  dup is %s", want_dup ? "set" : "clear");
	free(got);
}

static void
test_query(void)
{
	query_is("limit=20&cursor=abc", "limit", "20", false, "first");
	query_is("limit=20&cursor=abc", "cursor", "abc", false, "second");
	query_is("a=hello+world%21", "a", "hello world!", false,
	    "+ is a space, %21 decoded");
	query_is("a=%2B%26%3D", "a", "+&=", false, "encoded specials");
	query_is("a=%E2%82%AC", "a", "\xe2\x82\xac", false, "UTF-8 decoded");
	query_is("my+key=1", "my key", "1", false, "the key is form-decoded");
	query_is("my%20key=1", "my key", "1", false, "key %20 decoded");
	query_is("a=1&a=2", "a", "1", true, "duplicate: first value, dup set");
	query_is("a=1&b=2&a=1", "a", "1", true, "duplicate later");
	query_is("a=", "a", "", false, "empty value");
	query_is("a", "a", "", false, "key without '='");
	query_is("b=1&a", "a", "", false, "key without '=' at the end");
	query_is("ab=1&a=2", "a", "2", false, "prefix of another key");
	query_is("a=1", "ab", NULL, false, "longer name is absent");
	query_is("x=1", "a", NULL, false, "missing");
	query_is("", "a", NULL, false, "empty query");
	query_is(NULL, "a", NULL, false, "no query");
	query_is("&&a=1&&", "a", "1", false, "stray separators");
	query_is("a=%", "a", "%", false, "lone '%' kept");
	query_is("a=%4", "a", "%4", false, "short escape kept");
	query_is("a=%41", "a", "A", false, "escape at the very end");
	query_is("=1", "", NULL, false, "an empty key is never found");
}

static void
test_uri_encode(void)
{
	/*
	 * Expected outputs made once with Node 20's encodeURIComponent:
	 *   node -e 'for (const x of [...]) console.log(
	 *       JSON.stringify(x), JSON.stringify(encodeURIComponent(x)))'
	 */
	static const struct { const char *in, *out; } cases[] = {
		{ "", "" },
		{ "hello", "hello" },
		{ "a b", "a%20b" },
		{ "a+b=c&d", "a%2Bb%3Dc%26d" },
		{ "/?#[]@!$&'()*+,;=:",
		    "%2F%3F%23%5B%5D%40!%24%26'()*%2B%2C%3B%3D%3A" },
		{ "-_.!~*'()", "-_.!~*'()" },
		{ "\xc3\xa9", "%C3%A9" },
		{ "\xe2\x82\xac", "%E2%82%AC" },
		{ "\xf0\x9f\x98\x80", "%F0%9F%98%80" },
		{ "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4",
		    "%ED%95%9C%EA%B5%AD%EC%96%B4" },
		{ "100%", "100%25" },
		{ "\"\\<>^`{|}", "%22%5C%3C%3E%5E%60%7B%7C%7D" },
		{ "\t\n\r", "%09%0A%0D" },
		{ "s:abc.def/ghi+jkl=", "s%3Aabc.def%2Fghi%2Bjkl%3D" },
		{ "AZaz09", "AZaz09" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = http_uri_encode(cases[i].in);

		is_str(got, cases[i].out, "encodeURIComponent, case %zu", i);
		free(got);
	}
	/* Round trip through the cookie decoder, as session cookies do. */
	char *enc = http_uri_encode("s:id.sig/+=");
	struct buf h;
	buf_init(&h);
	buf_printf(&h, "board.sid=%s", enc);
	char *dec = http_cookie_get(buf_cstr(&h), "board.sid");
	is_str(dec, "s:id.sig/+=", "encode then cookie-decode round trips");
	free(dec);
	free(enc);
	buf_cleanup(&h);
}

static void
test_json_type(void)
{
	ok(http_is_json_type("application/json"), "application/json");
	ok(http_is_json_type("Application/JSON"), "Application/JSON");
	ok(http_is_json_type("APPLICATION/JSON; charset=UTF-8"),
	    "upper case with charset");
	ok(http_is_json_type("application/json; charset=utf-8"),
	    "with charset");
	ok(http_is_json_type("application/json;charset=utf-8"),
	    "charset without space");
	ok(http_is_json_type("application/json ; charset=utf-8"),
	    "space before ';'");
	ok(http_is_json_type(" application/json"), "leading space");
	ok(!http_is_json_type("application/jsonx"), "application/jsonx");
	ok(!http_is_json_type("application/json-patch+json"),
	    "application/json-patch+json");
	ok(!http_is_json_type("application/ld+json"), "application/ld+json");
	ok(!http_is_json_type("application/jso"), "application/jso");
	ok(!http_is_json_type("text/plain"), "text/plain");
	ok(!http_is_json_type("text/json"), "text/json");
	ok(!http_is_json_type("application/x-www-form-urlencoded"), "form");
	ok(!http_is_json_type("multipart/form-data; boundary=x"), "multipart");
	ok(!http_is_json_type(""), "empty");
	ok(!http_is_json_type(NULL), "NULL");
}

static bool
origin_as(const char *o, const char *host, const char *port, bool https_only)
{
	struct req r;
	bool res;

	req_init(&r);
	r.origin = o ? xstrdup(o) : NULL;
	r.host = host ? xstrdup(host) : NULL;
	r.server_port = port ? xstrdup(port) : NULL;
	res = http_origin_ok(&r, https_only);
	req_reset(&r);
	buf_cleanup(&r.body);
	return res;
}

static bool
origin(const char *o, const char *host, const char *port)
{
	return origin_as(o, host, port, false);
}

/* cookie_secure: the site is https, so an http:// page is not ours. */
static void
test_origin_https_only(void)
{
	ok(origin_as(NULL, "example.com", "80", true),
	    "https only: no Origin is fine");
	ok(origin_as("https://example.com", "example.com", "443", true),
	    "https only: https Origin, bare Host");
	ok(origin_as("https://example.com", "example.com", "8080", true),
	    "https only: https Origin behind a TLS proxy on 8080");
	ok(origin_as("HTTPS://example.com:8443", "example.com:8443", "8443",
	    true), "https only: https Origin with its port");
	ok(!origin_as("http://example.com", "example.com", "80", true),
	    "https only: http Origin, bare Host (the review's case)");
	ok(!origin_as("http://example.com", "example.com", "443", true),
	    "https only: http Origin, bare Host, SERVER_PORT 443");
	ok(!origin_as("http://example.com:8080", "example.com:8080", "8080",
	    true), "https only: http Origin with the Host's own port");
	ok(!origin_as("http://127.0.0.1:8080", "127.0.0.1:8080", "8080",
	    true), "https only: http Origin on loopback");
	ok(!origin_as("https://evil.example", "example.com", "443", true),
	    "https only: another host still refused");
}

static void
test_origin(void)
{
	ok(origin(NULL, "example.com", "80"), "no Origin is fine");
	ok(origin(NULL, NULL, NULL), "no Origin and no Host is fine");
	ok(origin("http://example.com:8080", "example.com:8080", "8080"),
	    "same host:port");
	ok(origin("http://EXAMPLE.com:8080", "example.com:8080", "8080"),
	    "host compared case-insensitively");
	ok(origin("HTTP://example.com:8080", "example.com:8080", "8080"),
	    "scheme compared case-insensitively");
	ok(origin("http://localhost:8080", "localhost", "8080"),
	    "Host without port, SERVER_PORT matches (nginx $host)");
	ok(origin("http://127.0.0.1:8080", "127.0.0.1:8080", "8080"),
	    "IPv4 literal");
	ok(origin("http://example.com", "example.com", "80"),
	    "default port 80 on both sides");
	ok(origin("http://example.com", "example.com:80", "80"),
	    "Origin omits 80, Host has it");
	ok(origin("http://example.com:80", "example.com", "8000"),
	    "Origin has :80, Host omits it");
	ok(origin("https://example.com", "example.com", "443"),
	    "default port 443");
	ok(origin("https://example.com", "example.com:443", "443"),
	    "Origin omits 443, Host has it");
	ok(origin("https://example.com", "example.com", "8080"),
	    "443 behind a TLS proxy that keeps Host bare");
	ok(origin("http://[::1]:8080", "[::1]:8080", "8080"),
	    "IPv6 [::1]:8080");
	ok(origin("http://[::1]:8080", "[::1]", "8080"),
	    "IPv6 Host without port, SERVER_PORT matches");
	ok(origin("http://[::1]", "[::1]", "80"), "IPv6 default port");

	ok(!origin("http://evil.example:8080", "example.com:8080", "8080"),
	    "different host");
	ok(!origin("http://example.com.evil.example", "example.com", "80"),
	    "host with our name as prefix");
	ok(!origin("http://evilexample.com", "example.com", "80"),
	    "host with our name as suffix");
	ok(!origin("http://example.com@evil.example", "example.com", "80"),
	    "userinfo trick");
	ok(!origin("http://example.com:8081", "example.com:8080", "8080"),
	    "different port");
	ok(!origin("http://example.com:8081", "example.com", "8080"),
	    "Host without port, SERVER_PORT differs");
	ok(!origin("http://example.com", "example.com:8080", "8080"),
	    "Origin on 80, Host on 8080");
	ok(!origin("https://example.com", "example.com:80", "80"),
	    "scheme mismatch: https Origin (443) against Host :80");
	ok(!origin("http://example.com", "example.com:443", "443"),
	    "scheme mismatch: http Origin (80) against Host :443");
	ok(!origin("ftp://example.com", "example.com", "80"), "ftp scheme");
	ok(!origin("null", "example.com", "80"), "\"null\"");
	ok(!origin("", "example.com", "80"), "empty Origin");
	ok(!origin("example.com", "example.com", "80"), "no scheme");
	ok(!origin("http://", "example.com", "80"), "no host");
	ok(!origin("http://:8080", "example.com:8080", "8080"), "empty host");
	ok(!origin("http://example.com:", "example.com", "80"), "empty port");
	ok(!origin("http://example.com:80a", "example.com", "80"),
	    "non-digit port");
	ok(!origin("http://example.com:99999999999", "example.com", "80"),
	    "overlong port");
	ok(!origin("http://example.com/path", "example.com", "80"), "a path");
	ok(!origin("http://[::1", "[::1]", "80"), "unclosed bracket");
	ok(!origin("http://[::1]x", "[::1]", "80"), "junk after bracket");
	ok(!origin("http://[::2]:8080", "[::1]:8080", "8080"),
	    "different IPv6 host");
	ok(!origin("http://example.com", NULL, "80"), "Origin but no Host");
	ok(!origin("http://example.com", "", "80"), "Origin and empty Host");
	ok(origin("http://example.com", "example.com", NULL),
	    "no SERVER_PORT: defaults still match");
	ok(!origin("http://example.com:8080", "example.com", NULL),
	    "no SERVER_PORT and a non-default port");

	/* Long inputs must not overflow the fixed buffers. */
	struct buf o, h;
	buf_init(&o);
	buf_init(&h);
	buf_puts(&o, "http://");
	for (int i = 0; i < 1000; i++)
		buf_putc(&o, 'a');
	for (int i = 0; i < 1000; i++)
		buf_putc(&h, 'a');
	ok(!origin(buf_cstr(&o), buf_cstr(&h), "80"),
	    "1000-byte host refused, not overflowed");
	buf_cleanup(&o);
	buf_cleanup(&h);
}

/* Parses rs's body; checks error/message(/field). */
static void
error_body_is(const struct resp *rs, int status, const char *code,
    const char *field, const char *what)
{
	cJSON *doc = cJSON_ParseWithLength(rs->body.data, rs->body.len);
	const cJSON *e, *m, *f;

	is_int(rs->status, status, "%s: status", what);
	ok(doc != NULL && cJSON_IsObject(doc), "  body is a JSON object");
	e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	m = cJSON_GetObjectItemCaseSensitive(doc, "message");
	f = cJSON_GetObjectItemCaseSensitive(doc, "field");
	is_str(cJSON_IsString(e) ? e->valuestring : NULL, code, "  error");
	ok(cJSON_IsString(m) && m->valuestring[0] != '\0',
	    "  message is a non-empty string");
	if (field != NULL)
		is_str(cJSON_IsString(f) ? f->valuestring : NULL, field,
		    "  field");
	else
		ok(f == NULL, "  no field");
	cJSON_Delete(doc);
}

static void
test_errors(void)
{
	struct resp rs;

	resp_init(&rs);
	resp_error(&rs, 400, "invalid_field", "Say \"hi\"\n\\ \x01",
	    "title");
	error_body_is(&rs, 400, "invalid_field", "title",
	    "resp_error with quotes, newline and control char");
	cJSON *doc = cJSON_ParseWithLength(rs.body.data, rs.body.len);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "message");
	is_str(cJSON_IsString(m) ? m->valuestring : NULL,
	    "Say \"hi\"\n\\ \x01", "  message survives escaping");
	cJSON_Delete(doc);
	resp_error(&rs, 404, "not_found", "Nope.", NULL);
	error_body_is(&rs, 404, "not_found", NULL, "resp_error without field");

	static const struct {
		enum board_err err;
		int status;
		const char *code;
	} map[] = {
		{ BOARD_EINVAL, 400, "invalid_field" },
		{ BOARD_ENOTFOUND, 404, "not_found" },
		{ BOARD_EEXIST, 409, "conflict" },
		{ BOARD_EDENIED, 403, "forbidden" },
		{ BOARD_EUNAVAIL, 503, "unavailable" },
		{ BOARD_EINTERNAL, 503, "unavailable" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		resp_reset(&rs);
		resp_error_from(&rs, map[i].err, NULL, NULL);
		error_body_is(&rs, map[i].status, map[i].code, NULL,
		    board_strerror(map[i].err));
		bool retry = strstr(buf_cstr(&rs.headers), "Retry-After:") !=
		    NULL;
		ok(retry == (map[i].status == 503),
		    "  Retry-After only on 503");
	}
	resp_reset(&rs);
	resp_error_from(&rs, BOARD_EINVAL, "title is too long", "title");
	error_body_is(&rs, 400, "invalid_field", "title",
	    "resp_error_from with message and field");
	ok(strstr(rs.body.data, "title is too long") != NULL,
	    "  the given message is used");
	resp_reset(&rs);
	resp_error_from(&rs, (enum board_err)99, NULL, NULL);
	ok(rs.status == 503, "an unknown code is 503, not a crash");
	resp_reset(&rs);
	resp_error_code(&rs, HTTP_ERR_USERNAME_TAKEN, NULL, "username");
	error_body_is(&rs, 409, "username_taken", "username",
	    "resp_error_code: signup's username_taken");
	resp_reset(&rs);
	resp_error_code(&rs, HTTP_ERR_PAYLOAD_TOO_LARGE, NULL, NULL);
	error_body_is(&rs, 413, "payload_too_large", NULL,
	    "resp_error_code: payload_too_large");
	ok(strstr(buf_cstr(&rs.body), "larger than 64 KiB") != NULL,
	    "  its stock message names the limit");
	resp_reset(&rs);
	resp_error_code(&rs, (enum http_error)99, NULL, NULL);
	ok(rs.status == 503 && strstr(buf_cstr(&rs.headers),
	    "Retry-After:") != NULL,
	    "an unknown API error is 503, not a crash");

	/* Header injection. */
	resp_reset(&rs);
	resp_header(&rs, "X-Ok", "fine");
	is_str(buf_cstr(&rs.headers), "X-Ok: fine\r\n",
	    "resp_header writes a line");
	resp_reset(&rs);
	resp_header(&rs, "X-Bad", "a\r\nSet-Cookie: x=1");
	resp_header(&rs, "X-Bad", "a\nb");
	resp_header(&rs, "X-Bad", "a\rb");
	resp_header(&rs, "X-Bad\r\nX-Evil", "v");
	is_int(rs.headers.len, 0, "resp_header refuses CR/LF in name or value");

	resp_reset(&rs);
	resp_json(&rs, 201, "{\"a\":1}", 7);
	is_int(rs.status, 201, "resp_json sets the status");
	is_str(buf_cstr(&rs.body), "{\"a\":1}", "  and the body");
	resp_empty(&rs, 204);
	ok(rs.status == 204 && rs.body.len == 0, "resp_empty: 204, no body");
	resp_cleanup(&rs);
}

static void
test_req_reset(void)
{
	struct req r;

	req_init(&r);
	is_int(r.content_length, -1, "req_init: content_length -1");
	r.method = xstrdup("POST");
	r.path = xstrdup("/api/posts");
	r.cookie = xstrdup("a=b");
	r.content_length = 5;
	r.body_too_large = true;
	buf_puts(&r.body, "hello");
	req_reset(&r);
	ok(r.method == NULL && r.path == NULL && r.cookie == NULL &&
	    r.content_length == -1 && !r.body_too_large && r.body.len == 0,
	    "req_reset empties the request");
	ok(r.body.cap > 0, "  and keeps the body's capacity");
	buf_cleanup(&r.body);
}

static void
client_is(const struct cidr_list *t, const char *remote, const char *xff,
    const char *want, const char *what)
{
	struct req rq;

	req_init(&rq);
	rq.remote_addr = remote != NULL ? xstrdup(remote) : NULL;
	rq.forwarded_for = xff != NULL ? xstrdup(xff) : NULL;
	is_str(http_client_addr(&rq, t), want, "client addr: %s", what);
	req_reset(&rq);
	buf_cleanup(&rq.body);
}

static void
test_client_addr(void)
{
	struct cidr_list *t, *none;
	struct req rq;
	struct buf x;
	char *err = NULL;

	ok(cidr_list_new("10.0.0.1 10.0.0.2,::1", &t, &err) == BOARD_OK &&
	    cidr_list_new("", &none, &err) == BOARD_OK,
	    "client addr: trusted lists made");
	client_is(t, "203.0.113.5", NULL, "203.0.113.5", "no XFF");
	client_is(t, "203.0.113.5", "1.2.3.4", "203.0.113.5",
	    "untrusted REMOTE_ADDR ignores XFF");
	client_is(t, "10.0.0.10", "1.2.3.4", "10.0.0.10",
	    "a trusted address's prefix is not trusted");
	client_is(t, "10.0.0", "1.2.3.4", "10.0.0",
	    "a prefix of a trusted address is not trusted");
	client_is(t, "10.0.0.1", NULL, "10.0.0.1", "trusted, no XFF");
	client_is(t, "10.0.0.1", "", "10.0.0.1", "trusted, empty XFF");
	client_is(t, "10.0.0.1", "1.2.3.4", "1.2.3.4", "trusted takes XFF");
	client_is(t, "::1", " 1.2.3.4 ", "1.2.3.4",
	    "trusted ::1, spaces trimmed");
	client_is(t, "::1", "\t1.2.3.4\t", "1.2.3.4", "tabs trimmed");
	client_is(t, "10.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4",
	    "the right-most hop, not a forged left one");
	client_is(t, "10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.2", "1.2.3.4",
	    "trusted hops skipped from the right");
	client_is(t, "10.0.0.1", "6.6.6.6,1.2.3.4,10.0.0.2,::1", "1.2.3.4",
	    "several trusted hops, no spaces");
	client_is(t, "10.0.0.1", "10.0.0.1, 7.7.7.7", "7.7.7.7",
	    "a forged trusted hop on the left does not help");
	client_is(t, "10.0.0.1", "1.2.3.4, , ", "1.2.3.4",
	    "empty hops skipped");
	client_is(t, "10.0.0.1", ",,", "10.0.0.1",
	    "only empty hops: REMOTE_ADDR");
	client_is(t, "10.0.0.1", "10.0.0.2, ::1", "10.0.0.1",
	    "only trusted hops: REMOTE_ADDR");
	client_is(t, "10.0.0.1", "2001:db8::5", "2001:db8::5", "IPv6 hop");
	client_is(t, NULL, "1.2.3.4", "unknown", "no REMOTE_ADDR");
	client_is(none, "10.0.0.1", "1.2.3.4", "10.0.0.1",
	    "empty list: XFF ignored");
	client_is(NULL, "10.0.0.1", "1.2.3.4", "10.0.0.1",
	    "no list: XFF ignored");
	client_is(t, "::ffff:10.0.0.1", "1.2.3.4", "1.2.3.4",
	    "an IPv4-mapped proxy address is trusted");

	/* A hop longer than the static buffer is cut, never overflowed. */
	buf_init(&x);
	for (int i = 0; i < 300; i++)
		buf_putc(&x, 'a');
	req_init(&rq);
	rq.remote_addr = xstrdup("10.0.0.1");
	rq.forwarded_for = buf_steal(&x);
	const char *got = http_client_addr(&rq, t);
	ok(got != NULL && strlen(got) == 63 && strspn(got, "a") == 63,
	    "client addr: a 300-byte hop is cut to 63 bytes");
	req_reset(&rq);
	buf_cleanup(&rq.body);

	cidr_list_free(none);
	cidr_list_free(t);
}

int
main(void)
{
	test_cookie();
	test_query();
	test_uri_encode();
	test_json_type();
	test_origin();
	test_origin_https_only();
	test_cookie_all();
	test_errors();
	test_req_reset();
	test_client_addr();
	return tap_done();
}
