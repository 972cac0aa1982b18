/* SPDX-License-Identifier: Apache-2.0 */
/* dns: DNS over UDP (a message per datagram) and TCP (2-byte length
 * prefix). A query is paired with the response of the same id on the same
 * flow (the pairing queue, keyed by id: a response captured before its query
 * waits for it); queries left unanswered are emitted as failed when the flow
 * ends. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/buf.h"
#include "archive/common/sha256.h" /* tv_base64 */
#include "dissector/proto/pairq.h"
#include "dissector/proto/proto.h"

#define MAX_PENDING 256
#define TCP_MSG_MAX 65535

/* A query or a response, waiting in the pairing queue. */
struct dns_msg {
	json_t *j;
	uint64_t ts;
	size_t size;
};

struct dns_state {
	struct tv_conn *c;
	struct tv_pairq q;       /* by id */
	struct tv_buf stream[2]; /* TCP: bytes of a message not yet whole */
	bool tcp;
};

static const char *const rcodes[] = {"NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
				     "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE"};

static const char *type_name(uint16_t t, char *buf, size_t n)
{
	switch (t) {
	case 1: return "A";
	case 2: return "NS";
	case 5: return "CNAME";
	case 6: return "SOA";
	case 12: return "PTR";
	case 15: return "MX";
	case 16: return "TXT";
	case 28: return "AAAA";
	case 33: return "SRV";
	case 41: return "OPT";
	case 65: return "HTTPS";
	case 255: return "ANY";
	default: snprintf(buf, n, "TYPE%u", t); return buf;
	}
}

/* Reads a (possibly compressed) name at *off into out. @return false on a
 * malformed name (loops are bounded by a jump count). */
static bool read_name(const uint8_t *m, size_t n, size_t *off, char *out, size_t outn)
{
	size_t pos = *off, len = 0;
	bool jumped = false;
	int jumps = 0;
	out[0] = '\0';
	for (;;) {
		if (pos >= n)
			return false;
		uint8_t l = m[pos];
		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= n || ++jumps > 16)
				return false;
			if (!jumped)
				*off = pos + 2;
			jumped = true;
			pos = (size_t)(l & 0x3f) << 8 | m[pos + 1];
			continue;
		}
		if (l & 0xc0)
			return false;
		pos++;
		if (l == 0)
			break;
		if (pos + l > n || len + l + 2 > outn)
			return false;
		if (len)
			out[len++] = '.';
		for (uint8_t i = 0; i < l; i++) {
			char ch = (char)m[pos + i];
			out[len++] = ch >= 0x21 && ch < 0x7f ? ch : '?';
		}
		out[len] = '\0';
		pos += l;
	}
	if (!jumped)
		*off = pos;
	if (!len)
		snprintf(out, outn, ".");
	return true;
}

static json_t *rdata_json(const uint8_t *m, size_t n, size_t off, uint16_t type, uint16_t rdlen)
{
	char buf[1024];
	if (type == 1 && rdlen == 4)
		return json_string(inet_ntop(AF_INET, m + off, buf, sizeof(buf)));
	if (type == 28 && rdlen == 16)
		return json_string(inet_ntop(AF_INET6, m + off, buf, sizeof(buf)));
	size_t o = off;
	if ((type == 5 || type == 2 || type == 12) && read_name(m, n, &o, buf, sizeof(buf)))
		return json_string(buf);
	if (type == 15 && rdlen > 2) {
		o = off + 2;
		char name[512];
		if (read_name(m, n, &o, name, sizeof(name))) {
			snprintf(buf, sizeof(buf), "%u %s", tv_be16(m + off), name);
			return json_string(buf);
		}
	}
	if (type == 16 && rdlen >= 1) {
		size_t l = m[off] < rdlen - 1 ? m[off] : rdlen - 1u;
		return json_stringn((const char *)m + off + 1, l);
	}
	char *b64 = tv_base64(m + off, rdlen);
	json_t *j = json_pack("{s:s}", "base64", b64 ? b64 : "");
	free(b64);
	return j;
}

