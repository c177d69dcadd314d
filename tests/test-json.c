/* test-json.c: the strict request-body parser, text getters and escaping. */
#include "config.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "tap.h"

/*
 * This test is linked with -Wl,--wrap=free -Wl,--wrap=realloc (unit.am):
 * every block that libboard frees, or hands to realloc (which may leave a
 * copy behind), is searched for the watched bytes first. A hit is a
 * password left in memory the allocator may give to someone else.
 */
void __real_free(void *p);
void *__real_realloc(void *p, size_t n);
void __wrap_free(void *p);
void *__wrap_realloc(void *p, size_t n);

static const char *watch;
static size_t watch_len;
static int watch_hits, watch_blocks;

static void
watch_block(void *p)
{
	size_t n;

	if (p == NULL || watch == NULL)
		return;
	n = malloc_usable_size(p);
	watch_blocks++;
	if (memmem(p, n, watch, watch_len) != NULL)
		watch_hits++;
}

void
__wrap_free(void *p)
{
	watch_block(p);
	__real_free(p);
}

void *
__wrap_realloc(void *p, size_t n)
{
	watch_block(p);
	return __real_realloc(p, n);
}

/* Parses a NUL-terminated text; returns the code and cleans up. */
static enum board_err
parse_s(const char *text, size_t len)
{
	struct json_obj o;
	const char *why = NULL;
	enum board_err rc = json_obj_parse(text, len, &o, &why);

	if (rc != BOARD_OK && why == NULL)
		rc = BOARD_EINTERNAL;	/* a failure must say why */
	json_obj_cleanup(&o);
	return rc;
}

#define accepts(text, ...) \
	is_int(parse_s(text, sizeof(text) - 1), BOARD_OK, __VA_ARGS__)
#define rejects(text, ...) \
	is_int(parse_s(text, sizeof(text) - 1), BOARD_EINVAL, __VA_ARGS__)

static void
test_valid(void)
{
	struct json_obj o;
	const char *why = NULL;
	const struct json_member *m;
	static const char doc[] =
	    " \t\r\n{\"a\": {\"b\": [1, {\"c\": [true, false, null]}, []]},"
	    " \"s\": \"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9\\u20AC\","
	    " \"e\": \"\\ud83d\\ude00\", \"n\": -0.5e+10, \"t\": true,"
	    " \"raw\": \"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\","
	    " \"empty\": {}, \"arr\": [], \"\": 0}\n ";

	is_int(json_obj_parse(doc, sizeof(doc) - 1, &o, &why), BOARD_OK,
	    "a document with every kind of value parses");
	is_int(o.n, 9, "  nine top-level members");
	m = json_obj_get(&o, "a");
	ok(m != NULL && m->type == JSON_OBJECT, "  nested object typed");
	m = json_obj_get(&o, "s");
	ok(m != NULL && m->type == JSON_STRING && !m->bad_string &&
	    m->len == strlen("q\" b\\ s/ \b\f\n\r\t \xc3\xa9\xe2\x82\xac") &&
	    memcmp(m->str, "q\" b\\ s/ \b\f\n\r\t \xc3\xa9\xe2\x82\xac",
	    m->len) == 0, "  every escape decodes");
	m = json_obj_get(&o, "e");
	ok(m != NULL && m->len == 4 && memcmp(m->str, "\xf0\x9f\x98\x80", 4)
	    == 0 && !m->bad_string, "  a surrogate pair becomes U+1F600");
	m = json_obj_get(&o, "raw");
	ok(m != NULL && strcmp(m->str, "h\xc3\xa9llo \xe2\x82\xac "
	    "\xf0\x9f\x98\x80") == 0, "  raw UTF-8 kept as is");
	m = json_obj_get(&o, "n");
	ok(m != NULL && m->type == JSON_NUMBER, "  number typed");
	m = json_obj_get(&o, "t");
	ok(m != NULL && m->type == JSON_TRUE, "  true typed");
	m = json_obj_get(&o, "arr");
	ok(m != NULL && m->type == JSON_ARRAY, "  array typed");
	ok(json_obj_get(&o, "") != NULL, "  the empty key is a key");
	ok(json_obj_get(&o, "missing") == NULL, "  absent key is NULL");
	json_obj_cleanup(&o);

	accepts("{}", "empty object");
	accepts("{\"n\":0}", "number 0");
	accepts("{\"n\":-0}", "number -0");
	accepts("{\"n\":123}", "integer");
	accepts("{\"n\":-1.25}", "fraction");
	accepts("{\"n\":1e5}", "exponent");
	accepts("{\"n\":1E-5}", "exponent E-");
	accepts("{\"n\":2.5e+300}", "fraction and exponent");
	accepts("{\"n\":[0,1,-2,3.0,4e0]}", "numbers in an array");
	accepts("{\"k\":\"\\u0041\\u00DF\\uFFFF\"}", "BMP escapes");
	accepts("{\"k\":\"\\udbff\\udfff\"}", "highest pair U+10FFFF");
}

