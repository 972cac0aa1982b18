/* SPDX-License-Identifier: Apache-2.0 */
/* os_layer: see os_layer.h. */
#include "nodeagent/os_layer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "archive/events.h"
#include "nodeagent/cgroup_ids.h"
#include "nodeagent/config.h"
#include "nodeagent/os_probe.h"
#include "nodeagent/proc_exe.h"

/* Records waiting for the writer, at most (it drains them at least once a
 * second; more means it is stuck, and memory must not grow). */
#define PENDING_MAX 200000
/* Live sockets kept for the segments' state records, at most; beyond, new
 * ones are left out of the states (their own records still name them). */
#define LIVE_MAX 100000

struct tv_os_layer {
	struct tv_os_probe *probe;
	struct tv_cgroup_ids *cgroups; /* NULL: no cgroup tree to read */
	struct tv_proc_exe *exes;
	pthread_t thread;
	atomic_bool stop;
	pthread_mutex_t lock;
	json_t *pending;
	size_t npending;
	json_t *live; /* socket key -> its SOCKET record (the state's "sockets") */
	_Atomic uint64_t records, queue_drops;
};

static char status[300] = "off: agent.osEvents is off";

const char *tv_os_layer_status(void)
{
	return status;
}

/* A record of the programs as an events `os` record, with the container and
 * pod its cgroup names. */
static json_t *record_json(struct tv_os_layer *l, const struct tv_os_record *r, uint64_t ts)
{
	struct tv_cgroup_info ci;
	bool pod = tv_cgroup_ids_lookup(l->cgroups, r->cgroup_id, &ci);
	char comm[TV_OS_COMM_LEN + 1];
	memcpy(comm, r->comm, TV_OS_COMM_LEN);
	comm[TV_OS_COMM_LEN] = '\0';
	struct tv_os_event e = {.ts_ns = ts,
				.event = tv_os_kind_name(r->kind),
				.pid = r->pid,
				.comm = comm,
				.cgroup_id = r->cgroup_id};
	if (pod && ci.container_id[0])
		e.container_id = ci.container_id;
	if (r->kind == TV_OS_EXEC || r->kind == TV_OS_EXIT)
		tv_proc_exe_forget(l->exes, r->pid);
	e.exe = r->kind == TV_OS_EXIT ? "" : tv_proc_exe_get(l->exes, r->pid);
	e.flow.family = TV_FLOW_OTHER;
	if (r->family == 4 || r->family == 6) {
		e.flow.family = r->family;
		e.flow.proto = r->proto ? r->proto : 6;
		memcpy(e.flow.src, r->saddr, 16);
		memcpy(e.flow.dst, r->daddr, 16);
		e.flow.sport = r->sport;
		e.flow.dport = r->dport;
	}
	json_t *j = tv_events_os_json(&e);
	if (j && r->netns)
		json_object_set_new(j, "netns", json_integer(r->netns));
	if (j && pod)
		json_object_set_new(j, "pod_uid", json_string(ci.pod_uid));
	if (j && r->cookie)
		json_object_set_new(j, "socket", json_integer((json_int_t)r->cookie));
	return j;
}

/* The key of r's socket in the live table: a TCP connection by its
 * addresses, a UDP socket by its cookie. "" for records of no socket. */
static void live_key(const struct tv_os_record *r, char *out, size_t n)
{
	out[0] = '\0';
	if (r->proto == 17 && r->cookie) {
		snprintf(out, n, "u%llu", (unsigned long long)r->cookie);
	} else if (r->family == 4 || r->family == 6) {
		const unsigned char *a = r->saddr, *b = r->daddr;
		int len = r->family == 4 ? 4 : 16,
		    o = snprintf(out, n, "t%u/%u/%u/", r->netns, r->sport, r->dport);
		for (int i = 0; i < len && o + 4 < (int)n; i++)
			o += snprintf(out + o, n - (size_t)o, "%02x", a[i]);
		for (int i = 0; i < len && o + 4 < (int)n; i++)
			o += snprintf(out + o, n - (size_t)o, "%02x", b[i]);
	}
}

/* Keeps the live table as the record says: a connection or UDP socket
 * starts living, a close ends it. Called with the lock held. */
static void track_live(struct tv_os_layer *l, const struct tv_os_record *r, json_t *j)
{
	char key[128];
	live_key(r, key, sizeof(key));
	if (!key[0])
		return;
	if (r->kind == TV_OS_CLOSE) {
		json_object_del(l->live, key);
	} else if (r->kind == TV_OS_CONNECT || r->kind == TV_OS_ACCEPT || r->kind == TV_OS_EXISTING ||
		   r->kind == TV_OS_UDP) {
		if (json_object_size(l->live) >= LIVE_MAX && !json_object_get(l->live, key))
			return;
		json_t *sock = json_copy(j);
		json_object_del(sock, "type");
		json_object_set_new(l->live, key, sock);
	}
}

