/* SPDX-License-Identifier: Apache-2.0 */
/* tap: keeps the agent's capture scope current (scope.h) -- a thread that
 * watches the node's links and routes (netlink.h) and its pods
 * (k8s_watch.h), re-plans within ~100 ms of any change, and hands new plans
 * to the capture thread, which applies them (capture.h reconcile) and puts
 * the filter in force into the events as a `capture` record (carried by the
 * chunk it applies to): a reader tells "not captured" from "no traffic".
 *
 * Static configurations (listed interfaces, no filter) need no thread: the
 * first plan is the only one. */
#ifndef TV_AGENT_TAP_H
#define TV_AGENT_TAP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "nodeagent/config.h"
#include "nodeagent/scope.h"

struct tv_tap;
struct tv_k8s_watch;

/* Plans the first scope (into *first, the caller's) and, when it can change,
 * starts the thread. k8s may be NULL. @return 0 or negative errno. */
int tv_tap_start(struct tv_tap **out, const struct tv_agent_config *cfg, struct tv_k8s_watch *k8s,
		 struct tv_scope_plan *first);
void tv_tap_stop(struct tv_tap *t);

/* Capture thread: a plan newer than the last one taken (moved into *out)?
 * @return true when there is one. */
bool tv_tap_take(struct tv_tap *t, struct tv_scope_plan *out);
/* Capture thread: plan p is in force from ts on. */
void tv_tap_applied(struct tv_tap *t, const struct tv_scope_plan *p, uint64_t ts);
/* SIGHUP: the tap.* filters of a reloaded configuration. @return 0, or
 * -EINVAL for a regex that does not compile (the old rule stays). */
int tv_tap_set_rule(struct tv_tap *t, const struct tv_agent_config *cfg);

/* Capture thread: the `capture` record in force, stamped ts (a new
 * object), for the first chunk of each segment and after each change; NULL
 * before the first plan is applied. */
json_t *tv_tap_record(struct tv_tap *t, uint64_t ts);

/* Metrics. */
struct tv_tap_stats {
	uint64_t pods_matched, interfaces, replans, applied;
	bool auto_interfaces, filtering;
};
void tv_tap_get_stats(struct tv_tap *t, struct tv_tap_stats *out);

#endif
