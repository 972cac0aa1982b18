/* SPDX-License-Identifier: Apache-2.0 */
/* config: see config.h. */
#include "uploader/config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "archive/common/config.h"
#include "archive/common/err.h"

#define F(field) offsetof(struct tv_uploader_config, field)

static const struct tv_cfg_entry table[] = {
	{"store.url", TV_CFG_STRING, F(store_url), NULL, "where to ship: s3://BUCKET[/PREFIX] or file:///dir",
	 NULL},
	{"uploader.bufferDir", TV_CFG_STRING, F(buffer_dir), "/var/lib/tapvault/buffer",
	 "the agent's buffer directory", NULL},
	{"uploader.parallel", TV_CFG_UINT, F(parallel), "4", "segments in flight (1..64)", NULL},
	{"uploader.rescan", TV_CFG_DURATION, F(rescan_ns), "5s", "full rescan period besides inotify", NULL},
	{"uploader.giveUpAfter", TV_CFG_DURATION, F(give_up_ns), "0s",
	 "with --once: stop retrying after this long (0: never)", NULL},
	{"uploader.retryRefused", TV_CFG_DURATION, F(retry_refused_ns), "30s",
	 "wait after a refusal retrying cannot fix (credentials, bucket, clock)", NULL},
	{"uploader.metricsAddr", TV_CFG_STRING, F(metrics_addr), "",
	 "Prometheus metrics on HOST:PORT (empty: off)", NULL},
	{"uploader.logLevel", TV_CFG_STRING, F(log_level), "info", "error, warn, info or debug", NULL},
	{"uploader.signingKey", TV_CFG_STRING, F(signing_key), "",
	 "the node key that signs checkpoints, the agent's (empty: BUFFERDIR/.keys/node.key)", NULL},
	{"uploader.checkpointInterval", TV_CFG_DURATION, F(checkpoint_interval_ns), "60s",
	 "a signed checkpoint per node at least this often, and at every clean stop (0: none)", NULL},
	{"uploader.objectLock", TV_CFG_ENUM, F(lock_use), "auto",
	 "S3 Object Lock retention on checkpoints and keys: when the bucket has it, never, or refuse to "
	 "start "
	 "without it",
	 "auto|off|require"},
	{"uploader.lockMode", TV_CFG_ENUM, F(lock_governance), "compliance",
	 "retention nobody can lift (compliance) or that s3:BypassGovernanceRetention can (governance)",
	 "compliance|governance"},
	{"uploader.lockRetention", TV_CFG_DURATION, F(lock_retention_ns), "30d",
	 "how long each checkpoint and key stays undeletable (at least the archive's retention)", NULL},
};

/* The agent's keys, which the same file may hold. */
static const char *const foreign[] = {"agent.", "tap.", NULL};

static struct tv_cfg cfg_of(struct tv_uploader_config *c, struct tv_cfg_part parts[2])
{
	parts[0] = (struct tv_cfg_part){table, sizeof(table) / sizeof(table[0]), c};
	parts[1] = (struct tv_cfg_part){tv_s3_cfg_entries, tv_s3_cfg_nentries, &c->s3};
	return (struct tv_cfg){parts, 2, foreign};
}

int tv_uploader_config_init(struct tv_uploader_config *c)
{
	memset(c, 0, sizeof(*c));
	struct tv_cfg_part parts[2];
	struct tv_cfg cfg = cfg_of(c, parts);
	return tv_cfg_init(&cfg);
}

void tv_uploader_config_cleanup(struct tv_uploader_config *c)
{
	struct tv_cfg_part parts[2];
	struct tv_cfg cfg = cfg_of(c, parts);
	tv_cfg_cleanup(&cfg);
}

int tv_uploader_config_set(struct tv_uploader_config *c, const char *key, const char *value,
			   const char *where)
{
	struct tv_cfg_part parts[2];
	struct tv_cfg cfg = cfg_of(c, parts);
	return tv_cfg_set(&cfg, key, value, true, where);
}

int tv_uploader_config_load_file(struct tv_uploader_config *c, const char *path)
{
	struct tv_cfg_part parts[2];
	struct tv_cfg cfg = cfg_of(c, parts);
	return tv_cfg_load_file(&cfg, path);
}

int tv_uploader_config_validate(const struct tv_uploader_config *c)
{
	if (!c->store_url || !c->store_url[0])
		return tv_err(-EINVAL, "store.url (--store) is required");
	if (!c->buffer_dir || !c->buffer_dir[0])
		return tv_err(-EINVAL, "uploader.bufferDir (--buffer) is required");
	if (c->parallel < 1 || c->parallel > 64)
		return tv_err(-EINVAL, "uploader.parallel %u: expected 1..64", c->parallel);
	if (c->s3.parallel < 1 || c->s3.parallel > 64)
		return tv_err(-EINVAL, "store.partParallel %u: expected 1..64", c->s3.parallel);
	return 0;
}

void tv_uploader_config_print(const struct tv_uploader_config *c, FILE *out)
{
	struct tv_cfg_part parts[2];
	struct tv_cfg cfg = cfg_of((struct tv_uploader_config *)c, parts);
	tv_cfg_print(&cfg, out);
}

void tv_uploader_config_opts(const struct tv_uploader_config *c, struct tv_store_opts *so,
			     struct tv_uploader_opts *o)
{
	so->s3 = &c->s3;
	o->buffer_dir = c->buffer_dir;
	o->store_url = c->store_url;
	o->parallel = c->parallel;
	o->rescan_ns = c->rescan_ns;
	o->give_up_ns = c->give_up_ns;
	o->config_retry_ns = c->retry_refused_ns;
	o->metrics_addr = c->metrics_addr && c->metrics_addr[0] ? c->metrics_addr : NULL;
	o->store_opts = so;
	o->signing_key = c->signing_key;
	o->checkpoint_interval_ns = c->checkpoint_interval_ns;
	o->lock = (struct tv_lock_opts){(enum tv_lock_use)c->lock_use, c->lock_governance == 1,
					c->lock_retention_ns};
}

const char *tv_uploader_config_key_of_flag(const char *flag)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char name[64];
		tv_cfg_flag_name(table[i].key, name, sizeof(name));
		if (strcmp(name, flag) == 0)
			return table[i].key;
	}
	return tv_s3_opts_key_of_flag(flag);
}
