/* store-sqlite.c: the embedded SQLite backend of store.h. */
#include "config.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "board.h"
#include "log.h"
#include "store.h"

/*
 * IF NOT EXISTS makes this safe to run at every start, also by several
 * processes at once (the busy timeout orders them).
 */
static const char sq_schema[] =
	"CREATE TABLE IF NOT EXISTS users ("
	" id TEXT PRIMARY KEY,"
	" username TEXT UNIQUE NOT NULL,"
	" pwhash TEXT NOT NULL,"
	" created_ms INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS posts ("
	" id TEXT PRIMARY KEY,"
	" author_id TEXT NOT NULL REFERENCES users(id),"
	" author_name TEXT NOT NULL,"
	" title TEXT NOT NULL,"
	" content TEXT NOT NULL,"
	" created_ms INTEGER NOT NULL,"
	" updated_ms INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS posts_created"
	" ON posts (created_ms DESC, id DESC);";

#define SQ_POST_COLS \
	"id, author_id, author_name, title, content, created_ms, updated_ms"

enum sq_stmt {
	SQ_PING,
	SQ_USER_INSERT,
	SQ_USER_BY_NAME,
	SQ_USER_SET_HASH,
	SQ_POST_INSERT,
	SQ_POST_FIND,
	SQ_POST_UPDATE,
	SQ_POST_DELETE,
	SQ_POST_LIST,
	SQ_POST_LIST_AFTER,
	SQ_USER_BY_ID,
	SQ_USER_SCAN,
	SQ_USER_DELETE_POSTS,
	SQ_USER_DELETE,
	SQ_POST_SCAN,
	SQ_COUNT_USERS,
	SQ_COUNT_POSTS,
	SQ_COUNT_POSTS_BY,
	SQ_NSTMT
};

static const char *const sq_sql[SQ_NSTMT] = {
	[SQ_PING] = "SELECT 1 FROM users LIMIT 1",
	[SQ_USER_INSERT] = "INSERT INTO users (id, username, pwhash,"
	    " created_ms) VALUES (?1, ?2, ?3, ?4)",
	[SQ_USER_BY_NAME] = "SELECT id, username, pwhash, created_ms FROM users"
	    " WHERE username = ?1",
	[SQ_USER_SET_HASH] = "UPDATE users SET pwhash = ?1 WHERE id = ?2",
	[SQ_POST_INSERT] = "INSERT INTO posts (" SQ_POST_COLS ")"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[SQ_POST_FIND] = "SELECT " SQ_POST_COLS " FROM posts WHERE id = ?1",
	/* One statement, so the change and the row returned agree. */
	[SQ_POST_UPDATE] = "UPDATE posts SET title = coalesce(?1, title),"
	    " content = coalesce(?2, content), updated_ms = ?3"
	    " WHERE id = ?4 AND author_id = ?5 RETURNING " SQ_POST_COLS,
	[SQ_POST_DELETE] = "DELETE FROM posts WHERE id = ?1 AND author_id = ?2",
	[SQ_POST_LIST] = "SELECT " SQ_POST_COLS " FROM posts"
	    " ORDER BY created_ms DESC, id DESC LIMIT ?1",
	/* Keyset paging: a row value comparison walks posts_created. */
	[SQ_POST_LIST_AFTER] = "SELECT " SQ_POST_COLS " FROM posts"
	    " WHERE (created_ms, id) < (?1, ?2)"
	    " ORDER BY created_ms DESC, id DESC LIMIT ?3",
	[SQ_USER_BY_ID] = "SELECT id, username, pwhash, created_ms FROM users"
	    " WHERE id = ?1",
	/* Id order walks the primary key's index: copies resume anywhere. */
	[SQ_USER_SCAN] = "SELECT id, username, pwhash, created_ms FROM users"
	    " WHERE id > ?1 ORDER BY id LIMIT ?2",
	[SQ_USER_DELETE_POSTS] = "DELETE FROM posts WHERE author_id = ?1",
	[SQ_USER_DELETE] = "DELETE FROM users WHERE id = ?1",
	[SQ_POST_SCAN] = "SELECT " SQ_POST_COLS " FROM posts WHERE id > ?1"
	    " ORDER BY id LIMIT ?2",
	[SQ_COUNT_USERS] = "SELECT count(*) FROM users",
	[SQ_COUNT_POSTS] = "SELECT count(*) FROM posts",
	[SQ_COUNT_POSTS_BY] = "SELECT count(*) FROM posts WHERE author_id = ?1",
};

