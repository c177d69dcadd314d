/* board.h: error codes, allocators, the growable string buffer, full reads. */
#ifndef BOARD_H
#define BOARD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum board_err {
	BOARD_OK = 0,
	BOARD_EINVAL,		/* the client sent something we reject */
	BOARD_ENOTFOUND,
	BOARD_EEXIST,
	BOARD_EDENIED,
	BOARD_EUNAVAIL,		/* Redis or the store is down: 503 */
	BOARD_EINTERNAL,
};

/* A short English name for an error code; never NULL. */
const char *board_strerror(enum board_err err);

/* Allocators that never return NULL: out of memory logs and aborts. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* printf into a new string (caller frees); never NULL. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Frees a string after overwriting it (passwords, secrets). NULL is fine. */
void xfree_secret(char *s);

/*
 * Reads fd into dst (max bytes of room) until end of file or max bytes,
 * retrying reads that a signal interrupted; *len is the count read. A
 * longer file is cut at max: the caller checks the size when that matters.
 * 0, or -1 with errno set on a read error (*len is then what came before).
 */
int board_read_fd(int fd, void *dst, size_t max, size_t *len);

/*
 * A growable, length-tracked, always NUL-terminated byte string.
 * buf_init() makes it empty without allocating; buf_cleanup() frees it;
 * buf_reset() empties it and keeps the capacity.
 */
struct buf {
	char *data;		/* NULL until the first append: buf_cstr() */
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_cleanup(struct buf *b);
/* buf_cleanup for a buffer that held a secret: overwrites it all first. */
void buf_cleanup_secret(struct buf *b);
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *p, size_t n);
/*
 * buf_append for a buffer that holds a secret (a password being decoded,
 * a response carrying keys): growing never leaves a copy in freed memory.
 * Its owner ends it with buf_cleanup_secret().
 */
void buf_append_secret(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* The contents as a C string ("" when empty); borrowed until the next call. */
const char *buf_cstr(const struct buf *b);
/* Hands the contents to the caller (who frees them) and empties b. */
char *buf_steal(struct buf *b);

/* Milliseconds since the Unix epoch, from the real-time clock. */
int64_t board_now_ms(void);

/*
 * Writes ms since the epoch as JavaScript's Date.prototype.toJSON does:
 * "2026-11-25T13:35:28.123Z". out must hold BOARD_ISO_LEN + 1 bytes.
 */
#define BOARD_ISO_LEN 24
void board_iso_time(int64_t ms, char *out);

/* Same instant as an HTTP-date (RFC 7231): "Thu, 01 Jan 1970 00:00:00 GMT". */
#define BOARD_HTTPDATE_LEN 29
void board_http_date(int64_t ms, char *out);

#endif
