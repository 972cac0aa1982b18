/* SPDX-License-Identifier: Apache-2.0 */
/* publish: putting a sealed segment into a store, and finding where a node's
 * hash chain ends, so a new segment can link to it. */
#ifndef TV_PUBLISH_H
#define TV_PUBLISH_H

#include <stdbool.h>

#include "archive/index.h"
#include "archive/store/store.h"

/* Puts the data file, then the events file, then the encoded index (last, so a
 * segment is visible only when whole) under the keys of idx. index_sha (may be
 * NULL) receives the SHA-256 of the index object, the next segment's prev_sha.
 * @return 0 or negative errno (message set). */
int tv_segment_publish(struct tv_store *s, const char *prefix, const struct tv_index *idx,
		       const char *data_path, const char *events_path, uint8_t index_sha[TV_SHA256_LEN]);

/* The newest sealed segment of a node: its sequence number and the SHA-256 of
 * its index object. *found is false when the node has none.
 * @return 0 or negative errno. */
int tv_segment_chain_tail(struct tv_store *s, const char *prefix, const char *node, bool *found,
			  uint64_t *seq, uint64_t *start_ns, uint8_t sha[TV_SHA256_LEN]);

#endif
