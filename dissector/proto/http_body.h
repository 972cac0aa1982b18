/* SPDX-License-Identifier: Apache-2.0 */
/* http_body: an HTTP message body (HTTP/1 or HTTP/2) as HAR's content /
 * postData shape, decoded per its Content-Encoding.
 *
 * gzip and deflate are decoded up to the body cap: whole gzip
 * bodies with libdeflate into a buffer of the size their trailer states; the
 * rest with zlib (deflate with or without its zlib header, a body cut short,
 * a damaged one: what decodes is kept and decodeError names the encoding). A
 * decompression bomb stops at the cap as `truncated`, not as an error. Text
 * types whose bytes are UTF-8 are text, anything else base64. */
#ifndef TV_HTTP_BODY_H
#define TV_HTTP_BODY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "archive/common/buf.h"
#include "dissector/proto/proto.h"

/* What a run's HTTP parsers share: the gzip decompressor (per-run
 * resources, opened by their run_open hooks). */
struct tv_http_run;
struct tv_http_run *tv_http_run_new(void);
void tv_http_run_free(struct tv_http_run *run);
/* The same as struct tv_proto's run hooks. */
void *tv_http_run_open(void);
void tv_http_run_close(void *run);

struct tv_http_body {
	const struct tv_buf *body; /* the bytes kept, as sent */
	uint64_t bytes;            /* the body's length as sent */
	bool truncated;            /* over the cap before decoding */
	const char *mime;          /* Content-Type, or NULL */
	const char *encoding;      /* Content-Encoding, or NULL */
};

/* Whether encoding (a Content-Encoding or grpc-encoding) is one decoded here. */
bool tv_http_decodable(const char *encoding);
/* in, encoded (cut_short: not all of it was captured), decoded into out up to
 * out's limit. @return 0, or -1 for damaged data (out holds what decoded). */
int tv_http_decode(struct tv_http_run *run, const char *encoding, const struct tv_buf *in, bool cut_short,
		   struct tv_buf *out);

/* {size, mimeType, text[, encoding][, truncated][, decodeError][, compression]} */
json_t *tv_http_content(struct tv_http_run *run, size_t cap, const struct tv_http_body *b);

#endif
