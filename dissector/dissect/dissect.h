/* SPDX-License-Identifier: Apache-2.0 */
/* dissect: packets in, API entries out (one JSON object per request/response
 * pair, docs/API.md).
 *
 * The engine decodes each packet to TCP/UDP (archive/decode.h), keeps a
 * table of connections, reassembles each TCP direction (tcp_reasm.h),
 * detects the protocol from the first bytes, not the port, with the probes
 * of the registration table (proto/protos.def; UDP flows are probed like TCP
 * ones), and hands the byte streams to that protocol's parser (proto/proto.h),
 * which pairs requests with responses and emits entries. Entries are built
 * (entry.h) and written as JSON Lines or one HAR document (har.h) by the
 * entry writer. Memory is bounded: waiting TCP bytes by a per-stream and a
 * total cap, bodies by a cap, idle connections expire. */
#ifndef TV_DISSECT_H
#define TV_DISSECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "archive/names.h"
#include "dissector/dissect/tcp_reasm.h"
#include "dissector/proto/proto.h"

struct tv_dissect_opts {
	size_t stream_cap;  /* waiting out-of-order bytes per TCP direction (default 4 MiB) */
	size_t total_cap;   /* all waiting bytes (default 256 MiB) */
	size_t body_cap;    /* bytes of a body kept, after decoding (default 1 MiB) */
	uint64_t idle_ns;   /* a connection idle this long (packet time) is closed (default 120 s) */
	FILE *out;          /* JSON Lines, or one HAR document */
	bool har;           /* HAR 1.2: HTTP entries only */
	bool writer_thread; /* serialize and write entries on a second thread */
	const struct tv_names *names; /* src/dst name and namespace (names.h); may be NULL */
};

struct tv_dissect_stats {
	uint64_t packets, tcp, udp, other;
	uint64_t connections, entries, gaps, gap_bytes, conflicts, truncated_streams;
	uint64_t parse_errors; /* directions a parser gave up on (malformed, or past its caps) */
	uint64_t not_in_har;   /* entries of other protocols left out of a HAR */
	bool write_failed;     /* an entry could not be serialized or written */
};

struct tv_dissect;

/* @return 0, or -1 (out of memory, or the writer thread could not start). */
int tv_dissect_open(struct tv_dissect **out, const struct tv_dissect_opts *o);
/* One packet; node and linktype say where it was captured. */
void tv_dissect_packet(struct tv_dissect *d, const char *node, uint16_t linktype, uint64_t ts,
		       const uint8_t *pkt, uint32_t caplen);
/* Ends every connection (pending requests are emitted as failed). */
void tv_dissect_finish(struct tv_dissect *d);
void tv_dissect_stats(const struct tv_dissect *d, struct tv_dissect_stats *st);
void tv_dissect_free(struct tv_dissect *d);

/* ---- for tests and fuzzing: a connection fed with stream bytes directly ----
 * No packets, no reassembly, no detection: proto parses what each direction
 * "delivered" (for UDP, each call is one datagram). The connection belongs to
 * d (10.0.0.1 -> 10.0.0.2:80, a new client port each) and ends with it. */
struct tv_conn *tv_dissect_stream_open(struct tv_dissect *d, const struct tv_proto *proto, bool udp);
void tv_dissect_stream_data(struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts);
void tv_dissect_stream_gap(struct tv_conn *c, int dir, uint64_t missing, uint64_t ts);

#endif
