/* SPDX-License-Identifier: Apache-2.0 */
/* serve: see serve.h. Requests run on libmicrohttpd's thread per
 * connection; tool calls are serialised by one lock (the query library's
 * store handle and the tools' sort state are not shared between threads);
 * downloads run on a thread of their own writing into a pipe that the
 * response reads, with a store handle of their own, so a multi-GB PCAP
 * streams without being held in memory and without holding the lock. */
#include "dissector/web/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "archive/common/sha256.h"
#include "archive/common/timeutil.h"
#include "archive/names.h"
#include "dissector/dissect/dissect.h"
#include "dissector/query/export.h"
#include "dissector/query/snapshot.h"
#include "dissector/query/window.h"
#include "dissector/web/assets.h"
#include "dissector/web/mcp_tools.h"
#include "dissector/web/mcp_util.h"

#define MAX_BODY ((size_t)4 << 20)

struct server {
	const struct tv_serve_opts *o;
	struct tv_mcp *mcp;
	struct tv_store *s;
	pthread_mutex_t lock;
	char csrf[33];
	char host[64]; /* the address we listen on, for the Origin check */
};

struct request {
	char *body;
	size_t len;
	bool too_big;
};

static const char csp[] = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, const char *type, const void *data,
				size_t n, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(n, (void *)data, mode);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return MHD_NO;
	return send_buf(c, status, "application/json", text, strlen(text), MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return send_json(c, status, json_pack("{s:s}", "error", msg));
}

/* ---- who may ask ---- */

static bool authorized(struct server *sv, struct MHD_Connection *c)
{
	if (!sv->o->token)
		return true;
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
	char want[600];
	snprintf(want, sizeof(want), "Bearer %s", sv->o->token);
	return (h && !strcmp(h, want)) || (q && !strcmp(q, sv->o->token));
}

/* A browser sends Origin on cross-site requests: only our own is let in
 * (DNS rebinding and cross-site POSTs). Clients without one (curl, the SDK)
 * pass. */
static bool origin_ok(struct server *sv, struct MHD_Connection *c)
{
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	if (!origin || !strcmp(origin, "null"))
		return origin == NULL;
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	char want[400];
	snprintf(want, sizeof(want), "http://%s", host ? host : "");
	if (strcmp(origin, want))
		return false;
	/* and the Host must be us, not a rebound name */
	return host && (!strcmp(host, sv->host) || !strncmp(host, "localhost:", 10) ||
			!strncmp(host, "127.0.0.1:", 10));
}

/* ---- tools ---- */

static enum MHD_Result run_tool(struct server *sv, struct MHD_Connection *c, const char *name,
				struct request *rq)
{
	const struct tv_tool *t = tv_tool_find(name);
	if (!t)
		return send_error(c, 404, "no such tool");
	if (t->writes) {
		const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
		if (!sv->o->mcp.allow_write)
			return send_error(c, 403, "read-only server: start it with --allow-write");
		if (!tok || strcmp(tok, sv->csrf))
			return send_error(c, 403, "missing or wrong X-CSRF-Token (from /api/session)");
	}
	json_error_t e;
	json_t *args = rq->len ? json_loadb(rq->body, rq->len, 0, &e) : json_object();
	if (!json_is_object(args)) {
		json_decref(args);
		return send_error(c, 400, "the body must be a JSON object of the tool's arguments");
	}
	json_t *schema = json_loads(t->input_schema, 0, NULL);
	pthread_mutex_lock(&sv->lock);
	int rc = tv_schema_check(schema, args, "arguments");
	json_t *result = NULL;
	char *summary = NULL;
	struct tv_mcp_opts mo = sv->o->mcp;
	struct tv_tool_ctx ctx = {.o = &mo, .s = sv->s};
	if (!rc)
		rc = t->run(&ctx, args, &result, &summary);
	json_t *out = rc ? json_pack("{s:s}", "error", tv_errmsg()) : result;
	pthread_mutex_unlock(&sv->lock);
	json_decref(schema);
	json_decref(args);
	if (summary && out)
		json_object_set_new(out, "summary", json_string(summary));
	free(summary);
	return send_json(c, rc ? (rc == -ENOENT ? 404 : 400) : 200, out);
}

static enum MHD_Result run_mcp(struct server *sv, struct MHD_Connection *c, struct request *rq)
{
	json_error_t e;
	json_t *msg = json_loadb(rq->body ? rq->body : "", rq->len, 0, &e);
	if (!msg)
		return send_json(c, 400,
				 tv_mcp_error(NULL, TV_JSONRPC_PARSE_ERROR, "Parse error: %s", e.text));
	struct tv_mcp_call call = {0};
	pthread_mutex_lock(&sv->lock);
	json_t *resp = tv_mcp_handle(sv->mcp, msg, &call);
	pthread_mutex_unlock(&sv->lock);
	json_decref(msg);
	if (!resp) /* a notification or a response: accepted, nothing to say */
		return send_buf(c, 202, "application/json", "", 0, MHD_RESPMEM_PERSISTENT);
	return send_json(c, 200, resp);
}

