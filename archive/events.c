/* SPDX-License-Identifier: Apache-2.0 */
/* events: see events.h. Records are built with jansson (compact, keys in
 * insertion order) and buffered until a flush compresses them as one frame. */
#include "archive/events.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/segment.h"

#define FLUSH_BYTES ((size_t)256 << 10)
/* objects per state record: well under the line limit */
#define STATE_PART_BYTES ((size_t)512 << 10)

struct tv_events_writer {
	int fd;
	ZSTD_CCtx *cctx; /* reused for every flush */
	char *path;
	struct tv_buf lines;
	struct tv_buf comp;
};

static const char *const action_names[] = {"added", "updated", "deleted"};

static json_t *string_array(const char *const *a, size_t n)
{
	json_t *j = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(j, json_string(a[i]));
	return j;
}

static void set_string(json_t *j, const char *key, const char *v)
{
	if (v)
		json_object_set_new(j, key, json_string(v));
}

/* The version-2 fields (FORMAT.md §4), each only when known. */
static void add_optional(json_t *j, const struct tv_k8s_object *o)
{
	set_string(j, "uid", o->uid);
	if (o->workload_kind && o->workload_name)
		json_object_set_new(
			j, "workload",
			json_pack("{s:s, s:s}", "kind", o->workload_kind, "name", o->workload_name));
	if (o->host_network > 0)
		json_object_set_new(j, "host_network", json_true());
	set_string(j, "phase", o->phase);
	set_string(j, "qos", o->qos);
	if (o->ncontainers)
		json_object_set_new(j, "containers", string_array(o->containers, o->ncontainers));
	if (o->ncontainers && o->container_names)
		json_object_set_new(j, "container_names", string_array(o->container_names, o->ncontainers));
	set_string(j, "type", o->service_type);
	if (o->nexternal_ips)
		json_object_set_new(j, "external_ips", string_array(o->external_ips, o->nexternal_ips));
	set_string(j, "service", o->service);
	if (o->nendpoints) {
		json_t *a = json_array();
		for (size_t i = 0; i < o->nendpoints; i++) {
			const struct tv_k8s_endpoint *e = &o->endpoints[i];
			json_t *x = json_pack("{s:s}", "ip", e->ip);
			set_string(x, "pod", e->pod);
			set_string(x, "pod_namespace", e->pod_namespace);
			if (e->ready >= 0)
				json_object_set_new(x, "ready", json_boolean(e->ready));
			json_array_append_new(a, x);
		}
		json_object_set_new(j, "endpoints", a);
	}
	if (o->npod_cidrs)
		json_object_set_new(j, "pod_cidrs", string_array(o->pod_cidrs, o->npod_cidrs));
}

static json_t *k8s_json(const struct tv_k8s_object *o)
{
	json_t *j = json_object();
	json_object_set_new(j, "kind", json_string(o->kind));
	json_object_set_new(j, "name", json_string(o->name));
	if (o->namespace_)
		json_object_set_new(j, "namespace", json_string(o->namespace_));
	if (o->node)
		json_object_set_new(j, "node", json_string(o->node));
	json_t *ips = json_array();
	for (size_t i = 0; i < o->nips; i++)
		json_array_append_new(ips, json_string(o->ips[i]));
	json_object_set_new(j, "ips", ips);
	json_t *ports = json_array();
	for (size_t i = 0; i < o->nports; i++) {
		json_t *p = json_object();
		if (o->ports[i].name)
			json_object_set_new(p, "name", json_string(o->ports[i].name));
		json_object_set_new(p, "port", json_integer(o->ports[i].port));
		json_object_set_new(p, "protocol",
				    json_string(o->ports[i].protocol ? o->ports[i].protocol : "TCP"));
		json_array_append_new(ports, p);
	}
	json_object_set_new(j, "ports", ports);
	json_t *labels = json_object();
	for (size_t i = 0; i < o->nlabels; i++)
		json_object_set_new(labels, o->labels[i].key, json_string(o->labels[i].value));
	json_object_set_new(j, "labels", labels);
	add_optional(j, o);
	return j;
}

