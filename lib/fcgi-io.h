/* fcgi-io.h: the only module that speaks FastCGI (libfcgi). */
#ifndef BOARD_FCGI_IO_H
#define BOARD_FCGI_IO_H

#include "board.h"
#include "http.h"

/* Answers one request: fills rs (empty, status 0) from rq. */
typedef void fcgi_io_handler_fn(void *ctx, struct req *rq, struct resp *rs);

/*
 * Prepares to serve FastCGI on fd 0, as spawn-fcgi, multiwatch, lighttpd
 * and systemd hand it over: BOARD_EINVAL when fd 0 is not a FastCGI socket
 * (started from a shell, or as plain CGI), BOARD_EINTERNAL (logged) when it
 * cannot be made non-blocking. Then installs the stop signals: SIGTERM,
 * SIGINT, SIGHUP and SIGUSR2 (multiwatch's for `systemctl reload`) end the
 * process once no request is in hand: they stay blocked except while
 * waiting for a connection, so a worker never exits between accepting a
 * connection and answering it. SIGPIPE is ignored. Call once, before
 * fcgi_io_serve().
 */
enum board_err fcgi_io_init(void);

/*
 * Accepts requests one at a time and answers each with fn(ctx, ...) until
 * a stop signal; returns then (with the stop signals still blocked), after
 * freeing what it holds. A request's body is read up to HTTP_BODY_MAX
 * bytes (more sets body_too_large; the rest is drained, never buffered).
 */
void fcgi_io_serve(fcgi_io_handler_fn *fn, void *ctx);

#endif
