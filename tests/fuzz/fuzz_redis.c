/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the redis parser alone, fed a script of stream bytes per
 * direction (stream_driver.h). */
#include "tests/fuzz/stream_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_stream(data, size, &tv_proto_redis, false);
	return 0;
}
