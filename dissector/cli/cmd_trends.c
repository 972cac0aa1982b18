/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_trends: `tapvault rollup` (hourly rollups into the store,
 * query/rollup.h) and `tapvault trends KIND` (query/trends.h). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/timeutil.h"
#include "dissector/cli/cli.h"
#include "dissector/query/rollup.h"
#include "dissector/query/trends.h"

static const char rollup_usage[] =
	"Usage: tapvault rollup --store URL --from T --to T [--prefix P] [--force]\n"
	"\n"
	"Builds the hourly rollups of [from, to) from the flow indexes and events (no\n"
	"packet is read) and stores them at PREFIX/v1/rollups/hourly/. An hour whose\n"
	"inputs (segments and their digests) are unchanged is left as it is unless\n"
	"--force; an hour no segment covers stores nothing. trends reads the rollups\n"
	"and builds a missing hour in memory.\n";

static const char trends_usage[] =
	"Usage: tapvault trends KIND --store URL --from T --to T [--by KEY] [--top N]\n"
	"                       [--k K] [--recent DUR] [--min-duration DUR]\n"
	"                       [--threshold S] [--prefix P] [--json]\n"
	"\n"
	"KIND:\n"
	"  top        bytes per hour per KEY, the largest first\n"
	"  new-peers  client/server pairs of the last --recent (7d) that the rest of\n"
	"             the window (the baseline) never saw\n"
	"  beacons    pairs whose connection starts and sizes are regular (score 0-1,\n"
	"             findings from --threshold, default 0.8)\n"
	"  long       connections open --min-duration (1h) or longer\n"
	"  anomalies  hours whose bytes per KEY lie outside median +- K (3) scales of\n"
	"             the same hour of the week\n"
	"KEY: service (default), workload, namespace, node: the server end's.\n"
	"From the hourly rollups (tapvault rollup); hours without one are built in\n"
	"memory from the indexes. Never reads a packet.\n";

static void progress(void *arg, uint64_t done, uint64_t total)
{
	tv_progress_update(arg, done, 0);
	(void)total;
}

int tv_cmd_rollup(const struct tv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {TV_CLI_SCOPE_OPTIONS,
					     {"force", no_argument, NULL, 'f'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct tv_cli_scope sc = {0};
	bool force = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "s:p:h", opts, NULL)) != -1) {
		if (tv_cli_scope_option(&sc, opt, optarg))
			continue;
		switch (opt) {
		case 'f': force = true; break;
		case 'h': fputs(rollup_usage, stdout); return TV_EXIT_OK;
		default: return tv_cli_usage_error("rollup", "unknown option");
		}
	}
	if (optind < argc)
		return tv_cli_usage_error("rollup", "unexpected argument '%s'", argv[optind]);
	int rc = tv_cli_scope_finish(&sc, "rollup", TV_SCOPE_STORE | TV_SCOPE_WINDOW);
	if (rc)
		return rc;
	if (sc.nnodes)
		return tv_cli_usage_error("rollup", "--node: a rollup covers every node");
	struct tv_store *s;
	if (tv_cli_open_store(cli, sc.url, 0, &s, "rollup"))
		return TV_EXIT_FAIL;
	struct tv_progress prog;
	tv_progress_start(&prog, "hours", (sc.to - sc.from + TV_HOUR_NS - 1) / TV_HOUR_NS);
	struct tv_rollup_stats st;
	rc = tv_rollup_range(s, sc.prefix, sc.from, sc.to, force, progress, &prog, &st);
	tv_progress_end(&prog);
	tv_store_free(s);
	if (rc)
		return tv_cli_fail("rollup", "rollup failed");
	fprintf(stderr,
		"tapvault rollup: %" PRIu64 " hours: %" PRIu64 " written, %" PRIu64 " unchanged, %" PRIu64
		" with no segment\n",
		st.hours, st.written, st.unchanged, st.empty);
	return TV_EXIT_OK;
}

static void print_series(json_t *series)
{
	size_t i;
	json_t *s;
	json_array_foreach (series, i, s) {
		json_int_t peak = 0;
		size_t j;
		json_t *v;
		json_array_foreach (json_object_get(s, "values"), j, v)
			peak = json_integer_value(v) > peak ? json_integer_value(v) : peak;
		printf("%-48s total %14" JSON_INTEGER_FORMAT " bytes, peak hour %12" JSON_INTEGER_FORMAT "\n",
		       json_string_value(json_object_get(s, "key")),
		       json_integer_value(json_object_get(s, "total")), peak);
	}
}

