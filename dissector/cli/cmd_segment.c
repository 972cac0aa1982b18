/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_segment: `tapvault segment list|info|cat`, low-level access to single
 * segments (the windowed, merged view of many segments is `tapvault pcap`). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/sha256.h"
#include "archive/common/timeutil.h"
#include "archive/keys.h"
#include "archive/segment.h"
#include "archive/store/store.h"
#include "dissector/cli/cli.h"
#include "dissector/query/catalog.h"
#include "dissector/query/output_pcap.h"

static const char usage[] = "Usage: tapvault segment list --store URL [--node NAME] [--prefix P]\n"
			    "       tapvault segment info --store URL [--flows] [--frames] SEGMENT\n"
			    "       tapvault segment cat  --store URL [--from T --to T] [--flow FLOW]\n"
			    "                             [--format pcapng|pcap] -o FILE|- SEGMENT\n"
			    "\n"
			    "SEGMENT is any of a segment's three keys, or their common stem\n"
			    "(PREFIX/v1/nodes/NODE/YYYY/MM/DD/HH/STARTNS-SEQ).\n"
			    "\n"
			    "  list   one line per sealed segment: stem, start, end, packets, data bytes\n"
			    "  info   the segment's index as JSON (--flows, --frames add those tables)\n"
			    "  cat    the segment's packets; with --from/--to (RFC 3339, Unix seconds, now,\n"
			    "         -15m) only from <= ts < to, with --flow only one conversation, e.g.\n"
			    "         --flow 'tcp 10.0.0.1:43210 > 10.0.0.2:80' (either direction matches).\n"
			    "         Only the frames that can hold matching packets are decompressed.\n"
			    "\n"
			    "Exit: 0 ok, 1 failure, 2 usage, 3 damaged frames skipped (the rest written).\n";

struct seg_opts {
	struct tv_cli_scope sc;
	const char *output, *flow;
	enum tv_pcap_format format;
	bool flows, frames;
};

static int load_index(struct tv_store *s, const char *stem, struct tv_index *idx)
{
	char key[TV_KEY_MAX + 32];
	snprintf(key, sizeof(key), "%s%s", stem, TV_KEY_SUFFIX_INDEX);
	return tv_catalog_load_index(s, key, idx, NULL, NULL);
}

static json_t *sha_json(const uint8_t *sha)
{
	char hex[TV_SHA256_HEX_LEN];
	tv_hex(sha, TV_SHA256_LEN, hex);
	return json_string(hex);
}

static json_t *time_json(uint64_t ns)
{
	char t[TV_RFC3339_LEN];
	tv_format_rfc3339(ns, t);
	return json_string(t);
}

static json_t *flows_json(const struct tv_index *idx)
{
	json_t *a = json_array();
	for (uint32_t i = 0; i < idx->nflows; i++) {
		const struct tv_flow *f = &idx->flows[i];
		char k[200];
		tv_flow_key_format(&f->key, k, sizeof(k));
		json_t *ranges = json_array();
		for (uint32_t r = 0; r < f->nranges; r++)
			json_array_append_new(ranges, json_pack("[I,I]", (json_int_t)f->ranges[r].first,
								(json_int_t)f->ranges[r].count));
		json_t *row = json_pack("{s:s,s:o,s:o,s:I,s:I,s:o}", "flow", k, "first", time_json(f->ts_min),
					"last", time_json(f->ts_max), "packets", (json_int_t)f->packets,
					"bytes", (json_int_t)f->bytes, "frames", ranges);
		if (idx->version >= 3) /* who sent what, attempts and resets */
			json_object_update_new(row, json_pack("{s:I,s:I,s:i,s:i}", "packets_rev",
							      (json_int_t)f->packets_rev, "bytes_rev",
							      (json_int_t)f->bytes_rev, "syn", (int)f->syn,
							      "rst", (int)f->rst));
		json_array_append_new(a, row);
	}
	return a;
}

static json_t *frames_json(const struct tv_index *idx)
{
	json_t *a = json_array();
	for (uint32_t i = 0; i < idx->nframes; i++) {
		const struct tv_frame_entry *f = &idx->frames[i];
		json_array_append_new(a, json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "offset",
						   (json_int_t)f->offset, "compressed",
						   (json_int_t)f->comp_size, "raw", (json_int_t)f->raw_size,
						   "ts_min", (json_int_t)f->ts_min, "ts_max",
						   (json_int_t)f->ts_max, "packets", (json_int_t)f->packets));
	}
	return a;
}

