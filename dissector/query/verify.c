/* SPDX-License-Identifier: Apache-2.0 */
/* verify: see verify.h. */
#include "dissector/query/verify.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/checkpoint.h"
#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/common/sha256.h"
#include "archive/common/timeutil.h"
#include "archive/keys.h"
#include "archive/sign.h"
#include "dissector/query/catalog.h"
#include "dissector/query/snapshot.h"

#define VERIFY_CHUNK ((uint64_t)8 << 20)

#define GAP_SLACK_NS 1000000000ULL                  /* live segments tile time; a second of slack */
#define HORIZON_SLACK_NS (86400ULL * TV_NS_PER_SEC) /* lifecycle rules run about daily */

/* A segment seen on the walk: what checkpoints are checked against. */
struct seen {
	uint64_t seq;
	uint8_t sha[TV_SHA256_LEN];
};

struct verify {
	struct tv_store *s;
	const struct tv_verify_opts *o;
	const char *prefix;
	struct tv_verify_result *r;
	int fatal;
	/* trust */
	struct tv_pubkey *keys; /* pinned (a copy) or the store's */
	size_t nkeys;
	uint64_t retention_ns, now_ns;
	/* per node */
	bool no_chain; /* snapshots: re-packed segments keep only the manifest's links */
	bool have_prev, first_done;
	uint64_t prev_seq, prev_end;
	bool prev_live, prev_signed;
	uint8_t prev_sha[TV_SHA256_LEN], prev_key_id[TV_SHA256_LEN];
	char prev_key[TV_KEY_MAX];
	uint64_t first_seq, first_start;
	struct seen *seen;
	size_t nseen, seen_cap;
};

