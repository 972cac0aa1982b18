/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_dissect_dist: `tapvault dissect` past one machine -- a shard of a
 * window (--shard I/N, its part kept in a store), the merge of the parts
 * (--merge NAME), and the Kubernetes Indexed Job that runs the shards
 * (--job). The shard, part and Job logic is in query/ (shard.h,
 * dissection.h, dissect_job.h); this file is argv and printing. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/common/yaml_json.h"
#include "dissector/cli/cmd_dissect.h"
#include "dissector/query/dissection.h"
#include "dissector/query/shard.h"

int tv_dissect_shard_window(const struct dissect_args *a, const struct tv_window *whole, struct tv_store *s,
			    const struct tv_window_opts *wo, struct tv_shard **shard, struct tv_window **w)
{
	int rc = tv_shard_plan(shard, whole, a->sc.from, a->sc.to, a->shard_index, a->shard_count);
	if (rc)
		return rc;
	struct tv_shard_info in;
	tv_shard_info(*shard, &in);
	if (a->stats || tv_cli_interactive())
		fprintf(stderr,
			"tapvault dissect: shard %" PRIu32 "/%" PRIu32 ": slice %" PRIu64 "-%" PRIu64
			" (%" PRIu64 " of %" PRIu64 " bytes), %" PRIu64 " of %" PRIu64
			" connections, reading %" PRIu64 "-%" PRIu64 "\n",
			in.index, in.count, in.cut_from, in.cut_to, in.bytes_slice, in.bytes_window,
			in.flows_owned, in.flows, in.read_from, in.read_to);
	struct tv_window_opts o = *wo;
	o.from = in.read_from;
	o.to = in.read_to > in.read_from ? in.read_to : in.read_from + 1;
	return tv_window_open(w, s, &o);
}

/* What a done marker records of the source: the store, its prefix and
 * the nodes asked for, so a rerun with other inputs is told apart. */
static void source_text(const struct dissect_args *a, char *out, size_t n)
{
	int m = snprintf(out, n, "%s", a->sc.url);
	if (a->sc.prefix[0] && m >= 0 && (size_t)m < n)
		m += snprintf(out + m, n - (size_t)m, " prefix=%s", a->sc.prefix);
	for (size_t i = 0; i < a->sc.nnodes && m >= 0 && (size_t)m < n; i++)
		m += snprintf(out + m, n - (size_t)m, "%s%s", i ? "," : " nodes=", a->sc.nodes[i]);
}

static FILE *temp_entries(char *path, size_t n)
{
	const char *dir = getenv("TMPDIR");
	snprintf(path, n, "%s/tapvault-shard-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		tv_err(-errno, "%s: %s", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
	}
	return f;
}

static int store_part(const struct dissect_args *a, struct tv_store *out, const char *path,
		      struct tv_dissection_part *p)
{
	int rc = tv_dissection_put_part(out, "", a->name, path, p);
	if (rc)
		return tv_cli_fail("dissect", "cannot store the part");
	fprintf(stderr,
		"tapvault dissect: part %" PRIu32 " of %" PRIu32 " of '%s' stored: %" PRIu64
		" entries, %" PRIu64 " bytes, sha256 %s\n",
		p->index, p->count, a->name, p->entries, p->size, p->sha256);
	return 0;
}

static int sort_part(const struct dissect_args *a, const char *path)
{
	bool to_stdout = strcmp(a->output, "-") == 0;
	FILE *out = to_stdout ? stdout : fopen(a->output, "w");
	if (!out)
		return tv_cli_fail("dissect", strerror(errno));
	uint64_t n;
	int rc = tv_dissection_sort_to(path, out, &n);
	if (fflush(out) || (!to_stdout && fclose(out)))
		rc = rc ? rc : tv_err(-EIO, "cannot write the output");
	return rc ? tv_cli_fail("dissect", "cannot write the output") : 0;
}

