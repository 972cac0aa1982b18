/* SPDX-License-Identifier: Apache-2.0 */
/* publish: see publish.h. */
#include "archive/publish.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/keys.h"

int tv_segment_publish(struct tv_store *s, const char *prefix, const struct tv_index *idx,
		       const char *data_path, const char *events_path, uint8_t index_sha[TV_SHA256_LEN])
{
	char key[TV_KEY_MAX];
	int rc = tv_key_segment(key, sizeof(key), prefix, idx->node, idx->start_ns, idx->seq, TV_OBJ_DATA);
	if (!rc)
		rc = tv_store_put_file(s, key, data_path, 0);
	if (!rc && events_path) {
		tv_key_segment(key, sizeof(key), prefix, idx->node, idx->start_ns, idx->seq, TV_OBJ_EVENTS);
		rc = tv_store_put_file(s, key, events_path, 0);
	}
	if (rc)
		return rc == -ENAMETOOLONG ? tv_err(rc, "segment key too long") : rc;
	struct tv_buf enc;
	tv_buf_init(&enc, TV_INDEX_MAX_BYTES);
	rc = tv_index_encode(idx, &enc);
	if (rc) {
		tv_buf_cleanup(&enc);
		return tv_err(rc, "index of %s too large to encode", data_path);
	}
	tv_key_segment(key, sizeof(key), prefix, idx->node, idx->start_ns, idx->seq, TV_OBJ_INDEX);
	rc = tv_store_put(s, key, enc.data, enc.len, 0);
	if (!rc && index_sha)
		rc = tv_sha256(enc.data, enc.len, index_sha);
	tv_buf_cleanup(&enc);
	return rc;
}

static int keep_child(void *ctx, const char *child)
{
	char **last = ctx, *dup = strdup(child);
	if (!dup)
		return -ENOMEM;
	free(*last);
	*last = dup;
	return 0;
}

/* @return the last common prefix under p in *out, or NULL (caller frees). */
static int last_child(struct tv_store *s, const char *p, char **out)
{
	*out = NULL;
	return tv_store_each_child(s, p, keep_child, out);
}

struct last_index {
	char *key;
};

static int keep_last_index(void *ctx, const struct tv_store_entry *e)
{
	struct last_index *li = ctx;
	struct tv_segment_key k;
	if (tv_key_parse_segment(e->key, &k) == 0 && k.kind == TV_OBJ_INDEX) {
		char *dup = strdup(e->key);
		if (!dup)
			return -ENOMEM;
		free(li->key);
		li->key = dup;
	}
	return 0;
}

int tv_segment_chain_tail(struct tv_store *s, const char *prefix, const char *node, bool *found,
			  uint64_t *seq, uint64_t *start_ns, uint8_t sha[TV_SHA256_LEN])
{
	*found = false;
	char node_prefix[TV_KEY_MAX];
	if (tv_key_node_prefix(node_prefix, sizeof(node_prefix), prefix, node))
		return tv_err(-ENAMETOOLONG, "node prefix too long");
	/* Descend year/month/day/hour to the newest hour; the whole node is listed
	 * only if the newest hour holds no index (e.g. an upload in progress). */
	char *p = strdup(node_prefix);
	int rc = p ? 0 : -ENOMEM;
	for (int depth = 0; !rc && depth < 4 && p; depth++) {
		char *child;
		rc = last_child(s, p, &child);
		free(p);
		p = child;
	}
	struct last_index li = {NULL};
	if (!rc && p)
		rc = tv_store_each(s, p, keep_last_index, &li);
	if (!rc && !li.key)
		rc = tv_store_each(s, node_prefix, keep_last_index, &li);
	free(p);
	if (!rc && li.key) {
		struct tv_buf b;
		tv_buf_init(&b, TV_INDEX_MAX_BYTES);
		struct tv_segment_key k;
		tv_key_parse_segment(li.key, &k);
		rc = tv_store_get(s, li.key, &b);
		if (!rc)
			rc = tv_sha256(b.data, b.len, sha);
		if (!rc) {
			*found = true;
			*seq = k.seq;
			*start_ns = k.start_ns;
		}
		tv_buf_cleanup(&b);
	}
	free(li.key);
	return rc;
}
