/* SPDX-License-Identifier: Apache-2.0 */
/* entry_writer: serializes entries and writes them out, in the order given,
 * optionally on a thread of its own.
 *
 * Serializing bodies is about a third of dissection's work; on a machine
 * with a second core the writer thread takes it off the packet path. The
 * queue between the two holds a few entries (each at most two bodies of
 * --body-cap), so memory stays bounded whatever the output's speed. */
#ifndef TV_ENTRY_WRITER_H
#define TV_ENTRY_WRITER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

struct tv_entry_writer;

/* threaded: write on a thread of its own; otherwise inline in put.
 * @return 0, -ENOMEM, or the error of pthread_create (negated). */
int tv_entry_writer_open(struct tv_entry_writer **out, FILE *f, bool threaded);
/* Writes `before`, then j as compact JSON (when not NULL; ownership taken),
 * then `after`; before/after must be string literals (they are not copied). */
void tv_entry_writer_put(struct tv_entry_writer *w, const char *before, json_t *j, const char *after);
/* Writes everything queued, stops the thread and frees w.
 * @return 0, or -EIO when some entry could not be serialized or written. */
int tv_entry_writer_close(struct tv_entry_writer *w);

#endif