struct sq_store {
	sqlite3 *db;		/* NULL: reconnect on next use */
	char *path;
	int timeout_ms;
	int open_rc;		/* SQLite's code when the last connect failed */
	sqlite3_stmt *stmt[SQ_NSTMT];
};

static void
sq_drop(struct sq_store *s)
{
	for (int i = 0; i < SQ_NSTMT; i++) {
		sqlite3_finalize(s->stmt[i]);
		s->stmt[i] = NULL;
	}
	sqlite3_close(s->db);
	s->db = NULL;
}

/* Warns when the file system would not give us WAL (sqlite3_exec row). */
static int
sq_check_wal(void *arg, int ncol, char **val, char **col)
{
	const char *path = arg;

	(void)col;
	if (ncol == 1 && val[0] != NULL && strcmp(val[0], "wal") != 0)
		log_warn("store: %s: journal mode is %s, not wal", path,
		    val[0]);
	return 0;
}

/* Opens the connection; on failure *why says why (caller frees). */
static enum board_err
sq_connect_why(struct sq_store *s, char **why)
{
	char *err = NULL;
	int rc;

	if (s->db != NULL)
		return BOARD_OK;
	*why = NULL;
	/* No CREATE of the directory: script/server makes it with the right
	 * owner; only the file is ours to make. */
	rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		*why = xstrdup(s->db != NULL ? sqlite3_errmsg(s->db) :
		    sqlite3_errstr(rc));
		goto fail;
	}
	/* SQLite silently opens a file it may not write read-only. */
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		*why = xstrdup("the file is read-only");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, s->timeout_ms);
	sqlite3_extended_result_codes(s->db, 1);
	/* WAL: readers never wait for the writer, and a crash or a full disk
	 * mid-write leaves every committed transaction intact. synchronous
	 * FULL syncs the WAL at each commit, so what we acknowledged also
	 * survives a power cut (NORMAL could lose the last commits). */
	if (sqlite3_exec(s->db, "PRAGMA journal_mode = WAL;", sq_check_wal,
	    s->path, &err) != SQLITE_OK ||
	    sqlite3_exec(s->db, "PRAGMA synchronous = FULL;"
	    "PRAGMA foreign_keys = ON;"
	    /* 256 KiB of page cache per worker, not SQLite's 2 MiB: board-posts
	     * must stay under 16 MiB resident, and the OS caches the file
	     * anyway (list and read were as fast in the bench). */
	    "PRAGMA cache_size = -256;", NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(s->db, sq_schema, NULL, NULL, &err) != SQLITE_OK) {
		*why = xstrdup(err != NULL ? err : sqlite3_errmsg(s->db));
		sqlite3_free(err);
		goto fail;
	}
	for (int i = 0; i < SQ_NSTMT; i++) {
		if (sqlite3_prepare_v3(s->db, sq_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
		    NULL) != SQLITE_OK) {
			*why = xstrdup(sqlite3_errmsg(s->db));
			goto fail;
		}
	}
	return BOARD_OK;
fail:
	s->open_rc = s->db != NULL ? sqlite3_errcode(s->db) & 0xff : rc;
	sq_drop(s);
	return BOARD_EUNAVAIL;
}

static enum board_err
sq_connect(struct sq_store *s)
{
	char *why = NULL;
	enum board_err rc;

	if (s->db != NULL)
		return BOARD_OK;
	rc = sq_connect_why(s, &why);
	if (rc != BOARD_OK)
		log_warn("store: cannot open %s: %s", s->path, why);
	free(why);
	return rc;
}

/*
 * Handles a failed sqlite3_step(): logs the cause once and decides how to
 * recover. A busy or locked database or a full disk leave the connection
 * sound (SQLite has rolled the statement back); anything else (I/O error,
 * file gone or replaced, corruption) drops it so the next call reopens.
 */
static enum board_err
sq_fail(struct sq_store *s, sqlite3_stmt *st, int rc, const char *what)
{
	log_warn("store: sqlite %s: %s (code %d)", what, sqlite3_errmsg(s->db),
	    rc);
	sqlite3_reset(st);
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
		break;
	default:
		sq_drop(s);
		break;
	}
	return BOARD_EUNAVAIL;
}

/* A value SQLite will not take (too long): the caller's fault, not ours. */
static enum board_err
sq_bind_fail(sqlite3_stmt *st, int rc, const char *what)
{
	log_warn("store: sqlite %s: cannot bind: %s", what, sqlite3_errstr(rc));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return BOARD_EINVAL;
}

