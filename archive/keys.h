/* SPDX-License-Identifier: Apache-2.0 */
/* keys: object keys, identical in the local buffer and the object store.
 *
 *   PREFIX/v1/nodes/NODE/YYYY/MM/DD/HH/STARTNS-SEQ.{pcapng.zst,idx,events.jsonl.zst}
 *
 * STARTNS is the segment's start in ns since the epoch, zero-padded to 19 digits,
 * SEQ the node's segment sequence number, zero-padded to 10, so that lexical
 * order is time order. The hour directories are those of STARTNS in UTC. */
#ifndef TV_KEYS_H
#define TV_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/index.h"

enum tv_obj_kind {
	TV_OBJ_DATA,
	TV_OBJ_INDEX,
	TV_OBJ_EVENTS
};

#define TV_KEY_SUFFIX_DATA ".pcapng.zst"
#define TV_KEY_SUFFIX_INDEX ".idx"
#define TV_KEY_SUFFIX_EVENTS ".events.jsonl.zst"
#define TV_SEGMENT_MAX_SPAN_NS (3600ULL * 1000000000ULL) /* see tv_key_window_prefixes */

struct tv_segment_key {
	char node[TV_NODE_MAX + 1];
	uint64_t start_ns;
	uint64_t seq;
	enum tv_obj_kind kind;
};

/* @return the suffix of an object kind (".idx", ...). */
const char *tv_key_suffix(enum tv_obj_kind kind);

/* Formats a segment object's key. prefix may be "" (no leading '/').
 * @return 0, or -ENAMETOOLONG when it does not fit in n. */
int tv_key_segment(char *out, size_t n, const char *prefix, const char *node, uint64_t start_ns, uint64_t seq,
		   enum tv_obj_kind kind);

/* The key prefix of all of a node's segments ("PREFIX/v1/nodes/NODE/"), or of
 * all nodes when node is NULL ("PREFIX/v1/nodes/"). */
int tv_key_node_prefix(char *out, size_t n, const char *prefix, const char *node);

/* The objects beside the segments (docs/FORMAT.md §8-9):
 *   PREFIX/v1/keys/NODE/KEYID.json          a node's public key
 *   PREFIX/v1/checkpoints/NODE/TIMENS.json  the uploader's signed checkpoints
 *   PREFIX/v1/settings.json                 the store's settings (retention horizon)
 * The *_prefix forms give "PREFIX/v1/keys/" (node NULL) or ".../NODE/". */
int tv_key_keys_prefix(char *out, size_t n, const char *prefix, const char *node);
int tv_key_pubkey(char *out, size_t n, const char *prefix, const char *node, const char *key_id_hex);
int tv_key_checkpoints_prefix(char *out, size_t n, const char *prefix, const char *node);
int tv_key_checkpoint(char *out, size_t n, const char *prefix, const char *node, uint64_t time_ns);
int tv_key_settings(char *out, size_t n, const char *prefix);

/* Writes name (a key or path of any segment object, or a stem) with its
 * object suffix replaced by `suffix` ("" gives the stem) into out.
 * @return 0 or -ENAMETOOLONG. */
int tv_key_sibling(const char *name, const char *suffix, char *out, size_t n);

/* Streams (docs/FORMAT.md §1): a node writing several segment streams at
 * once files stream 0 under its own name and stream K >= 1 under the path
 * element "NODE_sK". Kubernetes node names never hold '_', so the suffix is
 * unambiguous; each stream has its own sequence and hash chain, and readers
 * merge streams as they merge nodes.
 * Writes the name stream `stream` of node files under. @return 0 or -ENAMETOOLONG. */
int tv_node_stream_name(char *out, size_t n, const char *node, unsigned stream);
/* The node and stream of a segment's node element ("a_s2" -> "a", 2; "a" ->
 * "a", 0). base may be NULL. @return the stream. */
unsigned tv_node_stream_split(const char *name, char *base, size_t n);
/* @return true when name ends in what looks like a stream suffix ("_s" and
 * digits), which an agent's own node name may not. */
bool tv_node_has_stream_suffix(const char *name);

/* Parses a segment object key (with any prefix). @return 0 or -EINVAL. */
int tv_key_parse_segment(const char *key, struct tv_segment_key *out);

/* Calls fn with each hour prefix ("PREFIX/v1/nodes/NODE/YYYY/MM/DD/HH/") that
 * may hold segments with packets in [from, to). A segment is filed under the
 * hour it starts in and spans at most TV_SEGMENT_MAX_SPAN_NS, so the walk
 * starts that much before `from`. fn returning non-zero stops the walk. */
typedef int (*tv_key_prefix_fn)(void *ctx, const char *hour_prefix);
int tv_key_window_prefixes(const char *prefix, const char *node, uint64_t from, uint64_t to,
			   tv_key_prefix_fn fn, void *ctx);

#endif
