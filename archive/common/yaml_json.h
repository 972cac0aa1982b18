/* SPDX-License-Identifier: Apache-2.0 */
/* yaml_json: one YAML document (libyaml) as a jansson tree, for files that
 * are JSON in YAML clothing (kubeconfig). Scalars stay strings ("true",
 * "443"): the reader decides what a value means. Aliases are followed, at
 * most 64 levels deep. */
#ifndef TV_YAML_JSON_H
#define TV_YAML_JSON_H

#include <jansson.h>
#include <stddef.h>

/* @return 0 with *out (the caller's reference; an empty document is null),
 * or -EINVAL with the reason and line in tv_errmsg(), or -ENOMEM. what names
 * the input in messages. */
int tv_yaml_to_json(const char *text, size_t n, const char *what, json_t **out);

#endif
