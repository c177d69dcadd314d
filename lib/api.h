/* api.h: request validation and JSON output shared by the responders. */
#ifndef BOARD_API_H
#define BOARD_API_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"
#include "json.h"
#include "store.h"

/* API.md limits. */
#define API_USERNAME_MIN 3
#define API_USERNAME_MAX 32
#define API_PASSWORD_MIN 8
#define API_PASSWORD_MAX 256
#define API_TITLE_MAX 200
#define API_CONTENT_MAX 20000
#define API_PAGE_SIZE 20	/* posts per page when ?limit is absent */
#define API_LIMIT_MAX 100

/*
 * Parses the request body as one JSON object into o (which needs no
 * json_obj_init first). On failure sets the 400 invalid_json response and
 * returns false (o is then empty).
 */
bool api_parse_body(const struct req *rq, struct resp *rs, struct json_obj *o);

/*
 * Reads and checks "username" and "password" (signup and login alike).
 * Borrowed pointers into o. On failure sets 400 invalid_field naming the
 * field and returns false.
 */
bool api_credentials(const struct json_obj *o, struct resp *rs,
    const char **username, const char **password, size_t *password_len);

/*
 * Reads and checks a password member named field (API.md's limits, in
 * bytes), as api_credentials() checks "password". Borrowed pointer into
 * o. On failure sets 400 invalid_field naming field and returns false.
 */
bool api_password(const struct json_obj *o, struct resp *rs,
    const char *field, const char **password, size_t *password_len);

/*
 * Sets 400 invalid_field naming field, with a message made from fmt as
 * printf does (so that limits in it come from the constants above).
 */
void api_field_error(struct resp *rs, const char *field, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* Appends {"id":..,"username":..}. */
void api_user_json(struct buf *b, const char *id, const char *username);

/* Appends a post object as API.md shows it. */
void api_post_json(struct buf *b, const struct post *p);

/* Sets the 200/201 response to a user object. */
void api_user_resp(struct resp *rs, int status, const char *id,
    const char *username);

#endif
