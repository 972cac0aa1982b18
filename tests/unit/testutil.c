/* SPDX-License-Identifier: Apache-2.0 */
/* testutil: see testutil.h. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t tu_make_frame(uint8_t *out, uint8_t proto, uint8_t a, uint16_t sport, uint8_t b, uint16_t dport,
		     size_t payload, uint32_t seed)
{
	size_t l4 = proto == 6 ? 20 : 8;
	size_t ip_len = 20 + l4 + payload;
	memset(out, 0, 14 + ip_len);
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
	memcpy(out, macs, 12);
	out[12] = 0x08;
	uint8_t *ip = out + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_len >> 8);
	ip[3] = (uint8_t)ip_len;
	ip[8] = 64;
	ip[9] = proto;
	ip[12] = 10, ip[15] = a;
	ip[16] = 10, ip[19] = b;
	uint8_t *l = ip + 20;
	l[0] = (uint8_t)(sport >> 8), l[1] = (uint8_t)sport;
	l[2] = (uint8_t)(dport >> 8), l[3] = (uint8_t)dport;
	if (proto == 6)
		l[12] = 0x50;
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < payload; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		/* text-like bytes so compression behaves as on HTTP traffic */
		l[l4 + i] = (uint8_t)('a' + (x % 16));
	}
	return 14 + ip_len;
}

const char *tu_tmpdir(void)
{
	static char paths[16][64];
	static int next;
	char *p = paths[next++ % 16];
	snprintf(p, 64, "/tmp/tv-unit.XXXXXX");
	if (!mkdtemp(p))
		abort();
	return p;
}

void tu_rmrf(const char *path)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", path);
}

void tu_writer_opts(struct tv_seg_writer_opts *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->meta.node, sizeof(o->meta.node), "node-a");
	o->meta.seq = 7;
	o->meta.created_ns = 1700000000000000000ULL;
}

void tu_eth_iface(struct tv_iface *ifc)
{
	memset(ifc, 0, sizeof(*ifc));
	snprintf(ifc->name, sizeof(ifc->name), "eth0");
	ifc->linktype = 1;
	ifc->snaplen = 262144;
}
