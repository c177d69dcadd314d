/* test-secret.c: secret files, HMAC against express vectors, random ids. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "board.h"
#include "conf.h"
#include "password.h"
#include "secret.h"
#include "tap.h"
#include "test-util.h"

static char tmpdir[] = "/tmp/test-secret.XXXXXX";

static void
write_file(const char *path, const char *text, mode_t mode)
{
	char tmp[512];
	FILE *f;

	/* Replace atomically, as an operator's editor or a deploy would. */
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	if (f == NULL) {
		perror(tmp);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
	chmod(tmp, mode);
	if (rename(tmp, path) < 0) {
		perror(path);
		exit(2);
	}
}

static void
hex_decode(const char *hex, unsigned char *out, size_t *len)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
	*len = n;
}

static void
test_vectors(void)
{
	char path[1024];
	size_t good = 0, n = 0;
	cJSON *doc, *v;

	doc = test_express_vectors(path, sizeof(path));
	ok(doc != NULL, "read %s", path);
	if (doc == NULL)
		return;
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(doc, "vectors")) {
		unsigned char key[256];
		struct secret s = { key, 0 };
		char sig[SECRET_SIG_LEN + 1];
		const char *sid = cJSON_GetObjectItem(v, "sid")->valuestring;
		const char *signed_ = cJSON_GetObjectItem(v,
		    "signed")->valuestring;
		const char *want = strrchr(signed_, '.') + 1;

		hex_decode(cJSON_GetObjectItem(v, "secret_hex")->valuestring,
		    key, &s.len);
		secret_sign(&s, sid, strlen(sid), sig);
		n++;
		if (strcmp(sig, want) == 0)
			good++;
		else
			diag("sid %s: got %s, want %s", sid, sig, want);
	}
	ok(n >= 20, "%zu express vectors", n);
	is_int(good, n, "secret_sign matches cookie-signature byte for byte");
	cJSON_Delete(doc);
}

static void
test_secrets_add(void)
{
	struct secrets s;

	secrets_init(&s);
	secrets_add(&s, "new", 3);
	secrets_add(&s, "old", 3);
	secrets_add(&s, "new", 3);
	secrets_add(&s, "ne", 2);
	is_int(s.n, 3, "secrets_add ignores an equal secret");
	ok(s.v[0].len == 3 && memcmp(s.v[0].key, "new", 3) == 0 &&
	    s.v[1].len == 3 && memcmp(s.v[1].key, "old", 3) == 0,
	    "order kept: the first signs");
	secrets_cleanup(&s);
	is_int(s.n, 0, "cleanup empties");
	secrets_cleanup(&s);
	secrets_cleanup(NULL);
}

