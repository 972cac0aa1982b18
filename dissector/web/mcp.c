/* SPDX-License-Identifier: Apache-2.0 */
/* mcp: JSON-RPC 2.0 dispatch and the MCP lifecycle (see mcp.h). */
#include "dissector/web/mcp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "dissector/web/mcp_tools.h"

/* newest first: a client asking for one of these gets it, any other the newest */
static const char *const versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

struct tv_mcp {
	struct tv_mcp_opts o;
	struct tv_store *s;
	json_t *tools; /* the tools/list result, built once */
};

json_t *tv_mcp_error(json_t *id, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error",
			 "code", code, "message", msg);
}

static json_t *result(json_t *id, json_t *r)
{
	return json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id, "result", r);
}

static json_t *tool_list(const struct tv_mcp_opts *o)
{
	size_t n;
	const struct tv_tool *t = tv_tools(&n);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		if (t[i].writes && !o->allow_write)
			continue;
		json_error_t e;
		json_t *in = json_loads(t[i].input_schema, 0, &e);
		json_t *out = json_loads(t[i].output_schema, 0, &e);
		if (!in || !out) { /* a schema of ours that does not parse: a bug, the tests miss the tool */
			tv_error("tool %s left out: its schema does not parse: %s", t[i].name, e.text);
			json_decref(in);
			json_decref(out);
			continue;
		}
		json_array_append_new(
			arr, json_pack("{s:s,s:s,s:s,s:o,s:o,s:{s:b,s:b,s:b,s:b}}", "name", t[i].name,
				       "title", t[i].title, "description", t[i].description, "inputSchema",
				       in, "outputSchema", out, "annotations", "readOnlyHint", !t[i].writes,
				       "destructiveHint", t[i].writes && strstr(t[i].name, "delete") != NULL,
				       "idempotentHint", !t[i].writes, "openWorldHint", 0));
	}
	return json_pack("{s:o}", "tools", arr);
}

void tv_mcp_opts_defaults(struct tv_mcp_opts *o)
{
	if (!o->prefix)
		o->prefix = "";
	if (!o->max_window_ns)
		o->max_window_ns = 3600ull * 1000000000ull;
	if (!o->max_index_window_ns)
		o->max_index_window_ns = 31ull * 86400 * 1000000000ull;
	if (!o->export_dir)
		o->export_dir = ".";
}

int tv_mcp_new(struct tv_mcp **out, const struct tv_mcp_opts *o)
{
	struct tv_mcp *m = calloc(1, sizeof(*m));
	if (!m)
		return tv_err(-ENOMEM, "out of memory");
	m->o = *o;
	tv_mcp_opts_defaults(&m->o);
	int rc = tv_store_open(o->store_url, 0, o->store, &m->s);
	if (rc) {
		free(m);
		return rc;
	}
	m->tools = tool_list(&m->o);
	*out = m;
	return 0;
}

void tv_mcp_free(struct tv_mcp *m)
{
	if (!m)
		return;
	json_decref(m->tools);
	tv_store_free(m->s);
	free(m);
}

static json_t *initialize(struct tv_mcp *m, json_t *id, json_t *params)
{
	const char *asked = json_string_value(json_object_get(params, "protocolVersion"));
	const char *v = versions[0];
	for (size_t i = 0; asked && i < sizeof(versions) / sizeof(*versions); i++)
		if (!strcmp(asked, versions[i]))
			v = versions[i];
	return result(
		id,
		json_pack("{s:s,s:{s:{s:b}},s:{s:s,s:s,s:s},s:s}", "protocolVersion", v, "capabilities",
			  "tools", "listChanged", 0, "serverInfo", "name", "tapvault", "title",
			  "tapvault packet archive", "version", TV_VERSION, "instructions",
			  m->o.allow_write
				  ? "Forensic packet archive of a Kubernetes cluster. Every answer says "
				    "what was covered and what was not captured. Start with get_coverage. "
				    "Snapshot writes are allowed."
				  : "Forensic packet archive of a Kubernetes cluster, read-only. Every "
				    "answer says what was covered and what was not captured. Start with "
				    "get_coverage."));
}

/* A tool's outcome as a CallToolResult: structured content plus its text
 * rendering, or isError with what to fix. */
