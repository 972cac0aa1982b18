/* SPDX-License-Identifier: Apache-2.0 */
/* redis: RESP2 and RESP3. Client commands (arrays of bulk strings, or
 * inline commands) are paired in order with the server's replies
 * (pipelining) through the pairing queue, which also holds replies captured
 * before their commands; RESP3 push messages ('>') are not replies and are
 * skipped. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/buf.h"
#include "dissector/proto/pairq.h"
#include "dissector/proto/proto.h"

#define MAX_DEPTH 16
#define STREAM_CAP (64u << 20) /* bytes of one unfinished command or reply */
#define MAX_PENDING 1024

enum parse_result {
	PARSED,
	INCOMPLETE,
	MALFORMED
};

/* A command (v: its array of arguments) or a reply (v: its value, type its
 * RESP type), waiting in the pairing queue. */
struct redis_msg {
	json_t *v;
	const char *type; /* a static name; NULL for commands */
	uint64_t ts;
	size_t size;
};

struct redis_state {
	struct tv_conn *c;
	struct tv_buf in[2];
	uint64_t first_ts[2]; /* when the value at the buffer's start began */
	struct tv_pairq q;    /* in order */
	bool broken[2];       /* framing lost (gap or malformed): skip this direction */
};

/* A CRLF-terminated line at p: its length without CRLF, or -1 if not yet whole. */
static long line_len(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n')
			return (long)i;
	return -1;
}

static bool parse_int(const uint8_t *p, long len, long long *out)
{
	char buf[32];
	if (len <= 0 || len >= (long)sizeof(buf))
		return false;
	memcpy(buf, p, (size_t)len);
	buf[len] = '\0';
	char *end;
	*out = strtoll(buf, &end, 10);
	return *end == '\0';
}

static enum parse_result parse_value(const uint8_t *p, size_t n, size_t *used, int depth, json_t **out,
				     const char **type);

/* Aggregates: *N, %N (pairs), ~N, >N, |N. */
static enum parse_result parse_aggregate(const uint8_t *p, size_t n, size_t *used, int depth, long long count,
					 size_t off, char kind, json_t **out)
{
	if (count < 0) {
		*out = json_null();
		*used = off;
		return PARSED;
	}
	long long items = kind == '%' || kind == '|' ? count * 2 : count;
	if (items > 1 << 20)
		return MALFORMED;
	json_t *arr = json_array();
	for (long long i = 0; i < items; i++) {
		size_t u;
		json_t *v;
		const char *t;
		enum parse_result r = parse_value(p + off, n - off, &u, depth + 1, &v, &t);
		if (r != PARSED) {
			json_decref(arr);
			return r;
		}
		json_array_append_new(arr, v);
		off += u;
	}
	*out = arr;
	*used = off;
	return PARSED;
}

static enum parse_result parse_value(const uint8_t *p, size_t n, size_t *used, int depth, json_t **out,
				     const char **type)
{
	if (depth > MAX_DEPTH)
		return MALFORMED;
	if (n < 1)
		return INCOMPLETE;
	long len = line_len(p + 1, n - 1);
	if (len < 0)
		return n > 65536 ? MALFORMED : INCOMPLETE;
	const uint8_t *body = p + 1;
	size_t off = (size_t)len + 3;
	long long count;
	static const char *const names[128] = {
		['+'] = "simple", ['-'] = "error",  [':'] = "integer", ['$'] = "bulk",  ['*'] = "array",
		['_'] = "null",   [','] = "double", ['#'] = "boolean", ['!'] = "error", ['='] = "verbatim",
		['('] = "bignum", ['%'] = "map",    ['~'] = "set",     ['>'] = "push",  ['|'] = "attribute"};
	*type = p[0] < 128 && names[p[0]] ? names[p[0]] : NULL;
	switch (p[0]) {
	case '+':
	case '-':
	case '(':
	case ',':
		*out = tv_json_bytes(body, (size_t)len);
		*used = off;
		return PARSED;
	case ':':
		if (!parse_int(body, len, &count))
			return MALFORMED;
		*out = json_integer(count);
		*used = off;
		return PARSED;
	case '_':
		*out = json_null();
		*used = off;
		return PARSED;
	case '#':
		*out = json_boolean(len == 1 && body[0] == 't');
		*used = off;
		return PARSED;
	case '$':
	case '!':
	case '=':
		if (!parse_int(body, len, &count) || count > (long long)STREAM_CAP)
			return MALFORMED;
		if (count < 0) {
			*out = json_null();
			*used = off;
			return PARSED;
		}
		if (n < off + (size_t)count + 2)
			return INCOMPLETE;
		*out = tv_json_bytes(p + off, (size_t)count);
		*used = off + (size_t)count + 2;
		return PARSED;
	case '*':
	case '%':
	case '~':
	case '>':
	case '|':
		if (!parse_int(body, len, &count))
			return MALFORMED;
		return parse_aggregate(p, n, used, depth, count, off, (char)p[0], out);
	default: return MALFORMED;
	}
}

