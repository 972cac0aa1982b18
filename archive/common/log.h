/* SPDX-License-Identifier: Apache-2.0 */
/* log: leveled, one-line-per-event logging to stderr.
 *
 * The level is checked before any formatting happens, so a disabled debug line
 * costs one comparison. Never pass credentials or payload bytes. */
#ifndef TV_LOG_H
#define TV_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum tv_log_level {
	TV_LOG_ERROR = 0,
	TV_LOG_WARN,
	TV_LOG_INFO,
	TV_LOG_DEBUG
};

extern enum tv_log_level tv_log_threshold;

void tv_log_write(enum tv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define tv_log(level, ...)                                                                                   \
	do {                                                                                                 \
		if ((level) <= tv_log_threshold)                                                             \
			tv_log_write((level), __VA_ARGS__);                                                  \
	} while (0)
#define tv_error(...) tv_log(TV_LOG_ERROR, __VA_ARGS__)
#define tv_warn(...) tv_log(TV_LOG_WARN, __VA_ARGS__)
#define tv_info(...) tv_log(TV_LOG_INFO, __VA_ARGS__)
#define tv_debug(...) tv_log(TV_LOG_DEBUG, __VA_ARGS__)

/* Repeated failures are logged at most this often. */
#define TV_LOG_EVERY_NS (60ULL * 1000000000ULL)
/* @return true (and *last_mono_ns set to now) when nothing was logged under
 * *last_mono_ns for every_ns, or ever; safe from several threads (one of
 * them wins). For "logged once a minute" messages. */
bool tv_log_due(_Atomic uint64_t *last_mono_ns, uint64_t every_ns);

/* Sets the threshold from a name ("error", "warn", "info", "debug").
 * @return 0, or -EINVAL for an unknown name. */
int tv_log_set_level(const char *name);

#endif
