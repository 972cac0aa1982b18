/* SPDX-License-Identifier: Apache-2.0 */
/* Events file: state record first, K8s and OS records, schema validation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/events.h"
#include "testutil.h"

static void read_all(const char *path, struct tv_buf *b)
{
	tv_buf_init(b, 0);
	assert_int_equal(tv_read_file(path, b), 0);
}

static void test_round_trip(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	char path[160];
	snprintf(path, sizeof(path), "%s/e.events.jsonl.zst", dir);
	const char *ips[] = {"10.1.2.3"};
	struct tv_k8s_port ports[] = {{"http", 8080, "TCP"}};
	struct tv_label labels[] = {{"app", "web"}};
	const char *containers[] = {"containerd://4f1e"};
	struct tv_k8s_object pod = {.kind = "pod",
				    .name = "web-1",
				    .namespace_ = "shop",
				    .node = "node-a",
				    .ips = ips,
				    .nips = 1,
				    .ports = ports,
				    .nports = 1,
				    .labels = labels,
				    .nlabels = 1,
				    .uid = "u-1",
				    .workload_kind = "Deployment",
				    .workload_name = "web",
				    .phase = "Running",
				    .containers = containers,
				    .ncontainers = 1};
	struct tv_k8s_endpoint eps[] = {{"10.1.2.3", "web-1", "shop", 1}, {"10.1.2.9", NULL, NULL, -1}};
	struct tv_k8s_object slice = {.kind = "endpointslice",
				      .name = "web-abc",
				      .namespace_ = "shop",
				      .service = "web",
				      .endpoints = eps,
				      .nendpoints = 2};
	struct tv_os_event sock = {.ts_ns = 5,
				   .event = "connect",
				   .pid = 42,
				   .comm = "curl",
				   .cgroup_id = 99,
				   .container_id = "abc123"};
	assert_int_equal(tv_flow_key_from_string("tcp 10.1.2.3:5000 > 10.1.2.4:80", &sock.flow), 0);
	struct tv_events_writer *w;
	assert_int_equal(tv_events_writer_open(&w, path, 1000, &pod, 1, &sock, 1), 0);
	assert_int_equal(tv_events_write_k8s(w, 2000, TV_K8S_DELETED, &pod), 0);
	assert_int_equal(tv_events_write_k8s_seen(w, 2001, TV_K8S_ADDED, &slice, true), 0);
	struct tv_k8s_sync sync = {2002, 1500, 2002, "pods", "relist"};
	assert_int_equal(tv_events_write_sync(w, &sync), 0);
	for (int i = 0; i < 5000; i++) { /* enough to span several frames */
		sock.ts_ns = 3000 + (uint64_t)i;
		assert_int_equal(tv_events_write_os(w, &sock), 0);
	}
	assert_int_equal(tv_events_writer_close(w), 0);
	tv_events_writer_free(w);

	struct tv_buf b;
	read_all(path, &b);
	struct tv_events_reader *r;
	assert_int_equal(tv_events_reader_open(&r, b.data, b.len, path), 0);
	json_t *rec;
	assert_int_equal(tv_events_reader_next(r, &rec), 1);
	assert_string_equal(json_string_value(json_object_get(rec, "type")), "state");
	json_t *obj = json_array_get(json_object_get(rec, "objects"), 0);
	assert_string_equal(json_string_value(json_object_get(obj, "namespace")), "shop");
	assert_string_equal(json_string_value(json_object_get(json_object_get(obj, "labels"), "app")), "web");
	json_t *s0 = json_array_get(json_object_get(rec, "sockets"), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(s0, "flow"), "dst")),
			    "10.1.2.4");
	assert_string_equal(json_string_value(json_object_get(json_object_get(obj, "workload"), "name")),
			    "web");
	assert_string_equal(json_string_value(json_array_get(json_object_get(obj, "containers"), 0)),
			    "containerd://4f1e");
	assert_null(json_object_get(obj, "host_network")); /* only when true */
	json_decref(rec);
	assert_int_equal(tv_events_reader_next(r, &rec), 1);
	assert_string_equal(json_string_value(json_object_get(rec, "action")), "deleted");
	json_decref(rec);
	assert_int_equal(tv_events_reader_next(r, &rec), 1);
	assert_true(json_is_true(json_object_get(rec, "at_relist")));
	json_t *e1 = json_array_get(json_object_get(json_object_get(rec, "object"), "endpoints"), 1);
	assert_string_equal(json_string_value(json_object_get(e1, "ip")), "10.1.2.9");
	assert_null(json_object_get(e1, "pod"));
	assert_null(json_object_get(e1, "ready"));
	json_decref(rec);
	assert_int_equal(tv_events_reader_next(r, &rec), 1);
	assert_string_equal(json_string_value(json_object_get(rec, "type")), "sync");
	assert_int_equal(json_integer_value(json_object_get(rec, "from")), 1500);
	assert_string_equal(json_string_value(json_object_get(rec, "why")), "relist");
	json_decref(rec);
	int n = 0;
	int rc;
	while ((rc = tv_events_reader_next(r, &rec)) == 1) {
		assert_string_equal(json_string_value(json_object_get(rec, "comm")), "curl");
		assert_int_equal(json_integer_value(json_object_get(rec, "ts")), 3000 + n);
		json_decref(rec);
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 5000);
	tv_events_reader_free(r);
	tv_buf_cleanup(&b);
	tu_rmrf(dir);
}

