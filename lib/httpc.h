/* httpc.h: outbound HTTP requests (libcurl) for AWS and instance metadata. */
#ifndef BOARD_HTTPC_H
#define BOARD_HTTPC_H

#include <stdbool.h>
#include <stddef.h>

#include "board.h"

/* Responses larger than this are refused (a secret is at most 64 KiB). */
#define HTTPC_BODY_MAX (1024 * 1024)

/* One request. Fields left zero or NULL take the defaults noted. */
struct httpc_req {
	const char *method;	/* "GET" (NULL), "PUT" or "POST" */
	const char *url;	/* http:// or https:// only; never redirected */
	const char *const *headers; /* "Name: value" lines, NULL-ended */
	const char *body;	/* POST/PUT body, body_len bytes (NULL: none) */
	size_t body_len;
	long connect_timeout_ms; /* 0: 2000 */
	long timeout_ms;	/* whole transfer; 0: 5000 */
	/*
	 * Set: sign with libcurl's AWS SigV4 ("aws:amz:REGION:SERVICE") using
	 * aws_key_id/aws_secret. libcurl 7.88 signs every entry of headers,
	 * so callers keep them to plain "Name: value" lines (no removals) and
	 * never set X-Amz-Date themselves.
	 */
	const char *aws_sigv4;
	const char *aws_key_id;
	const char *aws_secret;
	bool direct;		/* ignore http_proxy & co (instance metadata) */
};

/* A response. The body may hold secrets: httpc_resp_cleanup wipes it. */
struct httpc_resp {
	long status;		/* HTTP status; 0 when no response came */
	struct buf body;
	char *amzn_errortype;	/* X-Amzn-Errortype header, or NULL */
	bool timed_out;		/* the transfer failed by timeout */
};

void httpc_resp_init(struct httpc_resp *r);
/* Wipes the body, then frees everything; r may be reused after init. */
void httpc_resp_cleanup(struct httpc_resp *r);

/*
 * Performs req and fills resp (initialised by the caller). Any HTTP status
 * is BOARD_OK: the caller judges it. No response at all (DNS, connect,
 * TLS, timeout, oversized body) is BOARD_EUNAVAIL with *errmsg naming the
 * URL and libcurl's reason (caller frees); nothing is logged here.
 */
enum board_err httpc_do(const struct httpc_req *req, struct httpc_resp *resp,
    char **errmsg);

/*
 * May a secret travel to url? Yes over https; over plain http only when
 * the host is "localhost" or an address inside local (a list as
 * cidr_list_new() reads it, e.g. "127.0.0.0/8 ::1"): hosts whose traffic
 * does not cross a network. No for text that is not a URL.
 */
bool httpc_url_is_private(const char *url, const char *local);

#endif
