/* SPDX-License-Identifier: Apache-2.0 */
/* tcp_reasm: order, retransmissions, overlaps (first copy wins, conflicts
 * counted), sequence wrap, mid-stream start, gaps (acknowledged, over the cap,
 * at the end), memory returned. */
#include <stdlib.h>
#include <string.h>

#include "archive/decode.h"
#include "dissector/dissect/tcp_reasm.h"
#include "tests/unit/testutil.h"

struct out {
	char data[4096];
	size_t len;
	uint64_t gaps, gap_bytes;
};

static void on_data(void *ctx, const uint8_t *p, size_t n, uint64_t ts)
{
	(void)ts;
	struct out *o = ctx;
	memcpy(o->data + o->len, p, n);
	o->len += n;
	o->data[o->len] = '\0';
}

static void on_gap(void *ctx, uint64_t missing, uint64_t ts)
{
	(void)ts;
	struct out *o = ctx;
	o->gaps++;
	o->gap_bytes += missing;
	memcpy(o->data + o->len, "#", 1); /* marks where a gap was reported */
	o->len++;
	o->data[o->len] = '\0';
}

struct fx {
	struct tv_reasm_dir d;
	struct tv_reasm_budget b;
	struct out o;
	struct tv_reasm_sink sink;
};

static void fx_init(struct fx *f, size_t stream_cap)
{
	memset(f, 0, sizeof(*f));
	f->b.cap = 1 << 20;
	f->b.stream_cap = stream_cap;
	f->sink = (struct tv_reasm_sink){on_data, on_gap, &f->o};
}

static void add(struct fx *f, uint8_t flags, uint32_t seq, const char *s)
{
	tv_reasm_add(&f->d, &f->b, flags, seq, (const uint8_t *)s, strlen(s), 1, &f->sink);
}

static void test_in_order_and_out_of_order(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 1 << 20);
	add(&f, TV_TCP_SYN, 1000, "");
	add(&f, TV_TCP_ACK, 1001, "hello ");
	add(&f, TV_TCP_ACK, 1013, "world"); /* early: waits */
	assert_string_equal(f.o.data, "hello ");
	add(&f, TV_TCP_ACK, 1007, "there ");
	assert_string_equal(f.o.data, "hello there world");
	assert_int_equal(f.b.used, 0);
	assert_int_equal(f.o.gaps, 0);
}

static void test_retransmission_and_overlap(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 1 << 20);
	add(&f, TV_TCP_SYN, 0, "");
	add(&f, TV_TCP_ACK, 1, "abcdef");
	add(&f, TV_TCP_ACK, 1, "abcdef"); /* a plain retransmission */
	add(&f, TV_TCP_ACK, 4, "defGHI"); /* overlap carrying new bytes */
	assert_string_equal(f.o.data, "abcdefGHI");
	/* two early copies of the same range that disagree: the first wins */
	add(&f, TV_TCP_ACK, 14, "xyz");
	add(&f, TV_TCP_ACK, 14, "XYZ");
	add(&f, TV_TCP_ACK, 10, "jklm");
	assert_string_equal(f.o.data, "abcdefGHIjklmxyz");
	assert_int_equal(f.d.conflicts, 1);
	assert_int_equal(f.b.used, 0);
}

static void test_wrap(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 1 << 20);
	add(&f, TV_TCP_SYN, 0xfffffff0u, "");
	add(&f, TV_TCP_ACK, 0xfffffff1u, "0123456789");
	add(&f, TV_TCP_ACK, 0x00000001u, "ghij");   /* after the wrap, early */
	add(&f, TV_TCP_ACK, 0xfffffffbu, "abcdef"); /* spans the wrap */
	assert_string_equal(f.o.data, "0123456789abcdefghij");
}

static void test_midstream_and_acked_gap(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 1 << 20);
	add(&f, TV_TCP_ACK, 5000, "");      /* a pure ACK: no position yet */
	add(&f, TV_TCP_ACK, 7000, "first"); /* mid-stream: starts here */
	add(&f, TV_TCP_ACK, 7010, "third"); /* 5 bytes missing */
	assert_string_equal(f.o.data, "first");
	tv_reasm_acked(&f.d, &f.b, 7008, 2, &f.sink); /* peer has not got past the hole: wait */
	assert_int_equal(f.o.gaps, 0);
	tv_reasm_acked(&f.d, &f.b, 7015, 10, &f.sink); /* past it: maybe only captured out of order */
	tv_reasm_acked(&f.d, &f.b, 7015, 10 + TV_REASM_REORDER_NS / 2, &f.sink);
	assert_int_equal(f.o.gaps, 0);
	tv_reasm_acked(&f.d, &f.b, 7015, 10 + TV_REASM_REORDER_NS,
		       &f.sink); /* still missing: lost in capture */
	assert_string_equal(f.o.data, "first#third");
	assert_int_equal(f.o.gap_bytes, 5);
	add(&f, TV_TCP_ACK, 7005, "secon"); /* the lost bytes turning up late are old news */
	assert_string_equal(f.o.data, "first#third");
}

static void test_reorder_after_ack(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 1 << 20);
	add(&f, TV_TCP_SYN, 0, "");
	add(&f, TV_TCP_ACK, 1, "aa");
	add(&f, TV_TCP_ACK, 5, "cc");
	tv_reasm_acked(&f.d, &f.b, 7, 10, &f.sink); /* the ACK was captured before the segment */
	tv_reasm_acked(&f.d, &f.b, 7, 20, &f.sink);
	tv_reasm_add(&f.d, &f.b, TV_TCP_ACK, 3, (const uint8_t *)"bb", 2, 30, &f.sink);
	assert_string_equal(f.o.data, "aabbcc");
	assert_int_equal(f.o.gaps, 0);
}

static void test_cap_and_flush(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 8);
	add(&f, TV_TCP_SYN, 0, "");
	add(&f, TV_TCP_ACK, 1, "aa");
	add(&f, TV_TCP_ACK, 10, "bbbb");   /* waits: 4 bytes */
	add(&f, TV_TCP_ACK, 20, "cccccc"); /* 10 waiting > cap 8: give up the first hole */
	assert_true(f.d.truncated);
	assert_string_equal(f.o.data, "aa#bbbb");
	assert_int_equal(f.b.used, 6);
	tv_reasm_flush(&f.d, &f.b, 3, &f.sink);
	assert_string_equal(f.o.data, "aa#bbbb#cccccc");
	assert_int_equal(f.o.gaps, 2);
	assert_int_equal(f.b.used, 0);
	/* freeing without delivering returns the memory too */
	add(&f, TV_TCP_ACK, 100, "zz");
	assert_int_equal(f.b.used, 2);
	tv_reasm_free(&f.d, &f.b);
	assert_int_equal(f.b.used, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_and_out_of_order),
		cmocka_unit_test(test_retransmission_and_overlap),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_midstream_and_acked_gap),
		cmocka_unit_test(test_cap_and_flush),
		cmocka_unit_test(test_reorder_after_ack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
