/* SPDX-License-Identifier: Apache-2.0 */
/* names: see names.h. Every record becomes a change (time, object, its
 * addresses); at the first lookup after new changes they are sorted by time
 * and replayed into each address's holdings -- who held it from when to
 * when -- in an open-addressing table keyed by address. */
#include "archive/names.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/events.h"

#define OPEN UINT64_MAX

/* An object said to hold (or, deleted, to let go of) its addresses at ts. */
struct change {
	uint64_t ts;
	size_t seq; /* arrival order: ties keep it */
	bool deleted;
	char *key; /* kind/namespace/name */
	struct tv_name v;
	char **ips;
	size_t nips;
};

struct holding {
	uint64_t from, to;       /* [from, to); to OPEN while held */
	const char *key;         /* the change's */
	const struct tv_name *v; /* the change's */
};

struct slot {
	bool used;
	uint8_t family;
	uint8_t addr[16];
	struct holding *h; /* by from */
	size_t nh, caph;
};

struct tv_names {
	struct slot *slots;
	size_t cap, count; /* cap: a power of two, at most half full */
	struct change *changes;
	size_t nchanges, capchanges;
	bool dirty;
	pthread_mutex_t lock; /* the rebuild at the first lookup after a change */
};

int tv_names_new(struct tv_names **out)
{
	struct tv_names *n = calloc(1, sizeof(*n));
	if (!n || !(n->slots = calloc(64, sizeof(*n->slots)))) {
		free(n);
		return -ENOMEM;
	}
	n->cap = 64;
	pthread_mutex_init(&n->lock, NULL);
	*out = n;
	return 0;
}

static void free_change(struct change *c)
{
	free(c->key);
	free((char *)c->v.name);
	free((char *)c->v.ns);
	free((char *)c->v.node);
	for (size_t i = 0; i < c->nips; i++)
		free(c->ips[i]);
	free(c->ips);
}

static void clear_holdings(struct tv_names *n)
{
	for (size_t i = 0; i < n->cap; i++) {
		free(n->slots[i].h);
		n->slots[i].h = NULL;
		n->slots[i].nh = n->slots[i].caph = 0;
	}
}

