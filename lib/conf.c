/* conf.c: settings from board.conf and the environment, checked at start. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "log.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

#define CONF_DEFAULT_PATH SYSCONFDIR "/board/board.conf"

enum conf_type { CONF_STR, CONF_BOOL, CONF_LONG };

/* The one table of settings: key, environment name, type, range, default. */
static const struct setting {
	const char *key;
	const char *env;
	enum conf_type type;
	long min, max;
	const char *def;
	size_t off;
} settings[] = {
	{ "redis_url", "REDIS_URL", CONF_STR, 0, 0, "redis://127.0.0.1:6379",
	    offsetof(struct conf, redis_url) },
	{ "mongodb_uri", "MONGODB_URI", CONF_STR, 0, 0, NULL,
	    offsetof(struct conf, mongodb_uri) },
	{ "db", "BOARD_DB", CONF_STR, 0, 0, LOCALSTATEDIR "/lib/board/board.db",
	    offsetof(struct conf, db_path) },
	{ "session_secret_name", "SESSION_SECRET_NAME", CONF_STR, 0, 0, NULL,
	    offsetof(struct conf, secret_name) },
	{ "session_secret_file", "SESSION_SECRET_FILE", CONF_STR, 0, 0,
	    LOCALSTATEDIR "/lib/board/session-secret",
	    offsetof(struct conf, secret_file) },
	{ "aws_region", "AWS_REGION", CONF_STR, 0, 0, NULL,
	    offsetof(struct conf, aws_region) },
	{ "secrets_endpoint", "BOARD_SECRETS_ENDPOINT", CONF_STR, 0, 0, NULL,
	    offsetof(struct conf, secrets_endpoint) },
	{ "aws_imdsv1", "BOARD_AWS_IMDSV1", CONF_BOOL, 0, 1, "off",
	    offsetof(struct conf, aws_imdsv1) },
	{ "secret_refresh", "BOARD_SECRET_REFRESH", CONF_LONG, 0, 86400, "300",
	    offsetof(struct conf, secret_refresh) },
	{ "cookie_name", "BOARD_COOKIE_NAME", CONF_STR, 0, 0, "board.sid",
	    offsetof(struct conf, cookie_name) },
	{ "cookie_secure", "BOARD_COOKIE_SECURE", CONF_BOOL, 0, 1, "off",
	    offsetof(struct conf, cookie_secure) },
	{ "session_ttl", "BOARD_SESSION_TTL", CONF_LONG, 60, 31536000, "86400",
	    offsetof(struct conf, session_ttl) },
	{ "login_max_failures", "BOARD_LOGIN_MAX_FAILURES", CONF_LONG, 1,
	    1000000, "10", offsetof(struct conf, login_max_failures) },
	{ "login_window", "BOARD_LOGIN_WINDOW", CONF_LONG, 1, 86400, "900",
	    offsetof(struct conf, login_window) },
	{ "trusted_proxies", "BOARD_TRUSTED_PROXIES", CONF_STR, 0, 0, NULL,
	    offsetof(struct conf, trusted_proxies) },
	/* OWASP's Argon2id minimum: t=2, m=19 MiB, p=1. */
	{ "pwhash_opslimit", "BOARD_PWHASH_OPSLIMIT", CONF_LONG, 1, 100, "2",
	    offsetof(struct conf, pwhash_ops) },
	{ "pwhash_memlimit_kib", "BOARD_PWHASH_MEMLIMIT_KIB", CONF_LONG, 8,
	    4194304, "19456", offsetof(struct conf, pwhash_mem_kib) },
	/* New hashes: argon2id, or bcrypt while the Node services (which
	 * verify bcrypt only) share the users (DATA.md). */
	{ "password_hash", "BOARD_PASSWORD_HASH", CONF_STR, 0, 0, "argon2id",
	    offsetof(struct conf, password_hash) },
	/* bcrypt's own range; 10 is bcrypt's and bcryptjs's usual cost. */
	{ "bcrypt_cost", "BOARD_BCRYPT_COST", CONF_LONG, 4, 31, "10",
	    offsetof(struct conf, bcrypt_cost) },
	{ "store_timeout_ms", "BOARD_STORE_TIMEOUT_MS", CONF_LONG, 10, 60000,
	    "2000", offsetof(struct conf, store_timeout_ms) },
	{ "log_level", "BOARD_LOG_LEVEL", CONF_STR, 0, 0, "info",
	    offsetof(struct conf, log_level) },
	/* A stopping host's health check fails this long first (drain.h). */
	{ "drain_seconds", "BOARD_DRAIN_SECONDS", CONF_LONG, 0, 300, "0",
	    offsetof(struct conf, drain_seconds) },
	{ "drain_file", "BOARD_DRAIN_FILE", CONF_STR, 0, 0, "/run/board/drain",
	    offsetof(struct conf, drain_file) },
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/* Stores the text value of a setting; NULL on success, else a message. */
static char *
set_value(struct conf *c, const struct setting *st, const char *val,
    const char *where)
{
	void *field = (char *)c + st->off;

	switch (st->type) {
	case CONF_STR: {
		char **sp = field;

		free(*sp);
		*sp = val[0] != '\0' ? xstrdup(val) : NULL;
		if (st->def != NULL && *sp == NULL)
			*sp = xstrdup(st->def);
		return NULL;
	}
	case CONF_BOOL: {
		bool *bp = field;

		if (strcasecmp(val, "1") == 0 || strcasecmp(val, "on") == 0 ||
		    strcasecmp(val, "yes") == 0 || strcasecmp(val, "true") == 0)
			*bp = true;
		else if (strcasecmp(val, "0") == 0 ||
		    strcasecmp(val, "off") == 0 ||
		    strcasecmp(val, "no") == 0 ||
		    strcasecmp(val, "false") == 0)
			*bp = false;
		else
			return xasprintf("%s: %s must be on or off", where,
			    st->key);
		return NULL;
	}
	case CONF_LONG: {
		long *lp = field;
		char *end;
		long v;

		errno = 0;
		v = strtol(val, &end, 10);
		if (errno != 0 || end == val || *end != '\0' || v < st->min ||
		    v > st->max) {
			return xasprintf("%s: %s must be an integer in "
			    "%ld..%ld", where, st->key, st->min, st->max);
		}
		*lp = v;
		return NULL;
	}
	}
	return NULL;
}

void
conf_init(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].def != NULL) {
			char *m = set_value(c, &settings[i], settings[i].def,
			    "default");
			free(m);	/* defaults are in range */
		}
}

