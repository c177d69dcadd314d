/* json.h: strict parsing of request bodies, typed getters with limits. */
#ifndef BOARD_JSON_H
#define BOARD_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "board.h"

/* Nesting deeper than this is invalid_json. */
#define JSON_DEPTH_MAX 32

enum json_type {
	JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING,
	JSON_ARRAY, JSON_OBJECT,
};

/* A top-level member of the request object. */
struct json_member {
	char *key;		/* decoded, NUL-free (else the body is
				   rejected) */
	enum json_type type;
	char *str;		/* JSON_STRING: decoded UTF-8, len bytes */
	size_t len;
	bool bad_string;	/* holds \u0000 or a lone surrogate escape */
};

/* The members of one JSON object. Nested values are validated, not kept. */
struct json_obj {
	struct json_member *v;
	size_t n;
};

/*
 * Parses text as exactly one JSON object (RFC 8259, valid UTF-8, depth at
 * most JSON_DEPTH_MAX, no duplicate keys in any object). Returns BOARD_OK
 * and fills out (release with json_obj_cleanup), or BOARD_EINVAL and sets
 * *why to a static description.
 */
enum board_err json_obj_parse(const char *text, size_t len,
    struct json_obj *out, const char **why);

/* Makes o empty, so json_obj_cleanup is safe whether or not it was parsed. */
void json_obj_init(struct json_obj *o);
void json_obj_cleanup(struct json_obj *o);

/* The member named key, or NULL. */
const struct json_member *json_obj_get(const struct json_obj *o,
    const char *key);

/* Number of Unicode code points in valid UTF-8 s. */
size_t json_utf8_chars(const char *s, size_t len);

/* true when s is valid UTF-8 (no overlongs, surrogates, or > U+10FFFF). */
bool json_utf8_valid(const char *s, size_t len);

/* How json_get_text reads a field; 0 for none. */
enum json_text_flags {
	JSON_TRIM = 1 << 0,	/* drop surrounding white space first */
	JSON_OPTIONAL = 1 << 1,	/* absent is BOARD_ENOTFOUND, not EINVAL */
};

/*
 * Reads a string member for a field of API.md. Missing, not a string,
 * bad_string, or a length outside [min, max] Unicode characters (after
 * trimming surrounding white space with JSON_TRIM) is BOARD_EINVAL.
 * On BOARD_OK *out borrows from o (or, when trimmed, points into it) with
 * *outlen bytes; it is not NUL-terminated when trimmed, so use outlen.
 * With JSON_OPTIONAL, an absent member is BOARD_ENOTFOUND.
 */
enum board_err json_get_text(const struct json_obj *o, const char *key,
    size_t min, size_t max, unsigned flags, const char **out,
    size_t *outlen);

/* Appends s as a JSON string literal (quotes included) to b. */
void json_escape(struct buf *b, const char *s, size_t len);

/*
 * Overwrites every string in a cJSON tree, then deletes it (for documents
 * that held credentials or secrets). NULL is fine.
 */
struct cJSON;
void json_cjson_free_secret(struct cJSON *j);

#endif
