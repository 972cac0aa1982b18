/* SPDX-License-Identifier: Apache-2.0 */
/* mcp_tools: the tool table, argument checking and the tools that read the
 * indexes only (coverage, nodes, names, flows, talkers, verify, snapshots).
 * The ones that read packets (API calls, export) are in mcp_entries.c. */
#include "dissector/web/mcp_tools.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/timeutil.h"
#include "archive/events.h"
#include "archive/keys.h"
#include "archive/names.h"
#include "dissector/query/catalog.h"
#include "dissector/query/coverage.h"
#include "dissector/query/flows.h"
#include "dissector/query/snapshot.h"
#include "dissector/query/snapshot_list.h"
#include "dissector/query/verify.h"
#include "dissector/web/mcp_util.h"

/* ---- argument checking (the subset of JSON Schema our schemas use) ---- */

static bool type_ok(const char *type, json_t *v)
{
	if (!strcmp(type, "object"))
		return json_is_object(v);
	if (!strcmp(type, "array"))
		return json_is_array(v);
	if (!strcmp(type, "string"))
		return json_is_string(v);
	if (!strcmp(type, "integer"))
		return json_is_integer(v);
	if (!strcmp(type, "number"))
		return json_is_number(v);
	if (!strcmp(type, "boolean"))
		return json_is_boolean(v);
	return json_is_null(v) && !strcmp(type, "null");
}

int tv_schema_check(json_t *schema, json_t *v, const char *path)
{
	const char *type = json_string_value(json_object_get(schema, "type"));
	if (type && !type_ok(type, v))
		return tv_err(-EINVAL, "%s must be of type %s", path, type);
	json_t *en = json_object_get(schema, "enum");
	if (en) {
		size_t i;
		json_t *e;
		bool found = false;
		json_array_foreach (en, i, e)
			found |= json_equal(e, v);
		if (!found) {
			char *list = json_dumps(en, JSON_COMPACT);
			int rc = tv_err(-EINVAL, "%s must be one of %s", path, list ? list : "the enum");
			free(list);
			return rc;
		}
	}
	json_t *min = json_object_get(schema, "minimum"), *max = json_object_get(schema, "maximum");
	if (json_is_integer(v) && min && json_integer_value(v) < json_integer_value(min))
		return tv_err(-EINVAL, "%s must be at least %" JSON_INTEGER_FORMAT, path,
			      json_integer_value(min));
	if (json_is_integer(v) && max && json_integer_value(v) > json_integer_value(max))
		return tv_err(-EINVAL, "%s must be at most %" JSON_INTEGER_FORMAT, path,
			      json_integer_value(max));
	json_t *ml = json_object_get(schema, "maxLength");
	if (json_is_string(v) && ml && json_string_length(v) > (size_t)json_integer_value(ml))
		return tv_err(-EINVAL, "%s is longer than %" JSON_INTEGER_FORMAT " characters", path,
			      json_integer_value(ml));
	json_t *mi = json_object_get(schema, "maxItems");
	if (json_is_array(v) && mi && json_array_size(v) > (size_t)json_integer_value(mi))
		return tv_err(-EINVAL, "%s has more than %" JSON_INTEGER_FORMAT " items", path,
			      json_integer_value(mi));
	char sub[256];
	if (json_is_array(v) && json_object_get(schema, "items")) {
		size_t i;
		json_t *e;
		json_array_foreach (v, i, e) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			int rc = tv_schema_check(json_object_get(schema, "items"), e, sub);
			if (rc)
				return rc;
		}
	}
	if (!json_is_object(v))
		return 0;
	json_t *props = json_object_get(schema, "properties");
	size_t i;
	json_t *req;
	json_array_foreach (json_object_get(schema, "required"), i, req)
		if (!json_object_get(v, json_string_value(req)))
			return tv_err(-EINVAL, "%s.%s is required", path, json_string_value(req));
	const char *k;
	json_t *e;
	json_object_foreach (v, k, e) {
		json_t *ps = json_object_get(props, k);
		snprintf(sub, sizeof(sub), "%s.%.100s", path, k);
		if (!ps && json_is_false(json_object_get(schema, "additionalProperties"))) {
			char *names = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&names, &len);
			const char *pk;
			json_t *pv;
			json_object_foreach (props, pk, pv)
				fprintf(f, "%s%s", ftell(f) ? ", " : "", pk);
			fclose(f);
			int rc = tv_err(-EINVAL, "unknown argument %s (this tool takes: %s)", sub,
					names ? names : "");
			free(names);
			return rc;
		}
		int rc = ps ? tv_schema_check(ps, e, sub) : 0;
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- calls' plumbing ---- */

void tv_tool_progress(struct tv_tool_ctx *c, uint64_t done, uint64_t total, const char *message)
{
	if (!c->progress_token || !c->call || !c->call->notify)
		return;
	json_t *p = json_pack("{s:O,s:I,s:s}", "progressToken", c->progress_token, "progress",
			      (json_int_t)done, "message", message ? message : "");
	if (total)
		json_object_set_new(p, "total", json_integer((json_int_t)total));
	c->call->notify(c->call->arg, json_pack("{s:s,s:s,s:o}", "jsonrpc", "2.0", "method",
						"notifications/progress", "params", p));
}

bool tv_tool_cancelled(const struct tv_tool_ctx *c)
{
	return c->call && atomic_load(&c->call->cancelled);
}

/* ---- windows and their coverage ---- */

int tv_tool_window(struct tv_tool_ctx *c, json_t *args, uint64_t cap_ns, struct tv_tool_window *w)
{
	memset(w, 0, sizeof(*w));
	uint64_t now = tv_now_ns();
	const char *from = json_string_value(json_object_get(args, "from"));
	const char *to = json_string_value(json_object_get(args, "to"));
	w->to = now;
	if (to && tv_parse_time(to, now, &w->to))
		return tv_err(-EINVAL, "to: %s", tv_errmsg());
	w->from = w->to > 900ull * 1000000000ull ? w->to - 900ull * 1000000000ull : 0;
	if (from && tv_parse_time(from, now, &w->from))
		return tv_err(-EINVAL, "from: %s", tv_errmsg());
	if (w->from >= w->to)
		return tv_err(-EINVAL, "from must be before to");
	if (w->to - w->from > cap_ns) {
		char a[32], b[32];
		tv_format_duration(w->to - w->from, a, sizeof(a));
		tv_format_duration(cap_ns, b, sizeof(b));
		return tv_err(
			-EINVAL,
			"the window is %s wide, over this server's cap of %s (--max-window): narrow from/to",
			a, b);
	}
	json_t *nodes = json_object_get(args, "nodes");
	w->nnodes = json_array_size(nodes);
	if (w->nnodes) {
		w->nodes = calloc(w->nnodes, sizeof(*w->nodes));
		if (!w->nodes)
			return tv_err(-ENOMEM, "out of memory");
		for (size_t i = 0; i < w->nnodes; i++)
			w->nodes[i] = json_string_value(json_array_get(nodes, i));
	}
	(void)c;
	return 0;
}

