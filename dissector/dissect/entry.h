/* SPDX-License-Identifier: Apache-2.0 */
/* entry: the JSON of one API entry (docs/API.md) from what a parser
 * reported (struct tv_entry, proto.h) and where it happened: its connection,
 * the node that captured it, and the names of both ends at that moment. */
#ifndef TV_ENTRY_H
#define TV_ENTRY_H

#include <jansson.h>
#include <stdint.h>

#include "archive/flow.h"
#include "archive/names.h"
#include "dissector/proto/proto.h"

struct tv_entry_where {
	const char *stream;               /* the connection, "tcp A:p > B:q" */
	const char *node;                 /* that captured it */
	const struct tv_flow_key *client; /* client -> server */
	uint64_t id;                      /* a hash of node, connection, its first packet, index */
	uint64_t index;                   /* the entry's number on its connection */
	const struct tv_names *names;     /* may be NULL */
};

/* The entry object; e's request and response become its members (they stay
 * valid while the object lives). when receives the start time (RFC 3339). */
json_t *tv_entry_build(const struct tv_entry_where *w, const struct tv_entry *e, char when[40]);
/* The time between request and response in ms (0 when one is missing). */
double tv_entry_elapsed_ms(const struct tv_entry *e);

#endif
