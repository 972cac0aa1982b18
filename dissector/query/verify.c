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

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/common/sha256.h"
#include "archive/keys.h"
#include "dissector/query/catalog.h"
#include "dissector/query/snapshot.h"

#define VERIFY_CHUNK ((uint64_t)8 << 20)

struct verify {
	struct tv_store *s;
	const struct tv_verify_opts *o;
	const char *prefix;
	struct tv_verify_result *r;
	int fatal;
	/* per node */
	bool no_chain; /* snapshots: re-packed segments keep only the manifest's links */
	bool have_prev;
	uint64_t prev_seq;
	uint8_t prev_sha[TV_SHA256_LEN];
	char prev_key[TV_KEY_MAX];
};

static void problem(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct verify *v, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->r->problems++;
	if (v->o->problem)
		v->o->problem(v->o->ctx, msg);
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
		problem(v, "%s: missing (the index lists it)", key);
	} else if (rc) {
		fatal(v, rc);
	} else if (size < want_size) {
		problem(v, "%s: truncated: %" PRIu64 " bytes, index says %" PRIu64, key, size, want_size);
	} else if (size != want_size) {
		problem(v, "%s: %" PRIu64 " bytes, index says %" PRIu64 " (altered)", key, size, want_size);
	} else if (memcmp(sha, want_sha, TV_SHA256_LEN) != 0) {
		problem(v, "%s: SHA-256 differs from the index (altered)", key);
	}
}

static int on_index(void *ctx, const char *key)
{
	struct verify *v = ctx;
	struct tv_index idx;
	uint8_t sha[TV_SHA256_LEN];
	v->r->segments++;
	v->r->objects++;
	int rc = tv_catalog_load_index(v->s, key, &idx, sha, NULL);
	if (rc == -ENOMEM || (rc < 0 && rc != TV_ECORRUPT && rc != TV_ETRUNC && rc != TV_EVERSION)) {
		fatal(v, rc);
		return 0;
	}
	if (rc) {
		problem(v, "%s", tv_errmsg());
		v->have_prev = false; /* the chain cannot be followed through it */
		return 0;
	}
	if (v->o->from || v->o->to != UINT64_MAX) {
		if (!(idx.packets && idx.ts_max >= v->o->from && idx.ts_min < v->o->to)) {
			tv_index_cleanup(&idx);
			v->r->segments--;
			v->r->objects--;
			return 0;
		}
	}
	check_object(v, key, TV_KEY_SUFFIX_DATA, idx.data_size, idx.data_sha);
	if (idx.events_size)
		check_object(v, key, TV_KEY_SUFFIX_EVENTS, idx.events_size, idx.events_sha);
	if (v->have_prev && !v->no_chain) {
		if (idx.seq > v->prev_seq + 1)
			problem(v, "%s: segments %" PRIu64 "..%" PRIu64 " of node %s are missing (after %s)",
				key, v->prev_seq + 1, idx.seq - 1, idx.node, v->prev_key);
		else if (idx.seq == v->prev_seq + 1 && memcmp(idx.prev_sha, v->prev_sha, TV_SHA256_LEN) != 0)
			problem(v, "%s: hash chain broken: the previous index %s was altered or replaced",
				key, v->prev_key);
	}
	v->have_prev = true;
	v->prev_seq = idx.seq;
	memcpy(v->prev_sha, sha, TV_SHA256_LEN);
	snprintf(v->prev_key, sizeof(v->prev_key), "%s", key);
	tv_index_cleanup(&idx);
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
		problem(v, "%s: incomplete segment (no index)", e->key);
	else if (rc)
		fatal(v, rc);
	return 0;
}

static int on_node(void *ctx, const char *node)
{
	struct verify *v = ctx;
	v->have_prev = false;
	int rc = tv_catalog_indexes(v->s, v->prefix, node, v->o->from, v->o->to, on_index, v);
	char p[TV_KEY_MAX];
	if (!rc && !tv_key_node_prefix(p, sizeof(p), v->prefix, node))
		rc = tv_store_each(v->s, p, on_any, v);
	return rc;
}

/* Every tar member against manifest.json: digest, size, nothing missing or extra. */
static int check_members(struct verify *v, const char *tar, const char *name)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, tar, 1 << 16) != ARCHIVE_OK) {
		problem(v, "snapshot %s: not a readable tar (%s)", name, archive_error_string(a));
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
			problem(v, "snapshot %s: member %s truncated", name, archive_entry_pathname(e));
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
		problem(v, "snapshot %s: manifest.json missing or not JSON", name);
	} else {
		size_t i;
		json_t *m;
		json_array_foreach (json_object_get(manifest, "members"), i, m) {
			const char *path = json_string_value(json_object_get(m, "path"));
			json_t *got = path ? json_object_get(seen, path) : NULL;
			if (!got)
				problem(v, "snapshot %s: member %s missing", name, path ? path : "?");
			else if (!json_equal(json_object_get(got, "sha256"), json_object_get(m, "sha256")) ||
				 !json_equal(json_object_get(got, "size"), json_object_get(m, "size")))
				problem(v, "snapshot %s: member %s differs from the manifest (altered)", name,
					path);
			if (path)
				json_object_del(seen, path);
		}
		const char *extra;
		json_t *x;
		json_object_foreach (seen, extra, x)
			problem(v, "snapshot %s: member %s not in the manifest", name, extra);
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
		rc = tv_catalog_nodes(v->s, "", on_node, v);
		tv_store_free(v->s);
	}
	v->s = orig;
	tv_remove_tree(dir);
	return rc;
}

int tv_verify(struct tv_store *s, const struct tv_verify_opts *o, struct tv_verify_result *r)
{
	memset(r, 0, sizeof(*r));
	struct verify v = {.s = s, .o = o, .prefix = o->prefix ? o->prefix : "", .r = r};
	int rc;
	if (o->snapshot) {
		if ((rc = tv_snapshot_name_check(o->snapshot)))
			return rc;
		rc = verify_snapshot(&v, o->snapshot);
	} else {
		rc = tv_catalog_each_node(s, v.prefix, o->nodes, o->nnodes, on_node, &v);
	}
	if (!rc && v.fatal)
		rc = tv_err(v.fatal, "%s", r->fatal_msg);
	return rc;
}
