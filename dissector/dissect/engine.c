/* SPDX-License-Identifier: Apache-2.0 */
/* engine: the dissection engine (see dissect.h). Packets are decoded
 * (archive/decode.h), connections kept in a hash table, each TCP direction
 * reassembled (tcp_reasm.h), the protocol detected by content with the
 * probes of the registration table (proto/protos.def), and the byte streams
 * handed to that protocol's parser. The engine names no protocol. */
#include "dissector/dissect/dissect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/buf.h"
#include "archive/decode.h"
#include "dissector/dissect/entry.h"
#include "dissector/dissect/entry_writer.h"
#include "dissector/dissect/har.h"

#define HOLD_MAX (256u << 10) /* bytes held per direction until a protocol is recognised */
#define TABLE_BITS 16
#define UDP_PROBES 16 /* datagrams of a UDP flow probed before it is given up on */

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
	/* the protocol: found by detection, or taken over by hand-off */
	const struct tv_proto *proto;
	void *state;    /* NULL: the parser could not open (the connection is skipped) */
	bool failed[2]; /* by role: the parser gave up on this direction */
	bool undetectable;
	unsigned probed;       /* UDP: datagrams probed */
	struct tv_buf head[2]; /* what each side (by role) sent before detection */
	uint64_t head_ts[2];
};

struct tv_dissect {
	struct tv_dissect_opts o;
	struct tv_reasm_budget budget;
	struct tv_conn *table[1u << TABLE_BITS];
	uint64_t nconn, last_sweep;
	struct tv_dissect_stats st;
	bool finished;
	struct tv_entry_writer *writer;
	/* the registration table in probe order, each list for one L4 */
	const struct tv_proto *probes[2][64];
	size_t nprobes[2];
	void *run[]; /* per protocol (tv_protos order): its per-run resources, opened on first use */
};

/* ---- engine services (proto.h) ---- */

/* An entry's id: a hash of where it is (node, connection, the connection's
 * first packet, its number on it), not of the run's order: the same entry
 * has the same id in every run that sees its connection from the same first
 * packet (an unsharded run and the shard that owns the connection), and the
 * parts of a sharded dissection never collide. */
