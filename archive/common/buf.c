/* SPDX-License-Identifier: Apache-2.0 */
/* buf: see buf.h. Grows by doubling, never past the limit. */
#include "archive/common/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tv_buf_init(struct tv_buf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit ? limit : TV_BUF_DEFAULT_LIMIT;
}

void tv_buf_cleanup(struct tv_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int tv_buf_reserve(struct tv_buf *b, size_t extra)
{
	size_t limit = b->limit ? b->limit : TV_BUF_DEFAULT_LIMIT;
	if (extra > limit || b->len > limit - extra)
		return -EFBIG;
	size_t need = b->len + extra;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > limit / 2 ? limit : cap * 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int tv_buf_append(struct tv_buf *b, const void *data, size_t n)
{
	int rc = tv_buf_reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	return 0;
}

int tv_buf_append_str(struct tv_buf *b, const char *s)
{
	return tv_buf_append(b, s, strlen(s));
}

int tv_buf_printf(struct tv_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	int rc = tv_buf_reserve(b, (size_t)n + 1);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int tv_buf_put_u8(struct tv_buf *b, uint8_t v)
{
	return tv_buf_append(b, &v, 1);
}

int tv_buf_put_u16(struct tv_buf *b, uint16_t v)
{
	uint8_t p[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	return tv_buf_append(b, p, 2);
}

int tv_buf_put_u32(struct tv_buf *b, uint32_t v)
{
	uint8_t p[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	return tv_buf_append(b, p, 4);
}

int tv_buf_put_u64(struct tv_buf *b, uint64_t v)
{
	int rc = tv_buf_put_u32(b, (uint32_t)v);
	return rc ? rc : tv_buf_put_u32(b, (uint32_t)(v >> 32));
}