static void problem(struct verify *v, enum tv_verify_class c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void problem(struct verify *v, enum tv_verify_class c, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->r->problems++;
	v->r->by_class[c]++;
	if (v->o->problem)
		v->o->problem(v->o->ctx, c, msg);
}

static void note(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct verify *v, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (v->o->note)
		v->o->note(v->o->ctx, msg);
}

const char *tv_verify_class_name(enum tv_verify_class c)
{
	static const char *const names[TV_VERIFY_NCLASSES] = {"DAMAGED", "SIGNATURE", "MOVED", "CUT", "GAP"};
	return c < TV_VERIFY_NCLASSES ? names[c] : "?";
}

static const char *short_id(const uint8_t *id, char out[17])
{
	char hex[TV_SHA256_HEX_LEN];
	tv_hex(id, TV_SHA256_LEN, hex);
	snprintf(out, 17, "%.16s", hex);
	return out;
}

static const struct tv_pubkey *find_key(const struct verify *v, const uint8_t *id)
{
	for (size_t i = 0; i < v->nkeys; i++)
		if (!memcmp(v->keys[i].key_id, id, TV_SHA256_LEN))
			return &v->keys[i];
	return NULL;
}

/* A node's key signs its segments of every stream (keys.h): does key k
 * belong to the node that `name` (a node or one of its streams) is? */
static bool key_of(const struct tv_pubkey *k, const char *name)
{
	char base[TV_NODE_MAX + 1];
	tv_node_stream_split(name, base, sizeof(base));
	return !strcmp(k->node, name) || !strcmp(k->node, base);
}

static bool node_has_keys(const struct verify *v, const char *node, uint64_t at)
{
	for (size_t i = 0; i < v->nkeys; i++)
		if (key_of(&v->keys[i], node) && v->keys[i].not_before_ns <= at)
			return true;
	return false;
}

static bool zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Remembers the first error that stops the check (its message is kept). */
static void fatal(struct verify *v, int rc)
{
	if (!v->fatal) {
		v->fatal = rc;
		snprintf(v->r->fatal_msg, sizeof(v->r->fatal_msg), "%s", tv_errmsg());
	}
}

/* Hashes an object with ranged reads. @return 0, -ENOENT, TV_ETRUNC or an I/O error. */
static int hash_object(struct tv_store *s, const char *key, uint8_t sha[TV_SHA256_LEN], uint64_t *size)
{
	struct tv_store_entry e;
	int rc = tv_store_head(s, key, &e);
	if (rc)
		return rc;
	*size = e.size;
	struct tv_sha256 h;
	if ((rc = tv_sha256_init(&h)))
		return rc;
	struct tv_buf b;
	tv_buf_init(&b, VERIFY_CHUNK);
	for (uint64_t off = 0; !rc && off < e.size; off += VERIFY_CHUNK) {
		uint64_t n = e.size - off < VERIFY_CHUNK ? e.size - off : VERIFY_CHUNK;
		rc = tv_store_get_range(s, key, off, n, &b);
		if (!rc)
			tv_sha256_update(&h, b.data, b.len);
	}
	tv_buf_cleanup(&b);
	if (rc) {
		tv_sha256_cleanup(&h);
		return rc;
	}
	tv_sha256_final(&h, sha);
	return 0;
}

static void check_object(struct verify *v, const char *index_key, const char *suffix, uint64_t want_size,
			 const uint8_t *want_sha)
{
	char key[TV_KEY_MAX + 32];
	tv_key_sibling(index_key, suffix, key, sizeof(key));
	uint8_t sha[TV_SHA256_LEN];
	uint64_t size = 0;
	int rc = hash_object(v->s, key, sha, &size);
	v->r->objects++;
	v->r->bytes += size;
	tv_report_progress(v->o->report, v->r->segments, 0, v->r->bytes);
	if (rc == -ENOENT) {
		problem(v, TV_VERIFY_DAMAGED, "%s: missing (the index lists it)", key);
	} else if (rc) {
		fatal(v, rc);
	} else if (size < want_size) {
		problem(v, TV_VERIFY_DAMAGED, "%s: truncated: %" PRIu64 " bytes, index says %" PRIu64, key,
			size, want_size);
	} else if (size != want_size) {
		problem(v, TV_VERIFY_DAMAGED, "%s: %" PRIu64 " bytes, index says %" PRIu64 " (altered)", key,
			size, want_size);
	} else if (memcmp(sha, want_sha, TV_SHA256_LEN) != 0) {
		problem(v, TV_VERIFY_DAMAGED, "%s: SHA-256 differs from the index (altered)", key);
	}
}

/* The index object raw (for its signature), decoded, and its SHA-256. */
static int load_index(struct verify *v, const char *key, struct tv_buf *raw, struct tv_index *idx,
		      uint8_t sha[TV_SHA256_LEN])
{
	int rc = tv_store_get(v->s, key, raw);
	if (!rc)
		rc = tv_index_decode(raw->data, raw->len, key, idx);
	if (!rc)
		tv_sha256(raw->data, raw->len, sha);
	return rc;
}

/* The index says what key it must sit under: a segment replayed under a new
 * name, or copied to another node's prefix, says otherwise. */
static void check_name(struct verify *v, const char *key, const struct tv_index *idx)
{
	struct tv_segment_key k;
	if (tv_key_parse_segment(key, &k) == 0 &&
	    (strcmp(k.node, idx->node) || k.seq != idx->seq || k.start_ns != idx->start_ns))
		problem(v, TV_VERIFY_MOVED,
			"%s: its index is node %s's segment %" PRIu64 " starting at %" PRIu64
			" (replayed or moved under this name)",
			key, idx->node, idx->seq, idx->start_ns);
}

static void check_signature(struct verify *v, const char *key, const struct tv_buf *raw,
			    const struct tv_index *idx)
{
	char id[17];
	if (!(idx->flags & TV_INDEX_SIGNED)) {
		v->r->unsigned_segments++;
		if (v->o->require_signatures || node_has_keys(v, idx->node, idx->start_ns))
			problem(v, TV_VERIFY_SIGNATURE, "%s: unsigned, but node %s signs its segments", key,
				idx->node);
		return;
	}
	v->r->signed_segments++;
	const struct tv_pubkey *k = find_key(v, idx->key_id);
	if (!k)
		problem(v, TV_VERIFY_SIGNATURE, "%s: signed by unknown key %s%s", key,
			short_id(idx->key_id, id), v->r->keys_pinned ? " (not among the pinned keys)" : "");
	else if (!key_of(k, idx->node))
		problem(v, TV_VERIFY_SIGNATURE, "%s: signed by key %s of node %s, not of node %s", key,
			short_id(idx->key_id, id), k->node, idx->node);
	else if (k->revoked_ns && idx->start_ns >= k->revoked_ns)
		problem(v, TV_VERIFY_SIGNATURE, "%s: signed by key %s, revoked at %" PRIu64, key,
			short_id(idx->key_id, id), k->revoked_ns);
	else if (!tv_index_signature_ok(raw->data, raw->len, idx, k->pub))
		problem(v, TV_VERIFY_SIGNATURE, "%s: bad signature (key %s): the index was rewritten", key,
			short_id(idx->key_id, id));
}

/* Where a chain starts: at its genesis, or where the retention horizon has
 * taken its older segments. */
static void check_start(struct verify *v, const char *key, const struct tv_index *idx)
{
	if (idx->seq == 0 && zero(idx->prev_sha, TV_SHA256_LEN))
		return;
	if (v->retention_ns && idx->start_ns + v->retention_ns <= v->now_ns + HORIZON_SLACK_NS) {
		note(v,
		     "%s: node %s's chain starts at seq %" PRIu64
		     ": older segments are past the retention horizon",
		     key, idx->node, idx->seq);
		return;
	}
	problem(v, TV_VERIFY_CUT,
		"%s: node %s's history starts at seq %" PRIu64 ", not at its genesis: "
		"the segments before it are missing%s",
		key, idx->node, idx->seq, v->retention_ns ? " and younger than the retention horizon" : "");
}

static int remember(struct verify *v, uint64_t seq, const uint8_t *sha)
{
	if (v->nseen == v->seen_cap) {
		size_t cap = v->seen_cap ? v->seen_cap * 2 : 256;
		struct seen *p = realloc(v->seen, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		v->seen = p;
		v->seen_cap = cap;
	}
	v->seen[v->nseen].seq = seq;
	memcpy(v->seen[v->nseen].sha, sha, TV_SHA256_LEN);
	v->nseen++;
	return 0;
}

static void check_link(struct verify *v, const char *key, const struct tv_index *idx)
{
	char a[17], b[17];
	if (idx->seq > v->prev_seq + 1) {
		problem(v, TV_VERIFY_DAMAGED,
			"%s: segments %" PRIu64 "..%" PRIu64 " of node %s are missing (after %s)", key,
			v->prev_seq + 1, idx->seq - 1, idx->node, v->prev_key);
		return;
	}
	if (idx->seq != v->prev_seq + 1)
		return;
	if (memcmp(idx->prev_sha, v->prev_sha, TV_SHA256_LEN) != 0) {
		problem(v, TV_VERIFY_DAMAGED,
			"%s: hash chain broken: the previous index %s was altered or replaced", key,
			v->prev_key);
		return;
	}
	if ((idx->flags & TV_INDEX_SIGNED) && v->prev_signed) {
		if (memcmp(idx->prev_key_id, v->prev_key_id, TV_SHA256_LEN))
			problem(v, TV_VERIFY_SIGNATURE,
				"%s: names key %s as its predecessor's, which was signed by %s", key,
				short_id(idx->prev_key_id, a), short_id(v->prev_key_id, b));
		else if (memcmp(idx->key_id, v->prev_key_id, TV_SHA256_LEN)) {
			v->r->rotations++;
			note(v, "%s: node %s rotated its key from %s to %s", key, idx->node,
			     short_id(v->prev_key_id, a), short_id(idx->key_id, b));
		}
	}
	if (v->prev_live && (idx->flags & TV_INDEX_LIVE) && idx->start_ns > v->prev_end + GAP_SLACK_NS)
		problem(v, TV_VERIFY_GAP,
			"%s: node %s has no segment for %.1f s before it (from %" PRIu64
			"): the agent was down or "
			"its segments are gone",
			key, idx->node, (double)(idx->start_ns - v->prev_end) / 1e9, v->prev_end);
}

/* A snapshot's re-packed segment against its source's signed index
 * (evidence/KEY): the source signed by its node, and every frame kept one of
 * the source's (by SHA-256). */
static void check_evidence(struct verify *v, const char *key, const struct tv_index *fresh)
{
	char ekey[TV_KEY_MAX + 16];
	snprintf(ekey, sizeof(ekey), "%s%s", TV_SNAPSHOT_EVIDENCE, key);
	struct tv_buf raw;
	tv_buf_init(&raw, TV_INDEX_MAX_BYTES);
	struct tv_index orig;
	uint8_t sha[TV_SHA256_LEN];
	int rc = load_index(v, ekey, &raw, &orig, sha);
	if (rc) {
		if (rc == -ENOENT && !node_has_keys(v, fresh->node, fresh->start_ns) &&
		    !v->o->require_signatures)
			v->r->unsigned_segments++;
		else
			problem(v, TV_VERIFY_SIGNATURE, "%s: %s", key,
				rc == -ENOENT ? "the snapshot lacks its source's signed index" : tv_errmsg());
		tv_buf_cleanup(&raw);
		return;
	}
	check_name(v, key, &orig);
	check_signature(v, ekey, &raw, &orig);
	for (uint32_t i = 0; orig.version >= 2 && i < fresh->nframes; i++) {
		bool found = false;
		for (uint32_t k = 0; !found && k < orig.nframes; k++)
			found = !memcmp(orig.frames[k].sha, fresh->frames[i].sha, TV_SHA256_LEN);
		if (!found)
			problem(v, TV_VERIFY_DAMAGED, "%s: frame %u is not one of the source's signed frames",
				key, i);
	}
	tv_index_cleanup(&orig);
	tv_buf_cleanup(&raw);
}

static int on_index(void *ctx, const char *key)
{
	struct verify *v = ctx;
	struct tv_index idx;
	uint8_t sha[TV_SHA256_LEN];
	v->r->segments++;
	v->r->objects++;
	struct tv_buf raw;
	tv_buf_init(&raw, TV_INDEX_MAX_BYTES);
	int rc = load_index(v, key, &raw, &idx, sha);
	if (rc == -ENOMEM || (rc < 0 && rc != TV_ECORRUPT && rc != TV_ETRUNC && rc != TV_EVERSION)) {
		tv_buf_cleanup(&raw);
		fatal(v, rc);
		return 0;
	}
	if (rc) {
		tv_buf_cleanup(&raw);
		problem(v, TV_VERIFY_DAMAGED, "%s", tv_errmsg());
		v->have_prev = false; /* the chain cannot be followed through it */
		v->first_done = true;
		return 0;
	}
	bool windowed = v->o->from || v->o->to != UINT64_MAX;
	if (windowed && !(idx.packets && idx.ts_max >= v->o->from && idx.ts_min < v->o->to)) {
		tv_index_cleanup(&idx);
		tv_buf_cleanup(&raw);
		v->r->segments--;
		v->r->objects--;
		return 0;
	}
	check_object(v, key, TV_KEY_SUFFIX_DATA, idx.data_size, idx.data_sha);
	if (idx.events_size)
		check_object(v, key, TV_KEY_SUFFIX_EVENTS, idx.events_size, idx.events_sha);
	if (v->no_chain)
		check_evidence(v, key, &idx);
	if (!v->no_chain) {
		check_name(v, key, &idx);
		check_signature(v, key, &raw, &idx);
		if (!v->first_done && !windowed)
			check_start(v, key, &idx);
		if (v->have_prev)
			check_link(v, key, &idx);
	}
	if (!v->first_done) {
		v->first_seq = idx.seq;
		v->first_start = idx.start_ns;
	}
	v->first_done = true;
	if (remember(v, idx.seq, sha))
		fatal(v, tv_err(-ENOMEM, "out of memory"));
	v->have_prev = true;
	v->prev_seq = idx.seq;
	v->prev_end = idx.end_ns;
	v->prev_live = idx.flags & TV_INDEX_LIVE;
	v->prev_signed = idx.flags & TV_INDEX_SIGNED;
	memcpy(v->prev_key_id, idx.key_id, TV_SHA256_LEN);
	memcpy(v->prev_sha, sha, TV_SHA256_LEN);
	snprintf(v->prev_key, sizeof(v->prev_key), "%s", key);
	tv_index_cleanup(&idx);
	tv_buf_cleanup(&raw);
	return 0;
}

/* Data objects whose index is absent: incomplete segments. */
static int on_any(void *ctx, const struct tv_store_entry *e)
{
	struct verify *v = ctx;
	struct tv_segment_key k;
	if (tv_key_parse_segment(e->key, &k) || k.kind != TV_OBJ_DATA)
		return 0;
	if (v->o->from || v->o->to != UINT64_MAX) {
		if (k.start_ns >= v->o->to || k.start_ns + TV_SEGMENT_MAX_SPAN_NS < v->o->from)
			return 0;
	}
	char idx[TV_KEY_MAX + 32];
	tv_key_sibling(e->key, TV_KEY_SUFFIX_INDEX, idx, sizeof(idx));
	struct tv_store_entry x;
	int rc = tv_store_head(v->s, idx, &x);
	if (rc == -ENOENT)
		problem(v, TV_VERIFY_DAMAGED, "%s: incomplete segment (no index)", e->key);
	else if (rc)
		fatal(v, rc);
	return 0;
}

/* ---- checkpoints ---- */

struct cp_walk {
	struct verify *v;
	const char *node;
	bool have_prev;
	uint8_t prev_sha[TV_SHA256_LEN];
	char prev_key[TV_KEY_MAX];
	struct tv_checkpoint newest;
	char newest_key[TV_KEY_MAX];
	bool have_newest;
};

static const struct seen *seen_seq(const struct verify *v, uint64_t seq)
{
	for (size_t i = 0; i < v->nseen; i++)
		if (v->seen[i].seq == seq)
			return &v->seen[i];
	return NULL;
}

static void check_checkpoint_key(struct verify *v, const char *key, const struct tv_checkpoint *c)
{
	char id[17];
	const struct tv_pubkey *k = find_key(v, c->key_id);
	if (!k || !key_of(k, c->node))
		problem(v, TV_VERIFY_SIGNATURE, "%s: checkpoint signed by %s key %s", key,
			k ? "another node's" : "unknown", short_id(c->key_id, id));
	else if (!tv_checkpoint_signature_ok(c, k->pub))
		problem(v, TV_VERIFY_SIGNATURE, "%s: bad checkpoint signature (key %s)", key,
			short_id(c->key_id, id));
}

/* One checkpoint object's bytes (b), as stored under key. */
static void check_one_checkpoint(struct cp_walk *w, const char *key, const struct tv_buf *b)
{
	struct verify *v = w->v;
	struct tv_checkpoint c;
	v->r->checkpoints++;
	v->r->objects++;
	if (tv_checkpoint_decode(b->data, b->len, key, &c) || strcmp(c.node, w->node)) {
		problem(v, TV_VERIFY_DAMAGED, "%s: not a checkpoint of node %s", key, w->node);
		w->have_prev = false;
		return;
	}
	check_checkpoint_key(v, key, &c);
	/* the checkpoints' own chain: a deleted one leaves the next naming it */
	if (w->have_prev && memcmp(c.prev_sha, w->prev_sha, TV_SHA256_LEN))
		problem(v, TV_VERIFY_CUT, "%s: the checkpoint before it is not %s: checkpoints were deleted",
			key, w->prev_key);
	const struct seen *s = seen_seq(v, c.seq);
	if (s && memcmp(s->sha, c.index_sha, TV_SHA256_LEN))
		problem(v, TV_VERIFY_CUT,
			"%s: names node %s's segment %" PRIu64 " with another index: it was replaced", key,
			c.node, c.seq);
	tv_sha256(b->data, b->len, w->prev_sha);
	snprintf(w->prev_key, sizeof(w->prev_key), "%s", key);
	w->have_prev = true;
	w->newest = c;
	snprintf(w->newest_key, sizeof(w->newest_key), "%s", key);
	w->have_newest = true;
}

static int on_checkpoint(void *ctx, const struct tv_store_entry *e)
{
	struct cp_walk *w = ctx;
	struct tv_buf b;
	tv_buf_init(&b, 1 << 20);
	int rc = tv_store_get(w->v->s, e->key, &b);
	if (rc)
		fatal(w->v, rc);
	else
		check_one_checkpoint(w, e->key, &b);
	tv_buf_cleanup(&b);
	return 0;
}

/* A versioned bucket (Object Lock implies it) keeps what a delete or an
 * overwrite seemed to remove: a delete adds a marker over the version, a put
 * adds a newer version. Each checkpoint key's versions are gathered (newest
 * first), then its original, oldest version is what is checked. */
struct cp_versions {
	struct cp_walk *w;
	char key[TV_KEY_MAX];
	char original[256], newest[256]; /* version ids of the oldest and newest real versions */
	size_t nreal, nkeys;
	bool hidden; /* its newest version is a delete marker */
};

static bool same_version_bytes(struct verify *v, const char *key, const char *a, const struct tv_buf *orig)
{
	struct tv_buf b;
	tv_buf_init(&b, 1 << 20);
	bool same = tv_store_get_version(v->s, key, a, &b) == 0 && b.len == orig->len &&
		    !memcmp(b.data, orig->data, b.len);
	tv_buf_cleanup(&b);
	return same;
}

static void flush_versions(struct cp_versions *cv)
{
	struct verify *v = cv->w->v;
	if (!cv->key[0])
		return;
	if (!cv->nreal) {
		problem(v, TV_VERIFY_CUT, "%s: checkpoint deleted; only its delete marker is left", cv->key);
		cv->w->have_prev = false;
		return;
	}
	struct tv_buf b;
	tv_buf_init(&b, 1 << 20);
	int rc = tv_store_get_version(v->s, cv->key, cv->original, &b);
	if (rc) {
		fatal(v, rc);
	} else {
		if (cv->hidden)
			problem(v, TV_VERIFY_CUT,
				"%s: checkpoint deleted: a delete marker hides it; its retained version %s "
				"is "
				"checked",
				cv->key, cv->original);
		if (cv->nreal > 1 && !same_version_bytes(v, cv->key, cv->newest, &b))
			problem(v, TV_VERIFY_CUT,
				"%s: checkpoint overwritten; its original version %s is checked", cv->key,
				cv->original);
		check_one_checkpoint(cv->w, cv->key, &b);
	}
	tv_buf_cleanup(&b);
}

static int on_version(void *ctx, const struct tv_store_version *ver)
{
	struct cp_versions *cv = ctx;
	if (strcmp(ver->key, cv->key)) {
		flush_versions(cv);
		snprintf(cv->key, sizeof(cv->key), "%s", ver->key);
		cv->nreal = 0;
		cv->nkeys++;
		cv->hidden = ver->delete_marker; /* the first listed is the newest */
	}
	if (!ver->delete_marker) {
		if (!cv->nreal++)
			snprintf(cv->newest, sizeof(cv->newest), "%s", ver->version_id);
		snprintf(cv->original, sizeof(cv->original), "%s", ver->version_id);
	}
	return cv->w->v->fatal ? cv->w->v->fatal : 0;
}

/* Walks a node's checkpoints through their versions where the store keeps
 * them, else through the listing. */
static int walk_checkpoints(struct cp_walk *w, const char *prefix)
{
	struct cp_versions cv = {.w = w};
	int rc = tv_store_each_version(w->v->s, prefix, on_version, &cv);
	if (!rc) {
		flush_versions(&cv);
		return 0;
	}
	if (rc == w->v->fatal || cv.nkeys)
		return rc;
	if (rc != -ENOTSUP)
		note(w->v, "%s: cannot list versions (%s): checkpoints hidden by delete markers are not seen",
		     prefix, tv_errmsg());
	return tv_store_each(w->v->s, prefix, on_checkpoint, w);
}

/* Every segment a checkpoint names is still there: deleting a node's latest
 * segments leaves the checkpoint that named them. */
static int check_checkpoints(struct verify *v, const char *node)
{
	char prefix[TV_KEY_MAX];
	if (tv_key_checkpoints_prefix(prefix, sizeof(prefix), v->prefix, node))
		return 0;
	struct cp_walk w = {.v = v, .node = node};
	int rc = walk_checkpoints(&w, prefix);
	if (rc || !w.have_newest)
		return rc;
	uint64_t last = 0;
	for (size_t i = 0; i < v->nseen; i++)
		last = v->seen[i].seq > last ? v->seen[i].seq : last;
	if (!v->nseen || w.newest.seq > last)
		problem(v, TV_VERIFY_CUT,
			"node %s: segments %" PRIu64 "..%" PRIu64
			" are missing: checkpoint %s names seq %" PRIu64,
			node, v->nseen ? last + 1 : 0, w.newest.seq, w.newest_key, w.newest.seq);
	return 0;
}

static void reset_node(struct verify *v)
{
	v->have_prev = v->first_done = false;
	v->nseen = 0;
}

static int on_node(void *ctx, const char *node)
{
	struct verify *v = ctx;
	reset_node(v);
	int rc = tv_catalog_indexes(v->s, v->prefix, node, v->o->from, v->o->to, on_index, v);
	char p[TV_KEY_MAX];
	if (!rc && !tv_key_node_prefix(p, sizeof(p), v->prefix, node))
		rc = tv_store_each(v->s, p, on_any, v);
	if (!rc && !v->no_chain && !v->o->from && v->o->to == UINT64_MAX)
		rc = check_checkpoints(v, node);
	return rc;
}

/* ---- what the store says of itself: keys and settings ---- */

static int on_key_object(void *ctx, const struct tv_store_entry *e)
{
	struct verify *v = ctx;
	struct tv_buf b;
	tv_buf_init(&b, 1 << 16);
	struct tv_pubkey k;
	int rc = tv_store_get(v->s, e->key, &b);
	if (!rc && tv_pubkey_decode(b.data, b.len, e->key, &k) == 0) {
		struct tv_pubkey *p = realloc(v->keys, (v->nkeys + 1) * sizeof(*p));
		if (p) {
			v->keys = p;
			v->keys[v->nkeys++] = k;
		}
	} else if (!rc) {
		problem(v, TV_VERIFY_SIGNATURE, "%s: not a key object", e->key);
	}
	tv_buf_cleanup(&b);
	return 0;
}

static int load_trust(struct verify *v)
{
	if (v->o->keys) {
		v->r->keys_pinned = true;
		if (!(v->keys = calloc(v->o->nkeys ? v->o->nkeys : 1, sizeof(*v->keys))))
			return tv_err(-ENOMEM, "out of memory");
		memcpy(v->keys, v->o->keys, v->o->nkeys * sizeof(*v->keys));
		v->nkeys = v->o->nkeys;
		return 0;
	}
	char prefix[TV_KEY_MAX];
	if (tv_key_keys_prefix(prefix, sizeof(prefix), v->prefix, NULL))
		return tv_err(-ENAMETOOLONG, "prefix too long");
	return tv_store_each(v->s, prefix, on_key_object, v);
}

/* PREFIX/v1/settings.json: {"retention_ns": N} (the lifecycle horizon). */
static int load_settings(struct verify *v)
{
	v->retention_ns = v->o->retention_ns;
	if (v->retention_ns)
		return 0;
	char key[TV_KEY_MAX];
	if (tv_key_settings(key, sizeof(key), v->prefix))
		return 0;
	struct tv_buf b;
	tv_buf_init(&b, 1 << 16);
	int rc = tv_store_get(v->s, key, &b);
	if (!rc) {
		json_t *j = json_loadb((const char *)b.data, b.len, 0, NULL);
		json_t *r = json_object_get(j, "retention_ns");
		if (json_is_integer(r) && json_integer_value(r) > 0)
			v->retention_ns = (uint64_t)json_integer_value(r);
		json_decref(j);
	}
	tv_buf_cleanup(&b);
	return rc == -ENOENT ? 0 : rc;
}

/* Every tar member against manifest.json: digest, size, nothing missing or extra. */
static int check_members(struct verify *v, const char *tar, const char *name)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, tar, 1 << 16) != ARCHIVE_OK) {
		problem(v, TV_VERIFY_DAMAGED, "snapshot %s: not a readable tar (%s)", name,
			archive_error_string(a));
		archive_read_free(a);
		return 0;
	}
	json_t *seen = json_object(), *manifest = NULL;
	struct archive_entry *e;
	struct tv_buf b;
	tv_buf_init(&b, (size_t)1 << 34);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		la_int64_t size = archive_entry_size(e);
		tv_buf_reset(&b);
		if (size < 0 || tv_buf_reserve(&b, (size_t)size) ||
		    archive_read_data(a, b.data, (size_t)size) != size) {
			problem(v, TV_VERIFY_DAMAGED, "snapshot %s: member %s truncated", name,
				archive_entry_pathname(e));
			break;
		}
		b.len = (size_t)size;
		const char *path = archive_entry_pathname(e);
		if (!strcmp(path, "manifest.json")) {
			manifest = json_loadb((const char *)b.data, b.len, 0, NULL);
			continue;
		}
		uint8_t sha[TV_SHA256_LEN];
		char hex[TV_SHA256_HEX_LEN];
		tv_sha256(b.data, b.len, sha);
		tv_hex(sha, TV_SHA256_LEN, hex);
		json_object_set_new(seen, path,
				    json_pack("{s:s,s:I}", "sha256", hex, "size", (json_int_t)b.len));
		v->r->objects++;
	}
	tv_buf_cleanup(&b);
	archive_read_free(a);
	if (!manifest) {
		problem(v, TV_VERIFY_DAMAGED, "snapshot %s: manifest.json missing or not JSON", name);
	} else {
		size_t i;
		json_t *m;
		json_array_foreach (json_object_get(manifest, "members"), i, m) {
			const char *path = json_string_value(json_object_get(m, "path"));
			json_t *got = path ? json_object_get(seen, path) : NULL;
			if (!got)
				problem(v, TV_VERIFY_DAMAGED, "snapshot %s: member %s missing", name,
					path ? path : "?");
			else if (!json_equal(json_object_get(got, "sha256"), json_object_get(m, "sha256")) ||
				 !json_equal(json_object_get(got, "size"), json_object_get(m, "size")))
				problem(v, TV_VERIFY_DAMAGED,
					"snapshot %s: member %s differs from the manifest (altered)", name,
					path);
			if (path)
				json_object_del(seen, path);
		}
		const char *extra;
		json_t *x;
		json_object_foreach (seen, extra, x)
			problem(v, TV_VERIFY_DAMAGED, "snapshot %s: member %s not in the manifest", name,
				extra);
	}
	json_decref(manifest);
	json_decref(seen);
	return 0;
}

