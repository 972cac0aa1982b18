/* SPDX-License-Identifier: Apache-2.0 */
/* procs: see procs.h. Sockets (and closes) are kept in one array; at the
 * first lookup after new records it is sorted by the socket's addresses and
 * time, each close ends the socket before it, duplicates are dropped, and
 * lookups binary-search it. */
#include "archive/procs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define OPEN UINT64_MAX
/* A connection's first packets (its handshake) come before the record of
 * its establishment, its last ones (FIN, ACK) after its close: a socket
 * holds its end this much before and after. */
#define SLACK_NS 2000000000ULL

struct sock {
	uint64_t from, to, cookie;
	uint8_t proto, family;
	bool close; /* a close record: ends the socket before it */
	bool dead;  /* a duplicate, or a close once applied */
	uint16_t lport, rport;
	uint8_t local[16], remote[16]; /* remote all zero with rport 0: any peer */
	char *pod_uid;
	struct tv_proc proc; /* comm, exe and container_id owned */
};

struct tv_procs {
	struct sock *v;
	size_t n, cap, live;
	json_t *containers; /* container id -> {"name", "pod", "namespace"} */
	json_t *pods;       /* pod uid -> {"pod", "namespace"} */
	bool dirty;
	pthread_mutex_t lock; /* the build at the first lookup after new records */
};

