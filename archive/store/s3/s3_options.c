/* SPDX-License-Identifier: Apache-2.0 */
/* s3_options: struct tv_s3_opts as configuration keys (store_s3.h), so the
 * CLI's global flags, the uploader's flags and YAML file, and tests all set
 * S3 options through one table. */
#include <stddef.h>
#include <string.h>

#include "archive/common/config.h"
#include "archive/store/store_s3.h"

#define F(field) offsetof(struct tv_s3_opts, field)

const struct tv_cfg_entry tv_s3_cfg_entries[] = {
	{"store.endpoint", TV_CFG_STRING, F(endpoint), NULL,
	 "S3 endpoint http(s)://host[:port] (else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, ~/.aws/config, AWS)",
	 NULL},
	{"store.region", TV_CFG_STRING, F(region), NULL,
	 "signing region (else AWS_REGION, AWS_DEFAULT_REGION, config, us-east-1)", NULL},
	{"store.profile", TV_CFG_STRING, F(profile), NULL,
	 "AWS profile for credentials and config (else AWS_PROFILE)", NULL},
	{"store.caBundle", TV_CFG_STRING, F(ca_bundle), NULL,
	 "CA certificates to verify the endpoint's TLS with", NULL},
	{"store.insecure", TV_CFG_BOOL, F(insecure), "false", "do not verify TLS certificates", NULL},
	{"store.addressing", TV_CFG_ENUM, F(addressing), "auto",
	 "path or virtual-hosted bucket URLs (auto: path on a custom endpoint)", "auto|path|virtual"},
	{"store.createMode", TV_CFG_ENUM, F(create_mode), "if-none-match",
	 "how create-if-absent is done (head-then-put for servers that ignore If-None-Match)",
	 "if-none-match|head-then-put"},
	{"store.multipartThreshold", TV_CFG_SIZE, F(multipart_threshold), "64Mi",
	 "objects above go multipart", NULL},
	{"store.partSize", TV_CFG_SIZE, F(part_size), "16Mi", "multipart part size (>= 5Mi)", NULL},
	{"store.partParallel", TV_CFG_UINT, F(parallel), "4", "parts in flight per object (1..64)", NULL},
	{"store.contentMd5", TV_CFG_BOOL, F(content_md5), "false",
	 "also send Content-MD5 (the signed SHA-256 is always checked)", NULL},
	{"store.maxRate", TV_CFG_SIZE, F(max_send_rate), "0",
	 "bytes per second per connection (0: unlimited)", NULL},
};
const size_t tv_s3_cfg_nentries = sizeof(tv_s3_cfg_entries) / sizeof(tv_s3_cfg_entries[0]);

static struct tv_cfg cfg_of(struct tv_s3_opts *o, struct tv_cfg_part *part)
{
	*part = (struct tv_cfg_part){tv_s3_cfg_entries, tv_s3_cfg_nentries, o};
	return (struct tv_cfg){part, 1, NULL};
}

int tv_s3_opts_init(struct tv_s3_opts *o)
{
	memset(o, 0, sizeof(*o));
	struct tv_cfg_part part;
	struct tv_cfg c = cfg_of(o, &part);
	return tv_cfg_init(&c);
}

int tv_s3_opts_set(struct tv_s3_opts *o, const char *key, const char *value, const char *where)
{
	struct tv_cfg_part part;
	struct tv_cfg c = cfg_of(o, &part);
	return tv_cfg_set(&c, key, value, true, where);
}

const char *tv_s3_opts_key_of_flag(const char *flag)
{
	for (size_t i = 0; i < tv_s3_cfg_nentries; i++) {
		char name[64];
		tv_cfg_flag_name(tv_s3_cfg_entries[i].key, name, sizeof(name));
		if (strcmp(name, flag) == 0)
			return tv_s3_cfg_entries[i].key;
	}
	return NULL;
}

void tv_s3_opts_cleanup(struct tv_s3_opts *o)
{
	struct tv_cfg_part part;
	struct tv_cfg c = cfg_of(o, &part);
	tv_cfg_cleanup(&c);
}
