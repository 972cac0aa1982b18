/* SPDX-License-Identifier: Apache-2.0 */
/* shard: one slice of a window's connections (shard.h). */
#include "dissector/query/shard.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/flow.h"
#include "archive/index.h"
#include "dissector/query/window.h"

#define MAX_SHARDS 100000u

struct flow_slot {
	struct tv_flow_key key; /* canonical; family 0: empty slot */
	uint64_t first, last;
	uint32_t owner;
};

struct tv_shard {
	struct tv_shard_info info;
	struct flow_slot *slots;
	size_t cap, n;  /* cap: a power of two */
	uint64_t *cuts; /* count + 1 times: slice k is [cuts[k], cuts[k + 1]) */
};

/* ---- the flow table (open addressing, linear probing) ---- */

static struct flow_slot *slot_of(const struct tv_shard *s, const struct tv_flow_key *canon)
{
	size_t mask = s->cap - 1;
	for (size_t i = (size_t)tv_flow_key_hash(canon) & mask;; i = (i + 1) & mask) {
		struct flow_slot *sl = &s->slots[i];
		if (sl->key.family == TV_FLOW_OTHER || memcmp(&sl->key, canon, sizeof(*canon)) == 0)
			return sl;
	}
}

static int grow(struct tv_shard *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 1024;
	struct flow_slot *old = s->slots;
	size_t ocap = s->cap;
	if (!(s->slots = calloc(ncap, sizeof(*s->slots)))) {
		s->slots = old;
		return -ENOMEM;
	}
	s->cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].key.family != TV_FLOW_OTHER)
			*slot_of(s, &old[i].key) = old[i];
	free(old);
	return 0;
}

/* Records that the conversation has packets between ts_min and ts_max. */
static int note_flow(struct tv_shard *s, const struct tv_flow *f)
{
	if ((s->n + 1) * 2 > s->cap && grow(s))
		return -ENOMEM;
	struct tv_flow_key canon;
	tv_flow_key_canonical(&f->key, &canon);
	struct flow_slot *sl = slot_of(s, &canon);
	if (sl->key.family == TV_FLOW_OTHER) {
		sl->key = canon;
		sl->first = f->ts_min;
		sl->last = f->ts_max;
		s->n++;
		return 0;
	}
	if (f->ts_min < sl->first)
		sl->first = f->ts_min;
	if (f->ts_max > sl->last)
		sl->last = f->ts_max;
	return 0;
}

/* ---- the plan ---- */

struct timed_bytes {
	uint64_t ts, bytes;
};

