/* SPDX-License-Identifier: Apache-2.0 */
/* kube_watch: archive/kube's reflector as a command for the tests: prints
 * one line per event ("ADDED ns/name rv [relist]") and per sync record
 * ("SYNC why seconds") on stdout, until SIGTERM; then the stats.
 *   kube_watch --kubeconfig FILE PATH [FIELD_SELECTOR [STALL_S]] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/kube/kube_client.h"
#include "archive/kube/kube_config.h"
#include "archive/kube/reflector.h"

static atomic_bool stop;
static void on_term(int sig)
{
	(void)sig;
	atomic_store(&stop, true);
}

static void on_event(void *ctx, enum tv_kube_event t, json_t *obj, bool at_relist)
{
	(void)ctx;
	static const char *names[] = {"ADDED", "MODIFIED", "DELETED"};
	json_t *md = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	printf("%s %s/%s %s%s\n", names[t], ns ? ns : "-", json_string_value(json_object_get(md, "name")),
	       json_string_value(json_object_get(md, "resourceVersion")), at_relist ? " relist" : "");
	fflush(stdout);
}

static void on_sync(void *ctx, uint64_t from, uint64_t to, const char *why)
{
	(void)ctx;
	printf("SYNC %s %.3f\n", why, (double)(to - from) / 1e9);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[1], "--kubeconfig")) {
		fprintf(stderr, "usage: kube_watch --kubeconfig FILE PATH [FIELD_SELECTOR [STALL_S]]\n");
		return 2;
	}
	struct tv_kube_config cfg;
	struct tv_kube_client *c;
	if (tv_kube_config_load(argv[2], NULL, &cfg) || tv_kube_client_new(&cfg, &c)) {
		fprintf(stderr, "kube_watch: %s\n", tv_errmsg());
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_term};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct tv_reflector_opts o = {.path = argv[3],
				      .field_selector = argc > 4 && argv[4][0] ? argv[4] : NULL,
				      .stall_s = argc > 5 ? (unsigned)atoi(argv[5]) : 0,
				      .backoff_max_ns = 2000000000ULL,
				      .on_event = on_event,
				      .on_sync = on_sync};
	struct tv_reflector_stats st = {0};
	int rc = tv_reflector_run(c, &o, &stop, &st);
	fprintf(stderr,
		"stats lists=%llu watches=%llu events=%llu relists_410=%llu errors=%llu cached=%llu "
		"requests=%llu\n",
		(unsigned long long)st.lists, (unsigned long long)st.watches, (unsigned long long)st.events,
		(unsigned long long)st.relists_410, (unsigned long long)st.errors,
		(unsigned long long)st.cached, (unsigned long long)tv_kube_requests(c));
	tv_kube_client_free(c);
	tv_kube_config_cleanup(&cfg);
	return rc ? 1 : 0;
}
