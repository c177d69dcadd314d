/* test-secret-aws.c: Secrets Manager and the AWS credential chain against
 * tests/aws/fake-aws.js (its URL in BOARD_TEST_AWS_ENDPOINT; run by
 * tests/it/aws.sh, which starts it). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "awscred.h"
#include "board.h"
#include "conf.h"
#include "http.h"
#include "httpc.h"
#include "secret-aws.h"
#include "secret.h"
#include "session-cookie.h"
#include "session.h"
#include "tap.h"
#include "test-util.h"

#define LONG_KEY_ID "AKIDFAKEAWSTEST00001"
#define LONG_SECRET "fake/secret/key/for/tests/only/0001"

static const char *base;
static char tmpdir[] = "/tmp/test-secret-aws.XXXXXX";

/* Every value the stand-in holds: none may reach an error line. */
static const char *const values[] = {
	"cur-only-VALUE-1", "rot-A-VALUE", "rot-B-VALUE", "rot-C-VALUE",
	"not-json-VALUE", "nokey-VALUE", "bin-VALUE", LONG_SECRET, NULL
};

/* Credentials the stand-in issued to this test through /_admin. */
static char *issued_secret, *issued_token;

static char *
admin(const char *path, const char *body)
{
	struct httpc_req req = { 0 };
	struct httpc_resp resp;
	struct buf url;
	char *err = NULL, *out;

	buf_init(&url);
	buf_printf(&url, "%s%s", base, path);
	req.method = body != NULL ? "POST" : "GET";
	req.url = buf_cstr(&url);
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	httpc_resp_init(&resp);
	if (httpc_do(&req, &resp, &err) != BOARD_OK || resp.status != 200) {
		printf("Bail out! admin %s: %s (HTTP %ld)\n", path,
		    err ? err : "", resp.status);
		exit(1);
	}
	out = xstrdup(buf_cstr(&resp.body));
	httpc_resp_cleanup(&resp);
	buf_cleanup(&url);
	free(err);
	return out;
}

static void
admin_do(const char *path, const char *body)
{
	free(admin(path, body));
}

static long
counter(const char *name)
{
	char *s = admin("/_admin/state", NULL);
	cJSON *doc = cJSON_Parse(s);
	const cJSON *c = cJSON_GetObjectItem(
	    cJSON_GetObjectItem(doc, "counters"), name);
	long n = cJSON_IsNumber(c) ? (long)c->valuedouble : -1;

	cJSON_Delete(doc);
	free(s);
	return n;
}

/* How many times the stand-in answered with this AWS error code. */
static long
error_count(const char *code)
{
	char *s = admin("/_admin/state", NULL);
	cJSON *doc = cJSON_Parse(s);
	const cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(doc, "counters"), "errors"), code);
	long n = cJSON_IsNumber(c) ? (long)c->valuedouble : 0;

	cJSON_Delete(doc);
	free(s);
	return n;
}

/* The SignedHeaders of the last Secrets Manager request the stand-in saw. */
static char *
last_signed_headers(void)
{
	char *s = admin("/_admin/state", NULL);
	cJSON *doc = cJSON_Parse(s);
	const cJSON *log = cJSON_GetObjectItem(doc, "log"), *sh;
	int n = cJSON_GetArraySize(log);
	char *out;

	sh = cJSON_GetObjectItem(cJSON_GetArrayItem(log, n - 1),
	    "signedHeaders");
	out = xstrdup(cJSON_IsString(sh) ? sh->valuestring : "");
	cJSON_Delete(doc);
	free(s);
	return out;
}

static bool
leaks(const char *msg)
{
	if (msg == NULL)
		return false;
	for (size_t i = 0; values[i] != NULL; i++)
		if (strstr(msg, values[i]) != NULL)
			return true;
	return (issued_secret != NULL && strstr(msg, issued_secret)) ||
	    (issued_token != NULL && strstr(msg, issued_token));
}

/* Only the variables a test sets itself; IMDS off unless a test wants it. */
static void
env_clean(void)
{
	static const char *const names[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
		"AWS_EC2_METADATA_V1_DISABLED", "BOARD_ECS_ENDPOINT", NULL
	};

	for (size_t i = 0; names[i] != NULL; i++)
		unsetenv(names[i]);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	awscred_forget();
}

/* aws_imdsv1 in the settings conf_for() makes. */
static bool imdsv1;

