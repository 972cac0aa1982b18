/* SPDX-License-Identifier: Apache-2.0 */
/* rollup: hourly summaries of a store's flow indexes and events, never of
 * its packets (docs/FORMAT.md §7). One JSON object per hour at
 * PREFIX/v1/rollups/hourly/YYYY-MM-DDTHH.json: for each (node, client,
 * server, protocol, server port) pair its connections, packets, bytes each
 * way, SYNs and RSTs, and every connection's start and size (for beacon
 * scores); the connections open for a quarter of an hour or more (for long
 * ones); and the SHA-256 of its inputs (each segment's key and its index's
 * data and events digests), so a rebuild of unchanged inputs is a no-op and
 * the same inputs always give the same bytes.
 *
 * A flow's row in a segment's index belongs to the hour of its first
 * packet in that segment: hours add up without counting a segment that
 * straddles an hour twice. Ends are named as Kubernetes named them then:
 * "namespace/workload" (or "namespace/pod"), else the address. */
#ifndef TV_ROLLUP_H
#define TV_ROLLUP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "archive/store/store.h"

#define TV_HOUR_NS UINT64_C(3600000000000)
#define TV_ROLLUP_MAX_STARTS 3600 /* connection starts kept per pair per hour */

/* PREFIX/v1/rollups/hourly/YYYY-MM-DDTHH.json of the hour holding hour_ns. */
int tv_rollup_key(const char *prefix, uint64_t hour_ns, char *out, size_t n);

/* Builds the rollup of the hour starting at hour_ns (a multiple of
 * TV_HOUR_NS) from the store. @return 0 with *out (the caller's; "inputs"
 * 0 when no segment covers the hour), or the store's error. */
int tv_rollup_build(struct tv_store *s, const char *prefix, uint64_t hour_ns, json_t **out);

/* Parses and checks a rollup object's bytes (untrusted: from a store):
 * every field trends reads is there with its type, starts in order inside
 * the hour. @return 0 with *out, or TV_ECORRUPT naming what. */
int tv_rollup_parse(const uint8_t *data, size_t len, const char *what, json_t **out);

/* The stored rollup of an hour. @return 0, -ENOENT, TV_ECORRUPT, or the store's error. */
int tv_rollup_get(struct tv_store *s, const char *prefix, uint64_t hour_ns, json_t **out);

/* The stored rollup if there is one, else built in memory (*built true). */
int tv_rollup_load(struct tv_store *s, const char *prefix, uint64_t hour_ns, json_t **out, bool *built);

struct tv_rollup_stats {
	uint64_t hours;     /* in the range */
	uint64_t written;   /* built and stored (new or changed inputs) */
	uint64_t unchanged; /* stored already with the same inputs */
	uint64_t empty;     /* no segment covers the hour: nothing stored */
};

/* Builds and stores every hour of [from, to) (rounded out to whole hours).
 * force: rewrite even when the inputs are unchanged. progress (may be NULL)
 * is called after each hour. @return 0 or the first error. */
int tv_rollup_range(struct tv_store *s, const char *prefix, uint64_t from, uint64_t to, bool force,
		    void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg,
		    struct tv_rollup_stats *st);

#endif
