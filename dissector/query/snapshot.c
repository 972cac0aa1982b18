/* SPDX-License-Identifier: Apache-2.0 */
/* snapshot: see snapshot.h. */
#include "dissector/query/snapshot.h"

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/common/sha256.h"
#include "archive/common/timeutil.h"
#include "archive/keys.h"
#include "archive/names.h"
#include "archive/segment.h"
#include "dissector/query/catalog.h"
#include "dissector/query/snapshot_list.h"

int tv_snapshot_name_check(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 200 || name[0] == '.' || strchr(name, '/'))
		return tv_err(-EINVAL,
			      "snapshot name '%.60s': 1-200 characters, no '/', not starting with '.'", name);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return tv_err(-EINVAL, "snapshot name has a control character");
	return 0;
}

int tv_snapshot_prefix(const char *prefix, char *out, size_t n)
{
	size_t len = strlen(prefix);
	int m = snprintf(out, n, "%s%sv1/snapshots/", prefix, len && prefix[len - 1] != '/' ? "/" : "");
	return m < 0 || (size_t)m >= n ? -ENAMETOOLONG : 0;
}

int tv_snapshot_key(const char *prefix, const char *name, char *out, size_t n)
{
	if (tv_snapshot_prefix(prefix, out, n))
		return -ENAMETOOLONG;
	size_t used = strlen(out);
	int m = snprintf(out + used, n - used, "%s.tar", name);
	return m < 0 || (size_t)m >= n - used ? -ENAMETOOLONG : 0;
}

struct builder {
	struct tv_store *s;
	const struct tv_snapshot_opts *o;
	struct archive *ar;
	json_t *members, *links, *nodes, *identities;
	struct tv_names *names; /* from the segments' events, for the manifest's identities */
	struct tv_snapshot_stats *st;
	int rc;
};

static int add_member(struct builder *b, const char *path, const void *data, size_t len)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, (time_t)(tv_now_ns() / TV_NS_PER_SEC), 0);
	int rc = archive_write_header(b->ar, e) == ARCHIVE_OK &&
				 (len == 0 || archive_write_data(b->ar, data, len) == (la_ssize_t)len)
			 ? 0
			 : tv_err(-EIO, "snapshot tar: %s", archive_error_string(b->ar));
	archive_entry_free(e);
	if (rc)
		return rc;
	uint8_t sha[TV_SHA256_LEN];
	char hex[TV_SHA256_HEX_LEN];
	tv_sha256(data, len, sha);
	tv_hex(sha, TV_SHA256_LEN, hex);
	json_array_append_new(
		b->members, json_pack("{s:s,s:s,s:I}", "path", path, "sha256", hex, "size", (json_int_t)len));
	b->st->bytes += len;
	return 0;
}

/* The source's own index, signed by its node, as evidence/KEY: what proves
 * offline that the frames kept are the node's (each frame's SHA-256 is in it). */
static int add_evidence(struct builder *b, const char *index_key)
{
	struct tv_buf raw;
	tv_buf_init(&raw, TV_INDEX_MAX_BYTES);
	char path[TV_KEY_MAX + 16];
	snprintf(path, sizeof(path), "%s%s", TV_SNAPSHOT_EVIDENCE, index_key);
	int rc = tv_store_get(b->s, index_key, &raw);
	if (!rc)
		rc = add_member(b, path, raw.data, raw.len);
	tv_buf_cleanup(&raw);
	return rc;
}

struct copy_ctx {
	struct builder *b;
	uint64_t from, to; /* checkpoints: those of the window and the first after it */
	bool after_taken;
	int rc;
};

static int copy_object(void *ctx, const struct tv_store_entry *e)
{
	struct copy_ctx *c = ctx;
	if (c->to) {
		const char *name = strrchr(e->key, '/');
		uint64_t t = name ? strtoull(name + 1, NULL, 10) : 0;
		if (t < c->from || (t >= c->to && c->after_taken))
			return 0;
		if (t >= c->to)
			c->after_taken = true;
	}
	struct tv_buf data;
	tv_buf_init(&data, 1 << 20);
	int rc = tv_store_get(c->b->s, e->key, &data);
	if (!rc)
		rc = add_member(c->b, e->key, data.data, data.len);
	tv_buf_cleanup(&data);
	if (rc && !c->rc)
		c->rc = rc;
	return 0;
}

