/* SPDX-License-Identifier: Apache-2.0 */
/* scope: which interfaces the agent captures. A fake node: routed pods on
 * their own veths, two bridged pods on br0's ports, a host-network pod, an
 * address routed out of eth0. Without a filter, auto takes every veth that is
 * up; with tap.namespaces only the in-scope pods' veths, and the bridge's
 * ports with a BPF filter of the in-scope addresses; excluded namespaces win;
 * tap.regex matches pod names; listed interfaces get the BPF filter ("less
 * 1" when no pod is in scope); the user's filter is ANDed; no API: every
 * veth, said so; plans compare equal only when the same. */
#include <arpa/inet.h>
#include <string.h>

#include "archive/common/err.h"
#include "nodeagent/scope.h"
#include "testutil.h"

static const struct tv_link_info links[] = {
	{.ifindex = 1, .name = "lo", .up = true},
	{.ifindex = 2, .name = "eth0", .up = true},
	{.ifindex = 3, .name = "cali-a1", .kind = "veth", .up = true},
	{.ifindex = 4, .name = "cali-b1", .kind = "veth", .up = true},
	{.ifindex = 5, .name = "br0", .kind = "bridge", .up = true},
	{.ifindex = 6, .name = "vb-a2", .kind = "veth", .master = 5, .up = true},
	{.ifindex = 7, .name = "vb-b2", .kind = "veth", .master = 5, .up = true},
	{.ifindex = 8, .name = "cali-down", .kind = "veth", .up = false},
};

static uint32_t route_oif(void *ctx, uint8_t family, const uint8_t addr[16])
{
	(void)ctx;
	if (family != 4)
		return 0;
	if (addr[0] == 10 && addr[1] == 1 && addr[2] == 0)
		return addr[3] == 1 ? 3 : addr[3] == 2 ? 4 : 0; /* /32 routes of a routed CNI */
	if (addr[0] == 10 && addr[1] == 2)
		return 5; /* the bridge's subnet */
	return 2;         /* the default route */
}

static const struct tv_link_info *all_links(void *ctx, size_t *n)
{
	(void)ctx;
	*n = sizeof(links) / sizeof(links[0]);
	return links;
}

static const struct tv_scope_view view = {route_oif, all_links, NULL};

static json_t *pods(void)
{
	return json_pack("[{s:s,s:s,s:[s]}, {s:s,s:s,s:[s]}, {s:s,s:s,s:[s]}, {s:s,s:s,s:[s]},"
			 " {s:s,s:s,s:[s],s:b}, {s:s,s:s,s:[s]}]",
			 "name", "a1", "namespace", "a", "ips", "10.1.0.1", "name", "b1", "namespace", "b",
			 "ips", "10.1.0.2", "name", "a2", "namespace", "a", "ips", "10.2.0.7", "name", "b2",
			 "namespace", "b", "ips", "10.2.0.8", "name", "proxy", "namespace", "a", "ips",
			 "192.168.0.5", "host_network", 1, "name", "far", "namespace", "a", "ips",
			 "10.9.9.9");
}

static const char *want(const struct tv_scope_plan *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].name, name))
			return p->v[i].filter ? p->v[i].filter : "(none)";
	return NULL;
}

static struct tv_scope *scope(const char *regex, const char *const *ns, size_t nns, const char *const *ex,
			      size_t nex)
{
	struct tv_scope_rule r = {regex, ns, nns, ex, nex};
	struct tv_scope *s;
	assert_int_equal(tv_scope_new(&s, &r), 0);
	return s;
}

static void test_auto_without_filter(void **state)
{
	(void)state;
	struct tv_scope *s = scope(".*", NULL, 0, NULL, 0);
	assert_false(tv_scope_filtering(s));
	json_t *p = pods();
	struct tv_scope_input in = {.auto_interfaces = true, .pods = p, .view = &view};
	struct tv_scope_plan plan;
	assert_int_equal(tv_scope_plan(s, &in, &plan), 0);
	assert_int_equal(plan.n, 4); /* every veth that is up, bridged ones too */
	assert_string_equal(plan.v[0].name, "cali-a1");
	assert_string_equal(want(&plan, "vb-b2"), "(none)");
	assert_null(want(&plan, "br0"));
	assert_null(want(&plan, "cali-down"));
	assert_int_equal(plan.pods_matched, 5); /* the host-network pod is not one */
	assert_string_equal(json_string_value(json_object_get(plan.record, "scope")), "everything");
	tv_scope_plan_cleanup(&plan);
	json_decref(p);
	tv_scope_free(s);
}

