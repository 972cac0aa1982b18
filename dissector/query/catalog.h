/* SPDX-License-Identifier: Apache-2.0 */
/* catalog: what a store holds, by key alone: its nodes and the index keys
 * of a node's segments (all of them, or those a time window can touch). */
#ifndef TV_CATALOG_H
#define TV_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "archive/store/store.h"

/* Calls fn(ctx, node) for every node under PREFIX/v1/nodes/. fn returning
 * non-zero stops the walk and is returned. */
int tv_catalog_nodes(struct tv_store *s, const char *prefix, int (*fn)(void *ctx, const char *node),
		     void *ctx);

/* Calls fn for each of nodes[0..n) or, when nodes is NULL, for every node
 * of the store. fn returning non-zero stops the walk and is returned. */
int tv_catalog_each_node(struct tv_store *s, const char *prefix, const char *const *nodes, size_t n,
			 int (*fn)(void *ctx, const char *node), void *ctx);

/* Calls fn(ctx, index_key) for the node's segment indexes, in key (= time)
 * order: all of them when from == 0 and to == UINT64_MAX, else those under the
 * hour prefixes that can hold packets of [from, to). */
int tv_catalog_indexes(struct tv_store *s, const char *prefix, const char *node, uint64_t from, uint64_t to,
		       int (*fn)(void *ctx, const char *index_key), void *ctx);

#include "archive/index.h"

/* GETs and decodes an index object; sha (may be NULL) gets its SHA-256 and
 * *size (may be NULL) its length. @return 0 or negative errno (message set). */
int tv_catalog_load_index(struct tv_store *s, const char *key, struct tv_index *idx, uint8_t *sha,
			  uint64_t *size);

#endif
