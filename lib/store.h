/* store.h: the document-store interface (users, posts) and its backends. */
#ifndef BOARD_STORE_H
#define BOARD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "conf.h"

/* Ids are 24 lower-case hex digits in both backends (a MongoDB ObjectId). */
#define STORE_ID_LEN 24

struct user {
	char id[STORE_ID_LEN + 1];
	char *username;
	char *pwhash;
	/* When it was made: SQLite's created_ms; in MongoDB board's own
	 * optional createdAt, else the ObjectId's second. user_create
	 * leaves it 0. */
	int64_t created_ms;
};

struct user_list {
	struct user *v;
	size_t n;
};

/* How many users, and how many posts (of one author when asked). */
struct store_counts {
	int64_t users;
	int64_t posts;
};

struct post {
	char id[STORE_ID_LEN + 1];
	char *title;
	char *content;
	char author_id[STORE_ID_LEN + 1];
	char *author_name;
	int64_t created_ms;
	int64_t updated_ms;
};

/* Where a page of posts starts: strictly after (created_ms, id). */
struct store_cursor {
	int64_t created_ms;
	char id[STORE_ID_LEN + 1];
};

struct post_list {
	struct post *v;
	size_t n;
};

void user_init(struct user *u);
void user_cleanup(struct user *u);
void post_init(struct post *p);
void post_cleanup(struct post *p);
void post_list_init(struct post_list *l);
void post_list_cleanup(struct post_list *l);
void user_list_init(struct user_list *l);
void user_list_cleanup(struct user_list *l);
/*
 * For backends building a list as an array v of n elements: when rc is
 * BOARD_OK, out drops what it held and takes them; otherwise they are
 * freed and out stays as it was. Returns rc.
 */
enum board_err user_list_adopt(struct user_list *out, enum board_err rc,
    void *v, size_t n);
enum board_err post_list_adopt(struct post_list *out, enum board_err rc,
    void *v, size_t n);

/* true when s is a well-formed id (24 lower-case hex digits). */
bool store_id_is_valid(const char *s);

/*
 * A backend. Every function returns BOARD_OK, the code named, or
 * BOARD_EUNAVAIL when the backend cannot be reached (after logging once
 * why); backends reconnect by themselves on next use.
 */
struct store_ops {
	const char *name;
	enum board_err (*ping)(void *impl);
	/* BOARD_EEXIST when the username is taken (also when racing). */
	enum board_err (*user_create)(void *impl, const char *username,
	    const char *pwhash, struct user *out);
	/* BOARD_ENOTFOUND. */
	enum board_err (*user_find_by_name)(void *impl, const char *username,
	    struct user *out);
	enum board_err (*user_set_hash)(void *impl, const char *user_id,
	    const char *pwhash);
	/* Stores a post by author (id, name) with created = updated = now. */
	enum board_err (*post_create)(void *impl, const char *author_id,
	    const char *author_name, const char *title, size_t title_len,
	    const char *content, size_t content_len, int64_t now_ms,
	    struct post *out);
	/* BOARD_ENOTFOUND (also for a malformed id). primary: read the
	 * primary only (author checks); else the URI's read preference,
	 * then the primary when a lagging replica lacks it. */
	enum board_err (*post_find)(void *impl, const char *id, bool primary,
	    struct post *out);
	/* Sets the fields given (NULL = keep) and updated = now on the post
	 * id that author_id wrote; returns the new post. The author is part
	 * of the write's filter (defence in depth: the caller checked it
	 * already), so another author's post is BOARD_ENOTFOUND, unchanged. */
	enum board_err (*post_update)(void *impl, const char *id,
	    const char *author_id, const char *title, size_t title_len,
	    const char *content, size_t content_len, int64_t now_ms,
	    struct post *out);
	/* Deletes the post id that author_id wrote (the author in the
	 * filter, as for post_update). BOARD_ENOTFOUND. */
	enum board_err (*post_delete)(void *impl, const char *id,
	    const char *author_id);
	/* Up to limit posts, newest first (created desc, id desc), strictly
	 * after cursor when it is not NULL. */
	enum board_err (*post_list)(void *impl,
	    const struct store_cursor *after, int limit, struct post_list *out);

