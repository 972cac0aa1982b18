/* SPDX-License-Identifier: Apache-2.0 */
/* prom: the Prometheus text exposition format 0.0.4, written into a buffer.
 * Each metric gets its HELP and TYPE lines; labelled samples follow a header. */
#ifndef TV_PROM_H
#define TV_PROM_H

#include <stdint.h>

#include "archive/common/buf.h"

#define TV_PROM_CONTENT_TYPE "text/plain; version=0.0.4"

/* "# HELP name help" and "# TYPE name kind" (kind: counter, gauge). */
void tv_prom_header(struct tv_buf *o, const char *name, const char *help, const char *kind);
/* A header and one unlabelled sample. */
void tv_prom_counter(struct tv_buf *o, const char *name, const char *help, uint64_t v);
void tv_prom_gauge(struct tv_buf *o, const char *name, const char *help, double v);
/* One sample `name{label="value"} v` (after tv_prom_header); value is escaped. */
void tv_prom_sample(struct tv_buf *o, const char *name, const char *label, const char *value, uint64_t v);

#endif
