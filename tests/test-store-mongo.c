/* test-store-mongo.c: what only the MongoDB backend has to get right (URI
 * handling, outages, driver errors); tests/test-store.c covers the rest. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "board.h"
#include "conf.h"
#include "log.h"
#include "store-mongo.h"
#include "store.h"
#include "tap.h"

#define JONGODB_REL \
	"@jongodb/memory-server-bin-linux-x64-gnu/bin/jongodb"
/* The bound the issue sets: default selection timeout 2 s, plus slack. */
#define OUTAGE_MAX_MS 2500

static const char *test_uri;
/* The shared server outlives one run: names made here are unique. */
static char test_tag[48];

static const char *
tagged(const char *name)
{
	static char buf[4][96];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s-%s", name, test_tag);
	return buf[i];
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * A port on 127.0.0.1 that nothing uses, below the kernel's ephemeral
 * range: a port in that range may be some client socket's local port,
 * which makes the server's bind (now or at its restart) fail.
 */
static int
free_port(void)
{
	struct sockaddr_in a;
	FILE *f;
	int low = 32768, port = -1;

	f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (f != NULL) {
		if (fscanf(f, "%d", &low) != 1 || low <= 11024)
			low = 32768;
		fclose(f);
	}
	srand((unsigned)getpid() ^ (unsigned)board_now_ms());
	for (int tries = 0; tries < 100 && port < 0; tries++) {
		int p = 10000 + rand() % (low - 10000);
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0)
			return -1;
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = htons((uint16_t)p);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			port = p;
		close(fd);
	}
	return port;
}

static enum board_err
open_uri(const char *uri, long timeout_ms, struct store **st, char **err)
{
	struct conf c;
	enum board_err rc;

	conf_init(&c);
	free(c.mongodb_uri);
	c.mongodb_uri = xstrdup(uri);
	c.store_timeout_ms = timeout_ms;
	*st = NULL;
	*err = NULL;
	rc = store_open(&c, st, err);
	conf_cleanup(&c);
	return rc;
}

/* A private jongodb this test may kill: never the shared test server. */
struct server {
	pid_t pid;
	int port;
	char log[64];
	char uri[128];
};

static const char *
jongodb_path(void)
{
	static char path[4096];
	const char *bin = getenv("JONGODB_BIN");
	const char *mods = getenv("BOARD_NODE_MODULES");
	const char *srcdir = getenv("srcdir");
	int n;

	if (bin != NULL && *bin != '\0')
		return bin;
	if (mods != NULL && *mods != '\0')
		n = snprintf(path, sizeof(path), "%s/%s", mods, JONGODB_REL);
	else
		n = snprintf(path, sizeof(path), "%s/tests/node_modules/%s",
		    srcdir != NULL && *srcdir != '\0' ? srcdir : ".",
		    JONGODB_REL);
	return n > 0 && (size_t)n < sizeof(path) ? path : NULL;
}

/* Starts jongodb on srv->port and waits (20 s at most) for its ready line. */
static bool
server_start(struct server *srv)
{
	const char *bin = jongodb_path();
	char host[] = "--host=127.0.0.1", port[32], buf[512];
	int fd, tries;
	ssize_t n;

	if (bin == NULL || access(bin, X_OK) != 0) {
		diag("jongodb not found at %s (script/bootstrap installs it)",
		    bin != NULL ? bin : "?");
		return false;
	}
	snprintf(port, sizeof(port), "--port=%d", srv->port);
	fd = open(srv->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return false;
	srv->pid = fork();
	if (srv->pid < 0) {
		close(fd);
		return false;
	}
	if (srv->pid == 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execl(bin, bin, host, port, "--database=board", (char *)NULL);
		_exit(127);
	}
	close(fd);
	for (tries = 0; tries < 200; tries++) {
		fd = open(srv->log, O_RDONLY);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			char *p, *e;

			buf[n] = '\0';
			p = strstr(buf, "JONGODB_URI=");
			if (p != NULL && (e = strchr(p, '\n')) != NULL) {
				*e = '\0';
				snprintf(srv->uri, sizeof(srv->uri), "%s",
				    p + strlen("JONGODB_URI="));
				return true;
			}
		}
		if (waitpid(srv->pid, NULL, WNOHANG) == srv->pid) {
			srv->pid = 0;
			return false;
		}
		sleep_ms(100);
	}
	return false;
}

static void
server_kill(struct server *srv)
{
	if (srv->pid <= 0)
		return;
	kill(srv->pid, SIGKILL);
	waitpid(srv->pid, NULL, 0);
	srv->pid = 0;
}

/*
 * Starts a private jongodb (its log /tmp/test-store-mongo.TAG<pid>.log)
 * and opens a store on it; false, with a failed test line, when either
 * fails. srv is set either way, for server_kill() and unlink().
 */
static bool
private_open(struct server *srv, const char *tag, long timeout_ms,
    struct store **st)
{
	char *err = NULL;
	bool opened;

	memset(srv, 0, sizeof(*srv));
	snprintf(srv->log, sizeof(srv->log), "/tmp/test-store-mongo.%s%d.log",
	    tag, (int)getpid());
	srv->port = free_port();
	if (!server_start(srv)) {
		ok(0, "start a private jongodb");
		return false;
	}
	opened = open_uri(srv->uri, timeout_ms, st, &err) == BOARD_OK;
	if (!opened)
		ok(0, "open the private server: %s", err != NULL ? err : "?");
	free(err);
	return opened;
}

