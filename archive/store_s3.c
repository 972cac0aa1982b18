/* SPDX-License-Identifier: Apache-2.0 */
/* store_s3: s3://BUCKET/PREFIX on libcurl (see store_s3.h).
 *
 * Every request goes through one curl multi handle and a small pool of easy
 * handles, so connections are reused across requests and multipart parts run
 * in parallel. Each request is signed with SigV4 over its payload's SHA-256
 * (x-amz-content-sha256), which S3 and RGW recompute and check, so a body
 * changed on the way is refused (XAmzContentSHA256Mismatch -> -EBADMSG).
 * With content_md5, Content-MD5 is sent too and a returned MD5 ETag checked;
 * it is off by default because MD5 costs more CPU than the rest of an upload. Transient failures (network,
 * timeouts, 5xx, 429/SlowDown) are retried with capped exponential backoff and
 * jitter; the rest map to the errors documented in store_s3.h. */
#include "archive/store_s3.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/common/log.h"
#include "archive/common/sha256.h"
#include "archive/common/timeutil.h"
#include "archive/s3_config.h"
#include "archive/s3_xml.h"
#include "archive/sigv4.h"

#define MIN_PART ((uint64_t)5 << 20)
#define MAX_PARTS 10000
#define ERR_BODY_MAX (64u << 10)
#define MAX_HEADERS 10
#define TOKEN_MARK '\x01' /* `after` values that are continuation tokens start with it */

static const struct tv_s3_opts default_opts = {
	.multipart_threshold = (uint64_t)64 << 20,
	.part_size = (uint64_t)16 << 20,
	.parallel = 4,
	.retries = 4,
	.connect_timeout_ms = 5000,
	.low_speed_timeout_s = 30,
};
static struct tv_s3_opts process_opts;
static bool have_process_opts;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

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
};

/* One HTTP exchange. The caller fills the request half; req_* fill the rest. */
struct s3_req {
	const char *method;
	const char *key; /* full key in the bucket; NULL addresses the bucket */
	struct tv_sigv4_param query[6];
	size_t nquery;
	const char *range, *if_none_match, *content_type;
	const uint8_t *body;
	size_t body_len;
	struct tv_buf *out; /* a 2xx body goes here; NULL discards it */
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

static struct s3_store *s3_of(struct tv_store *s)
{
	return (struct s3_store *)s;
}

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void tv_s3_set_defaults(const struct tv_s3_opts *o)
{
	have_process_opts = o != NULL;
	if (o)
		process_opts = *o;
}

/* ---- request building ---- */

static void full_key(const struct s3_store *s, const char *key, char *out, size_t n)
{
	snprintf(out, n, "%s%s%s", s->prefix, s->prefix[0] ? "/" : "", key);
}

static void amz_date(char out[17])
{
	time_t now = time(NULL);
	/* Tests shift the signing clock to provoke RequestTimeTooSkewed. */
	const char *skew = getenv("TAPVAULT_TEST_CLOCK_OFFSET_S");
	if (skew)
		now += (time_t)strtol(skew, NULL, 10);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* "/bucket/key" (path style) or "/key"; unencoded, as SigV4 wants it. */
static int request_path(const struct s3_store *s, const struct s3_req *r, struct tv_buf *path)
{
	int rc = 0;
	if (s->path_style)
		rc = tv_buf_printf(path, "/%s", s->bucket);
	if (!rc)
		rc = tv_buf_printf(path, "/%s", r->key ? r->key : "");
	if (!rc && s->path_style && !r->key)
		path->len--; /* "/bucket" rather than "/bucket/" */
	return rc ? rc : tv_buf_append(path, "", 1);
}

static int build_url(const struct s3_store *s, const struct s3_req *r, const char *host, const char *path,
		     struct tv_buf *url)
{
	int rc = tv_buf_printf(url, "%s://%s", s->c.https ? "https" : "http", host);
	if (!rc)
		rc = tv_sigv4_uri_encode(url, path, 1);
	for (size_t i = 0; !rc && i < r->nquery; i++) {
		rc = tv_buf_append_str(url, i ? "&" : "?");
		if (!rc)
			rc = tv_sigv4_uri_encode(url, r->query[i].name, 0);
		if (!rc && r->query[i].value && !(rc = tv_buf_append_str(url, "=")))
			rc = tv_sigv4_uri_encode(url, r->query[i].value, 0);
	}
	return rc ? rc : tv_buf_append(url, "", 1);
}

static int add_header(struct s3_req *r, const char *name, const char *value)
{
	char line[2048];
	snprintf(line, sizeof(line), "%s: %s", name, value);
	struct curl_slist *l = curl_slist_append(r->headers, line);
	if (!l)
		return -ENOMEM;
	r->headers = l;
	return 0;
}

/* Signs r and sets every header curl sends. */
static int sign_headers(struct s3_store *s, struct s3_req *r, const char *host, const char *path)
{
	uint8_t sha[32], md5[16];
	unsigned n;
	char sha_hex[65], md5_b64[32], date[17];
	tv_sha256(r->body ? r->body : (const uint8_t *)"", r->body_len, sha);
	tv_hex(sha, 32, sha_hex);
	amz_date(date);

	struct tv_sigv4_param h[MAX_HEADERS];
	size_t nh = 0;
	h[nh++] = (struct tv_sigv4_param){"host", host};
	h[nh++] = (struct tv_sigv4_param){"x-amz-content-sha256", sha_hex};
	h[nh++] = (struct tv_sigv4_param){"x-amz-date", date};
	if (s->c.session_token)
		h[nh++] = (struct tv_sigv4_param){"x-amz-security-token", s->c.session_token};
	if (r->body && s->o.content_md5) {
		EVP_Digest(r->body, r->body_len, md5, &n, EVP_md5(), NULL);
		EVP_EncodeBlock((unsigned char *)md5_b64, md5, 16);
		tv_hex(md5, 16, r->md5_hex);
		h[nh++] = (struct tv_sigv4_param){"content-md5", md5_b64};
	}
	if (r->range)
		h[nh++] = (struct tv_sigv4_param){"range", r->range};
	if (r->if_none_match)
		h[nh++] = (struct tv_sigv4_param){"if-none-match", r->if_none_match};

	struct tv_sigv4_key k = {s->c.access_key, s->c.secret_key, s->c.region, "s3"};
	struct tv_sigv4_request sr = {r->method, path, r->query, r->nquery, h, nh, sha_hex, date};
	char auth[1024];
	int rc = tv_sigv4_authorization(&k, &sr, auth, sizeof(auth));
	if (rc)
		return tv_err(rc, "%s: cannot sign the request", s->base.url);
	for (size_t i = 0; i < nh && !rc; i++)
		rc = add_header(r, h[i].name, h[i].value);
	if (!rc)
		rc = add_header(r, "Authorization", auth);
	if (!rc)
		rc = add_header(r, "Expect", ""); /* no 100-continue round trip */
	if (!rc && r->content_type)
		rc = add_header(r, "Content-Type", r->content_type);
	return rc;
}

/* ---- curl callbacks ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct s3_req *r = ctx;
	size_t n = size * nmemb;
	long status = 0;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	struct tv_buf *to = status >= 200 && status < 300 ? r->out : &r->err;
	if (!to)
		return n;
	if (tv_buf_append(to, data, n)) {
		r->too_big = to == r->out;
		return to == &r->err ? n : 0; /* an error body is only informative */
	}
	return n;
}

