/* SPDX-License-Identifier: Apache-2.0 */
/* decode: the one packet decoder behind the flow index and dissection. The
 * cases where the two used to disagree (IPv6 with AH, Ethernet padding), TCP
 * fields and payload bounds, and snapped or truncated packets. */
#include <netinet/in.h>
#include <string.h>

#include "archive/decode.h"
#include "archive/flow.h"
#include "testutil.h"

/* An IPv6 packet (raw, LINKTYPE_IPV6) with an AH header, then TCP with
 * `payload` bytes "abc...". @return its length. */
static size_t ipv6_ah_tcp(uint8_t *p, size_t payload)
{
	memset(p, 0, 200);
	size_t ah = 24, tcp = 20, plen = ah + tcp + payload;
	p[0] = 0x60;
	p[4] = (uint8_t)(plen >> 8), p[5] = (uint8_t)plen;
	p[6] = 51; /* AH */
	p[7] = 64;
	p[8 + 15] = 1;
	p[24 + 15] = 2;
	uint8_t *a = p + 40;
	a[0] = 6;                     /* next: TCP */
	a[1] = (uint8_t)(ah / 4 - 2); /* RFC 4302: length in 4-byte units minus 2 */
	uint8_t *t = a + ah;
	t[0] = 0x04, t[1] = 0xD2; /* 1234 */
	t[3] = 80;
	t[4] = 0, t[5] = 0, t[6] = 1, t[7] = 0; /* seq 256 */
	t[12] = 5 << 4;
	t[13] = TV_TCP_PSH | TV_TCP_ACK;
	for (size_t i = 0; i < payload; i++)
		t[20 + i] = (uint8_t)('a' + i % 26);
	return 40 + plen;
}

static void test_ipv6_ah_is_a_flow_and_a_payload(void **state)
{
	(void)state;
	uint8_t p[256];
	size_t n = ipv6_ah_tcp(p, 5);
	struct tv_decoded d;
	assert_true(tv_decode(229, p, (uint32_t)n, &d));
	assert_int_equal(d.key.family, 6);
	assert_int_equal(d.key.proto, IPPROTO_TCP);
	assert_int_equal(d.key.sport, 1234);
	assert_int_equal(d.key.dport, 80);
	assert_true(d.transport);
	assert_int_equal(d.seq, 256);
	assert_int_equal(d.tcp_flags, TV_TCP_PSH | TV_TCP_ACK);
	assert_int_equal(d.len, 5);
	assert_memory_equal(d.payload, "abcde", 5);
	/* the index key is the same decode */
	struct tv_flow_key k;
	assert_true(tv_flow_key_parse(229, p, (uint32_t)n, &k));
	assert_memory_equal(&k, &d.key, sizeof(k));
}

static void test_ethernet_padding_is_not_payload(void **state)
{
	(void)state;
	uint8_t f[128];
	size_t n = tu_make_frame(f, 6, 1, 1234, 2, 80, 2, 0); /* 54 + 2 bytes */
	memset(f + n, 0xEE, 60 - n + 4);                      /* padded to 60 (+ FCS-like junk) */
	struct tv_decoded d;
	assert_true(tv_decode(1, f, 64, &d));
	assert_true(d.transport);
	assert_int_equal(d.len, 2);
	assert_int_equal(d.wire_len, 2);
}

static void test_snapped_payload_and_truncated_header(void **state)
{
	(void)state;
	uint8_t f[256];
	size_t n = tu_make_frame(f, 6, 1, 1234, 2, 80, 100, 7);
	struct tv_decoded d;
	/* snapped 40 bytes into the payload: captured 40, on the wire 100 */
	assert_true(tv_decode(1, f, 54 + 40, &d));
	assert_true(d.transport);
	assert_int_equal(d.len, 40);
	assert_int_equal(d.wire_len, 100);
	/* cut inside the TCP header: the ports make a flow, there is no payload */
	assert_true(tv_decode(1, f, 14 + 20 + 10, &d));
	assert_false(d.transport);
	assert_int_equal(d.key.dport, 80);
	assert_null(d.payload);
	/* every shorter cut is safe */
	for (uint32_t len = 0; len < n; len++)
		tv_decode(1, f, len, &d);
}

static void test_udp_vlan_and_l3_offset(void **state)
{
	(void)state;
	uint8_t f[200], v[204];
	size_t n = tu_make_frame(f, 17, 1, 5353, 2, 53, 12, 3);
	memcpy(v, f, 12);
	v[12] = 0x81, v[13] = 0x00, v[14] = 0x00, v[15] = 7;
	memcpy(v + 16, f + 12, n - 12);
	struct tv_decoded d;
	assert_true(tv_decode(1, v, (uint32_t)n + 4, &d));
	assert_int_equal(d.key.vlan, 7);
	assert_int_equal(d.key.proto, IPPROTO_UDP);
	assert_int_equal(d.l3_offset, 18);
	assert_int_equal(tv_l3_offset(1, v, (uint32_t)n + 4), 18);
	assert_true(d.transport);
	assert_int_equal(d.len, 12);
	assert_memory_equal(d.payload, f + 14 + 20 + 8, 12);
}

static void test_other_traffic(void **state)
{
	(void)state;
	uint8_t f[200];
	size_t n = tu_make_frame(f, 6, 1, 1234, 2, 80, 10, 0);
	struct tv_decoded d;
	f[14 + 9] = 1; /* ICMP */
	assert_false(tv_decode(1, f, (uint32_t)n, &d));
	assert_int_equal(d.key.family, TV_FLOW_OTHER);
	assert_false(d.transport);
	f[14 + 9] = 6;
	f[14 + 7] = 10; /* a non-first fragment: no ports */
	assert_false(tv_decode(1, f, (uint32_t)n, &d));
	/* an IPv4 total length shorter than its header: a flow, but no payload */
	f[14 + 7] = 0;
	f[14 + 2] = 0, f[14 + 3] = 10;
	assert_true(tv_decode(1, f, (uint32_t)n, &d));
	assert_false(d.transport);
}

static void test_bsd_loopback(void **state)
{
	(void)state;
	uint8_t f[200], lo[200];
	size_t n = tu_make_frame(f, 6, 1, 1234, 2, 80, 4, 0);
	lo[0] = 2, lo[1] = lo[2] = lo[3] = 0; /* AF_INET, host order */
	memcpy(lo + 4, f + 14, n - 14);
	struct tv_decoded d;
	assert_true(tv_decode(0, lo, (uint32_t)(n - 10), &d));
	assert_int_equal(d.l3_offset, 4);
	assert_int_equal(d.len, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv6_ah_is_a_flow_and_a_payload),
		cmocka_unit_test(test_ethernet_padding_is_not_payload),
		cmocka_unit_test(test_snapped_payload_and_truncated_header),
		cmocka_unit_test(test_udp_vlan_and_l3_offset),
		cmocka_unit_test(test_other_traffic),
		cmocka_unit_test(test_bsd_loopback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
