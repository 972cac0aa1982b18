/* SPDX-License-Identifier: Apache-2.0 */
/* capture_pcap: the libpcap backend of capture.h (tv_capture_pcap_ops).
 *
 * Each interface gets its own handle with a large TPACKET_V3 ring
 * (pcap_set_buffer_size), nanosecond timestamps, full snaplen and
 * non-blocking mode; one poll(2) waits on all of them and pcap_dispatch
 * drains each ring. The callback only copies into a chunk, so a single
 * thread keeps up with the ring while compression runs elsewhere.
 *
 * An interface that fails (a pod's veth deleted or set down) is closed and
 * reopened every second until it is back, with the same filter; the other
 * interfaces go on. Its counters continue across reopens. */
#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "nodeagent/capture.h"

struct handle {
	pcap_t *p; /* NULL while the interface is lost */
	struct tv_iface iface;
	struct bpf_program prog; /* the user's filter */
	bool have_prog;
	char *filter;      /* its text (NULL: none) */
	bool never_opened; /* added while it could not be opened: its link type is not known yet */
	/* loss and reopening */
	uint64_t next_retry_ns;
	uint64_t base_recv, base_drop, base_ifdrop; /* counted by handles closed before */
	uint64_t lost, reopened;
};

struct pcap_capture {
	struct tv_capture base; /* first: what capture.c dispatches on */
	struct handle *h;
	uint32_t n;
	bool replay, paused;
	uint32_t ndown;       /* interfaces lost and being reopened */
	uint64_t transitions; /* losses plus reopenings, for tv_capture_health_changes */
	struct pollfd *pfds;
	struct tv_capture_opts o; /* for reopening (snaplen, ring); names and filter live in the handles */
};

#define RETRY_NS 1000000000ULL
#define DISPATCH_MAX 8192

struct dispatch_ctx {
	tv_capture_fn fn;
	void *ctx;
	uint32_t ifindex;
	int rc;
	int delivered;
};

