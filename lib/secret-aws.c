/* secret-aws.c: the session secret from AWS Secrets Manager. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "awscred.h"
#include "board.h"
#include "conf.h"
#include "httpc.h"
#include "json.h"
#include "log.h"
#include "secret-aws.h"
#include "secret.h"

#define SECRET_AWS_KEY "session_secret_key"
/* Longest AWS message quoted in an error line. */
#define SECRET_AWS_MSG_MAX 200

/*
 * The AWS error code of a failed call: X-Amzn-Errortype, else the body's
 * "__type" (or "code"), cleaned as the smithy awsJson protocol says: drop
 * everything after the first ':', then keep what follows the first '#'.
 */
static char *
secret_aws_error_code(const char *errortype, cJSON *doc)
{
	const cJSON *t = NULL;
	const char *raw = errortype, *p;
	size_t n;

	if ((raw == NULL || raw[0] == '\0') && doc != NULL) {
		t = cJSON_GetObjectItemCaseSensitive(doc, "__type");
		if (!cJSON_IsString(t))
			t = cJSON_GetObjectItemCaseSensitive(doc, "code");
		raw = cJSON_IsString(t) ? t->valuestring : NULL;
	}
	if (raw == NULL || raw[0] == '\0')
		return xstrdup("unknown error");
	n = strcspn(raw, ":");
	if ((p = memchr(raw, '#', n)) != NULL) {
		n -= (size_t)(p + 1 - raw);
		raw = p + 1;
	}
	/* The code comes from the network: keep it one printable token. */
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)raw[i]) && raw[i] != '.' &&
		    raw[i] != '_' && raw[i] != '-')
			return xstrdup("malformed error");
	return n > 0 ? xstrndup(raw, n) : xstrdup("unknown error");
}

/* Appends AWS's human message, if any, trimmed and made printable. */
static void
secret_aws_error_text(struct buf *b, cJSON *doc)
{
	const cJSON *m;
	const char *s;
	size_t n;

	m = cJSON_GetObjectItemCaseSensitive(doc, "message");
	if (!cJSON_IsString(m))
		m = cJSON_GetObjectItemCaseSensitive(doc, "Message");
	if (!cJSON_IsString(m) || m->valuestring[0] == '\0')
		return;
	s = m->valuestring;
	n = strlen(s);
	buf_puts(b, ": ");
	for (size_t i = 0; i < n && i < SECRET_AWS_MSG_MAX; i++)
		buf_putc(b, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ?
		    ' ' : s[i]);
	if (n > SECRET_AWS_MSG_MAX)
		buf_puts(b, "...");
}

enum secret_aws_outcome
secret_aws_parse_response(const struct secret_aws_answer *a,
    struct secret_aws_value *out)
{
	enum secret_aws_outcome res = SECRET_AWS_FAILED;
	cJSON *doc = NULL, *inner = NULL;
	const cJSON *str, *val;
	const char *name = a->name;
	char *code = NULL;
	struct buf msg;

	buf_init(&msg);
	memset(out, 0, sizeof(*out));
	out->rc = BOARD_EINVAL;
	doc = cJSON_ParseWithLength(a->body, a->len);
	if (a->status != 200) {
		code = secret_aws_error_code(a->errortype, doc);
		if (strcmp(code, "ResourceNotFoundException") == 0 &&
		    a->stage != NULL) {
			res = SECRET_AWS_NOT_FOUND;
			goto out;
		}
		if (strcmp(code, "ExpiredTokenException") == 0 &&
		    a->temporary) {
			res = SECRET_AWS_EXPIRED;
			goto out;
		}
		buf_printf(&msg, "secret \"%s\"%s%s: %s (HTTP %ld)", name,
		    a->stage != NULL ? " " : "",
		    a->stage != NULL ? a->stage : "", code, a->status);
		if (doc != NULL)
			secret_aws_error_text(&msg, doc);
		/* Throttling and AWS-side faults pass; the rest needs a fix. */
		if (a->status >= 500 ||
		    strcmp(code, "ThrottlingException") == 0 ||
		    strcmp(code, "RequestLimitExceeded") == 0)
			out->rc = BOARD_EUNAVAIL;
		goto fail;
	}
	if (!cJSON_IsObject(doc)) {
		buf_printf(&msg, "secret \"%s\": the GetSecretValue answer is "
		    "not JSON", name);
		out->rc = BOARD_EUNAVAIL;
		goto fail;
	}
	str = cJSON_GetObjectItemCaseSensitive(doc, "SecretString");
	if (!cJSON_IsString(str)) {
		buf_printf(&msg, "secret \"%s\": %s; store JSON with the key "
		    "\"%s\" in SecretString", name,
		    cJSON_HasObjectItem(doc, "SecretBinary") ?
		    "has only SecretBinary" : "has no SecretString",
		    SECRET_AWS_KEY);
		goto fail;
	}
	/* Never quote the parser's position: it points into the secret. */
	inner = cJSON_Parse(str->valuestring);
	if (!cJSON_IsObject(inner)) {
		buf_printf(&msg, "secret \"%s\": SecretString is not a JSON "
		    "object", name);
		goto fail;
	}
	val = cJSON_GetObjectItemCaseSensitive(inner, SECRET_AWS_KEY);
	if (!cJSON_IsString(val) || val->valuestring[0] == '\0') {
		buf_printf(&msg, "secret \"%s\": SecretString has no non-empty "
		    "string \"%s\"", name, SECRET_AWS_KEY);
		goto fail;
	}
	out->keylen = strlen(val->valuestring);
	out->key = xstrdup(val->valuestring);
	res = SECRET_AWS_GOT;
	out->rc = BOARD_OK;
	goto out;
fail:
	out->errmsg = buf_steal(&msg);
out:
	json_cjson_free_secret(inner);
	json_cjson_free_secret(doc);
	free(code);
	buf_cleanup(&msg);
	return res;
}

