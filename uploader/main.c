/* SPDX-License-Identifier: Apache-2.0 */
/* tapvault-uploader: flags -> tv_uploader_run(). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "archive/common/timeutil.h"
#include "archive/common/units.h"
#include "archive/store_s3.h"
#include "uploader/uploader.h"

static const char usage[] =
	"Usage: tapvault-uploader --buffer DIR --store URL [options]\n"
	"\n"
	"Ships every sealed segment of a buffer directory (the agent's, or one\n"
	"`tapvault import` wrote) to a store under the same keys: data, events, then\n"
	"the index; marks it uploaded only after the store acknowledged all three.\n"
	"Watches the buffer (inotify plus a periodic rescan) until TERM/INT.\n"
	"\n"
	"  -b, --buffer DIR            buffer directory\n"
	"  -s, --store URL             s3://BUCKET[/PREFIX] or file:///dir\n"
	"  -j, --parallel N            segments in flight (default 4)\n"
	"      --once                  upload what is sealed now, then exit\n"
	"      --give-up-after DUR     with --once: stop retrying after DUR (default: never)\n"
	"      --rescan DUR            full rescan period (default 5s)\n"
	"      --retry-refused DUR     wait after a refusal retrying cannot fix (default 30s)\n"
	"      --metrics-addr A        Prometheus metrics on HOST:PORT\n"
	"      --log-level L           error, warn, info, debug\n"
	"  -h, --help                  this text\n"
	"\n"
	"S3 (endpoint and credentials otherwise as the AWS CLI finds them:\n"
	"AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,\n"
	"AWS_SESSION_TOKEN, AWS_REGION, AWS_PROFILE, ~/.aws/config and credentials):\n"
	"      --endpoint URL          http(s)://host[:port]\n"
	"      --region R              signing region (default us-east-1)\n"
	"      --ca-bundle FILE        CA certificates to verify TLS with\n"
	"      --insecure              do not verify TLS certificates\n"
	"      --addressing M          path or virtual (default: path on a custom endpoint)\n"
	"      --create-mode M         if-none-match (default) or head-then-put\n"
	"      --multipart-threshold SZ  objects above go multipart (default 64Mi)\n"
	"      --part-size SZ          multipart part size (default 16Mi, >= 5Mi)\n"
	"      --part-parallel N       parts in flight per object (default 4)\n"
	"      --content-md5           also send Content-MD5 (the signed SHA-256 is always checked)\n"
	"      --max-rate SZ           bytes per second per connection (e.g. 50Mi; default unlimited)\n"
	"\n"
	"Exit: 0 done (or stopped), 1 --once left segments not uploaded, 2 usage or setup.\n";

enum {
	O_ONCE = 256,
	O_GIVE_UP,
	O_RESCAN,
	O_RETRY_REFUSED,
	O_METRICS,
	O_LOG,
	O_ENDPOINT,
	O_REGION,
	O_CA,
	O_INSECURE,
	O_ADDR,
	O_CREATE,
	O_MP_THRESHOLD,
	O_PART_SIZE,
	O_PART_PAR,
	O_MD5,
	O_MAX_RATE,
};

static const struct option opts[] = {{"buffer", required_argument, NULL, 'b'},
				     {"store", required_argument, NULL, 's'},
				     {"parallel", required_argument, NULL, 'j'},
				     {"once", no_argument, NULL, O_ONCE},
				     {"give-up-after", required_argument, NULL, O_GIVE_UP},
				     {"rescan", required_argument, NULL, O_RESCAN},
				     {"retry-refused", required_argument, NULL, O_RETRY_REFUSED},
				     {"metrics-addr", required_argument, NULL, O_METRICS},
				     {"log-level", required_argument, NULL, O_LOG},
				     {"endpoint", required_argument, NULL, O_ENDPOINT},
				     {"region", required_argument, NULL, O_REGION},
				     {"ca-bundle", required_argument, NULL, O_CA},
				     {"insecure", no_argument, NULL, O_INSECURE},
				     {"addressing", required_argument, NULL, O_ADDR},
				     {"create-mode", required_argument, NULL, O_CREATE},
				     {"multipart-threshold", required_argument, NULL, O_MP_THRESHOLD},
				     {"part-size", required_argument, NULL, O_PART_SIZE},
				     {"part-parallel", required_argument, NULL, O_PART_PAR},
				     {"content-md5", no_argument, NULL, O_MD5},
				     {"max-rate", required_argument, NULL, O_MAX_RATE},
				     {"help", no_argument, NULL, 'h'},
				     {NULL, 0, NULL, 0}};

static atomic_bool stop;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop, true);
}

static int parse_count(const char *flag, const char *v, unsigned max, unsigned *out)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);
	if (!*v || *end || n == 0 || n > max)
		return tv_err(-EINVAL, "%s '%s': expected 1..%u", flag, v, max);
	*out = (unsigned)n;
	return 0;
}

static int parse_dur(const char *flag, const char *v, uint64_t *out)
{
	return tv_parse_duration(v, out)
		       ? tv_err(-EINVAL, "%s '%s': expected a duration like 30s or 5m", flag, v)
		       : 0;
}

static int parse_sz(const char *flag, const char *v, uint64_t *out)
{
	return tv_parse_size(v, out) ? tv_err(-EINVAL, "%s '%s': expected a size like 16Mi", flag, v) : 0;
}

static int parse_s3_flag(int c, const char *v, struct tv_s3_opts *s3)
{
	switch (c) {
	case O_ENDPOINT: s3->endpoint = v; return 0;
	case O_REGION: s3->region = v; return 0;
	case O_CA: s3->ca_bundle = v; return 0;
	case O_INSECURE: s3->insecure = true; return 0;
	case O_ADDR:
		if (strcmp(v, "path") && strcmp(v, "virtual"))
			return tv_err(-EINVAL, "--addressing '%s': path or virtual", v);
		s3->addressing = v[0] == 'p' ? TV_S3_ADDR_PATH : TV_S3_ADDR_VIRTUAL;
		return 0;
	case O_CREATE:
		if (strcmp(v, "if-none-match") && strcmp(v, "head-then-put"))
			return tv_err(-EINVAL, "--create-mode '%s': if-none-match or head-then-put", v);
		s3->create_mode = v[0] == 'i' ? TV_S3_CREATE_IF_NONE_MATCH : TV_S3_CREATE_HEAD_THEN_PUT;
		return 0;
	case O_MP_THRESHOLD: return parse_sz("--multipart-threshold", v, &s3->multipart_threshold);
	case O_PART_SIZE: return parse_sz("--part-size", v, &s3->part_size);
	case O_PART_PAR: return parse_count("--part-parallel", v, 64, &s3->parallel);
	case O_MD5: s3->content_md5 = true; return 0;
	case O_MAX_RATE: return parse_sz("--max-rate", v, &s3->max_send_rate);
	default: return tv_err(-EINVAL, "unknown option (see --help)");
	}
}

static int parse(int argc, char **argv, struct tv_uploader_opts *o, struct tv_s3_opts *s3)
{
	int c, rc = 0;
	while (!rc && (c = getopt_long(argc, argv, "b:s:j:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': o->buffer_dir = optarg; break;
		case 's': o->store_url = optarg; break;
		case 'j': rc = parse_count("--parallel", optarg, 64, &o->parallel); break;
		case O_ONCE: o->once = true; break;
		case O_GIVE_UP: rc = parse_dur("--give-up-after", optarg, &o->give_up_ns); break;
		case O_RESCAN: rc = parse_dur("--rescan", optarg, &o->rescan_ns); break;
		case O_RETRY_REFUSED: rc = parse_dur("--retry-refused", optarg, &o->config_retry_ns); break;
		case O_METRICS: o->metrics_addr = optarg; break;
		case O_LOG:
			if (tv_log_set_level(optarg))
				rc = tv_err(-EINVAL, "--log-level '%s': error, warn, info or debug", optarg);
			break;
		case 'h': fputs(usage, stdout); exit(0);
		case '?': rc = tv_err(-EINVAL, "unknown option (see --help)"); break;
		default: rc = parse_s3_flag(c, optarg, s3);
		}
	}
	if (!rc && optind < argc)
		rc = tv_err(-EINVAL, "unexpected argument '%s' (see --help)", argv[optind]);
	if (!rc && (!o->buffer_dir || !o->store_url))
		rc = tv_err(-EINVAL, "--buffer and --store are required (see --help)");
	return rc;
}

int main(int argc, char **argv)
{
	struct tv_uploader_opts o = {0};
	struct tv_s3_opts s3 = {0};
	if (parse(argc, argv, &o, &s3)) {
		fprintf(stderr, "tapvault-uploader: %s\n", tv_errmsg());
		return 2;
	}
	tv_s3_set_defaults(&s3);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct tv_uploader_result r = {0};
	int rc = tv_uploader_run(&o, &stop, &r);
	if (rc && rc != -EAGAIN) {
		fprintf(stderr, "tapvault-uploader: %s\n", tv_errmsg());
		return 2;
	}
	tv_info("uploaded %" PRIu64 " segment(s), %" PRIu64 " bytes; %" PRIu64
		" left the buffer first; %" PRIu64 " retried; %" PRIu64 " not uploaded",
		r.uploaded, r.uploaded_bytes, r.gone, r.retries, r.failed);
	return rc ? 1 : 0;
}