/* ---- downloads on a thread into a pipe ---- */

struct download {
	struct tv_mcp_opts mo;
	struct tv_tool_window w;
	char *nodes_text; /* owns the node names w points into */
	char filter[1400];
	bool har;
	FILE *out;
};

static void download_free(struct download *d)
{
	tv_tool_window_cleanup(&d->w);
	free(d->nodes_text);
	free(d);
}

static void *pcap_thread(void *arg)
{
	struct download *d = arg;
	struct tv_store *s = NULL;
	struct tv_window *win = NULL;
	struct tv_window_opts wo = {.prefix = d->mo.prefix,
				    .nodes = d->w.nodes,
				    .nnodes = d->w.nnodes,
				    .from = d->w.from,
				    .to = d->w.to,
				    .dedup_window_ns = 1000000};
	struct tv_export_opts eo = {
		.format = TV_FORMAT_PCAPNG, .filter = d->filter[0] ? d->filter : NULL, .stream = d->out};
	struct tv_window_stats st;
	if (tv_store_open(d->mo.store_url, 0, d->mo.store, &s) || tv_window_open(&win, s, &wo) ||
	    tv_export_window(win, &eo, &st, NULL))
		tv_warn("dashboard download: %s", tv_errmsg());
	tv_window_free(win);
	tv_store_free(s);
	fclose(d->out);
	download_free(d);
	return NULL;
}

static void *har_thread(void *arg)
{
	struct download *d = arg;
	struct tv_store *s = NULL;
	struct tv_window *win = NULL;
	struct tv_names *names = NULL;
	struct tv_dissect *ds = NULL;
	struct tv_window_opts wo = {.prefix = d->mo.prefix,
				    .nodes = d->w.nodes,
				    .nnodes = d->w.nnodes,
				    .from = d->w.from,
				    .to = d->w.to,
				    .dedup_window_ns = 1000000};
	int rc = tv_store_open(d->mo.store_url, 0, d->mo.store, &s);
	if (!rc)
		rc = tv_window_open(&win, s, &wo);
	if (!rc)
		rc = tv_names_new(&names);
	struct tv_dissect_opts o = {.out = d->out, .har = d->har, .names = names};
	if (!rc)
		rc = tv_dissect_open(&ds, &o);
	if (!rc) {
		tv_window_load_names(win, names);
		uint32_t nif;
		const struct tv_window_iface *ifs = tv_window_ifaces(win, &nif);
		struct tv_packet p;
		int r;
		while ((r = tv_window_next(win, &p)) != 0)
			if (r > 0)
				tv_dissect_packet(ds, ifs[p.ifindex].node, ifs[p.ifindex].iface.linktype,
						  p.ts_ns, p.data, p.caplen);
		tv_dissect_finish(ds);
	} else {
		tv_warn("dashboard download: %s", tv_errmsg());
	}
	tv_dissect_free(ds);
	tv_names_free(names);
	tv_window_free(win);
	tv_store_free(s);
	fclose(d->out);
	download_free(d);
	return NULL;
}

static int download_args(struct server *sv, struct MHD_Connection *c, struct download *d)
{
	json_t *args = json_object();
	const char *keys[] = {"from", "to"};
	for (size_t i = 0; i < 2; i++) {
		const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, keys[i]);
		if (v)
			json_object_set_new(args, keys[i], json_string(v));
	}
	const char *nodes = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "nodes");
	if (nodes && nodes[0]) {
		d->nodes_text = strdup(nodes);
		json_t *arr = json_array();
		for (char *save = NULL, *t = strtok_r(d->nodes_text, ",", &save); t;
		     t = strtok_r(NULL, ",", &save))
			json_array_append_new(arr, json_string(t));
		json_object_set_new(args, "nodes", arr);
	}
	d->mo = sv->o->mcp;
	struct tv_tool_ctx ctx = {.o = &d->mo, .s = sv->s};
	int rc = tv_tool_window(&ctx, args, d->mo.max_index_window_ns, &d->w);
	/* the node names must outlive args: point them into nodes_text */
	if (!rc && d->w.nnodes) {
		char *p = d->nodes_text;
		for (size_t i = 0; i < d->w.nnodes; i++) {
			d->w.nodes[i] = p;
			p += strlen(p) + 1;
		}
	}
	json_decref(args);
	const char *flow = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "flow");
	const char *filter = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "filter");
	if (!rc && flow) {
		struct tv_flow_key k;
		if (tv_flow_key_from_string(flow, &k))
			return tv_err(-EINVAL, "flow: not 'tcp|udp A:P > B:P'");
		char a[64], b[64];
		tv_flow_addr_format(&k, 0, a, sizeof(a));
		tv_flow_addr_format(&k, 1, b, sizeof(b));
		snprintf(d->filter, sizeof(d->filter),
			 "%s and ((src host %s and src port %u and dst host %s and dst port %u) or (src host "
			 "%s and src "
			 "port %u and dst host %s and dst port %u))",
			 k.proto == 6 ? "tcp" : "udp", a, k.sport, b, k.dport, b, k.dport, a, k.sport);
	} else if (!rc && filter) {
		snprintf(d->filter, sizeof(d->filter), "%s", filter);
	}
	return rc;
}