static struct conf
conf_for(const char *name)
{
	struct conf c;

	memset(&c, 0, sizeof(c));
	c.secret_name = (char *)name;
	c.aws_region = (char *)"us-east-1";
	c.secrets_endpoint = (char *)base;
	c.aws_imdsv1 = imdsv1;
	return c;
}

/* Fetches name; on success checks the values, on failure the message. */
static void
expect_ok(const char *name, const char *cur, const char *prev,
    const char *what)
{
	struct conf c = conf_for(name);
	struct secrets s;
	char *err = NULL;
	enum board_err rc;
	size_t want = prev != NULL ? 2 : 1;

	secrets_init(&s);
	rc = secret_aws_fetch(&c, &s, &err);
	is_int(rc, BOARD_OK, "%s: fetched", what);
	if (err != NULL)
		diag("  %s", err);
	is_int(s.n, want, "%s: %zu secret(s)", what, want);
	ok(s.n >= 1 && s.v[0].len == strlen(cur) &&
	    memcmp(s.v[0].key, cur, s.v[0].len) == 0,
	    "%s: AWSCURRENT comes first", what);
	if (prev != NULL)
		ok(s.n >= 2 && s.v[1].len == strlen(prev) &&
		    memcmp(s.v[1].key, prev, s.v[1].len) == 0,
		    "%s: AWSPREVIOUS second", what);
	secrets_cleanup(&s);
	free(err);
}

static void
expect_err_conf(const struct conf *c, enum board_err want,
    const char *needle, const char *what)
{
	struct secrets s;
	char *err = NULL;
	enum board_err rc;

	secrets_init(&s);
	rc = secret_aws_fetch(c, &s, &err);
	is_int(rc, want, "%s: %s", what, board_strerror(want));
	ok(err != NULL && strstr(err, needle) != NULL,
	    "%s: the message names %s", what, needle);
	if (err != NULL)
		diag("  errmsg: %s", leaks(err) ? "(withheld: it leaks)" : err);
	ok(err != NULL && !leaks(err), "%s: no secret in the message", what);
	is_int(s.n, 0, "%s: nothing added", what);
	secrets_cleanup(&s);
	free(err);
}

static void
expect_err(const char *name, enum board_err want, const char *needle,
    const char *what)
{
	struct conf c = conf_for(name);

	expect_err_conf(&c, want, needle, what);
}

static char *
json_field(const char *json, const char *key)
{
	cJSON *doc = cJSON_Parse(json);
	const cJSON *v = cJSON_GetObjectItem(doc, key);
	char *out = xstrdup(cJSON_IsString(v) ? v->valuestring : "");

	cJSON_Delete(doc);
	return out;
}

static void
setup_secrets(void)
{
	admin_do("/_admin/secret",
	    "{\"name\":\"board/current-only\",\"value\":\"cur-only-VALUE-1\"}");
	admin_do("/_admin/secret",
	    "{\"name\":\"board/rotating\",\"value\":\"rot-A-VALUE\"}");
	admin_do("/_admin/secret",
	    "{\"name\":\"board/denied\",\"value\":\"x\",\"denied\":true}");
	admin_do("/_admin/secret",
	    "{\"name\":\"board/badjson\","
	    "\"secretString\":\"not-json-VALUE {\"}");
	admin_do("/_admin/secret", "{\"name\":\"board/nokey\","
	    "\"secretString\":\"{\\\"other\\\":\\\"nokey-VALUE\\\"}\"}");
	admin_do("/_admin/secret",
	    "{\"name\":\"board/binary\",\"secretBinary\":\"bin-VALUE\"}");
}

static void
test_time(void)
{
	int64_t ms = 0;

	is_int(awscred_parse_time("2026-11-25T13:35:28Z", &ms), BOARD_OK,
	    "RFC 3339 time parses");
	is_int(ms, 1795613728000LL, "  to the right instant");
	awscred_parse_time("2026-11-25T13:35:28.250Z", &ms);
	is_int(ms, 1795613728250LL, "fractions of a second count");
	awscred_parse_time("2026-11-25T14:35:28+01:00", &ms);
	is_int(ms, 1795613728000LL, "numeric offsets count");
	awscred_parse_time("1970-01-01T00:00:00Z", &ms);
	is_int(ms, 0, "the epoch is 0");
	ok(awscred_parse_time("2026-11-25 13:35:28Z", &ms) == BOARD_EINVAL &&
	    awscred_parse_time("2026-11-25T13:35:28", &ms) == BOARD_EINVAL &&
	    awscred_parse_time("2026-13-25T13:35:28Z", &ms) == BOARD_EINVAL &&
	    awscred_parse_time("", &ms) == BOARD_EINVAL,
	    "malformed times are refused");
}

