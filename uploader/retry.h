/* SPDX-License-Identifier: Apache-2.0 */
/* retry: the uploader's answer to a failed put: what kind of failure it was
 * (from the store's error code, store_s3.h), whether it heals by itself, and
 * how long to wait before the next attempt.
 *
 * Transient failures (network, 5xx, throttling), a checksum the server
 * disagreed with, and local read errors are retried with capped exponential
 * backoff and full jitter in the upper half ([b/2, b], b doubling from 0.5 s
 * to 60 s). Refusals retrying cannot fix (credentials, missing bucket, clock
 * skew, any other 4xx) wait the configured slow period: fixing the cause
 * heals the uploader without a restart. */
#ifndef TV_UPLOADER_RETRY_H
#define TV_UPLOADER_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#define TV_BACKOFF_MIN_NS (500ULL * 1000000ULL)
#define TV_BACKOFF_MAX_NS (60ULL * 1000000000ULL)

enum tv_err_class {
	TV_EC_TRANSIENT,   /* network, timeout, 5xx, throttling */
	TV_EC_CHECKSUM,    /* the server's checksum disagreed: resend */
	TV_EC_CREDENTIALS, /* refused: key, signature, token, access */
	TV_EC_BUCKET,      /* no such bucket */
	TV_EC_CLOCK,       /* RequestTimeTooSkewed */
	TV_EC_PROTOCOL,    /* any other refusal */
	TV_EC_LOCAL,       /* reading the buffer failed */
	TV_EC_COUNT
};

/* The class of a store error (a negative errno of store.h / store_s3.h). */
enum tv_err_class tv_retry_classify(int rc);
/* Its name in metrics and logs ("transient", ...). */
const char *tv_retry_class_name(enum tv_err_class c);
/* Whether retrying soon can succeed without anyone fixing anything. */
bool tv_retry_heals_by_itself(enum tv_err_class c);

struct tv_backoff {
	uint64_t next_ns;      /* the upper bound of the next wait */
	uint64_t slow_wait_ns; /* the wait after a refusal retrying cannot fix */
};

void tv_backoff_init(struct tv_backoff *b, uint64_t slow_wait_ns);
/* The wait before the next attempt after a failure of class c; rnd is a
 * random number (rand()), so that tests can pin it. Doubles the bound. */
uint64_t tv_backoff_next(struct tv_backoff *b, enum tv_err_class c, uint64_t rnd);

#endif
