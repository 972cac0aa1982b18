/* SPDX-License-Identifier: Apache-2.0 */
/* annotate: a packet's ends as a pcapng packet comment, what `tapvault pcap
 * --annotate` writes and Wireshark shows (pkt_comment): who held each
 * address at the packet's time (names.h) and whose socket each end was
 * (procs.h), e.g.
 *   src pod shop/web-7d4 (Deployment web), process curl[812] /usr/bin/curl,
 *   container app c1c1c1c1c1c1; dst pod shop/db-0, process postgres[90]
 * Ends with nothing known are left out; nothing known at all: "". */
#ifndef TV_ANNOTATE_H
#define TV_ANNOTATE_H

#include <stddef.h>
#include <stdint.h>

#include "archive/common/buf.h"
#include "archive/segment.h"

struct tv_names;

/* Writes p's comment into out (emptied first; NUL-terminated, or empty
 * when none or over out's limit). */
void tv_annotate_packet(const struct tv_names *names, uint16_t linktype, const struct tv_packet *p,
			struct tv_buf *out);

#endif
