/* SPDX-License-Identifier: Apache-2.0 */
/* os_probe: see os_probe.h. Kept apart from capture_pcap.c: libbpf's and
 * libpcap's headers both define struct bpf_insn. */
#include "nodeagent/os_probe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/common/err.h"

const char *tv_os_kind_name(unsigned kind)
{
	static const char *const names[] = {"?", "connect", "accept", "close", "exec", "exit", "listen"};
	return kind < sizeof(names) / sizeof(*names) ? names[kind] : "?";
}

#ifndef TV_HAVE_BPF

int tv_os_probe_open(struct tv_os_probe **out)
{
	*out = NULL;
	return tv_err(-ENOTSUP, "built without BPF programs (no clang, bpftool or kernel BTF at build time)");
}

void tv_os_probe_free(struct tv_os_probe *p)
{
	(void)p;
}

int tv_os_probe_poll(struct tv_os_probe *p, int timeout_ms, tv_os_probe_fn fn, void *ctx)
{
	(void)p, (void)timeout_ms, (void)fn, (void)ctx;
	return -ENOTSUP;
}

void tv_os_probe_stats(struct tv_os_probe *p, uint64_t out[TV_OS_STAT_N])
{
	(void)p;
	memset(out, 0, TV_OS_STAT_N * sizeof(*out));
}

#else

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include "os.skel.h"

struct tv_os_probe {
	struct tv_os *skel;
	struct ring_buffer *rb;
	int64_t mono_to_real; /* add to a CLOCK_MONOTONIC time for the wall clock */
	/* the poll's callback, for the ring buffer's */
	tv_os_probe_fn fn;
	void *ctx;
	int delivered;
};

static int64_t clock_offset(void)
{
	struct timespec m, r;
	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	return ((int64_t)r.tv_sec - (int64_t)m.tv_sec) * 1000000000LL + (r.tv_nsec - m.tv_nsec);
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct tv_os_probe *p = ctx;
	if (len < sizeof(struct tv_os_record))
		return 0;
	const struct tv_os_record *r = data;
	p->fn(p->ctx, r, (uint64_t)((int64_t)r->ts_ns + p->mono_to_real));
	p->delivered++;
	return 0;
}

/* libbpf's own messages would go to stderr unasked: only its warnings, as ours. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

/* Runs the task_file iterator once: the owners of sockets opened before
 * now (listeners, connections). Without iterators (older kernels) those stay
 * unattributed, counted as such. */
static void seed_existing(struct tv_os_probe *p)
{
	struct bpf_link *link = bpf_program__attach_iter(p->skel->progs.seed_sockets, NULL);
	if (!link)
		return;
	int fd = bpf_iter_create(bpf_link__fd(link));
	if (fd >= 0) {
		char buf[4096];
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	bpf_link__destroy(link);
}

int tv_os_probe_open(struct tv_os_probe **out)
{
	*out = NULL;
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		return tv_err(-ENOTSUP, "the kernel has no BTF (/sys/kernel/btf/vmlinux): no OS layer");
	libbpf_set_print(quiet);
	struct tv_os_probe *p = calloc(1, sizeof(*p));
	if (!p)
		return tv_err(-ENOMEM, "out of memory");
	int rc = 0;
	if (!(p->skel = tv_os__open())) {
		rc = tv_err(-errno ? -errno : -ENOMEM, "BPF: cannot open the OS programs");
	} else if (bpf_program__set_autoattach(p->skel->progs.seed_sockets, false),
		   (rc = tv_os__load(p->skel))) {
		rc = tv_err(rc == -EPERM || rc == -EACCES ? -EPERM : rc,
			    "BPF: cannot load the OS programs: %s (needs CAP_BPF and CAP_PERFMON, or "
			    "CAP_SYS_ADMIN)",
			    strerror(-rc));
	} else if ((rc = tv_os__attach(p->skel))) {
		rc = tv_err(rc == -EPERM ? -EPERM : -ENOTSUP,
			    "BPF: cannot attach the OS programs: %s (BTF tracepoints missing?)",
			    strerror(-rc));
	} else if (!(p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.events), on_record, p, NULL))) {
		rc = tv_err(-errno ? -errno : -ENOMEM, "BPF: cannot map the ring buffer");
	} else {
		seed_existing(p);
	}
	if (rc) {
		tv_os_probe_free(p);
		return rc;
	}
	p->mono_to_real = clock_offset();
	*out = p;
	return 0;
}

void tv_os_probe_free(struct tv_os_probe *p)
{
	if (!p)
		return;
	ring_buffer__free(p->rb);
	tv_os__destroy(p->skel);
	free(p);
}

int tv_os_probe_poll(struct tv_os_probe *p, int timeout_ms, tv_os_probe_fn fn, void *ctx)
{
	p->fn = fn;
	p->ctx = ctx;
	p->delivered = 0;
	/* The programs wake the reader only for a large backlog (batched
	 * wakeups), so the wait usually ends by its timeout and the ring is
	 * read then. */
	int rc = ring_buffer__poll(p->rb, timeout_ms);
	if (rc >= 0 || rc == -EINTR)
		rc = ring_buffer__consume(p->rb);
	if (rc < 0 && rc != -EINTR)
		return tv_err(rc, "BPF ring buffer: %s", strerror(-rc));
	return p->delivered;
}

void tv_os_probe_stats(struct tv_os_probe *p, uint64_t out[TV_OS_STAT_N])
{
	memset(out, 0, TV_OS_STAT_N * sizeof(*out));
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return;
	uint64_t *v = calloc((size_t)ncpu, sizeof(*v));
	for (uint32_t k = 0; v && k < TV_OS_STAT_N; k++) {
		if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.stats), &k, v) == 0)
			for (int c = 0; c < ncpu; c++)
				out[k] += v[c];
	}
	free(v);
}

#endif
