/* SPDX-License-Identifier: Apache-2.0 */
/* snapshot_list: what a listing of snapshots shows without downloading any
 * tar. Beside each PREFIX/v1/snapshots/NAME.tar the creator keeps
 * NAME.meta.json (docs/FORMAT.md §6): written as "creating" before the tar
 * is built and replaced by "complete" (window, nodes, counts, creation time)
 * once the tar is stored. One listing plus one small GET per snapshot gives
 * the columns name, size, window start and end, status, created at and
 * nodes; retention and legal hold come from the store (Object Lock). */
#ifndef TV_SNAPSHOT_LIST_H
#define TV_SNAPSHOT_LIST_H

#include <jansson.h>
#include <stdint.h>

#include "archive/store/store.h"

#define TV_SNAPSHOT_META_SUFFIX ".meta.json"

/* What tv_snapshot_meta_put records. */
struct tv_snapshot_meta {
	const char *name;
	const char *status; /* "creating" or "complete" */
	uint64_t from, to, created_ns;
	json_t *nodes; /* array of node names (borrowed; NULL: not known yet) */
	uint64_t segments, frames, bytes;
};

/* Writes (replaces) NAME.meta.json. @return 0 or the store's error. */
int tv_snapshot_meta_put(struct tv_store *s, const char *prefix, const struct tv_snapshot_meta *m);
/* Removes NAME.meta.json (absent: 0). */
int tv_snapshot_meta_delete(struct tv_store *s, const char *prefix, const char *name);

/* Every snapshot, by name: a JSON array of
 *   {"name", "bytes", "from", "to", "status", "created", "nodes": [...],
 *    "segments", "retention": {"mode", "until"} | null, "legal_hold"}
 * status: "complete"; "creating" (metadata, no tar yet: being built, or its
 * creator died); "unlisted" (a tar without metadata: from, to, created and
 * nodes null; `snapshot get` reads its manifest). Times are RFC 3339.
 * @return 0 with *out (the caller's), or the store's error. */
int tv_snapshot_list(struct tv_store *s, const char *prefix, json_t **out);

/* One snapshot's row of the listing, or -ENOENT. */
int tv_snapshot_stat(struct tv_store *s, const char *prefix, const char *name, json_t **out);

/* Deletes a snapshot (tar and metadata) unless Object Lock protects it.
 * @return 0, -ENOENT (no such snapshot), -EPERM (protected; why says so in
 * the message), or the store's error. */
int tv_snapshot_delete(struct tv_store *s, const char *prefix, const char *name);

#endif
