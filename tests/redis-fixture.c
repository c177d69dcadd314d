/* redis-fixture.c: a private redis-server for unit tests, and a dead one. */
#include "config.h"

#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "redis-fixture.h"

#define FIXTURE_ARGS_MAX 32

static void
fixture_exec(const char *path, const char *const *args)
{
	const char *argv[FIXTURE_ARGS_MAX + 16];
	char *dir = strdup(path);
	size_t n = 0;
	int devnull = open("/dev/null", O_WRONLY);

	if (devnull >= 0) {
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
	}
	if (dir == NULL)
		_exit(127);
	argv[n++] = "redis-server";
	argv[n++] = "--port";
	argv[n++] = "0";
	argv[n++] = "--unixsocket";
	argv[n++] = path;
	argv[n++] = "--unixsocketperm";
	argv[n++] = "700";
	argv[n++] = "--save";
	argv[n++] = "";
	argv[n++] = "--appendonly";
	argv[n++] = "no";
	argv[n++] = "--dir";
	argv[n++] = dirname(dir);
	for (size_t i = 0; args != NULL && args[i] != NULL &&
	    i < FIXTURE_ARGS_MAX; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	execvp("redis-server", (char *const *)argv);
	_exit(127);
}

bool
fixture_redis_start(const char *path, const char *const *args, pid_t *pid)
{
	*pid = fork();
	if (*pid < 0)
		return false;
	if (*pid == 0)
		fixture_exec(path, args);
	/* Bounded wait: at most 100 tries over 5 s. */
	for (int i = 0; i < 100; i++) {
		redisReply *r;
		int status;

		if (waitpid(*pid, &status, WNOHANG) == *pid) {
			*pid = -1;
			return false;
		}
		r = fixture_redis_cmd(path, "PING");
		if (r != NULL) {
			freeReplyObject(r);
			return true;
		}
		usleep(50 * 1000);
	}
	fixture_redis_stop(pid);
	return false;
}

void
fixture_redis_stop(pid_t *pid)
{
	if (*pid > 0) {
		int i = 0;

		/* SIGTERM, up to 5 s for Redis to exit, then SIGKILL. */
		kill(*pid, SIGTERM);
		while (waitpid(*pid, NULL, WNOHANG) == 0 && ++i < 500)
			nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
		if (i == 500) {
			kill(*pid, SIGKILL);
			waitpid(*pid, NULL, 0);
		}
	}
	*pid = -1;
}

redisReply *
fixture_redis_cmd(const char *path, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = fixture_redis_vcmd(path, fmt, ap);
	va_end(ap);
	return r;
}

redisReply *
fixture_redis_vcmd(const char *path, const char *fmt, va_list ap)
{
	redisContext *rc = redisConnectUnix(path);
	redisReply *r = NULL;

	if (rc == NULL || rc->err) {
		redisFree(rc);
		return NULL;
	}
	r = redisvCommand(rc, fmt, ap);
	redisFree(rc);
	return r;
}

long long
fixture_redis_int(const char *path, const char *fmt, const char *arg)
{
	redisReply *r = fixture_redis_cmd(path, fmt, arg);
	long long v = -99;

	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	freeReplyObject(r);
	return v;
}

int
fixture_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &slen);
	close(fd);
	return ntohs(sa.sin_port);
}

double
fixture_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