void tv_tool_window_cleanup(struct tv_tool_window *w)
{
	free(w->nodes);
	w->nodes = NULL;
}

json_t *tv_json_time(uint64_t ns)
{
	char t[TV_RFC3339_LEN];
	tv_format_rfc3339(ns, t);
	return json_string(t);
}

static uint64_t parse_rfc3339(json_t *v)
{
	uint64_t ns = 0;
	if (json_is_string(v))
		tv_parse_time(json_string_value(v), 0, &ns);
	return ns;
}

struct node_list {
	json_t *names;
};

static int add_node(void *ctx, const char *node)
{
	json_array_append_new(((struct node_list *)ctx)->names, json_string(node));
	return 0;
}

/* One node's row: covered time and holes within [from, to). */
static json_t *node_coverage(json_t *n, uint64_t from, uint64_t to, json_t *not_captured, bool *complete)
{
	const char *node = json_string_value(json_object_get(n, "node"));
	json_t *gaps = json_array();
	uint64_t at = from, covered = 0;
	size_t i;
	json_t *r;
	json_array_foreach (json_object_get(n, "ranges"), i, r) {
		uint64_t a = parse_rfc3339(json_object_get(r, "from")),
			 b = parse_rfc3339(json_object_get(r, "to"));
		a = a < from ? from : a;
		b = b > to ? to : b;
		if (b <= a)
			continue;
		if (a > at)
			json_array_append_new(gaps, json_pack("{s:o,s:o}", "from", tv_json_time(at), "to",
							      tv_json_time(a)));
		covered += b - (a > at ? a : at) > 0 && b > at ? b - (a > at ? a : at) : 0;
		at = b > at ? b : at;
	}
	if (at < to)
		json_array_append_new(
			gaps, json_pack("{s:o,s:o}", "from", tv_json_time(at), "to", tv_json_time(to)));
	json_array_foreach (gaps, i, r) {
		char line[256];
		snprintf(line, sizeof(line), "node %s: nothing captured from %s to %s", node,
			 json_string_value(json_object_get(r, "from")),
			 json_string_value(json_object_get(r, "to")));
		json_array_append_new(not_captured, json_string(line));
	}
	*complete &= json_array_size(gaps) == 0 && json_array_size(json_object_get(n, "damaged")) == 0;
	return json_pack("{s:s,s:I,s:I,s:I,s:f,s:o,s:O}", "node", node, "segments",
			 json_integer_value(json_object_get(n, "segments")), "packets",
			 json_integer_value(json_object_get(n, "packets")), "bytes",
			 json_integer_value(json_object_get(n, "bytes")), "covered_fraction",
			 (double)covered / (double)(to - from), "gaps", gaps, "damaged",
			 json_object_get(n, "damaged"));
}

int tv_tool_coverage(struct tv_tool_ctx *c, const struct tv_tool_window *w, json_t **out)
{
	struct tv_coverage_opts co = {
		.prefix = c->o->prefix, .from = w->from, .to = w->to, .nodes = w->nodes, .nnodes = w->nnodes};
	json_t *cov;
	int rc = tv_coverage(c->s, &co, &cov);
	if (rc)
		return rc;
	/* the nodes asked for (all the store has by default), those without a
	 * segment in the window included: they captured nothing of it */
	struct node_list nl = {json_array()};
	if (w->nnodes)
		for (size_t i = 0; i < w->nnodes; i++)
			json_array_append_new(nl.names, json_string(w->nodes[i]));
	else if ((rc = tv_catalog_nodes(c->s, c->o->prefix, add_node, &nl)) != 0) {
		json_decref(cov);
		json_decref(nl.names);
		return rc;
	}
	json_t *rows = json_array(), *not_captured = json_array();
	bool complete = true;
	size_t i, j;
	json_t *name, *n;
	json_array_foreach (nl.names, i, name) {
		json_t *found = NULL;
		json_array_foreach (json_object_get(cov, "nodes"), j, n)
			if (json_equal(json_object_get(n, "node"), name))
				found = n;
		json_t *empty = found ? NULL
				      : json_pack("{s:O,s:i,s:i,s:i,s:[],s:[]}", "node", name, "segments", 0,
						  "packets", 0, "bytes", 0, "ranges", "damaged");
		json_array_append_new(
			rows, node_coverage(found ? found : empty, w->from, w->to, not_captured, &complete));
		json_decref(empty);
	}
	if (!json_array_size(nl.names))
		json_array_append_new(not_captured, json_string("the store holds no node's segments"));
	json_decref(nl.names);
	json_decref(cov);
	*out = json_pack("{s:o,s:o,s:b,s:o,s:o}", "from", tv_json_time(w->from), "to", tv_json_time(w->to),
			 "complete", complete && json_array_size(rows) > 0, "nodes", rows, "not_captured",
			 not_captured);
	return 0;
}

static char *tool_link(struct tv_tool_ctx *c, const char *page, const struct tv_tool_window *w,
		       const char *extra)
{
	char from[TV_RFC3339_LEN], to[TV_RFC3339_LEN], *out = NULL;
	tv_format_rfc3339(w ? w->from : 0, from);
	tv_format_rfc3339(w ? w->to : 0, to);
	const char *base = c->o->dashboard_url ? c->o->dashboard_url : "";
	int rc = w ? asprintf(&out, "%s/#/%s?from=%s&to=%s%s%s", base, page, from, to, extra ? "&" : "",
			      extra ? extra : "")
		   : asprintf(&out, "%s/#/%s", base, page);
	return rc < 0 ? NULL : out;
}

void tv_tool_set_link(struct tv_tool_ctx *c, json_t *result, const char *page, const struct tv_tool_window *w,
		      const char *extra)
{
	char *l = tool_link(c, page, w, extra);
	json_object_set_new(result, "dashboard", json_string(l ? l : ""));
	free(l);
}

/* ---- the window's packets' interfaces: drops and capture filters ---- */

int tv_tool_window_open(struct tv_tool_ctx *c, const struct tv_tool_window *w, struct tv_window **out)
{
	struct tv_window_opts wo = {.prefix = c->o->prefix,
				    .nodes = w->nodes,
				    .nnodes = w->nnodes,
				    .from = w->from,
				    .to = w->to,
				    .dedup_window_ns = 1000000};
	return tv_window_open(out, c->s, &wo);
}

