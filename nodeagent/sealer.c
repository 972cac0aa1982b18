/* SPDX-License-Identifier: Apache-2.0 */
/* sealer: see sealer.h. */
#include "nodeagent/sealer.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/log.h"

void tv_sealer_init(struct tv_sealer *s, struct tv_buffer *buf, struct tv_agent_metrics *m)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	s->buf = buf;
	s->m = m;
}

void tv_sealer_cleanup(struct tv_sealer *s)
{
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
}

void tv_sealer_push(struct tv_sealer *s, struct tv_pending_seal *p)
{
	pthread_mutex_lock(&s->lock);
	while (s->segs.depth >= TV_SEALS_PENDING_MAX)
		pthread_cond_wait(&s->changed, &s->lock);
	tv_fifo_push(&s->segs, &p->link);
	atomic_store(&s->m->seals_pending, s->segs.depth);
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
}

void tv_sealer_wait_one(struct tv_sealer *s)
{
	pthread_mutex_lock(&s->lock);
	size_t depth = s->segs.depth;
	while (s->segs.depth && s->segs.depth >= depth)
		pthread_cond_wait(&s->changed, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

void tv_sealer_close(struct tv_sealer *s)
{
	pthread_mutex_lock(&s->lock);
	s->closed = true;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
}

static void seal_one(struct tv_sealer *s, struct tv_pending_seal *p)
{
	if (tv_buffer_seal_commit(s->buf, p->seal) == 0) {
		atomic_fetch_add(&s->m->raw_bytes, p->raw_bytes);
		atomic_fetch_add(&s->m->compressed_bytes, p->compressed_bytes);
		tv_debug("sealed segment %" PRIu64 ": %" PRIu64 " packets", p->seq, p->packets);
	} else {
		/* its files stay in open/, salvaged at the next start */
		atomic_fetch_add(&s->m->write_errors, 1);
		tv_error("sealing segment %" PRIu64 ": %s", p->seq, tv_errmsg());
	}
}

void *tv_sealer_thread(void *arg)
{
	struct tv_sealer *s = arg;
	pthread_setname_np(pthread_self(), "tv-seal");
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->segs.head && !s->closed)
			pthread_cond_wait(&s->changed, &s->lock);
		struct tv_pending_seal *p = (struct tv_pending_seal *)s->segs.head;
		if (!p)
			break;
		pthread_mutex_unlock(&s->lock);
		seal_one(s, p);
		pthread_mutex_lock(&s->lock);
		tv_fifo_pop(&s->segs);
		atomic_store(&s->m->seals_pending, s->segs.depth);
		pthread_cond_broadcast(&s->changed);
		free(p);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}
