/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_verify: `tapvault verify`, recomputes every object's SHA-256 against its
 * index, walks each node's hash chain, and names every missing, altered,
 * truncated or incomplete object. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/common/sha256.h"
#include "archive/common/timeutil.h"
#include "archive/keys.h"
#include "dissector/catalog.h"
#include "dissector/cli.h"
#include "dissector/progress.h"
#include "dissector/snapshot.h"

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#define VERIFY_CHUNK ((uint64_t)8 << 20)

enum {
	VERIFY_CANNOT_CHECK = 4
};

static const char usage[] =
	"Usage: tapvault verify --store URL [--from T --to T | --snapshot NAME] [--node NAME]... [--prefix "
	"P]\n"
	"\n"
	"Recomputes the SHA-256 of every data and events object and compares it (and\n"
	"the size) with the segment's index, checks each index's own checksum, and\n"
	"walks each node's hash chain: a missing segment, an altered or replaced one,\n"
	"a truncated object, and a data object without its index are each named.\n"
	"With --snapshot, every member of the snapshot is checked against its\n"
	"manifest.json (SHA-256, size, nothing missing or extra) and its segments as above.\n"
	"\n"
	"Exit: 0 intact, 1 damaged (problems listed), 2 usage, 4 could not check\n"
	"(the store could not be read).\n";

struct verify {
	struct tv_store *s;
	const char *prefix;
	uint64_t from, to;
	uint64_t segments, objects, problems;
	int fatal;
	/* per node */
	bool no_chain; /* snapshots: re-packed segments keep only the manifest's links */
	struct tv_progress prog;
	uint64_t bytes;
	bool have_prev;
	uint64_t prev_seq;
	uint8_t prev_sha[TV_SHA256_LEN];
	char prev_key[TV_KEY_MAX];
};

