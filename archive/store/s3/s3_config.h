/* SPDX-License-Identifier: Apache-2.0 */
/* s3_config: where an s3:// store connects and with which credentials. */
#ifndef TV_S3_CONFIG_H
#define TV_S3_CONFIG_H

#include <stdbool.h>

#include "archive/store/store_s3.h"

struct tv_s3_config {
	bool https;
	bool custom_endpoint; /* given by option, environment or config file */
	char *host;           /* authority: "host[:port]" */
	char *region;
	char *access_key;
	char *secret_key; /* never printed */
	char *session_token;
};

/* Resolves everything from o, the environment and the AWS files.
 * @return 0, -EINVAL (bad endpoint), -EACCES (no credentials), -ENOMEM. */
int tv_s3_config_resolve(struct tv_s3_config *c, const struct tv_s3_opts *o);
void tv_s3_config_cleanup(struct tv_s3_config *c);

#endif
