/* SPDX-License-Identifier: Apache-2.0 */
/* proto_http1: HTTP/1.0 and 1.1 on Debian's http-parser, one parser per
 * direction. Requests queue in order (pipelining, keep-alive); each final
 * response is paired with the oldest unanswered request; 1xx responses
 * (100-continue) are not final. A response that completes before its
 * request's body did waits for it. HEAD responses have no body; 204/304 and
 * chunked and close-delimited bodies are handled by the parser (the last at
 * the connection's end). Bodies are kept up to the body cap, after gzip or
 * deflate decoding (zlib). A gap in a direction ends parsing there: what is in
 * flight is emitted with an error. Upgrade (h2c, WebSocket): the upgraded
 * request is emitted, the rest of the connection is not parsed here. */
#include <ctype.h>
#include <http_parser.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "archive/common/buf.h"
#include "dissector/dissect.h"
#include "dissector/http_body.h"

#define HEADER_CAP (256u << 10)
#define MAX_QUEUE 256

struct message {
	json_t *headers; /* [{name, value}] */
	struct tv_buf url, status, field, value, body;
	uint64_t first_ts, last_ts;
	size_t header_bytes, body_bytes;
	bool body_truncated, in_value, complete;
	unsigned method, status_code, major, minor;
	char encoding[32], mime[128];
};

struct side {
	http_parser p;
	struct message *cur; /* being parsed */
	bool broken;
	uint64_t ts; /* of the bytes being parsed */
	size_t wire; /* bytes consumed for cur */
};

struct http_state {
	struct tv_conn *c;
	struct side side[2];
	struct message *queue[MAX_QUEUE]; /* complete requests, oldest first */
	size_t nq;
	struct message *early;              /* a final response that came before its request completed */
	struct message *orphans[MAX_QUEUE]; /* responses delivered before any request: */
	size_t norphans;                    /* captured out of order, or their request lost */
	bool upgraded;                      /* the rest of the connection is another protocol */
	bool client_upgrading;              /* the client asked to upgrade: its next bytes wait in stash */
	struct tv_buf stash;                /* client bytes after an Upgrade request */
	uint64_t stash_ts;
	struct message *h2c_request; /* answered by 101 to `Upgrade: h2c`: becomes HTTP/2 stream 1 */
	/* A 101 delivered before the request it answers (the request's segments
	 * were captured after the server's): the server's bytes after it wait
	 * in server_stash until the request says what protocol they are. */
	struct message *early_101;
	struct tv_buf server_stash;
	uint64_t server_stash_ts;
	size_t body_cap;
};

static http_parser_settings settings;

static struct message *message_new(size_t body_cap)
{
	struct message *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->headers = json_array();
	tv_buf_init(&m->url, 64u << 10);
	tv_buf_init(&m->status, 1024);
	tv_buf_init(&m->field, 8192);
	tv_buf_init(&m->value, 64u << 10);
	tv_buf_init(&m->body, body_cap);
	return m;
}

static void message_free(struct message *m)
{
	if (!m)
		return;
	json_decref(m->headers);
	tv_buf_cleanup(&m->url);
	tv_buf_cleanup(&m->status);
	tv_buf_cleanup(&m->field);
	tv_buf_cleanup(&m->value);
	tv_buf_cleanup(&m->body);
	free(m);
}

/* ---- parser callbacks ---- */

static struct side *side_of(http_parser *p)
{
	return (struct side *)p;
}

static struct http_state *state_of(http_parser *p)
{
	return p->data;
}

static int on_begin(http_parser *p)
{
	struct side *sd = side_of(p);
	message_free(sd->cur);
	sd->cur = message_new(state_of(p)->body_cap);
	if (!sd->cur)
		return -1;
	sd->cur->first_ts = sd->ts;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	tv_buf_append(&side_of(p)->cur->url, at, n); /* over the cap: kept truncated */
	return 0;
}

static int on_status(http_parser *p, const char *at, size_t n)
{
	tv_buf_append(&side_of(p)->cur->status, at, n);
	return 0;
}

static void finish_header(struct message *m)
{
	if (!m->field.len)
		return;
	json_t *name = tv_json_bytes(m->field.data, m->field.len),
	       *value = tv_json_bytes(m->value.data, m->value.len);
	if (json_is_string(name) && json_is_string(value)) {
		const char *n = json_string_value(name), *v = json_string_value(value);
		if (!strcasecmp(n, "content-encoding"))
			snprintf(m->encoding, sizeof(m->encoding), "%s", v);
		else if (!strcasecmp(n, "content-type"))
			snprintf(m->mime, sizeof(m->mime), "%s", v);
	}
	json_array_append_new(m->headers, json_pack("{s:o, s:o}", "name", name, "value", value));
	m->header_bytes += m->field.len + m->value.len + 4;
	tv_buf_reset(&m->field);
	tv_buf_reset(&m->value);
}

