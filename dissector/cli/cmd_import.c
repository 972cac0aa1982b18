/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_import: `tapvault import`, the command-line face of import.c. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/timeutil.h"
#include "dissector/cli/cli.h"
#include "dissector/query/import.h"

static const char usage[] =
	"Usage: tapvault import --store URL --node NAME [options] FILE...\n"
	"\n"
	"Cut existing pcap/pcapng captures (any link type libpcap reads) into sealed,\n"
	"indexed segments in the store, timestamps preserved, every packet kept. The\n"
	"node's sequence numbers and hash chain continue from what the store holds.\n"
	"\n"
	"  -s, --store URL         where to write: file:///dir or a directory (created)\n"
	"  -n, --node NAME         node the packets are filed under\n"
	"  -p, --prefix PREFIX     key prefix inside the store (default: none)\n"
	"  -i, --interface NAME    interface name recorded in the segments (default: import)\n"
	"      --seal-interval DUR cut a segment every DUR of packet time (default: 10s)\n"
	"      --seal-bytes N      or after N bytes of pcapng (default: 268435456)\n"
	"      --zstd-level N      compression level (default: 1)\n"
	"      --k8s FILE          Kubernetes objects of when the capture was taken, as\n"
	"                          `kubectl get pods,services,endpoints,namespaces -A -o json`\n"
	"                          prints them: dissection then names pods and services\n"
	"  -q, --quiet             no progress line\n"
	"  -h, --help              this text\n"
	"\n"
	"Exit: 0 all imported, 1 failure, 2 usage, 3 some files unreadable (the rest imported).\n";

/* A file that could not be read whole: its name and why (the rest goes on). */
static void print_damaged(void *ctx, const char *what)
{
	(void)ctx;
	fprintf(stderr, "tapvault import: %s\n", what);
}

int tv_cmd_import(const struct tv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"store", required_argument, NULL, 's'},
					     {"node", required_argument, NULL, 'n'},
					     {"prefix", required_argument, NULL, 'p'},
					     {"interface", required_argument, NULL, 'i'},
					     {"seal-interval", required_argument, NULL, 'I'},
					     {"seal-bytes", required_argument, NULL, 'B'},
					     {"zstd-level", required_argument, NULL, 'z'},
					     {"k8s", required_argument, NULL, 'K'},
					     {"quiet", no_argument, NULL, 'q'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *store_url = NULL, *k8s_file = NULL;
	struct tv_import_opts o = {.prefix = ""};
	bool quiet = false;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "s:n:p:i:qh", opts, NULL)) != -1) {
		switch (c) {
		case 's': store_url = optarg; break;
		case 'n': o.node = optarg; break;
		case 'p': o.prefix = optarg; break;
		case 'i': o.iface_name = optarg; break;
		case 'I':
			if (tv_parse_duration(optarg, &o.seal_interval_ns) || o.seal_interval_ns == 0)
				return tv_cli_usage_error("import", "bad --seal-interval '%s'", optarg);
			break;
		case 'B':
			o.seal_bytes = strtoull(optarg, &end, 10);
			if (*end || o.seal_bytes == 0)
				return tv_cli_usage_error("import", "bad --seal-bytes '%s'", optarg);
			break;
		case 'z':
			o.zstd_level = (int)strtol(optarg, &end, 10);
			if (*end || o.zstd_level < 1 || o.zstd_level > 19)
				return tv_cli_usage_error("import", "bad --zstd-level '%s' (1..19)", optarg);
			break;
		case 'K': k8s_file = optarg; break;
		case 'q': quiet = true; break;
		case 'h': fputs(usage, stdout); return TV_EXIT_OK;
		default: return tv_cli_usage_error("import", "unknown option");
		}
	}
	if (!store_url || !o.node)
		return tv_cli_usage_error("import", "--store and --node are required");
	if (optind >= argc)
		return tv_cli_usage_error("import", "no capture files given");
	struct tv_cli_k8s k8s = {0};
	if (k8s_file && tv_cli_load_k8s(k8s_file, &k8s))
		return tv_cli_fail("import", "cannot use --k8s");
	o.objects = k8s.objects;
	o.nobjects = k8s.n;
	struct tv_store *s;
	if (tv_cli_open_store(cli, store_url, TV_STORE_CREATE, &s, "import")) {
		tv_cli_free_k8s(&k8s);
		return TV_EXIT_FAIL;
	}
	struct tv_cli_report cr;
	tv_cli_report_init(&cr, "import", "files");
	if (quiet) {
		cr.prog.on = false;
		cr.r.progress = NULL;
	}
	cr.r.skipped = print_damaged;
	o.report = &cr.r;
	struct tv_import_stats st;
	int rc = tv_import_files(s, (const char *const *)argv + optind, argc - optind, &o, &st);
	tv_cli_report_end(&cr);
	tv_store_free(s);
	tv_cli_free_k8s(&k8s);
	fprintf(stderr,
		"tapvault import: %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64 " segments; %" PRIu64
		" file(s) read whole, %" PRIu64 " damaged or unreadable\n",
		st.packets, st.bytes, st.segments, st.files_ok, st.files_failed);
	if (rc == -EIO && st.files_failed)
		return st.files_ok || st.packets ? TV_EXIT_PARTIAL : TV_EXIT_FAIL;
	if (rc)
		return tv_cli_fail("import", "failed");
	return TV_EXIT_OK;
}
