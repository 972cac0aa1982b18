/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: arbitrary bytes as a segment data file. Rebuilds the index
 * from the bytes (scan, salvage path), then reads every packet back through
 * the index-driven reader, as `tapvault` does with objects from a store. */
#include <stddef.h>
#include <stdint.h>

#include "archive/common/log.h"
#include "archive/segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tv_log_threshold = TV_LOG_ERROR;
	struct tv_mem_source src = {data, size};
	struct tv_index idx;
	struct tv_scan_result res;
	struct tv_seg_meta meta;
	if (tv_seg_reindex(tv_mem_read_at, &src, size, "fuzz", &meta, &idx, &res) != 0)
		return 0;
	struct tv_seg_reader *r;
	if (tv_seg_reader_open(&r, &idx, tv_mem_read_at, &src, "fuzz") == 0) {
		struct tv_packet p;
		int rc, guard = 0;
		while ((rc = tv_seg_reader_next(r, &p)) != 0 && guard++ < 1000000) {
			if (rc == 1 && p.caplen)
				guard += p.data[0] == 0; /* touch the bytes: ASan checks the bounds */
		}
		tv_seg_reader_free(r);
	}
	tv_index_cleanup(&idx);
	return 0;
}
