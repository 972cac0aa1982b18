/* SPDX-License-Identifier: Apache-2.0 */
/* agent: see agent.h. */
#include "nodeagent/agent.h"

#include <cap-ng.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "archive/common/timeutil.h"
#include "archive/events.h"
#include "archive/segment.h"
#include "nodeagent/buffer.h"
#include "nodeagent/capture.h"
#include "nodeagent/metrics.h"

#define CHUNK_BYTES ((size_t)1 << 20)
/* Backlog (queued chunks) beyond which the writer trades ratio for speed:
 * losing packets is worse than storing them less compressed. */
#define BACKLOG_FAST 6
#define BACKLOG_FASTEST 16
#define LEVEL_FAST (-5)
#define LEVEL_FASTEST (-100)
#define CAPTURE_NICE (-10)
#define FLUSH_NS (1000000000ULL) /* hand a chunk over at least this often */
/* Segments written but still being flushed to disk (see sealer_thread)
 * beyond which the writer waits: bounds the page cache they hold and the
 * time SIGTERM takes to seal everything. */
#define SEALS_PENDING_MAX 2
/* Room kept for what sealing adds (index, events) beyond the data written. */
#define SEAL_RESERVE ((uint64_t)256 << 10)

/* A FIFO of items whose first member is a struct link; callers lock. Carries
 * chunks to the writer and written segments to the sealer. */
struct link {
	struct link *next;
};

struct fifo {
	struct link *head, *tail;
	size_t depth;
};

static void fifo_push(struct fifo *f, struct link *l)
{
	l->next = NULL;
	if (f->tail)
		f->tail->next = l;
	else
		f->head = l;
	f->tail = l;
	f->depth++;
}

static struct link *fifo_pop(struct fifo *f)
{
	struct link *l = f->head;
	if (l) {
		f->head = l->next;
		if (!f->head)
			f->tail = NULL;
		f->depth--;
	}
	return l;
}

struct chunk {
	struct link link; /* first: in the queue or the free list */
	struct tv_buf buf;
	uint32_t packets;
	uint64_t first_ts, last_ts;
	bool seal_after;
	uint64_t seal_at; /* with seal_after: the segment's end and the next one's start */
	uint64_t drops_kernel[TV_AGENT_MAX_IFACES]; /* with seal_after: deltas for the segment */
	uint64_t drops_iface[TV_AGENT_MAX_IFACES];
};

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t nonempty, nonfull;
	struct fifo chunks;
	struct link *free_list;
	size_t max_depth; /* agent.queueSize in chunks; a full queue holds the capture thread */
	bool closed;
};

/* A segment written and indexed, waiting to be flushed and moved into place. */
struct pending_seal {
	struct link link; /* first */
	struct tv_buffer_seal *seal;
	uint64_t seq, packets, raw_bytes, compressed_bytes;
};

struct sealer {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct fifo segs; /* the head is being sealed; it leaves the FIFO once sealed */
	bool closed;
};

struct agent {
	struct tv_agent_config *cfg;
	const struct tv_agent_run_opts *opts;
	struct tv_capture *cap;
	struct tv_buffer *buf;
	struct tv_agent_metrics m;
	struct queue q;
	struct sealer sl;
	atomic_bool stop;
	atomic_bool want_pause;
	int capture_rc, writer_rc;
	char capture_err[256]; /* the capture thread's message (errors are per thread) */
	/* capture thread state */
	struct chunk *cur;
	uint64_t chunk_started, seg_started, seg_raw;
	uint64_t last_kernel[TV_AGENT_MAX_IFACES], last_iface[TV_AGENT_MAX_IFACES];
	/* writer thread state */
	struct tv_seg_writer *w;
	struct tv_events_writer *ev;
	char *data_path, *events_path;
	uint64_t seq;
	uint8_t prev_sha[TV_SHA256_LEN];
	uint64_t seg_last_ts;
	uint64_t next_created;   /* live: where the next segment starts (the last seal) */
	uint64_t retry_after;    /* mono ns: after a write error, drop chunks until then */
	int level;               /* zstd level of the open segment's writer */
	uint64_t health_changes; /* tv_capture_health_changes when the health metrics were last set */
};

/* ---- queue ---- */

