/* SPDX-License-Identifier: Apache-2.0 */
/* The shared body of the per-parser fuzz targets: the input is a script of
 * what each direction of one connection delivered, fed straight to one
 * protocol parser (no packets, no reassembly, no detection). Each record:
 * a control byte (bit 0: direction, bit 1: a gap instead of bytes, bit 2: a
 * second passes before it), a 16-bit big-endian length, then that many bytes
 * (none for a gap). For UDP parsers each record is one datagram. */
#ifndef TV_FUZZ_STREAM_DRIVER_H
#define TV_FUZZ_STREAM_DRIVER_H

#include <stdio.h>

#include "dissector/dissect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A dissector with small caps (so the fuzzer reaches them), writing to
 * /dev/null on this thread. NULL when out of memory. */
static inline struct tv_dissect *fuzz_dissector(void)
{
	static FILE *sink;
	if (!sink)
		sink = fopen("/dev/null", "w");
	struct tv_dissect_opts o = {.out = sink, .stream_cap = 4096, .total_cap = 65536, .body_cap = 4096};
	struct tv_dissect *d;
	return tv_dissect_open(&d, &o) ? NULL : d;
}

static inline void fuzz_stream(const uint8_t *data, size_t size, const struct tv_proto *proto, bool udp)
{
	struct tv_dissect *d = fuzz_dissector();
	if (!d)
		return;
	struct tv_conn *c = tv_dissect_stream_open(d, proto, udp);
	uint64_t ts = 1000000000ULL;
	size_t off = 0;
	while (c && off + 3 <= size) {
		uint8_t ctl = data[off];
		size_t n = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		ts += (ctl & 4) ? 1000000000ULL : 1000;
		if (ctl & 2) {
			tv_dissect_stream_gap(c, ctl & 1, n, ts);
			continue;
		}
		if (n > size - off)
			n = size - off;
		tv_dissect_stream_data(c, ctl & 1, data + off, n, ts);
		off += n;
	}
	tv_dissect_free(d);
}

#endif
