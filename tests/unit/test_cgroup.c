/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup paths as the kubelet (systemd and cgroupfs drivers) and the
 * runtimes (containerd, CRI-O, docker) name them, and what is refused. */
#include <string.h>

#include "archive/cgroup_path.h"
#include "testutil.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
#define UID_ "1b4e28ba_2fa1_11d2_883f_0016d3cca427"

static void expect(const char *path, const char *runtime, const char *id, const char *qos)
{
	struct tv_cgroup_info ci;
	assert_true(tv_cgroup_parse(path, strlen(path), &ci));
	assert_string_equal(ci.pod_uid, UID);
	assert_string_equal(ci.runtime, runtime);
	assert_string_equal(ci.container_id, id);
	assert_string_equal(ci.qos, qos);
}

static void refuse(const char *path)
{
	struct tv_cgroup_info ci;
	assert_false(tv_cgroup_parse(path, strlen(path), &ci));
	assert_string_equal(ci.pod_uid, "");
	assert_string_equal(ci.container_id, "");
}

static void test_systemd_driver(void **state)
{
	(void)state;
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	       ".slice/cri-containerd-" ID ".scope",
	       "containerd", ID, "burstable");
	expect("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/crio-" ID
	       ".scope",
	       "cri-o", ID, "besteffort");
	/* Guaranteed pods sit directly under kubepods.slice */
	expect("/kubepods.slice/kubepods-pod" UID_ ".slice/docker-" ID ".scope", "docker", ID, "guaranteed");
	/* the pod's own cgroup (a process in it, or the pause sandbox's parent) */
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice", "", "",
	       "burstable");
	/* below a node-level slice */
	expect("/system.slice/node.slice/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID
	       ".scope",
	       "containerd", ID, "guaranteed");
}

static void test_cgroupfs_driver(void **state)
{
	(void)state;
	expect("/kubepods/burstable/pod" UID "/" ID, "", ID, "burstable");
	expect("/kubepods/besteffort/pod" UID "/" ID, "", ID, "besteffort");
	expect("/kubepods/pod" UID "/" ID, "", ID, "guaranteed");
	expect("kubepods/pod" UID "/", "", "", "guaranteed");
}

static void test_refused(void **state)
{
	(void)state;
	refuse("/");
	refuse("");
	refuse("/system.slice/docker-" ID ".scope");                                 /* not a pod */
	refuse("/user.slice/user-0.slice/session-1.scope");                          /* not a pod */
	refuse("/kubepods.slice/kubepods-burstable.slice");                          /* QoS level only */
	refuse("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID /* dashes in systemd */
	       ".slice");
	refuse("/kubepods/burstable/pod" UID_ "/" ID);    /* underscores in cgroupfs */
	refuse("/kubepods/burstable/pod" UID "/" ID "0"); /* 65 hex digits */
	refuse("/kubepods/burstable/pod" UID
	       "/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef");
	refuse("/kubepods.slice/kubepods-pod" UID_ ".slice/crio-conmon-" ID ".scope"); /* CRI-O's monitor */
	refuse("/kubepods/burstable/pod" UID "/" ID "/extra"); /* deeper than a container */
	refuse("/kubepods.slice/kubepods-burstable.slice/kubepods-besteffort-pod" UID_
	       ".slice"); /* QoS mismatch */
	/* a path not NUL-terminated at its length */
	const char *p = "/kubepods/pod" UID "/" ID "trailing";
	struct tv_cgroup_info ci;
	assert_true(tv_cgroup_parse(p, strlen(p) - strlen("trailing"), &ci));
	assert_string_equal(ci.container_id, ID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_systemd_driver),
		cmocka_unit_test(test_cgroupfs_driver),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