static bool
test_open(void)
{
	struct store *st, *st2;
	char *err;

	is_int(open_uri(test_uri, 2000, &st, &err), BOARD_OK,
	    "opens the test server");
	if (err != NULL)
		diag("%s", err);
	free(err);
	if (st == NULL)
		return false;
	is_str(st->ops->name, "mongodb", "MONGODB_URI selects MongoDB");
	/* Indexes are created at every start: a second open must not fail. */
	is_int(open_uri(test_uri, 2000, &st2, &err), BOARD_OK,
	    "opens again (indexes are created idempotently)");
	free(err);
	store_close(st2);
	store_close(st);
	return true;
}

static void
test_bad_ids(struct store *st)
{
	struct user u;
	struct post p;
	char upper[STORE_ID_LEN + 1];
	static const char *bad[] = {
		"", "x", "0123456789abcdef0123456", "0123456789abcdef012345678",
		"0123456789abcdef0123456g", "{\"$gt\":\"\"}",
	};

	user_init(&u);
	post_init(&p);
	if (store_user_create(st, tagged("ids"), "h", &u) != BOARD_OK ||
	    store_post_create(st, u.id, u.username, "t", 1, "c", 1,
	    board_now_ms(), &p) != BOARD_OK) {
		ok(0, "set up a post");
		goto out;
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct post q;

		post_init(&q);
		is_int(store_post_find(st, bad[i], true, &q), BOARD_ENOTFOUND,
		    "find with malformed id \"%s\" is not found", bad[i]);
		is_int(store_post_update(st, bad[i], u.id, "t", 1, NULL, 0, 1,
		    &q), BOARD_ENOTFOUND, "update with malformed id \"%s\"",
		    bad[i]);
		is_int(store_post_delete(st, bad[i], u.id), BOARD_ENOTFOUND,
		    "delete with malformed id \"%s\"", bad[i]);
		is_int(store_user_set_hash(st, bad[i], "h"), BOARD_ENOTFOUND,
		    "set_hash with malformed id \"%s\"", bad[i]);
		post_cleanup(&q);
	}
	/* An ObjectId parser takes upper case; our ids are lower case only. */
	for (size_t i = 0; i <= STORE_ID_LEN; i++)
		upper[i] = p.id[i] >= 'a' && p.id[i] <= 'f' ?
		    (char)(p.id[i] - 'a' + 'A') : p.id[i];
	if (strcmp(upper, p.id) != 0) {
		struct post q;

		post_init(&q);
		is_int(store_post_find(st, upper, true, &q), BOARD_ENOTFOUND,
		    "the upper-case spelling of an id is not found");
		post_cleanup(&q);
	}
	is_int(store_post_delete(st, p.id, u.id), BOARD_OK,
	    "the post itself deletes");
out:
	post_cleanup(&p);
	user_cleanup(&u);
}

/* Several processes sign up one name at the same moment: one wins. */
static void
test_signup_race(void)
{
	enum { N = 6 };
	char name[64];
	pid_t pids[N];
	int go[2], ready[2], wins = 0, taken = 0, other = 0;
	char c;

	snprintf(name, sizeof(name), "%s", tagged("race"));
	if (pipe(go) != 0 || pipe(ready) != 0) {
		ok(0, "pipes");
		return;
	}
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct store *st;
			struct user u;
			char *err;
			int rc;

			/* A client of our own: mongoc clients are not shared
			 * across fork. _exit: the parent's memory is not ours
			 * to free. */
			close(go[1]);
			rc = open_uri(test_uri, 2000, &st, &err);
			free(err);
			if (write(ready[1], "r", 1) != 1)
				_exit(100);
			if (read(go[0], &c, 1) < 0)
				_exit(101);
			if (rc == BOARD_OK) {
				user_init(&u);
				rc = store_user_create(st, name, "h", &u);
				user_cleanup(&u);
				store_close(st);
			}
			_exit(rc);
		}
	}
	close(go[0]);
	close(ready[1]);
	for (int i = 0; i < N; i++)
		if (read(ready[0], &c, 1) != 1)
			break;
	close(go[1]);	/* all start inserting now */
	close(ready[0]);
	for (int i = 0; i < N; i++) {
		int status = 0;

		if (pids[i] < 0 || waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status))
			other++;
		else if (WEXITSTATUS(status) == BOARD_OK)
			wins++;
		else if (WEXITSTATUS(status) == BOARD_EEXIST)
			taken++;
		else
			other++;
	}
	is_int(wins, 1, "one of %d racing signups wins", N);
	is_int(taken, N - 1, "the others get BOARD_EEXIST");
	is_int(other, 0, "no racer fails otherwise");
}

/*
 * The author in the filter of PATCH and DELETE (the security review), for
 * a post whose author id was stored as a string rather than an
 * ObjectId: its author may still change it, another may not.
 */
/* Inserts a post by author (a string, not an ObjectId) into posts; its
 * id into id. */