/* Takes a prepared statement ready for binding; NULL when not connected. */
static sqlite3_stmt *
sq_stmt(struct sq_store *s, enum sq_stmt which)
{
	if (sq_connect(s) != BOARD_OK)
		return NULL;
	return s->stmt[which];
}

static void
sq_done(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	/* Resetting ends the statement's implicit transaction, so no lock
	 * outlives the call. */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static int
sq_bind_text(sqlite3_stmt *st, int i, const char *p, size_t n)
{
	if (p == NULL)
		return sqlite3_bind_null(st, i);
	if (n > INT_MAX)
		return SQLITE_TOOBIG;
	return sqlite3_bind_text(st, i, p, (int)n, SQLITE_STATIC);
}

static int
sq_bind_str(sqlite3_stmt *st, int i, const char *p)
{
	return sq_bind_text(st, i, p, p != NULL ? strlen(p) : 0);
}

static char *
sq_col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *p = sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);
	char *out = xmalloc((size_t)n + 1);

	if (p != NULL && n > 0)
		memcpy(out, p, (size_t)n);
	out[n] = '\0';
	return out;
}

static void
sq_col_id(sqlite3_stmt *st, int i, char out[STORE_ID_LEN + 1])
{
	const unsigned char *p = sqlite3_column_text(st, i);

	out[0] = '\0';
	if (p != NULL && sqlite3_column_bytes(st, i) == STORE_ID_LEN)
		memcpy(out, p, STORE_ID_LEN + 1);
}

static void
sq_row_post(sqlite3_stmt *st, struct post *p)
{
	post_init(p);
	sq_col_id(st, 0, p->id);
	sq_col_id(st, 1, p->author_id);
	p->author_name = sq_col_dup(st, 2);
	p->title = sq_col_dup(st, 3);
	p->content = sq_col_dup(st, 4);
	p->created_ms = sqlite3_column_int64(st, 5);
	p->updated_ms = sqlite3_column_int64(st, 6);
}

static void
sq_row_user(sqlite3_stmt *st, struct user *u)
{
	user_init(u);
	sq_col_id(st, 0, u->id);
	u->username = sq_col_dup(st, 1);
	u->pwhash = sq_col_dup(st, 2);
	u->created_ms = sqlite3_column_int64(st, 3);
}

static enum board_err
sq_ping(void *impl)
{
	struct sq_store *s = impl;
	sqlite3_stmt *st = sq_stmt(s, SQ_PING);
	enum board_err rc = BOARD_EUNAVAIL;
	int r;

	if (st == NULL)
		return rc;
	r = sqlite3_step(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return sq_fail(s, st, r, "ping");
	rc = BOARD_OK;
	sq_done(st);
	return rc;
}

static enum board_err
sq_user_create(void *impl, const char *username, const char *pwhash,
    struct user *out)
{
	struct sq_store *s = impl;
	sqlite3_stmt *st = sq_stmt(s, SQ_USER_INSERT);
	char id[STORE_ID_LEN + 1];
	int r;

	if (st == NULL)
		return BOARD_EUNAVAIL;
	store_id_new(id);
	if ((r = sq_bind_str(st, 1, id)) != SQLITE_OK ||
	    (r = sq_bind_str(st, 2, username)) != SQLITE_OK ||
	    (r = sq_bind_str(st, 3, pwhash)) != SQLITE_OK ||
	    (r = sqlite3_bind_int64(st, 4, board_now_ms())) != SQLITE_OK)
		return sq_bind_fail(st, r, "user_create");
	r = sqlite3_step(st);
	if (r == SQLITE_CONSTRAINT_UNIQUE ||
	    r == SQLITE_CONSTRAINT_PRIMARYKEY) {
		sq_done(st);
		return BOARD_EEXIST;
	}
	if (r != SQLITE_DONE)
		return sq_fail(s, st, r, "user_create");
	sq_done(st);
	user_init(out);
	memcpy(out->id, id, sizeof(id));
	out->username = xstrdup(username);
	out->pwhash = xstrdup(pwhash);
	return BOARD_OK;
}

static enum board_err
sq_user_find_by_name(void *impl, const char *username, struct user *out)
{
	struct sq_store *s = impl;
	sqlite3_stmt *st = sq_stmt(s, SQ_USER_BY_NAME);
	enum board_err rc = BOARD_ENOTFOUND;
	int r;

	if (st == NULL)
		return BOARD_EUNAVAIL;
	if ((r = sq_bind_str(st, 1, username)) != SQLITE_OK)
		return sq_bind_fail(st, r, "user_find");
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		user_cleanup(out);
		sq_row_user(st, out);
		rc = BOARD_OK;
	} else if (r != SQLITE_DONE) {
		return sq_fail(s, st, r, "user_find");
	}
	sq_done(st);
	return rc;
}