static json_t *flow_json(const struct tv_flow_key *k)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = k->family == 6 ? AF_INET6 : AF_INET;
	inet_ntop(af, k->src, s, sizeof(s));
	inet_ntop(af, k->dst, d, sizeof(d));
	return json_pack("{s:s, s:s, s:i, s:s, s:i}", "proto", k->proto == 6 ? "tcp" : "udp", "src", s,
			 "sport", (json_int_t)k->sport, "dst", d, "dport", (json_int_t)k->dport);
}

/* s as a JSON string; bytes that are not UTF-8 (a comm or a path can hold
 * any) become '?', so the record is never lost over them. */
static json_t *any_bytes_string(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	char clean[512];
	size_t i = 0;
	for (; s[i] && i + 1 < sizeof(clean); i++)
		clean[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ? '?' : s[i];
	clean[i] = '\0';
	return json_string(clean);
}

static json_t *os_json(const struct tv_os_event *e, bool with_type)
{
	json_t *j = json_object();
	if (with_type)
		json_object_set_new(j, "type", json_string("os"));
	json_object_set_new(j, "ts", json_integer((json_int_t)e->ts_ns));
	json_object_set_new(j, "event", json_string(e->event));
	json_object_set_new(j, "pid", json_integer(e->pid));
	json_object_set_new(j, "comm", any_bytes_string(e->comm ? e->comm : ""));
	if (e->exe && e->exe[0])
		json_object_set_new(j, "exe", any_bytes_string(e->exe));
	json_object_set_new(j, "cgroup_id", json_integer((json_int_t)e->cgroup_id));
	if (e->container_id)
		json_object_set_new(j, "container_id", json_string(e->container_id));
	if (e->flow.family != TV_FLOW_OTHER)
		json_object_set_new(j, "flow", flow_json(&e->flow));
	return j;
}

/* Appends rec as one line, then flushes if enough is buffered. Steals rec. */
static int append_record(struct tv_events_writer *w, json_t *rec)
{
	if (!rec)
		return tv_err(-EINVAL, "%s: event has invalid strings (not UTF-8?)", w->path);
	char *s = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(rec);
	if (!s)
		return tv_err(-ENOMEM, "%s: cannot serialise event", w->path);
	size_t n = strlen(s);
	int rc = n >= TV_EVENTS_MAX_LINE ? -EFBIG : tv_buf_append(&w->lines, s, n);
	if (!rc)
		rc = tv_buf_put_u8(&w->lines, '\n');
	free(s);
	if (rc)
		return tv_err(rc, "%s: event record too large", w->path);
	return w->lines.len >= FLUSH_BYTES ? tv_events_writer_flush(w) : 0;
}

json_t *tv_events_object_json(const struct tv_k8s_object *o)
{
	return k8s_json(o);
}

/* Adds v to the part's array `key` and its size to *bytes. */
static void add_to_part(json_t *part, const char *key, json_t *v, size_t *bytes)
{
	char *s = json_dumps(v, JSON_COMPACT);
	*bytes += s ? strlen(s) + 1 : 0;
	free(s);
	json_array_append(json_object_get(part, key), v);
}

/* Continuation state records (§4): the objects, then the sockets, that did
 * not fit the first, each record well under the line limit. */
static int append_state_parts(struct tv_events_writer *w, uint64_t ts_ns, const json_t *objects,
			      const json_t *sockets)
{
	size_t no = json_array_size(objects), ns = json_array_size(sockets), o = 0, k = 0;
	while (o < no || k < ns) {
		json_t *part = json_pack("{s:s, s:I, s:[], s:[], s:b}", "type", "state", "ts",
					 (json_int_t)ts_ns, "objects", "sockets", "continued", 1);
		size_t bytes = 0;
		for (; o < no && bytes < STATE_PART_BYTES; o++)
			add_to_part(part, "objects", json_array_get(objects, o), &bytes);
		for (; o == no && k < ns && bytes < STATE_PART_BYTES; k++)
			add_to_part(part, "sockets", json_array_get(sockets, k), &bytes);
		int rc = append_record(w, part);
		if (rc)
			return rc;
	}
	return 0;
}

int tv_events_writer_open_state(struct tv_events_writer **out, const char *path, uint64_t ts_ns,
				const json_t *objects, const json_t *sockets)
{
	int rc = tv_events_writer_open(out, path, ts_ns, NULL, 0, NULL, 0);
	if (!rc)
		rc = append_state_parts(*out, ts_ns, objects, sockets);
	if (!rc)
		rc = tv_events_writer_flush(*out);
	if (rc) {
		tv_events_writer_free(*out);
		*out = NULL;
		unlink(path);
	}
	return rc;
}

int tv_events_write_json(struct tv_events_writer *w, json_t *rec)
{
	char why[160];
	if (tv_events_validate(rec, why, sizeof(why))) {
		json_decref(rec);
		return tv_err(-EINVAL, "%s: not an events record: %s", w->path, why);
	}
	return append_record(w, rec);
}

/* Creates path and writes the first state record; w keeps its context and buffers. */
static int start_file(struct tv_events_writer *w, const char *path, uint64_t ts_ns,
		      const struct tv_k8s_object *objects, size_t nobjects, const struct tv_os_event *sockets,
		      size_t nsockets)
{
	free(w->path);
	tv_buf_reset(&w->lines);
	if (!(w->path = strdup(path)))
		return tv_err(-ENOMEM, "%s: out of memory", path);
	w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (w->fd < 0)
		return tv_err(-errno, "create %s: %s", path, strerror(errno));
	json_t *state = json_object(), *objs = json_array(), *socks = json_array();
	json_object_set_new(state, "type", json_string("state"));
	json_object_set_new(state, "ts", json_integer((json_int_t)ts_ns));
	for (size_t i = 0; i < nobjects; i++)
		json_array_append_new(objs, k8s_json(&objects[i]));
	for (size_t i = 0; i < nsockets; i++)
		json_array_append_new(socks, os_json(&sockets[i], false));
	json_object_set_new(state, "objects", objs);
	json_object_set_new(state, "sockets", socks);
	int rc = append_record(w, state);
	if (!rc)
		rc = tv_events_writer_flush(w);
	if (rc) {
		close(w->fd);
		w->fd = -1;
		unlink(path);
	}
	return rc;
}

int tv_events_writer_open(struct tv_events_writer **out, const char *path, uint64_t ts_ns,
			  const struct tv_k8s_object *objects, size_t nobjects,
			  const struct tv_os_event *sockets, size_t nsockets)
{
	*out = NULL;
	struct tv_events_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->cctx = ZSTD_createCCtx())) {
		free(w);
		return tv_err(-ENOMEM, "%s: out of memory", path);
	}
	w->fd = -1;
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
	tv_buf_init(&w->lines, FLUSH_BYTES + TV_EVENTS_MAX_LINE);
	tv_buf_init(&w->comp, TV_FRAME_COMP_MAX);
	int rc = start_file(w, path, ts_ns, objects, nobjects, sockets, nsockets);
	if (rc) {
		tv_events_writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int tv_events_writer_recycle_state(struct tv_events_writer *w, const char *path, uint64_t ts_ns,
				   const json_t *objects, const json_t *sockets)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	int rc = start_file(w, path, ts_ns, NULL, 0, NULL, 0);
	if (!rc)
		rc = append_state_parts(w, ts_ns, objects, sockets);
	if (!rc)
		rc = tv_events_writer_flush(w);
	if (rc && w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
		unlink(path);
	}
	return rc;
}

