/* SPDX-License-Identifier: Apache-2.0 */
/* tapvault: the batch CLI. Parses the global options (the store's, through
 * the S3 options table) and dispatches to the subcommands in cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "archive/common/config.h"
#include "archive/common/err.h"
#include "archive/common/log.h"
#include "archive/store/store_s3.h"
#include "dissector/cli/cli.h"

static const char usage[] =
	"Usage: tapvault [global options] COMMAND [options]\n"
	"\n"
	"Commands:\n"
	"  import    cut pcap/pcapng files into sealed segments in a store\n"
	"  ls        nodes, covered ranges, gaps, sizes, snapshots\n"
	"  pcap      a time window across nodes as one merged capture\n"
	"  verify    recompute checksums and walk the hash chains\n"
	"  segment   list, inspect and read single segments\n"
	"  snapshot  immutable archives of a window: create, ls, get, pcap, rm\n"
	"  dissect   API entries (HTTP/1, HTTP/2, gRPC, DNS, Redis) as JSON Lines or HAR\n"
	"  mcp       an MCP server on stdio for AI assistants (coverage, flows, API calls, PCAP)\n"
	"  serve     the dashboard in a browser, and MCP over HTTP at /mcp\n"
	"  rollup    hourly rollups of the flow indexes and events, for trends\n"
	"  trends    top talkers, new peers, beacons, long connections, anomalies over months\n"
	"\n"
	"Global options (before COMMAND):\n"
	"  --log-level L     error, warn, info, debug\n"
	"  --endpoint URL    S3 endpoint for s3:// stores (else AWS_ENDPOINT_URL_S3,\n"
	"                    AWS_ENDPOINT_URL, ~/.aws/config, AWS's regional endpoint)\n"
	"  --region R        S3 signing region (else AWS_REGION, AWS_DEFAULT_REGION, config)\n"
	"  --profile P       AWS profile for credentials and config (else AWS_PROFILE)\n"
	"  --ca-bundle FILE  CA certificates for TLS to the endpoint\n"
	"  --insecure        do not verify the endpoint's TLS certificate\n"
	"  --addressing M    path or virtual (default: path on a custom endpoint)\n"
	"  (and every store.* option of tapvault-uploader --help, e.g. --part-size)\n"
	"Credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN\n"
	"or ~/.aws/credentials, as for the AWS CLI (docs/STORE.md).\n"
	"\n"
	"Run 'tapvault COMMAND --help' for a command's options. Version " TV_VERSION ".\n";

/* The S3 table's entry for a global option ("--ca-bundle"), or NULL. */
static const struct tv_cfg_entry *s3_option(const char *opt)
{
	const char *key = tv_s3_opts_key_of_flag(opt + 2);
	for (size_t i = 0; key && i < tv_s3_cfg_nentries; i++)
		if (strcmp(tv_s3_cfg_entries[i].key, key) == 0)
			return &tv_s3_cfg_entries[i];
	return NULL;
}

/* Leading global options; @return the index of COMMAND, or -1 on a bad one. */
static int parse_globals(int argc, char **argv, struct tv_cli *cli)
{
	int i = 1;
	while (i < argc && strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i], "--help") &&
	       strcmp(argv[i], "--version")) {
		const char *opt = argv[i];
		const struct tv_cfg_entry *e = s3_option(opt);
		if (e && e->type == TV_CFG_BOOL) { /* a switch: --insecure, --content-md5 */
			if (tv_s3_opts_set(&cli->s3, e->key, "true", opt))
				return fprintf(stderr, "tapvault: %s\n", tv_errmsg()), -1;
			i++;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "tapvault: %s needs a value\n", opt);
			return -1;
		}
		const char *v = argv[i + 1];
		if (strcmp(opt, "--log-level") == 0) {
			if (tv_log_set_level(v)) {
				fprintf(stderr,
					"tapvault: unknown log level '%s' (error, warn, info, debug)\n", v);
				return -1;
			}
		} else if (e) {
			if (tv_s3_opts_set(&cli->s3, e->key, v, opt)) {
				fprintf(stderr, "tapvault: %s\n", tv_errmsg());
				return -1;
			}
		} else {
			fprintf(stderr, "tapvault: unknown global option %s %s (see tapvault --help)\n", opt,
				v);
			return -1;
		}
		i += 2;
	}
	return i;
}

static const struct {
	const char *name;
	int (*run)(const struct tv_cli *cli, int argc, char **argv);
} commands[] = {
	{"import", tv_cmd_import},   {"snapshot", tv_cmd_snapshot}, {"ls", tv_cmd_ls},
	{"verify", tv_cmd_verify},   {"pcap", tv_cmd_pcap},         {"dissect", tv_cmd_dissect},
	{"segment", tv_cmd_segment}, {"mcp", tv_cmd_mcp},           {"serve", tv_cmd_serve},
	{"rollup", tv_cmd_rollup},   {"trends", tv_cmd_trends},
};

static int run(int argc, char **argv, struct tv_cli *cli)
{
	int i = parse_globals(argc, argv, cli);
	if (i < 0)
		return TV_EXIT_USAGE;
	if (i >= argc) {
		fputs(usage, stderr);
		return TV_EXIT_USAGE;
	}
	const char *cmd = argv[i];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return TV_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0) {
		puts("tapvault " TV_VERSION);
		return TV_EXIT_OK;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(cmd, commands[k].name) == 0)
			return commands[k].run(cli, argc - i, argv + i);
	fprintf(stderr, "tapvault: unknown command '%s'\n%s", cmd, usage);
	return TV_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct tv_cli cli;
	if (tv_s3_opts_init(&cli.s3)) {
		fprintf(stderr, "tapvault: out of memory\n");
		return TV_EXIT_FAIL;
	}
	cli.store.s3 = &cli.s3;
	int rc = run(argc, argv, &cli);
	tv_s3_opts_cleanup(&cli.s3);
	return rc;
}
