/* SPDX-License-Identifier: Apache-2.0 */
/* registry: the table of protocols, built from protos.def. */
#include <string.h>

#include "dissector/proto/proto.h"

#define TV_PROTO(sym, why) extern const struct tv_proto tv_proto_##sym;
#include "dissector/proto/protos.def"
#undef TV_PROTO

const struct tv_proto *const tv_protos[] = {
#define TV_PROTO(sym, why) &tv_proto_##sym,
#include "dissector/proto/protos.def"
#undef TV_PROTO
};

const size_t tv_nprotos = sizeof(tv_protos) / sizeof(tv_protos[0]);

const struct tv_proto *tv_proto_find(const char *name)
{
	for (size_t i = 0; i < tv_nprotos; i++)
		if (strcmp(tv_protos[i]->name, name) == 0)
			return tv_protos[i];
	return NULL;
}