/* drops per node from the indexes' interface counters */
static void add_drops(struct tv_window *win, json_t *cov)
{
	size_t i;
	json_t *n;
	json_array_foreach (json_object_get(cov, "nodes"), i, n) {
		uint64_t kernel = 0, iface = 0;
		const char *node = json_string_value(json_object_get(n, "node"));
		for (uint32_t s = 0; s < tv_window_segments(win); s++) {
			const struct tv_index *idx;
			tv_window_segment(win, s, &idx);
			if (strcmp(idx->node, node))
				continue;
			for (uint32_t f = 0; f < idx->niface; f++) {
				kernel += idx->ifaces[f].drops_kernel;
				iface += idx->ifaces[f].drops_iface;
			}
		}
		json_object_set_new(
			n, "drops",
			json_pack("{s:I,s:I}", "kernel", (json_int_t)kernel, "interface", (json_int_t)iface));
		if (kernel + iface) {
			char line[256];
			snprintf(line, sizeof(line),
				 "node %s: %" PRIu64 " packets dropped by the kernel, %" PRIu64
				 " by the interface",
				 node, kernel, iface);
			json_array_append_new(json_object_get(cov, "not_captured"), json_string(line));
			json_object_set_new(cov, "complete", json_false());
		}
	}
}

int tv_tool_coverage_full(struct tv_tool_ctx *c, const struct tv_tool_window *w, struct tv_window *win,
			  json_t **out)
{
	int rc = tv_tool_coverage(c, w, out);
	if (!rc && win)
		add_drops(win, *out);
	return rc;
}

/* the capture records of each node's first and last segment in the window */
static json_t *capture_filters(struct tv_tool_ctx *c, struct tv_window *win)
{
	json_t *by_node = json_object();
	struct tv_buf b;
	tv_buf_init(&b, 64 << 20);
	uint32_t n = tv_window_segments(win);
	for (uint32_t s = 0; s < n; s++) {
		const struct tv_index *idx, *prev = NULL, *next = NULL;
		const char *key = tv_window_segment(win, s, &idx);
		if (s)
			tv_window_segment(win, s - 1, &prev);
		if (s + 1 < n)
			tv_window_segment(win, s + 1, &next);
		bool first = !prev || strcmp(prev->node, idx->node),
		     last = !next || strcmp(next->node, idx->node);
		char ekey[TV_KEY_MAX + 32];
		if (!(first || last) || !idx->events_size ||
		    tv_key_sibling(key, TV_KEY_SUFFIX_EVENTS, ekey, sizeof(ekey)))
			continue;
		json_t *list = json_object_get(by_node, idx->node);
		if (!list)
			json_object_set_new(by_node, idx->node, list = json_array());
		tv_buf_reset(&b);
		struct tv_events_reader *r;
		if (tv_store_get(c->s, ekey, &b) || tv_events_reader_open(&r, b.data, b.len, ekey))
			continue;
		json_t *rec;
		while (tv_events_reader_next(r, &rec) > 0) {
			const char *t = json_string_value(json_object_get(rec, "type"));
			if (t && !strcmp(t, "capture")) {
				json_t *row = json_pack("{s:o,s:O,s:O,s:O}", "ts",
							tv_json_time((uint64_t)json_integer_value(
								json_object_get(rec, "ts"))),
							"interfaces",
							json_object_get(rec, "interfaces") ?: json_null(),
							"scope", json_object_get(rec, "scope") ?: json_null(),
							"rule", json_object_get(rec, "rule") ?: json_null());
				json_array_append_new(list, row);
			}
			json_decref(rec);
		}
		tv_events_reader_free(r);
	}
	tv_buf_cleanup(&b);
	return by_node;
}

/* ---- tools ---- */

#define WINDOW_PROPS                                                                                         \
	"\"from\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"window start: RFC 3339, Unix "     \
	"seconds, "                                                                                          \
	"now, or relative like -15m (default: to - 15m)\"},"                                                 \
	"\"to\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"window end, exclusive (default: "    \
	"now)\"},"                                                                                           \
	"\"nodes\":{\"type\":\"array\",\"maxItems\":4096,\"items\":{\"type\":\"string\",\"maxLength\":253}," \
	"\"description\":"                                                                                   \
	"\"only "                                                                                            \
	"these nodes (default: all)\"}"

#define COVERAGE_SCHEMA                                                                                      \
	"{\"type\":\"object\",\"properties\":{\"from\":{\"type\":\"string\"},\"to\":{\"type\":\"string\"},"  \
	"\"complete\":{\"type\":\"boolean\"},\"nodes\":{\"type\":\"array\",\"items\":{\"type\":\"object\","  \
	"\"properties\":{\"node\":{\"type\":\"string\"},\"segments\":{\"type\":\"integer\"},\"packets\":{"   \
	"\"type\":\"integer\"},\"bytes\":{\"type\":\"integer\"},\"covered_fraction\":{\"type\":\"number\"}," \
	"\"gaps\":{\"type\":\"array\"},\"damaged\":{\"type\":\"array\"}},\"required\":[\"node\",\"gaps\"]}}" \
	","                                                                                                  \
	"\"not_captured\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},"                            \
	"\"required\":[\"from\",\"to\",\"complete\",\"nodes\",\"not_captured\"]}"

char *tv_tool_summary_coverage(json_t *cov)
{
	char *s = NULL;
	size_t nc = json_array_size(json_object_get(cov, "not_captured"));
	if (asprintf(&s, "%s", nc ? "" : "coverage complete over the window.") < 0)
		return NULL;
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(cov, "not_captured"), i, v) {
		if (i == 8) {
			char *t = NULL;
			if (asprintf(&t, "%s (+%zu more not-captured notes)", s, nc - 8) >= 0) {
				free(s);
				s = t;
			}
			break;
		}
		char *t = NULL;
		if (asprintf(&t, "%s%sNOT CAPTURED: %s", s, i ? "; " : "", json_string_value(v)) >= 0) {
			free(s);
			s = t;
		}
	}
	return s;
}