int tv_dissect_shard_main(const struct tv_cli *cli, struct dissect_args *a)
{
	char source[2048];
	source_text(a, source, sizeof(source));
	struct tv_dissection_part p = {.index = a->shard_index,
				       .count = a->shard_count,
				       .from = a->sc.from,
				       .to = a->sc.to,
				       .source = source};
	struct tv_store *out = NULL;
	if (a->out_store) {
		if (tv_cli_open_store(cli, a->out_store, TV_STORE_CREATE, &out, "dissect"))
			return TV_EXIT_FAIL;
		int done = tv_dissection_part_done(out, "", a->name, &p);
		if (done) {
			tv_store_free(out);
			if (done < 0)
				return tv_cli_fail("dissect", "cannot read the part's done marker");
			fprintf(stderr,
				"tapvault dissect: part %" PRIu32 " of %" PRIu32
				" of '%s' is already done (%" PRIu64 " entries): nothing replaced\n",
				p.index, p.count, a->name, p.entries);
			return TV_EXIT_OK;
		}
	}
	char path[4096];
	FILE *tmp = temp_entries(path, sizeof(path));
	if (!tmp) {
		tv_store_free(out);
		return tv_cli_fail("dissect", "cannot make a temporary file (set TMPDIR)");
	}
	int rc = tv_dissect_run(cli, a, tmp);
	if (fclose(tmp) && (rc == TV_EXIT_OK || rc == TV_EXIT_PARTIAL))
		rc = tv_cli_fail("dissect", "cannot write the temporary entries");
	/* damaged input skipped (exit 3) still gives the part of what was there */
	if (rc == TV_EXIT_OK || rc == TV_EXIT_PARTIAL) {
		int r = out ? store_part(a, out, path, &p) : sort_part(a, path);
		if (r)
			rc = TV_EXIT_FAIL;
	}
	unlink(path);
	tv_store_free(out);
	return rc;
}

int tv_dissect_merge_main(const struct tv_cli *cli, struct dissect_args *a)
{
	struct tv_store *s;
	if (tv_cli_open_store(cli, a->out_store, 0, &s, "dissect"))
		return TV_EXIT_FAIL;
	bool to_stdout = strcmp(a->output, "-") == 0;
	FILE *out = to_stdout ? stdout : fopen(a->output, "w");
	if (!out) {
		tv_store_free(s);
		return tv_cli_fail("dissect", strerror(errno));
	}
	struct tv_dissection_merge_stats st;
	int rc = tv_dissection_merge(s, "", a->merge, out, &st);
	int wrc = fflush(out) != 0 || ferror(out);
	if (!to_stdout && fclose(out) != 0)
		wrc = 1;
	tv_store_free(s);
	if (rc)
		return tv_cli_fail("dissect", "cannot merge");
	if (wrc)
		return tv_cli_fail("dissect", "cannot write the output");
	if (a->stats || tv_cli_interactive())
		fprintf(stderr, "tapvault dissect: merged %" PRIu32 " parts of '%s': %" PRIu64 " entries\n",
			st.parts, a->merge, st.entries);
	return TV_EXIT_OK;
}

/* ---- --job ---- */

static const char *values_string(json_t *values, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(values, a);
	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	const char *s = json_string_value(v);
	return s && *s ? s : NULL;
}

/* The chart's values (charts/tapvault/values.yaml and the user's own): the
 * image, the store and its credentials, unless a flag gave them. The
 * strings stay owned by *doc. */
