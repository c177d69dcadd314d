/* test-redis.c: REDIS_URL, connecting with AUTH and SELECT, pipelines,
 * reconnecting, and what error replies may log, against private Redis. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "board.h"
#include "redis-fixture.h"
#include "redis.h"
#include "tap.h"
#include "test-util.h"

static char tmpdir[] = "/tmp/test-redis.XXXXXX";
static char sock[600];
static pid_t redis_pid = -1;
static char logpath[700];

static void
test_urls(void)
{
	static const struct {
		const char *url;
		bool good;
	} cases[] = {
		{ "redis://127.0.0.1:6379", true },
		{ "redis://localhost", true },
		{ "redis://:pw@host:1/2", true },
		{ "redis://user:p%40ss@host:6380/0", true },
		{ "redis://[::1]:6379/3", true },
		{ "redis://host/", true },
		{ "unix:/run/redis.sock", true },
		{ "unix:///run/redis.sock?db=2", true },
		{ "rediss://host:6379", false },
		{ "http://host", false },
		{ "redis://host:0", false },
		{ "redis://host:99999", false },
		{ "redis://host:abc", false },
		{ "redis://host/x", false },
		{ "redis://host/1?foo=bar", false },
		{ "redis://[::1", false },
		{ "unix:relative.sock", false },
		{ "unix:/", false },
		{ "unix:/x?db=z", false },
		{ "redis://:p%4@host", false },
		/* Every other form read as the hand-written parser did. */
		{ "redis://", true },
		{ "redis://host?db=3", true },
		{ "redis://host/4?db=5", true },
		{ "redis://host:6379/", true },
		{ "redis://:p@ss@host", true },
		{ "redis://a@b:c@host:1/2", true },
		{ "redis://user@host", true },
		{ "redis://:@host", true },
		{ "redis://:pw@", true },
		{ "redis://:pw@:6380/1", true },
		{ "redis://:6380", true },
		{ "redis://:a%20b@host", true },
		{ "redis://:p%3A%2F%3F%23x@host", true },
		{ "redis://host/2147483647", true },
		{ "unix:////run/x.sock", true },
		{ "unix:/run/my%20redis.sock?db=1", true },
		{ "unix:/run/x#y.sock", true },
		{ "REDIS://host", false },
		{ "redis:/host", false },
		{ "redis:host", false },
		{ "redis://host:", false },
		{ "redis://[::1]:", false },
		{ "redis://host:+1", false },
		{ "redis://host:65536", false },
		{ "redis://host#frag", false },
		{ "redis://host/1#", false },
		{ "redis://host?db=1#x", false },
		{ "redis://host?", false },
		{ "redis://host?db=", false },
		{ "redis://host?db=1&x=2", false },
		{ "redis://host/2/3", false },
		{ "redis://host/-1", false },
		{ "redis://host/2147483648", false },
		{ "redis://host/%32", false },
		{ "redis://:p%00w@host", false },
		{ "redis://u%4:pw@host", false },
		{ "unix:", false },
		{ "unix://host/x.sock", false },
		{ "unix:/a%00b", false },
		{ "unix:/a%4", false },
		{ "unix:/x?", false },
		{ "unix:/x?db=1&x=2", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct redis *r = NULL;
		char *errmsg = NULL;
		enum board_err rc;

		rc = redis_new(cases[i].url, &r, &errmsg);
		if (cases[i].good)
			ok(rc == BOARD_OK && r != NULL && errmsg == NULL,
			    "REDIS_URL %s accepted", cases[i].url);
		else
			ok(rc == BOARD_EINVAL && r == NULL && errmsg != NULL &&
			    strstr(errmsg, "REDIS_URL") != NULL,
			    "REDIS_URL %s rejected: %s", cases[i].url,
			    errmsg ? errmsg : "(null)");
		redis_free(r);
		free(errmsg);
	}
	{
		static const char *const leaky[] = {
			"redis://:topsecretpw@host:bad",
			"redis://:topsecretpw@host/x",
			"redis://:topsecretpw@ho st",
			"redis://user:topsecretpw%4@host",
		};
		size_t hidden = 0;

		for (size_t i = 0; i < 4; i++) {
			struct redis *r = NULL;
			char *errmsg = NULL;

			redis_new(leaky[i], &r, &errmsg);
			if (errmsg != NULL &&
			    strstr(errmsg, "topsecretpw") == NULL)
				hidden++;
			else
				diag("%s: %s", leaky[i], errmsg);
			free(errmsg);
			redis_free(r);
		}
		is_int(hidden, 4, "the error never shows the password");
	}
	{
		struct redis *r = NULL;
		char *errmsg = NULL;

		is_int(redis_new(NULL, &r, &errmsg), BOARD_OK,
		    "no REDIS_URL: the default");
		redis_free(r);
		is_int(redis_new("", &r, &errmsg), BOARD_OK,
		    "an empty REDIS_URL: the default");
		redis_free(r);
	}
}

