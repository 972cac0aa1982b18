/* SPDX-License-Identifier: Apache-2.0 */
/* http1: HTTP/1.0 and 1.1 on Debian's http-parser, one parser per
 * direction. Requests queue in order (pipelining, keep-alive) in the pairing
 * queue; each final response is paired with the oldest unanswered request;
 * 1xx responses (100-continue) are not final. A response that completes
 * before its request did (captured out of order, or answered before the
 * request's body ended) waits for it. HEAD responses have no body; 204/304 and
 * chunked and close-delimited bodies are handled by the parser (the last at
 * the connection's end). Bodies are kept up to the body cap, after gzip or
 * deflate decoding (zlib). A gap in a direction ends parsing there: what is in
 * flight is emitted with an error. Upgrade (h2c, WebSocket): the upgraded
 * request is emitted; `Upgrade: h2c` hands the connection over (tv_conn_handoff,
 * token "h2c"), anything else is not parsed further here. */
#include <ctype.h>
#include <http_parser.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "archive/common/buf.h"
#include "dissector/proto/http_body.h"
#include "dissector/proto/pairq.h"
#include "dissector/proto/proto.h"

#define HEADER_CAP (256u << 10)
#define MAX_QUEUE 256

struct message {
	json_t *headers; /* [{name, value}] */
	struct tv_buf url, status, field, value, body;
	uint64_t first_ts, last_ts;
	size_t header_bytes, body_bytes;
	bool body_truncated, in_value, complete;
	bool before_request_end; /* a response that came while its request was still arriving */
	bool headers_done;
	/* How much of the URL, status text and current header value is known
	 * whole (the parser moved past its end). A message cut by damage keeps
	 * only that much, so what it shows does not depend on where the bytes
	 * were split into segments: http-parser reports a token cut by the end
	 * of a buffer, but not one cut by an error. */
	size_t url_ok, status_ok, value_ok;
	unsigned method, status_code, major, minor;
	char encoding[32], mime[128];
};

struct side {
	http_parser p;
	struct message *cur; /* being parsed */
	bool broken;
	uint64_t ts;     /* of the bytes being parsed */
	const char *end; /* of the bytes being parsed */
	size_t wire;     /* bytes consumed for cur */
};

struct http_state {
	struct tv_conn *c;
	struct tv_http_run *run;
	struct side side[2];
	/* complete requests waiting for their responses, and final responses
	 * that came before their requests were complete */
	struct tv_pairq q;
	const char *unanswered_why; /* the error of requests flushed unanswered (NULL: "no response") */
	bool upgraded;              /* the rest of the connection is another protocol */
	bool client_upgrading;      /* the client asked to upgrade: its next bytes wait in stash */
	struct tv_buf stash;        /* client bytes after an Upgrade request */
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

static int on_begin(http_parser *p);
static int on_url(http_parser *p, const char *at, size_t n);
static int on_status(http_parser *p, const char *at, size_t n);
static int on_field(http_parser *p, const char *at, size_t n);
static int on_value(http_parser *p, const char *at, size_t n);
static int on_headers_complete(http_parser *p);
static int on_body(http_parser *p, const char *at, size_t n);
static int on_complete(http_parser *p);

static const http_parser_settings settings = {.on_message_begin = on_begin,
					      .on_url = on_url,
					      .on_status = on_status,
					      .on_header_field = on_field,
					      .on_header_value = on_value,
					      .on_headers_complete = on_headers_complete,
					      .on_body = on_body,
					      .on_message_complete = on_complete};

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

/* Appends what fits under b's cap: http-parser hands a field over in as
 * many pieces as the bytes arrived in, and the part kept must not depend
 * on that. */
static void append_capped(struct tv_buf *b, const char *at, size_t n)
{
	size_t room = tv_buf_limit(b) - b->len;
	tv_buf_append(b, at, n < room ? n : room);
}

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
	struct message *m = side_of(p)->cur;
	m->method = p->method;         /* known once the URL starts, also if the rest never comes */
	append_capped(&m->url, at, n); /* over the cap: kept truncated */
	if (side_of(p)->end && at + n < side_of(p)->end)
		m->url_ok = m->url.len;
	return 0;
}

