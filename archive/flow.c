/* SPDX-License-Identifier: Apache-2.0 */
/* flow: see flow.h. */
#include "archive/flow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
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

static bool parse_l4(const uint8_t *p, uint32_t n, uint8_t proto, struct tv_flow_key *k)
{
	if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP) || n < 4)
		return false;
	k->proto = proto;
	k->sport = tv_be16(p);
	k->dport = tv_be16(p + 2);
	return true;
}

static bool parse_ipv4(const uint8_t *p, uint32_t n, struct tv_flow_key *k)
{
	if (n < 20 || (p[0] >> 4) != 4)
		return false;
	uint32_t ihl = (uint32_t)(p[0] & 15) * 4;
	if (ihl < 20 || ihl > n)
		return false;
	if (tv_be16(p + 6) & 0x1FFF) /* non-first fragment: no ports */
		return false;
	k->family = 4;
	memcpy(k->src, p + 12, 4);
	memcpy(k->dst, p + 16, 4);
	return parse_l4(p + ihl, n - ihl, p[9], k);
}

static bool parse_ipv6(const uint8_t *p, uint32_t n, struct tv_flow_key *k)
{
	if (n < 40 || (p[0] >> 4) != 6)
		return false;
	k->family = 6;
	memcpy(k->src, p + 8, 16);
	memcpy(k->dst, p + 24, 16);
	uint8_t next = p[6];
	uint32_t off = 40;
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
		case 51: /* authentication header */
			if (off + 2 > n)
				return false;
			next = p[off];
			off += (uint32_t)(p[off + 1] + 2) * 4;
			break;
		default:
			if (off > n)
				return false;
			return parse_l4(p + off, n - off, next, k);
		}
	}
	return false;
}

static bool parse_ethertype(uint16_t type, const uint8_t *p, uint32_t n, struct tv_flow_key *k)
{
	for (int tags = 0; tags < MAX_VLAN_TAGS; tags++) {
		if (type != ETH_VLAN && type != ETH_QINQ && type != ETH_QINQ_OLD)
			break;
		if (n < 4)
			return false;
		if (tags == 0)
			k->vlan = tv_be16(p) & 0x0FFF;
		type = tv_be16(p + 2);
		p += 4;
		n -= 4;
	}
	if (type == ETH_IPV4)
		return parse_ipv4(p, n, k);
	if (type == ETH_IPV6)
		return parse_ipv6(p, n, k);
	return false;
}

static bool parse_ip_any(const uint8_t *p, uint32_t n, struct tv_flow_key *k)
{
	if (n < 1)
		return false;
	return (p[0] >> 4) == 4 ? parse_ipv4(p, n, k) : parse_ipv6(p, n, k);
}

/* BSD loopback: a 4-byte address family, host order (NULL) or network order (LOOP). */
static bool parse_loop(const uint8_t *p, uint32_t n, bool network_order, struct tv_flow_key *k)
{
	if (n < 4)
		return false;
	uint32_t af = network_order ? tv_be32(p) : tv_le32(p);
	if (!network_order && af > 0xFFFF) /* written by a big-endian host */
		af = tv_be32(p);
	if (af == 2)
		return parse_ipv4(p + 4, n - 4, k);
	if (af == 10 || af == 24 || af == 28 || af == 30) /* AF_INET6 on Linux and the BSDs */
		return parse_ipv6(p + 4, n - 4, k);
	return false;
}

