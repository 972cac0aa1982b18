/* SPDX-License-Identifier: Apache-2.0 */
/* names: who an address was at a moment, from the Kubernetes objects in
 * segments' events files (docs/FORMAT.md §4): a pod's IPs name the pod, a
 * service's cluster IPs name the service, each with its namespace; a
 * host-network pod's IP is its node's and names no pod.
 *
 * Records are ordered by their time, whatever order the files come in, and
 * replayed into each address's holdings: an object holds an address from
 * the record that lists it until another object takes it, the object stops
 * listing it, or is deleted. A lookup at time t names the holder at t; an
 * address let go and not taken again still names its last holder (packets of
 * a pod's last moments come after its deletion); before its first record,
 * the first holder. Objects given without a time (tv_names_add_object, a
 * `kubectl -o json` file) hold from the start, the later one given winning. */
#ifndef TV_NAMES_H
#define TV_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tv_names;

int tv_names_new(struct tv_names **out);
void tv_names_free(struct tv_names *n);
/* Applies the state and k8s records of one events file (what names the
 * object in errors). @return 0, or TV_ECORRUPT/-ENOMEM (the records before
 * the damage are applied). Pods, services and nodes hold addresses;
 * EndpointSlices say which service a pod's address serves. */
int tv_names_add_events(struct tv_names *n, const uint8_t *data, size_t len, const char *what);
/* One object (a pod or a service; other kinds name nothing). */
struct tv_k8s_object;
int tv_names_add_object(struct tv_names *n, const struct tv_k8s_object *o);
struct tv_name {
	const char *name, *ns;
	const char *node; /* a pod's node ("" when not known); NULL for a service or a node */
	const char *kind; /* "pod", "service", "node" */
	const char *workload, *workload_kind; /* a pod's controlling workload (NULL: none known) */
};
/* family 4 or 6, addr as in tv_flow_key. @return who held the address at
 * ts (ns since the epoch; valid until n is freed), or NULL. Safe from
 * several threads once the records are in. */
const struct tv_name *tv_names_lookup_at(const struct tv_names *n, uint8_t family, const uint8_t addr[16],
					 uint64_t ts);
/* The service whose EndpointSlice listed the address at ts (a pod serving
 * it), or NULL: strictly while listed, unlike a holder. */
const char *tv_names_service_at(const struct tv_names *n, uint8_t family, const uint8_t addr[16],
				uint64_t ts);
/* The same as tv_names_lookup_at, for its latest holder. */
const struct tv_name *tv_names_lookup(const struct tv_names *n, uint8_t family, const uint8_t addr[16]);
size_t tv_names_count(const struct tv_names *n);
/* The processes of sockets that the same events files' OS records name
 * (procs.h); NULL when n is NULL. */
struct tv_procs;
const struct tv_procs *tv_names_procs(const struct tv_names *n);

/* Every holding: v held the address (family, addr) over [from, to) (to
 * UINT64_MAX while still held), in no particular order. fn's non-zero
 * return stops the walk and is returned. */
typedef int (*tv_names_holding_fn)(void *ctx, uint8_t family, const uint8_t addr[16], const struct tv_name *v,
				   uint64_t from, uint64_t to);
int tv_names_each_holding(const struct tv_names *n, tv_names_holding_fn fn, void *ctx);

#endif
