/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* os.bpf.c: process context for TCP connections and process lifetimes.
 *
 * Hooks are BTF tracepoints (tp_btf): they need neither tracefs nor kprobes
 * (absent on some kernels, this one included), and CO-RE relocates every
 * field access to the running kernel's layout.
 *
 * - inet_sock_set_state: SYN_SENT runs in the connecting process (connect()),
 *   so its pid/comm/cgroup are remembered by socket; ESTABLISHED after
 *   SYN_SENT emits CONNECT with the full 5-tuple (the source port is chosen
 *   after SYN_SENT). LISTEN runs in the listening process: remembered by
 *   (netns, port). ESTABLISHED after SYN_RECV runs in softirq, where
 *   `current` is whatever was running: the ACCEPT is attributed to the
 *   listener's process instead (an accepted socket is cloned from its
 *   listener, cgroup included). CLOSE emits CLOSE and forgets the socket.
 * - sched_process_exec / sched_process_exit: EXEC and EXIT.
 * - UDP has no connection to follow: cgroup/sock_create (in socket(), the
 *   process is current) remembers each UDP socket's owner by its cookie;
 *   cgroup_skb on the cgroup root sees every packet of every socket, and
 *   the first one of a UDP socket on a local address emits UDP (its local
 *   end, and its peer when connected) -- a socket serving many peers is one
 *   record, not one per peer. cgroup/sock_release emits its CLOSE. Ingress
 *   runs in softirq: its owner comes from the map only.
 * - iter/task_file, once at load: the sockets that already exist (EXISTING).
 * Every record that does not fit the ring is counted (TV_OS_STAT_DROPS). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "os.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
/* include/net/tcp_states.h */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7
#define TCP_LISTEN 10

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct owner {
	__u64 cgroup_id;
	__u32 pid, tid;
	__u16 sport; /* the local port once known: it is gone from the socket by CLOSE */
	__u16 pad[3];
	char comm[TV_OS_COMM_LEN];
};

struct listen_key {
	__u32 netns;
	__u32 port;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

/* connected sockets -> their process: who called connect(), or the
 * listener that accepted them */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct owner);
} conn_owner SEC(".maps");

/* (netns, port) -> the process listening there */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct listen_key);
	__type(value, struct owner);
} listeners SEC(".maps");

/* UDP socket cookie -> its owner (sock_create, or the iterator at load) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct owner);
} udp_owner SEC(".maps");

/* (UDP socket cookie, local address) already reported: 1; 0: seen, not
 * reported (a packet in for a socket older than the programs: its owner is
 * not known in softirq; its first packet out reports it, with its sender) */
struct udp_seen_key {
	__u64 cookie;
	__u8 local[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct udp_seen_key);
	__type(value, __u8);
} udp_seen SEC(".maps");

/* process (tgid) -> its name, the main thread's comm: a record names the
 * process, not the thread that made the call ("isc-net-0000" for dig).
 * Set at exec and, for processes older than the programs, by seed_tasks;
 * a process forked without exec is not in it: its caller's comm is used. */
struct proc_name {
	char comm[TV_OS_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct proc_name);
} proc_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TV_OS_STAT_N);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &which);
	if (v)
		(*v)++;
}

static __always_inline void current_owner(struct owner *o)
{
	__u64 id = bpf_get_current_pid_tgid();
	o->pid = id >> 32;
	o->tid = (__u32)id;
	o->cgroup_id = bpf_get_current_cgroup_id();
	struct proc_name *n = bpf_map_lookup_elem(&proc_names, &o->pid);
	if (n)
		__builtin_memcpy(o->comm, n->comm, sizeof(o->comm));
	else
		bpf_get_current_comm(o->comm, sizeof(o->comm));
}

static __always_inline struct tv_os_record *reserve(__u8 kind)
{
	struct tv_os_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count(TV_OS_STAT_DROPS);
		return NULL;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->ts_ns = bpf_ktime_get_ns();
	r->kind = kind;
	return r;
}

/* Batched wakeups: waking the reader costs several microseconds per record
 * (measured: it was most of each program's run time), so the reader is woken
 * only once a quarter of the ring is waiting; otherwise it finds the
 * records at its next poll (at most 100 ms later). */
#define WAKEUP_BYTES (1 << 20)

static __always_inline void submit(struct tv_os_record *r)
{
	count(TV_OS_STAT_EVENTS);
	__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP
										    : BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(r, flags);
}

