/* SPDX-License-Identifier: Apache-2.0 */
/* seg_scan: index-less passes over zstd-framed files: rebuilding a segment's
 * index, salvaging a segment whose writer died, truncating a torn tail.
 *
 * Frames are found with ZSTD_findFrameCompressedSize inside a sliding read
 * buffer, decompressed (which verifies each frame's checksum) and handed to a
 * callback. The first frame that is incomplete or fails to verify ends the
 * valid prefix: everything before it is kept, nothing after it is guessed at. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

#define SCAN_WINDOW ((size_t)8 << 20)

void tv_seg_meta_format(const struct tv_seg_meta *m, char *out, size_t n)
{
	char hex[TV_SHA256_HEX_LEN];
	tv_hex(m->prev_sha, TV_SHA256_LEN, hex);
	snprintf(out, n,
		 "tapvault-segment v1 node=%s seq=%" PRIu64 " created_ns=%" PRIu64 " prev_index_sha256=%s",
		 m->node, m->seq, m->created_ns, hex);
}

int tv_seg_meta_parse(const char *comment, struct tv_seg_meta *m)
{
	char node[TV_NODE_MAX + 1], hex[TV_SHA256_HEX_LEN + 1];
	uint64_t seq, created;
	memset(m, 0, sizeof(*m));
	if (sscanf(comment,
		   "tapvault-segment v1 node=%253s seq=%" SCNu64 " created_ns=%" SCNu64
		   " prev_index_sha256=%65s",
		   node, &seq, &created, hex) != 4 ||
	    !tv_node_name_valid(node) || tv_unhex(hex, m->prev_sha, TV_SHA256_LEN))
		return TV_ECORRUPT;
	snprintf(m->node, sizeof(m->node), "%s", node);
	m->seq = seq;
	m->created_ns = created;
	return 0;
}

/* Called for each verified frame, and with raw == NULL for each skippable
 * (padding) frame; a non-zero return ends the scan there (the frame is not
 * counted as valid) with the message in reason. */
typedef int (*frame_fn)(void *ctx, uint32_t frame_no, uint64_t off, const uint8_t *comp, size_t comp_size,
			const uint8_t *raw, size_t raw_size, char *reason, size_t rn);

static int scan_frames(tv_read_at_fn read_at, void *src, uint64_t size, const char *what, frame_fn fn,
		       void *ctx, struct tv_scan_result *res)
{
	memset(res, 0, sizeof(*res));
	struct tv_buf win, raw;
	tv_buf_init(&win, SCAN_WINDOW + TV_FRAME_COMP_MAX);
	tv_buf_init(&raw, TV_FRAME_RAW_MAX);
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	int rc = 0;
	if (!dctx || tv_buf_reserve(&raw, TV_FRAME_RAW_MAX)) {
		rc = tv_err(-ENOMEM, "%s: out of memory", what);
		goto out;
	}
	uint64_t win_off = 0, off = 0;
	while (off < size) {
		/* Refill when the window may not hold the whole next frame. */
		if (off + TV_FRAME_COMP_MAX > win_off + win.len && win_off + win.len < size) {
			size_t n = (size_t)(size - off < SCAN_WINDOW ? size - off : SCAN_WINDOW);
			if ((rc = read_at(src, off, n, &win)))
				goto out;
			win_off = off;
		}
		const uint8_t *p = win.data + (off - win_off);
		size_t avail = (size_t)(win_off + win.len - off);
		size_t csize = ZSTD_findFrameCompressedSize(p, avail);
		if (ZSTD_isError(csize)) {
			snprintf(res->reason, sizeof(res->reason), "frame %u at offset %" PRIu64 ": %s",
				 res->frames, off, ZSTD_getErrorName(csize));
			break;
		}
		if (tv_zstd_is_skippable(p, avail)) {
			if (fn &&
			    fn(ctx, res->frames, off, p, csize, NULL, 0, res->reason, sizeof(res->reason)))
				break;
			off += csize;
			res->valid_bytes = off;
			continue;
		}
		unsigned long long rsize = ZSTD_getFrameContentSize(p, csize);
		if (rsize == ZSTD_CONTENTSIZE_UNKNOWN || rsize == ZSTD_CONTENTSIZE_ERROR ||
		    rsize > TV_FRAME_RAW_MAX) {
			snprintf(res->reason, sizeof(res->reason),
				 "frame %u at offset %" PRIu64 ": content size missing or above %zu",
				 res->frames, off, TV_FRAME_RAW_MAX);
			break;
		}
		size_t got = ZSTD_decompressDCtx(dctx, raw.data, TV_FRAME_RAW_MAX, p, csize);
		if (ZSTD_isError(got) || got != rsize) {
			snprintf(res->reason, sizeof(res->reason), "frame %u at offset %" PRIu64 ": %s",
				 res->frames, off,
				 ZSTD_isError(got) ? ZSTD_getErrorName(got) : "size mismatch");
			break;
		}
		if (fn &&
		    fn(ctx, res->frames, off, p, csize, raw.data, got, res->reason, sizeof(res->reason)))
			break;
		off += csize;
		res->frames++;
		res->valid_bytes = off;
	}
	res->torn = res->valid_bytes < size;
out:
	ZSTD_freeDCtx(dctx);
	tv_buf_cleanup(&win);
	tv_buf_cleanup(&raw);
	return rc;
}

