/* SPDX-License-Identifier: Apache-2.0 */
/* http2: HTTP/2 over cleartext (prior knowledge, and the rest of a
 * connection after an `Upgrade: h2c`), with gRPC on top.
 *
 * The rest of an `Upgrade: h2c` connection reaches it by hand-off (it accepts
 * "h2c": the upgraded request is stream 1's). Frames are parsed per direction; header blocks (HEADERS + CONTINUATION,
 * padding and priority stripped) are decoded with nghttp2's HPACK inflater,
 * one per direction, resized when the peer's SETTINGS_HEADER_TABLE_SIZE
 * allows its encoder more. Streams pair a request with its response; the
 * entry is written when the response stream ends, or at RST_STREAM (reported
 * with its error code), or at the connection's end. A request whose
 * content-type is application/grpc is gRPC: service and method from :path,
 * grpc-status and grpc-message from the trailers (or a trailers-only
 * response), and the length-prefixed messages (compressed flag honoured)
 * in base64. A gap loses the frame boundaries and the HPACK state of its
 * direction: open streams are emitted with an error and the rest of that
 * direction is skipped. */
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "archive/common/buf.h"
#include "archive/common/sha256.h" /* tv_base64 */
#include "dissector/proto/http_body.h"
#include "dissector/proto/proto.h"

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define PREFACE_LEN 24
#define FRAME_MAX (16u << 20)
#define MAX_STREAMS 1024

enum {
	F_DATA,
	F_HEADERS,
	F_PRIORITY,
	F_RST,
	F_SETTINGS,
	F_PUSH,
	F_PING,
	F_GOAWAY,
	F_WINDOW,
	F_CONT
};
enum {
	FL_END_STREAM = 0x1,
	FL_END_HEADERS = 0x4,
	FL_PADDED = 0x8,
	FL_PRIORITY = 0x20
};

struct half { /* one direction of one stream */
	json_t *headers, *trailers;
	struct tv_buf body;
	uint64_t ts;
	size_t header_bytes, body_bytes;
	bool started, ended;
};

struct h2stream {
	uint32_t id;
	struct half h[2];
	uint32_t rst_code;
	bool rst;
	bool pushed;         /* the server promised it (PUSH_PROMISE): its request came from the server */
	bool early_response; /* the response ended before the request was seen (captured out of order) */
};

struct h2side {
	struct tv_buf in;
	nghttp2_hd_inflater *hpack;
	struct tv_buf block; /* a header block across CONTINUATION frames */
	uint32_t block_stream;
	uint8_t block_flags;
	bool block_promise; /* the block is a PUSH_PROMISE's: block_stream is the promised stream */
	bool preface_done, broken;
};

struct h2state {
	struct tv_conn *c;
	struct tv_http_run *run;
	struct h2side side[2];
	struct h2stream *streams[MAX_STREAMS];
	size_t n;
	size_t body_cap;
};

/* ---- streams ---- */

static struct h2stream *stream_get(struct h2state *s, uint32_t id, bool create)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->streams[i]->id == id)
			return s->streams[i];
	if (!create || s->n == MAX_STREAMS)
		return NULL;
	struct h2stream *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->id = id;
	for (int d = 0; d < 2; d++)
		tv_buf_init(&st->h[d].body, s->body_cap);
	s->streams[s->n++] = st;
	return st;
}

static const char *header(json_t *headers, const char *name)
{
	return json_string_value(tv_header(headers, name));
}

static bool is_grpc(const struct h2stream *st)
{
	const char *ct = header(st->h[0].headers, "content-type");
	return ct && !strncasecmp(ct, "application/grpc", 16);
}

/* gRPC's length-prefixed messages; a compressed one (flag 1) is decoded per
 * the stream's grpc-encoding when that is gzip or deflate: then `base64` is
 * the message and `size` its decoded length (`compressedSize` as sent). */