static int apply_values(struct dissect_args *a, const char *path, json_t **doc)
{
	struct tv_buf b;
	tv_buf_init(&b, 16u << 20);
	int rc = tv_read_file(path, &b);
	if (!rc)
		rc = tv_yaml_to_json((const char *)b.data, b.len, path, doc);
	tv_buf_cleanup(&b);
	if (rc)
		return rc;
	json_t *v = *doc;
	struct tv_dissect_job_opts *o = &a->jo;
	static char image[512];
	const char *repo = values_string(v, "image", "repository", NULL),
		   *tag = values_string(v, "image", "tag", NULL);
	if (!o->image && repo) {
		/* an empty tag is the chart's appVersion, which is this program's version */
		snprintf(image, sizeof(image), "%s:%s", repo, tag ? tag : TV_VERSION);
		o->image = image;
	}
	if (!o->pull_policy)
		o->pull_policy = values_string(v, "image", "pullPolicy", NULL);
	if (!a->sc.url)
		a->sc.url = values_string(v, "store", "url", NULL);
	if (!a->out_store)
		a->out_store = values_string(v, "dissect", "outStore", NULL);
	if (!a->out_store)
		a->out_store = a->sc.url;
	if (!o->endpoint)
		o->endpoint = values_string(v, "store", "endpoint", NULL);
	if (!o->region)
		o->region = values_string(v, "store", "region", NULL);
	if (!o->secret)
		o->secret = values_string(v, "store", "existingSecret", NULL);
	if (!o->ca_configmap)
		o->ca_configmap = values_string(v, "store", "caBundle", "configMap");
	if (!o->service_account)
		o->service_account = values_string(v, "dissect", "serviceAccountName", NULL);
	if (!o->cpu)
		o->cpu = values_string(v, "dissect", "resources", "cpu");
	if (!o->memory)
		o->memory = values_string(v, "dissect", "resources", "memory");
	json_t *bl = json_object_get(json_object_get(v, "dissect"), "backoffLimitPerIndex");
	if (!a->backoff_set && json_is_integer(bl) && json_integer_value(bl) >= 0) {
		o->backoff_limit_per_index = (uint32_t)json_integer_value(bl);
		a->backoff_set = true;
	}
	o->insecure = o->insecure || json_is_true(json_object_get(json_object_get(v, "store"), "insecure"));
	return 0;
}

int tv_dissect_job_main(const struct tv_cli *cli, struct dissect_args *a)
{
	json_t *values[8] = {0};
	struct tv_dissect_job_opts *o = &a->jo;
	o->endpoint = cli->s3.endpoint;
	o->region = cli->s3.region;
	o->insecure = cli->s3.insecure;
	/* the last file first: what it sets is not overridden by earlier ones */
	for (size_t i = a->nvalues; i-- > 0;)
		if (apply_values(a, a->values[i], &values[i])) {
			for (size_t k = 0; k < a->nvalues; k++)
				json_decref(values[k]);
			return tv_cli_fail("dissect", "cannot read --values");
		}
	int rc = TV_EXIT_OK;
	if (!a->sc.url || !a->sc.from_text || !a->sc.to_text || !a->name || !o->shards || !o->image)
		rc = tv_cli_usage_error(
			"dissect", "--job needs --shards N, --image (or --values), --store (or --values), "
				   "--from, --to and --name");
	else if (!a->out_store)
		rc = tv_cli_usage_error("dissect", "--job needs --out-store URL (or --values)");
	else if (!a->sc.windowed)
		rc = tv_cli_scope_finish(&a->sc, "dissect", TV_SCOPE_WINDOW);
	if (rc == TV_EXIT_OK) {
		o->name = a->name;
		o->source_url = a->sc.url;
		o->out_url = a->out_store;
		o->prefix = a->sc.prefix[0] ? a->sc.prefix : NULL;
		o->from = a->sc.from;
		o->to = a->sc.to;
		o->nodes = tv_cli_scope_nodes(&a->sc);
		o->nnodes = a->sc.nnodes;
		json_t *job = tv_dissect_job(o);
		if (!job) {
			rc = tv_cli_fail("dissect", "cannot build the Job");
		} else {
			bool to_stdout = strcmp(a->output, "-") == 0;
			FILE *out = to_stdout ? stdout : fopen(a->output, "w");
			if (!out)
				rc = tv_cli_fail("dissect", strerror(errno));
			else {
				tv_cli_print_yaml(out, job);
				if (fflush(out) || (!to_stdout && fclose(out)))
					rc = tv_cli_fail("dissect", "cannot write the Job");
			}
			json_decref(job);
		}
	}
	for (size_t k = 0; k < a->nvalues; k++)
		json_decref(values[k]);
	return rc;
}
