/* store-mongo.c: the MongoDB / Amazon DocumentDB backend (mongo-c-driver). */
#include "config.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "log.h"
#include "store-mongo.h"
#include "store.h"

#define MONGO_DBNAME		"board"	/* when MONGODB_URI names none */
#define MONGO_APPNAME		"board"

struct store_mongo {
	mongoc_client_t *client;
	char *dbname;
	mongoc_collection_t *users;
	mongoc_collection_t *posts;
	/* For reads that must see the caller's own write. */
	mongoc_read_prefs_t *primary;
	/* The URI's read preference (a replica with secondaryPreferred). */
	mongoc_read_prefs_t *reads;
	/* Set while the server is unreachable, so an outage logs one warning
	 * and its end one notice instead of a line per request. */
	bool down;
};

static bool mongo_create_indexes(struct store_mongo *sm, bson_error_t *e);

/*
 * The documents are those of DATA.md, as the Node services' mongoose
 * models write them:
 *   users {_id, username, password, __v}
 *   posts {_id, title, content, author: ObjectId, createdAt, updatedAt, __v}
 * board adds users.createdAt of its own, which it never needs. The earlier
 * board layout (users.pwhash, posts.authorId/authorName) is refused, never
 * half read: board-admin migrate-layout moves it.
 */
#define MONGO_OLD_LAYOUT_HINT "run `board-admin migrate-layout " \
	"MONGODB_URI` once (users.pwhash, posts.authorId/authorName become " \
	"password, author)"

static const struct store_ops store_mongo_ops;

/*
 * mongoc's URI parser quotes a malformed password in its error message
 * ("Password \"%s\" must not have unescaped chars"). While we parse, this
 * holds the raw password so that text and the driver's log lines can be
 * scrubbed of it.
 */
static char *mongo_redact;

/* Replaces every occurrence of mongo_redact in s with "***". */
static char *
mongo_scrub(const char *s)
{
	struct buf b;
	const char *p;
	size_t n;

	if (mongo_redact == NULL || *mongo_redact == '\0')
		return xstrdup(s);
	n = strlen(mongo_redact);
	buf_init(&b);
	while ((p = strstr(s, mongo_redact)) != NULL) {
		buf_append(&b, s, (size_t)(p - s));
		buf_puts(&b, "***");
		s = p + n;
	}
	buf_puts(&b, s);
	return buf_steal(&b);
}

/*
 * The driver's own log lines go through our logger: its default handler
 * writes informational lines to stdout, which is the FastCGI stream in a
 * responder. Only warnings and worse are kept.
 */
static void
mongo_log_handler(mongoc_log_level_t level, const char *domain,
    const char *message, void *data)
{
	enum log_level l;
	char *m;

	(void)data;
	if (level > MONGOC_LOG_LEVEL_WARNING)
		return;
	l = level == MONGOC_LOG_LEVEL_WARNING ? LOG_WARN : LOG_ERR;
	/* At close the driver ends its implicit sessions; a server without
	 * endSessions (or one already gone) only lets them time out. */
	if (strstr(message, "\"endSessions\"") != NULL)
		l = LOG_DEBUG;
	m = mongo_scrub(message);
	log_msg(l, "store: mongoc %s: %s", domain, m);
	free(m);
}

/* mongoc_init() may run only once per process; its cleanup runs at exit. */
static void
mongo_global_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	mongoc_log_set_handler(mongo_log_handler, NULL);
	mongoc_log_trace_disable();
	mongoc_init();
	atexit(mongoc_cleanup);
}

/*
 * The raw password of a mongodb:// URI: what sits between the first ':'
 * after the scheme and the last '@', or NULL. A malformed password may
 * hold '/' or '?' itself, so the last '@' anywhere is taken; scrubbing a
 * little too much from a message is harmless.
 */
static char *
mongo_uri_raw_password(const char *uri)
{
	const char *auth, *at, *colon;

	auth = strstr(uri, "://");
	at = strrchr(uri, '@');
	if (auth == NULL || at == NULL || at < auth + 3)
		return NULL;
	auth += 3;
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (colon == NULL || colon + 1 == at)
		return NULL;
	return xstrndup(colon + 1, (size_t)(at - colon - 1));
}

/* The hosts a URI names, for messages: never the credentials. */
static void
mongo_uri_hosts(const mongoc_uri_t *uri, struct buf *b)
{
	const mongoc_host_list_t *h;
	const char *srv;

	srv = mongoc_uri_get_srv_hostname(uri);
	if (srv != NULL) {
		buf_printf(b, "mongodb+srv://%s", srv);
		return;
	}
	for (h = mongoc_uri_get_hosts(uri); h != NULL; h = h->next)
		buf_printf(b, "%s%s", b->len > 0 ? "," : "", h->host_and_port);
	if (b->len == 0)
		buf_puts(b, "(no host)");
}

/* Server error codes that mean "not reachable right now", not a bug:
 * network, shutdown, failover (the retryable-error list of the driver
 * specifications) and authentication. */
static bool
mongo_code_is_transient(uint32_t code)
{
	static const uint32_t codes[] = {
		6, 7, 13, 18, 50, 89, 91, 189, 262, 9001, 10107, 11600,
		11602, 13435, 13436,
	};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i] == code)
			return true;
	return false;
}

static bool
mongo_code_is_duplicate(uint32_t code)
{
	return code == 11000 || code == 11001;
}

static bool
mongo_iter_is_number(const bson_iter_t *it)
{
	return BSON_ITER_HOLDS_INT32(it) || BSON_ITER_HOLDS_INT64(it) ||
	    BSON_ITER_HOLDS_DOUBLE(it);
}

/* Client-side errors that mean the server could not be reached. */
static bool
mongo_error_is_network(const bson_error_t *e)
{
	switch (e->domain) {
	case MONGOC_ERROR_STREAM:
	case MONGOC_ERROR_SERVER_SELECTION:
	case MONGOC_ERROR_PROTOCOL:
	case MONGOC_ERROR_CLIENT:
	case MONGOC_ERROR_SASL:
	case MONGOC_ERROR_SCRAM:
		return true;
	default:
		return false;
	}
}

/* The server is down, unreachable, failing over or refusing us: 503. */
static bool
mongo_error_is_unavailable(const bson_error_t *e)
{
	return mongo_error_is_network(e) ||
	    ((e->domain == MONGOC_ERROR_SERVER ||
	    e->domain == MONGOC_ERROR_WRITE_CONCERN) &&
	    mongo_code_is_transient(e->code));
}

/*
 * Maps a failed operation to a code and logs it once. what names the
 * operation. Unreachable-server errors log at warning level on the first
 * failure of an outage only (then debug), so a down server does not fill
 * the journal with one line per request.
 */
static enum board_err
mongo_fail(struct store_mongo *sm, const char *what, const bson_error_t *e)
{
	bool server = e->domain == MONGOC_ERROR_SERVER ||
	    e->domain == MONGOC_ERROR_WRITE_CONCERN;

	if (server && mongo_code_is_duplicate(e->code))
		return BOARD_EEXIST;
	if (mongo_error_is_unavailable(e)) {
		log_msg(sm->down ? LOG_DEBUG : LOG_WARN,
		    "store: MongoDB unavailable (%s): %s", what, e->message);
		sm->down = true;
		return BOARD_EUNAVAIL;
	}
	log_err("store: MongoDB %s failed (domain %u, code %u): %s", what,
	    e->domain, e->code, e->message);
	return BOARD_EINTERNAL;
}

/*
 * Called before each operation. After an outage the indexes are ensured
 * again before anything is written: a server that came back empty (a
 * restored or in-memory one) must still refuse duplicate usernames.
 */
static enum board_err
mongo_ready(struct store_mongo *sm)
{
	bson_error_t e;

	if (!sm->down)
		return BOARD_OK;
	if (!mongo_create_indexes(sm, &e)) {
		if (mongo_error_is_unavailable(&e))
			return mongo_fail(sm, "create indexes", &e);
		log_err("store: MongoDB create indexes failed: %s", e.message);
	}
	log_info("store: MongoDB reachable again");
	sm->down = false;
	return BOARD_OK;
}

/* true when a write reply carries a duplicate-key error in writeErrors
 * (older servers and some drivers report it only there). */
