/* SPDX-License-Identifier: Apache-2.0 */
/* import: a pcap written by libpcap is cut into segments whose packets,
 * read back in key order, are the originals; the hash chain links them and
 * continues across imports; a damaged file keeps its readable part. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/keys.h"
#include "archive/segment.h"
#include "archive/store/store.h"
#include "dissector/query/import.h"
#include "testutil.h"

#define T0_SEC 1700000000ULL

static void write_pcap(const char *path, int npkt, uint64_t first_sec)
{
	pcap_t *p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
	pcap_dumper_t *d = pcap_dump_open(p, path);
	assert_non_null(d);
	uint8_t buf[2000];
	for (int i = 0; i < npkt; i++) {
		size_t n = tu_make_frame(buf, 6, (uint8_t)(1 + i % 3), 1000, 2, 80, (size_t)(i * 7) % 1200,
					 (uint32_t)i);
		struct pcap_pkthdr h = {.caplen = (bpf_u_int32)n, .len = (bpf_u_int32)n};
		/* 100 packets per second, with nanosecond detail */
		h.ts.tv_sec = (time_t)(first_sec + (uint64_t)i / 100);
		h.ts.tv_usec = (suseconds_t)((i % 100) * 10000000 + i % 1000);
		pcap_dump((u_char *)d, &h, buf);
	}
	pcap_dump_close(d);
	pcap_close(p);
}

struct collect {
	char keys[64][TV_KEY_MAX];
	int n;
};

static int collect_index(void *ctx, const struct tv_store_entry *e)
{
	struct collect *c = ctx;
	struct tv_segment_key k;
	if (tv_key_parse_segment(e->key, &k) == 0 && k.kind == TV_OBJ_INDEX && c->n < 64)
		snprintf(c->keys[c->n++], TV_KEY_MAX, "%s", e->key);
	return 0;
}

/* Reads every segment of the node in key order; checks packets, chain, seq. */
static int read_back(struct tv_store *s, int expect_from, int expect_packets)
{
	struct collect c = {.n = 0};
	assert_int_equal(tv_store_each(s, "v1/nodes/n1/", collect_index, &c), 0);
	uint8_t prev[32] = {0}, buf[2000];
	int i = expect_from;
	for (int k = 0; k < c.n; k++) {
		struct tv_buf raw;
		tv_buf_init(&raw, 0);
		assert_int_equal(tv_store_get(s, c.keys[k], &raw), 0);
		struct tv_index idx;
		assert_int_equal(tv_index_decode(raw.data, raw.len, c.keys[k], &idx), 0);
		assert_int_equal(idx.seq, (uint64_t)k);
		assert_memory_equal(idx.prev_sha, prev, 32);
		assert_int_equal(tv_sha256(raw.data, raw.len, prev), 0);
		tv_buf_cleanup(&raw);
		char dkey[TV_KEY_MAX];
		assert_int_equal(
			tv_key_segment(dkey, sizeof(dkey), "", "n1", idx.start_ns, idx.seq, TV_OBJ_DATA), 0);
		struct tv_store_source src = {s, dkey};
		struct tv_seg_reader *r;
		assert_int_equal(tv_seg_reader_open(&r, &idx, tv_store_read_at, &src, dkey), 0);
		struct tv_packet p;
		while (tv_seg_reader_next(r, &p) == 1) {
			int j = i % expect_packets;
			size_t n = tu_make_frame(buf, 6, (uint8_t)(1 + j % 3), 1000, 2, 80,
						 (size_t)(j * 7) % 1200, (uint32_t)j);
			assert_int_equal(p.caplen, n);
			assert_memory_equal(p.data, buf, n);
			uint64_t sec = (i < expect_packets ? T0_SEC : T0_SEC + 100) + (uint64_t)j / 100;
			assert_int_equal(p.ts_ns, sec * 1000000000ULL + (uint64_t)(j % 100) * 10000000 +
							  (uint64_t)(j % 1000));
			i++;
		}
		tv_seg_reader_free(r);
		tv_index_cleanup(&idx);
	}
	return i;
}

static void test_import_read_back_and_chain(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	char pcap1[160], pcap2[160], url[160];
	snprintf(pcap1, sizeof(pcap1), "%s/a.pcap", dir);
	snprintf(pcap2, sizeof(pcap2), "%s/b.pcap", dir);
	snprintf(url, sizeof(url), "file://%s/store", dir);
	write_pcap(pcap1, 2000, T0_SEC);       /* 20 s of packets: 2 segments at 10 s */
	write_pcap(pcap2, 2000, T0_SEC + 100); /* later capture, imported second */
	struct tv_store *s;
	assert_int_equal(tv_store_open(url, TV_STORE_CREATE, NULL, &s), 0);
	struct tv_import_opts o = {.node = "n1", .prefix = ""};
	struct tv_import_stats st;
	const char *files1[] = {pcap1};
	assert_int_equal(tv_import_files(s, files1, 1, &o, &st), 0);
	assert_int_equal(st.packets, 2000);
	assert_int_equal(st.segments, 2);
	assert_int_equal(read_back(s, 0, 2000), 2000);
	/* a second import continues sequence numbers and the chain */
	const char *files2[] = {pcap2};
	assert_int_equal(tv_import_files(s, files2, 1, &o, &st), 0);
	assert_int_equal(st.segments, 2);
	assert_int_equal(read_back(s, 0, 2000), 4000);
	tv_store_free(s);
	tu_rmrf(dir);
}

static void test_damaged_file_keeps_readable_part(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	char good[160], torn[160], junk[160], url[160];
	snprintf(good, sizeof(good), "%s/good.pcap", dir);
	snprintf(torn, sizeof(torn), "%s/torn.pcap", dir);
	snprintf(junk, sizeof(junk), "%s/junk.pcap", dir);
	snprintf(url, sizeof(url), "file://%s/store", dir);
	write_pcap(good, 500, T0_SEC);
	/* torn: the same file cut in the middle of a packet record */
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "head -c 20000 %s > %s && echo 'hello' > %s", good, torn, junk);
	assert_int_equal(system(cmd), 0);
	struct tv_store *s;
	assert_int_equal(tv_store_open(url, TV_STORE_CREATE, NULL, &s), 0);
	struct tv_import_opts o = {.node = "n1", .prefix = ""};
	struct tv_import_stats st;
	const char *files[] = {junk, torn};
	assert_int_equal(tv_import_files(s, files, 2, &o, &st), -EIO);
	assert_int_equal(st.files_failed, 2);
	assert_true(st.packets > 10 && st.packets < 500);
	assert_int_equal(read_back(s, 0, 500), (int)st.packets);
	/* bad node names never reach the key space */
	o.node = "../../etc";
	assert_int_equal(tv_import_files(s, files, 1, &o, &st), -EINVAL);
	tv_store_free(s);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_import_read_back_and_chain),
		cmocka_unit_test(test_damaged_file_keeps_readable_part),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