/* A node's keys and the checkpoints around the window, under their keys. */
static int add_node_evidence(struct builder *b, const char *node)
{
	char prefix[TV_KEY_MAX];
	struct copy_ctx keys = {.b = b};
	if (tv_key_keys_prefix(prefix, sizeof(prefix), b->o->prefix, node))
		return tv_err(-ENAMETOOLONG, "prefix too long");
	int rc = tv_store_each(b->s, prefix, copy_object, &keys);
	struct copy_ctx cps = {.b = b, .from = b->o->from, .to = b->o->to};
	if (!rc && !keys.rc && !tv_key_checkpoints_prefix(prefix, sizeof(prefix), b->o->prefix, node))
		rc = tv_store_each(b->s, prefix, copy_object, &cps);
	return rc ? rc : keys.rc ? keys.rc : cps.rc;
}

/* Frame 0 and every frame overlapping the window, fetched with ranged reads. */
static int repack(struct builder *b, const char *data_key, const struct tv_index *idx, struct tv_buf *out)
{
	struct tv_buf part;
	tv_buf_init(&part, TV_FRAME_COMP_MAX);
	int rc = 0;
	for (uint32_t i = 0; !rc && i < idx->nframes; i++) {
		const struct tv_frame_entry *f = &idx->frames[i];
		if (i != 0 && !tv_frame_overlaps(f, b->o->from, b->o->to))
			continue;
		rc = tv_store_get_range(b->s, data_key, f->offset, f->comp_size, &part);
		if (!rc)
			rc = tv_buf_append(out, part.data, part.len);
		if (i)
			b->st->frames++;
	}
	tv_buf_cleanup(&part);
	return rc;
}

static json_t *hexj(const uint8_t *sha)
{
	char hex[TV_SHA256_HEX_LEN];
	tv_hex(sha, TV_SHA256_LEN, hex);
	return json_string(hex);
}

static int add_segment(struct builder *b, const char *index_key)
{
	struct tv_index idx, fresh;
	uint8_t isha[TV_SHA256_LEN];
	int rc = tv_catalog_load_index(b->s, index_key, &idx, isha, NULL);
	if (rc)
		return rc;
	/* with packets in the window, or quiet in it: its events still say who
	 * held an address then */
	bool packets_in = idx.packets && idx.ts_max >= b->o->from && idx.ts_min < b->o->to;
	bool quiet_in = idx.events_size && idx.start_ns < b->o->to && idx.end_ns > b->o->from;
	if (!packets_in && !quiet_in) {
		tv_index_cleanup(&idx);
		return 0;
	}
	char data_key[TV_KEY_MAX + 32], events_key[TV_KEY_MAX + 32];
	tv_key_sibling(index_key, TV_KEY_SUFFIX_DATA, data_key, sizeof(data_key));
	tv_key_sibling(index_key, TV_KEY_SUFFIX_EVENTS, events_key, sizeof(events_key));
	struct tv_buf data, events, enc;
	tv_buf_init(&data, 0);
	tv_buf_init(&events, 0);
	tv_buf_init(&enc, TV_INDEX_MAX_BYTES);
	memset(&fresh, 0, sizeof(fresh));
	rc = repack(b, data_key, &idx, &data);
	struct tv_scan_result res;
	struct tv_mem_source src = {data.data, data.len};
	if (!rc)
		rc = tv_seg_reindex(tv_mem_read_at, &src, data.len, data_key, NULL, &fresh, &res);
	if (!rc && res.torn)
		rc = tv_err(TV_ECORRUPT, "%s: %s", data_key, res.reason);
	if (!rc && idx.events_size) {
		rc = tv_store_get(b->s, events_key, &events);
		if (!rc) {
			fresh.events_size = events.len;
			tv_sha256(events.data, events.len, fresh.events_sha);
		}
	}
	if (!rc) {
		/* keep the source's identity; its drops and span are the source's too */
		fresh.start_ns = idx.start_ns;
		fresh.end_ns = idx.end_ns;
		rc = tv_index_encode(&fresh, &enc);
	}
	if (!rc)
		rc = add_member(b, data_key, data.data, data.len);
	if (!rc && idx.events_size)
		rc = add_member(b, events_key, events.data, events.len);
	if (!rc && idx.events_size && tv_names_add_events(b->names, events.data, events.len, events_key)) {
		char what[600]; /* copied as it is; only the manifest's identities lack it */
		snprintf(what, sizeof(what), "%s (not in the manifest's identities)", tv_errmsg());
		tv_report_skipped(b->o->report, what);
	}
	if (!rc)
		rc = add_member(b, index_key, enc.data, enc.len);
	if (!rc)
		rc = add_evidence(b, index_key);
	if (!rc) {
		json_array_append_new(b->links, json_pack("{s:s,s:I,s:o,s:o}", "node", idx.node, "seq",
							  (json_int_t)idx.seq, "index_sha256", hexj(isha),
							  "prev_index_sha256", hexj(idx.prev_sha)));
		b->st->segments++;
		tv_report_progress(b->o->report, b->st->segments, 0, b->st->bytes);
	}
	tv_buf_cleanup(&data);
	tv_buf_cleanup(&events);
	tv_buf_cleanup(&enc);
	tv_index_cleanup(&fresh);
	tv_index_cleanup(&idx);
	return rc;
}

