/* SPDX-License-Identifier: Apache-2.0 */
/* writer: see writer.h. */
#include "nodeagent/writer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "archive/common/timeutil.h"
#include "archive/events.h"
#include "archive/segment.h"
#include "nodeagent/k8s_watch.h"
#include "nodeagent/os_layer.h"

/* Backlog (queued chunks) beyond which the writer trades ratio for speed:
 * losing packets is worse than storing them less compressed. */
#define BACKLOG_FAST 4
#define BACKLOG_STORE 32
#define BACKLOG_STORE_NS 1000000000ULL
#define LEVEL_FAST (-5)
/* An open frame is closed (made crash-safe) at least this often. */
#define FLUSH_NS 1000000000ULL
/* Room kept for what sealing adds (index, events) beyond the data written. */
#define SEAL_RESERVE ((uint64_t)256 << 10)

/* The segment's interfaces are those of the chunk that opens it (every
 * chunk of a segment has the same table). */
static int open_segment(struct tv_writer *wr, uint64_t created_ns, const struct tv_iface_table *ifaces)
{
	struct tv_seg_writer_opts o = {
		.zstd_level = (int)wr->cfg->zstd_level, .defer_fsync = true, .direct_io = wr->cfg->direct_io};
	snprintf(o.meta.node, sizeof(o.meta.node), "%s", wr->node);
	o.meta.seq = wr->seq;
	o.meta.created_ns = created_ns;
	memcpy(o.meta.prev_sha, wr->prev_sha, TV_SHA256_LEN);
	int rc = tv_buffer_open_paths(wr->buf, created_ns, wr->seq, wr->stream, &wr->data_path,
				      &wr->events_path);
	if (rc)
		return tv_err(rc, "out of memory");
	/* the writers of the last segment are reused: no allocation, no page faults */
	rc = wr->w ? tv_seg_writer_recycle(wr->w, wr->data_path, &o, ifaces->v, ifaces->n)
		   : tv_seg_writer_open(&wr->w, wr->data_path, &o, ifaces->v, ifaces->n);
	if (rc)
		return rc;
	wr->seg_open = true;
	/* a segment starts at the configured level; a backlog carried over steps down again */
	wr->level = o.zstd_level;
	wr->store = false;
	tv_seg_writer_set_store(wr->w, false);
	atomic_store(&wr->m->zstd_level, (int64_t)wr->level);
	/* The segment is readable alone: its events start with the whole
	 * Kubernetes state. Records still pending came after the last seal, in
	 * this segment's time (live segments tile it; this one is opened by its
	 * first chunk): they follow the state, which may hold them already. */
	json_t *state = wr->k8s ? tv_k8s_watch_state(wr->k8s) : NULL;
	tv_os_layer_sockets(wr->os, &wr->os_text); /* with their processes */
	const struct tv_buf *sockets = wr->os ? &wr->os_text : NULL;
	/* stamped when taken, not with the segment's start: the map already
	 * holds what happened since (a pod deleted and its IP given to another
	 * one), and a reader replays records by time */
	uint64_t state_ts = state || sockets ? tv_now_ns() : created_ns;
	rc = wr->ev ? tv_events_writer_recycle_state(wr->ev, wr->events_path, state_ts, state, sockets)
		    : tv_events_writer_open_state(&wr->ev, wr->events_path, state_ts, state, sockets);
	json_decref(state);
	if (rc)
		return rc;
	wr->seg_last_ts = 0;
	wr->unflushed_since = 0;
	return 0;
}

/* The open segment is done with (sealed or abandoned): its writers stay for the next one. */
static void close_segment(struct tv_writer *wr)
{
	wr->seg_open = false;
	free(wr->data_path);
	free(wr->events_path);
	wr->data_path = wr->events_path = NULL;
}

void tv_writer_cleanup(struct tv_writer *wr)
{
	close_segment(wr);
	tv_seg_writer_free(wr->w);
	tv_events_writer_free(wr->ev);
	tv_buf_cleanup(&wr->os_text);
	wr->w = NULL;
	wr->ev = NULL;
}

/* The Kubernetes records since the last call, into the open segment's events. */
static int write_records(struct tv_writer *wr, json_t *recs)
{
	size_t i;
	json_t *r;
	int rc = 0;
	json_array_foreach (recs, i, r) {
		rc = tv_events_write_json(wr->ev, json_incref(r));
		if (rc == -EINVAL) /* a bad record is skipped, the others written */
			tv_warn("writer: a record skipped: %s", tv_errmsg());
		else if (rc)
			break;
		rc = 0;
	}
	json_decref(recs);
	return rc;
}

