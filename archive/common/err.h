/* SPDX-License-Identifier: Apache-2.0 */
/* err: one thread-local "last error" message, set once where a failure happens.
 *
 * Library functions return 0 or a negative errno. The function that detects the
 * failure calls tv_err() to record a human-readable message naming the file and
 * offset or key involved; callers up the stack just propagate the code, and the
 * program's main prints tv_errmsg(). */
#ifndef TV_ERR_H
#define TV_ERR_H

/* Our own codes live below -4096 so they never collide with errno values. */
enum {
	TV_ECORRUPT = -5001, /* bytes present but malformed (bad magic, checksum, length) */
	TV_ETRUNC = -5002,   /* input ends before a structure does */
	TV_EVERSION = -5003, /* a format version this build cannot read */
};

/* Records a printf-style message and returns code unchanged, for
 * `return tv_err(-EIO, "write %s: %s", path, strerror(errno));`. */
int tv_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* @return the last message recorded on this thread ("" if none). Valid until
 * the next tv_err() on this thread. */
const char *tv_errmsg(void);

/* Clears the message, so a caller can tell whether a callee set one. */
void tv_err_clear(void);

/* @return a short description of code (ours or an errno). */
const char *tv_strerror(int code);

#endif
