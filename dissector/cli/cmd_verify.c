/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_verify: `tapvault verify`, the command-line face of query/verify.h:
 * prints each problem as "DAMAGED ..." and a verdict line. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "archive/common/err.h"
#include "dissector/cli/cli.h"
#include "dissector/query/snapshot.h"
#include "dissector/query/verify.h"

enum {
	VERIFY_CANNOT_CHECK = 4
};

static const char usage[] =
	"Usage: tapvault verify --store URL [--from T --to T | --snapshot NAME] [--node NAME]... [--prefix "
	"P]\n"
	"\n"
	"Recomputes the SHA-256 of every data and events object and compares it (and\n"
	"the size) with the segment's index, checks each index's own checksum, and\n"
	"walks each node's hash chain: a missing segment, an altered or replaced one,\n"
	"a truncated object, and a data object without its index are each named.\n"
	"With --snapshot, every member of the snapshot is checked against its\n"
	"manifest.json (SHA-256, size, nothing missing or extra) and its segments as above.\n"
	"\n"
	"Exit: 0 intact, 1 damaged (problems listed), 2 usage, 4 could not check\n"
	"(the store could not be read).\n";

static void print_problem(void *ctx, const char *what)
{
	(void)ctx;
	printf("DAMAGED %s\n", what);
}

int tv_cmd_verify(const struct tv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {TV_CLI_SCOPE_OPTIONS,
					     {"snapshot", required_argument, NULL, 'S'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct tv_cli_scope sc = {0};
	const char *snapshot = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "s:n:p:h", opts, NULL)) != -1) {
		if (tv_cli_scope_option(&sc, c, optarg))
			continue;
		switch (c) {
		case 'S': snapshot = optarg; break;
		case 'h': fputs(usage, stdout); return TV_EXIT_OK;
		default: return tv_cli_usage_error("verify", "unknown option");
		}
	}
	if (tv_cli_scope_finish(&sc, "verify", TV_SCOPE_STORE))
		return TV_EXIT_USAGE;
	if (snapshot && tv_snapshot_name_check(snapshot))
		return tv_cli_usage_error("verify", "%s", tv_errmsg());
	struct tv_store *s;
	if (tv_store_open(sc.url, 0, &cli->store, &s)) {
		fprintf(stderr, "tapvault verify: %s\n", tv_errmsg());
		return VERIFY_CANNOT_CHECK;
	}
	struct tv_cli_report cr;
	tv_cli_report_init(&cr, "verify", "segments checked");
	struct tv_verify_opts o = {.prefix = sc.prefix,
				   .from = sc.from,
				   .to = sc.to,
				   .nodes = tv_cli_scope_nodes(&sc),
				   .nnodes = sc.nnodes,
				   .snapshot = snapshot,
				   .report = &cr.r,
				   .problem = print_problem};
	struct tv_verify_result r;
	int rc = tv_verify(s, &o, &r);
	tv_cli_report_end(&cr);
	tv_store_free(s);
	if (rc) {
		fprintf(stderr, "tapvault verify: could not check: %s\n", tv_errmsg());
		return VERIFY_CANNOT_CHECK;
	}
	printf("%s: %" PRIu64 " segments, %" PRIu64 " objects checked, %" PRIu64 " problems\n",
	       r.problems ? "DAMAGED" : "INTACT", r.segments, r.objects, r.problems);
	return r.problems ? TV_EXIT_FAIL : TV_EXIT_OK;
}
