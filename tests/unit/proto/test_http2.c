/* SPDX-License-Identifier: Apache-2.0 */
/* http2: the parser through the stream harness, with header blocks encoded
 * by nghttp2's HPACK deflater. Prior knowledge, streams interleaved, a
 * response whose frames were captured before the request's, RST_STREAM, a
 * gap, and gRPC on top (service, method, status from the trailers, messages
 * with their length prefix). */
#include <nghttp2/nghttp2.h>
#include <string.h>

#include "tests/lib/stream_harness.h"
#include "tests/unit/testutil.h"

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

struct enc {
	nghttp2_hd_deflater *d;
};

/* One frame into out: 9-byte header and payload. @return its length. */
static size_t frame(uint8_t *out, uint8_t type, uint8_t flags, uint32_t stream, const void *p, size_t n)
{
	out[0] = (uint8_t)(n >> 16), out[1] = (uint8_t)(n >> 8), out[2] = (uint8_t)n;
	out[3] = type, out[4] = flags;
	out[5] = (uint8_t)(stream >> 24), out[6] = (uint8_t)(stream >> 16), out[7] = (uint8_t)(stream >> 8),
	out[8] = (uint8_t)stream;
	memcpy(out + 9, p, n);
	return 9 + n;
}

/* A HEADERS frame of name/value pairs (NULL-terminated). */
static size_t headers(struct enc *e, uint8_t *out, uint8_t flags, uint32_t stream, const char *const *nv)
{
	nghttp2_nv list[16];
	size_t n = 0;
	for (; nv[2 * n]; n++)
		list[n] = (nghttp2_nv){(uint8_t *)nv[2 * n], (uint8_t *)nv[2 * n + 1], strlen(nv[2 * n]),
				       strlen(nv[2 * n + 1]), NGHTTP2_NV_FLAG_NONE};
	uint8_t block[1024];
	ssize_t len = nghttp2_hd_deflate_hd(e->d, block, sizeof(block), list, n);
	assert_true(len > 0);
	return frame(out, 1, flags | 4 /* END_HEADERS */, stream, block, (size_t)len);
}

static json_t *finish(struct tv_harness *h)
{
	json_t *e = tv_harness_close(h);
	assert_non_null(e);
	return e;
}

static void open_h2(struct tv_harness *h, struct enc *c, struct enc *s)
{
	assert_int_equal(tv_harness_open(h, "http2", false, NULL), 0);
	assert_int_equal(nghttp2_hd_deflate_new(&c->d, 4096), 0);
	assert_int_equal(nghttp2_hd_deflate_new(&s->d, 4096), 0);
	uint8_t f[64];
	tv_harness_send(h, 0, PREFACE, 24);
	tv_harness_send(h, 0, f, frame(f, 4, 0, 0, "", 0)); /* SETTINGS */
	tv_harness_send(h, 1, f, frame(f, 4, 0, 0, "", 0));
}

static void close_h2(struct enc *c, struct enc *s)
{
	nghttp2_hd_deflate_del(c->d);
	nghttp2_hd_deflate_del(s->d);
}

static const char *const get_a[] = {":method", "GET",   ":scheme", "http", ":authority",
				    "api",     ":path", "/a",      NULL};
static const char *const get_b[] = {":method", "GET",   ":scheme", "http", ":authority",
				    "api",     ":path", "/b",      NULL};
static const char *const ok_json[] = {":status", "200", "content-type", "application/json", NULL};
static const char *const not_found[] = {":status", "404", NULL};

static void test_interleaved_streams(void **state)
{
	(void)state;
	struct tv_harness h;
	struct enc c, s;
	open_h2(&h, &c, &s);
	uint8_t f[2048];
	tv_harness_send(&h, 0, f, headers(&c, f, 1, 1, get_a));
	tv_harness_send(&h, 0, f, headers(&c, f, 1, 3, get_b));
	tv_harness_send(&h, 1, f, headers(&s, f, 0, 3, not_found));
	tv_harness_send(&h, 1, f, headers(&s, f, 0, 1, ok_json));
	tv_harness_send(&h, 1, f, frame(f, 0, 1, 3, "", 0));
	tv_harness_send(&h, 1, f, frame(f, 0, 1, 1, "{\"a\":1}", 7));
	json_t *e = finish(&h);
	close_h2(&c, &s);
	assert_int_equal(json_array_size(e), 2);
	/* emitted as each response ended: stream 3 first */
	assert_string_equal(tv_j_str(e, "0.request.path"), "/b");
	assert_int_equal(tv_j_int(e, "0.response.status"), 404);
	assert_true(tv_j_true(e, "0.failed"));
	assert_string_equal(tv_j_str(e, "1.request.url"), "http://api/a");
	assert_string_equal(tv_j_str(e, "1.response.content.text"), "{\"a\":1}");
	assert_string_equal(tv_j_str(e, "1.protocol.version"), "2");
	json_decref(e);
}