static struct chunk *chunk_get(struct agent *a)
{
	pthread_mutex_lock(&a->q.lock);
	struct chunk *c = (struct chunk *)a->q.free_list;
	if (c)
		a->q.free_list = c->link.next;
	pthread_mutex_unlock(&a->q.lock);
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
		tv_buf_init(&c->buf, CHUNK_BYTES + TV_MAX_PACKET + 64);
		if (tv_buf_reserve(&c->buf, CHUNK_BYTES + TV_MAX_PACKET + 64)) {
			free(c);
			return NULL;
		}
	}
	struct tv_buf keep = c->buf;
	memset(c, 0, sizeof(*c));
	c->buf = keep;
	tv_buf_reset(&c->buf);
	return c;
}

static void chunk_put(struct agent *a, struct chunk *c)
{
	pthread_mutex_lock(&a->q.lock);
	c->link.next = a->q.free_list;
	a->q.free_list = &c->link;
	pthread_mutex_unlock(&a->q.lock);
}

static void queue_push(struct agent *a, struct chunk *c)
{
	pthread_mutex_lock(&a->q.lock);
	while (a->q.chunks.depth >= a->q.max_depth)
		pthread_cond_wait(&a->q.nonfull, &a->q.lock);
	fifo_push(&a->q.chunks, &c->link);
	atomic_store(&a->m.queue_depth, a->q.chunks.depth);
	pthread_cond_signal(&a->q.nonempty);
	pthread_mutex_unlock(&a->q.lock);
}

static struct chunk *queue_pop(struct agent *a)
{
	pthread_mutex_lock(&a->q.lock);
	while (!a->q.chunks.head && !a->q.closed)
		pthread_cond_wait(&a->q.nonempty, &a->q.lock);
	struct chunk *c = (struct chunk *)fifo_pop(&a->q.chunks);
	if (c) {
		atomic_store(&a->m.queue_depth, a->q.chunks.depth);
		pthread_cond_signal(&a->q.nonfull);
	}
	pthread_mutex_unlock(&a->q.lock);
	return c;
}

static void queue_close(struct agent *a)
{
	pthread_mutex_lock(&a->q.lock);
	a->q.closed = true;
	pthread_cond_broadcast(&a->q.nonempty);
	pthread_mutex_unlock(&a->q.lock);
}

/* ---- capture thread ---- */

/* Records per-interface drop deltas into c (the chunk that closes a segment). */
static void take_drop_deltas(struct agent *a, struct chunk *c)
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

static int hand_over(struct agent *a, bool seal)
{
	struct chunk *c = a->cur;
	c->seal_after = seal;
	if (seal) {
		take_drop_deltas(a, c);
		c->seal_at = tv_capture_is_replay(a->cap) ? c->last_ts + 1 : tv_now_ns();
	}
	queue_push(a, c);
	a->cur = chunk_get(a);
	a->chunk_started = tv_mono_ns();
	if (!a->cur)
		return tv_err(-ENOMEM, "out of memory for capture chunks");
	return 0;
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
			if ((rc = hand_over(a, true)))
				return rc;
			a->seg_started = ts;
			a->seg_raw = 0;
		}
	}
	size_t need = tv_pcapng_epb_size(caplen);
	if (a->cur->buf.len + need > CHUNK_BYTES && a->cur->packets && (rc = hand_over(a, false)))
		return rc;
	if (tv_pcapng_put_epb(&a->cur->buf, ifindex, ts, data, caplen, len))
		return tv_err(-ENOMEM, "capture chunk overflow");
	if (a->cur->packets++ == 0)
		a->cur->first_ts = ts;
	a->cur->last_ts = ts;
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

static int capture_step(struct agent *a)
{
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
		return hand_over(a, true);
	}
	if (a->cur->packets && tv_mono_ns() - a->chunk_started >= FLUSH_NS)
		return hand_over(a, false);
	return 0;
}

static void *capture_thread(void *arg)
{
	struct agent *a = arg;
	pthread_setname_np(pthread_self(), "tv-capture");
	a->chunk_started = tv_mono_ns();
	update_health(a); /* every interface starts up */
	if (!tv_capture_is_replay(a->cap))
		a->seg_started = tv_now_ns();
	int rc = 0;
	while (!rc && !atomic_load(&a->stop))
		rc = capture_step(a);
	if (rc) {
		snprintf(a->capture_err, sizeof(a->capture_err), "capture: %s", tv_errmsg());
		tv_error("%s; sealing what was captured and exiting", a->capture_err);
		atomic_store(&a->stop, true); /* the main thread waits for this */
	}
	a->capture_rc = rc;
	/* the last chunk seals the open segment */
	a->cur->seal_after = true;
	a->cur->seal_at = tv_capture_is_replay(a->cap) ? a->cur->last_ts + 1 : tv_now_ns();
	take_drop_deltas(a, a->cur);
	queue_push(a, a->cur);
	a->cur = NULL;
	queue_close(a);
	return NULL;
}

