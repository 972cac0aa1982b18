/* SPDX-License-Identifier: Apache-2.0 */
/* store_file: file:// store. A key is a path below the root directory.
 *
 * Writes go to a temp file beside the target (".tmp.NAME.PID.N": names starting
 * with '.' are never keys, so listings skip them), are fsynced, then renamed
 * into place (replace) or hard-linked (create-if-absent: link(2) fails with
 * EEXIST atomically), and the directory is fsynced. A crash leaves either the
 * old object, the new one, or a temp file that listings ignore. */
#include "archive/store/store_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"

struct file_store {
	struct tv_store base;
	char *root;
};

static atomic_uint temp_counter;

static struct file_store *fs_of(struct tv_store *s)
{
	return (struct file_store *)s;
}

static int key_path(struct tv_store *s, const char *key, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s/%s", fs_of(s)->root, key) >= n)
		return tv_err(-ENAMETOOLONG, "%s: key too long: %.100s", s->url, key);
	return 0;
}

static void temp_path(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
	snprintf(out, n, "%.*s.tmp.%s.%d.%u", (int)dirlen, path, slash ? slash + 1 : path, (int)getpid(),
		 atomic_fetch_add(&temp_counter, 1));
}

/* Moves a complete, fsynced temp file to its final name. */
static int publish(const char *tmp, const char *path, int flags)
{
	int rc = 0;
	if (flags & TV_PUT_CREATE_ONLY) {
		if (link(tmp, path) != 0)
			rc = errno == EEXIST ? -EEXIST : tv_err(-errno, "link %s: %s", path, strerror(errno));
		unlink(tmp);
	} else if (rename(tmp, path) != 0) {
		rc = tv_err(-errno, "rename %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	if (rc == -EEXIST)
		return tv_err(-EEXIST, "%s: already exists", path);
	return rc ? rc : tv_fsync_parent(path);
}

/* Creates the temp file for path, writes it with fill(), fsyncs, publishes. */
static int put_with(struct tv_store *s, const char *key, int flags,
		    int (*fill)(int fd, const char *tmp, const void *arg, size_t len), const void *arg,
		    size_t len)
{
	char path[4096], tmp[4200];
	int rc = key_path(s, key, path, sizeof(path));
	if (rc)
		return rc;
	if ((flags & TV_PUT_CREATE_ONLY) && access(path, F_OK) == 0)
		return tv_err(-EEXIST, "%s: already exists", path);
	if ((rc = tv_mkdir_parent(path)))
		return rc;
	temp_path(path, tmp, sizeof(tmp));
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return tv_err(-errno, "create %s: %s", tmp, strerror(errno));
	rc = fill(fd, tmp, arg, len);
	if (!rc && fsync(fd) != 0)
		rc = tv_err(-errno, "fsync %s: %s", tmp, strerror(errno));
	if (close(fd) != 0 && !rc)
		rc = tv_err(-errno, "close %s: %s", tmp, strerror(errno));
	if (rc) {
		unlink(tmp);
		return rc;
	}
	return publish(tmp, path, flags);
}

static int fill_bytes(int fd, const char *tmp, const void *data, size_t len)
{
	return tv_write_all(fd, data, len, tmp);
}

static int fill_from_file(int fd, const char *tmp, const void *src_path, size_t len)
{
	(void)len;
	int src = open(src_path, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return tv_err(-errno, "%s: %s", (const char *)src_path, strerror(errno));
	int rc = tv_copy_fd(src, fd, src_path, tmp);
	close(src);
	return rc;
}

static int fs_put(struct tv_store *s, const char *key, const void *data, size_t len, int flags)
{
	return put_with(s, key, flags, fill_bytes, data, len);
}

static int fs_put_file(struct tv_store *s, const char *key, const char *src, int flags)
{
	return put_with(s, key, flags, fill_from_file, src, 0);
}

static int fs_get_range(struct tv_store *s, const char *key, uint64_t off, uint64_t len, struct tv_buf *out)
{
	char path[4096];
	int rc = key_path(s, key, path, sizeof(path));
	if (rc)
		return rc;
	tv_buf_reset(out);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tv_err(-errno, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return tv_err(-ENOENT, "%s: not a regular file", path);
	}
	uint64_t size = (uint64_t)st.st_size;
	if (len == UINT64_MAX)
		len = off <= size ? size - off : 0;
	if (off > size || len > size - off) {
		close(fd);
		return tv_err(TV_ETRUNC, "%s: object is %llu bytes, range %llu+%llu is past its end", path,
			      (unsigned long long)size, (unsigned long long)off, (unsigned long long)len);
	}
	if (len > SIZE_MAX || (rc = tv_buf_reserve(out, (size_t)len))) {
		close(fd);
		return tv_err(-EFBIG, "%s: %llu bytes do not fit the buffer", path, (unsigned long long)len);
	}
	rc = tv_pread_all(fd, out->data, (size_t)len, off, path);
	close(fd);
	if (!rc)
		out->len = (size_t)len;
	return rc;
}

static int fs_head(struct tv_store *s, const char *key, struct tv_store_entry *out)
{
	char path[4096];
	int rc = key_path(s, key, path, sizeof(path));
	if (rc)
		return rc;
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return tv_err(-ENOENT, "%s: no such object", path);
	out->key = NULL;
	out->size = (uint64_t)st.st_size;
	out->mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec;
	return 0;
}

static int fs_del(struct tv_store *s, const char *key)
{
	char path[4096];
	int rc = key_path(s, key, path, sizeof(path));
	if (rc)
		return rc;
	if (unlink(path) != 0 && errno != ENOENT)
		return tv_err(-errno, "delete %s: %s", path, strerror(errno));
	return 0;
}

/* ---- listing ---- */

struct item {
	char *name; /* key or common prefix */
	bool is_prefix;
	uint64_t size, mtime_ns;
};

struct walk {
	const char *prefix;
	size_t plen;
	char delimiter;
	struct item *items;
	size_t n, cap;
	int error;
};

static int add_item(struct walk *w, const char *name, bool is_prefix, const struct stat *st)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct item *p = realloc(w->items, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		w->items = p;
		w->cap = cap;
	}
	struct item *it = &w->items[w->n];
	if (!(it->name = strdup(name)))
		return -ENOMEM;
	it->is_prefix = is_prefix;
	it->size = st ? (uint64_t)st->st_size : 0;
	it->mtime_ns = st ? (uint64_t)st->st_mtim.tv_sec * 1000000000ULL + (uint64_t)st->st_mtim.tv_nsec : 0;
	w->n++;
	return 0;
}

static bool has_any_file(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) != 0)
			continue;
		found = S_ISREG(st.st_mode) || (S_ISDIR(st.st_mode) && has_any_file(p));
	}
	closedir(d);
	return found;
}

