/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_snapshot: `tapvault snapshot create|ls|get|pcap|rm` (snapshot.h). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/config.h"
#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/common/timeutil.h"
#include "dissector/cli/cli.h"
#include "dissector/query/export.h"
#include "dissector/query/snapshot.h"
#include "dissector/query/snapshot_list.h"
#include "dissector/query/window.h"

static const char usage[] =
	"Usage: tapvault snapshot create NAME --store URL --from T --to T [--node NAME]...\n"
	"                [--retain DUR [--mode governance|compliance]] [--legal-hold] [--config FILE]\n"
	"       tapvault snapshot ls  --store URL [--json]\n"
	"       tapvault snapshot get NAME --store URL -o FILE\n"
	"       tapvault snapshot pcap NAME --store URL [--format pcapng|pcap] -o FILE|-\n"
	"       tapvault snapshot rm  NAME --store URL\n"
	"       (all take --prefix P)\n"
	"\n"
	"A snapshot is one tar at PREFIX/v1/snapshots/NAME.tar holding, for the window,\n"
	"the overlapping frames of every segment re-packed as valid segments with fresh\n"
	"indexes, their events, and manifest.json (window, nodes, tool version, each\n"
	"member's SHA-256, the hash-chain links covered). Never overwritten; it stays\n"
	"whole when the store recycles its sources. Names: no '/', no leading '.'.\n"
	"\n"
	"  --retain DUR    keep the snapshot under S3 Object Lock retention for DUR (90d):\n"
	"                  the bucket must have Object Lock; `rm` then refuses until it ends\n"
	"  --mode M        governance (default: lifted only with s3:BypassGovernanceRetention)\n"
	"                  or compliance (nobody can lift it)\n"
	"  --legal-hold    also a legal hold (no end date; lifted by hand)\n"
	"  --config FILE   defaults from the chart's file: tap.snapshots.retain, .mode,\n"
	"                  .legalHold (flags win); --print-config shows them\n"
	"\n"
	"`ls` prints one line per snapshot, tab-separated: name, size in bytes, window\n"
	"start and end, status (complete; creating: being built, or its creator died;\n"
	"unlisted: made before listings kept metadata), created at, nodes, retention and\n"
	"hold. It reads NAME.meta.json beside each tar, never the tar itself.\n";

struct snap_opts {
	struct tv_cli_scope sc;
	const char *output;
	enum tv_pcap_format format;
	bool json;
	const char *config;
	bool print_config;
	const char *retain_text, *mode_text;
	bool legal_hold_flag;
};

/* tap.snapshots.*, read from the chart's file (the agent and uploader skip them) */
struct snap_defaults {
	uint64_t retain_ns;
	int compliance; /* the index in "governance|compliance" */
	bool legal_hold;
};

#define F(field) offsetof(struct snap_defaults, field)
static const struct tv_cfg_entry snap_table[] = {
	{"tap.snapshots.retain", TV_CFG_DURATION, F(retain_ns), "0s",
	 "Object Lock retention of `tapvault snapshot create` (0s: none)", NULL},
	{"tap.snapshots.mode", TV_CFG_ENUM, F(compliance), "governance",
	 "governance (s3:BypassGovernanceRetention may lift it) or compliance (nobody may)",
	 "governance|compliance"},
	{"tap.snapshots.legalHold", TV_CFG_BOOL, F(legal_hold), "false", "also put a legal hold on it", NULL},
};
#undef F
static const char *const snap_foreign[] = {"agent.", "uploader.", "store.", "tap.", NULL};

/* The snapshot defaults: the table's, the file's, then the flags. @return
 * TV_EXIT_OK, or TV_EXIT_USAGE with the reason printed. */
static int snapshot_defaults(const struct snap_opts *o, struct snap_defaults *d, bool print)
{
	struct tv_cfg_part part = {snap_table, sizeof(snap_table) / sizeof(snap_table[0]), d};
	struct tv_cfg cfg = {&part, 1, snap_foreign};
	int rc = tv_cfg_init(&cfg);
	if (!rc && o->config)
		rc = tv_cfg_load_file(&cfg, o->config);
	if (!rc && o->retain_text)
		rc = tv_cfg_set(&cfg, "tap.snapshots.retain", o->retain_text, true, "--retain");
	if (!rc && o->mode_text)
		rc = tv_cfg_set(&cfg, "tap.snapshots.mode", o->mode_text, true, "--mode");
	if (!rc && o->legal_hold_flag)
		d->legal_hold = true;
	if (!rc && print)
		tv_cfg_print(&cfg, stdout);
	tv_cfg_cleanup(&cfg);
	return rc ? tv_cli_usage_error("snapshot", "%s", tv_errmsg()) : TV_EXIT_OK;
}

static int fetch_to_file(struct tv_store *s, const char *key, const char *path)
{
	struct tv_buf b;
	tv_buf_init(&b, (size_t)1 << 34);
	int rc = tv_store_get(s, key, &b);
	if (!rc)
		rc = tv_write_file_atomic(path, b.data, b.len);
	tv_buf_cleanup(&b);
	return rc;
}