/* ---- writer thread ---- */

/* ---- sealer thread ----
 * Sealing fsyncs the data file, and at rates above the disk's the flush of a
 * 128 MiB segment stalled the writer long enough for the capture ring to
 * overflow (kernel drops at 5 Gbit/s on a 400 MB/s disk). The writer now
 * hands the flush, the index write and the renames to this thread and goes on
 * with the next segment; the page cache absorbs bursts, as it does for
 * tcpdump, while every sealed segment is still durable. */

static void sealer_push(struct agent *a, struct pending_seal *p)
{
	struct sealer *sl = &a->sl;
	pthread_mutex_lock(&sl->lock);
	while (sl->segs.depth >= SEALS_PENDING_MAX)
		pthread_cond_wait(&sl->changed, &sl->lock);
	fifo_push(&sl->segs, &p->link);
	atomic_store(&a->m.seals_pending, sl->segs.depth);
	pthread_cond_broadcast(&sl->changed);
	pthread_mutex_unlock(&sl->lock);
}

/* Waits until the sealer has finished at least one more segment (or has none). */
static void sealer_wait_one(struct agent *a)
{
	struct sealer *sl = &a->sl;
	pthread_mutex_lock(&sl->lock);
	size_t depth = sl->segs.depth;
	while (sl->segs.depth && sl->segs.depth >= depth)
		pthread_cond_wait(&sl->changed, &sl->lock);
	pthread_mutex_unlock(&sl->lock);
}

static void sealer_close(struct agent *a)
{
	pthread_mutex_lock(&a->sl.lock);
	a->sl.closed = true;
	pthread_cond_broadcast(&a->sl.changed);
	pthread_mutex_unlock(&a->sl.lock);
}

static void *sealer_thread(void *arg)
{
	struct agent *a = arg;
	struct sealer *sl = &a->sl;
	pthread_setname_np(pthread_self(), "tv-seal");
	pthread_mutex_lock(&sl->lock);
	for (;;) {
		while (!sl->segs.head && !sl->closed)
			pthread_cond_wait(&sl->changed, &sl->lock);
		struct pending_seal *p = (struct pending_seal *)sl->segs.head;
		if (!p)
			break;
		pthread_mutex_unlock(&sl->lock);
		if (tv_buffer_seal_commit(a->buf, p->seal) == 0) {
			atomic_fetch_add(&a->m.raw_bytes, p->raw_bytes);
			atomic_fetch_add(&a->m.compressed_bytes, p->compressed_bytes);
			tv_debug("sealed segment %" PRIu64 ": %" PRIu64 " packets", p->seq, p->packets);
		} else {
			/* its files stay in open/, salvaged at the next start */
			atomic_fetch_add(&a->m.write_errors, 1);
			tv_error("sealing segment %" PRIu64 ": %s", p->seq, tv_errmsg());
		}
		pthread_mutex_lock(&sl->lock);
		fifo_pop(&sl->segs);
		atomic_store(&a->m.seals_pending, sl->segs.depth);
		pthread_cond_broadcast(&sl->changed);
		free(p);
	}
	pthread_mutex_unlock(&sl->lock);
	return NULL;
}

static int open_segment(struct agent *a, uint64_t created_ns)
{
	struct tv_seg_writer_opts o = {.zstd_level = (int)a->cfg->zstd_level, .defer_fsync = true};
	snprintf(o.meta.node, sizeof(o.meta.node), "%s", a->cfg->node);
	o.meta.seq = a->seq;
	o.meta.created_ns = created_ns;
	memcpy(o.meta.prev_sha, a->prev_sha, TV_SHA256_LEN);
	struct tv_iface ifaces[TV_AGENT_MAX_IFACES];
	for (uint32_t i = 0; i < a->m.niface; i++)
		tv_capture_iface(a->cap, i, &ifaces[i]);
	int rc = tv_buffer_open_paths(a->buf, created_ns, a->seq, &a->data_path, &a->events_path);
	if (rc)
		return tv_err(rc, "out of memory");
	if ((rc = tv_seg_writer_open(&a->w, a->data_path, &o, ifaces, a->m.niface)))
		return rc;
	a->level = o.zstd_level;
	atomic_store(&a->m.zstd_level, (int64_t)a->level);
	/* Kubernetes and OS state arrive with their issues; the record is there now. */
	if ((rc = tv_events_writer_open(&a->ev, a->events_path, created_ns, NULL, 0, NULL, 0)))
		return rc;
	a->seg_last_ts = 0;
	return 0;
}

