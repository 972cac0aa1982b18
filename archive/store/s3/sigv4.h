/* SPDX-License-Identifier: Apache-2.0 */
/* sigv4: AWS Signature Version 4 for S3 requests, on OpenSSL libcrypto.
 *
 * Written here rather than taken from libs3 (SigV2 only) or curl 7.88's
 * CURLOPT_AWS_SIGV4 (mis-signs valueless query parameters such as ?uploads
 * and never adds the session token); see DESIGN.md. Checked against the
 * worked examples of AWS's S3 SigV4 documentation (tests/unit/test_sigv4.c). */
#ifndef TV_SIGV4_H
#define TV_SIGV4_H

#include <stddef.h>

#include "archive/common/buf.h"

struct tv_sigv4_key {
	const char *access_key;
	const char *secret_key; /* never logged */
	const char *region;
	const char *service; /* "s3" */
};

struct tv_sigv4_param {
	const char *name, *value; /* unencoded; value NULL for a valueless parameter ("uploads") */
};

struct tv_sigv4_request {
	const char *method;
	const char *path; /* unencoded, starting with '/' (e.g. "/bucket/key with space") */
	const struct tv_sigv4_param *query;
	size_t nquery;
	const struct tv_sigv4_param *headers; /* every header to sign, host and x-amz-* included */
	size_t nheaders;
	const char *payload_sha256_hex; /* or "UNSIGNED-PAYLOAD" */
	const char *amz_date;           /* "20130524T000000Z", also in the x-amz-date header */
};

/* Writes the Authorization header value ("AWS4-HMAC-SHA256 Credential=...,
 * SignedHeaders=...,Signature=...") into out. @return 0, -ENOSPC (out too
 * small), -EINVAL (bad date), -ENOMEM. */
int tv_sigv4_authorization(const struct tv_sigv4_key *k, const struct tv_sigv4_request *r, char *out,
			   size_t n);

/* S3's URI encoding: every byte but A-Z a-z 0-9 - . _ ~ as %XX, and '/' too
 * unless keep_slash. Appends to out. @return 0 or -EFBIG/-ENOMEM. */
int tv_sigv4_uri_encode(struct tv_buf *out, const char *s, int keep_slash);

#endif