static int snap_pcap(struct tv_store *s, const struct snap_opts *o, const char *key)
{
	char dir[600];
	int rc = tv_make_temp_dir(dir, sizeof(dir), "snap");
	if (rc)
		return rc;
	char tar[700];
	snprintf(tar, sizeof(tar), "%s/snapshot.tar", dir);
	rc = fetch_to_file(s, key, tar);
	char root[700];
	snprintf(root, sizeof(root), "%s/store", dir);
	if (!rc && !(rc = tv_mkdir_p(root)))
		rc = tv_snapshot_extract(tar, root);
	struct tv_store *ss = NULL;
	struct tv_window *w = NULL;
	if (!rc)
		rc = tv_store_open(root, 0, NULL, &ss);
	struct tv_cli_report cr;
	tv_cli_report_init(&cr, "snapshot", "segment streams");
	struct tv_window_opts wo = {
		.prefix = "", .from = 0, .to = UINT64_MAX, .dedup_window_ns = 1000000, .report = &cr.r};
	if (!rc) {
		/* the snapshot holds whole frames; its packets are those of its window */
		char mpath[800];
		snprintf(mpath, sizeof(mpath), "%s/manifest.json", root);
		json_error_t jerr;
		json_t *m = json_load_file(mpath, 0, &jerr);
		json_t *win = json_object_get(m, "window");
		if (!json_is_integer(json_object_get(win, "from_ns")) ||
		    !json_is_integer(json_object_get(win, "to_ns")))
			rc = tv_err(TV_ECORRUPT, "snapshot %s: manifest.json lacks the window", key);
		else {
			wo.from = (uint64_t)json_integer_value(json_object_get(win, "from_ns"));
			wo.to = (uint64_t)json_integer_value(json_object_get(win, "to_ns"));
		}
		json_decref(m);
	}
	if (!rc)
		rc = tv_window_open(&w, ss, &wo);
	struct tv_export_opts eo = {.output = o->output, .format = o->format, .report = &cr.r};
	struct tv_window_stats st;
	if (!rc)
		rc = tv_export_window(w, &eo, &st, NULL);
	tv_cli_report_end(&cr);
	tv_window_free(w);
	tv_store_free(ss);
	if (tv_remove_tree(dir))
		fprintf(stderr, "tapvault snapshot: %s\n", tv_errmsg());
	return rc;
}

/* "governance until T", "compliance until T, legal hold", "legal hold", "-" */
static void retention_text(json_t *row, char *out, size_t n)
{
	json_t *r = json_object_get(row, "retention");
	bool hold = json_is_true(json_object_get(row, "legal_hold"));
	if (json_is_object(r))
		snprintf(out, n, "%s until %s%s", json_string_value(json_object_get(r, "mode")),
			 json_string_value(json_object_get(r, "until")), hold ? ", legal hold" : "");
	else
		snprintf(out, n, "%s", hold ? "legal hold" : "-");
}

static const char *or_dash(json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "-";
}

/* name, size, window start, end, status, created, nodes, retention */
static void print_row(json_t *r)
{
	char nodes[1024] = "", ret[160];
	size_t i, at = 0;
	json_t *v;
	json_array_foreach (json_object_get(r, "nodes"), i, v) {
		int w = snprintf(nodes + at, sizeof(nodes) - at, "%s%s", i ? "," : "", json_string_value(v));
		if (w < 0 || (size_t)w >= sizeof(nodes) - at)
			break;
		at += (size_t)w;
	}
	retention_text(r, ret, sizeof(ret));
	printf("%s\t%" PRIu64 "\t%s\t%s\t%s\t%s\t%s\t%s\n", json_string_value(json_object_get(r, "name")),
	       (uint64_t)json_integer_value(json_object_get(r, "bytes")), or_dash(json_object_get(r, "from")),
	       or_dash(json_object_get(r, "to")), json_string_value(json_object_get(r, "status")),
	       or_dash(json_object_get(r, "created")), nodes[0] ? nodes : "-", ret);
}

