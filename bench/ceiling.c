/*
 * ceiling.c: the benchmark's ceiling, a FastCGI responder that does no work.
 *
 * It accepts requests the way board's responders do (FCGX_Accept_r on the
 * socket spawn-fcgi hands it as standard input), ignores the request, and
 * answers every one with the same headers board sends and a fixed JSON body
 * the size of a `me` answer. Served behind the same front-server config, its
 * requests per second are what the front server, FastCGI and the machine
 * allow: the ceiling the real responders are measured against.
 *
 * Build: cc -O2 -o ceiling ceiling.c $(pkg-config --cflags --libs fcgi)
 * (bench/run.sh does this), or `make bench`.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>

static const char body[] =
    "{\"id\":\"00000000000000000000000000000001\",\"username\":\"ceiling\"}";

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

int
main(void)
{
	struct sigaction sa;
	FCGX_Request fr;
	char head[256];
	int hlen;

	if (FCGX_Init() != 0 || FCGX_IsCGI()) {
		fprintf(stderr, "ceiling: standard input is not a FastCGI "
		    "socket; start it with spawn-fcgi\n");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	hlen = snprintf(head, sizeof(head), "Status: 200 OK\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Length: %zu\r\n\r\n", sizeof(body) - 1);
	FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!stopping && FCGX_Accept_r(&fr) >= 0) {
		FCGX_PutStr(head, hlen, fr.out);
		FCGX_PutStr(body, (int)sizeof(body) - 1, fr.out);
		FCGX_Finish_r(&fr);
	}
	FCGX_Free(&fr, 1);
	return 0;
}
