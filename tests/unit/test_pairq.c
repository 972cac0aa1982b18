/* SPDX-License-Identifier: Apache-2.0 */
/* pairq: the pairing queue every parser shares. In order and by key; early
 * responses wait for their requests; the cap evicts the oldest, reported
 * alone; flush reports what is left, requests first, in arrival order. */
#include <stdio.h>
#include <string.h>

#include "dissector/proto/pairq.h"
#include "tests/unit/testutil.h"

/* Every report as "req/resp/why" (names are the messages themselves). */
struct log {
	char text[1024];
};

static void record(void *ctx, void *req, void *resp, enum tv_pair_why why)
{
	struct log *l = ctx;
	static const char *const whys[] = {"matched", "evicted", "unanswered", "unasked"};
	size_t n = strlen(l->text);
	snprintf(l->text + n, sizeof(l->text) - n, "%s%s/%s/%s", n ? " " : "", req ? (char *)req : "-",
		 resp ? (char *)resp : "-", whys[why]);
}

static void test_in_order(void **state)
{
	(void)state;
	struct log l = {""};
	struct tv_pairq q;
	tv_pairq_init(&q, TV_PAIRQ_ORDER, 8, record, &l);
	tv_pairq_request(&q, 0, "A");
	tv_pairq_request(&q, 0, "B");
	assert_int_equal(tv_pairq_waiting(&q), 2);
	assert_string_equal(tv_pairq_oldest(&q), "A");
	tv_pairq_response(&q, 0, "a");
	tv_pairq_response(&q, 0, "b");
	tv_pairq_flush(&q);
	tv_pairq_cleanup(&q);
	assert_string_equal(l.text, "A/a/matched B/b/matched");
}

static void test_early_responses_wait(void **state)
{
	(void)state;
	struct log l = {""};
	struct tv_pairq q;
	tv_pairq_init(&q, TV_PAIRQ_ORDER, 8, record, &l);
	tv_pairq_response(&q, 0, "a"); /* captured before its request */
	tv_pairq_response(&q, 0, "b");
	assert_string_equal(l.text, "");
	tv_pairq_request(&q, 0, "A");
	tv_pairq_response(&q, 0, "c"); /* waits: B has not come */
	tv_pairq_request(&q, 0, "B");
	tv_pairq_flush(&q);
	tv_pairq_cleanup(&q);
	assert_string_equal(l.text, "A/a/matched B/b/matched -/c/unasked");
}

static void test_by_key(void **state)
{
	(void)state;
	struct log l = {""};
	struct tv_pairq q;
	tv_pairq_init(&q, TV_PAIRQ_KEY, 8, record, &l);
	tv_pairq_request(&q, 7, "Q7");
	tv_pairq_request(&q, 9, "Q9");
	tv_pairq_response(&q, 9, "r9");
	tv_pairq_response(&q, 5, "r5"); /* its query may still come */
	tv_pairq_request(&q, 5, "Q5");
	tv_pairq_request(&q, 7, "Q7b"); /* the same key twice: the oldest answers first */
	tv_pairq_response(&q, 7, "r7");
	tv_pairq_flush(&q);
	tv_pairq_cleanup(&q);
	assert_string_equal(l.text, "Q9/r9/matched Q5/r5/matched Q7/r7/matched Q7b/-/unanswered");
}

static void test_cap_evicts_the_oldest(void **state)
{
	(void)state;
	struct log l = {""};
	struct tv_pairq q;
	tv_pairq_init(&q, TV_PAIRQ_ORDER, 2, record, &l);
	tv_pairq_request(&q, 0, "A");
	tv_pairq_request(&q, 0, "B");
	tv_pairq_request(&q, 0, "C"); /* A leaves alone */
	tv_pairq_response(&q, 0, "b");
	assert_int_equal(tv_pairq_waiting(&q), 1);
	assert_string_equal(tv_pairq_take_oldest(&q), "C");
	assert_null(tv_pairq_take_oldest(&q));
	tv_pairq_response(&q, 0, "x");
	tv_pairq_response(&q, 0, "y");
	tv_pairq_response(&q, 0, "z"); /* x leaves alone */
	tv_pairq_flush(&q);
	tv_pairq_cleanup(&q);
	assert_string_equal(l.text, "A/-/evicted B/b/matched -/x/evicted -/y/unasked -/z/unasked");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_early_responses_wait),
		cmocka_unit_test(test_by_key),
		cmocka_unit_test(test_cap_evicts_the_oldest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
