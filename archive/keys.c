/* SPDX-License-Identifier: Apache-2.0 */
/* keys: see keys.h. */
#include "archive/keys.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/segment.h"
#include "archive/store/store.h"

#define NS_PER_HOUR (3600ULL * 1000000000ULL)

const char *tv_key_suffix(enum tv_obj_kind kind)
{
	switch (kind) {
	case TV_OBJ_DATA: return TV_KEY_SUFFIX_DATA;
	case TV_OBJ_INDEX: return TV_KEY_SUFFIX_INDEX;
	default: return TV_KEY_SUFFIX_EVENTS;
	}
}

static const char *sep(const char *prefix)
{
	size_t n = strlen(prefix);
	return n && prefix[n - 1] != '/' ? "/" : "";
}

int tv_key_node_prefix(char *out, size_t n, const char *prefix, const char *node)
{
	int m = node ? snprintf(out, n, "%s%sv1/nodes/%s/", prefix, sep(prefix), node)
		     : snprintf(out, n, "%s%sv1/nodes/", prefix, sep(prefix));
	return m < 0 || (size_t)m >= n ? -ENAMETOOLONG : 0;
}

/* "PREFIX/v1/<what>/" or "PREFIX/v1/<what>/NODE/". */
static int kind_prefix(char *out, size_t n, const char *prefix, const char *what, const char *node)
{
	int m = node ? snprintf(out, n, "%s%sv1/%s/%s/", prefix, sep(prefix), what, node)
		     : snprintf(out, n, "%s%sv1/%s/", prefix, sep(prefix), what);
	return m < 0 || (size_t)m >= n ? -ENAMETOOLONG : 0;
}

int tv_key_keys_prefix(char *out, size_t n, const char *prefix, const char *node)
{
	return kind_prefix(out, n, prefix, "keys", node);
}

int tv_key_pubkey(char *out, size_t n, const char *prefix, const char *node, const char *key_id_hex)
{
	int rc = kind_prefix(out, n, prefix, "keys", node);
	size_t used = strlen(out);
	int m = rc ? -1 : snprintf(out + used, n - used, "%s.json", key_id_hex);
	return m < 0 || (size_t)m >= n - used ? -ENAMETOOLONG : 0;
}

int tv_key_checkpoints_prefix(char *out, size_t n, const char *prefix, const char *node)
{
	return kind_prefix(out, n, prefix, "checkpoints", node);
}

int tv_key_checkpoint(char *out, size_t n, const char *prefix, const char *node, uint64_t time_ns)
{
	int rc = kind_prefix(out, n, prefix, "checkpoints", node);
	size_t used = strlen(out);
	int m = rc ? -1 : snprintf(out + used, n - used, "%019" PRIu64 ".json", time_ns);
	return m < 0 || (size_t)m >= n - used ? -ENAMETOOLONG : 0;
}

int tv_key_settings(char *out, size_t n, const char *prefix)
{
	int m = snprintf(out, n, "%s%sv1/settings.json", prefix, sep(prefix));
	return m < 0 || (size_t)m >= n ? -ENAMETOOLONG : 0;
}

