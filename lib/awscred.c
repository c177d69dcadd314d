/* awscred.c: AWS credentials from the environment, ECS or EC2 metadata. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "awscred.h"
#include "board.h"
#include "httpc.h"
#include "json.h"
#include "log.h"

#define AWSCRED_ECS_HOST "http://169.254.170.2"
#define AWSCRED_IMDS_HOST "http://169.254.169.254"
#define AWSCRED_IMDS6_HOST "http://[fd00:ec2::254]"
/* The SDKs' metadata timeout: 1 s, no retries. */
#define AWSCRED_META_TIMEOUT_MS 1000L
#define AWSCRED_TOKEN_FILE_MAX 16384

/* The environment's keys (copied, so the caller's view stays stable). */
static struct awscred awscred_env;
/* Temporary credentials and the source (URL) they came from. */
static struct awscred awscred_cache;
static char *awscred_cache_from;

static void
awscred_clear(struct awscred *c)
{
	xfree_secret(c->key_id);
	xfree_secret(c->secret);
	xfree_secret(c->token);
	memset(c, 0, sizeof(*c));
}

void
awscred_forget(void)
{
	awscred_clear(&awscred_cache);
	free(awscred_cache_from);
	awscred_cache_from = NULL;
}

static bool
awscred_env_true(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && strcasecmp(v, "true") == 0;
}

static const char *
awscred_env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
awscred_days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool
awscred_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

enum board_err
awscred_parse_time(const char *s, int64_t *out_ms)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t ms = 0, scale = 100;
	const char *p = s;

	if (!awscred_digits(&p, 4, &y) || *p++ != '-' ||
	    !awscred_digits(&p, 2, &mo) || *p++ != '-' ||
	    !awscred_digits(&p, 2, &d) || (*p != 'T' && *p != 't'))
		return BOARD_EINVAL;
	p++;
	if (!awscred_digits(&p, 2, &h) || *p++ != ':' ||
	    !awscred_digits(&p, 2, &mi) || *p++ != ':' ||
	    !awscred_digits(&p, 2, &sec))
		return BOARD_EINVAL;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return BOARD_EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			ms += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (!awscred_digits(&p, 2, &oh) || *p++ != ':' ||
		    !awscred_digits(&p, 2, &om) || oh > 23 || om > 59)
			return BOARD_EINVAL;
	} else {
		return BOARD_EINVAL;
	}
	/* 60 is a leap second; RFC 3339 allows it. */
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return BOARD_EINVAL;
	*out_ms = ((awscred_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    sign * (oh * 3600 + om * 60)) * 1000) + ms;
	return BOARD_OK;
}

/*
 * Reads {"AccessKeyId","SecretAccessKey","Token","Expiration"} (ECS and
 * IMDS share the shape; IMDS adds "Code":"Success").
 */
enum board_err
awscred_from_json(const struct buf *body, const char *from,
    struct awscred *out, char **errmsg)
{
	const cJSON *akid, *sec, *tok, *exp, *code;
	enum board_err rc = BOARD_EINVAL;
	cJSON *doc;

