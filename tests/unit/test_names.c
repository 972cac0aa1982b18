/* SPDX-License-Identifier: Apache-2.0 */
/* names: who an address is, from Kubernetes objects and from the events
 * files the agent writes: pods by their IPs (with their node), services by
 * their cluster IPs; the latest record wins; a deletion does not forget a
 * name; who held an address at each moment, whatever the files' order;
 * damaged events keep what came before the damage. */
#include <arpa/inet.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/events.h"
#include "archive/names.h"
#include "testutil.h"

static const struct tv_name *lookup4(const struct tv_names *n, const char *ip)
{
	uint8_t a[16] = {0};
	inet_pton(AF_INET, ip, a);
	return tv_names_lookup(n, 4, a);
}

/* Names from the events file at path, its bytes left in *b (to damage). */
static struct tv_names *names_of_file(const char *path, struct tv_buf *b)
{
	tv_buf_init(b, 1 << 20);
	assert_int_equal(tv_read_file(path, b), 0);
	struct tv_names *n;
	assert_int_equal(tv_names_new(&n), 0);
	assert_int_equal(tv_names_add_events(n, b->data, b->len, path), 0);
	return n;
}

static void test_objects(void **state)
{
	(void)state;
	struct tv_names *n;
	assert_int_equal(tv_names_new(&n), 0);
	const char *pod_ips[] = {"10.1.0.5", "fd00::5"}, *svc_ips[] = {"10.96.0.10"};
	struct tv_k8s_object pod = {.kind = "pod",
				    .name = "api-7f9c",
				    .namespace_ = "shop",
				    .node = "node-a",
				    .ips = pod_ips,
				    .nips = 2};
	struct tv_k8s_object svc = {
		.kind = "service", .name = "api", .namespace_ = "shop", .ips = svc_ips, .nips = 1};
	struct tv_k8s_object ns = {.kind = "namespace", .name = "shop"};
	assert_int_equal(tv_names_add_object(n, &pod), 0);
	assert_int_equal(tv_names_add_object(n, &svc), 0);
	assert_int_equal(tv_names_add_object(n, &ns), 0); /* names no address */
	const struct tv_name *p = lookup4(n, "10.1.0.5");
	assert_non_null(p);
	assert_string_equal(p->name, "api-7f9c");
	assert_string_equal(p->ns, "shop");
	assert_string_equal(p->node, "node-a");
	uint8_t a6[16];
	inet_pton(AF_INET6, "fd00::5", a6);
	assert_non_null(tv_names_lookup(n, 6, a6));
	const struct tv_name *s = lookup4(n, "10.96.0.10");
	assert_non_null(s);
	assert_string_equal(s->name, "api");
	assert_null(s->node);
	assert_null(lookup4(n, "10.1.0.6"));
	assert_null(tv_names_lookup(NULL, 4, a6));
	/* the latest record for an address wins */
	struct tv_k8s_object next = {
		.kind = "pod", .name = "api-new", .namespace_ = "shop", .ips = pod_ips, .nips = 1};
	assert_int_equal(tv_names_add_object(n, &next), 0);
	assert_string_equal(lookup4(n, "10.1.0.5")->name, "api-new");
	tv_names_free(n);
}

