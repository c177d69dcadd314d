/* session-doc.c: the session documents, in connect-redis's JSON shape. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "board.h"
#include "log.h"
#include "session-doc.h"
#include "session.h"

/* "2026-11-25T13:35:28.123Z" to ms since the epoch; false when not one. */
static bool
session_parse_iso(const char *s, int64_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, ms, n = 0;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &y, &mo, &d, &h, &mi,
	    &sec, &ms, &n) != 7 || n != BOARD_ISO_LEN || s[n] != '\0')
		return false;
	tm = (struct tm){ .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
	    .tm_hour = h, .tm_min = mi, .tm_sec = sec };
	t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*out = (int64_t)t * 1000 + ms;
	return true;
}

/* A string member, or an integral number as express may store ids. */
static char *
session_json_id(const cJSON *v)
{
	char num[32];

	if (cJSON_IsString(v) && v->valuestring != NULL)
		return xstrdup(v->valuestring);
	if (cJSON_IsNumber(v) && v->valuedouble >= -9007199254740991.0 &&
	    v->valuedouble <= 9007199254740991.0 &&
	    v->valuedouble == (double)(long long)v->valuedouble) {
		snprintf(num, sizeof(num), "%lld", (long long)v->valuedouble);
		return xstrdup(num);
	}
	return NULL;
}

/* A number of ms that an int64_t holds exactly; false for anything else. */
static bool
session_json_ms(const cJSON *v, int64_t *out)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0.0) ||
	    v->valuedouble > 9007199254740991.0)
		return false;
	*out = (int64_t)v->valuedouble;
	return true;
}

/*
 * When the session was issued. board writes it down (SESSION_ISSUED_KEY);
 * express-session does not, but sets cookie.expires to the issue time plus
 * cookie.originalMaxAge and rewrites expires only when it saves the
 * session again (connect-redis's touch is only an EXPIRE). Unknown is 0,
 * earlier than any valid-from time.
 */
static int64_t
session_issued(const cJSON *doc, const cJSON *cookie, int64_t expires_ms)
{
	int64_t t, max;

	if (session_json_ms(cJSON_GetObjectItemCaseSensitive(doc,
	    SESSION_ISSUED_KEY), &t))
		return t;
	if (expires_ms != 0 && session_json_ms(
	    cJSON_GetObjectItemCaseSensitive(cookie, "originalMaxAge"), &max) &&
	    max <= expires_ms)
		return expires_ms - max;
	return 0;
}

static enum board_err
session_from_json(const cJSON *doc, struct session *out)
{
	const cJSON *cookie, *exp;

	if (!cJSON_IsObject(doc))
		return BOARD_ENOTFOUND;
	out->user_id = session_json_id(cJSON_GetObjectItemCaseSensitive(doc,
	    "userId"));
	if (out->user_id == NULL || out->user_id[0] == '\0')
		return BOARD_ENOTFOUND;
	out->username = session_json_id(cJSON_GetObjectItemCaseSensitive(doc,
	    "username"));
	if (out->username == NULL)
		out->username = xstrdup("");
	cookie = cJSON_GetObjectItemCaseSensitive(doc, "cookie");
	exp = cJSON_GetObjectItemCaseSensitive(cookie, "expires");
	if (!cJSON_IsString(exp) ||
	    !session_parse_iso(exp->valuestring, &out->expires_ms))
		out->expires_ms = 0;
	out->issued_ms = session_issued(doc, cookie, out->expires_ms);
	return BOARD_OK;
}

enum board_err
session_doc_parse(const char *json, size_t len, struct session *out)
{
	cJSON *doc = cJSON_ParseWithLength(json, len);
	enum board_err rc = BOARD_ENOTFOUND;

	/* Unreadable JSON counts as no session, not as a server error. */
	if (doc != NULL)
		rc = session_from_json(doc, out);
	if (rc != BOARD_OK) {
		free(out->user_id);
		free(out->username);
		out->user_id = out->username = NULL;
	}
	cJSON_Delete(doc);
	return rc;
}

/* cJSON_PrintUnformatted, which fails only when out of memory. */
static char *
session_doc_print_json(const cJSON *doc)
{
	char *json = cJSON_PrintUnformatted(doc);

	if (json == NULL) {
		log_err("session: out of memory writing JSON");
		abort();
	}
	return json;
}

/* connect-redis's value: key order as express-session's Cookie.data. */
char *
session_doc_print(const struct session *s, long ttl, bool secure)
{
	char iso[BOARD_ISO_LEN + 1];
	cJSON *doc = cJSON_CreateObject(), *cookie = cJSON_CreateObject();
	char *json;

	board_iso_time(s->expires_ms, iso);
	cJSON_AddItemToObject(cookie, "originalMaxAge",
	    cJSON_CreateNumber((double)ttl * 1000.0));
	cJSON_AddItemToObject(cookie, "expires", cJSON_CreateString(iso));
	cJSON_AddItemToObject(cookie, "secure", cJSON_CreateBool(secure));
	cJSON_AddItemToObject(cookie, "httpOnly", cJSON_CreateTrue());
	cJSON_AddItemToObject(cookie, "path", cJSON_CreateString("/"));
	cJSON_AddItemToObject(cookie, "sameSite", cJSON_CreateString("lax"));
	cJSON_AddItemToObject(doc, "cookie", cookie);
	cJSON_AddItemToObject(doc, "userId", cJSON_CreateString(s->user_id));
	cJSON_AddItemToObject(doc, "username",
	    cJSON_CreateString(s->username));
	cJSON_AddItemToObject(doc, SESSION_ISSUED_KEY,
	    cJSON_CreateNumber((double)s->issued_ms));
	json = session_doc_print_json(doc);
	cJSON_Delete(doc);
	return json;
}

char *
session_doc_reissue(const char *json, size_t len, int64_t issued_ms)
{
	cJSON *doc = cJSON_ParseWithLength(json, len);
	char *out = NULL;

	if (cJSON_IsObject(doc)) {
		cJSON_DeleteItemFromObjectCaseSensitive(doc,
		    SESSION_ISSUED_KEY);
		cJSON_AddItemToObject(doc, SESSION_ISSUED_KEY,
		    cJSON_CreateNumber((double)issued_ms));
		out = session_doc_print_json(doc);
	}
	cJSON_Delete(doc);
	return out;
}
