/* SPDX-License-Identifier: Apache-2.0 */
/* scope: see scope.h. */
#include "nodeagent/scope.h"

#include <arpa/inet.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"

struct tv_scope {
	bool has_regex;
	regex_t regex;
	json_t *namespaces, *excluded; /* arrays of strings */
	json_t *rule;                  /* as recorded */
};

static json_t *strings(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

int tv_scope_new(struct tv_scope **out, const struct tv_scope_rule *rule)
{
	*out = NULL;
	struct tv_scope *s = calloc(1, sizeof(*s));
	if (!s)
		return tv_err(-ENOMEM, "out of memory");
	/* the Helm default ".*" (or nothing) names every pod: no filter */
	bool any =
		!rule->regex || !rule->regex[0] || !strcmp(rule->regex, ".*") || !strcmp(rule->regex, "^.*$");
	if (!any) {
		int rc = regcomp(&s->regex, rule->regex, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char why[128];
			regerror(rc, &s->regex, why, sizeof(why));
			free(s);
			return tv_err(-EINVAL, "tap.regex '%s': %s", rule->regex, why);
		}
		s->has_regex = true;
	}
	s->namespaces = strings(rule->namespaces, rule->nnamespaces);
	s->excluded = strings(rule->excluded, rule->nexcluded);
	s->rule = json_pack("{s:s?, s:O, s:O}", "regex", s->has_regex ? rule->regex : NULL, "namespaces",
			    s->namespaces, "excluded_namespaces", s->excluded);
	if (!s->namespaces || !s->excluded || !s->rule) {
		tv_scope_free(s);
		return tv_err(-ENOMEM, "out of memory");
	}
	*out = s;
	return 0;
}

void tv_scope_free(struct tv_scope *s)
{
	if (!s)
		return;
	if (s->has_regex)
		regfree(&s->regex);
	json_decref(s->namespaces);
	json_decref(s->excluded);
	json_decref(s->rule);
	free(s);
}

bool tv_scope_filtering(const struct tv_scope *s)
{
	return s->has_regex || json_array_size(s->namespaces) || json_array_size(s->excluded);
}

static bool listed(const json_t *arr, const char *v)
{
	size_t i;
	const json_t *x;
	json_array_foreach (arr, i, x)
		if (v && !strcmp(json_string_value(x), v))
			return true;
	return false;
}

bool tv_scope_pod_in(const struct tv_scope *s, const json_t *pod)
{
	const char *name = json_string_value(json_object_get(pod, "name"));
	const char *ns = json_string_value(json_object_get(pod, "namespace"));
	if (!name || json_is_true(json_object_get(pod, "host_network")))
		return false;
	if (listed(s->excluded, ns)) /* excluded wins */
		return false;
	if (json_array_size(s->namespaces) && !listed(s->namespaces, ns))
		return false;
	return !s->has_regex || regexec(&s->regex, name, 0, NULL, 0) == 0;
}

/* ---- building a plan ---- */

static int add_want(struct tv_scope_plan *p, const char *name, const char *filter)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].name, name))
			return 0;
	struct tv_scope_want *v = realloc(p->v, (p->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->v = v;
	struct tv_scope_want *w = &v[p->n];
	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	if (filter && !(w->filter = strdup(filter)))
		return -ENOMEM;
	p->n++;
	return 0;
}

/* "host A or host B ..." of the addresses, ANDed with the user's filter;
 * NULL (everything) when neither narrows. hosts NULL: no pod filter; an
 * empty array: no pod, nothing. */
static char *combine(const char *user, const json_t *hosts)
{
	char *pods = NULL;
	if (hosts && json_array_size(hosts) == 0) {
		pods = strdup("less 1"); /* no real packet is that short */
	} else if (hosts) {
		size_t i, len = 1;
		const json_t *h;
		json_array_foreach (hosts, i, h)
			len += strlen(json_string_value(h)) + 9;
		if (!(pods = malloc(len)))
			return NULL;
		pods[0] = '\0';
		json_array_foreach (hosts, i, h) {
			strcat(pods, i ? " or host " : "host ");
			strcat(pods, json_string_value(h));
		}
	}
	if (!user || !user[0])
		return pods;
	if (!pods)
		return strdup(user);
	char *both = NULL;
	if (asprintf(&both, "(%s) and (%s)", user, pods) < 0)
		both = NULL;
	free(pods);
	return both;
}

static int add_with_filter(struct tv_scope_plan *p, const char *name, const char *user, const json_t *hosts)
{
	char *f = combine(user, hosts);
	if (!f && ((user && user[0]) || hosts))
		return -ENOMEM;
	int rc = add_want(p, name, f);
	free(f);
	return rc;
}

static const struct tv_link_info *link_by_index(const struct tv_scope_view *v, uint32_t ifindex)
{
	size_t n;
	const struct tv_link_info *l = v->links(v->ctx, &n);
	for (size_t i = 0; i < n; i++)
		if (l[i].ifindex == ifindex)
			return &l[i];
	return NULL;
}

static bool is_veth(const struct tv_link_info *l)
{
	return !strcmp(l->kind, "veth");
}

/* Every veth that is up. */
static int every_veth(struct tv_scope_plan *p, const struct tv_scope_input *in)
{
	size_t n;
	const struct tv_link_info *l = in->view->links(in->view->ctx, &n);
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++)
		if (is_veth(&l[i]) && l[i].up)
			rc = add_with_filter(p, l[i].name, in->user_filter, NULL);
	return rc;
}

