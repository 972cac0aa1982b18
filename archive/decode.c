/* SPDX-License-Identifier: Apache-2.0 */
/* decode: see decode.h. */
#include "archive/decode.h"

#include <netinet/in.h>
#include <string.h>

#include "archive/common/buf.h"

#define LINKTYPE_NULL 0
#define LINKTYPE_ETHERNET 1
#define LINKTYPE_RAW 101
#define LINKTYPE_LOOP 108
#define LINKTYPE_LINUX_SLL 113
#define LINKTYPE_IPV4 228
#define LINKTYPE_IPV6 229
#define LINKTYPE_LINUX_SLL2 276

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86DD
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88A8
#define ETH_QINQ_OLD 0x9100

#define MAX_VLAN_TAGS 4
#define MAX_IPV6_EXT 8

/* The IP layer's view handed to the transport: where the L4 header starts,
 * how much of it was captured, and how long it is on the wire. */
struct ip_span {
	const uint8_t *l4;
	uint32_t captured; /* bytes from l4 to the end of the capture */
	uint32_t avail;    /* of those, the ones inside the IP length (no padding) */
	uint32_t wire;     /* L4 bytes the IP length announces */
	bool lengths_ok;   /* the IP length covers the headers */
};

/* TCP/UDP ports: what the flow key needs (4 bytes of header). */
static bool ports(const struct ip_span *ip, uint8_t proto, struct tv_flow_key *k)
{
	if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP) || ip->captured < 4)
		return false;
	k->proto = proto;
	k->sport = tv_be16(ip->l4);
	k->dport = tv_be16(ip->l4 + 2);
	return true;
}

/* The whole transport header and the payload, within the IP length. */
static void transport(const struct ip_span *ip, struct tv_decoded *o)
{
	const uint8_t *p = ip->l4;
	uint32_t avail = ip->avail;
	if (!ip->lengths_ok)
		return;
	if (o->key.proto == IPPROTO_UDP) {
		if (avail < 8)
			return;
		o->payload = p + 8;
		o->len = avail - 8;
		o->wire_len = ip->wire >= 8 ? ip->wire - 8 : 0;
		o->transport = true;
		return;
	}
	if (avail < 20)
		return;
	uint32_t hlen = (uint32_t)(p[12] >> 4) * 4;
	if (hlen < 20 || hlen > avail)
		return;
	o->seq = tv_be32(p + 4);
	o->ack = tv_be32(p + 8);
	o->tcp_flags = p[13];
	o->payload = p + hlen;
	o->len = avail - hlen;
	o->wire_len = ip->wire >= hlen ? ip->wire - hlen : 0;
	o->transport = true;
}

static bool ipv4(const uint8_t *p, uint32_t n, struct tv_decoded *o)
{
	if (n < 20 || (p[0] >> 4) != 4)
		return false;
	uint32_t ihl = (uint32_t)(p[0] & 15) * 4, total = tv_be16(p + 2);
	if (ihl < 20 || ihl > n)
		return false;
	if (tv_be16(p + 6) & 0x1FFF) /* non-first fragment: no ports */
		return false;
	o->key.family = 4;
	memcpy(o->key.src, p + 12, 4);
	memcpy(o->key.dst, p + 16, 4);
	struct ip_span ip = {.l4 = p + ihl, .captured = n - ihl, .lengths_ok = total >= ihl};
	if (ip.lengths_ok) {
		ip.avail = (total < n ? total : n) - ihl; /* Ethernet padding is not payload */
		ip.wire = total - ihl;
	}
	if (!ports(&ip, p[9], &o->key))
		return false;
	transport(&ip, o);
	return true;
}

static bool ipv6(const uint8_t *p, uint32_t n, struct tv_decoded *o)
{
	if (n < 40 || (p[0] >> 4) != 6)
		return false;
	o->key.family = 6;
	memcpy(o->key.src, p + 8, 16);
	memcpy(o->key.dst, p + 24, 16);
	uint32_t total = 40 + tv_be16(p + 4), off = 40;
	uint8_t next = p[6];
	for (int i = 0; i < MAX_IPV6_EXT; i++) {
		switch (next) {
		case 0:  /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			if (off + 2 > n)
				return false;
			next = p[off];
			off += (uint32_t)(p[off + 1] + 1) * 8;
			break;
		case 44: /* fragment */
			if (off + 8 > n || (tv_be16(p + off + 2) & 0xFFF8))
				return false;
			next = p[off];
			off += 8;
			break;
		case 51: /* authentication header (RFC 4302: length in 4-byte units, minus 2) */
			if (off + 2 > n)
				return false;
			next = p[off];
			off += (uint32_t)(p[off + 1] + 2) * 4;
			break;
		default: {
			if (off > n)
				return false;
			uint32_t end = total < n ? total : n;
			struct ip_span ip = {.l4 = p + off, .captured = n - off, .lengths_ok = off <= total};
			if (ip.lengths_ok) {
				ip.avail = end - off;
				ip.wire = total - off;
			}
			if (!ports(&ip, next, &o->key))
				return false;
			transport(&ip, o);
			return true;
		}
		}
	}
	return false;
}

