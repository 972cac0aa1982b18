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
#include "archive/common/json_writer.h"
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

/* s as a JSON string into out. Bytes that are not printable ASCII (a comm
 * or a path can hold any) become '?': never invalid JSON, never a record
 * lost over them. */
static bool printable(unsigned char c)
{
	return c >= 0x20 && c < 0x7f;
}

static void put_json_string(struct tv_buf *out, const char *s)
{
	size_t n = strlen(s), i = 0;
	while (i < n && printable((unsigned char)s[i]))
		i++;
	if (i == n) { /* the usual name */
		tv_json_append_string(out, s, n);
		return;
	}
	char *clean = malloc(n);
	if (!clean) {
		tv_json_append_string(out, "?", 1);
		return;
	}
	for (size_t k = 0; k < n; k++)
		clean[k] = printable((unsigned char)s[k]) ? s[k] : '?';
	tv_json_append_string(out, clean, n);
	free(clean);
}

static void put_text(struct tv_buf *out, const char *s)
{
	tv_buf_append(out, s, strlen(s));
}

static void put_u64(struct tv_buf *out, const char *key, uint64_t v)
{
	char t[48];
	int n = snprintf(t, sizeof(t), ",\"%s\":%llu", key, (unsigned long long)v);
	tv_buf_append(out, t, (size_t)n);
}

static void put_field(struct tv_buf *out, const char *key, const char *v)
{
	if (!v || !v[0])
		return;
	tv_buf_put_u8(out, ',');
	put_json_string(out, key);
	tv_buf_put_u8(out, ':');
	put_json_string(out, v);
}

/* The fields of e's record after its opening brace: `"ts":...}` (FORMAT.md
 * §4). Written as text, not built as JSON objects: the agent makes several
 * per connection, and building, dumping and freeing objects cost it ~10x. */
static void os_body(const struct tv_os_event *e, struct tv_buf *out)
{
	char t[48];
	int n = snprintf(t, sizeof(t), "\"ts\":%llu", (unsigned long long)e->ts_ns);
	tv_buf_append(out, t, (size_t)n);
	put_field(out, "event", e->event);
	put_u64(out, "pid", e->pid);
	if (e->tid && e->tid != e->pid)
		put_u64(out, "tid", e->tid);
	put_text(out, ",\"comm\":");
	put_json_string(out, e->comm ? e->comm : "");
	put_field(out, "exe", e->exe);
	put_u64(out, "cgroup_id", e->cgroup_id);
	put_field(out, "container_id", e->container_id);
	put_field(out, "pod_uid", e->pod_uid);
	if (e->netns)
		put_u64(out, "netns", e->netns);
	if (e->socket)
		put_u64(out, "socket", e->socket);
	if (e->flow.family != TV_FLOW_OTHER) {
		char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], f[200];
		int af = e->flow.family == 6 ? AF_INET6 : AF_INET;
		inet_ntop(af, e->flow.src, s, sizeof(s));
		inet_ntop(af, e->flow.dst, d, sizeof(d));
		n = snprintf(f, sizeof(f),
			     ",\"flow\":{\"proto\":\"%s\",\"src\":\"%s\",\"sport\":%u,\"dst\":\"%s\","
			     "\"dport\":%u}",
			     e->flow.proto == 6 ? "tcp" : "udp", s, e->flow.sport, d, e->flow.dport);
		tv_buf_append(out, f, (size_t)n);
	}
	tv_buf_put_u8(out, '}');
}

/* Room for e's record whatever its strings (escaping at most doubles them):
 * with it reserved, no append below can fail. */
static size_t os_room(const struct tv_os_event *e)
{
	const char *s[] = {e->event, e->comm, e->exe, e->container_id, e->pod_uid};
	size_t n = 512;
	for (size_t i = 0; i < sizeof(s) / sizeof(*s); i++)
		n += s[i] ? 2 * strlen(s[i]) + 32 : 0;
	return n;
}

int tv_events_format_os(const struct tv_os_event *e, struct tv_buf *out, size_t *body)
{
	size_t start = out->len;
	if (tv_buf_reserve(out, os_room(e)))
		return -ENOMEM;
	put_text(out, "{\"type\":\"os\",");
	if (body)
		*body = out->len;
	os_body(e, out);
	tv_buf_put_u8(out, '\n');
	if (out->len - start >= TV_EVENTS_MAX_LINE) {
		out->len = start;
		return -EFBIG;
	}
	return 0;
}

/* e as a state's SOCKET JSON (its record without "type"). */
static json_t *socket_json(const struct tv_os_event *e)
{
	struct tv_buf b;
	tv_buf_init(&b, 0);
	json_t *j = NULL;
	if (!tv_buf_reserve(&b, os_room(e))) {
		tv_buf_put_u8(&b, '{');
		os_body(e, &b);
		j = json_loadb((const char *)b.data, b.len, 0, NULL);
	}
	tv_buf_cleanup(&b);
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
			      const struct tv_buf *sockets)
{
	size_t no = json_array_size(objects), o = 0;
	while (o < no) {
		json_t *part = json_pack("{s:s, s:I, s:[], s:[], s:b}", "type", "state", "ts",
					 (json_int_t)ts_ns, "objects", "sockets", "continued", 1);
		size_t bytes = 0;
		for (; o < no && bytes < STATE_PART_BYTES; o++)
			add_to_part(part, "objects", json_array_get(objects, o), &bytes);
		int rc = append_record(w, part);
		if (rc)
			return rc;
	}
	/* the sockets come as text, one SOCKET per line: joined into records */
	const char *s = sockets ? (const char *)sockets->data : NULL, *end = s ? s + sockets->len : NULL;
	char head[96];
	int hn = snprintf(head, sizeof(head), "{\"type\":\"state\",\"ts\":%llu,\"objects\":[],\"sockets\":[",
			  (unsigned long long)ts_ns);
	static const char tail[] = "],\"continued\":true}\n";
	while (s && s < end) {
		if (tv_buf_append(&w->lines, head, (size_t)hn))
			return tv_err(-ENOMEM, "%s: out of memory", w->path);
		size_t bytes = 0;
		for (bool first = true; s < end && bytes < STATE_PART_BYTES; first = false) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			size_t len = (size_t)((nl ? nl : end) - s);
			if ((!first && tv_buf_put_u8(&w->lines, ',')) || tv_buf_append(&w->lines, s, len))
				return tv_err(-ENOMEM, "%s: out of memory", w->path);
			bytes += len + 1;
			s += len + (nl != NULL);
		}
		int rc = tv_events_write_lines(w, tail, sizeof(tail) - 1);
		if (rc)
			return rc;
	}
	return 0;
}

int tv_events_writer_open_state(struct tv_events_writer **out, const char *path, uint64_t ts_ns,
				const json_t *objects, const struct tv_buf *sockets)
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
		json_array_append_new(socks, socket_json(&sockets[i]));
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
				   const json_t *objects, const struct tv_buf *sockets)
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

int tv_events_write_lines(struct tv_events_writer *w, const void *lines, size_t n)
{
	if (n && tv_buf_append(&w->lines, lines, n))
		return tv_err(-ENOMEM, "%s: out of memory", w->path);
	return w->lines.len >= FLUSH_BYTES ? tv_events_writer_flush(w) : 0;
}

int tv_events_write_os(struct tv_events_writer *w, const struct tv_os_event *ev)
{
	struct tv_buf b;
	tv_buf_init(&b, 0);
	int rc = tv_events_format_os(ev, &b, NULL);
	if (!rc)
		rc = tv_events_write_lines(w, b.data, b.len);
	tv_buf_cleanup(&b);
	return rc;
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
