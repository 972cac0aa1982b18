/* SPDX-License-Identifier: Apache-2.0 */
/* tap: see tap.h. */
#include "nodeagent/tap.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "archive/common/timeutil.h"
#include "nodeagent/k8s_watch.h"
#include "nodeagent/netlink.h"

#define TICK_MS 100                 /* how often pods are looked at (links and routes wake at once) */
#define FIRST_LIST_NS 5000000000ULL /* at start, how long to wait for the pods' first list */

struct tv_tap {
	const struct tv_agent_config *cfg; /* node, interfaces, agent.filter */
	bool auto_interfaces;
	struct tv_k8s_watch *k8s;
	struct tv_netlink *nl; /* auto only */
	pthread_mutex_t lock;
	struct tv_scope *scope;       /* replaced by a reload */
	bool rule_changed;            /* by a reload, not yet planned */
	json_t *planned;              /* the last plan's record (thread's) */
	struct tv_scope_plan pending; /* for the capture thread */
	bool has_pending;
	json_t *in_force; /* the record applied, without type and ts */
	pthread_t thread;
	bool running;
	atomic_bool stop;
	_Atomic uint64_t pods_matched, interfaces, replans, applied;
};

static int new_scope(const struct tv_agent_config *cfg, struct tv_scope **out)
{
	struct tv_scope_rule rule = {
		.regex = cfg->regex,
		.namespaces = (const char *const *)cfg->namespaces.items,
		.nnamespaces = cfg->namespaces.n,
		.excluded = (const char *const *)cfg->excluded_namespaces.items,
		.nexcluded = cfg->excluded_namespaces.n,
	};
	return tv_scope_new(out, &rule);
}

/* A plan from what is known now. */
static int plan_now(struct tv_tap *t, struct tv_scope_plan *out)
{
	json_t *pods = t->k8s ? tv_k8s_watch_node_pods(t->k8s, t->cfg->node) : NULL;
	struct tv_scope_view view = {0};
	if (t->nl)
		view = tv_scope_netlink_view(t->nl);
	struct tv_scope_input in = {
		.auto_interfaces = t->auto_interfaces,
		.listed = (const char *const *)t->cfg->interfaces.items,
		.nlisted = t->cfg->interfaces.n,
		.user_filter = t->cfg->filter,
		.pods = pods,
		.view = &view,
	};
	pthread_mutex_lock(&t->lock);
	int rc = tv_scope_plan(t->scope, &in, out);
	t->rule_changed = false;
	pthread_mutex_unlock(&t->lock);
	json_decref(pods);
	if (!rc) {
		atomic_store(&t->pods_matched, out->pods_matched);
		atomic_fetch_add(&t->replans, 1);
	}
	return rc;
}

/* Re-plans; a plan that differs from the last is handed to the capture thread. */
static void replan(struct tv_tap *t)
{
	struct tv_scope_plan p;
	if (plan_now(t, &p)) {
		tv_warn("capture scope: %s; keeping the current one", tv_errmsg());
		return;
	}
	if (t->planned && json_equal(t->planned, p.record)) {
		tv_scope_plan_cleanup(&p);
		return;
	}
	json_decref(t->planned);
	t->planned = json_incref(p.record);
	pthread_mutex_lock(&t->lock);
	if (t->has_pending)
		tv_scope_plan_cleanup(&t->pending);
	t->pending = p;
	t->has_pending = true;
	pthread_mutex_unlock(&t->lock);
}

static void *run(void *arg)
{
	struct tv_tap *t = arg;
	pthread_setname_np(pthread_self(), "tv-tap");
	uint64_t pods_seen = tv_k8s_watch_pods_changed(t->k8s);
	_Atomic uint64_t warned = 0; /* netlink errors: logged once a minute */
	while (!atomic_load(&t->stop)) {
		struct pollfd pfd = {.fd = t->nl ? tv_netlink_fd(t->nl) : -1, .events = POLLIN};
		poll(&pfd, 1, TICK_MS);
		bool changed = false;
		if (t->nl && (pfd.revents & POLLIN)) {
			int r = tv_netlink_read(t->nl);
			if (r < 0 && tv_log_due(&warned, TV_LOG_EVERY_NS))
				tv_warn("netlink: %s", tv_errmsg());
			changed = r > 0;
		}
		uint64_t pods = tv_k8s_watch_pods_changed(t->k8s);
		pthread_mutex_lock(&t->lock);
		changed = changed || pods != pods_seen || t->rule_changed;
		pthread_mutex_unlock(&t->lock);
		pods_seen = pods;
		if (changed)
			replan(t);
	}
	return NULL;
}