static void
test_invalid(void)
{
	rejects("", "empty body");
	rejects("   \n\t", "white space only");
	rejects("[]", "an array");
	rejects("[{\"a\":1}]", "an object in an array");
	rejects("\"x\"", "a string");
	rejects("1", "a number");
	rejects("null", "null");
	rejects("{} x", "trailing text");
	rejects("{}{}", "two objects");
	rejects("{\"a\":1} {\"b\":2}", "two objects with a space");
	rejects("{\"a\":1,}", "trailing comma");
	rejects("{\"a\" 1}", "missing colon");
	rejects("{a:1}", "unquoted key");
	rejects("{\"a\":1", "unterminated object");
	rejects("{\"a\":\"x}", "unterminated string");
	rejects("{\"a\":[1,2}", "unterminated array");
	rejects("{\"a\":tru}", "truncated literal");
	rejects("{\"a\":True}", "capitalised literal");
	rejects("{'a':1}", "single quotes");
	rejects("\xef\xbb\xbf{}", "a UTF-8 BOM");
	rejects("{\"a\":1}\xef\xbb\xbf", "a BOM after the object");
	/* Invalid UTF-8, in a value and in a key. */
	rejects("{\"a\":\"\xc0\xaf\"}", "overlong 2-byte /");
	rejects("{\"a\":\"\xc1\xbf\"}", "overlong 2-byte C1");
	rejects("{\"a\":\"\xe0\x80\xaf\"}", "overlong 3-byte");
	rejects("{\"a\":\"\xf0\x80\x80\xaf\"}", "overlong 4-byte");
	rejects("{\"a\":\"\xed\xa0\x80\"}", "UTF-8 encoded high surrogate");
	rejects("{\"a\":\"\xed\xbf\xbf\"}", "UTF-8 encoded low surrogate");
	rejects("{\"a\":\"\xf4\x90\x80\x80\"}", "U+110000");
	rejects("{\"a\":\"\xf5\x80\x80\x80\"}", "lead byte F5");
	rejects("{\"a\":\"\xff\"}", "byte FF");
	rejects("{\"a\":\"\xe2\x82\"}", "truncated 3-byte sequence");
	rejects("{\"a\":\"\xf0\x9f\x98\"}", "truncated 4-byte sequence");
	rejects("{\"a\":\"\xc3\"}", "truncated 2-byte sequence");
	rejects("{\"a\":\"\x80\"}", "lone continuation byte");
	rejects("{\"a\":\"x\xbfy\"}", "continuation byte between ASCII");
	rejects("{\"\x80\":1}", "invalid UTF-8 in a key");
	rejects("{\"a\":[\"\xc0\x80\"]}", "invalid UTF-8 nested");
	/* Control characters. */
	rejects("{\"a\":\"x\ny\"}", "raw newline in a string");
	rejects("{\"a\":\"\t\"}", "raw tab in a string");
	rejects("{\"a\":\"\x1f\"}", "raw 0x1F in a string");
	rejects("{\"a\x01\":1}", "control character in a key");
	/* Escapes. */
	rejects("{\"a\":\"\\x41\"}", "\\x escape");
	rejects("{\"a\":\"\\a\"}", "\\a escape");
	rejects("{\"a\":\"\\'\"}", "\\' escape");
	rejects("{\"a\":\"\\u12\"}", "short \\u escape");
	rejects("{\"a\":\"\\u12G4\"}", "non-hex \\u escape");
	rejects("{\"a\":\"\\ud800\\uZZZZ\"}", "bad escape after a high one");
	rejects("{\"a\":\"\\", "backslash at the end");
	rejects("{\"a\":\"\\u00", "truncated \\u at the end");
	/* Numbers. */
	rejects("{\"n\":01}", "leading zero 01");
	rejects("{\"n\":-01}", "leading zero -01");
	rejects("{\"n\":1.}", "1.");
	rejects("{\"n\":.5}", ".5");
	rejects("{\"n\":+1}", "+1");
	rejects("{\"n\":-}", "-");
	rejects("{\"n\":1e}", "1e");
	rejects("{\"n\":1e+}", "1e+");
	rejects("{\"n\":1.e5}", "1.e5");
	rejects("{\"n\":0x10}", "hex");
	rejects("{\"n\":NaN}", "NaN");
	rejects("{\"n\":Infinity}", "Infinity");
	rejects("{\"n\":-Infinity}", "-Infinity");
	rejects("{\"n\":1", "number at the end of input");
	/* Duplicates. */
	rejects("{\"a\":1,\"a\":2}", "duplicate top-level key");
	rejects("{\"a\":1,\"b\":2,\"a\":\"x\"}", "duplicate after another");
	rejects("{\"a\":1,\"\\u0061\":2}", "duplicate spelled by escape");
	rejects("{\"o\":{\"k\":1,\"k\":2}}", "duplicate nested key");
	rejects("{\"o\":[{\"k\":1,\"k\":2}]}",
	    "duplicate in an array's object");
	accepts("{\"o\":{\"k\":1},\"p\":{\"k\":2}}",
	    "the same key in two objects is fine");
	accepts("{\"a\":1,\"A\":2}", "keys compare case-sensitively");
	rejects("{\"\\u0000\":1}", "NUL in a key");
	rejects("{\"\\ud800\":1}", "lone surrogate in a key");
}

