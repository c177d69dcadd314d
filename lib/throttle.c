/* throttle.c: login throttling, counters of failed logins in Redis. */
#include "config.h"

#include <stdlib.h>

#include <hiredis/hiredis.h>

#include "board.h"
#include "redis.h"
#include "throttle.h"

#define THROTTLE_KEY_USER	"board:fail:user:"
#define THROTTLE_KEY_ADDR	"board:fail:addr:"

static long
throttle_reply_long(const redisReply *r)
{
	if (r->type == REDIS_REPLY_INTEGER)
		return (long)r->integer;
	if (r->type == REDIS_REPLY_STRING)
		return strtol(r->str, NULL, 10);
	return 0;
}

enum board_err
throttle_check(struct redis *r, const struct conf *c, const char *username,
    const char *addr, long *retry_after)
{
	struct redis_cmds cmds;
	redisReply *reply[4] = { NULL, NULL, NULL, NULL };
	size_t n;
	enum board_err rc;

	*retry_after = 0;
	redis_cmds_init(&cmds);
	redis_cmds_add(&cmds, "GET " THROTTLE_KEY_USER "%s", username);
	redis_cmds_add(&cmds, "TTL " THROTTLE_KEY_USER "%s", username);
	if (addr != NULL && addr[0] != '\0') {
		redis_cmds_add(&cmds, "GET " THROTTLE_KEY_ADDR "%s", addr);
		redis_cmds_add(&cmds, "TTL " THROTTLE_KEY_ADDR "%s", addr);
	}
	n = cmds.n;
	rc = redis_exec(r, &cmds, reply, "login check", REDIS_EXEC_IDEMPOTENT);
	if (rc != BOARD_OK)
		return rc;
	for (size_t i = 0; i < n; i += 2) {
		long ttl;

		if (throttle_reply_long(reply[i]) < c->login_max_failures)
			continue;
		ttl = throttle_reply_long(reply[i + 1]);
		if (ttl <= 0)	/* no expiry (-1) should not happen */
			ttl = ttl == -1 ? c->login_window : 1;
		if (ttl > *retry_after)
			*retry_after = ttl;
		rc = BOARD_EDENIED;
	}
	for (size_t i = 0; i < n; i++)
		freeReplyObject(reply[i]);
	return rc;
}

/*
 * Counts a failure on each key, atomically giving a key its window when
 * it has none: a counter can never be left without an expiry.
 */
static const char throttle_fail_lua[] =
    "for i, k in ipairs(KEYS) do "
    "redis.call('INCR', k) "
    "if redis.call('TTL', k) < 0 then redis.call('EXPIRE', k, ARGV[1]) end "
    "end return 0";

enum board_err
throttle_failed(struct redis *r, const struct conf *c, const char *username,
    const char *addr)
{
	/* Not idempotent: a lost reply must not count a failure twice. */
	if (addr != NULL && addr[0] != '\0')
		return redis_command(r, "login count", 0, "EVAL %s 2 "
		    THROTTLE_KEY_USER "%s " THROTTLE_KEY_ADDR "%s %ld",
		    throttle_fail_lua, username, addr, c->login_window);
	return redis_command(r, "login count", 0, "EVAL %s 1 "
	    THROTTLE_KEY_USER "%s %ld", throttle_fail_lua, username,
	    c->login_window);
}

enum board_err
throttle_succeeded(struct redis *r, const char *username)
{
	return redis_command(r, "login clear", REDIS_EXEC_IDEMPOTENT,
	    "DEL " THROTTLE_KEY_USER "%s", username);
}
