/* SPDX-License-Identifier: Apache-2.0 */
/* procs: the process of each end of a flow, from the OS layer's records:
 * a TCP connection named on both ends until its close (a little slack for
 * its handshake and last packets), duplicates in later states dropped, a
 * tuple taken by another process ending the last holder, UDP sockets that
 * are not connected naming every peer until their cookie's close, the
 * container joined to its pod's status (name, pod), and records that name
 * no process or socket ignored. */
#include <arpa/inet.h>
#include <string.h>

#include "archive/procs.h"
#include "testutil.h"

#define S 1000000000ULL

static json_t *os_rec(const char *event, uint64_t ts, int pid, const char *comm, const char *proto,
		      const char *src, int sport, const char *dst, int dport)
{
	return json_pack("{s:s, s:I, s:s, s:i, s:s, s:I, s:{s:s, s:s, s:i, s:s, s:i}}", "type", "os", "ts",
			 (json_int_t)ts, "event", event, "pid", pid, "comm", comm, "cgroup_id", (json_int_t)1,
			 "flow", "proto", proto, "src", src, "sport", sport, "dst", dst, "dport", dport);
}

static void add(struct tv_procs *p, json_t *rec)
{
	assert_int_equal(tv_procs_add_record(p, rec), 0);
	json_decref(rec);
}

static const struct tv_proc *at(const struct tv_procs *p, uint8_t proto, const char *ip, int port,
				const char *peer, int peer_port, uint64_t ts)
{
	uint8_t a[16] = {0}, b[16] = {0};
	inet_pton(AF_INET, ip, a);
	inet_pton(AF_INET, peer, b);
	return tv_procs_lookup(p, proto, 4, a, (uint16_t)port, b, (uint16_t)peer_port, ts);
}

static void test_tcp_both_ends(void **state)
{
	(void)state;
	struct tv_procs *p;
	assert_int_equal(tv_procs_new(&p), 0);
	add(p, os_rec("connect", 100 * S, 10, "curl", "tcp", "10.0.0.1", 40000, "10.0.0.2", 80));
	add(p, os_rec("accept", 100 * S, 20, "nginx", "tcp", "10.0.0.2", 80, "10.0.0.1", 40000));
	add(p, os_rec("close", 110 * S, 10, "curl", "tcp", "10.0.0.1", 40000, "10.0.0.2", 80));
	/* the same socket in a later segment's state: not a second one */
	json_t *st = json_pack(
		"{s:s, s:I, s:[], s:[o]}", "type", "state", "ts", (json_int_t)(105 * S), "objects", "sockets",
		os_rec("accept", 100 * S, 20, "nginx", "tcp", "10.0.0.2", 80, "10.0.0.1", 40000));
	json_object_del(json_array_get(json_object_get(st, "sockets"), 0), "type");
	add(p, st);
	const struct tv_proc *c = at(p, 6, "10.0.0.1", 40000, "10.0.0.2", 80, 101 * S);
	assert_non_null(c);
	assert_int_equal(c->pid, 10);
	assert_string_equal(c->comm, "curl");
	assert_null(c->container_id);
	assert_string_equal(at(p, 6, "10.0.0.2", 80, "10.0.0.1", 40000, 101 * S)->comm, "nginx");
	/* the SYN before the connect record, the FIN after the close: within the slack */
	assert_non_null(at(p, 6, "10.0.0.1", 40000, "10.0.0.2", 80, 100 * S - S / 100));
	assert_non_null(at(p, 6, "10.0.0.1", 40000, "10.0.0.2", 80, 110 * S + S / 100));
	/* long after its close, another port, UDP: nobody */
	assert_null(at(p, 6, "10.0.0.1", 40000, "10.0.0.2", 80, 200 * S));
	assert_null(at(p, 6, "10.0.0.1", 40001, "10.0.0.2", 80, 101 * S));
	assert_null(at(p, 17, "10.0.0.1", 40000, "10.0.0.2", 80, 101 * S));
	assert_int_equal(tv_procs_count(p), 2);
	/* the tuple taken again by another process: each holds its own time */
	add(p, os_rec("connect", 300 * S, 11, "wget", "tcp", "10.0.0.1", 40000, "10.0.0.2", 80));
	assert_string_equal(at(p, 6, "10.0.0.1", 40000, "10.0.0.2", 80, 301 * S)->comm, "wget");
	assert_string_equal(at(p, 6, "10.0.0.1", 40000, "10.0.0.2", 80, 102 * S)->comm, "curl");
	tv_procs_free(p);
}

