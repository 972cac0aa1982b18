/* SPDX-License-Identifier: Apache-2.0 */
/* tapvault-uploader: flags and config file -> tv_uploader_run(). Every flag
 * but --config, --set, --once and --print-config is a configuration key
 * (uploader/config.h); flags override the file. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "uploader/config.h"
#include "uploader/uploader.h"

static const char usage[] =
	"Usage: tapvault-uploader --buffer DIR --store URL [options]\n"
	"\n"
	"Ships every sealed segment of a buffer directory (the agent's, or one\n"
	"`tapvault import` wrote) to a store under the same keys: data, events, then\n"
	"the index; marks it uploaded only after the store acknowledged all three.\n"
	"Watches the buffer (inotify plus a periodic rescan) until TERM/INT.\n"
	"\n"
	"  -b, --buffer DIR            uploader.bufferDir: the buffer directory\n"
	"  -s, --store URL             store.url: s3://BUCKET[/PREFIX] or file:///dir\n"
	"  -j, --parallel N            uploader.parallel: segments in flight (default 4)\n"
	"      --once                  upload what is sealed now, then exit\n"
	"      --give-up-after DUR     uploader.giveUpAfter: with --once, stop retrying after DUR\n"
	"      --rescan DUR            uploader.rescan: full rescan period (default 5s)\n"
	"      --retry-refused DUR     uploader.retryRefused: wait after a refusal retrying\n"
	"                              cannot fix (default 30s)\n"
	"      --metrics-addr A        uploader.metricsAddr: Prometheus metrics on HOST:PORT\n"
	"      --log-level L           uploader.logLevel: error, warn, info, debug\n"
	"      --signing-key FILE      uploader.signingKey: the node key (the agent's; default\n"
	"                              BUFFER/.keys/node.key) that signs the checkpoints\n"
	"      --checkpoint-interval D uploader.checkpointInterval: a signed checkpoint per node\n"
	"                              at least this often and at a clean stop (default 60s; 0 off)\n"
	"      --object-lock M         uploader.objectLock: Object Lock retention on checkpoints\n"
	"                              and keys: auto (when the bucket has it), off, require\n"
	"      --lock-mode M           uploader.lockMode: compliance (default) or governance\n"
	"      --lock-retention D      uploader.lockRetention: how long each stays undeletable\n"
	"                              (default 30d; at least the archive's retention)\n"
	"  -c, --config FILE           YAML configuration (the agent's file; keys: --print-config)\n"
	"      --set KEY=VALUE         any key, e.g. --set store.region=eu-west-1\n"
	"      --print-config          print the effective configuration and exit\n"
	"  -h, --help                  this text\n"
	"\n"
	"S3 (endpoint and credentials otherwise as the AWS CLI finds them:\n"
	"AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,\n"
	"AWS_SESSION_TOKEN, AWS_REGION, AWS_PROFILE, ~/.aws/config and credentials):\n"
	"      --endpoint URL          store.endpoint: http(s)://host[:port]\n"
	"      --region R              store.region: signing region (default us-east-1)\n"
	"      --profile P             store.profile: AWS profile\n"
	"      --ca-bundle FILE        store.caBundle: CA certificates to verify TLS with\n"
	"      --insecure              store.insecure: do not verify TLS certificates\n"
	"      --addressing M          store.addressing: path or virtual (default: path on a\n"
	"                              custom endpoint)\n"
	"      --create-mode M         store.createMode: if-none-match (default) or head-then-put\n"
	"      --multipart-threshold SZ  store.multipartThreshold: objects above go multipart (64Mi)\n"
	"      --part-size SZ          store.partSize: multipart part size (default 16Mi, >= 5Mi)\n"
	"      --part-parallel N       store.partParallel: parts in flight per object (default 4)\n"
	"      --content-md5           store.contentMd5: also send Content-MD5 (the signed\n"
	"                              SHA-256 is always checked)\n"
	"      --max-rate SZ           store.maxRate: bytes per second per connection (e.g. 50Mi)\n"
	"\n"
	"Exit: 0 done (or stopped), 1 --once left segments not uploaded, 2 usage or setup.\n";

enum {
	O_ONCE = 256,
	O_SET,
	O_PRINT,
	O_KEY, /* a flag named after its configuration key */
};