/* depth nested levels in total, the outer object counting as one. */
static char *
nested(int depth, bool arrays)
{
	struct buf b;

	buf_init(&b);
	buf_putc(&b, '{');
	for (int i = 1; i < depth; i++)
		buf_puts(&b, arrays ? "\"a\":[{" : "\"a\":{");
	for (int i = 1; i < depth; i++)
		buf_puts(&b, arrays ? "}]" : "}");
	buf_putc(&b, '}');
	return buf_steal(&b);
}

static void
test_depth(void)
{
	char *s;

	s = nested(JSON_DEPTH_MAX, false);
	is_int(parse_s(s, strlen(s)), BOARD_OK, "depth %d objects accepted",
	    JSON_DEPTH_MAX);
	free(s);
	s = nested(JSON_DEPTH_MAX + 1, false);
	is_int(parse_s(s, strlen(s)), BOARD_EINVAL, "depth %d objects rejected",
	    JSON_DEPTH_MAX + 1);
	free(s);

	/* Arrays count as levels too: {"a":[{"a":[ ... */
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "{\"a\":");
	for (int i = 1; i < JSON_DEPTH_MAX; i++)
		buf_putc(&b, '[');
	for (int i = 1; i < JSON_DEPTH_MAX; i++)
		buf_putc(&b, ']');
	buf_putc(&b, '}');
	is_int(parse_s(b.data, b.len), BOARD_OK,
	    "depth %d with arrays accepted", JSON_DEPTH_MAX);
	buf_reset(&b);
	buf_puts(&b, "{\"a\":");
	for (int i = 0; i < JSON_DEPTH_MAX; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < JSON_DEPTH_MAX; i++)
		buf_putc(&b, ']');
	buf_putc(&b, '}');
	is_int(parse_s(b.data, b.len), BOARD_EINVAL,
	    "depth %d with arrays rejected", JSON_DEPTH_MAX + 1);
	/* Very deep input fails cleanly instead of exhausting the stack. */
	buf_reset(&b);
	buf_putc(&b, '{');
	for (int i = 0; i < 100000; i++)
		buf_puts(&b, "\"a\":[{");
	is_int(parse_s(b.data, b.len), BOARD_EINVAL, "100000 levels rejected");
	buf_cleanup(&b);
}

