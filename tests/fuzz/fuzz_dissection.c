/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: arbitrary bytes as a stored part of a sharded dissection
 * (what `dissect --merge` reads from a store: zstd, then JSON Lines), with a
 * done marker that matches its size and SHA-256, merged; and the same bytes
 * as a shard's entries file, sorted by (startTime, id). Neither may crash,
 * and a merge that succeeds wrote exactly the entries the marker counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/fsutil.h"
#include "archive/common/sha256.h"
#include "archive/store/store.h"
#include "dissector/query/dissection.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void remove_dir(void)
{
	tv_remove_tree(dir);
}

static void setup(void)
{
	if (dir[0])
		return;
	if (tv_make_temp_dir(dir, sizeof(dir), "fuzz-dissection"))
		abort();
	atexit(remove_dir);
}

static uint64_t count_lines(const uint8_t *d, size_t n)
{
	uint64_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += d[i] == '\n';
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	char url[128], path[128], marker[512];
	snprintf(url, sizeof(url), "file://%s", dir);
	struct tv_store *s;
	if (tv_store_open(url, TV_STORE_CREATE, NULL, &s))
		abort();
	uint8_t sha[TV_SHA256_LEN];
	char hex[TV_SHA256_HEX_LEN];
	tv_sha256(data, size, sha);
	tv_hex(sha, TV_SHA256_LEN, hex);
	/* the marker claims as many entries as the bytes have newlines: a merge
	 * of bytes that decompress to something else must fail */
	int m = snprintf(
		marker, sizeof(marker),
		"{\"format\":\"tapvault-dissection-part/1\",\"shard\":0,\"count\":1,\"from\":1,\"to\":2,"
		"\"source\":\"x\",\"entries\":%llu,\"size\":%zu,\"sha256\":\"%s\"}",
		(unsigned long long)count_lines(data, size), size, hex);
	if (tv_store_put(s, "v1/dissections/f/part-0.jsonl.zst", data, size, 0) ||
	    tv_store_put(s, "v1/dissections/f/part-0.done.json", marker, (size_t)m, 0))
		abort();
	FILE *out = fopen("/dev/null", "w");
	struct tv_dissection_merge_stats st;
	if (tv_dissection_merge(s, "", "f", out, &st) == 0 && st.parts != 1)
		abort();
	tv_store_free(s);
	snprintf(path, sizeof(path), "%s/entries.jsonl", dir);
	if (tv_write_file_atomic(path, data, size) == 0) {
		uint64_t n;
		tv_dissection_sort_to(path, out, &n);
	}
	fclose(out);
	return 0;
}
