/* test-password.c: Argon2id and bcrypt hashing, verification of what the
 * Node services wrote (bcryptjs, node-argon2), rehash decisions, and the
 * timing of a failed login. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "password.h"
#include "tap.h"

/* Cheap costs so the test is fast: libsodium's minimums are 1 pass and
 * 8 KiB of memory. */
#define A2 PASSWORD_ARGON2ID
static const struct password_cost cheap = { 1, 8192, A2, 0 };
static const struct password_cost other_ops = { 2, 8192, A2, 0 };
static const struct password_cost other_mem = { 1, 16384, A2, 0 };
/* bcrypt's minimum cost, 4 (16 rounds), for speed. */
static const struct password_cost bcrypt4 = { 1, 8192, PASSWORD_BCRYPT, 4 };
static const struct password_cost bcrypt5 = { 1, 8192, PASSWORD_BCRYPT, 5 };

/*
 * Made by the Node side for "seed-user-password": bcryptjs 3.0.3
 * (hashSync with a generated salt, and with a given "$2a$"/"$2y$" salt)
 * and node-argon2 0.45.1 (argon2i, argon2id with p=2, argon2d).
 */
static const char pw_seed[] = "seed-user-password";
static const char bcryptjs_2b[] =
    "$2b$05$0.bi..OsWNkshXlnoSiBd.7narBVJ46WAKBvWOhRim3FYVz2d2q.O";
static const char bcryptjs_2a[] =
    "$2a$05$abcdefghijklmnopqrstuu7.op0e/IFdZUdyJKmQb9Ioq7ABKpUG.";
static const char bcryptjs_2y[] =
    "$2y$05$abcdefghijklmnopqrstuu7.op0e/IFdZUdyJKmQb9Ioq7ABKpUG.";
static const char node_argon2i[] = "$argon2i$v=19$m=1024,p=1,t=2$"
    "vGeOLM7Nz5UrkOiCKZ8sPg$h2PzOdAWBB3otyzIz2soI0aAwBUmvQoW+IBNxUByd7g";
static const char node_argon2id_p2[] = "$argon2id$v=19$m=2048,p=2,t=2$"
    "rRn3gF+YepH2/P6GBurN1g$1OZfK+9NvplZqtD7w+eFqfad6iYrNjGMFy9/DjNtWlE";
static const char node_argon2d[] = "$argon2d$v=19$m=1024,p=1,t=2$"
    "bw/upwmHsd2OeadO0K9lzw$5LZRoQ2RwTbZWnfvAQmdd4UER+Bcorg1rC9jKlg8r0I";

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
	    "a bcrypt hash one character short is denied");
	is_int(password_verify("$2x$05$abcdefghijklmnopqrstuu7.op0e/IFdZUdyJK"
	    "mQb9Ioq7ABKpUG.", pw_seed, strlen(pw_seed)), BOARD_EDENIED,
	    "bcrypt $2x$ (crypt_blowfish's buggy variant) is not read");
	is_int(password_verify("$2b$03$abcdefghijklmnopqrstuu7.op0e/IFdZUdyJK"
	    "mQb9Ioq7ABKpUG.", pw_seed, strlen(pw_seed)), BOARD_EDENIED,
	    "bcrypt cost 3 (below bcrypt's 4) is denied");
	is_int(password_verify("$2b$05$abcdefghijklmnopqrstuu7.op0e/IFdZUdyJK"
	    "mQb9Ioq7ABKpUG!", pw_seed, strlen(pw_seed)), BOARD_EDENIED,
	    "a character outside bcrypt's alphabet is denied");
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
	ok(!password_needs_rehash(&other_ops, node),
	    "node-argon2 order at the same cost needs no rehash (DATA.md: "
	    "only another scheme or a weaker cost)");
	ok(!password_needs_rehash(&other_ops, h),
	    "  nor does the libsodium original");

	/* The reordering must keep each number with its name. */
	char swapped[PASSWORD_HASH_MAX + 16];
	snprintf(swapped, sizeof(swapped), "%s", node);
	char *p = strstr(swapped, "$m=8,p=1,t=2$");
	if (p != NULL)
		memcpy(p, "$m=8,p=2,t=1$", 13);
	is_int(password_verify(swapped, pw, strlen(pw)), BOARD_EDENIED,
	    "p and t swapped in node order is denied");
}


