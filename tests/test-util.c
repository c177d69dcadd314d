/* test-util.c: small helpers the unit tests share. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "http.h"
#include "test-util.h"

char *
test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	size_t got = 0;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		s = xmalloc((size_t)n + 1);
		got = fread(s, 1, (size_t)n, f);
		s[got] = '\0';
	}
	fclose(f);
	if (len != NULL)
		*len = got;
	return s;
}

cJSON *
test_express_vectors(char *path, size_t size)
{
	const char *srcdir = getenv("srcdir");
	cJSON *doc;
	char *text;

	snprintf(path, size, "%s/tests/data/express-vectors.json",
	    srcdir != NULL ? srcdir : ".");
	if ((text = test_read_file(path, NULL)) == NULL)
		return NULL;
	doc = cJSON_Parse(text);
	free(text);
	return doc;
}

bool
test_tmpdir_new(char *tmpl)
{
	if (mkdtemp(tmpl) != NULL)
		return true;
	printf("Bail out! mkdtemp %s: %s\n", tmpl, strerror(errno));
	return false;
}

void
test_tmpdir_remove(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	free(cmd);
}

char *
test_cookie_decode(const char *s)
{
	char *header = xasprintf("n=%s", s);
	char *v = http_cookie_get(header, "n");

	free(header);
	return v != NULL ? v : xstrdup("");
}

static int saved_stderr = -1;
static char capture_path[1024];

void
test_log_capture(const char *path)
{
	int fd;

	snprintf(capture_path, sizeof(capture_path), "%s", path);
	fd = open(capture_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	if (saved_stderr >= 0 && fd >= 0)
		dup2(fd, STDERR_FILENO);
	if (fd >= 0)
		close(fd);
}

const char *
test_log_captured(void)
{
	static char text[4096];
	ssize_t n = 0;
	int fd;

	fflush(stderr);
	if (saved_stderr >= 0) {
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
	fd = open(capture_path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
	}
	text[n > 0 ? n : 0] = '\0';
	return text;
}
