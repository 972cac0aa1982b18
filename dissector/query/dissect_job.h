/* SPDX-License-Identifier: Apache-2.0 */
/* dissect_job: the Kubernetes Indexed Job (batch/v1, completionMode
 * Indexed) whose pods run `tapvault dissect --shard I/N`, I taken from the
 * JOB_COMPLETION_INDEX the Job controller gives each pod. Kubernetes Jobs
 * are the distributed engine: a failed index is retried on its own
 * (backoffLimitPerIndex) and reruns are idempotent (dissection.h). */
#ifndef TV_DISSECT_JOB_H
#define TV_DISSECT_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct tv_dissect_job_opts {
	const char *name;                 /* the dissection's name (dissection.h) */
	const char *source_url, *out_url; /* the packets' store, the parts' store */
	const char *prefix;               /* --prefix, or NULL */
	uint64_t from, to;                /* absolute: every pod sees the same window */
	const char *const *nodes;         /* NULL: all */
	size_t nnodes;
	uint32_t shards, parallelism;     /* parallelism 0: min(shards, 8) */
	uint32_t backoff_limit_per_index; /* retries of one index */
	const char *image, *pull_policy;  /* pull_policy NULL: IfNotPresent */
	const char *namespace_;           /* NULL: none (kubectl's current) */
	const char *service_account;      /* NULL: the namespace's default (IRSA: one with a role) */
	const char *secret; /* a Secret with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or NULL */
	const char *endpoint, *region, *addressing; /* the store's global options, or NULL */
	const char *ca_configmap; /* a ConfigMap holding ca.crt for TLS to the store, or NULL */
	bool insecure;
	const char *cpu, *memory; /* per pod (requests = limits for memory); NULL: 1, 2Gi */
};

/* The Job object, or NULL (-EINVAL with a message for a bad name or
 * shard count, -ENOMEM). */
json_t *tv_dissect_job(const struct tv_dissect_job_opts *o);

/* The Job's name for a dissection name: "tapvault-dissect-" + the name made
 * a DNS-1123 label (lower case, '.' and '_' as '-', at most 63). */
void tv_dissect_job_name(const char *name, char *out, size_t n);

#endif