int tv_events_write_k8s_seen(struct tv_events_writer *w, uint64_t ts_ns, enum tv_k8s_action action,
			     const struct tv_k8s_object *obj, bool at_relist)
{
	json_t *rec = json_object();
	json_object_set_new(rec, "type", json_string("k8s"));
	json_object_set_new(rec, "ts", json_integer((json_int_t)ts_ns));
	json_object_set_new(rec, "action", json_string(action_names[action]));
	if (at_relist)
		json_object_set_new(rec, "at_relist", json_true());
	json_object_set_new(rec, "object", k8s_json(obj));
	return append_record(w, rec);
}

int tv_events_write_k8s(struct tv_events_writer *w, uint64_t ts_ns, enum tv_k8s_action action,
			const struct tv_k8s_object *obj)
{
	return tv_events_write_k8s_seen(w, ts_ns, action, obj, false);
}

json_t *tv_events_os_json(const struct tv_os_event *ev)
{
	return os_json(ev, true);
}

int tv_events_write_os(struct tv_events_writer *w, const struct tv_os_event *ev)
{
	return append_record(w, os_json(ev, true));
}

int tv_events_write_sync(struct tv_events_writer *w, const struct tv_k8s_sync *s)
{
	return append_record(w, json_pack("{s:s, s:I, s:I, s:I, s:s, s:s}", "type", "sync", "ts",
					  (json_int_t)s->ts_ns, "from", (json_int_t)s->from_ns, "to",
					  (json_int_t)s->to_ns, "resource", s->resource, "why", s->why));
}