/* Compresses text as one zstd frame into b. */
static void zframe(const char *text, struct tv_buf *b)
{
	tv_buf_init(b, 0);
	size_t n = strlen(text), bound = ZSTD_compressBound(n);
	assert_int_equal(tv_buf_reserve(b, bound), 0);
	b->len = ZSTD_compress(b->data, bound, text, n, 1);
	assert_false(ZSTD_isError(b->len));
}

static int read_status(const char *text)
{
	struct tv_buf b;
	zframe(text, &b);
	struct tv_events_reader *r;
	assert_int_equal(tv_events_reader_open(&r, b.data, b.len, "t"), 0);
	json_t *rec;
	int rc;
	while ((rc = tv_events_reader_next(r, &rec)) == 1)
		json_decref(rec);
	tv_events_reader_free(r);
	tv_buf_cleanup(&b);
	return rc;
}

static void test_schema_is_enforced(void **state)
{
	(void)state;
	const char *state_line = "{\"type\":\"state\",\"ts\":1,\"objects\":[],\"sockets\":[]}\n";
	char buf[512];
	assert_int_equal(read_status(state_line), 0);
	assert_int_equal(read_status(""), TV_ECORRUPT); /* no state record */
	assert_int_equal(read_status("{\"type\":\"os\",\"ts\":1,\"event\":\"x\",\"pid\":1,\"comm\":\"c\","
				     "\"cgroup_id\":1}\n"),
			 TV_ECORRUPT); /* state must come first */
	snprintf(buf, sizeof(buf), "%s{\"type\":\"k8s\",\"ts\":2,\"action\":\"exploded\",\"object\":{}}\n",
		 state_line);
	assert_int_equal(read_status(buf), TV_ECORRUPT);
	snprintf(buf, sizeof(buf), "%s{\"type\":\"os\",\"ts\":\"soon\"}\n", state_line);
	assert_int_equal(read_status(buf), TV_ECORRUPT);
	snprintf(buf, sizeof(buf), "%s{not json\n", state_line);
	assert_int_equal(read_status(buf), TV_ECORRUPT);
	snprintf(buf, sizeof(buf), "%s{\"type\":\"os\"", state_line); /* torn last line */
	assert_int_equal(read_status(buf), TV_ETRUNC);
	/* garbage instead of zstd */
	struct tv_events_reader *r;
	assert_int_equal(tv_events_reader_open(&r, (const uint8_t *)"garbage!", 8, "g"), 0);
	json_t *rec;
	assert_int_equal(tv_events_reader_next(r, &rec), TV_ECORRUPT);
	assert_non_null(strstr(tv_errmsg(), "zstd"));
	tv_events_reader_free(r);
}

static void test_decompression_bomb_is_bounded(void **state)
{
	(void)state;
	/* 64 MiB of one never-ending line compresses to a few KiB */
	size_t n = (size_t)64 << 20;
	char *big = malloc(n + 1);
	memset(big, 'a', n);
	big[n] = '\0';
	assert_int_equal(read_status(big), TV_ECORRUPT);
	assert_non_null(strstr(tv_errmsg(), "longer than"));
	free(big);
}

/* A cluster's state (5,000 pods) and a busy node's live sockets (20,000)
 * span several state records, each a line under the limit; their union is
 * every object and every socket. Built records are validated. */
