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
#include "archive/store/store_s3.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
#include "archive/common/log.h"
#include "archive/common/timeutil.h"
#include "archive/store/s3/s3_internal.h"
#include "archive/store/s3/s3_xml.h"

#define TOKEN_MARK '\x01' /* `after` values that are continuation tokens start with it */

static const struct tv_s3_opts default_opts = {
	.multipart_threshold = (uint64_t)64 << 20,
	.part_size = (uint64_t)16 << 20,
	.parallel = 4,
	.retries = 4,
	.connect_timeout_ms = 5000,
	.low_speed_timeout_s = 30,
};
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static struct s3_store *s3_of(struct tv_store *s)
{
	return (struct s3_store *)s;
}

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- object operations ---- */

static int head_full(struct s3_store *s, const char *key, struct tv_store_entry *out)
{
	struct s3_req r;
	tv_s3_req_init(&r, "HEAD", key);
	int rc = tv_s3_req_run(s, &r);
	if (!rc && out) {
		out->key = NULL;
		out->size = r.content_length;
		out->mtime_ns = 0;
		struct tm tm = {0};
		if (r.last_modified[0] && strptime(r.last_modified, "%a, %d %b %Y %H:%M:%S GMT", &tm))
			out->mtime_ns = (uint64_t)timegm(&tm) * 1000000000ULL;
	}
	tv_s3_req_cleanup(&r);
	return rc;
}

/* HEAD-then-PUT create-if-absent: -EEXIST when key is there (racy; documented). */
int tv_s3_ensure_absent(struct s3_store *s, const char *key)
{
	int rc = head_full(s, key, NULL);
	if (rc == 0)
		return tv_err(-EEXIST, "%s: %s: already exists", s->base.url, key);
	return rc == -ENOENT ? 0 : rc;
}

static int put_single(struct s3_store *s, const char *key, const void *data, size_t len, int flags,
		      const uint8_t *sha)
{
	struct s3_req r;
	tv_s3_req_init(&r, "PUT", key);
	r.body = data ? data : (const uint8_t *)"";
	r.body_len = len;
	r.body_sha256 = sha;
	if ((flags & TV_PUT_CREATE_ONLY) && s->o.create_mode == TV_S3_CREATE_IF_NONE_MATCH)
		r.if_none_match = "*";
	int rc = tv_s3_req_run(s, &r);
	tv_s3_req_cleanup(&r);
	return rc;
}

/* sha: the data's SHA-256 if known (used by a single-part PUT; multipart
 * parts are hashed one by one as ever). */
static int put_object(struct tv_store *st, const char *key, const void *data, size_t len, int flags,
		      const uint8_t *sha)
{
	struct s3_store *s = s3_of(st);
	char k[TV_KEY_MAX * 2];
	tv_s3_full_key(s, key, k, sizeof(k));
	if (len > s->o.multipart_threshold) {
		struct part_source src = {data, len};
		return tv_s3_put_multipart(s, k, &src, flags);
	}
	int rc = (flags & TV_PUT_CREATE_ONLY) && s->o.create_mode == TV_S3_CREATE_HEAD_THEN_PUT
			 ? tv_s3_ensure_absent(s, k)
			 : 0;
	return rc ? rc : put_single(s, k, data, len, flags, sha);
}

static int s3_put(struct tv_store *st, const char *key, const void *data, size_t len, int flags)
{
	return put_object(st, key, data, len, flags, NULL);
}

/* The file is mapped, not read: requests send straight from the page cache
 * (no copy, no fresh pages to fault in). Sealed segments are never truncated
 * in place; one unlinked meanwhile stays readable through the mapping. */
static int s3_put_file_sha(struct tv_store *st, const char *key, const char *path, int flags,
			   const uint8_t *sha)
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
	int rc = put_object(st, key, map ? map : "", size, flags, sha);
	if (map)
		munmap(map, size);
	return rc;
}

static int s3_put_file(struct tv_store *st, const char *key, const char *path, int flags)
{
	return s3_put_file_sha(st, key, path, flags, NULL);
}

static int s3_get_range(struct tv_store *st, const char *key, uint64_t off, uint64_t len, struct tv_buf *out)
{
	struct s3_store *s = s3_of(st);
	char k[TV_KEY_MAX * 2], range[64];
	tv_s3_full_key(s, key, k, sizeof(k));
	tv_buf_reset(out);
	if (len == 0)
		return head_full(s, k, NULL);
	struct s3_req r;
	tv_s3_req_init(&r, "GET", k);
	r.out = out;
	if (len != UINT64_MAX) {
		snprintf(range, sizeof(range), "bytes=%" PRIu64 "-%" PRIu64, off, off + len - 1);
		r.range = range;
	} else if (off) {
		snprintf(range, sizeof(range), "bytes=%" PRIu64 "-", off);
		r.range = range;
	}
	int rc = tv_s3_req_run(s, &r);
	if (!rc && len != UINT64_MAX && out->len != len)
		rc = tv_err(TV_ETRUNC, "%s: %s: %zu bytes at %" PRIu64 " where %" PRIu64 " were asked for",
			    st->url, key, out->len, off, len);
	if (rc == TV_ETRUNC && r.status == 416)
		tv_err(TV_ETRUNC, "%s: %s: object ends before offset %" PRIu64, st->url, key, off);
	tv_s3_req_cleanup(&r);
	return rc;
}

static int s3_head(struct tv_store *st, const char *key, struct tv_store_entry *out)
{
	struct s3_store *s = s3_of(st);
	char k[TV_KEY_MAX * 2];
	tv_s3_full_key(s, key, k, sizeof(k));
	return head_full(s, k, out);
}

