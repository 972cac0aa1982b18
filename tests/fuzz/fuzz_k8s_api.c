/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: Kubernetes API objects (`import/dissect --k8s FILE`) into
 * events objects: any JSON document, List or single object. */
#include <jansson.h>
#include <stdlib.h>

#include "archive/k8s_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, 0, NULL);
	if (!doc)
		return 0;
	struct tv_k8s_api_object *objs;
	int n = tv_k8s_from_api_document(doc, &objs);
	for (int i = 0; i < n; i++) {
		/* every kept object is what the events writer needs */
		const struct tv_k8s_object *o = &objs[i].o;
		if (!o->kind || !o->name || (o->nips > 0 && !o->ips[o->nips - 1]))
			__builtin_trap();
		tv_k8s_api_object_cleanup(&objs[i]);
	}
	if (n >= 0)
		free(objs);
	json_decref(doc);
	return 0;
}
