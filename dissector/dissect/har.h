/* SPDX-License-Identifier: Apache-2.0 */
/* har: HTTP entries as one HAR 1.2 document (`dissect --format har`). Our
 * extra fields take HAR's custom form ("_path", "_stream"); the query
 * string is decoded into queryString; a response's Location is redirectURL. */
#ifndef TV_HAR_H
#define TV_HAR_H

#include <stdbool.h>

#include "dissector/dissect/entry.h"
#include "dissector/dissect/entry_writer.h"

/* The document's head and tail around the entries. */
void tv_har_begin(struct tv_entry_writer *w);
void tv_har_end(struct tv_entry_writer *w);
/* One HTTP entry (e's request must be an object); first: the document's first. */
void tv_har_entry(struct tv_entry_writer *wr, const struct tv_entry_where *w, const struct tv_entry *e,
		  const char *when, bool first);

#endif
