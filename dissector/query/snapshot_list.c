/* SPDX-License-Identifier: Apache-2.0 */
#include "dissector/query/snapshot_list.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/timeutil.h"
#include "dissector/query/snapshot.h"

#define TAR_SUFFIX ".tar"

static int meta_key(const char *prefix, const char *name, char *out, size_t n)
{
	char base[TV_KEY_MAX];
	if (tv_snapshot_prefix(prefix, base, sizeof(base)))
		return tv_err(-ENAMETOOLONG, "prefix too long");
	int w = snprintf(out, n, "%s%s" TV_SNAPSHOT_META_SUFFIX, base, name);
	return w > 0 && (size_t)w < n ? 0 : tv_err(-ENAMETOOLONG, "snapshot key too long");
}

static json_t *time_or_null(uint64_t ns)
{
	if (!ns)
		return json_null();
	char t[TV_RFC3339_LEN];
	tv_format_rfc3339(ns, t);
	return json_string(t);
}

int tv_snapshot_meta_put(struct tv_store *s, const char *prefix, const struct tv_snapshot_meta *m)
{
	char key[TV_KEY_MAX];
	int rc = meta_key(prefix, m->name, key, sizeof(key));
	if (rc)
		return rc;
	json_t *j = json_pack(
		"{s:i,s:s,s:s,s:o,s:o,s:I,s:I,s:o,s:o,s:I,s:I,s:I}", "format", 1, "name", m->name, "status",
		m->status, "from", time_or_null(m->from), "to", time_or_null(m->to), "from_ns",
		(json_int_t)m->from, "to_ns", (json_int_t)m->to, "created", time_or_null(m->created_ns),
		"nodes", m->nodes ? json_incref(m->nodes) : json_array(), "segments", (json_int_t)m->segments,
		"frames", (json_int_t)m->frames, "bytes", (json_int_t)m->bytes);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text)
		return tv_err(-ENOMEM, "out of memory");
	rc = tv_store_put(s, key, text, strlen(text), 0);
	free(text);
	return rc;
}

int tv_snapshot_meta_delete(struct tv_store *s, const char *prefix, const char *name)
{
	char key[TV_KEY_MAX];
	int rc = meta_key(prefix, name, key, sizeof(key));
	return rc ? rc : tv_store_delete(s, key);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

/* The row of one snapshot: its tar (may be NULL: being created) and its
 * metadata object's content (may be NULL: none). */
static json_t *row(const char *name, const struct tv_store_entry *tar, json_t *meta)
{
	const char *status = tar ? (meta ? "complete" : "unlisted") : "creating";
	json_t *nodes = json_object_get(meta, "nodes");
	json_t *r = json_pack(
		"{s:s,s:I,s:O,s:O,s:s,s:O,s:O,s:I}", "name", name, "bytes", (json_int_t)(tar ? tar->size : 0),
		"from", json_object_get(meta, "from") ? json_object_get(meta, "from") : json_null(), "to",
		json_object_get(meta, "to") ? json_object_get(meta, "to") : json_null(), "status", status,
		"created", json_object_get(meta, "created") ? json_object_get(meta, "created") : json_null(),
		"nodes", json_is_array(nodes) ? nodes : json_null(), "segments",
		json_integer_value(json_object_get(meta, "segments")));
	return r;
}

static int add_lock_state(struct tv_store *s, const char *key, json_t *r)
{
	struct tv_store_lock_state st = {0};
	int rc = tv_store_get_retention(s, key, &st);
	if (rc)
		return rc;
	if (st.retention.until_ns) {
		char until[TV_RFC3339_LEN];
		tv_format_rfc3339(st.retention.until_ns, until);
		json_object_set_new(r, "retention",
				    json_pack("{s:s,s:s}", "mode",
					      st.retention.compliance ? "compliance" : "governance", "until",
					      until));
	}
	json_object_set_new(r, "legal_hold", json_boolean(st.legal_hold));
	return 0;
}

static json_t *load_meta(struct tv_store *s, const char *key)
{
	struct tv_buf b;
	tv_buf_init(&b, 1 << 20);
	json_t *j = NULL;
	if (tv_store_get(s, key, &b) == 0)
		j = json_loadb((const char *)b.data, b.len, 0, NULL);
	tv_buf_cleanup(&b);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

struct list_ctx {
	struct tv_store *s;
	size_t base_len;
	json_t *rows;  /* by name: row */
	json_t *metas; /* by name: true (a metadata object exists) */
};

static int collect(void *ctx, const struct tv_store_entry *e)
{
	struct list_ctx *l = ctx;
	const char *rel = e->key + l->base_len;
	if (strchr(rel, '/'))
		return 0;
	char name[256];
	if (ends_with(rel, TV_SNAPSHOT_META_SUFFIX)) {
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(rel) - strlen(TV_SNAPSHOT_META_SUFFIX)),
			 rel);
		json_object_set_new(l->metas, name, json_true());
	} else if (ends_with(rel, TAR_SUFFIX)) {
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(rel) - strlen(TAR_SUFFIX)), rel);
		json_object_set_new(l->rows, name, json_pack("{s:I}", "bytes", (json_int_t)e->size));
	}
	return 0;
}

