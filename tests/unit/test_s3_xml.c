/* SPDX-License-Identifier: Apache-2.0 */
/* s3_xml: the S3 answers tapvault reads, as S3 and RGW write them (with and
 * without the xmlns), and what each parser refuses: a truncated listing with
 * no way on, an element with an empty key, a document of another kind. */
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/store/s3/s3_xml.h"
#include "testutil.h"

#define NS " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

static int parse_list(const char *x, struct tv_s3_xml_list *l)
{
	return tv_s3_xml_list(x, strlen(x), l);
}

static void test_error(void **state)
{
	(void)state;
	char code[32], msg[64];
	const char *x = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>gone</Message></Error>";
	assert_int_equal(tv_s3_xml_error(x, strlen(x), code, sizeof(code), msg, sizeof(msg)), 0);
	assert_string_equal(code, "NoSuchKey");
	assert_string_equal(msg, "gone");
	assert_int_equal(tv_s3_xml_error("<a/>", 4, code, sizeof(code), msg, sizeof(msg)), -EINVAL);
	assert_int_equal(tv_s3_xml_error("<Error", 6, code, sizeof(code), msg, sizeof(msg)), -EINVAL);
}

static void test_list(void **state)
{
	(void)state;
	struct tv_s3_xml_list l;
	const char *x = "<ListBucketResult" NS "><IsTruncated>true</IsTruncated>"
			"<Contents><Key>p/a</Key><Size>12</Size><LastModified>2026-11-23T10:00:00.500Z</"
			"LastModified></Contents>"
			"<CommonPrefixes><Prefix>p/d/</Prefix></CommonPrefixes>"
			"<NextContinuationToken>tok</NextContinuationToken></ListBucketResult>";
	assert_int_equal(parse_list(x, &l), 0);
	assert_int_equal(l.nobjects, 1);
	assert_string_equal(l.objects[0].key, "p/a");
	assert_int_equal(l.objects[0].size, 12);
	assert_int_equal(l.objects[0].mtime_ns, 1795428000500000000ULL);
	assert_int_equal(l.nprefixes, 1);
	assert_string_equal(l.prefixes[0], "p/d/");
	assert_string_equal(l.next_token, "tok");
	tv_s3_xml_list_cleanup(&l);
	assert_int_equal(
		parse_list("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", &l),
		TV_ECORRUPT);
	assert_int_equal(parse_list("<ListBucketResult><Contents><Key></Key><Size>1</Size></Contents>"
				    "</ListBucketResult>",
				    &l),
			 TV_ECORRUPT);
	assert_int_equal(parse_list("<ListBucketResult><Contents><Key>k</Key><Size>-1x</Size></Contents>"
				    "</ListBucketResult>",
				    &l),
			 TV_ECORRUPT);
	assert_int_equal(parse_list("<ListAllMyBucketsResult/>", &l), TV_ECORRUPT);
}

static void test_uploads(void **state)
{
	(void)state;
	struct tv_s3_xml_uploads u;
	const char *x = "<ListMultipartUploadsResult" NS "><IsTruncated>true</IsTruncated>"
			"<NextKeyMarker>k2</NextKeyMarker><NextUploadIdMarker>u2</NextUploadIdMarker>"
			"<Upload><Key>k1</Key><UploadId>u1</UploadId><Initiated>2026-11-23T10:00:00Z</"
			"Initiated></Upload>"
			"</ListMultipartUploadsResult>";
	assert_int_equal(tv_s3_xml_uploads(x, strlen(x), &u), 0);
	assert_int_equal(u.n, 1);
	assert_string_equal(u.uploads[0].upload_id, "u1");
	assert_int_equal(u.uploads[0].initiated_ns, 1795428000000000000ULL);
	assert_string_equal(u.next_key, "k2");
	tv_s3_xml_uploads_cleanup(&u);
	char *id;
	const char *init =
		"<InitiateMultipartUploadResult><UploadId>abc</UploadId></InitiateMultipartUploadResult>";
	assert_int_equal(tv_s3_xml_upload_id(init, strlen(init), &id), 0);
	assert_string_equal(id, "abc");
	free(id);
	const char *empty =
		"<InitiateMultipartUploadResult><UploadId></UploadId></InitiateMultipartUploadResult>";
	assert_int_equal(tv_s3_xml_upload_id(empty, strlen(empty), &id), TV_ECORRUPT);
}

/* RGW's answer for a checkpoint deleted in an Object Lock bucket: the delete
 * marker first (latest), the locked version after it. */
