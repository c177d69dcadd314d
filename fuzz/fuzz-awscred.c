/*
 * fuzz-awscred.c: the credential JSON that the ECS task-role endpoint and
 * EC2 instance metadata answer with, through awscred_from_json, and the
 * input as an RFC 3339 time through awscred_parse_time. Credentials
 * accepted have all three parts; a refusal comes with a one-line message.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "awscred.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct awscred c;
	struct buf body;
	char *err = NULL, *s;
	int64_t ms = 0;

	if (size > 1024 * 1024)
		return 0;
	buf_init(&body);
	buf_append(&body, data, size);
	memset(&c, 0, sizeof(c));
	if (awscred_from_json(&body, "fuzz", &c, &err) == BOARD_OK) {
		FUZZ_CHECK(err == NULL);
		FUZZ_CHECK(c.key_id != NULL && c.key_id[0] != '\0');
		FUZZ_CHECK(c.secret != NULL && c.secret[0] != '\0');
		FUZZ_CHECK(c.token != NULL && c.token[0] != '\0');
	} else {
		FUZZ_CHECK(err != NULL && fuzz_one_line(err));
		FUZZ_CHECK(c.key_id == NULL && c.secret == NULL &&
		    c.token == NULL);
	}
	xfree_secret(c.key_id);
	xfree_secret(c.secret);
	xfree_secret(c.token);
	free(err);
	buf_cleanup(&body);

	s = fuzz_cstr(data, size);
	if (awscred_parse_time(s, &ms) == BOARD_OK)
		FUZZ_CHECK(strlen(s) >= 20);
	free(s);
	return 0;
}
