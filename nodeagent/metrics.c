/* SPDX-License-Identifier: Apache-2.0 */
/* metrics: see metrics.h. */
#include "nodeagent/metrics.h"

#include <stdatomic.h>
#include <stdio.h>

#include "archive/pcapng.h"
#include "nodeagent/os_layer.h"
#include "nodeagent/tap.h"

#include "archive/common/prom.h"
#include "archive/common/timeutil.h"
#include "nodeagent/k8s_watch.h"

static void per_iface_kind(struct tv_buf *o, struct tv_agent_metrics *m, const char *name, const char *help,
			   const char *kind, _Atomic uint64_t *v)
{
	tv_prom_header(o, name, help, kind);
	for (uint32_t i = 0; i < m->niface; i++)
		tv_prom_sample(o, name, "interface", m->iface_names[i], atomic_load(&v[i]));
}

static void per_iface(struct tv_buf *o, struct tv_agent_metrics *m, const char *name, const char *help,
		      _Atomic uint64_t *v)
{
	per_iface_kind(o, m, name, help, "counter", v);
}

void tv_metrics_set_interfaces(struct tv_agent_metrics *m, const struct tv_iface *v, uint32_t n)
{
	pthread_mutex_lock(&m->iface_lock);
	for (uint32_t i = 0; i < n; i++)
		snprintf(m->iface_names[i], sizeof(m->iface_names[i]), "%s", v[i].name);
	m->niface = n;
	pthread_mutex_unlock(&m->iface_lock);
}

static void move(_Atomic uint64_t *v, const int32_t *from, uint32_t n)
{
	uint64_t t[TV_AGENT_MAX_IFACES];
	for (uint32_t j = 0; j < n; j++)
		t[j] = from[j] >= 0 ? atomic_load(&v[from[j]]) : 0;
	for (uint32_t j = 0; j < n; j++)
		atomic_store(&v[j], t[j]);
}

void tv_metrics_move_interfaces(struct tv_agent_metrics *m, const int32_t *moved_from, uint32_t n)
{
	pthread_mutex_lock(&m->iface_lock);
	_Atomic uint64_t *all[] = {m->packets,  m->bytes,      m->kernel_drops,  m->iface_drops,
				   m->iface_up, m->iface_lost, m->iface_reopened};
	for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
		move(all[k], moved_from, n);
	pthread_mutex_unlock(&m->iface_lock);
}

static void render_tap(struct tv_agent_metrics *m, struct tv_buf *o)
{
	if (!m->tap)
		return;
	struct tv_tap_stats st;
	tv_tap_get_stats(m->tap, &st);
	tv_prom_gauge(o, "tapvault_tap_pods_matched", "Pods of this node in the capture scope.",
		      (double)st.pods_matched);
	tv_prom_gauge(o, "tapvault_tap_interfaces", "Interfaces captured.", (double)st.interfaces);
	tv_prom_gauge(o, "tapvault_tap_filtering",
		      "1 while tap.regex/namespaces/excludedNamespaces narrow it.", st.filtering);
	tv_prom_counter(o, "tapvault_tap_scope_changes_total",
			"Capture scopes applied (pods, links, reloads).", st.applied);
}

void tv_metrics_render(struct tv_agent_metrics *m, const struct tv_buffer_stats *bs, uint64_t cap,
		       struct tv_buf *o)
{
	pthread_mutex_lock(&m->iface_lock);
	per_iface(o, m, "tapvault_packets_total", "Packets captured.", m->packets);
	per_iface(o, m, "tapvault_bytes_total", "Captured bytes.", m->bytes);
	per_iface(o, m, "tapvault_kernel_drops_total", "Packets the kernel dropped (ring full).",
		  m->kernel_drops);
	per_iface(o, m, "tapvault_interface_drops_total", "Packets the interface dropped.", m->iface_drops);
	per_iface_kind(o, m, "tapvault_interface_up", "1 while capturing, 0 while lost and being reopened.",
		       "gauge", m->iface_up);
	per_iface(o, m, "tapvault_interface_lost_total", "Times the interface failed (deleted, set down).",
		  m->iface_lost);
	per_iface(o, m, "tapvault_interface_reopened_total", "Times a lost interface was captured again.",
		  m->iface_reopened);
	pthread_mutex_unlock(&m->iface_lock);
	render_tap(m, o);
	tv_prom_counter(o, "tapvault_segments_sealed_total", "Segments sealed into the buffer.", bs->sealed);
	tv_prom_counter(o, "tapvault_segments_recycled_total", "Uploaded segments removed to make room.",
			bs->recycled);
	tv_prom_counter(o, "tapvault_segments_lost_total", "Segments removed before upload to keep the cap.",
			bs->lost);
	tv_prom_counter(o, "tapvault_segments_salvaged_total", "Open segments recovered after a crash.",
			bs->salvaged);
	tv_prom_counter(o, "tapvault_segments_corrupt_total", "Open segments with nothing recoverable.",
			bs->corrupt);
	tv_prom_gauge(o, "tapvault_buffer_bytes", "Bytes of sealed segments in the buffer.",
		      (double)bs->sealed_bytes);
	tv_prom_gauge(o, "tapvault_buffer_segments", "Sealed segments in the buffer.", (double)bs->segments);
	tv_prom_gauge(o, "tapvault_buffer_cap_bytes", "tap.capture.raw.storageSize.", (double)cap);
	uint64_t depth = 0;
	for (unsigned i = 0; i < TV_AGENT_MAX_STREAMS; i++)
		depth += atomic_load(&m->queue_depth[i]);
	tv_prom_gauge(o, "tapvault_writer_queue_depth", "Chunks waiting for the writers (every stream).",
		      (double)depth);
	tv_prom_gauge(o, "tapvault_seals_pending",
		      "Segments written and being flushed to disk before sealing.",
		      (double)atomic_load(&m->seals_pending));
	uint64_t raw = atomic_load(&m->raw_bytes), comp = atomic_load(&m->compressed_bytes);
	tv_prom_gauge(o, "tapvault_compression_ratio", "pcapng bytes per stored byte, sealed segments.",
		      comp ? (double)raw / (double)comp : 0);
	tv_prom_counter(o, "tapvault_write_errors_total", "Segment write failures (disk full, I/O).",
			atomic_load(&m->write_errors));
	tv_prom_counter(o, "tapvault_packets_lost_to_errors_total", "Packets dropped by write failures.",
			atomic_load(&m->packets_lost_to_errors));
	tv_prom_gauge(o, "tapvault_zstd_level",
		      "zstd level in use (lowered while the writer has a backlog; 0: store-only frames).",
		      (double)atomic_load(&m->zstd_level));
	tv_prom_counter(o, "tapvault_store_only_spells_total",
			"Times a backlog of over a second made the writer store frames uncompressed.",
			atomic_load(&m->store_only_spells));
	tv_prom_gauge(o, "tapvault_capture_paused", "1 while tap.capture.stopped is true.",
		      (double)atomic_load(&m->paused));
}