static void
test_dead(void)
{
	struct redis *r = NULL;
	redisReply *one = NULL;
	char *errmsg = NULL, url[700];
	double t0;

	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", fixture_free_port());
	is_int(redis_new(url, &r, &errmsg), BOARD_OK, "dead TCP Redis");
	t0 = fixture_now_s();
	is_int(redis_ping(r), BOARD_EUNAVAIL, "ping: unavailable");
	is_int(redis_command(r, &one, "test", REDIS_EXEC_IDEMPOTENT, "GET %s",
	    "k"), BOARD_EUNAVAIL, "a command: unavailable");
	ok(one == NULL, "  with no reply");
	ok(fixture_now_s() - t0 < 2.0, "both within 2 s (%.3f s)",
	    fixture_now_s() - t0);
	redis_free(r);

	/* A socket path that does not exist. */
	snprintf(url, sizeof(url), "unix:%s/none.sock", tmpdir);
	is_int(redis_new(url, &r, &errmsg), BOARD_OK, "dead unix");
	is_int(redis_ping(r), BOARD_EUNAVAIL, "unix: unavailable");
	redis_free(r);
}

static void
test_pipeline(void)
{
	struct redis *r = NULL, *r2 = NULL;
	struct redis_cmds c;
	redisReply *reply[3] = { NULL, NULL, NULL }, *one;
	char *errmsg = NULL, url[700];

	snprintf(url, sizeof(url), "unix:%s", sock);
	is_int(redis_new(url, &r, &errmsg), BOARD_OK, "a unix: URL");
	is_int(redis_ping(r), BOARD_OK, "PING");

	redis_cmds_init(&c);
	redis_cmds_add(&c, "SET %s %s", "pipe key", "a value with spaces");
	redis_cmds_add(&c, "APPEND %s %s", "pipe key", "!");
	redis_cmds_add(&c, "GET %s", "pipe key");
	is_int(c.n, 3, "three commands queued");
	is_int(redis_exec(r, &c, reply, "test", REDIS_EXEC_IDEMPOTENT),
	    BOARD_OK, "a pipeline of three");
	is_int(c.n, 0, "and the list emptied");
	ok(reply[0] != NULL && reply[0]->type == REDIS_REPLY_STATUS,
	    "  SET's reply first");
	ok(reply[1] != NULL && reply[1]->type == REDIS_REPLY_INTEGER &&
	    reply[1]->integer == 20, "  APPEND's second");
	ok(reply[2] != NULL && reply[2]->type == REDIS_REPLY_STRING &&
	    strcmp(reply[2]->str, "a value with spaces!") == 0,
	    "  GET's last: each %%s one argument");
	for (int i = 0; i < 3; i++)
		freeReplyObject(reply[i]);

	/* An error reply anywhere fails the lot. */
	redis_cmds_init(&c);
	redis_cmds_add(&c, "GET %s", "pipe key");
	redis_cmds_add(&c, "INCR %s", "pipe key");
	is_int(redis_exec(r, &c, reply, "test", REDIS_EXEC_IDEMPOTENT),
	    BOARD_EUNAVAIL, "an error reply is unavailable");
	ok(reply[0] == NULL && reply[1] == NULL, "  with no replies");
	is_int(redis_ping(r), BOARD_OK, "  and the next use reconnects");

	/* Without a replies array they are checked and freed. */
	redis_cmds_init(&c);
	redis_cmds_add(&c, "SET %s %s", "unread", "1");
	redis_cmds_add(&c, "INCR %s", "unread");
	is_int(redis_exec(r, &c, NULL, "test", REDIS_EXEC_IDEMPOTENT),
	    BOARD_OK, "a pipeline whose replies are not wanted");
	one = fixture_redis_cmd(sock, "GET %s", "unread");
	ok(one != NULL && one->type == REDIS_REPLY_STRING &&
	    strcmp(one->str, "2") == 0, "  ran both commands");
	freeReplyObject(one);
	redis_cmds_init(&c);
	redis_cmds_add(&c, "GET %s", "pipe key");
	redis_cmds_add(&c, "INCR %s", "pipe key");
	is_int(redis_exec(r, &c, NULL, "test", REDIS_EXEC_IDEMPOTENT),
	    BOARD_EUNAVAIL, "  and still fail on an error reply");

	/* ?db=N selects the database. */
	snprintf(url, sizeof(url), "unix://%s?db=2", sock);
	is_int(redis_new(url, &r2, &errmsg), BOARD_OK, "a unix:// URL with"
	    " ?db=2");
	is_int(redis_command(r2, NULL, "test", REDIS_EXEC_IDEMPOTENT,
	    "SET %s two", "db key"), BOARD_OK, "SET in database 2");
	one = fixture_redis_cmd(sock, "GET %s", "db key");
	ok(one != NULL && one->type == REDIS_REPLY_NIL,
	    "  not in database 0");
	freeReplyObject(one);
	one = fixture_redis_cmd(sock, "EVAL %s 1 %s",
	    "redis.call('SELECT', 2) return redis.call('GET', KEYS[1])",
	    "db key");
	ok(one != NULL && one->type == REDIS_REPLY_STRING &&
	    strcmp(one->str, "two") == 0, "  but in database 2");
	freeReplyObject(one);
	redis_free(r2);
	redis_free(r);
}

