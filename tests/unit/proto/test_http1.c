/* SPDX-License-Identifier: Apache-2.0 */
/* http1: the parser through the stream harness. Keep-alive and pipelining
 * pair in order; a response captured before its request waits for it; HEAD
 * and 100-continue; gzip bodies decoded; a gap or an unanswered request
 * says so; `Upgrade: h2c` hands the connection to HTTP/2. */
#include <string.h>
#include <zlib.h>

#include "tests/lib/stream_harness.h"
#include "tests/unit/testutil.h"

static json_t *run(void (*script)(struct tv_harness *h))
{
	struct tv_harness h;
	struct tv_dissect_opts o;
	tv_harness_small_caps(&o);
	assert_int_equal(tv_harness_open(&h, "http1", false, &o), 0);
	script(&h);
	json_t *e = tv_harness_close(&h);
	assert_non_null(e);
	return e;
}

static void keepalive(struct tv_harness *h)
{
	tv_harness_send_str(h, 0, "GET /a?x=1 HTTP/1.1\r\nHost: api\r\n\r\n");
	tv_harness_send_str(h, 1,
			    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
	tv_harness_send_str(
		h, 0,
		"POST /b HTTP/1.1\r\nHost: api\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc");
	tv_harness_send_str(h, 1, "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
}

static void test_keepalive_pairs_in_order(void **state)
{
	(void)state;
	json_t *e = run(keepalive);
	assert_int_equal(json_array_size(e), 2);
	assert_string_equal(tv_j_str(e, "0.protocol.name"), "http");
	assert_string_equal(tv_j_str(e, "0.protocol.version"), "1.1");
	assert_string_equal(tv_j_str(e, "0.request.method"), "GET");
	assert_string_equal(tv_j_str(e, "0.request.url"), "http://api/a?x=1");
	assert_int_equal(tv_j_int(e, "0.response.status"), 200);
	assert_string_equal(tv_j_str(e, "0.response.content.text"), "hello");
	assert_false(tv_j_true(e, "0.failed"));
	assert_string_equal(tv_j_str(e, "1.request.method"), "POST");
	assert_string_equal(tv_j_str(e, "1.request.postData.text"), "abc");
	assert_int_equal(tv_j_int(e, "1.response.status"), 503);
	assert_true(tv_j_true(e, "1.failed"));
	assert_int_equal(tv_j_int(e, "1.index"), 1);
	json_decref(e);
}

static void pipelined(struct tv_harness *h)
{
	tv_harness_send_str(h, 0,
			    "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 "
			    "HTTP/1.1\r\n\r\n");
	/* the HEAD's response has no body whatever its Content-Length says */
	tv_harness_send_str(h, 1,
			    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"
			    "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
			    "HTTP/1.1 204 No Content\r\n\r\n");
}

static void test_pipelining_head_and_chunked(void **state)
{
	(void)state;
	json_t *e = run(pipelined);
	assert_int_equal(json_array_size(e), 3);
	assert_string_equal(tv_j_str(e, "0.response.content.text"), "abcd");
	assert_string_equal(tv_j_str(e, "1.request.method"), "HEAD");
	assert_int_equal(tv_j_int(e, "1.response.bodySize"), 0);
	assert_string_equal(tv_j_str(e, "2.request.path"), "/3");
	assert_int_equal(tv_j_int(e, "2.response.status"), 204);
	json_decref(e);
}

static void response_first(struct tv_harness *h)
{
	/* the server's segments were captured before the client's */
	tv_harness_send_str(h, 1, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
	tv_harness_send_str(h, 0, "PUT /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
}

static void test_response_before_request_waits(void **state)
{
	(void)state;
	json_t *e = run(response_first);
	assert_int_equal(json_array_size(e), 1);
	assert_string_equal(tv_j_str(e, "0.request.method"), "PUT");
	assert_int_equal(tv_j_int(e, "0.response.status"), 201);
	assert_true(json_is_null(tv_j(e, "0.error")));
	json_decref(e);
}

static void continue_then_gap(struct tv_harness *h)
{
	tv_harness_send_str(h, 0, "POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n");
	tv_harness_send_str(h, 1, "HTTP/1.1 100 Continue\r\n\r\n");
	tv_harness_send_str(h, 0, "01234");
	tv_harness_gap(h, 0, 5);
	tv_harness_send_str(h, 1, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	tv_harness_send_str(h, 0, "GET /unanswered HTTP/1.1\r\n\r\n"); /* after the gap: not parsed */
}

static void test_gap_marks_the_request(void **state)
{
	(void)state;
	json_t *e = run(continue_then_gap);
	assert_int_equal(json_array_size(e), 2);
	assert_string_equal(tv_j_str(e, "0.error"), "gap in the capture");
	assert_true(tv_j_true(e, "0.request.incomplete"));
	/* the 100 was not final; the 201 came after the request was cut */
	assert_int_equal(tv_j_int(e, "1.response.status"), 201);
	assert_string_equal(tv_j_str(e, "1.error"), "response without a request");
	json_decref(e);
}

static void gzip_body(struct tv_harness *h)
{
	const char *text = "{\"items\": [1, 2, 3], \"more\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}";
	uint8_t z[256];
	z_stream zs = {0};
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (uint8_t *)text;
	zs.avail_in = (uInt)strlen(text);
	zs.next_out = z;
	zs.avail_out = sizeof(z);
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	size_t zn = sizeof(z) - zs.avail_out;
	deflateEnd(&zs);
	char head[256];
	snprintf(head, sizeof(head),
		 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
		 "Content-Length: %zu\r\n\r\n",
		 zn);
	tv_harness_send_str(h, 0, "GET /j HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n");
	tv_harness_send_str(h, 1, head);
	tv_harness_send(h, 1, z, zn);
}

static void test_gzip_decoded(void **state)
{
	(void)state;
	json_t *e = run(gzip_body);
	assert_int_equal(json_array_size(e), 1);
	assert_non_null(strstr(tv_j_str(e, "0.response.content.text"), "\"items\": [1, 2, 3]"));
	assert_true(tv_j_int(e, "0.response.content.compression") > 0);
	json_decref(e);
}

static void unanswered(struct tv_harness *h)
{
	tv_harness_send_str(h, 0, "DELETE /gone HTTP/1.1\r\nHost: h\r\n\r\n");
}

static void test_unanswered_request(void **state)
{
	(void)state;
	json_t *e = run(unanswered);
	assert_int_equal(json_array_size(e), 1);
	assert_string_equal(tv_j_str(e, "0.error"), "no response");
	assert_true(tv_j_true(e, "0.failed"));
	assert_true(json_is_null(tv_j(e, "0.response")));
	json_decref(e);
}

static void h2c(struct tv_harness *h)
{
	static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	/* SETTINGS (empty), HEADERS on stream 1 (":status: 200", HPACK index 8), DATA "hi" */
	static const uint8_t server[] = {0, 0, 0, 4,    0, 0, 0, 0, 0, 0, 0, 1, 1, 4,   0,
					 0, 0, 1, 0x88, 0, 0, 2, 0, 1, 0, 0, 0, 1, 'h', 'i'};
	tv_harness_send_str(h, 0,
			    "GET /up HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n"
			    "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n");
	tv_harness_send_str(
		h, 1, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
	tv_harness_send(h, 1, server, sizeof(server));
	tv_harness_send(h, 0, preface, 24);
}

static void test_h2c_hands_off_to_http2(void **state)
{
	(void)state;
	json_t *e = run(h2c);
	assert_int_equal(json_array_size(e), 1);
	assert_string_equal(tv_j_str(e, "0.protocol.version"), "2");
	assert_string_equal(tv_j_str(e, "0.request.method"), "GET");
	assert_string_equal(tv_j_str(e, "0.request.path"), "/up");
	assert_int_equal(tv_j_int(e, "0.response.status"), 200);
	assert_int_equal(tv_j_int(e, "0.response.bodySize"), 2);
	assert_string_equal(tv_j_str(e, "0.response.content.text"), "hi");
	json_decref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keepalive_pairs_in_order),
		cmocka_unit_test(test_pipelining_head_and_chunked),
		cmocka_unit_test(test_response_before_request_waits),
		cmocka_unit_test(test_gap_marks_the_request),
		cmocka_unit_test(test_gzip_decoded),
		cmocka_unit_test(test_unanswered_request),
		cmocka_unit_test(test_h2c_hands_off_to_http2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
