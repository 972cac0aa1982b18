/* SPDX-License-Identifier: Apache-2.0 */
/* Rolling buffer: sealing into keys, eviction order (uploaded first, then
 * oldest, counted as lost), salvage of open segments, completion of a data
 * object whose index a crash prevented. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/bufdir.h"
#include "archive/common/err.h"
#include "archive/events.h"
#include "archive/keys.h"
#include "archive/segment.h"
#include "archive/store/store.h"
#include "nodeagent/buffer.h"
#include "testutil.h"

#define T0 1700000000000000000ULL

/* Writes segment seq (~60 KiB) into b and seals it (seal), or only prepares
 * its seal (*prepared set, index_sha filled), or leaves it in open/ as a crash
 * would; returns its stem. */
static void make_segment_ex(struct tv_buffer *b, uint64_t seq, char *stem, size_t n, bool seal,
			    struct tv_buffer_seal **prepared, uint8_t index_sha[32])
{
	char *data, *events;
	uint64_t start = T0 + seq * 1000000000ULL;
	assert_int_equal(tv_buffer_open_paths(b, start, seq, 0, &data, &events), 0);
	struct tv_seg_writer_opts o;
	tu_writer_opts(&o);
	o.meta.seq = seq;
	o.meta.created_ns = start;
	struct tv_iface ifc;
	tu_eth_iface(&ifc);
	struct tv_seg_writer *w;
	struct tv_events_writer *ev;
	assert_int_equal(tv_seg_writer_open(&w, data, &o, &ifc, 1), 0);
	assert_int_equal(tv_events_writer_open(&ev, events, start, NULL, 0, NULL, 0), 0);
	uint8_t buf[2000];
	for (uint32_t i = 0; i < 60; i++) {
		size_t len = tu_make_frame(buf, 17, 1, 1, 2, 2, 1000, (uint32_t)(seq * 100 + i));
		/* incompressible-ish payload so sizes are predictable */
		for (size_t k = 42; k < len; k++)
			buf[k] = (uint8_t)(rand() & 0xff);
		struct tv_packet p = {0, start + i, (uint32_t)len, (uint32_t)len, buf};
		assert_int_equal(tv_seg_writer_add(w, &p), 0);
	}
	assert_int_equal(tv_seg_writer_flush(w), 0);
	assert_int_equal(tv_events_writer_close(ev), 0);
	tv_events_writer_free(ev);
	if (seal || prepared) {
		struct tv_index idx;
		uint8_t sha[32];
		assert_int_equal(tv_seg_writer_finish(w, start + 1000000000ULL, events, &idx), 0);
		if (prepared)
			assert_int_equal(tv_buffer_seal_prepare(b, &idx, data, events, index_sha, prepared),
					 0);
		else
			assert_int_equal(tv_buffer_seal(b, &idx, data, events, sha), 0);
		char key[TV_KEY_MAX];
		tv_key_segment(key, sizeof(key), "", "node-a", idx.start_ns, seq, TV_OBJ_INDEX);
		snprintf(stem, n, "%.*s", (int)(strlen(key) - 4), key);
		tv_index_cleanup(&idx);
	}
	tv_seg_writer_free(w); /* unsealed: left in open/ as a crash would */
	free(data);
	free(events);
}

static void make_segment(struct tv_buffer *b, uint64_t seq, char *stem, size_t n, bool seal)
{
	make_segment_ex(b, seq, stem, n, seal, NULL, NULL);
}

static void test_eviction_prefers_uploaded_and_counts_losses(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	struct tv_buffer *b;
	assert_int_equal(tv_buffer_open(&b, dir, 1 << 20), 0);
	char stems[6][TV_KEY_MAX];
	for (int i = 0; i < 6; i++)
		make_segment(b, (uint64_t)i, stems[i], sizeof(stems[i]), true);
	struct tv_buffer_stats st;
	tv_buffer_get_stats(b, &st);
	assert_int_equal(st.segments, 6);
	assert_int_equal(st.sealed, 6);
	uint64_t one = st.sealed_bytes / 6;
	/* segments 2 and 4 were uploaded */
	assert_int_equal(tv_bufdir_mark_uploaded(dir, stems[2]), 0);
	assert_int_equal(tv_bufdir_mark_uploaded(dir, stems[4]), 0);
	assert_true(tv_bufdir_is_uploaded(dir, stems[4]));
	/* ask for room for three more: uploaded 2 and 4 go, then the oldest, 0 */
	assert_int_equal(tv_buffer_make_room(b, (1 << 20) - 3 * one - one / 2), 0);
	tv_buffer_get_stats(b, &st);
	assert_int_equal(st.recycled, 2);
	assert_int_equal(st.lost, 1);
	assert_int_equal(st.segments, 3);
	char p[4200];
	for (int i = 0; i < 6; i++) {
		snprintf(p, sizeof(p), "%s/%s.idx", dir, stems[i]);
		bool kept = i == 1 || i == 3 || i == 5;
		assert_int_equal(access(p, F_OK) == 0, kept);
	}
	assert_false(tv_bufdir_is_uploaded(dir, stems[2])); /* marker removed with it */
	assert_int_equal(tv_buffer_make_room(b, (2 << 20)), -ENOSPC);
	tv_buffer_free(b);
	/* reopening finds what is left */
	assert_int_equal(tv_buffer_open(&b, dir, 1 << 20), 0);
	tv_buffer_get_stats(b, &st);
	assert_int_equal(st.segments, 3);
	bool found;
	uint64_t seq;
	uint8_t sha[32], key_id[32];
	assert_int_equal(tv_buffer_chain_tail(b, "node-a", &found, &seq, sha, key_id), 0);
	assert_true(found);
	assert_int_equal(seq, 5);
	tv_buffer_free(b);
	tu_rmrf(dir);
}