static enum board_err
sq_user_set_hash(void *impl, const char *user_id, const char *pwhash)
{
	struct sq_store *s = impl;
	sqlite3_stmt *st;
	int r;

	if (!store_id_is_valid(user_id))
		return BOARD_ENOTFOUND;
	if ((st = sq_stmt(s, SQ_USER_SET_HASH)) == NULL)
		return BOARD_EUNAVAIL;
	if ((r = sq_bind_str(st, 1, pwhash)) != SQLITE_OK ||
	    (r = sq_bind_str(st, 2, user_id)) != SQLITE_OK)
		return sq_bind_fail(st, r, "user_set_hash");
	r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		return sq_fail(s, st, r, "user_set_hash");
	sq_done(st);
	return sqlite3_changes(s->db) > 0 ? BOARD_OK : BOARD_ENOTFOUND;
}

static enum board_err
sq_post_create(void *impl, const char *author_id, const char *author_name,
    const char *title, size_t title_len, const char *content,
    size_t content_len, int64_t now_ms, struct post *out)
{
	struct sq_store *s = impl;
	sqlite3_stmt *st = sq_stmt(s, SQ_POST_INSERT);
	char id[STORE_ID_LEN + 1];
	int r;

	if (st == NULL)
		return BOARD_EUNAVAIL;
	store_id_new(id);
	if ((r = sq_bind_str(st, 1, id)) != SQLITE_OK ||
	    (r = sq_bind_str(st, 2, author_id)) != SQLITE_OK ||
	    (r = sq_bind_str(st, 3, author_name)) != SQLITE_OK ||
	    (r = sq_bind_text(st, 4, title, title_len)) != SQLITE_OK ||
	    (r = sq_bind_text(st, 5, content, content_len)) != SQLITE_OK ||
	    (r = sqlite3_bind_int64(st, 6, now_ms)) != SQLITE_OK ||
	    (r = sqlite3_bind_int64(st, 7, now_ms)) != SQLITE_OK)
		return sq_bind_fail(st, r, "post_create");
	r = sqlite3_step(st);
	if (r == SQLITE_CONSTRAINT_FOREIGNKEY) {
		/* The author is gone (e.g. a session older than the file). */
		log_warn("store: post_create: no user %s", author_id);
		sq_done(st);
		return BOARD_ENOTFOUND;
	}
	if (r != SQLITE_DONE)
		return sq_fail(s, st, r, "post_create");
	sq_done(st);
	post_init(out);
	memcpy(out->id, id, sizeof(id));
	snprintf(out->author_id, sizeof(out->author_id), "%s", author_id);
	out->author_name = xstrdup(author_name);
	out->title = xstrndup(title, title_len);
	out->content = xstrndup(content, content_len);
	out->created_ms = now_ms;
	out->updated_ms = now_ms;
	return BOARD_OK;
}

static enum board_err
sq_post_find(void *impl, const char *id, bool primary, struct post *out)
{
	struct sq_store *s = impl;
	sqlite3_stmt *st;
	enum board_err rc = BOARD_ENOTFOUND;
	int r;

	(void)primary;		/* one file: every read sees every write */
	if (!store_id_is_valid(id))
		return BOARD_ENOTFOUND;
	if ((st = sq_stmt(s, SQ_POST_FIND)) == NULL)
		return BOARD_EUNAVAIL;
	if ((r = sq_bind_str(st, 1, id)) != SQLITE_OK)
		return sq_bind_fail(st, r, "post_find");
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		sq_row_post(st, out);
		rc = BOARD_OK;
	} else if (r != SQLITE_DONE) {
		return sq_fail(s, st, r, "post_find");
	}
	sq_done(st);
	return rc;
}