static int on_index(void *ctx, const char *key)
{
	return add_segment(ctx, key);
}

static int on_node(void *ctx, const char *node)
{
	struct builder *b = ctx;
	json_array_append_new(b->nodes, json_string(node));
	uint64_t before = b->st->segments;
	int rc = tv_catalog_indexes(b->s, b->o->prefix, node, b->o->from, b->o->to, on_index, b);
	if (!rc && b->st->segments > before)
		rc = add_node_evidence(b, node);
	return rc;
}

/* One holding that overlaps the window, clipped to it, as
 * {ip, kind, name, namespace, node?, workload?, from, to}. */
static int add_identity(void *ctx, uint8_t family, const uint8_t addr[16], const struct tv_name *v,
			uint64_t from, uint64_t to)
{
	struct builder *b = ctx;
	uint64_t lo = from > b->o->from ? from : b->o->from, hi = to < b->o->to ? to : b->o->to;
	if (lo >= hi)
		return 0;
	char ip[INET6_ADDRSTRLEN], f[TV_RFC3339_LEN], t[TV_RFC3339_LEN];
	inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, ip, sizeof(ip));
	tv_format_rfc3339(lo, f);
	tv_format_rfc3339(hi, t);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s}", "ip", ip, "kind", v->kind, "name", v->name, "from", f,
			      "to", t);
	if (v->ns[0])
		json_object_set_new(j, "namespace", json_string(v->ns));
	if (v->node && v->node[0])
		json_object_set_new(j, "node", json_string(v->node));
	if (v->workload)
		json_object_set_new(j, "workload",
				    json_pack("{s:s,s:s}", "kind", v->workload_kind ? v->workload_kind : "",
					      "name", v->workload));
	return json_array_append_new(b->identities, j) ? -ENOMEM : 0;
}

static int by_ip_then_from(const void *x, const void *y)
{
	const json_t *a = *(json_t *const *)x, *c = *(json_t *const *)y;
	int d = strcmp(json_string_value(json_object_get(a, "ip")),
		       json_string_value(json_object_get(c, "ip")));
	return d ? d
		 : strcmp(json_string_value(json_object_get(a, "from")),
			  json_string_value(json_object_get(c, "from")));
}

/* Who held each address over the window, sorted, for readers that do not
 * replay the events themselves (the events files are in the snapshot too). */
static json_t *identities(struct builder *b)
{
	b->identities = json_array();
	if (!b->identities || tv_names_each_holding(b->names, add_identity, b))
		return b->identities;
	size_t n = json_array_size(b->identities);
	json_t **v = calloc(n ? n : 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++)
		v[i] = json_incref(json_array_get(b->identities, i));
	if (v) {
		qsort(v, n, sizeof(*v), by_ip_then_from);
		json_array_clear(b->identities);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(b->identities, v[i]);
	}
	free(v);
	return b->identities;
}

static int write_manifest(struct builder *b)
{
	char from[TV_RFC3339_LEN], to[TV_RFC3339_LEN], now[TV_RFC3339_LEN];
	tv_format_rfc3339(b->o->from, from);
	tv_format_rfc3339(b->o->to, to);
	tv_format_rfc3339(tv_now_ns(), now);
	json_t *m = json_pack("{s:s,s:i,s:{s:s,s:s,s:I,s:I},s:O,s:s,s:s,s:O,s:O,s:o}", "name", b->o->name,
			      "format", 1, "window", "from", from, "to", to, "from_ns",
			      (json_int_t)b->o->from, "to_ns", (json_int_t)b->o->to, "nodes", b->nodes,
			      "tool_version", "tapvault " TV_VERSION, "created", now, "members", b->members,
			      "chain", b->links, "identities", identities(b));
	char *text = json_dumps(m, JSON_INDENT(2));
	json_decref(m);
	if (!text)
		return -ENOMEM;
	struct archive_entry *e = archive_entry_new();
	size_t n = strlen(text);
	archive_entry_set_pathname(e, "manifest.json");
	archive_entry_set_size(e, (la_int64_t)n);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	int rc = archive_write_header(b->ar, e) == ARCHIVE_OK &&
				 archive_write_data(b->ar, text, n) == (la_ssize_t)n
			 ? 0
			 : tv_err(-EIO, "snapshot tar: %s", archive_error_string(b->ar));
	archive_entry_free(e);
	free(text);
	return rc;
}