static int run_coverage(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary)
{
	struct tv_tool_window w;
	int rc = tv_tool_window(c, args, c->o->max_index_window_ns, &w);
	struct tv_window *win = NULL;
	json_t *cov = NULL;
	if (!rc)
		rc = tv_tool_window_open(c, &w, &win);
	if (!rc)
		rc = tv_tool_coverage_full(c, &w, win, &cov);
	uint64_t snaps = 0;
	if (!rc)
		rc = tv_coverage_count_snapshots(c->s, c->o->prefix, &snaps);
	if (!rc) {
		size_t i;
		json_t *n, *filters = capture_filters(c, win);
		json_array_foreach (json_object_get(cov, "nodes"), i, n) {
			json_t *f = json_object_get(filters, json_string_value(json_object_get(n, "node")));
			json_object_set_new(n, "capture", f ? json_incref(f) : json_array());
		}
		json_decref(filters);
		*result = json_pack("{s:o,s:I}", "coverage", cov, "snapshots", (json_int_t)snaps);
		tv_tool_set_link(c, *result, "coverage", &w, NULL);
		char *cs = tv_tool_summary_coverage(cov);
		if (asprintf(summary, "%zu node(s), %" PRIu64 " snapshot(s). %s",
			     json_array_size(json_object_get(cov, "nodes")), snaps, cs ? cs : "") < 0)
			*summary = NULL;
		free(cs);
	} else {
		json_decref(cov);
	}
	tv_window_free(win);
	tv_tool_window_cleanup(&w);
	return rc;
}

static int run_nodes(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary)
{
	(void)args;
	struct tv_coverage_opts co = {.prefix = c->o->prefix, .from = 0, .to = UINT64_MAX};
	json_t *cov;
	int rc = tv_coverage(c->s, &co, &cov);
	if (rc)
		return rc;
	json_t *rows = json_array();
	size_t i;
	json_t *n;
	json_array_foreach (json_object_get(cov, "nodes"), i, n) {
		json_t *ranges = json_object_get(n, "ranges");
		json_t *first = json_object_get(json_array_get(ranges, 0), "from");
		json_t *last = json_object_get(json_array_get(ranges, json_array_size(ranges) - 1), "to");
		json_array_append_new(
			rows,
			json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:I}", "node", json_object_get(n, "node"),
				  "segments", json_object_get(n, "segments"), "packets",
				  json_object_get(n, "packets"), "bytes", json_object_get(n, "bytes"),
				  "first", first ? first : json_null(), "last", last ? last : json_null(),
				  "gaps", (json_int_t)json_array_size(json_object_get(n, "gaps"))));
	}
	json_decref(cov);
	*result = json_pack("{s:o}", "nodes", rows);
	tv_tool_set_link(c, *result, "coverage", NULL, NULL);
	if (asprintf(summary, "%zu node(s) in the store", json_array_size(rows)) < 0)
		*summary = NULL;
	return 0;
}

/* ---- names ---- */

json_t *tv_tool_end_json(const struct tv_names *names, const struct tv_flow_key *k, int side, uint64_t ts)
{
	char ip[64];
	tv_flow_addr_format(k, side, ip, sizeof(ip));
	const uint8_t *a = side ? k->dst : k->src;
	const struct tv_name *n = names ? tv_names_lookup_at(names, k->family, a, ts) : NULL;
	json_t *j = json_pack("{s:s,s:i}", "ip", ip, "port", side ? k->dport : k->sport);
	json_object_set_new(j, "name", n && n->name ? json_string(n->name) : json_null());
	json_object_set_new(j, "namespace", n && n->ns ? json_string(n->ns) : json_null());
	if (n && n->kind)
		json_object_set_new(j, "kind", json_string(n->kind));
	if (n && n->workload)
		json_object_set_new(j, "workload", json_string(n->workload));
	const char *svc = names ? tv_names_service_at(names, k->family, a, ts) : NULL;
	if (svc)
		json_object_set_new(j, "service", json_string(svc));
	else if (n && n->kind && !strcmp(n->kind, "service"))
		json_object_set_new(j, "service", json_string(n->name));
	return j;
}

struct resolve_ctx {
	uint64_t at;
	const char *ip, *name, *ns;
	uint8_t family, addr[16];
	json_t *matches;
};

static int resolve_one(void *ctx, uint8_t family, const uint8_t addr[16], const struct tv_name *v,
		       uint64_t from, uint64_t to)
{
	struct resolve_ctx *r = ctx;
	if (!(from <= r->at && r->at < to))
		return 0;
	if (r->ip && (family != r->family || memcmp(addr, r->addr, family == 4 ? 4 : 16)))
		return 0;
	if (r->name &&
	    !((v->name && !strcmp(v->name, r->name)) || (v->workload && !strcmp(v->workload, r->name))))
		return 0;
	if (r->ns && !(v->ns && !strcmp(v->ns, r->ns)))
		return 0;
	char ip[64];
	inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, ip, sizeof(ip));
	json_t *m = json_pack("{s:s,s:s,s:s}", "ip", ip, "kind", v->kind ? v->kind : "", "name",
			      v->name ? v->name : "");
	json_object_set_new(m, "namespace", v->ns ? json_string(v->ns) : json_null());
	json_object_set_new(m, "node", v->node && v->node[0] ? json_string(v->node) : json_null());
	json_object_set_new(m, "workload",
			    v->workload
				    ? json_pack("{s:s,s:s}", "kind", v->workload_kind ? v->workload_kind : "",
						"name", v->workload)
				    : json_null());
	json_object_set_new(m, "from", tv_json_time(from));
	json_object_set_new(m, "to", to == UINT64_MAX ? json_null() : tv_json_time(to));
	json_array_append_new(r->matches, m);
	return json_array_size(r->matches) >= 500;
}

static int run_resolve(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary)
{
	struct resolve_ctx r = {.ip = json_string_value(json_object_get(args, "ip")),
				.name = json_string_value(json_object_get(args, "name")),
				.ns = json_string_value(json_object_get(args, "namespace"))};
	if (!r.ip && !r.name)
		return tv_err(-EINVAL, "give ip (an address) or name (a pod, service or workload)");
	if (r.ip) {
		if (inet_pton(AF_INET, r.ip, r.addr) == 1)
			r.family = 4;
		else if (inet_pton(AF_INET6, r.ip, r.addr) == 1)
			r.family = 6;
		else
			return tv_err(-EINVAL, "ip: '%s' is not an IPv4 or IPv6 address", r.ip);
	}
	uint64_t now = tv_now_ns();
	r.at = now;
	const char *at = json_string_value(json_object_get(args, "at"));
	if (at && tv_parse_time(at, now, &r.at))
		return tv_err(-EINVAL, "at: %s", tv_errmsg());
	/* the segments around the moment: each starts with the full state */
	struct tv_tool_window w = {.from = r.at > 1000000000ull ? r.at - 1000000000ull : 0,
				   .to = r.at + 1000000000ull};
	struct tv_window *win;
	int rc = tv_tool_window_open(c, &w, &win);
	if (rc)
		return rc;
	struct tv_names *names;
	if (tv_names_new(&names)) {
		tv_window_free(win);
		return tv_err(-ENOMEM, "out of memory");
	}
	tv_window_load_names(win, names);
	r.matches = json_array();
	tv_names_each_holding(names, resolve_one, &r);
	json_t *cov = NULL;
	rc = tv_tool_coverage_full(c, &w, win, &cov);
	tv_names_free(names);
	tv_window_free(win);
	if (rc) {
		json_decref(r.matches);
		return rc;
	}
	size_t n = json_array_size(r.matches);
	*result = json_pack("{s:o,s:o,s:o}", "at", tv_json_time(r.at), "matches", r.matches, "coverage", cov);
	tv_tool_set_link(c, *result, "flows", &w, NULL);
	if (asprintf(summary, "%zu holder(s) of %s at the moment%s", n, r.ip ? r.ip : r.name,
		     n ? "" : " (no Kubernetes record names it then: see coverage.not_captured)") < 0)
		*summary = NULL;
	return 0;
}

