/* SPDX-License-Identifier: Apache-2.0 */
/* mcp: the Model Context Protocol server of `tapvault mcp` (stdio) and
 * `tapvault serve` (Streamable HTTP at /mcp), transport-free: one JSON-RPC
 * message in, its response out. Protocol versions 2025-11-25, 2025-06-18,
 * 2025-03-26 and 2024-11-05 are negotiated in `initialize`; `ping`,
 * `tools/list` (one page), `tools/call`. Tools (mcp_tools.c) read the store
 * through the query library; long ones send progress notifications and stop
 * when cancelled. Writes (snapshot create/delete) only with allow_write. */
#ifndef TV_MCP_H
#define TV_MCP_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "archive/store/store.h"

struct tv_mcp_opts {
	const char *store_url;
	const struct tv_store_opts *store;
	const char *prefix;
	bool allow_write;
	uint64_t max_window_ns;       /* tools that read packets (default 1 h) */
	uint64_t max_index_window_ns; /* tools that read indexes only (default 31 d) */
	const char *export_dir;       /* where export_pcap writes (default ".") */
	const char *cache_dir;        /* dissections kept for paging (default $XDG_CACHE_HOME/tapvault) */
	const char *dashboard_url;    /* prefix of the dashboard links (default: none, a path only) */
};

/* What one call may do besides answering: send a notification (progress),
 * and learn that its caller cancelled it. */
struct tv_mcp_call {
	void (*notify)(void *arg, json_t *msg); /* msg is the callee's; may be NULL (no notifications) */
	void *arg;
	atomic_bool cancelled;
};

struct tv_mcp;

/* Fills what o leaves unset with the defaults above. tv_mcp_new copies o
 * but borrows its strings: they must outlive the server. */
void tv_mcp_opts_defaults(struct tv_mcp_opts *o);
int tv_mcp_new(struct tv_mcp **out, const struct tv_mcp_opts *o);
void tv_mcp_free(struct tv_mcp *m);

/* Handles one message (already parsed). @return the response (the
 * caller's), or NULL for a notification. Safe to call from two threads at
 * once (a ping while a call runs). */
json_t *tv_mcp_handle(struct tv_mcp *m, json_t *msg, struct tv_mcp_call *call);

/* A JSON-RPC error response (id NULL: null). */
json_t *tv_mcp_error(json_t *id, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define TV_JSONRPC_PARSE_ERROR -32700
#define TV_JSONRPC_INVALID_REQUEST -32600
#define TV_JSONRPC_METHOD_NOT_FOUND -32601
#define TV_JSONRPC_INVALID_PARAMS -32602
#define TV_JSONRPC_INTERNAL -32603

/* Runs the server over newline-delimited JSON on in/out until in ends.
 * Requests run one at a time on a worker thread; pings and cancellations
 * are taken while one runs. Lines over max_line bytes are refused. @return 0. */
int tv_mcp_run_stdio(struct tv_mcp *m, int in_fd, FILE *out, size_t max_line);

#endif
