/* SPDX-License-Identifier: Apache-2.0 */
/* seg_writer: pcapng into independent zstd frames, indexed as it goes.
 *
 * Packets are appended as EPBs to an uncompressed frame buffer; when the next
 * block would push it past frame_bytes the buffer is compressed in one call
 * (content size and checksum in the frame header) and written. The SHA-256 of
 * the data file is computed over the compressed bytes as they are written, so
 * sealing never re-reads the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/segment.h"
#include "archive/segment_meta.h"

/* A window with less left than this is padded rather than given a tiny frame. */
#define WINDOW_MIN_FILL 1024
/* Below this compressed/raw ratio a window holds 4+ times its size of pcapng. */
#define DIRECT_RATIO 0.25

struct tv_seg_writer {
	int fd;
	char *path;
	struct tv_seg_meta meta;
	size_t frame_bytes;
	ZSTD_CCtx *cctx;
	struct tv_buf raw;    /* pcapng of the open frame */
	struct tv_buf comp;   /* its compressed form */
	struct tv_sha256 sha; /* of the compressed bytes written so far */
	struct tv_index_builder builder;
	uint32_t buffered_packets; /* in raw, not yet compressed */
	double ratio;              /* running compressed/raw ratio */
	bool no_window_layout;
	bool defer_fsync;
	uint64_t offset;    /* compressed bytes written */
	uint64_t raw_total; /* pcapng bytes accepted */
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

/* Writes p[0..n) at the end of the data file and hashes it. Hashing here,
 * from memory, costs the least CPU per byte: reading the file back (even from
 * the page cache) copies every byte once more, and a hashing thread fed these
 * buffers measured 8 % more CPU than this on the agent's replay benchmark. */
static int write_hashed(struct tv_seg_writer *w, const void *p, size_t n)
{
	int rc = tv_write_all(w->fd, p, n, w->path);
	if (rc)
		return rc;
	tv_sha256_update(&w->sha, p, n);
	w->offset += n;
	return 0;
}

/* Writes a skippable frame of exactly n (>= 8) zero-filled bytes. */
static int write_padding(struct tv_seg_writer *w, size_t n)
{
	static const uint8_t zeros[4096];
	uint8_t hdr[8] = {0x50, 0x2A, 0x4D, 0x18};
	uint32_t body = (uint32_t)(n - 8);
	memcpy(hdr + 4, &body, 4);
	int rc = write_hashed(w, hdr, 8);
	for (size_t left = body; !rc && left;) {
		size_t k = left < sizeof(zeros) ? left : sizeof(zeros);
		rc = write_hashed(w, zeros, k);
		left -= k;
	}
	return rc;
}

/* @return the end of the last whole block at or before limit (at least one block). */
static size_t block_prefix(const uint8_t *raw, size_t len, size_t limit)
{
	size_t pos = 0;
	while (pos < len) {
		size_t next = pos + tv_le32(raw + pos + 4);
		if (next > limit && pos > 0)
			break;
		pos = next;
	}
	return pos;
}

/* Compresses raw[0..n) as one frame into w->comp. @return its size or <0. */
static long compress_frame(struct tv_seg_writer *w, const uint8_t *raw, size_t n)
{
	size_t bound = ZSTD_compressBound(n);
	tv_buf_reset(&w->comp);
	int rc = tv_buf_reserve(&w->comp, bound);
	if (rc)
		return tv_err(rc, "%s: cannot allocate %zu bytes for a frame", w->path, bound);
	size_t c = ZSTD_compress2(w->cctx, w->comp.data, bound, raw, n);
	if (ZSTD_isError(c))
		return tv_err(-EIO, "%s: zstd: %s", w->path, ZSTD_getErrorName(c));
	w->comp.len = c; /* pad_frame grows it */
	return (long)c;
}

/* Accounts the frame of raw[0..n) in the index, then writes its compressed
 * form (accounting first: it validates the blocks and fails without effect). */
static int write_frame(struct tv_seg_writer *w, const uint8_t *raw, size_t n, size_t c)
{
	struct tv_frame_entry fe = {.offset = w->offset, .comp_size = (uint32_t)c, .raw_size = (uint32_t)n};
	tv_sha256(w->comp.data, c, fe.sha); /* the index vouches for each frame (snapshots keep some) */
	int rc = tv_index_builder_add_frame_blocks(&w->builder, raw, n, &fe, NULL);
	if (rc)
		return tv_err(rc == TV_ECORRUPT ? -EINVAL : rc, "%s: frame %u holds invalid pcapng blocks",
			      w->path, w->builder.idx.nframes);
	if ((rc = write_hashed(w, w->comp.data, c)))
		return rc;
	w->raw_total += n;
	return 0;
}

/* Grows the frame in w->comp (c bytes) by exactly pad bytes without changing
 * what it decodes to: empty raw blocks (3 zero bytes each) after the header,
 * and for pad % 3 a 1- or 2-byte Dictionary_ID field of value 0 ("none").
 * Lets a frame end exactly on a window boundary. @return 0 or -EFBIG. */
static int pad_frame(struct tv_seg_writer *w, size_t c, size_t pad)
{
	if (pad == 0)
		return 0;
	uint8_t *f = w->comp.data;
	uint8_t fhd = f[4];
	if ((fhd & 3) != 0) /* we never use dictionaries; refuse rather than guess */
		return -EINVAL;
	size_t wd = (fhd & 0x20) ? 0 : 1;
	size_t did = pad % 3;
	size_t blocks = pad / 3;
	int rc = tv_buf_reserve(&w->comp, pad);
	if (rc)
		return rc;
	f = w->comp.data;
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
	return 0;
}

/* Writes one frame (or, when the window is nearly full, one padding frame)
 * from the front of raw[0..len), laid out for Wireshark 4.0 (see segment.h):
 * every window (TV_WS_WINDOW bytes of the file) starts with a frame. A frame
 * either ends inside the window it starts in, or ends exactly on a later
 * window boundary (padded inside the frame by pad_frame). Frames are sized
 * from the running compression ratio and re-cut when the guess was off.
 * *used gets the raw bytes consumed (0 after padding). */
static int emit_one(struct tv_seg_writer *w, const uint8_t *raw, size_t len, size_t *used)
{
	const size_t S = TV_WS_WINDOW;
	*used = 0;
	size_t left = S - (size_t)(w->offset % S);
	if (left < WINDOW_MIN_FILL) /* too little to be worth a frame */
		return write_padding(w, left);
	double ratio = w->ratio > 0.01 ? w->ratio : 0.01;
	double est = (double)len * ratio;
	size_t target = left, n = len;
	if (est > (double)left * 0.97) {
		/* Fill the rest of this window with a frame that ends inside it. When
		 * blocks are too big for that (large incompressible packets) and there
		 * is enough data, cross windows instead with a frame that ends exactly
		 * on a boundary several windows on, so the padding (under one block)
		 * is spread thin; with little data left, pad the window out. */
		n = block_prefix(raw, len, (size_t)((double)left * 0.97 / ratio));
		bool coarse = n < len && (double)n * ratio < (double)left * 0.75;
		if (coarse && est >= (double)(left + S)) {
			target = left + (size_t)((est - (double)left) / (double)S) * S;
			n = block_prefix(raw, len, (size_t)((double)target * 0.995 / ratio));
		} else if (coarse && left < S / 4) {
			return write_padding(w, left);
		}
	}
	long c;
	for (int tries = 0;; tries++) {
		if ((c = compress_frame(w, raw, n)) < 0)
			return (int)c;
		if ((size_t)c <= target)
			break;
		size_t smaller =
			block_prefix(raw, n, (size_t)((double)n * (double)target / (double)c * 0.98));
		if (smaller < n && tries < 6) {
			n = smaller;
			continue;
		}
		/* One block larger than the target. Start it in a fresh window (the
		 * compressed frame waits in w->comp), crossing only if it must. */
		if (target == left && left < S) {
			int rc = write_padding(w, left);
			if (rc)
				return rc;
			left = target = S;
		}
		if ((size_t)c > target)
			target += (((size_t)c - target) / S + 1) * S;
		break;
	}
	/* running compression ratio, to size the next frame for its window */
	w->ratio = 0.7 * w->ratio + 0.3 * ((double)c / (double)n);
	size_t gap = target - (size_t)c;
	/* Fill to the boundary when the frame crosses one or would leave a gap
	 * too small for another frame (or for a skippable frame, 8 bytes). */
	if ((target > left || gap < WINDOW_MIN_FILL) && gap) {
		int rc = pad_frame(w, (size_t)c, gap);
		if (rc)
			return tv_err(rc, "%s: cannot pad frame", w->path);
		c += (long)gap;
	}
	*used = n;
	return write_frame(w, raw, n, (size_t)c);
}

/* Emits all of raw[0..len) (a flush: the last frame may end mid-window). */
static int emit(struct tv_seg_writer *w, const uint8_t *raw, size_t len)
{
	if (w->no_window_layout) {
		long c = compress_frame(w, raw, len);
		w->ratio = c > 0 ? (double)c / (double)len : w->ratio;
		return c < 0 ? (int)c : write_frame(w, raw, len, (size_t)c);
	}
	while (len) {
		size_t used;
		int rc = emit_one(w, raw, len, &used);
		if (rc)
			return rc;
		raw += used;
		len -= used;
	}
	return 0;
}

/* Emits from raw only frames that reach a window boundary, leaving the tail
 * (less than what fills the current window) for later packets: fewer frame
 * ends means less padding. *done gets the bytes consumed. */
static int emit_to_boundaries(struct tv_seg_writer *w, const uint8_t *raw, size_t len, size_t *done)
{
	*done = 0;
	int rc = 0;
	while (!rc) {
		size_t left = TV_WS_WINDOW - (size_t)(w->offset % TV_WS_WINDOW);
		if ((double)(len - *done) * w->ratio < (double)left + TV_WS_WINDOW / 8)
			break;
		size_t used;
		rc = emit_one(w, raw + *done, len - *done, &used);
		*done += used;
	}
	return rc;
}

static int emit_greedy(struct tv_seg_writer *w)
{
	if (w->no_window_layout) {
		int rc = emit(w, w->raw.data, w->raw.len);
		tv_buf_reset(&w->raw);
		return rc;
	}
	size_t done;
	int rc = emit_to_boundaries(w, w->raw.data, w->raw.len, &done);
	memmove(w->raw.data, w->raw.data + done, w->raw.len - done);
	w->raw.len -= done;
	return rc;
}

/* Compresses and writes everything buffered. */
static int close_frame(struct tv_seg_writer *w)
{
	int rc = emit(w, w->raw.data, w->raw.len);
	tv_buf_reset(&w->raw);
	return rc;
}

static int write_frame0(struct tv_seg_writer *w, const struct tv_iface *ifaces, uint32_t niface)
{
	char comment[600];
	tv_seg_meta_format(&w->meta, comment, sizeof(comment));
	int rc = tv_pcapng_put_shb(&w->raw, comment);
	char desc[TV_NODE_MAX + 8];
	snprintf(desc, sizeof(desc), "node %s", w->meta.node);
	for (uint32_t i = 0; !rc && i < niface; i++)
		rc = tv_pcapng_put_idb(&w->raw, &ifaces[i], desc);
	if (rc)
		return tv_err(rc, "%s: cannot build frame 0", w->path);
	return close_frame(w);
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
	w->meta = opts->meta;
	w->frame_bytes = opts->frame_bytes ? opts->frame_bytes : TV_FRAME_BYTES_DEFAULT;
	w->ratio = 0.5;
	w->no_window_layout = opts->no_window_layout;
	w->defer_fsync = opts->defer_fsync;
	tv_buf_init(&w->raw, TV_FRAME_RAW_MAX);
	tv_buf_init(&w->comp, TV_FRAME_COMP_MAX);
	w->path = strdup(data_path);
	w->cctx = ZSTD_createCCtx();
	if (!w->path || !w->cctx || tv_sha256_init(&w->sha) ||
	    tv_index_builder_init(&w->builder, ifaces, niface, opts->max_flows)) {
		rc = tv_err(-ENOMEM, "%s: out of memory", data_path);
		goto fail;
	}
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, opts->zstd_level ? opts->zstd_level : 1);
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1);
	w->fd = open(data_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		rc = tv_err(-errno, "create %s: %s", data_path, strerror(errno));
		goto fail;
	}
	if ((rc = write_frame0(w, ifaces, niface)))
		goto fail;
	*out = w;
	return 0;
