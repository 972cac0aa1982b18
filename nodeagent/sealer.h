/* SPDX-License-Identifier: Apache-2.0 */
/* sealer: the agent's sealing thread. Sealing fsyncs the data file, and at
 * rates above the disk's the flush of a 128 MiB segment stalled the writer
 * long enough for the capture ring to overflow (kernel drops at 5 Gbit/s on a
 * 400 MB/s disk). The writer hands the flush, the index write and the renames
 * to this thread and goes on with the next segment; the page cache absorbs
 * bursts, as it does for tcpdump, while every sealed segment is durable.
 * At most TV_SEALS_PENDING_MAX segments wait: that bounds the page cache they
 * hold and the time SIGTERM takes to seal everything. */
#ifndef TV_AGENT_SEALER_H
#define TV_AGENT_SEALER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "nodeagent/agent.h"
#include "nodeagent/buffer.h"
#include "nodeagent/queue.h"

#define TV_SEALS_PENDING_MAX 2

/* A segment written and indexed, waiting to be flushed and moved into place. */
struct tv_pending_seal {
	struct tv_link link; /* first */
	struct tv_buffer_seal *seal;
	uint64_t seq, packets, raw_bytes, compressed_bytes;
};

struct tv_sealer {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct tv_fifo segs; /* the head is being sealed; it leaves the FIFO once sealed */
	bool closed;
	struct tv_buffer *buf;      /* not owned */
	struct tv_agent_metrics *m; /* not owned */
};

void tv_sealer_init(struct tv_sealer *s, struct tv_buffer *buf, struct tv_agent_metrics *m);
void tv_sealer_cleanup(struct tv_sealer *s);
/* Queues p (ownership taken), waiting while TV_SEALS_PENDING_MAX wait. */
void tv_sealer_push(struct tv_sealer *s, struct tv_pending_seal *p);
/* Waits until at least one more segment is sealed (or none is pending). */
void tv_sealer_wait_one(struct tv_sealer *s);
/* The thread ends once everything queued is sealed. */
void tv_sealer_close(struct tv_sealer *s);
/* The thread's body (arg: the struct tv_sealer). */
void *tv_sealer_thread(void *arg);

#endif
