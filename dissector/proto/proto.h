/* SPDX-License-Identifier: Apache-2.0 */
/* proto: the interface between the dissection engine and its protocol
 * parsers, as Suricata registers app-layer parsers and Wireshark hands off by
 * table. A protocol is one file that fills a struct tv_proto and one line in
 * protos.def (the probe order, each line with the reason for its place); the
 * engine builds its table from protos.def and never names a protocol.
 *
 * What a parser sees of a connection: bytes per direction (0: client to
 * server, 1: server to client) in stream order, gaps where the capture lost
 * bytes, and the connection's end. It answers with entries (struct tv_entry,
 * one per request/response pair) through tv_conn_emit. Over UDP each data
 * call is one datagram.
 *
 * This header is the whole of what a parser may use of the engine; the
 * engine (dissector/dissect/) implements the tv_conn_* services declared
 * here. */
#ifndef TV_PROTO_H
#define TV_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/common/parse.h"

struct tv_conn; /* the engine's connection; opaque to parsers */

/* L4 a protocol runs over (a bit set). */
enum {
	TV_L4_TCP = 1,
	TV_L4_UDP = 2,
};

/* What a probe answers about the first bytes one side sent. */
enum tv_probe {
	TV_PROBE_NO,        /* not this protocol, whatever follows */
	TV_PROBE_YES,       /* this protocol */
	TV_PROBE_NEED_MORE, /* could be: show me more bytes */
};

/* A connection handed from one protocol to another mid-stream (HTTP/1's
 * `Upgrade: h2c` + 101; later WebSocket). What the new protocol needs of the
 * old one's last exchange. */
struct tv_handoff {
	const char *token; /* "h2c", "websocket" */
	json_t *request;   /* the upgraded request's headers, [{name, value}]; ownership passes */
	uint64_t request_ts;
};

struct tv_proto {
	const char *name;      /* unique; also the fuzz target's and unit test's name */
	unsigned l4;           /* TV_L4_TCP | TV_L4_UDP */
	const uint16_t *ports; /* server ports to probe first, 0-terminated; may be NULL */
	/* Pure: the first bytes side dir sent (over UDP: the first datagram)
	 * and l4 (TV_L4_TCP or TV_L4_UDP). May be NULL for a protocol that is
	 * only reached by hand-off. */
	enum tv_probe (*probe)(unsigned l4, int dir, const uint8_t *p, size_t n);
	/* Per-run resources shared by all of this protocol's connections (a
	 * decompressor, parser settings); both optional. */
	void *(*run_open)(void);
	void (*run_close)(void *run);
	/* A connection's state, or NULL (out of memory: the connection is then
	 * not parsed). */
	void *(*open)(struct tv_conn *c, void *run);
	/* OK: consumed; NEED_MORE: waiting for the rest of a message (kept);
	 * ERROR: this direction cannot be parsed any more (the engine stops
	 * delivering it and counts the error). */
	enum tv_parse (*data)(void *st, struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts);
	/* missing bytes lost from direction dir; optional */
	void (*gap)(void *st, struct tv_conn *c, int dir, uint64_t missing, uint64_t ts);
	/* The connection ends: emit what is pending, then free st. */
	void (*close)(void *st, struct tv_conn *c, uint64_t ts);
	/* The hand-off token this protocol takes over a connection with, and
	 * the state for it; both NULL when it takes none. */
	const char *accepts;
	void *(*accept)(struct tv_conn *c, void *run, struct tv_handoff *h);
};

/* One request/response pair as a parser reports it. */
struct tv_entry {
	const char *proto, *version;
	json_t *request, *response; /* owned by the entry; NULL when missing */
	uint64_t request_ts, response_ts;
	uint64_t request_size, response_size;
	const char *error; /* NULL: none; non-NULL sets failed */
	bool failed;
};

/* ---- engine services ---- */

/* Writes one entry for connection c and releases its JSON objects. */
void tv_conn_emit(struct tv_conn *c, struct tv_entry *e);
/* Bytes of a body kept (after decoding), the run's --body-cap. */
size_t tv_conn_body_cap(const struct tv_conn *c);
/* Whether c is a UDP flow. */
bool tv_conn_udp(const struct tv_conn *c);
/* Hands c to the protocol that accepts h->token (the caller's state must
 * already be freed: the caller's close will not be called). @return 0, or
 * -ENOENT when no protocol accepts the token (h->request is then freed and
 * the rest of the connection is not parsed). */
int tv_conn_handoff(struct tv_conn *c, struct tv_handoff *h);
/* Delivers bytes to c's current protocol, as if they had just arrived (what
 * a protocol held back before a hand-off). */
void tv_conn_deliver(struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts);

/* ---- helpers for building entries ---- */

/* The value (a JSON string) of the first header named name (any case) in a
 * [{name, value}] array, or NULL. */
json_t *tv_header(json_t *headers, const char *name);
/* A jansson string of p[0..n) when it is UTF-8, else NULL. */
json_t *tv_json_utf8(const uint8_t *p, size_t n);
/* Bytes as a JSON string when they are UTF-8, else {"base64": "..."}. */
json_t *tv_json_bytes(const uint8_t *p, size_t n);
/* Sets HAR's content.text to the body: as text when as_text and it is UTF-8,
 * else base64 with encoding "base64". Nothing for an empty body. */
void tv_content_set_text(json_t *content, const uint8_t *p, size_t n, bool as_text);

/* The registration table (protos.def), in probe order. */
extern const struct tv_proto *const tv_protos[];
extern const size_t tv_nprotos;
/* The protocol of that name, or NULL. */
const struct tv_proto *tv_proto_find(const char *name);

#endif
