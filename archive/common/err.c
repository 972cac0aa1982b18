/* SPDX-License-Identifier: Apache-2.0 */
/* err: thread-local last-error message; see err.h. */
#include "archive/common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static __thread char last_message[1024];

int tv_err(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_message, sizeof(last_message), fmt, ap);
	va_end(ap);
	return code;
}

const char *tv_errmsg(void)
{
	return last_message;
}

void tv_err_clear(void)
{
	last_message[0] = '\0';
}

const char *tv_strerror(int code)
{
	switch (code) {
	case TV_ECORRUPT: return "corrupt data";
	case TV_ETRUNC: return "truncated data";
	case TV_EVERSION: return "unsupported format version";
	default: return strerror(code < 0 ? -code : code);
	}
}
