/* SPDX-License-Identifier: Apache-2.0 */
/* progress: one self-updating line on stderr for long commands, only when
 * stderr is a terminal (quiet in pipes, logs and CI); at most 5 updates a
 * second, so it costs nothing on the hot path. */
#ifndef TV_PROGRESS_H
#define TV_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct tv_progress {
	bool on;
	const char *what; /* "segments", "objects" */
	uint64_t total;   /* 0: unknown (no ETA) */
	uint64_t started_ns, last_ns;
};

void tv_progress_start(struct tv_progress *p, const char *what, uint64_t total);
/* done units of total, bytes so far. */
void tv_progress_update(struct tv_progress *p, uint64_t done, uint64_t bytes);
/* Clears the line. */
void tv_progress_end(struct tv_progress *p);

#endif
