/*
 * fuzz-conf.c: the configuration file, through conf_load_file on a memfd
 * that holds the input. Whatever the file says, the result is either an
 * error with a message or a configuration whose settings pass
 * the checks conf.c promises (a log level it knows, a cookie-token name).
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"

static int fuzz_fd = -1;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], *err = NULL;
	struct conf c;
	enum board_err rc;

	if (size > 1024 * 1024)
		return 0;
	if (fuzz_fd < 0) {
		fuzz_fd = memfd_create("fuzz-conf", MFD_CLOEXEC);
		FUZZ_CHECK(fuzz_fd >= 0);
	}
	FUZZ_CHECK(ftruncate(fuzz_fd, 0) == 0);
	FUZZ_CHECK(size == 0 ||
	    pwrite(fuzz_fd, data, size, 0) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fuzz_fd);
	rc = conf_load_file(&c, path, &err);
	if (rc == BOARD_OK) {
		FUZZ_CHECK(err == NULL);
		FUZZ_CHECK(c.cookie_name != NULL && c.cookie_name[0] != '\0');
		FUZZ_CHECK(strcmp(c.log_level, "err") == 0 ||
		    strcmp(c.log_level, "warn") == 0 ||
		    strcmp(c.log_level, "info") == 0 ||
		    strcmp(c.log_level, "debug") == 0);
		FUZZ_CHECK(c.session_ttl >= 60);
		FUZZ_CHECK(c.secret_name == NULL || c.aws_region != NULL);
		FUZZ_CHECK(c.db_path != NULL && c.secret_file != NULL);
	} else {
		FUZZ_CHECK(rc == BOARD_EINVAL);
		FUZZ_CHECK(err != NULL && err[0] != '\0');
	}
	free(err);
	conf_cleanup(&c);
	return 0;
}
