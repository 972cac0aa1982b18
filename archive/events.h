/* SPDX-License-Identifier: Apache-2.0 */
/* events: the segment's events file (`STEM.events.jsonl.zst`).
 *
 * JSON Lines in zstd frames (each frame whole lines, content size and checksum
 * set). The first record is always a "state" record: every Kubernetes object and
 * known socket at the segment's start, so a segment is interpretable on its own.
 * Then "k8s", "sync" and "os" records in time order. Schema: docs/FORMAT.md §4. */
#ifndef TV_EVENTS_H
#define TV_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/common/buf.h"
#include "archive/flow.h"

#define TV_EVENTS_MAX_LINE ((size_t)1 << 20)

enum tv_k8s_action {
	TV_K8S_ADDED,
	TV_K8S_UPDATED,
	TV_K8S_DELETED
};

struct tv_k8s_port {
	const char *name; /* may be NULL */
	uint16_t port;
	const char *protocol; /* "TCP", "UDP", "SCTP" */
};

struct tv_label {
	const char *key, *value;
};

/* One address of an EndpointSlice. */
struct tv_k8s_endpoint {
	const char *ip;
	const char *pod, *pod_namespace; /* targetRef of kind Pod; NULL: none */
	int ready;                       /* conditions.ready: 1, 0, or -1 unknown */
};

/* A pod, service, endpoints, endpointslice, namespace or node. Strings are
 * borrowed; every field after `labels` is optional (NULL / 0 / -1: absent). */
struct tv_k8s_object {
	const char *kind; /* "pod", "service", "endpoints", "endpointslice", "namespace", "node" */
	const char *name;
	const char *namespace_; /* NULL for namespaces and nodes */
	const char *node;       /* pods only, may be NULL */
	const char *const *ips; /* nodes: their addresses */
	size_t nips;
	const struct tv_k8s_port *ports;
	size_t nports;
	const struct tv_label *labels;
	size_t nlabels;
	const char *uid;
	/* pods */
	const char *workload_kind,
		*workload_name; /* the controlling workload: Deployment web, not its ReplicaSet */
	int host_network;       /* 1: on the node's network (its IP names the node) */
	const char *phase, *qos;
	const char *const *containers;      /* container ids, "containerd://..." */
	const char *const *container_names; /* their names in the pod (NULL: not known) */
	size_t ncontainers;
	/* services */
	const char *service_type;
	const char *const *external_ips; /* externalIPs and load-balancer ingress IPs */
	size_t nexternal_ips;
	/* endpointslices */
	const char *service; /* kubernetes.io/service-name */
	const struct tv_k8s_endpoint *endpoints;
	size_t nendpoints;
	/* nodes */
	const char *const *pod_cidrs;
	size_t npod_cidrs;
};

/* Identity was uncertain for `resource` from from_ns to to_ns (a relist, or
 * the start of watching): a reader tells "unknown" from "nobody". */
struct tv_k8s_sync {
	uint64_t ts_ns, from_ns, to_ns;
	const char *resource; /* "pods", "services", ... */
	const char *why;      /* "start", "relist" */
};

/* A process/socket event from eBPF. Strings are borrowed. */
struct tv_os_event {
	uint64_t ts_ns;
	const char *event; /* "connect", "accept", "close", "exec", "exit", ... */
	uint32_t pid;      /* the process (thread group) */
	uint32_t tid;      /* the thread that made the call (0: not known) */
	const char *comm;
	const char *exe; /* the executable's path; NULL or "": not known */
	uint64_t cgroup_id;
	const char *container_id; /* may be NULL */
	const char *pod_uid;      /* may be NULL */
	uint32_t netns;           /* the socket's network namespace inode (0: not known) */
	uint64_t socket;          /* a UDP socket's cookie (0: none) */
	struct tv_flow_key flow;  /* family TV_FLOW_OTHER when no socket is involved */
};

