/* SPDX-License-Identifier: Apache-2.0 */
/* k8s_api: see k8s_api.h. */
#include "archive/k8s_api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"

/* Small growable arrays of the output; every append checks its allocation. */
static int push_ip(struct tv_k8s_api_object *o, const char *ip)
{
	if (!ip || !*ip || !strcmp(ip, "None"))
		return 0; /* headless services have "None" */
	for (size_t i = 0; i < o->o.nips; i++)
		if (!strcmp(o->ips[i], ip))
			return 0;
	const char **a = realloc(o->ips, (o->o.nips + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	a[o->o.nips++] = ip;
	o->ips = a;
	o->o.ips = a;
	return 0;
}

static int push_port(struct tv_k8s_api_object *o, const json_t *p, const char *number_field)
{
	json_int_t n = json_integer_value(json_object_get(p, number_field));
	if (n <= 0 || n > 65535)
		return 0;
	struct tv_k8s_port *a = realloc(o->ports, (o->o.nports + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	const char *proto = json_string_value(json_object_get(p, "protocol"));
	a[o->o.nports++] = (struct tv_k8s_port){.name = json_string_value(json_object_get(p, "name")),
						.port = (uint16_t)n,
						.protocol = proto ? proto : "TCP"};
	o->ports = a;
	o->o.ports = a;
	return 0;
}

static int take_labels(struct tv_k8s_api_object *o, const json_t *labels)
{
	size_t n = json_is_object(labels) ? json_object_size(labels) : 0;
	if (!n)
		return 0;
	if (!(o->labels = calloc(n, sizeof(*o->labels))))
		return -ENOMEM;
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)labels, k, v) {
		if (json_is_string(v))
			o->labels[o->o.nlabels++] = (struct tv_label){k, json_string_value(v)};
	}
	o->o.labels = o->labels;
	return 0;
}

static int pod(const json_t *item, struct tv_k8s_api_object *o)
{
	const json_t *spec = json_object_get(item, "spec"), *status = json_object_get(item, "status");
	o->o.node = json_string_value(json_object_get(spec, "nodeName"));
	int rc = 0;
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(status, "podIPs"), i, v)
		if (!rc)
			rc = push_ip(o, json_string_value(json_object_get(v, "ip")));
	if (!rc)
		rc = push_ip(o, json_string_value(json_object_get(status, "podIP")));
	json_t *container;
	json_array_foreach (json_object_get(spec, "containers"), i, container) {
		size_t k;
		json_array_foreach (json_object_get(container, "ports"), k, v)
			if (!rc)
				rc = push_port(o, v, "containerPort");
	}
	return rc;
}

static int service(const json_t *item, struct tv_k8s_api_object *o)
{
	const json_t *spec = json_object_get(item, "spec");
	int rc = 0;
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(spec, "clusterIPs"), i, v)
		if (!rc)
			rc = push_ip(o, json_string_value(v));
	if (!rc)
		rc = push_ip(o, json_string_value(json_object_get(spec, "clusterIP")));
	json_array_foreach (json_object_get(spec, "ports"), i, v)
		if (!rc)
			rc = push_port(o, v, "port");
	return rc;
}

static int endpoints(const json_t *item, struct tv_k8s_api_object *o)
{
	int rc = 0;
	size_t i, k;
	json_t *subset, *v;
	json_array_foreach (json_object_get(item, "subsets"), i, subset) {
		json_array_foreach (json_object_get(subset, "addresses"), k, v)
			if (!rc)
				rc = push_ip(o, json_string_value(json_object_get(v, "ip")));
		json_array_foreach (json_object_get(subset, "ports"), k, v)
			if (!rc)
				rc = push_port(o, v, "port");
	}
	return rc;
}

int tv_k8s_from_api(const json_t *item, struct tv_k8s_api_object *out)
{
	memset(out, 0, sizeof(*out));
	static const struct {
		const char *api, *kind;
		int (*fill)(const json_t *, struct tv_k8s_api_object *);
	} kinds[] = {{"Pod", "pod", pod},
		     {"Service", "service", service},
		     {"Endpoints", "endpoints", endpoints},
		     {"Namespace", "namespace", NULL}};
	const char *kind = json_string_value(json_object_get(item, "kind"));
	size_t k = 0;
	while (k < sizeof(kinds) / sizeof(kinds[0]) && (!kind || strcmp(kind, kinds[k].api)))
		k++;
	if (k == sizeof(kinds) / sizeof(kinds[0]))
		return -ENOENT;
	const json_t *meta = json_object_get(item, "metadata");
	out->o.kind = kinds[k].kind;
	out->o.name = json_string_value(json_object_get(meta, "name"));
	out->o.namespace_ = kinds[k].fill ? json_string_value(json_object_get(meta, "namespace")) : NULL;
	if (!out->o.name || (kinds[k].fill && !out->o.namespace_))
		return tv_err(-EINVAL, "a %s without metadata.name%s", kind,
			      kinds[k].fill ? " or metadata.namespace" : "");
	int rc = take_labels(out, json_object_get(meta, "labels"));
	if (!rc && kinds[k].fill)
		rc = kinds[k].fill(item, out);
	if (rc) {
		tv_k8s_api_object_cleanup(out);
		return rc == -ENOMEM ? tv_err(rc, "out of memory") : rc;
	}
	return 0;
}

void tv_k8s_api_object_cleanup(struct tv_k8s_api_object *o)
{
	free(o->ips);
	free(o->ports);
	free(o->labels);
	memset(o, 0, sizeof(*o));
}

int tv_k8s_from_api_document(const json_t *doc, struct tv_k8s_api_object **out)
{
	const json_t *items = json_object_get(doc, "items");
	size_t n = json_is_array(items) ? json_array_size(items) : 1;
	struct tv_k8s_api_object *a = calloc(n ? n : 1, sizeof(*a));
	if (!a)
		return tv_err(-ENOMEM, "out of memory");
	int kept = 0;
	for (size_t i = 0; i < n; i++) {
		const json_t *item = json_is_array(items) ? json_array_get(items, i) : doc;
		int rc = tv_k8s_from_api(item, &a[kept]);
		if (rc == -ENOENT)
			continue; /* a kind names do not come from */
		if (rc) {
			for (int k = 0; k < kept; k++)
				tv_k8s_api_object_cleanup(&a[k]);
			free(a);
			return rc;
		}
		kept++;
	}
	*out = a;
	return kept;
}
