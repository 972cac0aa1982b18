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

/* Record bytes waiting for the writer, at most (it drains them at least
 * once a second; more means it is stuck, and memory must not grow). */
#define PENDING_MAX_BYTES ((size_t)64 << 20)
/* Live sockets kept for the segments' state records, at most; beyond, new
 * ones are left out of the states (their own records still name them). */
#define LIVE_MAX 100000

struct tv_os_layer {
	struct tv_os_probe *probe;
	struct tv_cgroup_ids *cgroups; /* NULL: no cgroup tree to read */
	struct tv_proc_exe *exes;
	pthread_t thread;
	atomic_bool stop;
	struct tv_buf line; /* the record being made (the layer's thread only) */
	pthread_mutex_t lock;
	struct tv_buf pending; /* records (JSON lines) for the writer */
	json_t *live;          /* socket key -> its SOCKET record's text (the state's "sockets") */
	_Atomic uint64_t records, queue_drops;
};

static char status[300] = "off: agent.osEvents is off";

const char *tv_os_layer_status(void)
{
	return status;
}

/* A record of the programs as an events `os` record (a JSON line into
 * l->line), with the container and pod its cgroup names. @return the
 * offset of its body (tv_events_format_os), or -1. */
static long format_record(struct tv_os_layer *l, const struct tv_os_record *r, uint64_t ts)
{
	struct tv_cgroup_info ci;
	bool pod = tv_cgroup_ids_lookup(l->cgroups, r->cgroup_id, &ci);
	char comm[TV_OS_COMM_LEN + 1];
	memcpy(comm, r->comm, TV_OS_COMM_LEN);
	comm[TV_OS_COMM_LEN] = '\0';
	struct tv_os_event e = {.ts_ns = ts,
				.event = tv_os_kind_name(r->kind),
				.pid = r->pid,
				.tid = r->tid,
				.comm = comm,
				.cgroup_id = r->cgroup_id,
				.netns = r->netns,
				.socket = r->cookie};
	if (pod && ci.container_id[0])
		e.container_id = ci.container_id;
	if (pod)
		e.pod_uid = ci.pod_uid;
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
	tv_buf_reset(&l->line);
	size_t body;
	return tv_events_format_os(&e, &l->line, &body) ? -1 : (long)body;
}

/* The key of r's socket in the live table (binary): a TCP connection by
 * its namespace and addresses, a UDP socket by its cookie. @return its
 * length, 0 for records of no socket. */
struct live_key {
	uint8_t udp, family;
	uint16_t sport, dport;
	uint32_t netns;
	uint64_t cookie;
	uint8_t saddr[16], daddr[16];
};

static size_t live_key(const struct tv_os_record *r, struct live_key *k)
{
	memset(k, 0, sizeof(*k));
	if (r->proto == 17 && r->cookie) {
		k->udp = 1;
		k->cookie = r->cookie;
	} else if (r->family == 4 || r->family == 6) {
		k->family = r->family;
		k->sport = r->sport;
		k->dport = r->dport;
		k->netns = r->netns;
		memcpy(k->saddr, r->saddr, 16);
		memcpy(k->daddr, r->daddr, 16);
	} else {
		return 0;
	}
	return sizeof(*k);
}

/* Keeps the live table as the record says: a connection or UDP socket
 * starts living, a close ends it. body: the record's fields (`"ts":...}`).
 * Called with the lock held. */
static void track_live(struct tv_os_layer *l, const struct tv_os_record *r, const char *body, size_t len)
{
	struct live_key k;
	size_t kn = live_key(r, &k);
	if (!kn)
		return;
	if (r->kind == TV_OS_CLOSE) {
		json_object_deln(l->live, (const char *)&k, kn);
	} else if (r->kind == TV_OS_CONNECT || r->kind == TV_OS_ACCEPT || r->kind == TV_OS_EXISTING ||
		   r->kind == TV_OS_UDP) {
		if (json_object_size(l->live) >= LIVE_MAX && !json_object_getn(l->live, (const char *)&k, kn))
			return;
		json_object_setn_new_nocheck(l->live, (const char *)&k, kn, json_stringn_nocheck(body, len));
	}
}

static void on_record(void *ctx, const struct tv_os_record *r, uint64_t ts)
{
	struct tv_os_layer *l = ctx;
	long body = format_record(l, r, ts);
	if (body < 0) {
		atomic_fetch_add(&l->queue_drops, 1);
		return;
	}
	const char *text = (const char *)l->line.data;
	pthread_mutex_lock(&l->lock);
	/* the body without its newline: "{" + it is the SOCKET */
	track_live(l, r, text + body, l->line.len - (size_t)body - 1);
	if (l->pending.len + l->line.len <= PENDING_MAX_BYTES &&
	    !tv_buf_append(&l->pending, text, l->line.len)) {
		atomic_fetch_add(&l->records, 1);
	} else {
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
	if (!l || !(l->live = json_object()) || tv_proc_exe_new(&l->exes, proc_root)) {
		if (l)
			json_decref(l->live);
		free(l);
		tv_os_probe_free(p);
		tv_cgroup_ids_free(cgroups);
		return tv_err(-ENOMEM, "out of memory");
	}
	l->probe = p;
	tv_buf_init(&l->line, 0);
	tv_buf_init(&l->pending, 0);
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
	tv_buf_cleanup(&l->line);
	tv_buf_cleanup(&l->pending);
	json_decref(l->live);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

void tv_os_layer_drain(struct tv_os_layer *l, struct tv_buf *out)
{
	tv_buf_reset(out);
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	struct tv_buf t = *out; /* swapped: no copy, both keep their memory */
	*out = l->pending;
	l->pending = t;
	pthread_mutex_unlock(&l->lock);
}

void tv_os_layer_sockets(struct tv_os_layer *l, struct tv_buf *out)
{
	tv_buf_reset(out);
	if (!l)
		return;
	const char *key;
	size_t klen;
	json_t *v;
	pthread_mutex_lock(&l->lock);
	json_object_keylen_foreach(l->live, key, klen, v)
	{
		(void)key, (void)klen;
		if (tv_buf_put_u8(out, '{') ||
		    tv_buf_append(out, json_string_value(v), json_string_length(v)) ||
		    tv_buf_put_u8(out, '\n'))
			break; /* out of memory: the states list fewer */
	}
	pthread_mutex_unlock(&l->lock);
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
