/* SPDX-License-Identifier: Apache-2.0 */
/* json_writer: see json_writer.h. */
#include "archive/common/json_writer.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

/* 0: the byte goes out as is; otherwise the character after the backslash
 * ('u' for the \u00XX form). Control characters, '"' and '\\' only. */
static const char escape_of[256] = {
	['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r', ['"'] = '"',  ['\\'] = '\\',
	[0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u', [0x06] = 'u',
	[0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u', [0x11] = 'u', [0x12] = 'u',
	[0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u', [0x18] = 'u', [0x19] = 'u',
	[0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u', [0x1d] = 'u', [0x1e] = 'u', [0x1f] = 'u',
};

/* Bytes of w (eight input bytes, little-endian) that need escaping, as their
 * high bits. Borrows can flag bytes above a true hit, never below it, so the
 * lowest flag is exact. */
static inline uint64_t bytes_to_escape(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
	return (((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash)) &
	       high;
}

static uint8_t *put_escaped(uint8_t *o, uint8_t c)
{
	static const char hex[] = "0123456789abcdef";
	char e = escape_of[c];
	*o++ = '\\';
	*o++ = (uint8_t)e;
	if (e == 'u') {
		*o++ = '0';
		*o++ = '0';
		*o++ = (uint8_t)hex[c >> 4];
		*o++ = (uint8_t)hex[c & 15];
	}
	return o;
}

int tv_json_append_string(struct tv_buf *b, const char *s, size_t n)
{
	/* worst case: every byte becomes \u00XX; +8 for the last word's store */
	if (n > (SIZE_MAX - 10) / 6)
		return -EFBIG;
	int rc = tv_buf_reserve(b, 6 * n + 10);
	if (rc)
		return rc;
	const uint8_t *p = (const uint8_t *)s, *end = p + n;
	uint8_t *o = b->data + b->len;
	*o++ = '"';
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* eight bytes at a time; output stores may run up to 8 bytes past what
	 * counts, which the reserve above allows for */
	while (end - p >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		memcpy(o, &w, 8);
		uint64_t hits = bytes_to_escape(w);
		if (!hits) {
			p += 8, o += 8;
			continue;
		}
		/* a word with escapes: copy up to each flagged byte, escape it
		 * (a flag above a true hit can be a borrow's false positive: the
		 * table decides), and go on after the word */
		unsigned from = 0; /* the word's first byte not yet out */
		while (hits) {
			unsigned at = (unsigned)__builtin_ctzll(hits) / 8;
			hits &= hits - 1;
			if (!escape_of[p[at]])
				continue;
			uint64_t rest = w >> (8 * from); /* from < 8 here */
			memcpy(o, &rest, 8);             /* at - from bytes count; the rest is overwritten */
			o += at - from;
			o = put_escaped(o, p[at]);
			from = at + 1;
		}
		if (from < 8) {
			uint64_t rest = w >> (8 * from);
			memcpy(o, &rest, 8);
			o += 8 - from;
		}
		p += 8;
	}
#endif
	for (; p < end; p++) {
		if (escape_of[*p])
			o = put_escaped(o, *p);
		else
			*o++ = *p;
	}
	*o++ = '"';
	b->len = (size_t)(o - b->data);
	return 0;
}

/* The shortest of %.15g..%.17g that reads back as v, with a ".0" when that
 * looks like an integer, so the value stays a real for readers that care. */
static int append_real(struct tv_buf *b, double v)
{
	if (!isfinite(v))
		return -EINVAL;
	char text[40];
	for (int precision = 15; precision <= 17; precision++) {
		snprintf(text, sizeof(text), "%.*g", precision, v);
		if (strtod(text, NULL) == v)
			break;
	}
	if (!strpbrk(text, ".eEn"))
		strcat(text, ".0");
	return tv_buf_append_str(b, text);
}

static int append_integer(struct tv_buf *b, json_int_t v)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, v);
	return tv_buf_append(b, text, (size_t)n);
}

static int append_value(struct tv_buf *b, const json_t *j, int depth);

static int append_object(struct tv_buf *b, const json_t *j, int depth)
{
	int rc = tv_buf_append(b, "{", 1);
	bool first = true;
	const char *key;
	json_t *v;
	/* json_object_foreach wants a non-const object; it only reads it */
	json_object_foreach ((json_t *)j, key, v) {
		if (!rc && !first)
			rc = tv_buf_append(b, ",", 1);
		if (!rc)
			rc = tv_json_append_string(b, key, strlen(key));
		if (!rc)
			rc = tv_buf_append(b, ":", 1);
		if (!rc)
			rc = append_value(b, v, depth + 1);
		if (rc)
			return rc;
		first = false;
	}
	return rc ? rc : tv_buf_append(b, "}", 1);
}

static int append_array(struct tv_buf *b, const json_t *j, int depth)
{
	int rc = tv_buf_append(b, "[", 1);
	size_t n = json_array_size(j);
	for (size_t i = 0; !rc && i < n; i++) {
		if (i)
			rc = tv_buf_append(b, ",", 1);
		if (!rc)
			rc = append_value(b, json_array_get(j, i), depth + 1);
	}
	return rc ? rc : tv_buf_append(b, "]", 1);
}

static int append_value(struct tv_buf *b, const json_t *j, int depth)
{
	if (depth > MAX_DEPTH)
		return -EINVAL;
	switch (json_typeof(j)) {
	case JSON_OBJECT: return append_object(b, j, depth);
	case JSON_ARRAY: return append_array(b, j, depth);
	case JSON_STRING: return tv_json_append_string(b, json_string_value(j), json_string_length(j));
	case JSON_INTEGER: return append_integer(b, json_integer_value(j));
	case JSON_REAL: return append_real(b, json_real_value(j));
	case JSON_TRUE: return tv_buf_append(b, "true", 4);
	case JSON_FALSE: return tv_buf_append(b, "false", 5);
	case JSON_NULL: return tv_buf_append(b, "null", 4);
	}
	return -EINVAL;
}

int tv_json_append(struct tv_buf *b, const json_t *j)
{
	return j ? append_value(b, j, 0) : -EINVAL;
}
