/* json.c: a strict RFC 8259 parser for request bodies, string escaping. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"

/*
 * Why not cJSON for requests: cJSON accepts invalid UTF-8, truncates
 * strings at an escaped NUL, ignores duplicate keys and has no depth
 * limit we can set per call. API.md needs each of those told apart
 * (invalid_json versus invalid_field), so request bodies get this small
 * validating parser; responses and Redis documents still use cJSON.
 */

struct parser {
	const unsigned char *p, *end;
	const char *why;
};

static bool parse_value(struct parser *ps, int depth, enum json_type *type,
    struct buf *str, bool *bad);

static void
skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
	    *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static bool
fail(struct parser *ps, const char *why)
{
	if (ps->why == NULL)
		ps->why = why;
	return false;
}

/* Length of the UTF-8 sequence at s (0 when invalid). */
static size_t
utf8_seq(const unsigned char *s, const unsigned char *end)
{
	size_t n = (size_t)(end - s);
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0;	/* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0;	/* UTF-16 surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;	/* overlong */
		if (c == 0xf4 && s[1] >= 0x90)
			return 0;	/* above U+10FFFF */
		return 4;
	}
	return 0;
}

bool
json_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		size_t n = utf8_seq(p, end);

		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

size_t
json_utf8_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static void
put_utf8(struct buf *b, unsigned long cp)
{
	char o[4];
	size_t n;

	if (cp < 0x80) {
		o[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		o[0] = (char)(0xf0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_append_secret(b, o, n);
	explicit_bzero(o, sizeof(o));
}

static bool
hex4(struct parser *ps, unsigned long *out)
{
	unsigned long v = 0;

	if (ps->end - ps->p < 4)
		return fail(ps, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		unsigned char c = *ps->p++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return fail(ps, "bad \\u escape");
	}
	*out = v;
	return true;
}

/*
 * Parses a string after its opening quote into out (when not NULL).
 * *bad is set for \u0000 and lone surrogate escapes: syntactically valid
 * JSON that API.md rejects as invalid_field rather than invalid_json.
 * Any string may be a password: out grows by buf_append_secret().
 */
static bool
parse_string(struct parser *ps, struct buf *out, bool *bad)
{
	for (;;) {
		if (ps->p >= ps->end)
			return fail(ps, "unterminated string");
		unsigned char c = *ps->p;

		if (c == '"') {
			ps->p++;
			return true;
		}
		if (c < 0x20)
			return fail(ps, "control character in string");
		if (c != '\\') {
			/* A run of plain characters goes in with one append. */
			const unsigned char *run = ps->p;

			do {
				size_t n = utf8_seq(ps->p, ps->end);

				if (n == 0)
					return fail(ps, "invalid UTF-8");
				ps->p += n;
			} while (ps->p < ps->end && *ps->p != '"' &&
			    *ps->p != '\\' && *ps->p >= 0x20);
			if (out != NULL)
				buf_append_secret(out, run,
				    (size_t)(ps->p - run));
			continue;
		}
		ps->p++;
		if (ps->p >= ps->end)
			return fail(ps, "unterminated string");
		c = *ps->p++;
		const char *simple = NULL;
		switch (c) {
		case '"': simple = "\""; break;
		case '\\': simple = "\\"; break;
		case '/': simple = "/"; break;
		case 'b': simple = "\b"; break;
		case 'f': simple = "\f"; break;
		case 'n': simple = "\n"; break;
		case 'r': simple = "\r"; break;
		case 't': simple = "\t"; break;
		case 'u': break;
		default:
			return fail(ps, "bad escape");
		}
		if (simple != NULL) {
			if (out != NULL)
				buf_append_secret(out, simple, 1);
			continue;
		}
		unsigned long cp;
		if (!hex4(ps, &cp))
			return false;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			unsigned long lo;

			if (ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
			    ps->p[1] == 'u') {
				const unsigned char *save = ps->p;

				ps->p += 2;
				if (!hex4(ps, &lo))
					return false;
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    (lo - 0xdc00);
					if (out != NULL)
						put_utf8(out, cp);
					continue;
				}
				/* the next escape stands alone */
				ps->p = save;
			}
			*bad = true;
			continue;
		}
		if ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0) {
			*bad = true;
			continue;
		}
		if (out != NULL)
			put_utf8(out, cp);
	}
}

static bool
parse_number(struct parser *ps)
{
	const unsigned char *p = ps->p, *end = ps->end;

	if (p < end && *p == '-')
		p++;
	if (p >= end)
		return fail(ps, "bad number");
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	else
		return fail(ps, "bad number");
	if (p < end && *p == '.') {
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return fail(ps, "bad number");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return fail(ps, "bad number");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	ps->p = p;
	return true;
}

static bool
parse_literal(struct parser *ps, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0)
		return fail(ps, "unexpected token");
	ps->p += n;
	return true;
}