static size_t on_upload(char *dst, size_t size, size_t nmemb, void *ctx)
{
	struct s3_req *r = ctx;
	size_t n = r->body_len - r->body_pos;
	if (n > size * nmemb)
		n = size * nmemb;
	memcpy(dst, r->body + r->body_pos, n);
	r->body_pos += n;
	return n;
}

static int on_seek(void *ctx, curl_off_t off, int origin)
{
	struct s3_req *r = ctx;
	if (origin != SEEK_SET || off < 0 || (size_t)off > r->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	r->body_pos = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static void header_value(const char *line, size_t n, char *out, size_t size)
{
	const char *v = memchr(line, ':', n);
	if (!v)
		return;
	v++;
	while (v < line + n && (*v == ' ' || *v == '\t'))
		v++;
	size_t len = (size_t)(line + n - v);
	while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	snprintf(out, size, "%.*s", (int)len, v);
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ctx)
{
	struct s3_req *r = ctx;
	size_t n = size * nmemb;
	char v[128];
	if (n > 5 && strncasecmp(line, "etag:", 5) == 0)
		header_value(line, n, r->etag, sizeof(r->etag));
	else if (n > 14 && strncasecmp(line, "last-modified:", 14) == 0)
		header_value(line, n, r->last_modified, sizeof(r->last_modified));
	else if (n > 15 && strncasecmp(line, "content-length:", 15) == 0) {
		v[0] = '\0';
		header_value(line, n, v, sizeof(v));
		r->content_length = strtoull(v, NULL, 10);
		r->have_length = true;
	}
	return n;
}

/* ---- performing ---- */

static int req_setup(struct s3_store *s, CURL *e, struct s3_req *r)
{
	curl_easy_reset(e); /* keeps the connection cache */
	curl_slist_free_all(r->headers);
	r->headers = NULL;
	r->easy = e;
	r->body_pos = 0;
	r->status = 0;
	r->too_big = false;
	r->etag[0] = r->last_modified[0] = r->curl_msg[0] = r->md5_hex[0] = '\0';
	r->have_length = false;
	tv_buf_reset(&r->err);
	if (r->out)
		tv_buf_reset(r->out);

	char host[512];
	snprintf(host, sizeof(host), "%s%s%s", s->path_style ? "" : s->bucket, s->path_style ? "" : ".",
		 s->c.host);
	struct tv_buf path, url;
	tv_buf_init(&path, 8192);
	tv_buf_init(&url, 16384);
	int rc = request_path(s, r, &path);
	if (!rc)
		rc = build_url(s, r, host, (const char *)path.data, &url);
	if (!rc)
		rc = sign_headers(s, r, host, (const char *)path.data);
	if (!rc) {
		curl_easy_setopt(e, CURLOPT_URL, (const char *)url.data);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->curl_msg);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, s->o.connect_timeout_ms);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1024L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, s->o.low_speed_timeout_s);
		curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
		if (s->o.max_send_rate)
			curl_easy_setopt(e, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)s->o.max_send_rate);
		if (s->o.ca_bundle)
			curl_easy_setopt(e, CURLOPT_CAINFO, s->o.ca_bundle);
		if (s->o.insecure) {
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		}
		if (strcmp(r->method, "HEAD") == 0)
			curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		else if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0) {
			curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
			curl_easy_setopt(e, CURLOPT_READFUNCTION, on_upload);
			curl_easy_setopt(e, CURLOPT_READDATA, r);
			curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
			curl_easy_setopt(e, CURLOPT_SEEKDATA, r);
			if (strcmp(r->method, "POST") == 0)
				curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "POST");
		} else if (strcmp(r->method, "GET") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	}
	tv_buf_cleanup(&path);
	tv_buf_cleanup(&url);
	return rc;
}

