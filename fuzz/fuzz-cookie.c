/*
 * fuzz-cookie.c: the Cookie header, as session_cookie_find reads it:
 * http_cookie_get_all("board.sid"), each value then through
 * session_cookie_verify against a fixed pair of secrets; the first must be
 * http_cookie_get's. The raw input is also verified as a cookie value, so
 * bytes the cookie parser would split on still reach the verifier. A
 * cookie that verifies must re-sign to itself under one of the secrets.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "http.h"
#include "secret.h"
#include "session-cookie.h"
#include "fuzz.h"

/* The seeds in fuzz/corpus/cookie are signed with these. */
static const char *const fuzz_keys[] = {
	"fuzz-secret-current", "fuzz-secret-previous",
};

static struct secrets fuzz_all, fuzz_one[2];

static void
setup(void)
{
	static bool done;

	if (done)
		return;
	secrets_init(&fuzz_all);
	for (size_t i = 0; i < 2; i++) {
		secrets_add(&fuzz_all, fuzz_keys[i], strlen(fuzz_keys[i]));
		secrets_init(&fuzz_one[i]);
		secrets_add(&fuzz_one[i], fuzz_keys[i], strlen(fuzz_keys[i]));
	}
	done = true;
}

static void
verify(const char *value)
{
	char sid[SECRET_ID_LEN + 1];
	bool resigned = false;

	memset(sid, 'x', sizeof(sid));
	if (session_cookie_verify(value, &fuzz_all, sid) != BOARD_OK) {
		FUZZ_CHECK(sid[0] == '\0');
		return;
	}
	FUZZ_CHECK(sid[0] != '\0' && strlen(sid) <= SECRET_ID_LEN);
	FUZZ_CHECK(strncmp(value, "s:", 2) == 0);
	FUZZ_CHECK(strncmp(value + 2, sid, strlen(sid)) == 0);
	/* Only a secret we hold could have made it. */
	for (size_t i = 0; i < 2; i++) {
		char *signed_val = session_cookie_sign(sid, &fuzz_one[i]);
		char *again;
		struct buf h;

		/* session_cookie_sign URL-encodes; decode as a header would. */
		buf_init(&h);
		buf_printf(&h, "board.sid=%s", signed_val);
		again = http_cookie_get(buf_cstr(&h), "board.sid");
		if (again != NULL && strcmp(again, value) == 0)
			resigned = true;
		free(again);
		buf_cleanup(&h);
		free(signed_val);
	}
	FUZZ_CHECK(resigned);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *hdr, *v, *all[4];	/* as many as session_cookie_find reads */
	size_t n;

	/* Front servers cap request headers well below this. */
	if (size > 65536)
		return 0;
	setup();
	hdr = fuzz_cstr(data, size);
	v = http_cookie_get(hdr, "board.sid");
	n = http_cookie_get_all(hdr, "board.sid", all, 4);
	FUZZ_CHECK(n <= 4 && (n == 0) == (v == NULL));
	FUZZ_CHECK(n == 0 || strcmp(all[0], v) == 0);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(strlen(all[i]) <= size);
		verify(all[i]);
		free(all[i]);
	}
	free(v);
	verify(hdr);
	free(hdr);
	return 0;
}
