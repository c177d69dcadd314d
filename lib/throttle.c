/* throttle.c: login throttling, counters of password attempts in Redis. */
#include "config.h"

#include <stdlib.h>

#include <hiredis/hiredis.h>

#include "board.h"
#include "cidr.h"
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

/*
 * KEYS: the counts; ARGV: the limit, the window. Refuses (returning the
 * longest wait) when a count is at the limit, else counts one on each.
 * A count at the limit without an expiry (it should not happen) gets one
 * here, so that it cannot lock for ever.
 */
static const char throttle_attempt_lua[] =
    "local max, win, wait = tonumber(ARGV[1]), tonumber(ARGV[2]), 0 "
    "for i, k in ipairs(KEYS) do "
    "if (tonumber(redis.call('GET', k)) or 0) >= max then "
    "local t = redis.call('TTL', k) "
    "if t == -1 then redis.call('EXPIRE', k, win) t = win end "
    "if t < 1 then t = 1 end "
    "if t > wait then wait = t end "
    "end end "
    "if wait > 0 then return wait end "
    "for i, k in ipairs(KEYS) do "
    "redis.call('INCR', k) "
    "if redis.call('TTL', k) < 0 then redis.call('EXPIRE', k, win) end "
    "end return 0";

enum board_err
throttle_attempt(struct redis *r, const struct conf *c, const char *username,
    const char *addr, long *retry_after)
{
	redisReply *reply;
	char key[CIDR_KEY_MAX];
	enum board_err rc;

	*retry_after = 0;
	cidr_client_key(addr != NULL ? addr : "", key);	/* IPv6: its /64 */
	/*
	 * Sent again on a new connection after an I/O error on an old one
	 * (Redis restarted): otherwise every worker's first login after a
	 * restart would be a 503. A reply lost after Redis ran the script
	 * then counts the attempt twice, which errs on the safe side.
	 */
	if (key[0] != '\0')
		rc = redis_command(r, &reply, "login count",
		    REDIS_EXEC_IDEMPOTENT, "EVAL %s 2 " THROTTLE_KEY_USER "%s "
		    THROTTLE_KEY_ADDR "%s %ld %ld", throttle_attempt_lua,
		    username, key, c->login_max_failures, c->login_window);
	else
		rc = redis_command(r, &reply, "login count",
		    REDIS_EXEC_IDEMPOTENT, "EVAL %s 1 " THROTTLE_KEY_USER "%s "
		    "%ld %ld", throttle_attempt_lua, username,
		    c->login_max_failures, c->login_window);
	if (rc != BOARD_OK)
		return rc;
	*retry_after = throttle_reply_long(reply);
	freeReplyObject(reply);
	return *retry_after > 0 ? BOARD_EDENIED : BOARD_OK;
}

/* KEYS[1]: the username's count, cleared; KEYS[2]: one off the address's. */
static const char throttle_succeeded_lua[] =
    "redis.call('DEL', KEYS[1]) "
    "if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 1 and "
    "redis.call('DECR', KEYS[2]) <= 0 then redis.call('DEL', KEYS[2]) end "
    "return 0";

enum board_err
throttle_succeeded(struct redis *r, const char *username, const char *addr)
{
	char key[CIDR_KEY_MAX];

	/*
	 * Not idempotent with an address: resent, it would take back two
	 * attempts. Without one, a DEL, which needs no EVAL either.
	 */
	cidr_client_key(addr != NULL ? addr : "", key);
	if (key[0] != '\0')
		return redis_command(r, NULL, "login clear", 0, "EVAL %s 2 "
		    THROTTLE_KEY_USER "%s " THROTTLE_KEY_ADDR "%s",
		    throttle_succeeded_lua, username, key);
	return redis_command(r, NULL, "login clear", REDIS_EXEC_IDEMPOTENT,
	    "DEL " THROTTLE_KEY_USER "%s", username);
}
