/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_serve: `tapvault serve`, the dashboard and MCP over HTTP (web/serve.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "dissector/cli/cli.h"
#include "dissector/web/serve.h"

static const char usage[] =
	"Usage: tapvault serve --store URL [--listen 127.0.0.1:8080] [--allow-write] [options]\n"
	"\n"
	"The dashboard (Coverage, Snapshots, Flows, Entries, Trends; assets compiled in,\n"
	"nothing fetched) and MCP over Streamable HTTP at /mcp, on one port. Read-only\n"
	"unless --allow-write (snapshot create/delete, each with the page's CSRF token).\n"
	"\n"
	"  --listen ADDR:PORT     where to listen (default 127.0.0.1:8080; port 0: any free\n"
	"                         one, printed). Not loopback: needs --token-file\n"
	"  --token-file FILE      a bearer token every /api and /mcp request must carry\n"
	"                         (Authorization: Bearer TOKEN; the page takes ?token=)\n"
	"  (and every option of tapvault mcp: --store, --prefix, --allow-write,\n"
	"   --max-window, --max-index-window, --export-dir, --cache-dir)\n"
	"\n"
	"It prints \"listening on URL\" on stderr when ready and runs until SIGINT/SIGTERM.\n";

struct serve_args {
	struct tv_serve_opts *o;
	char token[512];
	const char *token_file;
};

static int serve_option(void *ctx, int c, const char *arg)
{
	struct serve_args *a = ctx;
	if (c == 'L')
		a->o->listen = arg;
	else if (c == 'T')
		a->token_file = arg;
	else
		return -1;
	return 0;
}

static int read_token(struct serve_args *a)
{
	FILE *f = fopen(a->token_file, "r");
	if (!f)
		return tv_cli_usage_error("serve", "--token-file %s: %s", a->token_file, strerror(errno));
	size_t n = fread(a->token, 1, sizeof(a->token) - 1, f);
	fclose(f);
	a->token[n] = '\0';
	while (n && (a->token[n - 1] == '\n' || a->token[n - 1] == '\r' || a->token[n - 1] == ' '))
		a->token[--n] = '\0';
	if (n < 16)
		return tv_cli_usage_error(
			"serve", "--token-file %s: the token must be at least 16 characters", a->token_file);
	a->o->token = a->token;
	return 0;
}

static void ready(const char *url)
{
	fprintf(stderr, "tapvault serve: listening on %s\n", url);
	fflush(stderr);
}

int tv_cmd_serve(const struct tv_cli *cli, int argc, char **argv)
{
	struct tv_serve_opts o = {.mcp = {.store = &cli->store}};
	struct serve_args a = {.o = &o};
	static const struct option extra[] = {{"listen", required_argument, NULL, 'L'},
					      {"token-file", required_argument, NULL, 'T'},
					      {NULL, 0, NULL, 0}};
	int rc = tv_cli_parse_web_opts(argc, argv, &o.mcp, "serve", usage, extra, serve_option, &a);
	if (rc)
		return rc < 0 ? TV_EXIT_OK : rc;
	if (a.token_file && (rc = read_token(&a)))
		return rc;
	char base[128];
	if (!o.mcp.dashboard_url) /* links in MCP answers point at this server */
		o.mcp.dashboard_url = "";
	(void)base;
	if (tv_serve_run(&o, ready))
		return tv_cli_fail("serve", "cannot serve");
	return TV_EXIT_OK;
}
