/* board-admin.c: the operator's tool: copy a store, migrate the earlier
 * MongoDB layout, show or delete a user, check a configuration. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "board.h"
#include "conf.h"
#include "log.h"
#include "password.h"
#include "secret.h"
#include "session.h"
#include "store-mongo.h"
#include "store.h"

/* Exit statuses: 0 done, 1 failed (one line on stderr), 2 usage. */
#define EXIT_USAGE 2
/* Documents per batch: one scan, one insert (one SQLite transaction). */
#define COPY_BATCH 500
/* The store timeout of board-admin, unless the configuration's is longer. */
#define ADMIN_TIMEOUT_MS 10000

static const char usage_text[] =
"usage: board-admin [-c FILE] [-s STORE] [-v] COMMAND [ARGS]\n"
"\n"
"  copy [-q] FROM TO      copy users and posts, keeping ids, times, hashes\n"
"  migrate-layout [URI]   move MongoDB documents of the earlier board layout\n"
"  user show NAME         show a user (never the hash itself)\n"
"  user delete --yes NAME delete a user and every post of theirs, and end\n"
"                         their sessions (in the configured Redis)\n"
"  check                  read the configuration, connect to everything,\n"
"                         print what was found\n"
"\n"
"STORE, FROM, TO: sqlite:PATH or a mongodb:// (mongodb+srv://) URI.\n"
"  -c FILE   the configuration (default: $BOARD_CONFIG, else the installed\n"
"            board.conf); the environment overrides it as for the responders\n"
"  -s STORE  the store for user and check (default: the configured one)\n"
"  -v        log the store's debug lines\n"
"  -q        copy: no progress line, even on a terminal\n"
"See board-admin(1).\n";

static const char *conf_path;
static const char *store_spec;

/* One line on stderr, "board-admin: ...", and the failure status. */
static int
fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("board-admin: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAILURE;
}

static int
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "board-admin: %s\n", why);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A store named on the command line. */
struct spec {
	char *path;		/* sqlite:PATH */
	char *uri;		/* mongodb:// */
};

static bool
spec_parse(const char *s, struct spec *out)
{
	memset(out, 0, sizeof(*out));
	if (strncmp(s, "sqlite:", 7) == 0 && s[7] != '\0') {
		out->path = xstrdup(s + 7);
		return true;
	}
	if (strncmp(s, "mongodb://", 10) == 0 ||
	    strncmp(s, "mongodb+srv://", 14) == 0) {
		out->uri = xstrdup(s);
		return true;
	}
	return false;
}

static void
spec_cleanup(struct spec *sp)
{
	free(sp->path);
	xfree_secret(sp->uri);	/* it may hold a password */
	memset(sp, 0, sizeof(*sp));
}

/* For messages: the path, or the URI's hosts and database, never its
 * credentials. */
static char *
spec_name(const struct spec *sp)
{
	mongoc_uri_t *u;
	const mongoc_host_list_t *h;
	struct buf b;

	if (sp->path != NULL)
		return xasprintf("sqlite:%s", sp->path);
	buf_init(&b);
	u = mongoc_uri_new_with_error(sp->uri, NULL);
	if (u == NULL)
		return xstrdup("mongodb://(unparsable URI)");
	buf_puts(&b, "mongodb://");
	if (mongoc_uri_get_srv_hostname(u) != NULL)
		buf_puts(&b, mongoc_uri_get_srv_hostname(u));
	for (h = mongoc_uri_get_hosts(u); h != NULL; h = h->next)
		buf_printf(&b, "%s%s", h == mongoc_uri_get_hosts(u) ? "" : ",",
		    h->host_and_port);
	buf_printf(&b, "/%s", mongoc_uri_get_database(u) != NULL ?
	    mongoc_uri_get_database(u) : "board");
	mongoc_uri_destroy(u);
	return buf_steal(&b);
}

/*
 * true when a and b are surely the same database: one SQLite file (same
 * device and inode), or the same MongoDB hosts and database name.
 */
static bool
spec_same(const struct spec *a, const struct spec *b)
{
	struct stat sa, sb;
	char *na, *nb;
	bool same;

	if (a->path != NULL && b->path != NULL) {
		if (stat(a->path, &sa) == 0 && stat(b->path, &sb) == 0)
			return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
		return strcmp(a->path, b->path) == 0;
	}
	if (a->uri == NULL || b->uri == NULL)
		return false;
	na = spec_name(a);
	nb = spec_name(b);
	same = strcasecmp(na, nb) == 0;
	free(na);
	free(nb);
	return same;
}

