/* test-cidr.c: trusted-proxy ranges and the login-throttling address key. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "httpc.h"
#include "tap.h"

static struct cidr_list *
parse_ok(const char *text, size_t want_len)
{
	struct cidr_list *l = NULL;
	char *err = NULL;
	enum board_err rc = cidr_list_new(text, &l, &err);

	ok(rc == BOARD_OK && l != NULL && err == NULL &&
	    cidr_list_len(l) == want_len, "parses \"%s\" (%zu entries)",
	    text != NULL ? text : "(null)", want_len);
	if (err != NULL)
		diag("  %s", err);
	free(err);
	return l;
}

static void
parse_bad(const char *text, const char *entry)
{
	/* Anything but NULL, which it must become. */
	struct cidr_list *l = (struct cidr_list *)&l;
	char *err = NULL;
	enum board_err rc = cidr_list_new(text, &l, &err);

	ok(rc == BOARD_EINVAL && l == NULL && err != NULL &&
	    strstr(err, entry) != NULL &&
	    strncmp(err, "trusted_proxies: ", 17) == 0,
	    "rejects \"%s\", naming the key and '%s'", text, entry);
	if (err != NULL)
		diag("  %s", err);
	free(err);
}

static void
match_is(const struct cidr_list *l, const char *addr, bool want)
{
	ok(cidr_list_match(l, addr, strlen(addr)) == want, "%s %s", addr,
	    want ? "matches" : "does not match");
}

static void
key_is(const char *addr, const char *want)
{
	char key[CIDR_KEY_MAX];

	memset(key, 'x', sizeof(key));
	cidr_client_key(addr, key);
	is_str(key, want, "throttle key of %s", addr != NULL ? addr :
	    "(null)");
}

static void
test_parse(void)
{
	struct cidr_list *l;

	l = parse_ok(NULL, 0);
	match_is(l, "127.0.0.1", false);
	cidr_list_free(l);
	cidr_list_free(parse_ok("", 0));
	cidr_list_free(parse_ok(" ,\t, ", 0));
	cidr_list_free(parse_ok("10.0.0.1 10.0.0.2,::1", 3));
	cidr_list_free(parse_ok("10.0.0.0/8, 172.16.0.0/12,192.168.0.0/16", 3));
	cidr_list_free(parse_ok("2001:db8::/32 fd00::/8 ::1/128 [::1]", 4));
	cidr_list_free(parse_ok("0.0.0.0/0 ::/0", 2));
	cidr_list_free(parse_ok("::ffff:10.0.0.0/104", 1));
	cidr_list_free(NULL);

	parse_bad("10.0.0.1 proxy.example.com", "proxy.example.com");
	parse_bad("10.0.0.0/33", "10.0.0.0/33");
	parse_bad("2001:db8::/129", "2001:db8::/129");
	parse_bad("10.0.0.0/", "10.0.0.0/");
	parse_bad("10.0.0.0/8x", "10.0.0.0/8x");
	parse_bad("10.0.0.0/-8", "10.0.0.0/-8");
	parse_bad("10.0.0.0/0008", "10.0.0.0/0008");
	parse_bad("/8", "/8");
	parse_bad("10.0.0.1/8", "bits set past its prefix");
	parse_bad("203.0.113.7/31", "203.0.113.7/31");
	parse_bad("::ffff:10.0.0.0/33", "::ffff:10.0.0.0/33");
	parse_bad("2001:db8::1/64", "2001:db8::1/64");
	parse_bad("10.0.0", "10.0.0");
	parse_bad("10.0.0.256", "10.0.0.256");
	parse_bad("1.2.3.4.5", "1.2.3.4.5");
	parse_bad("::1::2", "::1::2");
	parse_bad("fe80::1%eth0", "fe80::1%eth0");
}

