/* SPDX-License-Identifier: Apache-2.0 */
/* httpd: see httpd.h. One request at a time is plenty for a scraper. */
#include "archive/common/httpd.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "archive/common/err.h"

struct tv_httpd {
	int fd;
	pthread_t thread;
	atomic_bool stop;
	tv_httpd_render_fn fn;
	void *ctx;
	const char *content_type;
};

static void serve(struct tv_httpd *s, int c)
{
	char req[2048];
	struct pollfd p = {c, POLLIN, 0};
	if (poll(&p, 1, 2000) > 0 && read(c, req, sizeof(req)) > 0) {
		struct tv_buf body, resp;
		tv_buf_init(&body, 4 << 20);
		tv_buf_init(&resp, 4 << 20);
		s->fn(s->ctx, &body);
		tv_buf_printf(&resp, "HTTP/1.0 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n",
			      s->content_type, body.len);
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
	struct tv_httpd *s = arg;
	pthread_setname_np(pthread_self(), "tv-httpd");
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

int tv_httpd_start(struct tv_httpd **out, const char *addr, const char *what, const char *content_type,
		   tv_httpd_render_fn fn, void *ctx)
{
	*out = NULL;
	char host[256];
	const char *colon = strrchr(addr, ':');
	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		return tv_err(-EINVAL, "%s '%s': expected HOST:PORT", what, addr);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE},
			*res;
	int g = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
	if (g)
		return tv_err(-EINVAL, "%s '%s': %s", what, addr, gai_strerror(g));
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int rc = 0;
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 16) != 0)
		rc = tv_err(-errno, "%s %s: %s", what, addr, strerror(errno));
	freeaddrinfo(res);
	struct tv_httpd *s = rc ? NULL : calloc(1, sizeof(*s));
	if (!rc && !s)
		rc = -ENOMEM;
	if (rc) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	s->fd = fd;
	s->fn = fn;
	s->content_type = content_type;
	s->ctx = ctx;
	pthread_create(&s->thread, NULL, loop, s);
	*out = s;
	return 0;
}

void tv_httpd_stop(struct tv_httpd *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->fd);
	free(s);
}
