/* SPDX-License-Identifier: Apache-2.0 */
/* s3_creds: the credentials a cluster hands out that expire (s3_creds.h):
 * AWS web identity (IRSA), container credentials (EKS Pod Identity, ECS),
 * IMDSv2 (a node's role). Each answer's secret lives in struct
 * tv_s3_config only; no message here prints a secret or a token. */
#include "archive/store/s3/s3_creds.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/buf.h"
#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/common/log.h"
#include "archive/common/timeutil.h"
#include "archive/store/s3/s3_xml.h"

#define ANSWER_MAX (1u << 20)
#define REFRESH_MARGIN_NS (300ULL * 1000000000ULL) /* renew 5 minutes before expiry, as the AWS SDKs */
#define IMDS_DEFAULT "http://169.254.169.254"
#define CONTAINER_HOST "http://169.254.170.2"

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && v[0] ? v : NULL;
}

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
	return tv_buf_append(ctx, p, size * n) ? 0 : size * n;
}

struct http {
	const char *method, *url;
	const char *const *headers; /* "Name: value", NULL-terminated; may be NULL */
	const char *body;           /* POST/PUT body, or NULL */
	long timeout_ms;
	const struct tv_s3_opts *o; /* CA bundle, insecure */
};

/* One blocking exchange. @return the HTTP status (body in out), or a
 * negative error for a transport failure (message names the URL, never a
 * header). */
static long http_call(const struct http *h, struct tv_buf *out)
{
	CURL *e = curl_easy_init();
	if (!e)
		return tv_err(-ENOMEM, "out of memory");
	struct curl_slist *hl = NULL;
	for (const char *const *p = h->headers; p && *p; p++)
		hl = curl_slist_append(hl, *p);
	char why[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(e, CURLOPT_URL, h->url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, h->method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, why);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOPROXY,
			 "*"); /* link-local and in-cluster endpoints: never via a proxy */
	if (h->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, h->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(h->body));
	}
	if (h->o && h->o->ca_bundle)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->o->ca_bundle);
	if (h->o && h->o->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	CURLcode cc = curl_easy_perform(e);
	long status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(e);
	if (cc != CURLE_OK)
		return tv_err(-EAGAIN, "%s: %s", h->url, why[0] ? why : curl_easy_strerror(cc));
	return status;
}

/* The new keys replace the old; the old secret is wiped. */
static void take(struct tv_s3_config *c, char *ak, char *sk, char *token, uint64_t expires_ns)
{
	free(c->access_key);
	if (c->secret_key)
		memset(c->secret_key, 0, strlen(c->secret_key));
	free(c->secret_key);
	free(c->session_token);
	c->access_key = ak;
	c->secret_key = sk;
	c->session_token = token;
	c->expires_ns = expires_ns;
}

/* {AccessKeyId, SecretAccessKey, Token, Expiration} (container and IMDS). */
static int take_json(struct tv_s3_config *c, const struct tv_buf *b, const char *from)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)b->data, b->len, 0, &je);
	const char *ak = json_string_value(json_object_get(j, "AccessKeyId"));
	const char *sk = json_string_value(json_object_get(j, "SecretAccessKey"));
	const char *tok = json_string_value(json_object_get(j, "Token"));
	const char *exp = json_string_value(json_object_get(j, "Expiration"));
	const char *code = json_string_value(json_object_get(j, "Code"));
	uint64_t expires = 0;
	int rc = 0;
	if (code && strcmp(code, "Success") != 0)
		rc = tv_err(-EACCES, "%s: credentials not available (Code %.64s)", from, code);
	else if (!ak || !sk || !*ak || !*sk || (exp && tv_s3_parse_iso8601(exp, &expires)))
		rc = tv_err(-EPROTO, "%s: not a credentials answer", from);
	if (!rc) {
		char *a = strdup(ak), *s = strdup(sk), *t = tok && *tok ? strdup(tok) : NULL;
		if (!a || !s || (tok && *tok && !t)) {
			free(a), free(s), free(t);
			rc = tv_err(-ENOMEM, "out of memory");
		} else {
			take(c, a, s, t, expires);
		}
	}
	json_decref(j);
	return rc;
}

