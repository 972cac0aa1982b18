/* SPDX-License-Identifier: Apache-2.0 */
/* cli: what the tapvault subcommands share: exit codes, error printing, and
 * the subcommand entry points (cmd_*.c) that main.c dispatches to. */
#ifndef TV_CLI_H
#define TV_CLI_H

#include <stdbool.h>

/* Exit codes, documented in docs/CLI.md. */
enum {
	TV_EXIT_OK = 0,
	TV_EXIT_FAIL = 1,    /* nothing (useful) was done */
	TV_EXIT_USAGE = 2,   /* bad command line */
	TV_EXIT_PARTIAL = 3, /* done, but some input was unreadable and skipped */
};

#include <stddef.h>
#include <stdint.h>

#include "archive/store.h"

/* What part of a store a command looks at: --store, --prefix, --from/--to,
 * --node (repeatable). Shared by ls, verify and friends. */
struct tv_cli_scope {
	const char *url, *prefix;
	const char *from_text, *to_text;
	uint64_t from, to; /* [0, UINT64_MAX) when no window is given */
	bool windowed;
	const char *nodes[256];
	size_t nnodes;
};

/* Takes one getopt result if it is a scope option ('s', 'p', 'F', 'T', 'n').
 * @return true when it was. */
bool tv_cli_scope_option(struct tv_cli_scope *s, int opt, const char *arg);
/* Checks --store and parses the times. @return TV_EXIT_OK or TV_EXIT_USAGE
 * (message printed). */
int tv_cli_scope_finish(struct tv_cli_scope *s, const char *cmd);
/* Calls fn for each --node given, or for every node of the store. */
int tv_cli_scope_each_node(const struct tv_cli_scope *s, struct tv_store *st,
			   int (*fn)(void *ctx, const char *node), void *ctx);

/* Prints "tapvault CMD: <last error message or fallback>" and returns TV_EXIT_FAIL. */
int tv_cli_fail(const char *cmd, const char *fallback);
/* Prints "tapvault CMD: <message>" plus a hint to --help, returns TV_EXIT_USAGE. */
int tv_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* --k8s FILE: Kubernetes objects as `kubectl get ... -o json` prints them
 * (a List or one object), read into events objects (k8s_api.h). */
struct json_t;
struct tv_k8s_api_object;
struct tv_k8s_object;
struct tv_cli_k8s {
	struct json_t *doc; /* owns the strings */
	struct tv_k8s_api_object *api;
	struct tv_k8s_object *objects; /* n, for import and names */
	size_t n;
};
/* @return 0, or negative with the reason (FILE:LINE:COL for bad JSON) in tv_errmsg. */
int tv_cli_load_k8s(const char *path, struct tv_cli_k8s *k);
void tv_cli_free_k8s(struct tv_cli_k8s *k);

/* True when stderr is a terminal (progress lines are shown only then). */
bool tv_cli_interactive(void);

int tv_cmd_import(int argc, char **argv);
int tv_cmd_segment(int argc, char **argv);
int tv_cmd_pcap(int argc, char **argv);
int tv_cmd_ls(int argc, char **argv);
int tv_cmd_verify(int argc, char **argv);
int tv_cmd_snapshot(int argc, char **argv);
int tv_cmd_dissect(int argc, char **argv);

#endif
