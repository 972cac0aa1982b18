/* SPDX-License-Identifier: Apache-2.0 */
/* utf8: whether bytes are well-formed UTF-8 (a body is text or base64, a
 * header value a string or bytes). Runs of ASCII are checked eight bytes at
 * a time: bodies are checked whole, on the dissector's hot path. */
#ifndef TV_UTF8_H
#define TV_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* No overlong forms, surrogates or code points past U+10FFFF. p may be NULL when n is 0. */
bool tv_utf8_valid(const uint8_t *p, size_t n);

#endif
