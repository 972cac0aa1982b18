/* SPDX-License-Identifier: Apache-2.0 */
/* store_s3: the s3://BUCKET/PREFIX backend of store.h, on libcurl and SigV4.
 *
 * Endpoint and credentials are found the way the AWS CLI finds them:
 *   endpoint:    tv_s3_opts.endpoint (store.endpoint, --endpoint), AWS_ENDPOINT_URL_S3,
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

#include "archive/common/config.h"
#include "archive/store/store.h"

enum tv_s3_addressing {
	TV_S3_ADDR_AUTO, /* path-style on a custom endpoint, virtual-hosted on AWS */
	TV_S3_ADDR_PATH,
	TV_S3_ADDR_VIRTUAL,
};

enum tv_s3_create_mode {
	TV_S3_CREATE_IF_NONE_MATCH, /* PUT with If-None-Match: * (AWS since 2024, RGW) */
	TV_S3_CREATE_HEAD_THEN_PUT, /* HEAD, then PUT: racy; for servers that ignore the header */
};

/* Options of s3:// stores, passed to tv_store_open (store.h). A zeroed struct
 * means every default; tv_s3_opts_init sets the defaults explicitly. */
struct tv_s3_opts {
	char *endpoint; /* NULL: from the environment (above); strings owned (tv_s3_opts_cleanup) */
	char *region;
	char *profile;
	char *ca_bundle; /* NULL: the system's */
	bool insecure;   /* do not verify TLS (only when asked) */
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

/* The options as configuration keys (store.endpoint, store.region,
 * store.caBundle, store.insecure, store.addressing, store.createMode,
 * store.multipartThreshold, store.partSize, store.partParallel,
 * store.contentMd5, store.maxRate, store.profile), for a program's config
 * table (archive/common/config.h) over a struct tv_s3_opts. Every program's
 * S3 flags are these keys' flag names (tv_cfg_flag_name: --ca-bundle). */
extern const struct tv_cfg_entry tv_s3_cfg_entries[];
extern const size_t tv_s3_cfg_nentries;

/* Defaults into o. @return 0 or -ENOMEM. */
int tv_s3_opts_init(struct tv_s3_opts *o);
/* Sets one option by key ("store.region") from text. @return 0 or -EINVAL
 * (message names `where`, the key and what it takes). */
int tv_s3_opts_set(struct tv_s3_opts *o, const char *key, const char *value, const char *where);
/* The key whose flag is flag (without "--"), or NULL. */
const char *tv_s3_opts_key_of_flag(const char *flag);
void tv_s3_opts_cleanup(struct tv_s3_opts *o);

/* Opens "s3://BUCKET[/PREFIX]" with o (NULL: defaults; copied, so o need
 * not outlive the store). Does not contact the server. */
int tv_store_s3_open(const char *url, const struct tv_s3_opts *o, struct tv_store **out);

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
