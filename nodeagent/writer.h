/* SPDX-License-Identifier: Apache-2.0 */
/* writer: the agent's writer thread. It takes chunks from the queue,
 * compresses them into the open segment (zstd frames, SHA-256 as written),
 * keeps the buffer under its cap, and at each seal mark indexes the segment
 * and hands it to the sealer, continuing the node's hash chain.
 *
 * Under backlog it trades ratio for speed (losing packets is worse than
 * storing them less compressed): a fast level, then store-only frames; a
 * replay waits for it instead and keeps the configured level. Frames are
 * closed at least once a second (the crash bound). Its segment writers are
 * reused from one segment to the next. After a write error (disk full, I/O) the segment is
 * abandoned (salvaged at the next start) and for a second chunks are dropped
 * and counted rather than retried. */
#ifndef TV_AGENT_WRITER_H
#define TV_AGENT_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "archive/common/sha256.h"
#include "nodeagent/agent.h"
#include "nodeagent/buffer.h"
#include "nodeagent/capture.h"
#include "nodeagent/queue.h"
#include "nodeagent/sealer.h"

struct tv_seg_writer;
struct tv_events_writer;
struct tv_k8s_watch;
struct tv_os_layer;

struct tv_writer {
	/* set by the agent before the thread starts; none owned */
	const struct tv_agent_config *cfg;
	struct tv_capture *cap;
	struct tv_buffer *buf;
	struct tv_agent_metrics *m;
	struct tv_chunk_queue *q;
	struct tv_sealer *sealer;
	uint64_t seq;                       /* of the next segment */
	uint8_t prev_sha[TV_SHA256_LEN];    /* index SHA-256 of the node's last segment */
	uint64_t next_created;              /* live: where the next segment starts (the last seal) */
	uint8_t prev_key_id[TV_SHA256_LEN]; /* the key that signed the last segment (zero: unsigned) */
	const uint8_t *key_id;              /* the key signing the next ones (NULL: unsigned) */
	struct tv_k8s_watch *k8s;           /* Kubernetes state and changes (NULL: none) */
	struct tv_os_layer *os;             /* OS records (NULL: none) */
	struct tv_buf os_text;              /* OS records or live sockets on their way into the events */
	uint64_t os_lost_sealed;       /* OS records lost by the last seal (stream 0's index counts them) */
	const char *node;              /* what its segments are filed under (the stream's name) */
	unsigned stream, nstreams;     /* stream 0 also writes the Kubernetes changes */
	_Atomic uint64_t *queue_depth; /* of its queue */
	/* the thread's own */
	struct tv_seg_writer *w;
	struct tv_events_writer *ev;
	char *data_path, *events_path;
	uint64_t seg_last_ts;
	bool seg_open;            /* w and ev write the segment at data_path / events_path */
	uint64_t retry_after;     /* mono ns: after a write error, drop chunks until then */
	uint64_t unflushed_since; /* mono ns: packets added since the last frame flush (0: none) */
	uint64_t backlog_since;   /* mono ns: the queue has held a backlog since (0: none) */
	int level;                /* zstd level of the open segment's writer */
	bool store;               /* writing store-only frames */
	double mode_cost[3];      /* ns per pcapng byte at the configured level, the fast one, store-only */
};

/* The thread's body (arg: the struct tv_writer); returns when the queue is
 * closed and drained, every written segment handed to the sealer. */
void *tv_writer_thread(void *arg);
/* Frees what a failed writer left open (its files stay for salvage). */
void tv_writer_cleanup(struct tv_writer *w);

#endif