static bool
insert_string_author(mongoc_collection_t *posts, const char *author,
    char id[STORE_ID_LEN + 1], bson_error_t *e)
{
	bson_oid_t oid;
	bson_t *doc;
	bool inserted;

	bson_oid_init(&oid, NULL);
	bson_oid_to_string(&oid, id);
	doc = BCON_NEW("_id", BCON_OID(&oid), "title", BCON_UTF8("node"),
	    "content", BCON_UTF8("by node"), "author", BCON_UTF8(author),
	    "createdAt", BCON_DATE_TIME(board_now_ms()), "updatedAt",
	    BCON_DATE_TIME(board_now_ms()));
	inserted = mongoc_collection_insert_one(posts, doc, NULL, NULL, e);
	bson_destroy(doc);
	return inserted;
}

static void
test_author_as_string(void)
{
	static const char author[] = "0123456789abcdef01234567";
	static const char other[] = "76543210fedcba9876543210";
	mongoc_client_t *client = mongoc_client_new(test_uri);
	mongoc_collection_t *posts = NULL;
	const mongoc_uri_t *uri;
	const char *db;
	struct store *st = NULL;
	struct post q;
	struct user u;
	struct store_counts cnt;
	bson_error_t e;
	char id[STORE_ID_LEN + 1], *err = NULL;
	int64_t gone = 0;
	bool inserted = false;

	post_init(&q);
	user_init(&u);
	if (client == NULL || open_uri(test_uri, 2000, &st, &err) != BOARD_OK) {
		ok(0, "a client and a store: %s", err != NULL ? err : "?");
		goto out;
	}
	uri = mongoc_client_get_uri(client);
	db = mongoc_uri_get_database(uri);
	posts = mongoc_client_get_collection(client, db != NULL ? db : "board",
	    "posts");
	inserted = insert_string_author(posts, author, id, &e);
	ok(inserted, "a post with a string author, as Node may write it%s%s",
	    inserted ? "" : ": ", inserted ? "" : e.message);
	if (!inserted)
		goto out;
	is_int(store_post_update(st, id, other, "x", 1, NULL, 0,
	    board_now_ms(), &q), BOARD_ENOTFOUND,
	    "string author: another author's update finds nothing");
	is_int(store_post_delete(st, id, other), BOARD_ENOTFOUND,
	    "string author: another author's delete finds nothing");
	is_int(store_post_update(st, id, author, "mine", 4, NULL, 0,
	    board_now_ms(), &q), BOARD_OK,
	    "string author: the author's update works");
	is_str(q.title, "mine", "  and changed the title");
	is_str(q.author_id, author, "  the author id read back");
	is_int(store_post_delete(st, id, author), BOARD_OK,
	    "string author: the author's delete works");

	/* board-admin's count and user delete take such posts in too. */
	inserted = store_user_create(st, tagged("strauthor"), "h", &u) ==
	    BOARD_OK && insert_string_author(posts, u.id, id, &e);
	ok(inserted, "a user with a string-author post");
	if (!inserted)
		goto out;
	is_int(store_count(st, u.id, &cnt), BOARD_OK, "string author: count");
	is_int(cnt.posts, 1, "  counts the post as the user's");
	is_int(store_user_delete(st, u.id, &gone), BOARD_OK,
	    "string author: user_delete");
	is_int(gone, 1, "  deletes the post too");
	is_int(store_post_find(st, id, true, &q), BOARD_ENOTFOUND,
	    "  which is gone");
out:
	post_cleanup(&q);
	user_cleanup(&u);
	mongoc_collection_destroy(posts);
	mongoc_client_destroy(client);
	store_close(st);
	free(err);
}

static void
test_shared_server(void)
{
	struct store *st;
	struct user u;
	char *err;

	if (open_uri(test_uri, 2000, &st, &err) != BOARD_OK) {
		ok(0, "open: %s", err != NULL ? err : "?");
		free(err);
		return;
	}
	user_init(&u);
	is_int(store_user_create(st, tagged("dupe"), "h1", &u), BOARD_OK,
	    "a new user is created");
	is_int(store_user_create(st, tagged("dupe"), "h2", &u), BOARD_EEXIST,
	    "the same name again is BOARD_EEXIST (duplicate key 11000)");
	is_int(store_user_find_by_name(st, tagged("dupe"), &u), BOARD_OK,
	    "the first user is still there");
	is_str(u.pwhash, "h1", "with its own hash");
	is_int(store_ping(st), BOARD_OK, "ping");
	test_bad_ids(st);
	user_cleanup(&u);
	store_close(st);
	test_signup_race();
	test_author_as_string();
}

/* The options of a DocumentDB URI that a standalone server can honour. */
static void
test_documentdb_options(void)
{
	struct store *st;
	struct post p, q;
	struct post_list l;
	char uri[512];
	char *err;
	const char *qs = strchr(test_uri, '?');
	uint64_t finds;

	snprintf(uri, sizeof(uri), "%s%sreadPreference=secondaryPreferred"
	    "&retryWrites=false", test_uri, qs != NULL ? "&" : "?");
	is_int(open_uri(uri, 2000, &st, &err), BOARD_OK,
	    "readPreference=secondaryPreferred&retryWrites=false work");
	if (err != NULL)
		diag("%s", err);
	free(err);
	if (st == NULL)
		return;
	post_init(&p);
	post_init(&q);
	post_list_init(&l);
	is_int(store_post_create(st, "0123456789abcdef01234567", "x", "t", 1,
	    "c", 1, board_now_ms(), &p), BOARD_OK,
	    "a write goes to the primary");
	finds = store_mongo_finds();
	is_int(store_post_find(st, p.id, false, &q), BOARD_OK,
	    "a read with the URI's read preference");
	is_str(q.title, "t", "finds the post");
	/* Found at once: no second read of the post behind it; its author
	 * (no such user) is asked on the replica, then on the primary. */
	is_int((long long)(store_mongo_finds() - finds), 3,
	    "  in one find of the post and two of its missing author");
	is_int(store_post_list(st, NULL, 5, &l), BOARD_OK, "a listing too");
	ok(l.n >= 1, "which sees the post");
	store_post_delete(st, p.id, p.author_id);
	post_list_cleanup(&l);
	post_cleanup(&q);
	post_cleanup(&p);
	store_close(st);
}