void
conf_cleanup(struct conf *c)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].type == CONF_STR) {
			char **sp = (char **)((char *)c + settings[i].off);

			free(*sp);
		}
	memset(c, 0, sizeof(*c));
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * A key that looks like a setting name (lower-case letters, digits, '_',
 * at most 32 of them) may be named in a message; anything else may be
 * part of a value and is not.
 */
static bool
conf_key_is_word(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)key[i]) &&
		    !isdigit((unsigned char)key[i]) && key[i] != '_')
			return false;
	return true;
}

static enum board_err
read_file(struct conf *c, const char *path, bool must_exist, char **errmsg)
{
	char line[4096], where[512];
	FILE *f;
	int lineno = 0;
	enum board_err rc = BOARD_OK;

	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT && !must_exist)
			return BOARD_OK;
		*errmsg = xasprintf("config %s: %s", path, strerror(errno));
		return BOARD_EINVAL;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *key, *val, *eq;
		const struct setting *st = NULL;

		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			*errmsg = xasprintf("%s: line too long", where);
			rc = BOARD_EINVAL;
			break;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		/*
		 * The line itself is never quoted back: a malformed one may
		 * be a credential (a mongodb:// URI that lost its key), and
		 * this message goes to the journal.
		 */
		eq = strchr(key, '=');
		if (eq == NULL) {
			*errmsg = xasprintf("%s: expected key = value", where);
			rc = BOARD_EINVAL;
			break;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		/* Allow "quoted values" so a value may keep its spaces. */
		size_t vl = strlen(val);
		if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
			val[vl - 1] = '\0';
			val++;
		}
		for (size_t i = 0; i < NSETTINGS; i++)
			if (strcmp(settings[i].key, key) == 0)
				st = &settings[i];
		if (st == NULL) {
			if (conf_key_is_word(key))
				*errmsg = xasprintf("%s: unknown setting "
				    "\"%s\"", where, key);
			else
				*errmsg = xasprintf("%s: expected key = value",
				    where);
			rc = BOARD_EINVAL;
			break;
		}
		*errmsg = set_value(c, st, val, where);
		if (*errmsg != NULL) {
			rc = BOARD_EINVAL;
			break;
		}
	}
	fclose(f);
	return rc;
}

