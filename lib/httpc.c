/* httpc.c: outbound HTTP requests (libcurl) for AWS and instance metadata. */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "board.h"
#include "cidr.h"
#include "httpc.h"

struct httpc_xfer {
	struct httpc_resp *resp;
	bool too_big;
};

static bool httpc_ready;

/* libcurl's global state; the responders are single-threaded. */
static void
httpc_global_init(void)
{
	if (httpc_ready)
		return;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		abort();	/* only fails when out of memory */
	httpc_ready = true;
}

void
httpc_resp_init(struct httpc_resp *r)
{
	r->status = 0;
	buf_init(&r->body);
	r->amzn_errortype = NULL;
	r->timed_out = false;
}

void
httpc_resp_cleanup(struct httpc_resp *r)
{
	buf_cleanup_secret(&r->body);
	free(r->amzn_errortype);
	httpc_resp_init(r);
}

/* The body may carry keys or the secret: it grows by buf_append_secret. */
static size_t
httpc_on_body(char *p, size_t size, size_t n, void *arg)
{
	struct httpc_xfer *x = arg;
	struct buf *b = &x->resp->body;
	size_t len = size * n;

	if (len > HTTPC_BODY_MAX || b->len + len > HTTPC_BODY_MAX) {
		x->too_big = true;
		return 0;
	}
	buf_append_secret(b, p, len);
	return len;
}

static size_t
httpc_on_header(char *p, size_t size, size_t n, void *arg)
{
	static const char name[] = "x-amzn-errortype:";
	struct httpc_xfer *x = arg;
	size_t len = size * n;
	const char *v, *end;

	if (len < sizeof(name) - 1 || strncasecmp(p, name, sizeof(name) - 1))
		return len;
	v = p + sizeof(name) - 1;
	end = p + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
	    end[-1] == ' ' || end[-1] == '\t'))
		end--;
	free(x->resp->amzn_errortype);
	x->resp->amzn_errortype = xstrndup(v, (size_t)(end - v));
	return len;
}

enum board_err
httpc_do(const struct httpc_req *req, struct httpc_resp *resp, char **errmsg)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct httpc_xfer x = { resp, false };
	struct curl_slist *hdrs = NULL, *tmp;
	const char *method = req->method != NULL ? req->method : "GET";
	enum board_err rc = BOARD_EUNAVAIL;
	struct buf msg;
	CURLcode cc;
	CURL *h;

	httpc_global_init();
	buf_init(&msg);
	h = curl_easy_init();
	if (h == NULL)
		abort();
	for (size_t i = 0; req->headers != NULL && req->headers[i]; i++) {
		tmp = curl_slist_append(hdrs, req->headers[i]);
		if (tmp == NULL)
			abort();
		hdrs = tmp;
	}
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	/* Credentials and secrets go nowhere but where they were sent. */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 2000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
	    req->timeout_ms > 0 ? req->timeout_ms : 5000L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, httpc_on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, httpc_on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	if (hdrs != NULL)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (req->direct)
		curl_easy_setopt(h, CURLOPT_PROXY, "");
	if (strcmp(method, "GET") != 0) {
		/*
		 * POSTFIELDS is the only body libcurl 7.88's SigV4 hashes;
		 * a READFUNCTION body would be signed as empty.
		 */
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE,
		    (long)(req->body != NULL ? req->body_len : 0));
		curl_easy_setopt(h, CURLOPT_POSTFIELDS,
		    req->body != NULL ? req->body : "");
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	if (req->aws_sigv4 != NULL) {
		curl_easy_setopt(h, CURLOPT_AWS_SIGV4, req->aws_sigv4);
		curl_easy_setopt(h, CURLOPT_USERNAME, req->aws_key_id);
		curl_easy_setopt(h, CURLOPT_PASSWORD, req->aws_secret);
	}

	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		resp->status = 0;
		resp->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
		buf_printf(&msg, "%s %s: ", method, req->url);
		if (x.too_big)
			buf_printf(&msg, "response larger than %d bytes",
			    HTTPC_BODY_MAX);
		else
			buf_puts(&msg, errbuf[0] ? errbuf :
			    curl_easy_strerror(cc));
		*errmsg = buf_steal(&msg);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	rc = BOARD_OK;
out:
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	buf_cleanup(&msg);
	return rc;
}

static bool
httpc_host_is_local(const char *host, const char *local)
{
	struct cidr_list *l = NULL;
	char *errmsg = NULL;
	bool in;

	if (strcasecmp(host, "localhost") == 0)
		return true;
	/* local is our constant: a bad one is a bug, not input. */
	if (cidr_list_new(local, &l, &errmsg) != BOARD_OK) {
		free(errmsg);
		assert(!"bad httpc_url_is_private list");
		return false;
	}
	in = cidr_list_match(l, host, strlen(host));
	cidr_list_free(l);
	return in;
}

bool
httpc_url_is_private(const char *url, const char *local)
{
	char *scheme = NULL, *host = NULL;
	bool okay = false;
	CURLU *u = curl_url();

	if (u == NULL)
		abort();
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		okay = strcmp(scheme, "https") == 0 ||
		    (strcmp(scheme, "http") == 0 &&
		    httpc_host_is_local(host, local));
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return okay;
}
