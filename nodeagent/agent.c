/* SPDX-License-Identifier: Apache-2.0 */
/* agent: see agent.h. The capture thread and the lifecycle; the writer and
 * the sealer threads are writer.c and sealer.c, the queue between them queue.c. */
#include "nodeagent/agent.h"

#include <cap-ng.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/common/httpd.h"
#include "archive/common/log.h"
#include "archive/common/prom.h"
#include "archive/common/timeutil.h"
#include "archive/flow.h"
#include "archive/keys.h"
#include "archive/kube/kube_config.h"
#include "archive/pcapng.h"
#include "archive/sign.h"
#include "archive/store/store.h"
#include "nodeagent/buffer.h"
#include "nodeagent/capture.h"
#include "nodeagent/k8s_watch.h"
#include "nodeagent/metrics.h"
#include "nodeagent/os_layer.h"
#include "nodeagent/queue.h"
#include "nodeagent/scope.h"
#include "nodeagent/sealer.h"
#include "nodeagent/tap.h"
#include "nodeagent/writer.h"

#define CAPTURE_NICE (-10)
#define FLUSH_NS (1000000000ULL) /* hand a chunk over at least this often */
#define REPLAY_QUEUE_CHUNKS 8

/* One segment stream: its chunks, queue and writer; its segments are filed
 * under `node` (the node's name, with _sK for K >= 1) with their own
 * sequence and hash chain. Each flow goes to one stream. */
struct stream {
	unsigned id;
	char node[TV_NODE_MAX + 1];
	struct tv_chunk_queue q;
	bool q_ready;
	struct tv_writer wr;
	pthread_t writer;
	/* capture thread state */
	struct tv_chunk *cur;
	uint64_t chunk_started;
	bool segment_fresh; /* the next chunk begins a segment: it carries the capture record */
};

struct agent {
	struct tv_agent_config *cfg;
	const struct tv_agent_run_opts *opts;
	struct tv_capture *cap;
	struct tv_buffer *buf;
	struct tv_agent_metrics m;
	struct tv_sealer sl;
	struct stream st[TV_AGENT_MAX_STREAMS];
	unsigned nstreams;
	struct tv_signer *signer; /* the node key */
	struct tv_k8s_watch *k8s; /* NULL: no Kubernetes API */
	struct tv_os_layer *os;   /* NULL: no OS layer (tv_os_layer_status says why) */
	struct tv_tap *tap;       /* the capture scope (NULL: a replay) */
	atomic_bool stop;
	atomic_bool want_pause;
	int capture_rc;
	char capture_err[256]; /* the capture thread's message (errors are per thread) */
	/* capture thread state */
	uint64_t seg_started, seg_raw, last_ts;
	uint64_t last_kernel[TV_AGENT_MAX_IFACES], last_iface[TV_AGENT_MAX_IFACES];
	uint64_t health_changes;       /* tv_capture_health_changes when the health metrics were last set */
	struct tv_iface_table *ifaces; /* the interfaces now, as chunks number them */
};

/* ---- capture thread ---- */

/* Records per-interface drop deltas into c (the chunk that closes a segment). */
static void take_drop_deltas(struct agent *a, struct tv_chunk *c)
{
	for (uint32_t i = 0; i < a->m.niface; i++) {
		uint64_t recv, drop, ifdrop;
		if (tv_capture_stats(a->cap, i, &recv, &drop, &ifdrop))
			continue;
		c->drops_kernel[i] = drop - a->last_kernel[i];
		c->drops_iface[i] = ifdrop - a->last_iface[i];
		a->last_kernel[i] = drop;
		a->last_iface[i] = ifdrop;
		atomic_store(&a->m.kernel_drops[i], drop);
		atomic_store(&a->m.iface_drops[i], ifdrop);
	}
}

/* What is captured from now on: the tap's scope and whether the OS layer runs. */
static json_t *capture_record(struct agent *a)
{
	json_t *rec = tv_tap_record(a->tap, tv_now_ns());
	if (rec)
		json_object_set_new(rec, "os", json_string(tv_os_layer_status()));
	return rec;
}

