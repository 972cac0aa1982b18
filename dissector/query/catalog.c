/* SPDX-License-Identifier: Apache-2.0 */
/* catalog: see catalog.h. */
#include "dissector/query/catalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/keys.h"

#define WHOLE_NODE_HOURS 48

struct nodes_walk {
	size_t base_len;
	int (*fn)(void *ctx, const char *node);
	void *ctx;
};

static int on_child(void *ctx, const char *child)
{
	struct nodes_walk *w = ctx;
	char node[TV_NODE_MAX + 1];
	const char *p = child + w->base_len;
	snprintf(node, sizeof(node), "%.*s", (int)strcspn(p, "/"), p);
	return w->fn(w->ctx, node);
}

int tv_catalog_nodes(struct tv_store *s, const char *prefix, int (*fn)(void *ctx, const char *node),
		     void *ctx)
{
	char base[TV_KEY_MAX];
	if (tv_key_node_prefix(base, sizeof(base), prefix, NULL))
		return tv_err(-ENAMETOOLONG, "prefix too long");
	struct nodes_walk w = {strlen(base), fn, ctx};
	return tv_store_each_child(s, base, on_child, &w);
}

struct walk {
	struct tv_store *s;
	const char *node;
	uint64_t from, to; /* keys filtered by start time (whole-node listing) */
	int (*fn)(void *ctx, const char *index_key);
	void *ctx;
};

static int on_key(void *ctx, const struct tv_store_entry *e)
{
	struct walk *w = ctx;
	struct tv_segment_key k;
	if (tv_key_parse_segment(e->key, &k) || k.kind != TV_OBJ_INDEX || strcmp(k.node, w->node) != 0)
		return 0;
	if (k.start_ns >= w->to || k.start_ns + TV_SEGMENT_MAX_SPAN_NS < w->from)
		return 0;
	return w->fn(w->ctx, e->key);
}

static int on_hour(void *ctx, const char *hour_prefix)
{
	struct walk *w = ctx;
	return tv_store_each(w->s, hour_prefix, on_key, w);
}

int tv_catalog_indexes(struct tv_store *s, const char *prefix, const char *node, uint64_t from, uint64_t to,
		       int (*fn)(void *ctx, const char *index_key), void *ctx)
{
	struct walk w = {s, node, from, to, fn, ctx};
	/* Hour by hour for short windows; one listing of the node for long ones
	 * (a window from 1970 would otherwise list half a million hours). */
	const uint64_t hour = 3600ULL * 1000000000ULL;
	if (to - from > WHOLE_NODE_HOURS * hour) {
		char p[TV_KEY_MAX];
		if (tv_key_node_prefix(p, sizeof(p), prefix, node))
			return tv_err(-ENAMETOOLONG, "prefix too long");
		return tv_store_each(s, p, on_key, &w);
	}
	return tv_key_window_prefixes(prefix, node, from, to, on_hour, &w);
}

int tv_catalog_load_index(struct tv_store *s, const char *key, struct tv_index *idx, uint8_t *sha,
			  uint64_t *size)
{
	struct tv_buf b;
	tv_buf_init(&b, TV_INDEX_MAX_BYTES);
	int rc = tv_store_get(s, key, &b);
	if (!rc)
		rc = tv_index_decode(b.data, b.len, key, idx);
	if (!rc && sha)
		rc = tv_sha256(b.data, b.len, sha);
	if (!rc && size)
		*size = b.len;
	tv_buf_cleanup(&b);
	return rc;
}

struct node_filter {
	const char *const *nodes;
	size_t n;
	bool *seen;
	int (*fn)(void *ctx, const char *node);
	void *ctx;
};

/* A node in the store is selected when it, or the node whose stream it is,
 * was asked for (a node's streams are selected with it). */
static int on_stored_node(void *ctx, const char *node)
{
	struct node_filter *f = ctx;
	char base[TV_NODE_MAX + 1];
	tv_node_stream_split(node, base, sizeof(base));
	bool wanted = false;
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->nodes[i], node) || !strcmp(f->nodes[i], base))
			wanted = f->seen[i] = true;
	return wanted ? f->fn(f->ctx, node) : 0;
}

int tv_catalog_each_node(struct tv_store *s, const char *prefix, const char *const *nodes, size_t n,
			 int (*fn)(void *ctx, const char *node), void *ctx)
{
	if (!nodes)
		return tv_catalog_nodes(s, prefix, fn, ctx);
	struct node_filter f = {nodes, n, calloc(n ? n : 1, sizeof(bool)), fn, ctx};
	if (!f.seen)
		return tv_err(-ENOMEM, "out of memory");
	int rc = tv_catalog_nodes(s, prefix, on_stored_node, &f);
	/* a node the store does not hold is still named, for the caller to report */
	for (size_t i = 0; !rc && i < n; i++)
		if (!f.seen[i])
			rc = fn(ctx, nodes[i]);
	free(f.seen);
	return rc;
}