static int finish_row(struct list_ctx *l, const char *prefix, const char *name, json_t *tar_size, bool locks,
		      json_t *out)
{
	char key[TV_KEY_MAX];
	int rc = 0;
	json_t *meta = NULL;
	if (json_object_get(l->metas, name) && !(rc = meta_key(prefix, name, key, sizeof(key))))
		meta = load_meta(l->s, key);
	struct tv_store_entry tar = {
		.size = (uint64_t)json_integer_value(json_object_get(tar_size, "bytes"))};
	json_t *r = row(name, tar_size ? &tar : NULL, meta);
	json_decref(meta);
	json_object_set_new(r, "retention", json_null());
	json_object_set_new(r, "legal_hold", json_false());
	if (!rc && locks && tar_size && !(rc = tv_snapshot_key(prefix, name, key, sizeof(key))))
		rc = add_lock_state(l->s, key, r);
	json_array_append_new(out, r);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int tv_snapshot_list(struct tv_store *s, const char *prefix, json_t **out)
{
	char base[TV_KEY_MAX];
	if (tv_snapshot_prefix(prefix, base, sizeof(base)))
		return tv_err(-ENAMETOOLONG, "prefix too long");
	int lock = tv_store_object_lock(s);
	if (lock < 0)
		return lock;
	struct list_ctx l = {s, strlen(base), json_object(), json_object()};
	int rc = tv_store_each(s, base, collect, &l);
	/* every name with a tar or a metadata object, in name order */
	json_t *names = json_object();
	const char *k;
	json_t *v;
	json_object_foreach (l.rows, k, v)
		json_object_set_new(names, k, json_true());
	json_object_foreach (l.metas, k, v)
		json_object_set_new(names, k, json_true());
	size_t n = json_object_size(names), i = 0;
	const char **sorted = calloc(n ? n : 1, sizeof(*sorted));
	json_object_foreach (names, k, v)
		if (sorted)
			sorted[i++] = k;
	if (!sorted)
		rc = -ENOMEM;
	else
		qsort(sorted, n, sizeof(*sorted), by_name);
	json_t *arr = json_array();
	for (i = 0; !rc && i < n; i++)
		rc = finish_row(&l, prefix, sorted[i], json_object_get(l.rows, sorted[i]), lock == 1, arr);
	free(sorted);
	json_decref(names);
	json_decref(l.rows);
	json_decref(l.metas);
	if (rc) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

int tv_snapshot_stat(struct tv_store *s, const char *prefix, const char *name, json_t **out)
{
	int rc = tv_snapshot_name_check(name);
	char key[TV_KEY_MAX], mkey[TV_KEY_MAX];
	if (rc || (rc = tv_snapshot_key(prefix, name, key, sizeof(key))) ||
	    (rc = meta_key(prefix, name, mkey, sizeof(mkey))))
		return rc;
	struct tv_store_entry e;
	int h = tv_store_head(s, key, &e);
	if (h && h != -ENOENT)
		return h;
	json_t *meta = load_meta(s, mkey);
	if (h == -ENOENT && !meta)
		return tv_err(-ENOENT, "no snapshot '%s'", name);
	if (!h)
		free(e.key);
	json_t *r = row(name, h ? NULL : &e, meta);
	json_decref(meta);
	json_object_set_new(r, "retention", json_null());
	json_object_set_new(r, "legal_hold", json_false());
	int lock = tv_store_object_lock(s);
	rc = lock < 0 ? lock : lock == 1 && !h ? add_lock_state(s, key, r) : 0;
	if (rc) {
		json_decref(r);
		return rc;
	}
	*out = r;
	return 0;
}

int tv_snapshot_delete(struct tv_store *s, const char *prefix, const char *name)
{
	char key[TV_KEY_MAX], why[512];
	int rc = tv_snapshot_name_check(name);
	if (rc || (rc = tv_snapshot_key(prefix, name, key, sizeof(key))))
		return rc;
	struct tv_store_entry e;
	if ((rc = tv_store_head(s, key, &e)) != 0)
		return rc == -ENOENT ? tv_err(-ENOENT, "no snapshot '%s'", name) : rc;
	free(e.key);
	int p = tv_snapshot_protected(s, key, tv_now_ns(), why, sizeof(why));
	if (p == 1)
		return tv_err(-EPERM, "snapshot '%s' cannot be removed: %s", name, why);
	if (p < 0)
		return p;
	if ((rc = tv_store_delete(s, key)) != 0)
		return rc;
	return tv_snapshot_meta_delete(s, prefix, name);
}
