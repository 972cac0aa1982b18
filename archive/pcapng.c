/* SPDX-License-Identifier: Apache-2.0 */
/* pcapng: see pcapng.h. Option values are padded to 32 bits; every length read
 * from input is checked against the block before use. */
#include "archive/pcapng.h"

#include <string.h>

#define OPT_END 0
#define OPT_COMMENT 1
#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_DESCRIPTION 3
#define IF_TSRESOL 9

static const uint8_t zero_pad[4];

uint16_t tv_linktype_from_dlt(int dlt)
{
	switch (dlt) {
	case 11: return 100; /* DLT_ATM_RFC1483 */
	case 12:             /* DLT_RAW on Linux */
	case 14: return 101; /* DLT_RAW on the BSDs */
	default: return (uint16_t)dlt;
	}
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static size_t option_size(size_t len)
{
	return 4 + pad4(len);
}

static int put_option(struct tv_buf *b, uint16_t code, const void *val, size_t len)
{
	int rc = tv_buf_put_u16(b, code);
	if (!rc)
		rc = tv_buf_put_u16(b, (uint16_t)len);
	if (!rc)
		rc = tv_buf_append(b, val, len);
	if (!rc)
		rc = tv_buf_append(b, zero_pad, pad4(len) - len);
	return rc;
}

static size_t clamp_str(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	return n > max ? max : n;
}

int tv_pcapng_put_shb(struct tv_buf *b, const char *comment)
{
	static const char appl[] = "tapvault " TV_VERSION;
	size_t clen = clamp_str(comment, 60000);
	size_t total = 28 + option_size(sizeof(appl) - 1) + 4;
	if (clen)
		total += option_size(clen);
	int rc = tv_buf_reserve(b, total);
	if (rc)
		return rc;
	tv_buf_put_u32(b, TV_PCAPNG_SHB);
	tv_buf_put_u32(b, (uint32_t)total);
	tv_buf_put_u32(b, TV_PCAPNG_BOM);
	tv_buf_put_u16(b, 1);
	tv_buf_put_u16(b, 0);
	tv_buf_put_u64(b, UINT64_MAX); /* section length unknown: frames are appended */
	if (clen)
		put_option(b, OPT_COMMENT, comment, clen);
	put_option(b, SHB_USERAPPL, appl, sizeof(appl) - 1);
	put_option(b, OPT_END, NULL, 0);
	return tv_buf_put_u32(b, (uint32_t)total);
}

int tv_pcapng_put_idb(struct tv_buf *b, const struct tv_iface *ifc, const char *description)
{
	size_t nlen = clamp_str(ifc->name, TV_IFNAME_MAX);
	size_t dlen = clamp_str(description, 1000);
	size_t total = 20 + option_size(1) + 4;
	if (nlen)
		total += option_size(nlen);
	if (dlen)
		total += option_size(dlen);
	int rc = tv_buf_reserve(b, total);
	if (rc)
		return rc;
	uint8_t resol = 9;
	tv_buf_put_u32(b, TV_PCAPNG_IDB);
	tv_buf_put_u32(b, (uint32_t)total);
	tv_buf_put_u16(b, ifc->linktype);
	tv_buf_put_u16(b, 0);
	tv_buf_put_u32(b, ifc->snaplen);
	if (nlen)
		put_option(b, IF_NAME, ifc->name, nlen);
	if (dlen)
		put_option(b, IF_DESCRIPTION, description, dlen);
	put_option(b, IF_TSRESOL, &resol, 1);
	put_option(b, OPT_END, NULL, 0);
	return tv_buf_put_u32(b, (uint32_t)total);
}

size_t tv_pcapng_epb_size(uint32_t caplen)
{
	return TV_PCAPNG_EPB_OVERHEAD + pad4(caplen);
}

int tv_pcapng_put_epb(struct tv_buf *b, uint32_t ifindex, uint64_t ts_ns, const uint8_t *data,
		      uint32_t caplen, uint32_t origlen)
{
	size_t total = tv_pcapng_epb_size(caplen);
	int rc = tv_buf_reserve(b, total);
	if (rc)
		return rc;
	/* Written field by field into reserved space: this is the capture hot path. */
	uint8_t *p = b->data + b->len;
	uint32_t hdr[7] = {TV_PCAPNG_EPB,   (uint32_t)total, ifindex, (uint32_t)(ts_ns >> 32),
			   (uint32_t)ts_ns, caplen,          origlen};
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tapvault writes little-endian pcapng with native stores"
#endif
	memcpy(p, hdr, sizeof(hdr));
	memcpy(p + 28, data, caplen);
	size_t padded = pad4(caplen);
	memset(p + 28 + caplen, 0, padded - caplen);
	uint32_t trailer = (uint32_t)total;
	memcpy(p + 28 + padded, &trailer, 4);
	b->len += total;
	return 0;
}

int tv_pcapng_put_epb_comment(struct tv_buf *b, uint32_t ifindex, uint64_t ts_ns, const uint8_t *data,
			      uint32_t caplen, uint32_t origlen, const char *comment)
{
	size_t clen = comment ? strlen(comment) : 0;
	if (!clen)
		return tv_pcapng_put_epb(b, ifindex, ts_ns, data, caplen, origlen);
	if (clen > 0xffff)
		clen = 0xffff; /* an option's length is 16 bits */
	/* options: opt_comment (1), then opt_endofopt (0) */
	size_t opts = 4 + pad4(clen) + 4, total = tv_pcapng_epb_size(caplen) + opts;
	int rc = tv_buf_reserve(b, total);
	if (rc)
		return rc;
	size_t start = b->len;
	tv_pcapng_put_epb(b, ifindex, ts_ns, data, caplen, origlen); /* reserved: cannot fail */
	uint8_t *p = b->data + start, *o = p + total - 4 - opts;
	uint32_t t32 = (uint32_t)total;
	memcpy(p + 4, &t32, 4);
	uint16_t code = 1, len = (uint16_t)clen;
	memcpy(o, &code, 2);
	memcpy(o + 2, &len, 2);
	memcpy(o + 4, comment, clen);
	memset(o + 4 + clen, 0, pad4(clen) - clen + 4); /* padding, then endofopt (code 0, length 0) */
	memcpy(p + total - 4, &t32, 4);
	b->len = start + total;
	return 0;
}

enum tv_parse tv_pcapng_next_block(const uint8_t *p, size_t n, struct tv_pcapng_block *blk)
{
	if (n < 12)
		return TV_PARSE_NEED_MORE;
	uint32_t total = tv_le32(p + 4);
	if (total < 12 || total % 4 != 0)
		return TV_PARSE_ERROR;
	if (total > n)
		return TV_PARSE_NEED_MORE;
	if (tv_le32(p + total - 4) != total)
		return TV_PARSE_ERROR;
	blk->type = tv_le32(p);
	blk->total_len = total;
	blk->body = p + 8;
	blk->body_len = total - 12;
	return TV_PARSE_OK;
}

enum tv_parse tv_pcapng_parse_epb(const struct tv_pcapng_block *blk, struct tv_pcapng_epb *epb)
{
	if (blk->type != TV_PCAPNG_EPB || blk->body_len < 20)
		return TV_PARSE_ERROR;
	const uint8_t *q = blk->body;
	epb->ifindex = tv_le32(q);
	epb->ts_raw = (uint64_t)tv_le32(q + 4) << 32 | tv_le32(q + 8);
	epb->caplen = tv_le32(q + 12);
	epb->origlen = tv_le32(q + 16);
	if (epb->caplen > blk->body_len - 20)
		return TV_PARSE_ERROR;
	epb->data = q + 20;
	return TV_PARSE_OK;
}

/* Calls fn for each option in [p, p+n); stops at opt_endofopt. */
typedef void (*option_fn)(uint16_t code, const uint8_t *val, uint16_t len, void *ctx);

static enum tv_parse walk_options(const uint8_t *p, size_t n, option_fn fn, void *ctx)
{
	size_t off = 0;
	while (off + 4 <= n) {
		uint16_t code = tv_le16(p + off), len = tv_le16(p + off + 2);
		if (code == OPT_END)
			return TV_PARSE_OK;
		if (pad4(len) > n - off - 4)
			return TV_PARSE_ERROR;
		fn(code, p + off + 4, len, ctx);
		off += 4 + pad4(len);
	}
	return off == n ? TV_PARSE_OK : TV_PARSE_ERROR;
}

struct idb_opts {
	struct tv_iface *ifc;
	uint64_t units;
};

static void idb_option(uint16_t code, const uint8_t *val, uint16_t len, void *ctx)
{
	struct idb_opts *o = ctx;
	if (code == IF_NAME) {
		size_t n = len > TV_IFNAME_MAX ? TV_IFNAME_MAX : len;
		memcpy(o->ifc->name, val, n);
		o->ifc->name[n] = '\0';
	} else if (code == IF_TSRESOL && len >= 1) {
		uint8_t r = val[0], exp = r & 0x7f;
		uint64_t units = 1;
		int base = (r & 0x80) ? 2 : 10;
		/* More than 10^19 or 2^63 units per second cannot be represented. */
		if ((base == 10 && exp > 19) || (base == 2 && exp > 63))
			return;
		for (int i = 0; i < exp; i++)
			units *= (uint64_t)base;
		o->units = units;
	}
}

enum tv_parse tv_pcapng_parse_idb(const struct tv_pcapng_block *blk, struct tv_iface *ifc,
				  uint64_t *units_per_sec)
{
	if (blk->type != TV_PCAPNG_IDB || blk->body_len < 8)
		return TV_PARSE_ERROR;
	memset(ifc, 0, sizeof(*ifc));
	ifc->linktype = tv_le16(blk->body);
	ifc->snaplen = tv_le32(blk->body + 4);
	struct idb_opts o = {ifc, 1000000};
	if (walk_options(blk->body + 8, blk->body_len - 8, idb_option, &o) != TV_PARSE_OK)
		return TV_PARSE_ERROR;
	*units_per_sec = o.units;
	return TV_PARSE_OK;
}

struct shb_opts {
	char *out;
	size_t n;
	int found;
};

static void shb_option(uint16_t code, const uint8_t *val, uint16_t len, void *ctx)
{
	struct shb_opts *o = ctx;
	if (code != OPT_COMMENT || o->found || o->n == 0)
		return;
	size_t m = len < o->n - 1 ? len : o->n - 1;
	memcpy(o->out, val, m);
	o->out[m] = '\0';
	o->found = 1;
}

enum tv_parse tv_pcapng_parse_shb(const struct tv_pcapng_block *blk, char *out, size_t n)
{
	if (n)
		out[0] = '\0';
	if (blk->type != TV_PCAPNG_SHB || blk->body_len < 16 || tv_le32(blk->body) != TV_PCAPNG_BOM ||
	    tv_le16(blk->body + 4) != 1)
		return TV_PARSE_ERROR;
	struct shb_opts o = {out, n, 0};
	return walk_options(blk->body + 16, blk->body_len - 16, shb_option, &o);
}