/* ---- flows ---- */

struct flow_view {
	struct tv_flow_rows rows;
	struct tv_names *names;
	size_t *order; /* the rows that pass the filters, sorted */
	size_t n;
};

static bool end_matches(json_t *end, const char *want)
{
	const char *fields[] = {"ip", "name", "namespace", "workload", "service"};
	for (size_t i = 0; i < 5; i++) {
		const char *v = json_string_value(json_object_get(end, fields[i]));
		if (v && !strcmp(v, want))
			return true;
	}
	return false;
}

json_t *tv_tool_flow_json(const struct tv_flow_row *r, const struct tv_names *names)
{
	char stream[160];
	tv_flow_key_format(&r->key, stream, sizeof(stream));
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:I,s:I,s:i}", "node", r->node, "flow", stream,
			 "protocol", r->key.proto == 6 ? "tcp" : "udp", "src",
			 tv_tool_end_json(names, &r->key, 0, r->first_ns), "dst",
			 tv_tool_end_json(names, &r->key, 1, r->first_ns), "first", tv_json_time(r->first_ns),
			 "last", tv_json_time(r->last_ns), "packets", (json_int_t)r->packets, "bytes",
			 (json_int_t)r->bytes, "segments", (int)r->segments);
}

static const struct tv_flow_row *sort_rows;
static const char *sort_by;

static int cmp_rows(const void *pa, const void *pb)
{
	const struct tv_flow_row *a = &sort_rows[*(const size_t *)pa], *b = &sort_rows[*(const size_t *)pb];
	uint64_t x = 0, y = 0;
	bool desc = true;
	if (!strcmp(sort_by, "packets"))
		x = a->packets, y = b->packets;
	else if (!strcmp(sort_by, "first"))
		x = a->first_ns, y = b->first_ns, desc = false;
	else if (!strcmp(sort_by, "last"))
		x = a->last_ns, y = b->last_ns;
	else
		x = a->bytes, y = b->bytes;
	if (x != y)
		return desc ? (x < y ? 1 : -1) : (x < y ? -1 : 1);
	int c = strcmp(a->node, b->node);
	if (c)
		return c;
	c = memcmp(&a->key, &b->key, sizeof(a->key)); /* a total order: pages never repeat a row */
	return c ? c : (a->first_ns < b->first_ns ? -1 : a->first_ns > b->first_ns);
}

static bool row_passes(const struct tv_flow_row *r, const struct tv_names *names, json_t *args)
{
	const char *proto = json_string_value(json_object_get(args, "protocol"));
	if (proto && strcmp(proto, r->key.proto == 6 ? "tcp" : "udp"))
		return false;
	json_t *port = json_object_get(args, "port");
	if (port && r->key.sport != json_integer_value(port) && r->key.dport != json_integer_value(port))
		return false;
	const char *keys[] = {"ip", "namespace", "workload"};
	bool need = false;
	for (size_t i = 0; i < 3; i++)
		need |= json_object_get(args, keys[i]) != NULL;
	if (!need)
		return true;
	json_t *s = tv_tool_end_json(names, &r->key, 0, r->first_ns),
	       *d = tv_tool_end_json(names, &r->key, 1, r->first_ns);
	bool ok = true;
	for (size_t i = 0; ok && i < 3; i++) {
		const char *want = json_string_value(json_object_get(args, keys[i]));
		ok = !want || end_matches(s, want) || end_matches(d, want);
	}
	json_decref(s);
	json_decref(d);
	return ok;
}

static int flow_view_build(struct tv_tool_ctx *c, const struct tv_tool_window *w, struct tv_window *win,
			   json_t *args, struct flow_view *v)
{
	memset(v, 0, sizeof(*v));
	int rc = tv_flows_collect(win, w->from, w->to, &v->rows);
	if (rc)
		return rc;
	if (tv_names_new(&v->names))
		return tv_err(-ENOMEM, "out of memory");
	tv_window_load_names(win, v->names);
	v->order = calloc(v->rows.n ? v->rows.n : 1, sizeof(*v->order));
	if (!v->order)
		return tv_err(-ENOMEM, "out of memory");
	for (size_t i = 0; i < v->rows.n; i++)
		if (row_passes(&v->rows.v[i], v->names, args))
			v->order[v->n++] = i;
	sort_rows = v->rows.v;
	sort_by = json_string_value(json_object_get(args, "sort"));
	if (!sort_by)
		sort_by = "bytes";
	qsort(v->order, v->n, sizeof(*v->order), cmp_rows); /* calls are serial: the statics are safe */
	(void)c;
	return 0;
}

static void flow_view_cleanup(struct flow_view *v)
{
	tv_flow_rows_cleanup(&v->rows);
	tv_names_free(v->names);
	free(v->order);
}

