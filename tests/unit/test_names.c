/* SPDX-License-Identifier: Apache-2.0 */
/* names: who an address is, from Kubernetes objects and from the events
 * files the agent writes: pods by their IPs (with their node), services by
 * their cluster IPs; the latest record wins; a deletion does not forget a
 * name; damaged events keep what came before the damage. */
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
	tv_buf_init(&b, 1 << 20);
	assert_int_equal(tv_read_file(path, &b), 0);
	struct tv_names *n;
	assert_int_equal(tv_names_new(&n), 0);
	assert_int_equal(tv_names_add_events(n, b.data, b.len, path), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_events_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
