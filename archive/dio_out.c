/* SPDX-License-Identifier: Apache-2.0 */
/* dio_out: see dio_out.h. Buffers cycle in order: the caller fills
 * buf[cur]; a full one is handed to the thread (busy) and the caller moves to
 * the next, waiting only when that one is still being written. */
#include "archive/dio_out.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/err.h"

struct dio_buf {
	uint8_t *data;
	uint64_t off; /* file offset of data[0] (aligned) */
	size_t len;
	bool busy; /* queued for or being written by the thread */
};

struct tv_dio_out {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	struct dio_buf *b;
	unsigned n, cur, next_job; /* the thread writes buffers in order from next_job */
	size_t cap;
	int fd;
	const char *path;
	int err; /* first error of this file (negative errno) */
	char errmsg[256];
	bool stop;
};

static int pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t k = pwrite(fd, p, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		p += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

static void *io_thread(void *arg)
{
	struct tv_dio_out *d = arg;
	pthread_setname_np(pthread_self(), "tv-io");
	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (!d->stop && !d->b[d->next_job].busy)
			pthread_cond_wait(&d->work, &d->lock);
		struct dio_buf *b = &d->b[d->next_job];
		if (!b->busy)
			break; /* stopping, nothing queued */
		int fd = d->fd;
		pthread_mutex_unlock(&d->lock);
		int rc = pwrite_all(fd, b->data, b->len, b->off);
		pthread_mutex_lock(&d->lock);
		if (rc && !d->err) {
			d->err = rc;
			snprintf(d->errmsg, sizeof(d->errmsg), "write %s: %s", d->path, strerror(-rc));
		}
		b->busy = false;
		d->next_job = (d->next_job + 1) % d->n;
		pthread_cond_broadcast(&d->done);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int tv_dio_out_new(struct tv_dio_out **out, unsigned nbufs, size_t buf_bytes)
{
	*out = NULL;
	struct tv_dio_out *d = calloc(1, sizeof(*d));
	if (!d || !(d->b = calloc(nbufs, sizeof(*d->b)))) {
		free(d);
		return tv_err(-ENOMEM, "out of memory");
	}
	d->n = nbufs;
	d->cap = buf_bytes;
	d->fd = -1;
	for (unsigned i = 0; i < nbufs; i++) {
		if (posix_memalign((void **)&d->b[i].data, TV_DIO_ALIGN, buf_bytes)) {
			d->n = i;
			tv_dio_out_free(d);
			return tv_err(-ENOMEM, "out of memory");
		}
		memset(d->b[i].data, 0, buf_bytes); /* touched now, not on the packet path */
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->work, NULL);
	pthread_cond_init(&d->done, NULL);
	if (pthread_create(&d->thread, NULL, io_thread, d)) {
		pthread_cond_destroy(&d->work);
		pthread_cond_destroy(&d->done);
		pthread_mutex_destroy(&d->lock);
		for (unsigned i = 0; i < d->n; i++)
			free(d->b[i].data);
		free(d->b);
		free(d);
		return tv_err(-EAGAIN, "cannot start the I/O thread");
	}
	*out = d;
	return 0;
}

/* Waits until the thread has written everything queued (lock held). */
static void drain(struct tv_dio_out *d)
{
	for (unsigned i = 0; i < d->n; i++)
		while (d->b[i].busy)
			pthread_cond_wait(&d->done, &d->lock);
}

void tv_dio_out_free(struct tv_dio_out *d)
{
	if (!d)
		return;
	if (d->b && d->n && d->b[0].data && d->thread) {
		pthread_mutex_lock(&d->lock);
		drain(d);
		d->stop = true;
		pthread_cond_signal(&d->work);
		pthread_mutex_unlock(&d->lock);
		pthread_join(d->thread, NULL);
		pthread_cond_destroy(&d->work);
		pthread_cond_destroy(&d->done);
		pthread_mutex_destroy(&d->lock);
	}
	for (unsigned i = 0; d->b && i < d->n; i++)
		free(d->b[i].data);
	free(d->b);
	free(d);
}

void tv_dio_out_bind(struct tv_dio_out *d, int fd, const char *path)
{
	pthread_mutex_lock(&d->lock);
	drain(d);
	d->fd = fd;
	d->path = path;
	d->err = 0;
	d->cur = d->next_job;
	d->b[d->cur].off = 0;
	d->b[d->cur].len = 0;
	pthread_mutex_unlock(&d->lock);
}

static int file_error(struct tv_dio_out *d)
{
	return d->err ? tv_err(d->err, "%s", d->errmsg) : 0;
}

/* Hands the full current buffer to the thread; the next one becomes current. */
static int submit(struct tv_dio_out *d)
{
	struct dio_buf *b = &d->b[d->cur];
	uint64_t next_off = b->off + b->len;
	pthread_mutex_lock(&d->lock);
	b->busy = true;
	pthread_cond_signal(&d->work);
	d->cur = (d->cur + 1) % d->n;
	while (d->b[d->cur].busy)
		pthread_cond_wait(&d->done, &d->lock);
	int rc = file_error(d);
	pthread_mutex_unlock(&d->lock);
	d->b[d->cur].off = next_off;
	d->b[d->cur].len = 0;
	return rc;
}

int tv_dio_out_write(struct tv_dio_out *d, const void *p, size_t n)
{
	const uint8_t *s = p;
	while (n) {
		struct dio_buf *b = &d->b[d->cur];
		size_t k = d->cap - b->len < n ? d->cap - b->len : n;
		memcpy(b->data + b->len, s, k);
		b->len += k;
		s += k;
		n -= k;
		int rc;
		if (b->len == d->cap && (rc = submit(d)))
			return rc;
	}
	return 0;
}

int tv_dio_out_sync(struct tv_dio_out *d)
{
	pthread_mutex_lock(&d->lock);
	drain(d);
	int rc = file_error(d);
	pthread_mutex_unlock(&d->lock);
	struct dio_buf *b = &d->b[d->cur];
	if (rc || b->len == 0)
		return rc;
	size_t padded = (b->len + TV_DIO_ALIGN - 1) & ~(size_t)(TV_DIO_ALIGN - 1);
	memset(b->data + b->len, 0, padded - b->len);
	if ((rc = pwrite_all(d->fd, b->data, padded, b->off)))
		return tv_err(rc, "write %s: %s", d->path, strerror(-rc));
	if (ftruncate(d->fd, (off_t)(b->off + b->len)) != 0)
		return tv_err(-errno, "truncate %s: %s", d->path, strerror(errno));
	return 0;
}
