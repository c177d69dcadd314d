/* log.c: one stderr line per event with the sd-daemon level prefix. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static const char *log_prog = "board";
static enum log_level log_max = LOG_INFO;

bool
log_level_parse(const char *name, enum log_level *out)
{
	static const struct { const char *name; enum log_level level; }
	    levels[] = { { "err", LOG_ERR }, { "warn", LOG_WARN },
	    { "info", LOG_INFO }, { "debug", LOG_DEBUG } };

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(name, levels[i].name) == 0) {
			*out = levels[i].level;
			return true;
		}
	return false;
}

void
log_init(const char *prog, enum log_level max)
{
	log_prog = prog;
	log_max = max;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n, m;

	if (level > log_max)
		return;
	n = snprintf(line, sizeof(line), "<%d>%s[%d]: ", (int)level, log_prog,
	    (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n = (size_t)(n + m) >= sizeof(line) - 1 ? (int)sizeof(line) - 2 : n + m;
	/* One line per event: a CR or LF inside a message would forge one. */
	for (int i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	/* One write(2) so lines from several workers do not interleave. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
