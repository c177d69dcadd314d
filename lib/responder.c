/* responder.c: start-up, the FastCGI accept loop, routing, shared checks. */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <fcgiapp.h>

#include "fcgi-io.h"
#include "log.h"
#include "responder.h"

enum board_err
board_open(struct board *b, const char *name, char **errmsg)
{
	enum board_err rc;
	static const struct { const char *name; enum log_level level; }
	    levels[] = { { "err", LOG_ERR }, { "warn", LOG_WARN },
	    { "info", LOG_INFO }, { "debug", LOG_DEBUG } };

	memset(b, 0, sizeof(*b));
	b->name = name;
	*errmsg = NULL;
	rc = conf_load(&b->conf, NULL, errmsg);
	if (rc != BOARD_OK)
		return rc;
	for (size_t i = 0; i < 4; i++)
		if (strcmp(b->conf.log_level, levels[i].name) == 0)
			log_init(name, levels[i].level);
	/*
	 * Argon2's buffer (19 MiB by default) is freed after every hash; a
	 * fixed mmap threshold keeps glibc from raising it dynamically and
	 * then holding that memory in the heap for the life of the worker.
	 */
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	if (!password_init()) {
		*errmsg = xstrdup("libsodium cannot initialize");
		return BOARD_EINTERNAL;
	}
	password_cost_from_conf(&b->conf, &b->cost);
	{
		/*
		 * OWASP's Password Storage Cheat Sheet: Argon2id with
		 * m=46 MiB t=1, 19 MiB t=2, 12 MiB t=3, 9 MiB t=4, 7 MiB t=5
		 * (p=1) at the least. Cheaper settings suit tests only.
		 */
		static const long min_kib[] = { 47104, 19456, 12288, 9216,
		    7168 };
		long t = b->conf.pwhash_ops < 5 ? b->conf.pwhash_ops : 5;

		if (t >= 1 && b->conf.pwhash_mem_kib < min_kib[t - 1])
			log_warn("password: Argon2id m=%ld KiB, t=%ld is below"
			    " OWASP's minimum (m=19456 KiB, t=2): fine for"
			    " tests, too weak for real passwords",
			    b->conf.pwhash_mem_kib, b->conf.pwhash_ops);
	}

	/* Trusted proxies: split on spaces and commas. */
	size_t n = 0;
	char *list = xstrdup(b->conf.trusted_proxies ?
	    b->conf.trusted_proxies : "");
	b->trusted = xcalloc(1, sizeof(char *));
	for (char *save = NULL, *t = strtok_r(list, " ,\t", &save); t != NULL;
	    t = strtok_r(NULL, " ,\t", &save)) {
		b->trusted = xrealloc(b->trusted, (n + 2) * sizeof(char *));
		b->trusted[n++] = xstrdup(t);
		b->trusted[n] = NULL;
	}
	free(list);

	rc = secret_source_new(&b->conf, &b->secrets, errmsg);
	if (rc != BOARD_OK)
		return rc;
	rc = session_store_new(&b->conf, &b->sessions, errmsg);
	if (rc != BOARD_OK)
		return rc;
	return store_open(&b->conf, &b->store, errmsg);
}

void
board_close(struct board *b)
{
	if (b->trusted != NULL)
		for (char **t = b->trusted; *t != NULL; t++)
			free(*t);
	free(b->trusted);
	if (b->store != NULL)
		store_close(b->store);
	session_store_free(b->sessions);
	secret_source_free(b->secrets);
	conf_cleanup(&b->conf);
	memset(b, 0, sizeof(*b));
}

const char *
route_tail(const struct req *rq)
{
	const char *s = strrchr(rq->path, '/');

	return s != NULL ? s + 1 : rq->path;
}

/* Does path match pattern? "/api/posts/{id}" matches one non-empty segment. */
static bool
route_match(const char *pattern, const char *path)
{
	size_t n = strlen(pattern);

	if (n >= 5 && strcmp(pattern + n - 5, "/{id}") == 0) {
		if (strncmp(path, pattern, n - 4) != 0)
			return false;
		path += n - 4;
		return *path != '\0' && strchr(path, '/') == NULL;
	}
	return strcmp(pattern, path) == 0;
}

static bool
is_state_changing(const char *m)
{
	return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 &&
	    strcmp(m, "OPTIONS") != 0;
}

