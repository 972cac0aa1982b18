/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: arbitrary bytes as a kubeconfig (YAML through yaml_json, then
 * the context, cluster and user lookups). Whatever loads must name an
 * https:// server and some credential, as kube_config.h promises. The same
 * bytes as an exec plugin's ExecCredential answer: a token, or an error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/yaml_json.h"
#include "archive/kube/kube_config.h"
#include "archive/kube/kube_exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = NULL;
	if (tv_yaml_to_json((const char *)data, size, "fuzz", &doc) == 0)
		json_decref(doc);
	char path[] = "/tmp/fuzz-kubeconfig-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		struct tv_kube_config c;
		if (tv_kube_config_load(path, NULL, &c) == 0) {
			if (!c.server || strncmp(c.server, "https://", 8) ||
			    !(c.token || c.token_file || c.cert_file || c.cert_pem || c.exec_json))
				abort();
			tv_kube_config_cleanup(&c);
		}
	}
	close(fd);
	unlink(path);
	char *tok = NULL;
	uint64_t exp;
	if (tv_kube_exec_parse((const char *)data, size, &tok, &exp) == 0 && (!tok || !tok[0]))
		abort();
	free(tok);
	return 0;
}
