/* SPDX-License-Identifier: Apache-2.0 */
/* config: the uploader's configuration, through archive/common/config.h's
 * table: its own keys (uploader.*, store.url) and the store's (store.*,
 * store_s3.h), from a YAML file (the same file the agent reads: agent.* and
 * tap.* are skipped), `--set key=value` and flags. */
#ifndef TV_UPLOADER_CONFIG_H
#define TV_UPLOADER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "archive/store/store_s3.h"
#include "uploader/uploader.h"

struct tv_uploader_config {
	char *buffer_dir;
	char *store_url;
	unsigned parallel;
	uint64_t rescan_ns, give_up_ns, retry_refused_ns;
	char *metrics_addr;
	char *log_level;
	char *signing_key;
	uint64_t checkpoint_interval_ns;
	int lock_use;        /* uploader.objectLock: enum tv_lock_use (auto|off|require) */
	int lock_governance; /* uploader.lockMode: 0 compliance, 1 governance */
	uint64_t lock_retention_ns;
	struct tv_s3_opts s3;
};

/* Defaults. @return 0 or -ENOMEM. */
int tv_uploader_config_init(struct tv_uploader_config *c);
void tv_uploader_config_cleanup(struct tv_uploader_config *c);
/* One key from text (where: the flag or "--set" for messages). @return 0 or -EINVAL. */
int tv_uploader_config_set(struct tv_uploader_config *c, const char *key, const char *value,
			   const char *where);
/* A YAML file over the current values. @return 0 or -EINVAL/-ENOENT (FILE:LINE:COL). */
int tv_uploader_config_load_file(struct tv_uploader_config *c, const char *path);
/* Cross-field checks (the store is given, counts in range). */
int tv_uploader_config_validate(const struct tv_uploader_config *c);
void tv_uploader_config_print(const struct tv_uploader_config *c, FILE *out);
/* The run options (pointing into c and so; valid while both are). */
void tv_uploader_config_opts(const struct tv_uploader_config *c, struct tv_store_opts *so,
			     struct tv_uploader_opts *o);

/* The keys of the uploader's own table and the store's, for flag lookup. */
const char *tv_uploader_config_key_of_flag(const char *flag);

#endif
