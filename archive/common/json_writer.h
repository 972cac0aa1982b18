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

#endif
