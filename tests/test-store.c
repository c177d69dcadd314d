/*
 * test-store.c: one conformance suite for every store backend. With
 * BOARD_TEST_MONGODB_URI set it runs against MongoDB, else against a fresh
 * SQLite file. It never assumes an empty store: names carry a per-run tag
 * and listing checks look only at the posts this run made.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "board.h"
#include "conf.h"
#include "password.h"
#include "store.h"
#include "tap.h"

#define NCHILD 4
#define CHILD_USERS 20
#define RACE_NAMES 16

static char tag[9];		/* per run: names never clash across runs */
static char tmpdir[64];		/* SQLite only */
static bool is_sqlite;
static struct conf conf;

static const char *const bad_ids[] = {
	"", "zz", "../x", "zzzzzzzzzzzzzzzzzzzzzzzz",
	"0123456789abcdef01234567a",	/* 25 hex digits */
	"0123456789abcdef0123456",	/* 23 */
	"0123456789ABCDEF01234567",	/* upper case */
	"0123456789abcdef0123456\n",
	"' OR 1=1 --              ",
	"{\"$gt\": \"\"}",
};
#define NBAD (sizeof(bad_ids) / sizeof(bad_ids[0]))

static void
name(char *out, size_t n, const char *what)
{
	int r = snprintf(out, n, "%s_%s", what, tag);

	if (r < 0 || (size_t)r >= n)
		abort();
}

/* s with control characters escaped, for a one-line test name. */
static const char *
show(const char *s)
{
	static char out[128];
	size_t n = 0;

	for (; *s != '\0' && n + 5 < sizeof(out); s++) {
		if ((unsigned char)*s < 0x20)
			n += (size_t)snprintf(out + n, sizeof(out) - n,
			    "\\x%02x", (unsigned char)*s);
		else
			out[n++] = *s;
	}
	out[n] = '\0';
	return out;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct store *
open_store(const struct conf *c)
{
	struct store *st = NULL;
	char *err = NULL;

	if (store_open(c, &st, &err) != BOARD_OK) {
		diag("store_open: %s", err ? err : "(no message)");
		free(err);
		return NULL;
	}
	return st;
}

/* Makes a user for posts to belong to. */
static void
make_user(struct store *st, const char *what, struct user *u)
{
	char un[64];

	name(un, sizeof(un), what);
	user_init(u);
	if (store_user_create(st, un, "$argon2id$x", u) != BOARD_OK)
		diag("make_user %s failed", un);
}

static enum board_err
make_post(struct store *st, const struct user *u, const char *title,
    int64_t ms, struct post *out)
{
	return store_post_create(st, u->id, u->username, title, strlen(title),
	    "body", 4, ms, out);
}

static void
test_ids(void)
{
	char a[STORE_ID_LEN + 1], b[STORE_ID_LEN + 1];
	int valid = 1, distinct = 1;

	for (int i = 0; i < 1000; i++) {
		store_id_new(a);
		store_id_new(b);
		valid &= store_id_is_valid(a) && store_id_is_valid(b);
		distinct &= strcmp(a, b) != 0;
	}
	ok(valid, "store_id_new makes valid ids");
	ok(distinct, "store_id_new does not repeat");
	ok(!store_id_is_valid(NULL), "NULL is not an id");
	for (size_t i = 0; i < NBAD; i++)
		ok(!store_id_is_valid(bad_ids[i]), "\"%s\" is not an id",
		    show(bad_ids[i]));
	ok(store_id_is_valid("0123456789abcdef01234567"), "a good id is one");
}

static bool
cursor_chars_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

static void
test_cursor(void)
{
	static const int64_t times[] = { 0, 1, 1700000000123,
	    INT64_C(253402300799999) };
	struct store_cursor c, d;
	char *s, *s2, buf[80];
	int rt = 1, canon = 1, bad = 0;

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		c.created_ms = times[i];
		store_id_new(c.id);
		s = store_cursor_encode(&c);
		ok(cursor_chars_ok(s) && strlen(s) > 0, "cursor %s is URL-safe",
		    s);
		ok(store_cursor_decode(s, &d) == BOARD_OK &&
		    d.created_ms == c.created_ms && strcmp(d.id, c.id) == 0,
		    "cursor round trip at %lld", (long long)times[i]);
		free(s);
	}
	c.created_ms = INT64_C(253402300800000);
	s = store_cursor_encode(&c);
	ok(store_cursor_decode(s, &d) == BOARD_EINVAL, "a time after 9999 is "
	    "rejected");
	free(s);
	c.created_ms = -1;
	s = store_cursor_encode(&c);
	ok(store_cursor_decode(s, &d) == BOARD_EINVAL, "a negative time is "
	    "rejected");
	free(s);

	c.created_ms = 1700000000123;
	store_id_new(c.id);
	s = store_cursor_encode(&c);
	ok(store_cursor_decode(NULL, &d) == BOARD_EINVAL, "NULL cursor");
	ok(store_cursor_decode("", &d) == BOARD_EINVAL, "empty cursor");
	snprintf(buf, sizeof(buf), "%s=", s);
	ok(store_cursor_decode(buf, &d) == BOARD_EINVAL, "padded cursor");
	snprintf(buf, sizeof(buf), "%sA", s);
	ok(store_cursor_decode(buf, &d) == BOARD_EINVAL, "one char longer");
	snprintf(buf, sizeof(buf), "%.*s", (int)strlen(s) - 1, s);
	ok(store_cursor_decode(buf, &d) == BOARD_EINVAL, "one char shorter");
	snprintf(buf, sizeof(buf), " %s", s + 1);
	ok(store_cursor_decode(buf, &d) == BOARD_EINVAL, "a space");
	snprintf(buf, sizeof(buf), "+%s", s + 1);
	ok(store_cursor_decode(buf, &d) == BOARD_EINVAL, "standard base64 '+'");
	ok(store_cursor_decode("1700000000123:0123456789abcdef01234567", &d) ==
	    BOARD_EINVAL, "a plain-text cursor");
	ok(store_cursor_decode("AAAAAAAAAAAAAAAAAAAAAAAAAAAA", &d) ==
	    BOARD_EINVAL, "a wrong version byte");

	/* Every one-character change is rejected or decodes to a cursor that
	 * encodes back to exactly that string: one spelling per cursor. */
	for (size_t i = 0; s[i] != '\0'; i++) {
		static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_+/=.%";
		for (size_t j = 0; alpha[j] != '\0'; j++) {
			snprintf(buf, sizeof(buf), "%s", s);
			buf[i] = alpha[j];
			if (store_cursor_decode(buf, &d) != BOARD_OK) {
				bad++;
				continue;
			}
			s2 = store_cursor_encode(&d);
			canon &= strcmp(s2, buf) == 0;
			free(s2);
		}
	}
	ok(canon, "mutated cursors that decode are canonical");
	ok(bad > 0, "mutated cursors are rejected (%d)", bad);
	free(s);

	/* Random bytes: never a crash, and anything accepted is canonical. */
	for (int i = 0; i < 500; i++) {
		size_t n = randombytes_uniform(60);

		randombytes_buf(buf, n);
		for (size_t k = 0; k < n; k++) {
			if (i % 2 == 0) /* half from the cursor alphabet */
				buf[k] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
				    "ghijklmnopqrstuvwxyz0123456789-_"
				    [(unsigned char)buf[k] % 64];
			else if (buf[k] == '\0')
				buf[k] = 'A';
		}
		buf[n] = '\0';
		if (store_cursor_decode(buf, &d) == BOARD_OK) {
			s2 = store_cursor_encode(&d);
			rt &= strcmp(s2, buf) == 0 && store_id_is_valid(d.id) &&
			    d.created_ms >= 0;
			free(s2);
		}
	}
	ok(rt, "500 random strings: no crash, accepted ones are canonical");
}