int tv_procs_new(struct tv_procs **out)
{
	struct tv_procs *p = calloc(1, sizeof(*p));
	if (!p || !(p->containers = json_object()) || !(p->pods = json_object())) {
		if (p)
			json_decref(p->containers);
		free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	*out = p;
	return 0;
}

void tv_procs_free(struct tv_procs *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free((char *)p->v[i].proc.comm);
		free((char *)p->v[i].proc.exe);
		free((char *)p->v[i].proc.container_id);
		free(p->v[i].pod_uid);
	}
	free(p->v);
	json_decref(p->containers);
	json_decref(p->pods);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static bool parse_ip(const char *ip, uint8_t family, uint8_t out[16])
{
	memset(out, 0, 16);
	return ip && inet_pton(family == 4 ? AF_INET : AF_INET6, ip, out) == 1;
}

static char *dup_or_null(const json_t *s)
{
	return json_is_string(s) ? strdup(json_string_value(s)) : NULL;
}

/* The socket an os record (or a state's SOCKET) names into s. @return false
 * when it names none. */
static bool parse_socket(const json_t *rec, struct sock *s)
{
	const char *event = json_string_value(json_object_get(rec, "event"));
	const json_t *flow = json_object_get(rec, "flow");
	if (!event || !json_is_object(flow))
		return false;
	memset(s, 0, sizeof(*s));
	s->close = !strcmp(event, "close");
	if (!s->close && strcmp(event, "connect") && strcmp(event, "accept") && strcmp(event, "existing") &&
	    strcmp(event, "udp"))
		return false;
	const char *proto = json_string_value(json_object_get(flow, "proto"));
	const char *src = json_string_value(json_object_get(flow, "src"));
	const char *dst = json_string_value(json_object_get(flow, "dst"));
	s->proto = proto && !strcmp(proto, "udp") ? 17 : 6;
	s->family = src && strchr(src, ':') ? 6 : 4;
	if (!parse_ip(src, s->family, s->local) || !parse_ip(dst, s->family, s->remote))
		return false;
	s->lport = (uint16_t)json_integer_value(json_object_get(flow, "sport"));
	s->rport = (uint16_t)json_integer_value(json_object_get(flow, "dport"));
	if (!s->rport)
		memset(s->remote, 0, 16);
	s->from = (uint64_t)json_integer_value(json_object_get(rec, "ts"));
	s->to = OPEN;
	s->cookie = (uint64_t)json_integer_value(json_object_get(rec, "socket"));
	s->proc.pid = (uint32_t)json_integer_value(json_object_get(rec, "pid"));
	return s->close || s->proc.pid; /* a socket nobody is known to hold names nothing */
}

static int add_socket(struct tv_procs *p, const json_t *rec)
{
	struct sock s;
	if (!parse_socket(rec, &s))
		return 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct sock *v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	const char *exe = json_string_value(json_object_get(rec, "exe"));
	s.proc.comm = dup_or_null(json_object_get(rec, "comm"));
	s.proc.exe = strdup(exe ? exe : "");
	s.proc.container_id = dup_or_null(json_object_get(rec, "container_id"));
	s.pod_uid = dup_or_null(json_object_get(rec, "pod_uid"));
	if (!s.proc.comm)
		s.proc.comm = strdup("");
	p->v[p->n++] = s;
	p->dirty = true;
	return s.proc.comm && s.proc.exe ? 0 : -ENOMEM;
}

/* A pod's containers (status ids, "containerd://ID", with their names) and uid. */
static int add_pod(struct tv_procs *p, const json_t *o)
{
	const char *kind = json_string_value(json_object_get(o, "kind"));
	if (!kind || strcmp(kind, "pod"))
		return 0;
	json_t *pod = json_object_get(o, "name"), *ns = json_object_get(o, "namespace");
	if (!json_is_string(pod))
		return 0;
	const char *uid = json_string_value(json_object_get(o, "uid"));
	if (uid && json_object_set_new(p->pods, uid, json_pack("{s:O, s:O*}", "pod", pod, "namespace", ns)))
		return -ENOMEM;
	const json_t *ids = json_object_get(o, "containers"), *names = json_object_get(o, "container_names");
	size_t i;
	json_t *id;
	json_array_foreach (ids, i, id) {
		const char *s = json_string_value(id), *sep = s ? strstr(s, "://") : NULL;
		if (!s || !*(sep ? sep + 3 : s))
			continue;
		json_t *name = json_array_get(names, i);
		if (json_object_set_new(p->containers, sep ? sep + 3 : s,
					json_pack("{s:O*, s:O, s:O*}", "name",
						  json_is_string(name) ? name : NULL, "pod", pod, "namespace",
						  ns)))
			return -ENOMEM;
	}
	p->dirty = true;
	return 0;
}

int tv_procs_add_record(struct tv_procs *p, const json_t *rec)
{
	const char *type = json_string_value(json_object_get(rec, "type"));
	int rc = 0;
	size_t i;
	json_t *v;
	if (!type)
		return 0;
	if (!strcmp(type, "os")) {
		rc = add_socket(p, rec);
	} else if (!strcmp(type, "state")) {
		json_array_foreach (json_object_get(rec, "sockets"), i, v)
			if (!rc)
				rc = add_socket(p, v);
		json_array_foreach (json_object_get(rec, "objects"), i, v)
			if (!rc)
				rc = add_pod(p, v);
	} else if (!strcmp(type, "k8s")) {
		rc = add_pod(p, json_object_get(rec, "object"));
	}
	return rc;
}

/* ---- building and looking up ---- */

static int cmp_tuple(const struct sock *a, const struct sock *b)
{
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	int c = memcmp(a->local, b->local, 16);
	if (c)
		return c;
	if (a->lport != b->lport)
		return a->lport < b->lport ? -1 : 1;
	if ((c = memcmp(a->remote, b->remote, 16)))
		return c;
	return a->rport < b->rport ? -1 : a->rport > b->rport;
}

static int by_tuple_time(const void *x, const void *y)
{
	const struct sock *a = x, *b = y;
	int c = cmp_tuple(a, b);
	if (c)
		return c;
	if (a->from != b->from)
		return a->from < b->from ? -1 : 1;
	return (int)a->close - (int)b->close; /* at one instant the socket starts, then ends */
}

struct udp_close {
	uint64_t cookie, ts;
};

static int by_cookie(const void *x, const void *y)
{
	const struct udp_close *a = x, *b = y;
	if (a->cookie != b->cookie)
		return a->cookie < b->cookie ? -1 : 1;
	return a->ts < b->ts ? -1 : a->ts > b->ts;
}

/* Each socket's container and pod, from the pods' statuses and uids. */
static void resolve_pod(struct tv_procs *p, struct sock *s)
{
	const json_t *c = s->proc.container_id ? json_object_get(p->containers, s->proc.container_id) : NULL;
	const json_t *pod = c ? c : s->pod_uid ? json_object_get(p->pods, s->pod_uid) : NULL;
	s->proc.container = c ? json_string_value(json_object_get(c, "name")) : NULL;
	s->proc.pod = json_string_value(json_object_get(pod, "pod"));
	s->proc.pod_namespace = json_string_value(json_object_get(pod, "namespace"));
}

/* Folds TCP closes into the socket before them (same addresses), drops
 * duplicates (the same socket in several states), and ends a socket whose
 * addresses another process took without a close seen. */
static void fold_runs(struct tv_procs *p)
{
	size_t cur = SIZE_MAX;
	for (size_t i = 0; i < p->n; i++) {
		struct sock *s = &p->v[i];
		if (i && cmp_tuple(&p->v[i - 1], s))
			cur = SIZE_MAX;
		struct sock *c = cur == SIZE_MAX ? NULL : &p->v[cur];
		if (s->close) {
			if (c && c->to == OPEN)
				c->to = s->from;
			s->dead = true;
		} else if (c && c->to == OPEN && c->proc.pid == s->proc.pid) {
			s->dead = true; /* the same socket again */
		} else {
			if (c && c->to == OPEN)
				c->to = s->from;
			cur = i;
		}
	}
}

/* UDP closes carry the socket's cookie, not its addresses. */
static int fold_udp_closes(struct tv_procs *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n; i++)
		n += p->v[i].close && p->v[i].proto == 17 && p->v[i].cookie;
	struct udp_close *cl = n ? malloc(n * sizeof(*cl)) : NULL;
	if (n && !cl)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].close && p->v[i].proto == 17 && p->v[i].cookie)
			cl[n++] = (struct udp_close){p->v[i].cookie, p->v[i].from};
	if (n)
		qsort(cl, n, sizeof(*cl), by_cookie);
	for (size_t i = 0; n && i < p->n; i++) {
		struct sock *s = &p->v[i];
		if (s->close || s->dead || s->proto != 17 || !s->cookie || s->to != OPEN)
			continue;
		size_t lo = 0, hi = n; /* the first close of this cookie at or after its start */
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (cl[mid].cookie < s->cookie ||
			    (cl[mid].cookie == s->cookie && cl[mid].ts < s->from))
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < n && cl[lo].cookie == s->cookie)
			s->to = cl[lo].ts;
	}
	free(cl);
	return 0;
}