/* A finder that a replica set would answer: what each attempt saw. */
struct fake_finder {
	int calls;
	mongoc_read_mode_t modes[4];
	enum board_err on_secondary;	/* answer when not reading primary */
	enum board_err on_primary;
};

static enum board_err
fake_find(void *arg, const mongoc_read_prefs_t *prefs)
{
	struct fake_finder *f = arg;
	mongoc_read_mode_t mode = prefs != NULL ?
	    mongoc_read_prefs_get_mode(prefs) : MONGOC_READ_PRIMARY;

	if (f->calls < 4)
		f->modes[f->calls] = mode;
	f->calls++;
	return mode == MONGOC_READ_PRIMARY ? f->on_primary : f->on_secondary;
}

/* store_mongo_find_fallback() with prefs through fake_find, which answers
 * sec on a replica and pri on the primary; f tells what was read. */
static enum board_err
fallback(struct fake_finder *f, const mongoc_read_prefs_t *prefs,
    const mongoc_read_prefs_t *pri, enum board_err sec, enum board_err pri_rc)
{
	memset(f, 0, sizeof(*f));
	f->on_secondary = sec;
	f->on_primary = pri_rc;
	return store_mongo_find_fallback(prefs, pri, fake_find, f);
}

/*
 * The replica fallback, without a replica set: the read goes to the URI's
 * read preference, and to the primary only when that may lag and found
 * nothing.
 */
static void
test_read_fallback(void)
{
	mongoc_read_prefs_t *sp = mongoc_read_prefs_new(
	    MONGOC_READ_SECONDARY_PREFERRED);
	mongoc_read_prefs_t *sec = mongoc_read_prefs_new(MONGOC_READ_SECONDARY);
	mongoc_read_prefs_t *near = mongoc_read_prefs_new(MONGOC_READ_NEAREST);
	mongoc_read_prefs_t *pri = mongoc_read_prefs_new(MONGOC_READ_PRIMARY);
	struct fake_finder f;

	ok(store_mongo_prefs_may_lag(sp) && store_mongo_prefs_may_lag(sec) &&
	    store_mongo_prefs_may_lag(near), "secondaryPreferred, secondary "
	    "and nearest may read a lagging replica");
	ok(!store_mongo_prefs_may_lag(pri) && !store_mongo_prefs_may_lag(NULL),
	    "primary (and no preference) may not");

	/* Just written: the replica has not caught up. */
	is_int(fallback(&f, sp, pri, BOARD_ENOTFOUND, BOARD_OK), BOARD_OK,
	    "a post the replica lacks is found on the primary");
	ok(f.calls == 2 && f.modes[0] == MONGOC_READ_SECONDARY_PREFERRED &&
	    f.modes[1] == MONGOC_READ_PRIMARY,
	    "  the replica first, then the primary (%d reads)", f.calls);
	is_int(fallback(&f, near, pri, BOARD_ENOTFOUND, BOARD_OK), BOARD_OK,
	    "  the same with nearest");
	/* The replica has it: the primary is spared. */
	is_int(fallback(&f, sp, pri, BOARD_OK, BOARD_OK), BOARD_OK,
	    "a post the replica has is read there");
	is_int(f.calls, 1, "  with one read");
	/* Not anywhere: both say so, and it is 404. */
	is_int(fallback(&f, sec, pri, BOARD_ENOTFOUND, BOARD_ENOTFOUND),
	    BOARD_ENOTFOUND, "an unknown post is not found");
	is_int(f.calls, 2, "  after asking the primary too");
	/* An error is the answer; no second try behind it. */
	is_int(fallback(&f, sp, pri, BOARD_EUNAVAIL, BOARD_OK),
	    BOARD_EUNAVAIL, "an outage is reported, not retried");
	is_int(f.calls, 1, "  one read");
	/* Author checks pass the primary: one read there. */
	is_int(fallback(&f, pri, pri, BOARD_OK, BOARD_ENOTFOUND),
	    BOARD_ENOTFOUND, "a primary read is not repeated");
	ok(f.calls == 1 && f.modes[0] == MONGOC_READ_PRIMARY,
	    "  one read, on the primary");
	mongoc_read_prefs_destroy(pri);
	mongoc_read_prefs_destroy(near);
	mongoc_read_prefs_destroy(sec);
	mongoc_read_prefs_destroy(sp);
}

/* test_uri with its database replaced by db. */
static void
uri_with_db(const char *db, char *out, size_t n)
{
	const char *hosts = strstr(test_uri, "://");
	const char *slash = hosts != NULL ? strchr(hosts + 3, '/') : NULL;
	const char *q = strchr(test_uri, '?');
	int len = slash != NULL ? (int)(slash - test_uri) :
	    q != NULL ? (int)(q - test_uri) : (int)strlen(test_uri);

	snprintf(out, n, "%.*s/%s%s", len, test_uri, db, q != NULL ? q : "");
}

