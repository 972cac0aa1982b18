/* SPDX-License-Identifier: Apache-2.0 */
/* config: the agent's configuration, one typed table (archive/common/config.h)
 * that drives YAML parsing, command-line overrides, defaults, validation and
 * --print-config.
 *
 * Keys mirror the Helm values (tap.capture.raw.storageSize, ...) plus the
 * agent's own (agent.*). A YAML file sets them as nested mappings; flags and
 * `--set key=value` override the file. Errors name FILE:LINE:COLUMN. */
#ifndef TV_AGENT_CONFIG_H
#define TV_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "archive/common/config.h" /* the table engine, struct tv_strlist */
#include "archive/common/units.h"  /* tv_parse_size, for the config's sizes */

#define TV_AGENT_MAX_STREAMS 16

struct tv_agent_config {
	/* tap.* (Helm values) */
	bool raw_enabled;
	uint64_t storage_size;
	bool stopped;
	char *regex;
	int packet_capture; /* tap.packetCapture: 0 best, 1 af_packet (the same backend) */
	struct tv_strlist namespaces;
	struct tv_strlist excluded_namespaces;
	/* agent.* */
	char *node;
	struct tv_strlist interfaces;
	uint64_t snaplen;
	char *filter;
	char *buffer_dir;
	uint64_t seal_interval_ns;
	uint64_t seal_bytes;
	int64_t zstd_level;
	int64_t streams; /* segment streams (writers) per node; 0: from the core count */
	char *metrics_addr;
	uint64_t ring_size;
	uint64_t queue_size; /* bytes of 1 MiB chunks between capture and writer */
	bool direct_io;      /* write segment data with O_DIRECT where the file system takes it */
	char *log_level;
	char *signing_key; /* "": agent.bufferDir/.keys/node.key */
	int kubernetes;    /* enum tv_agent_kubernetes */
	char *kubeconfig;  /* "": in-cluster */
	uint64_t kube_stall_ns;
	int os_events;          /* enum tv_agent_kubernetes's values: auto, off, require */
	char *host_cgroup_root; /* the host's cgroup2 tree ("": found in /proc/self/mountinfo) */
	char *host_proc_root;   /* the host's /proc */
};

enum tv_agent_kubernetes {
	TV_AGENT_K8S_AUTO,
	TV_AGENT_K8S_OFF,
	TV_AGENT_K8S_REQUIRE
};

/* Sets every key to its default. @return 0 or -ENOMEM. */
int tv_agent_config_init(struct tv_agent_config *c);
void tv_agent_config_cleanup(struct tv_agent_config *c);

/* Reads a YAML file over the current values. @return 0, or -EINVAL/-ENOENT
 * with the message naming FILE:LINE:COLUMN and the key. */
int tv_agent_config_load_file(struct tv_agent_config *c, const char *path);

/* Sets one key from text ("tap.capture.stopped", "true"); list keys append
 * unless `replace_list`. `where` prefixes error messages ("--set", a flag).
 * @return 0 or -EINVAL. */
int tv_agent_config_set(struct tv_agent_config *c, const char *key, const char *value, bool replace_list,
			const char *where);

/* @return true for `agent.interfaces: [auto]`: the agent finds them (tap.h). */
bool tv_agent_config_auto_interfaces(const struct tv_agent_config *c);

/* Cross-field checks (storage size vs seal bytes, regex compiles, ...). */
int tv_agent_config_validate(const struct tv_agent_config *c);

/* Writes the effective configuration as YAML. */
void tv_agent_config_print(const struct tv_agent_config *c, FILE *out);

#endif
