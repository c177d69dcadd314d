/* posts.c: board-posts, list, read, write, edit and delete posts. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "log.h"
#include "responder.h"

static void
post_resp(struct resp *rs, int status, const struct post *p)
{
	rs->status = status;
	buf_reset(&rs->body);
	api_post_json(&rs->body, p);
}

/*
 * Reads ?limit= (1..API_LIMIT_MAX, API_PAGE_SIZE when absent); false after
 * setting a 400.
 */
static bool
parse_limit(const struct req *rq, struct resp *rs, int *limit)
{
	bool dup;
	char *s = http_query_get(rq->query, "limit", &dup);
	bool okay = true;

	*limit = API_PAGE_SIZE;
	if (s != NULL || dup) {
		size_t n = s ? strlen(s) : 0;
		long v = 0;

		/* Digits only: no sign, no spaces, no "1e2", no "20abc". */
		okay = !dup && n >= 1 && n <= 3;
		for (size_t i = 0; okay && i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				okay = false;
			else
				v = v * 10 + (s[i] - '0');
		}
		okay = okay && v >= 1 && v <= API_LIMIT_MAX;
		*limit = (int)v;
	}
	free(s);
	if (!okay)
		api_field_error(rs, "limit",
		    "limit must be an integer from 1 to %d.", API_LIMIT_MAX);
	return okay;
}

/*
 * A page's answer stops growing past this many bytes of JSON: with every
 * character of a post a control character (six bytes escaped) a full page
 * of 100 would be about 6 MB, made for one cheap request. The page then
 * ends early and "next" continues after its last post (doc/API.md).
 */
#define POSTS_PAGE_BYTES_MAX (1024 * 1024)

static void
posts_list(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	struct store_cursor cur;
	struct post_list l;
	bool dup, has_cursor = false;
	char *cs;
	int limit;
	size_t sent = 0;
	enum board_err rc;

	(void)s;
	post_list_init(&l);
	if (!parse_limit(rq, rs, &limit))
		return;
	cs = http_query_get(rq->query, "cursor", &dup);
	if (cs != NULL || dup) {
		if (dup || store_cursor_decode(cs, &cur) != BOARD_OK) {
			free(cs);
			api_field_error(rs, "cursor",
			    "cursor is not one this service gave out.");
			return;
		}
		has_cursor = true;
	}
	free(cs);
	/* One more than asked for tells whether there is a next page. */
	rc = store_post_list(b->store, has_cursor ? &cur : NULL, limit + 1,
	    &l);
	if (rc != BOARD_OK) {
		resp_error_from(rs, rc, NULL, NULL);
		goto out;
	}
	rs->status = 200;
	buf_reset(&rs->body);
	buf_puts(&rs->body, "{\"posts\":[");
	/* l.n is at most limit + 1: the posts to send, then maybe one more. */
	for (size_t i = 0; i < l.n && i < (size_t)limit; i++) {
		size_t before = rs->body.len;

		if (i != 0)
			buf_putc(&rs->body, ',');
		api_post_json(&rs->body, &l.v[i]);
		/*
		 * Over the cap (less room for "next"): this post goes to the
		 * next page. The first always stays (one post is at most
		 * ~125 KB), so every page moves on and paging ends.
		 */
		if (i != 0 && rs->body.len > POSTS_PAGE_BYTES_MAX - 128) {
			rs->body.len = before;
			rs->body.data[before] = '\0';
			sent = i;
			break;
		}
		sent = i + 1;
	}
	buf_puts(&rs->body, "],\"next\":");
	if (l.n > sent) {
		const struct post *last = &l.v[sent - 1];
		struct store_cursor nc;

		nc.created_ms = last->created_ms;
		memcpy(nc.id, last->id, sizeof(nc.id));
		char *enc = store_cursor_encode(&nc);
		json_escape(&rs->body, enc, strlen(enc));
		free(enc);
	} else {
		buf_puts(&rs->body, "null");
	}
	buf_putc(&rs->body, '}');
out:
	post_list_cleanup(&l);
}

/* API.md writes the content limit with a thousands separator. */
_Static_assert(API_CONTENT_MAX >= 1000 && API_CONTENT_MAX < 1000000,
    "the content limit is written as N,NNN");

/*
 * Reads title (trimmed) and content, both required unless flags holds
 * JSON_OPTIONAL (then an absent one leaves its pointer as it was); false
 * after setting the 400 that names the field.
 */
