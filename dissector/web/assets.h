/* SPDX-License-Identifier: Apache-2.0 */
/* assets: the dashboard's files (web/assets/), compiled into the binary by
 * cmake/embed_assets.cmake, so `tapvault serve` fetches nothing at run time. */
#ifndef TV_ASSETS_H
#define TV_ASSETS_H

#include <stddef.h>

struct tv_asset {
	const char *path; /* "/index.html" */
	const char *type; /* its Content-Type */
	const unsigned char *data;
	size_t len;
};

/* @return the asset served at path, or NULL. */
const struct tv_asset *tv_asset_find(const char *path);

#endif
