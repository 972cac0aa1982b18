/* SPDX-License-Identifier: Apache-2.0 */
/* config: see config.h. */
#include "archive/common/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "archive/common/err.h"
#include "archive/common/timeutil.h"
#include "archive/common/units.h"

#define KEY_DEPTH 8
#define KEY_PART 64

static void *field_of(const struct tv_cfg_part *p, const struct tv_cfg_entry *e)
{
	return (char *)p->obj + e->offset;
}

const struct tv_cfg_entry *tv_cfg_find(const struct tv_cfg *c, const char *key,
				       const struct tv_cfg_part **part)
{
	for (size_t i = 0; i < c->nparts; i++)
		for (size_t k = 0; k < c->parts[i].n; k++)
			if (strcmp(c->parts[i].entries[k].key, key) == 0) {
				if (part)
					*part = &c->parts[i];
				return &c->parts[i].entries[k];
			}
	return NULL;
}

static bool is_foreign(const struct tv_cfg *c, const char *key)
{
	for (const char *const *f = c->foreign; f && *f; f++)
		if (strncmp(key, *f, strlen(*f)) == 0)
			return true;
	return false;
}

int tv_cfg_parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "1"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off") || !strcmp(s, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

void tv_cfg_flag_name(const char *key, char *out, size_t n)
{
	const char *last = strrchr(key, '.');
	last = last ? last + 1 : key;
	size_t o = 0;
	for (; *last && o + 2 < n; last++) {
		if (*last >= 'A' && *last <= 'Z') {
			out[o++] = '-';
			out[o++] = (char)(*last - 'A' + 'a');
		} else {
			out[o++] = *last;
		}
	}
	out[o < n ? o : n - 1] = '\0';
}

/* The index of s in a '|'-separated list, or -1. */
static int choice_index(const char *choices, const char *s)
{
	size_t len = strlen(s);
	int i = 0;
	for (const char *p = choices; p && *p; i++) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (n == len && strncmp(p, s, n) == 0)
			return i;
		if (!bar)
			break;
		p = bar + 1;
	}
	return -1;
}

/* The i-th value of a '|'-separated list into out. */
static void choice_name(const char *choices, int i, char *out, size_t n)
{
	const char *p = choices ? choices : "";
	for (; i > 0 && p; i--) {
		p = strchr(p, '|');
		p = p ? p + 1 : NULL;
	}
	const char *bar = p ? strchr(p, '|') : NULL;
	snprintf(out, n, "%.*s", p ? (int)(bar ? (size_t)(bar - p) : strlen(p)) : 0, p ? p : "");
}

