/* SPDX-License-Identifier: Apache-2.0 */
/* netlink: see netlink.h. */
#include "nodeagent/netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "archive/common/err.h"
#include "archive/common/log.h"

struct route {
	uint8_t family, len;
	uint8_t dst[16];
	uint32_t oif;
};

struct tv_netlink {
	struct mnl_socket *events; /* subscribed to link and route changes */
	struct tv_link_info *links;
	size_t nlinks, caplinks;
	struct route *routes;
	size_t nroutes, caproutes;
	bool changed; /* by the messages being applied */
	int rc;       /* -ENOMEM while applying */
};

#define RECV_BYTES 65536

/* ---- the tables ---- */

static struct tv_link_info *find_link(struct tv_netlink *nl, uint32_t ifindex)
{
	for (size_t i = 0; i < nl->nlinks; i++)
		if (nl->links[i].ifindex == ifindex)
			return &nl->links[i];
	return NULL;
}

static void put_link(struct tv_netlink *nl, const struct tv_link_info *l)
{
	struct tv_link_info *have = find_link(nl, l->ifindex);
	if (have) {
		if (memcmp(have, l, sizeof(*l)) != 0)
			nl->changed = true;
		*have = *l;
		return;
	}
	if (nl->nlinks == nl->caplinks) {
		size_t cap = nl->caplinks ? nl->caplinks * 2 : 32;
		struct tv_link_info *v = realloc(nl->links, cap * sizeof(*v));
		if (!v) {
			nl->rc = -ENOMEM;
			return;
		}
		nl->links = v;
		nl->caplinks = cap;
	}
	nl->links[nl->nlinks++] = *l;
	nl->changed = true;
}

static void del_link(struct tv_netlink *nl, uint32_t ifindex)
{
	struct tv_link_info *l = find_link(nl, ifindex);
	if (!l)
		return;
	*l = nl->links[--nl->nlinks];
	nl->changed = true;
}

static bool same_route(const struct route *a, const struct route *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->dst, b->dst, 16) && a->oif == b->oif;
}

static void put_route(struct tv_netlink *nl, const struct route *r)
{
	for (size_t i = 0; i < nl->nroutes; i++)
		if (same_route(&nl->routes[i], r))
			return;
	if (nl->nroutes == nl->caproutes) {
		size_t cap = nl->caproutes ? nl->caproutes * 2 : 64;
		struct route *v = realloc(nl->routes, cap * sizeof(*v));
		if (!v) {
			nl->rc = -ENOMEM;
			return;
		}
		nl->routes = v;
		nl->caproutes = cap;
	}
	nl->routes[nl->nroutes++] = *r;
	nl->changed = true;
}

static void del_route(struct tv_netlink *nl, const struct route *r)
{
	for (size_t i = 0; i < nl->nroutes; i++)
		if (same_route(&nl->routes[i], r)) {
			nl->routes[i] = nl->routes[--nl->nroutes];
			nl->changed = true;
			return;
		}
}

/* ---- parsing ---- */

struct attrs {
	const struct nlattr *tb[IFLA_MAX + RTA_MAX + 2];
	int max;
};

static int keep_attr(const struct nlattr *a, void *data)
{
	struct attrs *at = data;
	int type = mnl_attr_get_type(a);
	if (type <= at->max)
		at->tb[type] = a;
	return MNL_CB_OK;
}

/* The attribute's u32 if it has one (the kernel's bytes are trusted no more
 * than they need be). */
static bool u32_attr(const struct nlattr *a, uint32_t *out)
{
	if (!a || mnl_attr_get_payload_len(a) < 4)
		return false;
	*out = mnl_attr_get_u32(a);
	return true;
}

