/* SPDX-License-Identifier: Apache-2.0 */
/* l4: see l4.h. The link layer is skipped with archive/flow.c's
 * tv_l3_offset, so both agree on what a packet is. */
#include "dissector/l4.h"

#include <string.h>

#include "archive/common/buf.h"

static bool parse_transport(const uint8_t *p, uint32_t avail, uint32_t wire, uint8_t proto, struct tv_l4 *o)
{
	o->key.proto = proto;
	if (proto == 17) {
		if (avail < 8)
			return false;
		o->key.sport = tv_be16(p);
		o->key.dport = tv_be16(p + 2);
		o->payload = p + 8;
		o->len = avail - 8;
		o->wire_len = wire >= 8 ? wire - 8 : 0;
		return true;
	}
	if (proto != 6 || avail < 20)
		return false;
	uint32_t hlen = (uint32_t)(p[12] >> 4) * 4;
	if (hlen < 20 || hlen > avail)
		return false;
	o->key.sport = tv_be16(p);
	o->key.dport = tv_be16(p + 2);
	o->seq = tv_be32(p + 4);
	o->ack = tv_be32(p + 8);
	o->tcp_flags = p[13];
	o->payload = p + hlen;
	o->len = avail - hlen;
	o->wire_len = wire >= hlen ? wire - hlen : 0;
	return true;
}

static bool parse_v4(const uint8_t *p, uint32_t n, struct tv_l4 *o)
{
	if (n < 20 || (p[0] >> 4) != 4)
		return false;
	uint32_t ihl = (uint32_t)(p[0] & 15) * 4, total = tv_be16(p + 2);
	if (ihl < 20 || ihl > n || total < ihl)
		return false;
	if ((tv_be16(p + 6) & 0x1fff) != 0)
		return false; /* not the first fragment */
	o->key.family = 4;
	memcpy(o->key.src, p + 12, 4);
	memcpy(o->key.dst, p + 16, 4);
	uint32_t avail = (total < n ? total : n) - ihl; /* Ethernet padding is not payload */
	return parse_transport(p + ihl, avail, total - ihl, p[9], o);
}

static bool parse_v6(const uint8_t *p, uint32_t n, struct tv_l4 *o)
{
	if (n < 40 || (p[0] >> 4) != 6)
		return false;
	uint32_t total = 40 + tv_be16(p + 4), off = 40;
	uint8_t next = p[6];
	o->key.family = 6;
	memcpy(o->key.src, p + 8, 16);
	memcpy(o->key.dst, p + 24, 16);
	for (int i = 0; i < 8 && (next == 0 || next == 43 || next == 60 || next == 44); i++) {
		if (off + 8 > n)
			return false;
		if (next == 44 && (tv_be16(p + off + 2) & 0xfff8) != 0)
			return false; /* not the first fragment */
		uint32_t len = next == 44 ? 8 : ((uint32_t)p[off + 1] + 1) * 8;
		next = p[off];
		off += len;
	}
	if (off > n || off > total)
		return false;
	uint32_t end = total < n ? total : n;
	return parse_transport(p + off, end - off, total - off, next, o);
}

bool tv_l4_parse(uint16_t linktype, const uint8_t *pkt, uint32_t caplen, struct tv_l4 *out)
{
	memset(out, 0, sizeof(*out));
	struct tv_flow_key k;
	if (!tv_flow_key_parse(linktype, pkt, caplen, &k) || k.family == TV_FLOW_OTHER)
		return false;
	uint32_t off = tv_l3_offset(linktype, pkt, caplen);
	if (off >= caplen)
		return false;
	out->key.vlan = k.vlan;
	const uint8_t *p = pkt + off;
	uint32_t n = caplen - off;
	return k.family == 4 ? parse_v4(p, n, out) : parse_v6(p, n, out);
}