static void req_cleanup(struct s3_req *r)
{
	curl_slist_free_all(r->headers);
	r->headers = NULL;
	tv_buf_cleanup(&r->err);
}

/* Runs n set-up requests concurrently on the pool (n <= npool). */
static int run_batch(struct s3_store *s, struct s3_req **rs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = req_setup(s, s->pool[i], rs[i]);
		if (rc) {
			for (size_t j = 0; j < i; j++)
				curl_multi_remove_handle(s->multi, s->pool[j]);
			return rc;
		}
		curl_multi_add_handle(s->multi, s->pool[i]);
		rs[i]->cc = CURLE_OK;
	}
	int running = 1;
	while (running) {
		CURLMcode mc = curl_multi_perform(s->multi, &running);
		if (!mc && running)
			mc = curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
		if (mc) {
			running = 0;
			for (size_t i = 0; i < n; i++)
				rs[i]->cc = CURLE_RECV_ERROR;
		}
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(s->multi, &left)))
			for (size_t i = 0; m->msg == CURLMSG_DONE && i < n; i++)
				if (m->easy_handle == s->pool[i])
					rs[i]->cc = m->data.result;
	}
	for (size_t i = 0; i < n; i++) {
		curl_easy_getinfo(s->pool[i], CURLINFO_RESPONSE_CODE, &rs[i]->status);
		curl_multi_remove_handle(s->multi, s->pool[i]);
		s->stats.requests++;
		s->stats.bytes_sent += rs[i]->body_pos;
		s->stats.bytes_received += rs[i]->out ? rs[i]->out->len : 0;
	}
	return 0;
}

static bool curl_transient(CURLcode cc)
{
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_WRITE_ERROR:
	case CURLE_OUT_OF_MEMORY: return false;
	default: return true;
	}
}

static const char *hint_for(const char *code)
{
	if (!strcmp(code, "SignatureDoesNotMatch"))
		return " (check AWS_SECRET_ACCESS_KEY)";
	if (!strcmp(code, "InvalidAccessKeyId"))
		return " (check AWS_ACCESS_KEY_ID)";
	if (!strcmp(code, "ExpiredToken") || !strcmp(code, "TokenRefreshRequired"))
		return " (refresh AWS_SESSION_TOKEN)";
	if (!strcmp(code, "RequestTimeTooSkewed"))
		return " (this machine's clock is off; fix NTP)";
	if (!strcmp(code, "NoSuchBucket"))
		return " (create the bucket, or fix the store URL)";
	return "";
}

/* Maps an HTTP status and S3 error code to store.h/store_s3.h errors. */
static int status_error(long status, const char *code)
{
	if (status == 404)
		return !strcmp(code, "NoSuchBucket") ? -ENXIO : -ENOENT;
	if (status == 412)
		return -EEXIST;
	if (status == 416)
		return TV_ETRUNC;
	if (status == 429 || status >= 500 || status == 409 || !strcmp(code, "RequestTimeout") ||
	    !strcmp(code, "SlowDown"))
		return -EAGAIN;
	if (!strcmp(code, "RequestTimeTooSkewed"))
		return -ETIME;
	if (!strcmp(code, "BadDigest") || !strcmp(code, "InvalidDigest") ||
	    !strcmp(code, "XAmzContentSHA256Mismatch"))
		return -EBADMSG;
	if (status == 403 || !strcmp(code, "ExpiredToken") || !strcmp(code, "InvalidToken") ||
	    !strcmp(code, "AuthorizationHeaderMalformed"))
		return -EACCES;
	return -EPROTO;
}

