/* http.c: request/response structs, cookies, query strings, error bodies. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "json.h"

void
req_init(struct req *r)
{
	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	buf_init(&r->body);
}

void
req_reset(struct req *r)
{
	free(r->method);
	free(r->path);
	free(r->query);
	free(r->content_type);
	free(r->cookie);
	free(r->origin);
	free(r->host);
	free(r->server_port);
	free(r->remote_addr);
	free(r->forwarded_for);
	/* The body may hold a password: wipe it, keep the capacity. */
	if (r->body.data != NULL)
		explicit_bzero(r->body.data, r->body.cap);
	struct buf body = r->body;
	buf_reset(&body);
	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	r->body = body;
}

void
resp_init(struct resp *r)
{
	r->status = 0;
	buf_init(&r->headers);
	buf_init(&r->body);
}

void
resp_reset(struct resp *r)
{
	r->status = 0;
	buf_reset(&r->headers);
	buf_reset(&r->body);
}

void
resp_cleanup(struct resp *r)
{
	buf_cleanup(&r->headers);
	buf_cleanup(&r->body);
}

void
resp_header(struct resp *r, const char *name, const char *value)
{
	/* Header injection guard: our values never hold CR/LF; if one ever
	 * did, drop the header rather than split the response. */
	if (strpbrk(name, "\r\n") != NULL || strpbrk(value, "\r\n") != NULL)
		return;
	buf_printf(&r->headers, "%s: %s\r\n", name, value);
}

void
resp_json(struct resp *r, int status, const char *json, size_t len)
{
	r->status = status;
	buf_reset(&r->body);
	buf_append(&r->body, json, len);
}

void
resp_empty(struct resp *r, int status)
{
	r->status = status;
	buf_reset(&r->body);
}

void
resp_error(struct resp *r, int status, const char *code, const char *message,
    const char *field)
{
	struct buf *b = &r->body;

	r->status = status;
	buf_reset(b);
	buf_puts(b, "{\"error\":");
	json_escape(b, code, strlen(code));
	buf_puts(b, ",\"message\":");
	json_escape(b, message, strlen(message));
	if (field != NULL) {
		buf_puts(b, ",\"field\":");
		json_escape(b, field, strlen(field));
	}
	buf_putc(b, '}');
}

/* Turns a number macro into a string literal. */
#define HTTP_STR(x) HTTP_STR_(x)
#define HTTP_STR_(x) #x

void
resp_error_code(struct resp *r, enum http_error e, const char *message,
    const char *field)
{
	static const struct {
		int status;
		const char *code;
		const char *message;
	} table[] = {
		[HTTP_ERR_INVALID_JSON] = { 400, "invalid_json",
		    "The body must be one JSON object." },
		[HTTP_ERR_INVALID_FIELD] = { 400, "invalid_field",
		    "A field is invalid." },
		[HTTP_ERR_UNAUTHORIZED] = { 401, "unauthorized",
		    "You are not signed in." },
		[HTTP_ERR_INVALID_CREDENTIALS] = { 401, "invalid_credentials",
		    "Unknown username or wrong password." },
		[HTTP_ERR_FORBIDDEN] = { 403, "forbidden",
		    "You are not allowed to do that." },
		[HTTP_ERR_BAD_ORIGIN] = { 403, "bad_origin",
		    "The request's Origin does not match this site." },
		[HTTP_ERR_NOT_FOUND] = { 404, "not_found", "Not found." },
		[HTTP_ERR_METHOD_NOT_ALLOWED] = { 405, "method_not_allowed",
		    "That method is not allowed here." },
		[HTTP_ERR_CONFLICT] = { 409, "conflict",
		    "That already exists." },
		[HTTP_ERR_USERNAME_TAKEN] = { 409, "username_taken",
		    "That username is taken." },
		[HTTP_ERR_PAYLOAD_TOO_LARGE] = { 413, "payload_too_large",
		    "The request body is larger than "
		    HTTP_STR(HTTP_BODY_MAX_KIB) " KiB." },
		[HTTP_ERR_UNSUPPORTED_MEDIA_TYPE] = { 415,
		    "unsupported_media_type",
		    "Send the body as application/json." },
		[HTTP_ERR_TOO_MANY_ATTEMPTS] = { 429, "too_many_attempts",
		    "Too many failed logins; wait before trying again." },
		[HTTP_ERR_UNAVAILABLE] = { 503, "unavailable",
		    "The service is unavailable; try again shortly." },
	};
	unsigned i = (unsigned)e < sizeof(table) / sizeof(table[0]) ? e :
	    HTTP_ERR_UNAVAILABLE;

	resp_error(r, table[i].status, table[i].code,
	    message != NULL ? message : table[i].message, field);
	if (table[i].status == 503)
		resp_header(r, "Retry-After", "1");
}

