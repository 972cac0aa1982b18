/* SPDX-License-Identifier: Apache-2.0 */
/* prom: see prom.h. */
#include "archive/common/prom.h"

#include <inttypes.h>

void tv_prom_header(struct tv_buf *o, const char *name, const char *help, const char *kind)
{
	tv_buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, kind);
}

void tv_prom_counter(struct tv_buf *o, const char *name, const char *help, uint64_t v)
{
	tv_prom_header(o, name, help, "counter");
	tv_buf_printf(o, "%s %" PRIu64 "\n", name, v);
}

void tv_prom_gauge(struct tv_buf *o, const char *name, const char *help, double v)
{
	tv_prom_header(o, name, help, "gauge");
	tv_buf_printf(o, "%s %.6g\n", name, v);
}

void tv_prom_sample(struct tv_buf *o, const char *name, const char *label, const char *value, uint64_t v)
{
	tv_buf_printf(o, "%s{%s=\"", name, label);
	/* label values escape backslash, quote and newline */
	for (const char *c = value; *c; c++) {
		if (*c == '\\' || *c == '"')
			tv_buf_printf(o, "\\%c", *c);
		else if (*c == '\n')
			tv_buf_printf(o, "\\n");
		else
			tv_buf_append(o, c, 1);
	}
	tv_buf_printf(o, "\"} %" PRIu64 "\n", v);
}