static void
test_users(struct store *st)
{
	struct user u, v, w;
	char alice[64], Alice[64], ALICE[64];
	user_init(&u);
	user_init(&v);
	user_init(&w);

	name(alice, sizeof(alice), "alice");
	name(Alice, sizeof(Alice), "Alice");
	name(ALICE, sizeof(ALICE), "ALICE");
	user_init(&u);
	user_init(&v);
	user_init(&w);
	is_int(store_ping(st), BOARD_OK, "ping");
	is_int(store_user_create(st, alice, "$argon2id$one", &u), BOARD_OK,
	    "user_create");
	ok(store_id_is_valid(u.id), "user id is valid");
	is_str(u.username, alice, "user_create returns the username");
	is_str(u.pwhash, "$argon2id$one", "user_create returns the hash");
	is_int(store_user_create(st, alice, "$argon2id$two", &v), BOARD_EEXIST,
	    "duplicate username is EEXIST");
	is_int(store_user_create(st, Alice, "$argon2id$three", &v), BOARD_OK,
	    "usernames differing in case are different users");
	ok(strcmp(u.id, v.id) != 0, "and get different ids");

	is_int(store_user_find_by_name(st, alice, &w), BOARD_OK, "find alice");
	is_str(w.id, u.id, "same id");
	is_str(w.username, alice, "same name");
	is_str(w.pwhash, "$argon2id$one", "same hash");
	user_cleanup(&w);
	is_int(store_user_find_by_name(st, ALICE, &w), BOARD_ENOTFOUND,
	    "find is case-sensitive");
	is_int(store_user_find_by_name(st, "no-such-user-at-all-x", &w),
	    BOARD_ENOTFOUND, "unknown user");

	is_int(store_user_set_hash(st, u.id, "$argon2id$new"), BOARD_OK,
	    "user_set_hash");
	is_int(store_user_find_by_name(st, alice, &w), BOARD_OK, "find again");
	is_str(w.pwhash, "$argon2id$new", "new hash stored");
	user_cleanup(&w);
	is_int(store_user_find_by_name(st, Alice, &w), BOARD_OK, "find Alice");
	is_str(w.pwhash, "$argon2id$three", "the other user is untouched");
	user_cleanup(&w);
	is_int(store_user_set_hash(st, "ffffffffffffffffffffffff", "$x"),
	    BOARD_ENOTFOUND, "user_set_hash on an unknown id");
	is_int(store_user_set_hash(st, "zz", "$x"), BOARD_ENOTFOUND,
	    "user_set_hash on a malformed id");
	user_cleanup(&u);
	user_cleanup(&v);
	user_cleanup(NULL);
}

/* An id of our form whose seconds are t: ids sort by it, then randomly. */
static void
id_at(uint32_t t, char out[STORE_ID_LEN + 1])
{
	char r[STORE_ID_LEN + 1];

	store_id_new(r);
	snprintf(out, STORE_ID_LEN + 1, "%08x%s", (unsigned)t, r + 8);
}

/* Walks every user (or post) in id order with pages of `page`: true when
 * ids strictly increase, and counts how many of want[0..nw) it met. */
static bool
scan_users(struct store *st, int page, char want[][STORE_ID_LEN + 1],
    size_t nw, size_t *met, size_t *total)
{
	struct user_list l;
	char after[STORE_ID_LEN + 1] = "";
	bool order = true;

	*met = *total = 0;
	user_list_init(&l);
	for (int guard = 0; guard < 100000; guard++) {
		if (store_user_scan(st, after, page, &l) != BOARD_OK) {
			order = false;
			break;
		}
		if (l.n == 0)
			break;
		for (size_t i = 0; i < l.n; i++) {
			if (strcmp(l.v[i].id, after) <= 0)
				order = false;
			memcpy(after, l.v[i].id, sizeof(after));
			for (size_t j = 0; j < nw; j++)
				if (strcmp(want[j], l.v[i].id) == 0)
					(*met)++;
		}
		*total += l.n;
	}
	user_list_cleanup(&l);
	return order;
}

static bool
scan_posts(struct store *st, int page, char want[][STORE_ID_LEN + 1],
    size_t nw, const char *want_author, size_t *met)
{
	struct post_list l;
	char after[STORE_ID_LEN + 1] = "";
	bool good = true;

	*met = 0;
	post_list_init(&l);
	for (int guard = 0; guard < 100000; guard++) {
		if (store_post_scan(st, after, page, &l) != BOARD_OK) {
			good = false;
			break;
		}
		if (l.n == 0)
			break;
		for (size_t i = 0; i < l.n; i++) {
			if (strcmp(l.v[i].id, after) <= 0)
				good = false;
			memcpy(after, l.v[i].id, sizeof(after));
			for (size_t j = 0; j < nw; j++)
				if (strcmp(want[j], l.v[i].id) == 0) {
					(*met)++;
					if (strcmp(l.v[i].author_name,
					    want_author) != 0)
						good = false;
				}
		}
	}
	post_list_cleanup(&l);
	return good;
}

#define NADMIN 5

