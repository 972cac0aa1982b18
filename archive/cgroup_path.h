/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup_path: what a cgroup path says about a Kubernetes container, as the
 * kubelet and the container runtimes name their cgroups:
 *
 *   systemd driver:  /kubepods.slice/kubepods-burstable.slice/
 *                    kubepods-burstable-pod<UID_WITH_UNDERSCORES>.slice/cri-containerd-<ID>.scope
 *                    (crio-<ID>.scope, docker-<ID>.scope; Guaranteed pods sit directly
 *                    under kubepods.slice as kubepods-pod<UID>.slice)
 *   cgroupfs driver: /kubepods/burstable/pod<UID>/<ID>   (/kubepods/pod<UID>/<ID> when Guaranteed)
 *
 * The path is untrusted input (read from the host's cgroup tree): every
 * component is checked against its exact form, nothing else is guessed. */
#ifndef TV_CGROUP_PATH_H
#define TV_CGROUP_PATH_H

#include <stdbool.h>
#include <stddef.h>

struct tv_cgroup_info {
	char runtime[16];      /* "containerd", "cri-o", "docker", or "" (a bare id: cgroupfs) */
	char container_id[65]; /* 64 hex digits, or "" (the pod's own cgroup) */
	char pod_uid[37];      /* 8-4-4-4-12, dashes as the API writes it */
	char qos[12];          /* "guaranteed", "burstable", "besteffort" */
};

/* Parses path[0..len) (not NUL-terminated necessarily). @return true when it
 * is a pod's cgroup or one of its containers', with out filled; false (out
 * zeroed) for anything else. */
bool tv_cgroup_parse(const char *path, size_t len, struct tv_cgroup_info *out);

#endif