static void
test_match(void)
{
	struct cidr_list *l = parse_ok("10.0.0.1 10.1.0.0/16 192.0.2.128/25 "
	    "2001:db8:1::/48 ::1 100.64.0.0/10", 6);

	match_is(l, "10.0.0.1", true);
	match_is(l, "10.0.0.10", false);	/* a plain address is /32 */
	match_is(l, "10.0.0.2", false);
	match_is(l, "10.1.0.0", true);
	match_is(l, "10.1.255.255", true);
	match_is(l, "10.2.0.0", false);
	match_is(l, "192.0.2.128", true);
	match_is(l, "192.0.2.255", true);
	match_is(l, "192.0.2.127", false);
	match_is(l, "100.64.0.1", true);
	match_is(l, "100.127.255.255", true);
	match_is(l, "100.128.0.0", false);
	match_is(l, "::ffff:10.1.2.3", true);	/* IPv4 through [::] */
	match_is(l, "::ffff:10.2.2.3", false);
	match_is(l, "2001:db8:1::1", true);
	match_is(l, "2001:db8:1:ffff:ffff:ffff:ffff:ffff", true);
	match_is(l, "2001:DB8:1:0:0:0:0:5", true);
	match_is(l, "[2001:db8:1::1]", true);
	match_is(l, "2001:db8:2::1", false);
	match_is(l, "::1", true);
	match_is(l, "::2", false);
	match_is(l, "0:0:0:0:0:0:0:1", true);
	match_is(l, "", false);
	match_is(l, "unknown", false);
	match_is(l, "10.1.0.0/16", false);	/* a range: no address */
	match_is(l, " 10.0.0.1", false);
	match_is(l, "[10.0.0.1", false);
	ok(cidr_list_match(l, "10.0.0.1x", 8),
	    "the length, not a NUL, ends the address");
	cidr_list_free(l);

	l = parse_ok("::/0", 1);
	match_is(l, "2001:db8::1", true);
	match_is(l, "203.0.113.9", true);	/* mapped: inside ::/0 */
	cidr_list_free(l);
	l = parse_ok("0.0.0.0/0", 1);
	match_is(l, "203.0.113.9", true);
	match_is(l, "2001:db8::1", false);
	cidr_list_free(l);
	l = parse_ok("203.0.113.6/31 ::ffff:10.0.0.0/104", 2);
	match_is(l, "203.0.113.6", true);
	match_is(l, "203.0.113.7", true);
	match_is(l, "203.0.113.8", false);
	match_is(l, "10.9.8.7", true);
	match_is(l, "11.9.8.7", false);
	cidr_list_free(l);
	ok(!cidr_list_match(NULL, "10.0.0.1", 8),
	    "a NULL list matches nothing");
}

static void
test_key(void)
{
	char long_text[200];

	key_is("203.0.113.9", "203.0.113.9");
	key_is("::ffff:203.0.113.9", "203.0.113.9");
	key_is("2001:db8:1:2::5", "2001:db8:1:2::/64");
	key_is("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64");
	key_is("2001:DB8:0001:0002:0:0:0:1", "2001:db8:1:2::/64");
	key_is("[2001:db8:1:2::7]", "2001:db8:1:2::/64");
	key_is("2001:db8:1:3::5", "2001:db8:1:3::/64");
	key_is("::1", "::/64");
	key_is("fe80::1%eth0", "fe80::1%eth0");
	key_is("unknown", "unknown");
	key_is("", "");
	key_is(NULL, "");
	memset(long_text, 'a', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	{
		char key[CIDR_KEY_MAX];

		cidr_client_key(long_text, key);
		ok(strlen(key) == CIDR_KEY_MAX - 1 &&
		    strspn(key, "a") == CIDR_KEY_MAX - 1,
		    "text that is no address is cut to the key's size");
	}
}

static void
url_is(const char *url, const char *local, bool want)
{
	ok(httpc_url_is_private(url, local) == want, "%s: %s", url,
	    want ? "a secret may go there" : "refused");
}

/* httpc_url_is_private: a cidr list says where plain http may go. */
static void
test_url(void)
{
	static const char lo[] = "127.0.0.0/8 ::1";
	static const char ecs[] = "127.0.0.0/8 ::1 169.254.170.2 "
	    "169.254.170.23 fd00:ec2::23";

	url_is("https://secretsmanager.example.com/", lo, true);
	url_is("https://10.1.2.3:8443/", lo, true);
	url_is("http://127.0.0.1:4566/", lo, true);
	url_is("http://127.9.8.7/", lo, true);
	url_is("http://localhost:1", lo, true);
	url_is("http://LocalHost/", lo, true);
	url_is("http://[::1]:1/", lo, true);
	url_is("http://[::ffff:127.0.0.1]/", lo, true);
	url_is("http://secretsmanager.example.com/", lo, false);
	url_is("http://127.0.0.1.example.com/", lo, false);
	url_is("http://128.0.0.1/", lo, false);
	url_is("http://[::2]/", lo, false);
	url_is("http://169.254.170.2/v2/creds", lo, false);
	url_is("ftp://127.0.0.1/", lo, false);
	url_is("127.0.0.1:1", lo, false);
	url_is("", lo, false);
	url_is("http://169.254.170.2/v2/creds", ecs, true);
	url_is("http://169.254.170.23/v1/creds", ecs, true);
	url_is("http://[fd00:ec2::23]/v1/creds", ecs, true);
	url_is("http://169.254.170.3/", ecs, false);
	url_is("http://[fd00:ec2::24]/", ecs, false);
}

int
main(void)
{
	test_parse();
	test_match();
	test_key();
	test_url();
	return tap_done();
}
