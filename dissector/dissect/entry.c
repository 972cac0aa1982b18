/* SPDX-License-Identifier: Apache-2.0 */
/* entry: see entry.h. */
#include "dissector/dissect/entry.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "archive/common/timeutil.h"

/* {ip, port, name, namespace} of one side of k; n: its name, or NULL. */
static json_t *endpoint(const struct tv_flow_key *k, bool source, const struct tv_name *n)
{
	char ip[INET6_ADDRSTRLEN];
	inet_ntop(k->family == 4 ? AF_INET : AF_INET6, source ? k->src : k->dst, ip, sizeof(ip));
	if (n)
		return json_pack("{s:s, s:i, s:s, s:s}", "ip", ip, "port", source ? k->sport : k->dport,
				 "name", n->name, "namespace", n->ns);
	return json_pack("{s:s, s:i, s:n, s:n}", "ip", ip, "port", source ? k->sport : k->dport, "name",
			 "namespace");
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
	const struct tv_name *client = tv_names_lookup_at(w->names, w->client->family, w->client->src, start),
			     *server = tv_names_lookup_at(w->names, w->client->family, w->client->dst, start);
	json_object_set_new(j, "src", endpoint(w->client, true, client));
	json_object_set_new(j, "dst", endpoint(w->client, false, server));
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