static __always_inline void set_owner(struct tv_os_record *r, const struct owner *o)
{
	r->pid = o->pid;
	r->tid = o->tid;
	r->cgroup_id = o->cgroup_id;
	__builtin_memcpy(r->comm, o->comm, sizeof(r->comm));
}

/* An AF_INET6 socket carrying IPv4 (a dual-stack socket, as gRPC and Java
 * make): its peer is v4-mapped (::ffff:a.b.c.d), or -- on the accepting
 * side at ESTABLISHED, where the v6 fields are not filled yet -- zero while
 * the IPv4 one is real (a pure IPv6 socket keeps 127.0.0.6 there). */
static __always_inline bool ipv4_on_ipv6(const struct sock *sk, const __u8 d6[16])
{
	bool zero10 = true;
	for (int i = 0; i < 10; i++)
		zero10 = zero10 && !d6[i];
	if (zero10 && d6[10] == 0xff && d6[11] == 0xff)
		return true;
	bool all_zero = zero10 && !d6[10] && !d6[11] && !d6[12] && !d6[13] && !d6[14] && !d6[15];
	__u32 d4 = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	return all_zero && d4 && d4 != __builtin_bswap32(0x7f000006);
}

/* Addresses, ports and namespace of sk into r (local = source). */
static __always_inline void set_tuple(struct tv_os_record *r, const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	r->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	r->dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	r->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	r->proto = BPF_CORE_READ(sk, sk_protocol);
	if (family == AF_INET) {
		r->family = 4;
		__u32 s = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr),
		      d = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(r->saddr, &s, 4);
		__builtin_memcpy(r->daddr, &d, 4);
	} else if (family == AF_INET6) {
		r->family = 6;
		BPF_CORE_READ_INTO(r->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(r->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		if (ipv4_on_ipv6(sk, r->daddr)) { /* the packets are IPv4: name them so */
			r->family = 4;
			__u32 s = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr),
			      d = BPF_CORE_READ(sk, __sk_common.skc_daddr);
			__builtin_memset(r->saddr, 0, 16);
			__builtin_memset(r->daddr, 0, 16);
			__builtin_memcpy(r->saddr, &s, 4);
			__builtin_memcpy(r->daddr, &d, 4);
		}
	}
}

static __always_inline struct listen_key listen_key_of(const struct sock *sk)
{
	struct listen_key k = {
		.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum),
		.port = BPF_CORE_READ(sk, __sk_common.skc_num),
	};
	return k;
}

static __always_inline void emit_sock(__u8 kind, const struct sock *sk, const struct owner *o)
{
	struct tv_os_record *r = reserve(kind);
	if (!r)
		return;
	set_tuple(r, sk);
	if (o) {
		set_owner(r, o);
		if (!r->sport)
			r->sport = o->sport;
	} else {
		count(TV_OS_STAT_NOOWNER);
	}
	submit(r);
}

/* Remembers sk's owner, with the local port it now has, until CLOSE. */
static __always_inline void remember(const struct sock *sk, const struct owner *o)
{
	if (!o)
		return;
	__u64 key = (__u64)sk;
	struct owner c = *o;
	c.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	bpf_map_update_elem(&conn_owner, &key, &c, BPF_ANY);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_sock_state, const struct sock *sk, const int oldstate, const int newstate)
{
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	__u64 key = (__u64)sk;
	struct owner o = {};
	if (newstate == TCP_SYN_SENT) { /* in connect(): the process is current */
		current_owner(&o);
		bpf_map_update_elem(&conn_owner, &key, &o, BPF_ANY);
	} else if (newstate == TCP_LISTEN) { /* in listen() */
		current_owner(&o);
		struct listen_key lk = listen_key_of(sk);
		bpf_map_update_elem(&listeners, &lk, &o, BPF_ANY);
		emit_sock(TV_OS_LISTEN, sk, &o);
	} else if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_SENT) {
		struct owner *co = bpf_map_lookup_elem(&conn_owner, &key);
		emit_sock(TV_OS_CONNECT, sk, co);
		remember(sk, co);
	} else if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV) {
		/* softirq: never trust current; the listener's process accepts it */
		struct listen_key lk = listen_key_of(sk);
		struct owner *lo = bpf_map_lookup_elem(&listeners, &lk);
		emit_sock(TV_OS_ACCEPT, sk, lo);
		remember(sk, lo);
	} else if (newstate == TCP_CLOSE && oldstate == TCP_LISTEN) {
		struct listen_key lk = listen_key_of(sk);
		bpf_map_delete_elem(&listeners, &lk);
	} else if (newstate == TCP_CLOSE) {
		struct owner *co = bpf_map_lookup_elem(&conn_owner, &key);
		if (co) {
			emit_sock(TV_OS_CLOSE, sk, co);
			bpf_map_delete_elem(&conn_owner, &key);
		} else if (oldstate != TCP_SYN_RECV && oldstate != TCP_SYN_SENT) {
			emit_sock(TV_OS_CLOSE, sk, NULL); /* established before the agent started */
		}
	}
	return 0;
}

