/* SPDX-License-Identifier: Apache-2.0 */
/* mcp_entries: the tools that read packets -- API calls (a window
 * dissected once into a cache file, then filtered and paged from it) and
 * PCAP export -- plus the cursors and small helpers the tools share. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/common/sha256.h"
#include "archive/common/timeutil.h"
#include "archive/names.h"
#include "dissector/dissect/dissect.h"
#include "dissector/query/dissection.h"
#include "dissector/query/export.h"
#include "dissector/web/mcp_util.h"

void tv_format_duration(uint64_t ns, char *out, size_t n)
{
	uint64_t s = ns / 1000000000ull;
	if (s >= 86400 && s % 86400 == 0)
		snprintf(out, n, "%" PRIu64 "d", s / 86400);
	else if (s >= 3600)
		snprintf(out, n, "%" PRIu64 "h%s%.0" PRIu64 "%s", s / 3600, s % 3600 ? "" : "",
			 (s % 3600) / 60, s % 3600 >= 60 ? "m" : "");
	else if (s >= 60)
		snprintf(out, n, "%" PRIu64 "m", s / 60);
	else
		snprintf(out, n, "%" PRIu64 "s", s);
}

static int by_field_desc;
static const char *sort_field;

static int cmp_field(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, sort_field));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, sort_field));
	if (x != y)
		return x < y ? 1 : -1;
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "key")) ?: "",
		      json_string_value(json_object_get(*(json_t *const *)b, "key")) ?: "");
}

json_t *tv_json_sorted_values(json_t *obj, const char *field)
{
	size_t n = json_object_size(obj), i = 0;
	json_t **v = calloc(n ? n : 1, sizeof(*v));
	const char *k;
	json_t *e;
	json_object_foreach (obj, k, e)
		if (v)
			v[i++] = e;
	json_t *arr = json_array();
	if (!v)
		return arr;
	sort_field = field;
	by_field_desc = 1;
	qsort(v, n, sizeof(*v), cmp_field);
	for (i = 0; i < n; i++)
		json_array_append(arr, v[i]);
	free(v);
	return arr;
}

/* ---- cursors: base64url of {"q": hash of the query, "o": offset, "f", "t"} ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void query_hash(json_t *args, char out[17])
{
	json_t *q = json_deep_copy(args);
	json_object_del(q, "cursor");
	json_object_del(q, "limit");
	char *text = json_dumps(q, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(q);
	uint8_t sha[TV_SHA256_LEN];
	tv_sha256(text ? text : "", text ? strlen(text) : 0, sha);
	free(text);
	tv_hex(sha, 8, out);
}

json_t *tv_cursor_make(json_t *args, const struct tv_tool_window *w, uint64_t offset)
{
	char q[17];
	query_hash(args, q);
	char *text = NULL;
	if (asprintf(&text, "{\"q\":\"%s\",\"o\":%" PRIu64 ",\"f\":%" PRIu64 ",\"t\":%" PRIu64 "}", q, offset,
		     w->from, w->to) < 0)
		return json_null();
	size_t n = strlen(text);
	char *out = malloc(n * 4 / 3 + 4);
	size_t o = 0;
	for (size_t i = 0; out && i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)text[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)text[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)text[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = b64[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = b64[v & 63];
	}
	free(text);
	if (!out)
		return json_null();
	out[o] = '\0';
	json_t *j = json_string(out);
	free(out);
	return j;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

int tv_cursor_apply(json_t *args, struct tv_tool_window *w, uint64_t *offset)
{
	*offset = 0;
	const char *cur = json_string_value(json_object_get(args, "cursor"));
	if (!cur)
		return 0;
	char text[512];
	size_t n = strlen(cur), o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(cur[i]);
		if (v < 0 || o + 1 >= sizeof(text))
			return tv_err(-EINVAL,
				      "cursor: not a cursor of this server (pass next_cursor as given)");
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			text[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	text[o] = '\0';
	json_t *j = json_loads(text, 0, NULL);
	char q[17];
	query_hash(args, q);
	const char *jq = json_string_value(json_object_get(j, "q"));
	int rc = 0;
	if (!jq || !json_is_integer(json_object_get(j, "o")))
		rc = tv_err(-EINVAL, "cursor: not a cursor of this server (pass next_cursor as given)");
	else if (strcmp(jq, q))
		rc = tv_err(-EINVAL,
			    "cursor: it belongs to another query (its other arguments differ); start "
			    "again without a cursor");
	else {
		*offset = (uint64_t)json_integer_value(json_object_get(j, "o"));
		w->from = (uint64_t)json_integer_value(json_object_get(j, "f"));
		w->to = (uint64_t)json_integer_value(json_object_get(j, "t"));
	}
	json_decref(j);
	return rc;
}

/* ---- the dissection cache ---- */

