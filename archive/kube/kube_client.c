/* SPDX-License-Identifier: Apache-2.0 */
/* kube_client: see kube_client.h. One easy handle per request; requests are
 * rare (a list, then long watches), so no pool. */
#include "archive/kube/kube_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/common/timeutil.h"
#include "archive/kube/kube_exec.h"

#define TOKEN_REREAD_NS (60ULL * TV_NS_PER_SEC)
#define EXEC_EARLY_NS (10ULL * TV_NS_PER_SEC) /* a plugin token is renewed this long before it expires */
#define MAX_BODY (256u << 20)
#define MAX_LINE (64u << 20) /* one watch event */

struct tv_kube_client {
	struct tv_kube_config cfg; /* borrowed strings copied */
	pthread_mutex_t lock;      /* the token */
	char *token;
	uint64_t token_read_ns;
	uint64_t token_expires_ns; /* an exec plugin's expirationTimestamp (0: none) */
	_Atomic uint64_t requests;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *copy(const char *s)
{
	return s ? strdup(s) : NULL;
}

int tv_kube_client_new(const struct tv_kube_config *cfg, struct tv_kube_client **out)
{
	pthread_once(&curl_once, curl_init_once);
	struct tv_kube_client *c = calloc(1, sizeof(*c));
	if (!c)
		return tv_err(-ENOMEM, "out of memory");
	c->cfg = (struct tv_kube_config){copy(cfg->server),   copy(cfg->ca_file),    copy(cfg->ca_pem),
					 copy(cfg->token),    copy(cfg->token_file), copy(cfg->cert_file),
					 copy(cfg->key_file), copy(cfg->cert_pem),   copy(cfg->key_pem),
					 copy(cfg->source),   copy(cfg->exec_json)};
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return c->cfg.server ? 0 : (tv_kube_client_free(c), tv_err(-EINVAL, "no API server"));
}

void tv_kube_client_free(struct tv_kube_client *c)
{
	if (!c)
		return;
	tv_kube_config_cleanup(&c->cfg);
	free(c->token);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

uint64_t tv_kube_requests(const struct tv_kube_client *c)
{
	return atomic_load(&c->requests);
}

/* The bearer token to send (a copy), re-reading the file when due or forced. */
static char *current_token(struct tv_kube_client *c, bool force)
{
	pthread_mutex_lock(&c->lock);
	uint64_t now = tv_mono_ns();
	if (c->cfg.token_file && (force || !c->token || now - c->token_read_ns > TOKEN_REREAD_NS)) {
		struct tv_buf b;
		tv_buf_init(&b, 1 << 20);
		if (tv_read_file(c->cfg.token_file, &b) == 0 && b.len) {
			size_t n = b.len;
			while (n && (b.data[n - 1] == '\n' || b.data[n - 1] == '\r' || b.data[n - 1] == ' '))
				n--;
			char *t = strndup((const char *)b.data, n);
			if (t) {
				free(c->token);
				c->token = t;
			}
		}
		tv_buf_cleanup(&b);
		c->token_read_ns = now;
	} else if (c->cfg.exec_json &&
		   (force || !c->token ||
		    (c->token_expires_ns && tv_now_ns() + EXEC_EARLY_NS >= c->token_expires_ns))) {
		char *t = NULL;
		uint64_t expires = 0;
		if (tv_kube_exec_token(c->cfg.exec_json, &t, &expires) == 0) {
			free(c->token);
			c->token = t;
			c->token_expires_ns = expires;
		} /* else: the old token, if any; the 401 says the rest (the message is set) */
	} else if (!c->cfg.token_file && !c->token && c->cfg.token) {
		c->token = strdup(c->cfg.token);
	}
	char *t = c->token ? strdup(c->token) : NULL;
	pthread_mutex_unlock(&c->lock);
	return t;
}

struct exchange {
	struct tv_buf *body; /* whole answers */
	struct tv_buf line;  /* streams: the line being assembled */
	tv_kube_line_fn fn;  /* NULL: not a stream */
	void *ctx;
	int fn_rc;
	bool too_big;
	atomic_bool *stop;
	unsigned retry_after;
	struct tv_buf err; /* a non-2xx body */
	long status;
	CURL *easy;
};

static int deliver_lines(struct exchange *x)
{
	size_t start = 0;
	for (size_t i = 0; i < x->line.len; i++) {
		if (x->line.data[i] != '\n')
			continue;
		x->line.data[i] = '\0';
		if (i > start && (x->fn_rc = x->fn(x->ctx, (char *)x->line.data + start, i - start)))
			return -1;
		start = i + 1;
	}
	memmove(x->line.data, x->line.data + start, x->line.len - start);
	x->line.len -= start;
	return 0;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct exchange *x = ctx;
	size_t n = size * nmemb;
	if (!x->status)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->status < 200 || x->status > 299)
		return tv_buf_append(&x->err, data, n < 65536 ? n : 65536) ? 0 : n;
	struct tv_buf *to = x->fn ? &x->line : x->body;
	if (tv_buf_append(to, data, n)) {
		x->too_big = true;
		return 0;
	}
	if (x->fn && deliver_lines(x))
		return 0;
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct exchange *x = ctx;
	size_t n = size * nmemb;
	if (n > 12 && !strncasecmp(data, "Retry-After:", 12))
		x->retry_after = (unsigned)strtoul(data + 12, NULL, 10);
	return n;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	struct exchange *x = ctx;
	return x->stop && atomic_load(x->stop) ? 1 : 0;
}

/* The message of a Kubernetes Status body, or the body's start. */
static void status_message(const struct tv_buf *b, char *out, size_t n)
{
	json_t *j = b->len ? json_loadb((const char *)b->data, b->len, 0, NULL) : NULL;
	const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;
	snprintf(out, n, "%.*s", m ? (int)strlen(m) : (int)(b->len < 200 ? b->len : 200),
		 m ? m : (const char *)(b->data ? b->data : (uint8_t *)""));
	json_decref(j);
}

static int status_error(struct tv_kube_client *c, const char *path, struct exchange *x)
{
	char msg[512];
	status_message(&x->err, msg, sizeof(msg));
	switch (x->status) {
	case 401:
	case 403: return tv_err(-EACCES, "%s: GET %s: %ld %s", c->cfg.server, path, x->status, msg);
	case 404: return tv_err(-ENOENT, "%s: GET %s: not found", c->cfg.server, path);
	case 410: return tv_err(TV_KUBE_EGONE, "%s: GET %s: 410 %s", c->cfg.server, path, msg);
	case 429:
	case 503: return tv_err(-EAGAIN, "%s: GET %s: %ld %s", c->cfg.server, path, x->status, msg);
	default: return tv_err(-EPROTO, "%s: GET %s: %ld %s", c->cfg.server, path, x->status, msg);
	}
}

static int setup_tls(struct tv_kube_client *c, CURL *e)
{
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->cfg.ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->cfg.ca_file);
	if (c->cfg.ca_pem) {
		struct curl_blob b = {c->cfg.ca_pem, strlen(c->cfg.ca_pem), CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	}
	if (c->cfg.cert_file)
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->cfg.cert_file);
	if (c->cfg.key_file)
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->cfg.key_file);
	if (c->cfg.cert_pem) {
		struct curl_blob b = {c->cfg.cert_pem, strlen(c->cfg.cert_pem), CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (c->cfg.key_pem) {
		struct curl_blob b = {c->cfg.key_pem, strlen(c->cfg.key_pem), CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	return 0;
}

static int run_once(struct tv_kube_client *c, const char *path, struct exchange *x, unsigned stall_s,
		    bool force)
{
	CURL *e = curl_easy_init();
	if (!e)
		return tv_err(-ENOMEM, "out of memory");
	char url[8192], auth[8192];
	snprintf(url, sizeof(url), "%s%s", c->cfg.server, path);
	struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
	char *token = current_token(c, force);
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
		free(token);
	}
	x->easy = e;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "tapvault");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
	/* a stream without a byte for stall_s is dead (bookmarks keep live ones talking) */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)(stall_s ? stall_s : 60));
	setup_tls(c, e);
	atomic_fetch_add(&c->requests, 1);
	CURLcode cc = curl_easy_perform(e);
	if (!x->status)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &x->status);
	int rc = 0;
	if (x->fn_rc)
		rc = x->fn_rc;
	else if (x->stop && atomic_load(x->stop))
		rc = -EINTR;
	else if (x->too_big)
		rc = tv_err(-EFBIG, "%s: GET %s: answer larger than %u bytes", c->cfg.server, path,
			    x->fn ? MAX_LINE : MAX_BODY);
	else if (x->status && (x->status < 200 || x->status > 299))
		rc = status_error(c, path, x);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		rc = tv_err(-ETIMEDOUT, "%s: GET %s: no data for %u s", c->cfg.server, path, stall_s);
	else if (cc != CURLE_OK)
		rc = tv_err(-ECONNREFUSED, "%s: GET %s: %s", c->cfg.server, path, curl_easy_strerror(cc));
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return rc;
}

