/* SPDX-License-Identifier: Apache-2.0 */
/* Index: encode/decode round trip, and every way a stored index can be bad. */
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/index.h"
#include "testutil.h"

static void build(struct tv_index *idx, uint32_t max_flows, uint32_t nflows)
{
	struct tv_iface ifc;
	tu_eth_iface(&ifc);
	struct tv_index_builder b;
	assert_int_equal(tv_index_builder_init(&b, &ifc, 1, max_flows), 0);
	uint8_t buf[200];
	for (uint32_t i = 0; i < nflows * 4; i++) {
		uint32_t flow = i % nflows;
		size_t n = tu_make_frame(buf, 6, (uint8_t)(flow & 0xff), (uint16_t)(1000 + flow / 256), 2, 80,
					 10, i);
		assert_int_equal(
			tv_index_builder_packet(&b, 0, 1000 + i, (uint32_t)n, (uint32_t)n, buf, 1 + i / 7),
			0);
	}
	for (uint32_t f = 0; f <= nflows * 4 / 7 + 1; f++) {
		struct tv_frame_entry fe = {
			.offset = f * 100, .comp_size = 100, .raw_size = 300, .packets = 7};
		assert_int_equal(tv_index_builder_frame(&b, &fe), 0);
	}
	tv_index_builder_take(&b, idx);
	tv_index_builder_cleanup(&b);
	snprintf(idx->node, sizeof(idx->node), "n1");
	idx->seq = 42;
	memset(idx->prev_sha, 0xCD, 32);
}

static void encode(const struct tv_index *idx, struct tv_buf *b)
{
	tv_buf_init(b, 0);
	assert_int_equal(tv_index_encode(idx, b), 0);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct tv_index idx, back;
	build(&idx, 0, 300);
	assert_int_equal(idx.nflows, 300);
	idx.os_lost = 17; /* the OS layer lost records during this segment */
	struct tv_buf b, b2;
	encode(&idx, &b);
	assert_int_equal(tv_index_decode(b.data, b.len, "t", &back), 0);
	assert_string_equal(back.node, "n1");
	assert_int_equal(back.seq, 42);
	assert_int_equal(back.packets, 1200);
	assert_int_equal(back.os_lost, 17);
	assert_int_equal(back.nflows, 300);
	assert_memory_equal(back.prev_sha, idx.prev_sha, 32);
	encode(&back, &b2);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.data, b2.data, b.len);
	/* each flow's 4 packets are 300 packets apart: ranges never merge */
	assert_int_equal(back.flows[0].packets, 4);
	assert_int_equal(back.flows[0].nranges, 4);
	tv_buf_cleanup(&b);
	tv_buf_cleanup(&b2);
	tv_index_cleanup(&idx);
	tv_index_cleanup(&back);
}

static void test_flow_cap_spills_into_other_row(void **state)
{
	(void)state;
	struct tv_index idx;
	build(&idx, 100, 300);
	assert_int_equal(idx.nflows, 101);
	uint64_t other = 0, total = 0;
	for (uint32_t i = 0; i < idx.nflows; i++) {
		total += idx.flows[i].packets;
		if (idx.flows[i].key.family == TV_FLOW_OTHER)
			other = idx.flows[i].packets;
	}
	assert_int_equal(total, 1200);
	assert_int_equal(other, 800);
	tv_index_cleanup(&idx);
}

static void test_frame_ranges_merge(void **state)
{
	(void)state;
	struct tv_iface ifc;
	tu_eth_iface(&ifc);
	struct tv_index_builder b;
	assert_int_equal(tv_index_builder_init(&b, &ifc, 1, 0), 0);
	uint8_t buf[200];
	size_t n = tu_make_frame(buf, 17, 1, 53, 2, 5353, 10, 0);
	uint32_t frames[] = {1, 1, 2, 3, 3, 7, 8, 20};
	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++)
		assert_int_equal(tv_index_builder_packet(&b, 0, 5, (uint32_t)n, (uint32_t)n, buf, frames[i]),
				 0);
	struct tv_flow *f = &b.idx.flows[0];
	assert_int_equal(f->nranges, 3);
	assert_int_equal(f->ranges[0].first, 1);
	assert_int_equal(f->ranges[0].count, 3);
	assert_int_equal(f->ranges[1].first, 7);
	assert_int_equal(f->ranges[1].count, 2);
	assert_int_equal(f->ranges[2].first, 20);
	tv_index_builder_cleanup(&b);
}

/* Version 3: bytes and packets per direction, SYN and RST counts, kept
 * through encode and decode. A TCP connection from 10.0.0.1:4000 to
 * 10.0.0.2:80: SYN, SYN-ACK, ACK, request (100), response (1000), RST. */
