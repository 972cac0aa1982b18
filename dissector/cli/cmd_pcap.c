/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_pcap: `tapvault pcap`, a cluster-wide window as one time-ordered
 * capture: only overlapping frames are fetched, nodes are merged by
 * timestamp, duplicates removed (window.h), a BPF filter applied. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/timeutil.h"
#include "archive/common/units.h"
#include "archive/events.h"
#include "archive/names.h"
#include "dissector/cli/cli.h"
#include "dissector/query/export.h"
#include "dissector/query/window.h"

static const char usage[] =
	"Usage: tapvault pcap --store URL --from T --to T [--node NAME]... [--filter BPF]\n"
	"                     [--format pcapng|pcap] [--prefix P] [--dedup-window DUR | --no-dedup]\n"
	"                     [--pod REGEX] [--namespace NS]... [--workload [KIND/]NAME]...\n"
	"                     [--process COMM|PID]... [--container ID|NAME]... [--annotate]\n"
	"                     [--k8s FILE]\n"
	"                     [--stats] -o FILE|-\n"
	"\n"
	"Writes every packet with from <= timestamp < to, from all nodes (or those\n"
	"named), merged in timestamp order, as pcapng (one interface per node and\n"
	"interface, named NODE/IFACE) or classic pcap. Only the frames that overlap\n"
	"the window are read. The same packet seen on two interfaces or nodes is kept\n"
	"once: same bytes from the network header on, same length, within the dedup\n"
	"window (default 1ms) of the first copy (docs/CLI.md). Times: RFC 3339, Unix\n"
	"seconds, now, or -15m.\n"
	"\n"
	"--pod, --namespace and --workload keep only the packets to or from pods that\n"
	"match all of them (--pod: a regular expression on the pod name; --workload:\n"
	"a Deployment, StatefulSet, DaemonSet... name), judged by who held each address\n"
	"at the packet's time, from the Kubernetes events the agents recorded.\n"
	"--process and --container keep only the packets to or from a socket of that\n"
	"process (its comm, or its pid) or container (its name in the pod, or its id\n"
	"or a prefix of it), from the agents' OS layer (eBPF) records.\n"
	"--annotate writes each packet's pods and processes as its pcapng comment\n"
	"(Wireshark: pkt_comment); classic pcap has no comments.\n"
	"--k8s FILE adds Kubernetes objects (`kubectl get pods,services -A -o json`)\n"
	"to what the events say, for the selection and the annotations.\n"
	"\n"
	"Exit: 0 ok, 1 failure, 2 usage, 3 damaged objects skipped (the rest written).\n";

struct pcap_extra {
	uint64_t dedup_ns;
	bool stats, annotate;
	const struct tv_cli_k8s *k8s; /* --k8s objects (n 0: none) */
};

static int export_window(const struct tv_cli *cli, const struct tv_cli_scope *sc, struct tv_select *sel,
			 struct tv_export_opts *eo, const struct pcap_extra *x);

/* One more value of a repeatable selection option (at most TV_SELECT_MAX).
 * @return 0, or the usage error's status (already reported). */
static int add_value(const char **list, size_t *n, const char *v, const char *option)
{
	if (*n == TV_SELECT_MAX)
		return tv_cli_usage_error("pcap", "at most %d --%s", TV_SELECT_MAX, option);
	list[(*n)++] = v;
	return 0;
}

