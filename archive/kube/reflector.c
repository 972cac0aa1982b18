/* SPDX-License-Identifier: Apache-2.0 */
/* reflector: see reflector.h. */
#include "archive/kube/reflector.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "archive/common/timeutil.h"

struct reflector {
	struct tv_kube_client *c;
	const struct tv_reflector_opts *o;
	atomic_bool *stop;
	struct tv_reflector_stats *st;
	json_t *cache; /* uid -> object */
	char rv[256];  /* the last resourceVersion seen; "" none */
	uint64_t backoff_ns;
	uint64_t uncertain_since;       /* wall clock of the failure a relist repairs; 0: none */
	_Atomic uint64_t warned_ns;     /* mono: the last failure logged (tv_log_due) */
	_Atomic uint64_t bad_warned_ns; /* mono: the last garbage line logged */
	uint64_t bad_unlogged;          /* garbage lines since */
	bool gone;                      /* the watch said 410 */
};

static const char *uid_of(json_t *obj)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
}

static const char *rv_of(json_t *obj)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
}

static void set_rv(struct reflector *r, const char *rv)
{
	if (rv && rv[0])
		snprintf(r->rv, sizeof(r->rv), "%s", rv);
}

/* Sleeps up to ns, waking early on stop. */
static void nap(struct reflector *r, uint64_t ns)
{
	uint64_t end = tv_mono_ns() + ns;
	while (!atomic_load(r->stop) && tv_mono_ns() < end) {
		uint64_t left = end - tv_mono_ns();
		struct timespec t = {0, (long)(left < 100000000ULL ? left : 100000000ULL)};
		nanosleep(&t, NULL);
	}
}

/* After a failure: the backoff (doubling, with up to 25 % jitter), or the
 * server's Retry-After. */
static void back_off(struct reflector *r, const struct tv_kube_answer *a)
{
	atomic_fetch_add(&r->st->errors, 1);
	if (tv_log_due(&r->warned_ns, TV_LOG_EVERY_NS))
		tv_warn("kubernetes %s: %s (retrying; logged once a minute)", r->o->path, tv_errmsg());
	uint64_t min = r->o->backoff_min_ns ? r->o->backoff_min_ns : 800000000ULL;
	uint64_t max = r->o->backoff_max_ns ? r->o->backoff_max_ns : 30ULL * TV_NS_PER_SEC;
	if (a && a->retry_after) {
		nap(r, (uint64_t)a->retry_after * TV_NS_PER_SEC);
		return;
	}
	r->backoff_ns = r->backoff_ns ? r->backoff_ns * 2 : min;
	if (r->backoff_ns > max)
		r->backoff_ns = max;
	nap(r, r->backoff_ns + (uint64_t)(rand() % 1000) * (r->backoff_ns / 4000));
}

static void emit(struct reflector *r, enum tv_kube_event t, json_t *obj, bool at_relist)
{
	atomic_fetch_add(&r->st->events, 1);
	atomic_store(&r->st->last_event_ns, tv_now_ns());
	if (r->o->on_event)
		r->o->on_event(r->o->ctx, t, obj, at_relist);
}

/* ---- list ---- */

static void append_query(char *q, size_t n, const char *name, const char *value)
{
	size_t len = strlen(q);
	char *esc = curl_easy_escape(NULL, value, 0);
	snprintf(q + len, n - len, "%c%s=%s", strchr(q, '?') ? '&' : '?', name, esc ? esc : "");
	curl_free(esc);
}

