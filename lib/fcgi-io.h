/* fcgi-io.h: the only module that speaks FastCGI (libfcgi). */
#ifndef BOARD_FCGI_IO_H
#define BOARD_FCGI_IO_H

#include <signal.h>

#include <fcgiapp.h>

#include "http.h"

/*
 * Makes the listening socket (fd 0, shared by every worker of a responder)
 * non-blocking, for fcgi_io_wait(). BOARD_EINTERNAL (logged) on failure.
 */
enum board_err fcgi_io_listen_init(void);

/*
 * Waits until a connection is queued on the listening socket, with the
 * signal mask set to mask for the wait only (ppoll), so that a stop or
 * reload signal, blocked at every other moment, can land only here: never
 * between accept() and the answer. BOARD_OK: call FCGX_Accept_r() now (it
 * returns -EAGAIN when another worker took the connection first: wait
 * again); BOARD_ENOTFOUND: a signal handler ran instead; BOARD_EINTERNAL
 * (logged): the wait failed.
 */
enum board_err fcgi_io_wait(const sigset_t *mask);

/*
 * Fills rq from a FastCGI request: the parameters API.md needs and the body,
 * read up to HTTP_BODY_MAX bytes (more sets body_too_large; the rest is
 * read and dropped in small chunks, never buffered).
 */
void fcgi_io_read(FCGX_Request *fr, struct req *rq);

/* Writes rs as a CGI response (Status line, headers, body). HEAD requests
 * get the headers only. */
void fcgi_io_write(FCGX_Request *fr, const struct req *rq,
    const struct resp *rs);

/*
 * Ends the request. libfcgi's own close half-closes the socket and then
 * waits for the front server to close first, in case more input follows;
 * once the input stream has been read to its end nothing can follow, so
 * the connection is closed at once instead (a third of a small request's
 * system-call time in the benchmark).
 */
void fcgi_io_finish(FCGX_Request *fr);

#endif
