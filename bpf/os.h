/* SPDX-License-Identifier: Apache-2.0 */
/* os.h: what os.bpf.c sends to user space (nodeagent/os_probe.c), one
 * fixed-width record per event through a BPF ring buffer. Shared by the BPF
 * program and user space: plain fixed-width types only, no kernel or libc
 * header. */
#ifndef TV_BPF_OS_H
#define TV_BPF_OS_H

#define TV_OS_COMM_LEN 16

enum tv_os_kind {
	TV_OS_CONNECT = 1,  /* an outgoing TCP connection is established */
	TV_OS_ACCEPT = 2,   /* an incoming one (attributed to its listener's process) */
	TV_OS_CLOSE = 3,    /* a TCP connection ends */
	TV_OS_EXEC = 4,     /* a process runs a new program */
	TV_OS_EXIT = 5,     /* a process (thread group) ends */
	TV_OS_LISTEN = 6,   /* a TCP socket listens */
	TV_OS_UDP = 7,      /* a UDP socket's first packet on a local address (and its peer, if connected) */
	TV_OS_EXISTING = 8, /* a TCP connection or UDP socket open before the programs were loaded */
};

/* Counters in the `stats` array map. */
enum tv_os_stat {
	TV_OS_STAT_EVENTS = 0,  /* records sent */
	TV_OS_STAT_DROPS = 1,   /* records lost: the ring was full */
	TV_OS_STAT_NOOWNER = 2, /* connections whose process was not seen (older than the agent) */
	TV_OS_STAT_N = 3,
};

struct tv_os_record {
	unsigned long long ts_ns;     /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	unsigned long long cgroup_id; /* the process's cgroup v2 id (0: not known) */
	unsigned long long cookie;    /* the socket's cookie (UDP records; 0: not known) */
	unsigned int pid;             /* thread group id (what ps calls the PID); 0: not known */
	unsigned int tid;
	unsigned int netns;   /* inode number of the socket's network namespace */
	unsigned char kind;   /* enum tv_os_kind */
	unsigned char family; /* 4, 6, 0 without a socket */
	unsigned short sport; /* host order; for ACCEPT the listening (local) port */
	unsigned short dport;
	unsigned char proto; /* 6 TCP, 17 UDP, 0 without a socket */
	unsigned char pad;
	unsigned char saddr[16]; /* local address; IPv4 in the first 4 bytes */
	unsigned char daddr[16]; /* remote address */
	char comm[TV_OS_COMM_LEN];
};

#endif
