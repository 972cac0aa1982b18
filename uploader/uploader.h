/* SPDX-License-Identifier: Apache-2.0 */
/* uploader: ships the sealed segments of a buffer directory to a store.
 *
 * A segment is sealed when its index is under its key (the agent and
 * `tapvault import` move the index last). For each sealed segment without an
 * `.uploaded/STEM` marker, oldest first and `parallel` at a time, the data,
 * events and then the index are put under the same keys; the marker is
 * written only after the store acknowledged all of them (with the checksums
 * the store verifies). Deterministic keys make a re-send after a crash
 * idempotent. Network errors, 5xx and throttling are retried forever with
 * capped exponential backoff and jitter; refusals that retrying cannot fix
 * (credentials, missing bucket, clock skew) are logged at most once a minute
 * and retried slowly, so fixing the cause heals the uploader. */
#ifndef TV_UPLOADER_H
#define TV_UPLOADER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "archive/store/store.h"
#include "uploader/checkpointer.h"

struct tv_uploader_opts {
	const char *buffer_dir;
	const char *store_url;
	unsigned parallel;                      /* segments in flight (default 4) */
	bool once;                              /* upload what is sealed now, then return */
	uint64_t rescan_ns;                     /* full rescan period besides inotify (default 5 s) */
	uint64_t give_up_ns;                    /* --once: stop retrying after this long (0: never) */
	uint64_t config_retry_ns;               /* wait after a refusal retrying cannot fix (default 30 s) */
	const char *metrics_addr;               /* HOST:PORT or NULL */
	const struct tv_store_opts *store_opts; /* for the store (S3 options); NULL: defaults */
	const char *signing_key;         /* the node key for checkpoints (NULL: BUFFER/.keys/node.key) */
	uint64_t checkpoint_interval_ns; /* signed checkpoints at least this often (0: none) */
	struct tv_lock_opts lock;        /* Object Lock on checkpoints and keys */
};

struct tv_uploader_result {
	uint64_t uploaded, uploaded_bytes, gone, retries, failed;
};

/* Runs until *stop (or, with once, until every sealed segment is uploaded or
 * given up). @return 0; with once, -EAGAIN when some segment is not uploaded;
 * or a setup error (message set). */
int tv_uploader_run(const struct tv_uploader_opts *o, atomic_bool *stop, struct tv_uploader_result *res);

#endif