static enum board_err
sq_post_update(void *impl, const char *id, const char *author_id,
    const char *title, size_t title_len, const char *content,
    size_t content_len, int64_t now_ms, struct post *out)
{
	struct sq_store *s = impl;
	sqlite3_stmt *st;
	struct post p;
	bool found = false;
	int r;

	if (!store_id_is_valid(id) || !store_id_is_valid(author_id))
		return BOARD_ENOTFOUND;
	if ((st = sq_stmt(s, SQ_POST_UPDATE)) == NULL)
		return BOARD_EUNAVAIL;
	if ((r = sq_bind_text(st, 1, title, title_len)) != SQLITE_OK ||
	    (r = sq_bind_text(st, 2, content, content_len)) != SQLITE_OK ||
	    (r = sqlite3_bind_int64(st, 3, now_ms)) != SQLITE_OK ||
	    (r = sq_bind_str(st, 4, id)) != SQLITE_OK ||
	    (r = sq_bind_str(st, 5, author_id)) != SQLITE_OK)
		return sq_bind_fail(st, r, "post_update");
	/* RETURNING makes the change on the first step; step to the end so
	 * the statement finishes before it is reset. */
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (found)
			continue;
		sq_row_post(st, &p);
		found = true;
	}
	if (r != SQLITE_DONE) {
		if (found)
			post_cleanup(&p);
		return sq_fail(s, st, r, "post_update");
	}
	sq_done(st);
	if (!found)
		return BOARD_ENOTFOUND;
	*out = p;
	return BOARD_OK;
}

static enum board_err
sq_post_delete(void *impl, const char *id, const char *author_id)
{
	struct sq_store *s = impl;
	sqlite3_stmt *st;
	int r;

	if (!store_id_is_valid(id) || !store_id_is_valid(author_id))
		return BOARD_ENOTFOUND;
	if ((st = sq_stmt(s, SQ_POST_DELETE)) == NULL)
		return BOARD_EUNAVAIL;
	if ((r = sq_bind_str(st, 1, id)) != SQLITE_OK ||
	    (r = sq_bind_str(st, 2, author_id)) != SQLITE_OK)
		return sq_bind_fail(st, r, "post_delete");
	r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		return sq_fail(s, st, r, "post_delete");
	sq_done(st);
	return sqlite3_changes(s->db) > 0 ? BOARD_OK : BOARD_ENOTFOUND;
}

static enum board_err
sq_user_find_by_id(void *impl, const char *id, struct user *out)
{
	struct sq_store *s = impl;
	sqlite3_stmt *st;
	enum board_err rc = BOARD_ENOTFOUND;
	int r;

	if (!store_id_is_valid(id))
		return BOARD_ENOTFOUND;
	if ((st = sq_stmt(s, SQ_USER_BY_ID)) == NULL)
		return BOARD_EUNAVAIL;
	if ((r = sq_bind_str(st, 1, id)) != SQLITE_OK)
		return sq_bind_fail(st, r, "user_find_by_id");
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		user_cleanup(out);
		sq_row_user(st, out);
		rc = BOARD_OK;
	} else if (r != SQLITE_DONE) {
		return sq_fail(s, st, r, "user_find_by_id");
	}
	sq_done(st);
	return rc;
}

/* sq_row_user() and sq_row_post() as an sq_rows() row reader. */
typedef void (*sq_row_fn)(sqlite3_stmt *st, void *p);

static void
sq_row_user_at(sqlite3_stmt *st, void *p)
{
	sq_row_user(st, p);
}

static void
sq_row_post_at(sqlite3_stmt *st, void *p)
{
	sq_row_post(st, p);
}

/*
 * Steps the bound statement st for at most limit rows, reading each with
 * row into a growing array of size-byte elements: *v and *n, set even on
 * an error, for the caller to free (user_list_adopt(), post_list_adopt()).
 */
static enum board_err
sq_rows(struct sq_store *s, sqlite3_stmt *st, const char *what, int limit,
    size_t size, sq_row_fn row, void **v, size_t *n)
{
	char *a = NULL;
	size_t cap = 0, i = 0;
	int r = SQLITE_DONE;

	while (i < (size_t)limit && (r = sqlite3_step(st)) == SQLITE_ROW) {
		/* Grow as rows come: limit is a bound, not a size to trust. */
		if (i == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			a = xrealloc(a, cap * size);
		}
		row(st, a + i++ * size);
	}
	*v = a;
	*n = i;
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return sq_fail(s, st, r, what);
	sq_done(st);
	return BOARD_OK;
}