static bool
mongo_reply_has_duplicate(const bson_t *reply)
{
	bson_iter_t it, arr, doc;

	if (!bson_iter_init_find(&it, reply, "writeErrors") ||
	    !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &arr))
		return false;
	while (bson_iter_next(&arr)) {
		if (!BSON_ITER_HOLDS_DOCUMENT(&arr) ||
		    !bson_iter_recurse(&arr, &doc))
			continue;
		if (bson_iter_find(&doc, "code") &&
		    mongo_iter_is_number(&doc) &&
		    mongo_code_is_duplicate((uint32_t)bson_iter_as_int64(&doc)))
			return true;
	}
	return false;
}

static int64_t
mongo_reply_count(const bson_t *reply, const char *field)
{
	bson_iter_t it;

	if (bson_iter_init_find(&it, reply, field) &&
	    mongo_iter_is_number(&it))
		return bson_iter_as_int64(&it);
	return 0;
}

/*
 * Parses an id. Only our own form (24 lower-case hex digits) is accepted,
 * so "ABC…" and "abc…" never name the same post; anything else is
 * ENOTFOUND without a round trip.
 */
static bool
mongo_oid_parse(const char *id, bson_oid_t *oid)
{
	if (id == NULL || !store_id_is_valid(id) ||
	    !bson_oid_is_valid(id, strlen(id)))
		return false;
	bson_oid_init_from_string(oid, id);
	return true;
}

/* Copies the string at key (or "" when absent or not a string). */
static char *
mongo_dup_utf8(const bson_t *doc, const char *key)
{
	bson_iter_t it;
	const char *s;
	uint32_t n;

	if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_UTF8(&it))
		return xstrdup("");
	s = bson_iter_utf8(&it, &n);
	return xstrndup(s, n);
}

/* Writes the id at key as hex; false when it is not an id. Accepts an
 * ObjectId or a string of our form (documents written by other tools). */
static bool
mongo_get_id(const bson_t *doc, const char *key, char out[STORE_ID_LEN + 1])
{
	bson_iter_t it;
	const char *s;

	if (!bson_iter_init_find(&it, doc, key))
		return false;
	if (BSON_ITER_HOLDS_OID(&it)) {
		bson_oid_to_string(bson_iter_oid(&it), out);
		return true;
	}
	if (BSON_ITER_HOLDS_UTF8(&it)) {
		s = bson_iter_utf8(&it, NULL);
		if (store_id_is_valid(s)) {
			memcpy(out, s, STORE_ID_LEN + 1);
			return true;
		}
	}
	return false;
}

static int64_t
mongo_get_ms(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, doc, key))
		return 0;
	if (BSON_ITER_HOLDS_DATE_TIME(&it))
		return bson_iter_date_time(&it);
	if (mongo_iter_is_number(&it))
		return bson_iter_as_int64(&it);
	return 0;
}

/* Every find this process sent (store_mongo_finds()). */
static uint64_t mongo_finds;

uint64_t
store_mongo_finds(void)
{
	return mongo_finds;
}

static mongoc_cursor_t *
mongo_find(mongoc_collection_t *coll, const bson_t *filter,
    const bson_t *opts, const mongoc_read_prefs_t *prefs)
{
	mongo_finds++;
	return mongoc_collection_find_with_opts(coll, filter, opts, prefs);
}

static bool
mongo_has(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, key);
}

/*
 * A document of the earlier board layout: refused with one error line per
 * process (a database holds either layout throughout), so the operator
 * learns what to run, and answered 503 rather than misread.
 */
static enum board_err
mongo_old_layout(const char *coll, const char *id)
{
	static bool logged;

	log_msg(logged ? LOG_DEBUG : LOG_ERR, "store: %s %s is in the earlier "
	    "board layout: " MONGO_OLD_LAYOUT_HINT, coll, id);
	logged = true;
	return BOARD_EINTERNAL;
}

/* The ObjectId's time, for documents without a createdAt of their own. */
static int64_t
mongo_id_ms(const char *id)
{
	bson_oid_t oid;

	if (!store_id_is_valid(id))
		return 0;
	bson_oid_init_from_string(&oid, id);
	return (int64_t)bson_oid_get_time_t(&oid) * 1000;
}

static enum board_err
mongo_doc_to_user(const bson_t *doc, struct user *out)
{
	user_cleanup(out);
	user_init(out);
	if (!mongo_get_id(doc, "_id", out->id)) {
		log_err("store: a users document has no ObjectId _id");
		return BOARD_EINTERNAL;
	}
	if (!mongo_has(doc, "password") && mongo_has(doc, "pwhash"))
		return mongo_old_layout("user", out->id);
	out->username = mongo_dup_utf8(doc, "username");
	/* Absent or not a string: "", which no scheme reads (login fails,
	 * logging "unknown hash scheme"). */
	out->pwhash = mongo_dup_utf8(doc, "password");
	out->created_ms = mongo_has(doc, "createdAt") ?
	    mongo_get_ms(doc, "createdAt") : mongo_id_ms(out->id);
	return BOARD_OK;
}

/* author_name stays "" here: mongo_fill_authors() looks the names up. */
static enum board_err
mongo_doc_to_post(const bson_t *doc, struct post *out)
{
	post_cleanup(out);
	post_init(out);
	if (!mongo_get_id(doc, "_id", out->id)) {
		log_err("store: a posts document has no ObjectId _id");
		return BOARD_EINTERNAL;
	}
	if (!mongo_get_id(doc, "author", out->author_id)) {
		if (!mongo_has(doc, "author") && mongo_has(doc, "authorId"))
			return mongo_old_layout("post", out->id);
		out->author_id[0] = '\0';
	}
	out->title = mongo_dup_utf8(doc, "title");
	out->content = mongo_dup_utf8(doc, "content");
	out->author_name = xstrdup("");
	out->created_ms = mongo_get_ms(doc, "createdAt");
	out->updated_ms = mongo_get_ms(doc, "updatedAt");
	return BOARD_OK;
}

bool
store_mongo_prefs_may_lag(const mongoc_read_prefs_t *prefs)
{
	return prefs != NULL &&
	    mongoc_read_prefs_get_mode(prefs) != MONGOC_READ_PRIMARY;
}

enum board_err
store_mongo_find_fallback(const mongoc_read_prefs_t *prefs,
    const mongoc_read_prefs_t *primary, store_mongo_find_fn *find, void *arg)
{
	enum board_err rc = find(arg, prefs);

	/* Only "not there": an error on the replica is the answer (the
	 * driver itself already turns to the primary when no secondary is
	 * up, under secondaryPreferred). */
	if (rc == BOARD_ENOTFOUND && store_mongo_prefs_may_lag(prefs))
		rc = find(arg, primary);
	return rc;
}

static enum board_err
mongo_ping(void *impl)
{
	struct store_mongo *sm = impl;
	bson_t *cmd = BCON_NEW("ping", BCON_INT32(1));
	bson_error_t e;
	enum board_err rc;

	/* NULL read prefs: whatever member the URI would read from. */
	rc = mongo_ready(sm);
	if (rc == BOARD_OK && !mongoc_client_command_simple(sm->client,
	    "admin", cmd, NULL, NULL, &e))
		rc = mongo_fail(sm, "ping", &e);
	bson_destroy(cmd);
	return rc;
}

static enum board_err
mongo_user_create(void *impl, const char *username, const char *pwhash,
    struct user *out)
{
	struct store_mongo *sm = impl;
	bson_t doc = BSON_INITIALIZER, reply;
	bson_oid_t oid;
	bson_error_t e;
	enum board_err rc;

	if ((rc = mongo_ready(sm)) != BOARD_OK)
		return rc;
	bson_oid_init(&oid, NULL);
	BSON_APPEND_OID(&doc, "_id", &oid);
	BSON_APPEND_UTF8(&doc, "username", username);
	BSON_APPEND_UTF8(&doc, "password", pwhash);
	/* board's own; mongoose's User has no timestamps. */
	BSON_APPEND_DATE_TIME(&doc, "createdAt", board_now_ms());
	BSON_APPEND_INT32(&doc, "__v", 0);
	/* The unique index on username decides races between signups. */
	if (!mongoc_collection_insert_one(sm->users, &doc, NULL, &reply, &e)) {
		rc = mongo_reply_has_duplicate(&reply) ? BOARD_EEXIST :
		    mongo_fail(sm, "insert user", &e);
		goto out;
	}
	user_cleanup(out);
	user_init(out);
	bson_oid_to_string(&oid, out->id);
	out->username = xstrdup(username);
	out->pwhash = xstrdup(pwhash);
	rc = BOARD_OK;
out:
	bson_destroy(&reply);
	bson_destroy(&doc);
	return rc;
}

