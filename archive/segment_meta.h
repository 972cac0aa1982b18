/* SPDX-License-Identifier: Apache-2.0 */
/* segment_meta: internal helpers shared by the writer, the scanner and salvage.
 * Not part of the public API. */
#ifndef TV_SEGMENT_META_H
#define TV_SEGMENT_META_H

#include "archive/segment.h"

/* Formats the SHB comment: "tapvault-segment v1 node=N seq=N created_ns=N
 * prev_index_sha256=HEX". */
void tv_seg_meta_format(const struct tv_seg_meta *m, char *out, size_t n);
/* Parses it back. @return 0 or TV_ECORRUPT. */
int tv_seg_meta_parse(const char *comment, struct tv_seg_meta *m);
/* node, seq, prev_sha, start_ns and end_ns from meta and the packets' span. */
void tv_seg_index_seal_fields(struct tv_index *idx, const struct tv_seg_meta *meta, uint64_t end_ns);
/* Size and SHA-256 of the events file into idx; no-op for NULL. */
int tv_seg_events_digest(const char *events_path, struct tv_index *idx);

#endif
