/* SPDX-License-Identifier: Apache-2.0 */
/* Object keys: the exact layout of DESIGN.md, parsing, and window prefixes. */
#include <errno.h>
#include <string.h>

#include "archive/keys.h"
#include "testutil.h"

static void test_layout(void **state)
{
	(void)state;
	char k[256];
	/* 2026-11-23T09:13:45.5Z */
	uint64_t t = 1795425225500000000ULL;
	assert_int_equal(tv_key_segment(k, sizeof(k), "tv", "node-1", t, 3, TV_OBJ_DATA), 0);
	assert_string_equal(k, "tv/v1/nodes/node-1/2026/11/23/09/1795425225500000000-0000000003.pcapng.zst");
	assert_int_equal(tv_key_segment(k, sizeof(k), "", "n", 5, 0, TV_OBJ_INDEX), 0);
	assert_string_equal(k, "v1/nodes/n/1970/01/01/00/0000000000000000005-0000000000.idx");
	assert_int_equal(tv_key_segment(k, sizeof(k), "a/b/", "n", 5, 0, TV_OBJ_EVENTS), 0);
	assert_string_equal(k,
			    "a/b/v1/nodes/n/1970/01/01/00/0000000000000000005-0000000000.events.jsonl.zst");
	assert_int_equal(tv_key_segment(k, 20, "tv", "node-1", t, 3, TV_OBJ_DATA), -ENAMETOOLONG);
}

static void test_parse(void **state)
{
	(void)state;
	struct tv_segment_key sk;
	assert_int_equal(tv_key_parse_segment(
				 "tv/v1/nodes/node-1/2026/11/23/09/1795425225500000000-0000000003.idx", &sk),
			 0);
	assert_string_equal(sk.node, "node-1");
	assert_int_equal(sk.start_ns, 1795425225500000000ULL);
	assert_int_equal(sk.seq, 3);
	assert_int_equal(sk.kind, TV_OBJ_INDEX);
	/* hour directory must match the start time */
	assert_int_equal(tv_key_parse_segment(
				 "tv/v1/nodes/node-1/2026/11/23/10/1795425225500000000-0000000003.idx", &sk),
			 -EINVAL);
	assert_int_equal(tv_key_parse_segment(
				 "tv/v1/nodes/node-1/2026/11/23/09/1795425225500000000-0000000003.txt", &sk),
			 -EINVAL);
	assert_int_equal(tv_key_parse_segment("tv/v1/snapshots/x.tar", &sk), -EINVAL);
}

static void test_sibling(void **state)
{
	(void)state;
	char out[256];
	assert_int_equal(
		tv_key_sibling("v1/nodes/n/1970/01/01/00/5-0.idx", TV_KEY_SUFFIX_DATA, out, sizeof(out)), 0);
	assert_string_equal(out, "v1/nodes/n/1970/01/01/00/5-0.pcapng.zst");
	assert_int_equal(tv_key_sibling("/buf/open/5-0.pcapng.zst", TV_KEY_SUFFIX_EVENTS, out, sizeof(out)),
			 0);
	assert_string_equal(out, "/buf/open/5-0.events.jsonl.zst");
	assert_int_equal(tv_key_sibling("a/5-0.events.jsonl.zst", "", out, sizeof(out)), 0);
	assert_string_equal(out, "a/5-0");
	assert_int_equal(tv_key_sibling("a/5-0", ".idx", out, sizeof(out)), 0); /* a stem as given */
	assert_string_equal(out, "a/5-0.idx");
	assert_int_equal(tv_key_sibling("a/5-0.idx", TV_KEY_SUFFIX_EVENTS, out, 8), -ENAMETOOLONG);
}

static int count_prefix(void *ctx, const char *p)
{
	int *n = ctx;
	(*n)++;
	assert_non_null(strstr(p, "v1/nodes/n1/"));
	return 0;
}

/* Streams are filed as NODE_sK (K >= 1); stream 0 keeps the bare name. */
static void test_stream_names(void **state)
{
	(void)state;
	char name[64], base[64];
	assert_int_equal(tv_node_stream_name(name, sizeof(name), "ip-10-0-1-7.ec2.internal", 0), 0);
	assert_string_equal(name, "ip-10-0-1-7.ec2.internal");
	assert_int_equal(tv_node_stream_name(name, sizeof(name), "node-a", 3), 0);
	assert_string_equal(name, "node-a_s3");
	assert_int_equal(tv_node_stream_split("node-a_s3", base, sizeof(base)), 3);
	assert_string_equal(base, "node-a");
	assert_int_equal(tv_node_stream_split("node-a", base, sizeof(base)), 0);
	assert_string_equal(base, "node-a");
	/* not stream suffixes: the whole name is the node */
	const char *plain[] = {"a_s", "a_sx", "_s1", "a_s0", "a_s1x", "a-s1", "a_s99999"};
	for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++) {
		assert_int_equal(tv_node_stream_split(plain[i], base, sizeof(base)), 0);
		assert_string_equal(base, plain[i]);
	}
	assert_true(tv_node_has_stream_suffix("n_s12"));
	assert_false(tv_node_has_stream_suffix("n-s12"));
	assert_int_equal(tv_node_stream_name(name, 8, "node-abc", 2), -ENAMETOOLONG);
}

static void test_window_prefixes(void **state)
{
	(void)state;
	int n = 0;
	uint64_t h = 3600ULL * 1000000000ULL;
	/* one minute inside hour 10: hours 9 (lookback) and 10 */
	assert_int_equal(tv_key_window_prefixes("", "n1", 10 * h + 60000000000ULL, 10 * h + 120000000000ULL,
						count_prefix, &n),
			 0);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(tv_key_window_prefixes("", "n1", 10 * h, 13 * h, count_prefix, &n), 0);
	assert_int_equal(n, 4); /* 9, 10, 11, 12 */
	n = 0;
	assert_int_equal(tv_key_window_prefixes("", "n1", 5, 5, count_prefix, &n), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),          cmocka_unit_test(test_parse),
		cmocka_unit_test(test_window_prefixes), cmocka_unit_test(test_stream_names),
		cmocka_unit_test(test_sibling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
