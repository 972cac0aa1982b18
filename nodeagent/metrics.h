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
/* Capture thread: the interfaces are now these (names from v). */
struct tv_iface;
void tv_metrics_set_interfaces(struct tv_agent_metrics *m, const struct tv_iface *v, uint32_t n);
/* Capture thread: interface j comes from index moved_from[j] (-1: new). */
void tv_metrics_move_interfaces(struct tv_agent_metrics *m, const int32_t *moved_from, uint32_t n);
/* The Kubernetes watch's metrics, per resource (w NULL: nothing). */
struct tv_k8s_watch;
struct tv_os_layer;
/* The OS layer's metrics (l NULL: off). */
void tv_metrics_render_os(struct tv_os_layer *l, struct tv_buf *o);
void tv_metrics_render_k8s(struct tv_k8s_watch *w, struct tv_buf *o);

#endif