/* An inline command ("PING\r\n"): words split on spaces. */
static json_t *inline_command(const uint8_t *p, long len)
{
	json_t *arr = json_array();
	long i = 0;
	while (i < len) {
		while (i < len && p[i] == ' ')
			i++;
		long start = i;
		while (i < len && p[i] != ' ')
			i++;
		if (i > start)
			json_array_append_new(arr, tv_json_bytes(p + start, (size_t)(i - start)));
	}
	return arr;
}

static void emit(void *ctx, void *req, void *resp, enum tv_pair_why why)
{
	struct redis_state *s = ctx;
	struct redis_msg *cmd = req, *reply = resp;
	struct tv_entry e = {.proto = "redis", .version = "resp"};
	(void)why;
	if (cmd) {
		json_t *args = cmd->v;
		json_t *name = json_array_get(args, 0);
		json_t *r = json_object();
		json_object_set_new(r, "command",
				    name && json_is_string(name) ? json_incref(name) : json_string(""));
		json_array_remove(args, 0);
		json_object_set_new(r, "args", args);
		e.request = r;
		e.request_ts = cmd->ts;
		e.request_size = cmd->size;
	}
	if (reply) {
		e.response = json_pack("{s:s, s:o}", "type", reply->type ? reply->type : "unknown", "value",
				       reply->v);
		e.response_ts = reply->ts;
		e.response_size = reply->size;
		if (reply->type && strcmp(reply->type, "error") == 0)
			e.failed = true;
	}
	if (!cmd)
		e.error = "reply without a command";
	else if (!reply)
		e.error = "no reply";
	tv_conn_emit(s->c, &e);
	free(cmd);
	free(reply);
}

static void queue_msg(struct redis_state *s, bool reply, json_t *v, const char *type, uint64_t ts,
		      size_t size)
{
	struct redis_msg *m = malloc(sizeof(*m));
	if (!m) {
		json_decref(v);
		return;
	}
	*m = (struct redis_msg){v, type, ts, size};
	if (reply)
		tv_pairq_response(&s->q, 0, m);
	else
		tv_pairq_request(&s->q, 0, m);
}

static void on_reply(struct redis_state *s, json_t *v, const char *type, uint64_t ts, size_t size)
{
	if (type && strcmp(type, "push") == 0) {
		json_decref(v); /* out-of-band (pub/sub, invalidation): no command of its own */
		return;
	}
	queue_msg(s, true, v, type, ts, size);
}

/* Parses every whole value at the start of direction dir's buffer. */
static void consume(struct redis_state *s, int dir, uint64_t ts)
{
	struct tv_buf *b = &s->in[dir];
	size_t off = 0;
	while (off < b->len && !s->broken[dir]) {
		const uint8_t *p = b->data + off;
		size_t n = b->len - off, used = 0;
		json_t *v = NULL;
		const char *type = NULL;
		enum parse_result r;
		if (dir == 0 && p[0] != '*') {
			long len = line_len(p, n);
			r = len < 0 ? (n > 65536 ? MALFORMED : INCOMPLETE) : PARSED;
			if (r == PARSED) {
				v = inline_command(p, len);
				used = (size_t)len + 2;
			}
		} else {
			r = parse_value(p, n, &used, 0, &v, &type);
		}
		if (r == INCOMPLETE)
			break;
		if (r == MALFORMED) {
			s->broken[dir] = true;
			break;
		}
		if (dir == 0 && json_is_array(v) && json_array_size(v) > 0)
			queue_msg(s, false, v, NULL, s->first_ts[dir], used);
		else if (dir == 0)
			json_decref(v);
		else
			on_reply(s, v, type, ts, used);
		off += used;
		s->first_ts[dir] = ts;
	}
	if (off) {
		memmove(b->data, b->data + off, b->len - off);
		b->len -= off;
	}
}

