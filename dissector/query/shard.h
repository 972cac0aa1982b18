/* SPDX-License-Identifier: Apache-2.0 */
/* shard: a deterministic slice I of N of a window, for dissection spread
 * over machines (`tapvault dissect --shard I/N`, one pod of an Indexed Job).
 *
 * The window is cut by bytes: the frames of every segment in it (the
 * indexes' frame tables) are laid out by time and N - 1 cuts put about the
 * same number of bytes in each slice. A connection belongs to the slice its
 * first packet in the window falls in, and that first packet is read off
 * the indexes' flow tables (min of ts_min over every segment of every node
 * that saw the 5-tuple), not guessed from a time lead-in: the shard that
 * owns a connection open across a cut reads it from its first packet to its
 * last, the next shard skips it. So every connection is dissected by exactly
 * one shard, whatever the N, and with the same packets an unsharded run
 * gives it. Computed from indexes only: nothing is decompressed. */
#ifndef TV_SHARD_H
#define TV_SHARD_H

#include <stdbool.h>
#include <stdint.h>

struct tv_window;

struct tv_shard_info {
	uint32_t index, count;
	uint64_t cut_from, cut_to;   /* this shard's slice: connections first seen in it */
	uint64_t read_from, read_to; /* the packets it must read: [first, last] of its connections */
	uint64_t flows, flows_owned;
	uint64_t bytes_window, bytes_slice; /* pcapng bytes of the frames laid out, in all and in the slice */
};

struct tv_shard;

/* Plans shard index of count over [from, to) from w's indexes (w opened
 * over that window). @return 0, -EINVAL (index >= count, count == 0) or
 * -ENOMEM, with a message. */
int tv_shard_plan(struct tv_shard **out, const struct tv_window *w, uint64_t from, uint64_t to,
		  uint32_t index, uint32_t count);
void tv_shard_free(struct tv_shard *s);
void tv_shard_info(const struct tv_shard *s, struct tv_shard_info *out);

/* @return true when the packet is this shard's: a TCP or UDP packet of a
 * connection it owns. A 5-tuple no index listed (past a writer's flow cap)
 * is given to the shard its hash names. Other packets are never a shard's:
 * nothing dissects them. */
bool tv_shard_owns(const struct tv_shard *s, uint16_t linktype, const uint8_t *pkt, uint32_t caplen);

/* Parses "I/N" (0 <= I < N <= 100000). @return 0 or -EINVAL. */
int tv_shard_parse(const char *text, uint32_t *index, uint32_t *count);

#endif
