/* SPDX-License-Identifier: Apache-2.0 */
/* capture: where packets come from. One interface, one backend per file
 * behind an ops table, as store.h does it: capture_pcap.c (libpcap,
 * TPACKET_V3 ring; also replays a capture file) now, an eBPF TC backend
 * next. No libpcap or libbpf type appears here, so callers include neither
 * (their headers clash on struct bpf_insn). */
#ifndef TV_CAPTURE_H
#define TV_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "archive/pcapng.h"

#define TV_CAPTURE_MAX_IFACES 256

struct tv_capture_opts {
	const char *const *interfaces; /* names; "any" allowed */
	uint32_t ninterfaces;
	uint32_t snaplen;
	const char *filter;    /* BPF (tcpdump syntax); "" or NULL: everything */
	uint64_t ring_bytes;   /* kernel ring per interface */
	const char *read_file; /* replay this pcap/pcapng instead of capturing */
	const char *backend;   /* "pcap" (the default when NULL) */
};

/* Called for each packet; data is valid only during the call. */
typedef int (*tv_capture_fn)(void *ctx, uint32_t ifindex, uint64_t ts_ns, uint32_t caplen, uint32_t len,
			     const uint8_t *data);

struct tv_capture;

/* One interface wanted, with its filter (BPF; NULL: everything). */
struct tv_capture_want {
	const char *name;
	const char *filter;
};

/* A backend. Semantics of each operation: the tv_capture_* function below. */
struct tv_capture_ops {
	const char *name;
	int (*open)(struct tv_capture **out, const struct tv_capture_opts *o);
	void (*free)(struct tv_capture *c);
	uint32_t (*niface)(const struct tv_capture *c);
	void (*iface)(const struct tv_capture *c, uint32_t i, struct tv_iface *out);
	int (*poll)(struct tv_capture *c, int timeout_ms, tv_capture_fn fn, void *ctx);
	int (*stats)(struct tv_capture *c, uint32_t i, uint64_t *received, uint64_t *dropped,
		     uint64_t *if_dropped);
	void (*health)(const struct tv_capture *c, uint32_t i, bool *up, uint64_t *lost, uint64_t *reopened);
	uint64_t (*health_changes)(const struct tv_capture *c);
	int (*pause)(struct tv_capture *c, bool paused);
	bool (*is_replay)(const struct tv_capture *c);
	int (*reconcile)(struct tv_capture *c, const struct tv_capture_want *want, uint32_t n,
			 int32_t *moved_from);
};

/* The first member of every backend's handle. */
struct tv_capture {
	const struct tv_capture_ops *ops;
};

extern const struct tv_capture_ops tv_capture_pcap_ops;

/* Opens every interface with the backend o->backend names (needs
 * CAP_NET_RAW). @return 0, -ENOTSUP for an unknown backend, or negative
 * errno with a message naming the interface. */
int tv_capture_open(struct tv_capture **out, const struct tv_capture_opts *o);
void tv_capture_free(struct tv_capture *c);

uint32_t tv_capture_niface(const struct tv_capture *c);
/* name, linktype (LINKTYPE_*), snaplen of interface i. */
void tv_capture_iface(const struct tv_capture *c, uint32_t i, struct tv_iface *out);

/* Waits up to timeout_ms for packets and delivers what is ready on every
 * interface. An interface that fails is closed and retried every second
 * (logged; see tv_capture_health) rather than ending the capture. @return packets delivered (>= 0), -ENODATA at the end of a
 * replayed file, or another negative errno. A callback's non-zero return
 * stops the delivery and is returned. */
int tv_capture_poll(struct tv_capture *c, int timeout_ms, tv_capture_fn fn, void *ctx);

/* Kernel counters since open (pcap_stats). @return 0 or -ENOTSUP. */
int tv_capture_stats(struct tv_capture *c, uint32_t i, uint64_t *received, uint64_t *dropped,
		     uint64_t *if_dropped);

/* Interface i: open now (false while lost and being reopened), times lost
 * and times reopened. A replay is always up. */
void tv_capture_health(const struct tv_capture *c, uint32_t i, bool *up, uint64_t *lost, uint64_t *reopened);
/* Grows whenever an interface is lost or reopened: the health above needs
 * reading again only when this changed. */
uint64_t tv_capture_health_changes(const struct tv_capture *c);

/* Stops (true) or resumes (false) delivery without closing: a filter that
 * matches nothing is installed so the kernel does not queue packets. */
int tv_capture_pause(struct tv_capture *c, bool paused);

/* Makes the interfaces those of want, in that order: an interface already
 * open keeps its ring and counters (its filter replaced if it changed), the
 * others are closed, new ones opened (one that cannot be opened yet is kept
 * lost and retried every second, assumed Ethernet until then).
 * moved_from[j] receives new interface j's old index, or -1.
 * @return 0, -ENOTSUP for a replay, -EINVAL beyond TV_CAPTURE_MAX_IFACES. */
int tv_capture_reconcile(struct tv_capture *c, const struct tv_capture_want *want, uint32_t n,
			 int32_t *moved_from);

/* @return true when replaying a file. */
bool tv_capture_is_replay(const struct tv_capture *c);

#endif