int tv_cmd_pcap(const struct tv_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {TV_CLI_SCOPE_OPTIONS,
					     {"filter", required_argument, NULL, 'f'},
					     {"format", required_argument, NULL, 'm'},
					     {"output", required_argument, NULL, 'o'},
					     {"dedup-window", required_argument, NULL, 'd'},
					     {"no-dedup", no_argument, NULL, 'D'},
					     {"stats", no_argument, NULL, 'S'},
					     {"pod", required_argument, NULL, 'P'},
					     {"namespace", required_argument, NULL, 'N'},
					     {"workload", required_argument, NULL, 'W'},
					     {"process", required_argument, NULL, 'R'},
					     {"container", required_argument, NULL, 'C'},
					     {"annotate", no_argument, NULL, 'A'},
					     {"k8s", required_argument, NULL, 'K'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct tv_cli_scope sc = {0};
	const char *filter = NULL, *output = NULL;
	uint64_t dedup_ns = 1000000;
	enum tv_pcap_format format = TV_FORMAT_PCAPNG;
	bool stats = false;
	const char *pod = NULL;
	const char *namespaces[TV_SELECT_MAX], *workloads[TV_SELECT_MAX];
	const char *processes[TV_SELECT_MAX], *containers[TV_SELECT_MAX];
	size_t nns = 0, nwl = 0, npr = 0, nct = 0;
	bool annotate = false;
	const char *k8s_file = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "s:n:f:p:o:h", opts, NULL)) != -1) {
		if (tv_cli_scope_option(&sc, c, optarg))
			continue;
		switch (c) {
		case 'f': filter = optarg; break;
		case 'o': output = optarg; break;
		case 'm':
			if (tv_pcap_format_parse(optarg, &format))
				return tv_cli_usage_error("pcap", "%s", tv_errmsg());
			break;
		case 'd':
			if (tv_parse_duration(optarg, &dedup_ns))
				return tv_cli_usage_error("pcap", "bad --dedup-window '%s'", optarg);
			break;
		case 'D': dedup_ns = 0; break;
		case 'S': stats = true; break;
		case 'P': pod = optarg; break;
		case 'N':
			if (add_value(namespaces, &nns, optarg, "namespace"))
				return TV_EXIT_USAGE;
			break;
		case 'W':
			if (add_value(workloads, &nwl, optarg, "workload"))
				return TV_EXIT_USAGE;
			break;
		case 'R':
			if (add_value(processes, &npr, optarg, "process"))
				return TV_EXIT_USAGE;
			break;
		case 'C':
			if (add_value(containers, &nct, optarg, "container"))
				return TV_EXIT_USAGE;
			break;
		case 'A': annotate = true; break;
		case 'K': k8s_file = optarg; break;
		case 'h': fputs(usage, stdout); return TV_EXIT_OK;
		default: return tv_cli_usage_error("pcap", "unknown option");
		}
	}
	if (!sc.url || !sc.from_text || !sc.to_text || !output)
		return tv_cli_usage_error("pcap", "--store, --from, --to and -o are required");
	if (tv_cli_scope_finish(&sc, "pcap", TV_SCOPE_STORE | TV_SCOPE_WINDOW))
		return TV_EXIT_USAGE;
	struct tv_select sel;
	if (annotate && format != TV_FORMAT_PCAPNG)
		return tv_cli_usage_error("pcap",
					  "--annotate needs --format pcapng (classic pcap has no comments)");
	if (tv_select_init(&sel, pod, namespaces, nns, workloads, nwl))
		return tv_cli_usage_error("pcap", "%s", tv_errmsg());
	tv_select_set_processes(&sel, processes, npr, containers, nct);
	struct tv_cli_k8s k8s = {0};
	if (k8s_file && tv_cli_load_k8s(k8s_file, &k8s)) {
		tv_select_cleanup(&sel);
		return tv_cli_fail("pcap", "cannot use --k8s");
	}
	int rc = export_window(cli, &sc, &sel,
			       &(struct tv_export_opts){.output = output, .format = format, .filter = filter},
			       &(struct pcap_extra){dedup_ns, stats, annotate, &k8s});
	tv_cli_free_k8s(&k8s);
	tv_select_cleanup(&sel);
	return rc;
}

/* The window in sc, as eo says, of the selected pods only when sel is
 * active, each packet annotated when asked. */
static int export_window(const struct tv_cli *cli, const struct tv_cli_scope *sc, struct tv_select *sel,
			 struct tv_export_opts *eo, const struct pcap_extra *x)
{
	uint64_t dedup_ns = x->dedup_ns;
	bool stats = x->stats, annotate = x->annotate;
	int rc;
	struct tv_store *s;
	if (tv_cli_open_store(cli, sc->url, 0, &s, "pcap"))
		return TV_EXIT_FAIL;
	struct tv_cli_report cr;
	tv_cli_report_init(&cr, "pcap", "segment streams");
	struct tv_window_opts wo = {.prefix = sc->prefix,
				    .nodes = tv_cli_scope_nodes(sc),
				    .nnodes = sc->nnodes,
				    .from = sc->from,
				    .to = sc->to,
				    .dedup_window_ns = dedup_ns,
				    .report = &cr.r};
	struct tv_window *w = NULL;
	struct tv_window_stats st = {0};
	rc = tv_window_open(&w, s, &wo);
	if (!rc && tv_window_segments(w) == 0)
		rc = tv_err(-ENOENT, "no data in the window in %s", sc->url);
	struct tv_names *names = NULL;
	uint64_t written = 0, names_damaged = 0;
	if (!rc && (tv_select_active(sel) || annotate)) { /* who held each address when, from the events */
		if (!(rc = tv_names_new(&names)))
			names_damaged = tv_window_load_names(w, names);
		for (size_t i = 0; !rc && i < x->k8s->n; i++) /* --k8s has the last word */
			rc = tv_names_add_object(names, &x->k8s->objects[i]);
		sel->names = names;
		eo->annotate = annotate ? names : NULL;
	}
	eo->report = &cr.r;
	eo->select = tv_select_active(sel) ? sel : NULL;
	if (!rc)
		rc = tv_export_window(w, eo, &st, &written);
	tv_names_free(names);
	st.damaged += names_damaged;
	tv_cli_report_end(&cr);
	tv_window_free(w);
	tv_store_free(s);
	if (rc)
		return tv_cli_fail("pcap", "failed");
	if (stats || tv_cli_interactive() || st.damaged || st.duplicates || (eo->select && !written))
		fprintf(stderr,
			"tapvault pcap: %" PRIu64 " packets written%s, %" PRIu64
			" duplicates removed, %" PRIu64 " bytes fetched, %" PRIu64
			" damaged objects or frames skipped\n",
			written, eo->select ? " (of the selected pods and processes)" : "", st.duplicates,
			st.bytes_fetched, st.damaged);
	return st.damaged ? TV_EXIT_PARTIAL : TV_EXIT_OK;
}