static int run_flows(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary)
{
	struct tv_tool_window w;
	int rc = tv_tool_window(c, args, c->o->max_index_window_ns, &w);
	if (rc)
		return rc;
	uint64_t offset = 0;
	if ((rc = tv_cursor_apply(args, &w, &offset))) {
		tv_tool_window_cleanup(&w);
		return rc;
	}
	struct tv_window *win = NULL;
	struct flow_view v = {0};
	json_t *cov = NULL;
	if (!(rc = tv_tool_window_open(c, &w, &win)) && !(rc = flow_view_build(c, &w, win, args, &v)))
		rc = tv_tool_coverage_full(c, &w, win, &cov);
	if (!rc) {
		size_t limit = json_object_get(args, "limit")
				       ? (size_t)json_integer_value(json_object_get(args, "limit"))
				       : 100;
		json_t *flows = json_array();
		for (size_t i = offset; i < v.n && i < offset + limit; i++)
			json_array_append_new(flows, tv_tool_flow_json(&v.rows.v[v.order[i]], v.names));
		*result = json_pack("{s:o,s:I,s:I,s:{s:I,s:I},s:o}", "flows", flows, "total", (json_int_t)v.n,
				    "offset", (json_int_t)offset, "other", "packets",
				    (json_int_t)v.rows.other_packets, "bytes", (json_int_t)v.rows.other_bytes,
				    "coverage", cov);
		json_object_set_new(*result, "next_cursor",
				    offset + limit < v.n ? tv_cursor_make(args, &w, offset + limit)
							 : json_null());
		tv_tool_set_link(c, *result, "flows", &w, NULL);
		char *cs = tv_tool_summary_coverage(cov);
		if (asprintf(summary, "%zu flow(s) of %zu (from %" PRIu64 ")%s. %s", json_array_size(flows),
			     v.n, offset, offset + limit < v.n ? "; more with next_cursor" : "",
			     cs ? cs : "") < 0)
			*summary = NULL;
		free(cs);
	}
	flow_view_cleanup(&v);
	tv_window_free(win);
	tv_tool_window_cleanup(&w);
	return rc;
}

/* the group of one end of a flow */
static const char *group_of(json_t *end, const char *by, const char *node, char *buf, size_t n)
{
	const char *ns = json_string_value(json_object_get(end, "namespace"));
	const char *name = json_string_value(json_object_get(end, "name"));
	const char *ip = json_string_value(json_object_get(end, "ip"));
	if (!strcmp(by, "node"))
		return node;
	if (!strcmp(by, "namespace"))
		return ns ? ns : "(outside the cluster or unknown)";
	if (!strcmp(by, "ip"))
		return ip;
	const char *v = !strcmp(by, "service") ? json_string_value(json_object_get(end, "service"))
			: !strcmp(by, "workload")
				? (json_string_value(json_object_get(end, "workload")) ?: name)
				: name;
	if (!v)
		snprintf(buf, n, "%s (unnamed)", ip);
	else
		snprintf(buf, n, "%s/%s", ns ? ns : "-", v);
	return buf;
}

static int run_talkers(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary)
{
	struct tv_tool_window w;
	int rc = tv_tool_window(c, args, c->o->max_index_window_ns, &w);
	if (rc)
		return rc;
	const char *by = json_string_value(json_object_get(args, "by"));
	by = by ? by : "workload";
	struct tv_window *win = NULL;
	struct flow_view v = {0};
	json_t *cov = NULL;
	if (!(rc = tv_tool_window_open(c, &w, &win)) && !(rc = flow_view_build(c, &w, win, args, &v)))
		rc = tv_tool_coverage_full(c, &w, win, &cov);
	if (!rc) {
		json_t *groups = json_object();
		for (size_t i = 0; i < v.n; i++) {
			const struct tv_flow_row *r = &v.rows.v[v.order[i]];
			json_t *ends[2] = {tv_tool_end_json(v.names, &r->key, 0, r->first_ns),
					   tv_tool_end_json(v.names, &r->key, 1, r->first_ns)};
			char b0[400], b1[400];
			const char *g[2] = {group_of(ends[0], by, r->node, b0, sizeof(b0)),
					    group_of(ends[1], by, r->node, b1, sizeof(b1))};
			for (int e = 0; e < 2; e++) {
				if (e == 1 && !strcmp(g[0], g[1]))
					break;
				json_t *row = json_object_get(groups, g[e]);
				if (!row)
					json_object_set_new(groups, g[e],
							    row = json_pack("{s:s,s:I,s:I,s:I}", "key", g[e],
									    "flows", (json_int_t)0, "packets",
									    (json_int_t)0, "bytes",
									    (json_int_t)0));
				json_object_set_new(
					row, "flows",
					json_integer(json_integer_value(json_object_get(row, "flows")) + 1));
				json_object_set_new(
					row, "packets",
					json_integer(json_integer_value(json_object_get(row, "packets")) +
						     (json_int_t)r->packets));
				json_object_set_new(
					row, "bytes",
					json_integer(json_integer_value(json_object_get(row, "bytes")) +
						     (json_int_t)r->bytes));
			}
			json_decref(ends[0]);
			json_decref(ends[1]);
		}
		json_t *arr = tv_json_sorted_values(groups, "bytes");
		json_decref(groups);
		size_t limit = json_object_get(args, "limit")
				       ? (size_t)json_integer_value(json_object_get(args, "limit"))
				       : 20;
		while (json_array_size(arr) > limit)
			json_array_remove(arr, json_array_size(arr) - 1);
		*result = json_pack("{s:s,s:o,s:I,s:o}", "by", by, "groups", arr, "flows", (json_int_t)v.n,
				    "coverage", cov);
		tv_tool_set_link(c, *result, "flows", &w, NULL);
		json_t *top = json_array_get(arr, 0);
		char *cs = tv_tool_summary_coverage(cov);
		if (asprintf(summary, "top %zu by %s over %zu flow(s)%s%s. %s", json_array_size(arr), by, v.n,
			     top ? "; first: " : "",
			     top ? json_string_value(json_object_get(top, "key")) : "", cs ? cs : "") < 0)
			*summary = NULL;
		free(cs);
	}
	flow_view_cleanup(&v);
	tv_window_free(win);
	tv_tool_window_cleanup(&w);
	return rc;
}

/* ---- verify ---- */

struct verify_ctx {
	json_t *problems;
};

static void on_problem(void *ctx, enum tv_verify_class cls, const char *what)
{
	struct verify_ctx *v = ctx;
	if (json_array_size(v->problems) < 200)
		json_array_append_new(v->problems, json_pack("{s:s,s:s}", "class", tv_verify_class_name(cls),
							     "what", what));
}

