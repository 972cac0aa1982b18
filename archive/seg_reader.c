/* SPDX-License-Identifier: Apache-2.0 */
/* seg_reader: reads the packets a selection needs, frame by frame.
 *
 * The selection is a per-frame flag computed from the index (window overlap or
 * the flow's frame ranges). Runs of consecutive selected frames are fetched
 * with one read (up to FETCH_MAX bytes), so a remote store sees few ranged GETs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/segment.h"

#define FETCH_MAX ((size_t)8 << 20)

struct tv_seg_reader {
	const struct tv_index *idx;
	tv_read_at_fn read_at;
	void *ctx;
	char what[256];
	ZSTD_DCtx *dctx;
	uint8_t *selected; /* per frame */
	uint64_t from, to;
	bool by_flow;
	struct tv_flow_key flow;
	uint32_t iface_only; /* UINT32_MAX: every interface */
	/* fetched run of frames [fetch_first, fetch_end) held in fetch */
	struct tv_buf fetch;
	uint32_t fetch_first, fetch_end;
	/* the frame being walked */
	struct tv_buf raw;
	uint32_t next_frame; /* next frame to decompress */
	size_t raw_off;      /* next block in raw; raw.len when exhausted */
	uint32_t frames_read;
	uint64_t bytes_fetched;
};

int tv_fd_read_at(void *ctx, uint64_t off, size_t len, struct tv_buf *out)
{
	struct tv_fd_source *src = ctx;
	tv_buf_reset(out);
	int rc = tv_buf_reserve(out, len);
	if (rc)
		return tv_err(rc, "%s: cannot buffer %zu bytes", src->path, len);
	if ((rc = tv_pread_all(src->fd, out->data, len, off, src->path)))
		return rc;
	out->len = len;
	return 0;
}

int tv_mem_read_at(void *ctx, uint64_t off, size_t len, struct tv_buf *out)
{
	struct tv_mem_source *src = ctx;
	tv_buf_reset(out);
	if (off > src->len || len > src->len - off)
		return tv_err(TV_ETRUNC, "memory object of %zu bytes has no range %llu+%zu", src->len,
			      (unsigned long long)off, len);
	return tv_buf_append(out, src->data + off, len);
}

int tv_seg_reader_open(struct tv_seg_reader **out, const struct tv_index *idx, tv_read_at_fn fn, void *ctx,
		       const char *what)
{
	struct tv_seg_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return tv_err(-ENOMEM, "%s: out of memory", what);
	r->idx = idx;
	r->read_at = fn;
	r->ctx = ctx;
	snprintf(r->what, sizeof(r->what), "%s", what);
	r->dctx = ZSTD_createDCtx();
	r->selected = calloc(idx->nframes ? idx->nframes : 1, 1);
	tv_buf_init(&r->fetch, FETCH_MAX + TV_FRAME_COMP_MAX);
	tv_buf_init(&r->raw, TV_FRAME_RAW_MAX);
	if (!r->dctx || !r->selected) {
		tv_seg_reader_free(r);
		return tv_err(-ENOMEM, "%s: out of memory", what);
	}
	r->iface_only = UINT32_MAX;
	tv_seg_reader_select_window(r, 0, UINT64_MAX);
	*out = r;
	return 0;
}

void tv_seg_reader_free(struct tv_seg_reader *r)
{
	if (!r)
		return;
	ZSTD_freeDCtx(r->dctx);
	free(r->selected);
	tv_buf_cleanup(&r->fetch);
	tv_buf_cleanup(&r->raw);
	free(r);
}

static void restart(struct tv_seg_reader *r);

int tv_seg_reader_rebind(struct tv_seg_reader *r, const struct tv_index *idx, tv_read_at_fn fn, void *ctx,
			 const char *what)
{
	uint8_t *sel = realloc(r->selected, idx->nframes ? idx->nframes : 1);
	if (!sel)
		return tv_err(-ENOMEM, "%s: out of memory", what);
	r->selected = sel;
	r->idx = idx;
	r->read_at = fn;
	r->ctx = ctx;
	snprintf(r->what, sizeof(r->what), "%s", what);
	r->fetch_first = r->fetch_end = 0;
	r->frames_read = 0;
	r->bytes_fetched = 0;
	r->by_flow = false;
	r->iface_only = UINT32_MAX;
	tv_seg_reader_select_window(r, 0, UINT64_MAX);
	return 0;
}

static void restart(struct tv_seg_reader *r)
{
	r->next_frame = 0;
	r->raw_off = 0;
	tv_buf_reset(&r->raw);
}

void tv_seg_reader_select_window(struct tv_seg_reader *r, uint64_t from, uint64_t to)
{
	r->from = from;
	r->to = to;
	r->by_flow = false;
	for (uint32_t i = 0; i < r->idx->nframes; i++)
		r->selected[i] = tv_frame_overlaps(&r->idx->frames[i], from, to);
	restart(r);
}

int tv_seg_reader_select_flow(struct tv_seg_reader *r, const struct tv_flow_key *k, uint64_t from,
			      uint64_t to)
{
	const struct tv_flow *f = tv_index_find_flow(r->idx, k);
	if (!f)
		return -ENOENT;
	r->from = from;
	r->to = to;
	r->by_flow = true;
	r->flow = *k;
	memset(r->selected, 0, r->idx->nframes);
	for (uint32_t i = 0; i < f->nranges; i++)
		for (uint32_t j = 0; j < f->ranges[i].count; j++) {
			uint32_t fr = f->ranges[i].first + j;
			if (fr < r->idx->nframes)
				r->selected[fr] = tv_frame_overlaps(&r->idx->frames[fr], from, to);
		}
	restart(r);
	return 0;
}