static void
migrate_progress(void *arg, const struct store_mongo_migration *m)
{
	int *calls = arg;

	(void)m;
	(*calls)++;
}

/* A database of the earlier board layout is refused, then migrated. */
static void
test_old_layout(void)
{
	char db[64], uri[512];
	mongoc_client_t *cl;
	mongoc_collection_t *users, *posts;
	bson_oid_t uid, pid, pid2, both;
	bson_error_t e;
	bson_t *d;
	struct store *st = NULL;
	struct store_mongo_migration m;
	struct conf c;
	struct user u;
	struct post p;
	char *err = NULL;
	int calls = 0;
	bool okay = true;

	snprintf(db, sizeof(db), "old_%s", test_tag);
	for (char *x = db; *x != '\0'; x++)
		if (*x == '-')
			*x = '_';
	uri_with_db(db, uri, sizeof(uri));
	cl = mongoc_client_new(uri);
	users = mongoc_client_get_collection(cl, db, "users");
	posts = mongoc_client_get_collection(cl, db, "posts");
	bson_oid_init(&uid, NULL);
	bson_oid_init(&both, NULL);
	bson_oid_init(&pid, NULL);
	bson_oid_init(&pid2, NULL);
	/* As board wrote them before DATA.md. */
	d = BCON_NEW("_id", BCON_OID(&uid), "username", BCON_UTF8("olduser"),
	    "pwhash", BCON_UTF8("$argon2id$old"), "createdAt",
	    BCON_DATE_TIME(1700000000123));
	okay &= mongoc_collection_insert_one(users, d, NULL, NULL, &e);
	bson_destroy(d);
	d = BCON_NEW("_id", BCON_OID(&both), "username", BCON_UTF8("both"),
	    "pwhash", BCON_UTF8("$a"), "password", BCON_UTF8("$b"));
	okay &= mongoc_collection_insert_one(users, d, NULL, NULL, &e);
	bson_destroy(d);
	d = BCON_NEW("_id", BCON_OID(&pid), "title", BCON_UTF8("t1"),
	    "content", BCON_UTF8("c1"), "authorId", BCON_OID(&uid),
	    "authorName", BCON_UTF8("olduser"), "createdAt",
	    BCON_DATE_TIME(1700000000200), "updatedAt",
	    BCON_DATE_TIME(1700000000300));
	okay &= mongoc_collection_insert_one(posts, d, NULL, NULL, &e);
	bson_destroy(d);
	d = BCON_NEW("_id", BCON_OID(&pid2), "title", BCON_UTF8("t2"),
	    "content", BCON_UTF8("c2"), "authorId", BCON_OID(&uid),
	    "authorName", BCON_UTF8("olduser"), "createdAt",
	    BCON_DATE_TIME(1700000000400), "updatedAt",
	    BCON_DATE_TIME(1700000000400));
	okay &= mongoc_collection_insert_one(posts, d, NULL, NULL, &e);
	bson_destroy(d);
	ok(okay, "a database in the earlier layout (%s)", db);

	is_int(open_uri(uri, 2000, &st, &err), BOARD_EINVAL,
	    "the store refuses to open it");
	ok(err != NULL && strstr(err, "migrate-layout") != NULL &&
	    strstr(err, "MONGODB_URI") != NULL, "  naming the remedy: %s",
	    err != NULL ? err : "(none)");
	free(err);
	store_close(st);

	conf_init(&c);
	free(c.mongodb_uri);
	c.mongodb_uri = xstrdup(uri);
	is_int(store_mongo_migrate_layout(&c, migrate_progress, &calls, &m,
	    &err), BOARD_OK, "migrate-layout");
	free(err);
	err = NULL;
	ok(m.users == 1 && m.posts == 2 && m.conflicts == 1,
	    "  moved 1 user and 2 posts, left 1 conflict (%lld, %lld, %lld)",
	    (long long)m.users, (long long)m.posts, (long long)m.conflicts);
	ok(calls > 0, "  and told its progress");
	is_int(store_mongo_migrate_layout(&c, NULL, NULL, &m, &err), BOARD_OK,
	    "migrate-layout again");
	free(err);
	err = NULL;
	ok(m.users == 0 && m.posts == 0, "  changes nothing");
	conf_cleanup(&c);

	d = BCON_NEW("_id", BCON_OID(&pid));
	{
		mongoc_cursor_t *cur = mongoc_collection_find_with_opts(posts,
		    d, NULL, NULL);
		const bson_t *doc;
		bson_iter_t it;

		okay = mongoc_cursor_next(cur, &doc) &&
		    bson_iter_init_find(&it, doc, "author") &&
		    BSON_ITER_HOLDS_OID(&it) &&
		    bson_oid_equal(bson_iter_oid(&it), &uid) &&
		    !bson_iter_init_find(&it, doc, "authorId") &&
		    !bson_iter_init_find(&it, doc, "authorName") &&
		    bson_iter_init_find(&it, doc, "__v");
		mongoc_cursor_destroy(cur);
	}
	bson_destroy(d);
	ok(okay, "  a post now has author: ObjectId and __v, and no "
	    "authorId/authorName");

	is_int(open_uri(uri, 2000, &st, &err), BOARD_OK, "the store opens it");
	free(err);
	if (st != NULL) {
		char sid[25];

		user_init(&u);
		post_init(&p);
		is_int(store_user_find_by_name(st, "olduser", &u), BOARD_OK,
		    "  finds the user");
		is_str(u.pwhash, "$argon2id$old",
		    "  with the hash in password");
		bson_oid_to_string(&pid, sid);
		is_int(store_post_find(st, sid, false, &p), BOARD_OK,
		    "  reads the post");
		is_str(p.author_name, "olduser", "  by its author");
		ok(p.created_ms == 1700000000200 &&
		    p.updated_ms == 1700000000300, "  with its times");
		post_cleanup(&p);
		user_cleanup(&u);
		store_close(st);
	}
	{
		mongoc_database_t *dbh = mongoc_client_get_database(cl, db);

		mongoc_database_drop(dbh, NULL);
		mongoc_database_destroy(dbh);
	}
	mongoc_collection_destroy(posts);
	mongoc_collection_destroy(users);
	mongoc_client_destroy(cl);
}