struct reindex_ctx {
	struct tv_seg_meta meta;
	bool have_meta;
	struct tv_iface ifaces[TV_MAX_IFACES];
	uint32_t niface;
	struct tv_index_builder builder;
	bool builder_ready;
	struct tv_sha256 sha;
	uint64_t raw_total;
	int error; /* -ENOMEM and the like: not a property of the file */
};

static int parse_frame0(struct reindex_ctx *c, const uint8_t *raw, size_t n, char *reason, size_t rn)
{
	size_t off = 0;
	while (off < n) {
		struct tv_pcapng_block blk;
		if (tv_pcapng_next_block(raw + off, n - off, &blk) != TV_PARSE_OK)
			goto bad;
		if (off == 0) {
			char comment[700];
			if (tv_pcapng_parse_shb(&blk, comment, sizeof(comment)) != TV_PARSE_OK ||
			    tv_seg_meta_parse(comment, &c->meta))
				goto bad;
			c->have_meta = true;
		} else {
			uint64_t units;
			if (c->niface == TV_MAX_IFACES ||
			    tv_pcapng_parse_idb(&blk, &c->ifaces[c->niface], &units) != TV_PARSE_OK ||
			    units != 1000000000ULL) /* if_tsresol = 9 */
				goto bad;
			c->niface++;
		}
		off += blk.total_len;
	}
	if (!c->have_meta || c->niface == 0)
		goto bad;
	if (tv_index_builder_init(&c->builder, c->ifaces, c->niface, 0)) {
		c->error = -ENOMEM;
		return -1;
	}
	c->builder_ready = true;
	return 0;
bad:
	snprintf(reason, rn, "frame 0 is not a tapvault SHB followed by IDBs (block at offset %zu)", off);
	return -1;
}

static int index_frame(struct reindex_ctx *c, uint32_t no, uint64_t off, const uint8_t *comp,
		       size_t comp_size, const uint8_t *raw, size_t n, char *reason, size_t rn)
{
	struct tv_frame_entry fe = {.offset = off, .comp_size = (uint32_t)comp_size, .raw_size = (uint32_t)n};
	tv_sha256(comp, comp_size, fe.sha);
	size_t bad_at = 0;
	int rc = tv_index_builder_add_frame_blocks(&c->builder, raw, n, &fe, &bad_at);
	if (rc == TV_ECORRUPT)
		snprintf(reason, rn, "frame %u at offset %" PRIu64 ": bad pcapng block at %zu", no, off,
			 bad_at);
	else if (rc)
		c->error = rc;
	return rc ? -1 : 0;
}

