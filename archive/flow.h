/* SPDX-License-Identifier: Apache-2.0 */
/* flow: the TCP/UDP 5-tuple (plus VLAN) of a captured packet: the flow
 * index's key, and what is done with keys (canonical order, hashing, text).
 * Packets are decoded by decode.h, the one decoder every part uses. */
#ifndef TV_FLOW_H
#define TV_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TV_FLOW_OTHER 0 /* family of the row that counts non-TCP/UDP packets */

/* 40 bytes, no padding: hashed and compared as raw memory. */
struct tv_flow_key {
	uint8_t family; /* 4, 6, or TV_FLOW_OTHER */
	uint8_t proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t vlan;  /* outermost 802.1Q VLAN id, 0 if untagged */
	uint8_t src[16];
	uint8_t dst[16]; /* IPv4 addresses use the first 4 bytes, rest zero */
	uint16_t sport, dport;
};

/* The key of a packet (tv_decode's). @return true and fills k when the
 * packet is TCP or UDP; false otherwise (k is then zeroed, the "other" key). */
bool tv_flow_key_parse(uint16_t linktype, const uint8_t *pkt, uint32_t caplen, struct tv_flow_key *k);

/* The same key with its endpoints in a fixed order, so both directions of a
 * conversation map to one flow. */
void tv_flow_key_canonical(const struct tv_flow_key *k, struct tv_flow_key *out);

/* @return true when a and b are the same conversation in either direction. */
bool tv_flow_key_same_conversation(const struct tv_flow_key *a, const struct tv_flow_key *b);

uint64_t tv_flow_key_hash(const struct tv_flow_key *canonical);

/* Formats "tcp 10.0.0.1:80 > 10.0.0.2:5555 vlan 7" into out. */
void tv_flow_key_format(const struct tv_flow_key *k, char *out, size_t n);

/* Parses the format above ("tcp|udp SRC:PORT > DST:PORT [vlan N]"; IPv6 as
 * [addr]:port). @return 0 or -EINVAL. */
int tv_flow_key_from_string(const char *s, struct tv_flow_key *k);

#endif
