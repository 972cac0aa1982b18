/* SPDX-License-Identifier: Apache-2.0 */
/* kube_config and yaml_json: kubeconfigs as kubectl writes them (inline
 * base64 data, files relative to the kubeconfig, token files, client
 * certificates, a named context, exec credential plugins run as a real
 * process), the in-cluster config, and what is refused:
 * insecure-skip-tls-verify, auth-provider, http://, a user without
 * credentials, a context naming nothing, broken YAML; ExecCredential
 * answers good and bad. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/yaml_json.h"
#include "archive/kube/kube_config.h"
#include "archive/kube/kube_exec.h"
#include "testutil.h"

static char dir[256];

static const char *write_file(const char *name, const char *text)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

#define CLUSTERS                                                                                             \
	"clusters:\n"                                                                                        \
	"- name: a\n  cluster:\n    server: https://10.0.0.1:6443/\n"                                        \
	"    certificate-authority-data: aGVsbG8gQ0E=\n"                                                     \
	"- name: b\n  cluster: {server: 'https://b.example', certificate-authority: certs/ca.pem}\n"

static void test_contexts_and_data(void **state)
{
	(void)state;
	const char *p = write_file(
		"kc", CLUSTERS "users:\n"
			       "- {name: t, user: {token: s3cret}}\n"
			       "- {name: f, user: {tokenFile: tok}}\n"
			       "- {name: c, user: {client-certificate-data: Y2VydA==, client-key: k.pem}}\n"
			       "contexts:\n"
			       "- {name: one, context: {cluster: a, user: t}}\n"
			       "- {name: two, context: {cluster: b, user: f}}\n"
			       "- {name: three, context: {cluster: a, user: c}}\n"
			       "current-context: one\n");
	struct tv_kube_config c;
	assert_int_equal(tv_kube_config_load(p, NULL, &c), 0);
	assert_string_equal(c.server, "https://10.0.0.1:6443"); /* trailing '/' dropped */
	assert_string_equal(c.ca_pem, "hello CA");
	assert_string_equal(c.token, "s3cret");
	assert_null(c.token_file);
	tv_kube_config_cleanup(&c);
	assert_int_equal(tv_kube_config_load(p, "two", &c), 0);
	char want[512];
	snprintf(want, sizeof(want), "%s/certs/ca.pem", dir); /* relative to the kubeconfig */
	assert_string_equal(c.ca_file, want);
	snprintf(want, sizeof(want), "%s/tok", dir);
	assert_string_equal(c.token_file, want);
	tv_kube_config_cleanup(&c);
	assert_int_equal(tv_kube_config_load(p, "three", &c), 0);
	assert_string_equal(c.cert_pem, "cert");
	assert_non_null(strstr(c.key_file, "/k.pem"));
	tv_kube_config_cleanup(&c);
	assert_int_equal(tv_kube_config_load(p, "four", &c), -EINVAL);
	assert_non_null(strstr(tv_errmsg(), "no context 'four'"));
}

static void test_refused(void **state)
{
	(void)state;
	struct tv_kube_config c;
	const char *insecure = write_file(
		"k1",
		"clusters: [{name: a, cluster: {server: 'https://x', insecure-skip-tls-verify: true}}]\n"
		"users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: a, user: "
		"u}}]\n"
		"current-context: c\n");
	assert_int_equal(tv_kube_config_load(insecure, NULL, &c), -EINVAL);
	assert_non_null(strstr(tv_errmsg(), "insecure-skip-tls-verify"));
	const char *ap = write_file("k2", CLUSTERS "users: [{name: u, user: {auth-provider: {name: gcp}}}]\n"
						   "contexts: [{name: c, context: {cluster: a, user: u}}]\n"
						   "current-context: c\n");
	assert_int_equal(tv_kube_config_load(ap, NULL, &c), -EINVAL);
	assert_non_null(strstr(tv_errmsg(), "auth-provider"));
	const char *http = write_file(
		"k3", "clusters: [{name: a, cluster: {server: 'http://x'}}]\n"
		      "users: [{name: u, user: {token: t}}]\n"
		      "contexts: [{name: c, context: {cluster: a, user: u}}]\ncurrent-context: c\n");
	assert_int_equal(tv_kube_config_load(http, NULL, &c), -EINVAL);
	const char *nocred =
		write_file("k4", CLUSTERS "users: [{name: u, user: {}}]\n"
					  "contexts: [{name: c, context: {cluster: a, user: u}}]\n"
					  "current-context: c\n");
	assert_int_equal(tv_kube_config_load(nocred, NULL, &c), -EINVAL);
	const char *dangling =
		write_file("k5", CLUSTERS "users: []\ncontexts: [{name: c, context: {cluster: a, "
					  "user: nobody}}]\ncurrent-context: c\n");
	assert_int_equal(tv_kube_config_load(dangling, NULL, &c), -EINVAL);
	const char *broken = write_file("k6", "clusters: [\n");
	assert_int_equal(tv_kube_config_load(broken, NULL, &c), -EINVAL);
	assert_non_null(strstr(tv_errmsg(), "k6:"));
	assert_int_equal(tv_kube_config_load("/nonexistent/kubeconfig", NULL, &c), -ENOENT);
}

