/* SPDX-License-Identifier: Apache-2.0 */
/* select: see select.h. */
#include "dissector/query/select.h"

#include <errno.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/decode.h"
#include "archive/names.h"

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

void tv_select_cleanup(struct tv_select *s)
{
	if (s->has_pod)
		regfree(&s->pod);
	s->has_pod = false;
}

bool tv_select_active(const struct tv_select *s)
{
	return s->has_pod || s->nnamespaces || s->nworkloads;
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

bool tv_select_packet(const struct tv_select *s, uint16_t linktype, const struct tv_packet *p)
{
	uint8_t family, src[16], dst[16];
	if (!ip_addresses(linktype, p, &family, src, dst))
		return false;
	return tv_select_name(s, tv_names_lookup_at(s->names, family, src, p->ts_ns)) ||
	       tv_select_name(s, tv_names_lookup_at(s->names, family, dst, p->ts_ns));
}
