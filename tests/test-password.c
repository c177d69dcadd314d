/* test-password.c: Argon2id hashing, verification, rehash decisions and
 * node-argon2's parameter order. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "password.h"
#include "tap.h"

/* Cheap costs so the test is fast: libsodium's minimums are 1 pass and
 * 8 KiB of memory. */
static const struct password_cost cheap = { 1, 8192 };
static const struct password_cost other_ops = { 2, 8192 };
static const struct password_cost other_mem = { 1, 16384 };

/*
 * Turns libsodium's "$argon2id$v=19$m=M,t=T,p=P$salt$hash" into
 * node-argon2's "$argon2id$v=19$m=M,p=P,t=T$salt$hash". false if the input
 * is not of that shape.
 */
static bool
to_node_order(const char *h, char *out, size_t outsz)
{
	unsigned long m, t, p;
	int used = 0;
	const char *s = strstr(h, "$m=");

	if (s == NULL || sscanf(s, "$m=%lu,t=%lu,p=%lu%n", &m, &t, &p,
	    &used) != 3 || s[used] != '$')
		return false;
	return snprintf(out, outsz, "%.*s$m=%lu,p=%lu,t=%lu%s", (int)(s - h),
	    h, m, p, t, s + used) < (int)outsz;
}

static void
test_round_trip(void)
{
	char h[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];
	static const char pw[] = "correct horse battery staple";
	static const char utf8[] = "p\xc3\xa4ssw\xc3\xb6rd \xf0\x9f\x94\x91";

	is_int(password_hash(&cheap, pw, strlen(pw), h), BOARD_OK,
	    "hash with a cheap cost");
	ok(strncmp(h, "$argon2id$v=19$m=8,t=1,p=1$", 27) == 0,
	    "  an Argon2id PHC string with m=8,t=1,p=1: %s", h);
	ok(strstr(h, pw) == NULL, "  the password is not in the hash");
	is_int(password_verify(h, pw, strlen(pw)), BOARD_OK,
	    "the right password verifies");
	is_int(password_verify(h, "correct horse battery stapl", 27),
	    BOARD_EDENIED, "one character short is denied");
	is_int(password_verify(h, "Correct horse battery staple", 28),
	    BOARD_EDENIED, "another case is denied");
	is_int(password_verify(h, "", 0), BOARD_EDENIED,
	    "the empty password is denied");
	/* The length is what counts, not a NUL. */
	is_int(password_verify(h, "correct horse battery staple!!", 28),
	    BOARD_OK, "only len bytes are compared");

	is_int(password_hash(&cheap, pw, strlen(pw), h2), BOARD_OK,
	    "hash the same password again");
	ok(strcmp(h, h2) != 0, "  a fresh salt gives another string");
	is_int(password_verify(h2, pw, strlen(pw)), BOARD_OK,
	    "  and it verifies too");

	is_int(password_hash(&cheap, utf8, strlen(utf8), h), BOARD_OK,
	    "hash a UTF-8 password");
	is_int(password_verify(h, utf8, strlen(utf8)), BOARD_OK,
	    "  it verifies");
	is_int(password_verify(h, "passw\xc3\xb6rd \xf0\x9f\x94\x91",
	    strlen(utf8) - 1), BOARD_EDENIED, "  a near miss is denied");

	/* A password with a NUL byte inside, as len allows. */
	is_int(password_hash(&cheap, "ab\0cd", 5, h), BOARD_OK,
	    "hash a password holding NUL");
	is_int(password_verify(h, "ab\0cd", 5), BOARD_OK, "  it verifies");
	is_int(password_verify(h, "ab", 2), BOARD_EDENIED,
	    "  its prefix before NUL does not");
}