/* mongo_doc_to_user() and mongo_doc_to_post() as the reader of
 * mongo_find_one() and mongo_rows(). */
typedef enum board_err (*mongo_doc_fn)(const bson_t *doc, void *out);

/*
 * Runs a find for at most one document and converts it with conv.
 * prefs NULL: the URI's read preference.
 */
static enum board_err
mongo_find_one(struct store_mongo *sm, mongoc_collection_t *coll,
    const bson_t *filter, const mongoc_read_prefs_t *prefs, const char *what,
    mongo_doc_fn conv, void *out)
{
	bson_t *opts;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t e;
	enum board_err rc;

	if ((rc = mongo_ready(sm)) != BOARD_OK)
		return rc;
	rc = BOARD_ENOTFOUND;
	opts = BCON_NEW("limit", BCON_INT64(1));
	cur = mongo_find(coll, filter, opts, prefs);
	if (mongoc_cursor_next(cur, &doc))
		rc = conv(doc, out);
	else if (mongoc_cursor_error(cur, &e))
		rc = mongo_fail(sm, what, &e);
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	return rc;
}

static enum board_err
mongo_conv_user(const bson_t *doc, void *out)
{
	return mongo_doc_to_user(doc, out);
}

static enum board_err
mongo_conv_post(const bson_t *doc, void *out)
{
	return mongo_doc_to_post(doc, out);
}

static enum board_err
mongo_user_find_by_name(void *impl, const char *username, struct user *out)
{
	struct store_mongo *sm = impl;
	bson_t *filter = BCON_NEW("username", BCON_UTF8(username));
	enum board_err rc;

	/* Primary: a login right after signup must see the new user. */
	rc = mongo_find_one(sm, sm->users, filter, sm->primary, "find user",
	    mongo_conv_user, out);
	bson_destroy(filter);
	return rc;
}

static enum board_err
mongo_user_set_hash(void *impl, const char *user_id, const char *pwhash)
{
	struct store_mongo *sm = impl;
	bson_t *filter = NULL, *update = NULL;
	bson_t reply = BSON_INITIALIZER;
	bson_oid_t oid;
	bson_error_t e;
	enum board_err rc = BOARD_ENOTFOUND;

	if (!mongo_oid_parse(user_id, &oid))
		goto out;
	if ((rc = mongo_ready(sm)) != BOARD_OK)
		goto out;
	bson_destroy(&reply);
	filter = BCON_NEW("_id", BCON_OID(&oid));
	update = BCON_NEW("$set", "{", "password", BCON_UTF8(pwhash), "}");
	if (!mongoc_collection_update_one(sm->users, filter, update, NULL,
	    &reply, &e)) {
		rc = mongo_fail(sm, "update user", &e);
		goto out;
	}
	rc = mongo_reply_count(&reply, "matchedCount") > 0 ? BOARD_OK :
	    BOARD_ENOTFOUND;
out:
	bson_destroy(&reply);
	bson_destroy(update);
	bson_destroy(filter);
	return rc;
}

static enum board_err
mongo_post_create(void *impl, const char *author_id, const char *author_name,
    const char *title, size_t title_len, const char *content,
    size_t content_len, int64_t now_ms, struct post *out)
{
	struct store_mongo *sm = impl;
	bson_t doc = BSON_INITIALIZER, reply;
	bson_oid_t oid, author;
	bson_error_t e;
	enum board_err rc;

	/* An author id is ours (from the session), never client input. */
	if (!mongo_oid_parse(author_id, &author) || title_len > INT_MAX ||
	    content_len > INT_MAX)
		return BOARD_EINVAL;
	if ((rc = mongo_ready(sm)) != BOARD_OK)
		return rc;
	bson_oid_init(&oid, NULL);
	BSON_APPEND_OID(&doc, "_id", &oid);
	bson_append_utf8(&doc, "title", -1, title, (int)title_len);
	bson_append_utf8(&doc, "content", -1, content, (int)content_len);
	BSON_APPEND_OID(&doc, "author", &author);
	BSON_APPEND_DATE_TIME(&doc, "createdAt", now_ms);
	BSON_APPEND_DATE_TIME(&doc, "updatedAt", now_ms);
	BSON_APPEND_INT32(&doc, "__v", 0);
	if (!mongoc_collection_insert_one(sm->posts, &doc, NULL, &reply, &e)) {
		rc = mongo_fail(sm, "insert post", &e);
		goto out;
	}
	/* The stored document is exactly what we sent: no read back. */
	post_cleanup(out);
	post_init(out);
	bson_oid_to_string(&oid, out->id);
	memcpy(out->author_id, author_id, STORE_ID_LEN + 1);
	out->title = xstrndup(title, title_len);
	out->content = xstrndup(content, content_len);
	out->author_name = xstrdup(author_name);
	out->created_ms = now_ms;
	out->updated_ms = now_ms;
	rc = BOARD_OK;
out:
	bson_destroy(&reply);
	bson_destroy(&doc);
	return rc;
}

/*
 * One $in query for the authors of posts v[0..n) that have no name yet
 * (names found are set; the others keep ""). prefs NULL: the URI's.
 */
static enum board_err
mongo_fill_authors_once(struct store_mongo *sm, struct post *v, size_t n,
    const mongoc_read_prefs_t *prefs)
{
	bson_t filter = BSON_INITIALIZER, in, ids;
	bson_t *opts;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t e;
	bson_oid_t oid;
	char key[16], id[STORE_ID_LEN + 1];
	uint32_t k = 0;
	enum board_err rc = BOARD_OK;

	BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &in);
	BSON_APPEND_ARRAY_BEGIN(&in, "$in", &ids);
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		if (v[i].author_name[0] != '\0' ||
		    !mongo_oid_parse(v[i].author_id, &oid))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = v[j].author_name[0] == '\0' &&
			    strcmp(v[j].author_id, v[i].author_id) == 0;
		if (seen)
			continue;
		snprintf(key, sizeof(key), "%u", k++);
		BSON_APPEND_OID(&ids, key, &oid);
	}
	bson_append_array_end(&in, &ids);
	bson_append_document_end(&filter, &in);
	if (k == 0) {
		bson_destroy(&filter);
		return BOARD_OK;
	}
	/* The names only: never carry password hashes about. */
	opts = BCON_NEW("projection", "{", "username", BCON_INT32(1), "}");
	cur = mongo_find(sm->users, &filter, opts, prefs);
	while (mongoc_cursor_next(cur, &doc)) {
		char *name;

		if (!mongo_get_id(doc, "_id", id))
			continue;
		name = NULL;
		for (size_t i = 0; i < n; i++) {
			if (v[i].author_name[0] != '\0' ||
			    strcmp(v[i].author_id, id) != 0)
				continue;
			if (name == NULL)
				name = mongo_dup_utf8(doc, "username");
			free(v[i].author_name);
			v[i].author_name = xstrdup(name);
		}
		free(name);
	}
	if (mongoc_cursor_error(cur, &e))
		rc = mongo_fail(sm, "find authors", &e);
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	bson_destroy(&filter);
	return rc;
}

/*
 * Names the authors of posts v[0..n): one query for the page, never one
 * per post; and when prefs may read a lagging replica and some author was
 * not there (a user who just signed up), one more on the primary for
 * those. An author still not found no longer exists: the name stays "".
 */
static enum board_err
mongo_fill_authors(struct store_mongo *sm, struct post *v, size_t n,
    const mongoc_read_prefs_t *prefs)
{
	enum board_err rc;
	bool missing = false;

	rc = mongo_fill_authors_once(sm, v, n, prefs);
	for (size_t i = 0; rc == BOARD_OK && i < n && !missing; i++)
		missing = v[i].author_name[0] == '\0' &&
		    v[i].author_id[0] != '\0';
	if (rc == BOARD_OK && missing && store_mongo_prefs_may_lag(prefs))
		rc = mongo_fill_authors_once(sm, v, n, sm->primary);
	return rc;
}

