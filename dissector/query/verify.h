/* SPDX-License-Identifier: Apache-2.0 */
/* verify: recomputes the SHA-256 of every data and events object and
 * compares it (and the size) with the segment's index, checks each index's
 * own checksum, and walks each node's hash chain: a missing segment, an
 * altered or replaced one, a truncated object, and a data object without its
 * index are each reported as a problem. Then what someone who can write the
 * bucket could do (docs/THREATS.md): every index's signature against the
 * node keys; every index against the key it sits under (a segment replayed
 * under a new name, or moved to another node); a chain that does not start
 * at its genesis, unless the retention horizon explains it; the segments the
 * node's signed checkpoints name, and the checkpoints' own chain; and time
 * that no segment of a live agent covers. A snapshot is checked member by
 * member against its manifest.json (SHA-256, size, nothing missing or
 * extra), and its re-packed segments as above. Never prints: problems go to
 * the callback, progress to the report. */
#ifndef TV_VERIFY_H
#define TV_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/store/store.h"
#include "dissector/query/report.h"

/* What a problem is, from the most to the least severe; each has its exit
 * status in the CLI (docs/CLI.md). */
enum tv_verify_class {
	TV_VERIFY_DAMAGED,   /* an object missing, altered or truncated; the hash chain broken */
	TV_VERIFY_SIGNATURE, /* unsigned where signatures are due, a bad signature, an unknown or revoked key */
	TV_VERIFY_MOVED,     /* an index under another segment's key: replayed or moved between nodes */
	TV_VERIFY_CUT,       /* history cut: a chain without its start, segments a checkpoint names missing,
			      * a checkpoint deleted */
	TV_VERIFY_GAP,       /* time no segment covers, between two segments of a live agent */
	TV_VERIFY_NCLASSES
};
/* "DAMAGED", "SIGNATURE", "MOVED", "CUT", "GAP". */
const char *tv_verify_class_name(enum tv_verify_class c);

struct tv_pubkey;

struct tv_verify_opts {
	const char *prefix;
	uint64_t from, to;        /* segments with packets in [from, to); 0, UINT64_MAX: all */
	const char *const *nodes; /* NULL: every node */
	size_t nnodes;
	const char *snapshot; /* a snapshot's name instead of the nodes' segments */
	/* Keys to trust (pinned by the investigator); NULL: those the store
	 * publishes under PREFIX/v1/keys/ (whoever can write the bucket can
	 * add one, so pinning is what proves authorship). */
	const struct tv_pubkey *keys;
	size_t nkeys;
	bool require_signatures;        /* unsigned segments are problems even for nodes without keys */
	uint64_t retention_ns;          /* the lifecycle horizon; 0: PREFIX/v1/settings.json's, if any */
	uint64_t now_ns;                /* for the horizon (0: the clock) */
	const struct tv_report *report; /* progress: segments, bytes */
	void (*problem)(void *ctx, enum tv_verify_class c, const char *what); /* each, in order */
	void (*note)(void *ctx, const char *what); /* facts that are no problem (a key rotation) */
	void *ctx;
};

struct tv_verify_result {
	uint64_t segments, objects, problems, bytes;
	uint64_t by_class[TV_VERIFY_NCLASSES];
	uint64_t signed_segments, unsigned_segments, checkpoints, rotations;
	bool keys_pinned;
	char fatal_msg[512]; /* why the check could not finish */
};

/* @return 0 when everything could be checked (r->problems says whether it is
 * intact), or a negative errno when the store could not be read (message set). */
int tv_verify(struct tv_store *s, const struct tv_verify_opts *o, struct tv_verify_result *r);

#endif
