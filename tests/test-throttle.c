/* test-throttle.c: login-attempt counters and their windows, against a
 * private Redis. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "board.h"
#include "conf.h"
#include "redis-fixture.h"
#include "redis.h"
#include "tap.h"
#include "test-util.h"
#include "throttle.h"

static char tmpdir[] = "/tmp/test-throttle.XXXXXX";
static char sock[600];
static pid_t redis_pid = -1;

/* A command to the test Redis on its own connection (caller frees). */
static redisReply *
raw(const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = fixture_redis_vcmd(sock, fmt, ap);
	va_end(ap);
	return r;
}

static long long
raw_int(const char *fmt, const char *arg)
{
	return fixture_redis_int(sock, fmt, arg);
}

/* GET of a count: its number, or -1 when the key does not exist. */
static long long
raw_get(const char *fmt, const char *arg)
{
	redisReply *r = raw(fmt, arg);
	long long v = -2;

	if (r != NULL && r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	else if (r != NULL && r->type == REDIS_REPLY_NIL)
		v = -1;
	freeReplyObject(r);
	return v;
}

/* The settings the tests count with: three failures in a minute. */
static void
limits(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->login_max_failures = 3;
	c->login_window = 60;
}

static void
test_dead(void)
{
	struct conf c;
	struct redis *r = NULL;
	char *errmsg = NULL, url[64];
	double t0;
	long ra;

	snprintf(url, sizeof(url), "redis://127.0.0.1:%d",
	    fixture_free_port());

	limits(&c);
	is_int(redis_new(url, &r, &errmsg), BOARD_OK, "dead Redis");
	t0 = fixture_now_s();
	is_int(throttle_attempt(r, &c, "u", "a", &ra), BOARD_EUNAVAIL,
	    "attempt");
	is_int(throttle_succeeded(r, "u", NULL), BOARD_EUNAVAIL, "succeeded");
	is_int(throttle_succeeded(r, "u", "a"), BOARD_EUNAVAIL,
	    "succeeded with an address");
	ok(fixture_now_s() - t0 < 2.0, "all within 2 s (%.3f s)",
	    fixture_now_s() - t0);
	redis_free(r);
}

static void
test_throttle(void)
{
	struct conf c;
	struct buf url;
	struct redis *ss = NULL;
	char *errmsg = NULL;
	long ra = -1;
	long long ttl;

	limits(&c);
	buf_init(&url);
	buf_printf(&url, "unix:%s", sock);
	is_int(redis_new(url.data, &ss, &errmsg), BOARD_OK, "store");

	for (int i = 0; i < 2; i++)
		is_int(throttle_attempt(ss, &c, "alice", "10.0.0.1", &ra),
		    BOARD_OK, "alice, attempt %d: allowed", i + 1);
	is_int(ra, 0, "retry_after 0");
	is_int(throttle_attempt(ss, &c, "alice", "10.0.0.1", &ra), BOARD_OK,
	    "third attempt counted");
	ttl = raw_int("TTL board:fail:user:%s", "alice");
	ok(ttl > 55 && ttl <= 60, "user key expires with the window (%lld)",
	    ttl);
	ttl = raw_int("TTL board:fail:addr:%s", "10.0.0.1");
	ok(ttl > 55 && ttl <= 60, "addr key expires with the window (%lld)",
	    ttl);
	is_int(throttle_attempt(ss, &c, "alice", "10.0.0.1", &ra),
	    BOARD_EDENIED, "3 counted: denied");
	ok(ra > 55 && ra <= 60, "Retry-After is the TTL left (%ld)", ra);
	is_int(throttle_attempt(ss, &c, "alice", "10.9.9.9", &ra),
	    BOARD_EDENIED, "the username is locked from any address");
	is_int(throttle_attempt(ss, &c, "bob", "10.0.0.1", &ra), BOARD_EDENIED,
	    "the address is locked for any username");
	is_int(throttle_attempt(ss, &c, "bob", "10.9.9.9", &ra), BOARD_OK,
	    "others are not");
	is_int(throttle_attempt(ss, &c, "bob", NULL, &ra), BOARD_OK,
	    "no address: username only");
	is_int(raw_int("EXISTS board:fail:addr:%s", ""), 0,
	    "  no empty addr key");

	freeReplyObject(raw("EXPIRE board:fail:user:%s 5", "alice"));
	is_int(throttle_attempt(ss, &c, "alice", "10.9.9.9", &ra),
	    BOARD_EDENIED, "still denied");
	ok(ra >= 4 && ra <= 5, "Retry-After follows the key's TTL (%ld)", ra);

	is_int(throttle_succeeded(ss, "alice", NULL), BOARD_OK, "succeeded");
	is_int(raw_int("EXISTS board:fail:user:%s", "alice"), 0,
	    "clears the username's count");
	is_int(raw_int("EXISTS board:fail:addr:%s", "10.0.0.1"), 1,
	    "not the address's (no address given)");
	is_int(throttle_attempt(ss, &c, "alice", "10.9.9.9", &ra), BOARD_OK,
	    "alice allowed again elsewhere");

	/* A counter somehow left without an expiry gets one. */
	freeReplyObject(raw("SET board:fail:user:%s 1", "carol"));
	throttle_attempt(ss, &c, "carol", NULL, &ra);
	ttl = raw_int("TTL board:fail:user:%s", "carol");
	ok(ttl > 55 && ttl <= 60, "a counter never stays without expiry");

	redis_free(ss);
	buf_cleanup(&url);
}

/* Counting before the password is checked (the security review). */
static void
test_attempt(void)
{
	struct conf c;
	struct redis *r = NULL;
	char *errmsg = NULL, url[700];
	long ra = -1;
	long long ttl;

	limits(&c);
	snprintf(url, sizeof(url), "unix:%s", sock);
	is_int(redis_new(url, &r, &errmsg), BOARD_OK, "store");

	for (int i = 0; i < 3; i++)
		is_int(throttle_attempt(r, &c, "dave", "10.0.0.4", &ra),
		    BOARD_OK, "attempt %d of 3: allowed", i + 1);
	is_int(raw_get("GET board:fail:user:%s", "dave"), 3,
	    "each attempt counted on the username before any check");
	is_int(raw_get("GET board:fail:addr:%s", "10.0.0.4"), 3,
	    "  and on the address");
	ttl = raw_int("TTL board:fail:user:%s", "dave");
	ok(ttl > 55 && ttl <= 60, "  with the window (%lld)", ttl);
	is_int(throttle_attempt(r, &c, "dave", "10.0.0.9", &ra), BOARD_EDENIED,
	    "the fourth: denied");
	ok(ra > 55 && ra <= 60, "  Retry-After is the TTL left (%ld)", ra);
	is_int(raw_get("GET board:fail:addr:%s", "10.0.0.9"), -1,
	    "  a denied attempt counts nothing (no key for its address)");
	is_int(throttle_attempt(r, &c, "erin", "10.0.0.4", &ra), BOARD_EDENIED,
	    "the address is locked for any username");

	/* A right password takes its own attempt back, not the others. */
	is_int(throttle_attempt(r, &c, "frank", "10.0.0.5", &ra), BOARD_OK,
	    "frank: one attempt");
	is_int(throttle_attempt(r, &c, "frank", "10.0.0.5", &ra), BOARD_OK,
	    "frank: a second attempt");
	is_int(throttle_succeeded(r, "frank", "10.0.0.5"), BOARD_OK,
	    "frank: the second was right");
	is_int(raw_int("EXISTS board:fail:user:%s", "frank"), 0,
	    "  the username's count is cleared");
	is_int(raw_get("GET board:fail:addr:%s", "10.0.0.5"), 1,
	    "  the address keeps the first (wrong) attempt");
	is_int(throttle_succeeded(r, "frank", "10.0.0.5"), BOARD_OK,
	    "another success from there");
	is_int(raw_int("EXISTS board:fail:addr:%s", "10.0.0.5"), 0,
	    "  takes the address's count to nothing (key gone)");
	is_int(throttle_succeeded(r, "frank", "10.0.0.5"), BOARD_OK,
	    "a success with no count left");
	is_int(raw_int("EXISTS board:fail:addr:%s", "10.0.0.5"), 0,
	    "  leaves no key (never below zero, never without expiry)");
	/* Many right passwords from one address (a NAT) never lock it. */
	for (int i = 0; i < 10; i++) {
		throttle_attempt(r, &c, "gina", "10.0.0.6", &ra);
		throttle_succeeded(r, "gina", "10.0.0.6");
	}
	is_int(throttle_attempt(r, &c, "gina", "10.0.0.6", &ra), BOARD_OK,
	    "ten right passwords from one address do not lock it");

	/* A count at the limit with no expiry gets one, and still denies. */
	freeReplyObject(raw("SET board:fail:user:%s 3", "hank"));
	is_int(throttle_attempt(r, &c, "hank", NULL, &ra), BOARD_EDENIED,
	    "a full count without expiry denies");
	ttl = raw_int("TTL board:fail:user:%s", "hank");
	ok(ttl > 55 && ttl <= 60 && ra == ttl,
	    "  and gets the window (TTL %lld, Retry-After %ld)", ttl, ra);
	redis_free(r);
}

/*
 * The review's case: an ACL without @scripting, GET still allowed. The
 * attempt cannot be counted, so it is refused, whatever the password.
 */
static void
test_acl_no_eval(void)
{
	struct conf c;
	struct redis *r = NULL;
	redisReply *rep;
	char *errmsg = NULL, url[700];
	long ra = -1;

	limits(&c);
	snprintf(url, sizeof(url), "unix:%s", sock);
	is_int(redis_new(url, &r, &errmsg), BOARD_OK, "store");
	rep = raw("ACL SETUSER default -@scripting");
	ok(rep != NULL && rep->type == REDIS_REPLY_STATUS,
	    "the default user loses @scripting");
	freeReplyObject(rep);
	rep = raw("GET board:fail:user:%s", "ivan");
	ok(rep != NULL && rep->type == REDIS_REPLY_NIL, "GET still works");
	freeReplyObject(rep);
	is_int(throttle_attempt(r, &c, "ivan", "10.0.0.7", &ra),
	    BOARD_EUNAVAIL, "an attempt that cannot be counted is refused");
	is_int(throttle_attempt(r, &c, "ivan", "10.0.0.7", &ra),
	    BOARD_EUNAVAIL, "  every time");
	is_int(throttle_succeeded(r, "ivan", NULL), BOARD_OK,
	    "clearing the username needs no EVAL");
	freeReplyObject(raw("ACL SETUSER default +@all"));
	is_int(throttle_attempt(r, &c, "ivan", "10.0.0.7", &ra), BOARD_OK,
	    "with EVAL back, attempts count again");
	redis_free(r);
}

/*
 * After Redis restarts, an attempt goes again on a new connection (the
 * first login after a restart is not a 503); a give-back does not.
 */
static void
test_restart(void)
{
	struct conf c;
	struct redis *r = NULL;
	char *errmsg = NULL, url[700];
	long ra;

	limits(&c);
	snprintf(url, sizeof(url), "unix:%s", sock);
	is_int(redis_new(url, &r, &errmsg), BOARD_OK, "store");
	is_int(throttle_succeeded(r, "u", NULL), BOARD_OK, "connected");
	fixture_redis_stop(&redis_pid);
	ok(fixture_redis_start(sock, NULL, &redis_pid), "Redis restarted");
	is_int(throttle_attempt(r, &c, "u", "10.0.0.8", &ra), BOARD_OK,
	    "an attempt is sent again on a new connection");
	is_int(raw_get("GET board:fail:user:%s", "u"), 1, "  and counted once");
	fixture_redis_stop(&redis_pid);
	ok(fixture_redis_start(sock, NULL, &redis_pid), "Redis restarted");
	is_int(throttle_succeeded(r, "u", "10.0.0.8"), BOARD_EUNAVAIL,
	    "a give-back is not resent (it may have been done)");
	is_int(throttle_succeeded(r, "u", "10.0.0.8"), BOARD_OK,
	    "the next call reconnects");
	redis_free(r);
}

int
main(void)
{
	if (!test_tmpdir_new(tmpdir))
		return 2;
	snprintf(sock, sizeof(sock), "%s/redis.sock", tmpdir);

	test_dead();
	if (fixture_redis_start(sock, NULL, &redis_pid)) {
		test_throttle();
		test_attempt();
		test_acl_no_eval();
		test_restart();
	} else {
		ok(0, "redis-server starts (is it installed?)");
	}
	fixture_redis_stop(&redis_pid);
	test_tmpdir_remove(tmpdir);
	return tap_done();
}
