/* SPDX-License-Identifier: Apache-2.0 */
/* import: cuts existing pcap/pcapng files into sealed segments in a store.
 *
 * Every packet is kept with its timestamp. Files are read in the order given
 * and cut into segments of at most seal_interval (by packet time) or seal_bytes
 * (of pcapng), continuing the node's sequence numbers and hash chain. A change
 * of link type between files starts a new segment (a segment has one interface
 * per link type). Segments are built in a private temp directory and published
 * data, events, index last. */
#ifndef TV_IMPORT_H
#define TV_IMPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "archive/events.h"
#include "archive/store/store.h"
#include "dissector/query/report.h"

struct tv_import_opts {
	const char *node;
	const char *prefix;        /* key prefix in the store ("" for none) */
	const char *iface_name;    /* name recorded in the IDB (default "import") */
	uint64_t seal_interval_ns; /* 0: 10 s */
	uint64_t seal_bytes;       /* 0: 256 MiB */
	int zstd_level;            /* 0: 1 */
	/* progress: files done of all, bytes imported so far; a file that
	 * cannot be read whole is reported as skipped (the rest goes on) */
	const struct tv_report *report;
	/* Kubernetes objects known when the capture was taken (k8s_api.h): the
	 * state record of every segment's events file, so dissection names pods
	 * and services. NULL: none. */
	const struct tv_k8s_object *objects;
	size_t nobjects;
};

struct tv_import_stats {
	uint64_t files_ok, files_failed;
	uint64_t packets, bytes, segments;
};

/* @return 0 when every file was read whole; TV_ETRUNC-style partial failure is
 * reported as -EIO with stats->files_failed > 0 (what could be read is in the
 * store); other negative errno when the store or temp space failed. */
int tv_import_files(struct tv_store *s, const char *const *files, int nfiles,
		    const struct tv_import_opts *opts, struct tv_import_stats *stats);

#endif
