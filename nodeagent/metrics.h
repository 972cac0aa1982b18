/* SPDX-License-Identifier: Apache-2.0 */
/* metrics: Prometheus text exposition over a minimal HTTP/1.0 server. */
#ifndef TV_METRICS_H
#define TV_METRICS_H

#include "archive/common/buf.h"
#include "nodeagent/agent.h"
#include "nodeagent/buffer.h"

/* Appends the agent's metrics in Prometheus text format 0.0.4. */
void tv_metrics_render(struct tv_agent_metrics *m, const struct tv_buffer_stats *bs, uint64_t cap,
		       struct tv_buf *out);

typedef void (*tv_metrics_render_fn)(void *ctx, struct tv_buf *out);
struct tv_metrics_server;

/* Listens on "HOST:PORT" (bound before privileges are dropped) and serves
 * every request with fn's output from its own thread. */
int tv_metrics_server_start(struct tv_metrics_server **out, const char *addr, tv_metrics_render_fn fn,
			    void *ctx);
void tv_metrics_server_stop(struct tv_metrics_server *s);

#endif