static void test_auto_with_namespaces(void **state)
{
	(void)state;
	const char *ns[] = {"a", "c"}, *ex[] = {"c"};
	struct tv_scope *s = scope(NULL, ns, 2, ex, 1);
	assert_true(tv_scope_filtering(s));
	json_t *p = pods();
	json_array_append_new(
		p, json_pack("{s:s,s:s,s:[s]}", "name", "c1", "namespace", "c", "ips", "10.1.0.3"));
	struct tv_scope_input in = {.auto_interfaces = true, .pods = p, .view = &view, .user_filter = "tcp"};
	struct tv_scope_plan plan;
	assert_int_equal(tv_scope_plan(s, &in, &plan), 0);
	assert_string_equal(want(&plan, "cali-a1"), "tcp");
	assert_null(want(&plan, "cali-b1")); /* namespace b */
	/* the bridge's ports: only a2's address, and the user's filter */
	assert_string_equal(want(&plan, "vb-a2"), "(tcp) and (host 10.2.0.7)");
	assert_string_equal(want(&plan, "vb-b2"), "(tcp) and (host 10.2.0.7)");
	assert_int_equal(plan.n, 3);
	assert_int_equal(plan.pods_matched,
			 2); /* a1, a2; "far" has no interface here, proxy is host-network */
	json_t *unresolved = json_object_get(plan.record, "unresolved");
	assert_int_equal(json_array_size(unresolved), 1);
	assert_string_equal(json_string_value(json_array_get(unresolved, 0)), "a/far");
	struct tv_scope_plan again;
	assert_int_equal(tv_scope_plan(s, &in, &again), 0);
	assert_true(tv_scope_plan_equal(&plan, &again));
	tv_scope_plan_cleanup(&again);
	/* a pod moves into scope: another plan */
	json_object_set_new(json_array_get(p, 1), "namespace", json_string("a"));
	assert_int_equal(tv_scope_plan(s, &in, &again), 0);
	assert_false(tv_scope_plan_equal(&plan, &again));
	assert_false(tv_scope_plan_same_interfaces(&plan, &again));
	assert_string_equal(want(&again, "cali-b1"), "tcp");
	tv_scope_plan_cleanup(&again);
	tv_scope_plan_cleanup(&plan);
	json_decref(p);
	tv_scope_free(s);
}

static void test_regex_and_listed(void **state)
{
	(void)state;
	struct tv_scope *s = scope("^b", NULL, 0, NULL, 0);
	json_t *p = pods();
	const char *listed[] = {"eth0", "br0"};
	struct tv_scope_input in = {.listed = listed, .nlisted = 2, .pods = p, .view = &view};
	struct tv_scope_plan plan;
	assert_int_equal(tv_scope_plan(s, &in, &plan), 0);
	assert_int_equal(plan.n, 2);
	assert_string_equal(plan.v[0].name, "eth0"); /* listed order kept */
	assert_string_equal(want(&plan, "br0"), "host 10.1.0.2 or host 10.2.0.8");
	tv_scope_plan_cleanup(&plan);
	tv_scope_free(s);
	s = scope("^nobody$", NULL, 0, NULL, 0);
	assert_int_equal(tv_scope_plan(s, &in, &plan), 0);
	assert_string_equal(want(&plan, "eth0"), "less 1");
	assert_int_equal(plan.pods_matched, 0);
	tv_scope_plan_cleanup(&plan);
	/* no Kubernetes API: the filter cannot be applied, and the record says so */
	in.pods = NULL;
	assert_int_equal(tv_scope_plan(s, &in, &plan), 0);
	assert_string_equal(want(&plan, "eth0"), "(none)");
	assert_non_null(strstr(json_string_value(json_object_get(plan.record, "scope")), "not applied"));
	tv_scope_plan_cleanup(&plan);
	tv_scope_free(s);
	json_decref(p);
	struct tv_scope_rule bad = {.regex = "(["};
	assert_int_equal(tv_scope_new(&s, &bad), -EINVAL);
	assert_non_null(strstr(tv_errmsg(), "tap.regex"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auto_without_filter),
		cmocka_unit_test(test_auto_with_namespaces),
		cmocka_unit_test(test_regex_and_listed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