static void
test_env_keys(void)
{
	struct conf c;
	char *sh;

	env_clean();
	setenv("AWS_ACCESS_KEY_ID", LONG_KEY_ID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", LONG_SECRET, 1);
	expect_ok("board/current-only", "cur-only-VALUE-1", NULL,
	    "env keys, one version");
	sh = last_signed_headers();
	is_str(sh, "content-type;host;x-amz-date;x-amz-target",
	    "env keys: exactly the protocol headers are signed");
	free(sh);
	expect_ok("board/rotating", "rot-A-VALUE", NULL,
	    "env keys, before rotation");

	admin_do("/_admin/rotate",
	    "{\"name\":\"board/rotating\",\"value\":\"rot-B-VALUE\"}");
	expect_ok("board/rotating", "rot-B-VALUE", "rot-A-VALUE",
	    "after one rotation");
	admin_do("/_admin/rotate",
	    "{\"name\":\"board/rotating\",\"value\":\"rot-C-VALUE\"}");
	expect_ok("board/rotating", "rot-C-VALUE", "rot-B-VALUE",
	    "after two rotations");

	expect_err("board/missing", BOARD_EINVAL,
	    "secret \"board/missing\": ResourceNotFoundException (HTTP 400)",
	    "missing secret");
	expect_err("board/denied", BOARD_EINVAL,
	    "secret \"board/denied\": AccessDeniedException (HTTP 400)",
	    "denied secret");
	expect_err("board/badjson", BOARD_EINVAL,
	    "SecretString is not a JSON object", "SecretString not JSON");
	expect_err("board/nokey", BOARD_EINVAL,
	    "no non-empty string \"session_secret_key\"", "key missing");
	expect_err("board/binary", BOARD_EINVAL, "has only SecretBinary",
	    "SecretBinary only");

	c = conf_for("board/current-only");
	c.aws_region = NULL;
	expect_err_conf(&c, BOARD_EINVAL, "AWS_REGION", "no region");
	c.aws_region = (char *)"us-east-1/x";
	expect_err_conf(&c, BOARD_EINVAL, "AWS_REGION", "bad region");
	c = conf_for("board/current-only");
	c.aws_region = (char *)"eu-west-1";
	expect_err_conf(&c, BOARD_EINVAL, "InvalidSignatureException",
	    "signed for another region");
	c = conf_for("board/current-only");
	c.secrets_endpoint = (char *)"http://127.0.0.1:1";
	expect_err_conf(&c, BOARD_EUNAVAIL,
	    "secret \"board/current-only\": POST http://127.0.0.1:1/",
	    "unreachable endpoint");

	/* The secret must not cross a network in clear (the review). */
	c.secrets_endpoint = (char *)"http://secretsmanager.example.com/";
	expect_err_conf(&c, BOARD_EINVAL, "must be https",
	    "an http endpoint on a remote host");
	c.secrets_endpoint = (char *)"http://127.0.0.1.example.com:1/";
	expect_err_conf(&c, BOARD_EINVAL, "must be https",
	    "an http endpoint on a name that starts like loopback");
	c.secrets_endpoint = (char *)"ftp://127.0.0.1:1/";
	expect_err_conf(&c, BOARD_EINVAL, "must be https", "another scheme");
	c.secrets_endpoint = (char *)"127.0.0.1:1";
	expect_err_conf(&c, BOARD_EINVAL, "must be https", "no scheme");
	c.secrets_endpoint = (char *)"http://localhost:1";
	expect_err_conf(&c, BOARD_EUNAVAIL, "POST http://localhost:1/",
	    "http on localhost is allowed (and unreachable here)");
	c.secrets_endpoint = (char *)"http://[::1]:1";
	expect_err_conf(&c, BOARD_EUNAVAIL, "POST http://[::1]:1/",
	    "http on [::1] is allowed (and unreachable here)");
	c.secrets_endpoint = (char *)"http://127.9.8.7:1";
	expect_err_conf(&c, BOARD_EUNAVAIL, "POST http://127.9.8.7:1/",
	    "http on 127.0.0.0/8 is allowed (and unreachable here)");
	c.secrets_endpoint = (char *)"https://127.0.0.1:1";
	expect_err_conf(&c, BOARD_EUNAVAIL, "POST https://127.0.0.1:1/",
	    "https anywhere is allowed (and unreachable here)");

	setenv("AWS_SECRET_ACCESS_KEY", "fake/secret/key/for/tests/only/0002",
	    1);
	expect_err("board/current-only", BOARD_EINVAL,
	    "secret \"board/current-only\": InvalidSignatureException "
	    "(HTTP 400)", "wrong secret key");
	setenv("AWS_ACCESS_KEY_ID", "AKIDFAKEAWSUNKNOWN01", 1);
	expect_err("board/current-only", BOARD_EINVAL,
	    "UnrecognizedClientException (HTTP 400)", "unknown key id");
}

static void
test_env_session_token(void)
{
	char *creds = admin("/_admin/credentials", "{\"issue\":true}");
	char *akid = json_field(creds, "AccessKeyId"), *sh;

	issued_secret = json_field(creds, "SecretAccessKey");
	issued_token = json_field(creds, "Token");
	env_clean();
	setenv("AWS_ACCESS_KEY_ID", akid, 1);
	setenv("AWS_SECRET_ACCESS_KEY", issued_secret, 1);
	setenv("AWS_SESSION_TOKEN", issued_token, 1);
	expect_ok("board/current-only", "cur-only-VALUE-1", NULL,
	    "env keys + session token");
	sh = last_signed_headers();
	is_str(sh, "content-type;host;x-amz-date;x-amz-security-token;"
	    "x-amz-target", "session token: the token header is signed");
	free(sh);

	unsetenv("AWS_SESSION_TOKEN");
	expect_err("board/current-only", BOARD_EINVAL,
	    "UnrecognizedClientException (HTTP 400)",
	    "temporary key without its token");
	setenv("AWS_SESSION_TOKEN", "IQoJwrongtoken", 1);
	expect_err("board/current-only", BOARD_EINVAL,
	    "UnrecognizedClientException (HTTP 400)", "wrong session token");
	free(akid);
	free(creds);
}

static void
test_ecs_relative(void)
{
	long before, expired = error_count("ExpiredTokenException");

	env_clean();
	admin_do("/_admin/credentials", "{\"ttl\":3600}");
	setenv("BOARD_ECS_ENDPOINT", base, 1);
	setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/ecs/v2/creds/1", 1);
	before = counter("ecs");
	expect_ok("board/rotating", "rot-C-VALUE", "rot-B-VALUE",
	    "ECS relative URI");
	is_int(counter("ecs") - before, 1, "ECS: one credentials fetch");
	expect_ok("board/current-only", "cur-only-VALUE-1", NULL,
	    "ECS again");
	is_int(counter("ecs") - before, 1,
	    "ECS: credentials cached while far from Expiration");

	/* The stand-in expires them early: AWS says ExpiredTokenException. */
	admin_do("/_admin/credentials", "{\"ttl\":60,\"expire\":true}");
	expect_ok("board/current-only", "cur-only-VALUE-1", NULL,
	    "ECS after server-side expiry");
	is_int(counter("ecs") - before, 2,
	    "ExpiredTokenException: new credentials fetched once");
	is_int(error_count("ExpiredTokenException") - expired, 1,
	    "  after exactly one ExpiredTokenException");
	expect_ok("board/current-only", "cur-only-VALUE-1", NULL,
	    "ECS with credentials expiring in 60 s");
	is_int(counter("ecs") - before, 3,
	    "credentials within 5 min of Expiration are refreshed");
	admin_do("/_admin/credentials", "{\"ttl\":3600}");
	expect_ok("board/current-only", "cur-only-VALUE-1", NULL,
	    "ECS, refreshed to 1 h");
	expect_ok("board/current-only", "cur-only-VALUE-1", NULL,
	    "ECS, cached again");
	is_int(counter("ecs") - before, 4,
	    "after a refresh to a long lifetime, the cache holds");

	/* Due for refresh but not expired: a failed refresh keeps them. */
	admin_do("/_admin/credentials", "{\"ttl\":200}");
	awscred_forget();
	expect_ok("board/current-only", "cur-only-VALUE-1", NULL,
	    "ECS, credentials good for 200 s");
	admin_do("/_admin/ecs", "{\"token\":\"Bearer required\"}");
	expect_ok("board/current-only", "cur-only-VALUE-1", NULL,
	    "ECS refresh refused: the unexpired credentials still serve");
	is_int(counter("ecs") - before, 6, "  after a refresh was tried");
	admin_do("/_admin/ecs", "{\"token\":null}");
	admin_do("/_admin/credentials", "{\"ttl\":3600}");
}

static void
test_ecs_full(void)
{
	char path[sizeof(tmpdir) + 16];
	struct buf url;
	FILE *f;
	long before;

	env_clean();
	buf_init(&url);
	buf_printf(&url, "%s/ecs/full/creds", base);
	admin_do("/_admin/ecs", "{\"token\":\"Bearer tok-abc\"}");
	snprintf(path, sizeof(path), "%s/token", tmpdir);
	f = fopen(path, "w");
	fputs("Bearer tok-abc\n", f);
	fclose(f);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", buf_cstr(&url), 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer wrong", 1);
	before = counter("ecs");
	expect_ok("board/current-only", "cur-only-VALUE-1", NULL,
	    "ECS full URI, token file (wins over the variable)");
	is_int(counter("ecs") - before, 1, "full URI: one fetch");

	awscred_forget();
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	expect_err("board/current-only", BOARD_EUNAVAIL, "HTTP 401",
	    "full URI with a wrong token");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer tok-abc", 1);
	expect_ok("board/current-only", "cur-only-VALUE-1", NULL,
	    "ECS full URI, token variable");
	awscred_forget();
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer tok\r\nX: y", 1);
	expect_err("board/current-only", BOARD_EINVAL, "CR or LF",
	    "a token with CR/LF is refused");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer tok-abc", 1);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI",
	    "http://example.com/creds", 1);
	expect_err("board/current-only", BOARD_EINVAL, "must be https",
	    "plain http to a remote host is refused");
	admin_do("/_admin/ecs", "{\"token\":null}");
	unlink(path);
	buf_cleanup(&url);
}