/*
 * One signed GetSecretValue for stage (NULL: AWSCURRENT), read into out
 * as secret_aws_parse_response does.
 */
static enum secret_aws_outcome
secret_aws_call(const struct conf *c, const char *url, const char *sigv4,
    const struct awscred *cred, const char *stage,
    struct secret_aws_value *out)
{
	const char *hdrs[4] = {
		"Content-Type: application/x-amz-json-1.1",
		"X-Amz-Target: secretsmanager.GetSecretValue",
		NULL, NULL
	};
	enum secret_aws_outcome res = SECRET_AWS_FAILED;
	struct httpc_req req = { 0 };
	struct httpc_resp resp;
	struct buf tokhdr, msg;
	cJSON *body = NULL;
	char *payload = NULL, *why = NULL;
	const char *name = c->secret_name;

	httpc_resp_init(&resp);
	buf_init(&tokhdr);
	buf_init(&msg);
	memset(out, 0, sizeof(*out));

	body = cJSON_CreateObject();
	if (body == NULL ||
	    cJSON_AddStringToObject(body, "SecretId", name) == NULL ||
	    (stage != NULL &&
	    cJSON_AddStringToObject(body, "VersionStage", stage) == NULL) ||
	    (payload = cJSON_PrintUnformatted(body)) == NULL)
		abort();	/* cJSON fails only when out of memory */
	if (cred->token != NULL) {
		/* The signer includes it: libcurl signs every header given. */
		buf_printf(&tokhdr, "X-Amz-Security-Token: %s", cred->token);
		hdrs[2] = buf_cstr(&tokhdr);
	}
	req.method = "POST";
	req.url = url;
	req.headers = hdrs;
	req.body = payload;
	req.body_len = strlen(payload);
	req.connect_timeout_ms = 2000;
	req.timeout_ms = 5000;
	req.aws_sigv4 = sigv4;
	req.aws_key_id = cred->key_id;
	req.aws_secret = cred->secret;
	if (httpc_do(&req, &resp, &why) != BOARD_OK) {
		buf_printf(&msg, "secret \"%s\": %s", name, why);
		out->rc = BOARD_EUNAVAIL;
		goto fail;
	}
	res = secret_aws_parse_response(&(const struct secret_aws_answer){
	    .status = resp.status, .errortype = resp.amzn_errortype,
	    .body = buf_cstr(&resp.body), .len = resp.body.len, .name = name,
	    .stage = stage, .temporary = cred->expires_ms != 0 }, out);
	goto out;
fail:
	out->errmsg = buf_steal(&msg);
out:
	cJSON_Delete(body);
	free(payload);
	free(why);
	buf_cleanup_secret(&tokhdr);
	buf_cleanup(&msg);
	httpc_resp_cleanup(&resp);
	return res;
}

/* A region goes into the host name and the SigV4 scope: keep it simple. */
static bool
secret_aws_region_ok(const char *r)
{
	if (r == NULL || r[0] == '\0' || strlen(r) > 64)
		return false;
	for (; *r; r++)
		if (!islower((unsigned char)*r) &&
		    !isdigit((unsigned char)*r) && *r != '-')
			return false;
	return true;
}

