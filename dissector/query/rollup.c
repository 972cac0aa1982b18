/* SPDX-License-Identifier: Apache-2.0 */
/* rollup: see rollup.h. Per hour: the segments' flow rows whose first packet
 * falls in the hour, merged per (node, conversation) into connections, then
 * summed per (node, client, server, protocol, port) pair. */
#include "dissector/query/rollup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/common/buf.h"
#include "archive/common/err.h"
#include "archive/common/log.h"
#include "archive/common/sha256.h"
#include "archive/common/timeutil.h"
#include "archive/index.h"
#include "archive/names.h"
#include "dissector/query/window.h"

#define LONG_MIN_NS UINT64_C(900000000000) /* a connection open this long in an hour is listed */

int tv_rollup_key(const char *prefix, uint64_t hour_ns, char *out, size_t n)
{
	time_t t = (time_t)(hour_ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&t, &tm);
	int w = snprintf(out, n, "%s%sv1/rollups/hourly/%04d-%02d-%02dT%02d.json", prefix ? prefix : "",
			 prefix && *prefix && prefix[strlen(prefix) - 1] != '/' ? "/" : "", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
	return w > 0 && (size_t)w < n ? 0 : tv_err(-ENAMETOOLONG, "rollup key too long");
}

/* One conversation's rows of the hour, merged. */
struct conn {
	const char *node; /* borrowed from the window's index */
	struct tv_flow_key key;
	uint64_t first, last, packets, bytes, packets_rev, bytes_rev;
	uint32_t syn, rst;
	bool directions;
};

struct conns {
	struct conn *v;
	size_t n, cap;
	json_t *by_key; /* "node|canonical flow" -> position */
};

static int conn_add(struct conns *c, const char *node, const struct tv_flow *f, bool v3)
{
	struct tv_flow_key canon;
	tv_flow_key_canonical(&f->key, &canon);
	char flow[160], id[TV_NODE_MAX + 200];
	tv_flow_key_format(&canon, flow, sizeof(flow));
	snprintf(id, sizeof(id), "%s|%s|%u", node, flow, canon.vlan);
	json_t *at = json_object_get(c->by_key, id);
	if (at) {
		struct conn *x = &c->v[json_integer_value(at)];
		bool same = f->key.sport == x->key.sport && !memcmp(f->key.src, x->key.src, 16);
		x->first = f->ts_min < x->first ? f->ts_min : x->first;
		x->last = f->ts_max > x->last ? f->ts_max : x->last;
		x->packets += f->packets;
		x->bytes += f->bytes;
		x->packets_rev += same ? f->packets_rev : f->packets - f->packets_rev;
		x->bytes_rev += same ? f->bytes_rev : f->bytes - f->bytes_rev;
		x->syn += f->syn;
		x->rst += f->rst;
		x->directions &= v3;
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct conn *v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			return tv_err(-ENOMEM, "out of memory");
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n] = (struct conn){.node = node,
				   .key = f->key,
				   .first = f->ts_min,
				   .last = f->ts_max,
				   .packets = f->packets,
				   .bytes = f->bytes,
				   .packets_rev = f->packets_rev,
				   .bytes_rev = f->bytes_rev,
				   .syn = f->syn,
				   .rst = f->rst,
				   .directions = v3};
	json_object_set_new(c->by_key, id, json_integer((json_int_t)c->n));
	c->n++;
	return 0;
}

/* How an end is named in a rollup: who held the address then. */
struct end_name {
	char label[TV_NODE_MAX * 2 + 2];
	const char *ns, *service;
};

static void name_end(const struct tv_names *names, const struct tv_flow_key *k, int side, uint64_t ts,
		     struct end_name *e)
{
	const uint8_t *a = side ? k->dst : k->src;
	const struct tv_name *n = tv_names_lookup_at(names, k->family, a, ts);
	e->ns = n ? n->ns : NULL;
	e->service = tv_names_service_at(names, k->family, a, ts);
	if (!e->service && n && n->kind && !strcmp(n->kind, "service"))
		e->service = n->name;
	if (n && n->name && n->ns)
		snprintf(e->label, sizeof(e->label), "%s/%s", n->ns, n->workload ? n->workload : n->name);
	else if (n && n->name)
		snprintf(e->label, sizeof(e->label), "%s", n->name);
	else if (!inet_ntop(k->family == 6 ? AF_INET6 : AF_INET, a, e->label, sizeof(e->label)))
		snprintf(e->label, sizeof(e->label), "?");
}

/* A new connection starts in this row (not a long one carried over). */
static bool starts_here(const struct conn *c)
{
	return c->key.proto != 6 || !c->directions || c->syn > 0;
}

static json_t *pair_new(const struct conn *c, const struct end_name *src, const struct end_name *dst)
{
	json_t *p = json_pack("{s:s,s:s,s:i,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:[],s:I}", "node", c->node,
			      "proto", c->key.proto == 6 ? "tcp" : "udp", "port", c->key.dport, "src",
			      src->label, "dst", dst->label, "conns", (json_int_t)0, "packets", (json_int_t)0,
			      "bytes", (json_int_t)0, "bytes_rev", (json_int_t)0, "syn", (json_int_t)0, "rst",
			      (json_int_t)0, "starts", "starts_dropped", (json_int_t)0);
	if (src->ns)
		json_object_set_new(p, "src_ns", json_string(src->ns));
	if (dst->ns)
		json_object_set_new(p, "dst_ns", json_string(dst->ns));
	if (dst->service)
		json_object_set_new(p, "dst_service", json_string(dst->service));
	return p;
}

static void add_int(json_t *o, const char *k, uint64_t v)
{
	json_object_set_new(o, k, json_integer(json_integer_value(json_object_get(o, k)) + (json_int_t)v));
}

static void pair_add(json_t *p, const struct conn *c, uint64_t hour)
{
	add_int(p, "packets", c->packets);
	add_int(p, "bytes", c->bytes);
	add_int(p, "bytes_rev", c->bytes_rev);
	add_int(p, "syn", c->syn);
	add_int(p, "rst", c->rst);
	if (!starts_here(c))
		return;
	add_int(p, "conns", 1);
	json_t *starts = json_object_get(p, "starts");
	if (json_array_size(starts) >= TV_ROLLUP_MAX_STARTS)
		add_int(p, "starts_dropped", 1);
	else
		json_array_append_new(starts, json_pack("[I,I]", (json_int_t)((c->first - hour) / 1000000),
							(json_int_t)c->bytes));
}

static int cmp_start(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	for (size_t i = 0; i < 2; i++) {
		json_int_t p = json_integer_value(json_array_get(x, i)),
			   q = json_integer_value(json_array_get(y, i));
		if (p != q)
			return p < q ? -1 : 1;
	}
	return 0;
}

static void sort_array(json_t *a, int (*cmp)(const void *, const void *))
{
	size_t n = json_array_size(a);
	if (n < 2)
		return;
	json_t **v = malloc(n * sizeof(*v));
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(a, i));
	qsort(v, n, sizeof(*v), cmp);
	json_array_clear(a);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, v[i]);
	free(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The values of obj in the order of their keys. */
static json_t *values_by_key(json_t *obj)
{
	size_t n = json_object_size(obj), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	json_t *out = json_array();
	if (!keys)
		return out;
	const char *k;
	json_t *v;
	json_object_foreach (obj, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++)
		json_array_append(out, json_object_get(obj, keys[i]));
	free(keys);
	return out;
}

/* SHA-256 over the inputs, in key order: each segment's key and its
 * index's data and events digests. */
static json_t *inputs_digest(struct tv_window *w)
{
	uint32_t n = tv_window_segments(w);
	json_t *lines = json_array();
	for (uint32_t i = 0; i < n; i++) {
		const struct tv_index *idx;
		const char *key = tv_window_segment(w, i, &idx);
		char d[TV_SHA256_LEN * 2 + 1], e[TV_SHA256_LEN * 2 + 1];
		tv_hex(idx->data_sha, TV_SHA256_LEN, d);
		tv_hex(idx->events_sha, TV_SHA256_LEN, e);
		json_array_append_new(lines, json_sprintf("%s %s %s\n", key, d, e));
	}
	return lines;
}

static int cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

static void set_digest(json_t *r, struct tv_window *w)
{
	json_t *lines = inputs_digest(w);
	sort_array(lines, cmp_json_str);
	struct tv_sha256 h;
	uint8_t sum[TV_SHA256_LEN];
	char hex[TV_SHA256_LEN * 2 + 1] = "";
	if (!tv_sha256_init(&h)) {
		size_t i;
		json_t *l;
		json_array_foreach (lines, i, l)
			tv_sha256_update(&h, json_string_value(l), json_string_length(l));
		tv_sha256_final(&h, sum);
		tv_sha256_cleanup(&h);
		tv_hex(sum, TV_SHA256_LEN, hex);
	}
	json_object_set_new(r, "inputs", json_integer((json_int_t)json_array_size(lines)));
	json_object_set_new(r, "inputs_sha256", json_string(hex));
	json_decref(lines);
}

static int collect_conns(struct tv_window *w, uint64_t hour, struct conns *c, uint64_t *other_packets,
			 uint64_t *other_bytes, bool *directions)
{
	*directions = true;
	for (uint32_t i = 0; i < tv_window_segments(w); i++) {
		const struct tv_index *idx;
		tv_window_segment(w, i, &idx);
		for (uint32_t j = 0; j < idx->nflows; j++) {
			const struct tv_flow *f = &idx->flows[j];
			if (!f->packets || f->ts_min < hour || f->ts_min >= hour + TV_HOUR_NS)
				continue;
			if (f->key.family == TV_FLOW_OTHER) {
				*other_packets += f->packets;
				*other_bytes += f->bytes;
				continue;
			}
			*directions &= idx->version >= 3;
			int rc = conn_add(c, idx->node, f, idx->version >= 3);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static json_t *long_entry(const struct conn *c, const struct end_name *src, const struct end_name *dst)
{
	char flow[160];
	tv_flow_key_format(&c->key, flow, sizeof(flow));
	return json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "node", c->node, "flow", flow, "src", src->label,
			 "dst", dst->label, "first_ns", (json_int_t)c->first, "last_ns", (json_int_t)c->last,
			 "bytes", (json_int_t)c->bytes);
}

static int cmp_long(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int r = strcmp(json_string_value(json_object_get(x, "node")),
		       json_string_value(json_object_get(y, "node")));
	return r ? r
		 : strcmp(json_string_value(json_object_get(x, "flow")),
			  json_string_value(json_object_get(y, "flow")));
}

static json_t *summarise(const struct conns *c, const struct tv_names *names, uint64_t hour)
{
	json_t *pairs = json_object(), *longs = json_array();
	for (size_t i = 0; i < c->n; i++) {
		const struct conn *x = &c->v[i];
		struct end_name src, dst;
		name_end(names, &x->key, 0, x->first, &src);
		name_end(names, &x->key, 1, x->first, &dst);
		char id[1200];
		snprintf(id, sizeof(id), "%s\x1f%s\x1f%s\x1f%u\x1f%05u", x->node, src.label, dst.label,
			 x->key.proto, x->key.dport);
		json_t *p = json_object_get(pairs, id);
		if (!p) {
			p = pair_new(x, &src, &dst);
			json_object_set_new(pairs, id, p);
		}
		pair_add(p, x, hour);
		if (x->last - x->first >= LONG_MIN_NS)
			json_array_append_new(longs, long_entry(x, &src, &dst));
	}
	json_t *out = values_by_key(pairs);
	size_t i;
	json_t *p;
	json_array_foreach (out, i, p)
		sort_array(json_object_get(p, "starts"), cmp_start);
	json_decref(pairs);
	sort_array(longs, cmp_long);
	return json_pack("{s:o,s:o}", "pairs", out, "long", longs);
}

int tv_rollup_build(struct tv_store *s, const char *prefix, uint64_t hour_ns, json_t **out)
{
	hour_ns -= hour_ns % TV_HOUR_NS;
	struct tv_window_opts wo = {.prefix = prefix, .from = hour_ns, .to = hour_ns + TV_HOUR_NS};
	struct tv_window *w;
	int rc = tv_window_open(&w, s, &wo);
	if (rc)
		return rc;
	struct conns c = {.by_key = json_object()};
	struct tv_names *names = NULL;
	uint64_t other_packets = 0, other_bytes = 0;
	bool directions = true;
	rc = collect_conns(w, hour_ns, &c, &other_packets, &other_bytes, &directions);
	if (!rc)
		rc = tv_names_new(&names);
	if (!rc) {
		tv_window_load_names(w, names);
		char t[TV_RFC3339_LEN];
		tv_format_rfc3339(hour_ns, t);
		json_t *body = summarise(&c, names, hour_ns);
		json_t *r = json_pack("{s:i,s:s,s:I,s:b,s:O,s:O,s:{s:I,s:I}}", "format", 1, "hour", t,
				      "hour_ns", (json_int_t)hour_ns, "directions", directions, "pairs",
				      json_object_get(body, "pairs"), "long", json_object_get(body, "long"),
				      "other", "packets", (json_int_t)other_packets, "bytes",
				      (json_int_t)other_bytes);
		json_decref(body);
		set_digest(r, w);
		*out = r;
	}
	tv_names_free(names);
	json_decref(c.by_key);
	free(c.v);
	tv_window_free(w);
	return rc;
}

static bool all_strings(json_t *o, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!json_is_string(json_object_get(o, keys[i])))
			return false;
	return true;
}

static bool all_counts(json_t *o, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(o, keys[i]);
		/* at most 2^50 (a PiB an hour): sums over a year of hours cannot overflow */
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > ((json_int_t)1 << 50))
			return false;
	}
	return true;
}

