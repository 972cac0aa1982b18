/* SPDX-License-Identifier: Apache-2.0 */
/* protos: the registration table built from protos.def. Unique names, the
 * hooks every parser must have, hand-off tokens taken by one protocol each,
 * and probes that are pure and never say yes to nothing. */
#include <string.h>

#include "dissector/proto/proto.h"
#include "tests/unit/testutil.h"

static void test_names_unique_and_found(void **state)
{
	(void)state;
	assert_true(tv_nprotos >= 4);
	for (size_t i = 0; i < tv_nprotos; i++) {
		assert_non_null(tv_protos[i]->name);
		assert_ptr_equal(tv_proto_find(tv_protos[i]->name), tv_protos[i]);
		for (size_t k = i + 1; k < tv_nprotos; k++)
			assert_string_not_equal(tv_protos[i]->name, tv_protos[k]->name);
	}
	assert_null(tv_proto_find("no-such-protocol"));
}

static void test_hooks_present(void **state)
{
	(void)state;
	for (size_t i = 0; i < tv_nprotos; i++) {
		const struct tv_proto *p = tv_protos[i];
		assert_non_null(p->open);
		assert_non_null(p->data);
		assert_non_null(p->close);
		assert_true(p->l4 & (TV_L4_TCP | TV_L4_UDP));
		assert_true((p->l4 & ~(unsigned)(TV_L4_TCP | TV_L4_UDP)) == 0);
		/* reachable: by its probe, or by a hand-off it accepts */
		assert_true(p->probe || (p->accepts && p->accept));
		assert_true(!p->accepts == !p->accept);
		assert_true(!p->run_open == !p->run_close);
	}
}

static void test_tokens_taken_once(void **state)
{
	(void)state;
	for (size_t i = 0; i < tv_nprotos; i++)
		for (size_t k = i + 1; tv_protos[i]->accepts && k < tv_nprotos; k++)
			assert_true(!tv_protos[k]->accepts ||
				    strcmp(tv_protos[i]->accepts, tv_protos[k]->accepts));
	/* HTTP/1's Upgrade: h2c has a taker */
	bool h2c = false;
	for (size_t i = 0; i < tv_nprotos; i++)
		h2c |= tv_protos[i]->accepts && !strcmp(tv_protos[i]->accepts, "h2c");
	assert_true(h2c);
}

static void test_probes_pure_and_not_fooled_by_nothing(void **state)
{
	(void)state;
	static const char *const samples[] = {
		"GET / HTTP/1.1\r\n",
		"HTTP/1.1 200 OK\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"*1\r\n$4\r\nPING\r\n",
		"+PONG\r\n",
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
		"SSH-2.0-OpenSSH_9.2\r\n",
	};
	for (size_t i = 0; i < tv_nprotos; i++) {
		const struct tv_proto *p = tv_protos[i];
		if (!p->probe)
			continue;
		for (unsigned l4 = TV_L4_TCP; l4 <= TV_L4_UDP; l4++) {
			if (!(p->l4 & l4))
				continue;
			for (int dir = 0; dir < 2; dir++) {
				assert_int_not_equal(p->probe(l4, dir, (const uint8_t *)"", 0), TV_PROBE_YES);
				for (size_t s = 0; s < sizeof(samples) / sizeof(samples[0]); s++) {
					const uint8_t *b = (const uint8_t *)samples[s];
					size_t n = strlen(samples[s]);
					assert_int_equal(p->probe(l4, dir, b, n), p->probe(l4, dir, b, n));
				}
			}
		}
	}
}

/* Each sample is claimed by exactly the protocol it is, from its side. */
static void test_each_sample_has_one_taker(void **state)
{
	(void)state;
	static const struct {
		const char *bytes, *proto;
		int dir;
	} cases[] = {
		{"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", "http1", 0},
		{"HTTP/1.1 404 Not Found\r\n", "http1", 1},
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "http2", 0},
		{"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "redis", 0},
		{"-ERR unknown command\r\n", "redis", 1},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t yes = 0;
		const char *who = NULL;
		for (size_t i = 0; i < tv_nprotos; i++) {
			const struct tv_proto *p = tv_protos[i];
			if (p->probe && (p->l4 & TV_L4_TCP) &&
			    p->probe(TV_L4_TCP, cases[c].dir, (const uint8_t *)cases[c].bytes,
				     strlen(cases[c].bytes)) == TV_PROBE_YES) {
				yes++;
				who = p->name;
			}
		}
		assert_int_equal(yes, 1);
		assert_string_equal(who, cases[c].proto);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_unique_and_found),
		cmocka_unit_test(test_hooks_present),
		cmocka_unit_test(test_tokens_taken_once),
		cmocka_unit_test(test_probes_pure_and_not_fooled_by_nothing),
		cmocka_unit_test(test_each_sample_has_one_taker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