/* Turns a finished exchange into 0 or an error with a message naming the object. */
static int req_result(struct s3_store *s, const struct s3_req *r)
{
	const char *what = r->key ? r->key : "(bucket)";
	if (r->too_big)
		return tv_err(-EFBIG, "%s: %s %s: object larger than the buffer allows", s->base.url,
			      r->method, what);
	if (r->cc != CURLE_OK) {
		int rc = curl_transient(r->cc) ? -EAGAIN : -EPROTO;
		return tv_err(rc, "%s: %s %s: %s", s->base.url, r->method, what,
			      r->curl_msg[0] ? r->curl_msg : curl_easy_strerror(r->cc));
	}
	if (r->status >= 200 && r->status < 300) {
		/* the server computed the MD5 of what it stored; a plain-MD5 ETag must match ours */
		if (r->md5_hex[0] && strcmp(r->method, "PUT") == 0 && strlen(r->etag) == 34 &&
		    strncasecmp(r->etag + 1, r->md5_hex, 32) != 0)
			return tv_err(-EBADMSG, "%s: PUT %s: server ETag %s does not match MD5 %s",
				      s->base.url, what, r->etag, r->md5_hex);
		return 0;
	}
	char code[128], msg[512];
	tv_s3_xml_error((const char *)r->err.data, r->err.len, code, sizeof(code), msg, sizeof(msg));
	if (!code[0] && r->status == 403)
		snprintf(code, sizeof(code), "AccessDenied");
	int rc = status_error(r->status, code);
	if (rc == -ENOENT || rc == -EEXIST || rc == TV_ETRUNC)
		return tv_err(rc, "%s: %s %s: %ld %s", s->base.url, r->method, what, r->status,
			      code[0] ? code : "");
	return tv_err(rc, "%s: %s %s: HTTP %ld %s%s%s%s", s->base.url, r->method, what, r->status, code,
		      msg[0] ? ": " : "", msg, hint_for(code));
}

static void backoff_sleep(unsigned attempt)
{
	uint64_t ms = 100ULL << (attempt < 6 ? attempt : 6);
	if (ms > 5000)
		ms = 5000;
	ms = ms / 2 + (uint64_t)rand() % (ms / 2 + 1); /* jitter: [ms/2, ms] */
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static bool retryable(int rc)
{
	return rc == -EAGAIN || rc == -EBADMSG;
}

/* One request with retries on transient failures. */
static int req_run(struct s3_store *s, struct s3_req *r)
{
	int rc;
	for (unsigned attempt = 0;; attempt++) {
		struct s3_req *one = r;
		if ((rc = run_batch(s, &one, 1)))
			return rc;
		rc = req_result(s, r);
		if (!retryable(rc) || attempt >= s->o.retries)
			break;
		s->stats.retries++;
		tv_debug("%s (attempt %u, retrying)", tv_errmsg(), attempt + 1);
		backoff_sleep(attempt);
	}
	return rc;
}

static void req_init(struct s3_req *r, const char *method, const char *key)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->key = key;
	tv_buf_init(&r->err, ERR_BODY_MAX);
}

/* ---- object operations ---- */

static int head_full(struct s3_store *s, const char *key, struct tv_store_entry *out)
{
	struct s3_req r;
	req_init(&r, "HEAD", key);
	int rc = req_run(s, &r);
	if (!rc && out) {
		out->key = NULL;
		out->size = r.content_length;
		out->mtime_ns = 0;
		struct tm tm = {0};
		if (r.last_modified[0] && strptime(r.last_modified, "%a, %d %b %Y %H:%M:%S GMT", &tm))
			out->mtime_ns = (uint64_t)timegm(&tm) * 1000000000ULL;
	}
	req_cleanup(&r);
	return rc;
}

/* HEAD-then-PUT create-if-absent: -EEXIST when key is there (racy; documented). */
static int ensure_absent(struct s3_store *s, const char *key)
{
	int rc = head_full(s, key, NULL);
	if (rc == 0)
		return tv_err(-EEXIST, "%s: %s: already exists", s->base.url, key);
	return rc == -ENOENT ? 0 : rc;
}

static int put_single(struct s3_store *s, const char *key, const void *data, size_t len, int flags)
{
	struct s3_req r;
	req_init(&r, "PUT", key);
	r.body = data ? data : (const uint8_t *)"";
	r.body_len = len;
	if ((flags & TV_PUT_CREATE_ONLY) && s->o.create_mode == TV_S3_CREATE_IF_NONE_MATCH)
		r.if_none_match = "*";
	int rc = req_run(s, &r);
	req_cleanup(&r);
	return rc;
}

