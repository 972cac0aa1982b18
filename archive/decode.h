/* SPDX-License-Identifier: Apache-2.0 */
/* decode: the one packet decoder. A captured frame down to its TCP/UDP
 * 5-tuple (the flow index's key) and, when the whole transport header is
 * there, its TCP fields and payload (what dissection reads). The flow index,
 * the segment reader's flow selection, window dedup and dissection all go
 * through it, so they agree on what a packet is.
 *
 * Link types: Ethernet with up to four 802.1Q/802.1ad tags, Linux cooked SLL
 * and SLL2, raw IPv4/IPv6, BSD loopback (NULL, LOOP). IPv4 and IPv6 with
 * hop-by-hop, routing, destination options, fragment and AH extension
 * headers. Non-first fragments and everything that is not TCP/UDP have no
 * key (the index's "other" row). The payload stops at the IP length, so
 * Ethernet padding is not payload. Untrusted bytes: never reads past caplen
 * (fuzzed as fuzz_flow and through the dissector). */
#ifndef TV_DECODE_H
#define TV_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "archive/flow.h"

enum {
	TV_TCP_FIN = 0x01,
	TV_TCP_SYN = 0x02,
	TV_TCP_RST = 0x04,
	TV_TCP_PSH = 0x08,
	TV_TCP_ACK = 0x10,
};

struct tv_decoded {
	struct tv_flow_key key; /* as sent (not canonical); zero ("other") when not TCP/UDP */
	uint32_t l3_offset;     /* of the IPv4/IPv6 header in the frame */
	/* valid when `transport`: the whole TCP/UDP header was captured and the
	 * IP lengths are consistent */
	bool transport;
	uint8_t tcp_flags;
	uint32_t seq, ack;
	const uint8_t *payload; /* points into the frame */
	uint32_t len;           /* payload bytes captured */
	uint32_t wire_len;      /* payload bytes on the wire (IP lengths); > len when snapped */
};

/* @return true when the frame is TCP or UDP (out->key is set; out->transport
 * says whether the payload fields are too); false for "other" (out zeroed). */
bool tv_decode(uint16_t linktype, const uint8_t *pkt, uint32_t caplen, struct tv_decoded *out);

/* @return the offset of the network-layer header (IPv4/IPv6) in pkt, or 0
 * when the link type or packet is not understood (then the whole packet). */
uint32_t tv_l3_offset(uint16_t linktype, const uint8_t *pkt, uint32_t caplen);

#endif
