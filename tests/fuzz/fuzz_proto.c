/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target of one protocol parser (TV_FUZZ_PROTO, its protos.def name;
 * CMake builds one per line of protos.def), fed a stream_harness.h script.
 * For a protocol that runs over both TCP and UDP the first byte's low bit
 * chooses (1: UDP).
 *
 * Oracles, beyond not crashing: the output is JSON Lines; every entry has a
 * request or a response, is failed when it has an error, and is numbered in
 * order on its connection; and over TCP the entries do not depend on how
 * the bytes were cut into deliveries (the same script with every record
 * delivered in pieces of 1, 2, 3... bytes gives exactly the same entries). */
#include <stdio.h>
#include <stdlib.h>

#include "tests/lib/stream_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void wrong(const char *what, json_t *a, json_t *b)
{
	fprintf(stderr, "fuzz_%s: %s\n", TV_FUZZ_PROTO, what);
	if (a)
		json_dumpf(a, stderr, JSON_INDENT(1));
	if (b)
		json_dumpf(b, stderr, JSON_INDENT(1));
	abort();
}

static void check_entries(json_t *entries)
{
	if (!entries)
		wrong("the output is not JSON Lines", NULL, NULL);
	size_t i;
	json_t *e;
	json_array_foreach (entries, i, e) {
		if (!json_is_string(tv_j(e, "protocol.name")))
			wrong("an entry without a protocol", e, NULL);
		if (json_is_null(tv_j(e, "request")) && json_is_null(tv_j(e, "response")))
			wrong("an entry with neither request nor response", e, NULL);
		if (!json_is_null(tv_j(e, "error")) && !tv_j_true(e, "failed"))
			wrong("an entry with an error that is not failed", e, NULL);
		if (tv_j_int(e, "index") != (long long)i)
			wrong("entries out of order on their connection", e, NULL);
		if (tv_j_int(e, "requestSize") < 0 || tv_j_int(e, "responseSize") < 0)
			wrong("a size that is not a count", e, NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct tv_proto *p = tv_proto_find(TV_FUZZ_PROTO);
	if (!p)
		abort();
	bool udp = false;
	if ((p->l4 & TV_L4_TCP) && (p->l4 & TV_L4_UDP)) {
		if (!size)
			return 0;
		udp = data[0] & 1;
		data++;
		size--;
	} else {
		udp = !(p->l4 & TV_L4_TCP);
	}
	struct tv_dissect_opts o;
	tv_harness_small_caps(&o);
	json_t *whole = tv_harness_script(TV_FUZZ_PROTO, udp, data, size, false, &o);
	check_entries(whole);
	if (!udp) {
		json_t *cut = tv_harness_script(TV_FUZZ_PROTO, udp, data, size, true, &o);
		check_entries(cut);
		if (!json_equal(whole, cut))
			wrong("the entries depend on how the bytes were delivered", whole, cut);
		json_decref(cut);
	}
	json_decref(whole);
	return 0;
}
