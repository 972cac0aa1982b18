/* SPDX-License-Identifier: Apache-2.0 */
/* buf: a growable byte buffer with a hard cap.
 *
 * Every buffer that input can grow is bounded: appending past `limit` fails with
 * -EFBIG instead of exhausting memory. The caller owns the struct; the buffer
 * owns `data`. */
#ifndef TV_BUF_H
#define TV_BUF_H

#include <stddef.h>
#include <stdint.h>

struct tv_buf {
	uint8_t *data; /* owned; NULL until the first reserve */
	size_t len;
	size_t cap;
	size_t limit; /* maximum len; 0 means TV_BUF_DEFAULT_LIMIT */
};

#define TV_BUF_DEFAULT_LIMIT ((size_t)1 << 30)

void tv_buf_init(struct tv_buf *b, size_t limit);
void tv_buf_cleanup(struct tv_buf *b);

/* Makes room for `extra` more bytes. @return 0, -EFBIG over the limit, -ENOMEM. */
int tv_buf_reserve(struct tv_buf *b, size_t extra);
/* @return 0, -EFBIG, -ENOMEM. */
int tv_buf_append(struct tv_buf *b, const void *data, size_t n);
int tv_buf_append_str(struct tv_buf *b, const char *s);
/* printf-style append. @return 0, -EFBIG, -ENOMEM, -EINVAL. */
int tv_buf_printf(struct tv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Little-endian appends, used by the binary formats. */
int tv_buf_put_u8(struct tv_buf *b, uint8_t v);
int tv_buf_put_u16(struct tv_buf *b, uint16_t v);
int tv_buf_put_u32(struct tv_buf *b, uint32_t v);
int tv_buf_put_u64(struct tv_buf *b, uint64_t v);

/* The most b may hold. */
static inline size_t tv_buf_limit(const struct tv_buf *b)
{
	return b->limit ? b->limit : TV_BUF_DEFAULT_LIMIT;
}

static inline void tv_buf_reset(struct tv_buf *b)
{
	b->len = 0;
}

/* Little-endian loads from memory the caller has bounds-checked. */
static inline uint16_t tv_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t tv_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t tv_le64(const uint8_t *p)
{
	return (uint64_t)tv_le32(p) | (uint64_t)tv_le32(p + 4) << 32;
}
static inline uint32_t tv_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
static inline uint16_t tv_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

#endif