static void on_link(struct tv_netlink *nl, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_type == RTM_DELLINK) {
		del_link(nl, (uint32_t)ifm->ifi_index);
		return;
	}
	struct attrs at = {.max = IFLA_MAX};
	if (mnl_attr_parse(nlh, sizeof(*ifm), keep_attr, &at) != MNL_CB_OK || !at.tb[IFLA_IFNAME])
		return;
	struct tv_link_info l = {.ifindex = (uint32_t)ifm->ifi_index, .up = (ifm->ifi_flags & IFF_UP) != 0};
	const char *name = mnl_attr_get_str(at.tb[IFLA_IFNAME]);
	size_t n = strnlen(name, mnl_attr_get_payload_len(at.tb[IFLA_IFNAME]));
	if (n >= sizeof(l.name))
		return;
	memcpy(l.name, name, n);
	u32_attr(at.tb[IFLA_MASTER], &l.master);
	if (at.tb[IFLA_LINKINFO]) {
		struct attrs info = {.max = IFLA_INFO_MAX};
		if (mnl_attr_parse_nested(at.tb[IFLA_LINKINFO], keep_attr, &info) == MNL_CB_OK &&
		    info.tb[IFLA_INFO_KIND]) {
			const char *kind = mnl_attr_get_payload(info.tb[IFLA_INFO_KIND]);
			size_t k = strnlen(kind, mnl_attr_get_payload_len(info.tb[IFLA_INFO_KIND]));
			if (k < sizeof(l.kind))
				memcpy(l.kind, kind, k);
		}
	}
	put_link(nl, &l);
}

static void on_route(struct tv_netlink *nl, const struct nlmsghdr *nlh)
{
	const struct rtmsg *rm = mnl_nlmsg_get_payload(nlh);
	if ((rm->rtm_family != AF_INET && rm->rtm_family != AF_INET6) || rm->rtm_type != RTN_UNICAST)
		return;
	struct attrs at = {.max = RTA_MAX};
	if (mnl_attr_parse(nlh, sizeof(*rm), keep_attr, &at) != MNL_CB_OK)
		return;
	uint32_t table = rm->rtm_table, oif;
	u32_attr(at.tb[RTA_TABLE], &table);
	if (table != RT_TABLE_MAIN || !u32_attr(at.tb[RTA_OIF], &oif))
		return;
	size_t alen = rm->rtm_family == AF_INET ? 4 : 16;
	struct route r = {.family = rm->rtm_family == AF_INET ? 4 : 6, .len = rm->rtm_dst_len, .oif = oif};
	if (at.tb[RTA_DST]) {
		if (mnl_attr_get_payload_len(at.tb[RTA_DST]) < alen)
			return;
		memcpy(r.dst, mnl_attr_get_payload(at.tb[RTA_DST]), alen);
	}
	if (r.len > alen * 8)
		return;
	if (nlh->nlmsg_type == RTM_DELROUTE)
		del_route(nl, &r);
	else
		put_route(nl, &r);
}

static int on_message(const struct nlmsghdr *nlh, void *data)
{
	struct tv_netlink *nl = data;
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct ifinfomsg))
			on_link(nl, nlh);
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct rtmsg))
			on_route(nl, nlh);
		break;
	default: break;
	}
	return nl->rc ? MNL_CB_ERROR : MNL_CB_OK;
}

/* ---- dumps and events ---- */

static int dump(struct tv_netlink *nl, uint16_t type)
{
	struct mnl_socket *s = mnl_socket_open(NETLINK_ROUTE);
	if (!s || mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		if (s)
			mnl_socket_close(s);
		return tv_err(-e, "netlink: %s", strerror(e));
	}
	char *buf = malloc(RECV_BYTES);
	if (!buf) {
		mnl_socket_close(s);
		return tv_err(-ENOMEM, "out of memory");
	}
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	uint32_t seq = (uint32_t)time(NULL);
	nlh->nlmsg_seq = seq;
	if (type == RTM_GETLINK) {
		struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
		ifm->ifi_family = AF_UNSPEC;
	} else {
		struct rtmsg *rm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rm));
		rm->rtm_family = AF_UNSPEC;
	}
	int rc = 0;
	if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0)
		rc = tv_err(-errno, "netlink dump: %s", strerror(errno));
	uint32_t portid = mnl_socket_get_portid(s);
	while (!rc) {
		ssize_t n = mnl_socket_recvfrom(s, buf, RECV_BYTES);
		if (n < 0) {
			rc = tv_err(-errno, "netlink dump: %s", strerror(errno));
			break;
		}
		int r = mnl_cb_run(buf, (size_t)n, seq, portid, on_message, nl);
		if (r == MNL_CB_STOP)
			break;
		if (r < 0)
			rc = nl->rc ? tv_err(nl->rc, "out of memory")
				    : tv_err(-errno, "netlink dump: %s", strerror(errno));
	}
	free(buf);
	mnl_socket_close(s);
	return rc;
}

