/* throttle.h: login throttling, counters of failed logins in Redis. */
#ifndef BOARD_THROTTLE_H
#define BOARD_THROTTLE_H

#include "board.h"
#include "conf.h"
#include "redis.h"

/*
 * Failed logins are counted per username and per client address (addr;
 * NULL or "" counts the username only), each count living for the window
 * (BOARD_LOGIN_WINDOW) from its first failure. Past the limit
 * (BOARD_LOGIN_MAX_FAILURES) on either, logins are refused (API.md 429).
 * c is the configuration as conf_load() fills it; r is borrowed.
 */

/*
 * BOARD_OK when a login may be tried; BOARD_EDENIED with *retry_after set
 * to the seconds until the longer-locked count expires; BOARD_EUNAVAIL.
 */
enum board_err throttle_check(struct redis *r, const struct conf *c,
    const char *username, const char *addr, long *retry_after);

/*
 * Counts one failure for the username and the address. Never sent twice,
 * so after an I/O error it may or may not have counted: BOARD_EUNAVAIL.
 */
enum board_err throttle_failed(struct redis *r, const struct conf *c,
    const char *username, const char *addr);

/* Clears the username's count after a successful login (not the address's). */
enum board_err throttle_succeeded(struct redis *r, const char *username);

#endif