/* Parses {"k": <lit>} and reports the member's bad_string and bytes. */
static bool
bad_of(const char *text, const char *want, size_t wantlen)
{
	struct json_obj o;
	const char *why;
	const struct json_member *m;
	bool bad = false, same = false;

	if (json_obj_parse(text, strlen(text), &o, &why) != BOARD_OK) {
		diag("  did not parse: %s", why);
		return false;
	}
	m = json_obj_get(&o, "k");
	if (m != NULL) {
		bad = m->bad_string;
		same = want == NULL || (m->len == wantlen &&
		    memcmp(m->str, want, wantlen) == 0);
	}
	json_obj_cleanup(&o);
	if (!same)
		diag("  decoded bytes differ");
	return bad && same;
}

static bool
good_of(const char *text, const char *want, size_t wantlen)
{
	struct json_obj o;
	const char *why;
	const struct json_member *m;
	bool good = false;

	if (json_obj_parse(text, strlen(text), &o, &why) != BOARD_OK)
		return false;
	m = json_obj_get(&o, "k");
	good = m != NULL && m->type == JSON_STRING && !m->bad_string &&
	    m->len == wantlen && memcmp(m->str, want, wantlen) == 0;
	json_obj_cleanup(&o);
	return good;
}

static void
test_bad_string(void)
{
	ok(bad_of("{\"k\":\"\\u0000\"}", NULL, 0), "\\u0000 is bad_string");
	ok(bad_of("{\"k\":\"a\\u0000b\"}", NULL, 0),
	    "\\u0000 in the middle is bad_string");
	ok(bad_of("{\"k\":\"\\ud800\"}", NULL, 0),
	    "lone high surrogate is bad_string");
	ok(bad_of("{\"k\":\"\\udc00\"}", NULL, 0),
	    "lone low surrogate is bad_string");
	ok(bad_of("{\"k\":\"\\udfff x\"}", NULL, 0),
	    "lone low surrogate then text is bad_string");
	ok(bad_of("{\"k\":\"\\ud800\\u0041\"}", NULL, 0),
	    "high surrogate then \\u0041 is bad_string");
	ok(bad_of("{\"k\":\"\\ud800x\"}", NULL, 0),
	    "high surrogate then text is bad_string");
	ok(bad_of("{\"k\":\"\\udc00\\ud800\"}", NULL, 0),
	    "a reversed pair is bad_string");
	ok(bad_of("{\"k\":\"\\ud800\\ud800\\udc00\"}", NULL, 0),
	    "a high surrogate before a valid pair is bad_string");
	ok(good_of("{\"k\":\"\\ud83d\\ude00\"}", "\xf0\x9f\x98\x80", 4),
	    "a valid pair is not bad_string");
	ok(good_of("{\"k\":\"\\uD83D\\uDE00\"}", "\xf0\x9f\x98\x80", 4),
	    "an upper-case valid pair is not bad_string");
	ok(good_of("{\"k\":\"\\ud800\\udc00\"}", "\xf0\x90\x80\x80", 4),
	    "U+10000 from its pair");
	ok(good_of("{\"k\":\"x\\u0001\"}", "x\x01", 2),
	    "\\u0001 is allowed");
	ok(good_of("{\"k\":\"\\u2028\"}", "\xe2\x80\xa8", 3),
	    "\\u2028 decodes");

	/* A bad string in a nested value is valid JSON, not a member. */
	struct json_obj o;
	const char *why;
	is_int(json_obj_parse("{\"k\":[\"\\u0000\"],\"j\":1}",
	    strlen("{\"k\":[\"\\u0000\"],\"j\":1}"), &o, &why),
	    BOARD_OK, "a nested \\u0000 still parses");
	json_obj_cleanup(&o);
}

/* {"k": "<s>"} with s escaped by json_escape. */
static enum board_err
text_of(const char *s, size_t min, size_t max, unsigned flags,
    const char **out, size_t *outlen, struct json_obj *o)
{
	struct buf b;
	const char *why;
	enum board_err rc;

	buf_init(&b);
	buf_puts(&b, "{\"k\":");
	json_escape(&b, s, strlen(s));
	buf_putc(&b, '}');
	rc = json_obj_parse(b.data, b.len, o, &why);
	buf_cleanup(&b);
	if (rc != BOARD_OK)
		return BOARD_EINTERNAL;
	return json_get_text(o, "k", min, max, flags, out, outlen);
}