/* The next chunk of stream st: numbered by the interfaces now; the first of
 * a segment (or the first after a change of scope) says what is captured. */
static int next_chunk(struct agent *a, struct stream *st)
{
	st->cur = tv_chunk_get(&st->q);
	st->chunk_started = tv_mono_ns();
	if (!st->cur)
		return tv_err(-ENOMEM, "out of memory for capture chunks");
	st->cur->ifaces = tv_iface_table_ref(a->ifaces);
	if (st->segment_fresh)
		st->cur->capture = capture_record(a);
	st->segment_fresh = false;
	return 0;
}

static int hand_over(struct agent *a, struct stream *st)
{
	tv_chunk_queue_push(&st->q, st->cur);
	return next_chunk(a, st);
}

/* Marks every stream's current chunk as the last of its segment, all at
 * one instant: segments of all streams tile time alike. The rings' drop
 * counters go into stream 0's. */
static void mark_seal(struct agent *a)
{
	uint64_t at = tv_capture_is_replay(a->cap) ? a->last_ts + 1 : tv_now_ns();
	for (unsigned i = 0; i < a->nstreams; i++) {
		a->st[i].cur->seal_after = true;
		a->st[i].cur->seal_at = at;
		a->st[i].segment_fresh = true;
	}
	take_drop_deltas(a, a->st[0].cur);
}

/* Ends the open segment of every stream; the next chunks begin new ones. */
static int seal_all(struct agent *a)
{
	mark_seal(a);
	int rc = 0;
	for (unsigned i = 0; i < a->nstreams && !rc; i++)
		rc = hand_over(a, &a->st[i]);
	return rc;
}

/* The stream a packet goes to: by its conversation, so that each flow's
 * packets are all in one stream (and its index). Not IP: stream 0. */
static struct stream *stream_of(struct agent *a, uint32_t ifindex, uint32_t caplen, const uint8_t *data)
{
	if (a->nstreams == 1)
		return &a->st[0];
	struct tv_flow_key k, c;
	if (ifindex >= a->ifaces->n || !tv_flow_key_parse(a->ifaces->v[ifindex].linktype, data, caplen, &k))
		return &a->st[0];
	tv_flow_key_canonical(&k, &c);
	/* the hash's high half: its low bits follow the ports, which Linux
	 * picks even for outgoing connections */
	uint64_t h = tv_flow_key_hash(&c) >> 32;
	return &a->st[(h * a->nstreams) >> 32];
}

static int on_packet(void *ctx, uint32_t ifindex, uint64_t ts, uint32_t caplen, uint32_t len,
		     const uint8_t *data)
{
	struct agent *a = ctx;
	int rc;
	if (tv_capture_is_replay(a->cap)) {
		/* replay: segments are cut by packet time, as a live agent would have */
		if (a->seg_started == 0)
			a->seg_started = ts;
		if (ts >= a->seg_started + a->cfg->seal_interval_ns || a->seg_raw >= a->cfg->seal_bytes) {
			if ((rc = seal_all(a)))
				return rc;
			a->seg_started = ts;
			a->seg_raw = 0;
		}
	}
	struct stream *st = stream_of(a, ifindex, caplen, data);
	size_t need = tv_pcapng_epb_size(caplen);
	if (st->cur->buf.len + need > TV_CHUNK_BYTES && st->cur->packets && (rc = hand_over(a, st)))
		return rc;
	if (tv_pcapng_put_epb(&st->cur->buf, ifindex, ts, data, caplen, len))
		return tv_err(-ENOMEM, "capture chunk overflow");
	if (st->cur->packets++ == 0)
		st->cur->first_ts = ts;
	st->cur->last_ts = ts;
	a->last_ts = ts;
	a->seg_raw += need;
	atomic_fetch_add_explicit(&a->m.packets[ifindex], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&a->m.bytes[ifindex], caplen, memory_order_relaxed);
	return 0;
}