static enum board_err
check(struct conf *c, char **errmsg)
{
	enum log_level level;

	if (!log_level_parse(c->log_level, &level)) {
		*errmsg = xasprintf("log_level (BOARD_LOG_LEVEL) must be err, "
		    "warn, info or debug");
		return BOARD_EINVAL;
	}
	if (strcmp(c->password_hash, "argon2id") != 0 &&
	    strcmp(c->password_hash, "bcrypt") != 0) {
		*errmsg = xasprintf("password_hash (BOARD_PASSWORD_HASH) must "
		    "be argon2id or bcrypt");
		return BOARD_EINVAL;
	}
	if (c->secret_name != NULL && c->aws_region == NULL) {
		*errmsg = xasprintf("SESSION_SECRET_NAME is set but AWS_REGION "
		    "is not");
		return BOARD_EINVAL;
	}
	for (const char *p = c->cookie_name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("!#$%&'*+-.^_`|~",
		    *p) == NULL) {
			*errmsg = xasprintf("cookie_name (BOARD_COOKIE_NAME) "
			    "must be a cookie token");
			return BOARD_EINVAL;
		}
	/* Browsers refuse these prefixes on a cookie without Secure. */
	if (!c->cookie_secure &&
	    (strncmp(c->cookie_name, "__Host-", 7) == 0 ||
	    strncmp(c->cookie_name, "__Secure-", 9) == 0)) {
		*errmsg = xasprintf("cookie_name (BOARD_COOKIE_NAME) with a "
		    "__Host- or __Secure- prefix needs cookie_secure "
		    "(BOARD_COOKIE_SECURE) on");
		return BOARD_EINVAL;
	}
	return BOARD_OK;
}

static enum board_err
load(struct conf *c, const char *path, bool env, char **errmsg)
{
	enum board_err rc;
	bool must = path != NULL;

	*errmsg = NULL;
	conf_init(c);
	if (path == NULL && env)
		path = getenv("BOARD_CONFIG");
	if (path != NULL && path[0] != '\0')
		must = true;
	else
		path = CONF_DEFAULT_PATH;
	rc = read_file(c, path, must, errmsg);
	if (rc != BOARD_OK)
		return rc;
	for (size_t i = 0; env && i < NSETTINGS; i++) {
		const char *v = getenv(settings[i].env);

		if (v == NULL)
			continue;
		*errmsg = set_value(c, &settings[i], v, settings[i].env);
		if (*errmsg != NULL)
			return BOARD_EINVAL;
	}
	return check(c, errmsg);
}

enum board_err
conf_load(struct conf *c, const char *path, char **errmsg)
{
	return load(c, path, true, errmsg);
}

enum board_err
conf_load_file(struct conf *c, const char *path, char **errmsg)
{
	return load(c, path, false, errmsg);
}
