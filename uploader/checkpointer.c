/* SPDX-License-Identifier: Apache-2.0 */
/* checkpointer: see checkpointer.h. */
#include "uploader/checkpointer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/checkpoint.h"
#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/common/log.h"
#include "archive/common/timeutil.h"
#include "archive/keys.h"
#include "archive/sign.h"

#define MAX_NODES 256
#define MAX_KEYS 1024

struct node_state {
	char node[TV_NODE_MAX + 1];
	uint64_t seq, start_ns;
	uint8_t index_sha[TV_SHA256_LEN];
	bool have_segment;
	bool have_prev;                  /* prev_sha known (the store's newest checkpoint looked up) */
	uint8_t prev_sha[TV_SHA256_LEN]; /* of the node's newest checkpoint object */
	uint64_t last_time;              /* of the checkpoint written last */
};

struct tv_checkpointer {
	char *dir, *key_path;
	uint64_t interval_ns, last_tick;
	struct tv_lock_opts lock;
	bool locked; /* decided by tv_checkpointer_probe */
	struct tv_signer *signer;
	bool warned;
	pthread_mutex_t lock_mu; /* nodes: workers report, the main thread checkpoints */
	struct node_state nodes[MAX_NODES];
	size_t nnodes;
	char *published[MAX_KEYS]; /* key objects put already */
	size_t npublished;
	_Atomic uint64_t written;
};

#define DEFAULT_LOCK_RETENTION_NS (30ULL * 86400 * 1000000000ULL)

int tv_checkpointer_new(struct tv_checkpointer **out, const char *buffer_dir, const char *key_path,
			uint64_t interval_ns, const struct tv_lock_opts *lock)
{
	struct tv_checkpointer *c = calloc(1, sizeof(*c));
	char def[4096];
	snprintf(def, sizeof(def), "%s/.keys/node.key", buffer_dir);
	if (!c || !(c->dir = strdup(buffer_dir)) ||
	    !(c->key_path = strdup(key_path && key_path[0] ? key_path : def))) {
		tv_checkpointer_free(c);
		return tv_err(-ENOMEM, "out of memory");
	}
	c->interval_ns = interval_ns;
	c->lock = lock ? *lock : (struct tv_lock_opts){TV_LOCK_AUTO, false, DEFAULT_LOCK_RETENTION_NS};
	if (!c->lock.retention_ns)
		c->lock.retention_ns = DEFAULT_LOCK_RETENTION_NS;
	pthread_mutex_init(&c->lock_mu, NULL);
	*out = c;
	return 0;
}

void tv_checkpointer_free(struct tv_checkpointer *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->npublished; i++)
		free(c->published[i]);
	tv_signer_free(c->signer);
	free(c->dir);
	free(c->key_path);
	free(c);
}

int tv_checkpointer_probe(struct tv_checkpointer *c, struct tv_store *s)
{
	if (!c || c->lock.use == TV_LOCK_OFF)
		return 0;
	int rc = tv_store_object_lock(s);
	c->locked = rc == 1;
	if (c->locked) {
		tv_info("checkpoints and keys under Object Lock (%s, %.0f days)",
			c->lock.governance ? "GOVERNANCE" : "COMPLIANCE",
			(double)c->lock.retention_ns / 86400e9);
		return 0;
	}
	if (c->lock.use == TV_LOCK_REQUIRE)
		return rc < 0 ? tv_err(rc, "uploader.objectLock is require, but %s", tv_errmsg())
			      : tv_err(-ENOTSUP, "uploader.objectLock is require, but %s has no Object Lock",
				       s->url);
	if (rc < 0)
		tv_warn("cannot tell whether %s has Object Lock (%s): checkpoints are put without retention",
			s->url, tv_errmsg());
	else if (!strcmp(s->ops->scheme, "s3"))
		tv_warn("%s has no Object Lock: whoever can delete there can delete a node's newest segments "
			"together with the checkpoints that name them (docs/THREATS.md)",
			s->url);
	return 0;
}

bool tv_checkpointer_locked(const struct tv_checkpointer *c)
{
	return c && c->locked;
}

/* Checkpoints and key objects are written once and, where the bucket has
 * Object Lock, kept undeletable for the retention. */
static int put_meta(struct tv_checkpointer *c, struct tv_store *s, const char *key, const void *data,
		    size_t len)
{
	if (!c->locked)
		return tv_store_put(s, key, data, len, TV_PUT_CREATE_ONLY);
	struct tv_store_retention r = {!c->lock.governance, tv_now_ns() + c->lock.retention_ns};
	return tv_store_put_retained(s, key, data, len, TV_PUT_CREATE_ONLY, &r);
}