static void
test_garbage(void)
{
	char h[PASSWORD_HASH_MAX], bad[PASSWORD_HASH_MAX + 64];
	static const char pw[] = "hunter22";
	struct buf b;

	password_hash(&cheap, pw, strlen(pw), h);
	is_int(password_verify("", pw, strlen(pw)), BOARD_EDENIED,
	    "empty hash is denied");
	is_int(password_verify("garbage", pw, strlen(pw)), BOARD_EDENIED,
	    "garbage hash is denied");
	is_int(password_verify("$argon2id$", pw, strlen(pw)), BOARD_EDENIED,
	    "a bare prefix is denied");
	is_int(password_verify("$argon2id$v=19$m=8,p=1,t=1", pw, strlen(pw)),
	    BOARD_EDENIED, "node order without salt and hash is denied");
	is_int(password_verify("$argon2id$v=19$m=8,p=1,t=1$$", pw,
	    strlen(pw)), BOARD_EDENIED, "node order with empty parts");
	is_int(password_verify("$2b$10$abcdefghijklmnopqrstuuJ3Zlc8QX9p1Y"
	    "S5x9zOZ0fY1e2u3i4o", pw, strlen(pw)), BOARD_EDENIED,
	    "a bcrypt hash is denied");
	snprintf(bad, sizeof(bad), "%s", h);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';
	is_int(password_verify(bad, pw, strlen(pw)), BOARD_EDENIED,
	    "a changed hash byte is denied");
	snprintf(bad, sizeof(bad), "%.*s", (int)strlen(h) - 5, h);
	is_int(password_verify(bad, pw, strlen(pw)), BOARD_EDENIED,
	    "a truncated hash is denied");
	snprintf(bad, sizeof(bad), "%s", h);
	memcpy(bad, "$argon2i$", 9);
	memmove(bad + 9, h + 10, strlen(h + 10) + 1);
	is_int(password_verify(bad, pw, strlen(pw)), BOARD_EDENIED,
	    "the same hash relabelled argon2i is denied");

	buf_init(&b);
	buf_puts(&b, "$argon2id$v=19$m=8,p=1,t=1$");
	for (int i = 0; i < 4000; i++)
		buf_putc(&b, 'A');
	buf_puts(&b, "$AAAA");
	is_int(password_verify(buf_cstr(&b), pw, strlen(pw)), BOARD_EDENIED,
	    "a 4 KiB hash is denied, not overflowed");
	buf_reset(&b);
	buf_puts(&b, "$argon2id$v=19$m=999999999999999999999,p=1,t=1$");
	buf_puts(&b, strstr(h, "$m=") + strlen("$m=8,t=1,p=1$"));
	is_int(password_verify(buf_cstr(&b), pw, strlen(pw)), BOARD_EDENIED,
	    "node order with an absurd m is denied");
	buf_cleanup(&b);
}

static void
test_rehash(void)
{
	char h[PASSWORD_HASH_MAX];

	password_hash(&cheap, "password1", 9, h);
	ok(!password_needs_rehash(&cheap, h), "same cost: no rehash");
	ok(password_needs_rehash(&other_ops, h), "more passes: rehash");
	ok(password_needs_rehash(&other_mem, h), "more memory: rehash");
	ok(password_needs_rehash(&cheap, "garbage"), "garbage: rehash");
	ok(password_needs_rehash(&cheap, ""), "empty: rehash");
	ok(password_needs_rehash(&cheap,
	    "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaA"),
	    "argon2i: rehash");
}

static void
test_node_argon2(void)
{
	char h[PASSWORD_HASH_MAX], node[PASSWORD_HASH_MAX + 16];
	static const char pw[] = "seed-user-password";

	/* node-argon2 is not installable here: make a libsodium hash and
	 * reorder its parameters m,t,p into node-argon2's m,p,t. */
	password_hash(&other_ops, pw, strlen(pw), h);
	ok(to_node_order(h, node, sizeof(node)), "reorder a libsodium hash");
	ok(strstr(node, "$m=8,p=1,t=2$") != NULL,
	    "  into node-argon2's order: %s", node);
	is_int(password_verify(node, pw, strlen(pw)), BOARD_OK,
	    "node-argon2 order verifies");
	is_int(password_verify(node, "seed-user-passworD", strlen(pw)),
	    BOARD_EDENIED, "  and still denies a wrong password");
	ok(password_needs_rehash(&other_ops, node),
	    "node-argon2 order needs a rehash even at the same cost");
	ok(!password_needs_rehash(&other_ops, h),
	    "  while the libsodium original does not");

	/* The reordering must keep each number with its name. */
	char swapped[PASSWORD_HASH_MAX + 16];
	snprintf(swapped, sizeof(swapped), "%s", node);
	char *p = strstr(swapped, "$m=8,p=1,t=2$");
	if (p != NULL)
		memcpy(p, "$m=8,p=2,t=1$", 13);
	is_int(password_verify(swapped, pw, strlen(pw)), BOARD_EDENIED,
	    "p and t swapped in node order is denied");
}

int
main(void)
{
	if (!password_init()) {
		printf("Bail out! libsodium cannot initialize\n");
		return 1;
	}
	test_round_trip();
	test_garbage();
	test_rehash();
	test_node_argon2();
	return tap_done();
}