static void
health(struct board *b, struct resp *rs)
{
	bool sess = session_store_ping(b->sessions) == BOARD_OK;
	bool store = store_ping(b->store) == BOARD_OK;
	char body[128];
	int n;

	n = snprintf(body, sizeof(body),
	    "{\"status\":\"%s\",\"checks\":{\"sessions\":\"%s\","
	    "\"store\":\"%s\"}}", sess && store ? "ok" : "down",
	    sess ? "ok" : "down", store ? "ok" : "down");
	resp_json(rs, sess && store ? 200 : 503, body, (size_t)n);
}

void
responder_handle(struct board *b, const struct route *routes,
    struct req *rq, struct resp *rs)
{
	const struct route *hit = NULL;
	bool path_known = false;
	const char *method = rq->method;
	struct buf allow;

	resp_reset(rs);
	buf_init(&allow);
	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	if (strcmp(rq->path, "/api/health") == 0) {
		if (strcmp(method, "GET") != 0) {
			resp_header(rs, "Allow", "GET, HEAD");
			resp_error(rs, 405, "method_not_allowed",
			    "Use GET for /api/health.", NULL);
		} else {
			health(b, rs);
		}
		goto out;
	}
	for (const struct route *r = routes; r->method != NULL; r++) {
		if (!route_match(r->path, rq->path))
			continue;
		path_known = true;
		if (allow.len != 0)
			buf_puts(&allow, ", ");
		buf_puts(&allow, r->method);
		if (strcmp(r->method, "GET") == 0)
			buf_puts(&allow, ", HEAD");
		if (strcmp(r->method, method) == 0)
			hit = r;
	}
	if (!path_known) {
		resp_error(rs, 404, "not_found", "No such API path.", NULL);
		goto out;
	}
	if (hit == NULL) {
		resp_header(rs, "Allow", buf_cstr(&allow));
		resp_error(rs, 405, "method_not_allowed",
		    "That method is not allowed here.", NULL);
		goto out;
	}
	if (is_state_changing(method) && !http_origin_ok(rq)) {
		resp_error(rs, 403, "bad_origin",
		    "The request's Origin does not match this site.", NULL);
		goto out;
	}
	if (rq->body_too_large) {
		resp_error(rs, 413, "payload_too_large",
		    "The request body is larger than 64 KiB.", NULL);
		goto out;
	}
	if ((rq->body.len > 0 || rq->content_length > 0) &&
	    !http_is_json_type(rq->content_type)) {
		resp_error(rs, 415, "unsupported_media_type",
		    "Send the body as application/json.", NULL);
		goto out;
	}
	hit->fn(b, rq, rs);
	if (rs->status == 0)
		resp_error_from(rs, BOARD_EINTERNAL, NULL, NULL);
out:
	buf_cleanup(&allow);
}

enum board_err
board_session(struct board *b, const struct req *rq, struct session *out)
{
	char sid[SECRET_ID_LEN + 1];
	char *raw = http_cookie_get(rq->cookie, b->conf.cookie_name);
	enum board_err rc = BOARD_ENOTFOUND;

	if (raw == NULL)
		return BOARD_ENOTFOUND;
	if (session_cookie_verify(raw, secret_source_get(b->secrets), sid) !=
	    BOARD_OK) {
		/* Maybe the secret rotated since we last read it. */
		if (!secret_source_miss(b->secrets) ||
		    session_cookie_verify(raw, secret_source_get(b->secrets),
		    sid) != BOARD_OK)
			goto out;
	}
	rc = session_load(b->sessions, sid, out);
out:
	free(raw);
	return rc;
}

bool
board_require_session(struct board *b, const struct req *rq,
    struct resp *rs, struct session *out)
{
	enum board_err rc = board_session(b, rq, out);

	if (rc == BOARD_ENOTFOUND)
		resp_error(rs, 401, "unauthorized", "You are not signed in.",
		    NULL);
	else if (rc != BOARD_OK)
		resp_error_from(rs, rc, NULL, NULL);
	return rc == BOARD_OK;
}

void
board_set_cookie(struct board *b, struct resp *rs, const struct session *s)
{
	char date[BOARD_HTTPDATE_LEN + 1];
	char *val = session_cookie_sign(s->sid, secret_source_get(b->secrets));
	struct buf h;

	board_http_date(s->expires_ms, date);
	buf_init(&h);
	buf_printf(&h, "%s=%s; Path=/; Expires=%s; HttpOnly; SameSite=Lax%s",
	    b->conf.cookie_name, val, date,
	    b->conf.cookie_secure ? "; Secure" : "");
	resp_header(rs, "Set-Cookie", buf_cstr(&h));
	buf_cleanup(&h);
	free(val);
}