/* One whole LIST (every page) into a new uid -> object map. */
static int list_all(struct reflector *r, const char *rv, json_t **out, char *list_rv, size_t nrv,
		    struct tv_kube_answer *a)
{
	json_t *seen = json_object();
	char cont[4096] = "", limit[16];
	snprintf(limit, sizeof(limit), "%u", r->o->page_limit ? r->o->page_limit : 500);
	struct tv_buf body;
	tv_buf_init(&body, 0);
	int rc = seen ? 0 : -ENOMEM;
	do {
		char path[8192];
		snprintf(path, sizeof(path), "%s", r->o->path);
		if (r->o->field_selector)
			append_query(path, sizeof(path), "fieldSelector", r->o->field_selector);
		append_query(path, sizeof(path), "limit", limit);
		if (cont[0])
			append_query(path, sizeof(path), "continue", cont);
		else if (rv)
			append_query(path, sizeof(path), "resourceVersion", rv);
		if ((rc = tv_kube_get(r->c, path, &body, a)))
			break;
		json_error_t je;
		json_t *doc = json_loadb((const char *)body.data, body.len, 0, &je);
		json_t *items = json_object_get(doc, "items");
		json_t *meta = json_object_get(doc, "metadata");
		if (!json_is_array(items)) {
			rc = tv_err(-EPROTO, "%s: LIST answer is not a list (%s)", r->o->path, je.text);
			json_decref(doc);
			break;
		}
		size_t i;
		json_t *it;
		json_array_foreach (items, i, it) {
			if (uid_of(it))
				json_object_set(seen, uid_of(it), it);
		}
		const char *c = json_string_value(json_object_get(meta, "continue"));
		snprintf(cont, sizeof(cont), "%s", c ? c : "");
		const char *lrv = json_string_value(json_object_get(meta, "resourceVersion"));
		if (lrv)
			snprintf(list_rv, nrv, "%s", lrv);
		json_decref(doc);
	} while (cont[0] && !atomic_load(r->stop));
	tv_buf_cleanup(&body);
	if (rc)
		json_decref(seen);
	else
		*out = seen;
	return rc;
}

/* The new list against the cache: what appeared, changed or vanished. */
static void diff_and_replace(struct reflector *r, json_t *fresh, bool first)
{
	const char *uid;
	json_t *obj;
	json_object_foreach (fresh, uid, obj) {
		json_t *old = json_object_get(r->cache, uid);
		if (!old)
			emit(r, TV_KUBE_ADDED, obj, !first);
		else if (!rv_of(old) || !rv_of(obj) || strcmp(rv_of(old), rv_of(obj)))
			emit(r, TV_KUBE_MODIFIED, obj, !first);
	}
	json_object_foreach (r->cache, uid, obj) {
		if (!json_object_get(fresh, uid))
			emit(r, TV_KUBE_DELETED, obj, true);
	}
	json_decref(r->cache);
	r->cache = fresh;
	atomic_store(&r->st->cached, json_object_size(fresh));
}

/* LIST at the last resourceVersion ("0" the first time), then with an empty
 * one if that is gone. */
static int relist(struct reflector *r, bool first)
{
	uint64_t began = tv_now_ns();
	char list_rv[256] = "";
	json_t *fresh = NULL;
	struct tv_kube_answer a = {0};
	int rc = list_all(r, first ? "0" : r->rv, &fresh, list_rv, sizeof(list_rv), &a);
	if (rc == TV_KUBE_EGONE)
		rc = list_all(r, NULL, &fresh, list_rv, sizeof(list_rv), &a);
	if (rc) {
		if (!r->uncertain_since)
			r->uncertain_since = began;
		tv_debug("%s: list: %s", r->o->path, tv_errmsg());
		back_off(r, &a);
		return rc;
	}
	atomic_fetch_add(&r->st->lists, 1);
	diff_and_replace(r, fresh, first);
	set_rv(r, list_rv);
	r->gone = false;
	r->backoff_ns = 0;
	if (r->o->on_sync)
		r->o->on_sync(r->o->ctx,
			      first                ? began
			      : r->uncertain_since ? r->uncertain_since
						   : began,
			      tv_now_ns(), first ? "start" : "relist");
	r->uncertain_since = 0;
	return 0;
}

/* ---- watch ---- */