int tv_events_writer_flush(struct tv_events_writer *w)
{
	if (w->lines.len == 0)
		return 0;
	size_t bound = ZSTD_compressBound(w->lines.len);
	tv_buf_reset(&w->comp);
	int rc = tv_buf_reserve(&w->comp, bound);
	if (rc)
		return tv_err(rc, "%s: out of memory", w->path);
	size_t n = ZSTD_compress2(w->cctx, w->comp.data, bound, w->lines.data, w->lines.len);
	if (ZSTD_isError(n))
		return tv_err(-EIO, "%s: zstd: %s", w->path, ZSTD_getErrorName(n));
	if ((rc = tv_write_all(w->fd, w->comp.data, n, w->path)))
		return rc;
	tv_buf_reset(&w->lines);
	return 0;
}

static int close_file(struct tv_events_writer *w, bool sync)
{
	int rc = tv_events_writer_flush(w);
	if (!rc && sync && fsync(w->fd) != 0)
		rc = tv_err(-errno, "fsync %s: %s", w->path, strerror(errno));
	if (close(w->fd) != 0 && !rc)
		rc = tv_err(-errno, "close %s: %s", w->path, strerror(errno));
	w->fd = -1;
	return rc;
}

int tv_events_writer_close(struct tv_events_writer *w)
{
	return close_file(w, true);
}

int tv_events_writer_close_unsynced(struct tv_events_writer *w)
{
	return close_file(w, false);
}

void tv_events_writer_free(struct tv_events_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	ZSTD_freeCCtx(w->cctx);
	tv_buf_cleanup(&w->lines);
	tv_buf_cleanup(&w->comp);
	free(w->path);
	free(w);
}

/* ---- reading ---- */

struct tv_events_reader {
	ZSTD_DStream *ds;
	const uint8_t *data;
	size_t len, pos;
	struct tv_buf text; /* decompressed, not yet consumed */
	size_t text_off;
	uint64_t line_no;
	char what[256];
	bool first;
};

int tv_events_reader_open(struct tv_events_reader **out, const uint8_t *data, size_t len, const char *what)
{
	struct tv_events_reader *r = calloc(1, sizeof(*r));
	if (!r || !(r->ds = ZSTD_createDStream())) {
		free(r);
		return tv_err(-ENOMEM, "%s: out of memory", what);
	}
	ZSTD_initDStream(r->ds);
	/* A decompression bomb stops at the line cap instead of filling memory. */
	tv_buf_init(&r->text, 2 * TV_EVENTS_MAX_LINE + ZSTD_DStreamOutSize());
	r->data = data;
	r->len = len;
	r->first = true;
	snprintf(r->what, sizeof(r->what), "%s", what);
	*out = r;
	return 0;
}