	doc = cJSON_ParseWithLength(body->data != NULL ? body->data : "",
	    body->len);
	if (!cJSON_IsObject(doc)) {
		*errmsg = xasprintf("AWS credentials from %s: not a JSON "
		    "object", from);
		goto out;
	}
	code = cJSON_GetObjectItemCaseSensitive(doc, "Code");
	if (code != NULL && (!cJSON_IsString(code) ||
	    strcmp(code->valuestring, "Success") != 0)) {
		*errmsg = xasprintf("AWS credentials from %s: Code is not "
		    "Success", from);
		goto out;
	}
	akid = cJSON_GetObjectItemCaseSensitive(doc, "AccessKeyId");
	sec = cJSON_GetObjectItemCaseSensitive(doc, "SecretAccessKey");
	tok = cJSON_GetObjectItemCaseSensitive(doc, "Token");
	exp = cJSON_GetObjectItemCaseSensitive(doc, "Expiration");
	if (!cJSON_IsString(akid) || !akid->valuestring[0] ||
	    !cJSON_IsString(sec) || !sec->valuestring[0] ||
	    !cJSON_IsString(tok) || !tok->valuestring[0]) {
		*errmsg = xasprintf("AWS credentials from %s: AccessKeyId, "
		    "SecretAccessKey or Token missing", from);
		goto out;
	}
	memset(out, 0, sizeof(*out));
	if (exp != NULL && (!cJSON_IsString(exp) ||
	    awscred_parse_time(exp->valuestring, &out->expires_ms))) {
		*errmsg = xasprintf("AWS credentials from %s: Expiration "
		    "is not an RFC 3339 time", from);
		goto out;
	}
	out->key_id = xstrdup(akid->valuestring);
	out->secret = xstrdup(sec->valuestring);
	out->token = xstrdup(tok->valuestring);
	rc = BOARD_OK;
out:
	json_cjson_free_secret(doc);
	return rc;
}

/* https, or plain http to a host the SDKs allow for it. */
static enum board_err
awscred_check_full_uri(const char *uri, char **errmsg)
{
	if (httpc_url_is_private(uri, "127.0.0.0/8 ::1 169.254.170.2 "
	    "169.254.170.23 fd00:ec2::23"))
		return BOARD_OK;
	*errmsg = xasprintf("AWS_CONTAINER_CREDENTIALS_FULL_URI must be "
	    "https, or http on a loopback, 169.254.170.2, 169.254.170.23 or "
	    "[fd00:ec2::23] host");
	return BOARD_EINVAL;
}

/*
 * The ECS Authorization token: the file wins over the variable. A file
 * written by echo ends in a newline, which is dropped; any other CR or LF
 * would split the header, so it is refused.
 */
static enum board_err
awscred_ecs_token(char **out, char **errmsg)
{
	const char *file = awscred_env_nonempty(
	    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *env = awscred_env_nonempty(
	    "AWS_CONTAINER_AUTHORIZATION_TOKEN");
	const char *setting = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
	char *tok = NULL;
	size_t len = 0;
	int fd, r;

	*out = NULL;
	if (file != NULL) {
		setting = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			*errmsg = xasprintf("%s %s: %s", setting, file,
			    strerror(errno));
			return BOARD_EINVAL;
		}
		tok = xmalloc(AWSCRED_TOKEN_FILE_MAX + 1);
		r = board_read_fd(fd, tok, AWSCRED_TOKEN_FILE_MAX, &len);
		tok[len] = '\0';
		if (r < 0) {
			*errmsg = xasprintf("%s %s: %s", setting, file,
			    strerror(errno));
			close(fd);
			explicit_bzero(tok, len);
			free(tok);
			return BOARD_EINVAL;
		}
		close(fd);
		if (len > 0 && tok[len - 1] == '\n')
			tok[--len] = '\0';
		if (len > 0 && tok[len - 1] == '\r')
			tok[--len] = '\0';
		if (strlen(tok) != len) {
			*errmsg = xasprintf("%s %s: holds a NUL byte",
			    setting, file);
			explicit_bzero(tok, len);	/* past the NUL too */
			free(tok);
			return BOARD_EINVAL;
		}
	} else if (env != NULL) {
		tok = xstrdup(env);
	} else {
		return BOARD_OK;
	}
	if (strpbrk(tok, "\r\n") != NULL || tok[0] == '\0') {
		*errmsg = xasprintf("%s: the token is empty or holds a CR "
		    "or LF", setting);
		xfree_secret(tok);
		return BOARD_EINVAL;
	}
	*out = tok;
	return BOARD_OK;
}