/* The functions board-admin copies and inspects with. */
static void
test_admin(struct store *st)
{
	struct user u[NADMIN], w, made;
	struct post p[NADMIN], q;
	struct post_list l;
	struct store_counts cnt;
	enum board_err each[NADMIN + 2];
	char uids[NADMIN][STORE_ID_LEN + 1], pids[NADMIN][STORE_ID_LEN + 1];
	char un[NADMIN][64], hash[NADMIN][32], ghost[STORE_ID_LEN + 1];
	uint32_t now = (uint32_t)(board_now_ms() / 1000);
	int64_t t0 = 1700000000123, deleted = -1;
	size_t met, total, n;
	int all;

	user_init(&w);
	user_init(&made);
	post_init(&q);
	post_list_init(&l);

	/* Users with given ids, hashes and times, as a copy stores them. */
	for (int i = 0; i < NADMIN; i++) {
		char what[16];

		snprintf(what, sizeof(what), "adm%d", i);
		name(un[i], sizeof(un[i]), what);
		snprintf(hash[i], sizeof(hash[i]), "$2b$10$hash%d", i);
		id_at(now - 1000 + (uint32_t)i, uids[i]);
		user_init(&u[i]);
		memcpy(u[i].id, uids[i], sizeof(uids[i]));
		u[i].username = un[i];
		u[i].pwhash = hash[i];
		u[i].created_ms = t0 + i;
	}
	is_int(store_user_insert(st, u, NADMIN, each), BOARD_OK,
	    "user_insert of %d users", NADMIN);
	all = 1;
	for (int i = 0; i < NADMIN; i++)
		all &= each[i] == BOARD_OK;
	ok(all, "  each one stored");
	is_int(store_user_find_by_id(st, uids[2], &w), BOARD_OK,
	    "user_find_by_id");
	ok(strcmp(w.id, uids[2]) == 0 && strcmp(w.username, un[2]) == 0 &&
	    strcmp(w.pwhash, hash[2]) == 0 && w.created_ms == t0 + 2,
	    "  the same id, name, hash and time (%lld)",
	    (long long)w.created_ms);
	is_int(store_user_find_by_name(st, un[3], &w), BOARD_OK,
	    "an inserted user is found by name");
	is_str(w.id, uids[3], "  with its given id");
	is_int(store_user_find_by_id(st, "ffffffffffffffffffffffff", &w),
	    BOARD_ENOTFOUND, "user_find_by_id of an unknown id");
	is_int(store_user_find_by_id(st, "zz", &w), BOARD_ENOTFOUND,
	    "user_find_by_id of a malformed id");
	is_int(store_user_insert(st, u, NADMIN, each), BOARD_OK,
	    "user_insert again");
	all = 1;
	for (int i = 0; i < NADMIN; i++)
		all &= each[i] == BOARD_EEXIST;
	ok(all, "  every one is EEXIST, nothing overwritten");
	{
		struct user two[2];
		char other[64];

		name(other, sizeof(other), "admnew");
		user_init(&two[0]);
		user_init(&two[1]);
		id_at(now, two[0].id);		/* new id, taken name */
		two[0].username = un[0];
		two[0].pwhash = "$x";
		memcpy(two[1].id, "not-an-id", 10);
		two[1].username = other;
		two[1].pwhash = "$x";
		is_int(store_user_insert(st, two, 2, each), BOARD_OK,
		    "user_insert of a taken name and a bad id");
		is_int(each[0], BOARD_EEXIST, "  a taken username is EEXIST");
		is_int(each[1], BOARD_EINVAL, "  a malformed id is EINVAL");
	}
	if (store_user_create(st, un[0], "h", &made) == BOARD_EEXIST &&
	    store_user_find_by_id(st, uids[0], &w) == BOARD_OK)
		ok(strcmp(w.pwhash, hash[0]) == 0, "  the first one is intact");
	else
		ok(0, "  the first one is intact");
	{
		char fresh[64];
		int64_t before = board_now_ms();

		name(fresh, sizeof(fresh), "admfresh");
		if (store_user_create(st, fresh, "h", &made) == BOARD_OK &&
		    store_user_find_by_id(st, made.id, &w) == BOARD_OK)
			ok(w.created_ms >= before - 1000 &&
			    w.created_ms <= board_now_ms() + 1000,
			    "a signed-up user's time is now");
		else
			ok(0, "a signed-up user's time is now");
	}

	ok(scan_users(st, 2, uids, NADMIN, &met, &total),
	    "user_scan in pages of 2: ids strictly increase");
	is_int((long long)met, NADMIN, "  and it meets every inserted user "
	    "once (of %zu)", total);
	{
		char last[STORE_ID_LEN + 1];

		memcpy(last, "ffffffffffffffffffffffff", sizeof(last));
		is_int(store_user_scan(st, last, 10, &(struct user_list){0}),
		    BOARD_OK, "a scan after the last id");
		is_int(store_user_scan(st, "", 0, &(struct user_list){0}),
		    BOARD_EINVAL, "a scan of 0 is EINVAL");
	}

	/* Posts with given ids and times, updated after created. */
	for (int i = 0; i < NADMIN; i++) {
		post_init(&p[i]);
		id_at(now - 500 + (uint32_t)i, pids[i]);
		memcpy(p[i].id, pids[i], sizeof(pids[i]));
		memcpy(p[i].author_id, uids[1], sizeof(uids[1]));
		p[i].author_name = un[1];
		p[i].title = "copied title";
		p[i].content = i == 0 ? "" : "copied \xc3\xa9 content";
		p[i].created_ms = t0 + 10 * i;
		p[i].updated_ms = t0 + 10 * i + 5;
	}
	is_int(store_post_insert(st, p, NADMIN, each), BOARD_OK,
	    "post_insert of %d posts", NADMIN);
	all = 1;
	for (int i = 0; i < NADMIN; i++)
		all &= each[i] == BOARD_OK;
	ok(all, "  each one stored");
	is_int(store_post_find(st, pids[3], false, &q), BOARD_OK,
	    "an inserted post is found");
	ok(strcmp(q.id, pids[3]) == 0 && strcmp(q.author_id, uids[1]) == 0 &&
	    strcmp(q.author_name, un[1]) == 0 &&
	    strcmp(q.title, "copied title") == 0 &&
	    strcmp(q.content, "copied \xc3\xa9 content") == 0 &&
	    q.created_ms == t0 + 30 && q.updated_ms == t0 + 35,
	    "  with the same id, author, text and both times");
	is_int(store_post_insert(st, p, NADMIN, each), BOARD_OK,
	    "post_insert again");
	all = 1;
	for (int i = 0; i < NADMIN; i++)
		all &= each[i] == BOARD_EEXIST;
	ok(all, "  every one is EEXIST");
	ok(scan_posts(st, 3, pids, NADMIN, un[1], &met),
	    "post_scan in pages of 3: ids increase, authors named");
	is_int((long long)met, NADMIN, "  and it meets every inserted post");

	/* A post whose author does not exist. */
	{
		struct post orphan = p[0];

		id_at(now, orphan.id);
		store_id_new(ghost);
		memcpy(orphan.author_id, ghost, sizeof(ghost));
		orphan.author_name = "ghost";
		is_int(store_post_insert(st, &orphan, 1, each), BOARD_OK,
		    "post_insert of a post by nobody");
		if (is_sqlite) {
			is_int(each[0], BOARD_ENOTFOUND,
			    "  SQLite refuses it (author is a foreign key)");
		} else {
			is_int(each[0], BOARD_OK, "  MongoDB stores it");
			is_int(store_post_find(st, orphan.id, false, &q),
			    BOARD_OK, "  it reads");
			ok(strcmp(q.author_id, ghost) == 0 &&
			    q.author_name[0] == '\0', "  author {\"id\": "
			    "\"%s\", \"username\": \"\"} (DATA.md)",
			    q.author_id);
			store_post_delete(st, orphan.id, ghost);
		}
	}

	is_int(store_count(st, uids[1], &cnt), BOARD_OK, "count");
	ok(cnt.users >= NADMIN && cnt.posts == NADMIN,
	    "  %lld users, the author's %lld posts", (long long)cnt.users,
	    (long long)cnt.posts);
	is_int(store_count(st, NULL, &cnt), BOARD_OK, "count everything");
	ok(cnt.posts >= NADMIN, "  %lld posts", (long long)cnt.posts);
	is_int(store_user_delete(st, uids[1], &deleted), BOARD_OK,
	    "user_delete");
	is_int(deleted, NADMIN, "  deletes the user's %d posts", NADMIN);
	is_int(store_user_find_by_id(st, uids[1], &w), BOARD_ENOTFOUND,
	    "  the user is gone");
	is_int(store_post_find(st, pids[0], true, &q), BOARD_ENOTFOUND,
	    "  and the posts");
	is_int(store_count(st, uids[1], &cnt), BOARD_OK, "count again");
	is_int(cnt.posts, 0, "  no post of that author");
	is_int(store_user_delete(st, uids[1], &deleted), BOARD_ENOTFOUND,
	    "user_delete twice is ENOTFOUND");
	is_int(store_user_delete(st, "zz", &deleted), BOARD_ENOTFOUND,
	    "user_delete of a malformed id");

	/* A page by several authors names each (MongoDB: one $in query). */
	{
		struct post mine[3];
		int good = 1;

		for (int i = 0; i < 3; i++) {
			post_init(&mine[i]);
			make_post(st, &u[2 + i % 2], "multi", board_now_ms() +
			    86400000 * 365LL * 50, &mine[i]);
		}
		n = 0;
		if (store_post_list(st, NULL, 3, &l) == BOARD_OK)
			for (size_t i = 0; i < l.n; i++) {
				for (int k = 0; k < 3; k++)
					if (strcmp(l.v[i].id,
					    mine[k].id) == 0) {
						n++;
						good &= strcmp(
						    l.v[i].author_name,
						    mine[k].author_name) == 0;
					}
			}
		ok(n == 3 && good, "a page by two authors names each");
		for (int i = 0; i < 3; i++) {
			store_post_delete(st, mine[i].id, mine[i].author_id);
			post_cleanup(&mine[i]);
		}
	}
	for (int i = 0; i < NADMIN; i++)
		if (i != 1)
			store_user_delete(st, uids[i], &deleted);
	store_user_delete(st, made.id, &deleted);
	post_list_cleanup(&l);
	post_cleanup(&q);
	user_cleanup(&made);
	user_cleanup(&w);
}