/* Makes frame i's compressed bytes available in r->fetch, fetching a run. */
static int fetch_frame(struct tv_seg_reader *r, uint32_t i, const uint8_t **comp)
{
	const struct tv_frame_entry *fr = r->idx->frames;
	if (i < r->fetch_first || i >= r->fetch_end) {
		/* Coalesce following selected frames; padding between frames is read along. */
		uint32_t end = i + 1;
		uint64_t bytes = fr[i].comp_size;
		while (end < r->idx->nframes && r->selected[end] &&
		       fr[end].offset >= fr[end - 1].offset + fr[end - 1].comp_size &&
		       fr[end].offset + fr[end].comp_size - fr[i].offset <= FETCH_MAX)
			bytes = fr[end].offset + fr[end].comp_size - fr[i].offset, end++;
		r->fetch_end = r->fetch_first = 0;
		int rc = r->read_at(r->ctx, fr[i].offset, (size_t)bytes, &r->fetch);
		if (rc)
			return rc;
		r->bytes_fetched += bytes;
		r->fetch_first = i;
		r->fetch_end = end;
	}
	*comp = r->fetch.data + (fr[i].offset - fr[r->fetch_first].offset);
	return 0;
}

static int load_frame(struct tv_seg_reader *r, uint32_t i)
{
	const struct tv_frame_entry *f = &r->idx->frames[i];
	if (f->comp_size > TV_FRAME_COMP_MAX || f->raw_size > TV_FRAME_RAW_MAX)
		return tv_err(TV_ECORRUPT,
			      "%s: frame %u at offset %llu: index gives sizes %u/%u above limits", r->what, i,
			      (unsigned long long)f->offset, f->comp_size, f->raw_size);
	const uint8_t *comp;
	int rc = fetch_frame(r, i, &comp);
	if (rc)
		return rc;
	tv_buf_reset(&r->raw);
	if ((rc = tv_buf_reserve(&r->raw, f->raw_size)))
		return tv_err(rc, "%s: out of memory", r->what);
	size_t n = ZSTD_decompressDCtx(r->dctx, r->raw.data, f->raw_size, comp, f->comp_size);
	if (ZSTD_isError(n))
		return tv_err(TV_ECORRUPT, "%s: frame %u at offset %llu: %s", r->what, i,
			      (unsigned long long)f->offset, ZSTD_getErrorName(n));
	if (n != f->raw_size)
		return tv_err(TV_ECORRUPT, "%s: frame %u at offset %llu: %zu bytes, index says %u", r->what,
			      i, (unsigned long long)f->offset, n, f->raw_size);
	r->raw.len = n;
	r->frames_read++;
	return 0;
}

void tv_seg_reader_select_iface(struct tv_seg_reader *r, uint32_t ifindex)
{
	r->iface_only = ifindex;
	restart(r);
}

static bool wanted(struct tv_seg_reader *r, const struct tv_packet *p)
{
	if (p->ts_ns < r->from || p->ts_ns >= r->to)
		return false;
	if (r->iface_only != UINT32_MAX && p->ifindex != r->iface_only)
		return false;
	if (!r->by_flow)
		return true;
	struct tv_flow_key k;
	if (p->ifindex >= r->idx->niface)
		return false;
	tv_flow_key_parse(r->idx->ifaces[p->ifindex].linktype, p->data, p->caplen, &k);
	return tv_flow_key_same_conversation(&k, &r->flow);
}

int tv_seg_reader_next(struct tv_seg_reader *r, struct tv_packet *pkt)
{
	for (;;) {
		while (r->raw_off < r->raw.len) {
			struct tv_pcapng_block blk;
			uint32_t frame = r->next_frame - 1;
			if (tv_pcapng_next_block(r->raw.data + r->raw_off, r->raw.len - r->raw_off, &blk) !=
			    TV_PARSE_OK) {
				size_t at = r->raw_off;
				r->raw_off = r->raw.len;
				return tv_err(TV_ECORRUPT,
					      "%s: frame %u: bad pcapng block at offset %zu of the frame",
					      r->what, frame, at);
			}
			r->raw_off += blk.total_len;
			if (blk.type != TV_PCAPNG_EPB)
				continue;
			struct tv_pcapng_epb epb;
			if (tv_pcapng_parse_epb(&blk, &epb) != TV_PARSE_OK || epb.ifindex >= r->idx->niface) {
				r->raw_off = r->raw.len;
				return tv_err(TV_ECORRUPT, "%s: frame %u: bad packet block", r->what, frame);
			}
			*pkt = (struct tv_packet){epb.ifindex, epb.ts_raw, epb.caplen, epb.origlen, epb.data};
			if (wanted(r, pkt))
				return 1;
		}
		while (r->next_frame < r->idx->nframes && !r->selected[r->next_frame])
			r->next_frame++;
		if (r->next_frame >= r->idx->nframes)
			return 0;
		uint32_t i = r->next_frame++;
		r->raw_off = 0;
		tv_buf_reset(&r->raw);
		int rc = load_frame(r, i);
		if (rc) {
			tv_buf_reset(&r->raw);
			return rc;
		}
	}
}

uint32_t tv_seg_reader_frames_read(const struct tv_seg_reader *r)
{
	return r->frames_read;
}

uint64_t tv_seg_reader_bytes_fetched(const struct tv_seg_reader *r)
{
	return r->bytes_fetched;
}
