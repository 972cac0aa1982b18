/* SPDX-License-Identifier: Apache-2.0 */
/* config: see config.h. The table below is the single source of keys, types,
 * defaults and help text. */
#include "nodeagent/config.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "archive/common/timeutil.h"
#include "archive/segment.h"

enum cfg_type {
	CFG_BOOL,
	CFG_SIZE,
	CFG_DURATION,
	CFG_INT,
	CFG_STRING,
	CFG_LIST
};

struct cfg_entry {
	const char *key;
	enum cfg_type type;
	size_t offset;
	const char *def; /* NULL: unset; lists: comma-separated */
	const char *help;
};

#define F(field) offsetof(struct tv_agent_config, field)

static const struct cfg_entry table[] = {
	{"tap.capture.raw.enabled", CFG_BOOL, F(raw_enabled), "true", "capture raw packets at all"},
	{"tap.capture.raw.storageSize", CFG_SIZE, F(storage_size), "1Gi",
	 "cap of the local buffer (sealed + open segments); oldest dropped first"},
	{"tap.capture.stopped", CFG_BOOL, F(stopped), "false",
	 "pause capture without exiting (SIGHUP reloads)"},
	{"tap.regex", CFG_STRING, F(regex), ".*",
	 "pod name filter (POSIX ERE; applied with Kubernetes metadata)"},
	{"tap.namespaces", CFG_LIST, F(namespaces), NULL, "namespaces to capture (empty: all)"},
	{"tap.excludedNamespaces", CFG_LIST, F(excluded_namespaces), NULL, "namespaces never captured"},
	{"agent.node", CFG_STRING, F(node), NULL, "node name (default: $NODE_NAME, else the host name)"},
	{"agent.interfaces", CFG_LIST, F(interfaces), "any", "interfaces to capture ('any' allowed)"},
	{"agent.snaplen", CFG_SIZE, F(snaplen), "262144", "bytes kept per packet (262144 = full)"},
	{"agent.filter", CFG_STRING, F(filter), "", "BPF capture filter (tcpdump syntax)"},
	{"agent.bufferDir", CFG_STRING, F(buffer_dir), "/var/lib/tapvault/buffer", "local segment buffer"},
	{"agent.sealInterval", CFG_DURATION, F(seal_interval_ns), "10s", "seal a segment after this long"},
	{"agent.sealBytes", CFG_SIZE, F(seal_bytes), "128Mi", "or after this much pcapng"},
	{"agent.zstdLevel", CFG_INT, F(zstd_level), "1", "zstd level: -7..-1 fastest, 1 fast .. 19 small"},
	{"agent.metricsAddr", CFG_STRING, F(metrics_addr), "",
	 "Prometheus metrics on HOST:PORT (empty: off)"},
	{"agent.ringSize", CFG_SIZE, F(ring_size), "64Mi", "kernel ring per interface (TPACKET_V3)"},
	{"agent.queueSize", CFG_SIZE, F(queue_size), "128Mi",
	 "captured packets waiting for the writer (allocated only under backlog)"},
	{"agent.logLevel", CFG_STRING, F(log_level), "info", "error, warn, info or debug"},
};

#define NENTRIES (sizeof(table) / sizeof(table[0]))

static const struct cfg_entry *find(const char *key)
{
	for (size_t i = 0; i < NENTRIES; i++)
		if (strcmp(table[i].key, key) == 0)
			return &table[i];
	return NULL;
}

static int parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "1"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off") || !strcmp(s, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static const char *type_hint(enum cfg_type t)
{
	switch (t) {
	case CFG_BOOL: return "true or false";
	case CFG_SIZE: return "a size like 1Gi, 500Mi, 64k";
	case CFG_DURATION: return "a duration like 10s, 5m";
	case CFG_INT: return "an integer";
	default: return "text";
	}
}

static void list_clear(struct tv_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	l->n = 0;
}

static int list_append(struct tv_strlist *l, const char *v)
{
	if (l->n == TV_CFG_LIST_MAX)
		return -E2BIG;
	if (!(l->items[l->n] = strdup(v)))
		return -ENOMEM;
	l->n++;
	return 0;
}

/* Stores text into the field of e. */
static int assign(struct tv_agent_config *c, const struct cfg_entry *e, const char *v, bool replace)
{
	void *field = (char *)c + e->offset;
	char *end;
	switch (e->type) {
	case CFG_BOOL: return parse_bool(v, field);
	case CFG_SIZE: return tv_parse_size(v, field);
	case CFG_DURATION: return tv_parse_duration(v, field) ? -EINVAL : 0;
	case CFG_INT:
		errno = 0;
		*(int64_t *)field = strtoll(v, &end, 10);
		return errno || *end || end == v ? -EINVAL : 0;
	case CFG_STRING: {
		char *dup = strdup(v);
		if (!dup)
			return -ENOMEM;
		free(*(char **)field);
		*(char **)field = dup;
		return 0;
	}
	case CFG_LIST: {
		struct tv_strlist *l = field;
		if (replace)
			list_clear(l);
		/* "a,b" sets several at once (flags, defaults) */
		char *copy = strdup(v), *save = NULL;
		if (!copy)
			return -ENOMEM;
		int rc = 0;
		for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save))
			rc = list_append(l, t);
		free(copy);
		return rc;
	}
	}
	return -EINVAL;
}

