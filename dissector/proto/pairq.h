/* SPDX-License-Identifier: Apache-2.0 */
/* pairq: the request/response pairing queue every parser shares.
 *
 * Requests wait for their responses; a response pairs with the oldest
 * waiting request (TV_PAIRQ_ORDER: HTTP/1, Redis, pipelined protocols) or
 * with the oldest one of the same key (TV_PAIRQ_KEY: a DNS id, a Kafka
 * correlation id). A response that arrives first — its request was
 * captured out of order, or on another node whose clock runs behind — waits
 * on its own side, and the next request (of its key) takes it. Both sides
 * are capped: past the cap the oldest leaves alone (TV_PAIR_EVICTED). At the
 * end, tv_pairq_flush reports every request left (TV_PAIR_UNANSWERED), then
 * every response left (TV_PAIR_UNASKED), each in arrival order.
 *
 * Messages are the parser's (opaque pointers); the queue hands each one to
 * the callback exactly once, paired or alone. */
#ifndef TV_PAIRQ_H
#define TV_PAIRQ_H

#include <stddef.h>
#include <stdint.h>

enum tv_pairq_mode {
	TV_PAIRQ_ORDER,
	TV_PAIRQ_KEY,
};

enum tv_pair_why {
	TV_PAIR_MATCHED,    /* req and resp */
	TV_PAIR_EVICTED,    /* req or resp alone: the queue was full */
	TV_PAIR_UNANSWERED, /* req alone, at flush */
	TV_PAIR_UNASKED,    /* resp alone, at flush */
};

/* Called once per message: req or resp may be NULL (not both). */
typedef void (*tv_pair_fn)(void *ctx, void *req, void *resp, enum tv_pair_why why);

struct tv_pairq_item {
	uint64_t key;
	void *msg;
};

struct tv_pairq_side {
	struct tv_pairq_item *items; /* oldest first; allocated on first use */
	size_t n;
};

struct tv_pairq {
	enum tv_pairq_mode mode;
	size_t cap; /* per side */
	tv_pair_fn fn;
	void *ctx;
	struct tv_pairq_side req, resp;
};

/* cap: how many requests (and, apart, responses) may wait. */
void tv_pairq_init(struct tv_pairq *q, enum tv_pairq_mode mode, size_t cap, tv_pair_fn fn, void *ctx);
/* Frees the queue's memory; messages still in it are not reported (flush first). */
void tv_pairq_cleanup(struct tv_pairq *q);

/* A request (key ignored in order mode). Out of memory: reported alone as evicted. */
void tv_pairq_request(struct tv_pairq *q, uint64_t key, void *msg);
void tv_pairq_response(struct tv_pairq *q, uint64_t key, void *msg);
/* Every request left alone, then every response left alone. */
void tv_pairq_flush(struct tv_pairq *q);

/* Requests waiting, and the oldest of them (NULL when none), for parsers
 * whose next message depends on it (HTTP/1: a HEAD's response has no body). */
size_t tv_pairq_waiting(const struct tv_pairq *q);
void *tv_pairq_oldest(const struct tv_pairq *q);
/* Takes the oldest waiting request out without reporting it (NULL when none). */
void *tv_pairq_take_oldest(struct tv_pairq *q);

#endif
