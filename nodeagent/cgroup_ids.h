/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup_ids: a cgroup v2 id (what eBPF's bpf_get_current_cgroup_id gives:
 * the inode number of the cgroup's directory) -> the pod and container its
 * path names (archive/cgroup_path.h). The host's cgroup tree is read under a
 * configurable root (agent.hostCgroupRoot; the chart mounts it read-only);
 * unknown ids make it walk the tree again, at most twice a second. */
#ifndef TV_AGENT_CGROUP_IDS_H
#define TV_AGENT_CGROUP_IDS_H

#include <stdbool.h>
#include <stdint.h>

#include "archive/cgroup_path.h"

struct tv_cgroup_ids;

/* root: the cgroup2 mount to read; NULL or "": found in /proc/self/mountinfo.
 * @return 0 or negative errno (message set: no cgroup2 mount). */
int tv_cgroup_ids_open(struct tv_cgroup_ids **out, const char *root);
void tv_cgroup_ids_free(struct tv_cgroup_ids *c);
/* @return true with *info filled when id is a pod's (or one of its containers') cgroup. */
bool tv_cgroup_ids_lookup(struct tv_cgroup_ids *c, uint64_t id, struct tv_cgroup_info *info);
/* The root in use. */
const char *tv_cgroup_ids_root(const struct tv_cgroup_ids *c);

#endif
