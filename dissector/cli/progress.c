/* SPDX-License-Identifier: Apache-2.0 */
/* progress: see progress.h. */
#include "dissector/cli/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "archive/common/timeutil.h"

void tv_progress_start(struct tv_progress *p, const char *what, uint64_t total)
{
	p->on = isatty(STDERR_FILENO);
	p->what = what;
	p->total = total;
	p->started_ns = p->last_ns = tv_mono_ns();
}

void tv_progress_update(struct tv_progress *p, uint64_t done, uint64_t bytes)
{
	if (!p->on)
		return;
	uint64_t now = tv_mono_ns();
	if (now - p->last_ns < 200000000ULL)
		return;
	p->last_ns = now;
	double secs = (double)(now - p->started_ns) / 1e9;
	if (p->total && done) {
		double eta = secs * (double)(p->total - (done < p->total ? done : p->total)) / (double)done;
		fprintf(stderr, "\r%llu/%llu %s, %.1f MB, ETA %.0fs   ", (unsigned long long)done,
			(unsigned long long)p->total, p->what, (double)bytes / 1e6, eta);
	} else {
		fprintf(stderr, "\r%llu %s, %.1f MB, %.0fs   ", (unsigned long long)done, p->what,
			(double)bytes / 1e6, secs);
	}
}

void tv_progress_end(struct tv_progress *p)
{
	if (p->on && p->last_ns != p->started_ns)
		fprintf(stderr, "\r%60s\r", "");
}
