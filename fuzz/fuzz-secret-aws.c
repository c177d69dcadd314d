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
	struct secret_aws_answer a = { .name = "board/fuzz" };
	struct secret_aws_value v;
	const char *stage;
	char *in, *key, *err, *hdr = NULL;
	size_t keylen;
	enum secret_aws_outcome res;
	enum board_err rc;
	unsigned flags;
	long status;

	/* httpc refuses larger bodies. */
	if (size < 1 || size > 1024 * 1024)
		return 0;
	flags = data[0];
	status = statuses[flags & 7];
	stage = flags & 0x20 ? "AWSPREVIOUS" : NULL;
	in = fuzz_cstr(data + 1, size - 1);
	a.status = status;
	a.stage = stage;
	a.temporary = (flags & 0x40) != 0;
	a.body = in;
	a.len = size - 1;
	if (flags & 0x10) {
		char *nl = memchr(in, '\n', a.len);

		if (nl != NULL) {
			hdr = xstrndup(in, (size_t)(nl - in));
			a.errortype = hdr;
			a.len -= (size_t)(nl + 1 - in);
			a.body = nl + 1;
		}
	}
	res = secret_aws_parse_response(&a, &v);
	key = v.key;
	keylen = v.keylen;
	rc = v.rc;
	err = v.errmsg;
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
