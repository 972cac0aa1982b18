/* SPDX-License-Identifier: Apache-2.0 */
/* bufdir: see bufdir.h. */
#include "archive/bufdir.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/keys.h"

int tv_bufdir_open_paths(const char *dir, uint64_t created_ns, uint64_t seq, unsigned stream, char **data,
			 char **events)
{
	char s[16] = "";
	if (stream)
		snprintf(s, sizeof(s), "_s%u", stream);
	if (asprintf(data, "%s/" TV_BUFDIR_OPEN "/%019" PRIu64 "-%010" PRIu64 "%s%s", dir, created_ns, seq, s,
		     TV_KEY_SUFFIX_DATA) < 0)
		return -ENOMEM;
	if (asprintf(events, "%s/" TV_BUFDIR_OPEN "/%019" PRIu64 "-%010" PRIu64 "%s%s", dir, created_ns, seq,
		     s, TV_KEY_SUFFIX_EVENTS) < 0) {
		free(*data);
		return -ENOMEM;
	}
	return 0;
}

int tv_bufdir_path(const char *dir, const char *sub, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s/%s", dir, sub) >= n)
		return tv_err(-ENAMETOOLONG, "%s/%s: path too long", dir, sub);
	return 0;
}

int tv_bufdir_object_path(const char *dir, const char *stem, const char *suffix, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s/%s%s", dir, stem, suffix) >= n)
		return tv_err(-ENAMETOOLONG, "%s: path too long", stem);
	return 0;
}

static int marker_path(const char *dir, const char *stem, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s/" TV_BUFDIR_UPLOADED "/%s", dir, stem) >= n)
		return tv_err(-ENAMETOOLONG, "%s: path too long", stem);
	return 0;
}

int tv_bufdir_mark_uploaded(const char *dir, const char *stem)
{
	char p[4096];
	int rc = marker_path(dir, stem, p, sizeof(p));
	if (!rc)
		rc = tv_mkdir_parent(p);
	return rc ? rc : tv_write_file_atomic(p, "", 0);
}

bool tv_bufdir_is_uploaded(const char *dir, const char *stem)
{
	char p[4096];
	return marker_path(dir, stem, p, sizeof(p)) == 0 && access(p, F_OK) == 0;
}

void tv_bufdir_unmark(const char *dir, const char *stem)
{
	char p[4096];
	if (marker_path(dir, stem, p, sizeof(p)) == 0)
		unlink(p);
}