/* AUTH (with and without a user) and SELECT over TCP, read from the URL. */
static void
test_auth(void)
{
	static const char pw[] = "p@ss:w/rd%";
	char path[700], port[16], url[700];
	const char *args[] = { "--port", port, "--bind", "127.0.0.1",
	    "--requirepass", pw, NULL };
	pid_t pid = -1;
	int p = fixture_free_port();
	/* The password encoded (or not) as a URL's userinfo, and the rest. */
	static const struct {
		const char *userinfo, *rest;
		enum board_err want;
		const char *what;
	} cases[] = {
		{ ":p%40ss%3Aw%2Frd%25@", "", BOARD_OK,
		    "the password, percent-encoded" },
		{ ":p@ss%3Aw%2Frd%25@", "/3", BOARD_OK,
		    "a raw '@' in it, as Node reads it; and SELECT 3" },
		{ "default:p%40ss%3Aw%2Frd%25@", "?db=1", BOARD_OK,
		    "user and password (Redis 6 ACL)" },
		{ "", "", BOARD_EUNAVAIL, "no password: unavailable" },
		{ ":wrongpw@", "", BOARD_EUNAVAIL,
		    "a wrong password: unavailable" },
		{ "nobody:p%40ss%3Aw%2Frd%25@", "", BOARD_EUNAVAIL,
		    "an unknown user: unavailable" },
	};

	snprintf(path, sizeof(path), "%s/auth.sock", tmpdir);
	snprintf(port, sizeof(port), "%d", p);
	if (!fixture_redis_start(path, args, &pid)) {
		ok(0, "redis-server with requirepass on 127.0.0.1:%d", p);
		return;
	}
	test_log_capture(logpath);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct redis *r = NULL;
		char *errmsg = NULL;

		snprintf(url, sizeof(url), "redis://%s127.0.0.1:%d%s",
		    cases[i].userinfo, p, cases[i].rest);
		if (redis_new(url, &r, &errmsg) != BOARD_OK) {
			ok(0, "%s: %s", cases[i].what, errmsg);
			free(errmsg);
			continue;
		}
		is_int(redis_ping(r), cases[i].want, "%s", cases[i].what);
		redis_free(r);
	}
	{
		const char *text = test_log_captured();

		ok(strstr(text, "wrongpw") == NULL && strstr(text, pw) == NULL,
		    "the log never shows a password");
		ok(strstr(text, "AUTH") != NULL, "but names the AUTH failure");
	}
	fixture_redis_stop(&pid);
}