static bool
post_fields(const struct json_obj *o, struct resp *rs, unsigned flags,
    const char **title, size_t *tlen, const char **content, size_t *clen)
{
	if (json_get_text(o, "title", 1, API_TITLE_MAX, JSON_TRIM | flags,
	    title, tlen) == BOARD_EINVAL) {
		api_field_error(rs, "title", "title must be 1 to %d characters "
		    "of text (surrounding spaces are trimmed).", API_TITLE_MAX);
		return false;
	}
	if (json_get_text(o, "content", 1, API_CONTENT_MAX, flags, content,
	    clen) == BOARD_EINVAL) {
		api_field_error(rs, "content", "content must be 1 to %d,%03d "
		    "characters of text.", API_CONTENT_MAX / 1000,
		    API_CONTENT_MAX % 1000);
		return false;
	}
	return true;
}

/* The error for a store code; a missing post is "No such post." */
static void
post_error(struct resp *rs, enum board_err rc)
{
	resp_error_from(rs, rc, rc == BOARD_ENOTFOUND ? "No such post." :
	    NULL, NULL);
}

static void
posts_create(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	struct json_obj o;
	struct post p;
	const char *title = NULL, *content = NULL;
	size_t tlen = 0, clen = 0;
	enum board_err rc;

	json_obj_init(&o);
	post_init(&p);
	if (!api_parse_body(rq, rs, &o))
		goto out;
	if (!post_fields(&o, rs, 0, &title, &tlen, &content, &clen))
		goto out;
	rc = store_post_create(b->store, s->user_id, s->username, title, tlen,
	    content, clen, board_now_ms(), &p);
	if (rc != BOARD_OK) {
		resp_error_from(rs, rc, NULL, NULL);
		goto out;
	}
	post_resp(rs, 201, &p);
out:
	post_cleanup(&p);
	json_obj_cleanup(&o);
}

static void
posts_get(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	struct post p;
	enum board_err rc;

	(void)s;
	post_init(&p);
	rc = store_post_find(b->store, route_tail(rq), false, &p);
	if (rc == BOARD_OK)
		post_resp(rs, 200, &p);
	else
		post_error(rs, rc);
	post_cleanup(&p);
}

/*
 * The post named by the path, if the signed-in user s wrote it; otherwise
 * sets 403/404/503 and returns false.
 */
static bool
own_post(struct board *b, struct req *rq, struct resp *rs,
    const struct session *s, struct post *p)
{
	enum board_err rc;

	rc = store_post_find(b->store, route_tail(rq), true, p);
	if (rc != BOARD_OK) {
		post_error(rs, rc);
		return false;
	}
	if (strcmp(p->author_id, s->user_id) != 0) {
		resp_error_code(rs, HTTP_ERR_FORBIDDEN,
		    "Only the author may change this post.", NULL);
		return false;
	}
	return true;
}

static void
posts_patch(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	struct json_obj o;
	struct post p, np;
	const char *title = NULL, *content = NULL;
	size_t tlen = 0, clen = 0;
	enum board_err rc;

	json_obj_init(&o);
	post_init(&p);
	post_init(&np);
	if (!own_post(b, rq, rs, s, &p))
		goto out;
	if (!api_parse_body(rq, rs, &o))
		goto out;
	if (!post_fields(&o, rs, JSON_OPTIONAL, &title, &tlen, &content,
	    &clen))
		goto out;
	if (title == NULL && content == NULL) {
		api_field_error(rs, "title",
		    "Send a title, a content, or both.");
		goto out;
	}
	rc = store_post_update(b->store, p.id, s->user_id, title, tlen, content,
	    clen, board_now_ms(), &np);
	if (rc != BOARD_OK)
		post_error(rs, rc);
	else
		post_resp(rs, 200, &np);
out:
	post_cleanup(&np);
	post_cleanup(&p);
	json_obj_cleanup(&o);
}

static void
posts_delete(struct board *b, struct req *rq, const struct session *s,
    struct resp *rs)
{
	struct post p;
	enum board_err rc;

	post_init(&p);
	if (!own_post(b, rq, rs, s, &p))
		goto out;
	rc = store_post_delete(b->store, p.id, s->user_id);
	if (rc == BOARD_OK || rc == BOARD_ENOTFOUND)
		resp_empty(rs, 204);	/* gone either way */
	else
		resp_error_from(rs, rc, NULL, NULL);
out:
	post_cleanup(&p);
}

static const struct route routes[] = {
	{ "GET", "/api/posts", posts_list, 0 },
	{ "POST", "/api/posts", posts_create, ROUTE_SESSION },
	{ "GET", "/api/posts/{id}", posts_get, 0 },
	{ "PATCH", "/api/posts/{id}", posts_patch, ROUTE_SESSION },
	{ "DELETE", "/api/posts/{id}", posts_delete, ROUTE_SESSION },
	{ NULL, NULL, NULL, 0 },
};

int
main(int argc, char **argv)
{
	return responder_run("posts", routes, argc, argv);
}
