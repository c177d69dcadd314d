/* secret.h: session secrets (file or AWS), HMAC, CSPRNG ids, comparison. */
#ifndef BOARD_SECRET_H
#define BOARD_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "conf.h"

struct secret {
	unsigned char *key;
	size_t len;
};

/* Secrets in order: the first signs, every one verifies. */
struct secrets {
	struct secret *v;
	size_t n;
};

void secrets_init(struct secrets *s);
/* Wipes and frees every key. */
void secrets_cleanup(struct secrets *s);
/* Appends a copy of key (ignored when an equal one is already held). */
void secrets_add(struct secrets *s, const void *key, size_t len);

/*
 * Reads a secret file: one secret a line, the first signs; each line is
 * trimmed of surrounding white space and lines left empty are skipped; a
 * secret under 32 bytes is warned about. The file must be a regular file
 * (not a symbolic link), owned by this process's user or root, with no
 * group or other permission bits (0600 or 0400). When it does not exist
 * and create is set, makes it with mode 0600 holding 32 random bytes in
 * hex. BOARD_EINVAL with *errmsg (caller frees; it names the file, never
 * the contents) on failure.
 */
enum board_err secret_file_load(const char *path, bool create,
    struct secrets *out, char **errmsg);

/* base64 (standard alphabet, no '=' padding) of HMAC-SHA256(key, msg). */
#define SECRET_SIG_LEN 43
void secret_sign(const struct secret *key, const char *msg, size_t len,
    char out[SECRET_SIG_LEN + 1]);

/* A new session id: 24 CSPRNG bytes as base64url without padding. */
#define SECRET_ID_LEN 32
void secret_random_id(char out[SECRET_ID_LEN + 1]);

/* Fills buf with CSPRNG bytes. */
void secret_random(void *buf, size_t n);

/* Constant-time equality of two byte strings of length n. */
bool secret_equal(const void *a, const void *b, size_t n);

/*
 * Where the secrets come from, and their refreshing: the file
 * (SESSION_SECRET_FILE) or AWS Secrets Manager (SESSION_SECRET_NAME).
 */
struct secret_source;

/*
 * Loads the secrets once. BOARD_EINVAL/BOARD_EUNAVAIL with *errmsg (one
 * line naming the setting or secret, never a value) when it cannot.
 */
enum board_err secret_source_new(const struct conf *c,
    struct secret_source **out, char **errmsg);
void secret_source_free(struct secret_source *src);

/*
 * The secrets held now, re-read first when the refresh interval has passed
 * (a failed refresh keeps the old ones and logs). Borrowed until the next
 * call.
 */
const struct secrets *secret_source_get(struct secret_source *src);

/*
 * Called when a cookie's signature matched none of the held secrets: the
 * secret may have rotated. Re-reads at most once per rate-limit period
 * and returns true when the set changed.
 */
bool secret_source_miss(struct secret_source *src);

#endif
