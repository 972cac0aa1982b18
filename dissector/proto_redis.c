/* SPDX-License-Identifier: Apache-2.0 */
/* proto_redis: RESP2 and RESP3. Client commands (arrays of bulk strings, or
 * inline commands) are paired in order with the server's replies
 * (pipelining); RESP3 push messages ('>') are not replies and are skipped. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/buf.h"
#include "dissector/dissect.h"

#define MAX_DEPTH 16
#define STREAM_CAP (64u << 20) /* bytes of one unfinished command or reply */
#define MAX_PENDING 1024

enum parse_result {
	PARSED,
	INCOMPLETE,
	MALFORMED
};

struct redis_cmd {
	json_t *request;
	uint64_t ts;
	size_t size;
};

struct redis_state {
	struct tv_buf in[2];
	uint64_t first_ts[2]; /* when the value at the buffer's start began */
	struct redis_cmd pending[MAX_PENDING];
	size_t n;
	/* replies delivered before their commands (the directions captured out
	 * of order): the next commands take them, in order */
	struct redis_reply {
		json_t *v;
		const char *type; /* a static name */
		uint64_t ts;
		size_t size;
	} early[MAX_PENDING];
	size_t nearly;
	bool broken[2]; /* framing lost (gap or malformed): skip this direction */
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

static void emit(struct tv_conn *c, struct redis_cmd *cmd, json_t *reply, const char *type, uint64_t ts,
		 size_t size)
{
	struct tv_entry e = {.proto = "redis", .version = "resp"};
	if (cmd) {
		json_t *args = cmd->request;
		json_t *name = json_array_get(args, 0);
		json_t *req = json_object();
		json_object_set_new(req, "command",
				    name && json_is_string(name) ? json_incref(name) : json_string(""));
		json_array_remove(args, 0);
		json_object_set_new(req, "args", args);
		e.request = req;
		e.request_ts = cmd->ts;
		e.request_size = cmd->size;
	}
	if (reply) {
		e.response = json_pack("{s:s, s:o}", "type", type ? type : "unknown", "value", reply);
		e.response_ts = ts;
		e.response_size = size;
		if (type && strcmp(type, "error") == 0)
			e.failed = true;
	}
	if (!cmd)
		e.error = "reply without a command";
	else if (!reply)
		e.error = "no reply";
	tv_dissect_emit(c, &e);
}

static void on_command(struct redis_state *s, struct tv_conn *c, json_t *args, uint64_t ts, size_t size)
{
	if (s->nearly) {
		struct redis_reply r = s->early[0];
		memmove(&s->early[0], &s->early[1], (s->nearly - 1) * sizeof(s->early[0]));
		s->nearly--;
		struct redis_cmd cmd = {args, ts, size};
		emit(c, &cmd, r.v, r.type, r.ts, r.size);
		return;
	}
	if (s->n == MAX_PENDING) {
		emit(c, &s->pending[0], NULL, NULL, 0, 0);
		memmove(&s->pending[0], &s->pending[1], (MAX_PENDING - 1) * sizeof(s->pending[0]));
		s->n--;
	}
	s->pending[s->n++] = (struct redis_cmd){args, ts, size};
}

static void on_reply(struct redis_state *s, struct tv_conn *c, json_t *v, const char *type, uint64_t ts,
		     size_t size)
{
	if (type && strcmp(type, "push") == 0) {
		json_decref(v); /* out-of-band (pub/sub, invalidation): no command of its own */
		return;
	}
	if (!s->n && s->nearly < MAX_PENDING) {
		s->early[s->nearly++] = (struct redis_reply){v, type, ts, size};
		return;
	}
	if (!s->n) {
		emit(c, NULL, v, type, ts, size);
		return;
	}
	struct redis_cmd cmd = s->pending[0];
	memmove(&s->pending[0], &s->pending[1], (s->n - 1) * sizeof(s->pending[0]));
	s->n--;
	emit(c, &cmd, v, type, ts, size);
}

/* Parses every whole value at the start of direction dir's buffer. */
static void consume(struct redis_state *s, struct tv_conn *c, int dir, uint64_t ts)
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
			on_command(s, c, v, s->first_ts[dir], used);
		else if (dir == 0)
			json_decref(v);
		else
			on_reply(s, c, v, type, ts, used);
		off += used;
		s->first_ts[dir] = ts;
	}
	if (off) {
		memmove(b->data, b->data + off, b->len - off);
		b->len -= off;
	}
}

static void *redis_open(struct tv_conn *c)
{
	(void)c;
	struct redis_state *s = calloc(1, sizeof(*s));
	if (s) {
		tv_buf_init(&s->in[0], STREAM_CAP);
		tv_buf_init(&s->in[1], STREAM_CAP);
	}
	return s;
}

static void redis_data(void *st, struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	struct redis_state *s = st;
	if (!s || s->broken[dir])
		return;
	if (!s->in[dir].len)
		s->first_ts[dir] = ts;
	if (tv_buf_append(&s->in[dir], p, n)) {
		s->broken[dir] = true; /* one value above the cap */
		return;
	}
	consume(s, c, dir, ts);
}

static void redis_gap(void *st, struct tv_conn *c, int dir, uint64_t missing, uint64_t ts)
{
	(void)c, (void)missing, (void)ts;
	struct redis_state *s = st;
	if (s)
		s->broken[dir] = true; /* RESP has no resync point */
}

static void redis_close(void *st, struct tv_conn *c, uint64_t ts)
{
	(void)ts;
	struct redis_state *s = st;
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		emit(c, &s->pending[i], NULL, NULL, 0, 0);
	for (size_t i = 0; i < s->nearly; i++)
		emit(c, NULL, s->early[i].v, s->early[i].type, s->early[i].ts, s->early[i].size);
	tv_buf_cleanup(&s->in[0]);
	tv_buf_cleanup(&s->in[1]);
	free(s);
}

/* A reply: a RESP type byte, then a CRLF-terminated line. */
static bool looks_like_reply(const uint8_t *p, size_t n)
{
	if (n < 3 || !strchr("+-:$*_,#%~", p[0]) || !p[0])
		return false;
	long len = line_len(p + 1, n - 1);
	if (len < 0)
		return false;
	for (long i = 0; i < len; i++)
		if (p[1 + i] < 0x20 || p[1 + i] > 0x7e)
			return false;
	if (strchr(":$*%~", p[0])) {
		long long v;
		return parse_int(p + 1, len, &v);
	}
	return true;
}

bool tv_redis_detect(int dir, const uint8_t *p, size_t n)
{
	if (dir == 1)
		return looks_like_reply(p, n); /* catches clients using inline commands */
	if (n < 4 || p[0] != '*' || !isdigit(p[1]))
		return false;
	size_t i = 1;
	while (i < n && isdigit(p[i]))
		i++;
	return i + 2 < n && p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '$';
}

const struct tv_proto tv_proto_redis = {"redis", redis_open, redis_data, redis_gap, redis_close};