static void update_health(struct agent *a)
{
	a->health_changes = tv_capture_health_changes(a->cap);
	for (uint32_t i = 0; i < a->m.niface; i++) {
		bool up;
		uint64_t lost, reopened;
		tv_capture_health(a->cap, i, &up, &lost, &reopened);
		atomic_store_explicit(&a->m.iface_up[i], up, memory_order_relaxed);
		atomic_store_explicit(&a->m.iface_lost[i], lost, memory_order_relaxed);
		atomic_store_explicit(&a->m.iface_reopened[i], reopened, memory_order_relaxed);
	}
}

/* The interfaces of the capture now: the table chunks are numbered by and
 * the metrics' names. */
static int publish_interfaces(struct agent *a)
{
	struct tv_iface v[TV_AGENT_MAX_IFACES];
	uint32_t n = tv_capture_niface(a->cap);
	for (uint32_t i = 0; i < n; i++)
		tv_capture_iface(a->cap, i, &v[i]);
	struct tv_iface_table *t = tv_iface_table_new(v, n);
	if (!t)
		return tv_err(-ENOMEM, "out of memory");
	tv_iface_table_unref(a->ifaces);
	a->ifaces = t;
	tv_metrics_set_interfaces(&a->m, v, n);
	return 0;
}

/* Counters follow their interface to its new index. */
static void move_counters(struct agent *a, const int32_t *moved_from, uint32_t n)
{
	uint64_t kern[TV_AGENT_MAX_IFACES], ifd[TV_AGENT_MAX_IFACES];
	for (uint32_t j = 0; j < n; j++) {
		kern[j] = moved_from[j] >= 0 ? a->last_kernel[moved_from[j]] : 0;
		ifd[j] = moved_from[j] >= 0 ? a->last_iface[moved_from[j]] : 0;
	}
	memcpy(a->last_kernel, kern, sizeof(kern));
	memcpy(a->last_iface, ifd, sizeof(ifd));
	tv_metrics_move_interfaces(&a->m, moved_from, n);
}

/* At the stop (and before letting go of an interface): a TPACKET_V3 block
 * is handed over when full or when its timeout (100 ms, capture_pcap.c)
 * expires, so the last packets wait in a block not yet retired. Reading on for a little longer
 * than that keeps them (and those that come meanwhile). */
#define DRAIN_NS 250000000ULL
static int drain_rings(struct agent *a)
{
	uint64_t until = tv_mono_ns() + DRAIN_NS;
	while (tv_mono_ns() < until) {
		int n = tv_capture_poll(a->cap, 50, on_packet, a);
		if (n < 0)
			return n;
	}
	return 0;
}

static bool drops_an_interface(const struct agent *a, const struct tv_scope_plan *p)
{
	for (uint32_t i = 0; i < a->ifaces->n; i++) {
		bool kept = false;
		for (size_t j = 0; j < p->n && !kept; j++)
			kept = !strcmp(a->ifaces->v[i].name, p->v[j].name);
		if (!kept)
			return true;
	}
	return false;
}

/* A new scope from the tap: other interfaces begin a new segment (every
 * packet queued in the rings so far goes into the old one), new filters
 * alone do not. */
