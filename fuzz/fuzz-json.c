/*
 * fuzz-json.c: the request body, as the responders read it: one JSON
 * object (json_obj_parse through api_parse_body), then the API.md fields:
 * title (trimmed, 1..200 characters), content (1..20,000), username and
 * password (api_credentials). Every string accepted must be valid UTF-8
 * without NUL, within its limits, and survive json_escape and a re-parse.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "api.h"
#include "http.h"
#include "json.h"
#include "fuzz.h"

/* A field json_get_text accepted must be what the limits promise. */
static void
check_text(const char *s, size_t len, size_t min, size_t max)
{
	size_t chars;

	FUZZ_CHECK(s != NULL);
	FUZZ_CHECK(json_utf8_valid(s, len));
	FUZZ_CHECK(memchr(s, '\0', len) == NULL);
	chars = json_utf8_chars(s, len);
	FUZZ_CHECK(chars >= min && chars <= max);
	FUZZ_CHECK(len <= 4 * max);
}

/* json_escape(s) inside an object parses back to exactly s. */
static void
check_escape(const char *s, size_t len)
{
	struct json_obj o;
	const struct json_member *m;
	const char *why = NULL;
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "{\"k\":");
	json_escape(&b, s, len);
	buf_putc(&b, '}');
	FUZZ_CHECK(json_obj_parse(b.data, b.len, &o, &why) == BOARD_OK);
	m = json_obj_get(&o, "k");
	FUZZ_CHECK(m != NULL && m->type == JSON_STRING && !m->bad_string);
	FUZZ_CHECK(m->len == len && memcmp(m->str, s, len) == 0);
	json_obj_cleanup(&o);
	buf_cleanup(&b);
}

static void
fields(const struct json_obj *o)
{
	const char *s, *u, *p;
	size_t n, plen;
	enum board_err rc;
	struct resp rs;

	/* POST /api/posts: both required. */
	if (json_get_text(o, "title", 1, API_TITLE_MAX, JSON_TRIM, &s, &n) ==
	    BOARD_OK) {
		check_text(s, n, 1, API_TITLE_MAX);
		FUZZ_CHECK(s[0] != ' ' && s[n - 1] != ' ');
		check_escape(s, n);
	}
	if (json_get_text(o, "content", 1, API_CONTENT_MAX, 0, &s, &n) ==
	    BOARD_OK)
		check_text(s, n, 1, API_CONTENT_MAX);
	/* PATCH: optional, absent is ENOTFOUND. */
	rc = json_get_text(o, "title", 1, API_TITLE_MAX,
	    JSON_TRIM | JSON_OPTIONAL, &s, &n);
	FUZZ_CHECK(rc == BOARD_OK || rc == BOARD_EINVAL ||
	    rc == BOARD_ENOTFOUND);
	FUZZ_CHECK((rc == BOARD_ENOTFOUND) == (json_obj_get(o, "title") ==
	    NULL));
	rc = json_get_text(o, "content", 1, API_CONTENT_MAX, JSON_OPTIONAL,
	    &s, &n);
	FUZZ_CHECK(rc == BOARD_OK || rc == BOARD_EINVAL ||
	    rc == BOARD_ENOTFOUND);

	/* Signup and login. */
	resp_init(&rs);
	if (api_credentials(o, &rs, &u, &p, &plen)) {
		FUZZ_CHECK(rs.status == 0);
		FUZZ_CHECK(strlen(u) >= API_USERNAME_MIN &&
		    strlen(u) <= API_USERNAME_MAX);
		FUZZ_CHECK(plen >= API_PASSWORD_MIN &&
		    plen <= API_PASSWORD_MAX);
		FUZZ_CHECK(json_utf8_valid(p, plen));
		/* The user object echoes the name: it must stay JSON. */
		api_user_resp(&rs, 201, "0123456789abcdef01234567", u);
		{
			struct json_obj back;
			const char *why = NULL;

			FUZZ_CHECK(json_obj_parse(rs.body.data, rs.body.len,
			    &back, &why) == BOARD_OK);
			json_obj_cleanup(&back);
		}
	} else {
		FUZZ_CHECK(rs.status == 400);
	}
	resp_cleanup(&rs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_obj o;
	struct req rq;
	struct resp rs;

	/* The responders never see more (413 before any parsing). */
	if (size > HTTP_BODY_MAX)
		return 0;
	req_init(&rq);
	resp_init(&rs);
	buf_append(&rq.body, data, size);
	if (api_parse_body(&rq, &rs, &o)) {
		FUZZ_CHECK(rs.status == 0);
		for (size_t i = 0; i < o.n; i++) {
			const struct json_member *m = &o.v[i];

			FUZZ_CHECK(m->key != NULL);
			FUZZ_CHECK(json_obj_get(&o, m->key) == m);
			if (m->type == JSON_STRING && !m->bad_string) {
				FUZZ_CHECK(json_utf8_valid(m->str, m->len));
				check_escape(m->str, m->len);
			}
		}
		fields(&o);
		json_obj_cleanup(&o);
	} else {
		FUZZ_CHECK(rs.status == 400);
		FUZZ_CHECK(o.n == 0);
	}
	/* The parser reads exactly len bytes: no NUL needed after them. */
	{
		const char *why = NULL;
		enum board_err rc = json_obj_parse((const char *)data, size, &o,
		    &why);

		if (rc == BOARD_OK)
			json_obj_cleanup(&o);
		else
			FUZZ_CHECK(why != NULL);
	}
	resp_cleanup(&rs);
	req_reset(&rq);
	buf_cleanup(&rq.body);
	return 0;
}
