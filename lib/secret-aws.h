/* secret-aws.h: the session secret from AWS Secrets Manager. */
#ifndef BOARD_SECRET_AWS_H
#define BOARD_SECRET_AWS_H

#include <stdbool.h>
#include <stddef.h>

#include "board.h"
#include "conf.h"
#include "secret.h"

/*
 * Fetches the secret named by c->secret_name (JSON SecretString, key
 * "session_secret_key") in region c->aws_region, at the AWSCURRENT stage
 * and then AWSPREVIOUS (absent is fine), credentials from the AWS chain
 * (environment, ECS task role, EC2 IMDSv2; IMDSv1 with c->aws_imdsv1),
 * endpoint c->secrets_endpoint when set (https, or http on a loopback
 * host: anything else is BOARD_EINVAL). Appends them to out in that order
 * (current signs).
 * On failure returns BOARD_EUNAVAIL (network) or BOARD_EINVAL (denied,
 * missing, bad JSON) with *errmsg: one line naming the secret and the
 * AWS error code, never a value (caller frees).
 */
enum board_err secret_aws_fetch(const struct conf *c, struct secrets *out,
    char **errmsg);

/* What one GetSecretValue answer means. */
enum secret_aws_outcome {
	SECRET_AWS_GOT,		/* the value's key set */
	SECRET_AWS_NOT_FOUND,	/* ResourceNotFoundException for a stage */
	SECRET_AWS_EXPIRED,	/* ExpiredTokenException, temporary creds */
	SECRET_AWS_FAILED,	/* the value's rc and errmsg set */
};

/* One GetSecretValue answer, and what it was the answer to. */
struct secret_aws_answer {
	long status;		/* HTTP status */
	const char *errortype;	/* the X-Amzn-Errortype header, or NULL */
	const char *body;	/* len bytes */
	size_t len;
	const char *name;	/* the secret's name */
	const char *stage;	/* NULL: AWSCURRENT */
	bool temporary;		/* the credentials expire */
};

/* What an answer held. */
struct secret_aws_value {
	char *key;		/* GOT: session_secret_key, keylen bytes */
	size_t keylen;
	enum board_err rc;	/* FAILED: the code to return */
	char *errmsg;		/* FAILED: one line, never a value */
};

/*
 * Reads one GetSecretValue answer into out, which it fills from scratch.
 * On GOT, out->key holds the value: the caller frees it with
 * xfree_secret. On FAILED, out->rc is the code to return and out->errmsg
 * is set (caller frees). secret_aws_fetch's parser, public so that
 * fuzz/fuzz-secret-aws.c can reach it without a network.
 */
enum secret_aws_outcome secret_aws_parse_response(
    const struct secret_aws_answer *a, struct secret_aws_value *out);

#endif
