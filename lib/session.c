/* session.c: the Redis sessions, as connect-redis stores them. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "board.h"
#include "log.h"
#include "redis.h"
#include "secret.h"
#include "session-doc.h"
#include "session.h"

/*
 * The user a recently loaded session belongs to (a session's user never
 * changes), so that session_load() can ask for the session and its user's
 * valid-from time in one round trip. Only a hint: the document decides,
 * and a miss or a wrong hint costs the second round trip it would save.
 * Direct-mapped by a hash of the session id; 1024 entries, 66 KiB a
 * process, allocated on first use.
 */
#define SESSION_HINTS 1024
#define SESSION_HINT_USER_MAX 32

struct session_hint {
	char sid[SECRET_ID_LEN + 1];
	char user_id[SESSION_HINT_USER_MAX + 1];
};

struct session_store {
	struct redis *redis;
	long ttl;		/* seconds */
	bool secure;		/* Secure cookie; also in the stored JSON */
	char *cookie_name;
	struct session_hint *hints;
};

void
session_init(struct session *s)
{
	memset(s, 0, sizeof(*s));
}

void
session_cleanup(struct session *s)
{
	if (s == NULL)
		return;
	free(s->user_id);
	free(s->username);
	memset(s, 0, sizeof(*s));
}

bool
session_sid_is_sane(const char *sid, size_t len)
{
	if (len == 0 || len > SECRET_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)sid[i];

		if (c <= 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

enum board_err
session_store_new(const struct conf *c, struct session_store **out,
    char **errmsg)
{
	struct session_store *ss = xcalloc(1, sizeof(*ss));
	enum board_err rc;

	*out = NULL;
	rc = redis_new(c->redis_url, &ss->redis, errmsg);
	if (rc != BOARD_OK) {
		session_store_free(ss);
		return rc;
	}
	ss->ttl = c->session_ttl;
	ss->secure = c->cookie_secure;
	if (c->cookie_name != NULL)
		ss->cookie_name = xstrdup(c->cookie_name);
	*out = ss;
	return BOARD_OK;
}

void
session_store_free(struct session_store *ss)
{
	if (ss == NULL)
		return;
	redis_free(ss->redis);
	free(ss->cookie_name);
	free(ss->hints);
	free(ss);
}

enum board_err
session_store_ping(struct session_store *ss)
{
	return redis_ping(ss->redis);
}

struct redis *
session_store_redis(struct session_store *ss)
{
	return ss->redis;
}

long
session_store_ttl(const struct session_store *ss)
{
	return ss->ttl;
}

const char *
session_store_cookie_name(const struct session_store *ss)
{
	return ss->cookie_name;
}

bool
session_store_is_secure(const struct session_store *ss)
{
	return ss->secure;
}

/*
 * The valid-from reply: nil (never set, or expired) is 0. Anything but
 * digits is treated as "now", so that a damaged key ends sessions rather
 * than reviving them.
 */
static int64_t
session_validfrom_of(const redisReply *r, const char *user_id)
{
	int64_t v = 0;

	if (r->type == REDIS_REPLY_NIL)
		return 0;
	if (r->type == REDIS_REPLY_STRING && r->len > 0 && r->len <= 18) {
		for (size_t i = 0; i < r->len; i++) {
			if (r->str[i] < '0' || r->str[i] > '9')
				goto bad;
			v = v * 10 + (r->str[i] - '0');
		}
		return v;
	}
bad:
	log_warn("session: unreadable valid-from time of user %s", user_id);
	return board_now_ms();
}

static struct session_hint *
session_hint_slot(struct session_store *ss, const char *sid)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	if (ss->hints == NULL)
		ss->hints = xcalloc(SESSION_HINTS, sizeof(*ss->hints));
	for (const char *p = sid; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &ss->hints[h % SESSION_HINTS];
}

/* connect-redis's touch of sid, and the read of user_id's valid-from. */
static void
session_touch_add(const struct session_store *ss, struct redis_cmds *c,
    const char *sid, const char *user_id)
{
	redis_cmds_add(c, "EXPIRE " SESSION_PREFIX "%s %ld", sid, ss->ttl);
	redis_cmds_add(c, "GET " SESSION_VALIDFROM_PREFIX "%s", user_id);
}

enum board_err
session_load(struct session_store *ss, const char *sid, struct session *out)
{
	struct redis_cmds c;
	redisReply *r[3] = { NULL, NULL, NULL };
	struct session_hint *hint;
	enum board_err rc;
	size_t len = strlen(sid);
	bool hinted;

	session_cleanup(out);
	if (!session_sid_is_sane(sid, len))
		return BOARD_ENOTFOUND;
	/*
	 * The valid-from time needs the userId the document holds. When this
	 * process has seen the session, its user is known: the document,
	 * connect-redis's touch and the valid-from time come in one round
	 * trip. Otherwise the document comes first and the other two in a
	 * second. A failure is 503, never the session: it may have ended
	 * (session_end_others, session_end_all).
	 */
	hint = session_hint_slot(ss, sid);
	hinted = strcmp(hint->sid, sid) == 0;
	redis_cmds_init(&c);
	redis_cmds_add(&c, "GET " SESSION_PREFIX "%s", sid);
	if (hinted)
		session_touch_add(ss, &c, sid, hint->user_id);
	if ((rc = redis_exec(ss->redis, &c, r, "GET",
	    REDIS_EXEC_IDEMPOTENT)) != BOARD_OK)
		return rc;
	rc = BOARD_ENOTFOUND;
	if (r[0]->type != REDIS_REPLY_STRING)
		goto out;
	rc = session_doc_parse(r[0]->str, r[0]->len, out);
	/*
	 * cookie.expires is the session's absolute end: the touch below
	 * slides the Redis TTL on every request (as connect-redis does), so
	 * without this a stolen cookie, replayed with its expiry ignored,
	 * would work for ever. express-session never checks it, but a
	 * browser stops sending the cookie then, so no honest client sees a
	 * difference. A session stored without expires keeps only the TTL.
	 */
	if (rc == BOARD_OK && out->expires_ms != 0 &&
	    out->expires_ms <= board_now_ms()) {
		rc = BOARD_ENOTFOUND;
		(void)session_destroy(ss, sid);
	}
	if (rc != BOARD_OK)
		goto out;
	if (!hinted || strcmp(hint->user_id, out->user_id) != 0) {
		for (size_t i = 1; i < 3; i++) {
			freeReplyObject(r[i]);
			r[i] = NULL;
		}
		redis_cmds_init(&c);
		session_touch_add(ss, &c, sid, out->user_id);
		if ((rc = redis_exec(ss->redis, &c, r + 1, "GET valid-from",
		    REDIS_EXEC_IDEMPOTENT)) != BOARD_OK)
			goto out;
		if (strlen(out->user_id) <= SESSION_HINT_USER_MAX) {
			memcpy(hint->sid, sid, len + 1);
			strcpy(hint->user_id, out->user_id);
		}
	}
	if (out->issued_ms < session_validfrom_of(r[2], out->user_id)) {
		rc = BOARD_ENOTFOUND;
		(void)session_destroy(ss, sid);
		goto out;
	}
	memcpy(out->sid, sid, len + 1);
out:
	if (rc != BOARD_OK)
		session_cleanup(out);
	for (size_t i = 0; i < 3; i++)
		freeReplyObject(r[i]);
	return rc;
}

enum board_err
session_create(struct session_store *ss, const char *user_id,
    const char *username, struct session *out)
{
	char *json;
	enum board_err rc;

	session_cleanup(out);
	secret_random_id(out->sid);
	out->user_id = xstrdup(user_id);
	out->username = xstrdup(username);
	out->issued_ms = board_now_ms();
	out->expires_ms = out->issued_ms + (int64_t)ss->ttl * 1000;
	json = session_doc_print(out, ss->ttl, ss->secure);
	rc = redis_command(ss->redis, NULL, "SET", REDIS_EXEC_IDEMPOTENT,
	    "SET " SESSION_PREFIX "%s %s EX %ld", out->sid, json, ss->ttl);
	if (rc != BOARD_OK)
		session_cleanup(out);
	cJSON_free(json);
	return rc;
}

enum board_err
session_destroy(struct session_store *ss, const char *sid)
{
	return redis_command(ss->redis, NULL, "DEL", REDIS_EXEC_IDEMPOTENT,
	    "DEL " SESSION_PREFIX "%s", sid);
}

/*
 * A valid-from time that ends every session issued up to now, also one
 * issued in this very millisecond (which may have come just before).
 */
static int64_t
session_validfrom_now(void)
{
	return board_now_ms() + 1;
}

/*
 * Adds to c the SET of user_id's valid-from time to vf, living as long as
 * a session does (no session issued before it can outlive it). The one
 * place the valid-from key is written.
 */
static void
session_validfrom_add(const struct session_store *ss, struct redis_cmds *c,
    const char *user_id, int64_t vf)
{
	redis_cmds_add(c, "SET " SESSION_VALIDFROM_PREFIX "%s %lld EX %ld",
	    user_id, (long long)vf, ss->ttl);
}

/*
 * Reads sid's stored document and sets *out to it with SESSION_ISSUED_KEY
 * set to issued_ms (caller frees with cJSON_free), or to NULL when it is
 * gone or unreadable. The document is rewritten rather than made anew so
 * that whatever else a Node service keeps in it stays. BOARD_OK or
 * BOARD_EUNAVAIL.
 */
static enum board_err
session_reissue(struct session_store *ss, const char *sid, int64_t issued_ms,
    char **out)
{
	redisReply *r;
	enum board_err rc;

	*out = NULL;
	if ((rc = redis_command(ss->redis, &r, "GET", REDIS_EXEC_IDEMPOTENT,
	    "GET " SESSION_PREFIX "%s", sid)) != BOARD_OK)
		return rc;
	if (r->type == REDIS_REPLY_STRING)
		*out = session_doc_reissue(r->str, r->len, issued_ms);
	freeReplyObject(r);
	return BOARD_OK;
}

enum board_err
session_end_others(struct session_store *ss, const struct session *s)
{
	struct redis_cmds c;
	int64_t vf = session_validfrom_now();
	char *json = NULL;
	enum board_err rc;

	if ((rc = session_reissue(ss, s->sid, vf, &json)) != BOARD_OK)
		return rc;
	/*
	 * One round trip, so that s is never left behind its own
	 * valid-from time while the connection holds. Its issue time equals
	 * valid-from: only sessions issued before it end.
	 */
	redis_cmds_init(&c);
	session_validfrom_add(ss, &c, s->user_id, vf);
	if (json != NULL)
		redis_cmds_add(&c, "SET " SESSION_PREFIX "%s %s EX %ld",
		    s->sid, json, ss->ttl);
	rc = redis_exec(ss->redis, &c, NULL, "SET valid-from",
	    REDIS_EXEC_IDEMPOTENT);
	cJSON_free(json);
	return rc;
}

/*
 * Sets user_id's valid-from time to now and, in the same round trip, when
 * sid is not NULL, deletes that session.
 */
static enum board_err
session_end(struct session_store *ss, const char *user_id, const char *sid)
{
	struct redis_cmds c;

	redis_cmds_init(&c);
	session_validfrom_add(ss, &c, user_id, session_validfrom_now());
	if (sid != NULL)
		redis_cmds_add(&c, "DEL " SESSION_PREFIX "%s", sid);
	return redis_exec(ss->redis, &c, NULL, "SET valid-from",
	    REDIS_EXEC_IDEMPOTENT);
}

enum board_err
session_end_user(struct session_store *ss, const char *user_id)
{
	return session_end(ss, user_id, NULL);
}

enum board_err
session_end_all(struct session_store *ss, const struct session *s)
{
	return session_end(ss, s->user_id, s->sid);
}