/* At start, with a filter to apply, the first plan waits (a little) for the
 * pods' first list: otherwise it would capture nothing for a moment. */
static void wait_first_list(struct tv_tap *t)
{
	uint64_t until = tv_mono_ns() + FIRST_LIST_NS;
	while (t->k8s && tv_scope_filtering(t->scope) && tv_mono_ns() < until) {
		if (tv_k8s_watch_listed(t->k8s, "pods"))
			return;
		struct timespec d = {0, 20000000};
		nanosleep(&d, NULL);
	}
}

int tv_tap_start(struct tv_tap **out, const struct tv_agent_config *cfg, struct tv_k8s_watch *k8s,
		 struct tv_scope_plan *first)
{
	*out = NULL;
	struct tv_tap *t = calloc(1, sizeof(*t));
	if (!t)
		return tv_err(-ENOMEM, "out of memory");
	t->cfg = cfg;
	t->k8s = k8s;
	t->auto_interfaces = tv_agent_config_auto_interfaces(cfg);
	pthread_mutex_init(&t->lock, NULL);
	int rc = new_scope(cfg, &t->scope);
	if (!rc && t->auto_interfaces)
		rc = tv_netlink_open(&t->nl);
	if (!rc && tv_scope_filtering(t->scope) && !k8s)
		tv_warn("tap.regex/tap.namespaces/tap.excludedNamespaces need the Kubernetes API: capturing "
			"every pod (recorded in the events)");
	if (!rc) {
		wait_first_list(t);
		rc = plan_now(t, first);
	}
	if (!rc) {
		t->planned = json_incref(first->record);
		/* the scope changes with pods (a filter), links and routes (auto), or a reload */
		if (pthread_create(&t->thread, NULL, run, t) != 0)
			rc = tv_err(-EAGAIN, "cannot start the tap thread");
		else
			t->running = true;
		if (rc)
			tv_scope_plan_cleanup(first);
	}
	if (rc) {
		tv_tap_stop(t);
		return rc;
	}
	*out = t;
	return 0;
}

void tv_tap_stop(struct tv_tap *t)
{
	if (!t)
		return;
	atomic_store(&t->stop, true);
	if (t->running)
		pthread_join(t->thread, NULL);
	if (t->has_pending)
		tv_scope_plan_cleanup(&t->pending);
	tv_scope_free(t->scope);
	tv_netlink_free(t->nl);
	json_decref(t->planned);
	json_decref(t->in_force);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

bool tv_tap_take(struct tv_tap *t, struct tv_scope_plan *out)
{
	if (!t)
		return false;
	pthread_mutex_lock(&t->lock);
	bool have = t->has_pending;
	if (have)
		*out = t->pending;
	t->has_pending = false;
	pthread_mutex_unlock(&t->lock);
	return have;
}

void tv_tap_applied(struct tv_tap *t, const struct tv_scope_plan *p, uint64_t ts)
{
	(void)ts;
	pthread_mutex_lock(&t->lock);
	json_decref(t->in_force);
	t->in_force = json_incref(p->record);
	pthread_mutex_unlock(&t->lock);
	atomic_store(&t->interfaces, p->n);
	atomic_fetch_add(&t->applied, 1);
}

int tv_tap_set_rule(struct tv_tap *t, const struct tv_agent_config *cfg)
{
	struct tv_scope *s;
	int rc = new_scope(cfg, &s);
	if (rc)
		return rc;
	pthread_mutex_lock(&t->lock);
	tv_scope_free(t->scope);
	t->scope = s;
	t->rule_changed = true;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

json_t *tv_tap_record(struct tv_tap *t, uint64_t ts)
{
	if (!t)
		return NULL;
	pthread_mutex_lock(&t->lock);
	json_t *rec = t->in_force ? json_deep_copy(t->in_force) : NULL;
	pthread_mutex_unlock(&t->lock);
	if (rec) {
		json_object_set_new(rec, "type", json_string("capture"));
		json_object_set_new(rec, "ts", json_integer((json_int_t)ts));
	}
	return rec;
}

void tv_tap_get_stats(struct tv_tap *t, struct tv_tap_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!t)
		return;
	out->pods_matched = atomic_load(&t->pods_matched);
	out->interfaces = atomic_load(&t->interfaces);
	out->replans = atomic_load(&t->replans);
	out->applied = atomic_load(&t->applied);
	out->auto_interfaces = t->auto_interfaces;
	pthread_mutex_lock(&t->lock);
	out->filtering = tv_scope_filtering(t->scope);
	pthread_mutex_unlock(&t->lock);
}
