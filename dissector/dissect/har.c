/* SPDX-License-Identifier: Apache-2.0 */
/* har: see har.h. */
#include "dissector/dissect/har.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/sha256.h" /* tv_hex_digit */

void tv_har_begin(struct tv_entry_writer *w)
{
	tv_entry_writer_put(
		w,
		"{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"tapvault\",\"version\":\"" TV_VERSION
		"\"},\"pages\":[],\"entries\":[\n",
		NULL, NULL);
}

void tv_har_end(struct tv_entry_writer *w)
{
	tv_entry_writer_put(w, "\n]}}\n", NULL, NULL);
}

/* Percent- and '+'-decoding of a query component (a string, "" if not UTF-8). */
static json_t *url_decoded(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t o = 0;
	for (size_t i = 0; out && i < n; i++) {
		if (s[i] == '%' && i + 2 < n && tv_hex_digit(s[i + 1]) >= 0 && tv_hex_digit(s[i + 2]) >= 0) {
			out[o++] = (char)(tv_hex_digit(s[i + 1]) * 16 + tv_hex_digit(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	json_t *j = out ? json_stringn(out, o) : NULL;
	free(out);
	return j ? j : json_string("");
}

static json_t *query_string(const char *path)
{
	json_t *arr = json_array();
	const char *q = path ? strchr(path, '?') : NULL;
	while (q && *q) {
		const char *start = q + 1, *end = strchr(start, '&');
		size_t len = end ? (size_t)(end - start) : strlen(start);
		const char *eq = memchr(start, '=', len);
		size_t nlen = eq ? (size_t)(eq - start) : len;
		if (len)
			json_array_append_new(
				arr, json_pack("{s:o, s:o}", "name", url_decoded(start, nlen), "value",
					       eq ? url_decoded(eq + 1, len - nlen - 1) : json_string("")));
		q = end;
	}
	return arr;
}

/* Renames our extra fields to HAR's custom-field form ("_name"). */
static void har_underscore(json_t *obj, const char *name)
{
	json_t *v = obj ? json_object_get(obj, name) : NULL;
	if (!v)
		return;
	char custom[40];
	snprintf(custom, sizeof(custom), "_%s", name);
	json_object_set(obj, custom, v);
	json_object_del(obj, name);
}

static json_t *har_request(json_t *req)
{
	json_t *r = json_deep_copy(req);
	json_object_set_new(r, "cookies", json_array());
	json_object_set_new(r, "queryString", query_string(json_string_value(json_object_get(r, "path"))));
	har_underscore(r, "path");
	har_underscore(r, "incomplete");
	har_underscore(r, "pushPromise");
	json_t *post = json_object_get(r, "postData");
	if (post) {
		json_object_del(post, "size");
		har_underscore(post, "encoding");
		har_underscore(post, "truncated");
		har_underscore(post, "decodeError");
		har_underscore(post, "compression");
		json_object_set_new(post, "params", json_array());
	}
	return r;
}

static json_t *har_response(json_t *resp)
{
	if (!resp)
		return json_pack("{s:i, s:s, s:s, s:[], s:[], s:{s:i, s:s}, s:s, s:i, s:i}", "status", 0,
				 "statusText", "", "httpVersion", "", "cookies", "headers", "content", "size",
				 0, "mimeType", "", "redirectURL", "", "headersSize", -1, "bodySize", -1);
	json_t *r = json_deep_copy(resp);
	json_object_set_new(r, "cookies", json_array());
	har_underscore(json_object_get(r, "content"), "truncated");
	har_underscore(json_object_get(r, "content"), "decodeError");
	har_underscore(r, "incomplete");
	json_t *loc = tv_header(json_object_get(r, "headers"), "location");
	json_object_set_new(r, "redirectURL", loc && json_is_string(loc) ? json_copy(loc) : json_string(""));
	return r;
}

void tv_har_entry(struct tv_entry_writer *wr, const struct tv_entry_where *w, const struct tv_entry *e,
		  const char *when, bool first)
{
	double wait = tv_entry_elapsed_ms(e);
	char ip[INET6_ADDRSTRLEN];
	inet_ntop(w->client->family == 4 ? AF_INET : AF_INET6, w->client->dst, ip, sizeof(ip));
	json_t *j =
		json_pack("{s:s, s:f, s:o, s:o, s:{}, s:{s:i, s:f, s:i}, s:s, s:s, s:s}", "startedDateTime",
			  when, "time", wait, "request", har_request(e->request), "response",
			  har_response(e->response), "cache", "timings", "send", 0, "wait", wait, "receive",
			  0, "serverIPAddress", ip, "_stream", w->stream, "_node", w->node);
	if (e->error)
		json_object_set_new(j, "_error", json_string(e->error));
	tv_entry_writer_put(wr, first ? NULL : ",\n", j, NULL);
}