/* The Kubernetes and OS records since the last call, into the open segment. */
static int write_layer_records(struct tv_writer *wr)
{
	/* one stream carries the changes and the OS records (draining takes
	 * them); every stream's segments start with the whole state */
	if (wr->stream != 0)
		return 0;
	int rc = wr->k8s ? write_records(wr, tv_k8s_watch_drain(wr->k8s)) : 0;
	if (!rc && wr->os) {
		tv_os_layer_drain(wr->os, &wr->os_text);
		rc = tv_events_write_lines(wr->ev, wr->os_text.data, wr->os_text.len);
	}
	return rc;
}

/* OS records lost (ring or queue full) since the last seal: what this
 * segment's index counts. */
static uint64_t os_lost_since_seal(struct tv_writer *wr)
{
	struct tv_os_layer_stats st;
	tv_os_layer_get_stats(wr->os, &st);
	uint64_t total = st.ring_drops + st.queue_drops, lost = total - wr->os_lost_sealed;
	wr->os_lost_sealed = total;
	return lost;
}

static int seal_segment(struct tv_writer *wr, const struct tv_chunk *c, uint64_t end_ns)
{
	int k = write_layer_records(wr);
	if (k)
		return k;
	for (uint32_t i = 0; c->ifaces && i < c->ifaces->n; i++)
		tv_seg_writer_set_drops(wr->w, i, c->drops_kernel[i], c->drops_iface[i]);
	struct tv_index idx;
	int rc = tv_events_writer_close_unsynced(wr->ev); /* the sealer syncs it */
	if (!rc)
		rc = tv_seg_writer_finish(wr->w, end_ns, wr->events_path, &idx);
	if (!rc) {
		/* a live agent's segments tile time; each names the key of the one before */
		if (!tv_capture_is_replay(wr->cap))
			idx.flags |= TV_INDEX_LIVE;
		if (wr->stream == 0) /* the stream that carries the OS records */
			idx.os_lost = os_lost_since_seal(wr);
		memcpy(idx.prev_key_id, wr->prev_key_id, TV_SHA256_LEN);
		struct tv_pending_seal *p = calloc(1, sizeof(*p));
		rc = p ? tv_buffer_seal_prepare(wr->buf, &idx, wr->data_path, wr->events_path, wr->prev_sha,
						&p->seal)
		       : tv_err(-ENOMEM, "out of memory");
		if (!rc) {
			wr->seq = idx.seq + 1;
			if (wr->key_id)
				memcpy(wr->prev_key_id, wr->key_id, TV_SHA256_LEN);
			p->seq = idx.seq;
			p->packets = idx.packets;
			p->raw_bytes = idx.data_raw_size;
			p->compressed_bytes = idx.data_size;
			tv_sealer_push(wr->sealer, p);
		} else {
			free(p);
		}
		tv_index_cleanup(&idx);
	}
	close_segment(wr);
	return rc;
}

/* What reached the disk is salvaged at the next start; see writer.h. */
static void abandon_segment(struct tv_writer *wr, const struct tv_chunk *c)
{
	atomic_fetch_add(&wr->m->write_errors, 1);
	atomic_fetch_add(&wr->m->packets_lost_to_errors, c->packets);
	tv_error("writer: %s; %u packets dropped, segment abandoned (salvaged at next start)", tv_errmsg(),
		 c->packets);
	tv_writer_cleanup(wr); /* fresh writers for the next segment: these may be mid-frame */
	wr->seq++;             /* the abandoned file keeps its number */
	wr->retry_after = tv_mono_ns() + 1000000000ULL;
}

/* The backlog policy: compress at the configured level while the writer
 * keeps up; with a backlog, step down to a fast level; once the backlog has
 * lasted BACKLOG_STORE_NS (or the queue is deep), write store-only frames —
 * unless they measured slower here than the fast level: storing every byte
 * also hashes every byte twice and sends it all to the disk, which for
 * traffic that compresses well costs more than compressing it. Each mode's
 * time per pcapng byte is measured on the chunks it writes (wall time, so a
 * writer held up by the disk counts too). Packets are never dropped for
 * compression's sake, and none waits in memory past the crash bound. A
 * replay waits for the writer instead, so it keeps the configured level (and
 * stores what a live agent that kept up would). */
enum {
	MODE_LEVEL,
	MODE_FAST,
	MODE_STORE
};

static int mode_of(const struct tv_writer *wr)
{
	return wr->store ? MODE_STORE : wr->level == (int)wr->cfg->zstd_level ? MODE_LEVEL : MODE_FAST;
}

/* The measured cost of mode m, ns per byte (0: not measured yet). */
static void measure(struct tv_writer *wr, int m, uint64_t ns, size_t bytes)
{
	double c = (double)ns / (double)(bytes ? bytes : 1);
	wr->mode_cost[m] = wr->mode_cost[m] > 0 ? 0.8 * wr->mode_cost[m] + 0.2 * c : c;
}