static void test_events_file(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	char path[256];
	snprintf(path, sizeof(path), "%s/e.events.jsonl.zst", dir);
	const char *ips[] = {"10.2.0.9"};
	struct tv_k8s_object pod = {
		.kind = "pod", .name = "web-1", .namespace_ = "front", .node = "n2", .ips = ips, .nips = 1};
	struct tv_events_writer *w;
	assert_int_equal(tv_events_writer_open(&w, path, 1700000000000000000ULL, &pod, 1, NULL, 0), 0);
	struct tv_k8s_object renamed = pod;
	renamed.name = "web-2";
	assert_int_equal(tv_events_write_k8s(w, 1700000001000000000ULL, TV_K8S_UPDATED, &renamed), 0);
	assert_int_equal(tv_events_write_k8s(w, 1700000002000000000ULL, TV_K8S_DELETED, &renamed), 0);
	assert_int_equal(tv_events_writer_close(w), 0);
	tv_events_writer_free(w);
	struct tv_buf b;
	struct tv_names *n = names_of_file(path, &b);
	/* updated, then deleted: the name stays (packets of its last moments come after) */
	assert_string_equal(lookup4(n, "10.2.0.9")->name, "web-2");
	assert_int_equal(tv_names_count(n), 1);
	/* damage: a flipped byte in the compressed stream is reported, not fatal */
	b.data[b.len / 2] ^= 0xff;
	struct tv_names *d;
	assert_int_equal(tv_names_new(&d), 0);
	assert_true(tv_names_add_events(d, b.data, b.len, path) < 0);
	assert_non_null(strstr(tv_errmsg(), path));
	tv_names_free(d);
	tv_names_free(n);
	tv_buf_cleanup(&b);
	tu_rmrf(dir);
}

static const struct tv_name *at4(const struct tv_names *n, const char *ip, uint64_t ts)
{
	uint8_t a[16] = {0};
	inet_pton(AF_INET, ip, a);
	return tv_names_lookup_at(n, 4, a, ts);
}

/* One events file per segment, handed over newest first: a pod deleted at
 * 200 and another taking its IP at 201 (Kubeshark #1524), a pod whose IP
 * changes, a host-network pod. */
static void test_who_held_it_when(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	const char *ip5[] = {"10.1.0.5"}, *ip6[] = {"10.1.0.6"}, *ip7[] = {"10.1.0.7"},
		   *node_ip[] = {"192.168.0.1"};
	struct tv_k8s_object old = {
		.kind = "pod", .name = "api-1", .namespace_ = "shop", .ips = ip5, .nips = 1};
	struct tv_k8s_object fresh = {
		.kind = "pod", .name = "api-2", .namespace_ = "shop", .ips = ip5, .nips = 1};
	struct tv_k8s_object mover = {
		.kind = "pod", .name = "db", .namespace_ = "shop", .ips = ip6, .nips = 1};
	struct tv_k8s_object moved = mover;
	moved.ips = ip7;
	struct tv_k8s_object proxy = {.kind = "pod",
				      .name = "kube-proxy",
				      .namespace_ = "kube-system",
				      .ips = node_ip,
				      .nips = 1,
				      .host_network = 1};
	struct tv_k8s_object first[] = {old, mover, proxy};
	char p1[256], p2[256];
	snprintf(p1, sizeof(p1), "%s/1.events.jsonl.zst", dir);
	snprintf(p2, sizeof(p2), "%s/2.events.jsonl.zst", dir);
	struct tv_events_writer *w;
	assert_int_equal(tv_events_writer_open(&w, p1, 100, first, 3, NULL, 0), 0);
	assert_int_equal(tv_events_write_k8s(w, 200, TV_K8S_DELETED, &old), 0);
	assert_int_equal(tv_events_writer_close(w), 0);
	tv_events_writer_free(w);
	struct tv_k8s_object second[] = {mover};
	assert_int_equal(tv_events_writer_open(&w, p2, 201, second, 1, NULL, 0), 0);
	assert_int_equal(tv_events_write_k8s(w, 201, TV_K8S_ADDED, &fresh), 0);
	assert_int_equal(tv_events_write_k8s(w, 300, TV_K8S_UPDATED, &moved), 0);
	assert_int_equal(tv_events_writer_close(w), 0);
	tv_events_writer_free(w);
	struct tv_names *n;
	assert_int_equal(tv_names_new(&n), 0);
	struct tv_buf b;
	tv_buf_init(&b, 1 << 20);
	const char *order[] = {p2, p1}; /* newest first: the order must not matter */
	for (int i = 0; i < 2; i++) {
		tv_buf_reset(&b);
		assert_int_equal(tv_read_file(order[i], &b), 0);
		assert_int_equal(tv_names_add_events(n, b.data, b.len, order[i]), 0);
	}
	assert_string_equal(at4(n, "10.1.0.5", 150)->name, "api-1");
	assert_string_equal(at4(n, "10.1.0.5", 200)->name, "api-1"); /* let go, not yet taken */
	assert_string_equal(at4(n, "10.1.0.5", 201)->name, "api-2");
	assert_string_equal(at4(n, "10.1.0.5", 50)->name, "api-1"); /* before any record: the first */
	assert_string_equal(lookup4(n, "10.1.0.5")->name, "api-2");
	assert_string_equal(at4(n, "10.1.0.6", 250)->name, "db");
	assert_string_equal(at4(n, "10.1.0.7", 350)->name, "db");
	assert_string_equal(at4(n, "10.1.0.6", 350)->name, "db"); /* let go at 300, nobody took it */
	assert_null(at4(n, "192.168.0.1", 150));                  /* the node's IP names no pod */
	tv_names_free(n);
	tv_buf_cleanup(&b);
	tu_rmrf(dir);
}

