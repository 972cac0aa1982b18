/* SPDX-License-Identifier: Apache-2.0 */
/* annotate: see annotate.h. */
#include "dissector/query/annotate.h"

#include <stdbool.h>
#include <string.h>

#include "archive/flow.h"
#include "archive/names.h"
#include "archive/procs.h"

/* One end: "src pod NS/NAME (KIND NAME), process COMM[PID] EXE, container NAME ID12". */
static void end_text(struct tv_buf *t, const struct tv_names *names, const struct tv_flow_key *k, bool source,
		     uint64_t ts)
{
	const uint8_t *addr = source ? k->src : k->dst, *peer = source ? k->dst : k->src;
	const struct tv_name *nm = tv_names_lookup_at(names, k->family, addr, ts);
	const struct tv_proc *pr =
		tv_procs_lookup(tv_names_procs(names), k->proto, k->family, addr,
				source ? k->sport : k->dport, peer, source ? k->dport : k->sport, ts);
	if (!nm && !pr)
		return;
	tv_buf_printf(t, "%s%s", t->len ? "; " : "", source ? "src" : "dst");
	if (nm) {
		tv_buf_printf(t, " %s %s%s%s", nm->kind, nm->ns && nm->ns[0] ? nm->ns : "",
			      nm->ns && nm->ns[0] ? "/" : "", nm->name);
		if (nm->workload)
			tv_buf_printf(t, " (%s %s)", nm->workload_kind ? nm->workload_kind : "workload",
				      nm->workload);
	}
	if (pr) {
		tv_buf_printf(t, "%s process %s[%u]%s%s", nm ? "," : "", pr->comm, pr->pid,
			      pr->exe[0] ? " " : "", pr->exe);
		if (pr->container_id)
			tv_buf_printf(t, ", container %s%s%.12s", pr->container ? pr->container : "",
				      pr->container ? " " : "", pr->container_id);
		if (pr->pod && !nm)
			tv_buf_printf(t, ", pod %s/%s", pr->pod_namespace ? pr->pod_namespace : "", pr->pod);
	}
}

void tv_annotate_packet(const struct tv_names *names, uint16_t linktype, const struct tv_packet *p,
			struct tv_buf *out)
{
	tv_buf_reset(out);
	struct tv_flow_key k;
	if (names && tv_flow_key_parse(linktype, p->data, p->caplen, &k) && k.family != TV_FLOW_OTHER) {
		end_text(out, names, &k, true, p->ts_ns);
		end_text(out, names, &k, false, p->ts_ns);
	}
	if (tv_buf_put_u8(out, '\0')) /* over the limit: no comment rather than half of one */
		tv_buf_reset(out);
}
