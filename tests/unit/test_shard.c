/* SPDX-License-Identifier: Apache-2.0 */
/* shard and dissection: the plan gives every TCP/UDP packet of a window to
 * exactly one shard, for any N, and that shard's read range holds every
 * packet of every connection it owns; cuts are in order and share the bytes;
 * "I/N" is parsed strictly. Parts: sorted by (startTime, id) read from the
 * top level only, done markers tell this run from another, the merge is in
 * order and refuses a run with a part missing or changed. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/store/store.h"
#include "dissector/query/dissection.h"
#include "dissector/query/import.h"
#include "dissector/query/shard.h"
#include "dissector/query/window.h"
#include "testutil.h"

#define T0 (1700000000ULL * 1000000000ULL)
#define NPKT 600

static void write_pcap(const char *path)
{
	pcap_t *pc = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
	pcap_dumper_t *d = pcap_dump_open(pc, path);
	assert_non_null(d);
	uint8_t buf[1600];
	for (uint32_t i = 0; i < NPKT; i++) {
		/* 3 long flows over the whole capture, and short ones that come and go */
		uint16_t sport = i % 4 == 0 ? (uint16_t)(1000 + i % 3) : (uint16_t)(2000 + i / 20);
		bool reply = i % 2;
		size_t len = reply ? tu_make_frame(buf, i % 5 ? 6 : 17, 2, 80, 1, sport, 100 + i % 700, i)
				   : tu_make_frame(buf, i % 5 ? 6 : 17, 1, sport, 2, 80, 100 + i % 700, i);
		uint64_t ts = T0 + (uint64_t)i * 10000000ULL; /* 10 ms apart: 6 s */
		struct pcap_pkthdr h = {.caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len};
		h.ts.tv_sec = (time_t)(ts / 1000000000ULL);
		h.ts.tv_usec = (suseconds_t)(ts % 1000000000ULL);
		pcap_dump((u_char *)d, &h, buf);
	}
	pcap_dump_close(d);
	pcap_close(pc);
}

static struct tv_store *store_with_two_nodes(const char *dir)
{
	char url[300], path[300];
	snprintf(url, sizeof(url), "file://%s/st", dir);
	snprintf(path, sizeof(path), "%s/cap.pcap", dir);
	write_pcap(path);
	struct tv_store *s;
	assert_int_equal(tv_store_open(url, TV_STORE_CREATE, NULL, &s), 0);
	const char *files[] = {path};
	struct tv_import_stats st;
	for (int k = 0; k < 2; k++) {
		struct tv_import_opts o = {
			.node = k ? "b" : "a", .prefix = "", .seal_interval_ns = 500000000ULL};
		assert_int_equal(tv_import_files(s, files, 1, &o, &st), 0);
	}
	return s;
}

static void test_every_packet_has_one_owner(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	struct tv_store *s = store_with_two_nodes(dir);
	uint64_t from = T0 + 1000000000ULL, to = T0 + 5500000000ULL; /* starts inside the long flows */
	struct tv_window_opts wo = {.prefix = "", .from = from, .to = to};
	struct tv_window *w;
	assert_int_equal(tv_window_open(&w, s, &wo), 0);
	assert_true(tv_window_segments(w) > 10);
	for (uint32_t n = 1; n <= 6; n++) {
		struct tv_shard *sh[6];
		struct tv_shard_info in[6];
		uint64_t slice_bytes = 0;
		for (uint32_t i = 0; i < n; i++) {
			assert_int_equal(tv_shard_plan(&sh[i], w, from, to, i, n), 0);
			tv_shard_info(sh[i], &in[i]);
			assert_true(in[i].cut_from <= in[i].cut_to);
			if (i)
				assert_true(in[i].cut_from == in[i - 1].cut_to);
			slice_bytes += in[i].bytes_slice;
		}
		assert_true(in[0].cut_from == from && in[n - 1].cut_to == to);
		assert_true(slice_bytes == in[0].bytes_window);
		for (uint32_t i = 0; n > 1 && i < n;
		     i++) /* about 1/n of the bytes each, give or take a frame */
			assert_true(in[i].bytes_slice < in[0].bytes_window / n * 2);
		/* walk every packet of the window */
		struct tv_window *all;
		assert_int_equal(tv_window_open(&all, s, &wo), 0);
		uint32_t nif;
		const struct tv_window_iface *ifs = tv_window_ifaces(all, &nif);
		struct tv_packet p;
		uint64_t packets = 0;
		while (tv_window_next(all, &p) == 1) {
			uint16_t lt = ifs[p.ifindex].iface.linktype;
			int owners = 0;
			for (uint32_t i = 0; i < n; i++) {
				if (!tv_shard_owns(sh[i], lt, p.data, p.caplen))
					continue;
				owners++;
				assert_true(p.ts_ns >= in[i].read_from && p.ts_ns < in[i].read_to);
			}
			assert_int_equal(owners, 1);
			packets++;
		}
		assert_true(packets > 400);
		tv_window_free(all);
		for (uint32_t i = 0; i < n; i++)
			tv_shard_free(sh[i]);
	}
	tv_window_free(w);
	tv_store_free(s);
	tu_rmrf(dir);
}

