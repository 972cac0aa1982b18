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
#include "dissector/cli/cmd_dissect.h"
#include "dissector/dissect/dissect.h"
#include "dissector/query/dissection.h"
#include "dissector/query/shard.h"
#include "dissector/query/window.h"

static const char usage[] =
	"Usage: tapvault dissect --pcap FILE [--node NAME] -o FILE|-\n"
	"       tapvault dissect --store URL --from T --to T [--node NAME]... [--prefix P] -o FILE|-\n"
	"       tapvault dissect --store URL --from T --to T --shard I/N (-o FILE|- | --out-store URL --name "
	"NAME)\n"
	"       tapvault dissect --merge NAME --out-store URL [-o FILE|-]\n"
	"       tapvault dissect --job --shards N --image IMAGE --store URL --from T --to T --out-store URL "
	"--name NAME\n"
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
	"Past one machine (docs/CLI.md \"Sharded dissection\"):\n"
	"  --shard I/N             dissect slice I (from 0) of N: the window cut by bytes,\n"
	"                          each connection dissected by the one shard its first\n"
	"                          packet falls in; entries sorted by (startTime, id)\n"
	"  --out-store URL         store the part as PREFIX/v1/dissections/NAME/part-I.jsonl.zst\n"
	"                          plus a done marker; a shard already done is not rerun\n"
	"  --name NAME             the dissection's name (A-Z a-z 0-9 . _ -)\n"
	"  --merge NAME            stream every part of NAME as one output by (startTime, id)\n"
	"  --job                   print the Kubernetes Indexed Job that runs the N shards:\n"
	"    --shards N              shard count;  --parallelism P (default min(N, 8))\n"
	"    --image IMAGE           the tapvault image;  --pull-policy POLICY\n"
	"    --namespace NS          --service-account SA (IRSA: one with a role)\n"
	"    --secret NAME           a Secret with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY\n"
	"    --ca-configmap NAME     a ConfigMap with ca.crt for TLS to the store\n"
	"    --backoff-limit-per-index K (default 2);  --cpu C, --memory M per pod\n"
	"    --values FILE           image, store and credentials from the chart's values\n"
	"                            (repeatable, later files win: the chart's values.yaml, then yours)\n"
	"\n"
	"Exit: 0 ok, 1 failure, 2 usage, 3 damaged input (a torn capture, damaged store\n"
	"objects) skipped: the rest was dissected.\n";

static int parse_size_opt(const char *flag, const char *v, size_t *out)
{
	uint64_t n;
	if (tv_parse_size(v, &n) || n == 0 || n > SIZE_MAX)
		return tv_cli_usage_error("dissect", "bad %s '%s' (a size like 4Mi)", flag, v);
	*out = (size_t)n;
	return 0;
}

static int parse_count(const char *flag, const char *v, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);
	if (*v == '-' || end == v || *end || n == 0 || n > max)
		return tv_cli_usage_error("dissect", "bad %s '%s' (1..%u)", flag, v, max);
	*out = (uint32_t)n;
	return 0;
}

/* The options of sharding, merging and --job. @return -1 when c is none. */
static int dist_option(struct dissect_args *a, int c, const char *v)
{
	switch (c) {
	case 10:
		if (tv_shard_parse(v, &a->shard_index, &a->shard_count))
			return tv_cli_usage_error("dissect", "bad --shard '%s': I/N with 0 <= I < N", v);
		a->sharded = true;
		return 0;
	case 11: a->out_store = v; return 0;
	case 12: a->name = v; return 0;
	case 13: a->merge = v; return 0;
	case 14: a->job = true; return 0;
	case 15: return parse_count("--shards", v, 100000, &a->jo.shards);
	case 16: a->jo.image = v; return 0;
	case 17: a->jo.namespace_ = v; return 0;
	case 18: a->jo.service_account = v; return 0;
	case 19: a->jo.secret = v; return 0;
	case 20: a->jo.ca_configmap = v; return 0;
	case 21: return parse_count("--parallelism", v, 100000, &a->jo.parallelism);
	case 22:
		if (strcmp(v, "0") == 0)
			return a->jo.backoff_limit_per_index = 0, a->backoff_set = true, 0;
		a->backoff_set = true;
		return parse_count("--backoff-limit-per-index", v, 1000, &a->jo.backoff_limit_per_index);
	case 23: a->jo.cpu = v; return 0;
	case 24: a->jo.memory = v; return 0;
	case 25:
		if (a->nvalues == sizeof(a->values) / sizeof(a->values[0]))
			return tv_cli_usage_error("dissect", "at most 8 --values");
		a->values[a->nvalues++] = v;
		return 0;
	case 26: a->jo.pull_policy = v; return 0;
	default: return -1;
	}
}