static int run_verify(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary)
{
	struct tv_tool_window w;
	int rc = tv_tool_window(c, args, c->o->max_index_window_ns, &w);
	if (rc)
		return rc;
	struct verify_ctx vc = {json_array()};
	struct tv_verify_opts vo = {.prefix = c->o->prefix,
				    .from = w.from,
				    .to = w.to,
				    .nodes = w.nodes,
				    .nnodes = w.nnodes,
				    .problem = on_problem,
				    .ctx = &vc};
	struct tv_verify_result r;
	rc = tv_verify(c->s, &vo, &r);
	if (!rc) {
		json_t *by = json_object();
		for (int i = 0; i < TV_VERIFY_NCLASSES; i++)
			json_object_set_new(by, tv_verify_class_name((enum tv_verify_class)i),
					    json_integer((json_int_t)r.by_class[i]));
		*result = json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:o,s:o}", "intact", r.problems == 0,
				    "segments", (json_int_t)r.segments, "problems", (json_int_t)r.problems,
				    "signed", (json_int_t)r.signed_segments, "unsigned",
				    (json_int_t)r.unsigned_segments, "checkpoints", (json_int_t)r.checkpoints,
				    "by_class", by, "details", vc.problems);
		tv_tool_set_link(c, *result, "coverage", &w, NULL);
		if (asprintf(summary,
			     "%s: %" PRIu64 " segment(s), %" PRIu64 " problem(s), %" PRIu64
			     " signed, %" PRIu64 " unsigned",
			     r.problems ? "NOT INTACT" : "INTACT", r.segments, r.problems, r.signed_segments,
			     r.unsigned_segments) < 0)
			*summary = NULL;
	} else {
		json_decref(vc.problems);
	}
	tv_tool_window_cleanup(&w);
	return rc;
}

/* ---- snapshots ---- */

static int run_snap_list(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary)
{
	(void)args;
	json_t *rows;
	int rc = tv_snapshot_list(c->s, c->o->prefix, &rows);
	if (rc)
		return rc;
	size_t n = json_array_size(rows);
	*result = json_pack("{s:o}", "snapshots", rows);
	tv_tool_set_link(c, *result, "snapshots", NULL, NULL);
	if (asprintf(summary, "%zu snapshot(s)", n) < 0)
		*summary = NULL;
	return 0;
}

static int run_snap_get(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary)
{
	const char *name = json_string_value(json_object_get(args, "name"));
	json_t *row;
	int rc = tv_snapshot_stat(c->s, c->o->prefix, name, &row);
	if (rc)
		return rc;
	*result = json_pack("{s:o}", "snapshot", row);
	tv_tool_set_link(c, *result, "snapshots", NULL, NULL);
	if (asprintf(summary, "snapshot %s: %s", name, json_string_value(json_object_get(row, "status"))) < 0)
		*summary = NULL;
	return 0;
}

static int run_snap_create(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary)
{
	struct tv_tool_window w;
	const char *name = json_string_value(json_object_get(args, "name"));
	int rc = tv_snapshot_name_check(name);
	if (rc)
		return tv_err(-EINVAL, "name: %s", tv_errmsg());
	if ((rc = tv_tool_window(c, args, c->o->max_index_window_ns, &w)))
		return rc;
	struct tv_snapshot_opts so = {.prefix = c->o->prefix,
				      .name = name,
				      .nodes = w.nodes,
				      .nnodes = w.nnodes,
				      .from = w.from,
				      .to = w.to};
	struct tv_snapshot_stats st;
	rc = tv_snapshot_create(c->s, &so, &st);
	json_t *row = NULL;
	if (!rc)
		rc = tv_snapshot_stat(c->s, c->o->prefix, name, &row);
	if (!rc) {
		*result = json_pack("{s:o}", "snapshot", row);
		tv_tool_set_link(c, *result, "snapshots", NULL, NULL);
		if (asprintf(summary, "snapshot %s created: %" PRIu64 " segments, %" PRIu64 " bytes", name,
			     st.segments, st.bytes) < 0)
			*summary = NULL;
	}
	tv_tool_window_cleanup(&w);
	return rc;
}

static int run_snap_delete(struct tv_tool_ctx *c, json_t *args, json_t **result, char **summary)
{
	const char *name = json_string_value(json_object_get(args, "name"));
	int rc = tv_snapshot_name_check(name);
	if (rc)
		return tv_err(-EINVAL, "name: %s", tv_errmsg());
	if ((rc = tv_snapshot_delete(c->s, c->o->prefix, name)))
		return rc;
	*result = json_pack("{s:s,s:b}", "name", name, "deleted", 1);
	tv_tool_set_link(c, *result, "snapshots", NULL, NULL);
	if (asprintf(summary, "snapshot %s deleted", name) < 0)
		*summary = NULL;
	return 0;
}

/* ---- the table ---- */

#define FLOW_FILTERS                                                                                         \
	"\"ip\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"either end's address or name\"},"    \
	"\"port\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":65535},"                                   \
	"\"protocol\":{\"type\":\"string\",\"enum\":[\"tcp\",\"udp\"]},"                                     \
	"\"namespace\":{\"type\":\"string\",\"maxLength\":253},"                                             \
	"\"workload\":{\"type\":\"string\",\"maxLength\":253,\"description\":\"a pod, workload or service "  \
	"name at either end\"}"

#define SNAPSHOT_ROW                                                                                         \
	"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"bytes\":{\"type\":"           \
	"\"integer\"},"                                                                                      \
	"\"from\":{\"type\":[\"string\",\"null\"]},\"to\":{\"type\":[\"string\",\"null\"]},\"status\":{"     \
	"\"type\":\"string\"},\"created\":{\"type\":[\"string\",\"null\"]},\"nodes\":{\"type\":[\"array\","  \
	"\"null\"]}},\"required\":[\"name\",\"bytes\",\"from\",\"to\",\"status\",\"created\",\"nodes\"]}"

#define DASHBOARD "\"dashboard\":{\"type\":\"string\"}"