static enum board_err
awscred_fetch_ecs(const char *url, struct awscred *out, char **errmsg)
{
	struct httpc_req req = { 0 };
	struct httpc_resp resp;
	const char *hdrs[2] = { NULL, NULL };
	struct buf auth;
	char *tok = NULL, *why = NULL;
	enum board_err rc;

	httpc_resp_init(&resp);
	buf_init(&auth);
	rc = awscred_ecs_token(&tok, errmsg);
	if (rc != BOARD_OK)
		goto out;
	if (tok != NULL) {
		buf_printf(&auth, "Authorization: %s", tok);
		hdrs[0] = buf_cstr(&auth);
	}
	req.url = url;
	req.headers = hdrs;
	req.connect_timeout_ms = AWSCRED_META_TIMEOUT_MS;
	req.timeout_ms = AWSCRED_META_TIMEOUT_MS * 2;
	req.direct = true;
	rc = httpc_do(&req, &resp, &why);
	if (rc != BOARD_OK) {
		*errmsg = xasprintf("AWS credentials from ECS: %s", why);
		goto out;
	}
	if (resp.status != 200) {
		*errmsg = xasprintf("AWS credentials from ECS: GET %s: HTTP "
		    "%ld", url, resp.status);
		rc = BOARD_EUNAVAIL;
		goto out;
	}
	rc = awscred_from_json(&resp.body, "ECS", out, errmsg);
	if (rc == BOARD_OK)
		out->source = "ecs";
out:
	buf_cleanup_secret(&auth);
	xfree_secret(tok);
	free(why);
	httpc_resp_cleanup(&resp);
	return rc;
}

/* One metadata request; token NULL means IMDSv1 (no token header). */
static enum board_err
awscred_imds_get(const char *base, const char *path, const char *token,
    struct httpc_resp *resp, char **errmsg)
{
	struct httpc_req req = { 0 };
	const char *hdrs[2] = { NULL, NULL };
	struct buf url, hdr;
	char *why = NULL;
	enum board_err rc;

	buf_init(&url);
	buf_init(&hdr);
	buf_printf(&url, "%s%s", base, path);
	if (token != NULL) {
		buf_printf(&hdr, "X-aws-ec2-metadata-token: %s", token);
		hdrs[0] = buf_cstr(&hdr);
	}
	req.url = buf_cstr(&url);
	req.headers = hdrs;
	req.connect_timeout_ms = AWSCRED_META_TIMEOUT_MS;
	req.timeout_ms = AWSCRED_META_TIMEOUT_MS;
	req.direct = true;
	httpc_resp_cleanup(resp);
	rc = httpc_do(&req, resp, &why);
	if (rc != BOARD_OK) {
		*errmsg = xasprintf("AWS credentials from EC2 instance "
		    "metadata: %s", why);
	} else if (resp->status != 200) {
		*errmsg = xasprintf("AWS credentials from EC2 instance "
		    "metadata: GET %s: HTTP %ld%s", buf_cstr(&url),
		    resp->status, resp->status == 404 ?
		    " (no IAM role attached?)" : "");
		rc = BOARD_EUNAVAIL;
	}
	buf_cleanup_secret(&hdr);
	buf_cleanup(&url);
	free(why);
	return rc;
}

/* The text of a metadata answer without surrounding white space. */
static char *
awscred_trimmed(const struct buf *b)
{
	const char *s = buf_cstr(b), *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	return xstrndup(s, (size_t)(e - s));
}

static bool
awscred_printable(const char *s, const char *also)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr(also, *s) == NULL)
			return false;
	return true;
}