static int request(struct tv_kube_client *c, const char *path, struct exchange *x, unsigned stall_s,
		   struct tv_kube_answer *a)
{
	int rc = run_once(c, path, x, stall_s, false);
	if (rc == -EACCES && x->status == 401 && (c->cfg.token_file || c->cfg.exec_json)) {
		/* the token may have been rotated since it was read (or the plugin's
		 * expired early): once more with a fresh one */
		x->status = 0;
		tv_buf_reset(&x->err);
		rc = run_once(c, path, x, stall_s, true);
	}
	if (a)
		*a = (struct tv_kube_answer){x->status, x->retry_after};
	tv_buf_cleanup(&x->err);
	return rc;
}

int tv_kube_get(struct tv_kube_client *c, const char *path, struct tv_buf *out, struct tv_kube_answer *a)
{
	tv_buf_reset(out);
	if (out->limit > MAX_BODY || !out->limit)
		out->limit = MAX_BODY;
	struct exchange x = {.body = out};
	tv_buf_init(&x.err, 1 << 20);
	return request(c, path, &x, 60, a);
}

int tv_kube_stream(struct tv_kube_client *c, const char *path, unsigned stall_s, atomic_bool *stop,
		   tv_kube_line_fn fn, void *ctx, struct tv_kube_answer *a)
{
	struct exchange x = {.fn = fn, .ctx = ctx, .stop = stop};
	tv_buf_init(&x.line, MAX_LINE);
	tv_buf_init(&x.err, 1 << 20);
	int rc = request(c, path, &x, stall_s, a);
	tv_buf_cleanup(&x.line);
	return rc;
}