/* Keys seen in one object, for the duplicate check. */
struct keyset {
	char **v;
	size_t *len;
	size_t n, cap;
};

static void
keyset_cleanup(struct keyset *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->v[i]);
	free(ks->v);
	free(ks->len);
}

/* Adds a key; duplicates are found once the object is complete. */
static void
keyset_add(struct keyset *ks, const struct buf *k)
{
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 8;
		ks->v = xrealloc(ks->v, ks->cap * sizeof(*ks->v));
		ks->len = xrealloc(ks->len, ks->cap * sizeof(*ks->len));
	}
	ks->v[ks->n] = xstrndup(buf_cstr(k), k->len);
	ks->len[ks->n++] = k->len;
}

static int
key_cmp(const void *a, const void *b)
{
	/* Keys hold no NUL (a NUL escape in a key is rejected first). */
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Sorting then comparing neighbours keeps a body of thousands of keys
 * at n log n; comparing each new key with all before it was quadratic
 * (about 160 ms of a worker for one 64 KiB body).
 */
static bool
keyset_has_dup(struct keyset *ks)
{
	if (ks->n < 2)
		return false;
	qsort(ks->v, ks->n, sizeof(*ks->v), key_cmp);
	for (size_t i = 1; i < ks->n; i++)
		if (strcmp(ks->v[i - 1], ks->v[i]) == 0)
			return true;
	return false;
}

/*
 * Parses an object after its '{'. When top is not NULL the members are
 * kept there (the request object); nested objects are only checked.
 */
static bool
parse_object(struct parser *ps, int depth, struct json_obj *top)
{
	struct keyset ks = { 0 };
	struct buf key, val;
	bool okay = false;

	buf_init(&key);
	buf_init(&val);
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		okay = true;
		goto out;
	}
	for (;;) {
		bool kbad = false, vbad = false;
		enum json_type type;

		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"') {
			fail(ps, "expected a key");
			goto out;
		}
		ps->p++;
		buf_reset(&key);
		if (!parse_string(ps, &key, &kbad))
			goto out;
		if (kbad) {
			fail(ps, "NUL or lone surrogate in a key");
			goto out;
		}
		keyset_add(&ks, &key);
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':') {
			fail(ps, "expected ':'");
			goto out;
		}
		ps->p++;
		buf_reset(&val);
		if (!parse_value(ps, depth, &type, top ? &val : NULL, &vbad))
			goto out;
		if (top != NULL) {
			struct json_member *m;

			top->v = xrealloc(top->v,
			    (top->n + 1) * sizeof(*top->v));
			m = &top->v[top->n++];
			memset(m, 0, sizeof(*m));
			m->key = xstrndup(buf_cstr(&key), key.len);
			m->type = type;
			m->bad_string = vbad;
			if (type == JSON_STRING) {
				m->len = val.len;
				m->str = xstrndup(buf_cstr(&val), val.len);
			}
		}
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			if (keyset_has_dup(&ks))
				fail(ps, "duplicate key");
			else
				okay = true;
			goto out;
		}
		fail(ps, "expected ',' or '}'");
		goto out;
	}
out:
	keyset_cleanup(&ks);
	buf_cleanup(&key);
	buf_cleanup_secret(&val);	/* the last value may be a password */
	return okay;
}

static bool
parse_array(struct parser *ps, int depth)
{
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return true;
	}
	for (;;) {
		enum json_type type;
		bool bad = false;

		if (!parse_value(ps, depth, &type, NULL, &bad))
			return false;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return true;
		}
		return fail(ps, "expected ',' or ']'");
	}
}

/*
 * Parses one value. Strings go to str when it is not NULL; *bad reports
 * a NUL or lone surrogate in a string anywhere inside the value.
 */
static bool
parse_value(struct parser *ps, int depth, enum json_type *type,
    struct buf *str, bool *bad)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end");
	switch (*ps->p) {
	case '{':
		if (depth + 1 > JSON_DEPTH_MAX)
			return fail(ps, "nested too deeply");
		ps->p++;
		*type = JSON_OBJECT;
		return parse_object(ps, depth + 1, NULL);
	case '[':
		if (depth + 1 > JSON_DEPTH_MAX)
			return fail(ps, "nested too deeply");
		ps->p++;
		*type = JSON_ARRAY;
		return parse_array(ps, depth + 1);
	case '"':
		ps->p++;
		*type = JSON_STRING;
		return parse_string(ps, str, bad);
	case 't':
		*type = JSON_TRUE;
		return parse_literal(ps, "true");
	case 'f':
		*type = JSON_FALSE;
		return parse_literal(ps, "false");
	case 'n':
		*type = JSON_NULL;
		return parse_literal(ps, "null");
	default:
		*type = JSON_NUMBER;
		return parse_number(ps);
	}
}

