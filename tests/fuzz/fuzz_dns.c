/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the DNS parser alone, over UDP (each record a datagram) or TCP
 * (length-prefixed messages in a stream): the first byte's low bit chooses.
 * The rest is a stream_driver.h script. */
#include "tests/fuzz/stream_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	bool udp = data[0] & 1;
	fuzz_stream(data + 1, size - 1, udp ? &tv_proto_dns_udp : &tv_proto_dns_tcp, udp);
	return 0;
}
