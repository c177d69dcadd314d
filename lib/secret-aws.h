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
 * (environment, ECS task role, EC2 IMDSv2), endpoint c->secrets_endpoint
 * when set. Appends them to out in that order (current signs).
 * On failure returns BOARD_EUNAVAIL (network) or BOARD_EINVAL (denied,
 * missing, bad JSON) with *errmsg: one line naming the secret and the
 * AWS error code, never a value (caller frees).
 */
enum board_err secret_aws_fetch(const struct conf *c, struct secrets *out,
    char **errmsg);

/* What one GetSecretValue answer means. */
enum secret_aws_outcome {
	SECRET_AWS_GOT,		/* *key set */
	SECRET_AWS_NOT_FOUND,	/* ResourceNotFoundException for a stage */
	SECRET_AWS_EXPIRED,	/* ExpiredTokenException, temporary creds */
	SECRET_AWS_FAILED,	/* *rc and *errmsg set */
};

/*
 * Reads one GetSecretValue answer: HTTP status, the X-Amzn-Errortype
 * header (or NULL) and the body of len bytes, for the secret name at
 * stage (NULL: AWSCURRENT); temporary says the credentials expire. On
 * GOT, *key (*keylen bytes) is the session_secret_key value: the caller
 * frees it with xfree_secret. On FAILED, *rc is the code to return and
 * *errmsg is set (caller frees). secret_aws_fetch's parser, public so
 * that fuzz/fuzz-secret-aws.c can reach it without a network.
 */
enum secret_aws_outcome secret_aws_parse_response(long status,
    const char *errortype, const char *text, size_t len, const char *name,
    const char *stage, bool temporary, char **key, size_t *keylen,
    enum board_err *rc, char **errmsg);

#endif
