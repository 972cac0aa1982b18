/* SPDX-License-Identifier: Apache-2.0 */
/* names: see names.h. An open-addressing table keyed by address. */
#include "archive/names.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/events.h"

struct slot {
	bool used;
	uint8_t family;
	uint8_t addr[16];
	struct tv_name v; /* strings owned */
};

struct tv_names {
	struct slot *slots;
	size_t cap, count; /* cap: a power of two, at most half full */
};

int tv_names_new(struct tv_names **out)
{
	struct tv_names *n = calloc(1, sizeof(*n));
	if (!n || !(n->slots = calloc(64, sizeof(*n->slots)))) {
		free(n);
		return -ENOMEM;
	}
	n->cap = 64;
	*out = n;
	return 0;
}

static void free_name(struct tv_name *v)
{
	free((char *)v->name);
	free((char *)v->ns);
	free((char *)v->node);
}

void tv_names_free(struct tv_names *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->cap; i++)
		free_name(&n->slots[i].v);
	free(n->slots);
	free(n);
}

static size_t hash(uint8_t family, const uint8_t addr[16])
{
	uint64_t h = 1469598103934665603ull ^ family; /* FNV-1a */
	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 1099511628211ull;
	return (size_t)h;
}

static struct slot *find(const struct tv_names *n, uint8_t family, const uint8_t addr[16])
{
	for (size_t i = hash(family, addr) & (n->cap - 1);; i = (i + 1) & (n->cap - 1)) {
		struct slot *s = &n->slots[i];
		if (!s->used || (s->family == family && !memcmp(s->addr, addr, 16)))
			return s;
	}
}

static int grow(struct tv_names *n)
{
	struct slot *old = n->slots;
	size_t old_cap = n->cap;
	if (!(n->slots = calloc(old_cap * 2, sizeof(*n->slots)))) {
		n->slots = old;
		return -ENOMEM;
	}
	n->cap = old_cap * 2;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].used)
			*find(n, old[i].family, old[i].addr) = old[i];
	free(old);
	return 0;
}

/* node: NULL for a service. */
static int set(struct tv_names *n, const char *ip, const char *name, const char *ns, const char *node)
{
	uint8_t addr[16] = {0};
	uint8_t family = 4;
	if (inet_pton(AF_INET, ip, addr) != 1) {
		if (inet_pton(AF_INET6, ip, addr) != 1)
			return 0; /* not an address: nothing to name */
		family = 6;
	}
	if ((n->count + 1) * 2 > n->cap && grow(n))
		return -ENOMEM;
	struct slot *s = find(n, family, addr);
	struct tv_name v = {strdup(name), strdup(ns ? ns : ""), node ? strdup(node) : NULL};
	if (!v.name || !v.ns || (node && !v.node)) {
		free_name(&v);
		return -ENOMEM;
	}
	if (!s->used) {
		s->used = true;
		s->family = family;
		memcpy(s->addr, addr, 16);
		n->count++;
	}
	free_name(&s->v);
	s->v = v;
	return 0;
}

/* A pod or a service names its addresses; other kinds name nothing. */
static int add_object(struct tv_names *n, const json_t *o)
{
	const char *kind = json_string_value(json_object_get(o, "kind"));
	if (!kind || (strcmp(kind, "pod") && strcmp(kind, "service")))
		return 0;
	const char *name = json_string_value(json_object_get(o, "name")),
		   *ns = json_string_value(json_object_get(o, "namespace")),
		   *node = json_string_value(json_object_get(o, "node"));
	bool pod = !strcmp(kind, "pod");
	if (pod && json_is_true(json_object_get(o, "host_network")))
		return 0; /* its IP is the node's: it names no pod */
	size_t i;
	json_t *ip;
	int rc = 0;
	json_array_foreach (json_object_get(o, "ips"), i, ip)
		if (!rc && json_is_string(ip) && name)
			rc = set(n, json_string_value(ip), name, ns, pod ? (node ? node : "") : NULL);
	return rc;
}

int tv_names_add_object(struct tv_names *n, const struct tv_k8s_object *o)
{
	if (!o->name || (strcmp(o->kind, "pod") && strcmp(o->kind, "service")))
		return 0;
	int rc = 0;
	bool pod = !strcmp(o->kind, "pod");
	if (pod && o->host_network > 0)
		return 0; /* its IP is the node's: it names no pod */
	for (size_t i = 0; !rc && i < o->nips; i++)
		rc = set(n, o->ips[i], o->name, o->namespace_, pod ? (o->node ? o->node : "") : NULL);
	return rc == -ENOMEM ? tv_err(rc, "out of memory") : rc;
}

static int add_record(struct tv_names *n, const json_t *rec)
{
	const char *type = json_string_value(json_object_get(rec, "type"));
	int rc = 0;
	if (type && !strcmp(type, "state")) {
		size_t i;
		json_t *o;
		json_array_foreach (json_object_get(rec, "objects"), i, o)
			if (!rc)
				rc = add_object(n, o);
	} else if (type && !strcmp(type, "k8s")) {
		const char *action = json_string_value(json_object_get(rec, "action"));
		if (action && strcmp(action, "deleted"))
			rc = add_object(n, json_object_get(rec, "object"));
	}
	return rc;
}

int tv_names_add_events(struct tv_names *n, const uint8_t *data, size_t len, const char *what)
{
	struct tv_events_reader *r;
	int rc = tv_events_reader_open(&r, data, len, what);
	if (rc)
		return rc;
	json_t *rec;
	while (!rc && (rc = tv_events_reader_next(r, &rec)) == 1) {
		rc = add_record(n, rec);
		json_decref(rec);
	}
	tv_events_reader_free(r);
	return rc == -ENOMEM ? tv_err(rc, "out of memory") : rc;
}

const struct tv_name *tv_names_lookup(const struct tv_names *n, uint8_t family, const uint8_t addr[16])
{
	if (!n || !n->count)
		return NULL;
	const struct slot *s = find(n, family, addr);
	return s->used ? &s->v : NULL;
}

size_t tv_names_count(const struct tv_names *n)
{
	return n ? n->count : 0;
}