static void test_large_state(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	char path[160];
	snprintf(path, sizeof(path), "%s/big.events.jsonl.zst", dir);
	json_t *objs = json_array();
	for (int i = 0; i < 5000; i++) {
		char name[32], ip[32];
		snprintf(name, sizeof(name), "pod-%d", i);
		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 256, i % 256);
		const char *ips[] = {ip};
		struct tv_label labels[] = {{"app", "a-very-long-application-label-value-for-size"}};
		struct tv_k8s_object o = {.kind = "pod",
					  .name = name,
					  .namespace_ = "shop",
					  .ips = ips,
					  .nips = 1,
					  .labels = labels,
					  .nlabels = 1,
					  .uid = "0123456789abcdef0123456789abcdef"};
		json_array_append_new(objs, tv_events_object_json(&o));
	}
	struct tv_buf socks, line;
	tv_buf_init(&socks, 0);
	tv_buf_init(&line, 0);
	for (int i = 0; i < 20000; i++) { /* SOCKET text, one per line, as the agent keeps them */
		struct tv_os_event e = {.ts_ns = (uint64_t)i,
					.event = "connect",
					.pid = (uint32_t)(100 + i),
					.comm = "curl",
					.cgroup_id = 7};
		e.flow = (struct tv_flow_key){
			.family = 4, .proto = 6, .sport = (uint16_t)(1024 + i % 60000), .dport = 80};
		memcpy(e.flow.src, (uint8_t[]){10, 1, 0, 1}, 4);
		memcpy(e.flow.dst, (uint8_t[]){10, 1, 0, 2}, 4);
		size_t body;
		tv_buf_reset(&line);
		assert_int_equal(tv_events_format_os(&e, &line, &body), 0);
		tv_buf_put_u8(&socks, '{');
		tv_buf_append(&socks, line.data + body, line.len - body);
	}
	tv_buf_cleanup(&line);
	struct tv_events_writer *w;
	assert_int_equal(tv_events_writer_open_state(&w, path, 7, objs, &socks), 0);
	assert_int_equal(
		tv_events_write_json(w, json_pack("{s:s, s:I, s:I, s:I, s:s, s:s}", "type", "sync", "ts", 8,
						  "from", 7, "to", 8, "resource", "pods", "why", "start")),
		0);
	assert_int_equal(tv_events_write_json(w, json_pack("{s:s, s:I}", "type", "bogus", "ts", 9)), -EINVAL);
	assert_int_equal(
		tv_events_write_json(w, json_pack("{s:s, s:I, s:I, s:I, s:s, s:s}", "type", "sync", "ts", 9,
						  "from", 9, "to", 8, "resource", "pods", "why", "relist")),
		-EINVAL); /* ends before it starts */
	assert_int_equal(tv_events_writer_close(w), 0);
	tv_events_writer_free(w);
	struct tv_buf b;
	read_all(path, &b);
	struct tv_events_reader *r;
	assert_int_equal(tv_events_reader_open(&r, b.data, b.len, path), 0);
	json_t *rec;
	size_t objects = 0, states = 0, sockets = 0;
	while (tv_events_reader_next(r, &rec) == 1) {
		const char *type = json_string_value(json_object_get(rec, "type"));
		if (!strcmp(type, "state")) {
			assert_true(states == 0 ? !json_object_get(rec, "continued")
						: json_is_true(json_object_get(rec, "continued")));
			objects += json_array_size(json_object_get(rec, "objects"));
			json_t *sk = json_array_get(json_object_get(rec, "sockets"), 0);
			if (sk && !sockets)
				assert_int_equal(json_integer_value(json_object_get(sk, "pid")), 100);
			sockets += json_array_size(json_object_get(rec, "sockets"));
			states++;
		} else {
			assert_string_equal(type, "sync");
		}
		json_decref(rec);
	}
	assert_int_equal(objects, 5000);
	assert_int_equal(sockets, 20000);
	assert_true(states >=
		    6); /* ~1.3 MB of objects and ~2.5 MB of sockets in records of at most 512 KiB */
	tv_events_reader_free(r);
	tv_buf_cleanup(&b);
	json_decref(objs);
	tv_buf_cleanup(&socks);
	tu_rmrf(dir);
}

/* The text form of an os record is a valid record with every optional
 * field; a comm or path of any bytes (quotes, backslashes, control and
 * non-UTF-8 bytes) still makes valid JSON that passes the schema. */
static void test_os_text_form(void **state)
{
	(void)state;
	struct tv_os_event e = {.ts_ns = 5,
				.event = "udp",
				.pid = 9,
				.tid = 11,
				.comm = "we\"ird\\\x01\xff",
				.exe = "/usr/bin/dig",
				.cgroup_id = 3,
				.container_id = "c1",
				.pod_uid = "u1",
				.netns = 4026531840u,
				.socket = 77};
	e.flow = (struct tv_flow_key){.family = 4, .proto = 17, .sport = 5353, .dport = 0};
	memcpy(e.flow.src, (uint8_t[]){10, 0, 0, 2}, 4);
	struct tv_buf b;
	tv_buf_init(&b, 0);
	size_t body;
	assert_int_equal(tv_events_format_os(&e, &b, &body), 0);
	assert_int_equal(b.data[b.len - 1], '\n');
	json_error_t err;
	json_t *j = json_loadb((const char *)b.data, b.len - 1, 0, &err);
	assert_non_null(j);
	char why[160];
	assert_int_equal(tv_events_validate(j, why, sizeof(why)), 0);
	assert_string_equal(json_string_value(json_object_get(j, "comm")), "we\"ird\\??");
	assert_int_equal(json_integer_value(json_object_get(j, "tid")), 11);
	assert_int_equal(json_integer_value(json_object_get(j, "socket")), 77);
	assert_int_equal(json_integer_value(json_object_get(j, "netns")), 4026531840u);
	assert_string_equal(json_string_value(json_object_get(j, "pod_uid")), "u1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "flow"), "proto")), "udp");
	assert_memory_equal(b.data + body, "\"ts\":5,", 7); /* the body: a SOCKET after "{" */
	json_decref(j);
	tv_buf_cleanup(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_schema_is_enforced),
		cmocka_unit_test(test_decompression_bomb_is_bounded),
		cmocka_unit_test(test_large_state),
		cmocka_unit_test(test_os_text_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
