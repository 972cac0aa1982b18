/* SPDX-License-Identifier: Apache-2.0 */
/* window: a cluster-wide window over two nodes' segments, merged in time
 * order and deduplicated by the documented rule (the same bytes from the
 * network header on, the same length, within the dedup window of the first
 * copy); a damaged index is reported through the report and skipped. */
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/keys.h"
#include "archive/store/store.h"
#include "dissector/query/import.h"
#include "dissector/query/window.h"
#include "testutil.h"

#define T0 1700000000ULL

struct pkt {
	uint64_t ts_ns;
	uint32_t seed; /* the frame's content */
	uint8_t mac;   /* the link layer differs between nodes */
};

static void write_pcap(const char *path, const struct pkt *p, size_t n)
{
	pcap_t *pc = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
	pcap_dumper_t *d = pcap_dump_open(pc, path);
	assert_non_null(d);
	uint8_t buf[256];
	for (size_t i = 0; i < n; i++) {
		size_t len = tu_make_frame(buf, 6, 1, 1000, 2, 80, 40, p[i].seed);
		buf[0] = p[i].mac;
		struct pcap_pkthdr h = {.caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len};
		h.ts.tv_sec = (time_t)(p[i].ts_ns / 1000000000ULL);
		h.ts.tv_usec = (suseconds_t)(p[i].ts_ns % 1000000000ULL); /* nanoseconds */
		pcap_dump((u_char *)d, &h, buf);
	}
	pcap_dump_close(d);
	pcap_close(pc);
}

static void import_node(struct tv_store *s, const char *dir, const char *node, const struct pkt *p, size_t n)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s.pcap", dir, node);
	write_pcap(path, p, n);
	struct tv_import_opts o = {.node = node, .prefix = ""};
	struct tv_import_stats st;
	const char *files[] = {path};
	assert_int_equal(tv_import_files(s, files, 1, &o, &st), 0);
}

struct seen {
	uint64_t ts[32];
	char node[32][8];
	size_t n;
	unsigned skipped;
};

static void on_skipped(void *ctx, const char *what)
{
	(void)what;
	((struct seen *)ctx)->skipped++;
}

static int read_window(struct tv_store *s, uint64_t from, uint64_t to, uint64_t dedup, struct seen *out,
		       struct tv_window_stats *st)
{
	struct tv_report r = {.skipped = on_skipped, .ctx = out};
	struct tv_window_opts o = {
		.prefix = "", .from = from, .to = to, .dedup_window_ns = dedup, .report = &r};
	struct tv_window *w;
	int rc = tv_window_open(&w, s, &o);
	if (rc)
		return rc;
	uint32_t nif;
	const struct tv_window_iface *ifs = tv_window_ifaces(w, &nif);
	struct tv_packet p;
	int k;
	while ((k = tv_window_next(w, &p)) != 0) {
		if (k < 0)
			continue;
		assert_true(out->n < 32);
		out->ts[out->n] = p.ts_ns;
		snprintf(out->node[out->n], 8, "%.7s", ifs[p.ifindex].node);
		out->n++;
	}
	tv_window_stats(w, st);
	tv_window_free(w);
	return 0;
}

static struct tv_store *two_nodes(const char *dir)
{
	char url[256];
	snprintf(url, sizeof(url), "file://%s/store", dir);
	struct tv_store *s;
	assert_int_equal(tv_store_open(url, TV_STORE_CREATE, NULL, &s), 0);
	const uint64_t t = T0 * 1000000000ULL;
	/* the same packets 1, 3 and 5 seen on both nodes (a veth and a bridge,
	 * or two nodes), 300 us apart; 2 and 4 on one node only; 6 seen on b
	 * 5 ms after a, outside a 1 ms dedup window */
	const struct pkt a[] = {{t + 1000000, 1, 0xa},
				{t + 2000000, 2, 0xa},
				{t + 3000000, 3, 0xa},
				{t + 5000000, 5, 0xa},
				{t + 6000000, 6, 0xa}};
	const struct pkt b[] = {{t + 1300000, 1, 0xb},
				{t + 3300000, 3, 0xb},
				{t + 4000000, 4, 0xb},
				{t + 5300000, 5, 0xb},
				{t + 11000000, 6, 0xb}};
	import_node(s, dir, "a", a, 5);
	import_node(s, dir, "b", b, 5);
	return s;
}

static void test_merge_in_time_order(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	struct tv_store *s = two_nodes(dir);
	struct seen got = {0};
	struct tv_window_stats st;
	assert_int_equal(read_window(s, 0, UINT64_MAX, 0, &got, &st), 0);
	assert_int_equal(got.n, 10);
	for (size_t i = 1; i < got.n; i++)
		assert_true(got.ts[i - 1] <= got.ts[i]);
	assert_string_equal(got.node[0], "a");
	assert_string_equal(got.node[1], "b");
	assert_int_equal(st.duplicates, 0);
	tv_store_free(s);
	tu_rmrf(dir);
}

static void test_dedup_rule(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	struct tv_store *s = two_nodes(dir);
	struct seen got = {0};
	struct tv_window_stats st;
	assert_int_equal(read_window(s, 0, UINT64_MAX, 1000000, &got, &st), 0);
	/* 1, 3, 5 once each (first copy kept, from node a); 2, 4; 6 twice (5 ms apart) */
	assert_int_equal(st.duplicates, 3);
	assert_int_equal(got.n, 7);
	for (size_t i = 0; i < got.n; i++)
		if (got.ts[i] % 1000000 == 300000)
			fail_msg("a second copy at %llu was kept", (unsigned long long)got.ts[i]);
	/* a window that starts after the first copies keeps the second ones */
	struct seen later = {0};
	const uint64_t t = T0 * 1000000000ULL;
	assert_int_equal(read_window(s, t + 1200000, t + 1400000, 1000000, &later, &st), 0);
	assert_int_equal(later.n, 1);
	assert_string_equal(later.node[0], "b");
	tv_store_free(s);
	tu_rmrf(dir);
}

static int find_index(void *ctx, const struct tv_store_entry *e)
{
	struct tv_segment_key k;
	if (tv_key_parse_segment(e->key, &k) == 0 && k.kind == TV_OBJ_INDEX)
		snprintf(ctx, TV_KEY_MAX, "%s", e->key);
	return 0;
}

static void test_damaged_index_reported_and_skipped(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	struct tv_store *s = two_nodes(dir);
	char key[TV_KEY_MAX] = "";
	assert_int_equal(tv_store_each(s, "v1/nodes/b/", find_index, key), 0);
	assert_true(key[0]);
	assert_int_equal(tv_store_put(s, key, "garbage", 7, 0), 0);
	struct seen got = {0};
	struct tv_window_stats st;
	assert_int_equal(read_window(s, 0, UINT64_MAX, 0, &got, &st), 0);
	assert_int_equal(got.skipped, 1);
	assert_int_equal(st.damaged, 1);
	assert_int_equal(got.n, 5); /* node a's packets */
	tv_store_free(s);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_in_time_order),
		cmocka_unit_test(test_dedup_rule),
		cmocka_unit_test(test_damaged_index_reported_and_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