static void problem(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct verify *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("DAMAGED ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	v->problems++;
}

/* Hashes an object with ranged reads. @return 0, -ENOENT, TV_ETRUNC or an I/O error. */
static int hash_object(struct tv_store *s, const char *key, uint8_t sha[TV_SHA256_LEN], uint64_t *size)
{
	struct tv_store_entry e;
	int rc = tv_store_head(s, key, &e);
	if (rc)
		return rc;
	*size = e.size;
	struct tv_sha256 h;
	if ((rc = tv_sha256_init(&h)))
		return rc;
	struct tv_buf b;
	tv_buf_init(&b, VERIFY_CHUNK);
	for (uint64_t off = 0; !rc && off < e.size; off += VERIFY_CHUNK) {
		uint64_t n = e.size - off < VERIFY_CHUNK ? e.size - off : VERIFY_CHUNK;
		rc = tv_store_get_range(s, key, off, n, &b);
		if (!rc)
			tv_sha256_update(&h, b.data, b.len);
	}
	tv_buf_cleanup(&b);
	if (rc) {
		tv_sha256_cleanup(&h);
		return rc;
	}
	tv_sha256_final(&h, sha);
	return 0;
}

static void check_object(struct verify *v, const char *index_key, const char *suffix, uint64_t want_size,
			 const uint8_t *want_sha)
{
	char key[TV_KEY_MAX + 32];
	tv_key_sibling(index_key, suffix, key, sizeof(key));
	uint8_t sha[TV_SHA256_LEN];
	uint64_t size = 0;
	int rc = hash_object(v->s, key, sha, &size);
	v->objects++;
	v->bytes += size;
	tv_progress_update(&v->prog, v->segments, v->bytes);
	if (rc == -ENOENT) {
		problem(v, "%s: missing (the index lists it)", key);
	} else if (rc) {
		fprintf(stderr, "tapvault verify: %s\n", tv_errmsg());
		v->fatal = rc;
	} else if (size < want_size) {
		problem(v, "%s: truncated: %" PRIu64 " bytes, index says %" PRIu64, key, size, want_size);
	} else if (size != want_size) {
		problem(v, "%s: %" PRIu64 " bytes, index says %" PRIu64 " (altered)", key, size, want_size);
	} else if (memcmp(sha, want_sha, TV_SHA256_LEN) != 0) {
		problem(v, "%s: SHA-256 differs from the index (altered)", key);
	}
}

static int on_index(void *ctx, const char *key)
{
	struct verify *v = ctx;
	struct tv_index idx;
	uint8_t sha[TV_SHA256_LEN];
	v->segments++;
	v->objects++;
	int rc = tv_catalog_load_index(v->s, key, &idx, sha, NULL);
	if (rc == -ENOMEM || (rc < 0 && rc != TV_ECORRUPT && rc != TV_ETRUNC && rc != TV_EVERSION)) {
		fprintf(stderr, "tapvault verify: %s\n", tv_errmsg());
		v->fatal = rc;
		return 0;
	}
	if (rc) {
		problem(v, "%s", tv_errmsg());
		v->have_prev = false; /* the chain cannot be followed through it */
		return 0;
	}
	if (v->from || v->to != UINT64_MAX) {
		if (!(idx.packets && idx.ts_max >= v->from && idx.ts_min < v->to)) {
			tv_index_cleanup(&idx);
			v->segments--;
			v->objects--;
			return 0;
		}
	}
	check_object(v, key, TV_KEY_SUFFIX_DATA, idx.data_size, idx.data_sha);
	if (idx.events_size)
		check_object(v, key, TV_KEY_SUFFIX_EVENTS, idx.events_size, idx.events_sha);
	if (v->have_prev && !v->no_chain) {
		if (idx.seq > v->prev_seq + 1)
			problem(v, "%s: segments %" PRIu64 "..%" PRIu64 " of node %s are missing (after %s)",
				key, v->prev_seq + 1, idx.seq - 1, idx.node, v->prev_key);
		else if (idx.seq == v->prev_seq + 1 && memcmp(idx.prev_sha, v->prev_sha, TV_SHA256_LEN) != 0)
			problem(v, "%s: hash chain broken: the previous index %s was altered or replaced",
				key, v->prev_key);
	}
	v->have_prev = true;
	v->prev_seq = idx.seq;
	memcpy(v->prev_sha, sha, TV_SHA256_LEN);
	snprintf(v->prev_key, sizeof(v->prev_key), "%s", key);
	tv_index_cleanup(&idx);
	return 0;
}

/* Data objects whose index is absent: incomplete segments. */
static int on_any(void *ctx, const struct tv_store_entry *e)
{
	struct verify *v = ctx;
	struct tv_segment_key k;
	if (tv_key_parse_segment(e->key, &k) || k.kind != TV_OBJ_DATA)
		return 0;
	if (v->from || v->to != UINT64_MAX) {
		if (k.start_ns >= v->to || k.start_ns + TV_SEGMENT_MAX_SPAN_NS < v->from)
			return 0;
	}
	char idx[TV_KEY_MAX + 32];
	tv_key_sibling(e->key, TV_KEY_SUFFIX_INDEX, idx, sizeof(idx));
	struct tv_store_entry x;
	int rc = tv_store_head(v->s, idx, &x);
	if (rc == -ENOENT)
		problem(v, "%s: incomplete segment (no index)", e->key);
	else if (rc)
		v->fatal = rc;
	return 0;
}

static int on_node(void *ctx, const char *node)
{
	struct verify *v = ctx;
	v->have_prev = false;
	int rc = tv_catalog_indexes(v->s, v->prefix, node, v->from, v->to, on_index, v);
	char p[TV_KEY_MAX];
	if (!rc && !tv_key_node_prefix(p, sizeof(p), v->prefix, node))
		rc = tv_store_each(v->s, p, on_any, v);
	return rc;
}

/* Every tar member against manifest.json: digest, size, nothing missing or extra. */
static int check_members(struct verify *v, const char *tar, const char *name)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, tar, 1 << 16) != ARCHIVE_OK) {
		problem(v, "snapshot %s: not a readable tar (%s)", name, archive_error_string(a));
		archive_read_free(a);
		return 0;
	}
	json_t *seen = json_object(), *manifest = NULL;
	struct archive_entry *e;
	struct tv_buf b;
	tv_buf_init(&b, (size_t)1 << 34);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		la_int64_t size = archive_entry_size(e);
		tv_buf_reset(&b);
		if (size < 0 || tv_buf_reserve(&b, (size_t)size) ||
		    archive_read_data(a, b.data, (size_t)size) != size) {
			problem(v, "snapshot %s: member %s truncated", name, archive_entry_pathname(e));
			break;
		}
		b.len = (size_t)size;
		const char *path = archive_entry_pathname(e);
		if (!strcmp(path, "manifest.json")) {
			manifest = json_loadb((const char *)b.data, b.len, 0, NULL);
			continue;
		}
		uint8_t sha[TV_SHA256_LEN];
		char hex[TV_SHA256_HEX_LEN];
		tv_sha256(b.data, b.len, sha);
		tv_hex(sha, TV_SHA256_LEN, hex);
		json_object_set_new(seen, path,
				    json_pack("{s:s,s:I}", "sha256", hex, "size", (json_int_t)b.len));
		v->objects++;
	}
	tv_buf_cleanup(&b);
	archive_read_free(a);
	if (!manifest) {
		problem(v, "snapshot %s: manifest.json missing or not JSON", name);
	} else {
		size_t i;
		json_t *m;
		json_array_foreach (json_object_get(manifest, "members"), i, m) {
			const char *path = json_string_value(json_object_get(m, "path"));
			json_t *got = path ? json_object_get(seen, path) : NULL;
			if (!got)
				problem(v, "snapshot %s: member %s missing", name, path ? path : "?");
			else if (!json_equal(json_object_get(got, "sha256"), json_object_get(m, "sha256")) ||
				 !json_equal(json_object_get(got, "size"), json_object_get(m, "size")))
				problem(v, "snapshot %s: member %s differs from the manifest (altered)", name,
					path);
			if (path)
				json_object_del(seen, path);
		}
		const char *extra;
		json_t *x;
		json_object_foreach (seen, extra, x)
			problem(v, "snapshot %s: member %s not in the manifest", name, extra);
	}
	json_decref(manifest);
	json_decref(seen);
	return 0;
}