static int on_field(http_parser *p, const char *at, size_t n)
{
	struct message *m = side_of(p)->cur;
	if (m->in_value) {
		finish_header(m);
		m->in_value = false;
	}
	tv_buf_append(&m->field, at, n);
	return m->header_bytes > HEADER_CAP ? -1 : 0;
}

static int on_value(http_parser *p, const char *at, size_t n)
{
	struct message *m = side_of(p)->cur;
	m->in_value = true;
	tv_buf_append(&m->value, at, n);
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct side *sd = side_of(p);
	struct http_state *s = state_of(p);
	struct message *m = sd->cur;
	finish_header(m);
	m->major = p->http_major;
	m->minor = p->http_minor;
	if (p->type == HTTP_REQUEST)
		m->method = p->method;
	else {
		m->status_code = p->status_code;
		/* the response to a HEAD has no body whatever its headers say */
		struct message *req = s->nq ? s->queue[0] : s->side[0].cur;
		if (m->status_code >= 200 && req && req->method == HTTP_HEAD)
			return 1;
	}
	/* one allocation for a body of known length instead of doublings */
	if (p->content_length > 0 && p->content_length != ULLONG_MAX)
		tv_buf_reserve(&m->body, p->content_length < tv_buf_limit(&m->body)
						 ? (size_t)p->content_length
						 : tv_buf_limit(&m->body));
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct message *m = side_of(p)->cur;
	if (!m)
		return 0; /* cannot happen with a message begun; kept safe anyway */
	m->body_bytes += n;
	size_t room = tv_buf_limit(&m->body) - m->body.len;
	if (n > room)
		m->body_truncated = true;
	tv_buf_append(&m->body, at, n < room ? n : room); /* what fits of a body over the cap */
	return 0;
}

static void emit_pair(struct http_state *s, struct message *req, struct message *resp, const char *error);
static void answer(struct http_state *s, struct message *resp);

/* Takes the oldest message out of a FIFO of *n (the caller checked *n > 0). */
static struct message *pop_oldest(struct message **fifo, size_t *n)
{
	struct message *m = fifo[0];
	memmove(&fifo[0], &fifo[1], (*n - 1) * sizeof(fifo[0]));
	(*n)--;
	return m;
}

static bool asks_h2c(const struct message *req)
{
	json_t *up = tv_header(req->headers, "upgrade");
	return up && !strcasecmp(json_string_value(up) ?: "", "h2c");
}

static int on_complete(http_parser *p)
{
	struct side *sd = side_of(p);
	struct http_state *s = state_of(p);
	struct message *m = sd->cur;
	sd->cur = NULL;
	m->complete = true;
	m->last_ts = sd->ts;
	if (p->type == HTTP_REQUEST) {
		if (s->early) {
			struct message *resp = s->early;
			s->early = NULL;
			emit_pair(s, m, resp, NULL);
		} else if (s->norphans) {
			emit_pair(s, m, pop_oldest(s->orphans, &s->norphans), NULL);
		} else if (s->nq < MAX_QUEUE) {
			s->queue[s->nq++] = m;
		} else {
			emit_pair(s, m, NULL, "too many requests without responses");
		}
	} else if (m->status_code >= 100 && m->status_code < 200 && m->status_code != 101) {
		message_free(m); /* 100 Continue, 103 Early Hints: the final response follows */
	} else if (m->status_code == 101 && s->nq && asks_h2c(s->queue[0])) {
		/* one transaction: the upgraded request with its HTTP/2 response on stream 1 */
		s->h2c_request = pop_oldest(s->queue, &s->nq);
		message_free(m);
	} else if (m->status_code == 101 && !s->nq && !s->early_101) {
		s->early_101 = m; /* its request is still on the way */
	} else {
		answer(s, m);
	}
	return 0;
}

static void answer(struct http_state *s, struct message *resp)
{
	if (s->nq) {
		emit_pair(s, pop_oldest(s->queue, &s->nq), resp, NULL);
	} else if (s->side[0].cur && !s->early) {
		s->early = resp; /* answered before the request body ended */
	} else if (s->norphans < MAX_QUEUE) {
		s->orphans[s->norphans++] = resp; /* its request may still be on the way */
	} else {
		emit_pair(s, NULL, resp, "response without a request");
	}
}

