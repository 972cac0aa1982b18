/* SPDX-License-Identifier: Apache-2.0 */
/* export: writes a merged window (window.h) as one capture file: one
 * interface per node and interface (named NODE/IFACE, described "node
 * NODE"), an optional BPF filter, a progress line on a terminal. Shared by
 * `tapvault pcap` and `tapvault snapshot pcap`. */
#ifndef TV_EXPORT_H
#define TV_EXPORT_H

#include "dissector/output_pcap.h"
#include "dissector/window.h"

struct tv_export_opts {
	const char *output; /* path, or "-" for stdout */
	enum tv_pcap_format format;
	const char *filter; /* BPF, or NULL */
	const char *cmd;    /* names the command in messages about skipped parts */
};

/* Writes every packet tv_window_next yields; damaged frames are named on
 * stderr and skipped. st receives the window's counters. The output appears
 * only when complete (temp name + rename).
 * @return 0 or negative errno (message set). */
int tv_export_window(struct tv_window *w, const struct tv_export_opts *o, struct tv_window_stats *st);

#endif