static int dump_all(struct tv_netlink *nl)
{
	nl->nlinks = nl->nroutes = 0;
	nl->changed = true;
	int rc = dump(nl, RTM_GETLINK);
	return rc ? rc : dump(nl, RTM_GETROUTE);
}

int tv_netlink_open(struct tv_netlink **out)
{
	*out = NULL;
	struct tv_netlink *nl = calloc(1, sizeof(*nl));
	if (!nl)
		return tv_err(-ENOMEM, "out of memory");
	nl->events = mnl_socket_open(NETLINK_ROUTE);
	int rc = 0;
	if (!nl->events || mnl_socket_bind(nl->events, RTMGRP_LINK | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
					   MNL_SOCKET_AUTOPID) < 0)
		rc = tv_err(-errno, "netlink: cannot subscribe to link and route changes: %s",
			    strerror(errno));
	if (!rc) {
		int fd = mnl_socket_get_fd(nl->events);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		int size = 4 << 20; /* a burst of pods starting: do not lose changes */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		rc = dump_all(nl);
	}
	if (rc) {
		tv_netlink_free(nl);
		return rc;
	}
	*out = nl;
	return 0;
}

void tv_netlink_free(struct tv_netlink *nl)
{
	if (!nl)
		return;
	if (nl->events)
		mnl_socket_close(nl->events);
	free(nl->links);
	free(nl->routes);
	free(nl);
}

int tv_netlink_fd(const struct tv_netlink *nl)
{
	return mnl_socket_get_fd(nl->events);
}

int tv_netlink_read(struct tv_netlink *nl)
{
	char *buf = malloc(RECV_BYTES);
	if (!buf)
		return tv_err(-ENOMEM, "out of memory");
	nl->changed = false;
	int rc = 0;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->events, buf, RECV_BYTES);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == ENOBUFS) { /* changes were lost: start over */
			tv_warn("netlink: changes lost (ENOBUFS); reading links and routes again");
			rc = dump_all(nl);
			continue;
		}
		if (n < 0) {
			rc = tv_err(-errno, "netlink: %s", strerror(errno));
			break;
		}
		if (mnl_cb_run(buf, (size_t)n, 0, 0, on_message, nl) < 0 && nl->rc) {
			rc = tv_err(nl->rc, "out of memory");
			break;
		}
	}
	free(buf);
	return rc ? rc : nl->changed;
}

const struct tv_link_info *tv_netlink_link(const struct tv_netlink *nl, uint32_t ifindex)
{
	return find_link((struct tv_netlink *)nl, ifindex);
}

const struct tv_link_info *tv_netlink_links(const struct tv_netlink *nl, size_t *n)
{
	*n = nl->nlinks;
	return nl->links;
}

static bool prefix_matches(const uint8_t *net, const uint8_t *addr, uint8_t len)
{
	size_t bytes = len / 8;
	if (memcmp(net, addr, bytes))
		return false;
	uint8_t rest = len % 8;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (net[bytes] & mask) == (addr[bytes] & mask);
}

uint32_t tv_netlink_route_oif(const struct tv_netlink *nl, uint8_t family, const uint8_t addr[16])
{
	int best = -1;
	uint32_t oif = 0;
	for (size_t i = 0; i < nl->nroutes; i++) {
		const struct route *r = &nl->routes[i];
		if (r->family == family && (int)r->len > best && prefix_matches(r->dst, addr, r->len)) {
			best = r->len;
			oif = r->oif;
		}
	}
	return oif;
}
