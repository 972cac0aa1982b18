/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_ls: `tapvault ls`, what a store holds (query/coverage.h) as a table
 * or as JSON. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissector/cli/cli.h"
#include "dissector/query/coverage.h"

static const char usage[] =
	"Usage: tapvault ls --store URL [--from T --to T] [--node NAME]... [--prefix P] [--json]\n"
	"\n"
	"Per node: segments, packets, bytes stored, the ranges covered by unbroken\n"
	"hash chains and the gaps between them (a missing, altered or replaced segment\n"
	"breaks the chain); the number of snapshots. With --from/--to only segments\n"
	"with packets in the window count.\n";

static void print_text(json_t *nodes, uint64_t snapshots)
{
	printf("%-24s %9s %12s %14s  %s\n", "NODE", "SEGMENTS", "PACKETS", "BYTES", "COVERED");
	size_t i;
	json_t *n;
	json_array_foreach (nodes, i, n) {
		json_t *ranges = json_object_get(n, "ranges");
		json_t *first = json_array_get(ranges, 0),
		       *last = json_array_get(ranges, json_array_size(ranges) - 1);
		printf("%-24s %9lld %12lld %14lld  %s .. %s\n", json_string_value(json_object_get(n, "node")),
		       json_integer_value(json_object_get(n, "segments")),
		       json_integer_value(json_object_get(n, "packets")),
		       json_integer_value(json_object_get(n, "bytes")),
		       first ? json_string_value(json_object_get(first, "from")) : "-",
		       last ? json_string_value(json_object_get(last, "to")) : "-");
		size_t k;
		json_t *g;
		json_array_foreach (json_object_get(n, "gaps"), k, g) {
			printf("  gap: %s .. %s (chain broken between seq %lld and %lld)\n",
			       json_string_value(json_object_get(g, "from")),
			       json_string_value(json_object_get(g, "to")),
			       json_integer_value(json_object_get(g, "after_seq")),
			       json_integer_value(json_object_get(g, "before_seq")));
		}
		json_array_foreach (json_object_get(n, "damaged"), k, g) {
			printf("  damaged: %s\n", json_string_value(json_object_get(g, "error")));
		}
	}
	printf("snapshots: %" PRIu64 "\n", snapshots);
}

int tv_cmd_ls(const struct tv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {TV_CLI_SCOPE_OPTIONS,
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct tv_cli_scope sc = {0};
	bool json = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "s:n:p:h", opts, NULL)) != -1) {
		if (tv_cli_scope_option(&sc, opt, optarg))
			continue;
		switch (opt) {
		case 'j': json = true; break;
		case 'h': fputs(usage, stdout); return TV_EXIT_OK;
		default: return tv_cli_usage_error("ls", "unknown option");
		}
	}
	int rc = tv_cli_scope_finish(&sc, "ls", TV_SCOPE_STORE);
	if (rc)
		return rc;
	struct tv_store *s;
	if (tv_cli_open_store(cli, sc.url, 0, &s, "ls"))
		return TV_EXIT_FAIL;
	struct tv_coverage_opts co = {.prefix = sc.prefix,
				      .from = sc.from,
				      .to = sc.to,
				      .nodes = tv_cli_scope_nodes(&sc),
				      .nnodes = sc.nnodes};
	json_t *doc;
	rc = tv_coverage(s, &co, &doc);
	tv_store_free(s);
	if (rc)
		return tv_cli_fail("ls", "listing failed");
	if (json) {
		json_dumpf(doc, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_text(json_object_get(doc, "nodes"),
			   (uint64_t)json_integer_value(json_object_get(doc, "snapshots")));
	}
	json_decref(doc);
	return TV_EXIT_OK;
}
