/*
 * fuzz-secret-aws.c: the Secrets Manager GetSecretValue answer, through
 * secret_aws_parse_response. The first byte picks the HTTP status, the
 * stage and whether the credentials are temporary; when its bit 0x10 is
 * set, the text up to the first '\n' is the X-Amzn-Errortype header. The
 * rest is the body. A key found is non-empty text; a failure comes with a
 * one-line message (it is logged) and a code the caller can act on.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "secret-aws.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 400, 403, 500, 503, 404, 0, 302 };
	const char *body, *errtype = NULL, *stage;
	char *in, *key = NULL, *err = NULL, *hdr = NULL;
	size_t len, keylen = 0;
	enum secret_aws_outcome res;
	enum board_err rc = BOARD_OK;
	unsigned flags;
	long status;

	/* httpc refuses larger bodies. */
	if (size < 1 || size > 1024 * 1024)
		return 0;
	flags = data[0];
	status = statuses[flags & 7];
	stage = flags & 0x20 ? "AWSPREVIOUS" : NULL;
	in = fuzz_cstr(data + 1, size - 1);
	body = in;
	len = size - 1;
	if (flags & 0x10) {
		char *nl = memchr(in, '\n', len);

		if (nl != NULL) {
			hdr = xstrndup(in, (size_t)(nl - in));
			errtype = hdr;
			len -= (size_t)(nl + 1 - in);
			body = nl + 1;
		}
	}
	res = secret_aws_parse_response(status, errtype, body, len,
	    "board/fuzz", stage, (flags & 0x40) != 0, &key, &keylen, &rc,
	    &err);
	switch (res) {
	case SECRET_AWS_GOT:
		FUZZ_CHECK(status == 200 && rc == BOARD_OK && err == NULL);
		FUZZ_CHECK(key != NULL && keylen > 0 && strlen(key) == keylen);
		break;
	case SECRET_AWS_NOT_FOUND:
		FUZZ_CHECK(status != 200 && stage != NULL);
		FUZZ_CHECK(key == NULL && err == NULL);
		break;
	case SECRET_AWS_EXPIRED:
		FUZZ_CHECK(status != 200 && (flags & 0x40) != 0);
		FUZZ_CHECK(key == NULL && err == NULL);
		break;
	case SECRET_AWS_FAILED:
		FUZZ_CHECK(key == NULL);
		FUZZ_CHECK(rc == BOARD_EINVAL || rc == BOARD_EUNAVAIL);
		FUZZ_CHECK(err != NULL && fuzz_one_line(err));
		FUZZ_CHECK(strstr(err, "board/fuzz") != NULL);
		break;
	default:
		FUZZ_CHECK(!"an outcome secret-aws.h does not list");
	}
	xfree_secret(key);
	free(err);
	free(hdr);
	free(in);
	return 0;
}
