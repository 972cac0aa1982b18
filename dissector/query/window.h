/* SPDX-License-Identifier: Apache-2.0 */
/* window: finds the segments of a time window across nodes, through their
 * indexes (listing only the hour prefixes that can hold them), and merges
 * their packets in timestamp order with duplicates removed.
 *
 * Merge: one stream per segment, each read through the index-driven reader
 * (only overlapping frames are fetched); a binary heap picks the earliest
 * head, as mergecap does (streams are assumed time-ordered, as captures are).
 *
 * Dedup rule (docs/CLI.md): a packet is dropped as a duplicate when an
 * earlier-emitted packet had exactly the same bytes from the network-layer
 * header on (link-layer headers differ between interfaces and are ignored),
 * the same original length, and a timestamp at most `dedup_window_ns` before
 * it. Same packet seen on a veth and a bridge, or on two nodes: one copy.
 * Routed copies differ (TTL) and retransmissions come later than the
 * window, so distinct packets are not merged. */
#ifndef TV_WINDOW_H
#define TV_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "archive/index.h"
#include "archive/segment.h"
#include "archive/store/store.h"
#include "dissector/query/report.h"

struct tv_window_opts {
	const char *prefix;
	const char *const *nodes; /* NULL: every node in the store */
	size_t nnodes;
	uint64_t from, to;              /* from <= ts < to */
	uint64_t dedup_window_ns;       /* 0: no dedup */
	const struct tv_report *report; /* damaged indexes and frames skipped; may be NULL */
};

/* One output interface: a (node, interface) pair. */
struct tv_window_iface {
	char node[TV_NODE_MAX + 1];
	struct tv_iface iface;
};

struct tv_window;

/* Finds the segments. An index that cannot be read is counted as damaged,
 * reported through o->report and skipped. Never prints. */
int tv_window_open(struct tv_window **out, struct tv_store *s, const struct tv_window_opts *o);
void tv_window_free(struct tv_window *w);

/* The output interfaces, in a stable order (node, then interface). */
const struct tv_window_iface *tv_window_ifaces(const struct tv_window *w, uint32_t *n);
uint32_t tv_window_segments(const struct tv_window *w);
/* Segment i (0 <= i < tv_window_segments): its data object's key and index. */
const char *tv_window_segment(const struct tv_window *w, uint32_t i, const struct tv_index **idx);

/* @return 1 with *p (p->ifindex is an output interface), 0 at the end, or a
 * negative error for a damaged frame/object (named in tv_errmsg and reported;
 * skipped: call again to continue). */
int tv_window_next(struct tv_window *w, struct tv_packet *p);

/* Adds the Kubernetes names of every segment's events file, those without
 * packets in the window included (a pod deleted while quiet), to names; a damaged events file is reported and skipped (its
 * packets are still there). @return the number skipped. */
struct tv_names;
uint64_t tv_window_load_names(struct tv_window *w, struct tv_names *names);

/* Streams started so far and in all (for progress). */
void tv_window_progress(const struct tv_window *w, uint64_t *done, uint64_t *total);

struct tv_window_stats {
	uint64_t packets, duplicates, damaged;
	uint64_t bytes_fetched;
};
void tv_window_stats(const struct tv_window *w, struct tv_window_stats *st);

#endif
