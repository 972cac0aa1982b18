/* SPDX-License-Identifier: Apache-2.0 */
/* procs: which process held each end of a flow at a moment, from the OS
 * layer's records in segments' events files (docs/FORMAT.md §4): `os`
 * records (connect, accept, existing, udp, close) and the live sockets of
 * each state record, joined to the Kubernetes pods' container statuses
 * (container id -> container name and pod).
 *
 * A socket holds its local end from its record until its close (a TCP
 * close by the same addresses, a UDP close by the socket's cookie). A UDP
 * socket that is not connected holds its local end for every peer. Records
 * come in any order and more than once (each segment's state repeats the
 * live sockets): they are sorted and deduplicated at the first lookup. */
#ifndef TV_PROCS_H
#define TV_PROCS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct tv_procs;

struct tv_proc {
	uint32_t pid;
	const char *comm;
	const char *exe;                 /* "" when not known */
	const char *container_id;        /* NULL: not in a pod's container */
	const char *container;           /* the container's name in its pod (NULL: not known) */
	const char *pod, *pod_namespace; /* the pod it runs in (NULL: not known) */
};

int tv_procs_new(struct tv_procs **out);
void tv_procs_free(struct tv_procs *p);
/* One events record: os, state (its sockets and pods) or k8s (pods); other
 * records are ignored, as are os records that name no socket or process.
 * @return 0 or -ENOMEM. */
int tv_procs_add_record(struct tv_procs *p, const json_t *rec);
/* The process whose socket had the local end (addr, port) with the peer
 * (peer, peer_port) at ts; proto 6 or 17, family 4 or 6, addresses as in
 * tv_flow_key. @return it (valid until p is freed) or NULL: not known.
 * Safe from several threads once the records are in. */
const struct tv_proc *tv_procs_lookup(const struct tv_procs *p, uint8_t proto, uint8_t family,
				      const uint8_t addr[16], uint16_t port, const uint8_t peer[16],
				      uint16_t peer_port, uint64_t ts);
/* Sockets known (after deduplication). */
size_t tv_procs_count(const struct tv_procs *p);
/* The process as entries show it: {pid, comm, exe, container_id, container,
 * pod, namespace}, the unknown left out (a new reference). */
json_t *tv_proc_json(const struct tv_proc *pr);

#endif
