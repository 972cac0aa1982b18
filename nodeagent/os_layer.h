/* SPDX-License-Identifier: Apache-2.0 */
/* os_layer: the agent's operating-system layer. A thread reads the eBPF
 * programs' records (os_probe.h) and turns them into the events file's `os`
 * records (FORMAT.md §4), which stream 0's writer drains into the open
 * segment, as it does the Kubernetes changes. Without BPF (no privileges, no
 * BTF, built without it) the agent captures as before and says so: once in
 * the log, in a metric, and in every segment's `capture` record ("os"). */
#ifndef TV_AGENT_OS_LAYER_H
#define TV_AGENT_OS_LAYER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct tv_os_layer;

struct tv_os_layer_stats {
	bool enabled;
	uint64_t records;      /* os records handed to the writer */
	uint64_t ring_drops;   /* records the kernel could not queue (ring full) */
	uint64_t unattributed; /* connections whose process was not seen */
	uint64_t queue_drops;  /* records dropped because the writer did not take them */
};

/* Starts the layer as agent.osEvents (enum tv_agent_kubernetes values) asks;
 * cgroup_root is the host's cgroup2 tree (agent.hostCgroupRoot; "" finds it),
 * proc_root its /proc (agent.hostProcRoot), read for executables' paths.
 * @return 0 (*out may be NULL: off, or unavailable with `auto`; the reason
 * is in tv_os_layer_status), or negative errno with `require`. */
int tv_os_layer_start(struct tv_os_layer **out, int mode, const char *cgroup_root, const char *proc_root);
void tv_os_layer_stop(struct tv_os_layer *l);
/* The records since the last call, as JSON lines, into out (emptied first;
 * buffers are swapped, not copied). */
struct tv_buf;
void tv_os_layer_drain(struct tv_os_layer *l, struct tv_buf *out);
/* The live sockets (connections, UDP sockets) as the state record's
 * "sockets": SOCKET JSON text, one per line, into out (emptied first). */
void tv_os_layer_sockets(struct tv_os_layer *l, struct tv_buf *out);
void tv_os_layer_get_stats(struct tv_os_layer *l, struct tv_os_layer_stats *out);
/* "on", or "off: WHY" — what every segment's capture record says. */
const char *tv_os_layer_status(void);

#endif