/* ---- AWS web identity: AssumeRoleWithWebIdentity (IRSA) ---- */

static char *form_escape(CURL *e, const char *s)
{
	char *x = curl_easy_escape(e, s, 0);
	char *out = x ? strdup(x) : NULL;
	curl_free(x);
	return out;
}

static int sts_endpoint(const struct tv_s3_config *c, char *out, size_t n)
{
	const char *ep = env("AWS_ENDPOINT_URL_STS") ? env("AWS_ENDPOINT_URL_STS") : env("AWS_ENDPOINT_URL");
	int m = ep ? snprintf(out, n, "%s", ep) : snprintf(out, n, "https://sts.%s.amazonaws.com", c->region);
	return m < 0 || (size_t)m >= n ? tv_err(-EINVAL, "STS endpoint too long") : 0;
}

static int fetch_web_identity(struct tv_s3_config *c, const struct tv_s3_opts *o)
{
	const char *role = env("AWS_ROLE_ARN"), *token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
	struct tv_buf tok, answer;
	tv_buf_init(&tok, 1u << 20);
	tv_buf_init(&answer, ANSWER_MAX);
	/* re-read every time: the kubelet rotates the projected token */
	int rc = tv_read_file(token_file, &tok);
	if (rc) {
		tv_buf_cleanup(&tok);
		return tv_err(-EACCES, "web identity: cannot read AWS_WEB_IDENTITY_TOKEN_FILE %s",
			      token_file);
	}
	while (tok.len && (tok.data[tok.len - 1] == '\n' || tok.data[tok.len - 1] == '\r'))
		tok.len--;
	tv_buf_append(&tok, "", 1);
	char session[128], host[64] = "pod";
	gethostname(host, sizeof(host) - 1);
	snprintf(session, sizeof(session), "%s",
		 env("AWS_ROLE_SESSION_NAME") ? env("AWS_ROLE_SESSION_NAME") : "");
	if (!session[0])
		snprintf(session, sizeof(session), "tapvault-%.50s", host);
	CURL *e = curl_easy_init();
	char *erole = e ? form_escape(e, role) : NULL, *esession = e ? form_escape(e, session) : NULL;
	char *etoken = e ? form_escape(e, (const char *)tok.data) : NULL;
	char *body = NULL, url[512];
	if (!erole || !esession || !etoken ||
	    asprintf(&body,
		     "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&DurationSeconds=3600&RoleArn=%s&"
		     "RoleSessionName=%s&WebIdentityToken=%s",
		     erole, esession, etoken) < 0)
		body = NULL;
	memset(tok.data, 0, tok.len);
	if (etoken)
		memset(etoken, 0, strlen(etoken));
	free(erole), free(esession), free(etoken);
	if (e)
		curl_easy_cleanup(e);
	tv_buf_cleanup(&tok);
	rc = body ? sts_endpoint(c, url, sizeof(url)) : tv_err(-ENOMEM, "out of memory");
	long status = 0;
	if (!rc) {
		const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
				      "Accept: application/xml", NULL};
		struct http h = {"POST", url, hdrs, body, 10000, o};
		status = http_call(&h, &answer);
		rc = status < 0 ? (int)status : 0;
	}
	if (body) {
		memset(body, 0, strlen(body));
		free(body);
	}
	char *ak = NULL, *sk = NULL, *st = NULL;
	uint64_t expires = 0;
	if (!rc && status != 200) {
		char code[128] = "", msg[256] = "";
		tv_s3_xml_error((const char *)answer.data, answer.len, code, sizeof(code), msg, sizeof(msg));
		rc = tv_err(status >= 500 ? -EAGAIN : -EACCES,
			    "web identity: STS %s refused AssumeRoleWithWebIdentity for %s: HTTP %ld %s %s",
			    url, role, status, code, msg);
	} else if (!rc && tv_s3_xml_sts_credentials((const char *)answer.data, answer.len, &ak, &sk, &st,
						    &expires)) {
		rc = tv_err(-EPROTO, "web identity: STS %s: not an AssumeRoleWithWebIdentity answer", url);
	}
	if (!rc)
		take(c, ak, sk, st, expires);
	if (answer.data)
		memset(answer.data, 0, answer.len);
	tv_buf_cleanup(&answer);
	return rc;
}