struct tv_events_writer;

/* Creates path and writes the state record. @return 0 or negative errno. */
int tv_events_writer_open(struct tv_events_writer **out, const char *path, uint64_t ts_ns,
			  const struct tv_k8s_object *objects, size_t nobjects,
			  const struct tv_os_event *sockets, size_t nsockets);
/* The same with the objects as events OBJECT JSON (tv_events_object_json)
 * and the live sockets as SOCKET JSON text (an os record without "type",
 * one per line: `{` + what follows tv_events_format_os's body), spread
 * over as many state records as their size needs: the first, then ones with
 * "continued":true (FORMAT.md §4). Both borrowed; NULL: none. */
int tv_events_writer_open_state(struct tv_events_writer **out, const char *path, uint64_t ts_ns,
				const json_t *objects, const struct tv_buf *sockets);
/* An object as the events file writes it (a new reference). */
json_t *tv_events_object_json(const struct tv_k8s_object *o);
/* One record already built (k8s, sync or os), validated first. Steals rec. */
int tv_events_write_json(struct tv_events_writer *w, json_t *rec);
int tv_events_write_k8s(struct tv_events_writer *w, uint64_t ts_ns, enum tv_k8s_action action,
			const struct tv_k8s_object *obj);
/* The same, for a change seen only by comparing a relist with what was known
 * (at_relist: ts is the relist's, the change's own time is unknown). */
int tv_events_write_k8s_seen(struct tv_events_writer *w, uint64_t ts_ns, enum tv_k8s_action action,
			     const struct tv_k8s_object *obj, bool at_relist);
int tv_events_write_os(struct tv_events_writer *w, const struct tv_os_event *ev);
/* Appends ev's `os` record as one JSON line ('\n' included) to out, for a
 * writer on another thread (tv_events_write_lines). *body (may be NULL) receives the offset in out
 * where the fields start (after `{"type":"os",`): `{` + the rest up to the
 * newline is the record as a state's SOCKET. @return 0, -ENOMEM, -EFBIG. */
int tv_events_format_os(const struct tv_os_event *ev, struct tv_buf *out, size_t *body);
/* Appends whole records already formatted (lines of tv_events_format_os),
 * trusted as they are. */
int tv_events_write_lines(struct tv_events_writer *w, const void *lines, size_t n);
int tv_events_write_sync(struct tv_events_writer *w, const struct tv_k8s_sync *s);
/* Writes pending lines as a frame (call at least once a second). */
int tv_events_writer_flush(struct tv_events_writer *w);
/* Points a closed writer at a new file as tv_events_writer_open_state does,
 * keeping its zstd context and buffers (no allocation per segment). On
 * failure the writer may only be freed or recycled again. */
int tv_events_writer_recycle_state(struct tv_events_writer *w, const char *path, uint64_t ts_ns,
				   const json_t *objects, const struct tv_buf *sockets);
/* tv_events_writer_close without the fsync: the caller syncs the file
 * before publishing it (the agent's sealer). */
int tv_events_writer_close_unsynced(struct tv_events_writer *w);
/* Flushes, fsyncs, closes. @return 0 or negative errno. */
int tv_events_writer_close(struct tv_events_writer *w);
void tv_events_writer_free(struct tv_events_writer *w);

/* Reads records back, validating each against the schema. */
struct tv_events_reader;
int tv_events_reader_open(struct tv_events_reader **out, const uint8_t *data, size_t len, const char *what);
/* @return 1 with *rec set (a new reference the caller must json_decref), 0 at
 * the end, or TV_ECORRUPT naming the line (the reader cannot continue). */
int tv_events_reader_next(struct tv_events_reader *r, json_t **rec);
void tv_events_reader_free(struct tv_events_reader *r);

/* Validates one record against the schema. @return 0 or -EINVAL with the reason in why. */
int tv_events_validate(const json_t *rec, char *why, size_t n);

#endif
