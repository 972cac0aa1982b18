/* SPDX-License-Identifier: Apache-2.0 */
/* netlink: the node's links and routes, kept current from rtnetlink (libmnl).
 * A socket subscribed to link and route changes is opened first, then both
 * tables are dumped, so no change falls between the dump and the events.
 * What `--interface auto` needs: a pod's IP -> the host interface its
 * route goes out of (a veth for routed CNIs, a bridge for bridged ones),
 * and which links exist, of which kind, enslaved to what. */
#ifndef TV_AGENT_NETLINK_H
#define TV_AGENT_NETLINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tv_link_info {
	uint32_t ifindex;
	char name[IF_NAMESIZE];
	char kind[16];   /* IFLA_INFO_KIND: "veth", "bridge", ... ("" for a physical link) */
	uint32_t master; /* the bridge it is a port of (0: none) */
	bool up;
};

struct tv_netlink;

/* @return 0 or negative errno (message set). */
int tv_netlink_open(struct tv_netlink **out);
void tv_netlink_free(struct tv_netlink *nl);
/* The socket to poll for changes. */
int tv_netlink_fd(const struct tv_netlink *nl);
/* Applies every change waiting on the socket (never blocks). @return 1 when
 * the links or routes changed, 0 when not, negative errno on a socket error
 * (after ENOBUFS -- changes were lost -- both tables are dumped again). */
int tv_netlink_read(struct tv_netlink *nl);

/* The link with that index, or NULL. Valid until the next read. */
const struct tv_link_info *tv_netlink_link(const struct tv_netlink *nl, uint32_t ifindex);
/* Every link (count in *n). Valid until the next read. */
const struct tv_link_info *tv_netlink_links(const struct tv_netlink *nl, size_t *n);
/* The interface a packet to addr leaves by (longest prefix of the main
 * table's unicast routes with an output interface). @return its ifindex, or 0. */
uint32_t tv_netlink_route_oif(const struct tv_netlink *nl, uint8_t family, const uint8_t addr[16]);

#endif