static bool store_pays(const struct tv_writer *wr)
{
	double store = wr->mode_cost[MODE_STORE], fast = wr->mode_cost[MODE_FAST];
	/* with a margin: both are measured under a backlog that varies */
	return store == 0 || fast == 0 || store < 0.8 * fast;
}

static void adapt_level(struct tv_writer *wr)
{
	if (tv_capture_is_replay(wr->cap) || !wr->w)
		return;
	uint64_t depth = atomic_load(wr->queue_depth), now = tv_mono_ns();
	if (depth >= BACKLOG_FAST && !wr->backlog_since)
		wr->backlog_since = now;
	else if (depth <= 1)
		wr->backlog_since = 0;
	int level = (int)wr->cfg->zstd_level;
	bool store = false;
	if (wr->backlog_since) {
		level = LEVEL_FAST < level ? LEVEL_FAST : level;
		store = (now - wr->backlog_since >= BACKLOG_STORE_NS || depth >= BACKLOG_STORE) &&
			store_pays(wr);
	}
	if (store != wr->store && tv_seg_writer_set_store(wr->w, store) == 0) {
		tv_debug("writer backlog %" PRIu64 " chunks: %s", depth,
			 store ? "store-only frames" : "compressing");
		wr->store = store;
		if (store)
			atomic_fetch_add(&wr->m->store_only_spells, 1);
	}
	if (level != wr->level && tv_seg_writer_set_level(wr->w, level) == 0) {
		tv_debug("writer backlog %" PRIu64 " chunks: zstd level %d", depth, level);
		wr->level = level;
	}
	atomic_store(&wr->m->zstd_level, wr->store ? 0 : (int64_t)wr->level);
}

static int write_chunk(struct tv_writer *wr, const struct tv_chunk *c)
{
	bool replay = tv_capture_is_replay(wr->cap);
	int rc;
	if (!wr->seg_open && (c->packets || !replay)) {
		uint64_t created = replay ? c->first_ts : wr->next_created;
		if ((rc = open_segment(wr, created, c->ifaces)))
			return rc;
	}
	if (!wr->seg_open)
		return 0;
	/* what the packets from here on were captured from (a segment's first chunk, or a change) */
	if (c->capture && (rc = tv_events_write_json(wr->ev, json_incref(c->capture))) && rc != -EINVAL)
		return rc;
	if (c->buf.len) {
		adapt_level(wr);
		/* worst case the chunk does not compress: room for all of it */
		/* every stream has a segment open: room for as much in each */
		uint64_t open = (tv_seg_writer_data_bytes(wr->w) + c->buf.len + SEAL_RESERVE) * wr->nstreams;
		while ((rc = tv_buffer_make_room(wr->buf, open)) == -EBUSY)
			tv_sealer_wait_one(wr->sealer); /* what is left is being sealed */
		if (rc)
			return rc;
		uint64_t t0 = tv_mono_ns();
		int mode = mode_of(wr);
		if ((rc = tv_seg_writer_add_blocks(wr->w, c->buf.data, c->buf.len)))
			return rc;
		measure(wr, mode, tv_mono_ns() - t0, c->buf.len);
		if (!wr->unflushed_since)
			wr->unflushed_since = tv_mono_ns();
		if (write_layer_records(wr) || tv_events_writer_flush(wr->ev))
			return -EIO;
		wr->seg_last_ts = c->last_ts;
	}
	if (c->seal_after) {
		/* live segments tile time: this one ends where the next begins */
		wr->next_created = c->seal_at;
		return seal_segment(wr, c, replay ? wr->seg_last_ts + 1 : c->seal_at);
	}
	return 0;
}

/* The crash bound: what was handed over a second ago is in a whole frame on disk. */
static int flush_due(struct tv_writer *wr)
{
	if (!wr->seg_open || !wr->unflushed_since || tv_mono_ns() - wr->unflushed_since < FLUSH_NS)
		return 0;
	wr->unflushed_since = 0;
	return tv_seg_writer_flush(wr->w);
}

void *tv_writer_thread(void *arg)
{
	struct tv_writer *wr = arg;
	pthread_setname_np(pthread_self(), "tv-writer");
	for (;;) {
		bool closed;
		struct tv_chunk *c = tv_chunk_queue_pop_timed(wr->q, FLUSH_NS / 4, &closed);
		if (!c && closed)
			break;
		if (c && tv_mono_ns() < wr->retry_after) {
			atomic_fetch_add(&wr->m->packets_lost_to_errors, c->packets);
		} else if (c && write_chunk(wr, c)) {
			abandon_segment(wr, c);
		} else if (flush_due(wr)) {
			struct tv_chunk none = {0};
			abandon_segment(wr, &none);
		}
		if (c)
			tv_chunk_put(wr->q, c);
	}
	return NULL;
}