/* password_inspect()'s description and knownness of hash, under cheap. */
static const char *
described(const char *hash)
{
	static struct password_info pi;

	password_inspect(&cheap, hash, &pi);
	return pi.what;
}

static bool
known(const char *hash)
{
	struct password_info pi;

	password_inspect(&cheap, hash, &pi);
	return pi.known;
}

static void
test_bcrypt(void)
{
	char h[PASSWORD_HASH_MAX];
	static const char pw[] = "correct horse battery staple";
	char long_pw[101];

	is_int(password_hash(&bcrypt4, pw, strlen(pw), h), BOARD_OK,
	    "bcrypt hash at cost 4");
	ok(strncmp(h, "$2b$04$", 7) == 0 && strlen(h) == 60,
	    "  a $2b$ string of 60 characters: %s", h);
	is_int(password_verify(h, pw, strlen(pw)), BOARD_OK,
	    "  the right password verifies");
	is_int(password_verify(h, pw, strlen(pw) - 1), BOARD_EDENIED,
	    "  one character short is denied");
	is_str(described(h), "bcrypt $2b$ cost 4",
	    "  described as bcrypt cost 4");
	h[2] = 'a';
	is_int(password_verify(h, pw, strlen(pw)), BOARD_OK,
	    "  relabelled $2a$ it verifies (same for these passwords)");
	h[2] = 'y';
	is_int(password_verify(h, pw, strlen(pw)), BOARD_OK,
	    "  relabelled $2y$ it verifies");

	is_int(password_verify(bcryptjs_2b, pw_seed, strlen(pw_seed)),
	    BOARD_OK, "a bcryptjs $2b$ hash verifies");
	is_int(password_verify(bcryptjs_2a, pw_seed, strlen(pw_seed)),
	    BOARD_OK, "a bcryptjs $2a$ hash verifies");
	is_int(password_verify(bcryptjs_2y, pw_seed, strlen(pw_seed)),
	    BOARD_OK, "a $2y$ hash verifies");
	is_int(password_verify(bcryptjs_2b, "seed-user-passworD",
	    strlen(pw_seed)), BOARD_EDENIED, "  a wrong password is denied");
	/* crypt_blowfish's published test vector. */
	is_int(password_verify("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0Xo"
	    "uQYb4YMJKvyOeW", "U*U", 3), BOARD_OK,
	    "crypt_blowfish's vector \"U*U\" verifies");

	is_int(password_hash(&bcrypt4, "ab\0cd", 5, h), BOARD_EINVAL,
	    "bcrypt refuses a password holding NUL");
	password_hash(&bcrypt4, "ab", 2, h);
	is_int(password_verify(h, "ab\0cd", 5), BOARD_EDENIED,
	    "  and a NUL never passes for the end");
	memset(long_pw, 'x', 100);
	long_pw[100] = '\0';
	password_hash(&bcrypt4, long_pw, 100, h);
	is_int(password_verify(h, long_pw, 72), BOARD_OK,
	    "bcrypt reads 72 bytes, as bcryptjs does");
}

static void
test_node_hashes(void)
{
	is_int(password_verify(node_argon2i, pw_seed, strlen(pw_seed)),
	    BOARD_OK, "a node-argon2 argon2i hash verifies");
	is_int(password_verify(node_argon2i, "x", 1), BOARD_EDENIED,
	    "  a wrong password is denied");
	is_int(password_verify(node_argon2id_p2, pw_seed, strlen(pw_seed)),
	    BOARD_OK, "a node-argon2 argon2id hash with p=2 verifies");
	is_int(password_verify(node_argon2d, pw_seed, strlen(pw_seed)),
	    BOARD_EDENIED, "argon2d cannot be verified (libsodium has none)");
	ok(!known(node_argon2d), "  and is not a known scheme");
	ok(known(node_argon2i) && known(bcryptjs_2y),
	    "argon2i and bcrypt are known schemes");
	ok(!known("") && !known("plaintext") && !known(NULL),
	    "empty, plain text, NULL are not");
	is_str(described(node_argon2id_p2),
	    "argon2id m=2048 t=2 p=2 (node-argon2 order)", "describe argon2id");
	is_str(described(node_argon2i),
	    "argon2i m=1024 t=2 p=1 (node-argon2 order)", "describe argon2i");
	ok(strncmp(described(node_argon2d), "argon2d", 7) == 0,
	    "describe argon2d: %s", described(node_argon2d));
	is_str(described("$1$abc$def"), "unknown hash scheme",
	    "describe md5-crypt");
	ok(strstr(described(bcryptjs_2b), "7narBVJ46") == NULL,
	    "a description holds no digest");
}

