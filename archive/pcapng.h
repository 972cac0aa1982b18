/* SPDX-License-Identifier: Apache-2.0 */
/* pcapng: encode and decode the three block types a segment uses.
 *
 * We write little-endian pcapng: one Section Header Block (SHB), one Interface
 * Description Block (IDB) per interface with if_tsresol = 9 (nanoseconds), and
 * Enhanced Packet Blocks (EPB). The decoder walks any well-formed little-endian
 * block sequence, skips block types it does not know and never reads past the
 * length it was given. See docs/FORMAT.md. */
#ifndef TV_PCAPNG_H
#define TV_PCAPNG_H

#include <stddef.h>
#include <stdint.h>

#include "archive/common/buf.h"
#include "archive/common/parse.h"

#define TV_PCAPNG_SHB 0x0A0D0D0Au
#define TV_PCAPNG_IDB 0x00000001u
#define TV_PCAPNG_EPB 0x00000006u
#define TV_PCAPNG_BOM 0x1A2B3C4Du
#define TV_PCAPNG_EPB_OVERHEAD 32u /* EPB header + trailer, without data or padding */
#define TV_IFNAME_MAX 63

/* One captured interface. In a segment, its position is the EPB interface id. */
struct tv_iface {
	char name[TV_IFNAME_MAX + 1];
	uint16_t linktype; /* LINKTYPE_* value as in pcap files */
	uint32_t snaplen;
	uint64_t packets;      /* packets written on this interface */
	uint64_t drops_kernel; /* reported by the capture (pcap_stats ps_drop) */
	uint64_t drops_iface;  /* reported by the capture (pcap_stats ps_ifdrop) */
};

/* @return the LINKTYPE_* value files use for a libpcap DLT_* value (they
 * differ for a few, notably DLT_RAW). */
uint16_t tv_linktype_from_dlt(int dlt);

/* Appends an SHB whose opt_comment is `comment` (may be NULL). @return 0/-EFBIG/-ENOMEM. */
int tv_pcapng_put_shb(struct tv_buf *b, const char *comment);
/* Appends an IDB with if_name, if_tsresol = 9 and, if non-NULL, if_description. */
int tv_pcapng_put_idb(struct tv_buf *b, const struct tv_iface *ifc, const char *description);
/* Appends an EPB with a nanosecond timestamp. */
int tv_pcapng_put_epb(struct tv_buf *b, uint32_t ifindex, uint64_t ts_ns, const uint8_t *data,
		      uint32_t caplen, uint32_t origlen);
/* The same with an opt_comment (what Wireshark shows as the packet's
 * comment); comment NULL or "": none, as tv_pcapng_put_epb. */
int tv_pcapng_put_epb_comment(struct tv_buf *b, uint32_t ifindex, uint64_t ts_ns, const uint8_t *data,
			      uint32_t caplen, uint32_t origlen, const char *comment);
/* Appends an EPB with exactly this layout to out (no bounds: caller reserved). */
size_t tv_pcapng_epb_size(uint32_t caplen);

/* A decoded block. Pointers borrow from the input buffer. */
struct tv_pcapng_block {
	uint32_t type;
	uint32_t total_len;
	const uint8_t *body; /* after type+length, before the trailing length */
	uint32_t body_len;
};

/* Decodes the block at p[0..n). @return TV_PARSE_OK (block filled),
 * TV_PARSE_NEED_MORE (n ends inside the block), TV_PARSE_ERROR (malformed). */
enum tv_parse tv_pcapng_next_block(const uint8_t *p, size_t n, struct tv_pcapng_block *blk);

struct tv_pcapng_epb {
	uint32_t ifindex;
	uint64_t ts_raw; /* in the interface's resolution units */
	uint32_t caplen, origlen;
	const uint8_t *data;
};
/* @return TV_PARSE_OK or TV_PARSE_ERROR (lengths do not fit the block). */
enum tv_parse tv_pcapng_parse_epb(const struct tv_pcapng_block *blk, struct tv_pcapng_epb *epb);

/* Parses an IDB into ifc (name, linktype, snaplen) and reports its ts resolution
 * as units per second in *units_per_sec. @return TV_PARSE_OK or TV_PARSE_ERROR. */
enum tv_parse tv_pcapng_parse_idb(const struct tv_pcapng_block *blk, struct tv_iface *ifc,
				  uint64_t *units_per_sec);

/* Finds the first opt_comment of an SHB and copies it, NUL-terminated and
 * truncated to n-1, into out. @return TV_PARSE_OK, or TV_PARSE_ERROR when the
 * block is not a little-endian SHB version 1. out is "" if no comment. */
enum tv_parse tv_pcapng_parse_shb(const struct tv_pcapng_block *blk, char *out, size_t n);

#endif