/* Walks dir (holding keys that start with rel, "" or "a/b/"), pruning subtrees
 * that cannot match the prefix and rolling up directories at the delimiter. */
static void walk_dir(struct walk *w, const char *dir, const char *rel)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while (!w->error && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096], key[TV_KEY_MAX + 2];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path) ||
		    (size_t)snprintf(key, sizeof(key), "%s%s", rel, e->d_name) > TV_KEY_MAX)
			continue;
		struct stat st;
		if (lstat(path, &st) != 0)
			continue;
		size_t klen = strlen(key);
		if (S_ISREG(st.st_mode)) {
			if (strncmp(key, w->prefix, w->plen) != 0)
				continue;
			const char *delim = w->delimiter ? strchr(key + w->plen, w->delimiter) : NULL;
			if (delim) /* only with delimiters other than '/' inside a name */
				continue;
			w->error = add_item(w, key, false, &st);
		} else if (S_ISDIR(st.st_mode)) {
			key[klen] = '/';
			key[klen + 1] = '\0';
			size_t dlen = klen + 1;
			bool inside = dlen >= w->plen && strncmp(key, w->prefix, w->plen) == 0;
			bool ancestor = dlen < w->plen && strncmp(key, w->prefix, dlen) == 0;
			if (inside && w->delimiter == '/' && dlen > w->plen) {
				/* the rolled-up prefix ends at the first '/' after the prefix */
				const char *cut = strchr(key + w->plen, '/');
				key[cut - key + 1] = '\0';
				if (has_any_file(path))
					w->error = add_item(w, key, true, NULL);
			} else if (inside || ancestor) {
				walk_dir(w, path, key);
			}
		}
	}
	closedir(d);
}