/* Where a pod's packets pass: a veth, or a bridge (then its ports). */
static const struct tv_link_info *pod_link(const struct tv_scope_input *in, const json_t *pod)
{
	size_t i;
	const json_t *ip;
	json_array_foreach (json_object_get(pod, "ips"), i, ip) {
		uint8_t a[16] = {0};
		const char *text = json_string_value(ip);
		uint8_t family = text && strchr(text, ':') ? 6 : 4;
		if (!text || inet_pton(family == 4 ? AF_INET : AF_INET6, text, a) != 1)
			continue;
		const struct tv_link_info *l =
			link_by_index(in->view, in->view->route_oif(in->view->ctx, family, a));
		if (l && (is_veth(l) || !strcmp(l->kind, "bridge")))
			return l;
	}
	return NULL;
}

static void append_ips(json_t *to, const json_t *pod)
{
	size_t i;
	json_t *ip;
	json_array_foreach (json_object_get(pod, "ips"), i, ip)
		json_array_append(to, ip);
}

static char *pod_key(const json_t *pod)
{
	char *k = NULL;
	if (asprintf(&k, "%s/%s", json_string_value(json_object_get(pod, "namespace")),
		     json_string_value(json_object_get(pod, "name"))) < 0)
		return NULL;
	return k;
}

/* Filter set, pods known, auto: the in-scope pods' own interfaces. */
static int scoped_interfaces(const struct tv_scope *s, struct tv_scope_plan *p,
			     const struct tv_scope_input *in, json_t *captured, json_t *unresolved)
{
	json_t *bridges = json_object(); /* bridge ifindex -> in-scope IPs */
	size_t i;
	const json_t *pod;
	int rc = bridges ? 0 : -ENOMEM;
	json_array_foreach (in->pods, i, pod) {
		if (rc || !tv_scope_pod_in(s, pod))
			continue;
		const struct tv_link_info *l = pod_link(in, pod);
		char *key = pod_key(pod);
		json_array_append_new(l ? captured : unresolved, json_string(key ? key : "?"));
		free(key);
		if (l && is_veth(l)) {
			rc = add_with_filter(p, l->name, in->user_filter, NULL);
		} else if (l) {
			char idx[16];
			snprintf(idx, sizeof(idx), "%u", l->ifindex);
			json_t *ips = json_object_get(bridges, idx);
			if (!ips)
				json_object_set_new(bridges, idx, ips = json_array());
			append_ips(ips, pod);
		}
	}
	/* a bridge's pods: on each of its ports, only the in-scope addresses */
	const char *idx;
	json_t *ips;
	size_t n;
	const struct tv_link_info *links = in->view->links(in->view->ctx, &n);
	json_object_foreach (bridges, idx, ips)
		for (size_t k = 0; !rc && k < n; k++)
			if (is_veth(&links[k]) && links[k].up &&
			    links[k].master == (uint32_t)strtoul(idx, NULL, 10))
				rc = add_with_filter(p, links[k].name, in->user_filter, ips);
	json_decref(bridges);
	return rc;
}

