/* drain.c: the drain file that takes a host out of its load balancer. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "drain.h"
#include "log.h"

/*
 * A file rather than a signal: every worker of every responder sees it at
 * once, workers that multiwatch starts during the drain too, and the stop
 * sequence (drain, then the front server, then the responders) stays in
 * the hands of whoever stops the host. See README.md, "Running several
 * hosts".
 */
bool
drain_is_on(const struct conf *c)
{
	struct stat st;

	if (c->drain_file == NULL)
		return false;
	return stat(c->drain_file, &st) == 0 || errno != ENOENT;
}

static int
drain_start(const struct conf *c)
{
	struct timespec left = { c->drain_seconds, 0 };
	int fd = open(c->drain_file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		log_err("drain: cannot create %s: %s", c->drain_file,
		    strerror(errno));
		return 1;
	}
	close(fd);
	log_info("drain: %s made; /api/health answers 503 for %ld s",
	    c->drain_file, c->drain_seconds);
	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
	return 0;
}

static int
drain_stop(const struct conf *c)
{
	if (unlink(c->drain_file) != 0 && errno != ENOENT) {
		log_err("drain: cannot remove %s: %s", c->drain_file,
		    strerror(errno));
		return 1;
	}
	return 0;
}

int
drain_command(const char *prog, int argc, char **argv)
{
	struct conf c;
	char *errmsg = NULL;
	int rc;

	if (argc != 1 || (strcmp(argv[0], "--drain") != 0 &&
	    strcmp(argv[0], "--undrain") != 0)) {
		fprintf(stderr, "usage: %s [--drain | --undrain]\n"
		    "  (no argument: serve FastCGI on standard input)\n", prog);
		return 2;
	}
	if (conf_load(&c, NULL, &errmsg) != BOARD_OK) {
		fprintf(stderr, "%s: %s\n", prog, errmsg != NULL ? errmsg :
		    "bad configuration");
		free(errmsg);
		conf_cleanup(&c);
		return 1;
	}
	rc = strcmp(argv[0], "--drain") == 0 ? drain_start(&c) :
	    drain_stop(&c);
	conf_cleanup(&c);
	return rc;
}
