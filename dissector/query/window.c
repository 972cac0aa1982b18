/* SPDX-License-Identifier: Apache-2.0 */
/* window: see window.h. */
#include "dissector/query/window.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/decode.h"
#include "archive/keys.h"
#include "archive/names.h"
#include "dissector/query/catalog.h"

#define DEDUP_SLOTS (1u << 16)

struct seg {
	char *data_key;
	struct tv_index idx;
	struct tv_store_source src;
	uint32_t *out_if; /* per input interface: output interface */
};

/* One time-ordered input of the merge: one interface of one segment. */
struct stream {
	size_t seg;
	uint32_t iface;
	uint64_t first_ts;       /* no packet of the stream is earlier */
	struct tv_seg_reader *r; /* open only while the stream is in the heap */
	struct tv_packet cur;
};

struct dedup_slot {
	uint64_t h1, h2, ts;
	uint32_t len;
};

struct tv_window {
	struct tv_store *store;
	struct tv_window_opts o;
	struct seg *segs;
	size_t nsegs, alloc;
	struct tv_window_iface *ifaces;
	uint32_t niface;
	struct stream *streams;
	size_t nstreams;
	size_t *heap; /* stream positions ordered by current packet time */
	size_t nheap;
	ssize_t advance;               /* the stream whose packet was returned last */
	size_t next_stream;            /* streams are activated in first_ts order */
	char before[TV_KEY_MAX];       /* the node's last segment starting before the window */
	struct tv_seg_reader *idle[8]; /* readers of finished streams, for reuse */
	size_t nidle;
	struct dedup_slot *slots;
	struct tv_window_stats st;
	char **quiet_events; /* events keys of segments with no packet in the window */
	size_t nquiet;
};

/* ---- finding segments ---- */

static bool overlaps(const struct tv_index *idx, uint64_t from, uint64_t to)
{
	return idx->packets && idx->ts_max >= from && idx->ts_min < to;
}

