/* redis.h: the Redis connection: REDIS_URL, pipelines, reconnecting. */
#ifndef BOARD_REDIS_H
#define BOARD_REDIS_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "board.h"

/*
 * One connection per process, opened on first use. After an I/O error or
 * an error reply it is dropped, and the next command reconnects.
 */
struct redis;

/*
 * Reads url, REDIS_URL's value: redis://[[user]:password@]host[:port][/db]
 * or unix:/path (also unix:///path), either with an optional ?db=N; NULL
 * or "" is redis://127.0.0.1:6379. Does not connect yet. BOARD_EINVAL with
 * *errmsg (caller frees) naming REDIS_URL, never showing the password.
 */
enum board_err redis_new(const char *url, struct redis **out,
    char **errmsg);
void redis_free(struct redis *r);

/* PING. BOARD_OK or BOARD_EUNAVAIL. */
enum board_err redis_ping(struct redis *r);

/* Commands to send in one round trip, kept in the wire format. */
struct redis_cmds {
	struct buf wire;
	size_t n;
};

void redis_cmds_init(struct redis_cmds *c);
void redis_cmds_cleanup(struct redis_cmds *c);

/*
 * Appends one command, formatted as hiredis's redisCommand() does: each
 * %s or %ld is one argument, whatever it holds.
 */
void redis_cmds_add(struct redis_cmds *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Flags of redis_exec(). */
enum {
	/*
	 * Sending the commands twice does no harm, so after an I/O error on
	 * a connection that was already open (Redis restarted, a failover,
	 * an idle timeout) they are sent once more on a new one.
	 */
	REDIS_EXEC_IDEMPOTENT = 1 << 0,
};

/*
 * Sends c's commands and reads their replies into replies[0 .. c->n),
 * which the caller frees with freeReplyObject(); with replies NULL they
 * are only checked and freed. what names the commands in log lines. c is
 * emptied either way. BOARD_OK, or BOARD_EUNAVAIL (logged) with every
 * replies[i] NULL after an I/O error or an error reply, the connection
 * then dropped.
 */
enum board_err redis_exec(struct redis *r, struct redis_cmds *c,
    redisReply **replies, const char *what, unsigned flags);

/*
 * One command through redis_exec(): its reply into *reply (caller frees;
 * NULL on failure), or, with reply NULL, only checked and freed.
 */
enum board_err redis_command(struct redis *r, redisReply **reply,
    const char *what, unsigned flags, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