/* Listed interfaces; with a filter and pods, only the in-scope addresses. */
static int listed_interfaces(const struct tv_scope *s, struct tv_scope_plan *p,
			     const struct tv_scope_input *in, bool narrow, json_t *captured)
{
	json_t *hosts = narrow ? json_array() : NULL;
	size_t i;
	const json_t *pod;
	json_array_foreach (narrow ? in->pods : NULL, i, pod)
		if (tv_scope_pod_in(s, pod)) {
			append_ips(hosts, pod);
			char *key = pod_key(pod);
			json_array_append_new(captured, json_string(key ? key : "?"));
			free(key);
		}
	int rc = 0;
	for (size_t k = 0; !rc && k < in->nlisted; k++)
		rc = add_with_filter(p, in->listed[k], in->user_filter, hosts);
	json_decref(hosts);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct tv_scope_want *)a)->name, ((const struct tv_scope_want *)b)->name);
}

int tv_scope_plan(const struct tv_scope *s, const struct tv_scope_input *in, struct tv_scope_plan *out)
{
	memset(out, 0, sizeof(*out));
	bool filtering = tv_scope_filtering(s), narrow = filtering && in->pods;
	json_t *captured = json_array(), *unresolved = json_array();
	int rc = captured && unresolved ? 0 : -ENOMEM;
	if (!rc && !in->auto_interfaces)
		rc = listed_interfaces(s, out, in, narrow, captured);
	else if (!rc && narrow)
		rc = scoped_interfaces(s, out, in, captured, unresolved);
	else if (!rc)
		rc = every_veth(out, in);
	if (narrow) {
		out->pods_matched = json_array_size(captured);
	} else if (in->pods) { /* everything is in scope: the node's pods */
		size_t i;
		const json_t *pod;
		json_array_foreach (in->pods, i, pod)
			out->pods_matched += !json_is_true(json_object_get(pod, "host_network"));
	}
	if (in->auto_interfaces) /* found in no particular order; listed ones keep theirs */
		qsort(out->v, out->n, sizeof(*out->v), by_name);
	json_t *ifs = json_array();
	for (size_t i = 0; ifs && i < out->n; i++)
		json_array_append_new(
			ifs, json_pack("{s:s, s:s?}", "name", out->v[i].name, "filter", out->v[i].filter));
	const char *applied = !filtering ? "everything"
			      : narrow   ? "pods in scope"
					 : "not applied: no Kubernetes API, capturing everything";
	out->record =
		json_pack("{s:o, s:b, s:O, s:s, s:o*, s:o*}", "interfaces", ifs, "auto", in->auto_interfaces,
			  "rule", s->rule, "scope", applied, "pods", narrow ? captured : NULL, "unresolved",
			  narrow && json_array_size(unresolved) ? unresolved : NULL);
	if (!narrow)
		json_decref(captured);
	if (!narrow || !json_array_size(unresolved))
		json_decref(unresolved);
	if (!rc && !out->record)
		rc = -ENOMEM;
	if (rc)
		tv_scope_plan_cleanup(out);
	return rc;
}

void tv_scope_plan_cleanup(struct tv_scope_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].filter);
	free(p->v);
	json_decref(p->record);
	memset(p, 0, sizeof(*p));
}

bool tv_scope_plan_same_interfaces(const struct tv_scope_plan *a, const struct tv_scope_plan *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, b->v[i].name))
			return false;
	return true;
}

bool tv_scope_plan_equal(const struct tv_scope_plan *a, const struct tv_scope_plan *b)
{
	if (!tv_scope_plan_same_interfaces(a, b) || a->pods_matched != b->pods_matched)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const char *x = a->v[i].filter, *y = b->v[i].filter;
		if ((x == NULL) != (y == NULL) || (x && strcmp(x, y)))
			return false;
	}
	return json_equal(a->record, b->record);
}

static uint32_t nl_route_oif(void *ctx, uint8_t family, const uint8_t addr[16])
{
	return tv_netlink_route_oif(ctx, family, addr);
}

static const struct tv_link_info *nl_links(void *ctx, size_t *n)
{
	return tv_netlink_links(ctx, n);
}

struct tv_scope_view tv_scope_netlink_view(struct tv_netlink *nl)
{
	return (struct tv_scope_view){nl_route_oif, nl_links, nl};
}
