/* SPDX-License-Identifier: Apache-2.0 */
/* k8s_api: API objects as the API server returns them (the shapes of
 * tests/k8s/fixtures, which kubernetes-models validates) into event objects:
 * a Deployment's pod named by its Deployment, a host-network pod, container
 * ids, a LoadBalancer service, an EndpointSlice with its target pods and
 * readiness, a node's addresses and pod CIDRs; kinds not kept, and objects
 * without what they need. */
#include <string.h>

#include "archive/common/err.h"
#include "archive/k8s_api.h"
#include "testutil.h"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	assert_non_null(j);
	return j;
}

static void test_pod(void **state)
{
	(void)state;
	json_t *j = parse(
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-5d2a9-x1\",\"namespace\":\"shop\",\"uid\":"
		"\"u1\","
		"\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"5d2a9\"},\"managedFields\":[{}],"
		"\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"web-5d2a9\",\"controller\":true}]},"
		"\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":"
		"80}]}]},"
		"\"status\":{\"phase\":\"Running\",\"qosClass\":\"Burstable\",\"podIP\":\"10.244.1.5\","
		"\"podIPs\":[{\"ip\":\"10.244.1.5\"},{\"ip\":\"fd00::5\"}],"
		"\"initContainerStatuses\":[{\"containerID\":\"containerd://init\"}],"
		"\"containerStatuses\":[{\"containerID\":\"containerd://main\"},{\"name\":\"waiting\"}]}}");
	struct tv_k8s_api_object o;
	assert_int_equal(tv_k8s_from_api(j, &o), 0);
	assert_string_equal(o.o.kind, "pod");
	assert_string_equal(o.o.uid, "u1");
	assert_string_equal(o.o.workload_kind, "Deployment");
	assert_string_equal(o.o.workload_name, "web");
	assert_int_equal(o.o.host_network, 0);
	assert_string_equal(o.o.phase, "Running");
	assert_string_equal(o.o.qos, "Burstable");
	assert_int_equal(o.o.nips, 2); /* podIP repeats podIPs[0] */
	assert_int_equal(o.o.ncontainers, 2);
	assert_string_equal(o.o.containers[0], "containerd://init");
	assert_string_equal(o.o.containers[1], "containerd://main");
	tv_k8s_api_object_cleanup(&o);
	json_decref(j);

	/* a ReplicaSet whose name does not end in the hash keeps its own name; host network */
	j = parse("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"kube-system\","
		  "\"ownerReferences\":[{\"kind\":\"DaemonSet\",\"name\":\"kube-proxy\",\"controller\":true},"
		  "{\"kind\":\"Other\",\"name\":\"x\"}]},"
		  "\"spec\":{\"hostNetwork\":true,\"nodeName\":\"n1\"},\"status\":{\"podIP\":\"192.168.7."
		  "11\"}}");
	assert_int_equal(tv_k8s_from_api(j, &o), 0);
	assert_string_equal(o.o.workload_kind, "DaemonSet");
	assert_string_equal(o.o.workload_name, "kube-proxy");
	assert_int_equal(o.o.host_network, 1);
	tv_k8s_api_object_cleanup(&o);
	json_decref(j);
}

static void test_service_slice_node(void **state)
{
	(void)state;
	struct tv_k8s_api_object o;
	json_t *j = parse(
		"{\"kind\":\"Service\",\"metadata\":{\"name\":\"api\",\"namespace\":\"shop\"},"
		"\"spec\":{\"type\":\"LoadBalancer\",\"clusterIP\":\"10.96.0.20\",\"externalIPs\":[\"1.2.3."
		"4\"],"
		"\"ports\":[{\"port\":80}]},\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"5.6.7.8\"},"
		"{\"hostname\":\"lb.example\"}]}}}");
	assert_int_equal(tv_k8s_from_api(j, &o), 0);
	assert_string_equal(o.o.service_type, "LoadBalancer");
	assert_int_equal(o.o.nexternal_ips, 2);
	assert_string_equal(o.o.external_ips[1], "5.6.7.8");
	tv_k8s_api_object_cleanup(&o);
	json_decref(j);

	j = parse("{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"api-x\",\"namespace\":\"shop\","
		  "\"labels\":{\"kubernetes.io/service-name\":\"api\"}},\"addressType\":\"IPv4\","
		  "\"endpoints\":[{\"addresses\":[\"10.244.2.7\"],\"conditions\":{\"ready\":false},"
		  "\"targetRef\":{\"kind\":\"Pod\",\"name\":\"api-1\"}},{\"addresses\":[\"10.9.9.9\"]}],"
		  "\"ports\":[{\"port\":8080,\"protocol\":\"TCP\"}]}");
	assert_int_equal(tv_k8s_from_api(j, &o), 0);
	assert_string_equal(o.o.kind, "endpointslice");
	assert_string_equal(o.o.service, "api");
	assert_int_equal(o.o.nendpoints, 2);
	assert_string_equal(o.o.endpoints[0].pod, "api-1");
	assert_string_equal(o.o.endpoints[0].pod_namespace, "shop"); /* the slice's namespace */
	assert_int_equal(o.o.endpoints[0].ready, 0);
	assert_null(o.o.endpoints[1].pod);
	assert_int_equal(o.o.endpoints[1].ready, -1);
	assert_int_equal(o.o.nports, 1);
	tv_k8s_api_object_cleanup(&o);
	json_decref(j);

	j = parse(
		"{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\"},\"spec\":{\"podCIDR\":\"10.244.1.0/24\"},"
		"\"status\":{\"addresses\":[{\"type\":\"Hostname\",\"address\":\"n1\"},"
		"{\"type\":\"InternalIP\",\"address\":\"192.168.7.11\"}]}}");
	assert_int_equal(tv_k8s_from_api(j, &o), 0);
	assert_string_equal(o.o.kind, "node");
	assert_null(o.o.namespace_);
	assert_int_equal(o.o.nips, 1);
	assert_string_equal(o.o.ips[0], "192.168.7.11");
	assert_int_equal(o.o.npod_cidrs, 1);
	tv_k8s_api_object_cleanup(&o);
	json_decref(j);
}

static void test_refused(void **state)
{
	(void)state;
	struct tv_k8s_api_object o;
	json_t *j = parse("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\",\"namespace\":\"y\"}}");
	assert_int_equal(tv_k8s_from_api(j, &o), -ENOENT);
	json_decref(j);
	j = parse("{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"x\"}}");
	assert_int_equal(tv_k8s_from_api(j, &o), -EINVAL);
	json_decref(j);
	j = parse("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\",\"namespace\":\"y\"},"
		  "\"spec\":{\"hostNetwork\":\"yes\",\"containers\":7},\"status\":{\"podIPs\":[1,{\"ip\":2}]}"
		  "}");
	assert_int_equal(tv_k8s_from_api(j, &o), 0); /* odd types are ignored, not trusted */
	assert_int_equal(o.o.host_network, 0);
	assert_int_equal(o.o.nips, 0);
	tv_k8s_api_object_cleanup(&o);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pod),
		cmocka_unit_test(test_service_slice_node),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
