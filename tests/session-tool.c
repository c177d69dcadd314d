/* session-tool.c: mint and check board sessions from the shell (tests). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "conf.h"
#include "log.h"
#include "secret.h"
#include "session-cookie.h"
#include "session.h"
#include "test-util.h"

/*
 * Usage, with the settings from the environment (REDIS_URL,
 * SESSION_SECRET_FILE, ...) as a responder reads them:
 *   session-tool mint USERID USERNAME   prints a Cookie value
 *   session-tool whoami COOKIE          prints "USERID USERNAME"
 * Exit status: 0 done, 1 no valid session, 2 usage or unavailable.
 */

int
main(int argc, char **argv)
{
	struct conf c;
	struct secret_source *src = NULL;
	struct session_store *ss = NULL;
	struct session s;
	char sid[SECRET_ID_LEN + 1];
	char *errmsg = NULL, *cookie = NULL, *raw = NULL;
	int status = 2;
	enum board_err rc;

	log_init("session-tool", LOG_WARN);
	session_init(&s);
	if (argc < 2 || !((strcmp(argv[1], "mint") == 0 && argc == 4) ||
	    (strcmp(argv[1], "whoami") == 0 && argc == 3))) {
		fprintf(stderr, "usage: session-tool mint USERID USERNAME |"
		    " whoami COOKIE\n");
		return 2;
	}
	if (conf_load(&c, NULL, &errmsg) != BOARD_OK ||
	    secret_source_new(&c, &src, &errmsg) != BOARD_OK ||
	    session_store_new(&c, &ss, &errmsg) != BOARD_OK) {
		fprintf(stderr, "session-tool: %s\n", errmsg);
		goto out;
	}
	if (strcmp(argv[1], "mint") == 0) {
		rc = session_create(ss, argv[2], argv[3], &s);
		if (rc != BOARD_OK) {
			fprintf(stderr, "session-tool: %s\n",
			    board_strerror(rc));
			goto out;
		}
		cookie = session_cookie_sign(s.sid, secret_source_get(src));
		printf("%s\n", cookie);
		status = 0;
		goto out;
	}
	raw = test_cookie_decode(argv[2]);
	rc = session_cookie_verify(raw, secret_source_get(src), sid);
	if (rc == BOARD_OK)
		rc = session_load(ss, sid, &s);
	if (rc == BOARD_OK) {
		printf("%s %s\n", s.user_id, s.username);
		status = 0;
	} else {
		fprintf(stderr, "session-tool: %s\n", board_strerror(rc));
		status = rc == BOARD_ENOTFOUND ? 1 : 2;
	}
out:
	free(errmsg);
	free(cookie);
	free(raw);
	session_cleanup(&s);
	session_store_free(ss);
	secret_source_free(src);
	conf_cleanup(&c);
	return status;
}