static bool optional_strings(json_t *o, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(o, keys[i]);
		if (v && !json_is_string(v))
			return false;
	}
	return true;
}

static bool pair_valid(json_t *p)
{
	static const char *const strs[] = {"node", "proto", "src", "dst"};
	static const char *const opt[] = {"src_ns", "dst_ns", "dst_service"};
	static const char *const counts[] = {"port", "conns", "packets", "bytes", "bytes_rev", "syn", "rst"};
	json_t *starts = json_object_get(p, "starts");
	if (!json_is_object(p) || !all_strings(p, strs, 4) || !optional_strings(p, opt, 3) ||
	    !all_counts(p, counts, 7) || !json_is_array(starts) ||
	    json_array_size(starts) > TV_ROLLUP_MAX_STARTS)
		return false;
	size_t i;
	json_t *s;
	json_int_t prev = -1;
	json_array_foreach (starts, i, s) {
		json_t *t = json_array_get(s, 0), *b = json_array_get(s, 1);
		if (json_array_size(s) != 2 || !json_is_integer(t) || !json_is_integer(b) ||
		    json_integer_value(t) < prev || json_integer_value(t) >= 3600000 ||
		    json_integer_value(b) < 0 || json_integer_value(b) > ((json_int_t)1 << 50))
			return false;
		prev = json_integer_value(t);
	}
	return true;
}

