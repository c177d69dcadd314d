/* test-util.h: small helpers the unit tests share (TAP is in tap.h). */
#ifndef BOARD_TEST_UTIL_H
#define BOARD_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* The whole file, NUL-terminated (free it); *len its size if len is not
 * NULL. NULL when it cannot be read. */
char *test_read_file(const char *path, size_t *len);

/*
 * tests/data/express-vectors.json under $srcdir (else "."), parsed: the
 * cookies and session documents express-session made. path (size bytes)
 * gets the file's name, for messages. NULL when unreadable or not JSON.
 */
cJSON *test_express_vectors(char *path, size_t size);

/*
 * mkdtemp(tmpl), tmpl ending in XXXXXX; false after a TAP "Bail out!"
 * line when it cannot.
 */
bool test_tmpdir_new(char *tmpl);

/* Removes dir and all in it; a TAP diag line when it cannot. */
void test_tmpdir_remove(const char *dir);

/*
 * A cookie value as a browser sends it ("%3A" for ':'), decoded by the
 * service's own parser, http_cookie_get() (caller frees).
 */
char *test_cookie_decode(const char *s);

/* stderr into the file path until test_log_captured(). */
void test_log_capture(const char *path);

/* What was logged since test_log_capture() (static, cut at 4 KiB);
 * stderr is back to what it was. */
const char *test_log_captured(void);

#endif
