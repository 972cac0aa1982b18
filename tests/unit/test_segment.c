/* SPDX-License-Identifier: Apache-2.0 */
/* Segment writer and reader: round trip, window and flow random access,
 * damaged frames, and index rebuilt from the data file alone. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/sha256.h"
#include "archive/pcapng.h"
#include "archive/segment.h"
#include "testutil.h"

#define NPKT 20000
#define T0 1700000000000000000ULL

struct fixture {
	const char *dir;
	char path[128];
	struct tv_index idx;
};

/* Packet i: flow i % 5 (direction alternating), every 50th a non-IP frame,
 * 1 ms apart, sizes varying. */
static size_t make_packet(uint32_t i, uint8_t *buf, uint64_t *ts)
{
	*ts = T0 + (uint64_t)i * 1000000ULL;
	if (i % 50 == 49) {
		memset(buf, 0xAB, 60);
		buf[12] = 0x08, buf[13] = 0x06; /* ARP */
		return 60;
	}
	uint8_t flow = (uint8_t)(i % 5);
	bool reply = (i / 5) % 2;
	size_t payload = (i * 37) % 1400;
	if (reply)
		return tu_make_frame(buf, flow == 4 ? 17 : 6, 2, 80, (uint8_t)(10 + flow),
				     (uint16_t)(40000 + flow), payload, i);
	return tu_make_frame(buf, flow == 4 ? 17 : 6, (uint8_t)(10 + flow), (uint16_t)(40000 + flow), 2, 80,
			     payload, i);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->dir = tu_tmpdir();
	snprintf(f->path, sizeof(f->path), "%s/seg.pcapng.zst", f->dir);
	struct tv_seg_writer_opts o;
	tu_writer_opts(&o);
	o.frame_bytes = 64 * 1024;
	struct tv_iface ifc;
	tu_eth_iface(&ifc);
	struct tv_seg_writer *w;
	assert_int_equal(tv_seg_writer_open(&w, f->path, &o, &ifc, 1), 0);
	uint8_t buf[2000];
	for (uint32_t i = 0; i < NPKT; i++) {
		uint64_t ts;
		size_t n = make_packet(i, buf, &ts);
		struct tv_packet p = {0, ts, (uint32_t)n, (uint32_t)n + (i % 3), buf};
		assert_int_equal(tv_seg_writer_add(w, &p), 0);
	}
	tv_seg_writer_set_drops(w, 0, 11, 22);
	assert_int_equal(tv_seg_writer_finish(w, T0 + 30 * 1000000000ULL, NULL, &f->idx), 0);
	tv_seg_writer_free(w);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tv_index_cleanup(&f->idx);
	tu_rmrf(f->dir);
	free(f);
	return 0;
}

static void check_packet(uint32_t i, const struct tv_packet *p)
{
	uint8_t buf[2000];
	uint64_t ts;
	size_t n = make_packet(i, buf, &ts);
	assert_int_equal(p->ts_ns, ts);
	assert_int_equal(p->caplen, n);
	assert_int_equal(p->origlen, n + (i % 3));
	assert_memory_equal(p->data, buf, n);
}

static struct tv_seg_reader *open_reader(struct fixture *f, struct tv_fd_source *src)
{
	src->fd = open(f->path, O_RDONLY);
	src->path = f->path;
	assert_true(src->fd >= 0);
	struct tv_seg_reader *r;
	assert_int_equal(tv_seg_reader_open(&r, &f->idx, tv_fd_read_at, src, f->path), 0);
	return r;
}

/* The Wireshark-4.0 layout: frames in file order; a frame either stays
 * inside one window or ends exactly on a window boundary; every gap is one
 * skippable padding frame that ends on a boundary. So every window starts
 * with a frame. */
static void check_layout(const char *path, const struct tv_index *idx)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	for (uint32_t i = 1; i < idx->nframes; i++) {
		const struct tv_frame_entry *a = &idx->frames[i - 1], *b = &idx->frames[i];
		uint64_t a_end = a->offset + a->comp_size, b_end = b->offset + b->comp_size;
		assert_true(b->offset >= a_end);
		assert_true(b->offset / TV_WS_WINDOW == (b_end - 1) / TV_WS_WINDOW ||
			    b_end % TV_WS_WINDOW == 0);
		if (b->offset > a_end) {
			uint8_t hdr[8];
			assert_int_equal(pread(fd, hdr, 8, (off_t)a_end), 8);
			assert_true(tv_zstd_is_skippable(hdr, 8));
			assert_int_equal(tv_le32(hdr + 4) + 8, b->offset - a_end);
			assert_int_equal(b->offset % TV_WS_WINDOW, 0);
		}
	}
	close(fd);
}