static bool long_valid(json_t *l)
{
	static const char *const strs[] = {"node", "flow", "src", "dst"};
	static const char *const counts[] = {"bytes"};
	json_t *first = json_object_get(l, "first_ns"), *last = json_object_get(l, "last_ns");
	return json_is_object(l) && all_strings(l, strs, 4) && all_counts(l, counts, 1) &&
	       json_is_integer(first) && json_is_integer(last) && json_integer_value(first) >= 0 &&
	       json_integer_value(last) >= json_integer_value(first);
}

int tv_rollup_parse(const uint8_t *data, size_t len, const char *what, json_t **out)
{
	json_error_t e;
	json_t *r = json_loadb((const char *)data, len, 0, &e);
	if (!r)
		return tv_err(TV_ECORRUPT, "%s: not JSON (%s)", what, e.text);
	json_t *pairs = json_object_get(r, "pairs"), *longs = json_object_get(r, "long");
	static const char *const counts[] = {"inputs"};
	json_t *hour = json_object_get(r, "hour_ns");
	bool ok = json_is_object(r) && json_integer_value(json_object_get(r, "format")) == 1 &&
		  all_counts(r, counts, 1) && json_is_integer(hour) && json_integer_value(hour) >= 0 &&
		  (uint64_t)json_integer_value(hour) % TV_HOUR_NS == 0 && json_is_array(pairs) &&
		  json_is_array(longs);
	size_t i;
	json_t *x;
	json_array_foreach (pairs, i, x)
		ok = ok && pair_valid(x);
	json_array_foreach (longs, i, x)
		ok = ok && long_valid(x);
	if (!ok) {
		json_decref(r);
		return tv_err(TV_ECORRUPT, "%s: not a tapvault rollup (format 1)", what);
	}
	*out = r;
	return 0;
}