/* What a multipart upload sends: memory (a caller's buffer or a mapped file). */
struct part_source {
	const uint8_t *mem;
	uint64_t size;
};

static int mp_initiate(struct s3_store *s, const char *key, char **upload_id)
{
	struct s3_req r;
	struct tv_buf body;
	tv_buf_init(&body, 1 << 20);
	req_init(&r, "POST", key);
	r.query[r.nquery++] = (struct tv_sigv4_param){"uploads", NULL};
	r.out = &body;
	int rc = req_run(s, &r);
	if (!rc && tv_s3_xml_upload_id((const char *)body.data, body.len, upload_id))
		rc = tv_err(-EPROTO, "%s: POST %s?uploads: no UploadId in the answer", s->base.url, key);
	req_cleanup(&r);
	tv_buf_cleanup(&body);
	return rc;
}

static int mp_abort(struct s3_store *s, const char *key, const char *upload_id)
{
	struct s3_req r;
	req_init(&r, "DELETE", key);
	r.query[r.nquery++] = (struct tv_sigv4_param){"uploadId", upload_id};
	int rc = req_run(s, &r);
	req_cleanup(&r);
	return rc == -ENOENT ? 0 : rc;
}

static int mp_complete(struct s3_store *s, const char *key, const char *upload_id, char (*etags)[128],
		       unsigned nparts)
{
	struct tv_buf xml, answer;
	tv_buf_init(&xml, (size_t)nparts * 200 + 256);
	tv_buf_init(&answer, 1 << 20);
	int rc = tv_buf_append_str(&xml, "<CompleteMultipartUpload>");
	for (unsigned i = 0; i < nparts && !rc; i++)
		rc = tv_buf_printf(&xml, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>", i + 1,
				   etags[i]);
	if (!rc)
		rc = tv_buf_append_str(&xml, "</CompleteMultipartUpload>");
	if (rc) {
		tv_buf_cleanup(&xml);
		tv_buf_cleanup(&answer);
		return tv_err(-ENOMEM, "out of memory");
	}
	struct s3_req r;
	req_init(&r, "POST", key);
	r.query[r.nquery++] = (struct tv_sigv4_param){"uploadId", upload_id};
	r.body = xml.data;
	r.body_len = xml.len;
	r.content_type = "application/xml";
	r.out = &answer;
	rc = req_run(s, &r);
	/* S3 may answer 200 and put an Error in the body */
	char code[128], msg[256];
	if (!rc &&
	    tv_s3_xml_error((const char *)answer.data, answer.len, code, sizeof(code), msg, sizeof(msg)) == 0)
		rc = tv_err(status_error(500, code), "%s: completing %s: %s %s", s->base.url, key, code, msg);
	req_cleanup(&r);
	tv_buf_cleanup(&xml);
	tv_buf_cleanup(&answer);
	return rc;
}

/* Uploads parts [first, first+n) concurrently; a part that fails transiently
 * is then retried on its own. */
static int mp_batch(struct s3_store *s, const char *key, const char *upload_id, const struct part_source *src,
		    unsigned first, unsigned n, char (*etags)[128])
{
	struct s3_req reqs[64], *rs[64];
	char numbers[64][12];
	int rc = 0;
	unsigned set_up = 0;
	for (unsigned i = 0; i < n && !rc; i++) {
		uint64_t off = (uint64_t)(first + i) * s->o.part_size;
		size_t len = (size_t)(src->size - off < s->o.part_size ? src->size - off : s->o.part_size);
		req_init(&reqs[i], "PUT", key);
		snprintf(numbers[i], sizeof(numbers[i]), "%u", first + i + 1);
		reqs[i].query[0] = (struct tv_sigv4_param){"partNumber", numbers[i]};
		reqs[i].query[1] = (struct tv_sigv4_param){"uploadId", upload_id};
		reqs[i].nquery = 2;
		reqs[i].body = src->mem + off;
		reqs[i].body_len = len;
		rs[i] = &reqs[i];
		set_up++;
	}
	if (!rc)
		rc = run_batch(s, rs, n);
	for (unsigned i = 0; i < set_up; i++) {
		if (!rc) {
			int prc = req_result(s, &reqs[i]);
			if (retryable(prc) && s->o.retries) {
				s->stats.retries++;
				prc = req_run(s, &reqs[i]);
			}
			if (!prc)
				snprintf(etags[first + i], 128, "%s", reqs[i].etag);
			rc = prc;
		}
		req_cleanup(&reqs[i]);
	}
	return rc;
}