static uint64_t entry_id(const struct tv_conn *c, uint64_t index)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a over the strings, then the numbers */
	for (const char *p = c->node; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
	h = (h ^ 0xff) * 0x100000001b3ULL;
	for (const char *p = c->stream; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
	uint64_t words[2] = {c->first_ts, index};
	for (int i = 0; i < 2; i++) {
		h ^= words[i];
		h *= 0xBF58476D1CE4E5B9ULL;
		h ^= h >> 31;
	}
	h ^= h >> 30;
	h *= 0x94D049BB133111EBULL;
	return h ^ (h >> 31);
}

void tv_conn_emit(struct tv_conn *c, struct tv_entry *e)
{
	struct tv_dissect *d = c->d;
	struct tv_entry_where w = {.stream = c->stream,
				   .node = c->node,
				   .client = &c->client,
				   .id = entry_id(c, c->entries),
				   .index = c->entries++,
				   .names = d->o.names};
	char when[40];
	json_t *j = tv_entry_build(&w, e, when);
	if (!d->o.har) {
		tv_entry_writer_put(d->writer, NULL, json_incref(j), "\n");
		d->st.entries++;
	} else if (strcmp(e->proto, "http") == 0 && json_is_object(e->request)) {
		tv_har_entry(d->writer, &w, e, when, d->st.entries == 0);
		d->st.entries++;
	} else {
		d->st.not_in_har++;
	}
	json_decref(j);
	e->request = e->response = NULL;
}

size_t tv_conn_body_cap(const struct tv_conn *c)
{
	return c->d->o.body_cap;
}

bool tv_conn_udp(const struct tv_conn *c)
{
	return c->udp;
}

static size_t proto_index(const struct tv_proto *p)
{
	for (size_t i = 0; i < tv_nprotos; i++)
		if (tv_protos[i] == p)
			return i;
	return tv_nprotos;
}

/* The protocol's per-run resources, opened the first time it is used. */
static void *run_of(struct tv_dissect *d, const struct tv_proto *p)
{
	size_t i = proto_index(p);
	if (i == tv_nprotos || !p->run_open)
		return NULL;
	if (!d->run[i])
		d->run[i] = p->run_open();
	return d->run[i];
}

int tv_conn_handoff(struct tv_conn *c, struct tv_handoff *h)
{
	c->proto = NULL;
	c->state = NULL;
	for (size_t i = 0; i < tv_nprotos; i++) {
		const struct tv_proto *p = tv_protos[i];
		if (p->accepts && p->accept && strcmp(p->accepts, h->token) == 0) {
			c->proto = p;
			c->state = p->accept(c, run_of(c->d, p), h);
			c->failed[0] = c->failed[1] = false;
			return 0;
		}
	}
	json_decref(h->request);
	h->request = NULL;
	c->undetectable = true; /* nobody speaks what it turned into */
	return -ENOENT;
}

/* Bytes of role direction dir to the parser, unless it gave up on them. */
static void deliver(struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	if (!c->state || c->failed[dir])
		return;
	const struct tv_proto *was = c->proto;
	enum tv_parse r = c->proto->data(c->state, c, dir, p, n, ts);
	if (r == TV_PARSE_ERROR && c->proto == was) {
		c->failed[dir] = true;
		c->d->st.parse_errors++;
	}
}

void tv_conn_deliver(struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	if (c->proto)
		deliver(c, dir, p, n, ts);
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
static struct tv_conn *new_conn(struct tv_dissect *d, const char *node, const struct tv_decoded *l4,
				uint64_t ts, int *dir)
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

/* ---- detection ---- */

static bool hints_port(const struct tv_proto *p, uint16_t port)
{
	for (const uint16_t *h = p->ports; h && *h; h++)
		if (*h == port)
			return true;
	return false;
}

/* The probe lists per L4, in protos.def order. */
static void order_probes(struct tv_dissect *d)
{
	for (size_t i = 0; i < tv_nprotos; i++) {
		const struct tv_proto *p = tv_protos[i];
		if (!p->probe)
			continue;
		if ((p->l4 & TV_L4_TCP) && d->nprobes[0] < 64)
			d->probes[0][d->nprobes[0]++] = p;
		if ((p->l4 & TV_L4_UDP) && d->nprobes[1] < 64)
			d->probes[1][d->nprobes[1]++] = p;
	}
}

struct detection {
	const struct tv_proto *proto; /* NULL: none yet */
	bool flip;                    /* the bytes came from the other side than thought */
	bool all_no;                  /* every probe said no, in both orientations */
};

/* Probes what side dir sent, first as that side, then as the other: the
 * protocols whose port hints name the server's port first, then the rest,
 * each group in protos.def order. */
static struct detection detect(const struct tv_conn *c, unsigned l4, int dir, const uint8_t *p, size_t n)
{
	const struct tv_dissect *d = c->d;
	size_t np = d->nprobes[l4 == TV_L4_UDP];
	const struct tv_proto *const *list = d->probes[l4 == TV_L4_UDP];
	struct detection det = {NULL, false, true};
	for (int as = 0; as < 2; as++) {
		int role = as ? !dir : dir;
		/* the server's port as seen with this orientation */
		uint16_t server = (as ? !c->flipped : c->flipped) ? c->wire.sport : c->wire.dport;
		for (int pass = 0; pass < 2; pass++) {
			for (size_t i = 0; i < np; i++) {
				if (hints_port(list[i], server) != (pass == 0))
					continue;
				enum tv_probe r = list[i]->probe(l4, role, p, n);
				if (r == TV_PROBE_YES)
					return (struct detection){list[i], as == 1, false};
				if (r == TV_PROBE_NEED_MORE)
					det.all_no = false;
			}
		}
	}
	return det;
}

/* Swaps client and server (content showed the first guess wrong). */
static void flip(struct tv_conn *c);

static void attach(struct tv_conn *c, struct detection det)
{
	if (det.flip)
		flip(c);
	c->proto = det.proto;
	c->state = det.proto->open(c, run_of(c->d, det.proto));
}

/* Tries what each side sent first; then replays what detection held back. */
static void try_detect(struct tv_conn *c)
{
	bool all_no[2] = {false, false};
	for (int dir = 0; dir < 2 && !c->proto; dir++) {
		if (!c->head[dir].len)
			continue;
		struct detection det = detect(c, TV_L4_TCP, dir, c->head[dir].data, c->head[dir].len);
		if (det.proto)
			attach(c, det);
		all_no[dir] = det.all_no;
	}
	if (c->proto) {
		/* replay what detection held back, client side first */
		for (int dir = 0; dir < 2; dir++) {
			if (c->head[dir].len && c->proto)
				deliver(c, dir, c->head[dir].data, c->head[dir].len, c->head_ts[dir]);
			tv_buf_cleanup(&c->head[dir]);
		}
	} else if (all_no[0] && all_no[1]) {
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
		deliver(c, dir, p, n, ts);
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
	struct tv_conn *c = s->c;
	int dir = role_of(c, s->dir);
	c->d->st.gaps++;
	if (c->proto && c->state && !c->failed[dir] && c->proto->gap)
		c->proto->gap(c->state, c, dir, missing, ts);
}

/* dir: the packet's wire direction. */
static void tcp_packet(struct tv_dissect *d, struct tv_conn *c, int dir, const struct tv_decoded *l4,
		       uint64_t ts)
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
	if (c->proto && c->state)
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
static bool reuses_ports(const struct tv_conn *c, int dir, const struct tv_decoded *l4)
{
	const struct tv_reasm_dir *r = &c->reasm[dir];
	return (l4->tcp_flags & (TV_TCP_SYN | TV_TCP_ACK)) == TV_TCP_SYN && r->started &&
	       !(r->syn && l4->seq == r->isn) && l4->seq + 1 != r->next_seq;
}

/* Over UDP each datagram is probed until a protocol claims the flow; after
 * UDP_PROBES datagrams nobody claimed, the flow is not parsed. */
static void udp_datagram(struct tv_dissect *d, struct tv_conn *c, int dir, const struct tv_decoded *l4,
			 uint64_t ts)
{
	if (!c->proto && !c->undetectable) {
		struct detection det = detect(c, TV_L4_UDP, role_of(c, dir), l4->payload, l4->len);
		if (det.proto)
			attach(c, det);
		else if (++c->probed >= UDP_PROBES)
			c->undetectable = true;
	}
	(void)d;
	if (c->proto)
		deliver(c, role_of(c, dir), l4->payload, l4->len, ts);
}

void tv_dissect_packet(struct tv_dissect *d, const char *node, uint16_t linktype, uint64_t ts,
		       const uint8_t *pkt, uint32_t caplen)
{
	d->st.packets++;
	struct tv_decoded l4;
	if (!tv_decode(linktype, pkt, caplen, &l4) || !l4.transport) {
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
	if (c && ts > c->last_ts + d->o.idle_ns) {
		/* idle past the limit: ended as the sweep would have, whether or
		 * not a sweep ran meanwhile (it runs once a second of packet time,
		 * so without this the result would depend on other connections) */
		end_conn(d, c, c->last_ts);
		c = NULL;
	}
	if (l4.key.proto == 17) {
		d->st.udp++;
		if (!c && !(c = new_conn(d, node, &l4, ts, &dir)))
			return;
		c->last_ts = ts;
		udp_datagram(d, c, dir, &l4, ts);
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
	struct tv_decoded l4 = {.tcp_flags = TV_TCP_SYN};
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
	attach(c, (struct detection){.proto = proto});
	return c;
}

void tv_dissect_stream_data(struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	c->last_ts = ts;
	if (c->proto)
		deliver(c, dir, p, n, ts);
}

void tv_dissect_stream_gap(struct tv_conn *c, int dir, uint64_t missing, uint64_t ts)
{
	c->last_ts = ts;
	c->d->st.gaps++;
	if (c->proto && c->state && !c->failed[dir] && c->proto->gap)
		c->proto->gap(c->state, c, dir, missing, ts);
}

int tv_dissect_open(struct tv_dissect **out, const struct tv_dissect_opts *o)
{
	struct tv_dissect *d = calloc(1, sizeof(*d) + tv_nprotos * sizeof(void *));
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
	order_probes(d);
	if (d->o.har)
		tv_har_begin(d->writer);
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
	if (d->o.har)
		tv_har_end(d->writer);
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
	for (size_t i = 0; i < tv_nprotos; i++)
		if (d->run[i] && tv_protos[i]->run_close)
			tv_protos[i]->run_close(d->run[i]);
	free(d);
}