static void test_index_describes_the_data(void **state)
{
	struct fixture *f = *state;
	struct tv_index *idx = &f->idx;
	assert_string_equal(idx->node, "node-a");
	assert_int_equal(idx->seq, 7);
	assert_int_equal(idx->packets, NPKT);
	assert_int_equal(idx->start_ns, T0);
	assert_int_equal(idx->end_ns, T0 + 30 * 1000000000ULL);
	assert_int_equal(idx->ifaces[0].packets, NPKT);
	assert_int_equal(idx->ifaces[0].drops_kernel, 11);
	assert_int_equal(idx->ifaces[0].drops_iface, 22);
	assert_true(idx->nframes > 20);
	assert_int_equal(idx->frames[0].packets, 0); /* frame 0: SHB + IDBs only */
	assert_int_equal(idx->nflows, 6);            /* 5 conversations + the other row */
	uint64_t total = 0;
	for (uint32_t i = 0; i < idx->nflows; i++)
		total += idx->flows[i].packets;
	assert_int_equal(total, NPKT);
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(idx->data_size, (uint64_t)st.st_size);
	uint8_t sha[32];
	assert_int_equal(tv_sha256_file(f->path, sha), 0);
	assert_memory_equal(sha, idx->data_sha, 32);
	check_layout(f->path, idx);
	const struct tv_frame_entry *last = &idx->frames[idx->nframes - 1];
	assert_int_equal(last->offset + last->comp_size, idx->data_size);
}

static void test_reads_back_every_packet(void **state)
{
	struct fixture *f = *state;
	struct tv_fd_source src;
	struct tv_seg_reader *r = open_reader(f, &src);
	struct tv_packet p;
	uint32_t i = 0;
	int rc;
	while ((rc = tv_seg_reader_next(r, &p)) == 1)
		check_packet(i++, &p);
	assert_int_equal(rc, 0);
	assert_int_equal(i, NPKT);
	tv_seg_reader_free(r);
	close(src.fd);
}

static void test_window_reads_only_overlapping_frames(void **state)
{
	struct fixture *f = *state;
	struct tv_fd_source src;
	struct tv_seg_reader *r = open_reader(f, &src);
	uint32_t lo = 7000, hi = 7500; /* packet numbers; 1 ms apart */
	tv_seg_reader_select_window(r, T0 + lo * 1000000ULL, T0 + hi * 1000000ULL);
	struct tv_packet p;
	uint32_t i = lo;
	while (tv_seg_reader_next(r, &p) == 1)
		check_packet(i++, &p);
	assert_int_equal(i, hi); /* exactly [lo, hi): from inclusive, to exclusive */
	uint32_t overlapping = 0;
	for (uint32_t k = 0; k < f->idx.nframes; k++)
		overlapping +=
			tv_frame_overlaps(&f->idx.frames[k], T0 + lo * 1000000ULL, T0 + hi * 1000000ULL);
	assert_int_equal(tv_seg_reader_frames_read(r), overlapping);
	assert_true(overlapping < f->idx.nframes / 4);
	tv_seg_reader_free(r);
	close(src.fd);
}

static void test_flow_reads_one_conversation(void **state)
{
	struct fixture *f = *state;
	struct tv_fd_source src;
	struct tv_seg_reader *r = open_reader(f, &src);
	struct tv_flow_key k;
	/* given in the reply direction: either direction selects the conversation */
	assert_int_equal(tv_flow_key_from_string("tcp 10.0.0.2:80 > 10.0.0.13:40003", &k), 0);
	assert_int_equal(tv_seg_reader_select_flow(r, &k, 0, UINT64_MAX), 0);
	struct tv_packet p;
	uint32_t n = 0;
	while (tv_seg_reader_next(r, &p) == 1) {
		uint32_t i = (uint32_t)((p.ts_ns - T0) / 1000000ULL);
		assert_int_equal(i % 5, 3);
		check_packet(i, &p);
		n++;
	}
	const struct tv_flow *fl = tv_index_find_flow(&f->idx, &k);
	assert_non_null(fl);
	assert_int_equal(n, fl->packets);
	assert_int_equal(n, NPKT / 5); /* the non-IP frames (every 50th) all fall on i % 5 == 4 */
	tv_seg_reader_free(r);
	close(src.fd);

	assert_int_equal(tv_flow_key_from_string("udp 10.0.0.99:1 > 10.0.0.2:2", &k), 0);
	r = open_reader(f, &src);
	assert_int_equal(tv_seg_reader_select_flow(r, &k, 0, UINT64_MAX), -ENOENT);
	tv_seg_reader_free(r);
	close(src.fd);
}

