/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_dissect: `tapvault dissect`, packets (a capture file, or a window of a
 * store merged as `tapvault pcap` merges it) to API entries (dissect.h). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/units.h"
#include "archive/k8s_api.h"
#include "archive/names.h"
#include "archive/pcapng.h"
#include "dissector/cli/cli.h"
#include "dissector/dissect/dissect.h"
#include "dissector/query/window.h"

static const char usage[] =
	"Usage: tapvault dissect --pcap FILE [--node NAME] -o FILE|-\n"
	"       tapvault dissect --store URL --from T --to T [--node NAME]... [--prefix P] -o FILE|-\n"
	"\n"
	"Reassembles TCP, detects protocols by content (HTTP/1.x, HTTP/2 cleartext\n"
	"and gRPC, DNS over UDP and TCP, Redis RESP2/3) and writes one JSON object\n"
	"per request/response pair\n"
	"(JSON Lines; fields in docs/API.md). Input: a pcap or pcapng file of any\n"
	"link type libpcap reads, or the packets of a store's window, merged and\n"
	"deduplicated as `tapvault pcap` does. Pods and services are named from the\n"
	"Kubernetes objects in the window's events files, and from --k8s.\n"
	"\n"
	"  --format jsonl|har      JSON Lines of every protocol (default), or one HAR 1.2\n"
	"                          document of the HTTP exchanges\n"
	"  --body-cap SIZE         body bytes kept per message after decoding (default 1Mi)\n"
	"  --stream-cap SIZE       out-of-order bytes held per TCP direction (default 4Mi)\n"
	"  --total-cap SIZE        out-of-order bytes held in all (default 256Mi)\n"
	"  --k8s FILE              Kubernetes objects (`kubectl get pods,services -A -o json`)\n"
	"                          naming addresses, on top of what the store's events say\n"
	"  --stats                 counts on stderr at the end\n"
	"\n"
	"Exit: 0 ok, 1 failure, 2 usage, 3 damaged input (a torn capture, damaged store\n"
	"objects) skipped: the rest was dissected.\n";

struct dissect_args {
	struct tv_cli_scope sc;
	const char *pcap, *output, *k8s;
	bool stats, help;
	struct tv_dissect_opts o;
};

static int parse_size_opt(const char *flag, const char *v, size_t *out)
{
	uint64_t n;
	if (tv_parse_size(v, &n) || n == 0 || n > SIZE_MAX)
		return tv_cli_usage_error("dissect", "bad %s '%s' (a size like 4Mi)", flag, v);
	*out = (size_t)n;
	return 0;
}

static int parse_args(int argc, char **argv, struct dissect_args *a)
{
	static const struct option opts[] = {TV_CLI_SCOPE_OPTIONS,
					     {"pcap", required_argument, NULL, 'r'},
					     {"output", required_argument, NULL, 'o'},
					     {"format", required_argument, NULL, 'm'},
					     {"body-cap", required_argument, NULL, 1},
					     {"stream-cap", required_argument, NULL, 2},
					     {"total-cap", required_argument, NULL, 3},
					     {"stats", no_argument, NULL, 'S'},
					     {"k8s", required_argument, NULL, 'K'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int c, rc = 0;
	while (!rc && (c = getopt_long(argc, argv, "r:s:n:p:o:h", opts, NULL)) != -1) {
		if (tv_cli_scope_option(&a->sc, c, optarg))
			continue;
		switch (c) {
		case 'r': a->pcap = optarg; break;
		case 'K': a->k8s = optarg; break;
		case 'o': a->output = optarg; break;
		case 'm':
			if (strcmp(optarg, "jsonl") != 0 && strcmp(optarg, "har") != 0)
				return tv_cli_usage_error("dissect", "--format %s: jsonl or har", optarg);
			a->o.har = strcmp(optarg, "har") == 0;
			break;
		case 1: rc = parse_size_opt("--body-cap", optarg, &a->o.body_cap); break;
		case 2: rc = parse_size_opt("--stream-cap", optarg, &a->o.stream_cap); break;
		case 3: rc = parse_size_opt("--total-cap", optarg, &a->o.total_cap); break;
		case 'S': a->stats = true; break;
		case 'h': a->help = true; return 0;
		default: return tv_cli_usage_error("dissect", "unknown option");
		}
	}
	if (rc)
		return rc;
	if (optind < argc)
		return tv_cli_usage_error("dissect", "unexpected argument '%s'", argv[optind]);
	if (!a->output)
		return tv_cli_usage_error("dissect", "-o FILE|- is required");
	if (!a->pcap == !a->sc.url)
		return tv_cli_usage_error("dissect", "give exactly one of --pcap FILE and --store URL");
	if (a->sc.url && (!a->sc.from_text || !a->sc.to_text))
		return tv_cli_usage_error("dissect", "--store needs --from and --to");
	return tv_cli_scope_finish(&a->sc, "dissect", 0);
}

/* A capture damaged part way (a torn file) is partial input: what came before
 * the damage is dissected, the damage reported, and the exit status is 3. */
static int from_pcap(struct tv_dissect *d, const struct dissect_args *a, uint64_t *damaged)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(a->pcap, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p)
		return tv_err(-EIO, "%s: %s", a->pcap, err);
	uint16_t linktype = tv_linktype_from_dlt(pcap_datalink(p));
	const char *node = a->sc.nnodes ? a->sc.nodes[0] : "";
	struct pcap_pkthdr *h;
	const u_char *data;
	int r;
	while ((r = pcap_next_ex(p, &h, &data)) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec;
		tv_dissect_packet(d, node, linktype, ts, data, h->caplen);
	}
	if (r == PCAP_ERROR) {
		fprintf(stderr, "tapvault dissect: %s: %s (the packets before it were dissected)\n", a->pcap,
			pcap_geterr(p));
		(*damaged)++;
	}
	pcap_close(p);
	return 0;
}

static int add_k8s_names(struct tv_names *names, const struct tv_cli_k8s *k8s)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < k8s->n; i++)
		rc = tv_names_add_object(names, &k8s->objects[i]);
	return rc;
}

