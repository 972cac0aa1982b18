/* SPDX-License-Identifier: Apache-2.0 */
/* rollup and trends: what tv_rollup_parse accepts and refuses, and the
 * scores of tv_trends_compute over rollups made here (a regular pair
 * scores as a beacon, a random one does not; a spike is an anomaly; a new
 * pair is a new peer; a connection across hours is long). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "dissector/query/rollup.h"
#include "dissector/query/trends.h"
#include "testutil.h"

#define H0 (1788220800ull * 1000000000ull) /* 2026-09-01T00:00:00Z */
#define HOURS (24 * 28)

static json_t *hour(size_t i)
{
	return json_pack("{s:i,s:I,s:I,s:[],s:[]}", "format", 1, "hour_ns", (json_int_t)(H0 + i * TV_HOUR_NS),
			 "inputs", (json_int_t)1, "pairs", "long");
}

static json_t *pair(const char *src, const char *dst, int port, json_int_t bytes)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:[]}", "node", "n1", "proto", "tcp",
			 "src", src, "dst", dst, "port", port, "conns", (json_int_t)0, "packets",
			 (json_int_t)0, "bytes", bytes, "bytes_rev", (json_int_t)0, "syn", (json_int_t)0,
			 "rst", (json_int_t)0, "starts");
}

static void add_start(json_t *p, json_int_t ms, json_int_t bytes)
{
	json_array_append_new(json_object_get(p, "starts"), json_pack("[I,I]", ms, bytes));
	json_object_set_new(p, "conns", json_integer(json_integer_value(json_object_get(p, "conns")) + 1));
}

static bool accepted(const char *text)
{
	json_t *r = NULL;
	int rc = tv_rollup_parse((const uint8_t *)text, strlen(text), "t", &r);
	json_decref(r);
	return rc == 0;
}

static void test_parse_refuses_what_trends_cannot_read(void **state)
{
	(void)state;
	json_t *h = hour(0);
	json_t *p = pair("a/x", "b/y", 80, 100);
	add_start(p, 5, 100);
	json_array_append_new(json_object_get(h, "pairs"), p);
	char *good = json_dumps(h, JSON_COMPACT);
	assert_true(accepted(good));
	free(good);
	const char *bad[] = {
		"",
		"[]",
		"{\"format\":2,\"hour_ns\":0,\"inputs\":0,\"pairs\":[],\"long\":[]}",
		"{\"format\":1,\"hour_ns\":5,\"inputs\":0,\"pairs\":[],\"long\":[]}", /* not a whole hour */
		"{\"format\":1,\"hour_ns\":0,\"inputs\":0,\"pairs\":{},\"long\":[]}",
		"{\"format\":1,\"hour_ns\":0,\"inputs\":0,\"pairs\":[{\"node\":\"n\"}],\"long\":[]}",
		"{\"format\":1,\"hour_ns\":0,\"inputs\":-1,\"pairs\":[],\"long\":[]}",
		"{\"format\":1,\"hour_ns\":0,\"inputs\":0,\"pairs\":[],\"long\":[{\"node\":\"n\",\"flow\":"
		"\"f\",\"src\":"
		"\"a\",\"dst\":\"b\",\"first_ns\":9,\"last_ns\":1,\"bytes\":0}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (accepted(bad[i]))
			fail_msg("accepted: %s", bad[i]);
	/* starts out of order, outside the hour, or counts past 2^50 */
	const char *starts[] = {"[[5,1],[4,1]]", "[[3600000,1]]", "[[1,1125899906842625]]", "[[1]]"};
	for (size_t i = 0; i < 4; i++) {
		json_t *c = json_deep_copy(h);
		json_object_set_new(json_array_get(json_object_get(c, "pairs"), 0), "starts",
				    json_loads(starts[i], 0, NULL));
		char *t = json_dumps(c, JSON_COMPACT);
		if (accepted(t))
			fail_msg("accepted starts %s", starts[i]);
		free(t);
		json_decref(c);
	}
	json_decref(h);
}

/* Four weeks: "web" calls api at random times and sizes; "job" calls c2
 * every 300 s with one size; day 20 14:00 carries 20 times api's usual
 * bytes; "web" meets "new/peer" only in the last 3 days; one connection
 * stays open across 4 hours on day 5. */
static json_t **month(void)
{
	json_t **h = calloc(HOURS, sizeof(*h));
	srand(7);
	double next_beacon = 17000;
	for (size_t i = 0; i < HOURS; i++) {
		h[i] = hour(i);
		json_t *pairs = json_object_get(h[i], "pairs");
		json_int_t bytes = 100000 + rand() % 20000;
		if (i == 20 * 24 + 14)
			bytes *= 20;
		json_t *web = pair("shop/web", "shop/api", 80, bytes);
		for (int c = 0, n = 5 + rand() % 10, at = 0; c < n; c++) {
			at += rand() % (3600000 / n);
			add_start(web, at, 500 + rand() % 5000);
		}
		json_array_append_new(pairs, web);
		json_t *job = pair("jobs/job", "203.0.113.7", 443, 12 * 500);
		for (; next_beacon < 3600000.0 * (double)(i + 1);
		     next_beacon += 300000 + rand() % 2000 - 1000)
			add_start(job, (json_int_t)(next_beacon - 3600000.0 * (double)i), 500);
		json_array_append_new(pairs, job);
		if (i >= HOURS - 3 * 24)
			json_array_append_new(pairs, pair("shop/web", "new/peer", 5432, 1000));
		if (i >= 5 * 24 && i < 5 * 24 + 4)
			json_array_append_new(json_object_get(h[i], "long"),
					      json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "node", "n1", "flow",
							"tcp 1 > 2", "src", "shop/web", "dst", "shop/db",
							"first_ns", (json_int_t)(H0 + i * TV_HOUR_NS + 1),
							"last_ns",
							(json_int_t)(H0 + (i + 1) * TV_HOUR_NS - 1), "bytes",
							(json_int_t)10));
	}
	return h;
}

