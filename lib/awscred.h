/* awscred.h: AWS credentials from the environment, ECS or EC2 metadata. */
#ifndef BOARD_AWSCRED_H
#define BOARD_AWSCRED_H

#include <stdbool.h>
#include <stdint.h>

#include "board.h"

/* Refresh temporary credentials this long before their Expiration. */
#define AWSCRED_REFRESH_MS (5 * 60 * 1000)

struct awscred {
	char *key_id;		/* AccessKeyId */
	char *secret;		/* SecretAccessKey */
	char *token;		/* session token, or NULL for long-term keys */
	int64_t expires_ms;	/* Expiration, ms since the epoch; 0: none */
	const char *source;	/* "environment", "ecs" or "imds" (static) */
};

/*
 * Finds credentials the way the AWS SDKs do, first match wins:
 *  1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
 *  2. the ECS task role: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on
 *     http://169.254.170.2, or AWS_CONTAINER_CREDENTIALS_FULL_URI (https,
 *     or a loopback / ECS / EKS link-local host) with the Authorization
 *     header from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
 *     AWS_CONTAINER_AUTHORIZATION_TOKEN;
 *  3. the EC2 instance role through IMDSv2 (IMDSv1 when the token PUT is
 *     refused only if imdsv1 is set, the aws_imdsv1 setting, and
 *     AWS_EC2_METADATA_V1_DISABLED is not true) at
 *     AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254;
 *     skipped when AWS_EC2_METADATA_DISABLED=true.
 * BOARD_ECS_ENDPOINT replaces http://169.254.170.2 (tests only).
 *
 * Temporary credentials (2, 3) are kept in a static and fetched again
 * within AWSCRED_REFRESH_MS of their Expiration. *out is borrowed until
 * the next awscred_get or awscred_forget. Errors: BOARD_EUNAVAIL (metadata
 * unreachable, no credentials found) or BOARD_EINVAL (a setting is wrong,
 * a malformed answer), with *errmsg (caller frees) that never holds a key.
 */
enum board_err awscred_get(bool imdsv1, const struct awscred **out,
    char **errmsg);

/*
 * Drops the cached temporary credentials, so the next awscred_get fetches
 * new ones (e.g. after AWS answered ExpiredTokenException).
 */
void awscred_forget(void);

/*
 * Parses an RFC 3339 timestamp ("2026-11-25T13:35:28Z", fractions and
 * numeric offsets allowed) into ms since the epoch. BOARD_EINVAL if bad.
 */
enum board_err awscred_parse_time(const char *s, int64_t *out_ms);

/*
 * Parses the credential JSON that ECS and EC2 metadata answer with
 * (AccessKeyId, SecretAccessKey, Token, optional Expiration and Code).
 * from names the source in *errmsg. On BOARD_OK fills out's key_id,
 * secret and token (caller frees them); else BOARD_EINVAL with *errmsg.
 * awscred_get's parser, public for fuzz/fuzz-awscred.c.
 */
enum board_err awscred_from_json(const struct buf *body, const char *from,
    struct awscred *out, char **errmsg);

#endif
