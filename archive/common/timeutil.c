/* SPDX-License-Identifier: Apache-2.0 */
/* timeutil: see timeutil.h. Parsing is strict: trailing garbage is an error. */
#include "archive/common/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/common/err.h"

uint64_t tv_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * TV_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t tv_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * TV_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

struct timespec tv_deadline(clockid_t clock, uint64_t after_ns)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	uint64_t t = (uint64_t)ts.tv_sec * TV_NS_PER_SEC + (uint64_t)ts.tv_nsec + after_ns;
	ts.tv_sec = (time_t)(t / TV_NS_PER_SEC);
	ts.tv_nsec = (long)(t % TV_NS_PER_SEC);
	return ts;
}

void tv_format_rfc3339(uint64_t ns, char *out)
{
	time_t sec = (time_t)(ns / TV_NS_PER_SEC);
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t n = strftime(out, TV_RFC3339_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, TV_RFC3339_LEN - n, ".%09lluZ", (unsigned long long)(ns % TV_NS_PER_SEC));
}

/* Reads exactly `width` digits. */
static int read_digits(const char **p, int width, int *out)
{
	int v = 0;
	for (int i = 0; i < width; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += width;
	*out = v;
	return 0;
}

/* Reads ".ddd" (1..9 digits) as nanoseconds; absent fraction is 0. */
static int read_fraction(const char **p, uint64_t *ns)
{
	*ns = 0;
	if (**p != '.')
		return 0;
	(*p)++;
	int digits = 0;
	while (isdigit((unsigned char)**p)) {
		if (digits < 9) {
			*ns = *ns * 10 + (uint64_t)(**p - '0');
			digits++;
		}
		(*p)++;
	}
	if (digits == 0)
		return -1;
	for (int i = digits; i < 9; i++)
		*ns *= 10;
	return 0;
}

static int parse_rfc3339(const char *s, uint64_t *out)
{
	struct tm tm = {0};
	int year, mon, day, hour, min, sec;
	const char *p = s;
	if (read_digits(&p, 4, &year) || *p++ != '-' || read_digits(&p, 2, &mon) || *p++ != '-' ||
	    read_digits(&p, 2, &day) || (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if (read_digits(&p, 2, &hour) || *p++ != ':' || read_digits(&p, 2, &min) || *p++ != ':' ||
	    read_digits(&p, 2, &sec))
		return -1;
	uint64_t frac;
	if (read_fraction(&p, &frac))
		return -1;
	long offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (read_digits(&p, 2, &oh) || *p++ != ':' || read_digits(&p, 2, &om))
			return -1;
		offset = sign * (oh * 3600L + om * 60L);
	} else {
		return -1;
	}
	if (*p || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	long long secs = (long long)t - offset;
	if (secs < 0)
		return -1;
	*out = (uint64_t)secs * TV_NS_PER_SEC + frac;
	return 0;
}

static int parse_unix(const char *s, uint64_t *out)
{
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return -1;
	uint64_t secs = 0;
	while (isdigit((unsigned char)*p)) {
		if (secs > UINT64_MAX / TV_NS_PER_SEC / 10)
			return -1;
		secs = secs * 10 + (uint64_t)(*p++ - '0');
	}
	uint64_t frac;
	if (read_fraction(&p, &frac) || *p)
		return -1;
	*out = secs * TV_NS_PER_SEC + frac;
	return 0;
}

int tv_parse_duration(const char *text, uint64_t *out_ns)
{
	static const struct {
		const char *suffix;
		uint64_t ns;
	} units[] = {{"ns", 1},
		     {"us", 1000},
		     {"ms", 1000000},
		     {"s", TV_NS_PER_SEC},
		     {"m", 60 * TV_NS_PER_SEC},
		     {"h", 3600 * TV_NS_PER_SEC},
		     {"d", 86400 * TV_NS_PER_SEC},
		     {"", TV_NS_PER_SEC}};
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)text[0]))
		return tv_err(-EINVAL, "bad duration '%s'", text);
	double v = strtod(text, &end);
	if (errno || v < 0)
		return tv_err(-EINVAL, "bad duration '%s'", text);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			double ns = v * (double)units[i].ns;
			if (ns > 1.8e19)
				return tv_err(-EINVAL, "duration '%s' too large", text);
			*out_ns = (uint64_t)(ns + 0.5);
			return 0;
		}
	}
	return tv_err(-EINVAL, "bad duration '%s' (units: ns us ms s m h d)", text);
}

int tv_parse_time(const char *text, uint64_t now_ns, uint64_t *out_ns)
{
	if (strcmp(text, "now") == 0) {
		*out_ns = now_ns;
		return 0;
	}
	if (text[0] == '-' || text[0] == '+') {
		uint64_t d;
		if (tv_parse_duration(text + 1, &d))
			return tv_err(-EINVAL, "bad relative time '%s' (e.g. -15m, -2h)", text);
		if (text[0] == '-' && d > now_ns)
			return tv_err(-EINVAL, "relative time '%s' is before 1970", text);
		*out_ns = text[0] == '-' ? now_ns - d : now_ns + d;
		return 0;
	}
	if (parse_unix(text, out_ns) == 0 || parse_rfc3339(text, out_ns) == 0)
		return 0;
	return tv_err(-EINVAL,
		      "bad time '%s' (RFC 3339 like 2026-11-23T10:02:00Z, Unix seconds, now, or -15m)", text);
}
