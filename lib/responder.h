/* responder.h: start-up, the FastCGI loop, routing, per-request work. */
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
	struct cidr_list *trusted;	/* proxies whose X-Forwarded-For counts */
};

typedef void route_fn(struct board *b, struct req *rq, struct resp *rs);

/*
 * A route: method and path. A path ending in "/{id}" matches one more
 * non-empty segment (the id), which handlers read with route_tail().
 */
struct route {
	const char *method;
	const char *path;
	route_fn *fn;
};

/* Opens everything from the configuration. On failure returns non-OK and
 * *errmsg (one line naming the setting). */
enum board_err board_open(struct board *b, const char *name, char **errmsg);
void board_close(struct board *b);

/*
 * Handles one request in-process: /api/health, 413, bad_origin, 415,
 * unknown path (404) or method (405 with Allow), then the route's handler.
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

/*
 * The signed-in session: BOARD_OK and out filled, BOARD_ENOTFOUND (no or
 * bad cookie, unknown session: 401), BOARD_EUNAVAIL (503).
 */
enum board_err board_session(struct board *b, const struct req *rq,
    struct session *out);

/*
 * board_session() for a handler that needs one: on failure sets the
 * response (401 unauthorized or 503) and returns false.
 */
bool board_require_session(struct board *b, const struct req *rq,
    struct resp *rs, struct session *out);

/* Set-Cookie for a new session, and the one that clears it. */
void board_set_cookie(struct board *b, struct resp *rs,
    const struct session *s);
void board_clear_cookie(struct board *b, struct resp *rs);

/* The client's address: REMOTE_ADDR, or the last X-Forwarded-For hop not
 * a trusted proxy when REMOTE_ADDR is one (borrowed from rq or static). */
const char *board_client_addr(struct board *b, const struct req *rq);

#endif
