/* SPDX-License-Identifier: Apache-2.0 */
/* proto_dns: DNS over UDP (a message per datagram) and TCP (2-byte length
 * prefix). A query is paired with the response of the same id on the same
 * flow; queries left unanswered are emitted as failed when the flow ends. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/buf.h"
#include "dissector/dissect.h"

#define MAX_PENDING 256
#define TCP_MSG_MAX 65535

struct dns_pending {
	uint16_t id;
	json_t *request;
	uint64_t ts;
	size_t size;
};

struct dns_state {
	struct dns_pending pending[MAX_PENDING];
	size_t n;
	/* responses delivered before their queries (captured out of order, or
	 * merged from two nodes' clocks): a later query with the id takes one */
	struct dns_pending early[MAX_PENDING];
	size_t nearly;
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

static void emit(struct tv_conn *c, struct dns_state *s, struct dns_pending *q, json_t *resp, uint64_t ts,
		 size_t size)
{
	struct tv_entry e = {
		.proto = "dns",
		.version = s->tcp ? "tcp" : "udp",
		.request = q ? q->request : NULL,
		.response = resp,
		.request_ts = q ? q->ts : 0,
		.response_ts = resp ? ts : 0,
		.request_size = q ? q->size : 0,
		.response_size = resp ? size : 0,
	};
	if (!q)
		e.error = "response without a query";
	else if (!resp)
		e.error = "no response";
	else if (strcmp(json_string_value(json_object_get(resp, "rcode")), "NOERROR") != 0)
		e.failed = true;
	tv_dissect_emit(c, &e);
}

static void message(struct dns_state *s, struct tv_conn *c, const uint8_t *p, size_t n, uint64_t ts)
{
	bool response;
	uint16_t id;
	json_t *j = parse_message(p, n, &response, &id);
	if (!j)
		return;
	if (!response) {
		for (size_t i = 0; i < s->nearly; i++) {
			if (s->early[i].id == id) {
				struct dns_pending q = {id, j, ts, n}, r = s->early[i];
				memmove(&s->early[i], &s->early[i + 1],
					(s->nearly - i - 1) * sizeof(s->early[0]));
				s->nearly--;
				emit(c, s, &q, r.request, r.ts, r.size);
				return;
			}
		}
		if (s->n == MAX_PENDING) { /* never answered: out with the oldest */
			emit(c, s, &s->pending[0], NULL, 0, 0);
			memmove(&s->pending[0], &s->pending[1], (MAX_PENDING - 1) * sizeof(s->pending[0]));
			s->n--;
		}
		s->pending[s->n++] = (struct dns_pending){id, j, ts, n};
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (s->pending[i].id == id) {
			emit(c, s, &s->pending[i], j, ts, n);
			memmove(&s->pending[i], &s->pending[i + 1], (s->n - i - 1) * sizeof(s->pending[0]));
			s->n--;
			return;
		}
	}
	if (s->nearly == MAX_PENDING) { /* never asked: out with the oldest */
		emit(c, s, NULL, s->early[0].request, s->early[0].ts, s->early[0].size);
		memmove(&s->early[0], &s->early[1], (MAX_PENDING - 1) * sizeof(s->early[0]));
		s->nearly--;
	}
	s->early[s->nearly++] = (struct dns_pending){id, j, ts, n}; /* request holds the response */
}

static void *dns_open_udp(struct tv_conn *c)
{
	(void)c;
	return calloc(1, sizeof(struct dns_state));
}

static void *dns_open_tcp(struct tv_conn *c)
{
	struct dns_state *s = dns_open_udp(c);
	if (s) {
		s->tcp = true;
		tv_buf_init(&s->stream[0], TCP_MSG_MAX + 2);
		tv_buf_init(&s->stream[1], TCP_MSG_MAX + 2);
	}
	return s;
}

static void dns_udp_data(void *st, struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	(void)dir;
	if (st)
		message(st, c, p, n, ts);
}

static void dns_tcp_data(void *st, struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	struct dns_state *s = st;
	if (!s)
		return;
	struct tv_buf *b = &s->stream[dir];
	while (n) {
		size_t need = b->len < 2 ? 2 - b->len : 2 + tv_be16(b->data) - b->len;
		size_t take = n < need ? n : need;
		tv_buf_append(b, p, take);
		p += take;
		n -= take;
		if (b->len >= 2 && b->len == 2u + tv_be16(b->data)) {
			message(s, c, b->data + 2, b->len - 2, ts);
			tv_buf_reset(b);
		}
	}
}

static void dns_gap(void *st, struct tv_conn *c, int dir, uint64_t missing, uint64_t ts)
{
	(void)c, (void)missing, (void)ts;
	struct dns_state *s = st;
	if (s && s->tcp)
		tv_buf_reset(&s->stream[dir]); /* framing is lost until the next message boundary */
}

static void dns_close(void *st, struct tv_conn *c, uint64_t ts)
{
	(void)ts;
	struct dns_state *s = st;
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		emit(c, s, &s->pending[i], NULL, 0, 0);
	for (size_t i = 0; i < s->nearly; i++)
		emit(c, s, NULL, s->early[i].request, s->early[i].ts, s->early[i].size);
	if (s->tcp) {
		tv_buf_cleanup(&s->stream[0]);
		tv_buf_cleanup(&s->stream[1]);
	}
	free(s);
}

bool tv_dns_tcp_detect(int dir, const uint8_t *p, size_t n)
{
	if (n < 14)
		return false;
	size_t len = tv_be16(p);
	bool response, want_response = dir == 1;
	uint16_t id;
	if (len < 12 || len > n - 2)
		return false; /* detection needs the whole first message */
	json_t *j = parse_message(p + 2, len, &response, &id);
	bool ok = j != NULL && response == want_response;
	json_decref(j);
	return ok;
}

const struct tv_proto tv_proto_dns_udp = {"dns", dns_open_udp, dns_udp_data, NULL, dns_close};
const struct tv_proto tv_proto_dns_tcp = {"dns", dns_open_tcp, dns_tcp_data, dns_gap, dns_close};