static bool
costlier(const struct password_cost *cost, const char *hash)
{
	struct password_info pi;

	password_inspect(cost, hash, &pi);
	return pi.costlier;
}

static void
test_rehash_schemes(void)
{
	struct password_info pi;
	char h[PASSWORD_HASH_MAX];
	const struct password_cost argon_t1_8m = { 1, 8192 * 1024,
	    PASSWORD_ARGON2ID, 0 };

	ok(password_needs_rehash(&bcrypt5, node_argon2i),
	    "bcrypt configured: an Argon2 hash is rehashed");
	ok(password_needs_rehash(&bcrypt5, "$2b$04$abcdefghijklmnopqrstuu7.op0e"
	    "/IFdZUdyJKmQb9Ioq7ABKpUG."), "  a lower bcrypt cost is");
	ok(!password_needs_rehash(&bcrypt5, bcryptjs_2b),
	    "  the same cost is not");
	ok(!password_needs_rehash(&bcrypt5, bcryptjs_2a) &&
	    !password_needs_rehash(&bcrypt5, bcryptjs_2y),
	    "  nor $2a$/$2y$ at that cost");
	ok(!password_needs_rehash(&bcrypt4, bcryptjs_2b),
	    "  nor a higher cost");
	ok(password_needs_rehash(&cheap, bcryptjs_2b),
	    "argon2id configured: a bcrypt hash is rehashed");
	ok(password_needs_rehash(&cheap, node_argon2i), "  argon2i is");
	ok(!password_needs_rehash(&cheap, node_argon2id_p2),
	    "  a stronger argon2id (m=2048 t=2) is kept");
	ok(password_needs_rehash(&argon_t1_8m, node_argon2id_p2),
	    "  less memory than configured is rehashed");
	password_hash(&bcrypt4, "x1234567", 8, h);
	ok(!password_needs_rehash(&bcrypt4, h),
	    "a fresh bcrypt hash is current");
	ok(costlier(&bcrypt4, bcryptjs_2b) && !costlier(&bcrypt5, bcryptjs_2b),
	    "bcrypt cost 5 is costlier than 4, not than 5");
	ok(costlier(&cheap, node_argon2id_p2) &&
	    !costlier(&argon_t1_8m, node_argon2id_p2),
	    "argon2id m=2048 t=2 is costlier than m=8 t=1, not than m=8192");
	ok(!costlier(&cheap, "garbage"), "an unreadable hash is not");

	/* The other answers of the one reading. */
	password_inspect(&cheap, bcryptjs_2b, &pi);
	is_str(pi.what, "bcrypt $2b$ cost 5", "inspect describes: %s",
	    pi.what);
	ok(pi.known && pi.rehash, "  a bcrypt hash under argon2id: known, "
	    "rehashed");
	password_inspect(&bcrypt5, node_argon2d, &pi);
	ok(!pi.known && pi.rehash && !pi.costlier,
	    "  argon2d: unknown, rehashed, not costlier");
	password_inspect(&bcrypt5, bcryptjs_2a, &pi);
	ok(pi.known && !pi.rehash && !pi.costlier,
	    "  bcrypt at the configured cost: known and current");
}

