/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: one MCP message as `tapvault mcp` reads it from a line (or
 * serve from a POST body) into the JSON-RPC dispatcher: envelopes, params,
 * tool arguments against their schemas, cursors, windows, file names. The
 * store is an empty file:// store in a temp directory, so calls end after
 * their argument checks and an empty coverage. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dissector/web/mcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/tv-fuzz-mcp-XXXXXX";
static struct tv_mcp *server;

static void remove_dir(void)
{
	tv_mcp_free(server);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_mcp: could not remove %s\n", dir);
}

static struct tv_mcp *get_server(void)
{
	if (server)
		return server;
	if (!mkdtemp(dir))
		abort();
	static char url[64]; /* the server borrows its options' strings for its life */
	snprintf(url, sizeof(url), "file://%s", dir);
	struct tv_mcp_opts o = {.store_url = url, .export_dir = dir, .cache_dir = dir};
	if (tv_mcp_new(&server, &o))
		abort();
	atexit(remove_dir);
	return server;
}

static void quiet(void *arg, json_t *msg)
{
	(void)arg;
	json_decref(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tv_mcp *m = get_server();
	json_error_t e;
	json_t *msg = json_loadb((const char *)data, size, 0, &e);
	if (!msg)
		return 0;
	struct tv_mcp_call call = {.notify = quiet};
	json_t *r = tv_mcp_handle(m, msg, &call);
	/* a response is always a JSON-RPC 2.0 object with a result or an error */
	if (r && (!json_is_object(r) || !(json_object_get(r, "result") || json_object_get(r, "error"))))
		__builtin_trap();
	json_decref(r);
	json_decref(msg);
	return 0;
}
