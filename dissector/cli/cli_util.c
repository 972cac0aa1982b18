/* SPDX-License-Identifier: Apache-2.0 */
/* cli_util: see cli.h. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/timeutil.h"
#include "archive/k8s_api.h"
#include "dissector/cli/cli.h"

void tv_cli_free_k8s(struct tv_cli_k8s *k)
{
	for (size_t i = 0; i < k->n; i++)
		tv_k8s_api_object_cleanup(&k->api[i]);
	free(k->api);
	free(k->objects);
	json_decref(k->doc);
	memset(k, 0, sizeof(*k));
}

int tv_cli_load_k8s(const char *path, struct tv_cli_k8s *k)
{
	memset(k, 0, sizeof(*k));
	json_error_t e;
	if (!(k->doc = json_load_file(path, 0, &e)))
		return tv_err(-EINVAL, "%s:%d:%d: %s", path, e.line, e.column, e.text);
	int n = tv_k8s_from_api_document(k->doc, &k->api);
	if (n < 0) {
		char why[256];
		snprintf(why, sizeof(why), "%s", tv_errmsg()); /* tv_err rewrites the message it is given */
		int rc = tv_err(n, "%s: %s", path, why);
		json_decref(k->doc);
		k->doc = NULL;
		return rc;
	}
	k->n = (size_t)n;
	if (!(k->objects = calloc(k->n + 1, sizeof(*k->objects)))) {
		tv_cli_free_k8s(k);
		return tv_err(-ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < k->n; i++)
		k->objects[i] = k->api[i].o;
	return 0;
}

int tv_cli_fail(const char *cmd, const char *fallback)
{
	const char *msg = tv_errmsg();
	fprintf(stderr, "tapvault %s: %s\n", cmd, msg[0] ? msg : fallback);
	return TV_EXIT_FAIL;
}

int tv_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "tapvault %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'tapvault %s --help'.\n", cmd);
	return TV_EXIT_USAGE;
}

bool tv_cli_interactive(void)
{
	return isatty(STDERR_FILENO);
}

bool tv_cli_scope_option(struct tv_cli_scope *s, int opt, const char *arg)
{
	switch (opt) {
	case 's': s->url = arg; return true;
	case 'p': s->prefix = arg; return true;
	case 'F': s->from_text = arg; return true;
	case 'T': s->to_text = arg; return true;
	case 'n':
		if (s->nnodes < TV_CLI_NODES_MAX)
			s->nodes[s->nnodes++] = arg;
		else
			s->too_many_nodes = true;
		return true;
	default: return false;
	}
}

int tv_cli_scope_finish(struct tv_cli_scope *s, const char *cmd, int need)
{
	if (!s->prefix)
		s->prefix = "";
	if (s->too_many_nodes)
		return tv_cli_usage_error(cmd, "at most %d --node", TV_CLI_NODES_MAX);
	if ((need & TV_SCOPE_STORE) && !s->url)
		return tv_cli_usage_error(cmd, "--store is required");
	if ((need & TV_SCOPE_WINDOW) && (!s->from_text || !s->to_text))
		return tv_cli_usage_error(cmd, "--from and --to are required");
	uint64_t now = tv_now_ns();
	s->from = 0;
	s->to = UINT64_MAX;
	if ((s->from_text && tv_parse_time(s->from_text, now, &s->from)) ||
	    (s->to_text && tv_parse_time(s->to_text, now, &s->to)))
		return tv_cli_usage_error(cmd, "%s", tv_errmsg());
	s->windowed = s->from_text || s->to_text;
	if (s->windowed && s->to <= s->from)
		return tv_cli_usage_error(cmd, "empty window: --to is not after --from");
	return TV_EXIT_OK;
}

const char *const *tv_cli_scope_nodes(const struct tv_cli_scope *s)
{
	return s->nnodes ? s->nodes : NULL;
}

int tv_cli_open_store(const struct tv_cli *cli, const char *url, int flags, struct tv_store **out,
		      const char *cmd)
{
	int rc = tv_store_open(url, flags, cli ? &cli->store : NULL, out);
	if (rc)
		tv_cli_fail(cmd, "cannot open store");
	return rc;
}

static void print_skipped(void *ctx, const char *what)
{
	struct tv_cli_report *cr = ctx;
	cr->skipped++;
	fprintf(stderr, "tapvault %s: %s (skipped)\n", cr->cmd, what);
}

static void show_progress(void *ctx, uint64_t done, uint64_t total, uint64_t bytes)
{
	struct tv_cli_report *cr = ctx;
	cr->prog.total = total;
	tv_progress_update(&cr->prog, done, bytes);
}

void tv_cli_report_init(struct tv_cli_report *cr, const char *cmd, const char *units)
{
	cr->r = (struct tv_report){print_skipped, show_progress, cr};
	cr->cmd = cmd;
	cr->skipped = 0;
	tv_progress_start(&cr->prog, units, 0);
}

void tv_cli_report_end(struct tv_cli_report *cr)
{
	tv_progress_end(&cr->prog);
}
