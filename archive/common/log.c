/* SPDX-License-Identifier: Apache-2.0 */
/* log: see log.h. A line is formatted into one buffer and written with a single
 * write(2) so lines from concurrent threads never interleave. */
#include "archive/common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum tv_log_level tv_log_threshold = TV_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void tv_log_write(enum tv_log_level level, const char *fmt, ...)
{
	char line[2048];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ %s ", now.tv_nsec / 1000000,
			      level_names[level]);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += (size_t)m;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t ignored = write(STDERR_FILENO, line, n);
	(void)ignored;
}

int tv_log_set_level(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			tv_log_threshold = (enum tv_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool tv_log_due(_Atomic uint64_t *last_mono_ns, uint64_t every_ns)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	uint64_t now = (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
	uint64_t last = atomic_load(last_mono_ns);
	if (last && now - last < every_ns)
		return false;
	return atomic_compare_exchange_strong(last_mono_ns, &last, now);
}