uint64_t tv_checkpointer_written(const struct tv_checkpointer *c)
{
	return c ? atomic_load(&c->written) : 0;
}

static struct node_state *node_of(struct tv_checkpointer *c, const char *node)
{
	for (size_t i = 0; i < c->nnodes; i++)
		if (!strcmp(c->nodes[i].node, node))
			return &c->nodes[i];
	if (c->nnodes == MAX_NODES)
		return NULL;
	struct node_state *n = &c->nodes[c->nnodes++];
	memset(n, 0, sizeof(*n));
	snprintf(n->node, sizeof(n->node), "%s", node);
	return n;
}

bool tv_checkpointer_is_newer(struct tv_checkpointer *c, const char *node, uint64_t seq)
{
	if (!c)
		return false;
	pthread_mutex_lock(&c->lock_mu);
	bool newer = true;
	for (size_t i = 0; i < c->nnodes; i++)
		if (!strcmp(c->nodes[i].node, node))
			newer = !c->nodes[i].have_segment || seq > c->nodes[i].seq;
	pthread_mutex_unlock(&c->lock_mu);
	return newer;
}

void tv_checkpointer_uploaded(struct tv_checkpointer *c, const char *stem)
{
	if (!c)
		return;
	char path[4096 + TV_KEY_MAX];
	snprintf(path, sizeof(path), "%s/%s%s", c->dir, stem, TV_KEY_SUFFIX_INDEX);
	struct tv_buf raw;
	tv_buf_init(&raw, TV_INDEX_MAX_BYTES);
	struct tv_index idx;
	uint8_t sha[TV_SHA256_LEN];
	/* gone already (the agent recycled it): the next segment names the chain */
	if (tv_read_file(path, &raw) || tv_index_decode(raw.data, raw.len, path, &idx)) {
		tv_buf_cleanup(&raw);
		return;
	}
	tv_sha256(raw.data, raw.len, sha);
	pthread_mutex_lock(&c->lock_mu);
	struct node_state *n = node_of(c, idx.node);
	if (n && (!n->have_segment || idx.seq > n->seq)) {
		n->seq = idx.seq;
		n->start_ns = idx.start_ns;
		memcpy(n->index_sha, sha, TV_SHA256_LEN);
		n->have_segment = true;
	}
	pthread_mutex_unlock(&c->lock_mu);
	tv_index_cleanup(&idx);
	tv_buf_cleanup(&raw);
}

/* ---- key objects ---- */

static bool published(struct tv_checkpointer *c, const char *key)
{
	for (size_t i = 0; i < c->npublished; i++)
		if (!strcmp(c->published[i], key))
			return true;
	return false;
}

struct key_walk {
	struct tv_checkpointer *c;
	struct tv_store *s;
	int rc;
};

static int put_key_object(void *ctx, const struct tv_store_entry *e)
{
	struct key_walk *kw = ctx;
	if (published(kw->c, e->key) || kw->c->npublished == MAX_KEYS)
		return 0;
	char path[4096 + TV_KEY_MAX];
	snprintf(path, sizeof(path), "%s/%s", kw->c->dir, e->key);
	struct tv_buf b;
	tv_buf_init(&b, 1 << 20); /* tv_read_file reads in 64 KiB steps */
	int rc = tv_read_file(path, &b);
	if (!rc)
		rc = put_meta(kw->c, kw->s, e->key, b.data, b.len);
	tv_buf_cleanup(&b);
	if (rc == -EEXIST)
		rc = 0; /* keys are never replaced */
	if (rc) {
		kw->rc = rc;
		return 0;
	}
	kw->c->published[kw->c->npublished++] = strdup(e->key);
	tv_info("published node key %s", e->key);
	return 0;
}

static int publish_keys(struct tv_checkpointer *c, struct tv_store *s)
{
	struct tv_store *buf;
	char prefix[TV_KEY_MAX];
	tv_key_keys_prefix(prefix, sizeof(prefix), "", NULL);
	int rc = tv_store_open(c->dir, 0, NULL, &buf);
	if (rc)
		return rc;
	struct key_walk kw = {c, s, 0};
	rc = tv_store_each(buf, prefix, put_key_object, &kw);
	tv_store_free(buf);
	return rc ? rc : kw.rc;
}

/* ---- checkpoints ---- */