static int verify_snapshot(struct verify *v, const char *name)
{
	char key[1200], dir[600];
	if (tv_snapshot_key(v->prefix, name, key, sizeof(key)))
		return tv_err(-EINVAL, "snapshot %s: bad name", name);
	int rc = tv_make_temp_dir(dir, sizeof(dir), "verify");
	if (rc)
		return rc;
	char tar[700], root[700];
	snprintf(tar, sizeof(tar), "%s/s.tar", dir);
	snprintf(root, sizeof(root), "%s/store", dir);
	struct tv_buf b;
	tv_buf_init(&b, (size_t)1 << 34);
	rc = tv_store_get(v->s, key, &b);
	if (!rc)
		rc = tv_write_file_atomic(tar, b.data, b.len);
	tv_buf_cleanup(&b);
	if (!rc)
		rc = check_members(v, tar, name);
	/* the re-packed segments: their indexes against their data */
	struct tv_store *orig = v->s;
	if (!rc && tv_mkdir_p(root) == 0 && tv_snapshot_extract(tar, root) == 0 &&
	    tv_store_open(root, 0, NULL, &v->s) == 0) {
		v->no_chain = true;
		v->prefix = "";
		if (!v->o->keys) { /* the snapshot's own keys, unless pinned */
			free(v->keys);
			v->keys = NULL;
			v->nkeys = 0;
			load_trust(v);
		}
		rc = tv_catalog_nodes(v->s, "", on_node, v);
		tv_store_free(v->s);
	}
	v->s = orig;
	tv_remove_tree(dir);
	return rc;
}