void
board_clear_cookie(struct board *b, struct resp *rs)
{
	struct buf h;

	buf_init(&h);
	buf_printf(&h, "%s=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; "
	    "HttpOnly; SameSite=Lax%s", b->conf.cookie_name,
	    b->conf.cookie_secure ? "; Secure" : "");
	resp_header(rs, "Set-Cookie", buf_cstr(&h));
	buf_cleanup(&h);
}

static bool
is_trusted(struct board *b, const char *addr, size_t len)
{
	for (char **t = b->trusted; *t != NULL; t++)
		if (strlen(*t) == len && strncmp(*t, addr, len) == 0)
			return true;
	return false;
}

const char *
board_client_addr(struct board *b, const struct req *rq)
{
	static char hop[64];
	const char *addr = rq->remote_addr ? rq->remote_addr : "unknown";
	const char *xff = rq->forwarded_for;

	if (xff == NULL || !is_trusted(b, addr, strlen(addr)))
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
		if (e > s && !is_trusted(b, s, (size_t)(e - s))) {
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

static volatile sig_atomic_t stopping, in_accept;
/* libmongoc's per-process counters file, unless MONGOC_DISABLE_SHM is set:
 * its own clean-up runs at exit(), which the signal path below skips. */
static char shm_counters[64];

/*
 * Signals are blocked while a request runs, so this runs only around
 * accept(): nothing is in hand, and exiting at once avoids waiting for
 * the next connection when the signal lands just before accept() starts.
 */
static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
	if (in_accept) {
		if (shm_counters[0] != '\0')
			unlink(shm_counters);	/* async-signal-safe */
		_exit(0);
	}
}

int
responder_run(const char *name, const struct route *routes, int argc,
    char **argv)
{
	static cJSON_Hooks hooks = { xmalloc, free };
	struct board b;
	struct sigaction sa;
	sigset_t block, old;
	FCGX_Request fr;
	struct req rq;
	struct resp rs;
	char *errmsg = NULL;
	char prog[64];

	(void)argc;
	(void)argv;
	snprintf(prog, sizeof(prog), "board-%s", name);
	log_init(prog, LOG_INFO);
	cJSON_InitHooks(&hooks);
	if (board_open(&b, prog, &errmsg) != BOARD_OK) {
		fprintf(stderr, "%s: %s\n", prog, errmsg ? errmsg :
		    "cannot start");
		free(errmsg);
		board_close(&b);
		return 1;
	}
	if (FCGX_Init() != 0 || FCGX_IsCGI()) {
		fprintf(stderr, "%s: standard input is not a FastCGI socket; "
		    "start it with spawn-fcgi or a front server\n", prog);
		board_close(&b);
		return 1;
	}

	/*
	 * SIGTERM/SIGINT/SIGHUP/SIGUSR2 end the process after the request in
	 * hand: they are blocked while a request runs.
	 */
	if (getenv("MONGOC_DISABLE_SHM") == NULL)
		snprintf(shm_counters, sizeof(shm_counters),
		    "/dev/shm/mongoc-%u", (unsigned)getpid());
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* multiwatch passes USR2 on for `systemctl reload`: replace workers. */
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &old);

	FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR);
	req_init(&rq);
	resp_init(&rs);
	log_info("responder: %s ready (store %s)", prog, b.store->ops->name);
	while (!stopping) {
		int arc;

		in_accept = 1;
		sigprocmask(SIG_SETMASK, &old, NULL);
		arc = stopping ? -1 : FCGX_Accept_r(&fr);
		sigprocmask(SIG_BLOCK, &block, NULL);
		in_accept = 0;
		if (arc < 0)
			break;
		fcgi_io_read(&fr, &rq);
		responder_handle(&b, routes, &rq, &rs);
		fcgi_io_write(&fr, &rq, &rs);
		fcgi_io_finish(&fr);
		req_reset(&rq);
		resp_reset(&rs);
	}
	log_info("responder: %s stopping", prog);
	req_reset(&rq);
	buf_cleanup(&rq.body);
	resp_cleanup(&rs);
	FCGX_Free(&fr, 1);
	board_close(&b);
	return 0;
}
