/* SPDX-License-Identifier: Apache-2.0 */
/* trends: questions over months answered from the hourly rollups
 * (rollup.h; an hour without a stored rollup is built in memory from the
 * indexes and events), never from packets.
 *
 *   top        bytes per hour per key, the largest totals first
 *   new-peers  (client, server, protocol, port) pairs seen in the last
 *              `recent` (7 d) of the window that the rest of it (the
 *              baseline, 30 d by default) never saw
 *   beacons    per pair, how regular its connection starts and sizes are,
 *              scored as RITA scores Zeek's conn.log: timing = mean of
 *              (1 - |Bowley skew of the intervals|, 1 - MAD of the
 *              intervals / 30 s, share of the pair's hours with a
 *              connection); sizes = mean of (1 - |Bowley skew|, 1 - MAD /
 *              32 B, 1 - median / 64 KiB); score = timing × (1 + sizes) / 2,
 *              so regular sizes alone (DNS) do not make a beacon
 *   long       connections open for at least `long_min` (1 h)
 *   anomalies  per key, hours whose bytes lie outside median ± k·scale of
 *              the same hour of the week over the window, scale =
 *              max(1.4826·MAD, median / 2, 4 KiB): with k = 3 an hour
 *              must carry 2.5 times its usual volume (a month gives only
 *              four or five samples per hour of the week)
 *
 * Keys (`by`): service (the server end's Service, else its name),
 * workload (the server's namespace/workload), namespace (the server's,
 * else its address), node. Traffic is attributed to the server end: the
 * side that did not send first. */
#ifndef TV_TRENDS_H
#define TV_TRENDS_H

#include <jansson.h>
#include <stdint.h>

#include "archive/store/store.h"

struct tv_trends_opts {
	const char *prefix;
	const char *kind; /* top, new-peers, beacons, long, anomalies */
	const char *by;   /* service (default), workload, namespace, node */
	uint64_t from, to;
	size_t top;              /* series and findings kept (default 10) */
	double k;                /* anomalies: default 3 */
	uint64_t recent_ns;      /* new-peers: default 7 d */
	uint64_t long_min_ns;    /* long: default 1 h */
	double beacon_threshold; /* beacons: a finding from this score on (default 0.8) */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *arg;
};

/* @return 0 with *out = {kind, by, from, to, hours, hours_with_data,
 * built_in_memory, series: [{key, values (bytes per hour), total}],
 * findings: [{kind, what, score?, ...}], scores?: (beacons) the highest
 * scored pairs, summary}, or -EINVAL (bad kind/by/window: tv_errmsg says),
 * or the store's error. */
int tv_trends(struct tv_store *s, const struct tv_trends_opts *o, json_t **out);

/* The same over rollups already loaded: rollups[i] is the hour starting at
 * first_hour + i hours (each as tv_rollup_parse accepts; borrowed). */
int tv_trends_compute(const struct tv_trends_opts *o, uint64_t first_hour, json_t *const *rollups, size_t n,
		      json_t **out);

#endif