static int cmp_items(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->name, ((const struct item *)b)->name);
}

static int fs_list(struct tv_store *s, const char *prefix, char delimiter, const char *after, size_t max,
		   struct tv_store_list *out)
{
	if (delimiter && delimiter != '/')
		return tv_err(-EINVAL, "%s: only '/' is supported as a list delimiter", s->url);
	struct walk w = {.prefix = prefix, .plen = strlen(prefix), .delimiter = delimiter};
	walk_dir(&w, fs_of(s)->root, "");
	int rc = w.error;
	if (!rc && w.n)
		qsort(w.items, w.n, sizeof(*w.items), cmp_items);
	size_t count = 0;
	const char *last = NULL; /* the last name moved into out */
	for (size_t i = 0; !rc && i < w.n; i++) {
		struct item *it = &w.items[i];
		if (after && strcmp(it->name, after) <= 0)
			continue;
		if (count == max) {
			rc = (out->next = strdup(last)) ? 0 : -ENOMEM;
			break;
		}
		count++;
		if (it->is_prefix) {
			char **p = realloc(out->prefixes, (out->nprefixes + 1) * sizeof(*p));
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			out->prefixes = p;
			p[out->nprefixes++] = it->name;
		} else {
			struct tv_store_entry *p = realloc(out->entries, (out->n + 1) * sizeof(*p));
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			out->entries = p;
			p[out->n++] = (struct tv_store_entry){it->name, it->size, it->mtime_ns};
		}
		last = it->name;
		it->name = NULL; /* moved into out */
	}
	for (size_t i = 0; i < w.n; i++)
		free(w.items[i].name);
	free(w.items);
	if (rc) {
		tv_store_list_cleanup(out);
		return tv_err(rc, "%s: listing %s: out of memory", s->url, prefix);
	}
	return 0;
}

static void fs_free(struct tv_store *s)
{
	free(fs_of(s)->root);
	free(s->url);
	free(s);
}

static const struct tv_store_ops file_ops = {
	.scheme = "file",
	.put = fs_put,
	.put_file = fs_put_file,
	.get_range = fs_get_range,
	.head = fs_head,
	.del = fs_del,
	.list = fs_list,
	.free = fs_free,
};

int tv_store_file_open(const char *root, const char *url, int flags, struct tv_store **out)
{
	if (!root[0])
		return tv_err(-EINVAL, "store '%s': empty path", url);
	struct stat st;
	if (stat(root, &st) != 0) {
		if (errno != ENOENT || !(flags & TV_STORE_CREATE))
			return tv_err(-errno, "store '%s': %s", url, strerror(errno));
		int rc = tv_mkdir_p(root);
		if (rc)
			return rc;
	} else if (!S_ISDIR(st.st_mode)) {
		return tv_err(-ENOTDIR, "store '%s': not a directory", url);
	}
	struct file_store *fs = calloc(1, sizeof(*fs));
	if (!fs || !(fs->root = strdup(root)) || !(fs->base.url = strdup(url))) {
		if (fs)
			free(fs->root);
		free(fs);
		return tv_err(-ENOMEM, "out of memory");
	}
	size_t n = strlen(fs->root);
	while (n > 1 && fs->root[n - 1] == '/')
		fs->root[--n] = '\0';
	fs->base.ops = &file_ops;
	*out = &fs->base;
	return 0;
}

char *tv_store_file_path(struct tv_store *s, const char *key)
{
	if (s->ops != &file_ops)
		return NULL;
	char path[4096];
	if (key_path(s, key, path, sizeof(path)))
		return NULL;
	return strdup(path);
}
