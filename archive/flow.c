/* SPDX-License-Identifier: Apache-2.0 */
/* flow: see flow.h. Packets are decoded by decode.c. */
#include "archive/flow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/decode.h"

bool tv_flow_key_parse(uint16_t linktype, const uint8_t *pkt, uint32_t caplen, struct tv_flow_key *k)
{
	struct tv_decoded d;
	bool ok = tv_decode(linktype, pkt, caplen, &d);
	*k = d.key;
	return ok;
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
	/* A full avalanche at the end (splitmix64's finaliser): the ports sit
	 * in the high half of the last word, and a multiply carries bits only
	 * upward, so without it the low bits that pick a table slot barely
	 * depend on them -- a client's sequential ports then fell into one
	 * probe cluster (10,000 extra probes per insert at 20,000 flows). */
	h ^= h >> 30;
	h *= 0xBF58476D1CE4E5B9ULL;
	h ^= h >> 27;
	h *= 0x94D049BB133111EBULL;
	return h ^ (h >> 31);
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
