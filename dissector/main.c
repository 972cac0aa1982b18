/* SPDX-License-Identifier: Apache-2.0 */
/* tapvault: the batch CLI. Dispatches to the subcommands in cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "archive/common/log.h"
#include "archive/store_s3.h"
#include "dissector/cli.h"

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
	"Credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN\n"
	"or ~/.aws/credentials, as for the AWS CLI (docs/STORE.md).\n"
	"\n"
	"Run 'tapvault COMMAND --help' for a command's options. Version " TV_VERSION ".\n";

/* Leading global options; @return the index of COMMAND, or -1 on a bad one. */
static int parse_globals(int argc, char **argv, struct tv_s3_opts *s3)
{
	int i = 1;
	while (i < argc && strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i], "--help") &&
	       strcmp(argv[i], "--version")) {
		const char *opt = argv[i];
		if (strcmp(opt, "--insecure") == 0) {
			s3->insecure = true;
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
		} else if (strcmp(opt, "--endpoint") == 0) {
			s3->endpoint = v;
		} else if (strcmp(opt, "--region") == 0) {
			s3->region = v;
		} else if (strcmp(opt, "--profile") == 0) {
			s3->profile = v;
		} else if (strcmp(opt, "--ca-bundle") == 0) {
			s3->ca_bundle = v;
		} else if (strcmp(opt, "--addressing") == 0 &&
			   (!strcmp(v, "path") || !strcmp(v, "virtual"))) {
			s3->addressing = v[0] == 'p' ? TV_S3_ADDR_PATH : TV_S3_ADDR_VIRTUAL;
		} else {
			fprintf(stderr, "tapvault: unknown global option %s %s (see tapvault --help)\n", opt,
				v);
			return -1;
		}
		i += 2;
	}
	return i;
}

int main(int argc, char **argv)
{
	static struct tv_s3_opts s3; /* referenced by every store opened later */
	int i = parse_globals(argc, argv, &s3);
	if (i < 0)
		return TV_EXIT_USAGE;
	tv_s3_set_defaults(&s3);
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
	if (strcmp(cmd, "import") == 0)
		return tv_cmd_import(argc - i, argv + i);
	if (strcmp(cmd, "snapshot") == 0)
		return tv_cmd_snapshot(argc - i, argv + i);
	if (strcmp(cmd, "ls") == 0)
		return tv_cmd_ls(argc - i, argv + i);
	if (strcmp(cmd, "verify") == 0)
		return tv_cmd_verify(argc - i, argv + i);
	if (strcmp(cmd, "pcap") == 0)
		return tv_cmd_pcap(argc - i, argv + i);
	if (strcmp(cmd, "dissect") == 0)
		return tv_cmd_dissect(argc - i, argv + i);
	if (strcmp(cmd, "segment") == 0)
		return tv_cmd_segment(argc - i, argv + i);
	fprintf(stderr, "tapvault: unknown command '%s'\n%s", cmd, usage);
	return TV_EXIT_USAGE;
}
