/* http.h: the plain request and response structs, cookies, error bodies. */
#ifndef BOARD_HTTP_H
#define BOARD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "board.h"
#include "cidr.h"

/* Request bodies above this are 413 (API.md: 65,536 allowed, 65,537 not). */
#define HTTP_BODY_MAX_KIB 64
#define HTTP_BODY_MAX (HTTP_BODY_MAX_KIB * 1024)

/*
 * One request, as the front server described it. All strings are owned by
 * the struct (filled by the FastCGI I/O module or by a test) and freed by
 * req_reset(); absent headers are NULL.
 */
struct req {
	char *method;		/* REQUEST_METHOD */
	char *path;		/* REQUEST_URI before '?', percent-decoding
				   not done */
	char *query;		/* after '?', or NULL */
	char *content_type;	/* CONTENT_TYPE; "" counts as absent */
	long long content_length; /* CONTENT_LENGTH, -1 if absent */
	char *cookie;		/* HTTP_COOKIE */
	char *origin;		/* HTTP_ORIGIN */
	char *host;		/* HTTP_HOST */
	char *server_port;	/* SERVER_PORT */
	char *remote_addr;	/* REMOTE_ADDR */
	char *forwarded_for;	/* HTTP_X_FORWARDED_FOR */
	bool https;		/* HTTPS=on */
	struct buf body;	/* at most HTTP_BODY_MAX bytes */
	bool body_too_large;	/* the client sent more than HTTP_BODY_MAX */
};

/* One response. */
struct resp {
	int status;		/* 0 until a handler sets it */
	struct buf headers;	/* extra "Name: value\r\n" lines */
	struct buf body;
};

void req_init(struct req *r);
/* Frees everything the request holds and makes it empty for reuse. */
void req_reset(struct req *r);
void resp_init(struct resp *r);
void resp_reset(struct resp *r);
void resp_cleanup(struct resp *r);

/* Adds a header line; name and value must not hold CR or LF. */
void resp_header(struct resp *r, const char *name, const char *value);

/*
 * Sets status and a JSON body (the caller's text, already serialized) with
 * the content type and Cache-Control of API.md.
 */
void resp_json(struct resp *r, int status, const char *json, size_t len);

/* A status with no body (204). */
void resp_empty(struct resp *r, int status);

/*
 * Sets an API.md error: {"error": code, "message": message} plus "field"
 * when field is not NULL. The writer under the table below: handlers use
 * resp_error_code or resp_error_from.
 */
void resp_error(struct resp *r, int status, const char *code,
    const char *message, const char *field);

/* The API.md error codes this service answers with (the front servers
 * answer invalid_request and header_too_large themselves). */
enum http_error {
	HTTP_ERR_INVALID_JSON,		/* 400 */
	HTTP_ERR_INVALID_FIELD,		/* 400 */
	HTTP_ERR_UNAUTHORIZED,		/* 401 */
	HTTP_ERR_INVALID_CREDENTIALS,	/* 401 */
	HTTP_ERR_FORBIDDEN,		/* 403 */
	HTTP_ERR_BAD_ORIGIN,		/* 403 */
	HTTP_ERR_NOT_FOUND,		/* 404 */
	HTTP_ERR_METHOD_NOT_ALLOWED,	/* 405; the caller sets Allow */
	HTTP_ERR_CONFLICT,		/* 409, an EEXIST no route maps */
	HTTP_ERR_USERNAME_TAKEN,	/* 409, signup */
	HTTP_ERR_PAYLOAD_TOO_LARGE,	/* 413 */
	HTTP_ERR_UNSUPPORTED_MEDIA_TYPE, /* 415 */
	HTTP_ERR_TOO_MANY_ATTEMPTS,	/* 429; the caller sets Retry-After */
	HTTP_ERR_UNAVAILABLE,		/* 503, with Retry-After: 1 */
};

/*
 * Sets the error e with its status and API.md code, from the one table
 * that speaks HTTP. message may be NULL for the table's stock text; field
 * names the offending field, or is NULL. 503 adds Retry-After: 1.
 */
void resp_error_code(struct resp *r, enum http_error e, const char *message,
    const char *field);

/*
 * Sets the error for a libboard code through the same table: EINVAL 400
 * invalid_field, ENOTFOUND 404 not_found, EEXIST 409 conflict, EDENIED
 * 403 forbidden, EUNAVAIL and EINTERNAL (and anything else) 503
 * unavailable. A route that gives a code a meaning of its own (signup's
 * EEXIST is username_taken) calls resp_error_code instead.
 */
void resp_error_from(struct resp *r, enum board_err err, const char *message,
    const char *field);

/*
 * Finds cookie name in a Cookie header and returns its value
 * percent-decoded (caller frees), or NULL. The first occurrence wins, as
 * in the cookie package that express-session uses.
 */
char *http_cookie_get(const char *header, const char *name);

/*
 * Every cookie name in a Cookie header, in header order, decoded as
 * http_cookie_get() does: at most max of them into out[0 .. n) (caller
 * frees each). Returns n. A browser sends several of one name when the
 * cookies differ in Domain or Path, the longest Path first.
 */
size_t http_cookie_get_all(const char *header, const char *name, char **out,
    size_t max);

/*
 * Finds a query parameter (form-decoded, caller frees) or returns NULL.
 * *dup is set when it appears more than once.
 */
char *http_query_get(const char *query, const char *name, bool *dup);

/* Percent-encodes s as encodeURIComponent does (caller frees). */
char *http_uri_encode(const char *s);

/*
 * true when the media type is application/json, compared case-insensitively,
 * parameters allowed (API.md).
 */
bool http_is_json_type(const char *content_type);

/*
 * true when the Origin header is absent or names the request's own host
 * (API.md bad_origin). Host may lack the port (Debian's nginx sends $host):
 * then the origin's port must be its scheme's default or SERVER_PORT.
 * With https_only (cookie_secure: the site is served over https, maybe
 * through a TLS proxy that keeps Host) an http:// Origin is refused.
 */
bool http_origin_ok(const struct req *r, bool https_only);

/*
 * The client's address: REMOTE_ADDR ("unknown" when absent), or, when that
 * is in trusted (NULL: none), the right-most X-Forwarded-For hop that is
 * not one (hops trimmed of spaces and tabs, empty ones skipped, cut to 63
 * bytes). Borrowed from rq, or static until the next call.
 */
const char *http_client_addr(const struct req *rq,
    const struct cidr_list *trusted);

#endif
