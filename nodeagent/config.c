/* SPDX-License-Identifier: Apache-2.0 */
/* config: see config.h. The table below is the single source of the agent's
 * keys, types, defaults and help text; archive/common/config.c reads YAML
 * and flags through it. */
#include "nodeagent/config.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/timeutil.h"
#include "archive/keys.h"
#include "archive/segment.h"

#define F(field) offsetof(struct tv_agent_config, field)

static const struct tv_cfg_entry table[] = {
	{"tap.capture.raw.enabled", TV_CFG_BOOL, F(raw_enabled), "true", "capture raw packets at all", NULL},
	{"tap.capture.raw.storageSize", TV_CFG_SIZE, F(storage_size), "1Gi",
	 "cap of the local buffer (sealed + open segments); oldest dropped first", NULL},
	{"tap.capture.stopped", TV_CFG_BOOL, F(stopped), "false",
	 "pause capture without exiting (SIGHUP reloads)", NULL},
	{"tap.regex", TV_CFG_STRING, F(regex), ".*",
	 "pod name filter (POSIX ERE on the pod name; '.*': every pod)", NULL},
	{"tap.namespaces", TV_CFG_LIST, F(namespaces), NULL, "namespaces to capture (empty: all)", NULL},
	{"tap.excludedNamespaces", TV_CFG_LIST, F(excluded_namespaces), NULL, "namespaces never captured",
	 NULL},
	{"tap.packetCapture", TV_CFG_ENUM, F(packet_capture), "best",
	 "packet source, as Kubeshark names them: best or af_packet (both: AF_PACKET TPACKET_V3 through "
	 "libpcap, the one backend built; pf_ring is not supported)",
	 "best|af_packet"},
	{"agent.node", TV_CFG_STRING, F(node), NULL, "node name (default: $NODE_NAME, else the host name)",
	 NULL},
	{"agent.interfaces", TV_CFG_LIST, F(interfaces), "any",
	 "interfaces to capture ('any' allowed); 'auto': the host side of every pod, found as pods come and "
	 "go",
	 NULL},
	{"agent.snaplen", TV_CFG_SIZE, F(snaplen), "262144", "bytes kept per packet (262144 = full)", NULL},
	{"agent.filter", TV_CFG_STRING, F(filter), "", "BPF capture filter (tcpdump syntax)", NULL},
	{"agent.bufferDir", TV_CFG_STRING, F(buffer_dir), "/var/lib/tapvault/buffer", "local segment buffer",
	 NULL},
	{"agent.sealInterval", TV_CFG_DURATION, F(seal_interval_ns), "10s", "seal a segment after this long",
	 NULL},
	{"agent.sealBytes", TV_CFG_SIZE, F(seal_bytes), "128Mi", "or after this much pcapng", NULL},
	{"agent.zstdLevel", TV_CFG_INT, F(zstd_level), "1", "zstd level: -7..-1 fastest, 1 fast .. 19 small",
	 NULL},
	{"agent.streams", TV_CFG_INT, F(streams), "0",
	 "segment streams per node, each with its own writer thread, sequence and hash chain; each flow goes "
	 "to one (0: one per 4 cores, at least 1, at most 16)",
	 NULL},
	{"agent.metricsAddr", TV_CFG_STRING, F(metrics_addr), "",
	 "Prometheus metrics on HOST:PORT (empty: off)", NULL},
	{"agent.ringSize", TV_CFG_SIZE, F(ring_size), "64Mi", "kernel ring per interface (TPACKET_V3)", NULL},
	{"agent.queueSize", TV_CFG_SIZE, F(queue_size), "128Mi",
	 "captured packets waiting for the writer (allocated and touched at start: no page faults on the "
	 "packet path)",
	 NULL},
	{"agent.directIO", TV_CFG_BOOL, F(direct_io), "true",
	 "write segment data with O_DIRECT where the file system takes it (no page-cache copy)", NULL},
	{"agent.logLevel", TV_CFG_STRING, F(log_level), "info", "error, warn, info or debug", NULL},
	{"agent.kubernetes", TV_CFG_ENUM, F(kubernetes), "auto",
	 "watch the Kubernetes API for pods, services, EndpointSlices, namespaces, nodes: auto (in a pod, or "
	 "with agent.kubeconfig), off, require",
	 "auto|off|require"},
	{"agent.osEvents", TV_CFG_ENUM, F(os_events), "auto",
	 "process context of every TCP connection from eBPF (needs CAP_BPF and CAP_PERFMON and a kernel with "
	 "BTF): auto (when possible, saying so when not), off, require",
	 "auto|off|require"},
	{"agent.hostCgroupRoot", TV_CFG_STRING, F(host_cgroup_root), "",
	 "the host's cgroup v2 tree, read to name the container and pod of each process (empty: the cgroup2 "
	 "mount this agent sees)",
	 NULL},
	{"agent.hostProcRoot", TV_CFG_STRING, F(host_proc_root), "/proc",
	 "the host's /proc (the chart mounts it read-only), read for each process's executable path", NULL},
	{"agent.kubeconfig", TV_CFG_STRING, F(kubeconfig), "",
	 "a kubeconfig file (empty: the pod's service account)", NULL},
	{"agent.kubernetesStallTimeout", TV_CFG_DURATION, F(kube_stall_ns), "2m",
	 "a watch that sends nothing (not even a bookmark) this long is cut and re-opened", NULL},
	{"agent.signingKey", TV_CFG_STRING, F(signing_key), "",
	 "the node's Ed25519 key (PEM) that signs every index; created when absent (empty: "
	 "BUFFERDIR/.keys/node.key)",
	 NULL},
};

