/* SPDX-License-Identifier: Apache-2.0 */
/* dissection: parts, done markers and the merge (dissection.h). */
#include "dissector/query/dissection.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "archive/common/buf.h"
#include "archive/common/err.h"
#include "archive/common/fsutil.h"
#include "archive/common/sha256.h"
#include "archive/common/timeutil.h"

#define MARKER_FORMAT "tapvault-dissection-part/1"
#define READ_CHUNK (4u << 20)

int tv_dissection_name_check(const char *name)
{
	size_t n = strlen(name);
	bool ok = n >= 1 && n <= 128 && name[0] != '.';
	for (size_t i = 0; ok && i < n; i++) {
		char c = name[i];
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		     c == '_' || c == '-';
	}
	return ok ? 0
		  : tv_err(-EINVAL,
			   "dissection name '%.60s': 1-128 of A-Z a-z 0-9 . _ -, not starting with '.'",
			   name);
}

static int run_key(char *out, size_t n, const char *prefix, const char *name, const char *leaf)
{
	size_t len = strlen(prefix);
	int m = snprintf(out, n, "%s%sv1/dissections/%s/%s", prefix, len && prefix[len - 1] != '/' ? "/" : "",
			 name, leaf);
	return m < 0 || (size_t)m >= n ? tv_err(-ENAMETOOLONG, "dissection key too long") : 0;
}

static int part_key(char *out, size_t n, const char *prefix, const char *name, uint32_t i, bool marker)
{
	char leaf[64];
	snprintf(leaf, sizeof(leaf), "part-%" PRIu32 "%s", i, marker ? ".done.json" : ".jsonl.zst");
	return run_key(out, n, prefix, name, leaf);
}

/* ---- the done marker ---- */

static char *marker_text(const struct tv_dissection_part *p)
{
	char created[40];
	tv_format_rfc3339(tv_now_ns(), created);
	json_t *j = json_pack("{s:s,s:I,s:I,s:I,s:I,s:s,s:I,s:I,s:s,s:s}", "format", MARKER_FORMAT, "shard",
			      (json_int_t)p->index, "count", (json_int_t)p->count, "from",
			      (json_int_t)p->from, "to", (json_int_t)p->to, "source",
			      p->source ? p->source : "", "entries", (json_int_t)p->entries, "size",
			      (json_int_t)p->size, "sha256", p->sha256, "created", created);
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	return text;
}

struct marker {
	uint32_t shard, count;
	uint64_t from, to, entries, size;
	char source[1024], sha256[65];
};

static int marker_parse(const struct tv_buf *b, const char *key, struct marker *m)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)b->data, b->len, 0, &je);
	json_int_t shard, count, from, to, entries, size;
	const char *format, *source, *sha;
	int rc = j && json_unpack(j, "{s:s,s:I,s:I,s:I,s:I,s:s,s:I,s:I,s:s}", "format", &format, "shard",
				  &shard, "count", &count, "from", &from, "to", &to, "source", &source,
				  "entries", &entries, "size", &size, "sha256", &sha) == 0
			 ? 0
			 : -EBADMSG;
	if (!rc && (strcmp(format, MARKER_FORMAT) != 0 || shard < 0 || count <= 0 || shard >= count ||
		    strlen(sha) != 64 || strlen(source) >= sizeof(m->source)))
		rc = -EBADMSG;
	if (!rc) {
		*m = (struct marker){.shard = (uint32_t)shard,
				     .count = (uint32_t)count,
				     .from = (uint64_t)from,
				     .to = (uint64_t)to,
				     .entries = (uint64_t)entries,
				     .size = (uint64_t)size};
		strcpy(m->source, source);
		strcpy(m->sha256, sha);
	}
	json_decref(j);
	return rc ? tv_err(rc, "%s: not a dissection done marker", key) : 0;
}

