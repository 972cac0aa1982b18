/* SPDX-License-Identifier: Apache-2.0 */
/* os_watch: loads the OS layer's BPF programs (nodeagent/os_probe.c) and
 * prints every record as one line for SECONDS, then the counters:
 *   KIND pid=N tid=N comm=C cgroup=N netns=N SRC:PORT > DST:PORT
 *   stats events=N drops=N noowner=N
 * Exit 77 when the kernel or the privileges do not allow BPF (the reason on
 * stderr), for the tests to skip with it. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/common/err.h"
#include "nodeagent/os_probe.h"

static void addr(char *out, size_t n, unsigned family, const unsigned char *a)
{
	if (!family)
		snprintf(out, n, "-");
	else
		inet_ntop(family == 4 ? AF_INET : AF_INET6, a, out, (socklen_t)n);
}

static void print(void *ctx, const struct tv_os_record *r, uint64_t ts)
{
	(void)ctx;
	char s[64], d[64], comm[TV_OS_COMM_LEN + 1];
	addr(s, sizeof(s), r->family, r->saddr);
	addr(d, sizeof(d), r->family, r->daddr);
	memcpy(comm, r->comm, TV_OS_COMM_LEN);
	comm[TV_OS_COMM_LEN] = '\0';
	printf("%s ts=%llu pid=%u tid=%u comm=%s cgroup=%llu proto=%u cookie=%llu netns=%u %s:%u > %s:%u\n",
	       tv_os_kind_name(r->kind), (unsigned long long)ts, r->pid, r->tid, comm,
	       (unsigned long long)r->cgroup_id, r->proto, (unsigned long long)r->cookie, r->netns, s,
	       r->sport, d, r->dport);
	fflush(stdout);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: the poll returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	double secs = argc > 1 ? atof(argv[1]) : 5;
	struct tv_os_probe *p;
	/* the cgroup2 root for the UDP programs (argument 2; "" or absent: none) */
	int rc = tv_os_probe_open(&p, argc > 2 ? argv[2] : NULL);
	if (rc) {
		fprintf(stderr, "os_watch: %s\n", tv_errmsg());
		return rc == -ENOTSUP || rc == -EPERM ? 77 : 1;
	}
	fprintf(stderr, "os_watch: attached%s%s\n", tv_os_probe_udp(p)[0] ? "; UDP off: " : "",
		tv_os_probe_udp(p));
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if ((rc = tv_os_probe_poll(p, 100, print, NULL)) < 0) {
			fprintf(stderr, "os_watch: %s\n", tv_errmsg());
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (!stop && (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	tv_os_probe_poll(p, 0, print, NULL); /* what came since the last poll */
	uint64_t st[TV_OS_STAT_N];
	tv_os_probe_stats(p, st);
	printf("stats events=%llu drops=%llu noowner=%llu\n", (unsigned long long)st[TV_OS_STAT_EVENTS],
	       (unsigned long long)st[TV_OS_STAT_DROPS], (unsigned long long)st[TV_OS_STAT_NOOWNER]);
	tv_os_probe_free(p);
	return rc < 0 ? 1 : 0;
}
