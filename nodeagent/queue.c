/* SPDX-License-Identifier: Apache-2.0 */
/* queue: see queue.h. */
#include "nodeagent/queue.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/common/timeutil.h"
#include "archive/segment.h"

void tv_fifo_push(struct tv_fifo *f, struct tv_link *l)
{
	l->next = NULL;
	if (f->tail)
		f->tail->next = l;
	else
		f->head = l;
	f->tail = l;
	f->depth++;
}

struct tv_link *tv_fifo_pop(struct tv_fifo *f)
{
	struct tv_link *l = f->head;
	if (l) {
		f->head = l->next;
		if (!f->head)
			f->tail = NULL;
		f->depth--;
	}
	return l;
}

static struct tv_chunk *chunk_new(void);

#define WARM_NOW 8 /* chunks touched before the capture starts */

static void *warm_rest(void *arg)
{
	struct tv_chunk_queue *q = arg;
	for (size_t i = 0; i < q->to_warm && !atomic_load(&q->stop_warming); i++) {
		struct tv_chunk *c = chunk_new();
		if (!c)
			break; /* tv_chunk_get allocates on demand */
		memset(c->buf.data, 0, c->buf.cap);
		pthread_mutex_lock(&q->lock);
		c->link.next = q->free_list;
		q->free_list = &c->link;
		pthread_mutex_unlock(&q->lock);
	}
	return NULL;
}

int tv_chunk_queue_init(struct tv_chunk_queue *q, size_t max_depth, _Atomic uint64_t *depth_metric)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* for pop_timed */
	pthread_cond_init(&q->nonempty, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&q->nonfull, NULL);
	q->max_depth = max_depth;
	q->depth_metric = depth_metric;
	size_t now = max_depth + 2 < WARM_NOW ? max_depth + 2 : WARM_NOW;
	for (size_t i = 0; i < now; i++) {
		struct tv_chunk *c = chunk_new();
		if (!c)
			return -ENOMEM;
		memset(c->buf.data, 0, c->buf.cap); /* the first touch, now rather than under load */
		c->link.next = q->free_list;
		q->free_list = &c->link;
	}
	q->to_warm = max_depth + 2 - now;
	q->warming = q->to_warm && pthread_create(&q->warmer, NULL, warm_rest, q) == 0;
	return 0;
}

void tv_chunk_queue_cleanup(struct tv_chunk_queue *q)
{
	if (q->warming) {
		atomic_store(&q->stop_warming, true);
		pthread_join(q->warmer, NULL);
		q->warming = false;
	}
	for (struct tv_link *l = q->free_list, *n; l; l = n) {
		n = l->next;
		struct tv_chunk *c = (struct tv_chunk *)l;
		tv_buf_cleanup(&c->buf);
		free(c);
	}
	q->free_list = NULL;
	pthread_cond_destroy(&q->nonempty);
	pthread_cond_destroy(&q->nonfull);
	pthread_mutex_destroy(&q->lock);
}

static struct tv_chunk *chunk_new(void)
{
	struct tv_chunk *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	tv_buf_init(&c->buf, TV_CHUNK_BYTES + TV_MAX_PACKET + 64);
	if (tv_buf_reserve(&c->buf, TV_CHUNK_BYTES + TV_MAX_PACKET + 64)) {
		free(c);
		return NULL;
	}
	return c;
}

struct tv_chunk *tv_chunk_get(struct tv_chunk_queue *q)
{
	pthread_mutex_lock(&q->lock);
	struct tv_chunk *c = (struct tv_chunk *)q->free_list;
	if (c)
		q->free_list = c->link.next;
	pthread_mutex_unlock(&q->lock);
	if (!c && !(c = chunk_new()))
		return NULL;
	struct tv_buf keep = c->buf;
	memset(c, 0, sizeof(*c));
	c->buf = keep;
	tv_buf_reset(&c->buf);
	return c;
}

void tv_chunk_put(struct tv_chunk_queue *q, struct tv_chunk *c)
{
	tv_iface_table_unref(c->ifaces);
	c->ifaces = NULL;
	json_decref(c->capture);
	c->capture = NULL;
	pthread_mutex_lock(&q->lock);
	c->link.next = q->free_list;
	q->free_list = &c->link;
	pthread_mutex_unlock(&q->lock);
}

static void publish_depth(struct tv_chunk_queue *q)
{
	if (q->depth_metric)
		atomic_store(q->depth_metric, q->chunks.depth);
}

void tv_chunk_queue_push(struct tv_chunk_queue *q, struct tv_chunk *c)
{
	pthread_mutex_lock(&q->lock);
	while (q->chunks.depth >= q->max_depth)
		pthread_cond_wait(&q->nonfull, &q->lock);
	tv_fifo_push(&q->chunks, &c->link);
	publish_depth(q);
	pthread_cond_signal(&q->nonempty);
	pthread_mutex_unlock(&q->lock);
}

struct tv_chunk *tv_chunk_queue_pop_timed(struct tv_chunk_queue *q, uint64_t timeout_ns, bool *closed)
{
	struct timespec until = tv_deadline(CLOCK_MONOTONIC, timeout_ns); /* the condition's clock */
	pthread_mutex_lock(&q->lock);
	while (!q->chunks.head && !q->closed)
		if (pthread_cond_timedwait(&q->nonempty, &q->lock, &until) == ETIMEDOUT)
			break;
	struct tv_chunk *c = (struct tv_chunk *)tv_fifo_pop(&q->chunks);
	if (c) {
		publish_depth(q);
		pthread_cond_signal(&q->nonfull);
	}
	*closed = !c && q->closed;
	pthread_mutex_unlock(&q->lock);
	return c;
}

void tv_chunk_queue_close(struct tv_chunk_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->nonempty);
	pthread_mutex_unlock(&q->lock);
}

struct tv_iface_table *tv_iface_table_new(const struct tv_iface *v, uint32_t n)
{
	if (n > TV_AGENT_MAX_IFACES)
		return NULL;
	struct tv_iface_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	atomic_init(&t->refs, 1);
	t->n = n;
	memcpy(t->v, v, n * sizeof(*v));
	return t;
}

struct tv_iface_table *tv_iface_table_ref(struct tv_iface_table *t)
{
	if (t)
		atomic_fetch_add(&t->refs, 1);
	return t;
}

void tv_iface_table_unref(struct tv_iface_table *t)
{
	if (t && atomic_fetch_sub(&t->refs, 1) == 1)
		free(t);
}
