/* SPDX-License-Identifier: Apache-2.0 */
/* events: the segment's events file (`STEM.events.jsonl.zst`).
 *
 * JSON Lines in zstd frames (each frame whole lines, content size and checksum
 * set). The first record is always a "state" record: every Kubernetes object and
 * known socket at the segment's start, so a segment is interpretable on its own.
 * Then "k8s" and "os" records in time order. Schema: docs/FORMAT.md. */
#ifndef TV_EVENTS_H
#define TV_EVENTS_H

#include <jansson.h>
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

/* A pod, service, endpoints or namespace. Strings are borrowed. */
struct tv_k8s_object {
	const char *kind; /* "pod", "service", "endpoints", "namespace" */
	const char *name;
	const char *namespace_; /* NULL for namespaces */
	const char *node;       /* pods only, may be NULL */
	const char *const *ips;
	size_t nips;
	const struct tv_k8s_port *ports;
	size_t nports;
	const struct tv_label *labels;
	size_t nlabels;
};

/* A process/socket event from eBPF. Strings are borrowed. */
struct tv_os_event {
	uint64_t ts_ns;
	const char *event; /* "connect", "accept", "close", "exec", "exit", ... */
	uint32_t pid;
	const char *comm;
	uint64_t cgroup_id;
	const char *container_id; /* may be NULL */
	struct tv_flow_key flow;  /* family TV_FLOW_OTHER when no socket is involved */
};

struct tv_events_writer;

/* Creates path and writes the state record. @return 0 or negative errno. */
int tv_events_writer_open(struct tv_events_writer **out, const char *path, uint64_t ts_ns,
			  const struct tv_k8s_object *objects, size_t nobjects,
			  const struct tv_os_event *sockets, size_t nsockets);
int tv_events_write_k8s(struct tv_events_writer *w, uint64_t ts_ns, enum tv_k8s_action action,
			const struct tv_k8s_object *obj);
int tv_events_write_os(struct tv_events_writer *w, const struct tv_os_event *ev);
/* Writes pending lines as a frame (call at least once a second). */
int tv_events_writer_flush(struct tv_events_writer *w);
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
