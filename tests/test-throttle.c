/* test-throttle.c: failed-login counters and their windows, against a
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
	is_int(throttle_check(r, &c, "u", "a", &ra), BOARD_EUNAVAIL, "check");
	is_int(throttle_failed(r, &c, "u", "a"), BOARD_EUNAVAIL, "failed");
	is_int(throttle_succeeded(r, "u"), BOARD_EUNAVAIL, "succeeded");
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

	memset(&c, 0, sizeof(c));
	buf_init(&url);
	buf_printf(&url, "unix:%s", sock);
	c.login_max_failures = 3;
	c.login_window = 60;
	is_int(redis_new(url.data, &ss, &errmsg), BOARD_OK, "store");

	is_int(throttle_check(ss, &c, "alice", "10.0.0.1", &ra), BOARD_OK,
	    "no failures: allowed");
	is_int(ra, 0, "retry_after 0");
	for (int i = 0; i < 2; i++)
		throttle_failed(ss, &c, "alice", "10.0.0.1");
	is_int(throttle_check(ss, &c, "alice", "10.0.0.1", &ra), BOARD_OK,
	    "2 of 3 failures: allowed");
	is_int(throttle_failed(ss, &c, "alice", "10.0.0.1"), BOARD_OK,
	    "third failure counted");
	ttl = raw_int("TTL board:fail:user:%s", "alice");
	ok(ttl > 55 && ttl <= 60, "user key expires with the window (%lld)",
	    ttl);
	ttl = raw_int("TTL board:fail:addr:%s", "10.0.0.1");
	ok(ttl > 55 && ttl <= 60, "addr key expires with the window (%lld)",
	    ttl);
	is_int(throttle_check(ss, &c, "alice", "10.0.0.1", &ra), BOARD_EDENIED,
	    "3 failures: denied");
	ok(ra > 55 && ra <= 60, "Retry-After is the TTL left (%ld)", ra);
	is_int(throttle_check(ss, &c, "alice", "10.9.9.9", &ra), BOARD_EDENIED,
	    "the username is locked from any address");
	is_int(throttle_check(ss, &c, "bob", "10.0.0.1", &ra), BOARD_EDENIED,
	    "the address is locked for any username");
	is_int(throttle_check(ss, &c, "bob", "10.9.9.9", &ra), BOARD_OK,
	    "others are not");
	is_int(throttle_check(ss, &c, "bob", NULL, &ra), BOARD_OK,
	    "no address: username only");

	throttle_failed(ss, &c, "alice", "10.0.0.1");
	ttl = raw_int("TTL board:fail:user:%s", "alice");
	ok(ttl > 55 && ttl <= 60, "further failures keep the window (%lld)",
	    ttl);
	freeReplyObject(raw("EXPIRE board:fail:user:%s 5", "alice"));
	is_int(throttle_check(ss, &c, "alice", "10.9.9.9", &ra), BOARD_EDENIED,
	    "still denied");
	ok(ra >= 4 && ra <= 5, "Retry-After follows the key's TTL (%ld)", ra);

	is_int(throttle_succeeded(ss, "alice"), BOARD_OK, "succeeded");
	is_int(raw_int("EXISTS board:fail:user:%s", "alice"), 0,
	    "clears the username's count");
	is_int(raw_int("EXISTS board:fail:addr:%s", "10.0.0.1"), 1,
	    "not the address's");
	is_int(throttle_check(ss, &c, "alice", "10.9.9.9", &ra), BOARD_OK,
	    "alice allowed again elsewhere");

	/* A counter somehow left without an expiry gets one on failure. */
	freeReplyObject(raw("SET board:fail:user:%s 1", "carol"));
	throttle_failed(ss, &c, "carol", NULL);
	ttl = raw_int("TTL board:fail:user:%s", "carol");
	ok(ttl > 55 && ttl <= 60, "a counter never stays without expiry");
	is_int(raw_int("EXISTS board:fail:addr:%s", ""), 0,
	    "no empty addr key");

	redis_free(ss);
	buf_cleanup(&url);
}

/* A failure count lost with its connection is not sent again. */
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
	is_int(throttle_check(r, &c, "u", NULL, &ra), BOARD_OK, "connected");
	fixture_redis_stop(&redis_pid);
	ok(fixture_redis_start(sock, NULL, &redis_pid), "Redis restarted");
	is_int(throttle_failed(r, &c, "u", NULL), BOARD_EUNAVAIL,
	    "a failure count is not resent (it may have been counted)");
	is_int(throttle_failed(r, &c, "u", NULL), BOARD_OK,
	    "the next call reconnects");
	redis_free(r);
}

int
main(void)
{
	char cmd[700];

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(sock, sizeof(sock), "%s/redis.sock", tmpdir);

	test_dead();
	if (fixture_redis_start(sock, NULL, &redis_pid)) {
		test_throttle();
		test_restart();
	} else {
		ok(0, "redis-server starts (is it installed?)");
	}
	fixture_redis_stop(&redis_pid);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return tap_done();
}