static const struct tv_tool tools[] = {
	{"get_coverage", "Coverage of a window",
	 "What the archive holds for a window, per node: segments, packets, the time covered and the gaps "
	 "(nothing "
	 "captured), damaged indexes, kernel and interface drops, and the capture filters in force (so an "
	 "empty "
	 "answer elsewhere can be told from 'not captured'). Call it first.",
	 "{\"type\":\"object\",\"properties\":{" WINDOW_PROPS "},\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"properties\":{\"coverage\":" COVERAGE_SCHEMA
	 ",\"snapshots\":{\"type\":\"integer\"}," DASHBOARD
	 "},\"required\":[\"coverage\",\"snapshots\",\"dashboard\"]}",
	 false, run_coverage},
	{"list_nodes", "Nodes in the archive",
	 "Every node whose agent wrote segments: its first and last covered time, segments, packets, bytes, "
	 "gaps.",
	 "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"properties\":{\"nodes\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	 "\"properties\":{\"node\":{\"type\":\"string\"},\"first\":{\"type\":[\"string\",\"null\"]},\"last\":"
	 "{"
	 "\"type\":[\"string\",\"null\"]},\"segments\":{\"type\":\"integer\"}},\"required\":[\"node\"]}}"
	 "," DASHBOARD "},\"required\":[\"nodes\"]}",
	 false, run_nodes},
	{"resolve", "Who held an address, or where a workload was",
	 "Resolves an IP to the pod, service or node that held it at a moment, or a pod/workload/service "
	 "name "
	 "(optionally in a namespace) to its addresses then, from the Kubernetes records in the archive.",
	 "{\"type\":\"object\",\"properties\":{\"ip\":{\"type\":\"string\",\"maxLength\":64},\"name\":{"
	 "\"type\":"
	 "\"string\",\"maxLength\":253},\"namespace\":{\"type\":\"string\",\"maxLength\":253},\"at\":{"
	 "\"type\":"
	 "\"string\",\"maxLength\":64,\"description\":\"the moment (default "
	 "now)\"}},\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"properties\":{\"at\":{\"type\":\"string\"},\"matches\":{\"type\":\"array\","
	 "\"items\":"
	 "{\"type\":\"object\",\"properties\":{\"ip\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\"},"
	 "\"name\":"
	 "{\"type\":\"string\"}},\"required\":[\"ip\",\"kind\",\"name\"]}},\"coverage\":" COVERAGE_SCHEMA
	 "," DASHBOARD "},\"required\":[\"at\",\"matches\",\"coverage\"]}",
	 false, run_resolve},
	{"list_flows", "Flows of a window",
	 "Conversations (TCP/UDP 5-tuples per node) of a window from the segment indexes only, with both "
	 "ends "
	 "named; filters, sort, and cursor paging (pass next_cursor back with the same other arguments).",
	 "{\"type\":\"object\",\"properties\":{" WINDOW_PROPS "," FLOW_FILTERS
	 ",\"sort\":{\"type\":\"string\",\"enum\":[\"bytes\",\"packets\",\"first\",\"last\"]},\"limit\":{"
	 "\"type\":"
	 "\"integer\",\"minimum\":1,\"maximum\":1000},\"cursor\":{\"type\":\"string\",\"maxLength\":512}},"
	 "\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"properties\":{\"flows\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	 "\"properties\":{\"node\":{\"type\":\"string\"},\"flow\":{\"type\":\"string\"},\"packets\":{"
	 "\"type\":"
	 "\"integer\"},\"bytes\":{\"type\":\"integer\"},\"src\":{\"type\":\"object\"},\"dst\":{\"type\":"
	 "\"object\"}},"
	 "\"required\":[\"node\",\"flow\",\"packets\",\"bytes\",\"src\",\"dst\"]}},\"total\":{\"type\":"
	 "\"integer\"},"
	 "\"next_cursor\":{\"type\":[\"string\",\"null\"]},\"coverage\":" COVERAGE_SCHEMA "," DASHBOARD
	 "},\"required\":[\"flows\",\"total\",\"next_cursor\",\"coverage\"]}",
	 false, run_flows},
	{"top_talkers", "Top talkers",
	 "Bytes, packets and flows of a window grouped by workload, pod, namespace, service, node or IP "
	 "(each flow "
	 "counts for both of its ends), from the indexes only.",
	 "{\"type\":\"object\",\"properties\":{" WINDOW_PROPS "," FLOW_FILTERS
	 ",\"by\":{\"type\":\"string\",\"enum\":[\"workload\",\"pod\",\"namespace\",\"service\",\"node\","
	 "\"ip\"]},"
	 "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":500}},\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"properties\":{\"by\":{\"type\":\"string\"},\"groups\":{\"type\":\"array\","
	 "\"items\":{"
	 "\"type\":\"object\",\"properties\":{\"key\":{\"type\":\"string\"},\"flows\":{\"type\":\"integer\"},"
	 "\"packets\":{\"type\":\"integer\"},\"bytes\":{\"type\":\"integer\"}},\"required\":[\"key\","
	 "\"bytes\"]}},"
	 "\"flows\":{\"type\":\"integer\"},\"coverage\":" COVERAGE_SCHEMA "," DASHBOARD
	 "},\"required\":[\"by\",\"groups\",\"coverage\"]}",
	 false, run_talkers},
	TV_TOOL_API_CALLS,
	TV_TOOL_API_CALL,
	TV_TOOL_EXPORT,
	TV_TOOL_TRENDS,
	{"verify_window", "Verify a window's evidence",
	 "Checks every segment of a window: objects present and unaltered, hash chains linked, signatures by "
	 "the "
	 "nodes' keys, checkpoints; names each problem.",
	 "{\"type\":\"object\",\"properties\":{" WINDOW_PROPS "},\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"properties\":{\"intact\":{\"type\":\"boolean\"},\"segments\":{\"type\":"
	 "\"integer\"},"
	 "\"problems\":{\"type\":\"integer\"},\"details\":{\"type\":\"array\"}," DASHBOARD
	 "},\"required\":[\"intact\",\"segments\",\"problems\",\"details\"]}",
	 false, run_verify},
	{"list_snapshots", "Snapshots",
	 "Every snapshot: name, size, window start and end, status, created at, nodes, retention and legal "
	 "hold.",
	 "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"properties\":{\"snapshots\":{\"type\":\"array\",\"items\":" SNAPSHOT_ROW
	 "}," DASHBOARD "},\"required\":[\"snapshots\"]}",
	 false, run_snap_list},
	{"get_snapshot", "One snapshot", "One snapshot's row (as list_snapshots).",
	 "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":200}},"
	 "\"required\":[\"name\"],"
	 "\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"properties\":{\"snapshot\":" SNAPSHOT_ROW "," DASHBOARD
	 "},\"required\":[\"snapshot\"]}",
	 false, run_snap_get},
	{"create_snapshot", "Create a snapshot",
	 "Builds an immutable snapshot of a window (all three layers: packets, Kubernetes and OS records) "
	 "under a "
	 "new name; never overwrites.",
	 "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":200}," WINDOW_PROPS
	 "},\"required\":[\"name\",\"from\",\"to\"],\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"properties\":{\"snapshot\":" SNAPSHOT_ROW "," DASHBOARD
	 "},\"required\":[\"snapshot\"]}",
	 true, run_snap_create},
	{"delete_snapshot", "Delete a snapshot",
	 "Deletes a snapshot, unless S3 Object Lock retention or a legal hold protects it.",
	 "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":200}},"
	 "\"required\":[\"name\"],"
	 "\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"deleted\":{\"type\":"
	 "\"boolean\"}," DASHBOARD "},\"required\":[\"name\",\"deleted\"]}",
	 true, run_snap_delete},
};

const struct tv_tool *tv_tools(size_t *n)
{
	*n = sizeof(tools) / sizeof(*tools);
	return tools;
}

const struct tv_tool *tv_tool_find(const char *name)
{
	for (size_t i = 0; i < sizeof(tools) / sizeof(*tools); i++)
		if (!strcmp(tools[i].name, name))
			return &tools[i];
	return NULL;
}