/* Loads the configuration (-c, or as the responders do). */
static bool
load_conf(struct conf *c)
{
	char *err = NULL;

	if (conf_load(c, conf_path, &err) != BOARD_OK) {
		fail("%s", err != NULL ? err : "cannot read the configuration");
		free(err);
		return false;
	}
	return true;
}

/*
 * Opens a store: sp, else -s, else the configured one. must_exist: an
 * SQLite file that is not there is an error (SQLite would make it).
 */
static struct store *
open_spec(const struct spec *sp, const struct conf *base, bool must_exist)
{
	struct conf c;
	struct store *st = NULL;
	char *err = NULL, *name = spec_name(sp);

	conf_init(&c);
	/* A batch tool: a batch of 500 may take longer than a request. */
	c.store_timeout_ms = ADMIN_TIMEOUT_MS;
	if (base != NULL && base->store_timeout_ms > c.store_timeout_ms)
		c.store_timeout_ms = base->store_timeout_ms;
	free(c.mongodb_uri);
	free(c.db_path);
	c.mongodb_uri = sp->uri != NULL ? xstrdup(sp->uri) : NULL;
	c.db_path = sp->path != NULL ? xstrdup(sp->path) : NULL;
	if (must_exist && sp->path != NULL && access(sp->path, R_OK) != 0) {
		fail("%s: %s", name, strerror(errno));
	} else if (store_open(&c, &st, &err) != BOARD_OK) {
		fail("%s: %s", name, err != NULL ? err : "cannot open");
		st = NULL;
	}
	free(err);
	free(name);
	xfree_secret(c.mongodb_uri);
	c.mongodb_uri = NULL;
	conf_cleanup(&c);
	return st;
}

/* The store of user and check: -s, else the configuration's. */
static bool
configured_spec(const struct conf *c, struct spec *out)
{
	if (store_spec != NULL) {
		if (!spec_parse(store_spec, out)) {
			usage("-s: expected sqlite:PATH or a mongodb:// URI");
			return false;
		}
		return true;
	}
	memset(out, 0, sizeof(*out));
	if (c->mongodb_uri != NULL && c->mongodb_uri[0] != '\0')
		out->uri = xstrdup(c->mongodb_uri);
	else
		out->path = xstrdup(c->db_path);
	return true;
}

/* copy */

struct copy {
	struct store *from, *to;
	struct store_counts total;
	int64_t users_done, posts_done;
	int64_t copied_users, copied_posts, same, conflicts;
	bool progress;
};

static void
copy_progress(struct copy *cp, bool last)
{
	if (!cp->progress)
		return;
	fprintf(stderr, "\rcopy: users %lld/%lld, posts %lld/%lld%s",
	    (long long)cp->users_done, (long long)cp->total.users,
	    (long long)cp->posts_done, (long long)cp->total.posts,
	    last ? "\n" : "");
	fflush(stderr);
}

/* Reports a document that TO holds differently; never overwrites it. */
static void
copy_conflict(struct copy *cp, const char *what, const char *id,
    const char *why)
{
	if (cp->progress)
		fputc('\n', stderr);
	fprintf(stderr, "board-admin: copy: %s %s: %s; not overwritten\n",
	    what, id, why);
	cp->conflicts++;
}

