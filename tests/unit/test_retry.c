/* SPDX-License-Identifier: Apache-2.0 */
/* retry: the uploader's error classes (which failures heal by themselves)
 * and its backoff: full jitter in the upper half of a bound that doubles
 * from 0.5 s to 60 s; refusals wait the slow period whatever the bound. */
#include <errno.h>
#include <string.h>

#include "archive/common/err.h"
#include "tests/unit/testutil.h"
#include "uploader/retry.h"

static void test_classes(void **state)
{
	(void)state;
	static const struct {
		int rc;
		enum tv_err_class c;
		const char *name;
		bool heals;
	} cases[] = {
		{-EAGAIN, TV_EC_TRANSIENT, "transient", true},
		{-EBADMSG, TV_EC_CHECKSUM, "checksum", true},
		{-EACCES, TV_EC_CREDENTIALS, "credentials", false},
		{-ENXIO, TV_EC_BUCKET, "bucket", false},
		{-ETIME, TV_EC_CLOCK, "clock", false},
		{-EPROTO, TV_EC_PROTOCOL, "protocol", false},
		{-EEXIST, TV_EC_PROTOCOL, "protocol", false},
		{-EINVAL, TV_EC_PROTOCOL, "protocol", false},
		{-EIO, TV_EC_LOCAL, "local", true},
		{-ENOMEM, TV_EC_LOCAL, "local", true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum tv_err_class c = tv_retry_classify(cases[i].rc);
		assert_int_equal(c, cases[i].c);
		assert_string_equal(tv_retry_class_name(c), cases[i].name);
		assert_int_equal(tv_retry_heals_by_itself(c), cases[i].heals);
	}
}

static void test_backoff_doubles_with_jitter_and_caps(void **state)
{
	(void)state;
	struct tv_backoff lo, hi;
	tv_backoff_init(&lo, 30ULL * 1000000000ULL);
	tv_backoff_init(&hi, 30ULL * 1000000000ULL);
	uint64_t bound = TV_BACKOFF_MIN_NS;
	for (int i = 0; i < 12; i++) {
		/* rnd 0: the lower end (bound / 2); rnd = bound / 2: the bound itself */
		assert_int_equal(tv_backoff_next(&lo, TV_EC_TRANSIENT, 0), bound / 2);
		assert_int_equal(tv_backoff_next(&hi, TV_EC_TRANSIENT, bound / 2), bound);
		bound = bound * 2 > TV_BACKOFF_MAX_NS ? TV_BACKOFF_MAX_NS : bound * 2;
	}
	assert_int_equal(bound, TV_BACKOFF_MAX_NS); /* 0.5 s doubled 12 times is past the cap */
	/* never above the bound, whatever rnd */
	assert_true(tv_backoff_next(&hi, TV_EC_TRANSIENT, UINT64_MAX) <= TV_BACKOFF_MAX_NS);
}

static void test_refusals_wait_the_slow_period(void **state)
{
	(void)state;
	struct tv_backoff b;
	tv_backoff_init(&b, 30ULL * 1000000000ULL);
	assert_int_equal(tv_backoff_next(&b, TV_EC_CREDENTIALS, 12345), 30ULL * 1000000000ULL);
	assert_int_equal(tv_backoff_next(&b, TV_EC_BUCKET, 0), 30ULL * 1000000000ULL);
	/* and a transient failure after them still backs off from where it was */
	uint64_t w = tv_backoff_next(&b, TV_EC_TRANSIENT, 0);
	assert_int_equal(w, 2 * TV_BACKOFF_MIN_NS); /* bound 2 s after two doublings: 1 s */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_backoff_doubles_with_jitter_and_caps),
		cmocka_unit_test(test_refusals_wait_the_slow_period),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
