/* SPDX-License-Identifier: Apache-2.0 */
/* l4: a captured frame down to its TCP/UDP header and payload, for every link
 * type the archive knows (Ethernet with VLAN tags, Linux cooked SLL/SLL2, raw
 * IPv4/IPv6, BSD loopback). Untrusted bytes: fuzzed with the dissector. */
#ifndef TV_L4_H
#define TV_L4_H

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

struct tv_l4 {
	struct tv_flow_key key; /* addresses and ports as sent (not canonical) */
	uint8_t tcp_flags;
	uint32_t seq, ack;
	const uint8_t *payload;
	uint32_t len;      /* payload bytes captured */
	uint32_t wire_len; /* payload bytes on the wire (IP lengths); > len when snapped */
};

/* @return true for a TCP or UDP packet (first fragment or unfragmented). */
bool tv_l4_parse(uint16_t linktype, const uint8_t *pkt, uint32_t caplen, struct tv_l4 *out);

#endif
