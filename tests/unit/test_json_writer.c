/* SPDX-License-Identifier: Apache-2.0 */
/* json_writer: exact text for every type and escape, member order kept, and
 * for random trees: what jansson reads back equals what was written; the
 * UTF-8 check agrees with jansson's. */
#include <stdlib.h>
#include <string.h>

#include "archive/common/json_writer.h"
#include "archive/common/utf8.h"
#include "tests/unit/testutil.h"

static char *text_of(json_t *j)
{
	struct tv_buf b;
	tv_buf_init(&b, 0);
	assert_int_equal(tv_json_append(&b, j), 0);
	assert_int_equal(tv_buf_append(&b, "", 1), 0);
	return (char *)b.data; /* the caller frees */
}

static void assert_text(json_t *j, const char *expected)
{
	char *t = text_of(j);
	assert_string_equal(t, expected);
	free(t);
	json_decref(j);
}

static void test_scalars_and_order(void **state)
{
	(void)state;
	assert_text(json_pack("{s:i, s:b, s:b, s:n, s:s, s:[i, i], s:{}}", "z", -42, "t", 1, "f", 0, "n", "a",
			      "", "arr", 1, 2, "o"),
		    "{\"z\":-42,\"t\":true,\"f\":false,\"n\":null,\"a\":\"\",\"arr\":[1,2],\"o\":{}}");
	assert_text(json_integer(INT64_MIN), "-9223372036854775808");
	assert_text(json_real(1.5), "1.5");
	assert_text(json_real(3.0), "3.0");
	assert_text(json_real(0.1), "0.1");
	assert_text(json_real(12.345678), "12.345678");
	assert_text(json_real(1e300), "1e+300");
	assert_text(json_array(), "[]");
}

static void test_escapes(void **state)
{
	(void)state;
	const char in[] = "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f é 😀";
	assert_text(json_stringn(in, sizeof(in) - 1),
		    "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f é 😀\"");
	/* NUL inside a string */
	assert_text(json_stringn("a\0b", 3), "\"a\\u0000b\"");
	assert_text(json_pack("{s:s}", "k\"ey", "v"), "{\"k\\\"ey\":\"v\"}");
}

static json_t *random_tree(unsigned *seed, int depth)
{
	int kind = depth > 4 ? rand_r(seed) % 5 : rand_r(seed) % 7;
	char s[64];
	size_t n = (size_t)(rand_r(seed) % (int)sizeof(s));
	for (size_t i = 0; i < n; i++)
		s[i] = (char)(rand_r(seed) % 128); /* ASCII incl. controls and NUL: valid UTF-8 */
	switch (kind) {
	case 0: return json_integer((json_int_t)rand_r(seed) - RAND_MAX / 2);
	case 1: return json_real((double)rand_r(seed) / ((double)rand_r(seed) + 1.0));
	case 2: return json_stringn(s, n);
	case 3: return json_boolean(rand_r(seed) & 1);
	case 4: return json_null();
	case 5: {
		json_t *a = json_array();
		for (int i = rand_r(seed) % 5; i > 0; i--)
			json_array_append_new(a, random_tree(seed, depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		for (int i = rand_r(seed) % 5; i > 0; i--) {
			char key[16];
			snprintf(key, sizeof(key), "k%d\"%d", i, rand_r(seed) % 100);
			json_object_set_new(o, key, random_tree(seed, depth + 1));
		}
		return o;
	}
	}
}

static void test_random_trees_read_back_equal(void **state)
{
	(void)state;
	unsigned seed = 7;
	for (int i = 0; i < 2000; i++) {
		json_t *j = random_tree(&seed, 0);
		char *t = text_of(j);
		json_error_t err;
		json_t *back = json_loads(t, JSON_ALLOW_NUL | JSON_DECODE_ANY, &err);
		if (!back)
			fail_msg("not JSON: %s: %s", err.text, t);
		assert_true(json_equal(j, back));
		free(t);
		json_decref(back);
		json_decref(j);
	}
}

static void test_limit(void **state)
{
	(void)state;
	struct tv_buf b;
	tv_buf_init(&b, 16);
	json_t *j = json_string("a string longer than the sixteen-byte limit");
	assert_int_equal(tv_json_append(&b, j), -EFBIG);
	json_decref(j);
	tv_buf_cleanup(&b);
}

static void test_utf8(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{"plain ascii, longer than one word", true},
		{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", true},
		{"\xc0\xaf", false},         /* overlong '/' */
		{"\xe0\x80\xaf", false},     /* overlong, 3 bytes */
		{"\xed\xa0\x80", false},     /* surrogate */
		{"\xf4\x90\x80\x80", false}, /* past U+10FFFF */
		{"\xf5\x80\x80\x80", false},
		{"ab\x80", false},           /* lone continuation */
		{"abcdefgh\xe2\x82", false}, /* truncated after a word of ASCII */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(tv_utf8_valid((const uint8_t *)cases[i].s, strlen(cases[i].s)), cases[i].ok);
	/* agrees with jansson's own check on random bytes biased to UTF-8 shapes */
	static const uint8_t alphabet[] = {'a',  'z',  0x00, 0x7f, 0x80, 0xbf, 0xc2, 0xdf, 0xe0, 0xed,
					   0xef, 0xf0, 0xf4, 0xf5, 0xa0, 0x9f, 0x90, 0x8f, 0xc0, 0xff};
	unsigned seed = 11;
	for (int i = 0; i < 200000; i++) {
		uint8_t b[24];
		size_t n = (size_t)(rand_r(&seed) % (int)sizeof(b));
		for (size_t k = 0; k < n; k++)
			b[k] = alphabet[rand_r(&seed) % (int)sizeof(alphabet)];
		json_t *j = json_stringn((const char *)b, n);
		if (tv_utf8_valid(b, n) != (j != NULL))
			fail_msg("disagrees with jansson on case %d", i);
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars_and_order),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_random_trees_read_back_equal),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
