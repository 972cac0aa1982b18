/* SPDX-License-Identifier: Apache-2.0 */
/* store_file: the file:// backend of store.h (a directory tree, one file per key). */
#ifndef TV_STORE_FILE_H
#define TV_STORE_FILE_H

#include "archive/store/store.h"

/* root: the directory; url: for messages; flags: tv_store_open_flags. */
int tv_store_file_open(const char *root, const char *url, int flags, struct tv_store **out);

/* @return the local path of key in a file store (caller frees), or NULL when s
 * is not a file store. Lets local tools (the agent, salvage) work in place. */
char *tv_store_file_path(struct tv_store *s, const char *key);

#endif