static enum board_err
sq_post_list(void *impl, const struct store_cursor *after, int limit,
    struct post_list *out)
{
	struct sq_store *s = impl;
	sqlite3_stmt *st;
	enum board_err rc;
	size_t n;
	void *v;
	int r;

	if (limit < 1 || (after != NULL && !store_id_is_valid(after->id)))
		return BOARD_EINVAL;
	if ((st = sq_stmt(s, after != NULL ? SQ_POST_LIST_AFTER :
	    SQ_POST_LIST)) == NULL)
		return BOARD_EUNAVAIL;
	if (after != NULL) {
		if ((r = sqlite3_bind_int64(st, 1, after->created_ms)) !=
		    SQLITE_OK || (r = sq_bind_str(st, 2, after->id)) !=
		    SQLITE_OK || (r = sqlite3_bind_int(st, 3, limit)) !=
		    SQLITE_OK)
			return sq_bind_fail(st, r, "post_list");
	} else if ((r = sqlite3_bind_int(st, 1, limit)) != SQLITE_OK) {
		return sq_bind_fail(st, r, "post_list");
	}
	rc = sq_rows(s, st, "post_list", limit, sizeof(*out->v),
	    sq_row_post_at, &v, &n);
	return post_list_adopt(out, rc, v, n);
}

/* The scan statement which: ids after after_id, at most limit rows. */
static enum board_err
sq_scan(struct sq_store *s, enum sq_stmt which, const char *what,
    const char *after_id, int limit, size_t size, sq_row_fn row,
    void **v, size_t *n)
{
	sqlite3_stmt *st;
	int r;

	*v = NULL;
	*n = 0;
	if (limit < 1)
		return BOARD_EINVAL;
	if ((st = sq_stmt(s, which)) == NULL)
		return BOARD_EUNAVAIL;
	if ((r = sq_bind_str(st, 1, after_id != NULL ? after_id : "")) !=
	    SQLITE_OK || (r = sqlite3_bind_int(st, 2, limit)) != SQLITE_OK)
		return sq_bind_fail(st, r, what);
	return sq_rows(s, st, what, limit, size, row, v, n);
}

static enum board_err
sq_user_scan(void *impl, const char *after_id, int limit,
    struct user_list *out)
{
	enum board_err rc;
	size_t n;
	void *v;

	rc = sq_scan(impl, SQ_USER_SCAN, "user_scan", after_id, limit,
	    sizeof(*out->v), sq_row_user_at, &v, &n);
	return user_list_adopt(out, rc, v, n);
}

static enum board_err
sq_post_scan(void *impl, const char *after_id, int limit,
    struct post_list *out)
{
	enum board_err rc;
	size_t n;
	void *v;

	rc = sq_scan(impl, SQ_POST_SCAN, "post_scan", after_id, limit,
	    sizeof(*out->v), sq_row_post_at, &v, &n);
	return post_list_adopt(out, rc, v, n);
}

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK; logs and maps a failure. */
static enum board_err
sq_exec(struct sq_store *s, const char *sql)
{
	char *err = NULL;

	if (sq_connect(s) != BOARD_OK)
		return BOARD_EUNAVAIL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warn("store: sqlite %s: %s", sql, err != NULL ? err :
		    sqlite3_errmsg(s->db));
		sqlite3_free(err);
		return BOARD_EUNAVAIL;
	}
	return BOARD_OK;
}

/* Ends a batch's transaction: COMMIT when rc is BOARD_OK, else ROLLBACK
 * (when the connection is still there to do it). */
static enum board_err
sq_end(struct sq_store *s, enum board_err rc)
{
	if (rc == BOARD_OK)
		return sq_exec(s, "COMMIT");
	if (s->db != NULL && !sqlite3_get_autocommit(s->db))
		(void)sq_exec(s, "ROLLBACK");
	return rc;
}

/* One INSERT of a batch: the code for each[], or BOARD_EUNAVAIL after
 * sq_fail(). */
static enum board_err
sq_insert_step(struct sq_store *s, sqlite3_stmt *st, const char *what)
{
	int r = sqlite3_step(st);

	switch (r) {
	case SQLITE_DONE:
		sq_done(st);
		return BOARD_OK;
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		sq_done(st);
		return BOARD_EEXIST;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		sq_done(st);
		return BOARD_ENOTFOUND;
	default:
		(void)sq_fail(s, st, r, what);
		return BOARD_EUNAVAIL;
	}
}