static void test_versions(void **state)
{
	(void)state;
	struct tv_s3_xml_versions v;
	const char *x =
		"<ListVersionsResult" NS "><IsTruncated>true</IsTruncated><NextKeyMarker>a/y</NextKeyMarker>"
		"<NextVersionIdMarker>v9</NextVersionIdMarker>"
		"<DeleteMarker><Key>a/x</Key><VersionId>m1</VersionId><IsLatest>true</IsLatest>"
		"<LastModified>2026-12-01T21:13:58.709Z</LastModified></DeleteMarker>"
		"<Version><Key>a/x</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest>"
		"<LastModified>2026-12-01T21:13:56Z</LastModified><Size>3</Size></Version>"
		"<Version><Key>a/y</Key><VersionId>null</VersionId><IsLatest>true</IsLatest><Size>0</Size></"
		"Version>"
		"</ListVersionsResult>";
	assert_int_equal(tv_s3_xml_versions(x, strlen(x), &v), 0);
	assert_int_equal(v.n, 3);
	assert_true(v.versions[0].delete_marker && v.versions[0].latest);
	assert_string_equal(v.versions[0].version_id, "m1");
	assert_false(v.versions[1].delete_marker || v.versions[1].latest);
	assert_int_equal(v.versions[1].size, 3);
	assert_int_equal(v.versions[1].mtime_ns, 1796159636000000000ULL);
	assert_string_equal(v.versions[2].version_id, "null");
	assert_string_equal(v.next_key, "a/y");
	assert_string_equal(v.next_version_id, "v9");
	tv_s3_xml_versions_cleanup(&v);
	const char *no_id =
		"<ListVersionsResult><Version><Key>a</Key><Size>1</Size></Version></ListVersionsResult>";
	assert_int_equal(tv_s3_xml_versions(no_id, strlen(no_id), &v), TV_ECORRUPT);
	const char *stuck = "<ListVersionsResult><IsTruncated>true</IsTruncated></ListVersionsResult>";
	assert_int_equal(tv_s3_xml_versions(stuck, strlen(stuck), &v), TV_ECORRUPT);
}

static void test_object_lock(void **state)
{
	(void)state;
	bool on = false;
	const char *x =
		"<ObjectLockConfiguration" NS "><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
		"<Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>1</Days></DefaultRetention></Rule>"
		"</ObjectLockConfiguration>";
	assert_int_equal(tv_s3_xml_object_lock(x, strlen(x), &on), 0);
	assert_true(on);
	const char *off = "<ObjectLockConfiguration></ObjectLockConfiguration>";
	assert_int_equal(tv_s3_xml_object_lock(off, strlen(off), &on), 0);
	assert_false(on);
	assert_int_equal(tv_s3_xml_object_lock("<Error/>", 8, &on), TV_ECORRUPT);
}

/* GetObjectRetention and GetObjectLegalHold answers, as AWS documents them */
static void test_retention_and_hold(void **state)
{
	(void)state;
	const char *r = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
			"<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>COMPLIANCE</Mode>"
			"<RetainUntilDate>2027-03-01T12:00:00.000Z</RetainUntilDate></Retention>";
	bool compliance = false, on = false;
	uint64_t until = 0;
	assert_int_equal(tv_s3_xml_retention(r, strlen(r), &compliance, &until), 0);
	assert_true(compliance);
	assert_true(until == 1803902400ULL * 1000000000ULL);
	const char *g =
		"<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2027-03-01T12:00:00Z</RetainUntilDate>"
		"</Retention>";
	assert_int_equal(tv_s3_xml_retention(g, strlen(g), &compliance, &until), 0);
	assert_false(compliance);
	const char *bad =
		"<Retention><Mode>FOREVER</Mode><RetainUntilDate>2027-03-01T12:00:00Z</RetainUntilDate>"
		"</Retention>";
	assert_int_equal(tv_s3_xml_retention(bad, strlen(bad), &compliance, &until), TV_ECORRUPT);
	const char *nodate = "<Retention><Mode>GOVERNANCE</Mode></Retention>";
	assert_int_equal(tv_s3_xml_retention(nodate, strlen(nodate), &compliance, &until), TV_ECORRUPT);
	const char *h = "<LegalHold "
			"xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>ON</Status></LegalHold>";
	assert_int_equal(tv_s3_xml_legal_hold(h, strlen(h), &on), 0);
	assert_true(on);
	const char *off = "<LegalHold><Status>OFF</Status></LegalHold>";
	assert_int_equal(tv_s3_xml_legal_hold(off, strlen(off), &on), 0);
	assert_false(on);
	assert_int_equal(tv_s3_xml_legal_hold("<Error/>", 8, &on), TV_ECORRUPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error),       cmocka_unit_test(test_list),
		cmocka_unit_test(test_uploads),     cmocka_unit_test(test_versions),
		cmocka_unit_test(test_object_lock), cmocka_unit_test(test_retention_and_hold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
