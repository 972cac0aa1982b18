/* SPDX-License-Identifier: Apache-2.0 */
/* buffer: see buffer.h. The list of sealed segments lives in memory, sorted by
 * key (= time); the uploader's markers are checked at eviction time, since the
 * uploader is another process. */
#include "nodeagent/buffer.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/bufdir.h"
#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/common/log.h"
#include "archive/keys.h"
#include "archive/segment.h"
#include "archive/sign.h"
#include "archive/store/store.h"

struct sealed {
	char *stem;
	uint64_t bytes;
};

struct tv_buffer {
	char *dir;
	struct tv_store *store;
	uint64_t cap;
	struct sealed *segs; /* sorted by stem */
	size_t n, alloc;
	/* Segments are sealed on the agent's sealing thread while its writer
	 * makes room: list_lock guards segs and pending_bytes (data written,
	 * index prepared, not yet moved into place), and is taken before lock. */
	pthread_mutex_t list_lock;
	uint64_t pending_bytes;
	pthread_mutex_t lock; /* stats are read by the metrics thread */
	struct tv_buffer_stats st;
	const struct tv_signer *signer; /* signs every index sealed; NULL: unsigned */
};

void tv_buffer_set_signer(struct tv_buffer *b, const struct tv_signer *s)
{
	b->signer = s;
}

/* The encoded index, signed when the buffer has a key. */
static int encode_index(struct tv_buffer *b, struct tv_index *idx, struct tv_buf *out)
{
	return b->signer ? tv_index_encode_signed(idx, b->signer, out) : tv_index_encode(idx, out);
}

static int object_path(const struct tv_buffer *b, const char *stem, const char *suffix, char *out, size_t n)
{
	return tv_bufdir_object_path(b->dir, stem, suffix, out, n);
}

static uint64_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static uint64_t segment_bytes(const struct tv_buffer *b, const char *stem)
{
	char p[4096];
	uint64_t total = 0;
	for (int k = TV_OBJ_DATA; k <= TV_OBJ_EVENTS; k++)
		if (!object_path(b, stem, tv_key_suffix((enum tv_obj_kind)k), p, sizeof(p)))
			total += file_size(p);
	return total;
}

