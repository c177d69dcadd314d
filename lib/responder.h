/* responder.h: start-up, routing, per-request work. */
#ifndef BOARD_RESPONDER_H
#define BOARD_RESPONDER_H

#include "board.h"
#include "cidr.h"
#include "conf.h"
#include "http.h"
#include "password.h"
#include "secret.h"
#include "session.h"
#include "store.h"

/* What every handler may use: opened once per process, kept open. */
struct board {
	const char *name;		/* "signup", "login", "posts" */
	struct conf conf;
	struct store *store;
	struct session_store *sessions;
	struct secret_source *secrets;
	struct password_cost cost;
	struct cidr_list *trusted;	/* proxies whose X-Forwarded-For
					   counts */
};

/*
 * A handler. s is the signed-in session for a ROUTE_SESSION route (loaded
 * by responder_handle, borrowed for the call), NULL for any other route.
 */
typedef void route_fn(struct board *b, struct req *rq,
    const struct session *s, struct resp *rs);

/* Route flags: preconditions responder_handle checks before the handler. */
enum {
	/* Needs a signed-in session: 401 unauthorized without one, 503
	 * when Redis is down. */
	ROUTE_SESSION = 1 << 0,
};

/*
 * A route: method, path, handler and flags (ROUTE_*, or 0). A path ending
 * in "/{id}" matches one more non-empty segment (the id), which handlers
 * read with route_tail().
 */
struct route {
	const char *method;
	const char *path;
	route_fn *fn;
	unsigned flags;
};

/* Opens everything from the configuration. On failure returns non-OK and
 * *errmsg (one line naming the setting). */
enum board_err board_open(struct board *b, const char *name, char **errmsg);
void board_close(struct board *b);

/*
 * Handles one request in-process: /api/health, then unknown path (404) or
 * method (405 with Allow), bad_origin (403), 413, 415, the route's
 * preconditions (ROUTE_SESSION: 401 or 503), then the route's handler.
 * Never leaves rs->status 0.
 */
void responder_handle(struct board *b, const struct route *routes,
    struct req *rq, struct resp *rs);

/*
 * main() of a responder: opens the board, serves FastCGI on fd 0 (as
 * spawn-fcgi, multiwatch, lighttpd and systemd hand it over) until
 * SIGTERM/SIGINT, finishing the request in hand. Returns the exit code.
 */
int responder_run(const char *name, const struct route *routes,
    int argc, char **argv);

/* The last path segment matched by a "/{id}" route (borrowed from rq). */
const char *route_tail(const struct req *rq);

#endif
