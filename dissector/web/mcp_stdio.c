/* SPDX-License-Identifier: Apache-2.0 */
/* mcp_stdio: MCP over stdio (newline-delimited JSON-RPC). The reading
 * thread parses each line; ping is answered at once, notifications/cancelled
 * marks the named request, everything else is queued for one worker thread,
 * so a long export can be cancelled and pinged while it runs. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dissector/web/mcp.h"

struct job {
	struct job *next;
	json_t *msg;
	struct tv_mcp_call call;
};

struct stdio_server {
	struct tv_mcp *m;
	FILE *out;
	pthread_mutex_t out_lock, q_lock;
	pthread_cond_t q_cond;
	struct job *head, *tail, *running;
	bool eof;
};

static void send_msg(struct stdio_server *sv, json_t *msg)
{
	if (!msg)
		return;
	char *text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!text)
		return;
	pthread_mutex_lock(&sv->out_lock);
	fputs(text, sv->out);
	fputc('\n', sv->out);
	fflush(sv->out);
	pthread_mutex_unlock(&sv->out_lock);
	free(text);
}

static void notify(void *arg, json_t *msg)
{
	send_msg(arg, msg);
}

static void *worker(void *arg)
{
	struct stdio_server *sv = arg;
	for (;;) {
		pthread_mutex_lock(&sv->q_lock);
		while (!sv->head && !sv->eof)
			pthread_cond_wait(&sv->q_cond, &sv->q_lock);
		struct job *j = sv->head;
		if (!j) {
			pthread_mutex_unlock(&sv->q_lock);
			return NULL;
		}
		sv->head = j->next;
		if (!sv->head)
			sv->tail = NULL;
		sv->running = j;
		pthread_mutex_unlock(&sv->q_lock);
		/* a request cancelled before it ran gets no response (MCP: cancellation) */
		json_t *resp =
			atomic_load(&j->call.cancelled) ? NULL : tv_mcp_handle(sv->m, j->msg, &j->call);
		/* nor one cancelled while it ran */
		if (atomic_load(&j->call.cancelled)) {
			json_decref(resp);
			resp = NULL;
		}
		send_msg(sv, resp);
		pthread_mutex_lock(&sv->q_lock);
		sv->running = NULL;
		pthread_mutex_unlock(&sv->q_lock);
		json_decref(j->msg);
		free(j);
	}
}

static bool same_id(json_t *a, json_t *b)
{
	return a && b && json_equal(a, b);
}

static void cancel(struct stdio_server *sv, json_t *request_id)
{
	pthread_mutex_lock(&sv->q_lock);
	if (sv->running && same_id(json_object_get(sv->running->msg, "id"), request_id))
		atomic_store(&sv->running->call.cancelled, true);
	for (struct job *j = sv->head; j; j = j->next)
		if (same_id(json_object_get(j->msg, "id"), request_id))
			atomic_store(&j->call.cancelled, true);
	pthread_mutex_unlock(&sv->q_lock);
}

static void enqueue(struct stdio_server *sv, json_t *msg)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j) {
		send_msg(sv, tv_mcp_error(json_object_get(msg, "id"), TV_JSONRPC_INTERNAL, "out of memory"));
		json_decref(msg);
		return;
	}
	j->msg = msg;
	j->call.notify = notify;
	j->call.arg = sv;
	pthread_mutex_lock(&sv->q_lock);
	if (sv->tail)
		sv->tail->next = j;
	else
		sv->head = j;
	sv->tail = j;
	pthread_cond_signal(&sv->q_cond);
	pthread_mutex_unlock(&sv->q_lock);
}

static void on_line(struct stdio_server *sv, const char *line, size_t n)
{
	while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	if (!n)
		return;
	json_error_t e;
	json_t *msg = json_loadb(line, n, 0, &e);
	if (!msg) {
		send_msg(sv, tv_mcp_error(NULL, TV_JSONRPC_PARSE_ERROR, "Parse error: %s at column %d",
					  e.text, e.column));
		return;
	}
	const char *method = json_string_value(json_object_get(msg, "method"));
	if (method && !strcmp(method, "notifications/cancelled")) {
		cancel(sv, json_object_get(json_object_get(msg, "params"), "requestId"));
		json_decref(msg);
	} else if (method && !strcmp(method, "ping") && json_object_get(msg, "id")) {
		send_msg(sv, tv_mcp_handle(sv->m, msg, NULL));
		json_decref(msg);
	} else if (method && json_object_get(msg, "id") && json_is_object(msg)) {
		enqueue(sv, msg);
	} else {
		send_msg(sv, tv_mcp_handle(sv->m, msg, NULL));
		json_decref(msg);
	}
}

int tv_mcp_run_stdio(struct tv_mcp *m, int in_fd, FILE *out, size_t max_line)
{
	struct stdio_server sv = {.m = m, .out = out};
	pthread_mutex_init(&sv.out_lock, NULL);
	pthread_mutex_init(&sv.q_lock, NULL);
	pthread_cond_init(&sv.q_cond, NULL);
	pthread_t w;
	pthread_create(&w, NULL, worker, &sv);
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	bool skipping = false; /* inside a line over max_line: dropped up to its newline */
	while (buf) {
		if (len == cap) {
			size_t ncap = cap * 2 > max_line + 1 ? max_line + 1 : cap * 2;
			char *nb = ncap > cap ? realloc(buf, ncap) : NULL;
			if (!nb) { /* over max_line: refuse the message, skip to its end */
				send_msg(&sv, tv_mcp_error(NULL, TV_JSONRPC_INVALID_REQUEST,
							   "message over %zu bytes refused", max_line));
				skipping = true;
				len = 0;
				continue;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(in_fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		size_t start = 0, end = len + (size_t)r;
		for (size_t i = len; i < end; i++) {
			if (buf[i] != '\n')
				continue;
			if (!skipping)
				on_line(&sv, buf + start, i - start);
			skipping = false;
			start = i + 1;
		}
		if (skipping)
			start = end;
		memmove(buf, buf + start, end - start);
		len = end - start;
	}
	if (buf && len && !skipping)
		on_line(&sv, buf, len);
	free(buf);
	pthread_mutex_lock(&sv.q_lock);
	sv.eof = true;
	pthread_cond_signal(&sv.q_cond);
	pthread_mutex_unlock(&sv.q_lock);
	pthread_join(w, NULL);
	pthread_mutex_destroy(&sv.out_lock);
	pthread_mutex_destroy(&sv.q_lock);
	pthread_cond_destroy(&sv.q_cond);
	return 0;
}
