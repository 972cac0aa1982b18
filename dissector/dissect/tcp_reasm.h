/* SPDX-License-Identifier: Apache-2.0 */
/* tcp_reasm: one direction of a TCP connection turned back into its byte
 * stream.
 *
 * Bytes are delivered in sequence order, each once: a retransmission or an
 * overlap delivers only what is new (the first copy wins; overlapping bytes
 * that differ from a buffered copy are counted as conflicts). Segments that
 * arrive early wait in a sorted list until the hole before them fills. A hole
 * is never guessed over: it is reported as a gap (its length) and the stream
 * continues after it when (a) the peer acknowledged bytes past it for longer
 * than the reorder window (TV_REASM_REORDER_NS of packet time, so segments
 * merely captured out of order still fill it), so they were sent but not
 * captured, (b) the waiting bytes exceed the stream's cap,
 * or (c) the stream ends. Sequence numbers wrap (serial arithmetic). A stream
 * seen first mid-connection starts at its first segment. */
#ifndef TV_TCP_REASM_H
#define TV_TCP_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tv_reasm_sink {
	void (*data)(void *ctx, const uint8_t *p, size_t n, uint64_t ts);
	void (*gap)(void *ctx, uint64_t missing, uint64_t ts);
	void *ctx;
};

struct tv_reasm_seg; /* a waiting segment */

#define TV_REASM_REORDER_NS (200ULL * 1000000ULL)

struct tv_reasm_dir {
	bool started; /* next_seq is known */
	bool syn;     /* started from a SYN (not mid-stream) */
	bool fin;     /* FIN seen (at fin_seq) */
	uint32_t isn; /* the SYN's sequence number, when syn */
	uint32_t next_seq, fin_seq;
	struct tv_reasm_seg *waiting; /* sorted by seq */
	size_t waiting_bytes;
	uint64_t delivered, gap_bytes, conflicts;
	uint64_t hole_acked_ts; /* when the peer first acknowledged past the hole (0: not) */
	bool truncated;         /* the cap was hit at least once */
};

/* Memory shared by all streams of a dissection: a total cap. */
struct tv_reasm_budget {
	size_t used, cap;
	size_t stream_cap;
};

/* Feeds one segment (flags as in archive/decode.h). Delivers what became contiguous. */
void tv_reasm_add(struct tv_reasm_dir *d, struct tv_reasm_budget *b, uint8_t flags, uint32_t seq,
		  const uint8_t *p, size_t n, uint64_t ts, const struct tv_reasm_sink *sink);
/* The peer acknowledged up to ack: a hole before it will never be filled. */
void tv_reasm_acked(struct tv_reasm_dir *d, struct tv_reasm_budget *b, uint32_t ack, uint64_t ts,
		    const struct tv_reasm_sink *sink);
/* End of the stream (FIN/RST or end of input): delivers what waits, with gaps. */
void tv_reasm_flush(struct tv_reasm_dir *d, struct tv_reasm_budget *b, uint64_t ts,
		    const struct tv_reasm_sink *sink);
/* Frees what waits without delivering it. */
void tv_reasm_free(struct tv_reasm_dir *d, struct tv_reasm_budget *b);

#endif
