/* test-conf.c: defaults, board.conf parsing, environment overrides and the
 * start-up errors that name their setting. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "tap.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

static char dir[] = "/tmp/test-conf.XXXXXX";
static char path[256];

/* Every setting: its board.conf key and its variable (conf.c's table). */
static const struct {
	const char *key, *env;
} keys[] = {
	{ "redis_url", "REDIS_URL" },
	{ "mongodb_uri", "MONGODB_URI" },
	{ "db", "BOARD_DB" },
	{ "session_secret_name", "SESSION_SECRET_NAME" },
	{ "session_secret_file", "SESSION_SECRET_FILE" },
	{ "aws_region", "AWS_REGION" },
	{ "secrets_endpoint", "BOARD_SECRETS_ENDPOINT" },
	{ "aws_imdsv1", "BOARD_AWS_IMDSV1" },
	{ "secret_refresh", "BOARD_SECRET_REFRESH" },
	{ "cookie_name", "BOARD_COOKIE_NAME" },
	{ "cookie_secure", "BOARD_COOKIE_SECURE" },
	{ "session_ttl", "BOARD_SESSION_TTL" },
	{ "login_max_failures", "BOARD_LOGIN_MAX_FAILURES" },
	{ "login_window", "BOARD_LOGIN_WINDOW" },
	{ "trusted_proxies", "BOARD_TRUSTED_PROXIES" },
	{ "pwhash_opslimit", "BOARD_PWHASH_OPSLIMIT" },
	{ "pwhash_memlimit_kib", "BOARD_PWHASH_MEMLIMIT_KIB" },
	{ "password_hash", "BOARD_PASSWORD_HASH" },
	{ "bcrypt_cost", "BOARD_BCRYPT_COST" },
	{ "store_timeout_ms", "BOARD_STORE_TIMEOUT_MS" },
	{ "log_level", "BOARD_LOG_LEVEL" },
	{ "drain_seconds", "BOARD_DRAIN_SECONDS" },
	{ "drain_file", "BOARD_DRAIN_FILE" },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static void
clear_env(void)
{
	unsetenv("BOARD_CONFIG");
	for (size_t i = 0; i < NKEYS; i++)
		unsetenv(keys[i].env);
}

static void
write_conf(const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
}

/* Loads text from a file (environment included); returns the code, leaves
 * the message in *msg (caller frees) and the settings in c. */
static enum board_err
load_text(struct conf *c, const char *text, char **msg)
{
	write_conf(text);
	return conf_load(c, path, msg);
}

/* The load fails and its message holds each of the NULL-ended words. */
static void
fails_naming(const char *text, const char *what, ...)
{
	struct conf c;
	char *msg = NULL;
	enum board_err rc = load_text(&c, text, &msg);
	va_list ap;
	const char *w;
	bool all = msg != NULL;

	is_int(rc, BOARD_EINVAL, "%s: rejected", what);
	va_start(ap, what);
	while ((w = va_arg(ap, const char *)) != NULL)
		if (msg == NULL || strstr(msg, w) == NULL)
			all = false;
	va_end(ap);
	ok(all, "  the message names it: %s", msg ? msg : "(none)");
	free(msg);
	conf_cleanup(&c);
}

/*
 * The load fails, its message names the line (":N") and does not repeat
 * the text hidden: a malformed line may be a credential.
 */
static void
fails_hiding(const char *text, const char *what, const char *line,
    const char *hidden)
{
	struct conf c;
	char *msg = NULL;

	is_int(load_text(&c, text, &msg), BOARD_EINVAL, "%s: rejected", what);
	ok(msg != NULL && strstr(msg, line) != NULL,
	    "  the message names the line %s: %s", line, msg ? msg : "(none)");
	ok(msg != NULL && strstr(msg, hidden) == NULL,
	    "  and does not echo \"%s\"", hidden);
	free(msg);
	conf_cleanup(&c);
}

static void
test_defaults(void)
{
	struct conf c;

	conf_init(&c);
	is_str(c.redis_url, "redis://127.0.0.1:6379", "default: redis_url");
	ok(c.mongodb_uri == NULL, "default: no mongodb_uri (SQLite)");
	is_str(c.db_path, LOCALSTATEDIR "/lib/board/board.db",
	    "default: db path");
	ok(c.secret_name == NULL, "default: no secret name");
	is_str(c.secret_file, LOCALSTATEDIR "/lib/board/session-secret",
	    "default: secret file");
	ok(c.aws_region == NULL, "default: no region");
	ok(!c.aws_imdsv1, "default: no IMDSv1 (the token is required)");
	is_str(c.cookie_name, "board.sid", "default: cookie name");
	ok(!c.cookie_secure, "default: cookie not Secure");
	is_int(c.session_ttl, 86400, "default: session_ttl");
	is_int(c.secret_refresh, 300, "default: secret_refresh");
	is_int(c.login_max_failures, 10, "default: login_max_failures");
	is_int(c.login_window, 900, "default: login_window");
	ok(c.trusted_proxies == NULL, "default: no trusted proxies");
	is_int(c.pwhash_ops, 2, "default: pwhash ops (OWASP t=2)");
	is_int(c.pwhash_mem_kib, 19456, "default: pwhash mem (OWASP 19 MiB)");
	is_int(c.store_timeout_ms, 2000, "default: store_timeout_ms");
	is_str(c.log_level, "info", "default: log level");
	is_str(c.password_hash, "argon2id", "default: password_hash");
	is_int(c.bcrypt_cost, 10, "default: bcrypt_cost");
	is_int(c.drain_seconds, 0, "default: drain_seconds");
	is_str(c.drain_file, "/run/board/drain", "default: drain_file");
	conf_cleanup(&c);

	/* An empty file gives the defaults too. */
	char *msg = NULL;
	is_int(load_text(&c, "", &msg), BOARD_OK, "an empty file loads");
	is_str(c.cookie_name, "board.sid", "  with the default cookie name");
	free(msg);
	conf_cleanup(&c);
}

static void
test_file(void)
{
	struct conf c;
	char *msg = NULL;

	is_int(load_text(&c,
	    "# board.conf for a test\n"
	    "\n"
	    "   # an indented comment\n"
	    "redis_url = unix:/tmp/redis.sock\n"
	    "\t\n"
	    "db=/tmp/x.db\n"
	    "  session_ttl   =   3600  \n"
	    "cookie_name = \"my.sid\"\n"
	    "trusted_proxies = \"127.0.0.1, ::1\"\n"
	    "log_level = debug\n"
	    "login_max_failures = 5\n"
	    "pwhash_opslimit = 1\n"
	    "pwhash_memlimit_kib = 8\n"
	    "store_timeout_ms = 60000\n"
	    "secret_refresh = 0\n"
	    "mongodb_uri = mongodb://h/db?a=b\n"
	    "session_secret_file = /run/x", &msg), BOARD_OK,
	    "a file with comments, blank lines and quotes loads");
	if (msg != NULL)
		diag("  %s", msg);
	is_str(c.redis_url, "unix:/tmp/redis.sock", "  redis_url");
	is_str(c.db_path, "/tmp/x.db", "  db without spaces around '='");
	is_int(c.session_ttl, 3600, "  session_ttl with padding");
	is_str(c.cookie_name, "my.sid", "  quoted value unquoted");
	is_str(c.trusted_proxies, "127.0.0.1, ::1",
	    "  quoted value keeps its spaces");
	is_str(c.log_level, "debug", "  log_level");
	is_int(c.login_max_failures, 5, "  login_max_failures");
	is_int(c.pwhash_ops, 1, "  pwhash_opslimit at its minimum");
	is_int(c.pwhash_mem_kib, 8, "  pwhash_memlimit_kib at its minimum");
	is_int(c.store_timeout_ms, 60000, "  store_timeout_ms at its maximum");
	is_int(c.secret_refresh, 0, "  secret_refresh 0");
	is_str(c.mongodb_uri, "mongodb://h/db?a=b", "  '=' inside a value");
	is_str(c.secret_file, "/run/x", "  last line without a newline");
	free(msg);
	conf_cleanup(&c);

	fails_naming("redis_url = x\n\nbogus_key = 1\n", "unknown key",
	    "bogus_key", ":3", NULL);
	fails_naming("just some words\n", "a line without '='", ":1", NULL);
	/* A URI whose "mongodb_uri =" was lost must not reach the journal. */
	fails_hiding("log_level = info\nmongodb://user:pass@db.example/b\n",
	    "a credential line without its key", ":2", "pass");
	fails_hiding("mongodb://user:pass@db.example/b?w=majority\n",
	    "a credential line with '=' but no key", ":1", "pass");
	fails_hiding("redis_url: redis://:hunter2@r.example=1\n",
	    "a key that is not a setting name", ":1", "hunter2");
	fails_naming("password_hash = md5\n", "an unknown hash scheme",
	    "password_hash", "argon2id or bcrypt", NULL);
	fails_naming("bcrypt_cost = 3\n", "bcrypt_cost below bcrypt's 4",
	    "bcrypt_cost", "4..31", NULL);
	fails_naming("drain_seconds = 301\n", "drain_seconds over 300",
	    "drain_seconds", "0..300", NULL);
	fails_naming("session_ttl = 59\n", "below the minimum",
	    "session_ttl", NULL);
	fails_naming("session_ttl = 31536001\n", "above the maximum",
	    "session_ttl", NULL);
	fails_naming("session_ttl = 1h\n", "a unit suffix", "session_ttl",
	    NULL);
	fails_naming("login_window = abc\n", "not a number", "login_window",
	    NULL);
	fails_naming("login_window =\n", "empty number", "login_window",
	    NULL);
	fails_naming("pwhash_memlimit_kib = 99999999999999999999999\n",
	    "overflowing number", "pwhash_memlimit_kib", NULL);
	fails_naming("store_timeout_ms = -5\n", "negative number",
	    "store_timeout_ms", NULL);
	fails_naming("pwhash_opslimit = 1.5\n", "fraction",
	    "pwhash_opslimit", NULL);
	fails_naming("cookie_secure = maybe\n", "bad bool", "cookie_secure",
	    NULL);
	fails_naming("log_level = verbose\n", "bad log level", "log_level",
	    NULL);
	fails_naming("cookie_name = bad;name\n", "cookie name with ';'",
	    "cookie_name", NULL);
	fails_naming("cookie_name = \"bad name\"\n", "cookie name with a space",
	    "cookie_name", NULL);
	fails_naming("cookie_name = a=b\n", "cookie name with '='",
	    "cookie_name", NULL);
	fails_naming("session_secret_name = board/prod\n",
	    "secret name without a region", "AWS_REGION", NULL);

	struct buf b;
	buf_init(&b);
	for (int i = 0; i < 5000; i++)
		buf_putc(&b, 'x');
	fails_naming(buf_cstr(&b), "a 5000-byte line", ":1", NULL);
	buf_cleanup(&b);

	is_int(load_text(&c, "aws_imdsv1 = on\ncookie_secure = on\n"
	    "cookie_name = __Host-board.sid\n", &msg), BOARD_OK,
	    "aws_imdsv1 and a __Host- cookie name (Secure) load");
	ok(c.aws_imdsv1, "  aws_imdsv1 on");
	is_str(c.cookie_name, "__Host-board.sid", "  the __Host- name kept");
	free(msg);
	msg = NULL;
	conf_cleanup(&c);
	setenv("BOARD_AWS_IMDSV1", "1", 1);
	is_int(load_text(&c, "", &msg), BOARD_OK, "BOARD_AWS_IMDSV1=1 loads");
	ok(c.aws_imdsv1, "  and allows IMDSv1");
	unsetenv("BOARD_AWS_IMDSV1");
	free(msg);
	msg = NULL;
	conf_cleanup(&c);
	/* A browser drops a __Host-/__Secure- cookie that lacks Secure. */
	fails_naming("cookie_name = __Host-board.sid\n",
	    "a __Host- name without cookie_secure", "cookie_name",
	    "cookie_secure", NULL);
	fails_naming("cookie_name = __Secure-board.sid\ncookie_secure = off\n",
	    "a __Secure- name without cookie_secure", "cookie_name",
	    "cookie_secure", NULL);

	is_int(load_text(&c, "session_secret_name = board/prod\n"
	    "aws_region = eu-west-1\n", &msg), BOARD_OK,
	    "secret name with a region loads");
	is_str(c.secret_name, "board/prod", "  secret name");
	is_str(c.aws_region, "eu-west-1", "  region");
	free(msg);
	conf_cleanup(&c);
}

static void
test_bools(void)
{
	static const struct { const char *v; bool want; } cases[] = {
		{ "on", true }, { "ON", true }, { "yes", true },
		{ "true", true }, { "True", true }, { "1", true },
		{ "off", false }, { "Off", false }, { "no", false },
		{ "false", false }, { "FALSE", false }, { "0", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf c;
		char *msg = NULL;
		struct buf b;

		buf_init(&b);
		/* Start from the opposite value so a no-op cannot pass. */
		buf_printf(&b, "cookie_secure = %s\ncookie_secure = %s\n",
		    cases[i].want ? "off" : "on", cases[i].v);
		is_int(load_text(&c, buf_cstr(&b), &msg), BOARD_OK,
		    "cookie_secure = %s loads", cases[i].v);
		ok(c.cookie_secure == cases[i].want, "  and is %s",
		    cases[i].want ? "on" : "off");
		free(msg);
		conf_cleanup(&c);
		buf_cleanup(&b);
	}
}

static void
test_env(void)
{
	struct conf c;
	char *msg = NULL;
	static const char file[] = "redis_url = unix:/file.sock\n"
	    "session_ttl = 3600\ncookie_secure = off\ncookie_name = file.sid\n";

	setenv("REDIS_URL", "redis://127.0.0.1:6399/2", 1);
	setenv("BOARD_SESSION_TTL", "120", 1);
	setenv("BOARD_COOKIE_SECURE", "yes", 1);
	is_int(load_text(&c, file, &msg), BOARD_OK,
	    "file plus environment loads");
	is_str(c.redis_url, "redis://127.0.0.1:6399/2",
	    "  REDIS_URL overrides redis_url");
	is_int(c.session_ttl, 120, "  BOARD_SESSION_TTL overrides session_ttl");
	ok(c.cookie_secure, "  BOARD_COOKIE_SECURE overrides cookie_secure");
	is_str(c.cookie_name, "file.sid", "  unset variables leave the file's");
	free(msg);
	conf_cleanup(&c);

	is_int(conf_load_file(&c, path, &msg), BOARD_OK,
	    "conf_load_file ignores the environment");
	is_str(c.redis_url, "unix:/file.sock", "  redis_url from the file");
	is_int(c.session_ttl, 3600, "  session_ttl from the file");
	free(msg);
	conf_cleanup(&c);
	clear_env();

	setenv("BOARD_SESSION_TTL", "5", 1);
	fails_naming("", "out-of-range environment value", "session_ttl",
	    "BOARD_SESSION_TTL", NULL);
	setenv("BOARD_SESSION_TTL", "soon", 1);
	fails_naming("", "non-numeric environment value", "BOARD_SESSION_TTL",
	    NULL);
	clear_env();
	setenv("BOARD_COOKIE_SECURE", "sometimes", 1);
	fails_naming("", "bad environment bool", "BOARD_COOKIE_SECURE", NULL);
	clear_env();
	setenv("BOARD_COOKIE_NAME", "bad name", 1);
	fails_naming("", "bad cookie name from the environment",
	    "BOARD_COOKIE_NAME", NULL);
	clear_env();
	setenv("SESSION_SECRET_NAME", "board/prod", 1);
	fails_naming("", "SESSION_SECRET_NAME without AWS_REGION",
	    "AWS_REGION", NULL);
	setenv("AWS_REGION", "us-east-1", 1);
	is_int(load_text(&c, "", &msg), BOARD_OK,
	    "SESSION_SECRET_NAME with AWS_REGION loads");
	is_str(c.secret_name, "board/prod", "  secret name from env");
	free(msg);
	conf_cleanup(&c);
	clear_env();

	/* BOARD_CONFIG names the file when no path is given. */
	write_conf("session_ttl = 777\n");
	setenv("BOARD_CONFIG", path, 1);
	is_int(conf_load(&c, NULL, &msg), BOARD_OK, "BOARD_CONFIG is read");
	is_int(c.session_ttl, 777, "  its value is used");
	free(msg);
	conf_cleanup(&c);

	char missing[300];
	snprintf(missing, sizeof(missing), "%s/no-such.conf", dir);
	setenv("BOARD_CONFIG", missing, 1);
	msg = NULL;
	is_int(conf_load(&c, NULL, &msg), BOARD_EINVAL,
	    "BOARD_CONFIG naming a missing file is an error");
	ok(msg != NULL && strstr(msg, "no-such.conf") != NULL,
	    "  the message names the file: %s", msg ? msg : "(none)");
	free(msg);
	conf_cleanup(&c);
	clear_env();

	msg = NULL;
	is_int(conf_load(&c, missing, &msg), BOARD_EINVAL,
	    "an explicit missing path is an error");
	free(msg);
	conf_cleanup(&c);
}

static bool
same_str(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static bool
same_conf(const struct conf *a, const struct conf *b)
{
	return same_str(a->redis_url, b->redis_url) &&
	    same_str(a->mongodb_uri, b->mongodb_uri) &&
	    same_str(a->db_path, b->db_path) &&
	    same_str(a->secret_name, b->secret_name) &&
	    same_str(a->secret_file, b->secret_file) &&
	    same_str(a->aws_region, b->aws_region) &&
	    same_str(a->secrets_endpoint, b->secrets_endpoint) &&
	    a->aws_imdsv1 == b->aws_imdsv1 &&
	    a->secret_refresh == b->secret_refresh &&
	    same_str(a->cookie_name, b->cookie_name) &&
	    a->cookie_secure == b->cookie_secure &&
	    a->session_ttl == b->session_ttl &&
	    a->login_max_failures == b->login_max_failures &&
	    a->login_window == b->login_window &&
	    same_str(a->trusted_proxies, b->trusted_proxies) &&
	    a->pwhash_ops == b->pwhash_ops &&
	    a->pwhash_mem_kib == b->pwhash_mem_kib &&
	    same_str(a->password_hash, b->password_hash) &&
	    a->bcrypt_cost == b->bcrypt_cost &&
	    a->store_timeout_ms == b->store_timeout_ms &&
	    same_str(a->log_level, b->log_level) &&
	    a->drain_seconds == b->drain_seconds &&
	    same_str(a->drain_file, b->drain_file);
}

/*
 * etc/board.conf, the file operators edit, lists every key as a commented
 * "#key = default" line: with those lines alone uncommented it must load
 * and give exactly the defaults.
 */
static void
test_example(void)
{
	const char *srcdir = getenv("srcdir");
	char src[1024], line[4096];
	bool listed[NKEYS] = { false };
	struct buf text;
	struct conf c, d;
	char *msg = NULL;
	FILE *f;
	size_t n = 0;

	snprintf(src, sizeof(src), "%s/etc/board.conf",
	    srcdir != NULL ? srcdir : ".");
	f = fopen(src, "r");
	ok(f != NULL, "read %s", src);
	if (f == NULL)
		return;
	buf_init(&text);
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t k = strspn(line + 1, "abcdefghijklmnopqrstuvwxyz"
		    "0123456789_");
		const char *val = line + 1 + k;

		if (line[0] != '#' || k == 0 || strncmp(val, " =", 2) != 0 ||
		    (val[2] != ' ' && val[2] != '\n'))
			continue;
		for (size_t i = 0; i < NKEYS; i++)
			if (strlen(keys[i].key) == k &&
			    strncmp(line + 1, keys[i].key, k) == 0)
				listed[i] = true;
		/* The file writes $(localstatedir) as /var. */
		val += 3;
		if (strncmp(val, "/var/", 5) == 0)
			buf_printf(&text, "%.*s = %s%s", (int)k, line + 1,
			    LOCALSTATEDIR, val + 4);
		else
			buf_puts(&text, line + 1);
		n++;
	}
	fclose(f);
	for (size_t i = 0; i < NKEYS; i++)
		if (!listed[i])
			diag("%s: no \"#%s = ...\" line", src, keys[i].key);
	ok(memchr(listed, false, NKEYS) == NULL,
	    "etc/board.conf lists all %zu keys (%zu lines)", NKEYS, n);
	is_int(load_text(&c, buf_cstr(&text), &msg), BOARD_OK,
	    "its commented defaults, uncommented, load%s%s", msg ? ": " : "",
	    msg ? msg : "");
	conf_init(&d);
	ok(same_conf(&c, &d), "  and equal conf.c's defaults");
	free(msg);
	conf_cleanup(&c);
	conf_cleanup(&d);
	buf_cleanup(&text);
}

/* The names log_level accepts, and the levels responders log at. */
static void
test_log_levels(void)
{
	static const struct { const char *name; int level; } t[] = {
		{ "err", LOG_ERR }, { "warn", LOG_WARN }, { "info", LOG_INFO },
		{ "debug", LOG_DEBUG }, { "WARN", -1 }, { "verbose", -1 },
		{ "", -1 }, { "info ", -1 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum log_level l = LOG_ERR;
		bool known = log_level_parse(t[i].name, &l);

		ok(t[i].level < 0 ? !known : known && (int)l == t[i].level,
		    "log level \"%s\": %s", t[i].name,
		    t[i].level < 0 ? "refused" : "known");
	}
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/board.conf", dir);
	clear_env();
	test_defaults();
	test_file();
	test_bools();
	test_env();
	test_example();
	test_log_levels();
	unlink(path);
	rmdir(dir);
	return tap_done();
}