int tv_dissection_part_done(struct tv_store *s, const char *prefix, const char *name,
			    struct tv_dissection_part *p)
{
	char key[TV_KEY_MAX];
	int rc = part_key(key, sizeof(key), prefix, name, p->index, true);
	if (rc)
		return rc;
	struct tv_buf b;
	tv_buf_init(&b, 1u << 20);
	rc = tv_store_get(s, key, &b);
	struct marker m;
	if (rc == -ENOENT) {
		tv_buf_cleanup(&b);
		return 0;
	}
	if (!rc)
		rc = marker_parse(&b, key, &m);
	tv_buf_cleanup(&b);
	if (rc)
		return rc;
	if (m.count != p->count || m.from != p->from || m.to != p->to ||
	    strcmp(m.source, p->source ? p->source : ""))
		return tv_err(-EEXIST,
			      "dissection '%s' part %" PRIu32 " is done for another run (%" PRIu32
			      " shards, window %" PRIu64 "-%" PRIu64 " of %s): choose another --name",
			      name, p->index, m.count, m.from, m.to, m.source);
	p->entries = m.entries;
	p->size = m.size;
	memcpy(p->sha256, m.sha256, sizeof(p->sha256));
	return 1;
}

/* ---- sorting a part by (startTime, id) ---- */

/* The span of the JSON value starting at p (p < end), or NULL when the text
 * is not JSON. Strings are skipped escape by escape, containers by depth. */
static const char *skip_value(const char *p, const char *end)
{
	int depth = 0;
	bool in_string = false;
	for (; p < end; p++) {
		char c = *p;
		if (in_string) {
			if (c == '\\')
				p++;
			else if (c == '"') {
				in_string = false;
				if (depth == 0)
					return p + 1;
			}
		} else if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return p; /* the end of a scalar before the parent's close */
			if (--depth == 0)
				return p + 1;
		} else if (c == ',' && depth == 0) {
			return p;
		}
	}
	return depth == 0 && !in_string ? p : NULL;
}

/* A top-level string member of the JSON object in [line, end): *v points at
 * its text (escapes kept; the sort only needs an order). */
static bool top_string(const char *line, const char *end, const char *name, const char **v, size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *p = line;
	while (p < end && *p != '{')
		p++;
	for (p++; p < end;) {
		while (p < end && (*p == ' ' || *p == ','))
			p++;
		if (p >= end || *p != '"')
			return false;
		const char *k = p + 1, *kend = skip_value(p, end);
		if (!kend || kend - k < 1)
			return false;
		size_t klen = (size_t)(kend - 1 - k);
		p = kend;
		while (p < end && (*p == ' ' || *p == ':'))
			p++;
		const char *vend = skip_value(p, end);
		if (!vend)
			return false;
		if (klen == nlen && memcmp(k, name, nlen) == 0) {
			if (*p != '"' || vend - p < 2)
				return false;
			*v = p + 1;
			*vlen = (size_t)(vend - p - 2);
			return true;
		}
		p = vend;
	}
	return false;
}

struct line {
	const char *text;
	size_t len;
	const char *time, *id;
	size_t time_len, id_len;
};

static int cmp_span(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	return c ? c : (an > bn) - (an < bn);
}

static int cmp_line(const struct line *x, const struct line *y)
{
	int c = cmp_span(x->time, x->time_len, y->time, y->time_len);
	return c ? c : cmp_span(x->id, x->id_len, y->id, y->id_len);
}

static int cmp_line_qsort(const void *a, const void *b)
{
	return cmp_line(a, b);
}

static void line_keys(struct line *l)
{
	const char *end = l->text + l->len;
	if (!top_string(l->text, end, "startTime", &l->time, &l->time_len))
		l->time = "", l->time_len = 0;
	if (!top_string(l->text, end, "id", &l->id, &l->id_len))
		l->id = "", l->id_len = 0;
}

struct mapped {
	const char *data;
	size_t size;
};

static int map_file(const char *path, struct mapped *m)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tv_err(-errno, "%s: %s", path, strerror(errno));
	struct stat st;
	int rc = fstat(fd, &st) ? -errno : 0;
	m->size = rc ? 0 : (size_t)st.st_size;
	m->data = "";
	if (!rc && m->size) {
		void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			rc = -errno;
		else
			m->data = p;
	}
	close(fd);
	return rc ? tv_err(rc, "%s: %s", path, strerror(-rc)) : 0;
}