/* The rows of one kind a batch insert takes (users, posts). */
struct sq_row_kind {
	enum sq_stmt stmt;
	const char *what;
	size_t size;
	bool (*valid)(const void *row);
	/* SQLITE_OK, or the failing bind's SQLite error. */
	int (*bind)(sqlite3_stmt *st, const void *row);
};

/*
 * A batch is one transaction: one sync for all of it (synchronous=FULL
 * would otherwise sync each row), and a row that breaks a constraint
 * fails alone without ending the transaction.
 */
static enum board_err
sq_insert_batch(struct sq_store *s, const struct sq_row_kind *k,
    const void *v, size_t n, enum board_err *each)
{
	sqlite3_stmt *st;
	enum board_err rc;
	int r;

	if ((rc = sq_exec(s, "BEGIN IMMEDIATE")) != BOARD_OK)
		return rc;
	for (size_t i = 0; i < n && rc == BOARD_OK; i++) {
		const void *row = (const char *)v + i * k->size;

		if (!k->valid(row)) {
			each[i] = BOARD_EINVAL;
			continue;
		}
		if ((st = sq_stmt(s, k->stmt)) == NULL) {
			rc = BOARD_EUNAVAIL;
			break;
		}
		if ((r = k->bind(st, row)) != SQLITE_OK) {
			each[i] = sq_bind_fail(st, r, k->what);
			continue;
		}
		each[i] = sq_insert_step(s, st, k->what);
		if (each[i] == BOARD_EUNAVAIL)
			rc = BOARD_EUNAVAIL;
	}
	return sq_end(s, rc);
}

static bool
sq_user_valid(const void *row)
{
	const struct user *u = row;

	return store_id_is_valid(u->id) && u->username != NULL &&
	    u->pwhash != NULL;
}

static int
sq_user_bind(sqlite3_stmt *st, const void *row)
{
	const struct user *u = row;
	int r;

	if ((r = sq_bind_str(st, 1, u->id)) != SQLITE_OK ||
	    (r = sq_bind_str(st, 2, u->username)) != SQLITE_OK ||
	    (r = sq_bind_str(st, 3, u->pwhash)) != SQLITE_OK)
		return r;
	return sqlite3_bind_int64(st, 4, u->created_ms);
}

static enum board_err
sq_user_insert(void *impl, const struct user *v, size_t n,
    enum board_err *each)
{
	static const struct sq_row_kind users = { SQ_USER_INSERT,
	    "user_insert", sizeof(struct user), sq_user_valid, sq_user_bind };

	return sq_insert_batch(impl, &users, v, n, each);
}

static bool
sq_post_valid(const void *row)
{
	const struct post *p = row;

	return store_id_is_valid(p->id) && store_id_is_valid(p->author_id) &&
	    p->title != NULL && p->content != NULL;
}

static int
sq_post_bind(sqlite3_stmt *st, const void *row)
{
	const struct post *p = row;
	int r;

	if ((r = sq_bind_str(st, 1, p->id)) != SQLITE_OK ||
	    (r = sq_bind_str(st, 2, p->author_id)) != SQLITE_OK ||
	    (r = sq_bind_str(st, 3, p->author_name != NULL ?
	    p->author_name : "")) != SQLITE_OK ||
	    (r = sq_bind_str(st, 4, p->title)) != SQLITE_OK ||
	    (r = sq_bind_str(st, 5, p->content)) != SQLITE_OK ||
	    (r = sqlite3_bind_int64(st, 6, p->created_ms)) != SQLITE_OK)
		return r;
	return sqlite3_bind_int64(st, 7, p->updated_ms);
}

static enum board_err
sq_post_insert(void *impl, const struct post *v, size_t n,
    enum board_err *each)
{
	static const struct sq_row_kind posts = { SQ_POST_INSERT,
	    "post_insert", sizeof(struct post), sq_post_valid, sq_post_bind };

	return sq_insert_batch(impl, &posts, v, n, each);
}

/* Runs a one-id statement (the delete pair) to its end. */
static enum board_err
sq_run_id(struct sq_store *s, enum sq_stmt which, const char *id,
    const char *what)
{
	sqlite3_stmt *st;
	int r;

	if ((st = sq_stmt(s, which)) == NULL)
		return BOARD_EUNAVAIL;
	if ((r = sq_bind_str(st, 1, id)) != SQLITE_OK)
		return sq_bind_fail(st, r, what);
	r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		return sq_fail(s, st, r, what);
	sq_done(st);
	return BOARD_OK;
}