static json_t *index_json(const struct tv_index *idx, bool flows, bool frames)
{
	json_t *ifs = json_array();
	for (uint32_t i = 0; i < idx->niface; i++) {
		const struct tv_iface *f = &idx->ifaces[i];
		json_array_append_new(ifs, json_pack("{s:s,s:i,s:I,s:I,s:I,s:I}", "name", f->name, "linktype",
						     f->linktype, "snaplen", (json_int_t)f->snaplen,
						     "packets", (json_int_t)f->packets, "drops_kernel",
						     (json_int_t)f->drops_kernel, "drops_interface",
						     (json_int_t)f->drops_iface));
	}
	json_t *j = json_pack("{s:s,s:I,s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:I,s:I}", "node",
			      idx->node, "seq", (json_int_t)idx->seq, "start", time_json(idx->start_ns),
			      "end", time_json(idx->end_ns), "start_ns", (json_int_t)idx->start_ns, "end_ns",
			      (json_int_t)idx->end_ns, "packets", (json_int_t)idx->packets, "bytes_wire",
			      (json_int_t)idx->bytes_wire, "bytes_captured", (json_int_t)idx->bytes_captured,
			      "data_bytes", (json_int_t)idx->data_size, "data_sha256",
			      sha_json(idx->data_sha), "events_sha256", sha_json(idx->events_sha),
			      "prev_index_sha256", sha_json(idx->prev_sha), "interfaces", ifs, "frames_total",
			      (json_int_t)idx->nframes, "flows_total", (json_int_t)idx->nflows);
	json_object_set_new(j, "pcapng_bytes", json_integer((json_int_t)idx->data_raw_size));
	json_object_set_new(j, "os_records_lost", json_integer((json_int_t)idx->os_lost));
	if (flows)
		json_object_set_new(j, "flows", flows_json(idx));
	if (frames)
		json_object_set_new(j, "frames", frames_json(idx));
	return j;
}

