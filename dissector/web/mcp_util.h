/* SPDX-License-Identifier: Apache-2.0 */
/* mcp_util: what the tools share: the window of a call (from/to/nodes,
 * capped), its coverage, dashboard links, names of a flow's ends, cursors
 * bound to their query, and the packet tools' table entries (mcp_entries.c). */
#ifndef TV_MCP_UTIL_H
#define TV_MCP_UTIL_H

#include <jansson.h>
#include <stdint.h>

#include "archive/flow.h"
#include "dissector/query/flows.h"
#include "dissector/query/window.h"
#include "dissector/web/mcp_tools.h"

struct tv_tool_window {
	uint64_t from, to;
	const char **nodes; /* owned array, borrowed strings; NULL: all */
	size_t nnodes;
};

/* from/to/nodes of args; a window wider than cap_ns is refused. */
int tv_tool_window(struct tv_tool_ctx *c, json_t *args, uint64_t cap_ns, struct tv_tool_window *w);
void tv_tool_window_cleanup(struct tv_tool_window *w);
int tv_tool_window_open(struct tv_tool_ctx *c, const struct tv_tool_window *w, struct tv_window **out);

/* {from, to, complete, nodes: [{node, segments, packets, bytes,
 * covered_fraction, gaps, damaged[, drops]}], not_captured: [text]};
 * _full adds each node's drops from the window's indexes. */
int tv_tool_coverage(struct tv_tool_ctx *c, const struct tv_tool_window *w, json_t **out);
int tv_tool_coverage_full(struct tv_tool_ctx *c, const struct tv_tool_window *w, struct tv_window *win,
			  json_t **out);
char *tv_tool_summary_coverage(json_t *cov);

/* result.dashboard = the page showing it ("flows", "entries", ...), w's window in its URL. */
void tv_tool_set_link(struct tv_tool_ctx *c, json_t *result, const char *page, const struct tv_tool_window *w,
		      const char *extra);

json_t *tv_json_time(uint64_t ns);
/* {ip, port, name, namespace[, kind, workload, service]} of one end (side 0 src). */
json_t *tv_tool_end_json(const struct tv_names *names, const struct tv_flow_key *k, int side, uint64_t ts);
json_t *tv_tool_flow_json(const struct tv_flow_row *r, const struct tv_names *names);
/* The values of an object of objects, sorted by an integer field, largest first. */
json_t *tv_json_sorted_values(json_t *obj, const char *field);

/* Cursors: opaque, bound to the call's other arguments and to the window
 * as first resolved (a relative "to": "now" keeps meaning the first page's
 * now). A cursor made for another query is refused (-EINVAL, saying so).
 * No cursor in args: offset 0, w unchanged. */
int tv_cursor_apply(json_t *args, struct tv_tool_window *w, uint64_t *offset);
json_t *tv_cursor_make(json_t *args, const struct tv_tool_window *w, uint64_t offset);

/* "1h30m", "15m", "2d". */
void tv_format_duration(uint64_t ns, char *out, size_t n);

int tv_tool_run_api_calls(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary);
int tv_tool_run_api_call(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary);
int tv_tool_run_export(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary);

#define TV_ENTRY_FILTERS                                                                                     \
	"\"protocol\":{\"type\":\"string\",\"enum\":[\"http\",\"grpc\",\"dns\",\"redis\"]},"                 \
	"\"method\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"HTTP method or Redis "           \
	"command\"},"                                                                                        \
	"\"path\":{\"type\":\"string\",\"maxLength\":1024,\"description\":\"substring of the path (or DNS "  \
	"name)\"},"                                                                                          \
	"\"status\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":999},"                                   \
	"\"host\":{\"type\":\"string\",\"maxLength\":253,\"description\":\"substring of the URL's host\"},"  \
	"\"src\":{\"type\":\"string\",\"maxLength\":253,\"description\":\"the client's IP, pod, namespace "  \
	"or "                                                                                                \
	"workload\"},"                                                                                       \
	"\"dst\":{\"type\":\"string\",\"maxLength\":253,\"description\":\"the server's IP, pod, namespace, " \
	"workload or service\"},"                                                                            \
	"\"failed\":{\"type\":\"boolean\"}"