/* A find of one post by _id, as store_mongo_find_fallback() wants it. */
struct mongo_post_finder {
	struct store_mongo *sm;
	const bson_t *filter;
	struct post *out;
	const mongoc_read_prefs_t *used;	/* the prefs that found it */
};

static enum board_err
mongo_post_finder(void *arg, const mongoc_read_prefs_t *prefs)
{
	struct mongo_post_finder *f = arg;

	f->used = prefs;
	return mongo_find_one(f->sm, f->sm->posts, f->filter, prefs,
	    "find post", mongo_conv_post, f->out);
}

static enum board_err
mongo_post_find(void *impl, const char *id, bool primary, struct post *out)
{
	struct store_mongo *sm = impl;
	struct mongo_post_finder f;
	bson_t *filter;
	bson_oid_t oid;
	enum board_err rc;

	if (!mongo_oid_parse(id, &oid))
		return BOARD_ENOTFOUND;
	filter = BCON_NEW("_id", BCON_OID(&oid));
	f.sm = sm;
	f.filter = filter;
	f.out = out;
	f.used = NULL;
	/* An author check reads the primary; a reader the replica first. */
	rc = store_mongo_find_fallback(primary ? sm->primary : sm->reads,
	    sm->primary, mongo_post_finder, &f);
	if (rc == BOARD_OK)
		rc = mongo_fill_authors(sm, out, 1, f.used);
	bson_destroy(filter);
	return rc;
}

/*
 * {_id: id, author: {$in: [<ObjectId>, "<hex>"]}}: the post, if author
 * wrote it. author is an ObjectId (DATA.md, as mongoose writes it); the
 * string form is matched too, for a document some other writer stored
 * with the id as text. NULL when an id is malformed (caller destroys).
 */
/* {author: {$in: [<ObjectId>, "<hex>"]}}: author_id's posts, in either
 * form, as mongo_post_filter() matches them. */
static bson_t *
mongo_author_filter(const bson_oid_t *author, const char *author_id)
{
	return BCON_NEW("author", "{", "$in", "[", BCON_OID(author),
	    BCON_UTF8(author_id), "]", "}");
}

static bson_t *
mongo_post_filter(const char *id, const char *author_id)
{
	bson_oid_t oid, author;

	if (!mongo_oid_parse(id, &oid) || !mongo_oid_parse(author_id, &author))
		return NULL;
	return BCON_NEW("_id", BCON_OID(&oid), "author", "{", "$in", "[",
	    BCON_OID(&author), BCON_UTF8(author_id), "]", "}");
}

static enum board_err
mongo_post_update(void *impl, const char *id, const char *author_id,
    const char *title, size_t title_len, const char *content,
    size_t content_len, int64_t now_ms, struct post *out)
{
	struct store_mongo *sm = impl;
	mongoc_find_and_modify_opts_t *fam = NULL;
	bson_t *filter = NULL;
	bson_t update = BSON_INITIALIZER, set, reply = BSON_INITIALIZER;
	bson_iter_t it;
	bson_error_t e;
	enum board_err rc = BOARD_ENOTFOUND;

	if ((filter = mongo_post_filter(id, author_id)) == NULL)
		goto out;
	if (title_len > INT_MAX || content_len > INT_MAX) {
		rc = BOARD_EINVAL;
		goto out;
	}
	if ((rc = mongo_ready(sm)) != BOARD_OK)
		goto out;
	rc = BOARD_ENOTFOUND;	/* unless the reply holds the document */
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	if (title != NULL)
		bson_append_utf8(&set, "title", -1, title, (int)title_len);
	if (content != NULL)
		bson_append_utf8(&set, "content", -1, content,
		    (int)content_len);
	BSON_APPEND_DATE_TIME(&set, "updatedAt", now_ms);
	bson_append_document_end(&update, &set);
	/* findAndModify runs on the primary and hands back the document
	 * as written, so the caller sees its own update. */
	fam = mongoc_find_and_modify_opts_new();
	mongoc_find_and_modify_opts_set_update(fam, &update);
	mongoc_find_and_modify_opts_set_flags(fam,
	    MONGOC_FIND_AND_MODIFY_RETURN_NEW);
	bson_destroy(&reply);
	if (!mongoc_collection_find_and_modify_with_opts(sm->posts, filter, fam,
	    &reply, &e)) {
		rc = mongo_fail(sm, "update post", &e);
		goto out;
	}
	if (bson_iter_init_find(&it, &reply, "value") &&
	    BSON_ITER_HOLDS_DOCUMENT(&it)) {
		const uint8_t *data;
		uint32_t len;
		bson_t value;

		bson_iter_document(&it, &len, &data);
		if (bson_init_static(&value, data, len))
			rc = mongo_doc_to_post(&value, out);
		else
			rc = BOARD_EINTERNAL;
		if (rc == BOARD_OK)
			rc = mongo_fill_authors(sm, out, 1, sm->primary);
	}
out:
	mongoc_find_and_modify_opts_destroy(fam);
	bson_destroy(&reply);
	bson_destroy(&update);
	bson_destroy(filter);
	return rc;
}

static enum board_err
mongo_post_delete(void *impl, const char *id, const char *author_id)
{
	struct store_mongo *sm = impl;
	bson_t *filter = NULL;
	bson_t reply = BSON_INITIALIZER;
	bson_error_t e;
	enum board_err rc = BOARD_ENOTFOUND;

	if ((filter = mongo_post_filter(id, author_id)) == NULL)
		goto out;
	if ((rc = mongo_ready(sm)) != BOARD_OK)
		goto out;
	bson_destroy(&reply);
	if (!mongoc_collection_delete_one(sm->posts, filter, NULL, &reply,
	    &e)) {
		rc = mongo_fail(sm, "delete post", &e);
		goto out;
	}
	rc = mongo_reply_count(&reply, "deletedCount") > 0 ? BOARD_OK :
	    BOARD_ENOTFOUND;
out:
	bson_destroy(&reply);
	bson_destroy(filter);
	return rc;
}

static enum board_err
mongo_user_find_by_id(void *impl, const char *id, struct user *out)
{
	struct store_mongo *sm = impl;
	bson_t *filter;
	bson_oid_t oid;
	enum board_err rc;

	if (!mongo_oid_parse(id, &oid))
		return BOARD_ENOTFOUND;
	filter = BCON_NEW("_id", BCON_OID(&oid));
	rc = mongo_find_one(sm, sm->users, filter, sm->primary, "find user",
	    mongo_conv_user, out);
	bson_destroy(filter);
	return rc;
}

/*
 * Reads at most limit documents of the find filter, opts (the limit among
 * them) on coll with prefs (NULL: the URI's), each with conv into a
 * growing array of size-byte elements: *v and *n, set even on an error,
 * for the caller to free (user_list_adopt(), post_list_adopt()). what
 * names the read in a log.
 */
static enum board_err
mongo_rows(struct store_mongo *sm, mongoc_collection_t *coll,
    const bson_t *filter, const bson_t *opts,
    const mongoc_read_prefs_t *prefs, const char *what, int limit,
    size_t size, mongo_doc_fn conv, void **v, size_t *n)
{
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t e;
	char *a = NULL;
	size_t cap = 0, i = 0;
	enum board_err rc = BOARD_OK;

	cur = mongo_find(coll, filter, opts, prefs);
	while (rc == BOARD_OK && i < (size_t)limit &&
	    mongoc_cursor_next(cur, &doc)) {
		/* Grow as documents come: limit is a bound, not a size. */
		if (i == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			a = xrealloc(a, cap * size);
		}
		/* Zeroed, as user_init()/post_init() do: conv cleans it. */
		memset(a + i * size, 0, size);
		rc = conv(doc, a + i++ * size);
	}
	*v = a;
	*n = i;
	if (rc == BOARD_OK && mongoc_cursor_error(cur, &e))
		rc = mongo_fail(sm, what, &e);
	mongoc_cursor_destroy(cur);
	return rc;
}

static enum board_err
mongo_post_list(void *impl, const struct store_cursor *after, int limit,
    struct post_list *out)
{
	struct store_mongo *sm = impl;
	bson_t *filter, *opts;
	bson_oid_t oid;
	enum board_err rc;
	size_t n;
	void *v;