/* The window's packets, merged and deduplicated as `tapvault pcap` does;
 * names from the window's events files, then --k8s (which has the last word). */
static int from_store(const struct tv_cli *cli, struct tv_dissect *d, const struct dissect_args *a,
		      struct tv_names *names, const struct tv_cli_k8s *k8s, uint64_t *damaged)
{
	struct tv_cli_report cr;
	tv_cli_report_init(&cr, "dissect", "segment streams");
	cr.prog.on = false; /* the entries may go to this terminal */
	struct tv_window_opts wo = {.prefix = a->sc.prefix,
				    .nodes = tv_cli_scope_nodes(&a->sc),
				    .nnodes = a->sc.nnodes,
				    .from = a->sc.from,
				    .to = a->sc.to,
				    .dedup_window_ns = 1000000,
				    .report = &cr.r};
	struct tv_store *s;
	int rc = tv_store_open(a->sc.url, 0, &cli->store, &s);
	if (rc)
		return rc;
	struct tv_window *w = NULL;
	rc = tv_window_open(&w, s, &wo);
	if (!rc && tv_window_segments(w) == 0)
		rc = tv_err(-ENOENT, "no data in the window in %s", a->sc.url);
	if (!rc)
		tv_window_load_names(w, names);
	if (!rc)
		rc = add_k8s_names(names, k8s);
	uint32_t nif = 0;
	const struct tv_window_iface *ifs = rc ? NULL : tv_window_ifaces(w, &nif);
	struct tv_packet p;
	int r;
	while (!rc && (r = tv_window_next(w, &p)) != 0) {
		if (r < 0)
			continue; /* a damaged frame: reported, counted below */
		const struct tv_window_iface *wi = &ifs[p.ifindex];
		tv_dissect_packet(d, wi->node, wi->iface.linktype, p.ts_ns, p.data, p.caplen);
	}
	*damaged += cr.skipped;
	tv_window_free(w);
	tv_store_free(s);
	return rc;
}

int tv_cmd_dissect(const struct tv_cli *cli, int argc, char **argv)
{
	struct dissect_args a = {0};
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	if (a.help) {
		fputs(usage, stdout);
		return TV_EXIT_OK;
	}
	bool to_stdout = strcmp(a.output, "-") == 0;
	FILE *out = to_stdout ? stdout : fopen(a.output, "w");
	if (!out)
		return tv_cli_fail("dissect", strerror(errno));
	a.o.out = out;
	a.o.writer_thread = sysconf(_SC_NPROCESSORS_ONLN) > 1;
	struct tv_cli_k8s k8s = {0};
	struct tv_names *names = NULL;
	if (a.k8s && tv_cli_load_k8s(a.k8s, &k8s)) {
		if (!to_stdout)
			fclose(out);
		return tv_cli_fail("dissect", "cannot use --k8s");
	}
	if (tv_names_new(&names)) {
		tv_cli_free_k8s(&k8s);
		if (!to_stdout)
			fclose(out);
		return tv_cli_fail("dissect", "out of memory");
	}
	a.o.names = names;
	struct tv_dissect *d;
	if (tv_dissect_open(&d, &a.o)) {
		tv_names_free(names);
		tv_cli_free_k8s(&k8s);
		if (!to_stdout)
			fclose(out);
		return tv_cli_fail("dissect", "out of memory");
	}
	uint64_t damaged = 0;
	rc = a.pcap ? add_k8s_names(names, &k8s) : 0;
	if (!rc)
		rc = a.pcap ? from_pcap(d, &a, &damaged) : from_store(cli, d, &a, names, &k8s, &damaged);
	tv_dissect_finish(d);
	struct tv_dissect_stats st;
	tv_dissect_stats(d, &st);
	tv_dissect_free(d);
	size_t named = tv_names_count(names);
	tv_names_free(names);
	tv_cli_free_k8s(&k8s);
	int wrc = fflush(out) != 0 || ferror(out) || st.write_failed;
	if (!to_stdout && fclose(out) != 0)
		wrc = 1;
	if (a.stats || tv_cli_interactive())
		fprintf(stderr,
			"tapvault dissect: %" PRIu64 " packets (%" PRIu64 " TCP, %" PRIu64 " UDP), %" PRIu64
			" connections, %" PRIu64 " entries, %" PRIu64 " gaps (%" PRIu64 " bytes), %" PRIu64
			" conflicting overlaps, %" PRIu64 " streams over the cap, %zu named addresses%s\n",
			st.packets, st.tcp, st.udp, st.connections, st.entries, st.gaps, st.gap_bytes,
			st.conflicts, st.truncated_streams, named,
			st.not_in_har ? " (non-HTTP entries left out of the HAR)" : "");
	if (rc)
		return tv_cli_fail("dissect", "failed");
	if (wrc)
		return tv_cli_fail("dissect", "cannot write the output");
	return damaged ? TV_EXIT_PARTIAL : TV_EXIT_OK;
}