static int s3_del(struct tv_store *st, const char *key)
{
	struct s3_store *s = s3_of(st);
	char k[TV_KEY_MAX * 2];
	tv_s3_full_key(s, key, k, sizeof(k));
	struct s3_req r;
	tv_s3_req_init(&r, "DELETE", k);
	int rc = tv_s3_req_run(s, &r);
	tv_s3_req_cleanup(&r);
	return rc == -ENOENT ? 0 : rc;
}

char *tv_s3_relative(const struct s3_store *s, char *full)
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
		out->entries[i] = (struct tv_store_entry){tv_s3_relative(s, x->objects[i].key),
							  x->objects[i].size, x->objects[i].mtime_ns};
		x->objects[i].key = NULL;
	}
	out->n = x->nobjects;
	for (size_t i = 0; i < x->nprefixes; i++) {
		out->prefixes[i] = tv_s3_relative(s, x->prefixes[i]);
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
	tv_s3_full_key(s, prefix, p, sizeof(p));
	snprintf(maxs, sizeof(maxs), "%zu", max > 1000 ? (size_t)1000 : max);
	struct s3_req r;
	struct tv_buf body;
	tv_buf_init(&body, 64u << 20);
	tv_s3_req_init(&r, "GET", NULL);
	r.query[r.nquery++] = (struct tv_sigv4_param){"list-type", "2"};
	r.query[r.nquery++] = (struct tv_sigv4_param){"prefix", p};
	r.query[r.nquery++] = (struct tv_sigv4_param){"max-keys", maxs};
	if (delimiter)
		r.query[r.nquery++] = (struct tv_sigv4_param){"delimiter", delim};
	if (after && after[0] == TOKEN_MARK)
		r.query[r.nquery++] = (struct tv_sigv4_param){"continuation-token", after + 1};
	else if (after) {
		tv_s3_full_key(s, after, a, sizeof(a));
		r.query[r.nquery++] = (struct tv_sigv4_param){"start-after", a};
	}
	r.out = &body;
	int rc = tv_s3_req_run(s, &r);
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
	tv_s3_req_cleanup(&r);
	tv_buf_cleanup(&body);
	return rc;
}

int tv_store_s3_abort_incomplete(struct tv_store *st, const char *prefix, uint64_t older_than_s,
				 unsigned *aborted)
{
	struct s3_store *s = s3_of(st);
	*aborted = 0;
	char p[TV_KEY_MAX * 2];
	tv_s3_full_key(s, prefix, p, sizeof(p));
	char *key_marker = NULL, *id_marker = NULL;
	uint64_t cutoff = tv_now_ns() - older_than_s * 1000000000ULL;
	int rc = 0;
	do {
		struct s3_req r;
		struct tv_buf body;
		tv_buf_init(&body, 64u << 20);
		tv_s3_req_init(&r, "GET", NULL);
		r.query[r.nquery++] = (struct tv_sigv4_param){"uploads", NULL};
		r.query[r.nquery++] = (struct tv_sigv4_param){"prefix", p};
		if (key_marker) {
			r.query[r.nquery++] = (struct tv_sigv4_param){"key-marker", key_marker};
			r.query[r.nquery++] = (struct tv_sigv4_param){"upload-id-marker", id_marker};
		}
		r.out = &body;
		rc = tv_s3_req_run(s, &r);
		tv_s3_req_cleanup(&r);
		struct tv_s3_xml_uploads u = {0};
		if (!rc && tv_s3_xml_uploads((const char *)body.data, body.len, &u))
			rc = tv_err(-EPROTO, "%s: unreadable ListMultipartUploads answer", st->url);
		tv_buf_cleanup(&body);
		for (size_t i = 0; !rc && i < u.n; i++) {
			if (u.uploads[i].initiated_ns > cutoff)
				continue;
			if (!(rc = tv_s3_abort_upload(s, u.uploads[i].key, u.uploads[i].upload_id)))
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
	free(s->o.ca_bundle);
	free(s->bucket);
	free(s->prefix);
	free(st->url);
	free(s);
}

static const struct tv_store_ops s3_ops = {
	.scheme = "s3",
	.put = s3_put,
	.put_file = s3_put_file,
	.put_file_sha = s3_put_file_sha,
	.get_range = s3_get_range,
	.head = s3_head,
	.del = s3_del,
	.list = s3_list,
	.free = s3_free,
	.object_lock = tv_s3_object_lock,
	.put_retained = tv_s3_put_retained,
	.set_retention = tv_s3_set_retention,
	.get_retention = tv_s3_get_retention,
	.each_version = tv_s3_each_version,
	.get_version = tv_s3_get_version,
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

int tv_store_s3_open(const char *url, const struct tv_s3_opts *o, struct tv_store **out)
{
	*out = NULL;
	pthread_once(&curl_once, curl_init_once);
	struct s3_store *s = calloc(1, sizeof(*s));
	if (!s || !(s->base.url = strdup(url))) {
		free(s);
		return tv_err(-ENOMEM, "out of memory");
	}
	s->base.ops = &s3_ops;
	s->o = o ? *o : default_opts;
	/* the strings are the caller's: the CA path is kept, the rest are read at open */
	s->o.ca_bundle = s->o.ca_bundle ? strdup(s->o.ca_bundle) : NULL;
	int rc = o && o->ca_bundle && !s->o.ca_bundle ? tv_err(-ENOMEM, "out of memory") : settle_opts(&s->o);
	if (!rc)
		rc = parse_url(s, url);
	if (!rc)
		rc = tv_s3_config_resolve(&s->c, &s->o);
	s->o.endpoint = s->o.region = s->o.profile = NULL;
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