static __always_inline int emit_task(__u8 kind)
{
	struct tv_os_record *r = reserve(kind);
	if (!r)
		return 0;
	struct owner o = {};
	current_owner(&o);
	set_owner(r, &o);
	submit(r);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	/* after exec the caller is the process's only thread, comm the new program's */
	struct proc_name n = {};
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(n.comm, sizeof(n.comm));
	bpf_map_update_elem(&proc_names, &tgid, &n, BPF_ANY);
	return emit_task(TV_OS_EXEC);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u64 id = bpf_get_current_pid_tgid();
	if ((id >> 32) != (__u32)id) /* a thread, not the process */
		return 0;
	emit_task(TV_OS_EXIT);
	__u32 tgid = id >> 32;
	bpf_map_delete_elem(&proc_names, &tgid);
	return 0;
}

#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* The owner of a socket file that task holds, named by its process. */
static __always_inline void task_owner(struct owner *o, struct task_struct *task)
{
	o->pid = BPF_CORE_READ(task, tgid);
	o->tid = BPF_CORE_READ(task, pid);
	o->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	BPF_CORE_READ_STR_INTO(&o->comm, task, group_leader, comm);
}

/* Run once at start, before seed_sockets: the name of every process that
 * exists (its main thread's comm). */
SEC("iter/task")
int seed_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	if (!task || BPF_CORE_READ(task, pid) != BPF_CORE_READ(task, tgid))
		return 0;
	struct proc_name n = {};
	__u32 tgid = BPF_CORE_READ(task, tgid);
	BPF_CORE_READ_STR_INTO(&n.comm, task, comm);
	bpf_map_update_elem(&proc_names, &tgid, &n, BPF_NOEXIST); /* an exec meanwhile knows better */
	return 0;
}

/* Run once at start (os_probe.c reads it to its end): every TCP and UDP
 * socket that a process holds open. Listeners, connections and UDP sockets
 * that existed before the agent started get their owner, so their later
 * accepts, packets and closes are attributed like those of sockets the
 * programs saw being made; connections and UDP sockets are reported
 * (EXISTING), so a reader knows their process before any close. Nothing is
 * written to the iterator's output. */
SEC("iter/task_file")
int seed_sockets(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	if (!task || !file)
		return 0;
	umode_t mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return 0;
	struct socket *sock = BPF_CORE_READ(file, private_data);
	struct sock *sk = sock ? BPF_CORE_READ(sock, sk) : NULL;
	if (!sk)
		return 0;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family), proto = BPF_CORE_READ(sk, sk_protocol);
	if ((family != AF_INET && family != AF_INET6) || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return 0;
	struct owner o = {};
	task_owner(&o, task);
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (proto == IPPROTO_UDP) {
		/* Read, not made: the cookie helper does not take this pointer
		 * here. A socket never given one (0) gets its owner at its first
		 * packet out (udp_packet); until then its packets in are
		 * unattributed, counted. */
		__u64 cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
		if (!cookie)
			return 0;
		if (bpf_map_update_elem(&udp_owner, &cookie, &o, BPF_NOEXIST))
			return 0; /* shared with a process already seen */
		struct tv_os_record *r = reserve(TV_OS_EXISTING);
		if (r) {
			set_tuple(r, sk);
			set_owner(r, &o);
			r->cookie = cookie;
			submit(r);
		}
	} else if (state == TCP_LISTEN) {
		struct listen_key lk = listen_key_of(sk);
		bpf_map_update_elem(&listeners, &lk, &o,
				    BPF_NOEXIST); /* the first holder of a shared listener */
	} else if (state == TCP_ESTABLISHED) {
		__u64 key = (__u64)sk;
		if (bpf_map_lookup_elem(&conn_owner, &key))
			return 0;
		remember(sk, &o);
		emit_sock(TV_OS_EXISTING, sk, &o);
	}
	return 0;
}

/* ---- UDP: cgroup hooks on the cgroup root (os_probe.c attaches them) ---- */