static void
test_posts(struct store *st)
{
	struct user u, v;
	struct post p, q;
	int64_t t0 = board_now_ms();
	char id[STORE_ID_LEN + 1];
	user_init(&u);
	user_init(&v);
	post_init(&p);
	post_init(&q);

	make_user(st, "poster", &u);
	post_init(&p);
	post_init(&q);
	is_int(store_post_create(st, u.id, u.username, "Hello world", 5,
	    "first", 5, t0, &p), BOARD_OK, "post_create");
	ok(store_id_is_valid(p.id), "post id is valid");
	is_str(p.title, "Hello", "title is stored with the length given");
	is_str(p.content, "first", "content");
	is_str(p.author_id, u.id, "author id");
	is_str(p.author_name, u.username, "author name");
	is_int(p.created_ms, t0, "created_ms = now");
	is_int(p.updated_ms, t0, "updated_ms = now");

	for (int primary = 0; primary < 2; primary++) {
		is_int(store_post_find(st, p.id, primary, &q), BOARD_OK,
		    "post_find (primary=%d)", primary);
		ok(strcmp(q.id, p.id) == 0 && strcmp(q.title, "Hello") == 0 &&
		    strcmp(q.content, "first") == 0 &&
		    strcmp(q.author_id, u.id) == 0 &&
		    strcmp(q.author_name, u.username) == 0 &&
		    q.created_ms == t0 && q.updated_ms == t0,
		    "post_find returns what was stored");
		post_cleanup(&q);
	}

	/* Unknown and malformed ids: not found, never an error. */
	store_id_new(id);
	is_int(store_post_find(st, id, true, &q), BOARD_ENOTFOUND,
	    "find unknown id");
	is_int(store_post_update(st, id, u.id, "t", 1, NULL, 0, t0, &q),
	    BOARD_ENOTFOUND, "update unknown id");
	is_int(store_post_delete(st, id, u.id), BOARD_ENOTFOUND,
	    "delete unknown id");
	for (size_t i = 0; i < NBAD; i++) {
		ok(store_post_find(st, bad_ids[i], false, &q) ==
		    BOARD_ENOTFOUND &&
		    store_post_update(st, bad_ids[i], u.id, "t", 1, "c", 1, t0,
	    &q) ==
		    BOARD_ENOTFOUND &&
		    store_post_delete(st, bad_ids[i], u.id) == BOARD_ENOTFOUND,
		    "malformed id \"%s\" is ENOTFOUND", show(bad_ids[i]));
	}

	/* Updates: title only, content only, both. */
	is_int(store_post_update(st, p.id, u.id, "New title", 9, NULL, 0,
	    t0 + 1000, &q), BOARD_OK, "update title only");
	ok(strcmp(q.title, "New title") == 0 && strcmp(q.content, "first") == 0
	    && q.updated_ms == t0 + 1000 && q.created_ms == t0 &&
	    strcmp(q.id, p.id) == 0 && strcmp(q.author_id, u.id) == 0,
	    "title changed, content kept, updated_ms moved, created_ms kept");
	post_cleanup(&q);
	is_int(store_post_update(st, p.id, u.id, NULL, 0, "second body", 11,
	    t0 + 2000, &q), BOARD_OK, "update content only");
	ok(strcmp(q.title, "New title") == 0 &&
	    strcmp(q.content, "second body") == 0 &&
	    q.updated_ms == t0 + 2000 && q.created_ms == t0,
	    "content changed, title kept");
	post_cleanup(&q);
	is_int(store_post_update(st, p.id, u.id, "T3", 2, "C3", 2, t0 + 3000,
	    &q),
	    BOARD_OK, "update both");
	ok(strcmp(q.title, "T3") == 0 && strcmp(q.content, "C3") == 0 &&
	    q.updated_ms == t0 + 3000 && q.created_ms == t0, "both changed");
	post_cleanup(&q);
	is_int(store_post_find(st, p.id, true, &q), BOARD_OK, "find updated");
	ok(strcmp(q.title, "T3") == 0 && strcmp(q.content, "C3") == 0 &&
	    q.updated_ms == t0 + 3000 && q.created_ms == t0,
	    "the update was stored");
	post_cleanup(&q);

	/* Defence in depth: the author is in the write's filter. */
	make_user(st, "other-poster", &v);
	is_int(store_post_update(st, p.id, v.id, "Stolen", 6, "pwned", 5,
	    t0 + 4000, &q), BOARD_ENOTFOUND,
	    "update by another author: not found");
	is_int(store_post_delete(st, p.id, v.id), BOARD_ENOTFOUND,
	    "delete by another author: not found");
	is_int(store_post_update(st, p.id, "ffffffffffffffffffffffff", "x", 1,
	    NULL, 0, t0 + 4000, &q), BOARD_ENOTFOUND,
	    "update by an unknown author id: not found");
	is_int(store_post_delete(st, p.id, "zz"), BOARD_ENOTFOUND,
	    "delete with a malformed author id: not found");
	is_int(store_post_find(st, p.id, true, &q), BOARD_OK,
	    "the post is still there");
	ok(strcmp(q.title, "T3") == 0 && strcmp(q.content, "C3") == 0 &&
	    q.updated_ms == t0 + 3000 && strcmp(q.author_id, u.id) == 0,
	    "  unchanged by the other author");
	post_cleanup(&q);
	user_cleanup(&v);

	is_int(store_post_delete(st, p.id, u.id), BOARD_OK, "delete");
	is_int(store_post_find(st, p.id, true, &q), BOARD_ENOTFOUND,
	    "deleted post is not found");
	is_int(store_post_delete(st, p.id, u.id), BOARD_ENOTFOUND,
	    "delete twice");
	is_int(store_post_update(st, p.id, u.id, "x", 1, NULL, 0, t0, &q),
	    BOARD_ENOTFOUND, "update after delete");
	post_cleanup(&p);
	user_cleanup(&u);
}