/* Indexes mongoose made (its own names) are no reason to fail. */
static void
test_mongoose_indexes(void)
{
	char db[64], uri[512];
	mongoc_client_t *cl;
	mongoc_database_t *dbh;
	bson_t *cmd;
	bson_error_t e;
	struct store *st = NULL;
	char *err = NULL;
	bool okay;

	snprintf(db, sizeof(db), "idx_%s", test_tag);
	for (char *x = db; *x != '\0'; x++)
		if (*x == '-')
			*x = '_';
	uri_with_db(db, uri, sizeof(uri));
	cl = mongoc_client_new(uri);
	dbh = mongoc_client_get_database(cl, db);
	/* mongoose: username_1 unique (autoIndex); a posts index of the
	 * Node service under another name, with background set. */
	cmd = BCON_NEW("createIndexes", BCON_UTF8("users"), "indexes", "[",
	    "{", "key", "{", "username", BCON_INT32(1), "}", "name",
	    BCON_UTF8("username_1"), "unique", BCON_BOOL(true), "background",
	    BCON_BOOL(true), "}", "]");
	okay = mongoc_database_write_command_with_opts(dbh, cmd, NULL, NULL,
	    &e);
	bson_destroy(cmd);
	cmd = BCON_NEW("createIndexes", BCON_UTF8("posts"), "indexes", "[",
	    "{", "key", "{", "createdAt", BCON_INT32(-1), "_id",
	    BCON_INT32(-1), "}", "name", BCON_UTF8("newest_first"), "}", "]");
	okay &= mongoc_database_write_command_with_opts(dbh, cmd, NULL, NULL,
	    &e);
	bson_destroy(cmd);
	ok(okay, "indexes made as mongoose and the Node service name them");
	is_int(open_uri(uri, 2000, &st, &err), BOARD_OK,
	    "the store opens beside them");
	if (err != NULL)
		diag("%s", err);
	free(err);
	store_close(st);
	mongoc_database_drop(dbh, NULL);
	mongoc_database_destroy(dbh);
	mongoc_client_destroy(cl);
}

/* A page names its authors with one query, whatever their number. */
static void
test_one_author_query(void)
{
	struct store *st;
	struct user u[5];
	struct post p[20];
	struct post_list l;
	char *err;
	uint64_t before;
	int named = 1, made = 1;

	if (open_uri(test_uri, 2000, &st, &err) != BOARD_OK) {
		ok(0, "open: %s", err != NULL ? err : "?");
		free(err);
		return;
	}
	for (int i = 0; i < 5; i++) {
		char n[32];

		snprintf(n, sizeof(n), "page%d", i);
		user_init(&u[i]);
		made &= store_user_create(st, tagged(n), "h", &u[i]) ==
		    BOARD_OK;
	}
	/* Far in the future, so they are the first page. */
	for (int i = 0; i < 20; i++) {
		post_init(&p[i]);
		made &= store_post_create(st, u[i % 5].id, u[i % 5].username,
		    "t", 1, "c", 1, INT64_C(253402300799000) - i, &p[i]) ==
		    BOARD_OK;
	}
	ok(made, "20 posts by 5 authors");
	post_list_init(&l);
	before = store_mongo_finds();
	is_int(store_post_list(st, NULL, 20, &l), BOARD_OK, "list them");
	is_int((long long)(store_mongo_finds() - before), 2,
	    "  in two finds: the page, then its 5 authors with one $in");
	for (size_t i = 0; i < l.n && i < 20; i++)
		named &= strcmp(l.v[i].author_name, p[i].author_name) == 0;
	ok(l.n == 20 && named, "  every post named by its author");
	post_list_cleanup(&l);
	for (int i = 0; i < 20; i++) {
		store_post_delete(st, p[i].id, p[i].author_id);
		post_cleanup(&p[i]);
	}
	for (int i = 0; i < 5; i++)
		user_cleanup(&u[i]);
	store_close(st);
}

