/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_mcp: `tapvault mcp`, the MCP server over stdio (web/mcp.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/timeutil.h"
#include "dissector/cli/cli.h"
#include "dissector/web/mcp.h"

static const char usage[] =
	"Usage: tapvault mcp --store URL [--allow-write] [options]\n"
	"\n"
	"A Model Context Protocol server on stdin/stdout (JSON-RPC, one message a line)\n"
	"for AI assistants: coverage and gaps, nodes, who held an IP, flows and top\n"
	"talkers from the indexes, API calls (dissected once per window, cached),\n"
	"PCAP export to a file, verification, snapshots, trends over months (from the\n"
	"hourly rollups). Every answer says what was\n"
	"not captured. Read-only unless --allow-write (snapshot create and delete).\n"
	"\n"
	"  --store URL            the archive (file:// or s3://)\n"
	"  --prefix P             key prefix inside the store\n"
	"  --allow-write          offer create_snapshot and delete_snapshot\n"
	"  --max-window DUR       widest window of the tools that read packets (default 1h)\n"
	"  --max-index-window DUR widest window of the index-only tools (default 31d)\n"
	"  --export-dir DIR       where export_pcap writes (default: the current directory)\n"
	"  --cache-dir DIR        dissected windows kept for paging (default\n"
	"                         $XDG_CACHE_HOME/tapvault or ~/.cache/tapvault)\n"
	"  --dashboard-url URL    prefix of the dashboard links in results\n"
	"                         (`tapvault serve`'s address)\n"
	"\n"
	"Example client configuration: {\"command\": \"tapvault\", \"args\": [\"mcp\",\n"
	"\"--store\", \"s3://archive/cluster-a\"]}. Protocol 2025-11-25 back to 2024-11-05.\n";

int tv_cli_parse_web_opts(int argc, char **argv, struct tv_mcp_opts *o, const char *cmd,
			  const char *usage_text, const struct option *extra,
			  int (*on_extra)(void *ctx, int c, const char *arg), void *ctx)
{
	struct option opts[32];
	static const struct option base[] = {{"store", required_argument, NULL, 's'},
					     {"prefix", required_argument, NULL, 'p'},
					     {"allow-write", no_argument, NULL, 'w'},
					     {"max-window", required_argument, NULL, 'm'},
					     {"max-index-window", required_argument, NULL, 'M'},
					     {"export-dir", required_argument, NULL, 'e'},
					     {"cache-dir", required_argument, NULL, 'c'},
					     {"dashboard-url", required_argument, NULL, 'd'},
					     {"help", no_argument, NULL, 'h'}};
	size_t n = 0;
	for (; n < sizeof(base) / sizeof(*base); n++)
		opts[n] = base[n];
	for (size_t i = 0; extra && extra[i].name && n < 31; i++)
		opts[n++] = extra[i];
	memset(&opts[n], 0, sizeof(opts[n]));
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': o->store_url = optarg; break;
		case 'p': o->prefix = optarg; break;
		case 'w': o->allow_write = true; break;
		case 'm':
		case 'M':
			if (tv_parse_duration(optarg,
					      c == 'm' ? &o->max_window_ns : &o->max_index_window_ns) ||
			    !(c == 'm' ? o->max_window_ns : o->max_index_window_ns))
				return tv_cli_usage_error(cmd, "--%s: '%s' is not a duration (1h, 30m, 7d)",
							  c == 'm' ? "max-window" : "max-index-window",
							  optarg);
			break;
		case 'e': o->export_dir = optarg; break;
		case 'c': o->cache_dir = optarg; break;
		case 'd': o->dashboard_url = optarg; break;
		case 'h': fputs(usage_text, stdout); return -1;
		case '?': return tv_cli_usage_error(cmd, "see 'tapvault %s --help'", cmd);
		default:
			if (!on_extra || on_extra(ctx, c, optarg))
				return TV_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return tv_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!o->store_url)
		return tv_cli_usage_error(cmd, "--store URL is required");
	if (o->export_dir && access(o->export_dir, W_OK))
		return tv_cli_usage_error(cmd, "--export-dir %s is not a writable directory", o->export_dir);
	return 0;
}

int tv_cmd_mcp(const struct tv_cli *cli, int argc, char **argv)
{
	struct tv_mcp_opts o = {.store = &cli->store};
	int rc = tv_cli_parse_web_opts(argc, argv, &o, "mcp", usage, NULL, NULL, NULL);
	if (rc)
		return rc < 0 ? TV_EXIT_OK : rc;
	struct tv_mcp *m;
	if (tv_mcp_new(&m, &o))
		return tv_cli_fail("mcp", "cannot open the store");
	/* stdout carries only protocol messages; logs go to stderr */
	tv_mcp_run_stdio(m, STDIN_FILENO, stdout, (size_t)16 << 20);
	tv_mcp_free(m);
	return TV_EXIT_OK;
}