bool tv_flow_key_parse(uint16_t linktype, const uint8_t *pkt, uint32_t caplen, struct tv_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	bool ok = false;
	switch (linktype) {
	case LINKTYPE_ETHERNET:
		ok = caplen >= 14 && parse_ethertype(tv_be16(pkt + 12), pkt + 14, caplen - 14, k);
		break;
	case LINKTYPE_LINUX_SLL:
		ok = caplen >= 16 && parse_ethertype(tv_be16(pkt + 14), pkt + 16, caplen - 16, k);
		break;
	case LINKTYPE_LINUX_SLL2:
		ok = caplen >= 20 && parse_ethertype(tv_be16(pkt), pkt + 20, caplen - 20, k);
		break;
	case LINKTYPE_RAW: ok = parse_ip_any(pkt, caplen, k); break;
	case LINKTYPE_IPV4: ok = parse_ipv4(pkt, caplen, k); break;
	case LINKTYPE_IPV6: ok = parse_ipv6(pkt, caplen, k); break;
	case LINKTYPE_NULL:
	case LINKTYPE_LOOP: ok = parse_loop(pkt, caplen, linktype == LINKTYPE_LOOP, k); break;
	default: break;
	}
	if (!ok)
		memset(k, 0, sizeof(*k));
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

static int endpoint_cmp(const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp)
{
	int c = memcmp(a, b, 16);
	if (c)
		return c;
	return (ap > bp) - (ap < bp);
}

void tv_flow_key_canonical(const struct tv_flow_key *k, struct tv_flow_key *out)
{
	*out = *k;
	if (endpoint_cmp(k->src, k->sport, k->dst, k->dport) > 0) {
		memcpy(out->src, k->dst, 16);
		memcpy(out->dst, k->src, 16);
		out->sport = k->dport;
		out->dport = k->sport;
	}
}

bool tv_flow_key_same_conversation(const struct tv_flow_key *a, const struct tv_flow_key *b)
{
	struct tv_flow_key ca, cb;
	tv_flow_key_canonical(a, &ca);
	tv_flow_key_canonical(b, &cb);
	return memcmp(&ca, &cb, sizeof(ca)) == 0;
}

uint64_t tv_flow_key_hash(const struct tv_flow_key *k)
{
	_Static_assert(sizeof(struct tv_flow_key) == 40, "flow key must be unpadded");
	uint64_t w[5], h = 0x9E3779B97F4A7C15ULL;
	memcpy(w, k, sizeof(w));
	for (int i = 0; i < 5; i++) {
		h ^= w[i];
		h *= 0xBF58476D1CE4E5B9ULL;
		h ^= h >> 31;
	}
	return h;
}

static void format_endpoint(const struct tv_flow_key *k, const uint8_t *addr, uint16_t port, char *out,
			    size_t n)
{
	char ip[INET6_ADDRSTRLEN];
	inet_ntop(k->family == 6 ? AF_INET6 : AF_INET, addr, ip, sizeof(ip));
	snprintf(out, n, k->family == 6 ? "[%s]:%u" : "%s:%u", ip, port);
}

void tv_flow_key_format(const struct tv_flow_key *k, char *out, size_t n)
{
	if (k->family == TV_FLOW_OTHER) {
		snprintf(out, n, "other");
		return;
	}
	char s[64], d[64];
	format_endpoint(k, k->src, k->sport, s, sizeof(s));
	format_endpoint(k, k->dst, k->dport, d, sizeof(d));
	int m = snprintf(out, n, "%s %s > %s", k->proto == IPPROTO_TCP ? "tcp" : "udp", s, d);
	if (k->vlan && m > 0 && (size_t)m < n)
		snprintf(out + m, n - (size_t)m, " vlan %u", k->vlan);
}

static int parse_endpoint(const char *s, struct tv_flow_key *k, uint8_t *addr, uint16_t *port)
{
	char host[64];
	const char *colon;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		colon = close + 1;
		k->family = 6;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		k->family = 4;
	}
	char *end;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (*end || p > 65535 || end == colon + 1)
		return -EINVAL;
	*port = (uint16_t)p;
	return inet_pton(k->family == 6 ? AF_INET6 : AF_INET, host, addr) == 1 ? 0 : -EINVAL;
}

int tv_flow_key_from_string(const char *s, struct tv_flow_key *k)
{
	char proto[8], src[80], gt[4], dst[80], vl[8];
	unsigned vlan = 0;
	memset(k, 0, sizeof(*k));
	int n = sscanf(s, "%7s %79s %3s %79s %7s %u", proto, src, gt, dst, vl, &vlan);
	if (n != 4 && !(n == 6 && strcmp(vl, "vlan") == 0 && vlan < 4096))
		return -EINVAL;
	if (strcmp(gt, ">") != 0)
		return -EINVAL;
	if (strcmp(proto, "tcp") == 0)
		k->proto = IPPROTO_TCP;
	else if (strcmp(proto, "udp") == 0)
		k->proto = IPPROTO_UDP;
	else
		return -EINVAL;
	uint8_t fam;
	if (parse_endpoint(src, k, k->src, &k->sport))
		return -EINVAL;
	fam = k->family;
	if (parse_endpoint(dst, k, k->dst, &k->dport) || k->family != fam)
		return -EINVAL;
	k->vlan = (uint16_t)vlan;
	return 0;
}