static int keep_events_key(struct tv_window *w, const char *index_key)
{
	char key[TV_KEY_MAX + 32];
	if (tv_key_sibling(index_key, TV_KEY_SUFFIX_EVENTS, key, sizeof(key)))
		return 0;
	char **v = realloc(w->quiet_events, (w->nquiet + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	w->quiet_events = v;
	if (!(v[w->nquiet] = strdup(key)))
		return -ENOMEM;
	w->nquiet++;
	return 0;
}

static int add_segment(struct tv_window *w, const char *index_key)
{
	struct tv_buf b;
	tv_buf_init(&b, TV_INDEX_MAX_BYTES);
	struct tv_index idx;
	int rc = tv_store_get(w->store, index_key, &b);
	w->st.bytes_fetched += b.len;
	if (!rc)
		rc = tv_index_decode(b.data, b.len, index_key, &idx);
	tv_buf_cleanup(&b);
	if (rc == -ENOMEM)
		return rc;
	if (rc) { /* named in tv_errmsg; the rest of the window is still exported */
		tv_report_skipped(w->o.report, tv_errmsg());
		w->st.damaged++;
		return 0;
	}
	if (!overlaps(&idx, w->o.from, w->o.to)) {
		/* no packet in the window, but its events may say who held an
		 * address then (a pod deleted while it was quiet) */
		int r = idx.events_size && idx.start_ns < w->o.to && idx.end_ns > w->o.from
				? keep_events_key(w, index_key)
				: 0;
		tv_index_cleanup(&idx);
		return r;
	}
	if (w->nsegs == w->alloc) {
		size_t a = w->alloc ? w->alloc * 2 : 16;
		struct seg *p = realloc(w->segs, a * sizeof(*p));
		if (!p) {
			tv_index_cleanup(&idx);
			return -ENOMEM;
		}
		w->segs = p;
		w->alloc = a;
	}
	struct seg *s = &w->segs[w->nsegs];
	memset(s, 0, sizeof(*s));
	char data_key[TV_KEY_MAX + 32];
	tv_key_sibling(index_key, TV_KEY_SUFFIX_DATA, data_key, sizeof(data_key));
	if (!(s->data_key = strdup(data_key))) {
		tv_index_cleanup(&idx);
		return -ENOMEM;
	}
	s->idx = idx;
	w->nsegs++;
	return 0;
}

/* A node's segments tile time, so of those starting before the window only
 * the last can reach into it: the earlier ones' indexes are not fetched. */
static int on_index(void *ctx, const char *index_key)
{
	struct tv_window *w = ctx;
	struct tv_segment_key k;
	if (tv_key_parse_segment(index_key, &k))
		return 0;
	if (k.start_ns < w->o.from) {
		snprintf(w->before, sizeof(w->before), "%s", index_key);
		return 0;
	}
	if (w->before[0]) {
		int rc = add_segment(w, w->before);
		w->before[0] = '\0';
		if (rc)
			return rc;
	}
	return add_segment(w, index_key);
}

static int find_node(void *ctx, const char *node)
{
	struct tv_window *w = ctx;
	w->before[0] = '\0';
	int rc = tv_catalog_indexes(w->store, w->o.prefix, node, w->o.from, w->o.to, on_index, w);
	if (!rc && w->before[0])
		rc = add_segment(w, w->before);
	return rc;
}

/* Every node asked for (all by default), each with its streams. */
static int for_each_node(struct tv_window *w)
{
	return tv_catalog_each_node(w->store, w->o.prefix, w->o.nodes, w->o.nnodes, find_node, w);
}

/* ---- interfaces ---- */

static int iface_index(struct tv_window *w, const char *node, const struct tv_iface *f, uint32_t *out)
{
	for (uint32_t i = 0; i < w->niface; i++) {
		const struct tv_window_iface *x = &w->ifaces[i];
		if (!strcmp(x->node, node) && !strcmp(x->iface.name, f->name) &&
		    x->iface.linktype == f->linktype) {
			if (f->snaplen > x->iface.snaplen)
				w->ifaces[i].iface.snaplen = f->snaplen;
			*out = i;
			return 0;
		}
	}
	struct tv_window_iface *p = realloc(w->ifaces, (w->niface + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	w->ifaces = p;
	memset(&p[w->niface], 0, sizeof(*p));
	snprintf(p[w->niface].node, sizeof(p[w->niface].node), "%s", node);
	p[w->niface].iface = *f;
	p[w->niface].iface.packets = p[w->niface].iface.drops_kernel = p[w->niface].iface.drops_iface = 0;
	*out = w->niface++;
	return 0;
}

static int cmp_segs(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;
	int c = strcmp(x->idx.node, y->idx.node);
	return c ? c : (x->idx.start_ns > y->idx.start_ns) - (x->idx.start_ns < y->idx.start_ns);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

static int cmp_streams(const void *a, const void *b)
{
	const struct stream *x = a, *y = b;
	int c = cmp_u64(x->first_ts, y->first_ts);
	if (!c)
		c = cmp_u64(x->seg, y->seg);
	return c ? c : cmp_u64(x->iface, y->iface);
}

/* ---- heap ---- */

static bool earlier(struct tv_window *w, size_t a, size_t b)
{
	const struct stream *x = &w->streams[w->heap[a]], *y = &w->streams[w->heap[b]];
	if (x->cur.ts_ns != y->cur.ts_ns)
		return x->cur.ts_ns < y->cur.ts_ns;
	return w->heap[a] < w->heap[b]; /* stable: node order, then time */
}

static void sift_down(struct tv_window *w, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < w->nheap && earlier(w, l, m))
			m = l;
		if (r < w->nheap && earlier(w, r, m))
			m = r;
		if (m == i)
			return;
		size_t t = w->heap[i];
		w->heap[i] = w->heap[m];
		w->heap[m] = t;
		i = m;
	}
}

static void sift_up(struct tv_window *w, size_t i)
{
	while (i > 0 && earlier(w, i, (i - 1) / 2)) {
		size_t p = (i - 1) / 2, t = w->heap[i];
		w->heap[i] = w->heap[p];
		w->heap[p] = t;
		i = p;
	}
}

/* Reads the next packet of stream i into its head. @return 1, 0 (end), <0 damaged. */
static int pull(struct tv_window *w, size_t i)
{
	int rc = tv_seg_reader_next(w->streams[i].r, &w->streams[i].cur);
	if (rc < 0)
		w->st.damaged++;
	return rc;
}

static void close_stream(struct tv_window *w, size_t i)
{
	struct stream *st = &w->streams[i];
	if (st->r) {
		w->st.bytes_fetched += tv_seg_reader_bytes_fetched(st->r);
		if (w->nidle < sizeof(w->idle) / sizeof(w->idle[0]))
			w->idle[w->nidle++] = st->r;
		else
			tv_seg_reader_free(st->r);
		st->r = NULL;
	}
}

/* Opens the streams that may hold packets no later than the heap's head. */
static int activate(struct tv_window *w)
{
	while (w->next_stream < w->nstreams &&
	       (w->nheap == 0 || w->streams[w->next_stream].first_ts <= w->streams[w->heap[0]].cur.ts_ns)) {
		size_t i = w->next_stream++;
		struct stream *st = &w->streams[i];
		struct seg *sg = &w->segs[st->seg];
		int rc;
		if (w->nidle) {
			st->r = w->idle[--w->nidle];
			rc = tv_seg_reader_rebind(st->r, &sg->idx, tv_store_read_at, &sg->src, sg->data_key);
		} else {
			rc = tv_seg_reader_open(&st->r, &sg->idx, tv_store_read_at, &sg->src, sg->data_key);
		}
		if (rc)
			return rc;
		tv_seg_reader_select_window(st->r, w->o.from, w->o.to);
		tv_seg_reader_select_iface(st->r, st->iface);
		int r;
		while ((r = pull(w, i)) < 0) /* a damaged frame: named, the stream goes on */
			tv_report_skipped(w->o.report, tv_errmsg());
		if (r == 1) {
			w->heap[w->nheap++] = i;
			sift_up(w, w->nheap - 1);
		} else {
			close_stream(w, i);
		}
	}
	return 0;
}

int tv_window_open(struct tv_window **out, struct tv_store *s, const struct tv_window_opts *o)
{
	*out = NULL;
	struct tv_window *w = calloc(1, sizeof(*w));
	if (!w)
		return tv_err(-ENOMEM, "out of memory");
	w->store = s;
	w->o = *o;
	w->advance = -1;
	int rc = for_each_node(w);
	if (!rc && w->nsegs)
		qsort(w->segs, w->nsegs, sizeof(*w->segs), cmp_segs);
	size_t total = 0;
	for (size_t i = 0; i < w->nsegs; i++)
		total += w->segs[i].idx.niface;
	if (!rc && (!(w->heap = calloc(total + 1, sizeof(*w->heap))) ||
		    !(w->streams = calloc(total + 1, sizeof(*w->streams)))))
		rc = -ENOMEM;
	if (!rc && o->dedup_window_ns && !(w->slots = calloc(DEDUP_SLOTS, sizeof(*w->slots))))
		rc = -ENOMEM;
	for (size_t i = 0; !rc && i < w->nsegs; i++) {
		struct seg *sg = &w->segs[i];
		if (!(sg->out_if = calloc(sg->idx.niface + 1, sizeof(*sg->out_if)))) {
			rc = -ENOMEM;
			break;
		}
		sg->src = (struct tv_store_source){s, sg->data_key};
		for (uint32_t k = 0; !rc && k < sg->idx.niface; k++) {
			rc = iface_index(w, sg->idx.node, &sg->idx.ifaces[k], &sg->out_if[k]);
			struct stream *st = &w->streams[w->nstreams++];
			st->seg = i;
			st->iface = k;
			st->first_ts = sg->idx.ts_min > o->from ? sg->idx.ts_min : o->from;
		}
	}
	if (rc) {
		tv_window_free(w);
		return rc == -ENOMEM ? tv_err(rc, "out of memory") : rc;
	}
	/* Streams join the merge lazily, in first_ts order, so only the
	 * segments that overlap the merge point hold a reader and buffers. */
	qsort(w->streams, w->nstreams, sizeof(*w->streams), cmp_streams);
	*out = w;
	return 0;
}

void tv_window_free(struct tv_window *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->nstreams; i++)
		tv_seg_reader_free(w->streams[i].r);
	for (size_t i = 0; i < w->nidle; i++)
		tv_seg_reader_free(w->idle[i]);
	free(w->streams);
	for (size_t i = 0; i < w->nsegs; i++) {
		tv_index_cleanup(&w->segs[i].idx);
		free(w->segs[i].data_key);
		free(w->segs[i].out_if);
	}
	free(w->segs);
	free(w->ifaces);
	free(w->heap);
	free(w->slots);
	for (size_t i = 0; i < w->nquiet; i++)
		free(w->quiet_events[i]);
	free(w->quiet_events);
	free(w);
}

const struct tv_window_iface *tv_window_ifaces(const struct tv_window *w, uint32_t *n)
{
	*n = w->niface;
	return w->ifaces;
}

const char *tv_window_segment(const struct tv_window *w, uint32_t i, const struct tv_index **idx)
{
	*idx = &w->segs[i].idx;
	return w->segs[i].data_key;
}

uint32_t tv_window_segments(const struct tv_window *w)
{
	return (uint32_t)w->nsegs;
}

/* Two 64-bit hashes of the bytes in one pass (word-wise multiply-mix). */
static void hash2(const uint8_t *p, size_t n, uint64_t *h1, uint64_t *h2)
{
	uint64_t a = 0x9E3779B97F4A7C15ULL ^ n, b = 0xC2B2AE3D27D4EB4FULL + n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v;
		memcpy(&v, p + i, 8);
		a = (a ^ v) * 0xBF58476D1CE4E5B9ULL;
		a ^= a >> 29;
		b = (b + v) * 0x94D049BB133111EBULL;
		b ^= b >> 31;
	}
	uint64_t tail = 0;
	memcpy(&tail, p + i, n - i);
	a = (a ^ tail) * 0xBF58476D1CE4E5B9ULL;
	b = (b + tail) * 0x94D049BB133111EBULL;
	*h1 = a ^ (a >> 32);
	*h2 = b ^ (b >> 29);
}

/* @return true when p duplicates a packet emitted within the window. */
static bool duplicate(struct tv_window *w, const struct seg *s, const struct tv_packet *p)
{
	uint16_t lt = s->idx.ifaces[p->ifindex].linktype;
	uint32_t off = tv_l3_offset(lt, p->data, p->caplen);
	uint64_t h1, h2;
	hash2(p->data + off, p->caplen - off, &h1, &h2);
	struct dedup_slot *c[2] = {&w->slots[h1 & (DEDUP_SLOTS - 1)], &w->slots[h2 & (DEDUP_SLOTS - 1)]};
	for (int i = 0; i < 2; i++)
		if (c[i]->h1 == h1 && c[i]->h2 == h2 && c[i]->len == p->origlen && p->ts_ns >= c[i]->ts &&
		    p->ts_ns - c[i]->ts <= w->o.dedup_window_ns)
			return true;
	/* remember it in the older of its two slots */
	struct dedup_slot *v = c[0]->ts <= c[1]->ts ? c[0] : c[1];
	*v = (struct dedup_slot){h1, h2, p->ts_ns, p->origlen};
	return false;
}

int tv_window_next(struct tv_window *w, struct tv_packet *out)
{
	for (;;) {
		if (w->advance >= 0) {
			/* the packet returned last is consumed: move its stream on */
			size_t i = (size_t)w->advance;
			w->advance = -1;
			int r = pull(w, i);
			if (r == 1) {
				w->heap[0] = i;
				sift_down(w, 0);
			} else {
				w->heap[0] = w->heap[--w->nheap];
				sift_down(w, 0);
				if (r < 0) {
					/* damaged frame: report; the stream resumes after it */
					int rc = r, again;
					tv_report_skipped(w->o.report, tv_errmsg());
					while ((again = pull(w, i)) < 0)
						tv_report_skipped(w->o.report, tv_errmsg());
					if (again == 1) {
						w->heap[w->nheap++] = i;
						sift_up(w, w->nheap - 1);
					} else {
						close_stream(w, i);
					}
					return rc;
				}
				close_stream(w, i);
			}
		}
		int rc = activate(w);
		if (rc)
			return rc;
		if (w->nheap == 0)
			return 0;
		size_t i = w->heap[0];
		struct stream *st = &w->streams[i];
		struct seg *s = &w->segs[st->seg];
		w->advance = (ssize_t)i;
		if (w->slots && duplicate(w, s, &st->cur)) {
			w->st.duplicates++;
			continue;
		}
		*out = st->cur;
		out->ifindex = s->out_if[st->cur.ifindex];
		w->st.packets++;
		return 1;
	}
}

void tv_window_stats(const struct tv_window *w, struct tv_window_stats *st)
{
	*st = w->st;
	for (size_t i = 0; i < w->nstreams; i++)
		if (w->streams[i].r)
			st->bytes_fetched += tv_seg_reader_bytes_fetched(w->streams[i].r);
}

void tv_window_progress(const struct tv_window *w, uint64_t *done, uint64_t *total)
{
	*done = w->next_stream;
	*total = w->nstreams;
}

static bool load_names_of(struct tv_window *w, struct tv_names *names, const char *key, struct tv_buf *b)
{
	tv_buf_reset(b);
	if (!tv_store_get(w->store, key, b) && !tv_names_add_events(names, b->data, b->len, key))
		return true;
	char what[600];
	snprintf(what, sizeof(what), "%s (its names skipped)", tv_errmsg());
	tv_report_skipped(w->o.report, what);
	return false;
}

uint64_t tv_window_load_names(struct tv_window *w, struct tv_names *names)
{
	struct tv_buf b;
	tv_buf_init(&b, 0);
	uint64_t damaged = 0;
	for (size_t i = 0; i < w->nsegs; i++) {
		char key[TV_KEY_MAX + 32];
		if (!w->segs[i].idx.events_size ||
		    tv_key_sibling(w->segs[i].data_key, TV_KEY_SUFFIX_EVENTS, key, sizeof(key)))
			continue;
		damaged += !load_names_of(w, names, key, &b);
	}
	for (size_t i = 0; i < w->nquiet; i++)
		damaged += !load_names_of(w, names, w->quiet_events[i], &b);
	tv_buf_cleanup(&b);
	return damaged;
}