/* Redis restarts: unavailable while down, then reconnects by itself. */
static void
test_reconnect(void)
{
	struct redis *r = NULL;
	redisReply *one;
	char *errmsg = NULL, url[700];

	snprintf(url, sizeof(url), "unix:%s", sock);
	redis_new(url, &r, &errmsg);
	is_int(redis_ping(r), BOARD_OK, "connected");
	fixture_redis_stop(&redis_pid);
	is_int(redis_ping(r), BOARD_EUNAVAIL, "Redis down: PING unavailable");
	ok(fixture_redis_start(sock, NULL, &redis_pid), "Redis restarted");
	is_int(redis_ping(r), BOARD_OK, "reconnected");

	/* The same Redis restarted underneath an open connection. */
	fixture_redis_stop(&redis_pid);
	ok(fixture_redis_start(sock, NULL, &redis_pid),
	    "Redis restarted again");
	is_int(redis_command(r, NULL, "test", REDIS_EXEC_IDEMPOTENT,
	    "SET %s 1", "stale"), BOARD_OK, "an idempotent command on a stale"
	    " connection is sent again at once on a new one");

	fixture_redis_stop(&redis_pid);
	ok(fixture_redis_start(sock, NULL, &redis_pid), "and again");
	is_int(redis_command(r, &one, "test", 0, "INCR %s", "counted"),
	    BOARD_EUNAVAIL,
	    "any other is not sent again (it may have been done)");
	ok(one == NULL, "  with no reply");
	is_int(redis_command(r, &one, "test", 0, "INCR %s", "counted"),
	    BOARD_OK, "the next call reconnects");
	ok(one != NULL && one->type == REDIS_REPLY_INTEGER &&
	    one->integer == 1, "  with its reply");
	freeReplyObject(one);
	one = fixture_redis_cmd(sock, "GET %s", "counted");
	ok(one != NULL && one->type == REDIS_REPLY_STRING &&
	    strcmp(one->str, "1") == 0, "counted once");
	freeReplyObject(one);
	redis_free(r);
}

/*
 * What a Redis error reply quotes is not logged: a Redis with GET disabled
 * answers "unknown command 'GET', with args beginning with: 'sess:<id>'".
 */
static void
test_error_log(void)
{
	static const char sid[] = "LogMustNotShowThisSid0123456789a";
	static const char *const args[] = { "--rename-command", "GET", "",
	    NULL };
	char path[700], url[800];
	struct redis *r = NULL;
	char *errmsg = NULL;
	const char *text;
	pid_t pid = -1;

	snprintf(path, sizeof(path), "%s/renamed.sock", tmpdir);
	if (!fixture_redis_start(path, args, &pid)) {
		ok(0, "redis-server with GET disabled starts");
		return;
	}
	snprintf(url, sizeof(url), "unix:%s", path);
	is_int(redis_new(url, &r, &errmsg), BOARD_OK,
	    "connection to a Redis without GET");
	test_log_capture(logpath);
	is_int(redis_command(r, NULL, "test", REDIS_EXEC_IDEMPOTENT,
	    "GET sess:%s", sid), BOARD_EUNAVAIL,
	    "GET: the error reply is unavailable");
	text = test_log_captured();
	ok(strstr(text, "unknown command") != NULL,
	    "the log still names the error");
	ok(strstr(text, sid) == NULL, "the log does not show the session id");
	if (strstr(text, sid) != NULL)
		diag("logged: %s", text);
	redis_free(r);
	fixture_redis_stop(&pid);
}

int
main(void)
{
	if (!test_tmpdir_new(tmpdir))
		return 2;
	snprintf(sock, sizeof(sock), "%s/redis.sock", tmpdir);
	snprintf(logpath, sizeof(logpath), "%s/stderr.log", tmpdir);

	test_urls();
	test_dead();
	if (fixture_redis_start(sock, NULL, &redis_pid)) {
		test_pipeline();
		test_auth();
		test_reconnect();
		test_error_log();
	} else {
		ok(0, "redis-server starts (is it installed?)");
	}
	fixture_redis_stop(&redis_pid);
	test_tmpdir_remove(tmpdir);
	return tap_done();
}