/* One DNS message as JSON. @return NULL when it is not DNS. */
static json_t *parse_message(const uint8_t *m, size_t n, bool *response, uint16_t *id)
{
	if (n < 12)
		return NULL;
	*id = tv_be16(m);
	uint16_t flags = tv_be16(m + 2), qd = tv_be16(m + 4), an = tv_be16(m + 6);
	*response = flags & 0x8000;
	if (((flags >> 11) & 15) > 2 || qd == 0 || qd > 8)
		return NULL; /* opcode QUERY/IQUERY/STATUS with a question, as real traffic has */
	size_t off = 12;
	json_t *questions = json_array(), *answers = json_array();
	char name[512], tb[16];
	for (uint16_t i = 0; i < qd; i++) {
		if (!read_name(m, n, &off, name, sizeof(name)) || off + 4 > n)
			goto bad;
		json_array_append_new(questions, json_pack("{s:s, s:s}", "name", name, "type",
							   type_name(tv_be16(m + off), tb, sizeof(tb))));
		off += 4;
	}
	for (uint16_t i = 0; i < an && *response; i++) {
		if (!read_name(m, n, &off, name, sizeof(name)) || off + 10 > n)
			break; /* a truncated answer section keeps what parsed */
		uint16_t type = tv_be16(m + off), rdlen = tv_be16(m + off + 8);
		uint32_t ttl = tv_be32(m + off + 4);
		off += 10;
		if (off + rdlen > n)
			break;
		json_array_append_new(answers,
				      json_pack("{s:s, s:s, s:I, s:o}", "name", name, "type",
						type_name(type, tb, sizeof(tb)), "ttl", (json_int_t)ttl,
						"data", rdata_json(m, n, off, type, rdlen)));
		off += rdlen;
	}
	json_t *j = json_pack("{s:i, s:o}", "id", *id, "questions", questions);
	if (*response) {
		unsigned rc = flags & 15;
		char rcb[16];
		snprintf(rcb, sizeof(rcb), "RCODE%u", rc);
		json_object_set_new(j, "rcode",
				    json_string(rc < sizeof(rcodes) / sizeof(*rcodes) ? rcodes[rc] : rcb));
		json_object_set_new(j, "answers", answers);
		json_object_set_new(j, "truncated", json_boolean(flags & 0x0200));
		json_object_set_new(j, "authoritative", json_boolean(flags & 0x0400));
	} else {
		json_decref(answers);
		json_object_set_new(j, "recursionDesired", json_boolean(flags & 0x0100));
	}
	return j;
bad:
	json_decref(questions);
	json_decref(answers);
	return NULL;
}

static void emit(void *ctx, void *req, void *resp, enum tv_pair_why why)
{
	struct dns_state *s = ctx;
	struct dns_msg *q = req, *r = resp;
	struct tv_entry e = {
		.proto = "dns",
		.version = s->tcp ? "tcp" : "udp",
		.request = q ? q->j : NULL,
		.response = r ? r->j : NULL,
		.request_ts = q ? q->ts : 0,
		.response_ts = r ? r->ts : 0,
		.request_size = q ? q->size : 0,
		.response_size = r ? r->size : 0,
	};
	(void)why;
	if (!q)
		e.error = "response without a query";
	else if (!r)
		e.error = "no response";
	else if (strcmp(json_string_value(json_object_get(r->j, "rcode")), "NOERROR") != 0)
		e.failed = true;
	tv_conn_emit(s->c, &e);
	free(q);
	free(r);
}

static void message(struct dns_state *s, const uint8_t *p, size_t n, uint64_t ts)
{
	bool response;
	uint16_t id;
	json_t *j = parse_message(p, n, &response, &id);
	if (!j)
		return;
	struct dns_msg *m = malloc(sizeof(*m));
	if (!m) {
		json_decref(j);
		return;
	}
	*m = (struct dns_msg){j, ts, n};
	if (response)
		tv_pairq_response(&s->q, id, m);
	else
		tv_pairq_request(&s->q, id, m);
}

