/* SPDX-License-Identifier: Apache-2.0 */
/* index: the per-segment index (`STEM.idx`), its builder, encoder and decoder.
 *
 * The index says what a data file holds without decompressing it: counts, the
 * SHA-256 of the data and events files, the previous index's SHA-256 (a hash
 * chain per node), a frame table for ranged reads and a flow table for reading
 * one conversation. It is written after the data and events files, so a data
 * object without an index is an incomplete segment. Byte layout: docs/FORMAT.md. */
#ifndef TV_INDEX_H
#define TV_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "archive/common/buf.h"
#include "archive/common/sha256.h"
#include "archive/flow.h"
#include "archive/pcapng.h"

#define TV_INDEX_MAGIC "TVINDEX\0"
/* written: 3. Version 2 (no per-direction flow counts) and 1 (no frame
 * digests, unsigned) still read, their flows' direction fields zero. */
#define TV_INDEX_VERSION 3
#define TV_NODE_MAX 253
#define TV_INDEX_MAX_BYTES ((size_t)1 << 30)

/* One zstd frame of the data file. Frame 0 holds the SHB and IDBs only. */
struct tv_frame_entry {
	uint64_t offset;         /* of the frame in the compressed data file */
	uint32_t comp_size;      /* compressed bytes */
	uint32_t raw_size;       /* pcapng bytes it decompresses to */
	uint64_t ts_min, ts_max; /* packet timestamps (ns) in the frame; 0,0 if none */
	uint32_t packets;
	uint8_t sha[TV_SHA256_LEN]; /* of the frame's compressed bytes (version 2; zero in 1) */
};

struct tv_frame_range {
	uint32_t first, count;
};

/* A conversation (both directions), keyed as first seen. */
struct tv_flow {
	struct tv_flow_key key; /* family TV_FLOW_OTHER: the row counting everything else */
	uint64_t ts_min, ts_max;
	uint64_t packets, bytes; /* bytes on the wire (original lengths) */
	/* version 3: of packets/bytes, those sent by the key's dst (the side
	 * that did not send first), and TCP segments with SYN (no ACK: attempts)
	 * and with RST. What trends need without reading a packet. */
	uint64_t packets_rev, bytes_rev;
	uint32_t syn, rst;
	uint32_t nranges;
	uint32_t ranges_cap;
	struct tv_frame_range *ranges; /* owned; frames this flow has packets in, ascending */
};

/* flags of struct tv_index (the index header's flags field) */
enum {
	TV_INDEX_SIGNED = 1, /* signed by the node key key_id */
	TV_INDEX_LIVE = 2,   /* written by an agent: consecutive segments tile time */
};

struct tv_index {
	uint32_t version; /* as read (TV_INDEX_VERSION when built) */
	uint32_t flags;
	char node[TV_NODE_MAX + 1];
	uint64_t seq;
	uint64_t start_ns, end_ns; /* the segment covers [start_ns, end_ns) */
	uint64_t ts_min, ts_max;   /* first and last packet timestamps */
	uint64_t packets, bytes_wire, bytes_captured;
	uint64_t data_size, data_raw_size, events_size;
	uint64_t os_lost; /* OS layer records lost while the segment was open (ring or queue full) */
	uint8_t data_sha[TV_SHA256_LEN];
	uint8_t events_sha[TV_SHA256_LEN];
	uint8_t prev_sha[TV_SHA256_LEN]; /* all zero: first segment of its chain */
	uint32_t niface;
	struct tv_iface *ifaces; /* owned */
	uint32_t nframes;
	struct tv_frame_entry *frames; /* owned */
	uint32_t nflows;
	struct tv_flow *flows; /* owned */
	/* version 2: the signature block (docs/FORMAT.md §3). key_id: the key
	 * that signed (TV_INDEX_SIGNED); prev_key_id: the key that signed the
	 * previous segment of the chain (a rotation when they differ). */
	uint8_t key_id[TV_SHA256_LEN];
	uint8_t prev_key_id[TV_SHA256_LEN];
	uint8_t signature[64];
	size_t signed_len; /* decoded: the signature covers the object's first signed_len bytes */
};

void tv_index_cleanup(struct tv_index *idx);

/* Serialises idx as version 3 (appending to out), trailing SHA-256
 * included, the signature block as idx has it. @return 0/-ENOMEM/-EFBIG. */
int tv_index_encode(const struct tv_index *idx, struct tv_buf *out);
/* The same, signed with s (key_id and the SIGNED flag set in idx). */
struct tv_signer;
int tv_index_encode_signed(struct tv_index *idx, const struct tv_signer *s, struct tv_buf *out);
/* Whether the encoded index raw[0..len) (decoded into idx) is signed by pub. */
bool tv_index_signature_ok(const uint8_t *raw, size_t len, const struct tv_index *idx, const uint8_t pub[32]);

/* Parses an encoded index into idx (caller-owned struct, zeroed here; free with
 * tv_index_cleanup). `what` names the source in error messages.
 * @return 0, TV_ECORRUPT (bad magic, checksum, lengths), TV_ETRUNC, TV_EVERSION,
 * -ENOMEM. On error idx is left empty. */
int tv_index_decode(const uint8_t *data, size_t len, const char *what, struct tv_index *idx);

/* Reads and decodes an index file. */
int tv_index_read_file(const char *path, struct tv_index *idx);

/* @return the flow row for this conversation (either direction), or NULL. */
const struct tv_flow *tv_index_find_flow(const struct tv_index *idx, const struct tv_flow_key *k);

/* @return true if frame i may hold packets with from <= ts < to. */
bool tv_frame_overlaps(const struct tv_frame_entry *f, uint64_t from, uint64_t to);

/* Builds an index while packets stream past: flows in an open-addressing hash
 * table keyed by the canonical 5-tuple. */
struct tv_index_builder {
	struct tv_index idx;
	uint32_t *slots;           /* flow position + 1; 0 = empty */
	struct tv_flow_key *canon; /* owned; canonical key of each flow row */
	uint32_t nslots;
	uint32_t flows_cap;
	uint32_t max_flows; /* beyond it, packets of new flows count in the other row */
	uint32_t other_row; /* position of the other row, or UINT32_MAX */
};

/* ifaces are copied. @return 0 or -ENOMEM. */
int tv_index_builder_init(struct tv_index_builder *b, const struct tv_iface *ifaces, uint32_t niface,
			  uint32_t max_flows);
void tv_index_builder_cleanup(struct tv_index_builder *b);
/* Accounts one packet that lands in frame `frame`. @return 0 or -ENOMEM. */
int tv_index_builder_packet(struct tv_index_builder *b, uint32_t ifindex, uint64_t ts_ns, uint32_t caplen,
			    uint32_t origlen, const uint8_t *data, uint32_t frame);
/* Accounts every packet of one frame's pcapng (raw[0..n), whole blocks) and
 * appends its entry: fe carries offset and sizes; packet count and time span
 * are filled in here. The blocks are validated first, so a bad frame leaves
 * the builder unchanged. @return 0, TV_ECORRUPT (*bad_at = offset of the bad
 * block), or -ENOMEM. */
int tv_index_builder_add_frame_blocks(struct tv_index_builder *b, const uint8_t *raw, size_t n,
				      struct tv_frame_entry *fe, size_t *bad_at);
/* Appends a frame entry. @return 0 or -ENOMEM. */
int tv_index_builder_frame(struct tv_index_builder *b, const struct tv_frame_entry *f);
/* Moves the built index into out (and resets the builder to empty). */
void tv_index_builder_take(struct tv_index_builder *b, struct tv_index *out);

#endif
