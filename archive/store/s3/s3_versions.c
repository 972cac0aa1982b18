/* SPDX-License-Identifier: Apache-2.0 */
/* s3_versions: what an S3 bucket with Object Lock adds to the store (see
 * store.h): asking whether the bucket has it (GET ?object-lock), a put under
 * retention (x-amz-object-lock-mode and -retain-until-date, with the
 * Content-MD5 S3 requires for it), and the versions a delete leaves behind
 * (ListObjectVersions, GET ?versionId=). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/common/err.h"
#include "archive/store/s3/s3_internal.h"
#include "archive/store/s3/s3_xml.h"

static struct s3_store *s3_of(struct tv_store *s)
{
	return (struct s3_store *)s;
}

/* A retention's end as S3 takes it, rounded up to the second: never shorter than asked. */
static void retain_until(uint64_t ns, char out[32])
{
	time_t secs = (time_t)(ns / 1000000000ULL) + 1;
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int tv_s3_object_lock(struct tv_store *st)
{
	struct s3_store *s = s3_of(st);
	struct s3_req r;
	struct tv_buf body;
	tv_buf_init(&body, 1 << 20);
	tv_s3_req_init(&r, "GET", NULL);
	r.query[r.nquery++] = (struct tv_sigv4_param){"object-lock", NULL};
	r.out = &body;
	int rc = tv_s3_req_run(s, &r);
	bool enabled = false;
	if (rc == -ENOENT) /* ObjectLockConfigurationNotFoundError: a bucket without it */
		rc = 0;
	else if (!rc && tv_s3_xml_object_lock((const char *)body.data, body.len, &enabled))
		rc = tv_err(-EPROTO, "%s: unreadable ObjectLockConfiguration answer", st->url);
	tv_s3_req_cleanup(&r);
	tv_buf_cleanup(&body);
	return rc ? rc : enabled;
}

int tv_s3_put_retained(struct tv_store *st, const char *key, const void *data, size_t len, int flags,
		       const struct tv_store_retention *ret)
{
	struct s3_store *s = s3_of(st);
	if (len > s->o.multipart_threshold)
		return tv_err(-EFBIG, "%s: %s: %zu bytes is too large for a put under retention", st->url,
			      key, len);
	char k[TV_KEY_MAX * 2], until[32];
	tv_s3_full_key(s, key, k, sizeof(k));
	retain_until(ret->until_ns, until);
	/* Ceph RGW 16 ignores If-None-Match on versioned buckets (which Object
	 * Lock buckets are): ask with HEAD first too; racy, but the objects put
	 * this way (checkpoints, keys) have names nobody else writes. */
	int rc = (flags & TV_PUT_CREATE_ONLY) ? tv_s3_ensure_absent(s, k) : 0;
	if (rc)
		return rc;
	struct s3_req r;
	tv_s3_req_init(&r, "PUT", k);
	r.body = data ? data : (const uint8_t *)"";
	r.body_len = len;
	if ((flags & TV_PUT_CREATE_ONLY) && s->o.create_mode == TV_S3_CREATE_IF_NONE_MATCH)
		r.if_none_match = "*";
	r.lock_mode = ret->compliance ? "COMPLIANCE" : "GOVERNANCE";
	r.lock_until = until;
	rc = tv_s3_req_run(s, &r);
	tv_s3_req_cleanup(&r);
	return rc;
}

/* One page of ListObjectVersions after (key_marker, id_marker). */
static int versions_page(struct s3_store *s, const char *prefix, const char *key_marker,
			 const char *id_marker, struct tv_s3_xml_versions *out)
{
	struct s3_req r;
	struct tv_buf body;
	tv_buf_init(&body, 64u << 20);
	tv_s3_req_init(&r, "GET", NULL);
	r.query[r.nquery++] = (struct tv_sigv4_param){"versions", NULL};
	r.query[r.nquery++] = (struct tv_sigv4_param){"prefix", prefix};
	if (key_marker) {
		r.query[r.nquery++] = (struct tv_sigv4_param){"key-marker", key_marker};
		r.query[r.nquery++] = (struct tv_sigv4_param){"version-id-marker", id_marker};
	}
	r.out = &body;
	int rc = tv_s3_req_run(s, &r);
	if (!rc && (rc = tv_s3_xml_versions((const char *)body.data, body.len, out)))
		rc = tv_err(rc == -ENOMEM ? rc : -EPROTO, "%s: listing versions of %s: unreadable answer",
			    s->base.url, prefix);
	tv_s3_req_cleanup(&r);
	tv_buf_cleanup(&body);
	return rc;
}

int tv_s3_each_version(struct tv_store *st, const char *prefix, tv_store_version_fn fn, void *ctx)
{
	struct s3_store *s = s3_of(st);
	char p[TV_KEY_MAX * 2];
	tv_s3_full_key(s, prefix, p, sizeof(p));
	char *key_marker = NULL, *id_marker = NULL;
	int rc;
	do {
		struct tv_s3_xml_versions x;
		rc = versions_page(s, p, key_marker, id_marker, &x);
		free(key_marker);
		free(id_marker);
		key_marker = id_marker = NULL;
		if (rc)
			break;
		for (size_t i = 0; i < x.n && !rc; i++) {
			const struct tv_s3_xml_version *v = &x.versions[i];
			struct tv_store_version out = {
				tv_s3_relative(s, v->key), v->version_id, v->size, v->mtime_ns, v->latest,
				v->delete_marker};
			rc = fn(ctx, &out);
		}
		key_marker = x.next_key;
		id_marker = x.next_version_id;
		x.next_key = x.next_version_id = NULL;
		tv_s3_xml_versions_cleanup(&x);
	} while (!rc && key_marker);
	free(key_marker);
	free(id_marker);
	return rc;
}

int tv_s3_get_version(struct tv_store *st, const char *key, const char *version_id, struct tv_buf *out)
{
	struct s3_store *s = s3_of(st);
	char k[TV_KEY_MAX * 2];
	tv_s3_full_key(s, key, k, sizeof(k));
	tv_buf_reset(out);
	struct s3_req r;
	tv_s3_req_init(&r, "GET", k);
	r.query[r.nquery++] = (struct tv_sigv4_param){"versionId", version_id};
	r.out = out;
	int rc = tv_s3_req_run(s, &r);
	tv_s3_req_cleanup(&r);
	return rc;
}

/* One ?retention or ?legal-hold exchange: a PUT of xml (S3 wants a
 * Content-MD5 on it), or a GET into out. */
static int lock_request(struct s3_store *s, const char *key, const char *what, const char *xml,
			struct tv_buf *out, char code[64])
{
	char k[TV_KEY_MAX * 2];
	tv_s3_full_key(s, key, k, sizeof(k));
	struct s3_req r;
	tv_s3_req_init(&r, xml ? "PUT" : "GET", k);
	r.query[r.nquery++] = (struct tv_sigv4_param){what, NULL};
	if (xml) {
		r.body = (const uint8_t *)xml;
		r.body_len = strlen(xml);
		r.need_md5 = true;
		r.content_type = "application/xml";
	}
	r.out = out;
	int rc = tv_s3_req_run(s, &r);
	char msg[8];
	code[0] = '\0';
	if (rc)
		tv_s3_xml_error((const char *)r.err.data, r.err.len, code, 64, msg, sizeof(msg));
	tv_s3_req_cleanup(&r);
	return rc;
}

static int put_lock_xml(struct s3_store *s, const char *key, const char *what, const char *xml)
{
	char code[64];
	return lock_request(s, key, what, xml, NULL, code);
}

int tv_s3_set_retention(struct tv_store *st, const char *key, const struct tv_store_retention *ret,
			bool legal_hold)
{
	struct s3_store *s = s3_of(st);
	char xml[512], until[32];
	int rc = 0;
	if (ret) {
		retain_until(ret->until_ns, until);
		snprintf(xml, sizeof(xml),
			 "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>%s</Mode>"
			 "<RetainUntilDate>%s</RetainUntilDate></Retention>",
			 ret->compliance ? "COMPLIANCE" : "GOVERNANCE", until);
		rc = put_lock_xml(s, key, "retention", xml);
	}
	if (!rc && legal_hold)
		rc = put_lock_xml(
			s, key, "legal-hold",
			"<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>ON</Status>"
			"</LegalHold>");
	return rc;
}

/* GET ?retention or ?legal-hold. @return 1 with the answer in body, 0 when
 * the object has none (404 NoSuchObjectLockConfiguration), -ENOENT when
 * there is no such object (404 NoSuchKey), or an error. */
static int get_lock_xml(struct s3_store *s, const char *key, const char *what, struct tv_buf *body)
{
	char code[64];
	int rc = lock_request(s, key, what, NULL, body, code);
	if (rc == -ENOENT)
		return strcmp(code, "NoSuchKey") == 0 ? -ENOENT : 0;
	return rc ? rc : 1;
}

int tv_s3_get_retention(struct tv_store *st, const char *key, struct tv_store_lock_state *out)
{
	struct s3_store *s = s3_of(st);
	struct tv_buf body;
	tv_buf_init(&body, 1 << 16);
	int rc = get_lock_xml(s, key, "retention", &body);
	if (rc == 1 && tv_s3_xml_retention((const char *)body.data, body.len, &out->retention.compliance,
					   &out->retention.until_ns))
		rc = tv_err(-EPROTO, "%s: %s: unreadable Retention answer", st->url, key);
	if (rc >= 0) {
		tv_buf_reset(&body);
		rc = get_lock_xml(s, key, "legal-hold", &body);
		if (rc == 1 && tv_s3_xml_legal_hold((const char *)body.data, body.len, &out->legal_hold))
			rc = tv_err(-EPROTO, "%s: %s: unreadable LegalHold answer", st->url, key);
	}
	tv_buf_cleanup(&body);
	return rc < 0 ? rc : 0;
}