static void
test_file(void)
{
	char path[512], other[512];
	struct secrets s, t;
	struct stat st;
	char *errmsg = NULL, *text;
	size_t len = 0;
	enum board_err rc;
	bool hex = true;

	snprintf(path, sizeof(path), "%s/session-secret", tmpdir);
	secrets_init(&s);
	secrets_init(&t);

	rc = secret_file_load(path, false, &s, &errmsg);
	is_int(rc, BOARD_EINVAL, "missing file without create fails");
	ok(errmsg != NULL && strstr(errmsg, path) != NULL,
	    "the error names the file: %s", errmsg ? errmsg : "(null)");
	free(errmsg);
	errmsg = NULL;

	rc = secret_file_load(path, true, &s, &errmsg);
	is_int(rc, BOARD_OK, "missing file with create is made");
	ok(errmsg == NULL, "no error message on success");
	if (stat(path, &st) < 0)
		st.st_mode = 0;
	ok((st.st_mode & 07777) == 0600,
	    "made with mode 0600 (%04o)", (unsigned)(st.st_mode & 07777));
	text = test_read_file(path, &len);
	is_int(len, 65, "64 hex characters and a newline");
	for (size_t i = 0; text != NULL && i < 64; i++)
		if (strchr("0123456789abcdef", text[i]) == NULL)
			hex = false;
	ok(hex && text != NULL && text[64] == '\n', "the secret is hex");
	is_int(s.n, 1, "one secret held");
	ok(s.n == 1 && s.v[0].len == 64 && text != NULL &&
	    memcmp(s.v[0].key, text, 64) == 0,
	    "the secret is the line's text (as express uses the string)");

	rc = secret_file_load(path, true, &t, &errmsg);
	is_int(rc, BOARD_OK, "second start reuses the file");
	ok(t.n == 1 && s.n == 1 && t.v[0].len == s.v[0].len &&
	    memcmp(t.v[0].key, s.v[0].key, s.v[0].len) == 0,
	    "same secret on reuse");
	free(text);
	secrets_cleanup(&s);
	secrets_cleanup(&t);

	snprintf(other, sizeof(other), "%s/two", tmpdir);
	write_file(other, "new-secret\r\n\r\n\nold-secret\nnew-secret\n", 0600);
	rc = secret_file_load(other, false, &s, &errmsg);
	is_int(rc, BOARD_OK, "a file with two secrets loads");
	is_int(s.n, 2, "blank lines, CR/LF and duplicates ignored");
	ok(s.n == 2 && s.v[0].len == 10 &&
	    memcmp(s.v[0].key, "new-secret", 10) == 0 && s.v[1].len == 10 &&
	    memcmp(s.v[1].key, "old-secret", 10) == 0, "in file order");
	secrets_cleanup(&s);

	write_file(other, "last-line-without-newline", 0600);
	rc = secret_file_load(other, false, &s, &errmsg);
	ok(rc == BOARD_OK && s.n == 1 && s.v[0].len == 25,
	    "a last line without a newline loads");
	secrets_cleanup(&s);

	write_file(other, "\n\r\n", 0600);
	rc = secret_file_load(other, false, &s, &errmsg);
	is_int(rc, BOARD_EINVAL, "a file with no secret fails");
	ok(errmsg != NULL && strstr(errmsg, other) != NULL,
	    "and says which file");
	free(errmsg);
	errmsg = NULL;

	write_file(other, "hunter2-do-not-log\n", 0600);
	snprintf(path, sizeof(path), "%s/no-such-dir/secret", tmpdir);
	rc = secret_file_load(path, true, &s, &errmsg);
	is_int(rc, BOARD_EINVAL, "cannot create in a missing directory");
	free(errmsg);
	errmsg = NULL;
	unlink(other);
}

static char logpath[600];

/* Loads path; BOARD_EINVAL expected, with a message naming the file. */
static void
refused(const char *path, const char *what, const char *word)
{
	struct secrets s;
	char *errmsg = NULL;
	enum board_err rc;

	secrets_init(&s);
	rc = secret_file_load(path, false, &s, &errmsg);
	is_int(rc, BOARD_EINVAL, "%s is refused", what);
	ok(s.n == 0 && errmsg != NULL && strstr(errmsg, path) != NULL &&
	    strstr(errmsg, word) != NULL, "  naming the file and \"%s\": %s",
	    word, errmsg ? errmsg : "(null)");
	ok(errmsg == NULL || strstr(errmsg, "s3cr3t") == NULL,
	    "  never the contents");
	free(errmsg);
	secrets_cleanup(&s);
}

