/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: arbitrary bytes as an events file (zstd + JSON Lines). */
#include "archive/events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tv_events_reader *r;
	if (tv_events_reader_open(&r, data, size, "fuzz") != 0)
		return 0;
	json_t *rec;
	while (tv_events_reader_next(r, &rec) == 1)
		json_decref(rec);
	tv_events_reader_free(r);
	return 0;
}
