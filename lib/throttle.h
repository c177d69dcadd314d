/* throttle.h: login throttling, counters of password attempts in Redis. */
#ifndef BOARD_THROTTLE_H
#define BOARD_THROTTLE_H

#include "board.h"
#include "conf.h"
#include "redis.h"

/*
 * Password attempts are counted per username and per client address (addr,
 * an IPv6 one by its /64: cidr_client_key(); NULL or "" counts the
 * username only), each count living for the window
 * (BOARD_LOGIN_WINDOW) from its first attempt; a right password takes its
 * attempt back, so what stays counted are the failures. At the limit
 * (BOARD_LOGIN_MAX_FAILURES) on either, logins are refused (API.md 429).
 * c is the configuration as conf_load() fills it; r is borrowed.
 */

/*
 * One attempt at a password, counted before the password is checked (the
 * security review: counting after it failed open). When neither count is
 * at the limit, both go up by one, atomically, and BOARD_OK says the
 * password may be checked; on success throttle_succeeded() takes the
 * attempt back. BOARD_EDENIED with *retry_after set to the seconds until
 * the longer-locked count expires (nothing counted). BOARD_EUNAVAIL when
 * it could not count, Redis down or EVAL refused (an ACL without
 * @scripting): then no password may be checked, so a guess never gets an
 * answer. After an I/O error on a connection that was open it is sent once
 * more on a new one, so a lost reply may count the attempt twice.
 */
enum board_err throttle_attempt(struct redis *r, const struct conf *c,
    const char *username, const char *addr, long *retry_after);

/*
 * After a right password: clears the username's count and, when addr is
 * given (after throttle_attempt), takes that attempt back from the
 * address's count, which keeps the address's earlier failures. NULL addr
 * clears the username's count only.
 */
enum board_err throttle_succeeded(struct redis *r, const char *username,
    const char *addr);

#endif