static char *
repeat(const char *unit, int n)
{
	struct buf b;

	buf_init(&b);
	for (int i = 0; i < n; i++)
		buf_puts(&b, unit);
	return buf_steal(&b);
}

static void
text_is(const char *s, size_t min, size_t max, unsigned flags,
    enum board_err want, const char *want_out, const char *name)
{
	struct json_obj o;
	const char *out = NULL;
	size_t outlen = 0;
	enum board_err rc = text_of(s, min, max, flags, &out, &outlen, &o);

	is_int(rc, want, "%s", name);
	if (rc == BOARD_OK && want_out != NULL)
		ok(outlen == strlen(want_out) && memcmp(out, want_out,
		    outlen) == 0, "  gives the expected %zu bytes",
		    strlen(want_out));
	json_obj_cleanup(&o);
}

static void
test_get_text(void)
{
	char *s;

	s = repeat("\xf0\x9f\x98\x80", 200);
	text_is(s, 1, 200, JSON_TRIM, BOARD_OK, s, "200 emoji within 200");
	free(s);
	s = repeat("\xf0\x9f\x98\x80", 201);
	text_is(s, 1, 200, JSON_TRIM, BOARD_EINVAL, NULL, "201 emoji over 200");
	free(s);
	s = repeat("\xed\x95\x9c", 200);	/* 한 */
	text_is(s, 1, 200, JSON_TRIM, BOARD_OK, s, "200 Korean characters");
	free(s);
	s = repeat("\xed\x95\x9c", 201);
	text_is(s, 1, 200, JSON_TRIM, BOARD_EINVAL, NULL,
	    "201 Korean characters");
	free(s);
	s = repeat("a", 200);
	text_is(s, 1, 200, 0, BOARD_OK, s, "200 ASCII");
	free(s);
	s = repeat("a", 201);
	text_is(s, 1, 200, 0, BOARD_EINVAL, NULL, "201 ASCII");
	free(s);
	text_is("ab", 3, 10, 0, BOARD_EINVAL, NULL, "below min");
	text_is("abc", 3, 10, 0, BOARD_OK, "abc", "at min");
	text_is("", 1, 10, 0, BOARD_EINVAL, NULL, "empty below min 1");

	/* Trimming, with JavaScript's String.prototype.trim white space. */
	text_is("  hi\t\n", 1, 10, JSON_TRIM, BOARD_OK, "hi", "ASCII trimmed");
	text_is("\xe3\x80\x80hi\xe3\x80\x80", 1, 10, JSON_TRIM, BOARD_OK, "hi",
	    "U+3000 trimmed both ends");
	text_is("\xef\xbb\xbfhi\xef\xbb\xbf", 1, 10, JSON_TRIM, BOARD_OK, "hi",
	    "U+FEFF trimmed both ends");
	text_is("\xc2\xa0hi\xc2\xa0", 1, 10, JSON_TRIM, BOARD_OK, "hi",
	    "NBSP trimmed both ends");
	text_is("\xe2\x80\xa8\xe2\x80\xa9\xe1\x9a\x80hi\xe2\x80\x8a\xe2\x80"
	    "\xaf\xe2\x81\x9f\x0b\x0c", 1, 10, JSON_TRIM, BOARD_OK, "hi",
	    "U+2028/2029/1680/200A/202F/205F/VT/FF trimmed");
	text_is("a b\xe3\x80\x80" "c", 1, 10, JSON_TRIM, BOARD_OK,
	    "a b\xe3\x80\x80" "c", "inner white space kept");
	text_is("\xe2\x80\x8bhi\xe2\x80\x8b", 1, 10, JSON_TRIM, BOARD_OK,
	    "\xe2\x80\x8bhi\xe2\x80\x8b", "U+200B is not white space");
	text_is("\xc2\x85hi", 1, 10, JSON_TRIM, BOARD_OK, "\xc2\x85hi",
	    "U+0085 is not JS white space");
	text_is(" \xe3\x80\x80\t\xef\xbb\xbf\xc2\xa0 ", 1, 10, JSON_TRIM,
	    BOARD_EINVAL, NULL, "trimmed to empty is rejected");
	text_is(" \xe3\x80\x80 ", 1, 10, 0, BOARD_OK, NULL,
	    "untrimmed white space counts");
	s = repeat(" ", 50);
	char *t = repeat("\xf0\x9f\x98\x80", 200);
	struct buf b;
	buf_init(&b);
	buf_puts(&b, s);
	buf_puts(&b, t);
	buf_puts(&b, s);
	text_is(buf_cstr(&b), 1, 200, JSON_TRIM, BOARD_OK, t,
	    "200 emoji with padding: limit applies after trimming");
	buf_cleanup(&b);
	free(s);
	free(t);

	/* Absent, optional, wrong type, bad string. */
	struct json_obj o;
	const char *why, *out = NULL;
	size_t outlen = 0;
	const unsigned opt = JSON_TRIM | JSON_OPTIONAL;
	static const char doc[] = "{\"n\":1,\"z\":null,\"a\":[\"x\"],"
	    "\"o\":{},\"b\":\"x\\u0000\",\"l\":\"\\udc00\",\"s\":\"ok\"}";
	is_int(json_obj_parse(doc, sizeof(doc) - 1, &o, &why), BOARD_OK,
	    "typed document parses");
	is_int(json_get_text(&o, "missing", 1, 10, opt, &out, &outlen),
	    BOARD_ENOTFOUND, "optional and absent: ENOTFOUND");
	is_int(json_get_text(&o, "missing", 1, 10, JSON_TRIM, &out, &outlen),
	    BOARD_EINVAL, "required and absent: EINVAL");
	is_int(json_get_text(&o, "n", 1, 10, opt, &out, &outlen),
	    BOARD_EINVAL, "number: EINVAL");
	is_int(json_get_text(&o, "z", 1, 10, opt, &out, &outlen),
	    BOARD_EINVAL, "null: EINVAL");
	is_int(json_get_text(&o, "a", 1, 10, opt, &out, &outlen),
	    BOARD_EINVAL, "array: EINVAL");
	is_int(json_get_text(&o, "o", 1, 10, opt, &out, &outlen),
	    BOARD_EINVAL, "object: EINVAL");
	is_int(json_get_text(&o, "b", 1, 10, opt, &out, &outlen),
	    BOARD_EINVAL, "\\u0000: EINVAL");
	is_int(json_get_text(&o, "l", 1, 10, opt, &out, &outlen),
	    BOARD_EINVAL, "lone surrogate: EINVAL");
	is_int(json_get_text(&o, "s", 1, 10, opt, &out, &outlen),
	    BOARD_OK, "optional and present: OK");
	ok(outlen == 2 && memcmp(out, "ok", 2) == 0, "  value borrowed");
	json_obj_cleanup(&o);
}