static int apply_plan(struct agent *a, struct tv_scope_plan *p)
{
	struct tv_capture_want want[TV_AGENT_MAX_IFACES];
	int32_t moved_from[TV_AGENT_MAX_IFACES];
	uint32_t n = p->n < TV_AGENT_MAX_IFACES ? (uint32_t)p->n : TV_AGENT_MAX_IFACES;
	if (p->n > n)
		tv_warn("capture scope: %zu interfaces, capturing the first %u", p->n, n);
	bool same = n == a->ifaces->n;
	for (uint32_t i = 0; i < n; i++) {
		want[i] = (struct tv_capture_want){p->v[i].name, p->v[i].filter};
		same = same && !strcmp(p->v[i].name, a->ifaces->v[i].name);
	}
	int rc = 0;
	if (!same) {
		/* an interface let go of keeps its last block until the block's
		 * timeout: read on a little (kept ones keep their rings) */
		if (drops_an_interface(a, p))
			rc = drain_rings(a);
		while (!rc && (rc = tv_capture_poll(a->cap, 0, on_packet, a)) > 0)
			;
		if (rc < 0 || (rc = seal_all(a)))
			return rc;
		a->seg_started = tv_now_ns();
		a->seg_raw = 0;
	}
	if ((rc = tv_capture_reconcile(a->cap, want, n, moved_from)))
		return rc;
	if (!same) {
		move_counters(a, moved_from, n);
		if ((rc = publish_interfaces(a)))
			return rc;
		for (unsigned i = 0; i < a->nstreams; i++) { /* the fresh chunks hold no packet yet */
			tv_iface_table_unref(a->st[i].cur->ifaces);
			a->st[i].cur->ifaces = tv_iface_table_ref(a->ifaces);
		}
		update_health(a);
	}
	for (unsigned i = 0; same && i < a->nstreams; i++) /* those came under the old filters */
		if (a->st[i].cur->packets && (rc = hand_over(a, &a->st[i])))
			return rc;
	tv_tap_applied(a->tap, p, tv_now_ns());
	for (unsigned i = 0; i < a->nstreams; i++) { /* the new scope, from these chunks on */
		json_decref(a->st[i].cur->capture);
		a->st[i].cur->capture = capture_record(a);
	}
	tv_info("capture scope: %u interface(s), %zu pod(s) in scope%s", n, p->pods_matched,
		same ? " (filters changed)" : "");
	return 0;
}

static int capture_step(struct agent *a)
{
	struct tv_scope_plan plan;
	if (tv_tap_take(a->tap, &plan)) {
		int rc = apply_plan(a, &plan);
		tv_scope_plan_cleanup(&plan);
		if (rc)
			return rc;
	}
	bool pause = atomic_load(&a->want_pause);
	if (pause != (atomic_load(&a->m.paused) != 0)) {
		int rc = tv_capture_pause(a->cap, pause);
		if (rc)
			return rc;
		atomic_store(&a->m.paused, pause);
		tv_info("capture %s", pause ? "paused (tap.capture.stopped)" : "resumed");
	}
	int n = tv_capture_poll(a->cap, 100, on_packet, a);
	if (tv_capture_health_changes(a->cap) != a->health_changes)
		update_health(a);
	if (n == -ENODATA) {
		atomic_store(&a->stop, true);
		return 0;
	}
	if (n < 0)
		return n;
	if (tv_capture_is_replay(a->cap))
		return 0;
	uint64_t now = tv_now_ns();
	if (now >= a->seg_started + a->cfg->seal_interval_ns || a->seg_raw >= a->cfg->seal_bytes) {
		a->seg_started = now;
		a->seg_raw = 0;
		return seal_all(a);
	}
	uint64_t mono = tv_mono_ns();
	int rc = 0;
	for (unsigned i = 0; i < a->nstreams && !rc; i++)
		if (a->st[i].cur->packets && mono - a->st[i].chunk_started >= FLUSH_NS)
			rc = hand_over(a, &a->st[i]);
	return rc;
}

static void *capture_thread(void *arg)
{
	struct agent *a = arg;
	pthread_setname_np(pthread_self(), "tv-capture");
	update_health(a); /* every interface starts up */
	if (!tv_capture_is_replay(a->cap))
		a->seg_started = tv_now_ns();
	int rc = 0;
	while (!rc && !atomic_load(&a->stop))
		rc = capture_step(a);
	if (!rc && !tv_capture_is_replay(a->cap))
		rc = drain_rings(a);
	if (rc) {
		snprintf(a->capture_err, sizeof(a->capture_err), "capture: %s", tv_errmsg());
		tv_error("%s; sealing what was captured and exiting", a->capture_err);
		atomic_store(&a->stop, true); /* the main thread waits for this */
	}
	a->capture_rc = rc;
	/* the last chunks seal the open segments */
	mark_seal(a);
	for (unsigned i = 0; i < a->nstreams; i++) {
		tv_chunk_queue_push(&a->st[i].q, a->st[i].cur);
		a->st[i].cur = NULL;
		tv_chunk_queue_close(&a->st[i].q);
	}
	return NULL;
}

