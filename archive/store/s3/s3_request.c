/* SPDX-License-Identifier: Apache-2.0 */
/* s3_request: one HTTP exchange with the store (see s3_internal.h): the
 * path and URL (path-style or virtual-hosted), SigV4 headers over the
 * payload's SHA-256 (and Content-MD5 when asked), curl callbacks, a batch of
 * requests on the multi handle, the mapping of statuses and S3 error codes to
 * store errors, and retries with capped exponential backoff and jitter. */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "archive/common/sha256.h"
#include "archive/common/timeutil.h"
#include "archive/store/s3/s3_creds.h"
#include "archive/store/s3/s3_internal.h"
#include "archive/store/s3/s3_xml.h"

void tv_s3_full_key(const struct s3_store *s, const char *key, char *out, size_t n)
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
	/* a digest the caller already has (the index's, for a segment's data)
	 * spares hashing every byte again; the server recomputes and checks it */
	if (r->body_sha256)
		memcpy(sha, r->body_sha256, sizeof(sha));
	else
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
	/* S3 refuses a put under retention without a Content-MD5 (or checksum) */
	if (r->body && (s->o.content_md5 || r->lock_mode || r->need_md5)) {
		EVP_Digest(r->body, r->body_len, md5, &n, EVP_md5(), NULL);
		tv_hex(md5, 16, r->md5_hex); /* what the server's ETag must be */
		/* Tests send a wrong digest (and expect the ETag of the true one) to
		 * prove that the header goes out and the server checks it. */
		if (getenv("TAPVAULT_TEST_CORRUPT_MD5"))
			md5[0] ^= 0xff;
		EVP_EncodeBlock((unsigned char *)md5_b64, md5, 16);
		h[nh++] = (struct tv_sigv4_param){"content-md5", md5_b64};
	}
	if (r->range)
		h[nh++] = (struct tv_sigv4_param){"range", r->range};
	if (r->if_none_match)
		h[nh++] = (struct tv_sigv4_param){"if-none-match", r->if_none_match};
	if (r->lock_mode) {
		h[nh++] = (struct tv_sigv4_param){"x-amz-object-lock-mode", r->lock_mode};
		h[nh++] = (struct tv_sigv4_param){"x-amz-object-lock-retain-until-date", r->lock_until};
	}

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

void tv_s3_req_cleanup(struct s3_req *r)
{
	curl_slist_free_all(r->headers);
	r->headers = NULL;
	tv_buf_cleanup(&r->err);
}

/* Runs n set-up requests concurrently on the pool (n <= npool). */
/* Temporary credentials near their end are renewed before a request is
 * signed; a failed renewal keeps the old ones while they last. */
static int renew_if_stale(struct s3_store *s)
{
	uint64_t now = tv_now_ns();
	if (!tv_s3_creds_stale(&s->c, now))
		return 0;
	int rc = tv_s3_creds_fetch(&s->c, &s->o);
	if (rc && now >= s->c.expires_ns)
		return rc;
	if (rc)
		tv_warn("cannot renew S3 credentials yet (%s); the current ones last until they expire",
			tv_errmsg());
	return 0;
}

int tv_s3_run_batch(struct s3_store *s, struct s3_req **rs, size_t n)
{
	int renew = renew_if_stale(s);
	if (renew)
		return renew;
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
int tv_s3_status_error(long status, const char *code)
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
int tv_s3_req_result(struct s3_store *s, const struct s3_req *r)
{
	const char *what = r->key ? r->key : "(bucket)";
	if (r->too_big)
		return tv_err(-EFBIG, "%s: %s %s: object larger than the buffer allows", s->base.url,
			      r->method, what);
	if (r->cc != CURLE_OK) {
		int rc = curl_transient(r->cc) ? -EAGAIN : -EPROTO;
		bool tls = r->cc == CURLE_PEER_FAILED_VERIFICATION || r->cc == CURLE_SSL_CACERT_BADFILE;
		return tv_err(
			rc, "%s: %s %s: %s%s", s->base.url, r->method, what,
			r->curl_msg[0] ? r->curl_msg : curl_easy_strerror(r->cc),
			tls ? " (the endpoint's TLS certificate is not trusted: give its CA with --ca-bundle "
			      "FILE / store.caBundle, or fix the endpoint's name)"
			    : "");
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
	int rc = tv_s3_status_error(r->status, code);
	if (!strcmp(code, "ExpiredToken") || !strcmp(code, "TokenRefreshRequired") ||
	    (!strcmp(code, "InvalidToken") && s->c.source > TV_S3_CREDS_STATIC))
		s->token_expired = true;
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

bool tv_s3_retryable(int rc)
{
	return rc == -EAGAIN || rc == -EBADMSG;
}

/* One request with retries on transient failures. */
int tv_s3_req_run(struct s3_store *s, struct s3_req *r)
{
	int rc;
	bool renewed = false;
	for (unsigned attempt = 0;; attempt++) {
		struct s3_req *one = r;
		if ((rc = tv_s3_run_batch(s, &one, 1)))
			return rc;
		s->token_expired = false;
		rc = tv_s3_req_result(s, r);
		if (rc == -EACCES && s->token_expired && s->c.source > TV_S3_CREDS_STATIC && !renewed) {
			/* expired early (revoked, clock skew): fetch new ones and ask again, once */
			renewed = true;
			char why[512];
			snprintf(why, sizeof(why), "%s", tv_errmsg());
			if (tv_s3_creds_fetch(&s->c, &s->o) == 0) {
				tv_debug("%s: credentials renewed, retrying", why);
				continue;
			}
			tv_err(rc, "%s (renewing the credentials failed too)", why);
		}
		if (!tv_s3_retryable(rc) || attempt >= s->o.retries)
			break;
		s->stats.retries++;
		tv_debug("%s (attempt %u, retrying)", tv_errmsg(), attempt + 1);
		backoff_sleep(attempt);
	}
	return rc;
}

void tv_s3_req_init(struct s3_req *r, const char *method, const char *key)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->key = key;
	tv_buf_init(&r->err, ERR_BODY_MAX);
}
