/* SPDX-License-Identifier: Apache-2.0 */
/* dissect: the engine (see dissect.h). */
#include "dissector/dissect.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "archive/common/buf.h"
#include "archive/common/sha256.h"
#include "archive/common/timeutil.h"
#include "dissector/entry_writer.h"
#include "dissector/json_writer.h"
#include "dissector/names.h"

#define HOLD_MAX (256u << 10) /* bytes held per direction until a protocol is recognised */
#define TABLE_BITS 16

struct tv_conn {
	struct tv_conn *next; /* hash chain */
	struct tv_dissect *d;
	/* Two views of the directions. "Wire" directions are fixed by the first
	 * packet (0: its sender): reassembly state is kept by them, so it never
	 * moves while bytes are being delivered. "Role" directions (0: client)
	 * are what parsers see; detection may swap them (flip) at any time. */
	struct tv_flow_key wire;   /* the first packet's key */
	struct tv_flow_key client; /* client -> server */
	bool flipped;              /* the client is the wire key's destination */
	bool udp;
	char node[64];
	char stream[160];
	uint64_t first_ts, last_ts;
	uint64_t entries;
	struct tv_reasm_dir reasm[2]; /* by wire direction */
	bool rst, closed[2];          /* by wire direction */
	/* detection */
	const struct tv_proto *proto;
	void *state;
	bool undetectable;
	struct tv_buf head[2]; /* what each side (by role) sent before detection */
	uint64_t head_ts[2];
};

struct tv_dissect {
	struct tv_dissect_opts o;
	struct tv_reasm_budget budget;
	struct tv_conn *table[1u << TABLE_BITS];
	uint64_t nconn, last_sweep;
	struct tv_dissect_stats st;
	uint64_t next_id;
	bool har_open, finished;
	struct tv_entry_writer *writer;
	struct libdeflate_decompressor *decompressor; /* shared by all connections */
};

/* ---- entries ---- */

/* {ip, port, name, namespace} of one side of k; n: its name, or NULL. */
static json_t *endpoint(const struct tv_flow_key *k, bool source, const struct tv_name *n)
{
	char ip[INET6_ADDRSTRLEN];
	inet_ntop(k->family == 4 ? AF_INET : AF_INET6, source ? k->src : k->dst, ip, sizeof(ip));
	if (n)
		return json_pack("{s:s, s:i, s:s, s:s}", "ip", ip, "port", source ? k->sport : k->dport,
				 "name", n->name, "namespace", n->ns);
	return json_pack("{s:s, s:i, s:n, s:n}", "ip", ip, "port", source ? k->sport : k->dport, "name",
			 "namespace");
}

static double ms_between(uint64_t a, uint64_t b)
{
	return b > a ? (double)(b - a) / 1e6 : 0.0;
}

/* ---- HAR 1.2 ---- */

static void har_begin(struct tv_dissect *d)
{
	tv_entry_writer_put(
		d->writer,
		"{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"tapvault\",\"version\":\"" TV_VERSION
		"\"},\"pages\":[],\"entries\":[\n",
		NULL, NULL);
	d->har_open = true;
}

static void har_end(struct tv_dissect *d)
{
	tv_entry_writer_put(d->writer, "\n]}}\n", NULL, NULL);
}

