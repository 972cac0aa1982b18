/* SPDX-License-Identifier: Apache-2.0 */
/* kube_config: see kube_config.h. */
#include "archive/kube/kube_config.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/buf.h"
#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/common/yaml_json.h"

void tv_kube_config_cleanup(struct tv_kube_config *c)
{
	char **fields[] = {&c->server,   &c->ca_file,  &c->ca_pem,  &c->token,  &c->token_file, &c->cert_file,
			   &c->key_file, &c->cert_pem, &c->key_pem, &c->source, &c->exec_json};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		free(*fields[i]);
		*fields[i] = NULL;
	}
}

static char *dup_or_null(const char *s)
{
	return s && s[0] ? strdup(s) : NULL;
}

int tv_kube_config_in_cluster(const char *sa_dir, struct tv_kube_config *out)
{
	memset(out, 0, sizeof(*out));
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	if (!host || !host[0])
		return tv_err(-ENOENT, "not in a Kubernetes pod (no KUBERNETES_SERVICE_HOST)");
	const char *dir = sa_dir ? sa_dir : TV_KUBE_SA_DIR;
	char token[4096], ca[4096], server[512];
	snprintf(token, sizeof(token), "%s/token", dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	/* an IPv6 service host needs brackets */
	snprintf(server, sizeof(server), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
		 port && port[0] ? port : "443");
	if (access(token, R_OK) || access(ca, R_OK))
		return tv_err(
			-EINVAL,
			"in-cluster: %s/token or ca.crt is not readable (automountServiceAccountToken?)",
			dir);
	out->server = strdup(server);
	out->token_file = strdup(token);
	out->ca_file = strdup(ca);
	out->source = strdup("in-cluster");
	if (!out->server || !out->token_file || !out->ca_file || !out->source) {
		tv_kube_config_cleanup(out);
		return tv_err(-ENOMEM, "out of memory");
	}
	return 0;
}

/* The entry of list `section` (clusters, users, contexts) named name: its `field` object. */
static json_t *named(json_t *doc, const char *section, const char *name, const char *field)
{
	size_t i;
	json_t *e;
	json_array_foreach (json_object_get(doc, section), i, e) {
		if (json_is_string(json_object_get(e, "name")) &&
		    !strcmp(json_string_value(json_object_get(e, "name")), name))
			return json_object_get(e, field);
	}
	return NULL;
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* base64 (…-data fields) to a NUL-terminated string. */
static char *decode_b64(const char *b64)
{
	if (!b64)
		return NULL;
	size_t n = strlen(b64);
	unsigned char *out = malloc(n / 4 * 3 + 4);
	if (!out)
		return NULL;
	int len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (len < 0) {
		free(out);
		return NULL;
	}
	while (n && b64[n - 1] == '=') { /* EVP_DecodeBlock counts the padding as bytes */
		n--;
		len--;
	}
	out[len] = '\0';
	return (char *)out;
}

/* A path relative to the kubeconfig's directory, as kubectl resolves it. */
static char *resolve(const char *kubeconfig, const char *p)
{
	if (!p || !p[0])
		return NULL;
	if (p[0] == '/')
		return strdup(p);
	const char *slash = strrchr(kubeconfig, '/');
	char *out;
	if (asprintf(&out, "%.*s%s", slash ? (int)(slash - kubeconfig + 1) : 0, kubeconfig, p) < 0)
		return NULL;
	return out;
}

/* The user's exec stanza, kept as JSON; a command with a '/' is relative to
 * the kubeconfig's directory (as kubectl resolves it), one without is looked
 * up on PATH. */
static int exec_plugin(struct tv_kube_config *out, const char *path, json_t *exec)
{
	if (!exec)
		return 0;
	const char *cmd = str(exec, "command");
	if (!json_is_object(exec) || !cmd || !cmd[0])
		return tv_err(-EINVAL, "%s: the exec plugin has no command", path);
	json_t *x = json_deep_copy(exec);
	char *resolved = strchr(cmd, '/') ? resolve(path, cmd) : strdup(cmd);
	if (!x || !resolved || json_object_set_new(x, "command", json_string(resolved)) ||
	    !(out->exec_json = json_dumps(x, JSON_COMPACT))) {
		json_decref(x);
		free(resolved);
		return tv_err(-ENOMEM, "out of memory");
	}
	json_decref(x);
	free(resolved);
	return 0;
}

static int fill(struct tv_kube_config *out, const char *path, json_t *cluster, json_t *user)
{
	const char *server = str(cluster, "server");
	if (!server || strncmp(server, "https://", 8))
		return tv_err(-EINVAL, "%s: the cluster's server must be an https:// URL", path);
	const char *skip = str(cluster, "insecure-skip-tls-verify");
	if (skip && !strcmp(skip, "true"))
		return tv_err(-EINVAL, "%s: insecure-skip-tls-verify is refused: give the cluster's CA",
			      path);
	if (json_object_get(user, "auth-provider"))
		return tv_err(-EINVAL, "%s: auth-provider is not supported (use an exec credential plugin)",
			      path);
	out->server = strdup(server);
	size_t n = strlen(out->server);
	while (n && out->server[n - 1] == '/')
		out->server[--n] = '\0';
	out->ca_file = resolve(path, str(cluster, "certificate-authority"));
	out->ca_pem = decode_b64(str(cluster, "certificate-authority-data"));
	out->token = dup_or_null(str(user, "token"));
	out->token_file = resolve(path, str(user, "tokenFile"));
	out->cert_file = resolve(path, str(user, "client-certificate"));
	out->key_file = resolve(path, str(user, "client-key"));
	out->cert_pem = decode_b64(str(user, "client-certificate-data"));
	out->key_pem = decode_b64(str(user, "client-key-data"));
	out->source = strdup(path);
	int rc = exec_plugin(out, path, json_object_get(user, "exec"));
	if (rc)
		return rc;
	if (!out->token && !out->token_file && !(out->cert_file || out->cert_pem) && !out->exec_json)
		return tv_err(-EINVAL,
			      "%s: the user has no token, token file, client certificate or exec plugin",
			      path);
	if ((out->cert_file || out->cert_pem) && !(out->key_file || out->key_pem))
		return tv_err(-EINVAL, "%s: a client certificate without its key", path);
	return 0;
}

int tv_kube_config_load(const char *path, const char *context, struct tv_kube_config *out)
{
	memset(out, 0, sizeof(*out));
	struct tv_buf text;
	tv_buf_init(&text, 16u << 20);
	int rc = tv_read_file(path, &text);
	json_t *doc = NULL;
	if (!rc)
		rc = tv_yaml_to_json((const char *)text.data, text.len, path, &doc);
	tv_buf_cleanup(&text);
	if (rc)
		return rc;
	const char *ctx = context ? context : str(doc, "current-context");
	json_t *c = ctx ? named(doc, "contexts", ctx, "context") : NULL;
	json_t *cluster =
		c ? named(doc, "clusters", str(c, "cluster") ? str(c, "cluster") : "", "cluster") : NULL;
	json_t *user = c ? named(doc, "users", str(c, "user") ? str(c, "user") : "", "user") : NULL;
	if (!ctx)
		rc = tv_err(-EINVAL, "%s: no current-context (name one)", path);
	else if (!c)
		rc = tv_err(-EINVAL, "%s: no context '%s'", path, ctx);
	else if (!cluster || !user)
		rc = tv_err(-EINVAL, "%s: context '%s' names a cluster or user that is not there", path, ctx);
	else
		rc = fill(out, path, cluster, user);
	json_decref(doc);
	if (rc)
		tv_kube_config_cleanup(out);
	return rc;
}
