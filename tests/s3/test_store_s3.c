/* SPDX-License-Identifier: Apache-2.0 */
/* s3:// store against a real S3 server (Ceph RGW started by tests/s3/with_rgw.sh;
 * the AWS_* variables and RGW_BUCKET come from it). Every store operation,
 * awkward keys, create-if-absent, pagination, the clear errors of a wrong
 * secret and a missing bucket, multipart, and (TV_S3_BIG=1) a multi-GB object. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/sha256.h"
#include "archive/store/store.h"
#include "archive/store/store_s3.h"
#include "tests/unit/testutil.h"

static char url[256];

/* A store with options o (NULL: the defaults): nothing is process-global. */
static struct tv_store *open_store_with(const struct tv_s3_opts *o)
{
	struct tv_store *s = NULL;
	struct tv_store_opts so = {.s3 = o};
	assert_int_equal(tv_store_open(url, 0, &so, &s), 0);
	return s;
}

static struct tv_store *open_store(void)
{
	return open_store_with(NULL);
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static void test_put_get_head_range_delete(void **state)
{
	(void)state;
	struct tv_store *s = open_store();
	uint8_t data[100000];
	fill(data, sizeof(data), 1);
	assert_int_equal(tv_store_put(s, "t/basic/obj", data, sizeof(data), 0), 0);
	struct tv_buf b;
	tv_buf_init(&b, 1 << 20);
	assert_int_equal(tv_store_get(s, "t/basic/obj", &b), 0);
	assert_int_equal(b.len, sizeof(data));
	assert_memory_equal(b.data, data, sizeof(data));
	assert_int_equal(tv_store_get_range(s, "t/basic/obj", 1000, 5000, &b), 0);
	assert_int_equal(b.len, 5000);
	assert_memory_equal(b.data, data + 1000, 5000);
	assert_int_equal(tv_store_get_range(s, "t/basic/obj", 99990, 20, &b), TV_ETRUNC);
	assert_int_equal(tv_store_get_range(s, "t/basic/obj", 200000, 10, &b), TV_ETRUNC);
	struct tv_store_entry e;
	assert_int_equal(tv_store_head(s, "t/basic/obj", &e), 0);
	assert_int_equal(e.size, sizeof(data));
	assert_true(e.mtime_ns > (uint64_t)(time(NULL) - 600) * 1000000000ULL);
	/* put replaces */
	assert_int_equal(tv_store_put(s, "t/basic/obj", "new", 3, 0), 0);
	assert_int_equal(tv_store_get(s, "t/basic/obj", &b), 0);
	assert_int_equal(b.len, 3);
	/* an empty object */
	assert_int_equal(tv_store_put(s, "t/basic/empty", "", 0, 0), 0);
	assert_int_equal(tv_store_head(s, "t/basic/empty", &e), 0);
	assert_int_equal(e.size, 0);
	assert_int_equal(tv_store_delete(s, "t/basic/obj"), 0);
	assert_int_equal(tv_store_delete(s, "t/basic/obj"), 0); /* missing: still success */
	assert_int_equal(tv_store_head(s, "t/basic/obj", &e), -ENOENT);
	assert_int_equal(tv_store_get(s, "t/basic/obj", &b), -ENOENT);
	assert_non_null(strstr(tv_errmsg(), "t/basic/obj"));
	tv_buf_cleanup(&b);
	tv_store_free(s);
}

static void test_awkward_keys(void **state)
{
	(void)state;
	struct tv_store *s = open_store();
	const char *keys[] = {"t/keys/with space",     "t/keys/colon:and+plus",
			      "t/keys/100%25%",        "t/keys/unicode-\xc3\xa9\xe2\x82\xac\xf0\x9f\x93\xa6",
			      "t/keys/amp&lt<gt>'\"q", "t/keys/tilde~star*eq=?hash#"};
	size_t n = sizeof(keys) / sizeof(keys[0]);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(tv_store_put(s, keys[i], keys[i], strlen(keys[i]), 0), 0);
	struct tv_store_list l;
	assert_int_equal(tv_store_list(s, "t/keys/", 0, NULL, 0, &l), 0);
	assert_int_equal(l.n, n);
	struct tv_buf b;
	tv_buf_init(&b, 4096);
	for (size_t i = 0; i < n; i++) {
		bool listed = false;
		for (size_t j = 0; j < l.n; j++)
			listed |= strcmp(l.entries[j].key, keys[i]) == 0;
		assert_true(listed);
		assert_int_equal(tv_store_get(s, keys[i], &b), 0);
		assert_int_equal(b.len, strlen(keys[i]));
		assert_memory_equal(b.data, keys[i], b.len);
		assert_int_equal(tv_store_delete(s, keys[i]), 0);
	}
	tv_store_list_cleanup(&l);
	tv_buf_cleanup(&b);
	tv_store_free(s);
}

static void test_create_if_absent(void **state)
{
	(void)state;
	struct tv_store *s = open_store();
	tv_store_delete(s, "t/once/a");
	assert_int_equal(tv_store_put(s, "t/once/a", "first", 5, TV_PUT_CREATE_ONLY), 0);
	assert_int_equal(tv_store_put(s, "t/once/a", "second", 6, TV_PUT_CREATE_ONLY), -EEXIST);
	struct tv_buf b;
	tv_buf_init(&b, 4096);
	assert_int_equal(tv_store_get(s, "t/once/a", &b), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "first", 5);
	/* the documented fallback for servers that ignore If-None-Match */
	struct tv_s3_opts o = {.create_mode = TV_S3_CREATE_HEAD_THEN_PUT};
	struct tv_store *h = open_store_with(&o);
	assert_int_equal(tv_store_put(h, "t/once/a", "third", 5, TV_PUT_CREATE_ONLY), -EEXIST);
	tv_store_delete(h, "t/once/b");
	assert_int_equal(tv_store_put(h, "t/once/b", "b", 1, TV_PUT_CREATE_ONLY), 0);
	tv_store_free(h);
	tv_buf_cleanup(&b);
	tv_store_free(s);
}

static void test_list_pages_and_delimiter(void **state)
{
	(void)state;
	struct tv_store *s = open_store();
	char key[64];
	for (int d = 0; d < 3; d++)
		for (int i = 0; i < 4; i++) {
			snprintf(key, sizeof(key), "t/list/d%d/k%02d", d, i);
			assert_int_equal(tv_store_put(s, key, "x", 1, 0), 0);
		}
	assert_int_equal(tv_store_put(s, "t/list/top", "x", 1, 0), 0);
	/* pages of 5 over 13 keys, in order */
	char *after = NULL, last[64] = "";
	size_t total = 0, pages = 0;
	do {
		struct tv_store_list l;
		assert_int_equal(tv_store_list(s, "t/list/", 0, after, 5, &l), 0);
		free(after);
		after = l.next ? strdup(l.next) : NULL;
		for (size_t i = 0; i < l.n; i++) {
			assert_true(strcmp(l.entries[i].key, last) > 0);
			snprintf(last, sizeof(last), "%s", l.entries[i].key);
			assert_int_equal(l.entries[i].size, 1);
		}
		total += l.n;
		pages++;
		tv_store_list_cleanup(&l);
	} while (after);
	assert_int_equal(total, 13);
	assert_int_equal(pages, 3);
	/* the delimiter rolls up "directories", also across pages */
	size_t nprefix = 0, nkeys = 0;
	after = NULL;
	do {
		struct tv_store_list l;
		assert_int_equal(tv_store_list(s, "t/list/", '/', after, 2, &l), 0);
		free(after);
		after = l.next ? strdup(l.next) : NULL;
		for (size_t i = 0; i < l.nprefixes; i++) {
			snprintf(key, sizeof(key), "t/list/d%zu/", nprefix);
			assert_string_equal(l.prefixes[i], key);
			nprefix++;
		}
		nkeys += l.n;
		tv_store_list_cleanup(&l);
	} while (after);
	assert_int_equal(nprefix, 3);
	assert_int_equal(nkeys, 1);
	/* start after a given key */
	struct tv_store_list l;
	assert_int_equal(tv_store_list(s, "t/list/", 0, "t/list/d2/k01", 0, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.entries[0].key, "t/list/d2/k02");
	tv_store_list_cleanup(&l);
	tv_store_free(s);
}

static void test_prefix_store(void **state)
{
	(void)state;
	char sub[300];
	snprintf(sub, sizeof(sub), "%s/t/pfx/", url);
	struct tv_store *s = NULL;
	assert_int_equal(tv_store_open(sub, 0, NULL, &s), 0);
	assert_int_equal(tv_store_put(s, "a/b", "ab", 2, 0), 0);
	struct tv_store_list l;
	assert_int_equal(tv_store_list(s, "", '/', NULL, 0, &l), 0);
	assert_int_equal(l.nprefixes, 1);
	assert_string_equal(l.prefixes[0], "a/");
	tv_store_list_cleanup(&l);
	tv_store_free(s);
	struct tv_store *root = open_store();
	struct tv_store_entry e;
	assert_int_equal(tv_store_head(root, "t/pfx/a/b", &e), 0);
	assert_int_equal(e.size, 2);
	tv_store_free(root);
}

static void multipart_round(const struct tv_s3_opts *o);

static void test_multipart(void **state)
{
	(void)state;
	struct tv_s3_opts o = {.multipart_threshold = 6 << 20, .part_size = 5 << 20, .parallel = 3};
	multipart_round(&o);
	o.content_md5 = true; /* the same with Content-MD5 and MD5 ETag checks */
	multipart_round(&o);
}

static void multipart_round(const struct tv_s3_opts *o)
{
	struct tv_store *s = open_store_with(o);
	size_t n = (23 << 20) + 12345; /* 5 parts, the last short */
	uint8_t *data = malloc(n);
	fill(data, n, 7);
	const char *dir = tu_tmpdir();
	char path[256];
	snprintf(path, sizeof(path), "%s/big", dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	assert_int_equal(tv_store_put_file(s, "t/mp/file", path, 0), 0);
	assert_int_equal(tv_store_put(s, "t/mp/mem", data, n, 0), 0);
	struct tv_buf b;
	tv_buf_init(&b, 64 << 20);
	const char *both[] = {"t/mp/file", "t/mp/mem"};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(tv_store_get(s, both[i], &b), 0);
		assert_int_equal(b.len, n);
		assert_memory_equal(b.data, data, n);
	}
	/* create-if-absent over multipart */
	assert_int_equal(tv_store_put_file(s, "t/mp/file", path, TV_PUT_CREATE_ONLY), -EEXIST);
	/* small objects too */
	assert_int_equal(tv_store_put(s, "t/mp/small", data, 1000, 0), 0);
	assert_int_equal(tv_store_get(s, "t/mp/small", &b), 0);
	assert_int_equal(b.len, 1000);
	assert_memory_equal(b.data, data, 1000);
	unsigned aborted = 99;
	assert_int_equal(tv_store_s3_abort_incomplete(s, "t/mp/", 0, &aborted), 0);
	assert_int_equal(aborted, 0);
	struct tv_s3_stats st;
	tv_store_s3_stats(s, &st);
	assert_true(st.requests >= 2 * 7);
	tv_buf_cleanup(&b);
	free(data);
	tu_rmrf(dir);
	tv_store_free(s);
}

/* Content-MD5 is sent, and checked by the server, only when asked: with the
 * test hook that corrupts the digest we send, a put with content_md5 is
 * refused as BadDigest (single and multipart), one without it succeeds. */
static void test_content_md5_sent(void **state)
{
	(void)state;
	struct tv_s3_opts md5 = {.content_md5 = true,
				 .retries = 1,
				 .multipart_threshold = 6 << 20,
				 .part_size = 5 << 20},
			  plain = {.retries = 1};
	struct tv_store *with = open_store_with(&md5), *without = open_store_with(&plain);
	size_t n = 7 << 20;
	uint8_t *data = malloc(n);
	fill(data, n, 3);
	setenv("TAPVAULT_TEST_CORRUPT_MD5", "1", 1);
	assert_int_equal(tv_store_put(with, "t/md5/small", data, 1000, 0), -EBADMSG);
	assert_non_null(strstr(tv_errmsg(), "t/md5/small"));
	assert_int_equal(tv_store_put(with, "t/md5/multi", data, n, 0), -EBADMSG);
	assert_int_equal(tv_store_put(without, "t/md5/plain", data, 1000, 0), 0);
	unsetenv("TAPVAULT_TEST_CORRUPT_MD5");
	assert_int_equal(tv_store_put(with, "t/md5/small", data, 1000, 0), 0);
	struct tv_buf b;
	tv_buf_init(&b, 4096);
	assert_int_equal(tv_store_get(with, "t/md5/small", &b), 0);
	assert_int_equal(b.len, 1000);
	tv_buf_cleanup(&b);
	tv_store_delete(with, "t/md5/small");
	tv_store_delete(without, "t/md5/plain");
	free(data);
	tv_store_free(with);
	tv_store_free(without);
}

/* A PUT with the digest the caller knows (the uploader's, from the index):
 * the server checks it, so a wrong one (a file changed after indexing)
 * is refused and nothing is stored. */
static void test_known_sha256_checked(void **state)
{
	(void)state;
	struct tv_s3_opts o = {.retries = 1};
	struct tv_store *s = open_store_with(&o);
	char path[] = "/tmp/tv-s3-sha-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	uint8_t data[5000], sha[32];
	fill(data, sizeof(data), 9);
	assert_int_equal(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	close(fd);
	tv_sha256(data, sizeof(data), sha);
	assert_int_equal(tv_store_put_file_sha(s, "t/sha/good", path, 0, sha), 0);
	struct tv_buf b;
	tv_buf_init(&b, 8192);
	assert_int_equal(tv_store_get(s, "t/sha/good", &b), 0);
	assert_memory_equal(b.data, data, sizeof(data));
	sha[5] ^= 1;
	assert_true(tv_store_put_file_sha(s, "t/sha/bad", path, 0, sha) != 0);
	assert_int_equal(tv_store_get(s, "t/sha/bad", &b), -ENOENT);
	tv_buf_cleanup(&b);
	tv_store_delete(s, "t/sha/good");
	unlink(path);
	tv_store_free(s);
}

/* A multi-GB object: sparse file with each MiB stamped with its number, so a
 * misplaced part is caught without holding the object in memory. */
static void test_multi_gb(void **state)
{
	(void)state;
	if (!getenv("TV_S3_BIG")) {
		skip();
		return;
	}
	const uint64_t size = ((uint64_t)2 << 30) + (3 << 20) + 17;
	const char *dir = tu_tmpdir();
	char path[256];
	snprintf(path, sizeof(path), "%s/huge", dir);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	for (uint64_t mib = 0; mib * (1 << 20) < size; mib++)
		assert_int_equal(pwrite(fd, &mib, sizeof(mib), (off_t)(mib << 20)), (ssize_t)sizeof(mib));
	close(fd);
	struct tv_store *s = open_store();
	assert_int_equal(tv_store_put_file(s, "t/huge", path, 0), 0);
	struct tv_store_entry e;
	assert_int_equal(tv_store_head(s, "t/huge", &e), 0);
	assert_int_equal(e.size, size);
	struct tv_buf b;
	tv_buf_init(&b, 1 << 20);
	for (uint64_t mib = 0; mib * (1 << 20) < size; mib += 97) {
		assert_int_equal(tv_store_get_range(s, "t/huge", mib << 20, 16, &b), 0);
		uint64_t got;
		memcpy(&got, b.data, sizeof(got));
		assert_int_equal(got, mib);
	}
	assert_int_equal(tv_store_get_range(s, "t/huge", size - 17, 17, &b), 0);
	assert_int_equal(tv_store_delete(s, "t/huge"), 0);
	tv_buf_cleanup(&b);
	tv_store_free(s);
	tu_rmrf(dir);
}

static void test_wrong_secret(void **state)
{
	(void)state;
	char *saved = strdup(getenv("AWS_SECRET_ACCESS_KEY"));
	setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret", 1);
	struct tv_s3_opts o = {.retries = 0};
	struct tv_store *s = open_store_with(&o);
	assert_int_equal(tv_store_put(s, "t/denied", "x", 1, 0), -EACCES);
	assert_non_null(strstr(tv_errmsg(), "SignatureDoesNotMatch"));
	assert_non_null(strstr(tv_errmsg(), "AWS_SECRET_ACCESS_KEY"));
	assert_null(strstr(tv_errmsg(), "not-the-secret"));
	tv_store_free(s);
	setenv("AWS_SECRET_ACCESS_KEY", saved, 1);
	free(saved);
}

static void test_missing_bucket(void **state)
{
	(void)state;
	struct tv_store *s = NULL;
	assert_int_equal(tv_store_open("s3://no-such-bucket-tapvault/x", 0, NULL, &s), 0);
	assert_int_equal(tv_store_put(s, "k", "x", 1, 0), -ENXIO);
	assert_non_null(strstr(tv_errmsg(), "NoSuchBucket"));
	struct tv_store_list l;
	assert_int_equal(tv_store_list(s, "", 0, NULL, 0, &l), -ENXIO);
	tv_store_free(s);
	assert_int_equal(tv_store_open("s3://Bad_Bucket!/x", 0, NULL, &s), -EINVAL);
}

static void test_endpoint_down(void **state)
{
	(void)state;
	struct tv_s3_opts o = {.endpoint = "http://127.0.0.1:1", .retries = 1};
	struct tv_store *s = open_store_with(&o);
	assert_int_equal(tv_store_put(s, "t/x", "x", 1, 0), -EAGAIN);
	assert_non_null(strstr(tv_errmsg(), "127.0.0.1"));
	tv_store_free(s);
}

static void test_dns_failure(void **state)
{
	(void)state;
	struct tv_s3_opts o = {.endpoint = "http://no-such-host.invalid:8080", .retries = 1};
	struct tv_store *s = open_store_with(&o);
	assert_int_equal(tv_store_put(s, "t/x", "x", 1, 0), -EAGAIN);
	assert_non_null(strstr(tv_errmsg(), "no-such-host.invalid"));
	tv_store_free(s);
}

static void test_tls_failure(void **state)
{
	(void)state;
	/* https:// to RGW's plain-HTTP port: the handshake fails, named, not retried */
	const char *http = getenv("AWS_ENDPOINT_URL_S3");
	char https[256];
	snprintf(https, sizeof(https), "https://%s", strstr(http, "://") + 3);
	struct tv_s3_opts o = {.endpoint = https, .retries = 1};
	struct tv_store *s = open_store_with(&o);
	assert_int_equal(tv_store_put(s, "t/x", "x", 1, 0), -EPROTO);
	assert_non_null(strstr(tv_errmsg(), "SSL"));
	tv_store_free(s);
}

static void test_clock_skew(void **state)
{
	(void)state;
	setenv("TAPVAULT_TEST_CLOCK_OFFSET_S", "-3600", 1);
	struct tv_store *s = open_store();
	assert_int_equal(tv_store_put(s, "t/skew", "x", 1, 0), -ETIME);
	assert_non_null(strstr(tv_errmsg(), "RequestTimeTooSkewed"));
	assert_non_null(strstr(tv_errmsg(), "clock"));
	unsetenv("TAPVAULT_TEST_CLOCK_OFFSET_S");
	assert_int_equal(tv_store_put(s, "t/skew", "x", 1, 0), 0);
	tv_store_free(s);
}

static void test_session_token(void **state)
{
	(void)state;
	setenv("AWS_SESSION_TOKEN", "expired-token-value-0123", 1);
	struct tv_store *s = open_store();
	/* RGW without STS ignores the token of a plain user key, so this checks
	 * that x-amz-security-token is signed in correctly and never shown; the
	 * ExpiredToken answer of AWS maps to -EACCES in status_error(). */
	assert_int_equal(tv_store_put(s, "t/token", "x", 1, 0), 0);
	struct tv_buf b;
	tv_buf_init(&b, 16);
	assert_int_equal(tv_store_get(s, "t/token-missing", &b), -ENOENT);
	assert_null(strstr(tv_errmsg(), "expired-token-value-0123"));
	tv_buf_cleanup(&b);
	tv_store_free(s);
	unsetenv("AWS_SESSION_TOKEN");
}

/* A server that accepts connections and never answers: the request is
 * abandoned after the low-speed timeout and reported as transient. */
static void test_slow_server(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	socklen_t len = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &len);
	char ep[64];
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", ntohs(a.sin_port));
	struct tv_s3_opts o = {.endpoint = ep, .retries = 1, .low_speed_timeout_s = 1};
	struct tv_store *s = open_store_with(&o);
	time_t t0 = time(NULL);
	assert_int_equal(tv_store_put(s, "t/slow", "x", 1, 0), -EAGAIN);
	assert_true(time(NULL) - t0 < 20);
	assert_non_null(strstr(tv_errmsg(), "t/slow"));
	tv_store_free(s);
	close(fd);
}

struct version_log {
	char key[8][64], id[8][128];
	bool marker[8], latest[8];
	size_t n;
};

static int log_version(void *ctx, const struct tv_store_version *v)
{
	struct version_log *l = ctx;
	if (l->n == 8)
		return -E2BIG;
	snprintf(l->key[l->n], sizeof(l->key[0]), "%s", v->key);
	snprintf(l->id[l->n], sizeof(l->id[0]), "%s", v->version_id);
	l->marker[l->n] = v->delete_marker;
	l->latest[l->n++] = v->latest;
	return 0;
}

/* A bucket with Object Lock (scripts/rgw.sh makes one): objects put under
 * retention survive a delete as a version behind a delete marker, and that
 * version reads back; the plain bucket says it has no Object Lock. */
static void test_object_lock(void **state)
{
	(void)state;
	struct tv_store *plain = open_store();
	assert_int_equal(tv_store_object_lock(plain), 0);
	struct tv_store_retention ret = {.compliance = true,
					 .until_ns = (uint64_t)(time(NULL) + 3600) * 1000000000ULL};
	assert_int_not_equal(tv_store_put_retained(plain, "t/lock/x", "a", 1, 0, &ret), 0);
	tv_store_free(plain);

	char locked[256];
	snprintf(locked, sizeof(locked), "s3://%s/lock-%d", getenv("RGW_LOCKED_BUCKET"), (int)getpid());
	struct tv_store *s = NULL;
	assert_int_equal(tv_store_open(locked, 0, NULL, &s), 0);
	assert_int_equal(tv_store_object_lock(s), 1);
	assert_int_equal(tv_store_put_retained(s, "cp/1.json", "first", 5, TV_PUT_CREATE_ONLY, &ret), 0);
	assert_int_equal(tv_store_put_retained(s, "cp/1.json", "again", 5, TV_PUT_CREATE_ONLY, &ret),
			 -EEXIST);
	ret.compliance = false;
	assert_int_equal(tv_store_put_retained(s, "cp/2.json", "second", 6, 0, &ret), 0);
	assert_int_equal(tv_store_delete(s, "cp/1.json"), 0); /* only a delete marker */
	struct tv_buf b;
	tv_buf_init(&b, 1 << 20);
	assert_int_equal(tv_store_get(s, "cp/1.json", &b), -ENOENT);
	struct version_log l = {0};
	assert_int_equal(tv_store_each_version(s, "cp/", log_version, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.key[0], "cp/1.json");
	assert_true(l.marker[0] && l.latest[0]);
	assert_string_equal(l.key[1], "cp/1.json");
	assert_false(l.marker[1] || l.latest[1]);
	assert_string_equal(l.key[2], "cp/2.json");
	assert_true(!l.marker[2] && l.latest[2]);
	assert_int_equal(tv_store_get_version(s, "cp/1.json", l.id[1], &b), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "first", 5);
	assert_int_equal(tv_store_get_version(s, "cp/1.json", "no-such-version", &b), -ENOENT);
	tv_buf_cleanup(&b);
	tv_store_free(s);
	/* file:// has neither */
	const char *dir = tu_tmpdir();
	assert_int_equal(tv_store_open(dir, 0, NULL, &s), 0);
	assert_int_equal(tv_store_object_lock(s), 0);
	assert_int_equal(tv_store_each_version(s, "", log_version, &l), -ENOTSUP);
	assert_int_equal(tv_store_put_retained(s, "x", "a", 1, 0, &ret), -ENOTSUP);
	tv_store_free(s);
	tu_rmrf(dir);
}

int main(void)
{
	const char *bucket = getenv("RGW_BUCKET");
	if (!bucket || !getenv("AWS_ENDPOINT_URL_S3")) {
		fprintf(stderr, "test_store_s3: run me through tests/s3/with_rgw.sh\n");
		return 1;
	}
	snprintf(url, sizeof(url), "s3://%s", bucket);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_head_range_delete),
		cmocka_unit_test(test_awkward_keys),
		cmocka_unit_test(test_known_sha256_checked),
		cmocka_unit_test(test_create_if_absent),
		cmocka_unit_test(test_list_pages_and_delimiter),
		cmocka_unit_test(test_prefix_store),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_content_md5_sent),
		cmocka_unit_test(test_object_lock),
		cmocka_unit_test(test_multi_gb),
		cmocka_unit_test(test_wrong_secret),
		cmocka_unit_test(test_missing_bucket),
		cmocka_unit_test(test_endpoint_down),
		cmocka_unit_test(test_dns_failure),
		cmocka_unit_test(test_tls_failure),
		cmocka_unit_test(test_clock_skew),
		cmocka_unit_test(test_session_token),
		cmocka_unit_test(test_slow_server),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