int tv_snapshot_create(struct tv_store *s, const struct tv_snapshot_opts *o, struct tv_snapshot_stats *st)
{
	memset(st, 0, sizeof(*st));
	char key[TV_KEY_MAX];
	int rc = tv_snapshot_name_check(o->name);
	if (rc)
		return rc;
	if (tv_snapshot_key(o->prefix, o->name, key, sizeof(key)))
		return tv_err(-ENAMETOOLONG, "snapshot key too long");
	struct tv_store_entry existing;
	if (tv_store_head(s, key, &existing) == 0) {
		free(existing.key);
		return tv_err(-EEXIST, "snapshot '%s' exists; snapshots are never overwritten", o->name);
	}
	if ((o->retention || o->legal_hold) && (rc = tv_store_object_lock(s)) != 1)
		return rc < 0 ? rc
			      : tv_err(-ENOTSUP,
				       "%s has no S3 Object Lock: retention needs a bucket created with it "
				       "(aws s3api create-bucket --object-lock-enabled-for-bucket)",
				       s->url);
	/* the listing's row, before the (long) build: "creating" */
	uint64_t created = tv_now_ns();
	struct tv_snapshot_meta meta = {
		.name = o->name, .status = "creating", .from = o->from, .to = o->to, .created_ns = created};
	if ((rc = tv_snapshot_meta_put(s, o->prefix, &meta)) != 0)
		return rc;
	const char *tmpdir = getenv("TMPDIR");
	char tmp[512];
	snprintf(tmp, sizeof(tmp), "%s/tapvault-snapshot.XXXXXX",
		 tmpdir && strlen(tmpdir) < 400 ? tmpdir : "/tmp");
	int fd = mkstemp(tmp);
	if (fd < 0) {
		rc = tv_err(-errno, "%s: %s", tmp, strerror(errno));
		tv_snapshot_meta_delete(s, o->prefix, o->name);
		return rc;
	}
	close(fd);
	struct builder b = {.s = s,
			    .o = o,
			    .ar = archive_write_new(),
			    .members = json_array(),
			    .links = json_array(),
			    .nodes = json_array(),
			    .st = st};
	if (tv_names_new(&b.names))
		rc = -ENOMEM;
	archive_write_set_format_pax_restricted(b.ar);
	if (archive_write_open_filename(b.ar, tmp) != ARCHIVE_OK)
		rc = tv_err(-EIO, "%s: %s", tmp, archive_error_string(b.ar));
	if (!rc) /* every node asked for (all by default), each with its streams */
		rc = tv_catalog_each_node(s, o->prefix, o->nodes, o->nnodes, on_node, &b);
	if (!rc && st->segments == 0)
		rc = tv_err(-ENOENT, "no data in the window: snapshot '%s' not created", o->name);
	if (!rc)
		rc = write_manifest(&b);
	if (archive_write_close(b.ar) != ARCHIVE_OK && !rc)
		rc = tv_err(-EIO, "%s: %s", tmp, archive_error_string(b.ar));
	archive_write_free(b.ar);
	json_decref(b.members);
	json_decref(b.links);
	tv_names_free(b.names);
	if (!rc)
		rc = tv_store_put_file(s, key, tmp, TV_PUT_CREATE_ONLY);
	if (rc == -EEXIST)
		rc = tv_err(-EEXIST, "snapshot '%s' exists; snapshots are never overwritten", o->name);
	unlink(tmp);
	meta.status = "complete";
	meta.nodes = b.nodes;
	meta.segments = st->segments;
	meta.frames = st->frames;
	meta.bytes = st->bytes;
	if (!rc)
		rc = tv_snapshot_meta_put(s, o->prefix, &meta);
	else if (rc != -EEXIST) /* a lost race leaves the winner's row alone */
		tv_snapshot_meta_delete(s, o->prefix, o->name);
	json_decref(b.nodes);
	/* after the put: a multipart object cannot carry its lock headers; the
	 * object is unprotected for the length of one request */
	if (!rc && (o->retention || o->legal_hold) &&
	    (rc = tv_store_set_retention(s, key, o->retention, o->legal_hold)) != 0) {
		char why[512];
		snprintf(why, sizeof(why), "%s", tv_errmsg());
		rc = tv_err(rc, "snapshot '%s' was stored but is NOT under retention: %s", o->name, why);
	}
	return rc;
}

