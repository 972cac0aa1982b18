/* SPDX-License-Identifier: Apache-2.0 */
/* store: the object-store interface every part reads and writes through.
 *
 * One interface, one backend per file (store_file.c for file://, store_s3.c
 * and s3/ for s3://). Keys are '/'-separated, as in S3. Semantics are
 * S3's: put replaces atomically (readers see the old or the new object, never
 * a mix), create-if-absent fails with -EEXIST, delete of a missing key succeeds,
 * list is lexicographic by key and paginated with a continuation token. */
#ifndef TV_STORE_H
#define TV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/common/buf.h"

#define TV_KEY_MAX 1024

struct tv_store_entry {
	char *key; /* owned */
	uint64_t size;
	uint64_t mtime_ns;
};

/* One page of a listing. Free with tv_store_list_cleanup. */
struct tv_store_list {
	struct tv_store_entry *entries; /* owned, sorted by key */
	size_t n;
	char **prefixes; /* owned; with a delimiter, the "directories" (CommonPrefixes) */
	size_t nprefixes;
	char *next; /* owned; pass as `after` for the next page; NULL when done */
};

enum tv_put_flags {
	TV_PUT_CREATE_ONLY = 1, /* fail with -EEXIST if the key exists */
};

struct tv_store;

/* One version of an object, on stores that keep versions (S3 buckets with
 * versioning, which Object Lock implies): a delete there only adds a delete
 * marker, and the versions under it stay readable. */
struct tv_store_version {
	const char *key; /* relative to the store */
	const char *version_id;
	uint64_t size, mtime_ns;
	bool latest, delete_marker;
};
typedef int (*tv_store_version_fn)(void *ctx, const struct tv_store_version *v);

/* Object Lock retention of one object: until until_ns nobody may delete or
 * replace that version (COMPLIANCE), or only those allowed to bypass
 * governance may (GOVERNANCE). */
struct tv_store_retention {
	bool compliance;
	uint64_t until_ns;
};

/* What protects an object's current version: retention (until_ns 0: none)
 * and a legal hold (no end: lifted by hand). */
struct tv_store_lock_state {
	struct tv_store_retention retention;
	bool legal_hold;
};

struct tv_store_ops {
	const char *scheme;
	int (*put)(struct tv_store *s, const char *key, const void *data, size_t len, int flags);
	int (*put_file)(struct tv_store *s, const char *key, const char *path, int flags);
	/* optional: put_file with the file's SHA-256 known (NULL: put_file) */
	int (*put_file_sha)(struct tv_store *s, const char *key, const char *path, int flags,
			    const uint8_t sha[32]);
	int (*get_range)(struct tv_store *s, const char *key, uint64_t off, uint64_t len, struct tv_buf *out);
	int (*head)(struct tv_store *s, const char *key, struct tv_store_entry *out);
	int (*del)(struct tv_store *s, const char *key);
	int (*list)(struct tv_store *s, const char *prefix, char delimiter, const char *after, size_t max,
		    struct tv_store_list *out);
	void (*free)(struct tv_store *s);
	/* optional (NULL: the backend has no such thing) */
	int (*object_lock)(struct tv_store *s);
	int (*put_retained)(struct tv_store *s, const char *key, const void *data, size_t len, int flags,
			    const struct tv_store_retention *r);
	int (*each_version)(struct tv_store *s, const char *prefix, tv_store_version_fn fn, void *ctx);
	int (*get_version)(struct tv_store *s, const char *key, const char *version_id, struct tv_buf *out);
	int (*set_retention)(struct tv_store *s, const char *key, const struct tv_store_retention *r,
			     bool legal_hold);
	int (*get_retention)(struct tv_store *s, const char *key, struct tv_store_lock_state *out);
};

struct tv_store {
	const struct tv_store_ops *ops;
	char *url; /* owned; as given, for messages (never holds secrets) */
};

enum tv_store_open_flags {
	TV_STORE_CREATE = 1, /* file://: create the directory if it does not exist */
};

/* What a caller may tell the backends; NULL (or a NULL member) means their
 * defaults. Nothing here is process-global: two stores in one process may be
 * opened with different options. */
struct tv_s3_opts;
struct tv_store_opts {
	const struct tv_s3_opts *s3; /* s3:// (store_s3.h); copied at open */
};

/* Opens a store from a URL: "file:///abs/dir", "file://rel/dir", a bare
 * directory path, or "s3://BUCKET[/PREFIX]". @return 0, -EINVAL (unknown
 * scheme or bad URL), -ENOENT (no such store and not TV_STORE_CREATE), or the
 * backend's error. */
int tv_store_open(const char *url, int flags, const struct tv_store_opts *o, struct tv_store **out);
void tv_store_free(struct tv_store *s);

