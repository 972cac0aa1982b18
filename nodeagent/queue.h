/* SPDX-License-Identifier: Apache-2.0 */
/* queue: the capture thread's 1 MiB chunks of EPBs on their way to the
 * writer, and the intrusive FIFO that also carries segments to the sealer.
 *
 * The queue is bounded (agent.queueSize in chunks): a full queue holds the
 * capture thread, so the kernel ring absorbs the burst. Every chunk is
 * allocated and touched at start (a first touch costs ~3.5 s/GB on some VMs,
 * exactly when the writer is behind) and comes from the free list after. */
#ifndef TV_AGENT_QUEUE_H
#define TV_AGENT_QUEUE_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/common/buf.h"
#include "archive/pcapng.h"
#include "nodeagent/agent.h"

#define TV_CHUNK_BYTES ((size_t)1 << 20)

/* A FIFO of items whose first member is a struct tv_link; callers lock. */
struct tv_link {
	struct tv_link *next;
};

struct tv_fifo {
	struct tv_link *head, *tail;
	size_t depth;
};

void tv_fifo_push(struct tv_fifo *f, struct tv_link *l);
/* @return the oldest item, or NULL when empty. */
struct tv_link *tv_fifo_pop(struct tv_fifo *f);

/* The interfaces a chunk's packets are numbered by (EPB interface ids):
 * immutable once published, shared by reference. The capture thread makes a
 * new one when the interfaces change, and seals the segment first, so every
 * chunk of a segment has the same table: the one its IDBs list. */
struct tv_iface_table {
	_Atomic uint32_t refs;
	uint32_t n;
	struct tv_iface v[TV_AGENT_MAX_IFACES];
};
/* A table of n interfaces (v copied), one reference. @return NULL when out of memory. */
struct tv_iface_table *tv_iface_table_new(const struct tv_iface *v, uint32_t n);
struct tv_iface_table *tv_iface_table_ref(struct tv_iface_table *t);
void tv_iface_table_unref(struct tv_iface_table *t);

struct tv_chunk {
	struct tv_link link; /* first: in the queue or the free list */
	struct tv_buf buf;   /* EPBs, at most TV_CHUNK_BYTES plus one packet */
	uint32_t packets;
	uint64_t first_ts, last_ts;
	struct tv_iface_table *ifaces; /* a reference; what the packets' interface ids mean */
	json_t *capture;               /* a `capture` events record to write before the packets (or NULL) */
	bool seal_after;
	uint64_t seal_at; /* with seal_after: the segment's end and the next one's start */
	uint64_t drops_kernel[TV_AGENT_MAX_IFACES]; /* with seal_after: deltas for the segment */
	uint64_t drops_iface[TV_AGENT_MAX_IFACES];
};

struct tv_chunk_queue {
	pthread_mutex_t lock;
	pthread_cond_t nonempty, nonfull;
	struct tv_fifo chunks;
	struct tv_link *free_list;
	size_t max_depth; /* a full queue holds the capture thread */
	bool closed;
	_Atomic uint64_t *depth_metric; /* updated on every push and pop; may be NULL */
	/* the chunks past the first few, pre-faulted on a thread of their own */
	pthread_t warmer;
	bool warming;
	atomic_bool stop_warming;
	size_t to_warm;
};

/* Allocates and pre-faults max_depth + 2 chunks (one being filled, one
 * being written): the first few now, the rest on a thread that adds each
 * to the free list once touched, so the agent starts capturing ~0.5 s
 * sooner (a restart's gap) while the first touch of the rest still
 * happens before the queue needs them. @return 0 or -ENOMEM. */
int tv_chunk_queue_init(struct tv_chunk_queue *q, size_t max_depth, _Atomic uint64_t *depth_metric);
/* Frees the chunks of the free list (the queue must be drained). */
void tv_chunk_queue_cleanup(struct tv_chunk_queue *q);

/* An empty chunk, from the free list or allocated. @return NULL when out of memory. */
struct tv_chunk *tv_chunk_get(struct tv_chunk_queue *q);
/* Back to the free list. */
void tv_chunk_put(struct tv_chunk_queue *q, struct tv_chunk *c);

/* Appends c, waiting while the queue is full. */
void tv_chunk_queue_push(struct tv_chunk_queue *q, struct tv_chunk *c);
/* The oldest chunk, waiting at most timeout_ns for one: NULL on a timeout,
 * and once closed and drained (*closed tells the two apart). */
struct tv_chunk *tv_chunk_queue_pop_timed(struct tv_chunk_queue *q, uint64_t timeout_ns, bool *closed);
/* No more pushes: pop returns NULL once the queue is empty. */
void tv_chunk_queue_close(struct tv_chunk_queue *q);

#endif
