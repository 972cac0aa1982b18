/* SPDX-License-Identifier: Apache-2.0 */
/* seg_writer: pcapng into independent zstd frames, indexed as it goes.
 *
 * Every byte is compressed once. Blocks stream into the open frame
 * (ZSTD_compressStream2, one context reused for the writer's life); before a
 * block goes in, the writer checks what the frame could grow to in the worst
 * case (zstd never stores a block larger than raw plus its 3-byte header), so
 * it can end the frame before the frame would break the Wireshark-4.0 window
 * layout, instead of compressing and cutting again. Near the limit a
 * ZSTD_e_flush makes the compressed size exact. A frame written without a
 * known size gets its content size put into the header afterwards (4 bytes
 * inserted), which readers require.
 *
 * Store-only frames (no compression, for a writer under backlog) are zstd
 * frames of raw blocks built here, with the same header and checksum.
 *
 * The file is written with O_DIRECT where the file system takes it, from a
 * ring of aligned buffers by an I/O thread (dio_out.h); the partial tail is
 * rewritten (zero padded, then the file cut to its true length) at every
 * flush, so a crash still loses at most the frame in flight. Both the whole file's
 * SHA-256 and each frame's are computed over the compressed bytes from
 * memory, as they are written: sealing never reads the file back. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getFrameProgression (exported by libzstd 1.5) */
#include <zstd.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/dio_out.h"
#include "archive/pcapng.h"
#include "archive/segment.h"
#include "archive/segment_meta.h"

/* A window with less left than this is padded rather than given a tiny frame. */
#define WINDOW_MIN_FILL 1024
/* zstd's largest block; a raw block adds a 3-byte header. */
#define ZBLOCK ((size_t)128 << 10)
/* Header bytes a frame may have before its first block is out, plus the 4
 * the content size adds, the checksum and an empty last block. */
#define FRAME_OVERHEAD (ZSTD_FRAMEHEADERSIZE_MAX + 4 + 4 + 3)
/* Pending input fed to the compressor in one call, at most. */
#define FEED_MAX ((size_t)256 << 10)
/* O_DIRECT: a ring of aligned buffers the I/O thread writes (dio_out.h). */
#define DIO_BUFS 8
#define DIO_BUF_BYTES ((size_t)1 << 20)
/* tv_seg_writer_add's staging of single packets before they stream in. */
#define STAGE_BYTES ((size_t)256 << 10)

struct tv_seg_writer {
	int fd;
	char *path;
	struct tv_seg_meta meta;
	size_t frame_bytes;
	int level;
	bool store;         /* store-only frames */
	bool window_layout; /* TV_WS_WINDOW layout */
	bool defer_fsync;
	ZSTD_CCtx *cctx;      /* reused for every frame and segment */
	struct tv_buf comp;   /* the open frame, compressed so far */
	struct tv_buf stage;  /* tv_seg_writer_add's EPBs not yet streamed in */
	struct tv_sha256 sha; /* of the bytes written so far */
	struct tv_index_builder builder;
	/* the open frame */
	bool frame_open;
	size_t frame_raw;  /* pcapng bytes in it */
	size_t frame_fed;  /* of those, handed to zstd (the rest are the pending run) */
	size_t limit;      /* with the layout: the frame ends at or before offset + limit */
	bool crossing;     /* limit is a later window boundary: the frame fills windows */
	bool probe;        /* the first block is measured before the frame is laid out */
	size_t zpending;   /* fed input zstd holds uncompressed */
	XXH64_state_t xxh; /* a store-only frame's checksum */
	struct tv_frame_entry fe;
	double ratio;           /* compressed/raw of the last frames */
	uint64_t offset;        /* bytes written (the file's logical size) */
	uint64_t raw_total;     /* pcapng bytes accepted */
	bool direct;            /* this file is written with O_DIRECT, through dio */
	struct tv_dio_out *dio; /* with direct_io: buffers and I/O thread, kept across segments */
};