static void
roundtrip(struct store *st, const struct user *u, const char *what,
    const char *s, size_t n)
{
	struct post p, q;
	int same = 0;
	post_init(&p);
	post_init(&q);

	post_init(&q);
	if (store_post_create(st, u->id, u->username, s, n, s, n,
	    board_now_ms(), &p) != BOARD_OK) {
		ok(0, "round trip %s: create failed", what);
		return;
	}
	if (store_post_find(st, p.id, true, &q) == BOARD_OK)
		same = strlen(q.content) == n && memcmp(q.content, s, n) == 0 &&
		    strlen(q.title) == n && memcmp(q.title, s, n) == 0;
	ok(same, "round trip %s (%zu bytes)", what, n);
	post_cleanup(&q);
	if (store_post_update(st, p.id, u->id, NULL, 0, s, n,
	    p.created_ms + 1, &q) ==
	    BOARD_OK)
		same = strlen(q.content) == n && memcmp(q.content, s, n) == 0;
	else
		same = 0;
	ok(same, "round trip %s through update", what);
	post_cleanup(&q);
	post_cleanup(&p);
}

static void
test_content(struct store *st)
{
	static const char *const samples[][2] = {
		{ "Korean", "안녕하세요, 게시판입니다." },
		{ "emoji", "😀👍🏽 family: 👨‍👩‍👧‍👦 "
		    "flag: 🇰🇷" },
		{ "quotes", "\"double\" 'single' \\back\\slash\\ `tick` "
		    "$dollar {\"$gt\": 1} %s %n <script>&amp;</script>" },
		{ "control", "tab\there\nnewline\r\ncrlf\x01\x7f end" },
		{ "trailing space", "  spaced  " },
	};
	struct user u;
	struct buf b;
	user_init(&u);

	make_user(st, "writer", &u);
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		roundtrip(st, &u, samples[i][0], samples[i][1],
		    strlen(samples[i][1]));
	buf_init(&b);
	for (int i = 0; i < 20000; i++)
		buf_puts(&b, i % 3 == 0 ? "가" : i % 3 == 1 ? "a" : "😀");
	roundtrip(st, &u, "20,000 characters", b.data, b.len);
	buf_cleanup(&b);
	user_cleanup(&u);
}

/* Newest first: created_ms desc, then id desc. */
static int
post_cmp_desc(const void *a, const void *b)
{
	const struct post *x = a, *y = b;

	if (x->created_ms != y->created_ms)
		return x->created_ms > y->created_ms ? -1 : 1;
	return -strcmp(x->id, y->id);
}

static bool
before(int64_t ams, const char *aid, int64_t bms, const char *bid)
{
	return ams > bms || (ams == bms && strcmp(aid, bid) > 0);
}

struct scan {
	const struct post *want;	/* sorted newest first */
	size_t nwant;
	int *seen;			/* times each wanted post was seen */
	size_t *order;			/* wanted indexes in the order seen */
	size_t norder;
	bool sorted;			/* every post strictly after the last */
	bool failed;
	int pages;
};

/*
 * Pages through the store from the first page with the given limit until it
 * has passed the oldest wanted post, calling between(arg) after each page.
 */
static void
scan_store(struct store *st, int limit, struct scan *sc,
    void (*between)(struct store *, void *), void *arg)
{
	struct store_cursor cur, *after = NULL;
	int64_t last_ms = INT64_MAX,
	    min_ms = sc->want[sc->nwant - 1].created_ms;
	char last_id[STORE_ID_LEN + 1] = "gggggggggggggggggggggggg";
	bool done = false;

	memset(sc->seen, 0, sc->nwant * sizeof(*sc->seen));
	sc->norder = 0;
	sc->sorted = true;
	sc->failed = false;
	sc->pages = 0;
	while (!done && sc->pages < 100000) {
		struct post_list l;
		char *enc;
		post_list_init(&l);

		post_list_init(&l);
		if (store_post_list(st, after, limit, &l) != BOARD_OK) {
			sc->failed = true;
			return;
		}
		sc->pages++;
		if (l.n > (size_t)limit)
			sc->failed = true;
		for (size_t i = 0; i < l.n; i++) {
			const struct post *p = &l.v[i];
			const struct post *hit = bsearch(p, sc->want, sc->nwant,
			    sizeof(*p), post_cmp_desc);

			if (!before(last_ms, last_id, p->created_ms, p->id))
				sc->sorted = false;
			last_ms = p->created_ms;
			memcpy(last_id, p->id, sizeof(last_id));
			if (hit != NULL && strcmp(hit->id, p->id) == 0) {
				size_t k = (size_t)(hit - sc->want);

				sc->seen[k]++;
				sc->order[sc->norder++ % sc->nwant] = k;
			}
			if (p->created_ms < min_ms)
				done = true;
		}
		if (l.n < (size_t)limit)
			done = true;
		if (l.n > 0) {
			/* The cursor goes out and comes back as text, as it
			 * does through the API. */
			cur.created_ms = l.v[l.n - 1].created_ms;
			memcpy(cur.id, l.v[l.n - 1].id, sizeof(cur.id));
			enc = store_cursor_encode(&cur);
			if (store_cursor_decode(enc, &cur) != BOARD_OK)
				sc->failed = true;
			free(enc);
			after = &cur;
		}
		post_list_cleanup(&l);
		if (between != NULL && !done)
			between(st, arg);
	}
}

