/* SPDX-License-Identifier: Apache-2.0 */
/* retry: see retry.h. */
#include "uploader/retry.h"

#include <errno.h>

enum tv_err_class tv_retry_classify(int rc)
{
	switch (rc) {
	case -EAGAIN: return TV_EC_TRANSIENT;
	case -EBADMSG: return TV_EC_CHECKSUM;
	case -EACCES: return TV_EC_CREDENTIALS;
	case -ENXIO: return TV_EC_BUCKET;
	case -ETIME: return TV_EC_CLOCK;
	case -EPROTO:
	case -EEXIST:
	case -EINVAL: return TV_EC_PROTOCOL;
	default: return TV_EC_LOCAL;
	}
}

const char *tv_retry_class_name(enum tv_err_class c)
{
	static const char *const names[TV_EC_COUNT] = {"transient", "checksum", "credentials", "bucket",
						       "clock",     "protocol", "local"};
	return c < TV_EC_COUNT ? names[c] : "unknown";
}

bool tv_retry_heals_by_itself(enum tv_err_class c)
{
	return c == TV_EC_TRANSIENT || c == TV_EC_CHECKSUM || c == TV_EC_LOCAL;
}

void tv_backoff_init(struct tv_backoff *b, uint64_t slow_wait_ns)
{
	b->next_ns = TV_BACKOFF_MIN_NS;
	b->slow_wait_ns = slow_wait_ns;
}

uint64_t tv_backoff_next(struct tv_backoff *b, enum tv_err_class c, uint64_t rnd)
{
	uint64_t bound = b->next_ns;
	uint64_t wait = tv_retry_heals_by_itself(c) ? bound / 2 + rnd % (bound / 2 + 1) : b->slow_wait_ns;
	b->next_ns = bound * 2 > TV_BACKOFF_MAX_NS ? TV_BACKOFF_MAX_NS : bound * 2;
	return wait;
}