SEC("cgroup/sock_create")
int udp_sock_create(struct bpf_sock *ctx)
{
	if (ctx->protocol != IPPROTO_UDP || (ctx->family != AF_INET && ctx->family != AF_INET6))
		return 1;
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct owner o = {};
	current_owner(&o);
	bpf_map_update_elem(&udp_owner, &cookie, &o, BPF_ANY);
	return 1; /* always allowed: the programs only watch */
}

SEC("cgroup/sock_release")
int udp_sock_release(struct bpf_sock *ctx)
{
	if (ctx->protocol != IPPROTO_UDP || (ctx->family != AF_INET && ctx->family != AF_INET6))
		return 1;
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct owner *o = bpf_map_lookup_elem(&udp_owner, &cookie);
	if (!o)
		return 1;
	if (!o->sport) { /* never carried a packet: no record names it, none ends it */
		bpf_map_delete_elem(&udp_owner, &cookie);
		return 1;
	}
	struct tv_os_record *r = reserve(TV_OS_CLOSE);
	if (r) {
		set_owner(r, o);
		r->cookie = cookie;
		r->proto = IPPROTO_UDP;
		r->family = ctx->family == AF_INET ? 4 : 6;
		r->sport = o->sport; /* the socket's port is not readable here: its first packet's */
		submit(r);
	}
	bpf_map_delete_elem(&udp_owner, &cookie);
	return 1;
}

/* The packet's local address (egress: its source; ingress: its
 * destination) into local; 4 or 6, or 0 when not IP. cgroup_skb data
 * starts at the network header. */
static __always_inline int packet_local(struct __sk_buff *skb, bool egress, __u8 local[16])
{
	__u8 v;
	if (bpf_skb_load_bytes(skb, 0, &v, 1))
		return 0;
	if ((v >> 4) == 4)
		return bpf_skb_load_bytes(skb, egress ? 12 : 16, local, 4) ? 0 : 4;
	if ((v >> 4) == 6)
		return bpf_skb_load_bytes(skb, egress ? 8 : 24, local, 16) ? 0 : 6;
	return 0;
}

static __always_inline void udp_packet(struct __sk_buff *skb, bool egress)
{
	struct bpf_sock *sk = skb->sk;
	if (!sk)
		return;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != IPPROTO_UDP) /* TCP is followed by its states */
		return;
	struct udp_seen_key k = {.cookie = bpf_get_socket_cookie(skb)};
	int family = packet_local(skb, egress, k.local);
	if (!family)
		return;
	__u8 *seen = bpf_map_lookup_elem(&udp_seen, &k);
	if (seen && (*seen || !egress))
		return;
	struct owner *o = bpf_map_lookup_elem(&udp_owner, &k.cookie), mine = {};
	if (!o && egress) { /* a socket older than the programs: the sender is current */
		current_owner(&mine);
		o = &mine;
		bpf_map_update_elem(&udp_owner, &k.cookie, &mine, BPF_NOEXIST);
	}
	__u8 owned = o != NULL;
	bpf_map_update_elem(&udp_seen, &k, &owned, BPF_ANY);
	if (!o) { /* a record naming nobody says nothing: its first packet out will */
		count(TV_OS_STAT_NOOWNER);
		return;
	}
	if (!o->sport)
		o->sport = sk->src_port; /* for its CLOSE */
	struct tv_os_record *r = reserve(TV_OS_UDP);
	if (!r)
		return;
	r->cookie = k.cookie;
	r->proto = IPPROTO_UDP;
	r->family = family;
	__builtin_memcpy(r->saddr, k.local, 16);
	r->sport = sk->src_port;
	r->dport = __builtin_bswap16(sk->dst_port); /* 0: not connected, any peer */
	if (r->dport) {
		if (family == 4) {
			__u32 d = sk->dst_ip4;
			__builtin_memcpy(r->daddr, &d, 4);
		} else {
			__u32 d[4] = {sk->dst_ip6[0], sk->dst_ip6[1], sk->dst_ip6[2], sk->dst_ip6[3]};
			__builtin_memcpy(r->daddr, d, 16);
		}
	}
	set_owner(r, o);
	submit(r);
}

SEC("cgroup_skb/egress")
int udp_egress(struct __sk_buff *skb)
{
	udp_packet(skb, true);
	return 1;
}

SEC("cgroup_skb/ingress")
int udp_ingress(struct __sk_buff *skb)
{
	udp_packet(skb, false);
	return 1;
}