static void
round_trip(const char *s, size_t len, const char *name)
{
	struct buf b;
	struct json_obj o;
	const char *why = NULL;
	const struct json_member *m;
	bool same = false;

	buf_init(&b);
	buf_puts(&b, "{\"k\":");
	json_escape(&b, s, len);
	buf_putc(&b, '}');
	if (json_obj_parse(b.data, b.len, &o, &why) == BOARD_OK) {
		m = json_obj_get(&o, "k");
		same = m != NULL && m->type == JSON_STRING && !m->bad_string &&
		    m->len == len && memcmp(m->str, s, len) == 0;
		json_obj_cleanup(&o);
	} else {
		diag("  %s: %s", why, b.data);
	}
	ok(same, "round trip: %s", name);
	buf_cleanup(&b);
}

#define RT(lit, name) round_trip(lit, sizeof(lit) - 1, name)

/* Random valid UTF-8 without NUL, n code points. */
static size_t
random_text(char *out, int n)
{
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		unsigned long cp;

		switch (rand() % 4) {
		case 0: cp = 1 + (unsigned long)(rand() % 0x7f); break;
		case 1: cp = 0x80 + (unsigned long)(rand() % 0x780); break;
		case 2:
			cp = 0x800 + (unsigned long)(rand() % 0xf800);
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0x2028;
			break;
		default:
			cp = 0x10000 + (unsigned long)(rand() % 0x100000);
			break;
		}
		if (cp < 0x80) {
			out[len++] = (char)cp;
		} else if (cp < 0x800) {
			out[len++] = (char)(0xc0 | (cp >> 6));
			out[len++] = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			out[len++] = (char)(0xe0 | (cp >> 12));
			out[len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out[len++] = (char)(0x80 | (cp & 0x3f));
		} else {
			out[len++] = (char)(0xf0 | (cp >> 18));
			out[len++] = (char)(0x80 | ((cp >> 12) & 0x3f));
			out[len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out[len++] = (char)(0x80 | (cp & 0x3f));
		}
	}
	return len;
}

static void
test_escape(void)
{
	struct buf b;
	char ctl[32];
	int fails = 0;

	buf_init(&b);
	json_escape(&b, "a\"b\\c\n\x01\x1f\x7f", 9);
	is_str(buf_cstr(&b), "\"a\\\"b\\\\c\\n\\u0001\\u001f\x7f\"",
	    "escape output");
	buf_cleanup(&b);

	RT("", "empty");
	RT("plain", "plain");
	RT("\"quotes\" and \\back\\slashes\\",
	    "quotes and backslashes");
	for (int i = 1; i < 32; i++)
		ctl[i - 1] = (char)i;
	round_trip(ctl, 31, "every control character");
	RT("\xe2\x80\xa8\xe2\x80\xa9", "U+2028 U+2029");
	RT("</script>\x7f", "slash and DEL");
	RT("\xf0\x9f\x98\x80 \xed\x95\x9c \xef\xbb\xbf",
	    "emoji, Korean, BOM");
	RT("\\u0000", "the text \\u0000");

	srand(20261125);
	for (int i = 0; i < 500; i++) {
		char s[4 * 40];
		size_t len = random_text(s, rand() % 40);
		struct json_obj o;
		const char *why;
		const struct json_member *m;

		buf_init(&b);
		buf_puts(&b, "{\"k\":");
		json_escape(&b, s, len);
		buf_putc(&b, '}');
		if (json_obj_parse(b.data, b.len, &o, &why) != BOARD_OK) {
			fails++;
		} else {
			m = json_obj_get(&o, "k");
			if (m == NULL || m->len != len ||
			    memcmp(m->str, s, len) != 0)
				fails++;
			json_obj_cleanup(&o);
		}
		buf_cleanup(&b);
	}
	is_int(fails, 0, "500 random strings round trip");
}

static void
test_utf8_helpers(void)
{
	ok(json_utf8_valid("h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10),
	    "utf8_valid on valid text");
	ok(!json_utf8_valid("\xed\xa0\x80", 3), "utf8_valid: surrogate");
	ok(!json_utf8_valid("\xc0\x80", 2), "utf8_valid: overlong NUL");
	ok(!json_utf8_valid("\xf4\x90\x80\x80", 4), "utf8_valid: > U+10FFFF");
	ok(!json_utf8_valid("\xe2\x82", 2), "utf8_valid: truncated");
	is_int(json_utf8_chars("h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10), 4,
	    "utf8_chars counts code points");
}

/* Must never crash, leak or read out of bounds (ASan watches). */
/* json_obj_init, and json_cjson_free_secret (ASan sees a leak or misuse). */
static void
test_init_and_free(void)
{
	struct json_obj o;

	memset(&o, 0xa5, sizeof(o));
	json_obj_init(&o);
	ok(o.v == NULL && o.n == 0, "json_obj_init empties");
	json_obj_cleanup(&o);
	ok(o.v == NULL && o.n == 0, "  and cleanup of an empty one is fine");

	cJSON *doc = cJSON_Parse("{\"AccessKeyId\":\"AKIA\",\"n\":[\"x\","
	    "{\"Token\":\"tok\"}],\"e\":\"\"}");
	ok(doc != NULL, "a credential document parses");
	json_cjson_free_secret(doc);
	json_cjson_free_secret(NULL);
	ok(1, "json_cjson_free_secret frees nested strings; NULL is fine");
}

/* Parses body, uses the password, cleans up; the watch sees every free. */
static void
parse_watching(const char *body, const char *mark, const char *what)
{
	struct json_obj o;
	const char *why = NULL, *pw = NULL;
	size_t pwlen = 0;
	enum board_err rc;

	watch = mark;
	watch_len = strlen(mark);
	watch_hits = watch_blocks = 0;
	rc = json_obj_parse(body, strlen(body), &o, &why);
	if (rc == BOARD_OK)
		(void)json_get_text(&o, "password", 1, 4096, 0, &pw, &pwlen);
	ok(rc == BOARD_OK && pw != NULL && memmem(pw, pwlen, mark,
	    watch_len) != NULL, "%s: parses", what);
	json_obj_cleanup(&o);
	watch = NULL;
	ok(watch_blocks > 0, "  the allocator watch saw %d blocks go",
	    watch_blocks);
	is_int(watch_hits, 0, "  none of them held the password");
}

/* The security review: a decoded password is wiped before it is freed. */
static void
test_password_wiped(void)
{
	struct buf b;
	char *p;

	/* The watch itself: an unwiped block holding the mark is a hit. */
	watch = "MARK-0123456789";
	watch_len = strlen(watch);
	watch_hits = watch_blocks = 0;
	p = xstrdup("xx MARK-0123456789 xx");
	free(p);
	watch = NULL;
	is_int(watch_hits, 1, "the watch finds a freed, unwiped password");

	parse_watching("{\"username\":\"ann\",\"password\":"
	    "\"pw-SHORT-s3cret-1\"}", "pw-SHORT-s3cret-1",
	    "a short password");

	/* Long, with escapes: the value buffer grows several times. */
	buf_init(&b);
	buf_puts(&b, "{\"password\":\"pw-LONG-s3cret-2\\n\\u00e9");
	for (int i = 0; i < 700; i++)
		buf_putc(&b, (char)('a' + i % 26));
	buf_puts(&b, "\",\"username\":\"bob\"}");
	parse_watching(buf_cstr(&b), "pw-LONG-s3cret-2", "a 700-byte password");
	buf_cleanup(&b);
}

static void
test_fuzz(void)
{
	static const char *seeds[] = {
		"{\"a\":{\"b\":[1,2.5e-3,\"x\\u00e9\\ud83d\\ude00\"]},"
		    "\"c\":true,\"d\":null,\"e\":\"\\\"\\\\\\/\"}",
		"{\"title\":\" hi \",\"content\":"
		    "\"\xed\x95\x9c\xf0\x9f\x98\x80\"}",
		"{\"n\":-0.0e+0,\"k\":[[],{},[{}]]}",
	};
	int okays = 0;

	srand(1);
	for (int i = 0; i < 3000; i++) {
		size_t len = (size_t)(rand() % 64);
		char *s = xmalloc(len + 1);

		for (size_t j = 0; j < len; j++) {
			/* Bias toward JSON's own punctuation. */
			static const char pun[] = "{}[]\":,\\u0123456789.eE+- "
			    "tfn";
			s[j] = rand() % 2 ? pun[rand() % (sizeof(pun) - 1)] :
			    (char)(rand() % 256);
		}
		if (parse_s(s, len) == BOARD_OK)
			okays++;
		free(s);
	}
	for (int i = 0; i < 3000; i++) {
		const char *seed = seeds[i % 3];
		size_t len = strlen(seed);
		/* Exactly len bytes on the heap so ASan sees any overread. */
		char *s = xmalloc(len);
		memcpy(s, seed, len);
		int edits = 1 + rand() % 4;

		for (int e = 0; e < edits; e++) {
			size_t at = (size_t)rand() % len;

			switch (rand() % 3) {
			case 0: s[at] = (char)(rand() % 256); break;
			case 1: s[at] ^= (char)(1 << (rand() % 8)); break;
			default: len = at; break;	/* truncate */
			}
			if (len == 0)
				break;
		}
		if (parse_s(s, len) == BOARD_OK)
			okays++;
		/* Also fuzz the getter on whatever parsed. */
		struct json_obj o;
		const char *why, *out;
		size_t outlen;
		if (json_obj_parse(s, len, &o, &why) == BOARD_OK) {
			for (size_t m = 0; m < o.n; m++)
				(void)json_get_text(&o, o.v[m].key, 1, 3,
				    JSON_TRIM | JSON_OPTIONAL, &out, &outlen);
			json_obj_cleanup(&o);
		}
		free(s);
	}
	ok(1, "6000 fuzzed inputs did not crash (%d parsed)", okays);
	ok(okays > 0, "  and some mutated inputs still parsed");
}

int
main(void)
{
	test_valid();
	test_invalid();
	test_depth();
	test_bad_string();
	test_get_text();
	test_escape();
	test_utf8_helpers();
	test_init_and_free();
	test_password_wiped();
	test_fuzz();
	return tap_done();
}
