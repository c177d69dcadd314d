/* fcgi-io.c: the FastCGI accept loop; struct req in, struct resp out. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "fcgi-io.h"
#include "log.h"

static char *
param_dup(FCGX_Request *fr, const char *name)
{
	const char *v = FCGX_GetParam(name, fr->envp);

	return v != NULL ? xstrdup(v) : NULL;
}

/* Fills rq from a FastCGI request: the parameters API.md needs and the
 * body, up to HTTP_BODY_MAX bytes. */
static void
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

/* Writes rs as a CGI response (Status line, headers, body). HEAD requests
 * get the headers only. */
static void
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

/*
 * Ends the request. libfcgi's own close half-closes the socket and then
 * waits for the front server to close first, in case more input follows;
 * once the input stream has been read to its end nothing can follow, so
 * the connection is closed at once instead (a third of a small request's
 * system-call time in the benchmark).
 */
static void
fcgi_io_finish(FCGX_Request *fr)
{
	char chunk[512];

	/* Read to the end of FCGI_STDIN: usually just its empty last record. */
	while (FCGX_GetStr(chunk, sizeof(chunk), fr->in) > 0)
		;
	if (FCGX_HasSeenEOF(fr->in) == EOF && FCGX_GetError(fr->in) == 0)
		fr->detached = 1;	/* close(2), no lingering wait */
	FCGX_Finish_r(fr);
}

/*
 * A request is lost if a worker exits between accept() and its answer, and
 * libfcgi's accept, which reads the request's parameters after accept(2),
 * cannot be told apart from the wait before it by a signal handler. So the
 * stop signals stay blocked except inside ppoll(), which unblocks them
 * atomically for the wait alone; accept follows only once a connection is
 * queued. Several workers share the socket and all wake for one
 * connection: it is non-blocking, so that the losers get EAGAIN from
 * accept() and wait again instead of blocking there, deaf to signals.
 */
static volatile sig_atomic_t stopping;
static sigset_t stop_set, old_set;

/* Runs only inside ppoll(): the loop sees the flag after the wait. */
static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

enum board_err
fcgi_io_init(void)
{
	struct sigaction sa;
	int fl;

	if (FCGX_Init() != 0 || FCGX_IsCGI())
		return BOARD_EINVAL;
	fl = fcntl(0, F_GETFL);
	if (fl < 0 || fcntl(0, F_SETFL, fl | O_NONBLOCK) < 0) {
		log_err("fcgi: cannot make the listening socket non-blocking:"
		    " %s", strerror(errno));
		return BOARD_EINTERNAL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* multiwatch passes USR2 on for `systemctl reload`: replace workers. */
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGHUP);
	sigaddset(&stop_set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &stop_set, &old_set);
	return BOARD_OK;
}

/*
 * Waits for a queued connection with the stop signals let in for the wait
 * only. BOARD_OK: accept now; BOARD_ENOTFOUND: a signal ran instead;
 * BOARD_EINTERNAL (logged): the wait failed.
 */
static enum board_err
fcgi_io_wait(void)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };

	if (ppoll(&p, 1, NULL, &old_set) >= 0)
		return BOARD_OK;
	if (errno == EINTR)
		return BOARD_ENOTFOUND;
	log_err("fcgi: waiting for a connection: %s", strerror(errno));
	return BOARD_EINTERNAL;
}

void
fcgi_io_serve(fcgi_io_handler_fn *fn, void *ctx)
{
	FCGX_Request fr;
	struct req rq;
	struct resp rs;

	FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR);
	req_init(&rq);
	resp_init(&rs);
	while (!stopping) {
		enum board_err wrc = fcgi_io_wait();
		int arc;

		if (wrc == BOARD_ENOTFOUND)
			continue;
		if (wrc != BOARD_OK)
			break;
		arc = FCGX_Accept_r(&fr);
		if (arc == -EAGAIN || arc == -EWOULDBLOCK)
			continue;	/* another worker took it */
		if (arc < 0)
			break;
		fcgi_io_read(&fr, &rq);
		fn(ctx, &rq, &rs);
		fcgi_io_write(&fr, &rq, &rs);
		fcgi_io_finish(&fr);
		req_reset(&rq);
		resp_reset(&rs);
	}
	req_reset(&rq);
	buf_cleanup(&rq.body);
	resp_cleanup(&rs);
	FCGX_Free(&fr, 1);
}
