/* session-doc.h: the session documents, in connect-redis's JSON shape. */
#ifndef BOARD_SESSION_DOC_H
#define BOARD_SESSION_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "session.h"

/*
 * Reads a stored session document (json, len bytes, need not end in NUL)
 * into out's user_id, username (numbers as express may store ids; "" when
 * absent), expires_ms (cookie.expires; 0 when absent or unreadable) and
 * issued_ms (see struct session). Leaves out's sid alone. BOARD_OK, or
 * BOARD_ENOTFOUND for unreadable JSON or a document without a userId;
 * then out holds no strings.
 */
enum board_err session_doc_parse(const char *json, size_t len,
    struct session *out);

/*
 * The document connect-redis stores for s, with the cookie express-session
 * would give it (originalMaxAge ttl seconds, the Secure flag secure) and
 * s's issue time (SESSION_ISSUED_KEY). Caller frees with cJSON_free().
 */
char *session_doc_print(const struct session *s, long ttl, bool secure);

/*
 * The stored document json (len bytes) with SESSION_ISSUED_KEY set to
 * issued_ms and every other member kept, whatever a Node service put
 * there; caller frees with cJSON_free(). NULL when json is not a
 * readable JSON object.
 */
char *session_doc_reissue(const char *json, size_t len, int64_t issued_ms);

#endif