/* The SHA-256 of the node's newest checkpoint in the store (zero: none). */
static int newest_checkpoint(struct tv_store *s, const char *node, uint8_t sha[TV_SHA256_LEN])
{
	char prefix[TV_KEY_MAX], newest[TV_KEY_MAX + 1] = "";
	tv_key_checkpoints_prefix(prefix, sizeof(prefix), "", node);
	memset(sha, 0, TV_SHA256_LEN);
	struct tv_store_list l;
	const char *after = NULL;
	char next[TV_KEY_MAX + 1] = "";
	int rc;
	do {
		if ((rc = tv_store_list(s, prefix, 0, after, 0, &l)))
			return rc;
		if (l.n)
			snprintf(newest, sizeof(newest), "%s", l.entries[l.n - 1].key);
		snprintf(next, sizeof(next), "%s", l.next ? l.next : "");
		after = l.next ? next : NULL;
		tv_store_list_cleanup(&l);
	} while (after);
	if (!newest[0])
		return 0;
	struct tv_buf b;
	tv_buf_init(&b, 1 << 20);
	rc = tv_store_get(s, newest, &b);
	if (!rc)
		tv_sha256(b.data, b.len, sha);
	tv_buf_cleanup(&b);
	return rc;
}

static int write_checkpoint(struct tv_checkpointer *c, struct tv_store *s, struct node_state *n, uint64_t now)
{
	if (!n->have_prev) {
		int rc = newest_checkpoint(s, n->node, n->prev_sha);
		if (rc)
			return rc;
		n->have_prev = true;
	}
	uint64_t t = now > n->last_time ? now : n->last_time + 1; /* keys stay unique */
	struct tv_checkpoint cp = {.seq = n->seq, .start_ns = n->start_ns, .time_ns = t};
	snprintf(cp.node, sizeof(cp.node), "%s", n->node);
	memcpy(cp.index_sha, n->index_sha, TV_SHA256_LEN);
	memcpy(cp.prev_sha, n->prev_sha, TV_SHA256_LEN);
	struct tv_buf b;
	tv_buf_init(&b, 4096);
	char key[TV_KEY_MAX];
	int rc = tv_checkpoint_encode_signed(&cp, c->signer, &b);
	if (!rc)
		rc = tv_key_checkpoint(key, sizeof(key), "", n->node, t);
	if (!rc)
		rc = put_meta(c, s, key, b.data, b.len);
	if (!rc) {
		tv_sha256(b.data, b.len, n->prev_sha);
		n->last_time = t;
		atomic_fetch_add(&c->written, 1);
		tv_debug("checkpoint %s: seq %llu", key, (unsigned long long)n->seq);
	}
	tv_buf_cleanup(&b);
	return rc;
}

static bool have_key(struct tv_checkpointer *c)
{
	if (c->signer)
		return true;
	int rc = tv_signer_load(c->key_path, false, &c->signer, NULL);
	if (rc && !c->warned) {
		tv_warn("no checkpoints until the node key is there: %s", tv_errmsg());
		c->warned = true;
	}
	return rc == 0;
}

int tv_checkpointer_tick(struct tv_checkpointer *c, struct tv_store *s, uint64_t now_ns, bool final)
{
	if (!c)
		return 0;
	int rc = publish_keys(c, s);
	if (!c->interval_ns || (!final && c->last_tick && now_ns - c->last_tick < c->interval_ns))
		return rc;
	if (!have_key(c))
		return rc;
	c->last_tick = now_ns;
	pthread_mutex_lock(&c->lock_mu);
	size_t n = c->nnodes;
	struct node_state copy[MAX_NODES];
	memcpy(copy, c->nodes, n * sizeof(copy[0]));
	pthread_mutex_unlock(&c->lock_mu);
	for (size_t i = 0; i < n; i++) {
		if (!copy[i].have_segment)
			continue;
		int w = write_checkpoint(c, s, &copy[i], now_ns);
		if (w && !rc)
			rc = w;
	}
	/* keep what was learnt (prev hash, time), but not over a newer segment */
	pthread_mutex_lock(&c->lock_mu);
	for (size_t i = 0; i < n; i++) {
		c->nodes[i].have_prev = copy[i].have_prev;
		memcpy(c->nodes[i].prev_sha, copy[i].prev_sha, TV_SHA256_LEN);
		c->nodes[i].last_time = copy[i].last_time;
	}
	pthread_mutex_unlock(&c->lock_mu);
	return rc;
}