fail:
	if (w->fd >= 0)
		unlink(data_path);
	tv_seg_writer_free(w);
	return rc;
}

int tv_seg_writer_add(struct tv_seg_writer *w, const struct tv_packet *pkt)
{
	if (pkt->ifindex >= w->builder.idx.niface || pkt->caplen > TV_MAX_PACKET)
		return tv_err(-EINVAL, "%s: packet with interface %u, caplen %u refused", w->path,
			      pkt->ifindex, pkt->caplen);
	size_t need = tv_pcapng_epb_size(pkt->caplen);
	int rc;
	if (w->buffered_packets && w->raw.len + need > w->frame_bytes && (rc = emit_greedy(w)))
		return rc;
	if (w->raw.len + need > w->frame_bytes && (rc = tv_seg_writer_flush(w)))
		return rc; /* the tail did not shrink (ratio guess far off): emit it all */
	if ((rc = tv_pcapng_put_epb(&w->raw, pkt->ifindex, pkt->ts_ns, pkt->data, pkt->caplen, pkt->origlen)))
		return tv_err(rc, "%s: out of memory", w->path);
	w->buffered_packets++;
	return 0;
}

int tv_seg_writer_flush(struct tv_seg_writer *w)
{
	if (!w->buffered_packets)
		return 0;
	w->buffered_packets = 0;
	return close_frame(w);
}

