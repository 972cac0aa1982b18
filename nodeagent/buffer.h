/* SPDX-License-Identifier: Apache-2.0 */
/* buffer: the node's rolling segment buffer, a directory laid out as
 * archive/bufdir.h says (a file:// store plus open/, .uploaded/, .corrupt/).
 * The buffer never exceeds its cap: before each write the agent asks for room,
 * and the oldest sealed segments go first, uploaded ones before ones still
 * waiting; each segment dropped before upload is counted and logged. */
#ifndef TV_BUFFER_H
#define TV_BUFFER_H

#include <stdbool.h>
#include <stdint.h>

#include "archive/index.h"

struct tv_buffer_stats {
	uint64_t sealed, recycled, lost, salvaged, corrupt;
	uint64_t sealed_bytes; /* bytes of sealed segments held */
	uint64_t segments;     /* sealed segments held */
};

struct tv_buffer;

/* Opens (creating) the buffer directory and indexes the sealed segments in it.
 * @return 0 or negative errno (message names the directory). */
int tv_buffer_open(struct tv_buffer **out, const char *dir, uint64_t cap);
void tv_buffer_free(struct tv_buffer *b);

/* Salvages every segment left in open/ by a crash and seals it; what cannot
 * be salvaged is moved to .corrupt/ and counted. @return 0 or an I/O error. */
int tv_buffer_salvage(struct tv_buffer *b);

/* The newest sealed segment of node: *found, its seq, index SHA-256 and
 * the key that signed it (zero when unsigned). */
int tv_buffer_chain_tail(struct tv_buffer *b, const char *node, bool *found, uint64_t *seq,
			 uint8_t sha[TV_SHA256_LEN], uint8_t key_id[TV_SHA256_LEN]);

/* Every index sealed from now on (and salvaged ones) is signed with s
 * (not owned; must outlive the buffer's use). */
struct tv_signer;
void tv_buffer_set_signer(struct tv_buffer *b, const struct tv_signer *s);

/* Paths for a new open segment (caller frees). */
/* stream: the writer's stream (several write at once, open/ names keep them apart). */
int tv_buffer_open_paths(struct tv_buffer *b, uint64_t created_ns, uint64_t seq, unsigned stream, char **data,
			 char **events);

/* Seals: writes the index, then moves data, events and index (last) to their
 * keys. index_sha receives the SHA-256 of the index object. */
int tv_buffer_seal(struct tv_buffer *b, const struct tv_index *idx, const char *data_path,
		   const char *events_path, uint8_t index_sha[TV_SHA256_LEN]);

/* The same in two steps, so that flushing to disk need not stall writing:
 * prepare encodes the index (index_sha is known at once, for the next
 * segment's chain) and counts the segment as pending against the cap; commit
 * (on any thread, in order) fsyncs the data, writes the index and moves the
 * three objects into place. commit frees s, also on error (the files stay in
 * open/ for salvage). */
struct tv_buffer_seal;
int tv_buffer_seal_prepare(struct tv_buffer *b, const struct tv_index *idx, const char *data_path,
			   const char *events_path, uint8_t index_sha[TV_SHA256_LEN],
			   struct tv_buffer_seal **s);
int tv_buffer_seal_commit(struct tv_buffer *b, struct tv_buffer_seal *s);
void tv_buffer_seal_free(struct tv_buffer_seal *s);

/* Evicts sealed segments until sealed + pending bytes + open_bytes <= cap.
 * @return 0; -ENOSPC when even an empty buffer cannot hold open_bytes;
 * -EBUSY when it cannot because of pending seals (retry after a commit). */
int tv_buffer_make_room(struct tv_buffer *b, uint64_t open_bytes);

void tv_buffer_get_stats(struct tv_buffer *b, struct tv_buffer_stats *out);
uint64_t tv_buffer_cap(const struct tv_buffer *b);

#endif
