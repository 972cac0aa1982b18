/* SPDX-License-Identifier: Apache-2.0 */
/* units: see units.h. */
#include "archive/common/units.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tv_parse_size(const char *text, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {{"", 1},
		     {"k", 1000},
		     {"K", 1000},
		     {"M", 1000000},
		     {"G", 1000000000},
		     {"T", 1000000000000},
		     {"Ki", 1ULL << 10},
		     {"Mi", 1ULL << 20},
		     {"Gi", 1ULL << 30},
		     {"Ti", 1ULL << 40}};
	if (!isdigit((unsigned char)text[0]))
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (v > UINT64_MAX / units[i].mult)
				return -EINVAL;
			*out = v * units[i].mult;
			return 0;
		}
	}
	return -EINVAL;
}