static void test_salvage_and_completion(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	struct tv_buffer *b;
	assert_int_equal(tv_buffer_open(&b, dir, 64 << 20), 0);
	char stem[TV_KEY_MAX];
	make_segment(b, 0, stem, sizeof(stem), true);
	make_segment(b, 1, stem, sizeof(stem), false); /* left open, as after a crash */
	/* written and its seal prepared, the crash came before the commit */
	char stem2[TV_KEY_MAX];
	struct tv_buffer_seal *pending;
	uint8_t sha2[32];
	make_segment_ex(b, 2, stem2, sizeof(stem2), false, &pending, sha2);
	tv_buffer_seal_free(pending);
	/* garbage that cannot be salvaged */
	char p[4200];
	snprintf(p, sizeof(p), "%s/open/0000000000000000009-0000000009.pcapng.zst", dir);
	FILE *f = fopen(p, "w");
	fputs("garbage", f);
	fclose(f);
	/* an events file whose data file was never created */
	snprintf(p, sizeof(p), "%s/open/0000000000000000010-0000000010.events.jsonl.zst", dir);
	f = fopen(p, "w");
	fclose(f);
	/* a sealed segment whose index vanished (crash between renames) */
	snprintf(p, sizeof(p), "%s/%s.idx", dir, stem);
	assert_int_equal(unlink(p), 0);
	tv_buffer_free(b);

	assert_int_equal(tv_buffer_open(&b, dir, 64 << 20), 0);
	assert_int_equal(access(p, F_OK), 0); /* index rebuilt at open */
	assert_int_equal(tv_buffer_salvage(b), 0);
	struct tv_buffer_stats st;
	tv_buffer_get_stats(b, &st);
	assert_int_equal(st.salvaged, 2);
	assert_int_equal(st.corrupt, 1);
	assert_int_equal(st.segments, 3);
	snprintf(p, sizeof(p), "%s/.corrupt/0000000000000000009-0000000009.pcapng.zst", dir);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/open", dir);
	assert_int_equal(rmdir(p), 0); /* empty: salvaged, quarantined, orphan removed */
	tv_buffer_free(b);
	tu_rmrf(dir);
}

/* A segment whose seal is prepared but not committed (the agent flushes it on
 * another thread) counts against the cap; when only pending seals stand in
 * the way make_room says -EBUSY; commit publishes it and the chain goes on
 * from the index hash prepare returned. */
static void test_pending_seal_counts_against_cap(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	struct tv_buffer *b;
	assert_int_equal(tv_buffer_open(&b, dir, 1 << 20), 0);
	char stems[4][TV_KEY_MAX];
	for (int i = 0; i < 3; i++)
		make_segment(b, (uint64_t)i, stems[i], sizeof(stems[i]), true);
	struct tv_buffer_stats st;
	tv_buffer_get_stats(b, &st);
	uint64_t one = st.sealed_bytes / 3;
	struct tv_buffer_seal *pending;
	uint8_t index_sha[32];
	make_segment_ex(b, 3, stems[3], sizeof(stems[3]), false, &pending, index_sha);
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s.idx", dir, stems[3]);
	assert_int_equal(access(p, F_OK), -1); /* not published yet */
	tv_buffer_get_stats(b, &st);
	assert_int_equal(st.segments, 3);
	/* 3 sealed + 1 pending + what the writer asks for: the oldest goes */
	uint64_t cap = 1 << 20;
	assert_int_equal(tv_buffer_make_room(b, cap - 4 * one + one / 2), 0);
	tv_buffer_get_stats(b, &st);
	assert_int_equal(st.lost, 1);
	assert_int_equal(st.segments, 2);
	/* everything sealed evicted and still over the cap: the pending seal */
	assert_int_equal(tv_buffer_make_room(b, cap - one / 2), -EBUSY);
	tv_buffer_get_stats(b, &st);
	assert_int_equal(st.segments, 0);
	assert_int_equal(tv_buffer_seal_commit(b, pending), 0);
	assert_int_equal(access(p, F_OK), 0);
	tv_buffer_get_stats(b, &st);
	assert_int_equal(st.segments, 1);
	assert_int_equal(st.sealed, 4);
	bool found;
	uint64_t seq;
	uint8_t tail_sha[32], key_id[32];
	assert_int_equal(tv_buffer_chain_tail(b, "node-a", &found, &seq, tail_sha, key_id), 0);
	assert_true(found);
	assert_int_equal(seq, 3);
	assert_memory_equal(tail_sha, index_sha, 32);
	/* no seal pending any more: room is made by evicting, not refused */
	assert_int_equal(tv_buffer_make_room(b, cap - one / 2), 0);
	tv_buffer_free(b);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eviction_prefers_uploaded_and_counts_losses),
		cmocka_unit_test(test_salvage_and_completion),
		cmocka_unit_test(test_pending_seal_counts_against_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