static void on_record(void *ctx, const struct tv_os_record *r, uint64_t ts)
{
	struct tv_os_layer *l = ctx;
	json_t *j = record_json(l, r, ts);
	if (!j)
		return;
	pthread_mutex_lock(&l->lock);
	track_live(l, r, j);
	if (l->npending < PENDING_MAX && json_array_append_new(l->pending, j) == 0) {
		l->npending++;
		atomic_fetch_add(&l->records, 1);
	} else {
		json_decref(j);
		atomic_fetch_add(&l->queue_drops, 1);
	}
	pthread_mutex_unlock(&l->lock);
}

static void *os_thread(void *arg)
{
	struct tv_os_layer *l = arg;
	pthread_setname_np(pthread_self(), "tv-os");
	_Atomic uint64_t last_logged = 0;
	while (!atomic_load(&l->stop)) {
		if (tv_os_probe_poll(l->probe, 100, on_record, l) < 0 &&
		    tv_log_due(&last_logged, TV_LOG_EVERY_NS))
			tv_error("OS layer: %s", tv_errmsg());
	}
	return NULL;
}

int tv_os_layer_start(struct tv_os_layer **out, int mode, const char *cgroup_root, const char *proc_root)
{
	*out = NULL;
	if (mode == TV_AGENT_K8S_OFF) {
		snprintf(status, sizeof(status), "off: agent.osEvents is off");
		return 0;
	}
	struct tv_cgroup_ids *cgroups = NULL;
	if (tv_cgroup_ids_open(&cgroups, cgroup_root))
		tv_warn("OS layer: %s; records carry no container or pod, UDP is not followed", tv_errmsg());
	struct tv_os_probe *p;
	int rc = tv_os_probe_open(&p, cgroups ? tv_cgroup_ids_root(cgroups) : NULL);
	if (rc) {
		tv_cgroup_ids_free(cgroups);
		snprintf(status, sizeof(status), "off: %s", tv_errmsg());
		if (mode == TV_AGENT_K8S_REQUIRE)
			return tv_err(rc, "agent.osEvents is require: %s", tv_errmsg());
		tv_warn("OS layer %s; capturing packets without process context", status);
		return 0;
	}
	struct tv_os_layer *l = calloc(1, sizeof(*l));
	if (!l || !(l->pending = json_array()) || !(l->live = json_object()) ||
	    tv_proc_exe_new(&l->exes, proc_root)) {
		if (l) {
			json_decref(l->pending);
			json_decref(l->live);
		}
		free(l);
		tv_os_probe_free(p);
		tv_cgroup_ids_free(cgroups);
		return tv_err(-ENOMEM, "out of memory");
	}
	l->probe = p;
	pthread_mutex_init(&l->lock, NULL);
	l->cgroups = cgroups;
	if (pthread_create(&l->thread, NULL, os_thread, l)) {
		tv_os_layer_stop(l);
		return tv_err(-EAGAIN, "cannot start the OS layer's thread");
	}
	snprintf(status, sizeof(status), "on");
	tv_info("OS layer on: eBPF programs attached (connect, accept, close, exec, exit%s)",
		tv_os_probe_udp(p)[0] ? "" : ", UDP");
	if (tv_os_probe_udp(p)[0])
		tv_warn("OS layer: UDP sockets are not followed: %s", tv_os_probe_udp(p));
	*out = l;
	return 0;
}

void tv_os_layer_stop(struct tv_os_layer *l)
{
	if (!l)
		return;
	atomic_store(&l->stop, true);
	if (l->thread)
		pthread_join(l->thread, NULL);
	tv_os_probe_free(l->probe);
	tv_cgroup_ids_free(l->cgroups);
	tv_proc_exe_free(l->exes);
	json_decref(l->pending);
	json_decref(l->live);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

json_t *tv_os_layer_drain(struct tv_os_layer *l)
{
	if (!l)
		return NULL;
	json_t *fresh = json_array();
	if (!fresh)
		return NULL;
	pthread_mutex_lock(&l->lock);
	json_t *out = l->pending;
	l->pending = fresh;
	l->npending = 0;
	pthread_mutex_unlock(&l->lock);
	return out;
}

json_t *tv_os_layer_sockets(struct tv_os_layer *l)
{
	if (!l)
		return NULL;
	json_t *out = json_array();
	const char *key;
	json_t *v;
	pthread_mutex_lock(&l->lock);
	json_object_foreach (l->live, key, v)
		json_array_append(out, v); /* records are never changed once made: shared */
	pthread_mutex_unlock(&l->lock);
	return out;
}

void tv_os_layer_get_stats(struct tv_os_layer *l, struct tv_os_layer_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!l)
		return;
	out->enabled = true;
	out->records = atomic_load(&l->records);
	out->queue_drops = atomic_load(&l->queue_drops);
	uint64_t st[TV_OS_STAT_N];
	tv_os_probe_stats(l->probe, st);
	out->ring_drops = st[TV_OS_STAT_DROPS];
	out->unattributed = st[TV_OS_STAT_NOOWNER];
}