static int reindex_frame(void *ctx, uint32_t no, uint64_t off, const uint8_t *comp, size_t comp_size,
			 const uint8_t *raw, size_t n, char *reason, size_t rn)
{
	struct reindex_ctx *c = ctx;
	int rc;
	if (!raw) { /* padding: part of the file's bytes, not of the index */
		tv_sha256_update(&c->sha, comp, comp_size);
		return 0;
	}
	if (no == 0) {
		if ((rc = parse_frame0(c, raw, n, reason, rn)))
			return rc;
		struct tv_frame_entry fe = {
			.offset = off, .comp_size = (uint32_t)comp_size, .raw_size = (uint32_t)n};
		tv_sha256(comp, comp_size, fe.sha);
		if (tv_index_builder_frame(&c->builder, &fe)) {
			c->error = -ENOMEM;
			return -1;
		}
	} else if ((rc = index_frame(c, no, off, comp, comp_size, raw, n, reason, rn))) {
		return rc;
	}
	tv_sha256_update(&c->sha, comp, comp_size);
	c->raw_total += n;
	return 0;
}

int tv_seg_reindex(tv_read_at_fn fn, void *src, uint64_t size, const char *what, struct tv_seg_meta *meta,
		   struct tv_index *idx, struct tv_scan_result *res)
{
	memset(idx, 0, sizeof(*idx));
	struct reindex_ctx *c = calloc(1, sizeof(*c));
	if (!c || tv_sha256_init(&c->sha)) {
		free(c);
		return tv_err(-ENOMEM, "%s: out of memory", what);
	}
	int rc = scan_frames(fn, src, size, what, reindex_frame, c, res);
	if (!rc && c->error)
		rc = tv_err(c->error, "%s: out of memory", what);
	if (!rc && !c->builder_ready)
		rc = tv_err(TV_ECORRUPT, "%s: nothing recoverable: %s", what,
			    res->reason[0] ? res->reason : "empty file");
	if (!rc) {
		tv_index_builder_take(&c->builder, idx);
		tv_sha256_final(&c->sha, idx->data_sha);
		idx->data_size = res->valid_bytes;
		idx->data_raw_size = c->raw_total;
		tv_seg_index_seal_fields(idx, &c->meta, 0);
		if (meta)
			*meta = c->meta;
	}
	tv_sha256_cleanup(&c->sha);
	if (c->builder_ready)
		tv_index_builder_cleanup(&c->builder);
	free(c);
	return rc;
}

static int open_sized(const char *path, int flags, uint64_t *size)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return tv_err(-errno, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = -errno;
		close(fd);
		return tv_err(e, "%s: %s", path, strerror(-e));
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

static int truncate_to(int fd, const char *path, uint64_t size)
{
	if (ftruncate(fd, (off_t)size) != 0)
		return tv_err(-errno, "truncate %s: %s", path, strerror(errno));
	if (fsync(fd) != 0)
		return tv_err(-errno, "fsync %s: %s", path, strerror(errno));
	return 0;
}

int tv_zstd_truncate_torn(const char *path, uint64_t *kept)
{
	uint64_t size;
	int fd = open_sized(path, O_RDWR, &size);
	if (fd < 0)
		return fd;
	struct tv_fd_source src = {fd, path};
	struct tv_scan_result res;
	int rc = scan_frames(tv_fd_read_at, &src, size, path, NULL, NULL, &res);
	if (!rc && res.torn)
		rc = truncate_to(fd, path, res.valid_bytes);
	close(fd);
	if (!rc && kept)
		*kept = res.valid_bytes;
	return rc;
}

int tv_seg_salvage(const char *data_path, const char *events_path, struct tv_index *idx,
		   struct tv_scan_result *res)
{
	uint64_t size;
	int fd = open_sized(data_path, O_RDWR, &size);
	if (fd < 0)
		return fd;
	struct tv_fd_source src = {fd, data_path};
	int rc = tv_seg_reindex(tv_fd_read_at, &src, size, data_path, NULL, idx, res);
	if (!rc && res->torn)
		rc = truncate_to(fd, data_path, res->valid_bytes);
	close(fd);
	if (!rc && events_path)
		rc = tv_zstd_truncate_torn(events_path, NULL);
	if (!rc)
		rc = tv_seg_events_digest(events_path, idx);
	if (rc)
		tv_index_cleanup(idx);
	return rc;
}