/* Keys of the uploader, which reads the same file (the chart's ConfigMap), and
 * tap.snapshots.*, which `tapvault snapshot create --config` reads. */
static const char *const foreign[] = {"uploader.", "store.", "tap.snapshots.", NULL};

/* The agent's table over c. */
static struct tv_cfg cfg_of(struct tv_agent_config *c, struct tv_cfg_part *part)
{
	*part = (struct tv_cfg_part){table, sizeof(table) / sizeof(table[0]), c};
	return (struct tv_cfg){part, 1, foreign};
}

int tv_agent_config_init(struct tv_agent_config *c)
{
	memset(c, 0, sizeof(*c));
	struct tv_cfg_part part;
	struct tv_cfg cfg = cfg_of(c, &part);
	return tv_cfg_init(&cfg);
}

void tv_agent_config_cleanup(struct tv_agent_config *c)
{
	struct tv_cfg_part part;
	struct tv_cfg cfg = cfg_of(c, &part);
	tv_cfg_cleanup(&cfg);
	memset(c, 0, sizeof(*c));
}

int tv_agent_config_set(struct tv_agent_config *c, const char *key, const char *value, bool replace_list,
			const char *where)
{
	struct tv_cfg_part part;
	struct tv_cfg cfg = cfg_of(c, &part);
	return tv_cfg_set(&cfg, key, value, replace_list, where);
}

int tv_agent_config_load_file(struct tv_agent_config *c, const char *path)
{
	struct tv_cfg_part part;
	struct tv_cfg cfg = cfg_of(c, &part);
	return tv_cfg_load_file(&cfg, path);
}

void tv_agent_config_print(const struct tv_agent_config *c, FILE *out)
{
	struct tv_cfg_part part;
	struct tv_cfg cfg = cfg_of((struct tv_agent_config *)c, &part);
	tv_cfg_print(&cfg, out);
}

int tv_agent_config_validate(const struct tv_agent_config *c)
{
	if (!c->node || !tv_node_name_valid(c->node))
		return tv_err(-EINVAL,
			      "agent.node '%s' is not a valid node name (1-253 of A-Z a-z 0-9 . _ -)",
			      c->node ? c->node : "");
	if (c->interfaces.n == 0)
		return tv_err(-EINVAL, "agent.interfaces is empty");
	if (c->kube_stall_ns < 1000000000ULL)
		return tv_err(-EINVAL, "agent.kubernetesStallTimeout must be at least 1s");
	for (size_t i = 0; c->interfaces.n > 1 && i < c->interfaces.n; i++)
		if (!strcmp(c->interfaces.items[i], "auto"))
			return tv_err(-EINVAL,
				      "agent.interfaces: 'auto' finds the interfaces itself; list no other");
	if (c->snaplen < 64 || c->snaplen > TV_MAX_PACKET)
		return tv_err(-EINVAL, "agent.snaplen %llu outside 64..%u", (unsigned long long)c->snaplen,
			      TV_MAX_PACKET);
	if (c->zstd_level < -7 || c->zstd_level == 0 || c->zstd_level > 19)
		return tv_err(-EINVAL, "agent.zstdLevel %lld outside -7..-1 (fast) and 1..19",
			      (long long)c->zstd_level);
	if (c->seal_interval_ns < 100000000ULL || c->seal_interval_ns > 3600 * TV_NS_PER_SEC)
		return tv_err(-EINVAL, "agent.sealInterval must be between 100ms and 1h");
	if (c->streams < 0 || c->streams > TV_AGENT_MAX_STREAMS)
		return tv_err(-EINVAL, "agent.streams must be between 0 (automatic) and %d",
			      TV_AGENT_MAX_STREAMS);
	if (c->node && tv_node_has_stream_suffix(c->node))
		return tv_err(-EINVAL, "agent.node '%s' ends like a stream name (_sN; docs/FORMAT.md §1)",
			      c->node);
	if (c->queue_size < ((uint64_t)4 << 20) || c->queue_size > ((uint64_t)4 << 30))
		return tv_err(-EINVAL, "agent.queueSize must be between 4Mi and 4Gi");
	if (c->seal_bytes < (1 << 20))
		return tv_err(-EINVAL, "agent.sealBytes must be at least 1Mi");
	/* Room for the open segment and three sealed ones, so the cap can hold. */
	if (c->storage_size < 4 * c->seal_bytes)
		return tv_err(-EINVAL,
			      "tap.capture.raw.storageSize (%llu) must be at least 4x agent.sealBytes (%llu)",
			      (unsigned long long)c->storage_size, (unsigned long long)c->seal_bytes);
	regex_t re;
	if (regcomp(&re, c->regex ? c->regex : "", REG_EXTENDED | REG_NOSUB) != 0)
		return tv_err(-EINVAL, "tap.regex '%s' is not a valid regular expression", c->regex);
	regfree(&re);
	return 0;
}

bool tv_agent_config_auto_interfaces(const struct tv_agent_config *c)
{
	return c->interfaces.n == 1 && !strcmp(c->interfaces.items[0], "auto");
}