static bool
scan_exact(const struct scan *sc)
{
	if (sc->failed || !sc->sorted || sc->norder != sc->nwant)
		return false;
	for (size_t i = 0; i < sc->nwant; i++)
		if (sc->seen[i] != 1 || sc->order[i] != i)
			return false;
	return true;
}

struct inserter {
	const struct user *u;
	int64_t ms, base;
	int n, failed;
	char (*ids)[STORE_ID_LEN + 1];
	size_t nids, cap;
};

static void
insert_between(struct store *st, void *arg)
{
	struct inserter *in = arg;
	struct post p;
	int64_t ms;
	post_init(&p);

	/* Alternately a post newer than every page read (never seen in this
	 * walk) and one dated inside the range (seen once, later on). */
	ms = in->n % 2 == 0 ? in->ms++ :
	    in->base + (int64_t)randombytes_uniform(15);
	in->n++;
	if (make_post(st, in->u, "inserted", ms, &p) != BOARD_OK) {
		in->failed++;
		return;
	}
	if (in->nids == in->cap) {
		in->cap = in->cap ? in->cap * 2 : 64;
		in->ids = xrealloc(in->ids, in->cap * sizeof(*in->ids));
	}
	memcpy(in->ids[in->nids++], p.id, sizeof(p.id));
	post_cleanup(&p);
}

/* So the next walk is no longer than this one. */
static void
inserted_delete(struct store *st, struct inserter *in)
{
	for (size_t i = 0; i < in->nids; i++)
		if (store_post_delete(st, in->ids[i], in->u->id) != BOARD_OK)
			in->failed++;
	in->nids = 0;
}

static void
test_order_and_paging(struct store *st)
{
	enum { NPOST = 150 };
	struct post *want = xcalloc(NPOST, sizeof(*want));
	struct scan sc = { .want = want, .nwant = NPOST };
	struct inserter in;
	struct user u;
	int64_t base = board_now_ms() - 100000;
	int created = 0, exact = 0;
	user_init(&u);

	make_user(st, "pager", &u);
	sc.seen = xcalloc(NPOST, sizeof(*sc.seen));
	sc.order = xcalloc(NPOST, sizeof(*sc.order));
	/* Ten posts per millisecond: most neighbours tie on created_ms, so
	 * the id decides; and the ids of one second share their first
	 * bytes, so insertion order does not. */
	for (int i = 0; i < NPOST; i++)
		created += make_post(st, &u, "paged", base + i / 10,
		    &want[i]) == BOARD_OK;
	is_int(created, NPOST, "created %d posts", NPOST);
	qsort(want, NPOST, sizeof(*want), post_cmp_desc);

	scan_store(st, 100, &sc, NULL, NULL);
	ok(scan_exact(&sc), "newest first, ties by id descending, each once");
	is_int(want[0].created_ms, base + (NPOST - 1) / 10, "sanity: newest");

	memset(&in, 0, sizeof(in));
	in.u = &u;
	in.ms = board_now_ms() + 1;
	in.base = base;
	for (int limit = 1; limit <= 100; limit++) {
		scan_store(st, limit, &sc, insert_between, &in);
		inserted_delete(st, &in);
		exact += scan_exact(&sc);
		if (!scan_exact(&sc))
			diag("limit %d: failed=%d sorted=%d norder=%zu", limit,
			    sc.failed, sc.sorted, sc.norder);
	}
	is_int(exact, 100, "paging with every limit 1..100 visits each post "
	    "once, in order, while posts are added");
	ok(in.n > 100 && in.failed == 0, "inserted %d posts between pages",
	    in.n);
	free(in.ids);

	{
		struct post_list l;
		post_list_init(&l);

		post_list_init(&l);
		is_int(store_post_list(st, NULL, 0, &l), BOARD_EINVAL,
		    "limit 0 is EINVAL");
		post_list_cleanup(&l);
	}
	for (int i = 0; i < NPOST; i++) {
		store_post_delete(st, want[i].id, want[i].author_id);
		post_cleanup(&want[i]);
	}
	free(want);
	free(sc.seen);
	free(sc.order);
	user_cleanup(&u);
}

/* What a child tells the parent. */
struct child_report {
	int users_ok, posts_ok, race_ok, race_eexist, other;
	uint32_t race_won;
	char post_ids[CHILD_USERS][STORE_ID_LEN + 1];
};

