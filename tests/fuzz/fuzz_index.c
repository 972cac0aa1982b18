/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: arbitrary bytes as an index object. What decodes must encode
 * back to the same bytes (the format has one encoding); a version 1 index
 * encodes as version 2 with the same contents, and that round-trips. */
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
	if (tv_index_encode(&idx, &b) != 0) {
		tv_buf_cleanup(&b);
		tv_index_cleanup(&idx);
		return 0;
	}
	if (idx.version == TV_INDEX_VERSION && (b.len != size || memcmp(b.data, data, size) != 0))
		abort(); /* decode/encode must round-trip */
	if (idx.version != TV_INDEX_VERSION) {
		struct tv_index again;
		if (tv_index_decode(b.data, b.len, "fuzz", &again) != 0 || again.seq != idx.seq ||
		    again.nframes != idx.nframes || again.nflows != idx.nflows ||
		    again.packets != idx.packets || strcmp(again.node, idx.node) != 0)
			abort(); /* the upgrade kept the contents */
		tv_index_cleanup(&again);
	}
	tv_buf_cleanup(&b);
	tv_index_cleanup(&idx);
	return 0;
}
