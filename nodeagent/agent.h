/* SPDX-License-Identifier: Apache-2.0 */
/* agent: the capture pipeline of tapvault-agent.
 *
 *   capture thread: drains the kernel rings into 1 MiB chunks of EPBs
 *       │ bounded queue (backpressure: the kernel ring absorbs bursts)
 *   writer thread: compresses chunks into the open segment, seals on time or
 *       size, keeps the buffer under its cap
 *   metrics thread: Prometheus text over HTTP
 *   main thread: signals (TERM/INT: seal and exit; HUP: reload config)
 *
 * The capture thread never touches the disk, so a slow disk cannot stall the
 * ring; a chunk is handed over at least once a second, so a crash loses at
 * most about a second of traffic. */
#ifndef TV_AGENT_H
#define TV_AGENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "nodeagent/config.h"

struct tv_tap;

#define TV_AGENT_MAX_IFACES 256 /* TV_CAPTURE_MAX_IFACES */

/* Counters shared by the threads and rendered by the metrics endpoint. */
struct tv_agent_metrics {
	_Atomic uint64_t packets[TV_AGENT_MAX_IFACES];
	_Atomic uint64_t bytes[TV_AGENT_MAX_IFACES];
	_Atomic uint64_t kernel_drops[TV_AGENT_MAX_IFACES];
	_Atomic uint64_t iface_drops[TV_AGENT_MAX_IFACES];
	_Atomic uint64_t iface_up[TV_AGENT_MAX_IFACES];       /* 1 open, 0 lost and being reopened */
	_Atomic uint64_t iface_lost[TV_AGENT_MAX_IFACES];     /* times it failed */
	_Atomic uint64_t iface_reopened[TV_AGENT_MAX_IFACES]; /* times it came back */
	_Atomic uint64_t queue_depth[TV_AGENT_MAX_STREAMS];   /* per stream */
	_Atomic uint64_t seals_pending; /* segments written, being flushed and moved into place */
	_Atomic uint64_t raw_bytes, compressed_bytes;
	_Atomic uint64_t write_errors, packets_lost_to_errors;
	_Atomic uint64_t paused;
	_Atomic int64_t zstd_level;         /* current; lower than configured under backlog, 0 store-only */
	_Atomic uint64_t store_only_spells; /* times the writer fell back to store-only frames */
	/* which interface each index is: changed by the capture thread (with
	 * `auto`, as pods come and go), under the lock for the renderer */
	pthread_mutex_t iface_lock;
	char iface_names[TV_AGENT_MAX_IFACES][64];
	uint32_t niface;
	struct tv_tap *tap; /* the capture scope's metrics (NULL: none) */
};

struct tv_agent_run_opts {
	const char *config_path; /* re-read on SIGHUP; NULL: none */
	const char *read_file;   /* replay instead of live capture; exits at its end */
	int (*reload)(struct tv_agent_config *into, void *ctx); /* builds the config anew on SIGHUP */
	void *reload_ctx;
};

/* Runs until SIGTERM/SIGINT (or the end of a replayed file), then seals the
 * open segment. @return 0, or negative errno with the message set. */
int tv_agent_run(struct tv_agent_config *cfg, const struct tv_agent_run_opts *opts);

#endif