enum board_err
json_obj_parse(const char *text, size_t len, struct json_obj *out,
    const char **why)
{
	struct parser ps = { (const unsigned char *)text,
	    (const unsigned char *)text + len, NULL };

	json_obj_init(out);
	/* A UTF-8 byte order mark is not JSON (RFC 8259 §8.1 lets us
	 * refuse). */
	skip_ws(&ps);
	if (ps.p >= ps.end || *ps.p != '{') {
		*why = "the body is not a JSON object";
		return BOARD_EINVAL;
	}
	ps.p++;
	if (!parse_object(&ps, 1, out))
		goto bad;
	skip_ws(&ps);
	if (ps.p != ps.end) {
		fail(&ps, "text after the object");
		goto bad;
	}
	return BOARD_OK;
bad:
	json_obj_cleanup(out);
	*why = ps.why != NULL ? ps.why : "invalid JSON";
	return BOARD_EINVAL;
}

void
json_obj_init(struct json_obj *o)
{
	o->v = NULL;
	o->n = 0;
}

void
json_obj_cleanup(struct json_obj *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].key);
		if (o->v[i].str != NULL) {
			/* May be a password. */
			explicit_bzero(o->v[i].str, o->v[i].len);
			free(o->v[i].str);
		}
	}
	free(o->v);
	json_obj_init(o);
}

const struct json_member *
json_obj_get(const struct json_obj *o, const char *key)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->v[i].key, key) == 0)
			return &o->v[i];
	return NULL;
}

/* JavaScript's String.prototype.trim white space, in UTF-8. */
static size_t
ws_len(const unsigned char *p, size_t n)
{
	static const unsigned long ws[] = {
		0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2000,
		0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008,
		0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff,
	};
	unsigned long cp;
	size_t len;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		cp = p[0];
		len = 1;
	} else if ((p[0] & 0xe0) == 0xc0 && n >= 2) {
		cp = ((unsigned long)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
		len = 2;
	} else if ((p[0] & 0xf0) == 0xe0 && n >= 3) {
		cp = ((unsigned long)(p[0] & 0x0f) << 12) |
		    ((unsigned long)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
		len = 3;
	} else
		return 0;
	for (size_t i = 0; i < sizeof(ws) / sizeof(ws[0]); i++)
		if (ws[i] == cp)
			return len;
	return 0;
}

/* Start of the UTF-8 character that ends just before p[n]. */
static size_t
last_char_start(const unsigned char *p, size_t n)
{
	size_t i = n - 1;

	while (i > 0 && (p[i] & 0xc0) == 0x80)
		i--;
	return i;
}

enum board_err
json_get_text(const struct json_obj *o, const char *key, size_t min,
    size_t max, unsigned flags, const char **out, size_t *outlen)
{
	const struct json_member *m = json_obj_get(o, key);
	const unsigned char *s;
	size_t n, w;

	if (m == NULL)
		return flags & JSON_OPTIONAL ? BOARD_ENOTFOUND : BOARD_EINVAL;
	if (m->type != JSON_STRING || m->bad_string)
		return BOARD_EINVAL;
	s = (const unsigned char *)m->str;
	n = m->len;
	if (flags & JSON_TRIM) {
		while ((w = ws_len(s, n)) != 0) {
			s += w;
			n -= w;
		}
		while (n > 0) {
			size_t st = last_char_start(s, n);

			if (ws_len(s + st, n - st) != n - st)
				break;
			n = st;
		}
	}
	/* Cheap bound before counting: a character is 1 to 4 bytes. */
	if (n < min || n > max * 4)
		return BOARD_EINVAL;
	size_t chars = json_utf8_chars((const char *)s, n);
	if (chars < min || chars > max)
		return BOARD_EINVAL;
	*out = (const char *)s;
	*outlen = n;
	return BOARD_OK;
}

void
json_escape(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	buf_putc(b, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[6];

		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default:
			if (c >= 0x20)
				continue;
		}
		buf_append(b, s + run, i - run);
		run = i + 1;
		if (esc != NULL) {
			buf_puts(b, esc);
		} else {
			u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
			u[4] = hex[c >> 4]; u[5] = hex[c & 15];
			buf_append(b, u, 6);
		}
	}
	buf_append(b, s + run, len - run);
	buf_putc(b, '"');
}

static void
json_cjson_wipe(cJSON *j)
{
	for (; j != NULL; j = j->next) {
		if (j->valuestring != NULL)
			explicit_bzero(j->valuestring, strlen(j->valuestring));
		json_cjson_wipe(j->child);
	}
}

void
json_cjson_free_secret(cJSON *j)
{
	json_cjson_wipe(j);
	cJSON_Delete(j);
}