static void
child_main(int k, int go_fd, int out_fd, const struct conf *c)
{
	struct child_report r;
	struct store *st;
	char buf[1];
	char un[64], what[32];

	memset(&r, 0, sizeof(r));
	st = open_store(c);
	if (read(go_fd, buf, 1) < 0)	/* EOF when the parent says go */
		_exit(2);
	if (st == NULL)
		_exit(3);
	for (int i = 0; i < RACE_NAMES; i++) {
		/* Each child walks the names from a different start. */
		int j = (i + k * 3) % RACE_NAMES;
		struct user u;
		enum board_err e;
		user_init(&u);

		snprintf(what, sizeof(what), "race%d", j);
		name(un, sizeof(un), what);
		e = store_user_create(st, un, "$argon2id$race", &u);
		if (e == BOARD_OK) {
			r.race_ok++;
			r.race_won |= UINT32_C(1) << j;
			user_cleanup(&u);
		} else if (e == BOARD_EEXIST) {
			r.race_eexist++;
		} else {
			r.other++;
		}

		snprintf(what, sizeof(what), "c%du%d", k, i);
		name(un, sizeof(un), what);
		if (store_user_create(st, un, "$argon2id$c", &u) == BOARD_OK) {
			struct post p;
			post_init(&p);

			r.users_ok++;
			if (make_post(st, &u, "concurrent", board_now_ms(),
			    &p) == BOARD_OK) {
				memcpy(r.post_ids[r.posts_ok++], p.id,
				    sizeof(p.id));
				post_cleanup(&p);
			}
			user_cleanup(&u);
		}
	}
	for (int i = RACE_NAMES; i < CHILD_USERS; i++) {
		struct user u;
		struct post p;
		user_init(&u);
		post_init(&p);

		snprintf(what, sizeof(what), "c%du%d", k, i);
		name(un, sizeof(un), what);
		if (store_user_create(st, un, "$argon2id$c", &u) != BOARD_OK)
			continue;
		r.users_ok++;
		if (make_post(st, &u, "concurrent", board_now_ms(), &p) ==
		    BOARD_OK) {
			memcpy(r.post_ids[r.posts_ok++], p.id, sizeof(p.id));
			post_cleanup(&p);
		}
		user_cleanup(&u);
	}
	if (write(out_fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(4);
	/* _exit: the parent's inherited connection is not ours to close. */
	_exit(0);
}

static void
test_concurrency(struct store *st)
{
	struct child_report r[NCHILD], sum;
	int go[2], out[NCHILD][2];
	pid_t pid[NCHILD];
	struct conf c = conf;
	int exited = 0, reported = 0, found = 0, listed = 0;
	uint32_t all = 0, overlap = 0;

	/* Generous: four writers plus sanitizers on a slow machine. */
	c.store_timeout_ms = 20000;
	memset(&sum, 0, sizeof(sum));
	fflush(stdout);
	if (pipe(go) != 0)
		abort();
	for (int k = 0; k < NCHILD; k++) {
		if (pipe(out[k]) != 0)
			abort();
		pid[k] = fork();
		if (pid[k] < 0)
			abort();
		if (pid[k] == 0) {
			close(go[1]);
			close(out[k][0]);
			child_main(k, go[0], out[k][1], &c);
		}
		close(out[k][1]);
	}
	close(go[0]);
	close(go[1]);		/* go */
	for (int k = 0; k < NCHILD; k++) {
		int status;

		memset(&r[k], 0, sizeof(r[k]));
		if (read(out[k][0], &r[k], sizeof(r[k])) ==
		    (ssize_t)sizeof(r[k]))
			reported++;
		close(out[k][0]);
		if (waitpid(pid[k], &status, 0) == pid[k] &&
		    WIFEXITED(status) && WEXITSTATUS(status) == 0)
			exited++;
		sum.users_ok += r[k].users_ok;
		sum.posts_ok += r[k].posts_ok;
		sum.race_ok += r[k].race_ok;
		sum.race_eexist += r[k].race_eexist;
		sum.other += r[k].other;
		overlap |= all & r[k].race_won;
		all |= r[k].race_won;
	}
	is_int(exited, NCHILD, "%d writer processes exited cleanly", NCHILD);
	is_int(reported, NCHILD, "and reported");
	is_int(sum.users_ok, NCHILD * CHILD_USERS, "every distinct signup won");
	is_int(sum.posts_ok, NCHILD * CHILD_USERS, "every post was stored");
	is_int(sum.race_ok, RACE_NAMES, "each raced username has one winner");
	is_int(sum.race_eexist, (NCHILD - 1) * RACE_NAMES,
	    "every other racer got EEXIST");
	is_int(sum.other, 0, "no racer got another error");
	ok(all == (UINT32_C(1) << RACE_NAMES) - 1 && overlap == 0,
	    "no name won twice, none lost by all");

	for (int k = 0; k < NCHILD; k++) {
		for (int i = 0; i < CHILD_USERS; i++) {
			char un[64], what[32];
			struct user u;
			user_init(&u);

			snprintf(what, sizeof(what), "c%du%d", k, i);
			name(un, sizeof(un), what);
			if (store_user_find_by_name(st, un, &u) == BOARD_OK) {
				found++;
				user_cleanup(&u);
			}
		}
		for (int i = 0; i < r[k].posts_ok; i++) {
			struct post p;
			post_init(&p);

			if (store_post_find(st, r[k].post_ids[i], true, &p) ==
			    BOARD_OK) {
				listed++;
				post_cleanup(&p);
			}
		}
	}
	is_int(found, NCHILD * CHILD_USERS, "every user can be found");
	is_int(listed, NCHILD * CHILD_USERS, "every post can be found");
}

/* SQLite: a writer holding the lock makes writes unavailable, not stuck. */
static void
test_sqlite_lock(void)
{
	struct conf c = conf;
	struct store *st, *st2;
	sqlite3 *db = NULL;
	struct user u, v;
	struct post p;
	char un[64], un2[64];
	double t;
	user_init(&u);
	user_init(&v);
	post_init(&p);

	c.store_timeout_ms = 300;
	st = open_store(&c);
	ok(st != NULL, "open with a 300 ms timeout");
	if (st == NULL)
		return;
	make_user(st, "locker", &u);
	ok(sqlite3_open(conf.db_path, &db) == SQLITE_OK &&
	    sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK,
	    "another connection takes the write lock");
	name(un, sizeof(un), "lockedout");
	t = now_s();
	is_int(store_user_create(st, un, "$x", &v), BOARD_EUNAVAIL,
	    "user_create while locked is EUNAVAIL");
	t = now_s() - t;
	ok(t >= 0.2 && t < 5.0, "after about the busy timeout (%.3f s)", t);
	is_int(make_post(st, &u, "locked", board_now_ms(), &p), BOARD_EUNAVAIL,
	    "post_create while locked is EUNAVAIL");
	is_int(store_user_find_by_name(st, u.username, &v), BOARD_OK,
	    "reads still work (WAL)");
	user_cleanup(&v);
	st2 = open_store(&c);
	ok(st2 != NULL, "a process can start while the lock is held");
	store_close(st2);

	ok(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK,
	    "the lock is released");
	is_int(store_user_create(st, un, "$x", &v), BOARD_OK,
	    "user_create works again");
	user_cleanup(&v);
	is_int(make_post(st, &u, "unlocked", board_now_ms(), &p), BOARD_OK,
	    "post_create works again");
	post_cleanup(&p);
	name(un2, sizeof(un2), "afterlock");
	is_int(store_user_create(st, un2, "$x", &v), BOARD_OK,
	    "and keeps working");
	user_cleanup(&v);
	sqlite3_close(db);
	user_cleanup(&u);
	store_close(st);
}

/* SQLite: a full disk loses nothing acknowledged, and the store recovers. */
enum { FULL_OPEN = 1, FULL_HIT = 2, FULL_KEPT = 4, FULL_READS = 8,
	FULL_RECOVERED = 16 };

static void
full_child(const char *path, int out_fd)
{
	struct conf c = conf;
	struct store *st;
	struct rlimit rl, old;
	struct user u;
	struct post p;
	struct buf big;
	char ids[200][STORE_ID_LEN + 1];
	int n = 0, kept = 0, result = 0;
	off_t max = 0;
	user_init(&u);
	post_init(&p);

	signal(SIGXFSZ, SIG_IGN);
	c.db_path = (char *)path;
	if ((st = open_store(&c)) == NULL)
		goto out;
	result |= FULL_OPEN;
	make_user(st, "full", &u);
	buf_init(&big);
	for (int i = 0; i < 5000; i++)
		buf_puts(&big, "full disk ");
	for (const char *sfx = ""; ; sfx = sfx[0] == '\0' ? "-wal" : "-shm") {
		char f[256];
		struct stat sb;

		snprintf(f, sizeof(f), "%s%s", path, sfx);
		if (stat(f, &sb) == 0 && sb.st_size > max)
			max = sb.st_size;
		if (strcmp(sfx, "-shm") == 0)
			break;
	}
	getrlimit(RLIMIT_FSIZE, &old);
	rl = old;
	rl.rlim_cur = (rlim_t)max + 256 * 1024;
	setrlimit(RLIMIT_FSIZE, &rl);
	while (n < 200) {
		enum board_err e = store_post_create(st, u.id, u.username,
		    "full", 4, big.data, big.len, board_now_ms(), &p);

		if (e != BOARD_OK) {
			if (e == BOARD_EUNAVAIL)
				result |= FULL_HIT;
			break;
		}
		memcpy(ids[n++], p.id, sizeof(p.id));
		post_cleanup(&p);
	}
	for (int i = 0; i < n; i++) {
		if (store_post_find(st, ids[i], true, &p) == BOARD_OK) {
			kept += strcmp(p.content, big.data) == 0;
			post_cleanup(&p);
		}
	}
	if (n > 0 && kept == n)
		result |= FULL_READS;
	setrlimit(RLIMIT_FSIZE, &old);
	if (store_post_create(st, u.id, u.username, "after", 5, "ok", 2,
	    board_now_ms(), &p) == BOARD_OK) {
		memcpy(ids[n++], p.id, sizeof(p.id));
		post_cleanup(&p);
		result |= FULL_RECOVERED;
	}
	if (write(out_fd, &n, sizeof(n)) != sizeof(n) ||
	    write(out_fd, ids, (size_t)n * sizeof(ids[0])) < 0)
		_exit(4);
	result |= FULL_KEPT;
out:
	if (write(out_fd, &result, sizeof(result)) != sizeof(result))
		_exit(4);
	_exit(0);
}

static void
test_sqlite_full(void)
{
	char path[128], ids[200][STORE_ID_LEN + 1];
	struct conf c = conf;
	struct store *st;
	int fd[2], n = 0, result = 0, status, kept = 0;
	pid_t pid;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	bool integrity = false;

	snprintf(path, sizeof(path), "%s/full.db", tmpdir);
	fflush(stdout);
	if (pipe(fd) != 0 || (pid = fork()) < 0)
		abort();
	if (pid == 0) {
		close(fd[0]);
		full_child(path, fd[1]);
	}
	close(fd[1]);
	if (read(fd[0], &n, sizeof(n)) != sizeof(n) || n < 0 || n > 200 ||
	    read(fd[0], ids, (size_t)n * sizeof(ids[0])) !=
	    (ssize_t)(n * sizeof(ids[0])) ||
	    read(fd[0], &result, sizeof(result)) != sizeof(result))
		n = 0;
	close(fd[0]);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "full-disk child "
	    "exited cleanly");
	ok(result & FULL_OPEN, "it opened the store");
	ok(result & FULL_HIT, "a write past the file size limit is EUNAVAIL");
	ok(result & FULL_READS, "posts written before are still readable");
	ok(result & FULL_RECOVERED, "writes work again once space is back");
	ok(n > 1, "%d posts were acknowledged", n);

	c.db_path = path;
	if ((st = open_store(&c)) != NULL) {
		for (int i = 0; i < n; i++) {
			struct post p;
			post_init(&p);

			if (store_post_find(st, ids[i], true, &p) == BOARD_OK) {
				kept++;
				post_cleanup(&p);
			}
		}
		store_close(st);
	}
	is_int(kept, n, "every acknowledged post survived, seen by a new "
	    "process");
	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL) ==
	    SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		integrity = strcmp((const char *)sqlite3_column_text(q, 0),
		    "ok") == 0;
	sqlite3_finalize(q);
	sqlite3_close(db);
	ok(integrity, "the database passes integrity_check");
}

