/*
 * fuzz-id.c: path ids and the request line around them. The input is
 * '\n'-separated fields: method, path, Origin, Host, SERVER_PORT,
 * Content-Type, body. It goes through responder_handle with the routes of
 * the three responders (handlers replaced by stubs that check the id the
 * way posts.c does), through http_origin_ok directly, and every field
 * through store_id_is_valid, compared with a plain re-statement of the rule.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "http.h"
#include "responder.h"
#include "store.h"
#include "fuzz.h"

static void
stub(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	(void)b; (void)rq; (void)s;
	resp_json(rs, 200, "{}", 2);
}

static void
stub_id(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	const char *id = route_tail(rq);

	(void)b; (void)s;
	FUZZ_CHECK(id != NULL && id[0] != '\0' && strchr(id, '/') == NULL);
	if (!store_id_is_valid(id))
		resp_error(rs, 404, "not_found", "No such post.", NULL);
	else
		resp_json(rs, 200, "{}", 2);
}

/* No ROUTE_SESSION: this target has no Redis to load a session from. */
static const struct route fuzz_routes[] = {
	{ "POST", "/api/auth/signup", stub, 0 },
	{ "POST", "/api/auth/login", stub, 0 },
	{ "POST", "/api/auth/logout", stub, 0 },
	{ "GET", "/api/auth/me", stub, 0 },
	{ "GET", "/api/posts", stub, 0 },
	{ "POST", "/api/posts", stub, 0 },
	{ "GET", "/api/posts/{id}", stub_id, 0 },
	{ "PATCH", "/api/posts/{id}", stub_id, 0 },
	{ "DELETE", "/api/posts/{id}", stub_id, 0 },
	{ NULL, NULL, NULL, 0 }
};

/* STORE_ID_LEN lower-case hex digits, said once more without cleverness. */
static bool
id_ok(const char *s)
{
	if (strlen(s) != STORE_ID_LEN)
		return false;
	return strspn(s, "0123456789abcdef") == STORE_ID_LEN;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? xstrdup(s) : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *p, *f[7] = { NULL };
	struct board b;
	struct req rq;
	struct resp rs;

	if (size > 65536)
		return 0;
	in = p = fuzz_cstr(data, size);
	for (size_t i = 0; i < 7; i++)
		f[i] = fuzz_field(&p);
	for (size_t i = 0; i < 7; i++)
		if (f[i] != NULL)
			FUZZ_CHECK(store_id_is_valid(f[i]) == id_ok(f[i]));

	req_init(&rq);
	resp_init(&rs);
	memset(&b, 0, sizeof(b));
	b.name = "fuzz";
	rq.method = xstrdup(f[0] != NULL ? f[0] : "GET");
	rq.path = xstrdup(f[1] != NULL ? f[1] : "/");
	rq.origin = dup_or_null(f[2]);
	rq.host = dup_or_null(f[3]);
	rq.server_port = dup_or_null(f[4]);
	rq.content_type = dup_or_null(f[5]);
	if (f[6] != NULL) {
		buf_puts(&rq.body, f[6]);
		rq.content_length = (long long)rq.body.len;
	}
	(void)http_origin_ok(&rq, false);
	(void)http_origin_ok(&rq, true);
	(void)http_is_json_type(rq.content_type);
	/* Health pings Redis and the store, which this target has not. */
	if (strcmp(rq.path, "/api/health") != 0) {
		responder_handle(&b, fuzz_routes, &rq, &rs);
		FUZZ_CHECK(rs.status >= 200 && rs.status <= 599);
		FUZZ_CHECK(rs.status != 200 || strcmp(rq.method, "GET") ==
		    0 || strcmp(rq.method, "HEAD") == 0 ||
		    http_origin_ok(&rq, b.conf.cookie_secure));
		FUZZ_CHECK(rs.headers.len == 0 ||
		    strstr(buf_cstr(&rs.headers), "\r\n\r\n") == NULL);
	}
	resp_cleanup(&rs);
	req_reset(&rq);
	buf_cleanup(&rq.body);
	free(in);
	return 0;
}