/* A plugin as EKS's: a script printing an ExecCredential, given its args,
 * env and KUBERNETES_EXEC_INFO; failures named. */
static void test_exec_plugin(void **state)
{
	(void)state;
	const char *script = write_file(
		"plugin.sh",
		"#!/bin/sh\n"
		"case \"$KUBERNETES_EXEC_INFO\" in *'\"interactive\":false'*) ;; *) exit 9;; esac\n"
		"[ \"$1\" = get-token ] || exit 8\n"
		"printf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
		"\"status\":{\"token\":\"%s\",\"expirationTimestamp\":\"2030-01-02T03:04:05Z\"}}' "
		"\"$TOK\"\n");
	char mode[600];
	snprintf(mode, sizeof(mode), "chmod +x %s", script);
	assert_int_equal(system(mode), 0);
	const char *k =
		write_file("k7", CLUSTERS
			   "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1,"
			   " command: ./plugin.sh, args: [get-token], env: [{name: TOK, value: sekret}]}}}]\n"
			   "contexts: [{name: c, context: {cluster: a, user: u}}]\n"
			   "current-context: c\n");
	struct tv_kube_config c;
	assert_int_equal(tv_kube_config_load(k, NULL, &c), 0);
	assert_non_null(c.exec_json);
	assert_non_null(strstr(c.exec_json, dir)); /* the command, relative to the kubeconfig */
	char *tok = NULL;
	uint64_t exp = 0;
	assert_int_equal(tv_kube_exec_token(c.exec_json, &tok, &exp), 0);
	assert_string_equal(tok, "sekret");
	assert_true(exp == 1893553445ULL * 1000000000ULL);
	free(tok);
	tv_kube_config_cleanup(&c);
	/* a plugin that fails: its exit status and stderr; one that is not there */
	assert_int_equal(
		tv_kube_exec_token(
			"{\"command\":\"sh\",\"args\":[\"-c\",\"echo expired SSO session >&2; exit 3\"]}",
			&tok, &exp),
		-EACCES);
	assert_non_null(strstr(tv_errmsg(), "exit status 3: expired SSO session"));
	assert_true(tv_kube_exec_token("{\"command\":\"/nonexistent/aws\"}", &tok, &exp) < 0);
	assert_non_null(strstr(tv_errmsg(), "/nonexistent/aws"));
	/* answers */
	const char *ok = "{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}";
	assert_int_equal(tv_kube_exec_parse(ok, strlen(ok), &tok, &exp), 0);
	assert_int_equal(exp, 0);
	free(tok);
	const char *cert = "{\"kind\":\"ExecCredential\",\"status\":{\"clientCertificateData\":\"x\"}}";
	assert_int_equal(tv_kube_exec_parse(cert, strlen(cert), &tok, &exp), -ENOTSUP);
	assert_int_equal(tv_kube_exec_parse("nope", 4, &tok, &exp), -EINVAL);
	const char *kind = "{\"kind\":\"Pod\",\"status\":{\"token\":\"t\"}}";
	assert_int_equal(tv_kube_exec_parse(kind, strlen(kind), &tok, &exp), -EINVAL);
	const char *badexp =
		"{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\",\"expirationTimestamp\":\"soon\"}}";
	assert_int_equal(tv_kube_exec_parse(badexp, strlen(badexp), &tok, &exp), -EINVAL);
}

static void test_in_cluster(void **state)
{
	(void)state;
	struct tv_kube_config c;
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(tv_kube_config_in_cluster(dir, &c), -ENOENT);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(tv_kube_config_in_cluster(dir, &c), -EINVAL); /* no token yet */
	write_file("token", "abc\n");
	write_file("ca.crt", "PEM");
	assert_int_equal(tv_kube_config_in_cluster(dir, &c), 0);
	assert_string_equal(c.server, "https://[fd00::1]:443");
	assert_non_null(strstr(c.token_file, "/token"));
	tv_kube_config_cleanup(&c);
	unsetenv("KUBERNETES_SERVICE_HOST");
}

static void test_yaml_json(void **state)
{
	(void)state;
	json_t *j;
	const char *y = "a: &x [1, two]\nb: *x\nc: {d: 'true'}\n";
	assert_int_equal(tv_yaml_to_json(y, strlen(y), "t", &j), 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "b"), 1)), "two");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "c"), "d")), "true");
	json_decref(j);
	assert_int_equal(tv_yaml_to_json("", 0, "t", &j), 0);
	assert_true(json_is_null(j));
	json_decref(j);
	assert_int_equal(tv_yaml_to_json("a: *nope\n", 9, "t", &j), -EINVAL);
	assert_int_equal(tv_yaml_to_json("{[1]: 2}\n", 9, "t", &j), -EINVAL); /* a key that is not a scalar */
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contexts_and_data), cmocka_unit_test(test_refused),
		cmocka_unit_test(test_in_cluster),        cmocka_unit_test(test_exec_plugin),
		cmocka_unit_test(test_yaml_json),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	tu_rmrf(dir);
	return rc;
}