static int cache_dir(struct tv_tool_ctx *c, char *out, size_t n)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	if (c->o->cache_dir)
		snprintf(out, n, "%s", c->o->cache_dir);
	else if (xdg && xdg[0] == '/')
		snprintf(out, n, "%s/tapvault", xdg);
	else if (home && home[0] == '/')
		snprintf(out, n, "%s/.cache/tapvault", home);
	else
		snprintf(out, n, "/tmp/tapvault-cache-%u", (unsigned)getuid());
	char probe[4200];
	snprintf(probe, sizeof(probe), "%s/x", out);
	int rc = tv_mkdir_parent(probe);
	return rc ? tv_err(rc, "cache directory %s: %s", out, strerror(-rc)) : 0;
}

/* the file of a window's entries: one per (store, prefix, window, nodes) */
static int cache_path(struct tv_tool_ctx *c, const struct tv_tool_window *w, char *out, size_t n)
{
	char dir[4096];
	int rc = cache_dir(c, dir, sizeof(dir));
	if (rc)
		return rc;
	struct tv_sha256 h;
	tv_sha256_init(&h);
	char head[128];
	snprintf(head, sizeof(head), "entries v1 %s\n%" PRIu64 " %" PRIu64 "\n", TV_VERSION, w->from, w->to);
	tv_sha256_update(&h, head, strlen(head));
	tv_sha256_update(&h, c->o->store_url, strlen(c->o->store_url) + 1);
	tv_sha256_update(&h, c->o->prefix, strlen(c->o->prefix) + 1);
	for (size_t i = 0; i < w->nnodes; i++)
		tv_sha256_update(&h, w->nodes[i], strlen(w->nodes[i]) + 1);
	uint8_t sha[TV_SHA256_LEN];
	tv_sha256_final(&h, sha);
	tv_sha256_cleanup(&h);
	char hex[2 * TV_SHA256_LEN + 1];
	tv_hex(sha, TV_SHA256_LEN, hex);
	snprintf(out, n, "%s/%s.jsonl", dir, hex);
	return 0;
}

static void progress_of(struct tv_tool_ctx *c, struct tv_window *win, const char *what)
{
	uint64_t done, total;
	tv_window_progress(win, &done, &total);
	char msg[128];
	snprintf(msg, sizeof(msg), "%s: %" PRIu64 " of %" PRIu64 " segment streams", what, done, total);
	tv_tool_progress(c, done, total, msg);
}