static void
test_sqlite_open_errors(void)
{
	struct conf c = conf;
	struct store *st = NULL;
	char *err = NULL;
	char path[128];

	snprintf(path, sizeof(path), "%s/no/such/dir/board.db", tmpdir);
	c.db_path = path;
	ok(store_open(&c, &st, &err) != BOARD_OK && st == NULL,
	    "a file in a missing directory cannot be opened");
	ok(err != NULL && strstr(err, "BOARD_DB") != NULL &&
	    strstr(err, path) != NULL, "the message names BOARD_DB and the "
	    "path");
	if (err != NULL)
		diag("%s", err);
	free(err);
	err = NULL;
	c.db_path = tmpdir;
	ok(store_open(&c, &st, &err) != BOARD_OK && err != NULL,
	    "a directory is not a database");
	free(err);
	err = NULL;
	snprintf(path, sizeof(path), "%s/garbage.db", tmpdir);
	{
		FILE *f = fopen(path, "w");

		if (f != NULL) {
			for (int i = 0; i < 200; i++)
				fputs("this is not an SQLite database\n", f);
			fclose(f);
		}
	}
	c.db_path = path;
	ok(store_open(&c, &st, &err) != BOARD_OK && err != NULL &&
	    strstr(err, "BOARD_DB") != NULL, "a file that is not a database");
	free(err);
}

static void
rm_tmpdir(void)
{
	char cmd[128];

	if (tmpdir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

int
main(void)
{
	const char *uri = getenv("BOARD_TEST_MONGODB_URI");
	unsigned char r[4];
	char path[128];
	struct store *st;

	if (!password_init())
		return 1;
	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(tag, sizeof(tag), r, sizeof(r));
	memset(&conf, 0, sizeof(conf));
	conf.store_timeout_ms = 5000;
	if (uri != NULL && uri[0] != '\0') {
		conf.mongodb_uri = (char *)uri;
	} else {
		is_sqlite = true;
		snprintf(tmpdir, sizeof(tmpdir), "%s/test-store.XXXXXX",
		    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (mkdtemp(tmpdir) == NULL) {
			perror("mkdtemp");
			return 1;
		}
		snprintf(path, sizeof(path), "%s/board.db", tmpdir);
		conf.db_path = path;
	}
	diag("backend %s, run %s", is_sqlite ? "sqlite" : "mongodb", tag);

	test_ids();
	test_cursor();
	st = open_store(&conf);
	ok(st != NULL, "store_open");
	if (st != NULL) {
		ok(st->ops->name != NULL, "backend %s", st->ops->name);
		test_users(st);
		test_posts(st);
		test_content(st);
		test_admin(st);
		test_order_and_paging(st);
		test_concurrency(st);
		if (is_sqlite) {
			test_sqlite_lock();
			test_sqlite_full();
			test_sqlite_open_errors();
		}
		store_close(st);
	}
	store_close(NULL);
	rm_tmpdir();
	return tap_done();
}
