/* SPDX-License-Identifier: Apache-2.0 */
/* entry: see entry.h. */
#include "dissector/dissect/entry.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "archive/common/timeutil.h"
#include "archive/procs.h"

/* One side of k at ts: {ip, port, name, namespace}, and when known who held
 * the address -- its kind (pod, service, node), a pod's workload and node,
 * the service a pod's address served, the process whose socket it was.
 * held (may be NULL): the holder. */
static json_t *endpoint(const struct tv_entry_where *w, bool source, uint64_t ts, const struct tv_name **held)
{
	const struct tv_flow_key *k = w->client;
	const uint8_t *addr = source ? k->src : k->dst;
	const struct tv_name *n = tv_names_lookup_at(w->names, k->family, addr, ts);
	char ip[INET6_ADDRSTRLEN];
	inet_ntop(k->family == 4 ? AF_INET : AF_INET6, addr, ip, sizeof(ip));
	json_t *j = json_pack("{s:s, s:i}", "ip", ip, "port", source ? k->sport : k->dport);
	json_object_set_new(j, "name", n ? json_string(n->name) : json_null());
	json_object_set_new(j, "namespace", n && n->ns[0] ? json_string(n->ns) : json_null());
	if (n) {
		json_object_set_new(j, "kind", json_string(n->kind));
		if (n->workload)
			json_object_set_new(j, "workload",
					    json_pack("{s:s, s:s}", "kind",
						      n->workload_kind ? n->workload_kind : "", "name",
						      n->workload));
		if (n->node && n->node[0])
			json_object_set_new(j, "node", json_string(n->node));
	}
	const char *service = n && !strcmp(n->kind, "service")
				      ? n->name
				      : tv_names_service_at(w->names, k->family, addr, ts);
	if (service)
		json_object_set_new(j, "service", json_string(service));
	/* the process of this end's socket (the OS layer), with its container */
	const struct tv_proc *pr = tv_procs_lookup(tv_names_procs(w->names), k->proto, k->family, addr,
						   source ? k->sport : k->dport, source ? k->dst : k->src,
						   source ? k->dport : k->sport, ts);
	if (pr)
		json_object_set_new(j, "process", tv_proc_json(pr));
	if (held)
		*held = n;
	return j;
}

double tv_entry_elapsed_ms(const struct tv_entry *e)
{
	if (!e->request_ts || !e->response_ts || e->response_ts <= e->request_ts)
		return 0.0;
	return (double)(e->response_ts - e->request_ts) / 1e6;
}

/* The client (named client) is a pod of the node that captured the
 * connection: the request left that node (Kubeshark's "outgoing"). */
static bool outgoing(const struct tv_entry_where *w, const struct tv_name *client)
{
	return client && client->node && client->node[0] && !strcmp(client->node, w->node);
}

json_t *tv_entry_build(const struct tv_entry_where *w, const struct tv_entry *e, char when[40])
{
	uint64_t start = e->request_ts ? e->request_ts : e->response_ts;
	char id[40];
	tv_format_rfc3339(start, when);
	snprintf(id, sizeof(id), "%016" PRIx64, w->id);
	json_t *j = json_object();
	json_object_set_new(j, "id", json_string(id));
	json_object_set_new(j, "index", json_integer((json_int_t)w->index));
	json_object_set_new(j, "stream", json_string(w->stream));
	json_object_set_new(j, "node", json_string(w->node));
	json_object_set_new(j, "protocol", json_pack("{s:s, s:s}", "name", e->proto, "version", e->version));
	/* who held each address when the exchange began (IPs are reused) */
	const struct tv_name *client;
	json_object_set_new(j, "src", endpoint(w, true, start, &client));
	json_object_set_new(j, "dst", endpoint(w, false, start, NULL));
	json_object_set_new(j, "outgoing", json_boolean(outgoing(w, client)));
	json_object_set_new(j, "request", e->request ? e->request : json_null());
	json_object_set_new(j, "response", e->response ? e->response : json_null());
	json_object_set_new(j, "requestSize", json_integer((json_int_t)e->request_size));
	json_object_set_new(j, "responseSize", json_integer((json_int_t)e->response_size));
	json_object_set_new(j, "startTime", json_string(when));
	json_object_set_new(j, "timestamp", json_integer((json_int_t)(start / 1000000)));
	json_object_set_new(j, "elapsedTime", json_real(tv_entry_elapsed_ms(e)));
	json_object_set_new(j, "failed", json_boolean(e->failed || e->error));
	json_object_set_new(j, "error", e->error ? json_string(e->error) : json_null());
	json_object_set_new(j, "tls", json_false());
	return j;
}