static int put_multipart(struct s3_store *s, const char *key, const struct part_source *src, int flags)
{
	/* documented: multipart create-if-absent is HEAD-then-complete */
	int rc = flags & TV_PUT_CREATE_ONLY ? ensure_absent(s, key) : 0;
	if (rc)
		return rc;
	uint64_t nparts64 = (src->size + s->o.part_size - 1) / s->o.part_size;
	if (nparts64 > MAX_PARTS)
		return tv_err(-EFBIG, "%s: %s: %" PRIu64 " parts of %" PRIu64 " bytes exceed S3's 10000",
			      s->base.url, key, nparts64, s->o.part_size);
	unsigned nparts = (unsigned)nparts64;
	char *upload_id = NULL;
	rc = mp_initiate(s, key, &upload_id);
	if (rc)
		return rc;
	tv_debug("multipart upload of %s started: %u parts", key, nparts);
	char(*etags)[128] = calloc(nparts, sizeof(*etags));
	if (!etags)
		rc = tv_err(-ENOMEM, "out of memory");
	for (unsigned first = 0; !rc && first < nparts; first += s->npool) {
		unsigned n = nparts - first < s->npool ? nparts - first : s->npool;
		rc = mp_batch(s, key, upload_id, src, first, n, etags);
	}
	if (!rc)
		rc = mp_complete(s, key, upload_id, etags, nparts);
	if (rc) {
		char saved[512];
		snprintf(saved, sizeof(saved), "%s", tv_errmsg());
		if (mp_abort(s, key, upload_id))
			tv_warn("%s: could not abort multipart upload of %s: %s", s->base.url, key,
				tv_errmsg());
		tv_err(rc, "%s", saved);
	}
	free(etags);
	free(upload_id);
	return rc;
}

static int s3_put(struct tv_store *st, const char *key, const void *data, size_t len, int flags)
{
	struct s3_store *s = s3_of(st);
	char k[TV_KEY_MAX * 2];
	full_key(s, key, k, sizeof(k));
	if (len > s->o.multipart_threshold) {
		struct part_source src = {data, len};
		return put_multipart(s, k, &src, flags);
	}
	int rc = (flags & TV_PUT_CREATE_ONLY) && s->o.create_mode == TV_S3_CREATE_HEAD_THEN_PUT
			 ? ensure_absent(s, k)
			 : 0;
	return rc ? rc : put_single(s, k, data, len, flags);
}

/* The file is mapped, not read: requests send straight from the page cache
 * (no copy, no fresh pages to fault in). Sealed segments are never truncated
 * in place; one unlinked meanwhile stays readable through the mapping. */
static int s3_put_file(struct tv_store *st, const char *key, const char *path, int flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tv_err(-errno, "%s: %s", path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb)) {
		int e = errno;
		close(fd);
		return tv_err(-e, "%s: %s", path, strerror(e));
	}
	size_t size = (size_t)sb.st_size;
	void *map = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	close(fd);
	if (map == MAP_FAILED)
		return tv_err(-errno, "%s: mmap: %s", path, strerror(errno));
	if (map)
		madvise(map, size, MADV_SEQUENTIAL);
	int rc = s3_put(st, key, map ? map : "", size, flags);
	if (map)
		munmap(map, size);
	return rc;
}

static int s3_get_range(struct tv_store *st, const char *key, uint64_t off, uint64_t len, struct tv_buf *out)
{
	struct s3_store *s = s3_of(st);
	char k[TV_KEY_MAX * 2], range[64];
	full_key(s, key, k, sizeof(k));
	tv_buf_reset(out);
	if (len == 0)
		return head_full(s, k, NULL);
	struct s3_req r;
	req_init(&r, "GET", k);
	r.out = out;
	if (len != UINT64_MAX) {
		snprintf(range, sizeof(range), "bytes=%" PRIu64 "-%" PRIu64, off, off + len - 1);
		r.range = range;
	} else if (off) {
		snprintf(range, sizeof(range), "bytes=%" PRIu64 "-", off);
		r.range = range;
	}
	int rc = req_run(s, &r);
	if (!rc && len != UINT64_MAX && out->len != len)
		rc = tv_err(TV_ETRUNC, "%s: %s: %zu bytes at %" PRIu64 " where %" PRIu64 " were asked for",
			    st->url, key, out->len, off, len);
	if (rc == TV_ETRUNC && r.status == 416)
		tv_err(TV_ETRUNC, "%s: %s: object ends before offset %" PRIu64, st->url, key, off);
	req_cleanup(&r);
	return rc;
}

static int s3_head(struct tv_store *st, const char *key, struct tv_store_entry *out)
{
	struct s3_store *s = s3_of(st);
	char k[TV_KEY_MAX * 2];
	full_key(s, key, k, sizeof(k));
	return head_full(s, k, out);
}

static int s3_del(struct tv_store *st, const char *key)
{
	struct s3_store *s = s3_of(st);
	char k[TV_KEY_MAX * 2];
	full_key(s, key, k, sizeof(k));
	struct s3_req r;
	req_init(&r, "DELETE", k);
	int rc = req_run(s, &r);
	req_cleanup(&r);
	return rc == -ENOENT ? 0 : rc;
}

