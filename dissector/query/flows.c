/* SPDX-License-Identifier: Apache-2.0 */
/* flows: see flows.h. Rows are merged through an open-addressing table on
 * (node, canonical key), so a window of many segments costs one pass over
 * their flow tables. */
#include "dissector/query/flows.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"

struct table {
	uint32_t *slots; /* row + 1; 0 empty */
	size_t nslots;
	struct tv_flow_key *canon; /* per row */
};

static uint64_t node_hash(const char *node)
{
	uint64_t h = 1469598103934665603ull;
	for (const unsigned char *p = (const unsigned char *)node; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h;
}

static int grow(struct tv_flow_rows *r, struct table *t)
{
	size_t cap = r->cap ? r->cap * 2 : 1024;
	struct tv_flow_row *v = realloc(r->v, cap * sizeof(*v));
	if (!v)
		return tv_err(-ENOMEM, "out of memory for %zu flows", cap);
	r->v = v;
	struct tv_flow_key *c = realloc(t->canon, cap * sizeof(*c));
	if (!c)
		return tv_err(-ENOMEM, "out of memory for %zu flows", cap);
	t->canon = c;
	r->cap = cap;
	/* keep the load under one half */
	free(t->slots);
	t->nslots = cap * 2;
	if (!(t->slots = calloc(t->nslots, sizeof(*t->slots))))
		return tv_err(-ENOMEM, "out of memory for %zu flows", cap);
	for (size_t i = 0; i < r->n; i++) {
		size_t at = (tv_flow_key_hash(&t->canon[i]) ^ node_hash(r->v[i].node)) & (t->nslots - 1);
		while (t->slots[at])
			at = (at + 1) & (t->nslots - 1);
		t->slots[at] = (uint32_t)i + 1;
	}
	return 0;
}

/* Adds f's direction counts to row, turned round when f's key (as its
 * segment first saw it) is the reverse of the row's. */
static void add_directions(struct tv_flow_row *row, const struct tv_flow *f, bool v3)
{
	bool same = f->key.sport == row->key.sport && !memcmp(f->key.src, row->key.src, 16);
	row->packets_rev += same ? f->packets_rev : f->packets - f->packets_rev;
	row->bytes_rev += same ? f->bytes_rev : f->bytes - f->bytes_rev;
	row->syn += f->syn;
	row->rst += f->rst;
	row->directions &= v3;
}

static int add(struct tv_flow_rows *r, struct table *t, const char *node, const struct tv_flow *f, bool v3)
{
	struct tv_flow_key canon;
	tv_flow_key_canonical(&f->key, &canon);
	if (r->n >= r->cap) {
		int rc = grow(r, t);
		if (rc)
			return rc;
	}
	size_t at = (tv_flow_key_hash(&canon) ^ node_hash(node)) & (t->nslots - 1);
	while (t->slots[at]) {
		struct tv_flow_row *row = &r->v[t->slots[at] - 1];
		if (!memcmp(&t->canon[t->slots[at] - 1], &canon, sizeof(canon)) && !strcmp(row->node, node)) {
			row->first_ns = f->ts_min < row->first_ns ? f->ts_min : row->first_ns;
			row->last_ns = f->ts_max > row->last_ns ? f->ts_max : row->last_ns;
			row->packets += f->packets;
			row->bytes += f->bytes;
			add_directions(row, f, v3);
			row->segments++;
			return 0;
		}
		at = (at + 1) & (t->nslots - 1);
	}
	struct tv_flow_row *row = &r->v[r->n];
	memset(row, 0, sizeof(*row));
	snprintf(row->node, sizeof(row->node), "%s", node);
	row->key = f->key;
	row->first_ns = f->ts_min;
	row->last_ns = f->ts_max;
	row->packets = f->packets;
	row->bytes = f->bytes;
	row->directions = true;
	add_directions(row, f, v3);
	row->segments = 1;
	t->canon[r->n] = canon;
	t->slots[at] = (uint32_t)++r->n;
	return 0;
}

int tv_flows_collect(struct tv_window *w, uint64_t from, uint64_t to, struct tv_flow_rows *out)
{
	memset(out, 0, sizeof(*out));
	struct table t = {0};
	int rc = 0;
	for (uint32_t i = 0; !rc && i < tv_window_segments(w); i++) {
		const struct tv_index *idx;
		tv_window_segment(w, i, &idx);
		for (uint32_t j = 0; !rc && j < idx->nflows; j++) {
			const struct tv_flow *f = &idx->flows[j];
			if (!f->packets || f->ts_max < from || f->ts_min >= to)
				continue;
			if (f->key.family == TV_FLOW_OTHER) {
				out->other_packets += f->packets;
				out->other_bytes += f->bytes;
				continue;
			}
			rc = add(out, &t, idx->node, f, idx->version >= 3);
		}
	}
	free(t.slots);
	free(t.canon);
	if (rc)
		tv_flow_rows_cleanup(out);
	return rc;
}

void tv_flow_rows_cleanup(struct tv_flow_rows *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

void tv_flow_addr_format(const struct tv_flow_key *k, int side, char *out, size_t n)
{
	const uint8_t *a = side ? k->dst : k->src;
	if (!inet_ntop(k->family == 6 ? AF_INET6 : AF_INET, a, out, (socklen_t)n))
		snprintf(out, n, "?");
}
