/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_ls: `tapvault ls`, what a store holds: per node the segments, packets,
 * bytes, the time ranges covered by unbroken hash chains and the gaps
 * between them; the number of snapshots. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/timeutil.h"
#include "archive/keys.h"
#include "dissector/catalog.h"
#include "dissector/cli.h"
#include "dissector/snapshot.h"

static const char usage[] =
	"Usage: tapvault ls --store URL [--from T --to T] [--node NAME]... [--prefix P] [--json]\n"
	"\n"
	"Per node: segments, packets, bytes stored, the ranges covered by unbroken\n"
	"hash chains and the gaps between them (a missing, altered or replaced segment\n"
	"breaks the chain); the number of snapshots. With --from/--to only segments\n"
	"with packets in the window count.\n";

struct node_ctx {
	struct tv_store *s;
	const char *prefix;
	uint64_t from, to;
	bool windowed;
	json_t *nodes;
	/* per node */
	json_t *ranges, *gaps, *damaged;
	uint64_t segments, packets, bytes;
	bool have_prev;
	uint64_t prev_seq, run_start, run_end, run_first_seq;
	uint8_t prev_sha[TV_SHA256_LEN];
};

static json_t *tj(uint64_t ns)
{
	char t[TV_RFC3339_LEN];
	tv_format_rfc3339(ns, t);
	return json_string(t);
}

static void close_run(struct node_ctx *c)
{
	if (c->have_prev)
		json_array_append_new(c->ranges,
				      json_pack("{s:o,s:o,s:I,s:I}", "from", tj(c->run_start), "to",
						tj(c->run_end), "first_seq", (json_int_t)c->run_first_seq,
						"last_seq", (json_int_t)c->prev_seq));
}

static int on_index(void *ctx, const char *key)
{
	struct node_ctx *c = ctx;
	struct tv_index idx;
	uint8_t sha[TV_SHA256_LEN];
	uint64_t isize;
	if (tv_catalog_load_index(c->s, key, &idx, sha, &isize)) {
		json_array_append_new(c->damaged, json_pack("{s:s,s:s}", "key", key, "error", tv_errmsg()));
		return 0;
	}
	if (c->windowed && !(idx.packets && idx.ts_max >= c->from && idx.ts_min < c->to)) {
		tv_index_cleanup(&idx);
		return 0;
	}
	bool linked = c->have_prev && idx.seq == c->prev_seq + 1 &&
		      !memcmp(idx.prev_sha, c->prev_sha, TV_SHA256_LEN);
	if (c->have_prev && !linked) {
		json_array_append_new(c->gaps,
				      json_pack("{s:o,s:o,s:I,s:I}", "from", tj(c->run_end), "to",
						tj(idx.start_ns), "after_seq", (json_int_t)c->prev_seq,
						"before_seq", (json_int_t)idx.seq));
		close_run(c);
	}
	if (!linked) {
		c->run_start = idx.start_ns;
		c->run_first_seq = idx.seq;
	}
	c->run_end = idx.end_ns > c->run_end || !linked ? idx.end_ns : c->run_end;
	c->have_prev = true;
	c->prev_seq = idx.seq;
	memcpy(c->prev_sha, sha, TV_SHA256_LEN);
	c->segments++;
	c->packets += idx.packets;
	c->bytes += idx.data_size + idx.events_size + isize;
	tv_index_cleanup(&idx);
	return 0;
}

static int on_node(void *ctx, const char *node)
{
	struct node_ctx *c = ctx;
	c->ranges = json_array();
	c->gaps = json_array();
	c->damaged = json_array();
	c->segments = c->packets = c->bytes = 0;
	c->have_prev = false;
	c->run_end = 0;
	int rc = tv_catalog_indexes(c->s, c->prefix, node, c->windowed ? c->from : 0,
				    c->windowed ? c->to : UINT64_MAX, on_index, c);
	close_run(c);
	json_array_append_new(c->nodes, json_pack("{s:s,s:I,s:I,s:I,s:o,s:o,s:o}", "node", node, "segments",
						  (json_int_t)c->segments, "packets", (json_int_t)c->packets,
						  "bytes", (json_int_t)c->bytes, "ranges", c->ranges, "gaps",
						  c->gaps, "damaged", c->damaged));
	return rc;
}

static int count_one(void *ctx, const struct tv_store_entry *e)
{
	(void)e;
	(*(uint64_t *)ctx)++;
	return 0;
}

static int count_snapshots(struct tv_store *s, const char *prefix, uint64_t *n)
{
	char key[TV_KEY_MAX];
	if (tv_snapshot_prefix(prefix, key, sizeof(key)))
		return tv_err(-ENAMETOOLONG, "prefix too long");
	*n = 0;
	return tv_store_each(s, key, count_one, n);
}

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

int tv_cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{"store", required_argument, NULL, 's'},  {"from", required_argument, NULL, 'F'},
		{"to", required_argument, NULL, 'T'},     {"node", required_argument, NULL, 'n'},
		{"prefix", required_argument, NULL, 'p'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	struct node_ctx c = {0};
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
	int rc = tv_cli_scope_finish(&sc, "ls");
	if (rc)
		return rc;
	c.prefix = sc.prefix;
	c.from = sc.from;
	c.to = sc.to;
	c.windowed = sc.windowed;
	if (tv_store_open(sc.url, 0, &c.s))
		return tv_cli_fail("ls", "cannot open store");
	c.nodes = json_array();
	rc = tv_cli_scope_each_node(&sc, c.s, on_node, &c);
	uint64_t snaps = 0;
	if (!rc)
		rc = count_snapshots(c.s, c.prefix, &snaps);
	tv_store_free(c.s);
	if (rc) {
		json_decref(c.nodes);
		return tv_cli_fail("ls", "listing failed");
	}
	if (json) {
		json_t *o = json_pack("{s:o,s:I}", "nodes", c.nodes, "snapshots", (json_int_t)snaps);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		print_text(c.nodes, snaps);
		json_decref(c.nodes);
	}
	return TV_EXIT_OK;
}