static void
test_imds(void)
{
	long tok, role, creds, v1;

	env_clean();
	unsetenv("AWS_EC2_METADATA_DISABLED");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", base, 1);
	tok = counter("imdsToken");
	role = counter("imdsRole");
	creds = counter("imdsCreds");
	v1 = counter("imdsV1");
	expect_ok("board/current-only", "cur-only-VALUE-1", NULL, "IMDSv2");
	is_int(counter("imdsToken") - tok, 1, "IMDSv2: one token PUT");
	is_int(counter("imdsRole") - role, 1, "IMDSv2: one role lookup");
	is_int(counter("imdsCreds") - creds, 1, "IMDSv2: one credentials GET");
	is_int(counter("imdsV1") - v1, 0, "IMDSv2: no token-less request");

	/* The review: IMDSv1 only when aws_imdsv1 says so. */
	admin_do("/_admin/imds", "{\"v2\":false,\"putStatus\":403}");
	awscred_forget();
	expect_err("board/current-only", BOARD_EUNAVAIL, "aws_imdsv1",
	    "a refused token PUT without aws_imdsv1 is an error");
	is_int(counter("imdsV1") - v1, 0, "  and no token-less request");
	imdsv1 = true;
	awscred_forget();
	expect_ok("board/current-only", "cur-only-VALUE-1", NULL,
	    "IMDSv1 after a refused token PUT, with aws_imdsv1");
	is_int(counter("imdsV1") - v1, 2, "IMDSv1: role and credentials");

	awscred_forget();
	setenv("AWS_EC2_METADATA_V1_DISABLED", "true", 1);
	expect_err("board/current-only", BOARD_EUNAVAIL,
	    "AWS_EC2_METADATA_V1_DISABLED", "IMDSv1 disabled");
	unsetenv("AWS_EC2_METADATA_V1_DISABLED");
	imdsv1 = false;

	admin_do("/_admin/imds", "{\"v2\":true,\"putStatus\":400}");
	expect_err("board/current-only", BOARD_EUNAVAIL, "HTTP 400",
	    "a 400 to the token PUT is an error, not a fallback");
	admin_do("/_admin/imds", "{\"putStatus\":200,\"role\":\"\"}");
	expect_err("board/current-only", BOARD_EUNAVAIL, "no IAM role",
	    "an instance without a role");
	admin_do("/_admin/imds", "{\"role\":\"board-test-role\"}");

	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	expect_err("board/current-only", BOARD_EUNAVAIL, "no AWS credentials",
	    "no source at all");
}