static void
test_unreachable_at_start(void)
{
	struct store *st;
	char uri[512], hostport[64];
	char *err;
	int64_t t0, dt;
	enum board_err rc;
	int port = free_port();

	snprintf(hostport, sizeof(hostport), "127.0.0.1:%d", port);
	snprintf(uri, sizeof(uri), "mongodb://board:hunter2@%s/board",
	    hostport);
	t0 = board_now_ms();
	rc = open_uri(uri, 2000, &st, &err);
	dt = board_now_ms() - t0;
	is_int(rc, BOARD_EUNAVAIL, "no server at start: BOARD_EUNAVAIL");
	ok(dt <= OUTAGE_MAX_MS, "within %d ms (took %lld)", OUTAGE_MAX_MS,
	    (long long)dt);
	ok(err != NULL && strstr(err, "MONGODB_URI") != NULL,
	    "the message names MONGODB_URI");
	ok(err != NULL && strstr(err, hostport) != NULL,
	    "and the host");
	ok(err != NULL && strstr(err, "hunter2") == NULL,
	    "but not the password");
	if (err != NULL)
		diag("%s", err);
	free(err);
	store_close(st);

	/* DocumentDB's URI, unchanged: parsed and tried, never a crash. */
	snprintf(uri, sizeof(uri), "mongodb://board:s3cr%%40tPW@%s/board"
	    "?tls=true&tlsCAFile=/nonexistent/global-bundle.pem"
	    "&replicaSet=rs0&readPreference=secondaryPreferred"
	    "&retryWrites=false", hostport);
	t0 = board_now_ms();
	rc = open_uri(uri, 2000, &st, &err);
	dt = board_now_ms() - t0;
	ok(rc == BOARD_EUNAVAIL || rc == BOARD_EINVAL,
	    "DocumentDB URI with a missing CA file: a clear error (%s)",
	    board_strerror(rc));
	ok(dt <= OUTAGE_MAX_MS, "within %d ms (took %lld)", OUTAGE_MAX_MS,
	    (long long)dt);
	ok(err != NULL && strstr(err, "MONGODB_URI") != NULL &&
	    strstr(err, "s3cr") == NULL,
	    "names MONGODB_URI, not the password");
	if (err != NULL)
		diag("%s", err);
	free(err);
	store_close(st);

	/* mongoc quotes a malformed password in its parse error. */
	rc = open_uri("mongodb://board:pa:ss0rd@127.0.0.1/board", 2000, &st,
	    &err);
	is_int(rc, BOARD_EINVAL, "a malformed URI is BOARD_EINVAL");
	ok(err != NULL && strstr(err, "MONGODB_URI") != NULL &&
	    strstr(err, "pa:ss0rd") == NULL && strstr(err, "ss0rd") == NULL,
	    "its message names MONGODB_URI, not the password");
	if (err != NULL)
		diag("%s", err);
	free(err);
	store_close(st);

	rc = open_uri("http://127.0.0.1/", 2000, &st, &err);
	is_int(rc, BOARD_EINVAL, "a URI of another scheme is BOARD_EINVAL");
	free(err);
	store_close(st);
}

/* One operation during an outage: BOARD_EUNAVAIL, soon. */
#define OUTAGE_OP(name, call) do {					\
	int64_t t0_ = board_now_ms(), dt_;				\
	enum board_err rc_ = (call);					\
									\
	dt_ = board_now_ms() - t0_;					\
	is_int(rc_, BOARD_EUNAVAIL, "server gone: %s is BOARD_EUNAVAIL",\
	    name);							\
	ok(dt_ <= OUTAGE_MAX_MS, "  within %d ms (took %lld)",		\
	    OUTAGE_MAX_MS, (long long)dt_);				\
} while (0)

static void
test_outage(void)
{
	struct server srv;
	struct store *st = NULL;
	struct user u;
	struct post p, q;
	struct post_list l;
	enum board_err rc;
	int i;

	user_init(&u);
	post_init(&p);
	post_init(&q);
	post_list_init(&l);
	if (!private_open(&srv, "", 2000, &st))
		goto out;
	is_int(store_user_create(st, "outage", "h", &u), BOARD_OK,
	    "works before the outage");
	is_int(store_post_create(st, u.id, "outage", "t", 1, "c", 1,
	    board_now_ms(), &p), BOARD_OK, "a post before the outage");

	server_kill(&srv);
	OUTAGE_OP("ping", store_ping(st));
	OUTAGE_OP("user_find_by_name",
	    store_user_find_by_name(st, "outage", &u));
	OUTAGE_OP("user_create", store_user_create(st, "outage2", "h", &u));
	OUTAGE_OP("post_find (replica ok)", store_post_find(st, p.id, false,
	    &q));
	OUTAGE_OP("post_find (primary)", store_post_find(st, p.id, true, &q));
	OUTAGE_OP("post_update", store_post_update(st, p.id, p.author_id, "x",
	    1, NULL, 0, board_now_ms(), &q));
	OUTAGE_OP("post_list", store_post_list(st, NULL, 10, &l));
	OUTAGE_OP("post_delete", store_post_delete(st, p.id, p.author_id));
	OUTAGE_OP("ping again", store_ping(st));

	/* Back on the same port (empty: it keeps data in memory). */
	for (i = 0; i < 10 && !server_start(&srv); i++)
		sleep_ms(500);
	if (srv.pid <= 0) {
		ok(0, "restart jongodb on port %d", srv.port);
		goto out;
	}
	rc = BOARD_EUNAVAIL;
	for (i = 0; i < 150 && rc != BOARD_OK; i++) {
		rc = store_ping(st);
		if (rc != BOARD_OK)
			sleep_ms(100);
	}
	is_int(rc, BOARD_OK, "recovers by itself when the server is back "
	    "(after %d tries)", i);
	is_int(store_user_create(st, "outage", "h", &u), BOARD_OK,
	    "writes work again");
	is_int(store_user_create(st, "outage", "h", &u), BOARD_EEXIST,
	    "and the unique index is there again on the new server");
	is_int(store_post_list(st, NULL, 10, &l), BOARD_OK,
	    "listing works again");
out:
	post_list_cleanup(&l);
	post_cleanup(&q);
	post_cleanup(&p);
	user_cleanup(&u);
	store_close(st);
	server_kill(&srv);
	unlink(srv.log);
}