static void test_parse(void **state)
{
	(void)state;
	uint32_t i, n;
	assert_int_equal(tv_shard_parse("0/1", &i, &n), 0);
	assert_true(i == 0 && n == 1);
	assert_int_equal(tv_shard_parse("6/7", &i, &n), 0);
	assert_true(i == 6 && n == 7);
	const char *bad[] = {"1/1", "7/7", "-1/2", "1/-2", "1/0",  "a/2",
			     "1/b", "1",   "/2",   "1/",   "1/2x", "1/100001"};
	for (size_t k = 0; k < sizeof(bad) / sizeof(*bad); k++)
		assert_int_equal(tv_shard_parse(bad[k], &i, &n), -EINVAL);
	struct tv_shard *s;
	assert_int_equal(tv_shard_plan(&s, NULL, 0, 1, 2, 2), -EINVAL);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_all(FILE *f)
{
	fflush(f);
	long n = ftell(f);
	char *b = calloc(1, (size_t)n + 1);
	rewind(f);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	return b;
}

static void test_sort_top_level_only(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	char path[300];
	snprintf(path, sizeof(path), "%s/e.jsonl", dir);
	/* a nested startTime and one inside a string must not be taken */
	write_text(path,
		   "{\"id\":\"b\",\"request\":{\"startTime\":\"0\"},\"startTime\":\"2026-01-01T00:00:02Z\"}\n"
		   "{\"id\":\"a\",\"body\":\"\\\"startTime\\\":\\\"9\\\"\",\"startTime\":\"2026-01-01T00:00:"
		   "02Z\"}\n"
		   "{\"id\":\"c\",\"x\":[1,{\"y\":\"}\"}],\"startTime\":\"2026-01-01T00:00:01Z\"}\n");
	FILE *out = tmpfile();
	uint64_t n;
	assert_int_equal(tv_dissection_sort_to(path, out, &n), 0);
	assert_int_equal(n, 3);
	char *b = read_all(out);
	assert_true(strstr(b, "\"id\":\"c\"") < strstr(b, "\"id\":\"a\""));
	assert_true(strstr(b, "\"id\":\"a\"") < strstr(b, "\"id\":\"b\""));
	free(b);
	fclose(out);
	tu_rmrf(dir);
}

static void put(struct tv_store *s, const char *dir, uint32_t i, uint32_t count, const char *text, int expect)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/p%u.jsonl", dir, i);
	write_text(path, text);
	struct tv_dissection_part p = {.index = i, .count = count, .from = 1, .to = 2, .source = "file:///x"};
	assert_int_equal(tv_dissection_put_part(s, "", "run", path, &p), expect);
}

static void test_parts_and_merge(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	char url[300];
	snprintf(url, sizeof(url), "file://%s/out", dir);
	struct tv_store *s;
	assert_int_equal(tv_store_open(url, TV_STORE_CREATE, NULL, &s), 0);
	put(s, dir, 1, 3, "{\"id\":\"2\",\"startTime\":\"t2\"}\n{\"id\":\"4\",\"startTime\":\"t4\"}\n", 0);
	struct tv_dissection_part p = {.index = 1, .count = 3, .from = 1, .to = 2, .source = "file:///x"};
	assert_int_equal(tv_dissection_part_done(s, "", "run", &p), 1);
	assert_int_equal(p.entries, 2);
	p.count = 4;
	assert_int_equal(tv_dissection_part_done(s, "", "run", &p), -EEXIST);
	p = (struct tv_dissection_part){.index = 0, .count = 3, .from = 1, .to = 2, .source = "file:///x"};
	assert_int_equal(tv_dissection_part_done(s, "", "run", &p), 0);
	FILE *out = tmpfile();
	struct tv_dissection_merge_stats st;
	assert_int_equal(tv_dissection_merge(s, "", "run", out, &st), -EAGAIN);
	assert_non_null(strstr(tv_errmsg(), "not yet: 0, 2"));
	put(s, dir, 0, 3, "{\"id\":\"3\",\"startTime\":\"t3\"}\n{\"id\":\"1\",\"startTime\":\"t1\"}\n", 0);
	put(s, dir, 2, 3, "", 0);                                            /* a shard with nothing */
	put(s, dir, 2, 3, "{\"id\":\"9\",\"startTime\":\"t9\"}\n", -EEXIST); /* its marker stays */
	assert_int_equal(tv_dissection_merge(s, "", "run", out, &st), 0);
	assert_int_equal(st.parts, 3);
	assert_int_equal(st.entries, 4);
	char *b = read_all(out);
	assert_string_equal(b, "{\"id\":\"1\",\"startTime\":\"t1\"}\n{\"id\":\"2\",\"startTime\":\"t2\"}\n"
			       "{\"id\":\"3\",\"startTime\":\"t3\"}\n{\"id\":\"4\",\"startTime\":\"t4\"}\n");
	free(b);
	fclose(out);
	/* a part replaced after its marker: the merge says so */
	char key[300];
	struct tv_buf zb;
	tv_buf_init(&zb, 1 << 20);
	snprintf(key, sizeof(key), "v1/dissections/run/part-1.jsonl.zst");
	assert_int_equal(tv_store_get(s, key, &zb), 0);
	char k0[] = "v1/dissections/run/part-0.jsonl.zst";
	assert_int_equal(tv_store_put(s, k0, zb.data, zb.len, 0), 0);
	tv_buf_cleanup(&zb);
	out = tmpfile();
	assert_int_equal(tv_dissection_merge(s, "", "run", out, &st), -EBADMSG);
	assert_non_null(strstr(tv_errmsg(), "part-0.jsonl.zst differs from its done marker"));
	fclose(out);
	assert_int_equal(tv_dissection_merge(s, "", "../x", stdout, &st), -EINVAL);
	assert_int_equal(tv_dissection_name_check(".hidden"), -EINVAL);
	assert_int_equal(tv_dissection_name_check("Week_48.v2-a"), 0);
	tv_store_free(s);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_packet_has_one_owner),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_sort_top_level_only),
		cmocka_unit_test(test_parts_and_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
