/* store.c: the backend-independent half of the document store. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "board.h"
#include "log.h"
#include "store.h"

/*
 * A cursor is version (1 byte), created_ms (8 bytes, big-endian) and the
 * id's 12 bytes: 21 bytes, which base64url writes as exactly 28 characters
 * with no padding and no spare bits, so each cursor has one spelling.
 */
#define CURSOR_VERSION 1
#define CURSOR_BIN_LEN (1 + 8 + STORE_ID_LEN / 2)
#define CURSOR_TXT_LEN 28
/* 9999-12-31T23:59:59.999Z: later times are not ours. */
#define CURSOR_MS_MAX INT64_C(253402300799999)

void
user_init(struct user *u)
{
	memset(u, 0, sizeof(*u));
}

void
user_cleanup(struct user *u)
{
	if (u == NULL)
		return;
	free(u->username);
	/* Not the password, but no reason to leave a hash lying around. */
	xfree_secret(u->pwhash);
	user_init(u);
}

void
post_init(struct post *p)
{
	memset(p, 0, sizeof(*p));
}

void
post_cleanup(struct post *p)
{
	if (p == NULL)
		return;
	free(p->title);
	free(p->content);
	free(p->author_name);
	post_init(p);
}

void
post_list_init(struct post_list *l)
{
	l->v = NULL;
	l->n = 0;
}

void
post_list_cleanup(struct post_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		post_cleanup(&l->v[i]);
	free(l->v);
	post_list_init(l);
}

void
user_list_init(struct user_list *l)
{
	l->v = NULL;
	l->n = 0;
}

void
user_list_cleanup(struct user_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		user_cleanup(&l->v[i]);
	free(l->v);
	user_list_init(l);
}

enum board_err
user_list_adopt(struct user_list *out, enum board_err rc, void *v, size_t n)
{
	struct user_list l = { v, n };

	if (rc != BOARD_OK) {
		user_list_cleanup(&l);
		return rc;
	}
	user_list_cleanup(out);
	*out = l;
	return BOARD_OK;
}

enum board_err
post_list_adopt(struct post_list *out, enum board_err rc, void *v, size_t n)
{
	struct post_list l = { v, n };

	if (rc != BOARD_OK) {
		post_list_cleanup(&l);
		return rc;
	}
	post_list_cleanup(out);
	*out = l;
	return BOARD_OK;
}

bool
store_id_is_valid(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < STORE_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[i] == '\0';
}

void
store_id_new(char out[STORE_ID_LEN + 1])
{
	unsigned char b[STORE_ID_LEN / 2];
	uint32_t secs = (uint32_t)time(NULL);

	/* Like a MongoDB ObjectId: the seconds first, so ids roughly sort by
	 * age; then 64 random bits, so two processes never collide. */
	b[0] = (unsigned char)(secs >> 24);
	b[1] = (unsigned char)(secs >> 16);
	b[2] = (unsigned char)(secs >> 8);
	b[3] = (unsigned char)secs;
	randombytes_buf(b + 4, sizeof(b) - 4);
	sodium_bin2hex(out, STORE_ID_LEN + 1, b, sizeof(b));
}

char *
store_cursor_encode(const struct store_cursor *c)
{
	unsigned char b[CURSOR_BIN_LEN];
	uint64_t ms = (uint64_t)c->created_ms;
	char *out;
	size_t n;

	b[0] = CURSOR_VERSION;
	for (int i = 0; i < 8; i++)
		b[1 + i] = (unsigned char)(ms >> (56 - 8 * i));
	/* Our own ids are always valid; an invalid one would be a bug here. */
	if (sodium_hex2bin(b + 9, sizeof(b) - 9, c->id, STORE_ID_LEN, NULL, &n,
	    NULL) != 0 || n != sizeof(b) - 9)
		memset(b + 9, 0, sizeof(b) - 9);
	out = xmalloc(CURSOR_TXT_LEN + 1);
	sodium_bin2base64(out, CURSOR_TXT_LEN + 1, b, sizeof(b),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

enum board_err
store_cursor_decode(const char *s, struct store_cursor *out)
{
	unsigned char b[CURSOR_BIN_LEN];
	const char *end = NULL;
	uint64_t ms = 0;
	size_t n = 0;

	if (s == NULL || strlen(s) != CURSOR_TXT_LEN)
		return BOARD_EINVAL;
	/* libsodium 1.0.18 decodes bytes 0x80-0xff as base64 digits. */
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") != CURSOR_TXT_LEN)
		return BOARD_EINVAL;
	if (sodium_base642bin(b, sizeof(b), s, CURSOR_TXT_LEN, NULL, &n, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != sizeof(b) || end != s + CURSOR_TXT_LEN)
		return BOARD_EINVAL;
	if (b[0] != CURSOR_VERSION)
		return BOARD_EINVAL;
	for (int i = 0; i < 8; i++)
		ms = (ms << 8) | b[1 + i];
	if (ms > (uint64_t)CURSOR_MS_MAX)
		return BOARD_EINVAL;
	out->created_ms = (int64_t)ms;
	sodium_bin2hex(out->id, sizeof(out->id), b + 9, sizeof(b) - 9);
	return BOARD_OK;
}

enum board_err
store_open(const struct conf *c, struct store **out, char **errmsg)
{
	struct store *st = xcalloc(1, sizeof(*st));
	enum board_err rc;

	*out = NULL;
	if (c->mongodb_uri != NULL && c->mongodb_uri[0] != '\0')
		rc = store_mongo_open(c, st, errmsg);
	else
		rc = store_sqlite_open(c, st, errmsg);
	if (rc != BOARD_OK) {
		free(st);
		return rc;
	}
	*out = st;
	return BOARD_OK;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->ops != NULL && st->ops->close != NULL)
		st->ops->close(st->impl);
	free(st);
}