void tv_events_reader_free(struct tv_events_reader *r)
{
	if (!r)
		return;
	ZSTD_freeDStream(r->ds);
	tv_buf_cleanup(&r->text);
	free(r);
}

/* Decompresses more input into text. @return bytes added, 0 at end, <0 error. */
static long refill(struct tv_events_reader *r)
{
	if (r->text_off) {
		memmove(r->text.data, r->text.data + r->text_off, r->text.len - r->text_off);
		r->text.len -= r->text_off;
		r->text_off = 0;
	}
	size_t before = r->text.len;
	while (r->text.len == before && r->pos < r->len) {
		size_t room = ZSTD_DStreamOutSize();
		if (tv_buf_reserve(&r->text, room))
			return tv_err(TV_ECORRUPT, "%s: line %llu longer than %zu bytes", r->what,
				      (unsigned long long)r->line_no + 1, TV_EVENTS_MAX_LINE);
		ZSTD_inBuffer in = {r->data, r->len, r->pos};
		ZSTD_outBuffer outb = {r->text.data + r->text.len, room, 0};
		size_t ret = ZSTD_decompressStream(r->ds, &outb, &in);
		if (ZSTD_isError(ret))
			return tv_err(TV_ECORRUPT, "%s: zstd at offset %zu: %s", r->what, r->pos,
				      ZSTD_getErrorName(ret));
		r->pos = in.pos;
		r->text.len += outb.pos;
	}
	return (long)(r->text.len - before);
}

static int check_type(const json_t *j, const char *key, json_type t, char *why, size_t n)
{
	json_t *v = json_object_get(j, key);
	if (!v || json_typeof(v) != t) {
		snprintf(why, n, "field '%s' missing or of the wrong type", key);
		return -EINVAL;
	}
	return 0;
}

static int validate_object(const json_t *o, char *why, size_t n)
{
	if (!json_is_object(o)) {
		snprintf(why, n, "object is not a JSON object");
		return -EINVAL;
	}
	if (check_type(o, "kind", JSON_STRING, why, n) || check_type(o, "name", JSON_STRING, why, n) ||
	    check_type(o, "ips", JSON_ARRAY, why, n) || check_type(o, "ports", JSON_ARRAY, why, n) ||
	    check_type(o, "labels", JSON_OBJECT, why, n))
		return -EINVAL;
	const char *kind = json_string_value(json_object_get(o, "kind"));
	if (strcmp(kind, "pod") && strcmp(kind, "service") && strcmp(kind, "endpoints") &&
	    strcmp(kind, "endpointslice") && strcmp(kind, "namespace") && strcmp(kind, "node")) {
		snprintf(why, n, "unknown kind '%.40s'", kind);
		return -EINVAL;
	}
	return 0;
}

static int validate_os(const json_t *o, char *why, size_t n)
{
	if (check_type(o, "ts", JSON_INTEGER, why, n) || check_type(o, "event", JSON_STRING, why, n) ||
	    check_type(o, "pid", JSON_INTEGER, why, n) || check_type(o, "comm", JSON_STRING, why, n) ||
	    check_type(o, "cgroup_id", JSON_INTEGER, why, n))
		return -EINVAL;
	return 0;
}

