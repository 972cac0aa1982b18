/* SPDX-License-Identifier: Apache-2.0 */
/* segment: writing, reading, scanning and salvaging a segment's data file.
 *
 * The data file (`STEM.pcapng.zst`) is little-endian pcapng cut into independent
 * zstd frames (content size and checksum in every frame header). Frame 0 holds
 * only the SHB and the IDBs, so any later frame decodes after it alone; every
 * other frame starts at a block boundary and holds at most `frame_bytes` of
 * pcapng (one block more if a single packet is larger; up to 2 MiB for a
 * frame that spans windows of the layout below). Each frame is written
 * with write(2) as soon as it closes, so a crash loses only the frame in flight.
 * The SHB comment carries node, sequence number, creation time and the previous
 * index's SHA-256, which makes an unsealed file salvageable on its own. */
#ifndef TV_SEGMENT_H
#define TV_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/index.h"

#define TV_FRAME_BYTES_DEFAULT ((size_t)1 << 20)
#define TV_FRAME_RAW_MAX ((size_t)4 << 20)  /* larger frames are refused as corrupt */
#define TV_FRAME_COMP_MAX ((size_t)5 << 20) /* >= ZSTD_compressBound(TV_FRAME_RAW_MAX) */
#define TV_MAX_PACKET 262144u               /* largest captured length accepted */
#define TV_MAX_IFACES 256

/* Frames are laid out so that none crosses a boundary of TV_WS_WINDOW bytes
 * (skippable zstd frames pad the gaps). Wireshark 4.0 (Debian 12) looks for
 * the next frame's magic at the start of its 131075-byte read buffer rather
 * than at the read position, so it follows a multi-frame file only when every
 * buffer starts with a frame. zstd itself does not care. See docs/FORMAT.md. */
#define TV_WS_WINDOW 131075u

/* @return true when p starts a skippable zstd frame (our padding). */
static inline bool tv_zstd_is_skippable(const uint8_t *p, size_t n)
{
	return n >= 4 && (tv_le32(p) & 0xFFFFFFF0u) == 0x184D2A50u;
}

/* A packet handed to or returned by a segment. `data` is borrowed. */
struct tv_packet {
	uint32_t ifindex;
	uint64_t ts_ns;
	uint32_t caplen, origlen;
	const uint8_t *data;
};

struct tv_seg_meta {
	char node[TV_NODE_MAX + 1];
	uint64_t seq;
	uint64_t created_ns; /* when the writer opened the segment */
	uint8_t prev_sha[TV_SHA256_LEN];
};

/* @return true when node is 1..253 characters of [A-Za-z0-9._-], not starting
 * with '.' (a Kubernetes node name is always valid). */
bool tv_node_name_valid(const char *node);

struct tv_seg_writer_opts {
	struct tv_seg_meta meta;
	int zstd_level;     /* 0 = default (1) */
	size_t frame_bytes; /* 0 = TV_FRAME_BYTES_DEFAULT; at most TV_FRAME_RAW_MAX / 2 */
	uint32_t max_flows; /* 0 = default (1 Mi) */
	/* Skip the TV_WS_WINDOW layout: frames of frame_bytes, no padding. Saves
	 * the padding (large for big incompressible packets) at the price of
	 * Wireshark 4.0 reading such files only through `zstd -dc`. */
	bool no_window_layout;
	/* Leave the fsync of the data file to the caller, who does it before
	 * publishing the segment (the agent, off its writing thread). */
	bool defer_fsync;
	/* Write with O_DIRECT (whole 4 KiB blocks, the partial tail rewritten at
	 * each flush) where the file system takes it; buffered otherwise. Saves
	 * the page-cache copy of every byte (see docs/AGENT.md). */
	bool direct_io;
};

struct tv_seg_writer;

/* Creates data_path and writes frame 0 (SHB + one IDB per interface).
 * ifaces are copied. @return 0 or negative errno (message set). */
int tv_seg_writer_open(struct tv_seg_writer **out, const char *data_path,
		       const struct tv_seg_writer_opts *opts, const struct tv_iface *ifaces, uint32_t niface);
/* Points a finished (or failed) writer at a new data file, keeping its zstd
 * context and buffers: no allocation and no page faults per segment.
 * @return as tv_seg_writer_open; on failure the writer may only be freed or
 * recycled again. */
int tv_seg_writer_recycle(struct tv_seg_writer *w, const char *data_path,
			  const struct tv_seg_writer_opts *opts, const struct tv_iface *ifaces,
			  uint32_t niface);
/* Appends one packet; closes the current frame first when it would overflow.
 * @return 0, -EINVAL (ifindex or caplen out of range), or an I/O error. */
int tv_seg_writer_add(struct tv_seg_writer *w, const struct tv_packet *pkt);
/* Appends pcapng the caller built (whole EPBs only, interface ids < niface),
 * e.g. a capture thread, and compresses it at once as one or more frames.
 * @return 0, -EINVAL (invalid blocks: nothing written), or an I/O error. */
int tv_seg_writer_add_blocks(struct tv_seg_writer *w, const uint8_t *raw, size_t len);
/* Compresses and writes the current frame if it holds any packet. Call it at
 * least once a second so a crash loses at most a second. */
int tv_seg_writer_flush(struct tv_seg_writer *w);
/* Changes the zstd level for frames begun from now on (e.g. a faster one
 * while a capture backlog builds). @return 0 or -EINVAL. */
int tv_seg_writer_set_level(struct tv_seg_writer *w, int level);
/* Store-only frames (zstd frames of raw blocks: no compression, ~memcpy
 * speed) from now on, or compressed ones again; ends the open frame.
 * @return 0 or an I/O error. */
