/* log.h: levelled logging, one line per event on stderr. */
#ifndef BOARD_LOG_H
#define BOARD_LOG_H

#include <stdbool.h>

/*
 * Each line starts with the sd-daemon level prefix ("<3>" error, "<4>"
 * warning, "<6>" info, "<7>" debug) so journald keeps the severity; the
 * message conventionally starts with the module: log_warn("store: %s", m).
 * Never pass passwords, cookies, session ids, secrets or request bodies.
 */
enum log_level { LOG_ERR = 3, LOG_WARN = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

/* *out = the level named "err", "warn", "info" or "debug"; else false. */
bool log_level_parse(const char *name, enum log_level *out);

/* Names the program in every line and sets the most verbose level shown. */
void log_init(const char *prog, enum log_level max);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
