/* SPDX-License-Identifier: Apache-2.0 */
/* index: see index.h. The decoder validates every count against the bytes that
 * remain before allocating, so a hostile index cannot make it allocate more
 * than a small multiple of its own size. */
#include "archive/index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/decode.h"
#include "archive/sign.h"

#define FRAME_ENTRY_BYTES_V1 36
#define FRAME_ENTRY_BYTES (36 + TV_SHA256_LEN)
#define SIG_BLOCK_BYTES (2 * TV_SHA256_LEN + 64)
#define FLOW_FIXED_BYTES_V2 (40 + 32 + 4)
#define FLOW_FIXED_BYTES (FLOW_FIXED_BYTES_V2 + 24) /* version 3: + packets_rev, bytes_rev, syn, rst */
#define IFACE_FIXED_BYTES (2 + 4 + 24 + 1)
#define HEADER_BYTES 24

void tv_index_cleanup(struct tv_index *idx)
{
	if (!idx)
		return;
	for (uint32_t i = 0; i < idx->nflows; i++)
		free(idx->flows[i].ranges);
	free(idx->flows);
	free(idx->frames);
	free(idx->ifaces);
	memset(idx, 0, sizeof(*idx));
}

static void put_flow_key(struct tv_buf *b, const struct tv_flow_key *k)
{
	tv_buf_put_u8(b, k->family);
	tv_buf_put_u8(b, k->proto);
	tv_buf_put_u16(b, k->vlan);
	tv_buf_append(b, k->src, 16);
	tv_buf_append(b, k->dst, 16);
	tv_buf_put_u16(b, k->sport);
	tv_buf_put_u16(b, k->dport);
}

static size_t encoded_size(const struct tv_index *idx)
{
	size_t n = HEADER_BYTES + 2 + strlen(idx->node) + 8 * 12 + 3 * TV_SHA256_LEN + 12 + TV_SHA256_LEN;
	for (uint32_t i = 0; i < idx->niface; i++)
		n += IFACE_FIXED_BYTES + strlen(idx->ifaces[i].name);
	n += (size_t)idx->nframes * FRAME_ENTRY_BYTES;
	for (uint32_t i = 0; i < idx->nflows; i++)
		n += FLOW_FIXED_BYTES + (size_t)idx->flows[i].nranges * 8;
	return n + SIG_BLOCK_BYTES;
}

int tv_index_encode(const struct tv_index *idx, struct tv_buf *out)
{
	size_t total = encoded_size(idx);
	size_t base = out->len;
	int rc = tv_buf_reserve(out, total);
	if (rc)
		return rc;
	/* Space is reserved: the appends below cannot fail. */
	tv_buf_append(out, TV_INDEX_MAGIC, 8);
	tv_buf_put_u32(out, TV_INDEX_VERSION);
	tv_buf_put_u32(out, idx->flags);
	tv_buf_put_u64(out, total);
	size_t nlen = strlen(idx->node);
	tv_buf_put_u16(out, (uint16_t)nlen);
	tv_buf_append(out, idx->node, nlen);
	const uint64_t fields[] = {idx->seq,       idx->start_ns,      idx->end_ns,      idx->ts_min,
				   idx->ts_max,    idx->packets,       idx->bytes_wire,  idx->bytes_captured,
				   idx->data_size, idx->data_raw_size, idx->events_size, idx->os_lost};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		tv_buf_put_u64(out, fields[i]);
	tv_buf_append(out, idx->data_sha, TV_SHA256_LEN);
	tv_buf_append(out, idx->events_sha, TV_SHA256_LEN);
	tv_buf_append(out, idx->prev_sha, TV_SHA256_LEN);
	tv_buf_put_u32(out, idx->niface);
	for (uint32_t i = 0; i < idx->niface; i++) {
		const struct tv_iface *f = &idx->ifaces[i];
		tv_buf_put_u16(out, f->linktype);
		tv_buf_put_u32(out, f->snaplen);
		tv_buf_put_u64(out, f->packets);
		tv_buf_put_u64(out, f->drops_kernel);
		tv_buf_put_u64(out, f->drops_iface);
		size_t l = strlen(f->name);
		tv_buf_put_u8(out, (uint8_t)l);
		tv_buf_append(out, f->name, l);
	}
	tv_buf_put_u32(out, idx->nframes);
	for (uint32_t i = 0; i < idx->nframes; i++) {
		const struct tv_frame_entry *f = &idx->frames[i];
		tv_buf_put_u64(out, f->offset);
		tv_buf_put_u32(out, f->comp_size);
		tv_buf_put_u32(out, f->raw_size);
		tv_buf_put_u64(out, f->ts_min);
		tv_buf_put_u64(out, f->ts_max);
		tv_buf_put_u32(out, f->packets);
		tv_buf_append(out, f->sha, TV_SHA256_LEN);
	}
	tv_buf_put_u32(out, idx->nflows);
	for (uint32_t i = 0; i < idx->nflows; i++) {
		const struct tv_flow *f = &idx->flows[i];
		put_flow_key(out, &f->key);
		tv_buf_put_u64(out, f->ts_min);
		tv_buf_put_u64(out, f->ts_max);
		tv_buf_put_u64(out, f->packets);
		tv_buf_put_u64(out, f->bytes);
		tv_buf_put_u64(out, f->packets_rev);
		tv_buf_put_u64(out, f->bytes_rev);
		tv_buf_put_u32(out, f->syn);
		tv_buf_put_u32(out, f->rst);
		tv_buf_put_u32(out, f->nranges);
		for (uint32_t r = 0; r < f->nranges; r++) {
			tv_buf_put_u32(out, f->ranges[r].first);
			tv_buf_put_u32(out, f->ranges[r].count);
		}
	}
	tv_buf_append(out, idx->key_id, TV_SHA256_LEN);
	tv_buf_append(out, idx->prev_key_id, TV_SHA256_LEN);
	tv_buf_append(out, idx->signature, sizeof(idx->signature));
	uint8_t digest[TV_SHA256_LEN];
	if ((rc = tv_sha256(out->data + base, out->len - base, digest)))
		return rc;
	return tv_buf_append(out, digest, TV_SHA256_LEN);
}

