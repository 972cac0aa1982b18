/* SPDX-License-Identifier: Apache-2.0 */
/* kube_config and yaml_json: kubeconfigs as kubectl writes them (inline
 * base64 data, files relative to the kubeconfig, token files, client
 * certificates, a named context), the in-cluster config, and what is refused:
 * insecure-skip-tls-verify, exec plugins, http://, a user without
 * credentials, a context naming nothing, broken YAML. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/yaml_json.h"
#include "archive/kube/kube_config.h"
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
	const char *exec = write_file("k2", CLUSTERS "users: [{name: u, user: {exec: {command: aws}}}]\n"
						     "contexts: [{name: c, context: {cluster: a, user: u}}]\n"
						     "current-context: c\n");
	assert_int_equal(tv_kube_config_load(exec, NULL, &c), -EINVAL);
	assert_non_null(strstr(tv_errmsg(), "exec"));
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
		cmocka_unit_test(test_contexts_and_data),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_in_cluster),
		cmocka_unit_test(test_yaml_json),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	tu_rmrf(dir);
	return rc;
}
