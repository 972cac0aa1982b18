/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the dissector end to end (reassembly, detection, HTTP/1, DNS,
 * Redis). The input is a script of segments on one TCP connection plus UDP
 * datagrams, each record: kind/direction byte, flags byte, 16-bit sequence
 * offset, length byte, then that many payload bytes. Packets are built as raw
 * IPv4 so every record reaches the protocol parsers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissector/dissect/dissect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t build(uint8_t *pkt, int udp, int dir, uint8_t flags, uint32_t seq, const uint8_t *p, size_t n)
{
	size_t l4 = udp ? 8 : 20, total = 20 + l4 + n;
	memset(pkt, 0, 20 + l4);
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)(total >> 8);
	pkt[3] = (uint8_t)total;
	pkt[8] = 64;
	pkt[9] = udp ? 17 : 6;
	uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
	memcpy(pkt + 12, dir ? b : a, 4);
	memcpy(pkt + 16, dir ? a : b, 4);
	uint16_t sport = dir ? 80 : 40000, dport = dir ? 40000 : 80;
	uint8_t *t = pkt + 20;
	t[0] = (uint8_t)(sport >> 8), t[1] = (uint8_t)sport, t[2] = (uint8_t)(dport >> 8),
	t[3] = (uint8_t)dport;
	if (udp) {
		t[4] = (uint8_t)((8 + n) >> 8), t[5] = (uint8_t)(8 + n);
	} else {
		t[4] = (uint8_t)(seq >> 24), t[5] = (uint8_t)(seq >> 16), t[6] = (uint8_t)(seq >> 8),
		t[7] = (uint8_t)seq;
		t[12] = 5 << 4;
		t[13] = flags;
	}
	memcpy(pkt + 20 + l4, p, n);
	return total;
}

/* A dissector with small caps (so the fuzzer reaches them), writing to /dev/null. */
static struct tv_dissect *small_dissector(void)
{
	static FILE *sink;
	if (!sink)
		sink = fopen("/dev/null", "w");
	struct tv_dissect_opts o = {.out = sink, .stream_cap = 4096, .total_cap = 65536, .body_cap = 4096};
	struct tv_dissect *d;
	return tv_dissect_open(&d, &o) ? NULL : d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tv_dissect *d = small_dissector();
	if (!d)
		return 0;
	uint8_t pkt[20 + 20 + 256];
	uint32_t base[2] = {1000, 50000};
	uint64_t ts = 1;
	size_t off = 0;
	while (off + 5 <= size) {
		uint8_t kind = data[off], flags = data[off + 1];
		uint32_t seq = base[kind & 1] + ((uint32_t)data[off + 2] << 8 | data[off + 3]);
		size_t n = data[off + 4];
		off += 5;
		if (n > size - off)
			n = size - off;
		size_t len = build(pkt, kind & 2, kind & 1, flags, seq, data + off, n);
		off += n;
		tv_dissect_packet(d, "fuzz", 101 /* raw IP */, ts, pkt, (uint32_t)len);
		ts += (kind & 4) ? 200000000000ULL : 1000; /* now and then past the idle timeout */
	}
	tv_dissect_finish(d);
	struct tv_dissect_stats st;
	tv_dissect_stats(d, &st);
	/* every packet is counted once, as TCP, UDP or other */
	if (st.packets != st.tcp + st.udp + st.other || st.connections > st.tcp + st.udp)
		abort();
	tv_dissect_free(d);
	return 0;
}
