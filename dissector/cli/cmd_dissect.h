/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_dissect: what `tapvault dissect`'s files share: its arguments, the
 * one-machine run (cmd_dissect.c) and the distributed modes built on it
 * (cmd_dissect_dist.c: --shard, --merge, --job). */
#ifndef TV_CMD_DISSECT_H
#define TV_CMD_DISSECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dissector/cli/cli.h"
#include "dissector/dissect/dissect.h"
#include "dissector/query/dissect_job.h"
#include "dissector/query/window.h"

struct dissect_args {
	struct tv_cli_scope sc;
	const char *pcap, *output, *k8s;
	bool stats, help;
	struct tv_dissect_opts o;
	/* sharding, merging, --job */
	bool sharded, job, backoff_set;
	uint32_t shard_index, shard_count;
	const char *out_store, *name, *merge;
	const char *values[8]; /* --values FILE..., later ones win (as helm -f) */
	size_t nvalues;
	struct tv_dissect_job_opts jo;
	uint64_t entries; /* written by the run */
};

struct tv_names;
struct tv_cli_k8s;
struct tv_shard;

int tv_dissect_run(const struct tv_cli *cli, struct dissect_args *a, FILE *out);
int tv_dissect_from_store(const struct tv_cli *cli, struct tv_dissect *d, const struct dissect_args *a,
			  struct tv_names *names, const struct tv_cli_k8s *k8s, uint64_t *damaged);

/* The shard's plan over the whole window, and the window it must read. */
int tv_dissect_shard_window(const struct dissect_args *a, const struct tv_window *whole, struct tv_store *s,
			    const struct tv_window_opts *wo, struct tv_shard **shard, struct tv_window **w);
int tv_dissect_shard_main(const struct tv_cli *cli, struct dissect_args *a);
int tv_dissect_merge_main(const struct tv_cli *cli, struct dissect_args *a);
int tv_dissect_job_main(const struct tv_cli *cli, struct dissect_args *a);

#endif