/* Strips the store prefix ("PREFIX/") from a listed key. */
static char *relative(const struct s3_store *s, char *full)
{
	size_t n = strlen(s->prefix);
	if (n && strncmp(full, s->prefix, n) == 0 && full[n] == '/')
		memmove(full, full + n + 1, strlen(full + n + 1) + 1);
	return full;
}

static int take_listing(struct s3_store *s, struct tv_s3_xml_list *x, struct tv_store_list *out)
{
	out->entries = calloc(x->nobjects ? x->nobjects : 1, sizeof(*out->entries));
	out->prefixes = calloc(x->nprefixes ? x->nprefixes : 1, sizeof(*out->prefixes));
	if (!out->entries || !out->prefixes)
		return -ENOMEM;
	for (size_t i = 0; i < x->nobjects; i++) {
		out->entries[i] = (struct tv_store_entry){relative(s, x->objects[i].key), x->objects[i].size,
							  x->objects[i].mtime_ns};
		x->objects[i].key = NULL;
	}
	out->n = x->nobjects;
	for (size_t i = 0; i < x->nprefixes; i++) {
		out->prefixes[i] = relative(s, x->prefixes[i]);
		x->prefixes[i] = NULL;
	}
	out->nprefixes = x->nprefixes;
	if (x->next_token) {
		if (asprintf(&out->next, "%c%s", TOKEN_MARK, x->next_token) < 0) {
			out->next = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

static int s3_list(struct tv_store *st, const char *prefix, char delimiter, const char *after, size_t max,
		   struct tv_store_list *out)
{
	struct s3_store *s = s3_of(st);
	char p[TV_KEY_MAX * 2], a[TV_KEY_MAX * 2], delim[2] = {delimiter, 0}, maxs[24];
	full_key(s, prefix, p, sizeof(p));
	snprintf(maxs, sizeof(maxs), "%zu", max > 1000 ? (size_t)1000 : max);
	struct s3_req r;
	struct tv_buf body;
	tv_buf_init(&body, 64u << 20);
	req_init(&r, "GET", NULL);
	r.query[r.nquery++] = (struct tv_sigv4_param){"list-type", "2"};
	r.query[r.nquery++] = (struct tv_sigv4_param){"prefix", p};
	r.query[r.nquery++] = (struct tv_sigv4_param){"max-keys", maxs};
	if (delimiter)
		r.query[r.nquery++] = (struct tv_sigv4_param){"delimiter", delim};
	if (after && after[0] == TOKEN_MARK)
		r.query[r.nquery++] = (struct tv_sigv4_param){"continuation-token", after + 1};
	else if (after) {
		full_key(s, after, a, sizeof(a));
		r.query[r.nquery++] = (struct tv_sigv4_param){"start-after", a};
	}
	r.out = &body;
	int rc = req_run(s, &r);
	struct tv_s3_xml_list x;
	if (!rc && (rc = tv_s3_xml_list((const char *)body.data, body.len, &x)))
		rc = tv_err(rc == -ENOMEM ? rc : -EPROTO, "%s: listing %s: unreadable ListObjectsV2 answer",
			    st->url, prefix);
	if (!rc) {
		rc = take_listing(s, &x, out);
		tv_s3_xml_list_cleanup(&x);
		if (rc) {
			tv_store_list_cleanup(out);
			tv_err(rc, "out of memory");
		}
	}
	req_cleanup(&r);
	tv_buf_cleanup(&body);
	return rc;
}

int tv_store_s3_abort_incomplete(struct tv_store *st, const char *prefix, uint64_t older_than_s,
				 unsigned *aborted)
{
	struct s3_store *s = s3_of(st);
	*aborted = 0;
	char p[TV_KEY_MAX * 2];
	full_key(s, prefix, p, sizeof(p));
	char *key_marker = NULL, *id_marker = NULL;
	uint64_t cutoff = tv_now_ns() - older_than_s * 1000000000ULL;
	int rc = 0;
	do {
		struct s3_req r;
		struct tv_buf body;
		tv_buf_init(&body, 64u << 20);
		req_init(&r, "GET", NULL);
		r.query[r.nquery++] = (struct tv_sigv4_param){"uploads", NULL};
		r.query[r.nquery++] = (struct tv_sigv4_param){"prefix", p};
		if (key_marker) {
			r.query[r.nquery++] = (struct tv_sigv4_param){"key-marker", key_marker};
			r.query[r.nquery++] = (struct tv_sigv4_param){"upload-id-marker", id_marker};
		}
		r.out = &body;
		rc = req_run(s, &r);
		req_cleanup(&r);
		struct tv_s3_xml_uploads u = {0};
		if (!rc && tv_s3_xml_uploads((const char *)body.data, body.len, &u))
			rc = tv_err(-EPROTO, "%s: unreadable ListMultipartUploads answer", st->url);
		tv_buf_cleanup(&body);
		for (size_t i = 0; !rc && i < u.n; i++) {
			if (u.uploads[i].initiated_ns > cutoff)
				continue;
			if (!(rc = mp_abort(s, u.uploads[i].key, u.uploads[i].upload_id)))
				(*aborted)++;
		}
		free(key_marker);
		free(id_marker);
		key_marker = u.next_key;
		id_marker = u.next_upload_id;
		u.next_key = u.next_upload_id = NULL;
		tv_s3_xml_uploads_cleanup(&u);
	} while (!rc && key_marker);
	free(key_marker);
	free(id_marker);
	return rc;
}

void tv_store_s3_stats(struct tv_store *st, struct tv_s3_stats *out)
{
	*out = s3_of(st)->stats;
}

static void s3_free(struct tv_store *st)
{
	struct s3_store *s = s3_of(st);
	for (unsigned i = 0; i < s->npool; i++)
		curl_easy_cleanup(s->pool[i]);
	free(s->pool);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	tv_s3_config_cleanup(&s->c);
	free(s->bucket);
	free(s->prefix);
	free(st->url);
	free(s);
}

static const struct tv_store_ops s3_ops = {
	.scheme = "s3",
	.put = s3_put,
	.put_file = s3_put_file,
	.get_range = s3_get_range,
	.head = s3_head,
	.del = s3_del,
	.list = s3_list,
	.free = s3_free,
};

/* Fills unset options with the defaults and checks the rest. */
static int settle_opts(struct tv_s3_opts *o)
{
	if (!o->multipart_threshold)
		o->multipart_threshold = default_opts.multipart_threshold;
	if (!o->part_size)
		o->part_size = default_opts.part_size;
	if (!o->parallel)
		o->parallel = default_opts.parallel;
	if (o->parallel > 64)
		o->parallel = 64;
	if (!o->retries)
		o->retries = default_opts.retries;
	if (!o->connect_timeout_ms)
		o->connect_timeout_ms = default_opts.connect_timeout_ms;
	if (!o->low_speed_timeout_s)
		o->low_speed_timeout_s = default_opts.low_speed_timeout_s;
	if (o->part_size < MIN_PART)
		return tv_err(-EINVAL, "S3 part size %" PRIu64 " is below S3's minimum of 5 MiB",
			      o->part_size);
	if (o->multipart_threshold < o->part_size)
		o->multipart_threshold = o->part_size;
	return 0;
}

static bool bucket_name_ok(const char *b)
{
	size_t n = strlen(b);
	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-' ||
		      b[i] == '.' || b[i] == '_'))
			return false;
	return true;
}

static int parse_url(struct s3_store *s, const char *url)
{
	const char *rest = url + 5; /* "s3://" */
	size_t n = strcspn(rest, "/");
	s->bucket = strndup(rest, n);
	const char *p = rest[n] ? rest + n + 1 : "";
	size_t plen = strlen(p);
	while (plen && p[plen - 1] == '/')
		plen--;
	s->prefix = strndup(p, plen);
	if (!s->bucket || !s->prefix)
		return -ENOMEM;
	if (!bucket_name_ok(s->bucket))
		return tv_err(-EINVAL, "store '%s': '%s' is not a valid bucket name", url, s->bucket);
	if (s->prefix[0] && tv_store_key_check(s->prefix))
		return tv_err(-EINVAL, "store '%s': invalid prefix '%s'", url, s->prefix);
	return 0;
}

int tv_store_s3_open(const char *url, struct tv_store **out)
{
	*out = NULL;
	pthread_once(&curl_once, curl_init_once);
	struct s3_store *s = calloc(1, sizeof(*s));
	if (!s || !(s->base.url = strdup(url))) {
		free(s);
		return tv_err(-ENOMEM, "out of memory");
	}
	s->base.ops = &s3_ops;
	s->o = have_process_opts ? process_opts : default_opts;
	int rc = settle_opts(&s->o);
	if (!rc)
		rc = parse_url(s, url);
	if (!rc)
		rc = tv_s3_config_resolve(&s->c, &s->o);
	if (!rc) {
		s->path_style = s->o.addressing == TV_S3_ADDR_PATH ||
				(s->o.addressing == TV_S3_ADDR_AUTO &&
				 (s->c.custom_endpoint || strchr(s->bucket, '.')));
		s->npool = s->o.parallel;
		s->multi = curl_multi_init();
		s->pool = calloc(s->npool, sizeof(*s->pool));
		if (!s->multi || !s->pool)
			rc = tv_err(-ENOMEM, "out of memory");
		for (unsigned i = 0; !rc && i < s->npool; i++)
			if (!(s->pool[i] = curl_easy_init()))
				rc = tv_err(-ENOMEM, "out of memory");
	}
	if (rc) {
		s3_free(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}
