/* SPDX-License-Identifier: Apache-2.0 */
/* Agent configuration: defaults, YAML (nested keys, lists), overrides, and
 * errors that name FILE:LINE:COLUMN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "nodeagent/config.h"
#include "testutil.h"

static const char *write_yaml(const char *dir, const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_defaults_and_yaml(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	struct tv_agent_config c;
	assert_int_equal(tv_agent_config_init(&c), 0);
	assert_int_equal(c.storage_size, 1ULL << 30);
	assert_int_equal(c.seal_interval_ns, 10000000000ULL);
	assert_string_equal(c.interfaces.items[0], "any");
	const char *p = write_yaml(dir, "a.yaml",
				   "tap:\n"
				   "  capture:\n"
				   "    raw:\n"
				   "      enabled: true\n"
				   "      storageSize: 2Gi\n"
				   "    stopped: yes\n"
				   "  regex: '^web-.*'\n"
				   "  namespaces: [shop, pay]\n"
				   "  excludedNamespaces:\n"
				   "    - kube-system\n"
				   "agent:\n"
				   "  node: worker-1\n"
				   "  interfaces: [eth0, eth1]\n"
				   "  sealInterval: 5m\n");
	if (tv_agent_config_load_file(&c, p))
		fail_msg("%s", tv_errmsg());
	assert_int_equal(c.storage_size, 2ULL << 30);
	assert_true(c.stopped);
	assert_string_equal(c.regex, "^web-.*");
	assert_int_equal(c.namespaces.n, 2);
	assert_string_equal(c.namespaces.items[1], "pay");
	assert_string_equal(c.excluded_namespaces.items[0], "kube-system");
	assert_int_equal(c.interfaces.n, 2);
	assert_int_equal(c.seal_interval_ns, 300000000000ULL);
	assert_int_equal(tv_agent_config_validate(&c), 0);
	/* overrides */
	assert_int_equal(tv_agent_config_set(&c, "tap.capture.stopped", "false", true, "--set"), 0);
	assert_false(c.stopped);
	assert_int_equal(tv_agent_config_set(&c, "agent.interfaces", "lo", true, "--interface"), 0);
	assert_int_equal(c.interfaces.n, 1);
	tv_agent_config_cleanup(&c);
	tu_rmrf(dir);
}

static void expect_error(const char *yaml, const char *where, const char *what)
{
	const char *dir = tu_tmpdir();
	struct tv_agent_config c;
	assert_int_equal(tv_agent_config_init(&c), 0);
	const char *p = write_yaml(dir, "bad.yaml", yaml);
	assert_int_equal(tv_agent_config_load_file(&c, p), -EINVAL);
	if (!strstr(tv_errmsg(), where) || !strstr(tv_errmsg(), what))
		fail_msg("message '%s' lacks '%s' or '%s'", tv_errmsg(), where, what);
	tv_agent_config_cleanup(&c);
	tu_rmrf(dir);
}

static void test_errors_name_the_place(void **state)
{
	(void)state;
	expect_error("tap:\n  capture:\n    raw:\n      storageSize: lots\n", "bad.yaml:4:20",
		     "bad value 'lots' for tap.capture.raw.storageSize");
	expect_error("tap:\n  colour: blue\n", "bad.yaml:2:11", "unknown key 'tap.colour'");
	expect_error("agent:\n  node: [a, b]\n", "bad.yaml:2:9", "agent.node is not a list");
	expect_error("tap: [\n", "bad.yaml:", "");
	expect_error("just a string\n", "bad.yaml:1:1", "top level must be a mapping");
}

static void test_validation(void **state)
{
	(void)state;
	struct tv_agent_config c;
	assert_int_equal(tv_agent_config_init(&c), 0);
	assert_int_equal(tv_agent_config_validate(&c), -EINVAL); /* no node */
	assert_int_equal(tv_agent_config_set(&c, "agent.node", "n1", true, "t"), 0);
	assert_int_equal(tv_agent_config_validate(&c), 0);
	assert_int_equal(tv_agent_config_set(&c, "tap.capture.raw.storageSize", "100Mi", true, "t"), 0);
	assert_int_equal(tv_agent_config_validate(&c), -EINVAL); /* < 4 x sealBytes (128Mi) */
	assert_non_null(strstr(tv_errmsg(), "at least 4x agent.sealBytes"));
	assert_int_equal(tv_agent_config_set(&c, "tap.capture.raw.storageSize", "1Gi", true, "t"), 0);
	assert_int_equal(c.queue_size, (uint64_t)128 << 20); /* default */
	assert_int_equal(tv_agent_config_set(&c, "agent.queueSize", "1Mi", true, "t"), 0);
	assert_int_equal(tv_agent_config_validate(&c), -EINVAL);
	assert_non_null(strstr(tv_errmsg(), "agent.queueSize must be between 4Mi and 4Gi"));
	assert_int_equal(tv_agent_config_set(&c, "agent.queueSize", "32Mi", true, "t"), 0);
	assert_int_equal(tv_agent_config_validate(&c), 0);
	assert_int_equal(tv_agent_config_set(&c, "tap.regex", "([", true, "t"), 0);
	assert_int_equal(tv_agent_config_validate(&c), -EINVAL);
	assert_int_equal(tv_agent_config_set(&c, "agent.zstdLevel", "x", true, "--zstd-level"), -EINVAL);
	assert_non_null(strstr(tv_errmsg(), "--zstd-level: bad value 'x'"));
	tv_agent_config_cleanup(&c);
	uint64_t v;
	assert_int_equal(tv_parse_size("64Ki", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(tv_parse_size("2G", &v), 0);
	assert_int_equal(v, 2000000000ULL);
	assert_int_equal(tv_parse_size("1.5Gi", &v), -EINVAL);
	assert_int_equal(tv_parse_size("-1", &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_yaml),
		cmocka_unit_test(test_errors_name_the_place),
		cmocka_unit_test(test_validation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