static int set_filter(struct handle *h, const char *filter)
{
	if (!filter || !filter[0])
		return 0;
	if (pcap_compile(h->p, &h->prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
		return tv_err(-EINVAL, "filter '%s': %s", filter, pcap_geterr(h->p));
	h->have_prog = true;
	if (!(h->filter = strdup(filter)))
		return tv_err(-ENOMEM, "out of memory");
	if (pcap_setfilter(h->p, &h->prog) != 0)
		return tv_err(-EINVAL, "%s: cannot set filter: %s", h->iface.name, pcap_geterr(h->p));
	return 0;
}

static void drop_filter(struct handle *h)
{
	if (h->have_prog)
		pcap_freecode(&h->prog);
	h->have_prog = false;
	free(h->filter);
	h->filter = NULL;
}

static int open_live(struct handle *h, const char *name, const struct tv_capture_opts *o)
{
	char err[PCAP_ERRBUF_SIZE];
	h->p = pcap_create(name, err);
	if (!h->p)
		return tv_err(-ENODEV, "interface %s: %s", name, err);
	pcap_set_snaplen(h->p, (int)o->snaplen);
	pcap_set_buffer_size(h->p, (int)(o->ring_bytes > INT32_MAX ? INT32_MAX : o->ring_bytes));
	pcap_set_timeout(h->p, 100);
	pcap_set_immediate_mode(h->p, 0);
	pcap_set_tstamp_precision(h->p, PCAP_TSTAMP_PRECISION_NANO);
	int rc = pcap_activate(h->p);
	if (rc < 0) {
		int e = rc == PCAP_ERROR_PERM_DENIED      ? -EPERM
			: rc == PCAP_ERROR_NO_SUCH_DEVICE ? -ENODEV
							  : -EIO;
		return tv_err(e, "interface %s: %s%s", name, pcap_statustostr(rc),
			      e == -EPERM ? " (needs CAP_NET_RAW; see docs/AGENT.md)" : "");
	}
	if (rc > 0)
		tv_warn("interface %s: %s", name, pcap_statustostr(rc));
	if (pcap_setnonblock(h->p, 1, err) != 0)
		return tv_err(-EIO, "interface %s: %s", name, err);
	return 0;
}

static int open_replay(struct handle *h, const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	h->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!h->p)
		return tv_err(-EIO, "%s: %s", path, err);
	return 0;
}

static void lp_free(struct tv_capture *base);

static int lp_open(struct tv_capture **out, const struct tv_capture_opts *o)
{
	*out = NULL;
	struct pcap_capture *c = calloc(1, sizeof(*c));
	uint32_t n = o->read_file ? 1 : o->ninterfaces;
	if (n > TV_CAPTURE_MAX_IFACES)
		return tv_err(-EINVAL, "at most %d interfaces", TV_CAPTURE_MAX_IFACES);
	if (!c || !(c->h = calloc(TV_CAPTURE_MAX_IFACES, sizeof(*c->h))) ||
	    !(c->pfds = calloc(TV_CAPTURE_MAX_IFACES, sizeof(*c->pfds)))) {
		lp_free(&c->base);
		return tv_err(-ENOMEM, "out of memory");
	}
	c->base.ops = &tv_capture_pcap_ops;
	c->replay = o->read_file != NULL;
	c->o = *o;
	c->o.interfaces = NULL; /* the names live in each handle's iface */
	c->o.filter = NULL;
	int rc = 0;
	for (uint32_t i = 0; i < n && !rc; i++) {
		struct handle *h = &c->h[i];
		const char *name = c->replay ? "replay" : o->interfaces[i];
		rc = c->replay ? open_replay(h, o->read_file) : open_live(h, name, o);
		c->n = i + 1;
		if (rc)
			break;
		snprintf(h->iface.name, sizeof(h->iface.name), "%s", name);
		h->iface.linktype = tv_linktype_from_dlt(pcap_datalink(h->p));
		h->iface.snaplen = (uint32_t)pcap_snapshot(h->p);
		if ((rc = set_filter(h, o->filter)))
			break;
		c->pfds[i].fd = c->replay ? -1 : pcap_get_selectable_fd(h->p);
		c->pfds[i].events = POLLIN;
	}
	if (rc) {
		lp_free(&c->base);
		return rc;
	}
	*out = &c->base;
	return 0;
}

static void lp_free(struct tv_capture *base)
{
	struct pcap_capture *c = (struct pcap_capture *)base;
	if (!c)
		return;
	for (uint32_t i = 0; c->h && i < c->n; i++) {
		drop_filter(&c->h[i]);
		if (c->h[i].p)
			pcap_close(c->h[i].p);
	}
	free(c->h);
	free(c->pfds);
	free(c);
}

static uint32_t lp_niface(const struct tv_capture *base)
{
	const struct pcap_capture *c = (const struct pcap_capture *)base;
	return c->n;
}

static void lp_iface(const struct tv_capture *base, uint32_t i, struct tv_iface *out)
{
	const struct pcap_capture *c = (const struct pcap_capture *)base;
	*out = c->h[i].iface;
}

static bool lp_is_replay(const struct tv_capture *base)
{
	const struct pcap_capture *c = (const struct pcap_capture *)base;
	return c->replay;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct dispatch_ctx *d = (struct dispatch_ctx *)user;
	if (d->rc)
		return;
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec;
	d->rc = d->fn(d->ctx, d->ifindex, ts, h->caplen, h->len, data);
	d->delivered++;
}

static uint64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* The interface failed: keep its counters, close it, retry from now on. */
static void lose(struct pcap_capture *c, uint32_t i)
{
	struct handle *h = &c->h[i];
	tv_warn("interface %s: %s; reopening it every second", h->iface.name, pcap_geterr(h->p));
	struct pcap_stat st;
	if (pcap_stats(h->p, &st) == 0) {
		h->base_recv += st.ps_recv;
		h->base_drop += st.ps_drop;
		h->base_ifdrop += st.ps_ifdrop;
	}
	pcap_close(h->p);
	h->p = NULL;
	c->pfds[i].fd = -1; /* poll(2) skips it */
	h->lost++;
	c->ndown++;
	c->transitions++;
	h->next_retry_ns = mono_ns() + RETRY_NS;
}

static int apply_pause(struct handle *h, bool paused);

/* Tries to open a lost interface again; it must come back with the link
 * type its segments describe. */
static void try_reopen(struct pcap_capture *c, uint32_t i)
{
	struct handle *h = &c->h[i], fresh = {0};
	h->next_retry_ns = mono_ns() + RETRY_NS;
	if (open_live(&fresh, h->iface.name, &c->o) != 0) {
		if (fresh.p)
			pcap_close(fresh.p);
		tv_debug("interface %s: reopen: %s", h->iface.name, tv_errmsg());
		return; /* still gone: quiet, it was logged when lost */
	}
	if (h->never_opened && tv_linktype_from_dlt(pcap_datalink(fresh.p)) == h->iface.linktype) {
		h->never_opened = false; /* Ethernet, as its segment's interface table assumed */
	} else if (tv_linktype_from_dlt(pcap_datalink(fresh.p)) != h->iface.linktype) {
		tv_warn("interface %s is back with another link type; not capturing it", h->iface.name);
		pcap_close(fresh.p);
		return;
	}
	/* a filter set while it was away was kept as text: compile it for this handle */
	if (h->filter && !h->have_prog) {
		if (pcap_compile(fresh.p, &h->prog, h->filter, 1, PCAP_NETMASK_UNKNOWN) == 0)
			h->have_prog = true;
		else
			tv_error("interface %s: filter '%s': %s; capturing it unfiltered", h->iface.name,
				 h->filter, pcap_geterr(fresh.p));
	}
	/* the pause filter only when paused: resuming would install fresh's own (none) over h's */
	if ((h->have_prog && pcap_setfilter(fresh.p, &h->prog) != 0) ||
	    (c->paused && apply_pause(&fresh, true) != 0)) {
		tv_warn("interface %s: cannot set the filter again: %s", h->iface.name, pcap_geterr(fresh.p));
		pcap_close(fresh.p);
		return;
	}
	h->p = fresh.p;
	c->pfds[i].fd = pcap_get_selectable_fd(h->p);
	h->reopened++;
	c->ndown--;
	c->transitions++;
	tv_info("interface %s is back: capturing it again", h->iface.name);
}

static int dispatch(struct pcap_capture *c, uint32_t i, struct dispatch_ctx *d, int max)
{
	d->ifindex = i;
	if (!c->h[i].p)
		return 0;
	int n = pcap_dispatch(c->h[i].p, max, on_packet, (u_char *)d);
	if (d->rc)
		return d->rc;
	if (n == PCAP_ERROR && !c->replay) {
		lose(c, i);
		return 0;
	}
	if (n == PCAP_ERROR)
		return tv_err(-EIO, "%s: %s", c->h[i].iface.name, pcap_geterr(c->h[i].p));
	return n;
}

static int lp_poll(struct tv_capture *base, int timeout_ms, tv_capture_fn fn, void *ctx)
{
	struct pcap_capture *c = (struct pcap_capture *)base;
	struct dispatch_ctx d = {fn, ctx, 0, 0, 0};
	if (c->replay) {
		int n = dispatch(c, 0, &d, 4096);
		if (n < 0)
			return n;
		return n == 0 ? -ENODATA : d.delivered;
	}
	if (c->ndown) { /* the clock and the scan only while something is lost */
		uint64_t now = mono_ns();
		for (uint32_t i = 0; i < c->n; i++)
			if (!c->h[i].p && now >= c->h[i].next_retry_ns)
				try_reopen(c, i);
	}
	int ready = poll(c->pfds, c->n, timeout_ms);
	if (ready < 0)
		return errno == EINTR ? 0 : tv_err(-errno, "poll: %s", strerror(errno));
	/* Drain every ring even without POLLIN: TPACKET_V3 blocks may be ready
	 * after the timeout. At most DISPATCH_MAX packets each: with -1 libpcap
	 * reads on while blocks keep coming, and under sustained load the caller
	 * would never get to seal a segment or hand a chunk over. */
	for (uint32_t i = 0; i < c->n; i++) {
		int n = dispatch(c, i, &d, DISPATCH_MAX);
		if (n < 0)
			return n;
	}
	return d.delivered;
}

static int lp_stats(struct tv_capture *base, uint32_t i, uint64_t *received, uint64_t *dropped,
		    uint64_t *if_dropped)
{
	struct pcap_capture *c = (struct pcap_capture *)base;
	const struct handle *h = &c->h[i];
	struct pcap_stat st = {0};
	if (c->replay || (h->p && pcap_stats(h->p, &st) != 0))
		return -ENOTSUP;
	*received = h->base_recv + st.ps_recv;
	*dropped = h->base_drop + st.ps_drop;
	*if_dropped = h->base_ifdrop + st.ps_ifdrop;
	return 0;
}

static uint64_t lp_health_changes(const struct tv_capture *base)
{
	const struct pcap_capture *c = (const struct pcap_capture *)base;
	return c->transitions;
}

static void lp_health(const struct tv_capture *base, uint32_t i, bool *up, uint64_t *lost, uint64_t *reopened)
{
	const struct pcap_capture *c = (const struct pcap_capture *)base;
	*up = c->replay || c->h[i].p != NULL;
	*lost = c->h[i].lost;
	*reopened = c->h[i].reopened;
}

/* Installs the pause filter, or the user's filter back (h->p must be open). */
static int apply_pause(struct handle *h, bool paused)
{
	struct bpf_program none;
	int rc;
	if (paused) {
		/* "less 1": no real packet is that short */
		if (pcap_compile(h->p, &none, "less 1", 1, PCAP_NETMASK_UNKNOWN) != 0)
			return tv_err(-EIO, "%s: %s", h->iface.name, pcap_geterr(h->p));
		rc = pcap_setfilter(h->p, &none);
		pcap_freecode(&none);
	} else if (h->have_prog) {
		rc = pcap_setfilter(h->p, &h->prog);
	} else {
		if (pcap_compile(h->p, &none, "", 1, PCAP_NETMASK_UNKNOWN) != 0)
			return tv_err(-EIO, "%s: %s", h->iface.name, pcap_geterr(h->p));
		rc = pcap_setfilter(h->p, &none);
		pcap_freecode(&none);
	}
	return rc != 0 ? tv_err(-EIO, "%s: %s", h->iface.name, pcap_geterr(h->p)) : 0;
}

static int lp_pause(struct tv_capture *base, bool paused)
{
	struct pcap_capture *c = (struct pcap_capture *)base;
	c->paused = paused;
	for (uint32_t i = 0; i < c->n && !c->replay; i++) {
		if (!c->h[i].p)
			continue; /* a lost interface gets the right filter when it is back */
		int rc = apply_pause(&c->h[i], paused);
		if (rc)
			return rc;
	}
	return 0;
}

/* A new interface of a reconcile: open now, or lost and retried. */
static void add_handle(struct pcap_capture *c, struct handle *h, struct pollfd *pfd, const char *name,
		       const char *filter)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->iface.name, sizeof(h->iface.name), "%s", name);
	pfd->fd = -1;
	pfd->events = POLLIN;
	int rc = open_live(h, name, &c->o);
	if (!rc) {
		h->iface.linktype = tv_linktype_from_dlt(pcap_datalink(h->p));
		h->iface.snaplen = (uint32_t)pcap_snapshot(h->p);
		rc = set_filter(h, filter);
		if (!rc)
			rc = apply_pause(h, c->paused);
	}
	if (!rc) {
		pfd->fd = pcap_get_selectable_fd(h->p);
		tv_info("interface %s: capturing%s%s", name, filter ? " with filter " : "",
			filter ? filter : "");
		return;
	}
	tv_warn("interface %s: %s; retrying every second", name, tv_errmsg());
	if (h->p)
		pcap_close(h->p);
	drop_filter(h);
	h->p = NULL;
	h->filter = filter ? strdup(filter) : NULL; /* compiled once it opens */
	h->iface.linktype = 1;                      /* Ethernet until it opens */
	h->iface.snaplen = (uint32_t)c->o.snaplen;
	h->never_opened = true;
	h->next_retry_ns = mono_ns() + RETRY_NS;
	c->ndown++;
}

