/* SPDX-License-Identifier: Apache-2.0 */
/* metrics: the agent's Prometheus metrics (served by archive/common/httpd). */
#ifndef TV_METRICS_H
#define TV_METRICS_H

#include "archive/common/buf.h"
#include "nodeagent/agent.h"
#include "nodeagent/buffer.h"

/* Appends the agent's metrics in Prometheus text format 0.0.4. */
void tv_metrics_render(struct tv_agent_metrics *m, const struct tv_buffer_stats *bs, uint64_t cap,
		       struct tv_buf *out);
/* The Kubernetes watch's metrics, per resource (w NULL: nothing). */
struct tv_k8s_watch;
void tv_metrics_render_k8s(struct tv_k8s_watch *w, struct tv_buf *o);

#endif