static void test_udp_and_containers(void **state)
{
	(void)state;
	struct tv_procs *p;
	assert_int_equal(tv_procs_new(&p), 0);
	const char *cid = "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1";
	json_t *srv = os_rec("udp", 50 * S, 30, "dnsmasq", "udp", "10.0.0.2", 53, "0.0.0.0", 0);
	json_object_set_new(srv, "socket", json_integer(7));
	json_object_set_new(srv, "container_id", json_string(cid));
	json_object_set_new(srv, "exe", json_string("/usr/sbin/dnsmasq"));
	add(p, srv);
	json_t *cl = os_rec("udp", 60 * S, 31, "dig", "udp", "10.0.0.1", 5000, "10.0.0.2", 53);
	json_object_set_new(cl, "socket", json_integer(8));
	add(p, cl);
	json_t *close = os_rec("close", 70 * S, 30, "dnsmasq", "udp", "0.0.0.0", 53, "0.0.0.0", 0);
	json_object_set_new(close, "socket", json_integer(7));
	add(p, close);
	add(p, json_pack("{s:s, s:I, s:s, s:{s:s, s:s, s:s, s:[], s:[], s:{}, s:s, s:[s], s:[s]}}", "type",
			 "k8s", "ts", (json_int_t)(40 * S), "action", "added", "object", "kind", "pod",
			 "name", "dns-0", "namespace", "kube-system", "ips", "ports", "labels", "uid", "u-1",
			 "containers",
			 "containerd://c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1",
			 "container_names", "dnsmasq"));
	/* not connected: any peer */
	const struct tv_proc *s = at(p, 17, "10.0.0.2", 53, "10.0.0.9", 33333, 61 * S);
	assert_non_null(s);
	assert_string_equal(s->comm, "dnsmasq");
	assert_string_equal(s->exe, "/usr/sbin/dnsmasq");
	assert_string_equal(s->container_id, cid);
	assert_string_equal(s->container, "dnsmasq");
	assert_string_equal(s->pod, "dns-0");
	assert_string_equal(s->pod_namespace, "kube-system");
	json_t *j = tv_proc_json(s);
	assert_string_equal(json_string_value(json_object_get(j, "container")), "dnsmasq");
	assert_int_equal(json_integer_value(json_object_get(j, "pid")), 30);
	json_decref(j);
	/* closed by its cookie */
	assert_null(at(p, 17, "10.0.0.2", 53, "10.0.0.9", 33333, 80 * S));
	/* connected: its peer only */
	assert_string_equal(at(p, 17, "10.0.0.1", 5000, "10.0.0.2", 53, 61 * S)->comm, "dig");
	assert_null(at(p, 17, "10.0.0.1", 5000, "10.0.0.3", 53, 61 * S));
	tv_procs_free(p);
}

static void test_ignored(void **state)
{
	(void)state;
	struct tv_procs *p;
	assert_int_equal(tv_procs_new(&p), 0);
	add(p, os_rec("accept", 1 * S, 0, "", "tcp", "10.0.0.2", 80, "10.0.0.1", 1)); /* nobody known */
	add(p, os_rec("exec", 1 * S, 5, "sh", "tcp", "10.0.0.2", 80, "10.0.0.1", 1));
	add(p, os_rec("connect", 1 * S, 5, "sh", "tcp", "not-an-ip", 80, "10.0.0.1", 1));
	add(p, json_pack("{s:s, s:I, s:s}", "type", "os", "ts", (json_int_t)1, "event", "connect"));
	add(p, json_pack("{s:s}", "type", "sync"));
	assert_int_equal(tv_procs_count(p), 0);
	assert_null(at(p, 6, "10.0.0.2", 80, "10.0.0.1", 1, 1 * S));
	tv_procs_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_both_ends),
		cmocka_unit_test(test_udp_and_containers),
		cmocka_unit_test(test_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
