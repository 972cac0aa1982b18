/* SPDX-License-Identifier: Apache-2.0 */
/* httpd: a minimal HTTP/1.0 server for one read-only document (a metrics
 * endpoint): every request is answered with what the render callback writes,
 * one request at a time, on a thread of its own. Enough for a scraper; the
 * dashboard has a real server of its own. */
#ifndef TV_HTTPD_H
#define TV_HTTPD_H

#include "archive/common/buf.h"

typedef void (*tv_httpd_render_fn)(void *ctx, struct tv_buf *out);
struct tv_httpd;

/* Listens on "HOST:PORT" (bind it before privileges are dropped); `what`
 * names the setting in errors ("agent.metricsAddr"). content_type is a
 * string literal. @return 0 or negative errno (message set). */
int tv_httpd_start(struct tv_httpd **out, const char *addr, const char *what, const char *content_type,
		   tv_httpd_render_fn fn, void *ctx);
/* Stops the thread and closes the socket; NULL is a no-op. */
void tv_httpd_stop(struct tv_httpd *s);

#endif
