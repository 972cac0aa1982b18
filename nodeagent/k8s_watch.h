/* SPDX-License-Identifier: Apache-2.0 */
/* k8s_watch: the agent's Kubernetes layer. One reflector thread per resource
 * (archive/kube/reflector.h) keeps the cluster's pods, services,
 * EndpointSlices, namespaces and nodes -- what naming both ends of every
 * connection offline needs, from this node's segments alone -- and turns
 * every change into an events record stamped with its receive time (FORMAT.md
 * §4). The writer takes the whole current map for each segment's state
 * record, and the records since the last call for the open segment. */
#ifndef TV_AGENT_K8S_WATCH_H
#define TV_AGENT_K8S_WATCH_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "archive/kube/kube_config.h"

struct tv_k8s_watch;

/* Starts the threads for the agent of node (whose pods' changes
 * tv_k8s_watch_pods_changed counts); a watch silent stall_s seconds is cut
 * (0: the reflector's default). cfg is copied. @return 0 or -ENOMEM. */
int tv_k8s_watch_start(struct tv_k8s_watch **out, const struct tv_kube_config *cfg, const char *node,
		       unsigned stall_s);
/* Stops and joins the threads, frees everything (NULL is fine). */
void tv_k8s_watch_stop(struct tv_k8s_watch *w);

/* Every object known now, as events OBJECT JSON (a new array). */
json_t *tv_k8s_watch_state(struct tv_k8s_watch *w);
/* The k8s and sync records since the last call, oldest first (a new array;
 * empty when nothing changed). w NULL: NULL. */
json_t *tv_k8s_watch_drain(struct tv_k8s_watch *w);

/* Grows with every pod of the node added, changed or deleted (cheap to poll). */
uint64_t tv_k8s_watch_pods_changed(struct tv_k8s_watch *w);
/* The pods on node now, as events OBJECT JSON (a new array). */
json_t *tv_k8s_watch_node_pods(struct tv_k8s_watch *w, const char *node);

/* @return true once resource ("pods", ...) has been listed at least once. */
bool tv_k8s_watch_listed(struct tv_k8s_watch *w, const char *resource);

/* For metrics: per resource. */
struct tv_k8s_watch_resource_stats {
	const char *resource;
	bool watching;
	uint64_t lists, relists_410, errors, events, cached;
	uint64_t last_event_ns;
};
/* Fills up to n entries. @return how many. */
size_t tv_k8s_watch_stats(struct tv_k8s_watch *w, struct tv_k8s_watch_resource_stats *out, size_t n);
/* Records dropped because the writer did not take them (capped backlog). */
uint64_t tv_k8s_watch_dropped(struct tv_k8s_watch *w);
/* Objects skipped (not understood, or too large even cut) and objects cut to
 * 64 KiB (labels dropped, long lists cut; marked "truncated"). */
void tv_k8s_watch_bad_input(struct tv_k8s_watch *w, uint64_t *skipped_objects, uint64_t *truncated_objects);

#endif