static enum board_err
sq_user_delete(void *impl, const char *id, int64_t *posts)
{
	struct sq_store *s = impl;
	enum board_err rc;

	*posts = 0;
	if (!store_id_is_valid(id))
		return BOARD_ENOTFOUND;
	/* Posts first: their author_id references the user. */
	if ((rc = sq_exec(s, "BEGIN IMMEDIATE")) != BOARD_OK)
		return rc;
	rc = sq_run_id(s, SQ_USER_DELETE_POSTS, id, "user_delete");
	if (rc == BOARD_OK) {
		*posts = sqlite3_changes(s->db);
		rc = sq_run_id(s, SQ_USER_DELETE, id, "user_delete");
	}
	if (rc == BOARD_OK && sqlite3_changes(s->db) == 0)
		rc = BOARD_ENOTFOUND;
	return sq_end(s, rc);
}

static enum board_err
sq_count_one(struct sq_store *s, enum sq_stmt which, const char *id,
    int64_t *out)
{
	sqlite3_stmt *st;
	int r;

	if ((st = sq_stmt(s, which)) == NULL)
		return BOARD_EUNAVAIL;
	if (id != NULL && (r = sq_bind_str(st, 1, id)) != SQLITE_OK)
		return sq_bind_fail(st, r, "count");
	r = sqlite3_step(st);
	if (r != SQLITE_ROW)
		return sq_fail(s, st, r, "count");
	*out = sqlite3_column_int64(st, 0);
	sq_done(st);
	return BOARD_OK;
}

static enum board_err
sq_count(void *impl, const char *author_id, struct store_counts *out)
{
	struct sq_store *s = impl;
	enum board_err rc;

	out->users = out->posts = 0;
	rc = sq_count_one(s, SQ_COUNT_USERS, NULL, &out->users);
	if (rc != BOARD_OK)
		return rc;
	if (author_id == NULL)
		return sq_count_one(s, SQ_COUNT_POSTS, NULL, &out->posts);
	if (!store_id_is_valid(author_id))
		return BOARD_OK;
	return sq_count_one(s, SQ_COUNT_POSTS_BY, author_id, &out->posts);
}

static void
sq_close(void *impl)
{
	struct sq_store *s = impl;

	if (s == NULL)
		return;
	sq_drop(s);
	free(s->path);
	free(s);
}

static const struct store_ops sq_ops = {
	.name = "sqlite",
	.ping = sq_ping,
	.user_create = sq_user_create,
	.user_find_by_name = sq_user_find_by_name,
	.user_set_hash = sq_user_set_hash,
	.post_create = sq_post_create,
	.post_find = sq_post_find,
	.post_update = sq_post_update,
	.post_delete = sq_post_delete,
	.post_list = sq_post_list,
	.user_find_by_id = sq_user_find_by_id,
	.user_scan = sq_user_scan,
	.user_insert = sq_user_insert,
	.user_delete = sq_user_delete,
	.post_scan = sq_post_scan,
	.post_insert = sq_post_insert,
	.count = sq_count,
	.close = sq_close,
};

enum board_err
store_sqlite_open(const struct conf *c, struct store *st, char **errmsg)
{
	struct sq_store *s = xcalloc(1, sizeof(*s));
	char *why = NULL;
	struct buf b;

	/* conf's table gives both a default and bounds the timeout. */
	assert(c->db_path != NULL && c->store_timeout_ms <= INT_MAX);
	s->path = xstrdup(c->db_path);
	s->timeout_ms = (int)c->store_timeout_ms;
	/*
	 * Several workers start at once on a new file: switching it to WAL
	 * takes an exclusive lock that SQLite's busy handler does not wait
	 * for, so a loser retries until the timeout.
	 */
	for (int waited = 0;; waited += 20) {
		if (sq_connect_why(s, &why) == BOARD_OK)
			break;
		if ((s->open_rc != SQLITE_BUSY &&
		    s->open_rc != SQLITE_LOCKED) || waited >= s->timeout_ms)
			break;
		free(why);
		why = NULL;
		usleep(20 * 1000);
	}
	if (s->db == NULL) {
		buf_init(&b);
		buf_printf(&b, "BOARD_DB: cannot open SQLite database %s: %s",
		    s->path, why);
		*errmsg = buf_steal(&b);
		free(why);
		sq_close(s);
		return BOARD_EUNAVAIL;
	}
	st->ops = &sq_ops;
	st->impl = s;
	return BOARD_OK;
}