static void print_text(json_t *r)
{
	printf("%s (%s to %s, %" JSON_INTEGER_FORMAT " hours, %" JSON_INTEGER_FORMAT " with data)\n",
	       json_string_value(json_object_get(r, "summary")),
	       json_string_value(json_object_get(r, "from")), json_string_value(json_object_get(r, "to")),
	       json_integer_value(json_object_get(r, "hours")),
	       json_integer_value(json_object_get(r, "hours_with_data")));
	print_series(json_object_get(r, "series"));
	size_t i;
	json_t *f;
	json_array_foreach (json_object_get(r, "findings"), i, f) {
		json_t *score = json_object_get(f, "score");
		if (score)
			printf("%s %.2f: %s\n", json_string_value(json_object_get(f, "kind")),
			       json_number_value(score), json_string_value(json_object_get(f, "what")));
		else
			printf("%s: %s\n", json_string_value(json_object_get(f, "kind")),
			       json_string_value(json_object_get(f, "what")));
	}
}

static int parse_number(const char *cmd, const char *flag, const char *v, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || end == v || *end || d < lo || d > hi)
		return tv_cli_usage_error(cmd, "%s %s: a number from %g to %g", flag, v, lo, hi);
	*out = d;
	return 0;
}

int tv_cmd_trends(const struct tv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {TV_CLI_SCOPE_OPTIONS,
					     {"by", required_argument, NULL, 'b'},
					     {"top", required_argument, NULL, 'N'},
					     {"k", required_argument, NULL, 'k'},
					     {"recent", required_argument, NULL, 'r'},
					     {"min-duration", required_argument, NULL, 'm'},
					     {"threshold", required_argument, NULL, 't'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct tv_cli_scope sc = {0};
	struct tv_trends_opts o = {0};
	bool json = false;
	double d;
	int opt;
	while ((opt = getopt_long(argc, argv, "s:p:h", opts, NULL)) != -1) {
		if (tv_cli_scope_option(&sc, opt, optarg))
			continue;
		switch (opt) {
		case 'b': o.by = optarg; break;
		case 'N':
			if (parse_number("trends", "--top", optarg, 1, 1000, &d))
				return TV_EXIT_USAGE;
			o.top = (size_t)d;
			break;
		case 'k':
			if (parse_number("trends", "--k", optarg, 0.5, 100, &o.k))
				return TV_EXIT_USAGE;
			break;
		case 't':
			if (parse_number("trends", "--threshold", optarg, 0.01, 1, &o.beacon_threshold))
				return TV_EXIT_USAGE;
			break;
		case 'r':
		case 'm':
			if (tv_parse_duration(optarg, opt == 'r' ? &o.recent_ns : &o.long_min_ns) ||
			    !(opt == 'r' ? o.recent_ns : o.long_min_ns))
				return tv_cli_usage_error("trends", "%s %s: a duration like 7d or 90m",
							  opt == 'r' ? "--recent" : "--min-duration", optarg);
			break;
		case 'j': json = true; break;
		case 'h': fputs(trends_usage, stdout); return TV_EXIT_OK;
		default: return tv_cli_usage_error("trends", "unknown option");
		}
	}
	if (optind >= argc)
		return tv_cli_usage_error("trends",
					  "which trend? top, new-peers, beacons, long or anomalies");
	o.kind = argv[optind];
	if (optind + 1 < argc)
		return tv_cli_usage_error("trends", "unexpected argument '%s'", argv[optind + 1]);
	int rc = tv_cli_scope_finish(&sc, "trends", TV_SCOPE_STORE | TV_SCOPE_WINDOW);
	if (rc)
		return rc;
	if (sc.nnodes)
		return tv_cli_usage_error("trends", "--node: use --by node");
	struct tv_store *s;
	if (tv_cli_open_store(cli, sc.url, 0, &s, "trends"))
		return TV_EXIT_FAIL;
	struct tv_progress prog;
	tv_progress_start(&prog, "hours", (sc.to - sc.from + TV_HOUR_NS - 1) / TV_HOUR_NS);
	o.prefix = sc.prefix;
	o.from = sc.from;
	o.to = sc.to;
	o.progress = progress;
	o.arg = &prog;
	json_t *r;
	rc = tv_trends(s, &o, &r);
	tv_progress_end(&prog);
	tv_store_free(s);
	if (rc == -EINVAL)
		return tv_cli_usage_error("trends", "%s", tv_errmsg());
	if (rc)
		return tv_cli_fail("trends", "trends failed");
	if (json) {
		json_dumpf(r, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_text(r);
	}
	json_decref(r);
	return TV_EXIT_OK;
}
