/* SPDX-License-Identifier: Apache-2.0 */
/* uploader: see uploader.h.
 *
 * Threads: the main thread scans the buffer (on inotify events and every
 * rescan period) and keeps the list of pending segments, oldest first; each
 * worker has its own store handle (its own connections) and takes the oldest
 * segment nobody is working on. */
#include "uploader/uploader.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive/bufdir.h"
#include "archive/common/err.h"
#include "archive/common/httpd.h"
#include "archive/common/log.h"
#include "archive/common/prom.h"
#include "archive/common/timeutil.h"
#include "archive/index.h"
#include "archive/keys.h"
#include "archive/store/store.h"
#include "archive/store/store_s3.h"
#include "uploader/checkpointer.h"
#include "uploader/retry.h"

#define MAX_WORKERS 64

struct pending {
	char *stem; /* key without suffix */
	uint64_t start_ns;
	uint64_t bytes;
	bool in_flight, seen; /* seen: present in the latest scan */
};

struct uploader {
	const struct tv_uploader_opts *o;
	atomic_bool *stop;
	struct tv_store *buffer; /* the buffer directory as a file:// store, for listing */
	pthread_mutex_t lock;
	pthread_cond_t changed; /* pending list changed, a worker finished, or stop */
	struct pending *items;
	size_t n, cap;
	char (*nodes)[TV_KEY_MAX]; /* "…v1/nodes/NODE/" prefixes seen in the buffer */
	size_t nnodes;
	atomic_bool fatal; /* once: a refusal retrying cannot fix */
	/* metrics */
	_Atomic uint64_t uploaded, uploaded_bytes, retries, gone, failed;
	_Atomic uint64_t errors[TV_EC_COUNT];
	_Atomic uint64_t last_logged[TV_EC_COUNT];
	uint64_t started_mono;
	struct tv_checkpointer *cp; /* keys and checkpoints; NULL: none */
};

/* ---- the pending list (lock held) ---- */

static int cmp_pending(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return strcmp(x->stem, y->stem);
}

static struct pending *find(struct uploader *u, const char *stem)
{
	for (size_t i = 0; i < u->n; i++)
		if (strcmp(u->items[i].stem, stem) == 0)
			return &u->items[i];
	return NULL;
}

static void remove_item(struct uploader *u, struct pending *p)
{
	free(p->stem);
	size_t i = (size_t)(p - u->items);
	memmove(p, p + 1, (u->n - i - 1) * sizeof(*p));
	u->n--;
}

/* ---- scanning ---- */

static uint64_t local_size(const char *dir, const char *stem, const char *suffix)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s%s", dir, stem, suffix);
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Remembers the key prefix of key's node ("[PREFIX/]v1/nodes/NODE/"). */
static void note_node(struct uploader *u, const char *key)
{
	const char *nodes = strstr(key, "v1/nodes/");
	const char *end = nodes ? strchr(nodes + 9, '/') : NULL;
	if (!end || (size_t)(end + 1 - key) >= TV_KEY_MAX)
		return;
	size_t len = (size_t)(end + 1 - key);
	for (size_t i = 0; i < u->nnodes; i++)
		if (strlen(u->nodes[i]) == len && strncmp(u->nodes[i], key, len) == 0)
			return;
	char(*more)[TV_KEY_MAX] = realloc(u->nodes, (u->nnodes + 1) * sizeof(*more));
	if (!more)
		return;
	u->nodes = more;
	snprintf(u->nodes[u->nnodes++], TV_KEY_MAX, "%.*s", (int)len, key);
}

static int on_buffer_key(void *ctx, const struct tv_store_entry *e)
{
	struct uploader *u = ctx;
	struct tv_segment_key k;
	char stem[TV_KEY_MAX + 1];
	if (tv_key_parse_segment(e->key, &k))
		return 0;
	note_node(u, e->key);
	if (k.kind != TV_OBJ_INDEX || tv_key_sibling(e->key, "", stem, sizeof(stem)))
		return 0;
	if (tv_bufdir_is_uploaded(u->o->buffer_dir, stem)) {
		/* stored by an earlier run: checkpoints name it from the start */
		if (tv_checkpointer_is_newer(u->cp, k.node, k.seq))
			tv_checkpointer_uploaded(u->cp, stem);
		return 0;
	}
	struct pending *p = find(u, stem);
	if (p) {
		p->seen = true;
		return 0;
	}
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 64;
		struct pending *items = realloc(u->items, cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		u->items = items;
		u->cap = cap;
	}
	p = &u->items[u->n];
	if (!(p->stem = strdup(stem)))
		return -ENOMEM;
	p->start_ns = k.start_ns;
	p->bytes = e->size + local_size(u->o->buffer_dir, stem, TV_KEY_SUFFIX_DATA) +
		   local_size(u->o->buffer_dir, stem, TV_KEY_SUFFIX_EVENTS);
	p->in_flight = false;
	p->seen = true;
	u->n++;
	return 0;
}

