/* SPDX-License-Identifier: Apache-2.0 */
/* tapvault-agent: flags -> config -> tv_agent_run(). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "nodeagent/agent.h"
#include "nodeagent/config.h"

static const char usage[] =
	"Usage: tapvault-agent [options]\n"
	"\n"
	"Captures every packet on the node's interfaces into a rolling buffer of\n"
	"sealed, compressed, indexed segments (see docs/AGENT.md).\n"
	"\n"
	"  -c, --config FILE       YAML configuration (keys: --print-config)\n"
	"  -n, --node NAME         agent.node (default: $NODE_NAME, else host name)\n"
	"  -i, --interface IF      agent.interfaces, repeatable ('any' allowed)\n"
	"  -f, --filter BPF        agent.filter (tcpdump syntax)\n"
	"  -b, --buffer-dir DIR    agent.bufferDir\n"
	"  -s, --storage-size SZ   tap.capture.raw.storageSize (e.g. 1Gi)\n"
	"      --seal-interval D   agent.sealInterval (e.g. 10s)\n"
	"      --seal-bytes SZ     agent.sealBytes\n"
	"      --snaplen N         agent.snaplen\n"
	"      --zstd-level N      agent.zstdLevel\n"
	"      --ring-size SZ      agent.ringSize\n"
	"      --queue-size SZ     agent.queueSize\n"
	"      --metrics-addr A    agent.metricsAddr (HOST:PORT)\n"
	"      --kubeconfig FILE   agent.kubeconfig (default: the pod's service account)\n"
	"      --kubernetes M      agent.kubernetes: auto, off, require\n"
	"      --set KEY=VALUE     any key, e.g. --set tap.capture.stopped=true\n"
	"  -r, --read FILE         replay a pcap/pcapng through the pipeline and exit\n"
	"      --print-config      print the effective configuration and exit\n"
	"      --log-level L       error, warn, info, debug\n"
	"  -h, --help              this text\n"
	"\n"
	"Signals: TERM/INT seal the open segment and exit 0; HUP re-reads the\n"
	"config file (tap.capture.stopped pauses and resumes capture).\n";

struct cli {
	int argc;
	char **argv;
	const char *config_path;
	const char *read_file;
	int print_config;
};

static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
				     {"node", required_argument, NULL, 'n'},
				     {"interface", required_argument, NULL, 'i'},
				     {"filter", required_argument, NULL, 'f'},
				     {"buffer-dir", required_argument, NULL, 'b'},
				     {"storage-size", required_argument, NULL, 's'},
				     {"seal-interval", required_argument, NULL, 1},
				     {"seal-bytes", required_argument, NULL, 2},
				     {"snaplen", required_argument, NULL, 3},
				     {"zstd-level", required_argument, NULL, 4},
				     {"ring-size", required_argument, NULL, 5},
				     {"queue-size", required_argument, NULL, 10},
				     {"metrics-addr", required_argument, NULL, 6},
				     {"kubeconfig", required_argument, NULL, 11},
				     {"kubernetes", required_argument, NULL, 12},
				     {"set", required_argument, NULL, 7},
				     {"read", required_argument, NULL, 'r'},
				     {"print-config", no_argument, NULL, 8},
				     {"log-level", required_argument, NULL, 9},
				     {"help", no_argument, NULL, 'h'},
				     {NULL, 0, NULL, 0}};

static const char *const flag_keys[] = {[1] = "agent.sealInterval", [2] = "agent.sealBytes",
					[3] = "agent.snaplen",      [4] = "agent.zstdLevel",
					[5] = "agent.ringSize",     [6] = "agent.metricsAddr",
					[9] = "agent.logLevel",     [10] = "agent.queueSize",
					[11] = "agent.kubeconfig",  [12] = "agent.kubernetes",
					['n'] = "agent.node",       ['f'] = "agent.filter",
					['b'] = "agent.bufferDir",  ['s'] = "tap.capture.raw.storageSize"};

/* Builds the config: defaults, then the file, then flags in order. */
static int build_config(struct cli *cl, struct tv_agent_config *cfg)
{
	int rc = tv_agent_config_init(cfg);
	if (rc)
		return rc;
	optind = 1;
	int c;
	bool interfaces_given = false;
	/* first pass: the config file, so flags override it whatever their order */
	while ((c = getopt_long(cl->argc, cl->argv, "c:n:i:f:b:s:r:h", opts, NULL)) != -1)
		if (c == 'c')
			cl->config_path = optarg;
	if (cl->config_path && (rc = tv_agent_config_load_file(cfg, cl->config_path)))
		return rc;
	optind = 1;
	while (!rc && (c = getopt_long(cl->argc, cl->argv, "c:n:i:f:b:s:r:h", opts, NULL)) != -1) {
		char flag[32];
		snprintf(flag, sizeof(flag), "--%s", c == 'i' ? "interface" : "option");
		if (c == 'i') {
			rc = tv_agent_config_set(cfg, "agent.interfaces", optarg, !interfaces_given,
						 "--interface");
			interfaces_given = true;
		} else if (c == 7) {
			char *eq = strchr(optarg, '=');
			if (!eq)
				return tv_err(-EINVAL, "--set %s: expected KEY=VALUE", optarg);
			*eq = '\0';
			rc = tv_agent_config_set(cfg, optarg, eq + 1, true, "--set");
			*eq = '=';
		} else if (c == 'r') {
			cl->read_file = optarg;
		} else if (c == 8) {
			cl->print_config = 1;
		} else if (c == 'h') {
			fputs(usage, stdout);
			exit(0);
		} else if (c == '?') {
			return tv_err(-EINVAL, "unknown option (see --help)");
		} else if (c != 'c' && (size_t)c < sizeof(flag_keys) / sizeof(flag_keys[0]) && flag_keys[c]) {
			rc = tv_agent_config_set(cfg, flag_keys[c], optarg, true, flag_keys[c]);
		}
	}
	if (rc)
		return rc;
	if (!cfg->node) {
		const char *env = getenv("NODE_NAME");
		char host[256] = "";
		if (!env && gethostname(host, sizeof(host) - 1) == 0)
			env = host;
		if ((rc = tv_agent_config_set(cfg, "agent.node", env ? env : "", true, "node name")))
			return rc;
	}
	if (tv_log_set_level(cfg->log_level))
		return tv_err(-EINVAL, "agent.logLevel '%s': error, warn, info or debug", cfg->log_level);
	return tv_agent_config_validate(cfg);
}

static int reload(struct tv_agent_config *into, void *ctx)
{
	struct cli *cl = ctx;
	int rc = build_config(cl, into);
	if (rc)
		tv_agent_config_cleanup(into);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli cl = {argc, argv, NULL, NULL, 0};
	struct tv_agent_config cfg;
	if (build_config(&cl, &cfg)) {
		fprintf(stderr, "tapvault-agent: %s\n", tv_errmsg());
		tv_agent_config_cleanup(&cfg);
		return 2;
	}
	if (cl.print_config) {
		tv_agent_config_print(&cfg, stdout);
		tv_agent_config_cleanup(&cfg);
		return 0;
	}
	struct tv_agent_run_opts ro = {cl.config_path, cl.read_file, reload, &cl};
	int rc = tv_agent_run(&cfg, &ro);
	if (rc)
		fprintf(stderr, "tapvault-agent: %s\n", tv_errmsg());
	tv_agent_config_cleanup(&cfg);
	return rc ? 1 : 0;
}