static void unmap_file(struct mapped *m)
{
	if (m->size)
		munmap((void *)m->data, m->size);
}

/* The lines of m, sorted. */
static int sorted_lines(const struct mapped *m, struct line **out, size_t *n)
{
	size_t cap = 1024, k = 0;
	struct line *ls = malloc(cap * sizeof(*ls));
	for (const char *p = m->data, *end = m->data + m->size; ls && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl + 1 : end;
		if (k == cap) {
			struct line *g = realloc(ls, (cap *= 2) * sizeof(*ls));
			if (!g) {
				free(ls);
				ls = NULL;
				break;
			}
			ls = g;
		}
		ls[k] = (struct line){.text = p, .len = (size_t)(stop - p)};
		line_keys(&ls[k++]);
		p = stop;
	}
	if (!ls)
		return tv_err(-ENOMEM, "out of memory");
	qsort(ls, k, sizeof(*ls), cmp_line_qsort);
	*out = ls;
	*n = k;
	return 0;
}

int tv_dissection_sort_to(const char *entries_path, FILE *out, uint64_t *entries)
{
	struct mapped m;
	int rc = map_file(entries_path, &m);
	struct line *ls = NULL;
	size_t n = 0;
	if (!rc)
		rc = sorted_lines(&m, &ls, &n);
	for (size_t i = 0; !rc && i < n; i++) {
		if (fwrite(ls[i].text, 1, ls[i].len, out) != ls[i].len ||
		    (ls[i].text[ls[i].len - 1] != '\n' && fputc('\n', out) == EOF))
			rc = tv_err(-EIO, "cannot write the entries");
	}
	*entries = n;
	free(ls);
	if (m.size || !rc)
		unmap_file(&m);
	return rc;
}

/* ---- storing a part ---- */

struct zwriter {
	ZSTD_CCtx *cc;
	int fd;
	const char *path;
	struct tv_sha256 sha;
	uint64_t size;
	uint8_t buf[1u << 17];
};