static json_t *grpc_messages(struct h2state *s, const struct tv_buf *b, bool truncated, const char *encoding)
{
	json_t *arr = json_array();
	size_t off = 0;
	struct tv_buf plain;
	tv_buf_init(&plain, s->body_cap);
	while (off + 5 <= b->len) {
		uint32_t len = tv_be32(b->data + off + 1);
		bool compressed = b->data[off] & 1;
		size_t have = b->len - off - 5 < len ? b->len - off - 5 : len;
		const uint8_t *msg = b->data + off + 5;
		size_t msg_len = have;
		bool decode_error = false, decoded = compressed && tv_http_decodable(encoding);
		if (decoded) {
			struct tv_buf in = {.data = (uint8_t *)msg, .len = have, .cap = have};
			tv_buf_reset(&plain);
			decode_error = tv_http_decode(s->run, encoding, &in, have < len, &plain) != 0;
			msg = plain.data;
			msg_len = plain.len;
		}
		char *b64 = tv_base64(msg, msg_len);
		json_t *m = json_pack("{s:b, s:I, s:s}", "compressed", compressed, "size",
				      (json_int_t)(decoded ? msg_len : len), "base64", b64 ? b64 : "");
		free(b64);
		if (decoded)
			json_object_set_new(m, "compressedSize", json_integer(len));
		if (decode_error)
			json_object_set_new(m, "decodeError", json_string(encoding));
		if (have < len || (decoded && plain.len == tv_buf_limit(&plain)))
			json_object_set_new(m, "truncated", json_true());
		json_array_append_new(arr, m);
		off += 5 + have;
	}
	tv_buf_cleanup(&plain);
	if (truncated)
		json_array_append_new(arr, json_pack("{s:b}", "truncated", 1));
	return arr;
}

static json_t *body_json(struct h2state *s, const struct half *h)
{
	struct tv_http_body b = {.body = &h->body,
				 .bytes = h->body_bytes,
				 .truncated = h->body_bytes > h->body.len,
				 .mime = header(h->headers, "content-type"),
				 .encoding = header(h->headers, "content-encoding")};
	return tv_http_content(s->run, s->body_cap, &b);
}

static json_t *request_json(struct h2state *s, const struct h2stream *st, bool grpc)
{
	const struct half *h = &st->h[0];
	const char *path = header(h->headers, ":path"), *authority = header(h->headers, ":authority");
	const char *scheme = header(h->headers, ":scheme");
	char url[2048];
	snprintf(url, sizeof(url), "%s://%s%s", scheme ? scheme : "http", authority ? authority : "",
		 path ? path : "");
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:O, s:I, s:I}", "method",
			      header(h->headers, ":method") ? header(h->headers, ":method") : "", "url", url,
			      "path", path ? path : "", "httpVersion", "HTTP/2", "headers",
			      h->headers ? h->headers : json_array(), "headersSize",
			      (json_int_t)h->header_bytes, "bodySize", (json_int_t)h->body_bytes);
	if (st->pushed)
		json_object_set_new(j, "pushPromise", json_true());
	if (grpc && path) {
		const char *slash = strrchr(path, '/');
		char service[512] = "";
		if (slash && slash > path)
			snprintf(service, sizeof(service), "%.*s", (int)(slash - path - 1), path + 1);
		json_object_set_new(j, "service", json_string(service));
		json_object_set_new(j, "grpcMethod", json_string(slash ? slash + 1 : ""));
		json_object_set_new(j, "messages",
				    grpc_messages(s, &h->body, h->body_bytes > h->body.len,
						  header(h->headers, "grpc-encoding")));
	} else if (h->body_bytes) {
		json_object_set_new(j, "postData", body_json(s, h));
	}
	return j;
}

static json_t *response_json(struct h2state *s, const struct h2stream *st, bool grpc)
{
	const struct half *h = &st->h[1];
	const char *status = header(h->headers, ":status");
	json_t *j =
		json_pack("{s:i, s:s, s:s, s:O, s:I, s:I}", "status", status ? atoi(status) : 0, "statusText",
			  "", "httpVersion", "HTTP/2", "headers", h->headers ? h->headers : json_array(),
			  "headersSize", (json_int_t)h->header_bytes, "bodySize", (json_int_t)h->body_bytes);
	if (h->trailers)
		json_object_set(j, "trailers", h->trailers);
	if (grpc) {
		/* trailers, or the headers of a trailers-only response */
		json_t *src = h->trailers ? h->trailers : h->headers;
		const char *gs = header(src, "grpc-status"), *gm = header(src, "grpc-message");
		json_object_set_new(j, "grpcStatus", gs ? json_integer(atoi(gs)) : json_null());
		json_object_set_new(j, "grpcMessage", gm ? json_string(gm) : json_null());
		json_object_set_new(j, "messages",
				    grpc_messages(s, &h->body, h->body_bytes > h->body.len,
						  header(h->headers, "grpc-encoding")));
	} else {
		json_object_set_new(j, "content", body_json(s, h));
	}
	return j;
}