/* Rebuilds the pending list from the buffer: new sealed segments join,
 * segments gone from the buffer (evicted by the agent) leave. */
static int scan(struct uploader *u)
{
	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; i < u->n; i++)
		u->items[i].seen = false;
	int rc = tv_store_each(u->buffer, "", on_buffer_key, u);
	for (size_t i = 0; !rc && i < u->n;) {
		if (!u->items[i].seen && !u->items[i].in_flight) {
			tv_info("segment %s left the buffer before upload", u->items[i].stem);
			atomic_fetch_add(&u->gone, 1);
			remove_item(u, &u->items[i]);
		} else
			i++;
	}
	if (u->n)
		qsort(u->items, u->n, sizeof(*u->items), cmp_pending);
	pthread_cond_broadcast(&u->changed);
	pthread_mutex_unlock(&u->lock);
	return rc;
}

/* ---- uploading one segment ---- */

/* sha: the object's SHA-256 from its index (NULL: unknown, hashed by the store). */
static int put_object(struct tv_store *s, const char *dir, const char *stem, const char *suffix,
		      bool optional, const uint8_t *sha)
{
	char key[TV_KEY_MAX + 32], path[4096 + TV_KEY_MAX];
	snprintf(key, sizeof(key), "%s%s", stem, suffix);
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	if (optional && access(path, F_OK) != 0)
		return 0;
	int rc = tv_store_put_file_sha(s, key, path, 0, sha);
	if (!rc)
		tv_debug("stored %s", key);
	return rc;
}

/* The SHA-256 the index holds of the data and events objects: each stored
 * byte is hashed once on the node (by the agent, as it wrote it), and the
 * store checks the digest it is sent. @return false when the index does
 * not read (the store then hashes the objects itself). */
static bool index_digests(const char *dir, const char *stem, uint8_t data_sha[TV_SHA256_LEN],
			  uint8_t events_sha[TV_SHA256_LEN], bool *have_events)
{
	char path[4096 + TV_KEY_MAX];
	snprintf(path, sizeof(path), "%s/%s%s", dir, stem, TV_KEY_SUFFIX_INDEX);
	struct tv_index idx;
	if (tv_index_read_file(path, &idx) != 0)
		return false;
	memcpy(data_sha, idx.data_sha, TV_SHA256_LEN);
	memcpy(events_sha, idx.events_sha, TV_SHA256_LEN);
	*have_events = idx.events_size > 0;
	tv_index_cleanup(&idx);
	return true;
}

/* Data, events, then the index; -ENOENT when the segment left the buffer. */
static int upload_once(struct tv_store *s, const char *dir, const char *stem)
{
	uint8_t data_sha[TV_SHA256_LEN], events_sha[TV_SHA256_LEN];
	bool have_events = false, known = index_digests(dir, stem, data_sha, events_sha, &have_events);
	int rc = put_object(s, dir, stem, TV_KEY_SUFFIX_DATA, false, known ? data_sha : NULL);
	if (!rc)
		rc = put_object(s, dir, stem, TV_KEY_SUFFIX_EVENTS, true,
				known && have_events ? events_sha : NULL);
	if (!rc)
		rc = put_object(s, dir, stem, TV_KEY_SUFFIX_INDEX, false, NULL);
	if (rc == -ENOENT) {
		/* gone only if the buffer lost it; a store's 404 (NoSuchUpload) is worth a retry */
		char path[4096 + TV_KEY_MAX];
		snprintf(path, sizeof(path), "%s/%s%s", dir, stem, TV_KEY_SUFFIX_INDEX);
		if (access(path, F_OK) == 0)
			rc = -EAGAIN;
	}
	return rc;
}