static enum board_err
awscred_fetch_imds(const char *base, bool imdsv1, struct awscred *out,
    char **errmsg)
{
	static const char creds_path[] =
	    "/latest/meta-data/iam/security-credentials/";
	static const char *const ttl[] = {
		"X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL
	};
	struct httpc_req req = { 0 };
	struct httpc_resp resp;
	struct buf url;
	char *token = NULL, *role = NULL, *why = NULL, *nl;
	enum board_err rc;
	bool v1;

	httpc_resp_init(&resp);
	buf_init(&url);
	buf_printf(&url, "%s/latest/api/token", base);
	req.method = "PUT";
	req.url = buf_cstr(&url);
	req.headers = ttl;
	req.connect_timeout_ms = AWSCRED_META_TIMEOUT_MS;
	req.timeout_ms = AWSCRED_META_TIMEOUT_MS;
	req.direct = true;
	rc = httpc_do(&req, &resp, &why);
	/*
	 * A refused or timed-out token PUT (IMDSv2 off, or a hop limit of
	 * 1 behind a container bridge) falls back to IMDSv1 as in the SDKs,
	 * but only when aws_imdsv1 allows it: token-less requests are what
	 * an SSRF in any process on the host can make. Any other failure, a
	 * 400 included, is an error.
	 */
	v1 = (rc != BOARD_OK && resp.timed_out) || (rc == BOARD_OK &&
	    (resp.status == 403 || resp.status == 404 || resp.status == 405));
	if (v1 && !imdsv1) {
		*errmsg = xasprintf("AWS credentials from EC2 instance "
		    "metadata: PUT %s: %s; require IMDSv2 on the instance, or "
		    "set aws_imdsv1 (BOARD_AWS_IMDSV1) to allow IMDSv1",
		    buf_cstr(&url), rc != BOARD_OK ? why : "refused");
		rc = BOARD_EUNAVAIL;
		goto out;
	}
	if (v1 && awscred_env_true("AWS_EC2_METADATA_V1_DISABLED")) {
		*errmsg = xasprintf("AWS credentials from EC2 instance "
		    "metadata: PUT %s: %s, and AWS_EC2_METADATA_V1_DISABLED "
		    "forbids IMDSv1", buf_cstr(&url),
		    rc != BOARD_OK ? why : "refused");
		rc = BOARD_EUNAVAIL;
		goto out;
	}
	if (!v1 && rc != BOARD_OK) {
		*errmsg = xasprintf("AWS credentials from EC2 instance "
		    "metadata: %s", why);
		goto out;
	}
	if (!v1 && resp.status != 200) {
		*errmsg = xasprintf("AWS credentials from EC2 instance "
		    "metadata: PUT %s: HTTP %ld", buf_cstr(&url), resp.status);
		rc = BOARD_EUNAVAIL;
		goto out;
	}
	if (!v1) {
		token = awscred_trimmed(&resp.body);
		if (token[0] == '\0' || !awscred_printable(token, "+/=_-.")) {
			*errmsg = xasprintf("AWS credentials from EC2 "
			    "instance metadata: malformed token");
			rc = BOARD_EINVAL;
			goto out;
		}
	} else {
		log_info("aws: IMDSv2 token refused; using IMDSv1");
	}

	rc = awscred_imds_get(base, creds_path, token, &resp, errmsg);
	if (rc != BOARD_OK)
		goto out;
	role = awscred_trimmed(&resp.body);
	if ((nl = strchr(role, '\n')) != NULL)
		*nl = '\0';
	/* IAM role names are [\w+=,.@-]; anything else would change the
	 * path. */
	if (role[0] == '\0' || !awscred_printable(role, "_+=,.@-")) {
		*errmsg = xasprintf("AWS credentials from EC2 instance "
		    "metadata: no usable IAM role name");
		rc = BOARD_EINVAL;
		goto out;
	}
	buf_reset(&url);
	buf_printf(&url, "%s%s", creds_path, role);
	rc = awscred_imds_get(base, buf_cstr(&url), token, &resp, errmsg);
	if (rc != BOARD_OK)
		goto out;
	rc = awscred_from_json(&resp.body, "EC2 instance metadata", out,
	    errmsg);
	if (rc == BOARD_OK)
		out->source = "imds";
out:
	xfree_secret(token);
	free(role);
	free(why);
	buf_cleanup(&url);
	httpc_resp_cleanup(&resp);
	return rc;
}

static bool
awscred_fresh(const struct awscred *c, int64_t now)
{
	return c->key_id != NULL &&
	    (c->expires_ms == 0 || now < c->expires_ms - AWSCRED_REFRESH_MS);
}

