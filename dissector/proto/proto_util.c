/* SPDX-License-Identifier: Apache-2.0 */
/* proto_util: the helpers of proto.h that parsers build entries with. */
#include <stdlib.h>
#include <strings.h>

#include "archive/common/sha256.h" /* tv_base64 */
#include "archive/common/utf8.h"
#include "dissector/proto/proto.h"

json_t *tv_header(json_t *headers, const char *name)
{
	size_t i;
	json_t *h;
	json_array_foreach (headers, i, h) {
		const char *n = json_string_value(json_object_get(h, "name"));
		if (n && !strcasecmp(n, name))
			return json_object_get(h, "value");
	}
	return NULL;
}

json_t *tv_json_utf8(const uint8_t *p, size_t n)
{
	if (!n)
		return json_string(""); /* p may be NULL (an empty buffer) */
	return tv_utf8_valid(p, n) ? json_stringn_nocheck((const char *)p, n) : NULL;
}

void tv_content_set_text(json_t *content, const uint8_t *p, size_t n, bool as_text)
{
	json_t *text = as_text && n ? tv_json_utf8(p, n) : NULL;
	if (text) {
		json_object_set_new(content, "text", text);
	} else if (n) {
		char *b64 = tv_base64(p, n);
		json_object_set_new(content, "text", json_string(b64 ? b64 : ""));
		json_object_set_new(content, "encoding", json_string("base64"));
		free(b64);
	}
}

json_t *tv_json_bytes(const uint8_t *p, size_t n)
{
	json_t *s = tv_json_utf8(p, n);
	if (s)
		return s;
	char *b64 = tv_base64(p, n);
	json_t *j = json_pack("{s:s}", "base64", b64 ? b64 : "");
	free(b64);
	return j;
}