static void stream_free(struct h2stream *st)
{
	for (int d = 0; d < 2; d++) {
		json_decref(st->h[d].headers);
		json_decref(st->h[d].trailers);
		tv_buf_cleanup(&st->h[d].body);
	}
	free(st);
}

static void stream_emit(struct h2state *s, struct h2stream *st, const char *error)
{
	bool grpc = st->h[0].headers && is_grpc(st);
	struct tv_entry e = {.proto = grpc ? "grpc" : "http", .version = "2", .error = error};
	char rst[64];
	if (st->h[0].started) {
		e.request = request_json(s, st, grpc);
		e.request_ts = st->h[0].ts;
		e.request_size = st->h[0].header_bytes + st->h[0].body_bytes;
	}
	if (st->h[1].started) {
		e.response = response_json(s, st, grpc);
		e.response_ts = st->h[1].ts;
		e.response_size = st->h[1].header_bytes + st->h[1].body_bytes;
		json_t *status = json_object_get(e.response, grpc ? "grpcStatus" : "status");
		if (grpc ? json_integer_value(status) != 0 || json_is_null(status)
			 : json_integer_value(status) >= 400)
			e.failed = true;
	}
	if (st->rst && !error) {
		snprintf(rst, sizeof(rst), "stream reset (RST_STREAM error code %u)", st->rst_code);
		e.error = rst;
	} else if (!error && !st->h[1].started)
		e.error = "no response";
	else if (!error && !st->h[0].started)
		e.error = "response without a request";
	tv_conn_emit(s->c, &e);
}

static void stream_done(struct h2state *s, struct h2stream *st, const char *error)
{
	stream_emit(s, st, error);
	for (size_t i = 0; i < s->n; i++) {
		if (s->streams[i] == st) {
			s->streams[i] = s->streams[--s->n];
			break;
		}
	}
	stream_free(st);
}

/* ---- frames ---- */

static int decode_block(struct h2state *s, int dir, const uint8_t *p, size_t n, json_t *out, size_t *bytes)
{
	nghttp2_hd_inflater *inf = s->side[dir].hpack;
	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ssize_t rv = nghttp2_hd_inflate_hd2(inf, &nv, &flags, p, n, 1);
		if (rv < 0)
			return -1;
		p += rv;
		n -= (size_t)rv;
		if (flags & NGHTTP2_HD_INFLATE_EMIT) {
			json_t *name = tv_json_bytes(nv.name, nv.namelen),
			       *value = tv_json_bytes(nv.value, nv.valuelen);
			json_array_append_new(out, json_pack("{s:o, s:o}", "name", name, "value", value));
			*bytes += nv.namelen + nv.valuelen + 4;
		}
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(inf);
			return 0;
		}
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && n == 0)
			return 0;
	}
}

/* A stream is emitted when its response ends, and its request has been
 * seen; a response that ended first waits for the whole request. */
static void check_done(struct h2state *s, struct h2stream *st)
{
	if (!st->h[1].ended)
		return;
	if (!st->h[0].started) {
		st->early_response = true;
		return;
	}
	if (st->early_response && !st->h[0].ended)
		return;
	stream_done(s, st, NULL);
}

