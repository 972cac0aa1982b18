/* SPDX-License-Identifier: Apache-2.0 */
/* s3_internal: what the files of the s3:// backend share (store_s3.c: the
 * object operations; s3_request.c: building, signing, running and retrying
 * one exchange; s3_multipart.c: multipart uploads). Not for other callers. */
#ifndef TV_S3_INTERNAL_H
#define TV_S3_INTERNAL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "archive/store/s3/s3_config.h"
#include "archive/store/s3/sigv4.h"
#include "archive/store/store_s3.h"

#define MIN_PART ((uint64_t)5 << 20)
#define MAX_PARTS 10000
#define ERR_BODY_MAX (64u << 10)
#define MAX_HEADERS 12

struct s3_store {
	struct tv_store base;
	struct tv_s3_opts o;
	struct tv_s3_config c;
	char *bucket, *prefix; /* prefix without trailing '/', may be "" */
	bool path_style;
	CURLM *multi;
	CURL **pool;
	unsigned npool;
	struct tv_s3_stats stats;
	bool token_expired; /* the last answer said the credentials expired */
};

/* One HTTP exchange. The caller fills the request half; req_* fill the rest. */
struct s3_req {
	const char *method;
	const char *key; /* full key in the bucket; NULL addresses the bucket */
	struct tv_sigv4_param query[6];
	size_t nquery;
	const char *range, *if_none_match, *content_type;
	const char *lock_mode, *lock_until; /* x-amz-object-lock-*: a put under retention */
	bool need_md5;                      /* S3 wants a Content-MD5 (?retention, ?legal-hold) */
	const uint8_t *body;
	size_t body_len;
	const uint8_t *body_sha256; /* the body's SHA-256 when the caller knows it (NULL: computed) */
	struct tv_buf *out;         /* a 2xx body goes here; NULL discards it */
	/* filled by the exchange */
	size_t body_pos;
	CURL *easy;
	struct curl_slist *headers;
	struct tv_buf err; /* a non-2xx body */
	char md5_hex[33];
	long status;
	CURLcode cc;
	bool too_big;
	char etag[128];
	uint64_t content_length;
	bool have_length;
	char last_modified[64];
	char curl_msg[CURL_ERROR_SIZE];
};

/* "PREFIX/key" (the full key in the bucket) into out. */
void tv_s3_full_key(const struct s3_store *s, const char *key, char *out, size_t n);
/* An empty exchange of method on key (a full key; NULL: the bucket). */
void tv_s3_req_init(struct s3_req *r, const char *method, const char *key);
void tv_s3_req_cleanup(struct s3_req *r);
/* One request with retries on transient failures. @return 0 or a store error. */
int tv_s3_req_run(struct s3_store *s, struct s3_req *r);
/* Runs n initialised requests concurrently on the pool (n <= npool); each
 * result is then read with tv_s3_req_result. @return 0 or a setup error. */
int tv_s3_run_batch(struct s3_store *s, struct s3_req **rs, size_t n);
/* A finished exchange as 0 or an error with a message naming the object. */
int tv_s3_req_result(struct s3_store *s, const struct s3_req *r);
/* Whether an error is worth another attempt (transient, or a bad checksum). */
bool tv_s3_retryable(int rc);
/* An HTTP status and S3 error code as a store.h / store_s3.h error. */
int tv_s3_status_error(long status, const char *code);

/* -EEXIST when key exists (HEAD-then-PUT create-if-absent: racy; documented). */
int tv_s3_ensure_absent(struct s3_store *s, const char *key);
/* A listed full key made relative to the store's prefix (in place). */
char *tv_s3_relative(const struct s3_store *s, char *full);
/* Object Lock and versions (s3_versions.c): the optional store ops. */
int tv_s3_object_lock(struct tv_store *st);
int tv_s3_put_retained(struct tv_store *st, const char *key, const void *data, size_t len, int flags,
		       const struct tv_store_retention *r);
int tv_s3_set_retention(struct tv_store *st, const char *key, const struct tv_store_retention *r,
			bool legal_hold);
int tv_s3_get_retention(struct tv_store *st, const char *key, struct tv_store_lock_state *out);
int tv_s3_each_version(struct tv_store *st, const char *prefix, tv_store_version_fn fn, void *ctx);
int tv_s3_get_version(struct tv_store *st, const char *key, const char *version_id, struct tv_buf *out);

/* What a multipart upload sends: memory (a caller's buffer or a mapped file). */
struct part_source {
	const uint8_t *mem;
	uint64_t size;
};
/* Uploads src as key in parts (options' part size and parallelism); aborts
 * the upload on failure. */
int tv_s3_put_multipart(struct s3_store *s, const char *key, const struct part_source *src, int flags);
/* Aborts a multipart upload (one already gone counts as aborted). */
int tv_s3_abort_upload(struct s3_store *s, const char *key, const char *upload_id);

#endif
