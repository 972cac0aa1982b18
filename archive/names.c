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
#include "archive/procs.h"

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
	pthread_mutex_t lock;      /* the rebuild at the first lookup after a change */
	struct tv_names *services; /* from EndpointSlices: the service each address serves */
	struct tv_procs *procs;    /* the OS layer's records: the process of each socket */
};

static struct tv_names *names_alloc(void)
{
	struct tv_names *n = calloc(1, sizeof(*n));
	if (!n || !(n->slots = calloc(64, sizeof(*n->slots)))) {
		free(n);
		return NULL;
	}
	n->cap = 64;
	pthread_mutex_init(&n->lock, NULL);
	return n;
}

int tv_names_new(struct tv_names **out)
{
	struct tv_names *n = names_alloc();
	if (n && (!(n->services = names_alloc()) || tv_procs_new(&n->procs))) {
		tv_names_free(n);
		n = NULL;
	}
	*out = n;
	return n ? 0 : -ENOMEM;
}

static void free_change(struct change *c)
{
	free(c->key);
	free((char *)c->v.name);
	free((char *)c->v.ns);
	free((char *)c->v.node);
	free((char *)c->v.kind);
	free((char *)c->v.workload);
	free((char *)c->v.workload_kind);
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
	tv_names_free(n->services);
	tv_procs_free(n->procs);
	free(n);
}

const struct tv_procs *tv_names_procs(const struct tv_names *n)
{
	return n ? n->procs : NULL;
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

static char *dup_or_null(const char *s, bool *ok)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		*ok = false;
	return d;
}

/* v: the holder as named (strings borrowed, copied here); the object is
 * keyed KIND/NAMESPACE/NAME, by `object` when given (a slice naming its
 * service), else by v's own kind and name. */
static int add_change(struct tv_names *n, uint64_t ts, bool deleted, const struct tv_name *v,
		      const char *object, const char *const *ips, size_t nips)
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
	bool ok = (object ? asprintf(&c->key, "slice/%s/%s", v->ns ? v->ns : "", object)
			  : asprintf(&c->key, "%s/%s/%s", v->kind, v->ns ? v->ns : "", v->name)) >= 0;
	if (!ok)
		c->key = NULL;
	c->v.name = dup_or_null(v->name, &ok);
	c->v.ns = dup_or_null(v->ns ? v->ns : "", &ok);
	c->v.node = dup_or_null(v->node, &ok);
	c->v.kind = dup_or_null(v->kind, &ok);
	c->v.workload = dup_or_null(v->workload, &ok);
	c->v.workload_kind = dup_or_null(v->workload_kind, &ok);
	c->ips = calloc(nips ? nips : 1, sizeof(*c->ips));
	for (size_t i = 0; ok && c->ips && i < nips; i++)
		if ((c->ips[c->nips] = strdup(ips[i])))
			c->nips++;
	if (!ok || !c->ips || c->nips != nips) {
		free_change(c);
		return -ENOMEM;
	}
	n->nchanges++;
	n->dirty = true;
	return 0;
}

/* A pod, a service or a node names its addresses; a host-network pod's IP
 * is its node's, which the node names. */
static bool names_addresses(const char *kind, bool host_network)
{
	return kind &&
	       (!strcmp(kind, "service") || !strcmp(kind, "node") || (!strcmp(kind, "pod") && !host_network));
}

static const char **string_array(const json_t *arr, size_t *k)
{
	size_t m = json_array_size(arr);
	const char **v = calloc(m ? m : 1, sizeof(*v));
	*k = 0;
	for (size_t i = 0; v && i < m; i++)
		if (json_is_string(json_array_get(arr, i)))
			v[(*k)++] = json_string_value(json_array_get(arr, i));
	return v;
}

/* An EndpointSlice names the service of each endpoint's address. */
static int add_json_slice(struct tv_names *n, uint64_t ts, bool deleted, const json_t *o)
{
	const char *service = json_string_value(json_object_get(o, "service"));
	const char *name = json_string_value(json_object_get(o, "name"));
	const json_t *eps = json_object_get(o, "endpoints");
	if (!service || !name || !n->services)
		return 0;
	size_t m = json_array_size(eps), k = 0;
	const char **ips = calloc(m ? m : 1, sizeof(*ips));
	if (!ips)
		return -ENOMEM;
	for (size_t i = 0; i < m; i++) {
		const char *ip = json_string_value(json_object_get(json_array_get(eps, i), "ip"));
		if (ip)
			ips[k++] = ip;
	}
	/* keyed by the slice (a service has several), naming its service */
	struct tv_name v = {
		.name = service, .ns = json_string_value(json_object_get(o, "namespace")), .kind = "service"};
	int rc = add_change(n->services, ts, deleted, &v, name, ips, k);
	free(ips);
	return rc;
}

