/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: cgroup paths (read from the host's tree) through the
 * Kubernetes container parser. Oracles: an accepted path yields a dashed
 * pod UID and, when a container is named, 64 lowercase hex digits. */
#include <stdint.h>
#include <string.h>

#include "archive/cgroup_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tv_cgroup_info ci;
	if (!tv_cgroup_parse((const char *)data, size, &ci))
		return 0;
	if (strlen(ci.pod_uid) != 36 || ci.pod_uid[8] != '-' || ci.pod_uid[23] != '-' || !ci.qos[0])
		__builtin_trap();
	size_t n = strlen(ci.container_id);
	if (n != 0 && n != 64)
		__builtin_trap();
	for (size_t i = 0; i < n; i++)
		if (!((ci.container_id[i] >= '0' && ci.container_id[i] <= '9') ||
		      (ci.container_id[i] >= 'a' && ci.container_id[i] <= 'f')))
			__builtin_trap();
	return 0;
}
