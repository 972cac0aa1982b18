/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_verify: `tapvault verify`, the command-line face of query/verify.h:
 * prints each problem as "DAMAGED ..." and a verdict line. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "archive/common/err.h"
#include "archive/common/timeutil.h"
#include "archive/sign.h"
#include "dissector/cli/cli.h"
#include "dissector/query/snapshot.h"
#include "dissector/query/verify.h"

enum {
	VERIFY_CANNOT_CHECK = 4
};

static const char usage[] =
	"Usage: tapvault verify --store URL [--from T --to T | --snapshot NAME] [--node NAME]...\n"
	"                       [--prefix P] [--keys FILE] [--require-signatures] [--retention DUR]\n"
	"\n"
	"Recomputes the SHA-256 of every data and events object and compares it (and\n"
	"the size) with the segment's index, checks each index's own checksum, and\n"
	"walks each node's hash chain: a missing segment, an altered or replaced one,\n"
	"a truncated object, and a data object without its index are each named.\n"
	"Then what someone who can write the bucket could have done (docs/THREATS.md):\n"
	"every index's signature against the node keys, every index against the key\n"
	"it sits under, a chain that does not start at its genesis, the segments the\n"
	"node's signed checkpoints name and the checkpoints' own chain, and time a\n"
	"live agent's segments do not cover. With --snapshot, every member of the\n"
	"snapshot is checked against its manifest.json (SHA-256, size, nothing\n"
	"missing or extra), its frames against the signed indexes it carries.\n"
	"\n"
	"  --keys FILE            trust only these node keys (a key object or an array of\n"
	"                         them, as the store publishes under v1/keys/); default:\n"
	"                         the store's own, which anyone who can write it can add to\n"
	"  --require-signatures   unsigned segments are problems for every node\n"
	"  --retention DUR        the lifecycle horizon (default: v1/settings.json's):\n"
	"                         a chain may start later than its genesis only past it\n"
	"\n"
	"Each problem is a line: DAMAGED, SIGNATURE, MOVED, CUT or GAP, then what and\n"
	"where. Exit: 0 intact, 1 damaged, 6 signature, 7 moved or replayed, 5 history\n"
	"cut, 8 coverage gap (the first of these found, in that order), 2 usage,\n"
	"4 could not check (the store could not be read).\n";

static void print_problem(void *ctx, enum tv_verify_class c, const char *what)
{
	(void)ctx;
	printf("%s %s\n", tv_verify_class_name(c), what);
}

static void print_note(void *ctx, const char *what)
{
	(void)ctx;
	printf("NOTE %s\n", what);
}

/* The exit status of the most severe class found (docs/CLI.md). */
static int exit_status(const struct tv_verify_result *r, const char **verdict)
{
	static const int status[TV_VERIFY_NCLASSES] = {[TV_VERIFY_DAMAGED] = 1,
						       [TV_VERIFY_SIGNATURE] = 6,
						       [TV_VERIFY_MOVED] = 7,
						       [TV_VERIFY_CUT] = 5,
						       [TV_VERIFY_GAP] = 8};
	for (int c = 0; c < TV_VERIFY_NCLASSES; c++)
		if (r->by_class[c]) {
			*verdict = tv_verify_class_name((enum tv_verify_class)c);
			return status[c];
		}
	*verdict = "INTACT";
	return TV_EXIT_OK;
}

int tv_cmd_verify(const struct tv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {TV_CLI_SCOPE_OPTIONS,
					     {"snapshot", required_argument, NULL, 'S'},
					     {"keys", required_argument, NULL, 'K'},
					     {"require-signatures", no_argument, NULL, 'R'},
					     {"retention", required_argument, NULL, 'N'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct tv_cli_scope sc = {0};
	const char *snapshot = NULL, *keys_file = NULL;
	bool require = false;
	uint64_t retention = 0;
	int c;
	while ((c = getopt_long(argc, argv, "s:n:p:h", opts, NULL)) != -1) {
		if (tv_cli_scope_option(&sc, c, optarg))
			continue;
		switch (c) {
		case 'S': snapshot = optarg; break;
		case 'K': keys_file = optarg; break;
		case 'R': require = true; break;
		case 'N':
			if (tv_parse_duration(optarg, &retention) || !retention)
				return tv_cli_usage_error(
					"verify", "bad --retention '%s' (a duration like 90d)", optarg);
			break;
		case 'h': fputs(usage, stdout); return TV_EXIT_OK;
		default: return tv_cli_usage_error("verify", "unknown option");
		}
	}
	if (tv_cli_scope_finish(&sc, "verify", TV_SCOPE_STORE))
		return TV_EXIT_USAGE;
	if (snapshot && tv_snapshot_name_check(snapshot))
		return tv_cli_usage_error("verify", "%s", tv_errmsg());
	struct tv_pubkey *keys = NULL;
	size_t nkeys = 0;
	if (keys_file && tv_pubkeys_load_file(keys_file, &keys, &nkeys)) {
		fprintf(stderr, "tapvault verify: --keys: %s\n", tv_errmsg());
		return TV_EXIT_USAGE;
	}
	struct tv_store *s;
	if (tv_store_open(sc.url, 0, &cli->store, &s)) {
		free(keys);
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
				   .keys = keys,
				   .nkeys = nkeys,
				   .require_signatures = require,
				   .retention_ns = retention,
				   .report = &cr.r,
				   .problem = print_problem,
				   .note = print_note};
	struct tv_verify_result r;
	int rc = tv_verify(s, &o, &r);
	tv_cli_report_end(&cr);
	tv_store_free(s);
	free(keys);
	if (rc) {
		fprintf(stderr, "tapvault verify: could not check: %s\n", tv_errmsg());
		return VERIFY_CANNOT_CHECK;
	}
	const char *verdict;
	int status = exit_status(&r, &verdict);
	printf("%s: %" PRIu64 " segments, %" PRIu64 " objects checked, %" PRIu64 " problems; %" PRIu64
	       " signed, %" PRIu64 " unsigned, %" PRIu64 " checkpoints, keys %s\n",
	       verdict, r.segments, r.objects, r.problems, r.signed_segments, r.unsigned_segments,
	       r.checkpoints, r.keys_pinned ? "pinned" : "from the store");
	return status;
}
