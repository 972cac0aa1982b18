/* SPDX-License-Identifier: Apache-2.0 */
/* s3_config: where an s3:// store connects and with which credentials. */
#ifndef TV_S3_CONFIG_H
#define TV_S3_CONFIG_H

#include <stdbool.h>

#include "archive/store/store_s3.h"

enum tv_s3_cred_source {
	TV_S3_CREDS_NONE,
	TV_S3_CREDS_STATIC, /* environment or profile file: never expire here */
	TV_S3_CREDS_WEB_IDENTITY,
	TV_S3_CREDS_CONTAINER,
	TV_S3_CREDS_IMDS,
};

struct tv_s3_config {
	bool https;
	bool custom_endpoint; /* given by option, environment or config file */
	char *host;           /* authority: "host[:port]" */
	char *region;
	char *access_key;
	char *secret_key; /* never printed */
	char *session_token;
	enum tv_s3_cred_source source;
	uint64_t expires_ns; /* 0: never (static keys) */
	uint64_t fetches;    /* how often the provider was asked (metrics, tests) */
};

/* Resolves everything from o, the environment and the AWS files.
 * @return 0, -EINVAL (bad endpoint), -EACCES (no credentials), -ENOMEM. */
int tv_s3_config_resolve(struct tv_s3_config *c, const struct tv_s3_opts *o);
void tv_s3_config_cleanup(struct tv_s3_config *c);

#endif