static void test_flow_touching_few_frames_reads_few(void **state)
{
	struct fixture *f = *state;
	/* a second segment where one short flow sits in the middle */
	char path[160];
	snprintf(path, sizeof(path), "%s/short.pcapng.zst", f->dir);
	struct tv_seg_writer_opts o;
	tu_writer_opts(&o);
	o.frame_bytes = 16 * 1024;
	struct tv_iface ifc;
	tu_eth_iface(&ifc);
	struct tv_seg_writer *w;
	assert_int_equal(tv_seg_writer_open(&w, path, &o, &ifc, 1), 0);
	uint8_t buf[2000];
	for (uint32_t i = 0; i < 5000; i++) {
		bool special = i >= 2500 && i < 2510;
		size_t n = tu_make_frame(buf, 6, special ? 99 : 1, special ? 5555 : 1000, 2, 80, 500, i);
		struct tv_packet p = {0, T0 + i, (uint32_t)n, (uint32_t)n, buf};
		assert_int_equal(tv_seg_writer_add(w, &p), 0);
	}
	struct tv_index idx;
	assert_int_equal(tv_seg_writer_finish(w, 0, NULL, &idx), 0);
	tv_seg_writer_free(w);
	struct tv_fd_source src = {open(path, O_RDONLY), path};
	struct tv_seg_reader *r;
	assert_int_equal(tv_seg_reader_open(&r, &idx, tv_fd_read_at, &src, path), 0);
	struct tv_flow_key k;
	assert_int_equal(tv_flow_key_from_string("tcp 10.0.0.99:5555 > 10.0.0.2:80", &k), 0);
	assert_int_equal(tv_seg_reader_select_flow(r, &k, 0, UINT64_MAX), 0);
	struct tv_packet p;
	int n = 0;
	while (tv_seg_reader_next(r, &p) == 1)
		n++;
	assert_int_equal(n, 10);
	assert_true(idx.nframes > 100);
	assert_true(tv_seg_reader_frames_read(r) <= 2);
	assert_true(tv_seg_reader_bytes_fetched(r) < idx.data_size / 50);
	tv_seg_reader_free(r);
	close(src.fd);
	tv_index_cleanup(&idx);
}

static void test_damaged_frame_is_named_and_skipped(void **state)
{
	struct fixture *f = *state;
	/* flip a byte in the middle of frame 3 */
	int fd = open(f->path, O_RDWR);
	uint64_t at = f->idx.frames[3].offset + f->idx.frames[3].comp_size / 2;
	uint8_t b;
	assert_int_equal(pread(fd, &b, 1, (off_t)at), 1);
	b ^= 0x40;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)at), 1);
	close(fd);

	struct tv_fd_source src;
	struct tv_seg_reader *r = open_reader(f, &src);
	struct tv_packet p;
	int rc, errors = 0;
	uint64_t n = 0;
	while ((rc = tv_seg_reader_next(r, &p)) != 0) {
		if (rc < 0) {
			errors++;
			assert_non_null(strstr(tv_errmsg(), "frame 3"));
			assert_non_null(strstr(tv_errmsg(), f->path));
			continue;
		}
		n++;
	}
	assert_int_equal(errors, 1);
	assert_int_equal(n, NPKT - f->idx.frames[3].packets);
	tv_seg_reader_free(r);
	close(src.fd);
}

