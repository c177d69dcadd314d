/* secret.c: session secrets (file or AWS), HMAC, CSPRNG ids, comparison. */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "board.h"
#include "log.h"
#include "secret.h"
#include "secret-aws.h"

#define SECRET_FILE_MAX		65536	/* bytes; a secret file is tiny */
#define SECRET_NEW_BYTES	32
#define SECRET_MIN_BYTES	32	/* HMAC-SHA256's key strength */
#define SECRET_MISS_PERIOD	10	/* seconds between re-reads on a miss */

void
secrets_init(struct secrets *s)
{
	s->v = NULL;
	s->n = 0;
}

void
secrets_cleanup(struct secrets *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		sodium_memzero(s->v[i].key, s->v[i].len);
		free(s->v[i].key);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void
secrets_add(struct secrets *s, const void *key, size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].len == len && memcmp(s->v[i].key, key, len) == 0)
			return;
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n].key = xmalloc(len);
	memcpy(s->v[s->n].key, key, len);
	s->v[s->n].len = len;
	s->n++;
}

/* Same secrets in the same order. */
static bool
secrets_same(const struct secrets *a, const struct secrets *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].len != b->v[i].len ||
		    memcmp(a->v[i].key, b->v[i].key, a->v[i].len) != 0)
			return false;
	return true;
}

static bool
secret_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\v' || c == '\f';
}

/*
 * Splits text into lines; each line trimmed of surrounding white space is
 * a secret unless that leaves nothing. A line of spaces is a slip, not a
 * one-byte key, and a key with a trailing space is one an editor made.
 */
static void
secrets_parse(const char *text, size_t len, struct secrets *out)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl != NULL ? nl : end;
		const char *lb = p;

		while (lb < e && secret_is_space(*lb))
			lb++;
		while (e > lb && secret_is_space(e[-1]))
			e--;
		if (e > lb)
			secrets_add(out, lb, (size_t)(e - lb));
		p = nl != NULL ? nl + 1 : end;
	}
}

/*
 * Makes the file with a new random secret, atomically: a temporary file in
 * the same directory is written, synced, then linked to path, which fails
 * when another process made it first (then its secret is the one to use).
 * BOARD_EEXIST in that case.
 */