static void on_header_block(struct h2state *s, int dir, uint64_t ts)
{
	struct h2side *sd = &s->side[dir];
	json_t *headers = json_array();
	size_t bytes = 0;
	static const uint8_t empty[1];
	if (decode_block(s, dir, sd->block.len ? sd->block.data : empty, sd->block.len, headers, &bytes)) {
		json_decref(headers);
		sd->broken = true; /* HPACK state lost: nothing after this can be decoded */
		return;
	}
	/* a promise's headers are the request of the stream it promises */
	bool promise = sd->block_promise && dir == 1;
	/* a response may come first when segments were captured out of order:
	 * a client stream (odd id) is created by either side's headers */
	struct h2stream *st = stream_get(s, sd->block_stream, dir == 0 || promise || (sd->block_stream & 1));
	if (!st) {
		json_decref(headers);
		return;
	}
	if (promise) {
		st->pushed = true;
		st->h[0].ended = true; /* a promised request has no body */
		dir = 0;
	}
	struct half *h = &st->h[dir];
	if (!h->started) {
		h->started = true;
		h->ts = ts;
		h->headers = headers;
		h->header_bytes = bytes;
	} else if (dir == 1 && header(headers, ":status") && header(h->headers, ":status") &&
		   atoi(header(h->headers, ":status")) < 200) {
		json_decref(h->headers); /* a 1xx was not the final response */
		h->headers = headers;
		h->header_bytes = bytes;
	} else {
		json_decref(h->trailers);
		h->trailers = headers;
		h->header_bytes += bytes;
	}
	if (sd->block_flags & FL_END_STREAM)
		h->ended = true;
	check_done(s, st);
}

static void on_frame(struct h2state *s, int dir, uint8_t type, uint8_t flags, uint32_t id, const uint8_t *p,
		     size_t n, uint64_t ts)
{
	struct h2side *sd = &s->side[dir];
	if (type == F_HEADERS || type == F_PUSH) {
		size_t pad = 0, skip = 0;
		if (flags & FL_PADDED) {
			if (n < 1)
				return;
			pad = p[0];
			skip = 1;
		}
		if (type == F_HEADERS && (flags & FL_PRIORITY))
			skip += 5;
		if (type == F_PUSH)
			skip += 4; /* promised stream id */
		if (skip + pad > n)
			return;
		tv_buf_reset(&sd->block);
		tv_buf_append(&sd->block, p + skip, n - skip - pad);
		sd->block_stream = type == F_PUSH && n >= skip ? tv_be32(p + skip - 4) & 0x7fffffff : id;
		sd->block_flags = type == F_PUSH ? 0 : flags;
		sd->block_promise = type == F_PUSH;
		if (flags & FL_END_HEADERS)
			on_header_block(s, dir, ts);
	} else if (type == F_CONT) {
		tv_buf_append(&sd->block, p, n);
		if (flags & FL_END_HEADERS)
			on_header_block(s, dir, ts);
	} else if (type == F_DATA) {
		struct h2stream *st = stream_get(s, id, false);
		if (!st)
			return;
		size_t pad = 0, skip = 0;
		if (flags & FL_PADDED && n >= 1) {
			pad = p[0];
			skip = 1;
		}
		if (skip + pad > n)
			return;
		struct half *h = &st->h[dir];
		h->body_bytes += n - skip - pad;
		tv_buf_append(&h->body, p + skip, n - skip - pad); /* over the cap: kept truncated */
		if (flags & FL_END_STREAM) {
			h->ended = true;
			check_done(s, st);
		}
	} else if (type == F_RST && n >= 4) {
		struct h2stream *st = stream_get(s, id, false);
		if (st) {
			st->rst = true;
			st->rst_code = tv_be32(p);
			stream_done(s, st, NULL);
		}
	} else if (type == F_SETTINGS && !(flags & 1)) {
		for (size_t i = 0; i + 6 <= n; i += 6)
			if (tv_be16(p + i) == NGHTTP2_SETTINGS_HEADER_TABLE_SIZE)
				/* our peer's encoder may now use this much: resize the other direction's decoder */
				nghttp2_hd_inflate_change_table_size(s->side[!dir].hpack, tv_be32(p + i + 2));
	}
}

