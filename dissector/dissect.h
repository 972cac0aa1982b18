/* SPDX-License-Identifier: Apache-2.0 */
/* dissect: packets in, API entries out (one JSON object per request/response
 * pair, docs/API.md).
 *
 * The engine decodes each packet to TCP/UDP (l4.c), keeps a table of
 * connections, reassembles each TCP direction (tcp_reasm.c), detects the
 * protocol from the first bytes, not the port, and hands the byte streams to
 * that protocol's parser (proto_*.c), which pairs requests with responses and
 * calls tv_dissect_emit(). Memory is bounded: waiting TCP bytes by a
 * per-stream and a total cap, bodies by a cap, idle connections expire. */
#ifndef TV_DISSECT_H
#define TV_DISSECT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "archive/common/sha256.h" /* tv_base64 */
#include "dissector/l4.h"
#include "dissector/tcp_reasm.h"

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
	uint64_t not_in_har; /* entries of other protocols left out of a HAR */
	bool write_failed;   /* an entry could not be serialized or written */
};

struct tv_dissect;
struct tv_conn;
struct libdeflate_decompressor;

/* Per-protocol parser. dir 0: client to server, 1: server to client. */
struct tv_proto {
	const char *name;
	void *(*open)(struct tv_conn *c);
	void (*data)(void *st, struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts);
	void (*gap)(void *st, struct tv_conn *c, int dir, uint64_t missing, uint64_t ts);
	/* the connection ends: emit what is pending, then free st */
	void (*close)(void *st, struct tv_conn *c, uint64_t ts);
};

int tv_dissect_open(struct tv_dissect **out, const struct tv_dissect_opts *o);
/* One packet; node and linktype say where it was captured. */
void tv_dissect_packet(struct tv_dissect *d, const char *node, uint16_t linktype, uint64_t ts,
		       const uint8_t *pkt, uint32_t caplen);
/* Ends every connection (pending requests are emitted as failed). */
void tv_dissect_finish(struct tv_dissect *d);
void tv_dissect_stats(const struct tv_dissect *d, struct tv_dissect_stats *st);
void tv_dissect_free(struct tv_dissect *d);

/* ---- for the protocol parsers ---- */

struct tv_entry {
	const char *proto, *version;
	json_t *request, *response; /* owned by the entry; NULL when missing */
	uint64_t request_ts, response_ts;
	uint64_t request_size, response_size;
	const char *error; /* NULL: none; non-NULL sets failed */
	bool failed;
};

/* Writes one entry for connection c and releases its JSON objects. */
void tv_dissect_emit(struct tv_conn *c, struct tv_entry *e);
size_t tv_dissect_body_cap(const struct tv_conn *c);
/* A libdeflate decompressor for whole bodies, or NULL (out of memory). */
struct libdeflate_decompressor *tv_dissect_decompressor(struct tv_conn *c);
/* Switches a connection to another protocol (HTTP/1 Upgrade). */
void tv_dissect_switch(struct tv_conn *c, const struct tv_proto *p, void *state);

extern const struct tv_proto tv_proto_http1, tv_proto_http2, tv_proto_redis, tv_proto_dns_tcp,
	tv_proto_dns_udp;

/* Content detection: a score > 0 when bytes (the first a direction sent)
 * look like the protocol from that side (dir as above). */
bool tv_http1_detect(int dir, const uint8_t *p, size_t n);
bool tv_http2_detect(int dir, const uint8_t *p, size_t n);
/* HTTP/2 state for a connection that just upgraded from HTTP/1 (h2c): the
 * upgraded request (headers, owned) is stream 1's request. */
void *tv_http2_upgraded(struct tv_conn *c, json_t *request_headers, uint64_t ts);
bool tv_redis_detect(int dir, const uint8_t *p, size_t n);
bool tv_dns_tcp_detect(int dir, const uint8_t *p, size_t n);

/* The value (a JSON string) of the first header named name (any case) in a
 * [{name, value}] array, or NULL. */
json_t *tv_header(json_t *headers, const char *name);
/* Sets HAR's content.text to the body: as text when as_text and it is UTF-8,
 * else base64 with encoding "base64". Nothing for an empty body. */
void tv_content_set_text(json_t *content, const uint8_t *p, size_t n, bool as_text);
/* Bytes as a JSON string when they are UTF-8, else {"base64": "..."}. */
json_t *tv_json_bytes(const uint8_t *p, size_t n);

/* ---- for tests and fuzzing: a connection fed with stream bytes directly ----
 * No packets, no reassembly, no detection: proto parses what each direction
 * "delivered" (for UDP, each call is one datagram). The connection belongs to
 * d (10.0.0.1 -> 10.0.0.2:80, a new client port each) and ends with it. */
struct tv_conn *tv_dissect_stream_open(struct tv_dissect *d, const struct tv_proto *proto, bool udp);
void tv_dissect_stream_data(struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts);
void tv_dissect_stream_gap(struct tv_conn *c, int dir, uint64_t missing, uint64_t ts);

#endif