/* The security review: blank lines, modes, owners, links, short keys. */
static void
test_file_strict(void)
{
	static const char key32[] = "0123456789abcdef0123456789abcdef";
	char path[512], link_path[512];
	struct secrets s;
	char *errmsg = NULL;
	const char *logged;
	enum board_err rc;

	secrets_init(&s);
	snprintf(path, sizeof(path), "%s/strict", tmpdir);
	snprintf(link_path, sizeof(link_path), "%s/strict-link", tmpdir);

	write_file(path, "   \n\t \r\n  0123456789abcdef0123456789abcdef \t\n"
	    " \n", 0600);
	rc = secret_file_load(path, false, &s, &errmsg);
	is_int(rc, BOARD_OK, "a file with white-space lines loads");
	ok(s.n == 1 && s.v[0].len == 32 && memcmp(s.v[0].key, key32, 32) == 0,
	    "  lines of spaces are no key; the key is trimmed (%zu held)", s.n);
	secrets_cleanup(&s);

	write_file(path, "  \n\t\n \r\n", 0600);
	refused(path, "a file of white space only", "no secret");

	write_file(path, "s3cr3t-0123456789abcdef0123456789\n", 0644);
	refused(path, "a world-readable file (0644)", "0644");
	write_file(path, "s3cr3t-0123456789abcdef0123456789\n", 0640);
	refused(path, "a group-readable file (0640)", "0640");
	write_file(path, "s3cr3t-0123456789abcdef0123456789\n", 0604);
	refused(path, "a file readable by others only (0604)", "0604");
	write_file(path, "s3cr3t-0123456789abcdef0123456789\n", 0620);
	refused(path, "a group-writable file (0620)", "0620");

	write_file(path, "0123456789abcdef0123456789abcdef\n", 0400);
	rc = secret_file_load(path, false, &s, &errmsg);
	ok(rc == BOARD_OK && s.n == 1, "a 0400 file loads");
	secrets_cleanup(&s);

	/* systemd's LoadCredential= file: root's 0400 plus an ACL (0440). */
	write_file(path, "0123456789abcdef0123456789abcdef\n", 0440);
	refused(path, "a 0440 file outside the credentials directory",
	    "0440");
	setenv("CREDENTIALS_DIRECTORY", tmpdir, 1);
	rc = secret_file_load(path, false, &s, &errmsg);
	ok(rc == BOARD_OK && s.n == 1,
	    "a 0440 file in $CREDENTIALS_DIRECTORY loads");
	secrets_cleanup(&s);
	write_file(path, "s3cr3t-0123456789abcdef0123456789\n", 0444);
	refused(path, "a 0444 file in $CREDENTIALS_DIRECTORY", "0444");
	unsetenv("CREDENTIALS_DIRECTORY");

	write_file(path, "s3cr3t-0123456789abcdef0123456789\n", 0600);
	unlink(link_path);
	if (symlink(path, link_path) == 0)
		refused(link_path, "a symbolic link (O_NOFOLLOW)", "link");
	else
		ok(0, "symlink %s: %s", link_path, strerror(errno));
	unlink(link_path);

	if (geteuid() == 0) {
		/* Readable to root anyway: only the owner check refuses it. */
		if (chown(path, 65534, 65534) == 0)
			refused(path, "a file owned by another user", "owned");
		else
			ok(0, "chown %s: %s", path, strerror(errno));
		if (chown(path, 0, 0) != 0)
			diag("chown back to root: %s", strerror(errno));
	} else {
		diag("not root: a file of another owner cannot be made here");
	}

	write_file(path, "0123456789abcdef0123456789abcde\n"
	    "0123456789abcdef0123456789abcdef\n", 0600);
	test_log_capture(logpath);
	rc = secret_file_load(path, false, &s, &errmsg);
	logged = test_log_captured();
	ok(rc == BOARD_OK && s.n == 2, "a file with a 31-byte key loads");
	ok(strstr(logged, "shorter than 32 bytes") != NULL &&
	    strstr(logged, path) != NULL, "  and warns: %s", logged);
	ok(strstr(logged, "0123456789abcdef") == NULL,
	    "  without showing the key");
	secrets_cleanup(&s);

	write_file(path, "0123456789abcdef0123456789abcdef\n", 0600);
	test_log_capture(logpath);
	rc = secret_file_load(path, false, &s, &errmsg);
	logged = test_log_captured();
	ok(rc == BOARD_OK && logged[0] == '\0',
	    "a 32-byte key loads without a warning");
	secrets_cleanup(&s);
	unlink(path);
}