/* What the bucket can and cannot prove about its newest history. */
static void note_object_lock(struct verify *v)
{
	if (strcmp(v->s->ops->scheme, "s3"))
		return;
	int lock = tv_store_object_lock(v->s);
	if (lock < 0)
		note(v, "%s: cannot tell whether the bucket has Object Lock (%s)", v->s->url, tv_errmsg());
	else if (!lock)
		note(v,
		     "%s: the bucket has no Object Lock: a node's newest segments deleted together with the "
		     "checkpoints that name them cannot be told from a node that stopped (docs/THREATS.md)",
		     v->s->url);
}

int tv_verify(struct tv_store *s, const struct tv_verify_opts *o, struct tv_verify_result *r)
{
	memset(r, 0, sizeof(*r));
	struct verify v = {.s = s, .o = o, .prefix = o->prefix ? o->prefix : "", .r = r};
	v.now_ns = o->now_ns ? o->now_ns : tv_now_ns();
	int rc = load_trust(&v);
	if (!rc)
		rc = load_settings(&v);
	if (rc) {
		free(v.keys);
		return rc;
	}
	if (o->snapshot) {
		if ((rc = tv_snapshot_name_check(o->snapshot)))
			return rc;
		rc = verify_snapshot(&v, o->snapshot);
	} else {
		note_object_lock(&v);
		rc = tv_catalog_each_node(s, v.prefix, o->nodes, o->nnodes, on_node, &v);
	}
	if (!rc && v.fatal)
		rc = tv_err(v.fatal, "%s", r->fatal_msg);
	free(v.keys);
	free(v.seen);
	return rc;
}
