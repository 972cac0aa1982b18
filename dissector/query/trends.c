/* SPDX-License-Identifier: Apache-2.0 */
/* trends: see trends.h. The rollups of the window are loaded once, in hour
 * order; each kind is a pass over them. */
#include "dissector/query/trends.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/timeutil.h"
#include "dissector/query/rollup.h"

#define DAY_NS (24 * TV_HOUR_NS)
#define MAX_TREND_HOURS (400 * 24) /* a bit over a year */
#define BEACON_MIN_CONNS 12

struct hours {
	uint64_t from; /* first hour */
	size_t n;
	json_t **r; /* rollup per hour */
	size_t with_data, built;
};

static void hours_free(struct hours *h)
{
	for (size_t i = 0; i < h->n; i++)
		json_decref(h->r[i]);
	free(h->r);
}

static int hours_load(struct tv_store *s, const struct tv_trends_opts *o, struct hours *h)
{
	memset(h, 0, sizeof(*h));
	h->from = o->from - o->from % TV_HOUR_NS;
	uint64_t to = o->to % TV_HOUR_NS ? o->to - o->to % TV_HOUR_NS + TV_HOUR_NS : o->to;
	h->n = (to - h->from) / TV_HOUR_NS;
	if (!(h->r = calloc(h->n ? h->n : 1, sizeof(*h->r))))
		return tv_err(-ENOMEM, "out of memory");
	for (size_t i = 0; i < h->n; i++) {
		bool built;
		int rc = tv_rollup_load(s, o->prefix, h->from + i * TV_HOUR_NS, &h->r[i], &built);
		if (rc)
			return rc;
		h->built += built;
		h->with_data += json_integer_value(json_object_get(h->r[i], "inputs")) > 0;
		if (o->progress)
			o->progress(o->arg, i + 1, h->n);
	}
	return 0;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static uint64_t num(json_t *o, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(o, k));
}

/* The key a pair's traffic counts under. */
static void pair_key(json_t *p, const char *by, char *out, size_t n)
{
	if (!strcmp(by, "node"))
		snprintf(out, n, "%s", str(p, "node"));
	else if (!strcmp(by, "namespace"))
		snprintf(out, n, "%s", str(p, "dst_ns") ? str(p, "dst_ns") : str(p, "dst"));
	else if (!strcmp(by, "service") && str(p, "dst_service"))
		snprintf(out, n, "%s/%s", str(p, "dst_ns") ? str(p, "dst_ns") : "-", str(p, "dst_service"));
	else
		snprintf(out, n, "%s", str(p, "dst"));
}

static void pair_id(json_t *p, bool with_node, char *out, size_t n)
{
	snprintf(out, n, "%s%s%s -> %s %s/%d", with_node ? str(p, "node") : "", with_node ? ": " : "",
		 str(p, "src"), str(p, "dst"), str(p, "proto"), (int)num(p, "port"));
}

static json_t *time_json(uint64_t ns)
{
	char t[TV_RFC3339_LEN];
	tv_format_rfc3339(ns, t);
	return json_string(t);
}

/* ---- series: bytes per hour per key ---- */

static json_t *series_all(const struct hours *h, const char *by)
{
	json_t *by_key = json_object();
	for (size_t i = 0; i < h->n; i++) {
		size_t j;
		json_t *p;
		json_array_foreach (json_object_get(h->r[i], "pairs"), j, p) {
			char key[600];
			pair_key(p, by, key, sizeof(key));
			json_t *s = json_object_get(by_key, key);
			if (!s) {
				s = json_pack("{s:s,s:[],s:I}", "key", key, "values", "total", (json_int_t)0);
				for (size_t z = 0; z < h->n; z++)
					json_array_append_new(json_object_get(s, "values"), json_integer(0));
				json_object_set_new(by_key, key, s);
			}
			json_t *v = json_array_get(json_object_get(s, "values"), i);
			json_integer_set(v, json_integer_value(v) + (json_int_t)num(p, "bytes"));
			json_object_set_new(s, "total",
					    json_integer((json_int_t)(num(s, "total") + num(p, "bytes"))));
		}
	}
	json_t *arr = json_array();
	const char *k;
	json_t *s;
	json_object_foreach (by_key, k, s)
		json_array_append(arr, s);
	json_decref(by_key);
	return arr;
}

