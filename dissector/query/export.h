/* SPDX-License-Identifier: Apache-2.0 */
/* export: writes a merged window (window.h) as one capture file: one
 * interface per node and interface (named NODE/IFACE, described "node
 * NODE"), an optional BPF filter, progress through a report. Shared by
 * `tapvault pcap` and `tapvault snapshot pcap` (and later the dashboard). */
#ifndef TV_EXPORT_H
#define TV_EXPORT_H

#include <stdatomic.h>

#include "dissector/query/output_pcap.h"
#include "dissector/query/select.h"
#include "dissector/query/window.h"

struct tv_export_opts {
	const char *output; /* path, or "-" for stdout */
	enum tv_pcap_format format;
	const char *filter;              /* BPF, or NULL */
	const struct tv_report *report;  /* progress (streams started of all); may be NULL */
	const struct tv_select *select;  /* only these workloads' packets (NULL: all) */
	const struct tv_names *annotate; /* each packet's pods and processes as its comment (NULL: none) */
	const atomic_bool *cancel;       /* set by another thread: stop, write nothing (-ECANCELED) */
	FILE *stream;                    /* write here instead of output (left open; nothing renamed) */
};

/* Writes every packet tv_window_next yields that passes the filter and the
 * selection; damaged frames are skipped (the window reports them). st
 * receives the window's counters, written (may be NULL) the packets written. The output
 * appears only when complete (temp name + rename).
 * @return 0 or negative errno (message set). */
int tv_export_window(struct tv_window *w, const struct tv_export_opts *o, struct tv_window_stats *st,
		     uint64_t *written);

#endif