static enum board_err
secret_file_create(const char *path, char **errmsg)
{
	unsigned char raw[SECRET_NEW_BYTES];
	char hex[SECRET_NEW_BYTES * 2 + 2];
	struct buf tmp;
	int fd = -1;
	enum board_err rc = BOARD_EINVAL;
	size_t len;

	buf_init(&tmp);
	buf_printf(&tmp, "%s.XXXXXX", path);
	secret_random(raw, sizeof(raw));
	sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
	len = strlen(hex);
	hex[len++] = '\n';

	fd = mkstemp(tmp.data);
	if (fd < 0) {
		*errmsg = xasprintf("secret file %s: cannot create: %s",
		    path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) < 0 || write(fd, hex, len) != (ssize_t)len ||
	    fsync(fd) < 0) {
		*errmsg = xasprintf("secret file %s: cannot write: %s",
		    path, strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	if (link(tmp.data, path) < 0) {
		if (errno == EEXIST)
			rc = BOARD_EEXIST;
		else
			*errmsg = xasprintf("secret file %s: cannot create:"
			    " %s", path, strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	unlink(tmp.data);
	log_info("secret: made a new session secret in %s", path);
	rc = BOARD_OK;
out:
	if (fd >= 0)
		close(fd);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(hex, sizeof(hex));
	buf_cleanup(&tmp);
	return rc;
}

/*
 * A file in systemd's credentials directory (LoadCredential=), which only
 * the service can enter. systemd grants the service user read access by
 * an ACL on a root-owned 0400 file, and the ACL's mask shows as the group
 * read bit (0440): allowed there, and only there.
 */
static bool
secret_in_credentials_dir(const char *path)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	size_t n;

	if (dir == NULL || dir[0] != '/')
		return false;
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && path[n] == '/' &&
	    strchr(path + n + 1, '/') == NULL;
}

enum board_err
secret_file_load(const char *path, bool create, struct secrets *out,
    char **errmsg)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd = -1;
	enum board_err rc = BOARD_EINVAL;
	struct secrets got;

	secrets_init(&got);
	*errmsg = NULL;
	for (int tries = 0; fd < 0; tries++) {
		/*
		 * O_NOFOLLOW: the directory may be writable by the service
		 * user, who must not point the name at another file.
		 */
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0)
			break;
		if (errno == ELOOP) {
			*errmsg = xasprintf("secret file %s: is a symbolic "
			    "link; name the file itself", path);
			goto out;
		}
		if (errno != ENOENT || !create || tries > 0) {
			*errmsg = xasprintf("secret file %s: %s", path,
			    strerror(errno));
			goto out;
		}
		rc = secret_file_create(path, errmsg);
		if (rc != BOARD_OK && rc != BOARD_EEXIST)
			goto out;
		rc = BOARD_EINVAL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*errmsg = xasprintf("secret file %s: not a regular file",
		    path);
		goto out;
	}
	/*
	 * Refused, not warned about: a warning scrolls by in the journal
	 * while every local user can forge sessions.
	 */
	if (st.st_mode & (secret_in_credentials_dir(path) ? 037 : 077)) {
		*errmsg = xasprintf("secret file %s: mode %04o lets others "
		    "read or write it; chmod 0600 it", path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		*errmsg = xasprintf("secret file %s: owned by uid %lu, not "
		    "by this user (%lu) or root", path,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto out;
	}
	if (st.st_size > SECRET_FILE_MAX) {
		*errmsg = xasprintf("secret file %s: larger than %d bytes",
		    path, SECRET_FILE_MAX);
		goto out;
	}
	text = xmalloc(SECRET_FILE_MAX + 1);
	if (board_read_fd(fd, text, SECRET_FILE_MAX, &len) < 0) {
		*errmsg = xasprintf("secret file %s: %s", path,
		    strerror(errno));
		goto out;
	}
	secrets_parse(text, len, &got);
	if (got.n == 0) {
		*errmsg = xasprintf("secret file %s: holds no secret", path);
		goto out;
	}
	for (size_t i = 0; i < got.n; i++) {
		if (got.v[i].len < SECRET_MIN_BYTES)
			log_warn("secret: %s: secret %zu is shorter than %d "
			    "bytes; use 32 random bytes (64 hex digits)", path,
			    i + 1, SECRET_MIN_BYTES);
		secrets_add(out, got.v[i].key, got.v[i].len);
	}
	rc = BOARD_OK;
out:
	if (fd >= 0)
		close(fd);
	if (text != NULL) {
		sodium_memzero(text, SECRET_FILE_MAX + 1);
		free(text);
	}
	secrets_cleanup(&got);
	return rc;
}

void
secret_sign(const struct secret *key, const char *msg, size_t len,
    char out[SECRET_SIG_LEN + 1])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	/* _init takes a key of any length, as Node's createHmac does. */
	crypto_auth_hmacsha256_init(&st, key->key, key->len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(out, SECRET_SIG_LEN + 1, mac, sizeof(mac),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	sodium_memzero(&st, sizeof(st));
}

void
secret_random_id(char out[SECRET_ID_LEN + 1])
{
	unsigned char raw[24];

	secret_random(raw, sizeof(raw));
	sodium_bin2base64(out, SECRET_ID_LEN + 1, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void
secret_random(void *buf, size_t n)
{
	randombytes_buf(buf, n);
}

bool
secret_equal(const void *a, const void *b, size_t n)
{
	return sodium_memcmp(a, b, n) == 0;
}

struct secret_source {
	const struct conf *conf;
	char *path;		/* the file, or NULL for AWS */
	struct secrets held;
	long refresh;		/* seconds; 0: only a miss re-reads */
	int64_t loaded_at;	/* monotonic ms of the last (re)read */
	int64_t missed_at;	/* monotonic ms of the last miss re-read */
	bool missed;
};

/*
 * Monotonic milliseconds. Whole seconds would end a 1 s interval at the
 * next tick of the clock, however soon after the read that came.
 */
static int64_t
secret_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the secrets afresh into out. */
static enum board_err
secret_source_read(struct secret_source *src, bool create,
    struct secrets *out, char **errmsg)
{
	if (src->path != NULL)
		return secret_file_load(src->path, create, out, errmsg);
	return secret_aws_fetch(src->conf, out, errmsg);
}

enum board_err
secret_source_new(const struct conf *c, struct secret_source **out,
    char **errmsg)
{
	struct secret_source *src = xcalloc(1, sizeof(*src));
	enum board_err rc;

	*out = NULL;
	*errmsg = NULL;
	src->conf = c;
	secrets_init(&src->held);
	src->refresh = c->secret_refresh;
	if (c->secret_name == NULL || c->secret_name[0] == '\0') {
		/* conf's table gives it a default: never NULL from conf_load */
		assert(c->secret_file != NULL);
		src->path = xstrdup(c->secret_file);
	}
	rc = secret_source_read(src, true, &src->held, errmsg);
	if (rc == BOARD_OK && src->held.n == 0) {
		rc = BOARD_EINVAL;
		*errmsg = xasprintf("session secret %s: holds no secret",
		    src->path != NULL ? src->path : c->secret_name);
	}
	if (rc != BOARD_OK) {
		if (*errmsg == NULL)
			*errmsg = xasprintf("session secret: cannot load"
			    " (%s)", board_strerror(rc));
		secret_source_free(src);
		return rc;
	}
	src->loaded_at = secret_now_ms();
	*out = src;
	return BOARD_OK;
}

void
secret_source_free(struct secret_source *src)
{
	if (src == NULL)
		return;
	secrets_cleanup(&src->held);
	free(src->path);
	free(src);
}

/* Re-reads; returns true when the held set changed. */
static bool
secret_source_reload(struct secret_source *src)
{
	struct secrets fresh;
	char *errmsg = NULL;
	bool changed = false;

	secrets_init(&fresh);
	src->loaded_at = secret_now_ms();
	if (secret_source_read(src, false, &fresh, &errmsg) != BOARD_OK ||
	    fresh.n == 0) {
		log_warn("secret: refresh failed, keeping the held secrets: %s",
		    errmsg != NULL ? errmsg : "no secret");
		goto out;
	}
	if (!secrets_same(&fresh, &src->held)) {
		secrets_cleanup(&src->held);
		src->held = fresh;
		secrets_init(&fresh);
		changed = true;
		log_info("secret: session secrets changed (%zu held)",
		    src->held.n);
	}
out:
	free(errmsg);
	secrets_cleanup(&fresh);
	return changed;
}

const struct secrets *
secret_source_get(struct secret_source *src)
{
	if (src->refresh > 0 &&
	    secret_now_ms() - src->loaded_at >= src->refresh * 1000)
		secret_source_reload(src);
	return &src->held;
}

bool
secret_source_miss(struct secret_source *src)
{
	int64_t now = secret_now_ms();

	if (src->missed && now - src->missed_at < SECRET_MISS_PERIOD * 1000)
		return false;
	src->missed = true;
	src->missed_at = now;
	return secret_source_reload(src);
}