#define TV_TOOL_API_CALLS                                                                                    \
	{                                                                                                    \
		"list_api_calls", "API calls of a window",                                                   \
			"Request/response pairs (HTTP/1, HTTP/2, gRPC, DNS, Redis) of a window, dissected "  \
			"from the packets "                                                                  \
			"once and cached, so paging does not dissect again. Compact rows by default; "       \
			"detail full gives whole "                                                           \
			"entries. Cursor paging as list_flows.",                                             \
			"{\"type\":\"object\",\"properties\":{" WINDOW_PROPS "," TV_ENTRY_FILTERS            \
			",\"detail\":{\"type\":\"string\",\"enum\":[\"compact\",\"full\"]},\"limit\":{"      \
			"\"type\":\"integer\","                                                              \
			"\"minimum\":1,\"maximum\":500},\"cursor\":{\"type\":\"string\",\"maxLength\":512}}" \
			","                                                                                  \
			"\"additionalProperties\":false}",                                                   \
			"{\"type\":\"object\",\"properties\":{\"calls\":{\"type\":\"array\",\"items\":{"     \
			"\"type\":\"object\","                                                               \
			"\"properties\":{\"id\":{\"type\":\"string\"}},\"required\":[\"id\"]}},\"total\":{"  \
			"\"type\":"                                                                          \
			"\"integer\"},\"next_cursor\":{\"type\":[\"string\",\"null\"]},\"cached\":{"         \
			"\"type\":\"boolean\"},"                                                             \
			"\"coverage\":" COVERAGE_SCHEMA "," DASHBOARD                                        \
			"},\"required\":[\"calls\",\"total\",\"next_cursor\","                               \
			"\"coverage\"]}",                                                                    \
			false, tv_tool_run_api_calls                                                         \
	}

#define TV_TOOL_API_CALL                                                                                     \
	{                                                                                                    \
		"get_api_call", "One API call",                                                              \
			"One request/response pair of a window by its id (from list_api_calls), headers "    \
			"and timing whole, "                                                                 \
			"bodies cut at body_cap bytes.",                                                     \
			"{\"type\":\"object\",\"properties\":{" WINDOW_PROPS                                 \
			",\"id\":{\"type\":\"string\",\"maxLength\":32},"                                    \
			"\"body_cap\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":1048576}},"            \
			"\"required\":[\"id\"],"                                                             \
			"\"additionalProperties\":false}",                                                   \
			"{\"type\":\"object\",\"properties\":{\"call\":{\"type\":\"object\"},"               \
			"\"coverage\":" COVERAGE_SCHEMA "," DASHBOARD                                        \
			"},\"required\":[\"call\",\"coverage\"]}",                                           \
			false, tv_tool_run_api_call                                                          \
	}

#define TV_TOOL_EXPORT                                                                                       \
	{                                                                                                    \
		"export_pcap", "Export a window or a flow as PCAP",                                          \
			"Writes the window's packets (all, one flow, or a BPF filter's) merged across "      \
			"nodes as a pcapng file "                                                            \
			"in the server's export directory, never inline; returns its path and counts. Long " \
			"exports report "                                                                    \
			"progress and can be cancelled.",                                                    \
			"{\"type\":\"object\",\"properties\":{" WINDOW_PROPS                                 \
			",\"file\":{\"type\":\"string\",\"maxLength\":"                                      \
			"200,\"description\":\"a file name (no directories) ending .pcapng or "              \
			".pcap\"},\"flow\":{\"type\":"                                                       \
			"\"string\",\"maxLength\":160,\"description\":\"one conversation, as list_flows "    \
			"names it: tcp "                                                                     \
			"A:PORT > "                                                                          \
			"B:PORT\"},\"filter\":{\"type\":\"string\",\"maxLength\":1024,\"description\":\"a "  \
			"BPF "                                                                               \
			"filter\"}},\"required\":[\"file\"],\"additionalProperties\":false}",                \
			"{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},\"packets\":{"  \
			"\"type\":"                                                                          \
			"\"integer\"},\"bytes\":{\"type\":\"integer\"},\"coverage\":" COVERAGE_SCHEMA        \
			"," DASHBOARD "},"                                                                   \
			"\"required\":[\"path\",\"packets\",\"bytes\",\"coverage\"]}",                       \
			false, tv_tool_run_export                                                            \
	}

