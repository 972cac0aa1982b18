/* SPDX-License-Identifier: Apache-2.0 */
/* sigv4: see sigv4.h. The canonical request:
 *   METHOD \n URI-encoded path \n sorted encoded query \n
 *   lowercase-name:trimmed-value \n ... \n \n signed;header;names \n payload-hash
 * string to sign: AWS4-HMAC-SHA256 \n date \n scope \n hex(sha256(canonical))
 * key: HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request". */
#include "archive/store/s3/sigv4.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/sha256.h"

int tv_sigv4_uri_encode(struct tv_buf *out, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int rc;
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
		    (*p == '/' && keep_slash)) {
			rc = tv_buf_put_u8(out, *p);
		} else {
			char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			rc = tv_buf_append(out, enc, 3);
		}
		if (rc)
			return rc;
	}
	return 0;
}

struct kv {
	char *name, *value; /* owned, already canonical */
};

static int cmp_kv(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

static char *take_string(struct tv_buf *b)
{
	if (tv_buf_put_u8(b, 0))
		return NULL;
	char *s = (char *)b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

static char *encoded(const char *s)
{
	struct tv_buf b;
	tv_buf_init(&b, 1 << 20);
	if (tv_sigv4_uri_encode(&b, s ? s : "", 0)) {
		tv_buf_cleanup(&b);
		return NULL;
	}
	return take_string(&b);
}

/* Lowercase name; value trimmed, inner runs of spaces collapsed. */
static char *canonical_value(const char *v)
{
	struct tv_buf b;
	tv_buf_init(&b, 1 << 20);
	while (*v == ' ' || *v == '\t')
		v++;
	int space = 0;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			space = 1;
			continue;
		}
		if (space && b.len)
			tv_buf_put_u8(&b, ' ');
		space = 0;
		tv_buf_put_u8(&b, (uint8_t)*v);
	}
	return take_string(&b);
}

static char *lower(const char *s)
{
	char *d = strdup(s);
	for (char *p = d; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

static void free_kvs(struct kv *k, size_t n)
{
	for (size_t i = 0; k && i < n; i++) {
		free(k[i].name);
		free(k[i].value);
	}
	free(k);
}

static int hmac(const void *key, size_t klen, const char *msg, uint8_t out[32])
{
	unsigned int len = 32;
	return HMAC(EVP_sha256(), key, (int)klen, (const uint8_t *)msg, strlen(msg), out, &len) ? 0 : -ENOMEM;
}

static int build_canonical(const struct tv_sigv4_request *r, struct tv_buf *c, struct tv_buf *signed_names)
{
	int rc = -ENOMEM;
	struct kv *q = calloc(r->nquery + 1, sizeof(*q)), *h = calloc(r->nheaders + 1, sizeof(*h));
	if (!q || !h)
		goto out;
	for (size_t i = 0; i < r->nquery; i++)
		if (!(q[i].name = encoded(r->query[i].name)) || !(q[i].value = encoded(r->query[i].value)))
			goto out;
	for (size_t i = 0; i < r->nheaders; i++)
		if (!(h[i].name = lower(r->headers[i].name)) ||
		    !(h[i].value = canonical_value(r->headers[i].value)))
			goto out;
	qsort(q, r->nquery, sizeof(*q), cmp_kv);
	qsort(h, r->nheaders, sizeof(*h), cmp_kv);
	tv_buf_printf(c, "%s\n", r->method);
	tv_sigv4_uri_encode(c, r->path, 1);
	tv_buf_put_u8(c, '\n');
	for (size_t i = 0; i < r->nquery; i++)
		tv_buf_printf(c, "%s%s=%s", i ? "&" : "", q[i].name, q[i].value);
	tv_buf_put_u8(c, '\n');
	for (size_t i = 0; i < r->nheaders; i++) {
		tv_buf_printf(c, "%s:%s\n", h[i].name, h[i].value);
		tv_buf_printf(signed_names, "%s%s", i ? ";" : "", h[i].name);
	}
	tv_buf_printf(c, "\n%.*s\n%s", (int)signed_names->len, (const char *)signed_names->data,
		      r->payload_sha256_hex);
	rc = 0;
out:
	free_kvs(q, r->nquery);
	free_kvs(h, r->nheaders);
	return rc;
}

int tv_sigv4_authorization(const struct tv_sigv4_key *k, const struct tv_sigv4_request *r, char *out,
			   size_t n)
{
	if (!r->amz_date || strlen(r->amz_date) != 16)
		return -EINVAL;
	char date[9];
	memcpy(date, r->amz_date, 8);
	date[8] = '\0';
	struct tv_buf c, names;
	tv_buf_init(&c, 4 << 20);
	tv_buf_init(&names, 1 << 16);
	int rc = build_canonical(r, &c, &names);
	uint8_t digest[32], kdate[32], kregion[32], kservice[32], ksign[32], sig[32];
	char hex[65], sighex[65], scope[200], *sts = NULL;
	if (!rc)
		rc = tv_sha256(c.data, c.len, digest);
	if (!rc) {
		tv_hex(digest, 32, hex);
		snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date, k->region, k->service);
		if (asprintf(&sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", r->amz_date, scope, hex) < 0)
			rc = -ENOMEM;
	}
	char *secret = NULL;
	if (!rc && asprintf(&secret, "AWS4%s", k->secret_key) < 0)
		rc = -ENOMEM;
	if (!rc)
		rc = hmac(secret, strlen(secret), date, kdate);
	if (!rc)
		rc = hmac(kdate, 32, k->region, kregion);
	if (!rc)
		rc = hmac(kregion, 32, k->service, kservice);
	if (!rc)
		rc = hmac(kservice, 32, "aws4_request", ksign);
	if (!rc)
		rc = hmac(ksign, 32, sts, sig);
	if (!rc) {
		tv_hex(sig, 32, sighex);
		int m = snprintf(out, n, "AWS4-HMAC-SHA256 Credential=%s/%s,SignedHeaders=%.*s,Signature=%s",
				 k->access_key, scope, (int)names.len, (const char *)names.data, sighex);
		rc = m < 0 || (size_t)m >= n ? -ENOSPC : 0;
	}
	if (secret) {
		memset(secret, 0, strlen(secret)); /* the secret does not linger */
		free(secret);
	}
	free(sts);
	tv_buf_cleanup(&c);
	tv_buf_cleanup(&names);
	return rc;
}
