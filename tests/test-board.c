/* test-board.c: time formats (against JavaScript's), struct buf, reads. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "tap.h"

/* Made with node 20: new Date(ms).toJSON() and .toUTCString(). */
static const struct {
	int64_t ms;
	const char *iso, *http;
} vectors[] = {
	{ 0, "1970-01-01T00:00:00.000Z", "Thu, 01 Jan 1970 00:00:00 GMT" },
	{ 1764077728123LL, "2025-11-25T13:35:28.123Z",
	    "Tue, 25 Nov 2025 13:35:28 GMT" },
	{ -1, "1969-12-31T23:59:59.999Z", "Wed, 31 Dec 1969 23:59:59 GMT" },
	{ 253402300799999LL, "9999-12-31T23:59:59.999Z",
	    "Fri, 31 Dec 9999 23:59:59 GMT" },
	{ 951782400000LL, "2000-02-29T00:00:00.000Z",
	    "Tue, 29 Feb 2000 00:00:00 GMT" },
	{ 1795705668000LL, "2026-11-26T15:07:48.000Z",
	    "Thu, 26 Nov 2026 15:07:48 GMT" },
};

/* board_read_fd: several writes, a cut at max, a read error. */
static void
test_read_fd(void)
{
	char got[8];
	size_t len = 99;
	int p[2];

	if (pipe(p) != 0) {
		ok(0, "pipe");
		return;
	}
	/* Two writes: a single read(2) would see only the first. */
	if (write(p[1], "abc", 3) != 3 || write(p[1], "defghij", 7) != 7)
		diag("short write to the pipe");
	close(p[1]);
	ok(board_read_fd(p[0], got, 8, &len) == 0 && len == 8 &&
	    memcmp(got, "abcdefgh", 8) == 0,
	    "board_read_fd reads across writes and stops at max");
	ok(board_read_fd(p[0], got, 8, &len) == 0 && len == 2 &&
	    memcmp(got, "ij", 2) == 0, "  then the rest, to end of file");
	ok(board_read_fd(p[0], got, 8, &len) == 0 && len == 0,
	    "  then nothing");
	close(p[0]);
	errno = 0;
	ok(board_read_fd(p[0], got, 8, &len) == -1 && errno == EBADF &&
	    len == 0, "a read error is -1 with errno");
}

int
main(void)
{
	char iso[BOARD_ISO_LEN + 1], http[BOARD_HTTPDATE_LEN + 1];
	struct buf b;

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		memset(iso, 'x', sizeof(iso));
		board_iso_time(vectors[i].ms, iso);
		is_str(iso, vectors[i].iso, "toJSON of %lld",
		    (long long)vectors[i].ms);
		board_http_date(vectors[i].ms, http);
		is_str(http, vectors[i].http, "HTTP-date of %lld",
		    (long long)vectors[i].ms);
	}
	int64_t now = board_now_ms();
	ok(now > 1700000000000LL && now < 4102444800000LL, "now is plausible");

	buf_init(&b);
	is_str(buf_cstr(&b), "", "an empty buf reads as \"\"");
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i);
	ok(b.len == strlen(buf_cstr(&b)), "length tracks the contents");
	ok(strncmp(buf_cstr(&b), "0,1,2,", 6) == 0 &&
	    strcmp(buf_cstr(&b) + b.len - 4, "999,") == 0, "growth keeps data");
	size_t cap = b.cap;
	buf_reset(&b);
	ok(b.len == 0 && b.cap == cap && buf_cstr(&b)[0] == '\0',
	    "reset empties and keeps capacity");
	buf_append(&b, "a\0b", 3);
	is_int(b.len, 3, "binary append keeps NUL bytes");
	char *s = buf_steal(&b);
	ok(memcmp(s, "a\0b", 4) == 0 && b.data == NULL && b.len == 0,
	    "steal hands over and empties");
	free(s);
	buf_cleanup(&b);

	s = xasprintf("%s-%d", "x", 42);
	is_str(s, "x-42", "xasprintf formats");
	free(s);
	s = xstrndup("abcdef", 3);
	is_str(s, "abc", "xstrndup cuts");
	xfree_secret(s);
	is_str(board_strerror(BOARD_EUNAVAIL), "unavailable",
	    "strerror names codes");

	buf_init(&b);
	buf_puts(&b, "a secret");
	buf_cleanup_secret(&b);
	ok(b.data == NULL && b.len == 0 && b.cap == 0,
	    "buf_cleanup_secret frees and empties");
	buf_cleanup_secret(&b);
	ok(1, "  and takes an empty buf");

	/* From an empty buf through several moves to a new block. */
	for (int i = 0; i < 100; i++)
		buf_append_secret(&b, "0123456789", i % 10 + 1);
	ok(b.len == 550 && b.cap >= 551 && strlen(buf_cstr(&b)) == 550,
	    "buf_append_secret grows, NUL-terminated (%zu bytes)", b.len);
	ok(strncmp(buf_cstr(&b), "001012012301234012345012345601234567",
	    36) == 0 && strcmp(buf_cstr(&b) + 540, "0123456789") == 0,
	    "  keeping what came before");
	buf_append_secret(&b, NULL, 0);
	is_int((int)b.len, 550, "  and takes nothing");
	buf_cleanup_secret(&b);
	test_read_fd();
	return tap_done();
}
