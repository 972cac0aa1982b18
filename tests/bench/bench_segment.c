/* SPDX-License-Identifier: Apache-2.0 */
/* bench_segment: segment writer and reader throughput on a real capture.
 *   bench_segment CAPTURE.pcap OUTDIR ROUNDS
 * Loads the capture into memory (so the read of the pcap is not timed), then
 * per round writes one segment with the writer (compression, window layout,
 * index, fsync) and reads every packet back through the index-driven reader.
 * Prints the best round as "key value" lines for bench_segment.sh.
 * BENCH_NO_LAYOUT, BENCH_DIRECT, BENCH_STORE and BENCH_LEVEL=N set the
 * writer options of the same names, to compare them on one capture. */
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/common/timeutil.h"
#include "archive/segment.h"

struct capture {
	struct tv_packet *pkts;
	uint8_t *bytes;
	size_t n, file_bytes;
	uint16_t linktype;
};

static int load(const char *path, struct capture *c)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p) {
		fprintf(stderr, "%s: %s\n", path, err);
		return -1;
	}
	struct stat st;
	stat(path, &st);
	c->file_bytes = (size_t)st.st_size;
	c->bytes = malloc(c->file_bytes);
	size_t cap = 1 << 16, used = 0;
	c->pkts = malloc(cap * sizeof(*c->pkts));
	c->linktype = (uint16_t)pcap_datalink(p);
	struct pcap_pkthdr *h;
	const u_char *d;
	while (pcap_next_ex(p, &h, &d) == 1) {
		if (c->n == cap)
			c->pkts = realloc(c->pkts, (cap *= 2) * sizeof(*c->pkts));
		memcpy(c->bytes + used, d, h->caplen);
		c->pkts[c->n++] = (struct tv_packet){
			0, (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec, h->caplen,
			h->len, c->bytes + used};
		used += h->caplen;
	}
	pcap_close(p);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s CAPTURE.pcap OUTDIR ROUNDS\n", argv[0]);
		return 2;
	}
	struct capture c = {0};
	if (load(argv[1], &c))
		return 1;
	int rounds = atoi(argv[3]);
	double best_w = 1e9, best_r = 1e9;
	uint64_t out_bytes = 0, read_pkts = 0, frames = 0;
	for (int r = 0; r < rounds; r++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/bench-%d.pcapng.zst", argv[2], r);
		unlink(path);
		struct tv_seg_writer_opts o = {0};
		snprintf(o.meta.node, sizeof(o.meta.node), "bench");
		/* the writer's options, to compare them on one capture */
		o.no_window_layout = getenv("BENCH_NO_LAYOUT") != NULL;
		o.direct_io = getenv("BENCH_DIRECT") != NULL;
		if (getenv("BENCH_LEVEL"))
			o.zstd_level = atoi(getenv("BENCH_LEVEL"));
		struct tv_iface ifc = {.name = "eth0", .linktype = c.linktype, .snaplen = 262144};
		struct tv_seg_writer *w;
		struct tv_index idx;
		uint64_t t0 = tv_mono_ns();
		if (tv_seg_writer_open(&w, path, &o, &ifc, 1))
			return 1;
		if (getenv("BENCH_STORE") && tv_seg_writer_set_store(w, true))
			return 1;
		for (size_t i = 0; i < c.n; i++)
			if (tv_seg_writer_add(w, &c.pkts[i]))
				return 1;
		if (tv_seg_writer_finish(w, 0, NULL, &idx))
			return 1;
		tv_seg_writer_free(w);
		double tw = (double)(tv_mono_ns() - t0) / 1e9;
		out_bytes = idx.data_size;
		frames = idx.nframes;

		t0 = tv_mono_ns();
		struct tv_fd_source src = {open(path, O_RDONLY), path};
		struct tv_seg_reader *rd;
		if (tv_seg_reader_open(&rd, &idx, tv_fd_read_at, &src, path))
			return 1;
		struct tv_packet p;
		read_pkts = 0;
		while (tv_seg_reader_next(rd, &p) == 1)
			read_pkts++;
		tv_seg_reader_free(rd);
		close(src.fd);
		double tr = (double)(tv_mono_ns() - t0) / 1e9;
		tv_index_cleanup(&idx);
		if (r + 1 < rounds)
			unlink(path);
		best_w = tw < best_w ? tw : best_w;
		best_r = tr < best_r ? tr : best_r;
	}
	printf("packets %zu\npcap_bytes %zu\nsegment_bytes %llu\nframes %llu\nwrite_seconds "
	       "%.4f\nread_seconds %.4f\n"
	       "read_packets %llu\n",
	       c.n, c.file_bytes, (unsigned long long)out_bytes, (unsigned long long)frames, best_w, best_r,
	       (unsigned long long)read_pkts);
	return read_pkts == c.n ? 0 : 1;
}
