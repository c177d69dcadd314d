/* conf.h: the service's settings, from board.conf and the environment. */
#ifndef BOARD_CONF_H
#define BOARD_CONF_H

#include <stdbool.h>

#include "board.h"

/*
 * Every setting. Strings are NULL when unset and have no default.
 * Each has a board.conf key and an environment variable that overrides it
 * (conf.c's table is the list; etc/board.conf documents them). The table
 * is the only home of the defaults: modules take these values as they
 * are, so a struct conf made by hand (tests) sets what its module reads.
 */
struct conf {
	char *redis_url;	/* redis_url / REDIS_URL */
	char *mongodb_uri;	/* mongodb_uri / MONGODB_URI: set = MongoDB */
	char *db_path;		/* db / BOARD_DB: SQLite file */
	char *secret_name;	/* session_secret_name / SESSION_SECRET_NAME */
	char *secret_file;	/* session_secret_file / SESSION_SECRET_FILE */
	char *aws_region;	/* aws_region / AWS_REGION */
	char *secrets_endpoint;	/* secrets_endpoint / BOARD_SECRETS_ENDPOINT:
				   https, or http on a loopback address */
	bool aws_imdsv1;	/* aws_imdsv1 / BOARD_AWS_IMDSV1: allow EC2
				   metadata without a token (IMDSv1) */
	long secret_refresh;	/* secret_refresh / BOARD_SECRET_REFRESH, s;
				   0: re-read only when a signature misses */
	char *cookie_name;	/* cookie_name / BOARD_COOKIE_NAME */
	bool cookie_secure;	/* cookie_secure / BOARD_COOKIE_SECURE */
	long session_ttl;	/* session_ttl / BOARD_SESSION_TTL, seconds */
	long login_max_failures; /* login_max_failures /
				    BOARD_LOGIN_MAX_FAILURES */
	long login_window;	/* login_window / BOARD_LOGIN_WINDOW, seconds */
	char *trusted_proxies;	/* trusted_proxies / BOARD_TRUSTED_PROXIES:
				   addresses and CIDR ranges (cidr.h) */
	long pwhash_ops;	/* pwhash_opslimit / BOARD_PWHASH_OPSLIMIT */
	long pwhash_mem_kib;	/* pwhash_memlimit_kib /
				   BOARD_PWHASH_MEMLIMIT_KIB */
	char *password_hash;	/* password_hash / BOARD_PASSWORD_HASH: argon2id
				   or bcrypt, for new hashes */
	long bcrypt_cost;	/* bcrypt_cost / BOARD_BCRYPT_COST: log2
				   rounds */
	long store_timeout_ms;	/* store_timeout_ms / BOARD_STORE_TIMEOUT_MS */
	char *log_level;	/* log_level / BOARD_LOG_LEVEL: err..debug */
	long drain_seconds;	/* drain_seconds / BOARD_DRAIN_SECONDS */
	char *drain_file;	/* drain_file / BOARD_DRAIN_FILE: exists =
				   draining (drain.h) */
};

/*
 * Fills c with defaults, then the file at path (NULL: $BOARD_CONFIG, else
 * the compiled-in default; a missing default file is fine, a missing named
 * file is not), then the environment. On error returns BOARD_EINVAL and
 * sets *errmsg to one line naming the key (caller frees).
 */
enum board_err conf_load(struct conf *c, const char *path, char **errmsg);

/* Same, from an explicit file only, ignoring the environment (tests). */
enum board_err conf_load_file(struct conf *c, const char *path, char **errmsg);

/* Defaults only. */
void conf_init(struct conf *c);

void conf_cleanup(struct conf *c);

#endif
