/* SPDX-License-Identifier: Apache-2.0 */
/* utf8: see utf8.h. */
#include "archive/common/utf8.h"

#include <string.h>

bool tv_utf8_valid(const uint8_t *p, size_t n)
{
	if (!n)
		return true; /* p may be NULL */
	const uint8_t *end = p + n;
	while (p < end) {
		if (end - p >= 8) {
			uint64_t w;
			memcpy(&w, p, 8);
			if (!(w & 0x8080808080808080ull)) {
				p += 8;
				continue;
			}
		}
		uint8_t c = *p;
		if (c < 0x80) {
			p++;
			continue;
		}
		size_t len;
		uint32_t cp;
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4, cp = c & 0x07;
		} else {
			return false; /* continuation byte first, 0xc0/0xc1 overlong, or past 0xf4 */
		}
		if ((size_t)(end - p) < len)
			return false;
		for (size_t i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += len;
	}
	return true;
}
