/* test-drain.c: the drain file and the --drain / --undrain commands. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "drain.h"
#include "tap.h"

static char dir[] = "/tmp/test-drain.XXXXXX";
static char file[256];

static int
run(const char *arg)
{
	char *argv[] = { (char *)arg, NULL };

	return drain_command("test-drain", arg != NULL ? 1 : 0, argv);
}

static bool
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int
main(void)
{
	struct conf c;
	struct timespec t0, t1;
	double secs;
	FILE *f;
	char *argv2[] = { "--drain", "--undrain", NULL };

	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(file, sizeof(file), "%s/drain", dir);
	conf_init(&c);
	ok(c.drain_seconds == 0, "default drain_seconds is 0");
	is_str(c.drain_file, "/run/board/drain", "default drain_file");
	free(c.drain_file);
	c.drain_file = xstrdup(file);
	ok(!drain_is_on(&c), "no file: not draining");

	setenv("BOARD_CONFIG", "/dev/null", 1);
	setenv("BOARD_DRAIN_FILE", file, 1);
	setenv("BOARD_DRAIN_SECONDS", "1", 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(run("--drain"), 0, "--drain exits 0");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ok(secs >= 0.99 && secs < 5, "--drain waited drain_seconds (%.2f s)",
	    secs);
	ok(exists(file), "--drain made the file");
	ok(drain_is_on(&c), "the file: draining");
	is_int(run("--drain"), 0, "--drain again: fine");
	is_int(run("--undrain"), 0, "--undrain exits 0");
	ok(!exists(file) && !drain_is_on(&c), "--undrain removed the file");
	is_int(run("--undrain"), 0, "--undrain without a file: fine");

	is_int(run("--bogus"), 2, "an unknown option: exit 2");
	is_int(drain_command("test-drain", 2, argv2), 2, "two options: exit 2");
	setenv("BOARD_DRAIN_SECONDS", "301", 1);
	is_int(run("--drain"), 1, "drain_seconds above 300: exit 1");
	ok(!exists(file), "and no file made");
	setenv("BOARD_DRAIN_SECONDS", "0", 1);
	setenv("BOARD_DRAIN_FILE", "/nonexistent-dir/drain", 1);
	is_int(run("--drain"), 1, "a file that cannot be made: exit 1");

	free(c.drain_file);
	c.drain_file = xstrdup("/nonexistent-dir/drain");
	ok(!drain_is_on(&c), "a missing folder is no drain");
	/* A file that cannot be checked: the host leaves rather than stays. */
	f = fopen(file, "w");
	ok(f != NULL && fclose(f) == 0, "a plain file where a folder would be");
	free(c.drain_file);
	c.drain_file = xasprintf("%s/drain", file);	/* ENOTDIR */
	ok(drain_is_on(&c), "a drain_file that cannot be checked: draining");
	unlink(file);
	conf_cleanup(&c);
	rmdir(dir);
	return tap_done();
}