/* Dissects the window into path (sorted by startTime, id), atomically. */
static int dissect_window(struct tv_tool_ctx *c, const struct tv_tool_window *w, const char *path,
			  uint64_t *entries)
{
	char raw[4200], sorted[4200];
	snprintf(raw, sizeof(raw), "%s.raw.%d", path, (int)getpid());
	snprintf(sorted, sizeof(sorted), "%s.sorted.%d", path, (int)getpid());
	FILE *f = fopen(raw, "w");
	if (!f)
		return tv_err(-errno, "%s: %s", raw, strerror(errno));
	struct tv_names *names = NULL;
	struct tv_dissect *d = NULL;
	struct tv_window *win = NULL;
	int rc = tv_names_new(&names) ? -ENOMEM : 0;
	struct tv_dissect_opts o = {.out = f, .names = names};
	if (!rc && tv_dissect_open(&d, &o))
		rc = tv_err(-ENOMEM, "out of memory");
	if (!rc)
		rc = tv_tool_window_open(c, w, &win);
	if (!rc)
		tv_window_load_names(win, names);
	uint32_t nif = 0;
	const struct tv_window_iface *ifs = rc ? NULL : tv_window_ifaces(win, &nif);
	struct tv_packet p;
	int r;
	uint64_t seen = 0;
	while (!rc && (r = tv_window_next(win, &p)) != 0) {
		if ((++seen & 1023) == 0 && tv_tool_cancelled(c))
			rc = tv_err(-ECANCELED, "cancelled");
		if ((seen & 16383) == 0)
			progress_of(c, win, "dissecting");
		if (r > 0 && !rc)
			tv_dissect_packet(d, ifs[p.ifindex].node, ifs[p.ifindex].iface.linktype, p.ts_ns,
					  p.data, p.caplen);
	}
	if (d) {
		tv_dissect_finish(d);
		struct tv_dissect_stats st;
		tv_dissect_stats(d, &st);
		if (!rc && st.write_failed)
			rc = tv_err(-EIO, "%s: cannot write the entries", raw);
		tv_dissect_free(d);
	}
	tv_window_free(win);
	tv_names_free(names);
	if (fclose(f) && !rc)
		rc = tv_err(-EIO, "%s: %s", raw, strerror(errno));
	FILE *out = rc ? NULL : fopen(sorted, "w");
	if (!rc && !out)
		rc = tv_err(-errno, "%s: %s", sorted, strerror(errno));
	if (!rc)
		rc = tv_dissection_sort_to(raw, out, entries);
	if (out && fclose(out) && !rc)
		rc = tv_err(-EIO, "%s: %s", sorted, strerror(errno));
	if (!rc && rename(sorted, path))
		rc = tv_err(-errno, "%s: %s", path, strerror(errno));
	unlink(raw);
	unlink(sorted);
	return rc;
}

/* The window's entries file, dissected now if not cached. */
static int entries_file(struct tv_tool_ctx *c, const struct tv_tool_window *w, char *path, size_t n,
			bool *cached)
{
	int rc = cache_path(c, w, path, n);
	if (rc)
		return rc;
	struct stat st;
	/* a window reaching into the last minute may still grow: not reused */
	bool settled = w->to + 60ull * 1000000000ull < tv_now_ns();
	*cached = settled && stat(path, &st) == 0;
	if (*cached)
		return 0;
	uint64_t entries;
	return dissect_window(c, w, path, &entries);
}

/* ---- filters and rows ---- */

static bool end_has(json_t *end, const char *want)
{
	const char *f[] = {"ip", "name", "namespace", "service"};
	for (size_t i = 0; i < 4; i++) {
		const char *v = json_string_value(json_object_get(end, f[i]));
		if (v && !strcmp(v, want))
			return true;
	}
	const char *wl = json_string_value(json_object_get(json_object_get(end, "workload"), "name"));
	return wl && !strcmp(wl, want);
}

static const char *entry_method(json_t *e)
{
	json_t *req = json_object_get(e, "request");
	return json_string_value(json_object_get(req, "method"))
		       ?: json_string_value(json_object_get(req, "command"));
}

static const char *entry_path(json_t *e)
{
	json_t *req = json_object_get(e, "request");
	const char *p = json_string_value(json_object_get(req, "path"));
	if (p)
		return p;
	return json_string_value(
		json_object_get(json_array_get(json_object_get(req, "questions"), 0), "name"));
}

static bool entry_passes(json_t *e, json_t *args)
{
	const char *proto = json_string_value(json_object_get(args, "protocol"));
	const char *name = json_string_value(json_object_get(json_object_get(e, "protocol"), "name"));
	if (proto && (!name || strcmp(proto, name)))
		return false;
	const char *method = json_string_value(json_object_get(args, "method"));
	const char *m = entry_method(e);
	if (method && (!m || strcasecmp(method, m)))
		return false;
	const char *path = json_string_value(json_object_get(args, "path"));
	const char *p = entry_path(e);
	if (path && (!p || !strstr(p, path)))
		return false;
	json_t *status = json_object_get(args, "status");
	if (status && json_integer_value(json_object_get(json_object_get(e, "response"), "status")) !=
			      json_integer_value(status))
		return false;
	const char *host = json_string_value(json_object_get(args, "host"));
	const char *url = json_string_value(json_object_get(json_object_get(e, "request"), "url"));
	if (host && (!url || !strstr(url, host)))
		return false;
	const char *src = json_string_value(json_object_get(args, "src"));
	if (src && !end_has(json_object_get(e, "src"), src))
		return false;
	const char *dst = json_string_value(json_object_get(args, "dst"));
	if (dst && !end_has(json_object_get(e, "dst"), dst))
		return false;
	json_t *failed = json_object_get(args, "failed");
	return !failed || json_is_true(failed) == json_is_true(json_object_get(e, "failed"));
}