static int snap_ls(struct tv_store *s, const struct snap_opts *o)
{
	json_t *rows;
	int rc = tv_snapshot_list(s, o->sc.prefix, &rows);
	if (rc)
		return rc;
	if (o->json) {
		json_dumpf(rows, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		size_t i;
		json_t *r;
		json_array_foreach (rows, i, r)
			print_row(r);
	}
	json_decref(rows);
	return 0;
}

int tv_cmd_snapshot(const struct tv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {TV_CLI_SCOPE_OPTIONS,
					     {"output", required_argument, NULL, 'o'},
					     {"format", required_argument, NULL, 'm'},
					     {"help", no_argument, NULL, 'h'},
					     {"json", no_argument, NULL, 'j'},
					     {"retain", required_argument, NULL, 1},
					     {"mode", required_argument, NULL, 2},
					     {"legal-hold", no_argument, NULL, 3},
					     {"config", required_argument, NULL, 4},
					     {"print-config", no_argument, NULL, 5},
					     {NULL, 0, NULL, 0}};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? TV_EXIT_USAGE : TV_EXIT_OK;
	}
	const char *sub = argv[1];
	argc--;
	argv++;
	struct snap_opts o = {.format = TV_FORMAT_PCAPNG};
	int c;
	while ((c = getopt_long(argc, argv, "s:n:p:o:h", opts, NULL)) != -1) {
		if (tv_cli_scope_option(&o.sc, c, optarg))
			continue;
		switch (c) {
		case 'o': o.output = optarg; break;
		case 'm':
			if (tv_pcap_format_parse(optarg, &o.format))
				return tv_cli_usage_error("snapshot", "%s", tv_errmsg());
			break;
		case 'j': o.json = true; break;
		case 1: o.retain_text = optarg; break;
		case 2: o.mode_text = optarg; break;
		case 3: o.legal_hold_flag = true; break;
		case 4: o.config = optarg; break;
		case 5: o.print_config = true; break;
		case 'h': fputs(usage, stdout); return TV_EXIT_OK;
		default: return tv_cli_usage_error("snapshot", "unknown option");
		}
	}
	bool is_ls = !strcmp(sub, "ls");
	if (!is_ls && strcmp(sub, "create") && strcmp(sub, "get") && strcmp(sub, "pcap") && strcmp(sub, "rm"))
		return tv_cli_usage_error("snapshot", "unknown subcommand '%s' (create, ls, get, pcap, rm)",
					  sub);
	bool is_create = !strcmp(sub, "create");
	struct snap_defaults defs = {0};
	if ((is_create || o.print_config) && snapshot_defaults(&o, &defs, o.print_config))
		return TV_EXIT_USAGE;
	if (o.print_config)
		return TV_EXIT_OK;
	if (!is_create && (o.retain_text || o.mode_text || o.legal_hold_flag || o.config))
		return tv_cli_usage_error("snapshot",
					  "--retain, --mode, --legal-hold and --config are for create");
	struct tv_store_retention retention = {.compliance = defs.compliance == 1,
					       .until_ns = tv_now_ns() + defs.retain_ns};
	if (is_create && o.sc.url && (!o.sc.from_text || !o.sc.to_text))
		return tv_cli_usage_error("snapshot", "create needs --from and --to");
	if (tv_cli_scope_finish(&o.sc, "snapshot", TV_SCOPE_STORE))
		return TV_EXIT_USAGE;
	const char *name = NULL;
	if (!is_ls) {
		if (optind != argc - 1)
			return tv_cli_usage_error("snapshot", "%s takes exactly one NAME", sub);
		name = argv[optind];
		if (tv_snapshot_name_check(name))
			return tv_cli_usage_error("snapshot", "%s", tv_errmsg());
	}
	if ((!strcmp(sub, "get") || !strcmp(sub, "pcap")) && !o.output)
		return tv_cli_usage_error("snapshot", "%s needs -o FILE", sub);
	struct tv_cli_report cr;
	tv_cli_report_init(&cr, "snapshot", "segments");
	struct tv_snapshot_opts so = {.prefix = o.sc.prefix,
				      .name = name,
				      .nodes = tv_cli_scope_nodes(&o.sc),
				      .nnodes = o.sc.nnodes,
				      .from = o.sc.from,
				      .to = o.sc.to,
				      .report = &cr.r,
				      .retention = defs.retain_ns ? &retention : NULL,
				      .legal_hold = defs.legal_hold};
	struct tv_store *s;
	if (tv_cli_open_store(cli, o.sc.url, 0, &s, "snapshot"))
		return TV_EXIT_FAIL;
	char key[1200];
	int rc = name ? tv_snapshot_key(o.sc.prefix, name, key, sizeof(key)) : 0;
	if (!rc && is_create) {
		struct tv_snapshot_stats st;
		rc = tv_snapshot_create(s, &so, &st);
		tv_cli_report_end(&cr);
		char until[TV_RFC3339_LEN];
		tv_format_rfc3339(retention.until_ns, until);
		if (!rc)
			fprintf(stderr,
				"tapvault snapshot: %s: %" PRIu64 " segments, %" PRIu64 " frames, %" PRIu64
				" bytes%s%s%s%s\n",
				name, st.segments, st.frames, st.bytes,
				so.retention ? "; retained until " : "", so.retention ? until : "",
				so.retention && retention.compliance ? " (compliance)" : "",
				so.legal_hold ? "; legal hold" : "");
	} else if (!rc && is_ls) {
		rc = snap_ls(s, &o);
	} else if (!rc && !strcmp(sub, "get")) {
		rc = fetch_to_file(s, key, o.output);
	} else if (!rc && !strcmp(sub, "pcap")) {
		rc = snap_pcap(s, &o, key);
	} else if (!rc) {
		rc = tv_snapshot_delete(s, o.sc.prefix, name);
	}
	tv_store_free(s);
	return rc ? tv_cli_fail("snapshot", "failed") : TV_EXIT_OK;
}
