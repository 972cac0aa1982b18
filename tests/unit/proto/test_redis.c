/* SPDX-License-Identifier: Apache-2.0 */
/* redis: the parser through the stream harness. Pipelined commands pair in
 * order with their replies; error replies are failed; inline commands;
 * RESP3 pushes are no replies; replies captured before their commands wait;
 * a gap stops the direction (RESP has no resync point). */
#include <string.h>

#include "tests/lib/stream_harness.h"
#include "tests/unit/testutil.h"

static void test_pipelined_and_errors(void **state)
{
	(void)state;
	struct tv_harness h;
	assert_int_equal(tv_harness_open(&h, "redis", false, NULL), 0);
	tv_harness_send_str(&h, 0,
			    "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	tv_harness_send_str(&h, 0, "*1\r\n$5\r\nBOGUS\r\n");
	tv_harness_send_str(&h, 1, "+OK\r\n$2\r\nv1\r\n-ERR unknown command 'BOGUS'\r\n");
	json_t *e = tv_harness_close(&h);
	assert_non_null(e);
	assert_int_equal(json_array_size(e), 3);
	assert_string_equal(tv_j_str(e, "0.request.command"), "SET");
	assert_string_equal(tv_j_str(e, "0.request.args.1"), "v1");
	assert_string_equal(tv_j_str(e, "0.response.value"), "OK");
	assert_string_equal(tv_j_str(e, "1.response.type"), "bulk");
	assert_string_equal(tv_j_str(e, "1.response.value"), "v1");
	assert_string_equal(tv_j_str(e, "2.response.type"), "error");
	assert_true(tv_j_true(e, "2.failed"));
	json_decref(e);
}

static void test_inline_push_and_early_reply(void **state)
{
	(void)state;
	struct tv_harness h;
	assert_int_equal(tv_harness_open(&h, "redis", false, NULL), 0);
	tv_harness_send_str(&h, 1, ":7\r\n"); /* captured before its command */
	tv_harness_send_str(&h, 0, "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n");
	tv_harness_send_str(&h, 0, "PING\r\n");
	tv_harness_send_str(&h, 1, ">2\r\n$7\r\nmessage\r\n$2\r\nhi\r\n+PONG\r\n");
	json_t *e = tv_harness_close(&h);
	assert_non_null(e);
	assert_int_equal(json_array_size(e), 2);
	assert_string_equal(tv_j_str(e, "0.request.command"), "INCR");
	assert_int_equal(tv_j_int(e, "0.response.value"), 7);
	assert_string_equal(tv_j_str(e, "1.request.command"), "PING");
	assert_string_equal(tv_j_str(e, "1.response.value"), "PONG");
	json_decref(e);
}

static void test_gap_and_split_values(void **state)
{
	(void)state;
	struct tv_harness h;
	assert_int_equal(tv_harness_open(&h, "redis", false, NULL), 0);
	const char *cmd = "*2\r\n$3\r\nGET\r\n$5\r\nlong!\r\n";
	for (size_t i = 0; cmd[i]; i++) /* a byte at a time */
		tv_harness_send(&h, 0, cmd + i, 1);
	tv_harness_send_str(&h, 1, "$5\r\nva");
	tv_harness_send_str(&h, 1, "lue\r\n");
	tv_harness_send_str(&h, 0, "*1\r\n$4\r\nPING\r\n");
	tv_harness_gap(&h, 1, 10);
	tv_harness_send_str(&h, 1, "+PONG\r\n"); /* after a gap: not parsed */
	json_t *e = tv_harness_close(&h);
	assert_non_null(e);
	assert_int_equal(json_array_size(e), 2);
	assert_string_equal(tv_j_str(e, "0.request.args.0"), "long!");
	assert_string_equal(tv_j_str(e, "0.response.value"), "value");
	assert_string_equal(tv_j_str(e, "1.request.command"), "PING");
	assert_string_equal(tv_j_str(e, "1.error"), "no reply");
	json_decref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipelined_and_errors),
		cmocka_unit_test(test_inline_push_and_early_reply),
		cmocka_unit_test(test_gap_and_split_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
