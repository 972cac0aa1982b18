/* SPDX-License-Identifier: Apache-2.0 */
/* http_body: see http_body.h. */
#include "dissector/proto/http_body.h"

#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "archive/common/buf.h"

/* Room to add to out for the next inflate call: a first guess, then double,
 * never past out's limit (0 at the limit). */
static size_t inflate_room(const struct tv_buf *out, size_t first)
{
	size_t left = tv_buf_limit(out) - out->len, grow = out->len ? out->len : first;
	return grow < left ? grow : left;
}

/* gzip/deflate → out, straight into its memory. out's limit caps the
 * output: a bomb stops there (not an error; the caller marks the body
 * truncated). @return 0, or -1 for damaged data (out holds what decoded). */
static int inflate_body(const struct tv_buf *in, bool gzip, struct tv_buf *out)
{
	z_stream z = {0};
	if (inflateInit2(&z, gzip ? 16 + MAX_WBITS : MAX_WBITS) != Z_OK)
		return -1;
	z.next_in = in->data;
	z.avail_in = (uInt)in->len;
	int rc = Z_OK;
	do {
		size_t room = out->cap - out->len;
		if (!room) {
			size_t grow = inflate_room(out, 4 * in->len + 4096);
			if (!grow)
				break; /* at the cap */
			if (tv_buf_reserve(out, grow) != 0) {
				rc = Z_MEM_ERROR;
				break;
			}
			room = out->cap - out->len;
		}
		if (room > UINT32_MAX)
			room = UINT32_MAX;
		z.next_out = out->data + out->len;
		z.avail_out = (uInt)room;
		rc = inflate(&z, Z_NO_FLUSH);
		out->len += room - z.avail_out;
		if (rc == Z_DATA_ERROR && !gzip && z.total_out == 0) {
			/* "deflate" sent as raw deflate without the zlib header */
			inflateEnd(&z);
			memset(&z, 0, sizeof(z));
			if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
				return -1;
			z.next_in = in->data;
			z.avail_in = (uInt)in->len;
			out->len = 0;
			rc = Z_OK;
			continue;
		}
	} while (rc == Z_OK);
	inflateEnd(&z);
	return rc == Z_STREAM_END || (rc == Z_OK && out->len == tv_buf_limit(out)) ? 0 : -1;
}

static bool textual(const char *mime)
{
	return !mime[0] || !strncasecmp(mime, "text/", 5) || strstr(mime, "json") || strstr(mime, "xml") ||
	       strstr(mime, "javascript") || strstr(mime, "x-www-form-urlencoded");
}

/* The fast path for a whole gzip body: libdeflate into a buffer of the size
 * its trailer states. Anything else (a body cut short, a size over the cap
 * or a lying trailer, more than one member, damage) is left to zlib, which
 * keeps what decodes. @return true when out holds the whole body. */
static bool gunzip_whole(struct libdeflate_decompressor *z, const struct tv_buf *in, struct tv_buf *out)
{
	if (!z || in->len < 18)
		return false;
	size_t stated = tv_le32(in->data + in->len - 4);
	/* deflate expands at most ~1032:1, so a larger claim is a lie */
	if (stated > tv_buf_limit(out) || stated / 1032 > in->len || tv_buf_reserve(out, stated + 1) != 0)
		return false;
	size_t used = 0, made = 0;
	enum libdeflate_result r =
		libdeflate_gzip_decompress_ex(z, in->data, in->len, out->data, stated, &used, &made);
	if (r != LIBDEFLATE_SUCCESS || used != in->len || made != stated)
		return false;
	out->len = made;
	return true;
}

struct tv_http_run {
	struct libdeflate_decompressor *z; /* allocated at the first gzip body */
};

struct tv_http_run *tv_http_run_new(void)
{
	return calloc(1, sizeof(struct tv_http_run));
}

void tv_http_run_free(struct tv_http_run *run)
{
	if (!run)
		return;
	if (run->z)
		libdeflate_free_decompressor(run->z);
	free(run);
}

void *tv_http_run_open(void)
{
	return tv_http_run_new();
}

void tv_http_run_close(void *run)
{
	tv_http_run_free(run);
}

static struct libdeflate_decompressor *decompressor(struct tv_http_run *run)
{
	if (run && !run->z)
		run->z = libdeflate_alloc_decompressor();
	return run ? run->z : NULL;
}

bool tv_http_decodable(const char *encoding)
{
	return encoding && (!strcasecmp(encoding, "gzip") || !strcasecmp(encoding, "deflate"));
}

int tv_http_decode(struct tv_http_run *run, const char *encoding, const struct tv_buf *in, bool cut_short,
		   struct tv_buf *out)
{
	bool gzip = !strcasecmp(encoding, "gzip");
	struct libdeflate_decompressor *z = gzip && !cut_short ? decompressor(run) : NULL;
	if (z && gunzip_whole(z, in, out))
		return 0;
	return inflate_body(in, gzip, out);
}

json_t *tv_http_content(struct tv_http_run *run, size_t cap, const struct tv_http_body *b)
{
	struct tv_buf decoded;
	tv_buf_init(&decoded, cap);
	const struct tv_buf *body = b->body;
	bool decode_error = false;
	const char *encoding = b->encoding ? b->encoding : "", *mime = b->mime ? b->mime : "";
	if (tv_http_decodable(encoding)) {
		decode_error = tv_http_decode(run, encoding, b->body, b->truncated, &decoded) != 0;
		body = &decoded;
	}
	json_t *j = json_pack("{s:I, s:s}", "size", (json_int_t)(body == &decoded ? decoded.len : b->bytes),
			      "mimeType", mime);
	tv_content_set_text(j, body->data, body->len, textual(mime));
	if (b->truncated || (body == &decoded && decoded.len == cap))
		json_object_set_new(j, "truncated", json_true());
	if (decode_error)
		json_object_set_new(j, "decodeError", json_string(encoding));
	if (encoding[0])
		json_object_set_new(j, "compression", json_integer((json_int_t)b->bytes));
	tv_buf_cleanup(&decoded);
	return j;
}
