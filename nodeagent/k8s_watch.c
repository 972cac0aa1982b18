/* SPDX-License-Identifier: Apache-2.0 */
/* k8s_watch: see k8s_watch.h. */
#include "nodeagent/k8s_watch.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "archive/common/timeutil.h"
#include "archive/events.h"
#include "archive/k8s_api.h"
#include "archive/kube/kube_client.h"
#include "archive/kube/reflector.h"

/* Records kept for the writer at most (it drains them every chunk, at least
 * once a second); beyond, they are counted and dropped, the state record of
 * the next segment holds the truth again. */
#define MAX_PENDING 100000
/* An object's record at most (a pod with 10,000 labels): labels go first,
 * then long lists are cut to MAX_LIST entries; marked "truncated". */
#define MAX_OBJECT_BYTES (64u << 10)
#define MAX_LIST 64

static const struct {
	const char *resource, *path;
} resources[] = {
	{"pods", "/api/v1/pods"},
	{"services", "/api/v1/services"},
	{"endpointslices", "/apis/discovery.k8s.io/v1/endpointslices"},
	{"namespaces", "/api/v1/namespaces"},
	{"nodes", "/api/v1/nodes"},
};
#define NRES (sizeof(resources) / sizeof(resources[0]))

struct tv_k8s_watch;

struct watcher {
	struct tv_k8s_watch *w;
	size_t index;
	struct tv_reflector_opts opts;
	struct tv_reflector_stats stats;
	pthread_t thread;
	bool started;
};

struct tv_k8s_watch {
	struct tv_kube_client *client;
	atomic_bool stop;
	pthread_mutex_t lock;
	json_t *objects; /* "resource/uid" -> events OBJECT */
	json_t *pending; /* records for the writer */
	_Atomic uint64_t dropped;
	_Atomic uint64_t pods_changed; /* grows with every event of a pod of this node */
	char node[256];
	_Atomic uint64_t skipped, truncated;
	_Atomic uint64_t skip_warned_ns; /* mono: the last skip logged (once a minute) */
	struct watcher watchers[NRES];
};

static void push(struct tv_k8s_watch *w, json_t *rec)
{
	if (json_array_size(w->pending) >= MAX_PENDING) {
		atomic_fetch_add(&w->dropped, 1);
		json_decref(rec);
		return;
	}
	json_array_append_new(w->pending, rec);
}

static size_t json_size(const json_t *j)
{
	char *t = json_dumps(j, JSON_COMPACT);
	size_t n = t ? strlen(t) : SIZE_MAX;
	free(t);
	return n;
}

/* Caps an object's record (see MAX_OBJECT_BYTES). @return false when even
 * cut it is too large. */
static bool cap_object(struct tv_k8s_watch *w, json_t *ev)
{
	if (json_size(ev) <= MAX_OBJECT_BYTES)
		return true;
	json_object_set_new(ev, "labels", json_object()); /* required by the format: empty */
	static const char *const lists[] = {"ips",          "ports",           "endpoints", "containers",
					    "external_ips", "container_names", "pod_cidrs"};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		json_t *a = json_object_get(ev, lists[i]);
		while (json_array_size(a) > MAX_LIST)
			json_array_remove(a, json_array_size(a) - 1);
	}
	json_object_set_new(ev, "truncated", json_true());
	atomic_fetch_add(&w->truncated, 1);
	return json_size(ev) <= MAX_OBJECT_BYTES;
}

static void skipped(struct tv_k8s_watch *w, const char *resource, const char *why)
{
	atomic_fetch_add(&w->skipped, 1);
	if (tv_log_due(&w->skip_warned_ns, TV_LOG_EVERY_NS))
		tv_warn("kubernetes %s: an object skipped: %s (%" PRIu64 " so far; logged once a minute)",
			resource, why, atomic_load(&w->skipped));
}

static void on_event(void *ctx, enum tv_kube_event t, json_t *obj, bool at_relist)
{
	struct watcher *wa = ctx;
	struct tv_k8s_watch *w = wa->w;
	struct tv_k8s_api_object o;
	int rc = tv_k8s_from_api(obj, &o);
	if (rc) {
		if (rc != -ENOENT)
			skipped(w, resources[wa->index].resource, tv_errmsg());
		return;
	}
	json_t *ev = tv_events_object_json(&o.o);
	if (ev && !cap_object(w, ev)) {
		skipped(w, resources[wa->index].resource, "too large even without its labels");
		json_decref(ev);
		ev = NULL;
	}
	tv_k8s_api_object_cleanup(&o);
	const char *uid = json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
	if (!ev || !uid) {
		json_decref(ev);
		return;
	}
	char key[512];
	snprintf(key, sizeof(key), "%s/%s", resources[wa->index].resource, uid);
	static const char *const actions[] = {"added", "updated", "deleted"};
	json_t *rec = json_pack("{s:s, s:I, s:s, s:O}", "type", "k8s", "ts", (json_int_t)tv_now_ns(),
				"action", actions[t], "object", ev);
	if (rec && at_relist)
		json_object_set_new(rec, "at_relist", json_true());
	pthread_mutex_lock(&w->lock);
	if (t == TV_KUBE_DELETED)
		json_object_del(w->objects, key);
	else
		json_object_set(w->objects, key, ev);
	if (rec)
		push(w, rec);
	pthread_mutex_unlock(&w->lock);
	const char *on = json_string_value(json_object_get(ev, "node"));
	if (wa->index == 0 && on && !strcmp(on, w->node)) /* a pod's node is set once */
		atomic_fetch_add(&w->pods_changed, 1);
	json_decref(ev);
}