static void log_failure(struct uploader *u, enum tv_err_class c, const char *stem)
{
	if (!tv_log_due(&u->last_logged[c], TV_LOG_EVERY_NS))
		return;
	if (tv_retry_heals_by_itself(c))
		tv_warn("upload of %s: %s (retrying)", stem, tv_errmsg());
	else
		tv_error("upload of %s: %s (retrying every %" PRIu64 " s; fix the cause)", stem, tv_errmsg(),
			 (uint64_t)(u->o->config_retry_ns / 1000000000ULL));
}

/* Sleeps ns unless stop comes first. @return false when stopping. */
static bool pause_for(struct uploader *u, uint64_t ns)
{
	struct timespec until = tv_deadline(CLOCK_REALTIME, ns); /* the condition's (default) clock */
	pthread_mutex_lock(&u->lock);
	while (!atomic_load(u->stop)) {
		if (pthread_cond_timedwait(&u->changed, &u->lock, &until) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&u->lock);
	return !atomic_load(u->stop);
}

static bool giving_up(struct uploader *u)
{
	return u->o->once && (atomic_load(&u->fatal) ||
			      (u->o->give_up_ns && tv_mono_ns() - u->started_mono > u->o->give_up_ns));
}

/* Uploads until stored, gone, or stopping. @return 0 stored, -ENOENT gone,
 * -EINTR stopped or given up. */
static int upload_segment(struct uploader *u, struct tv_store *s, const char *stem)
{
	struct tv_backoff backoff;
	tv_backoff_init(&backoff, u->o->config_retry_ns);
	for (;;) {
		int rc = upload_once(s, u->o->buffer_dir, stem);
		if (rc == 0 || rc == -ENOENT)
			return rc;
		enum tv_err_class c = tv_retry_classify(rc);
		atomic_fetch_add(&u->errors[c], 1);
		log_failure(u, c, stem);
		if (u->o->once && !tv_retry_heals_by_itself(c)) {
			atomic_store(&u->fatal, true);
			tv_error("upload of %s: %s", stem, tv_errmsg());
		}
		if (giving_up(u))
			return -EINTR;
		uint64_t wait = tv_backoff_next(&backoff, c, (uint64_t)rand());
		atomic_fetch_add(&u->retries, 1);
		if (!pause_for(u, wait))
			return -EINTR;
	}
}

/* ---- workers ---- */

struct worker {
	struct uploader *u;
	struct tv_store *store;
	pthread_t thread;
};

/* The oldest pending segment nobody works on, marked in flight; NULL when
 * stopping (or, with once, when nothing is left). */
static struct pending *take(struct uploader *u, char **stem)
{
	pthread_mutex_lock(&u->lock);
	for (;;) {
		if (atomic_load(u->stop) || giving_up(u))
			break;
		for (size_t i = 0; i < u->n; i++) {
			if (!u->items[i].in_flight) {
				u->items[i].in_flight = true;
				*stem = strdup(u->items[i].stem);
				pthread_mutex_unlock(&u->lock);
				return *stem ? &u->items[i] : NULL;
			}
		}
		if (u->o->once && u->n == 0)
			break;
		pthread_cond_wait(&u->changed, &u->lock);
	}
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

static void finish(struct uploader *u, const char *stem, int rc)
{
	pthread_mutex_lock(&u->lock);
	struct pending *p = find(u, stem);
	uint64_t bytes = p ? p->bytes : 0;
	if (p && (rc == 0 || rc == -ENOENT))
		remove_item(u, p);
	else if (p)
		p->in_flight = false;
	pthread_cond_broadcast(&u->changed);
	pthread_mutex_unlock(&u->lock);
	if (rc == 0) {
		atomic_fetch_add(&u->uploaded, 1);
		atomic_fetch_add(&u->uploaded_bytes, bytes);
	} else if (rc == -ENOENT) {
		atomic_fetch_add(&u->gone, 1);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct uploader *u = w->u;
	pthread_setname_np(pthread_self(), "tv-upload");
	char *stem = NULL;
	while (take(u, &stem)) {
		int rc = upload_segment(u, w->store, stem);
		if (rc == 0 && (rc = tv_bufdir_mark_uploaded(u->o->buffer_dir, stem)) != 0)
			tv_error("marking %s uploaded: %s", stem, tv_errmsg()); /* re-sent later: harmless */
		if (rc == 0) {
			tv_debug("uploaded %s", stem);
			tv_checkpointer_uploaded(u->cp, stem);
		} else if (rc == -ENOENT)
			tv_info("segment %s left the buffer during its upload", stem);
		else if (rc != -EINTR)
			atomic_fetch_add(&u->failed, 1);
		finish(u, stem, rc);
		free(stem);
		stem = NULL;
	}
	return NULL;
}

/* ---- metrics ---- */

static void render(void *ctx, struct tv_buf *o)
{
	struct uploader *u = ctx;
	uint64_t backlog = 0, bytes = 0, oldest = 0;
	pthread_mutex_lock(&u->lock);
	backlog = u->n;
	for (size_t i = 0; i < u->n; i++) {
		bytes += u->items[i].bytes;
		if (!oldest || u->items[i].start_ns < oldest)
			oldest = u->items[i].start_ns;
	}
	pthread_mutex_unlock(&u->lock);
	uint64_t now = tv_now_ns();
	double age = oldest && now > oldest ? (double)(now - oldest) / 1e9 : 0;
	tv_prom_gauge(o, "tapvault_uploader_backlog_segments", "Sealed segments not yet uploaded.",
		      (double)backlog);
	tv_prom_gauge(o, "tapvault_uploader_backlog_bytes", "Bytes of sealed segments not yet uploaded.",
		      (double)bytes);
	tv_prom_gauge(o, "tapvault_uploader_oldest_pending_age_seconds",
		      "Age of the oldest segment not yet uploaded.", age);
	tv_prom_counter(o, "tapvault_uploader_segments_uploaded_total",
			"Segments stored and marked uploaded.", atomic_load(&u->uploaded));
	tv_prom_counter(o, "tapvault_uploader_bytes_uploaded_total", "Bytes of segments uploaded.",
			atomic_load(&u->uploaded_bytes));
	tv_prom_counter(o, "tapvault_uploader_segments_gone_total",
			"Segments that left the buffer before upload.", atomic_load(&u->gone));
	tv_prom_counter(o, "tapvault_uploader_retries_total", "Segment upload attempts retried.",
			atomic_load(&u->retries));
	tv_prom_counter(o, "tapvault_uploader_checkpoints_total", "Signed checkpoints written.",
			tv_checkpointer_written(u->cp));
	tv_prom_gauge(o, "tapvault_uploader_object_lock",
		      "1 when checkpoints and keys are put under Object Lock retention.",
		      tv_checkpointer_locked(u->cp) ? 1 : 0);
	tv_prom_header(o, "tapvault_uploader_errors_total", "Failed upload attempts by class.", "counter");
	for (int c = 0; c < TV_EC_COUNT; c++)
		tv_prom_sample(o, "tapvault_uploader_errors_total", "class",
			       tv_retry_class_name((enum tv_err_class)c), atomic_load(&u->errors[c]));
}

/* ---- setup ---- */

/* After a crash, multipart uploads of this buffer's nodes may be left open:
 * abort them (this uploader is the only writer of its nodes' keys). */
static void abort_leftover_uploads(struct uploader *u, struct tv_store *s)
{
	if (strcmp(s->ops->scheme, "s3") != 0)
		return;
	for (size_t j = 0; j < u->nnodes; j++) {
		unsigned aborted = 0;
		if (tv_store_s3_abort_incomplete(s, u->nodes[j], 0, &aborted))
			tv_warn("could not check for unfinished multipart uploads under %s: %s", u->nodes[j],
				tv_errmsg());
		else if (aborted)
			tv_info("aborted %u unfinished multipart upload(s) under %s (a crash left them)",
				aborted, u->nodes[j]);
	}
}

static int watch_buffer(const char *dir)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -1;
	char open_dir[4096];
	snprintf(open_dir, sizeof(open_dir), "%s/open", dir);
	/* the agent seals by renaming out of open/; import creates keys anywhere */
	inotify_add_watch(fd, open_dir, IN_MOVED_FROM);
	inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
	return fd;
}

static void wait_for_change(struct uploader *u, int ifd)
{
	struct pollfd p = {ifd, POLLIN, 0};
	uint64_t wait = u->o->rescan_ns;
	if (u->o->checkpoint_interval_ns && u->o->checkpoint_interval_ns < wait)
		wait = u->o->checkpoint_interval_ns; /* checkpoints are not late for a long rescan */
	uint64_t end = tv_mono_ns() + wait;
	while (!atomic_load(u->stop) && tv_mono_ns() < end) {
		int n = poll(&p, ifd >= 0 ? 1 : 0, 200);
		if (n > 0) {
			char drain[4096];
			while (read(ifd, drain, sizeof(drain)) > 0)
				;
			return;
		}
	}
}

static void settle(struct tv_uploader_opts *o)
{
	if (!o->parallel)
		o->parallel = 4;
	if (o->parallel > MAX_WORKERS)
		o->parallel = MAX_WORKERS;
	if (!o->rescan_ns)
		o->rescan_ns = 5000000000ULL;
	if (!o->config_retry_ns)
		o->config_retry_ns = 30000000000ULL;
}

static int start_workers(struct uploader *u, struct worker *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		w[i].u = u;
		int rc = tv_store_open(u->o->store_url, TV_STORE_CREATE, u->o->store_opts, &w[i].store);
		if (rc)
			return rc;
	}
	abort_leftover_uploads(u, w[0].store);
	for (unsigned i = 0; i < n; i++)
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]))
			return tv_err(-EAGAIN, "cannot start upload threads");
	return 0;
}

