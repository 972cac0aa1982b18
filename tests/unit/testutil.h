/* SPDX-License-Identifier: Apache-2.0 */
/* testutil: synthetic packets and temp directories for the unit tests. */
#ifndef TV_TESTUTIL_H
#define TV_TESTUTIL_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include "archive/segment.h"

/* Builds an Ethernet/IPv4/TCP (proto 6) or UDP (17) frame from 10.0.0.a:sport
 * to 10.0.0.b:dport with `payload` bytes of deterministic content derived from
 * seed. @return the frame length written into out (caller gives >= 54+payload). */
size_t tu_make_frame(uint8_t *out, uint8_t proto, uint8_t a, uint16_t sport, uint8_t b, uint16_t dport,
		     size_t payload, uint32_t seed);

/* Creates a fresh temp directory; returns its path (static storage per call slot). */
const char *tu_tmpdir(void);
/* rm -rf path. */
void tu_rmrf(const char *path);

/* Default writer options for node "node-a". */
void tu_writer_opts(struct tv_seg_writer_opts *o);
/* One Ethernet interface named eth0. */
void tu_eth_iface(struct tv_iface *ifc);

#endif