void
resp_error_from(struct resp *r, enum board_err err, const char *message,
    const char *field)
{
	static const enum http_error map[] = {
		/* A handler that reports success as an error is a bug. */
		[BOARD_OK] = HTTP_ERR_UNAVAILABLE,
		[BOARD_EINVAL] = HTTP_ERR_INVALID_FIELD,
		[BOARD_ENOTFOUND] = HTTP_ERR_NOT_FOUND,
		[BOARD_EEXIST] = HTTP_ERR_CONFLICT,
		[BOARD_EDENIED] = HTTP_ERR_FORBIDDEN,
		[BOARD_EUNAVAIL] = HTTP_ERR_UNAVAILABLE,
		[BOARD_EINTERNAL] = HTTP_ERR_UNAVAILABLE,
	};

	resp_error_code(r, (unsigned)err < sizeof(map) / sizeof(map[0]) ?
	    map[err] : HTTP_ERR_UNAVAILABLE, message, field);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..n); plus_space turns '+' into ' ' (forms). */
static char *
pct_decode(const char *s, size_t n, bool plus_space)
{
	char *out = xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (plus_space && s[i] == '+') {
			*o++ = ' ';
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/*
 * The cookie package decodes a value with decodeURIComponent and keeps it
 * raw when that throws (a malformed escape, or bytes that are not UTF-8).
 * A decoded NUL cannot live in a C string, so that value stays raw too:
 * then "s:<id>.<sig>%00junk" fails verification here as it does in
 * express-session, instead of being cut back to a valid signed value.
 */
static char *
cookie_decode(const char *s, size_t n)
{
	size_t escapes = 0;
	char *out;

	for (size_t i = 0; i < n; i++)
		if (s[i] == '%') {
			if (i + 2 >= n || hexval(s[i + 1]) < 0 ||
			    hexval(s[i + 2]) < 0)
				return xstrndup(s, n);
			escapes++;
			i += 2;
		}
	out = pct_decode(s, n, false);
	if (strlen(out) != n - 2 * escapes ||
	    !json_utf8_valid(out, strlen(out))) {
		free(out);
		return xstrndup(s, n);
	}
	return out;
}

/*
 * The next cookie named name in the header from *pp on: its raw value is
 * [*vp, *vep), and *pp moves past it. false when there is none.
 */
static bool
cookie_next(const char **pp, const char *name, size_t nlen, const char **vp,
    const char **vep)
{
	const char *p = *pp;

	while (*p != '\0') {
		const char *end = strchr(p, ';'), *eq, *k, *ke, *v, *ve;

		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		k = p;
		p = *end == ';' ? end + 1 : end;
		if (eq == NULL)
			continue;
		ke = eq;
		while (k < ke && (*k == ' ' || *k == '\t'))
			k++;
		while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
			ke--;
		if ((size_t)(ke - k) != nlen || memcmp(k, name, nlen) != 0)
			continue;
		v = eq + 1;
		ve = end;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
			v++;
			ve--;
		}
		*vp = v;
		*vep = ve;
		*pp = p;
		return true;
	}
	*pp = p;
	return false;
}

char *
http_cookie_get(const char *header, const char *name)
{
	const char *p = header, *v, *ve;

	if (header == NULL || !cookie_next(&p, name, strlen(name), &v, &ve))
		return NULL;
	return cookie_decode(v, (size_t)(ve - v));
}

size_t
http_cookie_get_all(const char *header, const char *name, char **out,
    size_t max)
{
	const char *p = header, *v, *ve;
	size_t n = 0, nlen = strlen(name);

	if (header == NULL)
		return 0;
	while (n < max && cookie_next(&p, name, nlen, &v, &ve))
		out[n++] = cookie_decode(v, (size_t)(ve - v));
	return n;
}

char *
http_query_get(const char *query, const char *name, bool *dup)
{
	size_t nlen = strlen(name);
	char *found = NULL;
	const char *p = query;

	*dup = false;
	if (query == NULL)
		return NULL;
	while (*p != '\0') {
		const char *end = strchr(p, '&'), *eq;

		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		const char *ke = eq != NULL ? eq : end;
		char *k = pct_decode(p, (size_t)(ke - p), true);

		if (strlen(k) == nlen && memcmp(k, name, nlen) == 0 &&
		    (size_t)(ke - p) > 0) {
			if (found != NULL) {
				*dup = true;
			} else {
				const char *v = eq != NULL ? eq + 1 : end;

				found = pct_decode(v, (size_t)(end - v), true);
			}
		}
		free(k);
		p = *end == '&' ? end + 1 : end;
	}
	return found;
}

char *
http_uri_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;

	buf_init(&b);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		/* encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) */
		if (isalnum(c) || strchr("-_.!~*'()", c) != NULL) {
			buf_putc(&b, (char)c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			buf_append(&b, e, 3);
		}
	}
	return buf_steal(&b);
}