static int cmd_info(struct tv_store *s, const struct seg_opts *o, const char *seg)
{
	char stem[TV_KEY_MAX + 1];
	tv_key_sibling(seg, "", stem, sizeof(stem));
	struct tv_index idx;
	if (load_index(s, stem, &idx))
		return tv_cli_fail("segment info", "cannot read index");
	json_t *j = index_json(&idx, o->flows, o->frames);
	json_dumpf(j, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(j);
	tv_index_cleanup(&idx);
	return TV_EXIT_OK;
}

struct list_ctx {
	struct tv_store *s;
	int failures;
};

static int list_one(void *ctx, const struct tv_store_entry *e)
{
	struct list_ctx *lc = ctx;
	struct tv_segment_key k;
	if (tv_key_parse_segment(e->key, &k) || k.kind != TV_OBJ_INDEX)
		return 0;
	char stem[TV_KEY_MAX + 1];
	tv_key_sibling(e->key, "", stem, sizeof(stem));
	struct tv_index idx;
	if (load_index(lc->s, stem, &idx)) {
		fprintf(stderr, "tapvault segment list: %s\n", tv_errmsg());
		lc->failures++;
		return 0;
	}
	char a[TV_RFC3339_LEN], b[TV_RFC3339_LEN];
	tv_format_rfc3339(idx.start_ns, a);
	tv_format_rfc3339(idx.end_ns, b);
	printf("%s\t%s\t%s\t%" PRIu64 "\t%" PRIu64 "\n", stem, a, b, idx.packets, idx.data_size);
	tv_index_cleanup(&idx);
	return 0;
}

static int cmd_list(struct tv_store *s, const struct seg_opts *o)
{
	char prefix[TV_KEY_MAX];
	if (tv_key_node_prefix(prefix, sizeof(prefix), o->sc.prefix, o->sc.nnodes ? o->sc.nodes[0] : NULL))
		return tv_cli_usage_error("segment", "prefix too long");
	struct list_ctx lc = {s, 0};
	if (tv_store_each(s, prefix, list_one, &lc))
		return tv_cli_fail("segment list", "listing failed");
	return lc.failures ? TV_EXIT_PARTIAL : TV_EXIT_OK;
}

static int copy_packets(struct tv_seg_reader *r, struct tv_pcap_out *out, int *damaged)
{
	struct tv_packet p;
	int rc;
	while ((rc = tv_seg_reader_next(r, &p)) != 0) {
		if (rc < 0) {
			fprintf(stderr, "tapvault segment cat: %s (skipped)\n", tv_errmsg());
			(*damaged)++;
			continue;
		}
		if ((rc = tv_pcap_out_write(out, &p)))
			return rc;
	}
	return 0;
}

static int cmd_cat(struct tv_store *s, const struct seg_opts *o, const char *seg)
{
	if (!o->output)
		return tv_cli_usage_error("segment", "cat needs -o FILE (or -o - for stdout)");
	uint64_t from = o->sc.from, to = o->sc.to;
	struct tv_flow_key fk;
	if (o->flow && tv_flow_key_from_string(o->flow, &fk))
		return tv_cli_usage_error(
			"segment", "bad --flow '%s' (e.g. 'tcp 10.0.0.1:80 > 10.0.0.2:5555')", o->flow);
	char stem[TV_KEY_MAX + 1], key[TV_KEY_MAX + 32];
	tv_key_sibling(seg, "", stem, sizeof(stem));
	snprintf(key, sizeof(key), "%s%s", stem, TV_KEY_SUFFIX_DATA);
	struct tv_index idx;
	if (load_index(s, stem, &idx))
		return tv_cli_fail("segment cat", "cannot read index");
	struct tv_store_source src = {s, key};
	struct tv_seg_reader *r = NULL;
	struct tv_pcap_out out;
	int rc = tv_seg_reader_open(&r, &idx, tv_store_read_at, &src, key);
	int damaged = 0;
	bool opened = false;
	if (!rc) {
		if (!o->flow)
			tv_seg_reader_select_window(r, from, to);
		else if (tv_seg_reader_select_flow(r, &fk, from, to) == -ENOENT)
			tv_seg_reader_select_window(r, 1,
						    0); /* the segment lacks the flow: an empty capture */
	}
	if (!rc && !(rc = tv_pcap_out_open(&out, o->output, o->format, idx.ifaces, NULL, idx.niface)))
		opened = true;
	if (!rc)
		rc = copy_packets(r, &out, &damaged);
	if (!rc)
		rc = tv_pcap_out_commit(&out);
	else if (opened)
		tv_pcap_out_abort(&out);
	tv_seg_reader_free(r);
	tv_index_cleanup(&idx);
	if (rc)
		return tv_cli_fail("segment cat", "failed");
	return damaged ? TV_EXIT_PARTIAL : TV_EXIT_OK;
}

int tv_cmd_segment(const struct tv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {TV_CLI_SCOPE_OPTIONS,
					     {"output", required_argument, NULL, 'o'},
					     {"flow", required_argument, NULL, 'f'},
					     {"format", required_argument, NULL, 'm'},
					     {"flows", no_argument, NULL, 'L'},
					     {"frames", no_argument, NULL, 'R'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct seg_opts o = {.format = TV_FORMAT_PCAPNG};
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? TV_EXIT_USAGE : TV_EXIT_OK;
	}
	const char *sub = argv[1];
	argc--;
	argv++;
	int c;
	while ((c = getopt_long(argc, argv, "s:n:p:o:h", opts, NULL)) != -1) {
		if (tv_cli_scope_option(&o.sc, c, optarg))
			continue;
		switch (c) {
		case 'o': o.output = optarg; break;
		case 'f': o.flow = optarg; break;
		case 'm':
			if (tv_pcap_format_parse(optarg, &o.format))
				return tv_cli_usage_error("segment", "%s", tv_errmsg());
			break;
		case 'L': o.flows = true; break;
		case 'R': o.frames = true; break;
		case 'h': fputs(usage, stdout); return TV_EXIT_OK;
		default: return tv_cli_usage_error("segment", "unknown option");
		}
	}
	if (tv_cli_scope_finish(&o.sc, "segment", TV_SCOPE_STORE))
		return TV_EXIT_USAGE;
	bool needs_seg = strcmp(sub, "info") == 0 || strcmp(sub, "cat") == 0;
	if (strcmp(sub, "list") != 0 && !needs_seg)
		return tv_cli_usage_error("segment", "unknown subcommand '%s' (list, info, cat)", sub);
	if (needs_seg && optind != argc - 1)
		return tv_cli_usage_error("segment", "%s takes exactly one SEGMENT", sub);
	struct tv_store *s;
	if (tv_cli_open_store(cli, o.sc.url, 0, &s, "segment"))
		return TV_EXIT_FAIL;
	int rc = strcmp(sub, "list") == 0   ? cmd_list(s, &o)
		 : strcmp(sub, "info") == 0 ? cmd_info(s, &o, argv[optind])
					    : cmd_cat(s, &o, argv[optind]);
	tv_store_free(s);
	return rc;
}