static bool
str_eq(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* A batch of users or posts, as copy_each() handles either: the array of
 * a struct user_list or post_list, its element type left to the kind. */
struct rows {
	char *v;
	size_t n;
};

/* One kind of document (users, posts) as copy_each() walks it. */
struct copy_kind {
	const char *name;		/* "user", "post" */
	size_t size;			/* of an element */
	size_t id_at;			/* offsetof its id */
	/* Up to COPY_BATCH after the id after, into out (empty). */
	enum board_err (*scan)(struct store *st, const char *after,
	    struct rows *out);
	enum board_err (*insert)(struct store *st, const void *v, size_t n,
	    enum board_err *each);
	void (*cleanup)(void *elem);
	/* TO holds to under from's id: the same, or a conflict. */
	void (*compare)(struct copy *cp, const void *from, const void *to);
	/* Inserting from met BOARD_EEXIST. */
	enum board_err (*exists)(struct copy *cp, const void *from);
	/* Why inserting from failed with code, for copy_conflict(). */
	const char *(*refused)(const void *from, enum board_err code,
	    char *buf, size_t size);
};

static char *
row_at(const struct copy_kind *k, const struct rows *r, size_t i)
{
	return r->v + i * k->size;
}

static const char *
row_id(const struct copy_kind *k, const struct rows *r, size_t i)
{
	return row_at(k, r, i) + k->id_at;
}

static void
rows_cleanup(const struct copy_kind *k, struct rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		k->cleanup(row_at(k, r, i));
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

/* from (FROM) against to, what TO holds under the same id. */
static void
copy_user_compare(struct copy *cp, const void *from, const void *to)
{
	const struct user *u = from, *t = to;
	char why[64];

	if (str_eq(t->username, u->username) && str_eq(t->pwhash, u->pwhash) &&
	    t->created_ms == u->created_ms) {
		cp->same++;
		return;
	}
	snprintf(why, sizeof(why), "TO holds another %s",
	    !str_eq(t->username, u->username) ? "username" :
	    !str_eq(t->pwhash, u->pwhash) ? "password hash" : "creation time");
	copy_conflict(cp, "user", u->id, why);
}

static void
copy_post_compare(struct copy *cp, const void *from, const void *to)
{
	const struct post *p = from, *t = to;

	if (str_eq(t->title, p->title) && str_eq(t->content, p->content) &&
	    strcmp(t->author_id, p->author_id) == 0 &&
	    t->created_ms == p->created_ms && t->updated_ms == p->updated_ms)
		cp->same++;
	else
		copy_conflict(cp, "post", p->id, "TO holds another version");
}

/* An insert that met a user after all (its username taken, or written
 * meanwhile): look it up by id to tell which. */
static enum board_err
copy_user_exists(struct copy *cp, const void *from)
{
	const struct user *u = from;
	struct user t;
	enum board_err rc;
	char why[160];

	user_init(&t);
	rc = store_user_find_by_id(cp->to, u->id, &t);
	if (rc == BOARD_OK) {
		copy_user_compare(cp, u, &t);
	} else if (rc == BOARD_ENOTFOUND) {
		snprintf(why, sizeof(why), "the username %s belongs to "
		    "another user in TO", u->username);
		copy_conflict(cp, "user", u->id, why);
		rc = BOARD_OK;
	}
	user_cleanup(&t);
	return rc;
}

static enum board_err
copy_post_exists(struct copy *cp, const void *from)
{
	const struct post *p = from;
	struct post t;
	enum board_err rc;

	post_init(&t);
	rc = store_post_find(cp->to, p->id, true, &t);
	if (rc == BOARD_OK)
		copy_post_compare(cp, p, &t);
	post_cleanup(&t);
	return rc;
}

static const char *
copy_user_refused(const void *from, enum board_err code, char *buf,
    size_t size)
{
	(void)from;
	(void)buf;
	(void)size;
	return board_strerror(code);
}

static const char *
copy_post_refused(const void *from, enum board_err code, char *buf,
    size_t size)
{
	const struct post *p = from;

	if (code != BOARD_ENOTFOUND)
		return board_strerror(code);
	snprintf(buf, size, "its author %s is not in TO",
	    p->author_id[0] != '\0' ? p->author_id : "(none)");
	return buf;
}

static enum board_err
copy_user_scan(struct store *st, const char *after, struct rows *out)
{
	struct user_list l;
	enum board_err rc;

	user_list_init(&l);
	rc = store_user_scan(st, after, COPY_BATCH, &l);
	out->v = (char *)l.v;
	out->n = l.n;
	return rc;
}

static enum board_err
copy_post_scan(struct store *st, const char *after, struct rows *out)
{
	struct post_list l;
	enum board_err rc;

	post_list_init(&l);
	rc = store_post_scan(st, after, COPY_BATCH, &l);
	out->v = (char *)l.v;
	out->n = l.n;
	return rc;
}

static enum board_err
copy_user_insert(struct store *st, const void *v, size_t n,
    enum board_err *each)
{
	return store_user_insert(st, v, n, each);
}

static enum board_err
copy_post_insert(struct store *st, const void *v, size_t n,
    enum board_err *each)
{
	return store_post_insert(st, v, n, each);
}

static void
copy_user_cleanup(void *elem)
{
	user_cleanup(elem);
}

static void
copy_post_cleanup(void *elem)
{
	post_cleanup(elem);
}

static const struct copy_kind copy_users = {
	"user", sizeof(struct user), offsetof(struct user, id),
	copy_user_scan, copy_user_insert, copy_user_cleanup,
	copy_user_compare, copy_user_exists, copy_user_refused,
};

static const struct copy_kind copy_posts = {
	"post", sizeof(struct post), offsetof(struct post, id),
	copy_post_scan, copy_post_insert, copy_post_cleanup,
	copy_post_compare, copy_post_exists, copy_post_refused,
};

/*
 * What TO holds with ids in (after, last], in id order, into win: a scan
 * of TO beside the scan of FROM (a merge of two id-ordered walks), so a
 * second copy reads TO once instead of asking for each document, and
 * inserts only what is missing.
 */
static enum board_err
copy_to_between(const struct copy_kind *k, struct store *to,
    const char *after, const char *last, struct rows *win)
{
	struct rows t = { NULL, 0 };
	char a[STORE_ID_LEN + 1];
	enum board_err rc;
	size_t cap = win->n;
	bool more = true;

	snprintf(a, sizeof(a), "%s", after);
	while (more) {
		if ((rc = k->scan(to, a, &t)) != BOARD_OK)
			break;
		more = t.n == COPY_BATCH;
		if (t.n > 0)	/* before the moves below empty them */
			memcpy(a, row_id(k, &t, t.n - 1), sizeof(a));
		for (size_t i = 0; i < t.n; i++) {
			if (strcmp(row_id(k, &t, i), last) > 0) {
				more = false;
				break;
			}
			if (win->n == cap) {
				cap = cap == 0 ? COPY_BATCH : cap * 2;
				win->v = xrealloc(win->v, cap * k->size);
			}
			memcpy(row_at(k, win, win->n++), row_at(k, &t, i),
			    k->size);
			/* Moved: zeroed, as user_init()/post_init() do. */
			memset(row_at(k, &t, i), 0, k->size);
		}
		rows_cleanup(k, &t);
	}
	return rc;
}

/* Copies every document of kind k from FROM to TO that TO lacks, batch by
 * batch in id order, counting them in *done (read) and *copied. */
static enum board_err
copy_each(struct copy *cp, const struct copy_kind *k, int64_t *done,
    int64_t *copied)
{
	struct rows l = { NULL, 0 }, win = { NULL, 0 };
	char *ins = xmalloc(COPY_BATCH * k->size);
	size_t at[COPY_BATCH];
	enum board_err each[COPY_BATCH], rc;
	char after[STORE_ID_LEN + 1] = "", why[96];

	for (;;) {
		size_t j = 0, m = 0;

		rows_cleanup(k, &l);
		rc = k->scan(cp->from, after, &l);
		if (rc != BOARD_OK || l.n == 0)
			break;
		rows_cleanup(k, &win);
		rc = copy_to_between(k, cp->to, after, row_id(k, &l, l.n - 1),
		    &win);
		if (rc != BOARD_OK)
			break;
		for (size_t i = 0; i < l.n; i++) {
			const char *id = row_id(k, &l, i);

			while (j < win.n && strcmp(row_id(k, &win, j), id) < 0)
				j++;
			if (j < win.n && strcmp(row_id(k, &win, j), id) == 0) {
				k->compare(cp, row_at(k, &l, i),
				    row_at(k, &win, j));
				continue;
			}
			at[m] = i;
			/* Borrowed: l keeps owning it. */
			memcpy(ins + m++ * k->size, row_at(k, &l, i), k->size);
		}
		rc = m > 0 ? k->insert(cp->to, ins, m, each) : BOARD_OK;
		for (size_t x = 0; rc == BOARD_OK && x < m; x++) {
			const void *from = row_at(k, &l, at[x]);

			if (each[x] == BOARD_OK)
				(*copied)++;
			else if (each[x] == BOARD_EEXIST)
				rc = k->exists(cp, from);
			else
				copy_conflict(cp, k->name, row_id(k, &l, at[x]),
				    k->refused(from, each[x], why,
				    sizeof(why)));
		}
		if (rc != BOARD_OK)
			break;
		memcpy(after, row_id(k, &l, l.n - 1), sizeof(after));
		*done += (int64_t)l.n;
		copy_progress(cp, false);
	}
	rows_cleanup(k, &win);
	rows_cleanup(k, &l);
	free(ins);
	return rc;
}

static int
cmd_copy(int argc, char **argv)
{
	struct spec from, to;
	struct copy cp;
	char *fname = NULL, *tname = NULL;
	bool quiet = false;
	double t0, secs;
	enum board_err rc;
	int status = EXIT_FAILURE;

	memset(&cp, 0, sizeof(cp));
	memset(&from, 0, sizeof(from));
	memset(&to, 0, sizeof(to));
	if (argc >= 2 && strcmp(argv[1], "-q") == 0) {
		quiet = true;
		argc--;
		argv++;
	}
	if (argc != 3)
		return usage("copy: expected FROM and TO");
	if (!spec_parse(argv[1], &from) || !spec_parse(argv[2], &to)) {
		spec_cleanup(&from);
		return usage("copy: FROM and TO are sqlite:PATH or mongodb:// "
		    "URIs");
	}
	fname = spec_name(&from);
	tname = spec_name(&to);
	if (spec_same(&from, &to)) {
		status = fail("copy: FROM and TO are the same database (%s)",
		    fname);
		goto out;
	}
	/* No configuration: FROM and TO are all copy needs. */
	if ((cp.from = open_spec(&from, NULL, true)) == NULL ||
	    (cp.to = open_spec(&to, NULL, false)) == NULL)
		goto out;
	cp.progress = !quiet && isatty(STDERR_FILENO);
	if ((rc = store_count(cp.from, NULL, &cp.total)) != BOARD_OK) {
		status = fail("copy: %s: cannot count (%s)", fname,
		    board_strerror(rc));
		goto out;
	}
	t0 = mono_s();
	/* Users first: posts name them (SQLite checks that). */
	rc = copy_each(&cp, &copy_users, &cp.users_done, &cp.copied_users);
	if (rc == BOARD_OK)
		rc = copy_each(&cp, &copy_posts, &cp.posts_done,
		    &cp.copied_posts);
	secs = mono_s() - t0;
	copy_progress(&cp, true);
	if (rc != BOARD_OK) {
		status = fail("copy: stopped after %lld users and %lld posts: "
		    "%s (%s or %s); run it again to go on",
		    (long long)cp.users_done, (long long)cp.posts_done,
		    board_strerror(rc), fname, tname);
		goto out;
	}
	printf("copy: %s -> %s: %lld users and %lld posts copied, %lld "
	    "already there, %lld conflicts; %lld posts in %.2f s (%.0f "
	    "posts/s)\n", fname, tname, (long long)cp.copied_users,
	    (long long)cp.copied_posts, (long long)cp.same,
	    (long long)cp.conflicts, (long long)cp.posts_done, secs,
	    secs > 0 ? (double)cp.posts_done / secs : 0.0);
	if (cp.conflicts > 0)
		status = fail("copy: %lld conflicting documents were not "
		    "overwritten (listed above)", (long long)cp.conflicts);
	else
		status = EXIT_SUCCESS;
out:
	store_close(cp.to);
	store_close(cp.from);
	free(fname);
	free(tname);
	spec_cleanup(&to);
	spec_cleanup(&from);
	return status;
}

/* migrate-layout */

static void
migrate_progress(void *arg, const struct store_mongo_migration *m)
{
	if (!*(bool *)arg)
		return;
	fprintf(stderr, "\rmigrate-layout: %lld users, %lld posts",
	    (long long)m->users, (long long)m->posts);
	fflush(stderr);
}

static int
cmd_migrate(int argc, char **argv)
{
	struct conf c;
	struct spec sp;
	struct store_mongo_migration m;
	char *err = NULL, *name;
	bool tty = isatty(STDERR_FILENO);
	int status;

	if (argc > 2)
		return usage("migrate-layout: expected at most one URI");
	if (!load_conf(&c))
		return EXIT_FAILURE;
	memset(&sp, 0, sizeof(sp));
	if (argc == 2) {
		if (!spec_parse(argv[1], &sp)) {
			conf_cleanup(&c);
			return usage("migrate-layout: expected a mongodb:// "
			    "URI");
		}
	} else if (!configured_spec(&c, &sp)) {
		conf_cleanup(&c);
		return EXIT_USAGE;
	}
	name = spec_name(&sp);
	if (sp.uri == NULL) {
		status = fail("migrate-layout: %s: SQLite keeps its own "
		    "tables; there is nothing to migrate", name);
		goto out;
	}
	free(c.mongodb_uri);
	c.mongodb_uri = xstrdup(sp.uri);
	if (store_mongo_migrate_layout(&c, migrate_progress, &tty, &m, &err) !=
	    BOARD_OK) {
		if (tty)
			fputc('\n', stderr);
		status = fail("migrate-layout: %s", err != NULL ? err :
		    "failed");
		goto out;
	}
	if (tty)
		fputc('\n', stderr);
	printf("migrate-layout: %s: %lld users and %lld posts moved to the "
	    "mongoose layout; %lld documents hold both layouts and were left "
	    "as they are\n", name, (long long)m.users, (long long)m.posts,
	    (long long)m.conflicts);
	status = m.conflicts > 0 ? fail("migrate-layout: %lld documents "
	    "need a look (see the warnings above)", (long long)m.conflicts) :
	    EXIT_SUCCESS;
out:
	free(err);
	free(name);
	spec_cleanup(&sp);
	conf_cleanup(&c);
	return status;
}

/* user show|delete */

static int
cmd_user(int argc, char **argv)
{
	struct conf c;
	struct spec sp;
	struct store *st = NULL;
	struct session_store *ss = NULL;
	struct user u;
	struct store_counts cnt;
	struct password_cost cost;
	const char *verb, *name;
	struct password_info pi;
	char iso[BOARD_ISO_LEN + 1];
	char *err = NULL;
	bool yes = false;
	int64_t posts = 0;
	enum board_err rc;
	int status = EXIT_FAILURE;

	if (argc < 3)
		return usage("user: expected show NAME or delete --yes NAME");
	verb = argv[1];
	if (strcmp(verb, "delete") == 0 && argc == 4 &&
	    strcmp(argv[2], "--yes") == 0) {
		yes = true;
		name = argv[3];
	} else if (argc == 3 && (strcmp(verb, "show") == 0 ||
	    strcmp(verb, "delete") == 0)) {
		name = argv[2];
	} else {
		return usage("user: expected show NAME or delete --yes NAME");
	}
	if (!load_conf(&c))
		return EXIT_FAILURE;
	user_init(&u);
	if (!configured_spec(&c, &sp)) {
		conf_cleanup(&c);
		return EXIT_USAGE;
	}
	if ((st = open_spec(&sp, &c, true)) == NULL)
		goto out;
	rc = store_user_find_by_name(st, name, &u);
	if (rc == BOARD_ENOTFOUND) {
		status = fail("user %s: no such user", name);
		goto out;
	}
	if (rc == BOARD_OK)
		rc = store_count(st, u.id, &cnt);
	if (rc != BOARD_OK) {
		status = fail("user %s: %s", name, board_strerror(rc));
		goto out;
	}
	if (strcmp(verb, "show") == 0) {
		password_cost_from_conf(&c, &cost);
		password_inspect(&cost, u.pwhash, &pi);
		board_iso_time(u.created_ms, iso);
		printf("id        %s\nusername  %s\npassword  %s%s\n"
		    "created   %s\nposts     %lld\n", u.id, u.username,
		    pi.what, !pi.known ? " (cannot log in)" : pi.rehash ?
		    " (rehashed at the next login)" : "", iso,
		    (long long)cnt.posts);
		status = EXIT_SUCCESS;
		goto out;
	}
	if (!yes) {
		status = fail("user delete: add --yes to delete %s and %lld "
		    "posts", name, (long long)cnt.posts);
		goto out;
	}
	rc = store_user_delete(st, u.id, &posts);
	if (rc != BOARD_OK) {
		status = fail("user delete %s: %s", name, board_strerror(rc));
		goto out;
	}
	/*
	 * Whatever store the user was deleted from, their sessions are in
	 * the configured Redis: end them there, or they would go on working.
	 */
	if (session_store_new(&c, &ss, &err) == BOARD_OK)
		rc = session_end_user(ss, u.id);
	else
		rc = BOARD_EUNAVAIL;
	if (rc != BOARD_OK) {
		printf("deleted user %s (%s) and %lld posts\n", name, u.id,
		    (long long)posts);
		status = fail("user delete %s: the user's sessions could not "
		    "be ended (Redis: %s); they last until they expire", name,
		    err != NULL ? err : board_strerror(rc));
		goto out;
	}
	printf("deleted user %s (%s) and %lld posts; their sessions have "
	    "ended\n", name, u.id, (long long)posts);
	status = EXIT_SUCCESS;
out:
	session_store_free(ss);
	free(err);
	user_cleanup(&u);
	store_close(st);
	spec_cleanup(&sp);
	conf_cleanup(&c);
	return status;
}

/* check */

/* REDIS_URL without its password. */
static char *
redis_shown(const char *url)
{
	const char *at = strrchr(url, '@'), *scheme = strstr(url, "://");

	if (at == NULL || scheme == NULL || at < scheme)
		return xstrdup(url);
	return xasprintf("%.*s***%s", (int)(scheme + 3 - url), url, at);
}

#define KINDS_MAX 16

/* Counts the users' hashes by kind, and those that stand out. */
static enum board_err
check_hashes(struct store *st, const struct password_cost *cost)
{
	struct {
		char what[96];
		int64_t n;
	} kinds[KINDS_MAX + 1];
	size_t nk = 0;
	struct user_list l;
	struct password_info pi;
	char after[STORE_ID_LEN + 1] = "";
	int64_t total = 0, costlier = 0, unknown = 0, upgrade = 0;
	enum board_err rc;

	memset(kinds, 0, sizeof(kinds));
	user_list_init(&l);
	for (;;) {
		rc = store_user_scan(st, after, COPY_BATCH, &l);
		if (rc != BOARD_OK || l.n == 0)
			break;
		for (size_t i = 0; i < l.n; i++) {
			size_t k;

			password_inspect(cost, l.v[i].pwhash, &pi);
			for (k = 0; k < nk; k++)
				if (strcmp(kinds[k].what, pi.what) == 0)
					break;
			if (k == nk && nk < KINDS_MAX)
				snprintf(kinds[nk++].what,
				    sizeof(kinds[0].what), "%s", pi.what);
			else if (k == nk)
				snprintf(kinds[k = KINDS_MAX].what,
				    sizeof(kinds[0].what), "other kinds");
			kinds[k].n++;
			total++;
			if (!pi.known)
				unknown++;
			else if (pi.costlier)
				costlier++;
			else if (pi.rehash)
				upgrade++;
		}
		memcpy(after, l.v[l.n - 1].id, sizeof(after));
	}
	user_list_cleanup(&l);
	if (rc != BOARD_OK)
		return rc;
	printf("hashes:   %lld users", (long long)total);
	for (size_t k = 0; k <= KINDS_MAX; k++)
		if (kinds[k].n > 0)
			printf("%s %lld %s", k == 0 ? ":" : ",",
			    (long long)kinds[k].n, kinds[k].what);
	printf("\n");
	if (upgrade > 0)
		printf("          %lld will be rehashed at their next login "
		    "(another scheme or a lower cost)\n", (long long)upgrade);
	if (costlier > 0)
		printf("warning:  %lld hashes cost more than the configured "
		    "cost: their failed logins take longer than others and so "
		    "show that the user exists; raise the cost settings to "
		    "match\n", (long long)costlier);
	if (unknown > 0)
		printf("warning:  %lld users have a hash no scheme here reads "
		    "(they cannot log in)\n", (long long)unknown);
	return BOARD_OK;
}

static int
cmd_check(int argc, char **argv)
{
	struct conf c;
	struct spec sp;
	struct store *st = NULL;
	struct session_store *ss = NULL;
	struct secret_source *src = NULL;
	struct secrets file;
	struct store_counts cnt;
	struct password_cost cost;
	const char *path;
	char *err = NULL, *shown, *name = NULL;
	int failed = 0;

	(void)argv;
	if (argc != 1)
		return usage("check: takes no arguments");
	path = conf_path != NULL ? conf_path : getenv("BOARD_CONFIG");
	if (!load_conf(&c))
		return EXIT_FAILURE;
	printf("config:   %s: read\n", path != NULL && *path != '\0' ? path :
	    SYSCONFDIR "/board/board.conf (if present)");

	password_cost_from_conf(&c, &cost);
	printf("password: new hashes %s (Argon2id t=%llu m=%zu KiB; bcrypt "
	    "cost %d); failed logins take at least %.0f ms here\n",
	    c.password_hash, cost.ops, cost.mem / 1024, cost.bcrypt_cost,
	    password_login_floor_ns(&cost) / 1e6);

	shown = redis_shown(c.redis_url);	/* conf.c's default if unset */
	if (session_store_new(&c, &ss, &err) != BOARD_OK) {
		printf("sessions: %s: FAILED: %s\n", shown, err);
		failed++;
	} else if (session_store_ping(ss) != BOARD_OK) {
		printf("sessions: %s: FAILED: no answer to PING\n", shown);
		failed++;
	} else {
		printf("sessions: %s: ok (PING)\n", shown);
	}
	free(shown);
	free(err);
	err = NULL;
	session_store_free(ss);

	if (c.secret_name != NULL) {
		if (secret_source_new(&c, &src, &err) != BOARD_OK) {
			printf("secret:   AWS Secrets Manager %s (%s): FAILED: "
			    "%s\n", c.secret_name, c.aws_region, err);
			failed++;
		} else {
			printf("secret:   AWS Secrets Manager %s (%s): %zu "
			    "secrets\n", c.secret_name, c.aws_region,
			    secret_source_get(src)->n);
		}
		secret_source_free(src);
	} else {
		/* Read only: check must not make the file. */
		secrets_init(&file);
		if (secret_file_load(c.secret_file, false, &file, &err) !=
		    BOARD_OK) {
			printf("secret:   FAILED: %s\n", err);
			failed++;
		} else {
			printf("secret:   file %s: %zu secrets\n",
			    c.secret_file, file.n);
		}
		secrets_cleanup(&file);
	}
	free(err);
	err = NULL;

	if (!configured_spec(&c, &sp)) {
		conf_cleanup(&c);
		return EXIT_USAGE;
	}
	name = spec_name(&sp);
	if ((st = open_spec(&sp, &c, true)) == NULL) {
		printf("store:    %s: FAILED (above)\n", name);
		failed++;
	} else if (store_ping(st) != BOARD_OK ||
	    store_count(st, NULL, &cnt) != BOARD_OK) {
		printf("store:    %s: FAILED: no answer\n", name);
		failed++;
	} else {
		printf("store:    %s (%s): ok, %lld users, %lld posts\n", name,
		    st->ops->name, (long long)cnt.users, (long long)cnt.posts);
		if (check_hashes(st, &cost) != BOARD_OK) {
			printf("hashes:   FAILED to read the users\n");
			failed++;
		}
	}
	store_close(st);
	free(name);
	spec_cleanup(&sp);
	conf_cleanup(&c);
	if (failed > 0)
		return fail("check: %d of sessions, secret, store failed",
		    failed);
	printf("check: ok\n");
	return EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
	enum log_level level = LOG_WARN;
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "+c:s:vh", longopts, NULL)) !=
	    -1) {
		switch (opt) {
		case 'c':
			conf_path = optarg;
			break;
		case 's':
			store_spec = optarg;
			break;
		case 'v':
			level = LOG_DEBUG;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_SUCCESS;
		default:
			return usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return usage("expected a command");
	/* "help", and --help or -h after any command. */
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0 || (i == 0 &&
		    strcmp(argv[i], "help") == 0)) {
			fputs(usage_text, stdout);
			return EXIT_SUCCESS;
		}
	log_init("board-admin", level);
	if (!password_init())
		return fail("libsodium cannot initialize");
	if (strcmp(argv[0], "copy") == 0)
		return cmd_copy(argc, argv);
	if (strcmp(argv[0], "migrate-layout") == 0)
		return cmd_migrate(argc, argv);
	if (strcmp(argv[0], "user") == 0)
		return cmd_user(argc, argv);
	if (strcmp(argv[0], "check") == 0)
		return cmd_check(argc, argv);
	return usage("unknown command");
}