static int add_json_object(struct tv_names *n, uint64_t ts, bool deleted, const json_t *o)
{
	const char *kind = json_string_value(json_object_get(o, "kind"));
	const char *name = json_string_value(json_object_get(o, "name"));
	if (name && kind && !strcmp(kind, "endpointslice"))
		return add_json_slice(n, ts, deleted, o);
	if (!name || !names_addresses(kind, json_is_true(json_object_get(o, "host_network"))))
		return 0;
	bool pod = !strcmp(kind, "pod");
	const char *node = json_string_value(json_object_get(o, "node"));
	const json_t *wl = json_object_get(o, "workload");
	struct tv_name v = {.name = name,
			    .ns = json_string_value(json_object_get(o, "namespace")),
			    .node = pod ? (node ? node : "") : NULL,
			    .kind = kind,
			    .workload = json_string_value(json_object_get(wl, "name")),
			    .workload_kind = json_string_value(json_object_get(wl, "kind"))};
	size_t k;
	const char **ips = string_array(json_object_get(o, "ips"), &k);
	if (!ips)
		return -ENOMEM;
	int rc = add_change(n, ts, deleted, &v, NULL, ips, k);
	free(ips);
	return rc;
}

int tv_names_add_object(struct tv_names *n, const struct tv_k8s_object *o)
{
	if (!o->name || !names_addresses(o->kind, o->host_network > 0))
		return 0;
	bool pod = !strcmp(o->kind, "pod");
	struct tv_name v = {.name = o->name,
			    .ns = o->namespace_,
			    .node = pod ? (o->node ? o->node : "") : NULL,
			    .kind = o->kind,
			    .workload = o->workload_name,
			    .workload_kind = o->workload_kind};
	int rc = add_change(n, 0, false, &v, NULL, o->ips, o->nips);
	json_t *rec = rc ? NULL : json_pack("{s:s, s:o}", "type", "k8s", "object", tv_events_object_json(o));
	if (rec && n->procs) /* its containers' names, for the processes in them */
		rc = tv_procs_add_record(n->procs, rec);
	json_decref(rec);
	return rc == -ENOMEM ? tv_err(rc, "out of memory") : rc;
}

static int add_record(struct tv_names *n, const json_t *rec)
{
	const char *type = json_string_value(json_object_get(rec, "type"));
	uint64_t ts = (uint64_t)json_integer_value(json_object_get(rec, "ts"));
	int rc = n->procs ? tv_procs_add_record(n->procs, rec) : 0;
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

/* The last holding of the address that began by ts; before the first, the
 * first. */
static const struct holding *holding_at(const struct tv_names *cn, uint8_t family, const uint8_t addr[16],
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
	size_t lo = 0, hi = s->nh;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (s->h[mid].from <= ts)
			lo = mid;
		else
			hi = mid;
	}
	return &s->h[lo];
}

const struct tv_name *tv_names_lookup_at(const struct tv_names *n, uint8_t family, const uint8_t addr[16],
					 uint64_t ts)
{
	const struct holding *h = holding_at(n, family, addr, ts);
	return h ? h->v : NULL;
}

const char *tv_names_service_at(const struct tv_names *n, uint8_t family, const uint8_t addr[16], uint64_t ts)
{
	/* strictly while listed: a pod taken out of a service no longer serves it */
	const struct holding *h = n ? holding_at(n->services, family, addr, ts) : NULL;
	return h && h->from <= ts && ts < h->to ? h->v->name : NULL;
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

int tv_names_each_holding(const struct tv_names *cn, tv_names_holding_fn fn, void *ctx)
{
	tv_names_count(cn); /* rebuilt if needed */
	const struct tv_names *n = cn;
	for (size_t i = 0; n && i < n->cap; i++) {
		const struct slot *s = &n->slots[i];
		for (size_t k = 0; s->used && k < s->nh; k++) {
			int rc = fn(ctx, s->family, s->addr, s->h[k].v, s->h[k].from, s->h[k].to);
			if (rc)
				return rc;
		}
	}
	return 0;
}