/* @return 0, -EEXIST (CREATE_ONLY and present), -EINVAL (bad key), or an I/O error. */
int tv_store_put(struct tv_store *s, const char *key, const void *data, size_t len, int flags);
/* Uploads a local file's content. */
int tv_store_put_file(struct tv_store *s, const char *key, const char *path, int flags);
/* The same for a file whose SHA-256 the caller knows (a segment's data, from
 * its index): an S3 single-part PUT sends it as x-amz-content-sha256 instead
 * of hashing the file again, and the server checks it. sha NULL: put_file. */
int tv_store_put_file_sha(struct tv_store *s, const char *key, const char *path, int flags,
			  const uint8_t sha[32]);
/* Whole object into out (replacing its content). @return 0, -ENOENT, ... */
int tv_store_get(struct tv_store *s, const char *key, struct tv_buf *out);
/* Exactly len bytes at off. @return 0, -ENOENT, TV_ETRUNC (object too short), ... */
int tv_store_get_range(struct tv_store *s, const char *key, uint64_t off, uint64_t len, struct tv_buf *out);
/* Size and time of an object; out->key is left NULL. @return 0 or -ENOENT. */
int tv_store_head(struct tv_store *s, const char *key, struct tv_store_entry *out);
int tv_store_delete(struct tv_store *s, const char *key);
/* Keys starting with prefix and sorting after `after` (NULL: from the start),
 * at most max (0: 1000). With delimiter (e.g. '/', 0 for none), keys with the
 * delimiter after the prefix are rolled up into out->prefixes. */
int tv_store_list(struct tv_store *s, const char *prefix, char delimiter, const char *after, size_t max,
		  struct tv_store_list *out);
void tv_store_list_cleanup(struct tv_store_list *l);

/* Calls fn for every key under prefix, page by page. fn returning non-zero
 * stops the walk and is returned. */
typedef int (*tv_store_each_fn)(void *ctx, const struct tv_store_entry *e);
int tv_store_each(struct tv_store *s, const char *prefix, tv_store_each_fn fn, void *ctx);

/* Calls fn with each common prefix ("directory", ending in '/') directly under
 * prefix, in order, page by page. fn returning non-zero stops the walk. */
typedef int (*tv_store_child_fn)(void *ctx, const char *child_prefix);
int tv_store_each_child(struct tv_store *s, const char *prefix, tv_store_child_fn fn, void *ctx);

/* Whether the store keeps objects under Object Lock (an S3 bucket created
 * with it). @return 1, 0 (no, or a backend without it), or the store's error
 * (-EACCES when the credentials may not ask). */
int tv_store_object_lock(struct tv_store *s);
/* A put whose object is kept under retention r. Objects larger than the
 * backend's single-put size are refused (-EFBIG); create-if-absent is also
 * checked with a HEAD first (servers that ignore If-None-Match on versioned
 * buckets). @return as tv_store_put, or
 * -ENOTSUP on a backend without Object Lock. */
int tv_store_put_retained(struct tv_store *s, const char *key, const void *data, size_t len, int flags,
			  const struct tv_store_retention *r);
/* Puts an existing object's current version under retention r (NULL:
 * leave it) and, when legal_hold, a legal hold (PutObjectRetention,
 * PutObjectLegalHold). For objects too large for tv_store_put_retained (a
 * multipart snapshot). @return 0, -ENOTSUP (a backend or bucket without
 * Object Lock), or the store's error. */
int tv_store_set_retention(struct tv_store *s, const char *key, const struct tv_store_retention *r,
			   bool legal_hold);
/* The retention and legal hold of key's current version (zero: none).
 * @return 0, -ENOENT (no such key), -ENOTSUP, or the store's error. */
int tv_store_get_retention(struct tv_store *s, const char *key, struct tv_store_lock_state *out);
/* Calls fn for every version of every key under prefix: by key, each key's
 * newest first, delete markers included. fn returning non-zero stops the
 * walk. @return 0, fn's value, -ENOTSUP (a backend without versions), or the
 * store's error. */
int tv_store_each_version(struct tv_store *s, const char *prefix, tv_store_version_fn fn, void *ctx);
/* One version of an object, whole, into out. @return 0, -ENOENT, -ENOTSUP, ... */
int tv_store_get_version(struct tv_store *s, const char *key, const char *version_id, struct tv_buf *out);

/* A tv_read_at_fn over one object (ctx = struct tv_store_source *). */
struct tv_store_source {
	struct tv_store *store;
	const char *key;
};
int tv_store_read_at(void *ctx, uint64_t off, size_t len, struct tv_buf *out);

/* @return 0 when key is usable in every backend: 1..TV_KEY_MAX bytes, no NUL
 * or control characters, no empty, "." or ".." path component, and no
 * component starting with '.' (reserved for the file backend's temp files). */
int tv_store_key_check(const char *key);

#endif