int tv_agent_config_set(struct tv_agent_config *c, const char *key, const char *value, bool replace_list,
			const char *where)
{
	const struct cfg_entry *e = find(key);
	if (!e)
		return tv_err(-EINVAL, "%s: unknown key '%s'", where, key);
	int rc = assign(c, e, value, replace_list);
	if (rc == -E2BIG)
		return tv_err(-EINVAL, "%s: %s holds at most %d items", where, key, TV_CFG_LIST_MAX);
	if (rc)
		return tv_err(-EINVAL, "%s: bad value '%s' for %s (%s)", where, value, key,
			      type_hint(e->type));
	return 0;
}

int tv_agent_config_init(struct tv_agent_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NENTRIES; i++)
		if (table[i].def && tv_agent_config_set(c, table[i].key, table[i].def, true, "default"))
			return -ENOMEM;
	return 0;
}

void tv_agent_config_cleanup(struct tv_agent_config *c)
{
	for (size_t i = 0; i < NENTRIES; i++) {
		void *field = (char *)c + table[i].offset;
		if (table[i].type == CFG_STRING)
			free(*(char **)field);
		else if (table[i].type == CFG_LIST)
			list_clear(field);
	}
	memset(c, 0, sizeof(*c));
}

/* ---- YAML ---- */

struct yaml_walk {
	const char *path;
	char keys[8][64]; /* the mapping keys down to here */
	int depth;
	bool expect_key[8];
	const struct cfg_entry *list; /* inside a sequence for this entry */
	bool list_started;
};

static void dotted(const struct yaml_walk *w, const char *last, char *out, size_t n)
{
	out[0] = '\0';
	/* keys[i] names the mapping at depth i + 2; the top-level one has no key */
	for (int i = 0; i < w->depth - 1; i++) {
		strncat(out, w->keys[i], n - strlen(out) - 1);
		strncat(out, ".", n - strlen(out) - 1);
	}
	strncat(out, last, n - strlen(out) - 1);
}