void tv_names_free(struct tv_names *n)
{
	if (!n)
		return;
	clear_holdings(n);
	free(n->slots);
	for (size_t i = 0; i < n->nchanges; i++)
		free_change(&n->changes[i]);
	free(n->changes);
	pthread_mutex_destroy(&n->lock);
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

static int parse_addr(const char *ip, uint8_t *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	*family = 4;
	if (inet_pton(AF_INET, ip, addr) == 1)
		return 0;
	*family = 6;
	return inet_pton(AF_INET6, ip, addr) == 1 ? 0 : -EINVAL;
}

/* The slot of ip, made if new. NULL: not an address, or no memory (*rc). */
static struct slot *slot_of(struct tv_names *n, const char *ip, int *rc)
{
	uint8_t family, addr[16];
	if (parse_addr(ip, &family, addr))
		return NULL;
	if ((n->count + 1) * 2 > n->cap && grow(n)) {
		*rc = -ENOMEM;
		return NULL;
	}
	struct slot *s = find(n, family, addr);
	if (!s->used) {
		s->used = true;
		s->family = family;
		memcpy(s->addr, addr, 16);
		n->count++;
	}
	return s;
}

/* ---- recording changes ---- */

static int add_change(struct tv_names *n, uint64_t ts, bool deleted, const char *kind, const char *name,
		      const char *ns, const char *node, const char *const *ips, size_t nips)
{
	if (n->nchanges == n->capchanges) {
		size_t cap = n->capchanges ? n->capchanges * 2 : 64;
		struct change *c = realloc(n->changes, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		n->changes = c;
		n->capchanges = cap;
	}
	struct change *c = &n->changes[n->nchanges];
	memset(c, 0, sizeof(*c));
	c->ts = ts;
	c->seq = n->nchanges;
	c->deleted = deleted;
	int ok = asprintf(&c->key, "%s/%s/%s", kind, ns ? ns : "", name) >= 0;
	if (!ok)
		c->key = NULL;
	c->v = (struct tv_name){strdup(name), strdup(ns ? ns : ""), node ? strdup(node) : NULL};
	c->ips = calloc(nips ? nips : 1, sizeof(*c->ips));
	for (size_t i = 0; ok && c->ips && i < nips; i++)
		if ((c->ips[c->nips] = strdup(ips[i])))
			c->nips++;
	if (!ok || !c->v.name || !c->v.ns || (node && !c->v.node) || !c->ips || c->nips != nips) {
		free_change(c);
		return -ENOMEM;
	}
	n->nchanges++;
	n->dirty = true;
	return 0;
}

/* A pod or a service names its addresses; other kinds, and host-network
 * pods (whose IP is the node's), name nothing. */
static bool names_addresses(const char *kind, bool host_network)
{
	return kind && (!strcmp(kind, "service") || (!strcmp(kind, "pod") && !host_network));
}

static int add_json_object(struct tv_names *n, uint64_t ts, bool deleted, const json_t *o)
{
	const char *kind = json_string_value(json_object_get(o, "kind"));
	const char *name = json_string_value(json_object_get(o, "name"));
	if (!name || !names_addresses(kind, json_is_true(json_object_get(o, "host_network"))))
		return 0;
	const char *node = json_string_value(json_object_get(o, "node"));
	bool pod = !strcmp(kind, "pod");
	const json_t *arr = json_object_get(o, "ips");
	size_t m = json_array_size(arr), k = 0;
	const char **ips = calloc(m ? m : 1, sizeof(*ips));
	if (!ips)
		return -ENOMEM;
	for (size_t i = 0; i < m; i++)
		if (json_is_string(json_array_get(arr, i)))
			ips[k++] = json_string_value(json_array_get(arr, i));
	int rc = add_change(n, ts, deleted, kind, name, json_string_value(json_object_get(o, "namespace")),
			    pod ? (node ? node : "") : NULL, ips, k);
	free(ips);
	return rc;
}

int tv_names_add_object(struct tv_names *n, const struct tv_k8s_object *o)
{
	if (!o->name || !names_addresses(o->kind, o->host_network > 0))
		return 0;
	bool pod = !strcmp(o->kind, "pod");
	int rc = add_change(n, 0, false, o->kind, o->name, o->namespace_,
			    pod ? (o->node ? o->node : "") : NULL, o->ips, o->nips);
	return rc == -ENOMEM ? tv_err(rc, "out of memory") : rc;
}

static int add_record(struct tv_names *n, const json_t *rec)
{
	const char *type = json_string_value(json_object_get(rec, "type"));
	uint64_t ts = (uint64_t)json_integer_value(json_object_get(rec, "ts"));
	int rc = 0;
	if (type && !strcmp(type, "state")) {
		size_t i;
		json_t *o;
		json_array_foreach (json_object_get(rec, "objects"), i, o)
			if (!rc)
				rc = add_json_object(n, ts, false, o);
	} else if (type && !strcmp(type, "k8s")) {
		const char *action = json_string_value(json_object_get(rec, "action"));
		rc = add_json_object(n, ts, action && !strcmp(action, "deleted"),
				     json_object_get(rec, "object"));
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

/* ---- replaying them into holdings ---- */

static int by_time(const void *a, const void *b)
{
	const struct change *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static struct holding *current(struct slot *s)
{
	return s->nh && s->h[s->nh - 1].to == OPEN ? &s->h[s->nh - 1] : NULL;
}

/* key lets go of ip at ts (if it holds it). */
static void release(struct tv_names *n, const char *ip, const char *key, uint64_t ts)
{
	uint8_t family, addr[16];
	if (parse_addr(ip, &family, addr))
		return;
	struct slot *s = find(n, family, addr);
	struct holding *h = s->used ? current(s) : NULL;
	if (h && !strcmp(h->key, key))
		h->to = ts > h->from ? ts : h->from + 1;
}

/* c's object holds ip from c->ts, ending whoever held it. */
static int take(struct tv_names *n, const char *ip, const struct change *c)
{
	int rc = 0;
	struct slot *s = slot_of(n, ip, &rc);
	if (!s)
		return rc;
	struct holding *h = current(s);
	if (h && !strcmp(h->key, c->key)) {
		h->v = &c->v; /* the same object, perhaps changed (its node) */
		return 0;
	}
	if (h)
		h->to = c->ts > h->from ? c->ts : h->from + 1;
	if (s->nh == s->caph) {
		size_t cap = s->caph ? s->caph * 2 : 2;
		struct holding *g = realloc(s->h, cap * sizeof(*g));
		if (!g)
			return -ENOMEM;
		s->h = g;
		s->caph = cap;
	}
	s->h[s->nh++] = (struct holding){c->ts, OPEN, c->key, &c->v};
	return 0;
}

static bool listed(const struct change *c, const char *ip)
{
	for (size_t i = 0; i < c->nips; i++)
		if (!strcmp(c->ips[i], ip))
			return true;
	return false;
}

static int rebuild(struct tv_names *n)
{
	clear_holdings(n);
	qsort(n->changes, n->nchanges, sizeof(*n->changes), by_time);
	json_t *last = json_object(); /* key -> index of its previous change */
	int rc = last ? 0 : -ENOMEM;
	for (size_t i = 0; !rc && i < n->nchanges; i++) {
		const struct change *c = &n->changes[i];
		json_t *p = json_object_get(last, c->key);
		const struct change *prev = p ? &n->changes[json_integer_value(p)] : NULL;
		/* addresses the object no longer lists (or all, once deleted) are let go */
		for (size_t k = 0; prev && k < prev->nips; k++)
			if (c->deleted || !listed(c, prev->ips[k]))
				release(n, prev->ips[k], c->key, c->ts);
		for (size_t k = 0; c->deleted && !prev && k < c->nips; k++)
			release(n, c->ips[k], c->key, c->ts);
		for (size_t k = 0; !c->deleted && !rc && k < c->nips; k++)
			rc = take(n, c->ips[k], c);
		if (!rc && json_object_set_new_nocheck(last, c->key, json_integer((json_int_t)i)))
			rc = -ENOMEM;
	}
	json_decref(last);
	n->dirty = false;
	return rc;
}

const struct tv_name *tv_names_lookup_at(const struct tv_names *cn, uint8_t family, const uint8_t addr[16],
					 uint64_t ts)
{
	if (!cn)
		return NULL;
	struct tv_names *n = (struct tv_names *)cn; /* the rebuild is internal */
	pthread_mutex_lock(&n->lock);
	if (n->dirty)
		rebuild(n);
	pthread_mutex_unlock(&n->lock);
	if (!n->count)
		return NULL;
	const struct slot *s = find(n, family, addr);
	if (!s->used || !s->nh)
		return NULL;
	/* the last holding that began by ts; before the first, the first */
	size_t lo = 0, hi = s->nh;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (s->h[mid].from <= ts)
			lo = mid;
		else
			hi = mid;
	}
	return s->h[lo].v;
}

const struct tv_name *tv_names_lookup(const struct tv_names *n, uint8_t family, const uint8_t addr[16])
{
	return tv_names_lookup_at(n, family, addr, OPEN);
}

size_t tv_names_count(const struct tv_names *cn)
{
	if (!cn)
		return 0;
	struct tv_names *n = (struct tv_names *)cn;
	pthread_mutex_lock(&n->lock);
	if (n->dirty)
		rebuild(n);
	pthread_mutex_unlock(&n->lock);
	return n->count;
}