static const char *type_hint(const struct tv_cfg_entry *e)
{
	switch (e->type) {
	case TV_CFG_BOOL: return "true or false";
	case TV_CFG_SIZE: return "a size like 1Gi, 500Mi, 64k";
	case TV_CFG_DURATION: return "a duration like 10s, 5m";
	case TV_CFG_INT: return "an integer";
	case TV_CFG_UINT: return "a whole number";
	case TV_CFG_ENUM: return e->choices;
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

static int assign_list(struct tv_strlist *l, const char *v, bool replace)
{
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

/* Stores text into the field of e. */
static int assign(void *field, const struct tv_cfg_entry *e, const char *v, bool replace)
{
	char *end;
	switch (e->type) {
	case TV_CFG_BOOL: return tv_cfg_parse_bool(v, field);
	case TV_CFG_SIZE: return tv_parse_size(v, field);
	case TV_CFG_DURATION: return tv_parse_duration(v, field) ? -EINVAL : 0;
	case TV_CFG_INT:
		errno = 0;
		*(int64_t *)field = strtoll(v, &end, 10);
		return errno || *end || end == v ? -EINVAL : 0;
	case TV_CFG_UINT: {
		errno = 0;
		unsigned long long n = strtoull(v, &end, 10);
		if (errno || *end || end == v || v[0] == '-' || n > 0xffffffffULL)
			return -EINVAL;
		*(unsigned *)field = (unsigned)n;
		return 0;
	}
	case TV_CFG_ENUM: {
		int i = choice_index(e->choices, v);
		if (i < 0)
			return -EINVAL;
		*(int *)field = i;
		return 0;
	}
	case TV_CFG_STRING: {
		char *dup = strdup(v);
		if (!dup)
			return -ENOMEM;
		free(*(char **)field);
		*(char **)field = dup;
		return 0;
	}
	case TV_CFG_LIST: return assign_list(field, v, replace);
	}
	return -EINVAL;
}

int tv_cfg_set(const struct tv_cfg *c, const char *key, const char *value, bool replace_list,
	       const char *where)
{
	const struct tv_cfg_part *part;
	const struct tv_cfg_entry *e = tv_cfg_find(c, key, &part);
	if (!e)
		return tv_err(-EINVAL, "%s: unknown key '%s'", where, key);
	int rc = assign(field_of(part, e), e, value, replace_list);
	if (rc == -E2BIG)
		return tv_err(-EINVAL, "%s: %s holds at most %d items", where, key, TV_CFG_LIST_MAX);
	if (rc == -ENOMEM)
		return tv_err(rc, "out of memory");
	if (rc)
		return tv_err(-EINVAL, "%s: bad value '%s' for %s (%s)", where, value, key, type_hint(e));
	return 0;
}

int tv_cfg_init(const struct tv_cfg *c)
{
	for (size_t i = 0; i < c->nparts; i++) {
		const struct tv_cfg_part *p = &c->parts[i];
		for (size_t k = 0; k < p->n; k++)
			if (p->entries[k].def &&
			    assign(field_of(p, &p->entries[k]), &p->entries[k], p->entries[k].def, true))
				return tv_err(-ENOMEM, "default of %s", p->entries[k].key);
	}
	return 0;
}

void tv_cfg_cleanup(const struct tv_cfg *c)
{
	for (size_t i = 0; i < c->nparts; i++) {
		const struct tv_cfg_part *p = &c->parts[i];
		for (size_t k = 0; k < p->n; k++) {
			void *field = field_of(p, &p->entries[k]);
			if (p->entries[k].type == TV_CFG_STRING) {
				free(*(char **)field);
				*(char **)field = NULL;
			} else if (p->entries[k].type == TV_CFG_LIST) {
				list_clear(field);
			}
		}
	}
}

/* ---- YAML ---- */

struct yaml_walk {
	const struct tv_cfg *cfg;
	const char *path;
	char keys[KEY_DEPTH][KEY_PART]; /* the mapping keys down to here */
	int depth;
	bool expect_key[KEY_DEPTH];
	const struct tv_cfg_entry *list; /* inside a sequence for this entry */
	void *list_field;
	bool list_started;
	int skip_depth; /* > 0: inside a foreign key's value, this many levels deep */
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

/* Whether key is one of the table's, or a mapping that holds some. */
static bool known_or_parent(const struct tv_cfg *c, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < c->nparts; i++)
		for (size_t k = 0; k < c->parts[i].n; k++) {
			const char *e = c->parts[i].entries[k].key;
			if (strncmp(e, key, n) == 0 && (e[n] == '\0' || e[n] == '.'))
				return true;
		}
	return false;
}

/* A key is foreign when it, or a mapping it opens, lies under a foreign
 * prefix -- unless the table knows it: the uploader skips `tap.` but reads
 * `tap.snapshots.*`. */
static bool foreign_key(const struct yaml_walk *w, const char *key)
{
	char with_dot[520];
	snprintf(with_dot, sizeof(with_dot), "%s.", key);
	return (is_foreign(w->cfg, key) || is_foreign(w->cfg, with_dot)) && !known_or_parent(w->cfg, key);
}

/* Handles one scalar. Keys and values alternate inside mappings. */
static int on_scalar(struct yaml_walk *w, yaml_event_t *ev, char *pending_key)
{
	const char *v = (const char *)ev->data.scalar.value;
	if (w->list) {
		int rc = assign(w->list_field, w->list, v, !w->list_started);
		w->list_started = true;
		return rc ? yaml_fail(w, ev, "bad item '%.200s' in %s", v, w->list->key) : 0;
	}
	if (w->depth == 0)
		return yaml_fail(w, ev, "the top level must be a mapping, found '%.200s'", v);
	if (w->expect_key[w->depth - 1]) {
		snprintf(pending_key, KEY_PART, "%s", v);
		w->expect_key[w->depth - 1] = false;
		return 0;
	}
	char key[512];
	dotted(w, pending_key, key, sizeof(key));
	w->expect_key[w->depth - 1] = true;
	if (foreign_key(w, key))
		return 0;
	const struct tv_cfg_part *part;
	const struct tv_cfg_entry *e = tv_cfg_find(w->cfg, key, &part);
	if (!e)
		return yaml_fail(w, ev, "unknown key '%s'", key);
	if (e->type == TV_CFG_LIST && v[0] == '\0')
		list_clear(field_of(part, e));
	else if (assign(field_of(part, e), e, v, true))
		return yaml_fail(w, ev, "bad value '%.200s' for %s (%s)", v, key, type_hint(e));
	return 0;
}

static int on_sequence_start(struct yaml_walk *w, yaml_event_t *ev, const char *pending)
{
	char key[512];
	dotted(w, pending, key, sizeof(key));
	if (foreign_key(w, key)) {
		w->skip_depth = 1;
		return 0;
	}
	const struct tv_cfg_part *part;
	const struct tv_cfg_entry *e = tv_cfg_find(w->cfg, key, &part);
	if (!e || e->type != TV_CFG_LIST)
		return e ? yaml_fail(w, ev, "%s is not a list", key)
			 : yaml_fail(w, ev, "unknown key '%s'", key);
	w->list = e;
	w->list_field = field_of(part, e);
	w->list_started = false;
	return 0;
}

static int on_mapping_start(struct yaml_walk *w, yaml_event_t *ev, const char *pending)
{
	if (w->depth == KEY_DEPTH || w->list)
		return yaml_fail(w, ev, "nesting too deep");
	if (w->depth > 0) {
		char key[512];
		dotted(w, pending, key, sizeof(key));
		if (foreign_key(w, key)) {
			w->skip_depth = 1;
			return 0;
		}
		snprintf(w->keys[w->depth - 1], KEY_PART, "%s", pending);
	}
	w->expect_key[w->depth++] = true;
	return 0;
}

/* Inside a foreign value: only nesting is followed, until it closes. */
static void skip_event(struct yaml_walk *w, const yaml_event_t *ev)
{
	if (ev->type == YAML_MAPPING_START_EVENT || ev->type == YAML_SEQUENCE_START_EVENT)
		w->skip_depth++;
	else if (ev->type == YAML_MAPPING_END_EVENT || ev->type == YAML_SEQUENCE_END_EVENT)
		w->skip_depth--;
	if (w->skip_depth == 0 && w->depth > 0)
		w->expect_key[w->depth - 1] = true;
}

static int on_event(struct yaml_walk *w, yaml_event_t *ev, char *pending, bool *done)
{
	if (w->skip_depth) {
		skip_event(w, ev);
		return 0;
	}
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT: return on_mapping_start(w, ev, pending);
	case YAML_MAPPING_END_EVENT:
		w->depth--;
		if (w->depth > 0)
			w->expect_key[w->depth - 1] = true;
		return 0;
	case YAML_SEQUENCE_START_EVENT: return on_sequence_start(w, ev, pending);
	case YAML_SEQUENCE_END_EVENT:
		if (w->list && !w->list_started)
			list_clear(w->list_field);
		w->list = NULL;
		if (w->depth > 0)
			w->expect_key[w->depth - 1] = true;
		return 0;
	case YAML_SCALAR_EVENT: return on_scalar(w, ev, pending);
	case YAML_STREAM_END_EVENT: *done = true; return 0;
	default: return 0;
	}
}

int tv_cfg_load_file(const struct tv_cfg *c, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return tv_err(-errno, "%s: %s", path, strerror(errno));
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	struct yaml_walk w = {.cfg = c, .path = path};
	char pending[KEY_PART] = "";
	int rc = 0;
	for (bool done = false; !done && !rc;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			rc = tv_err(-EINVAL, "%s:%zu:%zu: %s", path, p.problem_mark.line + 1,
				    p.problem_mark.column + 1, p.problem ? p.problem : "YAML syntax error");
			break;
		}
		rc = on_event(&w, &ev, pending, &done);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	fclose(f);
	return rc;
}

/* ---- printing ---- */

static void print_value(const void *field, const struct tv_cfg_entry *e, FILE *out)
{
	char name[64];
	switch (e->type) {
	case TV_CFG_BOOL: fputs(*(const bool *)field ? "true" : "false", out); break;
	case TV_CFG_SIZE: fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)field); break;
	case TV_CFG_DURATION: fprintf(out, "%.3fs", (double)*(const uint64_t *)field / 1e9); break;
	case TV_CFG_INT: fprintf(out, "%lld", (long long)*(const int64_t *)field); break;
	case TV_CFG_UINT: fprintf(out, "%u", *(const unsigned *)field); break;
	case TV_CFG_ENUM:
		choice_name(e->choices, *(const int *)field, name, sizeof(name));
		fprintf(out, "\"%s\"", name);
		break;
	case TV_CFG_STRING: {
		const char *s = *(char *const *)field;
		fputc('"', out);
		for (; s && *s; s++)
			fprintf(out, (*s == '"' || *s == '\\') ? "\\%c" : "%c", *s);
		fputc('"', out);
		break;
	}
	case TV_CFG_LIST: {
		const struct tv_strlist *l = field;
		fputc('[', out);
		for (size_t i = 0; i < l->n; i++)
			fprintf(out, "%s\"%s\"", i ? ", " : "", l->items[i]);
		fputc(']', out);
		break;
	}
	}
}