	if (limit < 1 || (after != NULL && !mongo_oid_parse(after->id, &oid)))
		return BOARD_EINVAL;
	if ((rc = mongo_ready(sm)) != BOARD_OK)
		return rc;
	if (after == NULL) {
		filter = bson_new();
	} else {
		/* Keyset paging on the (createdAt, _id) index: no $expr,
		 * which DocumentDB lacks. */
		filter = BCON_NEW("$or", "[",
		    "{", "createdAt", "{", "$lt",
			BCON_DATE_TIME(after->created_ms), "}", "}",
		    "{", "createdAt", BCON_DATE_TIME(after->created_ms),
			"_id", "{", "$lt", BCON_OID(&oid), "}", "}",
		    "]");
	}
	opts = BCON_NEW("sort", "{", "createdAt", BCON_INT32(-1),
	    "_id", BCON_INT32(-1), "}", "limit", BCON_INT64(limit));
	/* NULL read prefs: a listing may come from a replica. */
	rc = mongo_rows(sm, sm->posts, filter, opts, NULL, "list posts",
	    limit, sizeof(*out->v), mongo_conv_post, &v, &n);
	if (rc == BOARD_OK)
		rc = mongo_fill_authors(sm, v, n, sm->reads);
	bson_destroy(opts);
	bson_destroy(filter);
	return post_list_adopt(out, rc, v, n);
}

/* coll in _id order after after_id (NULL or "": from the first), at most
 * limit documents, on the primary; as mongo_rows(). */
static enum board_err
mongo_scan(struct store_mongo *sm, mongoc_collection_t *coll,
    const char *what, const char *after_id, int limit, size_t size,
    mongo_doc_fn conv, void **v, size_t *n)
{
	bson_t *filter, *opts;
	bson_oid_t oid;
	enum board_err rc;

	*v = NULL;
	*n = 0;
	if (limit < 1)
		return BOARD_EINVAL;
	if (after_id != NULL && *after_id != '\0') {
		if (!mongo_oid_parse(after_id, &oid))
			return BOARD_EINVAL;
		filter = BCON_NEW("_id", "{", "$gt", BCON_OID(&oid), "}");
	} else {
		filter = bson_new();
	}
	opts = BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}",
	    "limit", BCON_INT64(limit));
	rc = mongo_ready(sm);
	if (rc == BOARD_OK)
		rc = mongo_rows(sm, coll, filter, opts, sm->primary, what,
		    limit, size, conv, v, n);
	bson_destroy(opts);
	bson_destroy(filter);
	return rc;
}

static enum board_err
mongo_user_scan(void *impl, const char *after_id, int limit,
    struct user_list *out)
{
	struct store_mongo *sm = impl;
	enum board_err rc;
	size_t n;
	void *v;

	rc = mongo_scan(sm, sm->users, "scan users", after_id, limit,
	    sizeof(*out->v), mongo_conv_user, &v, &n);
	return user_list_adopt(out, rc, v, n);
}

static enum board_err
mongo_post_scan(void *impl, const char *after_id, int limit,
    struct post_list *out)
{
	struct store_mongo *sm = impl;
	enum board_err rc;
	size_t n;
	void *v;

	rc = mongo_scan(sm, sm->posts, "scan posts", after_id, limit,
	    sizeof(*out->v), mongo_conv_post, &v, &n);
	if (rc == BOARD_OK)
		rc = mongo_fill_authors(sm, v, n, sm->primary);
	return post_list_adopt(out, rc, v, n);
}

/*
 * Inserts docs[0..n) (NULL entries skipped) unordered, so one duplicate
 * does not stop the rest, and sets each[] from the reply's writeErrors.
 */
static enum board_err
mongo_insert_many(struct store_mongo *sm, mongoc_collection_t *coll,
    bson_t **docs, size_t n, enum board_err *each, const char *what)
{
	const bson_t **v = xcalloc(n > 0 ? n : 1, sizeof(*v));
	size_t *where = xcalloc(n > 0 ? n : 1, sizeof(*where));
	bson_t *opts = BCON_NEW("ordered", BCON_BOOL(false));
	bson_t reply = BSON_INITIALIZER;
	bson_iter_t it, arr, err;
	bson_error_t e;
	size_t m = 0;
	bool errors = false;
	enum board_err rc;

	for (size_t i = 0; i < n; i++)
		if (docs[i] != NULL) {
			where[m] = i;
			v[m++] = docs[i];
			each[i] = BOARD_OK;
		}
	if (m == 0 || (rc = mongo_ready(sm)) != BOARD_OK) {
		rc = m == 0 ? BOARD_OK : rc;
		goto out;
	}
	bson_destroy(&reply);
	if (mongoc_collection_insert_many(coll, v, m, opts, &reply, &e)) {
		rc = BOARD_OK;
		goto out;
	}
	/* Each failed document is in writeErrors with its index in v. */
	if (bson_iter_init_find(&it, &reply, "writeErrors") &&
	    BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &arr)) {
		while (bson_iter_next(&arr)) {
			int64_t idx = -1, code = 0;

			if (!BSON_ITER_HOLDS_DOCUMENT(&arr) ||
			    !bson_iter_recurse(&arr, &err))
				continue;
			while (bson_iter_next(&err)) {
				if (strcmp(bson_iter_key(&err), "index") == 0 &&
				    mongo_iter_is_number(&err))
					idx = bson_iter_as_int64(&err);
				else if (strcmp(bson_iter_key(&err), "code") ==
				    0 && mongo_iter_is_number(&err))
					code = bson_iter_as_int64(&err);
			}
			if (idx < 0 || (size_t)idx >= m)
				continue;
			errors = true;
			each[where[idx]] = mongo_code_is_duplicate(
			    (uint32_t)code) ? BOARD_EEXIST : BOARD_EINTERNAL;
			if (!mongo_code_is_duplicate((uint32_t)code))
				log_err("store: MongoDB %s: code %lld", what,
				    (long long)code);
		}
	}
	if (errors) {
		rc = BOARD_OK;
		goto out;
	}
	/*
	 * A duplicate reported for the whole command, not per document
	 * (jongodb does so and then stores none of the batch): one at a
	 * time, then, to tell which.
	 */
	if (e.domain == MONGOC_ERROR_SERVER &&
	    mongo_code_is_duplicate(e.code)) {
		rc = BOARD_OK;
		for (size_t i = 0; i < m && rc == BOARD_OK; i++) {
			bson_t r1;

			if (mongoc_collection_insert_one(coll, v[i], NULL, &r1,
			    &e))
				each[where[i]] = BOARD_OK;
			else if (mongo_reply_has_duplicate(&r1) ||
			    (e.domain == MONGOC_ERROR_SERVER &&
			    mongo_code_is_duplicate(e.code)))
				each[where[i]] = BOARD_EEXIST;
			else
				rc = mongo_fail(sm, what, &e);
			bson_destroy(&r1);
		}
		goto out;
	}
	/* Nothing per document: the whole call failed (an outage). */
	rc = mongo_fail(sm, what, &e);
out:
	bson_destroy(&reply);
	bson_destroy(opts);
	free(where);
	free(v);
	return rc;
}

static enum board_err
mongo_user_insert(void *impl, const struct user *v, size_t n,
    enum board_err *each)
{
	struct store_mongo *sm = impl;
	bson_t **docs = xcalloc(n > 0 ? n : 1, sizeof(*docs));
	bson_oid_t oid;
	enum board_err rc;

	for (size_t i = 0; i < n; i++) {
		if (!mongo_oid_parse(v[i].id, &oid) || v[i].username == NULL ||
		    v[i].pwhash == NULL) {
			each[i] = BOARD_EINVAL;
			continue;
		}
		docs[i] = bson_new();
		BSON_APPEND_OID(docs[i], "_id", &oid);
		BSON_APPEND_UTF8(docs[i], "username", v[i].username);
		BSON_APPEND_UTF8(docs[i], "password", v[i].pwhash);
		BSON_APPEND_DATE_TIME(docs[i], "createdAt", v[i].created_ms);
		BSON_APPEND_INT32(docs[i], "__v", 0);
	}
	rc = mongo_insert_many(sm, sm->users, docs, n, each, "insert users");
	for (size_t i = 0; i < n; i++)
		bson_destroy(docs[i]);
	free(docs);
	return rc;
}