static int verify_snapshot(struct verify *v, const char *name)
{
	char key[1200], dir[] = "/tmp/tapvault-verify.XXXXXX";
	if (tv_snapshot_key(v->prefix, name, key, sizeof(key)) || !mkdtemp(dir))
		return tv_err(-EINVAL, "snapshot %s: bad name or no temp space", name);
	char tar[600], root[600];
	snprintf(tar, sizeof(tar), "%s/s.tar", dir);
	snprintf(root, sizeof(root), "%s/store", dir);
	struct tv_buf b;
	tv_buf_init(&b, (size_t)1 << 34);
	int rc = tv_store_get(v->s, key, &b);
	if (!rc)
		rc = tv_write_file_atomic(tar, b.data, b.len);
	tv_buf_cleanup(&b);
	if (!rc)
		rc = check_members(v, tar, name);
	/* the re-packed segments: their indexes against their data */
	struct tv_store *orig = v->s;
	if (!rc && tv_mkdir_p(root) == 0 && tv_snapshot_extract(tar, root) == 0 &&
	    tv_store_open(root, 0, &v->s) == 0) {
		v->no_chain = true;
		v->prefix = "";
		rc = tv_catalog_nodes(v->s, "", on_node, v);
		tv_store_free(v->s);
	}
	v->s = orig;
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "tapvault verify: could not remove %s\n", dir);
	return rc;
}

int tv_cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{"store", required_argument, NULL, 's'},    {"from", required_argument, NULL, 'F'},
		{"to", required_argument, NULL, 'T'},       {"node", required_argument, NULL, 'n'},
		{"prefix", required_argument, NULL, 'p'},   {"help", no_argument, NULL, 'h'},
		{"snapshot", required_argument, NULL, 'S'}, {NULL, 0, NULL, 0}};
	struct verify v = {0};
	struct tv_cli_scope sc = {0};
	const char *snapshot = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "s:n:p:h", opts, NULL)) != -1) {
		if (tv_cli_scope_option(&sc, c, optarg))
			continue;
		switch (c) {
		case 'S': snapshot = optarg; break;
		case 'h': fputs(usage, stdout); return TV_EXIT_OK;
		default: return tv_cli_usage_error("verify", "unknown option");
		}
	}
	if (tv_cli_scope_finish(&sc, "verify"))
		return TV_EXIT_USAGE;
	v.prefix = sc.prefix;
	v.from = sc.from;
	v.to = sc.to;
	if (tv_store_open(sc.url, 0, &v.s)) {
		fprintf(stderr, "tapvault verify: %s\n", tv_errmsg());
		return VERIFY_CANNOT_CHECK;
	}
	int rc = 0;
	tv_progress_start(&v.prog, "segments checked", 0);
	if (snapshot) {
		if (tv_snapshot_name_check(snapshot))
			return tv_cli_usage_error("verify", "%s", tv_errmsg());
		rc = verify_snapshot(&v, snapshot);
	} else {
		rc = tv_cli_scope_each_node(&sc, v.s, on_node, &v);
	}
	tv_progress_end(&v.prog);
	tv_store_free(v.s);
	if (rc || v.fatal) {
		fprintf(stderr, "tapvault verify: could not check: %s\n", tv_errmsg());
		return VERIFY_CANNOT_CHECK;
	}
	printf("%s: %" PRIu64 " segments, %" PRIu64 " objects checked, %" PRIu64 " problems\n",
	       v.problems ? "DAMAGED" : "INTACT", v.segments, v.objects, v.problems);
	return v.problems ? TV_EXIT_FAIL : TV_EXIT_OK;
}
