/* SPDX-License-Identifier: Apache-2.0 */
/* k8s_api: see k8s_api.h. */
#include "archive/k8s_api.h"

#include <errno.h>
#include <stdbool.h>
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

/* Appends a non-empty string to a NULL-terminated-free growable array. */
static int push_str(const char ***a, size_t *n, const char *v)
{
	if (!v || !*v)
		return 0;
	const char **g = realloc(*a, (*n + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	g[(*n)++] = v;
	*a = g;
	return 0;
}

static const char *label(const json_t *item, const char *key)
{
	return json_string_value(
		json_object_get(json_object_get(json_object_get(item, "metadata"), "labels"), key));
}

/* The controlling owner; a ReplicaSet named DEPLOYMENT-HASH (the pod's
 * pod-template-hash) is named as its Deployment. */
static void workload(const json_t *item, struct tv_k8s_api_object *o)
{
	size_t i;
	json_t *ref;
	json_array_foreach (json_object_get(json_object_get(item, "metadata"), "ownerReferences"), i, ref) {
		if (!json_is_true(json_object_get(ref, "controller")))
			continue;
		const char *kind = json_string_value(json_object_get(ref, "kind")),
			   *name = json_string_value(json_object_get(ref, "name"));
		if (!kind || !name)
			return;
		const char *hash = label(item, "pod-template-hash");
		size_t nl = strlen(name), hl = hash ? strlen(hash) : 0;
		if (!strcmp(kind, "ReplicaSet") && hl && nl > hl + 1 && name[nl - hl - 1] == '-' &&
		    !strcmp(name + nl - hl, hash) && nl - hl - 1 < sizeof(o->workload)) {
			memcpy(o->workload, name, nl - hl - 1);
			o->workload[nl - hl - 1] = '\0';
			o->o.workload_kind = "Deployment";
			o->o.workload_name = o->workload;
		} else {
			o->o.workload_kind = kind;
			o->o.workload_name = name;
		}
		return;
	}
}

static int container_ids(const json_t *status, struct tv_k8s_api_object *o)
{
	static const char *const lists[] = {"initContainerStatuses", "containerStatuses"};
	int rc = 0;
	for (size_t l = 0; l < 2 && !rc; l++) {
		size_t i;
		json_t *v;
		json_array_foreach (json_object_get(status, lists[l]), i, v) {
			const char *id = json_string_value(json_object_get(v, "containerID"));
			const char *name = json_string_value(json_object_get(v, "name"));
			size_t n = o->o.ncontainers, names = n;
			if (!rc && id && *id && !(rc = push_str(&o->containers, &o->o.ncontainers, id)))
				rc = push_str(&o->container_names, &names, name && *name ? name : "?");
		}
	}
	o->o.containers = o->containers;
	o->o.container_names = o->container_names;
	return rc;
}

static int pod(const json_t *item, struct tv_k8s_api_object *o)
{
	const json_t *spec = json_object_get(item, "spec"), *status = json_object_get(item, "status");
	o->o.node = json_string_value(json_object_get(spec, "nodeName"));
	o->o.host_network = json_is_true(json_object_get(spec, "hostNetwork"));
	o->o.phase = json_string_value(json_object_get(status, "phase"));
	o->o.qos = json_string_value(json_object_get(status, "qosClass"));
	workload(item, o);
	int rc = container_ids(status, o);
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
	o->o.service_type = json_string_value(json_object_get(spec, "type"));
	json_array_foreach (json_object_get(spec, "externalIPs"), i, v)
		if (!rc)
			rc = push_str(&o->external_ips, &o->o.nexternal_ips, json_string_value(v));
	json_array_foreach (
		json_object_get(json_object_get(json_object_get(item, "status"), "loadBalancer"), "ingress"),
		i, v)
		if (!rc)
			rc = push_str(&o->external_ips, &o->o.nexternal_ips,
				      json_string_value(json_object_get(v, "ip")));
	o->o.external_ips = o->external_ips;
	return rc;
}

static int endpoint_slice(const json_t *item, struct tv_k8s_api_object *o)
{
	o->o.service = label(item, "kubernetes.io/service-name");
	const char *ns = json_string_value(json_object_get(json_object_get(item, "metadata"), "namespace"));
	int rc = 0;
	size_t i, k;
	json_t *ep, *v;
	json_array_foreach (json_object_get(item, "endpoints"), i, ep) {
		const json_t *ref = json_object_get(ep, "targetRef");
		const char *ref_kind = json_string_value(json_object_get(ref, "kind"));
		bool is_pod = ref_kind && !strcmp(ref_kind, "Pod");
		const json_t *ready = json_object_get(json_object_get(ep, "conditions"), "ready");
		json_array_foreach (json_object_get(ep, "addresses"), k, v) {
			const char *ip = json_string_value(v);
			if (rc || !ip)
				continue;
			struct tv_k8s_endpoint *a = realloc(o->endpoints, (o->o.nendpoints + 1) * sizeof(*a));
			if (!a)
				return -ENOMEM;
			const char *pns = json_string_value(json_object_get(ref, "namespace"));
			a[o->o.nendpoints++] = (struct tv_k8s_endpoint){
				ip, is_pod ? json_string_value(json_object_get(ref, "name")) : NULL,
				is_pod ? (pns ? pns : ns) : NULL,
				json_is_boolean(ready) ? json_is_true(ready) : -1};
			o->endpoints = a;
			rc = push_ip(o, ip);
		}
	}
	o->o.endpoints = o->endpoints;
	json_array_foreach (json_object_get(item, "ports"), i, v)
		if (!rc)
			rc = push_port(o, v, "port");
	return rc;
}

static int node(const json_t *item, struct tv_k8s_api_object *o)
{
	const json_t *spec = json_object_get(item, "spec");
	int rc = 0;
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(json_object_get(item, "status"), "addresses"), i, v) {
		const char *type = json_string_value(json_object_get(v, "type"));
		if (!rc && type && (!strcmp(type, "InternalIP") || !strcmp(type, "ExternalIP")))
			rc = push_ip(o, json_string_value(json_object_get(v, "address")));
	}
	json_array_foreach (json_object_get(spec, "podCIDRs"), i, v)
		if (!rc)
			rc = push_str(&o->pod_cidrs, &o->o.npod_cidrs, json_string_value(v));
	if (!rc && !o->o.npod_cidrs)
		rc = push_str(&o->pod_cidrs, &o->o.npod_cidrs,
			      json_string_value(json_object_get(spec, "podCIDR")));
	o->o.pod_cidrs = o->pod_cidrs;
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
		bool namespaced;
	} kinds[] = {{"Pod", "pod", pod, true},
		     {"Service", "service", service, true},
		     {"Endpoints", "endpoints", endpoints, true},
		     {"EndpointSlice", "endpointslice", endpoint_slice, true},
		     {"Namespace", "namespace", NULL, false},
		     {"Node", "node", node, false}};
	const char *kind = json_string_value(json_object_get(item, "kind"));
	size_t k = 0;
	while (k < sizeof(kinds) / sizeof(kinds[0]) && (!kind || strcmp(kind, kinds[k].api)))
		k++;
	if (k == sizeof(kinds) / sizeof(kinds[0]))
		return -ENOENT;
	const json_t *meta = json_object_get(item, "metadata");
	out->o.kind = kinds[k].kind;
	out->o.name = json_string_value(json_object_get(meta, "name"));
	out->o.namespace_ =
		kinds[k].namespaced ? json_string_value(json_object_get(meta, "namespace")) : NULL;
	out->o.uid = json_string_value(json_object_get(meta, "uid"));
	out->o.host_network = -1;
	if (!out->o.name || (kinds[k].namespaced && !out->o.namespace_))
		return tv_err(-EINVAL, "a %s without metadata.name%s", kind,
			      kinds[k].namespaced ? " or metadata.namespace" : "");
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
	free(o->containers);
	free(o->container_names);
	free(o->external_ips);
	free(o->pod_cidrs);
	free(o->endpoints);
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