/* ---- container credentials (EKS Pod Identity, ECS) ---- */

static int fetch_container(struct tv_s3_config *c, const struct tv_s3_opts *o)
{
	char url[1024], auth[8192 + 32];
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
		   *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	snprintf(url, sizeof(url), "%s%s", full ? "" : CONTAINER_HOST, full ? full : rel);
	const char *hdrs[2] = {NULL, NULL};
	const char *token_file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	struct tv_buf tok, answer;
	tv_buf_init(&tok, 1u << 20);
	tv_buf_init(&answer, ANSWER_MAX);
	int rc = 0;
	if (token_file) { /* re-read every time: Pod Identity rotates it */
		if (tv_read_file(token_file, &tok))
			rc = tv_err(-EACCES,
				    "container credentials: cannot read "
				    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s",
				    token_file);
		while (!rc && tok.len && (tok.data[tok.len - 1] == '\n' || tok.data[tok.len - 1] == '\r'))
			tok.len--;
		snprintf(auth, sizeof(auth), "Authorization: %.*s", (int)tok.len, (const char *)tok.data);
		hdrs[0] = auth;
	} else if (env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
		snprintf(auth, sizeof(auth), "Authorization: %s", env("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
		hdrs[0] = auth;
	}
	long status = 0;
	if (!rc) {
		struct http h = {"GET", url, hdrs, NULL, 5000, o};
		status = http_call(&h, &answer);
		rc = status < 0 ? (int)status : 0;
	}
	memset(auth, 0, sizeof(auth));
	if (tok.data)
		memset(tok.data, 0, tok.len);
	tv_buf_cleanup(&tok);
	if (!rc && status != 200)
		rc = tv_err(status >= 500 ? -EAGAIN : -EACCES, "container credentials: %s answered HTTP %ld",
			    url, status);
	if (!rc)
		rc = take_json(c, &answer, "container credentials");
	if (answer.data)
		memset(answer.data, 0, answer.len);
	tv_buf_cleanup(&answer);
	return rc;
}

/* ---- IMDSv2 (the node's instance role) ---- */

static int fetch_imds(struct tv_s3_config *c, const struct tv_s3_opts *o)
{
	const char *base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT") ? env("AWS_EC2_METADATA_SERVICE_ENDPOINT")
								    : IMDS_DEFAULT;
	size_t blen = strlen(base);
	while (blen && base[blen - 1] == '/')
		blen--;
	char url[1024], token_hdr[1200];
	struct tv_buf token, answer;
	tv_buf_init(&token, 1u << 20);
	tv_buf_init(&answer, ANSWER_MAX);
	/* a session token first (IMDSv2); its PUT cannot be forged by an SSRF GET */
	snprintf(url, sizeof(url), "%.*s/latest/api/token", (int)blen, base);
	const char *put_hdrs[] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL};
	struct http h = {"PUT", url, put_hdrs, NULL, 1000, o};
	long status = http_call(&h, &token);
	int rc = status < 0                   ? (int)status
		 : status == 200 && token.len ? 0
					      : tv_err(-EACCES, "IMDSv2: %s answered HTTP %ld", url, status);
	snprintf(token_hdr, sizeof(token_hdr), "X-aws-ec2-metadata-token: %.*s", (int)token.len,
		 (const char *)token.data);
	const char *hdrs[] = {token_hdr, NULL};
	char role[256] = "";
	if (!rc) {
		snprintf(url, sizeof(url), "%.*s/latest/meta-data/iam/security-credentials/", (int)blen,
			 base);
		h = (struct http){"GET", url, hdrs, NULL, 1000, o};
		status = http_call(&h, &answer);
		rc = status < 0 ? (int)status
		     : status == 200
			     ? 0
			     : tv_err(-EACCES, "IMDSv2: no instance role (%s: HTTP %ld)", url, status);
		size_t n = answer.len < sizeof(role) - 1 ? answer.len : sizeof(role) - 1;
		if (!rc)
			memcpy(role, answer.data, n);
		role[strcspn(role, "\r\n")] = '\0';
		if (!rc && !role[0])
			rc = tv_err(-EACCES, "IMDSv2: no instance role");
	}
	if (!rc) {
		tv_buf_reset(&answer);
		snprintf(url, sizeof(url), "%.*s/latest/meta-data/iam/security-credentials/%s", (int)blen,
			 base, role);
		h = (struct http){"GET", url, hdrs, NULL, 1000, o};
		status = http_call(&h, &answer);
		rc = status < 0      ? (int)status
		     : status == 200 ? 0
				     : tv_err(-EACCES, "IMDSv2: %s answered HTTP %ld", url, status);
		if (!rc)
			rc = take_json(c, &answer, "IMDSv2");
	}
	memset(token_hdr, 0, sizeof(token_hdr));
	if (token.data)
		memset(token.data, 0, token.len);
	if (answer.data)
		memset(answer.data, 0, answer.len);
	tv_buf_cleanup(&token);
	tv_buf_cleanup(&answer);
	return rc;
}

/* ---- choosing and refreshing ---- */

enum tv_s3_cred_source tv_s3_creds_detect(void)
{
	if (env("AWS_ROLE_ARN") && env("AWS_WEB_IDENTITY_TOKEN_FILE"))
		return TV_S3_CREDS_WEB_IDENTITY;
	if (env("AWS_CONTAINER_CREDENTIALS_FULL_URI") || env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"))
		return TV_S3_CREDS_CONTAINER;
	return TV_S3_CREDS_NONE;
}

const char *tv_s3_creds_name(enum tv_s3_cred_source src)
{
	switch (src) {
	case TV_S3_CREDS_STATIC: return "static keys";
	case TV_S3_CREDS_WEB_IDENTITY: return "web identity (AssumeRoleWithWebIdentity)";
	case TV_S3_CREDS_CONTAINER: return "container credentials";
	case TV_S3_CREDS_IMDS: return "IMDSv2 instance role";
	default: return "none";
	}
}

int tv_s3_creds_fetch(struct tv_s3_config *c, const struct tv_s3_opts *o)
{
	int rc;
	switch (c->source) {
	case TV_S3_CREDS_WEB_IDENTITY: rc = fetch_web_identity(c, o); break;
	case TV_S3_CREDS_CONTAINER: rc = fetch_container(c, o); break;
	case TV_S3_CREDS_IMDS: rc = fetch_imds(c, o); break;
	default: return 0;
	}
	if (!rc) {
		char until[TV_RFC3339_LEN] = "never";
		if (c->expires_ns)
			tv_format_rfc3339(c->expires_ns, until);
		c->fetches++;
		tv_debug("S3 credentials from %s, expiring %s", tv_s3_creds_name(c->source), until);
	}
	return rc;
}

bool tv_s3_creds_stale(const struct tv_s3_config *c, uint64_t now_ns)
{
	if (c->source <= TV_S3_CREDS_STATIC || !c->expires_ns)
		return false;
	uint64_t margin = REFRESH_MARGIN_NS;
	const char *m = env("TAPVAULT_CREDENTIALS_REFRESH_MARGIN_S"); /* tests: renew sooner */
	if (m)
		margin = strtoull(m, NULL, 10) * 1000000000ULL;
	return now_ns + margin >= c->expires_ns;
}