static json_t *end_text(json_t *end)
{
	const char *name = json_string_value(json_object_get(end, "name"));
	const char *ns = json_string_value(json_object_get(end, "namespace"));
	char buf[600];
	if (name)
		snprintf(buf, sizeof(buf), "%s/%s", ns ? ns : "-", name);
	else
		snprintf(buf, sizeof(buf), "%s:%" JSON_INTEGER_FORMAT,
			 json_string_value(json_object_get(end, "ip")) ?: "?",
			 json_integer_value(json_object_get(end, "port")));
	return json_string(buf);
}

static json_t *compact(json_t *e)
{
	json_t *proto = json_object_get(e, "protocol");
	char pv[64];
	snprintf(pv, sizeof(pv), "%s/%s", json_string_value(json_object_get(proto, "name")) ?: "?",
		 json_string_value(json_object_get(proto, "version")) ?: "");
	const char *m = entry_method(e), *p = entry_path(e);
	json_t *resp = json_object_get(e, "response");
	json_t *status = json_object_get(resp, "status");
	if (!status)
		status = json_object_get(resp, "rcode");
	return json_pack("{s:O,s:O,s:O,s:s,s:o,s:o,s:O,s:o,s:o,s:O,s:O,s:O,s:O,s:O}", "id",
			 json_object_get(e, "id"), "startTime", json_object_get(e, "startTime"), "node",
			 json_object_get(e, "node"), "protocol", pv, "method",
			 m ? json_string(m) : json_null(), "path", p ? json_string(p) : json_null(), "status",
			 status ? status : json_null(), "src", end_text(json_object_get(e, "src")), "dst",
			 end_text(json_object_get(e, "dst")), "elapsedTime",
			 json_object_get(e, "elapsedTime") ?: json_null(), "failed",
			 json_object_get(e, "failed") ?: json_false(), "error",
			 json_object_get(e, "error") ?: json_null(), "requestSize",
			 json_object_get(e, "requestSize") ?: json_null(), "responseSize",
			 json_object_get(e, "responseSize") ?: json_null());
}

/* Calls fn for every entry of the file passing args' filters. */
static int each_entry(const char *path, json_t *args, int (*fn)(void *ctx, json_t *e), void *ctx)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return tv_err(-errno, "%s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	while (!rc && (n = getline(&line, &cap, f)) > 0) {
		json_t *e = json_loadb(line, (size_t)n, 0, NULL);
		if (e && entry_passes(e, args))
			rc = fn(ctx, e);
		json_decref(e);
	}
	free(line);
	fclose(f);
	return rc > 0 ? 0 : rc;
}

struct page {
	uint64_t offset, limit, total;
	bool full;
	json_t *rows;
};

static int page_add(void *ctx, json_t *e)
{
	struct page *p = ctx;
	if (p->total >= p->offset && p->total < p->offset + p->limit)
		json_array_append_new(p->rows, p->full ? json_incref(e) : compact(e));
	p->total++;
	return 0;
}

int tv_tool_run_api_calls(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary)
{
	struct tv_tool_window w;
	int rc = tv_tool_window(c, args, c->o->max_window_ns, &w);
	if (rc)
		return rc;
	struct page p = {.limit = json_object_get(args, "limit")
					  ? (uint64_t)json_integer_value(json_object_get(args, "limit"))
					  : 50,
			 .rows = json_array()};
	const char *detail = json_string_value(json_object_get(args, "detail"));
	p.full = detail && !strcmp(detail, "full");
	char path[4400];
	bool cached = false;
	json_t *cov = NULL;
	if (!(rc = tv_cursor_apply(args, &w, &p.offset)) &&
	    !(rc = entries_file(c, &w, path, sizeof(path), &cached)) &&
	    !(rc = each_entry(path, args, page_add, &p)))
		rc = tv_tool_coverage(c, &w, &cov);
	if (!rc) {
		size_t got = json_array_size(p.rows);
		*result = json_pack("{s:o,s:I,s:I,s:b,s:o}", "calls", p.rows, "total", (json_int_t)p.total,
				    "offset", (json_int_t)p.offset, "cached", cached, "coverage", cov);
		json_object_set_new(*result, "next_cursor",
				    p.offset + p.limit < p.total
					    ? tv_cursor_make(args, &w, p.offset + p.limit)
					    : json_null());
		tv_tool_set_link(c, *result, "entries", &w, NULL);
		char *cs = tv_tool_summary_coverage(cov);
		if (asprintf(summary, "%zu API call(s) of %" PRIu64 " matching%s. %s", got, p.total,
			     p.offset + p.limit < p.total ? "; more with next_cursor" : "", cs ? cs : "") < 0)
			*summary = NULL;
		free(cs);
	} else {
		json_decref(p.rows);
	}
	tv_tool_window_cleanup(&w);
	return rc;
}

