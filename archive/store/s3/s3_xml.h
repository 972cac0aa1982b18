/* SPDX-License-Identifier: Apache-2.0 */
/* s3_xml: the few S3 XML response bodies tapvault reads, parsed with libxml2
 * (no network, no entities beyond XML's own). Every parser takes untrusted
 * bytes and is fuzzed (tests/fuzz/fuzz_s3_xml.c). */
#ifndef TV_S3_XML_H
#define TV_S3_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* <Error><Code>..</Code><Message>..</Message></Error>: copies what is there
 * (empty strings otherwise). @return 0 when the body is an Error document. */
int tv_s3_xml_error(const char *body, size_t len, char *code, size_t ncode, char *msg, size_t nmsg);

struct tv_s3_xml_list {
	struct tv_s3_xml_object {
		char *key;
		uint64_t size;
		uint64_t mtime_ns;
	} * objects;
	size_t nobjects;
	char **prefixes;
	size_t nprefixes;
	char *next_token; /* NextContinuationToken when IsTruncated */
};
/* ListBucketResult (ListObjectsV2). @return 0, TV_ECORRUPT, -ENOMEM. */
int tv_s3_xml_list(const char *body, size_t len, struct tv_s3_xml_list *out);
void tv_s3_xml_list_cleanup(struct tv_s3_xml_list *l);

/* InitiateMultipartUploadResult: the UploadId (caller frees). */
int tv_s3_xml_upload_id(const char *body, size_t len, char **upload_id);

/* ListMultipartUploadsResult: each Upload's key, id and initiation time. */
struct tv_s3_xml_uploads {
	struct tv_s3_xml_upload {
		char *key, *upload_id;
		uint64_t initiated_ns;
	} * uploads;
	size_t n;
	char *next_key, *next_upload_id; /* when IsTruncated */
};
int tv_s3_xml_uploads(const char *body, size_t len, struct tv_s3_xml_uploads *out);
void tv_s3_xml_uploads_cleanup(struct tv_s3_xml_uploads *u);

/* ListVersionsResult (ListObjectVersions): every Version and DeleteMarker in
 * the answer's order (by key, newest first). */
struct tv_s3_xml_versions {
	struct tv_s3_xml_version {
		char *key, *version_id;
		uint64_t size, mtime_ns;
		bool latest, delete_marker;
	} * versions;
	size_t n;
	char *next_key, *next_version_id; /* when IsTruncated */
};
int tv_s3_xml_versions(const char *body, size_t len, struct tv_s3_xml_versions *out);
void tv_s3_xml_versions_cleanup(struct tv_s3_xml_versions *v);

/* ObjectLockConfiguration: *enabled = ObjectLockEnabled is "Enabled".
 * @return 0 or TV_ECORRUPT. */
int tv_s3_xml_object_lock(const char *body, size_t len, bool *enabled);
/* GetObjectRetention's <Retention> (Mode, RetainUntilDate) and
 * GetObjectLegalHold's <LegalHold> (Status). @return 0 or TV_ECORRUPT. */
int tv_s3_xml_retention(const char *body, size_t len, bool *compliance, uint64_t *until_ns);
int tv_s3_xml_legal_hold(const char *body, size_t len, bool *on);
/* STS AssumeRoleWithWebIdentityResponse's Credentials (malloc'd strings).
 * @return 0 or TV_ECORRUPT (nothing allocated). */
int tv_s3_xml_sts_credentials(const char *body, size_t len, char **access_key, char **secret_key,
			      char **session_token, uint64_t *expires_ns);

/* "2026-11-23T10:00:00.000Z" → ns since the epoch. @return 0 or -EINVAL. */
int tv_s3_parse_iso8601(const char *s, uint64_t *ns);

#endif