static int split_key(const char *key, char parts[KEY_DEPTH][KEY_PART])
{
	char copy[256];
	snprintf(copy, sizeof(copy), "%s", key);
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(copy, ".", &save); t && n < KEY_DEPTH; t = strtok_r(NULL, ".", &save))
		snprintf(parts[n++], KEY_PART, "%s", t);
	return n;
}

void tv_cfg_print(const struct tv_cfg *c, FILE *out)
{
	/* Flat dotted keys are not valid nested YAML; print nested mappings. */
	char prev[KEY_DEPTH][KEY_PART];
	int prev_depth = 0;
	for (size_t i = 0; i < c->nparts; i++) {
		const struct tv_cfg_part *p = &c->parts[i];
		for (size_t k = 0; k < p->n; k++) {
			char parts[KEY_DEPTH][KEY_PART];
			int n = split_key(p->entries[k].key, parts), common = 0;
			while (common < n - 1 && common < prev_depth &&
			       strcmp(parts[common], prev[common]) == 0)
				common++;
			for (int d = common; d < n - 1; d++)
				fprintf(out, "%*s%s:\n", 2 * d, "", parts[d]);
			fprintf(out, "%*s%s: ", 2 * (n - 1), "", parts[n - 1]);
			print_value(field_of(p, &p->entries[k]), &p->entries[k], out);
			fprintf(out, "  # %s\n", p->entries[k].help);
			for (int d = 0; d < n - 1; d++)
				snprintf(prev[d], KEY_PART, "%s", parts[d]);
			prev_depth = n - 1;
		}
	}
}
