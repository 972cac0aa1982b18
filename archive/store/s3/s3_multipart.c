/* SPDX-License-Identifier: Apache-2.0 */
/* s3_multipart: objects above the multipart threshold go up in parts
 * (initiate, parts in parallel on the pool, each failed part retried on its
 * own, complete; abort on failure so nothing stays billed and invisible). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "archive/store/s3/s3_internal.h"
#include "archive/store/s3/s3_xml.h"

static int mp_initiate(struct s3_store *s, const char *key, char **upload_id)
{
	struct s3_req r;
	struct tv_buf body;
	tv_buf_init(&body, 1 << 20);
	tv_s3_req_init(&r, "POST", key);
	r.query[r.nquery++] = (struct tv_sigv4_param){"uploads", NULL};
	r.out = &body;
	int rc = tv_s3_req_run(s, &r);
	if (!rc && tv_s3_xml_upload_id((const char *)body.data, body.len, upload_id))
		rc = tv_err(-EPROTO, "%s: POST %s?uploads: no UploadId in the answer", s->base.url, key);
	tv_s3_req_cleanup(&r);
	tv_buf_cleanup(&body);
	return rc;
}

int tv_s3_abort_upload(struct s3_store *s, const char *key, const char *upload_id)
{
	struct s3_req r;
	tv_s3_req_init(&r, "DELETE", key);
	r.query[r.nquery++] = (struct tv_sigv4_param){"uploadId", upload_id};
	int rc = tv_s3_req_run(s, &r);
	tv_s3_req_cleanup(&r);
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
	tv_s3_req_init(&r, "POST", key);
	r.query[r.nquery++] = (struct tv_sigv4_param){"uploadId", upload_id};
	r.body = xml.data;
	r.body_len = xml.len;
	r.content_type = "application/xml";
	r.out = &answer;
	rc = tv_s3_req_run(s, &r);
	/* S3 may answer 200 and put an Error in the body */
	char code[128], msg[256];
	if (!rc &&
	    tv_s3_xml_error((const char *)answer.data, answer.len, code, sizeof(code), msg, sizeof(msg)) == 0)
		rc = tv_err(tv_s3_status_error(500, code), "%s: completing %s: %s %s", s->base.url, key, code,
			    msg);
	tv_s3_req_cleanup(&r);
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
		tv_s3_req_init(&reqs[i], "PUT", key);
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
		rc = tv_s3_run_batch(s, rs, n);
	for (unsigned i = 0; i < set_up; i++) {
		if (!rc) {
			int prc = tv_s3_req_result(s, &reqs[i]);
			if (tv_s3_retryable(prc) && s->o.retries) {
				s->stats.retries++;
				prc = tv_s3_req_run(s, &reqs[i]);
			}
			if (!prc)
				snprintf(etags[first + i], 128, "%s", reqs[i].etag);
			rc = prc;
		}
		tv_s3_req_cleanup(&reqs[i]);
	}
	return rc;
}

int tv_s3_put_multipart(struct s3_store *s, const char *key, const struct part_source *src, int flags)
{
	/* documented: multipart create-if-absent is HEAD-then-complete */
	int rc = flags & TV_PUT_CREATE_ONLY ? tv_s3_ensure_absent(s, key) : 0;
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
		if (tv_s3_abort_upload(s, key, upload_id))
			tv_warn("%s: could not abort multipart upload of %s: %s", s->base.url, key,
				tv_errmsg());
		tv_err(rc, "%s", saved);
	}
	free(etags);
	free(upload_id);
	return rc;
}