static int zwrite(struct zwriter *z, const void *data, size_t n, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = {data, n, 0};
	for (;;) {
		ZSTD_outBuffer out = {z->buf, sizeof(z->buf), 0};
		size_t left = ZSTD_compressStream2(z->cc, &out, &in, mode);
		if (ZSTD_isError(left))
			return tv_err(-EIO, "zstd: %s", ZSTD_getErrorName(left));
		if (out.pos) {
			tv_sha256_update(&z->sha, z->buf, out.pos);
			z->size += out.pos;
			int rc = tv_write_all(z->fd, z->buf, out.pos, z->path);
			if (rc)
				return rc;
		}
		if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

static int compress_sorted(const char *entries_path, const char *zpath, struct tv_dissection_part *p)
{
	struct mapped m;
	int rc = map_file(entries_path, &m);
	if (rc)
		return rc;
	struct line *ls = NULL;
	size_t n = 0;
	struct zwriter *z = calloc(1, sizeof(*z));
	rc = z ? sorted_lines(&m, &ls, &n) : tv_err(-ENOMEM, "out of memory");
	if (!rc && (!(z->cc = ZSTD_createCCtx()) || tv_sha256_init(&z->sha)))
		rc = tv_err(-ENOMEM, "out of memory");
	if (!rc) {
		ZSTD_CCtx_setParameter(z->cc, ZSTD_c_compressionLevel, 3);
		ZSTD_CCtx_setParameter(z->cc, ZSTD_c_checksumFlag, 1);
		z->path = zpath;
		z->fd = open(zpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (z->fd < 0)
			rc = tv_err(-errno, "%s: %s", zpath, strerror(errno));
	}
	for (size_t i = 0; !rc && i < n; i++) {
		rc = zwrite(z, ls[i].text, ls[i].len, ZSTD_e_continue);
		if (!rc && ls[i].text[ls[i].len - 1] != '\n')
			rc = zwrite(z, "\n", 1, ZSTD_e_continue);
	}
	if (!rc)
		rc = zwrite(z, NULL, 0, ZSTD_e_end);
	if (z && z->path && z->fd >= 0 && close(z->fd) && !rc)
		rc = tv_err(-errno, "%s: %s", zpath, strerror(errno));
	if (!rc) {
		uint8_t sha[TV_SHA256_LEN];
		tv_sha256_final(&z->sha, sha);
		tv_hex(sha, TV_SHA256_LEN, p->sha256);
		p->entries = n;
		p->size = z->size;
	}
	if (z) {
		tv_sha256_cleanup(&z->sha);
		ZSTD_freeCCtx(z->cc);
	}
	free(z);
	free(ls);
	unmap_file(&m);
	return rc;
}

int tv_dissection_put_part(struct tv_store *s, const char *prefix, const char *name, const char *entries_path,
			   struct tv_dissection_part *p)
{
	char zpath[4096], key[TV_KEY_MAX], marker_key[TV_KEY_MAX];
	if (snprintf(zpath, sizeof(zpath), "%s.zst", entries_path) >= (int)sizeof(zpath))
		return tv_err(-ENAMETOOLONG, "path too long");
	int rc = part_key(key, sizeof(key), prefix, name, p->index, false);
	if (!rc)
		rc = part_key(marker_key, sizeof(marker_key), prefix, name, p->index, true);
	/* done already: replace nothing (a rerun that raced past its own check) */
	struct tv_dissection_part seen = *p;
	int done = rc ? 0 : tv_dissection_part_done(s, prefix, name, &seen);
	if (done)
		return done == 1 ? tv_err(-EEXIST, "dissection '%s' part %" PRIu32 " is already done", name,
					  p->index)
				 : done;
	if (!rc)
		rc = compress_sorted(entries_path, zpath, p);
	/* the part first (a rerun may replace a part nobody marked done), then
	 * its marker, which nobody replaces */
	if (!rc)
		rc = tv_store_put_file(s, key, zpath, 0);
	char *text = rc ? NULL : marker_text(p);
	if (!rc && !text)
		rc = tv_err(-ENOMEM, "out of memory");
	if (!rc)
		rc = tv_store_put(s, marker_key, text, strlen(text), TV_PUT_CREATE_ONLY);
	if (rc == -EEXIST)
		tv_err(rc, "dissection '%s' part %" PRIu32 " was completed by another run meanwhile", name,
		       p->index);
	free(text);
	unlink(zpath);
	return rc;
}

/* ---- the merge ---- */

struct part_reader {
	struct tv_store *s;
	char key[TV_KEY_MAX];
	struct marker m;
	uint64_t off;
	ZSTD_DCtx *dc;
	struct tv_buf in;
	size_t in_pos;
	struct tv_buf text; /* decompressed, from `pos` not yet returned */
	size_t pos;
	bool eof;
	struct tv_sha256 sha;
	uint64_t entries;
	struct line cur;
};

/* More decompressed text. @return 1, 0 at the end of the part, or an error. */
static int refill(struct part_reader *r)
{
	if (r->pos) {
		memmove(r->text.data, r->text.data + r->pos, r->text.len - r->pos);
		r->text.len -= r->pos;
		r->pos = 0;
	}
	for (;;) {
		if (r->in_pos == r->in.len) {
			if (r->off >= r->m.size)
				return 0;
			uint64_t want = r->m.size - r->off < READ_CHUNK ? r->m.size - r->off : READ_CHUNK;
			tv_buf_reset(&r->in);
			r->in_pos = 0;
			int rc = tv_store_get_range(r->s, r->key, r->off, want, &r->in);
			if (rc)
				return rc;
			tv_sha256_update(&r->sha, r->in.data, r->in.len);
			r->off += r->in.len;
		}
		if (tv_buf_reserve(&r->text, 1u << 17))
			return tv_err(-ENOMEM, "out of memory");
		ZSTD_inBuffer in = {r->in.data, r->in.len, r->in_pos};
		ZSTD_outBuffer out = {r->text.data + r->text.len, r->text.cap - r->text.len, 0};
		size_t z = ZSTD_decompressStream(r->dc, &out, &in);
		if (ZSTD_isError(z))
			return tv_err(-EBADMSG, "%s is damaged (zstd: %s)", r->key, ZSTD_getErrorName(z));
		r->in_pos = in.pos;
		r->text.len += out.pos;
		if (out.pos)
			return 1;
	}
}

/* The part's next line into r->cur. @return 1, 0 at its end, or an error. */
static int next_line(struct part_reader *r)
{
	for (;;) {
		const char *start = (const char *)r->text.data + r->pos;
		size_t avail = r->text.len - r->pos;
		const char *nl = avail ? memchr(start, '\n', avail) : NULL;
		if (nl) {
			r->cur = (struct line){.text = start, .len = (size_t)(nl + 1 - start)};
			line_keys(&r->cur);
			r->pos += r->cur.len;
			r->entries++;
			return 1;
		}
		int rc = refill(r);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return avail ? tv_err(-EBADMSG, "%s: the last entry has no end", r->key) : 0;
	}
}

static int check_whole(struct part_reader *r)
{
	uint8_t sha[TV_SHA256_LEN];
	char hex[TV_SHA256_HEX_LEN];
	tv_sha256_final(&r->sha, sha);
	tv_hex(sha, TV_SHA256_LEN, hex);
	if (strcmp(hex, r->m.sha256) != 0 || r->entries != r->m.entries || r->off != r->m.size)
		return tv_err(-EBADMSG, "%s differs from its done marker (SHA-256, size or entries)", r->key);
	return 0;
}

struct run {
	struct tv_store *s;
	const char *prefix, *name, *dir;
	struct part_reader *parts;
	uint32_t count, seen;
	bool *have;
	int rc;
};

static int on_object(void *ctx, const struct tv_store_entry *e)
{
	struct run *run = ctx;
	const char *leaf = strrchr(e->key, '/');
	leaf = leaf ? leaf + 1 : e->key;
	uint32_t i;
	char tail[16];
	if (sscanf(leaf, "part-%" SCNu32 "%15s", &i, tail) != 2 || strcmp(tail, ".done.json") != 0)
		return 0;
	struct tv_buf b;
	tv_buf_init(&b, 1u << 20);
	struct marker m;
	int rc = tv_store_get(run->s, e->key, &b);
	if (!rc)
		rc = marker_parse(&b, e->key, &m);
	tv_buf_cleanup(&b);
	if (rc)
		return rc;
	if (!run->count) {
		run->count = m.count;
		if (!(run->parts = calloc(m.count, sizeof(*run->parts))) || !(run->have = calloc(m.count, 1)))
			return tv_err(-ENOMEM, "out of memory");
	}
	struct part_reader *first = NULL;
	for (uint32_t k = 0; k < run->count && !first; k++)
		if (run->have[k])
			first = &run->parts[k];
	if (m.count != run->count || m.shard >= run->count ||
	    (first && (first->m.from != m.from || first->m.to != m.to || strcmp(first->m.source, m.source))))
		return tv_err(-EBADMSG,
			      "dissection '%s': %s belongs to another run (its count or window differs)",
			      run->name, e->key);
	struct part_reader *r = &run->parts[m.shard];
	r->m = m;
	r->s = run->s;
	run->have[m.shard] = true;
	run->seen++;
	return part_key(r->key, sizeof(r->key), run->prefix, run->name, m.shard, false);
}

static int find_parts(struct run *run)
{
	char dir[TV_KEY_MAX];
	int rc = run_key(dir, sizeof(dir), run->prefix, run->name, "");
	if (!rc)
		rc = tv_store_each(run->s, dir, on_object, run);
	if (rc)
		return rc;
	if (!run->count)
		return tv_err(-ENOENT, "no dissection '%s' (no completed part under %s)", run->name, dir);
	if (run->seen == run->count)
		return 0;
	struct tv_buf missing;
	tv_buf_init(&missing, 4096);
	uint32_t listed = 0;
	for (uint32_t k = 0; k < run->count && listed < 20; k++)
		if (!run->have[k])
			tv_buf_printf(&missing, "%s%" PRIu32, listed++ ? ", " : "", k);
	rc = tv_err(-EAGAIN, "dissection '%s': %" PRIu32 " of %" PRIu32 " parts are done; not yet: %.*s%s",
		    run->name, run->seen, run->count, (int)missing.len, (const char *)missing.data,
		    run->count - run->seen > listed ? ", ..." : "");
	tv_buf_cleanup(&missing);
	return rc;
}

static int open_reader(struct part_reader *r)
{
	tv_buf_init(&r->in, READ_CHUNK + 1);
	tv_buf_init(&r->text, 1u << 30);
	if (!(r->dc = ZSTD_createDCtx()) || tv_sha256_init(&r->sha))
		return tv_err(-ENOMEM, "out of memory");
	return next_line(r);
}

static void close_reader(struct part_reader *r)
{
	ZSTD_freeDCtx(r->dc);
	tv_buf_cleanup(&r->in);
	tv_buf_cleanup(&r->text);
}

/* A binary heap of part positions by their current line. */
static bool before(const struct part_reader *parts, uint32_t a, uint32_t b)
{
	int c = cmp_line(&parts[a].cur, &parts[b].cur);
	return c < 0 || (c == 0 && a < b);
}

static void sift(const struct part_reader *parts, uint32_t *heap, uint32_t n, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && before(parts, heap[l], heap[m]))
			m = l;
		if (r < n && before(parts, heap[r], heap[m]))
			m = r;
		if (m == i)
			return;
		uint32_t t = heap[i];
		heap[i] = heap[m];
		heap[m] = t;
		i = m;
	}
}

static int merge_parts(struct run *run, FILE *out, struct tv_dissection_merge_stats *st)
{
	uint32_t *heap = calloc(run->count, sizeof(*heap)), n = 0;
	if (!heap)
		return tv_err(-ENOMEM, "out of memory");
	int rc = 0;
	for (uint32_t k = 0; !rc && k < run->count; k++) {
		int r = open_reader(&run->parts[k]);
		if (r < 0)
			rc = r;
		else if (r == 1)
			heap[n++] = k;
		else
			rc = check_whole(&run->parts[k]);
	}
	for (uint32_t i = n / 2; !rc && i-- > 0;)
		sift(run->parts, heap, n, i);
	while (!rc && n) {
		struct part_reader *r = &run->parts[heap[0]];
		if (fwrite(r->cur.text, 1, r->cur.len, out) != r->cur.len)
			rc = tv_err(-EIO, "cannot write the merged entries");
		st->entries++;
		st->bytes += r->cur.len;
		int more = rc ? 0 : next_line(r);
		if (more < 0)
			rc = more;
		else if (more == 0 && !(rc = check_whole(r)))
			heap[0] = heap[--n];
		if (!rc)
			sift(run->parts, heap, n, 0);
	}
	free(heap);
	return rc;
}

int tv_dissection_merge(struct tv_store *s, const char *prefix, const char *name, FILE *out,
			struct tv_dissection_merge_stats *st)
{
	*st = (struct tv_dissection_merge_stats){0};
	int rc = tv_dissection_name_check(name);
	if (rc)
		return rc;
	struct run run = {.s = s, .prefix = prefix, .name = name};
	rc = find_parts(&run);
	if (!rc) {
		st->parts = run.count;
		rc = merge_parts(&run, out, st);
	}
	for (uint32_t k = 0; run.parts && k < run.count; k++) {
		close_reader(&run.parts[k]);
		tv_sha256_cleanup(&run.parts[k].sha);
	}
	free(run.parts);
	free(run.have);
	return rc;
}