static void drop_segment_state(struct agent *a)
{
	tv_seg_writer_free(a->w);
	tv_events_writer_free(a->ev);
	free(a->data_path);
	free(a->events_path);
	a->w = NULL;
	a->ev = NULL;
	a->data_path = a->events_path = NULL;
}

static int seal_segment(struct agent *a, const struct chunk *c, uint64_t end_ns)
{
	for (uint32_t i = 0; i < a->m.niface; i++)
		tv_seg_writer_set_drops(a->w, i, c->drops_kernel[i], c->drops_iface[i]);
	struct tv_index idx;
	int rc = tv_events_writer_close(a->ev);
	if (!rc)
		rc = tv_seg_writer_finish(a->w, end_ns, a->events_path, &idx);
	if (!rc) {
		struct pending_seal *p = calloc(1, sizeof(*p));
		rc = p ? tv_buffer_seal_prepare(a->buf, &idx, a->data_path, a->events_path, a->prev_sha,
						&p->seal)
		       : tv_err(-ENOMEM, "out of memory");
		if (!rc) {
			a->seq = idx.seq + 1;
			p->seq = idx.seq;
			p->packets = idx.packets;
			p->raw_bytes = idx.data_raw_size;
			p->compressed_bytes = idx.data_size;
			sealer_push(a, p);
		} else {
			free(p);
		}
		tv_index_cleanup(&idx);
	}
	drop_segment_state(a);
	return rc;
}

/* After a write error (full disk, I/O): what reached the disk is salvaged at
 * the next start; the segment is abandoned and, for a second, chunks are
 * dropped and counted instead of retried, so a failing disk is neither
 * hammered nor allowed to stall shutdown. */
static void abandon_segment(struct agent *a, const struct chunk *c)
{
	atomic_fetch_add(&a->m.write_errors, 1);
	atomic_fetch_add(&a->m.packets_lost_to_errors, c->packets);
	tv_error("writer: %s; %u packets dropped, segment abandoned (salvaged at next start)", tv_errmsg(),
		 c->packets);
	drop_segment_state(a);
	a->seq++; /* the abandoned file keeps its number */
	a->retry_after = tv_mono_ns() + 1000000000ULL;
}

/* Picks the zstd level for the next chunk from the backlog, with hysteresis
 * (back to the configured level only once the queue is nearly empty). A
 * replay waits for the writer instead of losing packets, so it keeps the
 * configured level (and stores what a live agent that kept up would). */
static void adapt_level(struct agent *a)
{
	if (tv_capture_is_replay(a->cap))
		return;
	uint64_t depth = atomic_load(&a->m.queue_depth);
	int level = a->level;
	if (depth >= BACKLOG_FASTEST)
		level = LEVEL_FASTEST;
	else if (depth >= BACKLOG_FAST && level > LEVEL_FAST)
		level = LEVEL_FAST;
	else if (depth <= 1)
		level = (int)a->cfg->zstd_level;
	if (level != a->level && a->w && tv_seg_writer_set_level(a->w, level) == 0) {
		tv_debug("writer backlog %" PRIu64 " chunks: zstd level %d", depth, level);
		a->level = level;
		atomic_store(&a->m.zstd_level, (int64_t)level);
	}
}

static int write_chunk(struct agent *a, const struct chunk *c)
{
	bool replay = tv_capture_is_replay(a->cap);
	int rc;
	if (!a->w && (c->packets || !replay)) {
		uint64_t created = replay ? c->first_ts : a->next_created;
		if ((rc = open_segment(a, created)))
			return rc;
	}
	if (!a->w)
		return 0;
	if (c->buf.len) {
		adapt_level(a);
		/* worst case the chunk does not compress: room for all of it */
		while ((rc = tv_buffer_make_room(a->buf, tv_seg_writer_data_bytes(a->w) + c->buf.len +
								 SEAL_RESERVE)) == -EBUSY)
			sealer_wait_one(a); /* what is left is being sealed */
		if (rc)
			return rc;
		if ((rc = tv_seg_writer_add_blocks(a->w, c->buf.data, c->buf.len)))
			return rc;
		if (tv_events_writer_flush(a->ev))
			return -EIO;
		a->seg_last_ts = c->last_ts;
	}
	if (c->seal_after) {
		/* live segments tile time: this one ends where the next begins */
		a->next_created = c->seal_at;
		return seal_segment(a, c, replay ? a->seg_last_ts + 1 : c->seal_at);
	}
	return 0;
}