/* ---- lifecycle ---- */

static void drop_privileges(bool live)
{
	/* The rings, the buffer directory and the metrics socket are open. Only
	 * CAP_NET_RAW stays, for a live capture: a pod's veth is deleted and
	 * created again whenever the pod restarts, and reopening it needs a new
	 * packet socket. Files stay writable by their owner. */
	capng_clear(CAPNG_SELECT_BOTH);
	if (live)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_RAW);
	if (capng_apply(CAPNG_SELECT_BOTH) != 0)
		tv_warn("could not drop capabilities; continuing with them");
	else
		tv_info(live ? "dropped every capability but CAP_NET_RAW (to reopen interfaces)"
			     : "dropped all capabilities");
}

/* The public half of the node key, where the uploader ships it from
 * (v1/keys/NODE/KEYID.json in the buffer); valid from the key's creation.
 * It signs the segments of every stream of the node. */
static int publish_key(struct agent *a, const char *key_path, const char *node)
{
	struct tv_pubkey k = {0};
	snprintf(k.node, sizeof(k.node), "%s", node);
	memcpy(k.key_id, tv_signer_key_id(a->signer), TV_SHA256_LEN);
	memcpy(k.pub, tv_signer_public(a->signer), TV_PUBKEY_LEN);
	struct stat st;
	k.not_before_ns = stat(key_path, &st) == 0
				  ? (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec
				  : tv_now_ns();
	char hex[TV_SHA256_HEX_LEN], key[TV_KEY_MAX], path[4096 + TV_KEY_MAX];
	tv_hex(k.key_id, TV_SHA256_LEN, hex);
	if (tv_key_pubkey(key, sizeof(key), "", k.node, hex))
		return tv_err(-ENAMETOOLONG, "key object name too long");
	snprintf(path, sizeof(path), "%s/%s", a->cfg->buffer_dir, key);
	if (access(path, F_OK) == 0)
		return 0;
	struct tv_buf b;
	tv_buf_init(&b, 4096);
	int rc = tv_pubkey_encode(&k, &b);
	if (!rc && !(rc = tv_mkdir_parent(path)))
		rc = tv_write_file_atomic(path, b.data, b.len);
	tv_buf_cleanup(&b);
	return rc;
}

/* Loads (or creates) the node key; every index sealed from now on is signed. */
static int setup_signing(struct agent *a)
{
	char path[4096];
	if (a->cfg->signing_key && a->cfg->signing_key[0])
		snprintf(path, sizeof(path), "%s", a->cfg->signing_key);
	else
		snprintf(path, sizeof(path), "%s/.keys/node.key", a->cfg->buffer_dir);
	bool created;
	int rc = tv_signer_load(path, true, &a->signer, &created);
	if (!rc)
		rc = publish_key(a, path, a->cfg->node);
	if (rc)
		return rc;
	char hex[TV_SHA256_HEX_LEN];
	tv_hex(tv_signer_key_id(a->signer), TV_SHA256_LEN, hex);
	tv_info("signing with %s key %.16s (%s)", created ? "new" : "node", hex, path);
	tv_buffer_set_signer(a->buf, a->signer);
	for (unsigned i = 0; i < a->nstreams; i++)
		a->st[i].wr.key_id = tv_signer_key_id(a->signer);
	return 0;
}

/* The Kubernetes API, where there is one (agent.kubernetes). */
static int setup_kubernetes(struct agent *a)
{
	const struct tv_agent_config *cfg = a->cfg;
	if (cfg->kubernetes == TV_AGENT_K8S_OFF || a->opts->read_file)
		return 0;
	struct tv_kube_config kc;
	int rc = cfg->kubeconfig && cfg->kubeconfig[0] ? tv_kube_config_load(cfg->kubeconfig, NULL, &kc)
						       : tv_kube_config_in_cluster(NULL, &kc);
	if (rc == -ENOENT && cfg->kubernetes == TV_AGENT_K8S_AUTO &&
	    !(cfg->kubeconfig && cfg->kubeconfig[0])) {
		tv_info("no Kubernetes API (not in a pod, no agent.kubeconfig): segments carry no Kubernetes "
			"state");
		return 0;
	}
	if (!rc)
		rc = tv_k8s_watch_start(&a->k8s, &kc, cfg->node,
					(unsigned)(cfg->kube_stall_ns / 1000000000ULL));
	tv_kube_config_cleanup(&kc);
	if (rc)
		return tv_err(rc, "agent.kubernetes: %s", tv_errmsg());
	for (unsigned i = 0; i < a->nstreams; i++)
		a->st[i].wr.k8s = a->k8s;
	return 0;
}

static int open_capture(struct agent *a, struct tv_capture_opts *co);

static int start(struct agent *a)
{
	const struct tv_agent_config *cfg = a->cfg;
	struct tv_capture_opts co = {
		.interfaces = (const char *const *)cfg->interfaces.items,
		.ninterfaces = (uint32_t)cfg->interfaces.n,
		.snaplen = (uint32_t)cfg->snaplen,
		.filter = cfg->filter,
		.ring_bytes = cfg->ring_size,
		.read_file = a->opts->read_file,
	};
	if (co.ninterfaces > TV_AGENT_MAX_IFACES)
		return tv_err(-EINVAL, "at most %d interfaces", TV_AGENT_MAX_IFACES);
	int rc = tv_buffer_open(&a->buf, cfg->buffer_dir, cfg->storage_size);
	if (!rc)
		rc = setup_signing(a);
	if (!rc)
		rc = setup_kubernetes(a);
	if (!rc && !a->opts->read_file &&
	    (rc = tv_os_layer_start(&a->os, cfg->os_events, cfg->host_cgroup_root, cfg->host_proc_root)) == 0)
		a->st[0].wr.os = a->os; /* loaded now, while the agent holds CAP_BPF */
	if (!rc)
		rc = tv_buffer_salvage(a->buf);
	if (!rc)
		rc = tv_buffer_make_room(a->buf, 0);
	for (unsigned i = 0; !rc && i < a->nstreams; i++) { /* each stream continues its own chain */
		struct tv_writer *wr = &a->st[i].wr;
		bool found;
		rc = tv_buffer_chain_tail(a->buf, a->st[i].node, &found, &wr->seq, wr->prev_sha,
					  wr->prev_key_id);
		wr->seq = found ? wr->seq + 1 : 0;
	}
	if (rc)
		return rc;
	if ((rc = open_capture(a, &co)))
		return rc;
	/* tap.capture.raw.enabled=false keeps the agent up without capturing */
	atomic_store(&a->want_pause, cfg->stopped || !cfg->raw_enabled);
	if (!cfg->raw_enabled)
		tv_info("tap.capture.raw.enabled is false: not capturing packets");
	return 0;
}

/* The capture, on the interfaces of the first scope (tap.h): the listed
 * ones, or with `auto` whatever the tap finds. */
static int open_capture(struct agent *a, struct tv_capture_opts *co)
{
	struct tv_scope_plan first = {0};
	int rc = 0;
	bool live = !a->opts->read_file;
	if (live && (rc = tv_tap_start(&a->tap, a->cfg, a->k8s, &first)))
		return rc;
	a->m.tap = a->tap;
	bool listed = live && !tv_agent_config_auto_interfaces(a->cfg);
	if (live && !listed)
		co->ninterfaces = 0; /* the plan says which */
	if (listed && first.n)
		co->filter = first.v[0].filter; /* the same on every listed interface */
	rc = tv_capture_open(&a->cap, co);
	int32_t moved_from[TV_AGENT_MAX_IFACES];
	struct tv_capture_want want[TV_AGENT_MAX_IFACES];
	for (size_t i = 0; i < first.n && i < TV_AGENT_MAX_IFACES; i++)
		want[i] = (struct tv_capture_want){first.v[i].name, first.v[i].filter};
	if (!rc && live && !listed)
		rc = tv_capture_reconcile(
			a->cap, want, first.n < TV_AGENT_MAX_IFACES ? (uint32_t)first.n : TV_AGENT_MAX_IFACES,
			moved_from);
	if (!rc)
		rc = publish_interfaces(a);
	if (!rc && live)
		tv_tap_applied(a->tap, &first, tv_now_ns());
	tv_scope_plan_cleanup(&first);
	return rc;
}

static void render(void *ctx, struct tv_buf *out)
{
	struct agent *a = ctx;
	struct tv_buffer_stats bs;
	tv_buffer_get_stats(a->buf, &bs);
	tv_metrics_render(&a->m, &bs, tv_buffer_cap(a->buf), out);
	tv_metrics_render_k8s(a->k8s, out);
	tv_metrics_render_os(a->os, out);
}

/* agent.streams, or from the core count: one stream per 4 cores. */
static unsigned stream_count(const struct tv_agent_config *cfg)
{
	if (cfg->streams > 0)
		return (unsigned)cfg->streams;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	long n = cores / 4;
	return n < 1 ? 1 : n > TV_AGENT_MAX_STREAMS ? TV_AGENT_MAX_STREAMS : (unsigned)n;
}

/* Names and queues the streams (the queue split between them). */
static int setup_streams(struct agent *a)
{
	a->nstreams = stream_count(a->cfg);
	/* a replay waits for the writers rather than losing packets: a short queue does */
	size_t depth = a->cfg->queue_size / TV_CHUNK_BYTES / a->nstreams;
	if (a->opts->read_file && depth > REPLAY_QUEUE_CHUNKS)
		depth = REPLAY_QUEUE_CHUNKS;
	if (depth < 4)
		depth = 4;
	for (unsigned i = 0; i < a->nstreams; i++) {
		struct stream *st = &a->st[i];
		st->id = i;
		if (tv_node_stream_name(st->node, sizeof(st->node), a->cfg->node, i))
			return tv_err(-ENAMETOOLONG, "agent.node too long for %u streams", a->nstreams);
		int rc = tv_chunk_queue_init(&st->q, depth, &a->m.queue_depth[i]);
		st->q_ready = true;
		if (rc)
			return tv_err(rc, "out of memory for agent.queueSize (%" PRIu64 " bytes)",
				      a->cfg->queue_size);
		st->wr.node = st->node;
		st->wr.stream = i;
		st->wr.nstreams = a->nstreams;
		st->wr.queue_depth = &a->m.queue_depth[i];
	}
	return 0;
}

int tv_agent_run(struct tv_agent_config *cfg, const struct tv_agent_run_opts *opts)
{
	struct agent *a = calloc(1, sizeof(*a));
	if (!a)
		return tv_err(-ENOMEM, "out of memory");
	a->cfg = cfg;
	a->opts = opts;
	pthread_mutex_init(&a->m.iface_lock, NULL);
	struct tv_httpd *ms = NULL;
	/* Memory freed per segment (index tables, records) stays in the heap for
	 * the next one instead of going back to the kernel and faulting in again. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	/* Signals are taken by this thread only (sigwait), so they are blocked
	 * before any thread starts, and before the start-up's BPF load and queue
	 * warm-up: a SIGTERM then is held and ends the run cleanly once the loop
	 * below takes it, instead of killing the agent with a non-zero status. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	int rc = setup_streams(a);
	if (!rc)
		rc = start(a);
	if (!rc && cfg->metrics_addr && cfg->metrics_addr[0])
		rc = tv_httpd_start(&ms, cfg->metrics_addr, "agent.metricsAddr", TV_PROM_CONTENT_TYPE, render,
				    a);
	if (rc)
		goto out;
	/* start() set each writer's seq and prev_sha from the buffer's chains */
	tv_sealer_init(&a->sl, a->buf, &a->m);
	uint64_t created = tv_now_ns();
	for (unsigned i = 0; i < a->nstreams && !rc; i++) {
		struct stream *st = &a->st[i];
		st->wr.cfg = cfg;
		st->wr.cap = a->cap;
		st->wr.buf = a->buf;
		st->wr.m = &a->m;
		st->wr.q = &st->q;
		st->wr.sealer = &a->sl;
		st->wr.next_created = created;
		st->segment_fresh = true;
		rc = next_chunk(a, st);
	}
	if (rc)
		goto out;
	/* The capture thread does little work but must run when the ring fills,
	 * also on a busy node: it is started at a higher priority (nice, needs
	 * CAP_SYS_NICE, hence before the capabilities go); the other threads
	 * run at the normal one. Threads inherit the creator's nice value. */
	bool boosted = setpriority(PRIO_PROCESS, 0, CAPTURE_NICE) == 0;
	if (getuid() == 0 || geteuid() == 0)
		drop_privileges(!tv_capture_is_replay(a->cap));
	/* logged first: wr.seq belongs to the writer once it runs */
	tv_info("capturing on %u interface(s) into %s (cap %" PRIu64
		" bytes), node %s, %u stream(s), segment %" PRIu64,
		a->m.niface, cfg->buffer_dir, cfg->storage_size, cfg->node, a->nstreams, a->st[0].wr.seq);
	pthread_t ct, sealer;
	pthread_create(&ct, NULL, capture_thread, a);
	if (boosted)
		setpriority(PRIO_PROCESS, 0, 0);
	for (unsigned i = 0; i < a->nstreams; i++)
		pthread_create(&a->st[i].writer, NULL, tv_writer_thread, &a->st[i].wr);
	pthread_create(&sealer, NULL, tv_sealer_thread, &a->sl);
	while (!atomic_load(&a->stop)) {
		struct timespec tick = {0, 200000000};
		int sig = sigtimedwait(&sigs, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			tv_info("signal %d: sealing and exiting", sig);
			atomic_store(&a->stop, true);
		} else if (sig == SIGHUP && opts->reload) {
			struct tv_agent_config fresh;
			if (opts->reload(&fresh, opts->reload_ctx) == 0) {
				atomic_store(&a->want_pause, fresh.stopped || !fresh.raw_enabled);
				if (a->tap && tv_tap_set_rule(a->tap, &fresh))
					tv_error("reload: %s; keeping the capture filters", tv_errmsg());
				tv_info("reloaded: tap.capture.stopped=%s, tap.capture.raw.enabled=%s",
					fresh.stopped ? "true" : "false",
					fresh.raw_enabled ? "true" : "false");
				tv_agent_config_cleanup(&fresh);
			} else {
				tv_error("reload failed, keeping the running config: %s", tv_errmsg());
			}
		}
	}
	pthread_join(ct, NULL);
	for (unsigned i = 0; i < a->nstreams; i++)
		pthread_join(a->st[i].writer, NULL);
	tv_sealer_close(&a->sl); /* after sealing what was written */
	pthread_join(sealer, NULL);
	rc = a->capture_rc ? tv_err(a->capture_rc, "%s", a->capture_err) : 0;
out:
	tv_httpd_stop(ms);
	for (unsigned i = 0; i < a->nstreams; i++) {
		struct stream *st = &a->st[i];
		tv_writer_cleanup(&st->wr); /* a failed writer left its files for salvage */
		if (st->cur)
			tv_chunk_put(&st->q, st->cur);
		if (st->q_ready)
			tv_chunk_queue_cleanup(&st->q);
	}
	if (a->sl.buf)
		tv_sealer_cleanup(&a->sl);
	tv_capture_free(a->cap);
	tv_buffer_free(a->buf);
	tv_signer_free(a->signer);
	tv_tap_stop(a->tap);
	tv_k8s_watch_stop(a->k8s);
	tv_os_layer_stop(a->os);
	tv_iface_table_unref(a->ifaces);
	free(a);
	return rc;
}
