/* SPDX-License-Identifier: Apache-2.0 */
/* k8s_api: Kubernetes API objects (as the API server and `kubectl get -o json`
 * return them) turned into the events file's objects (events.h).
 *
 * Pod: name, namespace, uid, spec.nodeName, status.podIPs (or podIP), the
 * containers' ports, labels, the controlling workload (a ReplicaSet made by a
 * Deployment is named as the Deployment, through its pod-template-hash),
 * hostNetwork, phase, QoS class, container ids. Service: spec.clusterIPs (or
 * clusterIP; "None" for headless is no address), spec.ports, type, external
 * and load-balancer IPs. Endpoints: every subset's addresses and ports.
 * EndpointSlice (discovery.k8s.io/v1): its service, every endpoint's
 * addresses with their target pod and readiness, ports. Namespace: name and
 * labels. Node: InternalIP/ExternalIP addresses, pod CIDRs. managedFields,
 * annotations and everything else are dropped. Other kinds are skipped.
 * The result borrows its strings from the JSON object, which must outlive it. */
#ifndef TV_K8S_API_H
#define TV_K8S_API_H

#include <jansson.h>

#include "archive/events.h"

struct tv_k8s_api_object {
	struct tv_k8s_object o; /* what the events writer takes */
	const char **ips;       /* owned arrays behind o's pointers */
	struct tv_k8s_port *ports;
	struct tv_label *labels;
	const char **containers, **container_names, **external_ips, **pod_cidrs;
	struct tv_k8s_endpoint *endpoints;
	char workload[256]; /* a Deployment's name, derived from its ReplicaSet's */
};

/* @return 0 with *out filled, -ENOENT for a kind that is not kept, -EINVAL
 * (reason in tv_errmsg) for an object without the fields it needs, -ENOMEM. */
int tv_k8s_from_api(const json_t *item, struct tv_k8s_api_object *out);
void tv_k8s_api_object_cleanup(struct tv_k8s_api_object *o);

/* Every kept object of a document: a List (`kubectl get pods,svc -A -o json`),
 * or a single object. @return the number filled into a new array *out (free
 * each with the cleanup above, then the array), or a negative errno. */
int tv_k8s_from_api_document(const json_t *doc, struct tv_k8s_api_object **out);

#endif