static enum board_err
mongo_post_insert(void *impl, const struct post *v, size_t n,
    enum board_err *each)
{
	struct store_mongo *sm = impl;
	bson_t **docs = xcalloc(n > 0 ? n : 1, sizeof(*docs));
	bson_oid_t oid, author;
	enum board_err rc;

	for (size_t i = 0; i < n; i++) {
		const struct post *p = &v[i];

		if (!mongo_oid_parse(p->id, &oid) ||
		    !mongo_oid_parse(p->author_id, &author) ||
		    p->title == NULL || p->content == NULL) {
			each[i] = BOARD_EINVAL;
			continue;
		}
		docs[i] = bson_new();
		BSON_APPEND_OID(docs[i], "_id", &oid);
		BSON_APPEND_UTF8(docs[i], "title", p->title);
		BSON_APPEND_UTF8(docs[i], "content", p->content);
		BSON_APPEND_OID(docs[i], "author", &author);
		BSON_APPEND_DATE_TIME(docs[i], "createdAt", p->created_ms);
		BSON_APPEND_DATE_TIME(docs[i], "updatedAt", p->updated_ms);
		BSON_APPEND_INT32(docs[i], "__v", 0);
	}
	rc = mongo_insert_many(sm, sm->posts, docs, n, each, "insert posts");
	for (size_t i = 0; i < n; i++)
		bson_destroy(docs[i]);
	free(docs);
	return rc;
}

/* Deletes what filter matches in coll; *n = how many. */
static enum board_err
mongo_delete(struct store_mongo *sm, mongoc_collection_t *coll,
    const bson_t *filter, bool many, int64_t *n, const char *what)
{
	bson_t reply;
	bson_error_t e;
	bool ok;
	enum board_err rc = BOARD_OK;

	ok = many ? mongoc_collection_delete_many(coll, filter, NULL, &reply,
	    &e) : mongoc_collection_delete_one(coll, filter, NULL, &reply, &e);
	if (!ok)
		rc = mongo_fail(sm, what, &e);
	else
		*n = mongo_reply_count(&reply, "deletedCount");
	bson_destroy(&reply);
	return rc;
}

static enum board_err
mongo_user_delete(void *impl, const char *id, int64_t *posts)
{
	struct store_mongo *sm = impl;
	bson_t *pf = NULL, *uf = NULL;
	bson_oid_t oid;
	int64_t users = 0;
	enum board_err rc;

	*posts = 0;
	if (!mongo_oid_parse(id, &oid))
		return BOARD_ENOTFOUND;
	if ((rc = mongo_ready(sm)) != BOARD_OK)
		return rc;
	/* Posts first: stopped half-way, no post is left without its user
	 * (such posts would still list, as DATA.md says, but need not). */
	pf = mongo_author_filter(&oid, id);
	uf = BCON_NEW("_id", BCON_OID(&oid));
	rc = mongo_delete(sm, sm->posts, pf, true, posts, "delete posts");
	if (rc == BOARD_OK)
		rc = mongo_delete(sm, sm->users, uf, false, &users,
		    "delete user");
	if (rc == BOARD_OK && users == 0)
		rc = BOARD_ENOTFOUND;
	bson_destroy(uf);
	bson_destroy(pf);
	return rc;
}

/* The count command (DocumentDB has it; no aggregation needed). */
static enum board_err
mongo_count_coll(struct store_mongo *sm, const char *coll,
    const bson_t *query, int64_t *out)
{
	bson_t cmd = BSON_INITIALIZER, reply;
	bson_error_t e;
	enum board_err rc = BOARD_OK;

	BSON_APPEND_UTF8(&cmd, "count", coll);
	if (query != NULL)
		BSON_APPEND_DOCUMENT(&cmd, "query", query);
	if (!mongoc_client_command_simple(sm->client, sm->dbname, &cmd,
	    sm->primary, &reply, &e))
		rc = mongo_fail(sm, "count", &e);
	else
		*out = mongo_reply_count(&reply, "n");
	bson_destroy(&reply);
	bson_destroy(&cmd);
	return rc;
}

static enum board_err
mongo_count(void *impl, const char *author_id, struct store_counts *out)
{
	struct store_mongo *sm = impl;
	bson_t *q = NULL;
	bson_oid_t oid;
	enum board_err rc;

	out->users = out->posts = 0;
	if ((rc = mongo_ready(sm)) != BOARD_OK)
		return rc;
	if ((rc = mongo_count_coll(sm, "users", NULL, &out->users)) !=
	    BOARD_OK)
		return rc;
	if (author_id != NULL) {
		if (!mongo_oid_parse(author_id, &oid))
			return BOARD_OK;
		q = mongo_author_filter(&oid, author_id);
	}
	rc = mongo_count_coll(sm, "posts", q, &out->posts);
	bson_destroy(q);
	return rc;
}

static void
mongo_close(void *impl)
{
	struct store_mongo *sm = impl;

	if (sm == NULL)
		return;
	mongoc_read_prefs_destroy(sm->primary);
	mongoc_read_prefs_destroy(sm->reads);
	mongoc_collection_destroy(sm->posts);
	mongoc_collection_destroy(sm->users);
	mongoc_client_destroy(sm->client);
	free(sm->dbname);
	free(sm);
}

/* true when two index key documents name the same fields, in the same
 * order and directions (1 and 1.0 are the same: shells write doubles). */
static bool
mongo_keys_equal(const bson_t *a, const bson_t *b)
{
	bson_iter_t ia, ib;
	bool na, nb;

	if (!bson_iter_init(&ia, a) || !bson_iter_init(&ib, b))
		return false;
	for (;;) {
		na = bson_iter_next(&ia);
		nb = bson_iter_next(&ib);
		if (!na || !nb)
			return na == nb;
		if (strcmp(bson_iter_key(&ia), bson_iter_key(&ib)) != 0 ||
		    !mongo_iter_is_number(&ia) || !mongo_iter_is_number(&ib) ||
		    bson_iter_as_double(&ia) != bson_iter_as_double(&ib))
			return false;
	}
}

/*
 * true when coll already has an index on key (unique when asked), under
 * whatever name: a database the Node service made may have ours under
 * another name, and createIndexes then refuses ours (IndexOptionsConflict).
 */
static bool
mongo_has_index(mongoc_database_t *db, const char *coll, const bson_t *key,
    bool unique)
{
	mongoc_collection_t *c;
	mongoc_cursor_t *cur;
	const bson_t *spec;
	bson_iter_t it;
	bool found = false;

	c = mongoc_database_get_collection(db, coll);
	cur = mongoc_collection_find_indexes_with_opts(c, NULL);
	while (!found && mongoc_cursor_next(cur, &spec)) {
		const uint8_t *data;
		uint32_t len;
		bson_t k;

		if (!bson_iter_init_find(&it, spec, "key") ||
		    !BSON_ITER_HOLDS_DOCUMENT(&it))
			continue;
		bson_iter_document(&it, &len, &data);
		if (!bson_init_static(&k, data, len) ||
		    !mongo_keys_equal(&k, key))
			continue;
		found = !unique || (bson_iter_init_find(&it, spec, "unique") &&
		    bson_iter_as_bool(&it));
	}
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(c);
	return found;
}

/* Runs createIndexes; an index that already exists is not an error. */
static bool
mongo_create_index(mongoc_database_t *db, const char *coll, const bson_t *key,
    const char *name, bool unique, bson_error_t *e)
{
	bson_t cmd = BSON_INITIALIZER, indexes, index, reply;
	bool ok;

	BSON_APPEND_UTF8(&cmd, "createIndexes", coll);
	BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &indexes);
	BSON_APPEND_DOCUMENT_BEGIN(&indexes, "0", &index);
	BSON_APPEND_DOCUMENT(&index, "key", key);
	BSON_APPEND_UTF8(&index, "name", name);
	if (unique)
		BSON_APPEND_BOOL(&index, "unique", true);
	bson_append_document_end(&indexes, &index);
	bson_append_array_end(&cmd, &indexes);
	ok = mongoc_database_write_command_with_opts(db, &cmd, NULL, &reply, e);
	/* 85 IndexOptionsConflict, 86 IndexKeySpecsConflict: fine when an
	 * index that does the same job is there under another name. */
	if (!ok && e->domain == MONGOC_ERROR_SERVER &&
	    (e->code == 85 || e->code == 86) &&
	    mongo_has_index(db, coll, key, unique))
		ok = true;
	bson_destroy(&reply);
	bson_destroy(&cmd);
	return ok;
}