static int hour_prefix(char *out, size_t n, const char *prefix, const char *node, uint64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	gmtime_r(&sec, &tm);
	int m = snprintf(out, n, "%s%sv1/nodes/%s/%04d/%02d/%02d/%02d/", prefix, sep(prefix), node,
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
	return m < 0 || (size_t)m >= n ? -ENAMETOOLONG : 0;
}

int tv_key_segment(char *out, size_t n, const char *prefix, const char *node, uint64_t start_ns, uint64_t seq,
		   enum tv_obj_kind kind)
{
	int rc = hour_prefix(out, n, prefix, node, start_ns);
	if (rc)
		return rc;
	size_t used = strlen(out);
	int m = snprintf(out + used, n - used, "%019" PRIu64 "-%010" PRIu64 "%s", start_ns, seq,
			 tv_key_suffix(kind));
	return m < 0 || (size_t)m >= n - used ? -ENAMETOOLONG : 0;
}

int tv_key_sibling(const char *name, const char *suffix, char *out, size_t n)
{
	size_t len = strlen(name);
	for (int k = TV_OBJ_DATA; k <= TV_OBJ_EVENTS; k++) {
		size_t sl = strlen(tv_key_suffix((enum tv_obj_kind)k));
		if (len > sl && strcmp(name + len - sl, tv_key_suffix((enum tv_obj_kind)k)) == 0) {
			len -= sl;
			break;
		}
	}
	int m = snprintf(out, n, "%.*s%s", (int)len, name, suffix);
	return m < 0 || (size_t)m >= n ? -ENAMETOOLONG : 0;
}

static int parse_digits(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int tv_key_parse_segment(const char *key, struct tv_segment_key *out)
{
	memset(out, 0, sizeof(*out));
	const char *nodes = NULL;
	for (const char *p = strstr(key, "v1/nodes/"); p; p = strstr(p + 1, "v1/nodes/"))
		if (p == key || p[-1] == '/')
			nodes = p;
	if (!nodes)
		return -EINVAL;
	const char *node = nodes + 9, *slash = strchr(node, '/');
	if (!slash || (size_t)(slash - node) > TV_NODE_MAX)
		return -EINVAL;
	memcpy(out->node, node, (size_t)(slash - node));
	if (!tv_node_name_valid(out->node))
		return -EINVAL;
	/* YYYY/MM/DD/HH/ then the file name */
	const char *p = slash + 1;
	static const size_t widths[] = {4, 2, 2, 2};
	for (size_t i = 0; i < 4; i++) {
		uint64_t ignored;
		if (parse_digits(p, widths[i], &ignored) || p[widths[i]] != '/')
			return -EINVAL;
		p += widths[i] + 1;
	}
	if (parse_digits(p, 19, &out->start_ns) || p[19] != '-' || parse_digits(p + 20, 10, &out->seq))
		return -EINVAL;
	const char *suffix = p + 30;
	if (strcmp(suffix, TV_KEY_SUFFIX_DATA) == 0)
		out->kind = TV_OBJ_DATA;
	else if (strcmp(suffix, TV_KEY_SUFFIX_INDEX) == 0)
		out->kind = TV_OBJ_INDEX;
	else if (strcmp(suffix, TV_KEY_SUFFIX_EVENTS) == 0)
		out->kind = TV_OBJ_EVENTS;
	else
		return -EINVAL;
	/* The hour directories must be those of STARTNS. */
	char expect[TV_KEY_MAX];
	if (hour_prefix(expect, sizeof(expect), "", out->node, out->start_ns) ||
	    strncmp(nodes, expect, strlen(expect)) != 0)
		return -EINVAL;
	return 0;
}

int tv_key_window_prefixes(const char *prefix, const char *node, uint64_t from, uint64_t to,
			   tv_key_prefix_fn fn, void *ctx)
{
	if (to <= from)
		return 0;
	uint64_t first = from > TV_SEGMENT_MAX_SPAN_NS ? from - TV_SEGMENT_MAX_SPAN_NS : 0;
	first -= first % NS_PER_HOUR;
	for (uint64_t h = first; h < to; h += NS_PER_HOUR) {
		char p[TV_KEY_MAX];
		int rc = hour_prefix(p, sizeof(p), prefix, node, h);
		if (!rc)
			rc = fn(ctx, p);
		if (rc)
			return rc;
		if (h > UINT64_MAX - NS_PER_HOUR)
			break;
	}
	return 0;
}

/* The position of a "_sDIGITS" tail of name, or NULL. */
static const char *stream_suffix(const char *name)
{
	const char *u = strrchr(name, '_');
	if (!u || u == name || u[1] != 's' || !u[2])
		return NULL;
	for (const char *p = u + 2; *p; p++)
		if (*p < '0' || *p > '9')
			return NULL;
	return u;
}

int tv_node_stream_name(char *out, size_t n, const char *node, unsigned stream)
{
	int k = stream ? snprintf(out, n, "%s_s%u", node, stream) : snprintf(out, n, "%s", node);
	return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

unsigned tv_node_stream_split(const char *name, char *base, size_t n)
{
	const char *u = stream_suffix(name);
	unsigned long stream = u ? strtoul(u + 2, NULL, 10) : 0;
	if (stream == 0 || stream > 65535)
		u = NULL, stream = 0;
	if (base)
		snprintf(base, n, "%.*s", u ? (int)(u - name) : (int)strlen(name), name);
	return (unsigned)stream;
}

bool tv_node_has_stream_suffix(const char *name)
{
	return stream_suffix(name) != NULL;
}
