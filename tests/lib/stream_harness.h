/* SPDX-License-Identifier: Apache-2.0 */
/* stream_harness: one protocol parser of the registration table fed what
 * each direction of one connection delivered (no packets, no reassembly, no
 * detection), with the entries it emits collected as JSON. The unit test of
 * every parser and every per-parser fuzz target run through it.
 *
 * Scripts (the fuzz input format, tests/fuzz/seeds.py): records of a control
 * byte (bit 0: direction, bit 1: a gap instead of bytes, bit 2: a second
 * passes before it), a 16-bit big-endian length, then that many bytes (none
 * for a gap). For UDP parsers each record is one datagram. */
#ifndef TV_STREAM_HARNESS_H
#define TV_STREAM_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dissector/dissect/dissect.h"

struct tv_harness {
	struct tv_dissect *d;
	struct tv_conn *c;
	FILE *out;
	char *text; /* what the dissector wrote (open_memstream) */
	size_t len;
	uint64_t ts;
};

/* Caps small enough for tests and fuzzers to reach (4 KiB bodies). */
void tv_harness_small_caps(struct tv_dissect_opts *o);

/* A connection of the protocol named name (protos.def); o: caps (NULL: the
 * engine's defaults). @return 0, or -1 (no such protocol, out of memory). */
int tv_harness_open(struct tv_harness *h, const char *name, bool udp, const struct tv_dissect_opts *o);
/* Direction dir delivers p[0..n) (a datagram over UDP); time moves 1 us. */
void tv_harness_send(struct tv_harness *h, int dir, const void *p, size_t n);
void tv_harness_send_str(struct tv_harness *h, int dir, const char *s);
/* missing bytes of direction dir were not captured. */
void tv_harness_gap(struct tv_harness *h, int dir, uint64_t missing);
/* Time moves ns. */
void tv_harness_later(struct tv_harness *h, uint64_t ns);
/* Ends the connection and the dissector. @return the entries in order (a
 * JSON array, caller owns), NULL if the output was not JSON Lines. */
json_t *tv_harness_close(struct tv_harness *h);

/* Plays a script; with split, each record's bytes are delivered in pieces
 * of 1, 2, 3... bytes at the same time stamp. @return the entries, or NULL. */
json_t *tv_harness_script(const char *name, bool udp, const uint8_t *script, size_t n, bool split,
			  const struct tv_dissect_opts *o);

/* The member at a dotted path ("request.headers.0.name"; numbers index
 * arrays) of j, or NULL; and its value as a string (NULL unless a string),
 * an integer (-1 unless one) or a boolean. */
json_t *tv_j(json_t *j, const char *path);
const char *tv_j_str(json_t *j, const char *path);
long long tv_j_int(json_t *j, const char *path);
bool tv_j_true(json_t *j, const char *path);

#endif
