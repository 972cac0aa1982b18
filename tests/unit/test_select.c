/* SPDX-License-Identifier: Apache-2.0 */
/* select: a packet is kept when one end was, at the packet's time, a pod
 * matching every criterion (pod regex, namespaces, workloads); services,
 * nodes and unknown addresses never match; non-IP frames never match; a
 * bad regex is refused. */
#include <arpa/inet.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/events.h"
#include "archive/names.h"
#include "dissector/query/select.h"
#include "testutil.h"

#define LINKTYPE_RAW 101 /* an IP header first */

static struct tv_names *cluster(void)
{
	static const char *a1[] = {"10.1.0.5"}, *b1[] = {"10.1.0.6"}, *svc[] = {"10.96.0.1"};
	struct tv_k8s_object api = {.kind = "pod",
				    .name = "api-7f9c-x2",
				    .namespace_ = "shop",
				    .ips = a1,
				    .nips = 1,
				    .workload_kind = "Deployment",
				    .workload_name = "api"};
	struct tv_k8s_object db = {.kind = "pod",
				   .name = "db-0",
				   .namespace_ = "data",
				   .ips = b1,
				   .nips = 1,
				   .workload_kind = "StatefulSet",
				   .workload_name = "db"};
	struct tv_k8s_object s = {
		.kind = "service", .name = "api", .namespace_ = "shop", .ips = svc, .nips = 1};
	struct tv_names *n;
	assert_int_equal(tv_names_new(&n), 0);
	assert_int_equal(tv_names_add_object(n, &api), 0);
	assert_int_equal(tv_names_add_object(n, &db), 0);
	assert_int_equal(tv_names_add_object(n, &s), 0);
	return n;
}

/* A raw IPv4 frame (LINKTYPE_RAW) from src to dst, protocol proto. */
static struct tv_packet ipv4(uint8_t frame[40], const char *src, const char *dst, uint8_t proto)
{
	memset(frame, 0, 40);
	frame[0] = 0x45;
	frame[3] = 40;
	frame[8] = 64;
	frame[9] = proto;
	inet_pton(AF_INET, src, frame + 12);
	inet_pton(AF_INET, dst, frame + 16);
	return (struct tv_packet){.ts_ns = 10, .caplen = 40, .origlen = 40, .data = frame};
}

static bool keeps(const struct tv_select *s, const char *src, const char *dst)
{
	uint8_t f[40];
	struct tv_packet p = ipv4(f, src, dst, 1 /* ICMP too */);
	return tv_select_packet(s, LINKTYPE_RAW, &p);
}

static void test_criteria(void **state)
{
	(void)state;
	struct tv_names *n = cluster();
	struct tv_select s;
	assert_int_equal(tv_select_init(&s, "^api-", NULL, 0, NULL, 0), 0);
	s.names = n;
	assert_true(tv_select_active(&s));
	assert_true(keeps(&s, "10.1.0.5", "10.9.9.9"));   /* source */
	assert_true(keeps(&s, "10.1.0.6", "10.1.0.5"));   /* destination */
	assert_false(keeps(&s, "10.1.0.6", "10.96.0.1")); /* the service api is not a pod */
	assert_false(keeps(&s, "10.9.9.8", "10.9.9.9"));
	tv_select_cleanup(&s);

	const char *ns[] = {"data"}, *wl[] = {"StatefulSet/db"}, *wrong[] = {"deployment/db"},
		   *any[] = {"db"};
	assert_int_equal(tv_select_init(&s, NULL, ns, 1, wl, 1), 0);
	s.names = n;
	assert_true(keeps(&s, "10.1.0.5", "10.1.0.6"));
	tv_select_cleanup(&s);
	assert_int_equal(tv_select_init(&s, "^api", ns, 1, NULL, 0), 0); /* all criteria on one pod */
	s.names = n;
	assert_false(keeps(&s, "10.1.0.5", "10.1.0.6"));
	tv_select_cleanup(&s);
	assert_int_equal(tv_select_init(&s, NULL, NULL, 0, wrong, 1), 0);
	s.names = n;
	assert_false(keeps(&s, "10.1.0.5", "10.1.0.6"));
	tv_select_cleanup(&s);
	assert_int_equal(tv_select_init(&s, NULL, NULL, 0, any, 1), 0);
	s.names = n;
	assert_true(keeps(&s, "10.1.0.5", "10.1.0.6"));
	/* a frame that is not IP */
	uint8_t f[40];
	struct tv_packet p = ipv4(f, "10.1.0.6", "10.1.0.5", 6);
	f[0] = 0x00;
	assert_false(tv_select_packet(&s, LINKTYPE_RAW, &p));
	tv_select_cleanup(&s);

	assert_int_equal(tv_select_init(&s, NULL, NULL, 0, NULL, 0), 0);
	assert_false(tv_select_active(&s));
	assert_int_equal(tv_select_init(&s, "([", NULL, 0, NULL, 0), -EINVAL);
	assert_non_null(strstr(tv_errmsg(), "--pod"));
	tv_names_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_criteria),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
