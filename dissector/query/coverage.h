/* SPDX-License-Identifier: Apache-2.0 */
/* coverage: what a store holds, per node: segments, packets, bytes stored,
 * the time ranges covered by unbroken hash chains and the gaps between them
 * (a missing, altered or replaced segment breaks the chain), indexes that
 * could not be read; and the number of snapshots. The answer is a JSON
 * document (docs/CLI.md, `tapvault ls --json`):
 *   {"nodes": [{"node", "segments", "packets", "bytes",
 *               "ranges": [{"from", "to", "first_seq", "last_seq"}],
 *               "gaps": [{"from", "to", "after_seq", "before_seq"}],
 *               "damaged": [{"key", "error"}]}],
 *    "snapshots": N} */
#ifndef TV_COVERAGE_H
#define TV_COVERAGE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/store/store.h"

struct tv_coverage_opts {
	const char *prefix;
	uint64_t from, to;        /* only segments with packets in [from, to); 0, UINT64_MAX: all */
	const char *const *nodes; /* NULL: every node */
	size_t nnodes;
};

/* @return 0 with *out (owned by the caller), or a negative errno (message set). */
int tv_coverage(struct tv_store *s, const struct tv_coverage_opts *o, json_t **out);
/* The number of snapshots under PREFIX/v1/snapshots/. */
int tv_coverage_count_snapshots(struct tv_store *s, const char *prefix, uint64_t *n);

#endif
