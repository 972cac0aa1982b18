/* SPDX-License-Identifier: Apache-2.0 */
/* reflector: one resource kept in sync with the API server, with client-go's
 * reflector semantics, reported as events (for the events file).
 *
 *   LIST (resourceVersion=0 the first time, then the last one seen; pages
 *   with limit/continue) -> WATCH from the list's resourceVersion with
 *   bookmarks and a timeoutSeconds random in 5-10 min -> a clean end
 *   re-watches from the last resourceVersion; an ERROR 410 event or an HTTP
 *   410 relists at the last resourceVersion, and with an empty one if that
 *   is gone too; failures back off 800 ms doubling to 30 s with jitter; a
 *   429's Retry-After is honoured; a stream silent for `stall_s` is cut.
 *
 * After every relist the new list is compared with the cache: objects that
 * appeared, changed or vanished meanwhile are reported (the vanished as
 * DELETED "at relist, time unknown"), and on_sync tells when identity was
 * uncertain (from the failure to the relist). resourceVersions are opaque. */
#ifndef TV_KUBE_REFLECTOR_H
#define TV_KUBE_REFLECTOR_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "archive/kube/kube_client.h"

enum tv_kube_event {
	TV_KUBE_ADDED,
	TV_KUBE_MODIFIED,
	TV_KUBE_DELETED
};

struct tv_reflector_opts {
	const char *path;           /* "/api/v1/pods", "/apis/discovery.k8s.io/v1/endpointslices" */
	const char *field_selector; /* e.g. "spec.nodeName=n1"; NULL: none */
	unsigned page_limit;        /* LIST page size (default 500) */
	unsigned stall_s;           /* a watch silent this long is cut (default 120) */
	uint64_t backoff_min_ns, backoff_max_ns; /* default 800 ms, 30 s */
	/* obj is borrowed for the call; at_relist: seen only by comparing lists */
	void (*on_event)(void *ctx, enum tv_kube_event type, json_t *obj, bool at_relist);
	/* identity was uncertain from from_ns to to_ns (wall clock); why: "relist", "start" */
	void (*on_sync)(void *ctx, uint64_t from_ns, uint64_t to_ns, const char *why);
	void *ctx;
};

struct tv_reflector_stats {
	_Atomic uint64_t lists, watches, events, relists_410, errors, cached;
	_Atomic uint64_t last_event_ns; /* wall clock */
	_Atomic bool watching;
};

/* Runs until *stop. @return 0 when stopped, or -ENOMEM. Every other failure
 * is retried with backoff (and counted in st->errors). */
int tv_reflector_run(struct tv_kube_client *c, const struct tv_reflector_opts *o, atomic_bool *stop,
		     struct tv_reflector_stats *st);

#endif