int tv_index_encode_signed(struct tv_index *idx, const struct tv_signer *s, struct tv_buf *out)
{
	idx->flags |= TV_INDEX_SIGNED;
	memcpy(idx->key_id, tv_signer_key_id(s), TV_SHA256_LEN);
	memset(idx->signature, 0, sizeof(idx->signature));
	size_t base = out->len;
	int rc = tv_index_encode(idx, out);
	if (rc)
		return rc;
	/* the signature covers every byte before it; then the trailer is redone */
	size_t total = out->len - base, sig_at = total - TV_SHA256_LEN - 64;
	uint8_t *obj = out->data + base;
	if ((rc = tv_sign(s, obj, sig_at, idx->signature)))
		return rc;
	memcpy(obj + sig_at, idx->signature, 64);
	idx->signed_len = sig_at;
	return tv_sha256(obj, total - TV_SHA256_LEN, obj + total - TV_SHA256_LEN);
}

bool tv_index_signature_ok(const uint8_t *raw, size_t len, const struct tv_index *idx, const uint8_t pub[32])
{
	if (!(idx->flags & TV_INDEX_SIGNED) || idx->version < 2 ||
	    idx->signed_len + 64 + TV_SHA256_LEN != len)
		return false;
	return tv_sig_check(pub, raw, idx->signed_len, idx->signature);
}

/* A bounds-checked cursor over the encoded bytes. */
struct cursor {
	const uint8_t *p;
	size_t left;
	bool short_read;
};

static const uint8_t *take(struct cursor *c, size_t n)
{
	if (c->short_read || n > c->left) {
		c->short_read = true;
		return NULL;
	}
	const uint8_t *p = c->p;
	c->p += n;
	c->left -= n;
	return p;
}

static uint8_t get_u8(struct cursor *c)
{
	const uint8_t *p = take(c, 1);
	return p ? p[0] : 0;
}
static uint16_t get_u16(struct cursor *c)
{
	const uint8_t *p = take(c, 2);
	return p ? tv_le16(p) : 0;
}
static uint32_t get_u32(struct cursor *c)
{
	const uint8_t *p = take(c, 4);
	return p ? tv_le32(p) : 0;
}
static uint64_t get_u64(struct cursor *c)
{
	const uint8_t *p = take(c, 8);
	return p ? tv_le64(p) : 0;
}
static void get_bytes(struct cursor *c, void *out, size_t n)
{
	const uint8_t *p = take(c, n);
	if (p)
		memcpy(out, p, n);
}

