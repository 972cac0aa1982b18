/* SPDX-License-Identifier: Apache-2.0 */
/* pairq: see pairq.h. Sides are small arrays kept in arrival order; removal
 * from the middle (a keyed match) shifts the tail, which at these caps
 * (hundreds) costs less than a hash table's bookkeeping. */
#include "dissector/proto/pairq.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void tv_pairq_init(struct tv_pairq *q, enum tv_pairq_mode mode, size_t cap, tv_pair_fn fn, void *ctx)
{
	memset(q, 0, sizeof(*q));
	q->mode = mode;
	q->cap = cap ? cap : 1;
	q->fn = fn;
	q->ctx = ctx;
}

void tv_pairq_cleanup(struct tv_pairq *q)
{
	free(q->req.items);
	free(q->resp.items);
	q->req = q->resp = (struct tv_pairq_side){0};
}

/* The position of the oldest item matching key, or -1. */
static long find(const struct tv_pairq *q, const struct tv_pairq_side *s, uint64_t key)
{
	if (!s->n)
		return -1;
	if (q->mode == TV_PAIRQ_ORDER)
		return 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->items[i].key == key)
			return (long)i;
	return -1;
}

static void *take(struct tv_pairq_side *s, size_t i)
{
	void *msg = s->items[i].msg;
	memmove(&s->items[i], &s->items[i + 1], (s->n - i - 1) * sizeof(s->items[0]));
	s->n--;
	return msg;
}

/* Appends to a side, evicting its oldest when full. @return false when out of memory. */
static bool push(struct tv_pairq *q, struct tv_pairq_side *s, uint64_t key, void *msg, bool is_req)
{
	if (!s->items && !(s->items = malloc(q->cap * sizeof(*s->items))))
		return false;
	if (s->n == q->cap) {
		void *old = take(s, 0);
		q->fn(q->ctx, is_req ? old : NULL, is_req ? NULL : old, TV_PAIR_EVICTED);
	}
	s->items[s->n++] = (struct tv_pairq_item){key, msg};
	return true;
}

void tv_pairq_request(struct tv_pairq *q, uint64_t key, void *msg)
{
	long i = find(q, &q->resp, key);
	if (i >= 0) {
		void *resp = take(&q->resp, (size_t)i);
		q->fn(q->ctx, msg, resp, TV_PAIR_MATCHED);
	} else if (!push(q, &q->req, key, msg, true)) {
		q->fn(q->ctx, msg, NULL, TV_PAIR_EVICTED);
	}
}

void tv_pairq_response(struct tv_pairq *q, uint64_t key, void *msg)
{
	long i = find(q, &q->req, key);
	if (i >= 0) {
		void *req = take(&q->req, (size_t)i);
		q->fn(q->ctx, req, msg, TV_PAIR_MATCHED);
	} else if (!push(q, &q->resp, key, msg, false)) {
		q->fn(q->ctx, NULL, msg, TV_PAIR_EVICTED);
	}
}

void tv_pairq_flush(struct tv_pairq *q)
{
	while (q->req.n)
		q->fn(q->ctx, take(&q->req, 0), NULL, TV_PAIR_UNANSWERED);
	while (q->resp.n)
		q->fn(q->ctx, NULL, take(&q->resp, 0), TV_PAIR_UNASKED);
}

size_t tv_pairq_waiting(const struct tv_pairq *q)
{
	return q->req.n;
}

void *tv_pairq_oldest(const struct tv_pairq *q)
{
	return q->req.n ? q->req.items[0].msg : NULL;
}

void *tv_pairq_take_oldest(struct tv_pairq *q)
{
	return q->req.n ? take(&q->req, 0) : NULL;
}