void tv_metrics_render_k8s(struct tv_k8s_watch *w, struct tv_buf *o)
{
	if (!w)
		return;
	struct tv_k8s_watch_resource_stats st[8];
	size_t n = tv_k8s_watch_stats(w, st, 8);
	static const struct {
		const char *name, *help, *kind;
	} m[] = {
		{"tapvault_k8s_watching", "1 while the resource's watch stream is open.", "gauge"},
		{"tapvault_k8s_lists_total", "Complete LISTs (the first and every relist).", "counter"},
		{"tapvault_k8s_relists_410_total", "Relists because the server expired the watch (410).",
		 "counter"},
		{"tapvault_k8s_errors_total", "Failed requests and unreadable events, retried with backoff.",
		 "counter"},
		{"tapvault_k8s_events_total", "Changes received (watch events and relist differences).",
		 "counter"},
		{"tapvault_k8s_objects", "Objects cached.", "gauge"},
		{"tapvault_k8s_last_event_age_seconds",
		 "Whole seconds since the resource's last change (0: none yet).", "gauge"},
	};
	uint64_t now = tv_now_ns();
	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		tv_prom_header(o, m[k].name, m[k].help, m[k].kind);
		for (size_t i = 0; i < n; i++) {
			uint64_t age = st[i].last_event_ns && now > st[i].last_event_ns
					       ? (now - st[i].last_event_ns) / 1000000000ULL
					       : 0;
			uint64_t v[] = {
				st[i].watching, st[i].lists, st[i].relists_410, st[i].errors, st[i].events,
				st[i].cached,   age};
			tv_prom_sample(o, m[k].name, "resource", st[i].resource, v[k]);
		}
	}
	tv_prom_counter(
		o, "tapvault_k8s_records_dropped_total",
		"Kubernetes records dropped because the writer fell behind (the next state record has them).",
		tv_k8s_watch_dropped(w));
	uint64_t skipped, truncated;
	tv_k8s_watch_bad_input(w, &skipped, &truncated);
	tv_prom_counter(o, "tapvault_k8s_objects_skipped_total",
			"Kubernetes objects not understood (or too large even cut), skipped.", skipped);
	tv_prom_counter(o, "tapvault_k8s_objects_truncated_total",
			"Kubernetes objects over 64 KiB, recorded without labels and with long lists cut.",
			truncated);
}

void tv_metrics_render_os(struct tv_os_layer *l, struct tv_buf *o)
{
	struct tv_os_layer_stats st;
	tv_os_layer_get_stats(l, &st);
	tv_prom_gauge(o, "tapvault_os_layer_enabled",
		      "1 while the eBPF OS layer runs (process context of connections); 0: off, see the log.",
		      st.enabled ? 1 : 0);
	tv_prom_counter(o, "tapvault_os_records_total",
			"OS records (connect, accept, close, exec, exit) written.", st.records);
	tv_prom_counter(o, "tapvault_os_ring_drops_total",
			"OS records the kernel could not queue (BPF ring buffer full).", st.ring_drops);
	tv_prom_counter(o, "tapvault_os_unattributed_total",
			"Connections whose process the OS layer had not seen (older than the agent).",
			st.unattributed);
	tv_prom_counter(o, "tapvault_os_queue_drops_total",
			"OS records dropped because the writer did not take them.", st.queue_drops);
}