enum board_err
secret_aws_fetch(const struct conf *c, struct secrets *out, char **errmsg)
{
	static const char *const stages[] = { NULL, "AWSPREVIOUS" };
	const struct awscred *cred;
	struct secret_aws_value got[2];
	struct buf url, sigv4, msg;
	enum board_err rc = BOARD_EINVAL;
	enum secret_aws_outcome res;
	char *why = NULL;
	const char *name = c->secret_name;
	bool retried = false;

	buf_init(&url);
	buf_init(&sigv4);
	buf_init(&msg);
	memset(got, 0, sizeof(got));
	*errmsg = NULL;
	if (name == NULL || name[0] == '\0' || strlen(name) > 2048) {
		buf_puts(&msg, "SESSION_SECRET_NAME must hold 1 to 2048 "
		    "characters");
		goto fail;
	}
	if (c->aws_region == NULL || c->aws_region[0] == '\0') {
		buf_printf(&msg, "secret \"%s\": AWS_REGION is not set", name);
		goto fail;
	}
	if (!secret_aws_region_ok(c->aws_region)) {
		buf_printf(&msg, "secret \"%s\": AWS_REGION \"%s\" is not a "
		    "region name", name, c->aws_region);
		goto fail;
	}
	if (c->secrets_endpoint != NULL && c->secrets_endpoint[0] != '\0') {
		/* The secret comes back over it: https, or http to this
		 * machine only (a local proxy or endpoint tunnel, tests). */
		if (!httpc_url_is_private(c->secrets_endpoint,
		    "127.0.0.0/8 ::1")) {
			buf_printf(&msg, "secret \"%s\": secrets_endpoint "
			    "(BOARD_SECRETS_ENDPOINT) must be https, or http "
			    "on localhost, 127.0.0.0/8 or [::1]", name);
			goto fail;
		}
		buf_puts(&url, c->secrets_endpoint);
		/* awsJson signs POST "/": add the path if the URL has none. */
		if (strchr(strstr(buf_cstr(&url), "://") != NULL ?
		    strstr(buf_cstr(&url), "://") + 3 : buf_cstr(&url),
		    '/') == NULL)
			buf_putc(&url, '/');
	} else {
		buf_printf(&url, "https://secretsmanager.%s.amazonaws.com/",
		    c->aws_region);
	}
	/*
	 * Region and service given, so libcurl does not guess them from the
	 * host name and VPC endpoints sign correctly.
	 */
	buf_printf(&sigv4, "aws:amz:%s:secretsmanager", c->aws_region);

again:
	rc = awscred_get(c->aws_imdsv1, &cred, &why);
	if (rc != BOARD_OK) {
		buf_printf(&msg, "secret \"%s\": %s", name, why);
		goto fail;
	}
	for (size_t i = 0; i < 2; i++) {
		res = secret_aws_call(c, buf_cstr(&url), buf_cstr(&sigv4), cred,
		    stages[i], &got[i]);
		if (res == SECRET_AWS_EXPIRED && !retried) {
			/* Our clock says valid, AWS says expired: refetch
			 * once. */
			log_warn("aws: secret \"%s\": credentials from %s "
			    "expired early; fetching new ones", name,
			    cred->source);
			awscred_forget();
			retried = true;
			for (size_t j = 0; j < 2; j++) {
				xfree_secret(got[j].key);
				got[j].key = NULL;
			}
			goto again;
		}
		if (res == SECRET_AWS_EXPIRED) {
			buf_printf(&msg, "secret \"%s\": ExpiredTokenException "
			    "with fresh credentials from %s", name,
			    cred->source);
			rc = BOARD_EINVAL;
			goto fail;
		}
		if (res == SECRET_AWS_FAILED) {
			rc = got[i].rc;
			*errmsg = got[i].errmsg;
			got[i].errmsg = NULL;
			goto out;
		}
		if (res == SECRET_AWS_NOT_FOUND)
			break;	/* no AWSPREVIOUS: one secret */
	}
	for (size_t i = 0; i < 2; i++)
		if (got[i].key != NULL)
			secrets_add(out, got[i].key, got[i].keylen);
	rc = BOARD_OK;
	goto out;
fail:
	*errmsg = buf_steal(&msg);
out:
	for (size_t i = 0; i < 2; i++)
		xfree_secret(got[i].key);
	free(why);
	buf_cleanup(&url);
	buf_cleanup(&sigv4);
	buf_cleanup(&msg);
	return rc;
}
