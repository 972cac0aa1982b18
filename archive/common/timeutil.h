/* SPDX-License-Identifier: Apache-2.0 */
/* timeutil: nanosecond wall-clock time, RFC 3339 formatting and parsing. */
#ifndef TV_TIMEUTIL_H
#define TV_TIMEUTIL_H

#include <stdint.h>
#include <time.h>

#define TV_NS_PER_SEC 1000000000ULL
#define TV_RFC3339_LEN 40

/* @return CLOCK_REALTIME in ns since the Unix epoch. */
uint64_t tv_now_ns(void);
/* @return CLOCK_MONOTONIC in ns. */
uint64_t tv_mono_ns(void);
/* The moment after_ns from now on clock, as pthread_cond_timedwait takes it
 * (for a condition variable on that clock). */
struct timespec tv_deadline(clockid_t clock, uint64_t after_ns);
/* Formats ns as "2026-11-23T09:13:45.123456789Z" into out[TV_RFC3339_LEN]. */
void tv_format_rfc3339(uint64_t ns, char *out);
/* Parses a point in time: RFC 3339 with up to 9 fractional digits and Z or
 * +hh:mm, Unix seconds with a fraction ("1700000000.5"), "now", or a time
 * relative to now_ns ("-15m", "-2h", "-30s", "-1d", "-500ms").
 * @return 0 or -EINVAL (message set, naming the text). */
int tv_parse_time(const char *text, uint64_t now_ns, uint64_t *out_ns);
/* Parses a duration ("10s", "5m", "250ms", "1h", "2d", "1500us", "7ns", bare
 * digits = seconds). @return 0 or -EINVAL. */
int tv_parse_duration(const char *text, uint64_t *out_ns);

#endif
