/* SPDX-License-Identifier: Apache-2.0 */
/* kube_client: HTTPS GETs against the Kubernetes API on libcurl, with the
 * config's CA (always verified) and credentials. A token file is re-read
 * about every minute and after a 401 (the kubelet rotates service-account
 * tokens), and the request is then tried once more. */
#ifndef TV_KUBE_CLIENT_H
#define TV_KUBE_CLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "archive/common/buf.h"
#include "archive/kube/kube_config.h"

struct tv_kube_client;

/* What an answer said beside its body. */
struct tv_kube_answer {
	long status;          /* HTTP status; 0: no answer (network, TLS) */
	unsigned retry_after; /* seconds, from a 429 or 503's Retry-After */
};

/* Errors: -ECONNREFUSED and friends (no answer), -EACCES (401/403),
 * -ENOENT (404), -EAGAIN (429: see retry_after), TV_KUBE_EGONE (410),
 * -EPROTO (another status; the Status message in tv_errmsg). */
#define TV_KUBE_EGONE (-ESTALE)

int tv_kube_client_new(const struct tv_kube_config *cfg, struct tv_kube_client **out);
void tv_kube_client_free(struct tv_kube_client *c);

/* GET path (with its query) into out. @return 0 or an error above. */
int tv_kube_get(struct tv_kube_client *c, const char *path, struct tv_buf *out, struct tv_kube_answer *a);

/* A streaming GET (a watch): fn gets each complete line (without '\n'; NUL
 * terminated in place) as it arrives; fn returning non-zero ends the stream
 * and is returned. A stream silent for stall_s seconds is cut (-ETIMEDOUT);
 * *stop is looked at at least every 200 ms. @return 0 when the server ended
 * the stream cleanly, fn's value, or an error above. */
typedef int (*tv_kube_line_fn)(void *ctx, char *line, size_t len);
int tv_kube_stream(struct tv_kube_client *c, const char *path, unsigned stall_s, atomic_bool *stop,
		   tv_kube_line_fn fn, void *ctx, struct tv_kube_answer *a);

/* Requests sent (for metrics and the API-load figures). */
uint64_t tv_kube_requests(const struct tv_kube_client *c);

#endif
