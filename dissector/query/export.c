/* SPDX-License-Identifier: Apache-2.0 */
/* export: see export.h. */
#include "dissector/query/export.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "dissector/query/annotate.h"

/* One compiled filter per output interface (for its link type). */
static int compile_filters(const char *expr, const struct tv_window_iface *ifs, uint32_t n,
			   struct bpf_program **out)
{
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		pcap_t *p = pcap_open_dead_with_tstamp_precision(ifs[i].iface.linktype, 262144,
								 PCAP_TSTAMP_PRECISION_NANO);
		int rc = pcap_compile(p, &(*out)[i], expr, 1, PCAP_NETMASK_UNKNOWN);
		if (rc)
			tv_err(-EINVAL, "--filter '%s': %s", expr, pcap_geterr(p));
		pcap_close(p);
		if (rc) {
			for (uint32_t k = 0; k < i; k++)
				pcap_freecode(&(*out)[k]);
			free(*out);
			*out = NULL;
			return -EINVAL;
		}
	}
	return 0;
}

static int open_output(struct tv_pcap_out *out, const struct tv_export_opts *o,
		       const struct tv_window_iface *ifs, uint32_t n)
{
	struct tv_iface *named = calloc(n ? n : 1, sizeof(*named));
	const char **desc = calloc(n ? n : 1, sizeof(*desc));
	char(*descs)[TV_NODE_MAX + 8] = calloc(n ? n : 1, sizeof(*descs));
	int rc = named && desc && descs ? 0 : -ENOMEM;
	for (uint32_t i = 0; !rc && i < n; i++) {
		named[i] = ifs[i].iface;
		snprintf(named[i].name, sizeof(named[i].name), "%.*s/%.22s", 40, ifs[i].node,
			 ifs[i].iface.name);
		snprintf(descs[i], sizeof(descs[i]), "node %s", ifs[i].node);
		desc[i] = descs[i];
	}
	if (!rc)
		rc = o->stream ? tv_pcap_out_open_stream(out, o->stream, o->format, named, desc, n)
			       : tv_pcap_out_open(out, o->output, o->format, named, desc, n);
	free(named);
	free(desc);
	free(descs);
	return rc;
}

static void show_progress(struct tv_window *w, const struct tv_report *report)
{
	uint64_t done, total;
	struct tv_window_stats ws;
	tv_window_progress(w, &done, &total);
	tv_window_stats(w, &ws);
	tv_report_progress(report, done, total, ws.bytes_fetched);
}

int tv_export_window(struct tv_window *w, const struct tv_export_opts *o, struct tv_window_stats *st,
		     uint64_t *written)
{
	uint32_t nif;
	const struct tv_window_iface *ifs = tv_window_ifaces(w, &nif);
	struct bpf_program *filters = NULL;
	struct tv_pcap_out out;
	int rc = o->filter ? compile_filters(o->filter, ifs, nif, &filters) : 0;
	if (!rc && (rc = open_output(&out, o, ifs, nif))) {
		for (uint32_t i = 0; filters && i < nif; i++)
			pcap_freecode(&filters[i]);
		free(filters);
		return rc;
	}
	if (rc)
		return rc;
	struct tv_packet p;
	struct tv_buf comment; /* --annotate's, reused for every packet */
	tv_buf_init(&comment, 4096);
	uint64_t seen = 0, kept = 0;
	int r;
	while (!rc && (r = tv_window_next(w, &p)) != 0) {
		if ((++seen & 4095) == 0)
			show_progress(w, o->report);
		if (o->cancel && atomic_load(o->cancel)) {
			rc = tv_err(-ECANCELED, "cancelled");
			break;
		}
		if (r < 0)
			continue; /* a damaged frame: the window reported it */
		struct pcap_pkthdr h = {.caplen = p.caplen, .len = p.origlen};
		if (filters && !pcap_offline_filter(&filters[p.ifindex], &h, p.data))
			continue;
		if (o->select && !tv_select_packet(o->select, ifs[p.ifindex].iface.linktype, &p))
			continue;
		if (o->annotate) {
			tv_annotate_packet(o->annotate, ifs[p.ifindex].iface.linktype, &p, &comment);
			rc = tv_pcap_out_write_comment(&out, &p,
						       comment.len ? (const char *)comment.data : NULL);
		} else {
			rc = tv_pcap_out_write(&out, &p);
		}
		kept++;
	}
	if (!rc)
		rc = tv_pcap_out_commit(&out);
	else
		tv_pcap_out_abort(&out);
	tv_buf_cleanup(&comment);
	for (uint32_t i = 0; filters && i < nif; i++)
		pcap_freecode(&filters[i]);
	free(filters);
	tv_window_stats(w, st);
	if (written)
		*written = kept;
	return rc;
}