/* A request carrying the Cookie header h. */
static enum board_err
find_with_cookie(struct session_store *ss, struct secret_source *src,
    const char *h)
{
	struct req rq;
	struct session sess;
	enum board_err rc;

	req_init(&rq);
	session_init(&sess);
	rq.cookie = xstrdup(h);
	rc = session_cookie_find(ss, src, &rq, &sess);
	session_cleanup(&sess);
	req_reset(&rq);
	buf_cleanup(&rq.body);
	return rc;
}

/*
 * The review: an unverifiable cookie made the worker fetch the secret
 * again, one AWS call per worker per 10 s on an attacker's demand. Junk
 * never does now; a value of the signed shape does at most once per
 * interval. None of these reach Redis (nothing listens there).
 */
static void
test_junk_cookies(void)
{
	static const char *const junk[] = {
		"board.sid=junk",
		"board.sid=s%3Aabc.def",
		"board.sid=s%3A",
		"board.sid=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAAAAA",
		/* a signature one character short, one too long */
		"board.sid=s%3AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"board.sid=s%3AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		/* an id too short, one with a character base64url lacks */
		"board.sid=s%3AAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAA",
		"board.sid=s%3AAAAAAAAAAAAAAA%21AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"board.sid=s%3AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAAAAA-AAA",
		"board.sid=%00%01%02; board.sid=x; board.sid=y; board.sid=z",
	};
	struct conf c = conf_for("board/current-only");
	struct secret_source *src = NULL;
	struct session_store *ss = NULL;
	char *err = NULL, url[64];
	long before;
	int bad = 0;

	env_clean();
	setenv("AWS_ACCESS_KEY_ID", LONG_KEY_ID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", LONG_SECRET, 1);
	snprintf(url, sizeof(url), "redis://127.0.0.1:1");
	c.redis_url = url;
	c.cookie_name = (char *)"board.sid";
	c.session_ttl = 3600;
	c.secret_refresh = 0;	/* only a miss re-reads */
	if (secret_source_new(&c, &src, &err) != BOARD_OK ||
	    session_store_new(&c, &ss, &err) != BOARD_OK) {
		ok(0, "a secret source and a session store: %s", err);
		free(err);
		secret_source_free(src);
		return;
	}
	before = counter("sm");
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
			if (find_with_cookie(ss, src, junk[i]) !=
			    BOARD_ENOTFOUND)
				bad++;
	is_int(bad, 0, "junk cookies find no session");
	is_int(counter("sm") - before, 0,
	    "30 junk cookies: no call to Secrets Manager");

	/* Signed shape, foreign secret: the secret may have rotated. */
	for (int i = 0; i < 10; i++)
		if (find_with_cookie(ss, src, "board.sid=s%3A"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA."
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") !=
		    BOARD_ENOTFOUND)
			bad++;
	is_int(bad, 0, "well-formed unknown cookies find no session");
	ok(counter("sm") - before >= 1 && counter("sm") - before <= 2,
	    "10 well-formed unknown cookies: one re-read (%ld calls: "
	    "AWSCURRENT and AWSPREVIOUS)", counter("sm") - before);
	session_store_free(ss);
	secret_source_free(src);
	env_clean();
}

int
main(void)
{
	base = getenv("BOARD_TEST_AWS_ENDPOINT");
	if (base == NULL || base[0] == '\0') {
		printf("1..0 # SKIP BOARD_TEST_AWS_ENDPOINT is not set "
		    "(tests/it/aws.sh sets it)\n");
		return 0;
	}
	if (!test_tmpdir_new(tmpdir))
		return 1;
	setup_secrets();
	test_time();
	test_env_keys();
	test_env_session_token();
	test_ecs_relative();
	test_ecs_full();
	test_imds();
	test_junk_cookies();
	env_clean();
	test_tmpdir_remove(tmpdir);
	xfree_secret(issued_secret);
	xfree_secret(issued_token);
	return tap_done();
}
