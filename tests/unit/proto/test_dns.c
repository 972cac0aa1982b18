/* SPDX-License-Identifier: Apache-2.0 */
/* dns: the parser through the stream harness, over UDP (a datagram per
 * message) and TCP (length-prefixed, split anywhere). Queries pair with
 * responses by id in any order, a response captured first waits for its
 * query; NXDOMAIN is failed; an unanswered query says so. */
#include <string.h>

#include "tests/lib/stream_harness.h"
#include "tests/unit/testutil.h"

/* A query (response: an answer of an A record for 10.0.0.id) for name. */
static size_t message(uint8_t *m, uint16_t id, bool response, uint8_t rcode, const char *name)
{
	size_t n = 0;
	m[n++] = (uint8_t)(id >> 8), m[n++] = (uint8_t)id;
	m[n++] = response ? 0x81 : 0x01; /* QR, RD */
	m[n++] = response ? (uint8_t)(0x80 | rcode) : 0;
	m[n++] = 0, m[n++] = 1;                              /* one question */
	m[n++] = 0, m[n++] = response && rcode == 0 ? 1 : 0; /* answers */
	m[n++] = 0, m[n++] = 0, m[n++] = 0, m[n++] = 0;
	for (const char *p = name; *p;) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		m[n++] = (uint8_t)l;
		memcpy(m + n, p, l);
		n += l;
		p += l + (dot != NULL);
	}
	m[n++] = 0;
	m[n++] = 0, m[n++] = 1, m[n++] = 0, m[n++] = 1; /* A, IN */
	if (response && rcode == 0) {
		static const uint8_t rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0};
		memcpy(m + n, rr, sizeof(rr));
		n += sizeof(rr);
		m[n++] = (uint8_t)id;
	}
	return n;
}

static void test_udp_pairs_by_id_in_any_order(void **state)
{
	(void)state;
	struct tv_harness h;
	assert_int_equal(tv_harness_open(&h, "dns", true, NULL), 0);
	uint8_t m[512];
	tv_harness_send(&h, 0, m, message(m, 1, false, 0, "api.svc"));
	tv_harness_send(&h, 0, m, message(m, 2, false, 0, "db.svc"));
	tv_harness_send(&h, 1, m, message(m, 2, true, 0, "db.svc"));
	tv_harness_send(&h, 1, m, message(m, 3, true, 3, "early.svc")); /* before its query */
	tv_harness_send(&h, 1, m, message(m, 1, true, 0, "api.svc"));
	tv_harness_send(&h, 0, m, message(m, 3, false, 0, "early.svc"));
	tv_harness_send(&h, 0, m, message(m, 4, false, 0, "lost.svc"));
	json_t *e = tv_harness_close(&h);
	assert_non_null(e);
	assert_int_equal(json_array_size(e), 4);
	assert_string_equal(tv_j_str(e, "0.request.questions.0.name"), "db.svc");
	assert_string_equal(tv_j_str(e, "0.response.answers.0.data"), "10.0.0.2");
	assert_string_equal(tv_j_str(e, "0.protocol.version"), "udp");
	assert_string_equal(tv_j_str(e, "1.request.questions.0.name"), "api.svc");
	assert_string_equal(tv_j_str(e, "2.request.questions.0.name"), "early.svc");
	assert_string_equal(tv_j_str(e, "2.response.rcode"), "NXDOMAIN");
	assert_true(tv_j_true(e, "2.failed"));
	assert_string_equal(tv_j_str(e, "3.request.questions.0.name"), "lost.svc");
	assert_string_equal(tv_j_str(e, "3.error"), "no response");
	json_decref(e);
}

static void test_tcp_length_prefix_split(void **state)
{
	(void)state;
	struct tv_harness h;
	assert_int_equal(tv_harness_open(&h, "dns", false, NULL), 0);
	uint8_t m[512], framed[600];
	size_t n = message(m, 77, false, 0, "tcp.svc");
	framed[0] = (uint8_t)(n >> 8), framed[1] = (uint8_t)n;
	memcpy(framed + 2, m, n);
	for (size_t i = 0; i < n + 2; i++) /* a byte at a time */
		tv_harness_send(&h, 0, framed + i, 1);
	n = message(m, 77, true, 0, "tcp.svc");
	framed[0] = (uint8_t)(n >> 8), framed[1] = (uint8_t)n;
	memcpy(framed + 2, m, n);
	tv_harness_send(&h, 1, framed, 3);
	tv_harness_send(&h, 1, framed + 3, n - 1);
	json_t *e = tv_harness_close(&h);
	assert_non_null(e);
	assert_int_equal(json_array_size(e), 1);
	assert_string_equal(tv_j_str(e, "0.protocol.version"), "tcp");
	assert_int_equal(tv_j_int(e, "0.request.id"), 77);
	assert_string_equal(tv_j_str(e, "0.response.answers.0.data"), "10.0.0.77");
	json_decref(e);
}

static void test_garbage_datagrams_are_not_entries(void **state)
{
	(void)state;
	struct tv_harness h;
	assert_int_equal(tv_harness_open(&h, "dns", true, NULL), 0);
	tv_harness_send_str(&h, 0, "not a dns message at all");
	tv_harness_send(&h, 1, "\x00\x01", 2);
	json_t *e = tv_harness_close(&h);
	assert_non_null(e);
	assert_int_equal(json_array_size(e), 0);
	json_decref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_pairs_by_id_in_any_order),
		cmocka_unit_test(test_tcp_length_prefix_split),
		cmocka_unit_test(test_garbage_datagrams_are_not_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