static void test_directions_and_tcp_flags(void **state)
{
	(void)state;
	struct tv_iface ifc;
	tu_eth_iface(&ifc);
	struct tv_index_builder b;
	assert_int_equal(tv_index_builder_init(&b, &ifc, 1, 0), 0);
	struct {
		int reply;
		uint8_t flags;
		size_t payload;
	} pk[] = {{0, 0x02, 0}, {1, 0x12, 0}, {0, 0x10, 0}, {0, 0x18, 100}, {1, 0x18, 1000}, {0, 0x04, 0}};
	uint64_t rev_bytes = 0;
	uint8_t buf[1200];
	for (size_t i = 0; i < 6; i++) {
		size_t n = pk[i].reply ? tu_make_frame(buf, 6, 2, 80, 1, 4000, pk[i].payload, 0)
				       : tu_make_frame(buf, 6, 1, 4000, 2, 80, pk[i].payload, 0);
		buf[14 + 20 + 13] = pk[i].flags;
		rev_bytes += pk[i].reply ? n : 0;
		assert_int_equal(tv_index_builder_packet(&b, 0, 10 + i, (uint32_t)n, (uint32_t)n, buf, 1), 0);
	}
	/* UDP has no flags: counted by direction only */
	size_t n = tu_make_frame(buf, 17, 1, 53, 2, 53, 20, 0);
	assert_int_equal(tv_index_builder_packet(&b, 0, 20, (uint32_t)n, (uint32_t)n, buf, 1), 0);
	struct tv_frame_entry fe = {.offset = 0, .comp_size = 10, .raw_size = 10, .packets = 7};
	assert_int_equal(tv_index_builder_frame(&b, &fe), 0);
	assert_int_equal(tv_index_builder_frame(&b, &fe), 0);
	struct tv_index idx, back;
	tv_index_builder_take(&b, &idx);
	tv_index_builder_cleanup(&b);
	struct tv_buf e;
	encode(&idx, &e);
	assert_int_equal(tv_index_decode(e.data, e.len, "t", &back), 0);
	assert_int_equal(back.version, 3);
	assert_int_equal(back.nflows, 2);
	const struct tv_flow *t = &back.flows[0], *u = &back.flows[1];
	assert_int_equal(t->key.proto, 6);
	assert_int_equal(t->key.sport, 4000); /* as first seen: the client */
	assert_int_equal(t->packets, 6);
	assert_int_equal(t->packets_rev, 2);
	assert_int_equal(t->bytes_rev, rev_bytes);
	assert_int_equal(t->syn, 1); /* the SYN-ACK is not an attempt */
	assert_int_equal(t->rst, 1);
	assert_int_equal(u->packets, 1);
	assert_int_equal(u->packets_rev, 0);
	assert_int_equal(u->syn + u->rst, 0);
	tv_buf_cleanup(&e);
	tv_index_cleanup(&idx);
	tv_index_cleanup(&back);
}

static void test_damaged_indexes_are_refused(void **state)
{
	(void)state;
	struct tv_index idx, back;
	build(&idx, 0, 20);
	struct tv_buf b;
	encode(&idx, &b);
	/* torn: every shorter prefix */
	for (size_t len = 0; len < b.len; len += 7) {
		int rc = tv_index_decode(b.data, len, "torn.idx", &back);
		assert_true(rc == TV_ETRUNC || rc == TV_ECORRUPT);
		assert_non_null(strstr(tv_errmsg(), "torn.idx"));
	}
	/* any single flipped byte */
	for (size_t at = 0; at < b.len; at += 3) {
		b.data[at] ^= 1;
		int rc = tv_index_decode(b.data, b.len, "flip.idx", &back);
		assert_true(rc < 0);
		b.data[at] ^= 1;
	}
	/* foreign file */
	assert_int_equal(
		tv_index_decode(
			(const uint8_t *)"GIF89a......................................................", 60,
			"x.gif", &back),
		TV_ECORRUPT);
	assert_non_null(strstr(tv_errmsg(), "bad magic"));
	/* a future version is "unsupported", not "corrupt" */
	b.data[8] = TV_INDEX_VERSION + 1;
	assert_int_equal(tv_index_decode(b.data, b.len, "v3.idx", &back), TV_EVERSION);
	tv_buf_cleanup(&b);
	tv_index_cleanup(&idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_flow_cap_spills_into_other_row),
		cmocka_unit_test(test_frame_ranges_merge),
		cmocka_unit_test(test_directions_and_tcp_flags),
		cmocka_unit_test(test_damaged_indexes_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
