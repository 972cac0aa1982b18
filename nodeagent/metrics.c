/* SPDX-License-Identifier: Apache-2.0 */
/* metrics: see metrics.h. One request at a time is plenty for a scraper. */
#include "nodeagent/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/log.h"

struct tv_metrics_server {
	int fd;
	pthread_t thread;
	atomic_bool stop;
	tv_metrics_render_fn fn;
	void *ctx;
};

static void counter(struct tv_buf *o, const char *name, const char *help, uint64_t v)
{
	tv_buf_printf(o, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n", name, help, name, name, v);
}

static void gauge(struct tv_buf *o, const char *name, const char *help, double v)
{
	tv_buf_printf(o, "# HELP %s %s\n# TYPE %s gauge\n%s %.6g\n", name, help, name, name, v);
}

static void per_iface_kind(struct tv_buf *o, struct tv_agent_metrics *m, const char *name, const char *help,
			   const char *kind, _Atomic uint64_t *v)
{
	tv_buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, kind);
	for (uint32_t i = 0; i < m->niface; i++)
		tv_buf_printf(o, "%s{interface=\"%s\"} %" PRIu64 "\n", name, m->iface_names[i],
			      atomic_load(&v[i]));
}

static void per_iface(struct tv_buf *o, struct tv_agent_metrics *m, const char *name, const char *help,
		      _Atomic uint64_t *v)
{
	per_iface_kind(o, m, name, help, "counter", v);
}

void tv_metrics_render(struct tv_agent_metrics *m, const struct tv_buffer_stats *bs, uint64_t cap,
		       struct tv_buf *o)
{
	per_iface(o, m, "tapvault_packets_total", "Packets captured.", m->packets);
	per_iface(o, m, "tapvault_bytes_total", "Captured bytes.", m->bytes);
	per_iface(o, m, "tapvault_kernel_drops_total", "Packets the kernel dropped (ring full).",
		  m->kernel_drops);
	per_iface(o, m, "tapvault_interface_drops_total", "Packets the interface dropped.", m->iface_drops);
	per_iface_kind(o, m, "tapvault_interface_up", "1 while capturing, 0 while lost and being reopened.",
		       "gauge", m->iface_up);
	per_iface(o, m, "tapvault_interface_lost_total", "Times the interface failed (deleted, set down).",
		  m->iface_lost);
	per_iface(o, m, "tapvault_interface_reopened_total", "Times a lost interface was captured again.",
		  m->iface_reopened);
	counter(o, "tapvault_segments_sealed_total", "Segments sealed into the buffer.", bs->sealed);
	counter(o, "tapvault_segments_recycled_total", "Uploaded segments removed to make room.",
		bs->recycled);
	counter(o, "tapvault_segments_lost_total", "Segments removed before upload to keep the cap.",
		bs->lost);
	counter(o, "tapvault_segments_salvaged_total", "Open segments recovered after a crash.",
		bs->salvaged);
	counter(o, "tapvault_segments_corrupt_total", "Open segments with nothing recoverable.", bs->corrupt);
	gauge(o, "tapvault_buffer_bytes", "Bytes of sealed segments in the buffer.",
	      (double)bs->sealed_bytes);
	gauge(o, "tapvault_buffer_segments", "Sealed segments in the buffer.", (double)bs->segments);
	gauge(o, "tapvault_buffer_cap_bytes", "tap.capture.raw.storageSize.", (double)cap);
	gauge(o, "tapvault_writer_queue_depth", "Chunks waiting for the writer.",
	      (double)atomic_load(&m->queue_depth));
	gauge(o, "tapvault_seals_pending", "Segments written and being flushed to disk before sealing.",
	      (double)atomic_load(&m->seals_pending));
	uint64_t raw = atomic_load(&m->raw_bytes), comp = atomic_load(&m->compressed_bytes);
	gauge(o, "tapvault_compression_ratio", "pcapng bytes per stored byte, sealed segments.",
	      comp ? (double)raw / (double)comp : 0);
	counter(o, "tapvault_write_errors_total", "Segment write failures (disk full, I/O).",
		atomic_load(&m->write_errors));
	counter(o, "tapvault_packets_lost_to_errors_total", "Packets dropped by write failures.",
		atomic_load(&m->packets_lost_to_errors));
	gauge(o, "tapvault_zstd_level", "zstd level in use (lowered while the writer has a backlog).",
	      (double)atomic_load(&m->zstd_level));
	gauge(o, "tapvault_capture_paused", "1 while tap.capture.stopped is true.",
	      (double)atomic_load(&m->paused));
}

static void serve(struct tv_metrics_server *s, int c)
{
	char req[2048];
	struct pollfd p = {c, POLLIN, 0};
	if (poll(&p, 1, 2000) > 0 && read(c, req, sizeof(req)) > 0) {
		struct tv_buf body, resp;
		tv_buf_init(&body, 4 << 20);
		tv_buf_init(&resp, 4 << 20);
		s->fn(s->ctx, &body);
		tv_buf_printf(&resp,
			      "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: "
			      "%zu\r\n\r\n",
			      body.len);
		tv_buf_append(&resp, body.data, body.len);
		size_t off = 0;
		while (off < resp.len) {
			ssize_t w = write(c, resp.data + off, resp.len - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		tv_buf_cleanup(&body);
		tv_buf_cleanup(&resp);
	}
	close(c);
}

static void *loop(void *arg)
{
	struct tv_metrics_server *s = arg;
	pthread_setname_np(pthread_self(), "tv-metrics");
	while (!atomic_load(&s->stop)) {
		struct pollfd p = {s->fd, POLLIN, 0};
		if (poll(&p, 1, 200) <= 0)
			continue;
		int c = accept(s->fd, NULL, NULL);
		if (c >= 0)
			serve(s, c);
	}
	return NULL;
}

int tv_metrics_server_start(struct tv_metrics_server **out, const char *addr, tv_metrics_render_fn fn,
			    void *ctx)
{
	*out = NULL;
	char host[256];
	const char *colon = strrchr(addr, ':');
	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		return tv_err(-EINVAL, "agent.metricsAddr '%s': expected HOST:PORT", addr);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE},
			*res;
	int g = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
	if (g)
		return tv_err(-EINVAL, "agent.metricsAddr '%s': %s", addr, gai_strerror(g));
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int rc = 0;
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 16) != 0)
		rc = tv_err(-errno, "metrics %s: %s", addr, strerror(errno));
	freeaddrinfo(res);
	struct tv_metrics_server *s = rc ? NULL : calloc(1, sizeof(*s));
	if (!rc && !s)
		rc = -ENOMEM;
	if (rc) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	s->fd = fd;
	s->fn = fn;
	s->ctx = ctx;
	pthread_create(&s->thread, NULL, loop, s);
	*out = s;
	return 0;
}

void tv_metrics_server_stop(struct tv_metrics_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->fd);
	free(s);
}