/* Keys and checkpoints; a failure is retried at the next tick. */
static void checkpoint(struct uploader *u, struct tv_store *meta, bool final)
{
	if (tv_checkpointer_tick(u->cp, meta, tv_now_ns(), final))
		tv_warn("checkpoint: %s (retried)", tv_errmsg());
}

int tv_uploader_run(const struct tv_uploader_opts *given, atomic_bool *stop, struct tv_uploader_result *res)
{
	struct tv_uploader_opts o = *given;
	settle(&o);
	struct uploader u = {.o = &o, .stop = stop, .started_mono = tv_mono_ns()};
	pthread_mutex_init(&u.lock, NULL);
	pthread_cond_init(&u.changed, NULL);
	struct worker w[MAX_WORKERS] = {0};
	struct tv_httpd *ms = NULL;
	struct tv_store *meta = NULL; /* the main thread's handle: keys and checkpoints */
	int ifd = -1;
	int rc = tv_store_open(o.buffer_dir, 0, NULL, &u.buffer);
	if (!rc)
		rc = tv_checkpointer_new(&u.cp, o.buffer_dir, o.signing_key, o.checkpoint_interval_ns,
					 &o.lock);
	if (!rc)
		rc = tv_store_open(o.store_url, TV_STORE_CREATE, o.store_opts, &meta);
	if (!rc)
		rc = tv_checkpointer_probe(u.cp, meta);
	if (!rc)
		rc = scan(&u);
	if (!rc && o.metrics_addr)
		rc = tv_httpd_start(&ms, o.metrics_addr, "--metrics-addr", TV_PROM_CONTENT_TYPE, render, &u);
	unsigned started = 0;
	if (!rc) {
		tv_info("uploading %s to %s: %zu sealed segment(s) pending, %u in parallel", o.buffer_dir,
			o.store_url, u.n, o.parallel);
		rc = start_workers(&u, w, o.parallel);
		for (unsigned i = 0; i < o.parallel; i++)
			started += w[i].thread != 0;
	}
	if (!rc && !o.once) {
		ifd = watch_buffer(o.buffer_dir);
		while (!atomic_load(stop) && !rc) {
			wait_for_change(&u, ifd);
			rc = scan(&u);
			checkpoint(&u, meta, false);
		}
	}
	if (rc)
		atomic_store(stop, true);
	pthread_mutex_lock(&u.lock);
	pthread_cond_broadcast(&u.changed);
	pthread_mutex_unlock(&u.lock);
	for (unsigned i = 0; i < started; i++)
		pthread_join(w[i].thread, NULL);
	if (meta && !rc && !atomic_load(&u.fatal))
		checkpoint(&u, meta, true); /* a clean stop names what was stored last */
	if (!rc && o.once && u.n)
		rc = -EAGAIN;
	if (res)
		*res = (struct tv_uploader_result){atomic_load(&u.uploaded), atomic_load(&u.uploaded_bytes),
						   atomic_load(&u.gone), atomic_load(&u.retries), u.n};
	if (ifd >= 0)
		close(ifd);
	tv_httpd_stop(ms);
	for (unsigned i = 0; i < o.parallel; i++)
		tv_store_free(w[i].store);
	for (size_t i = 0; i < u.n; i++)
		free(u.items[i].stem);
	free(u.items);
	free(u.nodes);
	tv_store_free(u.buffer);
	tv_store_free(meta);
	tv_checkpointer_free(u.cp);
	pthread_mutex_destroy(&u.lock);
	pthread_cond_destroy(&u.changed);
	return rc;
}