/* ---- JSON ---- */

static void version_text(const struct message *m, char *out, size_t n)
{
	snprintf(out, n, "HTTP/%u.%u", m->major, m->minor);
}

/* HAR's content / postData shape for m's body. */
static json_t *content_json(struct http_state *s, const struct message *m)
{
	struct tv_http_body body = {.body = &m->body,
				    .bytes = m->body_bytes,
				    .truncated = m->body_truncated,
				    .mime = m->mime,
				    .encoding = m->encoding};
	return tv_http_content(s->c, &body);
}

static json_t *request_json(struct http_state *s, struct message *m)
{
	char ver[16];
	version_text(m, ver, sizeof(ver));
	json_t *path = tv_json_bytes(m->url.data, m->url.len);
	const char *p = json_is_string(path) ? json_string_value(path) : "";
	json_t *host = tv_header(m->headers, "host");
	char *url = NULL;
	if (p[0] == '/' && host && asprintf(&url, "http://%s%s", json_string_value(host), p) < 0)
		url = NULL;
	json_t *j =
		json_pack("{s:s, s:s, s:O, s:s, s:O, s:I, s:I}", "method", http_method_str(m->method), "url",
			  url ? url : p, "path", path, "httpVersion", ver, "headers", m->headers,
			  "headersSize", (json_int_t)m->header_bytes, "bodySize", (json_int_t)m->body_bytes);
	free(url);
	json_decref(path);
	if (m->body_bytes)
		json_object_set_new(j, "postData", content_json(s, m));
	if (!m->complete)
		json_object_set_new(j, "incomplete", json_true());
	return j;
}

static json_t *response_json(struct http_state *s, struct message *m)
{
	char ver[16];
	version_text(m, ver, sizeof(ver));
	json_t *text = tv_json_bytes(m->status.data, m->status.len);
	json_t *j =
		json_pack("{s:i, s:o, s:s, s:O, s:o, s:I, s:I}", "status", m->status_code, "statusText", text,
			  "httpVersion", ver, "headers", m->headers, "content", content_json(s, m),
			  "headersSize", (json_int_t)m->header_bytes, "bodySize", (json_int_t)m->body_bytes);
	if (!m->complete)
		json_object_set_new(j, "incomplete", json_true());
	return j;
}

static void emit_pair(struct http_state *s, struct message *req, struct message *resp, const char *error)
{
	struct tv_entry e = {.proto = "http", .version = "1.1", .error = error};
	char ver[8];
	struct message *any = req ? req : resp;
	snprintf(ver, sizeof(ver), "%u.%u", any->major, any->minor);
	e.version = ver;
	if (req) {
		e.request = request_json(s, req);
		e.request_ts = req->first_ts;
		e.request_size = req->header_bytes + req->body_bytes;
	}
	if (resp) {
		e.response = response_json(s, resp);
		e.response_ts = resp->first_ts;
		e.response_size = resp->header_bytes + resp->body_bytes;
		if (resp->status_code >= 400)
			e.failed = true;
	}
	if (!error && !resp)
		e.error = "no response";
	tv_dissect_emit(s->c, &e);
	message_free(req);
	message_free(resp);
}

/* ---- the protocol ---- */

static void *http_open(struct tv_conn *c)
{
	struct http_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->c = c;
	s->body_cap = tv_dissect_body_cap(c);
	http_parser_init(&s->side[0].p, HTTP_REQUEST);
	http_parser_init(&s->side[1].p, HTTP_RESPONSE);
	s->side[0].p.data = s->side[1].p.data = s;
	tv_buf_init(&s->stash, 16u << 20);
	tv_buf_init(&s->server_stash, 16u << 20);
	settings = (http_parser_settings){.on_message_begin = on_begin,
					  .on_url = on_url,
					  .on_status = on_status,
					  .on_header_field = on_field,
					  .on_header_value = on_value,
					  .on_headers_complete = on_headers_complete,
					  .on_body = on_body,
					  .on_message_complete = on_complete};
	return s;
}

static void break_side(struct http_state *s, int dir, const char *why)
{
	struct side *sd = &s->side[dir];
	sd->broken = true;
	if (!sd->cur)
		return;
	struct message *m = sd->cur;
	sd->cur = NULL;
	if (dir == 0) {
		emit_pair(s, m, NULL, why);
	} else if (s->nq) {
		/* a partial response still answers its request, marked */
		emit_pair(s, pop_oldest(s->queue, &s->nq), m, why);
	} else {
		emit_pair(s, NULL, m, why);
	}
}

