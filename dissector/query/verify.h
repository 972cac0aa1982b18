/* SPDX-License-Identifier: Apache-2.0 */
/* verify: recomputes the SHA-256 of every data and events object and
 * compares it (and the size) with the segment's index, checks each index's
 * own checksum, and walks each node's hash chain: a missing segment, an
 * altered or replaced one, a truncated object, and a data object without its
 * index are each reported as a problem. A snapshot is checked member by
 * member against its manifest.json (SHA-256, size, nothing missing or
 * extra), and its re-packed segments as above. Never prints: problems go to
 * the callback, progress to the report. */
#ifndef TV_VERIFY_H
#define TV_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "archive/store/store.h"
#include "dissector/query/report.h"

struct tv_verify_opts {
	const char *prefix;
	uint64_t from, to;        /* segments with packets in [from, to); 0, UINT64_MAX: all */
	const char *const *nodes; /* NULL: every node */
	size_t nnodes;
	const char *snapshot;                         /* a snapshot's name instead of the nodes' segments */
	const struct tv_report *report;               /* progress: segments, bytes */
	void (*problem)(void *ctx, const char *what); /* each problem found, in order */
	void *ctx;
};

struct tv_verify_result {
	uint64_t segments, objects, problems, bytes;
	char fatal_msg[512]; /* why the check could not finish */
};

/* @return 0 when everything could be checked (r->problems says whether it is
 * intact), or a negative errno when the store could not be read (message set). */
int tv_verify(struct tv_store *s, const struct tv_verify_opts *o, struct tv_verify_result *r);

#endif
