/* SPDX-License-Identifier: Apache-2.0 */
/* annotate: see annotate.h. */
#include "dissector/query/annotate.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "archive/flow.h"
#include "archive/names.h"
#include "archive/procs.h"

struct text {
	char *p;
	size_t n, len;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
	if (t->len + 1 >= t->n)
		return;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(t->p + t->len, t->n - t->len, fmt, ap);
	va_end(ap);
	t->len = w < 0 ? t->len : t->len + (size_t)w >= t->n ? t->n - 1 : t->len + (size_t)w;
}

/* One end: "src pod NS/NAME (KIND NAME), process COMM[PID] EXE, container NAME ID12". */
static void end_text(struct text *t, const struct tv_names *names, const struct tv_flow_key *k, bool source,
		     uint64_t ts)
{
	const uint8_t *addr = source ? k->src : k->dst, *peer = source ? k->dst : k->src;
	const struct tv_name *nm = tv_names_lookup_at(names, k->family, addr, ts);
	const struct tv_proc *pr =
		tv_procs_lookup(tv_names_procs(names), k->proto, k->family, addr,
				source ? k->sport : k->dport, peer, source ? k->dport : k->sport, ts);
	if (!nm && !pr)
		return;
	put(t, "%s%s", t->len ? "; " : "", source ? "src" : "dst");
	if (nm) {
		put(t, " %s %s%s%s", nm->kind, nm->ns && nm->ns[0] ? nm->ns : "",
		    nm->ns && nm->ns[0] ? "/" : "", nm->name);
		if (nm->workload)
			put(t, " (%s %s)", nm->workload_kind ? nm->workload_kind : "workload", nm->workload);
	}
	if (pr) {
		put(t, "%s process %s[%u]%s%s", nm ? "," : "", pr->comm, pr->pid, pr->exe[0] ? " " : "",
		    pr->exe);
		if (pr->container_id)
			put(t, ", container %s%s%.12s", pr->container ? pr->container : "",
			    pr->container ? " " : "", pr->container_id);
		if (pr->pod && !nm)
			put(t, ", pod %s/%s", pr->pod_namespace ? pr->pod_namespace : "", pr->pod);
	}
}

void tv_annotate_packet(const struct tv_names *names, uint16_t linktype, const struct tv_packet *p, char *out,
			size_t n)
{
	struct text t = {out, n, 0};
	if (n)
		out[0] = '\0';
	struct tv_flow_key k;
	if (!names || !tv_flow_key_parse(linktype, p->data, p->caplen, &k) || k.family == TV_FLOW_OTHER)
		return;
	end_text(&t, names, &k, true, p->ts_ns);
	end_text(&t, names, &k, false, p->ts_ns);
}
