/* drain.h: a host leaves its load balancer before it stops. */
#ifndef BOARD_DRAIN_H
#define BOARD_DRAIN_H

#include <stdbool.h>

#include "conf.h"

/*
 * Is this host draining, i.e. does conf's drain_file exist? Then
 * /api/health answers 503 "draining" while every other request is served
 * as usual. One stat() per call; any error but "no such file" counts as
 * draining too, so a host whose file cannot be checked leaves rather than
 * stays.
 */
bool drain_is_on(const struct conf *c);

/*
 * `board-<name> --drain` and `--undrain` (systemd/board-drain.service,
 * script/server): the settings come from board.conf and the environment as
 * for a responder. --drain creates drain_file, then waits drain_seconds so
 * that the load balancer's health checks see the host fail and take it
 * out while it still serves; the caller stops the front server and the
 * responders after it. --undrain removes the file (a starting host).
 * Returns the exit status: 0, 1 on an error (one line on stderr), 2 for
 * a bad command line.
 */
int drain_command(const char *prog, int argc, char **argv);

#endif
