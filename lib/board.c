/* board.c: error names, never-failing allocators, struct buf, time, reads. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "board.h"
#include "log.h"

const char *
board_strerror(enum board_err err)
{
	switch (err) {
	case BOARD_OK:		return "ok";
	case BOARD_EINVAL:	return "invalid";
	case BOARD_ENOTFOUND:	return "not found";
	case BOARD_EEXIST:	return "exists";
	case BOARD_EDENIED:	return "denied";
	case BOARD_EUNAVAIL:	return "unavailable";
	case BOARD_EINTERNAL:	return "internal error";
	}
	return "unknown error";
}

static void
oom(size_t n)
{
	log_err("board: out of memory allocating %zu bytes", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return buf_steal(&b);
}

void
xfree_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

int
board_read_fd(int fd, void *dst, size_t max, size_t *len)
{
	char *p = dst;
	ssize_t n;

	*len = 0;
	while (*len < max) {
		n = read(fd, p + *len, max - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	return 0;
}

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
buf_cleanup(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_cleanup_secret(struct buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	buf_cleanup(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* The capacity b needs for extra more bytes, or 0 when it has room. */
static size_t
buf_cap_for(const struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1, cap;

	if (need <= b->cap)
		return 0;
	if (need < b->len)
		oom(SIZE_MAX);
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	return cap;
}

static void
buf_grow(struct buf *b, size_t extra)
{
	size_t cap = buf_cap_for(b, extra);

	if (cap != 0) {
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n != 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/*
 * Grows by allocate, copy, wipe, free, never by realloc, which may move
 * the bytes and leave the old copy in freed memory.
 */
void
buf_append_secret(struct buf *b, const void *p, size_t n)
{
	size_t cap = buf_cap_for(b, n);

	if (cap != 0) {
		char *d = xmalloc(cap);

		if (b->data != NULL) {
			memcpy(d, b->data, b->len);
			explicit_bzero(b->data, b->cap);
			free(b->data);
		}
		b->data = d;
		b->cap = cap;
	}
	if (n != 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

const char *
buf_cstr(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

char *
buf_steal(struct buf *b)
{
	char *s = b->data != NULL ? b->data : xstrdup("");

	buf_init(b);
	return s;
}

int64_t
board_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
split_ms(int64_t ms, struct tm *tm, int *frac)
{
	time_t sec = (time_t)(ms / 1000);
	int f = (int)(ms % 1000);

	if (f < 0) {
		f += 1000;
		sec--;
	}
	gmtime_r(&sec, tm);
	*frac = f;
}

/* Writes n as exactly width decimal digits. */
static char *
put_digits(char *p, unsigned n, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + n % 10);
		n /= 10;
	}
	return p + width;
}

void
board_iso_time(int64_t ms, char *out)
{
	struct tm tm;
	int frac;
	char *p = out;

	/* By hand, not snprintf: a page of posts formats 40 of these. */
	split_ms(ms, &tm, &frac);
	p = put_digits(p, (unsigned)(tm.tm_year + 1900) % 10000, 4);
	*p++ = '-';
	p = put_digits(p, (unsigned)tm.tm_mon + 1, 2);
	*p++ = '-';
	p = put_digits(p, (unsigned)tm.tm_mday, 2);
	*p++ = 'T';
	p = put_digits(p, (unsigned)tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)tm.tm_min, 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)tm.tm_sec, 2);
	*p++ = '.';
	p = put_digits(p, (unsigned)frac, 3);
	*p++ = 'Z';
	*p = '\0';
}

void
board_http_date(int64_t ms, char *out)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	int frac;

	char tmp[96];

	split_ms(ms, &tm, &frac);
	snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    (tm.tm_year + 1900) % 10000, tm.tm_hour, tm.tm_min, tm.tm_sec);
	memcpy(out, tmp, BOARD_HTTPDATE_LEN);
	out[BOARD_HTTPDATE_LEN] = '\0';
}
