/* SPDX-License-Identifier: Apache-2.0 */
/* s3_creds: credentials that come from an endpoint and expire, as clusters
 * hand them out --
 *   web identity  AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE -> STS
 *                 AssumeRoleWithWebIdentity (EKS IRSA; STS at
 *                 AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, or AWS's regional)
 *   container     AWS_CONTAINER_CREDENTIALS_FULL_URI (+ the token in
 *                 AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN; EKS Pod
 *                 Identity) or _RELATIVE_URI (ECS)
 *   IMDSv2        a session token (PUT), then the instance role's keys
 *                 (AWS_EC2_METADATA_SERVICE_ENDPOINT; off with
 *                 AWS_EC2_METADATA_DISABLED=true)
 * Token files are re-read at every fetch (the kubelet rotates them).
 * Credentials are renewed 5 minutes before they expire, and once more when
 * the store answers ExpiredToken. */
#ifndef TV_S3_CREDS_H
#define TV_S3_CREDS_H

#include <stdbool.h>
#include <stdint.h>

#include "archive/store/s3/s3_config.h"

/* Which provider applies, from the environment (static keys and profile
 * files are s3_config.c's; IMDS is the last resort it tries). */
enum tv_s3_cred_source tv_s3_creds_detect(void);
const char *tv_s3_creds_name(enum tv_s3_cred_source src);

/* (Re)fetches c's credentials from c->source. @return 0, -EACCES (refused,
 * unreadable token file), -EAGAIN (unreachable, 5xx), -EPROTO; the message
 * names the endpoint, never a secret. */
int tv_s3_creds_fetch(struct tv_s3_config *c, const struct tv_s3_opts *o);

/* Whether c's credentials expire within the refresh margin. */
bool tv_s3_creds_stale(const struct tv_s3_config *c, uint64_t now_ns);

#endif
