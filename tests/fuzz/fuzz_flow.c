/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: packet bytes through the flow-key parser for every link type
 * we handle (the first byte picks it), and the text form. */
#include <stdint.h>
#include <string.h>

#include "archive/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t linktypes[] = {0, 1, 101, 108, 113, 228, 229, 276};
	if (size < 1)
		return 0;
	uint16_t lt = linktypes[data[0] % (sizeof(linktypes) / sizeof(linktypes[0]))];
	struct tv_flow_key k, back;
	if (tv_flow_key_parse(lt, data + 1, (uint32_t)(size - 1), &k)) {
		char s[200];
		tv_flow_key_format(&k, s, sizeof(s));
		if (tv_flow_key_from_string(s, &back) == 0 && !tv_flow_key_same_conversation(&k, &back))
			__builtin_trap(); /* the text form must name the same conversation */
	}
	char text[256];
	size_t n = size - 1 < sizeof(text) - 1 ? size - 1 : sizeof(text) - 1;
	memcpy(text, data + 1, n);
	text[n] = '\0';
	tv_flow_key_from_string(text, &k);
	return 0;
}
