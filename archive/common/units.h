/* SPDX-License-Identifier: Apache-2.0 */
/* units: sizes as people write them in configs and on command lines. */
#ifndef TV_UNITS_H
#define TV_UNITS_H

#include <stdint.h>

/* Parses "1Gi", "500Mi", "64k", "1G", "1048576". @return 0 or -EINVAL. */
int tv_parse_size(const char *text, uint64_t *out);

#endif