static void
test_conf(void)
{
	struct conf c;
	struct password_cost pc;

	conf_init(&c);
	password_cost_from_conf(&c, &pc);
	ok(pc.scheme == PASSWORD_ARGON2ID && pc.bcrypt_cost == 10 &&
	    pc.ops == 2 && pc.mem == 19456 * 1024,
	    "defaults: argon2id t=2 m=19456 KiB, bcrypt cost 10");
	free(c.password_hash);
	c.password_hash = xstrdup("bcrypt");
	c.bcrypt_cost = 12;
	password_cost_from_conf(&c, &pc);
	ok(pc.scheme == PASSWORD_BCRYPT && pc.bcrypt_cost == 12,
	    "password_hash = bcrypt, bcrypt_cost = 12");
	conf_cleanup(&c);
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

#define RUNS 5

/* The median time of RUNS login checks against hash (NULL: unknown
 * user), and the shortest. */
static int64_t
login_time(const struct password_cost *c, const char *hash, const char *pw,
    int64_t *shortest)
{
	int64_t t[RUNS];

	for (int i = 0; i < RUNS; i++) {
		int64_t t0 = mono_ns();

		(void)password_login_verify(c, hash, "0123456789abcdef01234567",
		    pw, strlen(pw));
		t[i] = mono_ns() - t0;
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_i64);
	*shortest = t[0];
	return t[RUNS / 2];
}

static void
test_login_timing(void)
{
	/* argon2id configured, cheap; bcrypt cost 8 (about 15 ms): the
	 * two schemes differ a hundredfold, as bcrypt 10 and Argon2id at
	 * OWASP's cost differ some twofold in production. */
	const struct password_cost c = { 1, 8192, PASSWORD_ARGON2ID, 8 };
	const struct password_cost cb = { 1, 8192, PASSWORD_BCRYPT, 8 };
	char argon[PASSWORD_HASH_MAX], bc[PASSWORD_HASH_MAX];
	static const char pw[] = "the right password";
	int64_t floor, unk, kb, ka, kx, ok_a, s_unk, s_kb, s_ka, s_kx, s_ok;

	password_hash(&c, pw, strlen(pw), argon);
	password_hash(&cb, pw, strlen(pw), bc);
	floor = password_login_floor_ns(&c);
	diag("floor %.1f ms", floor / 1e6);
	ok(floor > 0, "the floor is measured");
	unk = login_time(&c, NULL, "a wrong password", &s_unk);
	kb = login_time(&c, bc, "a wrong password", &s_kb);
	ka = login_time(&c, argon, "a wrong password", &s_ka);
	kx = login_time(&c, "$argon2d$v=19$m=8,t=1,p=1$AAAA$AAAA",
	    "a wrong password", &s_kx);
	ok_a = login_time(&c, argon, pw, &s_ok);
	diag("median ms: unknown %.1f, bcrypt %.1f, argon2id %.1f, "
	    "unreadable %.1f, right password %.2f", unk / 1e6, kb / 1e6,
	    ka / 1e6, kx / 1e6, ok_a / 1e6);
	/* The mechanism, exactly: no failure returns before the floor. */
	ok(s_unk >= floor && s_kb >= floor && s_ka >= floor && s_kx >= floor,
	    "no failed check returns before the floor");
	/*
	 * The effect (an unknown user and each kind of known one take about
	 * the same time) is reported, not asserted: it is a timing, and on a
	 * busy machine a bcrypt check can itself outlast the floor measured
	 * when the machine was quieter (a known limit, SECURITY.md). Timings
	 * belong in the benchmarks; the mechanism above is what is tested.
	 */
	diag("spread from the unknown user: bcrypt %+.1f ms, argon2id %+.1f"
	    " ms, unreadable %+.1f ms (floor %.1f ms)", (kb - unk) / 1e6,
	    (ka - unk) / 1e6, (kx - unk) / 1e6, floor / 1e6);
	ok(ok_a < floor / 2, "a right password is not held back");
	is_int(password_login_verify(&c, bc, "u", pw, strlen(pw)), BOARD_OK,
	    "a right bcrypt password passes the login check");
	is_int(password_login_verify(&c, NULL, "u", pw, strlen(pw)),
	    BOARD_EDENIED, "an unknown user never passes");
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
	test_bcrypt();
	test_node_hashes();
	test_rehash_schemes();
	test_conf();
	test_login_timing();
	return tap_done();
}
