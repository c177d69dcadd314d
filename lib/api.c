/* api.c: the checks and JSON shapes that more than one responder needs. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api.h"

bool
api_parse_body(const struct req *rq, struct resp *rs, struct json_obj *o)
{
	const char *why = NULL;

	if (json_obj_parse(buf_cstr(&rq->body), rq->body.len, o, &why) ==
	    BOARD_OK)
		return true;
	char msg[128];
	snprintf(msg, sizeof(msg), "The body must be one JSON object (%s).",
	    why);
	resp_error_code(rs, HTTP_ERR_INVALID_JSON, msg, NULL);
	return false;
}

void
api_field_error(struct resp *rs, const char *field, const char *fmt, ...)
{
	struct buf msg;
	va_list ap;

	buf_init(&msg);
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	resp_error_code(rs, HTTP_ERR_INVALID_FIELD, buf_cstr(&msg), field);
	buf_cleanup(&msg);
}

static bool
username_ok(const char *s, size_t n)
{
	if (n < API_USERNAME_MIN || n > API_USERNAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

bool
api_credentials(const struct json_obj *o, struct resp *rs,
    const char **username, const char **password, size_t *password_len)
{
	const struct json_member *u = json_obj_get(o, "username");

	if (u == NULL || u->type != JSON_STRING || u->bad_string ||
	    strlen(u->str) != u->len || !username_ok(u->str, u->len)) {
		api_field_error(rs, "username", "username must be %d to %d "
		    "characters from A-Z a-z 0-9 _ . -", API_USERNAME_MIN,
		    API_USERNAME_MAX);
		return false;
	}
	if (!api_password(o, rs, "password", password, password_len))
		return false;
	*username = u->str;
	return true;
}

bool
api_password(const struct json_obj *o, struct resp *rs, const char *field,
    const char **password, size_t *password_len)
{
	const struct json_member *p = json_obj_get(o, field);

	/* Counted in bytes; the parser already guaranteed valid UTF-8. */
	if (p == NULL || p->type != JSON_STRING || p->bad_string ||
	    p->len < API_PASSWORD_MIN || p->len > API_PASSWORD_MAX) {
		api_field_error(rs, field, "%s must be %d to %d bytes of text",
		    field, API_PASSWORD_MIN, API_PASSWORD_MAX);
		return false;
	}
	*password = p->str;
	*password_len = p->len;
	return true;
}

void
api_user_json(struct buf *b, const char *id, const char *username)
{
	buf_puts(b, "{\"id\":");
	json_escape(b, id, strlen(id));
	buf_puts(b, ",\"username\":");
	json_escape(b, username, strlen(username));
	buf_putc(b, '}');
}

void
api_post_json(struct buf *b, const struct post *p)
{
	char c[BOARD_ISO_LEN + 1], u[BOARD_ISO_LEN + 1];

	board_iso_time(p->created_ms, c);
	board_iso_time(p->updated_ms, u);
	buf_puts(b, "{\"id\":");
	json_escape(b, p->id, strlen(p->id));
	buf_puts(b, ",\"title\":");
	json_escape(b, p->title, strlen(p->title));
	buf_puts(b, ",\"content\":");
	json_escape(b, p->content, strlen(p->content));
	buf_puts(b, ",\"author\":");
	api_user_json(b, p->author_id, p->author_name);
	buf_printf(b, ",\"createdAt\":\"%s\",\"updatedAt\":\"%s\"}", c, u);
}

void
api_user_resp(struct resp *rs, int status, const char *id,
    const char *username)
{
	rs->status = status;
	buf_reset(&rs->body);
	api_user_json(&rs->body, id, username);
}