static void on_sync(void *ctx, uint64_t from, uint64_t to, const char *why)
{
	struct watcher *wa = ctx;
	json_t *rec = json_pack("{s:s, s:I, s:I, s:I, s:s, s:s}", "type", "sync", "ts", (json_int_t)to,
				"from", (json_int_t)from, "to", (json_int_t)to, "resource",
				resources[wa->index].resource, "why", why);
	pthread_mutex_lock(&wa->w->lock);
	if (rec)
		push(wa->w, rec);
	pthread_mutex_unlock(&wa->w->lock);
	if (strcmp(why, "start"))
		tv_info("kubernetes %s: relisted after a watch gap of %.1f s", resources[wa->index].resource,
			(double)(to - from) / 1e9);
}

static void *run(void *arg)
{
	struct watcher *wa = arg;
	char name[16];
	snprintf(name, sizeof(name), "tv-k8s-%.8s", resources[wa->index].resource);
	pthread_setname_np(pthread_self(), name);
	tv_reflector_run(wa->w->client, &wa->opts, &wa->w->stop, &wa->stats);
	return NULL;
}

int tv_k8s_watch_start(struct tv_k8s_watch **out, const struct tv_kube_config *cfg, const char *node,
		       unsigned stall_s)
{
	struct tv_k8s_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return tv_err(-ENOMEM, "out of memory");
	snprintf(w->node, sizeof(w->node), "%s", node);
	pthread_mutex_init(&w->lock, NULL);
	w->objects = json_object();
	w->pending = json_array();
	int rc = w->objects && w->pending ? tv_kube_client_new(cfg, &w->client) : -ENOMEM;
	for (size_t i = 0; !rc && i < NRES; i++) {
		struct watcher *wa = &w->watchers[i];
		*wa = (struct watcher){.w = w, .index = i};
		wa->opts = (struct tv_reflector_opts){.path = resources[i].path,
						      .on_event = on_event,
						      .on_sync = on_sync,
						      .ctx = wa,
						      .stall_s = stall_s};
		if (pthread_create(&wa->thread, NULL, run, wa))
			rc = tv_err(-EAGAIN, "cannot start the Kubernetes watch threads");
		else
			wa->started = true;
	}
	if (rc) {
		tv_k8s_watch_stop(w);
		return rc;
	}
	tv_info("kubernetes: watching %s (%zu resources) from %s", cfg->server, NRES,
		cfg->source ? cfg->source : "?");
	*out = w;
	return 0;
}

void tv_k8s_watch_stop(struct tv_k8s_watch *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, true);
	for (size_t i = 0; i < NRES; i++)
		if (w->watchers[i].started)
			pthread_join(w->watchers[i].thread, NULL);
	tv_kube_client_free(w->client);
	json_decref(w->objects);
	json_decref(w->pending);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* The objects known now (those of pods on node, when node is given), as a
 * new array of references. */
static json_t *collect(struct tv_k8s_watch *w, const char *node)
{
	json_t *a = json_array();
	if (!w || !a)
		return a;
	pthread_mutex_lock(&w->lock);
	const char *k;
	json_t *v;
	json_object_foreach (w->objects, k, v) {
		const char *on = node ? json_string_value(json_object_get(v, "node")) : NULL;
		if (!node || (!strncmp(k, "pods/", 5) && on && !strcmp(on, node)))
			json_array_append(a, v);
	}
	pthread_mutex_unlock(&w->lock);
	return a;
}

json_t *tv_k8s_watch_state(struct tv_k8s_watch *w)
{
	return collect(w, NULL);
}

json_t *tv_k8s_watch_drain(struct tv_k8s_watch *w)
{
	if (!w)
		return NULL;
	json_t *fresh = json_array();
	if (!fresh)
		return NULL;
	pthread_mutex_lock(&w->lock);
	json_t *out = w->pending;
	w->pending = fresh;
	pthread_mutex_unlock(&w->lock);
	return out;
}

size_t tv_k8s_watch_stats(struct tv_k8s_watch *w, struct tv_k8s_watch_resource_stats *out, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; w && i < NRES && k < n; i++, k++) {
		struct tv_reflector_stats *s = &w->watchers[i].stats;
		out[k] = (struct tv_k8s_watch_resource_stats){
			resources[i].resource,        atomic_load(&s->watching),     atomic_load(&s->lists),
			atomic_load(&s->relists_410), atomic_load(&s->errors),       atomic_load(&s->events),
			atomic_load(&s->cached),      atomic_load(&s->last_event_ns)};
	}
	return k;
}

uint64_t tv_k8s_watch_dropped(struct tv_k8s_watch *w)
{
	return w ? atomic_load(&w->dropped) : 0;
}

void tv_k8s_watch_bad_input(struct tv_k8s_watch *w, uint64_t *skipped_objects, uint64_t *truncated_objects)
{
	*skipped_objects = w ? atomic_load(&w->skipped) : 0;
	*truncated_objects = w ? atomic_load(&w->truncated) : 0;
}

uint64_t tv_k8s_watch_pods_changed(struct tv_k8s_watch *w)
{
	return w ? atomic_load(&w->pods_changed) : 0;
}

json_t *tv_k8s_watch_node_pods(struct tv_k8s_watch *w, const char *node)
{
	return collect(w, node);
}

bool tv_k8s_watch_listed(struct tv_k8s_watch *w, const char *resource)
{
	for (size_t i = 0; w && i < NRES; i++)
		if (!strcmp(resources[i].resource, resource))
			return atomic_load(&w->watchers[i].stats.lists) > 0;
	return false;
}
