/* redis-fixture.h: a private redis-server for unit tests, and a dead one. */
#ifndef BOARD_REDIS_FIXTURE_H
#define BOARD_REDIS_FIXTURE_H

#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

/*
 * Starts redis-server listening on the unix socket path (no TCP port
 * unless args name one), keeping its files in path's directory and
 * nothing on disk; args are more options, NULL-terminated, or NULL.
 * Waits at most 5 s for it to answer PING. false when it did not start.
 */
bool fixture_redis_start(const char *path, const char *const *args,
    pid_t *pid);

/* Stops it (SIGTERM, at most 5 s, then SIGKILL); *pid is -1 after. */
void fixture_redis_stop(pid_t *pid);

/* One command on a new connection to path; NULL when it cannot connect. */
redisReply *fixture_redis_cmd(const char *path, const char *fmt, ...);
redisReply *fixture_redis_vcmd(const char *path, const char *fmt,
    va_list ap);

/* The integer reply to fmt with one %s argument; -99 when not one. */
long long fixture_redis_int(const char *path, const char *fmt,
    const char *arg);

/*
 * A loopback TCP port that was free a moment ago: a Redis URL naming it
 * finds nothing listening.
 */
int fixture_free_port(void);

/* Seconds on the monotonic clock, for bounding how long calls take. */
double fixture_now_s(void);

#endif