struct find {
	const char *id;
	json_t *found;
};

static int find_id(void *ctx, json_t *e)
{
	struct find *f = ctx;
	if (strcmp(json_string_value(json_object_get(e, "id")) ?: "", f->id))
		return 0;
	f->found = json_incref(e);
	return 1;
}

/* strings under body fields cut at cap bytes */
static void cap_bodies(json_t *v, size_t cap, bool in_body)
{
	const char *k;
	json_t *e;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach (v, k, e) {
			bool body = in_body || !strcmp(k, "postData") || !strcmp(k, "content") ||
				    !strcmp(k, "messages") || !strcmp(k, "value") || !strcmp(k, "args");
			if (json_is_string(e) && body &&
			    (!strcmp(k, "text") || !strcmp(k, "base64") || in_body) &&
			    json_string_length(e) > cap) {
				json_t *cut = json_stringn_nocheck(json_string_value(e), cap);
				json_object_set_new(v, k, cut);
				json_object_set_new(v, "_capped", json_true());
			} else {
				cap_bodies(e, cap, body);
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach (v, i, e)
			if (json_is_string(e) && in_body && json_string_length(e) > cap)
				json_array_set_new(v, i, json_stringn_nocheck(json_string_value(e), cap));
			else
				cap_bodies(e, cap, in_body);
	}
}

int tv_tool_run_api_call(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary)
{
	struct tv_tool_window w;
	int rc = tv_tool_window(c, args, c->o->max_window_ns, &w);
	if (rc)
		return rc;
	json_t *filters = json_object(); /* none: the id picks */
	struct find f = {json_string_value(json_object_get(args, "id")), NULL};
	char path[4400];
	bool cached;
	json_t *cov = NULL;
	if (!(rc = entries_file(c, &w, path, sizeof(path), &cached)) &&
	    !(rc = each_entry(path, filters, find_id, &f)) && !f.found)
		rc = tv_err(
			-ENOENT,
			"no API call with id %s in the window (ids come from list_api_calls over the same "
			"window)",
			f.id);
	json_decref(filters);
	if (!rc)
		rc = tv_tool_coverage(c, &w, &cov);
	if (!rc) {
		size_t cap = json_object_get(args, "body_cap")
				     ? (size_t)json_integer_value(json_object_get(args, "body_cap"))
				     : 4096;
		cap_bodies(f.found, cap, false);
		json_t *row = compact(f.found);
		if (asprintf(summary, "%s %s %s -> %s", json_string_value(json_object_get(row, "protocol")),
			     json_string_value(json_object_get(row, "method")) ?: "",
			     json_string_value(json_object_get(row, "path")) ?: "",
			     json_is_integer(json_object_get(row, "status")) ? "answered" : "see response") <
		    0)
			*summary = NULL;
		json_decref(row);
		*result = json_pack("{s:o,s:o}", "call", f.found, "coverage", cov);
		char extra[64];
		snprintf(extra, sizeof(extra), "id=%s", f.id);
		tv_tool_set_link(c, *result, "entries", &w, extra);
	} else {
		json_decref(f.found);
	}
	tv_tool_window_cleanup(&w);
	return rc;
}

/* ---- export ---- */

static int file_name_check(const char *name, enum tv_pcap_format *fmt)
{
	size_t n = strlen(name);
	bool ok = n > 0 && name[0] != '.';
	for (size_t i = 0; ok && i < n; i++)
		ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		     (name[i] >= '0' && name[i] <= '9') || name[i] == '.' || name[i] == '_' || name[i] == '-';
	if (!ok)
		return tv_err(-EINVAL,
			      "file: '%.200s' must be a plain file name (A-Z a-z 0-9 . _ -, no directories, "
			      "not starting with '.')",
			      name);
	if (n > 7 && !strcmp(name + n - 7, ".pcapng"))
		*fmt = TV_FORMAT_PCAPNG;
	else if (n > 5 && !strcmp(name + n - 5, ".pcap"))
		*fmt = TV_FORMAT_PCAP;
	else
		return tv_err(-EINVAL, "file: '%s' must end in .pcapng or .pcap", name);
	return 0;
}

static void export_progress(void *ctx, uint64_t done, uint64_t total, uint64_t bytes)
{
	char msg[128];
	snprintf(msg, sizeof(msg),
		 "exporting: %" PRIu64 " of %" PRIu64 " segment streams, %" PRIu64 " bytes read", done, total,
		 bytes);
	tv_tool_progress(ctx, done, total, msg);
}

/* a BPF filter for one conversation, either direction */
static int flow_filter(const char *flow, char *out, size_t n)
{
	struct tv_flow_key k;
	if (tv_flow_key_from_string(flow, &k))
		return tv_err(-EINVAL,
			      "flow: '%.160s' is not 'tcp|udp SRC:PORT > DST:PORT' (as list_flows gives it)",
			      flow);
	char a[64], b[64];
	tv_flow_addr_format(&k, 0, a, sizeof(a));
	tv_flow_addr_format(&k, 1, b, sizeof(b));
	snprintf(out, n,
		 "%s and ((src host %s and src port %u and dst host %s and dst port %u) or (src host %s and "
		 "src port %u and dst host %s and dst port %u))",
		 k.proto == 6 ? "tcp" : "udp", a, k.sport, b, k.dport, b, k.dport, a, k.sport);
	return 0;
}

int tv_tool_run_export(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary)
{
	const char *file = json_string_value(json_object_get(args, "file"));
	const char *flow = json_string_value(json_object_get(args, "flow"));
	const char *filter = json_string_value(json_object_get(args, "filter"));
	enum tv_pcap_format fmt = TV_FORMAT_PCAPNG;
	char bpf[1400], path[4400];
	int rc = file_name_check(file, &fmt);
	if (!rc && flow && filter)
		rc = tv_err(-EINVAL, "give flow or filter, not both");
	if (!rc && flow)
		rc = flow_filter(flow, bpf, sizeof(bpf));
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/%s", c->o->export_dir, file);
	if (access(path, F_OK) == 0)
		return tv_err(-EEXIST, "file: %s exists in the export directory; choose another name", file);
	struct tv_tool_window w;
	if ((rc = tv_tool_window(c, args, c->o->max_window_ns, &w)))
		return rc;
	struct tv_window *win = NULL;
	struct tv_report rep = {.progress = export_progress, .ctx = c};
	struct tv_export_opts eo = {.output = path,
				    .format = fmt,
				    .filter = flow ? bpf : filter,
				    .report = &rep,
				    .cancel = c->call ? &c->call->cancelled : NULL};
	struct tv_window_stats ws;
	uint64_t written = 0;
	json_t *cov = NULL;
	if (!(rc = tv_tool_window_open(c, &w, &win)) && !(rc = tv_export_window(win, &eo, &ws, &written)))
		rc = tv_tool_coverage_full(c, &w, win, &cov);
	if (!rc) {
		struct stat st;
		uint64_t bytes = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
		*result = json_pack("{s:s,s:I,s:I,s:I,s:o}", "path", path, "packets", (json_int_t)written,
				    "bytes", (json_int_t)bytes, "duplicates", (json_int_t)ws.duplicates,
				    "coverage", cov);
		tv_tool_set_link(c, *result, "coverage", &w, NULL);
		char *cs = tv_tool_summary_coverage(cov);
		if (asprintf(summary, "wrote %" PRIu64 " packets (%" PRIu64 " bytes) to %s. %s", written,
			     bytes, path, cs ? cs : "") < 0)
			*summary = NULL;
		free(cs);
	}
	tv_window_free(win);
	tv_tool_window_cleanup(&w);
	return rc;
}