int tv_events_validate(const json_t *rec, char *why, size_t n)
{
	if (!json_is_object(rec)) {
		snprintf(why, n, "record is not a JSON object");
		return -EINVAL;
	}
	if (check_type(rec, "type", JSON_STRING, why, n) || check_type(rec, "ts", JSON_INTEGER, why, n))
		return -EINVAL;
	const char *type = json_string_value(json_object_get(rec, "type"));
	if (strcmp(type, "state") == 0) {
		if (check_type(rec, "objects", JSON_ARRAY, why, n) ||
		    check_type(rec, "sockets", JSON_ARRAY, why, n))
			return -EINVAL;
		size_t i;
		json_t *v;
		json_array_foreach (json_object_get(rec, "objects"), i, v)
			if (validate_object(v, why, n))
				return -EINVAL;
		json_array_foreach (json_object_get(rec, "sockets"), i, v)
			if (validate_os(v, why, n))
				return -EINVAL;
		return 0;
	}
	if (strcmp(type, "k8s") == 0) {
		if (check_type(rec, "action", JSON_STRING, why, n))
			return -EINVAL;
		const char *a = json_string_value(json_object_get(rec, "action"));
		if (strcmp(a, "added") && strcmp(a, "updated") && strcmp(a, "deleted")) {
			snprintf(why, n, "unknown action '%.40s'", a);
			return -EINVAL;
		}
		return validate_object(json_object_get(rec, "object"), why, n);
	}
	if (strcmp(type, "os") == 0)
		return validate_os(rec, why, n);
	if (strcmp(type, "sync") == 0) {
		if (check_type(rec, "from", JSON_INTEGER, why, n) ||
		    check_type(rec, "to", JSON_INTEGER, why, n) ||
		    check_type(rec, "resource", JSON_STRING, why, n) ||
		    check_type(rec, "why", JSON_STRING, why, n))
			return -EINVAL;
		if (json_integer_value(json_object_get(rec, "from")) >
		    json_integer_value(json_object_get(rec, "to"))) {
			snprintf(why, n, "sync record ends before it starts");
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(type, "capture") == 0) { /* what the agent captured from then on */
		if (check_type(rec, "interfaces", JSON_ARRAY, why, n) ||
		    check_type(rec, "scope", JSON_STRING, why, n))
			return -EINVAL;
		size_t i;
		json_t *v;
		json_array_foreach (json_object_get(rec, "interfaces"), i, v)
			if (check_type(v, "name", JSON_STRING, why, n))
				return -EINVAL;
		return 0;
	}
	snprintf(why, n, "unknown record type '%.40s'", type);
	return -EINVAL;
}

int tv_events_reader_next(struct tv_events_reader *r, json_t **rec)
{
	*rec = NULL;
	char *nl;
	while (!(nl = r->text.len > r->text_off
			      ? memchr(r->text.data + r->text_off, '\n', r->text.len - r->text_off)
			      : NULL)) {
		long got = refill(r);
		if (got < 0)
			return (int)got;
		if (got == 0) {
			if (r->text.len - r->text_off)
				return tv_err(TV_ETRUNC, "%s: last line %llu has no newline (torn)", r->what,
					      (unsigned long long)r->line_no + 1);
			if (r->first)
				return tv_err(TV_ECORRUPT, "%s: empty events file (no state record)",
					      r->what);
			return 0;
		}
		if (r->text.len - r->text_off > TV_EVENTS_MAX_LINE)
			return tv_err(TV_ECORRUPT, "%s: line %llu longer than %zu bytes", r->what,
				      (unsigned long long)r->line_no + 1, TV_EVENTS_MAX_LINE);
	}
	const char *line = (const char *)r->text.data + r->text_off;
	size_t n = (size_t)(nl - line);
	r->text_off += n + 1;
	r->line_no++;
	json_error_t jerr;
	json_t *j = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
	char why[160] = "";
	if (!j)
		return tv_err(TV_ECORRUPT, "%s: line %llu: %s", r->what, (unsigned long long)r->line_no,
			      jerr.text);
	if (tv_events_validate(j, why, sizeof(why)) ||
	    (r->first && strcmp(json_string_value(json_object_get(j, "type")), "state") != 0)) {
		json_decref(j);
		return tv_err(TV_ECORRUPT, "%s: line %llu: %s", r->what, (unsigned long long)r->line_no,
			      r->first ? (why[0] ? why : "first record is not the state record") : why);
	}
	r->first = false;
	*rec = j;
	return 1;
}
