/* SPDX-License-Identifier: Apache-2.0 */
/* output_pcap: writes packets as pcapng or classic pcap (nanosecond) to a file
 * or stdout. A file is written under a temp name and renamed only by
 * tv_pcap_out_commit, so a failed run leaves nothing half-written behind. */
#ifndef TV_OUTPUT_PCAP_H
#define TV_OUTPUT_PCAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "archive/pcapng.h"
#include "archive/segment.h"

enum tv_pcap_format {
	TV_FORMAT_PCAPNG,
	TV_FORMAT_PCAP
};

struct tv_pcap_out {
	FILE *f;
	char *path;     /* final path; NULL for stdout */
	char *tmp_path; /* what is being written; NULL when written in place */
	enum tv_pcap_format format;
	uint16_t linktype; /* classic pcap: the one link type allowed */
	struct tv_buf buf;
	uint64_t packets;
	bool borrowed; /* f is the caller's: flushed, never closed */
};

/* @return 0, -EINVAL (bad format name). */
int tv_pcap_format_parse(const char *name, enum tv_pcap_format *out);

/* Opens path ("-" = stdout) and writes the file header: for pcapng an SHB and
 * one IDB per interface (ifaces[i] becomes interface i; descriptions may be
 * NULL); for pcap, all interfaces must share one link type. */
int tv_pcap_out_open(struct tv_pcap_out *o, const char *path, enum tv_pcap_format format,
		     const struct tv_iface *ifaces, const char *const *descriptions, uint32_t niface);
/* The same on an open stream (a pipe to an HTTP response), which stays the
 * caller's: commit and abort flush it and leave it open. */
int tv_pcap_out_open_stream(struct tv_pcap_out *o, FILE *f, enum tv_pcap_format format,
			    const struct tv_iface *ifaces, const char *const *descriptions, uint32_t niface);
int tv_pcap_out_write(struct tv_pcap_out *o, const struct tv_packet *p);
/* The same with a packet comment (pcapng's opt_comment; classic pcap has
 * none and drops it). comment may be NULL. */
int tv_pcap_out_write_comment(struct tv_pcap_out *o, const struct tv_packet *p, const char *comment);
/* Flushes, closes and renames into place. A path that exists and is not a
 * regular file (/dev/null, a FIFO, a terminal) is written in place: renaming
 * over it would replace the device with a file. */
int tv_pcap_out_commit(struct tv_pcap_out *o);
/* Closes and removes the temp file (no-op after commit). */
void tv_pcap_out_abort(struct tv_pcap_out *o);

#endif
