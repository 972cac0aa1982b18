/* SPDX-License-Identifier: Apache-2.0 */
/* mcp_tools: the tools `tapvault mcp` offers, each an input schema, an
 * output schema and a function over the query library. Shared by the MCP
 * server (mcp.c) and the dashboard's JSON API (serve.c), which calls the
 * same functions with the same arguments. */
#ifndef TV_MCP_TOOLS_H
#define TV_MCP_TOOLS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "archive/store/store.h"
#include "dissector/web/mcp.h"

struct tv_tool_ctx {
	const struct tv_mcp_opts *o;
	struct tv_store *s;
	struct tv_mcp_call *call; /* may be NULL */
	json_t *progress_token;   /* the caller's _meta.progressToken, or NULL */
};

struct tv_tool {
	const char *name, *title, *description;
	const char *input_schema, *output_schema; /* JSON text */
	bool writes;                              /* offered only with allow_write */
	/* @return 0 with *result (an object, the caller's) and *summary (a line
	 * of text, malloc'd), or a negative errno with the message set (what to
	 * fix, for bad arguments). */
	int (*run)(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary);
};

const struct tv_tool *tv_tools(size_t *n);
const struct tv_tool *tv_tool_find(const char *name);

/* Checks value against the subset of JSON Schema the tools' input schemas
 * use (type, properties, required, additionalProperties false, enum,
 * minimum, maximum, maxLength, items). @return 0, or -EINVAL with a message
 * naming the argument and what is wrong. */
int tv_schema_check(json_t *schema, json_t *value, const char *path);

/* A notification of progress to the caller, when it asked for them. */
void tv_tool_progress(struct tv_tool_ctx *c, uint64_t done, uint64_t total, const char *message);
bool tv_tool_cancelled(const struct tv_tool_ctx *c);

#endif