static int yaml_fail(const struct yaml_walk *w, const yaml_event_t *ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int yaml_fail(const struct yaml_walk *w, const yaml_event_t *ev, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return tv_err(-EINVAL, "%s:%zu:%zu: %s", w->path, ev->start_mark.line + 1, ev->start_mark.column + 1,
		      msg);
}

/* Handles one scalar. Keys and values alternate inside mappings. */
static int on_scalar(struct tv_agent_config *c, struct yaml_walk *w, yaml_event_t *ev, char *pending_key)
{
	const char *v = (const char *)ev->data.scalar.value;
	if (w->list) {
		int rc = assign(c, w->list, v, !w->list_started);
		w->list_started = true;
		return rc ? yaml_fail(w, ev, "bad item '%.200s' in %s", v, w->list->key) : 0;
	}
	if (w->depth == 0)
		return yaml_fail(w, ev, "the top level must be a mapping, found '%.200s'", v);
	if (w->expect_key[w->depth - 1]) {
		snprintf(pending_key, 64, "%s", v);
		w->expect_key[w->depth - 1] = false;
		return 0;
	}
	char key[512];
	dotted(w, pending_key, key, sizeof(key));
	const struct cfg_entry *e = find(key);
	if (!e)
		return yaml_fail(w, ev, "unknown key '%s'", key);
	if (e->type == CFG_LIST && v[0] == '\0') {
		list_clear((struct tv_strlist *)((char *)c + e->offset));
	} else if (assign(c, e, v, true)) {
		return yaml_fail(w, ev, "bad value '%.200s' for %s (%s)", v, key, type_hint(e->type));
	}
	w->expect_key[w->depth - 1] = true;
	return 0;
}

int tv_agent_config_load_file(struct tv_agent_config *c, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return tv_err(-errno, "%s: %s", path, strerror(errno));
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	struct yaml_walk w = {.path = path};
	char pending[64] = "";
	int rc = 0;
	for (bool done = false; !done && !rc;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			rc = tv_err(-EINVAL, "%s:%zu:%zu: %s", path, p.problem_mark.line + 1,
				    p.problem_mark.column + 1, p.problem ? p.problem : "YAML syntax error");
			break;
		}
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
			if (w.depth == 8 || w.list) {
				rc = yaml_fail(&w, &ev, "nesting too deep");
				break;
			}
			if (w.depth > 0)
				snprintf(w.keys[w.depth - 1], 64, "%s", pending);
			w.expect_key[w.depth++] = true;
			break;
		case YAML_MAPPING_END_EVENT:
			w.depth--;
			if (w.depth > 0)
				w.expect_key[w.depth - 1] = true;
			break;
		case YAML_SEQUENCE_START_EVENT: {
			char key[512];
			dotted(&w, pending, key, sizeof(key));
			const struct cfg_entry *e = find(key);
			if (!e || e->type != CFG_LIST) {
				rc = e ? yaml_fail(&w, &ev, "%s is not a list", key)
				       : yaml_fail(&w, &ev, "unknown key '%s'", key);
				break;
			}
			w.list = e;
			w.list_started = false;
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
			if (w.list && !w.list_started)
				list_clear((struct tv_strlist *)((char *)c + w.list->offset));
			w.list = NULL;
			if (w.depth > 0)
				w.expect_key[w.depth - 1] = true;
			break;
		case YAML_SCALAR_EVENT: rc = on_scalar(c, &w, &ev, pending); break;
		case YAML_STREAM_END_EVENT: done = true; break;
		default: break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	fclose(f);
	return rc;
}

int tv_agent_config_validate(const struct tv_agent_config *c)
{
	if (!c->node || !tv_node_name_valid(c->node))
		return tv_err(-EINVAL,
			      "agent.node '%s' is not a valid node name (1-253 of A-Z a-z 0-9 . _ -)",
			      c->node ? c->node : "");
	if (c->interfaces.n == 0)
		return tv_err(-EINVAL, "agent.interfaces is empty");
	if (c->snaplen < 64 || c->snaplen > TV_MAX_PACKET)
		return tv_err(-EINVAL, "agent.snaplen %llu outside 64..%u", (unsigned long long)c->snaplen,
			      TV_MAX_PACKET);
	if (c->zstd_level < -7 || c->zstd_level == 0 || c->zstd_level > 19)
		return tv_err(-EINVAL, "agent.zstdLevel %lld outside -7..-1 (fast) and 1..19",
			      (long long)c->zstd_level);
	if (c->seal_interval_ns < 100000000ULL || c->seal_interval_ns > 3600 * TV_NS_PER_SEC)
		return tv_err(-EINVAL, "agent.sealInterval must be between 100ms and 1h");
	if (c->queue_size < ((uint64_t)4 << 20) || c->queue_size > ((uint64_t)4 << 30))
		return tv_err(-EINVAL, "agent.queueSize must be between 4Mi and 4Gi");
	if (c->seal_bytes < (1 << 20))
		return tv_err(-EINVAL, "agent.sealBytes must be at least 1Mi");
	/* Room for the open segment and three sealed ones, so the cap can hold. */
	if (c->storage_size < 4 * c->seal_bytes)
		return tv_err(-EINVAL,
			      "tap.capture.raw.storageSize (%llu) must be at least 4x agent.sealBytes (%llu)",
			      (unsigned long long)c->storage_size, (unsigned long long)c->seal_bytes);
	regex_t re;
	if (regcomp(&re, c->regex ? c->regex : "", REG_EXTENDED | REG_NOSUB) != 0)
		return tv_err(-EINVAL, "tap.regex '%s' is not a valid regular expression", c->regex);
	regfree(&re);
	return 0;
}

static void print_value(const struct tv_agent_config *c, const struct cfg_entry *e, FILE *out)
{
	const void *field = (const char *)c + e->offset;
	switch (e->type) {
	case CFG_BOOL: fputs(*(const bool *)field ? "true" : "false", out); break;
	case CFG_SIZE: fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)field); break;
	case CFG_DURATION: fprintf(out, "%.3fs", (double)*(const uint64_t *)field / 1e9); break;
	case CFG_INT: fprintf(out, "%lld", (long long)*(const int64_t *)field); break;
	case CFG_STRING: {
		const char *s = *(char *const *)field;
		fputc('"', out);
		for (; s && *s; s++)
			fprintf(out, (*s == '"' || *s == '\\') ? "\\%c" : "%c", *s);
		fputc('"', out);
		break;
	}
	case CFG_LIST: {
		const struct tv_strlist *l = field;
		fputc('[', out);
		for (size_t i = 0; i < l->n; i++)
			fprintf(out, "%s\"%s\"", i ? ", " : "", l->items[i]);
		fputc(']', out);
		break;
	}
	}
}

void tv_agent_config_print(const struct tv_agent_config *c, FILE *out)
{
	/* Flat dotted keys are not valid nested YAML; print nested mappings. */
	char prev[8][64];
	int prev_depth = 0;
	for (size_t i = 0; i < NENTRIES; i++) {
		char parts[8][64];
		int n = 0;
		char copy[256];
		snprintf(copy, sizeof(copy), "%s", table[i].key);
		char *save = NULL;
		for (char *t = strtok_r(copy, ".", &save); t && n < 8; t = strtok_r(NULL, ".", &save))
			snprintf(parts[n++], 64, "%s", t);
		int common = 0;
		while (common < n - 1 && common < prev_depth && strcmp(parts[common], prev[common]) == 0)
			common++;
		for (int d = common; d < n - 1; d++)
			fprintf(out, "%*s%s:\n", 2 * d, "", parts[d]);
		fprintf(out, "%*s%s: ", 2 * (n - 1), "", parts[n - 1]);
		print_value(c, &table[i], out);
		fprintf(out, "  # %s\n", table[i].help);
		for (int d = 0; d < n - 1; d++)
			snprintf(prev[d], 64, "%s", parts[d]);
		prev_depth = n - 1;
	}
}
