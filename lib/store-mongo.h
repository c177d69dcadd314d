/* store-mongo.h: what only the MongoDB backend offers: the read-replica
 * fallback (testable without a replica set) and the layout migration. */
#ifndef BOARD_STORE_MONGO_H
#define BOARD_STORE_MONGO_H

#include <stdbool.h>
#include <stdint.h>

#include <mongoc/mongoc.h>

#include "board.h"
#include "conf.h"

/*
 * One attempt of a read with the given read preference: BOARD_OK when it
 * found the document, BOARD_ENOTFOUND, or another code.
 */
typedef enum board_err store_mongo_find_fn(void *arg,
    const mongoc_read_prefs_t *prefs);

/* true when prefs may read a secondary, which may not yet hold a write
 * the primary acknowledged (anything but primary; NULL is primary). */
bool store_mongo_prefs_may_lag(const mongoc_read_prefs_t *prefs);

/*
 * Reads with prefs (the URI's readPreference), and when that found
 * nothing and prefs may lag, once more with primary: a post is readable
 * right after its 201 even from a replica that has not caught up, and a
 * read that a replica can answer never touches the primary. Returns what
 * the last attempt returned.
 */
enum board_err store_mongo_find_fallback(const mongoc_read_prefs_t *prefs,
    const mongoc_read_prefs_t *primary, store_mongo_find_fn *find,
    void *arg);

/* How many finds this process has sent, for tests (one per page of posts
 * and one for the page's authors, never one per post). */
uint64_t store_mongo_finds(void);

/* What migrate-layout did. */
struct store_mongo_migration {
	int64_t users;		/* pwhash moved to password */
	int64_t posts;		/* authorId moved to author */
	int64_t conflicts;	/* left as they were (both layouts in one) */
};

/* Called after each batch with the counts so far. */
typedef void store_mongo_progress_fn(void *arg,
    const struct store_mongo_migration *sofar);

/*
 * Moves the documents of the earlier board layout (users.pwhash,
 * posts.authorId/authorName) in c->mongodb_uri's database to DATA.md's
 * (users.password, posts.author, __v), one document at a time, so it can
 * be interrupted and run again. A document holding both layouts is
 * counted as a conflict and left alone. BOARD_OK, or another code with
 * *errmsg (one line, caller frees).
 */
enum board_err store_mongo_migrate_layout(const struct conf *c,
    store_mongo_progress_fn *progress, void *arg,
    struct store_mongo_migration *out, char **errmsg);

#endif