/* Builds HTTP/2-style request headers (pseudo-headers first) from an HTTP/1
 * request, for the stream the upgrade turns it into. */
static json_t *h2_headers_of(const struct message *m)
{
	json_t *h = json_array(), *host = tv_header(m->headers, "host"),
	       *path = tv_json_bytes(m->url.data, m->url.len);
	json_array_append_new(
		h, json_pack("{s:s, s:s}", "name", ":method", "value", http_method_str(m->method)));
	json_array_append_new(h, json_pack("{s:s, s:s}", "name", ":scheme", "value", "http"));
	json_array_append_new(h, json_pack("{s:s, s:o}", "name", ":authority", "value",
					   host ? json_incref(host) : json_string("")));
	json_array_append_new(h, json_pack("{s:s, s:o}", "name", ":path", "value",
					   json_is_string(path) ? path : json_string("")));
	if (!json_is_string(path))
		json_decref(path);
	json_array_extend(h, m->headers);
	return h;
}

/* 101 to `Upgrade: h2c`: hands the connection to the HTTP/2 parser, with the
 * client bytes held since the upgrade request and the server's rest. */
static void switch_to_h2(struct http_state *s, struct tv_conn *c, const uint8_t *rest, size_t n, uint64_t ts)
{
	struct message *req = s->h2c_request;
	void *h2 = tv_http2_upgraded(c, h2_headers_of(req), req->first_ts);
	message_free(req);
	s->h2c_request = NULL;
	for (size_t i = 0; i < s->nq; i++)
		emit_pair(s, s->queue[i], NULL, "connection upgraded to HTTP/2 before the response");
	s->nq = 0;
	struct tv_buf stash = s->stash;
	uint64_t stash_ts = s->stash_ts;
	for (int dir = 0; dir < 2; dir++)
		message_free(s->side[dir].cur);
	message_free(s->early);
	message_free(s->early_101);
	tv_buf_cleanup(&s->server_stash);
	for (size_t i = 0; i < s->norphans; i++)
		emit_pair(s, NULL, s->orphans[i], "response without a request");
	free(s);
	tv_dissect_switch(c, &tv_proto_http2, h2);
	if (stash.len)
		tv_proto_http2.data(h2, c, 0, stash.data, stash.len, stash_ts);
	tv_buf_cleanup(&stash);
	if (n)
		tv_proto_http2.data(h2, c, 1, rest, n, ts);
}

static void hold_server_bytes(struct http_state *s, const uint8_t *p, size_t n, uint64_t ts)
{
	if (!s->server_stash.len)
		s->server_stash_ts = ts;
	tv_buf_append(&s->server_stash, p, n); /* over its cap: cut, and HTTP/2 will report it */
}

/* The request an early 101 answered has arrived (responses answer requests
 * in order: the oldest queued one): to h2c it becomes HTTP/2 stream 1, with
 * the server's held bytes; anything else ends parsing here. */
static void answer_early_101(struct http_state *s, struct tv_conn *c, uint64_t ts)
{
	struct message *resp = s->early_101;
	s->early_101 = NULL;
	if (!s->nq || !asks_h2c(s->queue[0])) {
		answer(s, resp);
		s->upgraded = true;
		return;
	}
	s->h2c_request = pop_oldest(s->queue, &s->nq);
	message_free(resp);
	struct tv_buf held = s->server_stash;
	uint64_t held_ts = s->server_stash_ts;
	tv_buf_init(&s->server_stash, 0);
	switch_to_h2(s, c, held.data, held.len, held_ts ? held_ts : ts); /* frees s */
	tv_buf_cleanup(&held);
}

