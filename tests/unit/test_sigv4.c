/* SPDX-License-Identifier: Apache-2.0 */
/* SigV4: the worked examples of AWS's S3 documentation ("Signature
 * Calculations for the Authorization Header: Transferring Payload in a Single
 * Chunk"), reproduced byte for byte, plus S3's URI encoding of odd keys. */
#include <string.h>

#include "archive/common/sha256.h"
#include "archive/store/s3/sigv4.h"
#include "testutil.h"

static const struct tv_sigv4_key key = {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
					"us-east-1", "s3"};
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DATE "20130524T000000Z"
#define HOST "examplebucket.s3.amazonaws.com"

static void expect(const struct tv_sigv4_request *r, const char *signed_headers, const char *signature)
{
	char auth[512], want[512];
	assert_int_equal(tv_sigv4_authorization(&key, r, auth, sizeof(auth)), 0);
	snprintf(want, sizeof(want),
		 "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
		 "SignedHeaders=%s,Signature=%s",
		 signed_headers, signature);
	assert_string_equal(auth, want);
}

static void test_get_object(void **state)
{
	(void)state;
	const struct tv_sigv4_param h[] = {{"Host", HOST},
					   {"Range", "bytes=0-9"},
					   {"x-amz-content-sha256", EMPTY_SHA},
					   {"x-amz-date", DATE}};
	struct tv_sigv4_request r = {"GET", "/test.txt", NULL, 0, h, 4, EMPTY_SHA, DATE};
	expect(&r, "host;range;x-amz-content-sha256;x-amz-date",
	       "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

static void test_put_object(void **state)
{
	(void)state;
	uint8_t sha[32];
	char hex[65];
	tv_sha256("Welcome to Amazon S3.", 21, sha);
	tv_hex(sha, 32, hex);
	assert_string_equal(hex, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
	const struct tv_sigv4_param h[] = {{"Host", HOST},
					   {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
					   {"x-amz-date", DATE},
					   {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
					   {"x-amz-content-sha256", hex}};
	struct tv_sigv4_request r = {"PUT", "/test$file.text", NULL, 0, h, 5, hex, DATE};
	expect(&r, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
	       "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

static void test_get_bucket_lifecycle(void **state)
{
	(void)state;
	const struct tv_sigv4_param q[] = {{"lifecycle", NULL}};
	const struct tv_sigv4_param h[] = {
		{"Host", HOST}, {"x-amz-date", DATE}, {"x-amz-content-sha256", EMPTY_SHA}};
	struct tv_sigv4_request r = {"GET", "/", q, 1, h, 3, EMPTY_SHA, DATE};
	expect(&r, "host;x-amz-content-sha256;x-amz-date",
	       "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

static void test_list_objects(void **state)
{
	(void)state;
	/* given out of order: the canonical query sorts them */
	const struct tv_sigv4_param q[] = {{"prefix", "J"}, {"max-keys", "2"}};
	const struct tv_sigv4_param h[] = {
		{"Host", HOST}, {"x-amz-date", DATE}, {"x-amz-content-sha256", EMPTY_SHA}};
	struct tv_sigv4_request r = {"GET", "/", q, 2, h, 3, EMPTY_SHA, DATE};
	expect(&r, "host;x-amz-content-sha256;x-amz-date",
	       "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

static void test_uri_encoding(void **state)
{
	(void)state;
	struct tv_buf b;
	tv_buf_init(&b, 0);
	assert_int_equal(tv_sigv4_uri_encode(&b, "/a b/c:d+e%f/ü~._-", 1), 0);
	tv_buf_put_u8(&b, 0);
	assert_string_equal((char *)b.data, "/a%20b/c%3Ad%2Be%25f/%C3%BC~._-");
	tv_buf_reset(&b);
	assert_int_equal(tv_sigv4_uri_encode(&b, "x/y", 0), 0);
	tv_buf_put_u8(&b, 0);
	assert_string_equal((char *)b.data, "x%2Fy");
	tv_buf_cleanup(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_object),           cmocka_unit_test(test_put_object),
		cmocka_unit_test(test_get_bucket_lifecycle), cmocka_unit_test(test_list_objects),
		cmocka_unit_test(test_uri_encoding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
