/* SPDX-License-Identifier: Apache-2.0 */
/* serve: `tapvault serve`, the dashboard on libmicrohttpd. One server:
 *   GET  /, /app.js, /app.css      the single-page dashboard (compiled in)
 *   GET  /api/session              {version, allow_write, csrf}
 *   POST /api/tool/NAME            an MCP tool's structured result (body: its arguments)
 *   GET  /api/pcap?from&to[&nodes][&flow|&filter]   the window as pcapng, streamed
 *   GET  /api/entries?from&to&format=jsonl|har      the window's API calls as a file
 *   POST /mcp                      MCP over Streamable HTTP (JSON replies)
 * Loopback by default; a bearer token (--token-file) on every /api and /mcp
 * request when set; writes need the session's CSRF token in X-CSRF-Token;
 * a request whose Origin is not this server's is refused. */
#ifndef TV_SERVE_H
#define TV_SERVE_H

#include "dissector/web/mcp.h"

struct tv_serve_opts {
	struct tv_mcp_opts mcp;
	const char *listen; /* "127.0.0.1:8080" */
	const char *token;  /* bearer token, or NULL */
};

/* Serves until SIGINT or SIGTERM. ready (may be NULL) is called with the
 * address once listening. @return 0 or a negative errno (message set). */
int tv_serve_run(const struct tv_serve_opts *o, void (*ready)(const char *url));

#endif