static enum MHD_Result start_download(struct server *sv, struct MHD_Connection *c, bool pcap)
{
	struct download *d = calloc(1, sizeof(*d));
	if (!d)
		return MHD_NO;
	if (download_args(sv, c, d)) {
		download_free(d);
		return send_error(c, 400, tv_errmsg());
	}
	const char *fmt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
	d->har = !pcap && fmt && !strcmp(fmt, "har");
	int fds[2];
	if (pipe2(fds, O_CLOEXEC)) {
		download_free(d);
		return send_error(c, 500, strerror(errno));
	}
	d->out = fdopen(fds[1], "w");
	struct MHD_Response *r = MHD_create_response_from_pipe(fds[0]);
	pthread_t t;
	if (!d->out || !r || pthread_create(&t, NULL, pcap ? pcap_thread : har_thread, d)) {
		if (d->out)
			fclose(d->out);
		else
			close(fds[1]);
		if (r)
			MHD_destroy_response(r);
		else
			close(fds[0]);
		download_free(d);
		return send_error(c, 500, "cannot start the download");
	}
	pthread_detach(t);
	char from[TV_RFC3339_LEN], disp[160];
	tv_format_rfc3339(d->w.from, from);
	for (char *p = from; *p; p++)
		if (*p == ':')
			*p = '-';
	snprintf(disp, sizeof(disp), "attachment; filename=\"tapvault-%.19s.%s\"", from,
		 pcap     ? "pcapng"
		 : d->har ? "har"
			  : "jsonl");
	MHD_add_response_header(r, "Content-Type",
				pcap ? "application/vnd.tcpdump.pcap" : "application/json");
	MHD_add_response_header(r, "Content-Disposition", disp);
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	enum MHD_Result rc = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return rc;
}

/* A snapshot's tar: fetched into an unlinked temporary file, sent from it. */
static enum MHD_Result send_snapshot(struct server *sv, struct MHD_Connection *c)
{
	const char *name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "name");
	char key[TV_KEY_MAX];
	if (!name || tv_snapshot_name_check(name) ||
	    tv_snapshot_key(sv->o->mcp.prefix, name, key, sizeof(key)))
		return send_error(c, 400, "name: not a snapshot name");
	char tmp[] = "/tmp/tapvault-serve.XXXXXX";
	int fd = mkstemp(tmp);
	if (fd < 0)
		return send_error(c, 500, strerror(errno));
	unlink(tmp);
	struct tv_buf b;
	tv_buf_init(&b, (size_t)1 << 36);
	pthread_mutex_lock(&sv->lock);
	int rc = tv_store_get(sv->s, key, &b);
	pthread_mutex_unlock(&sv->lock);
	if (rc || write(fd, b.data, b.len) != (ssize_t)b.len) {
		tv_buf_cleanup(&b);
		close(fd);
		return send_error(c, rc == -ENOENT ? 404 : 500,
				  rc == -ENOENT ? "no such snapshot" : tv_errmsg());
	}
	size_t len = b.len;
	tv_buf_cleanup(&b);
	struct MHD_Response *r = MHD_create_response_from_fd64(len, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	char disp[300];
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s.tar\"", name);
	MHD_add_response_header(r, "Content-Type", "application/x-tar");
	MHD_add_response_header(r, "Content-Disposition", disp);
	enum MHD_Result mr = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return mr;
}

