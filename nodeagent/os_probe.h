/* SPDX-License-Identifier: Apache-2.0 */
/* os_probe: the operating-system layer's eBPF side (bpf/os.bpf.c): loads and
 * attaches the programs, and hands each record from their ring buffer to a
 * callback with its time on the wall clock. No libbpf type appears here. */
#ifndef TV_AGENT_OS_PROBE_H
#define TV_AGENT_OS_PROBE_H

#include <stdint.h>

#include "bpf/os.h"

struct tv_os_probe;

/* Called for each record; r is valid during the call only. */
typedef void (*tv_os_probe_fn)(void *ctx, const struct tv_os_record *r, uint64_t realtime_ns);

/* Loads and attaches the programs; the UDP ones on cgroup_root (the host's
 * cgroup2 root; NULL: UDP not followed). @return 0; -ENOTSUP (built without BPF,
 * or the kernel lacks BTF or BTF tracepoints); -EPERM (needs CAP_BPF and
 * CAP_PERFMON, or CAP_SYS_ADMIN on older kernels); message set. */
int tv_os_probe_open(struct tv_os_probe **out, const char *cgroup_root);
/* "" while UDP sockets are followed, else why they are not. */
const char *tv_os_probe_udp(const struct tv_os_probe *p);
void tv_os_probe_free(struct tv_os_probe *p);
/* Waits up to timeout_ms (the programs wake it only for a large backlog) and
 * delivers every record waiting. @return records delivered, or negative errno. */
int tv_os_probe_poll(struct tv_os_probe *p, int timeout_ms, tv_os_probe_fn fn, void *ctx);
/* The programs' counters (enum tv_os_stat), summed over CPUs. */
void tv_os_probe_stats(struct tv_os_probe *p, uint64_t out[TV_OS_STAT_N]);
/* "connect", "accept", ... for a record kind. */
const char *tv_os_kind_name(unsigned kind);

#endif