bool tv_node_name_valid(const char *node)
{
	size_t n = strlen(node);
	if (n == 0 || n > TV_NODE_MAX || node[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = node[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* ---- output: buffered write(2), or O_DIRECT whole blocks ---- */

/* Appends p[0..n) to the file and to its SHA-256. */
static int out_write(struct tv_seg_writer *w, const void *p, size_t n)
{
	tv_sha256_update(&w->sha, p, n);
	w->offset += n;
	return w->direct ? tv_dio_out_write(w->dio, p, n) : tv_write_all(w->fd, p, n, w->path);
}

/* Makes everything written so far durable on a crash of the process (not yet
 * of the machine: fdatasync at seal). */
static int out_sync(struct tv_seg_writer *w)
{
	return w->direct ? tv_dio_out_sync(w->dio) : 0;
}

static int open_file(struct tv_seg_writer *w, bool direct)
{
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
	w->direct = false;
	if (direct && w->dio) {
		w->fd = open(w->path, flags | O_DIRECT, 0644);
		if (w->fd >= 0) {
			w->direct = true;
			tv_dio_out_bind(w->dio, w->fd, w->path);
			return 0;
		}
		if (errno != EINVAL) /* EINVAL: the file system has no O_DIRECT */
			return tv_err(-errno, "create %s: %s", w->path, strerror(errno));
	}
	w->fd = open(w->path, flags, 0644);
	return w->fd < 0 ? tv_err(-errno, "create %s: %s", w->path, strerror(errno)) : 0;
}

/* Writes a skippable frame of exactly n (>= 8) zero-filled bytes. */
static int write_padding(struct tv_seg_writer *w, size_t n)
{
	static const uint8_t zeros[4096];
	uint8_t hdr[8] = {0x50, 0x2A, 0x4D, 0x18};
	uint32_t body = (uint32_t)(n - 8);
	memcpy(hdr + 4, &body, 4);
	int rc = out_write(w, hdr, 8);
	for (size_t left = body; !rc && left;) {
		size_t k = left < sizeof(zeros) ? left : sizeof(zeros);
		rc = out_write(w, zeros, k);
		left -= k;
	}
	return rc;
}

/* ---- the open frame ---- */

/* Grows the frame in w->comp by exactly pad bytes without changing what it
 * decodes to: empty raw blocks (3 zero bytes each) after the header, and for
 * pad % 3 a 1- or 2-byte Dictionary_ID field of value 0 ("none"). Lets a frame
 * end exactly on a window boundary. @return 0 or negative errno. */
static int pad_frame(struct tv_seg_writer *w, size_t pad)
{
	if (pad == 0)
		return 0;
	size_t c = w->comp.len;
	uint8_t fhd = w->comp.data[4];
	if ((fhd & 3) != 0) /* we never use dictionaries; refuse rather than guess */
		return -EINVAL;
	size_t wd = (fhd & 0x20) ? 0 : 1;
	size_t did = pad % 3, blocks = pad / 3;
	int rc = tv_buf_reserve(&w->comp, pad);
	if (rc)
		return rc;
	uint8_t *f = w->comp.data;
	size_t fixed = 5 + wd;   /* magic, descriptor, window descriptor */
	size_t rest = c - fixed; /* frame content size field, blocks, checksum */
	memmove(f + fixed + pad, f + fixed, rest);
	memset(f + fixed, 0, pad);
	/* the FCS field moves behind the new Dictionary_ID bytes, the empty
	 * blocks go after the whole header */
	size_t fcs_flag = fhd >> 6, single = (fhd >> 5) & 1;
	size_t fcs = fcs_flag == 0 ? single : (size_t)1 << fcs_flag;
	memmove(f + fixed + did, f + fixed + pad, fcs);
	memset(f + fixed + did + fcs, 0, blocks * 3);
	f[4] = (uint8_t)(fhd | did);
	w->comp.len = c + pad;
	return 0;
}

/* A streamed frame's header has no content size: put it in (4 bytes after
 * the window descriptor, Frame_Content_Size_flag 2). */
static int add_content_size(struct tv_seg_writer *w, size_t raw)
{
	uint8_t *f = w->comp.data;
	uint8_t fhd = f[4];
	if ((fhd >> 6) != 0 || (fhd & 0x23) != 0) /* streaming without a pledged size never sets these */
		return tv_err(-EIO, "%s: unexpected zstd frame header 0x%02x", w->path, fhd);
	int rc = tv_buf_reserve(&w->comp, 4);
	if (rc)
		return rc;
	f = w->comp.data;
	memmove(f + 10, f + 6, w->comp.len - 6);
	f[4] = (uint8_t)(fhd | 0x80);
	uint32_t v = (uint32_t)raw;
	memcpy(f + 6, &v, 4);
	w->comp.len += 4;
	return 0;
}

/* The most the open frame can be once ended, with `more` raw bytes added. */
static size_t worst_size(struct tv_seg_writer *w, size_t more)
{
	size_t pending = w->frame_raw - w->frame_fed + more + w->zpending, produced = w->comp.len;
	if (w->store && produced == 0) {
		produced = 9; /* magic, descriptor, content size */
	}
	return produced + pending + 3 * (pending / ZBLOCK + 1) + FRAME_OVERHEAD;
}

static bool fits(struct tv_seg_writer *w, size_t more)
{
	return !w->window_layout || worst_size(w, more) <= w->limit;
}

/* With the compressor's output exact (make_exact), whether a block of `more`
 * bytes probably fits, at twice the compression ratio of this frame so far
 * (of the last frames while this one is young). */
static bool likely_fits(struct tv_seg_writer *w, size_t more)
{
	if (w->store)
		return false;
	double r = w->frame_fed >= ((size_t)64 << 10) ? (double)w->comp.len / (double)w->frame_fed : w->ratio;
	r = 2 * r < 1.0 ? 2 * r : 1.0;
	return w->comp.len + (size_t)((double)more * r) + 3 * (more / ZBLOCK + 1) + FRAME_OVERHEAD <=
	       w->limit;
}

/* Store-only: appends raw blocks (without their header's Last_Block bit set;
 * the frame's end adds an empty last block). */
static int store_feed(struct tv_seg_writer *w, const uint8_t *p, size_t n)
{
	if (w->comp.len == 0) {
		static const uint8_t hdr[9] = {0x28, 0xB5, 0x2F, 0xFD,
					       0xA4}; /* FCS 4 bytes, single segment, checksum */
		if (tv_buf_append(&w->comp, hdr, sizeof(hdr)))
			return -ENOMEM;
	}
	XXH64_update(&w->xxh, p, n);
	for (size_t k; n; p += k, n -= k) {
		k = n < ZBLOCK ? n : ZBLOCK;
		uint32_t bh = (uint32_t)(k << 3); /* Raw_Block, not last */
		uint8_t h[3] = {(uint8_t)bh, (uint8_t)(bh >> 8), (uint8_t)(bh >> 16)};
		if (tv_buf_append(&w->comp, h, 3) || tv_buf_append(&w->comp, p, k))
			return -ENOMEM;
	}
	return 0;
}

static int zstd_stream(struct tv_seg_writer *w, const uint8_t *p, size_t n, ZSTD_EndDirective end)
{
	ZSTD_inBuffer in = {p, n, 0};
	for (;;) {
		size_t room = ZSTD_compressBound(n) + ZBLOCK + 64;
		if (tv_buf_reserve(&w->comp, room))
			return tv_err(-ENOMEM, "%s: out of memory for a frame", w->path);
		ZSTD_outBuffer out = {w->comp.data, w->comp.len + room, w->comp.len};
		size_t r = ZSTD_compressStream2(w->cctx, &out, &in, end);
		if (ZSTD_isError(r))
			return tv_err(-EIO, "%s: zstd: %s", w->path, ZSTD_getErrorName(r));
		w->comp.len = out.pos;
		if (in.pos == in.size && (end == ZSTD_e_continue || r == 0)) {
			/* input zstd holds but has not compressed yet (exact; asked once per call) */
			ZSTD_frameProgression fp = ZSTD_getFrameProgression(w->cctx);
			w->zpending = (size_t)(fp.ingested - fp.consumed);
			return 0;
		}
	}
}

/* Compresses what zstd holds, so the frame's size so far is exact. */
static int make_exact(struct tv_seg_writer *w)
{
	return w->store || w->zpending == 0 ? 0 : zstd_stream(w, NULL, 0, ZSTD_e_flush);
}

/* With the frame's size exact and a block of b bytes whose worst case does
 * not fit: whether the frame goes on with it. A block that likely compresses
 * into the room left goes in and is measured (w->probe).
 * @return false when the frame ends before the block. */
static bool make_room(struct tv_seg_writer *w, size_t b)
{
	if (fits(w, b))
		return true;
	w->probe = b >= 4096 && likely_fits(w, b);
	return w->probe;
}

/* Hands raw[0..n) (whole blocks, already counted in frame_raw) to the frame. */
static int feed(struct tv_seg_writer *w, const uint8_t *raw, size_t n)
{
	w->frame_fed += n;
	if (w->store)
		return store_feed(w, raw, n) ? tv_err(-ENOMEM, "%s: out of memory", w->path) : 0;
	for (size_t k; n; raw += k, n -= k) {
		k = n < FEED_MAX ? n : FEED_MAX;
		int rc = zstd_stream(w, raw, k, ZSTD_e_continue);
		if (rc)
			return rc;
	}
	return 0;
}

/* Lets the open frame, which may need `need` bytes, end exactly on a window
 * boundary: the first one past need, or about frame_bytes on where the data
 * does not compress. */
static void cross_windows(struct tv_seg_writer *w, size_t need)
{
	const size_t S = TV_WS_WINDOW;
	size_t left = S - (size_t)(w->fe.offset % S);
	size_t est = (size_t)((double)w->frame_bytes * (w->ratio < 1.0 ? w->ratio : 1.0)) + FRAME_OVERHEAD;
	size_t want = w->ratio > 0.6 && est > need ? est : need;
	size_t k = want > left ? (want - left + S - 1) / S : 1;
	w->crossing = true;
	w->limit = left + k * S;
}

/* Opens a frame at the current offset for a first block of `first` bytes:
 * where it may end under the window layout (w->limit). */
static int begin_frame(struct tv_seg_writer *w, size_t first)
{
	const size_t S = TV_WS_WINDOW;
	w->frame_open = true;
	w->frame_raw = w->frame_fed = 0;
	w->zpending = 0;
	w->crossing = w->probe = false;
	w->limit = SIZE_MAX;
	w->comp.len = 0;
	if (w->store) {
		XXH64_reset(&w->xxh, 0);
	} else {
		ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only);
		ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->level);
	}
	int rc = 0;
	size_t left = S - (size_t)(w->offset % S);
	if (w->window_layout && left < WINDOW_MIN_FILL) { /* too little to be worth a frame */
		rc = write_padding(w, left);
		left = S;
	}
	w->fe = (struct tv_frame_entry){.offset = w->offset};
	size_t need = first + 3 * (first / ZBLOCK + 1) + FRAME_OVERHEAD + 9;
	/* Big blocks that do not compress (GSO packets of random payload) fill a
	 * window badly: such frames cross windows and end exactly on a boundary
	 * about frame_bytes on, so the padding (under one block) is spread thin. */
	bool coarse = first >= S / 8 && w->ratio > 0.6;
	if (!w->window_layout || rc) {
		/* no limit */
	} else if (need <= left) {
		w->limit = left;
	} else if (coarse) {
		cross_windows(w, need);
	} else {
		/* Only the worst case is too big: the block likely compresses into
		 * what is left. It goes in alone and is measured (stream_blocks). */
		w->limit = left;
		w->probe = true;
	}
	return rc;
}

/* Ends the open frame and writes it, laid out for its window. */
static int end_frame(struct tv_seg_writer *w)
{
	if (!w->frame_open)
		return 0;
	w->frame_open = false;
	int rc;
	if (w->store) {
		static const uint8_t last[3] = {1, 0, 0}; /* an empty raw block, last */
		if (w->comp.len == 0 && store_feed(w, NULL, 0))
			return -ENOMEM;
		uint32_t sz = (uint32_t)w->frame_raw, sum = (uint32_t)XXH64_digest(&w->xxh);
		memcpy(w->comp.data + 5, &sz, 4);
		if (tv_buf_append(&w->comp, last, 3) || tv_buf_append(&w->comp, &sum, 4))
			return tv_err(-ENOMEM, "%s: out of memory", w->path);
	} else {
		if ((rc = zstd_stream(w, NULL, 0, ZSTD_e_end)) || (rc = add_content_size(w, w->frame_raw)))
			return rc;
	}
	size_t c = w->comp.len;
	if (w->window_layout) {
		/* A frame ends inside the window it starts in (padded to its end when
		 * less than a frame's worth is left), or exactly on a boundary. */
		const size_t S = TV_WS_WINDOW;
		size_t start = (size_t)(w->offset % S), first_left = S - start, gap;
		if (c <= first_left)
			gap = first_left - c < WINDOW_MIN_FILL ? first_left - c : 0;
		else
			gap = (S - (start + c) % S) % S;
		if (gap && (rc = pad_frame(w, gap)))
			return tv_err(rc, "%s: cannot pad frame", w->path);
	}
	w->ratio = 0.7 * w->ratio + 0.3 * ((double)c / (double)(w->frame_raw ? w->frame_raw : 1));
	w->fe.comp_size = (uint32_t)w->comp.len;
	w->fe.raw_size = (uint32_t)w->frame_raw;
	tv_sha256(w->comp.data, w->comp.len, w->fe.sha); /* the index vouches for each frame */
	if ((rc = tv_index_builder_frame(&w->builder, &w->fe)))
		return tv_err(rc, "%s: out of memory", w->path);
	if ((rc = out_write(w, w->comp.data, w->comp.len)))
		return rc;
	w->raw_total += w->frame_raw;
	return 0;
}

/* Indexes one EPB (or skips another block) into the open frame. */
static int account_block(struct tv_seg_writer *w, const struct tv_pcapng_block *blk)
{
	struct tv_pcapng_epb epb;
	if (blk->type != TV_PCAPNG_EPB)
		return 0;
	tv_pcapng_parse_epb(blk, &epb);
	struct tv_frame_entry *fe = &w->fe;
	if (fe->packets == 0 || epb.ts_raw < fe->ts_min)
		fe->ts_min = epb.ts_raw;
	if (fe->packets == 0 || epb.ts_raw > fe->ts_max)
		fe->ts_max = epb.ts_raw;
	fe->packets++;
	int rc = tv_index_builder_packet(&w->builder, epb.ifindex, epb.ts_raw, epb.caplen, epb.origlen,
					 epb.data, w->builder.idx.nframes);
	return rc ? tv_err(rc, "%s: out of memory", w->path) : 0;
}

/* @return 0 when raw[0..len) is whole pcapng blocks with valid EPBs, else -EINVAL. */
static int check_blocks(struct tv_seg_writer *w, const uint8_t *raw, size_t len)
{
	struct tv_pcapng_block blk;
	struct tv_pcapng_epb epb;
	for (size_t pos = 0; pos < len; pos += blk.total_len) {
		if (tv_pcapng_next_block(raw + pos, len - pos, &blk) != TV_PARSE_OK ||
		    (blk.type == TV_PCAPNG_EPB && (tv_pcapng_parse_epb(&blk, &epb) != TV_PARSE_OK ||
						   epb.ifindex >= w->builder.idx.niface)))
			return tv_err(-EINVAL, "%s: invalid pcapng block at offset %zu of %zu", w->path, pos,
				      len);
	}
	return 0;
}

/* Streams whole, checked blocks into frames. A run of blocks that fit is
 * handed to the compressor in one call. */
static int stream_blocks(struct tv_seg_writer *w, const uint8_t *raw, size_t len)
{
	struct tv_pcapng_block blk;
	size_t run = 0; /* raw[run_at .. run_at + run) is counted but not fed */
	const uint8_t *run_at = raw;
	int rc;
	for (size_t pos = 0; pos < len; pos += blk.total_len) {
		tv_pcapng_next_block(raw + pos, len - pos, &blk);
		size_t b = blk.total_len;
		if (w->frame_open && w->frame_raw) {
			/* a crossing frame fills its windows rather than stopping at frame_bytes */
			size_t cap = w->crossing ? TV_FRAME_RAW_MAX / 2 : w->frame_bytes;
			bool end = w->frame_raw + b > cap;
			if (!end && !fits(w, b)) {
				if ((rc = feed(w, run_at, run)) || (rc = make_exact(w)))
					return rc;
				run_at += run;
				run = 0;
				end = !make_room(w, b);
			}
			if (end) {
				if ((rc = feed(w, run_at, run)) || (rc = end_frame(w)))
					return rc;
				run_at += run;
				run = 0;
			}
		}
		if (!w->frame_open && (rc = begin_frame(w, b)))
			return rc;
		if ((rc = account_block(w, &blk)))
			return rc;
		w->frame_raw += b;
		run += b;
		if (w->probe) {
			/* a block whose worst case does not fit, but that likely
			 * compresses into the room left: in it goes, then measured */
			if ((rc = feed(w, run_at, run)) || (rc = make_exact(w)))
				return rc;
			run_at += run;
			run = 0;
			w->probe = false;
			size_t ws = worst_size(w, 0);
			if (ws > w->limit) /* it did not: the frame ends on a later boundary */
				cross_windows(w, ws);
		}
	}
	return feed(w, run_at, run);
}

static int stage_flush(struct tv_seg_writer *w)
{
	if (!w->stage.len)
		return 0;
	int rc = stream_blocks(w, w->stage.data, w->stage.len);
	tv_buf_reset(&w->stage);
	return rc;
}

static int write_frame0(struct tv_seg_writer *w, const struct tv_iface *ifaces, uint32_t niface)
{
	char comment[600];
	tv_seg_meta_format(&w->meta, comment, sizeof(comment));
	int rc = tv_pcapng_put_shb(&w->stage, comment);
	char desc[TV_NODE_MAX + 8];
	snprintf(desc, sizeof(desc), "node %s", w->meta.node);
	for (uint32_t i = 0; !rc && i < niface; i++)
		rc = tv_pcapng_put_idb(&w->stage, &ifaces[i], desc);
	if (rc)
		return tv_err(rc, "%s: cannot build frame 0", w->path);
	return tv_seg_writer_flush(w);
}

static int check_opts(const char *path, const struct tv_seg_writer_opts *o, uint32_t niface)
{
	if (!tv_node_name_valid(o->meta.node))
		return tv_err(-EINVAL, "%s: invalid node name '%s' (1-253 of A-Z a-z 0-9 . _ -)", path,
			      o->meta.node);
	if (niface == 0 || niface > TV_MAX_IFACES)
		return tv_err(-EINVAL, "%s: %u interfaces (1..%d allowed)", path, niface, TV_MAX_IFACES);
	if (o->frame_bytes > TV_FRAME_RAW_MAX / 2)
		return tv_err(-EINVAL, "%s: frame size %zu above %zu", path, o->frame_bytes,
			      TV_FRAME_RAW_MAX / 2);
	if (o->zstd_level < ZSTD_minCLevel() || o->zstd_level > ZSTD_maxCLevel())
		return tv_err(-EINVAL, "%s: zstd level %d out of range %d..%d", path, o->zstd_level,
			      ZSTD_minCLevel(), ZSTD_maxCLevel());
	return 0;
}

/* Points w (fresh or finished) at a new data file and writes frame 0. */
static int start_segment(struct tv_seg_writer *w, const char *data_path, const struct tv_seg_writer_opts *o,
			 const struct tv_iface *ifaces, uint32_t niface)
{
	w->meta = o->meta;
	w->frame_bytes = o->frame_bytes ? o->frame_bytes : TV_FRAME_BYTES_DEFAULT;
	w->window_layout = !o->no_window_layout;
	w->defer_fsync = o->defer_fsync;
	w->offset = w->raw_total = 0;
	w->frame_open = false;
	tv_buf_reset(&w->stage);
	free(w->path);
	tv_sha256_cleanup(&w->sha);
	tv_index_builder_cleanup(&w->builder);
	if (!(w->path = strdup(data_path)) || tv_sha256_init(&w->sha) ||
	    tv_index_builder_init(&w->builder, ifaces, niface, o->max_flows))
		return tv_err(-ENOMEM, "%s: out of memory", data_path);
	int rc = tv_seg_writer_set_level(w, o->zstd_level ? o->zstd_level : 1);
	if (rc)
		return tv_err(rc, "%s: zstd level %d refused", data_path, o->zstd_level);
	if ((rc = open_file(w, o->direct_io)))
		return rc;
	if ((rc = write_frame0(w, ifaces, niface))) {
		close(w->fd);
		w->fd = -1;
		unlink(data_path);
	}
	return rc;
}

int tv_seg_writer_open(struct tv_seg_writer **out, const char *data_path,
		       const struct tv_seg_writer_opts *opts, const struct tv_iface *ifaces, uint32_t niface)
{
	*out = NULL;
	int rc = check_opts(data_path, opts, niface);
	if (rc)
		return rc;
	struct tv_seg_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return tv_err(-ENOMEM, "%s: out of memory", data_path);
	w->fd = -1;
	w->ratio = 0.5;
	tv_buf_init(&w->comp, TV_FRAME_COMP_MAX + TV_WS_WINDOW);
	tv_buf_init(&w->stage, STAGE_BYTES + TV_MAX_PACKET + 64);
	w->cctx = ZSTD_createCCtx();
	if (opts->direct_io && tv_dio_out_new(&w->dio, DIO_BUFS, DIO_BUF_BYTES))
		w->dio = NULL; /* buffered writes then */
	if (!w->cctx) {
		tv_seg_writer_free(w);
		return tv_err(-ENOMEM, "%s: out of memory", data_path);
	}
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
	if ((rc = start_segment(w, data_path, opts, ifaces, niface))) {
		tv_seg_writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int tv_seg_writer_recycle(struct tv_seg_writer *w, const char *data_path,
			  const struct tv_seg_writer_opts *opts, const struct tv_iface *ifaces,
			  uint32_t niface)
{
	int rc = check_opts(data_path, opts, niface);
	if (rc)
		return rc;
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (opts->direct_io && !w->dio && tv_dio_out_new(&w->dio, DIO_BUFS, DIO_BUF_BYTES))
		w->dio = NULL;
	return start_segment(w, data_path, opts, ifaces, niface);
}

int tv_seg_writer_add(struct tv_seg_writer *w, const struct tv_packet *pkt)
{
	if (pkt->ifindex >= w->builder.idx.niface || pkt->caplen > TV_MAX_PACKET)
		return tv_err(-EINVAL, "%s: packet with interface %u, caplen %u refused", w->path,
			      pkt->ifindex, pkt->caplen);
	int rc;
	if (w->stage.len + tv_pcapng_epb_size(pkt->caplen) > STAGE_BYTES && (rc = stage_flush(w)))
		return rc;
	if ((rc = tv_pcapng_put_epb(&w->stage, pkt->ifindex, pkt->ts_ns, pkt->data, pkt->caplen,
				    pkt->origlen)))
		return tv_err(rc, "%s: out of memory", w->path);
	return 0;
}

int tv_seg_writer_add_blocks(struct tv_seg_writer *w, const uint8_t *raw, size_t len)
{
	int rc = check_blocks(w, raw, len);
	if (!rc)
		rc = stage_flush(w);
	return rc ? rc : stream_blocks(w, raw, len);
}

int tv_seg_writer_flush(struct tv_seg_writer *w)
{
	int rc = stage_flush(w);
	if (!rc)
		rc = end_frame(w);
	return rc ? rc : out_sync(w);
}

int tv_seg_writer_set_level(struct tv_seg_writer *w, int level)
{
	if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
		return -EINVAL;
	w->level = level; /* from the next frame on (a frame's parameters are fixed at its start) */
	return 0;
}

int tv_seg_writer_set_store(struct tv_seg_writer *w, bool store)
{
	if (store == w->store)
		return 0;
	int rc = stage_flush(w);
	if (!rc)
		rc = end_frame(w); /* a frame is compressed or stored throughout */
	if (!rc)
		w->store = store;
	return rc;
}

void tv_seg_writer_set_drops(struct tv_seg_writer *w, uint32_t ifindex, uint64_t kernel, uint64_t iface)
{
	if (ifindex >= w->builder.idx.niface)
		return;
	w->builder.idx.ifaces[ifindex].drops_kernel = kernel;
	w->builder.idx.ifaces[ifindex].drops_iface = iface;
}

uint64_t tv_seg_writer_raw_bytes(const struct tv_seg_writer *w)
{
	return w->raw_total + (w->frame_open ? w->frame_raw : 0) + w->stage.len;
}

uint64_t tv_seg_writer_data_bytes(const struct tv_seg_writer *w)
{
	return w->offset;
}

/* Fills the fields that are the same for a freshly written and a salvaged segment. */
void tv_seg_index_seal_fields(struct tv_index *idx, const struct tv_seg_meta *meta, uint64_t end_ns)
{
	snprintf(idx->node, sizeof(idx->node), "%s", meta->node);
	idx->seq = meta->seq;
	memcpy(idx->prev_sha, meta->prev_sha, TV_SHA256_LEN);
	idx->start_ns = meta->created_ns;
	if (idx->packets && idx->ts_min < idx->start_ns)
		idx->start_ns = idx->ts_min;
	idx->end_ns = end_ns > idx->start_ns ? end_ns : idx->start_ns + 1;
	if (idx->packets && idx->ts_max >= idx->end_ns)
		idx->end_ns = idx->ts_max + 1;
}

int tv_seg_events_digest(const char *events_path, struct tv_index *idx)
{
	if (!events_path)
		return 0;
	struct stat st;
	if (stat(events_path, &st) != 0)
		return tv_err(-errno, "%s: %s", events_path, strerror(errno));
	idx->events_size = (uint64_t)st.st_size;
	return tv_sha256_file(events_path, idx->events_sha);
}

int tv_seg_writer_finish(struct tv_seg_writer *w, uint64_t end_ns, const char *events_path,
			 struct tv_index *idx)
{
	memset(idx, 0, sizeof(*idx));
	int rc = tv_seg_writer_flush(w);
	if (rc)
		return rc;
	if (!w->defer_fsync && fdatasync(w->fd) != 0)
		return tv_err(-errno, "fdatasync %s: %s", w->path, strerror(errno));
	if (close(w->fd) != 0) {
		w->fd = -1;
		return tv_err(-errno, "close %s: %s", w->path, strerror(errno));
	}
	w->fd = -1;
	tv_index_builder_take(&w->builder, idx);
	tv_sha256_final(&w->sha, idx->data_sha);
	idx->data_size = w->offset;
	idx->data_raw_size = w->raw_total;
	tv_seg_index_seal_fields(idx, &w->meta, end_ns);
	if ((rc = tv_seg_events_digest(events_path, idx)))
		tv_index_cleanup(idx);
	return rc;
}

void tv_seg_writer_free(struct tv_seg_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	ZSTD_freeCCtx(w->cctx);
	tv_buf_cleanup(&w->comp);
	tv_buf_cleanup(&w->stage);
	tv_sha256_cleanup(&w->sha);
	tv_index_builder_cleanup(&w->builder);
	tv_dio_out_free(w->dio);
	free(w->path);
	free(w);
}