static bool
mongo_create_indexes(struct store_mongo *sm, bson_error_t *e)
{
	mongoc_database_t *db;
	bson_t *ukey, *pkey;
	bool ok;

	db = mongoc_client_get_database(sm->client, sm->dbname);
	ukey = BCON_NEW("username", BCON_INT32(1));
	pkey = BCON_NEW("createdAt", BCON_INT32(-1), "_id", BCON_INT32(-1));
	/* Unique: concurrent signups of one name are decided here. */
	ok = mongo_create_index(db, "users", ukey, "username_1", true, e) &&
	    /* Newest first and keyset paging by (createdAt, _id). */
	    mongo_create_index(db, "posts", pkey, "createdAt_-1__id_-1", false,
	    e);
	bson_destroy(pkey);
	bson_destroy(ukey);
	mongoc_database_destroy(db);
	return ok;
}

/* Sets an int32 URI option unless the URI sets it itself. */
static void
mongo_uri_default(mongoc_uri_t *uri, const char *key, int32_t v)
{
	if (!mongoc_uri_has_option(uri, key))
		mongoc_uri_set_option_as_int32(uri, key, v);
}

/*
 * Whether coll holds the earlier layout: its first and last documents by
 * _id are looked at (two index reads, whatever the size; a database is
 * migrated whole, and any other old document is still refused when read).
 * 1 old, 0 not, -1 error (e set).
 */
static int
mongo_sample_old(struct store_mongo *sm, mongoc_collection_t *coll,
    const char *new_key, const char *old_key, bson_error_t *e)
{
	int found = 0;

	for (int dir = 1; dir >= -1 && found == 0; dir -= 2) {
		bson_t *filter = bson_new();
		bson_t *opts = BCON_NEW("sort", "{", "_id", BCON_INT32(dir),
		    "}", "limit", BCON_INT64(1), "projection", "{",
		    new_key, BCON_INT32(1), old_key, BCON_INT32(1), "}");
		mongoc_cursor_t *cur = mongo_find(coll,
		    filter, opts, sm->primary);
		const bson_t *doc;

		if (mongoc_cursor_next(cur, &doc)) {
			if (!mongo_has(doc, new_key) && mongo_has(doc, old_key))
				found = 1;
		} else if (mongoc_cursor_error(cur, e)) {
			found = -1;
		}
		mongoc_cursor_destroy(cur);
		bson_destroy(opts);
		bson_destroy(filter);
	}
	return found;
}

static enum board_err mongo_open(const struct conf *c, struct store *st,
    bool check_layout, char **errmsg);

enum board_err
store_mongo_open(const struct conf *c, struct store *st, char **errmsg)
{
	return mongo_open(c, st, true, errmsg);
}

static enum board_err
mongo_open(const struct conf *c, struct store *st, bool check_layout,
    char **errmsg)
{
	int old;
	struct store_mongo *sm = NULL;
	mongoc_uri_t *uri = NULL;
	const char *dbname;
	bson_t *ping = NULL;
	bson_error_t e;
	struct buf msg, hosts;
	int32_t timeout;
	char *m;
	enum board_err rc = BOARD_EINVAL;

	buf_init(&msg);
	buf_init(&hosts);
	mongo_global_init();
	if (c->mongodb_uri == NULL || *c->mongodb_uri == '\0') {
		buf_puts(&msg, "MONGODB_URI: not set");
		goto out;
	}
	mongo_redact = mongo_uri_raw_password(c->mongodb_uri);
	uri = mongoc_uri_new_with_error(c->mongodb_uri, &e);
	if (uri == NULL) {
		m = mongo_scrub(e.message);
		buf_printf(&msg, "MONGODB_URI: invalid: %s", m);
		free(m);
		goto out;
	}
	mongo_uri_hosts(uri, &hosts);

	/*
	 * Bound every operation, and so every request (a handler stops at
	 * its first failed one), to store_timeout_ms when the server is
	 * gone or hangs. The URI wins when it says. The driver's socket
	 * default is 5 minutes; and with a plain timeout T on everything a
	 * SIGSTOPped server cost a request up to 3 T (the read; its retry's
	 * server check; that check retried once, as SDAM does for a server
	 * that was known). So: no retried reads or writes (a failover costs
	 * one 503 instead), replies within T, and a connection or server
	 * check within T / 2, which keeps a check and its one retry within
	 * T. Building an index on a large existing collection may take
	 * longer: raise socketTimeoutMS in the URI for that first start.
	 */
	assert(c->store_timeout_ms <= INT32_MAX);	/* conf's bound */
	timeout = (int32_t)c->store_timeout_ms;
	mongo_uri_default(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, timeout);
	mongo_uri_default(uri, MONGOC_URI_CONNECTTIMEOUTMS,
	    timeout / 2 > 0 ? timeout / 2 : 1);
	mongo_uri_default(uri, MONGOC_URI_SOCKETTIMEOUTMS, timeout);
	if (!mongoc_uri_has_option(uri, MONGOC_URI_RETRYREADS))
		mongoc_uri_set_option_as_bool(uri, MONGOC_URI_RETRYREADS,
		    false);
	if (!mongoc_uri_has_option(uri, MONGOC_URI_RETRYWRITES))
		mongoc_uri_set_option_as_bool(uri, MONGOC_URI_RETRYWRITES,
		    false);
	if (mongoc_uri_get_appname(uri) == NULL)
		mongoc_uri_set_appname(uri, MONGO_APPNAME);
	dbname = mongoc_uri_get_database(uri);
	if (dbname == NULL || *dbname == '\0')
		dbname = MONGO_DBNAME;

	sm = xcalloc(1, sizeof(*sm));
	sm->dbname = xstrdup(dbname);
	sm->client = mongoc_client_new_from_uri_with_error(uri, &e);
	if (sm->client == NULL) {
		m = mongo_scrub(e.message);
		buf_printf(&msg, "MONGODB_URI: cannot use it for %s: %s",
		    buf_cstr(&hosts), m);
		free(m);
		goto out;
	}
	/* Server errors in domain MONGOC_ERROR_SERVER, with their codes. */
	mongoc_client_set_error_api(sm->client, MONGOC_ERROR_API_VERSION_2);
	sm->users = mongoc_client_get_collection(sm->client, sm->dbname,
	    "users");
	sm->posts = mongoc_client_get_collection(sm->client, sm->dbname,
	    "posts");
	sm->primary = mongoc_read_prefs_new(MONGOC_READ_PRIMARY);
	sm->reads = mongoc_read_prefs_copy(mongoc_client_get_read_prefs(
	    sm->client));

	/* Fail at start, naming the setting, rather than at first request. */
	ping = BCON_NEW("ping", BCON_INT32(1));
	if (!mongoc_client_command_simple(sm->client, "admin", ping,
	    sm->primary, NULL, &e)) {
		rc = mongo_error_is_unavailable(&e) ? BOARD_EUNAVAIL :
		    BOARD_EINVAL;
		m = mongo_scrub(e.message);
		buf_printf(&msg, "MONGODB_URI: cannot reach MongoDB at %s: %s",
		    buf_cstr(&hosts), m);
		free(m);
		goto out;
	}
	if (!mongo_create_indexes(sm, &e)) {
		rc = mongo_error_is_unavailable(&e) ? BOARD_EUNAVAIL :
		    BOARD_EINVAL;
		m = mongo_scrub(e.message);
		buf_printf(&msg, "MONGODB_URI: database %s: creating indexes: "
		    "%s", sm->dbname, m);
		free(m);
		goto out;
	}
	if (check_layout) {
		old = mongo_sample_old(sm, sm->users, "password", "pwhash", &e);
		if (old == 0)
			old = mongo_sample_old(sm, sm->posts, "author",
			    "authorId", &e);
		if (old != 0) {
			rc = old < 0 && mongo_error_is_unavailable(&e) ?
			    BOARD_EUNAVAIL : BOARD_EINVAL;
			m = old < 0 ? mongo_scrub(e.message) : NULL;
			if (old < 0)
				buf_printf(&msg, "MONGODB_URI: database %s: "
				    "%s", sm->dbname, m);
			else
				buf_printf(&msg, "MONGODB_URI: database %s "
				    "holds documents of the earlier board "
				    "layout: %s", sm->dbname,
				    MONGO_OLD_LAYOUT_HINT);
			free(m);
			goto out;
		}
	}
	st->ops = &store_mongo_ops;
	st->impl = sm;
	sm = NULL;
	rc = BOARD_OK;
out:
	if (rc != BOARD_OK && errmsg != NULL)
		*errmsg = buf_steal(&msg);
	mongo_close(sm);
	bson_destroy(ping);
	mongoc_uri_destroy(uri);
	buf_cleanup(&hosts);
	buf_cleanup(&msg);
	free(mongo_redact);
	mongo_redact = NULL;
	return rc;
}

