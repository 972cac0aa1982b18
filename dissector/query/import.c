/* SPDX-License-Identifier: Apache-2.0 */
/* import: see import.h. */
#include "dissector/query/import.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "archive/common/timeutil.h"
#include "archive/events.h"
#include "archive/publish.h"
#include "archive/segment.h"

struct importer {
	struct tv_store *store;
	const struct tv_import_opts *o;
	struct tv_import_stats *st;
	char tmpdir[64];
	char data_path[128], events_path[128];
	struct tv_seg_writer *w;
	struct tv_events_writer *ev;
	struct tv_iface iface;
	uint64_t seg_first_ts;
	uint64_t next_seq;
	uint8_t prev_sha[TV_SHA256_LEN];
};

static int seal(struct importer *im)
{
	if (!im->w)
		return 0;
	struct tv_index idx;
	int rc = im->ev ? tv_events_writer_close(im->ev) : tv_err(-EIO, "events file was not opened");
	tv_events_writer_free(im->ev);
	im->ev = NULL;
	if (!rc)
		rc = tv_seg_writer_finish(im->w, 0, im->events_path, &idx);
	tv_seg_writer_free(im->w);
	im->w = NULL;
	if (!rc) {
		rc = tv_segment_publish(im->store, im->o->prefix, &idx, im->data_path, im->events_path,
					im->prev_sha);
		if (!rc) {
			im->st->segments++;
			im->next_seq = idx.seq + 1;
		}
		tv_index_cleanup(&idx);
	}
	unlink(im->data_path);
	unlink(im->events_path);
	return rc;
}

static int open_segment(struct importer *im, uint64_t first_ts)
{
	struct tv_seg_writer_opts wo = {.zstd_level = im->o->zstd_level};
	snprintf(wo.meta.node, sizeof(wo.meta.node), "%s", im->o->node);
	wo.meta.seq = im->next_seq;
	wo.meta.created_ns = first_ts;
	memcpy(wo.meta.prev_sha, im->prev_sha, TV_SHA256_LEN);
	im->seg_first_ts = first_ts;
	int rc = tv_seg_writer_open(&im->w, im->data_path, &wo, &im->iface, 1);
	/* An imported capture has the Kubernetes state it was given (if any) and
	 * no OS events. */
	if (!rc)
		rc = tv_events_writer_open(&im->ev, im->events_path, first_ts, im->o->objects,
					   im->o->nobjects, NULL, 0);
	return rc;
}

static int add_packet(struct importer *im, const struct pcap_pkthdr *h, const uint8_t *data)
{
	uint64_t ts = (uint64_t)h->ts.tv_sec * TV_NS_PER_SEC + (uint64_t)h->ts.tv_usec;
	uint64_t interval = im->o->seal_interval_ns ? im->o->seal_interval_ns : 10 * TV_NS_PER_SEC;
	uint64_t max_bytes = im->o->seal_bytes ? im->o->seal_bytes : (256ULL << 20);
	int rc;
	if (im->w && (ts >= im->seg_first_ts + interval || tv_seg_writer_raw_bytes(im->w) >= max_bytes) &&
	    (rc = seal(im)))
		return rc;
	if (!im->w && (rc = open_segment(im, ts)))
		return rc;
	struct tv_packet p = {0, ts, h->caplen, h->len, data};
	if ((rc = tv_seg_writer_add(im->w, &p)))
		return rc;
	im->st->packets++;
	im->st->bytes += h->caplen;
	return 0;
}

static void show_progress(struct importer *im, int file, int nfiles)
{
	tv_report_progress(im->o->report, (uint64_t)file, (uint64_t)nfiles, im->st->bytes);
}

/* @return 0, -EIO for an unreadable or damaged file (the readable part kept),
 * or another negative errno for store/temp failures. */
static int import_file(struct importer *im, const char *path, int file_no, int nfiles)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p)
		return tv_err(-EIO, "%s: %s", path, errbuf);
	uint16_t lt = tv_linktype_from_dlt(pcap_datalink(p));
	uint32_t snap = (uint32_t)pcap_snapshot(p);
	int rc = 0;
	if (im->w && (lt != im->iface.linktype || snap != im->iface.snaplen))
		rc = seal(im);
	im->iface.linktype = lt;
	im->iface.snaplen = snap;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t n = 0;
	int r;
	while (!rc && (r = pcap_next_ex(p, &h, &data)) == 1) {
		rc = add_packet(im, h, data);
		if (++n % 100000 == 0)
			show_progress(im, file_no, nfiles);
	}
	if (!rc && r == PCAP_ERROR)
		rc = tv_err(-EIO,
			    "%s: damaged after packet %" PRIu64 " (%s); the %" PRIu64
			    " packets before were imported",
			    path, n, pcap_geterr(p), n);
	pcap_close(p);
	return rc;
}

int tv_import_files(struct tv_store *s, const char *const *files, int nfiles,
		    const struct tv_import_opts *opts, struct tv_import_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	struct importer im = {.store = s, .o = opts, .st = stats};
	snprintf(im.iface.name, sizeof(im.iface.name), "%s", opts->iface_name ? opts->iface_name : "import");
	if (!tv_node_name_valid(opts->node))
		return tv_err(-EINVAL, "invalid node name '%s' (1-253 of A-Z a-z 0-9 . _ -)", opts->node);
	bool found;
	uint64_t tail_seq, tail_start;
	int rc = tv_segment_chain_tail(s, opts->prefix, opts->node, &found, &tail_seq, &tail_start,
				       im.prev_sha);
	if (rc)
		return rc;
	im.next_seq = found ? tail_seq + 1 : 0;
	const char *tmp = getenv("TMPDIR");
	snprintf(im.tmpdir, sizeof(im.tmpdir), "%s/tapvault-import.XXXXXX",
		 tmp && strlen(tmp) < 30 ? tmp : "/tmp");
	if (!mkdtemp(im.tmpdir))
		return tv_err(-errno, "mkdtemp %s: %s", im.tmpdir, strerror(errno));
	snprintf(im.data_path, sizeof(im.data_path), "%s/seg.pcapng.zst", im.tmpdir);
	snprintf(im.events_path, sizeof(im.events_path), "%s/seg.events.jsonl.zst", im.tmpdir);
	int partial = 0;
	for (int i = 0; i < nfiles; i++) {
		rc = import_file(&im, files[i], i + 1, nfiles);
		if (rc == -EIO) {
			tv_report_skipped(opts->report, tv_errmsg());
			stats->files_failed++;
			partial = -EIO;
			rc = 0;
			continue;
		}
		if (rc)
			break;
		stats->files_ok++;
	}
	int rc2 = seal(&im);
	if (!rc)
		rc = rc2;
	tv_seg_writer_free(im.w);
	tv_events_writer_free(im.ev);
	unlink(im.data_path);
	unlink(im.events_path);
	rmdir(im.tmpdir);
	show_progress(&im, nfiles, nfiles);
	return rc ? rc : partial;
}
