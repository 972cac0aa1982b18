/* SPDX-License-Identifier: Apache-2.0 */
/* fsutil: file-system helpers with crash-safe semantics.
 * All return 0 or a negative errno and set the error message naming the path. */
#ifndef TV_FSUTIL_H
#define TV_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "archive/common/buf.h"

/* mkdir -p with mode 0755. */
int tv_mkdir_p(const char *path);
/* mkdir -p of the directory holding path (nothing for a bare file name). */
int tv_mkdir_parent(const char *path);
/* write(2) until done, retrying on EINTR. */
int tv_write_all(int fd, const void *data, size_t n, const char *path_for_errors);
/* pread(2) exactly n bytes; -TV_ETRUNC-style short read reported as TV_ETRUNC. */
int tv_pread_all(int fd, void *data, size_t n, uint64_t off, const char *path_for_errors);
/* fsync the directory holding path, so a rename or create in it is durable. */
int tv_fsync_parent(const char *path);
/* fsync(2) of a file or directory by path: flushes what any descriptor left dirty. */
int tv_fsync_path(const char *path);
/* Reads a whole file into out (appending), bounded by out->limit. */
int tv_read_file(const char *path, struct tv_buf *out);
/* Whether path exists and is not a regular file (a device such as /dev/null,
 * a FIFO): an output that must be written in place, never renamed over. */
bool tv_is_special_file(const char *path);
/* Writes data to path atomically: temp file beside it, fsync, rename, fsync dir.
 * A path that exists and is not a regular file (/dev/null, a FIFO) is written
 * in place. */
int tv_write_file_atomic(const char *path, const void *data, size_t n);
/* Copies src to fd from the current offset; used to publish local files. */
int tv_copy_fd(int src_fd, int dst_fd, const char *src_path, const char *dst_path);
/* rm -rf path (a missing path is not an error; links are not followed). */
int tv_remove_tree(const char *path);
/* A fresh private directory $TMPDIR/tapvault-WHAT.XXXXXX (or under /tmp) into out. */
int tv_make_temp_dir(char *out, size_t n, const char *what);

#endif
