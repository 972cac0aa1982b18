/* SPDX-License-Identifier: Apache-2.0 */
/* report: how the query library tells its caller what happens during long
 * work without printing (the CLI prints, the MCP server answers, the
 * dashboard streams): input skipped because it was damaged, and progress.
 * Every callback is optional; a NULL report says nothing. */
#ifndef TV_REPORT_H
#define TV_REPORT_H

#include <stdint.h>

struct tv_report {
	/* A damaged object, frame or file was skipped; what names it and why. */
	void (*skipped)(void *ctx, const char *what);
	/* done of total units (total 0: unknown), bytes read or written so far;
	 * called at most every few thousand units. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total, uint64_t bytes);
	void *ctx;
};

static inline void tv_report_skipped(const struct tv_report *r, const char *what)
{
	if (r && r->skipped)
		r->skipped(r->ctx, what);
}

static inline void tv_report_progress(const struct tv_report *r, uint64_t done, uint64_t total,
				      uint64_t bytes)
{
	if (r && r->progress)
		r->progress(r->ctx, done, total, bytes);
}

#endif