static int cmp_total(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	uint64_t p = num(x, "total"), q = num(y, "total");
	if (p != q)
		return p > q ? -1 : 1;
	return strcmp(str(x, "key"), str(y, "key"));
}

static int cmp_score(const void *a, const void *b)
{
	double p = json_real_value(json_object_get(*(json_t *const *)a, "score"));
	double q = json_real_value(json_object_get(*(json_t *const *)b, "score"));
	if (p != q)
		return p > q ? -1 : 1;
	return strcmp(str(*(json_t *const *)a, "what"), str(*(json_t *const *)b, "what"));
}

/* arr sorted by cmp, cut to at most keep (0: all). */
static json_t *sorted(json_t *arr, int (*cmp)(const void *, const void *), size_t keep)
{
	size_t n = json_array_size(arr);
	json_t **v = calloc(n ? n : 1, sizeof(*v));
	json_t *out = json_array();
	if (!v)
		return out;
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(arr, i);
	qsort(v, n, sizeof(*v), cmp);
	for (size_t i = 0; i < n && (!keep || i < keep); i++)
		json_array_append(out, v[i]);
	free(v);
	json_decref(arr);
	return out;
}

/* ---- robust statistics ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Quantile q of sorted v[0..n) by linear interpolation. */
static double quantile(const double *v, size_t n, double q)
{
	if (!n)
		return 0;
	double at = q * (double)(n - 1);
	size_t i = (size_t)at;
	double f = at - (double)i;
	return i + 1 < n ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

/* Median, median absolute deviation and Bowley skew of v (sorted here). */
static void robust(double *v, size_t n, double *median, double *mad, double *bowley)
{
	qsort(v, n, sizeof(*v), cmp_double);
	double q1 = quantile(v, n, 0.25), q2 = quantile(v, n, 0.5), q3 = quantile(v, n, 0.75);
	*median = q2;
	if (bowley)
		*bowley = q3 > q1 ? (q1 + q3 - 2 * q2) / (q3 - q1) : 0;
	double *d = malloc((n ? n : 1) * sizeof(*d));
	if (!d) {
		*mad = 0;
		return;
	}
	for (size_t i = 0; i < n; i++)
		d[i] = fabs(v[i] - q2);
	qsort(d, n, sizeof(*d), cmp_double);
	*mad = quantile(d, n, 0.5);
	free(d);
}

static double clamp01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* ---- top ---- */

static int run_top(const struct hours *h, const struct tv_trends_opts *o, json_t *out)
{
	json_t *series = sorted(series_all(h, o->by), cmp_total, o->top);
	json_object_set_new(out, "series", series);
	char line[800];
	json_t *s0 = json_array_get(series, 0);
	snprintf(line, sizeof(line), "%zu %s keys; the largest: %s (%" PRIu64 " bytes)",
		 json_array_size(series), o->by, s0 ? str(s0, "key") : "none", s0 ? num(s0, "total") : 0);
	json_object_set_new(out, "summary", json_string(line));
	return 0;
}

/* ---- anomalies: hour of the week, median ± k·scale ---- */

static bool has_data(const struct hours *h, size_t i)
{
	return json_integer_value(json_object_get(h->r[i], "inputs")) > 0;
}

/* One key's hours against the median and MAD of their hour of the week
 * (hours nobody captured are neither samples nor findings). */
static void anomalies_of(const struct hours *h, json_t *s, double k, json_t *findings)
{
	json_t *values = json_object_get(s, "values");
	double *samples = malloc((h->n ? h->n : 1) * sizeof(*samples)), med[168], mad[168];
	size_t count[168] = {0};
	if (!samples)
		return;
	for (size_t slot = 0; slot < 168; slot++) {
		size_t m = 0;
		for (size_t i = (slot + 168 - (h->from / TV_HOUR_NS) % 168) % 168; i < h->n; i += 168)
			if (has_data(h, i))
				samples[m++] = (double)json_integer_value(json_array_get(values, i));
		count[slot] = m;
		if (m >= 3)
			robust(samples, m, &med[slot], &mad[slot], NULL);
	}
	free(samples);
	for (size_t i = 0; i < h->n; i++) {
		size_t slot = ((h->from / TV_HOUR_NS) + i) % 168;
		if (!has_data(h, i) || count[slot] < 3)
			continue;
		double scale = fmax(fmax(1.4826 * mad[slot], med[slot] / 2), 4096);
		double v = (double)json_integer_value(json_array_get(values, i));
		double score = fabs(v - med[slot]) / (k * scale);
		if (score <= 1)
			continue;
		char what[900], t[TV_RFC3339_LEN];
		tv_format_rfc3339(h->from + i * TV_HOUR_NS, t);
		snprintf(what, sizeof(what),
			 "%s: %.0f bytes in the hour from %s, the same hour of the week's median is %.0f",
			 str(s, "key"), v, t, med[slot]);
		json_array_append_new(findings,
				      json_pack("{s:s,s:s,s:s,s:o,s:I,s:f,s:f,s:f}", "kind", "anomaly",
						"what", what, "key", str(s, "key"), "hour",
						time_json(h->from + i * TV_HOUR_NS), "bytes", (json_int_t)v,
						"median", med[slot], "mad", mad[slot], "score", score));
	}
}

static int run_anomalies(const struct hours *h, const struct tv_trends_opts *o, json_t *out)
{
	json_t *all = series_all(h, o->by), *findings = json_array();
	size_t i;
	json_t *s;
	json_array_foreach (all, i, s)
		anomalies_of(h, s, o->k, findings);
	findings = sorted(findings, cmp_score, o->top);
	json_object_set_new(out, "series", sorted(all, cmp_total, o->top));
	char line[200];
	snprintf(line, sizeof(line), "%zu hours outside median ± %.1f·scale of their hour of the week",
		 json_array_size(findings), o->k);
	json_object_set_new(out, "findings", findings);
	json_object_set_new(out, "summary", json_string(line));
	return 0;
}

/* ---- new peers ---- */

static int run_new_peers(const struct hours *h, const struct tv_trends_opts *o, json_t *out)
{
	uint64_t split = o->to - o->recent_ns;
	if (o->recent_ns >= o->to - o->from)
		return tv_err(-EINVAL,
			      "new-peers needs a baseline: a window that starts more than %" PRIu64
			      " days before it ends",
			      o->recent_ns / DAY_NS);
	json_t *baseline = json_object(), *recent = json_object();
	for (size_t i = 0; i < h->n; i++) {
		uint64_t t = h->from + i * TV_HOUR_NS;
		size_t j;
		json_t *p;
		json_array_foreach (json_object_get(h->r[i], "pairs"), j, p) {
			char id[1200];
			pair_id(p, false, id, sizeof(id));
			if (t < split) {
				json_object_set_new(baseline, id, json_true());
				continue;
			}
			json_t *r = json_object_get(recent, id);
			if (!r) {
				r = json_pack("{s:s,s:s,s:s,s:s,s:i,s:o,s:I,s:I}", "kind", "new-peer", "src",
					      str(p, "src"), "dst", str(p, "dst"), "proto", str(p, "proto"),
					      "port", (int)num(p, "port"), "first_seen", time_json(t),
					      "conns", (json_int_t)0, "bytes", (json_int_t)0);
				json_object_set_new(recent, id, r);
			}
			json_object_set_new(r, "conns",
					    json_integer((json_int_t)(num(r, "conns") + num(p, "conns"))));
			json_object_set_new(r, "bytes",
					    json_integer((json_int_t)(num(r, "bytes") + num(p, "bytes"))));
		}
	}
	json_t *findings = json_array();
	const char *id;
	json_t *r;
	json_object_foreach (recent, id, r) {
		if (json_object_get(baseline, id))
			continue;
		char what[1400];
		snprintf(what, sizeof(what), "%s, first seen %s, not in the baseline", id,
			 str(r, "first_seen"));
		json_object_set_new(r, "what", json_string(what));
		json_object_set_new(r, "total", json_integer((json_int_t)num(r, "bytes")));
		json_object_set_new(r, "key", json_string(id));
		json_array_append(findings, r);
	}
	findings = sorted(findings, cmp_total, 0);
	size_t i;
	json_t *f;
	json_array_foreach (findings, i, f) {
		json_object_del(f, "total");
		json_object_del(f, "key");
	}
	char line[200];
	snprintf(line, sizeof(line),
		 "%zu pairs seen in the last %" PRIu64 " days that the %zu baseline pairs lack",
		 json_array_size(findings), o->recent_ns / DAY_NS, json_object_size(baseline));
	json_object_set_new(out, "findings", findings);
	json_object_set_new(out, "summary", json_string(line));
	json_decref(baseline);
	json_decref(recent);
	return 0;
}

/* ---- beacons ---- */

struct starts {
	double *t, *size; /* ms since the epoch, bytes */
	size_t n, cap;
	uint64_t hours_with;
};

static double beacon_score(struct starts *st, json_t *parts)
{
	size_t n = st->n;
	double *d = malloc(n * sizeof(*d));
	if (!d)
		return 0;
	/* starts arrive in hour order and sorted within an hour */
	for (size_t i = 0; i + 1 < n; i++)
		d[i] = st->t[i + 1] - st->t[i];
	double med, mad, skew;
	robust(d, n - 1, &med, &mad, &skew);
	double span_hours = floor((st->t[n - 1] - st->t[0]) / 3.6e6) + 1;
	double ts_skew = 1 - fabs(skew), ts_madm = clamp01(1 - mad / 30000.0),
	       ts_conn = clamp01((double)st->hours_with / span_hours);
	double smed, smad, sskew;
	robust(st->size, n, &smed, &smad, &sskew);
	double ds_skew = 1 - fabs(sskew), ds_madm = clamp01(1 - smad / 32.0),
	       ds_small = clamp01(1 - smed / 65536.0);
	double ts = (ts_skew + ts_madm + ts_conn) / 3, ds = (ds_skew + ds_madm + ds_small) / 3;
	json_object_set_new(parts, "interval_s", json_real(med / 1000));
	json_object_set_new(parts, "interval_mad_s", json_real(mad / 1000));
	json_object_set_new(parts, "size_median", json_real(smed));
	json_object_set_new(parts, "timing", json_real(ts));
	json_object_set_new(parts, "sizes", json_real(ds));
	free(d);
	return ts * (1 + ds) / 2;
}

static int run_beacons(const struct hours *h, const struct tv_trends_opts *o, json_t *out)
{
	json_t *pairs = json_object(); /* id -> index into v */
	struct starts *v = NULL;
	size_t nv = 0;
	int rc = 0;
	for (size_t i = 0; !rc && i < h->n; i++) {
		size_t j;
		json_t *p;
		json_array_foreach (json_object_get(h->r[i], "pairs"), j, p) {
			char id[1200];
			pair_id(p, true, id, sizeof(id));
			json_t *at = json_object_get(pairs, id);
			if (!at) {
				struct starts *nvp = realloc(v, (nv + 1) * sizeof(*v));
				if (!nvp) {
					rc = tv_err(-ENOMEM, "out of memory");
					break;
				}
				v = nvp;
				memset(&v[nv], 0, sizeof(*v));
				json_object_set_new(pairs, id, json_integer((json_int_t)nv));
				at = json_object_get(pairs, id);
				nv++;
			}
			struct starts *st = &v[json_integer_value(at)];
			json_t *ss = json_object_get(p, "starts");
			size_t add = json_array_size(ss);
			if (add && st->n + add > st->cap) {
				size_t cap = (st->n + add) * 2;
				double *t = realloc(st->t, cap * sizeof(*t)),
				       *sz = t ? realloc(st->size, cap * sizeof(*sz)) : NULL;
				if (t)
					st->t = t;
				if (!t || !sz) {
					rc = tv_err(-ENOMEM, "out of memory");
					break;
				}
				st->size = sz;
				st->cap = cap;
			}
			st->hours_with += add > 0;
			size_t z;
			json_t *s;
			json_array_foreach (ss, z, s) {
				st->t[st->n] = (double)((h->from + i * TV_HOUR_NS) / 1000000) +
					       (double)json_integer_value(json_array_get(s, 0));
				st->size[st->n++] = (double)json_integer_value(json_array_get(s, 1));
			}
		}
	}
	json_t *scores = json_array(), *findings = json_array();
	const char *id;
	json_t *at;
	json_object_foreach (pairs, id, at) {
		struct starts *st = &v[json_integer_value(at)];
		if (rc || st->n < BEACON_MIN_CONNS)
			continue;
		json_t *r =
			json_pack("{s:s,s:s,s:I}", "kind", "beacon", "pair", id, "conns", (json_int_t)st->n);
		double score = beacon_score(st, r);
		char what[1400];
		snprintf(what, sizeof(what),
			 "%s: %zu connections about every %.0f s (MAD %.1f s), median %.0f bytes", id, st->n,
			 json_real_value(json_object_get(r, "interval_s")),
			 json_real_value(json_object_get(r, "interval_mad_s")),
			 json_real_value(json_object_get(r, "size_median")));
		json_object_set_new(r, "what", json_string(what));
		json_object_set_new(r, "score", json_real(score));
		if (score >= o->beacon_threshold)
			json_array_append(findings, r);
		json_array_append_new(scores, r);
	}
	for (size_t i = 0; i < nv; i++) {
		free(v[i].t);
		free(v[i].size);
	}
	free(v);
	json_decref(pairs);
	if (rc) {
		json_decref(scores);
		json_decref(findings);
		return rc;
	}
	findings = sorted(findings, cmp_score, o->top);
	scores = sorted(scores, cmp_score, o->top > 20 ? o->top : 20);
	char line[200];
	snprintf(line, sizeof(line), "%zu pairs score %.2f or more as beacons", json_array_size(findings),
		 o->beacon_threshold);
	json_object_set_new(out, "findings", findings);
	json_object_set_new(out, "scores", scores);
	json_object_set_new(out, "summary", json_string(line));
	return 0;
}

/* ---- long connections ---- */

static int run_long(const struct hours *h, const struct tv_trends_opts *o, json_t *out)
{
	json_t *by_flow = json_object();
	for (size_t i = 0; i < h->n; i++) {
		size_t j;
		json_t *l;
		json_array_foreach (json_object_get(h->r[i], "long"), j, l) {
			char id[600];
			snprintf(id, sizeof(id), "%s|%s", str(l, "node"), str(l, "flow"));
			json_t *c = json_object_get(by_flow, id);
			if (!c) {
				json_object_set_new(by_flow, id, json_deep_copy(l));
				continue;
			}
			if (num(l, "last_ns") > num(c, "last_ns"))
				json_object_set_new(c, "last_ns",
						    json_integer((json_int_t)num(l, "last_ns")));
			json_object_set_new(c, "bytes",
					    json_integer((json_int_t)(num(c, "bytes") + num(l, "bytes"))));
		}
	}
	json_t *findings = json_array();
	const char *id;
	json_t *c;
	json_object_foreach (by_flow, id, c) {
		uint64_t d = num(c, "last_ns") - num(c, "first_ns");
		if (d < o->long_min_ns)
			continue;
		char what[900];
		snprintf(what, sizeof(what), "%s -> %s (%s on %s) open %.1f h", str(c, "src"), str(c, "dst"),
			 str(c, "flow"), str(c, "node"), (double)d / (double)TV_HOUR_NS);
		json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:I,s:I,s:f}", "kind", "long", "what",
				      what, "node", str(c, "node"), "flow", str(c, "flow"), "src",
				      str(c, "src"), "dst", str(c, "dst"), "from",
				      time_json(num(c, "first_ns")), "to", time_json(num(c, "last_ns")),
				      "duration_s", (json_int_t)(d / 1000000000ull), "bytes",
				      (json_int_t)num(c, "bytes"), "score", (double)d / (double)TV_HOUR_NS);
		json_array_append_new(findings, f);
	}
	json_decref(by_flow);
	findings = sorted(findings, cmp_score, o->top);
	char line[200];
	snprintf(line, sizeof(line), "%zu connections open %.1f h or longer", json_array_size(findings),
		 (double)o->long_min_ns / (double)TV_HOUR_NS);
	json_object_set_new(out, "findings", findings);
	json_object_set_new(out, "summary", json_string(line));
	return 0;
}

