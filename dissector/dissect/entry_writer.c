/* SPDX-License-Identifier: Apache-2.0 */
/* entry_writer: see entry_writer.h. */
#include "dissector/dissect/entry_writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/buf.h"
#include "archive/common/json_writer.h"

#define QUEUE_SLOTS 16
/* the writer is woken when this many wait: one wakeup (a futex syscall) per
 * entry cost the packet path more than a short delay costs anyone */
#define WAKE_BATCH 8

struct item {
	const char *before, *after;
	json_t *j;
};

struct tv_entry_writer {
	FILE *f;
	struct tv_buf line; /* one item's text, written with a single fwrite */
	bool failed;
	/* threaded only: a ring of items from the packet path to the writer */
	bool threaded, closing;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	struct item ring[QUEUE_SLOTS];
	unsigned head, count;
	/* written entries go back to the packet path to be freed there: one
	 * thread allocating and another freeing costs glibc's arenas more than
	 * the serializing saves */
	json_t *written[QUEUE_SLOTS + 1]; /* the queue's items and the one being written */
	unsigned nwritten;
};

/* Serializes and writes it; the caller releases it->j. */
static void write_item(struct tv_entry_writer *w, const struct item *it)
{
	tv_buf_reset(&w->line);
	int rc = 0;
	if (it->before)
		rc = tv_buf_append_str(&w->line, it->before);
	if (!rc && it->j)
		rc = tv_json_append(&w->line, it->j);
	if (!rc && it->after)
		rc = tv_buf_append_str(&w->line, it->after);
	if (rc || fwrite(w->line.data, 1, w->line.len, w->f) != w->line.len)
		w->failed = true;
}

static void *writer_main(void *arg)
{
	struct tv_entry_writer *w = arg;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->count && !w->closing) /* once awake, drain the queue */
			pthread_cond_wait(&w->not_empty, &w->lock);
		if (!w->count)
			break; /* closing and drained */
		struct item it = w->ring[w->head];
		w->head = (w->head + 1) % QUEUE_SLOTS;
		w->count--;
		pthread_cond_signal(&w->not_full);
		pthread_mutex_unlock(&w->lock);
		write_item(w, &it);
		pthread_mutex_lock(&w->lock);
		if (it.j && w->nwritten < sizeof(w->written) / sizeof(w->written[0]))
			w->written[w->nwritten++] = it.j;
		else
			json_decref(it.j); /* cannot happen (see above); correct anyway */
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int tv_entry_writer_open(struct tv_entry_writer **out, FILE *f, bool threaded)
{
	struct tv_entry_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->f = f;
	tv_buf_init(&w->line, 0);
	if (threaded) {
		pthread_mutex_init(&w->lock, NULL);
		pthread_cond_init(&w->not_empty, NULL);
		pthread_cond_init(&w->not_full, NULL);
		int rc = pthread_create(&w->thread, NULL, writer_main, w);
		if (rc) {
			pthread_mutex_destroy(&w->lock);
			pthread_cond_destroy(&w->not_empty);
			pthread_cond_destroy(&w->not_full);
			free(w);
			return -rc;
		}
		w->threaded = true;
	}
	*out = w;
	return 0;
}

void tv_entry_writer_put(struct tv_entry_writer *w, const char *before, json_t *j, const char *after)
{
	struct item it = {.before = before, .after = after, .j = j};
	if (!w->threaded) {
		write_item(w, &it);
		json_decref(j);
		return;
	}
	json_t *done[sizeof(w->written) / sizeof(w->written[0])];
	pthread_mutex_lock(&w->lock);
	while (w->count == QUEUE_SLOTS)
		pthread_cond_wait(&w->not_full, &w->lock);
	w->ring[(w->head + w->count) % QUEUE_SLOTS] = it;
	if (++w->count == WAKE_BATCH)
		pthread_cond_signal(&w->not_empty);
	unsigned ndone = w->nwritten;
	memcpy(done, w->written, ndone * sizeof(done[0]));
	w->nwritten = 0;
	pthread_mutex_unlock(&w->lock);
	for (unsigned i = 0; i < ndone; i++)
		json_decref(done[i]);
}

int tv_entry_writer_close(struct tv_entry_writer *w)
{
	if (!w)
		return 0;
	if (w->threaded) {
		pthread_mutex_lock(&w->lock);
		w->closing = true;
		pthread_cond_signal(&w->not_empty);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		for (unsigned i = 0; i < w->nwritten; i++)
			json_decref(w->written[i]);
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->not_empty);
		pthread_cond_destroy(&w->not_full);
	}
	int rc = w->failed ? -EIO : 0;
	tv_buf_cleanup(&w->line);
	free(w);
	return rc;
}