int tv_tool_run_trends(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary);

#define TV_TOOL_TRENDS                                                                                       \
	{                                                                                                    \
		"trends", "Trends over weeks and months",                                                    \
			"From hourly rollups of the flow indexes (no packet is read): top = bytes per hour " \
			"per key; new-peers = client/server pairs of the last 'recent' (7d) that the rest "  \
			"of the window never saw; beacons = pairs with regular connection times and sizes "  \
			"(RITA-style score 0-1); long = connections open 'min_duration' (1h) or longer; "    \
			"anomalies = hours whose bytes per key lie outside the median +- k scales of the "   \
			"same hour of the week. Keys (by): service, workload, namespace, node (the server "  \
			"end's). Windows up to 400 days; default the last 7 days (new-peers: 37).",          \
			"{\"type\":\"object\",\"properties\":{\"kind\":{\"type\":\"string\",\"enum\":["      \
			"\"top\","                                                                           \
			"\"new-peers\",\"beacons\",\"long\",\"anomalies\"]},\"from\":{\"type\":\"string\","  \
			"\"maxLength\":64},\"to\":{\"type\":\"string\",\"maxLength\":64},\"by\":{\"type\":"  \
			"\"string\",\"enum\":[\"service\",\"workload\",\"namespace\",\"node\"]},\"top\":{"   \
			"\"type\":\"integer\",\"minimum\":1,\"maximum\":100},\"k\":{\"type\":\"number\"},"   \
			"\"recent\":{\"type\":\"string\",\"maxLength\":32},\"min_duration\":{\"type\":"      \
			"\"string\",\"maxLength\":32}},\"required\":[\"kind\"],\"additionalProperties\":"    \
			"false}",                                                                            \
			"{\"type\":\"object\",\"properties\":{\"kind\":{\"type\":\"string\"},\"by\":{"       \
			"\"type\":"                                                                          \
			"\"string\"},\"from\":{\"type\":\"string\"},\"to\":{\"type\":\"string\"},\"hours\":" \
			"{"                                                                                  \
			"\"type\":\"integer\"},\"hours_with_data\":{\"type\":\"integer\"},\"built_in_"       \
			"memory\":{"                                                                         \
			"\"type\":\"integer\"},\"series\":{\"type\":\"array\",\"items\":{\"type\":"          \
			"\"object\","                                                                        \
			"\"properties\":{\"key\":{\"type\":\"string\"},\"values\":{\"type\":\"array\","      \
			"\"items\":"                                                                         \
			"{\"type\":\"integer\"}},\"total\":{\"type\":\"integer\"}},\"required\":[\"key\","   \
			"\"values\",\"total\"]}},\"findings\":{\"type\":\"array\",\"items\":{\"type\":"      \
			"\"object\",\"properties\":{\"kind\":{\"type\":\"string\"},\"what\":{\"type\":"      \
			"\"string\"}},\"required\":[\"kind\",\"what\"]}},\"scores\":{\"type\":\"array\"},"   \
			"\"summary\":{\"type\":\"string\"},\"dashboard\":{\"type\":\"string\"}},"            \
			"\"required\":"                                                                      \
			"[\"kind\",\"series\",\"findings\",\"summary\",\"hours\"]}",                         \
			false, tv_tool_run_trends                                                            \
	}

#endif
