/* SPDX-License-Identifier: Apache-2.0 */
/* tapvault: the batch CLI. Dispatches to the subcommands in cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "archive/common/log.h"
#include "dissector/cli.h"

static const char usage[] =
	"Usage: tapvault [--log-level LEVEL] COMMAND [options]\n"
	"\n"
	"Commands:\n"
	"  import    cut pcap/pcapng files into sealed segments in a store\n"
	"  ls        nodes, covered ranges, gaps, sizes, snapshots\n"
	"  pcap      a time window across nodes as one merged capture\n"
	"  verify    recompute checksums and walk the hash chains\n"
	"  segment   list, inspect and read single segments\n"
	"  snapshot  immutable archives of a window: create, ls, get, pcap, rm\n"
	"\n"
	"Run 'tapvault COMMAND --help' for a command's options. Version " TV_VERSION ".\n";

int main(int argc, char **argv)
{
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "--log-level") == 0) {
		if (tv_log_set_level(argv[i + 1])) {
			fprintf(stderr, "tapvault: unknown log level '%s' (error, warn, info, debug)\n",
				argv[i + 1]);
			return TV_EXIT_USAGE;
		}
		i += 2;
	}
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
	if (strcmp(cmd, "segment") == 0)
		return tv_cmd_segment(argc - i, argv + i);
	fprintf(stderr, "tapvault: unknown command '%s'\n%s", cmd, usage);
	return TV_EXIT_USAGE;
}