static json_t *tool_result(int rc, json_t *structured, char *summary)
{
	if (rc) {
		json_decref(structured);
		free(summary);
		return json_pack("{s:[{s:s,s:s}],s:b}", "content", "type", "text", "text", tv_errmsg(),
				 "isError", 1);
	}
	char *body = json_dumps(structured, JSON_COMPACT);
	size_t n = strlen(summary ? summary : "") + strlen(body ? body : "") + 2;
	char *text = malloc(n);
	if (text)
		snprintf(text, n, "%s\n%s", summary ? summary : "", body ? body : "");
	json_t *r = json_pack("{s:[{s:s,s:s}],s:o,s:b}", "content", "type", "text", "text", text ? text : "",
			      "structuredContent", structured, "isError", 0);
	free(text);
	free(body);
	free(summary);
	return r;
}

static json_t *call_tool(struct tv_mcp *m, json_t *id, json_t *params, struct tv_mcp_call *call)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	if (!name)
		return tv_mcp_error(id, TV_JSONRPC_INVALID_PARAMS, "tools/call needs params.name");
	const struct tv_tool *t = tv_tool_find(name);
	if (!t || (t->writes && !m->o.allow_write))
		return tv_mcp_error(id, TV_JSONRPC_INVALID_PARAMS,
				    t ? "Tool %s writes to the store: start the server with --allow-write"
				      : "Unknown tool: %s (tools/list names them)",
				    name);
	json_t *args = json_object_get(params, "arguments");
	if (!args)
		args = json_object();
	else
		json_incref(args);
	json_t *schema = json_loads(t->input_schema, 0, NULL);
	int rc = tv_schema_check(schema, args, "arguments");
	json_decref(schema);
	json_t *structured = NULL;
	char *summary = NULL;
	if (!rc) {
		struct tv_tool_ctx c = {
			.o = &m->o,
			.s = m->s,
			.call = call,
			.progress_token = json_object_get(json_object_get(params, "_meta"), "progressToken")};
		rc = t->run(&c, args, &structured, &summary);
	}
	json_decref(args);
	return result(id, tool_result(rc, structured, summary));
}

json_t *tv_mcp_handle(struct tv_mcp *m, json_t *msg, struct tv_mcp_call *call)
{
	if (json_is_array(msg))
		return tv_mcp_error(NULL, TV_JSONRPC_INVALID_REQUEST, "JSON-RPC batches are not supported");
	json_t *id = json_object_get(msg, "id");
	const char *method = json_string_value(json_object_get(msg, "method"));
	const char *ver = json_string_value(json_object_get(msg, "jsonrpc"));
	if (!json_is_object(msg) || !ver || strcmp(ver, "2.0"))
		return tv_mcp_error(json_is_string(id) || json_is_integer(id) ? id : NULL,
				    TV_JSONRPC_INVALID_REQUEST,
				    "not a JSON-RPC 2.0 message (an object with \"jsonrpc\": \"2.0\")");
	json_t *mv = json_object_get(msg, "method");
	if (mv && !method)
		return tv_mcp_error(json_is_string(id) || json_is_integer(id) ? id : NULL,
				    TV_JSONRPC_INVALID_REQUEST, "method must be a string");
	if (!method) /* a response to us (we send no requests) is dropped; anything else is refused */
		return id && (json_object_get(msg, "result") || json_object_get(msg, "error"))
			       ? NULL
			       : tv_mcp_error(json_is_string(id) || json_is_integer(id) ? id : NULL,
					      TV_JSONRPC_INVALID_REQUEST, "no method");
	if (!id)
		return NULL; /* notifications: initialized, cancelled (the transport's) */
	if (!json_is_string(id) && !json_is_integer(id))
		return tv_mcp_error(NULL, TV_JSONRPC_INVALID_REQUEST, "id must be a string or an integer");
	json_t *params = json_object_get(msg, "params");
	if (params && !json_is_object(params))
		return tv_mcp_error(id, TV_JSONRPC_INVALID_PARAMS, "params must be an object");
	if (!strcmp(method, "initialize"))
		return initialize(m, id, params);
	if (!strcmp(method, "ping"))
		return result(id, json_object());
	if (!strcmp(method, "tools/list"))
		return result(id, json_deep_copy(m->tools));
	if (!strcmp(method, "tools/call"))
		return call_tool(m, id, params, call);
	return tv_mcp_error(id, TV_JSONRPC_METHOD_NOT_FOUND, "Method not found: %s", method);
}