bool
http_is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/*
 * Splits "host[:port]" (IPv6 in brackets) into its parts. Returns false for
 * an empty host. *port is "" when absent.
 */
static bool
split_hostport(const char *s, size_t n, char *host, size_t hsz, char *port,
    size_t psz)
{
	const char *colon = NULL;
	size_t hl;

	if (n > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (rb == NULL)
			return false;
		if ((size_t)(rb - s + 1) < n) {
			if (rb[1] != ':')
				return false;
			colon = rb + 1;
		}
	} else {
		colon = memchr(s, ':', n);
	}
	hl = colon != NULL ? (size_t)(colon - s) : n;
	if (hl == 0 || hl >= hsz)
		return false;
	memcpy(host, s, hl);
	host[hl] = '\0';
	port[0] = '\0';
	if (colon != NULL) {
		size_t pl = n - hl - 1;

		if (pl == 0 || pl >= psz)
			return false;
		memcpy(port, colon + 1, pl);
		port[pl] = '\0';
		for (size_t i = 0; i < pl; i++)
			if (!isdigit((unsigned char)port[i]))
				return false;
	}
	return true;
}

bool
http_origin_ok(const struct req *r, bool https_only)
{
	char oh[256], op[8], hh[256], hp[8];
	const char *o = r->origin, *def;
	size_t n;

	if (o == NULL)
		return true;
	/*
	 * Host carries no scheme, and without a port it cannot tell
	 * http://example.com from https://example.com: an http page on our
	 * name (a network attacker's, or a plain-http sibling) would pass.
	 */
	if (strncasecmp(o, "http://", 7) == 0 && !https_only) {
		def = "80";
		o += 7;
	} else if (strncasecmp(o, "https://", 8) == 0) {
		def = "443";
		o += 8;
	} else {
		return false;	/* "null" and other schemes */
	}
	n = strlen(o);
	if (n > 0 && o[n - 1] == '/')
		n--;
	if (r->host == NULL || memchr(o, '/', n) != NULL ||
	    !split_hostport(o, n, oh, sizeof(oh), op, sizeof(op)) ||
	    !split_hostport(r->host, strlen(r->host), hh, sizeof(hh), hp,
	    sizeof(hp)))
		return false;
	if (strcasecmp(oh, hh) != 0)
		return false;
	if (op[0] == '\0')
		strcpy(op, def);
	if (hp[0] != '\0')
		return strcmp(op, hp) == 0;
	/*
	 * No port in Host: either the browser omitted the scheme's default,
	 * or the front server stripped it (Debian's nginx sends $host).
	 */
	return strcmp(op, def) == 0 ||
	    (r->server_port != NULL && strcmp(op, r->server_port) == 0);
}

const char *
http_client_addr(const struct req *rq, const struct cidr_list *trusted)
{
	static char hop[64];
	const char *addr = rq->remote_addr ? rq->remote_addr : "unknown";
	const char *xff = rq->forwarded_for;

	if (xff == NULL || !cidr_list_match(trusted, addr, strlen(addr)))
		return addr;
	/* Walk X-Forwarded-For from the right: the first hop that is not
	 * one of our proxies is the client as far as we can trust. */
	const char *end = xff + strlen(xff);
	while (end > xff) {
		const char *start = end;

		while (start > xff && start[-1] != ',')
			start--;
		const char *s = start, *e = end;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > s && !cidr_list_match(trusted, s, (size_t)(e - s))) {
			size_t n = (size_t)(e - s);

			if (n >= sizeof(hop))
				n = sizeof(hop) - 1;
			memcpy(hop, s, n);
			hop[n] = '\0';
			return hop;
		}
		end = start > xff ? start - 1 : xff;
	}
	return addr;
}