/* A node names its own addresses (where host-network pods are); an
 * EndpointSlice says which service a pod's address serves; a pod carries
 * its workload. */
static void test_nodes_services_workloads(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	const char *pod_ip[] = {"10.1.0.5"}, *node_ip[] = {"192.168.0.1"};
	struct tv_k8s_object pod = {.kind = "pod",
				    .name = "api-7f9c-x2",
				    .namespace_ = "shop",
				    .node = "node-a",
				    .ips = pod_ip,
				    .nips = 1,
				    .workload_kind = "Deployment",
				    .workload_name = "api"};
	struct tv_k8s_object node = {.kind = "node", .name = "node-a", .ips = node_ip, .nips = 1};
	struct tv_k8s_endpoint ep = {
		.ip = "10.1.0.5", .pod = "api-7f9c-x2", .pod_namespace = "shop", .ready = 1};
	struct tv_k8s_object slice = {.kind = "endpointslice",
				      .name = "api-abcde",
				      .namespace_ = "shop",
				      .service = "api",
				      .endpoints = &ep,
				      .nendpoints = 1};
	struct tv_k8s_object objs[] = {pod, node, slice};
	char path[256];
	snprintf(path, sizeof(path), "%s/e.events.jsonl.zst", dir);
	struct tv_events_writer *w;
	assert_int_equal(tv_events_writer_open(&w, path, 100, objs, 3, NULL, 0), 0);
	struct tv_k8s_object emptied = slice;
	emptied.nendpoints = 0; /* the pod stops serving at 200 */
	assert_int_equal(tv_events_write_k8s(w, 200, TV_K8S_UPDATED, &emptied), 0);
	assert_int_equal(tv_events_writer_close(w), 0);
	tv_events_writer_free(w);
	struct tv_buf b;
	struct tv_names *n = names_of_file(path, &b);
	const struct tv_name *p = at4(n, "10.1.0.5", 150);
	assert_string_equal(p->kind, "pod");
	assert_string_equal(p->workload, "api");
	assert_string_equal(p->workload_kind, "Deployment");
	const struct tv_name *nd = at4(n, "192.168.0.1", 150);
	assert_non_null(nd);
	assert_string_equal(nd->kind, "node");
	assert_string_equal(nd->name, "node-a");
	uint8_t a[16] = {0};
	inet_pton(AF_INET, "10.1.0.5", a);
	assert_string_equal(tv_names_service_at(n, 4, a, 150), "api");
	assert_null(tv_names_service_at(n, 4, a, 250)); /* the slice let it go at 200 */
	assert_string_equal(at4(n, "10.1.0.5", 250)->name, "api-7f9c-x2");
	tv_names_free(n);
	tv_buf_cleanup(&b);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_events_file),
		cmocka_unit_test(test_who_held_it_when),
		cmocka_unit_test(test_nodes_services_workloads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
