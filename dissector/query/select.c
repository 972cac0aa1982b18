/* SPDX-License-Identifier: Apache-2.0 */
/* select: see select.h. */
#include "dissector/query/select.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/decode.h"
#include "archive/flow.h"
#include "archive/names.h"
#include "archive/procs.h"

int tv_select_init(struct tv_select *s, const char *pod_regex, const char *const *namespaces, size_t nns,
		   const char *const *workloads, size_t nworkloads)
{
	memset(s, 0, sizeof(*s));
	s->namespaces = namespaces;
	s->nnamespaces = nns;
	s->workloads = workloads;
	s->nworkloads = nworkloads;
	if (!pod_regex)
		return 0;
	int rc = regcomp(&s->pod, pod_regex, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char why[128];
		regerror(rc, &s->pod, why, sizeof(why));
		return tv_err(-EINVAL, "--pod '%s': %s", pod_regex, why);
	}
	s->has_pod = true;
	return 0;
}

void tv_select_set_processes(struct tv_select *s, const char *const *processes, size_t np,
			     const char *const *containers, size_t nc)
{
	s->processes = processes;
	s->nprocesses = np;
	s->containers = containers;
	s->ncontainers = nc;
}

void tv_select_cleanup(struct tv_select *s)
{
	if (s->has_pod)
		regfree(&s->pod);
	s->has_pod = false;
}

bool tv_select_active(const struct tv_select *s)
{
	return s->has_pod || s->nnamespaces || s->nworkloads || s->nprocesses || s->ncontainers;
}

static bool pod_criteria(const struct tv_select *s)
{
	return s->has_pod || s->nnamespaces || s->nworkloads;
}

/* "nginx" names every process of that comm, "1234" the one of that pid. */
static bool process_matches(const struct tv_proc *pr, const char *want)
{
	char *end;
	unsigned long pid = strtoul(want, &end, 10);
	if (*want && !*end)
		return pr->pid == pid;
	return !strcmp(pr->comm, want);
}

/* A container by its name, or by its id or a prefix of it (as docker and
 * crictl shorten them; "containerd://" allowed in front). */
static bool container_matches(const struct tv_proc *pr, const char *want)
{
	const char *sep = strstr(want, "://");
	if (sep)
		want = sep + 3;
	if (pr->container && !strcmp(pr->container, want))
		return true;
	size_t n = strlen(want);
	return pr->container_id && n && !strncmp(pr->container_id, want, n);
}

static bool select_proc(const struct tv_select *s, const struct tv_proc *pr)
{
	if (!pr)
		return false;
	bool p = !s->nprocesses, c = !s->ncontainers;
	for (size_t i = 0; !p && i < s->nprocesses; i++)
		p = process_matches(pr, s->processes[i]);
	for (size_t i = 0; !c && i < s->ncontainers; i++)
		c = container_matches(pr, s->containers[i]);
	return p && c;
}

static bool in_list(const char *v, const char *const *list, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		if (!strcmp(v, list[i]))
			return true;
	return false;
}

/* "web" matches a workload named web of any kind; "Deployment/web" (kind
 * compared without case) only that one. */
static bool workload_matches(const struct tv_name *n, const char *want)
{
	if (!n->workload)
		return false;
	const char *slash = strchr(want, '/');
	if (!slash)
		return !strcmp(n->workload, want);
	size_t kl = (size_t)(slash - want);
	return n->workload_kind && strlen(n->workload_kind) == kl &&
	       !strncasecmp(n->workload_kind, want, kl) && !strcmp(n->workload, slash + 1);
}

bool tv_select_name(const struct tv_select *s, const struct tv_name *n)
{
	if (!pod_criteria(s))
		return true;
	if (!n || !n->kind || strcmp(n->kind, "pod"))
		return false;
	if (s->has_pod && regexec(&s->pod, n->name, 0, NULL, 0) != 0)
		return false;
	if (s->nnamespaces && !in_list(n->ns, s->namespaces, s->nnamespaces))
		return false;
	bool wl = !s->nworkloads;
	for (size_t i = 0; !wl && i < s->nworkloads; i++)
		wl = workload_matches(n, s->workloads[i]);
	return wl;
}

/* The packet's IP addresses (any protocol over IP: ICMP too). */
static bool ip_addresses(uint16_t linktype, const struct tv_packet *p, uint8_t *family, uint8_t src[16],
			 uint8_t dst[16])
{
	uint32_t off = tv_l3_offset(linktype, p->data, p->caplen);
	const uint8_t *ip = p->data + off;
	uint32_t left = p->caplen - off;
	memset(src, 0, 16);
	memset(dst, 0, 16);
	if (left >= 20 && (ip[0] >> 4) == 4) {
		*family = 4;
		memcpy(src, ip + 12, 4);
		memcpy(dst, ip + 16, 4);
		return true;
	}
	if (left >= 40 && (ip[0] >> 4) == 6) {
		*family = 6;
		memcpy(src, ip + 8, 16);
		memcpy(dst, ip + 24, 16);
		return true;
	}
	return false;
}

/* One end (local, with its peer) of the packet's flow k matches. */
static bool select_end(const struct tv_select *s, const struct tv_flow_key *k, bool source, uint64_t ts)
{
	const uint8_t *addr = source ? k->src : k->dst, *peer = source ? k->dst : k->src;
	if (pod_criteria(s) && !tv_select_name(s, tv_names_lookup_at(s->names, k->family, addr, ts)))
		return false;
	if (!s->nprocesses && !s->ncontainers)
		return true;
	return select_proc(s, tv_procs_lookup(tv_names_procs(s->names), k->proto, k->family, addr,
					      source ? k->sport : k->dport, peer,
					      source ? k->dport : k->sport, ts));
}

bool tv_select_packet(const struct tv_select *s, uint16_t linktype, const struct tv_packet *p)
{
	struct tv_flow_key k;
	if (tv_flow_key_parse(linktype, p->data, p->caplen, &k) && k.family != TV_FLOW_OTHER &&
	    (k.proto == 6 || k.proto == 17))
		return select_end(s, &k, true, p->ts_ns) || select_end(s, &k, false, p->ts_ns);
	if (s->nprocesses || s->ncontainers) /* no ports: no socket to name */
		return false;
	uint8_t family, src[16], dst[16];
	if (!ip_addresses(linktype, p, &family, src, dst))
		return false;
	return tv_select_name(s, tv_names_lookup_at(s->names, family, src, p->ts_ns)) ||
	       tv_select_name(s, tv_names_lookup_at(s->names, family, dst, p->ts_ns));
}