int tv_seg_writer_set_store(struct tv_seg_writer *w, bool store);

/* Records capture drop counters for an interface (absolute values). */
void tv_seg_writer_set_drops(struct tv_seg_writer *w, uint32_t ifindex, uint64_t kernel, uint64_t iface);
/* @return bytes of pcapng accepted so far (before compression). */
uint64_t tv_seg_writer_raw_bytes(const struct tv_seg_writer *w);
/* @return compressed bytes written so far. */
uint64_t tv_seg_writer_data_bytes(const struct tv_seg_writer *w);
/* Flushes, fsyncs and closes the data file and fills idx (caller cleans it up):
 * end_ns is the end of the captured interval (raised to cover the last packet);
 * events_path, if not NULL, is hashed into the index. The index is not written. */
int tv_seg_writer_finish(struct tv_seg_writer *w, uint64_t end_ns, const char *events_path,
			 struct tv_index *idx);
/* Frees the writer; a writer not finished leaves its file as it is (salvageable). */
void tv_seg_writer_free(struct tv_seg_writer *w);

/* Random-access source for a data file: reads exactly len bytes at off into out
 * (replacing its content). @return 0 or negative errno (message set). */
typedef int (*tv_read_at_fn)(void *ctx, uint64_t off, size_t len, struct tv_buf *out);

/* A tv_read_at_fn over a local file descriptor (ctx = struct tv_fd_source *). */
struct tv_fd_source {
	int fd;
	const char *path;
};
int tv_fd_read_at(void *ctx, uint64_t off, size_t len, struct tv_buf *out);

/* A tv_read_at_fn over memory (ctx = struct tv_mem_source *). */
struct tv_mem_source {
	const uint8_t *data;
	size_t len;
};
int tv_mem_read_at(void *ctx, uint64_t off, size_t len, struct tv_buf *out);

/* Index-driven reader: decompresses only the frames a selection needs. */
struct tv_seg_reader;

/* idx must outlive the reader. `what` names the data object in messages.
 * The default selection is every packet. */
int tv_seg_reader_open(struct tv_seg_reader **out, const struct tv_index *idx, tv_read_at_fn fn, void *ctx,
		       const char *what);
void tv_seg_reader_free(struct tv_seg_reader *r);
/* Points a reader at another segment, keeping its decompression context and
 * buffers (no allocation and page faults per segment in long merges). The
 * selection is reset to everything. @return 0 or -ENOMEM. */
int tv_seg_reader_rebind(struct tv_seg_reader *r, const struct tv_index *idx, tv_read_at_fn fn, void *ctx,
			 const char *what);
/* Selects packets with from <= ts < to; only overlapping frames are read. */
void tv_seg_reader_select_window(struct tv_seg_reader *r, uint64_t from, uint64_t to);
/* Selects the packets of one conversation (either direction) within
 * [from, to); only frames the flow touches are read. @return 0 or -ENOENT when
 * the index has no such flow. */
int tv_seg_reader_select_flow(struct tv_seg_reader *r, const struct tv_flow_key *k, uint64_t from,
			      uint64_t to);
/* Restricts the selection to one interface (UINT32_MAX: all). Packets of one
 * interface are in time order; a multi-interface segment interleaves them in
 * capture-ring order, so a time-ordered merge reads each interface apart. */
void tv_seg_reader_select_iface(struct tv_seg_reader *r, uint32_t ifindex);
/* @return 1 with *pkt set (valid until the next call), 0 at the end, or a
 * negative error for a damaged frame (message names object, frame and offset):
 * that frame is skipped and the next call continues with the following one. */
int tv_seg_reader_next(struct tv_seg_reader *r, struct tv_packet *pkt);
/* Frames decompressed and compressed bytes fetched so far. */
uint32_t tv_seg_reader_frames_read(const struct tv_seg_reader *r);
uint64_t tv_seg_reader_bytes_fetched(const struct tv_seg_reader *r);

/* Index-less pass over a data file, frame by frame, as salvage and verification
 * need. Stops at the first frame that is torn or does not verify. */
struct tv_scan_result {
	uint64_t valid_bytes; /* the file's whole, verified frames end here */
	uint32_t frames;      /* whole frames, frame 0 included */
	bool torn;            /* bytes after valid_bytes did not form a valid frame */
	char reason[200];     /* why the scan stopped early, "" if it did not */
};

/* Rebuilds a segment's index from its data file alone: reads the metadata from
 * the SHB comment (into meta, may be NULL) and interfaces from the IDBs, then
 * indexes every packet of the valid prefix. idx gets everything but the
 * events fields, start/end (set to the packets' span, widened to created_ns)
 * and data_sha, which covers only the valid prefix.
 * @return 0 (see res->torn for a damaged tail), or TV_ECORRUPT when not even
 * frame 0 is valid. */
int tv_seg_reindex(tv_read_at_fn fn, void *ctx, uint64_t size, const char *what, struct tv_seg_meta *meta,
		   struct tv_index *idx, struct tv_scan_result *res);

/* Recovers an unsealed segment left by a killed writer: truncates data_path to
 * its last whole frame (and events_path, if not NULL, likewise), and fills idx
 * as tv_seg_writer_finish would. The caller writes the index and seals.
 * @return 0, or TV_ECORRUPT when nothing is recoverable (frame 0 torn). */
int tv_seg_salvage(const char *data_path, const char *events_path, struct tv_index *idx,
		   struct tv_scan_result *res);

/* Truncates a file of concatenated zstd frames to its last whole, verified
 * frame. @return 0 or negative errno; *kept gets the new size. */
int tv_zstd_truncate_torn(const char *path, uint64_t *kept);

#endif
