/* SPDX-License-Identifier: Apache-2.0 */
/* json_writer: compact JSON text of a jansson value, appended to a tv_buf.
 *
 * The dissector's hot path: response bodies dominate its output, and jansson's
 * own dump escapes them one character at a time through a callback. This
 * writer copies runs of plain bytes with memcpy and writes UTF-8 as is (jansson
 * strings are valid UTF-8 already). Object members come out in insertion
 * order, as json_dumps writes them. */
#ifndef TV_JSON_WRITER_H
#define TV_JSON_WRITER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/common/buf.h"

/* @return 0, -EFBIG or -ENOMEM (b's limit), -EINVAL for a value jansson
 * could not dump either (NaN, nesting deeper than 64). */
int tv_json_append(struct tv_buf *b, const json_t *j);
/* s[0..n) as a quoted JSON string; s must be UTF-8. */
int tv_json_append_string(struct tv_buf *b, const char *s, size_t n);

/* Whether p[0..n) is well-formed UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF); runs of ASCII are checked eight bytes at a time. */
bool tv_utf8_valid(const uint8_t *p, size_t n);
/* A jansson string of p[0..n) when it is UTF-8, else NULL; what json_stringn
 * does, with the faster check. */
json_t *tv_json_utf8(const uint8_t *p, size_t n);

#endif
