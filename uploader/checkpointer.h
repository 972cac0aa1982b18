/* SPDX-License-Identifier: Apache-2.0 */
/* checkpointer: what the uploader adds to the store beside the segments so
 * that history cannot be cut unseen (docs/FORMAT.md §8-9):
 *   - the node keys' public halves the agent leaves in the buffer
 *     (v1/keys/NODE/KEYID.json), put once (create-if-absent);
 *   - at least every `interval` and at every clean stop, one signed
 *     checkpoint per node naming the newest segment the store holds, chained
 *     to the node's previous checkpoint (archive/checkpoint.h).
 * The node key is the agent's (the two containers share the file); while it
 * is not there yet, checkpoints wait and the reason is logged once. */
#ifndef TV_UPLOADER_CHECKPOINTER_H
#define TV_UPLOADER_CHECKPOINTER_H

#include <stdbool.h>
#include <stdint.h>

#include "archive/store/store.h"

struct tv_checkpointer;

/* S3 Object Lock on what the checkpointer puts (checkpoints, key objects):
 * with it, deleting them with the segments they name leaves their versions
 * (a delete only adds a marker), which `verify` reads. */
enum tv_lock_use {
	TV_LOCK_AUTO,    /* when the bucket has Object Lock */
	TV_LOCK_OFF,     /* never */
	TV_LOCK_REQUIRE, /* refuse to start on a store without it */
};
struct tv_lock_opts {
	enum tv_lock_use use;
	bool governance;       /* GOVERNANCE rather than COMPLIANCE retention */
	uint64_t retention_ns; /* each object undeletable this long after its put */
};

/* key_path: the node key (NULL or "": BUFFER/.keys/node.key). interval_ns 0:
 * no checkpoints. lock NULL: TV_LOCK_AUTO, COMPLIANCE, 30 days. */
int tv_checkpointer_new(struct tv_checkpointer **out, const char *buffer_dir, const char *key_path,
			uint64_t interval_ns, const struct tv_lock_opts *lock);
/* Asks the store whether it has Object Lock and decides, once, at start:
 * logs the choice. @return 0, or -ENOTSUP / the store's error under
 * TV_LOCK_REQUIRE when it cannot be had (the uploader refuses to start). */
int tv_checkpointer_probe(struct tv_checkpointer *c, struct tv_store *s);
/* Whether what it puts is under retention (for metrics). */
bool tv_checkpointer_locked(const struct tv_checkpointer *c);
void tv_checkpointer_free(struct tv_checkpointer *c);
/* Whether seq would be news for node (nothing newer is known): a cheap test
 * before tv_checkpointer_uploaded reads an index. */
bool tv_checkpointer_is_newer(struct tv_checkpointer *c, const char *node, uint64_t seq);
/* Segment stem reached the store (any thread). */
void tv_checkpointer_uploaded(struct tv_checkpointer *c, const char *stem);
/* Puts new key objects and, when due or when final (a clean stop), a
 * checkpoint per node (main thread; s is its own store handle).
 * @return 0, or the store's error of a put that failed (retried next tick). */
int tv_checkpointer_tick(struct tv_checkpointer *c, struct tv_store *s, uint64_t now_ns, bool final);
/* Checkpoints written (for metrics and tests). */
uint64_t tv_checkpointer_written(const struct tv_checkpointer *c);

#endif
