/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: a rollup object as read from a store (tv_rollup_parse), and
 * when it is accepted, every trend over it (two hours of it, every key). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "dissector/query/rollup.h"
#include "dissector/query/trends.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *r;
	if (tv_rollup_parse(data, size, "fuzz", &r))
		return 0;
	uint64_t hour = (uint64_t)json_integer_value(json_object_get(r, "hour_ns"));
	json_t *hours[2] = {r, r};
	static const char *const kinds[] = {"top", "new-peers", "beacons", "long", "anomalies"};
	static const char *const keys[] = {"service", "workload", "namespace", "node"};
	for (size_t k = 0; k < 5; k++)
		for (size_t b = 0; b < 4; b++) {
			struct tv_trends_opts o = {.kind = kinds[k],
						   .by = keys[b],
						   .from = hour,
						   .to = hour + 2 * TV_HOUR_NS,
						   .recent_ns = TV_HOUR_NS,
						   .long_min_ns = 1};
			json_t *out = NULL;
			if (tv_trends_compute(&o, hour, hours, 2, &out) == 0) {
				if (!json_is_array(json_object_get(out, "findings")))
					__builtin_trap();
				json_decref(out);
			}
		}
	json_decref(r);
	return 0;
}
