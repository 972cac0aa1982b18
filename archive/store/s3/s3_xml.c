/* SPDX-License-Identifier: Apache-2.0 */
/* s3_xml: see s3_xml.h. Elements are matched by local name, so documents with
 * or without S3's xmlns parse alike. */
#include "archive/store/s3/s3_xml.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/common/err.h"

#define MAX_BODY (64u << 20)

static xmlDocPtr parse(const char *body, size_t len)
{
	if (len == 0 || len > MAX_BODY)
		return NULL;
	return xmlReadMemory(body, (int)len, "s3.xml", NULL,
			     XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static int is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

/* The text of n's child `name`, malloc'd ("" when absent); NULL on ENOMEM. */
static char *child_text(const xmlNode *n, const char *name)
{
	const xmlNode *c = child(n, name);
	xmlChar *t = c ? xmlNodeGetContent(c) : NULL;
	char *s = strdup(t ? (const char *)t : "");
	xmlFree(t);
	return s;
}

static void copy_text(const xmlNode *n, const char *name, char *out, size_t size)
{
	char *t = child_text(n, name);
	snprintf(out, size, "%s", t ? t : "");
	free(t);
}

int tv_s3_parse_iso8601(const char *s, uint64_t *ns)
{
	struct tm tm = {0};
	int frac_len = 0;
	unsigned long frac = 0;
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -EINVAL;
	if (*end == '.') {
		const char *p = ++end;
		while (*p >= '0' && *p <= '9' && frac_len < 9) {
			frac = frac * 10 + (unsigned long)(*p++ - '0');
			frac_len++;
		}
		while (*p >= '0' && *p <= '9')
			p++;
		end = p;
	}
	if (*end != 'Z' && *end != '\0')
		return -EINVAL;
	for (; frac_len < 9; frac_len++)
		frac *= 10;
	time_t t = timegm(&tm);
	if (t < 0)
		return -EINVAL;
	*ns = (uint64_t)t * 1000000000ULL + frac;
	return 0;
}

int tv_s3_xml_error(const char *body, size_t len, char *code, size_t ncode, char *msg, size_t nmsg)
{
	code[0] = msg[0] = '\0';
	xmlDocPtr doc = parse(body, len);
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	int rc = root && is(root, "Error") ? 0 : -EINVAL;
	if (!rc) {
		copy_text(root, "Code", code, ncode);
		copy_text(root, "Message", msg, nmsg);
	}
	xmlFreeDoc(doc);
	return rc;
}

static int add_object(struct tv_s3_xml_list *out, const xmlNode *c)
{
	struct tv_s3_xml_object *p = realloc(out->objects, (out->nobjects + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	out->objects = p;
	struct tv_s3_xml_object *o = &p[out->nobjects];
	memset(o, 0, sizeof(*o));
	char *size = child_text(c, "Size"), *mtime = child_text(c, "LastModified");
	o->key = child_text(c, "Key");
	int rc = o->key && size && mtime ? 0 : -ENOMEM;
	if (!rc && (!o->key[0] || !size[0]))
		rc = TV_ECORRUPT;
	if (!rc) {
		char *e;
		errno = 0;
		o->size = strtoull(size, &e, 10);
		if (errno || *e)
			rc = TV_ECORRUPT;
	}
	if (!rc && mtime[0] && tv_s3_parse_iso8601(mtime, &o->mtime_ns))
		o->mtime_ns = 0; /* a time we cannot read is not worth failing a listing over */
	free(size);
	free(mtime);
	if (rc) {
		free(o->key);
		return rc;
	}
	out->nobjects++;
	return 0;
}

static int add_prefix(struct tv_s3_xml_list *out, const xmlNode *c)
{
	char **p = realloc(out->prefixes, (out->nprefixes + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	out->prefixes = p;
	char *s = child_text(c, "Prefix");
	if (!s)
		return -ENOMEM;
	if (!s[0]) {
		free(s);
		return TV_ECORRUPT;
	}
	p[out->nprefixes++] = s;
	return 0;
}

int tv_s3_xml_list(const char *body, size_t len, struct tv_s3_xml_list *out)
{
	memset(out, 0, sizeof(*out));
	xmlDocPtr doc = parse(body, len);
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || !is(root, "ListBucketResult")) {
		xmlFreeDoc(doc);
		return TV_ECORRUPT;
	}
	int rc = 0;
	for (const xmlNode *c = root->children; c && !rc; c = c->next) {
		if (is(c, "Contents"))
			rc = add_object(out, c);
		else if (is(c, "CommonPrefixes"))
			rc = add_prefix(out, c);
	}
	if (!rc) {
		char *trunc = child_text(root, "IsTruncated");
		if (!trunc)
			rc = -ENOMEM;
		else if (strcmp(trunc, "true") == 0) {
			out->next_token = child_text(root, "NextContinuationToken");
			if (!out->next_token)
				rc = -ENOMEM;
			else if (!out->next_token[0])
				rc = TV_ECORRUPT; /* truncated but no way on */
		}
		free(trunc);
	}
	xmlFreeDoc(doc);
	if (rc)
		tv_s3_xml_list_cleanup(out);
	return rc;
}

void tv_s3_xml_list_cleanup(struct tv_s3_xml_list *l)
{
	for (size_t i = 0; i < l->nobjects; i++)
		free(l->objects[i].key);
	for (size_t i = 0; i < l->nprefixes; i++)
		free(l->prefixes[i]);
	free(l->objects);
	free(l->prefixes);
	free(l->next_token);
	memset(l, 0, sizeof(*l));
}

int tv_s3_xml_upload_id(const char *body, size_t len, char **upload_id)
{
	*upload_id = NULL;
	xmlDocPtr doc = parse(body, len);
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	int rc = TV_ECORRUPT;
	if (root && is(root, "InitiateMultipartUploadResult")) {
		*upload_id = child_text(root, "UploadId");
		rc = !*upload_id ? -ENOMEM : (*upload_id)[0] ? 0 : TV_ECORRUPT;
		if (rc) {
			free(*upload_id);
			*upload_id = NULL;
		}
	}
	xmlFreeDoc(doc);
	return rc;
}

static int add_upload(struct tv_s3_xml_uploads *out, const xmlNode *c)
{
	struct tv_s3_xml_upload *p = realloc(out->uploads, (out->n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	out->uploads = p;
	struct tv_s3_xml_upload *u = &p[out->n];
	char *when = child_text(c, "Initiated");
	u->key = child_text(c, "Key");
	u->upload_id = child_text(c, "UploadId");
	u->initiated_ns = 0;
	int rc = u->key && u->upload_id && when ? 0 : -ENOMEM;
	if (!rc && (!u->key[0] || !u->upload_id[0]))
		rc = TV_ECORRUPT;
	if (!rc && when[0])
		tv_s3_parse_iso8601(when, &u->initiated_ns);
	free(when);
	if (rc) {
		free(u->key);
		free(u->upload_id);
		return rc;
	}
	out->n++;
	return 0;
}

int tv_s3_xml_uploads(const char *body, size_t len, struct tv_s3_xml_uploads *out)
{
	memset(out, 0, sizeof(*out));
	xmlDocPtr doc = parse(body, len);
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || !is(root, "ListMultipartUploadsResult")) {
		xmlFreeDoc(doc);
		return TV_ECORRUPT;
	}
	int rc = 0;
	for (const xmlNode *c = root->children; c && !rc; c = c->next)
		if (is(c, "Upload"))
			rc = add_upload(out, c);
	char *trunc = rc ? NULL : child_text(root, "IsTruncated");
	if (trunc && strcmp(trunc, "true") == 0) {
		out->next_key = child_text(root, "NextKeyMarker");
		out->next_upload_id = child_text(root, "NextUploadIdMarker");
		if (!out->next_key || !out->next_upload_id)
			rc = -ENOMEM;
		else if (!out->next_key[0])
			rc = TV_ECORRUPT;
	}
	free(trunc);
	xmlFreeDoc(doc);
	if (rc)
		tv_s3_xml_uploads_cleanup(out);
	return rc;
}

void tv_s3_xml_uploads_cleanup(struct tv_s3_xml_uploads *u)
{
	for (size_t i = 0; i < u->n; i++) {
		free(u->uploads[i].key);
		free(u->uploads[i].upload_id);
	}
	free(u->uploads);
	free(u->next_key);
	free(u->next_upload_id);
	memset(u, 0, sizeof(*u));
}

static int add_version(struct tv_s3_xml_versions *out, const xmlNode *c, bool delete_marker)
{
	struct tv_s3_xml_version *p = realloc(out->versions, (out->n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	out->versions = p;
	struct tv_s3_xml_version *v = &p[out->n];
	memset(v, 0, sizeof(*v));
	v->delete_marker = delete_marker;
	char *size = child_text(c, "Size"), *mtime = child_text(c, "LastModified"),
	     *latest = child_text(c, "IsLatest");
	v->key = child_text(c, "Key");
	v->version_id = child_text(c, "VersionId");
	int rc = v->key && v->version_id && size && mtime && latest ? 0 : -ENOMEM;
	if (!rc && (!v->key[0] || !v->version_id[0]))
		rc = TV_ECORRUPT;
	if (!rc && size[0]) {
		char *e;
		errno = 0;
		v->size = strtoull(size, &e, 10);
		if (errno || *e)
			rc = TV_ECORRUPT;
	}
	if (!rc && mtime[0] && tv_s3_parse_iso8601(mtime, &v->mtime_ns))
		v->mtime_ns = 0;
	if (!rc)
		v->latest = strcmp(latest, "true") == 0;
	free(size);
	free(mtime);
	free(latest);
	if (rc) {
		free(v->key);
		free(v->version_id);
		return rc;
	}
	out->n++;
	return 0;
}

int tv_s3_xml_versions(const char *body, size_t len, struct tv_s3_xml_versions *out)
{
	memset(out, 0, sizeof(*out));
	xmlDocPtr doc = parse(body, len);
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || !is(root, "ListVersionsResult")) {
		xmlFreeDoc(doc);
		return TV_ECORRUPT;
	}
	int rc = 0;
	for (const xmlNode *c = root->children; c && !rc; c = c->next) {
		if (is(c, "Version"))
			rc = add_version(out, c, false);
		else if (is(c, "DeleteMarker"))
			rc = add_version(out, c, true);
	}
	char *trunc = rc ? NULL : child_text(root, "IsTruncated");
	if (trunc && strcmp(trunc, "true") == 0) {
		out->next_key = child_text(root, "NextKeyMarker");
		out->next_version_id = child_text(root, "NextVersionIdMarker");
		if (!out->next_key || !out->next_version_id)
			rc = -ENOMEM;
		else if (!out->next_key[0])
			rc = TV_ECORRUPT; /* truncated but no way on */
	}
	free(trunc);
	xmlFreeDoc(doc);
	if (rc)
		tv_s3_xml_versions_cleanup(out);
	return rc;
}

void tv_s3_xml_versions_cleanup(struct tv_s3_xml_versions *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->versions[i].key);
		free(v->versions[i].version_id);
	}
	free(v->versions);
	free(v->next_key);
	free(v->next_version_id);
	memset(v, 0, sizeof(*v));
}

int tv_s3_xml_object_lock(const char *body, size_t len, bool *enabled)
{
	*enabled = false;
	xmlDocPtr doc = parse(body, len);
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	int rc = root && is(root, "ObjectLockConfiguration") ? 0 : TV_ECORRUPT;
	if (!rc) {
		char *e = child_text(root, "ObjectLockEnabled");
		if (!e)
			rc = -ENOMEM;
		else
			*enabled = strcmp(e, "Enabled") == 0;
		free(e);
	}
	xmlFreeDoc(doc);
	return rc;
}

int tv_s3_xml_retention(const char *body, size_t len, bool *compliance, uint64_t *until_ns)
{
	xmlDocPtr doc = parse(body, len);
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	int rc = root && is(root, "Retention") ? 0 : TV_ECORRUPT;
	char mode[32] = "", until[64] = "";
	if (!rc) {
		copy_text(root, "Mode", mode, sizeof(mode));
		copy_text(root, "RetainUntilDate", until, sizeof(until));
		if (strcmp(mode, "GOVERNANCE") != 0 && strcmp(mode, "COMPLIANCE") != 0)
			rc = TV_ECORRUPT;
		else if (tv_s3_parse_iso8601(until, until_ns))
			rc = TV_ECORRUPT;
		*compliance = strcmp(mode, "COMPLIANCE") == 0;
	}
	xmlFreeDoc(doc);
	return rc;
}

int tv_s3_xml_legal_hold(const char *body, size_t len, bool *on)
{
	xmlDocPtr doc = parse(body, len);
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	int rc = root && is(root, "LegalHold") ? 0 : TV_ECORRUPT;
	char status[16] = "";
	if (!rc) {
		copy_text(root, "Status", status, sizeof(status));
		if (strcmp(status, "ON") != 0 && strcmp(status, "OFF") != 0)
			rc = TV_ECORRUPT;
		*on = strcmp(status, "ON") == 0;
	}
	xmlFreeDoc(doc);
	return rc;
}

int tv_s3_xml_sts_credentials(const char *body, size_t len, char **access_key, char **secret_key,
			      char **session_token, uint64_t *expires_ns)
{
	*access_key = *secret_key = *session_token = NULL;
	xmlDocPtr doc = parse(body, len);
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	const xmlNode *res = root && is(root, "AssumeRoleWithWebIdentityResponse")
				     ? child(root, "AssumeRoleWithWebIdentityResult")
				     : NULL;
	const xmlNode *cr = res ? child(res, "Credentials") : NULL;
	int rc = cr ? 0 : TV_ECORRUPT;
	char *exp = NULL;
	if (!rc) {
		*access_key = child_text(cr, "AccessKeyId");
		*secret_key = child_text(cr, "SecretAccessKey");
		*session_token = child_text(cr, "SessionToken");
		exp = child_text(cr, "Expiration");
		if (!*access_key || !*secret_key || !*session_token || !exp || !**access_key ||
		    !**secret_key || tv_s3_parse_iso8601(exp, expires_ns))
			rc = TV_ECORRUPT;
	}
	free(exp);
	if (rc) {
		free(*access_key);
		if (*secret_key)
			memset(*secret_key, 0, strlen(*secret_key));
		free(*secret_key);
		free(*session_token);
		*access_key = *secret_key = *session_token = NULL;
	}
	xmlFreeDoc(doc);
	return rc;
}