static int cmp_timed(const void *a, const void *b)
{
	const struct timed_bytes *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->bytes < y->bytes ? -1 : x->bytes > y->bytes;
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Frames with packets in the window, each as its bytes at its first
 * packet's time (clipped to the window), in time order. */
static int frames_by_time(const struct tv_window *w, uint64_t from, uint64_t to, struct timed_bytes **out,
			  size_t *n)
{
	size_t total = 0;
	for (uint32_t i = 0; i < tv_window_segments(w); i++) {
		const struct tv_index *idx;
		tv_window_segment(w, i, &idx);
		total += idx->nframes;
	}
	struct timed_bytes *tb = calloc(total + 1, sizeof(*tb));
	if (!tb)
		return -ENOMEM;
	size_t k = 0;
	for (uint32_t i = 0; i < tv_window_segments(w); i++) {
		const struct tv_index *idx;
		tv_window_segment(w, i, &idx);
		for (uint32_t f = 0; f < idx->nframes; f++) {
			const struct tv_frame_entry *fe = &idx->frames[f];
			if (!fe->packets || fe->ts_max < from || fe->ts_min >= to)
				continue;
			tb[k++] = (struct timed_bytes){clamp(fe->ts_min, from, to - 1), fe->raw_size};
		}
	}
	qsort(tb, k, sizeof(*tb), cmp_timed);
	*out = tb;
	*n = k;
	return 0;
}

/* cuts[0] = from, cuts[count] = to, and cut k at the time of the frame that
 * brings the running total to k/count of the window's bytes. */
static int place_cuts(struct tv_shard *s, const struct tv_window *w, uint64_t from, uint64_t to)
{
	uint32_t count = s->info.count;
	if (!(s->cuts = calloc(count + 1, sizeof(*s->cuts))))
		return -ENOMEM;
	struct timed_bytes *tb;
	size_t n;
	if (frames_by_time(w, from, to, &tb, &n))
		return -ENOMEM;
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += tb[i].bytes;
	s->cuts[0] = from;
	uint64_t run = 0;
	size_t i = 0;
	for (uint32_t k = 1; k < count; k++) {
		/* __int128: total * k does not overflow for any window */
		unsigned __int128 goal = (unsigned __int128)total * k / count;
		while (i < n && run < goal)
			run += tb[i++].bytes;
		s->cuts[k] = i < n ? tb[i].ts : to;
		if (s->cuts[k] < s->cuts[k - 1])
			s->cuts[k] = s->cuts[k - 1];
	}
	s->cuts[count] = to;
	s->info.bytes_window = total;
	for (size_t j = 0; j < n; j++)
		if (tb[j].ts >= s->cuts[s->info.index] && tb[j].ts < s->cuts[s->info.index + 1])
			s->info.bytes_slice += tb[j].bytes;
	free(tb);
	return 0;
}

static uint32_t slice_of(const struct tv_shard *s, uint64_t ts)
{
	uint32_t lo = 0, hi = s->info.count; /* cuts[lo] <= ts < cuts[hi] */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (s->cuts[mid] <= ts)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int collect_flows(struct tv_shard *s, const struct tv_window *w, uint64_t from, uint64_t to)
{
	for (uint32_t i = 0; i < tv_window_segments(w); i++) {
		const struct tv_index *idx;
		tv_window_segment(w, i, &idx);
		for (uint32_t f = 0; f < idx->nflows; f++) {
			const struct tv_flow *fl = &idx->flows[f];
			if (fl->key.family == TV_FLOW_OTHER || fl->ts_max < from || fl->ts_min >= to)
				continue;
			if (note_flow(s, fl))
				return -ENOMEM;
		}
	}
	return 0;
}

/* Each connection's owner, and the packets this shard must read: from the
 * first packet of its first connection to the last of its last. */
static void assign_owners(struct tv_shard *s, uint64_t from, uint64_t to)
{
	struct tv_shard_info *in = &s->info;
	in->read_from = UINT64_MAX;
	in->read_to = 0;
	for (size_t i = 0; i < s->cap; i++) {
		struct flow_slot *sl = &s->slots[i];
		if (sl->key.family == TV_FLOW_OTHER)
			continue;
		in->flows++;
		sl->owner = slice_of(s, clamp(sl->first, from, to - 1));
		if (sl->owner != in->index)
			continue;
		in->flows_owned++;
		uint64_t a = clamp(sl->first, from, to - 1), b = clamp(sl->last, from, to - 1) + 1;
		if (a < in->read_from)
			in->read_from = a;
		if (b > in->read_to)
			in->read_to = b;
	}
	if (in->read_from == UINT64_MAX)
		in->read_from = in->read_to = in->cut_from; /* nothing to read */
}

int tv_shard_plan(struct tv_shard **out, const struct tv_window *w, uint64_t from, uint64_t to,
		  uint32_t index, uint32_t count)
{
	*out = NULL;
	if (count == 0 || count > MAX_SHARDS || index >= count)
		return tv_err(-EINVAL, "shard %u/%u: the index must be below the count (1..%u)", index, count,
			      MAX_SHARDS);
	if (from >= to)
		return tv_err(-EINVAL, "empty window");
	struct tv_shard *s = calloc(1, sizeof(*s));
	if (!s)
		return tv_err(-ENOMEM, "out of memory");
	s->info.index = index;
	s->info.count = count;
	int rc = grow(s);
	if (!rc)
		rc = collect_flows(s, w, from, to);
	if (!rc)
		rc = place_cuts(s, w, from, to);
	if (rc) {
		tv_shard_free(s);
		return tv_err(-ENOMEM, "out of memory");
	}
	s->info.cut_from = s->cuts[index];
	s->info.cut_to = s->cuts[index + 1];
	assign_owners(s, from, to);
	*out = s;
	return 0;
}

void tv_shard_free(struct tv_shard *s)
{
	if (!s)
		return;
	free(s->slots);
	free(s->cuts);
	free(s);
}

void tv_shard_info(const struct tv_shard *s, struct tv_shard_info *out)
{
	*out = s->info;
}

bool tv_shard_owns(const struct tv_shard *s, uint16_t linktype, const uint8_t *pkt, uint32_t caplen)
{
	struct tv_flow_key k, canon;
	if (!tv_flow_key_parse(linktype, pkt, caplen, &k))
		return false;
	tv_flow_key_canonical(&k, &canon);
	const struct flow_slot *sl = slot_of(s, &canon);
	if (sl->key.family != TV_FLOW_OTHER)
		return sl->owner == s->info.index;
	return tv_flow_key_hash(&canon) % s->info.count == s->info.index;
}

int tv_shard_parse(const char *text, uint32_t *index, uint32_t *count)
{
	char *end;
	errno = 0;
	unsigned long i = strtoul(text, &end, 10);
	if (errno || end == text || *end != '/')
		return -EINVAL;
	const char *c = end + 1;
	unsigned long n = strtoul(c, &end, 10);
	if (errno || end == c || *end || n == 0 || n > MAX_SHARDS || i >= n || text[0] == '-' || c[0] == '-')
		return -EINVAL;
	*index = (uint32_t)i;
	*count = (uint32_t)n;
	return 0;
}
