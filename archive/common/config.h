/* SPDX-License-Identifier: Apache-2.0 */
/* config: the typed configuration table every program's YAML file and flags
 * go through (Redis's and Fluent Bit's design: one table drives parsing,
 * defaults, validation of types and --print-config).
 *
 * A program describes its keys as tables of entries (key, type, offset into
 * its own struct, default, help) and gathers them in a struct tv_cfg, one part
 * per struct (the uploader's own keys and the store's, say). Keys are dotted
 * ("tap.capture.raw.storageSize"); a YAML file sets them as nested mappings,
 * flags and `--set key=value` set them by name. Errors name FILE:LINE:COLUMN
 * and the key. Keys under a `foreign` prefix belong to another program that
 * reads the same file (the chart renders one ConfigMap for the agent and the
 * uploader) and are skipped. */
#ifndef TV_CONFIG_H
#define TV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TV_CFG_LIST_MAX 32

struct tv_strlist {
	char *items[TV_CFG_LIST_MAX]; /* owned */
	size_t n;
};

enum tv_cfg_type {
	TV_CFG_BOOL,     /* bool */
	TV_CFG_SIZE,     /* uint64_t bytes: "1Gi", "64k", "4096" */
	TV_CFG_DURATION, /* uint64_t ns: "10s", "5m" */
	TV_CFG_INT,      /* int64_t */
	TV_CFG_UINT,     /* unsigned (a count) */
	TV_CFG_STRING,   /* char *, owned */
	TV_CFG_LIST,     /* struct tv_strlist */
	TV_CFG_ENUM,     /* int: the index of the value in `choices` ("path|virtual") */
};

struct tv_cfg_entry {
	const char *key;
	enum tv_cfg_type type;
	size_t offset;
	const char *def;     /* NULL: unset; lists: comma-separated */
	const char *help;    /* one line, printed by --print-config and docs */
	const char *choices; /* TV_CFG_ENUM: '|'-separated values */
};

/* One table over one struct. */
struct tv_cfg_part {
	const struct tv_cfg_entry *entries;
	size_t n;
	void *obj; /* the struct the offsets point into (not owned) */
};

struct tv_cfg {
	const struct tv_cfg_part *parts;
	size_t nparts;
	const char *const *foreign; /* NULL-terminated key prefixes to skip ("uploader."); may be NULL */
};

/* Sets every key of every part to its default. @return 0 or -ENOMEM. */
int tv_cfg_init(const struct tv_cfg *c);
/* Frees the strings and lists the parts own and zeroes them. */
void tv_cfg_cleanup(const struct tv_cfg *c);

/* Sets one key from text; list keys append unless replace_list. `where`
 * prefixes error messages ("--set", "--endpoint"). @return 0 or -EINVAL. */
int tv_cfg_set(const struct tv_cfg *c, const char *key, const char *value, bool replace_list,
	       const char *where);

/* Reads a YAML file over the current values. @return 0, or -EINVAL/-ENOENT
 * with the message naming FILE:LINE:COLUMN and the key. */
int tv_cfg_load_file(const struct tv_cfg *c, const char *path);

/* Writes the effective configuration as nested YAML, each key with its help. */
void tv_cfg_print(const struct tv_cfg *c, FILE *out);

/* @return the entry of key, or NULL (part, when not NULL, receives its part). */
const struct tv_cfg_entry *tv_cfg_find(const struct tv_cfg *c, const char *key,
				       const struct tv_cfg_part **part);

/* The command-line flag of a key: its last component in kebab case, without
 * the dashes ("store.caBundle" -> "ca-bundle"). */
void tv_cfg_flag_name(const char *key, char *out, size_t n);

/* Strings as the table spells them: "true"/"yes"/"on"/"1" and the opposites. */
int tv_cfg_parse_bool(const char *s, bool *out);

#endif