static const struct store_ops store_mongo_ops = {
	.name = "mongodb",
	.ping = mongo_ping,
	.user_create = mongo_user_create,
	.user_find_by_name = mongo_user_find_by_name,
	.user_set_hash = mongo_user_set_hash,
	.post_create = mongo_post_create,
	.post_find = mongo_post_find,
	.post_update = mongo_post_update,
	.post_delete = mongo_post_delete,
	.post_list = mongo_post_list,
	.user_find_by_id = mongo_user_find_by_id,
	.user_scan = mongo_user_scan,
	.user_insert = mongo_user_insert,
	.user_delete = mongo_user_delete,
	.post_scan = mongo_post_scan,
	.post_insert = mongo_post_insert,
	.count = mongo_count,
	.close = mongo_close,
};

#define MIGRATE_BATCH 500

/* Updates the one document filter names; *done when it matched. */
static enum board_err
mongo_update_one(struct store_mongo *sm, mongoc_collection_t *coll,
    const bson_t *filter, const bson_t *update, bool *done)
{
	bson_t reply;
	bson_error_t e;
	enum board_err rc = BOARD_OK;

	if (!mongoc_collection_update_one(coll, filter, update, NULL, &reply,
	    &e))
		rc = mongo_fail(sm, "migrate", &e);
	else
		*done = mongo_reply_count(&reply, "modifiedCount") > 0;
	bson_destroy(&reply);
	return rc;
}

/*
 * One collection: every document holding old_key, in _id order, batch by
 * batch (resuming after the last _id, so conflicts left behind are not
 * met again). fix() makes the update for one document, or returns false
 * for a conflict.
 */
static enum board_err
mongo_migrate_coll(struct store_mongo *sm, mongoc_collection_t *coll,
    const char *old_key, bool (*fix)(const bson_t *, bson_t *),
    int64_t *moved, struct store_mongo_migration *sofar,
    store_mongo_progress_fn *progress, void *arg)
{
	bson_oid_t last;
	bool have_last = false;
	enum board_err rc = BOARD_OK;

	for (;;) {
		bson_t *filter, *opts;
		mongoc_cursor_t *cur;
		const bson_t *doc;
		bson_error_t e;
		bson_oid_t ids[MIGRATE_BATCH];
		bson_t *updates[MIGRATE_BATCH];
		size_t n = 0;
		bson_iter_t it;

		filter = have_last ? BCON_NEW(old_key, "{", "$exists",
		    BCON_BOOL(true), "}", "_id", "{", "$gt", BCON_OID(&last),
		    "}") : BCON_NEW(old_key, "{", "$exists", BCON_BOOL(true),
		    "}");
		opts = BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}",
		    "limit", BCON_INT64(MIGRATE_BATCH));
		cur = mongo_find(coll, filter, opts,
		    sm->primary);
		while (n < MIGRATE_BATCH && mongoc_cursor_next(cur, &doc)) {
			if (!bson_iter_init_find(&it, doc, "_id") ||
			    !BSON_ITER_HOLDS_OID(&it))
				continue;
			bson_oid_copy(bson_iter_oid(&it), &ids[n]);
			updates[n] = bson_new();
			if (!fix(doc, updates[n])) {
				char id[STORE_ID_LEN + 1];

				bson_oid_to_string(&ids[n], id);
				log_warn("store: migrate: %s %s holds both "
				    "layouts; left as it is", old_key, id);
				sofar->conflicts++;
				bson_destroy(updates[n]);
				updates[n] = NULL;
			}
			n++;
		}
		if (mongoc_cursor_error(cur, &e))
			rc = mongo_fail(sm, "migrate", &e);
		mongoc_cursor_destroy(cur);
		bson_destroy(opts);
		bson_destroy(filter);
		for (size_t i = 0; i < n; i++) {
			bson_t *f;
			bool done = false;

			if (rc == BOARD_OK && updates[i] != NULL) {
				/* Still old: a second migrate-layout running
				 * at once does not apply it twice. */
				f = BCON_NEW("_id", BCON_OID(&ids[i]), old_key,
				    "{", "$exists", BCON_BOOL(true), "}");
				rc = mongo_update_one(sm, coll, f, updates[i],
				    &done);
				bson_destroy(f);
				if (done)
					(*moved)++;
			}
			bson_destroy(updates[i]);
		}
		if (rc != BOARD_OK || n == 0)
			break;
		bson_oid_copy(&ids[n - 1], &last);
		have_last = true;
		if (progress != NULL)
			progress(arg, sofar);
	}
	return rc;
}

/* users: pwhash -> password. */
static bool
mongo_fix_user(const bson_t *doc, bson_t *update)
{
	bson_iter_t it;
	bson_t set, unset;

	if (mongo_has(doc, "password") ||
	    !bson_iter_init_find(&it, doc, "pwhash") ||
	    !BSON_ITER_HOLDS_UTF8(&it))
		return false;
	BSON_APPEND_DOCUMENT_BEGIN(update, "$set", &set);
	BSON_APPEND_UTF8(&set, "password", bson_iter_utf8(&it, NULL));
	if (!mongo_has(doc, "__v"))
		BSON_APPEND_INT32(&set, "__v", 0);
	bson_append_document_end(update, &set);
	BSON_APPEND_DOCUMENT_BEGIN(update, "$unset", &unset);
	BSON_APPEND_UTF8(&unset, "pwhash", "");
	bson_append_document_end(update, &unset);
	return true;
}

/* posts: authorId -> author (an ObjectId); authorName goes. */
static bool
mongo_fix_post(const bson_t *doc, bson_t *update)
{
	char id[STORE_ID_LEN + 1];
	bson_oid_t author;
	bson_t set, unset;

	if (mongo_has(doc, "author") || !mongo_get_id(doc, "authorId", id))
		return false;
	bson_oid_init_from_string(&author, id);
	BSON_APPEND_DOCUMENT_BEGIN(update, "$set", &set);
	BSON_APPEND_OID(&set, "author", &author);
	if (!mongo_has(doc, "__v"))
		BSON_APPEND_INT32(&set, "__v", 0);
	bson_append_document_end(update, &set);
	BSON_APPEND_DOCUMENT_BEGIN(update, "$unset", &unset);
	BSON_APPEND_UTF8(&unset, "authorId", "");
	BSON_APPEND_UTF8(&unset, "authorName", "");
	bson_append_document_end(update, &unset);
	return true;
}

enum board_err
store_mongo_migrate_layout(const struct conf *c,
    store_mongo_progress_fn *progress, void *arg,
    struct store_mongo_migration *out, char **errmsg)
{
	struct store st = { NULL, NULL };
	struct store_mongo *sm;
	enum board_err rc;

	memset(out, 0, sizeof(*out));
	*errmsg = NULL;
	rc = mongo_open(c, &st, false, errmsg);
	if (rc != BOARD_OK)
		return rc;
	sm = st.impl;
	rc = mongo_migrate_coll(sm, sm->users, "pwhash", mongo_fix_user,
	    &out->users, out, progress, arg);
	if (rc == BOARD_OK)
		rc = mongo_migrate_coll(sm, sm->posts, "authorId",
		    mongo_fix_post, &out->posts, out, progress, arg);
	if (rc != BOARD_OK)
		*errmsg = xasprintf("MONGODB_URI: database %s: migration "
		    "stopped (%s); run it again", sm->dbname,
		    board_strerror(rc));
	mongo_close(sm);
	return rc;
}