static void
test_random(void)
{
	enum { N = 2000 };
	static char ids[N][SECRET_ID_LEN + 1];
	bool alphabet = true, lengths = true, unique = true;
	unsigned char a[64], b[64];

	for (int i = 0; i < N; i++) {
		secret_random_id(ids[i]);
		if (strlen(ids[i]) != SECRET_ID_LEN)
			lengths = false;
		if (strspn(ids[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_") != SECRET_ID_LEN)
			alphabet = false;
	}
	for (int i = 0; i < N && unique; i++)
		for (int j = i + 1; j < N; j++)
			if (strcmp(ids[i], ids[j]) == 0) {
				unique = false;
				break;
			}
	ok(lengths, "ids are 32 characters");
	ok(alphabet, "ids use the base64url alphabet only");
	ok(unique, "%d ids are distinct", N);

	secret_random(a, sizeof(a));
	secret_random(b, sizeof(b));
	ok(memcmp(a, b, sizeof(a)) != 0, "secret_random gives fresh bytes");
	ok(secret_equal("abcdef", "abcdef", 6), "secret_equal: equal");
	ok(!secret_equal("abcdef", "abcdeg", 6), "secret_equal: differ");
	ok(secret_equal("x", "y", 0), "secret_equal: empty");
}

static bool
holds(const struct secrets *s, size_t i, const char *want)
{
	return i < s->n && s->v[i].len == strlen(want) &&
	    memcmp(s->v[i].key, want, s->v[i].len) == 0;
}

static void
test_source(void)
{
	struct conf c;
	struct secret_source *src = NULL;
	const struct secrets *s;
	char path[512];
	char *errmsg = NULL;
	enum board_err rc;

	memset(&c, 0, sizeof(c));
	snprintf(path, sizeof(path), "%s/source", tmpdir);
	c.secret_file = path;
	c.secret_refresh = 1;

	rc = secret_source_new(&c, &src, &errmsg);
	is_int(rc, BOARD_OK, "source made the missing file");
	free(errmsg);
	errmsg = NULL;
	s = secret_source_get(src);
	ok(s->n == 1 && s->v[0].len == 64, "source holds the new secret");
	secret_source_free(src);
	src = NULL;

	write_file(path, "one\n", 0600);
	rc = secret_source_new(&c, &src, &errmsg);
	is_int(rc, BOARD_OK, "source loads the file");
	ok(holds(secret_source_get(src), 0, "one"), "holds it");

	write_file(path, "two\none\n", 0600);
	ok(holds(secret_source_get(src), 0, "one"),
	    "no re-read before the refresh interval");
	ok(secret_source_miss(src), "a miss re-reads: the set changed");
	s = secret_source_get(src);
	ok(s->n == 2 && holds(s, 0, "two") && holds(s, 1, "one"),
	    "now [two, one]");
	write_file(path, "three\n", 0600);
	ok(!secret_source_miss(src), "a second miss within 10 s does not");
	ok(holds(secret_source_get(src), 0, "two"), "still [two, one]");

	usleep(1100 * 1000);
	s = secret_source_get(src);
	ok(s->n == 1 && holds(s, 0, "three"),
	    "re-read after the refresh interval (rotation by editing)");

	unlink(path);
	usleep(1100 * 1000);
	s = secret_source_get(src);
	ok(s->n == 1 && holds(s, 0, "three"),
	    "a failed refresh keeps the held secrets");
	secret_source_free(src);
	src = NULL;
	secret_source_free(NULL);

	snprintf(path, sizeof(path), "%s/missing-dir/x", tmpdir);
	rc = secret_source_new(&c, &src, &errmsg);
	is_int(rc, BOARD_EINVAL, "an unusable file fails at startup");
	ok(src == NULL && errmsg != NULL && strstr(errmsg, path) != NULL,
	    "naming the file: %s", errmsg ? errmsg : "(null)");
	free(errmsg);
}

int
main(void)
{
	if (!password_init()) {
		fprintf(stderr, "libsodium cannot initialize\n");
		return 2;
	}
	if (!test_tmpdir_new(tmpdir))
		return 2;
	test_vectors();
	test_secrets_add();
	snprintf(logpath, sizeof(logpath), "%s/stderr.log", tmpdir);
	test_file();
	test_file_strict();
	test_random();
	test_source();
	test_tmpdir_remove(tmpdir);
	return tap_done();
}
