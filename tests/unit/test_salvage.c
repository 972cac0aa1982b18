/* SPDX-License-Identifier: Apache-2.0 */
/* Salvage: a writer killed with SIGKILL at a random point leaves a segment
 * that is recovered up to its last whole frame, indexed and readable, with
 * exactly the packets written before that frame - 50 times over. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/events.h"
#include "archive/segment.h"
#include "testutil.h"

#define KILLS 50
#define T0 1700000000000000000ULL

static size_t packet(uint32_t i, uint8_t *buf)
{
	return tu_make_frame(buf, 6, (uint8_t)(1 + i % 7), (uint16_t)(1000 + i % 7), 2, 80, (i * 131) % 1400,
			     i);
}

/* The child: writes packets forever, flushing a frame every 300 packets (as
 * the agent flushes every second) and an event every 1000 packets. */
static void writer_child(const char *data, const char *events, int ready_fd)
{
	struct tv_seg_writer_opts o;
	tu_writer_opts(&o);
	o.frame_bytes = 32 * 1024;
	struct tv_iface ifc;
	tu_eth_iface(&ifc);
	struct tv_seg_writer *w;
	struct tv_events_writer *ev;
	if (tv_seg_writer_open(&w, data, &o, &ifc, 1) ||
	    tv_events_writer_open(&ev, events, T0, NULL, 0, NULL, 0))
		_exit(3);
	if (write(ready_fd, "r", 1) != 1)
		_exit(4);
	uint8_t buf[2000];
	for (uint32_t i = 0;; i++) {
		size_t n = packet(i, buf);
		struct tv_packet p = {0, T0 + i * 1000ULL, (uint32_t)n, (uint32_t)n, buf};
		if (tv_seg_writer_add(w, &p))
			_exit(5);
		if (i % 300 == 299 && tv_seg_writer_flush(w))
			_exit(6);
		if (i % 1000 == 999) {
			struct tv_os_event e = {
				.ts_ns = T0 + i * 1000ULL, .event = "exec", .pid = i, .comm = "x"};
			if (tv_events_write_os(ev, &e) || tv_events_writer_flush(ev))
				_exit(7);
		}
	}
}

static void check_recovered(const char *data, const char *events)
{
	struct tv_index idx;
	struct tv_scan_result res;
	assert_int_equal(tv_seg_salvage(data, events, &idx, &res), 0);
	struct stat st;
	assert_int_equal(stat(data, &st), 0);
	assert_int_equal(idx.data_size, (uint64_t)st.st_size); /* torn tail cut off */
	uint8_t sha[32];
	assert_int_equal(tv_sha256_file(data, sha), 0);
	assert_memory_equal(sha, idx.data_sha, 32);
	assert_string_equal(idx.node, "node-a");

	/* the index encodes and decodes */
	struct tv_buf enc;
	tv_buf_init(&enc, 0);
	assert_int_equal(tv_index_encode(&idx, &enc), 0);
	struct tv_index back;
	assert_int_equal(tv_index_decode(enc.data, enc.len, "salvaged", &back), 0);
	tv_buf_cleanup(&enc);

	/* every packet is the one written at that position, none missing in between */
	struct tv_fd_source src = {open(data, O_RDONLY), data};
	struct tv_seg_reader *r;
	assert_int_equal(tv_seg_reader_open(&r, &back, tv_fd_read_at, &src, data), 0);
	struct tv_packet p;
	uint32_t i = 0;
	int rc;
	uint8_t buf[2000];
	while ((rc = tv_seg_reader_next(r, &p)) == 1) {
		size_t n = packet(i, buf);
		assert_int_equal(p.ts_ns, T0 + i * 1000ULL);
		assert_int_equal(p.caplen, n);
		assert_memory_equal(p.data, buf, n);
		i++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(i, idx.packets);
	tv_seg_reader_free(r);
	close(src.fd);

	/* the events file is whole frames and starts with the state record */
	struct tv_buf eb;
	tv_buf_init(&eb, 0);
	assert_int_equal(tv_read_file(events, &eb), 0);
	assert_int_equal(eb.len, idx.events_size);
	struct tv_events_reader *er;
	assert_int_equal(tv_events_reader_open(&er, eb.data, eb.len, events), 0);
	json_t *rec;
	int records = 0;
	while ((rc = tv_events_reader_next(er, &rec)) == 1) {
		records++;
		json_decref(rec);
	}
	assert_int_equal(rc, 0);
	assert_true(records >= 1);
	tv_events_reader_free(er);
	tv_buf_cleanup(&eb);
	tv_index_cleanup(&back);
	tv_index_cleanup(&idx);
}

static void test_sigkill_at_random_points(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	srand((unsigned)time(NULL));
	uint64_t max_packets = 0, min_packets = UINT64_MAX;
	for (int k = 0; k < KILLS; k++) {
		char data[160], events[160];
		snprintf(data, sizeof(data), "%s/%d.pcapng.zst", dir, k);
		snprintf(events, sizeof(events), "%s/%d.events.jsonl.zst", dir, k);
		int pfd[2];
		assert_int_equal(pipe(pfd), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			writer_child(data, events, pfd[1]);
		}
		close(pfd[1]);
		char c;
		assert_int_equal(read(pfd[0], &c, 1), 1);
		close(pfd[0]);
		struct timespec d = {0, (rand() % 40000) * 1000L}; /* 0-40 ms into the writing */
		nanosleep(&d, NULL);
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		assert_true(WIFSIGNALED(status));
		check_recovered(data, events);
		struct tv_index idx;
		struct tv_scan_result res;
		assert_int_equal(tv_seg_salvage(data, events, &idx, &res), 0); /* idempotent */
		assert_false(res.torn);
		if (idx.packets > max_packets)
			max_packets = idx.packets;
		if (idx.packets < min_packets)
			min_packets = idx.packets;
		tv_index_cleanup(&idx);
	}
	printf("recovered %d killed writers: %llu..%llu packets each\n", KILLS,
	       (unsigned long long)min_packets, (unsigned long long)max_packets);
	assert_true(max_packets > 0); /* the kills did land after writing started */
	tu_rmrf(dir);
}

static void test_nothing_recoverable_is_an_error(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	char data[160];
	snprintf(data, sizeof(data), "%s/empty.pcapng.zst", dir);
	FILE *f = fopen(data, "w");
	fputs("not zstd at all", f);
	fclose(f);
	struct tv_index idx;
	struct tv_scan_result res;
	assert_int_equal(tv_seg_salvage(data, NULL, &idx, &res), TV_ECORRUPT);
	assert_non_null(strstr(tv_errmsg(), data));
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkill_at_random_points),
		cmocka_unit_test(test_nothing_recoverable_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
