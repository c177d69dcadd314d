/* fcgi-io.c: turns a FastCGI request into struct req and struct resp back. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcgi-io.h"
#include "log.h"

/*
 * A request is lost if a worker exits between accept() and its answer, and
 * libfcgi's accept, reading the request's parameters after it, cannot be
 * told apart from the wait before it by a signal handler. So the workers
 * block their signals, wait in ppoll() (which unblocks them atomically for
 * the wait alone), and accept only after a connection is queued. Several
 * workers share the socket and all wake for one connection: the socket is
 * non-blocking so that the losers get EAGAIN from accept() and wait again
 * instead of blocking there, deaf to signals.
 */
enum board_err
fcgi_io_listen_init(void)
{
	int fl = fcntl(0, F_GETFL);

	if (fl < 0 || fcntl(0, F_SETFL, fl | O_NONBLOCK) < 0) {
		log_err("fcgi: cannot make the listening socket non-blocking:"
		    " %s", strerror(errno));
		return BOARD_EINTERNAL;
	}
	return BOARD_OK;
}

enum board_err
fcgi_io_wait(const sigset_t *mask)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };

	if (ppoll(&p, 1, NULL, mask) >= 0)
		return BOARD_OK;
	if (errno == EINTR)
		return BOARD_ENOTFOUND;
	log_err("fcgi: waiting for a connection: %s", strerror(errno));
	return BOARD_EINTERNAL;
}

static char *
param_dup(FCGX_Request *fr, const char *name)
{
	const char *v = FCGX_GetParam(name, fr->envp);

	return v != NULL ? xstrdup(v) : NULL;
}

void
fcgi_io_read(FCGX_Request *fr, struct req *rq)
{
	const char *uri = FCGX_GetParam("REQUEST_URI", fr->envp);
	const char *v;
	char chunk[8192];
	long long want;

	rq->method = param_dup(fr, "REQUEST_METHOD");
	if (rq->method == NULL)
		rq->method = xstrdup("GET");
	if (uri != NULL) {
		/* Route on REQUEST_URI: lighttpd splits SCRIPT_NAME/PATH_INFO
		 * by its config's prefixes, nginx sends no PATH_INFO. */
		const char *q = strchr(uri, '?');

		rq->path = q ? xstrndup(uri, (size_t)(q - uri)) : xstrdup(uri);
		rq->query = q ? xstrdup(q + 1) : NULL;
	} else {
		const char *sn = FCGX_GetParam("SCRIPT_NAME", fr->envp);
		const char *pi = FCGX_GetParam("PATH_INFO", fr->envp);
		struct buf b;

		buf_init(&b);
		buf_puts(&b, sn ? sn : "");
		buf_puts(&b, pi ? pi : "");
		rq->path = buf_steal(&b);
		rq->query = param_dup(fr, "QUERY_STRING");
	}
	v = FCGX_GetParam("CONTENT_TYPE", fr->envp);
	rq->content_type = v != NULL && v[0] != '\0' ? xstrdup(v) : NULL;
	v = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
	rq->content_length = -1;
	if (v != NULL && v[0] != '\0') {
		char *end;
		long long n = strtoll(v, &end, 10);

		if (*end == '\0' && n >= 0)
			rq->content_length = n;
	}
	rq->cookie = param_dup(fr, "HTTP_COOKIE");
	rq->origin = param_dup(fr, "HTTP_ORIGIN");
	rq->host = param_dup(fr, "HTTP_HOST");
	rq->server_port = param_dup(fr, "SERVER_PORT");
	rq->remote_addr = param_dup(fr, "REMOTE_ADDR");
	rq->forwarded_for = param_dup(fr, "HTTP_X_FORWARDED_FOR");
	v = FCGX_GetParam("HTTPS", fr->envp);
	rq->https = v != NULL && strcasecmp(v, "on") == 0;

	/* Read at most the cap plus one byte, whatever CONTENT_LENGTH says. */
	want = rq->content_length >= 0 ? rq->content_length : HTTP_BODY_MAX + 1;
	if (want > HTTP_BODY_MAX) {
		rq->body_too_large = rq->content_length > HTTP_BODY_MAX;
		want = HTTP_BODY_MAX + 1;
	}
	while ((long long)rq->body.len < want) {
		size_t n = sizeof(chunk);
		int got;

		if ((long long)n > want - (long long)rq->body.len)
			n = (size_t)(want - (long long)rq->body.len);
		got = FCGX_GetStr(chunk, (int)n, fr->in);
		if (got <= 0)
			break;
		buf_append(&rq->body, chunk, (size_t)got);
	}
	if (rq->body.len > HTTP_BODY_MAX) {
		rq->body_too_large = true;
		rq->body.len = HTTP_BODY_MAX;
		rq->body.data[rq->body.len] = '\0';
	}
	/* Drain the rest so the front server can finish sending it. */
	if (rq->body_too_large)
		while (FCGX_GetStr(chunk, sizeof(chunk), fr->in) > 0)
			;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

void
fcgi_io_write(FCGX_Request *fr, const struct req *rq, const struct resp *rs)
{
	bool head = rq->method != NULL && strcmp(rq->method, "HEAD") == 0;

	FCGX_FPrintF(fr->out, "Status: %d %s\r\n", rs->status,
	    reason(rs->status));
	if (rs->status != 204)
		FCGX_PutS("Content-Type: application/json; charset=utf-8\r\n",
		    fr->out);
	FCGX_PutS("Cache-Control: no-store\r\n", fr->out);
	FCGX_PutStr(buf_cstr(&rs->headers), (int)rs->headers.len, fr->out);
	if (rs->status != 204)
		/* libfcgi's own printf knows no %zu. */
		FCGX_FPrintF(fr->out, "Content-Length: %lu\r\n",
		    (unsigned long)rs->body.len);
	FCGX_PutS("\r\n", fr->out);
	if (!head && rs->status != 204)
		FCGX_PutStr(buf_cstr(&rs->body), (int)rs->body.len, fr->out);
}

void
fcgi_io_finish(FCGX_Request *fr)
{
	char chunk[512];

	/* Read to the end of FCGI_STDIN: usually just its empty last record. */
	while (FCGX_GetStr(chunk, sizeof(chunk), fr->in) > 0)
		;
	if (FCGX_HasSeenEOF(fr->in) == EOF && FCGX_GetError(fr->in) == 0)
		fr->detached = 1;	/* close(2) without the lingering wait */
	FCGX_Finish_r(fr);
}
