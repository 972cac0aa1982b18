/* SPDX-License-Identifier: Apache-2.0 */
/* flows: the conversations of a window from the segments' flow tables
 * alone (index.h), never a packet: one row per node and conversation, its
 * rows of consecutive segments merged (first and last packet, packets,
 * bytes). Names come from the window's events (names.h) at the row's first
 * packet. Rows are what `tapvault mcp`'s list_flows/top_talkers and the
 * dashboard's Flows page page through. */
#ifndef TV_FLOWS_H
#define TV_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/flow.h"
#include "archive/index.h"
#include "dissector/query/window.h"

struct tv_flow_row {
	char node[TV_NODE_MAX + 1];
	struct tv_flow_key key; /* as first seen (its src is the side that sent first) */
	uint64_t first_ns, last_ns, packets, bytes;
	/* of those, sent by key's dst; TCP SYNs without ACK; RSTs (index version 3) */
	uint64_t packets_rev, bytes_rev;
	uint32_t syn, rst;
	bool directions;   /* every segment's index had them (version 3) */
	uint32_t segments; /* the segments it has packets in */
};

struct tv_flow_rows {
	struct tv_flow_row *v;
	size_t n, cap;
	uint64_t other_packets, other_bytes; /* not TCP/UDP, or past an index's flow cap */
};

/* Every conversation of the window w's segments with packets in [from, to)
 * (a row's counts are its segments' whole counts: an index does not split a
 * flow by time). @return 0 or -ENOMEM. Free with tv_flow_rows_cleanup. */
int tv_flows_collect(struct tv_window *w, uint64_t from, uint64_t to, struct tv_flow_rows *out);
void tv_flow_rows_cleanup(struct tv_flow_rows *r);

/* Formats an address of k (side 0: src, 1: dst) as text. */
void tv_flow_addr_format(const struct tv_flow_key *k, int side, char *out, size_t n);

#endif
