/* SPDX-License-Identifier: Apache-2.0 */
/* yaml_out: a JSON value printed as block-style YAML, for manifests a user
 * reads and pipes to `kubectl apply -f -`. Strings are written as JSON's
 * double-quoted scalars, which YAML reads the same, so no value can be
 * taken for another type ("no", "1e3") or break the structure. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "dissector/cli/cli.h"

static void scalar(FILE *out, const json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	fputs(s ? s : "null", out);
	free(s);
}

static bool is_empty_container(const json_t *v)
{
	return (json_is_object(v) && json_object_size(v) == 0) ||
	       (json_is_array(v) && json_array_size(v) == 0);
}

static void value(FILE *out, const json_t *v, int indent);

static void members(FILE *out, const json_t *obj, int indent, bool first_inline)
{
	const char *k;
	json_t *m;
	bool first = true;
	json_object_foreach ((json_t *)obj, k, m) {
		if (!(first && first_inline))
			fprintf(out, "%*s", indent, "");
		first = false;
		json_t *key = json_string(k);
		scalar(out, key);
		json_decref(key);
		fputc(':', out);
		if ((json_is_object(m) || json_is_array(m)) && !is_empty_container(m)) {
			fputc('\n', out);
			value(out, m, json_is_array(m) ? indent : indent + 2);
		} else {
			fputc(' ', out);
			scalar(out, m);
			fputc('\n', out);
		}
	}
}

static void value(FILE *out, const json_t *v, int indent)
{
	if (json_is_object(v)) {
		members(out, v, indent, false);
		return;
	}
	size_t i;
	json_t *e;
	json_array_foreach (v, i, e) {
		fprintf(out, "%*s- ", indent, "");
		if (json_is_object(e) && json_object_size(e)) {
			members(out, e, indent + 2, true);
		} else if (json_is_array(e) && json_array_size(e)) {
			fputc('\n', out);
			value(out, e, indent + 2);
		} else {
			scalar(out, e);
			fputc('\n', out);
		}
	}
}

void tv_cli_print_yaml(FILE *out, const json_t *doc)
{
	fputs("---\n", out);
	if (json_is_object(doc) || json_is_array(doc))
		value(out, doc, 0);
	else {
		scalar(out, doc);
		fputc('\n', out);
	}
}