static void http_data(void *st, struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	struct http_state *s = st;
	/* no bytes: nothing to parse (to http-parser, an empty buffer means EOF) */
	if (!s || !n || s->upgraded || s->side[dir].broken)
		return;
	if (dir == 0 && s->client_upgrading) {
		if (!s->stash.len)
			s->stash_ts = ts;
		tv_buf_append(&s->stash, p, n);
		return;
	}
	if (dir == 1 && s->early_101) {
		hold_server_bytes(s, p, n, ts);
		return;
	}
	struct side *sd = dir ? &s->side[1] : &s->side[0];
	sd->ts = ts;
	size_t done = http_parser_execute(&sd->p, &settings, (const char *)p, n);
	if (dir == 1 && s->h2c_request) {
		switch_to_h2(s, c, p + done, n - done, ts);
		return;
	}
	if (sd->p.upgrade && dir == 0) {
		/* wait for the server's answer: 101 switches, anything else keeps HTTP/1 */
		s->client_upgrading = true;
		s->stash_ts = ts;
		tv_buf_append(&s->stash, p + done, n - done);
		if (s->early_101)
			answer_early_101(s, c, ts); /* the answer came first */
		return;
	}
	if (sd->p.upgrade && s->early_101) {
		hold_server_bytes(s, p + done, n - done, ts);
		return;
	}
	if (sd->p.upgrade) {
		s->upgraded = true; /* 101 to another protocol (WebSocket...): not parsed here */
		return;
	}
	if (dir == 0 && s->early_101 && s->nq) {
		/* the request the 101 answered asked for no upgrade: pair them; what
		 * the server sent after is not HTTP/1 */
		answer(s, s->early_101);
		s->early_101 = NULL;
		s->upgraded = true;
		return;
	}
	if (dir == 1 && s->client_upgrading && !s->side[1].cur) {
		/* the upgrade was declined: the held client bytes are HTTP/1 after all */
		struct tv_buf stash = s->stash;
		tv_buf_init(&s->stash, 16u << 20);
		s->client_upgrading = false;
		http_parser_init(&s->side[0].p, HTTP_REQUEST);
		s->side[0].p.data = s;
		struct side *client = &s->side[0];
		client->ts = s->stash_ts;
		if (stash.len && http_parser_execute(&client->p, &settings, (const char *)stash.data,
						     stash.len) != stash.len)
			break_side(s, 0, http_errno_description(HTTP_PARSER_ERRNO(&client->p)));
		tv_buf_cleanup(&stash);
	}
	if (HTTP_PARSER_ERRNO(&sd->p) != HPE_OK || done != n)
		break_side(s, dir, http_errno_description(HTTP_PARSER_ERRNO(&sd->p)));
}

static void http_gap(void *st, struct tv_conn *c, int dir, uint64_t missing, uint64_t ts)
{
	(void)c, (void)missing, (void)ts;
	struct http_state *s = st;
	if (s && !s->side[dir].broken)
		break_side(s, dir, "gap in the capture");
}

static void http_close(void *st, struct tv_conn *c, uint64_t ts)
{
	(void)c;
	struct http_state *s = st;
	if (!s)
		return;
	for (int dir = 0; dir < 2; dir++) {
		struct side *sd = &s->side[dir];
		if (!sd->broken && !s->upgraded) {
			sd->ts = ts;
			http_parser_execute(&sd->p, &settings, NULL, 0); /* EOF ends close-delimited bodies */
		}
		if (sd->cur && !sd->cur->field.len && !sd->cur->url.len && !sd->cur->status.len &&
		    !json_array_size(sd->cur->headers)) {
			message_free(sd->cur);
			sd->cur = NULL;
		}
		if (sd->cur)
			break_side(s, dir, "connection closed mid-message");
	}
	if (s->early) {
		emit_pair(s, NULL, s->early, "response without a complete request");
		s->early = NULL;
	}
	for (size_t i = 0; i < s->nq; i++)
		emit_pair(s, s->queue[i], NULL, NULL);
	if (s->h2c_request)
		emit_pair(s, s->h2c_request, NULL, "upgraded to HTTP/2, nothing followed");
	for (size_t i = 0; i < s->norphans; i++)
		emit_pair(s, NULL, s->orphans[i], "response without a request");
	if (s->early_101)
		emit_pair(s, NULL, s->early_101, "101 Switching Protocols without a request");
	tv_buf_cleanup(&s->stash);
	tv_buf_cleanup(&s->server_stash);
	free(s);
}

bool tv_http1_detect(int dir, const uint8_t *p, size_t n)
{
	if (dir == 1)
		return n >= 8 && memcmp(p, "HTTP/1.", 7) == 0;
	static const char *const methods[] = {"GET ",     "POST ",  "PUT ",     "DELETE ", "HEAD ",
					      "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};
	for (size_t i = 0; i < sizeof(methods) / sizeof(*methods); i++) {
		size_t l = strlen(methods[i]);
		if (n >= l + 1 && memcmp(p, methods[i], l) == 0)
			return p[l] == '/' || p[l] == '*' || isalpha(p[l]);
	}
	return false;
}

const struct tv_proto tv_proto_http1 = {"http", http_open, http_data, http_gap, http_close};