static int on_status(http_parser *p, const char *at, size_t n)
{
	struct message *m = side_of(p)->cur;
	append_capped(&m->status, at, n);
	if (side_of(p)->end && at + n < side_of(p)->end)
		m->status_ok = m->status.len;
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
	m->value_ok = 0;
}

static int on_field(http_parser *p, const char *at, size_t n)
{
	struct message *m = side_of(p)->cur;
	if (m->in_value) {
		finish_header(m);
		m->in_value = false;
	}
	append_capped(&m->field, at, n);
	return m->header_bytes > HEADER_CAP ? -1 : 0;
}

static int on_value(http_parser *p, const char *at, size_t n)
{
	struct message *m = side_of(p)->cur;
	m->in_value = true;
	append_capped(&m->value, at, n);
	if (side_of(p)->end && at + n < side_of(p)->end)
		m->value_ok = m->value.len;
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct side *sd = side_of(p);
	struct http_state *s = state_of(p);
	struct message *m = sd->cur;
	finish_header(m);
	m->headers_done = true;
	m->major = p->http_major;
	m->minor = p->http_minor;
	if (p->type == HTTP_REQUEST)
		m->method = p->method;
	else {
		m->status_code = p->status_code;
		/* the response to a HEAD has no body whatever its headers say */
		struct message *req = tv_pairq_oldest(&s->q) ? tv_pairq_oldest(&s->q) : s->side[0].cur;
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

/* The pairing queue's report: a pair, or a message alone. */
static void on_pair(void *ctx, void *req, void *resp, enum tv_pair_why why)
{
	struct http_state *s = ctx;
	const char *error = NULL;
	if (!req)
		error = ((struct message *)resp)->before_request_end ? "response without a complete request"
								     : "response without a request";
	else if (!resp)
		error = why == TV_PAIR_EVICTED ? "too many requests without responses" : s->unanswered_why;
	emit_pair(s, req, resp, error);
}

static struct message *oldest_request(const struct http_state *s)
{
	return tv_pairq_oldest(&s->q);
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
		tv_pairq_request(&s->q, 0, m); /* an early response takes it at once */
	} else if (m->status_code >= 100 && m->status_code < 200 && m->status_code != 101) {
		message_free(m); /* 100 Continue, 103 Early Hints: the final response follows */
	} else if (m->status_code == 101 && oldest_request(s) && asks_h2c(oldest_request(s))) {
		/* one transaction: the upgraded request with its HTTP/2 response on stream 1 */
		s->h2c_request = tv_pairq_take_oldest(&s->q);
		message_free(m);
	} else if (m->status_code == 101 && !tv_pairq_waiting(&s->q) && !s->early_101) {
		s->early_101 = m; /* its request is still on the way */
	} else {
		answer(s, m);
	}
	return 0;
}

static void answer(struct http_state *s, struct message *resp)
{
	if (!tv_pairq_waiting(&s->q) && s->side[0].cur)
		resp->before_request_end = true; /* answered before the request ended */
	tv_pairq_response(&s->q, 0, resp);       /* waits when its request is still on the way */
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
	return tv_http_content(s->run, s->body_cap, &body);
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
	tv_conn_emit(s->c, &e);
	message_free(req);
	message_free(resp);
}

/* ---- the protocol ---- */

static void *http_open(struct tv_conn *c, void *run)
{
	struct http_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->c = c;
	s->run = run;
	s->body_cap = tv_conn_body_cap(c);
	http_parser_init(&s->side[0].p, HTTP_REQUEST);
	http_parser_init(&s->side[1].p, HTTP_RESPONSE);
	s->side[0].p.data = s->side[1].p.data = s;
	tv_pairq_init(&s->q, TV_PAIRQ_ORDER, MAX_QUEUE, on_pair, s);
	tv_buf_init(&s->stash, 16u << 20);
	tv_buf_init(&s->server_stash, 16u << 20);
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
	if (!m->headers_done) {
		/* cut inside the head: keep the tokens known whole (see struct message) */
		m->url.len = m->url_ok;
		m->status.len = m->status_ok;
		if (m->in_value && m->value_ok) {
			m->value.len = m->value_ok;
			finish_header(m);
		}
	}
	if (dir == 0)
		emit_pair(s, m, NULL, why);
	else /* a partial response still answers its request, marked */
		emit_pair(s, tv_pairq_take_oldest(&s->q), m, why);
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

/* Frees what the state holds besides the queue (emptied by the caller). */
static void state_free(struct http_state *s)
{
	for (int dir = 0; dir < 2; dir++)
		message_free(s->side[dir].cur);
	message_free(s->early_101);
	message_free(s->h2c_request);
	tv_pairq_cleanup(&s->q);
	tv_buf_cleanup(&s->stash);
	tv_buf_cleanup(&s->server_stash);
	free(s);
}

/* 101 to `Upgrade: h2c`: hands the connection to the protocol that takes
 * "h2c" (HTTP/2), with the client bytes held since the upgrade request and
 * the server's rest. */
static void switch_to_h2(struct http_state *s, struct tv_conn *c, const uint8_t *rest, size_t n, uint64_t ts)
{
	struct message *req = s->h2c_request;
	struct tv_handoff h = {.token = "h2c", .request = h2_headers_of(req), .request_ts = req->first_ts};
	s->unanswered_why = "connection upgraded to HTTP/2 before the response";
	tv_pairq_flush(&s->q);
	struct tv_buf stash = s->stash;
	uint64_t stash_ts = s->stash_ts;
	tv_buf_init(&s->stash, 0);
	state_free(s);
	if (tv_conn_handoff(c, &h) == 0) {
		if (stash.len)
			tv_conn_deliver(c, 0, stash.data, stash.len, stash_ts);
		if (n)
			tv_conn_deliver(c, 1, rest, n, ts);
	}
	tv_buf_cleanup(&stash);
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
static bool answer_early_101(struct http_state *s, struct tv_conn *c, uint64_t ts)
{
	struct message *resp = s->early_101;
	s->early_101 = NULL;
	if (!oldest_request(s) || !asks_h2c(oldest_request(s))) {
		answer(s, resp);
		s->upgraded = true;
		return false;
	}
	s->h2c_request = tv_pairq_take_oldest(&s->q);
	message_free(resp);
	struct tv_buf held = s->server_stash;
	uint64_t held_ts = s->server_stash_ts;
	tv_buf_init(&s->server_stash, 0);
	switch_to_h2(s, c, held.data, held.len, held_ts ? held_ts : ts); /* frees s */
	tv_buf_cleanup(&held);
	return true;
}

/* The body of http_data. @return true when the connection was handed to
 * another protocol (s is freed). */
static bool parse(struct http_state *s, struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	/* no bytes: nothing to parse (to http-parser, an empty buffer means EOF) */
	if (!n || s->upgraded || s->side[dir].broken)
		return false;
	if (dir == 0 && s->client_upgrading) {
		if (!s->stash.len)
			s->stash_ts = ts;
		tv_buf_append(&s->stash, p, n);
		return false;
	}
	if (dir == 1 && s->early_101) {
		hold_server_bytes(s, p, n, ts);
		return false;
	}
	struct side *sd = dir ? &s->side[1] : &s->side[0];
	sd->ts = ts;
	sd->end = (const char *)p + n;
	size_t done = http_parser_execute(&sd->p, &settings, (const char *)p, n);
	if (dir == 1 && s->h2c_request) {
		switch_to_h2(s, c, p + done, n - done, ts);
		return true;
	}
	if (sd->p.upgrade && dir == 0) {
		/* wait for the server's answer: 101 switches, anything else keeps HTTP/1 */
		s->client_upgrading = true;
		s->stash_ts = ts;
		tv_buf_append(&s->stash, p + done, n - done);
		/* the answer came first */
		return s->early_101 && answer_early_101(s, c, ts);
	}
	if (sd->p.upgrade && s->early_101) {
		hold_server_bytes(s, p + done, n - done, ts);
		return false;
	}
	if (sd->p.upgrade) {
		s->upgraded = true; /* 101 to another protocol (WebSocket...): not parsed here */
		return false;
	}
	if (dir == 0 && s->early_101 && tv_pairq_waiting(&s->q)) {
		/* the request the 101 answered asked for no upgrade: pair them; what
		 * the server sent after is not HTTP/1 */
		answer(s, s->early_101);
		s->early_101 = NULL;
		s->upgraded = true;
		return false;
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
		client->end = (const char *)stash.data + stash.len;
		if (stash.len && http_parser_execute(&client->p, &settings, (const char *)stash.data,
						     stash.len) != stash.len)
			break_side(s, 0, http_errno_description(HTTP_PARSER_ERRNO(&client->p)));
		tv_buf_cleanup(&stash);
	}
	if (HTTP_PARSER_ERRNO(&sd->p) != HPE_OK || done != n)
		break_side(s, dir, http_errno_description(HTTP_PARSER_ERRNO(&sd->p)));
	return false;
}

static enum tv_parse http_data(void *st, struct tv_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	struct http_state *s = st;
	if (parse(s, c, dir, p, n, ts))
		return TV_PARSE_OK; /* s is gone: the connection is another protocol's */
	return s->side[dir].broken ? TV_PARSE_ERROR : TV_PARSE_OK;
}

static void http_gap(void *st, struct tv_conn *c, int dir, uint64_t missing, uint64_t ts)
{
	(void)c, (void)missing, (void)ts;
	struct http_state *s = st;
	if (!s->side[dir].broken)
		break_side(s, dir, "gap in the capture");
}

static void http_close(void *st, struct tv_conn *c, uint64_t ts)
{
	(void)c;
	struct http_state *s = st;
	for (int dir = 0; dir < 2; dir++) {
		struct side *sd = &s->side[dir];
		if (!sd->broken && !s->upgraded) {
			sd->ts = ts;
			sd->end = NULL;
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
	tv_pairq_flush(&s->q);
	if (s->h2c_request) {
		emit_pair(s, s->h2c_request, NULL, "upgraded to HTTP/2, nothing followed");
		s->h2c_request = NULL;
	}
	if (s->early_101) {
		emit_pair(s, NULL, s->early_101, "101 Switching Protocols without a request");
		s->early_101 = NULL;
	}
	state_free(s);
}

/* The first bytes of a side: a request line from the client, a status line
 * from the server. */
static enum tv_probe http1_probe(unsigned l4, int dir, const uint8_t *p, size_t n)
{
	(void)l4;
	if (dir == 1) {
		size_t k = n < 7 ? n : 7;
		if (memcmp(p, "HTTP/1.", k) != 0)
			return TV_PROBE_NO;
		return n >= 8 ? TV_PROBE_YES : TV_PROBE_NEED_MORE;
	}
	static const char *const methods[] = {"GET ",     "POST ",  "PUT ",     "DELETE ", "HEAD ",
					      "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};
	bool could_be = false;
	for (size_t i = 0; i < sizeof(methods) / sizeof(*methods); i++) {
		size_t l = strlen(methods[i]);
		if (n >= l + 1 && memcmp(p, methods[i], l) == 0)
			return p[l] == '/' || p[l] == '*' || isalpha(p[l]) ? TV_PROBE_YES : TV_PROBE_NO;
		if (n < l + 1 && memcmp(p, methods[i], n < l ? n : l) == 0)
			could_be = true;
	}
	return could_be ? TV_PROBE_NEED_MORE : TV_PROBE_NO;
}

static const uint16_t http1_ports[] = {80, 8080, 8000, 3000, 0};

const struct tv_proto tv_proto_http1 = {
	.name = "http1",
	.l4 = TV_L4_TCP,
	.ports = http1_ports,
	.probe = http1_probe,
	.run_open = tv_http_run_open,
	.run_close = tv_http_run_close,
	.open = http_open,
	.data = http_data,
	.gap = http_gap,
	.close = http_close,
};
