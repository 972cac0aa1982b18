/* SPDX-License-Identifier: Apache-2.0 */
/* bufdir: the layout of a node's buffer directory (docs/FORMAT.md §6), the
 * one contract the agent (which writes it) and the uploader (which drains it)
 * share. A buffer is a file:// store with segment keys, plus:
 *   open/CREATEDNS-SEQ.*   the segment being written (salvaged after a crash)
 *   .uploaded/STEM         empty marker: every object of STEM is in the store
 *   .corrupt/              open segments nothing could be salvaged from */
#ifndef TV_BUFDIR_H
#define TV_BUFDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TV_BUFDIR_OPEN "open"
#define TV_BUFDIR_UPLOADED ".uploaded"
#define TV_BUFDIR_CORRUPT ".corrupt"

/* "DIR/open/CREATEDNS-SEQ.pcapng.zst" and its events file (caller frees).
 * @return 0 or -ENOMEM. */
int tv_bufdir_open_paths(const char *dir, uint64_t created_ns, uint64_t seq, unsigned stream, char **data,
			 char **events);

/* "DIR/sub" into out. @return 0 or -ENAMETOOLONG (message set). */
int tv_bufdir_path(const char *dir, const char *sub, char *out, size_t n);
/* "DIR/STEM SUFFIX": where a sealed object lives. @return 0 or -ENAMETOOLONG. */
int tv_bufdir_object_path(const char *dir, const char *stem, const char *suffix, char *out, size_t n);

/* Marks segment stem as stored everywhere it must be (atomically).
 * @return 0 or an I/O error. */
int tv_bufdir_mark_uploaded(const char *dir, const char *stem);
bool tv_bufdir_is_uploaded(const char *dir, const char *stem);
/* Removes the marker (with its segment). */
void tv_bufdir_unmark(const char *dir, const char *stem);

#endif
