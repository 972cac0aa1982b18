/* SPDX-License-Identifier: Apache-2.0 */
/* uploader config: the uploader's keys and the store's through the common
 * table, the agent's keys in the same file skipped, flags that are keys,
 * and what the run options point at. */
#include <string.h>

#include "archive/common/err.h"
#include "testutil.h"
#include "uploader/config.h"

static void test_defaults_flags_and_validation(void **state)
{
	(void)state;
	struct tv_uploader_config c;
	assert_int_equal(tv_uploader_config_init(&c), 0);
	assert_int_equal(c.parallel, 4);
	assert_int_equal(c.s3.part_size, 16 << 20);
	assert_int_equal(c.s3.addressing, TV_S3_ADDR_AUTO);
	assert_int_equal(tv_uploader_config_validate(&c), -EINVAL); /* no store */
	assert_non_null(strstr(tv_errmsg(), "store.url"));
	assert_string_equal(tv_uploader_config_key_of_flag("ca-bundle"), "store.caBundle");
	assert_string_equal(tv_uploader_config_key_of_flag("give-up-after"), "uploader.giveUpAfter");
	assert_null(tv_uploader_config_key_of_flag("frobnicate"));
	assert_int_equal(tv_uploader_config_set(&c, "store.url", "s3://b/p", "--store"), 0);
	assert_int_equal(tv_uploader_config_set(&c, "store.addressing", "path", "--addressing"), 0);
	assert_int_equal(tv_uploader_config_set(&c, "store.partParallel", "0", "--part-parallel"), 0);
	assert_int_equal(tv_uploader_config_validate(&c), -EINVAL);
	assert_int_equal(tv_uploader_config_set(&c, "store.partParallel", "8", "--part-parallel"), 0);
	assert_int_equal(tv_uploader_config_validate(&c), 0);
	struct tv_store_opts so;
	struct tv_uploader_opts o = {0};
	tv_uploader_config_opts(&c, &so, &o);
	assert_string_equal(o.store_url, "s3://b/p");
	assert_ptr_equal(o.store_opts, &so);
	assert_int_equal(so.s3->addressing, TV_S3_ADDR_PATH);
	assert_int_equal(so.s3->parallel, 8);
	assert_null(o.metrics_addr); /* empty means off */
	/* Object Lock: auto, COMPLIANCE, 30 days unless told */
	assert_int_equal(o.lock.use, TV_LOCK_AUTO);
	assert_false(o.lock.governance);
	assert_int_equal(o.lock.retention_ns, 30ULL * 86400 * 1000000000ULL);
	assert_string_equal(tv_uploader_config_key_of_flag("object-lock"), "uploader.objectLock");
	assert_int_equal(tv_uploader_config_set(&c, "uploader.objectLock", "require", "--object-lock"), 0);
	assert_int_equal(tv_uploader_config_set(&c, "uploader.lockMode", "governance", "--lock-mode"), 0);
	assert_int_equal(tv_uploader_config_set(&c, "uploader.lockRetention", "2h", "--lock-retention"), 0);
	assert_int_equal(tv_uploader_config_set(&c, "uploader.objectLock", "maybe", "--object-lock"),
			 -EINVAL);
	tv_uploader_config_opts(&c, &so, &o);
	assert_int_equal(o.lock.use, TV_LOCK_REQUIRE);
	assert_true(o.lock.governance);
	assert_int_equal(o.lock.retention_ns, 7200ULL * 1000000000ULL);
	tv_uploader_config_cleanup(&c);
}

static void test_shared_file(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	char path[256];
	snprintf(path, sizeof(path), "%s/tapvault.yaml", dir);
	FILE *f = fopen(path, "w");
	fputs("tap:\n  capture:\n    raw:\n      storageSize: 2Gi\n  namespaces: [shop]\n"
	      "agent:\n  node: n1\n"
	      "store:\n  url: s3://archive/cluster-a\n  region: eu-west-1\n  contentMd5: true\n"
	      "uploader:\n  parallel: 2\n  retryRefused: 1m\n",
	      f);
	fclose(f);
	struct tv_uploader_config c;
	assert_int_equal(tv_uploader_config_init(&c), 0);
	assert_int_equal(tv_uploader_config_load_file(&c, path), 0);
	assert_string_equal(c.store_url, "s3://archive/cluster-a");
	assert_string_equal(c.s3.region, "eu-west-1");
	assert_true(c.s3.content_md5);
	assert_int_equal(c.parallel, 2);
	assert_int_equal(c.retry_refused_ns, 60ULL * 1000000000ULL);
	tv_uploader_config_cleanup(&c);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_flags_and_validation),
		cmocka_unit_test(test_shared_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