/* Percent- and '+'-decoding of a query component (a string, "" if not UTF-8). */
static json_t *url_decoded(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t o = 0;
	for (size_t i = 0; out && i < n; i++) {
		if (s[i] == '%' && i + 2 < n && tv_hex_digit(s[i + 1]) >= 0 && tv_hex_digit(s[i + 2]) >= 0) {
			out[o++] = (char)(tv_hex_digit(s[i + 1]) * 16 + tv_hex_digit(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	json_t *j = out ? json_stringn(out, o) : NULL;
	free(out);
	return j ? j : json_string("");
}

static json_t *query_string(const char *path)
{
	json_t *arr = json_array();
	const char *q = path ? strchr(path, '?') : NULL;
	while (q && *q) {
		const char *start = q + 1, *end = strchr(start, '&');
		size_t len = end ? (size_t)(end - start) : strlen(start);
		const char *eq = memchr(start, '=', len);
		size_t nlen = eq ? (size_t)(eq - start) : len;
		if (len)
			json_array_append_new(
				arr, json_pack("{s:o, s:o}", "name", url_decoded(start, nlen), "value",
					       eq ? url_decoded(eq + 1, len - nlen - 1) : json_string("")));
		q = end;
	}
	return arr;
}

/* Renames our extra fields to HAR's custom-field form ("_name"). */
static void har_underscore(json_t *obj, const char *name)
{
	json_t *v = obj ? json_object_get(obj, name) : NULL;
	if (!v)
		return;
	char custom[40];
	snprintf(custom, sizeof(custom), "_%s", name);
	json_object_set(obj, custom, v);
	json_object_del(obj, name);
}

static json_t *har_request(json_t *req)
{
	json_t *r = json_deep_copy(req);
	json_object_set_new(r, "cookies", json_array());
	json_object_set_new(r, "queryString", query_string(json_string_value(json_object_get(r, "path"))));
	har_underscore(r, "path");
	har_underscore(r, "incomplete");
	har_underscore(r, "pushPromise");
	json_t *post = json_object_get(r, "postData");
	if (post) {
		json_object_del(post, "size");
		har_underscore(post, "encoding");
		har_underscore(post, "truncated");
		har_underscore(post, "decodeError");
		har_underscore(post, "compression");
		json_object_set_new(post, "params", json_array());
	}
	return r;
}

static json_t *har_response(json_t *resp)
{
	if (!resp)
		return json_pack("{s:i, s:s, s:s, s:[], s:[], s:{s:i, s:s}, s:s, s:i, s:i}", "status", 0,
				 "statusText", "", "httpVersion", "", "cookies", "headers", "content", "size",
				 0, "mimeType", "", "redirectURL", "", "headersSize", -1, "bodySize", -1);
	json_t *r = json_deep_copy(resp);
	json_object_set_new(r, "cookies", json_array());
	har_underscore(json_object_get(r, "content"), "truncated");
	har_underscore(json_object_get(r, "content"), "decodeError");
	har_underscore(r, "incomplete");
	json_t *loc = tv_header(json_object_get(r, "headers"), "location");
	json_object_set_new(r, "redirectURL", loc && json_is_string(loc) ? json_copy(loc) : json_string(""));
	return r;
}

static void har_entry(struct tv_dissect *d, struct tv_conn *c, const struct tv_entry *e, const char *when)
{
	double wait = e->request_ts && e->response_ts ? ms_between(e->request_ts, e->response_ts) : 0;
	char ip[INET6_ADDRSTRLEN];
	inet_ntop(c->client.family == 4 ? AF_INET : AF_INET6, c->client.dst, ip, sizeof(ip));
	json_t *j =
		json_pack("{s:s, s:f, s:o, s:o, s:{}, s:{s:i, s:f, s:i}, s:s, s:s, s:s}", "startedDateTime",
			  when, "time", wait, "request", har_request(e->request), "response",
			  har_response(e->response), "cache", "timings", "send", 0, "wait", wait, "receive",
			  0, "serverIPAddress", ip, "_stream", c->stream, "_node", c->node);
	if (e->error)
		json_object_set_new(j, "_error", json_string(e->error));
	tv_entry_writer_put(d->writer, d->st.entries ? ",\n" : NULL, j, NULL);
}

/* The client (named client) is a pod of the node that captured the
 * connection: the request left that node (Kubeshark's "outgoing"). */
static bool outgoing(const struct tv_conn *c, const struct tv_name *client)
{
	return client && client->node && client->node[0] && !strcmp(client->node, c->node);
}

void tv_dissect_emit(struct tv_conn *c, struct tv_entry *e)
{
	struct tv_dissect *d = c->d;
	uint64_t start = e->request_ts ? e->request_ts : e->response_ts;
	char when[40], id[40];
	tv_format_rfc3339(start, when);
	snprintf(id, sizeof(id), "%016" PRIx64, ++d->next_id);
	json_t *j = json_object();
	json_object_set_new(j, "id", json_string(id));
	json_object_set_new(j, "index", json_integer((json_int_t)c->entries++));
	json_object_set_new(j, "stream", json_string(c->stream));
	json_object_set_new(j, "node", json_string(c->node));
	json_object_set_new(j, "protocol", json_pack("{s:s, s:s}", "name", e->proto, "version", e->version));
	const struct tv_name *client = tv_names_lookup(d->o.names, c->client.family, c->client.src),
			     *server = tv_names_lookup(d->o.names, c->client.family, c->client.dst);
	json_object_set_new(j, "src", endpoint(&c->client, true, client));
	json_object_set_new(j, "dst", endpoint(&c->client, false, server));
	json_object_set_new(j, "outgoing", json_boolean(outgoing(c, client)));
	json_object_set_new(j, "request", e->request ? e->request : json_null());
	json_object_set_new(j, "response", e->response ? e->response : json_null());
	json_object_set_new(j, "requestSize", json_integer((json_int_t)e->request_size));
	json_object_set_new(j, "responseSize", json_integer((json_int_t)e->response_size));
	json_object_set_new(j, "startTime", json_string(when));
	json_object_set_new(j, "timestamp", json_integer((json_int_t)(start / 1000000)));
	json_object_set_new(
		j, "elapsedTime",
		json_real(e->request_ts && e->response_ts ? ms_between(e->request_ts, e->response_ts) : 0));
	bool failed = e->failed || e->error;
	json_object_set_new(j, "failed", json_boolean(failed));
	json_object_set_new(j, "error", e->error ? json_string(e->error) : json_null());
	json_object_set_new(j, "tls", json_false());
	if (!d->o.har) {
		tv_entry_writer_put(d->writer, NULL, json_incref(j), "\n");
		d->st.entries++;
	} else if (strcmp(e->proto, "http") == 0 && json_is_object(json_object_get(j, "request"))) {
		har_entry(d, c, e, when);
		d->st.entries++;
	} else {
		d->st.not_in_har++;
	}
	json_decref(j);
	e->request = e->response = NULL;
}

size_t tv_dissect_body_cap(const struct tv_conn *c)
{
	return c->d->o.body_cap;
}

struct libdeflate_decompressor *tv_dissect_decompressor(struct tv_conn *c)
{
	if (!c->d->decompressor)
		c->d->decompressor = libdeflate_alloc_decompressor();
	return c->d->decompressor;
}

void tv_dissect_switch(struct tv_conn *c, const struct tv_proto *p, void *state)
{
	c->proto = p;
	c->state = state;
}

json_t *tv_header(json_t *headers, const char *name)
{
	size_t i;
	json_t *h;
	json_array_foreach (headers, i, h) {
		const char *n = json_string_value(json_object_get(h, "name"));
		if (n && !strcasecmp(n, name))
			return json_object_get(h, "value");
	}
	return NULL;
}

void tv_content_set_text(json_t *content, const uint8_t *p, size_t n, bool as_text)
{
	json_t *text = as_text && n ? tv_json_utf8(p, n) : NULL;
	if (text) {
		json_object_set_new(content, "text", text);
	} else if (n) {
		char *b64 = tv_base64(p, n);
		json_object_set_new(content, "text", json_string(b64 ? b64 : ""));
		json_object_set_new(content, "encoding", json_string("base64"));
		free(b64);
	}
}

json_t *tv_json_bytes(const uint8_t *p, size_t n)
{
	json_t *s = tv_json_utf8(p, n);
	if (s)
		return s;
	char *b64 = tv_base64(p, n);
	json_t *j = json_pack("{s:s}", "base64", b64 ? b64 : "");
	free(b64);
	return j;
}

/* ---- connection table ---- */

static uint32_t bucket(const struct tv_flow_key *canonical)
{
	return (uint32_t)(tv_flow_key_hash(canonical) & ((1u << TABLE_BITS) - 1));
}

static void name_stream(struct tv_conn *c)
{
	char f[128];
	tv_flow_key_format(&c->client, f, sizeof(f));
	snprintf(c->stream, sizeof(c->stream), "%s", f);
}

static struct tv_conn *find_conn(struct tv_dissect *d, const struct tv_flow_key *k, int *dir)
{
	struct tv_flow_key canon;
	tv_flow_key_canonical(k, &canon);
	for (struct tv_conn *c = d->table[bucket(&canon)]; c; c = c->next) {
		if (tv_flow_key_same_conversation(&c->wire, k)) {
			*dir = memcmp(c->wire.src, k->src, 16) == 0 && c->wire.sport == k->sport ? 0 : 1;
			return c;
		}
	}
	return NULL;
}

/* The client is the side that sent the SYN; without one, the side with the
 * higher (ephemeral-looking) port until content says otherwise. */
static struct tv_conn *new_conn(struct tv_dissect *d, const char *node, const struct tv_l4 *l4, uint64_t ts,
				int *dir)
{
	struct tv_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->d = d;
	c->udp = l4->key.proto == 17;
	bool from_client = l4->key.proto == 6 && (l4->tcp_flags & (TV_TCP_SYN | TV_TCP_ACK)) == TV_TCP_SYN;
	bool from_server = l4->key.proto == 6 &&
			   (l4->tcp_flags & (TV_TCP_SYN | TV_TCP_ACK)) == (TV_TCP_SYN | TV_TCP_ACK);
	if (!from_client && !from_server)
		from_client = l4->key.sport >= l4->key.dport;
	c->wire = c->client = l4->key;
	if (!from_client) {
		memcpy(c->client.src, l4->key.dst, 16);
		memcpy(c->client.dst, l4->key.src, 16);
		c->client.sport = l4->key.dport;
		c->client.dport = l4->key.sport;
		c->flipped = true;
	}
	*dir = 0; /* the wire direction of the packet that opened it */
	tv_buf_init(&c->head[0], HOLD_MAX);
	tv_buf_init(&c->head[1], HOLD_MAX);
	snprintf(c->node, sizeof(c->node), "%s", node ? node : "");
	c->first_ts = c->last_ts = ts;
	name_stream(c);
	struct tv_flow_key canon;
	tv_flow_key_canonical(&l4->key, &canon);
	uint32_t b = bucket(&canon);
	c->next = d->table[b];
	d->table[b] = c;
	d->nconn++;
	d->st.connections++;
	return c;
}

/* Swaps client and server (content showed the first guess wrong). */
static void flip(struct tv_conn *c)
{
	struct tv_flow_key k = c->client;
	memcpy(c->client.src, k.dst, 16);
	memcpy(c->client.dst, k.src, 16);
	c->client.sport = k.dport;
	c->client.dport = k.sport;
	c->flipped = !c->flipped;
	struct tv_buf h = c->head[0];
	c->head[0] = c->head[1];
	c->head[1] = h;
	uint64_t ts = c->head_ts[0];
	c->head_ts[0] = c->head_ts[1];
	c->head_ts[1] = ts;
	name_stream(c);
}

static void end_conn(struct tv_dissect *d, struct tv_conn *c, uint64_t ts);

static void unlink_conn(struct tv_dissect *d, struct tv_conn *c)
{
	struct tv_flow_key canon;
	tv_flow_key_canonical(&c->client, &canon);
	for (struct tv_conn **at = &d->table[bucket(&canon)]; *at; at = &(*at)->next) {
		if (*at == c) {
			*at = c->next;
			d->nconn--;
			return;
		}
	}
}

/* ---- detection and delivery ---- */

static const struct tv_proto *detect(int dir, const uint8_t *p, size_t n)
{
	if (tv_http2_detect(dir, p, n))
		return &tv_proto_http2;
	if (tv_http1_detect(dir, p, n))
		return &tv_proto_http1;
	if (tv_redis_detect(dir, p, n))
		return &tv_proto_redis;
	if (tv_dns_tcp_detect(dir, p, n))
		return &tv_proto_dns_tcp;
	return NULL;
}

/* Tries both orientations on what each side sent first. */
static void try_detect(struct tv_conn *c)
{
	for (int dir = 0; dir < 2 && !c->proto; dir++) {
		if (!c->head[dir].len)
			continue;
		const struct tv_proto *p = detect(dir, c->head[dir].data, c->head[dir].len);
		if (!p && (p = detect(!dir, c->head[dir].data, c->head[dir].len)) != NULL)
			flip(c);
		if (p) {
			c->proto = p;
			c->state = p->open(c);
		}
	}
	if (c->proto) {
		/* replay what detection held back, client side first */
		for (int dir = 0; dir < 2; dir++) {
			if (c->head[dir].len && c->proto)
				c->proto->data(c->state, c, dir, c->head[dir].data, c->head[dir].len,
					       c->head_ts[dir]);
			tv_buf_cleanup(&c->head[dir]);
		}
	} else if (c->head[0].len >= 16 && c->head[1].len >= 16) {
		c->undetectable = true; /* both sides spoke, neither like a protocol we know */
	}
}

struct sink_ctx {
	struct tv_conn *c;
	int dir; /* wire direction */
};

static int role_of(const struct tv_conn *c, int wire_dir)
{
	return wire_dir ^ c->flipped;
}

static void on_stream_data(void *ctx, const uint8_t *p, size_t n, uint64_t ts)
{
	struct sink_ctx *s = ctx;
	struct tv_conn *c = s->c;
	int dir = role_of(c, s->dir);
	if (c->undetectable)
		return;
	if (c->proto) {
		c->proto->data(c->state, c, dir, p, n, ts);
		return;
	}
	if (!c->head[dir].len)
		c->head_ts[dir] = ts;
	if (tv_buf_append(&c->head[dir], p, n)) {
		c->undetectable = true; /* a lot of bytes, none like a protocol we know */
		return;
	}
	try_detect(c);
}

static void on_stream_gap(void *ctx, uint64_t missing, uint64_t ts)
{
	struct sink_ctx *s = ctx;
	s->c->d->st.gaps++;
	if (s->c->proto && s->c->proto->gap)
		s->c->proto->gap(s->c->state, s->c, role_of(s->c, s->dir), missing, ts);
}

/* dir: the packet's wire direction. */
static void tcp_packet(struct tv_dissect *d, struct tv_conn *c, int dir, const struct tv_l4 *l4, uint64_t ts)
{
	struct sink_ctx sc = {c, dir}, oc = {c, !dir};
	struct tv_reasm_sink sink = {on_stream_data, on_stream_gap, &sc},
			     osink = {on_stream_data, on_stream_gap, &oc};
	if (l4->tcp_flags & TV_TCP_ACK)
		tv_reasm_acked(&c->reasm[!dir], &d->budget, l4->ack, ts, &osink);
	tv_reasm_add(&c->reasm[dir], &d->budget, l4->tcp_flags, l4->seq, l4->payload, l4->len, ts, &sink);
	if (l4->wire_len > l4->len) {
		/* snapped capture: the rest of the segment is a gap */
		c->reasm[dir].next_seq += l4->wire_len - l4->len;
		on_stream_gap(&sc, l4->wire_len - l4->len, ts);
	}
	if (l4->tcp_flags & TV_TCP_RST)
		c->rst = true;
	if (l4->tcp_flags & TV_TCP_FIN)
		c->closed[dir] = true;
	if (c->rst || (c->closed[0] && c->closed[1]))
		end_conn(d, c, ts);
}

static void end_conn(struct tv_dissect *d, struct tv_conn *c, uint64_t ts)
{
	for (int dir = 0; dir < 2; dir++) {
		struct sink_ctx sc = {c, dir};
		struct tv_reasm_sink sink = {on_stream_data, on_stream_gap, &sc};
		tv_reasm_flush(&c->reasm[dir], &d->budget, ts, &sink);
		d->st.gap_bytes += c->reasm[dir].gap_bytes;
		d->st.conflicts += c->reasm[dir].conflicts;
		d->st.truncated_streams += c->reasm[dir].truncated;
		tv_reasm_free(&c->reasm[dir], &d->budget);
	}
	if (!c->proto && !c->undetectable && (c->head[0].len || c->head[1].len))
		try_detect(c);
	tv_buf_cleanup(&c->head[0]);
	tv_buf_cleanup(&c->head[1]);
	if (c->proto)
		c->proto->close(c->state, c, ts);
	unlink_conn(d, c);
	free(c);
}

/* Ends connections idle for longer than idle_ns of packet time. */
static void sweep(struct tv_dissect *d, uint64_t now)
{
	for (uint32_t b = 0; b < (1u << TABLE_BITS); b++) {
		struct tv_conn *c = d->table[b];
		while (c) {
			struct tv_conn *next = c->next;
			if (now > c->last_ts + d->o.idle_ns)
				end_conn(d, c, c->last_ts);
			c = next;
		}
	}
}

/* A SYN (without ACK) that does not fit the stream it arrives on opens a new
 * connection on the same addresses and ports; a repeated SYN fits. */
static bool reuses_ports(const struct tv_conn *c, int dir, const struct tv_l4 *l4)
{
	const struct tv_reasm_dir *r = &c->reasm[dir];
	return (l4->tcp_flags & (TV_TCP_SYN | TV_TCP_ACK)) == TV_TCP_SYN && r->started &&
	       !(r->syn && l4->seq == r->isn) && l4->seq + 1 != r->next_seq;
}

void tv_dissect_packet(struct tv_dissect *d, const char *node, uint16_t linktype, uint64_t ts,
		       const uint8_t *pkt, uint32_t caplen)
{
	d->st.packets++;
	struct tv_l4 l4;
	if (!tv_l4_parse(linktype, pkt, caplen, &l4)) {
		d->st.other++;
		return;
	}
	if (ts > d->last_sweep + 1000000000ULL) {
		if (d->last_sweep)
			sweep(d, ts);
		d->last_sweep = ts;
	}
	int dir = 0;
	struct tv_conn *c = find_conn(d, &l4.key, &dir);
	if (l4.key.proto == 17) {
		d->st.udp++;
		if (!c && !(c = new_conn(d, node, &l4, ts, &dir)))
			return;
		c->last_ts = ts;
		if (!c->proto && !c->undetectable) {
			c->proto = &tv_proto_dns_udp;
			c->state = c->proto->open(c);
		}
		if (c->proto)
			c->proto->data(c->state, c, role_of(c, dir), l4.payload, l4.len, ts);
		return;
	}
	d->st.tcp++;
	if (c && reuses_ports(c, dir, &l4)) {
		end_conn(d, c, c->last_ts);
		c = NULL;
	}
	if (!c) {
		if (l4.tcp_flags & TV_TCP_RST)
			return; /* a reset of a connection we never saw */
		if (!(c = new_conn(d, node, &l4, ts, &dir)))
			return;
	}
	c->last_ts = ts;
	tcp_packet(d, c, dir, &l4, ts);
}

struct tv_conn *tv_dissect_stream_open(struct tv_dissect *d, const struct tv_proto *proto, bool udp)
{
	struct tv_l4 l4 = {.tcp_flags = TV_TCP_SYN};
	l4.key.family = 4;
	l4.key.proto = udp ? 17 : 6;
	memcpy(l4.key.src, (uint8_t[]){10, 0, 0, 1}, 4);
	memcpy(l4.key.dst, (uint8_t[]){10, 0, 0, 2}, 4);
	l4.key.sport = (uint16_t)(1024 + d->st.connections % 60000);
	l4.key.dport = 80;
	int dir;
	struct tv_conn *c = new_conn(d, "test", &l4, 0, &dir);
	if (!c)
		return NULL;
	c->proto = proto;
	c->state = proto->open(c);
	return c;
}

void tv_dissect_stream_data(struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	c->last_ts = ts;
	if (c->proto)
		c->proto->data(c->state, c, dir, p, n, ts);
}

void tv_dissect_stream_gap(struct tv_conn *c, int dir, uint64_t missing, uint64_t ts)
{
	c->last_ts = ts;
	c->d->st.gaps++;
	if (c->proto && c->proto->gap)
		c->proto->gap(c->state, c, dir, missing, ts);
}

int tv_dissect_open(struct tv_dissect **out, const struct tv_dissect_opts *o)
{
	struct tv_dissect *d = calloc(1, sizeof(*d));
	if (!d)
		return -1;
	d->o = *o;
	if (!d->o.stream_cap)
		d->o.stream_cap = 4u << 20;
	if (!d->o.total_cap)
		d->o.total_cap = 256u << 20;
	if (!d->o.body_cap)
		d->o.body_cap = 1u << 20;
	if (!d->o.idle_ns)
		d->o.idle_ns = 120ULL * 1000000000ULL;
	if (tv_entry_writer_open(&d->writer, d->o.out, d->o.writer_thread)) {
		free(d);
		return -1;
	}
	d->budget.cap = d->o.total_cap;
	d->budget.stream_cap = d->o.stream_cap;
	if (d->o.har)
		har_begin(d);
	*out = d;
	return 0;
}

void tv_dissect_finish(struct tv_dissect *d)
{
	if (d->finished)
		return;
	for (uint32_t b = 0; b < (1u << TABLE_BITS); b++)
		while (d->table[b])
			end_conn(d, d->table[b], d->table[b]->last_ts);
	if (d->har_open)
		har_end(d);
	if (tv_entry_writer_close(d->writer))
		d->st.write_failed = true;
	d->writer = NULL;
	d->finished = true;
}

void tv_dissect_stats(const struct tv_dissect *d, struct tv_dissect_stats *st)
{
	*st = d->st;
}

void tv_dissect_free(struct tv_dissect *d)
{
	if (!d)
		return;
	tv_dissect_finish(d);
	if (d->decompressor)
		libdeflate_free_decompressor(d->decompressor);
	free(d);
}