/* ---- entry ---- */

static int finish_opts(const struct tv_trends_opts *in, struct tv_trends_opts *o, size_t *kind)
{
	*o = *in;
	o->by = o->by ? o->by : "service";
	o->top = o->top ? o->top : 10;
	o->k = o->k > 0 ? o->k : 3;
	o->recent_ns = o->recent_ns ? o->recent_ns : 7 * DAY_NS;
	o->long_min_ns = o->long_min_ns ? o->long_min_ns : TV_HOUR_NS;
	o->beacon_threshold = o->beacon_threshold > 0 ? o->beacon_threshold : 0.8;
	static const char *const kinds[] = {"top", "new-peers", "beacons", "long", "anomalies"};
	*kind = 5;
	for (size_t i = 0; o->kind && i < 5; i++)
		if (!strcmp(o->kind, kinds[i]))
			*kind = i;
	if (*kind == 5)
		return tv_err(-EINVAL, "unknown trend '%s' (top, new-peers, beacons, long, anomalies)",
			      o->kind ? o->kind : "");
	if (strcmp(o->by, "service") && strcmp(o->by, "workload") && strcmp(o->by, "namespace") &&
	    strcmp(o->by, "node"))
		return tv_err(-EINVAL, "--by %s: service, workload, namespace or node", o->by);
	if (o->to <= o->from)
		return tv_err(-EINVAL, "the window is empty (to <= from)");
	if ((o->to - o->from) / TV_HOUR_NS > MAX_TREND_HOURS)
		return tv_err(-EINVAL, "the window is over %d days: ask for less", MAX_TREND_HOURS / 24);
	return 0;
}