static json_t *run(json_t **h, const char *kind)
{
	struct tv_trends_opts o = {.kind = kind, .by = "workload", .from = H0, .to = H0 + HOURS * TV_HOUR_NS};
	json_t *out = NULL;
	assert_int_equal(tv_trends_compute(&o, H0, h, HOURS, &out), 0);
	return out;
}

static void test_trends_find_what_was_planted(void **state)
{
	(void)state;
	json_t **h = month();
	json_t *r = run(h, "beacons");
	json_t *f = json_object_get(r, "findings");
	assert_int_equal(json_array_size(f), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "pair")),
			    "n1: jobs/job -> 203.0.113.7 tcp/443");
	json_t *scores = json_object_get(r, "scores");
	assert_int_equal(json_array_size(scores), 2);
	assert_true(json_real_value(json_object_get(json_array_get(scores, 1), "score")) < 0.7);
	json_decref(r);

	r = run(h, "anomalies");
	f = json_object_get(r, "findings");
	assert_int_equal(json_array_size(f), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "key")), "shop/api");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "hour")),
			    "2026-09-21T14:00:00.000000000Z");
	json_decref(r);

	r = run(h, "new-peers");
	f = json_object_get(r, "findings");
	assert_int_equal(json_array_size(f), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "dst")), "new/peer");
	json_decref(r);

	r = run(h, "long");
	f = json_object_get(r, "findings");
	assert_int_equal(json_array_size(f), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(f, 0), "duration_s")),
			 4 * 3600 - 1);
	json_decref(r);

	r = run(h, "top");
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(json_object_get(r, "series"), 0), "key")),
		"shop/api");
	json_decref(r);

	struct tv_trends_opts bad = {.kind = "top", .by = "colour", .from = H0, .to = H0 + TV_HOUR_NS};
	json_t *out;
	assert_int_equal(tv_trends_compute(&bad, H0, h, 1, &out), -EINVAL);
	bad.by = NULL;
	bad.kind = "new-peers";
	assert_int_equal(tv_trends_compute(&bad, H0, h, 1, &out), -EINVAL);
	for (size_t i = 0; i < HOURS; i++)
		json_decref(h[i]);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_refuses_what_trends_cannot_read),
		cmocka_unit_test(test_trends_find_what_was_planted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
