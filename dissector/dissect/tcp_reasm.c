/* SPDX-License-Identifier: Apache-2.0 */
/* tcp_reasm: see tcp_reasm.h. */
#include "dissector/dissect/tcp_reasm.h"

#include <stdlib.h>
#include <string.h>

#include "archive/decode.h"

struct tv_reasm_seg {
	struct tv_reasm_seg *next;
	uint32_t seq;
	size_t len;
	uint8_t data[];
};

/* Serial-number arithmetic (RFC 1982) on 32-bit sequence numbers. */
static int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static void deliver(struct tv_reasm_dir *d, const uint8_t *p, size_t n, uint64_t ts,
		    const struct tv_reasm_sink *sink)
{
	if (!n)
		return;
	d->hole_acked_ts = 0; /* progress: any hole now is a new one */
	d->next_seq += (uint32_t)n;
	d->delivered += n;
	sink->data(sink->ctx, p, n, ts);
}

static void skip_gap(struct tv_reasm_dir *d, uint32_t to, uint64_t ts, const struct tv_reasm_sink *sink)
{
	int32_t missing = seq_diff(to, d->next_seq);
	if (missing <= 0)
		return;
	d->gap_bytes += (uint64_t)missing;
	d->next_seq = to;
	sink->gap(sink->ctx, (uint64_t)missing, ts);
}

/* Delivers the waiting segments that are now contiguous (trimming overlaps). */
static void drain(struct tv_reasm_dir *d, struct tv_reasm_budget *b, uint64_t ts,
		  const struct tv_reasm_sink *sink)
{
	while (d->waiting && seq_diff(d->waiting->seq, d->next_seq) <= 0) {
		struct tv_reasm_seg *s = d->waiting;
		d->waiting = s->next;
		int32_t old = seq_diff(d->next_seq, s->seq);
		if ((size_t)old < s->len)
			deliver(d, s->data + old, s->len - (size_t)old, ts, sink);
		d->waiting_bytes -= s->len;
		b->used -= s->len;
		free(s);
	}
}

/* Counts bytes of p (at seq) that differ from waiting copies of the same range. */
static void count_conflicts(struct tv_reasm_dir *d, uint32_t seq, const uint8_t *p, size_t n)
{
	for (struct tv_reasm_seg *s = d->waiting; s; s = s->next) {
		int32_t lo = seq_diff(seq, s->seq) > 0 ? seq_diff(seq, s->seq) : 0;
		int32_t hi_new = seq_diff(seq + (uint32_t)n, s->seq);
		int32_t hi = hi_new < (int32_t)s->len ? hi_new : (int32_t)s->len;
		for (int32_t i = lo; i < hi; i++)
			if (s->data[i] != p[seq_diff(s->seq + (uint32_t)i, seq)]) {
				d->conflicts++;
				break;
			}
	}
}

static void wait_for_hole(struct tv_reasm_dir *d, struct tv_reasm_budget *b, uint32_t seq, const uint8_t *p,
			  size_t n)
{
	count_conflicts(d, seq, p, n);
	struct tv_reasm_seg *s = malloc(sizeof(*s) + n);
	if (!s) {
		d->truncated = true;
		return;
	}
	s->seq = seq;
	s->len = n;
	memcpy(s->data, p, n);
	struct tv_reasm_seg **at = &d->waiting;
	while (*at && seq_diff((*at)->seq, seq) <= 0)
		at = &(*at)->next;
	s->next = *at;
	*at = s;
	d->waiting_bytes += n;
	b->used += n;
}

/* Over a cap: give up on the hole and go on with what waits. */
static void enforce_caps(struct tv_reasm_dir *d, struct tv_reasm_budget *b, uint64_t ts,
			 const struct tv_reasm_sink *sink)
{
	while (d->waiting && (d->waiting_bytes > b->stream_cap || b->used > b->cap)) {
		d->truncated = true;
		skip_gap(d, d->waiting->seq, ts, sink);
		drain(d, b, ts, sink);
	}
}

void tv_reasm_add(struct tv_reasm_dir *d, struct tv_reasm_budget *b, uint8_t flags, uint32_t seq,
		  const uint8_t *p, size_t n, uint64_t ts, const struct tv_reasm_sink *sink)
{
	if (flags & TV_TCP_SYN) {
		if (!d->started) {
			d->started = d->syn = true;
			d->isn = seq;
			d->next_seq = seq + 1;
		} else if (seq + 1 == d->next_seq) {
			d->syn = true; /* the SYN of a stream first seen mid-way, captured late */
			d->isn = seq;
		}
		/* A SYN elsewhere in a started stream is a new connection on the same
		 * ports (the engine starts a new one) or junk: never a silent jump. */
		seq++; /* SYN takes one sequence number; data after it is rare but legal */
	}
	if (!d->started) {
		if (!n && !(flags & TV_TCP_FIN))
			return; /* a pure ACK tells nothing of where the stream is */
		d->started = true;
		d->next_seq = seq;
	}
	if (flags & TV_TCP_FIN) {
		d->fin = true;
		d->fin_seq = seq + (uint32_t)n;
	}
	if (!n)
		return;
	int32_t ahead = seq_diff(seq, d->next_seq);
	if (ahead <= 0) {
		/* in order, or a retransmission that may carry some new bytes */
		if ((size_t)(-ahead) >= n)
			return;
		deliver(d, p + (-ahead), n - (size_t)(-ahead), ts, sink);
		drain(d, b, ts, sink);
	} else {
		wait_for_hole(d, b, seq, p, n);
		enforce_caps(d, b, ts, sink);
	}
}

void tv_reasm_acked(struct tv_reasm_dir *d, struct tv_reasm_budget *b, uint32_t ack, uint64_t ts,
		    const struct tv_reasm_sink *sink)
{
	/* Only a hole with data waiting behind it can be a capture loss, and only
	 * once it outlives the reorder window: an ACK for bytes not yet seen may
	 * just have been captured before them. */
	if (!d->started || !d->waiting || seq_diff(ack, d->waiting->seq) <= 0)
		return;
	if (!d->hole_acked_ts) {
		d->hole_acked_ts = ts ? ts : 1;
		return;
	}
	if (ts - d->hole_acked_ts < TV_REASM_REORDER_NS)
		return;
	while (d->waiting && seq_diff(ack, d->waiting->seq) > 0) {
		skip_gap(d, d->waiting->seq, ts, sink);
		drain(d, b, ts, sink);
	}
	d->hole_acked_ts = 0;
}

void tv_reasm_flush(struct tv_reasm_dir *d, struct tv_reasm_budget *b, uint64_t ts,
		    const struct tv_reasm_sink *sink)
{
	while (d->waiting) {
		skip_gap(d, d->waiting->seq, ts, sink);
		drain(d, b, ts, sink);
	}
}

void tv_reasm_free(struct tv_reasm_dir *d, struct tv_reasm_budget *b)
{
	while (d->waiting) {
		struct tv_reasm_seg *s = d->waiting;
		d->waiting = s->next;
		b->used -= s->len;
		free(s);
	}
	d->waiting_bytes = 0;
}