static int compute(const struct tv_trends_opts *o, size_t kind, const struct hours *h, json_t **out)
{
	static int (*const run[])(const struct hours *, const struct tv_trends_opts *,
				  json_t *) = {run_top, run_new_peers, run_beacons, run_long, run_anomalies};
	json_t *r = json_pack("{s:s,s:s,s:o,s:o,s:I,s:I,s:I,s:[],s:[]}", "kind", o->kind, "by", o->by, "from",
			      time_json(h->from), "to", time_json(h->from + h->n * TV_HOUR_NS), "hours",
			      (json_int_t)h->n, "hours_with_data", (json_int_t)h->with_data,
			      "built_in_memory", (json_int_t)h->built, "series", "findings");
	int rc = run[kind](h, o, r);
	if (rc)
		json_decref(r);
	else
		*out = r;
	return rc;
}

int tv_trends_compute(const struct tv_trends_opts *in, uint64_t first_hour, json_t *const *rollups, size_t n,
		      json_t **out)
{
	struct tv_trends_opts o;
	size_t kind;
	int rc = finish_opts(in, &o, &kind);
	if (rc)
		return rc;
	struct hours h = {.from = first_hour - first_hour % TV_HOUR_NS, .n = n, .r = (json_t **)rollups};
	for (size_t i = 0; i < n; i++)
		h.with_data += json_integer_value(json_object_get(rollups[i], "inputs")) > 0;
	return compute(&o, kind, &h, out);
}

int tv_trends(struct tv_store *s, const struct tv_trends_opts *in, json_t **out)
{
	struct tv_trends_opts o;
	size_t kind;
	int rc = finish_opts(in, &o, &kind);
	if (rc)
		return rc;
	struct hours h;
	rc = hours_load(s, &o, &h);
	if (!rc)
		rc = compute(&o, kind, &h, out);
	hours_free(&h);
	return rc;
}