static int add_sealed(struct tv_buffer *b, const char *stem, uint64_t bytes)
{
	if (b->n == b->alloc) {
		size_t a = b->alloc ? b->alloc * 2 : 64;
		struct sealed *s = realloc(b->segs, a * sizeof(*s));
		if (!s)
			return -ENOMEM;
		b->segs = s;
		b->alloc = a;
	}
	/* New segments are the newest: append, keeping order unless salvage is older. */
	size_t at = b->n;
	while (at > 0 && strcmp(b->segs[at - 1].stem, stem) > 0)
		at--;
	memmove(&b->segs[at + 1], &b->segs[at], (b->n - at) * sizeof(*b->segs));
	if (!(b->segs[at].stem = strdup(stem)))
		return -ENOMEM;
	b->segs[at].bytes = bytes;
	b->n++;
	pthread_mutex_lock(&b->lock);
	b->st.sealed_bytes += bytes;
	b->st.segments = b->n;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

/* A data object without its index: a crash hit sealing between the renames.
 * Re-index it in place (its events, if moved, are used). */
static int complete_in_place(struct tv_buffer *b, const char *stem)
{
	char data[4096], events[4096], index[4096];
	object_path(b, stem, TV_KEY_SUFFIX_DATA, data, sizeof(data));
	object_path(b, stem, TV_KEY_SUFFIX_EVENTS, events, sizeof(events));
	object_path(b, stem, TV_KEY_SUFFIX_INDEX, index, sizeof(index));
	bool have_events = access(events, F_OK) == 0;
	struct tv_index idx;
	struct tv_scan_result res;
	int rc = tv_seg_salvage(data, have_events ? events : NULL, &idx, &res);
	if (rc) {
		tv_error("buffer: incomplete segment %s cannot be completed: %s; removed", stem, tv_errmsg());
		unlink(data);
		unlink(events);
		return 0;
	}
	struct tv_buf enc;
	tv_buf_init(&enc, TV_INDEX_MAX_BYTES);
	rc = encode_index(b, &idx, &enc);
	if (!rc)
		rc = tv_write_file_atomic(index, enc.data, enc.len);
	tv_buf_cleanup(&enc);
	tv_index_cleanup(&idx);
	if (!rc)
		tv_info("buffer: completed %s (index was missing)", stem);
	return rc;
}

static int index_existing(void *ctx, const struct tv_store_entry *e)
{
	struct tv_buffer *b = ctx;
	struct tv_segment_key k;
	if (tv_key_parse_segment(e->key, &k))
		return 0;
	if (k.kind == TV_OBJ_DATA) {
		char stem[TV_KEY_MAX], idx[4096];
		tv_key_sibling(e->key, "", stem, sizeof(stem));
		object_path(b, stem, TV_KEY_SUFFIX_INDEX, idx, sizeof(idx));
		if (access(idx, F_OK) != 0) {
			int rc = complete_in_place(b, stem);
			if (rc || access(idx, F_OK) != 0)
				return rc;
			return add_sealed(b, stem, segment_bytes(b, stem));
		}
		return 0;
	}
	if (k.kind != TV_OBJ_INDEX)
		return 0;
	char stem[TV_KEY_MAX];
	tv_key_sibling(e->key, "", stem, sizeof(stem));
	return add_sealed(b, stem, segment_bytes(b, stem));
}

int tv_buffer_open(struct tv_buffer **out, const char *dir, uint64_t cap)
{
	*out = NULL;
	char sub[4096];
	snprintf(sub, sizeof(sub), "%s/" TV_BUFDIR_OPEN, dir);
	int rc = tv_mkdir_p(sub);
	if (rc)
		return rc;
	if (access(sub, W_OK) != 0)
		return tv_err(-errno, "buffer %s: not writable: %s", dir, strerror(errno));
	struct tv_buffer *b = calloc(1, sizeof(*b));
	if (!b || !(b->dir = strdup(dir))) {
		free(b);
		return tv_err(-ENOMEM, "out of memory");
	}
	pthread_mutex_init(&b->lock, NULL);
	pthread_mutex_init(&b->list_lock, NULL);
	b->cap = cap;
	if ((rc = tv_store_open(dir, 0, NULL, &b->store)) ||
	    (rc = tv_store_each(b->store, "v1/nodes/", index_existing, b))) {
		tv_buffer_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

void tv_buffer_free(struct tv_buffer *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		free(b->segs[i].stem);
	free(b->segs);
	tv_store_free(b->store);
	pthread_mutex_destroy(&b->lock);
	pthread_mutex_destroy(&b->list_lock);
	free(b->dir);
	free(b);
}

uint64_t tv_buffer_cap(const struct tv_buffer *b)
{
	return b->cap;
}

void tv_buffer_get_stats(struct tv_buffer *b, struct tv_buffer_stats *out)
{
	pthread_mutex_lock(&b->lock);
	*out = b->st;
	pthread_mutex_unlock(&b->lock);
}

static void count(struct tv_buffer *b, uint64_t *field)
{
	pthread_mutex_lock(&b->lock);
	(*field)++;
	pthread_mutex_unlock(&b->lock);
}

int tv_buffer_open_paths(struct tv_buffer *b, uint64_t created_ns, uint64_t seq, unsigned stream, char **data,
			 char **events)
{
	return tv_bufdir_open_paths(b->dir, created_ns, seq, stream, data, events);
}

static int move_into_place(const char *from, const char *to)
{
	int rc = tv_mkdir_parent(to);
	if (rc)
		return rc;
	if (rename(from, to) != 0)
		return tv_err(-errno, "rename %s -> %s: %s", from, to, strerror(errno));
	return 0;
}

struct tv_buffer_seal {
	char *data_path, *events_path; /* in open/ */
	char stem[TV_KEY_MAX];
	struct tv_buf index; /* encoded */
	uint64_t bytes;      /* data + events + index */
};

int tv_buffer_seal_prepare(struct tv_buffer *b, const struct tv_index *idx, const char *data_path,
			   const char *events_path, uint8_t index_sha[TV_SHA256_LEN],
			   struct tv_buffer_seal **out)
{
	*out = NULL;
	char key[TV_KEY_MAX];
	int rc = tv_key_segment(key, sizeof(key), "", idx->node, idx->start_ns, idx->seq, TV_OBJ_INDEX);
	if (rc)
		return tv_err(rc, "segment key too long");
	struct tv_buffer_seal *s = calloc(1, sizeof(*s));
	if (!s || !(s->data_path = strdup(data_path)) ||
	    (events_path && !(s->events_path = strdup(events_path)))) {
		tv_buffer_seal_free(s);
		return tv_err(-ENOMEM, "out of memory");
	}
	tv_key_sibling(key, "", s->stem, sizeof(s->stem));
	tv_buf_init(&s->index, TV_INDEX_MAX_BYTES);
	struct tv_index signed_idx =
		*idx; /* the caller's keeps its tables; only the signature block differs */
	if ((rc = encode_index(b, &signed_idx, &s->index))) {
		tv_buffer_seal_free(s);
		return tv_err(rc, "cannot encode index of %s", data_path);
	}
	tv_sha256(s->index.data, s->index.len, index_sha);
	s->bytes = file_size(data_path) + (events_path ? file_size(events_path) : 0) + s->index.len;
	pthread_mutex_lock(&b->list_lock);
	b->pending_bytes += s->bytes;
	pthread_mutex_unlock(&b->list_lock);
	*out = s;
	return 0;
}

int tv_buffer_seal_commit(struct tv_buffer *b, struct tv_buffer_seal *s)
{
	char to[4096], idx_tmp[4096];
	tv_key_sibling(s->data_path, TV_KEY_SUFFIX_INDEX, idx_tmp, sizeof(idx_tmp));
	/* the writer leaves both syncs to this thread, off the packet path */
	int rc = tv_fsync_path(s->data_path);
	if (!rc && s->events_path)
		rc = tv_fsync_path(s->events_path);
	if (!rc)
		rc = tv_write_file_atomic(idx_tmp, s->index.data, s->index.len);
	/* data, events, index last: a reader sees the segment only when whole */
	if (!rc && !(rc = object_path(b, s->stem, TV_KEY_SUFFIX_DATA, to, sizeof(to))))
		rc = move_into_place(s->data_path, to);
	if (!rc && s->events_path && !(rc = object_path(b, s->stem, TV_KEY_SUFFIX_EVENTS, to, sizeof(to))))
		rc = move_into_place(s->events_path, to);
	if (!rc && !(rc = object_path(b, s->stem, TV_KEY_SUFFIX_INDEX, to, sizeof(to))))
		rc = move_into_place(idx_tmp, to);
	if (!rc)
		rc = tv_fsync_parent(to);
	pthread_mutex_lock(&b->list_lock);
	b->pending_bytes -= s->bytes;
	if (!rc && (rc = add_sealed(b, s->stem, segment_bytes(b, s->stem))))
		rc = tv_err(rc, "out of memory");
	pthread_mutex_unlock(&b->list_lock);
	if (!rc)
		count(b, &b->st.sealed);
	tv_buffer_seal_free(s);
	return rc;
}

void tv_buffer_seal_free(struct tv_buffer_seal *s)
{
	if (!s)
		return;
	free(s->data_path);
	free(s->events_path);
	tv_buf_cleanup(&s->index);
	free(s);
}

int tv_buffer_seal(struct tv_buffer *b, const struct tv_index *idx, const char *data_path,
		   const char *events_path, uint8_t index_sha[TV_SHA256_LEN])
{
	struct tv_buffer_seal *s;
	int rc = tv_buffer_seal_prepare(b, idx, data_path, events_path, index_sha, &s);
	return rc ? rc : tv_buffer_seal_commit(b, s);
}

static void delete_segment(struct tv_buffer *b, size_t i)
{
	char p[4096];
	const char *stem = b->segs[i].stem;
	/* index first: from then on readers treat the rest as incomplete */
	static const enum tv_obj_kind order[] = {TV_OBJ_INDEX, TV_OBJ_DATA, TV_OBJ_EVENTS};
	for (size_t k = 0; k < 3; k++)
		if (!object_path(b, stem, tv_key_suffix(order[k]), p, sizeof(p)))
			unlink(p);
	tv_bufdir_unmark(b->dir, stem);
	pthread_mutex_lock(&b->lock);
	b->st.sealed_bytes -= b->segs[i].bytes;
	pthread_mutex_unlock(&b->lock);
	free(b->segs[i].stem);
	memmove(&b->segs[i], &b->segs[i + 1], (b->n - i - 1) * sizeof(*b->segs));
	b->n--;
	pthread_mutex_lock(&b->lock);
	b->st.segments = b->n;
	pthread_mutex_unlock(&b->lock);
}

int tv_buffer_make_room(struct tv_buffer *b, uint64_t open_bytes)
{
	if (open_bytes > b->cap)
		return tv_err(-ENOSPC,
			      "buffer %s: the open segment alone (%" PRIu64 " bytes) exceeds the cap", b->dir,
			      open_bytes);
	pthread_mutex_lock(&b->list_lock);
	open_bytes += b->pending_bytes;
	while (b->n && b->st.sealed_bytes + open_bytes > b->cap) {
		size_t victim = 0;
		bool uploaded = false;
		for (size_t i = 0; i < b->n && !uploaded; i++)
			if (tv_bufdir_is_uploaded(b->dir, b->segs[i].stem))
				victim = i, uploaded = true;
		if (uploaded) {
			count(b, &b->st.recycled);
		} else {
			count(b, &b->st.lost);
			tv_warn("buffer full: dropping %s before upload (segments_lost_total now %" PRIu64
				")",
				b->segs[victim].stem, b->st.lost);
		}
		delete_segment(b, victim);
	}
	bool over = b->st.sealed_bytes + open_bytes > b->cap; /* only with seals pending */
	pthread_mutex_unlock(&b->list_lock);
	return over ? -EBUSY : 0;
}

int tv_buffer_chain_tail(struct tv_buffer *b, const char *node, bool *found, uint64_t *seq,
			 uint8_t sha[TV_SHA256_LEN], uint8_t key_id[TV_SHA256_LEN])
{
	memset(key_id, 0, TV_SHA256_LEN);
	*found = false;
	for (size_t i = b->n; i-- > 0;) {
		struct tv_segment_key k;
		char key[TV_KEY_MAX + 8], path[4096];
		snprintf(key, sizeof(key), "%s%s", b->segs[i].stem, TV_KEY_SUFFIX_INDEX);
		if (tv_key_parse_segment(key, &k) || strcmp(k.node, node) != 0)
			continue;
		object_path(b, b->segs[i].stem, TV_KEY_SUFFIX_INDEX, path, sizeof(path));
		struct tv_buf raw;
		tv_buf_init(&raw, TV_INDEX_MAX_BYTES);
		int rc = tv_read_file(path, &raw);
		if (!rc)
			rc = tv_sha256(raw.data, raw.len, sha);
		struct tv_index idx;
		if (!rc && tv_index_decode(raw.data, raw.len, path, &idx) == 0) {
			if (idx.flags & TV_INDEX_SIGNED)
				memcpy(key_id, idx.key_id, TV_SHA256_LEN);
			tv_index_cleanup(&idx);
		}
		tv_buf_cleanup(&raw);
		if (rc)
			return rc;
		*found = true;
		*seq = k.seq;
		return 0;
	}
	return 0;
}

static void quarantine(struct tv_buffer *b, const char *path)
{
	char dir[4096], to[4200];
	snprintf(dir, sizeof(dir), "%s/" TV_BUFDIR_CORRUPT, b->dir);
	tv_mkdir_p(dir);
	snprintf(to, sizeof(to), "%s/%s", dir, strrchr(path, '/') + 1);
	if (rename(path, to) != 0)
		unlink(path);
}

static int salvage_one(struct tv_buffer *b, const char *data)
{
	char events[4096];
	tv_key_sibling(data, TV_KEY_SUFFIX_EVENTS, events, sizeof(events));
	bool have_events = access(events, F_OK) == 0;
	struct tv_index idx;
	struct tv_scan_result res;
	int rc = tv_seg_salvage(data, have_events ? events : NULL, &idx, &res);
	if (rc == TV_ECORRUPT || rc == TV_ETRUNC) {
		tv_error("salvage: %s (moved to .corrupt/)", tv_errmsg());
		quarantine(b, data);
		if (have_events)
			quarantine(b, events);
		count(b, &b->st.corrupt);
		return 0;
	}
	if (rc)
		return rc;
	uint8_t sha[TV_SHA256_LEN];
	rc = tv_buffer_seal(b, &idx, data, have_events ? events : NULL, sha);
	if (!rc) {
		tv_info("salvage: recovered %s: %" PRIu64 " packets in %u frames%s%s", data, idx.packets,
			idx.nframes, res.torn ? "; torn tail cut: " : "", res.torn ? res.reason : "");
		count(b, &b->st.salvaged);
	}
	tv_index_cleanup(&idx);
	return rc;
}

int tv_buffer_salvage(struct tv_buffer *b)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/" TV_BUFDIR_OPEN, b->dir);
	DIR *d = opendir(dir);
	if (!d)
		return tv_err(-errno, "%s: %s", dir, strerror(errno));
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		size_t n = strlen(e->d_name), sl = strlen(TV_KEY_SUFFIX_DATA),
		       el = strlen(TV_KEY_SUFFIX_EVENTS);
		if (n > el && strcmp(e->d_name + n - el, TV_KEY_SUFFIX_EVENTS) == 0) {
			/* an events file whose data file never got created: nothing to keep */
			char data[4096 + 512];
			snprintf(data, sizeof(data), "%s/%.*s%s", dir, (int)(n - el), e->d_name,
				 TV_KEY_SUFFIX_DATA);
			if (access(data, F_OK) != 0) {
				snprintf(data, sizeof(data), "%s/%s", dir, e->d_name);
				unlink(data);
			}
			continue;
		}
		if (e->d_name[0] == '.' || n <= sl || strcmp(e->d_name + n - sl, TV_KEY_SUFFIX_DATA) != 0)
			continue;
		char path[4096 + 512];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		rc = salvage_one(b, path);
	}
	closedir(d);
	return rc;
}
