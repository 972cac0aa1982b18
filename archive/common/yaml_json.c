/* SPDX-License-Identifier: Apache-2.0 */
/* yaml_json: see yaml_json.h. */
#include "archive/common/yaml_json.h"

#include <errno.h>
#include <string.h>
#include <yaml.h>

#include "archive/common/err.h"

#define MAX_DEPTH 64

static json_t *convert(yaml_document_t *d, yaml_node_t *n, int depth)
{
	if (!n || depth > MAX_DEPTH)
		return NULL;
	switch (n->type) {
	case YAML_SCALAR_NODE: return json_stringn((const char *)n->data.scalar.value, n->data.scalar.length);
	case YAML_SEQUENCE_NODE: {
		json_t *a = json_array();
		for (yaml_node_item_t *i = n->data.sequence.items.start; a && i < n->data.sequence.items.top;
		     i++) {
			json_t *v = convert(d, yaml_document_get_node(d, *i), depth + 1);
			if (!v || json_array_append_new(a, v)) {
				json_decref(a);
				return NULL;
			}
		}
		return a;
	}
	case YAML_MAPPING_NODE: {
		json_t *o = json_object();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; o && p < n->data.mapping.pairs.top;
		     p++) {
			yaml_node_t *k = yaml_document_get_node(d, p->key);
			if (!k || k->type != YAML_SCALAR_NODE) {
				json_decref(o);
				return NULL;
			}
			char key[256];
			size_t kl = k->data.scalar.length < sizeof(key) - 1 ? k->data.scalar.length
									    : sizeof(key) - 1;
			memcpy(key, k->data.scalar.value, kl);
			key[kl] = '\0';
			json_t *v = convert(d, yaml_document_get_node(d, p->value), depth + 1);
			if (!v || json_object_set_new(o, key, v)) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	}
	default: return NULL;
	}
}

int tv_yaml_to_json(const char *text, size_t n, const char *what, json_t **out)
{
	*out = NULL;
	yaml_parser_t p;
	yaml_document_t d;
	if (!yaml_parser_initialize(&p))
		return tv_err(-ENOMEM, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, n);
	if (!yaml_parser_load(&p, &d)) {
		int rc = tv_err(-EINVAL, "%s:%zu:%zu: %s", what, p.problem_mark.line + 1,
				p.problem_mark.column + 1, p.problem ? p.problem : "bad YAML");
		yaml_parser_delete(&p);
		return rc;
	}
	yaml_node_t *root = yaml_document_get_root_node(&d);
	int rc = 0;
	if (!root)
		*out = json_null();
	else if (!(*out = convert(&d, root, 0)))
		rc = tv_err(-EINVAL, "%s: not a document of maps, lists and strings (or nested too deep)",
			    what);
	yaml_document_delete(&d);
	yaml_parser_delete(&p);
	return rc;
}
