/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: arbitrary bytes as each S3 XML answer tapvault reads (error,
 * ListObjectsV2, InitiateMultipartUpload, ListMultipartUploads,
 * ListObjectVersions, ObjectLockConfiguration). Whatever
 * parses must hold what the parser promises: non-empty keys and prefixes. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "archive/store/s3/s3_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	char code[64], msg[128];
	tv_s3_xml_error(body, size, code, sizeof(code), msg, sizeof(msg));
	struct tv_s3_xml_list l;
	if (tv_s3_xml_list(body, size, &l) == 0) {
		for (size_t i = 0; i < l.nobjects; i++)
			if (!l.objects[i].key || !l.objects[i].key[0])
				abort();
		for (size_t i = 0; i < l.nprefixes; i++)
			if (!l.prefixes[i][0])
				abort();
		tv_s3_xml_list_cleanup(&l);
	}
	char *id = NULL;
	if (tv_s3_xml_upload_id(body, size, &id) == 0 && !id[0])
		abort();
	free(id);
	struct tv_s3_xml_uploads u;
	if (tv_s3_xml_uploads(body, size, &u) == 0)
		tv_s3_xml_uploads_cleanup(&u);
	struct tv_s3_xml_versions v;
	if (tv_s3_xml_versions(body, size, &v) == 0) {
		for (size_t i = 0; i < v.n; i++)
			if (!v.versions[i].key[0] || !v.versions[i].version_id[0])
				abort();
		tv_s3_xml_versions_cleanup(&v);
	}
	bool locked;
	tv_s3_xml_object_lock(body, size, &locked);
	uint64_t until;
	bool compliance, hold;
	tv_s3_xml_retention(body, size, &compliance, &until);
	tv_s3_xml_legal_hold(body, size, &hold);
	char text[64];
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	uint64_t ns;
	tv_s3_parse_iso8601(text, &ns);
	return 0;
}