static int check_modes(struct dissect_args *a)
{
	if (a->merge) {
		if (a->pcap || a->sc.url || a->sharded || a->job)
			return tv_cli_usage_error("dissect", "--merge takes only --out-store URL and -o");
		if (!a->out_store)
			return tv_cli_usage_error(
				"dissect", "--merge needs --out-store URL (the store holding the parts)");
		if (!a->output)
			a->output = "-";
		return tv_cli_scope_finish(&a->sc, "dissect", 0);
	}
	if (a->job) {
		if (!a->output)
			a->output = "-";
		return tv_cli_scope_finish(&a->sc, "dissect", 0); /* the rest after --values */
	}
	if (!a->pcap == !a->sc.url)
		return tv_cli_usage_error("dissect", "give exactly one of --pcap FILE and --store URL");
	if (a->sc.url && (!a->sc.from_text || !a->sc.to_text))
		return tv_cli_usage_error("dissect", "--store needs --from and --to");
	if (a->sharded && a->pcap)
		return tv_cli_usage_error("dissect",
					  "--shard needs --store (a store's indexes say how to cut)");
	if (a->sharded && a->o.har)
		return tv_cli_usage_error("dissect",
					  "--shard writes JSON Lines; merge the parts, then convert");
	if (a->out_store && (!a->sharded || !a->name))
		return tv_cli_usage_error("dissect", "--out-store needs --shard I/N and --name NAME");
	if (a->name && tv_dissection_name_check(a->name))
		return tv_cli_usage_error("dissect", "%s", tv_errmsg());
	if (!a->output && !a->out_store)
		return tv_cli_usage_error("dissect", "-o FILE|- is required");
	return tv_cli_scope_finish(&a->sc, "dissect", 0);
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
					     {"shard", required_argument, NULL, 10},
					     {"out-store", required_argument, NULL, 11},
					     {"name", required_argument, NULL, 12},
					     {"merge", required_argument, NULL, 13},
					     {"job", no_argument, NULL, 14},
					     {"shards", required_argument, NULL, 15},
					     {"image", required_argument, NULL, 16},
					     {"namespace", required_argument, NULL, 17},
					     {"service-account", required_argument, NULL, 18},
					     {"secret", required_argument, NULL, 19},
					     {"ca-configmap", required_argument, NULL, 20},
					     {"parallelism", required_argument, NULL, 21},
					     {"backoff-limit-per-index", required_argument, NULL, 22},
					     {"cpu", required_argument, NULL, 23},
					     {"memory", required_argument, NULL, 24},
					     {"values", required_argument, NULL, 25},
					     {"pull-policy", required_argument, NULL, 26},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int c, rc = 0;
	a->jo.backoff_limit_per_index = 2;
	while (!rc && (c = getopt_long(argc, argv, "r:s:n:p:o:h", opts, NULL)) != -1) {
		if (tv_cli_scope_option(&a->sc, c, optarg))
			continue;
		int d = dist_option(a, c, optarg);
		if (d >= 0) {
			rc = d;
			continue;
		}
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
	return check_modes(a);
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
 * names from the window's events files, then --k8s (which has the last
 * word). A shard reads only [read_from, read_to) of the window and keeps
 * only its connections' packets (shard.h). */
int tv_dissect_from_store(const struct tv_cli *cli, struct tv_dissect *d, const struct dissect_args *a,
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
	struct tv_window *whole = NULL, *w = NULL;
	struct tv_shard *shard = NULL;
	rc = tv_window_open(&whole, s, &wo);
	if (!rc && tv_window_segments(whole) == 0)
		rc = tv_err(-ENOENT, "no data in the window in %s", a->sc.url);
	if (!rc)
		tv_window_load_names(whole, names);
	if (!rc)
		rc = add_k8s_names(names, k8s);
	if (!rc && a->sharded)
		rc = tv_dissect_shard_window(a, whole, s, &wo, &shard, &w);
	else if (!rc)
		w = whole, whole = NULL;
	uint32_t nif = 0;
	const struct tv_window_iface *ifs = rc ? NULL : tv_window_ifaces(w, &nif);
	struct tv_packet p;
	int r;
	while (!rc && (r = tv_window_next(w, &p)) != 0) {
		if (r < 0)
			continue; /* a damaged frame: reported, counted below */
		const struct tv_window_iface *wi = &ifs[p.ifindex];
		if (shard && !tv_shard_owns(shard, wi->iface.linktype, p.data, p.caplen))
			continue;
		tv_dissect_packet(d, wi->node, wi->iface.linktype, p.ts_ns, p.data, p.caplen);
	}
	*damaged += cr.skipped;
	tv_shard_free(shard);
	tv_window_free(w);
	tv_window_free(whole);
	tv_store_free(s);
	return rc;
}

/* Dissects into out; prints the counts when asked. @return an exit status. */
int tv_dissect_run(const struct tv_cli *cli, struct dissect_args *a, FILE *out)
{
	a->o.out = out;
	a->o.writer_thread = sysconf(_SC_NPROCESSORS_ONLN) > 1;
	struct tv_cli_k8s k8s = {0};
	struct tv_names *names = NULL;
	if (a->k8s && tv_cli_load_k8s(a->k8s, &k8s))
		return tv_cli_fail("dissect", "cannot use --k8s");
	if (tv_names_new(&names)) {
		tv_cli_free_k8s(&k8s);
		return tv_cli_fail("dissect", "out of memory");
	}
	a->o.names = names;
	struct tv_dissect *d;
	if (tv_dissect_open(&d, &a->o)) {
		tv_names_free(names);
		tv_cli_free_k8s(&k8s);
		return tv_cli_fail("dissect", "out of memory");
	}
	uint64_t damaged = 0;
	int rc = a->pcap ? add_k8s_names(names, &k8s) : 0;
	if (!rc)
		rc = a->pcap ? from_pcap(d, a, &damaged)
			     : tv_dissect_from_store(cli, d, a, names, &k8s, &damaged);
	tv_dissect_finish(d);
	struct tv_dissect_stats st;
	tv_dissect_stats(d, &st);
	tv_dissect_free(d);
	size_t named = tv_names_count(names);
	tv_names_free(names);
	tv_cli_free_k8s(&k8s);
	int wrc = fflush(out) != 0 || ferror(out) || st.write_failed;
	a->entries = st.entries;
	if (a->stats || tv_cli_interactive())
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
	if (a.merge)
		return tv_dissect_merge_main(cli, &a);
	if (a.job)
		return tv_dissect_job_main(cli, &a);
	if (a.sharded)
		return tv_dissect_shard_main(cli, &a);
	bool to_stdout = strcmp(a.output, "-") == 0;
	FILE *out = to_stdout ? stdout : fopen(a.output, "w");
	if (!out)
		return tv_cli_fail("dissect", strerror(errno));
	rc = tv_dissect_run(cli, &a, out);
	if (!to_stdout && fclose(out) != 0 && rc == TV_EXIT_OK)
		rc = tv_cli_fail("dissect", "cannot write the output");
	return rc;
}