/* @return a count, or -1 if count elements of at least `each` bytes cannot fit. */
static int64_t get_count(struct cursor *c, size_t each)
{
	uint32_t n = get_u32(c);
	if (c->short_read || (uint64_t)n * each > c->left)
		return -1;
	return n;
}

static int decode_ifaces(struct cursor *c, struct tv_index *idx)
{
	int64_t n = get_count(c, IFACE_FIXED_BYTES);
	if (n < 0)
		return TV_ECORRUPT;
	idx->ifaces = calloc((size_t)n ? (size_t)n : 1, sizeof(*idx->ifaces));
	if (!idx->ifaces)
		return -ENOMEM;
	idx->niface = (uint32_t)n;
	for (uint32_t i = 0; i < idx->niface; i++) {
		struct tv_iface *f = &idx->ifaces[i];
		f->linktype = get_u16(c);
		f->snaplen = get_u32(c);
		f->packets = get_u64(c);
		f->drops_kernel = get_u64(c);
		f->drops_iface = get_u64(c);
		uint8_t l = get_u8(c);
		if (l > TV_IFNAME_MAX)
			return TV_ECORRUPT;
		get_bytes(c, f->name, l);
	}
	return c->short_read ? TV_ECORRUPT : 0;
}

static int decode_frames(struct cursor *c, struct tv_index *idx)
{
	int64_t n = get_count(c, idx->version >= 2 ? FRAME_ENTRY_BYTES : FRAME_ENTRY_BYTES_V1);
	if (n < 0)
		return TV_ECORRUPT;
	idx->frames = calloc((size_t)n ? (size_t)n : 1, sizeof(*idx->frames));
	if (!idx->frames)
		return -ENOMEM;
	idx->nframes = (uint32_t)n;
	for (uint32_t i = 0; i < idx->nframes; i++) {
		struct tv_frame_entry *f = &idx->frames[i];
		f->offset = get_u64(c);
		f->comp_size = get_u32(c);
		f->raw_size = get_u32(c);
		f->ts_min = get_u64(c);
		f->ts_max = get_u64(c);
		f->packets = get_u32(c);
		if (idx->version >= 2)
			get_bytes(c, f->sha, TV_SHA256_LEN);
	}
	return 0;
}

static int decode_flows(struct cursor *c, struct tv_index *idx)
{
	int64_t n = get_count(c, idx->version >= 3 ? FLOW_FIXED_BYTES : FLOW_FIXED_BYTES_V2);
	if (n < 0)
		return TV_ECORRUPT;
	idx->flows = calloc((size_t)n ? (size_t)n : 1, sizeof(*idx->flows));
	if (!idx->flows)
		return -ENOMEM;
	for (uint32_t i = 0; i < (uint32_t)n; i++) {
		struct tv_flow *f = &idx->flows[i];
		idx->nflows = i + 1; /* so cleanup frees what was allocated */
		f->key.family = get_u8(c);
		f->key.proto = get_u8(c);
		f->key.vlan = get_u16(c);
		get_bytes(c, f->key.src, 16);
		get_bytes(c, f->key.dst, 16);
		f->key.sport = get_u16(c);
		f->key.dport = get_u16(c);
		f->ts_min = get_u64(c);
		f->ts_max = get_u64(c);
		f->packets = get_u64(c);
		f->bytes = get_u64(c);
		if (idx->version >= 3) {
			f->packets_rev = get_u64(c);
			f->bytes_rev = get_u64(c);
			f->syn = get_u32(c);
			f->rst = get_u32(c);
		}
		int64_t nr = get_count(c, 8);
		if (nr < 0)
			return TV_ECORRUPT;
		f->ranges = calloc((size_t)nr ? (size_t)nr : 1, sizeof(*f->ranges));
		if (!f->ranges)
			return -ENOMEM;
		f->nranges = f->ranges_cap = (uint32_t)nr;
		for (uint32_t r = 0; r < f->nranges; r++) {
			f->ranges[r].first = get_u32(c);
			f->ranges[r].count = get_u32(c);
			if (f->ranges[r].first >= idx->nframes ||
			    f->ranges[r].count > idx->nframes - f->ranges[r].first)
				return TV_ECORRUPT;
		}
	}
	return 0;
}

