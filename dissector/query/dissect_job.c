/* SPDX-License-Identifier: Apache-2.0 */
/* dissect_job: the Indexed Job of a sharded dissection (dissect_job.h). */
#include "dissector/query/dissect_job.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/timeutil.h"
#include "dissector/query/dissection.h"

void tv_dissect_job_name(const char *name, char *out, size_t n)
{
	int m = snprintf(out, n, "tapvault-dissect-");
	size_t k = m > 0 ? (size_t)m : 0;
	size_t max = n - 1 < 63 ? n - 1 : 63;
	for (const char *p = name; *p && k < max; p++)
		out[k++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-';
	while (k > 0 && out[k - 1] == '-')
		k--; /* a label ends with an alphanumeric */
	out[k] = '\0';
}

static json_t *labels(const char *name)
{
	return json_pack("{s:s,s:s,s:s}", "app.kubernetes.io/name", "tapvault", "app.kubernetes.io/component",
			 "dissect", "tapvault.io/dissection", name);
}

static void add_arg(json_t *args, const char *flag, const char *value)
{
	json_array_append_new(args, json_string(flag));
	if (value)
		json_array_append_new(args, json_string(value));
}

/* tapvault's argv after the image's entrypoint: the store's global
 * options, then the command. */
static json_t *arguments(const struct tv_dissect_job_opts *o)
{
	json_t *a = json_array();
	if (o->endpoint)
		add_arg(a, "--endpoint", o->endpoint);
	if (o->region)
		add_arg(a, "--region", o->region);
	if (o->addressing)
		add_arg(a, "--addressing", o->addressing);
	if (o->ca_configmap)
		add_arg(a, "--ca-bundle", "/etc/tapvault/ca/ca.crt");
	if (o->insecure)
		add_arg(a, "--insecure", NULL);
	char from[40], to[40], shard[48];
	tv_format_rfc3339(o->from, from);
	tv_format_rfc3339(o->to, to);
	/* Kubernetes expands $(VAR) from the container's environment, where the
	 * Job controller put the pod's index */
	snprintf(shard, sizeof(shard), "$(JOB_COMPLETION_INDEX)/%" PRIu32, o->shards);
	add_arg(a, "dissect", NULL);
	add_arg(a, "--store", o->source_url);
	if (o->prefix)
		add_arg(a, "--prefix", o->prefix);
	add_arg(a, "--from", from);
	add_arg(a, "--to", to);
	for (size_t i = 0; i < o->nnodes; i++)
		add_arg(a, "--node", o->nodes[i]);
	add_arg(a, "--shard", shard);
	add_arg(a, "--out-store", o->out_url);
	add_arg(a, "--name", o->name);
	add_arg(a, "--stats", NULL);
	return a;
}

static json_t *secret_env(const char *secret)
{
	json_t *env = json_array();
	const char *keys[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"};
	for (size_t i = 0; i < 3; i++)
		json_array_append_new(env, json_pack("{s:s,s:{s:{s:s,s:s,s:b}}}", "name", keys[i],
						     "valueFrom", "secretKeyRef", "name", secret, "key",
						     keys[i], "optional", i == 2));
	return env;
}

static json_t *container(const struct tv_dissect_job_opts *o)
{
	const char *cpu = o->cpu ? o->cpu : "1", *memory = o->memory ? o->memory : "2Gi";
	json_t *c = json_pack(
		"{s:s,s:s,s:s,s:[s],s:o,s:{s:{s:s,s:s},s:{s:s}},s:{s:b,s:b,s:b,s:{s:[s]}},s:[{s:s,s:s}]}",
		"name", "dissect", "image", o->image, "imagePullPolicy",
		o->pull_policy ? o->pull_policy : "IfNotPresent", "command", "tapvault", "args", arguments(o),
		"resources", "requests", "cpu", cpu, "memory", memory, "limits", "memory", memory,
		"securityContext", "allowPrivilegeEscalation", 0, "readOnlyRootFilesystem", 1, "runAsNonRoot",
		1, "capabilities", "drop", "ALL", "volumeMounts", "name", "tmp", "mountPath", "/tmp");
	json_t *env = o->secret ? secret_env(o->secret) : json_array();
	json_array_append_new(env, json_pack("{s:s,s:s}", "name", "TMPDIR", "value", "/tmp"));
	json_object_set_new(c, "env", env);
	if (o->ca_configmap)
		json_array_append_new(json_object_get(c, "volumeMounts"),
				      json_pack("{s:s,s:s,s:b}", "name", "ca", "mountPath",
						"/etc/tapvault/ca", "readOnly", 1));
	return c;
}

static json_t *pod_spec(const struct tv_dissect_job_opts *o)
{
	json_t *volumes = json_pack("[{s:s,s:{}}]", "name", "tmp", "emptyDir");
	if (o->ca_configmap)
		json_array_append_new(volumes, json_pack("{s:s,s:{s:s}}", "name", "ca", "configMap", "name",
							 o->ca_configmap));
	json_t *spec = json_pack("{s:s,s:{s:b,s:i,s:i,s:{s:s}},s:[o],s:o}", "restartPolicy", "Never",
				 "securityContext", "runAsNonRoot", 1, "runAsUser", 65532, "runAsGroup",
				 65532, "seccompProfile", "type", "RuntimeDefault", "containers",
				 container(o), "volumes", volumes);
	if (o->service_account)
		json_object_set_new(spec, "serviceAccountName", json_string(o->service_account));
	return spec;
}

json_t *tv_dissect_job(const struct tv_dissect_job_opts *o)
{
	if (tv_dissection_name_check(o->name))
		return NULL;
	if (o->shards == 0 || o->shards > 100000) {
		tv_err(-EINVAL, "--shards: 1 to 100000");
		return NULL;
	}
	if (!o->image || !o->source_url || !o->out_url) {
		tv_err(-EINVAL, "the Job needs an image, the source store and the output store");
		return NULL;
	}
	char job_name[64];
	tv_dissect_job_name(o->name, job_name, sizeof(job_name));
	uint32_t par = o->parallelism ? o->parallelism : (o->shards < 8 ? o->shards : 8);
	json_t *meta = json_pack("{s:s,s:o}", "name", job_name, "labels", labels(o->name));
	if (o->namespace_)
		json_object_set_new(meta, "namespace", json_string(o->namespace_));
	json_t *job =
		json_pack("{s:s,s:s,s:o,s:{s:s,s:I,s:I,s:I,s:I,s:i,s:{s:{s:o},s:o}}}", "apiVersion",
			  "batch/v1", "kind", "Job", "metadata", meta, "spec", "completionMode", "Indexed",
			  "completions", (json_int_t)o->shards, "parallelism", (json_int_t)par,
			  "backoffLimitPerIndex", (json_int_t)o->backoff_limit_per_index, "maxFailedIndexes",
			  (json_int_t)o->shards, "ttlSecondsAfterFinished", 86400, "template", "metadata",
			  "labels", labels(o->name), "spec", pod_spec(o));
	if (!job)
		tv_err(-ENOMEM, "out of memory");
	return job;
}
