/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: arbitrary bytes as an index object. What decodes must encode
 * back to the same bytes (the format has one encoding). */
#include <stdlib.h>
#include <string.h>

#include "archive/index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tv_index idx;
	if (tv_index_decode(data, size, "fuzz", &idx) != 0)
		return 0;
	struct tv_buf b;
	tv_buf_init(&b, 0);
	if (tv_index_encode(&idx, &b) == 0 && (b.len != size || memcmp(b.data, data, size) != 0))
		abort(); /* decode/encode must round-trip */
	tv_buf_cleanup(&b);
	tv_index_cleanup(&idx);
	return 0;
}