	/* For board-admin (copy, user show/delete, check); all read the
	 * primary. */
	/* BOARD_ENOTFOUND (also for a malformed id). */
	enum board_err (*user_find_by_id)(void *impl, const char *id,
	    struct user *out);
	/* Up to limit users in id order, strictly after after_id (NULL or
	 * "": from the first). An empty list is the end. */
	enum board_err (*user_scan)(void *impl, const char *after_id,
	    int limit, struct user_list *out);
	/* Stores each of v[0..n) as it is (id, username, hash, created_ms),
	 * setting each[i]: BOARD_OK, BOARD_EEXIST (the id or the username is
	 * taken), BOARD_EINVAL (a malformed id). Returns BOARD_OK when every
	 * one was tried; else nothing or part of them may be stored. */
	enum board_err (*user_insert)(void *impl, const struct user *v,
	    size_t n, enum board_err *each);
	/* Deletes the user and every post of theirs, setting *posts to how
	 * many. BOARD_ENOTFOUND. */
	enum board_err (*user_delete)(void *impl, const char *id,
	    int64_t *posts);
	/* Up to limit posts in id order, strictly after after_id (NULL or
	 * "": from the first), authors' names filled as post_list does. */
	enum board_err (*post_scan)(void *impl, const char *after_id,
	    int limit, struct post_list *out);
	/* Stores each of v[0..n) as it is (id, author_id, title, content,
	 * times; author_name where the backend keeps it), setting each[i]:
	 * BOARD_OK, BOARD_EEXIST (the id is taken), BOARD_ENOTFOUND (SQLite:
	 * no such author), BOARD_EINVAL (a malformed id). Returns as
	 * user_insert does. */
	enum board_err (*post_insert)(void *impl, const struct post *v,
	    size_t n, enum board_err *each);
	/* Counts users, and posts: every post, or author_id's when not NULL. */
	enum board_err (*count)(void *impl, const char *author_id,
	    struct store_counts *out);
	void (*close)(void *impl);
};

struct store {
	const struct store_ops *ops;
	void *impl;
};

/*
 * Opens the backend the configuration names: MongoDB when mongodb_uri is
 * set, else SQLite at db_path; creates schema/indexes. On failure returns
 * BOARD_EINVAL/BOARD_EUNAVAIL with *errmsg naming the setting.
 */
enum board_err store_open(const struct conf *c, struct store **out,
    char **errmsg);
void store_close(struct store *st);

/* Backend constructors (store-sqlite.c, store-mongo.c). */
enum board_err store_sqlite_open(const struct conf *c, struct store *st,
    char **errmsg);
enum board_err store_mongo_open(const struct conf *c, struct store *st,
    char **errmsg);

/* Makes a new id: 4 bytes of seconds then 8 random bytes, in hex. */
void store_id_new(char out[STORE_ID_LEN + 1]);

/* Encodes a cursor as an opaque URL-safe string (caller frees). */
char *store_cursor_encode(const struct store_cursor *c);
/* Decodes one; BOARD_EINVAL for anything we did not make. */
enum board_err store_cursor_decode(const char *s, struct store_cursor *out);

/* Convenience wrappers: st->ops->f(st->impl, ...). */
#define store_ping(st) ((st)->ops->ping((st)->impl))
#define store_user_create(st, ...) \
	((st)->ops->user_create((st)->impl, __VA_ARGS__))
#define store_user_find_by_name(st, ...) \
	((st)->ops->user_find_by_name((st)->impl, __VA_ARGS__))
#define store_user_set_hash(st, ...) \
	((st)->ops->user_set_hash((st)->impl, __VA_ARGS__))
#define store_post_create(st, ...) \
	((st)->ops->post_create((st)->impl, __VA_ARGS__))
#define store_post_find(st, ...) ((st)->ops->post_find((st)->impl, __VA_ARGS__))
#define store_post_update(st, ...) \
	((st)->ops->post_update((st)->impl, __VA_ARGS__))
#define store_post_delete(st, ...) \
	((st)->ops->post_delete((st)->impl, __VA_ARGS__))
#define store_post_list(st, ...) ((st)->ops->post_list((st)->impl, __VA_ARGS__))
#define store_user_find_by_id(st, ...) \
	((st)->ops->user_find_by_id((st)->impl, __VA_ARGS__))
#define store_user_scan(st, ...) ((st)->ops->user_scan((st)->impl, __VA_ARGS__))
#define store_user_insert(st, ...) \
	((st)->ops->user_insert((st)->impl, __VA_ARGS__))
#define store_user_delete(st, ...) \
	((st)->ops->user_delete((st)->impl, __VA_ARGS__))
#define store_post_scan(st, ...) ((st)->ops->post_scan((st)->impl, __VA_ARGS__))
#define store_post_insert(st, ...) \
	((st)->ops->post_insert((st)->impl, __VA_ARGS__))
#define store_count(st, ...) ((st)->ops->count((st)->impl, __VA_ARGS__))

#endif