static bool ip_any(const uint8_t *p, uint32_t n, struct tv_decoded *o)
{
	if (n < 1)
		return false;
	return (p[0] >> 4) == 4 ? ipv4(p, n, o) : ipv6(p, n, o);
}

/* After an ethertype at pkt[at..at+2): VLAN tags, then IPv4 or IPv6. */
static bool ethertype(const uint8_t *pkt, uint32_t caplen, uint32_t at, uint32_t l3, struct tv_decoded *o)
{
	uint16_t type = tv_be16(pkt + at);
	for (int tags = 0; tags < MAX_VLAN_TAGS; tags++) {
		if (type != ETH_VLAN && type != ETH_QINQ && type != ETH_QINQ_OLD)
			break;
		if (caplen - l3 < 4)
			return false;
		if (tags == 0)
			o->key.vlan = tv_be16(pkt + l3) & 0x0FFF;
		type = tv_be16(pkt + l3 + 2);
		l3 += 4;
	}
	o->l3_offset = l3;
	if (type == ETH_IPV4)
		return ipv4(pkt + l3, caplen - l3, o);
	if (type == ETH_IPV6)
		return ipv6(pkt + l3, caplen - l3, o);
	return false;
}

/* BSD loopback: a 4-byte address family, host order (NULL) or network order (LOOP). */
static bool loopback(const uint8_t *p, uint32_t n, bool network_order, struct tv_decoded *o)
{
	if (n < 4)
		return false;
	uint32_t af = network_order ? tv_be32(p) : tv_le32(p);
	if (!network_order && af > 0xFFFF) /* written by a big-endian host */
		af = tv_be32(p);
	o->l3_offset = 4;
	if (af == 2)
		return ipv4(p + 4, n - 4, o);
	if (af == 10 || af == 24 || af == 28 || af == 30) /* AF_INET6 on Linux and the BSDs */
		return ipv6(p + 4, n - 4, o);
	return false;
}

bool tv_decode(uint16_t linktype, const uint8_t *pkt, uint32_t caplen, struct tv_decoded *o)
{
	memset(o, 0, sizeof(*o));
	bool ok = false;
	switch (linktype) {
	case LINKTYPE_ETHERNET: ok = caplen >= 14 && ethertype(pkt, caplen, 12, 14, o); break;
	case LINKTYPE_LINUX_SLL: ok = caplen >= 16 && ethertype(pkt, caplen, 14, 16, o); break;
	case LINKTYPE_LINUX_SLL2: ok = caplen >= 20 && ethertype(pkt, caplen, 0, 20, o); break;
	case LINKTYPE_RAW: ok = ip_any(pkt, caplen, o); break;
	case LINKTYPE_IPV4: ok = ipv4(pkt, caplen, o); break;
	case LINKTYPE_IPV6: ok = ipv6(pkt, caplen, o); break;
	case LINKTYPE_NULL:
	case LINKTYPE_LOOP: ok = loopback(pkt, caplen, linktype == LINKTYPE_LOOP, o); break;
	default: break;
	}
	if (!ok)
		memset(o, 0, sizeof(*o));
	return ok;
}

/* Skips 802.1Q/802.1ad tags after an ethertype at p[0..1]; @return the
 * offset of the payload after the last ethertype, relative to p + 2. */
static uint32_t skip_tags(const uint8_t *p, uint32_t n)
{
	uint32_t off = 0;
	for (int tags = 0; tags < MAX_VLAN_TAGS && off + 2 <= n; tags++) {
		uint16_t type = tv_be16(p + off);
		if (type != ETH_VLAN && type != ETH_QINQ && type != ETH_QINQ_OLD)
			break;
		off += 4;
	}
	return off;
}

uint32_t tv_l3_offset(uint16_t linktype, const uint8_t *pkt, uint32_t caplen)
{
	uint32_t off;
	switch (linktype) {
	case LINKTYPE_ETHERNET:
		if (caplen < 14)
			return 0;
		off = 14 + skip_tags(pkt + 12, caplen - 12);
		break;
	case LINKTYPE_LINUX_SLL:
		if (caplen < 16)
			return 0;
		off = 16 + skip_tags(pkt + 14, caplen - 14);
		break;
	case LINKTYPE_LINUX_SLL2: off = 20; break;
	case LINKTYPE_NULL:
	case LINKTYPE_LOOP: off = 4; break;
	default: return 0;
	}
	return off <= caplen ? off : 0;
}