static void test_reindex_matches_writer_index(void **state)
{
	struct fixture *f = *state;
	int fd = open(f->path, O_RDONLY);
	struct tv_fd_source src = {fd, f->path};
	struct tv_index idx;
	struct tv_scan_result res;
	struct tv_seg_meta meta;
	assert_int_equal(tv_seg_reindex(tv_fd_read_at, &src, f->idx.data_size, f->path, &meta, &idx, &res),
			 0);
	close(fd);
	assert_false(res.torn);
	assert_int_equal(res.frames, f->idx.nframes);
	assert_string_equal(meta.node, "node-a");
	assert_int_equal(meta.seq, 7);
	/* The writer's end_ns was given by the caller; align it, drops are not in the data. */
	idx.end_ns = f->idx.end_ns;
	idx.ifaces[0].drops_kernel = 11;
	idx.ifaces[0].drops_iface = 22;
	struct tv_buf a, b;
	tv_buf_init(&a, 0);
	tv_buf_init(&b, 0);
	assert_int_equal(tv_index_encode(&idx, &a), 0);
	assert_int_equal(tv_index_encode(&f->idx, &b), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	tv_buf_cleanup(&a);
	tv_buf_cleanup(&b);
	tv_index_cleanup(&idx);
}

static void test_writer_refuses_bad_input(void **state)
{
	struct fixture *f = *state;
	char path[160];
	snprintf(path, sizeof(path), "%s/bad.pcapng.zst", f->dir);
	struct tv_seg_writer_opts o;
	tu_writer_opts(&o);
	struct tv_iface ifc;
	tu_eth_iface(&ifc);
	struct tv_seg_writer *w;
	snprintf(o.meta.node, sizeof(o.meta.node), "../evil");
	assert_int_equal(tv_seg_writer_open(&w, path, &o, &ifc, 1), -EINVAL);
	assert_non_null(strstr(tv_errmsg(), "invalid node name"));
	tu_writer_opts(&o);
	assert_int_equal(tv_seg_writer_open(&w, path, &o, &ifc, 0), -EINVAL);
	assert_int_equal(tv_seg_writer_open(&w, path, &o, &ifc, 1), 0);
	uint8_t buf[64] = {0};
	struct tv_packet p = {1, T0, 60, 60, buf};
	assert_int_equal(tv_seg_writer_add(w, &p), -EINVAL); /* no interface 1 */
	p.ifindex = 0;
	p.caplen = TV_MAX_PACKET + 1;
	assert_int_equal(tv_seg_writer_add(w, &p), -EINVAL);
	tv_seg_writer_free(w);
	/* an existing file is never overwritten */
	assert_int_equal(tv_seg_writer_open(&w, path, &o, &ifc, 1), -EEXIST);
}

/* ---- the writer's modes, on traffic that stresses the layout ---- */

enum traffic {
	BIG_RANDOM,
	BIG_TEXT,
	MIXED,
	SMALL
};

/* Packet i of a traffic type: big GSO-like packets of random payload (they
 * fill windows coarsely), of repetitive text, a mix, or small datagrams. */
static size_t variant_packet(enum traffic t, uint32_t i, uint8_t *buf, uint64_t *ts)
{
	*ts = T0 + (uint64_t)i * 100000ULL;
	size_t payload = t == SMALL ? 40 + i % 30 : 20000 + (i * 7919) % 45000;
	bool random = t == BIG_RANDOM || (t == MIXED && i % 3 == 0);
	if (t == MIXED && i % 3 == 1)
		payload = 60 + i % 900;
	size_t n = tu_make_frame(buf, 6, 1, 40000, 2, 80, payload, i);
	uint32_t seed = i * 2654435761u;
	for (size_t k = 54; k < n; k++) {
		seed = seed * 1103515245u + 12345u;
		buf[k] =
			random ? (uint8_t)(seed >> 16) : (uint8_t)("GET /api/items?id= HTTP/1.1\r\n"[k % 30]);
	}
	return n;
}

struct variant {
	enum traffic traffic;
	bool direct, store_half, no_layout;
};

/* Writes npkt packets as 1 MiB chunks of EPBs (the agent's way in), the
 * writer recycled from a first small segment; checks the layout (unless
 * off), that every packet reads back and that the index's SHA-256 is the
 * file's. */
static void run_variant(const struct variant *v, uint32_t npkt)
{
	const char *dir = tu_tmpdir();
	char first[160], path[160];
	snprintf(first, sizeof(first), "%s/first.pcapng.zst", dir);
	snprintf(path, sizeof(path), "%s/seg.pcapng.zst", dir);
	struct tv_seg_writer_opts o;
	tu_writer_opts(&o);
	o.direct_io = v->direct;
	o.no_window_layout = v->no_layout;
	struct tv_iface ifc;
	tu_eth_iface(&ifc);
	struct tv_seg_writer *w;
	struct tv_index idx;
	uint8_t *pkt = malloc(70000);
	/* a first segment, so the second is written by a recycled writer */
	assert_int_equal(tv_seg_writer_open(&w, first, &o, &ifc, 1), 0);
	assert_int_equal(tv_seg_writer_finish(w, T0, NULL, &idx), 0);
	tv_index_cleanup(&idx);
	o.meta.seq++;
	assert_int_equal(tv_seg_writer_recycle(w, path, &o, &ifc, 1), 0);
	struct tv_buf chunk;
	tv_buf_init(&chunk, 2 << 20);
	for (uint32_t i = 0; i < npkt; i++) {
		uint64_t ts;
		size_t n = variant_packet(v->traffic, i, pkt, &ts);
		assert_int_equal(tv_pcapng_put_epb(&chunk, 0, ts, pkt, (uint32_t)n, (uint32_t)n), 0);
		if (chunk.len >= (1u << 20) || i + 1 == npkt) {
			assert_int_equal(tv_seg_writer_add_blocks(w, chunk.data, chunk.len), 0);
			tv_buf_reset(&chunk);
			if (i % 7 == 0) /* the agent's once-a-second flush, now and then */
				assert_int_equal(tv_seg_writer_flush(w), 0);
		}
		if (v->store_half && i == npkt / 3)
			assert_int_equal(tv_seg_writer_set_store(w, true), 0);
		if (v->store_half && i == 2 * npkt / 3)
			assert_int_equal(tv_seg_writer_set_store(w, false), 0);
	}
	assert_int_equal(tv_seg_writer_finish(w, T0 + 1, NULL, &idx), 0);
	tv_seg_writer_free(w);
	tv_buf_cleanup(&chunk);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, idx.data_size);
	uint8_t sha[32];
	assert_int_equal(tv_sha256_file(path, sha), 0);
	assert_memory_equal(sha, idx.data_sha, 32);
	if (!v->no_layout)
		check_layout(path, &idx);
	struct tv_fd_source src = {open(path, O_RDONLY), path};
	struct tv_seg_reader *r;
	assert_int_equal(tv_seg_reader_open(&r, &idx, tv_fd_read_at, &src, path), 0);
	struct tv_packet p;
	uint32_t i = 0;
	int rc;
	while ((rc = tv_seg_reader_next(r, &p)) == 1) {
		uint64_t ts;
		size_t n = variant_packet(v->traffic, i++, pkt, &ts);
		assert_int_equal(p.caplen, n);
		assert_int_equal(p.ts_ns, ts);
		assert_memory_equal(p.data, pkt, n);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(i, npkt);
	tv_seg_reader_free(r);
	close(src.fd);
	/* the reindex (salvage's pass) verifies every frame's checksum */
	struct tv_index re;
	struct tv_scan_result res;
	src.fd = open(path, O_RDONLY);
	assert_int_equal(tv_seg_reindex(tv_fd_read_at, &src, idx.data_size, path, NULL, &re, &res), 0);
	assert_false(res.torn);
	assert_int_equal(re.packets, npkt);
	close(src.fd);
	tv_index_cleanup(&re);
	tv_index_cleanup(&idx);
	free(pkt);
	tu_rmrf(dir);
}

static void test_layout_big_random_packets(void **state)
{
	(void)state;
	run_variant(&(struct variant){.traffic = BIG_RANDOM}, 400);
}

static void test_layout_big_text_packets(void **state)
{
	(void)state;
	run_variant(&(struct variant){.traffic = BIG_TEXT}, 600);
}

static void test_layout_mixed_direct_io(void **state)
{
	(void)state;
	run_variant(&(struct variant){.traffic = MIXED, .direct = true}, 900);
}

static void test_store_only_frames_mid_segment(void **state)
{
	(void)state;
	run_variant(&(struct variant){.traffic = MIXED, .store_half = true}, 900);
	run_variant(&(struct variant){.traffic = SMALL, .store_half = true, .direct = true}, 60000);
}

static void test_no_layout_small_packets(void **state)
{
	(void)state;
	run_variant(&(struct variant){.traffic = SMALL, .no_layout = true}, 60000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_index_describes_the_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reads_back_every_packet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_reads_only_overlapping_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_reads_one_conversation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_touching_few_frames_reads_few, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_frame_is_named_and_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reindex_matches_writer_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_refuses_bad_input, setup, teardown),
		cmocka_unit_test(test_layout_big_random_packets),
		cmocka_unit_test(test_layout_big_text_packets),
		cmocka_unit_test(test_layout_mixed_direct_io),
		cmocka_unit_test(test_store_only_frames_mid_segment),
		cmocka_unit_test(test_no_layout_small_packets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