int tv_seg_writer_add_blocks(struct tv_seg_writer *w, const uint8_t *raw, size_t len)
{
	/* Buffered like single packets, so frames can span chunks: the caller
	 * flushes (at least once a second) to bound what a crash can lose. */
	bool direct = len >= w->frame_bytes / 2 && !w->no_window_layout;
	/* Emitted whole, straight from the caller's buffer: what is too big to
	 * buffer, and compressible traffic, where a window holds many blocks so
	 * cutting frames at chunk ends costs no padding (no copy at all; 6 % less
	 * CPU on HTTP-like traffic). */
	bool whole = len > TV_FRAME_RAW_MAX / 2 || (direct && w->ratio < DIRECT_RATIO);
	int rc;
	if (w->raw.len && (whole || w->raw.len + len > TV_FRAME_RAW_MAX / 2) && (rc = tv_seg_writer_flush(w)))
		return rc;
	if (whole)
		return emit(w, raw, len);
	size_t done = 0;
	/* Nothing pending: compress straight from the caller's buffer and keep
	 * only the tail (saves copying every chunk). The tail waits for the next
	 * chunk so that large incompressible blocks fill windows well. */
	if (w->raw.len == 0 && direct && (rc = emit_to_boundaries(w, raw, len, &done)))
		return rc;
	raw += done;
	len -= done;
	rc = tv_buf_append(&w->raw, raw, len);
	if (rc)
		return tv_err(rc, "%s: out of memory", w->path);
	w->buffered_packets++;
	return w->raw.len >= w->frame_bytes ? emit_greedy(w) : 0;
}

int tv_seg_writer_set_level(struct tv_seg_writer *w, int level)
{
	if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
		return -EINVAL;
	size_t r = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level);
	return ZSTD_isError(r) ? -EINVAL : 0;
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
	return w->raw_total + w->raw.len;
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
	if (!w->defer_fsync && fsync(w->fd) != 0)
		return tv_err(-errno, "fsync %s: %s", w->path, strerror(errno));
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
	tv_buf_cleanup(&w->raw);
	tv_buf_cleanup(&w->comp);
	tv_sha256_cleanup(&w->sha);
	tv_index_builder_cleanup(&w->builder);
	free(w->path);
	free(w);
}
