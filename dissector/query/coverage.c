/* SPDX-License-Identifier: Apache-2.0 */
/* coverage: see coverage.h. */
#include "dissector/query/coverage.h"

#include <errno.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/timeutil.h"
#include "archive/keys.h"
#include "dissector/query/catalog.h"
#include "dissector/query/snapshot.h"

struct node_ctx {
	struct tv_store *s;
	const char *prefix;
	uint64_t from, to;
	bool windowed;
	json_t *nodes;
	/* per node */
	json_t *ranges, *gaps, *damaged;
	uint64_t segments, packets, bytes;
	bool have_prev;
	uint64_t prev_seq, run_start, run_end, run_first_seq;
	uint8_t prev_sha[TV_SHA256_LEN];
};

static json_t *tj(uint64_t ns)
{
	char t[TV_RFC3339_LEN];
	tv_format_rfc3339(ns, t);
	return json_string(t);
}

static void close_run(struct node_ctx *c)
{
	if (c->have_prev)
		json_array_append_new(c->ranges,
				      json_pack("{s:o,s:o,s:I,s:I}", "from", tj(c->run_start), "to",
						tj(c->run_end), "first_seq", (json_int_t)c->run_first_seq,
						"last_seq", (json_int_t)c->prev_seq));
}

static int on_index(void *ctx, const char *key)
{
	struct node_ctx *c = ctx;
	struct tv_index idx;
	uint8_t sha[TV_SHA256_LEN];
	uint64_t isize;
	if (tv_catalog_load_index(c->s, key, &idx, sha, &isize)) {
		json_array_append_new(c->damaged, json_pack("{s:s,s:s}", "key", key, "error", tv_errmsg()));
		return 0;
	}
	if (c->windowed && !(idx.packets && idx.ts_max >= c->from && idx.ts_min < c->to)) {
		tv_index_cleanup(&idx);
		return 0;
	}
	bool linked = c->have_prev && idx.seq == c->prev_seq + 1 &&
		      !memcmp(idx.prev_sha, c->prev_sha, TV_SHA256_LEN);
	if (c->have_prev && !linked) {
		json_array_append_new(c->gaps,
				      json_pack("{s:o,s:o,s:I,s:I}", "from", tj(c->run_end), "to",
						tj(idx.start_ns), "after_seq", (json_int_t)c->prev_seq,
						"before_seq", (json_int_t)idx.seq));
		close_run(c);
	}
	if (!linked) {
		c->run_start = idx.start_ns;
		c->run_first_seq = idx.seq;
	}
	c->run_end = idx.end_ns > c->run_end || !linked ? idx.end_ns : c->run_end;
	c->have_prev = true;
	c->prev_seq = idx.seq;
	memcpy(c->prev_sha, sha, TV_SHA256_LEN);
	c->segments++;
	c->packets += idx.packets;
	c->bytes += idx.data_size + idx.events_size + isize;
	tv_index_cleanup(&idx);
	return 0;
}

static int on_node(void *ctx, const char *node)
{
	struct node_ctx *c = ctx;
	c->ranges = json_array();
	c->gaps = json_array();
	c->damaged = json_array();
	c->segments = c->packets = c->bytes = 0;
	c->have_prev = false;
	c->run_end = 0;
	int rc = tv_catalog_indexes(c->s, c->prefix, node, c->windowed ? c->from : 0,
				    c->windowed ? c->to : UINT64_MAX, on_index, c);
	close_run(c);
	json_array_append_new(c->nodes, json_pack("{s:s,s:I,s:I,s:I,s:o,s:o,s:o}", "node", node, "segments",
						  (json_int_t)c->segments, "packets", (json_int_t)c->packets,
						  "bytes", (json_int_t)c->bytes, "ranges", c->ranges, "gaps",
						  c->gaps, "damaged", c->damaged));
	return rc;
}

/* snapshots are the tars; their listing metadata (snapshot_list.h) is not counted */
static int count_one(void *ctx, const struct tv_store_entry *e)
{
	size_t n = strlen(e->key);
	if (n > 4 && !strcmp(e->key + n - 4, ".tar"))
		(*(uint64_t *)ctx)++;
	return 0;
}

int tv_coverage_count_snapshots(struct tv_store *s, const char *prefix, uint64_t *n)
{
	char key[TV_KEY_MAX];
	if (tv_snapshot_prefix(prefix, key, sizeof(key)))
		return tv_err(-ENAMETOOLONG, "prefix too long");
	*n = 0;
	return tv_store_each(s, key, count_one, n);
}

int tv_coverage(struct tv_store *s, const struct tv_coverage_opts *o, json_t **out)
{
	*out = NULL;
	struct node_ctx c = {.s = s,
			     .prefix = o->prefix ? o->prefix : "",
			     .from = o->from,
			     .to = o->to,
			     .windowed = o->from != 0 || o->to != UINT64_MAX,
			     .nodes = json_array()};
	if (!c.nodes)
		return tv_err(-ENOMEM, "out of memory");
	int rc = tv_catalog_each_node(s, c.prefix, o->nodes, o->nnodes, on_node, &c);
	uint64_t snaps = 0;
	if (!rc)
		rc = tv_coverage_count_snapshots(s, c.prefix, &snaps);
	if (rc) {
		json_decref(c.nodes);
		return rc;
	}
	*out = json_pack("{s:o,s:I}", "nodes", c.nodes, "snapshots", (json_int_t)snaps);
	return *out ? 0 : tv_err(-ENOMEM, "out of memory");
}