/* A kept interface whose filter changed. A filter that does not compile (a
 * node with very many pods) leaves the interface unfiltered: capturing too
 * much beats losing packets. */
static void refilter(struct pcap_capture *c, struct handle *h, const char *filter)
{
	if ((!filter && !h->filter) || (filter && h->filter && !strcmp(filter, h->filter)))
		return;
	drop_filter(h);
	if (!h->p) {
		h->filter = filter ? strdup(filter) : NULL;
		return;
	}
	if (set_filter(h, filter)) {
		tv_error("interface %s: %s; capturing it unfiltered", h->iface.name, tv_errmsg());
		drop_filter(h);
	}
	if (apply_pause(h, c->paused))
		tv_warn("interface %s: %s", h->iface.name, tv_errmsg());
}

static int lp_reconcile(struct tv_capture *base, const struct tv_capture_want *want, uint32_t n,
			int32_t *moved_from)
{
	struct pcap_capture *c = (struct pcap_capture *)base;
	if (c->replay)
		return tv_err(-ENOTSUP, "a replay has one interface");
	if (n > TV_CAPTURE_MAX_IFACES)
		return tv_err(-EINVAL, "at most %d interfaces", TV_CAPTURE_MAX_IFACES);
	struct handle *nh = calloc(TV_CAPTURE_MAX_IFACES, sizeof(*nh));
	struct pollfd *np = calloc(TV_CAPTURE_MAX_IFACES, sizeof(*np));
	bool kept[TV_CAPTURE_MAX_IFACES] = {false};
	if (!nh || !np) {
		free(nh);
		free(np);
		return tv_err(-ENOMEM, "out of memory");
	}
	uint32_t down_before = c->ndown;
	c->ndown = 0;
	for (uint32_t j = 0; j < n; j++) {
		moved_from[j] = -1;
		for (uint32_t i = 0; i < c->n && moved_from[j] < 0; i++)
			if (!kept[i] && !strcmp(c->h[i].iface.name, want[j].name)) {
				kept[i] = true;
				moved_from[j] = (int32_t)i;
				nh[j] = c->h[i];
				np[j] = c->pfds[i];
				refilter(c, &nh[j], want[j].filter);
				c->ndown += nh[j].p == NULL;
			}
		if (moved_from[j] < 0)
			add_handle(c, &nh[j], &np[j], want[j].name, want[j].filter);
	}
	for (uint32_t i = 0; i < c->n; i++)
		if (!kept[i]) {
			tv_info("interface %s: no longer captured", c->h[i].iface.name);
			drop_filter(&c->h[i]);
			if (c->h[i].p)
				pcap_close(c->h[i].p);
		}
	free(c->h);
	free(c->pfds);
	c->h = nh;
	c->pfds = np;
	c->n = n;
	c->transitions += 1 + (c->ndown != down_before);
	return 0;
}

const struct tv_capture_ops tv_capture_pcap_ops = {
	.reconcile = lp_reconcile,
	.name = "pcap",
	.open = lp_open,
	.free = lp_free,
	.niface = lp_niface,
	.iface = lp_iface,
	.poll = lp_poll,
	.stats = lp_stats,
	.health = lp_health,
	.health_changes = lp_health_changes,
	.pause = lp_pause,
	.is_replay = lp_is_replay,
};
