/* SPDX-License-Identifier: Apache-2.0 */
/* store: URL dispatch and the backend-independent helpers of store.h. */
#include "archive/store/store.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/store/store_file.h"
#include "archive/store/store_s3.h"

int tv_store_open(const char *url, int flags, const struct tv_store_opts *o, struct tv_store **out)
{
	*out = NULL;
	if (strncmp(url, "file://", 7) == 0)
		return tv_store_file_open(url + 7, url, flags, out);
	if (strncmp(url, "s3://", 5) == 0)
		return tv_store_s3_open(url, o ? o->s3 : NULL, out);
	const char *colon = strstr(url, "://");
	if (colon)
		return tv_err(-EINVAL, "store '%s': unsupported scheme '%.*s' (file:// and s3:// are)", url,
			      (int)(colon - url), url);
	return tv_store_file_open(url, url, flags, out);
}

void tv_store_free(struct tv_store *s)
{
	if (s)
		s->ops->free(s);
}

int tv_store_key_check(const char *key)
{
	size_t n = strlen(key);
	if (n == 0 || n > TV_KEY_MAX)
		return -EINVAL;
	const char *comp = key;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)key[i];
		if (c != '\0' && c < 0x20)
			return -EINVAL;
		if (c == 0x7f)
			return -EINVAL;
		if (c == '/' || c == '\0') {
			size_t len = (size_t)(key + i - comp);
			if (len == 0 || comp[0] == '.')
				return -EINVAL;
			comp = key + i + 1;
		}
	}
	return 0;
}

static int check(struct tv_store *s, const char *key)
{
	if (tv_store_key_check(key))
		return tv_err(-EINVAL, "%s: invalid key '%.200s'", s->url, key);
	return 0;
}

int tv_store_put(struct tv_store *s, const char *key, const void *data, size_t len, int flags)
{
	int rc = check(s, key);
	return rc ? rc : s->ops->put(s, key, data, len, flags);
}

int tv_store_put_file(struct tv_store *s, const char *key, const char *path, int flags)
{
	int rc = check(s, key);
	return rc ? rc : s->ops->put_file(s, key, path, flags);
}

int tv_store_put_file_sha(struct tv_store *s, const char *key, const char *path, int flags,
			  const uint8_t sha[32])
{
	int rc = check(s, key);
	if (rc)
		return rc;
	return sha && s->ops->put_file_sha ? s->ops->put_file_sha(s, key, path, flags, sha)
					   : s->ops->put_file(s, key, path, flags);
}

int tv_store_get(struct tv_store *s, const char *key, struct tv_buf *out)
{
	return tv_store_get_range(s, key, 0, UINT64_MAX, out);
}

int tv_store_get_range(struct tv_store *s, const char *key, uint64_t off, uint64_t len, struct tv_buf *out)
{
	int rc = check(s, key);
	return rc ? rc : s->ops->get_range(s, key, off, len, out);
}

int tv_store_head(struct tv_store *s, const char *key, struct tv_store_entry *out)
{
	int rc = check(s, key);
	return rc ? rc : s->ops->head(s, key, out);
}

int tv_store_delete(struct tv_store *s, const char *key)
{
	int rc = check(s, key);
	return rc ? rc : s->ops->del(s, key);
}

int tv_store_list(struct tv_store *s, const char *prefix, char delimiter, const char *after, size_t max,
		  struct tv_store_list *out)
{
	memset(out, 0, sizeof(*out));
	return s->ops->list(s, prefix, delimiter, after, max ? max : 1000, out);
}

void tv_store_list_cleanup(struct tv_store_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->entries[i].key);
	for (size_t i = 0; i < l->nprefixes; i++)
		free(l->prefixes[i]);
	free(l->entries);
	free(l->prefixes);
	free(l->next);
	memset(l, 0, sizeof(*l));
}

/* Pages through a listing, handing out keys and (with a delimiter) common
 * prefixes; the one pagination loop of the store API. */
static int walk_pages(struct tv_store *s, const char *prefix, char delimiter, tv_store_each_fn on_entry,
		      tv_store_child_fn on_child, void *ctx)
{
	char *after = NULL;
	int rc;
	do {
		struct tv_store_list page;
		rc = tv_store_list(s, prefix, delimiter, after, 1000, &page);
		free(after);
		after = NULL;
		if (rc)
			return rc;
		for (size_t i = 0; on_entry && i < page.n && !rc; i++)
			rc = on_entry(ctx, &page.entries[i]);
		for (size_t i = 0; on_child && i < page.nprefixes && !rc; i++)
			rc = on_child(ctx, page.prefixes[i]);
		if (!rc && page.next && !(after = strdup(page.next)))
			rc = -ENOMEM;
		tv_store_list_cleanup(&page);
	} while (!rc && after);
	free(after);
	return rc;
}

int tv_store_each(struct tv_store *s, const char *prefix, tv_store_each_fn fn, void *ctx)
{
	return walk_pages(s, prefix, 0, fn, NULL, ctx);
}

int tv_store_each_child(struct tv_store *s, const char *prefix, tv_store_child_fn fn, void *ctx)
{
	return walk_pages(s, prefix, '/', NULL, fn, ctx);
}

int tv_store_read_at(void *ctx, uint64_t off, size_t len, struct tv_buf *out)
{
	struct tv_store_source *src = ctx;
	return tv_store_get_range(src->store, src->key, off, len, out);
}

int tv_store_object_lock(struct tv_store *s)
{
	return s->ops->object_lock ? s->ops->object_lock(s) : 0;
}

int tv_store_put_retained(struct tv_store *s, const char *key, const void *data, size_t len, int flags,
			  const struct tv_store_retention *r)
{
	int rc = check(s, key);
	if (rc)
		return rc;
	if (!s->ops->put_retained)
		return tv_err(-ENOTSUP, "%s: no Object Lock on %s:// stores", s->url, s->ops->scheme);
	return s->ops->put_retained(s, key, data, len, flags, r);
}

int tv_store_each_version(struct tv_store *s, const char *prefix, tv_store_version_fn fn, void *ctx)
{
	return s->ops->each_version ? s->ops->each_version(s, prefix, fn, ctx) : -ENOTSUP;
}

int tv_store_get_version(struct tv_store *s, const char *key, const char *version_id, struct tv_buf *out)
{
	int rc = check(s, key);
	if (rc)
		return rc;
	return s->ops->get_version ? s->ops->get_version(s, key, version_id, out) : -ENOTSUP;
}

int tv_store_set_retention(struct tv_store *s, const char *key, const struct tv_store_retention *r,
			   bool legal_hold)
{
	int rc = check(s, key);
	if (rc)
		return rc;
	if (!s->ops->set_retention)
		return tv_err(-ENOTSUP, "%s: no Object Lock on %s:// stores", s->url, s->ops->scheme);
	return s->ops->set_retention(s, key, r, legal_hold);
}

int tv_store_get_retention(struct tv_store *s, const char *key, struct tv_store_lock_state *out)
{
	memset(out, 0, sizeof(*out));
	int rc = check(s, key);
	if (rc)
		return rc;
	return s->ops->get_retention ? s->ops->get_retention(s, key, out) : -ENOTSUP;
}