static int decode_body(struct cursor *c, struct tv_index *idx)
{
	uint16_t nlen = get_u16(c);
	if (nlen > TV_NODE_MAX)
		return TV_ECORRUPT;
	get_bytes(c, idx->node, nlen);
	uint64_t *fields[] = {&idx->seq,       &idx->start_ns,      &idx->end_ns,      &idx->ts_min,
			      &idx->ts_max,    &idx->packets,       &idx->bytes_wire,  &idx->bytes_captured,
			      &idx->data_size, &idx->data_raw_size, &idx->events_size, &idx->os_lost};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		*fields[i] = get_u64(c);
	get_bytes(c, idx->data_sha, TV_SHA256_LEN);
	get_bytes(c, idx->events_sha, TV_SHA256_LEN);
	get_bytes(c, idx->prev_sha, TV_SHA256_LEN);
	int rc = decode_ifaces(c, idx);
	if (!rc)
		rc = decode_frames(c, idx);
	if (!rc)
		rc = decode_flows(c, idx);
	if (!rc && idx->version >= 2) {
		get_bytes(c, idx->key_id, TV_SHA256_LEN);
		get_bytes(c, idx->prev_key_id, TV_SHA256_LEN);
		get_bytes(c, idx->signature, sizeof(idx->signature));
	}
	if (!rc && (c->short_read || c->left != 0))
		rc = TV_ECORRUPT;
	return rc;
}

int tv_index_decode(const uint8_t *data, size_t len, const char *what, struct tv_index *idx)
{
	memset(idx, 0, sizeof(*idx));
	if (len < HEADER_BYTES + TV_SHA256_LEN)
		return tv_err(TV_ETRUNC, "%s: index is %zu bytes, too short", what, len);
	if (memcmp(data, TV_INDEX_MAGIC, 8) != 0)
		return tv_err(TV_ECORRUPT, "%s: not a tapvault index (bad magic at offset 0)", what);
	uint32_t version = tv_le32(data + 8);
	if (version < 1 || version > TV_INDEX_VERSION)
		return tv_err(TV_EVERSION, "%s: index version %u, this build reads 1 to %d", what, version,
			      TV_INDEX_VERSION);
	uint64_t total = tv_le64(data + 16);
	if (total != len)
		return tv_err(total > len ? TV_ETRUNC : TV_ECORRUPT,
			      "%s: index header says %llu bytes, object has %zu (torn or padded)", what,
			      (unsigned long long)total, len);
	uint8_t digest[TV_SHA256_LEN];
	int rc = tv_sha256(data, len - TV_SHA256_LEN, digest);
	if (rc)
		return rc;
	if (memcmp(digest, data + len - TV_SHA256_LEN, TV_SHA256_LEN) != 0)
		return tv_err(TV_ECORRUPT, "%s: index checksum mismatch (trailer at offset %zu)", what,
			      len - TV_SHA256_LEN);
	struct cursor c = {data + HEADER_BYTES, len - HEADER_BYTES - TV_SHA256_LEN, false};
	idx->version = version;
	idx->flags = version >= 2 ? tv_le32(data + 12) : 0;
	rc = decode_body(&c, idx);
	if (!rc && version >= 2)
		idx->signed_len = len - TV_SHA256_LEN - 64;
	if (rc) {
		tv_index_cleanup(idx);
		if (rc == -ENOMEM)
			return tv_err(rc, "%s: out of memory decoding index", what);
		return tv_err(rc, "%s: index structure inconsistent near offset %zu", what,
			      (size_t)(c.p - data));
	}
	return 0;
}

int tv_index_read_file(const char *path, struct tv_index *idx)
{
	struct tv_buf b;
	tv_buf_init(&b, TV_INDEX_MAX_BYTES);
	int rc = tv_read_file(path, &b);
	if (!rc)
		rc = tv_index_decode(b.data, b.len, path, idx);
	tv_buf_cleanup(&b);
	return rc;
}

const struct tv_flow *tv_index_find_flow(const struct tv_index *idx, const struct tv_flow_key *k)
{
	for (uint32_t i = 0; i < idx->nflows; i++)
		if (tv_flow_key_same_conversation(&idx->flows[i].key, k))
			return &idx->flows[i];
	return NULL;
}

bool tv_frame_overlaps(const struct tv_frame_entry *f, uint64_t from, uint64_t to)
{
	return f->packets > 0 && f->ts_max >= from && f->ts_min < to;
}

/* ---- builder ---- */