int tv_rollup_get(struct tv_store *s, const char *prefix, uint64_t hour_ns, json_t **out)
{
	char key[TV_KEY_MAX];
	int rc = tv_rollup_key(prefix, hour_ns, key, sizeof(key));
	if (rc)
		return rc;
	struct tv_buf b;
	tv_buf_init(&b, 1 << 30);
	rc = tv_store_get(s, key, &b);
	if (!rc)
		rc = tv_rollup_parse(b.data, b.len, key, out);
	if (!rc && (uint64_t)json_integer_value(json_object_get(*out, "hour_ns")) !=
			   hour_ns - hour_ns % TV_HOUR_NS) {
		json_decref(*out);
		rc = tv_err(TV_ECORRUPT, "%s: holds another hour", key);
	}
	tv_buf_cleanup(&b);
	return rc;
}

int tv_rollup_load(struct tv_store *s, const char *prefix, uint64_t hour_ns, json_t **out, bool *built)
{
	int rc = tv_rollup_get(s, prefix, hour_ns, out);
	*built = rc != 0;
	if (rc == TV_ECORRUPT)
		tv_warn("%s (built again from the indexes)", tv_errmsg());
	return rc == -ENOENT || rc == TV_ECORRUPT ? tv_rollup_build(s, prefix, hour_ns, out) : rc;
}

