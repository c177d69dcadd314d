/* secret-aws.h: the session secret from AWS Secrets Manager. */
#ifndef BOARD_SECRET_AWS_H
#define BOARD_SECRET_AWS_H

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

#endif
