/* SPDX-License-Identifier: Apache-2.0 */
/* store_s3: the s3://BUCKET/PREFIX backend of store.h, on libcurl and SigV4.
 *
 * Endpoint and credentials are found the way the AWS CLI finds them:
 *   endpoint:    tv_s3_opts.endpoint (--endpoint), AWS_ENDPOINT_URL_S3,
 *                AWS_ENDPOINT_URL, `endpoint_url` in the config file, else
 *                AWS's regional endpoint
 *   credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
 *                else the profile (AWS_PROFILE, default "default") of
 *                AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials)
 *   region:      tv_s3_opts.region, AWS_REGION, AWS_DEFAULT_REGION, the
 *                config file (AWS_CONFIG_FILE, ~/.aws/config), else us-east-1
 * Secrets are never put into messages.
 *
 * Errors (beyond store.h's): -EAGAIN transient (network, timeout, 5xx,
 * 429/SlowDown) after the configured retries; -EACCES credentials refused
 * (bad key, bad signature, expired token, access denied); -ETIME clock skew
 * (RequestTimeTooSkewed); -ENXIO no such bucket; -EBADMSG the server's
 * checksum disagreed with ours; -EPROTO any other refusal. */
#ifndef TV_STORE_S3_H
#define TV_STORE_S3_H

#include <stdbool.h>
#include <stdint.h>

#include "archive/store.h"

enum tv_s3_addressing {
	TV_S3_ADDR_AUTO, /* path-style on a custom endpoint, virtual-hosted on AWS */
	TV_S3_ADDR_PATH,
	TV_S3_ADDR_VIRTUAL,
};

enum tv_s3_create_mode {
	TV_S3_CREATE_IF_NONE_MATCH, /* PUT with If-None-Match: * (AWS since 2024, RGW) */
	TV_S3_CREATE_HEAD_THEN_PUT, /* HEAD, then PUT: racy; for servers that ignore the header */
};

struct tv_s3_opts {
	const char *endpoint; /* NULL: from the environment (above) */
	const char *region;
	const char *profile;
	const char *ca_bundle; /* NULL: the system's */
	bool insecure;         /* do not verify TLS (only when asked) */
	enum tv_s3_addressing addressing;
	enum tv_s3_create_mode create_mode;
	uint64_t multipart_threshold; /* objects above this go multipart (default 64 MiB) */
	uint64_t part_size;           /* default 16 MiB; S3 needs >= 5 MiB */
	unsigned parallel;            /* parts in flight per object (default 4) */
	unsigned retries;             /* extra attempts on transient errors (0: default 4) */
	bool content_md5;             /* also send Content-MD5 and check MD5 ETags */
	uint64_t max_send_rate;       /* bytes/s per connection, 0: unlimited */
	long connect_timeout_ms;      /* default 5000 */
	long low_speed_timeout_s;     /* abort below 1 KiB/s for this long (default 30) */
};

/* Process-wide options for every s3:// store opened afterwards (set from the
 * command line by each main). NULL restores the defaults. */
void tv_s3_set_defaults(const struct tv_s3_opts *o);

/* Opens "s3://BUCKET[/PREFIX]". Does not contact the server. */
int tv_store_s3_open(const char *url, struct tv_store **out);

/* The bucket's multipart uploads under prefix that were started more than
 * older_than_s seconds ago are aborted (after a crash, so nothing stays billed
 * and invisible). *aborted counts them. @return 0 or a store error. */
int tv_store_s3_abort_incomplete(struct tv_store *s, const char *prefix, uint64_t older_than_s,
				 unsigned *aborted);

/* Statistics of one store handle, for metrics and benchmarks. */
struct tv_s3_stats {
	uint64_t requests, retries, bytes_sent, bytes_received;
};
void tv_store_s3_stats(struct tv_store *s, struct tv_s3_stats *out);

#endif
