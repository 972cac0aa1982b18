/* SPDX-License-Identifier: Apache-2.0 */
/* mcp_trends: the `trends` tool, query/trends.h over MCP and the
 * dashboard's Trends page. From the hourly rollups: never reads a packet,
 * so its window may be months wide (capped at 400 days). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/timeutil.h"
#include "dissector/query/rollup.h"
#include "dissector/query/trends.h"
#include "dissector/web/mcp_util.h"

#define TRENDS_MAX_WINDOW_NS (400 * 24 * TV_HOUR_NS)

static void progress(void *arg, uint64_t done, uint64_t total)
{
	tv_tool_progress(arg, done, total, "hours read");
}

static int duration_arg(json_t *args, const char *name, uint64_t *out)
{
	const char *v = json_string_value(json_object_get(args, name));
	if (v && (tv_parse_duration(v, out) || !*out))
		return tv_err(-EINVAL, "%s: '%s' is not a duration like 7d or 90m", name, v);
	return 0;
}

int tv_tool_run_trends(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary)
{
	struct tv_tool_window w;
	int rc = tv_tool_window(c, args, TRENDS_MAX_WINDOW_NS, &w);
	if (rc)
		return rc;
	struct tv_trends_opts o = {.prefix = c->o->prefix,
				   .kind = json_string_value(json_object_get(args, "kind")),
				   .by = json_string_value(json_object_get(args, "by")),
				   .from = w.from,
				   .to = w.to,
				   .top = (size_t)json_integer_value(json_object_get(args, "top")),
				   .k = json_number_value(json_object_get(args, "k")),
				   .progress = progress,
				   .arg = c};
	/* no from: a week back, or the baseline's month plus the recent week */
	if (!json_object_get(args, "from")) {
		uint64_t back = (o.kind && !strcmp(o.kind, "new-peers") ? 37 : 7) * 24 * TV_HOUR_NS;
		o.from = w.to > back ? w.to - back : 0;
	}
	if (!rc)
		rc = duration_arg(args, "recent", &o.recent_ns);
	if (!rc)
		rc = duration_arg(args, "min_duration", &o.long_min_ns);
	json_t *r = NULL;
	if (!rc)
		rc = tv_trends(c->s, &o, &r);
	if (!rc) {
		struct tv_tool_window link = {.from = o.from, .to = o.to};
		tv_tool_set_link(c, r, "trends", &link, NULL);
		*summary = strdup(json_string_value(json_object_get(r, "summary")));
		*result = r;
	}
	tv_tool_window_cleanup(&w);
	return rc;
}