int tv_index_builder_init(struct tv_index_builder *b, const struct tv_iface *ifaces, uint32_t niface,
			  uint32_t max_flows)
{
	memset(b, 0, sizeof(*b));
	b->max_flows = max_flows ? max_flows : (1u << 20);
	b->other_row = UINT32_MAX;
	b->idx.ifaces = calloc(niface ? niface : 1, sizeof(*ifaces));
	b->nslots = 1024;
	b->slots = calloc(b->nslots, sizeof(*b->slots));
	if (!b->idx.ifaces || !b->slots) {
		tv_index_builder_cleanup(b);
		return -ENOMEM;
	}
	memcpy(b->idx.ifaces, ifaces, niface * sizeof(*ifaces));
	for (uint32_t i = 0; i < niface; i++)
		b->idx.ifaces[i].packets = 0;
	b->idx.niface = niface;
	return 0;
}

void tv_index_builder_cleanup(struct tv_index_builder *b)
{
	tv_index_cleanup(&b->idx);
	free(b->slots);
	free(b->canon);
	b->slots = NULL;
	b->canon = NULL;
}

static int grow_slots(struct tv_index_builder *b)
{
	uint32_t n = b->nslots * 2;
	uint32_t *slots = calloc(n, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < b->idx.nflows; i++) {
		if (i == b->other_row)
			continue;
		uint32_t s = (uint32_t)tv_flow_key_hash(&b->canon[i]) & (n - 1);
		while (slots[s])
			s = (s + 1) & (n - 1);
		slots[s] = i + 1;
	}
	free(b->slots);
	b->slots = slots;
	b->nslots = n;
	return 0;
}