static void *writer_thread(void *arg)
{
	struct agent *a = arg;
	pthread_setname_np(pthread_self(), "tv-writer");
	struct chunk *c;
	while ((c = queue_pop(a))) {
		if (tv_mono_ns() < a->retry_after) {
			atomic_fetch_add(&a->m.packets_lost_to_errors, c->packets);
		} else if (write_chunk(a, c)) {
			abandon_segment(a, c);
		}
		chunk_put(a, c);
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
		rc = tv_buffer_salvage(a->buf);
	if (!rc)
		rc = tv_buffer_make_room(a->buf, 0);
	bool found;
	if (!rc)
		rc = tv_buffer_chain_tail(a->buf, cfg->node, &found, &a->seq, a->prev_sha);
	if (rc)
		return rc;
	a->seq = found ? a->seq + 1 : 0;
	if ((rc = tv_capture_open(&a->cap, &co)))
		return rc;
	a->m.niface = tv_capture_niface(a->cap);
	for (uint32_t i = 0; i < a->m.niface; i++) {
		struct tv_iface f;
		tv_capture_iface(a->cap, i, &f);
		snprintf(a->m.iface_names[i], sizeof(a->m.iface_names[i]), "%s", f.name);
	}
	/* tap.capture.raw.enabled=false keeps the agent up without capturing */
	atomic_store(&a->want_pause, cfg->stopped || !cfg->raw_enabled);
	if (!cfg->raw_enabled)
		tv_info("tap.capture.raw.enabled is false: not capturing packets");
	return 0;
}

static void render(void *ctx, struct tv_buf *out)
{
	struct agent *a = ctx;
	struct tv_buffer_stats bs;
	tv_buffer_get_stats(a->buf, &bs);
	tv_metrics_render(&a->m, &bs, tv_buffer_cap(a->buf), out);
}

int tv_agent_run(struct tv_agent_config *cfg, const struct tv_agent_run_opts *opts)
{
	struct agent *a = calloc(1, sizeof(*a));
	if (!a)
		return tv_err(-ENOMEM, "out of memory");
	a->cfg = cfg;
	a->opts = opts;
	pthread_mutex_init(&a->q.lock, NULL);
	a->q.max_depth = cfg->queue_size / CHUNK_BYTES;
	pthread_mutex_init(&a->sl.lock, NULL);
	pthread_cond_init(&a->sl.changed, NULL);
	pthread_cond_init(&a->q.nonempty, NULL);
	pthread_cond_init(&a->q.nonfull, NULL);
	struct tv_metrics_server *ms = NULL;
	int rc = start(a);
	if (!rc && cfg->metrics_addr && cfg->metrics_addr[0])
		rc = tv_metrics_server_start(&ms, cfg->metrics_addr, render, a);
	if (rc)
		goto out;
	/* Signals are taken by this thread only (sigwait), so block them first. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	a->cur = chunk_get(a);
	a->next_created = tv_now_ns();
	/* The capture thread does little work but must run when the ring fills,
	 * also on a busy node: it is started at a higher priority (nice, needs
	 * CAP_SYS_NICE, hence before the capabilities go); the other threads
	 * run at the normal one. Threads inherit the creator's nice value. */
	bool boosted = setpriority(PRIO_PROCESS, 0, CAPTURE_NICE) == 0;
	if (getuid() == 0 || geteuid() == 0)
		drop_privileges(!tv_capture_is_replay(a->cap));
	/* logged first: a->seq belongs to the writer once it runs */
	tv_info("capturing on %u interface(s) into %s (cap %" PRIu64 " bytes), node %s, segment %" PRIu64,
		a->m.niface, cfg->buffer_dir, cfg->storage_size, cfg->node, a->seq);
	pthread_t ct, wt, st;
	pthread_create(&ct, NULL, capture_thread, a);
	if (boosted)
		setpriority(PRIO_PROCESS, 0, 0);
	pthread_create(&wt, NULL, writer_thread, a);
	pthread_create(&st, NULL, sealer_thread, a);
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
	pthread_join(wt, NULL);
	sealer_close(a); /* after sealing what was written */
	pthread_join(st, NULL);
	rc = a->capture_rc ? tv_err(a->capture_rc, "%s", a->capture_err) : 0;
out:
	tv_metrics_server_stop(ms);
	if (a->w) /* a failed start leaves nothing open; a failed writer left it for salvage */
		drop_segment_state(a);
	for (struct chunk *c = (struct chunk *)a->q.free_list, *n; c; c = n) {
		n = (struct chunk *)c->link.next;
		tv_buf_cleanup(&c->buf);
		free(c);
	}
	tv_capture_free(a->cap);
	tv_buffer_free(a->buf);
	free(a);
	return rc;
}