static enum tv_parse h2_data(void *state, struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	(void)c;
	struct h2state *s = state;
	struct h2side *sd = &s->side[dir];
	if (sd->broken)
		return TV_PARSE_ERROR;
	if (tv_buf_append(&sd->in, p, n)) {
		sd->broken = true;
		return TV_PARSE_ERROR;
	}
	size_t off = 0;
	if (dir == 0 && !sd->preface_done) {
		if (sd->in.len < PREFACE_LEN)
			return TV_PARSE_NEED_MORE;
		if (memcmp(sd->in.data, PREFACE, PREFACE_LEN) != 0) {
			sd->broken = true;
			return TV_PARSE_ERROR;
		}
		off = PREFACE_LEN;
		sd->preface_done = true;
	}
	while (sd->in.len - off >= 9 && !sd->broken) {
		const uint8_t *f = sd->in.data + off;
		uint32_t len = (uint32_t)f[0] << 16 | (uint32_t)f[1] << 8 | f[2];
		if (len > FRAME_MAX) {
			sd->broken = true;
			break;
		}
		if (sd->in.len - off < 9 + (size_t)len)
			break;
		on_frame(s, dir, f[3], f[4], tv_be32(f + 5) & 0x7fffffff, f + 9, len, ts);
		off += 9 + len;
	}
	if (off) {
		memmove(sd->in.data, sd->in.data + off, sd->in.len - off);
		sd->in.len -= off;
	}
	if (sd->broken)
		return TV_PARSE_ERROR;
	return sd->in.len ? TV_PARSE_NEED_MORE : TV_PARSE_OK;
}

static void *h2_open(struct tv_conn *c, void *run)
{
	struct h2state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->c = c;
	s->run = run;
	s->body_cap = tv_conn_body_cap(c);
	for (int d = 0; d < 2; d++) {
		tv_buf_init(&s->side[d].in, FRAME_MAX + 9);
		tv_buf_init(&s->side[d].block, 1u << 20);
		if (nghttp2_hd_inflate_new(&s->side[d].hpack)) {
			s->side[d].broken = true;
			s->side[d].hpack = NULL;
		}
	}
	return s;
}

static void h2_gap(void *state, struct tv_conn *c, int dir, uint64_t missing, uint64_t ts)
{
	(void)c, (void)missing, (void)ts;
	struct h2state *s = state;
	s->side[dir].broken = true;
}

static void h2_close(void *state, struct tv_conn *c, uint64_t ts)
{
	(void)c, (void)ts;
	struct h2state *s = state;
	const char *why = s->side[0].broken || s->side[1].broken ? "frames lost (gap in the capture)" : NULL;
	while (s->n) {
		/* a whole response without its request says so (stream_emit) */
		bool answered = s->streams[0]->h[1].ended && !why;
		stream_done(s, s->streams[0],
			    answered ? NULL
			    : why    ? why
				     : "connection ended before the response did");
	}
	for (int d = 0; d < 2; d++) {
		tv_buf_cleanup(&s->side[d].in);
		tv_buf_cleanup(&s->side[d].block);
		if (s->side[d].hpack)
			nghttp2_hd_inflate_del(s->side[d].hpack);
	}
	free(s);
}

/* The client's 24-byte preface (prior knowledge); an upgraded connection
 * comes by hand-off instead. */
static enum tv_probe h2_probe(unsigned l4, int dir, const uint8_t *p, size_t n)
{
	(void)l4;
	if (dir != 0 || memcmp(p, PREFACE, n < PREFACE_LEN ? n : PREFACE_LEN) != 0)
		return TV_PROBE_NO;
	return n >= PREFACE_LEN ? TV_PROBE_YES : TV_PROBE_NEED_MORE;
}

/* After `Upgrade: h2c` + 101: the upgraded request is stream 1's request. */
static void *h2_accept(struct tv_conn *c, void *run, struct tv_handoff *h)
{
	struct h2state *s = h2_open(c, run);
	if (!s) {
		json_decref(h->request);
		return NULL;
	}
	s->side[0].preface_done = false; /* the client still sends the preface */
	struct h2stream *st = stream_get(s, 1, true);
	if (st) {
		st->h[0].started = st->h[0].ended = true;
		st->h[0].ts = h->request_ts;
		st->h[0].headers = h->request;
	} else {
		json_decref(h->request);
	}
	h->request = NULL;
	return s;
}

const struct tv_proto tv_proto_http2 = {
	.name = "http2",
	.l4 = TV_L4_TCP,
	.probe = h2_probe,
	.run_open = tv_http_run_open,
	.run_close = tv_http_run_close,
	.open = h2_open,
	.data = h2_data,
	.gap = h2_gap,
	.close = h2_close,
	.accepts = "h2c",
	.accept = h2_accept,
};
