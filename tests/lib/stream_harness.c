/* SPDX-License-Identifier: Apache-2.0 */
/* stream_harness: see stream_harness.h. */
#include "tests/lib/stream_harness.h"

#include <stdlib.h>
#include <string.h>

void tv_harness_small_caps(struct tv_dissect_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->stream_cap = 4096;
	o->total_cap = 65536;
	o->body_cap = 4096;
}

int tv_harness_open(struct tv_harness *h, const char *name, bool udp, const struct tv_dissect_opts *o)
{
	memset(h, 0, sizeof(*h));
	const struct tv_proto *p = tv_proto_find(name);
	if (!p || !(h->out = open_memstream(&h->text, &h->len)))
		return -1;
	struct tv_dissect_opts opts = {0};
	if (o)
		opts = *o;
	opts.out = h->out;
	opts.writer_thread = false;
	opts.har = false;
	if (tv_dissect_open(&h->d, &opts)) {
		fclose(h->out);
		free(h->text);
		return -1;
	}
	h->ts = 1000000000ULL;
	h->c = tv_dissect_stream_open(h->d, p, udp);
	return h->c ? 0 : -1;
}

void tv_harness_send(struct tv_harness *h, int dir, const void *p, size_t n)
{
	h->ts += 1000;
	tv_dissect_stream_data(h->c, dir, p, n, h->ts);
}

void tv_harness_send_str(struct tv_harness *h, int dir, const char *s)
{
	tv_harness_send(h, dir, s, strlen(s));
}

void tv_harness_gap(struct tv_harness *h, int dir, uint64_t missing)
{
	h->ts += 1000;
	tv_dissect_stream_gap(h->c, dir, missing, h->ts);
}

void tv_harness_later(struct tv_harness *h, uint64_t ns)
{
	h->ts += ns;
}

json_t *tv_harness_close(struct tv_harness *h)
{
	tv_dissect_free(h->d);
	fclose(h->out);
	json_t *all = json_array();
	const char *line = h->text;
	bool ok = true;
	while (ok && line && *line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		json_t *j = json_loadb(line, n, JSON_ALLOW_NUL, NULL);
		ok = j != NULL;
		if (j)
			json_array_append_new(all, j);
		line = end ? end + 1 : NULL;
	}
	free(h->text);
	memset(h, 0, sizeof(*h));
	if (!ok) {
		json_decref(all);
		return NULL;
	}
	return all;
}

json_t *tv_harness_script(const char *name, bool udp, const uint8_t *script, size_t n, bool split,
			  const struct tv_dissect_opts *o)
{
	struct tv_harness h;
	if (tv_harness_open(&h, name, udp, o)) {
		if (h.d) /* opened, but the connection could not be */
			return tv_harness_close(&h);
		return NULL;
	}
	size_t off = 0;
	while (off + 3 <= n) {
		uint8_t ctl = script[off];
		size_t len = (size_t)script[off + 1] << 8 | script[off + 2];
		off += 3;
		h.ts += (ctl & 4) ? 1000000000ULL : 1000;
		if (ctl & 2) {
			tv_dissect_stream_gap(h.c, ctl & 1, len, h.ts);
			continue;
		}
		if (len > n - off)
			len = n - off;
		if (!split || udp) {
			tv_dissect_stream_data(h.c, ctl & 1, script + off, len, h.ts);
		} else {
			for (size_t done = 0, piece = 1; done < len; done += piece, piece++) {
				if (piece > len - done)
					piece = len - done;
				tv_dissect_stream_data(h.c, ctl & 1, script + off + done, piece, h.ts);
			}
		}
		off += len;
	}
	return tv_harness_close(&h);
}

json_t *tv_j(json_t *j, const char *path)
{
	char part[128];
	while (j && *path) {
		size_t n = strcspn(path, ".");
		snprintf(part, sizeof(part), "%.*s", (int)n, path);
		char *end;
		long idx = strtol(part, &end, 10);
		j = json_is_array(j) && !*end ? json_array_get(j, (size_t)idx) : json_object_get(j, part);
		path += n + (path[n] == '.');
	}
	return j;
}

const char *tv_j_str(json_t *j, const char *path)
{
	return json_string_value(tv_j(j, path));
}

long long tv_j_int(json_t *j, const char *path)
{
	json_t *v = tv_j(j, path);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

bool tv_j_true(json_t *j, const char *path)
{
	return json_is_true(tv_j(j, path));
}
