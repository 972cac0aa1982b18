/* SPDX-License-Identifier: Apache-2.0 */
/* cli: what the tapvault subcommands share: exit codes, error printing, the
 * scope options, a printing report for the query library, and the
 * subcommand entry points (cmd_*.c) that main.c dispatches to. The CLI is the
 * only part of the dissector that parses argv, prints or exits. */
#ifndef TV_CLI_H
#define TV_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* Exit codes, documented in docs/CLI.md. */
enum {
	TV_EXIT_OK = 0,
	TV_EXIT_FAIL = 1,    /* nothing (useful) was done */
	TV_EXIT_USAGE = 2,   /* bad command line */
	TV_EXIT_PARTIAL = 3, /* done, but some input was unreadable and skipped */
};

#include <stddef.h>
#include <stdint.h>

#include "archive/store/store.h"
#include "archive/store/store_s3.h"
#include "dissector/cli/progress.h"
#include "dissector/query/report.h"

/* What main parsed before COMMAND (the global options), handed to every
 * command: nothing of it is process-global below the CLI. */
struct tv_cli {
	struct tv_s3_opts s3;
	struct tv_store_opts store; /* .s3 points at s3 */
};

/* Opens a store with the global options; on failure prints "tapvault CMD:
 * <why>". @return 0 or the error. */
int tv_cli_open_store(const struct tv_cli *cli, const char *url, int flags, struct tv_store **out,
		      const char *cmd);

#define TV_CLI_NODES_MAX 256

/* What part of a store a command looks at: --store, --prefix, --from/--to,
 * --node (repeatable, at most TV_CLI_NODES_MAX). Every command that takes
 * them parses them here (short options s, p, n; F and T for --from/--to). */
struct tv_cli_scope {
	const char *url, *prefix;
	const char *from_text, *to_text;
	uint64_t from, to; /* [0, UINT64_MAX) when no window is given */
	bool windowed;
	const char *nodes[TV_CLI_NODES_MAX];
	size_t nnodes;
	bool too_many_nodes;
};

#define TV_CLI_SCOPE_OPTIONS                                                                                 \
	{"store", required_argument, NULL, 's'}, {"prefix", required_argument, NULL, 'p'},                   \
		{"from", required_argument, NULL, 'F'}, {"to", required_argument, NULL, 'T'},                \
	{                                                                                                    \
		"node", required_argument, NULL, 'n'                                                         \
	}

/* Takes one getopt result if it is a scope option. @return true when it was. */
bool tv_cli_scope_option(struct tv_cli_scope *s, int opt, const char *arg);

enum {
	TV_SCOPE_STORE = 1,  /* --store is required */
	TV_SCOPE_WINDOW = 2, /* --from and --to are required */
};
/* Checks what `need` requires and parses the times. @return TV_EXIT_OK or
 * TV_EXIT_USAGE (message printed). */
int tv_cli_scope_finish(struct tv_cli_scope *s, const char *cmd, int need);
/* The --node list, or NULL for every node. */
const char *const *tv_cli_scope_nodes(const struct tv_cli_scope *s);

/* A report (query/report.h) that prints each skipped part as
 * "tapvault CMD: <what> (skipped)" and shows progress on a terminal. */
struct tv_cli_report {
	struct tv_report r;
	const char *cmd;
	uint64_t skipped;
	struct tv_progress prog;
};
void tv_cli_report_init(struct tv_cli_report *cr, const char *cmd, const char *units);
/* Clears the progress line. */
void tv_cli_report_end(struct tv_cli_report *cr);

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

/* doc as block-style YAML (yaml_out.c), preceded by "---". */
void tv_cli_print_yaml(FILE *out, const struct json_t *doc);

int tv_cmd_import(const struct tv_cli *cli, int argc, char **argv);
int tv_cmd_segment(const struct tv_cli *cli, int argc, char **argv);
int tv_cmd_pcap(const struct tv_cli *cli, int argc, char **argv);
int tv_cmd_ls(const struct tv_cli *cli, int argc, char **argv);
int tv_cmd_rollup(const struct tv_cli *cli, int argc, char **argv);
int tv_cmd_trends(const struct tv_cli *cli, int argc, char **argv);
int tv_cmd_verify(const struct tv_cli *cli, int argc, char **argv);
int tv_cmd_snapshot(const struct tv_cli *cli, int argc, char **argv);
int tv_cmd_dissect(const struct tv_cli *cli, int argc, char **argv);
int tv_cmd_mcp(const struct tv_cli *cli, int argc, char **argv);
int tv_cmd_serve(const struct tv_cli *cli, int argc, char **argv);

/* The options `mcp` and `serve` share (--store, --allow-write, --max-window,
 * ...) into o, plus extra ones handed to on_extra. @return 0, -1 after
 * --help (printed), or an exit status for a usage error. */
struct option;
struct tv_mcp_opts;
int tv_cli_parse_web_opts(int argc, char **argv, struct tv_mcp_opts *o, const char *cmd,
			  const char *usage_text, const struct option *extra,
			  int (*on_extra)(void *ctx, int c, const char *arg), void *ctx);

#endif
