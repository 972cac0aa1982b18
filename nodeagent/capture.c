/* SPDX-License-Identifier: Apache-2.0 */
/* capture: see capture.h. Picks the backend and dispatches to its ops. */
#include "nodeagent/capture.h"

#include <errno.h>
#include <string.h>

#include "archive/common/err.h"

static const struct tv_capture_ops *const backends[] = {&tv_capture_pcap_ops};

int tv_capture_open(struct tv_capture **out, const struct tv_capture_opts *o)
{
	const char *name = o->backend ? o->backend : "pcap";
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i]->open(out, o);
	*out = NULL;
	return tv_err(-ENOTSUP, "capture backend '%s' is not built in (pcap)", name);
}

void tv_capture_free(struct tv_capture *c)
{
	if (c)
		c->ops->free(c);
}

uint32_t tv_capture_niface(const struct tv_capture *c)
{
	return c->ops->niface(c);
}

void tv_capture_iface(const struct tv_capture *c, uint32_t i, struct tv_iface *out)
{
	c->ops->iface(c, i, out);
}

int tv_capture_poll(struct tv_capture *c, int timeout_ms, tv_capture_fn fn, void *ctx)
{
	return c->ops->poll(c, timeout_ms, fn, ctx);
}

int tv_capture_stats(struct tv_capture *c, uint32_t i, uint64_t *received, uint64_t *dropped,
		     uint64_t *if_dropped)
{
	return c->ops->stats(c, i, received, dropped, if_dropped);
}

void tv_capture_health(const struct tv_capture *c, uint32_t i, bool *up, uint64_t *lost, uint64_t *reopened)
{
	c->ops->health(c, i, up, lost, reopened);
}

uint64_t tv_capture_health_changes(const struct tv_capture *c)
{
	return c->ops->health_changes(c);
}

int tv_capture_pause(struct tv_capture *c, bool paused)
{
	return c->ops->pause(c, paused);
}

bool tv_capture_is_replay(const struct tv_capture *c)
{
	return c->ops->is_replay(c);
}

int tv_capture_reconcile(struct tv_capture *c, const struct tv_capture_want *want, uint32_t n,
			 int32_t *moved_from)
{
	return c->ops->reconcile ? c->ops->reconcile(c, want, n, moved_from) : -ENOTSUP;
}