/* ---- dispatch ---- */

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	(void)version;
	struct server *sv = cls;
	struct request *rq = *con_cls;
	if (!rq) {
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size) { /* body arriving */
		if (rq->len + *upload_size > MAX_BODY) {
			rq->too_big = true;
		} else {
			char *b = realloc(rq->body, rq->len + *upload_size + 1);
			if (!b)
				return MHD_NO;
			memcpy(b + rq->len, upload, *upload_size);
			rq->body = b;
			rq->len += *upload_size;
			rq->body[rq->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
	const struct tv_asset *a = get ? tv_asset_find(!strcmp(url, "/") ? "/index.html" : url) : NULL;
	if (a)
		return send_buf(c, 200, a->type, a->data, a->len, MHD_RESPMEM_PERSISTENT);
	if (strncmp(url, "/api/", 5) && strcmp(url, "/mcp"))
		return send_error(c, 404, "not found");
	if (!origin_ok(sv, c))
		return send_error(c, 403, "cross-origin request refused (Origin is not this server)");
	if (!authorized(sv, c))
		return send_error(
			c, 401, "a bearer token is required (Authorization: Bearer ..., from --token-file)");
	if (rq->too_big)
		return send_error(c, 413, "request body over 4 MiB");
	if (!strcmp(url, "/mcp"))
		return post ? run_mcp(sv, c, rq) : send_error(c, 405, "POST JSON-RPC messages to /mcp");
	if (get && !strcmp(url, "/api/session"))
		return send_json(c, 200,
				 json_pack("{s:s,s:b,s:s}", "version", TV_VERSION, "allow_write",
					   sv->o->mcp.allow_write, "csrf", sv->csrf));
	if (post && !strncmp(url, "/api/tool/", 10))
		return run_tool(sv, c, url + 10, rq);
	if (get && !strcmp(url, "/api/pcap"))
		return start_download(sv, c, true);
	if (get && !strcmp(url, "/api/entries"))
		return start_download(sv, c, false);
	if (get && !strcmp(url, "/api/snapshot"))
		return send_snapshot(sv, c);
	return send_error(c, 404, "not found");
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	(void)cls, (void)c, (void)t;
	struct request *rq = *con_cls;
	if (rq) {
		free(rq->body);
		free(rq);
	}
	*con_cls = NULL;
}

static int parse_listen(const char *text, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	if (!colon || (size_t)(colon - text) >= sizeof(host))
		return tv_err(-EINVAL, "--listen '%s': want ADDRESS:PORT (127.0.0.1:8080)", text);
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (*end || port < 0 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return tv_err(-EINVAL, "--listen '%s': want an IPv4 ADDRESS:PORT (127.0.0.1:8080)", text);
	return 0;
}

int tv_serve_run(const struct tv_serve_opts *given, void (*ready)(const char *url))
{
	struct tv_serve_opts opts = *given, *o = &opts;
	tv_mcp_opts_defaults(&opts.mcp);
	struct server sv = {.o = o};
	struct sockaddr_in sa;
	int rc = parse_listen(o->listen ? o->listen : "127.0.0.1:8080", &sa);
	if (rc)
		return rc;
	if (sa.sin_addr.s_addr != htonl(INADDR_LOOPBACK) && !o->token)
		return tv_err(-EPERM,
			      "--listen %s is not loopback: give --token-file so that only holders of the "
			      "token can read the archive",
			      o->listen);
	uint8_t rnd[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd)) {
		if (fd >= 0)
			close(fd);
		return tv_err(-EIO, "cannot read /dev/urandom for the CSRF token");
	}
	close(fd);
	tv_hex(rnd, sizeof(rnd), sv.csrf);
	if ((rc = tv_mcp_new(&sv.mcp, &o->mcp)) ||
	    (rc = tv_store_open(o->mcp.store_url, 0, o->mcp.store, &sv.s))) {
		tv_mcp_free(sv.mcp);
		return rc;
	}
	pthread_mutex_init(&sv.lock, NULL);
	signal(SIGPIPE, SIG_IGN); /* a download whose client went away: its writes fail, no signal */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0, NULL,
		NULL, handle, &sv, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300, MHD_OPTION_END);
	if (!d) {
		rc = tv_err(-EADDRINUSE, "cannot listen on %s (in use, or not an address of this host)",
			    o->listen ? o->listen : "127.0.0.1:8080");
	} else {
		const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		char addr[INET_ADDRSTRLEN], url[sizeof(sv.host) + 16];
		inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof(addr));
		snprintf(sv.host, sizeof(sv.host), "%s:%u", addr, info ? info->port : ntohs(sa.sin_port));
		snprintf(url, sizeof(url), "http://%s/", sv.host);
		if (ready)
			ready(url);
		int sig;
		sigwait(&sigs, &sig);
		MHD_stop_daemon(d);
	}
	pthread_mutex_destroy(&sv.lock);
	tv_store_free(sv.s);
	tv_mcp_free(sv.mcp);
	return rc;
}