/* true when process pid is stopped (state T in /proc/PID/stat). */
static bool
stopped(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "pid (comm) S ...": comm may hold spaces, so after the last ')'. */
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] == 'T';
}

/*
 * A server that hangs (SIGSTOP) instead of refusing: only timeouts end
 * the wait, and the whole operation must end within the configured
 * store_timeout_ms (1.5 x, for scheduling), whatever state the driver's
 * view of the server is in: known, just failed, cooling down, rescanned.
 */
static void
test_hang(void)
{
	enum { TIMEOUT_MS = 1000, BOUND_MS = 1500 };
	struct server srv;
	struct store *st = NULL;
	struct user u;
	struct post p, q;
	struct post_list l;
	int64_t t0, worst = 0, took;
	int slow = 0, ok503 = 0, n = 0;

	user_init(&u);
	post_init(&p);
	post_init(&q);
	post_list_init(&l);
	if (!private_open(&srv, "h", TIMEOUT_MS, &st))
		goto out;
	is_int(store_user_create(st, "hang", "h", &u), BOARD_OK,
	    "hang: works before");
	is_int(store_post_create(st, u.id, "hang", "t", 1, "c", 1,
	    board_now_ms(), &p), BOARD_OK, "hang: a post before");
	kill(srv.pid, SIGSTOP);
	/* The signal takes effect a moment later: wait (2 s at most). */
	for (int i = 0; i < 200 && !stopped(srv.pid); i++)
		sleep_ms(10);
	ok(stopped(srv.pid), "hang: jongodb stopped (SIGSTOP)");
	/*
	 * One operation every 250 ms for 8 s: the first meets a known
	 * server, later ones a failed one, its cooldown and the rescans.
	 */
	t0 = board_now_ms();
	while (board_now_ms() - t0 < 8000 && n < 100) {
		int64_t s0 = board_now_ms();
		enum board_err rc;

		switch (n % 4) {
		case 0:
			rc = store_post_find(st, p.id, true, &q);
			break;
		case 1:
			rc = store_post_create(st, u.id, "hang", "t", 1, "c",
			    1, board_now_ms(), &q);
			break;
		case 2:
			rc = store_post_list(st, NULL, 10, &l);
			post_list_cleanup(&l);
			post_list_init(&l);
			break;
		default:
			rc = store_post_find(st, p.id, false, &q);
			break;
		}
		post_cleanup(&q);
		post_init(&q);
		took = board_now_ms() - s0;
		if (rc == BOARD_EUNAVAIL)
			ok503++;
		else
			diag("hang: operation %d (kind %d) gave %s after %lld "
			    "ms", n, n % 4, board_strerror(rc),
			    (long long)(board_now_ms() - s0));
		if (took > BOUND_MS) {
			slow++;
			diag("hang: operation %d took %lld ms", n,
			    (long long)took);
		}
		if (took > worst)
			worst = took;
		n++;
		sleep_ms(250);
	}
	is_int(ok503, n, "hang: all %d operations against a hung server are "
	    "EUNAVAIL", n);
	is_int(slow, 0, "hang: each ends within 1.5 x store_timeout_ms "
	    "(%d ms; slowest %lld ms)", BOUND_MS, (long long)worst);
	kill(srv.pid, SIGCONT);
	t0 = board_now_ms();
	while (store_ping(st) != BOARD_OK && board_now_ms() - t0 < 10000)
		sleep_ms(100);
	is_int(store_post_find(st, p.id, true, &q), BOARD_OK,
	    "hang: works again after SIGCONT (%lld ms)",
	    (long long)(board_now_ms() - t0));
out:
	post_list_cleanup(&l);
	post_cleanup(&q);
	post_cleanup(&p);
	user_cleanup(&u);
	store_close(st);
	if (srv.pid > 0)
		kill(srv.pid, SIGCONT);
	server_kill(&srv);
	unlink(srv.log);
}

int
main(void)
{
	const char *lvl = getenv("BOARD_TEST_VERBOSE");

	test_uri = getenv("BOARD_TEST_MONGODB_URI");
	if (test_uri == NULL || *test_uri == '\0') {
		printf("1..0 # SKIP no MongoDB "
		    "(BOARD_TEST_MONGODB_URI unset)\n");
		return 0;
	}
	log_init("test-store-mongo", lvl != NULL ? LOG_DEBUG : LOG_ERR);
	snprintf(test_tag, sizeof(test_tag), "%lld-%d",
	    (long long)board_now_ms(), (int)getpid());
	/* Nothing else can pass without the server (a TLS test relies on
	 * this failing fast when the server is not trusted). */
	if (!test_open())
		return tap_done();
	test_shared_server();
	test_documentdb_options();
	test_read_fallback();
	test_one_author_query();
	test_old_layout();
	test_mongoose_indexes();
	test_unreachable_at_start();
	test_outage();
	test_hang();
	return tap_done();
}
