/*
 * replay.c: runs a fuzz target's LLVMFuzzerTestOneInput over files, for
 * the normal (gcc) build: the committed corpora and the crash inputs kept
 * under tests/data/fuzz-regress stay harmless. Arguments are files or
 * directories (their regular files, sorted, dot files skipped). Prints
 * "ok N - path" after each input, then the TAP plan; a crash stops it.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_n;

static int
replay_file(const char *path)
{
	struct buf b;
	char chunk[8192];
	size_t got;
	FILE *f;
	int rc = 0;

	buf_init(&b);
	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, got);
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		rc = -1;
		goto out;
	}
	/* Exactly len bytes on the heap, as libFuzzer gives them. */
	{
		uint8_t *data = xmalloc(b.len > 0 ? b.len : 1);

		if (b.len > 0)
			memcpy(data, b.data, b.len);
		fprintf(stderr, "replay: %s\n", path);
		LLVMFuzzerTestOneInput(data, b.len);
		free(data);
	}
	printf("ok %d - %s\n", ++replay_n, path);
	fflush(stdout);
out:
	fclose(f);
	buf_cleanup(&b);
	return rc;
}

static int
replay_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int
replay_path(const char *path)
{
	struct dirent **ents = NULL;
	struct stat st;
	int n, rc = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	n = scandir(path, &ents, replay_dot, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct buf p;

		buf_init(&p);
		buf_printf(&p, "%s/%s", path, ents[i]->d_name);
		if (stat(buf_cstr(&p), &st) == 0 && S_ISREG(st.st_mode) &&
		    replay_file(buf_cstr(&p)) != 0)
			rc = -1;
		buf_cleanup(&p);
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int
main(int argc, char **argv)
{
	int rc = 0;

	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i]) != 0)
			rc = 1;
	printf("1..%d\n", replay_n);
	return rc;
}