static void *redis_open(struct tv_conn *c, void *run)
{
	(void)run;
	struct redis_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->c = c;
	tv_buf_init(&s->in[0], STREAM_CAP);
	tv_buf_init(&s->in[1], STREAM_CAP);
	tv_pairq_init(&s->q, TV_PAIRQ_ORDER, MAX_PENDING, emit, s);
	return s;
}

static enum tv_parse redis_data(void *st, struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	(void)c;
	struct redis_state *s = st;
	if (s->broken[dir])
		return TV_PARSE_ERROR;
	if (!s->in[dir].len)
		s->first_ts[dir] = ts;
	if (tv_buf_append(&s->in[dir], p, n)) {
		s->broken[dir] = true; /* one value above the cap */
		return TV_PARSE_ERROR;
	}
	consume(s, dir, ts);
	if (s->broken[dir])
		return TV_PARSE_ERROR;
	return s->in[dir].len ? TV_PARSE_NEED_MORE : TV_PARSE_OK;
}

static void redis_gap(void *st, struct tv_conn *c, int dir, uint64_t missing, uint64_t ts)
{
	(void)c, (void)missing, (void)ts;
	struct redis_state *s = st;
	s->broken[dir] = true; /* RESP has no resync point */
}

static void redis_close(void *st, struct tv_conn *c, uint64_t ts)
{
	(void)c, (void)ts;
	struct redis_state *s = st;
	tv_pairq_flush(&s->q);
	tv_pairq_cleanup(&s->q);
	tv_buf_cleanup(&s->in[0]);
	tv_buf_cleanup(&s->in[1]);
	free(s);
}

/* A reply: a RESP type byte, then a CRLF-terminated line of printable
 * text (a number for the numeric types). */
static enum tv_probe reply_probe(const uint8_t *p, size_t n)
{
	if (!n)
		return TV_PROBE_NEED_MORE;
	if (!p[0] || !strchr("+-:$*_,#%~", p[0]))
		return TV_PROBE_NO;
	long len = line_len(p + 1, n - 1);
	size_t scan = len >= 0 ? (size_t)len : n - 1 - (p[n - 1] == '\r');
	for (size_t i = 0; i < scan; i++)
		if (p[1 + i] < 0x20 || p[1 + i] > 0x7e)
			return TV_PROBE_NO;
	if (len < 0)
		return n > 65536 ? TV_PROBE_NO : TV_PROBE_NEED_MORE;
	long long v;
	if (strchr(":$*%~", p[0]) && !parse_int(p + 1, len, &v))
		return TV_PROBE_NO;
	return TV_PROBE_YES;
}

/* A command: an array of bulk strings ("*N\r\n$"). A client using inline
 * commands is recognised by the server's first reply. */
static enum tv_probe command_probe(const uint8_t *p, size_t n)
{
	if (n < 2)
		return n && p[0] != '*' ? TV_PROBE_NO : TV_PROBE_NEED_MORE;
	if (p[0] != '*' || !isdigit(p[1]))
		return TV_PROBE_NO;
	size_t i = 1;
	while (i < n && isdigit(p[i]))
		i++;
	if (i == n)
		return i > 20 ? TV_PROBE_NO : TV_PROBE_NEED_MORE;
	if (p[i] != '\r')
		return TV_PROBE_NO;
	if (i + 1 == n)
		return TV_PROBE_NEED_MORE;
	if (p[i + 1] != '\n')
		return TV_PROBE_NO;
	if (i + 2 == n)
		return TV_PROBE_NEED_MORE;
	return p[i + 2] == '$' ? TV_PROBE_YES : TV_PROBE_NO;
}

static enum tv_probe redis_probe(unsigned l4, int dir, const uint8_t *p, size_t n)
{
	(void)l4;
	return dir == 1 ? reply_probe(p, n) : command_probe(p, n);
}

static const uint16_t redis_ports[] = {6379, 0};

const struct tv_proto tv_proto_redis = {
	.name = "redis",
	.l4 = TV_L4_TCP,
	.ports = redis_ports,
	.probe = redis_probe,
	.open = redis_open,
	.data = redis_data,
	.gap = redis_gap,
	.close = redis_close,
};
