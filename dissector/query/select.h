/* SPDX-License-Identifier: Apache-2.0 */
/* select: which packets belong to the workloads a user named, by who held
 * each address at the packet's time (names.h) -- `tapvault pcap --pod
 * REGEX --namespace NS --workload NAME`, Kubeshark's export by workload,
 * but resolved offline from the segments' own events. A packet is kept
 * when its source or its destination is a pod that matches every criterion
 * given (within a criterion, any of its values). */
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
	const struct tv_names *names;
};

/* pod_regex may be NULL; the arrays are borrowed. @return 0, or -EINVAL
 * with a message for a bad regular expression. */
int tv_select_init(struct tv_select *s, const char *pod_regex, const char *const *namespaces, size_t nns,
		   const char *const *workloads, size_t nworkloads);
void tv_select_cleanup(struct tv_select *s);
/* @return true when any criterion is set (otherwise everything matches). */
bool tv_select_active(const struct tv_select *s);
/* @return true when n is a pod that matches every criterion. */
bool tv_select_name(const struct tv_select *s, const struct tv_name *n);
/* @return true when one end of the packet (link type linktype) was such a
 * pod at p->ts_ns; s->names must be set. */
bool tv_select_packet(const struct tv_select *s, uint16_t linktype, const struct tv_packet *p);

#endif
