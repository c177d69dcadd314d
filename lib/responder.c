/* responder.c: start-up, routing, the health check, shared checks. */
#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "drain.h"
#include "fcgi-io.h"
#include "log.h"
#include "responder.h"
#include "session-cookie.h"

enum board_err
board_open(struct board *b, const char *name, char **errmsg)
{
	enum board_err rc;
	enum log_level level = LOG_INFO;

	memset(b, 0, sizeof(*b));
	b->name = name;
	*errmsg = NULL;
	rc = conf_load(&b->conf, NULL, errmsg);
	if (rc != BOARD_OK)
		return rc;
	(void)log_level_parse(b->conf.log_level, &level);	/* conf checked it */
	log_init(name, level);
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
	(void)password_cost_check(&b->cost);
	rc = cidr_list_new(b->conf.trusted_proxies, &b->trusted, errmsg);
	if (rc != BOARD_OK)
		return rc;
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
	cidr_list_free(b->trusted);
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

/* Sets rs to 405 with Allow: the methods of the routes matching path. */
static void
route_not_allowed(const struct route *routes, const char *path,
    struct resp *rs)
{
	struct buf allow;

	buf_init(&allow);
	for (const struct route *r = routes; r->method != NULL; r++) {
		if (!route_match(r->path, path))
			continue;
		if (allow.len != 0)
			buf_puts(&allow, ", ");
		buf_puts(&allow, r->method);
		if (strcmp(r->method, "GET") == 0)
			buf_puts(&allow, ", HEAD");
	}
	resp_header(rs, "Allow", buf_cstr(&allow));
	resp_error_code(rs, HTTP_ERR_METHOD_NOT_ALLOWED, NULL, NULL);
	buf_cleanup(&allow);
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
	bool draining = drain_is_on(&b->conf);
	char body[128];
	int n;

	n = snprintf(body, sizeof(body),
	    "{\"status\":\"%s\",\"checks\":{\"sessions\":\"%s\","
	    "\"store\":\"%s\"}}", draining ? "draining" :
	    sess && store ? "ok" : "down",
	    sess ? "ok" : "down", store ? "ok" : "down");
	resp_json(rs, sess && store && !draining ? 200 : 503, body, (size_t)n);
}

void
responder_handle(struct board *b, const struct route *routes,
    struct req *rq, struct resp *rs)
{
	const struct route *hit = NULL;
	bool path_known = false;
	const char *method = rq->method;
	struct session sess;

	resp_reset(rs);
	session_init(&sess);
	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	if (strcmp(rq->path, "/api/health") == 0) {
		if (strcmp(method, "GET") != 0) {
			resp_header(rs, "Allow", "GET, HEAD");
			resp_error_code(rs, HTTP_ERR_METHOD_NOT_ALLOWED,
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
		if (strcmp(r->method, method) == 0) {
			hit = r;
			break;
		}
	}
	if (!path_known) {
		resp_error_code(rs, HTTP_ERR_NOT_FOUND, "No such API path.",
		    NULL);
		goto out;
	}
	if (hit == NULL) {
		/* Only now: Allow for every request was a malloc each. */
		route_not_allowed(routes, rq->path, rs);
		goto out;
	}
	if (is_state_changing(method) &&
	    !http_origin_ok(rq, b->conf.cookie_secure)) {
		resp_error_code(rs, HTTP_ERR_BAD_ORIGIN, NULL, NULL);
		goto out;
	}
	if (rq->body_too_large) {
		resp_error_code(rs, HTTP_ERR_PAYLOAD_TOO_LARGE, NULL, NULL);
		goto out;
	}
	if ((rq->body.len > 0 || rq->content_length > 0) &&
	    !http_is_json_type(rq->content_type)) {
		resp_error_code(rs, HTTP_ERR_UNSUPPORTED_MEDIA_TYPE, NULL,
		    NULL);
		goto out;
	}
	if (hit->flags & ROUTE_SESSION) {
		enum board_err rc = session_cookie_find(b->sessions,
		    b->secrets, rq, &sess);

		if (rc == BOARD_ENOTFOUND) {
			resp_error_code(rs, HTTP_ERR_UNAUTHORIZED, NULL, NULL);
			goto out;
		}
		if (rc != BOARD_OK) {
			resp_error_from(rs, rc, NULL, NULL);
			goto out;
		}
	}
	hit->fn(b, rq, hit->flags & ROUTE_SESSION ? &sess : NULL, rs);
	if (rs->status == 0)
		resp_error_from(rs, BOARD_EINTERNAL, NULL, NULL);
out:
	session_cleanup(&sess);
}

struct serve_ctx {
	struct board *b;
	const struct route *routes;
};

static void
serve_one(void *ctx, struct req *rq, struct resp *rs)
{
	struct serve_ctx *c = ctx;

	responder_handle(c->b, c->routes, rq, rs);
}

int
responder_run(const char *name, const struct route *routes, int argc,
    char **argv)
{
	static cJSON_Hooks hooks = { xmalloc, free };
	struct board b;
	struct serve_ctx ctx = { &b, routes };
	char *errmsg = NULL;
	char prog[64];

	snprintf(prog, sizeof(prog), "board-%s", name);
	log_init(prog, LOG_INFO);
	if (argc > 1)
		return drain_command(prog, argc - 1, argv + 1);
	cJSON_InitHooks(&hooks);
	if (board_open(&b, prog, &errmsg) != BOARD_OK) {
		fprintf(stderr, "%s: %s\n", prog, errmsg ? errmsg :
		    "cannot start");
		free(errmsg);
		board_close(&b);
		return 1;
	}
	if (fcgi_io_init() != BOARD_OK) {
		fprintf(stderr, "%s: standard input is not a FastCGI socket; "
		    "start it with spawn-fcgi or a front server\n", prog);
		board_close(&b);
		return 1;
	}
	log_info("responder: %s ready (store %s)", prog, b.store->ops->name);
	fcgi_io_serve(serve_one, &ctx);
	log_info("responder: %s stopping", prog);
	board_close(&b);
	return 0;
}