static void *dns_open(struct tv_conn *c, void *run)
{
	(void)run;
	struct dns_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->c = c;
	s->tcp = !tv_conn_udp(c);
	tv_pairq_init(&s->q, TV_PAIRQ_KEY, MAX_PENDING, emit, s);
	tv_buf_init(&s->stream[0], TCP_MSG_MAX + 2);
	tv_buf_init(&s->stream[1], TCP_MSG_MAX + 2);
	return s;
}

/* TCP: 2-byte length prefixes, a message reassembled across deliveries. */
static void tcp_data(struct dns_state *s, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	struct tv_buf *b = &s->stream[dir];
	while (n) {
		size_t need = b->len < 2 ? 2 - b->len : 2 + tv_be16(b->data) - b->len;
		size_t take = n < need ? n : need;
		tv_buf_append(b, p, take);
		p += take;
		n -= take;
		if (b->len >= 2 && b->len == 2u + tv_be16(b->data)) {
			message(s, b->data + 2, b->len - 2, ts);
			tv_buf_reset(b);
		}
	}
}

static enum tv_parse dns_data(void *st, struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	(void)c;
	struct dns_state *s = st;
	if (!s->tcp) {
		message(s, p, n, ts); /* one datagram, one message */
		return TV_PARSE_OK;
	}
	tcp_data(s, dir, p, n, ts);
	return s->stream[dir].len ? TV_PARSE_NEED_MORE : TV_PARSE_OK;
}

static void dns_gap(void *st, struct tv_conn *c, int dir, uint64_t missing, uint64_t ts)
{
	(void)c, (void)missing, (void)ts;
	struct dns_state *s = st;
	if (s->tcp)
		tv_buf_reset(&s->stream[dir]); /* framing is lost until the next message boundary */
}

static void dns_close(void *st, struct tv_conn *c, uint64_t ts)
{
	(void)c, (void)ts;
	struct dns_state *s = st;
	tv_pairq_flush(&s->q);
	tv_pairq_cleanup(&s->q);
	tv_buf_cleanup(&s->stream[0]);
	tv_buf_cleanup(&s->stream[1]);
	free(s);
}

/* A header a DNS query or response could have: opcode QUERY, IQUERY or
 * STATUS with 1..8 questions, as real traffic has. */
static bool plausible_header(const uint8_t *m)
{
	uint16_t flags = tv_be16(m + 2), qd = tv_be16(m + 4);
	return ((flags >> 11) & 15) <= 2 && qd >= 1 && qd <= 8;
}

/* The first message from side dir: a query from the client, a response from
 * the server, parsed whole. Over TCP it is preceded by its length. */
static enum tv_probe dns_probe(unsigned l4, int dir, const uint8_t *p, size_t n)
{
	size_t off = l4 == TV_L4_TCP ? 2 : 0;
	if (n < off + 12)
		return l4 == TV_L4_TCP && (n < off || n < 2 || tv_be16(p) >= 12) ? TV_PROBE_NEED_MORE
										 : TV_PROBE_NO;
	size_t len = l4 == TV_L4_TCP ? tv_be16(p) : n;
	if (len < 12 || !plausible_header(p + off))
		return TV_PROBE_NO;
	if (len > n - off)
		return TV_PROBE_NEED_MORE; /* the whole first message decides */
	bool response;
	uint16_t id;
	json_t *j = parse_message(p + off, len, &response, &id);
	bool ok = j != NULL && response == (dir == 1);
	json_decref(j);
	return ok ? TV_PROBE_YES : TV_PROBE_NO;
}

static const uint16_t dns_ports[] = {53, 5353, 0};

const struct tv_proto tv_proto_dns = {
	.name = "dns",
	.l4 = TV_L4_TCP | TV_L4_UDP,
	.ports = dns_ports,
	.probe = dns_probe,
	.open = dns_open,
	.data = dns_data,
	.gap = dns_gap,
	.close = dns_close,
};