static int put(struct tv_store *s, const char *prefix, uint64_t hour, json_t *r)
{
	char key[TV_KEY_MAX];
	int rc = tv_rollup_key(prefix, hour, key, sizeof(key));
	if (rc)
		return rc;
	char *text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return tv_err(-ENOMEM, "out of memory");
	rc = tv_store_put(s, key, text, strlen(text), 0);
	free(text);
	return rc;
}

int tv_rollup_range(struct tv_store *s, const char *prefix, uint64_t from, uint64_t to, bool force,
		    void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg,
		    struct tv_rollup_stats *st)
{
	memset(st, 0, sizeof(*st));
	from -= from % TV_HOUR_NS;
	to = to % TV_HOUR_NS ? to - to % TV_HOUR_NS + TV_HOUR_NS : to;
	st->hours = to > from ? (to - from) / TV_HOUR_NS : 0;
	int rc = 0;
	for (uint64_t h = from; !rc && h < to; h += TV_HOUR_NS) {
		json_t *r = NULL, *old = NULL;
		rc = tv_rollup_build(s, prefix, h, &r);
		if (!rc && json_integer_value(json_object_get(r, "inputs")) == 0) {
			st->empty++;
		} else if (!rc) {
			bool same = !force && tv_rollup_get(s, prefix, h, &old) == 0 &&
				    json_equal(json_object_get(old, "inputs_sha256"),
					       json_object_get(r, "inputs_sha256"));
			if (same)
				st->unchanged++;
			else if (!(rc = put(s, prefix, h, r)))
				st->written++;
		}
		json_decref(old);
		json_decref(r);
		if (progress)
			progress(arg, (h - from) / TV_HOUR_NS + 1, st->hours);
	}
	return rc;
}