static int new_flow(struct tv_index_builder *b, const struct tv_flow_key *k, uint32_t *pos)
{
	if (b->idx.nflows == b->flows_cap) {
		uint32_t cap = b->flows_cap ? b->flows_cap * 2 : 64;
		struct tv_flow *f = realloc(b->idx.flows, cap * sizeof(*f));
		if (!f)
			return -ENOMEM;
		b->idx.flows = f;
		struct tv_flow_key *c = realloc(b->canon, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		b->canon = c;
		b->flows_cap = cap;
	}
	*pos = b->idx.nflows++;
	struct tv_flow *f = &b->idx.flows[*pos];
	memset(f, 0, sizeof(*f));
	f->key = *k;
	tv_flow_key_canonical(k, &b->canon[*pos]);
	return 0;
}

static int other_row(struct tv_index_builder *b, uint32_t *pos)
{
	if (b->other_row == UINT32_MAX) {
		struct tv_flow_key zero = {0};
		int rc = new_flow(b, &zero, &b->other_row);
		if (rc)
			return rc;
	}
	*pos = b->other_row;
	return 0;
}

/* Finds or creates the row for k. @return 0 or -ENOMEM. */
static int lookup_flow(struct tv_index_builder *b, const struct tv_flow_key *k, uint32_t *pos)
{
	struct tv_flow_key ck;
	tv_flow_key_canonical(k, &ck);
	uint32_t mask = b->nslots - 1;
	uint32_t s = (uint32_t)tv_flow_key_hash(&ck) & mask;
	for (; b->slots[s]; s = (s + 1) & mask) {
		if (memcmp(&b->canon[b->slots[s] - 1], &ck, sizeof(ck)) == 0) {
			*pos = b->slots[s] - 1;
			return 0;
		}
	}
	if (b->idx.nflows - (b->other_row != UINT32_MAX) >= b->max_flows)
		return other_row(b, pos);
	int rc = new_flow(b, k, pos);
	if (rc)
		return rc;
	b->slots[s] = *pos + 1;
	if (b->idx.nflows * 2 > b->nslots)
		return grow_slots(b);
	return 0;
}

static int add_frame_to_flow(struct tv_flow *f, uint32_t frame)
{
	if (f->nranges) {
		struct tv_frame_range *last = &f->ranges[f->nranges - 1];
		if (frame < last->first + last->count)
			return 0;
		if (frame == last->first + last->count) {
			last->count++;
			return 0;
		}
	}
	if (f->nranges == f->ranges_cap) {
		uint32_t cap = f->ranges_cap ? f->ranges_cap * 2 : 2;
		struct tv_frame_range *r = realloc(f->ranges, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		f->ranges = r;
		f->ranges_cap = cap;
	}
	f->ranges[f->nranges++] = (struct tv_frame_range){frame, 1};
	return 0;
}

int tv_index_builder_packet(struct tv_index_builder *b, uint32_t ifindex, uint64_t ts_ns, uint32_t caplen,
			    uint32_t origlen, const uint8_t *data, uint32_t frame)
{
	struct tv_index *idx = &b->idx;
	uint16_t linktype = ifindex < idx->niface ? idx->ifaces[ifindex].linktype : 0xFFFF;
	if (ifindex < idx->niface)
		idx->ifaces[ifindex].packets++;
	if (idx->packets == 0 || ts_ns < idx->ts_min)
		idx->ts_min = ts_ns;
	if (idx->packets == 0 || ts_ns > idx->ts_max)
		idx->ts_max = ts_ns;
	idx->packets++;
	idx->bytes_wire += origlen;
	idx->bytes_captured += caplen;

	struct tv_decoded d;
	uint32_t pos;
	bool l4 = tv_decode(linktype, data, caplen, &d);
	int rc = l4 ? lookup_flow(b, &d.key, &pos) : other_row(b, &pos);
	if (rc)
		return rc;
	struct tv_flow *f = &idx->flows[pos];
	if (f->packets == 0 || ts_ns < f->ts_min)
		f->ts_min = ts_ns;
	if (f->packets == 0 || ts_ns > f->ts_max)
		f->ts_max = ts_ns;
	f->packets++;
	f->bytes += origlen;
	if (l4 && f->key.family != TV_FLOW_OTHER) {
		/* the row's key is as first seen: a packet from its dst is the reverse */
		if (d.key.sport != f->key.sport || memcmp(d.key.src, f->key.src, 16)) {
			f->packets_rev++;
			f->bytes_rev += origlen;
		}
		if (d.transport && d.key.proto == 6) {
			f->syn += (d.tcp_flags & (TV_TCP_SYN | TV_TCP_ACK)) == TV_TCP_SYN;
			f->rst += (d.tcp_flags & TV_TCP_RST) != 0;
		}
	}
	return add_frame_to_flow(f, frame);
}

int tv_index_builder_frame(struct tv_index_builder *b, const struct tv_frame_entry *f)
{
	struct tv_index *idx = &b->idx;
	if ((idx->nframes & (idx->nframes - 1)) == 0) { /* capacity doubles at powers of two */
		uint32_t cap = idx->nframes ? idx->nframes * 2 : 1;
		struct tv_frame_entry *p = realloc(idx->frames, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		idx->frames = p;
	}
	idx->frames[idx->nframes++] = *f;
	return 0;
}

int tv_index_builder_add_frame_blocks(struct tv_index_builder *b, const uint8_t *raw, size_t n,
				      struct tv_frame_entry *fe, size_t *bad_at)
{
	struct tv_pcapng_block blk;
	struct tv_pcapng_epb epb;
	size_t pos;
	for (pos = 0; pos < n; pos += blk.total_len) {
		if (tv_pcapng_next_block(raw + pos, n - pos, &blk) != TV_PARSE_OK ||
		    (blk.type == TV_PCAPNG_EPB &&
		     (tv_pcapng_parse_epb(&blk, &epb) != TV_PARSE_OK || epb.ifindex >= b->idx.niface))) {
			if (bad_at)
				*bad_at = pos;
			return TV_ECORRUPT;
		}
	}
	uint32_t frame_no = b->idx.nframes;
	fe->packets = 0;
	fe->ts_min = fe->ts_max = 0;
	for (pos = 0; pos < n; pos += blk.total_len) {
		tv_pcapng_next_block(raw + pos, n - pos, &blk);
		if (blk.type != TV_PCAPNG_EPB)
			continue;
		tv_pcapng_parse_epb(&blk, &epb);
		if (fe->packets == 0 || epb.ts_raw < fe->ts_min)
			fe->ts_min = epb.ts_raw;
		if (fe->packets == 0 || epb.ts_raw > fe->ts_max)
			fe->ts_max = epb.ts_raw;
		fe->packets++;
		int rc = tv_index_builder_packet(b, epb.ifindex, epb.ts_raw, epb.caplen, epb.origlen,
						 epb.data, frame_no);
		if (rc)
			return rc;
	}
	return tv_index_builder_frame(b, fe);
}

void tv_index_builder_take(struct tv_index_builder *b, struct tv_index *out)
{
	*out = b->idx;
	memset(&b->idx, 0, sizeof(b->idx));
	b->other_row = UINT32_MAX;
	b->flows_cap = 0;
	free(b->canon);
	b->canon = NULL;
	memset(b->slots, 0, b->nslots * sizeof(*b->slots));
}
