/* SPDX-License-Identifier: Apache-2.0 */
/* pcapng blocks: what we write decodes, and hostile lengths are refused. */
#include <string.h>

#include "archive/pcapng.h"
#include "testutil.h"

static void test_blocks_round_trip(void **state)
{
	(void)state;
	struct tv_buf b;
	tv_buf_init(&b, 0);
	struct tv_iface ifc;
	tu_eth_iface(&ifc);
	assert_int_equal(tv_pcapng_put_shb(&b, "hello comment"), 0);
	assert_int_equal(tv_pcapng_put_idb(&b, &ifc, "node n1"), 0);
	uint8_t data[5] = {1, 2, 3, 4, 5};
	assert_int_equal(tv_pcapng_put_epb(&b, 0, 0x123456789ULL, data, 5, 1500), 0);
	assert_int_equal(b.len % 4, 0);

	struct tv_pcapng_block blk;
	size_t off = 0;
	char comment[64];
	assert_int_equal(tv_pcapng_next_block(b.data, b.len, &blk), TV_PARSE_OK);
	assert_int_equal(tv_pcapng_parse_shb(&blk, comment, sizeof(comment)), TV_PARSE_OK);
	assert_string_equal(comment, "hello comment");
	off += blk.total_len;
	assert_int_equal(tv_pcapng_next_block(b.data + off, b.len - off, &blk), TV_PARSE_OK);
	struct tv_iface back;
	uint64_t units;
	assert_int_equal(tv_pcapng_parse_idb(&blk, &back, &units), TV_PARSE_OK);
	assert_string_equal(back.name, "eth0");
	assert_int_equal(back.linktype, 1);
	assert_int_equal(units, 1000000000ULL);
	off += blk.total_len;
	assert_int_equal(tv_pcapng_next_block(b.data + off, b.len - off, &blk), TV_PARSE_OK);
	struct tv_pcapng_epb epb;
	assert_int_equal(tv_pcapng_parse_epb(&blk, &epb), TV_PARSE_OK);
	assert_int_equal(epb.ts_raw, 0x123456789ULL);
	assert_int_equal(epb.caplen, 5);
	assert_int_equal(epb.origlen, 1500);
	assert_memory_equal(epb.data, data, 5);
	off += blk.total_len;
	assert_int_equal(off, b.len);
	/* a block cut short asks for more */
	assert_int_equal(tv_pcapng_next_block(b.data, 20, &blk), TV_PARSE_NEED_MORE);
	tv_buf_cleanup(&b);
}

/* An EPB with a packet comment: the packet reads back as without one, and
 * the options after it are opt_comment (1) with the text, padded, then
 * opt_endofopt; an empty comment writes the plain EPB. */
static void test_epb_comment(void **state)
{
	(void)state;
	struct tv_buf b;
	tv_buf_init(&b, 0);
	const uint8_t pkt[5] = {1, 2, 3, 4, 5};
	assert_int_equal(tv_pcapng_put_epb_comment(&b, 2, 7, pkt, 5, 60, "proc curl[9]"), 0);
	assert_int_equal(tv_pcapng_put_epb_comment(&b, 2, 8, pkt, 5, 60, ""), 0);
	struct tv_pcapng_block blk;
	assert_int_equal(tv_pcapng_next_block(b.data, b.len, &blk), TV_PARSE_OK);
	assert_int_equal(blk.total_len, tv_pcapng_epb_size(5) + 4 + 12 + 4);
	struct tv_pcapng_epb epb;
	assert_int_equal(tv_pcapng_parse_epb(&blk, &epb), TV_PARSE_OK);
	assert_int_equal(epb.caplen, 5);
	assert_int_equal(epb.origlen, 60);
	assert_memory_equal(epb.data, pkt, 5);
	const uint8_t *opt = blk.body + 20 + 8; /* after the fixed fields and the padded packet */
	assert_int_equal(tv_le16(opt), 1);
	assert_int_equal(tv_le16(opt + 2), 12);
	assert_memory_equal(opt + 4, "proc curl[9]", 12);
	assert_int_equal(tv_le32(opt + 16), 0); /* opt_endofopt */
	assert_int_equal(tv_pcapng_next_block(b.data + blk.total_len, b.len - blk.total_len, &blk),
			 TV_PARSE_OK);
	assert_int_equal(blk.total_len, tv_pcapng_epb_size(5));
	tv_buf_cleanup(&b);
}

static void test_hostile_lengths(void **state)
{
	(void)state;
	uint8_t blk_bytes[32] = {6, 0, 0, 0, 32, 0, 0, 0};
	struct tv_pcapng_block blk;
	/* trailer length disagrees */
	assert_int_equal(tv_pcapng_next_block(blk_bytes, 32, &blk), TV_PARSE_ERROR);
	blk_bytes[28] = 32;
	assert_int_equal(tv_pcapng_next_block(blk_bytes, 32, &blk), TV_PARSE_OK);
	/* EPB whose caplen exceeds the block */
	blk_bytes[8 + 12] = 200;
	struct tv_pcapng_epb epb;
	assert_int_equal(tv_pcapng_parse_epb(&blk, &epb), TV_PARSE_ERROR);
	/* lengths that are not multiples of 4 or smaller than a header */
	blk_bytes[4] = 13;
	assert_int_equal(tv_pcapng_next_block(blk_bytes, 32, &blk), TV_PARSE_ERROR);
	blk_bytes[4] = 8;
	assert_int_equal(tv_pcapng_next_block(blk_bytes, 32, &blk), TV_PARSE_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_round_trip),
		cmocka_unit_test(test_hostile_lengths),
		cmocka_unit_test(test_epb_comment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