static const struct option opts[] = {{"buffer", required_argument, NULL, 'b'},
				     {"store", required_argument, NULL, 's'},
				     {"parallel", required_argument, NULL, 'j'},
				     {"config", required_argument, NULL, 'c'},
				     {"once", no_argument, NULL, O_ONCE},
				     {"set", required_argument, NULL, O_SET},
				     {"print-config", no_argument, NULL, O_PRINT},
				     {"give-up-after", required_argument, NULL, O_KEY},
				     {"rescan", required_argument, NULL, O_KEY},
				     {"retry-refused", required_argument, NULL, O_KEY},
				     {"metrics-addr", required_argument, NULL, O_KEY},
				     {"log-level", required_argument, NULL, O_KEY},
				     {"signing-key", required_argument, NULL, O_KEY},
				     {"checkpoint-interval", required_argument, NULL, O_KEY},
				     {"object-lock", required_argument, NULL, O_KEY},
				     {"lock-mode", required_argument, NULL, O_KEY},
				     {"lock-retention", required_argument, NULL, O_KEY},
				     {"endpoint", required_argument, NULL, O_KEY},
				     {"region", required_argument, NULL, O_KEY},
				     {"profile", required_argument, NULL, O_KEY},
				     {"ca-bundle", required_argument, NULL, O_KEY},
				     {"insecure", no_argument, NULL, O_KEY},
				     {"addressing", required_argument, NULL, O_KEY},
				     {"create-mode", required_argument, NULL, O_KEY},
				     {"multipart-threshold", required_argument, NULL, O_KEY},
				     {"part-size", required_argument, NULL, O_KEY},
				     {"part-parallel", required_argument, NULL, O_KEY},
				     {"content-md5", no_argument, NULL, O_KEY},
				     {"max-rate", required_argument, NULL, O_KEY},
				     {"help", no_argument, NULL, 'h'},
				     {NULL, 0, NULL, 0}};

static atomic_bool stop;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop, true);
}

struct cli {
	bool once, print;
};

static int set_flag(struct tv_uploader_config *c, const char *key, const char *flag, const char *v)
{
	char where[80];
	snprintf(where, sizeof(where), "--%s", flag);
	return tv_uploader_config_set(c, key, v ? v : "true", where);
}

static int set_pair(struct tv_uploader_config *c, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return tv_err(-EINVAL, "--set '%s': expected KEY=VALUE", kv);
	char key[256];
	snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
	return tv_uploader_config_set(c, key, eq + 1, "--set");
}

/* The file first (wherever --config stands), then every flag in order. */
static int parse(int argc, char **argv, struct tv_uploader_config *c, struct cli *cl)
{
	int ch, idx, rc = 0;
	for (int i = 1; i < argc && !rc; i++) {
		const char *path = !strcmp(argv[i], "-c") || !strcmp(argv[i], "--config") ? argv[i + 1]
				   : !strncmp(argv[i], "--config=", 9)                    ? argv[i] + 9
											  : NULL;
		if (path)
			rc = tv_uploader_config_load_file(c, path);
	}
	while (!rc && (ch = getopt_long(argc, argv, "b:s:j:c:h", opts, &idx)) != -1) {
		switch (ch) {
		case 'b': rc = set_flag(c, "uploader.bufferDir", "buffer", optarg); break;
		case 's': rc = set_flag(c, "store.url", "store", optarg); break;
		case 'j': rc = set_flag(c, "uploader.parallel", "parallel", optarg); break;
		case 'c': break; /* read above */
		case O_ONCE: cl->once = true; break;
		case O_SET: rc = set_pair(c, optarg); break;
		case O_PRINT: cl->print = true; break;
		case O_KEY:
			rc = set_flag(c, tv_uploader_config_key_of_flag(opts[idx].name), opts[idx].name,
				      optarg);
			break;
		case 'h': fputs(usage, stdout); exit(0);
		default: rc = tv_err(-EINVAL, "unknown option (see --help)");
		}
	}
	if (!rc && optind < argc)
		rc = tv_err(-EINVAL, "unexpected argument '%s' (see --help)", argv[optind]);
	if (!rc && tv_log_set_level(c->log_level))
		rc = tv_err(-EINVAL, "uploader.logLevel '%s': error, warn, info or debug", c->log_level);
	if (!rc && !cl->print)
		rc = tv_uploader_config_validate(c);
	return rc;
}

int main(int argc, char **argv)
{
	struct tv_uploader_config c;
	struct cli cl = {0};
	if (tv_uploader_config_init(&c) || parse(argc, argv, &c, &cl)) {
		fprintf(stderr, "tapvault-uploader: %s\n", tv_errmsg());
		tv_uploader_config_cleanup(&c);
		return 2;
	}
	if (cl.print) {
		tv_uploader_config_print(&c, stdout);
		tv_uploader_config_cleanup(&c);
		return 0;
	}
	struct tv_store_opts so;
	struct tv_uploader_opts o = {.once = cl.once};
	tv_uploader_config_opts(&c, &so, &o);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct tv_uploader_result r = {0};
	int rc = tv_uploader_run(&o, &stop, &r);
	if (rc && rc != -EAGAIN) {
		fprintf(stderr, "tapvault-uploader: %s\n", tv_errmsg());
		tv_uploader_config_cleanup(&c);
		return 2;
	}
	tv_info("uploaded %" PRIu64 " segment(s), %" PRIu64 " bytes; %" PRIu64
		" left the buffer first; %" PRIu64 " retried; %" PRIu64 " not uploaded",
		r.uploaded, r.uploaded_bytes, r.gone, r.retries, r.failed);
	tv_uploader_config_cleanup(&c);
	return rc ? 1 : 0;
}
