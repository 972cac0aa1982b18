/* SPDX-License-Identifier: Apache-2.0 */
/* fsutil: see fsutil.h. */
#include "archive/common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/common/err.h"

int tv_mkdir_p(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(tmp))
		return tv_err(-ENAMETOOLONG, "mkdir %s: bad length", path);
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return tv_err(-errno, "mkdir %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return tv_err(-errno, "mkdir %s: %s", tmp, strerror(errno));
	return 0;
}

int tv_mkdir_parent(const char *path)
{
	char dir[4096];
	if ((size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir))
		return tv_err(-ENAMETOOLONG, "%.100s...: path too long", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	return tv_mkdir_p(dir);
}

int tv_write_all(int fd, const void *data, size_t n, const char *path)
{
	const uint8_t *p = data;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return tv_err(-errno, "write %s: %s", path, strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int tv_pread_all(int fd, void *data, size_t n, uint64_t off, const char *path)
{
	uint8_t *p = data;
	while (n) {
		ssize_t r = pread(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return tv_err(-errno, "read %s at offset %llu: %s", path, (unsigned long long)off,
				      strerror(errno));
		if (r == 0)
			return tv_err(TV_ETRUNC, "read %s: file ends before offset %llu", path,
				      (unsigned long long)(off + n));
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int tv_fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tv_err(-errno, "open %s: %s", path, strerror(errno));
	int rc = 0;
	if (fsync(fd) != 0)
		rc = tv_err(-errno, "fsync %s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

int tv_fsync_parent(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", path);
	return tv_fsync_path(dirname(tmp));
}

int tv_read_file(const char *path, struct tv_buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tv_err(-errno, "%s: %s", path, strerror(errno));
	int rc = 0;
	for (;;) {
		if ((rc = tv_buf_reserve(out, 1 << 16))) {
			rc = tv_err(rc, "%s: larger than %zu bytes", path, out->limit);
			break;
		}
		ssize_t n = read(fd, out->data + out->len, out->cap - out->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = tv_err(-errno, "read %s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
	}
	close(fd);
	return rc;
}

/* /dev/null, a FIFO, a terminal: renaming over one would replace it with a
 * file, so it is written as it is. */
static int write_in_place(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return tv_err(-errno, "open %s: %s", path, strerror(errno));
	int rc = tv_write_all(fd, data, n, path);
	if (close(fd) != 0 && !rc)
		rc = tv_err(-errno, "close %s: %s", path, strerror(errno));
	return rc;
}

bool tv_is_special_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

int tv_write_file_atomic(const char *path, const void *data, size_t n)
{
	if (tv_is_special_file(path))
		return write_in_place(path, data, n);
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return tv_err(-errno, "create %s: %s", tmp, strerror(errno));
	int rc = tv_write_all(fd, data, n, tmp);
	if (!rc && fsync(fd) != 0)
		rc = tv_err(-errno, "fsync %s: %s", tmp, strerror(errno));
	if (close(fd) != 0 && !rc)
		rc = tv_err(-errno, "close %s: %s", tmp, strerror(errno));
	if (!rc && rename(tmp, path) != 0)
		rc = tv_err(-errno, "rename %s: %s", path, strerror(errno));
	if (rc) {
		unlink(tmp);
		return rc;
	}
	return tv_fsync_parent(path);
}

int tv_copy_fd(int src_fd, int dst_fd, const char *src_path, const char *dst_path)
{
	static __thread uint8_t chunk[1 << 17];
	for (;;) {
		ssize_t n = read(src_fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return tv_err(-errno, "read %s: %s", src_path, strerror(errno));
		if (n == 0)
			return 0;
		int rc = tv_write_all(dst_fd, chunk, (size_t)n, dst_path);
		if (rc)
			return rc;
	}
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)ftw;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

int tv_remove_tree(const char *path)
{
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
		return tv_err(-errno, "removing %s: %s", path, strerror(errno));
	return 0;
}

int tv_make_temp_dir(char *out, size_t n, const char *what)
{
	const char *tmp = getenv("TMPDIR");
	if ((size_t)snprintf(out, n, "%s/tapvault-%s.XXXXXX", tmp && tmp[0] ? tmp : "/tmp", what) >= n)
		return tv_err(-ENAMETOOLONG, "TMPDIR too long");
	if (!mkdtemp(out))
		return tv_err(-errno, "mkdtemp %s: %s", out, strerror(errno));
	return 0;
}
