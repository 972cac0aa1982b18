/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: TCP reassembly of one direction, with an oracle. Every payload
 * byte is a function of its sequence number, so whatever order, overlap,
 * retransmission, ACK or cap the input makes up, each delivered byte must be
 * the one for its stream position, positions advance by exactly what was
 * delivered or reported missing, and every byte of budget comes back.
 *
 * Input: 4 bytes of initial sequence number (so streams cross the wrap),
 * then 6-byte records: flags (decode.h bits; 0x40: an ACK from the peer instead
 * of a segment; 0x80: a second passes first), a 16-bit sequence offset from
 * the ISN, a 16-bit ACK offset, and the payload length. */
#include <stdlib.h>
#include <string.h>

#include "archive/decode.h"
#include "dissector/dissect/tcp_reasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t byte_at(uint32_t seq)
{
	return (uint8_t)(seq * 2654435761u >> 24);
}

struct oracle {
	bool started;
	uint32_t pos; /* sequence number of the next byte the sink expects */
	uint64_t delivered, missing;
};

static void on_data(void *ctx, const uint8_t *p, size_t n, uint64_t ts)
{
	(void)ts;
	struct oracle *o = ctx;
	for (size_t i = 0; i < n; i++)
		if (p[i] != byte_at(o->pos + (uint32_t)i))
			abort(); /* a byte delivered at the wrong stream position */
	o->pos += (uint32_t)n;
	o->delivered += n;
}

static void on_gap(void *ctx, uint64_t missing, uint64_t ts)
{
	(void)ts;
	struct oracle *o = ctx;
	o->pos += (uint32_t)missing;
	o->missing += missing;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	uint32_t isn = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
	struct tv_reasm_dir d = {0};
	struct tv_reasm_budget b = {.cap = 8192, .stream_cap = 2048};
	struct oracle o = {0};
	struct tv_reasm_sink sink = {on_data, on_gap, &o};
	uint8_t payload[256];
	uint64_t ts = 1;
	for (size_t off = 4; off + 6 <= size; off += 6) {
		const uint8_t *r = data + off;
		uint8_t flags = r[0] & 0x3f;
		uint32_t seq = isn + (uint32_t)(r[1] << 8 | r[2]);
		uint32_t ack = isn + (uint32_t)(r[3] << 8 | r[4]);
		size_t n = r[5];
		ts += (r[0] & 0x80) ? 1000000000ULL : 1000;
		if (r[0] & 0x40) {
			tv_reasm_acked(&d, &b, ack, ts, &sink);
			continue;
		}
		if (!d.started) {
			/* where the stream starts: after the SYN, or at the first segment */
			o.pos = (flags & TV_TCP_SYN) ? seq + 1 : seq;
		}
		uint32_t first = (flags & TV_TCP_SYN) ? seq + 1 : seq;
		for (size_t i = 0; i < n; i++)
			payload[i] = byte_at(first + (uint32_t)i);
		tv_reasm_add(&d, &b, flags, seq, payload, n, ts, &sink);
		if (b.used > b.cap || d.waiting_bytes > b.stream_cap)
			abort(); /* over a cap */
	}
	tv_reasm_flush(&d, &b, ts, &sink);
	if (d.waiting || d.waiting_bytes || b.used)
		abort(); /* memory not given back */
	if (o.delivered != d.delivered || o.missing != d.gap_bytes)
		abort(); /* the counters disagree with what the sink saw */
	tv_reasm_free(&d, &b);
	return 0;
}
