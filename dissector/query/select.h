/* SPDX-License-Identifier: Apache-2.0 */
/* select: which packets belong to the workloads and processes a user named,
 * by who held each address at the packet's time (names.h) and whose socket
 * each end was (procs.h) -- `tapvault pcap --pod REGEX --namespace NS
 * --workload NAME --process COMM|PID --container ID`, Kubeshark's export by
 * workload, but resolved offline from the segments' own events. A packet is
 * kept when its source or its destination matches every criterion given
 * (within a criterion, any of its values): the pod criteria need a pod, the
 * process ones the OS layer's record of the end's socket. */
#ifndef TV_SELECT_H
#define TV_SELECT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/segment.h"

struct tv_names;
struct tv_name;

#define TV_SELECT_MAX 64 /* values per criterion */

struct tv_select {
	bool has_pod;
	regex_t pod; /* POSIX extended, unanchored: "^api-" for a prefix */
	const char *const *namespaces;
	size_t nnamespaces;
	const char *const *workloads; /* "NAME" or "KIND/NAME" (Deployment/web) */
	size_t nworkloads;
	const char *const *processes; /* a comm ("nginx") or a pid ("1234") */
	size_t nprocesses;
	const char *const *containers; /* a container id or its prefix, or a container's name */
	size_t ncontainers;
	const struct tv_names *names;
};

/* pod_regex may be NULL; the arrays are borrowed. @return 0, or -EINVAL
 * with a message for a bad regular expression. */
int tv_select_init(struct tv_select *s, const char *pod_regex, const char *const *namespaces, size_t nns,
		   const char *const *workloads, size_t nworkloads);
/* Adds the process criteria (arrays borrowed). */
void tv_select_set_processes(struct tv_select *s, const char *const *processes, size_t np,
			     const char *const *containers, size_t nc);
void tv_select_cleanup(struct tv_select *s);
/* @return true when any criterion is set (otherwise everything matches). */
bool tv_select_active(const struct tv_select *s);
/* @return true when n is a pod that matches every criterion. */
bool tv_select_name(const struct tv_select *s, const struct tv_name *n);
/* @return true when one end of the packet (link type linktype) matched
 * at p->ts_ns; s->names must be set. */
bool tv_select_packet(const struct tv_select *s, uint16_t linktype, const struct tv_packet *p);

#endif