enum board_err
awscred_get(bool imdsv1, const struct awscred **out, char **errmsg)
{
	const char *akid = awscred_env_nonempty("AWS_ACCESS_KEY_ID");
	const char *secret = awscred_env_nonempty("AWS_SECRET_ACCESS_KEY");
	const char *token = awscred_env_nonempty("AWS_SESSION_TOKEN");
	const char *rel, *full, *imds, *host;
	struct awscred fresh = { 0 };
	enum board_err rc;
	struct buf from;
	bool ecs;
	char iso[BOARD_ISO_LEN + 1];
	int64_t now;

	*out = NULL;
	if (akid != NULL && secret != NULL) {
		awscred_clear(&awscred_env);
		awscred_env.key_id = xstrdup(akid);
		awscred_env.secret = xstrdup(secret);
		awscred_env.token = token != NULL ? xstrdup(token) : NULL;
		awscred_env.source = "environment";
		*out = &awscred_env;
		return BOARD_OK;
	}

	buf_init(&from);
	rel = awscred_env_nonempty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	full = awscred_env_nonempty("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	ecs = rel != NULL || full != NULL;
	if (rel != NULL) {
		host = awscred_env_nonempty("BOARD_ECS_ENDPOINT");
		buf_printf(&from, "%s%s%s", host ? host : AWSCRED_ECS_HOST,
		    rel[0] == '/' ? "" : "/", rel);
	} else if (full != NULL) {
		rc = awscred_check_full_uri(full, errmsg);
		if (rc != BOARD_OK)
			goto out;
		buf_puts(&from, full);
	} else if (awscred_env_true("AWS_EC2_METADATA_DISABLED")) {
		*errmsg = xasprintf("no AWS credentials: set "
		    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with "
		    "an ECS task role (AWS_EC2_METADATA_DISABLED is set)");
		rc = BOARD_EUNAVAIL;
		goto out;
	} else {
		imds = awscred_env_nonempty(
		    "AWS_EC2_METADATA_SERVICE_ENDPOINT");
		if (imds == NULL) {
			const char *mode = getenv(
			    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");

			imds = mode != NULL && strcasecmp(mode, "IPv6") == 0 ?
			    AWSCRED_IMDS6_HOST : AWSCRED_IMDS_HOST;
		}
		buf_puts(&from, imds);
		while (from.len > 0 && from.data[from.len - 1] == '/')
			from.data[--from.len] = '\0';
	}

	now = board_now_ms();
	if (awscred_cache_from != NULL &&
	    strcmp(awscred_cache_from, buf_cstr(&from)) == 0 &&
	    awscred_fresh(&awscred_cache, now)) {
		*out = &awscred_cache;
		rc = BOARD_OK;
		goto out;
	}
	rc = ecs ? awscred_fetch_ecs(buf_cstr(&from), &fresh, errmsg) :
	    awscred_fetch_imds(buf_cstr(&from), imdsv1, &fresh, errmsg);
	if (rc != BOARD_OK) {
		/* Like the SDKs: keys not yet expired outlive a failed
		 * refresh. */
		if (awscred_cache_from != NULL &&
		    strcmp(awscred_cache_from, buf_cstr(&from)) == 0 &&
		    awscred_cache.key_id != NULL &&
		    (awscred_cache.expires_ms == 0 ||
		    now < awscred_cache.expires_ms)) {
			log_warn("aws: credential refresh failed, keeping "
			    "the current ones: %s", *errmsg);
			free(*errmsg);
			*errmsg = NULL;
			*out = &awscred_cache;
			rc = BOARD_OK;
		}
		goto out;
	}
	awscred_forget();
	awscred_cache = fresh;
	awscred_cache_from = buf_steal(&from);
	if (fresh.expires_ms != 0) {
		board_iso_time(fresh.expires_ms, iso);
		log_info("aws: new credentials from %s, expiring %s",
		    fresh.source, iso);
	} else {
		log_info("aws: new credentials from %s", fresh.source);
	}
	*out = &awscred_cache;
out:
	buf_cleanup(&from);
	return rc;
}