int tv_snapshot_protected(struct tv_store *s, const char *key, uint64_t now_ns, char *why, size_t n)
{
	why[0] = '\0';
	int lock = tv_store_object_lock(s);
	if (lock <= 0)
		return lock == -ENOTSUP ? 0 : lock;
	struct tv_store_lock_state st;
	int rc = tv_store_get_retention(s, key, &st);
	if (rc)
		return rc;
	char until[TV_RFC3339_LEN];
	tv_format_rfc3339(st.retention.until_ns, until);
	if (st.retention.until_ns > now_ns)
		snprintf(why, n,
			 st.retention.compliance
				 ? "it is under COMPLIANCE retention until %s: nobody, the bucket's owner "
				   "included, "
				   "can delete it before then"
				 : "it is under GOVERNANCE retention until %s: only a principal allowed "
				   "s3:BypassGovernanceRetention can lift it (tapvault never bypasses)",
			 until);
	else if (st.legal_hold)
		snprintf(why, n,
			 "it is under a legal hold: lift the hold first (s3:PutObjectLegalHold, Status OFF)");
	return why[0] != '\0';
}

/* evidence/SEGMENT-INDEX-KEY, v1/keys/NODE/KEYID.json, v1/checkpoints/NODE/TIMENS.json */
static bool evidence_member(const char *path)
{
	struct tv_segment_key k;
	size_t n = strlen(TV_SNAPSHOT_EVIDENCE);
	if (strncmp(path, TV_SNAPSHOT_EVIDENCE, n) == 0)
		return tv_key_parse_segment(path + n, &k) == 0 && k.kind == TV_OBJ_INDEX &&
		       tv_store_key_check(path) == 0 && !strstr(path, "..");
	if (tv_store_key_check(path) || strstr(path, ".."))
		return false;
	const char *kinds[] = {"v1/keys/", "v1/checkpoints/"};
	for (size_t i = 0; i < 2; i++) {
		size_t l = strlen(kinds[i]);
		const char *slash = strncmp(path, kinds[i], l) == 0 ? strchr(path + l, '/') : NULL;
		if (slash && !strchr(slash + 1, '/') && strlen(slash + 1) > 5 &&
		    !strcmp(slash + 1 + strlen(slash + 1) - 5, ".json"))
			return true;
	}
	return false;
}

int tv_snapshot_extract(const char *tar_path, const char *dir)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	int rc = 0;
	if (archive_read_open_filename(a, tar_path, 1 << 16) != ARCHIVE_OK)
		rc = tv_err(-EIO, "%s: %s", tar_path, archive_error_string(a));
	struct archive_entry *e;
	struct tv_buf buf;
	tv_buf_init(&buf, (size_t)1 << 34);
	while (!rc && archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(e);
		struct tv_segment_key k;
		bool manifest = strcmp(path, "manifest.json") == 0;
		if (!manifest && !evidence_member(path) &&
		    (tv_key_parse_segment(path, &k) || tv_store_key_check(path) || strstr(path, "..")))
			rc = tv_err(TV_ECORRUPT, "%s: member '%.100s' is not part of a snapshot", tar_path,
				    path);
		if (rc || archive_entry_filetype(e) != AE_IFREG)
			break;
		char out[4096];
		snprintf(out, sizeof(out), "%s/%s", dir, path);
		tv_buf_reset(&buf);
		la_int64_t size = archive_entry_size(e);
		if (size < 0 || (rc = tv_buf_reserve(&buf, (size_t)size))) {
			rc = tv_err(rc ? rc : TV_ECORRUPT, "%s: member %s too large", tar_path, path);
			break;
		}
		la_ssize_t got = archive_read_data(a, buf.data, (size_t)size);
		if (got != size) {
			rc = tv_err(TV_ETRUNC, "%s: member %s is truncated", tar_path, path);
			break;
		}
		if ((rc = tv_mkdir_parent(out)))
			break;
		rc = tv_write_file_atomic(out, buf.data, (size_t)size);
	}
	tv_buf_cleanup(&buf);
	archive_read_free(a);
	return rc;
}