static int build(struct tv_procs *p)
{
	if (p->n) /* qsort's array may not be NULL, even empty */
		qsort(p->v, p->n, sizeof(*p->v), by_tuple_time);
	for (size_t i = 0; i < p->n; i++)
		p->v[i].dead = false;
	fold_runs(p);
	int rc = fold_udp_closes(p);
	p->live = 0;
	for (size_t i = 0; i < p->n; i++)
		if (!p->v[i].dead) {
			resolve_pod(p, &p->v[i]);
			p->live++;
		}
	p->dirty = false;
	return rc;
}

static bool ready(const struct tv_procs *cp)
{
	struct tv_procs *p = (struct tv_procs *)cp; /* the build is a cache: logically const */
	pthread_mutex_lock(&p->lock);
	int rc = p->dirty ? build(p) : 0;
	pthread_mutex_unlock(&p->lock);
	return rc == 0;
}

/* The socket of exactly this tuple that held it at ts (the latest that
 * started by then, else the first to start within the slack), or NULL. */
static const struct sock *find(const struct tv_procs *p, const struct sock *key, uint64_t ts)
{
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cmp_tuple(&p->v[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct sock *best = NULL;
	for (size_t i = lo; i < p->n && !cmp_tuple(&p->v[i], key); i++) {
		const struct sock *s = &p->v[i];
		if (s->dead || s->from > ts + SLACK_NS || (s->to != OPEN && s->to + SLACK_NS < ts))
			continue;
		/* sorted by start: the last one started by ts wins, else the first after */
		if (s->from <= ts || !best)
			best = s;
	}
	return best;
}

const struct tv_proc *tv_procs_lookup(const struct tv_procs *p, uint8_t proto, uint8_t family,
				      const uint8_t addr[16], uint16_t port, const uint8_t peer[16],
				      uint16_t peer_port, uint64_t ts)
{
	if (!p || !p->n || !ready(p))
		return NULL;
	struct sock key = {.proto = proto, .family = family, .lport = port, .rport = peer_port};
	memcpy(key.local, addr, 16);
	memcpy(key.remote, peer, 16);
	const struct sock *s = find(p, &key, ts);
	if (!s && proto == 17) { /* a socket that is not connected: any peer */
		memset(key.remote, 0, 16);
		key.rport = 0;
		s = find(p, &key, ts);
	}
	return s ? &s->proc : NULL;
}

size_t tv_procs_count(const struct tv_procs *p)
{
	return p && ready(p) ? p->live : 0;
}

json_t *tv_proc_json(const struct tv_proc *pr)
{
	json_t *j = json_pack("{s:i, s:s}", "pid", (int)pr->pid, "comm", pr->comm);
	if (pr->exe[0])
		json_object_set_new(j, "exe", json_string(pr->exe));
	if (pr->container_id)
		json_object_set_new(j, "container_id", json_string(pr->container_id));
	if (pr->container)
		json_object_set_new(j, "container", json_string(pr->container));
	if (pr->pod)
		json_object_set_new(j, "pod", json_string(pr->pod));
	if (pr->pod_namespace)
		json_object_set_new(j, "namespace", json_string(pr->pod_namespace));
	return j;
}