static void test_response_first_and_reset(void **state)
{
	(void)state;
	struct tv_harness h;
	struct enc c, s;
	open_h2(&h, &c, &s);
	uint8_t f[2048];
	/* the server's frames of stream 1 captured before the client's */
	tv_harness_send(&h, 1, f, headers(&s, f, 1, 1, not_found));
	tv_harness_send(&h, 0, f, headers(&c, f, 1, 1, get_a));
	/* stream 3 is reset by the client */
	tv_harness_send(&h, 0, f, headers(&c, f, 1, 3, get_b));
	tv_harness_send(&h, 0, f, frame(f, 3, 0, 3, "\0\0\0\x08", 4)); /* CANCEL */
	json_t *e = finish(&h);
	close_h2(&c, &s);
	assert_int_equal(json_array_size(e), 2);
	assert_string_equal(tv_j_str(e, "0.request.path"), "/a");
	assert_int_equal(tv_j_int(e, "0.response.status"), 404);
	assert_true(json_is_null(tv_j(e, "0.error")));
	assert_string_equal(tv_j_str(e, "1.error"), "stream reset (RST_STREAM error code 8)");
	json_decref(e);
}

static void test_gap_ends_the_direction(void **state)
{
	(void)state;
	struct tv_harness h;
	struct enc c, s;
	open_h2(&h, &c, &s);
	uint8_t f[2048];
	tv_harness_send(&h, 0, f, headers(&c, f, 1, 1, get_a));
	tv_harness_gap(&h, 1, 100);
	tv_harness_send(&h, 1, f, headers(&s, f, 1, 1, ok_json)); /* not decodable after the gap */
	json_t *e = finish(&h);
	close_h2(&c, &s);
	assert_int_equal(json_array_size(e), 1);
	assert_string_equal(tv_j_str(e, "0.error"), "frames lost (gap in the capture)");
	json_decref(e);
}

static const char *const grpc_req[] = {":method",
				       "POST",
				       ":scheme",
				       "http",
				       ":authority",
				       "svc:50051",
				       ":path",
				       "/helloworld.Greeter/SayHello",
				       "content-type",
				       "application/grpc",
				       NULL};
static const char *const grpc_resp[] = {":status", "200", "content-type", "application/grpc", NULL};
static const char *const grpc_ok[] = {"grpc-status", "0", "grpc-message", "", NULL};
static const char *const grpc_fail[] = {":status",          "200",         "content-type",
					"application/grpc", "grpc-status", "5",
					"grpc-message",     "not found",   NULL};

static void test_grpc_call_and_trailers_only_failure(void **state)
{
	(void)state;
	struct tv_harness h;
	struct enc c, s;
	open_h2(&h, &c, &s);
	uint8_t f[2048];
	static const uint8_t msg[] = {0, 0, 0, 0, 7, 0x0a, 0x05, 'w', 'o', 'r', 'l', 'd'};
	tv_harness_send(&h, 0, f, headers(&c, f, 0, 1, grpc_req));
	tv_harness_send(&h, 0, f, frame(f, 0, 1, 1, msg, sizeof(msg)));
	tv_harness_send(&h, 1, f, headers(&s, f, 0, 1, grpc_resp));
	tv_harness_send(&h, 1, f, frame(f, 0, 0, 1, msg, sizeof(msg)));
	tv_harness_send(&h, 1, f, headers(&s, f, 1, 1, grpc_ok));
	/* a trailers-only failure on stream 3 */
	tv_harness_send(&h, 0, f, headers(&c, f, 0, 3, grpc_req));
	tv_harness_send(&h, 0, f, frame(f, 0, 1, 3, msg, sizeof(msg)));
	tv_harness_send(&h, 1, f, headers(&s, f, 1, 3, grpc_fail));
	json_t *e = finish(&h);
	close_h2(&c, &s);
	assert_int_equal(json_array_size(e), 2);
	assert_string_equal(tv_j_str(e, "0.protocol.name"), "grpc");
	assert_string_equal(tv_j_str(e, "0.request.service"), "helloworld.Greeter");
	assert_string_equal(tv_j_str(e, "0.request.grpcMethod"), "SayHello");
	assert_int_equal(tv_j_int(e, "0.request.messages.0.size"), 7);
	assert_string_equal(tv_j_str(e, "0.request.messages.0.base64"), "CgV3b3JsZA==");
	assert_int_equal(tv_j_int(e, "0.response.grpcStatus"), 0);
	assert_false(tv_j_true(e, "0.failed"));
	assert_int_equal(tv_j_int(e, "1.response.grpcStatus"), 5);
	assert_string_equal(tv_j_str(e, "1.response.grpcMessage"), "not found");
	assert_true(tv_j_true(e, "1.failed"));
	json_decref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interleaved_streams),
		cmocka_unit_test(test_response_first_and_reset),
		cmocka_unit_test(test_gap_ends_the_direction),
		cmocka_unit_test(test_grpc_call_and_trailers_only_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