static int on_watch_line(void *ctx, char *line, size_t len)
{
	struct reflector *r = ctx;
	json_error_t je;
	json_t *ev = json_loadb(line, len, 0, &je);
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");
	int rc = 0;
	if (!type || !json_is_object(obj)) {
		r->bad_unlogged++;
		if (tv_log_due(&r->bad_warned_ns, TV_LOG_EVERY_NS)) {
			tv_warn("%s: watch: not an event (%s): skipped (%" PRIu64
				" such lines; logged once a minute)",
				r->o->path, je.text[0] ? je.text : "no type or object", r->bad_unlogged);
			r->bad_unlogged = 0;
		}
		atomic_fetch_add(&r->st->errors, 1);
	} else if (!strcmp(type, "BOOKMARK")) {
		set_rv(r, rv_of(obj));
		r->uncertain_since = 0; /* resumed without a gap */
	} else if (!strcmp(type, "ERROR")) {
		json_t *code = json_object_get(obj, "code");
		r->gone = json_integer_value(code) == 410;
		if (r->gone)
			atomic_fetch_add(&r->st->relists_410, 1);
		rc = tv_err(r->gone ? TV_KUBE_EGONE : -EPROTO, "%s: watch: %s", r->o->path,
			    json_string_value(json_object_get(obj, "message")) ?: "ERROR event");
	} else if (uid_of(obj)) {
		enum tv_kube_event t = !strcmp(type, "ADDED")     ? TV_KUBE_ADDED
				       : !strcmp(type, "DELETED") ? TV_KUBE_DELETED
								  : TV_KUBE_MODIFIED;
		if (t == TV_KUBE_DELETED)
			json_object_del(r->cache, uid_of(obj));
		else
			json_object_set(r->cache, uid_of(obj), obj);
		atomic_store(&r->st->cached, json_object_size(r->cache));
		set_rv(r, rv_of(obj));
		r->backoff_ns = 0;      /* a working stream resets the backoff */
		r->uncertain_since = 0; /* resumed without a gap */
		emit(r, t, obj, false);
	}
	json_decref(ev);
	return rc;
}

static int watch(struct reflector *r)
{
	char path[8192], timeout[16];
	snprintf(path, sizeof(path), "%s", r->o->path);
	snprintf(timeout, sizeof(timeout), "%d", 300 + rand() % 301);
	append_query(path, sizeof(path), "watch", "true");
	append_query(path, sizeof(path), "allowWatchBookmarks", "true");
	append_query(path, sizeof(path), "timeoutSeconds", timeout);
	append_query(path, sizeof(path), "resourceVersion", r->rv);
	if (r->o->field_selector)
		append_query(path, sizeof(path), "fieldSelector", r->o->field_selector);
	atomic_fetch_add(&r->st->watches, 1);
	atomic_store(&r->st->watching, true);
	struct tv_kube_answer a = {0};
	int rc = tv_kube_stream(r->c, path, r->o->stall_s ? r->o->stall_s : 120, r->stop, on_watch_line, r,
				&a);
	atomic_store(&r->st->watching, false);
	if (rc == -EINTR || atomic_load(r->stop))
		return 0;
	if (rc == TV_KUBE_EGONE) {
		r->gone = true;
		if (!r->uncertain_since)
			r->uncertain_since = tv_now_ns();
		return rc;
	}
	if (rc) {
		/* until a watch resumes from r->rv (the server replays what was
		 * missed), identity since now is uncertain */
		if (!r->uncertain_since)
			r->uncertain_since = tv_now_ns();
		tv_debug("%s: watch: %s", r->o->path, tv_errmsg());
		back_off(r, &a);
	}
	return rc;
}

int tv_reflector_run(struct tv_kube_client *c, const struct tv_reflector_opts *o, atomic_bool *stop,
		     struct tv_reflector_stats *st)
{
	struct reflector r = {.c = c, .o = o, .stop = stop, .st = st, .cache = json_object()};
	if (!r.cache)
		return tv_err(-ENOMEM, "out of memory");
	bool listed = false;
	while (!atomic_load(stop)) {
		if (!listed || r.gone) {
			listed = relist(&r, !listed) == 0 || listed;
			if (r.gone || !listed)
				continue; /* relist backed off */
			if (!r.rv[0]) {
				tv_warn("%s: LIST gave no resourceVersion: listing again", o->path);
				back_off(&r, NULL);
				r.gone = true;
				continue;
			}
		}
		watch(&r); /* a clean end, a cut or a stall: watch again from r.rv; 410: relist */
	}
	json_decref(r.cache);
	return 0;
}
