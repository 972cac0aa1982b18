/* SPDX-License-Identifier: Apache-2.0 */
/* dissection: the parts of a sharded dissection in a store.
 *
 *   PREFIX/v1/dissections/NAME/part-I.jsonl.zst   shard I's entries, by
 *                                                 (startTime, id), zstd
 *   PREFIX/v1/dissections/NAME/part-I.done.json   written after the part,
 *                                                 create-if-absent: the part
 *                                                 is complete
 *
 * A done marker says which run it completes (shard, count, window, the
 * source store's URL) and the part's entries, size and SHA-256. A shard
 * rerun finds its marker and replaces nothing; a marker of another run
 * (different count or window) under the same NAME is refused. A killed
 * shard leaves at most a part without a marker, which its rerun replaces.
 * Two attempts of one shard at once (a retried pod while the first still
 * runs) write the same bytes, as dissection is deterministic; were they to
 * differ, the marker's SHA-256 makes the merge refuse, never mix.
 * The merge reads the markers, checks that the parts of one run are all
 * there and whole, and streams them as one time-ordered output. */
#ifndef TV_DISSECTION_H
#define TV_DISSECTION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "archive/store/store.h"

struct tv_dissection_part {
	uint32_t index, count;
	uint64_t from, to;
	const char *source; /* the store the packets came from (URL) */
	uint64_t entries;   /* filled by tv_dissection_put_part */
	uint64_t size;      /* compressed bytes, filled */
	char sha256[65];    /* of the compressed part, filled */
};

/* @return 0 when name is 1..128 of [A-Za-z0-9._-], not starting with '.';
 * else -EINVAL with a message. */
int tv_dissection_name_check(const char *name);

/* Whether part p->index of run NAME is complete for this run. @return 1
 * (done: p's entries/size/sha256 filled from the marker), 0 (not done), or
 * -EEXIST when a marker of another run is there (message says how it
 * differs), or the store's error. */
int tv_dissection_part_done(struct tv_store *s, const char *prefix, const char *name,
			    struct tv_dissection_part *p);

/* Sorts the JSON Lines file entries_path by (startTime, id), compresses it
 * into a temporary file beside it, stores it as the part, then the done
 * marker. @return 0, -EEXIST (another writer completed the part first:
 * nothing replaced), or a negative errno with a message. */
int tv_dissection_put_part(struct tv_store *s, const char *prefix, const char *name, const char *entries_path,
			   struct tv_dissection_part *p);

/* Sorts entries_path as above into out (plain JSON Lines). */
int tv_dissection_sort_to(const char *entries_path, FILE *out, uint64_t *entries);

struct tv_dissection_merge_stats {
	uint32_t parts;
	uint64_t entries, bytes;
};

/* Streams every part of run NAME to out as one output ordered by
 * (startTime, id). @return 0, -ENOENT (no such run), -EAGAIN (some parts
 * are not complete yet: the message lists them), -EBADMSG (a part differs
 * from its marker), or another error. */
int tv_dissection_merge(struct tv_store *s, const char *prefix, const char *name, FILE *out,
			struct tv_dissection_merge_stats *st);

#endif
