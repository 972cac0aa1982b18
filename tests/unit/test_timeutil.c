/* SPDX-License-Identifier: Apache-2.0 */
/* Time parsing: every accepted form, and rejection of the rest. */
#include <string.h>

#include "archive/common/timeutil.h"
#include "testutil.h"

static void test_forms(void **state)
{
	(void)state;
	uint64_t t, now = 1795425225000000000ULL;
	assert_int_equal(tv_parse_time("2026-11-23T09:13:45Z", now, &t), 0);
	assert_int_equal(t, 1795425225000000000ULL);
	assert_int_equal(tv_parse_time("2026-11-23T09:13:45.123456789Z", now, &t), 0);
	assert_int_equal(t, 1795425225123456789ULL);
	assert_int_equal(tv_parse_time("2026-11-23T10:13:45.5+01:00", now, &t), 0);
	assert_int_equal(t, 1795425225500000000ULL);
	assert_int_equal(tv_parse_time("1795425225.25", now, &t), 0);
	assert_int_equal(t, 1795425225250000000ULL);
	assert_int_equal(tv_parse_time("now", now, &t), 0);
	assert_int_equal(t, now);
	assert_int_equal(tv_parse_time("-15m", now, &t), 0);
	assert_int_equal(t, now - 900ULL * 1000000000ULL);
	assert_int_equal(tv_parse_time("-500ms", now, &t), 0);
	assert_int_equal(t, now - 500000000ULL);
	char s[TV_RFC3339_LEN];
	tv_format_rfc3339(1795425225123456789ULL, s);
	assert_string_equal(s, "2026-11-23T09:13:45.123456789Z");
}

static void test_rejects(void **state)
{
	(void)state;
	uint64_t t;
	const char *bad[] = {"",      "yesterday", "2026-13-01T00:00:00Z",     "2026-11-23T09:13:45",
			     "12abc", "-15x",      "2026-11-23T09:13:45Zjunk", "1.",
			     "--5m"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tv_parse_time(bad[i], 1000, &t), -EINVAL);
	assert_int_equal(tv_parse_time("-2h", 1000, &t), -EINVAL); /* before 1970 */
	uint64_t d;
	assert_int_equal(tv_parse_duration("10s", &d), 0);
	assert_int_equal(d, 10000000000ULL);
	assert_int_equal(tv_parse_duration("1.5h", &d), 0);
	assert_int_equal(d, 5400000000000ULL);
	assert_int_equal(tv_parse_duration("5 m", &d), -EINVAL);
}

/* A deadline is the clock's now plus the delay, carried into seconds. */
static void test_deadline(void **state)
{
	(void)state;
	uint64_t before = tv_mono_ns();
	struct timespec d = tv_deadline(CLOCK_MONOTONIC, 1500000000ULL);
	uint64_t at = (uint64_t)d.tv_sec * TV_NS_PER_SEC + (uint64_t)d.tv_nsec, after = tv_mono_ns();
	assert_true(d.tv_nsec >= 0 && d.tv_nsec < (long)TV_NS_PER_SEC);
	assert_true(at >= before + 1500000000ULL && at <= after + 1500000000ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
