/* SPDX-License-Identifier: Apache-2.0 */
/* os_probe: see os_probe.h. Kept apart from capture_pcap.c: libbpf's and
 * libpcap's headers both define struct bpf_insn. */
#include "nodeagent/os_probe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/common/err.h"
#include "archive/common/log.h"

const char *tv_os_kind_name(unsigned kind)
{
	static const char *const names[] = {"?",    "connect", "accept", "close",   "exec",
					    "exit", "listen",  "udp",    "existing"};
	return kind < sizeof(names) / sizeof(*names) ? names[kind] : "?";
}

#ifndef TV_HAVE_BPF

int tv_os_probe_open(struct tv_os_probe **out, const char *cgroup_root)
{
	(void)cgroup_root;
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

const char *tv_os_probe_udp(const struct tv_os_probe *p)
{
	(void)p;
	return "built without BPF";
}

void tv_os_probe_stats(struct tv_os_probe *p, uint64_t out[TV_OS_STAT_N])
{
	(void)p;
	memset(out, 0, TV_OS_STAT_N * sizeof(*out));
}

#else

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "os.skel.h"

#define NUDP 4 /* the UDP programs (udp_programs) */

struct tv_os_probe {
	struct tv_os *skel;
	struct ring_buffer *rb;
	struct bpf_link *cgroup_links[NUDP]; /* the UDP programs on the cgroup root */
	char udp[200];                       /* "" while UDP sockets are followed, else why not */
	int64_t mono_to_real;                /* add to a CLOCK_MONOTONIC time for the wall clock */
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

/* libbpf's own messages (the verifier's log among them) go to the agent's
 * log at debug level (--log-level debug), one line each. */
__attribute__((format(printf, 2, 0))) static int quiet(enum libbpf_print_level level, const char *fmt,
						       va_list ap)
{
	(void)level;
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	tv_debug("libbpf: %s", line);
	return 0;
}

/* Runs an iterator program once, to its end (it writes no output). */
static void run_iter(struct bpf_program *prog)
{
	struct bpf_link *link = bpf_program__attach_iter(prog, NULL);
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

/* The names of the processes that exist, then the owners of the sockets
 * they hold (listeners, connections, UDP sockets). Without iterators (older
 * kernels) those stay unattributed, counted as such. */
static void seed_existing(struct tv_os_probe *p)
{
	run_iter(p->skel->progs.seed_tasks);
	run_iter(p->skel->progs.seed_sockets);
}

/* Programs beyond the TCP and process tracepoints, which older kernels or
 * other set-ups may refuse: loading is retried without them (best first). */
enum optional {
	WITH_UDP = 1,
	WITH_SEED = 2
};

/* The UDP programs, attached together on the cgroup root. */
static void udp_programs(struct tv_os *skel, struct bpf_program *out[NUDP])
{
	out[0] = skel->progs.udp_sock_create;
	out[1] = skel->progs.udp_sock_release;
	out[2] = skel->progs.udp_egress;
	out[3] = skel->progs.udp_ingress;
}

static void choose_programs(struct tv_os *skel, unsigned with)
{
	struct bpf_program *udp[NUDP];
	udp_programs(skel, udp);
	for (size_t i = 0; i < NUDP; i++) {
		bpf_program__set_autoload(udp[i], (with & WITH_UDP) != 0);
		bpf_program__set_autoattach(udp[i], false); /* on the cgroup root, by attach_udp */
	}
	bpf_program__set_autoload(skel->progs.seed_sockets, (with & WITH_SEED) != 0);
	bpf_program__set_autoattach(skel->progs.seed_sockets, false);
	bpf_program__set_autoload(skel->progs.seed_tasks, (with & WITH_SEED) != 0);
	bpf_program__set_autoattach(skel->progs.seed_tasks, false);
}

/* Opens and loads the skeleton with as many optional programs as the kernel
 * takes. @return 0 with *with what loaded, or the first load's error. */
static int load(struct tv_os_probe *p, unsigned *with)
{
	static const unsigned tries[] = {WITH_UDP | WITH_SEED, WITH_SEED, 0};
	int first = 0;
	for (size_t t = 0; t < sizeof(tries) / sizeof(*tries); t++) {
		tv_os__destroy(p->skel);
		if (!(p->skel = tv_os__open()))
			return tv_err(-errno ? -errno : -ENOMEM, "BPF: cannot open the OS programs");
		choose_programs(p->skel, tries[t]);
		int rc = tv_os__load(p->skel);
		if (!rc) {
			*with = tries[t];
			return 0;
		}
		if (!first)
			first = rc;
		if (rc == -EPERM) /* no privileges: fewer programs will not help (the verifier says EACCES) */
			break;
	}
	return tv_err(
		first == -EPERM || first == -EACCES ? -EPERM : first,
		"BPF: cannot load the OS programs: %s (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)",
		strerror(-first));
}

/* The UDP programs on the cgroup root: they see every socket of the node
 * (cgroups do not depend on network namespaces). */
static void attach_udp(struct tv_os_probe *p, const char *cgroup_root)
{
	int fd = cgroup_root && cgroup_root[0] ? open(cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (fd < 0) {
		snprintf(p->udp, sizeof(p->udp), "no cgroup2 root to attach to (%s)",
			 cgroup_root && cgroup_root[0] ? strerror(errno) : "none found");
		return;
	}
	struct bpf_program *progs[NUDP];
	udp_programs(p->skel, progs);
	for (size_t i = 0; i < NUDP && !p->udp[0]; i++)
		if (!(p->cgroup_links[i] = bpf_program__attach_cgroup(progs[i], fd)))
			snprintf(p->udp, sizeof(p->udp), "cannot attach %s to %s: %s",
				 bpf_program__name(progs[i]), cgroup_root, strerror(errno));
	close(fd);
	for (size_t i = 0; p->udp[0] && i < NUDP; i++) { /* all or none */
		bpf_link__destroy(p->cgroup_links[i]);
		p->cgroup_links[i] = NULL;
	}
}

int tv_os_probe_open(struct tv_os_probe **out, const char *cgroup_root)
{
	*out = NULL;
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		return tv_err(-ENOTSUP, "the kernel has no BTF (/sys/kernel/btf/vmlinux): no OS layer");
	libbpf_set_print(quiet);
	struct tv_os_probe *p = calloc(1, sizeof(*p));
	if (!p)
		return tv_err(-ENOMEM, "out of memory");
	unsigned with = 0;
	int rc = load(p, &with);
	if (rc) {
	} else if ((rc = tv_os__attach(p->skel))) {
		rc = tv_err(rc == -EPERM ? -EPERM : -ENOTSUP,
			    "BPF: cannot attach the OS programs: %s (BTF tracepoints missing?)",
			    strerror(-rc));
	} else if (!(p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.events), on_record, p, NULL))) {
		rc = tv_err(-errno ? -errno : -ENOMEM, "BPF: cannot map the ring buffer");
	} else {
		if (with & WITH_UDP)
			attach_udp(p, cgroup_root);
		else
			snprintf(p->udp, sizeof(p->udp), "the kernel refused the cgroup programs");
		if (with & WITH_SEED)
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

const char *tv_os_probe_udp(const struct tv_os_probe *p)
{
	return p->udp;
}

void tv_os_probe_free(struct tv_os_probe *p)
{
	if (!p)
		return;
	ring_buffer__free(p->rb);
	for (size_t i = 0; i < NUDP; i++)
		bpf_link__destroy(p->cgroup_links[i]);
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
