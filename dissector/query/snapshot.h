/* SPDX-License-Identifier: Apache-2.0 */
/* snapshot: immutable archives of a time window.
 *
 * A snapshot is one tar (libarchive, pax) at PREFIX/v1/snapshots/NAME.tar:
 * for every segment with packets in the window, the frames that overlap it
 * (plus frame 0) re-packed as a valid segment with a fresh index, and the
 * segment's events file, all under their original keys; then manifest.json
 * (name, window, nodes, tool version, creation time, each member's SHA-256
 * and size, and the hash-chain links it covers: each source segment's seq,
 * index SHA-256 and previous index SHA-256). It is created with
 * create-if-absent, so a snapshot is never overwritten, and it stays whole
 * when the store later recycles its source segments. Extracted into a
 * directory, a snapshot is itself a file:// store. */
#ifndef TV_SNAPSHOT_H
#define TV_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "archive/store/store.h"

/* Where a snapshot keeps each source segment's own signed index
 * (evidence/KEY); beside them, the nodes' v1/keys/ and the checkpoints of
 * the window, under their keys, so `verify --snapshot` proves offline what
 * `verify` proves on the store. */
#define TV_SNAPSHOT_EVIDENCE "evidence/"
#include "dissector/query/report.h"

/* @return 0 when name is 1..200 characters with no '/', no control
 * characters, not "." or "..", not starting with '.'; else -EINVAL (message set). */
int tv_snapshot_name_check(const char *name);

/* The key prefix of all snapshots ("PREFIX/v1/snapshots/"). @return 0 or -ENAMETOOLONG. */
int tv_snapshot_prefix(const char *prefix, char *out, size_t n);
/* The key of a snapshot. */
int tv_snapshot_key(const char *prefix, const char *name, char *out, size_t n);

struct tv_snapshot_opts {
	const char *prefix;
	const char *name;
	const char *const *nodes; /* NULL: all */
	size_t nnodes;
	uint64_t from, to;
	const struct tv_report *report; /* progress: segments copied, bytes; may be NULL */
	/* S3 Object Lock on the snapshot object: retention (NULL: none) and a
	 * legal hold. Asked for on a store without Object Lock, nothing is built. */
	const struct tv_store_retention *retention;
	bool legal_hold;
};

struct tv_snapshot_stats {
	uint64_t segments, frames, bytes;
};

/* @return 0, -EEXIST (a snapshot of that name exists), -ENOENT (no data in
 * the window), or another negative errno (message set). */
int tv_snapshot_create(struct tv_store *s, const struct tv_snapshot_opts *o, struct tv_snapshot_stats *st);

/* Why the snapshot object key may not be deleted now (retention not yet
 * over, or a legal hold), in why; @return 1 (protected), 0 (not), or the
 * store's error. On stores without Object Lock: 0. */
int tv_snapshot_protected(struct tv_store *s, const char *key, uint64_t now_ns, char *why, size_t n);

/* Extracts a snapshot tar (a local file) into dir, refusing any member that
 * is not manifest.json or a segment key. @return 0 or negative errno. */
int tv_snapshot_extract(const char *tar_path, const char *dir);

#endif
