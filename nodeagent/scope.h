/* SPDX-License-Identifier: Apache-2.0 */
/* scope: which interfaces the agent captures, with which filter -- the
 * capture filters of the Helm values (tap.regex on the pod name,
 * tap.namespaces, tap.excludedNamespaces, which wins) applied to the pods of
 * this node, and `--interface auto`. A pure function of its inputs (the
 * node's pods, its links and routes through a view), so it is tested without
 * a kernel; nodeagent/tap.c runs it whenever a pod, a link or a route
 * changes.
 *
 * - No filter set, auto: every veth of the node (the host side of every pod,
 *   routed CNIs and bridged ones alike -- a bridge, unless promiscuous,
 *   does not pass up the traffic between two of its pods), attached as
 *   soon as it is up, before
 *   the API has told of its pod.
 * - A filter set, pods known: the interfaces of the pods in scope -- a pod's
 *   IP routed out of a veth: that veth; out of a bridge: the bridge's veth
 *   ports, with a BPF filter of the in-scope pods' addresses. Host-network
 *   pods are never in scope (their traffic is the node's).
 * - Listed interfaces: those, with a BPF filter of the in-scope pods'
 *   addresses when a filter is set ("less 1", nothing, when no pod is).
 * - A filter set but no Kubernetes API: captured unfiltered, and said so.
 * The user's agent.filter is ANDed with every filter. */
#ifndef TV_AGENT_SCOPE_H
#define TV_AGENT_SCOPE_H

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nodeagent/netlink.h"

struct tv_scope_rule {
	const char *regex; /* tap.regex, on the pod name; NULL or "": any */
	const char *const *namespaces;
	size_t nnamespaces; /* 0: any */
	const char *const *excluded;
	size_t nexcluded;
};

/* The node's links and routes (nodeagent/netlink.h, or a test's). */
struct tv_scope_view {
	uint32_t (*route_oif)(void *ctx, uint8_t family, const uint8_t addr[16]);
	const struct tv_link_info *(*links)(void *ctx, size_t *n);
	void *ctx;
};
/* The view of a live netlink table. */
struct tv_scope_view tv_scope_netlink_view(struct tv_netlink *nl);

struct tv_scope_input {
	bool auto_interfaces;
	const char *const *listed; /* without auto */
	size_t nlisted;
	const char *user_filter; /* agent.filter; NULL or "": none */
	const json_t *pods;      /* events OBJECTs of this node's pods; NULL: no Kubernetes API */
	const struct tv_scope_view *view;
};

struct tv_scope_want {
	char name[IF_NAMESIZE];
	char *filter; /* BPF; NULL: everything */
};

struct tv_scope_plan {
	struct tv_scope_want *v; /* auto: sorted by name; listed: in their order */
	size_t n;
	size_t pods_matched; /* pods of the node in scope (with auto: with an interface found) */
	json_t *record;      /* FORMAT.md §4 `capture` record without type and ts */
};

struct tv_scope;

/* @return 0, or -EINVAL for a tap.regex that does not compile (message set). */
int tv_scope_new(struct tv_scope **out, const struct tv_scope_rule *rule);
void tv_scope_free(struct tv_scope *s);
/* @return true when the rule narrows the capture at all. */
bool tv_scope_filtering(const struct tv_scope *s);
/* @return true when the pod (an events OBJECT) is in scope. */
bool tv_scope_pod_in(const struct tv_scope *s, const json_t *pod);

/* @return 0 or -ENOMEM. */
int tv_scope_plan(const struct tv_scope *s, const struct tv_scope_input *in, struct tv_scope_plan *out);
void tv_scope_plan_cleanup(struct tv_scope_plan *p);
/* Same interfaces with the same filters. */
bool tv_scope_plan_equal(const struct tv_scope_plan *a, const struct tv_scope_plan *b);
/* Same interface names (a change of filters alone needs no new segment). */
bool tv_scope_plan_same_interfaces(const struct tv_scope_plan *a, const struct tv_scope_plan *b);

#endif
